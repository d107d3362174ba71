// A quantized model: the fp32 parts (LayerNorms, biases, position table, classifier) in an XLMRModel, the
// quantized encoder linears as kernels, optional int8 word embeddings (and n-gram table); it runs on the inference encoder and so
// is a TokenLogitsModel like any other. Checkpoints: config.json with `quantization_config`, and
// model.safetensors with I8 (int8) or U8 (packed int4) weights beside F32 `…weight_scale` tensors.
import Foundation
import TensorCore
import Transformer

package final class QuantizedModel: TokenLogitsModel {
    package let quantization: QuantizationConfig
    package let base: XLMRModel
    /// The quantized encoder linears by name (`roberta.encoder.layer.L.…`).
    package let kernels: [String: LinearKernel]
    package let embedding: Int8Weights?
    /// The character n-gram table in int8 (with int8 embeddings, when the model has one).
    package let ngramEmbedding: Int8Weights?
    package let encoder: InferenceEncoder

    package static let configKey = "quantization_config"
    static let wordEmbeddings = "roberta.embeddings.word_embeddings.weight"

    package init(base: XLMRModel, quantization: QuantizationConfig, kernels: [String: LinearKernel], embedding: Int8Weights?,
                 ngramEmbedding: Int8Weights? = nil) throws {
        self.base = base; self.quantization = quantization; self.kernels = kernels; self.embedding = embedding
        self.ngramEmbedding = ngramEmbedding
        var replacing = kernels
        // The int8 products, quantization and dequantization split over the model's threads on the engine's own
        // pool, as the rest of the pass does (`Int8SplitGemm`); set before the encoder fuses query, key and value.
        for kernel in kernels.values { ((kernel as? Int8Linear) ?? (kernel as? MixedInt8Linear)?.base)?.parts = base.compute.threads }
        if let embedding, case .maskedLM = base.head, let lmBias = base.parameter("lm_head.bias") {
            // The decoder is tied to the word embeddings: with int8 embeddings it runs on the same int8 table.
            let decoder = Int8Linear(weights: embedding, bias: lmBias.array)
            decoder.parts = base.compute.threads
            replacing["lm_head.decoder"] = decoder
        }
        encoder = try InferenceEncoder(model: base, replacing: replacing, wordEmbeddings: embedding.map { Int8Embedding(weights: $0) },
                                       charNgramEmbeddings: ngramEmbedding.map { Int8Embedding(weights: $0) })
        // Attention and the residual LayerNorms split over the same threads, as in the fp32 split encoder the int8
        // speed-ups are measured against (`InferenceEncoder.split`).
        encoder.parallelParts = base.compute.threads
    }

    package var outputCount: Int { encoder.outputCount }
    package var padId: Int32 { encoder.padId }
    package var takesWordShapes: Bool { encoder.takesWordShapes }
    package var charNgramBuckets: Int { encoder.charNgramBuckets }
    package func logits(_ batch: TokenBatch) throws -> [Float] { try encoder.logits(batch) }

    /// The scalar parameters the checkpoint holds (codes count once each, scales not counted).
    package var parameterCount: Int { base.layout.parameterCount }

    // MARK: Checkpoints

    /// Whether the folder's config.json carries a quantization config.
    package static func isQuantized(_ directory: URL) -> Bool {
        guard let data = try? Data(contentsOf: directory.appendingPathComponent(XLMRModel.configFile)),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return false }
        return object[configKey] != nil
    }

    /// Every tensor of the checkpoint, in layout order.
    package func tensors() -> [SafetensorsTensor] {
        var out: [SafetensorsTensor] = []
        let p = base.parameters.pointer
        for e in base.layout.entries {
            let prefix = e.name.hasSuffix(".weight") ? String(e.name.dropLast(".weight".count)) : nil
            if let prefix, let kernel = kernels[prefix] {
                out += Self.tensors(of: kernel, prefix: prefix)
            } else if let table = e.name == Self.wordEmbeddings ? embedding : (e.name == XLMRModel.charNgramTensor ? ngramEmbedding : nil) {
                out.append(.i8(e.name, e.shape, table.values))
                out.append(.f32(e.name + "_scale", [table.outFeatures], table.scale))
            } else {
                out.append(.f32(e.name, e.shape, UnsafeBufferPointer(start: p + e.offset, count: e.count)))
            }
        }
        return out
    }

    static func tensors(of kernel: LinearKernel, prefix: String) -> [SafetensorsTensor] {
        let int8: Int8Linear? = (kernel as? Int8Linear) ?? (kernel as? MixedInt8Linear)?.base
        if let k = int8 {
            var t: [SafetensorsTensor] = [.i8(prefix + ".weight", [k.outFeatures, k.inFeatures], k.weights.values),
                                          .f32(prefix + ".weight_scale", [k.outFeatures], k.weights.scale)]
            if let a = k.activations {
                t += [.f32(prefix + ".input_scale", [1], [a.scale]), .f32(prefix + ".input_zero_point", [1], [Float(a.zero)])]
            }
            return t
        }
        let k = kernel as! Int4Linear
        return [.u8(prefix + ".weight", [k.outFeatures, k.weights.rowBytes], k.weights.packed),
                .f32(prefix + ".weight_scale", [k.outFeatures, k.weights.groups], k.weights.scale)]
    }

    /// Writes config.json (the model's, plus `quantization_config`) and model.safetensors.
    package func save(_ directory: URL) throws {
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
            throw QuantizationError("cannot create \(directory.path): \(error.localizedDescription)")
        }
        guard var object = try JSONSerialization.jsonObject(with: try base.configJSON()) as? [String: Any] else {
            throw QuantizationError("cannot encode the model config")
        }
        object[Self.configKey] = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(quantization))
        let configURL = directory.appendingPathComponent(XLMRModel.configFile)
        do {
            try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]).write(to: configURL, options: .atomic)
        } catch { throw QuantizationError("cannot write \(configURL.path): \(error.localizedDescription)") }
        try Safetensors.write(tensors(), metadata: ["format": "pt", "quantization": quantization.scheme.rawValue],
                              to: directory.appendingPathComponent(XLMRModel.weightsFile))
    }

    /// Loads a checkpoint written by `save`. A folder without `quantization_config` is a clear error.
    package static func load(_ directory: URL) throws -> QuantizedModel {
        let configURL = directory.appendingPathComponent(XLMRModel.configFile)
        let data: Data
        do { data = try Data(contentsOf: configURL) } catch { throw QuantizationError("cannot read \(configURL.path): \(error.localizedDescription)") }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw QuantizationError("\(configURL.path) is not a JSON object")
        }
        guard let q = object[configKey] else {
            throw QuantizationError("\(directory.path) is not a quantized checkpoint (\(XLMRModel.configFile) has no \(configKey)); load it with XLMRModel.load")
        }
        let quantization: QuantizationConfig
        do { quantization = try JSONDecoder().decode(QuantizationConfig.self, from: JSONSerialization.data(withJSONObject: q)) } catch {
            throw QuantizationError("\(configURL.path): \(configKey) is invalid: \(error)")
        }
        try quantization.validate()
        let config = try XLMRModel.loadConfig(directory)
        let weightsURL = directory.appendingPathComponent(XLMRModel.weightsFile)
        let file = weightsURL.path
        let tensors = try Safetensors.read(weightsURL).tensors
        func tensor(_ name: String, _ shape: [Int]) throws -> SafetensorsEntry {
            guard let t = tensors[name] else { throw QuantizationError("\(file) is missing tensor \(name) (expected shape \(shape))") }
            guard t.shape == shape else { throw QuantizationError("\(file): tensor \(name) has shape \(t.shape), expected \(shape)") }
            return t
        }
        let head: ModelHead = tensors["classifier.weight"].map { .tokenClassification(labels: $0.shape.first ?? 0) } ?? .maskedLM
        let model = try XLMRModel(config: config, head: head)
        let linears = Dictionary(uniqueKeysWithValues: LinearNames.encoderLinears(config).map { ($0.name, $0) })
        let int8Embeddings = tensors[wordEmbeddings]?.dtype == .I8
        let ngramTensor = XLMRModel.charNgramTensor
        let int8Ngrams = config.charNgramBuckets > 0 && tensors[ngramTensor]?.dtype == .I8
        for e in model.layout.entries {
            let prefix = String(e.name.dropLast(".weight".count))
            if e.name.hasSuffix(".weight") && linears[prefix] != nil { continue }
            if e.name == wordEmbeddings && int8Embeddings { continue }
            if e.name == ngramTensor && int8Ngrams { continue }
            let values = try tensor(e.name, e.shape).float32s(e.name, file: file)
            (model.parameters.pointer + e.offset).update(from: values, count: values.count)
        }
        var kernels: [String: LinearKernel] = [:]
        for (name, l) in linears {
            let (N, K) = (l.outFeatures, l.inFeatures)
            let bias = model.parameter(name + ".bias")!.array
            switch quantization.scheme {
            case .dynamic, .llmInt8, .staticInt8:
                let w = Int8Weights(q: try tensor(name + ".weight", [N, K]).int8s(name + ".weight", file: file),
                                    scale: try tensor(name + ".weight_scale", [N]).float32s(name + ".weight_scale", file: file),
                                    outFeatures: N, inFeatures: K)
                if quantization.scheme == .llmInt8 {
                    kernels[name] = MixedInt8Linear(weights: w, bias: bias, threshold: quantization.threshold)
                } else if quantization.scheme == .staticInt8 {
                    let s = try tensor(name + ".input_scale", [1]).float32s(name + ".input_scale", file: file)[0]
                    let z = try tensor(name + ".input_zero_point", [1]).float32s(name + ".input_zero_point", file: file)[0]
                    guard s > 0, s.isFinite, z >= 0, z <= Float(int8ActivationMax), z == z.rounded() else {
                        throw QuantizationError("\(file): \(name) input scale \(s) / zero point \(z), expected scale > 0 and an integer zero point in 0...\(int8ActivationMax)")
                    }
                    kernels[name] = Int8Linear(weights: w, bias: bias, activations: ActivationQuantization(scale: s, zero: Int32(z)))
                } else {
                    kernels[name] = Int8Linear(weights: w, bias: bias)
                }
            case .int4:
                let G = quantization.groupSize, groups = (K + G - 1) / G
                let w = try Int4Weights(packed: try tensor(name + ".weight", [N, (K + 1) / 2]).uint8s(name + ".weight", file: file),
                                        scale: try tensor(name + ".weight_scale", [N, groups]).float32s(name + ".weight_scale", file: file),
                                        outFeatures: N, inFeatures: K, groupSize: G)
                kernels[name] = Int4Linear(weights: w, bias: bias)
            }
        }
        /// An int8 embedding table (rows, C) and its per-row scales.
        func int8Table(_ name: String, rows: Int) throws -> Int8Weights {
            Int8Weights(q: try tensor(name, [rows, config.hiddenSize]).int8s(name, file: file),
                        scale: try tensor(name + "_scale", [rows]).float32s(name + "_scale", file: file),
                        outFeatures: rows, inFeatures: config.hiddenSize)
        }
        let embedding = int8Embeddings ? try int8Table(wordEmbeddings, rows: config.vocabSize) : nil
        let ngrams = int8Ngrams ? try int8Table(ngramTensor, rows: config.charNgramBuckets) : nil
        return try QuantizedModel(base: model, quantization: quantization, kernels: kernels, embedding: embedding, ngramEmbedding: ngrams)
    }
}
