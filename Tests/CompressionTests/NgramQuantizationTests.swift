// Int8 embeddings with a character n-gram table (model.char_ngrams): the table is quantized with the word
// embeddings (per-row int8, stored I8 with its scales), the logits stay within the int8 tolerance of fp32, and a
// saved checkpoint loads back bit for bit; without int8 embeddings the table stays fp32.
import Foundation
import Testing
import TestSupport
import TensorCore
@testable import Compression
@testable import Transformer

@Suite struct NgramQuantizationTests {
    static func model() throws -> XLMRModel {
        let c = XLMRConfig(vocabSize: 40, hiddenSize: 16, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 32,
                           maxPositionEmbeddings: 20, charNgramBuckets: 24)
        let m = try XLMRModel(config: c, head: .tokenClassification(labels: 5))
        m.initializeWeights(seed: 4)
        return m
    }

    static func batch() -> TokenBatch {
        var b = TokenBatch(rows: [[0, 5, 9, 13, 7, 2], [0, 17, 4, 2]], pad: 1)
        b.charNgrams = b.ids.enumerated().flatMap { i, id in
            [0, 1, 2].contains(id) ? [-1, -1, -1] : [Int32(i % 24), Int32((i * 7) % 24), i % 2 == 0 ? -1 : Int32((i * 5) % 24)]
        }
        b.ngramSlots = 3
        return b
    }

    @Test func theTableIsQuantizedWithTheEmbeddingsAndLoadsBack() throws {
        let fp32 = try Self.model()
        let q = try Quantizer.quantize(model: fp32, config: QuantizationConfig(scheme: .dynamic, embeddings: true))
        let table = try #require(q.ngramEmbedding)
        #expect(table.outFeatures == 24 && table.inFeatures == 16)
        #expect(q.encoder.charNgramTable is Int8Embedding)
        let batch = Self.batch()
        let err = maxRelative(try q.logits(batch), try fp32.logits(batch))
        #expect(err <= Tolerance.dynamicInt8LogitsRelative, "largest relative error \(err)")
        // The n-grams matter to the quantized model too.
        var none = batch
        none.charNgrams = batch.charNgrams!.map { _ in -1 }
        #expect(try q.logits(none) != (try q.logits(batch)))

        let dir = try Fixtures.temporaryDirectory("ngram-quantized")
        defer { try? FileManager.default.removeItem(at: dir) }
        try q.save(dir)
        let tensors = try Safetensors.read(dir.appendingPathComponent(XLMRModel.weightsFile)).tensors
        #expect(tensors[XLMRModel.charNgramTensor]?.dtype == .I8)
        #expect(tensors[XLMRModel.charNgramTensor + "_scale"]?.shape == [24])
        let loaded = try QuantizedModel.load(dir)
        #expect(try loaded.logits(batch) == (try q.logits(batch)))

        // Linears only: the table stays fp32 and reads exactly as the fp32 model's.
        let linearsOnly = try Quantizer.quantize(model: fp32, config: QuantizationConfig(scheme: .dynamic))
        #expect(linearsOnly.ngramEmbedding == nil && linearsOnly.encoder.charNgramTable is DenseEmbedding)
        try linearsOnly.save(dir)
        let stored = try Safetensors.read(dir.appendingPathComponent(XLMRModel.weightsFile)).tensors
        #expect(stored[XLMRModel.charNgramTensor]?.dtype == .F32)
        #expect(try QuantizedModel.load(dir).logits(batch) == (try linearsOnly.logits(batch)))
    }
}
