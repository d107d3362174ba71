// ArtifactStore: content-addressed files (`<root>/<sha[0..2]>/<sha>`) with chunked, SHA-256-verified uploads.
// Used by the coordinator (in the run directory) and by each worker (its cache). Only digests name files,
// so nothing from the network can address a path outside the root.
import Crypto
import Foundation

package struct ArtifactError: Error, CustomStringConvertible, Equatable {
    package var message: String
    package var description: String { message }
}

package final class ArtifactStore: @unchecked Sendable {
    package let root: URL
    private var incoming: [String: (handle: FileHandle, written: Int, total: Int)] = [:]

    package init(root: URL) throws {
        self.root = root
        try FileManager.default.createDirectory(at: root.appendingPathComponent("incoming"), withIntermediateDirectories: true)
    }

    deinit { for (_, entry) in incoming { try? entry.handle.close() } }

    package static func isDigest(_ s: String) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    /// The file for a digest; nil for anything that is not a digest (so it can never be a path).
    package func path(_ sha256: String) -> URL? {
        guard Self.isDigest(sha256) else { return nil }
        return root.appendingPathComponent(String(sha256.prefix(2))).appendingPathComponent(sha256)
    }

    package func has(_ sha256: String) -> Bool {
        guard let p = path(sha256) else { return false }
        return FileManager.default.fileExists(atPath: p.path)
    }

    package func size(_ sha256: String) -> Int? {
        guard let p = path(sha256), let attrs = try? FileManager.default.attributesOfItem(atPath: p.path) else { return nil }
        return (attrs[.size] as? NSNumber)?.intValue
    }

    package static func sha256(of file: URL) throws -> (String, Int) {
        let handle = try FileHandle(forReadingFrom: file)
        defer { try? handle.close() }
        var hasher = SHA256()
        var total = 0
        while let data = try handle.read(upToCount: 1 << 20), !data.isEmpty {
            hasher.update(data: data)
            total += data.count
        }
        return (hasher.finalize().map { String(format: "%02x", $0) }.joined(), total)
    }

    package static func sha256(of bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    /// Copies a local file into the store; returns its reference under `name`.
    package func put(file: URL, name: String) throws -> ArtifactRef {
        let (digest, bytes) = try Self.sha256(of: file)
        let dest = path(digest)!
        if !FileManager.default.fileExists(atPath: dest.path) {
            try FileManager.default.createDirectory(at: dest.deletingLastPathComponent(), withIntermediateDirectories: true)
            let tmp = root.appendingPathComponent("incoming/\(digest).put-\(UUID().uuidString)")
            try FileManager.default.copyItem(at: file, to: tmp)
            try? FileManager.default.moveItem(at: tmp, to: dest)
            try? FileManager.default.removeItem(at: tmp)
        }
        return ArtifactRef(name: name, sha256: digest, bytes: bytes)
    }

    /// Up to `length` bytes from `offset`; nil if the artifact is unknown.
    package func read(_ sha256: String, offset: Int, length: Int) -> [UInt8]? {
        guard offset >= 0, length >= 0, let p = path(sha256), let handle = try? FileHandle(forReadingFrom: p) else { return nil }
        defer { try? handle.close() }
        do {
            try handle.seek(toOffset: UInt64(offset))
            return Array(try handle.read(upToCount: length) ?? Data())
        } catch {
            return nil
        }
    }

    /// Appends one chunk of an upload. Chunks must arrive in order; a gap, a size change or a digest mismatch
    /// discards the partial upload and throws. Returns true when the artifact is complete and verified.
    @discardableResult
    package func receive(sha256: String, offset: Int, total: Int, bytes: [UInt8]) throws -> Bool {
        guard let dest = path(sha256) else { throw ArtifactError(message: "not a digest: \(sha256.prefix(80))") }
        // offset + bytes.count ≤ total without a sum that could overflow (the offset comes from the network).
        guard offset >= 0, total >= 0, bytes.count <= total, offset <= total - bytes.count else {
            discard(sha256)
            throw ArtifactError(message: "upload of \(sha256.prefix(12)): \(bytes.count) bytes at offset \(offset) exceed its size \(total)")
        }
        if has(sha256) { incoming[sha256].map { try? $0.handle.close() }; incoming[sha256] = nil; return true }
        let partial = root.appendingPathComponent("incoming/\(sha256).part")
        if offset == 0 {
            incoming[sha256].map { try? $0.handle.close() }
            _ = FileManager.default.createFile(atPath: partial.path, contents: nil)
            incoming[sha256] = (try FileHandle(forWritingTo: partial), 0, total)
        }
        guard var entry = incoming[sha256], entry.written == offset, entry.total == total else {
            discard(sha256)
            throw ArtifactError(message: "upload of \(sha256.prefix(12)) out of order at offset \(offset)")
        }
        try entry.handle.write(contentsOf: bytes)
        entry.written += bytes.count
        incoming[sha256] = entry
        guard entry.written == total else { return false }
        try entry.handle.close()
        incoming[sha256] = nil
        let (digest, _) = try Self.sha256(of: partial)
        guard digest == sha256 else {
            try? FileManager.default.removeItem(at: partial)
            throw ArtifactError(message: "upload of \(sha256.prefix(12)) has digest \(digest.prefix(12)): discarded")
        }
        try FileManager.default.createDirectory(at: dest.deletingLastPathComponent(), withIntermediateDirectories: true)
        if FileManager.default.fileExists(atPath: dest.path) { try? FileManager.default.removeItem(at: partial) }
        else { try FileManager.default.moveItem(at: partial, to: dest) }
        return true
    }

    package func discard(_ sha256: String) {
        if let entry = incoming[sha256] { try? entry.handle.close() }
        incoming[sha256] = nil
        if Self.isDigest(sha256) { try? FileManager.default.removeItem(at: root.appendingPathComponent("incoming/\(sha256).part")) }
    }
}
