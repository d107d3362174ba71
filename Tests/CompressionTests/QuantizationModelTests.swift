// Quantized models end to end: logits near fp32 within each scheme's named budget on a small random model,
// checkpoints that load back bit for bit, sizes, and bad input (threshold ≤ 0, a quantized checkpoint fed
// back in, static without calibration) as clear errors.
import Foundation
import Testing
import TestSupport
@testable import TensorCore
@testable import Transformer
@testable import Compression

extension Tolerance {
    /// Logits of a quantized small random model (2 layers, C 32, weights ~N(0, 0.2²)) against fp32, relative
    /// to max |logit|. Measured worst over the test's seeds, heads and batches: dynamic 0.045, LLM.int8 (threshold
    /// 2) 0.036, static (min-max) 0.051, int4 (group 128 = one group per row here) 0.36; budgets ≈ 1.5× those.
    /// (7-bit activation steps are ~1/127 of a token's range, int4 steps ~1/7 of a group's.)
    static let dynamicInt8LogitsRelative: Float = 0.07
    static let llmInt8LogitsRelative: Float = 0.06
    static let staticInt8LogitsRelative: Float = 0.08
    static let int4LogitsRelative: Float = 0.5
    /// Adding int8 word embeddings on top of a scheme.
    static let int8EmbeddingsExtraRelative: Float = 0.02
}

@Suite struct QuantizationModelTests {
    static let config = XLMRConfig(vocabSize: 60, hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 4, intermediateSize: 64,
                                   maxPositionEmbeddings: 40)

    static func model(_ head: ModelHead = .tokenClassification(labels: 9), seed: UInt64 = 3) throws -> XLMRModel {
        var c = config
        c.initializerRange = 0.2  // larger weights than the default 0.02, so the logits are not all near zero
        let m = try XLMRModel(config: c, head: head)
        m.initializeWeights(seed: seed)
        return m
    }

    static func batches(seed: UInt64, count: Int = 2) -> [TokenBatch] {
        var r = TestRandom(seed: seed)
        return (0..<count).map { _ in
            TokenBatch(rows: (0..<3).map { b in (0..<(12 - 3 * b)).map { _ in Int32(3 + r.below(57)) } }, pad: 1)
        }
    }

    static func budget(_ scheme: QuantizationScheme) -> Float {
        switch scheme {
        case .dynamic: Tolerance.dynamicInt8LogitsRelative
        case .llmInt8: Tolerance.llmInt8LogitsRelative
        case .staticInt8: Tolerance.staticInt8LogitsRelative
        case .int4: Tolerance.int4LogitsRelative
        }
    }

    @Test(arguments: QuantizationScheme.allCases)
    func logitsStayWithinTheSchemesBudget(scheme: QuantizationScheme) throws {
        for seed: UInt64 in [3, 4] {
            for head in [ModelHead.tokenClassification(labels: 9), .maskedLM] {
                let fp32 = try Self.model(head, seed: seed)
                let calibration = Self.batches(seed: 100 + seed, count: 4)
                for embeddings in [false, true] {
                    let q = try Quantizer.quantize(model: fp32, config: QuantizationConfig(scheme: scheme, threshold: 2, embeddings: embeddings),
                                                   calibration: calibration)
                    for batch in Self.batches(seed: seed) {
                        let err = maxRelative(try q.logits(batch), try fp32.logits(batch))
                        let budget = Self.budget(scheme) + (embeddings ? Tolerance.int8EmbeddingsExtraRelative : 0)
                        print("quantization \(scheme.rawValue) seed \(seed) \(head) embeddings \(embeddings): logits relative error \(err)")
                        #expect(err <= budget, "\(scheme) \(head) embeddings \(embeddings): \(err) > \(budget)")
                        #expect(err > 0, "a quantized model that equals fp32 exactly was not quantized")
                    }
                }
            }
        }
    }

