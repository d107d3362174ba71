// `smaller data fetch masakhaner --to DIR` (download, SHA-256 verified) and `smaller data synthetic --to DIR`
// (write the embedded synthetic corpus as files).
import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TextData

struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data", abstract: "Get NER data: download MasakhaNER, or write the synthetic corpus.",
        subcommands: [Fetch.self, Synthetic.self, Check.self])

    struct Fetch: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Download MasakhaNER 1.0/2.0 from GitHub (pinned commit) into DIR/<version>/<lang>/<split>.txt, verifying SHA-256.")

        @Argument(help: "The dataset (only masakhaner).")
        var dataset: String

        @Option(help: "Target folder.")
        var to: String

        @Option(help: "Versions to fetch, comma separated.")
        var versions = "1.0,2.0"

        func validate() throws {
            guard dataset == "masakhaner" else { throw ValidationError("unknown dataset \(dataset); only masakhaner can be fetched") }
        }

        func run() throws {
            let dir = URL(fileURLWithPath: to)
            let count = try MasakhaNERFetch.fetch(
                to: dir, versions: Set(versions.split(separator: ",").map(String.init)),
                download: DataCommand.download, log: { print($0) })
            print("MasakhaNER in \(dir.path): \(count) file(s) downloaded, all verified. Data licence: CC BY-NC 4.0; use with --data \(dir.path)/2.0")
        }
    }

    struct DownloadError: Error, CustomStringConvertible { let description: String }

    /// Downloads one URL; on failure reports the innermost reason (e.g. "Could not resolve host: …").
    static func download(_ url: URL) throws -> Data {
        do { return try Data(contentsOf: url) } catch {
            throw DownloadError(description: innermostReason(error))
        }
    }

    /// The innermost reason a download failed (e.g. "Could not resolve host: …"), as `data fetch` and `model fetch` print it.
    static func innermostReason(_ error: Error) -> String {
        var reason = error.localizedDescription
        var current: NSError? = error as NSError
        while let e = current {
            if let text = e.userInfo[NSLocalizedDescriptionKey] as? String { reason = text }
            current = (e.userInfo[NSUnderlyingErrorKey] as? Error).map { $0 as NSError }
        }
        return reason
    }
}

extension DataCommand {
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load a --data tree (DIR/<lang>/{train,dev,test}.txt) and/or --text folder (DIR/<lang>.txt) and print counts.")

        @Option(help: "A MasakhaNER-style tree.")
        var data: String?

        @Option(help: "A raw-text folder.")
        var text: String?

        @Flag(help: "Skip malformed CoNLL lines (counted in a warning) instead of failing.")
        var lenient = false

        func validate() throws {
            guard data != nil || text != nil else { throw ValidationError("give --data DIR, --text DIR or both") }
        }

        func run() throws {
            if let data {
                let dir = URL(fileURLWithPath: data)
                for language in try Corpora.nerLanguages(in: dir) {
                    let splits = try Corpora.loadNER(from: dir, language: language, lenient: lenient)
                    let counts = [splits.train, splits.dev, splits.test].map { "\($0.count)/\($0.reduce(0) { $0 + $1.words.count })" }
                    print("\(language): train \(counts[0])  dev \(counts[1])  test \(counts[2])  (sentences/tokens)")
                    for warning in splits.warnings { printErr(warning) }
                }
            }
            if let text {
                let dir = URL(fileURLWithPath: text)
                for language in try Corpora.textLanguages(in: dir) {
                    print("\(language): \(try Corpora.loadText(from: dir, language: language).count) lines of text")
                }
            }
        }
    }

    struct Synthetic: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the embedded SYNTHETIC corpus: DIR/text/<lang>.txt and DIR/ner/<lang>/{train,dev,test}.txt.")

        @Option(help: "Target folder.")
        var to: String

        @Option(help: "Random seed.")
        var seed: UInt64 = 1

        func run() throws {
            let data = SyntheticCorpus.languages.map { SyntheticCorpus.generate($0, seed: seed) }
            try SyntheticCorpus.write(data, to: URL(fileURLWithPath: to), seed: seed)
            for d in data {
                print("\(d.spec.code): \(d.text.count) text lines, \(d.train.count)/\(d.dev.count)/\(d.test.count) NER sentences — \(d.spec.description)")
            }
            print("wrote \(to) (synthetic data; see its README.md)")
        }
    }
}
