// RateLimitedLog: log lines that a peer can cause at will (protocol errors, refused uploads) are written at
// most `burst` per kind per interval; the rest are counted into one summary line when the interval ends, so a
// fuzzing peer cannot flood the log (one line per error was ~18,000 lines from a 5-second fuzz).
import Foundation

final class RateLimitedLog {
    static let interval = 10.0
    static let burst = 5

    private let write: (String) -> Void
    private var windows: [String: (start: Double, written: Int, suppressed: Int, last: String)] = [:]

    init(write: @escaping (String) -> Void) { self.write = write }

    func note(_ kind: String, _ line: String, now: Double) {
        var w = windows[kind] ?? (now, 0, 0, "")
        if now - w.start >= Self.interval {
            summarize(kind, w)
            w = (now, 0, 0, "")
        }
        if w.written < Self.burst {
            w.written += 1
            write(line)
        } else {
            w.suppressed += 1
            w.last = line
        }
        windows[kind] = w
    }

    /// Writes the summaries of intervals that have ended (called from the loop's tick).
    func flush(now: Double) {
        guard !windows.isEmpty else { return }
        for (kind, w) in windows where now - w.start >= Self.interval {
            summarize(kind, w)
            windows[kind] = nil
        }
    }

    private func summarize(_ kind: String, _ w: (start: Double, written: Int, suppressed: Int, last: String)) {
        guard w.suppressed > 0 else { return }
        write("\(w.suppressed) more \(kind) lines in \(Int(Self.interval)) s not logged; the last: \(w.last)")
    }
}
