// Parity with Hugging Face transformers: logits, loss and every gradient of a tiny random XLM-R,
// for the MLM head and the token-classification head (fixtures from Tests/Reference/make_golden.py), and the latter
// with 8 token types fed per token (golden_types, from make_token_type_golden.py: the word shapes' path).
import Foundation
import Testing
import TestSupport
@testable import TensorCore
@testable import Transformer

@Suite(.serialized) struct GoldenParityTests {
    /// Each fp32 kernel, forced for the whole test (`GemmChoice.withPolicy`): the parity holds whichever `auto` picks.
    static let kernels: [GemmPolicy] = GemmKernel.ownAvailable ? [.own, .oneDNN] : [.oneDNN]

    @Test(arguments: ["golden_mlm", "golden_tc", "golden_types"], kernels)
    func logitsLossAndGradientsMatchTransformers(fixture: String, kernel: GemmPolicy) throws {
        try GemmChoice.withPolicy(kernel) { try check(fixture) }
    }

    func check(_ fixture: String) throws {
        let golden = try Golden(fixture)
        let model = try XLMRModel.load(golden.directory)
        let batch = golden.expected.batchValue
        // Evaluation forward: logits for every position.
        let logits = try model.logits(batch)
        let logitError = relativeError(logits, golden.expected.logits)
        #expect(logitError <= Tolerance.logitsRelative, "\(fixture): logits relative error \(logitError)")
        // Training forward (dropout is 0 in these configs) and backward.
        let w = Workspace(config: model.config, head: model.head, maxBatch: batch.batch, maxTokens: batch.tokens, training: true)
        var rng = Xoshiro256(seed: 1)
        model.zeroGradients()
        let loss = try #require(try model.forward(batch, workspace: w, training: true, rng: &rng))
        #expect(abs(loss - golden.expected.loss) <= Tolerance.lossRelative * abs(golden.expected.loss), "\(fixture): loss \(loss) vs \(golden.expected.loss)")
        model.backward(workspace: w)
        var checked = 0
        let largest = golden.gradients.values.map { $0.floats().map(abs).max() ?? 0 }.max() ?? 0
        for e in model.layout.entries {
            let expected = try #require(golden.gradients[e.name], "no reference gradient for \(e.name)").floats()
            let ours = model.gradient(e.name)!.array
            let scale = max(expected.map(abs).max() ?? 0, Tolerance.gradientNoiseFloor * largest)
            let err = zip(ours, expected).map { abs($0 - $1) }.max()! / scale
            #expect(err <= Tolerance.gradientRelative, "\(fixture): gradient of \(e.name) relative error \(err)")
            checked += 1
        }
        #expect(checked == golden.gradients.count)
    }

    @Test func positionIdsFollowTransformers() {
        // transformers: create_position_ids_from_input_ids with padding_idx 1.
        let ids: [Int32] = [0, 5, 6, 2, 1, 1, 0, 1, 7, 2]
        var positions = [Int32](repeating: 0, count: ids.count)
        ModelSlots.positionIds(ids, &positions, B: 2, T: 5, pad: 1)
        #expect(positions == [2, 3, 4, 5, 1, 1, 2, 1, 3, 4])
    }
}
