// The NER evaluator: predictions are read back to the right words (an oracle scores F1 = 1, a model that
// predicts O everywhere scores 0), and the per-word probabilities are distributions whose argmax is the label.
import Foundation
import Testing
import TestSupport
import TextData
import Transformer
@testable import Evaluation

/// Returns, at every position, a one-hot logit on the gold label of the window with those ids.
final class OracleModel: TokenLogitsModel {
    let outputCount: Int
    let padId: Int32 = 1
    let takesWordShapes = false
    let charNgramBuckets = 0
    let gold: [[Int32]: [Int]]
    /// When set, every position predicts this label instead.
    var constant: Int?

    init(windows: [AlignedWindow], labels: Int) {
        outputCount = labels
        gold = Dictionary(windows.map { ($0.inputIds.map(Int32.init), $0.labels) }, uniquingKeysWith: { a, _ in a })
    }

    func logits(_ batch: TokenBatch) throws -> [Float] {
        let (B, T, L) = (batch.batch, batch.tokens, outputCount)
        var out = [Float](repeating: 0, count: B * T * L)
        for b in 0..<B {
            let row = (0..<T).filter { batch.attentionMask[b * T + $0] != 0 }.map { batch.ids[b * T + $0] }
            let labels = gold[row] ?? []
            for t in 0..<T {
                let label = constant ?? (t < labels.count && labels[t] >= 0 ? labels[t] : 0)
                out[(b * T + t) * L + label] = 10
            }
        }
        return out
    }
}

@Suite struct NEREvaluatorTests {
    /// Distinct dev sentences of a synthetic language (so the oracle's lookup by ids is unambiguous), their windows
    /// of `maxLength`, an evaluator and the oracle, with a tokenizer trained in `dir`.
    static func fixture(_ dir: URL, language: String, seed: UInt64, maxLength: Int, batchSize: Int)
        throws -> (sentences: [NERSentence], windows: [AlignedWindow], evaluator: NEREvaluator, oracle: OracleModel) {
        let (splits, text) = try Corpora.synthetic(language: language, seed: seed, sizes: SyntheticSizes(text: 400, train: 10, dev: 120, test: 10))
        let file = dir.appendingPathComponent("text.txt")
        try text.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        let tokenizer = try XLMRTokenizer.train(textFiles: [file], vocabularySize: 300, output: dir.appendingPathComponent("t.model"))
        var seen = Set<[String]>()
        let sentences = splits.dev.filter { seen.insert($0.words).inserted }
        let windows = try tokenizer.align(sentences, labels: .masakhaNER, maxLength: maxLength)
        return (sentences, windows, NEREvaluator(tokenizer: tokenizer, labels: .masakhaNER, maxLength: maxLength, batchSize: batchSize),
                OracleModel(windows: windows, labels: LabelSet.masakhaNER.count))
    }

    @Test func readsPredictionsBackToTheirWords() throws {
        let dir = try Fixtures.temporaryDirectory("evaluator")
        defer { try? FileManager.default.removeItem(at: dir) }
        // A short maxLength forces several windows per sentence, so the read-back across windows is exercised too.
        let (sentences, windows, evaluator, oracle) = try Self.fixture(dir, language: "syn-agg", seed: 3, maxLength: 12, batchSize: 7)
        #expect(windows.count > sentences.count, "some sentences must span several windows")

        let predicted = try evaluator.predict(oracle, sentences, windows: windows)
        #expect(predicted == sentences.map(\.tags))
        let perfect = try evaluator.score(oracle, sentences, windows: windows)
        #expect(perfect.f1 == 1 && perfect.gold > 50)

        oracle.constant = 0  // "O" everywhere
        let none = try evaluator.score(oracle, sentences, windows: windows)
        #expect(none.f1 == 0 && none.predicted == 0)
    }

    @Test func probabilitiesAgreeWithTheLabels() throws {
        let dir = try Fixtures.temporaryDirectory("evaluator-probabilities")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (sentences, windows, evaluator, oracle) = try Self.fixture(dir, language: "syn-iso", seed: 5, maxLength: 16, batchSize: 4)
        let p = try evaluator.predictions(oracle, sentences, windows: windows, probabilities: true)
        #expect(p.tags(.masakhaNER) == sentences.map(\.tags))
        #expect(p.probabilities.map(\.count) == sentences.map(\.words.count))
        for (labels, probabilities) in zip(p.labels, p.probabilities) {
            for (label, q) in zip(labels, probabilities) {
                #expect(q.count == LabelSet.masakhaNER.count && abs(q.reduce(0, +) - 1) < 1e-5)
                // One-hot logits of 10: the label's probability is e^10 / (e^10 + 8).
                #expect(q.indices.max { q[$0] < q[$1] } == label)
                #expect(abs(Double(q[label]) - exp(10) / (exp(10) + 8)) < 1e-6)
            }
        }
        #expect(try evaluator.predictions(oracle, sentences, windows: windows).probabilities.isEmpty)
    }
}
