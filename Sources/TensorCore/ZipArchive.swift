// A bounded reader of the zip archives `torch.save` writes (pytorch_model.bin): the central directory is read and
// every entry's range is checked against the file before use. Only stored (uncompressed) entries are read, which is
// how torch.save writes every entry; zip64 (archives over 4 GiB) is refused with a clear error.
import Foundation

/// What can go wrong reading a zip archive; names the file and the problem.
package struct ZipError: Error, CustomStringConvertible, Equatable {
    package let file: String
    package let problem: String
    package var description: String { "zip archive \(file): \(problem)" }
}

package struct ZipArchive {
    /// Entries beyond this count are refused (an XLM-R checkpoint has a few hundred).
    static let maxEntries = 1_000_000
    /// The end-of-central-directory record is 22 bytes plus a comment of at most 65,535 bytes.
    static let endRecordSize = 22, maxCommentSize = 65_535

    package let file: String
    let bytes: Data
    /// Entry name → byte range of its data in `bytes` (relative to `bytes.startIndex`).
    package private(set) var entries: [String: Range<Int>] = [:]
    /// Entry names in central-directory order.
    package private(set) var names: [String] = []

    package init(_ bytes: Data, file: String) throws {
        self.file = file
        self.bytes = bytes
        func fail(_ p: String) -> ZipError { ZipError(file: file, problem: p) }
        let n = bytes.count
        guard n >= Self.endRecordSize else { throw fail("truncated: \(n) bytes, too short for a zip archive") }
        // The end record: the last occurrence of its signature that leaves room for the record.
        var end = -1
        var at = n - Self.endRecordSize
        let lowest = max(0, n - Self.endRecordSize - Self.maxCommentSize)
        while at >= lowest {
            if u32(at) == 0x0605_4b50 { end = at; break }
            at -= 1
        }
        guard end >= 0 else {
            // PyTorch before 1.6 wrote a bare pickle stream (protocol 2: 0x80 0x02) instead of a zip.
            if bytes.first == 0x80 {
                throw fail("not a zip archive but a bare pickle stream: a legacy torch.save file (PyTorch < 1.6), which is not "
                    + "read; save it again with a current torch.save, or as model.safetensors")
            }
            throw fail("no end-of-central-directory record (not a zip archive, or truncated)")
        }
        let count = Int(u16(end + 10)), directorySize = Int(u32(end + 12)), directoryOffset = Int(u32(end + 16))
        guard count != 0xFFFF, directorySize != 0xFFFF_FFFF, directoryOffset != 0xFFFF_FFFF else {
            throw fail("a zip64 archive (over 4 GiB or 65,535 entries) is not supported; save the weights as model.safetensors")
        }
        guard count <= Self.maxEntries else { throw fail("\(count) entries exceed the limit of \(Self.maxEntries)") }
        guard directoryOffset <= end, directorySize <= end - directoryOffset else {
            throw fail("central directory [\(directoryOffset), +\(directorySize)) lies outside the archive (truncated?)")
        }
        var p = directoryOffset
        let directoryEnd = directoryOffset + directorySize
        for index in 0..<count {
            guard p <= directoryEnd - 46, u32(p) == 0x0201_4b50 else { throw fail("central directory entry \(index) is malformed") }
            let flags = u16(p + 8), method = u16(p + 10)
            let compressed = Int(u32(p + 20)), size = Int(u32(p + 24))
            let nameLength = Int(u16(p + 28)), extraLength = Int(u16(p + 30)), commentLength = Int(u16(p + 32))
            let localOffset = Int(u32(p + 42))
            guard nameLength + extraLength + commentLength <= directoryEnd - (p + 46) else {
                throw fail("central directory entry \(index) runs past the directory")
            }
            let name = String(decoding: bytes[(bytes.startIndex + p + 46)..<(bytes.startIndex + p + 46 + nameLength)], as: UTF8.self)
            p += 46 + nameLength + extraLength + commentLength
            guard flags & 1 == 0 else { throw fail("entry \(name) is encrypted") }
            guard compressed != 0xFFFF_FFFF, size != 0xFFFF_FFFF, localOffset != 0xFFFF_FFFF else {
                throw fail("entry \(name) uses zip64 sizes, which are not supported; save the weights as model.safetensors")
            }
            guard method == 0 else {
                throw fail("entry \(name) is compressed (method \(method)); torch.save stores entries uncompressed, and only those are read")
            }
            guard compressed == size else { throw fail("entry \(name) is stored but its sizes differ (\(compressed) and \(size))") }
            // The local header repeats the name and has its own extra field; the data follows it.
            guard localOffset <= n - 30, u32(localOffset) == 0x0403_4b50 else {
                throw fail("entry \(name) has no local header at offset \(localOffset) (truncated?)")
            }
            let start = localOffset + 30 + Int(u16(localOffset + 26)) + Int(u16(localOffset + 28))
            guard start <= n, size <= n - start else {
                throw fail("entry \(name) needs bytes [\(start), +\(size)) but the archive has \(n) (truncated?)")
            }
            guard entries[name] == nil else { throw fail("entry \(name) appears twice") }
            entries[name] = start..<(start + size)
            names.append(name)
        }
    }

    /// Reads and indexes a whole archive (memory-mapped when possible).
    package static func open(_ url: URL) throws -> ZipArchive {
        let bytes: Data
        do { bytes = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw ZipError(file: url.path, problem: "cannot be read (\(error.localizedDescription))")
        }
        return try ZipArchive(bytes, file: url.path)
    }

    /// An entry's bytes, or nil when there is none of that name.
    package func data(_ name: String) -> Data? {
        guard let range = entries[name] else { return nil }
        return bytes.subdata(in: (bytes.startIndex + range.lowerBound)..<(bytes.startIndex + range.upperBound))
    }

    private func u16(_ at: Int) -> UInt16 { UInt16(bytes[bytes.startIndex + at]) | UInt16(bytes[bytes.startIndex + at + 1]) << 8 }
    private func u32(_ at: Int) -> UInt32 { UInt32(u16(at)) | UInt32(u16(at + 2)) << 16 }
}
