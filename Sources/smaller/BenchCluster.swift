// `smaller bench cluster`: the orchestrator's own numbers on this machine: noop throughput through one
// coordinator with local worker processes, dispatch latency (READY → TASK), and recovery time after a SIGKILL.
import ArgumentParser
import Coordinator
import Experiment
import Foundation

struct BenchCluster: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cluster",
        abstract: "Noop throughput with local workers, dispatch latency p50/p99, recovery time after a worker's SIGKILL.")

    @Option(help: "Noop tasks in the throughput grid.") var tasks: Int = 5000
    @Option(help: "Local worker processes.") var workers: Int = 2
    @Flag(help: "Print JSON instead of a table.") var json = false
    @Flag(help: "Also print where the coordinator's and the workers' time went (timing counters).") var profile = false

    struct Numbers: Codable {
        var tasks: Int
        var workers: Int
        var seconds: Double
        var tasksPerSecond: Double
        var dispatchP50Ms: Double
        var dispatchP99Ms: Double
        var recoverySeconds: Double
        var recoveryBoundSeconds: Double
    }

    func run() throws {
        Signals.install()
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("smaller-bench-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: base) }

        // 1. Throughput and dispatch latency.
        let grid = try JobSpec.parse(yaml: "name: bench\nnoop: {tasks: \(tasks), seconds: 0, salt: \(UUID().uuidString)}\n")
        let runDir = base.appendingPathComponent("throughput")
        let (server, _) = try runCoordinator(grid, runDir, measure: true, workers: workers, whileRunning: { _ in })
        let journal = try Journal(runDirectory: runDir, readOnly: true)
        let (first, last) = try journal.span()
        let seconds = max(last - first, 1e-9)
        let latencies = server.dispatchLatencies.sorted()
        if profile {
            print("coordinator, \(tasks) tasks (µs/item is per task):\n\(server.phases.table(per: tasks))")
            for i in 0..<workers {
                let log = (try? String(contentsOf: runDir.appendingPathComponent("workers/\(i)/worker.log"), encoding: .utf8)) ?? ""
                if let range = log.range(of: "profile over") { print("worker \(i): \(log[range.lowerBound...])") }
            }
        }
        func pct(_ p: Double) -> Double { latencies.isEmpty ? .nan : latencies[min(latencies.count - 1, Int(p * Double(latencies.count)))] * 1000 }

        // 2. Recovery: one long task; SIGKILL the worker holding it; time until it is leased elsewhere.
        let recoveryJob = try JobSpec.parse(yaml: "name: recovery\nnoop: {tasks: 1, seconds: 3, salt: \(UUID().uuidString)}\n")
        let recoveryDir = base.appendingPathComponent("recovery")
        var recovery = Double.nan
        _ = try runCoordinator(recoveryJob, recoveryDir, measure: false, workers: 2) { pool in
            let journal = try? Journal(runDirectory: recoveryDir, readOnly: true)
            func leases() -> [(task: String, worker: String, at: Double)] { (try? journal?.leases()) ?? [] }
            guard Self.waitUntil(30, { !leases().isEmpty }), let holder = leases().first else { return }
            let killedAt = Date().timeIntervalSince1970
            pool.killWorker(id: holder.worker)
            if Self.waitUntil(30, { leases().count >= 2 }) { recovery = leases()[1].at - killedAt }
        }
        let interval = ExecutionSpec().heartbeatInterval, liveness = ExecutionSpec().liveness
        let numbers = Numbers(tasks: tasks, workers: workers, seconds: seconds, tasksPerSecond: Double(tasks) / seconds,
                              dispatchP50Ms: pct(0.5), dispatchP99Ms: pct(0.99), recoverySeconds: recovery,
                              recoveryBoundSeconds: interval * Double(liveness) + 1)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(numbers), as: UTF8.self))
        } else {
            print("| measure | value | target |")
            print("|---|---|---|")
            print(String(format: "| noop throughput, %d tasks, %d workers | %.0f tasks/s (%.2f s) | ≥ 5,000 tasks/s |", tasks, workers, numbers.tasksPerSecond, seconds))
            print(String(format: "| dispatch latency READY → TASK, p50 | %.3f ms | < 1 ms |", numbers.dispatchP50Ms))
            print(String(format: "| dispatch latency READY → TASK, p99 | %.3f ms | < 5 ms |", numbers.dispatchP99Ms))
            print(String(format: "| recovery: SIGKILL → task leased elsewhere | %.2f s | ≤ %.1f s (interval × liveness + 1 s) |", recovery, numbers.recoveryBoundSeconds))
        }
    }

    /// Runs a coordinator on a background thread with local workers; `whileRunning` runs on this thread.
    func runCoordinator(_ job: JobSpec, _ runDir: URL, measure: Bool, workers: Int,
                        whileRunning: (LocalWorkers) throws -> Void) throws -> (CoordinatorServer, CoordinatorOutcome?) {
        let pool = LocalWorkers(runDirectory: runDir)
        if profile && measure { pool.extraArguments = ["--profile"] }
        var options = CoordinatorOptions(runDirectory: runDir, bind: "tcp://127.0.0.1:*")
        options.measureDispatch = measure
        options.log = { _ in }
        let stop = StopFlag()
        options.shouldStop = { stop.isSet || Signals.stopRequested }
        options.onBound = { endpoint in pool.start(count: workers, endpoint: endpoint) }
        let server = try CoordinatorServer(job: job, options: options)
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
