// Checkpoints: round trip with identical bytes, transformers' name variants, head swap, and clear errors
// for missing tensors, wrong shapes, corrupt files and bad configs.
import Foundation
import Testing
import TestSupport
@testable import TensorCore
@testable import Transformer

@Suite struct CheckpointTests {
    static let tiny = XLMRConfig(vocabSize: 30, hiddenSize: 8, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 16,
                                 maxPositionEmbeddings: 16)

    @Test func saveLoadRoundTripIsBitIdentical() throws {
        let dir = try Fixtures.temporaryDirectory("ckpt")
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try XLMRModel(config: Self.tiny, head: .maskedLM)
        model.initializeWeights(seed: 3)
        try model.save(dir.appendingPathComponent("a"))
        let loaded = try XLMRModel.load(dir.appendingPathComponent("a"))
        #expect(loaded.head == .maskedLM && loaded.config.hiddenSize == 8)
        #expect(loaded.parameters.array == model.parameters.array)
        try loaded.save(dir.appendingPathComponent("b"))
        let first = try Data(contentsOf: dir.appendingPathComponent("a/model.safetensors"))
        let second = try Data(contentsOf: dir.appendingPathComponent("b/model.safetensors"))
        #expect(first == second)
    }

    @Test func transformersCheckpointWithDecoderBiasVariantLoads() throws {
        // transformers 4 names the MLM bias lm_head.decoder.bias and may store the tied decoder weight.
        let golden = Fixtures.referenceFixtures.appendingPathComponent("golden_mlm")
        let reference = try XLMRModel.load(golden)
        let dir = try Fixtures.temporaryDirectory("ckpt")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(at: golden.appendingPathComponent("config.json"), to: dir.appendingPathComponent("config.json"))
        var tensors = reference.layout.entries.map { e in
            (name: e.name == "lm_head.bias" ? "lm_head.decoder.bias" : e.name, shape: e.shape,
             values: UnsafeBufferPointer(start: reference.parameters.pointer + e.offset, count: e.count))
        }
        let word = reference.layout.entry("roberta.embeddings.word_embeddings.weight")!
        tensors.append((name: "lm_head.decoder.weight", shape: word.shape,
                        values: UnsafeBufferPointer(start: reference.parameters.pointer + word.offset, count: word.count)))
        try Safetensors.write(tensors, to: dir.appendingPathComponent("model.safetensors"))
        let loaded = try XLMRModel.load(dir)
        #expect(loaded.parameters.array == reference.parameters.array)
    }

