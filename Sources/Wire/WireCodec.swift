// WireCodec: Message ↔ frames. The hot messages (READY, TASK, RESULT, ACK, HEARTBEAT) have binary bodies
// (BinaryBody.swift), the rest JSON. Decoding rejects every malformed input with a typed WireError, never a trap.
import Experiment
import Foundation

package enum WireError: Error, Equatable, CustomStringConvertible {
    case badFrameCount(Int)
    case badTag
    case unsupportedVersion(UInt8)
    case unknownCommand(String)
    case wrongDirection(String)
    case tooLarge(Int)
    case badJSON(String)
    case badField(String)
    case unexpectedPayload(String)

    package var description: String {
        switch self {
        case .badFrameCount(let n): "expected 3 or 4 frames, got \(n)"
        case .badTag: "frame 0 is not the SMALLER protocol tag"
        case .unsupportedVersion(let v): "protocol version \(v) is not supported (this build speaks \(ProtocolConstants.version))"
        case .unknownCommand(let c): "unknown command \(c)"
        case .wrongDirection(let c): "command \(c) does not travel in this direction"
        case .tooLarge(let n): "message of \(n) bytes exceeds the limit"
        case .badJSON(let why): "body is not valid JSON for its command: \(why)"
        case .badField(let name): "field \(name) is out of range or malformed"
        case .unexpectedPayload(let c): "command \(c) has a wrong payload frame"
        }
    }
}

