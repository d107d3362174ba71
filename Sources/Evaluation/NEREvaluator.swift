// Evaluating a token-classification model on NER sentences: windows → logits → first-subword argmax →
// word labels → seqeval-exact entity scores. Works on any TokenLogitsModel (dense, pruned, quantized).
import Evaluation
import Experiment
import Foundation
import TextData
import Transformer

struct NEREvaluator {
    let tokenizer: XLMRTokenizer
    let labels: LabelSet
    let maxLength: Int
    let batchSize: Int

    /// Word-level predicted tags for `sentences` (a word without a prediction, which alignment rules out, would read `O`).
    func predict(_ model: TokenLogitsModel, _ sentences: [NERSentence], windows: [AlignedWindow]) throws -> [[String]] {
        let L = model.outputCount
        precondition(L == labels.count, "the model has \(L) outputs but the label set \(labels.count)")
        var tokenPredictions = [[Int]](repeating: [], count: windows.count)
        for batch in Batcher.batches(windows, batchSize: batchSize, seed: nil) {
            let logits = try model.logits(batch.tokenBatch)
            let T = batch.length
            for (row, example) in batch.exampleIndices.enumerated() {
                var predicted = [Int](repeating: 0, count: T)
                for t in 0..<T {
                    let base = (row * T + t) * L
                    var best = 0
                    for l in 1..<L where logits[base + l] > logits[base + best] { best = l }
                    predicted[t] = best
                }
                tokenPredictions[example] = predicted
            }
        }
        let words = XLMRTokenizer.wordPredictions(windows: windows, tokenPredictions: tokenPredictions,
                                                  sentenceLengths: sentences.map(\.words.count))
        return words.map { $0.map { labels.label(of: $0 ?? 0) } }
    }

    /// Scores sentences, aligning them to windows of the evaluator's `maxLength` first.
    func score(_ model: TokenLogitsModel, _ sentences: [NERSentence]) throws -> EntityScores {
        try score(model, sentences, windows: try tokenizer.align(sentences, labels: labels, maxLength: maxLength))
    }

    func score(_ model: TokenLogitsModel, _ sentences: [NERSentence], windows: [AlignedWindow]) throws -> EntityScores {
        let predicted = try predict(model, sentences, windows: windows)
        return try EntityF1.score(gold: sentences.map(\.tags), predicted: predicted, mode: .default)
    }

    /// Scores as open metrics under a prefix: `test.f1`, `test.precision`, `test.per_type.PER.f1`, …
    static func metrics(_ s: EntityScores, prefix: String) -> [String: Value] {
        var m: [String: Value] = [
            "\(prefix).precision": .double(s.precision), "\(prefix).recall": .double(s.recall), "\(prefix).f1": .double(s.f1),
            "\(prefix).entities": .int(s.gold), "\(prefix).token_accuracy": .double(s.tokenAccuracy),
        ]
        for (type, t) in s.perType {
            m["\(prefix).per_type.\(type).precision"] = .double(t.precision)
            m["\(prefix).per_type.\(type).recall"] = .double(t.recall)
            m["\(prefix).per_type.\(type).f1"] = .double(t.f1)
            m["\(prefix).per_type.\(type).support"] = .int(t.support)
        }
        return m
    }
}
