// The XLM-R model: config, head, one flat parameter buffer and one flat gradient buffer with named views,
// and the whole forward and backward pass over a Workspace.
import TensorCore

/// A batch of integer ids, row-major (B, T), with the attention mask (1 token, 0 padding), optional labels
/// (MLM: the original id at masked positions; token classification: the label; -100 elsewhere) and optional
/// token type ids (nil: every token has type 0, as a model with one type expects).
package struct TokenBatch: Sendable {
    package var batch: Int
    package var tokens: Int
    package var ids: [Int32]
    package var attentionMask: [Int32]
    package var labels: [Int32]?
    /// (B, T) rows of the token-type table, each in 0..<type_vocab_size; required by a model whose config has
    /// `word_shape_types`, so that a path that forgets them fails instead of feeding type 0.
    package var tokenTypes: [Int32]?
    /// (B, T, ngramSlots) rows of the character n-gram table for each token, -1 in unused slots; required by a model
    /// whose config has `smaller_char_ngram_buckets` (and refused by one without).
    package var charNgrams: [Int32]?
    package var ngramSlots: Int
    /// The most n-gram slots a token may have.
    package static let maxNgramSlots = 64

    package init(batch: Int, tokens: Int, ids: [Int32], attentionMask: [Int32]? = nil, labels: [Int32]? = nil,
                 tokenTypes: [Int32]? = nil, charNgrams: [Int32]? = nil, ngramSlots: Int = 0) {
        self.batch = batch; self.tokens = tokens; self.ids = ids
        self.attentionMask = attentionMask ?? [Int32](repeating: 1, count: ids.count)
        self.labels = labels
        self.tokenTypes = tokenTypes
        self.charNgrams = charNgrams; self.ngramSlots = ngramSlots
    }

    /// Pads ragged rows of ids with `pad` (mask 0) to the longest row.
    package init(rows: [[Int32]], pad: Int32) {
        let T = rows.map(\.count).max() ?? 0
        var ids: [Int32] = [], mask: [Int32] = []
        for r in rows {
            ids += r + [Int32](repeating: pad, count: T - r.count)
            mask += [Int32](repeating: 1, count: r.count) + [Int32](repeating: 0, count: T - r.count)
        }
        self.init(batch: rows.count, tokens: T, ids: ids, attentionMask: mask)
    }
}

