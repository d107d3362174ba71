// Sentence overlap between data sets: a sentence's normalised text (each word in Unicode NFC, whitespace runs
// collapsed to one space, byte-order marks dropped) as the key, and the removal of sentences that occur in other
// sets (the out-of-distribution test set loses every sentence the model's own train or dev files contain).
import Foundation

package enum Overlap {
    /// The normalised text of a sentence: equal keys mean the same sentence up to Unicode normalisation and spacing.
    package static func key(_ sentence: NERSentence) -> String {
        sentence.words.joined(separator: " ").precomposedStringWithCanonicalMapping
            .filter { $0 != "\u{FEFF}" }
            .split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    /// `sentences` without those whose key occurs in any of `others`, in their order, and how many were removed.
    package static func removing(_ others: [[NERSentence]], from sentences: [NERSentence]) -> (kept: [NERSentence], removed: Int) {
        var seen = Set<String>()
        for set in others { for s in set { seen.insert(key(s)) } }
        let kept = sentences.filter { !seen.contains(key($0)) }
        return (kept, sentences.count - kept.count)
    }
}
