// Whole grids over loopback with real processes: completion, exactly-once results, worker and coordinator
// SIGKILL, crashing tasks, garbage on the wire, job-file errors, artifacts travelling between worker caches.
import Experiment
import Foundation
import Testing
import TestSupport
import Wire
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized, .enabled(if: Smaller.available, Smaller.unavailable)) struct GridTests {
    /// Runs `smaller run` and returns the run directory after it exits with `expected` (0: every task done).
    func run(_ yaml: String, workers: Int, in dir: URL, timeout: Double = 60, expected: Int32 = 0) throws -> RunDir {
        let job = try writeJob(yaml, in: dir)
        let out = dir.appendingPathComponent("run")
        let child = try Child(["run", job, "--workers", String(workers), "--out", out.path], in: dir, name: "run")
        let status = child.wait(seconds: timeout, "smaller run")
        #expect(status == expected, "smaller run: \(child.text.suffix(3000))")
        return RunDir(url: out)
    }

    func planIDs(_ yaml: String) throws -> Set<String> { Set(try JobSpec.parse(yaml: yaml).plan().tasks.map(\.id)) }

    @Test func twoHundredTaskGridWithThreeWorkersGivesEveryIdOnce() throws {
        let dir = try Fixtures.temporaryDirectory("grid200")
        defer { try? FileManager.default.removeItem(at: dir) }
        let yaml = "name: g200\nnoop: {tasks: 200, seconds: 0.01}\n"
        let run = try run(yaml, workers: 3, in: dir)
        let ids = try planIDs(yaml)
        #expect(Set(run.exportedIDs) == ids && run.exportedIDs.count == 200)
        #expect(try run.resultCount() == (200, 200))
        #expect(try run.states().values.allSatisfy { $0 == "done" })
        for record in try run.exportedRecords() {
            #expect(ids.contains(record.taskID) && record.status == "done")
        }
        // Three workers took part.
        let workers = try run.query { try Int.fetchOne($0, sql: "SELECT COUNT(DISTINCT worker) FROM leases") ?? 0 }
        #expect(workers == 3)
        // Rerunning the same job runs nothing again.
        let again = try self.run(yaml, workers: 1, in: dir)
        #expect(try again.resultCount() == (200, 200))
    }

    @Test func localWorkersGetTheirThreadsAndRecordsSayHowMany() throws {
        let dir = try Fixtures.temporaryDirectory("threads")
        defer { try? FileManager.default.removeItem(at: dir) }
        let yaml = "name: th\nnoop: {tasks: 4, seconds: 0}\n"
        let job = try writeJob(yaml, in: dir)
        let cores = ProcessInfo.processInfo.activeProcessorCount
        for (arguments, threads) in [(["--threads-per-worker", "3"], 3), ([], max(1, cores / 2))] {
            let out = dir.appendingPathComponent("run\(threads)-\(arguments.count)")
            let child = try Child(["run", job, "--workers", "2", "--out", out.path] + arguments, in: dir, name: "run")
            #expect(child.wait(seconds: 60, "smaller run") == 0, "\(child.text.suffix(3000))")
            #expect(child.text.contains("2 local workers, --threads \(threads) each"), "\(child.text.suffix(3000))")
            let records = try RunDir(url: out).exportedRecords()
            #expect(records.count == 4 && records.allSatisfy { $0.threads == threads })
        }
    }

    @Test func alwaysCrashingTaskIsRetriedThenFailedAndTheGridFinishes() throws {
        let dir = try Fixtures.temporaryDirectory("crash")
        defer { try? FileManager.default.removeItem(at: dir) }
        let yaml = """
            name: crash
            noop: {tasks: 20, seconds: 0.01, crash: [5], fail: [7]}
            execution: {max_attempts: 3, heartbeat_interval: 0.1, liveness: 5}
            """
        let run = try run(yaml, workers: 2, in: dir, expected: 1)
        let tasks = try JobSpec.parse(yaml: yaml).plan().tasks
        let states = try run.states()
        #expect(states[tasks[5].id] == "failed")
        #expect(states[tasks[7].id] == "failed")
        #expect(states.values.filter { $0 == "done" }.count == 18)
        let failures = try run.query { try Int.fetchOne($0, sql: "SELECT failures FROM tasks WHERE id = ?", arguments: [tasks[5].id]) }
        #expect(failures == 3)
        let error = try run.query { try String.fetchOne($0, sql: "SELECT last_error FROM tasks WHERE id = ?", arguments: [tasks[5].id]) }
        #expect(error?.contains("worker lost") == true)
        let tail = try run.query { try String.fetchOne($0, sql: "SELECT log_tail FROM tasks WHERE id = ?", arguments: [tasks[7].id]) }
        #expect(tail?.contains("failing on request") == true)
        // Each crash killed a worker; `smaller run` started replacements.
        #expect(try run.query { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM leases WHERE task = ?", arguments: [tasks[5].id]) } == 3)
    }

    @Test func sigkilledWorkerLosesNothing() throws {
        let dir = try Fixtures.temporaryDirectory("killworker")
        defer { try? FileManager.default.removeItem(at: dir) }
        let yaml = "name: kw\nnoop: {tasks: 30, seconds: 0.1}\nexecution: {heartbeat_interval: 0.2, liveness: 3}\n"
        let job = try writeJob(yaml, in: dir)
        let endpoint = "tcp://127.0.0.1:\(freePort())"
        let runURL = dir.appendingPathComponent("run")
        let coordinator = try Child(["coordinator", job, "--bind", endpoint, "--dir", runURL.path], in: dir, name: "coordinator")
        let a = try Child(["worker", "--connect", endpoint, "--dir", dir.appendingPathComponent("wa").path], in: dir, name: "wa")
        let b = try Child(["worker", "--connect", endpoint, "--dir", dir.appendingPathComponent("wb").path], in: dir, name: "wb")
        let run = RunDir(url: runURL)
        // Kill worker a while it holds a lease (its pid is part of its worker id).
        let holding = waitUntil(seconds: 20) {
            (try? run.query { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM tasks WHERE state = 'leased' AND worker LIKE ?", arguments: ["%-\(a.pid)-%"]) ?? 0 }) ?? 0 > 0
        }
        #expect(holding)
        a.kill9()
        #expect(coordinator.wait(seconds: 40, "coordinator") == 0)
        b.wait(seconds: 10, "worker b")
        #expect(Set(run.exportedIDs) == (try planIDs(yaml)))
        #expect(try run.resultCount() == (30, 30))
        let lost = try run.events("attempt-failed")
        #expect(lost.count >= 1 && lost.contains { $0.detail.contains("worker lost") })
        // The killed worker's task ran again and finished on b.
        for event in lost {
            let worker = try run.query { try String.fetchOne($0, sql: "SELECT json_extract(record, '$.worker') FROM results WHERE task = ?", arguments: [event.task]) }
            #expect(worker?.contains("-\(b.pid)-") == true)
        }
    }

    @Test func sigkilledCoordinatorRestartsAndWorkersCarryOn() throws {
        let dir = try Fixtures.temporaryDirectory("killcoord")
        defer { try? FileManager.default.removeItem(at: dir) }
        let yaml = "name: kc\nnoop: {tasks: 60, seconds: 0.05}\nexecution: {heartbeat_interval: 0.2, liveness: 3}\n"
        let job = try writeJob(yaml, in: dir)
        let endpoint = "tcp://127.0.0.1:\(freePort())"
        let runURL = dir.appendingPathComponent("run")
        let run = RunDir(url: runURL)
        let first = try Child(["coordinator", job, "--bind", endpoint, "--dir", runURL.path], in: dir, name: "coordinator1")
        let a = try Child(["worker", "--connect", endpoint, "--dir", dir.appendingPathComponent("wa").path], in: dir, name: "wa")
        let b = try Child(["worker", "--connect", endpoint, "--dir", dir.appendingPathComponent("wb").path], in: dir, name: "wb")
        #expect(waitUntil(seconds: 20) { run.exportedIDs.count >= 15 })
        first.kill9()
        let doneBefore = run.exportedIDs.count
        #expect(doneBefore < 60)
        let second = try Child(["coordinator", job, "--bind", endpoint, "--dir", runURL.path], in: dir, name: "coordinator2")
        #expect(second.wait(seconds: 40, "restarted coordinator") == 0)
        a.wait(seconds: 10, "worker a")
        b.wait(seconds: 10, "worker b")
        #expect(Set(run.exportedIDs) == (try planIDs(yaml)))
        // Exactly one done event per task across both coordinators: nothing rerun, nothing doubled.
        #expect(try run.resultCount() == (60, 60))
        #expect(second.text.contains("already done"))
        // The workers noticed: asked to say HELLO again (a quick restart) or reconnecting after silence.
        #expect([a, b].contains { $0.text.contains("saying HELLO again") || $0.text.contains("reconnecting") })
        #expect(try run.events("attempt-failed").isEmpty)
    }

    @Test func randomBytesAndTruncatedFramesDoNotDisturbAGrid() throws {
        let dir = try Fixtures.temporaryDirectory("garbage")
        defer { try? FileManager.default.removeItem(at: dir) }
        let yaml = "name: gb\nnoop: {tasks: 40, seconds: 0.05}\n"
        let job = try writeJob(yaml, in: dir)
        let port = freePort()
        let endpoint = "tcp://127.0.0.1:\(port)"
        let runURL = dir.appendingPathComponent("run")
        let run = RunDir(url: runURL)
        let coordinator = try Child(["coordinator", job, "--bind", endpoint, "--dir", runURL.path], in: dir, name: "coordinator")
        let a = try Child(["worker", "--connect", endpoint, "--dir", dir.appendingPathComponent("wa").path], in: dir, name: "wa")
        #expect(waitUntil(seconds: 20) { run.exportedIDs.count >= 3 })
        // A ZeroMQ peer sending garbage, truncated protocol messages and forged results.
        let context = try ZMQContext()
        let evil = try ZMQSocket(context, .dealer)
        try evil.connect(endpoint)
        var rng = TestRandom(seed: 11)
        let hello = WireCodec.encode(.workerHello(WorkerHello(worker: "evil", host: "x", cores: 1, threads: 1, engine: "x", executors: ["noop"], pid: 1)))
        for i in 0..<300 {
            switch i % 4 {
            case 0: try evil.send((0..<(1 + rng.below(4))).map { _ in (0..<rng.below(64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) } })
            case 1: try evil.send([hello[0], hello[1], Array(hello[2].prefix(rng.below(hello[2].count)))])
            case 2: try evil.send([hello[0]])
            default: try evil.send(WireCodec.encode(.fail(TaskFailure(task: String(repeating: "0", count: 64), lease: "forged", error: "x", logTail: ""))))
            }
        }
        // And a raw TCP client speaking no ZMTP at all.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        let connected = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        if connected == 0 {
            let junk = (0..<4096).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            _ = junk.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }
        close(fd)
        #expect(coordinator.wait(seconds: 40, "coordinator") == 0)
        a.wait(seconds: 10, "worker")
        #expect(Set(run.exportedIDs) == (try planIDs(yaml)))
        #expect(try run.resultCount() == (40, 40))
        #expect(run.coordinatorLog.contains("protocol error"))
    }

    @Test func cancelLeavesAResumableRunAndResultsAggregates() throws {
        let dir = try Fixtures.temporaryDirectory("cancel")
        defer { try? FileManager.default.removeItem(at: dir) }
        let yaml = "name: cn\nnoop: {tasks: 30, seconds: 0.1}\n"
        let job = try writeJob(yaml, in: dir)
        let runURL = dir.appendingPathComponent("run")
        let run = RunDir(url: runURL)
        let first = try Child(["run", job, "--workers", "2", "--out", runURL.path], in: dir, name: "run1")
        #expect(waitUntil(seconds: 20) { run.exportedIDs.count >= 3 })
        let cancel = try Child(["cancel", runURL.path], in: dir, name: "cancel")
        #expect(cancel.wait(seconds: 10) == 0)
        #expect(first.wait(seconds: 20, "cancelled run") == 130)
        let states = try run.states()
        #expect(states.values.filter { $0 == "leased" }.isEmpty)  // leases were released, not left dangling
        let doneAtCancel = states.values.filter { $0 == "done" }.count
        #expect(doneAtCancel < 30)
        #expect(try run.eventCount("attempt-failed") == 0)  // a cancel is not a failure
        let second = try Child(["run", job, "--workers", "2", "--out", runURL.path], in: dir, name: "run2")
        #expect(second.wait(seconds: 30, "resumed run") == 0)
        #expect(second.text.contains("(\(doneAtCancel) already done)"))
        #expect(try run.resultCount() == (30, 30))
        let results = try Child(["results", runURL.path], in: dir, name: "results")
        #expect(results.wait(seconds: 10) == 0)
        #expect(results.text.contains("| - | noop | 30 |"), "\(results.text)")
        let csv = try String(contentsOf: runURL.appendingPathComponent("report.csv"), encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 2)
    }

    @Test func jobFileErrorsNameTheKey() throws {
        let dir = try Fixtures.temporaryDirectory("joberr")
        defer { try? FileManager.default.removeItem(at: dir) }
        let cases = [
            ("name: a\nseeds: [1]\nlanguages: [x]\nmodel: {layrs: 2}\n", "model.layrs"),
            ("name: a\nseeds: [1]\nlanguages: [x]\ncompression:\n  - prune: {sparsity: [0.5, 2]}\n", "compression[0].prune.sparsity[1]"),
            ("name: a\nseeds: [one]\nlanguages: [x]\n", "seeds[0]"),
        ]
        for (i, (yaml, key)) in cases.enumerated() {
            let job = try writeJob(yaml, in: dir, name: "bad\(i).yaml")
            for command in [["plan", job], ["run", job, "--workers", "0", "--out", dir.appendingPathComponent("r\(i)").path]] {
                let child = try Child(command, in: dir, name: "bad\(i)-\(command[0])")
                let status = child.wait(seconds: 20, "smaller \(command[0])")
                #expect(status == 64)  // refused as a usage error, but without the usage text, which is about flags
                #expect(!child.text.contains("USAGE"), "\(child.text)")
                #expect(child.text.contains(key), "\(command[0]): \(child.text)")
                #expect(child.text.contains("bad\(i).yaml:"), "\(child.text)")
            }
        }
    }

    @Test func artifactsTravelBetweenWorkerCachesVerified() throws {
        let dir = try Fixtures.temporaryDirectory("artifacts")
        defer { try? FileManager.default.removeItem(at: dir) }
        // 2.5 MiB outputs: three chunks each way; finetune and compress tasks fetch their parent's output.
        let yaml = """
            name: art
            seeds: [1]
            languages: [a, b]
            compression:
              - quantize: {scheme: dynamic}
            execution: {executor: noop, noop_seconds: 0.01, noop_output_bytes: 2621440}
            """
        let run = try run(yaml, workers: 2, in: dir)
        let graph = try JobSpec.parse(yaml: yaml).plan()
        #expect(Set(run.exportedIDs) == Set(graph.tasks.map(\.id)))
        let exported = Dictionary(try run.exportedRecords().map { ($0.taskID, $0) }) { a, _ in a }
        for task in graph.tasks {
            let record = try #require(exported[task.id])
            #expect(record.artifacts.map(\.name) == ["noop.bin"])
            #expect(record.metrics["noop.inputs"] == .int(task.spec.inputs.count))
            let stored = run.url.appendingPathComponent("artifacts/\(record.artifacts[0].sha256.prefix(2))/\(record.artifacts[0].sha256)")
            let (digest, bytes) = try ArtifactStore.sha256(of: stored)
            #expect(digest == record.artifacts[0].sha256 && bytes == 2621440)
            #expect(record.log == nil)  // noop tasks keep their logs on the worker
        }
    }
}
