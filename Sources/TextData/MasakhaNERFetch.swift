// `smaller data fetch masakhaner`: the MasakhaNER 1.0 and 2.0 files from the public GitHub repository at a pinned
// commit, each verified against a SHA-256 listed in code (MasakhaNERChecksums.swift) before it is written.
// The download itself is injected (the CLI passes an HTTP getter), so this logic is tested offline.
import Foundation

package enum MasakhaNERFetch {
    package static let repository = "masakhane-io/masakhane-ner"
    package static let commit = "ba5843cd08aa491d5f96a5e809e71eb9ec461391"

    package struct File: Sendable {
        package let version: String, language: String, split: String, sha256: String
        /// Path in the upstream repository: 1.0 under data/, 2.0 under MasakhaNER2.0/data/.
        package var upstreamPath: String {
            (version == "1.0" ? "data" : "MasakhaNER2.0/data") + "/\(language)/\(split).txt"
        }
        package var url: URL {
            URL(string: "https://raw.githubusercontent.com/\(MasakhaNERFetch.repository)/\(MasakhaNERFetch.commit)/\(upstreamPath)")!
        }
        /// Where it goes under the target folder, so that `--data DIR/<version>` reads it.
        package var localPath: String { "\(version)/\(language)/\(split).txt" }
    }

    package static var files: [File] {
        checksums.map { File(version: $0.version, language: $0.language, split: $0.split, sha256: $0.sha256) }
    }

    package struct FetchError: Error, CustomStringConvertible {
        package let message: String
        package var description: String { message }
    }

    /// Downloads every file of the given versions into `dir`, skipping files already there with the right checksum.
    /// Returns how many files were downloaded. A failed download or a checksum mismatch stops with a clear error;
    /// nothing unverified is written.
    @discardableResult
    package static func fetch(to dir: URL, versions: Set<String> = ["1.0", "2.0"], download: (URL) throws -> Data,
                              log: (String) -> Void = { _ in }) throws -> Int {
        let selected = files.filter { versions.contains($0.version) }
        guard !selected.isEmpty else {
            throw FetchError(message: "no MasakhaNER files for version(s) \(versions.sorted().joined(separator: ", ")); known: 1.0, 2.0")
        }
        var downloaded = 0
        for file in selected {
            let target = dir.appendingPathComponent(file.localPath)
            if let existing = FileManager.default.contents(atPath: target.path), Digest.sha256Hex(existing) == file.sha256 {
                continue
            }
            let data: Data
            do { data = try download(file.url) } catch {
                throw FetchError(message: """
                    could not download \(file.url.absoluteString): \(error)
                    This machine seems to have no internet access. Copy the MasakhaNER files by hand into \(dir.path) \
                    as <version>/<lang>/<split>.txt (they are verified against the checksums in the code on the next run), \
                    or run without --data to use the embedded synthetic corpus.
                    """)
            }
            let digest = Digest.sha256Hex(data)
            guard digest == file.sha256 else {
                throw FetchError(message: "checksum mismatch for \(file.url.absoluteString): got sha256 \(digest), expected \(file.sha256); the file was not written")
            }
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: target, options: .atomic)
            downloaded += 1
            log("fetched \(file.localPath) (\(data.count) bytes, sha256 ok)")
        }
        return downloaded
    }

    /// Files under `dir` that are missing or differ from the listed checksums (empty when all are good).
    package static func verify(_ dir: URL, versions: Set<String> = ["1.0", "2.0"]) -> [String] {
        files.filter { versions.contains($0.version) }.compactMap { file in
            guard let data = FileManager.default.contents(atPath: dir.appendingPathComponent(file.localPath).path) else {
                return "\(file.localPath): missing"
            }
            let digest = Digest.sha256Hex(data)
            return digest == file.sha256 ? nil : "\(file.localPath): sha256 \(digest), expected \(file.sha256)"
        }
    }
}
