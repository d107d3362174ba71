// WireFuzz: the codec's fuzz entry point. Built with `-sanitize=fuzzer -D FUZZING` (Tests/Fuzz/fuzz.sh) it is a
// libFuzzer binary (its entry point hands over to libFuzzer's driver); a plain build is a tool that writes the seed corpus from the real
// encoder (`WireFuzz corpus DIR`) and replays inputs through the same entry point (`WireFuzz replay [--valid] PATH…`).
//
// Input layout: byte 0 picks the direction (bit 0: 0 to the coordinator, 1 to the worker); the rest is the frames,
// separated by the 4 bytes F5 5F F5 5F (0xF5 never occurs in UTF-8, so no JSON body holds them). A separator rather
// than length prefixes, so that bytes a mutation inserts or erases stay inside their frame.
import Experiment
import Foundation
import FuzzSupport
import Wire

enum FuzzInput {
    static let separator: [UInt8] = [0xF5, 0x5F, 0xF5, 0x5F]

    static func frames(_ bytes: UnsafeBufferPointer<UInt8>) -> (Direction, [[UInt8]]) {
        guard let first = bytes.first else { return (.toCoordinator, []) }
        let direction: Direction = first & 1 == 0 ? .toCoordinator : .toWorker
        var frames: [[UInt8]] = []
        var start = 1, i = 1
        while i + separator.count <= bytes.count {
            if bytes[i] == separator[0], bytes[i + 1] == separator[1], bytes[i + 2] == separator[2], bytes[i + 3] == separator[3] {
                frames.append(Array(bytes[start..<i]))
                i += separator.count
                start = i
            } else {
                i += 1
            }
        }
        if start <= bytes.count, bytes.count > 1 { frames.append(Array(bytes[start..<bytes.count])) }
        return (direction, frames)
    }

    static func bytes(_ frames: [[UInt8]], _ direction: Direction) -> [UInt8] {
        var out: [UInt8] = [direction == .toCoordinator ? 0 : 1]
        for (i, f) in frames.enumerated() {
            if i > 0 { out += separator }
            out += f
        }
        return out
    }
}

/// Decodes one input. A decoded message must re-encode to frames that decode to the same message: a violation
/// (or any trap inside) is a crash the fuzzer reports. Returns whether it decoded.
@discardableResult
func decodeOne(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    let (direction, frames) = FuzzInput.frames(bytes)
    guard let message = try? WireCodec.decode(frames, direction: direction) else { return false }
    let encoded = WireCodec.encode(message)
    let again: Message
    do { again = try WireCodec.decode(encoded, direction: direction) } catch {
        preconditionFailure("\(message.command) decoded, but its own encoding does not: \(error)")
    }
    switch message {
    case .ready, .task, .result, .ack, .heartbeat, .workerHeartbeat:
        // Binary bodies are canonical (object keys sorted), and bytes compare NaN metrics as equal.
        precondition(WireCodec.encode(again) == encoded, "\(message.command) does not re-encode to the same bytes")
    default:
        // JSON bodies have no canonical key order; they carry no NaN, so the values compare.
        precondition(again == message, "\(message.command) does not decode to itself after re-encoding")
    }
    return true
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    decodeOne(UnsafeBufferPointer(start: data, count: count))
    return 0
}

#if FUZZING
/// SwiftPM links an executable's entry point as `<module>_main`; under the fuzzer it hands over to libFuzzer.
@_cdecl("WireFuzz_main")
func fuzzerEntry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzOne)
}
#else
/// Seeds: one valid message of every command in each direction it travels, with every optional field both
/// present and absent somewhere, so mutations start from deep inside each body.
enum Seeds {
    static let digest = String(repeating: "5e", count: 32)
    static let other = String(repeating: "a0", count: 32)

