// Pre-packed weights for inference: y (rows, out) = x (rows, in) · Wᵀ with W (out, in) reordered once into
// oneDNN's internal GEMM layout, so a call skips the per-call packing of the weight operand. Measured at
// M = 128 (batch 1 × 128 tokens), one thread, CPU time: 10–18 % faster than dnnl_sgemm; no gain at M = 4096.
// oneDNN lays the packed buffer out for one exact problem (rows, threads): computing a different row count on
// it crashed in a probe, so each packing is kept per (rows, threads), at most `maxShapes` of them, and any
// other shape runs plain `sgemm` on the unpacked weights (which the caller keeps alive).
import CDNNL

/// The pack API's one-letter flags as static C strings (a String literal passed as a C pointer allocates).
private enum Flag {
    nonisolated(unsafe) static let a = flag("A"), t = flag("T"), n = flag("N"), p = flag("P")
    static func flag(_ s: StaticString) -> UnsafePointer<CChar> { UnsafeRawPointer(s.utf8Start).assumingMemoryBound(to: CChar.self) }
}

package final class PackedWeights {
    package let outFeatures: Int, inFeatures: Int
    /// (out, in), row-major; not owned: the caller keeps it alive and unchanged while this object lives.
    package let weight: UnsafePointer<Float>
    /// How many (rows, threads) packings are kept; further shapes use plain sgemm.
    package let maxShapes: Int

    private struct Key: Hashable { let rows: Int, threads: Int32 }
    private var packed: [Key: UnsafeMutableRawPointer] = [:]

    package init(weight: UnsafePointer<Float>, outFeatures: Int, inFeatures: Int, maxShapes: Int = 2) {
        precondition(outFeatures > 0 && inFeatures > 0 && maxShapes >= 0, "PackedWeights: bad shape")
        self.weight = weight; self.outFeatures = outFeatures; self.inFeatures = inFeatures; self.maxShapes = maxShapes
    }

    deinit { for p in packed.values { p.deallocate() } }

    /// The row counts currently packed (for tests and reports).
    package var packedRowCounts: [Int] { packed.keys.map(\.rows).sorted() }

    /// Bytes held by the packed copies.
    package private(set) var packedBytes = 0

    /// y (rows, out; row stride ldy) = x (rows, in; row stride ldx) · Wᵀ. Packs W for this (rows, threads) on
    /// first use while fewer than `maxShapes` packings exist; otherwise runs `sgemm`.
    package func multiply(_ x: UnsafePointer<Float>, ldx: Int? = nil, rows: Int, into y: UnsafeMutablePointer<Float>, ldy: Int? = nil) {
        let ldx = ldx ?? inFeatures, ldy = ldy ?? outFeatures
        precondition(rows >= 0 && ldx >= inFeatures && ldy >= outFeatures, "PackedWeights.multiply: bad shape")
        if rows == 0 { return }
        // The packing depends on the problem (rows, and x's stride is passed to it), not on y's stride.
        guard let api = OneDNN.packAPI, ldx == inFeatures else {
            return plain(x, ldx: ldx, rows: rows, y, ldy: ldy)
        }
        // Same thread rule as sgemm: small products run on the calling thread.
        withGemmThreads(multiplyAdds: rows * outFeatures * inFeatures) { compute(api, x, rows: rows, y, ldy: ldy) }
    }

    private func compute(_ api: OneDNN.PackAPI, _ x: UnsafePointer<Float>, rows: Int, _ y: UnsafeMutablePointer<Float>, ldy: Int) {
        let ldx = inFeatures
        let key = Key(rows: rows, threads: omp_get_max_threads())
        // Column-major view: Yᵀ (out × rows) = op(W') · Xᵀ with W' the (in × out) column-major view of W, op = ᵀ.
        var m = Int64(outFeatures), n = Int64(rows), k = Int64(inFeatures), lda = Int64(inFeatures), ldb = Int64(inFeatures)
        var ldc = Int64(ldy), beta: Float = 0
        var buffer = packed[key]
        if buffer == nil {
            guard packed.count < maxShapes else { return plain(x, ldx: ldx, rows: rows, y, ldy: ldy) }
            var size = 0, pack = false
            OneDNN.check(api.size(Flag.a, Flag.t, Flag.n, &m, &n, &k, &lda, &ldb, &size, &pack), "sgemm_pack_get_size")
            let p = UnsafeMutableRawPointer.allocate(byteCount: max(size, 64), alignment: 64)
            OneDNN.check(api.pack(Flag.a, Flag.t, Flag.n, &m, &n, &k, &lda, &ldb, weight, p.assumingMemoryBound(to: Float.self)), "sgemm_pack")
            packed[key] = p; packedBytes += size
            buffer = p
        }
        let a = UnsafePointer(buffer!.assumingMemoryBound(to: Float.self))
        OneDNN.check(api.compute(Flag.p, Flag.n, &m, &n, &k, a, &lda, x, &ldb, &beta, y, &ldc), "sgemm_compute")
    }

    private func plain(_ x: UnsafePointer<Float>, ldx: Int, rows: Int, _ y: UnsafeMutablePointer<Float>, ldy: Int) {
        sgemm(.none, .transposed, m: rows, n: outFeatures, k: inFeatures, a: x, lda: ldx, b: weight, ldb: inFeatures,
              c: y, ldc: ldy)
    }
}
