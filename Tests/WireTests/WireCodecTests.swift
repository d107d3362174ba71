// WireCodec: every message round-trips; malformed frames give typed errors; random bytes never trap.
import Experiment
import Foundation
import Testing
import TestSupport
@testable import Wire

@Suite struct WireCodecTests {
    static let digest = String(repeating: "ab", count: 32)
    static let spec = TaskSpec(kind: .noop, executor: "noop", params: ["noop": .object(["seconds": .double(0)])])

    static var samples: [(Message, Direction)] {
        let record = ResultRecord(taskID: digest, spec: spec, status: "done", metrics: ["x": .double(1)],
                                  artifacts: [ArtifactRef(name: "log.txt", sha256: digest, bytes: 3)],
                                  engineVersion: "0.1.0", host: "h", worker: "w", threads: 1, attempt: 1,
                                  startedAt: 0, endedAt: 1)
        return [
            (.workerHello(WorkerHello(worker: "h-1-ab", host: "h", cores: 2, threads: 1, engine: "0.1.0",
                                      executors: ["noop"], current: "L7", pid: 42, prefetch: 8)), .toCoordinator),
            (.coordinatorHello(CoordinatorHello(run: "r1", heartbeatInterval: 1, liveness: 3)), .toWorker),
            (.ready(Ready(credit: 3)), .toCoordinator),
            (.heartbeat, .toCoordinator),
            (.heartbeat, .toWorker),
            (.task(TaskAssignment(task: digest, lease: "L1", attempt: 2, spec: spec,
                                  inputs: [TaskInput(task: digest, artifacts: [])], timeout: 60)), .toWorker),
            (.progress(Progress(task: digest, lease: "L1", fraction: 0.5, message: "half")), .toCoordinator),
            (.result(TaskResult(task: digest, lease: "L1", record: record)), .toCoordinator),
            (.fail(TaskFailure(task: digest, lease: "L1", error: "boom", logTail: "...")), .toCoordinator),
            (.ack(Ack(task: digest, lease: "L1", duplicate: true)), .toWorker),
            (.fetch(Fetch(sha256: digest, offset: 0, length: 1024)), .toCoordinator),
            (.chunk(Chunk(sha256: digest, offset: 2, total: 5, bytes: [1, 2, 3])), .toWorker),
            (.chunk(Chunk(sha256: digest, offset: 0, total: 0, bytes: [])), .toCoordinator),
            (.bye(Bye(reason: "done")), .toWorker),
        ]
    }

    @Test func everyMessageRoundTrips() throws {
        for (message, direction) in Self.samples {
            let frames = WireCodec.encode(message)
            #expect(frames[0] == Array("SMALLER".utf8) + [2])
            #expect(try WireCodec.decode(frames, direction: direction) == message, "\(message.command)")
        }
    }

    func decodeError(_ frames: [[UInt8]], _ direction: Direction = .toCoordinator) -> WireError? {
        do { _ = try WireCodec.decode(frames, direction: direction); return nil } catch { return error }
    }

    @Test func malformedInputGivesTypedErrors() {
        let tag = ProtocolConstants.tag
        let body = Array("{}".utf8)
        #expect(decodeError([tag, Array("READY".utf8)]) == .badFrameCount(2))
        #expect(decodeError([Array("NOTSMALL".utf8) , Array("READY".utf8), body]) == .badTag)
        #expect(decodeError([Array("SMALLER".utf8) + [1], Array("READY".utf8), body]) == .unsupportedVersion(1))
        #expect(decodeError([Array("SMALLER".utf8) + [3], Array("READY".utf8), body]) == .unsupportedVersion(3))
        if case .badJSON = decodeError([tag, Array("READY".utf8), body]) {} else { Issue.record("READY without credit") }
        #expect(decodeError([tag, Array("READY".utf8), Array(#"{"credit":0}"#.utf8)]) == .badField("credit"))
        #expect(decodeError([tag, Array("READY".utf8), Array(#"{"credit":1025}"#.utf8)]) == .badField("credit"))
        #expect(decodeError([tag, Array("DANCE".utf8), body]) == .unknownCommand("DANCE"))
        #expect(decodeError([tag, Array("TASK".utf8), body]) == .wrongDirection("TASK"))
        #expect(decodeError([tag, Array("ACK".utf8), body]) == .wrongDirection("ACK"))
        #expect(decodeError([tag, Array("READY".utf8), Array(#"{"credit":1}"#.utf8), [1]]) == .unexpectedPayload("READY"))
        if case .badJSON = decodeError([tag, Array("FETCH".utf8), Array("{\"sha256\":".utf8)]) {} else { Issue.record("truncated JSON") }
        if case .badJSON = decodeError([tag, Array("HELLO".utf8), body]) {} else { Issue.record("missing fields") }
        let fetch = #"{"sha256":"../../etc/passwd","offset":0,"length":10}"#
        #expect(decodeError([tag, Array("FETCH".utf8), Array(fetch.utf8)]) == .badField("sha256"))
        let bigFetch = "{\"sha256\":\"\(Self.digest)\",\"offset\":0,\"length\":\(ProtocolConstants.chunkBytes + 1)}"
        #expect(decodeError([tag, Array("FETCH".utf8), Array(bigFetch.utf8)]) == .badField("offset/length"))
        let huge = [UInt8](repeating: 0x20, count: ProtocolConstants.maxMessageBytes + 1)
        #expect(decodeError([tag, Array("READY".utf8), huge]) == .tooLarge(huge.count + tag.count + 5))
    }

    @Test func pathsCannotHideInArtifactNames() {
        for bad in ["", ".", "..", "../x", "a/b", ".hidden", "a\\b", "x\0y", String(repeating: "a", count: 200)] {
            #expect(!ArtifactName.isSafe(bad), "\(bad)")
        }
        for good in ["checkpoint.safetensors", "log.txt", "metrics-2.json"] { #expect(ArtifactName.isSafe(good)) }
    }

    @Test func randomAndTruncatedFramesNeverTrap() {
        var rng = TestRandom(seed: 7)
        var valid = 0
        for (message, direction) in Self.samples {
            let frames = WireCodec.encode(message)
            // Every truncation of every frame, and random byte flips: each decodes or throws, nothing else.
            for f in frames.indices {
                for cut in 0..<min(frames[f].count, 64) {
                    var broken = frames
                    broken[f] = Array(frames[f].prefix(cut))
                    if (try? WireCodec.decode(broken, direction: direction)) != nil { valid += 1 }
                }
            }
            for _ in 0..<200 {
                var broken = frames
                let f = rng.below(broken.count)
                if !broken[f].isEmpty {
                    broken[f][rng.below(broken[f].count)] = UInt8(truncatingIfNeeded: rng.next())
                }
                _ = try? WireCodec.decode(broken, direction: direction)
            }
        }
        for _ in 0..<500 {
            let frames = (0..<(1 + rng.below(5))).map { _ in (0..<rng.below(40)).map { _ in UInt8(truncatingIfNeeded: rng.next()) } }
            #expect((try? WireCodec.decode(frames, direction: .toCoordinator)) == nil)
        }
    }
}
