// The pipelines behind the CLI's checkpoint commands, on a tiny random token-classification model: one-shot pruning
// writes the model `Pruning.oneShot` makes (dense or compact) and reports its counts; quantizing writes a
// checkpoint that loads as quantized and is refused as an input; logits are the model's own, row by row.
import Compression
import Experiment
import Foundation
import Testing
import TestSupport
import Transformer
@testable import Pipelines

@Suite struct CheckpointCommandTests {
    static func tinyCheckpoint(_ dir: URL) throws -> (XLMRModel, URL) {
        let config = XLMRConfig(vocabSize: 50, hiddenSize: 16, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 32,
                                maxPositionEmbeddings: 18)
        let model = try XLMRModel(config: config, head: .tokenClassification(labels: 9))
        model.initializeWeights(seed: 3)
        let folder = dir.appendingPathComponent("tiny")
        try model.save(folder)
        return (model, folder)
    }

    @Test func pruneCheckpointIsTheOneShotModel() throws {
        let dir = try Fixtures.temporaryDirectory("prune-checkpoint")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (_, folder) = try Self.tinyCheckpoint(dir)
        let setting = try PruneSettings(section: ["sparsity": .double(0.5), "scope": .string("layer")])
        let expected = try Pruning.oneShot(try XLMRModel.load(folder), structure: .unstructured, sparsity: 0.5, scope: .layer)
        for compact in [false, true] {
            let out = dir.appendingPathComponent("out-\(compact)")
            let result = try Pipelines.pruneCheckpoint(folder, setting, compact: compact, out: out, log: NoLog())
            let written = try SparseCheckpoint.loadAny(out)
            #expect(written.parameters.array == expected.parameters.array)
            #expect(result.weightsFile == (compact ? SparseCheckpoint.weightsFile : XLMRModel.weightsFile))
            #expect(result.report == Pruning.report(expected, structure: .unstructured) && result.before == expected.layout.parameterCount)
        }
        let heads = try PruneSettings(section: ["sparsity": .double(0.5), "structure": .string("heads")])
        let smaller = try Pipelines.pruneCheckpoint(folder, heads, compact: false, out: dir.appendingPathComponent("heads"), log: NoLog())
        #expect(smaller.report.headsPerLayer == [1, 1] && smaller.report.parameters < smaller.before)
    }

    @Test func quantizeCheckpointWritesAQuantizedModelAndRefusesOne() throws {
        let dir = try Fixtures.temporaryDirectory("quantize-checkpoint")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (_, folder) = try Self.tinyCheckpoint(dir)
        let out = dir.appendingPathComponent("q")
        let config = try QuantizeSettings(section: ["scheme": .string("dynamic")]).config()
        let summary = try Pipelines.quantizeCheckpoint(folder, config: config, calibrationText: nil, sentences: 1, maxLength: 16, out: out,
                                                       compute: ComputeContext(threads: 1))
        #expect(summary.scheme == "dynamic" && summary.calibration == nil && summary.groupSize == nil)
        #expect(summary.encoderLinearBytes < summary.fp32EncoderLinearBytes)
        #expect(QuantizedModel.isQuantized(out))
        #expect(throws: PermanentTaskError.self) {
            try Pipelines.quantizeCheckpoint(out, config: config, calibrationText: nil, sentences: 1, maxLength: 16,
                                             out: dir.appendingPathComponent("qq"), compute: ComputeContext(threads: 1))
        }
    }

    @Test func logitsAreTheModelsRowByRow() throws {
        let dir = try Fixtures.temporaryDirectory("logits")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (model, folder) = try Self.tinyCheckpoint(dir)
        let rows: [[Int32]] = [[0, 7, 9, 2], [0, 11, 2]]
        let logits = try Pipelines.logits(folder, rows: rows, compute: ComputeContext(threads: 1))
        let flat = try model.logits(TokenBatch(rows: rows, pad: model.padId))
        #expect(logits.count == 2 && logits.allSatisfy { $0.count == 4 && $0.allSatisfy { $0.count == 9 } })
        #expect(logits.flatMap { $0.flatMap { $0 } } == flat)
    }
}
