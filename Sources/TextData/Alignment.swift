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
            var ids = [Self.bosId], labels = [LabelSet.ignoreIndex], positions: [Int] = []
            var firstWord = 0
            func close() {
                guard !positions.isEmpty else { return }
                windows.append(AlignedWindow(sentence: s, firstWord: firstWord, inputIds: ids + [Self.eosId],
                                             labels: labels + [LabelSet.ignoreIndex], wordPositions: positions))
                ids = [Self.bosId]; labels = [LabelSet.ignoreIndex]; positions = []
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
    /// `sentence` is the line's index; `wordPositions` is empty.
    package func pretrainingWindows(_ lines: [String], maxLength: Int) throws -> [AlignedWindow] {
        precondition(maxLength >= 3)
        let room = maxLength - 2
        var windows: [AlignedWindow] = []
        for (index, line) in lines.enumerated() {
            let ids = try pieceIds(line)
            for start in stride(from: 0, to: ids.count, by: room) {
                let chunk = [Self.bosId] + ids[start..<min(start + room, ids.count)] + [Self.eosId]
                windows.append(AlignedWindow(sentence: index, firstWord: 0, inputIds: chunk,
                                             labels: Array(repeating: LabelSet.ignoreIndex, count: chunk.count), wordPositions: []))
            }
        }
        return windows
    }
}
