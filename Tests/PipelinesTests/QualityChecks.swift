// Calibration, loyalty and provenance in the records of a tiny grid (the quantize test's pretrain → finetune →
// quantize runs them): every metric present and in range, the dense test predictions travel as an artifact that
// reads back to what the evaluator predicts, and a compress task whose dense predictions are missing, corrupt or
// for another test set fails with a message saying which.
import Evaluation
import Experiment
import Foundation
@testable import Pipelines
import Testing
import TestSupport
import TextData

enum QualityChecks {
    static func unit(_ m: [String: Value], _ key: String) -> Bool {
        guard let v = m[key]?.doubleValue else { return false }
        return v >= 0 && v <= 1
    }

    /// The metrics every evaluated record has, for the dense record `ft` and a compressed `variant` of it.
    static func records(dense ft: PipelineOutcome, variant q: PipelineOutcome, testWords: Int) throws {
        for (name, m) in [("dense", ft.metrics), ("variant", q.metrics)] {
            for level in ["token", "entity"] {
                #expect(unit(m, "calibration.\(level).ece") && unit(m, "calibration.\(level).mce"), "\(name) \(level)")
                let bins = try #require(m["calibration.\(level).bins"]?.arrayValue, "\(name) \(level)")
                let counts = bins.compactMap { $0.objectValue?["count"]?.intValue }
                    + [m["calibration.\(level).certain"]?.objectValue?["count"]?.intValue ?? -1]
                #expect(bins.count == 15 && counts.reduce(0, +) == m["calibration.\(level).count"]?.intValue, "\(name) \(level)")
            }
            #expect(m["calibration.token.count"]?.intValue == testWords, "every test word is a scored position")
            #expect((m["train.seconds"]?.doubleValue ?? -1) > 0 && (m["eval.seconds"]?.doubleValue ?? -1) > 0, "\(name)")
            #expect((m["memory.peak_bytes"]?.intValue ?? 0) > 1 << 20, "\(name)")
            #expect(!(m["isa"]?.stringValue ?? "").isEmpty && m["compute.gemm"] != nil && m["memory.scope"]?.stringValue != nil, "\(name)")
        }
        #expect(ft.metrics["loyalty.label"] == nil, "the dense model has no dense reference")
        for key in ["loyalty.label", "loyalty.probability", "loyalty.flips.correct_to_wrong", "loyalty.flips.wrong_to_correct"] {
            #expect(unit(q.metrics, key), "\(key)")
        }
    }

    /// The dense artifact of `ft` reads back; a `compress` task given a parent whose artifact is missing or corrupt,
    /// or an artifact read against another test set, fails saying which.
    static func denseArtifact(_ ft: PipelineOutcome, compress: PlannedTask, test: [NERSentence], runner: TaskRunner, dir: URL) throws {
        let predictionsFile = try #require(ft.files[DensePredictions.file])
        let ftFolder = predictionsFile.deletingLastPathComponent()
        let back = try DensePredictions.read(from: ftFolder, gold: test, labels: .masakhaNER)
        #expect(back.labels.map(\.count) == test.map(\.words.count))
        #expect(back.probabilities.allSatisfy { $0.allSatisfy { abs($0.reduce(0, +) - 1) < 1e-5 } })

        let parent = dir.appendingPathComponent("parent")
        try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        for name in CheckpointFiles.files {
            try FileManager.default.copyItem(at: try #require(ft.files[name]), to: parent.appendingPathComponent(name))
        }
        let parentOutcome = PipelineOutcome(checkpoint: parent, files: [:], metrics: [:])
        #expect { try runner.run(compress, inputs: [parentOutcome]) } throws: {
            "\($0)".contains("dense predictions artifact") && "\($0)".contains("missing")
        }
        let bytes = try Data(contentsOf: predictionsFile)
        try bytes.prefix(bytes.count / 2).write(to: parent.appendingPathComponent(DensePredictions.file))
        #expect { try runner.run(compress, inputs: [parentOutcome]) } throws: {
            "\($0)".contains("dense predictions artifact") && "\($0)".contains("corrupt")
        }
        #expect {
            try DensePredictions.read(from: ftFolder, gold: Array(test.dropLast()), labels: .masakhaNER)
        } throws: { "\($0)".contains("another test set") }
    }
}
