// WorkerState without sockets: greeting, READY credit, results kept until ACK across reconnects, back-off.
import Experiment
import Testing
@testable import Wire
@testable import Worker

@Suite struct WorkerStateTests {
    static let digest = String(repeating: "cd", count: 32)
    static let hello = WorkerHello(worker: "w1", host: "h", cores: 2, threads: 1, engine: "t", executors: ["noop"], pid: 1)

    static func assignment(_ lease: String) -> TaskAssignment {
        TaskAssignment(task: digest, lease: lease, attempt: 1,
                       spec: TaskSpec(kind: .noop, executor: "noop", params: [:]), inputs: [], timeout: 10)
    }

    static func failure(_ lease: String) -> Message {
        .fail(TaskFailure(task: digest, lease: lease, error: "e", logTail: ""))
    }

    func greeted() -> WorkerState {
        var s = WorkerState(config: WorkerConfig(hello: Self.hello))
        _ = s.handle(.start, now: 0)
        _ = s.handle(.message(.coordinatorHello(CoordinatorHello(run: "r", heartbeatInterval: 1, liveness: 3))), now: 0)
        return s
    }

    @Test func startSaysHelloThenReadyAfterWelcome() {
        var s = WorkerState(config: WorkerConfig(hello: Self.hello))
        #expect(s.handle(.start, now: 0) == [.connect, .send(.workerHello(Self.hello))])
        let out = s.handle(.message(.coordinatorHello(CoordinatorHello(run: "r", heartbeatInterval: 0.5, liveness: 4))), now: 0.1)
        #expect(out == [.send(.ready(Ready(credit: 1)))])
        #expect(s.config.heartbeatInterval == 0.5 && s.config.liveness == 4)
    }

    @Test func taskRunsAndItsResultIsKeptUntilAcked() {
        var s = greeted()
        let a = Self.assignment("L1")
        #expect(s.handle(.message(.task(a)), now: 1) == [.startTask(a)])
        #expect(s.handle(.finished(Self.failure("L1")), now: 2) == [.send(Self.failure("L1")), .send(.ready(Ready(credit: 1)))])
        #expect(s.unacked.count == 1)
        _ = s.handle(.message(.ack(Ack(task: Self.digest, lease: "L1", duplicate: false))), now: 2.1)
        #expect(s.unacked.isEmpty)
    }

    @Test func resultFinishedWhileDisconnectedIsResentAfterReconnect() {
        var s = greeted()
        _ = s.handle(.message(.task(Self.assignment("L1"))), now: 1)
        // The coordinator goes silent: after 3 intervals the worker drops the connection.
        #expect(s.handle(.tick, now: 3.9) == [.send(.heartbeat)])
        let drop = s.handle(.tick, now: 4.1)
        #expect(drop.contains(.disconnect))
        guard case .disconnected(let retryAt) = s.phase else { Issue.record("not disconnected"); return }
        #expect(retryAt >= 4.1 + 0.08 && retryAt <= 4.1 + 0.12)  // 0.1 s ± 20 %
        // The task finishes meanwhile: kept, not sent.
        #expect(s.handle(.finished(Self.failure("L1")), now: 4.15) == [])
        // Reconnect announces itself (no lease running any more, L1's failure awaiting its ACK) and resends the
        // failure after the welcome.
        var hello = Self.hello
        hello.current = nil
        hello.leases = [AnnouncedLease(task: Self.digest, lease: "L1", fraction: 1)]
        #expect(s.handle(.tick, now: retryAt) == [.connect, .send(.workerHello(hello))])
        let welcome = s.handle(.message(.coordinatorHello(CoordinatorHello(run: "r2", heartbeatInterval: 1, liveness: 3))), now: retryAt + 0.01)
        #expect(welcome == [.send(Self.failure("L1")), .send(.ready(Ready(credit: 1)))])
    }

