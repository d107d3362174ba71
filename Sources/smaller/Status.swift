// `smaller status DIR [--watch]`: progress with ETA, the workers, failed tasks with their errors.
import ArgumentParser
import Coordinator
import Experiment
import Foundation

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a run's progress, workers and failures.")

    @Argument(help: "The run directory.") var dir: String
    @Flag(help: "Refresh every second until the grid finishes.") var watch = false

    func run() throws {
        Signals.install()
        let url = URL(fileURLWithPath: dir).appendingPathComponent("status.json")
        repeat {
            guard let data = try? Data(contentsOf: url), let s = try? JSONWriter.decoder().decode(StatusSnapshot.self, from: data) else {
                throw CommandFailure("\(dir) has no status.json (not a run directory, or its coordinator never started)")
            }
            if watch { print("\u{1B}[2J\u{1B}[H", terminator: "") }
            print(Self.render(s, now: Date().timeIntervalSince1970))
            if !watch || s.finished { break }
            Thread.sleep(forTimeInterval: 1)
        } while !Signals.stopRequested
    }

    static func render(_ s: StatusSnapshot, now: Double) -> String {
        let done = s.tasks["done", default: 0], failed = s.tasks["failed", default: 0], skipped = s.tasks["skipped", default: 0]
        let finished = done + failed + skipped
        let fraction = s.total == 0 ? 1 : Double(finished) / Double(s.total)
        let width = 30
        let bar = String(repeating: "█", count: Int(fraction * Double(width))) + String(repeating: "·", count: width - Int(fraction * Double(width)))
        let elapsed = max(0, s.updatedAt - s.startedAt)
        var eta = "–"
        if finished > 0, finished < s.total, elapsed > 0 {
            eta = Self.duration(elapsed / Double(finished) * Double(s.total - finished))
        }
        let stale = now - s.updatedAt > 5 ? " (coordinator not running: last update \(Self.duration(now - s.updatedAt)) ago)" : ""
        var lines = ["run \(s.run) (job \(s.job))\(stale)",
                     "[\(bar)] \(finished)/\(s.total)  done \(done)  failed \(failed)  skipped \(skipped)  running \(s.tasks["leased", default: 0])  ETA \(eta)",
                     "", "worker                              host              state  tasks  heartbeat  current task"]
        for w in s.workers {
            let progress = w.progress.map { String(format: " %3.0f%%", $0 * 100) } ?? ""
            lines.append("\(w.id.padding(toLength: 35, withPad: " ", startingAt: 0)) \(w.host.padding(toLength: 17, withPad: " ", startingAt: 0)) \(w.state.padding(toLength: 6, withPad: " ", startingAt: 0)) \(String(w.done).padding(toLength: 6, withPad: " ", startingAt: 0)) \(String(format: "%5.1f s", w.lastHeartbeatAgo).padding(toLength: 10, withPad: " ", startingAt: 0)) \(w.task ?? "–")\(progress)")
        }
        if let held = s.held { lines += ["", "PAUSED: \(held)"] }
        if let n = s.malformedMessages, n > 0 { lines += ["", "\(n) malformed messages dropped (their senders were disconnected)"] }
        if let errors = s.exportErrors, !errors.isEmpty { lines += ["", "EXPORT FAILING (retrying):"] + errors.map { "  " + $0 } }
        if !s.failed.isEmpty {
            lines += ["", "failed tasks:"]
            for f in s.failed { lines.append("  \(f.title) [\(f.task.prefix(12))]: \(f.error)") }
        }
        return lines.joined(separator: "\n")
    }

    static func duration(_ t: Double) -> String {
        t < 60 ? String(format: "%.0f s", t) : t < 3600 ? String(format: "%.0f min", t / 60) : String(format: "%.1f h", t / 3600)
    }
}
