// TaskExecutor: the one seam between orchestration and the engine. The worker resolves a task (spec, fetched
// input artifacts, a log, a scratch directory) and an executor turns it into metrics and output files.
import Experiment
import Foundation

/// Everything an executor needs for one attempt of one task.
package struct ExecutionRequest: Sendable {
    package var taskID: String
    package var spec: TaskSpec
    package var attempt: Int
    /// Input artifacts by producing task id, then logical name → local verified file.
    package var inputs: [String: [String: URL]]
    /// A directory for outputs, not yet created (create it before writing); files the executor names in
    /// `ExecutionOutput.artifacts` are uploaded, then the directory is removed.
    package var workDirectory: URL { URL(fileURLWithPath: workDirectoryPath, isDirectory: true) }
    /// The same as a path: the worker makes it by string concatenation, since a Foundation URL built per task
    /// cost a noop task more than its run (most never create the directory).
    package var workDirectoryPath: String
    package var threads: Int
    package var log: TaskLog

    package init(taskID: String, spec: TaskSpec, attempt: Int, inputs: [String: [String: URL]], workDirectoryPath: String,
                 threads: Int, log: TaskLog) {
        self.taskID = taskID
        self.spec = spec
        self.attempt = attempt
        self.inputs = inputs
        self.workDirectoryPath = workDirectoryPath
        self.threads = threads
        self.log = log
    }

    package init(taskID: String, spec: TaskSpec, attempt: Int, inputs: [String: [String: URL]], workDirectory: URL,
                 threads: Int, log: TaskLog) {
        self.init(taskID: taskID, spec: spec, attempt: attempt, inputs: inputs, workDirectoryPath: workDirectory.path,
                  threads: threads, log: log)
    }
}

package struct ExecutionOutput: Sendable {
    /// Open metrics (`test.f1`, `dev.f1`, `params`, `latency.p50_ms`, …; docs/results.md).
    package var metrics: [String: Value]
    /// Logical name (a plain file name) → file, e.g. `checkpoint.safetensors`.
    package var artifacts: [String: URL]

    package init(metrics: [String: Value], artifacts: [String: URL] = [:]) {
        self.metrics = metrics
        self.artifacts = artifacts
    }
}

/// Runs tasks of one executor kind (`noop`, `engine`). Throwing fails the attempt with the error's text.
package protocol TaskExecutor: Sendable {
    var name: String { get }
    /// Whether each task's log file is uploaded to the coordinator with its result (engine tasks: yes; noop
    /// tasks keep theirs on the worker, since uploading would dominate their cost).
    var uploadsLogs: Bool { get }
    /// Whether the task finishes at once, so the worker runs it on its own loop rather than on a new thread.
    func runsInline(_ spec: TaskSpec) -> Bool
    func execute(_ request: ExecutionRequest, progress: @escaping @Sendable (Double, String) -> Void) throws -> ExecutionOutput
}

