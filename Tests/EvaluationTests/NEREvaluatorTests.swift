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
    static func tokenizer(_ dir: URL, text: [String]) throws -> XLMRTokenizer {
        let file = dir.appendingPathComponent("text.txt")
        try text.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        return try XLMRTokenizer.train(textFiles: [file], vocabularySize: 300, output: dir.appendingPathComponent("t.model"))
    }

    @Test func readsPredictionsBackToTheirWords() throws {
        let dir = try Fixtures.temporaryDirectory("evaluator")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (splits, text) = try Corpora.synthetic(language: "syn-agg", seed: 3, sizes: SyntheticSizes(text: 400, train: 10, dev: 120, test: 10))
        let tokenizer = try Self.tokenizer(dir, text: text)
        // Distinct word sequences only, so the oracle's lookup by ids is unambiguous; a short maxLength forces
        // several windows per sentence, so the read-back across windows is exercised too.
        var seen = Set<[String]>()
        let sentences = splits.dev.filter { seen.insert($0.words).inserted }
        let windows = try tokenizer.align(sentences, labels: .masakhaNER, maxLength: 12)
        #expect(windows.count > sentences.count, "some sentences must span several windows")
        let evaluator = NEREvaluator(tokenizer: tokenizer, labels: .masakhaNER, maxLength: 12, batchSize: 7)
        let oracle = OracleModel(windows: windows, labels: LabelSet.masakhaNER.count)

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
        let (splits, text) = try Corpora.synthetic(language: "syn-iso", seed: 5, sizes: SyntheticSizes(text: 300, train: 10, dev: 40, test: 10))
        let tokenizer = try Self.tokenizer(dir, text: text)
        var seen = Set<[String]>()
        let sentences = splits.dev.filter { seen.insert($0.words).inserted }
        let windows = try tokenizer.align(sentences, labels: .masakhaNER, maxLength: 16)
        let evaluator = NEREvaluator(tokenizer: tokenizer, labels: .masakhaNER, maxLength: 16, batchSize: 4)
        let oracle = OracleModel(windows: windows, labels: LabelSet.masakhaNER.count)
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
