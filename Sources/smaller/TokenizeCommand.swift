// `smaller tokenize` (stdin lines → XLM-R ids) and `smaller tokenizer train` (a unigram SentencePiece model).
import ArgumentParser
import Experiment
import Foundation
import TextData

struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print each standard-input line's ids in XLM-R's layout (<s>=0 … </s>=2, pieces shifted by one).")

    @Option(help: "A SentencePiece .model file (ours, or e.g. AfriBERTa's sentencepiece.bpe.model).")
    var model: String

    @Flag(help: "Print one JSON array per line (the default prints ids separated by spaces).")
    var json = false

    func run() throws {
        guard FileManager.default.fileExists(atPath: model) else { throw ValidationError("no model file at \(model)") }
        let tokenizer = try XLMRTokenizer(contentsOf: model)
        while let line = readLine(strippingNewline: true) {
            let ids = try tokenizer.encode(line)
            print(json ? JSONWriter(.record).json(.array(ids.map { .int(Int($0)) })) : ids.map(String.init).joined(separator: " "))
        }
    }
}

struct TokenizerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer", abstract: "Train SentencePiece tokenizers.", subcommands: [TrainTokenizer.self])
}

struct TrainTokenizer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Train a unigram SentencePiece model (seeded, one thread, reproducible).")

    @Option(help: "A folder of raw text (<lang>.txt, one segment per line) or one text file.")
    var text: String

    @Option(help: "Vocabulary size (SentencePiece pieces; the model's vocabulary adds <pad> and <mask>).")
    var vocab: Int

    @Option(help: "The .model file to write.")
    var out: String

    @Option(help: "Random seed.")
    var seed: UInt32 = 1

    @Option(help: "Sample at most this many sentences for training (0: all).")
    var maxSentences = 0

    func validate() throws {
        guard vocab >= 8 else { throw ValidationError("--vocab must be at least 8, got \(vocab)") }
        guard out.hasSuffix(".model") else { throw ValidationError("--out must end in .model, got \(out)") }
    }

    func run() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: text, isDirectory: &isDirectory) else {
            throw ValidationError("no such file or folder: \(text)")
        }
        let url = URL(fileURLWithPath: text)
        let files = isDirectory.boolValue
            ? try Corpora.textLanguages(in: url).map { Corpora.textFile(in: url, language: $0) } : [url]
        guard !files.isEmpty else { throw ValidationError("no <lang>.txt files in \(text)") }
        let tokenizer = try XLMRTokenizer.train(textFiles: files, vocabularySize: vocab, output: URL(fileURLWithPath: out),
                                                seed: seed, maxSentences: maxSentences)
        print("wrote \(out): \(tokenizer.sentencePiece.pieceCount) pieces, vocabulary \(tokenizer.vocabularySize) "
              + "(<mask> = \(tokenizer.maskId)) from \(files.count) file(s)")
    }
}
