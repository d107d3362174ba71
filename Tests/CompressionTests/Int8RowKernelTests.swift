// The int8 row passes in CKernels (range, codes, dequantization) against the Swift reference `Int8Math.Reference`,
// bit for bit, through every code path this processor runs (portable C, AVX2, AVX-512F), on odd lengths (every
// path's tail), ±0, huge and infinite values, clipping ranges, and accumulators that wrap.
import Testing
import TestSupport
@testable import TensorCore
@testable import Compression

@Suite struct Int8RowKernelTests {
    static let lengths = [1, 3, 7, 8, 15, 16, 17, 31, 33, 64, 100, 255, 768, 3075]
    static var paths: [Int32] { Array(0...CKernelPath.best) }

    /// A row mixing ordinary values with the edge cases: ±0, values near the float range's ends, ±∞ (no NaN).
    static func row(_ n: Int, seed: UInt64) -> [Float] {
        var r = TestRandom(seed: seed)
        let scale: Float = [1, 3, 1e-30, 1e30][Int(seed % 4)]
        return (0..<n).map { _ in
            switch r.below(40) {
            case 0: -0.0
            case 1: 0
            case 2: .greatestFiniteMagnitude * (r.uniform() < 0 ? -1 : 1)
            case 3 where seed % 5 == 0: r.uniform() < 0 ? -.infinity : .infinity
            case 4: .leastNonzeroMagnitude
            default: r.uniform() * scale
            }
        }
    }

    static func bits(_ a: ActivationQuantization) -> (UInt32, Int32) { (a.scale.bitPattern, a.zero) }

    /// `body(x, n, seed)` for 8 rows of every length, seeded from `base`.
    static func forEachRow(base: Int, _ body: ([Float], Int, Int) -> Void) {
        for (i, n) in lengths.enumerated() { for seed in 0..<8 { body(row(n, seed: UInt64(base * i + seed)), n, seed) } }
    }

    @Test(arguments: paths)
    func rangesEqualTheReference(path: Int32) {
        Self.forEachRow(base: 100) { x, n, seed in
            let (lo, hi) = Int8Rows.range(x, n, path: path)
            let want = x.withUnsafeBufferPointer { Int8Math.Reference.rowRange($0.baseAddress!, n) }
            // The bounds themselves: the exact min and max with 0, never -0.
            #expect(lo == min(0, x.min()!) && !(lo == 0 && lo.sign == .minus), "path \(path), n \(n)")
            #expect(hi == max(0, x.max()!) && hi.sign == .plus, "path \(path), n \(n)")
            #expect(Self.bits(ActivationQuantization(lo: lo, hi: hi)) == Self.bits(want), "path \(path), n \(n), seed \(seed)")
        }
    }

    @Test(arguments: paths)
    func codesEqualTheReference(path: Int32) {
        Self.forEachRow(base: 200) { x, n, seed in
            x.withUnsafeBufferPointer { xp in
                // The row's own range (dynamic), a range that clips it (static), and a tiny scale that saturates.
                for a in [Int8Math.Reference.rowRange(xp.baseAddress!, n), ActivationQuantization(lo: -0.3, hi: 0.45),
                          ActivationQuantization(scale: 1e-38, zero: 64), ActivationQuantization(scale: 3e38, zero: 127)] {
                    var got = [UInt8](repeating: 255, count: n), want = got
                    Int8Rows.quantize(xp.baseAddress!, n, scale: a.scale, zero: Float(a.zero), top: Float(int8ActivationMax),
                                      into: &got, path: path)
                    Int8Math.Reference.quantizeRow(xp.baseAddress!, n, a, into: &want)
                    #expect(got == want, "path \(path), n \(n), seed \(seed), \(a)")
                    #expect(got.allSatisfy { $0 <= UInt8(int8ActivationMax) })
                }
            }
        }
    }

