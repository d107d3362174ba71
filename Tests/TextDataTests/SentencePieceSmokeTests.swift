// SentencePiece links and works: a unigram model trained on generated text encodes and decodes back.
import Foundation
import Testing
import TestSupport
@testable import TextData

@Suite struct SentencePieceSmokeTests {
    /// A few hundred lines of generated text over a small syllable inventory, with diacritics.
    static func generatedLines(count: Int, seed: UInt64) -> [String] {
        let syllables = ["ka", "lo", "mi", "ne", "sù", "ta", "gbé", "wa", "yo", "ri", "ọ", "ṣe", "ba", "dù", "fi"]
        var rng = TestRandom(seed: seed)
        return (0..<count).map { _ in
            (0..<(4 + rng.below(8))).map { _ in
                (0..<(1 + rng.below(3))).map { _ in syllables[rng.below(syllables.count)] }.joined()
            }.joined(separator: " ")
        }
    }

    @Test func trainEncodeDecodeRoundTrip() throws {
        let dir = try Fixtures.temporaryDirectory("spm")
        defer { try? FileManager.default.removeItem(at: dir) }
        let lines = Self.generatedLines(count: 400, seed: 3)
        let input = dir.appendingPathComponent("text.txt")
        try lines.joined(separator: "\n").write(to: input, atomically: true, encoding: .utf8)

        var options = SentencePieceTrainingOptions(
            inputFiles: [input.path], modelPrefix: dir.appendingPathComponent("m").path, vocabularySize: 120)
        options.seed = 5
        let path = try SentencePieceTrainer.train(options)
        let model = try SentencePieceModel(contentsOf: path)
        #expect(model.pieceCount <= 120)
        #expect(model.unknownId == 0 && model.bosId == 1 && model.eosId == 2)

        for line in lines.prefix(50) {
            let ids = try model.encode(line)
            #expect(!ids.isEmpty)
            #expect(ids.allSatisfy { $0 > 2 && $0 < model.pieceCount }, "no specials or out-of-range ids in \(ids)")
            #expect(try model.decode(ids) == line)
            #expect(try model.encodePieces(line).joined().replacingOccurrences(of: "▁", with: " ")
                    .trimmingCharacters(in: .whitespaces) == line)
        }

        // Training is reproducible: the same input and seed give the same pieces in the same order.
        // (The model files differ in bytes: they record their own output path in the trainer spec.)
        options.modelPrefix = dir.appendingPathComponent("m2").path
        let again = try SentencePieceModel(contentsOf: try SentencePieceTrainer.train(options))
        #expect(again.pieceCount == model.pieceCount)
        #expect((0..<model.pieceCount).map { model.piece(forId: $0) } == (0..<again.pieceCount).map { again.piece(forId: $0) })
    }

    @Test func missingModelIsAClearError() {
        #expect {
            _ = try SentencePieceModel(contentsOf: "/nonexistent/model.model")
        } throws: { error in
            "\(error)".contains("/nonexistent/model.model")
        }
    }

    @Test func garbageModelBytesAreAnError() {
        #expect(throws: SentencePieceError.self) { _ = try SentencePieceModel(serialized: [1, 2, 3, 4, 5]) }
    }
}
