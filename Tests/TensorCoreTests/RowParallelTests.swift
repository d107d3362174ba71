// The row kernels split over threads (`Parallel.rows`) give the same bits as one pass over all rows on
// one thread, for every kernel, with a row count that does not divide evenly and a GELU length that is not a
// multiple of 8; and a split kernel called inside a `Parallel.parts` body runs on that body's thread.
import Testing
import TestSupport
@testable import TensorCore

@Suite struct RowParallelTests {
    static func random(_ n: Int, seed: UInt64, scale: Float = 4) -> [Float] {
        var rng = TestRandom(seed: seed)
        return (0..<n).map { _ in (rng.uniform() - 0.5) * scale }
    }

    @Test func splitKernelsGiveTheBitsOfOneThread() {
        let (rows, cols) = (1031, 97)  // 100 007 floats: above the split threshold at 2 threads
        #expect(rows * cols >= Parallel.rowSplitFloats * 2)
        let x = Self.random(rows * cols, seed: 1), dy = Self.random(rows * cols, seed: 2)
        let gamma = Self.random(cols, seed: 3, scale: 1), beta = Self.random(cols, seed: 4, scale: 1)
        let n = rows * cols - 5  // GELU over a length that is not a multiple of 8

        var split = [Float](repeating: 0, count: rows * cols), one = split
        Kernels.softmaxForward(x, &split, rows: rows, cols: cols, threads: 2)
        x.withUnsafeBufferPointer { xp in one.withUnsafeMutableBufferPointer { op in
            Kernels.run(.softmaxForward(x: xp.baseAddress!, y: op.baseAddress!, cols: cols), rows: 0..<rows)
        } }
        #expect(split == one, "softmax forward")
        let probs = one

        Kernels.softmaxBackward(probs, dy, &split, rows: rows, cols: cols, threads: 2)
        probs.withUnsafeBufferPointer { yp in dy.withUnsafeBufferPointer { dp in one.withUnsafeMutableBufferPointer { op in
            Kernels.run(.softmaxBackward(y: yp.baseAddress!, dy: dp.baseAddress!, dx: op.baseAddress!, cols: cols), rows: 0..<rows)
        } } }
        #expect(split == one, "softmax backward")

        var meanS = [Float](repeating: 0, count: rows), rstdS = meanS, meanO = meanS, rstdO = meanS
        Kernels.layerNormForward(x, gamma, beta, &split, mean: &meanS, rstd: &rstdS, rows: rows, cols: cols, eps: 1e-5,
                                 threads: 2)
        x.withUnsafeBufferPointer { xp in gamma.withUnsafeBufferPointer { gp in beta.withUnsafeBufferPointer { bp in
            one.withUnsafeMutableBufferPointer { op in meanO.withUnsafeMutableBufferPointer { mp in rstdO.withUnsafeMutableBufferPointer { rp in
                Kernels.run(.layerNormForward(x: xp.baseAddress!, gamma: gp.baseAddress!, beta: bp.baseAddress!, y: op.baseAddress!,
                                              mean: mp.baseAddress!, rstd: rp.baseAddress!, cols: cols, eps: 1e-5), rows: 0..<rows)
            } } }
        } } }
        #expect(split == one && meanS == meanO && rstdS == rstdO, "LayerNorm forward")

        split = [Float](repeating: 7, count: rows * cols); one = split
        Kernels.geluForward(x, &split, n, threads: 2)
        x.withUnsafeBufferPointer { xp in one.withUnsafeMutableBufferPointer { op in
            Kernels.run(.geluForward(x: xp.baseAddress!, y: op.baseAddress!, n: n), rows: 0..<((n + 7) / 8))
        } }
        #expect(split == one, "GELU forward")
        #expect(split[n...].allSatisfy { $0 == 7 }, "GELU wrote past n")
        // And against the Double reference, so that both paths are right, not just equal.
        let worst = (0..<n).map { abs(Double(split[$0]) - Kernels.geluReference(Double(x[$0]))) }.max()!
        #expect(worst < 1e-5, "GELU forward against the reference: \(worst)")

        Kernels.geluBackward(x, dy, &split, n, threads: 2)
        x.withUnsafeBufferPointer { xp in dy.withUnsafeBufferPointer { dp in one.withUnsafeMutableBufferPointer { op in
            Kernels.run(.geluBackward(x: xp.baseAddress!, dy: dp.baseAddress!, dx: op.baseAddress!, n: n), rows: 0..<((n + 7) / 8))
        } } }
        #expect(split == one, "GELU backward")
    }