    static var all: [(String, Message, Direction)] {
        let setting = CompressionSetting(family: "prune", fields: ["sparsity": .double(0.5), "when": .string("after")],
                                         label: "prune sparsity=0.5")
        let spec = TaskSpec(kind: .compress, executor: "engine", seed: 7, language: "hau", setting: setting,
                            params: ["lr": .double(3e-5), "steps": .int(100), "tags": .array([.string("a"), .bool(true), .bool(false)]),
                                     "nested": .object(["deep": .object(["k": .int(-1)])])],
                            inputs: [other])
        let input = TaskInput(task: other, artifacts: [ArtifactRef(name: "checkpoint.safetensors", sha256: other, bytes: 2_000_000)])
        var record = ResultRecord(taskID: digest, spec: .unsent, status: "done", metrics: ["f1": .double(0.75), "n": .int(3)],
                                  artifacts: [ArtifactRef(name: "model.bin", sha256: other, bytes: 12)],
                                  engineVersion: "0.1.0", gitCommit: "f93136f", host: "node1", worker: "node1-42-ab", threads: 2,
                                  attempt: 1, startedAt: 1_700_000_000, endedAt: 1_700_000_003.5, error: nil, logTail: "last line")
        record.log = ArtifactRef(name: "task.log", sha256: digest, bytes: 300)
        let bare = ResultRecord(taskID: digest, spec: .unsent, status: "done", metrics: [:], engineVersion: "0.1.0",
                                host: "h", worker: "w", threads: 1, attempt: 2, startedAt: 0, endedAt: 0)
        return [
            ("hello", .workerHello(WorkerHello(worker: "node1-42-ab", host: "node1", cores: 8, threads: 2, engine: "0.1.0",
                                               executors: ["noop", "engine"], current: "l1a2b3c4d-0000002a", pid: 42, prefetch: 32,
                                               commit: "f93136f")), .toCoordinator),
            // A HELLO after a restart re-announces leases: a finished one awaiting its ACK, then the running one.
            ("hello-leases", .workerHello(WorkerHello(worker: "node1-42-ab", host: "node1", cores: 8, threads: 2, engine: "0.1.0",
                                                      executors: ["noop"], current: "L2", pid: 42, prefetch: 4,
                                                      leases: [AnnouncedLease(task: digest, lease: "L1", fraction: 1),
                                                               AnnouncedLease(task: other, lease: "L2", fraction: 0.5)])), .toCoordinator),
            ("hello-bare", .workerHello(WorkerHello(worker: "w", host: "h", cores: 1, threads: 1, engine: "0", executors: [], pid: 1)), .toCoordinator),
            ("hello", .coordinatorHello(CoordinatorHello(run: "run-1", heartbeatInterval: 1, liveness: 3)), .toWorker),
            ("ready", .ready(Ready(credit: 8)), .toCoordinator),
            ("heartbeat", .heartbeat, .toCoordinator),
            ("heartbeat", .heartbeat, .toWorker),
            ("heartbeat-figures", .workerHeartbeat(WorkerFigures(cpuSeconds: 12.5, residentBytes: 123 << 20)), .toCoordinator),
            ("task", .task(TaskAssignment(task: digest, lease: "l1a2b3c4d-0000002a", attempt: 1, spec: spec, inputs: [input], timeout: 3600)), .toWorker),
            ("task-noop", .task(TaskAssignment(task: digest, lease: "L1", attempt: 3, spec: TaskSpec(kind: .noop, executor: "noop", params: [:]),
                                               inputs: [], timeout: 1)), .toWorker),
            ("progress", .progress(Progress(task: digest, lease: "L1", fraction: 0.25, message: "step 25/100")), .toCoordinator),
            ("result", .result(TaskResult(task: digest, lease: "L1", record: record)), .toCoordinator),
            ("result-bare", .result(TaskResult(task: digest, lease: "L2", record: bare)), .toCoordinator),
            ("fail", .fail(TaskFailure(task: digest, lease: "L1", error: "out of memory", logTail: "a\nb")), .toCoordinator),
            ("ack", .ack(Ack(task: digest, lease: "L1", duplicate: false)), .toWorker),
            ("fetch", .fetch(Fetch(sha256: other, offset: 1 << 20, length: 1 << 20)), .toCoordinator),
            ("chunk", .chunk(Chunk(sha256: other, offset: 0, total: 5, bytes: [1, 2, 3])), .toCoordinator),
            ("chunk", .chunk(Chunk(sha256: other, offset: 3, total: 5, bytes: [4, 5])), .toWorker),
            // At the edges of the limits, so that mutated numbers start where the checks are.
            ("chunk-last-byte", .chunk(Chunk(sha256: other, offset: ProtocolConstants.maxArtifactBytes - 1,
                                             total: ProtocolConstants.maxArtifactBytes, bytes: [9])), .toCoordinator),
            ("fetch-last-byte", .fetch(Fetch(sha256: other, offset: ProtocolConstants.maxArtifactBytes, length: ProtocolConstants.chunkBytes)),
             .toCoordinator),
            ("bye", .bye(Bye(reason: "leaving")), .toCoordinator),
            ("bye", .bye(Bye(reason: "protocol error", again: true)), .toWorker),
            ("bye-say-hello", .bye(Bye(reason: "unknown worker: say HELLO", again: true, hello: true)), .toWorker),
            ("bye-refused", .bye(Bye(reason: "worker runs engine 0.2.0 (abc) but the coordinator runs 0.1.0 (f93136f)",
                                     again: false, refused: true)), .toWorker),
        ]
    }
}

@main struct WireFuzzTool {
    static func main() throws {
        let args = Array(CommandLine.arguments.dropFirst())
        switch args.first {
        case "corpus" where args.count == 2:
            let dir = URL(fileURLWithPath: args[1])
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            for (name, message, direction) in Seeds.all {
                let file = "\(name)-\(direction == .toCoordinator ? "up" : "down")"
                try Data(FuzzInput.bytes(WireCodec.encode(message), direction)).write(to: dir.appendingPathComponent(file))
            }
        case "replay":
            try replayInputs(Array(args.dropFirst()), accepted: "valid") { decodeOne($0) }
        default:
            print("usage: WireFuzz corpus DIR | WireFuzz replay [--valid] FILE|DIR…")
            exit(2)
        }
    }
}
#endif
