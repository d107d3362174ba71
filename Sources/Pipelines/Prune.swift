// prune: every pruning setting of the grid, and the CLI's one-shot pruning of a checkpoint.
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

extension PruneSettings {
    var pruningStructure: PruningStructure {
        switch structure {
        case .unstructured: .unstructured
        case .heads: .heads
        case .neurons: .neurons
        }
    }

    var pruningScope: PruningScope {
        switch scope {
        case .global: .global
        case .layer: .layer
        }
    }
}

extension Pipelines {
    package struct PruneInputs: Sendable {
        package var prune: PruneSettings
        package var finetune: FinetuneSettings
        package var data: DataSettings
        package var maxLength: Int
        package var language: String
        package var seed: Int
        /// The fine-tuned checkpoint (when=after) or the pretrained one (when=before).
        package var parent: URL
        /// What the evaluation scores beyond clean dev and test (the grid sets the job's; commands keep the defaults).
        package var evaluation = EvaluationInputs.standard

        package init(prune: PruneSettings, finetune: FinetuneSettings, data: DataSettings, maxLength: Int, language: String,
                     seed: Int, parent: URL) {
            self.prune = prune; self.finetune = finetune; self.data = data; self.maxLength = maxLength
            self.language = language; self.seed = seed; self.parent = parent
        }
    }

    /// One-shot pruning per `p` (the model itself for unstructured, a smaller one for heads / neurons), logged.
    package static func pruneOneShot(_ model: XLMRModel, _ p: PruneSettings, log: PipelineLog) throws -> XLMRModel {
        try p.validate()
        let pruned = try permanent("pruning") {
            try Pruning.oneShot(model, structure: p.pruningStructure, sparsity: p.sparsity, scope: p.pruningScope,
                                embeddings: p.embeddings, classifier: p.classifier)
        }
        let r = pruneReport(pruned, p)
        log.write(String(format: "pruned %@ %@ at %.3f: %d parameters, %d non-zero; heads %@, FFN %@", p.structure.rawValue,
                         p.scope.rawValue, p.sparsity, r.parameters, r.nonZeros, "\(r.headsPerLayer)", "\(r.neuronsPerLayer)"))
        return pruned
    }

    package static func pruneReport(_ model: XLMRModel, _ p: PruneSettings) -> PruneReport {
        Pruning.report(model, structure: p.pruningStructure, embeddings: p.embeddings, classifier: p.classifier)
    }

