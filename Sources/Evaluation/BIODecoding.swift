// How word labels are read from a token-classification model's label distributions: each word's most likely
// label on its own (what transformers' pipelines and the paper's baselines do), or the most likely label sequence
// of the whole sentence among those that are valid BIO (an `I-X` only after `B-X` or `I-X`), found by Viterbi.
// A softmax classifier trained word by word has no notion of the sequence, and on small data it often breaks a
// name in two (`B-PER B-PER`) or opens one with `I-`; the constrained reading repairs those without changing the
// model (a CRF would change it, and the XLM-R checkpoint format has no place for one).
import Foundation
import TextData

/// The `evaluation.decode` setting.
package enum Decoding: String, Sendable, CaseIterable {
    case argmax
    case bio
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
    /// the labels); on ties the smaller label index wins at the last word and at every back-pointer. A
    /// probability of 0 counts as a very unlikely label, not an impossible one.
    package static func decode(_ words: [[Float]], transitions t: (allowed: [[Bool]], start: [Bool])) -> [Int] {
        guard let first = words.first else { return [] }
        let L = first.count
        func logp(_ p: Float) -> Double { Foundation.log(max(Double(p), 1e-30)) }
        var score = (0..<L).map { t.start[$0] ? logp(first[$0]) : -Double.infinity }
        var back: [[Int]] = []
        back.reserveCapacity(words.count)
        for w in words.dropFirst() {
            var next = [Double](repeating: -Double.infinity, count: L), from = [Int](repeating: 0, count: L)
            for j in 0..<L {
                for i in 0..<L where t.allowed[i][j] && score[i] > next[j] { next[j] = score[i]; from[j] = i }
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
