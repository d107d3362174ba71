// The int8 product of an inference linear layer on the engine's own threads: B (N, K) split by output columns
// into one `Int8PackedGemm` slice per thread, each run single-threaded inside `Parallel.parts`, with the caller's
// epilogue (dequantization) run by the same thread on its slice while it is in cache.
//
// Why not oneDNN's OpenMP team: everything else in a forward pass (attention, LayerNorm, GELU, the fp32 GEMMs)
// runs on `Parallel.parts`, whose threads spin between jobs; an OpenMP team beside them spins too, so a pass that
// alternates between the two keeps three or four threads busy on two cores, and every barrier waits for a
// descheduled thread. On an AMX machine the int8 product itself is tiny (128 × 768 × 768 in ~0.06 ms on one core),
// so that contention and the single-threaded quantization passes were the whole cost (docs/benchmarks.md).
// The integer products are exact, so the split cannot change a result.

/// What a split int8 product does with each thread's block of the accumulator, on that thread.
package protocol Int8Epilogue: AnyObject {
    /// acc (rows, count), row stride count: output columns start ..< start + count of A · Bᵀ.
    func finish(rows: Int, start: Int, count: Int, acc: UnsafePointer<Int32>)
}

package final class Int8SplitGemm: PartsBody {
    package let n: Int, k: Int
    /// Column slices of B, each with its own primitives and reordered weights.
    let slices: [(start: Int, count: Int, gemm: Int8PackedGemm)]
    /// Below this many multiply-adds the slices run one after another on the calling thread (a hand-over costs a
    /// few µs; 2^20 multiply-adds take ~25 µs even on an AVX2 core).
    package static let splitMultiplyAdds = 1 << 20
    /// Narrowest slice worth its own primitive (a multiple of the AVX-512 and AMX tile widths).
    static let minimumSliceWidth = 64

    private var pending: (m: Int, a: UnsafePointer<UInt8>, acc: UnsafeMutablePointer<Int32>, epilogue: Int8Epilogue)?

    /// Views B = `weights` (N, K), row stride K, split for `parts` threads; `owner` keeps the weights alive.
    package init(weights: UnsafePointer<Int8>, n: Int, k: Int, parts: Int, owner: AnyObject?) {
        precondition(n >= 1 && k >= 1 && parts >= 1, "Int8SplitGemm: bad shape (\(n), \(k)) or parts \(parts)")
        self.n = n; self.k = k
        let count = max(1, min(parts, n / Self.minimumSliceWidth))
        // Boundaries on multiples of 16 columns (one AVX-512 register of s32).
        let bounds = (0...count).map { i in i == count ? n : min(n, (n * i / count + 15) / 16 * 16) }
        slices = (0..<count).compactMap { i in
            let start = bounds[i], end = bounds[i + 1]
            guard end > start else { return nil }
            return (start, end - start, Int8PackedGemm(weights: weights + start * k, n: end - start, k: k, owner: owner))
        }
    }

    /// The number of slices (threads a large product runs on).
    package var parts: Int { slices.count }

    /// acc = A (m, K) · Bᵀ laid out slice by slice: slice s's block (m, count_s) starts at acc + m · start_s. A rows
    /// contiguous with codes in 0...`int8ActivationMax`; acc holds m · N values. `epilogue.finish` runs once per
    /// slice, on the thread that computed it.
    package func multiply(m: Int, a: UnsafePointer<UInt8>, acc: UnsafeMutablePointer<Int32>, epilogue: Int8Epilogue) {
        precondition(m >= 0, "Int8SplitGemm: negative row count")
        if m == 0 { return }
        if slices.count == 1 || m * n * k < Self.splitMultiplyAdds {
            for s in slices.indices { run(s, m: m, a: a, acc: acc, epilogue: epilogue) }
            return
        }
        pending = (m, a, acc, epilogue)
        Parallel.parts(slices.count, self)
        pending = nil
    }

    package func runPart(_ part: Int) {
        guard let p = pending else { return }
        run(part, m: p.m, a: p.a, acc: p.acc, epilogue: p.epilogue)
    }

    @inline(__always)
    private func run(_ s: Int, m: Int, a: UnsafePointer<UInt8>, acc: UnsafeMutablePointer<Int32>, epilogue: Int8Epilogue) {
        let slice = slices[s], block = acc + m * slice.start
        slice.gemm.multiply(m: m, a: a, c: block, threads: 1)
        epilogue.finish(rows: m, start: slice.start, count: slice.count, acc: block)
    }

    /// oneDNN's implementation for m rows (the first slice's), for reports.
    package func implementation(rows m: Int) -> String {
        OneDNN.withThreads(1) { slices[0].gemm.implementation(rows: m) }
    }

    /// What runs the int8 products on this machine, for `smaller doctor`: oneDNN's implementation for a 768 × 768
    /// layer at 128 rows (a batch-1 product of the AfriBERTa shape).
    package static var implementationSummary: String {
        let n = 768, k = 768
        let weights = UnsafeMutablePointer<Int8>.allocate(capacity: n * k)
        weights.initialize(repeating: 1, count: n * k)
        defer { weights.deallocate() }
        let gemm = Int8SplitGemm(weights: weights, n: n, k: k, parts: 1, owner: nil)
        return "oneDNN \(gemm.implementation(rows: 128)), one single-threaded slice per pool thread"
    }
}
