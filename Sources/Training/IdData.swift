// Integer-id training data (no tokenizer needed): one sequence per line as space-separated ids, and for token
// classification "ids<TAB>labels" with one label per id (-100 to ignore). Batches are drawn in a seeded order.
import Foundation
import TensorCore
import Transformer

package struct IdDataError: Error, CustomStringConvertible {
    package let file: String, line: Int, problem: String
    package var description: String { "\(file):\(line): \(problem)" }
}

package struct IdSequences: Sendable {
    package var sequences: [[Int32]]
    package var labels: [[Int32]]?

    /// Reads a file of id lines (and optional tab-separated label lines); checks ids against `vocabSize`.
    package static func read(_ url: URL, vocabSize: Int, withLabels: Bool, labelCount: Int = 0) throws -> IdSequences {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw IdDataError(file: url.path, line: 0, problem: "cannot be read (\(error.localizedDescription))")
        }
        var seqs: [[Int32]] = [], labs: [[Int32]] = []
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            let parts = line.split(separator: "\t")
            func ints(_ s: Substring, _ what: String) throws -> [Int32] {
                try s.split(separator: " ").map {
                    guard let v = Int32($0) else { throw IdDataError(file: url.path, line: n + 1, problem: "\(what) \"\($0)\" is not an integer") }
                    return v
                }
            }
            let ids = try ints(parts[0], "id")
            for id in ids where id < 0 || Int(id) >= vocabSize {
                throw IdDataError(file: url.path, line: n + 1, problem: "id \(id) is outside the vocabulary 0..<\(vocabSize)")
            }
            seqs.append(ids)
            if withLabels {
                guard parts.count == 2 else { throw IdDataError(file: url.path, line: n + 1, problem: "expected ids<TAB>labels") }
                let l = try ints(parts[1], "label")
                guard l.count == ids.count else {
                    throw IdDataError(file: url.path, line: n + 1, problem: "\(l.count) labels for \(ids.count) ids")
                }
                for v in l where v != -100 && (v < 0 || Int(v) >= labelCount) {
                    throw IdDataError(file: url.path, line: n + 1, problem: "label \(v) is outside 0..<\(labelCount) (or -100)")
                }
                labs.append(l)
            }
        }
        guard !seqs.isEmpty else { throw IdDataError(file: url.path, line: 0, problem: "has no sequences") }
        return IdSequences(sequences: seqs, labels: withLabels ? labs : nil)
    }
}

/// Draws batches of `batchSize` sequences in a seeded shuffled order (reshuffled each epoch), truncated to
/// `tokens` and padded with `pad`.
package struct ShuffledBatches: BatchSource {
    let data: IdSequences
    let batchSize: Int, tokens: Int, pad: Int32
    var order: [Int] = []
    var cursor = 0

    package init(data: IdSequences, batchSize: Int, tokens: Int, pad: Int32) {
        self.data = data; self.batchSize = batchSize; self.tokens = tokens; self.pad = pad
    }

    package mutating func batch(step: Int, rng: inout Xoshiro256) -> TokenBatch {
        let longest = tokens
        var ids = [Int32](repeating: pad, count: batchSize * longest)
        var mask = [Int32](repeating: 0, count: batchSize * longest)
        var labels: [Int32]? = data.labels == nil ? nil : [Int32](repeating: -100, count: batchSize * longest)
        for b in 0..<batchSize {
            if cursor >= order.count {
                order = Array(data.sequences.indices)
                rng.shuffle(&order)
                cursor = 0
            }
            let i = order[cursor]; cursor += 1
            let seq = data.sequences[i]
            for t in 0..<min(seq.count, longest) {
                ids[b * longest + t] = seq[t]; mask[b * longest + t] = 1
                if let l = data.labels { labels![b * longest + t] = l[i][t] }
            }
        }
        return TokenBatch(batch: batchSize, tokens: longest, ids: ids, attentionMask: mask, labels: labels)
    }
}
