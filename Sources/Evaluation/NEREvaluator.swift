// Evaluating a token-classification model on NER sentences: windows → logits → first-subword argmax (or the
// best valid BIO sequence, `BIODecoding.swift`) → word labels → seqeval-exact entity scores. Works on any
// TokenLogitsModel (dense, pruned, quantized). The predictions are a value of their own (label and, on request, the label distribution per scored word), so
// calibration, robustness and agreement between two models are computed from the same pass as F1.
import Foundation
import TextData
import Transformer

/// What a model predicted for each word of each sentence (the word's first subword is the scored position).
package struct NERPredictions: Sendable, Equatable {
    /// Per sentence, per word: the label index with the highest logit (the first such, on ties), or with `.bio`
    /// (`.transitions`) decoding the word's label in the sentence's best valid BIO sequence (weighed by the
    /// training set's label transitions).
    package var labels: [[Int]]
    /// Per sentence, per word: softmax over the labels at the scored position; empty unless asked for.
    package var probabilities: [[[Float]]]

    package init(labels: [[Int]], probabilities: [[[Float]]]) {
        self.labels = labels; self.probabilities = probabilities
    }

    /// The predicted tags, per sentence and word.
    package func tags(_ set: LabelSet) -> [[String]] { labels.map { $0.map { set.label(of: $0) } } }
}

package struct NEREvaluator {
    package let tokenizer: XLMRTokenizer
    package let labels: LabelSet
    package let maxLength: Int
    package let batchSize: Int
    /// How word labels are read from the label distributions (`BIODecoding.swift`).
    package let decoding: Decoding
    /// With `.transitions`: the training set's label transitions the decoding weighs sequences by.
    package let transitions: LabelTransitions?

    /// `trainingTags`: the training sentences' tags, which `.transitions` decoding needs (and no other reads).
    package init(tokenizer: XLMRTokenizer, labels: LabelSet, maxLength: Int, batchSize: Int, decoding: Decoding = .argmax,
                 trainingTags: [[String]]? = nil) {
        self.tokenizer = tokenizer; self.labels = labels; self.maxLength = maxLength; self.batchSize = batchSize
        self.decoding = decoding
        precondition(decoding != .transitions || trainingTags != nil, "decoding by transitions needs the training tags")
        transitions = decoding == .transitions ? trainingTags.map { LabelTransitions(tags: $0, labels: labels) } : nil
    }

    /// Word-level predictions for `sentences` (a word without a prediction, which alignment rules out, would read
    /// label 0, `O`). `probabilities` adds each scored word's label distribution.
    package func predictions(_ model: TokenLogitsModel, _ sentences: [NERSentence], windows: [AlignedWindow],
                             probabilities wanted: Bool = false) throws -> NERPredictions {
        let probabilities = wanted || decoding != .argmax
        let L = model.outputCount
        precondition(L == labels.count, "the model has \(L) outputs but the label set \(labels.count)")
        var tokenPredictions = [[Int]](repeating: [], count: windows.count)
        var tokenProbabilities = [[[Float]]](repeating: [], count: probabilities ? windows.count : 0)
        for batch in Batcher.batches(windows, batchSize: batchSize, seed: nil) {
            let logits = try model.logits(batch.tokenBatch(for: model))
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
                if probabilities {
                    tokenProbabilities[example] = (0..<T).map { Self.softmax(logits[((row * T + $0) * L)..<((row * T + $0 + 1) * L)]) }
                }
            }
        }
        let lengths = sentences.map(\.words.count)
        let words = XLMRTokenizer.wordPredictions(windows: windows, tokenPredictions: tokenPredictions, sentenceLengths: lengths)
        var out = NERPredictions(labels: words.map { $0.map { $0 ?? 0 } }, probabilities: [])
        if probabilities {
            let uniform = [Float](repeating: 1 / Float(L), count: L)
            out.probabilities = XLMRTokenizer.wordPredictions(windows: windows, tokenPredictions: tokenProbabilities,
                                                              sentenceLengths: lengths).map { $0.map { $0 ?? uniform } }
        }
        if decoding != .argmax {
            let allowed = BIODecoder.transitions(labels)
            out.labels = out.probabilities.map { BIODecoder.decode($0, transitions: allowed, scores: transitions) }
        }
        if !wanted { out.probabilities = [] }
        return out
    }

    /// Word-level predicted tags for `sentences`.
    package func predict(_ model: TokenLogitsModel, _ sentences: [NERSentence], windows: [AlignedWindow]) throws -> [[String]] {
        try predictions(model, sentences, windows: windows).tags(labels)
    }

    /// Scores sentences, aligning them to windows of the evaluator's `maxLength` first.
    package func score(_ model: TokenLogitsModel, _ sentences: [NERSentence]) throws -> EntityScores {
        try score(model, sentences, windows: try tokenizer.align(sentences, labels: labels, maxLength: maxLength))
    }

    package func score(_ model: TokenLogitsModel, _ sentences: [NERSentence], windows: [AlignedWindow]) throws -> EntityScores {
        try score(predictions(model, sentences, windows: windows), gold: sentences)
    }

    /// seqeval-exact entity scores of predictions against the sentences' gold tags.
    package func score(_ predictions: NERPredictions, gold sentences: [NERSentence]) throws -> EntityScores {
        try EntityF1.score(gold: sentences.map(\.tags), predicted: predictions.tags(labels), mode: .default)
    }

    /// Per gold entity of `sentences` (seqeval default chunking, as `score`): found exactly by the predictions or not.
    package func outcomes(_ predictions: NERPredictions, gold sentences: [NERSentence]) throws -> [(entity: EntitySpan, found: Bool)] {
        try EntityF1.goldOutcomes(gold: sentences.map(\.tags), predicted: predictions.tags(labels), mode: .default)
    }

    /// exp(x − max) / Σ, in Double so the sum is exact enough for calibration bins.
    static func softmax(_ logits: ArraySlice<Float>) -> [Float] {
        let top = logits.max() ?? 0
        let e = logits.map { Foundation.exp(Double($0 - top)) }
        let sum = e.reduce(0, +)
        return e.map { Float($0 / sum) }
    }
}

extension Batch {
    /// The engine's view of a text batch, with the word shapes as token types for a model that takes them.
    /// With `ngramBuckets` > 0 (the model's n-gram table), each token's word's n-gram hashes become table rows
    /// (hash mod buckets).
    package func tokenBatch(wordShapes: Bool, ngramBuckets: Int = 0) -> TokenBatch {
        let rows = ngramBuckets > 0 ? charNgrams.map { CharNgrams.row($0, buckets: ngramBuckets) } : nil
        return TokenBatch(batch: batchSize, tokens: length, ids: inputIds, attentionMask: attentionMask, labels: labels,
                          tokenTypes: wordShapes ? tokenTypes : nil, charNgrams: rows, ngramSlots: rows == nil ? 0 : CharNgrams.perToken)
    }

    /// The batch as `model` takes it (word shapes, n-gram rows).
    package func tokenBatch(for model: some TokenLogitsModel) -> TokenBatch {
        tokenBatch(wordShapes: model.takesWordShapes, ngramBuckets: model.charNgramBuckets)
    }
}
