// What `smaller run` and `smaller plan` exit with, on the real binary: 1 when tasks failed or were skipped (named
// on stderr), 130 after Ctrl-C (and the rerun completes with 0), 64 for a language the data lacks (refused before
// anything starts); a permanently failing task is attempted once.
import Experiment
import Foundation
import GRDB
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized, .enabled(if: Smaller.available, Smaller.unavailable)) struct ExitCodeTests {
    /// Runs `yaml` with `smaller run` in `dir` until it exits, expecting exit `status`; returns its output and run directory.
    func run(_ yaml: String, workers: Int, in dir: URL, expecting status: Int32) throws -> (text: String, run: RunDir) {
        let job = try writeJob(yaml, in: dir)
        let out = dir.appendingPathComponent("run")
        let child = try Child(["run", job, "--workers", String(workers), "--out", out.path], in: dir, name: "run")
        #expect(child.wait(seconds: 60, "smaller run") == status, "\(child.text.suffix(3000))")
        return (child.text, RunDir(url: out))
    }

    @Test func failedTasksMakeRunExit1AndTheSummaryNamesThem() throws {
        let dir = try Fixtures.temporaryDirectory("exit1")
        defer { try? FileManager.default.removeItem(at: dir) }
        let yaml = "name: ex1\nnoop: {tasks: 12, seconds: 0, fail: [4], fail_permanent: [9]}\nexecution: {max_attempts: 2}\n"
        let (text, run) = try run(yaml, workers: 2, in: dir, expecting: 1)
        #expect(text.contains("2 tasks failed, 0 skipped"), "\(text.suffix(3000))")
        #expect(text.contains("failed  noop(#4) after 2 attempts: noop task failed on request"))
        #expect(text.contains("failed  noop(#9) after 1 attempt: noop task failed permanently on request"))
        #expect(!text.contains("USAGE"))
        #expect(try run.states().values.filter { $0 == "done" }.count == 10)
    }

    /// A log that cannot be written (a full disk: /dev/full answers every write with ENOSPC) loses its lines and
    /// nothing else: the coordinator and its workers log requeues, failures and the summary into it and still
    /// finish the grid with the exit code the tasks earn. (The study run of session 13 lost its coordinator to
    /// Foundation's trapping `FileHandle.write(_:)` when its log's disk filled.)
    @Test func anUnwritableLogCostsNoWork() throws {
        let dir = try Fixtures.temporaryDirectory("devfull")
        defer { try? FileManager.default.removeItem(at: dir) }
        let job = try writeJob("name: full\nnoop: {tasks: 12, seconds: 0, fail: [4]}\nexecution: {max_attempts: 2}\n", in: dir)
        let out = dir.appendingPathComponent("run")
        let full = try #require(FileHandle(forWritingAtPath: "/dev/full"))
        let child = try Child(["run", job, "--workers", "2", "--no-http", "--out", out.path], in: dir, name: "run", sink: full)
        let status = child.wait(seconds: 60, "smaller run with its output on /dev/full")
        #expect(child.process.terminationReason == .exit && status == 1,
                "\(child.process.terminationReason == .exit ? "exit" : "signal") \(status.map(String.init) ?? "none")")
        #expect(try RunDir(url: out).states().values.filter { $0 == "done" }.count == 11)
    }

    @Test func skippedTasksAreNamedToo() throws {
        let dir = try Fixtures.temporaryDirectory("exit1-skip")
        defer { try? FileManager.default.removeItem(at: dir) }
        // The noop pipeline's pretrain task runs for 60 s against a 0.5 s timeout: a timeout is retryable, so
        // it is failed after its one allowed attempt, and the finetune and compress tasks behind it are skipped.
        let yaml = """
            name: ex1s
            seeds: [1]
            languages: [a, b]
            compression:
              - quantize: {scheme: dynamic}
            execution: {executor: noop, noop_seconds: 60, max_attempts: 1, task_timeout: 0.5}
            """
        let (text, _) = try run(yaml, workers: 1, in: dir, expecting: 1)
        #expect(text.contains("1 task failed, 4 skipped"), "\(text.suffix(3000))")
        #expect(text.contains("skipped finetune(a, seed 1): input pretrain(seed 1) failed"))
    }

    @Test func permanentFailureIsAttemptedOnce() throws {
        let dir = try Fixtures.temporaryDirectory("permanent")
        defer { try? FileManager.default.removeItem(at: dir) }
        let yaml = "name: perm\nnoop: {tasks: 6, seconds: 0.01, fail_permanent: [2]}\nexecution: {max_attempts: 5}\n"
        let (_, run) = try run(yaml, workers: 2, in: dir, expecting: 1)
        let failing = try JobSpec.parse(yaml: yaml).plan().tasks[2].id
        #expect(try run.states()[failing] == "failed")
        let leases = try run.query { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM leases WHERE task = ?", arguments: [failing]) }
        #expect(leases == 1)
        let row = try run.query { try Row.fetchOne($0, sql: "SELECT failures, last_error FROM tasks WHERE id = ?", arguments: [failing]) }
        #expect((row?["failures"] as Int?) == 1)
        #expect((row?["last_error"] as String?)?.contains("failed permanently on request") == true)
        #expect(run.coordinatorLog.contains("failed permanently"))
        #expect(try run.eventCount("attempt-failed") == 0)
    }

    @Test func coordinatorExitsTheSameWay() throws {
        let dir = try Fixtures.temporaryDirectory("exit1-coordinator")
        defer { try? FileManager.default.removeItem(at: dir) }
        let job = try writeJob("name: ec\nnoop: {tasks: 4, seconds: 0, fail_permanent: [1]}\n", in: dir)
        let endpoint = "tcp://127.0.0.1:\(freePort())"
        let coordinator = try Child(["coordinator", job, "--bind", endpoint, "--dir", dir.appendingPathComponent("run").path],
                                    in: dir, name: "coordinator")
        let worker = try Child(["worker", "--connect", endpoint, "--dir", dir.appendingPathComponent("w").path], in: dir, name: "w")
        #expect(coordinator.wait(seconds: 30, "coordinator") == 1, "\(coordinator.text.suffix(3000))")
        #expect(coordinator.text.contains("1 task failed, 0 skipped"))
        #expect(coordinator.text.contains("failed  noop(#1) after 1 attempt: noop task failed permanently on request"))
        #expect(worker.wait(seconds: 10, "worker") == 0)
    }

    /// The coordinator binds its endpoint before the dashboard binds its address, so a dashboard on port 0 can never
    /// be handed the coordinator's port (a restarted coordinator failed with "Address already in use" that way).
    /// Both asked for the same port: the coordinator holds it, and the dashboard's failure names its address.
    @Test func theCoordinatorsPortIsBoundBeforeTheDashboards() throws {
        let dir = try Fixtures.temporaryDirectory("bind-order")
        defer { try? FileManager.default.removeItem(at: dir) }
        let job = try writeJob("name: bo\nnoop: {tasks: 2, seconds: 0}\n", in: dir)
        let port = freePort()
        let run = RunDir(url: dir.appendingPathComponent("run"))
        let coordinator = try Child(["coordinator", job, "--bind", "tcp://127.0.0.1:\(port)", "--http", "127.0.0.1:\(port)",
                                     "--dir", run.url.path], in: dir, name: "coordinator")
        let status = coordinator.wait(seconds: 30, "coordinator")
        #expect(status != nil && status != 0, "\(coordinator.text.suffix(3000))")
        #expect(run.coordinatorLog.contains("bound tcp://127.0.0.1:\(port)"), "\(coordinator.text.suffix(3000))")
        #expect(!coordinator.text.contains("zmq_bind"), "\(coordinator.text.suffix(3000))")
        #expect(coordinator.text.contains("127.0.0.1:\(port)"), "\(coordinator.text.suffix(3000))")
    }

    /// SIGINT to the run's process group, as a terminal's Ctrl-C sends it (Foundation starts each child, the run
    /// here and its workers there, in a group of its own, so this reaches the run alone), at several points of a
    /// grid, the last near its end: 130 every time, and a rerun resumes and completes with 0.
    @Test func ctrlCExits130AndTheRerunCompletes() throws {
        let dir = try Fixtures.temporaryDirectory("ctrlc")
        defer { try? FileManager.default.removeItem(at: dir) }
        let yaml = "name: cc\nnoop: {tasks: 40, seconds: 0.05}\n"
        let job = try writeJob(yaml, in: dir)
        let runURL = dir.appendingPathComponent("run")
        let run = RunDir(url: runURL)
        for (attempt, doneBefore) in [3, 15, 37].enumerated() {
            let child = try Child(["run", job, "--workers", "2", "--out", runURL.path], in: dir, name: "run\(attempt)")
            #expect(getpgid(child.pid) == child.pid)
            #expect(waitUntil(seconds: 30) { run.exportedIDs.count >= doneBefore || !child.process.isRunning })
            let wasRunning = child.process.isRunning
            kill(-child.pid, SIGINT)
            let status = child.wait(seconds: 20, "interrupted run")
            // A grid that ended before the signal (the last point is near the end) may already have exited 0.
            if wasRunning || status != 0 { #expect(status == 130, "\(child.text.suffix(2000))") }
            if status == 130 { #expect(child.text.contains("resumes")) }
        }
        #expect(try run.states().values.allSatisfy { $0 != "leased" })
        #expect(try run.eventCount("attempt-failed") == 0)  // an interrupt is not a failure
        let last = try Child(["run", job, "--workers", "2", "--out", runURL.path], in: dir, name: "rerun")
        #expect(last.wait(seconds: 60, "resumed run") == 0, "\(last.text.suffix(2000))")
        #expect(try run.resultCount() == (40, 40))
    }

    @Test func unknownSyntheticLanguageIsRefusedBeforeAnythingStarts() throws {
        let dir = try Fixtures.temporaryDirectory("lang-syn")
        defer { try? FileManager.default.removeItem(at: dir) }
        let job = try writeJob("name: ls\nseeds: [1]\nlanguages: [syn-agg, xx]\n", in: dir)
        let plan = try Child(["plan", job], in: dir, name: "plan")
        #expect(plan.wait(seconds: 20, "smaller plan") == 64)
        #expect(plan.text.contains("language xx not in the embedded synthetic corpus (it has: syn-iso, syn-agg, syn-ton, syn-eth"),
                "\(plan.text)")
        #expect(!plan.text.contains("USAGE"))
        let out = dir.appendingPathComponent("run")
        let run = try Child(["run", job, "--workers", "1", "--out", out.path], in: dir, name: "run")
        #expect(run.wait(seconds: 20, "smaller run") == 64)
        #expect(run.text.contains("language xx not in the embedded synthetic corpus"), "\(run.text)")
        #expect(!FileManager.default.fileExists(atPath: out.path))  // no journal, no worker
    }

    @Test func languagesMissingFromTheDataFoldersAreNamed() throws {
        let dir = try Fixtures.temporaryDirectory("lang-folders")
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        // hau is complete; yor lacks its test split; ewe has text but no NER folder.
        for (language, splits) in [("hau", ["train", "dev", "test"]), ("yor", ["train", "dev"])] {
            try fm.createDirectory(at: dir.appendingPathComponent("ner/\(language)"), withIntermediateDirectories: true)
            for split in splits { try "Ali B-PER\n".write(to: dir.appendingPathComponent("ner/\(language)/\(split).txt"), atomically: true, encoding: .utf8) }
        }
        try fm.createDirectory(at: dir.appendingPathComponent("text"), withIntermediateDirectories: true)
        for language in ["hau", "yor", "ewe"] {
            try "a line\n".write(to: dir.appendingPathComponent("text/\(language).txt"), atomically: true, encoding: .utf8)
        }
        let job = try writeJob("name: lf\ndata: {source: masakhaner, ner: ner, text: text}\nseeds: [1]\nlanguages: [hau, yor, ewe]\n", in: dir)
        let plan = try Child(["plan", job], in: dir, name: "plan")
        #expect(plan.wait(seconds: 20, "smaller plan") == 64)
        #expect(plan.text.contains("languages yor, ewe not in data.ner ner (it has: hau)"), "\(plan.text)")
        // The complete language plans.
        let ok = try writeJob("name: lf\ndata: {source: masakhaner, ner: ner, text: text}\nseeds: [1]\nlanguages: [hau]\n", in: dir, name: "ok.yaml")
        let planOK = try Child(["plan", ok], in: dir, name: "plan-ok")
        #expect(planOK.wait(seconds: 20, "smaller plan") == 0, "\(planOK.text)")
    }
}
