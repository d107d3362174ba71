// compress(lang, seed, distill setting), and the same pipeline for `smaller compress distill`: a fine-tuned
// teacher, a student of fewer layers copied from it through a layer map (or a narrower pretrained model), trained
// on the distillation loss, the best dev-F1 epoch kept, evaluated like the dense model; the student is the artifact.
import Compression
import Evaluation
import Experiment
import Foundation
import TensorCore
import TextData
import Training
import Transformer

/// Everything one distillation run needs, whether it comes from a job's compress task or the command line.
package struct DistillJob: Sendable {
    package var teacherFolder: URL
    /// Student depth when the student is built from the teacher's layers (nil with `studentFolder`).
    package var layers: Int?
    /// "1,3", or "" for the default every-other-layer map (`Student.defaultLayerMap`).
    package var map = ""
    /// A narrower student's own MLM checkpoint (fresh classifier), instead of teacher layers.
    package var studentFolder: URL?
    package var distillation = DistillationSettings()
    package var epochs = 3, batch = 16, learningRate = 1e-4, warmup = 0.1, maxLength = 64, seed = 0
    package init(teacherFolder: URL, layers: Int?) { self.teacherFolder = teacherFolder; self.layers = layers }
}

package enum DistillPipeline {
    /// Runs `job` on `data`, saves the student (with the teacher's tokenizer) to `out`, and returns the metrics:
    /// the dense record's (dev/test/train F1, params, nonzeros) plus `bytes` and the `distill.*` keys.
    package static func run(_ job: DistillJob, data: NERSplits, out: URL, log: TaskLog,
                            progress: @escaping @Sendable (Double, String) -> Void) throws -> [String: Value] {
        let started = Date()
        let tokenizerURL = job.teacherFolder.appendingPathComponent(Checkpoint.tokenizerFile)
        guard FileManager.default.fileExists(atPath: tokenizerURL.path) else {
            throw ExecutionError("the teacher checkpoint \(job.teacherFolder.path) has no \(Checkpoint.tokenizerFile) (a fine-tuned checkpoint from `smaller run` has one)")
        }
        let tokenizer = try XLMRTokenizer(contentsOf: tokenizerURL.path)
        let labels = LabelSet.masakhaNER
        let teacher = try XLMRModel.load(job.teacherFolder)
        try Student.checkLabels(teacher: teacher, data: labels)
        let teacherLayers = teacher.config.numHiddenLayers

        let student: XLMRModel, map: [Int]
        if let folder = job.studentFolder {
            // Teacher and student read the same token ids: a student with its own tokenizer must have the teacher's.
            let studentTokenizer = folder.appendingPathComponent(Checkpoint.tokenizerFile)
            if FileManager.default.fileExists(atPath: studentTokenizer.path),
               FileManager.default.contents(atPath: studentTokenizer.resolvingSymlinksInPath().path) != FileManager.default.contents(atPath: tokenizerURL.resolvingSymlinksInPath().path) {
                throw ExecutionError("distill: the student's \(studentTokenizer.path) differs from the teacher's \(tokenizerURL.path); both must use the same tokenizer")
            }
            student = try Student.fromPretrained(folder, teacher: teacher, seed: UInt64(job.seed))
            map = try Student.layerMap(job.map, teacher: teacherLayers, student: student.config.numHiddenLayers)
        } else {
            guard let layers = job.layers else { throw ExecutionError("distill: give the student depth (layers) or a pretrained student folder") }
            map = try Student.layerMap(job.map, teacher: teacherLayers, student: layers)
            student = try Student.fromTeacher(teacher, map: map)
        }
        var settings = job.distillation
        settings.layerMap = map
        log.write("distill: teacher \(teacherLayers) layers × \(teacher.config.hiddenSize) → student \(student.config.numHiddenLayers) × \(student.config.hiddenSize)"
                  + (job.studentFolder == nil ? " from teacher layers \(map)" : " from \(job.studentFolder!.path)")
                  + String(format: ", alpha %.2f, T %.2f, hidden MSE %@", settings.alpha, settings.temperature, settings.hiddenMSE ? "on" : "off"))

        let train = try tokenizer.align(data.train, labels: labels, maxLength: job.maxLength)
        let dev = try tokenizer.align(data.dev, labels: labels, maxLength: job.maxLength)
        let test = try tokenizer.align(data.test, labels: labels, maxLength: job.maxLength)
        guard !train.isEmpty else { throw ExecutionError("distill: no training sentences for \(data.language)") }
        let evaluator = NEREvaluator(tokenizer: tokenizer, labels: labels, maxLength: job.maxLength, batchSize: 32)
        let teacherDev = try evaluator.score(teacher, data.dev, windows: dev)
        let teacherTest = try evaluator.score(teacher, data.test, windows: test)
        log.write(String(format: "teacher: dev F1 %.4f, test F1 %.4f", teacherDev.f1, teacherTest.f1))

        let batchesPerEpoch = (train.count + job.batch - 1) / job.batch
        let totalSteps = batchesPerEpoch * job.epochs
        let training = TrainerSettings(steps: totalSteps, peakLearningRate: Float(job.learningRate),
                                       warmupSteps: Int(Double(totalSteps) * job.warmup),
                                       optimizer: AdamWSettings(excludeBiasAndNormFromDecay: true), seed: UInt64(job.seed))
        let distiller = try Distiller(teacher: teacher, student: student, settings: settings, training: training,
                                      maxBatch: job.batch, maxTokens: job.maxLength)
        let observer = TaskProgress(label: "distill \(data.language)", log: log, progress: progress, span: 0.05...0.92)
        var batches = EpochBatches(windows: train, batchSize: job.batch, seed: UInt64(job.seed))
        let outcome = try distiller.train(epochs: job.epochs, batchesPerEpoch: batchesPerEpoch, source: &batches,
                                          observers: [observer]) { epoch in
            let scores = try evaluator.score(student, data.dev, windows: dev)
            log.write(String(format: "epoch %d: student dev F1 %.4f (P %.4f R %.4f)", epoch, scores.f1, scores.precision, scores.recall))
            return scores.f1
        }
        progress(0.94, "evaluating the student on \(data.language)")
        let devScores = try evaluator.score(student, data.dev, windows: dev)
        let testScores = try evaluator.score(student, data.test, windows: test)
        let trainScores = try evaluator.score(student, data.train, windows: train)
        log.write(String(format: "best epoch %d: student train F1 %.4f, dev F1 %.4f, test F1 %.4f (teacher test %.4f)", outcome.bestEpoch,
                         trainScores.f1, devScores.f1, testScores.f1, teacherTest.f1))

        try student.save(out)
        try FinetuneTask.writeLabelNames(labels, into: out.appendingPathComponent(XLMRModel.configFile))
        let tokenizerCopy = out.appendingPathComponent(Checkpoint.tokenizerFile)
        try? FileManager.default.removeItem(at: tokenizerCopy)
        try FileManager.default.copyItem(at: tokenizerURL.resolvingSymlinksInPath(), to: tokenizerCopy)

        progress(0.98, "timing")
        let timing = try InferenceTiming.measure(student, vocab: student.config.vocabSize, maxLength: job.maxLength)

        var metrics = NEREvaluator.metrics(devScores, prefix: "dev").merging(NEREvaluator.metrics(testScores, prefix: "test")) { $1 }
        metrics.merge(timing) { $1 }
        metrics["train.f1"] = .double(trainScores.f1)
        metrics["params"] = .int(student.layout.parameterCount)
        metrics["nonzeros"] = .int(UnsafeBufferPointer(start: student.parameters.pointer, count: student.layout.totalCount)
            .reduce(0) { $0 + ($1 != 0 ? 1 : 0) })
        metrics["bytes"] = .int(InferenceTiming.fileSize(out.appendingPathComponent(XLMRModel.weightsFile)))
        metrics["distill.teacher_layers"] = .int(teacherLayers)
        metrics["distill.student_layers"] = .int(student.config.numHiddenLayers)
        metrics["distill.student_hidden"] = .int(student.config.hiddenSize)
        metrics["distill.layer_map"] = .string(map.map(String.init).joined(separator: ","))
        metrics["distill.teacher_params"] = .int(teacher.layout.parameterCount)
        metrics["distill.teacher_dev_f1"] = .double(teacherDev.f1)
        metrics["distill.teacher_test_f1"] = .double(teacherTest.f1)
        metrics["distill.alpha"] = .double(Double(settings.alpha))
        metrics["distill.temperature"] = .double(Double(settings.temperature))
        metrics["distill.hidden_mse"] = .bool(settings.hiddenMSE)
        metrics["distill.best_epoch"] = .int(outcome.bestEpoch)
        metrics["distill.epochs"] = .int(job.epochs)
        metrics["distill.steps"] = .int(outcome.steps)
        if let last = outcome.lastLoss {
            metrics["distill.final_loss"] = .double(Double(last.total))
            metrics["distill.final_kl"] = .double(Double(last.logits.kl))
            metrics["distill.final_ce"] = .double(Double(last.logits.crossEntropy))
            if settings.hiddenMSE { metrics["distill.final_hidden_mse"] = .double(Double(last.hidden)) }
        }
        if settings.cacheTeacherLogits { metrics["distill.cache_hits"] = .int(distiller.cacheHits) }
        metrics["compress.seconds"] = .double(Date().timeIntervalSince(started))
        metrics["data.synthetic"] = .bool(data.synthetic)
        metrics["data.train_sentences"] = .int(data.train.count)
        metrics["data.test_sentences"] = .int(data.test.count)
        return metrics
    }
}