    /// LLM.int8()'s outlier search: each column's largest |x| over the rows, against the loop it replaced
    /// (`v > m ? v : m` over |x|), with NaN in some rows (skipped) and every path's tail.
    @Test(arguments: paths)
    func columnMaximaEqualTheReference(path: Int32) {
        for k in Self.lengths where k <= 768 {
            for rows in [1, 5, 17] {
                var x = (0..<rows).flatMap { Self.row(k, seed: UInt64(rows * 1000 + k + $0)) }
                if rows > 1 { x[k + k / 2] = .nan; x[0] = .nan }
                var want = [Float](repeating: 0, count: k)
                for i in 0..<rows { for c in 0..<k { let v = abs(x[i * k + c]); want[c] = v > want[c] ? v : want[c] } }
                var got = [Float](repeating: 0, count: k)
                Int8Rows.columnAbsMax(x, rows: rows, k, into: &got, path: path)
                #expect(got.map(\.bitPattern) == want.map(\.bitPattern), "path \(path), \(rows) × \(k)")
            }
        }
    }

    @Test(arguments: paths)
    func dequantizationEqualsTheReference(path: Int32) {
        var r = TestRandom(seed: 7)
        for n in Self.lengths {
            for round in 0..<6 {
                // Accumulators over the whole Int32 range in some rounds, so acc − z · rowSum wraps as in Swift's &- and &*.
                let wide = round % 2 == 0
                let acc = (0..<n).map { _ in Int32(truncatingIfNeeded: wide ? Int(r.next() >> 32) : r.below(2_000_001) - 1_000_000) }
                let rowSum = (0..<n).map { _ in Int32(truncatingIfNeeded: wide ? Int(r.next() >> 32) : r.below(200_001) - 100_000) }
                let wScale = (0..<n).map { _ in abs(r.uniform()) * 1e-2 }, bias = (0..<n).map { _ in r.uniform() * [1, 1e30, 0][round % 3] }
                let a = ActivationQuantization(scale: abs(r.uniform()) * [1e-3, 1, 1e35][round % 3] + .leastNormalMagnitude,
                                               zero: Int32(r.below(Int(int8ActivationMax) + 1)))
                var got = [Float](repeating: .nan, count: n), want = got
                Int8Rows.dequantize(acc, n, zero: a.zero, sx: a.scale, wScale: wScale, rowSum: rowSum, bias: bias, into: &got, path: path)
                Int8Math.Reference.dequantizeRow(acc, a, outFeatures: n, wScale: wScale, rowSum: rowSum, bias: bias, into: &want)
                #expect(got.map(\.bitPattern) == want.map(\.bitPattern), "path \(path), n \(n), round \(round)")
            }
        }
    }
}

/// LLM.int8()'s int8 part reads x itself with the outlier columns taken as 0: bit for bit the same as quantizing a
/// copy of x with those columns zeroed (what it did before), for adjacent columns and the first and last.
@Suite struct Int8ZeroingTests {
    @Test(arguments: [1, 2])
    func zeroingColumnsEqualsAZeroedCopy(parts: Int) {
        let rows = 130, k = 96, n = 300
        let weights = Int8Weights(weight: QuantizationKernelTests.random(n * k, seed: 41), outFeatures: n, inFeatures: k)
        let x = QuantizationKernelTests.random(rows * k, seed: 42, scale: 5)
        for cols in [[0], [3, 4, 5, 60], [95], [0, 1, 94, 95]] {
            var zeroed = x
            for i in 0..<rows { for c in cols { zeroed[i * k + c] = 0 } }
            for activations in [nil, ActivationQuantization(lo: -2, hi: 2.5)] {
                let kernel = Int8Linear(weights: weights, bias: QuantizationKernelTests.random(n, seed: 43), activations: activations)
                kernel.parts = parts
                var got = [Float](repeating: .nan, count: rows * n)
                x.withUnsafeBufferPointer { kernel.apply($0.baseAddress!, rows: rows, into: &got, gelu: false, zeroing: cols) }
                let want = QuantizationKernelTests.apply(kernel, zeroed, rows: rows)
                #expect(got.map(\.bitPattern) == want.map(\.bitPattern), "columns \(cols), parts \(parts), \(String(describing: activations))")
            }
        }
    }
}
