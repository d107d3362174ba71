// Embeddings: word + position (from padding_idx + 1, skipping pads) + token type (each token's row of the type table,
// row 0 when the batch has no types), then LayerNorm and dropout.
import TensorCore

/// The embedding activations of one step.
struct EmbeddingActivations {
    let positions: UnsafeMutablePointer<Int32>   /// (B, T) position ids
    let types: UnsafeMutablePointer<Int32>       /// (B, T) token type ids (all 0 when the batch has none)
    let sum: Tensor                              /// (B, T, C) before LayerNorm
    let mean: Tensor, rstd: Tensor               /// (B, T)
    let out: Tensor                              /// (B, T, C) after LayerNorm and dropout
    let dropMask: Tensor?                        /// (B, T, C) when dropout is on
    let ngrams: UnsafeMutablePointer<Int32>?     /// (B, T, ngramSlots) n-gram table rows, -1 unused; with a table
    var ngramSlots = 0
}

extension ModelSlots {
    /// Calls `body(token, row, weight)` for every used n-gram slot of `count` tokens (`slots` entries each, -1
    /// unused), weight 1 / (the token's used slots): a token's n-gram input is the weighted sum of its rows. The
    /// training forward and backward passes and the inference encoder all walk the rows this way.
    @inline(__always)
    static func forEachNgram(_ rows: UnsafePointer<Int32>, slots K: Int, count: Int, _ body: (Int, Int, Float) -> Void) {
        for i in 0..<count {
            let slots = rows + i * K
            var used = 0
            for k in 0..<K where slots[k] >= 0 { used += 1 }
            guard used > 0 else { continue }
            let weight = 1 / Float(used)
            for k in 0..<K where slots[k] >= 0 { body(i, Int(slots[k]), weight) }
        }
    }

    /// Position ids as transformers computes them: pads keep padding_idx, others count up from padding_idx + 1.
    static func positionIds(_ ids: UnsafePointer<Int32>, _ positions: UnsafeMutablePointer<Int32>, B: Int, T: Int, pad: Int32) {
        for b in 0..<B {
            var running: Int32 = 0
            for t in 0..<T {
                let i = b * T + t
                if ids[i] != pad { running += 1; positions[i] = pad + running } else { positions[i] = pad }
            }
        }
    }

    func embeddingForward(_ ids: UnsafePointer<Int32>, B: Int, T: Int, config c: XLMRConfig, a: EmbeddingActivations,
                          params p: UnsafeMutablePointer<Float>, dropout: Float, threads: Int, probe: StepProbe,
                          rng: inout Xoshiro256) {
        let C = c.hiddenSize
        Self.positionIds(ids, a.positions, B: B, T: T, pad: Int32(c.padTokenId))
        let word = p + wordEmbeddings, pos = p + positionEmbeddings, type = p + tokenTypeEmbeddings
        for i in 0..<(B * T) {
            let w = word + Int(ids[i]) * C, q = pos + Int(a.positions[i]) * C, r = type + Int(a.types[i]) * C
            let o = a.sum.pointer + i * C
            for j in 0..<C { o[j] = w[j] + q[j] + r[j] }
        }
        if let table = charNgramEmbeddings, let ngrams = a.ngrams {
            Self.forEachNgram(ngrams, slots: a.ngramSlots, count: B * T) { i, row, weight in
                let o = a.sum.pointer + i * C, e = p + table + row * C
                for j in 0..<C { o[j] += weight * e[j] }
            }
        }
        probe.phaseEnded(.other)
        embeddingNorm.forward(a.sum.pointer, a.out.pointer, mean: a.mean.pointer, rstd: a.rstd.pointer, rows: B * T,
                              eps: c.layerNormEps, params: p, threads: threads)
        probe.phaseEnded(.layerNorm)
        if let mask = a.dropMask, dropout > 0 {
            Kernels.dropoutMask(mask.pointer, B * T * C, p: dropout, rng: &rng, threads: threads)
            Kernels.multiply(a.out.pointer, mask.pointer, a.out.pointer, B * T * C)
            probe.phaseEnded(.dropout)
        }
    }

    /// dout (B, T, C) is the gradient of the embedding output; it is overwritten as scratch.
    func embeddingBackward(_ ids: UnsafePointer<Int32>, B: Int, T: Int, config c: XLMRConfig, a: EmbeddingActivations,
                           dout: UnsafeMutablePointer<Float>, dropout: Float,
                           params p: UnsafeMutablePointer<Float>, grads g: UnsafeMutablePointer<Float>, threads: Int, probe: StepProbe) {
        let C = c.hiddenSize, N = B * T
        if let mask = a.dropMask, dropout > 0 {
            Kernels.multiply(dout, mask.pointer, dout, N * C)
            probe.phaseEnded(.dropout)
        }
        embeddingNorm.backward(a.sum.pointer, mean: a.mean.pointer, rstd: a.rstd.pointer, dout, dout, rows: N, params: p, grads: g,
                               threads: threads)
        probe.phaseEnded(.layerNorm)
        let word = g + wordEmbeddings, pos = g + positionEmbeddings, type = g + tokenTypeEmbeddings
        let pad = Int32(c.padTokenId)
        for i in 0..<N {
            let d = dout + i * C
            // As torch's Embedding(padding_idx:), the padding rows of both tables receive no gradient.
            if ids[i] != pad { Kernels.accumulate(d, into: word + Int(ids[i]) * C, C) }
            if a.positions[i] != pad { Kernels.accumulate(d, into: pos + Int(a.positions[i]) * C, C) }
            Kernels.accumulate(d, into: type + Int(a.types[i]) * C, C)
        }
        if let table = charNgramEmbeddings, let ngrams = a.ngrams {
            Self.forEachNgram(ngrams, slots: a.ngramSlots, count: N) { i, row, weight in
                let d = dout + i * C, e = g + table + row * C
                for j in 0..<C { e[j] += weight * d[j] }
            }
        }
        probe.phaseEnded(.other)
    }
}
