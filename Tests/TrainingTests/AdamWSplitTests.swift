// The AdamW update split over threads gives the bits of the one-thread update, for every thread count.
import Testing
@testable import TensorCore
@testable import Training
@testable import Transformer

@Suite struct AdamWSplitTests {
    /// Parameters, first and second moments after three updates with random gradients on `threads` threads.
    static func run(threads: Int, excludeBiasAndNorm: Bool) throws -> [[Float]] {
        let c = XLMRConfig(vocabSize: 2000, hiddenSize: 64, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 256,
                           maxPositionEmbeddings: 32)
        let model = try XLMRModel(config: c, head: .tokenClassification(labels: 5))
        model.initializeWeights(seed: 3)
        let optimizer = AdamW(model: model, settings: AdamWSettings(weightDecay: 0.01, excludeBiasAndNormFromDecay: excludeBiasAndNorm))
        var rng = Xoshiro256(seed: 9)
        for step in 0..<3 {
            rng.fillNormal(model.gradients.buffer, std: 0.1)
            optimizer.update(model, lr: 1e-3 * Float(step + 1), gradientScale: step == 1 ? 0.5 : 1, threads: threads)
        }
        return [Array(model.parameters.buffer), Array(optimizer.m.buffer), Array(optimizer.v.buffer)]
    }

    @Test(arguments: [false, true])
    func splitUpdateIsTheOneThreadBits(excludeBiasAndNorm: Bool) throws {
        let one = try Self.run(threads: 1, excludeBiasAndNorm: excludeBiasAndNorm)
        // Large enough to split three ways (AdamW.splitFloats per thread).
        #expect(one[0].count >= 3 * AdamW.splitFloats)
        for threads in [2, 3] {
            let split = try Self.run(threads: threads, excludeBiasAndNorm: excludeBiasAndNorm)
            for (a, b) in zip(one, split) {
                #expect(a.map(\.bitPattern) == b.map(\.bitPattern), "\(threads) threads")
            }
        }
    }
}
