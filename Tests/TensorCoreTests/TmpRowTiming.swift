import Testing
import Foundation
import TestSupport
@testable import TensorCore

@Suite struct TmpRowTiming {
    @Test func timeRowKernels() {
        for (rows, cols) in [(4096, 768), (16384, 128), (4096, 256)] {
            let x = RowParallelTests.random(rows * cols, seed: 1), dy = RowParallelTests.random(rows * cols, seed: 2)
            let g = RowParallelTests.random(cols, seed: 3), b = g
            var y = x, mean = [Float](repeating: 0, count: rows), rstd = mean
            func t(_ f: () -> Void) -> Double { f(); let s = Date(); for _ in 0..<5 { f() }; return Date().timeIntervalSince(s) / 5 * 1000 }
            let ln = t { Kernels.layerNormForward(x, g, b, &y, mean: &mean, rstd: &rstd, rows: rows, cols: cols, eps: 1e-5, threads: 1) }
            let lnOld = t {
                x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { yp in
                    let invC = 1 / Float(cols)
                    for r in 0..<rows {
                        let xr = xp.baseAddress! + r * cols, yr = yp.baseAddress! + r * cols
                        var s: Float = 0
                        for c in 0..<cols { s += xr[c] }
                        let mu = s * invC
                        var v: Float = 0
                        for c in 0..<cols { let d = xr[c] - mu; v += d * d }
                        let rs = 1 / (v * invC + 1e-5).squareRoot()
                        for c in 0..<cols { yr[c] = (xr[c] - mu) * rs * g[c] + b[c] }
                    }
                } }
            }
            let sm = t { Kernels.softmaxForward(x, &y, rows: rows, cols: cols, threads: 1) }
            let sb = t { Kernels.softmaxBackward(x, dy, &y, rows: rows, cols: cols, threads: 1) }
            let sbOld = t {
                x.withUnsafeBufferPointer { yp0 in dy.withUnsafeBufferPointer { dp in y.withUnsafeMutableBufferPointer { op in
                    for r in 0..<rows {
                        let yr = yp0.baseAddress! + r * cols, dyr = dp.baseAddress! + r * cols, dxr = op.baseAddress! + r * cols
                        var dot: Float = 0
                        for c in 0..<cols { dot += yr[c] * dyr[c] }
                        for c in 0..<cols { dxr[c] = yr[c] * (dyr[c] - dot) }
                    }
                } } }
            }
            let lb = t { y.withUnsafeMutableBufferPointer { yp in var dg = g, db = g
                Kernels.layerNormBackward(x, g, mean: mean, rstd: rstd, dy, yp.baseAddress!, dgamma: &dg, dbeta: &db, rows: rows, cols: cols, threads: 1) } }
            print("TIMING LN backward \(lb)")
            print(String(format: "TIMING %dx%d: LN new %.2f old %.2f ms; softmax fwd %.2f; softmax bwd new %.2f old %.2f", rows, cols, ln, lnOld, sm, sb, sbOld))
        }
    }
}
