// A SIGKILLed worker's task runs elsewhere as soon as its dropped connection shows (the ROUTER's monitor plus
// the reconnect grace), well before the liveness timeout; the time is printed, `smaller bench cluster` carries
// the speed claim.
import Foundation
import GRDB
import Testing
import TestSupport

@Suite(.serialized, .enabled(if: Smaller.available, Smaller.unavailable)) struct RecoveryTests {
    @Test func aKilledWorkersTaskIsLeasedElsewhereBeforeTheLivenessTimeout() throws {
        let dir = try Fixtures.temporaryDirectory("recovery")
        defer { try? FileManager.default.removeItem(at: dir) }
        let grid = try LoopbackGrid("name: rec\nnoop: {tasks: 1, seconds: 3}\n", in: dir)
        func leases() -> [(worker: String, at: Double)] {
            (try? grid.run.query { db in
                try Row.fetchAll(db, sql: "SELECT worker, at FROM leases ORDER BY at").map { ($0["worker"] as String, $0["at"] as Double) }
            }) ?? []
        }
        let coordinator = try grid.coordinator()
        let first = try grid.worker("w1")
        #expect(waitUntil(seconds: 30) { leases().count == 1 }, "\(coordinator.text.suffix(2000))")
        let second = try grid.worker("w2")
        #expect(waitUntil(seconds: 30) { grid.run.coordinatorLog.contains("-\(second.pid)-") })
        let killedAt = Date().timeIntervalSince1970
        first.kill9()
        #expect(waitUntil(seconds: 10) { leases().count == 2 })
        let rows = leases()
        try #require(rows.count == 2)
        let recovery = rows[1].at - killedAt
        print("a SIGKILLed worker's task leased again after \(String(format: "%.3f", recovery)) s (liveness timeout 3 s)")
        #expect(rows[0].worker.contains("-\(first.pid)-") && rows[1].worker.contains("-\(second.pid)-"))
        // Requeued by the dropped connection, not by the liveness timeout (no wall-clock bound: the time is printed).
        #expect(grid.run.coordinatorLog.contains("connection dropped"))
        #expect(!grid.run.coordinatorLog.contains("no heartbeat for"), "\(grid.run.coordinatorLog.suffix(2000))")
        try grid.finish(coordinator, [second])
    }
}
