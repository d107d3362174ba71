// compress(lang, seed, prune …): every pruning setting of the grid.
//   when=after:  parent = the fine-tuned model; prune; then `finetune_epochs` more epochs (0: none) with the
//                mask fixed (unstructured) or on the smaller model (heads / neurons).
//   when=before: parent = the pretrained MLM model; prune the encoder; fine-tune like the finetune task (fresh
//                seeded classifier) for `finetune_epochs` epochs, or the job's finetune.epochs when that is 0.
//   structure:   unstructured (sparsity = fraction of encoder linear weights zeroed), heads or neurons
//                (sparsity = fraction of heads / FFN neurons physically removed, weight-norm importance).
//   embeddings, classifier: (unstructured) those weights join the pruned set; sparsity is then over all of them.
//   schedule:    oneshot, or gradual (unstructured only): Zhu & Gupta's cubic schedule from 0 to `sparsity`
//                over the fine-tuning steps (pruning every max(1, steps/20) steps, ending at 75% of them, so
//                the last quarter recovers at the final sparsity); only epochs ending after the schedule
//                count for the best-dev-F1 choice. Gradual with no fine-tuning steps (when=after and
//                finetune_epochs 0) is an error: there are no steps to spread the pruning over.
import Compression
import Evaluation
import Experiment
import Foundation
import TensorCore
import TextData
import Training
import Transformer

struct PruneTask {
    let request: ExecutionRequest
    let settings: EngineSettings
    let setting: CompressionSetting
    let progress: @Sendable (Double, String) -> Void

    /// The typed fields of a prune setting.
    struct Fields {
        var sparsity: Double, before: Bool, structure: PruningStructure, scope: PruningScope, gradual: Bool, finetuneEpochs: Int
        /// The embedding tables / the classifier are pruned too (unstructured only).
        var embeddings: Bool, classifier: Bool

        init(_ f: [String: Value], title: String) throws {
            func word(_ key: String, _ fallback: String) -> String { f[key]?.stringValue ?? fallback }
            guard let s = f["sparsity"]?.doubleValue, s >= 0, s < 1 else {
                throw ExecutionError("\(title): prune.sparsity is \(f["sparsity"].map { "\($0)" } ?? "missing"), expected a fraction in [0, 1)")
            }
            guard let structure = PruningStructure(rawValue: word("structure", "unstructured")) else {
                throw ExecutionError("\(title): prune.structure is \(word("structure", "")), expected unstructured, heads or neurons")
            }
            guard let scope = PruningScope(rawValue: word("scope", "global")) else {
                throw ExecutionError("\(title): prune.scope is \(word("scope", "")), expected global or layer")
            }
            let when = word("when", "after"), schedule = word("schedule", "oneshot")
            guard ["before", "after"].contains(when) else { throw ExecutionError("\(title): prune.when is \(when), expected before or after") }
            guard ["oneshot", "gradual"].contains(schedule) else {
                throw ExecutionError("\(title): prune.schedule is \(schedule), expected oneshot or gradual")
            }
            sparsity = s; before = when == "before"; self.structure = structure; self.scope = scope
            gradual = schedule == "gradual"; finetuneEpochs = f["finetune_epochs"]?.intValue ?? 0
            // With heads / neurons the job parser refuses these, and Pruning.oneShot would too.
            embeddings = f["embeddings"]?.boolValue ?? false; classifier = f["classifier"]?.boolValue ?? false
            if gradual && structure != .unstructured {
                throw ExecutionError("\(title): schedule gradual is for unstructured pruning; heads and neurons are removed one-shot")
            }
            if gradual && !before && finetuneEpochs == 0 {
                throw ExecutionError("\(title): schedule gradual needs fine-tuning steps to prune over: set finetune_epochs > 0 or when: before")
            }
        }
    }

