// SentencePiece through libsentencepiece (the CSentencePiece shim): load a model, encode, decode, train.
// Ids here are SentencePiece's own; the XLM-R id layout (specials first, pieces shifted by one) is built on top.
import CSentencePiece
import Foundation

/// An error from SentencePiece, with its own message and what we were doing.
package struct SentencePieceError: Error, CustomStringConvertible {
    package let action: String
    package let message: String
    package var description: String { "SentencePiece \(action): \(message)" }
}

/// Takes ownership of a malloc'd error string from the shim.
private func consumeError(_ error: UnsafeMutablePointer<CChar>?) -> String {
    guard let error else { return "unknown error" }
    defer { spm_free_string(error) }
    return String(cString: error)
}

/// A loaded SentencePiece model. Encoding is read-only and thread-safe in libsentencepiece.
package final class SentencePieceModel: @unchecked Sendable {
    private let handle: OpaquePointer

    /// Loads a `.model` file.
    package init(contentsOf path: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        guard let h = spm_load_file(path, &error) else {
            throw SentencePieceError(action: "loading \(path)", message: consumeError(error))
        }
        handle = h
    }

    /// Loads a model from its serialized bytes (the contents of a `.model` file).
    package init(serialized bytes: [UInt8]) throws {
        var error: UnsafeMutablePointer<CChar>?
        let h = bytes.withUnsafeBytes { spm_load_bytes($0.baseAddress, $0.count, &error) }
        guard let h else { throw SentencePieceError(action: "loading a model from bytes", message: consumeError(error)) }
        handle = h
    }

    deinit { spm_free(handle) }

    /// Number of pieces, the model's own specials included.
    package var pieceCount: Int { Int(spm_piece_size(handle)) }
    package var unknownId: Int { Int(spm_unk_id(handle)) }
    package var bosId: Int { Int(spm_bos_id(handle)) }
    package var eosId: Int { Int(spm_eos_id(handle)) }

    package func id(ofPiece piece: String) -> Int {
        var piece = piece
        return piece.withUTF8 { Int(spm_piece_to_id(handle, $0.baseAddress, $0.count)) }
    }

    package func piece(forId id: Int) -> String? {
        guard let id = Int32(exactly: id), let p = spm_id_to_piece(handle, id) else { return nil }
        defer { spm_free_string(p) }
        return String(cString: p)
    }

    /// Encodes text into SentencePiece ids (no BOS/EOS added).
    package func encode(_ text: String) throws -> [Int] {
        var text = text
        var ids: UnsafeMutablePointer<Int32>?
        var error: UnsafeMutablePointer<CChar>?
        let count = text.withUTF8 { spm_encode(handle, $0.baseAddress, $0.count, &ids, &error) }
        guard count >= 0, let ids else { throw SentencePieceError(action: "encoding", message: consumeError(error)) }
        defer { spm_free_ids(ids) }
        return (0..<count).map { Int(ids[$0]) }
    }

    /// Encodes text into pieces (the surface strings, with "▁" marking a preceding space).
    package func encodePieces(_ text: String) throws -> [String] {
        var text = text
        var pieces: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        var error: UnsafeMutablePointer<CChar>?
        let count = text.withUTF8 { spm_encode_pieces(handle, $0.baseAddress, $0.count, &pieces, &error) }
        guard count >= 0, let pieces else { throw SentencePieceError(action: "encoding", message: consumeError(error)) }
        defer { spm_free_pieces(pieces, count) }
        return (0..<count).map { pieces[$0].map { String(cString: $0) } ?? "" }
    }

    /// Decodes SentencePiece ids back to text.
    package func decode(_ ids: [Int]) throws -> String {
        let ids32 = ids.map { Int32($0) }
        var error: UnsafeMutablePointer<CChar>?
        let text = ids32.withUnsafeBufferPointer { spm_decode(handle, $0.baseAddress, $0.count, &error) }
        guard let text else { throw SentencePieceError(action: "decoding", message: consumeError(error)) }
        defer { spm_free_string(text) }
        return String(cString: text)
    }
}

/// Options for training a unigram SentencePiece model. Seeded training is reproducible for the same input.
package struct SentencePieceTrainingOptions: Sendable {
    package var inputFiles: [String]
    package var modelPrefix: String
    package var vocabularySize: Int
    package var modelType = "unigram"
    package var characterCoverage = 0.9995
    package var inputSentenceSize = 0
    package var maxSentenceLength = 4192
    package var threads = 1
    package var seed: UInt32 = 1

    package init(inputFiles: [String], modelPrefix: String, vocabularySize: Int) {
        self.inputFiles = inputFiles
        self.modelPrefix = modelPrefix
        self.vocabularySize = vocabularySize
    }

    /// The trainer's flag string (the seed is set separately). The seed and one thread make training deterministic; the model's own
    /// specials are <unk>=0, <s>=1, </s>=2 as in XLM-R's SentencePiece model, with no <pad> piece.
    var arguments: String {
        var args = [
            "--input=\(inputFiles.joined(separator: ","))",
            "--model_prefix=\(modelPrefix)",
            "--vocab_size=\(vocabularySize)",
            "--model_type=\(modelType)",
            "--character_coverage=\(characterCoverage)",
            "--max_sentence_length=\(maxSentenceLength)",
            "--num_threads=\(threads)",
            "--unk_id=0", "--bos_id=1", "--eos_id=2", "--pad_id=-1",
            "--hard_vocab_limit=false",
            "--minloglevel=2",
        ]
        if inputSentenceSize > 0 {
            args.append("--input_sentence_size=\(inputSentenceSize)")
            args.append("--shuffle_input_sentence=true")
        }
        return args.joined(separator: " ")
    }
}

package enum SentencePieceTrainer {
    /// Trains a model; writes `<modelPrefix>.model` and `<modelPrefix>.vocab` and returns the model's path.
    @discardableResult
    package static func train(_ options: SentencePieceTrainingOptions) throws -> String {
        for file in options.inputFiles where !FileManager.default.fileExists(atPath: file) {
            throw SentencePieceError(action: "training", message: "input file \(file) does not exist")
        }
        spm_set_random_seed(options.seed)
        var error: UnsafeMutablePointer<CChar>?
        guard spm_train(options.arguments, &error) == 0 else {
            throw SentencePieceError(action: "training", message: consumeError(error))
        }
        return options.modelPrefix + ".model"
    }
}
