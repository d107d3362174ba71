// Checkpoints in transformers' layout: a folder with config.json and model.safetensors, tensor names as
// transformers writes them, so that checkpoints move both ways between this engine and transformers.
import Foundation
import TensorCore

extension XLMRModel {
    package static let configFile = "config.json"
    package static let weightsFile = "model.safetensors"
    /// PyTorch's weights file (torch.save of the state dict), read when a folder has no `weightsFile`.
    package static let torchWeightsFile = "pytorch_model.bin"

    /// The weights file of a checkpoint folder: model.safetensors, else pytorch_model.bin, else nil.
    package static func weightsURL(in directory: URL) -> URL? {
        [weightsFile, torchWeightsFile].map { directory.appendingPathComponent($0) }
            .first { FileManager.default.fileExists(atPath: $0.path) }
    }

    /// The tensors of a checkpoint folder's weights, from either format.
    static func readWeights(_ directory: URL) throws -> (tensors: [String: SafetensorsEntry], file: String) {
        guard let url = weightsURL(in: directory) else {
            throw ModelError("\(directory.path) has neither \(weightsFile) nor \(torchWeightsFile)")
        }
        do {
            if url.lastPathComponent == weightsFile { return (try Safetensors.read(url).tensors, url.path) }
            return (try TorchCheckpoint.read(url), url.path)
        } catch let e as ZipError {
            throw ModelError(e.description)
        }
    }

    /// Reads config.json from `directory`.
    package static func loadConfig(_ directory: URL) throws -> XLMRConfig {
        let url = directory.appendingPathComponent(configFile)
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw ModelError("cannot read \(url.path): \(error.localizedDescription)") }
        do { return try JSONDecoder().decode(XLMRConfig.self, from: data) } catch {
            throw ModelError("\(url.path) is not a valid XLM-R config: \(error)")
        }
    }

    /// Loads a checkpoint written by transformers (`XLMRobertaForMaskedLM`, `…ForTokenClassification`; weights as
    /// safetensors or pytorch_model.bin) or by us.
    /// With `head` nil the head is the checkpoint's own. Asking for `.tokenClassification` from an MLM checkpoint
    /// is the head swap: the encoder loads and the classifier is initialised from `classifierSeed`.
    package static func load(_ directory: URL, head requested: ModelHead? = nil, classifierSeed: UInt64 = 0) throws -> XLMRModel {
        var config = try loadConfig(directory)
        let (tensors, file) = try readWeights(directory)
        let checkpointHead: ModelHead
        if let cls = tensors["classifier.weight"] {
            guard cls.shape.count == 2, cls.shape[1] == config.hiddenSize else {
                throw ModelError("\(file): tensor classifier.weight has shape \(cls.shape), expected [labels, \(config.hiddenSize)]")
            }
            checkpointHead = .tokenClassification(labels: cls.shape[0])
        } else {
            checkpointHead = .maskedLM
        }
        let head = requested ?? checkpointHead
        if case .tokenClassification(let n) = head {
            if config.id2label?.count != n { config.id2label = Dictionary(uniqueKeysWithValues: (0..<n).map { (String($0), "LABEL_\($0)") }) }
        }
        let model = try XLMRModel(config: config, head: head)
        let fresh = head != checkpointHead
        if fresh { model.initializeClassifier(seed: classifierSeed) }
        for e in model.layout.entries {
            if fresh && e.name.hasPrefix("classifier.") { continue }
            guard let t = lookup(e.name, in: tensors) else {
                throw ModelError("\(file) is missing tensor \(e.name) (expected shape \(e.shape))")
            }
            guard [.F32, .F16, .BF16, .F64].contains(t.dtype) else {
                throw ModelError("\(file): tensor \(e.name) is \(t.dtype.rawValue), not a float: a quantized checkpoint? (load it with QuantizedModel.load)")
            }
            guard t.shape == e.shape else {
                throw ModelError("\(file): tensor \(e.name) has shape \(t.shape), expected \(e.shape)")
            }
            let values = t.floats()
            (model.parameters.pointer + e.offset).update(from: values, count: values.count)
        }
        return model
    }

    /// Finds a tensor under its name or the aliases transformers has used: no "roberta." prefix (a bare
    /// encoder), and the MLM decoder bias as `lm_head.decoder.bias` (transformers 4) or `lm_head.bias` (5).
    static func lookup(_ name: String, in tensors: [String: SafetensorsEntry]) -> SafetensorsEntry? {
        if let t = tensors[name] { return t }
        if name.hasPrefix("roberta."), let t = tensors[String(name.dropFirst("roberta.".count))] { return t }
        if name == "lm_head.bias" { return tensors["lm_head.decoder.bias"] }
        return nil
    }

    /// Writes config.json and model.safetensors (F32, transformers' names; the tied decoder weight is not stored,
    /// as transformers 5 does).
    package func save(_ directory: URL) throws {
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
            throw ModelError("cannot create \(directory.path): \(error.localizedDescription)")
        }
        let configURL = directory.appendingPathComponent(Self.configFile)
        do { try configJSON().write(to: configURL, options: .atomic) } catch {
            throw ModelError("cannot write \(configURL.path): \(error.localizedDescription)")
        }
        let tensors = layout.entries.map { e in
            (name: e.name, shape: e.shape, values: UnsafeBufferPointer(start: parameters.pointer + e.offset, count: e.count))
        }
        try Safetensors.write(tensors, metadata: ["format": "pt"], to: directory.appendingPathComponent(Self.weightsFile))
    }

    /// config.json as transformers writes it for this model.
    package func configJSON() throws -> Data {
        let c = config
        func number(_ f: Float) -> Double { Double("\(f)") ?? Double(f) }
        var object: [String: Any] = [
            "model_type": "xlm-roberta", "vocab_size": c.vocabSize, "hidden_size": c.hiddenSize,
            "num_hidden_layers": c.numHiddenLayers, "num_attention_heads": c.numAttentionHeads,
            "intermediate_size": c.intermediateSize, "max_position_embeddings": c.maxPositionEmbeddings,
            "type_vocab_size": c.typeVocabSize, "layer_norm_eps": number(c.layerNormEps),
            "hidden_dropout_prob": number(c.hiddenDropoutProb), "attention_probs_dropout_prob": number(c.attentionProbsDropoutProb),
            "pad_token_id": c.padTokenId, "bos_token_id": 0, "eos_token_id": 2, "hidden_act": c.hiddenAct,
            "initializer_range": number(c.initializerRange), "tie_word_embeddings": true,
            "classifier_dropout": c.classifierDropout.map { number($0) as Any } ?? NSNull(),
        ]
        if let pruned = c.prunedHeads, !pruned.isEmpty { object["pruned_heads"] = pruned }
        if let sizes = c.layerIntermediateSizes { object["smaller_intermediate_sizes"] = sizes }
        if c.wordShapeTypes { object["word_shape_types"] = true }
        if c.charNgramBuckets > 0 { object["smaller_char_ngram_buckets"] = c.charNgramBuckets }
        switch head {
        case .maskedLM: object["architectures"] = ["XLMRobertaForMaskedLM"]
        case .tokenClassification(let n):
            object["architectures"] = ["XLMRobertaForTokenClassification"]
            let labels = c.id2label ?? [:]
            var id2label: [String: String] = [:], label2id: [String: Int] = [:]
            for i in 0..<n { let name = labels[String(i)] ?? "LABEL_\(i)"; id2label[String(i)] = name; label2id[name] = i }
            object["id2label"] = id2label
            object["label2id"] = label2id
        }
        return try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    }
}