package final class XLMRModel {
    package let config: XLMRConfig
    package let head: ModelHead
    package let layout: ParameterLayout
    /// The character n-gram table's tensor name (config `smaller_char_ngram_buckets`).
    package static let charNgramTensor = ModelSlots.charNgramTensor
    let slots: ModelSlots
    package let parameters: FloatBuffer
    package let gradients: FloatBuffer
    /// The workspace `logits(_:)` reuses between calls (evaluation only; see LogitsModel.swift).
    var evaluationWorkspace: Workspace?
    /// The threads its forward and backward passes and its `denseLinear` kernels compute with: one until a
    /// pipeline (or a benchmark) hands the model its context.
    package var compute = ComputeContext.single
    /// Told as each piece of a forward or backward pass ends (`smaller bench engine --profile`); measures nothing
    /// by default.
    package var probe: StepProbe = NoStepProbe.shared

    package init(config: XLMRConfig, head: ModelHead) throws {
        try config.validate()
        if case .tokenClassification(let n) = head, n < 1 { throw ModelError("token classification needs at least 1 label, got \(n)") }
        self.config = config
        self.head = head
        var layout = ParameterLayout()
        slots = ModelSlots(config: config, head: head, layout: &layout)
        self.layout = layout
        parameters = FloatBuffer(count: layout.totalCount)
        gradients = FloatBuffer(count: layout.totalCount)
    }

    /// The number of outputs per token: the vocabulary (MLM) or the labels.
    package var outputCount: Int {
        switch head { case .maskedLM: config.vocabSize; case .tokenClassification(let n): n }
    }

    package func parameter(_ name: String) -> Tensor? {
        layout.entry(name).map { Tensor(parameters.pointer + $0.offset, $0.shape) }
    }
    package func gradient(_ name: String) -> Tensor? {
        layout.entry(name).map { Tensor(gradients.pointer + $0.offset, $0.shape) }
    }

    /// transformers' `_init_weights`: Linear and Embedding weights ~ N(0, initializer_range²), biases 0,
    /// LayerNorm γ = 1 and β = 0, embedding padding rows 0.
    package func initializeWeights(seed: UInt64) {
        var rng = Xoshiro256(seed: seed)
        for e in layout.entries { initialize(e, rng: &rng) }
    }

    /// Re-initialises only the classifier (the head swap from an MLM checkpoint), seeded.
    package func initializeClassifier(seed: UInt64) {
        var rng = Xoshiro256(seed: seed)
        for e in layout.entries where e.name.hasPrefix("classifier.") { initialize(e, rng: &rng) }
    }

    private func initialize(_ e: ParameterLayout.Entry, rng: inout Xoshiro256) {
        let t = Tensor(parameters.pointer + e.offset, e.shape)
        if e.name.hasSuffix("LayerNorm.weight") || e.name.hasSuffix("layer_norm.weight") {
            t.buffer.update(repeating: 1)
        } else if e.shape.count == 1 {
            t.buffer.update(repeating: 0)
        } else {
            rng.fillNormal(t.buffer, std: config.initializerRange)
            if e.name.hasSuffix("word_embeddings.weight") || e.name.hasSuffix("position_embeddings.weight") {
                (t.pointer + config.padTokenId * config.hiddenSize).update(repeating: 0, count: config.hiddenSize)
            }
        }
    }

    package func zeroGradients() { gradients.zero() }

    // MARK: Forward

    /// Runs the model on `batch`. In training (the workspace must be a training one) dropout is on and
    /// `rng` drives it; returns the mean loss over labelled positions when the batch has labels.
    /// Bad input (ids outside the vocabulary, shapes beyond the workspace, labels out of range) throws.
    @discardableResult
    package func forward(_ batch: TokenBatch, workspace w: Workspace, training: Bool, rng: inout Xoshiro256) throws -> Float? {
        try validate(batch, workspace: w, training: training)
        let c = config, B = batch.batch, T = batch.tokens, N = B * T
        let p = parameters.pointer, threads = compute.threads
        let hiddenDrop: Float = training ? c.hiddenDropoutProb : 0
        let attentionDrop: Float = training ? c.attentionProbsDropoutProb : 0
        w.batch = B; w.tokens = T; w.lastForwardTrained = training
        batch.ids.withUnsafeBufferPointer { w.ids.update(from: $0.baseAddress!, count: N) }
        if let types = batch.tokenTypes {
            types.withUnsafeBufferPointer { w.embeddings.types.update(from: $0.baseAddress!, count: N) }
        } else {
            w.embeddings.types.update(repeating: 0, count: N)
        }
        if let ngrams = batch.charNgrams, let slots = w.embeddings.ngrams {
            ngrams.withUnsafeBufferPointer { slots.update(from: $0.baseAddress!, count: N * batch.ngramSlots) }
            w.embeddings.ngramSlots = batch.ngramSlots
        }
        for i in 0..<N { w.keyMask.pointer[i] = batch.attentionMask[i] != 0 ? 0 : maskedScore }
        let probe = self.probe
        probe.phaseEnded(.other)
        slots.embeddingForward(w.ids, B: B, T: T, config: c, a: w.embeddings, params: p, dropout: hiddenDrop,
                               threads: threads, probe: probe, rng: &rng)
        var x = w.embeddings.out.pointer
        for (l, layer) in slots.layers.enumerated() {
            let a = w.layers[l]
            let shape = AttentionShape(B: B, T: T, NH: c.heads(layer: l), HS: c.headSize)
            layer.forward(x, keyMask: w.keyMask.pointer, a: a, shape: shape, config: c, params: p,
                          dropout: (hiddenDrop, attentionDrop), threads: threads, probe: probe, rng: &rng)
            x = a.out.pointer
        }
        var loss: Float? = nil
        if let mlm = w.mlm {
            var rows = 0
            if let labels = batch.labels {
                for i in 0..<N where labels[i] != Kernels.ignoreIndex {
                    guard rows < w.maxHeadRows else {
                        throw ModelError("batch has more than \(w.maxHeadRows) labelled positions, the workspace's MLM head capacity")
                    }
                    mlm.rows[rows] = Int32(i); mlm.labels[rows] = labels[i]; rows += 1
                }
            } else {
                guard N <= w.maxHeadRows else { throw ModelError("batch has \(N) positions, more than the MLM head capacity \(w.maxHeadRows)") }
                for i in 0..<N { mlm.rows[i] = Int32(i); mlm.labels[i] = Kernels.ignoreIndex }
                rows = N
            }
            w.headRows = rows
            slots.mlmForward(hidden: x, rowCount: rows, a: mlm, config: c, params: p, threads: threads, probe: probe)
            if batch.labels != nil {
                loss = Kernels.crossEntropy(mlm.logits.pointer, labels: mlm.labels, rows: rows, cols: c.vocabSize,
                                            dlogits: training ? mlm.logits.pointer : nil, threads: threads).loss
                probe.phaseEnded(.crossEntropy)
            }
        } else if let cls = w.classifier {
            let drop: Float = training ? (c.classifierDropout ?? c.hiddenDropoutProb) : 0
            w.headRows = N
            slots.classifierForward(hidden: x, rowCount: N, a: cls, config: c, params: p, dropout: drop, threads: threads,
                                   probe: probe, rng: &rng)
            if let labels = batch.labels {
                labels.withUnsafeBufferPointer { cls.labels.update(from: $0.baseAddress!, count: N) }
                loss = Kernels.crossEntropy(cls.logits.pointer, labels: cls.labels, rows: N, cols: outputCount,
                                            dlogits: training ? cls.logits.pointer : nil, threads: threads).loss
                probe.phaseEnded(.crossEntropy)
            }
        }
        w.lastLoss = loss
        return loss
    }

    // MARK: Backward

    /// Accumulates ∂loss/∂parameters into `gradients` for the last training forward pass (which had labels).
    /// The logits of that pass are consumed (they hold ∂loss/∂logits).
    package func backward(workspace w: Workspace) {
        precondition(w.training && w.lastForwardTrained && w.lastLoss != nil, "backward needs a training forward pass with labels")
        backwardPass(w, hiddenGradients: [:])
    }

    /// The distillation seam: backward from the caller's own loss. After a training forward pass WITHOUT labels,
    /// `logitGradients` holds ∂loss/∂logits, (headRows, outputs) as `Workspace.logits(outputs:)` lays them out;
    /// `hiddenGradients[l]`, when present, is ∂loss/∂(output of encoder layer l), (B, T, C), added into the hidden
    /// gradient as the backward pass reaches that layer. Accumulates into `gradients` like `backward(workspace:)`.
    package func backward(workspace w: Workspace, logitGradients: UnsafePointer<Float>,
                          hiddenGradients: [Int: UnsafePointer<Float>] = [:]) {
        precondition(w.training && w.lastForwardTrained, "backward needs a training forward pass")
        precondition(hiddenGradients.keys.allSatisfy { $0 >= 0 && $0 < config.numHiddenLayers }, "hidden gradient for a layer outside 0..<\(config.numHiddenLayers)")
        let logits = w.logits(outputs: outputCount)
        logits.pointer.update(from: logitGradients, count: w.headRows * outputCount)
        backwardPass(w, hiddenGradients: hiddenGradients)
    }

    private func backwardPass(_ w: Workspace, hiddenGradients: [Int: UnsafePointer<Float>]) {
        let c = config, B = w.batch, T = w.tokens, N = B * T, C = c.hiddenSize
        let p = parameters.pointer, g = gradients.pointer, threads = compute.threads
        let dHidden = w.dHidden!.pointer, s = w.scratch!
        let hiddenDrop = c.hiddenDropoutProb, attentionDrop = c.attentionProbsDropoutProb, probe = self.probe
        let top = c.numHiddenLayers > 0 ? w.layers[c.numHiddenLayers - 1].out.pointer : w.embeddings.out.pointer
        if let mlm = w.mlm {
            dHidden.update(repeating: 0, count: N * C)
            probe.phaseEnded(.other)
            slots.mlmBackward(dHidden: dHidden, rowCount: w.headRows, a: mlm, config: c, params: p, grads: g, threads: threads,
                              probe: probe)
        } else if let cls = w.classifier {
            slots.classifierBackward(hidden: top, dHidden: dHidden, rowCount: N, a: cls, config: c,
                                     dropout: c.classifierDropout ?? c.hiddenDropoutProb, params: p, grads: g, threads: threads,
                                     probe: probe)
        }
        for l in stride(from: c.numHiddenLayers - 1, through: 0, by: -1) {
            let shape = AttentionShape(B: B, T: T, NH: c.heads(layer: l), HS: c.headSize)
            let x = l > 0 ? w.layers[l - 1].out.pointer : w.embeddings.out.pointer
            // Distillation hook: an extra loss on this layer's output (hidden-state MSE) joins its gradient here.
            if let extra = hiddenGradients[l] {
                Kernels.accumulate(extra, into: dHidden, N * C)
                probe.phaseEnded(.other)
            }
            slots.layers[l].backward(x, dHidden: dHidden, a: w.layers[l], s: s, shape: shape, config: c,
                                     dropout: (hiddenDrop, attentionDrop), params: p, grads: g, threads: threads, probe: probe)
        }
        slots.embeddingBackward(w.ids, B: B, T: T, config: c, a: w.embeddings, dout: dHidden, dropout: hiddenDrop,
                                params: p, grads: g, threads: threads, probe: probe)
    }

    private func validate(_ b: TokenBatch, workspace w: Workspace, training: Bool) throws {
        let N = b.batch * b.tokens
        guard b.batch >= 1, b.tokens >= 1 else { throw ModelError("batch shape (\(b.batch), \(b.tokens)): expected both >= 1") }
        guard b.ids.count == N else { throw ModelError("ids has \(b.ids.count) values, expected batch × tokens = \(N)") }
        guard b.attentionMask.count == N else { throw ModelError("attention mask has \(b.attentionMask.count) values, expected \(N)") }
        guard b.batch <= w.maxBatch, b.tokens <= w.maxTokens else {
            throw ModelError("batch shape (\(b.batch), \(b.tokens)) exceeds the workspace's (\(w.maxBatch), \(w.maxTokens))")
        }
        guard b.tokens <= config.maxSequenceLength else {
            throw ModelError("sequence length \(b.tokens) exceeds the model's maximum \(config.maxSequenceLength)")
        }
        if training && !w.training { throw ModelError("training forward pass needs a training workspace") }
        for (i, id) in b.ids.enumerated() where id < 0 || Int(id) >= config.vocabSize {
            throw ModelError("id \(id) at batch row \(i / b.tokens), position \(i % b.tokens) is outside the vocabulary 0..<\(config.vocabSize)")
        }
        try TokenBatch.validateTypes(b, config: config)
        try TokenBatch.validateNgrams(b, config: config)
        if let labels = b.labels {
            guard labels.count == N else { throw ModelError("labels has \(labels.count) values, expected \(N)") }
            for (i, l) in labels.enumerated() where l != Kernels.ignoreIndex && (l < 0 || Int(l) >= outputCount) {
                throw ModelError("label \(l) at batch row \(i / b.tokens), position \(i % b.tokens) is outside 0..<\(outputCount) (or -100)")
            }
        }
    }
}

