// Scaled dot-product self-attention core (after the q/k/v projections): scores = q·kᵀ/√HS + padding mask,
// softmax, dropout, context = probs·v. Heads are read in place from (B, T, W) with leading dimension W, the
// layer's attention width NH·HS (= C unless structured pruning removed heads from this layer).
import TensorCore

/// One layer's attention activations.
struct AttentionActivations {
    let probs: Tensor          /// (B, NH, T, T) softmax output (NH: this layer's heads)
    let dropMask: Tensor?      /// (B, NH, T, T) dropout mask, when dropout is on
    let probsDropped: Tensor?  /// (B, NH, T, T) probs ⊙ dropMask, when dropout is on
}

/// The additive padding mask value, as transformers uses the dtype's minimum.
let maskedScore: Float = -Float.greatestFiniteMagnitude

/// One layer's attention shape: NH heads of size HS (HS is the config's C / num_attention_heads in every layer;
/// NH is the layer's own head count), so q, k, v and the context are (B, T, W) with W = NH·HS.
struct AttentionShape {
    let B: Int, T: Int, NH: Int, HS: Int
    var W: Int { NH * HS }
    var scale: Float { 1 / Float(HS).squareRoot() }
    /// Strides for a head inside a (B, T, W) activation.
    var hiddenStrides: BatchStrides { BatchStrides(batch: T * W, head: HS) }
    /// Strides for a head inside a (B, NH, T, T) score tensor.
    var scoreStrides: BatchStrides { BatchStrides(batch: NH * T * T, head: T * T) }
}

enum Attention {
    /// q, k, v (B, T, W); keyMask (B, T) with 0 for tokens and `maskedScore` for padding; ctx (B, T, W).
    static func forward(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                        keyMask: UnsafePointer<Float>, ctx: UnsafeMutablePointer<Float>, a: AttentionActivations,
                        shape s: AttentionShape, dropout: Float, threads: Int, probe: StepProbe, rng: inout Xoshiro256) {
        let (B, T, NH) = (s.B, s.T, s.NH)
        sgemmBatched(.none, .transposed, m: T, n: T, k: s.HS, batches: B, heads: NH, alpha: s.scale,
                     a: q, lda: s.W, aStrides: s.hiddenStrides, b: k, ldb: s.W, bStrides: s.hiddenStrides,
                     c: a.probs.pointer, ldc: T, cStrides: s.scoreStrides, threads: threads)
        probe.phaseEnded(.attention)
        for b in 0..<B {
            let m = keyMask + b * T
            for row in 0..<(NH * T) {
                let r = a.probs.pointer + (b * NH * T + row) * T
                for j in 0..<T { r[j] += m[j] }
            }
        }
        Kernels.softmaxForward(a.probs.pointer, a.probs.pointer, rows: B * NH * T, cols: T, threads: threads)
        probe.phaseEnded(.softmax)
        var used = a.probs.pointer
        if dropout > 0, let mask = a.dropMask, let dropped = a.probsDropped {
            Kernels.dropoutMask(mask.pointer, B * NH * T * T, p: dropout, rng: &rng, threads: threads)
            Kernels.multiply(a.probs.pointer, mask.pointer, dropped.pointer, B * NH * T * T)
            used = dropped.pointer
            probe.phaseEnded(.dropout)
        }
        sgemmBatched(.none, .none, m: T, n: s.HS, k: T, batches: B, heads: NH,
                     a: used, lda: T, aStrides: s.scoreStrides, b: v, ldb: s.W, bStrides: s.hiddenStrides,
                     c: ctx, ldc: s.W, cStrides: s.hiddenStrides, threads: threads)
        probe.phaseEnded(.attention)
    }

    /// From dctx (B, T, W) writes dq, dk, dv (B, T, W); dscores (B, NH, T, T) is scratch.
    static func backward(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                         dctx: UnsafePointer<Float>, dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>,
                         dv: UnsafeMutablePointer<Float>, dscores: UnsafeMutablePointer<Float>, a: AttentionActivations,
                         shape s: AttentionShape, dropout: Float, threads: Int, probe: StepProbe) {
        let (B, T, NH) = (s.B, s.T, s.NH)
        let dropped = dropout > 0 ? a.probsDropped : nil
        let used = dropped?.pointer ?? a.probs.pointer
        // dP = dctx · vᵀ ; dv = Pᵀ · dctx
        sgemmBatched(.none, .transposed, m: T, n: T, k: s.HS, batches: B, heads: NH,
                     a: dctx, lda: s.W, aStrides: s.hiddenStrides, b: v, ldb: s.W, bStrides: s.hiddenStrides,
                     c: dscores, ldc: T, cStrides: s.scoreStrides, threads: threads)
        sgemmBatched(.transposed, .none, m: T, n: s.HS, k: T, batches: B, heads: NH,
                     a: used, lda: T, aStrides: s.scoreStrides, b: dctx, ldb: s.W, bStrides: s.hiddenStrides,
                     c: dv, ldc: s.W, cStrides: s.hiddenStrides, threads: threads)
        probe.phaseEnded(.attention)
        if dropped != nil, let mask = a.dropMask {
            Kernels.multiply(dscores, mask.pointer, dscores, B * NH * T * T)
            probe.phaseEnded(.dropout)
        }
        Kernels.softmaxBackward(a.probs.pointer, dscores, dscores, rows: B * NH * T, cols: T, threads: threads)
        probe.phaseEnded(.softmax)
        // dq = scale · dS · k ; dk = scale · dSᵀ · q
        sgemmBatched(.none, .none, m: T, n: s.HS, k: T, batches: B, heads: NH, alpha: s.scale,
                     a: dscores, lda: T, aStrides: s.scoreStrides, b: k, ldb: s.W, bStrides: s.hiddenStrides,
                     c: dq, ldc: s.W, cStrides: s.hiddenStrides, threads: threads)
        sgemmBatched(.transposed, .none, m: T, n: s.HS, k: T, batches: B, heads: NH, alpha: s.scale,
                     a: dscores, lda: T, aStrides: s.scoreStrides, b: q, ldb: s.W, bStrides: s.hiddenStrides,
                     c: dk, ldc: s.W, cStrides: s.hiddenStrides, threads: threads)
        probe.phaseEnded(.attention)
    }
}
