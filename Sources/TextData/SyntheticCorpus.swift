// The embedded default corpus: a seeded generator of a few SYNTHETIC "languages" (invented words, not real
// languages) that differ where it matters for compression: vocabulary size, agglutinative suffixes, tone
// diacritics, a non-Latin script (Ethiopic syllabary) and entity density. Each gives raw text for pretraining
// and CoNLL train/dev/test with PER/ORG/LOC/DATE, with learnable cues (name lists, trigger words, capitals,
// month names before numbers). The same seed gives the same corpus; nothing is downloaded.
import Foundation

package struct SyntheticLanguageSpec: Sendable, Equatable {
    package enum Script: String, Sendable { case latin, ethiopic }
    package var code: String
    package var description: String
    package var consonants: [String]
    package var vowels: [String]
    /// Distinct common words; their frequencies follow Zipf's law.
    package var vocabularySize: Int
    package var syllablesPerWord: ClosedRange<Int>
    /// Suffixes glued to words (agglutination), and the chance a word takes one or two.
    package var suffixes: [String] = []
    package var suffixRate = 0.0
    /// Chance each vowel carries a tone mark (grave, acute or macron; NFC-composed).
    package var toneRate = 0.0
    package var script = Script.latin
    /// Expected entities per sentence.
    package var entitiesPerSentence: Double
    package var sentenceLength: ClosedRange<Int> = 6...18
}

/// Sentence counts to generate per language.
package struct SyntheticSizes: Sendable, Equatable {
    package var text = 4000
    package var train = 1000
    package var dev = 200
    package var test = 300
    package init(text: Int = 4000, train: Int = 1000, dev: Int = 200, test: Int = 300) {
        self.text = text; self.train = train; self.dev = dev; self.test = test
    }
}

package struct SyntheticLanguageData: Sendable {
    package let spec: SyntheticLanguageSpec
    /// Raw text, one sentence per line, for pretraining and for training the tokenizer.
    package let text: [String]
    package let train: [NERSentence]
    package let dev: [NERSentence]
    package let test: [NERSentence]
}

package enum SyntheticCorpus {
    /// The embedded languages. Codes start with "syn-" so no one mistakes them for ISO codes of real languages.
    package static let languages: [SyntheticLanguageSpec] = [
        SyntheticLanguageSpec(code: "syn-iso", description: "isolating, small vocabulary, Latin script, few entities",
                              consonants: ["b", "d", "f", "g", "k", "l", "m", "n", "p", "s", "t", "w", "y"],
                              vowels: ["a", "e", "i", "o", "u"], vocabularySize: 600, syllablesPerWord: 1...2,
                              entitiesPerSentence: 0.8),
        SyntheticLanguageSpec(code: "syn-agg", description: "agglutinative suffixes, large vocabulary, Latin script",
                              consonants: ["b", "ch", "d", "g", "h", "k", "l", "m", "n", "ny", "r", "s", "sh", "t", "v", "z"],
                              vowels: ["a", "e", "i", "o", "u"], vocabularySize: 3000, syllablesPerWord: 2...3,
                              suffixes: ["ni", "wa", "eko", "isha", "ile", "ana", "ulu", "iwe"], suffixRate: 0.45,
                              entitiesPerSentence: 1.2),
        SyntheticLanguageSpec(code: "syn-ton", description: "tone diacritics on vowels, dense entities, Latin script",
                              consonants: ["b", "d", "f", "gb", "j", "k", "l", "m", "n", "r", "s", "ṣ", "t", "w", "y"],
                              vowels: ["a", "e", "ẹ", "i", "o", "ọ", "u"], vocabularySize: 1500, syllablesPerWord: 1...3,
                              toneRate: 0.55, entitiesPerSentence: 2.0),
        SyntheticLanguageSpec(code: "syn-eth", description: "Ethiopic (non-Latin) syllabary, no capitals, short sentences",
                              consonants: ["h", "l", "m", "r", "s", "sh", "b", "t", "n", "k", "w", "z", "y", "d", "g", "f"],
                              vowels: ["a", "e", "i", "o", "u"], vocabularySize: 1200, syllablesPerWord: 1...3,
                              script: .ethiopic, entitiesPerSentence: 1.0, sentenceLength: 4...12),
    ]

    package static func spec(_ code: String) -> SyntheticLanguageSpec? { languages.first { $0.code == code } }

    package static func generate(_ spec: SyntheticLanguageSpec, seed: UInt64, sizes: SyntheticSizes = SyntheticSizes()) -> SyntheticLanguageData {
        let root = SeededRandom(seed: seed).derived(spec.code)
        var lexiconRNG = root.derived("lexicon")
        let lexicon = Lexicon(spec: spec, rng: &lexiconRNG)
        // Train (and the pretraining text) see 70% of each name list; dev and test draw from all of it, so a
        // model must also use context (triggers, capitals, position) to find unseen names.
        func sentences(_ stream: String, _ count: Int) -> [NERSentence] {
            var rng = root.derived(stream)
            let heldOut = stream == "dev" || stream == "test"
            return (0..<count).map { _ in lexicon.sentence(&rng, unseenNames: heldOut) }
        }
        return SyntheticLanguageData(spec: spec, text: sentences("text", sizes.text).map { $0.words.joined(separator: " ") },
                                     train: sentences("train", sizes.train), dev: sentences("dev", sizes.dev),
                                     test: sentences("test", sizes.test))
    }

    /// Writes `DIR/text/<code>.txt` and `DIR/ner/<code>/{train,dev,test}.txt` (the `--text` / `--data` layouts)
    /// and a README saying the data is synthetic.
    package static func write(_ data: [SyntheticLanguageData], to dir: URL, seed: UInt64) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: dir.appendingPathComponent("text"), withIntermediateDirectories: true)
        for language in data {
            let ner = dir.appendingPathComponent("ner/\(language.spec.code)")
            try fm.createDirectory(at: ner, withIntermediateDirectories: true)
            try (language.text.joined(separator: "\n") + "\n")
                .write(to: dir.appendingPathComponent("text/\(language.spec.code).txt"), atomically: true, encoding: .utf8)
            for (split, sentences) in [("train", language.train), ("dev", language.dev), ("test", language.test)] {
                try CoNLL.write(sentences, to: ner.appendingPathComponent("\(split).txt"))
            }
        }
        let readme = "SYNTHETIC data made by smaller's embedded generator (TextData/SyntheticCorpus.swift), seed \(seed).\n"
            + "The words are invented; these are not real languages and no real text is included.\n"
            + data.map { "- \($0.spec.code): \($0.spec.description)" }.joined(separator: "\n") + "\n"
        try readme.write(to: dir.appendingPathComponent("README.md"), atomically: true, encoding: .utf8)
    }
}

