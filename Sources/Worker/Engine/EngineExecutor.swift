// EngineExecutor: the `engine` executor. A task's spec is decoded once into typed settings, its input artifacts
// are put back together as checkpoint folders, and the matching pipeline runs; the pipeline's outcome is the
// task's output. The recipes themselves live in the Pipelines target.
import Experiment
import Foundation
import Pipelines

package struct EngineExecutor: TaskExecutor {
    package let name = "engine"
    package init() {}

    package func execute(_ request: ExecutionRequest, progress: @escaping @Sendable (Double, String) -> Void) throws -> ExecutionOutput {
        let compute = ComputeContext(threads: request.threads)
        compute.activate()
        try FileManager.default.createDirectory(at: request.workDirectory, withIntermediateDirectories: true)
        let spec = request.spec
        do {
            let s = try TaskSettings(spec)
            let run = PipelineRun(compute: compute, log: request.log, work: request.workDirectory, progress: progress)
            let out = request.workDirectory.appendingPathComponent("checkpoint")
            let outcome = try Self.run(spec, s, inputs: InputFolders(request: request), out: out, run: run)
            return ExecutionOutput(metrics: outcome.metrics, artifacts: outcome.files)
        } catch let error as PermanentTaskError {
            throw PermanentTaskError("\(spec.title): \(error.description)")
        }
    }

    static func run(_ spec: TaskSpec, _ s: TaskSettings, inputs: InputFolders, out: URL, run: PipelineRun) throws -> PipelineOutcome {
        func section<T>(_ value: T?, _ name: String) throws -> T {
            guard let value else { throw PermanentTaskError("the spec has no '\(name)' section") }
            return value
        }
        func language() throws -> String {
            guard let language = s.language else { throw PermanentTaskError("a \(spec.kind.rawValue) task needs a language") }
            return language
        }
        switch spec.kind {
        case .pretrain:
            let p = Pipelines.PretrainInputs(model: s.model, pretrain: try section(s.pretrain, "pretrain"), data: s.data,
                                             languages: s.languages, seed: s.seed, tokenizerFrom: try inputs.optionalFolder(0))
            return try Pipelines.pretrain(p, out: out, run: run)
        case .finetune:
            let f = Pipelines.FinetuneInputs(finetune: try section(s.finetune, "finetune"), data: s.data, maxLength: s.model.maxLength,
                                             language: try language(), seed: s.seed, pretrained: try inputs.folder(0))
            return try Pipelines.finetune(f, out: out, run: run)
        case .compress:
            let finetune = try section(s.finetune, "finetune")
            switch try section(s.compression, "setting") {
            case .prune(let prune):
                return try Pipelines.prune(.init(prune: prune, finetune: finetune, data: s.data, maxLength: s.model.maxLength,
                                                 language: try language(), seed: s.seed, parent: try inputs.folder(0)), out: out, run: run)
            case .quantize(let quantize):
                return try Pipelines.quantize(.init(quantize: quantize, data: s.data, maxLength: s.model.maxLength,
                                                    language: try language(), parent: try inputs.folder(0)), out: out, run: run)
            case .distill(let distill):
                // A narrower student (hidden/heads/ffn set): the plan added its own pretraining as the second input.
                let i = Pipelines.DistillInputs(distill: distill, finetune: finetune, maxLength: s.model.maxLength, seed: s.seed,
                                                teacher: try inputs.folder(0), student: try inputs.optionalFolder(1))
                let splits = try PipelineData.ner(try PipelineData.source(s.data, needsText: false), language: try language(), log: run.log)
                return try Pipelines.distill(i, data: splits, out: out, run: run)
            }
        case .noop:
            throw PermanentTaskError("noop tasks run on the noop executor, not the engine")
        }
    }
}

extension TaskLog: PipelineLog {}

/// A task's input artifacts as checkpoint folders: config.json, model.safetensors and the tokenizer of each parent
/// task linked (not copied) into a folder of the work directory.
struct InputFolders {
    let request: ExecutionRequest

    /// The folder of the `index`-th input (the parent first); a missing input is permanent.
    func folder(_ index: Int) throws -> URL {
        guard let folder = try optionalFolder(index) else {
            throw PermanentTaskError("the task has no input #\(index + 1) (a parent checkpoint)")
        }
        return folder
    }

    func optionalFolder(_ index: Int) throws -> URL? {
        let inputs = request.spec.inputs
        guard index < inputs.count else { return nil }
        let parent = inputs[index]
        guard let files = request.inputs[parent] else {
            throw PermanentTaskError("the input artifacts of task \(parent.prefix(12)) did not arrive")
        }
        let folder = request.workDirectory.appendingPathComponent("parent-\(parent.prefix(12))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for name in CheckpointFiles.files {
            guard let source = files[name] else {
                throw PermanentTaskError("task \(parent.prefix(12)) produced no \(name) (it has \(files.keys.sorted()))")
            }
            let target = folder.appendingPathComponent(name)
            try? FileManager.default.removeItem(at: target)
            try FileManager.default.createSymbolicLink(at: target, withDestinationURL: source)
        }
        return folder
    }
}
