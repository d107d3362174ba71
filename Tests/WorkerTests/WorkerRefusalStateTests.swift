// WorkerState told it is refused (BYE `refused`: another build than the coordinator's): it exits and keeps the
// reason, which WorkerClient throws as WorkerRefused; an ordinary BYE leaves no refusal.
import Experiment
import Testing
@testable import Wire
@testable import Worker

@Suite struct WorkerRefusalStateTests {
    static let hello = WorkerHello(worker: "w1", host: "h", cores: 2, threads: 1, engine: "t", executors: ["noop"], pid: 1,
                                   commit: "c")

    @Test func aRefusalWhileGreetingExitsWithTheReason() {
        var s = WorkerState(config: WorkerConfig(hello: Self.hello))
        _ = s.handle(.start, now: 0)
        let reason = "worker runs engine t (c) but the coordinator runs u (d)"
        let out = s.handle(.message(.bye(Bye(reason: reason, again: false, refused: true))), now: 0.1)
        #expect(out.contains(.exit(reason: reason)) && out.contains(.disconnect))
        #expect(s.isExited && s.refusal == reason)
        // Nothing more is sent after it, whatever arrives.
        #expect(s.handle(.tick, now: 100) == [])
    }

    @Test func anOrdinaryByeIsNoRefusal() {
        var s = WorkerState(config: WorkerConfig(hello: Self.hello))
        _ = s.handle(.start, now: 0)
        _ = s.handle(.message(.coordinatorHello(CoordinatorHello(run: "r", heartbeatInterval: 1, liveness: 3))), now: 0)
        _ = s.handle(.message(.bye(Bye(reason: "grid finished"))), now: 1)
        #expect(s.isExited && s.refusal == nil)
    }
}
