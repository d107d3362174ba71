// finetune(lang, seed): token classification from the pretrained checkpoint (classifier freshly initialised,
// seeded), the epoch with the best dev F1 kept, then evaluation on dev and test; the checkpoint is the artifact.
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
        let data = try Corpora.ner(try TaskData.source(s, needsText: false), language: language)
        for warning in data.warnings { log.write("data warning: \(warning)") }
        let labels = LabelSet.masakhaNER
        let train = try tokenizer.align(data.train, labels: labels, maxLength: s.maxLength)
        let dev = try tokenizer.align(data.dev, labels: labels, maxLength: s.maxLength)
        let test = try tokenizer.align(data.test, labels: labels, maxLength: s.maxLength)
        log.write("\(language): train \(data.train.count) sentences (\(train.count) windows), dev \(data.dev.count), test \(data.test.count)\(data.synthetic ? " [synthetic]" : "")")
        guard !train.isEmpty else { throw ExecutionError("\(request.spec.title): no training sentences") }

        // Model: the pretrained encoder with a fresh, seeded classifier.
        let model = try XLMRModel.load(parentFolder, head: .tokenClassification(labels: labels.count), classifierSeed: UInt64(s.seed))
        let evaluator = NEREvaluator(tokenizer: tokenizer, labels: labels, maxLength: s.maxLength, batchSize: 32)

        // Training, epoch by epoch, keeping the parameters of the best dev F1.
        let batchesPerEpoch = (train.count + s.finetuneBatch - 1) / s.finetuneBatch
        let totalSteps = batchesPerEpoch * s.epochs
        let trainer = Trainer(model: model, settings: TrainerSettings(
            steps: totalSteps, peakLearningRate: Float(s.finetuneLR), warmupSteps: Int(Double(totalSteps) * s.finetuneWarmup),
            optimizer: AdamWSettings(excludeBiasAndNormFromDecay: true), seed: UInt64(s.seed)),
            maxBatch: s.finetuneBatch, maxTokens: s.maxLength)
        let observer = TaskProgress(label: "finetune \(language)", log: log, progress: progress, span: 0.0...0.95)
        observer.total = totalSteps
        var batches = EpochBatches(windows: train, batchSize: s.finetuneBatch, seed: UInt64(s.seed))
        var best: (f1: Double, epoch: Int, parameters: [Float])? = nil
        var step = 0
        var lastLoss: Float = 0
        for epoch in 1...s.epochs {
            for _ in 0..<batchesPerEpoch {
                var batch = batches.next().tokenBatch
                let record = try trainer.step(&batch, step: step)
                step += 1
                lastLoss = record.loss
                observer.stepFinished(record, of: totalSteps)
            }
            let devScores = try evaluator.score(model, data.dev, windows: dev)
            log.write(String(format: "epoch %d: dev F1 %.4f (P %.4f R %.4f), last loss %.4f", epoch, devScores.f1,
                             devScores.precision, devScores.recall, lastLoss))
            if best == nil || devScores.f1 > best!.f1 {
                best = (devScores.f1, epoch, Array(UnsafeBufferPointer(start: model.parameters.pointer, count: model.layout.totalCount)))
            }
        }
        if let best { model.parameters.pointer.update(from: best.parameters, count: best.parameters.count) }
        progress(0.96, "evaluating \(language)")

        let devScores = try evaluator.score(model, data.dev, windows: dev)
        let testScores = try evaluator.score(model, data.test, windows: test)
        // Train F1 beside dev/test shows how much of the gap is generalisation rather than fitting.
        let trainScores = try evaluator.score(model, data.train, windows: train)
        log.write(String(format: "best epoch %d: train F1 %.4f, dev F1 %.4f, test F1 %.4f", best?.epoch ?? 0, trainScores.f1,
                         devScores.f1, testScores.f1))

        let out = request.workDirectory.appendingPathComponent("checkpoint")
        try model.save(out)
        try Self.writeLabelNames(labels, into: out.appendingPathComponent(XLMRModel.configFile))
        try FileManager.default.copyItem(at: parentFolder.appendingPathComponent(Checkpoint.tokenizerFile).resolvingSymlinksInPath(),
                                         to: out.appendingPathComponent(Checkpoint.tokenizerFile))

        var metrics = NEREvaluator.metrics(devScores, prefix: "dev").merging(NEREvaluator.metrics(testScores, prefix: "test")) { $1 }
        metrics["train.f1"] = .double(trainScores.f1)
        metrics["params"] = .int(model.layout.totalCount)
        // Counted like a pruned model's, so the report's Δ non-zeros compares like with like.
        metrics["nonzeros"] = .int(UnsafeBufferPointer(start: model.parameters.pointer, count: model.layout.totalCount)
            .reduce(0) { $0 + ($1 != 0 ? 1 : 0) })
        metrics["finetune.best_epoch"] = .int(best?.epoch ?? 0)
        metrics["finetune.epochs"] = .int(s.epochs)
        metrics["finetune.steps"] = .int(totalSteps)
        metrics["finetune.final_loss"] = .double(Double(lastLoss))
        metrics["finetune.seconds"] = .double(Date().timeIntervalSince(started))
        metrics["data.synthetic"] = .bool(data.synthetic)
        metrics["data.train_sentences"] = .int(data.train.count)
        metrics["data.test_sentences"] = .int(data.test.count)
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
