// finetune(lang, seed): token classification from the pretrained checkpoint (classifier freshly initialised,
// seeded), the epoch with the best dev F1 kept (FineTuning.run), then evaluation on dev and test; the checkpoint
// is the artifact.
import Evaluation
import Experiment
import Foundation
import TensorCore
import TextData
import Training
import Transformer

struct FinetuneTask {
    let request: ExecutionRequest
    let settings: EngineSettings
    let progress: @Sendable (Double, String) -> Void

    func run() throws -> ExecutionOutput {
        let s = settings
        let log = request.log
        let started = Date()
        guard let language = s.language else { throw ExecutionError("\(request.spec.title): finetune needs a language") }
        guard let parent = request.spec.inputs.first else { throw ExecutionError("\(request.spec.title): finetune needs the pretrained checkpoint as input") }

        // Data and tokenizer.
        let parentFolder = try Checkpoint.folder(from: request, parent: parent)
        let tokenizer = try XLMRTokenizer(contentsOf: parentFolder.appendingPathComponent(Checkpoint.tokenizerFile).path)
        let labels = LabelSet.masakhaNER
        let data = try NERTaskData(settings: s, language: language, tokenizer: tokenizer, labels: labels, log: log)
        guard !data.train.isEmpty else { throw ExecutionError("\(request.spec.title): no training sentences") }

        // Model: the pretrained encoder with a fresh, seeded classifier; trained epoch by epoch, best dev F1 kept.
        let model = try XLMRModel.load(parentFolder, head: .tokenClassification(labels: labels.count), classifierSeed: UInt64(s.seed))
        let outcome = try FineTuning.run(model, epochs: s.epochs, data: data, settings: s, label: "finetune \(language)", log: log,
                                         progress: progress, span: 0.0...0.95)
        progress(0.96, "evaluating \(language)")

        let evaluator = data.evaluator
        let devScores = try evaluator.score(model, data.splits.dev, windows: data.dev)
        let testScores = try evaluator.score(model, data.splits.test, windows: data.test)
        // Train F1 beside dev/test shows how much of the gap is generalisation rather than fitting.
        let trainScores = try evaluator.score(model, data.splits.train, windows: data.train)
        log.write(String(format: "best epoch %d: train F1 %.4f, dev F1 %.4f, test F1 %.4f", outcome.bestEpoch, trainScores.f1,
                         devScores.f1, testScores.f1))

        let out = request.workDirectory.appendingPathComponent("checkpoint")
        try model.save(out)
        try Self.writeLabelNames(labels, into: out.appendingPathComponent(XLMRModel.configFile))
        try FileManager.default.copyItem(at: parentFolder.appendingPathComponent(Checkpoint.tokenizerFile).resolvingSymlinksInPath(),
                                         to: out.appendingPathComponent(Checkpoint.tokenizerFile))

        progress(0.98, "timing \(language)")
        let timing = try InferenceTiming.measure(model, vocab: model.config.vocabSize, maxLength: s.maxLength)

        var metrics = NEREvaluator.metrics(devScores, prefix: "dev").merging(NEREvaluator.metrics(testScores, prefix: "test")) { $1 }
        metrics.merge(timing) { $1 }
        metrics["train.f1"] = .double(trainScores.f1)
        metrics["params"] = .int(model.layout.parameterCount)
        // The weights file as shipped, like every compress record's `bytes`, so Δ bytes compares like with like.
        metrics["bytes"] = .int(InferenceTiming.fileSize(out.appendingPathComponent(XLMRModel.weightsFile)))
        // Counted like a pruned model's, so the report's Δ non-zeros compares like with like.
        metrics["nonzeros"] = .int(FineTuning.nonZeros(model))
        metrics["finetune.best_epoch"] = .int(outcome.bestEpoch)
        metrics["finetune.epochs"] = .int(s.epochs)
        metrics["finetune.steps"] = .int(outcome.steps)
        metrics["finetune.final_loss"] = .double(Double(outcome.lastLoss))
        metrics["finetune.seconds"] = .double(Date().timeIntervalSince(started))
        metrics["data.synthetic"] = .bool(data.splits.synthetic)
        metrics["data.train_sentences"] = .int(data.splits.train.count)
        metrics["data.test_sentences"] = .int(data.splits.test.count)
        return ExecutionOutput(metrics: metrics, artifacts: try Checkpoint.artifacts(in: out))
    }

    /// Puts the real label names into config.json (`id2label`, `label2id`), as transformers saves them.
    static func writeLabelNames(_ labels: LabelSet, into url: URL) throws {
        let data = try Data(contentsOf: url)
        guard var json = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ExecutionError("\(url.path) is not a JSON object")
        }
        json["id2label"] = Dictionary(uniqueKeysWithValues: labels.labels.enumerated().map { (String($0.offset), $0.element) })
        json["label2id"] = Dictionary(uniqueKeysWithValues: labels.labels.enumerated().map { ($0.element, $0.offset) })
        try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys]).write(to: url, options: .atomic)
    }
}
