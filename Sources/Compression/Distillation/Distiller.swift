// The distillation training loop: the teacher in evaluation mode gives logits (on the fly per batch, or from a
// cache keyed by each row's tokens) and, for the hidden-state loss, its layer outputs; the student trains on
// the distillation loss with Training's AdamW, linear schedule and clipping; the best dev-score epoch is kept.
import Foundation
import TensorCore
import Training
import Transformer

package struct DistillationSettings: Sendable, Equatable {
    /// Weight of the KL term; 1 − alpha weighs the cross-entropy on gold labels.
    package var alpha: Float = 0.5
    package var temperature: Float = 2
    /// Adds hiddenWeight · mean over student layers of MSE(student layer i, teacher layer layerMap[i]).
    package var hiddenMSE = false
    package var hiddenWeight: Float = 1
    /// Student layer i's teacher layer; read only by the hidden-state loss.
    package var layerMap: [Int] = []
    /// Keep each training row's teacher logits after its first batch (the teacher is frozen, so they cannot
    /// change). Logits only: with the hidden-state loss on, the teacher runs every batch anyway.
    package var cacheTeacherLogits = false
    package init(alpha: Float = 0.5, temperature: Float = 2, hiddenMSE: Bool = false, hiddenWeight: Float = 1,
                 layerMap: [Int] = [], cacheTeacherLogits: Bool = false) {
        self.alpha = alpha; self.temperature = temperature; self.hiddenMSE = hiddenMSE; self.hiddenWeight = hiddenWeight
        self.layerMap = layerMap; self.cacheTeacherLogits = cacheTeacherLogits
    }
}

/// One batch's losses: the total the student descends, and its parts.
package struct DistillationBatchLoss: Sendable, Equatable {
    package var total: Float
    package var logits: DistillationLossValue
    /// Mean over student layers of the hidden-state MSE (unweighted); 0 when off.
    package var hidden: Float
}