/// The grid's distill setting: parent = the fine-tuned teacher, student depth = `layers` (copied teacher layers,
/// or, with `hidden`/`heads`/`ffn`, the narrower student pretrained by the second input), `epochs` of training
/// with the fine-tuning section's batch size, learning rate and warmup.
struct CompressDistill {
    let request: ExecutionRequest
    let settings: EngineSettings
    let progress: @Sendable (Double, String) -> Void

    func run() throws -> ExecutionOutput {
        let spec = request.spec
        guard let setting = spec.setting, let language = spec.language, let parent = spec.inputs.first else {
            throw ExecutionError("\(spec.title): a compress task needs a setting, a language and a parent checkpoint")
        }
        let f = setting.fields
        guard let layers = f["layers"]?.intValue else { throw ExecutionError("\(spec.title): distill needs layers (the student depth)") }
        var job = DistillJob(teacherFolder: try Checkpoint.folder(from: request, parent: parent), layers: layers)
        if spec.inputs.count > 1 {
            // A narrower student (hidden/heads/ffn set): the plan added its own pretraining as the second input.
            job.studentFolder = try Checkpoint.folder(from: request, parent: spec.inputs[1])
            job.layers = nil
        }
        job.map = f["map"]?.stringValue ?? ""
        job.distillation = DistillationSettings(alpha: Float(f["alpha"]?.doubleValue ?? 0.5), temperature: Float(f["temperature"]?.doubleValue ?? 2),
                                                hiddenMSE: f["hidden_mse"]?.boolValue ?? false,
                                                cacheTeacherLogits: f["cache_teacher"]?.boolValue ?? false)
        let s = settings
        job.epochs = f["epochs"]?.intValue ?? 3
        job.batch = s.finetuneBatch; job.learningRate = s.finetuneLR; job.warmup = s.finetuneWarmup
        job.maxLength = s.maxLength; job.seed = s.seed
        let data = try Corpora.ner(try TaskData.source(s, needsText: false), language: language)
        for warning in data.warnings { request.log.write("data warning: \(warning)") }
        let out = request.workDirectory.appendingPathComponent("checkpoint")
        let metrics = try DistillPipeline.run(job, data: data, out: out, log: request.log, progress: progress)
        return ExecutionOutput(metrics: metrics, artifacts: try Checkpoint.artifacts(in: out))
    }
}
