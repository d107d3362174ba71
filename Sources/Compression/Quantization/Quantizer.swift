// The quantization pipeline: an fp32 XLMRModel and a QuantizationConfig (plus calibration batches for the
// static scheme) in, a QuantizedModel out. Encoder linears are quantized; LayerNorms, biases, position and
// token-type embeddings and the classifier stay fp32; word embeddings (and a character n-gram table) optionally int8.
import TensorCore
import Transformer

package enum Quantizer {
    package static func quantize(model: XLMRModel, config: QuantizationConfig, calibration: [TokenBatch] = []) throws -> QuantizedModel {
        try config.validate()
        let ranges = config.scheme == .staticInt8
            ? try Calibration.ranges(model, batches: calibration, method: config.calibration, percentile: config.percentile) : [:]
        var kernels: [String: LinearKernel] = [:]
        for linear in LinearNames.encoderLinears(model.config) {
            guard let w = model.parameter(linear.name + ".weight"), let b = model.parameter(linear.name + ".bias") else {
                throw QuantizationError("the model has no linear layer \(linear.name)")
            }
            let (N, K) = (linear.outFeatures, linear.inFeatures)
            switch config.scheme {
            case .dynamic:
                kernels[linear.name] = Int8Linear(weights: Int8Weights(weight: w.pointer, outFeatures: N, inFeatures: K), bias: b.array)
            case .llmInt8:
                kernels[linear.name] = MixedInt8Linear(weights: Int8Weights(weight: w.pointer, outFeatures: N, inFeatures: K), bias: b.array,
                                                       threshold: config.threshold)
            case .staticInt8:
                kernels[linear.name] = Int8Linear(weights: Int8Weights(weight: w.pointer, outFeatures: N, inFeatures: K), bias: b.array,
                                                  activations: ranges[linear.name]!)
            case .int4:
                kernels[linear.name] = Int4Linear(weights: Int4Weights(weight: w.pointer, outFeatures: N, inFeatures: K, groupSize: config.groupSize),
                                                  bias: b.array)
            }
        }
        var embedding: Int8Weights? = nil, ngrams: Int8Weights? = nil
        if config.embeddings, let table = model.parameter("roberta.embeddings.word_embeddings.weight") {
            embedding = Int8Weights(weight: table.pointer, outFeatures: model.config.vocabSize, inFeatures: model.config.hiddenSize)
        }
        // The character n-gram table (model.char_ngrams) is an embedding table too: int8 with the word embeddings.
        if config.embeddings, let table = model.parameter(XLMRModel.charNgramTensor) {
            ngrams = Int8Weights(weight: table.pointer, outFeatures: model.config.charNgramBuckets, inFeatures: model.config.hiddenSize)
        }
        return try QuantizedModel(base: model, quantization: config, kernels: kernels, embedding: embedding, ngramEmbedding: ngrams)
    }
}