/// A language's words: Zipf-weighted common words, trigger words, and entity name lists.
struct Lexicon {
    let spec: SyntheticLanguageSpec
    let words: [String]
    let cumulative: [Double]
    let persons: [String], places: [String], orgNames: [String], months: [String]
    let orgHeads: [String], personTriggers: [String], placeTriggers: [String], dateTriggers: [String]

    init(spec: SyntheticLanguageSpec, rng: inout SeededRandom) {
        self.spec = spec
        var seen = Set<String>()
        func fresh(_ syllables: ClosedRange<Int>, tone: Bool, capital: Bool) -> String {
            var attempts = 0
            while true {
                // When short words run out, allow one syllable more per 50 collisions (never loops forever).
                attempts += 1
                let n = syllables.lowerBound + rng.below(syllables.count + attempts / 50)
                var stems: [(String, String)] = (0..<n).map { _ in (rng.pick(spec.consonants), rng.pick(spec.vowels)) }
                if rng.chance(0.1) { stems[0].0 = "" }  // a word may start with a vowel
                let word = Lexicon.render(stems, spec: spec, tone: tone, capital: capital, rng: &rng)
                if seen.insert(word.lowercased()).inserted { return word }
            }
        }
        words = (0..<spec.vocabularySize).map { _ in fresh(spec.syllablesPerWord, tone: true, capital: false) }
        var total = 0.0
        cumulative = (0..<spec.vocabularySize).map { total += 1 / Double($0 + 1); return total }
        persons = (0..<60).map { _ in fresh(2...3, tone: true, capital: true) }
        places = (0..<40).map { _ in fresh(2...3, tone: true, capital: true) }
        orgNames = (0..<30).map { _ in fresh(2...3, tone: true, capital: true) }
        months = (0..<12).map { _ in fresh(2...3, tone: false, capital: true) }
        orgHeads = (0..<3).map { _ in fresh(2...2, tone: false, capital: true) }
        personTriggers = (0..<3).map { _ in fresh(1...2, tone: false, capital: false) }
        placeTriggers = (0..<2).map { _ in fresh(1...1, tone: false, capital: false) }
        dateTriggers = (0..<2).map { _ in fresh(1...2, tone: false, capital: false) }
    }