extension TokenBatch {
    /// Token types must be present exactly when the model takes word shapes, one per position, each a row of its
    /// type table (an out-of-range type would read past the table).
    static func validateTypes(_ b: TokenBatch, config: XLMRConfig) throws {
        guard let types = b.tokenTypes else {
            if config.wordShapeTypes {
                throw ModelError("the model takes word-shape token types (config word_shape_types) but the batch has none")
            }
            return
        }
        guard types.count == b.ids.count else { throw ModelError("token types has \(types.count) values, expected \(b.ids.count)") }
        for (i, t) in types.enumerated() where t < 0 || Int(t) >= config.typeVocabSize {
            throw ModelError("token type \(t) at batch row \(i / b.tokens), position \(i % b.tokens) is outside 0..<\(config.typeVocabSize) (type_vocab_size)")
        }
    }
}

extension TokenBatch {
    /// Character n-gram rows must be present exactly when the model has a table, `ngramSlots` per position, each
    /// -1 or a row of the table.
    static func validateNgrams(_ b: TokenBatch, config: XLMRConfig) throws {
        guard let ngrams = b.charNgrams else {
            if config.charNgramBuckets > 0 {
                throw ModelError("the model has a character n-gram table (config smaller_char_ngram_buckets) but the batch has no n-grams")
            }
            return
        }
        guard config.charNgramBuckets > 0 else {
            throw ModelError("the batch has character n-grams but the model has no n-gram table")
        }
        guard b.ngramSlots >= 1, b.ngramSlots <= maxNgramSlots else {
            throw ModelError("ngram slots per token is \(b.ngramSlots), expected 1...\(maxNgramSlots)")
        }
        guard ngrams.count == b.ids.count * b.ngramSlots else {
            throw ModelError("char n-grams has \(ngrams.count) values, expected \(b.ids.count) × \(b.ngramSlots)")
        }
        for (i, r) in ngrams.enumerated() where r < -1 || Int(r) >= config.charNgramBuckets {
            throw ModelError("char n-gram row \(r) at position \(i / b.ngramSlots) is outside -1..<\(config.charNgramBuckets)")
        }
    }
}

extension Workspace {
    /// The output of encoder layer `layer` from the last forward pass, (B, T, C) (post-LayerNorm, as transformers'
    /// hidden_states[layer + 1]). Valid until the next forward pass; read by distillation's hidden-state loss.
    package func layerOutput(_ layer: Int) -> Tensor {
        Tensor(layers[layer].out.pointer, [batch, tokens, layers[layer].out.shape[2]])
    }
}
