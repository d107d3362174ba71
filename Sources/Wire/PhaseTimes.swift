// PhaseTimes: cheap timing counters for profiling the coordinator's and the worker's loops in
// `smaller bench cluster --profile` without a profiler. Each phase gets wall time and this thread's CPU time:
// on a shared machine wall time includes waiting for a core, CPU time is the work itself. Off unless asked.
import Foundation

package struct PhaseTimes: Sendable {
    package struct Stamp: Sendable {
        var wall: UInt64
        var cpu: UInt64
    }

    package private(set) var wall: [String: UInt64] = [:]
    package private(set) var cpu: [String: UInt64] = [:]
    package private(set) var counts: [String: Int] = [:]
    package let enabled: Bool

    package init(enabled: Bool) { self.enabled = enabled }

    /// Nanoseconds this thread has spent runnable but waiting for a core (Linux `/proc/thread-self/schedstat`,
    /// second field); 0 where unavailable. Tells waiting for a CPU apart from blocking on I/O.
    package static func runQueueWait() -> UInt64 {
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

    package static func threadCPU() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// Now (both clocks when enabled; nothing is read when disabled).
    package func clock() -> Stamp {
        enabled ? Stamp(wall: DispatchTime.now().uptimeNanoseconds, cpu: Self.threadCPU()) : Stamp(wall: 0, cpu: 0)
    }

    /// Adds the time since `start` to `phase` and returns now, to chain phases.
    @discardableResult
    package mutating func add(_ phase: String, since start: Stamp, count: Int = 1) -> Stamp {
        guard enabled else { return start }
        let t = clock()
        wall[phase, default: 0] += t.wall &- start.wall
        cpu[phase, default: 0] += t.cpu &- start.cpu
        counts[phase, default: 0] += count
        return t
    }

    /// One line per phase, most CPU first: CPU µs per item, CPU ms, wall ms, calls.
    package func table(per items: Int) -> String {
        let header = "phase            CPU µs/item    CPU ms    wall ms     calls"
        let rows = cpu.sorted { $0.value > $1.value }.map { phase, ns in
            String(format: "%@ %11.1f %9.1f %10.1f %9d", phase.padding(toLength: 16, withPad: " ", startingAt: 0) as NSString,
                   Double(ns) / 1e3 / Double(max(1, items)), Double(ns) / 1e6, Double(wall[phase] ?? 0) / 1e6, counts[phase] ?? 0)
        }
        return ([header] + rows).joined(separator: "\n")
    }
}
