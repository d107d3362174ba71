// Keeps a run from filling its disks. A task whose worker cannot write its model fails (ENOSPC) and spends an
// attempt; the study's run died that way once (docs/study.md). So the coordinator looks at the free space of the
// run directory's filesystem once a second: below the reserve it grants no new task (running ones go on, and
// their results are still stored), and it grants again once space is freed. Early in a run it also projects the
// space the remaining tasks will take, from what the finished ones took, and says so once if it will not fit.
// A worker does the same for its own directory (its inputs' cache and its tasks' scratch): below the reserve it
// asks for no new task.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Bytes free to an unprivileged user on the filesystem holding `path` (statvfs's f_bavail × f_frsize; saturating),
/// or nil when it cannot be read.
package func freeDiskBytes(_ path: String) -> Int64? {
    var s = statvfs()
    guard statvfs(path, &s) == 0 else { return nil }
    let blocks = Int64(clamping: UInt64(s.f_bavail)), size = Int64(clamping: UInt64(s.f_frsize))
    let (bytes, overflow) = blocks.multipliedReportingOverflow(by: size)
    return overflow ? .max : bytes
}

/// The disk rule of a coordinator (grant no task) or a worker (ask for none): hold below `reserve` free bytes,
/// resume above it with some slack.
package struct DiskGuard: Sendable {
    package enum Event: Equatable, Sendable {
        /// Stop granting tasks; the text says why.
        case hold(String)
        /// Grant again.
        case resume(String)
        /// A warning for the log (said once per coordinator).
        case warn(String)
    }

    /// Below this many free bytes no task is granted (0: never).
    package let reserve: Int64
    /// What holding and resuming mean for the one who holds, in its log lines.
    let holdingMeans: String, resumingMeans: String
    /// The free space must rise this far above the reserve before tasks are granted again (so that one
    /// finished task's files do not toggle the hold).
    package var resumeAbove: Int64 { reserve == 0 ? 0 : reserve + max(reserve / 10, 16 << 20) }
    package private(set) var holding = false
    private var baseline: (free: Int64, done: Int)?
    private var warned = false
    /// Tasks that must have finished since the first look before a projection is made.
    static let tasksBeforeProjecting = 3

    package init(reserve: Int64, holdingMeans: String = "no new task is granted", resumingMeans: String = "tasks are granted again") {
        self.reserve = max(0, reserve)
        self.holdingMeans = holdingMeans
        self.resumingMeans = resumingMeans
    }

    /// One look: `free` bytes free (nil: unknown, nothing changes), `done` tasks finished so far, `remaining` not.
    package mutating func check(free: Int64?, done: Int, remaining: Int, where path: String) -> [Event] {
        guard reserve > 0, let free else { return [] }
        var events: [Event] = []
        if !holding, free < reserve {
            holding = true
            events.append(.hold("disk: \(Self.size(free)) free in \(path), below the reserve of \(Self.size(reserve)) (--min-free-disk): \(holdingMeans) until \(Self.size(resumeAbove)) are free; running tasks go on"))
        } else if holding, free >= resumeAbove {
            holding = false
            events.append(.resume("disk: \(Self.size(free)) free in \(path) again: \(resumingMeans)"))
        }
        guard let base = baseline else {
            baseline = (free, done)
            return events
        }
        let finished = done - base.done
        if !warned, finished >= Self.tasksBeforeProjecting, remaining > 0, base.free > free {
            let perTask = Double(base.free - free) / Double(finished)
            let need = perTask * Double(remaining)
            let room = Double(free - reserve)
            if need > room {
                warned = true
                events.append(.warn("disk: the \(remaining) tasks left may need about \(Self.size(Int64(min(need, 9e18)))) (\(Self.size(Int64(perTask))) per task so far, the run directory and local workers' caches together), \(Self.size(max(0, free - reserve))) are free above the reserve in \(path): the run will pause when it reaches the reserve unless space is freed"))
            }
        }
        return events
    }

    /// 1.5 GB, 320 MB, 12 kB: decimal units, as `df -H` prints them.
    package static func size(_ bytes: Int64) -> String {
        let b = Double(bytes)
        if b >= 1e9 { return String(format: "%.1f GB", b / 1e9) }
        if b >= 1e6 { return String(format: "%.0f MB", b / 1e6) }
        return String(format: "%.0f kB", b / 1e3)
    }
}
