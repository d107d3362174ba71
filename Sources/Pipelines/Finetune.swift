// finetune(lang, seed): token classification from the pretrained checkpoint (classifier freshly initialised,
// seeded), the epoch with the best dev F1 kept (FineTuning.run), then the shared evaluation and packaging; the
// checkpoint is the outcome.
import Evaluation
import Experiment
import Foundation
import TensorCore
import TextData
import Training
import Transformer

extension Pipelines {
    /// What a fine-tuning run reads: the fine-tuning section, the data, the window length, language and seed,
    /// and the pretrained checkpoint folder.
    package struct FinetuneInputs: Sendable {
        package var finetune: FinetuneSettings
        package var data: DataSettings
        package var maxLength: Int
        package var language: String
        package var seed: Int
        package var pretrained: URL
        /// What the evaluation scores beyond clean dev and test (the grid sets the job's; commands keep the defaults).
        package var evaluation = EvaluationInputs.standard

        package init(finetune: FinetuneSettings, data: DataSettings, maxLength: Int, language: String, seed: Int, pretrained: URL) {
            self.finetune = finetune; self.data = data; self.maxLength = maxLength; self.language = language; self.seed = seed
            self.pretrained = pretrained
        }
    }

    package static func finetune(_ f: FinetuneInputs, out: URL, run: PipelineRun) throws -> PipelineOutcome {
        let started = Date()
        let labels = LabelSet.masakhaNER
        let (tokenizer, tokenizerURL) = try CheckpointFiles.tokenizer(of: f.pretrained)
        let splits = try PipelineData.ner(try PipelineData.source(f.data, needsText: false), language: f.language, log: run.log)
        let data = try NERData.prepared(splits, tokenizer: tokenizer, tokenizerFile: tokenizerURL, labels: labels,
                                        maxLength: f.maxLength, evaluation: f.evaluation, log: run.log)
        guard !data.train.isEmpty else { throw PermanentTaskError("\(f.language): no training sentences") }

        // The pretrained encoder with a fresh, seeded classifier; trained epoch by epoch, best dev F1 kept.
        let model = try permanent("loading the pretrained checkpoint \(f.pretrained.path)") {
            try XLMRModel.load(f.pretrained, head: .tokenClassification(labels: labels.count), classifierSeed: UInt64(f.seed))
        }
        model.compute = run.compute
        let trained = try FineTuning.run(model, epochs: f.finetune.epochs, data: data, settings: f.finetune, seed: f.seed,
                                         maxLength: f.maxLength, label: "finetune \(f.language)", run: run, span: 0.0...0.95)
        let scores = try Packaging.finish(model, vocab: model.config.vocabSize, data: data, scoreTrain: true, save: model.save,
                                          labelNames: labels, tokenizer: tokenizerURL, out: out, run: run, from: 0.96,
                                          reference: .write)
        run.log.write(String(format: "best epoch %d: train F1 %.4f, dev F1 %.4f, test F1 %.4f", trained.bestEpoch,
                             scores.train?.f1 ?? 0, scores.dev.f1, scores.test.f1))

        var metrics = scores.metrics
        metrics["params"] = .int(model.layout.parameterCount)
        // The weights file as shipped, like every compress record's `bytes`, so Δ bytes compares like with like.
        metrics["bytes"] = .int(InferenceTiming.fileSize(out.appendingPathComponent(XLMRModel.weightsFile)))
        metrics["nonzeros"] = .int(Metrics.nonZeros(model))
        metrics["finetune.best_epoch"] = .int(trained.bestEpoch)
        metrics["finetune.epochs"] = .int(f.finetune.epochs)
        metrics["finetune.steps"] = .int(trained.steps)
        metrics["finetune.final_loss"] = .double(Double(trained.lastLoss))
        metrics["finetune.seconds"] = .double(Date().timeIntervalSince(started))
        metrics["data.synthetic"] = .bool(splits.synthetic)
        metrics["data.train_sentences"] = .int(splits.train.count)
        metrics["data.test_sentences"] = .int(splits.test.count)
        return try outcome(out, metrics: metrics, run: run)
    }
}
