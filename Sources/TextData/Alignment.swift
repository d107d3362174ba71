// Subword label alignment: each word is encoded on its own (as transformers does with is_split_into_words), its
// label goes on its first subword and the rest get -100; sentences longer than the model's length are cut into
// consecutive windows of whole words, so every word is predicted exactly once; word predictions are read back
// from first subwords.
import Foundation

/// One model input: `<s>` subwords of some consecutive words `</s>`, at most `maxLength` long.
package struct AlignedWindow: Sendable, Equatable {
    /// Which sentence (index in the input list) and which of its words this window covers.
    package let sentence: Int
    package let firstWord: Int
    /// (T) token ids, starting with <s> and ending with </s>.
    package let inputIds: [Int]
    /// (T) label ids on first subwords, `LabelSet.ignoreIndex` elsewhere (also when no labels were given).
    package let labels: [Int]
    /// Position in `inputIds` of each covered word's first subword.
    package let wordPositions: [Int]
    /// (T) each token's word shape (`WordShape.rawValue`): every piece of a word carries its word's class, <s>
    /// and </s> carry `.special`. The model reads them only when it takes word shapes.
    package let tokenTypes: [Int]
    /// (T) each token's word's character n-gram hashes (`CharNgrams.hashes`): every piece of a word carries its
    /// word's, <s> and </s> none (nor pretraining windows). The model reads them only when it has a char n-gram table.
    package let charNgrams: [[UInt32]]

    package var wordCount: Int { wordPositions.count }
    package var length: Int { inputIds.count }
}

package struct AlignmentError: Error, CustomStringConvertible {
    package let message: String
    package var description: String { "alignment: \(message)" }
}

extension XLMRTokenizer {
    /// Subword ids of one word; a word SentencePiece maps to nothing (e.g. a lone zero-width space) gets <unk>,
    /// so that every word keeps a first subword and a prediction.
    package func wordPieceIds(_ word: String) throws -> [Int] {
        let ids = try pieceIds(word)
        return ids.isEmpty ? [Self.unkId] : ids
    }

    /// Aligns sentences to windows of at most `maxLength` tokens (including <s> and </s>). A single word longer
    /// than the room in a window keeps only its first `maxLength - 2` subwords (its first subword, which carries the
    /// label and the prediction, is always kept).
    package func align(_ sentences: [NERSentence], labels labelSet: LabelSet?, maxLength: Int) throws -> [AlignedWindow] {
        precondition(maxLength >= 3, "a window needs room for <s>, one subword and </s>")
        let room = maxLength - 2
        var windows: [AlignedWindow] = []
        for (s, sentence) in sentences.enumerated() {
            let special = WordShape.special.rawValue
            var ids = [Self.bosId], labels = [LabelSet.ignoreIndex], positions: [Int] = [], types = [special]
            var ngrams: [[UInt32]] = [[]]
            var firstWord = 0
            func close() {
                guard !positions.isEmpty else { return }
                windows.append(AlignedWindow(sentence: s, firstWord: firstWord, inputIds: ids + [Self.eosId],
                                             labels: labels + [LabelSet.ignoreIndex], wordPositions: positions,
                                             tokenTypes: types + [special], charNgrams: ngrams + [[]]))
                ids = [Self.bosId]; labels = [LabelSet.ignoreIndex]; positions = []; types = [special]; ngrams = [[]]
            }
            for (w, word) in sentence.words.enumerated() {
                var pieces = try wordPieceIds(word)
                if pieces.count > room { pieces = Array(pieces.prefix(room)) }
                if ids.count - 1 + pieces.count > room { close(); firstWord = w }
                var label = LabelSet.ignoreIndex
                if let labelSet {
                    guard let id = labelSet.id(of: sentence.tags[w]) else {
                        throw AlignmentError(message: "sentence \(s), word \(w) (\(word)): tag \(sentence.tags[w]) is not in the label set")
                    }
                    label = id
                }
                positions.append(ids.count)
                ids += pieces
                types += Array(repeating: WordShape(word).rawValue, count: pieces.count)
                ngrams += Array(repeating: CharNgrams.hashes(word), count: pieces.count)
                labels.append(label)
                labels += Array(repeating: LabelSet.ignoreIndex, count: pieces.count - 1)
            }
            close()
        }
        return windows
    }

    /// Word-level predictions from per-token predictions: `tokenPredictions[i]` holds one value per position of
    /// `windows[i]` (at least `windows[i].length` of them). Returns one array per sentence, one value per word.
    package static func wordPredictions<P>(windows: [AlignedWindow], tokenPredictions: [[P]], sentenceLengths: [Int]) -> [[P?]] {
        precondition(windows.count == tokenPredictions.count, "one prediction row per window")
        var out = sentenceLengths.map { [P?](repeating: nil, count: $0) }
        for (window, row) in zip(windows, tokenPredictions) {
            precondition(row.count >= window.length, "a prediction row is shorter than its window")
            for (k, position) in window.wordPositions.enumerated() {
                precondition(out[window.sentence][window.firstWord + k] == nil, "a word was predicted twice")
                out[window.sentence][window.firstWord + k] = row[position]
            }
        }
        return out
    }
}

