// Calibration, loyalty and provenance in the records of a tiny grid (pretrain → finetune → quantize): every
// metric present and in range, the dense test predictions travel as an artifact that reads back to what the
// evaluator predicts, and a compress task whose dense predictions are missing, corrupt or for another test set
// fails with a message saying which.
import Evaluation
import Experiment
import Foundation
@testable import Pipelines
import Testing
import TestSupport
import TextData

@Suite struct QualityMetricsTests {
    static func unit(_ m: [String: Value], _ key: String) -> Bool {
        guard let v = m[key]?.doubleValue else { return false }
        return v >= 0 && v <= 1
    }

    @Test func recordsCarryCalibrationLoyaltyAndProvenance() throws {
        let dir = try Fixtures.temporaryDirectory("quality")
        defer { try? FileManager.default.removeItem(at: dir) }
        let yaml = """
            name: tiny
            data: {source: synthetic, synthetic_sentences: 200}
            model: {layers: 1, hidden: 32, heads: 2, ffn: 64, max_length: 32, vocab: 400}
            pretrain: {steps: 10, batch: 8, learning_rate: 1.0e-3}
            finetune: {epochs: 1, batch: 8, learning_rate: 1.0e-3}
            seeds: [3]
            languages: [syn-iso]
            compression:
              - quantize: {scheme: dynamic}
            """
        let graph = try JobSpec.parse(yaml: yaml, file: "tiny.yaml").plan()
        let runner = TaskRunner(root: dir)
        let pre = try runner.run(try #require(graph.tasks.first { $0.spec.kind == .pretrain }), inputs: [])
        let finetune = try #require(graph.tasks.first { $0.spec.kind == .finetune })
        let ft = try runner.run(finetune, inputs: [pre])
        let compress = try #require(graph.tasks.first { $0.spec.kind == .compress })
        let q = try runner.run(compress, inputs: [ft])

        for (name, m) in [("dense", ft.metrics), ("quantized", q.metrics)] {
            for level in ["token", "entity"] {
                #expect(Self.unit(m, "calibration.\(level).ece") && Self.unit(m, "calibration.\(level).mce"), "\(name) \(level)")
                let bins = try #require(m["calibration.\(level).bins"]?.arrayValue, "\(name) \(level)")
                let counts = bins.compactMap { $0.objectValue?["count"]?.intValue } + [m["calibration.\(level).certain"]?.objectValue?["count"]?.intValue ?? -1]
                #expect(bins.count == 15 && counts.reduce(0, +) == m["calibration.\(level).count"]?.intValue, "\(name) \(level)")
            }
            #expect((m["calibration.entity.ece"]?.doubleValue ?? 0) >= 0)
            #expect((m["train.seconds"]?.doubleValue ?? -1) > 0 && (m["eval.seconds"]?.doubleValue ?? -1) > 0, "\(name)")
            #expect((m["memory.peak_bytes"]?.intValue ?? 0) > 1 << 20, "\(name)")
            #expect(!(m["isa"]?.stringValue ?? "").isEmpty && m["compute.gemm"] != nil && m["memory.scope"]?.stringValue != nil, "\(name)")
        }
        // The token-level count is every test word.
        let splits = try Corpora.ner(try PipelineData.source(try TaskSettings(finetune.spec).data, needsText: false), language: "syn-iso")
        #expect(ft.metrics["calibration.token.count"]?.intValue == splits.test.reduce(0) { $0 + $1.words.count })
        #expect(ft.metrics["loyalty.label"] == nil, "the dense model has no dense reference")
        for key in ["loyalty.label", "loyalty.probability", "loyalty.flips.correct_to_wrong", "loyalty.flips.wrong_to_correct"] {
            #expect(Self.unit(q.metrics, key), "\(key)")
        }
        // Dynamic int8 on a fine-tuned model keeps most labels.
        #expect((q.metrics["loyalty.label"]?.doubleValue ?? 0) > 0.9)

        // The artifact reads back to the evaluator's own predictions of the fine-tuned checkpoint.
        let predictionsFile = try #require(ft.files[DensePredictions.file])
        let ftFolder = predictionsFile.deletingLastPathComponent()
        let labels = LabelSet.masakhaNER
        let back = try DensePredictions.read(from: ftFolder, gold: splits.test, labels: labels)
        #expect(back.labels.map(\.count) == splits.test.map(\.words.count))
        #expect(back.probabilities.allSatisfy { $0.allSatisfy { abs($0.reduce(0, +) - 1) < 1e-5 } })

        // Missing, corrupt and foreign dense predictions are permanent errors that say which.
        let parent = dir.appendingPathComponent("parent")
        try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        for name in CheckpointFiles.files {
            try FileManager.default.copyItem(at: try #require(ft.files[name]), to: parent.appendingPathComponent(name))
        }
        let parentOutcome = PipelineOutcome(checkpoint: parent, files: [:], metrics: [:])
        #expect { try runner.run(compress, inputs: [parentOutcome]) } throws: { "\($0)".contains("dense predictions artifact") && "\($0)".contains("missing") }
        let bytes = try Data(contentsOf: predictionsFile)
        try bytes.prefix(bytes.count / 2).write(to: parent.appendingPathComponent(DensePredictions.file))
        #expect { try runner.run(compress, inputs: [parentOutcome]) } throws: { "\($0)".contains("dense predictions artifact") && "\($0)".contains("corrupt") }
        #expect {
            try DensePredictions.read(from: ftFolder, gold: Array(splits.test.dropLast()), labels: labels)
        } throws: { "\($0)".contains("another test set") }
    }
}
