// Every metric docs/results.md defines, read back from `results.jsonl` of a real engine grid (the quickstart's
// families on a tiny model): present in every record it belongs to, and inside its stated range. The dense
// models must also beat a model that predicts O everywhere (F1 0).
import Experiment
import Foundation
import Testing
import TestSupport

@Suite(.serialized, .enabled(if: Smaller.available, Smaller.unavailable)) struct RecordMetricsTests {
    static let yaml = """
        name: metrics
        data: {source: synthetic, synthetic_sentences: 800}
        model: {layers: 2, hidden: 64, heads: 2, ffn: 128, max_length: 32, vocab: 500}
        pretrain: {steps: 100, batch: 16, learning_rate: 1.0e-3}
        finetune: {epochs: 8, batch: 16, learning_rate: 3.0e-3}
        seeds: [1]
        languages: [syn-iso, syn-ton]
        compression:
          - prune: {sparsity: 0.5, when: [before, after]}
          - distill: {layers: 1, epochs: 1}
          - quantize: {scheme: dynamic}
        """

    @Test func everyEvaluatedRecordCarriesEveryMetricInRange() throws {
        let dir = try Fixtures.temporaryDirectory("record-metrics")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("run")
        let child = try Child(["run", try writeJob(Self.yaml, in: dir), "--workers", "2", "--out", out.path], in: dir, name: "run")
        let status = child.wait(seconds: 900, "smaller run (tiny engine grid)")
        #expect(status == 0, "smaller run: \(child.text.suffix(3000))")

        let records = try RunDir(url: out).exportedRecords()
        #expect(records.count == 1 + 2 + 2 * 4)
        // Provenance: the commit the worker was built from (GitCommitPlugin), this checkout's HEAD.
        let head = Process()
        head.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        head.arguments = ["-C", Fixtures.repositoryRoot.path, "rev-parse", "--short=12", "HEAD"]
        let pipe = Pipe()
        head.standardOutput = pipe
        try head.run()
        head.waitUntilExit()
        let commit = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        for record in records {
            #expect(record.gitCommit?.hasPrefix(commit) == true && commit.count == 12, "\(record.spec.title): gitCommit \(record.gitCommit ?? "absent"), HEAD \(commit)")
        }
        for record in records {
            let m = record.metrics, title = record.spec.title
            func number(_ key: String) -> Double? { m[key]?.doubleValue }
            func expectIn(_ key: String, _ range: ClosedRange<Double>) {
                guard let v = number(key) else { Issue.record("\(title): no \(key)"); return }
                #expect(range.contains(v), "\(title): \(key) = \(v) outside \(range)")
            }
            // Every engine record: provenance and memory.
            expectIn("threads", 1...1024)
            expectIn("memory.peak_bytes", 1...1e13)
            #expect(["task", "process"].contains(m["memory.scope"]?.stringValue ?? ""), "\(title): memory.scope")
            #expect((m["isa"]?.stringValue ?? "").isEmpty == false, "\(title): isa")
            #expect((m["compute.gemm"]?.stringValue ?? "").isEmpty == false, "\(title): compute.gemm")
            guard record.spec.kind != .pretrain else { continue }

            for split in ["dev", "test"] {
                for k in ["f1", "precision", "recall", "token_accuracy"] { expectIn("\(split).\(k)", 0...1) }
            }
            for k in ["latency.b1.p50_ms", "latency.p95_ms", "throughput.b32", "train.seconds", "eval.seconds", "robust.seconds"] {
                expectIn(k, 0...1e7)
            }
            #expect(number("latency.p95_ms")! >= number("latency.b1.p50_ms")!, "\(title): p95 below p50")
            // The added evaluation's timers: each within the task's own wall time, and their sum recorded.
            let fromDense = record.spec.kind == .compress && record.spec.setting?.fields["when"] != .string("before")
            let taskSeconds = record.endedAt - record.startedAt
            var timers = ["robust.seconds", "robust.prepare_seconds", "calibration.seconds"]
            if record.spec.kind == .finetune { timers.append("predictions.seconds") }
            if fromDense { timers.append("loyalty.seconds") }
            for k in timers + ["eval.added_seconds"] { expectIn(k, 0...taskSeconds) }
            let parts = timers.compactMap(number).reduce(0, +)
            #expect(abs(number("eval.added_seconds")! - parts) <= 1e-9 * max(1, parts), "\(title): eval.added_seconds is not the sum of \(timers)")
            #expect(number("eval.added_seconds")! <= number("eval.seconds")! + number("robust.prepare_seconds")! + 1e-9,
                    "\(title): added evaluation outside eval.seconds + the sets' preparation")
            // Robustness: every perturbation of the default settings.
            for p in ["diacritics", "typos@0.05", "typos@0.1", "typos@0.2"] {
                expectIn("robust.\(p).f1", 0...1)
                expectIn("robust.\(p).changed_words", 0...1)
                if number("test.f1")! > 0 { expectIn("robust.\(p).ratio", 0...1e6) }
            }
            // Typos at a higher rate change more words (same text, same seed).
            #expect(number("robust.typos@0.05.changed_words")! < number("robust.typos@0.2.changed_words")!, "\(title)")
            // Calibration at both levels, with the 15 reliability bins whose counts add up with the certain bin.
            for level in ["token", "entity"] {
                expectIn("calibration.\(level).ece", 0...1)
                expectIn("calibration.\(level).mce", 0...1)
                #expect(number("calibration.\(level).ece")! <= number("calibration.\(level).mce")! + 1e-12, "\(title): ECE > MCE")
                let bins = m["calibration.\(level).bins"]?.arrayValue ?? []
                #expect(bins.count == 15, "\(title): \(level) bins")
                let counted = bins.compactMap { $0["count"]?.intValue }.reduce(0, +) + (m["calibration.\(level).certain"]?["count"]?.intValue ?? 0)
                #expect(counted == m["calibration.\(level).count"]?.intValue, "\(title): \(level) bin counts")
                for bin in bins where (bin["count"]?.intValue ?? 0) > 0 {
                    #expect((0...1).contains(bin["confidence"]?.doubleValue ?? -1) && (0...1).contains(bin["accuracy"]?.doubleValue ?? -1))
                }
            }
            // Loyalty: every compressed variant made from the fine-tuned model (prune before has no dense reference).
            for k in ["loyalty.label", "loyalty.probability", "loyalty.flips.correct_to_wrong", "loyalty.flips.wrong_to_correct"] {
                if fromDense { expectIn(k, 0...1) } else { #expect(m[k] == nil, "\(title): \(k) without a dense reference") }
            }
            if record.spec.kind == .finetune {
                #expect(number("test.f1")! > 0, "\(title): the dense model finds no entity (as an all-O model)")
            }
        }
    }
}