    @Test func percentileCalibrationClipsAndStillWorks() throws {
        let fp32 = try Self.model()
        let calibration = Self.batches(seed: 7, count: 4)
        let minmax = try Calibration.ranges(fp32, batches: calibration, method: .minmax, percentile: 99.99)
        let pct = try Calibration.ranges(fp32, batches: calibration, method: .percentile, percentile: 90)
        for (name, m) in minmax {
            // The 10–90% range is narrower than the full range: a smaller step.
            #expect(pct[name]!.scale < m.scale, "\(name)")
        }
        let q = try Quantizer.quantize(model: fp32, config: QuantizationConfig(scheme: .staticInt8, calibration: .percentile), calibration: calibration)
        let batch = Self.batches(seed: 8)[0]
        #expect(maxRelative(try q.logits(batch), try fp32.logits(batch)) <= Tolerance.staticInt8LogitsRelative)
    }

    @Test(arguments: QuantizationScheme.allCases)
    func checkpointsLoadBackBitForBit(scheme: QuantizationScheme) throws {
        let dir = try Fixtures.temporaryDirectory("quantized")
        defer { try? FileManager.default.removeItem(at: dir) }
        for head in [ModelHead.tokenClassification(labels: 9), .maskedLM] {
            let fp32 = try Self.model(head)
            let q = try Quantizer.quantize(model: fp32, config: QuantizationConfig(scheme: scheme, embeddings: true, groupSize: 16),
                                           calibration: Self.batches(seed: 9))
            try q.save(dir)
            #expect(QuantizedModel.isQuantized(dir))
            let loaded = try QuantizedModel.load(dir)
            #expect(loaded.quantization == q.quantization)
            for batch in Self.batches(seed: 10) { #expect(try loaded.logits(batch) == (try q.logits(batch))) }
            let tensors = try Safetensors.read(dir.appendingPathComponent(XLMRModel.weightsFile)).tensors
            let w = try #require(tensors["roberta.encoder.layer.0.intermediate.dense.weight"])
            #expect(w.dtype == (scheme == .int4 ? .U8 : .I8))
            #expect(tensors["roberta.embeddings.word_embeddings.weight"]?.dtype == .I8)
            // Stored bytes: int8 encoder linears ≈ 1/4 of fp32 (+ one scale per row), int4 with groups of 16 ≈
            // (0.5 + 4/16) / 4 ≈ 0.19 (plus fp32 biases in both).
            let fp32Bytes = LinearNames.encoderLinears(fp32.config).reduce(0) { $0 + 4 * ($1.inFeatures + 1) * $1.outFeatures }
            let ratio = Double(q.encoder.encoderLinearBytes) / Double(fp32Bytes)
            #expect(scheme == .int4 ? ratio < 0.22 : ratio < 0.3, "\(scheme): encoder bytes ratio \(ratio)")
        }
    }

    @Test func badInputIsAClearError() throws {
        let fp32 = try Self.model()
        #expect(throws: QuantizationError.self) { try Quantizer.quantize(model: fp32, config: QuantizationConfig(scheme: .llmInt8, threshold: 0)) }
        #expect(throws: QuantizationError.self) { try Quantizer.quantize(model: fp32, config: QuantizationConfig(scheme: .llmInt8, threshold: -1)) }
        #expect(throws: QuantizationError.self) { try Quantizer.quantize(model: fp32, config: QuantizationConfig(scheme: .staticInt8), calibration: []) }
        let dir = try Fixtures.temporaryDirectory("quantized-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        // An fp32 checkpoint is not a quantized one.
        try fp32.save(dir)
        #expect(!QuantizedModel.isQuantized(dir))
        #expect(throws: QuantizationError.self) { try QuantizedModel.load(dir) }
        // A quantized checkpoint cannot be read as fp32 (so it cannot be quantized again).
        try Quantizer.quantize(model: fp32, config: QuantizationConfig(scheme: .dynamic)).save(dir)
        #expect(throws: ModelError.self) { try XLMRModel.load(dir) }
    }
}
