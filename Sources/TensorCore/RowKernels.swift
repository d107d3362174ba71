// Row-wise kernels: softmax, LayerNorm and softmax cross-entropy, each forward with its backward.
import CKernels
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

extension Kernels {
    // MARK: Softmax over the last dimension of (N, C).

    /// y = softmax(x) row by row, on up to `threads` threads. `y` may alias `x`.
    package static func softmaxForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int,
                                       threads: Int) {
        Parallel.rows(rows, floatsPerRow: cols, threads: threads, .softmaxForward(x: x, y: y, cols: cols))
    }

    static func softmaxForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, cols: Int, rows: Range<Int>) {
        let start = rows.lowerBound * cols
        ck_softmax_rows(CKernelPath.widest, x + start, y + start, rows.count, cols)
    }

    /// The softmax `softmaxForward` computes, in Swift: the row maximum, e^(x − max) by `simdExp` in 8-lane blocks with
    /// the lanes' partial sums, y = e · (1/Σ). CKernels' softmax.c gives these bits on every code path (tests check it);
    /// this is their reference.
    package static func softmaxReference(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, cols: Int, rows: Range<Int>) {
        for r in rows {
            let xr = x + r * cols, yr = y + r * cols
            var m = -Float.infinity
            for c in 0..<cols { m = max(m, xr[c]) }
            let s = expShifted(xr, yr, cols, shift: m)
            let inv = 1 / s
            for c in 0..<cols { yr[c] *= inv }
        }
    }

    /// dx = y ⊙ (dy − Σ dy ⊙ y) row by row, on up to `threads` threads. `dx` may alias `dy`.
    package static func softmaxBackward(_ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, rows: Int, cols: Int,
                                        threads: Int) {
        Parallel.rows(rows, floatsPerRow: cols, threads: threads, .softmaxBackward(y: y, dy: dy, dx: dx, cols: cols))
    }

    static func softmaxBackward(_ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, cols: Int,
                                rows: Range<Int>) {
        for r in rows {
            let yr = y + r * cols, dyr = dy + r * cols, dxr = dx + r * cols
            var dot: Float = 0
            for c in 0..<cols { dot += yr[c] * dyr[c] }
            for c in 0..<cols { dxr[c] = yr[c] * (dyr[c] - dot) }
        }
    }

    // MARK: LayerNorm over the last dimension of (N, C): y = (x − μ) / √(σ² + ε) · γ + β.

    /// Writes y (N, C), and the per-row mean and 1/std (N) that the backward pass needs; on up to `threads` threads.
    package static func layerNormForward(
        _ x: UnsafePointer<Float>, _ gamma: UnsafePointer<Float>, _ beta: UnsafePointer<Float>,
        _ y: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
        rows: Int, cols: Int, eps: Float, threads: Int
    ) {
        Parallel.rows(rows, floatsPerRow: cols, threads: threads, .layerNormForward(x: x, gamma: gamma, beta: beta, y: y, mean: mean, rstd: rstd,
                                                                   cols: cols, eps: eps))
    }

    static func layerNormForward(
        _ x: UnsafePointer<Float>, _ gamma: UnsafePointer<Float>, _ beta: UnsafePointer<Float>,
        _ y: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
        cols: Int, eps: Float, rows: Range<Int>
    ) {
        let invC = 1 / Float(cols)
        var r = rows.lowerBound
        // Eight rows at a time: lane k holds row r + k's sums, each in column order, so every row gets the bits of
        // the one-row loop below while eight add chains run side by side instead of one waiting on the last add.
        while r + RowBlock.rows <= rows.upperBound {
            let xb = x + r * cols
            let mu = RowBlock.sums(xb, cols: cols) * invC
            let v = RowBlock.squaredDeviations(xb, cols: cols, from: mu)
            let rs = 1 / (v * invC + eps).squareRoot()
            for k in 0..<RowBlock.rows {
                let xr = xb + k * cols, yr = y + (r + k) * cols, m = mu[k], s = rs[k]
                for c in 0..<cols { yr[c] = (xr[c] - m) * s * gamma[c] + beta[c] }
                mean[r + k] = m
                rstd[r + k] = s
            }
            r += RowBlock.rows
        }
        for r in r..<rows.upperBound {
            let xr = x + r * cols, yr = y + r * cols
            var s: Float = 0
            for c in 0..<cols { s += xr[c] }
            let mu = s * invC
            var v: Float = 0
            for c in 0..<cols { let d = xr[c] - mu; v += d * d }
            let rs = 1 / (v * invC + eps).squareRoot()
            for c in 0..<cols { yr[c] = (xr[c] - mu) * rs * gamma[c] + beta[c] }
            mean[r] = mu
            rstd[r] = rs
        }
    }

    /// dx (N, C) = LayerNorm backward; dgamma, dbeta (C) are accumulated (+=). `dx` may alias `dy`.
    /// Split over up to `threads` threads in two passes: dγ and dβ by column ranges (each column summed over every row
    /// in row order, as one thread sums it), then dx by rows (each row as on one thread). So every output is the same
    /// bits for any thread count. The column pass runs first because dx may overwrite dy.
    package static func layerNormBackward(
        _ x: UnsafePointer<Float>, _ gamma: UnsafePointer<Float>, mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
        _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
        dgamma: UnsafeMutablePointer<Float>, dbeta: UnsafeMutablePointer<Float>, rows: Int, cols: Int, threads: Int
    ) {
        // Columns are split in blocks of 8 so each part's stretch of a row stays whole SIMD blocks.
        Parallel.rows((cols + 7) / 8, floatsPerRow: 8 * rows, threads: threads,
                      .layerNormParameterGradients(x: x, mean: mean, rstd: rstd, dy: dy, dgamma: dgamma, dbeta: dbeta, rows: rows, cols: cols))
        Parallel.rows(rows, floatsPerRow: cols, threads: threads,
                      .layerNormBackward(x: x, gamma: gamma, mean: mean, rstd: rstd, dy: dy, dx: dx, cols: cols))
    }

    /// dγ[c] += Σ_r dy[r, c]·x̂[r, c] and dβ[c] += Σ_r dy[r, c] for the columns of 8-column blocks `blocks`, rows in order.
    static func layerNormParameterGradients(
        _ x: UnsafePointer<Float>, mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
        dgamma: UnsafeMutablePointer<Float>, dbeta: UnsafeMutablePointer<Float>, rows: Int, cols: Int, blocks: Range<Int>
    ) {
        let start = blocks.lowerBound * 8, end = min(cols, blocks.upperBound * 8)
        for r in 0..<rows {
            let xr = x + r * cols, dyr = dy + r * cols
            let mu = mean[r], rs = rstd[r]
            for c in start..<end {
                let xhat = (xr[c] - mu) * rs
                dgamma[c] += dyr[c] * xhat
                dbeta[c] += dyr[c]
            }
        }
    }

    /// dx for rows `rows` (see `layerNormBackward`).
    static func layerNormBackward(
        _ x: UnsafePointer<Float>, _ gamma: UnsafePointer<Float>, mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
        _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, cols: Int, rows: Range<Int>
    ) {
        let invC = 1 / Float(cols)
        var r = rows.lowerBound
        while r + RowBlock.rows <= rows.upperBound {  // eight rows' sums side by side (`RowBlock`)
            let xb = x + r * cols, dyb = dy + r * cols
            var mu = SIMD8<Float>(), rs = SIMD8<Float>()
            for k in 0..<RowBlock.rows { mu[k] = mean[r + k]; rs[k] = rstd[r + k] }
            var sumG = SIMD8<Float>(), sumGX = SIMD8<Float>()
            for c in 0..<cols {
                let xhat = (RowBlock.column(xb + c, cols) - mu) * rs
                let g = RowBlock.column(dyb + c, cols) * gamma[c]
                sumG += g
                sumGX += g * xhat
            }
            let mG = sumG * invC, mGX = sumGX * invC
            for k in 0..<RowBlock.rows {
                let xr = xb + k * cols, dyr = dyb + k * cols, dxr = dx + (r + k) * cols
                let m = mu[k], s = rs[k], a = mG[k], b = mGX[k]
                for c in 0..<cols {
                    let xhat = (xr[c] - m) * s
                    dxr[c] = (dyr[c] * gamma[c] - a - xhat * b) * s
                }
            }
            r += RowBlock.rows
        }
        for r in r..<rows.upperBound {
            let xr = x + r * cols, dyr = dy + r * cols, dxr = dx + r * cols
            let mu = mean[r], rs = rstd[r]
            var sumG: Float = 0, sumGX: Float = 0
            for c in 0..<cols {
                let xhat = (xr[c] - mu) * rs
                let g = dyr[c] * gamma[c]
                sumG += g
                sumGX += g * xhat
            }
            let mG = sumG * invC, mGX = sumGX * invC
            for c in 0..<cols {
                let xhat = (xr[c] - mu) * rs
                dxr[c] = (dyr[c] * gamma[c] - mG - xhat * mGX) * rs
            }
        }
    }

    // MARK: Softmax cross-entropy with an ignore index, mean over the rows that count.

    /// The label that marks a position excluded from the loss, as in torch.
    package static let ignoreIndex: Int32 = -100

    /// Returns the mean loss over rows whose label is not `ignoreIndex`, and the count of such rows.
    /// When `dlogits` is given it receives ∂loss/∂logits (already divided by the count; zero for ignored rows).
    /// Labels out of 0..<cols (other than the ignore index) are a programmer error here: callers validate input.
    /// Split by rows over up to `threads` threads: every row's gradient is the same bits whatever the split; the loss
    /// is summed per part in Double and the parts added in order, so it is the same bits for the same thread count.
    @discardableResult
    package static func crossEntropy(
        _ logits: UnsafePointer<Float>, labels: UnsafePointer<Int32>, rows: Int, cols: Int,
        dlogits: UnsafeMutablePointer<Float>?, threads: Int
    ) -> (loss: Float, count: Int) {
        var count = 0
        for r in 0..<rows where labels[r] != ignoreIndex { count += 1 }
        let invCount: Float = count > 0 ? 1 / Float(count) : 0
        let total = Parallel.rowSums(rows, floatsPerRow: cols, threads: threads,
                                     .crossEntropy(logits: logits, labels: labels, cols: cols, dlogits: dlogits, invCount: invCount))
        return (count > 0 ? Float(total / Double(count)) : 0, count)
    }

    /// Rows `rows` of the cross-entropy: writes their gradient rows and returns their summed loss.
    static func crossEntropy(_ logits: UnsafePointer<Float>, labels: UnsafePointer<Int32>, cols: Int,
                             dlogits: UnsafeMutablePointer<Float>?, invCount: Float, rows: Range<Int>) -> Double {
        var total: Double = 0
        for r in rows {
            let lr = logits + r * cols
            let label = Int(labels[r])
            if label == Int(ignoreIndex) {
                if let d = dlogits { (d + r * cols).update(repeating: 0, count: cols) }
                continue
            }
            precondition(label >= 0 && label < cols, "crossEntropy: label \(label) outside 0..<\(cols)")
            let m = ck_row_max(CKernelPath.widest, lr, cols)
            let target = lr[label]
            if let d = dlogits {
                // Exponentials go straight into the gradient row (which may be the logits row itself), through
                // CKernels: the bits of `expShifted`.
                let dr = d + r * cols
                let s = ck_exp_shifted(CKernelPath.widest, lr, dr, cols, m)
                total += Double(m + logf(s) - target)
                scale(dr, invCount / s, cols)
                dr[label] -= invCount
            } else {
                var s: Float = 0
                for c in 0..<cols { s += expf(lr[c] - m) }
                total += Double(m + logf(s) - target)
            }
        }
        return total
    }
}

