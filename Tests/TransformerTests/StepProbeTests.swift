// The StepProbe seam: a probe hears every kind of work a training pass does, in order, and changes no number.
import Testing
@testable import TensorCore
@testable import Transformer

/// Records the phases it is told, in order.
final class RecordingProbe: StepProbe {
    var phases: [StepPhase] = []
    func phaseEnded(_ phase: StepPhase) { phases.append(phase) }
}

@Suite struct StepProbeTests {
    static let config: XLMRConfig = {
        var c = XLMRConfig(vocabSize: 30, hiddenSize: 8, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 16,
                           maxPositionEmbeddings: 16)
        c.hiddenDropoutProb = 0.1; c.attentionProbsDropoutProb = 0.1
        return c
    }()

    /// Loss and gradients after one training forward and backward, with `probe` injected.
    static func step(_ head: ModelHead, probe: StepProbe) throws -> (loss: Float, gradients: [Float]) {
        let model = try XLMRModel(config: config, head: head)
        model.initializeWeights(seed: 4)
        model.probe = probe
        let ids: [Int32] = [0, 5, 9, 7, 2, 0, 11, 4, 2, 1]
        let labels: [Int32] = head == .maskedLM ? [-100, 5, -100, 7, -100, -100, 11, -100, -100, -100] : [0, 1, 2, 1, 0, 0, 2, 1, 0, -100]
        let batch = TokenBatch(batch: 2, tokens: 5, ids: ids, attentionMask: [1, 1, 1, 1, 1, 1, 1, 1, 1, 0], labels: labels)
        let w = Workspace(config: config, head: head, maxBatch: 2, maxTokens: 5, maxHeadRows: 10, training: true)
        var rng = Xoshiro256(seed: 8)
        let loss = try #require(try model.forward(batch, workspace: w, training: true, rng: &rng))
        model.backward(workspace: w)
        return (loss, Array(model.gradients.buffer))
    }

    @Test(arguments: [ModelHead.maskedLM, .tokenClassification(labels: 3)])
    func probeHearsEveryKindOfWorkAndChangesNothing(head: ModelHead) throws {
        let probe = RecordingProbe()
        let watched = try Self.step(head, probe: probe)
        let plain = try Self.step(head, probe: NoStepProbe.shared)
        #expect(watched.loss == plain.loss && watched.gradients == plain.gradients)
        // Every phase but the optimizer's (its caller reports it) and the int8 kernels' ends somewhere in a training pass.
        #expect(Set(probe.phases) == Set(StepPhase.allCases).subtracting([.optimizer, .quantize, .dequantize]))
        // The linear GEMMs: per layer 6 forward + 12 backward, plus the head's (MLM: dense and decoder, 2 + 4; the
        // classifier: 1 + 2).
        let headGemms = head == .maskedLM ? 6 : 3
        #expect(probe.phases.filter { $0 == .gemm }.count == Self.config.numHiddenLayers * 18 + headGemms)
        // The attention GEMMs: per layer one report after each forward product, and one after each backward pair.
        #expect(probe.phases.filter { $0 == .attention }.count == Self.config.numHiddenLayers * 4)
        #expect(probe.phases.filter { $0 == .crossEntropy }.count == 1)
    }
}
