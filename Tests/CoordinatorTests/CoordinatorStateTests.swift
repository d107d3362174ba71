// CoordinatorState without sockets: a fake clock drives leases, liveness, retries, skips, duplicates, restore.
import Experiment
import Testing
@testable import Coordinator
@testable import Wire

/// Drives one CoordinatorState with a fake clock and records what it does.
struct Harness {
    var state: CoordinatorState
    var now = 0.0
    var actions: [CoordinatorAction] = []

    init(_ yaml: String, restored: [String: RestoredTask] = [:], issued: [String: String] = [:]) throws {
        let job = try JobSpec.parse(yaml: yaml)
        var config = CoordinatorConfig(runID: "run", leasePrefix: "p", execution: job.execution)
        // The build the workers below announce.
        config.engineVersion = "t"
        config.commit = "c"
        state = CoordinatorState(graph: job.plan(), config: config, restored: restored, issuedLeases: issued, now: 0)
    }

    @discardableResult
    mutating func on(_ event: CoordinatorEvent) -> [CoordinatorAction] {
        let out = state.handle(event, now: now)
        actions += out
        return out
    }

    @discardableResult
    mutating func from(_ worker: String, _ message: Message) -> [CoordinatorAction] { on(.message(from: worker, message)) }

    @discardableResult
    mutating func join(_ worker: String, current: String? = nil, prefetch: Int = 1, engine: String = "t",
                       commit: String? = "c") -> [CoordinatorAction] {
        from(worker, .workerHello(WorkerHello(worker: worker, host: "h", cores: 2, threads: 1, engine: engine,
                                              executors: ["noop", "engine"], current: current, pid: 1, prefetch: prefetch,
                                              commit: commit)))
    }

    /// READY, and the TASK it produced (if any).
    mutating func ready(_ worker: String) -> TaskAssignment? { ready(worker, credit: 1).first }

    /// READY with `credit`, and the TASKs it produced.
    mutating func ready(_ worker: String, credit: Int) -> [TaskAssignment] {
        from(worker, .ready(Ready(credit: credit))).compactMap { if case .send(worker, .task(let t)) = $0 { t } else { nil } }
    }

    static func record(_ t: TaskAssignment, _ worker: String = "w", seconds: Double = 0) -> ResultRecord {
        ResultRecord(taskID: t.task, spec: t.spec, status: "done", metrics: [:], engineVersion: "t", host: "h",
                     worker: worker, threads: 1, attempt: t.attempt, startedAt: 100, endedAt: 100 + seconds)
    }

    mutating func succeed(_ worker: String, _ t: TaskAssignment, seconds: Double = 0) -> [CoordinatorAction] {
        from(worker, .result(TaskResult(task: t.task, lease: t.lease, record: Self.record(t, worker, seconds: seconds))))
    }

    mutating func failTask(_ worker: String, _ t: TaskAssignment, _ error: String = "boom", permanent: Bool? = nil) -> [CoordinatorAction] {
        from(worker, .fail(TaskFailure(task: t.task, lease: t.lease, error: error, logTail: "tail", permanent: permanent)))
    }
}

extension [CoordinatorAction] {
    var journal: [JournalEntry] { compactMap { if case .journal(let j) = $0 { j } else { nil } } }
    var sent: [(String, Message)] { compactMap { if case .send(let to, let m) = $0 { (to, m) } else { nil } } }
    var finished: Bool { contains { if case .finished = $0 { true } else { false } } }
}

@Suite struct CoordinatorStateTests {
    static let two = "name: n\nnoop: {tasks: 2, seconds: 0}\n"
    static let pipeline = "name: p\nseeds: [1]\nlanguages: [a, b]\ncompression:\n  - quantize: {scheme: dynamic}\nexecution: {executor: noop}\n"

