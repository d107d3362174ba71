// Mention replacement: its chunking by hand, and the properties an augmented sentence must keep.
import Testing
@testable import TextData

@Suite struct MentionReplacementTests {
    static let sentences = [
        NERSentence(words: ["Ada", "Obi", "visit", "Lagos", "for", "May", "2021"],
                    tags: ["B-PER", "I-PER", "O", "B-LOC", "O", "B-DATE", "I-DATE"]),
        NERSentence(words: ["NNPC", "and", "Tinubu", "Bola", "talk"], tags: ["I-ORG", "O", "B-PER", "B-PER", "O"]),
        NERSentence(words: ["Abuja", "Lagos", "dey", "far"], tags: ["B-LOC", "I-PER", "O", "O"]),
    ]

    @Test func chunksAsSeqevalDefaultReadsThem() {
        // Worked by hand: a stray I- starts a mention, B- after B- starts a new one, a type change starts a new one.
        #expect(MentionReplacement.mentions(Self.sentences[0].tags).map { "\($0.type) \($0.range)" }
                == ["PER 0..<2", "LOC 3..<4", "DATE 5..<7"])
        #expect(MentionReplacement.mentions(Self.sentences[1].tags).map { "\($0.type) \($0.range)" }
                == ["ORG 0..<1", "PER 2..<3", "PER 3..<4"])
        #expect(MentionReplacement.mentions(Self.sentences[2].tags).map { "\($0.type) \($0.range)" }
                == ["LOC 0..<1", "PER 1..<2"])
        #expect(MentionReplacement.mentions(["O", "I-", "B-X"]).map { "\($0.type) \($0.range)" } == ["X 2..<3"])
    }

    @Test func poolHoldsDistinctMentionsByType() {
        let r = MentionReplacement(sentences: Self.sentences + Self.sentences, probability: 0.5)
        #expect(r.pool["PER"] == [["Ada", "Obi"], ["Tinubu"], ["Bola"], ["Lagos"]])
        #expect(r.pool["LOC"] == [["Lagos"], ["Abuja"]])
        #expect(r.pool["ORG"] == [["NNPC"]] && r.pool["DATE"] == [["May", "2021"]])
    }

    @Test func probabilityZeroKeepsTheSentences() {
        var rng = SeededRandom(seed: 3)
        #expect(MentionReplacement(sentences: Self.sentences, probability: 0).apply(Self.sentences, rng: &rng) == Self.sentences)
    }

    @Test func replacedSentencesKeepContextAndTypes() {
        let r = MentionReplacement(sentences: Self.sentences, probability: 1)
        var rng = SeededRandom(seed: 7)
        var changed = 0
        for _ in 0..<50 {
            for (original, augmented) in zip(Self.sentences, r.apply(Self.sentences, rng: &rng)) {
                #expect(augmented.words.count == augmented.tags.count)
                let before = MentionReplacement.mentions(original.tags), after = MentionReplacement.mentions(augmented.tags)
                // The same mentions in the same order and types; each one a pool mention of its type, tagged B- then I-.
                #expect(after.map(\.type) == before.map(\.type))
                for m in after {
                    #expect(r.pool[m.type]!.contains(Array(augmented.words[m.range])))
                    #expect(Array(augmented.tags[m.range]) == ["B-" + m.type] + Array(repeating: "I-" + m.type, count: m.range.count - 1))
                }
                // The words between mentions are the original ones.
                func gaps(_ s: NERSentence, _ ms: [(type: String, range: Range<Int>)]) -> [[String]] {
                    var out: [[String]] = [], next = 0
                    for m in ms { out.append(Array(s.words[next..<m.range.lowerBound])); next = m.range.upperBound }
                    return out + [Array(s.words[next...])]
                }
                #expect(gaps(augmented, after) == gaps(original, before))
                if augmented.words != original.words { changed += 1 }
            }
        }
        #expect(changed > 50, "with probability 1 most draws must change a sentence (\(changed) of 150 did)")
    }

    @Test func sameSeedSameDraw() {
        let r = MentionReplacement(sentences: Self.sentences, probability: 0.5)
        var a = SeededRandom(seed: 11), b = SeededRandom(seed: 11), c = SeededRandom(seed: 12)
        let x = (0..<20).map { _ in r.apply(Self.sentences, rng: &a) }
        #expect(x == (0..<20).map { _ in r.apply(Self.sentences, rng: &b) })
        #expect(x != (0..<20).map { _ in r.apply(Self.sentences, rng: &c) })
    }
}
