// A tiny random XLM-R saved by transformers as model.safetensors and as pytorch_model.bin (fixtures from
// Tests/Reference/make_checkpoint_golden.py) loads from either folder and gives transformers' MLM logits.
import Foundation
import Testing
import TestSupport
@testable import TensorCore
@testable import Transformer

@Suite struct PretrainedCheckpointTests {
    struct Expected: Decodable { let ids: [Int32], attention_mask: [Int32], batch: Int, tokens: Int, logits: [Float] }

    static let fixtures = Fixtures.referenceFixtures.appendingPathComponent("checkpoint")

    @Test(arguments: ["safetensors", "pytorch"])
    func logitsMatchTransformers(format: String) throws {
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: Self.fixtures.appendingPathComponent("expected.json")))
        let model = try XLMRModel.load(Self.fixtures.appendingPathComponent(format))
        #expect(model.head == .maskedLM)
        let batch = TokenBatch(batch: expected.batch, tokens: expected.tokens, ids: expected.ids, attentionMask: expected.attention_mask)
        let logits = try model.logits(batch)
        let error = relativeError(logits, expected.logits)
        #expect(error <= Tolerance.logitsRelative, "\(format): logits relative error \(error)")
    }

    @Test func aFolderWithoutWeightsNamesBothFormats() throws {
        let dir = try Fixtures.temporaryDirectory("no-weights")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("safetensors/config.json"), to: dir.appendingPathComponent("config.json"))
        #expect { _ = try XLMRModel.load(dir) } throws: { "\($0)".contains("neither model.safetensors nor pytorch_model.bin") }
    }
}
