// ResultFileWriter: exports done records to `results.jsonl` in the run directory, one record (compact JSON) per
// line in commit order, on a thread of its own at the lowest CPU priority (SCHED_IDLE): it catches up when the
// coordinator and the workers idle, and `flush` waits for it. The journal's `results` table is the durable copy;
// this file is an export that any JSON Lines reader loads in one call. It is one file rather than a file per task
// because creating a file cost more CPU than the rest of a noop task (docs/benchmarks.md); a batch is one append.
// A crash can cut the last line short: `exportedTaskIDs` drops it at the next start and
// `Journal.writeMissingResultFiles` appends what is missing. A write that fails (no file descriptor left, a
// full disk) is undone, kept, retried with back-off, and reported (`failure`) until it succeeds.
import Foundation

final class ResultFileWriter: @unchecked Sendable {
    static let fileName = "results.jsonl"
    private let path: String
    private let condition = NSCondition()
    private var pending: [String] = []
    private var busy = false
    private var started = false
    private var stopping = false
    private var lastFailure: String?
    private var failuresInARow = 0
    /// Retry delays after a failed write: 0.1 s doubling to 5 s.
    static let retryInitial = 0.1, retryMax = 5.0

    init(runDirectory: URL) { path = runDirectory.appendingPathComponent(Self.fileName).path }

    /// Queues records (one JSON text each, without newlines) to be appended.
    func enqueue(_ records: [String]) {
        guard !records.isEmpty else { return }
        condition.lock()
        pending += records
        if !started {
            started = true
            let thread = Thread { [self] in loop() }
            thread.name = "smaller.results-export"
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

    /// Why the last write failed and how many failed in a row; nil once a write succeeds again.
    var failure: (message: String, inARow: Int, unwritten: Int)? {
        condition.lock()
        defer { condition.unlock() }
        return lastFailure.map { ($0, failuresInARow, pending.count) }
    }

    /// Returns once every enqueued record is written, or false when writes still fail after `timeout` seconds.
    @discardableResult
    func flush(timeout: Double = .infinity) -> Bool {
        let deadline = Date().addingTimeInterval(min(timeout, 1e9))
        condition.lock()
        defer { condition.unlock() }
        while !pending.isEmpty || busy {
            if !condition.wait(until: deadline) { return pending.isEmpty && !busy }
        }
        return true
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
        while true {
            condition.lock()
            while pending.isEmpty && !stopping { condition.wait() }
            if pending.isEmpty { condition.unlock(); return }
            let batch = pending
            pending = []
            busy = true
            condition.unlock()
            var failed: String?
            do { try Self.append(batch, to: path) } catch { failed = "\(error)" }
            condition.lock()
            busy = false
            if let failed {
                // Back to the front of the queue (order kept), tried again after a pause.
                pending = batch + pending
                lastFailure = failed
                failuresInARow += 1
            } else {
                lastFailure = nil
                failuresInARow = 0
            }
            let pause = failed == nil ? 0 : min(Self.retryMax, Self.retryInitial * pow(2, Double(min(failuresInARow - 1, 10))))
            condition.broadcast()
            condition.unlock()
            if pause > 0 { Thread.sleep(forTimeInterval: pause) }
        }
    }

    /// Appends the records as lines in one write (O_APPEND), no fsync: as durable as the journal at
    /// synchronous=NORMAL; what a crash cuts short is found by `exportedTaskIDs` and written again.
    /// A write cut short is undone (the file truncated back), so a retry never leaves half a line behind.
    static func append(_ records: [String], to path: String) throws {
        var text = records.joined(separator: "\n") + "\n"
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ExportError(path: path, call: "open", errno: errno) }
        defer { close(fd) }
        let start = lseek(fd, 0, SEEK_END)
        try text.withUTF8 { bytes in
            var done = 0
            while done < bytes.count {
                let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else {
                    let error = ExportError(path: path, call: "write", errno: n < 0 ? errno : ENOSPC)
                    if start >= 0 { _ = ftruncate(fd, start) }
                    throw error
                }
                done += n
            }
        }
    }

    struct ExportError: Error, CustomStringConvertible {
        var path: String, call: String, errno: Int32
        var description: String { "\(call) \(path): \(String(cString: strerror(errno)))" }
    }

    /// The task ids the export at `path` holds (none when it does not exist). A last line without its newline
    /// (a write cut short by a crash) is cut off the file first, so appending after it starts a clean line.
    static func exportedTaskIDs(_ path: String) throws -> Set<String> {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        var complete = data.count
        while complete > 0, data[data.startIndex + complete - 1] != UInt8(ascii: "\n") { complete -= 1 }
        if complete < data.count, truncate(path, off_t(complete)) != 0 {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        // Each line is parsed (only its top-level `taskID` is decoded), so keys inside metrics or the spec, or
        // text inside strings, can never be taken for the record's id. A line that is not a record is skipped.
        let decoder = JSONDecoder()
        var ids = Set<String>()
        for line in data.prefix(complete).split(separator: UInt8(ascii: "\n")) {
            if let id = try? decoder.decode(ExportedLine.self, from: line).taskID { ids.insert(id) }
        }
        return ids
    }

    /// What recovery reads of an exported record.
    private struct ExportedLine: Decodable {
        let taskID: String
    }
}
