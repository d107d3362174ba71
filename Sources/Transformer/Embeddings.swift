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
    /// Adds to each of `count` rows of `x` (C wide) the mean of the table rows its `slots` n-gram entries name
    /// (-1: unused); a token without n-grams gets nothing.
    static func addNgramMeans(_ rows: some Collection<Int32>, slots K: Int, table: UnsafePointer<Float>,
                              into x: UnsafeMutablePointer<Float>, count: Int, C: Int) {
        var it = rows.makeIterator()
        var mine = [Int32](repeating: -1, count: K)
        for i in 0..<count {
            var used = 0
            for k in 0..<K { let r = it.next()!; mine[k] = r; if r >= 0 { used += 1 } }
            guard used > 0 else { continue }
            let scale = 1 / Float(used), o = x + i * C
            for k in 0..<K where mine[k] >= 0 {
                let e = table + Int(mine[k]) * C
                for j in 0..<C { o[j] += scale * e[j] }
            }
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
            Self.addNgramMeans(UnsafeBufferPointer(start: ngrams, count: B * T * a.ngramSlots), slots: a.ngramSlots,
                               table: p + table, into: a.sum.pointer, count: B * T, C: C)
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
            let K = a.ngramSlots
            for i in 0..<N {
                let rows = ngrams + i * K
                var count = 0
                for k in 0..<K where rows[k] >= 0 { count += 1 }
                guard count > 0 else { continue }
                let scale = 1 / Float(count), d = dout + i * C
                for k in 0..<K where rows[k] >= 0 {
                    let e = g + table + Int(rows[k]) * C
                    for j in 0..<C { e[j] += scale * d[j] }
                }
            }
        }
        probe.phaseEnded(.other)
    }
}
