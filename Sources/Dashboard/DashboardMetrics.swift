// DashboardMetrics: the coordinator's Prometheus metrics (docs/monitoring.md), through swift-prometheus. Gauges
// are set from LiveRun's incremental tallies at scrape time (counters and the histogram as results commit); the
// process's own figures are read at scrape time too, the workers' come from their latest HEARTBEATs.
import Coordinator
import Experiment
import Foundation
import Prometheus
import Synchronization

package final class DashboardMetrics: Sendable {
    package let registry = PrometheusCollectorRegistry()
    let results: Counter
    private let tasks: [TaskState: Gauge]
    /// Made for every kind and state up front (the kinds are a closed set), so nothing is registered per event.
    private let byKind: [String: [TaskState: Gauge]]
    private let durations: [String: ValueHistogram]
    private let attempts: [String: Counter]
    private let workersBusy, workersIdle: Gauge
    private let coordinatorResident, processResident, processCPU, processStart: Gauge
    private static var workerResidentName: MetricNameDescriptor {
        MetricNameDescriptor(metricName: "smaller_worker_resident_bytes", unitName: "",
                             helpText: "A worker process's resident memory, from its latest HEARTBEAT.")
    }
    private static var workerCPUName: MetricNameDescriptor {
        MetricNameDescriptor(metricName: "smaller_worker_cpu_seconds_total", unitName: "",
                             helpText: "A worker process's user + system CPU time, from its latest HEARTBEAT.")
    }
    /// The two series of each worker that reported figures, by worker id: made when it first reports, removed
    /// when it is no longer among the coordinator's workers (so a gone worker exports nothing).
    private let perWorker = Mutex<[String: (resident: Gauge, cpu: Gauge)]>([:])

    /// Task run times from seconds to hours (noop tasks to pretraining).
    static let durationBuckets: [Double] = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200, 14400]
    static let outcomes = ["done", "failed", "released"]

    package init() {
        func name(_ n: String, _ help: String) -> MetricNameDescriptor { MetricNameDescriptor(metricName: n, unitName: "", helpText: help) }
        let registry = registry
        let taskName = name("smaller_tasks", "Tasks of the grid by state.")
        tasks = Dictionary(uniqueKeysWithValues: TaskState.allCases.map {
            ($0, registry.makeGauge(descriptor: taskName, labels: [("state", $0.rawValue)]))
        })
        let kinds = TaskKind.allCases.map(\.rawValue)
        let kindName = name("smaller_tasks_by_kind", "Tasks by kind and state.")
        byKind = Dictionary(uniqueKeysWithValues: kinds.map { kind in
            (kind, Dictionary(uniqueKeysWithValues: TaskState.allCases.map {
                ($0, registry.makeGauge(descriptor: kindName, labels: [("kind", kind), ("state", $0.rawValue)]))
            }))
        })
        let durationName = name("smaller_task_duration_seconds", "Run time of finished tasks (the record's endedAt - startedAt), by kind.")
        durations = Dictionary(uniqueKeysWithValues: kinds.map {
            ($0, registry.makeValueHistogram(descriptor: durationName, labels: [("kind", $0)], buckets: Self.durationBuckets))
        })
        let attemptsName = name("smaller_task_attempts_total", "Task attempts that ended, by outcome (done, failed, released).")
        attempts = Dictionary(uniqueKeysWithValues: Self.outcomes.map {
            ($0, registry.makeCounter(descriptor: attemptsName, labels: [("outcome", $0)]))
        })
        let workers = name("smaller_workers", "Workers that said HELLO, by state (busy: running a task).")
        workersBusy = registry.makeGauge(descriptor: workers, labels: [("state", "busy")])
        workersIdle = registry.makeGauge(descriptor: workers, labels: [("state", "idle")])
        results = registry.makeCounter(descriptor: name("smaller_results_total", "Result records journaled (done tasks)."))
        coordinatorResident = registry.makeGauge(descriptor: name("smaller_coordinator_resident_bytes", "The coordinator process's resident memory."))
        processResident = registry.makeGauge(descriptor: name("process_resident_memory_bytes", "Resident memory size in bytes."))
        processCPU = registry.makeGauge(descriptor: name("process_cpu_seconds_total", "Total user and system CPU time spent in seconds."))
        processStart = registry.makeGauge(descriptor: name("process_start_time_seconds", "Start time of the process since unix epoch in seconds."))
        processStart.set(ProcessFigures.startTime ?? Date().timeIntervalSince1970)
    }

    func publish(counts: [TaskState: Int], byKind kinds: [String: [TaskState: Int]]) {
        for (state, gauge) in tasks { gauge.set(Double(counts[state] ?? 0)) }
        for (kind, gauges) in byKind {
            for (state, gauge) in gauges { gauge.set(Double(kinds[kind]?[state] ?? 0)) }
        }
    }

    func publish(workers: [StatusSnapshot.WorkerRow]) {
        let busy = workers.filter { $0.state == "busy" }.count
        workersBusy.set(Double(busy))
        workersIdle.set(Double(workers.count - busy))
        let registry = registry
        perWorker.withLock { series in
            var present = Set<String>()
            for w in workers {
                guard let rss = w.residentBytes, let cpu = w.cpuSeconds else { continue }
                present.insert(w.id)
                let gauges = series[w.id] ?? (registry.makeGauge(descriptor: Self.workerResidentName, labels: [("worker", w.id)]),
                                              registry.makeGauge(descriptor: Self.workerCPUName, labels: [("worker", w.id)]))
                series[w.id] = gauges
                gauges.resident.set(Double(rss))
                gauges.cpu.set(cpu)
            }
            for (id, gauges) in series where !present.contains(id) {
                registry.unregisterGauge(gauges.resident)
                registry.unregisterGauge(gauges.cpu)
                series[id] = nil
            }
        }
    }

    func recordResult(kind: String, seconds: Double) {
        results.increment()
        attempts(outcome: "done")
        if seconds.isFinite, seconds >= 0 { durations[kind]?.record(seconds) }
    }

    func attempts(outcome: String) { attempts[outcome]?.increment() }

    /// The exposition text, with the process's figures read now.
    package func exposition() -> [UInt8] {
        if let rss = ProcessFigures.residentBytes {
            coordinatorResident.set(Double(rss))
            processResident.set(Double(rss))
        }
        if let cpu = ProcessFigures.cpuSeconds { processCPU.set(cpu) }
        return registry.emitToBuffer()
    }
}
