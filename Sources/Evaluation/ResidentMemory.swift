// Peak resident memory of the process, read from Linux's /proc/self/status (VmHWM). A worker runs many tasks in
// one process, so a task resets the high-water mark when it starts (writing 5 to /proc/self/clear_refs sets VmHWM
// to the current resident size); where that is not allowed the peak is the process's since it started. The
// current figures (what heartbeats and /metrics report) are Experiment's ProcessFigures.
import Foundation

package enum ResidentMemory {
    /// What a peak reading covers: since the last reset, or since the process started (reset refused).
    package enum Scope: String, Sendable {
        case task, process
    }

    /// Resets the peak to the current resident size; `.process` when the kernel refused (or this is not Linux).
    package static func resetPeak() -> Scope {
        guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return .process }
        defer { try? handle.close() }
        do { try handle.write(contentsOf: Data("5".utf8)) } catch { return .process }
        return .task
    }

    /// The peak resident set size in bytes (VmHWM), or nil when /proc/self/status cannot be read.
    package static func peakBytes() -> Int? { field("VmHWM") }

    /// A `Name:   1234 kB` line of /proc/self/status, in bytes.
    static func field(_ name: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        return parse(text, field: name)
    }

    static func parse(_ status: String, field name: String) -> Int? {
        for line in status.split(separator: "\n") where line.hasPrefix(name + ":") {
            let parts = line.dropFirst(name.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let kb = parts.first.flatMap({ Int($0) }), parts.count < 2 || parts[1] == "kB" else { return nil }
            let (bytes, overflow) = kb.multipliedReportingOverflow(by: 1024)
            return overflow ? nil : bytes
        }
        return nil
    }
}
