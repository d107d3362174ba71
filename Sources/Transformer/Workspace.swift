// Activations and backward scratch, allocated once for a maximum batch shape and reused every step.
import TensorCore

/// Every buffer a forward (and, when `training`, a backward) pass needs, carved from one arena.
package final class Workspace {
    package let maxBatch: Int, maxTokens: Int, maxHeadRows: Int
    package let training: Bool
    let arena: Arena
    let ints: UnsafeMutablePointer<Int32>
    let intCount: Int
    let ngrams: UnsafeMutablePointer<Int32>?, ngramCount: Int

    let ids: UnsafeMutablePointer<Int32>        /// (B, T)
    let keyMask: Tensor                         /// (B, T) 0 or maskedScore
    var embeddings: EmbeddingActivations
    let layers: [LayerActivations]
    let scratch: BackwardScratch?
    let dHidden: Tensor?                        /// (B, T, C)
    let mlm: MLMActivations?
    let classifier: ClassifierActivations?

    // Shape of the last forward pass.
    package internal(set) var batch = 0, tokens = 0, headRows = 0
    package internal(set) var lastLoss: Float? = nil
    var lastForwardTrained = false

    /// `maxHeadRows` bounds the MLM head's rows (by default every token); `training` adds dropout masks and
    /// backward scratch.
    package init(config c: XLMRConfig, head: ModelHead, maxBatch B: Int, maxTokens T: Int, maxHeadRows: Int? = nil,
                 training: Bool) {
        precondition(B > 0 && T > 0, "Workspace: batch and tokens must be positive")
        maxBatch = B; maxTokens = T; self.training = training
        // Per layer l: W = attentionWidth(l), NH = heads(l), F = intermediate(l); the backward scratch takes the maxima.
        let C = c.hiddenSize, V = c.vocabSize, L = c.numHiddenLayers
        let Ws = (0..<L).map { c.attentionWidth(layer: $0) }, NHs = (0..<L).map { c.heads(layer: $0) }
        let Fs = (0..<L).map { c.intermediate(layer: $0) }
        let maxW = Ws.max() ?? C, maxNH = NHs.max() ?? 1, maxF = Fs.max() ?? 1
        let R = min(maxHeadRows ?? B * T, B * T)
        self.maxHeadRows = R
        let attentionDropout = training && c.attentionProbsDropoutProb > 0
        let hiddenDropout = training && c.hiddenDropoutProb > 0
        var shapes: [[Int]] = [[B, T], [B, T, C], [B, T], [B, T], [B, T, C]]
        if hiddenDropout { shapes.append([B, T, C]) }
        for l in 0..<L {
            let W = Ws[l], NH = NHs[l], F = Fs[l]
            shapes += [[B, T, W], [B, T, W], [B, T, W], [B, NH, T, T]]
            if attentionDropout { shapes += [[B, NH, T, T], [B, NH, T, T]] }
            shapes += [[B, T, W], [B, T, C], [B, T, C], [B, T], [B, T], [B, T, F], [B, T, F], [B, T, C], [B, T, C], [B, T], [B, T]]
            if hiddenDropout { shapes += [[B, T, C], [B, T, C]] }
        }
        if training {
            shapes += [[B, T, C], [B, T, C], [B, T, C], [B, T, maxF], [B, T, maxW], [B, T, maxW], [B, T, maxW], [B, T, maxW],
                       [B, maxNH, T, T], [B, T, C]]
        }
        var classifierDropout: Float = 0
        switch head {
        case .maskedLM:
            shapes += [[R, C], [R, C], [R, C], [R, C], [R], [R], [R, V]]
            if training { shapes += [[R, C], [R, C]] }
        case .tokenClassification(let labels):
            classifierDropout = c.classifierDropout ?? c.hiddenDropoutProb
            shapes += [[B, T, C], [B, T, labels]]
            if training && classifierDropout > 0 { shapes.append([B, T, C]) }
        }
        var ar = Arena(count: Arena.size(shapes))
        intCount = 5 * B * T
        ints = UnsafeMutablePointer<Int32>.allocate(capacity: intCount)
        ints.initialize(repeating: 0, count: intCount)
        ids = ints

        keyMask = ar.take([B, T])
        let embSum = ar.take([B, T, C]), embMean = ar.take([B, T]), embRstd = ar.take([B, T]), embOut = ar.take([B, T, C])
        let ngramCount = c.charNgramBuckets > 0 ? B * T * TokenBatch.maxNgramSlots : 0
        ngrams = ngramCount > 0 ? UnsafeMutablePointer<Int32>.allocate(capacity: ngramCount) : nil
        ngrams?.initialize(repeating: -1, count: ngramCount)
        self.ngramCount = ngramCount
        embeddings = EmbeddingActivations(positions: ints + B * T, types: ints + 4 * B * T, sum: embSum, mean: embMean, rstd: embRstd, out: embOut,
                                          dropMask: hiddenDropout ? ar.take([B, T, C]) : nil, ngrams: ngrams)
        var layers: [LayerActivations] = []
        for l in 0..<L {
            let W = Ws[l], NH = NHs[l], F = Fs[l]
            let q = ar.take([B, T, W]), k = ar.take([B, T, W]), v = ar.take([B, T, W]), probs = ar.take([B, NH, T, T])
            let dm = attentionDropout ? ar.take([B, NH, T, T]) : nil
            let pd = attentionDropout ? ar.take([B, NH, T, T]) : nil
            let ctx = ar.take([B, T, W]), aSum = ar.take([B, T, C]), aOut = ar.take([B, T, C])
            let aMean = ar.take([B, T]), aRstd = ar.take([B, T])
            let inter = ar.take([B, T, F]), gelu = ar.take([B, T, F])
            let oSum = ar.take([B, T, C]), out = ar.take([B, T, C]), oMean = ar.take([B, T]), oRstd = ar.take([B, T])
            let aDrop = hiddenDropout ? ar.take([B, T, C]) : nil
            let oDrop = hiddenDropout ? ar.take([B, T, C]) : nil
            layers.append(LayerActivations(
                q: q, k: k, v: v, attention: AttentionActivations(probs: probs, dropMask: dm, probsDropped: pd),
                ctx: ctx, attentionSum: aSum, attentionDrop: aDrop, attentionOut: aOut, attentionMean: aMean,
                attentionRstd: aRstd, inter: inter, gelu: gelu, outputSum: oSum, outputDrop: oDrop, out: out,
                outputMean: oMean, outputRstd: oRstd))
        }
        self.layers = layers
        if training {
            scratch = BackwardScratch(d1: ar.take([B, T, C]), d2: ar.take([B, T, C]), dAttentionOut: ar.take([B, T, C]),
                                      dInter: ar.take([B, T, maxF]), dq: ar.take([B, T, maxW]), dk: ar.take([B, T, maxW]),
                                      dv: ar.take([B, T, maxW]), dctx: ar.take([B, T, maxW]), dscores: ar.take([B, maxNH, T, T]))
            dHidden = ar.take([B, T, C])
        } else {
            scratch = nil; dHidden = nil
        }
        switch head {
        case .maskedLM:
            let input = ar.take([R, C]), dense = ar.take([R, C]), gelu = ar.take([R, C]), normed = ar.take([R, C])
            let mean = ar.take([R]), rstd = ar.take([R]), logits = ar.take([R, V])
            let d1 = training ? ar.take([R, C]) : normed, d2 = training ? ar.take([R, C]) : normed
            mlm = MLMActivations(rows: ints + 2 * B * T, labels: ints + 3 * B * T, input: input, dense: dense, gelu: gelu,
                                 normed: normed, mean: mean, rstd: rstd, logits: logits, d1: d1, d2: d2)
            classifier = nil
        case .tokenClassification(let labels):
            let dropped = ar.take([B, T, C]), logits = ar.take([B, T, labels])
            let mask = training && classifierDropout > 0 ? ar.take([B, T, C]) : nil
            classifier = ClassifierActivations(dropped: dropped, dropMask: mask, labels: ints + 3 * B * T, logits: logits)
            mlm = nil
        }
        arena = ar
    }

    deinit { ints.deallocate(); ngrams?.deallocate() }

    /// Bytes held by this workspace.
    package var byteCount: Int { arena.storage.count * 4 + intCount * 4 + ngramCount * 4 }

    /// The logits of the last forward pass: (headRows, outputs). For token classification and for MLM in
    /// evaluation, headRows = B·T in order; in MLM training only the labelled rows (see `headRowIndex`).
    package func logits(outputs: Int) -> Tensor {
        if let mlm { return Tensor(mlm.logits.pointer, [headRows, outputs]) }
        return Tensor(classifier!.logits.pointer, [headRows, outputs])
    }

    /// For MLM, the flat (b·T + t) position of each head row.
    package func headRowIndex(_ i: Int) -> Int { mlm.map { Int($0.rows[i]) } ?? i }
}
