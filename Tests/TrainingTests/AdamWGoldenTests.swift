// The 10-step AdamW loss curve (warmup + linear decay + clipping) against torch.optim.AdamW, and the
// optimizer pieces against hand-computed values.
import Foundation
import Testing
import TestSupport
@testable import TensorCore
@testable import Training
@testable import Transformer

struct CurveExpected: Decodable {
    struct Run: Decodable { let steps: Int, lr: Float, weight_decay: Float, warmup: Int, clip: Float, betas: [Float], eps: Float, losses: [Float] }
    let ids: [Int32], attention_mask: [Int32], labels: [Int32], batch: Int, tokens: Int, adamw: Run
}

@Suite struct AdamWGoldenTests {
    @Test func tenStepLossCurveMatchesTorch() throws {
        let dir = Fixtures.referenceFixtures.appendingPathComponent("golden_mlm")
        let e = try JSONDecoder().decode(CurveExpected.self, from: Data(contentsOf: dir.appendingPathComponent("expected.json")))
        let model = try XLMRModel.load(dir)
        let run = e.adamw
        let optimizer = AdamW(model: model, settings: AdamWSettings(beta1: run.betas[0], beta2: run.betas[1], eps: run.eps,
                                                                    weightDecay: run.weight_decay))
        let schedule = LinearSchedule(peak: run.lr, warmup: run.warmup, total: run.steps)
        let batch = TokenBatch(batch: e.batch, tokens: e.tokens, ids: e.ids, attentionMask: e.attention_mask, labels: e.labels)
        let w = Workspace(config: model.config, head: model.head, maxBatch: e.batch, maxTokens: e.tokens, training: true)
        var rng = Xoshiro256(seed: 0)
        var losses: [Float] = []
        for step in 0..<run.steps {
            model.zeroGradients()
            losses.append(try #require(try model.forward(batch, workspace: w, training: true, rng: &rng)))
            model.backward(workspace: w)
            GradientClipping.clip(model, maxNorm: run.clip)
            optimizer.update(model, lr: schedule.rate(at: step))
        }
        losses.append(try #require(try model.forward(batch, workspace: w, training: false, rng: &rng)))
        for (i, (ours, theirs)) in zip(losses, run.losses).enumerated() {
            #expect(abs(ours - theirs) <= Tolerance.lossCurveAbsolute, "step \(i): loss \(ours) vs torch \(theirs)")
        }
        #expect(losses.count == run.losses.count)
    }

    @Test func scheduleIsLinearWarmupThenDecay() {
        let s = LinearSchedule(peak: 1, warmup: 2, total: 10)
        #expect([0, 1, 2, 6, 10, 12].map { s.rate(at: $0) } == [0, 0.5, 1, 0.5, 0, 0])
    }

    @Test func oneAdamWStepByHand() throws {
        // A single parameter: with g = 0.5, lr = 0.1, wd = 0.01 the first step is
        // p ← p·(1 − lr·wd) − lr · m̂ / (√v̂ + eps) with m̂ = g, v̂ = g², i.e. p·0.999 − 0.1 · 0.5/(0.5 + 1e-8).
        let config = XLMRConfig(vocabSize: 8, hiddenSize: 4, numHiddenLayers: 0, numAttentionHeads: 1, intermediateSize: 4,
                                maxPositionEmbeddings: 8)
        let model = try XLMRModel(config: config, head: .tokenClassification(labels: 2))
        let name = "classifier.bias"
        let p = model.parameter(name)!, g = model.gradient(name)!
        p[0] = 2; g[0] = 0.5
        let optimizer = AdamW(model: model, settings: AdamWSettings(weightDecay: 0.01))
        optimizer.update(model, lr: 0.1)
        let expected = Double(2) * 0.999 - 0.1 * 0.5 / (0.5 + 1e-8)
        #expect(abs(Double(p[0]) - expected) < 1e-6)
        #expect(p[1] == 0, "a parameter with zero gradient and value stays zero")
    }

    @Test func clippingScalesToMaxNorm() throws {
        let config = XLMRConfig(vocabSize: 8, hiddenSize: 4, numHiddenLayers: 0, numAttentionHeads: 1, intermediateSize: 4,
                                maxPositionEmbeddings: 8)
        let model = try XLMRModel(config: config, head: .tokenClassification(labels: 2))
        let g = model.gradient("classifier.bias")!
        g[0] = 3; g[1] = 4
        let norm = GradientClipping.clip(model, maxNorm: 1)
        #expect(norm == 5)
        #expect(abs(g[0] - 0.6) < 1e-5 && abs(g[1] - 0.8) < 1e-5)
        #expect(GradientClipping.clip(model, maxNorm: 10) < 1.0001, "no scaling below the maximum")
    }

    @Test func fusedClippedUpdateEqualsClipThenPlainLoopBitForBit() throws {
        // The trainer's path (clip factor fused into the eight-lane update) against the textbook order: scale the
        // gradients, then the scalar AdamW loop written out here. Odd sizes exercise the scalar tails.
        let config = XLMRConfig(vocabSize: 37, hiddenSize: 12, numHiddenLayers: 1, numAttentionHeads: 3, intermediateSize: 20,
                                maxPositionEmbeddings: 16)
        let model = try XLMRModel(config: config, head: .tokenClassification(labels: 5))
        model.initializeWeights(seed: 9)
        var r = TestRandom(seed: 10)
        let n = model.parameters.count
        let settings = AdamWSettings(weightDecay: 0.05, excludeBiasAndNormFromDecay: true)
        let optimizer = AdamW(model: model, settings: settings)
        var p = Array(model.parameters.buffer), m = [Float](repeating: 0, count: n), v = m
        for step in 1...4 {
            let grads = (0..<n).map { _ in r.uniform() * 3 }
            model.gradients.pointer.update(from: grads, count: n)
            let lr: Float = 0.01 * Float(step)
            let (_, scale) = GradientClipping.coefficient(model, maxNorm: 1)
            #expect(scale < 1, "the gradients are large enough to be clipped")
            optimizer.update(model, lr: lr, gradientScale: scale)
            // Reference: clip, then the plain loop.
            let bc1 = 1 - powf(settings.beta1, Float(step)), bc2Sqrt = (1 - powf(settings.beta2, Float(step))).squareRoot()
            for (offset, count, decayRate) in optimizer.groups {
                let decay = 1 - lr * decayRate
                for i in offset..<(offset + count) {
                    let gi = grads[i] * scale
                    m[i] = settings.beta1 * m[i] + (1 - settings.beta1) * gi
                    v[i] = settings.beta2 * v[i] + (1 - settings.beta2) * gi * gi
                    p[i] = p[i] * decay - (lr / bc1) * m[i] / (v[i].squareRoot() / bc2Sqrt + settings.eps)
                }
            }
            #expect(Array(model.parameters.buffer) == p, "step \(step): parameters differ from the plain loop")
        }
    }
}
