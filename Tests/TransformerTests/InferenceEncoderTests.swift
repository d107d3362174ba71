// The inference encoder against XLMRModel.forward (evaluation mode): same logits on the golden tiny models
// (whose logits match transformers) and on random configs with padding, and buffers reused across shapes.
import Foundation
import Testing
import TestSupport
@testable import TensorCore
@testable import Transformer

extension Tolerance {
    /// Inference encoder against XLMRModel.forward: the same float32 operations in a different order (the bias
    /// is added after sgemm in both; only the attention and LayerNorm scratch differ), relative to max |logit|.
    static let inferenceParityRelative: Float = 1e-5
}

@Suite struct InferenceEncoderTests {
    @Test(arguments: ["golden_mlm", "golden_tc", "golden_types"])
    func goldenModelsGiveTheTrainingEnginesLogits(fixture: String) throws {
        let golden = try Golden(fixture)
        let model = try XLMRModel.load(golden.directory)
        let batch = golden.expected.batchValue
        let encoder = try InferenceEncoder(model: model)
        let ours = try encoder.logits(batch), reference = try model.logits(batch)
        let err = relativeError(ours, reference)
        #expect(err <= Tolerance.inferenceParityRelative, "\(fixture): relative error \(err)")
        // And against transformers' own logits, with the golden budget.
        #expect(relativeError(ours, golden.expected.logits) <= Tolerance.logitsRelative)
    }

    static func randomBatch(_ config: XLMRConfig, B: Int, T: Int, seed: UInt64) -> TokenBatch {
        var r = TestRandom(seed: seed)
        var rows: [[Int32]] = []
        for b in 0..<B {
            let length = b == 0 ? T : max(2, T - 1 - r.below(T - 1))  // the first row full, the rest padded
            rows.append((0..<length).map { _ in Int32(3 + r.below(config.vocabSize - 3)) })
        }
        return TokenBatch(rows: rows, pad: Int32(config.padTokenId))
    }

    @Test(arguments: [(UInt64(1), 1, 7), (2, 3, 9), (3, 4, 5)])
    func randomConfigsWithPaddingMatchTheModel(seed: UInt64, B: Int, T: Int) throws {
        var r = TestRandom(seed: seed)
        let heads = 1 + r.below(3)
        let config = XLMRConfig(vocabSize: 40 + r.below(20), hiddenSize: heads * (4 + r.below(4)), numHiddenLayers: 1 + r.below(3),
                                numAttentionHeads: heads, intermediateSize: 8 + r.below(24), maxPositionEmbeddings: 40)
        for head in [ModelHead.tokenClassification(labels: 5), .maskedLM] {
            let model = try XLMRModel(config: config, head: head)
            model.initializeWeights(seed: seed)
            let encoder = try InferenceEncoder(model: model)
            // Larger shape first, then a smaller one that reuses the buffers, then the larger again.
            for (b, t) in [(B, T), (1, 3), (B, T)] {
                let batch = Self.randomBatch(config, B: b, T: t, seed: seed &+ UInt64(t))
                let err = relativeError(try encoder.logits(batch), try model.logits(batch))
                #expect(err <= Tolerance.inferenceParityRelative, "\(config) \(head) (\(b), \(t)): relative error \(err)")
            }
        }
    }

