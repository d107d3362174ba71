// Singleton <unk> replacement: which words are singletons (counted by hand), that p = 1 replaces every piece of
// every singleton occurrence and nothing else, that labels, shapes and n-grams stay, that p = 0 changes nothing,
// and that the same seed draws the same replacements.
import Testing
@testable import TextData

@Suite struct SingletonUnkTests {
    static let sentences = [
        NERSentence(words: ["Ada", "lives", "in", "Lagos"], tags: ["B-PER", "O", "O", "B-LOC"]),
        NERSentence(words: ["Musa", "lives", "in", "Kano", "since", "2021"], tags: ["B-PER", "O", "O", "B-LOC", "O", "B-DATE"]),
        NERSentence(words: ["Ada", "went", "to", "Kano"], tags: ["B-PER", "O", "O", "B-LOC"]),
    ]

    @Test func singletonsAreTheWordsSeenOnce() {
        let unk = SingletonUnk(sentences: Self.sentences, probability: 0.5)
        #expect(unk.singletons == ["Lagos", "Musa", "since", "2021", "went", "to"])
    }

    @Test func probabilityOneReplacesEverySingletonPieceAndNothingElse() throws {
        let tok = try XLMRTokenizerTests.tokenizer()
        let windows = try tok.align(Self.sentences, labels: .masakhaNER, maxLength: 64)
        let unk = SingletonUnk(sentences: Self.sentences, probability: 1)
        var rng = SeededRandom(seed: 1)
        let out = unk.apply(windows, sentences: Self.sentences, rng: &rng)
        var replaced = 0
        for (before, after) in zip(windows, out) {
            #expect(after.labels == before.labels && after.tokenTypes == before.tokenTypes && after.charNgrams == before.charNgrams)
            #expect(after.wordPositions == before.wordPositions && after.length == before.length)
            for (k, start) in before.wordPositions.enumerated() {
                let end = k + 1 < before.wordPositions.count ? before.wordPositions[k + 1] : before.length - 1
                let word = Self.sentences[before.sentence].words[before.firstWord + k]
                if unk.singletons.contains(word) {
                    #expect(after.inputIds[start..<end].allSatisfy { $0 == XLMRTokenizer.unkId }, "\(word)")
                    replaced += 1
                } else {
                    #expect(Array(after.inputIds[start..<end]) == Array(before.inputIds[start..<end]), "\(word)")
                }
            }
            #expect(after.inputIds.first == XLMRTokenizer.bosId && after.inputIds.last == XLMRTokenizer.eosId)
        }
        #expect(replaced == 6)
        let none = SingletonUnk(sentences: Self.sentences, probability: 0)
        #expect(none.apply(windows, sentences: Self.sentences, rng: &rng) == windows)
    }

    @Test func theSameSeedDrawsTheSameReplacements() throws {
        let tok = try XLMRTokenizerTests.tokenizer()
        // The three sentences' singletons, applied to 20 copies of them: 120 occurrences, each drawn.
        let many = Array(repeating: Self.sentences, count: 20).flatMap { $0 }
        let unk = SingletonUnk(sentences: Self.sentences, probability: 0.5)
        let windows = try tok.align(many, labels: .masakhaNER, maxLength: 64)
        var a = SeededRandom(seed: 7), b = SeededRandom(seed: 7), c = SeededRandom(seed: 8)
        let x = unk.apply(windows, sentences: many, rng: &a), y = unk.apply(windows, sentences: many, rng: &b)
        #expect(x == y)
        #expect(x != unk.apply(windows, sentences: many, rng: &c), "another seed, other draws")
        let unkWords = x.flatMap(\.inputIds).filter { $0 == XLMRTokenizer.unkId }.count
        #expect(unkWords > 0 && x != windows, "some of the 120 singleton occurrences are replaced")
    }
}
