// `smaller model fetch REPO --to DIR`: an XLM-R checkpoint folder (config.json, weights, sentencepiece.bpe.model)
// from a Hugging Face hub. The hub's metadata (`/api/models/REPO?blobs=true`) gives each file's size and hash
// (lfs.sha256 for large files, the git blob id for small ones); every file is downloaded into `NAME.part` in
// ranged chunks, so an interrupted fetch resumes where it stopped, and only a file whose size and hash match is
// renamed into place. The HTTP getter is injected (the CLI passes a real one), so this logic is tested offline.
import Crypto
import Foundation

package enum HubFetch {
    /// One file to fetch: its name in the repository, size and expected hash.
    package struct File: Equatable, Sendable {
        package enum Hash: Equatable, Sendable { case sha256(String), gitBlobSHA1(String) }
        package var name: String
        package var size: Int
        package var hash: Hash
    }

    /// What an HTTP GET returned: the status and the body.
    package struct Response: Sendable {
        package var status: Int
        package var body: Data
        package init(status: Int, body: Data) { self.status = status; self.body = body }
    }

    /// GET `url`, with `Range: bytes=from-to` when `range` is given.
    package typealias Getter = (_ url: URL, _ range: ClosedRange<Int>?) throws -> Response

    package struct FetchError: Error, CustomStringConvertible {
        package let message: String
        package var description: String { message }
        init(_ message: String) { self.message = message }
    }

    /// Bytes asked for per ranged request (the progress bar moves once per chunk; a cut fetch loses at most one).
    package static let chunkBytes = 8 << 20
    /// Metadata larger than this is refused.
    static let maxMetadataBytes = 64 << 20
    package static let weightsFiles = ["model.safetensors", "pytorch_model.bin"]

    static func metadataURL(endpoint: URL, repo: String, revision: String) -> URL {
        let base = endpoint.absoluteString.hasSuffix("/") ? String(endpoint.absoluteString.dropLast()) : endpoint.absoluteString
        let path = revision == "main" ? "/api/models/\(repo)" : "/api/models/\(repo)/revision/\(revision)"
        return URL(string: base + path + "?blobs=true")!
    }

    static func fileURL(endpoint: URL, repo: String, revision: String, file: String) -> URL {
        let base = endpoint.absoluteString.hasSuffix("/") ? String(endpoint.absoluteString.dropLast()) : endpoint.absoluteString
        return URL(string: "\(base)/\(repo)/resolve/\(revision)/\(file)")!
    }

    /// The files of a checkpoint folder from the hub's metadata: config.json, the weights (safetensors preferred),
    /// sentencepiece.bpe.model; a missing one, or one without a size and hash, is an error naming it.
    package static func files(metadata: Data, repo: String) throws -> [File] {
        guard let object = try? JSONSerialization.jsonObject(with: metadata) as? [String: Any],
              let siblings = object["siblings"] as? [[String: Any]] else {
            throw FetchError("the hub's metadata for \(repo) has no file list (siblings)")
        }
        var byName: [String: [String: Any]] = [:]
        for s in siblings { if let name = s["rfilename"] as? String { byName[name] = s } }
        guard let weights = weightsFiles.first(where: { byName[$0] != nil }) else {
            throw FetchError("\(repo) has no \(weightsFiles.joined(separator: " or ")) (it has: \(byName.keys.sorted().joined(separator: ", ")))")
        }
        return try ["config.json", weights, "sentencepiece.bpe.model"].map { name in
            guard let s = byName[name] else {
                throw FetchError("\(repo) has no \(name) (it has: \(byName.keys.sorted().joined(separator: ", ")))")
            }
            if let lfs = s["lfs"] as? [String: Any], let sha = lfs["sha256"] as? String, let size = (lfs["size"] as? NSNumber)?.intValue {
                return try checked(File(name: name, size: size, hash: .sha256(sha.lowercased())))
            }
            if let blob = s["blobId"] as? String, let size = (s["size"] as? NSNumber)?.intValue {
                return try checked(File(name: name, size: size, hash: .gitBlobSHA1(blob.lowercased())))
            }
            throw FetchError("the hub's metadata gives no size and hash for \(repo)/\(name): nothing to verify it against")
        }
    }

    static func checked(_ f: File) throws -> File {
        let hexLength: Int
        let hex: String
        switch f.hash { case .sha256(let h): (hex, hexLength) = (h, 64); case .gitBlobSHA1(let h): (hex, hexLength) = (h, 40) }
        guard f.size >= 0, f.size < (1 << 42), hex.count == hexLength, hex.allSatisfy(\.isHexDigit) else {
            throw FetchError("the hub's metadata for \(f.name) has an invalid size or hash")
        }
        // A name with a path in it could write outside the folder.
        guard !f.name.contains("/"), !f.name.hasPrefix(".") else { throw FetchError("refused file name \(f.name)") }
        return f
    }

    /// Downloads the checkpoint folder of `repo` into `dir`. Files already there and verified are kept; a
    /// `NAME.part` left by a cut fetch is continued. `progress(file, done, total)` is called after every chunk.
    /// Returns the files downloaded (not kept).
    @discardableResult
    package static func fetch(repo: String, revision: String = "main", endpoint: URL, to dir: URL, get: Getter,
                              progress: (String, Int, Int) -> Void = { _, _, _ in }, log: (String) -> Void = { _ in }) throws -> [String] {
        let metaURL = metadataURL(endpoint: endpoint, repo: repo, revision: revision)
        let meta: Response
        do { meta = try get(metaURL, nil) } catch {
            throw FetchError("""
                could not reach \(metaURL.absoluteString): \(error)
                This machine seems to have no internet access. Copy the checkpoint folder by hand into \(dir.path) \
                (config.json, model.safetensors or pytorch_model.bin, sentencepiece.bpe.model), or point --endpoint \
                (HF_ENDPOINT) at a mirror.
                """)
        }
        guard meta.status == 200 else {
            throw FetchError("the hub answered \(meta.status) for \(metaURL.absoluteString)"
                + (meta.status == 404 ? ": no such model or revision (or a private one: set HF_TOKEN)" : ""))
        }
        guard meta.body.count <= maxMetadataBytes else { throw FetchError("the hub's metadata is over \(maxMetadataBytes) bytes") }
        let files = try files(metadata: meta.body, repo: repo)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var fetched: [String] = []
        for file in files {
            let target = dir.appendingPathComponent(file.name)
            if FileManager.default.fileExists(atPath: target.path), isVerified(target, file) {
                log("\(file.name): already here, verified")
                continue
            }
            try download(file, url: fileURL(endpoint: endpoint, repo: repo, revision: revision, file: file.name),
                         to: target, get: get, progress: progress)
            log("\(file.name): \(file.size) bytes, \(describe(file.hash)) verified")
            fetched.append(file.name)
        }
        return fetched
    }

    static func describe(_ hash: File.Hash) -> String {
        switch hash { case .sha256: "sha256"; case .gitBlobSHA1: "git blob sha1" }
    }

    /// Continues `NAME.part` from its length in ranged chunks, then verifies and renames it.
    static func download(_ file: File, url: URL, to target: URL, get: Getter, progress: (String, Int, Int) -> Void) throws {
        let part = target.appendingPathExtension("part")
        let fm = FileManager.default
        var have = (try? fm.attributesOfItem(atPath: part.path)[.size] as? NSNumber)?.intValue ?? 0
        if have > file.size { try? fm.removeItem(at: part); have = 0 }
        if !fm.fileExists(atPath: part.path) { _ = fm.createFile(atPath: part.path, contents: nil) }
        let handle = try FileHandle(forWritingTo: part)
        defer { try? handle.close() }
        try handle.truncate(atOffset: UInt64(have))
        try handle.seekToEnd()
        progress(file.name, have, file.size)
        while have < file.size {
            let last = min(file.size, have + chunkBytes) - 1
            let response: Response
            do { response = try get(url, have...last) } catch {
                throw FetchError("downloading \(url.absoluteString) stopped at byte \(have) of \(file.size): \(error)\n"
                    + "Run the same command again to continue from there.")
            }
            switch response.status {
            case 206 where response.body.count == last - have + 1:
                try handle.write(contentsOf: response.body)
                have += response.body.count
            case 200 where response.body.count == file.size:
                // A server that ignores ranges sends the whole file: start the part over with it.
                try handle.truncate(atOffset: 0)
                try handle.write(contentsOf: response.body)
                have = file.size
            default:
                throw FetchError("the hub answered \(response.status) with \(response.body.count) bytes for bytes \(have)-\(last) of \(url.absoluteString)")
            }
            progress(file.name, have, file.size)
        }
        try handle.close()
        if let problem = try verify(part, file) {
            try? fm.removeItem(at: part)
            throw FetchError("\(file.name): \(problem); the download was deleted and nothing was written")
        }
        try? fm.removeItem(at: target)
        try fm.moveItem(at: part, to: target)
    }

    static func isVerified(_ url: URL, _ file: File) -> Bool {
        do { return try verify(url, file) == nil } catch { return false }
    }

    /// Nil when the file has the expected size and hash, else what differs.
    static func verify(_ url: URL, _ file: File) throws -> String? {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        var sha256 = SHA256(), sha1 = Insecure.SHA1(), size = 0
        if case .gitBlobSHA1 = file.hash { sha1.update(data: Data("blob \(file.size)\0".utf8)) }
        while let data = try handle.read(upToCount: 1 << 20), !data.isEmpty {
            size += data.count
            if case .sha256 = file.hash { sha256.update(data: data) } else { sha1.update(data: data) }
        }
        guard size == file.size else { return "\(size) bytes, the hub says \(file.size)" }
        switch file.hash {
        case .sha256(let expected):
            let got = sha256.finalize().map { String(format: "%02x", $0) }.joined()
            return got == expected ? nil : "sha256 mismatch: got \(got), the hub says \(expected)"
        case .gitBlobSHA1(let expected):
            let got = sha1.finalize().map { String(format: "%02x", $0) }.joined()
            return got == expected ? nil : "git blob sha1 mismatch: got \(got), the hub says \(expected)"
        }
    }
}
