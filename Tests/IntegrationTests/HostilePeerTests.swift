// Live processes under thousands of hostile messages. A coordinator gets random frames and mutations of valid
// messages of every command, from a peer that never said HELLO and from one that greets and then misbehaves, while
// two workers run a grid: it must not crash, must drop and count the senders, and the grid must finish with every
// task exactly once. A worker gets the same from a fake coordinator: it must reconnect each time and still run a
// task afterwards.
import Experiment
import Foundation
import Testing
import TestSupport
import Wire

@Suite(.serialized, .enabled(if: Smaller.available)) struct HostilePeerTests {
    static let digests = (0..<4).map { String(repeating: String(format: "%02x", 0x11 * ($0 + 1)), count: 32) }

    /// Valid messages to the coordinator of every command; READY only for the peer that cannot be greeted (a
    /// greeted one would be granted leases it never runs).
    static func seeds(worker: String, withReady: Bool) -> [[[UInt8]]] {
        let d = digests[0]
        let record = ResultRecord(taskID: d, spec: .unsent, status: "done", metrics: ["f1": .double(0.5)],
                                  artifacts: [ArtifactRef(name: "out.bin", sha256: digests[1], bytes: 3)],
                                  engineVersion: "x", host: "h", worker: worker, threads: 1, attempt: 1, startedAt: 0, endedAt: 1,
                                  logTail: "tail")
        var messages: [Message] = [
            .workerHello(WorkerHello(worker: worker, host: "h", cores: 1, threads: 1, engine: BuildInfo.version, executors: ["noop"],
                                     pid: 1, commit: BuildInfo.commit)),
            .heartbeat,
            .progress(Progress(task: d, lease: "forged-1", fraction: 0.5, message: "half")),
            .result(TaskResult(task: d, lease: "forged-1", record: record)),
            .fail(TaskFailure(task: d, lease: "forged-1", error: "e", logTail: "t")),
            .fetch(Fetch(sha256: digests[2], offset: 0, length: 1024)),
            .chunk(Chunk(sha256: digests[3], offset: 0, total: 8, bytes: [1, 2, 3, 4])),
            .chunk(Chunk(sha256: digests[3], offset: 4, total: 8, bytes: [5, 6, 7, 8])),
            .bye(Bye(reason: "bye")),
        ]
        if withReady { messages.append(.ready(Ready(credit: 4))) }
        return messages.map { WireCodec.encode($0) }
    }

    static let extremes = ["9223372036854775807", "-9223372036854775808", "9223372036854775806", "1e308", "-1",
                           "18446744073709551616", "4294967295"]

    /// One mutation of a valid message: byte flips, cuts, insertions, extreme numbers in JSON, all-ones length
    /// fields in binary bodies, dropped or doubled frames.
    static func mutate(_ frames: [[UInt8]], _ rng: inout TestRandom) -> [[UInt8]] {
        var out = frames
        let f = rng.below(out.count)
        switch rng.below(7) {
        case 0:
            for _ in 0..<(1 + rng.below(4)) where !out[f].isEmpty {
                out[f][rng.below(out[f].count)] = UInt8(truncatingIfNeeded: rng.next())
            }
        case 1: out[f] = Array(out[f].prefix(rng.below(out[f].count + 1)))
        case 2:
            let at = rng.below(out[f].count + 1)
            out[f].insert(contentsOf: (0..<(1 + rng.below(8))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: at)
        case 3:
            // A number in a JSON body replaced by an extreme one (CHUNK offsets near Int64.max among them).
            var text = String(decoding: out[min(2, out.count - 1)], as: UTF8.self)
            if let r = text.range(of: "[0-9]+", options: .regularExpression,
                                  range: text.index(text.startIndex, offsetBy: rng.below(max(1, text.count)))..<text.endIndex) {
                text.replaceSubrange(r, with: extremes[rng.below(extremes.count)])
                out[min(2, out.count - 1)] = Array(text.utf8)
            }
        case 4:
            let body = min(2, out.count - 1)
            if out[body].count >= 4 {
                let at = rng.below(out[body].count - 3)
                let word: [UInt8] = rng.below(2) == 0 ? [0xFF, 0xFF, 0xFF, 0xFF] : [0xFF, 0xFF, 0xFF, 0x7F]
                out[body].replaceSubrange(at..<(at + 4), with: word)
            }
        case 5: out.remove(at: f)
        default: out.insert(out[f], at: f)
        }
        return out
    }

    static func chunkFrames(offset: Int, total: Int, payload: [UInt8]) -> [[UInt8]] {
        let header = "{\"sha256\":\"\(digests[3])\",\"offset\":\(offset),\"total\":\(total)}"
        return [ProtocolConstants.tag, Array("CHUNK".utf8), Array(header.utf8), payload]
    }

    @Test func thousandsOfHostileMessagesLeaveTheGridWhole() throws {
        let dir = try Fixtures.temporaryDirectory("hostile")
        defer { try? FileManager.default.removeItem(at: dir) }
        // Retries to spare: a greeted hostile peer holds no lease, but a worker's attempt may still be charged
        // by a restart of its connection; the test is about the coordinator surviving, not about attempt counts.
        let yaml = "name: hostile\nnoop: {tasks: 100, seconds: 0.08}\nexecution: {noop_output_bytes: 3000, max_attempts: 20}\n"
        let grid = try LoopbackGrid(yaml, in: dir)
        let (run, endpoint) = (grid.run, grid.endpoint)
        let coordinator = try grid.coordinator()
        let workers = try ["wa", "wb"].map { try grid.worker($0) }
        #expect(waitUntil(seconds: 20) { run.exportedIDs.count >= 3 })

        let context = try ZMQContext()
        let stranger = try ZMQSocket(context, .dealer)  // a random routing id: its HELLO can never be accepted
        try stranger.connect(endpoint)
        let greeted = try ZMQSocket.workerDealer(context, routingID: "hostile-1", connect: endpoint, curve: nil)
        let strangerSeeds = Self.seeds(worker: "stranger", withReady: true)
        let greetedSeeds = Self.seeds(worker: "hostile-1", withReady: false)
        var rng = TestRandom(seed: 12)
        var sent = 0
        for i in 0..<3000 {
            switch i % 10 {
            case 0: try stranger.send((0..<(1 + rng.below(5))).map { _ in (0..<rng.below(80)).map { _ in UInt8(truncatingIfNeeded: rng.next()) } })
            case 1:
                // Issue #12's crash: a CHUNK at an offset near Int64.max with a 1-byte payload, after a HELLO.
                try greeted.send(greetedSeeds[0])
                try greeted.send(Self.chunkFrames(offset: Int.max - rng.below(2), total: Int.max, payload: [1]))
            case 2, 3, 4: try stranger.send(Self.mutate(strangerSeeds[rng.below(strangerSeeds.count)], &rng))
            default:
                if i % 50 == 5 { try greeted.send(greetedSeeds[0]) }  // greet again after being dropped
                try greeted.send(Self.mutate(greetedSeeds[rng.below(greetedSeeds.count)], &rng))
            }
            sent += 1
            // Read the replies (BYEs, CHUNKs) so neither side's queue fills.
            while let _ = try? stranger.receive(timeoutMs: 0) {}
            while let _ = try? greeted.receive(timeoutMs: 0) {}
        }
        #expect(sent == 3000)
        // The barrage hit a coordinator with work left, not one that had finished.
        #expect(coordinator.process.isRunning && run.exportedIDs.count < 100, "the grid ended before the barrage did")

        try grid.finish(coordinator, workers)
        let status = (try? JSONSerialization.jsonObject(with: Data(run.statusText.utf8))) as? [String: Any]
        let malformed = status?["malformedMessages"] as? Int ?? 0
        #expect(malformed >= 300, "status.json counts the dropped messages: \(malformed)")
        #expect(run.coordinatorLog.contains("offset/total"))
        #expect(!coordinator.text.contains("Fatal error") && !coordinator.text.contains("crashed"))
    }

    /// The fake coordinator's side of one connection: waits for the worker's HELLO (acknowledging any RESULT or
    /// FAIL it resends meanwhile), welcomes it, and returns its routing id.
    static func greet(_ router: ZMQSocket, within seconds: Double) throws -> [UInt8]? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            guard let frames = try router.receive(timeoutMs: 50), frames.count > 1,
                  let message = try? WireCodec.decode(Array(frames.dropFirst()), direction: .toCoordinator) else { continue }
            let id = frames[0]
            switch message {
            case .workerHello:
                try router.send([id] + WireCodec.encode(.coordinatorHello(CoordinatorHello(run: "fake", heartbeatInterval: 1, liveness: 5))))
                return id
            case .result(let r): try router.send([id] + WireCodec.encode(.ack(Ack(task: r.task, lease: r.lease, duplicate: false))))
            case .fail(let f): try router.send([id] + WireCodec.encode(.ack(Ack(task: f.task, lease: f.lease, duplicate: false))))
            default: break
            }
        }
        return nil
    }

    static func noopTask(_ lease: String) -> Message {
        .task(TaskAssignment(task: digests[0], lease: lease, attempt: 1, spec: TaskSpec(kind: .noop, executor: "noop", params: [:]),
                             inputs: [], timeout: 60))
    }

    @Test func workerSurvivesAHostileCoordinatorAndStillWorks() throws {
        let dir = try Fixtures.temporaryDirectory("hostilecoord")
        defer { try? FileManager.default.removeItem(at: dir) }
        let endpoint = "tcp://127.0.0.1:\(freePort())"
        let context = try ZMQContext()
        let router = try ZMQSocket.coordinatorRouter(context, bind: endpoint, curve: nil)
        let worker = try Child(["worker", "--connect", endpoint, "--dir", dir.appendingPathComponent("w").path], in: dir, name: "worker")
        // Valid messages to a worker, BYE left out (a valid one tells it to exit); CHUNKs it never asked for.
        var seeds: [[[UInt8]]] = [
            WireCodec.encode(.coordinatorHello(CoordinatorHello(run: "fake", heartbeatInterval: 1, liveness: 5))),
            WireCodec.encode(.heartbeat),
            WireCodec.encode(.ack(Ack(task: Self.digests[0], lease: "L0", duplicate: false))),
            WireCodec.encode(.chunk(Chunk(sha256: Self.digests[1], offset: 0, total: 4, bytes: [1, 2]))),
        ]
        var rng = TestRandom(seed: 13)
        var sent = 0
        for round in 0..<100 {
            guard let id = try Self.greet(router, within: 15) else {
                Issue.record("round \(round): the worker did not say HELLO again: \(worker.text.suffix(2000))")
                break
            }
            seeds.append(WireCodec.encode(Self.noopTask("L\(round)")))
            // Every fifth round opens with issue #12's crash toward the worker; the first malformed message of a
            // round makes the worker drop the connection (the rest are lost with it), so it comes first.
            if round % 5 == 0 {
                try router.send([id] + Self.chunkFrames(offset: Int.max, total: Int.max, payload: [1]))
                sent += 1
            }
            while sent < (round + 1) * 30 - 1 {
                try router.send([id] + Self.mutate(seeds[rng.below(seeds.count)], &rng))
                sent += 1
            }
            // Garbage ends every round, so the worker reconnects even if each mutation above decoded.
            try router.send([id, [0x00], [0x01], [0x02]])
            sent += 1
        }
        #expect(sent == 3000)
        #expect(worker.process.isRunning, "\(worker.text.suffix(2000))")
        // A clean connection afterwards: the worker runs a task and reports it.
        let id = try #require(try Self.greet(router, within: 15))
        try router.send([id] + WireCodec.encode(Self.noopTask("final")))
        var finished = false
        let deadline = Date().addingTimeInterval(15)
        while !finished, Date() < deadline {
            guard let frames = try router.receive(timeoutMs: 50), frames.count > 1,
                  case .result(let r)? = try? WireCodec.decode(Array(frames.dropFirst()), direction: .toCoordinator) else { continue }
            try router.send([frames[0]] + WireCodec.encode(.ack(Ack(task: r.task, lease: r.lease, duplicate: false))))
            finished = r.lease == "final"
        }
        #expect(finished, "no RESULT for the final task: \(worker.text.suffix(2000))")
        try router.send([id] + WireCodec.encode(.bye(Bye(reason: "done", again: false))))
        #expect(worker.wait(seconds: 15, "worker") == 0)
        #expect(worker.text.contains("malformed message from the coordinator"))
        #expect(worker.text.contains("offset/total"))
    }
}
