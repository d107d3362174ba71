// distill: a fine-tuned teacher, a student of fewer layers copied from it through a layer map (or a narrower
// pretrained model), trained on the distillation loss, the best dev-F1 epoch kept, then the shared evaluation and
// packaging; the student is the outcome. The grid's distill setting and `smaller compress distill` both run it.
import Compression
import Evaluation
import Experiment
import Foundation
import TensorCore
import TextData
import Training
import Transformer

extension Pipelines {
    package struct DistillInputs: Sendable {
        /// Student depth and map, loss weights, epochs, teacher-logit cache.
        package var distill: DistillSettings
        /// Batch size, learning rate and warmup (its `epochs` is not read: `distill.epochs` is).
        package var finetune: FinetuneSettings
        package var maxLength: Int
        package var seed: Int
        /// The fine-tuned teacher checkpoint.
        package var teacher: URL
        /// A narrower student's own MLM checkpoint (fresh classifier), instead of teacher layers; its depth is
        /// then the checkpoint's, and `distill.layers` is not read.
        package var student: URL?
        /// What the evaluation scores beyond clean dev and test (the grid sets the job's; commands keep the defaults).
        package var evaluation = EvaluationInputs.standard

        package init(distill: DistillSettings, finetune: FinetuneSettings, maxLength: Int, seed: Int, teacher: URL, student: URL? = nil) {
            self.distill = distill; self.finetune = finetune; self.maxLength = maxLength; self.seed = seed
            self.teacher = teacher; self.student = student
        }
    }

