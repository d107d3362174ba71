// Per-layer shapes (heads removed in some layers, narrower FFNs in others): the whole model's gradients match
// finite differences, slots have the pruned shapes, and such a checkpoint saves and loads unchanged.
import Foundation
import Testing
import TestSupport
@testable import TensorCore
@testable import Transformer

@Suite struct PerLayerShapeTests {
    /// 3 layers of 3 heads (HS 2): layer 0 loses head 1, layer 2 loses heads 0 and 2; FFN widths 12, 5, 7.
    static let config = XLMRConfig(vocabSize: 20, hiddenSize: 6, numHiddenLayers: 3, numAttentionHeads: 3, intermediateSize: 12,
                                   maxPositionEmbeddings: 12, hiddenDropoutProb: 0, attentionProbsDropoutProb: 0,
                                   initializerRange: 0.3, prunedHeads: ["0": [1], "2": [0, 2]], layerIntermediateSizes: [12, 5, 7])

    @Test func slotsHavePerLayerShapes() throws {
        let c = Self.config
        #expect(!c.isUniform)
        let model = try XLMRModel(config: c, head: .tokenClassification(labels: 3))
        #expect(model.parameter("roberta.encoder.layer.0.attention.self.query.weight")!.shape == [4, 6])
        #expect(model.parameter("roberta.encoder.layer.1.attention.self.key.bias")!.shape == [6])
        #expect(model.parameter("roberta.encoder.layer.2.attention.self.value.weight")!.shape == [2, 6])
        #expect(model.parameter("roberta.encoder.layer.2.attention.output.dense.weight")!.shape == [6, 2])
        #expect(model.parameter("roberta.encoder.layer.1.intermediate.dense.weight")!.shape == [5, 6])
        #expect(model.parameter("roberta.encoder.layer.2.output.dense.weight")!.shape == [6, 7])
    }

    @Test(arguments: [ModelHead.maskedLM, .tokenClassification(labels: 3)])
    func nonUniformModelMatchesFiniteDifferences(head: ModelHead) throws {
        let model = try XLMRModel(config: Self.config, head: head)
        model.initializeWeights(seed: 21)
        let (checked, mismatches) = try GradientCheckTests.wholeModelCheck(model, head: head, noiseSeed: 22, pickSeed: 23)
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
        #expect(checked >= 3 * (model.layout.entries.count - 3))
    }

    @Test func nonUniformCheckpointRoundTrips() throws {
        let model = try XLMRModel(config: Self.config, head: .tokenClassification(labels: 3))
        model.initializeWeights(seed: 5)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("perlayer-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try model.save(dir)
        let back = try XLMRModel.load(dir)
        #expect(back.config.prunedHeads == Self.config.prunedHeads)
        #expect(back.config.layerIntermediateSizes == [12, 5, 7])
        #expect(back.parameters.array == model.parameters.array)
        let batch = GradientCheckTests.batch(model.head)
        #expect(try back.logits(batch) == model.logits(batch))
    }
}
