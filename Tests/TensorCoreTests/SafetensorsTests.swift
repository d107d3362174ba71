// safetensors: round trip, a file written by the Python library, and every corruption giving a clear error.
import Foundation
import Testing
import TestSupport
@testable import TensorCore

@Suite struct SafetensorsTests {
    func sample() -> Data {
        let a: [Float] = [1, -2, 3.5, 0], b: [Float] = [7, 8, 9]
        return a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in
            Safetensors.serialize([(name: "a", shape: [2, 2], values: ap), (name: "b.x", shape: [3], values: bp)],
                                  metadata: ["format": "pt"])
        } }
    }

    @Test func roundTrip() throws {
        let parsed = try Safetensors.parse(sample(), file: "mem")
        #expect(parsed.metadata == ["format": "pt"])
        #expect(parsed.tensors["a"]?.shape == [2, 2] && parsed.tensors["a"]?.floats() == [1, -2, 3.5, 0])
        #expect(parsed.tensors["b.x"]?.floats() == [7, 8, 9])
    }

    @Test func readsTheReferenceLibrarysFiles() throws {
        // Written by safetensors.torch.save_file (Tests/Reference/make_golden.py).
        let url = Fixtures.referenceFixtures.appendingPathComponent("golden_mlm/model.safetensors")
        let t = try Safetensors.read(url).tensors
        #expect(t["roberta.embeddings.word_embeddings.weight"]?.shape == [40, 16])
        #expect(t["roberta.embeddings.LayerNorm.weight"]?.dtype == .F32)
    }

    @Test func everyTruncationIsAnErrorNotACrash() {
        let data = sample()
        for length in 0..<data.count {
            #expect(throws: SafetensorsError.self, "truncated to \(length) bytes") {
                try Safetensors.parse(data.prefix(length), file: "cut.safetensors")
            }
        }
    }

    func withHeader(_ json: String, dataBytes: Int) -> Data {
        var out = Data()
        var n = UInt64(json.utf8.count).littleEndian
        withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
        out.append(contentsOf: Array(json.utf8))
        out.append(Data(count: dataBytes))
        return out
    }

    @Test(arguments: [
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", "overlap"),
        ("{\"a\":{\"dtype\":\"Q7\",\"shape\":[2],\"data_offsets\":[0,8]}}", "unknown dtype"),
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", "needs 12"),
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", "outside"),
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,8]}}", "invalid shape"),
        ("not json", "not a JSON object"),
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", "data_offsets"),
    ])
    func corruptHeadersNameTheProblem(json: String, problem: String) {
        do {
            _ = try Safetensors.parse(withHeader(json, dataBytes: 12), file: "bad.safetensors")
            Issue.record("expected an error for \(problem)")
        } catch let error as SafetensorsError {
            #expect(error.file == "bad.safetensors")
            #expect(error.description.contains(problem), "\(error)")
        } catch { Issue.record("unexpected error \(error)") }
    }

    @Test func hugeHeaderLengthIsRefused() {
        var data = Data([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F])
        data.append(contentsOf: [UInt8](repeating: 0, count: 16))
        #expect(throws: SafetensorsError.self) { try Safetensors.parse(data, file: "x") }
    }

    @Test func missingFileNamesIt() {
        do { _ = try Safetensors.read(URL(fileURLWithPath: "/nonexistent/m.safetensors")); Issue.record("no error") }
        catch let e as SafetensorsError { #expect(e.description.contains("/nonexistent/m.safetensors")) }
        catch { Issue.record("\(error)") }
    }
}