    @Test func missingTensorAndWrongShapeNameTheTensor() throws {
        let model = try XLMRModel(config: Self.tiny, head: .maskedLM)
        model.initializeWeights(seed: 1)
        let dir = try Fixtures.temporaryDirectory("ckpt")
        defer { try? FileManager.default.removeItem(at: dir) }
        try model.save(dir)
        let all = model.layout.entries.map { e in
            (name: e.name, shape: e.shape, values: UnsafeBufferPointer(start: model.parameters.pointer + e.offset, count: e.count))
        }
        let weights = dir.appendingPathComponent("model.safetensors")
        try Safetensors.write(all.filter { $0.name != "roberta.encoder.layer.0.output.dense.weight" }, to: weights)
        #expect { try XLMRModel.load(dir) } throws: { error in
            "\(error)".contains("missing tensor roberta.encoder.layer.0.output.dense.weight") && "\(error)".contains("[8, 16]")
        }
        try Safetensors.write(all.map { $0.name == "lm_head.dense.bias" ? (name: $0.name, shape: [2, 4], values: $0.values) : $0 }, to: weights)
        #expect { try XLMRModel.load(dir) } throws: { error in
            "\(error)".contains("lm_head.dense.bias has shape [2, 4], expected [8]")
        }
    }

    @Test func truncatedCheckpointIsAClearError() throws {
        let model = try XLMRModel(config: Self.tiny, head: .maskedLM)
        let dir = try Fixtures.temporaryDirectory("ckpt")
        defer { try? FileManager.default.removeItem(at: dir) }
        try model.save(dir)
        let weights = dir.appendingPathComponent("model.safetensors")
        let data = try Data(contentsOf: weights)
        try data.prefix(data.count / 2).write(to: weights)
        #expect { try XLMRModel.load(dir) } throws: { error in
            "\(error)".contains(weights.path) && "\(error)".contains("truncated")
        }
    }

    @Test func headSwapKeepsEncoderAndSeedsClassifier() throws {
        let golden = Fixtures.referenceFixtures.appendingPathComponent("golden_mlm")
        let mlm = try XLMRModel.load(golden)
        let a = try XLMRModel.load(golden, head: .tokenClassification(labels: 9), classifierSeed: 5)
        let b = try XLMRModel.load(golden, head: .tokenClassification(labels: 9), classifierSeed: 5)
        let c = try XLMRModel.load(golden, head: .tokenClassification(labels: 9), classifierSeed: 6)
        for name in ["roberta.embeddings.word_embeddings.weight", "roberta.encoder.layer.1.output.LayerNorm.bias"] {
            #expect(a.parameter(name)!.array == mlm.parameter(name)!.array)
        }
        let w = a.parameter("classifier.weight")!
        #expect(w.shape == [9, 16])
        #expect(w.array == b.parameter("classifier.weight")!.array)
        #expect(w.array != c.parameter("classifier.weight")!.array)
        #expect(a.parameter("classifier.bias")!.array.allSatisfy { $0 == 0 })
        let std = (w.array.map { Double($0 * $0) }.reduce(0, +) / Double(w.count)).squareRoot()
        #expect(abs(std - 0.2) < 0.05, "classifier init std \(std) vs initializer_range 0.2")
        #expect(a.config.numLabels == 9)
    }

    @Test func configValidationNamesTheField() throws {
        var c = Self.tiny
        c.numAttentionHeads = 3
        #expect { try XLMRModel(config: c, head: .maskedLM) } throws: { "\($0)".contains("hidden_size 8 is not divisible by num_attention_heads 3") }
        c = Self.tiny; c.padTokenId = 40
        #expect { try XLMRModel(config: c, head: .maskedLM) } throws: { "\($0)".contains("pad_token_id 40") }
        c = Self.tiny; c.hiddenAct = "relu"
        #expect { try XLMRModel(config: c, head: .maskedLM) } throws: { "\($0)".contains("hidden_act") }
    }

    @Test func badInputIsAThrownErrorWithTheValue() throws {
        let model = try XLMRModel(config: Self.tiny, head: .maskedLM)
        let w = Workspace(config: Self.tiny, head: .maskedLM, maxBatch: 2, maxTokens: 4, training: false)
        var rng = Xoshiro256(seed: 0)
        #expect { try model.forward(TokenBatch(batch: 1, tokens: 4, ids: [0, 5, 30, 2]), workspace: w, training: false, rng: &rng) }
            throws: { "\($0)".contains("id 30 at batch row 0, position 2 is outside the vocabulary 0..<30") }
        #expect { try model.forward(TokenBatch(batch: 1, tokens: 3, ids: [0, 5, 2, 2]), workspace: w, training: false, rng: &rng) }
            throws: { "\($0)".contains("ids has 4 values, expected batch × tokens = 3") }
        #expect { try model.forward(TokenBatch(batch: 3, tokens: 1, ids: [0, 5, 2]), workspace: w, training: false, rng: &rng) }
            throws: { "\($0)".contains("exceeds the workspace") }
        #expect { try model.forward(TokenBatch(batch: 1, tokens: 2, ids: [0, 2], labels: [-100, 31]), workspace: w, training: false, rng: &rng) }
            throws: { "\($0)".contains("label 31") }
    }
}