package final class Distiller {
    package let teacher: XLMRModel
    package let student: XLMRModel
    package let settings: DistillationSettings
    package let training: TrainerSettings
    package let optimizer: AdamW
    let studentSpace: Workspace
    let teacherSpace: Workspace
    let teacherLogits: FloatBuffer   /// (B, T, K) this batch's teacher logits when they come from the cache
    let dlogits: FloatBuffer         /// (B, T, K)
    let dHidden: [FloatBuffer]       /// per student layer (B, T, C), for the hidden-state loss
    package private(set) var cache: [[Int32]: [Float]] = [:]
    package private(set) var cacheHits = 0
    package private(set) var rng: Xoshiro256

    /// Throws when teacher and student disagree on labels, vocabulary, or (with the hidden-state loss) widths and map.
    package init(teacher: XLMRModel, student: XLMRModel, settings: DistillationSettings, training: TrainerSettings,
                 maxBatch: Int, maxTokens: Int) throws {
        guard case .tokenClassification(let k) = teacher.head, student.head == teacher.head else {
            throw DistillationError("teacher head \(teacher.head) and student head \(student.head): both must be token classification with the same labels")
        }
        guard teacher.config.vocabSize == student.config.vocabSize else {
            throw DistillationError("teacher vocab_size \(teacher.config.vocabSize) differs from the student's \(student.config.vocabSize)")
        }
        guard settings.alpha >= 0 && settings.alpha <= 1 else { throw DistillationError("alpha is \(settings.alpha), expected in [0, 1]") }
        guard settings.temperature > 0 else { throw DistillationError("temperature is \(settings.temperature), expected > 0") }
        if settings.hiddenMSE { try Student.checkHiddenWidths(teacher: teacher, student: student, map: settings.layerMap) }
        self.teacher = teacher; self.student = student; self.settings = settings; self.training = training
        optimizer = AdamW(model: student, settings: training.optimizer)
        studentSpace = Workspace(config: student.config, head: student.head, maxBatch: maxBatch, maxTokens: maxTokens, training: true)
        teacherSpace = Workspace(config: teacher.config, head: teacher.head, maxBatch: maxBatch, maxTokens: maxTokens, training: false)
        teacherLogits = FloatBuffer(count: maxBatch * maxTokens * k)
        dlogits = FloatBuffer(count: maxBatch * maxTokens * k)
        dHidden = settings.hiddenMSE
            ? (0..<student.config.numHiddenLayers).map { _ in FloatBuffer(count: maxBatch * maxTokens * student.config.hiddenSize) } : []
        rng = Xoshiro256(seed: training.seed)
    }

    var labelCount: Int { teacher.outputCount }

    /// The teacher's logits for `batch`, (B, T, K): from the cache when every row is there, else a teacher pass
    /// (which also leaves its layer outputs in `teacherSpace`). Padding positions of cached rows read 0.
    func teacherOutputs(_ batch: TokenBatch, needHidden: Bool) throws -> UnsafePointer<Float> {
        let B = batch.batch, T = batch.tokens, K = labelCount
        let useCache = settings.cacheTeacherLogits && !needHidden
        if useCache {
            let keys = (0..<B).map { rowKey(batch, $0) }
            if keys.allSatisfy({ cache[$0] != nil }) {
                teacherLogits.pointer.update(repeating: 0, count: B * T * K)
                for (b, key) in keys.enumerated() {
                    cache[key]!.withUnsafeBufferPointer { (teacherLogits.pointer + b * T * K).update(from: $0.baseAddress!, count: $0.count) }
                }
                cacheHits += 1
                return UnsafePointer(teacherLogits.pointer)
            }
        }
        var unlabelled = batch
        unlabelled.labels = nil
        var noDropout = Xoshiro256(seed: 0)
        try teacher.forward(unlabelled, workspace: teacherSpace, training: false, rng: &noDropout)
        let logits = teacherSpace.logits(outputs: K).pointer
        if useCache {
            for b in 0..<B {
                cache[rowKey(batch, b)] = Array(UnsafeBufferPointer(start: logits + b * T * K, count: rowLength(batch, b) * K))
            }
        }
        return UnsafePointer(logits)
    }

    /// A row's identity for the cache: its ids up to the first padding position (rows are right-padded), then its
    /// token types there when the batch has them (two words with the same pieces may differ in shape via <unk>).
    func rowKey(_ batch: TokenBatch, _ b: Int) -> [Int32] {
        let start = b * batch.tokens, n = rowLength(batch, b)
        return Array(batch.ids[start ..< start + n]) + (batch.tokenTypes.map { Array($0[start ..< start + n]) } ?? [])
    }

    /// The row's tokens before its padding.
    func rowLength(_ batch: TokenBatch, _ b: Int) -> Int {
        let T = batch.tokens
        var n = 0
        while n < T && batch.attentionMask[b * T + n] != 0 { n += 1 }
        return n
    }

    /// The losses on a labelled batch. With `gradients`, the student runs in training mode (dropout on) and its
    /// gradient buffer receives ∂total/∂parameters (zeroed first); without, both models are in evaluation mode.
    @discardableResult
    package func loss(_ batch: TokenBatch, gradients: Bool) throws -> DistillationBatchLoss {
        guard let labels = batch.labels else { throw DistillationError("a distillation batch needs gold labels (-100 where ignored)") }
        let B = batch.batch, T = batch.tokens, N = B * T, K = labelCount, C = student.config.hiddenSize
        let teacherPointer = try teacherOutputs(batch, needHidden: settings.hiddenMSE)
        var unlabelled = batch
        unlabelled.labels = nil
        try student.forward(unlabelled, workspace: studentSpace, training: gradients, rng: &rng)
        let studentLogits = studentSpace.logits(outputs: K).pointer
        let value = labels.withUnsafeBufferPointer { l in
            DistillationLoss.forward(student: studentLogits, teacher: teacherPointer, labels: l.baseAddress!, rows: N, cols: K,
                                     alpha: settings.alpha, temperature: settings.temperature,
                                     dlogits: gradients ? dlogits.pointer : nil)
        }
        var hidden: Float = 0
        var hiddenGradients: [Int: UnsafePointer<Float>] = [:]
        if settings.hiddenMSE {
            let L = student.config.numHiddenLayers
            let weight = settings.hiddenWeight / Float(L)
            for i in 0..<L {
                let s = studentSpace.layerOutput(i).pointer, t = teacherSpace.layerOutput(settings.layerMap[i]).pointer
                hidden += batch.attentionMask.withUnsafeBufferPointer { m in
                    HiddenStateMSE.forward(student: s, teacher: t, mask: m.baseAddress!, rows: N, width: C, weight: weight,
                                           dstudent: gradients ? dHidden[i].pointer : nil)
                }
                hiddenGradients[i] = UnsafePointer(dHidden[i].pointer)
            }
            hidden /= Float(L)
        }
        if gradients {
            student.zeroGradients()
            student.backward(workspace: studentSpace, logitGradients: dlogits.pointer,
                             hiddenGradients: settings.hiddenMSE ? hiddenGradients : [:])
        }
        return DistillationBatchLoss(total: value.loss + settings.hiddenWeight * hidden, logits: value, hidden: hidden)
    }

    /// One optimizer step of the student on `batch` at schedule position `step`.
    package func step(_ batch: TokenBatch, step: Int) throws -> (record: StepRecord, loss: DistillationBatchLoss) {
        let start = DispatchTime.now().uptimeNanoseconds
        let loss = try self.loss(batch, gradients: true)
        let norm = GradientClipping.clip(student, maxNorm: training.maxGradNorm)
        let lr = LinearSchedule(peak: training.peakLearningRate, warmup: training.warmupSteps, total: training.steps).rate(at: step)
        optimizer.update(student, lr: lr)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let record = StepRecord(step: step + 1, loss: loss.total, learningRate: lr, gradNorm: norm, seconds: seconds,
                                tokens: batch.attentionMask.reduce(0) { $0 + Int($1) })
        return (record, loss)
    }

    /// What a whole run did.
    package struct Outcome: Sendable {
        package var bestEpoch: Int
        package var bestScore: Double
        package var scores: [Double]
        package var lastLoss: DistillationBatchLoss?
        package var steps: Int
    }

    /// `epochs` × `batchesPerEpoch` steps (the schedule's `training.steps` must be that product); after each
    /// epoch `score(epoch)` rates the student (dev F1), and the parameters of the best epoch are restored at the end.
    package func train<S: BatchSource>(epochs: Int, batchesPerEpoch: Int, source: inout S, observers: [StepObserver] = [],
                                       score: (Int) throws -> Double) throws -> Outcome {
        precondition(epochs >= 1 && epochs * batchesPerEpoch == training.steps, "Distiller.train: \(epochs) × \(batchesPerEpoch) steps, schedule has \(training.steps)")
        var best: (score: Double, epoch: Int, parameters: [Float])? = nil
        var scores: [Double] = []
        var last: DistillationBatchLoss? = nil
        var step = 0
        for epoch in 1...epochs {
            for _ in 0..<batchesPerEpoch {
                let batch = source.batch(step: step, rng: &rng)
                let (record, loss) = try self.step(batch, step: step)
                last = loss
                step += 1
                for o in observers { o.stepFinished(record, of: training.steps) }
            }
            let s = try score(epoch)
            scores.append(s)
            if best == nil || s > best!.score {
                best = (s, epoch, Array(UnsafeBufferPointer(start: student.parameters.pointer, count: student.layout.totalCount)))
            }
        }
        for o in observers { o.finished() }
        if let best { student.parameters.pointer.update(from: best.parameters, count: best.parameters.count) }
        return Outcome(bestEpoch: best?.epoch ?? 0, bestScore: best?.score ?? 0, scores: scores, lastLoss: last, steps: step)
    }
}
