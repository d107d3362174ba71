// How word labels are read from a token-classification model's label distributions: each word's most likely
// label on its own (what transformers' pipelines and the paper's baselines do), or the most likely label sequence
// of the whole sentence among those that are valid BIO (an `I-X` only after `B-X` or `I-X`), found by Viterbi.
// A softmax classifier trained word by word has no notion of the sequence, and on small data it often breaks a
// name in two (`B-PER B-PER`) or opens one with `I-`; the constrained reading repairs the second without changing
// the model (a CRF would change it, and the XLM-R checkpoint format has no place for one). The first is valid BIO:
// only a model of which label follows which repairs it. `transitions` adds one, estimated from the training set's
// tags, as a hybrid HMM does (Bourlard and Morgan's hybrid decoding in speech recognition): each word's distribution
// divided by its label's training frequency stands for the word's likelihood given the label, and the sequence's
// score is that times the label-to-label transition probabilities, over valid BIO sequences.
// A model trained here from scratch splits most multi-word names (docs/study.md, part 5).
import Foundation
import TextData

/// The `evaluation.decode` setting.
package enum Decoding: String, Sendable, CaseIterable {
    case argmax
    case bio
    case transitions
}

/// Log label transition probabilities and log label frequencies of a training set's tag sequences, each count
/// plus ½ (so an unseen pair is unlikely, not impossible); tags outside the label set count as `O` (the first label).
package struct LabelTransitions: Sendable, Equatable {
    /// pair[i][j]: log P(label j | previous label i) − log P(label j).
    package let pair: [[Double]]
    /// start[j]: log P(label j opens a sentence) − log P(label j).
    package let start: [Double]

    package init(tags: [[String]], labels: LabelSet) {
        let L = labels.count
        var counts = [[Double]](repeating: [Double](repeating: 0.5, count: L), count: L + 1)  // row L: sentence start
        var frequency = [Double](repeating: 0.5, count: L)
        for sentence in tags {
            var previous = L
            for tag in sentence {
                let j = labels.id(of: tag) ?? 0
                counts[previous][j] += 1
                frequency[j] += 1
                previous = j
            }
        }
        let total = frequency.reduce(0, +)
        let logPrior = frequency.map { Foundation.log($0 / total) }
        let rows = counts.map { row -> [Double] in
            let sum = row.reduce(0, +)
            return row.enumerated().map { Foundation.log($0.element / sum) - logPrior[$0.offset] }
        }
        pair = Array(rows[0..<L])
        start = rows[L]
    }
}

package enum BIODecoder {
    /// allowed[i][j]: label j may follow label i; start[j]: label j may open a sentence.
    package static func transitions(_ labels: LabelSet) -> (allowed: [[Bool]], start: [Bool]) {
        let names = labels.labels
        func inside(_ name: String) -> String? { name.hasPrefix("I-") ? String(name.dropFirst(2)) : nil }
        func type(_ name: String) -> String? { name.hasPrefix("B-") || name.hasPrefix("I-") ? String(name.dropFirst(2)) : nil }
        let allowed = names.map { previous in names.map { next in inside(next).map { $0 == type(previous) } ?? true } }
        return (allowed, names.map { inside($0) == nil })
    }

    /// The valid label sequence with the largest sum of log-probabilities over `words` (each a distribution over
    /// the labels), plus with `scores` each step's `pair` score (the first word's `start`); on ties the smaller
    /// label index wins at the last word and at every back-pointer. A probability of 0 counts as a very unlikely
    /// label, not an impossible one.
    package static func decode(_ words: [[Float]], transitions t: (allowed: [[Bool]], start: [Bool]),
                               scores: LabelTransitions? = nil) -> [Int] {
        guard let first = words.first else { return [] }
        let L = first.count
        func logp(_ p: Float) -> Double { Foundation.log(max(Double(p), 1e-30)) }
        let pair = scores?.pair
        var score = (0..<L).map { t.start[$0] ? logp(first[$0]) + (scores?.start[$0] ?? 0) : -Double.infinity }
        var back: [[Int]] = []
        back.reserveCapacity(words.count)
        for w in words.dropFirst() {
            var next = [Double](repeating: -Double.infinity, count: L), from = [Int](repeating: 0, count: L)
            for j in 0..<L {
                for i in 0..<L where t.allowed[i][j] {
                    let s = score[i] + (pair?[i][j] ?? 0)
                    if s > next[j] { next[j] = s; from[j] = i }
                }
                next[j] += logp(w[j])
            }
            score = next; back.append(from)
        }
        var best = 0
        for j in 1..<L where score[j] > score[best] { best = j }
        var path = [best]
        for from in back.reversed() { best = from[best]; path.append(best) }
        return path.reversed()
    }
}
