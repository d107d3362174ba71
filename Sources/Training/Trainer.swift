// The training loop: batches in, AdamW steps out, with warmup/decay, clipping, and observers for a
// progress bar and JSON-lines step logs. The same loop serves MLM pretraining and token classification.
import Foundation
import TensorCore
import Transformer

package struct TrainerSettings: Sendable, Equatable {
    package var steps: Int
    package var peakLearningRate: Float
    package var warmupSteps: Int
    package var maxGradNorm: Float = 1.0
    package var optimizer = AdamWSettings()
    package var seed: UInt64 = 0
    package init(steps: Int, peakLearningRate: Float, warmupSteps: Int, maxGradNorm: Float = 1.0,
                 optimizer: AdamWSettings = AdamWSettings(), seed: UInt64 = 0) {
        self.steps = steps; self.peakLearningRate = peakLearningRate; self.warmupSteps = warmupSteps
        self.maxGradNorm = maxGradNorm; self.optimizer = optimizer; self.seed = seed
    }
}

/// One step's record, written as one JSON line by `JSONLinesLog`.
package struct StepRecord: Codable, Sendable, Equatable {
    package var step: Int
    package var loss: Float
    package var learningRate: Float
    package var gradNorm: Float
    package var seconds: Double
    package var tokens: Int
    package init(step: Int, loss: Float, learningRate: Float, gradNorm: Float, seconds: Double, tokens: Int) {
        self.step = step; self.loss = loss; self.learningRate = learningRate; self.gradNorm = gradNorm
        self.seconds = seconds; self.tokens = tokens
    }
}

/// Sees every finished step (progress bars, logs, the Worker's heartbeats).
package protocol StepObserver: AnyObject {
    func stepFinished(_ record: StepRecord, of total: Int)
    func finished()
}

/// Where batches come from. `batch` fills or replaces the given batch for `step`.
package protocol BatchSource {
    mutating func batch(step: Int, rng: inout Xoshiro256) -> TokenBatch
}

package final class Trainer {
    package let model: XLMRModel
    package let settings: TrainerSettings
    package let optimizer: AdamW
    package let workspace: Workspace
    /// Applied to every batch before the step (MLM masking); nil for token classification.
    package let masking: MLMMasking?
    package private(set) var rng: Xoshiro256
    package var observers: [StepObserver] = []
    /// Called after every optimizer update with the number of updates done so far (1 after the first step);
    /// pruning uses it to re-apply a fixed mask or to prune further on a schedule.
    package var afterUpdate: ((_ updates: Int) -> Void)? = nil

    package init(model: XLMRModel, settings: TrainerSettings, maxBatch: Int, maxTokens: Int, masking: MLMMasking? = nil) {
        self.model = model; self.settings = settings; self.masking = masking
        optimizer = AdamW(model: model, settings: settings.optimizer)
        workspace = Workspace(config: model.config, head: model.head, maxBatch: maxBatch, maxTokens: maxTokens, training: true)
        rng = Xoshiro256(seed: settings.seed)
    }

    /// One optimizer step on `batch` at schedule position `step`; returns the record.
    package func step(_ batch: inout TokenBatch, step: Int) throws -> StepRecord {
        let start = DispatchTime.now().uptimeNanoseconds
        if let masking { masking.apply(&batch, rng: &rng) }
        model.zeroGradients()
        let loss = try model.forward(batch, workspace: workspace, training: true, rng: &rng) ?? 0
        model.backward(workspace: workspace)
        let (norm, gradientScale) = GradientClipping.coefficient(model, maxNorm: settings.maxGradNorm)
        let schedule = LinearSchedule(peak: settings.peakLearningRate, warmup: settings.warmupSteps, total: settings.steps)
        let lr = schedule.rate(at: step)
        optimizer.update(model, lr: lr, gradientScale: gradientScale)
        afterUpdate?(optimizer.step)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return StepRecord(step: step + 1, loss: loss, learningRate: lr, gradNorm: norm, seconds: seconds,
                          tokens: batch.attentionMask.reduce(0) { $0 + Int($1) })
    }

    /// Runs `settings.steps` steps drawing batches from `source`.
    @discardableResult
    package func run<S: BatchSource>(_ source: inout S) throws -> [StepRecord] {
        var records: [StepRecord] = []
        records.reserveCapacity(settings.steps)
        for s in 0..<settings.steps {
            var batch = source.batch(step: s, rng: &rng)
            let record = try step(&batch, step: s)
            records.append(record)
            for o in observers { o.stepFinished(record, of: settings.steps) }
        }
        for o in observers { o.finished() }
        return records
    }
}

/// A progress bar on a stream (stderr by default): steps/s, loss, ETA. Redraws at most 10 times a second.
package final class ProgressBar: StepObserver {
    let handle: FileHandle
    let label: String
    var started: UInt64 = 0
    var lastDraw: UInt64 = 0
    var smoothedLoss: Float? = nil

    package init(label: String, handle: FileHandle = .standardError) { self.label = label; self.handle = handle }

    package func stepFinished(_ r: StepRecord, of total: Int) {
        let now = DispatchTime.now().uptimeNanoseconds
        if started == 0 { started = now - UInt64(r.seconds * 1e9) }
        smoothedLoss = smoothedLoss.map { 0.9 * $0 + 0.1 * r.loss } ?? r.loss
        guard r.step == total || now - lastDraw > 100_000_000 else { return }
        lastDraw = now
        let elapsed = Double(now - started) / 1e9
        let rate = Double(r.step) / max(elapsed, 1e-9)
        let eta = Double(total - r.step) / max(rate, 1e-9)
        let width = 24, filled = width * r.step / max(total, 1)
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let line = String(format: "\r%@ [%@] %d/%d  loss %.4f  %.2f steps/s  ETA %@ ", label, bar, r.step, total,
                          smoothedLoss ?? r.loss, rate, Self.clock(eta))
        try? handle.write(contentsOf: Data(line.utf8))
    }

    package func finished() { try? handle.write(contentsOf: Data("\n".utf8)) }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%02d:%02d", s / 60, s % 60)
    }
}

/// Appends one JSON object per step to a file.
package final class JSONLinesLog: StepObserver {
    let handle: FileHandle
    let encoder: JSONEncoder

    package init(url: URL) throws {
        guard FileManager.default.createFile(atPath: url.path, contents: nil), let h = try? FileHandle(forWritingTo: url) else {
            throw ModelError("cannot create the step log \(url.path)")
        }
        handle = h
        encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
    }

    package func stepFinished(_ r: StepRecord, of total: Int) {
        if let data = try? encoder.encode(r) { try? handle.write(contentsOf: data + Data("\n".utf8)) }
    }

    package func finished() { try? handle.close() }
}
