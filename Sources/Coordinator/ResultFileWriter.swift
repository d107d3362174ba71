// ResultFileWriter: exports done records as `results/<id>.json` on a thread of its own at the lowest CPU
// priority (SCHED_IDLE). Creating a file costs more CPU than the rest of a noop task (ext4 inode allocation:
// 39-59 % of all CPU samples of `smaller bench cluster`), so it must not compete with the coordinator's loop
// and the workers: it catches up when they idle, and `flush` waits for it. The journal's `results` table is
// the durable copy; these files are an export, each written in one create + write at its final name (no
// temporary file and rename); `Journal.writeMissingResultFiles` rewrites any a crash left short.
import Foundation

final class ResultFileWriter: @unchecked Sendable {
    private let directory: String
    private let condition = NSCondition()
    private var pending: [(task: String, json: String)] = []
    private var busy = false
    private var started = false
    private var stopping = false

    init(directory: URL) { self.directory = directory.path }

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

    /// Puts the calling thread in SCHED_IDLE (it runs only when nothing else wants the core; on Linux the
    /// policy is per thread), falling back to nice 19.
    static func lowerPriority() {
        var param = sched_param(sched_priority: 0)
        let schedIdle: Int32 = 5  // SCHED_IDLE (<sched.h> defines it only under _GNU_SOURCE)
        if sched_setscheduler(0, schedIdle, &param) != 0 {
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
        }
    }

    private func loop() {
        Self.lowerPriority()
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        while true {
            condition.lock()
            while pending.isEmpty && !stopping { condition.wait() }
            if pending.isEmpty { condition.unlock(); return }
            let batch = pending
            pending = []
            busy = true
            condition.unlock()
            for (task, json) in batch { try? Self.write(json, to: directory + "/" + task + ".json") }
            condition.lock()
            busy = false
            condition.broadcast()
            condition.unlock()
        }
    }

    /// One create + write at the final name, no fsync (as durable as the journal at synchronous=NORMAL).
    /// A crash can leave the file short; the length check at the next start (`isComplete`) finds it.
    static func write(_ text: String, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
        var text = text
        let written = text.withUTF8 { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == text.utf8.count else { throw CocoaError(.fileWriteOutOfSpace, userInfo: [NSFilePathErrorKey: path]) }
    }

    /// Whether the file at `path` holds exactly `text`'s bytes: the right length, which a write cut short by
    /// a crash never has (one write call, from the start of an emptied file), and the same last byte.
    static func isComplete(_ path: String, _ text: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0, Int(info.st_size) == text.utf8.count else { return false }
        guard let last = text.utf8.last else { return true }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var byte: UInt8 = 0
        return pread(fd, &byte, 1, off_t(info.st_size - 1)) == 1 && byte == last
    }
}