    @Test func aStalledWorkerGivesTheCoordinatorAFreshWindowBeforeDroppingIt() {
        var s = greeted()
        _ = s.handle(.message(.task(Self.assignment("L1"))), now: 1)
        _ = s.handle(.tick, now: 1.5)
        // This process does not run for a minute (SIGSTOP, a suspended VM): not the coordinator's silence.
        let resumed = s.handle(.tick, now: 61.5)
        #expect(!resumed.contains(.disconnect))
        #expect(resumed.contains(.log("this worker did not run for 60.0 s: the coordinator gets a fresh liveness window")))
        #expect(s.phase == .working)
        // A coordinator that stays silent after that is still dropped, one window later.
        #expect(!s.handle(.tick, now: 64.4).contains(.disconnect))
        #expect(s.handle(.tick, now: 64.6).contains(.disconnect))
    }

    @Test func reconnectWhileRunningNamesTheLease() {
        var s = greeted()
        _ = s.handle(.message(.task(Self.assignment("L9"))), now: 1)
        _ = s.handle(.message(.bye(Bye(reason: "unknown worker", again: true))), now: 1.5)
        guard case .disconnected(let at) = s.phase else { Issue.record("not disconnected"); return }
        var hello = Self.hello
        hello.current = "L9"
        hello.leases = [AnnouncedLease(task: Self.digest, lease: "L9")]
        #expect(s.handle(.tick, now: at) == [.connect, .send(.workerHello(hello))])
        // Welcomed back while still running: no READY until the task ends.
        #expect(s.handle(.message(.coordinatorHello(CoordinatorHello(run: "r", heartbeatInterval: 1, liveness: 3))), now: at) == [])
    }

