// The int8 product of an inference linear layer on the engine's own threads: B (N, K) split by output columns
// into one `Int8PackedGemm` slice per thread, each run single-threaded inside `Parallel.parts`, with the caller's
// epilogue (dequantization) run by the same thread on its slice while it is in cache: a slice's product runs in
// blocks of `rowBlock` rows, so the accumulator block the epilogue reads back stays in the core's L2 (at batch 32
// a whole slice's accumulator is 6–25 MB and went through L3 or memory twice).
//
// Why not oneDNN's OpenMP team: everything else in a forward pass (attention, LayerNorm, GELU, the fp32 GEMMs)
// runs on `Parallel.parts`, whose threads spin between jobs; an OpenMP team beside them spins too, so a pass that
// alternates between the two keeps three or four threads busy on two cores, and every barrier waits for a
// descheduled thread. On an AMX machine the int8 product itself is tiny (128 × 768 × 768 in ~0.06 ms on one core),
// so that contention and the single-threaded quantization passes were the whole cost (docs/benchmarks.md).
// The integer products are exact, so the split cannot change a result.
import Foundation

/// What a split int8 product does with each thread's block of the accumulator, on that thread.
package protocol Int8Epilogue: AnyObject {
    /// acc (rows.count, count), row stride count: rows `rows`, output columns start ..< start + count of A · Bᵀ.
    func finish(rows: Range<Int>, start: Int, count: Int, acc: UnsafePointer<Int32>)
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
    /// `rowBlock` of new objects. Set only before products run (`bench compress --int8-row-block`).
    package nonisolated(unsafe) static var defaultRowBlock = 256
    /// Rows per product call and epilogue (0: all rows in one call); blocks are near-equal, so a row count needs
    /// at most two primitives.
    package var rowBlock = Int8SplitGemm.defaultRowBlock

    private var pending: (m: Int, a: UnsafePointer<UInt8>, acc: UnsafeMutablePointer<Int32>, epilogue: Int8Epilogue)?

    /// When true, each slice's epilogue is timed into `epilogueNanos` (for `bench compress`'s phase split); when
    /// false (the default) no clock is read.
    package var timesEpilogues = false
    /// The last `multiply`'s epilogue time per slice, in ns (while `timesEpilogues`).
    package let epilogueNanos: UnsafeMutablePointer<UInt64>
    /// Whether the last `multiply` ran its slices side by side (else one after another on the calling thread).
    private var ranSideBySide = false

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
        epilogueNanos = .allocate(capacity: slices.count)
        epilogueNanos.initialize(repeating: 0, count: slices.count)
    }

    deinit { epilogueNanos.deallocate() }

    /// The number of slices (threads a large product runs on).
    package var parts: Int { slices.count }

    /// A (m, K) · Bᵀ handed to `epilogue` block by block: `finish` runs once per slice and row block, on the thread
    /// that computed it, with the block in scratch `acc` (m · N values; slice s uses the part from m · start_s). A rows
    /// contiguous with codes in 0...`int8ActivationMax`.
    package func multiply(m: Int, a: UnsafePointer<UInt8>, acc: UnsafeMutablePointer<Int32>, epilogue: Int8Epilogue) {
        precondition(m >= 0, "Int8SplitGemm: negative row count")
        if m == 0 { return }
        ranSideBySide = !(slices.count == 1 || m * n * k < Self.splitMultiplyAdds)
        if !ranSideBySide {
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
        let blocks = rowBlock > 0 ? (m + rowBlock - 1) / rowBlock : 1
        if timesEpilogues { epilogueNanos[s] = 0 }
        for b in 0..<blocks {
            let rows = (m * b / blocks)..<(m * (b + 1) / blocks)
            slice.gemm.multiply(m: rows.count, a: a + rows.lowerBound * k, c: block, threads: 1)
            if !timesEpilogues { epilogue.finish(rows: rows, start: slice.start, count: slice.count, acc: block); continue }
            let t0 = DispatchTime.now().uptimeNanoseconds
            epilogue.finish(rows: rows, start: slice.start, count: slice.count, acc: block)
            epilogueNanos[s] &+= DispatchTime.now().uptimeNanoseconds &- t0
        }
    }

    /// The slice whose columns start at `start` (an epilogue's `start`).
    package func slice(startingAt start: Int) -> Int? { slices.firstIndex { $0.start == start } }

    /// The wall time that per-slice times of the last `multiply` (ns, one per slice) stand for: their sum when the
    /// slices ran one after another, their mean when they ran side by side.
    package func wallNanos(_ perSlice: UnsafePointer<UInt64>) -> UInt64 {
        let sum = (0..<slices.count).reduce(UInt64(0)) { $0 &+ perSlice[$1] }
        return ranSideBySide ? sum / UInt64(slices.count) : sum
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
