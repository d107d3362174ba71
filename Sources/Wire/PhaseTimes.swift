// PhaseTimes: cheap timing counters (monotonic nanoseconds per named phase) for profiling the coordinator's
// and the worker's loops in `smaller bench cluster` without a profiler. Off unless asked for.
import Foundation

package struct PhaseTimes: Sendable {
    package private(set) var nanoseconds: [String: UInt64] = [:]
    package private(set) var counts: [String: Int] = [:]
    package let enabled: Bool

    package init(enabled: Bool) { self.enabled = enabled }

    @inline(__always) package static func clock() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// Adds the time since `start` to `phase` (and returns the current clock, to chain phases).
    @discardableResult
    package mutating func add(_ phase: String, since start: UInt64, count: Int = 1) -> UInt64 {
        let t = Self.clock()
        guard enabled else { return t }
        nanoseconds[phase, default: 0] += t &- start
        counts[phase, default: 0] += count
        return t
    }

    /// One line per phase, largest first: total milliseconds, share and calls.
    package func table(per items: Int) -> String {
        let total = nanoseconds.values.reduce(0, +)
        guard total > 0 else { return "" }
        return nanoseconds.sorted { $0.value > $1.value }.map { phase, ns in
            String(format: "%-14@ %9.1f ms %5.1f %%  %8d calls  %7.1f µs/item", phase as NSString, Double(ns) / 1e6,
                   100 * Double(ns) / Double(total), counts[phase] ?? 0, Double(ns) / 1e3 / Double(max(1, items)))
        }.joined(separator: "\n")
    }
}
