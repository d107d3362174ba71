// RecordJSON: result records as JSON (compact, keys sorted), the form stored in the journal's `results` table and
// exported as a line of `results.jsonl`: ResultRecord's Codable keys laid out by hand, every value written by
// `JSONWriter` under the record number policy. Foundation's JSONEncoder cost ~115 µs per noop record on Linux;
// this takes a few µs, and a task's spec, the same for every attempt, is written once and reused.
import Experiment
import Foundation

package enum RecordJSON {
    static let writer = JSONWriter(.record)

    /// The record as JSON; `spec` is the record's spec already written by `spec(_:)`.
    package static func record(_ r: ResultRecord, spec: String) -> String {
        var o = ""
        o.reserveCapacity(512 + spec.utf8.count)
        o += "{\"artifacts\":"
        artifacts(r.artifacts, &o)
        o += ",\"attempt\":"; o += String(r.attempt)
        o += ",\"endedAt\":"; writer.double(r.endedAt, into: &o)
        o += ",\"engineVersion\":"; JSONWriter.string(r.engineVersion, into: &o)
        if let e = r.error { o += ",\"error\":"; JSONWriter.string(e, into: &o) }
        if let g = r.gitCommit { o += ",\"gitCommit\":"; JSONWriter.string(g, into: &o) }
        o += ",\"host\":"; JSONWriter.string(r.host, into: &o)
        if let log = r.log { o += ",\"log\":"; artifact(log, &o) }
        if let t = r.logTail { o += ",\"logTail\":"; JSONWriter.string(t, into: &o) }
        o += ",\"metrics\":"; writer.object(r.metrics, into: &o)
        o += ",\"schema\":"; o += String(r.schema)
        o += ",\"spec\":"; o += spec
        o += ",\"startedAt\":"; writer.double(r.startedAt, into: &o)
        o += ",\"status\":"; JSONWriter.string(r.status, into: &o)
        o += ",\"taskID\":"; JSONWriter.string(r.taskID, into: &o)
        o += ",\"threads\":"; o += String(r.threads)
        o += ",\"worker\":"; JSONWriter.string(r.worker, into: &o)
        o += "}"
        return o
    }

    /// A task spec as JSON (TaskSpec's Codable keys, sorted).
    package static func spec(_ s: TaskSpec) -> String {
        var o = "{\"executor\":"
        JSONWriter.string(s.executor, into: &o)
        o += ",\"inputs\":["
        for (i, input) in s.inputs.enumerated() { if i > 0 { o += "," }; JSONWriter.string(input, into: &o) }
        o += "],\"kind\":"; JSONWriter.string(s.kind.rawValue, into: &o)
        if let l = s.language { o += ",\"language\":"; JSONWriter.string(l, into: &o) }
        o += ",\"params\":"; writer.object(s.params, into: &o)
        if let seed = s.seed { o += ",\"seed\":"; o += String(seed) }
        if let setting = s.setting {
            o += ",\"setting\":{\"family\":"; JSONWriter.string(setting.family, into: &o)
            o += ",\"fields\":"; writer.object(setting.fields, into: &o)
            o += ",\"label\":"; JSONWriter.string(setting.label, into: &o)
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
        o += ",\"name\":"; JSONWriter.string(a.name, into: &o)
        o += ",\"sha256\":"; JSONWriter.string(a.sha256, into: &o)
        o += "}"
    }
}
