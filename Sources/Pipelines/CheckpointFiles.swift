// A checkpoint folder as files: config.json, model.safetensors and the tokenizer travel under their plain names;
// the tokenizer goes along with every model derived from it, and token-classification checkpoints carry their
// label names as transformers saves them.
import Experiment
import Foundation
import TextData
import Transformer

package enum CheckpointFiles {
    /// The tokenizer's file name inside a checkpoint folder, as AfriBERTa and XLM-R name it.
    package static let tokenizerFile = "sentencepiece.bpe.model"
    /// The files every checkpoint artifact has.
    package static let files = [XLMRModel.configFile, XLMRModel.weightsFile, tokenizerFile]

    /// Files a checkpoint folder may have beside `files`, travelling with it when present: a fine-tuned model's
    /// test predictions, which its compressed variants compare with.
    package static let optionalFiles = [DensePredictions.file]

    /// The files of a checkpoint folder as named artifacts (`files`, and `optionalFiles` that exist).
    package static func artifacts(in folder: URL) throws -> [String: URL] {
        var out: [String: URL] = [:]
        for name in optionalFiles where FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path) {
            out[name] = folder.appendingPathComponent(name)
        }
        for name in files {
            let url = folder.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: url.path) else { throw PermanentTaskError("checkpoint \(folder.path) has no \(name)") }
            out[name] = url
        }
        return out
    }

    /// The tokenizer of a checkpoint folder (a missing or unreadable one is permanent).
    static func tokenizer(of folder: URL) throws -> (XLMRTokenizer, url: URL) {
        let url = folder.appendingPathComponent(tokenizerFile)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw PermanentTaskError("the checkpoint \(folder.path) has no \(tokenizerFile) (a checkpoint from `smaller run` has one)")
        }
        return (try permanent("reading \(url.path)") { try XLMRTokenizer(contentsOf: url.path) }, url)
    }

    /// Copies a tokenizer file (links followed) into `folder`, replacing one already there.
    static func copyTokenizer(_ tokenizer: URL, into folder: URL) throws {
        let copy = folder.appendingPathComponent(tokenizerFile)
        try? FileManager.default.removeItem(at: copy)
        try FileManager.default.copyItem(at: tokenizer.resolvingSymlinksInPath(), to: copy)
    }

    /// Puts the real label names into config.json (`id2label`, `label2id`), as transformers saves them.
    static func writeLabelNames(_ labels: LabelSet, into folder: URL) throws {
        let url = folder.appendingPathComponent(XLMRModel.configFile)
        let data = try Data(contentsOf: url)
        guard var json = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw PermanentTaskError("\(url.path) is not a JSON object")
        }
        json["id2label"] = Dictionary(uniqueKeysWithValues: labels.labels.enumerated().map { (String($0.offset), $0.element) })
        json["label2id"] = Dictionary(uniqueKeysWithValues: labels.labels.enumerated().map { ($0.element, $0.offset) })
        try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys]).write(to: url, options: .atomic)
    }

    /// A fine-tuned fp32 NER checkpoint: loaded, and refused when its classifier is not the label set's.
    static func loadNER(_ folder: URL, labels: LabelSet) throws -> XLMRModel {
        let model = try permanent("loading the checkpoint \(folder.path)") { try XLMRModel.load(folder) }
        guard model.outputCount == labels.count else {
            throw PermanentTaskError("the parent has \(model.outputCount) labels, expected \(labels.count) (a fine-tuned NER checkpoint)")
        }
        return model
    }
}

extension CheckpointFiles {
    /// The encoder depth of a checkpoint folder, from its config.json.
    package static func layers(of folder: URL) throws -> Int {
        try permanent("reading \(folder.path)") { try XLMRModel.loadConfig(folder).numHiddenLayers }
    }
}
