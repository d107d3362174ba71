// CKernels' softmax (softmax.c) on every code path this processor has (AVX-512F, AVX2, portable C) against the Swift
// reference it replaced (`Kernels.softmaxReference`): the same bits for every row, including widths that are not
// multiples of 8 or 16, masked scores, rows of one value, infinities and NaN.
import CKernels
import Testing
import TestSupport
@testable import TensorCore

@Suite struct SoftmaxKernelTests {
    static func check(_ x: [Float], rows: Int, cols: Int, _ what: String) {
        var reference = [Float](repeating: .nan, count: rows * cols)
        x.withUnsafeBufferPointer { xp in reference.withUnsafeMutableBufferPointer { rp in
            Kernels.softmaxReference(xp.baseAddress!, rp.baseAddress!, cols: cols, rows: 0..<rows)
        } }
        for path in 0...CKernelPath.best {
            var y = [Float](repeating: .nan, count: rows * cols)
            ck_softmax_rows(path, x, &y, rows, cols)
            #expect(y.map(\.bitPattern) == reference.map(\.bitPattern), "\(what), path \(path), \(rows)×\(cols)")
            var inPlace = x   // y aliasing x, as the attention calls it
            inPlace.withUnsafeMutableBufferPointer { p in ck_softmax_rows(path, p.baseAddress!, p.baseAddress!, rows, cols) }
            #expect(inPlace.map(\.bitPattern) == reference.map(\.bitPattern), "\(what) in place, path \(path), \(rows)×\(cols)")
        }
    }

    @Test func everyPathGivesTheReferenceBits() {
        #expect(CKernelPath.best >= 0)
        for cols in Array(1...41) + [64, 127, 128, 129, 768] {
            let rows = 23
            var rng = TestRandom(seed: UInt64(cols))
            let x = (0..<(rows * cols)).map { _ in (rng.uniform() - 0.5) * 40 }
            Self.check(x, rows: rows, cols: cols, "uniform ±20")
            // Attention rows: scores plus the padding mask (the last third of the keys masked).
            let masked = x.enumerated().map { i, v in i % cols >= 2 * cols / 3 && cols > 2 ? v + -Float.greatestFiniteMagnitude : v }  // Transformer's maskedScore
            Self.check(masked, rows: rows, cols: cols, "masked")
        }
    }

    /// The pieces the cross-entropy takes from softmax.c: e^(x − shift) with its sum (`Kernels.expShifted`'s bits) and
    /// the row maximum, on every path, for vocabulary-sized rows and every tail length.
    @Test func crossEntropyPiecesGiveTheReferenceBits() {
        for n in Array(1...40) + [255, 8000, 8003] {
            var rng = TestRandom(seed: UInt64(n + 7))
            let x = (0..<n).map { _ in (rng.uniform() - 0.5) * 30 }
            var want = [Float](repeating: .nan, count: n)
            var m = -Float.infinity
            for v in x { m = max(m, v) }
            let sum = x.withUnsafeBufferPointer { xp in want.withUnsafeMutableBufferPointer { wp in
                Kernels.expShifted(xp.baseAddress!, wp.baseAddress!, n, shift: m)
            } }
            for path in 0...CKernelPath.best {
                #expect(ck_row_max(path, x, n).bitPattern == m.bitPattern, "max, path \(path), n \(n)")
                var got = [Float](repeating: .nan, count: n)
                let s = ck_exp_shifted(path, x, &got, n, m)
                #expect(s.bitPattern == sum.bitPattern && got.map(\.bitPattern) == want.map(\.bitPattern), "exp, path \(path), n \(n)")
            }
        }
    }

    @Test func extremeRowsGiveTheReferenceBits() {
        let cols = 19
        let rows: [[Float]] = [
            [Float](repeating: 3, count: cols),                                 // one value: 1/cols each
            [Float](repeating: -.infinity, count: cols),                        // every key masked by −∞: NaN
            [1, .infinity] + [Float](repeating: 0, count: cols - 2),            // +∞ in the row
            [1, .nan] + [Float](repeating: 0, count: cols - 2),                 // NaN in the row
            [0, -0.0] + [Float](repeating: -0.0, count: cols - 2),              // ±0 as the maximum
            (0..<cols).map { Float($0) * 10 - 90 },                             // exp's clamps at both ends
            (0..<cols).map { $0 % 2 == 0 ? 1e30 : -1e30 },
        ]
        for row in rows { Self.check(row, rows: 1, cols: cols, "\(row.prefix(3))…") }
    }
}
