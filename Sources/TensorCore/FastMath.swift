// Vectorised exp and the normal CDF (for exact-form GELU) on SIMD8<Float>, so the elementwise kernels
// vectorise; the scalar libm calls (expf, erff) do not. References: Kernels.geluReference and libm in tests.

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

/// Φ(x) = P(N(0,1) ≤ x) = ½·erfc(−x/√2), from Abramowitz–Stegun 7.1.26 for erfc on |x|/√2
/// (absolute error ≤ 1.5e-7, and relative accuracy in the lower tail where Φ is tiny).
/// Also returns the density φ(x) = exp(−x²/2)/√(2π), which GELU's backward needs.
@inline(__always)
package func simdNormalCDF(_ x: SIMD8<Float>) -> (cdf: SIMD8<Float>, pdf: SIMD8<Float>) {
    let z = x.replacing(with: -x, where: x .< 0) * 0.70710678118654752440
    let t = 1 / (z * 0.3275911 + 1)
    var poly = SIMD8<Float>(repeating: 1.061405429)
    poly = poly * t - 1.453152027
    poly = poly * t + 1.421413741
    poly = poly * t - 0.284496736
    poly = poly * t + 0.254829592
    poly = poly * t
    let e = simdExp(-(z * z))
    let tail = poly * e * 0.5                 // ½·erfc(|x|/√2) = Φ(−|x|)
    let cdf = tail.replacing(with: 1 - tail, where: x .> 0)
    return (cdf, e * 0.39894228040143267794)
}
