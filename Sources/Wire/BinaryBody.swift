// BinaryBody: the compact body encoding of the hot messages (READY, TASK, RESULT, ACK, HEARTBEAT; protocol v3,
// docs/protocol.md "Binary bodies"). Little-endian fixed-width numbers, length-prefixed UTF-8 strings; the
// reader checks every length against what is left and throws WireError, never traps.
import Experiment
import Foundation

/// Appends fields to a byte buffer.
package struct BinaryWriter {
    package private(set) var bytes: [UInt8] = []

    package init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    package mutating func u8(_ v: UInt8) { bytes.append(v) }

    package mutating func u32(_ v: UInt32) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }

    package mutating func i64(_ v: Int) {
        withUnsafeBytes(of: Int64(v).littleEndian) { bytes.append(contentsOf: $0) }
    }

    package mutating func f64(_ v: Double) {
        withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }

    package mutating func bool(_ v: Bool) { bytes.append(v ? 1 : 0) }

    package mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { buffer in
            u32(UInt32(truncatingIfNeeded: buffer.count))
            bytes.append(contentsOf: buffer)
        }
    }

    package mutating func optionalString(_ s: String?) {
        if let s { u8(1); string(s) } else { u8(0) }
    }

    package mutating func value(_ v: Value) {
        switch v {
        case .bool(let b): u8(b ? 1 : 0)
        case .int(let i): u8(2); i64(i)
        case .double(let d): u8(3); f64(d)
        case .string(let s): u8(4); string(s)
        case .array(let items):
            u8(5); u32(UInt32(items.count))
            for item in items { value(item) }
        case .object(let o): u8(6); object(o)
        }
    }

    /// Keys sorted, so equal dictionaries encode to equal bytes.
    package mutating func object(_ o: [String: Value]) {
        u32(UInt32(o.count))
        for key in o.keys.sorted() { string(key); value(o[key]!) }
    }

    package mutating func artifact(_ a: ArtifactRef) { string(a.name); string(a.sha256); i64(a.bytes) }

    package mutating func spec(_ s: TaskSpec) {
        string(s.kind.rawValue)
        string(s.executor)
        if let seed = s.seed { u8(1); i64(seed) } else { u8(0) }
        optionalString(s.language)
        if let setting = s.setting {
            u8(1); string(setting.family); object(setting.fields); string(setting.label)
        } else {
            u8(0)
        }
        object(s.params)
        u32(UInt32(s.inputs.count))
        for input in s.inputs { string(input) }
    }
}

