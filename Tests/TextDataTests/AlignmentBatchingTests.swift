// Label alignment, windowing, prediction read-back and batching, on the committed small tokenizer.
import Foundation
import Testing
import TestSupport
@testable import TextData

@Suite struct AlignmentBatchingTests {
    static let tok = try! XLMRTokenizerTests.tokenizer()
    static let sentences = [
        NERSentence(words: ["Ade", "lọ", "sí", "Kampala", "ntunyiloko"], tags: ["B-PER", "O", "O", "B-LOC", "O"]),
        NERSentence(words: ["Musa", "Abuja", "2019"], tags: ["B-PER", "I-PER", "B-DATE"]),
        NERSentence(words: (0..<40).map { "kwashamba\($0)" }, tags: (0..<40).map { $0 % 7 == 0 ? "B-ORG" : "O" }),
    ]

    @Test func firstSubwordCarriesTheLabel() throws {
        let windows = try Self.tok.align(Self.sentences, labels: .masakhaNER, maxLength: 512)
        #expect(windows.count == 3)
        for (w, sentence) in zip(windows, Self.sentences) {
            // Independent reconstruction: <s>, each word's own ids, </s>.
            var expected = [0]
            var labels = [-100]
            for (word, tag) in zip(sentence.words, sentence.tags) {
                let ids = try Self.tok.pieceIds(word)
                expected += ids
                labels += [LabelSet.masakhaNER.id(of: tag)!] + Array(repeating: -100, count: ids.count - 1)
            }
            #expect(w.inputIds == expected + [2])
            #expect(w.labels == labels + [-100])
            #expect(w.wordCount == sentence.words.count && w.firstWord == 0)
        }
    }

    @Test func longSentencesAreWindowedWithoutLosingOrRepeatingWords() throws {
        for maxLength in [3, 4, 7, 16, 33] {
            let windows = try Self.tok.align(Self.sentences, labels: .masakhaNER, maxLength: maxLength)
            #expect(windows.allSatisfy { $0.length <= maxLength && $0.inputIds.first == 0 && $0.inputIds.last == 2 })
            // Predict each word's own index (sentence*1000 + word) at its first subword; read back.
            let rows = windows.map { w -> [Int] in
                var row = Array(repeating: -1, count: w.length)
                for (k, p) in w.wordPositions.enumerated() { row[p] = w.sentence * 1000 + w.firstWord + k }
                return row
            }
            let back = XLMRTokenizer.wordPredictions(windows: windows, tokenPredictions: rows, sentenceLengths: Self.sentences.map(\.words.count))
            for (s, sentence) in Self.sentences.enumerated() {
                #expect(back[s] == (0..<sentence.words.count).map { s * 1000 + $0 }, "maxLength \(maxLength)")
            }
            // Every label in the windows, in order, is the sentence's tags.
            let labels = windows.flatMap { $0.labels.filter { $0 != -100 } }
            #expect(labels == Self.sentences.flatMap(\.tags).map { LabelSet.masakhaNER.id(of: $0)! })
        }
    }

    @Test func batchesArePaddedMaskedAndDeterministic() throws {
        var sentences: [NERSentence] = []
        var rng = TestRandom(seed: 1)
        for _ in 0..<37 {
            let n = 1 + rng.below(12)
            sentences.append(NERSentence(words: (0..<n).map { "ka\($0)lo" }, tags: Array(repeating: "O", count: n)))
        }
        let windows = try Self.tok.align(sentences, labels: .masakhaNER, maxLength: 64)
        let a = Batcher.batches(windows, batchSize: 8, seed: 5)
        #expect(a == Batcher.batches(windows, batchSize: 8, seed: 5))
        #expect(a != Batcher.batches(windows, batchSize: 8, seed: 6))
        #expect(a.flatMap(\.exampleIndices).sorted() == Array(windows.indices))
        var padded = 0
        for batch in a {
            #expect(batch.length == batch.exampleIndices.map { windows[$0].length }.max())
            for (b, index) in batch.exampleIndices.enumerated() {
                let w = windows[index]
                for t in 0..<batch.length {
                    let i = b * batch.length + t
                    if t < w.length {
                        #expect(batch.inputIds[i] == Int32(w.inputIds[t]) && batch.attentionMask[i] == 1 && batch.labels[i] == Int32(w.labels[t]))
                    } else {
                        #expect(batch.inputIds[i] == 1 && batch.attentionMask[i] == 0 && batch.labels[i] == -100)
                        padded += 1
                    }
                }
            }
        }
        // Bucketing pads less than batching in the original order would.
        let unbucketed = stride(from: 0, to: windows.count, by: 8).map { start in
            let lengths = windows[start..<min(start + 8, windows.count)].map(\.length)
            return lengths.map { lengths.max()! - $0 }.reduce(0, +)
        }.reduce(0, +)
        #expect(padded < unbucketed)
        // Without a seed: length order.
        let eval = Batcher.batches(windows, batchSize: 8, seed: nil).flatMap(\.exampleIndices).map { windows[$0].length }
        #expect(eval == eval.sorted())
    }

    @Test func labelSetIdsAndConfigRoundTrip() throws {
        let set = LabelSet.masakhaNER
        #expect(set.labels == ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-DATE", "I-DATE"])
        #expect(set.id2label["3"] == "B-ORG" && set.label2id["I-DATE"] == 8)
        let json = try JSONEncoder().encode(set)
        let object = try JSONSerialization.jsonObject(with: json) as! [String: Any]
        #expect((object["id2label"] as! [String: String])["0"] == "O")
        #expect(try JSONDecoder().decode(LabelSet.self, from: json) == set)
        #expect(throws: LabelSetError.self) { try LabelSet(id2label: ["0": "O", "2": "B-PER"]) }
        #expect(LabelSet(from: Self.sentences).labels == ["O", "B-DATE", "I-DATE", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-PER", "I-PER"])
    }
}
