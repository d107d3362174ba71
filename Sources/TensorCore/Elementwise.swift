// Elementwise kernels over raw pointers: add, scale, GELU (exact erf) forward/backward, dropout.
// Plain loops over unsafe pointers: with -O the compiler vectorises them (AVX2 here).
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

package enum Kernels {
    /// out[i] = a[i] + b[i]. `out` may alias `a` or `b`.
    @inline(__always)
    package static func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { out[i] = a[i] + b[i] }
    }

    /// y[i] += x[i].
    @inline(__always)
    package static func accumulate(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { y[i] += x[i] }
    }

    /// x[i] *= s.
    @inline(__always)
    package static func scale(_ x: UnsafeMutablePointer<Float>, _ s: Float, _ n: Int) {
        for i in 0..<n { x[i] *= s }
    }

    /// Adds the row vector `bias` (C) to every row of `x` (N, C).
    package static func addBias(_ x: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>, rows: Int, cols: Int) {
        for r in 0..<rows {
            let row = x + r * cols
            for c in 0..<cols { row[c] += bias[c] }
        }
    }

    /// dbias (C) += sum over rows of dy (N, C).
    package static func biasBackward(_ dy: UnsafePointer<Float>, _ dbias: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        for r in 0..<rows {
            let row = dy + r * cols
            for c in 0..<cols { dbias[c] += row[c] }
        }
    }

    // MARK: GELU, exact: 0.5 · x · (1 + erf(x / √2)), as torch's default and transformers' "gelu".

    package static func geluForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        let invSqrt2: Float = 0.70710678118654752440
        for i in 0..<n {
            let v = x[i]
            y[i] = 0.5 * v * (1 + erff(v * invSqrt2))
        }
    }

    /// dx[i] = dy[i] · gelu'(x[i]); gelu'(x) = Φ(x) + x · φ(x). `dx` may alias `dy`.
    package static func geluBackward(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ n: Int) {
        let invSqrt2: Float = 0.70710678118654752440
        let invSqrt2Pi: Float = 0.39894228040143267794
        for i in 0..<n {
            let v = x[i]
            let cdf = 0.5 * (1 + erff(v * invSqrt2))
            let pdf = invSqrt2Pi * expf(-0.5 * v * v)
            dx[i] = dy[i] * (cdf + v * pdf)
        }
    }

    /// The plain reference GELU in Double, a test oracle.
    package static func geluReference(_ x: Double) -> Double { 0.5 * x * (1 + erf(x / 2.0.squareRoot())) }

    // MARK: Dropout (inverted): mask[i] = 0 with probability p, else 1/(1-p); y = x · mask.

    /// Draws a dropout mask; with p == 0 every entry is 1.
    package static func dropoutMask(_ mask: UnsafeMutablePointer<Float>, _ n: Int, p: Float, rng: inout Xoshiro256) {
        precondition(p >= 0 && p < 1, "dropout probability must be in [0, 1)")
        if p == 0 { mask.update(repeating: 1, count: n); return }
        let keep = 1 / (1 - p)
        for i in 0..<n { mask[i] = rng.uniform() < p ? 0 : keep }
    }

    /// y[i] = x[i] · mask[i] (forward) or dx[i] = dy[i] · mask[i] (backward). `out` may alias `x`.
    @inline(__always)
    package static func multiply(_ x: UnsafePointer<Float>, _ mask: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { out[i] = x[i] * mask[i] }
    }

    /// Σ x[i]², accumulated in Double.
    package static func sumOfSquares(_ x: UnsafePointer<Float>, _ n: Int) -> Double {
        var acc: Double = 0
        var i = 0
        // Float partial sums in blocks keep the loop vectorised; blocks are summed in Double.
        while i < n {
            let end = min(i + 4096, n)
            var part: Float = 0
            for j in i..<end { part += x[j] * x[j] }
            acc += Double(part)
            i = end
        }
        return acc
    }
}
