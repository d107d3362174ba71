// The fine-tuning recipe shared by finetune and compress tasks: NER data aligned to windows, AdamW with warmup
// and linear decay, epoch by epoch, the parameters of the best eligible dev F1 kept. Compress tasks pass a hook
// that installs a pruning mask (fixed or gradual) on the trainer.
import Evaluation
import Experiment
import Foundation
import TensorCore
import TextData
import Training
import Transformer

/// A language's NER data and its windows for one tokenizer, made once per task.
struct NERTaskData {
    let splits: NERSplits
    let train, dev, test: [AlignedWindow]
    let evaluator: NEREvaluator

    init(settings s: EngineSettings, language: String, tokenizer: XLMRTokenizer, labels: LabelSet, log: TaskLog) throws {
        splits = try Corpora.ner(try TaskData.source(s, needsText: false), language: language)
        for warning in splits.warnings { log.write("data warning: \(warning)") }
        train = try tokenizer.align(splits.train, labels: labels, maxLength: s.maxLength)
        dev = try tokenizer.align(splits.dev, labels: labels, maxLength: s.maxLength)
        test = try tokenizer.align(splits.test, labels: labels, maxLength: s.maxLength)
        evaluator = NEREvaluator(tokenizer: tokenizer, labels: labels, maxLength: s.maxLength, batchSize: 32)
        log.write("\(language): train \(splits.train.count) sentences (\(train.count) windows), dev \(splits.dev.count), test \(splits.test.count)\(splits.synthetic ? " [synthetic]" : "")")
    }
}

enum FineTuning {
    struct Outcome {
        var bestEpoch: Int
        var steps: Int
        var lastLoss: Float
    }

    /// Optimizer steps that `epochs` epochs over `windows` take.
    static func steps(windows: Int, epochs: Int, batch: Int) -> Int { (windows + batch - 1) / batch * epochs }

    /// Trains `model` for `epochs` epochs with the job's fine-tuning settings and leaves it at the parameters of
    /// the best dev F1 among epochs whose last step is at least `eligibleFrom` (0: every epoch). `configure` sees
    /// the trainer and the total step count before the first step.
    static func run(_ model: XLMRModel, epochs: Int, data: NERTaskData, settings s: EngineSettings, label: String, log: TaskLog,
                    progress: @escaping @Sendable (Double, String) -> Void, span: ClosedRange<Double>, eligibleFrom: Int = 0,
                    configure: (Trainer, Int) throws -> Void = { _, _ in }) throws -> Outcome {
        guard epochs == 0 || !data.train.isEmpty else { throw ExecutionError("\(label): no training sentences") }
        let batchesPerEpoch = (data.train.count + s.finetuneBatch - 1) / s.finetuneBatch
        let totalSteps = batchesPerEpoch * epochs
        let trainer = Trainer(model: model, settings: TrainerSettings(
            steps: totalSteps, peakLearningRate: Float(s.finetuneLR), warmupSteps: Int(Double(totalSteps) * s.finetuneWarmup),
            optimizer: AdamWSettings(excludeBiasAndNormFromDecay: true), seed: UInt64(s.seed)),
            maxBatch: s.finetuneBatch, maxTokens: s.maxLength)
        try configure(trainer, totalSteps)
        let observer = TaskProgress(label: label, log: log, progress: progress, span: span)
        observer.total = totalSteps
        var batches = EpochBatches(windows: data.train, batchSize: s.finetuneBatch, seed: UInt64(s.seed))
        var best: (f1: Double, epoch: Int, parameters: [Float])? = nil
        var step = 0
        var lastLoss: Float = 0
        for epoch in 1...max(epochs, 1) where epochs > 0 {
            for _ in 0..<batchesPerEpoch {
                var batch = batches.next().tokenBatch
                let record = try trainer.step(&batch, step: step)
                step += 1
                lastLoss = record.loss
                observer.stepFinished(record, of: totalSteps)
            }
            let devScores = try data.evaluator.score(model, data.splits.dev, windows: data.dev)
            log.write(String(format: "epoch %d: dev F1 %.4f (P %.4f R %.4f), last loss %.4f", epoch, devScores.f1,
                             devScores.precision, devScores.recall, lastLoss))
            if step >= eligibleFrom, best == nil || devScores.f1 > best!.f1 {
                best = (devScores.f1, epoch, Array(UnsafeBufferPointer(start: model.parameters.pointer, count: model.layout.totalCount)))
            }
        }
        if let best { model.parameters.pointer.update(from: best.parameters, count: best.parameters.count) }
        return Outcome(bestEpoch: best?.epoch ?? 0, steps: totalSteps, lastLoss: lastLoss)
    }

    /// Non-zero values in the model's parameters.
    static func nonZeros(_ model: XLMRModel) -> Int {
        UnsafeBufferPointer(start: model.parameters.pointer, count: model.layout.totalCount).reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
    }
}
