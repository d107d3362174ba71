// `smaller compress distill`: a fine-tuned teacher checkpoint → a student of fewer layers (or a narrower
// pretrained model) trained by distillation on NER data; writes the student checkpoint and a JSON summary.
import ArgumentParser
import Compression
import Experiment
import Foundation
import TensorCore
import TextData
import Worker

struct CompressDistill: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "distill",
        abstract: "Distil a fine-tuned NER checkpoint into a smaller student; write the student and a JSON summary.",
        discussion: """
            The student takes --layers of the teacher's layers (every other one, top kept, by default: 4 → 2 takes \
            1,3; or --map), or is a narrower model from its own MLM checkpoint (--student-from). Loss: \
            alpha·T²·KL(teacher_T ‖ student_T) + (1 − alpha)·CE(gold), plus an optional hidden-state MSE.
            """)

    @Option(help: "Fine-tuned teacher checkpoint folder (config.json, model.safetensors, sentencepiece.bpe.model).") var teacher: String
    @Option(help: "Student depth: that many of the teacher's layers.") var layers: Int?
    @Option(help: "Teacher layer for each student layer, e.g. 0,2 (default: every other layer, the top kept).") var map: String = ""
    @Option(help: "A narrower student's own MLM checkpoint (fresh classifier) instead of teacher layers.") var studentFrom: String?
    @Option(help: "Language: a MasakhaNER code with --ner, or a synthetic language (syn-iso, syn-agg, syn-ton).") var language: String
    @Option(help: "MasakhaNER-style tree DIR/<lang>/{train,dev,test}.txt; without it the synthetic corpus.") var ner: String?
    @Option(help: "Synthetic corpus size (as the job's data.synthetic_sentences).") var syntheticSentences: Int = 2000
    @Option(help: "Weight of the KL term (1 − alpha on gold-label cross-entropy).") var alpha: Float = 0.5
    @Option(help: "Softmax temperature of the KL term.") var temperature: Float = 2
    @Flag(help: "Add the MSE between student layer i's output and teacher layer map[i]'s (same width only).") var hiddenMSE = false
    @Flag(help: "Cache each training row's teacher logits after its first batch.") var cacheTeacher = false
    @Option(help: "Training epochs (the best dev-F1 epoch is kept).") var epochs: Int = 3
    @Option(help: "Sentences per batch.") var batch: Int = 16
    @Option(help: "Peak learning rate.") var lr: Double = 1e-4
    @Option(help: "Warmup fraction of the steps.") var warmup: Double = 0.1
    @Option(help: "Subword window length.") var maxLength: Int = 64
    @Option(help: "Seed for the data order, dropout and a fresh classifier.") var seed: Int = 0
    @Option(help: "Threads for oneDNN.") var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Output folder for the student checkpoint, distill.log and summary.json.") var out: String

    /// Bad teacher, student, data or map: the message alone, without the usage text a ValidationError prints.
    struct Failure: Error, CustomStringConvertible { let description: String }

    func validate() throws {
        guard (layers == nil) != (studentFrom == nil) else { throw ValidationError("give exactly one of --layers and --student-from") }
        guard alpha >= 0 && alpha <= 1 else { throw ValidationError("--alpha is \(alpha), expected in [0, 1]") }
        guard temperature > 0, lr > 0 else { throw ValidationError("--temperature and --lr must be > 0") }
        guard epochs >= 1, batch >= 1, maxLength >= 8, threads >= 1, syntheticSentences >= 10 else {
            throw ValidationError("--epochs, --batch, --threads must be >= 1, --max-length >= 8, --synthetic-sentences >= 10")
        }
        guard warmup >= 0 && warmup <= 1 else { throw ValidationError("--warmup is \(warmup), expected a fraction in [0, 1]") }
    }

    func run() throws {
        ComputeInfo.setThreads(threads)
        var job = DistillJob(teacherFolder: URL(fileURLWithPath: teacher), layers: layers)
        job.map = map
        job.studentFolder = studentFrom.map { URL(fileURLWithPath: $0) }
        job.distillation = DistillationSettings(alpha: alpha, temperature: temperature, hiddenMSE: hiddenMSE, cacheTeacherLogits: cacheTeacher)
        job.epochs = epochs; job.batch = batch; job.learningRate = lr; job.warmup = warmup; job.maxLength = maxLength; job.seed = seed
        let source: DataSource = ner.map { .folders(ner: URL(fileURLWithPath: $0), text: nil, lenient: true) }
            ?? .synthetic(seed: 20_240_404, sizes: SyntheticSizes(text: syntheticSentences, train: max(10, syntheticSentences / 2),
                                                                   dev: max(10, syntheticSentences / 10), test: max(10, syntheticSentences / 5)))
        let outURL = URL(fileURLWithPath: out)
        let metrics: [String: Value]
        do {
            let data = try Corpora.ner(source, language: language)
            try FileManager.default.createDirectory(at: outURL, withIntermediateDirectories: true)
            let log = TaskLog(url: outURL.appendingPathComponent("distill.log"))
            metrics = try DistillPipeline.run(job, data: data, out: outURL, log: log) { fraction, text in
                FileHandle.standardError.write(Data(String(format: "\r[%3.0f%%] %@   ", fraction * 100, text).utf8))
            }
            FileHandle.standardError.write(Data("\n".utf8))
        } catch { throw Failure(description: "\(error)") }
        func number(_ key: String) -> Any {
            guard let v = metrics[key] else { return NSNull() }
            if let i = v.intValue { return i }
            if let d = v.doubleValue { return d }
            if let s = v.stringValue { return s }
            if let b = v.boolValue { return b }
            return NSNull()
        }
        let scheme = "distill layers=\(number("distill.student_layers")) map=\(number("distill.layer_map")) alpha=\(alpha) temperature=\(temperature)"
            + (hiddenMSE ? " hidden_mse" : "") + (studentFrom != nil ? " student=\(studentFrom!)" : "")
        var summary: [String: Any] = ["scheme": scheme, "parameters": number("params"), "nonzeros": number("nonzeros"),
                                      "bytes": number("bytes"), "dev_f1": number("dev.f1"), "test_f1": number("test.f1"),
                                      "teacher_test_f1": number("distill.teacher_test_f1"), "checkpoint": outURL.path]
        summary["metrics"] = Dictionary(uniqueKeysWithValues: metrics.keys.filter { !$0.contains("per_type") }.map { ($0, number($0)) })
        let json = try JSONSerialization.data(withJSONObject: summary, options: [.prettyPrinted, .sortedKeys])
        try json.write(to: outURL.appendingPathComponent("summary.json"), options: .atomic)
        print(String(decoding: json, as: UTF8.self))
    }
}
