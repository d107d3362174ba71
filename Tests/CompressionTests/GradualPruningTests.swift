// The cubic schedule against hand-computed values, and masks that keep pruned weights at zero through training
// (fixed mask, and gradual pruning reaching its final sparsity exactly).
import Foundation
import Testing
import TestSupport
import TensorCore
import Training
import Transformer
@testable import Compression

@Suite struct GradualPruningTests {
    @Test func cubicScheduleHandValues() throws {
        // s_f = 0.8, s_i = 0, t0 = 10, end = 50, Δt = 10: s = 0.8 (1 − (1 − (t − 10)/40)³).
        let s = try CubicSchedule(initial: 0, final: 0.8, start: 10, end: 50, frequency: 10)
        let expected: [(Int, Double)] = [(0, 0), (9, 0), (10, 0), (15, 0), (20, 0.8 * (1 - 0.421875)), (30, 0.8 * (1 - 0.125)),
                                         (39, 0.8 * 0.875), (40, 0.8 * (1 - 0.015625)), (50, 0.8), (70, 0.8)]
        for (t, value) in expected { #expect(abs(s.sparsity(at: t) - value) < 1e-12, "t = \(t): \(s.sparsity(at: t)) vs \(value)") }
        #expect([10, 20, 30, 40, 50].allSatisfy(s.isPruningStep) && ![9, 15, 51].contains(where: s.isPruningStep))
        // A non-zero initial sparsity: s_i = 0.2 at t0.
        let t = try CubicSchedule(initial: 0.2, final: 0.6, start: 0, end: 4, frequency: 2)
        #expect(abs(t.sparsity(at: 0) - 0.2) < 1e-12 && abs(t.sparsity(at: 2) - (0.6 - 0.4 * 0.125)) < 1e-12)
        #expect(throws: PruningError.self) { try CubicSchedule(final: 1.0, start: 0, end: 4, frequency: 1) }
        #expect(throws: PruningError.self) { try CubicSchedule(final: 0.5, start: 5, end: 4, frequency: 1) }
    }

    static func setup() throws -> (XLMRModel, Trainer, TokenBatch) {
        let config = XLMRConfig(vocabSize: 30, hiddenSize: 8, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 16,
                                maxPositionEmbeddings: 20, hiddenDropoutProb: 0, attentionProbsDropoutProb: 0)
        let model = try XLMRModel(config: config, head: .tokenClassification(labels: 3))
        model.initializeWeights(seed: 1)
        let trainer = Trainer(model: model, settings: TrainerSettings(steps: 12, peakLearningRate: 1e-2, warmupSteps: 0),
                              maxBatch: 2, maxTokens: 5)
        let batch = TokenBatch(batch: 2, tokens: 5, ids: [0, 5, 9, 13, 2, 0, 17, 4, 2, 1],
                               attentionMask: [1, 1, 1, 1, 1, 1, 1, 1, 1, 0], labels: [-100, 1, 0, 2, -100, 2, 1, 0, 1, -100])
        return (model, trainer, batch)
    }

    @Test func fixedMaskKeepsZerosThroughTraining() throws {
        let (model, trainer, batch) = try Self.setup()
        let tensors = MagnitudePruning.prunableTensors(of: model)
        try MagnitudePruning.prune(model, sparsity: 0.6, scope: .global, tensors: tensors)
        let mask = ParameterMask(zerosOf: model, tensors: tensors)
        let before = model.parameters.array
        mask.fix(on: trainer)
        for s in 0..<12 { var b = batch; _ = try trainer.step(&b, step: s) }
        let after = model.parameters.array
        #expect(mask.zeros.allSatisfy { after[$0] == 0 && trainer.optimizer.m.pointer[$0] == 0 && trainer.optimizer.v.pointer[$0] == 0 })
        // Training really happened: the kept weights moved.
        let moved = zip(before, after).enumerated().filter { $0.element.0 != $0.element.1 }.count
        #expect(moved > before.count / 2)
        // Without the mask the same training would have revived them.
        let (m2, t2, b2) = try Self.setup()
        try MagnitudePruning.prune(m2, sparsity: 0.6, scope: .global, tensors: tensors)
        for s in 0..<3 { var b = b2; _ = try t2.step(&b, step: s) }
        #expect(mask.zeros.contains { m2.parameters.pointer[$0] != 0 })
    }

    @Test func gradualPruningReachesTheFinalSparsityAndKeepsIt() throws {
        let (model, trainer, batch) = try Self.setup()
        let tensors = MagnitudePruning.prunableTensors(of: model)
        let pruner = GradualPruner(schedule: try CubicSchedule(final: 0.75, start: 2, end: 8, frequency: 2),
                                   tensors: tensors, scope: .global, model: model)
        pruner.install(on: trainer)
        let n = tensors.reduce(0) { $0 + model.parameter($1)!.count }
        var previous = 0
        for s in 0..<12 {
            var b = batch
            _ = try trainer.step(&b, step: s)
            let zeros = MagnitudePruning.summary(model, tensors: tensors).prunedZeros
            #expect(zeros >= previous, "the mask only grows")
            #expect(zeros == Int((pruner.schedule.sparsity(at: s + 1) * Double(n)).rounded()), "step \(s + 1)")
            previous = zeros
        }
        #expect(previous == Int((0.75 * Double(n)).rounded()))
    }
}
