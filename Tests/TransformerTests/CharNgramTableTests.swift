// The character n-gram table (model.char_ngrams): a token adds the mean of the table rows its n-gram slots name
// (checked against the same sum computed here by hand), the training model and the inference encoder agree, the
// table's gradients match finite differences, bad rows and missing n-grams are refused, and the table survives a
// checkpoint; a model without a table is the model it was.
import Foundation
import Testing
import TestSupport
@testable import TensorCore
@testable import Transformer

@Suite struct CharNgramTableTests {
    static let buckets = 6, slots = 3, C = 8

    static func config(buckets: Int = buckets) -> XLMRConfig {
        XLMRConfig(vocabSize: 30, hiddenSize: C, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 12,
                   maxPositionEmbeddings: 16, hiddenDropoutProb: 0, attentionProbsDropoutProb: 0, initializerRange: 0.3,
                   charNgramBuckets: buckets)
    }

    /// Two rows (the second padded); <s>, </s> and padding have no n-grams, other tokens 1 to 3 rows (some repeated).
    static func batch(labels: Bool = false) -> TokenBatch {
        var b = TokenBatch(rows: [[0, 5, 9, 13, 7, 2], [0, 17, 4, 2]], pad: 1)
        var r = TestRandom(seed: 9)
        var rows: [Int32] = []
        for id in b.ids {
            let used = [0, 1, 2].contains(id) ? 0 : 1 + r.below(slots)
            rows += (0..<slots).map { $0 < used ? Int32(r.below(buckets)) : -1 }
        }
        b.charNgrams = rows; b.ngramSlots = slots
        if labels { b.labels = b.ids.enumerated().map { [0, 1, 2].contains($1) ? -100 : Int32($0 % 3) } }
        return b
    }

    static func model(_ c: XLMRConfig = config(), seed: UInt64 = 3) throws -> XLMRModel {
        let m = try XLMRModel(config: c, head: .tokenClassification(labels: 3))
        m.initializeWeights(seed: seed)
        return m
    }

    @Test func eachTokenAddsTheMeanOfItsRowsBeforeTheNorm() throws {
        let m = try Self.model()
        let batch = Self.batch()
        // The same model with the table folded in by hand: zero the table and add each token's mean to a copy of its
        // word row cannot be done per token (rows are shared), so compare the pre-norm sums directly.
        let w = Workspace(config: m.config, head: m.head, maxBatch: 2, maxTokens: 6, training: false)
        var rng = Xoshiro256(seed: 0)
        _ = try m.forward(batch, workspace: w, training: false, rng: &rng)
        let table = m.parameter(ModelSlots.charNgramTensor)!
        #expect(table.shape == [Self.buckets, Self.C])
        var plain = batch
        plain.charNgrams = nil; plain.ngramSlots = 0
        let bare = try Self.model(XLMRConfig(vocabSize: 30, hiddenSize: Self.C, numHiddenLayers: 2, numAttentionHeads: 2,
                                             intermediateSize: 12, maxPositionEmbeddings: 16, hiddenDropoutProb: 0,
                                             attentionProbsDropoutProb: 0, initializerRange: 0.3))
        // Copy every shared tensor so the bare model is the same model without its table.
        for e in bare.layout.entries { bare.parameter(e.name)!.buffer.update(from: m.parameter(e.name)!.buffer) }
        let wb = Workspace(config: bare.config, head: bare.head, maxBatch: 2, maxTokens: 6, training: false)
        _ = try bare.forward(plain, workspace: wb, training: false, rng: &rng)
        var worst: Float = 0
        for i in 0..<batch.ids.count {
            let rows = batch.charNgrams![(i * Self.slots)..<((i + 1) * Self.slots)].filter { $0 >= 0 }
            for j in 0..<Self.C {
                var expected = wb.embeddings.sum.pointer[i * Self.C + j]
                if !rows.isEmpty {
                    expected += rows.map { table[Int($0) * Self.C + j] }.reduce(0, +) / Float(rows.count)
                }
                worst = max(worst, abs(w.embeddings.sum.pointer[i * Self.C + j] - expected))
            }
        }
        #expect(worst <= 1e-6, "largest difference \(worst)")
        #expect(try m.logits(batch) != bare.logits(plain), "the table reaches the logits")
    }

