// Elementwise kernels over raw pointers: add, scale, GELU (exact erf, in CKernels) forward/backward, dropout.
// Plain loops over unsafe pointers: with -O the compiler vectorises them (AVX2 here).
import CKernels
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

    /// On up to `threads` threads.
    package static func geluForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, threads: Int) {
        Parallel.rows((n + 7) / 8, floatsPerRow: 8, threads: threads, .geluForward(x: x, y: y, n: n))
    }

    /// dx[i] = dy[i] · gelu'(x[i]); gelu'(x) = Φ(x) + x · φ(x), on up to `threads` threads. `dx` may alias `dy`.
    package static func geluBackward(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ n: Int,
                                     threads: Int) {
        Parallel.rows((n + 7) / 8, floatsPerRow: 8, threads: threads, .geluBackward(x: x, dy: dy, dx: dx, n: n))
    }

    /// GELU forward over the 8-float blocks `blocks` of 0..<n.
    static func geluForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, blocks: Range<Int>) {
        let start = blocks.lowerBound * 8, end = min(n, blocks.upperBound * 8)
        ck_gelu_forward(CKernelPath.widest, x + start, y + start, end - start)
    }

    /// GELU backward over the 8-float blocks `blocks` of 0..<n.
    static func geluBackward(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ n: Int,
                             blocks: Range<Int>) {
        let start = blocks.lowerBound * 8, end = min(n, blocks.upperBound * 8)
        ck_gelu_backward(CKernelPath.widest, x + start, dy + start, dx + start, end - start)
    }

    /// Computes rows `rows` of `work` (see `Parallel.rows`).
    static func run(_ work: RowWork, rows: Range<Int>) {
        switch work {
        case let .softmaxForward(x, y, cols): softmaxForward(x, y, cols: cols, rows: rows)
        case let .softmaxBackward(y, dy, dx, cols): softmaxBackward(y, dy, dx, cols: cols, rows: rows)
        case let .layerNormForward(x, gamma, beta, y, mean, rstd, cols, eps):
            layerNormForward(x, gamma, beta, y, mean: mean, rstd: rstd, cols: cols, eps: eps, rows: rows)
        case let .layerNormBackward(x, gamma, mean, rstd, dy, dx, cols):
            layerNormBackward(x, gamma, mean: mean, rstd: rstd, dy, dx, cols: cols, rows: rows)
        case let .layerNormParameterGradients(x, mean, rstd, dy, dgamma, dbeta, count, cols):
            layerNormParameterGradients(x, mean: mean, rstd: rstd, dy, dgamma: dgamma, dbeta: dbeta, rows: count, cols: cols, blocks: rows)
        case let .geluForward(x, y, n): geluForward(x, y, n, blocks: rows)
        case let .geluBackward(x, dy, dx, n): geluBackward(x, dy, dx, n, blocks: rows)
        case let .dropout(mask, n, p, seed): dropoutChunks(mask, n, p: p, seed: seed, chunks: rows)
        case .crossEntropy: _ = runSum(work, rows: rows)
        }
    }

    /// As `run`, returning the rows' summed loss for the cross-entropy (0 for the other kernels).
    static func runSum(_ work: RowWork, rows: Range<Int>) -> Double {
        guard case let .crossEntropy(logits, labels, cols, dlogits, invCount) = work else { run(work, rows: rows); return 0 }
        return crossEntropy(logits, labels: labels, cols: cols, dlogits: dlogits, invCount: invCount, rows: rows)
    }

    /// Calls `body(start, count)` over 0..<n in blocks of 8 (the last block may be shorter).
    @inline(__always)
    package static func forEachBlock(_ n: Int, _ body: (Int, Int) -> Void) {
        var i = 0
        while i + 8 <= n { body(i, 8); i += 8 }
        if i < n { body(i, n - i) }
    }

    /// Loads `count` ≤ 8 floats (the rest zero).
    @inline(__always)
    package static func load8(_ p: UnsafePointer<Float>, _ count: Int) -> SIMD8<Float> {
        if count == 8 { return UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }
        var v = SIMD8<Float>()
        for j in 0..<count { v[j] = p[j] }
        return v
    }

    /// Stores the first `count` ≤ 8 lanes.
    @inline(__always)
    package static func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
        if count == 8 { UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self); return }
        for j in 0..<count { p[j] = v[j] }
    }

    /// out[i] = exp(x[i] − shift) for i in 0..<n; returns Σ out. `out` may alias `x`.
    @inline(__always)
    package static func expShifted(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int, shift: Float) -> Float {
        var acc = SIMD8<Float>()
        var i = 0
        while i + 8 <= n {
            let e = simdExp(load8(x + i, 8) - shift)
            store8(e, out + i, 8)
            acc += e
            i += 8
        }
        var total = acc.sum()
        if i < n {
            let count = n - i
            var e = simdExp(load8(x + i, count) - shift)
            for j in count..<8 { e[j] = 0 }
            store8(e, out + i, count)
            total += e.sum()
        }
        return total
    }

    /// The plain reference GELU in Double, a test oracle.
    package static func geluReference(_ x: Double) -> Double { 0.5 * x * (1 + erf(x / 2.0.squareRoot())) }

    // MARK: Dropout (inverted): mask[i] = 0 with probability p, else 1/(1-p); y = x · mask.

    /// Elements per random stream of a dropout mask: fixed, so the mask does not depend on the thread count.
    package static let dropoutChunk = 1 << 14

    /// Draws a dropout mask; with p == 0 every entry is 1. The seeded contract: the call takes exactly one draw from
    /// `rng` (none when p == 0), and chunk c of `dropoutChunk` elements comes from its own stream seeded by that draw
    /// and c, so the same `rng` state gives the same bits whatever `threads` is; chunks are drawn on up to `threads`
    /// threads.
    package static func dropoutMask(_ mask: UnsafeMutablePointer<Float>, _ n: Int, p: Float, rng: inout Xoshiro256, threads: Int) {
        precondition(p >= 0 && p < 1, "dropout probability must be in [0, 1)")
        if p == 0 { mask.update(repeating: 1, count: n); return }
        let seed = rng.next()
        Parallel.rows((n + dropoutChunk - 1) / dropoutChunk, floatsPerRow: dropoutChunk, threads: threads,
                      .dropout(mask: mask, n: n, p: p, seed: seed))
    }

    /// Chunks `chunks` of a dropout mask of n elements (see `dropoutMask`), in CKernels (dropout.c: several chunks'
    /// streams side by side in vector lanes): the bits of `dropoutChunksReference` on every path.
    package static func dropoutChunks(_ mask: UnsafeMutablePointer<Float>, _ n: Int, p: Float, seed: UInt64, chunks: Range<Int>,
                              path: Int32 = CKernelPath.widest) {
        ck_dropout_chunks(path, mask, n, p, seed, dropoutChunk, chunks.lowerBound, chunks.upperBound)
    }

    /// The Swift loop the C kernel replaced, a test oracle: chunk by chunk, element by element.
    package static func dropoutChunksReference(_ mask: UnsafeMutablePointer<Float>, _ n: Int, p: Float, seed: UInt64, chunks: Range<Int>) {
        let keep = 1 / (1 - p)
        for c in chunks {
            // Output c of SplitMix64 from the mask's seed: unrelated starting states for neighbouring chunks.
            var stream = Xoshiro256(seed: Xoshiro256.splitMix64(seed, step: UInt64(c)))
            for i in (c * dropoutChunk)..<min(n, (c + 1) * dropoutChunk) { mask[i] = stream.uniform() < p ? 0 : keep }
        }
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
