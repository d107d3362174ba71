// The Amdahl bound of `bench compress` (issue #18 item 5): the formula against hand-computed values, the linear share
// taken from what the pass's probe reports, and the inference encoder's probe changing no number.
import Testing
@testable import Evaluation
@testable import TensorCore
@testable import Transformer

/// Records the phases it is told, in order.
private final class PhaseRecorder: StepProbe {
    var phases: [StepPhase] = []
    func phaseEnded(_ phase: StepPhase) { phases.append(phase) }
}

@Suite struct PhaseSharesTests {
    @Test func boundMatchesHandComputedValues() {
        // 70 % of the time 3× faster: 1 / (0.3 + 0.7 / 3) = 1 / 0.5333… = 1.875.
        #expect(abs(Amdahl.bound(share: 0.7, ratio: 3) - 1.875) < 1e-12)
        // 50 % 2× faster: 1 / (0.5 + 0.25) = 4 / 3.
        #expect(abs(Amdahl.bound(share: 0.5, ratio: 2) - 4.0 / 3) < 1e-12)
        #expect(Amdahl.bound(share: 0, ratio: 5) == 1)
        #expect(Amdahl.bound(share: 1, ratio: 5) == 5)
    }

    @Test func sharesComeFromThePhasesAndAddUp() {
        var nanos = [UInt64](repeating: 0, count: StepPhase.allCases.count)
        nanos[StepPhase.gemm.rawValue] = 1_200
        nanos[StepPhase.layerNorm.rawValue] = 400
        nanos[StepPhase.other.rawValue] = 100
        let s = PhaseShares(passes: 2, totalNanos: 2_000, phaseNanos: nanos)
        #expect(abs(s.passMs - 0.001) < 1e-15)
        #expect(s.linearShare == 0.6)
        #expect(s.shares.map(\.phase) == ["gemm", "layerNorm", "other", "rest"])
        #expect(abs(s.shares.map(\.share).reduce(0, +) - 1) < 1e-12)
        #expect(abs(s.shares.last!.share - 0.15) < 1e-12)
    }

    @Test func measureTakesTheLinearShareFromWhatThePassReports() throws {
        // A pass that reports everything as linear products has share 1 (less the few ns after its last report);
        // one that reports nothing as linear has share 0, whatever the wall time.
        let busy = { (ms: Double) in
            let t0 = ContinuousClock.now
            while ContinuousClock.now - t0 < .milliseconds(Int64(ms)) {}
        }
        let linear = PhaseShares.measure(warmup: 0, repeats: 2) { probe in busy(3); probe.phaseEnded(.gemm) }
        #expect(linear.linearShare > 0.9)
        let none = PhaseShares.measure(warmup: 0, repeats: 2) { probe in busy(3); probe.phaseEnded(.layerNorm) }
        #expect(none.linearShare == 0)
        #expect(none.shares.first { $0.phase == "layerNorm" }!.share > 0.9)
    }

    @Test func movedTimeLeavesTheNextPhaseAndNeverExceedsTheStretch() {
        let timer = StepTimer()
        timer.start()
        let t0 = ContinuousClock.now
        while ContinuousClock.now - t0 < .milliseconds(3) {}
        timer.moved(1_000_000, to: .dequantize)    // 1 ms of the 3 went elsewhere
        timer.phaseEnded(.gemm)
        #expect(timer.nanos[StepPhase.dequantize.rawValue] == 1_000_000)
        #expect(timer.nanos[StepPhase.gemm.rawValue] >= 2_000_000)
        let gemm = timer.nanos[StepPhase.gemm.rawValue]
        timer.moved(.max, to: .quantize)           // clamped to the stretch since the last phase ended
        timer.phaseEnded(.gemm)
        #expect(timer.nanos[StepPhase.quantize.rawValue] < 1_000_000)
        #expect(timer.nanos[StepPhase.gemm.rawValue] - gemm < 1_000_000)
    }

    @Test func inferenceEncoderReportsEveryPieceAndChangesNoNumber() throws {
        let c = XLMRConfig(vocabSize: 30, hiddenSize: 8, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 16,
                           maxPositionEmbeddings: 16)
        let model = try XLMRModel(config: c, head: .tokenClassification(labels: 3))
        model.initializeWeights(seed: 4)
        let encoder = try InferenceEncoder(model: model)
        let batch = TokenBatch(batch: 2, tokens: 5, ids: [0, 5, 9, 7, 2, 0, 11, 4, 2, 1], attentionMask: [1, 1, 1, 1, 1, 1, 1, 1, 1, 0])
        let plain = try encoder.logits(batch)
        let recorder = PhaseRecorder()
        encoder.probe = recorder
        #expect(try encoder.logits(batch) == plain)
        #expect(Set(recorder.phases) == [.other, .gemm, .attention, .layerNorm, .gelu])
        // Per layer: q/k/v, attention output, FFN in, FFN out; then the classifier.
        #expect(recorder.phases.filter { $0 == .gemm }.count == c.numHiddenLayers * 4 + 1)
        #expect(recorder.phases.filter { $0 == .attention }.count == c.numHiddenLayers)
        let shares = try PhaseShares.measure(warmup: 1, repeats: 3) { probe in
            encoder.probe = probe
            _ = try encoder.forward(batch)
        }
        #expect(shares.linearShare > 0 && shares.linearShare < 1)
        #expect(abs(shares.shares.map(\.share).reduce(0, +) - 1) < 1e-9)
    }
}
