// One post-LN encoder layer: self-attention → dense → dropout → +residual → LayerNorm,
// then dense → GELU → dense → dropout → +residual → LayerNorm. Forward and backward side by side.
import TensorCore

/// One layer's saved activations (all allocated once in the Workspace).
struct LayerActivations {
    let q, k, v: Tensor                 /// (B, T, W), W = this layer's attention width (heads × HS)
    let attention: AttentionActivations
    let ctx: Tensor                     /// (B, T, W) attention context
    let attentionSum: Tensor            /// (B, T, C) dropout(dense(ctx)) + input, before LayerNorm
    let attentionDrop: Tensor?          /// (B, T, C)
    let attentionOut: Tensor            /// (B, T, C) after LayerNorm
    let attentionMean, attentionRstd: Tensor  /// (B, T)
    let inter: Tensor                   /// (B, T, F) before GELU (F: this layer's FFN width)
    let gelu: Tensor                    /// (B, T, F) after GELU
    let outputSum: Tensor               /// (B, T, C) dropout(dense(gelu)) + attentionOut, before LayerNorm
    let outputDrop: Tensor?             /// (B, T, C)
    let out: Tensor                     /// (B, T, C) layer output
    let outputMean, outputRstd: Tensor  /// (B, T)
}

/// Scratch for the backward pass, shared by all layers (sized for the widest layer; each layer uses a prefix).
struct BackwardScratch {
    let d1, d2, dAttentionOut: Tensor   /// (B, T, C)
    let dInter: Tensor                  /// (B, T, max F)
    let dq, dk, dv, dctx: Tensor        /// (B, T, max W)
    let dscores: Tensor                 /// (B, max NH, T, T)
}

extension ModelSlots.Layer {
    func forward(_ x: UnsafePointer<Float>, keyMask: UnsafePointer<Float>, a: LayerActivations, shape s: AttentionShape,
                 config c: XLMRConfig, params p: UnsafeMutablePointer<Float>, dropout: (hidden: Float, attention: Float),
                 threads: Int, probe: StepProbe, rng: inout Xoshiro256) {
        let N = s.B * s.T, C = c.hiddenSize, F = intermediate.outFeatures
        query.forward(x, a.q.pointer, rows: N, params: p, threads: threads, probe: probe)
        key.forward(x, a.k.pointer, rows: N, params: p, threads: threads, probe: probe)
        value.forward(x, a.v.pointer, rows: N, params: p, threads: threads, probe: probe)
        Attention.forward(q: a.q.pointer, k: a.k.pointer, v: a.v.pointer, keyMask: keyMask, ctx: a.ctx.pointer,
                          a: a.attention, shape: s, dropout: dropout.attention, threads: threads, probe: probe, rng: &rng)
        attentionOutput.forward(a.ctx.pointer, a.attentionSum.pointer, rows: N, params: p, threads: threads, probe: probe)
        if dropout.hidden > 0, let m = a.attentionDrop {
            Kernels.dropoutMask(m.pointer, N * C, p: dropout.hidden, rng: &rng, threads: threads)
            Kernels.multiply(a.attentionSum.pointer, m.pointer, a.attentionSum.pointer, N * C)
            probe.phaseEnded(.dropout)
        }
        Kernels.add(a.attentionSum.pointer, x, a.attentionSum.pointer, N * C)
        probe.phaseEnded(.other)
        attentionNorm.forward(a.attentionSum.pointer, a.attentionOut.pointer, mean: a.attentionMean.pointer,
                              rstd: a.attentionRstd.pointer, rows: N, eps: c.layerNormEps, params: p, threads: threads)
        probe.phaseEnded(.layerNorm)
        intermediate.forward(a.attentionOut.pointer, a.inter.pointer, rows: N, params: p, threads: threads, probe: probe)
        Kernels.geluForward(a.inter.pointer, a.gelu.pointer, N * F, threads: threads)
        probe.phaseEnded(.gelu)
        output.forward(a.gelu.pointer, a.outputSum.pointer, rows: N, params: p, threads: threads, probe: probe)
        if dropout.hidden > 0, let m = a.outputDrop {
            Kernels.dropoutMask(m.pointer, N * C, p: dropout.hidden, rng: &rng, threads: threads)
            Kernels.multiply(a.outputSum.pointer, m.pointer, a.outputSum.pointer, N * C)
            probe.phaseEnded(.dropout)
        }
        Kernels.add(a.outputSum.pointer, a.attentionOut.pointer, a.outputSum.pointer, N * C)
        probe.phaseEnded(.other)
        outputNorm.forward(a.outputSum.pointer, a.out.pointer, mean: a.outputMean.pointer, rstd: a.outputRstd.pointer,
                           rows: N, eps: c.layerNormEps, params: p, threads: threads)
        probe.phaseEnded(.layerNorm)
    }