    @Test func leaseResultAckThenFinished() throws {
        var h = try Harness(Self.two)
        h.join("w")
        #expect(h.actions.sent.contains { $0.0 == "w" && $0.1.command == "HELLO" })
        let t1Opt = h.ready("w")
        let t1 = try #require(t1Opt)
        #expect(t1.attempt == 1)
        let done1 = h.succeed("w", t1)
        // The result is journaled before the ACK goes out.
        #expect(done1.first.map { if case .journal(.done(t1.task, _)) = $0 { true } else { false } } == true)
        #expect(done1.sent.contains { $0.1 == .ack(Ack(task: t1.task, lease: t1.lease, duplicate: false)) })
        let t2Opt = h.ready("w")
        let t2 = try #require(t2Opt)
        #expect(t2.task != t1.task)
        let end = h.succeed("w", t2)
        #expect(end.finished)
        #expect(end.sent.contains { $0.1 == .bye(Bye(reason: "grid finished", again: false)) })
        #expect(h.state.count(.done) == 2)
    }

    @Test func leaseIsJournaledBeforeTheTaskIsSent() throws {
        var h = try Harness(Self.two)
        h.join("w")
        let out = h.from("w", .ready(Ready(credit: 1)))
        let journalIndex = try #require(out.firstIndex { if case .journal(.leased) = $0 { true } else { false } })
        let sendIndex = try #require(out.firstIndex { if case .send(_, .task) = $0 { true } else { false } })
        #expect(journalIndex < sendIndex)
    }

