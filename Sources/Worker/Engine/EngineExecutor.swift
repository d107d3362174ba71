// EngineExecutor: the `engine` executor, where a pipeline TaskSpec (pretrain, finetune) becomes engine calls:
// data, tokenizer, training, evaluation, checkpoint. The one seam between orchestration and the engine.
import Experiment
import Foundation
import TensorCore

package struct EngineExecutor: TaskExecutor {
    package let name = "engine"
    package init() {}

    package func execute(_ request: ExecutionRequest, progress: @escaping @Sendable (Double, String) -> Void) throws -> ExecutionOutput {
        ComputeInfo.setThreads(request.threads)
        try FileManager.default.createDirectory(at: request.workDirectory, withIntermediateDirectories: true)
        let spec = request.spec
        let settings = try EngineSettings(spec)
        switch spec.kind {
        case .pretrain:
            return try PretrainTask(request: request, settings: settings, progress: progress).run()
        case .finetune:
            return try FinetuneTask(request: request, settings: settings, progress: progress).run()
        case .compress:
            return try CompressTask(request: request, settings: settings, progress: progress).run()
        case .noop:
            throw ExecutionError("noop tasks run on the noop executor, not the engine")
        }
    }
}

/// The resolved job sections an engine task reads, typed. The job parser has already validated ranges and
/// filled defaults, so a missing field here means the spec was not made by this build's parser.
struct EngineSettings {
    var seed: Int
    var language: String?
    var languages: [String]
    // model
    var layers: Int, hidden: Int, heads: Int, ffn: Int, maxLength: Int, vocab: Int
    // data
    var source: String, nerPath: String, textPath: String, syntheticSentences: Int
    // pretrain
    var pretrainSteps = 0, pretrainBatch = 16, pretrainLR = 5e-4, maskProbability = 0.15, pretrainWarmup = 0.1
    // finetune
    var epochs = 3, finetuneBatch = 16, finetuneLR = 1e-4, finetuneWarmup = 0.1

    init(_ spec: TaskSpec) throws {
        func section(_ name: String) throws -> [String: Value] {
            guard let s = spec.params[name]?.objectValue else { throw ExecutionError("\(spec.title): the spec has no '\(name)' section") }
            return s
        }
        func int(_ s: [String: Value], _ key: String, _ section: String) throws -> Int {
            guard let v = s[key]?.intValue else { throw ExecutionError("\(spec.title): \(section).\(key) is missing or not an integer") }
            return v
        }
        func double(_ s: [String: Value], _ key: String, _ section: String) throws -> Double {
            guard let v = s[key]?.doubleValue else { throw ExecutionError("\(spec.title): \(section).\(key) is missing or not a number") }
            return v
        }
        guard let seed = spec.seed else { throw ExecutionError("\(spec.title): engine tasks need a seed") }
        self.seed = seed
        language = spec.language
        languages = spec.params["languages"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let m = try section("model")
        layers = try int(m, "layers", "model"); hidden = try int(m, "hidden", "model"); heads = try int(m, "heads", "model")
        ffn = try int(m, "ffn", "model"); maxLength = try int(m, "max_length", "model"); vocab = try int(m, "vocab", "model")
        let d = try section("data")
        source = d["source"]?.stringValue ?? "synthetic"
        nerPath = d["ner"]?.stringValue ?? ""
        textPath = d["text"]?.stringValue ?? ""
        syntheticSentences = d["synthetic_sentences"]?.intValue ?? 2000
        if let p = spec.params["pretrain"]?.objectValue {
            pretrainSteps = try int(p, "steps", "pretrain"); pretrainBatch = try int(p, "batch", "pretrain")
            pretrainLR = try double(p, "learning_rate", "pretrain")
            maskProbability = try double(p, "mask_probability", "pretrain"); pretrainWarmup = try double(p, "warmup", "pretrain")
        }
        if let f = spec.params["finetune"]?.objectValue {
            epochs = try int(f, "epochs", "finetune"); finetuneBatch = try int(f, "batch", "finetune")
            finetuneLR = try double(f, "learning_rate", "finetune"); finetuneWarmup = try double(f, "warmup", "finetune")
        }
    }
}