    func run() throws -> ExecutionOutput {
        let spec = request.spec, s = settings, log = request.log
        let title = spec.title
        let started = Date()
        let language = spec.language!, parent = spec.inputs.first!
        let f = try Fields(setting.fields, title: title)
        let labels = LabelSet.masakhaNER

        let folder = try Checkpoint.folder(from: request, parent: parent)
        let tokenizerURL = folder.appendingPathComponent(Checkpoint.tokenizerFile)
        let tokenizer = try XLMRTokenizer(contentsOf: tokenizerURL.path)
        let data = try NERTaskData(settings: s, language: language, tokenizer: tokenizer, labels: labels, log: log)
        var model: XLMRModel
        if f.before {
            model = try XLMRModel.load(folder, head: .tokenClassification(labels: labels.count), classifierSeed: UInt64(s.seed))
        } else {
            model = try XLMRModel.load(folder)
            guard model.outputCount == labels.count else {
                throw ExecutionError("\(title): the parent has \(model.outputCount) labels, expected \(labels.count) (a fine-tuned NER checkpoint)")
            }
        }
        let epochs = f.before ? (f.finetuneEpochs > 0 ? f.finetuneEpochs : s.epochs) : f.finetuneEpochs

        // One-shot pruning now (gradual prunes during fine-tuning instead).
        if !f.gradual {
            model = try Pruning.oneShot(model, structure: f.structure, sparsity: f.sparsity, scope: f.scope,
                                        embeddings: f.embeddings, classifier: f.classifier)
            let r = Pruning.report(model, structure: f.structure, embeddings: f.embeddings, classifier: f.classifier)
            log.write(String(format: "pruned %@ %@ at %.3f: %d parameters, %d non-zero; heads %@, FFN %@", f.structure.rawValue,
                             f.scope.rawValue, f.sparsity, r.parameters, r.nonZeros, "\(r.headsPerLayer)", "\(r.neuronsPerLayer)"))
        }
        var outcome: FineTuning.Outcome? = nil
        if epochs > 0 {
            let tensors = MagnitudePruning.prunableTensors(of: model, embeddings: f.embeddings, classifier: f.classifier)
            let steps = FineTuning.steps(windows: data.train.count, epochs: epochs, batch: s.finetuneBatch)
            let schedule = f.gradual ? try Self.schedule(final: f.sparsity, steps: steps) : nil
            outcome = try FineTuning.run(model, epochs: epochs, data: data, settings: s, label: "prune-finetune \(language)", log: log,
                                         progress: progress, span: 0.0...0.9, eligibleFrom: schedule?.end ?? 0) { trainer, _ in
                if let schedule {
                    GradualPruner(schedule: schedule, tensors: tensors, scope: f.scope, model: trainer.model).install(on: trainer)
                } else if f.structure == .unstructured {
                    ParameterMask(zerosOf: trainer.model, tensors: tensors).fix(on: trainer)
                }
            }
        }
        progress(0.92, "evaluating \(language)")
        let dev = try data.evaluator.score(model, data.splits.dev, windows: data.dev)
        let test = try data.evaluator.score(model, data.splits.test, windows: data.test)
        log.write(String(format: "after pruning: dev F1 %.4f, test F1 %.4f", dev.f1, test.f1))

        let out = request.workDirectory.appendingPathComponent("checkpoint")
        try model.save(out)
        try FinetuneTask.writeLabelNames(labels, into: out.appendingPathComponent(XLMRModel.configFile))
        try FileManager.default.copyItem(at: tokenizerURL.resolvingSymlinksInPath(), to: out.appendingPathComponent(Checkpoint.tokenizerFile))
        var artifacts = try Checkpoint.artifacts(in: out)
        let denseBytes = try SparseCheckpoint.fileSize(out.appendingPathComponent(XLMRModel.weightsFile))
        var bytes = denseBytes
        if f.structure == .unstructured {
            // The compact copy (bitmask + non-zeros) travels beside the dense one; config.json is shared.
            let compact = request.workDirectory.appendingPathComponent("compact")
            bytes = try SparseCheckpoint.save(model, to: compact)
            let url = out.appendingPathComponent(SparseCheckpoint.weightsFile)
            try FileManager.default.moveItem(at: compact.appendingPathComponent(SparseCheckpoint.weightsFile), to: url)
            artifacts[SparseCheckpoint.weightsFile] = url
        }

        progress(0.97, "timing \(language)")
        let timing = try InferenceTiming.measure(model, vocab: model.config.vocabSize, maxLength: settings.maxLength)
        let r = Pruning.report(model, structure: f.structure, embeddings: f.embeddings, classifier: f.classifier)
        var metrics = NEREvaluator.metrics(dev, prefix: "dev").merging(NEREvaluator.metrics(test, prefix: "test")) { $1 }
        metrics.merge(timing) { $1 }
        metrics["structure"] = .string(f.structure.rawValue)
        metrics["params"] = .int(r.parameters)
        metrics["nonzeros"] = .int(r.nonZeros)
        metrics["prunable"] = .int(r.prunable)
        metrics["sparsity"] = .double(r.sparsity)
        metrics["heads"] = .int(r.headsKept)
        metrics["neurons"] = .int(r.neuronsKept)
        metrics["bytes"] = .int(bytes)
        metrics["bytes.dense"] = .int(denseBytes)
        metrics["finetune.epochs"] = .int(epochs)
        if let outcome {
            metrics["finetune.steps"] = .int(outcome.steps)
            metrics["finetune.best_epoch"] = .int(outcome.bestEpoch)
            metrics["finetune.final_loss"] = .double(Double(outcome.lastLoss))
        }
        metrics["compress.seconds"] = .double(Date().timeIntervalSince(started))
        metrics["data.synthetic"] = .bool(data.splits.synthetic)
        return ExecutionOutput(metrics: metrics, artifacts: artifacts)
    }

    /// The gradual schedule over `steps` fine-tuning steps (see the file comment).
    static func schedule(final: Double, steps: Int) throws -> CubicSchedule {
        let end = max(1, Int(Double(steps) * 0.75))
        return try CubicSchedule(initial: 0, final: final, start: 0, end: end, frequency: max(1, steps / 20))
    }
}