    /// `dHidden` (B, T, C) holds ∂loss/∂(layer output) on entry and ∂loss/∂(layer input) on return.
    func backward(_ x: UnsafePointer<Float>, dHidden: UnsafeMutablePointer<Float>, a: LayerActivations, s: BackwardScratch,
                  shape sh: AttentionShape, config c: XLMRConfig, dropout: (hidden: Float, attention: Float),
                  params p: UnsafeMutablePointer<Float>, grads g: UnsafeMutablePointer<Float>, threads: Int, probe: StepProbe) {
        let N = sh.B * sh.T, C = c.hiddenSize, F = intermediate.outFeatures
        let d1 = s.d1.pointer, d2 = s.d2.pointer, dAO = s.dAttentionOut.pointer
        // Output LayerNorm, residual and dropout.
        outputNorm.backward(a.outputSum.pointer, mean: a.outputMean.pointer, rstd: a.outputRstd.pointer, dHidden, d1,
                            rows: N, params: p, grads: g, threads: threads)
        probe.phaseEnded(.layerNorm)
        dAO.update(from: d1, count: N * C)
        probe.phaseEnded(.other)
        if dropout.hidden > 0, let m = a.outputDrop { Kernels.multiply(d1, m.pointer, d2, N * C) } else { d2.update(from: d1, count: N * C) }
        probe.phaseEnded(.dropout)
        // FFN.
        output.backward(a.gelu.pointer, d2, s.dInter.pointer, rows: N, params: p, grads: g, threads: threads, probe: probe)
        Kernels.geluBackward(a.inter.pointer, s.dInter.pointer, s.dInter.pointer, N * F, threads: threads)
        probe.phaseEnded(.gelu)
        intermediate.backward(a.attentionOut.pointer, s.dInter.pointer, dAO, accumulate: true, rows: N, params: p, grads: g,
                              threads: threads, probe: probe)
        // Attention LayerNorm, residual and dropout.
        attentionNorm.backward(a.attentionSum.pointer, mean: a.attentionMean.pointer, rstd: a.attentionRstd.pointer, dAO, d1,
                               rows: N, params: p, grads: g, threads: threads)
        probe.phaseEnded(.layerNorm)
        dHidden.update(from: d1, count: N * C)
        probe.phaseEnded(.other)
        if dropout.hidden > 0, let m = a.attentionDrop { Kernels.multiply(d1, m.pointer, d2, N * C) } else { d2.update(from: d1, count: N * C) }
        probe.phaseEnded(.dropout)
        attentionOutput.backward(a.ctx.pointer, d2, s.dctx.pointer, rows: N, params: p, grads: g, threads: threads, probe: probe)
        Attention.backward(q: a.q.pointer, k: a.k.pointer, v: a.v.pointer, dctx: s.dctx.pointer, dq: s.dq.pointer,
                           dk: s.dk.pointer, dv: s.dv.pointer, dscores: s.dscores.pointer, a: a.attention, shape: sh,
                           dropout: dropout.attention, threads: threads, probe: probe)
        query.backward(x, s.dq.pointer, dHidden, accumulate: true, rows: N, params: p, grads: g, threads: threads, probe: probe)
        key.backward(x, s.dk.pointer, dHidden, accumulate: true, rows: N, params: p, grads: g, threads: threads, probe: probe)
        value.backward(x, s.dv.pointer, dHidden, accumulate: true, rows: N, params: p, grads: g, threads: threads, probe: probe)
    }
}