    package static func distill(_ i: DistillInputs, data splits: NERSplits, out: URL, run: PipelineRun) throws -> PipelineOutcome {
        let (d, log) = (i.distill, run.log)
        let started = Date()
        let (tokenizer, tokenizerURL) = try CheckpointFiles.tokenizer(of: i.teacher)
        let labels = LabelSet.masakhaNER
        let teacher = try permanent("loading the teacher \(i.teacher.path)") { try XLMRModel.load(i.teacher) }
        teacher.compute = run.compute  // the student takes its teacher's
        try permanent("the teacher") { try Student.checkLabels(teacher: teacher, data: labels) }
        let teacherLayers = teacher.config.numHiddenLayers

        let student: XLMRModel, map: [Int]
        if let folder = i.student {
            // Teacher and student read the same token ids: a student with its own tokenizer must have the teacher's.
            let studentTokenizer = folder.appendingPathComponent(CheckpointFiles.tokenizerFile)
            if FileManager.default.fileExists(atPath: studentTokenizer.path),
               FileManager.default.contents(atPath: studentTokenizer.resolvingSymlinksInPath().path) != FileManager.default.contents(atPath: tokenizerURL.resolvingSymlinksInPath().path) {
                throw PermanentTaskError("distill: the student's \(studentTokenizer.path) differs from the teacher's \(tokenizerURL.path); both must use the same tokenizer")
            }
            student = try permanent("loading the student \(folder.path)") { try Student.fromPretrained(folder, teacher: teacher, seed: UInt64(i.seed)) }
            map = try permanent("distill.map") { try Student.layerMap(d.map, teacher: teacherLayers, student: student.config.numHiddenLayers) }
        } else {
            map = try permanent("distill.map") { try Student.layerMap(d.map, teacher: teacherLayers, student: d.layers) }
            student = try Student.fromTeacher(teacher, map: map)
        }
        // Teacher and student read the same batches, so both take word shapes or neither does.
        guard student.takesWordShapes == teacher.takesWordShapes else {
            throw PermanentTaskError("distill: the teacher \(teacher.takesWordShapes ? "takes" : "does not take") word shapes (model.word_shape) but the student \(student.takesWordShapes ? "does" : "does not"); train both with the same setting")
        }
        guard student.charNgramBuckets == teacher.charNgramBuckets else {
            throw PermanentTaskError("distill: the teacher has \(teacher.charNgramBuckets) character n-gram rows (model.char_ngrams) but the student \(student.charNgramBuckets); train both with the same setting")
        }
        let settings = DistillationSettings(alpha: Float(d.alpha), temperature: Float(d.temperature), hiddenMSE: d.hiddenMSE,
                                            layerMap: map, cacheTeacherLogits: d.cacheTeacher)
        log.write("distill: teacher \(teacherLayers) layers × \(teacher.config.hiddenSize) → student \(student.config.numHiddenLayers) × \(student.config.hiddenSize)"
                  + (i.student.map { " from \($0.path)" } ?? " from teacher layers \(map)")
                  + String(format: ", alpha %.2f, T %.2f, hidden MSE %@", settings.alpha, settings.temperature, settings.hiddenMSE ? "on" : "off"))

        let data = try NERData.prepared(splits, tokenizer: tokenizer, tokenizerFile: tokenizerURL, labels: labels,
                                        maxLength: i.maxLength, evaluation: i.evaluation, log: log)
        guard !data.train.isEmpty else { throw PermanentTaskError("distill: no training sentences for \(splits.language)") }
        let evaluator = data.evaluator
        let teacherDev = try evaluator.score(teacher, splits.dev, windows: data.dev)
        let teacherTest = try evaluator.score(teacher, splits.test, windows: data.test)
        log.write(String(format: "teacher: dev F1 %.4f, test F1 %.4f", teacherDev.f1, teacherTest.f1))

        let f = i.finetune
        let batchesPerEpoch = (data.train.count + f.batch - 1) / f.batch
        let totalSteps = batchesPerEpoch * d.epochs
        let training = TrainerSettings(steps: totalSteps, peakLearningRate: Float(f.learningRate),
                                       warmupSteps: Int(Double(totalSteps) * f.warmup),
                                       optimizer: AdamWSettings(excludeBiasAndNormFromDecay: true), seed: UInt64(i.seed))
        let distiller = try Distiller(teacher: teacher, student: student, settings: settings, training: training,
                                      maxBatch: f.batch, maxTokens: i.maxLength)
        let observer = TrainingProgress(label: "distill \(splits.language)", log: log, progress: run.progress, span: 0.05...0.92)
        var batches = EpochBatches(windows: data.train, batchSize: f.batch, seed: UInt64(i.seed), for: teacher)
        let trained = try distiller.train(epochs: d.epochs, batchesPerEpoch: batchesPerEpoch, source: &batches,
                                          observers: [observer]) { epoch in
            let scores = try evaluator.score(student, splits.dev, windows: data.dev)
            log.write(String(format: "epoch %d: student dev F1 %.4f (P %.4f R %.4f)", epoch, scores.f1, scores.precision, scores.recall))
            return scores.f1
        }
        let scores = try Packaging.finish(student, vocab: student.config.vocabSize, data: data, scoreTrain: true, save: student.save,
                                          labelNames: labels, tokenizer: tokenizerURL, out: out, run: run, from: 0.94,
                                          reference: .compare(i.teacher))
        log.write(String(format: "best epoch %d: student train F1 %.4f, dev F1 %.4f, test F1 %.4f (teacher test %.4f)", trained.bestEpoch,
                         scores.train?.f1 ?? 0, scores.dev.f1, scores.test.f1, teacherTest.f1))

        var metrics = scores.metrics
        metrics["params"] = .int(student.layout.parameterCount)
        metrics["nonzeros"] = .int(Metrics.nonZeros(student))
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
        metrics["distill.best_epoch"] = .int(trained.bestEpoch)
        metrics["distill.epochs"] = .int(d.epochs)
        metrics["distill.steps"] = .int(trained.steps)
        if let last = trained.lastLoss {
            metrics["distill.final_loss"] = .double(Double(last.total))
            metrics["distill.final_kl"] = .double(Double(last.logits.kl))
            metrics["distill.final_ce"] = .double(Double(last.logits.crossEntropy))
            if settings.hiddenMSE { metrics["distill.final_hidden_mse"] = .double(Double(last.hidden)) }
        }
        if settings.cacheTeacherLogits { metrics["distill.cache_hits"] = .int(distiller.cacheHits) }
        metrics["compress.seconds"] = .double(Date().timeIntervalSince(started))
        metrics["data.synthetic"] = .bool(splits.synthetic)
        metrics["data.train_sentences"] = .int(splits.train.count)
        metrics["data.test_sentences"] = .int(splits.test.count)
        return try outcome(out, metrics: metrics, run: run)
    }
}