    @Test(arguments: ["golden_mlm", "golden_tc"])
    func packedEncoderGivesTheModelsLogits(fixture: String) throws {
        let golden = try Golden(fixture)
        let model = try XLMRModel.load(golden.directory)
        let encoder = try InferenceEncoder.packed(model: model)
        #expect(encoder.linears.contains { $0.kernel is PackedDenseLinear })
        // Several row counts through one packing, then the first again.
        let config = model.config
        for (b, t) in [(2, 7), (1, 5), (3, 4), (2, 7)] {
            let batch = Self.randomBatch(config, B: b, T: t, seed: UInt64(b * 10 + t))
            let err = relativeError(try encoder.logits(batch), try model.logits(batch))
            #expect(err <= Tolerance.inferenceParityRelative, "\(fixture) (\(b), \(t)): relative error \(err)")
        }
        if let q = encoder.linears.first?.kernel as? PackedDenseLinear { #expect(q.packed.isPacked == GemmKernel.ownAvailable) }
    }

    @Test(arguments: [1, 2, 3])
    func splitEncoderGivesTheModelsLogits(parts: Int) throws {
        // Wide enough that the FFN linears (rows · out · in ≥ 2^20 at B2×T40) and attention take the threaded split.
        let config = XLMRConfig(vocabSize: 60, hiddenSize: 96, numHiddenLayers: 2, numAttentionHeads: 3, intermediateSize: 200,
                                maxPositionEmbeddings: 50)
        for head in [ModelHead.tokenClassification(labels: 5), .maskedLM] {
            let model = try XLMRModel(config: config, head: head)
            model.initializeWeights(seed: 4)
            let encoder = try InferenceEncoder.split(model: model, parts: parts)
            // (4, 40): q/k/v take the threaded fused hand-over (160 · 96 · 96 ≥ 2^20). (13, 40): 520 rows, above
            // SplitPackedLinear.maximumRows, takes the OpenMP sgemm path (and the residual LayerNorms split by rows).
            for (b, t) in [(2, 40), (1, 6), (3, 20), (4, 40), (2, 40), (13, 40)] {
                let batch = Self.randomBatch(config, B: b, T: t, seed: UInt64(b * 100 + t))
                let err = relativeError(try encoder.logits(batch), try model.logits(batch))
                #expect(err <= Tolerance.inferenceParityRelative, "\(head) parts \(parts) (\(b), \(t)): relative error \(err)")
            }
        }
    }

    @Test func perLayerHeadsAndFFNWidthsMatchTheModel() throws {
        // A structurally pruned shape: layer 0 keeps 1 of 3 heads and 5 FFN neurons, layer 1 all heads and 11.
        var config = XLMRConfig(vocabSize: 50, hiddenSize: 12, numHiddenLayers: 2, numAttentionHeads: 3, intermediateSize: 16,
                                maxPositionEmbeddings: 40)
        config.prunedHeads = ["0": [0, 2]]
        config.layerIntermediateSizes = [5, 11]
        let model = try XLMRModel(config: config, head: .tokenClassification(labels: 4))
        model.initializeWeights(seed: 8)
        let encoder = try InferenceEncoder(model: model)
        for (b, t) in [(3, 9), (1, 4)] {
            let batch = Self.randomBatch(config, B: b, T: t, seed: UInt64(b * 10 + t))
            let err = relativeError(try encoder.logits(batch), try model.logits(batch))
            #expect(err <= Tolerance.inferenceParityRelative, "(\(b), \(t)): relative error \(err)")
        }
    }

    @Test func replacementKernelsAreUsedAndShapesChecked() throws {
        let config = XLMRConfig(vocabSize: 30, hiddenSize: 8, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 16,
                                maxPositionEmbeddings: 20)
        let model = try XLMRModel(config: config, head: .tokenClassification(labels: 3))
        model.initializeWeights(seed: 4)
        // A classifier that outputs only its bias: every logit row equals it.
        let zero = DenseLinear(weight: [Float](repeating: 0, count: 24), bias: [1, 2, 3], inFeatures: 8, outFeatures: 3)
        let encoder = try InferenceEncoder(model: model, replacing: ["classifier": zero])
        let logits = try encoder.logits(TokenBatch(batch: 1, tokens: 2, ids: [0, 2]))
        #expect(logits == [1, 2, 3, 1, 2, 3])
        let wrong = DenseLinear(weight: [Float](repeating: 0, count: 16), bias: [0, 0], inFeatures: 8, outFeatures: 2)
        #expect(throws: ModelError.self) { try InferenceEncoder(model: model, replacing: [LinearNames.name(layer: 0, LinearNames.query): wrong]) }
        #expect(throws: ModelError.self) { try encoder.logits(TokenBatch(batch: 1, tokens: 2, ids: [0, 30])) }
    }
}
