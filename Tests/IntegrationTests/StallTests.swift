// A coordinator (and its workers) stopped for longer than the liveness period and continued, with the real
// binary: `kill -STOP` / `-CONT`, as a suspended VM or a starved host does. Nobody's silence over the stall is
// anyone's fault: every task must be done once, by its first lease, with no attempt charged.
import Experiment
import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized, .enabled(if: Smaller.available, Smaller.unavailable)) struct StallTests {
    /// Two `seconds`-long noop tasks on two workers; once both are leased, the coordinator (and the workers when
    /// `workersToo`) are stopped for 5 s (the liveness period is 3 s), then continued. With the coordinator
    /// alone stopped, the workers' heartbeats wait in its socket and are read before its next tick; with the
    /// workers stopped too, nothing waits, and only the coordinator's own-stall rule keeps their tasks.
    func stall(workersToo: Bool, name: String) throws {
        let dir = try Fixtures.temporaryDirectory(name)
        defer { try? FileManager.default.removeItem(at: dir) }
        let grid = try LoopbackGrid("name: \(name)\nnoop: {tasks: 2, seconds: 9}\nexecution: {max_attempts: 1}\n", in: dir)
        let run = grid.run
        let coordinator = try grid.coordinator()
        let a = try grid.worker("wa"), b = try grid.worker("wb")
        let bothLeased = waitUntil(seconds: 20) { ((try? run.states()) ?? [:]).values.filter { $0 == "leased" }.count == 2 }
        try #require(bothLeased, "both tasks leased: \(coordinator.text.suffix(2000))")
        let stopped = [coordinator] + (workersToo ? [a, b] : [])
        for p in stopped { kill(p.pid, SIGSTOP) }
        Thread.sleep(forTimeInterval: 5)
        // The coordinator first, the workers half a second later (processes resume in no set order): it must
        // not judge them by the time it did not run.
        kill(coordinator.pid, SIGCONT)
        if workersToo { Thread.sleep(forTimeInterval: 0.5); for p in [a, b] { kill(p.pid, SIGCONT) } }
        try grid.finish(coordinator, [a, b])
        let records = try run.exportedRecords()
        #expect(records.count == 2 && records.allSatisfy { $0.status == "done" && $0.attempt == 1 },
                "records: \(records.map { ($0.status, $0.attempt) })")
        let charged = try run.events("attempt-failed") + run.events("failed")
        #expect(charged.isEmpty, "attempts charged: \(charged.map(\.detail))\n\(coordinator.text.suffix(3000))")
        #expect(coordinator.text.contains("the coordinator did not run for"), "\(coordinator.text.suffix(3000))")
    }

    @Test func aStoppedAndContinuedCoordinatorChargesNothing() throws {
        try stall(workersToo: false, name: "stallcoordinator")
    }

    @Test func aStoppedAndContinuedGridChargesNothing() throws {
        try stall(workersToo: true, name: "stallgrid")
    }
}
