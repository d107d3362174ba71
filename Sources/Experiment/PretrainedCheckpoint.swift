// `pretrained: {checkpoint: DIR}`: a job starts every fine-tune from a Hugging Face XLM-R folder instead of its own
// pretraining. The folder is checked when the job is read (a missing or unusable one is a job-file error) and its
// content hash joins the task ids, so a changed checkpoint reruns everything that depends on it.
import Crypto
import Foundation

package enum PretrainedCheckpoint {
    package static let configFile = "config.json"
    /// Either weights file, in the order they are looked for.
    package static let weightsFiles = ["model.safetensors", "pytorch_model.bin"]
    package static let tokenizerFile = "sentencepiece.bpe.model"
    /// The config.json keys the engine needs, all integers.
    static let requiredIntegers = ["vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
                                   "max_position_embeddings"]

    /// The files whose bytes the hash covers, in hashing order: config, weights, tokenizer.
    package static func files(in folder: URL) throws -> [URL] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw PermanentTaskError("\(folder.path) is not a folder (a Hugging Face XLM-R checkpoint: config.json, "
                + "model.safetensors or pytorch_model.bin, sentencepiece.bpe.model; `smaller model fetch` downloads one)")
        }
        func has(_ name: String) -> Bool { FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path) }
        guard let weights = weightsFiles.first(where: has) else {
            throw PermanentTaskError("\(folder.path) has no weights (\(weightsFiles.joined(separator: " or ")))")
        }
        for name in [configFile, tokenizerFile] where !has(name) { throw PermanentTaskError("\(folder.path) has no \(name)") }
        return [configFile, weights, tokenizerFile].map { folder.appendingPathComponent($0) }
    }

    /// Checks config.json for an XLM-R encoder that takes windows of `maxLength` tokens; returns nil when it does.
    package static func configProblem(in folder: URL, maxLength: Int) -> String? {
        let url = folder.appendingPathComponent(configFile)
        guard let data = try? Data(contentsOf: url), let object = try? JSONSerialization.jsonObject(with: data),
              let json = object as? [String: Any] else { return "\(url.path) is not a JSON object" }
        let type = json["model_type"] as? String ?? "(none)"
        guard ["xlm-roberta", "roberta"].contains(type) else { return "\(url.path): model_type \(type), expected xlm-roberta" }
        for key in requiredIntegers {
            guard let n = (json[key] as? NSNumber)?.intValue, n > 0 else { return "\(url.path): \(key) is missing or not a positive integer" }
        }
        let positions = (json["max_position_embeddings"] as? NSNumber)?.intValue ?? 0
        // XLM-R's position ids start at padding_idx + 1, so a window of T tokens needs T + 2 positions.
        guard maxLength + 2 <= positions else {
            return "model.max_length \(maxLength) needs \(maxLength + 2) positions but the checkpoint has \(positions) "
                + "(set model.max_length to at most \(positions - 2))"
        }
        return nil
    }

    /// SHA-256 (hex) over the folder's files: one line `name sha256 bytes` per file, hashed in turn.
    package static func contentHash(of folder: URL) throws -> String {
        var lines = ""
        for url in try files(in: folder) {
            let (digest, size) = try permanentRead(url) { try ArtifactStore.sha256(of: url) }
            lines += "\(url.lastPathComponent) \(digest) \(size)\n"
        }
        return SHA256.hash(data: Data(lines.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// The resolved `pretrained` section of a job: the folder as written, checked, and its content hash.
    package static func resolve(checkpoint: String, maxLength: Int) throws -> [String: Value] {
        let folder = URL(fileURLWithPath: checkpoint)
        _ = try files(in: folder)
        if let problem = configProblem(in: folder, maxLength: maxLength) { throw PermanentTaskError(problem) }
        return ["checkpoint": .string(checkpoint), "sha256": .string(try contentHash(of: folder))]
    }

    private static func permanentRead<T>(_ url: URL, _ body: () throws -> T) throws -> T {
        do { return try body() } catch { throw PermanentTaskError("cannot read \(url.path): \(error.localizedDescription)") }
    }
}
