// `smaller bench cluster`: the orchestrator's own numbers on this machine: noop throughput through one
// coordinator with local worker processes, dispatch latency (READY → TASK), and recovery time after a SIGKILL.
import ArgumentParser
import Coordinator
import Dashboard
import Experiment
import Foundation
import Wire

struct BenchCluster: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cluster",
        abstract: "Noop throughput with local workers, dispatch latency p50/p99, recovery time after a worker's SIGKILL.")

    /// Issue #12's bound on recovery: a SIGKILLed worker's task is leased elsewhere within 0.5 s.
    static let recoveryBound = 0.5

    @Option(help: "Noop tasks in the throughput grid.") var tasks: Int = 5000
    @Option(help: "Local worker processes.") var workers: Int = 2
    @Option(help: "CPU-bound tasks in the scaling grid (run on 1, then on 2 workers).") var scalingTasks: Int = 12
    @Option(help: "CPU seconds each scaling task burns.") var burn: Double = 0.25
    @Flag(help: "Print JSON instead of a table.") var json = false
    @Flag(help: "Also print where the coordinator's and the workers' time went (timing counters).") var profile = false
    @Flag(help: "Run the throughput grid again with the dashboard on, one event-stream client and /metrics read every 100 ms.")
    var dashboard = false

    struct Numbers: Codable {
        var tasks: Int
        var workers: Int
        var seconds: Double
        var tasksPerSecond: Double
        /// First lease → last record appended to `results.jsonl` (the export runs at the lowest priority).
        var secondsWithResultFiles: Double
        var dispatchP50Ms: Double
        var dispatchP99Ms: Double
        var recoverySeconds: Double
        var recoveryBoundSeconds: Double
        var scalingOneWorkerSeconds: Double
        var scalingTwoWorkersSeconds: Double
        var scalingRatio: Double
        /// With --dashboard: the same grid with the dashboard under load, and its /metrics reads.
        var tasksPerSecondWithDashboard: Double?
        var metricsScrapes: Int?
    }

    func validate() throws {
        guard tasks >= 1, workers >= 1, scalingTasks >= 2 else { throw ValidationError("--tasks and --workers must be ≥ 1, --scaling-tasks ≥ 2") }
        guard burn > 0, burn <= 60 else { throw ValidationError("--burn must be in (0, 60] seconds") }
    }

    func run() throws {
        Signals.install()
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("smaller-bench-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: base) }

        // 1. Throughput and dispatch latency.
        let grid = try JobSpec.parse(yaml: "name: bench\nnoop: {tasks: \(tasks), seconds: 0, salt: \(UUID().uuidString)}\n")
        let runDir = base.appendingPathComponent("throughput")
        let probe = CoordinatorProfile(phases: profile)
        let (server, _) = try runCoordinator(grid, runDir, probe: probe, workers: workers, whileRunning: { _ in })
        let journal = try Journal(runDirectory: runDir, readOnly: true)
        let (first, last) = try journal.span()
        let seconds = max(last - first, 1e-9)
        let latencies = probe.dispatchLatencies.sorted()
        if let phases = probe.phases {
            print("coordinator, \(tasks) tasks (µs/item is per task):\n\(phases.table(per: tasks))")
            let slow = probe.slowDispatches
            if !slow.isEmpty {
                let n = Double(slow.count)
                print(String(format: "dispatches over 3 ms: %d of %d; on average %.2f ms = loop CPU %.2f + waiting for a core %.2f + other (I/O) %.2f ms; commit before the TASK %.2f ms wall, %.1f entries",
                             slow.count, probe.dispatchLatencies.count, slow.map(\.latency).reduce(0, +) / n * 1e3,
                             slow.map(\.cpu).reduce(0, +) / n * 1e3, slow.map(\.runQueue).reduce(0, +) / n * 1e3,
                             slow.map { $0.latency - $0.cpu - $0.runQueue }.reduce(0, +) / n * 1e3,
                             slow.map(\.commitWall).reduce(0, +) / n * 1e3, Double(slow.map(\.entries).reduce(0, +)) / n))
            }
            for i in 0..<workers {
                let log = (try? String(contentsOf: runDir.appendingPathComponent("workers/\(i)/worker.log"), encoding: .utf8)) ?? ""
                if let range = log.range(of: "profile over") { print("worker \(i): \(log[range.lowerBound...])") }
            }
        }
        func pct(_ p: Double) -> Double { latencies.isEmpty ? .nan : latencies[min(latencies.count - 1, Int(p * Double(latencies.count)))] * 1000 }

        // 1b. The same grid with the dashboard serving one event stream and /metrics every 100 ms.
        var withDashboard: (tasksPerSecond: Double, scrapes: Int)?
        if dashboard {
            let grid = try JobSpec.parse(yaml: "name: bench\nnoop: {tasks: \(tasks), seconds: 0, salt: \(UUID().uuidString)}\n")
            let dir = base.appendingPathComponent("throughput-dashboard")
            let live = LiveRun()
            var load: DashboardLoad?
            var http: DashboardServer?
            _ = try runCoordinator(grid, dir, workers: workers, observer: live, beforeRunning: {
                http = try DashboardServer(options: DashboardOptions(host: "127.0.0.1", port: 0, token: nil, runDirectory: dir), live: live)
                load = DashboardLoad(port: http?.port ?? 0)
                load?.start()
            }, whileRunning: { _ in })
            load?.finish()
            http?.stop()
            let (first, last) = try Journal(runDirectory: dir, readOnly: true).span()
            withDashboard = (Double(tasks) / max(last - first, 1e-9), load?.scrapes ?? 0)
        }

        // 2. Recovery: one long task; SIGKILL the worker holding it; time until it is leased elsewhere (issue #12
        // asks for at most 0.5 s: the dropped connection shows at once, then the reconnect grace runs out).
        let recoveryJob = try JobSpec.parse(yaml: "name: recovery\nnoop: {tasks: 1, seconds: 3, salt: \(UUID().uuidString)}\n")
        let recoveryDir = base.appendingPathComponent("recovery")
        var recovery = Double.nan
        _ = try runCoordinator(recoveryJob, recoveryDir, workers: 2) { pool in
            let journal = try? Journal(runDirectory: recoveryDir, readOnly: true)
            func leases() -> [(task: String, worker: String, at: Double)] { (try? journal?.leases()) ?? [] }
            guard Self.waitUntil(30, { !leases().isEmpty }), let holder = leases().first else { return }
            let killedAt = Date().timeIntervalSince1970
            pool.killWorker(id: holder.worker)
            if Self.waitUntil(30, { leases().count >= 2 }) { recovery = leases()[1].at - killedAt }
        }
        // 3. Scaling: the same grid of CPU-bound tasks (each burns `burn` CPU seconds) on 1, then 2 workers.
        func scalingRun(_ workers: Int) throws -> Double {
            let job = try JobSpec.parse(yaml: "name: scaling\nnoop: {tasks: \(scalingTasks), seconds: \(burn), burn: true, salt: \(UUID().uuidString)}\n")
            let dir = base.appendingPathComponent("scaling-\(workers)")
            _ = try runCoordinator(job, dir, workers: workers, separateSessions: true, whileRunning: { _ in })
            let (first, last) = try Journal(runDirectory: dir, readOnly: true).span()
            return last - first
        }
        let one = try scalingRun(1), two = try scalingRun(2)
        let numbers = Numbers(tasks: tasks, workers: workers, seconds: seconds, tasksPerSecond: Double(tasks) / seconds,
                              secondsWithResultFiles: server.resultFilesWrittenAt - first,
                              dispatchP50Ms: pct(0.5), dispatchP99Ms: pct(0.99), recoverySeconds: recovery,
                              recoveryBoundSeconds: Self.recoveryBound,
                              scalingOneWorkerSeconds: one, scalingTwoWorkersSeconds: two, scalingRatio: two / one,
                              tasksPerSecondWithDashboard: withDashboard?.tasksPerSecond, metricsScrapes: withDashboard?.scrapes)
        if json {
            print(try JSONWriter.text(numbers, pretty: true))
        } else {
            print("| measure | value | target |")
            print("|---|---|---|")
            print(String(format: "| noop throughput, %d tasks, %d workers | %.0f tasks/s (%.2f s) | ≥ 5,000 tasks/s |", tasks, workers, numbers.tasksPerSecond, seconds))
            if let withDashboard {
                print(String(format: "| the same with the dashboard, 1 event stream, /metrics every 100 ms (%d reads) | %.0f tasks/s (%.0f %%) | ≥ 90 %% |",
                             withDashboard.scrapes, withDashboard.tasksPerSecond, 100 * withDashboard.tasksPerSecond / numbers.tasksPerSecond))
            }
            print(String(format: "| the same until the last record is in results.jsonl | %.0f tasks/s (%.2f s) | – |",
                         Double(tasks) / numbers.secondsWithResultFiles, numbers.secondsWithResultFiles))
            print(String(format: "| dispatch latency READY → TASK, p50 | %.3f ms | < 1 ms |", numbers.dispatchP50Ms))
            print(String(format: "| dispatch latency READY → TASK, p99 | %.3f ms | < 5 ms |", numbers.dispatchP99Ms))
            print(String(format: "| recovery: SIGKILL → task leased elsewhere | %.2f s | ≤ %.1f s (dropped connection + %.2f s grace; the liveness timeout is %.0f s) |",
                         recovery, numbers.recoveryBoundSeconds, ProtocolConstants.reconnectGrace,
                         ExecutionSpec().heartbeatInterval * Double(ExecutionSpec().liveness)))
            print(String(format: "| scaling: %d × %.2f CPU s tasks, 2 workers ÷ 1 worker | %.3f (%.2f s ÷ %.2f s) | ≤ 0.55 |", scalingTasks, burn, two / one, two, one))
        }
    }

    /// Runs a coordinator on a background thread with local workers; `whileRunning` runs on this thread. With a
    /// probe (the throughput grid), the workers profile their loops too when `--profile` is given.
    func runCoordinator(_ job: JobSpec, _ runDir: URL, probe: CoordinatorProfile? = nil, workers: Int, separateSessions: Bool = false,
                        observer: (any CoordinatorObserver)? = nil, beforeRunning: () throws -> Void = {},
                        whileRunning: (LocalWorkers) throws -> Void) throws -> (CoordinatorServer, CoordinatorOutcome?) {
        let pool = LocalWorkers(runDirectory: runDir)
        if probe?.phases != nil { pool.extraArguments = ["--profile"] }
        // Scaling: each worker in a session of its own, as on a host of its own. With the kernel's autogroup
        // scheduling, the processes of one session share one CPU share, so on a machine busy with other
        // sessions a second worker in the bench's session adds no CPU and the run would measure nothing.
        if separateSessions, FileManager.default.isExecutableFile(atPath: "/usr/bin/setsid") { pool.launcher = ["/usr/bin/setsid", "-w"] }
        var options = CoordinatorOptions(runDirectory: runDir, bind: "tcp://127.0.0.1:*")
        if let probe { options.probe = probe }
        options.observer = observer
        options.log = { _ in }
        let stop = StopFlag()
        options.shouldStop = { stop.isSet || Signals.stopRequested }
        options.onBound = { endpoint in pool.start(count: workers, endpoint: endpoint) }
        let server = try CoordinatorServer(job: job, options: options)
        try beforeRunning()
        let box = ServerBox(server)
        let thread = Thread { box.outcome = try? box.server.run(); box.done.signal() }
        thread.stackSize = 8 << 20
        thread.start()
        try whileRunning(pool)
        box.done.wait()
        pool.stop()
        return (server, box.outcome)
    }

    static func waitUntil(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.005)
        }
        return false
    }
}

final class ServerBox: @unchecked Sendable {
    let server: CoordinatorServer
    var outcome: CoordinatorOutcome?
    let done = DispatchSemaphore(value: 0)
    init(_ server: CoordinatorServer) { self.server = server }
}

final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    func set() { lock.lock(); value = true; lock.unlock() }
}