/// One open file that many inline tasks' logs append to (`logs/inline.log`), with a buffer: a task's lines
/// join the buffer when its log is released, and the worker writes the buffer out once per loop iteration
/// (`writeOut`), so a batch of instant tasks costs one write call, not one each. An explicit `TaskLog.flush`
/// (before a crash on request) writes out at once.
package final class SharedLog: @unchecked Sendable {
    package let url: URL
    let fd: Int32
    private let lock = NSLock()
    private var buffer = ""

    /// Opens `url` for appending (its directory is made); nil if that fails.
    package init?(appendingTo url: URL) {
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        fd = open(url.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        if fd < 0 { return nil }
        self.url = url
    }

    deinit {
        writeOut()
        close(fd)
    }

    func append(_ text: String) {
        lock.lock()
        buffer += text
        lock.unlock()
    }

    /// Whether lines wait in the buffer.
    package var hasPending: Bool { lock.lock(); defer { lock.unlock() }; return !buffer.isEmpty }

    /// Writes what the buffer holds in one write call.
    package func writeOut() {
        lock.lock()
        defer { lock.unlock() }
        guard !buffer.isEmpty else { return }
        _ = buffer.withUTF8 { Glibc.write(fd, $0.baseAddress, $0.count) }
        buffer.removeAll(keepingCapacity: true)
    }
}

/// A per-task, per-attempt log file; its tail goes into FAIL messages and failed records. Tasks that run
/// inline (a 0 s noop) share one open file instead (`logs/inline.log`, each line naming the task, through a
/// `SharedLog`): creating a file costs more than such a task; their lines are also kept in memory for the
/// tail, and join the shared log's buffer in one piece when the task's log is released (or flushed).
package final class TaskLog: @unchecked Sendable {
    package let url: URL
    private let fd: Int32
    private let ownsFD: Bool
    /// In shared mode: the prefix of every line (task and attempt) and the lines written, for `tail`.
    private let prefix: String?
    private let shared: SharedLog?
    private var lines: [String] = []
    private let lock = NSLock()

    /// Appends to `shared`; the lines join its buffer when this log is released (the owner writes it out),
    /// or reach the file at once on `flush`.
    package init(shared: SharedLog, prefix: String) {
        url = shared.url
        fd = shared.fd
        ownsFD = false
        self.prefix = prefix
        self.shared = shared
    }

    package init(url: URL) {
        self.url = url
        ownsFD = true
        prefix = nil
        shared = nil
        // Plain open(2): FileManager.createFile writes atomically with an fsync, which cost a noop task
        // milliseconds; a log needs no more durability than the process that writes it.
        var fd = open(url.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0, errno == ENOENT {
            try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            fd = open(url.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        }
        self.fd = fd
    }

    /// In shared mode: text not yet written. A task's lines go out in one write when it ends (`flush`, or the
    /// log is released): four write calls per 0 s noop task cost more than the rest of its run.
    private var unwritten = ""

    deinit {
        release(writeOut: false)
        if ownsFD, fd >= 0 { close(fd) }
    }

    /// Writes what shared mode holds back (own-file logs write every line at once).
    package func flush() { release(writeOut: true) }

    private func release(writeOut: Bool) {
        lock.lock()
        let text = unwritten
        unwritten = ""
        lock.unlock()
        guard let shared, fd >= 0 else { return }
        if !text.isEmpty { shared.append(text) }
        if writeOut { shared.writeOut() }
    }

    nonisolated(unsafe) private static let formatter = ISO8601DateFormatter()
    nonisolated(unsafe) private static var lastStamp: (second: Int, text: String) = (-1, "")
    private static let formatterLock = NSLock()

    /// An ISO 8601 time stamp to the second (formatted once per second: the formatter costs more than a line).
    package static func stamp(_ date: Date = Date()) -> String {
        let second = Int(date.timeIntervalSince1970.rounded(.down))
        formatterLock.lock()
        defer { formatterLock.unlock() }
        if lastStamp.second != second { lastStamp = (second, formatter.string(from: date)) }
        return lastStamp.text
    }

    package func write(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        guard fd >= 0 else { return }
        if let prefix {
            let text = "\(Self.stamp()) \(prefix) \(line)"
            lines.append(text)
            unwritten += text
            unwritten += "\n"
            return
        }
        var text = "\(Self.stamp()) \(line)\n"
        _ = text.withUTF8 { Glibc.write(fd, $0.baseAddress, $0.count) }
    }

    /// The last `lines` lines of the log.
    package func tail(lines count: Int = 20) -> String {
        lock.lock()
        defer { lock.unlock() }
        if prefix != nil { return lines.suffix(count).joined(separator: "\n") }
        let lines = count
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return "" }
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines + 1).joined(separator: "\n")
    }
}

extension TaskExecutor {
    package var uploadsLogs: Bool { true }
    package func runsInline(_ spec: TaskSpec) -> Bool { false }
}

package struct ExecutionError: Error, CustomStringConvertible {
    package var description: String
    package init(_ d: String) { description = d }
}

/// The `noop` executor: sleeps, optionally fails (retryably or permanently) or kills its own process, optionally writes `noop.bin`
/// and checks that its inputs' `noop.bin` arrived intact. Used by tests, benchmarks and noop pipelines.
package struct NoopExecutor: TaskExecutor {
    package let name = "noop"
    package var uploadsLogs: Bool { false }
    /// How the crash is done; the CLI passes `_exit`, tests may pass something observable.
    let crash: @Sendable () -> Void

    package init(crash: @escaping @Sendable () -> Void) { self.crash = crash }

    /// Keeps this thread busy until it has used `cpuSeconds` of CPU time (not wall time: a fixed amount of
    /// work, which takes longer when the core is shared). Returns the iterations, so the loop is not elided.
    static func burn(cpuSeconds: Double) -> UInt64 {
        func cpu() -> Double {
            var ts = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
            return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
        }
        let end = cpu() + cpuSeconds
        var x: UInt64 = 0x9E37_79B9_7F4A_7C15, iterations: UInt64 = 0
        while cpu() < end {
            for _ in 0..<10_000 { x = x &* 6364136223846793005 &+ 1442695040888963407 }
            iterations &+= 10_000
        }
        return iterations &+ (x & 1)
    }

    /// A 0 s noop that writes nothing finishes at once (a crash on request ends the process either way).
    package func runsInline(_ spec: TaskSpec) -> Bool {
        let noop = NoopSettings(params: spec.params)
        return noop.seconds == 0 && noop.outputBytes == 0 && !noop.burn
    }

    package func execute(_ request: ExecutionRequest, progress: @escaping @Sendable (Double, String) -> Void) throws -> ExecutionOutput {
        let noop = NoopSettings(params: request.spec.params)
        let seconds = noop.seconds
        request.log.write("noop \(request.spec.title) attempt \(request.attempt): sleeping \(seconds) s")
        for (task, files) in request.inputs {
            for (name, url) in files where name == "noop.bin" {
                let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.intValue ?? -1
                request.log.write("input \(name) of \(task.prefix(12)): \(size) bytes")
            }
        }
        if noop.crash {
            request.log.write("crashing the worker on request")
            request.log.flush()
            crash()
        }
        if seconds > 0, noop.burn {
            request.log.write("burning \(Self.burn(cpuSeconds: seconds)) iterations")
            progress(1, "burnt \(seconds) s of CPU")
        } else if seconds > 0 {
            let steps = max(1, min(10, Int(seconds / 0.1)))
            for step in 1...steps {
                Thread.sleep(forTimeInterval: seconds / Double(steps))
                progress(Double(step) / Double(steps), "slept \(step)/\(steps)")
            }
        }
        if noop.fail {
            request.log.write("failing on request")
            throw ExecutionError("noop task failed on request")
        }
        if noop.failPermanent {
            request.log.write("failing permanently on request")
            throw PermanentTaskError("noop task failed permanently on request")
        }
        var artifacts: [String: URL] = [:]
        if noop.outputBytes > 0 {
            let bytes = noop.outputBytes
            // Deterministic content per task id, so equal tasks give equal artifacts.
            var out = [UInt8](repeating: 0, count: bytes)
            var x = request.taskID.utf8.reduce(UInt64(0)) { $0 &* 31 &+ UInt64($1) }
            for i in 0..<bytes {
                x = x &* 6364136223846793005 &+ 1442695040888963407
                out[i] = UInt8(truncatingIfNeeded: x >> 56)
            }
            try FileManager.default.createDirectory(at: request.workDirectory, withIntermediateDirectories: true)
            let url = request.workDirectory.appendingPathComponent("noop.bin")
            try Data(out).write(to: url)
            artifacts["noop.bin"] = url
        }
        request.log.write("noop done")
        return ExecutionOutput(metrics: ["noop.seconds": .double(seconds),
                                         "noop.inputs": .int(request.inputs.values.reduce(0) { $0 + $1.count })],
                               artifacts: artifacts)
    }
}