extension XLMRTokenizer {
    /// Raw text for MLM pretraining: each line encoded and cut into consecutive windows of at most `maxLength`
    /// tokens, each `<s> … </s>`, with no labels (all `LabelSet.ignoreIndex`; the MLM trainer masks and labels).
    /// `sentence` is the line's index; `wordPositions` is empty. Token types: with `wordShapes`, see `pieceShapes`;
    /// without, all `.special` (finding the words costs a pass over every piece's text, which only shapes need).
    package func pretrainingWindows(_ lines: [String], maxLength: Int, wordShapes: Bool) throws -> [AlignedWindow] {
        precondition(maxLength >= 3)
        let room = maxLength - 2, special = WordShape.special.rawValue
        var windows: [AlignedWindow] = []
        var surfaces: [Int: String] = [:]
        for (index, line) in lines.enumerated() {
            let ids = try pieceIds(line)
            let shapes = wordShapes ? pieceShapes(ids, line: line, surfaces: &surfaces) : Array(repeating: special, count: ids.count)
            for start in stride(from: 0, to: ids.count, by: room) {
                let end = min(start + room, ids.count)
                let chunk = [Self.bosId] + ids[start..<end] + [Self.eosId]
                windows.append(AlignedWindow(sentence: index, firstWord: 0, inputIds: chunk,
                                             labels: Array(repeating: LabelSet.ignoreIndex, count: chunk.count), wordPositions: [],
                                             tokenTypes: [special] + shapes[start..<end] + [special],
                                             charNgrams: Array(repeating: [], count: chunk.count)))
            }
        }
        return windows
    }

    /// The words of an encoded line as runs of its pieces: a piece starting with "▁" starts a word, and <s>, </s>,
    /// <pad> and <mask> are runs of their own with no text (the next piece starts a word). Each run's
    /// surface is its pieces' text without the "▁" (an <unk> piece adds nothing); when the line splits on
    /// whitespace into as many words, word k's surface is the k-th whitespace-separated word, exactly as `align`
    /// sees it (SentencePiece's normalisation can drop a word). `surfaces` caches piece texts by id.
    func pieceWords(_ ids: [Int], line: String, surfaces: inout [Int: String]) -> [(start: Int, end: Int, text: String)] {
        var groups: [(start: Int, end: Int, text: String)] = []
        let specials = specialIds
        var afterSpecial = false
        for (i, id) in ids.enumerated() {
            // <s>, </s>, <pad> and <mask> are words of their own without text (their piece texts are not the word's).
            if specials.contains(id) {
                groups.append((i, i + 1, "")); afterSpecial = true
                continue
            }
            defer { afterSpecial = false }
            var text = ""
            if id != Self.unkId {
                if let known = surfaces[id] { text = known } else {
                    text = sentencePiece.piece(forId: id - Self.pieceOffset) ?? ""
                    surfaces[id] = text
                }
            }
            let startsWord = text.unicodeScalars.first == Self.wordStart
            if startsWord { text = String(text.unicodeScalars.dropFirst()) }
            if startsWord || groups.isEmpty || afterSpecial {
                groups.append((i, i + 1, text))
            } else {
                groups[groups.count - 1].end = i + 1
                groups[groups.count - 1].text += text
            }
        }
        let words = line.split(whereSeparator: \.isWhitespace)
        if words.count == groups.count && !ids.contains(where: specials.contains) {
            for k in groups.indices { groups[k].text = String(words[k]) }
        }
        return groups
    }

    /// The word shape of each piece of an encoded line (the line is encoded whole, so the ids stay those of a
    /// model without shapes), its words found by `pieceWords`.
    func pieceShapes(_ ids: [Int], line: String, surfaces: inout [Int: String]) -> [Int] {
        var shapes = [Int](repeating: WordShape.special.rawValue, count: ids.count)
        for group in pieceWords(ids, line: line, surfaces: &surfaces) {
            let shape = WordShape(group.text).rawValue
            for i in group.start..<group.end { shapes[i] = shape }
        }
        return shapes
    }

    /// Word shapes of a row of our ids that came without its text (`smaller logits`, calibration lines): words
    /// and their surfaces from the pieces alone (see `pieceWords`); <s>, </s>, <pad> and <mask> get `.special`.
    package func wordShapes(ofIds ids: [Int]) -> [Int] {
        var surfaces: [Int: String] = [:]
        let specials = specialIds
        return zip(ids, pieceShapes(ids, line: "", surfaces: &surfaces)).map { specials.contains($0) ? WordShape.special.rawValue : $1 }
    }

    /// Each token's word's character n-gram hashes for a row of our ids that came without its text, words from the
    /// pieces alone (see `pieceWords`); <s>, </s>, <pad> and <mask> are words without text, so they get none.
    package func charNgrams(ofIds ids: [Int]) -> [[UInt32]] {
        var surfaces: [Int: String] = [:]
        var out = [[UInt32]](repeating: [], count: ids.count)
        for group in pieceWords(ids, line: "", surfaces: &surfaces) {
            let hashes = CharNgrams.hashes(group.text)
            for i in group.start..<group.end { out[i] = hashes }
        }
        return out
    }

    /// <s>, </s>, <pad> and <mask>: ids that are no word's piece.
    var specialIds: Set<Int> { [Self.bosId, Self.padId, Self.eosId, maskId] }

    /// SentencePiece's word-start mark (U+2581), which begins the first piece of every whitespace-separated word.
    static let wordStart: Unicode.Scalar = "\u{2581}"
}
