// The inference-only encoder every compressed variant runs on: no dropout, no saved activations, buffers
// allocated once per largest shape seen and reused. Its linear layers are `LinearKernel`s (fp32 views of an
// XLMRModel by default, any replacement by name), its word embeddings an `EmbeddingLookup`. Per-layer shapes
// come only from config.heads(layer:), attentionWidth(layer:) and intermediate(layer:).
import TensorCore

package final class InferenceEncoder: TokenLogitsModel, PartsBody {
    package let config: XLMRConfig
    package let head: ModelHead
    package let outputCount: Int
    package var padId: Int32 { Int32(config.padTokenId) }
    package var takesWordShapes: Bool { config.wordShapeTypes }
    package var charNgramBuckets: Int { config.charNgramBuckets }

    struct Norm { let gamma: UnsafePointer<Float>, beta: UnsafePointer<Float> }
    struct Layer {
        let query, key, value, attentionOutput, intermediate, output: LinearKernel
        let attentionNorm, outputNorm: Norm
        let heads: Int, width: Int, ffn: Int
        /// query, key and value in one pass when their kernels can fuse (`LinearFusing`).
        var qkv: FusedLinearKernels? = nil
    }

    /// The word-embedding table (possibly quantized).
    package let wordEmbeddings: EmbeddingLookup
    let positions: UnsafePointer<Float>     /// (P, C)
    let tokenTypes: UnsafePointer<Float>    /// (type_vocab_size, C)
    /// The character n-gram table (buckets, C) when the config has one (possibly quantized).
    package let charNgramTable: EmbeddingLookup?
    let embeddingNorm: Norm
    let layers: [Layer]
    /// Token classification: the classifier. MLM: dense, LayerNorm, and the decoder (tied weights + lm bias).
    let classifier: LinearKernel?
    let lmDense: LinearKernel?, lmNorm: Norm?, decoder: LinearKernel?
    /// The fp32 buffer the non-kernel parameters (LayerNorms, position table) live in.
    private let parameters: FloatBuffer

    /// When above 1, GELU and the attention loop split over this many threads (`Parallel.parts`), as
    /// `SplitPackedLinear` kernels do for the linear layers; see `InferenceEncoder.split(model:parts:)`.
    package var parallelParts = 1
    /// The threads the kernels it calls itself (attention, LayerNorm, GELU) compute with: its model's.
    package let compute: ComputeContext
    /// Told as each piece of a pass ends (`StepPhase`): the linear layers' products (a GELU fused into an fp32
    /// product counts with it), attention (q·kᵀ, mask, softmax, probs·v), LayerNorm, unfused GELU, the rest; handed
    /// to the kernels that report their own phases (int8 quantization and dequantization, `PhaseReporting`).
    /// Measures nothing by default; `bench compress` takes the linear share of its Amdahl bound from it.
    package var probe: StepProbe = NoStepProbe.shared {
        didSet {
            let kernels: [AnyObject] = linears.map(\.kernel) + layers.compactMap(\.qkv)
            for case let k as PhaseReporting in kernels { k.probe = probe }
        }
    }

    // Buffers for the largest (B, T) seen so far.
    private var capacity = (batch: 0, tokens: 0)
    private var arena = Arena(count: 0)
    private var ints: [Int32] = []
    /// [q, k, v] for a fused query/key/value kernel, kept so a pass builds no array.
    private var qkvOutputs: [UnsafeMutablePointer<Float>] = []
    private var hidden, scratch, q, k, v, ctx, inter, scores, mean, rstd, keyMask, logitsBuffer: Tensor?

    /// Builds the encoder from `model`'s parameters. Every linear is the fp32 view of the model's weights unless
    /// `replacing` has a kernel under its name (`roberta.encoder.layer.L.intermediate.dense`, `classifier`,
    /// `lm_head.dense`, `lm_head.decoder`); `wordEmbeddings` replaces the embedding table.
    package init(model: XLMRModel, replacing: [String: LinearKernel] = [:], wordEmbeddings: EmbeddingLookup? = nil,
                 charNgramEmbeddings: EmbeddingLookup? = nil) throws {
        let c = model.config
        config = c; head = model.head; outputCount = model.outputCount; parameters = model.parameters; compute = model.compute
        let p = model.parameters.pointer
        func offset(_ name: String) throws -> UnsafePointer<Float> {
            guard let e = model.layout.entry(name) else { throw ModelError("inference encoder: the model has no tensor \(name)") }
            return UnsafePointer(p + e.offset)
        }
        func norm(_ prefix: String) throws -> Norm { Norm(gamma: try offset(prefix + ".weight"), beta: try offset(prefix + ".bias")) }
        func linear(_ name: String, in inF: Int, out outF: Int) throws -> LinearKernel {
            let kernel: LinearKernel? = replacing[name] ?? model.denseLinear(name)
            guard let kernel else { throw ModelError("inference encoder: the model has no linear layer \(name)") }
            guard kernel.inFeatures == inF, kernel.outFeatures == outF else {
                throw ModelError("inference encoder: kernel \(name) is (in \(kernel.inFeatures), out \(kernel.outFeatures)), expected (in \(inF), out \(outF))")
            }
            return kernel
        }
        let C = c.hiddenSize
        let word = try offset("roberta.embeddings.word_embeddings.weight")
        let table = wordEmbeddings ?? DenseEmbedding(table: word, rows: c.vocabSize, cols: C, owner: model.parameters)
        guard table.rows == c.vocabSize, table.cols == C else {
            throw ModelError("inference encoder: embedding table is (\(table.rows), \(table.cols)), expected (\(c.vocabSize), \(C))")
        }
        self.wordEmbeddings = table
        positions = try offset("roberta.embeddings.position_embeddings.weight")
        tokenTypes = try offset("roberta.embeddings.token_type_embeddings.weight")
        if c.charNgramBuckets > 0 {
            let ngramTable = try charNgramEmbeddings
                ?? DenseEmbedding(table: try offset(ModelSlots.charNgramTensor), rows: c.charNgramBuckets, cols: C, owner: model.parameters)
            guard ngramTable.rows == c.charNgramBuckets, ngramTable.cols == C else {
                throw ModelError("inference encoder: n-gram table is (\(ngramTable.rows), \(ngramTable.cols)), expected (\(c.charNgramBuckets), \(C))")
            }
            charNgramTable = ngramTable
        } else {
            charNgramTable = nil
        }
        embeddingNorm = try norm("roberta.embeddings.LayerNorm")
        var layers: [Layer] = []
        for l in 0..<c.numHiddenLayers {
            let W = c.attentionWidth(layer: l), F = c.intermediate(layer: l)
            func n(_ kind: String) -> String { LinearNames.name(layer: l, kind) }
            layers.append(Layer(
                query: try linear(n(LinearNames.query), in: C, out: W), key: try linear(n(LinearNames.key), in: C, out: W),
                value: try linear(n(LinearNames.value), in: C, out: W),
                attentionOutput: try linear(n(LinearNames.attentionOutput), in: W, out: C),
                intermediate: try linear(n(LinearNames.intermediate), in: C, out: F),
                output: try linear(n(LinearNames.output), in: F, out: C),
                attentionNorm: try norm(n("attention.output.LayerNorm")), outputNorm: try norm(n("output.LayerNorm")),
                heads: c.heads(layer: l), width: W, ffn: F))
            if let q = layers[l].query as? LinearFusing { layers[l].qkv = q.fused(with: [layers[l].key, layers[l].value]) }
        }
        self.layers = layers
        switch model.head {
        case .tokenClassification(let labels):
            classifier = try linear("classifier", in: C, out: labels)
            lmDense = nil; lmNorm = nil; decoder = nil
        case .maskedLM:
            classifier = nil
            lmDense = try linear("lm_head.dense", in: C, out: C)
            lmNorm = try norm("lm_head.layer_norm")
            decoder = try replacing["lm_head.decoder"]
                ?? DenseLinear(weight: word, bias: try offset("lm_head.bias"), inFeatures: C, outFeatures: c.vocabSize, owner: model.parameters,
                               threads: model.compute.threads)
            guard decoder!.inFeatures == C, decoder!.outFeatures == c.vocabSize else {
                throw ModelError("inference encoder: decoder kernel is (\(decoder!.inFeatures), \(decoder!.outFeatures)), expected (\(C), \(c.vocabSize))")
            }
        }
    }

    /// Every linear kernel with its name, encoder layers first, then the head.
    package var linears: [(name: String, kernel: LinearKernel)] {
        var out: [(String, LinearKernel)] = []
        for (l, layer) in layers.enumerated() {
            out += [(LinearNames.name(layer: l, LinearNames.query), layer.query), (LinearNames.name(layer: l, LinearNames.key), layer.key),
                    (LinearNames.name(layer: l, LinearNames.value), layer.value),
                    (LinearNames.name(layer: l, LinearNames.attentionOutput), layer.attentionOutput),
                    (LinearNames.name(layer: l, LinearNames.intermediate), layer.intermediate),
                    (LinearNames.name(layer: l, LinearNames.output), layer.output)]
        }
        if let classifier { out.append(("classifier", classifier)) }
        if let lmDense { out.append(("lm_head.dense", lmDense)) }
        if let decoder { out.append(("lm_head.decoder", decoder)) }
        return out
    }

    /// Bytes of the encoder's linear layers (weights, scales, biases) as stored.
    package var encoderLinearBytes: Int { layers.reduce(0) { s, l in
        s + [l.query, l.key, l.value, l.attentionOutput, l.intermediate, l.output].reduce(0) { $0 + $1.byteCount } } }

    // MARK: Forward

    package func logits(_ batch: TokenBatch) throws -> [Float] {
        let out = try forward(batch)
        return Array(UnsafeBufferPointer(start: out, count: batch.batch * batch.tokens * outputCount))
    }

    /// Runs the encoder and head; returns a pointer to the logits (B, T, outputCount), valid until the next call.
    package func forward(_ batch: TokenBatch) throws -> UnsafePointer<Float> {
        try validate(batch)
        let probe = self.probe
        probe.phaseEnded(.other)
        let B = batch.batch, T = batch.tokens, N = B * T, C = config.hiddenSize, HS = config.headSize
        reserve(batch: B, tokens: T)
        let x = hidden!.pointer, tmp = scratch!.pointer, mu = mean!.pointer, rs = rstd!.pointer, eps = config.layerNormEps
        // Embeddings: word + position (from padding_idx + 1, skipping pads) + token type (row 0 without types),
        // then LayerNorm.
        ints.withUnsafeMutableBufferPointer { buf in
            let ids = buf.baseAddress!, pos = ids + N, types = ids + 2 * N
            batch.ids.withUnsafeBufferPointer { ids.update(from: $0.baseAddress!, count: N) }
            if let given = batch.tokenTypes {
                given.withUnsafeBufferPointer { types.update(from: $0.baseAddress!, count: N) }
            } else {
                types.update(repeating: 0, count: N)
            }
            ModelSlots.positionIds(ids, pos, B: B, T: T, pad: padId)
            for i in 0..<N {
                let o = x + i * C, pr = positions + Int(pos[i]) * C, ty = tokenTypes + Int(types[i]) * C
                for j in 0..<C { o[j] = pr[j] + ty[j] }
                wordEmbeddings.addRow(Int(ids[i]), into: o)
            }
        }
        if let table = charNgramTable, let rows = batch.charNgrams {
            rows.withUnsafeBufferPointer { r in
                ModelSlots.forEachNgram(r.baseAddress!, slots: batch.ngramSlots, count: N) { i, row, weight in
                    table.addRow(row, scaled: weight, into: x + i * C)
                }
            }
        }
        probe.phaseEnded(.other)
        normalize(x, adding: nil, embeddingNorm, rows: N)
        probe.phaseEnded(.layerNorm)
        for i in 0..<N { keyMask!.pointer[i] = batch.attentionMask[i] != 0 ? 0 : maskedScore }
        probe.phaseEnded(.other)
        for layer in layers {
            let F = layer.ffn
            if let qkv = layer.qkv {
                qkv.apply(x, rows: N, into: qkvOutputs)
            } else {
                layer.query.apply(x, rows: N, into: q!.pointer)
                layer.key.apply(x, rows: N, into: k!.pointer)
                layer.value.apply(x, rows: N, into: v!.pointer)
            }
            probe.phaseEnded(.gemm)
            attention(B: B, T: T, NH: layer.heads, HS: HS, W: layer.width)
            probe.phaseEnded(.attention)
            layer.attentionOutput.apply(ctx!.pointer, rows: N, into: tmp)
            probe.phaseEnded(.gemm)
            normalize(x, adding: tmp, layer.attentionNorm, rows: N)
            probe.phaseEnded(.layerNorm)
            if let split = layer.intermediate as? GeluFusing {
                split.apply(x, rows: N, into: inter!.pointer, gelu: true)
                probe.phaseEnded(.gemm)
            } else {
                layer.intermediate.apply(x, rows: N, into: inter!.pointer)
                probe.phaseEnded(.gemm)
                Kernels.geluForward(inter!.pointer, inter!.pointer, N * F, threads: compute.threads)
                probe.phaseEnded(.gelu)
            }
            layer.output.apply(inter!.pointer, rows: N, into: tmp)
            probe.phaseEnded(.gemm)
            normalize(x, adding: tmp, layer.outputNorm, rows: N)
            probe.phaseEnded(.layerNorm)
        }
        let out = logitsBuffer!.pointer
        if let classifier {
            classifier.apply(x, rows: N, into: out)
            probe.phaseEnded(.gemm)
        } else if let lmDense, let lmNorm, let decoder {
            lmDense.apply(x, rows: N, into: tmp)
            probe.phaseEnded(.gemm)
            Kernels.geluForward(tmp, tmp, N * C, threads: compute.threads)
            probe.phaseEnded(.gelu)
            Kernels.layerNormForward(tmp, lmNorm.gamma, lmNorm.beta, tmp, mean: mu, rstd: rs, rows: N, cols: C, eps: eps,
                                     threads: compute.threads)
            probe.phaseEnded(.layerNorm)
            decoder.apply(tmp, rows: N, into: out)
            probe.phaseEnded(.gemm)
        }
        return UnsafePointer(out)
    }

    /// x (rows, C) = LayerNorm(x + residual) (or of x alone), row by row: split by rows over `parallelParts`
    /// threads when that is above 1 and the matrix has at least `splitNormElements` values.
    private func normalize(_ x: UnsafeMutablePointer<Float>, adding residual: UnsafePointer<Float>?, _ norm: Norm, rows: Int) {
        let C = config.hiddenSize
        let parts = rows * C >= Self.splitNormElements ? min(parallelParts, rows) : 1
        pending = .normalize(x: x, residual: residual, norm: norm, rows: rows, parts: parts)
        Parallel.parts(parts, self)
        pending = .none
    }

    /// A split step's arguments, for `runPart` (`Parallel.parts` calls it without allocating, unlike a closure).
    private enum Pending {
        case none
        case normalize(x: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?, norm: Norm, rows: Int, parts: Int)
        case attention(B: Int, T: Int, NH: Int, HS: Int, W: Int, parts: Int)
    }
    private var pending = Pending.none

    package func runPart(_ part: Int) {
        switch pending {
        case .none: return
        case let .normalize(x, residual, norm, rows, parts): normalizeRows(part, x: x, adding: residual, norm, rows: rows, parts: parts)
        case let .attention(B, T, NH, HS, W, parts): attentionPairs(part, B: B, T: T, NH: NH, HS: HS, W: W, parts: parts)
        }
    }

    /// Rows part·rows/parts ..< (part+1)·rows/parts of `normalize`: one thread's work when split, else the whole
    /// LayerNorm on the encoder's threads.
    private func normalizeRows(_ part: Int, x: UnsafeMutablePointer<Float>, adding residual: UnsafePointer<Float>?, _ norm: Norm,
                               rows: Int, parts: Int) {
        let C = config.hiddenSize, mu = mean!.pointer, rs = rstd!.pointer, eps = config.layerNormEps
        let start = rows * part / parts, end = rows * (part + 1) / parts
        if end == start { return }
        let xs = x + start * C
        if let residual { Kernels.add(residual + start * C, xs, xs, (end - start) * C) }
        Kernels.layerNormForward(xs, norm.gamma, norm.beta, xs, mean: mu + start, rstd: rs + start, rows: end - start, cols: C, eps: eps,
                                 threads: parts == 1 ? compute.threads : 1)
    }

    /// Below this many values (rows × hidden) a residual LayerNorm runs on the calling thread.
    static let splitNormElements = 1 << 13

    /// Self-attention core over q, k, v (B, T, W) into ctx (B, T, W): per (batch, head) scores = q·kᵀ/√HS + mask,
    /// softmax, probs·v, heads read in place with leading dimension W.
    private func attention(B: Int, T: Int, NH: Int, HS: Int, W: Int) {
        if parallelParts > 1 && B * NH > 1 { return splitAttention(B: B, T: T, NH: NH, HS: HS, W: W) }
        let hiddenStrides = BatchStrides(batch: T * W, head: HS), scoreStrides = BatchStrides(batch: NH * T * T, head: T * T)
        let s = scores!.pointer
        sgemmBatched(.none, .transposed, m: T, n: T, k: HS, batches: B, heads: NH, alpha: 1 / Float(HS).squareRoot(),
                     a: q!.pointer, lda: W, aStrides: hiddenStrides, b: k!.pointer, ldb: W, bStrides: hiddenStrides,
                     c: s, ldc: T, cStrides: scoreStrides, threads: compute.threads)
        let mask = keyMask!.pointer
        for b in 0..<B {
            let m = mask + b * T
            for row in 0..<(NH * T) {
                let r = s + (b * NH * T + row) * T
                for j in 0..<T { r[j] += m[j] }
            }
        }
        Kernels.softmaxForward(s, s, rows: B * NH * T, cols: T, threads: compute.threads)
        sgemmBatched(.none, .none, m: T, n: HS, k: T, batches: B, heads: NH, a: s, lda: T, aStrides: scoreStrides,
                     b: v!.pointer, ldb: W, bStrides: hiddenStrides, c: ctx!.pointer, ldc: W, cStrides: hiddenStrides,
                     threads: compute.threads)
    }

    /// `attention` with the (batch, head) pairs dealt round-robin over `parallelParts` threads, each running a
    /// pair's whole chain (q·kᵀ, mask, softmax, probs·v) with single-threaded sgemm: one hand-over per layer.
    private func splitAttention(B: Int, T: Int, NH: Int, HS: Int, W: Int) {
        let parts = min(parallelParts, B * NH)
        pending = .attention(B: B, T: T, NH: NH, HS: HS, W: W, parts: parts)
        Parallel.parts(parts, self)
        pending = .none
    }

    /// The (batch, head) pairs part, part + parts, … of `splitAttention`.
    private func attentionPairs(_ part: Int, B: Int, T: Int, NH: Int, HS: Int, W: Int, parts: Int) {
        let s = scores!.pointer, mask = keyMask!.pointer, qp = q!.pointer, kp = k!.pointer, vp = v!.pointer, cp = ctx!.pointer
        let total = B * NH, scale = 1 / Float(HS).squareRoot()
        for index in stride(from: part, to: total, by: parts) {
            let b = index / NH, h = index % NH, sp = s + index * T * T, offset = b * T * W + h * HS
            sgemm(.none, .transposed, m: T, n: T, k: HS, alpha: scale, a: qp + offset, lda: W, b: kp + offset, ldb: W,
                  c: sp, ldc: T, threads: 1)
            let m = mask + b * T
            for r in 0..<T {
                let row = sp + r * T
                for j in 0..<T { row[j] += m[j] }
            }
            Kernels.softmaxForward(sp, sp, rows: T, cols: T, threads: 1)
            sgemm(.none, .none, m: T, n: HS, k: T, a: sp, lda: T, b: vp + offset, ldb: W, c: cp + offset, ldc: W, threads: 1)
        }
    }

    /// Grows the buffers when (B, T) exceeds every shape seen so far; otherwise reuses them.
    private func reserve(batch B: Int, tokens T: Int) {
        if B <= capacity.batch && T <= capacity.tokens { return }
        let b = max(B, capacity.batch), t = max(T, capacity.tokens), N = b * t, C = config.hiddenSize
        let W = layers.map(\.width).max() ?? C, F = layers.map(\.ffn).max() ?? 1, NH = layers.map(\.heads).max() ?? 1
        let shapes = [[N, C], [N, C], [N, W], [N, W], [N, W], [N, W], [N, F], [b, NH, t, t], [N], [N], [N], [N, outputCount]]
        var ar = Arena(count: Arena.size(shapes))
        hidden = ar.take([N, C]); scratch = ar.take([N, C])
        q = ar.take([N, W]); k = ar.take([N, W]); v = ar.take([N, W]); ctx = ar.take([N, W]); inter = ar.take([N, F])
        scores = ar.take([b, NH, t, t]); mean = ar.take([N]); rstd = ar.take([N]); keyMask = ar.take([N])
        logitsBuffer = ar.take([N, outputCount])
        qkvOutputs = [q!.pointer, k!.pointer, v!.pointer]
        arena = ar
        ints = [Int32](repeating: 0, count: 3 * N)
        capacity = (b, t)
    }

    private func validate(_ b: TokenBatch) throws {
        let N = b.batch * b.tokens
        guard b.batch >= 1, b.tokens >= 1 else { throw ModelError("batch shape (\(b.batch), \(b.tokens)): expected both >= 1") }
        guard b.ids.count == N else { throw ModelError("ids has \(b.ids.count) values, expected batch × tokens = \(N)") }
        guard b.attentionMask.count == N else { throw ModelError("attention mask has \(b.attentionMask.count) values, expected \(N)") }
        guard b.tokens <= config.maxSequenceLength else {
            throw ModelError("sequence length \(b.tokens) exceeds the model's maximum \(config.maxSequenceLength)")
        }
        for (i, id) in b.ids.enumerated() where id < 0 || Int(id) >= config.vocabSize {
            throw ModelError("id \(id) at batch row \(i / b.tokens), position \(i % b.tokens) is outside the vocabulary 0..<\(config.vocabSize)")
        }
        try TokenBatch.validateTypes(b, config: config)
        try TokenBatch.validateNgrams(b, config: config)
    }
}
