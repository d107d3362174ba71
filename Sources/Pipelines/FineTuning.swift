// The fine-tuning recipe shared by the finetune and prune pipelines: AdamW with warmup and linear decay over NER
// windows, epoch by epoch, the parameters of the best eligible dev F1 kept. Pruning passes a hook that installs a
// mask (fixed or gradual) on the trainer.
import Evaluation
import Experiment
import Foundation
import TensorCore
import TextData
import Training
import Transformer

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
    static func run(_ model: XLMRModel, epochs: Int, data: NERData, settings s: FinetuneSettings, seed: Int, maxLength: Int,
                    label: String, run: PipelineRun, span: ClosedRange<Double>, eligibleFrom: Int = 0,
                    configure: (Trainer, Int) throws -> Void = { _, _ in }) throws -> Outcome {
        let log = run.log
        guard epochs == 0 || !data.train.isEmpty else { throw PermanentTaskError("\(label): no training sentences") }
        let batchesPerEpoch = (data.train.count + s.batch - 1) / s.batch
        let totalSteps = batchesPerEpoch * epochs
        let trainer = Trainer(model: model, settings: TrainerSettings(
            steps: totalSteps, peakLearningRate: Float(s.learningRate), warmupSteps: Int(Double(totalSteps) * s.warmup),
            optimizer: AdamWSettings(excludeBiasAndNormFromDecay: true), seed: UInt64(seed)),
            maxBatch: s.batch, maxTokens: maxLength)
        try configure(trainer, totalSteps)
        let observer = TrainingProgress(label: label, log: log, progress: run.progress, span: span)
        observer.total = totalSteps
        var batches = EpochBatches(windows: data.train, batchSize: s.batch, seed: UInt64(seed), for: model)
        let replacement = s.mentionReplacement > 0 ? MentionReplacement(sentences: data.splits.train, probability: s.mentionReplacement) : nil
        let unk = s.singletonUnk > 0 ? SingletonUnk(sentences: data.splits.train, probability: s.singletonUnk) : nil
        var best: (f1: Double, epoch: Int, parameters: [Float])? = nil
        var step = 0
        var lastLoss: Float = 0
        for epoch in 1...max(epochs, 1) where epochs > 0 {
            if replacement != nil || unk != nil {
                batches = try augmentedBatches(replacement, unk: unk, data: data, batch: s.batch, seed: seed, epoch: epoch,
                                               maxLength: maxLength, for: model)
            }
            for _ in 0..<batchesPerEpoch {
                var batch = batches.next().tokenBatch(for: model)
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

    /// One epoch's batches over the training sentences with their mentions replaced and/or their singletons' pieces
    /// made <unk> (each a stream of its own per seed and epoch). Steps per epoch stay those of the sentences as
    /// read, so the schedule does not depend on the draw: a draw with more windows (longer mentions) leaves its last
    /// batches unused, one with fewer starts over.
    static func augmentedBatches(_ replacement: MentionReplacement?, unk: SingletonUnk?, data: NERData, batch: Int, seed: Int,
                                 epoch: Int, maxLength: Int, for model: XLMRModel) throws -> EpochBatches {
        var sentences = data.splits.train
        if let replacement {
            var rng = SeededRandom(seed: UInt64(seed)).derived("mention replacement").derived("epoch \(epoch)")
            sentences = replacement.apply(sentences, rng: &rng)
        }
        var windows = try permanent("aligning the augmented training sentences") {
            try data.evaluator.tokenizer.align(sentences, labels: data.evaluator.labels, maxLength: maxLength)
        }
        if let unk {
            var rng = SeededRandom(seed: UInt64(seed)).derived("singleton unk").derived("epoch \(epoch)")
            windows = unk.apply(windows, sentences: sentences, rng: &rng)
        }
        return EpochBatches(windows: windows, batchSize: batch, seed: UInt64(seed) &+ UInt64(epoch) &* 0x9E37_79B9, for: model)
    }
}
