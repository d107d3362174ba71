// A checkpoint as task artifacts: config.json, model.safetensors and the tokenizer travel as three files
// under their plain names, and are put back together in a folder on the worker that reads them.
import Experiment
import Foundation
import Transformer

enum Checkpoint {
    /// The tokenizer's file name inside a checkpoint folder, as AfriBERTa and XLM-R name it.
    static let tokenizerFile = "sentencepiece.bpe.model"
    static let files = [XLMRModel.configFile, XLMRModel.weightsFile, tokenizerFile]

    /// The files of a checkpoint folder as named artifacts.
    static func artifacts(in folder: URL) throws -> [String: URL] {
        var out: [String: URL] = [:]
        for name in files {
            let url = folder.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: url.path) else { throw ExecutionError("checkpoint \(folder.path) has no \(name)") }
            out[name] = url
        }
        return out
    }

    /// Rebuilds a checkpoint folder from a parent task's artifacts (links, not copies).
    static func folder(from request: ExecutionRequest, parent: String) throws -> URL {
        guard let files = request.inputs[parent] else {
            throw ExecutionError("\(request.spec.title): the input artifacts of task \(parent.prefix(12)) did not arrive")
        }
        let folder = request.workDirectory.appendingPathComponent("parent-\(parent.prefix(12))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for name in Self.files {
            guard let source = files[name] else {
                throw ExecutionError("\(request.spec.title): task \(parent.prefix(12)) produced no \(name) (it has \(files.keys.sorted()))")
            }
            let target = folder.appendingPathComponent(name)
            try? FileManager.default.removeItem(at: target)
            try FileManager.default.createSymbolicLink(at: target, withDestinationURL: source)
        }
        return folder
    }
}
