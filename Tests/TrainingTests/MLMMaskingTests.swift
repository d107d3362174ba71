// MLM masking: rates of 15% / 80-10-10, special tokens and padding never masked, labels at masked positions.
import Testing
import TestSupport
@testable import TensorCore
@testable import Training
@testable import Transformer

@Suite struct MLMMaskingTests {
    @Test func ratesAndSpecialTokens() {
        let (B, T, V) = (64, 128, 500)
        var data = TestRandom(seed: 4)
        var ids: [Int32] = [], mask: [Int32] = []
        for _ in 0..<B {
            let length = 64 + data.below(T - 64)
            for t in 0..<T {
                if t == 0 { ids.append(0) } else if t == length - 1 { ids.append(2) } else if t >= length { ids.append(1) }
                else { ids.append(Int32(4 + data.below(V - 5))) }
                mask.append(t < length ? 1 : 0)
            }
        }
        let original = TokenBatch(batch: B, tokens: T, ids: ids, attentionMask: mask)
        var batch = original
        let masking = MLMMasking(maskId: Int32(V - 1), vocabSize: V)
        var rng = Xoshiro256(seed: 11)
        masking.apply(&batch, rng: &rng)
        let labels = batch.labels!
        var eligible = 0, selected = 0, masked = 0, unchanged = 0, random = 0
        for i in ids.indices {
            let special = [0, 1, 2, 3].contains(original.ids[i])
            if !special { eligible += 1 }
            if labels[i] == -100 { #expect(batch.ids[i] == original.ids[i]); continue }
            #expect(!special, "special token at \(i) was masked")
            #expect(labels[i] == original.ids[i])
            selected += 1
            if batch.ids[i] == Int32(V - 1) { masked += 1 } else if batch.ids[i] == original.ids[i] { unchanged += 1 } else {
                random += 1
                #expect(batch.ids[i] >= 4 && batch.ids[i] < Int32(V - 1))
            }
        }
        let rate = Double(selected) / Double(eligible)
        #expect(abs(rate - 0.15) < 0.01, "selection rate \(rate)")
        #expect(abs(Double(masked) / Double(selected) - 0.8) < 0.03)
        #expect(abs(Double(random) / Double(selected) - 0.1) < 0.03)
        // Unchanged includes random draws that hit the same id (rare with 495 ids).
        #expect(abs(Double(unchanged) / Double(selected) - 0.1) < 0.03)
        // Same seed, same masking.
        var again = original
        var rng2 = Xoshiro256(seed: 11)
        masking.apply(&again, rng: &rng2)
        #expect(again.ids == batch.ids && again.labels! == labels)
    }
}