    @Test func backOffDoublesUpToTheCap() {
        var s = WorkerState(config: WorkerConfig(hello: Self.hello))
        _ = s.handle(.start, now: 0)
        var now = 0.0
        var delays: [Double] = []
        for _ in 0..<10 {
            // Silence beyond liveness while greeting, ticking as a running worker does (a gap longer than the
            // liveness period would be the worker's own stall).
            let greeted = now
            for step in 1...7 {
                now = greeted + min(Double(step) * 0.5, 3.01)
                if s.handle(.tick, now: now).contains(.disconnect) { break }
            }
            guard case .disconnected(let at) = s.phase else { Issue.record("expected a drop"); return }
            delays.append(at - now)
            now = at
            _ = s.handle(.tick, now: now)  // reconnects
        }
        let nominal = [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5, 5, 5, 5]
        for (d, n) in zip(delays, nominal) { #expect(d >= n * 0.8 - 1e-9 && d <= n * 1.2 + 1e-9, "\(d) vs \(n)") }
    }

    @Test func byeWithoutAgainExits() {
        var s = greeted()
        let out = s.handle(.message(.bye(Bye(reason: "grid finished"))), now: 1)
        #expect(out.contains(.exit(reason: "grid finished")))
        #expect(s.isExited)
    }

    @Test func prefetchHoldsLeasesRunsThemInOrderAndDropsTheQueuedOnesOnReconnect() {
        var hello = Self.hello
        hello.prefetch = 3
        var s = WorkerState(config: WorkerConfig(hello: hello))
        _ = s.handle(.start, now: 0)
        let welcome = s.handle(.message(.coordinatorHello(CoordinatorHello(run: "r", heartbeatInterval: 1, liveness: 3))), now: 0)
        #expect(welcome == [.send(.ready(Ready(credit: 3)))])
        let (a, b, c) = (Self.assignment("L1"), Self.assignment("L2"), Self.assignment("L3"))
        #expect(s.handle(.message(.task(a)), now: 1) == [.startTask(a)])
        #expect(s.handle(.message(.task(b)), now: 1) == [])  // held, waits behind L1
        #expect(s.handle(.message(.task(c)), now: 1) == [])
        #expect(s.queue.map(\.lease) == ["L1", "L2", "L3"])
        // L1 ends: its result, one more credit, and L2 starts.
        #expect(s.handle(.finished(Self.failure("L1")), now: 2) == [.send(Self.failure("L1")), .send(.ready(Ready(credit: 1))), .startTask(b)])
        // A fourth lease beyond the three it may hold is a protocol error.
        _ = s.handle(.message(.task(Self.assignment("L4"))), now: 2.1)
        let over = s.handle(.message(.task(Self.assignment("L5"))), now: 2.2)
        #expect(over.contains(.disconnect))
        // Reconnecting keeps only the running lease (L2); L3 and L4 are given up, so the welcome asks for 2.
        #expect(s.queue.map(\.lease) == ["L2"])
        guard case .disconnected(let at) = s.phase else { Issue.record("not disconnected"); return }
        hello.current = "L2"
        hello.leases = [AnnouncedLease(task: Self.digest, lease: "L1", fraction: 1), AnnouncedLease(task: Self.digest, lease: "L2")]
        #expect(s.handle(.tick, now: at) == [.connect, .send(.workerHello(hello))])
        let back = s.handle(.message(.coordinatorHello(CoordinatorHello(run: "r", heartbeatInterval: 1, liveness: 3))), now: at)
        #expect(back == [.send(Self.failure("L1")), .send(.ready(Ready(credit: 2)))])
    }

    @Test func taskWhileBusyIsAProtocolErrorThatReconnects() {
        var s = greeted()
        _ = s.handle(.message(.task(Self.assignment("L1"))), now: 1)
        let out = s.handle(.message(.task(Self.assignment("L2"))), now: 1.1)
        #expect(out.contains(.disconnect))
        #expect(s.running?.lease == "L1")
    }

    /// A message that does not decode drops the connection (the worker reconnects) and is counted.
    @Test func malformedMessagesDropTheConnectionAndAreCounted() {
        var s = greeted()
        for n in 1...2 {
            let out = s.handle(.malformed(.badField("offset/total")), now: Double(n))
            #expect(out.contains(.disconnect))
            #expect(s.malformedMessages == n)
            #expect(out.contains(.log("malformed message from the coordinator (\(n) so far): field offset/total is out of range or malformed; reconnecting")))
        }
    }

    /// A restarted coordinator's "say HELLO" (BYE with `hello`): a fresh connection at once, no back-off, whose
    /// HELLO names the result awaiting its ACK and the running lease with its progress.
    @Test func sayHelloReconnectsAtOnceAndReannouncesTheLeases() {
        var s = greeted()
        _ = s.handle(.message(.task(Self.assignment("L1"))), now: 1)
        _ = s.handle(.finished(Self.failure("L1")), now: 2)
        _ = s.handle(.message(.task(Self.assignment("L2"))), now: 2.1)
        _ = s.handle(.progress(0.25, "a quarter"), now: 2.5)
        let ask = Bye(reason: "unknown worker: say HELLO", again: true, hello: true)
        let out = s.handle(.message(.bye(ask)), now: 3)
        var hello = Self.hello
        hello.current = "L2"
        hello.leases = [AnnouncedLease(task: Self.digest, lease: "L1", fraction: 1),
                        AnnouncedLease(task: Self.digest, lease: "L2", fraction: 0.25)]
        #expect(Array(out.drop { $0 != .disconnect }) == [.disconnect, .connect, .send(.workerHello(hello))])
        #expect(s.phase == .greeting)
        #expect(s.backoff == s.config.backoffInitial)
        // A second request that was already under way when the first was answered changes nothing.
        #expect(s.handle(.message(.bye(ask)), now: 3.01) == [])
        // Welcomed: the failure goes again; the running task keeps running (no startTask, no READY yet).
        let welcome = s.handle(.message(.coordinatorHello(CoordinatorHello(run: "r2", heartbeatInterval: 1, liveness: 3))), now: 3.1)
        #expect(welcome == [.send(Self.failure("L1"))])
        #expect(s.running?.lease == "L2")
    }

    @Test func idleWorkerHelloNamesNoLeases() {
        var s = greeted()
        let out = s.handle(.message(.bye(Bye(reason: "say HELLO", again: true, hello: true))), now: 1)
        #expect(out.last == .send(.workerHello(Self.hello)))
    }
}
