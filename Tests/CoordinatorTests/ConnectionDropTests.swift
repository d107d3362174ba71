// A dropped connection (the ROUTER's monitor) presumes its worker dead after the reconnect grace, unless it
// comes back first; the liveness timeout still covers workers that hang with their connection open.
import Experiment
import Testing
@testable import Coordinator
@testable import Wire

@Suite struct ConnectionDropTests {
    static let one = "name: n\nnoop: {tasks: 1, seconds: 0}\n"

    /// a holds the task, b waits with credit.
    static func twoWorkers() throws -> (Harness, TaskAssignment) {
        var h = try Harness(Self.one)
        h.join("a")
        h.join("b")
        let granted = h.ready("a")
        let t = try #require(granted)
        let toB = h.ready("b")
        #expect(toB == nil)
        return (h, t)
    }

    static func regranted(_ out: [CoordinatorAction], to worker: String) -> TaskAssignment? {
        out.sent.compactMap { if case .task(let a) = $0.1, $0.0 == worker { a } else { nil } }.first
    }

    @Test func aDroppedConnectionRequeuesTheTaskAfterTheGraceNotTheLivenessTimeout() throws {
        var (h, t) = try Self.twoWorkers()
        let grace = h.state.config.reconnectGrace
        #expect(grace < h.state.config.deadAfter)
        h.now = 1.0
        h.on(.connectionDropped(from: "a"))
        h.now = 1.0 + grace  // not yet
        let early = h.on(.tick)
        #expect(early.journal.isEmpty)
        h.now = 1.0 + grace + 0.05
        let out = h.on(.tick)
        // Charged as a lost worker (a task that kills its worker must not retry forever), and granted to b at once.
        #expect(out.journal.contains { if case .attemptFailed(t.task, 1, let e, _) = $0 { e.contains("connection dropped") } else { false } })
        let again = try #require(Self.regranted(out, to: "b"))
        #expect(again.task == t.task && again.lease != t.lease)
        #expect(h.state.workers["a"] == nil)
    }

    @Test func aWorkerBackOnANewConnectionWithinTheGraceKeepsItsLease() throws {
        var (h, t) = try Self.twoWorkers()
        h.on(.connectionDropped(from: "a"))
        h.now = 0.1
        h.on(.connectionOpened(from: "a"))  // libzmq reconnected it, no HELLO needed
        h.now = 2.0
        h.from("a", .heartbeat)
        let later = h.on(.tick)
        #expect(later.journal.isEmpty)
        #expect(h.state.tasks[t.task]?.lease == t.lease && h.state.tasks[t.task]?.worker == "a")
    }

    @Test func aWorkerThatSaysHelloAgainWithinTheGraceKeepsItsLease() throws {
        var (h, t) = try Self.twoWorkers()
        h.on(.connectionDropped(from: "a"))
        h.now = 0.15
        h.join("a", current: t.lease)
        h.now = 1.0
        let later = h.on(.tick)
        #expect(later.journal.isEmpty)
        #expect(h.state.tasks[t.task]?.lease == t.lease && h.state.tasks[t.task]?.state == .leased)
    }

    @Test func aDropFromAWorkerKnownOnlyFromTheJournalChangesNothing() throws {
        // After a restart, a worker's old connection closes when it reconnects to say HELLO: its leases stay.
        let job = try JobSpec.parse(yaml: Self.one)
        let id = job.plan().tasks[0].id
        let restored = [id: RestoredTask(state: .leased, failures: 0, lease: "old-1", worker: "a", lastError: nil,
                                         logTail: nil, artifacts: [])]
        var h = try Harness(Self.one, restored: restored, issued: ["old-1": id])
        h.on(.connectionDropped(from: "a"))
        h.now = 1.0
        let later = h.on(.tick)
        #expect(later.journal.isEmpty)
        h.join("a", current: "old-1")
        #expect(h.state.tasks[id]?.lease == "old-1" && h.state.tasks[id]?.state == .leased)
    }

    @Test func aDropOfAnUnknownPeerIsIgnored() throws {
        var h = try Harness(Self.one)
        let dropped = h.on(.connectionDropped(from: "stranger"))
        let opened = h.on(.connectionOpened(from: "stranger"))
        #expect(dropped.isEmpty && opened.isEmpty)
        #expect(h.state.workers.isEmpty)
    }
}

@Suite struct ConnectionTableTests {
    @Test func aDescriptorNamesItsPeerOnlyWhileOpenAndOnlyAsThatPeersCurrentConnection() {
        var c = Connections()
        let a = Array("a".utf8), b = Array("b".utf8)
        let straggler = c.adopt(7, by: a)  // not accepted (yet): a straggler, nothing learned
        #expect(!straggler)
        c.accepted(7)
        #expect(!c.isCurrent(7, of: a))
        let first = c.adopt(7, by: a)
        #expect(first && c.isCurrent(7, of: a))
        // a moves to a new connection (a reconnect with handover): closing the old one names nobody.
        c.accepted(8)
        let moved = c.adopt(8, by: a)
        let oldClosed = c.closed(7)
        #expect(moved && oldClosed == nil)
        // Descriptor 7 is reused by b, and both connections drop: each names its own peer.
        c.accepted(7)
        let reused = c.adopt(7, by: b)
        let bClosed = c.closed(7), aClosed = c.closed(8)
        #expect(reused && bClosed == b && aClosed == a)
        let afterClose = c.adopt(8, by: a)
        #expect(!afterClose)
        // No descriptor (inproc): always current, nothing to track.
        #expect(c.isCurrent(-1, of: a))
    }
}
