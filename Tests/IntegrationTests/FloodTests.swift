// A greeted peer flooding HEARTBEATs during a grid: the coordinator drops what is over the peer's message rate
// and counts it, its memory stays bounded, and the honest workers are never limited: the grid finishes with
// every task once.
import Experiment
import Foundation
import Testing
import TestSupport
import Wire

@Suite(.serialized, .enabled(if: Smaller.available, Smaller.unavailable)) struct FloodTests {
    /// Resident memory of a process in MiB (`VmRSS` in /proc), 0 when unreadable.
    static func residentMiB(_ pid: Int32) -> Double {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return kb / 1024
    }

    @Test func aPeerFloodingHeartbeatsIsCutToItsRateAndTheGridFinishes() throws {
        let dir = try Fixtures.temporaryDirectory("flood")
        defer { try? FileManager.default.removeItem(at: dir) }
        let grid = try LoopbackGrid("name: flood\nnoop: {tasks: 300, seconds: 0.05}\n", in: dir)
        let coordinator = try grid.coordinator()
        let workers = try ["wa", "wb"].map { try grid.worker($0) }
        #expect(waitUntil(seconds: 30) { grid.run.exportedIDs.count >= 3 })
        let before = Self.residentMiB(coordinator.pid)

        let context = try ZMQContext()
        let flooder = try ZMQSocket.workerDealer(context, routingID: "flooder-1", connect: grid.endpoint, curve: nil)
        // Greeted, with no executor the grid needs and no READY: it is never granted a lease.
        try flooder.send(WireCodec.encode(.workerHello(WorkerHello(worker: "flooder-1", host: "h", cores: 1, threads: 1,
                                                                   engine: BuildInfo.version, executors: ["none"],
                                                                   pid: 1, commit: BuildInfo.commit))))
        var welcomed = false
        #expect(waitUntil(seconds: 10) {
            while let frames = try? flooder.receive(timeoutMs: 0) { if frames.count > 1, frames[1] == Array("HELLO".utf8) { welcomed = true } }
            return welcomed
        })
        let heartbeat = WireCodec.encode(.heartbeat)
        let flood = 150_000
        var sent = 0
        let start = Date()
        while sent < flood, Date().timeIntervalSince(start) < 30 {
            for _ in 0..<1000 where try flooder.trySend(heartbeat) { sent += 1 }
            while let _ = try? flooder.receive(timeoutMs: 0) {}
        }
        func dropped() -> Int {
            let status = (try? JSONSerialization.jsonObject(with: Data(grid.run.statusText.utf8))) as? [String: Any]
            return status?["overRateMessages"] as? Int ?? 0
        }
        // At most 200 HEARTBEATs a second pass (after a burst of 200): once the coordinator has read the flood,
        // all but those are dropped.
        func passable() -> Int { 200 * (Int(Date().timeIntervalSince(start)) + 2) }
        let drained = waitUntil(seconds: 60) { coordinator.process.isRunning && dropped() >= sent - passable() }
        let after = Self.residentMiB(coordinator.pid)
        let counted = dropped()
        print("flood: \(sent) HEARTBEATs, \(counted) dropped over the rate within \(String(format: "%.1f", Date().timeIntervalSince(start))) s; coordinator RSS \(Int(before)) → \(Int(after)) MiB")
        #expect(sent == flood)
        #expect(drained, "\(counted) of \(sent) dropped; at most \(passable()) may pass")
        try grid.finish(coordinator, workers)
        let limited = grid.run.coordinatorLog.split(separator: "\n").filter { $0.contains("over its message rate") }
        #expect(!limited.isEmpty && limited.allSatisfy { $0.contains("flooder-1") }, "\(limited.prefix(5))")
        // Bounded by the ROUTER's queue limit (100,000 messages per peer), not by the flood's length.
        #expect(after - before < 256, "coordinator RSS grew from \(before) to \(after) MiB")
    }
}
