// Word shape: the casing class of a word, fed to the model as the token type id of each of the word's pieces
// (`model.word_shape`), so that "capitalised" is one shared signal even for a name the vocabulary splits into
// unseen pieces. Class 0 is what the specials and padding carry (and every token of a model without shapes).

/// The shape class of one word, decided on its Unicode scalars:
/// - only its letters (scalars with the Alphabetic property) decide the casing; a letter is cased when Unicode
///   marks it uppercase, lowercase or titlecase (a titlecase letter such as ǅ counts as uppercase);
/// - with cased letters: all of them uppercase and at least two → `allCaps`; the first cased letter uppercase →
///   `capitalised` (also a lone capital, and "McDonald"); the first lowercase but a later one uppercase →
///   `mixed` ("iPhone"); none uppercase → `lower`. Digits and punctuation in the word do not change this
///   ("COVID-19" is all caps, "9ja" lower);
/// - letters but none cased (Ge'ez, used for Amharic) → `uncased`;
/// - no letters, some numeric scalar (any Unicode number: 2021, ፲፱, ½) → `digits`;
/// - anything else, including the empty word and lone combining marks → `symbols`.
package enum WordShape: Int, CaseIterable, Sendable {
    case special = 0
    case lower, capitalised, allCaps, mixed, digits, symbols, uncased

    /// The token type table's size for a model with word shapes.
    package static var count: Int { allCases.count }

    package init(_ word: some StringProtocol) {
        var letters = false, numbers = false, cased = 0, upper = 0
        var firstCasedIsUpper: Bool? = nil
        for scalar in word.unicodeScalars {
            let p = scalar.properties
            if p.isAlphabetic {
                letters = true
                let isUpper = p.isUppercase || p.generalCategory == .titlecaseLetter
                guard isUpper || p.isLowercase else { continue }
                cased += 1
                if isUpper { upper += 1 }
                if firstCasedIsUpper == nil { firstCasedIsUpper = isUpper }
            } else if p.numericType != nil {
                numbers = true
            }
        }
        if let firstUpper = firstCasedIsUpper {
            if upper == cased && cased >= 2 { self = .allCaps }
            else if firstUpper { self = .capitalised }
            else if upper > 0 { self = .mixed }
            else { self = .lower }
        } else if letters {
            self = .uncased
        } else if numbers {
            self = .digits
        } else {
            self = .symbols
        }
    }
}
