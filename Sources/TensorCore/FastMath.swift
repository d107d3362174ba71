// Vectorised exp on SIMD8<Float>, so softmax vectorises (the scalar libm expf does not), and the stated error of
// GELU's normal CDF, which CKernels computes (AVX-512 or AVX2 code needs target flags Swift code does not get).

/// e^x, Cephes-style: x = n·ln2 + r, a degree-6 polynomial for e^r, then scale by 2^n through the exponent
/// bits. Relative error about 2e-7 over the float range; inputs below −87.3 give exactly 0 (masked scores).
@inline(__always)
package func simdExp(_ input: SIMD8<Float>) -> SIMD8<Float> {
    // Clamp with compares (SIMD clamped/rounded are not inlined here and call libm per lane).
    var x = input.replacing(with: -87.3, where: input .< -87.3)
    x = x.replacing(with: 88.7, where: x .> 88.7)
    // Round to nearest: adding and subtracting 1.5·2^23 leaves the nearest integer (|x·log2e| < 2^22).
    let magic = SIMD8<Float>(repeating: 12_582_912.0)
    let n = (x * 1.44269504088896341 + magic) - magic
    var r = x - n * 0.693359375
    r = r + n * 2.12194440e-4
    var p = SIMD8<Float>(repeating: 1.9875691500e-4)
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    p = p * (r * r) + r + 1
    // n is integral and |n| < 2^22: adding 1.5·2^23 puts it in the low mantissa bits (a cheap float→int).
    let shifted = unsafeBitCast(n + 12_582_912.0, to: SIMD8<Int32>.self) &- 0x4B40_0000
    let scale = unsafeBitCast((shifted &+ 127) &<< 23, to: SIMD8<Float>.self)
    return (p * scale).replacing(with: 0, where: input .< -87.3)
}

/// The error of GELU's Φ and φ (CKernels/gelu.c, every code path) in Float over every input, as stated there and
/// checked by TensorCoreTests/GeluTests against erfc and exp in Double.
package enum GeluErrorBound {
    /// |Φ̃(x) − Φ(x)| for every x.
    package static let cdfAbsolute: Float = 2.5e-7
    /// |Φ̃(x) − Φ(x)| / Φ(x) wherever Φ(x) is a normal float (x ≥ −13; below, 0 is returned).
    package static let cdfRelative: Float = 6e-7
    /// |φ̃(x) − φ(x)| / φ(x) wherever φ(x) is a normal float.
    package static let pdfRelative: Float = 3e-7
}
