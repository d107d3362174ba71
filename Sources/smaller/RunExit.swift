// How `smaller run` and `smaller coordinator` end, so a script or CI can tell a finished grid from a broken or
// interrupted one: 0 every task done, 1 some failed or were skipped (named here), 130 stopped (Ctrl-C, SIGTERM,
// `smaller cancel`; the run directory resumes). The table is in docs/results.md.
import ArgumentParser
import Coordinator
import Foundation

enum RunExit {
    /// Lines of each kind the summary names before it only counts the rest.
    static let namedPerKind = 10

    /// Throws the exit code for `outcome` (returns for 0), after saying why on stderr. A stop request counts even
    /// when the grid happened to finish before the loop saw it: an interrupted command always exits 130.
    static func finish(_ outcome: CoordinatorOutcome, rows: [Journal.TaskRow], runDir: URL, resume: String) throws {
        fflush(nil)  // the report first, also when both streams go to one pipe
        if outcome.cancelled || Signals.stopRequested {
            printErr("stopped: \(outcome.pending) tasks not finished; `\(resume)` resumes")
            throw ExitCode(130)
        }
        let failed = rows.filter { $0.state == "failed" }, skipped = rows.filter { $0.state == "skipped" }
        guard !failed.isEmpty || !skipped.isEmpty else { return }
        printErr(summary(failed: failed, skipped: skipped, runDir: runDir))
        throw ExitCode(1)
    }

    /// The failed tasks with their errors and the skipped ones with their reasons, a few of each.
    static func summary(failed: [Journal.TaskRow], skipped: [Journal.TaskRow], runDir: URL) -> String {
        var lines = ["\(failed.count) task\(failed.count == 1 ? "" : "s") failed, \(skipped.count) skipped:"]
        for (rows, label) in [(failed, "failed "), (skipped, "skipped")] {
            for row in rows.prefix(namedPerKind) {
                let why = (row.lastError ?? "").split(separator: "\n").first.map(String.init) ?? ""
                let attempts = label == "failed " ? " after \(row.failures) attempt\(row.failures == 1 ? "" : "s")" : ""
                lines.append("  \(label) \(row.title)\(attempts): \(why.prefix(300))")
            }
            if rows.count > namedPerKind { lines.append("  … and \(rows.count - namedPerKind) more \(label.trimmingCharacters(in: .whitespaces))") }
        }
        lines.append("`smaller status \(runDir.path)` shows their log tails; rerunning with --retry-failed tries them again")
        return lines.joined(separator: "\n")
    }
}
