// `model fetch` against an in-memory hub: the files arrive verified (sha256 from lfs, git blob ids checked against
// `git hash-object`), a cut `.part` resumes with a ranged request from where it stopped, a hash mismatch writes
// nothing, and an unreachable hub says so.
import Foundation
import Testing
import TestSupport
@testable import TextData

@Suite struct HubFetchTests {
    final class FakeHub {
        var files: [String: Data]
        var wrongSHA = false
        var requests: [(path: String, range: ClosedRange<Int>?)] = []
        init(_ files: [String: Data]) { self.files = files }

        func gitBlob(_ data: Data) throws -> String {
            let dir = try Fixtures.temporaryDirectory("blob")
            defer { try? FileManager.default.removeItem(at: dir) }
            let file = dir.appendingPathComponent("f")
            try data.write(to: file)
            let p = Process(), pipe = Pipe()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/git")
            p.arguments = ["hash-object", file.path]
            p.standardOutput = pipe
            try p.run()
            p.waitUntilExit()
            return String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }

        func metadata() throws -> Data {
            let siblings: [[String: Any]] = try files.keys.sorted().map { name in
                let data = files[name]!
                if name == "config.json" { return ["rfilename": name, "size": data.count, "blobId": try gitBlob(data)] }
                let sha = wrongSHA ? String(repeating: "0", count: 64) : Digest.sha256Hex(data)
                return ["rfilename": name, "size": data.count, "blobId": "x", "lfs": ["sha256": sha, "size": data.count, "pointerSize": 134]]
            }
            return try JSONSerialization.data(withJSONObject: ["id": "test/tiny", "siblings": siblings + [["rfilename": "README.md"]]])
        }

        func get(_ url: URL, _ range: ClosedRange<Int>?) throws -> HubFetch.Response {
            requests.append((url.path, range))
            if url.path == "/api/models/test/tiny" { return HubFetch.Response(status: 200, body: try metadata()) }
            let prefix = "/test/tiny/resolve/main/"
            guard url.path.hasPrefix(prefix), let data = files[String(url.path.dropFirst(prefix.count))] else {
                return HubFetch.Response(status: 404, body: Data())
            }
            guard let range else { return HubFetch.Response(status: 200, body: data) }
            return HubFetch.Response(status: 206, body: data.subdata(in: range.lowerBound..<min(data.count, range.upperBound + 1)))
        }
    }

    static func checkpoint() -> [String: Data] {
        var rng = TestRandom(seed: 3)
        return ["config.json": Data("{\"model_type\": \"xlm-roberta\"}\n".utf8),
                "pytorch_model.bin": Data((0..<50_000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }),
                "sentencepiece.bpe.model": Data((0..<3_000).map { _ in UInt8(truncatingIfNeeded: rng.next()) })]
    }

    let endpoint = URL(string: "http://hub.invalid")!

    @Test func fetchesVerifiesAndResumesACutPart() throws {
        let dir = try Fixtures.temporaryDirectory("hub-fetch")
        defer { try? FileManager.default.removeItem(at: dir) }
        let hub = FakeHub(Self.checkpoint())
        let fetched = try HubFetch.fetch(repo: "test/tiny", endpoint: endpoint, to: dir, get: hub.get)
        #expect(fetched == ["config.json", "pytorch_model.bin", "sentencepiece.bpe.model"])
        for (name, data) in hub.files { #expect(try Data(contentsOf: dir.appendingPathComponent(name)) == data, "\(name)") }
        // Everything verified: nothing is downloaded again.
        hub.requests = []
        #expect(try HubFetch.fetch(repo: "test/tiny", endpoint: endpoint, to: dir, get: hub.get).isEmpty)
        #expect(hub.requests.count == 1)
        // A cut download: the weights' first 20,001 bytes in the .part, the file itself gone.
        let weights = dir.appendingPathComponent("pytorch_model.bin")
        try FileManager.default.removeItem(at: weights)
        try hub.files["pytorch_model.bin"]!.prefix(20_001).write(to: dir.appendingPathComponent("pytorch_model.bin.part"))
        hub.requests = []
        var seen: [Int] = []
        #expect(try HubFetch.fetch(repo: "test/tiny", endpoint: endpoint, to: dir, get: hub.get, progress: { _, done, _ in seen.append(done) })
            == ["pytorch_model.bin"])
        #expect(hub.requests.last?.range == 20_001...49_999)
        #expect(seen.first == 20_001 && seen.last == 50_000)
        #expect(try Data(contentsOf: weights) == hub.files["pytorch_model.bin"])
        #expect(!FileManager.default.fileExists(atPath: weights.path + ".part"))
    }

    @Test func aHashMismatchWritesNothing() throws {
        let dir = try Fixtures.temporaryDirectory("hub-mismatch")
        defer { try? FileManager.default.removeItem(at: dir) }
        let hub = FakeHub(Self.checkpoint())
        hub.wrongSHA = true
        #expect { try HubFetch.fetch(repo: "test/tiny", endpoint: endpoint, to: dir, get: hub.get) } throws: {
            "\($0)".contains("pytorch_model.bin: sha256 mismatch") && "\($0)".contains("nothing was written")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("pytorch_model.bin").path))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("pytorch_model.bin.part").path))
    }

    @Test func missingFilesAndAnUnreachableHubAreClearErrors() throws {
        let dir = try Fixtures.temporaryDirectory("hub-offline")
        defer { try? FileManager.default.removeItem(at: dir) }
        struct Offline: Error, CustomStringConvertible { var description = "Could not resolve host: hub.invalid" }
        #expect { try HubFetch.fetch(repo: "test/tiny", endpoint: endpoint, to: dir, get: { _, _ in throw Offline() }) } throws: {
            "\($0)".contains("Could not resolve host") && "\($0)".contains("no internet access")
        }
        var files = Self.checkpoint()
        files["sentencepiece.bpe.model"] = nil
        #expect { try HubFetch.fetch(repo: "test/tiny", endpoint: endpoint, to: dir, get: FakeHub(files).get) } throws: {
            "\($0)".contains("test/tiny has no sentencepiece.bpe.model")
        }
        #expect { try HubFetch.fetch(repo: "other/x", endpoint: endpoint, to: dir, get: FakeHub(files).get) } throws: {
            "\($0)".contains("answered 404")
        }
    }
}