package enum WireCodec {
    /// Keys unsorted: the wire needs no canonical form, and sorting costs a noticeable share of a noop task.
    static let encoder = JSONEncoder()

    package static func encode(_ message: Message) -> [[UInt8]] {
        var frames: [[UInt8]] = [ProtocolConstants.tag, Array(message.command.utf8)]
        func body<T: Encodable>(_ value: T) -> [UInt8] {
            // Encoding our own Codable values cannot fail; a failure is a programmer error.
            do { return Array(try encoder.encode(value)) } catch { preconditionFailure("encoding \(T.self): \(error)") }
        }
        switch message {
        case .workerHello(let b): frames.append(body(b))
        case .coordinatorHello(let b): frames.append(body(b))
        case .ready(let b): frames.append(BinaryBodies.ready(b))
        case .heartbeat: frames.append([])
        case .workerHeartbeat(let f): frames.append(BinaryBodies.heartbeat(f))
        case .task(let b): frames.append(BinaryBodies.task(b))
        case .progress(let b): frames.append(body(b))
        case .result(let b): frames.append(BinaryBodies.result(b))
        case .fail(let b): frames.append(body(b))
        case .ack(let b): frames.append(BinaryBodies.ack(b))
        case .fetch(let b): frames.append(body(b))
        case .chunk(let c):
            frames.append(body(ChunkHeader(sha256: c.sha256, offset: c.offset, total: c.total)))
            frames.append(c.bytes)
        case .bye(let b): frames.append(body(b))
        }
        return frames
    }

    struct ChunkHeader: Codable { var sha256: String; var offset: Int; var total: Int }

    /// Decodes frames sent in `direction`, validating sizes, identifiers and ranges.
    package static func decode(_ frames: [[UInt8]], direction: Direction) throws(WireError) -> Message {
        guard frames.count >= ProtocolConstants.minFrames, frames.count <= ProtocolConstants.maxFrames else {
            throw .badFrameCount(frames.count)
        }
        let total = frames.reduce(0) { $0 + $1.count }
        guard total <= ProtocolConstants.maxMessageBytes else { throw .tooLarge(total) }
        let tag = frames[0]
        guard tag.count == ProtocolConstants.tag.count, Array(tag.prefix(7)) == ProtocolConstants.tagPrefix else { throw .badTag }
        guard tag[7] == ProtocolConstants.version else { throw .unsupportedVersion(tag[7]) }
        guard frames[1].count <= ProtocolConstants.maxCommandBytes, let command = String(validating: frames[1], as: UTF8.self) else {
            throw .unknownCommand("<\(frames[1].count) bytes>")
        }
        let bodyBytes = frames[2]
        guard bodyBytes.count <= ProtocolConstants.maxBodyBytes else { throw .tooLarge(bodyBytes.count) }
        let hasPayload = frames.count == 4
        if hasPayload != (command == "CHUNK") { throw .unexpectedPayload(command) }
        let toCoordinator = direction == .toCoordinator
        func body<T: Decodable>(_ type: T.Type) throws(WireError) -> T {
            do { return try JSONDecoder().decode(type, from: Data(bodyBytes)) } catch {
                throw .badJSON("\(command): \(error)")
            }
        }
        func only(_ allowed: Bool) throws(WireError) { if !allowed { throw .wrongDirection(command) } }

        let message: Message
        switch command {
        case "HELLO":
            message = toCoordinator ? .workerHello(try body(WorkerHello.self)) : .coordinatorHello(try body(CoordinatorHello.self))
        case "READY": try only(toCoordinator); message = .ready(try BinaryBodies.ready(bodyBytes))
        case "HEARTBEAT":
            if bodyBytes.isEmpty {
                message = .heartbeat
            } else {
                // Only a worker's HEARTBEAT carries figures; the coordinator's is always empty.
                guard toCoordinator else { throw .badField("HEARTBEAT: body must be empty") }
                message = .workerHeartbeat(try BinaryBodies.heartbeat(bodyBytes))
            }
        case "TASK": try only(!toCoordinator); message = .task(try BinaryBodies.task(bodyBytes))
        case "PROGRESS": try only(toCoordinator); message = .progress(try body(Progress.self))
        case "RESULT": try only(toCoordinator); message = .result(try BinaryBodies.result(bodyBytes))
        case "FAIL": try only(toCoordinator); message = .fail(try body(TaskFailure.self))
        case "ACK": try only(!toCoordinator); message = .ack(try BinaryBodies.ack(bodyBytes))
        case "FETCH": try only(toCoordinator); message = .fetch(try body(Fetch.self))
        case "CHUNK":
            let h = try body(ChunkHeader.self)
            message = .chunk(Chunk(sha256: h.sha256, offset: h.offset, total: h.total, bytes: frames[3]))
        case "BYE": message = .bye(try body(Bye.self))
        default: throw .unknownCommand(command)
        }
        try validate(message)
        return message
    }

    static func identifier(_ s: String, _ field: String) throws(WireError) {
        guard !s.isEmpty, s.utf8.count <= ProtocolConstants.maxIdentifierLength,
              s.utf8.allSatisfy({ isIdentifierByte($0) }) else { throw .badField(field) }
    }

    package static func isIdentifierByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2E || b == 0x5F || b == 0x2D
    }

    /// A SHA-256 in lowercase hex: task ids and artifact digests.
    package static func isDigest(_ s: String) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    static func digest(_ s: String, _ field: String) throws(WireError) {
        guard isDigest(s) else { throw .badField(field) }
    }

    static func text(_ s: String, _ field: String) throws(WireError) {
        guard s.utf8.count <= ProtocolConstants.maxStringBytes else { throw .badField(field) }
    }

    /// A size or offset within an artifact: 0…maxArtifactBytes.
    static func artifactSize(_ n: Int) -> Bool { n >= 0 && n <= ProtocolConstants.maxArtifactBytes }

    static func artifact(_ a: ArtifactRef, _ field: String) throws(WireError) {
        try digest(a.sha256, "\(field).sha256")
        guard artifactSize(a.bytes) else { throw .badField("\(field).bytes") }
        guard ArtifactName.isSafe(a.name) else { throw .badField("\(field).name") }
    }

    /// CHUNK's range: offset + count ≤ total ≤ maxArtifactBytes, checked without computing a sum that could
    /// overflow (an offset near Int64.max once trapped the coordinator here).
    package static func isValidRange(offset: Int, count: Int, total: Int) -> Bool {
        artifactSize(total) && offset >= 0 && count >= 0 && count <= total && offset <= total - count
    }

    static func validate(_ message: Message) throws(WireError) {
        switch message {
        case .workerHello(let h):
            try identifier(h.worker, "worker")
            if let current = h.current { try identifier(current, "current") }
            guard h.threads >= 1, h.threads <= 4096, h.cores >= 0, h.host.utf8.count <= 256 else { throw .badField("threads/cores/host") }
            guard h.engine.utf8.count <= 256, (h.commit?.utf8.count ?? 0) <= 256, h.executors.count <= 64,
                  h.executors.allSatisfy({ $0.utf8.count <= 256 }) else {
                throw .badField("engine/commit/executors")
            }
            guard h.prefetch >= 1, h.prefetch <= ProtocolConstants.maxPrefetch else { throw .badField("prefetch") }
            if let leases = h.leases {
                guard leases.count <= ProtocolConstants.maxAnnouncedLeases else { throw .badField("leases") }
                for l in leases {
                    try digest(l.task, "leases.task"); try identifier(l.lease, "leases.lease")
                    if let f = l.fraction, !(f >= 0 && f <= 1) { throw .badField("leases.fraction") }
                }
            }
        case .ready(let r):
            guard r.credit >= 1, r.credit <= ProtocolConstants.maxPrefetch else { throw .badField("credit") }
        case .coordinatorHello(let h):
            guard h.heartbeatInterval > 0, h.heartbeatInterval <= 600, h.liveness >= 1,
                  h.chunkBytes > 0, h.chunkBytes <= ProtocolConstants.chunkBytes else { throw .badField("heartbeat/liveness/chunkBytes") }
        case .task(let t):
            try digest(t.task, "task"); try identifier(t.lease, "lease")
            guard t.attempt >= 1, t.timeout > 0 else { throw .badField("attempt/timeout") }
            for input in t.inputs {
                try digest(input.task, "inputs.task")
                for a in input.artifacts { try artifact(a, "inputs.artifacts") }
            }
        case .progress(let p):
            try digest(p.task, "task"); try identifier(p.lease, "lease")
            guard p.fraction >= 0, p.fraction <= 1 else { throw .badField("fraction") }
            try text(p.message, "message")
        case .result(let r):
            try digest(r.task, "task"); try identifier(r.lease, "lease")
            guard r.record.taskID == r.task else { throw .badField("record.taskID") }
            for a in r.record.artifacts { try artifact(a, "record.artifacts") }
            if let log = r.record.log { try artifact(log, "record.log") }
        case .fail(let f):
            try digest(f.task, "task"); try identifier(f.lease, "lease")
            try text(f.error, "error"); try text(f.logTail, "logTail")
        case .ack(let a): try digest(a.task, "task"); try identifier(a.lease, "lease")
        case .fetch(let f):
            try digest(f.sha256, "sha256")
            guard artifactSize(f.offset), f.length > 0, f.length <= ProtocolConstants.chunkBytes else { throw .badField("offset/length") }
        case .chunk(let c):
            try digest(c.sha256, "sha256")
            guard c.bytes.count <= ProtocolConstants.chunkBytes, isValidRange(offset: c.offset, count: c.bytes.count, total: c.total) else {
                throw .badField("offset/total")
            }
        case .bye(let b): try text(b.reason, "reason")
        case .heartbeat: break
        case .workerHeartbeat(let f): guard f.isValid else { throw .badField("cpuSeconds/residentBytes") }
        }
    }
}

/// Logical artifact names are plain file names: no separators, no `..`, nothing hidden, printable ASCII.
package enum ArtifactName {
    package static func isSafe(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 128, name != ".", name != "..", !name.hasPrefix(".") else { return false }
        return name.utf8.allSatisfy { WireCodec.isIdentifierByte($0) }
    }
}
