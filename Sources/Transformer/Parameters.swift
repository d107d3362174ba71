// One flat parameter buffer (and one flat gradient buffer of the same layout) with named views whose
// names are transformers' tensor names, so the optimizer, checkpoints and masks all loop over one thing.
import TensorCore

/// Which head sits on the encoder.
package enum ModelHead: Equatable, Sendable {
    /// `XLMRobertaForMaskedLM`: dense → GELU → LayerNorm → decoder tied to the word embeddings, plus bias.
    case maskedLM
    /// `XLMRobertaForTokenClassification`: dropout → linear to `labels` outputs.
    case tokenClassification(labels: Int)
}

/// Names, shapes and offsets of every parameter inside the flat buffer. Offsets are 16-float aligned.
package struct ParameterLayout: Sendable {
    package struct Entry: Sendable {
        package let name: String
        package let shape: [Int]
        package let offset: Int
        package var count: Int { shape.reduce(1, *) }
    }

    package private(set) var entries: [Entry] = []
    private var index: [String: Int] = [:]
    package private(set) var totalCount = 0

    mutating func add(_ name: String, _ shape: [Int]) -> Int {
        precondition(index[name] == nil, "duplicate parameter \(name)")
        let offset = totalCount
        index[name] = entries.count
        entries.append(Entry(name: name, shape: shape, offset: offset))
        totalCount += (shape.reduce(1, *) + 15) / 16 * 16
        return offset
    }

    package func entry(_ name: String) -> Entry? { index[name].map { entries[$0] } }

    /// The number of scalar parameters (without alignment padding).
    package var parameterCount: Int { entries.reduce(0) { $0 + $1.count } }
}

/// A linear layer's place in the flat buffer: weight (out, in) as in torch, bias (out).
struct LinearSlots {
    let weight: Int, bias: Int, inFeatures: Int, outFeatures: Int
    init(_ layout: inout ParameterLayout, _ prefix: String, in inFeatures: Int, out outFeatures: Int) {
        weight = layout.add(prefix + ".weight", [outFeatures, inFeatures])
        bias = layout.add(prefix + ".bias", [outFeatures])
        self.inFeatures = inFeatures; self.outFeatures = outFeatures
    }
}

/// A LayerNorm's place: weight γ (C) and bias β (C).
struct NormSlots {
    let weight: Int, bias: Int, size: Int
    init(_ layout: inout ParameterLayout, _ prefix: String, size: Int) {
        weight = layout.add(prefix + ".weight", [size])
        bias = layout.add(prefix + ".bias", [size])
        self.size = size
    }
}

/// All slots of the model, built once from the config and head.
struct ModelSlots {
    /// The character n-gram table's tensor name (ours; transformers has none and drops it when loading).
    static let charNgramTensor = "roberta.embeddings.char_ngram_embeddings.weight"

    struct Layer { let query, key, value, attentionOutput: LinearSlots; let attentionNorm: NormSlots
                   let intermediate, output: LinearSlots; let outputNorm: NormSlots }
    let wordEmbeddings: Int, positionEmbeddings: Int, tokenTypeEmbeddings: Int
    /// The hashed character n-gram table (buckets, C), when the config has one.
    let charNgramEmbeddings: Int?
    let embeddingNorm: NormSlots
    let layers: [Layer]
    // MLM head
    let lmDense: LinearSlots?, lmNorm: NormSlots?, lmBias: Int?
    // Token-classification head
    let classifier: LinearSlots?

    init(config c: XLMRConfig, head: ModelHead, layout: inout ParameterLayout) {
        let C = c.hiddenSize
        wordEmbeddings = layout.add("roberta.embeddings.word_embeddings.weight", [c.vocabSize, C])
        positionEmbeddings = layout.add("roberta.embeddings.position_embeddings.weight", [c.maxPositionEmbeddings, C])
        tokenTypeEmbeddings = layout.add("roberta.embeddings.token_type_embeddings.weight", [c.typeVocabSize, C])
        charNgramEmbeddings = c.charNgramBuckets > 0
            ? layout.add(ModelSlots.charNgramTensor, [c.charNgramBuckets, C]) : nil
        embeddingNorm = NormSlots(&layout, "roberta.embeddings.LayerNorm", size: C)
        var layers: [Layer] = []
        for l in 0..<c.numHiddenLayers {
            // Per-layer widths: W = heads left × HS for q/k/v and the attention output's input, F for the FFN.
            let p = "roberta.encoder.layer.\(l).", W = c.attentionWidth(layer: l), F = c.intermediate(layer: l)
            layers.append(Layer(
                query: LinearSlots(&layout, p + "attention.self.query", in: C, out: W),
                key: LinearSlots(&layout, p + "attention.self.key", in: C, out: W),
                value: LinearSlots(&layout, p + "attention.self.value", in: C, out: W),
                attentionOutput: LinearSlots(&layout, p + "attention.output.dense", in: W, out: C),
                attentionNorm: NormSlots(&layout, p + "attention.output.LayerNorm", size: C),
                intermediate: LinearSlots(&layout, p + "intermediate.dense", in: C, out: F),
                output: LinearSlots(&layout, p + "output.dense", in: F, out: C),
                outputNorm: NormSlots(&layout, p + "output.LayerNorm", size: C)))
        }
        self.layers = layers
        switch head {
        case .maskedLM:
            lmDense = LinearSlots(&layout, "lm_head.dense", in: C, out: C)
            lmNorm = NormSlots(&layout, "lm_head.layer_norm", size: C)
            lmBias = layout.add("lm_head.bias", [c.vocabSize])
            classifier = nil
        case .tokenClassification(let labels):
            lmDense = nil; lmNorm = nil; lmBias = nil
            classifier = LinearSlots(&layout, "classifier", in: C, out: labels)
        }
    }
}
