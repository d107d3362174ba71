// ProcessFigures: this process's resident memory, CPU time and start time, read from Linux's /proc. Here, in
// Experiment, because both a worker (its HEARTBEATs carry them) and the dashboard (the coordinator's own
// /metrics) read them, and Experiment is what both import. The task's peak memory is Evaluation's ResidentMemory.
import Foundation

package enum ProcessFigures {
    /// The current resident set size in bytes (/proc/self/statm's second field × the page size); nil without /proc.
    package static var residentBytes: Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        return residentBytes(statm: text, pageSize: sysconf(Int32(_SC_PAGESIZE)))
    }

    /// User + system CPU seconds of the whole process (every thread); nil without /proc.
    package static var cpuSeconds: Double? {
        guard let text = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8) else { return nil }
        return cpuSeconds(stat: text, ticksPerSecond: sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Seconds since 1970 when the process started; nil without /proc.
    package static var startTime: Double? {
        // starttime (field 22) is in clock ticks after boot; boot time is /proc/stat's btime.
        guard let text = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let f = fields(stat: text), f.count > 19, let ticks = Double(f[19]),
              let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
              let boot = Double(line.dropFirst(6).trimmingCharacters(in: .whitespaces)) else { return nil }
        return boot + ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// statm(5): "size resident shared …" in pages. Nil when malformed or when the product overflows.
    package static func residentBytes(statm: String, pageSize: Int) -> Int? {
        let f = statm.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard f.count > 1, let pages = Int(f[1]), pages >= 0, pageSize > 0 else { return nil }
        let (bytes, overflow) = pages.multipliedReportingOverflow(by: pageSize)
        return overflow ? nil : bytes
    }

    /// stat(5): utime and stime are fields 14 and 15, in clock ticks.
    package static func cpuSeconds(stat: String, ticksPerSecond: Int) -> Double? {
        // Index 0 of `fields` is field 3.
        guard let f = fields(stat: stat), f.count > 12, let user = UInt64(f[11]), let system = UInt64(f[12]),
              ticksPerSecond > 0 else { return nil }
        return (Double(user) + Double(system)) / Double(ticksPerSecond)
    }

    /// Fields of a stat line after the command name (which may hold spaces and parentheses, so it is cut at the
    /// last ')').
    static func fields(stat: String) -> [Substring]? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: close)...].split(whereSeparator: { $0 == " " || $0 == "\n" })
    }
}
