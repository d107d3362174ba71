// Finite-difference gradient checks of the whole tiny model (every layer's parameters: embeddings,
// attention, FFN, LayerNorms, both heads) in float32 with central differences; plus dropout semantics.
import Foundation
import Testing
import TestSupport
@testable import TensorCore
@testable import Transformer

@Suite struct GradientCheckTests {
    static let config = XLMRConfig(vocabSize: 20, hiddenSize: 8, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 12,
                                   maxPositionEmbeddings: 12, hiddenDropoutProb: 0, attentionProbsDropoutProb: 0,
                                   initializerRange: 0.3)

    static func batch(_ head: ModelHead) -> TokenBatch {
        let ids: [Int32] = [0, 5, 9, 13, 2, 0, 17, 4, 2, 1]
        let mask: [Int32] = [1, 1, 1, 1, 1, 1, 1, 1, 1, 0]
        let labels: [Int32] = head == .maskedLM ? [-100, 7, -100, 11, -100, -100, 3, 19, -100, -100]
                                                : [-100, 1, 0, 2, -100, 2, 1, 0, 1, -100]
        return TokenBatch(batch: 2, tokens: 5, ids: ids, attentionMask: mask, labels: labels)
    }

    /// The whole model's gradients against finite differences of its evaluation-mode loss, after adding noise to
    /// the biases and LayerNorm parameters (so their paths matter). Every tensor but the attention key bias,
    /// whose gradient is exactly zero (softmax ignores a per-row constant).
    static func wholeModelCheck(_ model: XLMRModel, head: ModelHead, noiseSeed: UInt64, pickSeed: UInt64) throws
        -> (checked: Int, mismatches: [String]) {
        var noise = Xoshiro256(seed: noiseSeed)
        for e in model.layout.entries where e.shape.count == 1 {
            let t = model.parameter(e.name)!
            for i in 0..<t.count { t[i] += 0.1 * noise.normal() }
        }
        let batch = Self.batch(head)
        let w = Workspace(config: model.config, head: head, maxBatch: 2, maxTokens: 5, training: true)
        var rng = Xoshiro256(seed: 0)
        model.zeroGradients()
        _ = try model.forward(batch, workspace: w, training: true, rng: &rng)
        model.backward(workspace: w)
        let evalSpace = Workspace(config: model.config, head: head, maxBatch: 2, maxTokens: 5, training: false)
        func loss() -> Double { Double(try! model.forward(batch, workspace: evalSpace, training: false, rng: &rng)!) }
        var pick = Xoshiro256(seed: pickSeed)
        let tensors = model.layout.entries.filter { !$0.name.contains("attention.self.key.bias") }.map {
            FiniteDifferenceTensor(name: $0.name, values: model.parameter($0.name)!.pointer,
                                   gradients: model.gradient($0.name)!.pointer, count: $0.count)
        }
        return finiteDifferenceCheck(tensors, pick: { pick.below($0) }, loss: loss)
    }

    @Test(arguments: [ModelHead.maskedLM, .tokenClassification(labels: 3)])
    func wholeModelMatchesFiniteDifferences(head: ModelHead) throws {
        let model = try XLMRModel(config: Self.config, head: head)
        model.initializeWeights(seed: 8)
        let (checked, mismatches) = try Self.wholeModelCheck(model, head: head, noiseSeed: 9, pickSeed: 10)
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
        #expect(checked >= 3 * (model.layout.entries.count - 2))
    }

    @Test func dropoutIsOnInTrainingAndOffInEvaluation() throws {
        var c = Self.config
        c.hiddenDropoutProb = 0.3; c.attentionProbsDropoutProb = 0.3
        let model = try XLMRModel(config: c, head: .tokenClassification(labels: 3))
        model.initializeWeights(seed: 2)
        let batch = Self.batch(.tokenClassification(labels: 3))
        let train = Workspace(config: c, head: model.head, maxBatch: 2, maxTokens: 5, training: true)
        var r1 = Xoshiro256(seed: 1), r2 = Xoshiro256(seed: 2), r3 = Xoshiro256(seed: 1)
        let l1 = try model.forward(batch, workspace: train, training: true, rng: &r1)!
        let l2 = try model.forward(batch, workspace: train, training: true, rng: &r2)!
        let l3 = try model.forward(batch, workspace: train, training: true, rng: &r3)!
        #expect(l1 != l2, "different dropout seeds give different losses")
        #expect(l1 == l3, "the same seed gives the same loss bit for bit")
        let e1 = try model.logits(batch), e2 = try model.logits(batch)
        #expect(e1 == e2, "evaluation is deterministic (no dropout)")
        var noDrop = c
        noDrop.hiddenDropoutProb = 0; noDrop.attentionProbsDropoutProb = 0
        let twin = try XLMRModel(config: noDrop, head: model.head)
        twin.parameters.copy(from: model.parameters)
        #expect(try twin.logits(batch) == e1, "evaluation equals a dropout-free model")
    }

    @Test func dropoutGradientsMatchFiniteDifferencesWithFixedMasks() throws {
        // With the RNG reseeded identically before each forward, the dropout masks are fixed, so the
        // training loss is a smooth function of the parameters and its gradient can be checked.
        var c = Self.config
        c.hiddenDropoutProb = 0.2; c.attentionProbsDropoutProb = 0.2
        let head = ModelHead.tokenClassification(labels: 3)
        let model = try XLMRModel(config: c, head: head)
        model.initializeWeights(seed: 4)
        let batch = Self.batch(head)
        let w = Workspace(config: c, head: head, maxBatch: 2, maxTokens: 5, training: true)
        func loss() -> Double { var r = Xoshiro256(seed: 77); return Double(try! model.forward(batch, workspace: w, training: true, rng: &r)!) }
        model.zeroGradients()
        _ = loss()
        model.backward(workspace: w)
        for name in ["roberta.encoder.layer.0.attention.self.query.weight", "roberta.encoder.layer.1.output.dense.weight",
                     "roberta.embeddings.position_embeddings.weight", "classifier.weight"] {
            let p = model.parameter(name)!, g = model.gradient(name)!
            let i = g.array.indices.max { abs(g[$0]) < abs(g[$1]) }!
            let saved = p[i], h = Tolerance.finiteDifferenceStep
            p[i] = saved + h; let up = loss()
            p[i] = saved - h; let down = loss()
            p[i] = saved
            let fd = Float((up - down) / Double(2 * h))
            #expect(abs(fd - g[i]) <= Tolerance.finiteDifferenceRelative * max(abs(fd), abs(g[i])) + Tolerance.finiteDifferenceAbsolute,
                    "\(name)[\(i)]: fd \(fd) vs \(g[i])")
        }
    }
}
