// `smaller model fetch REPO --to DIR`: a Hugging Face XLM-R checkpoint folder, size- and hash-checked against the
// hub's metadata, resumable, with a progress bar (HubFetch holds the logic; this is its HTTP and its terminal).
import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TextData

struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model", abstract: "Get pretrained checkpoints: download a Hugging Face XLM-R folder.",
        subcommands: [Fetch.self])

    struct Fetch: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Download config.json, the weights and sentencepiece.bpe.model of a hub model into DIR, verified and resumable.",
            discussion: "Use the folder as `pretrained: {checkpoint: DIR}` in a job file (docs/jobs.md).")

        @Argument(help: "The hub repository, e.g. castorini/afriberta_small.")
        var repo: String

        @Option(help: "Target folder.")
        var to: String

        @Option(help: "Branch, tag or commit.")
        var revision = "main"

        @Option(help: "The hub's address (default: HF_ENDPOINT, else https://huggingface.co).")
        var endpoint: String?

        func validate() throws {
            let parts = repo.split(separator: "/", omittingEmptySubsequences: false)
            guard (1...2).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && !$0.hasPrefix(".") && $0.allSatisfy { $0.isLetter || $0.isNumber || "._-".contains($0) } }) else {
                throw ValidationError("expected a repository as NAME or OWNER/NAME, got \(repo)")
            }
        }

        func run() throws {
            let address = endpoint ?? ProcessInfo.processInfo.environment["HF_ENDPOINT"] ?? "https://huggingface.co"
            guard let url = URL(string: address), url.scheme == "http" || url.scheme == "https" else {
                throw ValidationError("--endpoint: expected an http(s) URL, got \(address)")
            }
            let token = ProcessInfo.processInfo.environment["HF_TOKEN"]
            let bar = FetchProgress()
            do {
                let fetched = try HubFetch.fetch(repo: repo, revision: revision, endpoint: url, to: URL(fileURLWithPath: to),
                                                 get: { try HTTPGet.get($0, range: $1, token: token) },
                                                 progress: bar.update, log: { bar.finishLine(); print($0) })
                print("\(repo) in \(to): \(fetched.count) file(s) downloaded, all verified; use it as pretrained: {checkpoint: \(to)}")
            } catch let e as HubFetch.FetchError {
                bar.finishLine()
                throw CommandFailure(e.message)
            }
        }
    }
}

/// A progress bar on stderr, one line per file, redrawn when the percentage changes.
final class FetchProgress {
    private var current = "", shown = -1

    func update(_ file: String, _ done: Int, _ total: Int) {
        let percent = total > 0 ? done * 100 / total : 100
        guard file != current || percent != shown else { return }
        if file != current { finishLine() }
        (current, shown) = (file, percent)
        let width = 30, filled = width * percent / 100
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        writeErr(String(format: "\r%@ [%@] %3d%% %.1f/%.1f MB", file, bar, percent, Double(done) / 1e6, Double(total) / 1e6))
    }

    func finishLine() {
        if !current.isEmpty { writeErr("\n") }
        (current, shown) = ("", -1)
    }
}

/// One synchronous GET through URLSession, with an optional byte range and hub token.
enum HTTPGet {
    final class Box: @unchecked Sendable {
        var result: Result<HubFetch.Response, Error> = .failure(CommandFailure("no response"))
    }

    static func get(_ url: URL, range: ClosedRange<Int>?, token: String?) throws -> HubFetch.Response {
        var request = URLRequest(url: url, timeoutInterval: 60)
        if let range { request.setValue("bytes=\(range.lowerBound)-\(range.upperBound)", forHTTPHeaderField: "Range") }
        if let token, !token.isEmpty { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let box = Box(), done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: request) { data, response, error in
            if let error {
                box.result = .failure(CommandFailure(DataCommand.innermostReason(error)))
            } else {
                box.result = .success(HubFetch.Response(status: (response as? HTTPURLResponse)?.statusCode ?? 0, body: data ?? Data()))
            }
            done.signal()
        }.resume()
        done.wait()
        return try box.result.get()
    }
}
