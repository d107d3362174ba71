// The engine's seeded RNG: xoshiro256** seeded through SplitMix64, with uniform and normal sampling.
// The same seed gives the same stream on every machine (no dependence on the system RNG).

package struct Xoshiro256: Sendable {
    private var s0, s1, s2, s3: UInt64
    private var spareNormal: Float? = nil

    package init(seed: UInt64) {
        s0 = Self.splitMix64(seed, step: 1); s1 = Self.splitMix64(seed, step: 2)
        s2 = Self.splitMix64(seed, step: 3); s3 = Self.splitMix64(seed, step: 4)
    }

    /// SplitMix64's output number `step` from state `seed`: well-spread values for consecutive steps (its state
    /// advances by the golden ratio, its finaliser mixes the bits).
    package static func splitMix64(_ seed: UInt64, step: UInt64) -> UInt64 {
        var z = seed &+ step &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always) package mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform in [0, 1) with 24 bits of precision.
    @inline(__always) package mutating func uniform() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    /// Uniform integer in 0..<bound (bound > 0), without modulo bias.
    package mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0, "below: bound must be positive")
        let b = UInt64(bound)
        let threshold = (0 &- b) % b
        while true {
            let r = next()
            if r >= threshold { return Int(r % b) }
        }
    }

    /// Standard normal sample (Box–Muller, both values used).
    package mutating func normal() -> Float {
        if let z = spareNormal { spareNormal = nil; return z }
        var u1: Double = 0
        repeat { u1 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0) } while u1 <= 0
        let u2 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        let r = (-2 * _log(u1)).squareRoot()
        spareNormal = Float(r * _sin(2 * Double.pi * u2))
        return Float(r * _cos(2 * Double.pi * u2))
    }

    /// Fills `x` with N(0, std²).
    package mutating func fillNormal(_ x: UnsafeMutableBufferPointer<Float>, std: Float) {
        for i in x.indices { x[i] = normal() * std }
    }

    /// Fisher–Yates shuffle.
    package mutating func shuffle<T>(_ a: inout [T]) {
        guard a.count > 1 else { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) { a.swapAt(i, below(i + 1)) }
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func _log(_ x: Double) -> Double { Glibc.log(x) }
@inline(__always) func _sin(_ x: Double) -> Double { Glibc.sin(x) }
@inline(__always) func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#else
import Darwin
@inline(__always) func _log(_ x: Double) -> Double { Darwin.log(x) }
@inline(__always) func _sin(_ x: Double) -> Double { Darwin.sin(x) }
@inline(__always) func _cos(_ x: Double) -> Double { Darwin.cos(x) }
#endif
