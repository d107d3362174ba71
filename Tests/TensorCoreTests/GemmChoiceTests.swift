// The measured choice between CGemm and oneDNN: forcing, the measurement, and the per-machine file (round trip,
// a corrupt or foreign file ignored with a warning, another process's choice winning). Files go to a temp dir.
import Foundation
import Synchronization
import Testing
import TestSupport
@testable import TensorCore

@Suite(.serialized) struct GemmChoiceTests {
    final class Warnings: Sendable {
        let lines = Mutex<[String]>([])
        func add(_ s: String) { lines.withLock { $0.append(s) } }
        var count: Int { lines.withLock { $0.count } }
    }

    static func tempFile() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("gemm-choice-\(UInt64.random(in: 0...UInt64.max))/choice.json")
    }

    static let measured = GemmMeasurement(kernel: .oneDNN, ownGFlops: 80.5, oneDNNGFlops: 150.25, shape: "4096×256×1024")

    @Test func forcedPoliciesIgnoreTheTable() {
        #expect(GemmPolicy(parsing: "onednn") == .oneDNN && GemmPolicy(parsing: "AUTO") == .auto && GemmPolicy(parsing: "x") == nil)
        // An empty chooser with no store: a forced policy never asks it (it stays empty), auto below the
        // measured size neither.
        let chooser = GemmChooser(store: nil)
        #expect(GemmChoice.kernel(policy: .oneDNN, chooser: chooser, .none, .none, m: 512, n: 512, k: 512, threads: 1) == .oneDNN)
        #expect(GemmChoice.kernel(policy: .own, chooser: chooser, .none, .none, m: 512, n: 512, k: 512, threads: 1)
                == (GemmKernel.ownAvailable ? .own : .oneDNN))
        #expect(GemmChoice.kernel(policy: .auto, chooser: chooser, .none, .none, m: 8, n: 8, k: 8, threads: 1)
                == (GemmKernel.ownAvailable ? .own : .oneDNN))
        #expect(chooser.choices.isEmpty)
    }

    @Test func shapeClassesBucketByPowersOfTwo() {
        let a = GemmShapeClass(.none, .transposed, m: 3000, n: 256, k: 257, threads: 2)
        #expect(a.m == 4096 && a.n == 256 && a.k == 512)
        #expect(a == GemmShapeClass(.none, .transposed, m: 4096, n: 129, k: 300, threads: 2))
        #expect(a != GemmShapeClass(.none, .transposed, m: 4096, n: 256, k: 512, threads: 1))
    }

    @Test func theMeasurementKeepsOneDNNOnlyWithTheMargin() {
        let m = GemmChoice.measure(.none, .transposed, m: 64, n: 96, k: 80, threads: 1)
        #expect(m.ownGFlops > 0 && m.oneDNNGFlops > 0 && m.shape == "64×96×80")
        #expect(m.kernel == (m.oneDNNGFlops >= m.ownGFlops * GemmChoice.margin ? .oneDNN : .own))
    }

    @Test func autoMeasuresOnceAndPersists() throws {
        guard GemmKernel.ownAvailable else { return }
        let url = Self.tempFile(), warnings = Warnings()
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        // Not the process's chooser: tests running beside this one keep their kernel.
        let store = GemmChoiceStore(url: url, warn: warnings.add)
        let chooser = GemmChooser(store: store)
        let first = GemmChoice.kernel(policy: .auto, chooser: chooser, .transposed, .none, m: 48, n: 40, k: 36, threads: 1)
        let stored = store.load()
        #expect(stored.count == 1 && stored.first?.value.kernel == first && stored.first?.key.name == "TN ≤64×64×64 t1")
        // A shape of the same class is not measured again.
        #expect(GemmChoice.kernel(policy: .auto, chooser: chooser, .transposed, .none, m: 64, n: 33, k: 40, threads: 1) == first)
        #expect(chooser.choices.count == 1)
        // A new process starts with the file's choice: nothing to measure.
        let next = GemmChooser(store: GemmChoiceStore(url: url, warn: warnings.add))
        #expect(next.choices.count == 1 && next.choices.first?.1 == stored.first?.value)
        #expect(GemmChoice.kernel(policy: .auto, chooser: next, .transposed, .none, m: 48, n: 40, k: 36, threads: 1) == first)
        #expect(warnings.count == 0)
    }

    @Test func theFileRoundTrips() {
        let url = Self.tempFile(), warnings = Warnings()
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        let store = GemmChoiceStore(url: url, warn: warnings.add)
        #expect(store.load().isEmpty)
        let c1 = GemmShapeClass(.none, .none, m: 4096, n: 256, k: 1024, threads: 2), c2 = GemmShapeClass(.transposed, .none, m: 1024, n: 256, k: 4096, threads: 2)
        var other = Self.measured; other.kernel = .own
        store.save([c1: Self.measured, c2: other])
        let back = GemmChoiceStore(url: url, warn: warnings.add).load()
        #expect(back == [c1: Self.measured, c2: other])
        // Another process's entry wins over a new measurement of the same class.
        var late = Self.measured; late.kernel = .own; late.oneDNNGFlops = 1
        #expect(store.add(c1, late) == Self.measured)
        #expect(warnings.count == 0)
    }

    /// Not JSON, JSON of another shape, over the size limit, empty.
    static let corrupt = ["{ not json", "{\"version\": 1, \"machine\": 3}", String(repeating: "x", count: GemmChoiceStore.maxBytes + 1), ""]

    @Test(arguments: 0..<4)
    func aCorruptFileIsIgnoredWithAWarning(index: Int) throws {
        let text = Self.corrupt[index]
        let url = Self.tempFile(), warnings = Warnings()
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
        let store = GemmChoiceStore(url: url, warn: warnings.add)
        #expect(store.load().isEmpty)
        #expect(warnings.count == 1)
        // The next measurement replaces it with a readable file.
        let c = GemmShapeClass(.none, .none, m: 64, n: 64, k: 64, threads: 1)
        #expect(store.add(c, Self.measured) == Self.measured)
        #expect(GemmChoiceStore(url: url, warn: warnings.add).load() == [c: Self.measured])
    }

    @Test func aForeignOrMalformedFileIsNotTrusted() throws {
        let url = Self.tempFile(), warnings = Warnings()
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        let store = GemmChoiceStore(url: url, warn: warnings.add)
        let c = GemmShapeClass(.none, .none, m: 64, n: 64, k: 64, threads: 1)
        store.save([c: Self.measured])
        let text = try String(contentsOf: url, encoding: .utf8)
        try Data(text.replacingOccurrences(of: ComputeInfo.oneDNNVersion, with: "0.0.1").utf8).write(to: url)
        #expect(store.load().isEmpty && warnings.count == 1)
        // An entry whose bucket is not a power of two is dropped, the rest kept.
        try Data(text.replacingOccurrences(of: "\"m\" : 64", with: "\"m\" : 63").utf8).write(to: url)
        #expect(store.load().isEmpty && warnings.count == 2)
    }
}
