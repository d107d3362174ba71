// `smaller model fetch` over HTTP against a fake hub on loopback (Tests/Reference/fake_hub.py serving the fixture
// checkpoint): the folder arrives verified and loads as a job's `pretrained:` checkpoint, a cut `.part` resumes
// with a ranged request, a wrong advertised hash writes nothing, and an unreachable hub is a clear error.
import Experiment
import Foundation
import Testing
import TestSupport

@Suite(.serialized, .enabled(if: Smaller.available && FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"),
                             "needs the built `smaller` and /usr/bin/python3 (standard library only) for the fake hub"))
struct ModelFetchTests {
    static let checkpoint = Fixtures.referenceFixtures.appendingPathComponent("checkpoint/pytorch")

    func hub(_ dir: URL, port: Int, wrongSHA: Bool = false) throws -> Child {
        let script = Fixtures.repositoryRoot.appendingPathComponent("Tests/Reference/fake_hub.py").path
        let hub = try Child([script, Self.checkpoint.path, "test/tiny", String(port)] + (wrongSHA ? ["--wrong-sha"] : []),
                            in: dir, name: "hub\(port)", executable: "/usr/bin/python3")
        // Ready when the port accepts a request: the first fetch below retries nothing, so wait here.
        #expect(waitUntil(seconds: 20) { (try? Data(contentsOf: URL(string: "http://127.0.0.1:\(port)/api/models/test/tiny")!)) != nil })
        return hub
    }

    func fetch(_ dir: URL, port: Int, to target: URL) throws -> (status: Int32?, text: String) {
        let child = try Child(["model", "fetch", "test/tiny", "--to", target.path, "--endpoint", "http://127.0.0.1:\(port)"],
                              in: dir, name: "fetch")
        let status = child.wait(seconds: 60, "smaller model fetch")
        return (status, child.text)
    }

    @Test func fetchesVerifiedResumesAndLoadsAsAPretrainedCheckpoint() throws {
        let dir = try Fixtures.temporaryDirectory("model-fetch")
        defer { try? FileManager.default.removeItem(at: dir) }
        let port = freePort()
        let hub = try hub(dir, port: port)
        defer { hub.kill9() }
        let target = dir.appendingPathComponent("tiny")
        var (status, text) = try fetch(dir, port: port, to: target)
        #expect(status == 0, "\(text.suffix(2000))")
        for name in ["config.json", "pytorch_model.bin", "sentencepiece.bpe.model"] {
            #expect(try Data(contentsOf: target.appendingPathComponent(name)) == Data(contentsOf: Self.checkpoint.appendingPathComponent(name)))
        }
        #expect(text.contains("100%"), "progress bar: \(text.suffix(2000))")
        // The fetched folder is a job's checkpoint with the fixture's content hash.
        let job = "name: f\npretrained: {checkpoint: \(target.path)}\nseeds: [1]\nlanguages: [syn-ton]\n"
        #expect(try JobSpec.parse(yaml: job).pretrained?["sha256"] == JobSpec.parse(yaml: job.replacingOccurrences(
            of: target.path, with: Self.checkpoint.path)).pretrained?["sha256"])
        // Cut: the weights replaced by their first 10,000 bytes as a .part; the fetch asks for the rest only.
        let weights = target.appendingPathComponent("pytorch_model.bin")
        try Data(contentsOf: weights).prefix(10_000).write(to: target.appendingPathComponent("pytorch_model.bin.part"))
        try FileManager.default.removeItem(at: weights)
        (status, text) = try fetch(dir, port: port, to: target)
        #expect(status == 0, "\(text.suffix(2000))")
        #expect(try Data(contentsOf: weights) == Data(contentsOf: Self.checkpoint.appendingPathComponent("pytorch_model.bin")))
        #expect(hub.text.contains("/test/tiny/resolve/main/pytorch_model.bin bytes=10000-"), "\(hub.text.suffix(2000))")
    }

    @Test func aWrongHashWritesNothingAndNoHubIsAClearError() throws {
        let dir = try Fixtures.temporaryDirectory("model-fetch-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        let port = freePort()
        let hub = try hub(dir, port: port, wrongSHA: true)
        let target = dir.appendingPathComponent("tiny")
        var (status, text) = try fetch(dir, port: port, to: target)
        #expect(status == 1 && text.contains("sha256 mismatch"), "\(text.suffix(2000))")
        #expect(!FileManager.default.fileExists(atPath: target.appendingPathComponent("pytorch_model.bin").path))
        hub.kill9()
        (status, text) = try fetch(dir, port: port, to: target)
        #expect(status == 1 && text.contains("no internet access"), "\(text.suffix(2000))")
    }
}
