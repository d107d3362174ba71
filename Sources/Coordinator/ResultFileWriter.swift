// ResultFileWriter: exports done records as `results/<id>.json` on a thread of its own at the lowest CPU
// priority (nice 19). Creating a file costs more CPU than the rest of a noop task (ext4 inode allocation:
// 45 % of all CPU samples of `smaller bench cluster` when it ran at normal priority on a Dispatch thread),
// so it must not compete with the coordinator's loop and the workers: it catches up when they idle, and
// `flush` waits for it. The journal's `results` table is the durable copy; these files are an export.
import Foundation

final class ResultFileWriter: @unchecked Sendable {
    private let directory: URL
    private let condition = NSCondition()
    private var pending: [(task: String, json: String)] = []
    private var busy = false
    private var started = false
    private var stopping = false

    init(directory: URL) { self.directory = directory }

    func enqueue(_ files: [(task: String, json: String)]) {
        condition.lock()
        pending += files
        if !started {
            started = true
            let thread = Thread { [self] in loop() }
            thread.name = "smaller.results-files"
            thread.start()
        }
        condition.signal()
        condition.unlock()
    }

    /// Lets the thread end once everything enqueued is written (the journal is going away).
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    /// Returns once every enqueued file is written.
    func flush() {
        condition.lock()
        while !pending.isEmpty || busy { condition.wait() }
        condition.unlock()
    }

    private func loop() {
        // This thread only: on Linux the nice value is per thread, and `who` 0 is the calling thread.
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        while true {
            condition.lock()
            while pending.isEmpty && !stopping { condition.wait() }
            if pending.isEmpty { condition.unlock(); return }
            let batch = pending
            pending = []
            busy = true
            condition.unlock()
            for (task, json) in batch { try? Journal.replace(directory.appendingPathComponent("\(task).json"), with: Data(json.utf8)) }
            condition.lock()
            busy = false
            condition.broadcast()
            condition.unlock()
        }
    }
}
