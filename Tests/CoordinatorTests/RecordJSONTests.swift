// RecordJSON (the layout of journaled records over JSONWriter) against Foundation's JSON decoder as the reference:
// every field, escapes, nested values and number forms decode back to the record written; and the bytes of a
// record are pinned, since readers of existing run directories (and `results.jsonl`) expect exactly these.
import Experiment
import Foundation
import Testing
@testable import Coordinator

@Suite struct RecordJSONTests {
    static func record(metrics: [String: Value], error: String? = nil, logTail: String? = nil) -> ResultRecord {
        let spec = TaskSpec(kind: .compress, executor: "engine", seed: 3, language: "yor",
                            setting: CompressionSetting(family: "prune", fields: ["sparsity": .double(0.5), "when": .string("after")],
                                                        label: "prune sparsity=0.5 when=after"),
                            params: ["model": .object(["layers": .int(2), "hidden": .int(64)]), "tags": .array([.bool(true), .string("a/b")])],
                            inputs: [String(repeating: "ab", count: 32)])
        var r = ResultRecord(taskID: spec.id, spec: spec, status: "done", metrics: metrics,
                             artifacts: [ArtifactRef(name: "model.safetensors", sha256: String(repeating: "f", count: 64), bytes: 1 << 40)],
                             engineVersion: "0.3.0", gitCommit: "abc123", host: "héllo-host", worker: "w-1", threads: 2,
                             attempt: 2, startedAt: 1_764_400_000.123456, endedAt: 1_764_400_012.5, error: error, logTail: logTail)
        r.log = ArtifactRef(name: "log.txt", sha256: String(repeating: "0", count: 64), bytes: 0)
        return r
    }

    @Test func decodesToTheRecordWritten() throws {
        let metrics: [String: Value] = [
            "test.f1": .double(0.30172413793103448), "tiny": .double(1e-300), "negative": .double(-2.5e-7), "big": .double(1.5e300),
            "count": .int(-9_007_199_254_740_993), "ok": .bool(false),
            "per_type": .object(["PER": .object(["f1": .double(0.75), "n": .int(12)]), "empty": .object([:])]),
            "list": .array([.int(1), .array([]), .string("x")]),
        ]
        let r = Self.record(metrics: metrics, error: "quote \" backslash \\ newline \n tab \t cr \r bell \u{07} nul \u{00} é 🙂",
                            logTail: "line 1\nline 2 </script>")
        let json = RecordJSON.record(r, spec: RecordJSON.spec(r.spec))
        #expect(try ResultRecord.decode(Data(json.utf8)) == r)
        // The spec string is the spec: decoding it alone gives the same spec and the same id.
        let spec = try JSONDecoder().decode(TaskSpec.self, from: Data(RecordJSON.spec(r.spec).utf8))
        #expect(spec == r.spec && spec.id == r.spec.id)
        // Control characters are escaped (a raw one would make the JSON invalid).
        #expect(!json.utf8.contains(where: { $0 < 0x20 }))
    }

    @Test func nonFiniteMetricsStayReadable() throws {
        let r = Self.record(metrics: ["nan": .double(.nan), "inf": .double(.infinity), "ninf": .double(-.infinity)])
        let decoded = try ResultRecord.decode(Data(RecordJSON.record(r, spec: RecordJSON.spec(r.spec)).utf8))
        #expect(decoded.metrics == ["nan": .string("NaN"), "inf": .string("Infinity"), "ninf": .string("-Infinity")])
    }

    /// Written by hand from the rules of the writer that produced every existing journal (compact, keys sorted,
    /// doubles in shortest round-trip form with 2.0 kept as `2.0`, NaN as "NaN"): a change here breaks readers.
    @Test func bytesOfARecordAreUnchanged() {
        let spec = TaskSpec(kind: .noop, executor: "noop", seed: 2, language: "yor",
                            setting: CompressionSetting(family: "prune", fields: ["sparsity": .double(0.5)], label: "prune sparsity=0.5"),
                            params: ["noop": .object(["seconds": .double(1), "index": .int(0)])], inputs: ["ab"])
        let r = ResultRecord(taskID: "t1", spec: spec, status: "done",
                             metrics: ["whole": .double(2), "nan": .double(.nan), "n": .int(3), "f1": .double(0.75)],
                             artifacts: [ArtifactRef(name: "a.bin", sha256: "ff", bytes: 3)], engineVersion: "0.3.0", host: "h",
                             worker: "w", threads: 1, attempt: 2, startedAt: 1.5, endedAt: 2, error: "e\n")
        let specJSON = #"{"executor":"noop","inputs":["ab"],"kind":"noop","language":"yor","params":{"noop":{"index":0,"seconds":1.0}},"seed":2,"setting":{"family":"prune","fields":{"sparsity":0.5},"label":"prune sparsity=0.5"}}"#
        #expect(RecordJSON.spec(spec) == specJSON)
        #expect(RecordJSON.record(r, spec: specJSON) == #"{"artifacts":[{"bytes":3,"name":"a.bin","sha256":"ff"}],"attempt":2,"endedAt":2.0,"#
                + #""engineVersion":"0.3.0","error":"e\n","host":"h","metrics":{"f1":0.75,"n":3,"nan":"NaN","whole":2.0},"schema":1,"#
                + #""spec":"# + specJSON + #","startedAt":1.5,"status":"done","taskID":"t1","threads":1,"worker":"w"}"#)
    }
}
