// Every limit of ProtocolConstants that guards decoding: a value just inside is accepted, just outside is a typed
// error; offsets and sizes near Int64.max (issue #12's crash) are errors, not traps, in the codec and the store.
import Experiment
import Foundation
import Testing
import TestSupport
@testable import Wire

@Suite struct WireLimitsTests {
    static let digest = WireCodecTests.digest
    static let tag = ProtocolConstants.tag

    func decodeError(_ frames: [[UInt8]], _ direction: Direction) -> WireError? {
        do { _ = try WireCodec.decode(frames, direction: direction); return nil } catch { return error }
    }

    func chunkFrames(offset: Int, total: Int, bytes: [UInt8]) -> [[UInt8]] {
        let header = "{\"sha256\":\"\(Self.digest)\",\"offset\":\(offset),\"total\":\(total)}"
        return [Self.tag, Array("CHUNK".utf8), Array(header.utf8), bytes]
    }

    /// Issue #12, item 1: a CHUNK at an offset near Int64.max with a 1-byte payload trapped on `offset + count`.
    @Test func chunkNearInt64MaxIsAnErrorBothWays() {
        for direction in [Direction.toCoordinator, .toWorker] {
            for (offset, total) in [(Int.max, Int.max), (Int.max - 1, Int.max), (Int.max, 1), (1, Int.max), (Int.min, 0)] {
                #expect(decodeError(chunkFrames(offset: offset, total: total, bytes: [7]), direction) == .badField("offset/total"),
                        "offset \(offset) total \(total)")
            }
        }
    }

    @Test func chunkRangeLimits() {
        let max = ProtocolConstants.maxArtifactBytes
        let ok: [(Int, Int, Int)] = [(0, 0, 0), (0, 1, 1), (max - 1, 1, max), (max, 0, max), (3, 2, 5)]
        for (offset, count, total) in ok {
            #expect(decodeError(chunkFrames(offset: offset, total: total, bytes: [UInt8](repeating: 1, count: count)), .toCoordinator) == nil,
                    "offset \(offset) count \(count) total \(total)")
        }
        let bad: [(Int, Int, Int)] = [(max, 1, max), (0, 0, max + 1), (-1, 1, 5), (4, 2, 5), (0, 2, 1), (0, 0, -1)]
        for (offset, count, total) in bad {
            #expect(decodeError(chunkFrames(offset: offset, total: total, bytes: [UInt8](repeating: 1, count: count)), .toCoordinator)
                    == .badField("offset/total"), "offset \(offset) count \(count) total \(total)")
        }
        let big = [UInt8](repeating: 0, count: ProtocolConstants.chunkBytes + 1)
        #expect(decodeError(chunkFrames(offset: 0, total: big.count, bytes: big), .toWorker) == .badField("offset/total"))
    }

    /// The overflow-safe range check against a reference in 128-bit arithmetic, which cannot overflow.
    @Test func rangeCheckMatchesWideArithmetic() {
        var rng = TestRandom(seed: 12)
        let edges = [0, 1, 2, ProtocolConstants.chunkBytes, ProtocolConstants.maxArtifactBytes - 1, ProtocolConstants.maxArtifactBytes,
                     ProtocolConstants.maxArtifactBytes + 1, Int.max - 1, Int.max, -1, Int.min]
        func pick() -> Int {
            rng.below(3) == 0 ? Int(truncatingIfNeeded: rng.next()) : edges[rng.below(edges.count)] &+ (rng.below(3) - 1)
        }
        for _ in 0..<20_000 {
            let offset = pick(), count = pick(), total = pick()
            let wide = Int128(offset) + Int128(count)
            let expected = offset >= 0 && count >= 0 && total <= ProtocolConstants.maxArtifactBytes && wide <= Int128(total)
            #expect(WireCodec.isValidRange(offset: offset, count: count, total: total) == expected,
                    "offset \(offset) count \(count) total \(total)")
        }
    }

    @Test func fetchOffsetLimit() {
        func fetch(_ offset: Int) -> WireError? {
            let body = "{\"sha256\":\"\(Self.digest)\",\"offset\":\(offset),\"length\":1024}"
            return decodeError([Self.tag, Array("FETCH".utf8), Array(body.utf8)], .toCoordinator)
        }
        #expect(fetch(ProtocolConstants.maxArtifactBytes) == nil)
        #expect(fetch(ProtocolConstants.maxArtifactBytes + 1) == .badField("offset/length"))
        #expect(fetch(Int.max) == .badField("offset/length"))
        #expect(fetch(-1) == .badField("offset/length"))
    }

    @Test func frameAndCommandLimits() {
        let ready: [UInt8] = [1, 0, 0, 0]
        #expect(decodeError([Self.tag, Array("READY".utf8)], .toCoordinator) == .badFrameCount(ProtocolConstants.minFrames - 1))
        #expect(decodeError([Self.tag, Array("CHUNK".utf8), [], [], []], .toCoordinator) == .badFrameCount(ProtocolConstants.maxFrames + 1))
        let long = String(repeating: "R", count: ProtocolConstants.maxCommandBytes + 1)
        #expect(decodeError([Self.tag, Array(long.utf8), ready], .toCoordinator) == .unknownCommand("<\(long.count) bytes>"))
        let atLimit = String(repeating: "R", count: ProtocolConstants.maxCommandBytes)
        #expect(decodeError([Self.tag, Array(atLimit.utf8), ready], .toCoordinator) == .unknownCommand(atLimit))
    }

    func result(logTail: String?, artifact: ArtifactRef, log: ArtifactRef? = nil) -> Message {
        var record = ResultRecord(taskID: Self.digest, spec: .unsent, status: "done", metrics: [:], artifacts: [artifact],
                                  engineVersion: "0.1.0", host: "h", worker: "w", threads: 1, attempt: 1,
                                  startedAt: 0, endedAt: 1, logTail: logTail)
        record.log = log
        return .result(TaskResult(task: Self.digest, lease: "L1", record: record))
    }

    @Test func stringLengthLimitInBinaryAndJSONBodies() {
        let ref = ArtifactRef(name: "a.bin", sha256: Self.digest, bytes: 3)
        let atLimit = String(repeating: "x", count: ProtocolConstants.maxStringBytes)
        let over = atLimit + "x"
        #expect(decodeError(WireCodec.encode(result(logTail: atLimit, artifact: ref)), .toCoordinator) == nil)
        #expect(decodeError(WireCodec.encode(result(logTail: over, artifact: ref)), .toCoordinator) == .badField("record.logTail"))
        let fail = { (error: String, tail: String) in
            Message.fail(TaskFailure(task: Self.digest, lease: "L1", error: error, logTail: tail))
        }
        #expect(decodeError(WireCodec.encode(fail(atLimit, "")), .toCoordinator) == nil)
        #expect(decodeError(WireCodec.encode(fail(over, "")), .toCoordinator) == .badField("error"))
        #expect(decodeError(WireCodec.encode(fail("", over)), .toCoordinator) == .badField("logTail"))
        #expect(decodeError(WireCodec.encode(.bye(Bye(reason: over))), .toWorker) == .badField("reason"))
        let progress = Message.progress(Progress(task: Self.digest, lease: "L1", fraction: 0.5, message: over))
        #expect(decodeError(WireCodec.encode(progress), .toCoordinator) == .badField("message"))
    }

    @Test func artifactSizeLimits() {
        let max = ProtocolConstants.maxArtifactBytes
        func task(_ bytes: Int) -> WireError? {
            let input = TaskInput(task: Self.digest, artifacts: [ArtifactRef(name: "c.bin", sha256: Self.digest, bytes: bytes)])
            let t = TaskAssignment(task: Self.digest, lease: "L1", attempt: 1, spec: WireCodecTests.spec, inputs: [input], timeout: 60)
            return decodeError(WireCodec.encode(.task(t)), .toWorker)
        }
        #expect(task(max) == nil)
        #expect(task(max + 1) == .badField("inputs.artifacts.bytes"))
        #expect(task(-1) == .badField("inputs.artifacts.bytes"))
        #expect(task(Int.max) == .badField("inputs.artifacts.bytes"))
        let good = ArtifactRef(name: "a.bin", sha256: Self.digest, bytes: 3)
        for (bad, field) in [(ArtifactRef(name: "a.bin", sha256: Self.digest, bytes: max + 1), "bytes"),
                             (ArtifactRef(name: "a.bin", sha256: Self.digest, bytes: Int.min), "bytes"),
                             (ArtifactRef(name: "../a", sha256: Self.digest, bytes: 3), "name"),
                             (ArtifactRef(name: "a.bin", sha256: "../../x", bytes: 3), "sha256")] {
            #expect(decodeError(WireCodec.encode(result(logTail: nil, artifact: bad)), .toCoordinator) == .badField("record.artifacts.\(field)"))
            #expect(decodeError(WireCodec.encode(result(logTail: nil, artifact: good, log: bad)), .toCoordinator) == .badField("record.log.\(field)"))
        }
    }

    /// A spec's params nest up to `maxNesting` levels of objects; one more is an error.
    @Test func nestingLimit() {
        func nested(_ depth: Int) -> Value {
            var v = Value.int(1)
            for _ in 0..<depth { v = .object(["k": v]) }
            return v
        }
        func task(_ depth: Int) -> WireError? {
            let spec = TaskSpec(kind: .noop, executor: "noop", params: ["p": nested(depth)])
            let t = TaskAssignment(task: Self.digest, lease: "L1", attempt: 1, spec: spec, inputs: [], timeout: 60)
            return decodeError(WireCodec.encode(.task(t)), .toWorker)
        }
        // `params` itself is the first level.
        #expect(task(ProtocolConstants.maxNesting - 1) == nil)
        #expect(task(ProtocolConstants.maxNesting) == .badField("spec.params"))
    }

    /// JSON bodies nested as deep as a body can hold are an error, not a stack overflow in the parser.
    @Test func deeplyNestedJSONIsAnError() {
        for open in ["[", "{\"a\":"] {
            let depth = ProtocolConstants.maxBodyBytes / open.utf8.count
            let body = Array(String(repeating: open, count: depth).utf8)
            if case .badJSON = decodeError([Self.tag, Array("HELLO".utf8), body], .toCoordinator) {} else {
                Issue.record("\(open) × \(depth) did not give badJSON")
            }
        }
    }

    /// The store checks a chunk's range itself (it is also called with sizes from TASK messages).
    @Test func storeRejectsRangesThatWouldOverflow() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("limits-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try ArtifactStore(root: dir)
        let payload: [UInt8] = [1, 2, 3]
        let digest = ArtifactStore.sha256(of: payload)
        for (offset, total) in [(Int.max, Int.max), (Int.max - 1, Int.max), (-1, 3), (1, 3), (0, 0), (0, -1)] {
            #expect(throws: ArtifactError.self, "offset \(offset) total \(total)") {
                try store.receive(sha256: digest, offset: offset, total: total, bytes: offset == 1 ? payload : [9])
            }
        }
        #expect(try store.receive(sha256: digest, offset: 0, total: 3, bytes: payload))
        #expect(store.read(digest, offset: 1, length: 5) == [2, 3])
        #expect(store.read(digest, offset: -1, length: 5) == nil)
        #expect(store.read(digest, offset: 0, length: -1) == nil)
        #expect(store.read(digest, offset: ProtocolConstants.maxArtifactBytes, length: 5) == [])
    }
}
