// Loads the golden fixtures written by Tests/Reference/make_golden.py and make_token_type_golden.py (transformers'
// outputs).
import Foundation
import TestSupport
@testable import TensorCore
@testable import Transformer

struct GoldenExpected: Decodable {
    struct AdamWRun: Decodable {
        let steps: Int, lr: Float, weight_decay: Float, warmup: Int, clip: Float, betas: [Float], eps: Float, losses: [Float]
    }
    let ids: [Int32], attention_mask: [Int32], labels: [Int32], batch: Int, tokens: Int, logits: [Float], loss: Float
    let adamw: AdamWRun?
    /// golden_types only: transformers' token_type_ids.
    let token_type_ids: [Int32]?

    var batchValue: TokenBatch {
        TokenBatch(batch: batch, tokens: tokens, ids: ids, attentionMask: attention_mask, labels: labels, tokenTypes: token_type_ids)
    }
}

struct Golden {
    let directory: URL
    let expected: GoldenExpected
    let gradients: [String: SafetensorsEntry]

    init(_ name: String) throws {
        directory = Fixtures.referenceFixtures.appendingPathComponent(name)
        expected = try JSONDecoder().decode(GoldenExpected.self, from: Data(contentsOf: directory.appendingPathComponent("expected.json")))
        gradients = try Safetensors.read(directory.appendingPathComponent("grads.safetensors")).tensors
    }
}

/// max |a − b| / max |b|.
func relativeError(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    let scale = b.map(abs).max() ?? 0
    let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
    return scale > 0 ? worst / scale : worst
}