    @Test func bothEnginesAgree() throws {
        let m = try Self.model()
        let batch = Self.batch()
        let trained = try m.logits(batch)
        for encoder in [try InferenceEncoder(model: m), try InferenceEncoder.fastest(model: m, threads: 1)] {
            #expect(encoder.charNgramBuckets == Self.buckets)
            let err = relativeError(try encoder.logits(batch), trained)
            #expect(err <= Tolerance.inferenceParityRelative, "relative error \(err)")
        }
    }

    @Test func tableGradientsMatchFiniteDifferences() throws {
        let m = try Self.model()
        let batch = Self.batch(labels: true)
        let w = Workspace(config: m.config, head: m.head, maxBatch: 2, maxTokens: 6, training: true)
        var rng = Xoshiro256(seed: 0)
        m.zeroGradients()
        _ = try m.forward(batch, workspace: w, training: true, rng: &rng)
        m.backward(workspace: w)
        let name = ModelSlots.charNgramTensor
        let gradient = m.gradient(name)!
        let used = Set(batch.charNgrams!.filter { $0 >= 0 }.map(Int.init))
        for row in 0..<Self.buckets {
            let norm = (0..<Self.C).map { abs(gradient[row * Self.C + $0]) }.reduce(0, +)
            #expect(used.contains(row) ? norm > 0 : norm == 0, "row \(row): gradient norm \(norm)")
        }
        let evalSpace = Workspace(config: m.config, head: m.head, maxBatch: 2, maxTokens: 6, training: false)
        func loss() -> Double { Double(try! m.forward(batch, workspace: evalSpace, training: false, rng: &rng)!) }
        let rows = used.sorted().map {
            FiniteDifferenceTensor(name: "\(name)[\($0)]", values: m.parameter(name)!.pointer + $0 * Self.C,
                                   gradients: gradient.pointer + $0 * Self.C, count: Self.C)
        }
        var pick = Xoshiro256(seed: 5)
        let (checked, mismatches) = finiteDifferenceCheck(rows, pick: { pick.below($0) }, loss: loss)
        #expect(checked == 3 * rows.count && mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
    }

    @Test func badRowsAndMissingNgramsAreRefused() throws {
        let m = try Self.model()
        let encoder = try InferenceEncoder(model: m)
        for bad in [Int32(Self.buckets), -2] {
            var batch = Self.batch()
            batch.charNgrams![4] = bad
            for run in [{ _ = try m.logits(batch) }, { _ = try encoder.logits(batch) }] {
                #expect { try run() } throws: { "\($0)".contains("char n-gram row \(bad)") }
            }
        }
        var none = Self.batch()
        none.charNgrams = nil
        #expect { _ = try m.logits(none) } throws: { "\($0)".contains("smaller_char_ngram_buckets") }
        var short = Self.batch()
        short.charNgrams = [0, 1]
        #expect { _ = try encoder.logits(short) } throws: { "\($0)".contains("char n-grams has 2 values") }
        var tooMany = Self.batch()
        tooMany.ngramSlots = TokenBatch.maxNgramSlots + 1
        #expect { _ = try m.logits(tooMany) } throws: { "\($0)".contains("ngram slots per token") }
        // A model without a table refuses n-grams instead of ignoring them.
        let bare = try Self.model(Self.config(buckets: 0))
        #expect { _ = try bare.logits(Self.batch()) } throws: { "\($0)".contains("no n-gram table") }
        #expect { try Self.config(buckets: -1).validate() } throws: { "\($0)".contains("smaller_char_ngram_buckets") }
    }

    @Test func theTableSurvivesACheckpoint() throws {
        let m = try Self.model()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("char-ngrams-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try m.save(dir)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent(XLMRModel.configFile))) as! [String: Any]
        #expect(json["smaller_char_ngram_buckets"] as? Int == Self.buckets)
        let loaded = try XLMRModel.load(dir)
        #expect(loaded.config.charNgramBuckets == Self.buckets)
        let batch = Self.batch()
        #expect(try loaded.logits(batch) == m.logits(batch))
        let plain = try Self.model(Self.config(buckets: 0))
        #expect(!String(decoding: try plain.configJSON(), as: UTF8.self).contains("char_ngram"))
        #expect(plain.layout.entry(ModelSlots.charNgramTensor) == nil)
    }
}