    /// Writes syllables in the language's script, with tone marks and capitals where the script has them.
    static func render(_ syllables: [(String, String)], spec: SyntheticLanguageSpec, tone: Bool, capital: Bool,
                       rng: inout SeededRandom) -> String {
        var out = ""
        for (consonant, vowel) in syllables {
            switch spec.script {
            case .latin:
                out += consonant + vowel
                if tone && rng.chance(spec.toneRate) { out += rng.pick(["\u{300}", "\u{301}", "\u{304}"]) }
            case .ethiopic:
                out += ethiopic(consonant, vowel)
            }
        }
        out = out.precomposedStringWithCanonicalMapping
        if capital, spec.script == .latin, let first = out.first { out = first.uppercased() + out.dropFirst() }
        return out
    }

    /// The Ethiopic syllable for consonant + vowel: each consonant is a row of 8 in the Unicode block.
    static func ethiopic(_ consonant: String, _ vowel: String) -> String {
        let rows: [String: UInt32] = ["": 0x12A0, "h": 0x1200, "l": 0x1208, "m": 0x1218, "r": 0x1228, "s": 0x1230,
                                      "sh": 0x1238, "b": 0x1260, "t": 0x1270, "n": 0x1290, "k": 0x12A8, "w": 0x12C8,
                                      "z": 0x12D8, "y": 0x12E8, "d": 0x12F0, "g": 0x1308, "f": 0x1348]
        let orders: [String: UInt32] = ["e": 0, "u": 1, "i": 2, "a": 3, "o": 6]
        let base = rows[consonant] ?? 0x12A0
        return String(Character(Unicode.Scalar(base + (orders[vowel] ?? 3))!))
    }

    func commonWord(_ rng: inout SeededRandom) -> String {
        let x = rng.unit() * cumulative[cumulative.count - 1]
        var lo = 0, hi = cumulative.count - 1
        while lo < hi { let mid = (lo + hi) / 2; if cumulative[mid] < x { lo = mid + 1 } else { hi = mid } }
        var word = words[lo]
        if !spec.suffixes.isEmpty, lo > 20, rng.chance(spec.suffixRate) {  // frequent function words stay bare
            word += rng.pick(spec.suffixes)
            if rng.chance(0.3) { word += rng.pick(spec.suffixes) }
        }
        return word
    }

    /// An entity: (trigger words tagged O, entity words, type).
    /// A name from a list: the first 70% when `unseen` is false, any of it otherwise.
    static func name(_ list: [String], unseen: Bool, _ rng: inout SeededRandom) -> String {
        unseen ? rng.pick(list) : list[rng.below(max(1, list.count * 7 / 10))]
    }

    func entity(_ rng: inout SeededRandom, unseenNames: Bool) -> (trigger: [String], words: [String], type: String) {
        func pick(_ list: [String]) -> String { Lexicon.name(list, unseen: unseenNames, &rng) }
        switch rng.below(4) {
        case 0:
            // One person in ten is named after a place: only the context tells PER from LOC.
            let first = rng.chance(0.1) ? pick(places) : pick(persons)
            let name = rng.chance(0.5) ? [first, pick(persons)] : [first]
            return (rng.chance(0.7) ? [rng.pick(personTriggers)] : [], name, "PER")
        case 1:
            let name = (0..<(1 + rng.below(2))).map { _ in pick(orgNames) } + [rng.pick(orgHeads)]
            return ([], name, "ORG")
        case 2:
            return (rng.chance(0.8) ? [rng.pick(placeTriggers)] : [], [pick(places)], "LOC")
        default:
            let year = String(1950 + rng.below(80))
            let date: [String]
            switch rng.below(3) {
            case 0: date = [rng.pick(months), String(1 + rng.below(28))]
            case 1: date = [rng.pick(months), year]
            default: date = [year]
            }
            return (rng.chance(0.6) ? [rng.pick(dateTriggers)] : [], date, "DATE")
        }
    }

    func sentence(_ rng: inout SeededRandom, unseenNames: Bool) -> NERSentence {
        let length = spec.sentenceLength.lowerBound + rng.below(spec.sentenceLength.count)
        let entityChance = min(0.9, spec.entitiesPerSentence / Double(length))
        var words: [String] = [], tags: [String] = []
        while words.count < length {
            if rng.chance(entityChance) {
                let e = entity(&rng, unseenNames: unseenNames)
                words += e.trigger; tags += e.trigger.map { _ in "O" }
                words += e.words
                tags += e.words.indices.map { ($0 == 0 ? "B-" : "I-") + e.type }
            } else {
                words.append(commonWord(&rng)); tags.append("O")
            }
            if rng.chance(0.06) { words.append(","); tags.append("O") }
        }
        words.append(spec.script == .ethiopic ? "።" : "."); tags.append("O")
        return NERSentence(words: words, tags: tags)
    }
}
