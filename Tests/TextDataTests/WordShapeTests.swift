// Word shapes: hand-picked words of several scripts get the classes the rules in WordShape.swift name, every
// piece of an aligned word carries its word's class, and pretraining windows (a line encoded whole) give each
// piece the class of its whitespace-separated word, as alignment does.
import Foundation
import Testing
import TestSupport
@testable import TextData

@Suite struct WordShapeTests {
    @Test(arguments: [
        // Latin, with Yoruba and Hausa letters, precomposed and decomposed.
        ("lagos", WordShape.lower), ("Lagos", .capitalised), ("LAGOS", .allCaps), ("iPhone", .mixed), ("McDonald", .capitalised),
        ("A", .capitalised), ("a", .lower), ("COVID-19", .allCaps), ("9ja", .lower), ("(Lagos)", .capitalised), ("'s", .lower),
        ("Ọ̀yọ́", .capitalised), ("\u{1ECC}y\u{1ECD}", .capitalised), ("ỌYỌ", .allCaps), ("ọmọ", .lower), ("Ƙano", .capitalised),
        ("ɗan", .lower),
        // Greek, Cyrillic, a titlecase digraph.
        ("Αθήνα", .capitalised), ("МОСКВА", .allCaps), ("ǅemal", .capitalised),
        // Scripts without case: Ge'ez (Amharic, Tigrinya), Arabic.
        ("አዲስ", .uncased), ("ኢትዮጵያ", .uncased), ("القاهرة", .uncased),
        // Numbers in any script, with symbols around them.
        ("2021", .digits), ("12:30", .digits), ("₦500", .digits), ("፲፱", .digits), ("½", .digits), ("٣", .digits),
        // No letters or numbers.
        (",", .symbols), ("--", .symbols), ("", .symbols), ("\u{0301}", .symbols), ("₦", .symbols),
    ])
    func handPickedWords(word: String, shape: WordShape) {
        #expect(WordShape(word) == shape, "\(word.debugDescription): \(WordShape(word)) expected \(shape)")
    }

    @Test func classesAreTheTypeTable() {
        #expect(WordShape.special.rawValue == 0, "specials and padding keep type 0, the only row of a model without shapes")
        #expect(WordShape.count == 8 && WordShape.allCases.map(\.rawValue) == Array(0..<8))
    }

    @Test func everyPieceOfAnAlignedWordCarriesItsClass() throws {
        let tok = try XLMRTokenizerTests.tokenizer()
        let words = ["Ada", "lives", "in", "LAGOS", ",", "since", "2021", "iPhone", "አዲስ"]
        let sentence = NERSentence(words: words, tags: words.map { _ in "O" })
        for maxLength in [64, 6] {
            let windows = try tok.align([sentence], labels: nil, maxLength: maxLength)
            var seen = 0
            for w in windows {
                #expect(w.tokenTypes.count == w.length)
                #expect(w.tokenTypes.first == 0 && w.tokenTypes.last == 0)
                for (k, position) in w.wordPositions.enumerated() {
                    let word = words[w.firstWord + k]
                    let end = k + 1 < w.wordPositions.count ? w.wordPositions[k + 1] : w.length - 1
                    #expect(w.tokenTypes[position..<end].allSatisfy { $0 == WordShape(word).rawValue }, "\(word)")
                    seen += 1
                }
            }
            #expect(seen == words.count)
        }
        let batch = Batcher.batches(try tok.align([sentence, NERSentence(words: ["x"], tags: ["O"])], labels: nil, maxLength: 64),
                                    batchSize: 2, seed: nil)[0]
        #expect(batch.tokenTypes.count == batch.inputIds.count)
        for (i, mask) in batch.attentionMask.enumerated() where mask == 0 { #expect(batch.tokenTypes[i] == 0, "padding has type 0") }
    }

    @Test func pretrainingPiecesTakeTheirWhitespaceWordsClass() throws {
        let tok = try XLMRTokenizerTests.tokenizer()
        let words = ["Ada", "lives", "in", "LAGOS", ",", "since", "2021", "with", "McDonald", "iPhones", "ọmọ", "አዲስ"]
        var expectedIds: [Int] = [], expectedTypes: [Int] = []
        for word in words {
            let pieces = try tok.pieceIds(word)
            expectedIds += pieces
            expectedTypes += Array(repeating: WordShape(word).rawValue, count: pieces.count)
        }
        let line = words.joined(separator: " ")
        let whole = try tok.pretrainingWindows([line], maxLength: 200, wordShapes: true)
        #expect(whole.count == 1)
        // The ids are those of the line encoded whole, which here equal its words' pieces in turn.
        #expect(whole[0].inputIds == [XLMRTokenizer.bosId] + expectedIds + [XLMRTokenizer.eosId])
        #expect(whole[0].tokenTypes == [0] + expectedTypes + [0])
        let plain = try tok.pretrainingWindows([line], maxLength: 200, wordShapes: false)
        #expect(plain[0].inputIds == whole[0].inputIds && plain[0].tokenTypes.allSatisfy { $0 == 0 })
        // Cut into windows, each piece keeps its class.
        let cut = try tok.pretrainingWindows([line], maxLength: 5, wordShapes: true)
        #expect(cut.flatMap { $0.tokenTypes.dropFirst().dropLast() } == expectedTypes)
        // From the pieces' own text (when whitespace and pieces disagree on the word count), a word without <unk>
        // pieces keeps its class.
        var surfaces: [Int: String] = [:]
        let fromPieces = tok.pieceShapes(expectedIds, line: "", surfaces: &surfaces)
        var start = 0, checked = 0
        for word in words {
            let pieces = try tok.pieceIds(word)
            if !pieces.contains(XLMRTokenizer.unkId) {
                #expect(fromPieces[start..<(start + pieces.count)].allSatisfy { $0 == WordShape(word).rawValue }, "\(word)")
                checked += 1
            }
            start += pieces.count
        }
        #expect(checked >= 6, "most words of the line are known to the tokenizer")
    }
}
