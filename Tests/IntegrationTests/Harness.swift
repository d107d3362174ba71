// Real processes over loopback: find the built `smaller`, spawn coordinators and workers, wait on events
// with deadlines (never a bare sleep as synchronisation), and read run directories back.
import Experiment
import Foundation
import GRDB
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

enum Smaller {
    /// The `smaller` executable beside the test bundle in the build directory.
    static var executable: URL? {
        var dir = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        for _ in 0..<4 {
            dir = dir.deletingLastPathComponent()
            let candidate = dir.appendingPathComponent("smaller")
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDir), !isDir.boolValue { return candidate }
        }
        return nil
    }

    static var available: Bool { executable != nil }
    static let unavailable: Comment = "no built `smaller` beside the test bundle (run `swift build` first)"
}

/// One spawned `smaller` process with its output in a file (or in `sink`, e.g. /dev/full).
final class Child: @unchecked Sendable {
    let process = Process()
    let output: URL

    init(_ arguments: [String], in dir: URL, name: String, executable: String? = nil, sink: FileHandle? = nil) throws {
        output = dir.appendingPathComponent("\(name).out")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try sink ?? FileHandle(forWritingTo: output)
        process.executableURL = executable.map { URL(fileURLWithPath: $0) } ?? Smaller.executable!
        process.arguments = arguments
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        process.currentDirectoryURL = dir
        // The kernel pinned (no timing in a test), and no choice file written to the real home.
        process.environment = ProcessInfo.processInfo.environment.merging(["SMALLER_GEMM": "own", "XDG_CACHE_HOME": dir.path]) { $1 }
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var text: String { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }

    /// Waits for exit; kills and records an issue past the deadline.
    @discardableResult
    func wait(seconds: Double, _ what: String = "process") -> Int32? {
        guard waitUntil(seconds: seconds, { !self.process.isRunning }) else {
            Issue.record("\(what) still running after \(seconds) s; killing it. Output:\n\(text.suffix(3000))")
            kill(pid, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    func kill9() {
        kill(pid, SIGKILL)
        process.waitUntilExit()
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
}

/// Polls a condition until it holds or the deadline passes.
func waitUntil(seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        Thread.sleep(forTimeInterval: 0.02)
    }
    return condition()
}

/// A free TCP port on loopback (bind to 0, read it back, close).
func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// What a run directory holds, read without the coordinator.
struct RunDir {
    let url: URL

    /// The records exported to `results.jsonl`, one per line, in commit order (while a run goes on, a last line
    /// still being written is left out).
    func exportedRecords() throws -> [ResultRecord] {
        let data = (try? Data(contentsOf: url.appendingPathComponent("results.jsonl"))) ?? Data()
        let complete = data.lastIndex(of: UInt8(ascii: "\n")).map { data[..<$0] } ?? Data()
        return try complete.split(separator: UInt8(ascii: "\n")).map { try ResultRecord.decode(Data($0)) }
    }

    /// The task ids of the exported records (a task exported twice is listed twice).
    var exportedIDs: [String] { ((try? exportedRecords()) ?? []).map(\.taskID) }

    func query<T>(_ body: (Database) throws -> T) throws -> T {
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(5)
        return try DatabaseQueue(path: url.appendingPathComponent("journal.sqlite").path, configuration: config).read(body)
    }

    func states() throws -> [String: String] {
        try query { db in
            Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT id, state FROM tasks").map { ($0["id"] as String, $0["state"] as String) })
        }
    }

    /// Journaled results (one row per done task): the rows and the distinct tasks they name.
    func resultCount() throws -> (rows: Int, tasks: Int) {
        try query { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM results") ?? 0, try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT task) FROM results") ?? 0)
        }
    }

    func eventCount(_ kind: String) throws -> Int {
        try query { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM events WHERE kind = ?", arguments: [kind]) ?? 0 }
    }

    func events(_ kind: String) throws -> [(task: String, detail: String)] {
        try query { db in
            try Row.fetchAll(db, sql: "SELECT task, detail FROM events WHERE kind = ?", arguments: [kind]).map { ($0["task"], $0["detail"] ?? "") }
        }
    }

    var statusText: String { (try? String(contentsOf: url.appendingPathComponent("status.json"), encoding: .utf8)) ?? "" }
    var coordinatorLog: String { (try? String(contentsOf: url.appendingPathComponent("coordinator.log"), encoding: .utf8)) ?? "" }
}

/// Writes a job file into `dir`.
func writeJob(_ yaml: String, in dir: URL, name: String = "job.yaml") throws -> String {
    let url = dir.appendingPathComponent(name)
    try yaml.write(to: url, atomically: true, encoding: .utf8)
    return url.path
}

/// A job file, a loopback endpoint and a run directory for a coordinator and workers started separately.
struct LoopbackGrid {
    let dir: URL, yaml: String, job: String, endpoint: String, run: RunDir

    init(_ yaml: String, in dir: URL) throws {
        self.dir = dir
        self.yaml = yaml
        job = try writeJob(yaml, in: dir)
        endpoint = "tcp://127.0.0.1:\(freePort())"
        run = RunDir(url: dir.appendingPathComponent("run"))
    }

    /// `smaller coordinator` on the run directory; `shell` runs first in `/bin/sh` (a `ulimit`), then execs it.
    func coordinator(name: String = "coordinator", shell: String? = nil) throws -> Child {
        let arguments = ["coordinator", job, "--bind", endpoint, "--dir", run.url.path]
        guard let shell else { return try Child(arguments, in: dir, name: name) }
        return try Child(["-c", "\(shell) && exec \"$@\"", "sh", Smaller.executable!.path] + arguments, in: dir, name: name,
                         executable: "/bin/sh")
    }

    func worker(_ name: String) throws -> Child {
        try Child(["worker", "--connect", endpoint, "--dir", dir.appendingPathComponent(name).path], in: dir, name: name)
    }

    /// Waits for the coordinator to exit 0 and the workers to leave, then expects every task once.
    func finish(_ coordinator: Child, _ workers: [Child], sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(coordinator.wait(seconds: 90, "coordinator") == 0, "\(coordinator.text.suffix(3000))", sourceLocation: sourceLocation)
        for w in workers { w.wait(seconds: 15, "worker") }
        try expectEveryTaskOnce(sourceLocation: sourceLocation)
    }

    /// After the coordinator exited: every planned task exported once and journaled once.
    func expectEveryTaskOnce(sourceLocation: SourceLocation = #_sourceLocation) throws {
        let ids = try JobSpec.parse(yaml: yaml).plan().tasks.map(\.id)
        #expect(run.exportedIDs.count == ids.count && Set(run.exportedIDs) == Set(ids), sourceLocation: sourceLocation)
        #expect(try run.resultCount() == (ids.count, ids.count), sourceLocation: sourceLocation)
    }
}
