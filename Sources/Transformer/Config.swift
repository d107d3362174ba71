// The XLM-R configuration, read from and written to transformers' config.json, and validated.
// Shape letters used across the engine: B batch, T tokens, C hidden, NH heads, HS head size (C/NH),
// F FFN width, V vocabulary, P max positions, L layers, NL labels, N selected rows.
import Foundation

/// Errors from bad model input: configs, checkpoints, ids. Each names what is wrong and what was expected.
package struct ModelError: Error, CustomStringConvertible, Equatable {
    package let message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}

/// XLM-R hyperparameters, with transformers' config.json key names.
package struct XLMRConfig: Codable, Equatable, Sendable {
    package var vocabSize: Int
    package var hiddenSize: Int
    package var numHiddenLayers: Int
    package var numAttentionHeads: Int
    package var intermediateSize: Int
    package var maxPositionEmbeddings: Int
    package var typeVocabSize: Int
    package var layerNormEps: Float
    package var hiddenDropoutProb: Float
    package var attentionProbsDropoutProb: Float
    package var classifierDropout: Float?
    package var padTokenId: Int
    package var hiddenAct: String
    package var initializerRange: Float
    /// Token-classification label names, index → name (transformers' `id2label`); nil for MLM checkpoints.
    package var id2label: [String: String]?
    package var architectures: [String]?
    /// Heads removed by structured pruning, layer index (as a string) → head indices, as transformers'
    /// `pruned_heads` (so head-pruned checkpoints still load there). Nil or empty: every layer has all heads.
    package var prunedHeads: [String: [Int]]?
    /// FFN width per layer after neuron pruning (our own key; transformers has none). Nil: every layer has
    /// `intermediate_size`.
    package var layerIntermediateSizes: [Int]?
    /// Every token's type id is the shape class of its word (TextData's `WordShape`; our own key, which
    /// transformers keeps and ignores): batches for this model must carry token types. False when absent.
    package var wordShapeTypes: Bool
    /// Rows of the hashed character n-gram table (`model.char_ngrams`; our own key, transformers ignores it and the
    /// table): every token adds the mean of the rows its word's n-grams hash to. 0 when absent: no table.
    package var charNgramBuckets: Int

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size", hiddenSize = "hidden_size", numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads", intermediateSize = "intermediate_size"
        case maxPositionEmbeddings = "max_position_embeddings", typeVocabSize = "type_vocab_size"
        case layerNormEps = "layer_norm_eps", hiddenDropoutProb = "hidden_dropout_prob"
        case attentionProbsDropoutProb = "attention_probs_dropout_prob", classifierDropout = "classifier_dropout"
        case padTokenId = "pad_token_id", hiddenAct = "hidden_act", initializerRange = "initializer_range"
        case id2label, architectures
        case prunedHeads = "pruned_heads", layerIntermediateSizes = "smaller_intermediate_sizes"
        case wordShapeTypes = "word_shape_types", charNgramBuckets = "smaller_char_ngram_buckets"
    }

    package init(vocabSize: Int, hiddenSize: Int, numHiddenLayers: Int, numAttentionHeads: Int, intermediateSize: Int,
                 maxPositionEmbeddings: Int = 514, typeVocabSize: Int = 1, layerNormEps: Float = 1e-5,
                 hiddenDropoutProb: Float = 0.1, attentionProbsDropoutProb: Float = 0.1, classifierDropout: Float? = nil,
                 padTokenId: Int = 1, hiddenAct: String = "gelu", initializerRange: Float = 0.02,
                 id2label: [String: String]? = nil, architectures: [String]? = nil,
                 prunedHeads: [String: [Int]]? = nil, layerIntermediateSizes: [Int]? = nil, wordShapeTypes: Bool = false,
                 charNgramBuckets: Int = 0) {
        self.vocabSize = vocabSize; self.hiddenSize = hiddenSize; self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads; self.intermediateSize = intermediateSize
        self.maxPositionEmbeddings = maxPositionEmbeddings; self.typeVocabSize = typeVocabSize
        self.layerNormEps = layerNormEps; self.hiddenDropoutProb = hiddenDropoutProb
        self.attentionProbsDropoutProb = attentionProbsDropoutProb; self.classifierDropout = classifierDropout
        self.padTokenId = padTokenId; self.hiddenAct = hiddenAct; self.initializerRange = initializerRange
        self.id2label = id2label; self.architectures = architectures
        self.prunedHeads = prunedHeads; self.layerIntermediateSizes = layerIntermediateSizes
        self.wordShapeTypes = wordShapeTypes
        self.charNgramBuckets = charNgramBuckets
    }

    package init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vocabSize = try c.decode(Int.self, forKey: .vocabSize)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        numHiddenLayers = try c.decode(Int.self, forKey: .numHiddenLayers)
        numAttentionHeads = try c.decode(Int.self, forKey: .numAttentionHeads)
        intermediateSize = try c.decode(Int.self, forKey: .intermediateSize)
        // Defaults below are transformers' XLMRobertaConfig defaults, used only when a key is absent.
        maxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? 512
        typeVocabSize = try c.decodeIfPresent(Int.self, forKey: .typeVocabSize) ?? 2
        layerNormEps = try c.decodeIfPresent(Float.self, forKey: .layerNormEps) ?? 1e-12
        hiddenDropoutProb = try c.decodeIfPresent(Float.self, forKey: .hiddenDropoutProb) ?? 0.1
        attentionProbsDropoutProb = try c.decodeIfPresent(Float.self, forKey: .attentionProbsDropoutProb) ?? 0.1
        classifierDropout = try c.decodeIfPresent(Float.self, forKey: .classifierDropout)
        padTokenId = try c.decodeIfPresent(Int.self, forKey: .padTokenId) ?? 1
        hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? "gelu"
        initializerRange = try c.decodeIfPresent(Float.self, forKey: .initializerRange) ?? 0.02
        id2label = try c.decodeIfPresent([String: String].self, forKey: .id2label)
        architectures = try c.decodeIfPresent([String].self, forKey: .architectures)
        prunedHeads = try c.decodeIfPresent([String: [Int]].self, forKey: .prunedHeads)
        layerIntermediateSizes = try c.decodeIfPresent([Int].self, forKey: .layerIntermediateSizes)
        wordShapeTypes = try c.decodeIfPresent(Bool.self, forKey: .wordShapeTypes) ?? false
        charNgramBuckets = try c.decodeIfPresent(Int.self, forKey: .charNgramBuckets) ?? 0
    }

    package func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(vocabSize, forKey: .vocabSize); try c.encode(hiddenSize, forKey: .hiddenSize)
        try c.encode(numHiddenLayers, forKey: .numHiddenLayers); try c.encode(numAttentionHeads, forKey: .numAttentionHeads)
        try c.encode(intermediateSize, forKey: .intermediateSize)
        try c.encode(maxPositionEmbeddings, forKey: .maxPositionEmbeddings); try c.encode(typeVocabSize, forKey: .typeVocabSize)
        try c.encode(layerNormEps, forKey: .layerNormEps); try c.encode(hiddenDropoutProb, forKey: .hiddenDropoutProb)
        try c.encode(attentionProbsDropoutProb, forKey: .attentionProbsDropoutProb)
        try c.encodeIfPresent(classifierDropout, forKey: .classifierDropout)
        try c.encode(padTokenId, forKey: .padTokenId); try c.encode(hiddenAct, forKey: .hiddenAct)
        try c.encode(initializerRange, forKey: .initializerRange)
        try c.encodeIfPresent(id2label, forKey: .id2label); try c.encodeIfPresent(architectures, forKey: .architectures)
        if let prunedHeads, !prunedHeads.isEmpty { try c.encode(prunedHeads, forKey: .prunedHeads) }
        try c.encodeIfPresent(layerIntermediateSizes, forKey: .layerIntermediateSizes)
        if wordShapeTypes { try c.encode(true, forKey: .wordShapeTypes) }
        if charNgramBuckets > 0 { try c.encode(charNgramBuckets, forKey: .charNgramBuckets) }
    }

    package var headSize: Int { hiddenSize / numAttentionHeads }

    /// Attention heads left in `layer` after structured pruning.
    package func heads(layer: Int) -> Int { numAttentionHeads - (prunedHeads?[String(layer)]?.count ?? 0) }
    /// Width of `layer`'s q/k/v projections and attention context: heads × head size.
    package func attentionWidth(layer: Int) -> Int { heads(layer: layer) * headSize }
    /// FFN width of `layer` after structured pruning.
    package func intermediate(layer: Int) -> Int { layerIntermediateSizes?[layer] ?? intermediateSize }
    /// True when every layer has all heads and the full FFN width.
    package var isUniform: Bool {
        (0..<numHiddenLayers).allSatisfy { heads(layer: $0) == numAttentionHeads && intermediate(layer: $0) == intermediateSize }
    }
    package var numLabels: Int { id2label?.count ?? 0 }

    /// Throws a ModelError naming the field and the expected value when the config cannot describe a model.
    package func validate() throws {
        func need(_ ok: Bool, _ message: @autoclosure () -> String) throws { if !ok { throw ModelError("config: " + message()) } }
        try need(vocabSize > 0, "vocab_size is \(vocabSize), expected > 0")
        try need(hiddenSize > 0, "hidden_size is \(hiddenSize), expected > 0")
        try need(numAttentionHeads > 0, "num_attention_heads is \(numAttentionHeads), expected > 0")
        try need(hiddenSize % numAttentionHeads == 0,
                 "hidden_size \(hiddenSize) is not divisible by num_attention_heads \(numAttentionHeads)")
        try need(numHiddenLayers >= 0, "num_hidden_layers is \(numHiddenLayers), expected >= 0")
        try need(intermediateSize > 0, "intermediate_size is \(intermediateSize), expected > 0")
        try need(typeVocabSize >= 1, "type_vocab_size is \(typeVocabSize), expected >= 1")
        try need(!wordShapeTypes || typeVocabSize >= 2, "word_shape_types needs type_vocab_size >= 2, got \(typeVocabSize)")
        try need(charNgramBuckets >= 0 && charNgramBuckets <= 1 << 24,
                 "smaller_char_ngram_buckets is \(charNgramBuckets), expected 0...\(1 << 24)")
        try need(padTokenId >= 0 && padTokenId < vocabSize, "pad_token_id \(padTokenId) is outside 0..<\(vocabSize)")
        try need(maxPositionEmbeddings > padTokenId + 1,
                 "max_position_embeddings \(maxPositionEmbeddings) leaves no positions after padding_idx + 1 = \(padTokenId + 1)")
        try need(layerNormEps > 0, "layer_norm_eps is \(layerNormEps), expected > 0")
        try need(hiddenAct == "gelu", "hidden_act is \(hiddenAct), expected \"gelu\" (exact erf GELU)")
        for (name, p) in [("hidden_dropout_prob", hiddenDropoutProb), ("attention_probs_dropout_prob", attentionProbsDropoutProb),
                          ("classifier_dropout", classifierDropout ?? 0)] {
            try need(p >= 0 && p < 1, "\(name) is \(p), expected in [0, 1)")
        }
        if let pruned = prunedHeads {
            for (key, heads) in pruned {
                guard let l = Int(key), l >= 0, l < numHiddenLayers else {
                    throw ModelError("config: pruned_heads has layer key \"\(key)\", expected 0..<\(numHiddenLayers)")
                }
                try need(Set(heads).count == heads.count && heads.allSatisfy { $0 >= 0 && $0 < numAttentionHeads },
                         "pruned_heads[\(key)] is \(heads), expected distinct heads in 0..<\(numAttentionHeads)")
                try need(heads.count < numAttentionHeads, "pruned_heads[\(key)] removes all \(numAttentionHeads) heads, expected at least one left")
            }
        }
        if let sizes = layerIntermediateSizes {
            try need(sizes.count == numHiddenLayers,
                     "smaller_intermediate_sizes has \(sizes.count) entries, expected one per layer (\(numHiddenLayers))")
            for (l, f) in sizes.enumerated() {
                try need(f > 0 && f <= intermediateSize, "smaller_intermediate_sizes[\(l)] is \(f), expected 1...\(intermediateSize)")
            }
        }
        if let labels = id2label {
            for i in 0..<labels.count {
                try need(labels[String(i)] != nil, "id2label has \(labels.count) entries but no key \"\(i)\" (expected keys 0..<\(labels.count))")
            }
        }
    }

    /// The longest sequence the position table allows (positions start at padding_idx + 1).
    package var maxSequenceLength: Int { maxPositionEmbeddings - padTokenId - 1 }

    /// Two tiny-to-real shapes used by benchmarks and tests.
    package static func small(vocab: Int = 8000) -> XLMRConfig {
        XLMRConfig(vocabSize: vocab, hiddenSize: 256, numHiddenLayers: 4, numAttentionHeads: 4, intermediateSize: 1024,
                   maxPositionEmbeddings: 514)
    }
    package static func afribertaSmall() -> XLMRConfig {
        XLMRConfig(vocabSize: 70006, hiddenSize: 768, numHiddenLayers: 4, numAttentionHeads: 6, intermediateSize: 3072,
                   maxPositionEmbeddings: 514)
    }
}