    /// The cross-entropy split over threads: every gradient row the bits of one thread, the loss the same bits on
    /// every call with the same thread count and within a Double rounding of the one-thread sum.
    @Test func splitCrossEntropyGivesTheGradientBitsOfOneThread() {
        let (rows, cols) = (257, 509)
        #expect(rows * cols >= Parallel.rowSplitFloats * 3)
        let x = Self.random(rows * cols, seed: 5, scale: 10)
        let labels = (0..<rows).map { r in r % 7 == 3 ? Kernels.ignoreIndex : Int32((r * 31) % cols) }
        var one = [Float](repeating: .nan, count: rows * cols), split = one, scratch = one
        let single = Kernels.crossEntropy(x, labels: labels, rows: rows, cols: cols, dlogits: &one, threads: 1)
        for threads in [2, 3] {
            let first = Kernels.crossEntropy(x, labels: labels, rows: rows, cols: cols, dlogits: &split, threads: threads)
            #expect(split == one, "gradient, \(threads) threads")
            let again = Kernels.crossEntropy(x, labels: labels, rows: rows, cols: cols, dlogits: &scratch, threads: threads)
            #expect(first.loss.bitPattern == again.loss.bitPattern && first.count == single.count)
            #expect(abs(first.loss - single.loss) <= single.loss.ulp, "loss \(first.loss) vs one thread's \(single.loss)")
        }
    }

