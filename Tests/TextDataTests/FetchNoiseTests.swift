// SHA-256 of data files (FIPS vectors) and the MasakhaNER fetcher offline (injected downloads).
import Foundation
import Testing
import TestSupport
@testable import TextData

@Suite struct FetchNoiseTests {
    @Test func sha256MatchesFIPSVectors() {
        #expect(Digest.sha256Hex(Data()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Digest.sha256Hex(Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Digest.sha256Hex(Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(Digest.sha256Hex(Data(repeating: UInt8(ascii: "a"), count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func fetchFailsClearlyOfflineAndVerifiesChecksums() throws {
        let dir = try Fixtures.temporaryDirectory("fetch")
        defer { try? FileManager.default.removeItem(at: dir) }
        struct Offline: Error {}
        do {
            try MasakhaNERFetch.fetch(to: dir, download: { _ in throw Offline() })
            Issue.record("an offline fetch must fail")
        } catch let error as MasakhaNERFetch.FetchError {
            #expect(error.message.contains("no internet") && error.message.contains("raw.githubusercontent.com/masakhane-io/masakhane-ner"))
        }
        #expect(MasakhaNERFetch.files.count == 90)
        #expect(MasakhaNERFetch.files.first { $0.version == "2.0" }!.url.absoluteString.contains("/MasakhaNER2.0/data/"))
        // A corrupted download is refused and not written.
        do {
            try MasakhaNERFetch.fetch(to: dir, versions: ["1.0"], download: { _ in Data("tampered".utf8) })
            Issue.record("a wrong checksum must fail")
        } catch let error as MasakhaNERFetch.FetchError { #expect(error.message.contains("checksum mismatch")) }
        #expect(MasakhaNERFetch.verify(dir, versions: ["1.0"]).count == 30)
    }

    @Test(.enabled(if: Fixtures.sharedData != nil, "../shared/data is absent, so the checksums cannot be checked against the real files"))
    func checksumsMatchTheRealFiles() throws {
        let shared = try #require(Fixtures.sharedData)
        let dir = try Fixtures.temporaryDirectory("fetch-real")
        defer { try? FileManager.default.removeItem(at: dir) }
        struct Offline: Error {}
        // "Download" from the local copy (byte-identical to upstream): every listed checksum matches.
        let local = shared.appendingPathComponent("masakhaner")
        let count = try MasakhaNERFetch.fetch(to: dir, download: { url in
            let file = MasakhaNERFetch.files.first { $0.url == url }!
            return try Data(contentsOf: local.appendingPathComponent(file.localPath))
        })
        #expect(count == 90)
        #expect(MasakhaNERFetch.verify(dir).isEmpty && MasakhaNERFetch.verify(local).isEmpty)
        // A second run downloads nothing.
        #expect(try MasakhaNERFetch.fetch(to: dir, download: { _ in throw Offline() }) == 0)
    }
}
