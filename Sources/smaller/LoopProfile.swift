// The probes `smaller bench cluster` injects into the coordinator's and the workers' loops: READY → TASK dispatch
// latency, and with --profile where each loop's time goes, without a profiler. Each phase gets wall time and the
// loop thread's CPU time: on a shared machine wall time includes waiting for a core, CPU time is the work itself.
import Coordinator
import Foundation
import Worker

/// Wall and thread-CPU nanoseconds and call counts per phase (a phase is its index in `names`).
struct PhaseTimes {
    let names: [String]
    private(set) var wall: [UInt64]
    private(set) var cpu: [UInt64]
    private(set) var counts: [Int]
    private var last: (wall: UInt64, cpu: UInt64)?

    /// The clock starts at the first `end`, on the loop's thread (CPU time is per thread), which times nothing.
    init(names: [String]) {
        self.names = names
        wall = Array(repeating: 0, count: names.count)
        cpu = wall
        counts = Array(repeating: 0, count: names.count)
    }

    /// Adds the time since the previous phase ended to `phase`; returns that stretch's wall nanoseconds.
    @discardableResult
    mutating func end(_ phase: Int) -> UInt64 {
        let now = (wall: DispatchTime.now().uptimeNanoseconds, cpu: Self.threadCPU())
        defer { last = now }
        guard let last else { return 0 }
        let stretch = now.wall &- last.wall
        wall[phase] &+= stretch
        cpu[phase] &+= now.cpu &- last.cpu
        counts[phase] += 1
        return stretch
    }

    /// One line per phase, most CPU first: CPU µs per item, CPU ms, wall ms, calls.
    func table(per items: Int) -> String {
        let header = "phase            CPU µs/item    CPU ms    wall ms     calls"
        let rows = names.indices.filter { counts[$0] > 0 }.sorted { cpu[$0] > cpu[$1] }.map { i in
            String(format: "%@ %11.1f %9.1f %10.1f %9d", names[i].padding(toLength: 16, withPad: " ", startingAt: 0) as NSString,
                   Double(cpu[i]) / 1e3 / Double(max(1, items)), Double(cpu[i]) / 1e6, Double(wall[i]) / 1e6, counts[i])
        }
        return ([header] + rows).joined(separator: "\n")
    }

    /// This thread's CPU time in nanoseconds.
    static func threadCPU() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// Nanoseconds this thread has spent runnable but waiting for a core (Linux `/proc/thread-self/schedstat`,
    /// second field); 0 where unavailable. Tells waiting for a CPU apart from blocking on I/O.
    static func runQueueWait() -> UInt64 {
        let fd = open("/proc/thread-self/schedstat", O_RDONLY)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 96)
        let n = read(fd, &buffer, buffer.count)
        guard n > 0 else { return 0 }
        let fields = buffer[0..<n].split(separator: 0x20)
        guard fields.count >= 2 else { return 0 }
        return fields[1].reduce(UInt64(0)) { ($1 >= 0x30 && $1 <= 0x39) ? $0 &* 10 &+ UInt64($1 - 0x30) : $0 }
    }
}

/// The coordinator's probe in `smaller bench cluster`: dispatch latencies always (two reads of a vDSO clock per
/// dispatch); with `phases`, the loop's phases and a breakdown of slow dispatches too, which costs a thread-CPU
/// clock read (a system call) per phase and four system calls per READY. Used by the loop's thread while the
/// coordinator runs, read once it has returned.
final class CoordinatorProfile: CoordinatorProbe, @unchecked Sendable {
    /// A dispatch slower than 3 ms: its latency, the loop thread's CPU time and run-queue wait (runnable, no
    /// core) in that interval (the rest is blocking, e.g. on I/O), and the wall time and entry count of the last
    /// commit before the TASK (seconds).
    struct SlowDispatch {
        var latency, cpu, runQueue, commitWall: Double
        var entries: Int
    }

    private(set) var phases: PhaseTimes?
    /// READY received → TASK sent, in seconds.
    private(set) var dispatchLatencies: [Double] = []
    private(set) var slowDispatches: [SlowDispatch] = []
    private var readyAt: [String: UInt64] = [:]
    private var readyCPU: [String: (cpu: UInt64, runQueue: UInt64)] = [:]
    private var lastSQLiteWall: UInt64 = 0
    private var lastCommit: (wall: Double, entries: Int) = (0, 0)

    init(phases: Bool) {
        self.phases = phases ? PhaseTimes(names: CoordinatorLoopPhase.allCases.map { String(describing: $0) }) : nil
    }

    func phaseEnded(_ phase: CoordinatorLoopPhase) {
        guard let wall = phases?.end(phase.rawValue) else { return }
        if phase == .journalSQLite { lastSQLiteWall = wall }
    }

    func readyReceived(from worker: String) {
        readyAt[worker] = DispatchTime.now().uptimeNanoseconds
        if phases != nil { readyCPU[worker] = (PhaseTimes.threadCPU(), PhaseTimes.runQueueWait()) }
    }

    func taskSent(to worker: String) {
        guard let t0 = readyAt.removeValue(forKey: worker) else { return }
        let latency = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        dispatchLatencies.append(latency)
        if let start = readyCPU.removeValue(forKey: worker), latency > 0.003 {
            slowDispatches.append(SlowDispatch(latency: latency, cpu: Double(PhaseTimes.threadCPU() &- start.cpu) / 1e9,
                                               runQueue: Double(PhaseTimes.runQueueWait() &- start.runQueue) / 1e9,
                                               commitWall: lastCommit.wall, entries: lastCommit.entries))
        }
    }

    func journalCommitted(entries: Int) {
        if phases != nil { lastCommit = (Double(lastSQLiteWall) / 1e9, entries) }
    }
}

/// A worker's probe for `smaller worker --profile`: the loop's phases, printed when the worker stops.
final class WorkerProfile: WorkerProbe, @unchecked Sendable {
    private(set) var phases = PhaseTimes(names: WorkerLoopPhase.allCases.map { String(describing: $0) })

    func phaseEnded(_ phase: WorkerLoopPhase) { phases.end(phase.rawValue) }

    /// Per task: `.taskPrepare` ends once for every task started.
    var table: String {
        let tasks = phases.counts[WorkerLoopPhase.taskPrepare.rawValue]
        return "profile over \(tasks) tasks:\n" + phases.table(per: tasks)
    }
}
