// Coordinator restarts under long tasks, with the real binary: SIGKILLed three times while two workers run,
// back after 0.3 s (the workers never notice the silence) or after longer than their liveness period (they
// do). Every task must be done exactly once, by its first lease, with no attempt charged.
import Experiment
import Foundation
import GRDB
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized, .enabled(if: Smaller.available, Smaller.unavailable)) struct RestartTests {
    /// Runs two `seconds`-long noop tasks on two workers, SIGKILLing the coordinator `apart` seconds after it
    /// (re)started and starting the next one `down` seconds later, three times; then checks the journal.
    func restartThreeTimes(down: Double, apart: Double, seconds: Double, name: String) throws {
        let dir = try Fixtures.temporaryDirectory(name)
        defer { try? FileManager.default.removeItem(at: dir) }
        let grid = try LoopbackGrid("name: \(name)\nnoop: {tasks: 2, seconds: \(seconds)}\n", in: dir)
        let run = grid.run
        var current = try grid.coordinator(name: "coordinator0")
        let a = try grid.worker("wa"), b = try grid.worker("wb")
        let bothLeased = waitUntil(seconds: 20) { ((try? run.states()) ?? [:]).values.filter { $0 == "leased" }.count == 2 }
        try #require(bothLeased, "both tasks leased: \(current.text.suffix(2000))")
        for n in 1...3 {
            Thread.sleep(forTimeInterval: apart)
            #expect(try run.resultCount().rows == 0, "restart \(n) came after a task ended: the tasks are too short")
            current.kill9()
            Thread.sleep(forTimeInterval: down)
            current = try grid.coordinator(name: "coordinator\(n)")
        }
        #expect(current.wait(seconds: seconds + 30, "last coordinator") == 0)
        a.wait(seconds: 15, "worker a")
        b.wait(seconds: 15, "worker b")
        try grid.expectEveryTaskOnce()
        let planned = Set(try JobSpec.parse(yaml: grid.yaml).plan().tasks.map(\.id))
        let records = try run.exportedRecords()
        #expect(records.allSatisfy { $0.attempt == 1 }, "attempts: \(records.map(\.attempt))")
        let charged = try run.events("attempt-failed") + run.events("failed")
        #expect(charged.isEmpty, "attempts charged: \(charged.map(\.detail))")
        // One lease per task across all four coordinators: never granted a second time.
        let leases = try run.query { try Row.fetchAll($0, sql: "SELECT task, worker FROM leases") }
        #expect(leases.count == 2 && Set(leases.map { $0["task"] as String }) == planned, "leases: \(leases)")
        // Each record was made by the worker its one lease went to.
        for row in leases {
            let task: String = row["task"]
            #expect(records.first { $0.taskID == task }?.worker == row["worker"])
        }
        let logs = (0...3).map { (try? String(contentsOf: dir.appendingPathComponent("coordinator\($0).out"), encoding: .utf8)) ?? "" }
        #expect(!logs.joined().contains("protocol error"), "\(logs.joined().suffix(3000))")
    }

    /// Back after 0.3 s: the workers' sockets reconnect underneath, so their queued messages reach the new
    /// coordinator before any HELLO; it asks them to say HELLO and re-adopts their leases.
    @Test func fastRestartsDuringLongTasksChargeNothing() throws {
        try restartThreeTimes(down: 0.3, apart: 2.5, seconds: 12, name: "restartfast")
    }

    /// Down for longer than the liveness period (3 s): the workers reconnect with back-off and say HELLO first.
    @Test func slowRestartsDuringLongTasksChargeNothing() throws {
        try restartThreeTimes(down: 3.5, apart: 1.5, seconds: 17, name: "restartslow")
    }
}