/// Reads fields back, checking every length; `field` names what was being read when the bytes ran out.
package struct BinaryReader {
    let bytes: [UInt8]
    package private(set) var offset = 0
    static let maxDepth = ProtocolConstants.maxNesting

    package init(_ bytes: [UInt8]) { self.bytes = bytes }

    package var isAtEnd: Bool { offset == bytes.count }

    mutating func take(_ n: Int, _ field: String) throws(WireError) -> Range<Int> {
        guard n >= 0, bytes.count - offset >= n else { throw .badField(field) }
        defer { offset += n }
        return offset..<(offset + n)
    }

    package mutating func u8(_ field: String) throws(WireError) -> UInt8 {
        let r = try take(1, field)
        return bytes[r.lowerBound]
    }

    private mutating func u64(_ field: String) throws(WireError) -> UInt64 {
        let r = try take(8, field)
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[r.lowerBound + i]) << (8 * UInt64(i)) }
        return v
    }

    package mutating func u32(_ field: String) throws(WireError) -> UInt32 {
        let r = try take(4, field)
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[r.lowerBound + i]) << (8 * UInt32(i)) }
        return v
    }

    package mutating func i64(_ field: String) throws(WireError) -> Int { Int(Int64(bitPattern: try u64(field))) }

    package mutating func f64(_ field: String) throws(WireError) -> Double { Double(bitPattern: try u64(field)) }

    package mutating func bool(_ field: String) throws(WireError) -> Bool {
        switch try u8(field) {
        case 0: return false
        case 1: return true
        default: throw .badField(field)
        }
    }

    /// A count of items that each take at least `minBytes`: more than the bytes left could hold is malformed.
    mutating func count(_ field: String, minBytes: Int) throws(WireError) -> Int {
        let n = Int(try u32(field))
        guard n <= (bytes.count - offset) / max(1, minBytes) else { throw .badField(field) }
        return n
    }

    package mutating func string(_ field: String) throws(WireError) -> String {
        let n = Int(try u32(field))
        guard n <= ProtocolConstants.maxStringBytes else { throw .badField(field) }
        let r = try take(n, field)
        guard let s = bytes.withUnsafeBufferPointer({ String(validating: UnsafeBufferPointer(rebasing: $0[r]), as: UTF8.self) }) else {
            throw .badField(field)
        }
        return s
    }

    package mutating func optionalString(_ field: String) throws(WireError) -> String? {
        try bool(field) ? try string(field) : nil
    }

    package mutating func value(_ field: String, depth: Int = 0) throws(WireError) -> Value {
        guard depth < Self.maxDepth else { throw .badField(field) }
        switch try u8(field) {
        case 0: return .bool(false)
        case 1: return .bool(true)
        case 2: return .int(try i64(field))
        case 3: return .double(try f64(field))
        case 4: return .string(try string(field))
        case 5:
            let n = try count(field, minBytes: 1)
            var items: [Value] = []
            items.reserveCapacity(n)
            for _ in 0..<n { items.append(try value(field, depth: depth + 1)) }
            return .array(items)
        case 6: return .object(try object(field, depth: depth + 1))
        default: throw .badField(field)
        }
    }

    package mutating func object(_ field: String, depth: Int = 0) throws(WireError) -> [String: Value] {
        guard depth < Self.maxDepth else { throw .badField(field) }
        let n = try count(field, minBytes: 5)
        var o: [String: Value] = [:]
        o.reserveCapacity(n)
        for _ in 0..<n {
            let key = try string(field)
            guard o.updateValue(try value(field, depth: depth), forKey: key) == nil else { throw .badField(field) }
        }
        return o
    }

    package mutating func artifact(_ field: String) throws(WireError) -> ArtifactRef {
        ArtifactRef(name: try string(field), sha256: try string(field), bytes: try i64(field))
    }

    package mutating func spec() throws(WireError) -> TaskSpec {
        guard let kind = TaskKind(rawValue: try string("spec.kind")) else { throw .badField("spec.kind") }
        let executor = try string("spec.executor")
        let seed: Int? = try bool("spec.seed") ? try i64("spec.seed") : nil
        let language = try optionalString("spec.language")
        var setting: CompressionSetting?
        if try bool("spec.setting") {
            setting = CompressionSetting(family: try string("spec.setting"), fields: try object("spec.setting"),
                                         label: try string("spec.setting"))
        }
        let params = try object("spec.params")
        let n = try count("spec.inputs", minBytes: 4)
        var inputs: [String] = []
        for _ in 0..<n { inputs.append(try string("spec.inputs")) }
        return TaskSpec(kind: kind, executor: executor, seed: seed, language: language, setting: setting,
                        params: params, inputs: inputs)
    }
}

extension TaskSpec {
    /// The spec a decoded RESULT carries: RESULT does not repeat the spec (the coordinator has it and puts it
    /// back before journaling the record).
    package static let unsent = TaskSpec(kind: .noop, executor: "", params: [:])
}

/// The binary bodies of the hot messages.
enum BinaryBodies {
    static func ready(_ r: Ready) -> [UInt8] {
        var w = BinaryWriter(capacity: 4)
        w.u32(UInt32(clamping: r.credit))
        return w.bytes
    }

    static func ready(_ b: [UInt8]) throws(WireError) -> Ready {
        var r = BinaryReader(b)
        let credit = Int(try r.u32("credit"))
        try end(r, "READY")
        return Ready(credit: credit)
    }

    /// A worker's HEARTBEAT: `cpuSeconds` f64, `residentBytes` i64 (the ranges are checked in `validate`).
    static func heartbeat(_ f: WorkerFigures) -> [UInt8] {
        var w = BinaryWriter(capacity: 16)
        w.f64(f.cpuSeconds); w.i64(f.residentBytes)
        return w.bytes
    }

    static func heartbeat(_ b: [UInt8]) throws(WireError) -> WorkerFigures {
        var r = BinaryReader(b)
        let f = WorkerFigures(cpuSeconds: try r.f64("cpuSeconds"), residentBytes: try r.i64("residentBytes"))
        try end(r, "HEARTBEAT")
        return f
    }

    static func ack(_ a: Ack) -> [UInt8] {
        var w = BinaryWriter(capacity: 96)
        w.string(a.task); w.string(a.lease); w.bool(a.duplicate)
        return w.bytes
    }

