// XLMRTokenizer against transformers' XLMRobertaTokenizer (golden ids from Tests/Reference/make_tokenizer_golden.py),
// on generated text (committed) and on real text read from ../shared/data at test time (only hashes are committed).
import Foundation
import Testing
import TestSupport
@testable import TextData

@Suite struct XLMRTokenizerTests {
    static let folder = Fixtures.referenceFixtures.appendingPathComponent("tokenizer")
    static func tokenizer() throws -> XLMRTokenizer {
        try XLMRTokenizer(contentsOf: folder.appendingPathComponent("xlmr_small.model").path)
    }

    struct Generated: Decodable {
        struct Meta: Decodable { let vocab_size: Int; let mask_id: Int; let sp_pieces: Int }
        struct Sentence: Decodable { let text: String; let ids: [Int] }
        let meta: Meta
        let sentences: [Sentence]
    }
    struct Real: Decodable { let file: String; let line: Int; let count: Int; let fnv1a64: String }

    /// FNV-1a 64 of the ids written as "0,12,…,2", as the generator hashes them.
    static func fnv1a64(_ ids: [Int]) -> String {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in ids.map(String.init).joined(separator: ",").utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01B3 }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    @Test func idsEqualTransformersOnGeneratedText() throws {
        let golden = try JSONDecoder().decode(Generated.self, from: Data(contentsOf: Self.folder.appendingPathComponent("generated_golden.json")))
        let tok = try Self.tokenizer()
        #expect(tok.vocabularySize == golden.meta.vocab_size)
        #expect(tok.maskId == golden.meta.mask_id)
        #expect(tok.sentencePiece.pieceCount == golden.meta.sp_pieces)
        var mismatches = 0
        for sentence in golden.sentences {
            let ids = try tok.encode(sentence.text)
            if ids != sentence.ids { mismatches += 1 }
            #expect(ids == sentence.ids, "\(sentence.text.debugDescription)")
        }
        #expect(mismatches == 0)
        #expect(golden.sentences.count > 200)
        // The layout itself: unknown characters map to 3, nothing maps to 1 (<pad>) or to <mask>.
        let all = golden.sentences.flatMap(\.ids)
        #expect(all.contains(XLMRTokenizer.unkId))
        #expect(!all.contains(XLMRTokenizer.padId) && !all.contains(tok.maskId))
    }

    @Test(.enabled(if: Fixtures.sharedData != nil, "../shared/data is absent, so the real-text tokenizer parity check cannot run"))
    func idsEqualTransformersOnRealText() throws {
        let shared = try #require(Fixtures.sharedData)
        let golden = try JSONDecoder().decode([Real].self, from: Data(contentsOf: Self.folder.appendingPathComponent("real_golden.json")))
        let tok = try Self.tokenizer()
        var cache: [String: [Substring]] = [:]
        for entry in golden {
            if cache[entry.file] == nil {
                let text = try String(contentsOf: shared.appendingPathComponent("text/\(entry.file)"), encoding: .utf8)
                cache[entry.file] = text.split(separator: "\n", omittingEmptySubsequences: false)
            }
            let line = String(cache[entry.file]![entry.line - 1])
            let ids = try tok.encode(line)
            #expect(ids.count == entry.count && Self.fnv1a64(ids) == entry.fnv1a64, "\(entry.file):\(entry.line)")
        }
        #expect(golden.count >= 400 && Set(golden.map(\.file)).count == 21)
    }

    @Test func decodeInvertsEncodeAndTrainingWritesAModel() throws {
        let tok = try Self.tokenizer()
        #expect(try tok.decode(tok.encode("Ade lọ Kampala gbé sù")) == "Ade lọ Kampala gbé sù")
        let dir = try Fixtures.temporaryDirectory("tok")
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = dir.appendingPathComponent("x.txt")
        try SentencePieceSmokeTests.generatedLines(count: 300, seed: 9).joined(separator: "\n").write(to: text, atomically: true, encoding: .utf8)
        let trained = try XLMRTokenizer.train(textFiles: [text], vocabularySize: 100, output: dir.appendingPathComponent("t.model"))
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("t.model").path))
        #expect(trained.vocabularySize == trained.sentencePiece.pieceCount + 2)
        #expect(try trained.encode("kalo").first == 0 && trained.encode("kalo").last == 2)
    }

    /// The same seeded training in two folders writes the same bytes: the model keeps no path of either (its
    /// TrainerSpec's input and model_prefix are dropped), and still tokenizes exactly as the library wrote it.
    @Test func theSameTrainingInTwoFoldersWritesTheSameBytes() throws {
        let root = try Fixtures.temporaryDirectory("tok-paths")
        defer { try? FileManager.default.removeItem(at: root) }
        let lines = SentencePieceSmokeTests.generatedLines(count: 300, seed: 4)
        var models: [Data] = []
        for folder in ["first-folder", "a-much-longer-folder-name/nested"] {
            let dir = root.appendingPathComponent(folder)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let text = dir.appendingPathComponent("text.txt")
            try lines.joined(separator: "\n").write(to: text, atomically: true, encoding: .utf8)
            let model = dir.appendingPathComponent("t.model")
            _ = try XLMRTokenizer.train(textFiles: [text], vocabularySize: 120, output: model)
            let bytes = try Data(contentsOf: model)
            #expect(bytes.range(of: Data(folder.utf8)) == nil, "the model still names its folder \(folder)")
            #expect(bytes.range(of: Data("text.txt".utf8)) == nil)
            models.append(bytes)
        }
        #expect(models[0] == models[1])

        // What the library wrote before the rewrite tokenizes the same as what is kept.
        let dir = root.appendingPathComponent("raw")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let text = dir.appendingPathComponent("text.txt")
        try lines.joined(separator: "\n").write(to: text, atomically: true, encoding: .utf8)
        var options = SentencePieceTrainingOptions(inputFiles: [text.path], modelPrefix: dir.appendingPathComponent("raw").path, vocabularySize: 120)
        options.seed = 1
        let raw = try SentencePieceTrainer.train(options)
        let rawBytes = try Data(contentsOf: URL(fileURLWithPath: raw))
        #expect(rawBytes.range(of: Data(text.path.utf8)) != nil)  // the library does record the path
        #expect(try SentencePieceModelFile.removingTrainingPaths(rawBytes) == models[0])
        let before = try XLMRTokenizer(contentsOf: raw)
        let after = try XLMRTokenizer(contentsOf: root.appendingPathComponent("first-folder/t.model").path)
        for line in lines.prefix(50) { #expect(try before.encode(line) == after.encode(line)) }
    }

    /// Malformed bytes are refused with an error, never a trap: every prefix of a real model, and junk.
    @Test func aMalformedModelIsRefusedNotTrapped() throws {
        let model = try Data(contentsOf: Self.folder.appendingPathComponent("xlmr_small.model"))
        #expect(throws: Never.self) { try SentencePieceModelFile.removingTrainingPaths(model) }
        var refused = 0
        for cut in stride(from: 1, to: model.count, by: max(1, model.count / 300)) {
            do { _ = try SentencePieceModelFile.removingTrainingPaths(model.prefix(cut)) } catch is SentencePieceModelFile.Malformed { refused += 1 }
        }
        #expect(refused > 0)
        for junk in [Data([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), Data([0x12, 0x7f]), Data([0x0b]), Data([0x00])] {
            #expect(throws: SentencePieceModelFile.Malformed.self) { try SentencePieceModelFile.removingTrainingPaths(junk) }
        }
    }
}
