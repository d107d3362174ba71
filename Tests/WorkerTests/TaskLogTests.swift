// TaskLog: a file per task, or one shared file for inline tasks whose tail still holds only that task's lines;
// the noop executor's inline choice and its CPU-time burn.
import Experiment
import Foundation
import Testing
import TestSupport
@testable import Worker

@Suite struct TaskLogTests {
    @Test func sharedLogKeepsEachTasksTailApartAndWritesEveryLineOnce() throws {
        let dir = try Fixtures.temporaryDirectory("tasklog")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("inline.log")
        let shared = try #require(SharedLog(appendingTo: url))
        let a = TaskLog(shared: shared, prefix: "aaaa-1")
        let b = TaskLog(shared: shared, prefix: "bbbb-2")
        a.write("first of a")
        b.write("first of b")
        a.write("failing on request")
        #expect(a.tail().components(separatedBy: "\n").map { $0.hasSuffix("aaaa-1 first of a") || $0.hasSuffix("aaaa-1 failing on request") } == [true, true])
        #expect(b.tail().hasSuffix("bbbb-2 first of b") && !b.tail().contains("aaaa"))
        // Shared-mode lines reach the file when a task's log is flushed (or released): each task's lines together.
        #expect(try String(contentsOf: url, encoding: .utf8).isEmpty)
        b.flush()
        a.flush()
        a.flush()
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[0].hasSuffix("bbbb-2 first of b") && lines[1].hasSuffix("aaaa-1 first of a")
                && lines[2].hasSuffix("aaaa-1 failing on request"))
        // Each line starts with an ISO 8601 stamp to the second (formatted once a second, still exact).
        #expect(lines.allSatisfy { $0.count > 21 && $0.dropFirst(4).first == "-" && $0.dropFirst(10).first == "T" && $0.dropFirst(19).first == "Z" })
    }

    /// Inline tasks' logs join the shared log's buffer when released and reach the file in one write when
    /// the worker writes it out (once per loop iteration); an explicit flush (before a crash) writes at once.
    @Test func sharedLogBuffersReleasedTaskLogsUntilWrittenOut() throws {
        let dir = try Fixtures.temporaryDirectory("tasklog")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("logs/inline.log")
        let shared = try #require(SharedLog(appendingTo: url))
        func text() -> String { (try? String(contentsOf: url, encoding: .utf8)) ?? "" }
        do {
            let a = TaskLog(shared: shared, prefix: "aaaa-1")
            a.write("one of a")
            a.write("two of a")
            let b = TaskLog(shared: shared, prefix: "bbbb-1")
            b.write("one of b")
            #expect(a.tail().hasSuffix("aaaa-1 two of a") && !a.tail().contains("bbbb"))
        }
        // Both released: buffered, not yet in the file.
        #expect(shared.hasPending && text().isEmpty)
        shared.writeOut()
        #expect(!shared.hasPending)
        // Each task's lines together and in order (which task's log is released first is up to ARC).
        var lines = text().split(separator: "\n")
        let a = lines.firstIndex { $0.hasSuffix("aaaa-1 one of a") }
        #expect(lines.count == 3 && a != nil && a! < 2 && lines[a! + 1].hasSuffix("aaaa-1 two of a")
                && lines.contains { $0.hasSuffix("bbbb-1 one of b") })
        // A flushed log (crash on request) is in the file at once, without a writeOut.
        let c = TaskLog(shared: shared, prefix: "cccc-1")
        c.write("crashing the worker on request")
        c.flush()
        lines = text().split(separator: "\n")
        #expect(lines.count == 4 && lines[3].hasSuffix("cccc-1 crashing the worker on request"))
    }

    @Test func ownFileLogTailReadsTheFile() throws {
        let dir = try Fixtures.temporaryDirectory("tasklog")
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = TaskLog(url: dir.appendingPathComponent("sub/t-1.log"))  // the directory is made on demand
        for i in 0..<30 { log.write("line \(i)") }
        let tail = log.tail(lines: 5).split(separator: "\n")
        #expect(tail.count == 5 && tail.last?.hasSuffix("line 29") == true && tail.first?.hasSuffix("line 25") == true)
    }

    @Test func noopRunsInlineOnlyWhenItFinishesAtOnceAndBurnsCPUTime() {
        let noop = NoopExecutor(crash: {})
        func spec(_ fields: [String: Value]) -> TaskSpec { TaskSpec(kind: .noop, executor: "noop", params: ["noop": .object(fields)]) }
        #expect(noop.runsInline(spec(["seconds": .double(0)])))
        #expect(!noop.runsInline(spec(["seconds": .double(0.01)])))
        #expect(!noop.runsInline(spec(["seconds": .double(0), "output_bytes": .int(10)])))
        #expect(!noop.runsInline(spec(["seconds": .double(0.1), "burn": .bool(true)])))
        // Burning 50 ms of this thread's CPU time takes at least 50 ms of it.
        func cpu() -> Double { var ts = timespec(); clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9 }
        let before = cpu()
        #expect(NoopExecutor.burn(cpuSeconds: 0.05) > 0)
        #expect(cpu() - before >= 0.05)
    }

    /// `fail` is an ordinary failed attempt; `fail_permanent` throws the error the worker reports as permanent.
    @Test func noopFailsRetryablyOrPermanentlyOnRequest() throws {
        let dir = try Fixtures.temporaryDirectory("noop-fail")
        defer { try? FileManager.default.removeItem(at: dir) }
        let noop = NoopExecutor(crash: {})
        func run(_ key: String) -> (any Error)? {
            let spec = TaskSpec(kind: .noop, executor: "noop", params: ["noop": .object([key: .bool(true)])])
            let request = ExecutionRequest(taskID: key, spec: spec, attempt: 1, inputs: [:], workDirectory: dir.appendingPathComponent(key),
                                           threads: 1, log: TaskLog(url: dir.appendingPathComponent("\(key).log")))
            do { _ = try noop.execute(request) { _, _ in }; return nil } catch { return error }
        }
        let retryable = run("fail")
        #expect(retryable != nil && !(retryable is PermanentTaskError))
        #expect(run("fail_permanent") is PermanentTaskError)
        #expect(run("none") == nil)
    }
}
