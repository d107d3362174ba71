// Length-bucketed padded batches as plain integer arrays (the engine makes its own tensors from them):
// examples are shuffled with a seed, sorted by length so each batch pads little, cut into batches, and the
// batches shuffled; the same seed gives the same batches. Without a seed the order is by length (evaluation).

/// (B, T) row-major arrays; T is the longest example in the batch.
package struct Batch: Sendable, Equatable {
    package let batchSize: Int
    package let length: Int
    /// (B, T) token ids, `XLMRTokenizer.padId` after each example's end.
    package let inputIds: [Int32]
    /// (B, T) 1 on real tokens, 0 on padding.
    package let attentionMask: [Int32]
    /// (B, T) label ids, `LabelSet.ignoreIndex` on padding, specials and non-first subwords.
    package let labels: [Int32]
    /// (B, T) word shapes (`AlignedWindow.tokenTypes`), `WordShape.special` on padding.
    package let tokenTypes: [Int32]
    /// (B, T, `CharNgrams.perToken`) each token's word's n-gram hashes, `CharNgrams.none` in unused slots.
    package let charNgrams: [UInt32]
    /// (B) which example (index into the batched list) each row holds.
    package let exampleIndices: [Int]
}

package enum Batcher {
    /// Batches of at most `batchSize` examples. With a seed: shuffled then bucketed by length; without: in length order.
    package static func batches(_ examples: [AlignedWindow], batchSize: Int, seed: UInt64?) -> [Batch] {
        precondition(batchSize > 0)
        var order = Array(examples.indices)
        var rng = seed.map { SeededRandom(seed: $0) }
        if rng != nil { rng!.shuffle(&order) }
        // Stable sort by length, so ties keep the (shuffled or original) order.
        order = order.enumerated().sorted {
            let (a, b) = (examples[$0.element].length, examples[$1.element].length)
            return a != b ? a < b : $0.offset < $1.offset
        }.map(\.element)
        var groups = stride(from: 0, to: order.count, by: batchSize).map { Array(order[$0..<min($0 + batchSize, order.count)]) }
        if rng != nil { rng!.shuffle(&groups) }
        return groups.map { makeBatch(examples, $0) }
    }

    static func makeBatch(_ examples: [AlignedWindow], _ indices: [Int]) -> Batch {
        let T = indices.map { examples[$0].length }.max() ?? 0
        let B = indices.count
        var ids = [Int32](repeating: Int32(XLMRTokenizer.padId), count: B * T)
        var mask = [Int32](repeating: 0, count: B * T)
        var labels = [Int32](repeating: Int32(LabelSet.ignoreIndex), count: B * T)
        var types = [Int32](repeating: Int32(WordShape.special.rawValue), count: B * T)
        let K = CharNgrams.perToken
        var ngrams = [UInt32](repeating: CharNgrams.none, count: B * T * K)
        for (b, index) in indices.enumerated() {
            let example = examples[index]
            for t in 0..<example.length {
                ids[b * T + t] = Int32(example.inputIds[t])
                mask[b * T + t] = 1
                labels[b * T + t] = Int32(example.labels[t])
                types[b * T + t] = Int32(example.tokenTypes[t])
                for (k, h) in example.charNgrams[t].prefix(K).enumerated() { ngrams[(b * T + t) * K + k] = h }
            }
        }
        return Batch(batchSize: B, length: T, inputIds: ids, attentionMask: mask, labels: labels, tokenTypes: types, charNgrams: ngrams,
                     exampleIndices: indices)
    }
}
