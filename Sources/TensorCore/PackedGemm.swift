// Pre-packed weights for inference: y (rows, out) = x (rows, in) · Wᵀ with W (out, in) reordered once into
// CGemm's panel layout, so a call skips the per-call packing of the weight operand. One packing serves every row
// count (the layout depends on W only). A product `GemmChoice` gives to oneDNN, and every product where CGemm
// cannot run (no AVX2/FMA) or oneDNN is forced, runs plain `sgemm` on W instead. Under `auto` the choice is the
// one measured for plain CGemm on the shape, which the pre-packed form only beats by the packing it skips.
import CGemm

package final class PackedWeights {
    package let outFeatures: Int, inFeatures: Int
    /// (out, in), row-major; not owned: the caller keeps it alive (for the fallback) while this object lives.
    package let weight: UnsafePointer<Float>
    /// Wᵀ (in × out) in CGemm's panels (`cgemm_pack_b`), or nil when CGemm cannot be chosen.
    private let packed: UnsafeMutablePointer<Float>?

    /// Bytes held by the packed copy.
    package let packedBytes: Int

    package init(weight: UnsafePointer<Float>, outFeatures: Int, inFeatures: Int) {
        precondition(outFeatures > 0 && inFeatures > 0, "PackedWeights: bad shape")
        self.weight = weight; self.outFeatures = outFeatures; self.inFeatures = inFeatures
        if GemmKernel.ownAvailable && GemmChoice.policy != .oneDNN {
            let floats = cgemm_packed_b_floats(outFeatures, inFeatures)
            let raw = UnsafeMutableRawPointer.allocate(byteCount: floats * MemoryLayout<Float>.stride, alignment: 64)
            let p = raw.bindMemory(to: Float.self, capacity: floats)
            // op(B) = Wᵀ: W is stored (out, in) = n × k, so trans_b = 1 with row stride `in`.
            cgemm_pack_b(1, outFeatures, inFeatures, weight, inFeatures, p)
            packed = p; packedBytes = floats * MemoryLayout<Float>.stride
        } else {
            packed = nil; packedBytes = 0
        }
    }

    deinit { packed?.deallocate() }

    /// Whether the weights are held packed (false: every call runs plain `sgemm`).
    package var isPacked: Bool { packed != nil }

    /// y (rows, out; row stride ldy) = x (rows, in; row stride ldx) · Wᵀ, split across up to `threads` threads as
    /// `sgemm` is (1 inside a `Parallel.parts` body).
    package func multiply(_ x: UnsafePointer<Float>, ldx: Int? = nil, rows: Int, into y: UnsafeMutablePointer<Float>, ldy: Int? = nil,
                          threads: Int) {
        let ldx = ldx ?? inFeatures, ldy = ldy ?? outFeatures
        precondition(rows >= 0 && ldx >= inFeatures && ldy >= outFeatures, "PackedWeights.multiply: bad shape")
        if rows == 0 { return }
        guard let packed,
              GemmChoice.kernel(.none, .transposed, m: rows, n: outFeatures, k: inFeatures, threads: threads) == .own else {
            return sgemm(.none, .transposed, m: rows, n: outFeatures, k: inFeatures, a: x, lda: ldx, b: weight,
                         ldb: inFeatures, c: y, ldc: ldy, threads: threads)
        }
        SplitGemm.run((.none, .transposed, rows, outFeatures, inFeatures, 1, x, ldx, nil, inFeatures, UnsafePointer(packed),
                       0, y, ldy), threads: threads)
    }
}
