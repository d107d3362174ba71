// Training steps as progress: a trainer observer that reports to the pipeline's progress callback (the worker's
// PROGRESS messages) and to its log, at most a few times a second, mapping the steps onto a span of the whole run.
import Evaluation
import Foundation
import TensorCore
import TextData
import Training
import Transformer

final class TrainingProgress: StepObserver {
    let label: String
    let log: PipelineLog
    let progress: @Sendable (Double, String) -> Void
    let span: ClosedRange<Double>
    /// The schedule's total when steps are driven by hand rather than by `Trainer.run`.
    var total: Int? = nil
    private var lastReport = 0.0
    private var lastLog = 0.0

    init(label: String, log: PipelineLog, progress: @escaping @Sendable (Double, String) -> Void, span: ClosedRange<Double>) {
        self.label = label; self.log = log; self.progress = progress; self.span = span
    }

    func stepFinished(_ r: StepRecord, of total: Int) {
        let all = self.total ?? total
        let done = r.step
        let now = Date().timeIntervalSinceReferenceDate
        let text = "\(label) step \(done)/\(all) loss \(String(format: "%.4f", r.loss)) lr \(String(format: "%.2e", r.learningRate))"
        if now - lastReport >= 0.25 || done == all {
            lastReport = now
            progress(span.lowerBound + (span.upperBound - span.lowerBound) * Double(done) / Double(max(all, 1)), text)
        }
        if now - lastLog >= 2 || done == all || done == 1 {
            lastLog = now
            log.write(text + String(format: " grad-norm %.3f %.1f ms/step", r.gradNorm, r.seconds * 1000))
        }
    }

    func finished() {}
}

/// Endless batches over a fixed list of windows: each epoch reshuffled (seed + epoch) and length-bucketed; the
/// token batches carry what the model being trained takes (word shapes, n-gram rows).
struct EpochBatches: BatchSource {
    let windows: [AlignedWindow]
    let batchSize: Int
    let seed: UInt64
    let wordShapes: Bool
    let ngramBuckets: Int
    private var epoch: UInt64 = 0
    private var queue: [Batch] = []

    init(windows: [AlignedWindow], batchSize: Int, seed: UInt64, for model: some TokenLogitsModel) {
        self.windows = windows; self.batchSize = batchSize; self.seed = seed
        wordShapes = model.takesWordShapes; ngramBuckets = model.charNgramBuckets
    }

    mutating func next() -> Batch {
        if queue.isEmpty {
            queue = Batcher.batches(windows, batchSize: batchSize, seed: seed &* 1_000_003 &+ epoch).reversed()
            epoch += 1
        }
        return queue.removeLast()
    }

    mutating func batch(step: Int, rng: inout Xoshiro256) -> TokenBatch { next().tokenBatch(wordShapes: wordShapes, ngramBuckets: ngramBuckets) }
}