    package static func prune(_ i: PruneInputs, out: URL, run: PipelineRun) throws -> PipelineOutcome {
        let (f, s, log) = (i.prune, i.finetune, run.log)
        let started = Date()
        let gradual = f.schedule == .gradual, before = f.when == .before
        if gradual && f.structure != .unstructured {
            throw PermanentTaskError("schedule gradual is for unstructured pruning; heads and neurons are removed one-shot")
        }
        if gradual && !before && f.finetuneEpochs == 0 {
            throw PermanentTaskError("schedule gradual needs fine-tuning steps to prune over: set finetune_epochs > 0 or when: before")
        }
        let labels = LabelSet.masakhaNER
        let (tokenizer, tokenizerURL) = try CheckpointFiles.tokenizer(of: i.parent)
        let splits = try PipelineData.ner(try PipelineData.source(i.data, needsText: false), language: i.language, log: log)
        let data = try NERData.prepared(splits, tokenizer: tokenizer, tokenizerFile: tokenizerURL, labels: labels,
                                        maxLength: i.maxLength, evaluation: i.evaluation, log: log)
        var model: XLMRModel
        if before {
            model = try permanent("loading the pretrained checkpoint \(i.parent.path)") {
                try XLMRModel.load(i.parent, head: .tokenClassification(labels: labels.count), classifierSeed: UInt64(i.seed))
            }
        } else {
            model = try CheckpointFiles.loadNER(i.parent, labels: labels)
        }
        model.compute = run.compute
        let epochs = before ? (f.finetuneEpochs > 0 ? f.finetuneEpochs : s.epochs) : f.finetuneEpochs

        // One-shot pruning now (gradual prunes during fine-tuning instead).
        if !gradual { model = try pruneOneShot(model, f, log: log) }
        var trained: FineTuning.Outcome? = nil
        if epochs > 0 {
            let tensors = MagnitudePruning.prunableTensors(of: model, embeddings: f.embeddings, classifier: f.classifier)
            let steps = FineTuning.steps(windows: data.train.count, epochs: epochs, batch: s.batch)
            let schedule = gradual ? try cubicSchedule(final: f.sparsity, steps: steps) : nil
            trained = try FineTuning.run(model, epochs: epochs, data: data, settings: s, seed: i.seed, maxLength: i.maxLength,
                                         label: "prune-finetune \(i.language)", run: run, span: 0.0...0.9,
                                         eligibleFrom: schedule?.end ?? 0) { trainer, _ in
                if let schedule {
                    GradualPruner(schedule: schedule, tensors: tensors, scope: f.pruningScope, model: trainer.model).install(on: trainer)
                } else if f.structure == .unstructured {
                    ParameterMask(zerosOf: trainer.model, tensors: tensors).fix(on: trainer)
                }
            }
        }
        let scores = try Packaging.finish(model, vocab: model.config.vocabSize, data: data, scoreTrain: false, save: model.save,
                                          labelNames: labels, tokenizer: tokenizerURL, out: out, run: run, from: 0.92,
                                          reference: before ? .none : .compare(i.parent))
        log.write(String(format: "after pruning: dev F1 %.4f, test F1 %.4f", scores.dev.f1, scores.test.f1))

        var extraFiles: [String: URL] = [:]
        let denseBytes = try SparseCheckpoint.fileSize(out.appendingPathComponent(XLMRModel.weightsFile))
        var bytes = denseBytes
        if f.structure == .unstructured {
            // The compact copy (bitmask + non-zeros) travels beside the dense one; config.json is shared.
            let compact = run.work.appendingPathComponent("compact")
            bytes = try SparseCheckpoint.save(model, to: compact)
            let url = out.appendingPathComponent(SparseCheckpoint.weightsFile)
            try? FileManager.default.removeItem(at: url)
            try FileManager.default.moveItem(at: compact.appendingPathComponent(SparseCheckpoint.weightsFile), to: url)
            extraFiles[SparseCheckpoint.weightsFile] = url
        }

        let r = pruneReport(model, f)
        var metrics = scores.metrics
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
        if let trained {
            metrics["finetune.steps"] = .int(trained.steps)
            metrics["finetune.best_epoch"] = .int(trained.bestEpoch)
            metrics["finetune.final_loss"] = .double(Double(trained.lastLoss))
        }
        metrics["compress.seconds"] = .double(Date().timeIntervalSince(started))
        metrics["data.synthetic"] = .bool(splits.synthetic)
        return try outcome(out, metrics: metrics, extraFiles: extraFiles, run: run)
    }

    /// The gradual schedule over `steps` fine-tuning steps (see the file comment).
    static func cubicSchedule(final: Double, steps: Int) throws -> CubicSchedule {
        let end = max(1, Int(Double(steps) * 0.75))
        return try CubicSchedule(initial: 0, final: final, start: 0, end: end, frequency: max(1, steps / 20))
    }

    /// The CLI's one-shot pruning of a checkpoint folder (dense or compact) into `out`, dense or compact, with the
    /// tokenizer when the input has one. Returns the report and the weights file's name and size.
    package static func pruneCheckpoint(_ folder: URL, _ p: PruneSettings, compact: Bool, out: URL,
                                        log: PipelineLog) throws -> (before: Int, report: PruneReport, weightsFile: String, bytes: Int) {
        let input = try permanent("loading \(folder.path)") { try SparseCheckpoint.loadAny(folder) }
        let before = input.layout.parameterCount
        let pruned = try pruneOneShot(input, p, log: log)
        let file: String
        if compact {
            _ = try SparseCheckpoint.save(pruned, to: out)
            file = SparseCheckpoint.weightsFile
        } else {
            try pruned.save(out)
            file = XLMRModel.weightsFile
        }
        let tokenizer = folder.appendingPathComponent(CheckpointFiles.tokenizerFile)
        if FileManager.default.fileExists(atPath: tokenizer.path) { try CheckpointFiles.copyTokenizer(tokenizer, into: out) }
        return (before, pruneReport(pruned, p), file, try SparseCheckpoint.fileSize(out.appendingPathComponent(file)))
    }
}