    @Test func silentWorkerIsDeadAfterLivenessAndItsTaskRunsElsewhere() throws {
        var h = try Harness("name: n\nnoop: {tasks: 1, seconds: 0}\n")
        h.join("a")
        h.join("b")
        let tOpt = h.ready("a")
        let t = try #require(tOpt)
        let bTask = h.ready("b")
        #expect(bTask == nil)
        // b keeps talking; a goes silent. 3 intervals of 1 s is the limit: at 3.0 s a is still alive.
        for step in 1...6 {
            h.now = Double(step) * 0.5
            h.from("b", .heartbeat)
            let out = h.on(.tick)
            if h.now <= 3.0 { #expect(out.journal.isEmpty, "at \(h.now)") }
        }
        h.now = 3.5
        h.from("b", .heartbeat)
        let out = h.on(.tick)
        #expect(out.journal.contains { if case .attemptFailed(t.task, 1, _, _) = $0 { true } else { false } })
        let again = try #require(out.sent.compactMap { if case .task(let a) = $0.1, $0.0 == "b" { a } else { nil } }.first)
        #expect(again.task == t.task && again.attempt == 2 && again.lease != t.lease)
    }

    @Test func aStalledCoordinatorGivesWorkersAFreshWindowBeforeJudgingThem() throws {
        var h = try Harness("name: n\nnoop: {tasks: 1, seconds: 0}\n")
        h.join("a")
        let tOpt = h.ready("a")
        let t = try #require(tOpt)
        h.now = 0.5
        h.on(.tick)
        // The coordinator itself does not run for 60 s (SIGSTOP, a suspended VM): a's silence over that
        // time is not a's fault, so the next tick fails nothing and says why.
        h.now = 60.5
        let resumed = h.on(.tick)
        #expect(resumed.journal.isEmpty)
        #expect(resumed.contains { if case .log(let m) = $0 { m.contains("did not run for 60.0 s") } else { false } })
        // a then answers within the window: it keeps its task.
        h.now = 61
        h.from("a", .heartbeat)
        for step in 1...5 { h.now = 61 + Double(step) * 0.5; #expect(h.on(.tick).journal.isEmpty, "at \(h.now)") }
        // A worker that stays silent after the stall is still found dead, one window after its last word.
        h.now = 63.9
        #expect(h.on(.tick).journal.isEmpty)
        h.now = 64.1
        #expect(h.on(.tick).journal.contains { if case .attemptFailed(t.task, 1, _, _) = $0 { true } else { false } })
    }

    @Test func heartbeatsGoOutEveryInterval() throws {
        var h = try Harness(Self.two)
        h.join("w")
        var beats = 0
        for step in 1...10 {
            h.now = Double(step) * 0.25
            h.from("w", .heartbeat)
            beats += h.on(.tick).sent.filter { $0.1 == .heartbeat }.count
        }
        #expect(beats == 2)  // at 1.0 s and 2.0 s
    }

    @Test func failingTaskIsRetriedThenFailedAndDependentsSkipped() throws {
        var h = try Harness(Self.pipeline)
        h.join("w")
        var last: [CoordinatorAction] = []
        for attempt in 1...3 {
            let tOpt = h.ready("w")
        let t = try #require(tOpt)
            #expect(t.spec.kind == .pretrain && t.attempt == attempt)
            last = h.failTask("w", t, "error \(attempt)")
            #expect(last.sent.contains { if case .ack = $0.1 { true } else { false } })
        }
        #expect(last.journal.contains { if case .failed(_, 3, "error 3", "tail") = $0 { true } else { false } })
        // 2 finetunes + 2 compress tasks depend on it.
        #expect(last.journal.filter { if case .skipped = $0 { true } else { false } }.count == 4)
        #expect(last.finished)
        #expect(h.state.count(.failed) == 1 && h.state.count(.skipped) == 4)
    }

    @Test func permanentFailureFailsAtOnceAndSkipsDependents() throws {
        var h = try Harness(Self.pipeline)
        h.join("w")
        let tOpt = h.ready("w")
        let t = try #require(tOpt)
        #expect(t.spec.kind == .pretrain && t.attempt == 1)
        let out = h.failTask("w", t, "not a synthetic language", permanent: true)
        // One attempt spent of the three allowed, and no second lease: failed with the worker's message.
        #expect(out.journal.contains { if case .failed(t.task, 1, "not a synthetic language", "tail") = $0 { true } else { false } })
        #expect(!out.journal.contains { if case .attemptFailed = $0 { true } else { false } })
        #expect(out.journal.filter { if case .skipped = $0 { true } else { false } }.count == 4)
        #expect(out.sent.contains { $0.1 == .ack(Ack(task: t.task, lease: t.lease, duplicate: false)) })
        #expect(out.finished)
        #expect(h.state.count(.failed) == 1 && h.state.count(.skipped) == 4 && h.state.tasks[t.task]?.failures == 1)
        #expect(h.ready("w") == nil)
    }

    @Test func permanentFalseOrAbsentIsAnOrdinaryAttempt() throws {
        var h = try Harness(Self.pipeline)
        h.join("w")
        for (attempt, flag) in [(1, false as Bool?), (2, nil)] {
            let tOpt = h.ready("w")
            let t = try #require(tOpt)
            #expect(t.attempt == attempt)
            let out = h.failTask("w", t, permanent: flag)
            #expect(out.journal.contains { if case .attemptFailed(t.task, attempt, _, _) = $0 { true } else { false } })
            #expect(h.state.count(.failed) == 0 && h.state.count(.pending) == 5)
        }
    }

    @Test func permanentFailureOnAStaleLeaseIsIgnored() throws {
        var h = try Harness(Self.pipeline)
        h.join("a")
        let firstOpt = h.ready("a")
        let first = try #require(firstOpt)
        // a goes silent, is presumed dead, and the task runs again elsewhere.
        h.now = 10
        h.on(.tick)
        h.join("b")
        let againOpt = h.ready("b")
        let again = try #require(againOpt)
        #expect(again.task == first.task && again.attempt == 2)
        // a comes back and reports its old lease as permanently failed: the task, leased to b, is untouched.
        h.join("a")
        let out = h.failTask("a", first, permanent: true)
        #expect(out.journal.isEmpty)
        #expect(h.state.tasks[first.task]?.state == .leased && h.state.count(.failed) == 0)
    }

    @Test func dependentsWaitForTheirInputs() throws {
        var h = try Harness(Self.pipeline)
        h.join("a")
        h.join("b")
        let preOpt = h.ready("a")
        let pre = try #require(preOpt)
        let bTask = h.ready("b")
        #expect(bTask == nil)  // both finetunes need the pretrained model
        let out = h.succeed("a", pre)
        let next = out.sent.compactMap { if case .task(let t) = $0.1 { t } else { nil } }
        #expect(next.count == 1 && next[0].spec.kind == .finetune && next[0].inputs.first?.task == pre.task)
    }

    @Test func duplicateResultIsAcknowledgedAndIgnored() throws {
        var h = try Harness(Self.two)
        h.join("w")
        let tOpt = h.ready("w")
        let t = try #require(tOpt)
        _ = h.succeed("w", t)
        let dup = h.succeed("w", t)
        #expect(dup.journal.isEmpty)
        #expect(dup.sent.contains { $0.1 == .ack(Ack(task: t.task, lease: t.lease, duplicate: true)) })
        #expect(h.state.count(.done) == 1)
    }

    @Test func lateResultFromALostWorkerStillCountsOnce() throws {
        var h = try Harness("name: n\nnoop: {tasks: 1, seconds: 0}\n")
        h.join("a")
        h.join("b")
        let firstOpt = h.ready("a")
        let none = h.ready("b")
        #expect(none == nil)
        let first = try #require(firstOpt)
        h.now = 4
        h.from("b", .heartbeat)
        let tickOut = h.on(.tick)
        let second = try #require(tickOut.sent.compactMap { if case .task(let t) = $0.1 { t } else { nil } }.first)
        // a comes back and delivers; then b delivers too: one done, one duplicate.
        h.join("a")
        let fromA = h.succeed("a", first)
        #expect(fromA.journal.count == 1)
        let fromB = h.succeed("b", second)
        #expect(fromB.journal.isEmpty)
        #expect(fromB.sent.contains { $0.1 == .ack(Ack(task: second.task, lease: second.lease, duplicate: true)) })
    }

    @Test func messagesBeforeHelloAndForgedLeasesAreProtocolErrors() throws {
        var h = try Harness(Self.two)
        let early = h.from("x", .ready(Ready(credit: 1)))
        #expect(early.sent.contains { if case .bye(let b) = $0.1 { b.again } else { false } })
        h.join("w")
        let tOpt = h.ready("w")
        let t = try #require(tOpt)
        let forged = h.from("w", .fail(TaskFailure(task: t.task, lease: "p-999", error: "e", logTail: "")))
        #expect(forged.sent.contains { if case .bye = $0.1 { true } else { false } })
        // Forgetting the peer returned its real task to the queue as a failed attempt.
        #expect(forged.journal.contains { if case .attemptFailed(t.task, 1, _, _) = $0 { true } else { false } })
        let malformed = h.on(.malformed(from: "y", .badTag))
        #expect(malformed.sent.map(\.0) == ["y"])
    }

    @Test func timedOutTaskSendsTheWorkerAwayAndRequeues() throws {
        var h = try Harness("name: n\nnoop: {tasks: 1, seconds: 0}\nexecution: {task_timeout: 10}\n")
        h.join("w")
        let tOpt = h.ready("w")
        let t = try #require(tOpt)
        for s in stride(from: 1.0, through: 10.5, by: 0.5) {
            h.now = s
            h.from("w", .heartbeat)
            h.on(.tick)
        }
        #expect(h.actions.sent.contains { $0.1 == .bye(Bye(reason: "task timed out", again: false)) })
        #expect(h.actions.journal.contains { if case .attemptFailed(t.task, 1, _, _) = $0 { true } else { false } })
    }

    @Test func restoredRunKeepsDoneTasksAndAdoptsARunningLease() throws {
        let job = try JobSpec.parse(yaml: "name: n\nnoop: {tasks: 3, seconds: 0}\n")
        let ids = job.plan().tasks.map(\.id)
        let restored: [String: RestoredTask] = [
            ids[0]: RestoredTask(state: .done, failures: 0, lease: "old-1", worker: "w", lastError: nil, logTail: nil, artifacts: []),
            ids[1]: RestoredTask(state: .leased, failures: 0, lease: "old-2", worker: "w", lastError: nil, logTail: nil, artifacts: []),
        ]
        var h = try Harness("name: n\nnoop: {tasks: 3, seconds: 0}\n", restored: restored,
                            issued: ["old-1": ids[0], "old-2": ids[1]])
        #expect(h.state.count(.done) == 1 && h.state.count(.leased) == 1)
        h.join("w", current: "old-2")
        // The worker still runs its lease: adopted, no failed attempt.
        #expect(h.actions.journal.isEmpty)
        #expect(h.ready("w") == nil)  // it holds the one lease it may hold
        _ = h.succeed("w", TaskAssignment(task: ids[1], lease: "old-2", attempt: 1, spec: job.plan().tasks[1].spec, inputs: [], timeout: 1))
        let nextOpt = h.ready("w")
        let next = try #require(nextOpt)
        #expect(next.task == ids[2])  // the done task is never handed out again
        #expect(!h.actions.journal.contains { if case .attemptFailed = $0 { true } else { false } })
    }

    @Test func restoredLeaseResultIsAcceptedAfterReconnect() throws {
        let job = try JobSpec.parse(yaml: "name: n\nnoop: {tasks: 2, seconds: 0}\n")
        let plan = job.plan()
        let ids = plan.tasks.map(\.id)
        var h = try Harness("name: n\nnoop: {tasks: 2, seconds: 0}\n",
                            restored: [ids[0]: RestoredTask(state: .leased, failures: 0, lease: "old-1", worker: "w",
                                                            lastError: nil, logTail: nil, artifacts: [])],
                            issued: ["old-1": ids[0]])
        h.join("w", current: "old-1")
        let assignment = TaskAssignment(task: ids[0], lease: "old-1", attempt: 1, spec: plan.tasks[0].spec, inputs: [], timeout: 1)
        let out = h.succeed("w", assignment)
        #expect(out.journal.count == 1)
        #expect(h.state.count(.done) == 1)
        // A ghost that never comes back has its task requeued once a reconnecting worker would have said HELLO
        // (the liveness period, the longest back-off, one interval), not after the liveness period alone.
        var g = try Harness("name: n\nnoop: {tasks: 2, seconds: 0}\n",
                            restored: [ids[0]: RestoredTask(state: .leased, failures: 0, lease: "old-1", worker: "gone",
                                                            lastError: nil, logTail: nil, artifacts: [])],
                            issued: ["old-1": ids[0]])
        g.now = 3.5
        #expect(g.on(.tick).journal.isEmpty)
        // A running coordinator ticks often (a gap longer than the liveness period would be its own stall).
        var tick: [CoordinatorAction] = []
        while g.now < g.state.config.journaledWorkerGrace + 0.1 {
            g.now = min(g.now + 0.5, g.state.config.journaledWorkerGrace + 0.1)
            let out = g.on(.tick)
            if g.now <= g.state.config.journaledWorkerGrace { #expect(out.journal.isEmpty, "at \(g.now)") }
            tick += out
        }
        #expect(tick.journal.contains { if case .attemptFailed(ids[0], 1, _, _) = $0 { true } else { false } })
    }

    static func tasks(_ out: [CoordinatorAction], to worker: String) -> [TaskAssignment] {
        out.compactMap { if case .send(worker, .task(let t)) = $0 { t } else { nil } }
    }

    @Test func shortTaskKindsArePrefetchedUpToTheWorkersCredit() throws {
        var h = try Harness("name: n\nnoop: {tasks: 20, seconds: 0}\n")
        h.join("w", prefetch: 4)
        // The kind's run time is unknown yet: one lease, though READY offers four.
        let first = h.ready("w", credit: 4)
        #expect(first.count == 1)
        // It ran in 1 ms: below the prefetch bound, so the worker now gets the three credits it has left, each
        // journaled before any is sent (and before the ACK).
        let out = h.succeed("w", first[0], seconds: 0.001)
        let granted = Self.tasks(out, to: "w")
        #expect(granted.count == 3 && Set(granted.map(\.task)).count == 3)
        let lastJournal = try #require(out.lastIndex { if case .journal = $0 { true } else { false } })
        let firstSend = try #require(out.firstIndex { if case .send = $0 { true } else { false } })
        #expect(lastJournal < firstSend)
        #expect(out.journal.filter { if case .leased = $0 { true } else { false } }.count == 3)
        // The READY that came with the result: a fourth. Holding four, more credit gives nothing.
        #expect(h.ready("w", credit: 1).count == 1)
        #expect(h.ready("w", credit: 2).isEmpty)
        #expect(h.state.workers["w"]?.held.count == 4)
        // One ends (no credit left): nothing; its READY: one more.
        #expect(Self.tasks(h.succeed("w", granted[0], seconds: 0.001), to: "w").isEmpty)
        #expect(h.ready("w", credit: 1).count == 1)
    }

    @Test func longTaskKindsAreNotPrefetchedAndWorkersShareTheQueue() throws {
        var h = try Harness("name: n\nnoop: {tasks: 6, seconds: 0}\n")
        h.join("a", prefetch: 8)
        h.join("b", prefetch: 8)
        let a1 = h.ready("a", credit: 8)
        let b1 = h.ready("b", credit: 8)
        #expect(a1.count == 1 && b1.count == 1)
        // A kind that runs for a second: one lease per worker at a time.
        let next = Self.tasks(h.succeed("a", a1[0], seconds: 1), to: "a")
        #expect(next.count == 1)
        #expect(h.state.workers["a"]?.held.count == 1 && h.state.workers["b"]?.held.count == 1)
    }

    @Test func aDeadWorkerIsChargedForTheLeaseItRanAndItsQueuedLeasesAreReleased() throws {
        var h = try Harness("name: n\nnoop: {tasks: 10, seconds: 0}\n")
        h.join("w", prefetch: 3)
        let first = h.ready("w", credit: 3)
        let held = Self.tasks(h.succeed("w", first[0], seconds: 0), to: "w") + h.ready("w", credit: 1)
        #expect(held.count == 3)
        h.now = 10  // silent beyond liveness
        let out = h.on(.tick)
        #expect(out.journal.filter { if case .attemptFailed(held[0].task, 1, _, _) = $0 { true } else { false } }.count == 1)
        #expect(Set(out.journal.compactMap { if case .released(let id) = $0 { id } else { nil } }) == Set([held[1].task, held[2].task]))
        #expect(out.journal.filter { if case .attemptFailed = $0 { true } else { false } }.count == 1)
    }

    @Test func aReconnectingWorkerKeepsItsRunningLeaseAndGivesBackTheQueuedOnes() throws {
        var h = try Harness("name: n\nnoop: {tasks: 10, seconds: 0}\n")
        h.join("w", prefetch: 3)
        let first = h.ready("w", credit: 3)
        let held = Self.tasks(h.succeed("w", first[0], seconds: 0), to: "w") + h.ready("w", credit: 1)
        #expect(held.count == 3)
        let before = h.actions.count
        h.join("w", current: held[0].lease, prefetch: 3)
        let out = Array(h.actions[before...])
        #expect(Set(out.journal.compactMap { if case .released(let id) = $0 { id } else { nil } }) == Set([held[1].task, held[2].task]))
        #expect(!out.journal.contains { if case .attemptFailed = $0 { true } else { false } })
        #expect(h.state.workers["w"]?.held.map(\.lease) == [held[0].lease])
        // Its result is accepted as usual.
        #expect(h.succeed("w", held[0]).journal.contains { if case .done(held[0].task, _) = $0 { true } else { false } })
    }

    @Test func cancelReleasesLeasesAndSaysBye() throws {
        var h = try Harness(Self.two)
        h.join("w")
        let tOpt = h.ready("w")
        let t = try #require(tOpt)
        let out = h.on(.cancel)
        #expect(out.journal == [.released(task: t.task)])
        #expect(out.sent.contains { $0.1 == .bye(Bye(reason: "run cancelled", again: false)) })
        #expect(out.finished)
    }

    /// Tasks go out in the graph's order; a failed attempt's task goes out next, before the rest; and lease
    /// ids sort (as text, like the journal's `leases` key) in the order they were issued.
    @Test func dispatchFollowsGraphOrderRequeuedFirstAndLeaseIdsSortInIssueOrder() throws {
        let yaml = "name: n\nnoop: {tasks: 40, seconds: 0}\n"
        let order = try JobSpec.parse(yaml: yaml).plan().tasks.map(\.id)
        var h = try Harness(yaml)
        h.join("w")
        var sent: [String] = [], leases: [String] = []
        let first = h.ready("w")
        var t = try #require(first)
        sent.append(t.task); leases.append(t.lease)
        // The first attempt fails: the same task is the next one out.
        _ = h.failTask("w", t)
        let again = h.ready("w")
        t = try #require(again)
        #expect(t.task == order[0] && t.attempt == 2)
        leases.append(t.lease)
        _ = h.succeed("w", t)
        while let next = h.ready("w") {
            sent.append(next.task); leases.append(next.lease)
            _ = h.succeed("w", next)
        }
        #expect(sent == order)
        #expect(leases.count == 41 && Set(leases).count == 41 && leases.sorted() == leases)
        #expect(CoordinatorState.leaseID("p", 0xffff_ffff) > CoordinatorState.leaseID("p", 0xffff_fffe))
        #expect(CoordinatorState.leaseID("p", 0x1_0000_0000) != CoordinatorState.leaseID("p", 0x1000_0000))
        #expect(CoordinatorState.leaseID("p", 10) == "p-0000000a")
    }

    @Test func everyTaskIsDoneExactlyOnceUnderRandomFailures() throws {
        // 200 tasks, 3 workers; workers randomly fail tasks or vanish and come back. Nothing is lost or doubled.
        var h = try Harness("name: n\nnoop: {tasks: 200, seconds: 0}\nexecution: {max_attempts: 100}\n")
        var rng = SplitMix(seed: 3)
        var holding: [String: TaskAssignment] = [:]
        // Any event may grant a task to any worker with credit (a requeued task goes to whoever waits).
        func track(_ out: [CoordinatorAction]) { for case .send(let to, .task(let t)) in out { holding[to] = t } }
        let ready = Message.ready(Ready(credit: 1))
        for w in ["a", "b", "c"] { h.join(w); track(h.from(w, ready)) }
        var steps = 0
        while !h.state.isFinished && steps < 100_000 {
            steps += 1
            h.now += 0.01
            let w = ["a", "b", "c"][Int(rng.next() % 3)]
            if let t = holding[w] {
                holding[w] = nil
                switch rng.next() % 10 {
                case 0: track(h.failTask(w, t))
                case 1: track(h.join(w))  // restarted: its lease is lost
                default: track(h.succeed(w, t))
                }
                track(h.from(w, ready))
            } else {
                track(h.from(w, .heartbeat))
                track(h.from(w, ready))
            }
            track(h.on(.tick))
        }
        #expect(h.state.isFinished)
        let done = h.actions.journal.compactMap { if case .done(let id, _) = $0 { id } else { nil } }
        #expect(done.count == 200 && Set(done).count == 200)
    }
}

struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
