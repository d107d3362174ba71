// RecordJSON: a hand-written JSON writer for result records (compact, keys sorted), the form stored in the
// journal's `results` table and exported as a line of `results.jsonl`. Foundation's JSONEncoder cost ~115 µs per
// noop record on Linux; this writes the same fields (ResultRecord's Codable keys) in a few µs, and a task's
// spec, the same for every attempt, is written once and reused.
import Experiment
import Foundation

package enum RecordJSON {
    /// The record as JSON; `spec` is the record's spec already written by `spec(_:)`.
    package static func record(_ r: ResultRecord, spec: String) -> String {
        var o = ""
        o.reserveCapacity(512 + spec.utf8.count)
        o += "{\"artifacts\":"
        artifacts(r.artifacts, &o)
        o += ",\"attempt\":"; o += String(r.attempt)
        o += ",\"endedAt\":"; number(r.endedAt, &o)
        o += ",\"engineVersion\":"; string(r.engineVersion, &o)
        if let e = r.error { o += ",\"error\":"; string(e, &o) }
        if let g = r.gitCommit { o += ",\"gitCommit\":"; string(g, &o) }
        o += ",\"host\":"; string(r.host, &o)
        if let log = r.log { o += ",\"log\":"; artifact(log, &o) }
        if let t = r.logTail { o += ",\"logTail\":"; string(t, &o) }
        o += ",\"metrics\":"; object(r.metrics, &o)
        o += ",\"schema\":"; o += String(r.schema)
        o += ",\"spec\":"; o += spec
        o += ",\"startedAt\":"; number(r.startedAt, &o)
        o += ",\"status\":"; string(r.status, &o)
        o += ",\"taskID\":"; string(r.taskID, &o)
        o += ",\"threads\":"; o += String(r.threads)
        o += ",\"worker\":"; string(r.worker, &o)
        o += "}"
        return o
    }

    /// A task spec as JSON (TaskSpec's Codable keys, sorted).
    package static func spec(_ s: TaskSpec) -> String {
        var o = "{\"executor\":"
        string(s.executor, &o)
        o += ",\"inputs\":["
        for (i, input) in s.inputs.enumerated() { if i > 0 { o += "," }; string(input, &o) }
        o += "],\"kind\":"; string(s.kind.rawValue, &o)
        if let l = s.language { o += ",\"language\":"; string(l, &o) }
        o += ",\"params\":"; object(s.params, &o)
        if let seed = s.seed { o += ",\"seed\":"; o += String(seed) }
        if let setting = s.setting {
            o += ",\"setting\":{\"family\":"; string(setting.family, &o)
            o += ",\"fields\":"; object(setting.fields, &o)
            o += ",\"label\":"; string(setting.label, &o)
            o += "}"
        }
        o += "}"
        return o
    }

    /// Artifact references as a JSON array (the `tasks.artifacts` column).
    package static func artifacts(_ refs: [ArtifactRef]) -> String {
        var o = ""
        artifacts(refs, &o)
        return o
    }

    static func artifacts(_ refs: [ArtifactRef], _ o: inout String) {
        o += "["
        for (i, a) in refs.enumerated() { if i > 0 { o += "," }; artifact(a, &o) }
        o += "]"
    }

    static func artifact(_ a: ArtifactRef, _ o: inout String) {
        o += "{\"bytes\":"; o += String(a.bytes)
        o += ",\"name\":"; string(a.name, &o)
        o += ",\"sha256\":"; string(a.sha256, &o)
        o += "}"
    }

    /// Finite numbers in Swift's shortest round-trip form; JSON has no NaN or infinity, so those are written as
    /// the strings "NaN", "Infinity", "-Infinity" (a metric stays readable; `Value` decodes them as strings).
    static func number(_ d: Double, _ o: inout String) {
        if d.isNaN { o += "\"NaN\"" } else if d.isInfinite { o += d < 0 ? "\"-Infinity\"" : "\"Infinity\"" } else { o += "\(d)" }
    }

    static func value(_ v: Value, _ o: inout String) {
        switch v {
        case .bool(let b): o += b ? "true" : "false"
        case .int(let i): o += String(i)
        case .double(let d): number(d, &o)
        case .string(let s): string(s, &o)
        case .array(let items):
            o += "["
            for (i, item) in items.enumerated() { if i > 0 { o += "," }; value(item, &o) }
            o += "]"
        case .object(let d): object(d, &o)
        }
    }

    static func object(_ d: [String: Value], _ o: inout String) {
        o += "{"
        for (i, key) in d.keys.sorted().enumerated() {
            if i > 0 { o += "," }
            string(key, &o)
            o += ":"
            value(d[key]!, &o)
        }
        o += "}"
    }

    static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    static func string(_ s: String, _ o: inout String) {
        // Fast path: nothing to escape (identifiers, digests, hosts).
        if s.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x22 && $0 != 0x5C }) {
            o += "\""; o += s; o += "\""
            return
        }
        var bytes: [UInt8] = [0x22]
        for b in s.utf8 {
            switch b {
            case 0x22: bytes += [0x5C, 0x22]
            case 0x5C: bytes += [0x5C, 0x5C]
            case 0x0A: bytes += [0x5C, 0x6E]
            case 0x0D: bytes += [0x5C, 0x72]
            case 0x09: bytes += [0x5C, 0x74]
            case 0..<0x20: bytes += Array("\\u00".utf8) + [hex[Int(b >> 4)], hex[Int(b & 15)]]
            default: bytes.append(b)
            }
        }
        bytes.append(0x22)
        o += String(decoding: bytes, as: UTF8.self)
    }
}
