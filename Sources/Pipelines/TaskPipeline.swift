// A grid task's pipeline: the task's kind and compression family pick the recipe, its typed settings fill the
// recipe's inputs, and its input checkpoints are folders in the order the plan lists them (parent first).
import Experiment
import Foundation
import TensorCore

extension Pipelines {
    /// Runs `spec` (decoded as `s`) with `inputs`, the folders of `spec.inputs` in order, writing the checkpoint to
    /// `out`, every fp32 product on the kernel the job's `compute.gemm` pins (the worker's choice under auto).
    package static func run(_ spec: TaskSpec, _ s: TaskSettings, inputs: [URL], out: URL, run: PipelineRun) throws -> PipelineOutcome {
        try withKernel(s.compute) { try recipe(spec, s, inputs: inputs, out: out, run: run) }
    }

    /// Runs `body` with every product on the kernel `compute.gemm` names (other tasks of the process that pin one
    /// wait their turn); under `auto`, as the worker decides. A kernel this processor cannot run is a permanent
    /// error, not a silent substitute: the record would name a kernel that did not compute it.
    package static func withKernel<R>(_ compute: ComputeSettings, _ body: () throws -> R) throws -> R {
        guard let policy = GemmPolicy(parsing: compute.gemm) else {
            throw PermanentTaskError("compute.gemm must be auto, own or oneDNN, got \(compute.gemm)")
        }
        if policy == .auto { return try body() }
        if policy == .own && !GemmKernel.ownAvailable {
            throw PermanentTaskError("compute.gemm: own needs AVX2 and FMA, which this worker's processor lacks (pin oneDNN, or use auto)")
        }
        return try GemmChoice.withPolicy(policy, body)
    }

    static func recipe(_ spec: TaskSpec, _ s: TaskSettings, inputs: [URL], out: URL, run: PipelineRun) throws -> PipelineOutcome {
        func section<T>(_ value: T?, _ name: String) throws -> T {
            guard let value else { throw PermanentTaskError("the spec has no '\(name)' section") }
            return value
        }
        func language() throws -> String {
            guard let language = s.language else { throw PermanentTaskError("a \(spec.kind.rawValue) task needs a language") }
            return language
        }
        func parent() throws -> URL {
            guard let first = inputs.first else { throw PermanentTaskError("a \(spec.kind.rawValue) task needs a parent checkpoint") }
            return first
        }
        switch spec.kind {
        case .pretrain:
            if let p = s.pretrained { return try importCheckpoint(URL(fileURLWithPath: p.checkpoint), sha256: p.sha256, out: out, run: run) }
            return try pretrain(PretrainInputs(model: s.model, pretrain: try section(s.pretrain, "pretrain"), data: s.data,
                                               languages: s.languages, seed: s.seed, tokenizerFrom: inputs.first), out: out, run: run)
        case .finetune:
            var i = FinetuneInputs(finetune: try section(s.finetune, "finetune"), data: s.data, maxLength: s.model.maxLength,
                                   language: try language(), seed: s.seed, pretrained: try parent())
            i.evaluation = EvaluationInputs(s)
            return try finetune(i, out: out, run: run)
        case .compress:
            let finetune = try section(s.finetune, "finetune")
            let compression = try section(s.compression, "setting")
            // Every variant but prune-before starts from the fine-tuned model, whose test predictions it is compared with.
            let fromPretrained: Bool = if case .prune(let p) = compression { p.when == .before } else { false }
            if !fromPretrained { try Quality.requireDensePredictions(in: try parent()) }
            switch compression {
            case .prune(let p):
                var i = PruneInputs(prune: p, finetune: finetune, data: s.data, maxLength: s.model.maxLength,
                                    language: try language(), seed: s.seed, parent: try parent())
                i.evaluation = EvaluationInputs(s)
                return try prune(i, out: out, run: run)
            case .quantize(let q):
                var i = QuantizeInputs(quantize: q, data: s.data, maxLength: s.model.maxLength, language: try language(), parent: try parent())
                i.evaluation = EvaluationInputs(s)
                return try quantize(i, out: out, run: run)
            case .distill(let d):
                // A narrower student (hidden/heads/ffn set): the plan added its own pretraining as the second input.
                var i = DistillInputs(distill: d, finetune: finetune, maxLength: s.model.maxLength, seed: s.seed, teacher: try parent(),
                                      student: inputs.count > 1 ? inputs[1] : nil)
                i.evaluation = EvaluationInputs(s)
                let splits = try PipelineData.ner(try PipelineData.source(s.data, needsText: false), language: try language(), log: run.log)
                return try distill(i, data: splits, out: out, run: run)
            }
        case .noop:
            throw PermanentTaskError("noop tasks run on the noop executor, not the engine")
        }
    }
}
