// Character n-grams (model.char_ngrams): the hashes of a word's bracketed, lowercased 3- to 5-grams (values from
// an independent FNV-1a in Python), the cap per word, every piece of an aligned word carrying its word's hashes,
// the batch layout, and the same hashes when the words are read back from the pieces alone.
import Foundation
import Testing
@testable import TextData

@Suite struct CharNgramsTests {
    /// FNV-1a 32-bit, top bit cleared, from Python: `h = 2166136261; for b in s.encode(): h = ((h ^ b) * 16777619) & 0xffffffff`.
    @Test func hashesOfAShortWordAreItsBracketedNgramsShortestFirst() {
        // "<ade>": <ad ade de> | <ade ade> | <ade>
        let expected: [UInt32] = [1_184_654_270, 1_010_373_639, 492_388_244, 53_555_649, 115_004_859, 91_337_837]
        #expect(CharNgrams.hashes("Ade") == expected)
        #expect(CharNgrams.hashes("ADE") == expected, "lowercased: the casing reaches the model as the word shape")
        // Ge'ez scalars are hashed over their UTF-8 bytes: "<ሰላም>" starts with "<ሰላ", "ሰላም".
        let amharic = CharNgrams.hashes("ሰላም")
        #expect(Array(amharic.prefix(2)) == [471_521_620, 964_131_122])
        #expect(amharic.count == 3 + 2 + 1, "<ሰላም> is five scalars")
        // One scalar still has a trigram "<a>"; the empty word has none of three scalars but "<>" is two: nothing.
        #expect(CharNgrams.hashes("a").count == 1)
        #expect(CharNgrams.hashes("").isEmpty)
        #expect(CharNgrams.hashes("word").allSatisfy { $0 != CharNgrams.none && $0 < 1 << 31 })
    }

    @Test func aLongWordKeepsAtMostPerTokenNgramsShortestFirst() {
        let word = String(repeating: "abcdefghij", count: 3)   // 32 scalars bracketed: 30 + 29 + 28 n-grams
        let hashes = CharNgrams.hashes(word)
        #expect(hashes.count == CharNgrams.perToken)
        // The first 30 are the trigrams; the last two the first two 4-grams "<abc", "abcd".
        #expect(hashes[0] == CharNgrams.hashes("ab")[0], "the trigram <ab of both words")
        #expect(hashes[29] == CharNgrams.hashes("ij")[1], "the last trigram ij> of both words")
        #expect(hashes[30] == CharNgrams.hashes("abc")[3], "the 4-gram <abc of both words")
    }

    @Test func everyPieceOfAnAlignedWordCarriesItsWordsHashes() throws {
        let tok = try XLMRTokenizerTests.tokenizer()
        let words = ["Adebayo", "lives", "in", "LAGOS", ",", "since", "2021", "አዲስ"]
        let sentence = NERSentence(words: words, tags: words.map { _ in "O" })
        for maxLength in [64, 6] {
            var seen = 0
            for w in try tok.align([sentence], labels: nil, maxLength: maxLength) {
                #expect(w.charNgrams.count == w.length)
                #expect(w.charNgrams.first == [] && w.charNgrams.last == [])
                for (k, position) in w.wordPositions.enumerated() {
                    let word = words[w.firstWord + k]
                    let end = k + 1 < w.wordPositions.count ? w.wordPositions[k + 1] : w.length - 1
                    #expect(w.charNgrams[position..<end].allSatisfy { $0 == CharNgrams.hashes(word) }, "\(word)")
                    seen += 1
                }
            }
            #expect(seen == words.count)
        }
        // Batches: K slots per token, the word's hashes first, `none` after them and on padding.
        let windows = try tok.align([sentence, NERSentence(words: ["x"], tags: ["O"])], labels: nil, maxLength: 64)
        let batch = Batcher.batches(windows, batchSize: 2, seed: nil)[0]
        let K = CharNgrams.perToken
        #expect(batch.charNgrams.count == batch.inputIds.count * K)
        for (b, index) in batch.exampleIndices.enumerated() {
            for t in 0..<batch.length {
                let slots = Array(batch.charNgrams[((b * batch.length + t) * K)..<((b * batch.length + t + 1) * K)])
                let hashes = t < windows[index].length ? windows[index].charNgrams[t] : []
                #expect(slots == hashes + [UInt32](repeating: CharNgrams.none, count: K - hashes.count))
            }
        }
        // Pretraining windows carry none (a masked piece must not be given away by its word's spelling).
        #expect(try tok.pretrainingWindows(["Ada lives in Lagos"], maxLength: 64, wordShapes: true)[0].charNgrams.allSatisfy(\.isEmpty))
    }

    @Test func wordsReadBackFromPiecesGiveTheSameHashes() throws {
        let tok = try XLMRTokenizerTests.tokenizer()
        let words = ["Ada", "lives", "in", "Lagos", "since", "2021"]
        let window = try tok.align([NERSentence(words: words, tags: words.map { _ in "O" })], labels: nil, maxLength: 64)[0]
        let fromIds = tok.charNgrams(ofIds: window.inputIds)
        var checked = 0
        for (k, position) in window.wordPositions.enumerated() where !(try tok.pieceIds(words[k])).contains(XLMRTokenizer.unkId) {
            #expect(fromIds[position] == CharNgrams.hashes(words[k]), "\(words[k])")
            checked += 1
        }
        #expect(checked >= 3)
        // The last word's hashes do not take in </s>'s text (the test tokenizer's pieces spell "<s>" for it).
        let last = window.wordPositions.last!
        #expect(fromIds[last] == CharNgrams.hashes(words.last!))
        #expect(fromIds.first == [] && fromIds.last == [], "<s> and </s> have none")
    }
}
