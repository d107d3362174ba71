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
            (.workerHeartbeat(WorkerFigures(cpuSeconds: 3.25, residentBytes: 96 << 20)), .toCoordinator),
            (.workerHeartbeat(WorkerFigures(cpuSeconds: 0, residentBytes: 0)), .toCoordinator),
            (.task(TaskAssignment(task: digest, lease: "L1", attempt: 2, spec: spec,
                                  inputs: [TaskInput(task: digest, artifacts: [])], timeout: 60)), .toWorker),
            (.progress(Progress(task: digest, lease: "L1", fraction: 0.5, message: "half")), .toCoordinator),
            (.result(TaskResult(task: digest, lease: "L1", record: record)), .toCoordinator),
            (.fail(TaskFailure(task: digest, lease: "L1", error: "boom", logTail: "...")), .toCoordinator),
            (.fail(TaskFailure(task: digest, lease: "L1", error: "no such file", logTail: "", permanent: true)), .toCoordinator),
            (.ack(Ack(task: digest, lease: "L1", duplicate: true)), .toWorker),
            (.fetch(Fetch(sha256: digest, offset: 0, length: 1024)), .toCoordinator),
            (.chunk(Chunk(sha256: digest, offset: 2, total: 5, bytes: [1, 2, 3])), .toWorker),
            (.chunk(Chunk(sha256: digest, offset: 0, total: 0, bytes: [])), .toCoordinator),
            (.bye(Bye(reason: "done")), .toWorker),
            (.workerHello(WorkerHello(worker: "h-1-ab", host: "h", cores: 2, threads: 1, engine: "0.1.0", executors: ["noop"],
                                      pid: 42, commit: "a9a4476-dirty")), .toCoordinator),
            (.bye(Bye(reason: "another build", again: false, refused: true)), .toWorker),
        ]
    }

    @Test func everyMessageRoundTrips() throws {
        for (message, direction) in Self.samples {
            let frames = WireCodec.encode(message)
            #expect(frames[0] == Array("SMALLER".utf8) + [3])
            var expected = message
            // RESULT does not carry the spec (the coordinator puts its own back).
            if case .result(var r) = message { r.record.spec = .unsent; expected = .result(r) }
            #expect(try WireCodec.decode(frames, direction: direction) == expected, "\(message.command)")
        }
    }

    /// A FAIL without `permanent` (what workers before the field send) is a retryable failure; one with it says so.
    @Test func failWithoutPermanentIsRetryable() throws {
        let digest = String(repeating: "ab", count: 32)
        let frames = WireCodec.encode(.fail(TaskFailure(task: digest, lease: "L1", error: "e", logTail: "")))
        #expect(!String(decoding: frames[2], as: UTF8.self).contains("permanent"))
        guard case .fail(let f) = try WireCodec.decode(frames, direction: .toCoordinator) else { Issue.record("not a FAIL"); return }
        #expect(f.permanent == nil)
        let body = Array(#"{"task":"\#(digest)","lease":"L1","error":"e","logTail":"","permanent":true}"#.utf8)
        guard case .fail(let g) = try WireCodec.decode([frames[0], frames[1], body], direction: .toCoordinator) else {
            Issue.record("not a FAIL"); return
        }
        #expect(g.permanent == true)
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
        #expect(decodeError([Array("SMALLER".utf8) + [2], Array("READY".utf8), body]) == .unsupportedVersion(2))
        #expect(decodeError([Array("SMALLER".utf8) + [4], Array("READY".utf8), body]) == .unsupportedVersion(4))
        // READY's body is a 4-byte little-endian credit.
        #expect(decodeError([tag, Array("READY".utf8), []]) == .badField("credit"))
        #expect(decodeError([tag, Array("READY".utf8), [0, 0, 0, 0]]) == .badField("credit"))
        #expect(decodeError([tag, Array("READY".utf8), [0x01, 0x04, 0, 0]]) == .badField("credit"))
        #expect(decodeError([tag, Array("READY".utf8), [1, 0, 0, 0, 9]]) == .badField("READY: trailing bytes"))
        #expect(decodeError([tag, Array("HEARTBEAT".utf8), body], .toWorker) == .badField("HEARTBEAT: body must be empty"))
        // HELLO's commit is bounded like its engine version.
        let longCommit = WireCodec.encode(.workerHello(WorkerHello(worker: "w", host: "h", cores: 1, threads: 1, engine: "0",
                                                                   executors: [], pid: 1, commit: String(repeating: "c", count: 257))))
        #expect(decodeError(longCommit) == .badField("engine/commit/executors"))
        #expect(decodeError([tag, Array("DANCE".utf8), body]) == .unknownCommand("DANCE"))
        #expect(decodeError([tag, Array("TASK".utf8), body]) == .wrongDirection("TASK"))
        #expect(decodeError([tag, Array("ACK".utf8), body]) == .wrongDirection("ACK"))
        #expect(decodeError([tag, Array("READY".utf8), [1, 0, 0, 0], [1]]) == .unexpectedPayload("READY"))
        if case .badJSON = decodeError([tag, Array("FETCH".utf8), Array("{\"sha256\":".utf8)]) {} else { Issue.record("truncated JSON") }
        if case .badJSON = decodeError([tag, Array("HELLO".utf8), body]) {} else { Issue.record("missing fields") }
        let fetch = #"{"sha256":"../../etc/passwd","offset":0,"length":10}"#
        #expect(decodeError([tag, Array("FETCH".utf8), Array(fetch.utf8)]) == .badField("sha256"))
        let bigFetch = "{\"sha256\":\"\(Self.digest)\",\"offset\":0,\"length\":\(ProtocolConstants.chunkBytes + 1)}"
        #expect(decodeError([tag, Array("FETCH".utf8), Array(bigFetch.utf8)]) == .badField("offset/length"))
        let huge = [UInt8](repeating: 0x20, count: ProtocolConstants.maxMessageBytes + 1)
        #expect(decodeError([tag, Array("READY".utf8), huge]) == .tooLarge(huge.count + tag.count + 5))
    }

    /// A worker's HEARTBEAT figures: 16 bytes exactly, each figure in range; NaN, infinities, negatives and sizes
    /// past the limits are refused, never clamped, and only a worker's HEARTBEAT may carry them.
    @Test func heartbeatFiguresAreCheckedAndOnlyTravelToTheCoordinator() {
        let tag = ProtocolConstants.tag, command = Array("HEARTBEAT".utf8)
        func body(_ cpu: Double, _ rss: Int) -> [UInt8] {
            var w = BinaryWriter()
            w.f64(cpu); w.i64(rss)
            return w.bytes
        }
        func error(_ body: [UInt8], _ direction: Direction = .toCoordinator) -> WireError? {
            decodeError([tag, command, body], direction)
        }
        #expect(error(body(1.5, 4096)) == nil)
        #expect(error(body(ProtocolConstants.maxCPUSeconds, ProtocolConstants.maxResidentBytes)) == nil, "the limits themselves")
        let outOfRange = WireError.badField("cpuSeconds/residentBytes")
        for cpu in [Double.nan, -Double.nan, .infinity, -.infinity, -0.5, ProtocolConstants.maxCPUSeconds.nextUp] {
            #expect(error(body(cpu, 4096)) == outOfRange, "cpuSeconds \(cpu)")
        }
        for rss in [-1, Int.min, ProtocolConstants.maxResidentBytes + 1, Int.max] {
            #expect(error(body(1, rss)) == outOfRange, "residentBytes \(rss)")
        }
        #expect(error(Array(body(1, 1).prefix(7))) == .badField("cpuSeconds"))
        #expect(error(Array(body(1, 1).prefix(15))) == .badField("residentBytes"))
        #expect(error(body(1, 1) + [0]) == .badField("HEARTBEAT: trailing bytes"))
        #expect(error(body(1, 1), .toWorker) == .badField("HEARTBEAT: body must be empty"), "the coordinator's HEARTBEAT is empty")
        // A figure no coordinator would accept is never put on the wire: the worker sends an empty HEARTBEAT.
        #expect(!WorkerFigures(cpuSeconds: .nan, residentBytes: 1).isValid && !WorkerFigures(cpuSeconds: 1, residentBytes: -1).isValid)
    }

    /// Binary bodies: lengths beyond the body, invalid UTF-8, hostile nesting and unknown tags are typed errors.
    @Test func malformedBinaryBodiesGiveTypedErrors() {
        let tag = ProtocolConstants.tag
        func ack(_ body: [UInt8]) -> WireError? { decodeError([tag, Array("ACK".utf8), body], .toWorker) }
        var w = BinaryWriter()
        w.string(Self.digest); w.string("L1"); w.bool(false)
        #expect(ack(w.bytes) == nil)
        // A string length far beyond the body.
        #expect(ack([0xFF, 0xFF, 0xFF, 0x7F] + Array(w.bytes.dropFirst(4))) == .badField("task"))
        // Invalid UTF-8 in the lease.
        var bad = BinaryWriter()
        bad.string(Self.digest); bad.u32(2); bad.u8(0xC3); bad.u8(0x28); bad.bool(false)
        #expect(ack(bad.bytes) == .badField("lease"))
        // A boolean that is neither 0 nor 1.
        var notBool = w.bytes
        notBool[notBool.count - 1] = 7
        #expect(ack(notBool) == .badField("duplicate"))
        // Values nested deeper than the reader allows, and an unknown value tag.
        var deep = BinaryReader((0..<40).flatMap { _ in [UInt8(5), 1, 0, 0, 0] } + [2])
        #expect(throws: WireError.badField("v")) { _ = try deep.value("v") }
        var unknown = BinaryReader([9])
        #expect(throws: WireError.badField("v")) { _ = try unknown.value("v") }
        // An array claiming more items than bytes are left.
        var huge = BinaryReader([5, 0xFF, 0xFF, 0xFF, 0xFF])
        #expect(throws: WireError.badField("v")) { _ = try huge.value("v") }
        // A TASK whose spec names an unknown kind.
        var task = BinaryWriter()
        task.string(Self.digest); task.string("L1"); task.i64(1); task.f64(60); task.string("dance")
        #expect(decodeError([tag, Array("TASK".utf8), task.bytes], .toWorker) == .badField("spec.kind"))
    }

    /// Every Value shape survives the binary body (a spec's params and a record's metrics travel this way).
    @Test func valuesRoundTripInBinary() throws {
        let params: [String: Value] = ["b": .bool(true), "f": .bool(false), "i": .int(-7), "d": .double(0.25),
                                       "s": .string("é\n\"x"), "a": .array([.int(1), .array([]), .object([:])]),
                                       "o": .object(["nested": .object(["k": .double(-1e300)])])]
        let spec = TaskSpec(kind: .finetune, executor: "engine", seed: 3, language: "hau",
                            setting: CompressionSetting(family: "prune", fields: ["sparsity": .double(0.5)], label: "prune sparsity=0.5"),
                            params: params, inputs: [Self.digest])
        let message = Message.task(TaskAssignment(task: Self.digest, lease: "L9", attempt: 1, spec: spec,
            inputs: [TaskInput(task: Self.digest, artifacts: [ArtifactRef(name: "checkpoint.safetensors", sha256: Self.digest, bytes: 1 << 40)])],
            timeout: 3600))
        #expect(try WireCodec.decode(WireCodec.encode(message), direction: .toWorker) == message)
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
