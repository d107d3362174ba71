// GELU's Φ and φ (CKernels/gelu.c) against erfc and exp in Double over a dense grid and the extremes, on every code
// path this processor can run (AVX-512, AVX2 + FMA, portable C), and the paths against each other.
import CKernels
import Foundation
import Testing
@testable import TensorCore

@Suite struct GeluTests {
    /// Every float step of 1e-5 over [−20, 20] (beyond, Φ is 0 or 1 in Float), then the extremes.
    static let inputs: [Float] = {
        var xs = stride(from: -20.0, through: 20.0, by: 1e-5).map { Float($0) }
        xs += [0, -0, .leastNormalMagnitude, -.leastNormalMagnitude, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
               .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .infinity, -.infinity, 100, -100, 1e30, -1e30,
               -12.9, -13, -13.1, -13.2, 5.8, 5.9]
        return xs
    }()

    static func exactCDF(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }
    static func exactPDF(_ x: Double) -> Double { exp(-x * x / 2) / (2 * Double.pi).squareRoot() }

    @Test(arguments: 0...2) func normalCDFAndPDFWithinTheStatedBound(path: Int32) {
        guard path <= ck_best_path() else { return }
        let xs = Self.inputs, n = xs.count
        var cdf = [Float](repeating: .nan, count: n), pdf = cdf
        ck_normal_cdf_pdf(path, xs, &cdf, &pdf, n)
        var worst = (absolute: 0.0, relative: 0.0, pdfRelative: 0.0)
        let normal = Double(Float.leastNormalMagnitude)
        for i in 0..<n {
            let x = Double(xs[i]), c = Self.exactCDF(x), p = Self.exactPDF(x)
            let e = abs(Double(cdf[i]) - c)
            worst.absolute = max(worst.absolute, e)
            if c >= normal { worst.relative = max(worst.relative, e / c) }
            if p >= normal { worst.pdfRelative = max(worst.pdfRelative, abs(Double(pdf[i]) - p) / p) }
            #expect(cdf[i] >= 0 && cdf[i] <= 1 && pdf[i] >= 0, "Φ/φ out of range at \(xs[i]): \(cdf[i]), \(pdf[i])")
        }
        print("GELU path \(path): |ΔΦ| \(worst.absolute), ΔΦ/Φ \(worst.relative), Δφ/φ \(worst.pdfRelative)")
        #expect(worst.absolute <= Double(GeluErrorBound.cdfAbsolute))
        #expect(worst.relative <= Double(GeluErrorBound.cdfRelative))
        #expect(worst.pdfRelative <= Double(GeluErrorBound.pdfRelative))
    }

    /// Forward and backward through `Kernels` (threads and block splits included) within the bounds Φ's and φ's
    /// errors imply, and GELU(−∞) NaN, GELU(+∞) = +∞, GELU(x) = x where Φ rounds to 1.
    @Test func forwardAndBackwardWithinTheImpliedBound() {
        let xs = Self.inputs, n = xs.count
        var y = [Float](repeating: .nan, count: n), dx = y
        let ones = [Float](repeating: 1, count: n)
        Kernels.geluForward(xs, &y, n, threads: 2)
        Kernels.geluBackward(xs, ones, &dx, n, threads: 2)
        for i in 0..<n where xs[i].isFinite {
            let x = Double(xs[i]), c = Self.exactCDF(x), p = Self.exactPDF(x)
            // x·Φ(x) with Φ off by its bound, plus the product's rounding (to a subnormal's spacing near 0).
            let bound = abs(x) * Double(GeluErrorBound.cdfAbsolute) + abs(x * c) * 0x1p-23 + Double(Float.leastNonzeroMagnitude)
            #expect(abs(Double(y[i]) - x * c) <= bound, "gelu(\(xs[i])) = \(y[i]), exact \(x * c)")
            let dBound = Double(GeluErrorBound.cdfAbsolute) + abs(x) * p * Double(GeluErrorBound.pdfRelative) + abs(c + x * p) * 0x1p-23
            #expect(abs(Double(dx[i]) - (c + x * p)) <= dBound, "gelu'(\(xs[i])) = \(dx[i]), exact \(c + x * p)")
        }
        #expect(y[n - 11].isNaN && y[n - 12] == .infinity)   // −∞, +∞
        #expect(y[n - 1] == 5.9 && y[n - 2] == 5.8)
    }

    /// The vector paths compute the same function as the portable one, to the last bit or within a few ulps.
    @Test func pathsAgree() {
        let xs = Array(Self.inputs.prefix(200_003)), n = xs.count   // an odd count: every path's tail runs
        var reference = [Float](repeating: 0, count: n), other = reference
        let dy = xs.map { Float(1) + $0 * 0.01 }
        ck_gelu_forward(0, xs, &reference, n)
        for path in Int32(1)...max(1, ck_best_path()) where path <= ck_best_path() {
            ck_gelu_forward(path, xs, &other, n)
            #expect(zip(reference, other).allSatisfy { abs($0 - $1) <= 4 * $0.ulp }, "forward, path \(path)")
            ck_gelu_backward(0, xs, dy, &reference, n)
            ck_gelu_backward(path, xs, dy, &other, n)
            #expect(zip(reference, other).allSatisfy { abs($0 - $1) <= 4 * max($0.ulp, Float.leastNormalMagnitude) }, "backward, path \(path)")
            ck_gelu_forward(0, xs, &reference, n)
        }
    }
}