    static func ack(_ b: [UInt8]) throws(WireError) -> Ack {
        var r = BinaryReader(b)
        let a = Ack(task: try r.string("task"), lease: try r.string("lease"), duplicate: try r.bool("duplicate"))
        try end(r, "ACK")
        return a
    }

    static func task(_ t: TaskAssignment) -> [UInt8] {
        var w = BinaryWriter(capacity: 512)
        w.string(t.task); w.string(t.lease); w.i64(t.attempt); w.f64(t.timeout)
        w.spec(t.spec)
        w.u32(UInt32(t.inputs.count))
        for input in t.inputs {
            w.string(input.task)
            w.u32(UInt32(input.artifacts.count))
            for a in input.artifacts { w.artifact(a) }
        }
        return w.bytes
    }

    static func task(_ b: [UInt8]) throws(WireError) -> TaskAssignment {
        var r = BinaryReader(b)
        let task = try r.string("task"), lease = try r.string("lease")
        let attempt = try r.i64("attempt"), timeout = try r.f64("timeout")
        let spec = try r.spec()
        let n = try r.count("inputs", minBytes: 8)
        var inputs: [TaskInput] = []
        for _ in 0..<n {
            let producer = try r.string("inputs.task")
            let m = try r.count("inputs.artifacts", minBytes: 16)
            var refs: [ArtifactRef] = []
            for _ in 0..<m { refs.append(try r.artifact("inputs.artifacts")) }
            inputs.append(TaskInput(task: producer, artifacts: refs))
        }
        try end(r, "TASK")
        return TaskAssignment(task: task, lease: lease, attempt: attempt, spec: spec, inputs: inputs, timeout: timeout)
    }

    /// RESULT: the record without its spec (the coordinator has it).
    static func result(_ t: TaskResult) -> [UInt8] {
        var w = BinaryWriter(capacity: 512)
        let rec = t.record
        w.string(t.task); w.string(t.lease)
        w.i64(rec.schema); w.string(rec.taskID); w.string(rec.status)
        w.object(rec.metrics)
        w.u32(UInt32(rec.artifacts.count))
        for a in rec.artifacts { w.artifact(a) }
        w.string(rec.engineVersion); w.optionalString(rec.gitCommit)
        w.string(rec.host); w.string(rec.worker); w.i64(rec.threads); w.i64(rec.attempt)
        w.f64(rec.startedAt); w.f64(rec.endedAt)
        w.optionalString(rec.error); w.optionalString(rec.logTail)
        if let log = rec.log { w.u8(1); w.artifact(log) } else { w.u8(0) }
        return w.bytes
    }

    static func result(_ b: [UInt8]) throws(WireError) -> TaskResult {
        var r = BinaryReader(b)
        let task = try r.string("task"), lease = try r.string("lease")
        let schema = try r.i64("record.schema")
        let taskID = try r.string("record.taskID"), status = try r.string("record.status")
        let metrics = try r.object("record.metrics")
        let n = try r.count("record.artifacts", minBytes: 16)
        var artifacts: [ArtifactRef] = []
        for _ in 0..<n { artifacts.append(try r.artifact("record.artifacts")) }
        let engine = try r.string("record.engineVersion"), git = try r.optionalString("record.gitCommit")
        let host = try r.string("record.host"), worker = try r.string("record.worker")
        let threads = try r.i64("record.threads"), attempt = try r.i64("record.attempt")
        let startedAt = try r.f64("record.startedAt"), endedAt = try r.f64("record.endedAt")
        let error = try r.optionalString("record.error"), logTail = try r.optionalString("record.logTail")
        let log: ArtifactRef? = try r.bool("record.log") ? try r.artifact("record.log") : nil
        try end(r, "RESULT")
        var record = ResultRecord(taskID: taskID, spec: .unsent, status: status, metrics: metrics, artifacts: artifacts,
                                  engineVersion: engine, gitCommit: git, host: host, worker: worker, threads: threads,
                                  attempt: attempt, startedAt: startedAt, endedAt: endedAt, error: error, logTail: logTail)
        record.schema = schema
        record.log = log
        return TaskResult(task: task, lease: lease, record: record)
    }

    static func end(_ r: BinaryReader, _ command: String) throws(WireError) {
        guard r.isAtEnd else { throw .badField("\(command): trailing bytes") }
    }
}
