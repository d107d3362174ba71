// A restarted CoordinatorState (leases restored from the journal) meeting workers that never stopped: asked to
// say HELLO instead of being charged, their leases re-adopted, no task leased twice while its holder lives.
import Experiment
import Testing
@testable import Coordinator
@testable import Wire

@Suite struct CoordinatorRestartTests {
    static let yaml = "name: n\nnoop: {tasks: 3, seconds: 0}\n"

    /// A coordinator restarted while worker `w` ran the first task under lease `old-1`.
    func restarted() throws -> (Harness, [String], TaskGraph) {
        let plan = try JobSpec.parse(yaml: Self.yaml).plan()
        let ids = plan.tasks.map(\.id)
        let h = try Harness(Self.yaml,
                            restored: [ids[0]: RestoredTask(state: .leased, failures: 0, lease: "old-1", worker: "w",
                                                            lastError: nil, logTail: nil, artifacts: [])],
                            issued: ["old-1": ids[0]])
        return (h, ids, plan)
    }

    static func hello(_ worker: String, leases: [AnnouncedLease]?) -> Message {
        .workerHello(WorkerHello(worker: worker, host: "h", cores: 2, threads: 1, engine: "t", executors: ["noop"],
                                 current: leases?.last?.lease, pid: 1, leases: leases, commit: "c"))
    }

    static func asksForHello(_ out: [CoordinatorAction], _ worker: String) -> Bool {
        out.sent.contains { $0.0 == worker && $0.1 == .bye(Bye(reason: "unknown worker: say HELLO", again: true, hello: true)) }
    }

    static func charged(_ out: [CoordinatorAction]) -> Bool {
        out.journal.contains { if case .attemptFailed = $0 { true } else if case .failed = $0 { true } else { false } }
    }

    @Test func messagesBeforeHelloAreAnsweredSayHelloAndChargeNothing() throws {
        var (h, ids, _) = try restarted()
        let first = h.from("w", .heartbeat)
        #expect(Self.asksForHello(first, "w"))
        #expect(first.journal.isEmpty)
        // Asked once per heartbeat interval, however many queued messages follow.
        h.now = 0.2
        let progress = h.from("w", .progress(Progress(task: ids[0], lease: "old-1", fraction: 0.5, message: "")))
        #expect(progress.sent.isEmpty && progress.journal.isEmpty)
        h.now = 1.3
        #expect(Self.asksForHello(h.from("w", .heartbeat), "w"))
        // The HELLO re-announces the lease with its progress: adopted, nothing journaled, nothing charged.
        let joined = h.from("w", Self.hello("w", leases: [AnnouncedLease(task: ids[0], lease: "old-1", fraction: 0.5)]))
        #expect(joined.journal.isEmpty)
        #expect(h.state.workers["w"]?.held.map(\.lease) == ["old-1"])
        #expect(h.state.workers["w"]?.progress == 0.5)
        #expect(!Self.charged(h.actions))
    }

    @Test func aLeaseIsNotGrantedAgainWhileItsHolderIsReconnecting() throws {
        var (h, ids, plan) = try restarted()
        h.join("v")
        // Another worker asks for work while w has not come back yet (within its grace): it gets another task.
        for t in stride(from: 0.5, through: h.state.config.journaledWorkerGrace - 0.5, by: 0.5) {
            h.now = t
            h.from("v", .heartbeat)
            h.on(.tick)
        }
        let given = h.ready("v")
        #expect(given?.task != ids[0])
        h.from("w", Self.hello("w", leases: [AnnouncedLease(task: ids[0], lease: "old-1")]))
        let done = h.succeed("w", TaskAssignment(task: ids[0], lease: "old-1", attempt: 1, spec: plan.tasks[0].spec, inputs: [], timeout: 1))
        #expect(done.journal.contains { if case .done(ids[0], let record) = $0 { record.attempt == 1 } else { false } })
        #expect(!Self.charged(h.actions))
        #expect(h.actions.journal.filter { if case .leased(ids[0], _, _, _) = $0 { true } else { false } }.isEmpty)
    }

    @Test func aResultSentBeforeHelloIsResentAfterItAndCountsOnce() throws {
        var (h, ids, plan) = try restarted()
        let assignment = TaskAssignment(task: ids[0], lease: "old-1", attempt: 1, spec: plan.tasks[0].spec, inputs: [], timeout: 1)
        let early = h.succeed("w", assignment)
        #expect(Self.asksForHello(early, "w") && early.journal.isEmpty)
        // The worker finished while the coordinator was down: HELLO names the lease as finished (fraction 1).
        let joined = h.from("w", Self.hello("w", leases: [AnnouncedLease(task: ids[0], lease: "old-1", fraction: 1)]))
        #expect(joined.journal.isEmpty)
        let done = h.succeed("w", assignment)
        #expect(done.journal.count == 1)
        #expect(!Self.charged(h.actions))
    }

    @Test func aRequeuedLeaseIsTakenBackFromTheWorkerStillRunningIt() throws {
        var (h, ids, _) = try restarted()
        // w stayed away beyond its grace: presumed gone, charged, requeued, not yet granted again.
        h.now = h.state.config.journaledWorkerGrace + 0.1
        #expect(Self.charged(h.on(.tick)))
        #expect(h.state.tasks[ids[0]]?.state == .pending)
        let joined = h.from("w", Self.hello("w", leases: [AnnouncedLease(task: ids[0], lease: "old-1")]))
        #expect(joined.journal == [.leased(task: ids[0], lease: "old-1", worker: "w", attempt: 2)])
        #expect(h.state.tasks[ids[0]]?.state == .leased)
        // Nobody else gets it.
        h.join("v")
        let other = h.ready("v")
        #expect(other != nil && other?.task != ids[0])
    }

    @Test func aLeaseGrantedAnewIsNotTakenBack() throws {
        var (h, ids, _) = try restarted()
        h.now = h.state.config.journaledWorkerGrace + 0.1
        h.on(.tick)
        h.join("v")
        let regranted = h.ready("v")
        #expect(regranted?.task == ids[0])
        let joined = h.from("w", Self.hello("w", leases: [AnnouncedLease(task: ids[0], lease: "old-1")]))
        #expect(joined.journal.isEmpty)
        #expect(h.state.workers["w"]?.held.isEmpty == true)
        #expect(h.state.tasks[ids[0]]?.worker == "v")
    }

    @Test func commandsThatNeverTravelToTheCoordinatorStayProtocolErrors() throws {
        var (h, ids, _) = try restarted()
        let out = h.from("x", .ack(Ack(task: ids[0], lease: "old-1", duplicate: false)))
        #expect(out.sent.contains { if case .bye(let b) = $0.1 { b.again && b.hello == nil } else { false } })
    }

    @Test func aStrangersFloodGetsOneReplyPerInterval() throws {
        var (h, _, _) = try restarted()
        var replies = 0
        for i in 0..<1000 {
            h.now = Double(i) * 0.002  // 2 s of garbage
            replies += h.on(.malformed(from: "stranger", .badTag)).sent.count
            replies += h.from("stranger", .heartbeat).sent.count
        }
        #expect(replies == 2, "one reply per heartbeat interval (1 s): \(replies)")
        #expect(h.state.tasks.values.allSatisfy { $0.failures == 0 })
    }
}
