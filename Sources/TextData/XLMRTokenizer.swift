// XLM-R's id layout over a SentencePiece model, as transformers' XLMRobertaTokenizer does it: <s>=0, <pad>=1,
// </s>=2, <unk>=3, every other SentencePiece id shifted by one (SentencePiece's own <unk> becomes 3), <mask> last.
import Foundation

package final class XLMRTokenizer: Sendable {
    package static let bosId = 0
    package static let padId = 1
    package static let eosId = 2
    package static let unkId = 3
    /// Offset between SentencePiece ids and ours (fairseq's dictionary puts four specials first; SentencePiece has three).
    package static let pieceOffset = 1

    package let sentencePiece: SentencePieceModel

    package init(sentencePiece: SentencePieceModel) {
        precondition(sentencePiece.pieceCount > 3, "a SentencePiece model has at least <unk>, <s>, </s> and one piece")
        self.sentencePiece = sentencePiece
    }

    /// Loads a `.model` file (ours, or an existing one such as AfriBERTa's `sentencepiece.bpe.model`).
    package convenience init(contentsOf path: String) throws {
        self.init(sentencePiece: try SentencePieceModel(contentsOf: path))
    }

    /// `<mask>` is the last id.
    package var maskId: Int { sentencePiece.pieceCount + Self.pieceOffset }
    /// The embedding table's size: the pieces shifted by one, plus <pad> and <mask>.
    package var vocabularySize: Int { sentencePiece.pieceCount + 2 }

    /// Maps one SentencePiece id to ours.
    package func id(forPieceId pieceId: Int) -> Int {
        pieceId == sentencePiece.unknownId ? Self.unkId : pieceId + Self.pieceOffset
    }

    /// Ids of text without <s>/</s>.
    package func pieceIds(_ text: String) throws -> [Int] {
        try sentencePiece.encode(text).map(id(forPieceId:))
    }

    /// Ids of one line as the model sees it: <s> pieces </s>.
    package func encode(_ text: String) throws -> [Int] {
        [Self.bosId] + (try pieceIds(text)) + [Self.eosId]
    }

    /// Text back from ids; specials are dropped, <unk> decodes as SentencePiece's unknown surface.
    package func decode(_ ids: [Int]) throws -> String {
        let pieces = ids.compactMap { id -> Int? in
            switch id {
            case Self.bosId, Self.padId, Self.eosId, maskId: return nil
            case Self.unkId: return sentencePiece.unknownId
            default: return id - Self.pieceOffset
            }
        }
        return try sentencePiece.decode(pieces)
    }

    /// Trains a unigram model on every `*.txt` file in `textFiles` (seeded, one thread, reproducible) and writes it to `output`:
    /// the same bytes for the same text and settings, wherever the files are.
    @discardableResult
    package static func train(textFiles: [URL], vocabularySize: Int, output: URL, seed: UInt32 = 1,
                              maxSentences: Int = 0) throws -> XLMRTokenizer {
        guard !textFiles.isEmpty else { throw SentencePieceError(action: "training", message: "no text files given") }
        precondition(output.pathExtension == "model", "the output must end in .model")
        let prefix = output.deletingPathExtension().path
        var options = SentencePieceTrainingOptions(inputFiles: textFiles.map(\.path), modelPrefix: prefix,
                                                   vocabularySize: vocabularySize)
        options.seed = seed
        options.inputSentenceSize = maxSentences
        let path = try SentencePieceTrainer.train(options)
        try? FileManager.default.removeItem(atPath: prefix + ".vocab")
        // The same training in another folder writes the same bytes (SentencePieceModelFile.swift).
        try SentencePieceModelFile.removeTrainingPaths(atPath: path)
        return try XLMRTokenizer(contentsOf: path)
    }
}