    /// LayerNorm backward split over threads (dγ, dβ by columns, dx by rows) against the one-pass loop it replaced
    /// (dγ and dβ summed row by row on one thread): the same bits for every thread count, with dx over dy as the
    /// model calls it and dγ, dβ accumulated onto what they held.
    @Test func splitLayerNormBackwardGivesTheBitsOfTheOneThreadLoop() {
        let (rows, cols) = (1031, 100)  // 12.5 column blocks: the last one partial
        #expect(rows * cols >= Parallel.rowSplitFloats * 3)
        let x = Self.random(rows * cols, seed: 11), dy = Self.random(rows * cols, seed: 12)
        let gamma = Self.random(cols, seed: 13, scale: 1), beta = Self.random(cols, seed: 14, scale: 1)
        let start = Self.random(cols, seed: 15, scale: 1)
        var y = [Float](repeating: 0, count: rows * cols), mean = [Float](repeating: 0, count: rows), rstd = mean
        Kernels.layerNormForward(x, gamma, beta, &y, mean: &mean, rstd: &rstd, rows: rows, cols: cols, eps: 1e-5, threads: 1)
        // The reference: one loop over the rows, dγ and dβ accumulated as each row passes.
        var dxR = [Float](repeating: 0, count: rows * cols), dgR = start, dbR = start
        let invC = 1 / Float(cols)
        for r in 0..<rows {
            var sumG: Float = 0, sumGX: Float = 0
            for c in 0..<cols {
                let xhat = (x[r * cols + c] - mean[r]) * rstd[r], g = dy[r * cols + c] * gamma[c]
                dgR[c] += dy[r * cols + c] * xhat
                dbR[c] += dy[r * cols + c]
                sumG += g
                sumGX += g * xhat
            }
            let mG = sumG * invC, mGX = sumGX * invC
            for c in 0..<cols {
                let xhat = (x[r * cols + c] - mean[r]) * rstd[r]
                dxR[r * cols + c] = (dy[r * cols + c] * gamma[c] - mG - xhat * mGX) * rstd[r]
            }
        }
        for threads in [1, 2, 3] {
            var d = dy, dg = start, db = start
            d.withUnsafeMutableBufferPointer { dp in
                Kernels.layerNormBackward(x, gamma, mean: mean, rstd: rstd, dp.baseAddress!, dp.baseAddress!, dgamma: &dg, dbeta: &db,
                                          rows: rows, cols: cols, threads: threads)
            }
            #expect(d.map(\.bitPattern) == dxR.map(\.bitPattern), "dx, \(threads) threads")
            #expect(dg.map(\.bitPattern) == dgR.map(\.bitPattern) && db.map(\.bitPattern) == dbR.map(\.bitPattern),
                    "dγ, dβ, \(threads) threads")
        }
    }

    /// The kernels that sum eight rows side by side (`RowBlock`: LayerNorm forward, softmax backward; softmax's row
    /// maximum eight lanes at a time) against the one-row loops written out here: the same bits, for row counts
    /// with a partial last block and widths that are and are not multiples of 8, including the model's 768.
    @Test(arguments: [(1031, 97), (19, 768), (8, 5), (7, 128)])
    func rowBlockKernelsGiveTheBitsOfTheOneRowLoops(rows: Int, cols: Int) {
        let x = Self.random(rows * cols, seed: 21, scale: 8), dy = Self.random(rows * cols, seed: 22)
        let gamma = Self.random(cols, seed: 23, scale: 1), beta = Self.random(cols, seed: 24, scale: 1)
        let eps: Float = 1e-5, invC = 1 / Float(cols)
        var yR = [Float](repeating: 0, count: rows * cols), meanR = [Float](repeating: 0, count: rows), rstdR = meanR
        var probsR = yR, dxR = yR
        for r in 0..<rows {
            var s: Float = 0
            for c in 0..<cols { s += x[r * cols + c] }
            let mu = s * invC
            var v: Float = 0
            for c in 0..<cols { let d = x[r * cols + c] - mu; v += d * d }
            let rs = 1 / (v * invC + eps).squareRoot()
            for c in 0..<cols { yR[r * cols + c] = (x[r * cols + c] - mu) * rs * gamma[c] + beta[c] }
            meanR[r] = mu; rstdR[r] = rs
            var m = -Float.infinity
            for c in 0..<cols { m = max(m, x[r * cols + c]) }
            var e = [Float](repeating: 0, count: cols)
            for c in 0..<cols { e[c] = x[r * cols + c] - m }
            // exp as the kernel takes it (its own SIMD exp and 8-lane sum are not what this test is about).
            e.withUnsafeMutableBufferPointer { ep in
                let total = Kernels.expShifted(ep.baseAddress!, ep.baseAddress!, cols, shift: 0)
                for c in 0..<cols { probsR[r * cols + c] = ep[c] * (1 / total) }
            }
        }
        for r in 0..<rows {
            var dot: Float = 0
            for c in 0..<cols { dot += probsR[r * cols + c] * dy[r * cols + c] }
            for c in 0..<cols { dxR[r * cols + c] = probsR[r * cols + c] * (dy[r * cols + c] - dot) }
        }
        for threads in [1, 2] {
            var y = [Float](repeating: 0, count: rows * cols), mean = [Float](repeating: 0, count: rows), rstd = mean
            Kernels.layerNormForward(x, gamma, beta, &y, mean: &mean, rstd: &rstd, rows: rows, cols: cols, eps: eps, threads: threads)
            #expect(y.map(\.bitPattern) == yR.map(\.bitPattern), "LayerNorm y, \(threads) threads")
            #expect(mean.map(\.bitPattern) == meanR.map(\.bitPattern) && rstd.map(\.bitPattern) == rstdR.map(\.bitPattern),
                    "LayerNorm mean, 1/std, \(threads) threads")
            var probs = y
            Kernels.softmaxForward(x, &probs, rows: rows, cols: cols, threads: threads)
            #expect(probs.map(\.bitPattern) == probsR.map(\.bitPattern), "softmax, \(threads) threads")
            var dx = y
            Kernels.softmaxBackward(probsR, dy, &dx, rows: rows, cols: cols, threads: threads)
            #expect(dx.map(\.bitPattern) == dxR.map(\.bitPattern), "softmax backward, \(threads) threads")
        }
    }

    @Test func softmaxRowsSumToOneAcrossTheSplitBoundary() {
        // A real property on the split path: every row, on either side of the split, is a distribution.
        let (rows, cols) = (2048, 64)
        let x = Self.random(rows * cols, seed: 9, scale: 20)
        var y = [Float](repeating: 0, count: rows * cols)
        Kernels.softmaxForward(x, &y, rows: rows, cols: cols, threads: 2)
        let worst = (0..<rows).map { r in abs(y[(r * cols)..<((r + 1) * cols)].reduce(0, +) - 1) }.max()!
        #expect(worst < 1e-5, "max |Σ row − 1| = \(worst)")
    }
}
