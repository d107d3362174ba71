// TestSupport: named tolerances, deterministic test data and the location of fixtures and shared data.
import Foundation

/// Tolerances are named so a failing test says which budget it broke, never a bare literal.
public enum Tolerance {
    /// fp32 GEMM against a float64-accumulated reference, relative to the magnitude of the result.
    public static let gemmRelative: Float = 1e-5
}

/// Where the repository and the read-only shared data sit, found from this file's path.
public enum Fixtures {
    /// The repository root (the folder holding Package.swift).
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Committed fixtures for tests, under Tests/Reference/fixtures.
    public static let referenceFixtures = repositoryRoot.appendingPathComponent("Tests/Reference/fixtures")

    /// `../shared/data` beside the checkout, when present (it is CC BY-NC data and never committed).
    public static var sharedData: URL? {
        let url = repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/data")
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            return nil
        }
        return url
    }

    /// A fresh temporary directory, removed by the caller when done.
    public static func temporaryDirectory(_ name: String = "smaller-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// A tiny deterministic generator (SplitMix64) for test inputs, independent of the engine's own RNG.
public struct TestRandom {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    public mutating func uniform() -> Float { Float(next() >> 40) / Float(1 << 23) - 1 }

    public mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}
