// The two heads: masked-LM (dense → GELU → LayerNorm → decoder tied to the word embeddings + bias) on
// selected rows, and token classification (dropout → linear) on every row. Forward and backward together.
import TensorCore

/// MLM head activations over N selected rows (the rows with a label in training, all rows otherwise).
struct MLMActivations {
    let rows: UnsafeMutablePointer<Int32>     /// (N) flat (b·T + t) index of each selected row
    let labels: UnsafeMutablePointer<Int32>   /// (N)
    let input: Tensor                         /// (N, C) gathered encoder output
    let dense: Tensor                         /// (N, C) before GELU
    let gelu: Tensor                          /// (N, C)
    let normed: Tensor                        /// (N, C) after LayerNorm
    let mean, rstd: Tensor                    /// (N)
    let logits: Tensor                        /// (N, V); overwritten by ∂loss/∂logits in training
    let d1, d2: Tensor                        /// (N, C) backward scratch
}

/// Token-classification activations over all B·T rows.
struct ClassifierActivations {
    let dropped: Tensor      /// (B, T, C) encoder output after dropout
    let dropMask: Tensor?    /// (B, T, C)
    let labels: UnsafeMutablePointer<Int32>   /// (B, T)
    let logits: Tensor       /// (B, T, NL); overwritten by ∂loss/∂logits in training
}

extension ModelSlots {
    func mlmForward(hidden: UnsafePointer<Float>, rowCount N: Int, a: MLMActivations, config c: XLMRConfig,
                    params p: UnsafeMutablePointer<Float>, threads: Int, probe: StepProbe) {
        let C = c.hiddenSize, V = c.vocabSize
        for i in 0..<N { (a.input.pointer + i * C).update(from: hidden + Int(a.rows[i]) * C, count: C) }
        probe.phaseEnded(.other)
        lmDense!.forward(a.input.pointer, a.dense.pointer, rows: N, params: p, threads: threads, probe: probe)
        Kernels.geluForward(a.dense.pointer, a.gelu.pointer, N * C, threads: threads)
        probe.phaseEnded(.gelu)
        lmNorm!.forward(a.gelu.pointer, a.normed.pointer, mean: a.mean.pointer, rstd: a.rstd.pointer, rows: N,
                        eps: c.layerNormEps, params: p, threads: threads)
        probe.phaseEnded(.layerNorm)
        sgemm(.none, .transposed, m: N, n: V, k: C, a: a.normed.pointer, lda: C, b: p + wordEmbeddings, ldb: C,
              c: a.logits.pointer, ldc: V, threads: threads)
        probe.phaseEnded(.gemm)
        Kernels.addBias(a.logits.pointer, p + lmBias!, rows: N, cols: V)
        probe.phaseEnded(.other)
    }

    /// Expects ∂loss/∂logits in `a.logits`; adds ∂loss/∂hidden into `dHidden` (B, T, C), which the caller zeroed.
    func mlmBackward(dHidden: UnsafeMutablePointer<Float>, rowCount N: Int, a: MLMActivations, config c: XLMRConfig,
                     params p: UnsafeMutablePointer<Float>, grads g: UnsafeMutablePointer<Float>, threads: Int, probe: StepProbe) {
        let C = c.hiddenSize, V = c.vocabSize
        // Decoder tied to the word embeddings: d(word) += dlogitsᵀ · normed; dnormed = dlogits · word.
        sgemm(.transposed, .none, m: V, n: C, k: N, a: a.logits.pointer, lda: V, b: a.normed.pointer, ldb: C,
              beta: 1, c: g + wordEmbeddings, ldc: C, threads: threads)
        probe.phaseEnded(.gemm)
        Kernels.biasBackward(a.logits.pointer, g + lmBias!, rows: N, cols: V)
        probe.phaseEnded(.other)
        sgemm(.none, .none, m: N, n: C, k: V, a: a.logits.pointer, lda: V, b: p + wordEmbeddings, ldb: C,
              c: a.d1.pointer, ldc: C, threads: threads)
        probe.phaseEnded(.gemm)
        lmNorm!.backward(a.gelu.pointer, mean: a.mean.pointer, rstd: a.rstd.pointer, a.d1.pointer, a.d1.pointer, rows: N,
                         params: p, grads: g, threads: threads)
        probe.phaseEnded(.layerNorm)
        Kernels.geluBackward(a.dense.pointer, a.d1.pointer, a.d1.pointer, N * C, threads: threads)
        probe.phaseEnded(.gelu)
        lmDense!.backward(a.input.pointer, a.d1.pointer, a.d2.pointer, rows: N, params: p, grads: g, threads: threads, probe: probe)
        for i in 0..<N { Kernels.accumulate(a.d2.pointer + i * C, into: dHidden + Int(a.rows[i]) * C, C) }
        probe.phaseEnded(.other)
    }

    func classifierForward(hidden: UnsafePointer<Float>, rowCount N: Int, a: ClassifierActivations, config c: XLMRConfig,
                           params p: UnsafeMutablePointer<Float>, dropout: Float, threads: Int, probe: StepProbe,
                           rng: inout Xoshiro256) {
        let C = c.hiddenSize
        var input = hidden
        if dropout > 0, let m = a.dropMask {
            Kernels.dropoutMask(m.pointer, N * C, p: dropout, rng: &rng, threads: threads)
            Kernels.multiply(hidden, m.pointer, a.dropped.pointer, N * C)
            input = UnsafePointer(a.dropped.pointer)
            probe.phaseEnded(.dropout)
        }
        classifier!.forward(input, a.logits.pointer, rows: N, params: p, threads: threads, probe: probe)
    }

    func classifierBackward(hidden: UnsafePointer<Float>, dHidden: UnsafeMutablePointer<Float>, rowCount N: Int,
                            a: ClassifierActivations, config c: XLMRConfig, dropout: Float,
                            params p: UnsafeMutablePointer<Float>, grads g: UnsafeMutablePointer<Float>, threads: Int,
                            probe: StepProbe) {
        let C = c.hiddenSize
        let input = dropout > 0 && a.dropMask != nil ? UnsafePointer(a.dropped.pointer) : hidden
        classifier!.backward(input, a.logits.pointer, dHidden, rows: N, params: p, grads: g, threads: threads, probe: probe)
        if dropout > 0, let m = a.dropMask {
            Kernels.multiply(dHidden, m.pointer, dHidden, N * C)
            probe.phaseEnded(.dropout)
        }
    }
}
