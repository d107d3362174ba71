// Noise perturbations of NER test sets for the robustness metrics (docs/results.md): strip diacritics (NFD, drop
// the combining marks U+0300–U+036F, NFC) and word-level typos (each word of ≥ 4 characters hit with probability p
// gets one character edit). Both change words in place: the number of words and every tag stay as they were.
import Foundation

package enum Perturbation: Sendable, Hashable {
    case diacritics
    /// Each word of at least `Perturb.typoMinimumLength` characters is hit with probability `rate`.
    case typos(rate: Double)

    /// The perturbation's name in metric keys: `diacritics`, `typos@0.05`.
    package var name: String {
        switch self {
        case .diacritics: return "diacritics"
        case .typos(let rate): return "typos@\(rate)"
        }
    }
}

/// A perturbed copy of a sentence list, with how many words the perturbation changed.
package struct PerturbedSentences: Sendable, Equatable {
    package var sentences: [NERSentence]
    /// Words whose text differs from the original.
    package var changedWords: Int
    /// Words the perturbation could have touched (all words for diacritics, words of ≥ 4 characters for typos).
    package var eligibleWords: Int
    package var words: Int
}

package enum Perturb {
    /// Typos touch only words of at least this many characters (shorter words are often function words whose
    /// one-edit variants are other real words).
    package static let typoMinimumLength = 4

    /// Applies `perturbation` to every sentence. Typos draw from a stream of `seed` and the sentence's index, so
    /// the same (sentences, perturbation, seed) always gives the same text, whichever model reads it. Typo
    /// characters come from `sentences` themselves (same script as the character they replace or precede).
    package static func apply(_ perturbation: Perturbation, to sentences: [NERSentence], seed: UInt64) -> PerturbedSentences {
        var out = PerturbedSentences(sentences: [], changedWords: 0, eligibleWords: 0, words: 0)
        out.sentences.reserveCapacity(sentences.count)
        let alphabet: Alphabet? = if case .typos = perturbation { Alphabet(sentences) } else { nil }
        let base = SeededRandom(seed: seed).derived(perturbation.name)
        for (index, sentence) in sentences.enumerated() {
            var rng = base.derived("\(index)")
            var words = sentence.words
            for w in words.indices {
                let original = words[w]
                switch perturbation {
                case .diacritics:
                    out.eligibleWords += 1
                    words[w] = stripDiacritics(original)
                case .typos(let rate):
                    guard original.count >= typoMinimumLength else { continue }
                    out.eligibleWords += 1
                    if rng.chance(rate) { words[w] = typo(original, alphabet: alphabet!, rng: &rng) }
                }
                if words[w] != original { out.changedWords += 1 }
            }
            out.words += words.count
            out.sentences.append(NERSentence(words: words, tags: sentence.tags))
        }
        return out
    }

    /// Unicode NFD, drop the combining diacritical marks U+0300–U+036F (tone marks, under-dots, acute, grave,
    /// tilde, diaeresis, …), NFC. Letters without a decomposition (ɛ, ŋ, ɗ, ƙ) and other scripts stay as they are.
    package static func stripDiacritics(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in text.decomposedStringWithCanonicalMapping.unicodeScalars where !(0x300...0x36F).contains(scalar.value) {
            scalars.append(scalar)
        }
        return String(scalars).precomposedStringWithCanonicalMapping
    }

    /// One character edit (characters are grapheme clusters, so a letter keeps its own marks), chosen uniformly
    /// among insert, delete, substitute and swap adjacent; each edit changes the word (a substitute draws a
    /// different character, a swap picks two different neighbours; when neither is possible the edit is a
    /// delete). The result is NFC. Precondition: the word has at least `typoMinimumLength` characters.
    static func typo(_ word: String, alphabet: Alphabet, rng: inout SeededRandom) -> String {
        var chars = Array(word)
        precondition(chars.count >= typoMinimumLength, "typo: a word of \(chars.count) characters")
        func delete() { chars.remove(at: rng.below(chars.count)) }
        switch rng.below(4) {
        case 0:  // insert before position i a character of the script of the character there
            let i = rng.below(chars.count + 1)
            let neighbour = chars[min(i, chars.count - 1)]
            chars.insert(rng.pick(alphabet.characters(like: neighbour)), at: i)
        case 1:
            delete()
        case 2:  // substitute with a different character of the same script
            let i = rng.below(chars.count)
            let choices = alphabet.characters(like: chars[i]).filter { $0 != chars[i] }
            if choices.isEmpty { delete() } else { chars[i] = rng.pick(choices) }
        default:  // swap two adjacent, different characters
            let positions = (0..<(chars.count - 1)).filter { chars[$0] != chars[$0 + 1] }
            if positions.isEmpty { delete() } else { let i = rng.pick(positions); chars.swapAt(i, i + 1) }
        }
        return String(chars).precomposedStringWithCanonicalMapping
    }

    /// The characters of a set of sentences grouped by script class, sorted, so a typo draws from the language's
    /// own letters (or digits, or punctuation) in a fixed order.
    struct Alphabet {
        private var classes: [Int: [Character]] = [:]

        init(_ sentences: [NERSentence]) {
            var sets: [Int: Set<Character>] = [:]
            for sentence in sentences {
                for word in sentence.words {
                    for c in word.precomposedStringWithCanonicalMapping { sets[Self.scriptClass(c), default: []].insert(c) }
                }
            }
            classes = sets.mapValues { $0.sorted() }
        }

        /// Characters of `c`'s class; `c` itself when the sentences have none (which `apply` rules out).
        func characters(like c: Character) -> [Character] { classes[Self.scriptClass(c)] ?? [c] }

        /// A script class from the first scalar: digits, punctuation and symbols, then Latin, Ethiopic, Arabic,
        /// Greek, Cyrillic by their Unicode blocks, and any other letter by its 256-code-point block (Swift has no
        /// Unicode script property; a block is a close stand-in for the scripts of these corpora).
        static func scriptClass(_ c: Character) -> Int {
            guard let s = c.unicodeScalars.first else { return 0 }
            if c.isNumber { return 1 }
            if !c.isLetter { return 2 }
            switch s.value {
            case 0x41...0x2AF, 0x1D00...0x1DBF, 0x1E00...0x1EFF, 0x2C60...0x2C7F, 0xA720...0xA7FF, 0xAB30...0xAB6F: return 3
            case 0x1200...0x139F, 0x2D80...0x2DDF, 0xAB00...0xAB2F: return 4
            case 0x600...0x6FF, 0x750...0x77F, 0x8A0...0x8FF: return 5
            case 0x370...0x3FF, 0x1F00...0x1FFF: return 6
            case 0x400...0x52F: return 7
            default: return 1000 + Int(s.value >> 8)
            }
        }
    }
}
