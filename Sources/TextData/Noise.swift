// Noise perturbations for robustness tests: strip diacritics (NFD, drop combining marks), seeded character typos
// (swap, drop, insert, substitute) at a rate, and lower-casing. Each changes words in place, so every word keeps
// its tag and the sentence its length; a word is never made empty.
import Foundation

package enum Perturbation: Sendable, Equatable, Hashable, Codable {
    case stripDiacritics
    case lowercase
    /// Each character is hit with this probability by one of: swap with the next, drop, insert, substitute.
    case typos(rate: Double)

    package var name: String {
        switch self {
        case .stripDiacritics: return "strip-diacritics"
        case .lowercase: return "lowercase"
        case .typos(let rate): return "typos-\(rate)"
        }
    }
}

package enum Noise {
    /// Applies a perturbation to every sentence; typos use `seed` and the sentence index, so results are reproducible.
    package static func apply(_ perturbation: Perturbation, to sentences: [NERSentence], seed: UInt64 = 0) -> [NERSentence] {
        sentences.enumerated().map { index, sentence in
            var rng = SeededRandom(seed: seed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
            let alphabet = Array(Set(sentence.words.joined())).sorted()
            let words = sentence.words.map { word -> String in
                let out: String
                switch perturbation {
                case .stripDiacritics: out = stripDiacritics(word)
                case .lowercase: out = word.lowercased()
                case .typos(let rate): out = typos(word, rate: rate, alphabet: alphabet, rng: &rng)
                }
                return out.isEmpty ? word : out
            }
            return NERSentence(words: words, tags: sentence.tags)
        }
    }

    /// NFD, drop nonspacing and enclosing combining marks, recompose (NFC). Letters without a decomposition
    /// (ɛ, ŋ, ɗ) stay as they are.
    package static func stripDiacritics(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in text.decomposedStringWithCanonicalMapping.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .nonspacingMark, .enclosingMark: continue
            default: scalars.append(scalar)
            }
        }
        return String(scalars).precomposedStringWithCanonicalMapping
    }

    /// Typos on characters (grapheme clusters, so a letter keeps its own marks); inserted and substituted
    /// characters come from `alphabet` (the sentence's own characters, so the script stays the same).
    package static func typos(_ word: String, rate: Double, alphabet: [Character], rng: inout SeededRandom) -> String {
        var chars = Array(word)
        var out: [Character] = []
        var i = 0
        while i < chars.count {
            guard rng.chance(rate), !alphabet.isEmpty else { out.append(chars[i]); i += 1; continue }
            switch rng.below(4) {
            case 0 where i + 1 < chars.count:  // swap with the next
                chars.swapAt(i, i + 1)
                out.append(chars[i]); out.append(chars[i + 1]); i += 2
            case 1 where chars.count > 1:  // drop
                i += 1
            case 2:  // insert before
                out.append(rng.pick(alphabet)); out.append(chars[i]); i += 1
            default:  // substitute
                out.append(rng.pick(alphabet)); i += 1
            }
        }
        return String(out)
    }
}
