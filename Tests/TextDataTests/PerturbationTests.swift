// The robustness perturbations: hand-checked Yorùbá and Igbo diacritics, and properties of typos (word count and
// tags unchanged, one edit per hit word, hit rate within binomial bounds, reproducible, NFC, same script); the
// overlap key and removal used for the out-of-distribution set.
import Foundation
import Testing
@testable import TextData

@Suite struct PerturbationTests {
    @Test func diacriticsOfYorubaAndIgbo() {
        // Yorùbá: tone marks (grave, acute) and under-dots (ẹ, ọ, ṣ) all go; checked letter by letter by hand.
        let yor = NERSentence(words: ["Ọ̀túnba", "Gbénga", "Ọ̀ṣọ́ọ̀lọ́", "lọ", "sí", "Èkó", "ní", "ọdún", "2019"],
                              tags: ["O", "B-PER", "I-PER", "O", "O", "B-LOC", "O", "B-DATE", "I-DATE"])
        let y = Perturb.apply(.diacritics, to: [yor], seed: 0)
        #expect(y.sentences[0].words == ["Otunba", "Gbenga", "Osoolo", "lo", "si", "Eko", "ni", "odun", "2019"])
        #expect(y.sentences[0].tags == yor.tags)
        #expect(y.changedWords == 8 && y.eligibleWords == 9 && y.words == 9)
        // Igbo: dot below (ị, ọ, ụ) and dot above (ṅ).
        let ibo = NERSentence(words: ["Ndị", "ọchịchị", "Naịjirịa", "na-aṅụ", "mmiri", "n'ụlọ", "akwụkwọ"], tags: Array(repeating: "O", count: 7))
        #expect(Perturb.apply(.diacritics, to: [ibo], seed: 0).sentences[0].words
                == ["Ndi", "ochichi", "Naijiria", "na-anu", "mmiri", "n'ulo", "akwukwo"])
        // Decomposed input gives the same (NFC) output as precomposed input.
        #expect(Perturb.stripDiacritics("Ọ̀ṣọ́ọ̀lọ́".decomposedStringWithCanonicalMapping) == "Osoolo")
        // Letters without a decomposition, marks outside U+0300–U+036F and other scripts are unchanged, and a set
        // without such marks says so (no changed words).
        let hau = NERSentence(words: ["Ɗan", "ƙasar", "Ɓauchi", "ya", "ce"], tags: Array(repeating: "O", count: 5))
        let amh = NERSentence(words: ["ኢትዮጵያ", "አዲስ", "አበባ"], tags: ["B-LOC", "B-LOC", "I-LOC"])
        let unchanged = Perturb.apply(.diacritics, to: [hau, amh], seed: 0)
        #expect(unchanged.sentences == [hau, amh] && unchanged.changedWords == 0)
        #expect(Perturb.stripDiacritics("Wolof: Ndëkk, ñoom, Senegaal bi àll") == "Wolof: Ndekk, noom, Senegaal bi all")
    }

    /// Random words over a Yorùbá alphabet (with marked letters), 1 to 9 characters, NFC.
    static func words(_ n: Int, seed: UInt64) -> [NERSentence] {
        let letters = Array("abdeẹfgijklmnoọprsṣtuwyàáèéẹ̀ẹ́ìíòóọ̀ọ́ùú").map(String.init)
        var rng = SeededRandom(seed: seed)
        var sentences: [NERSentence] = []
        var i = 0
        while i < n {
            let count = min(12, n - i)
            let words = (0..<count).map { _ in (0..<(1 + rng.below(9))).map { _ in rng.pick(letters) }.joined().precomposedStringWithCanonicalMapping }
            sentences.append(NERSentence(words: words, tags: (0..<count).map { $0 == 0 ? "B-PER" : "O" }))
            i += count
        }
        return sentences
    }

    /// Optimal-string-alignment distance over characters (insert, delete, substitute, swap adjacent each cost 1).
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in stride(from: 1, through: a.count, by: 1) {
            for j in stride(from: 1, through: b.count, by: 1) {
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
            }
        }
        return d[a.count][b.count]
    }

    @Test(arguments: [0.05, 0.1, 0.2])
    func typosKeepWordsTagsAndHitAtTheRate(rate: Double) {
        let clean = Self.words(30_000, seed: 11)
        let alphabet = Set(clean.flatMap { $0.words.flatMap(Array.init) })
        let noisy = Perturb.apply(.typos(rate: rate), to: clean, seed: 5)
        #expect(noisy.sentences.count == clean.count)
        var hits = 0, eligible = 0
        for (a, b) in zip(clean, noisy.sentences) {
            #expect(a.tags == b.tags && a.words.count == b.words.count)
            for (x, y) in zip(a.words, b.words) {
                #expect(y.precomposedStringWithCanonicalMapping == y, "typo output is NFC")
                if x.count < Perturb.typoMinimumLength { #expect(x == y); continue }
                eligible += 1
                guard x != y else { continue }
                hits += 1
                #expect(Self.editDistance(Array(x), Array(y)) == 1, "\(x) → \(y) is one edit")
                #expect(Set(y).isSubset(of: alphabet), "typo characters come from the set's own alphabet")
            }
        }
        #expect(eligible == noisy.eligibleWords && hits == noisy.changedWords && noisy.words == 30_000)
        // Every hit changes its word, so the changed words are Binomial(eligible, rate): within 5 sigma.
        let mean = Double(eligible) * rate, sigma = (mean * (1 - rate)).squareRoot()
        #expect(abs(Double(hits) - mean) <= 5 * sigma, "\(hits) hits of \(eligible) words at rate \(rate)")
    }

    @Test func typosAreReproducibleAndStayInScript() {
        let clean = Self.words(2000, seed: 3)
        let a = Perturb.apply(.typos(rate: 0.1), to: clean, seed: 7)
        #expect(a == Perturb.apply(.typos(rate: 0.1), to: clean, seed: 7))
        #expect(a != Perturb.apply(.typos(rate: 0.1), to: clean, seed: 8))
        #expect(Perturb.apply(.typos(rate: 0), to: clean, seed: 7).sentences == clean)
        #expect(Perturb.apply(.typos(rate: 1), to: clean, seed: 7).changedWords == a.eligibleWords)
        // Ethiopic words get Ethiopic typos; digits get digits.
        let amh = NERSentence(words: ["ኢትዮጵያ", "አዲስ", "አበባ", "2019"], tags: ["B-LOC", "B-LOC", "I-LOC", "B-DATE"])
        let hit = Perturb.apply(.typos(rate: 1), to: Array(repeating: amh, count: 50), seed: 1)
        #expect(hit.changedWords == 100)
        for s in hit.sentences {
            #expect(s.words[0].unicodeScalars.allSatisfy { (0x1200...0x139F).contains($0.value) })
            #expect(s.words[3].allSatisfy { $0.isNumber })
        }
        #expect(Perturbation.typos(rate: 0.05).name == "typos@0.05" && Perturbation.diacritics.name == "diacritics")
    }

    @Test func overlapRemovesPlantedDuplicates() {
        let train = [NERSentence(words: ["Ọlá", "lọ", "sí", "Èkó"], tags: ["B-PER", "O", "O", "B-LOC"]),
                     NERSentence(words: ["Abuja", "ni"], tags: ["B-LOC", "O"])]
        let dev = [NERSentence(words: ["Kano", "ya", "ci"], tags: ["B-LOC", "O", "O"])]
        let fresh = (0..<5).map { NERSentence(words: ["fresh", "\($0)"], tags: ["O", "O"]) }
        // Planted: a train sentence in NFD with other tags, a dev sentence with a word split by extra spacing, and
        // an exact copy; plus a near miss (one word differs) that must stay.
        let nfd = NERSentence(words: train[0].words.map(\.decomposedStringWithCanonicalMapping), tags: ["O", "O", "O", "O"])
        let spaced = NERSentence(words: ["Kano ", " ya", "ci"], tags: ["B-LOC", "O", "O"])
        let near = NERSentence(words: ["Abuja", "na"], tags: ["B-LOC", "O"])
        let ood = [fresh[0], nfd, fresh[1], spaced, train[1], fresh[2], near, fresh[3], fresh[4]]
        let (kept, removed) = Overlap.removing([train, dev], from: ood)
        #expect(removed == 3)
        #expect(kept == [fresh[0], fresh[1], fresh[2], near, fresh[3], fresh[4]])
        #expect(Overlap.key(nfd) == "Ọlá lọ sí Èkó" && Overlap.key(spaced) == "Kano ya ci")
    }
}