/// Sums over eight rows side by side: lane k is row k's sum taken in column order, exactly as a one-row loop takes
/// it (IEEE adds in the same order, no reassociation), so a row kernel using these gives the same bits as its
/// one-row form, at up to eight times the speed where one serial add chain was the limit.
enum RowBlock {
    static let rows = 8

    /// Σ_c p[k·cols + c] for k in 0..<8.
    @inline(__always)
    static func sums(_ p: UnsafePointer<Float>, cols: Int) -> SIMD8<Float> {
        var s = SIMD8<Float>()
        for c in 0..<cols { s += column(p + c, cols) }
        return s
    }

    /// Σ_c (p[k·cols + c] − mean[k])² for k in 0..<8, each difference squared and added as the one-row loop does.
    @inline(__always)
    static func squaredDeviations(_ p: UnsafePointer<Float>, cols: Int, from mean: SIMD8<Float>) -> SIMD8<Float> {
        var v = SIMD8<Float>()
        for c in 0..<cols { let d = column(p + c, cols) - mean; v += d * d }
        return v
    }

    /// p[0], p[stride], …, p[7·stride].
    @inline(__always)
    static func column(_ p: UnsafePointer<Float>, _ stride: Int) -> SIMD8<Float> {
        SIMD8(p[0], p[stride], p[2 * stride], p[3 * stride], p[4 * stride], p[5 * stride], p[6 * stride], p[7 * stride])
    }
}
