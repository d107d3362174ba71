// BERT/RoBERTa masking for MLM: each non-special token is selected with probability 15%; a selected token
// becomes <mask> 80% of the time, a random id 10%, and stays unchanged 10%. Labels hold the original id at
// selected positions and -100 elsewhere. Special tokens (and padding) are never selected.
import TensorCore
import Transformer

package struct MLMMasking: Sendable {
    package var maskId: Int32
    package var vocabSize: Int
    /// Ids that are never masked: <s>, <pad>, </s>, <unk> by XLM-R's layout, plus <mask> itself.
    package var specialIds: Set<Int32>
    package var probability: Float = 0.15
    /// Random replacements are drawn from ids >= this (skipping the special tokens at the start).
    package var firstRegularId: Int32

    package init(maskId: Int32, vocabSize: Int, specialIds: Set<Int32> = [0, 1, 2, 3], probability: Float = 0.15) {
        self.maskId = maskId; self.vocabSize = vocabSize; self.probability = probability
        self.specialIds = specialIds.union([maskId])
        firstRegularId = (specialIds.filter { $0 < 8 }.max() ?? -1) + 1
    }

    /// Masks `batch.ids` in place and sets `batch.labels`.
    package func apply(_ batch: inout TokenBatch, rng: inout Xoshiro256) {
        let n = batch.ids.count
        if batch.labels == nil || batch.labels!.count != n { batch.labels = [Int32](repeating: Kernels.ignoreIndex, count: n) }
        let regularCount = vocabSize - Int(firstRegularId)
        for i in 0..<n {
            let id = batch.ids[i]
            batch.labels![i] = Kernels.ignoreIndex
            guard batch.attentionMask[i] != 0, !specialIds.contains(id), rng.uniform() < probability else { continue }
            batch.labels![i] = id
            let r = rng.uniform()
            if r < 0.8 {
                batch.ids[i] = maskId
            } else if r < 0.9 {
                var replacement: Int32
                repeat { replacement = firstRegularId + Int32(rng.below(regularCount)) } while specialIds.contains(replacement)
                batch.ids[i] = replacement
            }
        }
    }
}
