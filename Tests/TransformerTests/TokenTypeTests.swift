// Token type ids (the word-shape signal): without types a model reads row 0 exactly as before; with types each
// token reads its own row in the training model and the inference encoder alike, the rows' gradients match
// finite differences, and bad types (out of the table, missing for a word-shape model) are refused.
import Foundation
import Testing
import TestSupport
@testable import TensorCore
@testable import Transformer

@Suite struct TokenTypeTests {
    static func config(types: Int, wordShapes: Bool = false) -> XLMRConfig {
        XLMRConfig(vocabSize: 30, hiddenSize: 8, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 12,
                   maxPositionEmbeddings: 16, typeVocabSize: types, hiddenDropoutProb: 0, attentionProbsDropoutProb: 0,
                   initializerRange: 0.3, wordShapeTypes: wordShapes)
    }

    /// Two rows (the second padded), with types 0 on <s>, </s> and padding and 1..<types elsewhere.
    static func batch(types: Int, labels: Bool = false) -> TokenBatch {
        var b = TokenBatch(rows: [[0, 5, 9, 13, 7, 2], [0, 17, 4, 2]], pad: 1)
        var r = TestRandom(seed: 4)
        b.tokenTypes = b.ids.map { [0, 1, 2].contains($0) ? 0 : Int32(1 + r.below(types - 1)) }
        if labels { b.labels = b.ids.enumerated().map { [0, 1, 2].contains($1) ? -100 : Int32($0 % 3) } }
        return b
    }

    static func model(_ c: XLMRConfig, head: ModelHead = .tokenClassification(labels: 3), seed: UInt64 = 3) throws -> XLMRModel {
        let m = try XLMRModel(config: c, head: head)
        m.initializeWeights(seed: seed)
        return m
    }

    @Test func withoutTypesEveryTokenReadsRowZeroBitForBit() throws {
        for types in [1, 8] {
            let m = try Self.model(Self.config(types: types))
            var plain = Self.batch(types: 2)
            plain.tokenTypes = nil
            var zeros = plain
            zeros.tokenTypes = [Int32](repeating: 0, count: plain.ids.count)
            let encoder = try InferenceEncoder(model: m)
            #expect(try m.logits(plain) == m.logits(zeros))
            #expect(try encoder.logits(plain) == encoder.logits(zeros))
        }
    }

    @Test func typesChangeTheLogitsAndBothEnginesAgree() throws {
        let m = try Self.model(Self.config(types: 8, wordShapes: true))
        let typed = Self.batch(types: 8)
        var zeros = typed
        zeros.tokenTypes = [Int32](repeating: 0, count: typed.ids.count)
        let trained = try m.logits(typed)
        #expect(trained != (try m.logits(zeros)), "the type rows reach the logits")
        for encoder in [try InferenceEncoder(model: m), try InferenceEncoder.fastest(model: m, threads: 1)] {
            let err = relativeError(try encoder.logits(typed), trained)
            #expect(err <= Tolerance.inferenceParityRelative, "relative error \(err)")
        }
    }

    @Test func typeRowGradientsMatchFiniteDifferences() throws {
        let m = try Self.model(Self.config(types: 4))
        let batch = Self.batch(types: 4, labels: true)
        let w = Workspace(config: m.config, head: m.head, maxBatch: 2, maxTokens: 6, training: true)
        var rng = Xoshiro256(seed: 0)
        m.zeroGradients()
        _ = try m.forward(batch, workspace: w, training: true, rng: &rng)
        m.backward(workspace: w)
        let name = "roberta.embeddings.token_type_embeddings.weight"
        let gradient = m.gradient(name)!
        // Rows no token reads get no gradient; each row some token reads gets one.
        let used = Set(batch.tokenTypes!.map(Int.init))
        for row in 0..<4 {
            let norm = (0..<8).map { abs(gradient[row * 8 + $0]) }.reduce(0, +)
            #expect(used.contains(row) ? norm > 0 : norm == 0, "row \(row): gradient norm \(norm)")
        }
        let evalSpace = Workspace(config: m.config, head: m.head, maxBatch: 2, maxTokens: 6, training: false)
        func loss() -> Double { Double(try! m.forward(batch, workspace: evalSpace, training: false, rng: &rng)!) }
        // Each row on its own, so every row is checked at its largest gradient and two random entries.
        let rows = (0..<4).map {
            FiniteDifferenceTensor(name: "\(name)[\($0)]", values: m.parameter(name)!.pointer + $0 * 8,
                                   gradients: gradient.pointer + $0 * 8, count: 8)
        }
        var pick = Xoshiro256(seed: 5)
        let (checked, mismatches) = finiteDifferenceCheck(rows, pick: { pick.below($0) }, loss: loss)
        #expect(checked == 12 && mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
    }

    @Test(arguments: [Int32(8), -1])
    func typesOutsideTheTableAreRefused(bad: Int32) throws {
        let m = try Self.model(Self.config(types: 8, wordShapes: true))
        var batch = Self.batch(types: 8)
        batch.tokenTypes![3] = bad
        let encoder = try InferenceEncoder(model: m)
        for run in [{ _ = try m.logits(batch) }, { _ = try encoder.logits(batch) }] {
            #expect { try run() } throws: { "\($0)".contains("token type \(bad)") && "\($0)".contains("type_vocab_size") }
        }
        batch.tokenTypes = [0, 1]
        #expect { _ = try m.logits(batch) } throws: { "\($0)".contains("token types has 2 values") }
    }

    @Test func aWordShapeModelRefusesABatchWithoutTypes() throws {
        let m = try Self.model(Self.config(types: 8, wordShapes: true))
        var batch = Self.batch(types: 8)
        batch.tokenTypes = nil
        let encoder = try InferenceEncoder(model: m)
        for run in [{ _ = try m.logits(batch) }, { _ = try encoder.logits(batch) }] {
            #expect { try run() } throws: { "\($0)".contains("word_shape_types") }
        }
        #expect(m.takesWordShapes && encoder.takesWordShapes)
        #expect(try !Self.model(Self.config(types: 8)).takesWordShapes)
    }

    @Test func theMarkerAndTheTableSurviveACheckpoint() throws {
        let m = try Self.model(Self.config(types: 8, wordShapes: true))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("token-types-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try m.save(dir)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent(XLMRModel.configFile))) as! [String: Any]
        #expect(json["word_shape_types"] as? Bool == true && json["type_vocab_size"] as? Int == 8)
        let loaded = try XLMRModel.load(dir)
        #expect(loaded.config.wordShapeTypes && loaded.config.typeVocabSize == 8)
        let batch = Self.batch(types: 8)
        #expect(try loaded.logits(batch) == m.logits(batch))
        // A model without the option writes no marker, as before.
        let plain = try Self.model(Self.config(types: 1))
        #expect(!String(decoding: try plain.configJSON(), as: UTF8.self).contains("word_shape"))
        #expect { try Self.config(types: 1, wordShapes: true).validate() } throws: { "\($0)".contains("type_vocab_size >= 2") }
    }
}
