// Where NER splits and raw text come from: a MasakhaNER-style tree (`--data DIR`: DIR/<lang>/{train,dev,test}.txt),
// a raw-text folder (`--text DIR`: DIR/<lang>.txt, one segment per line), or the embedded synthetic corpus.
import Foundation

/// One language's NER data.
package struct NERSplits: Sendable {
    package let language: String
    package let train: [NERSentence]
    package let dev: [NERSentence]
    package let test: [NERSentence]
    /// True for the embedded synthetic corpus: results on it say nothing about real languages.
    package let synthetic: Bool
    /// Warnings from lenient reading (skipped lines), one per file that had any.
    package let warnings: [String]
}

package struct DataError: Error, CustomStringConvertible {
    package let path: String
    package let problem: String
    package let hint: String
    package var description: String { "\(path): \(problem). \(hint)" }
}

package enum Corpora {
    package static let splits = ["train", "dev", "test"]

    /// Languages in a MasakhaNER-style tree: sub-folders holding a train.txt.
    package static func nerLanguages(in dir: URL) throws -> [String] {
        try subfolders(dir).filter { FileManager.default.fileExists(atPath: dir.appendingPathComponent("\($0)/train.txt").path) }
    }

    /// Reads DIR/<lang>/{train,dev,test}.txt; a missing split is an error naming the path.
    package static func loadNER(from dir: URL, language: String, labels: LabelSet = .masakhaNER, lenient: Bool = false) throws -> NERSplits {
        var loaded: [[NERSentence]] = []
        var warnings: [String] = []
        for split in splits {
            let url = dir.appendingPathComponent("\(language)/\(split).txt")
            guard FileManager.default.fileExists(atPath: url.path) else {
                let known = (try? nerLanguages(in: dir)) ?? []
                throw DataError(path: url.path, problem: "no such file",
                                hint: "--data expects DIR/<lang>/{train,dev,test}.txt; languages found in \(dir.path): \(known.isEmpty ? "none" : known.joined(separator: " "))")
            }
            let document = try CoNLL.read(contentsOf: url, labels: labels, lenient: lenient)
            if let warning = document.warning(file: url.path) { warnings.append(warning) }
            loaded.append(document.sentences)
        }
        return NERSplits(language: language, train: loaded[0], dev: loaded[1], test: loaded[2], synthetic: false, warnings: warnings)
    }

    /// Languages in a raw-text folder: the `<lang>.txt` files.
    package static func textLanguages(in dir: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".txt") }
            .map { String($0.dropLast(4)) }.sorted()
    }

    package static func textFile(in dir: URL, language: String) -> URL { dir.appendingPathComponent("\(language).txt") }

    /// The non-blank lines of DIR/<lang>.txt (a BOM is dropped).
    package static func loadText(from dir: URL, language: String) throws -> [String] {
        let url = textFile(in: dir, language: language)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            let known = (try? textLanguages(in: dir)) ?? []
            throw DataError(path: url.path, problem: "no such file",
                            hint: "--text expects DIR/<lang>.txt; languages found in \(dir.path): \(known.isEmpty ? "none" : known.joined(separator: " "))")
        }
        guard var text = String(data: data, encoding: .utf8) else {
            throw DataError(path: url.path, problem: "not valid UTF-8", hint: "raw text must be UTF-8, one segment per line")
        }
        if text.unicodeScalars.first == "\u{FEFF}" { text.unicodeScalars.removeFirst() }
        return text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// One synthetic language's splits (see SyntheticCorpus); an unknown code names the known ones.
    package static func synthetic(language: String, seed: UInt64, sizes: SyntheticSizes = SyntheticSizes()) throws -> (NERSplits, text: [String]) {
        guard let spec = SyntheticCorpus.spec(language) else {
            throw DataError(path: language, problem: "not a synthetic language",
                            hint: "the embedded corpus has: \(SyntheticCorpus.languages.map(\.code).joined(separator: " "))")
        }
        let data = SyntheticCorpus.generate(spec, seed: seed, sizes: sizes)
        return (NERSplits(language: language, train: data.train, dev: data.dev, test: data.test, synthetic: true, warnings: []), data.text)
    }

    static func subfolders(_ dir: URL) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: dir.path).filter {
                var isDir: ObjCBool = false
                return FileManager.default.fileExists(atPath: dir.appendingPathComponent($0).path, isDirectory: &isDir) && isDir.boolValue
            }.sorted()
        } catch {
            throw DataError(path: dir.path, problem: "cannot list the folder", hint: "check the path given to --data")
        }
    }
}

/// Where the Runner takes a language's data from: the embedded synthetic corpus (default) or real folders.
package enum DataSource: Sendable, Equatable {
    case synthetic(seed: UInt64, sizes: SyntheticSizes)
    /// `ner`: a MasakhaNER-style tree (`--data`); `text`: a raw-text folder (`--text`), optional.
    case folders(ner: URL, text: URL?, lenient: Bool)
}

extension Corpora {
    /// A language's NER splits from either source.
    package static func ner(_ source: DataSource, language: String, labels: LabelSet = .masakhaNER) throws -> NERSplits {
        switch source {
        case .synthetic(let seed, let sizes): return try synthetic(language: language, seed: seed, sizes: sizes).0
        case .folders(let ner, _, let lenient): return try loadNER(from: ner, language: language, labels: labels, lenient: lenient)
        }
    }

    /// A language's raw text (pretraining, tokenizer): the synthetic text, the `--text` file, or, when no text folder
    /// was given, the words of the NER train split (so dev/test never leak into pretraining).
    package static func text(_ source: DataSource, language: String) throws -> [String] {
        switch source {
        case .synthetic(let seed, let sizes): return try synthetic(language: language, seed: seed, sizes: sizes).text
        case .folders(_, let text?, _): return try loadText(from: text, language: language)
        case .folders(let ner, nil, let lenient):
            return try loadNER(from: ner, language: language, lenient: lenient).train.map { $0.words.joined(separator: " ") }
        }
    }

    /// The languages a source offers.
    package static func languages(_ source: DataSource) throws -> [String] {
        switch source {
        case .synthetic: return SyntheticCorpus.languages.map(\.code)
        case .folders(let ner, _, _): return try nerLanguages(in: ner)
        }
    }
}
