// Bounded uploads with the real binary: peers open thousands of uploads (offset-0 CHUNKs of distinct digests
// that never finish) at a coordinator limited to 300 file descriptors, while two workers run a grid whose
// tasks upload artifacts. The coordinator must refuse what is beyond its limits, and still export every record.
import Experiment
import Foundation
import Testing
import TestSupport
import Wire

@Suite(.serialized, .enabled(if: Smaller.available, Smaller.unavailable)) struct UploadLimitTests {
    @Test func thousandsOfOpenUploadsUnderALowFileLimitLeaveTheGridWhole() throws {
        let dir = try Fixtures.temporaryDirectory("uploads")
        defer { try? FileManager.default.removeItem(at: dir) }
        let grid = try LoopbackGrid("name: uploads\nnoop: {tasks: 60, seconds: 0.1}\nexecution: {noop_output_bytes: 2000}\n", in: dir)
        let (run, endpoint) = (grid.run, grid.endpoint)
        let coordinator = try grid.coordinator(shell: "ulimit -n 300")
        let workers = try ["wa", "wb"].map { try grid.worker($0) }
        #expect(waitUntil(seconds: 20) { run.exportedIDs.count >= 3 }, "\(coordinator.text.suffix(2000))")

        let context = try ZMQContext()
        var rng = TestRandom(seed: 21)
        var opened = 0
        for p in 0..<5 {
            let peer = try ZMQSocket.workerDealer(context, routingID: "uploader-\(p)", connect: endpoint, curve: nil)
            // Greeted peers (no executors: never granted a task) and, the last, one that never says HELLO.
            if p < 4 {
                try peer.send(WireCodec.encode(.workerHello(WorkerHello(worker: "uploader-\(p)", host: "h", cores: 1, threads: 1,
                                                                       engine: BuildInfo.version, executors: [], pid: 1,
                                                                       commit: BuildInfo.commit))))
            }
            for _ in 0..<1000 {
                let digest = (0..<32).map { _ in String(format: "%02x", UInt8(truncatingIfNeeded: rng.next())) }.joined()
                try peer.send(WireCodec.encode(.chunk(Chunk(sha256: digest, offset: 0, total: 1 << 20, bytes: [1, 2, 3, 4]))))
                opened += 1
                while let _ = try? peer.receive(timeoutMs: 0) {}
            }
        }
        #expect(opened == 5000)
        #expect(coordinator.process.isRunning && run.exportedIDs.count < 60, "the grid ended before the uploads did")

        try grid.finish(coordinator, workers)
        #expect(!run.statusText.contains("exportErrors"), "\(run.statusText)")
        #expect(run.coordinatorLog.contains("uploads of this peer are open"), "\(run.coordinatorLog.suffix(3000))")
        // At most the limit of partial files was ever open: the rest were refused before touching the disk.
        let partials = (try? FileManager.default.contentsOfDirectory(atPath: run.url.appendingPathComponent("artifacts/incoming").path)) ?? []
        #expect(partials.count <= 64, "\(partials.count) partial uploads on disk")
    }
}
