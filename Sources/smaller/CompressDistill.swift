// `smaller compress distill`: a fine-tuned teacher checkpoint → a student of fewer layers (or a narrower
// pretrained model) trained by distillation on NER data; writes the student checkpoint and a JSON summary.
import ArgumentParser
import Experiment
import Foundation
import Pipelines

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
    @Option(help: "Synthetic corpus size (as the job's data.synthetic_sentences; default as in job files).") var syntheticSentences: Int?
    @Option(help: "Weight of the KL term (1 − alpha on gold-label cross-entropy; default as in job files).") var alpha: Double?
    @Option(help: "Softmax temperature of the KL term (default as in job files).") var temperature: Double?
    @Flag(help: "Add the MSE between student layer i's output and teacher layer map[i]'s (same width only).") var hiddenMSE = false
    @Flag(help: "Cache each training row's teacher logits after its first batch.") var cacheTeacher = false
    @Option(help: "Training epochs (the best dev-F1 epoch is kept; default as in job files).") var epochs: Int?
    @Option(help: "Sentences per batch (as the job's finetune.batch).") var batch: Int?
    @Option(help: "Peak learning rate (as the job's finetune.learning_rate).") var lr: Double?
    @Option(help: "Warmup fraction of the steps (as the job's finetune.warmup).") var warmup: Double?
    @Option(help: "Subword window length (as the job's model.max_length).") var maxLength: Int?
    @Option(help: "Seed for the data order, dropout and a fresh classifier.") var seed: Int = 0
    @Option(help: "Threads for oneDNN.") var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Output folder for the student checkpoint, distill.log and summary.json.") var out: String

    /// The flags as the job's sections (defaults and checks from the job schema). With --student-from the
    /// student's depth is its checkpoint's.
    func settings(studentDepth: (URL) throws -> Int = CheckpointFiles.layers(of:)) throws
        -> (distill: DistillSettings, finetune: FinetuneSettings, maxLength: Int, data: DataSettings) {
        var d: [String: Value] = ["map": .string(map), "hidden_mse": .bool(hiddenMSE), "cache_teacher": .bool(cacheTeacher)]
        if let studentFrom { d["layers"] = .int(try studentDepth(URL(fileURLWithPath: studentFrom))) }
        if let layers { d["layers"] = .int(layers) }
        if let alpha { d["alpha"] = .double(alpha) }
        if let temperature { d["temperature"] = .double(temperature) }
        if let epochs { d["epochs"] = .int(epochs) }
        var f: [String: Value] = [:]
        if let batch { f["batch"] = .int(batch) }
        if let lr { f["learning_rate"] = .double(lr) }
        if let warmup { f["warmup"] = .double(warmup) }
        var data: [String: Value] = [:]
        if let ner { data["source"] = .string(DataSourceKind.masakhaner.rawValue); data["ner"] = .string(ner) }
        if let syntheticSentences { data["synthetic_sentences"] = .int(syntheticSentences) }
        let model = try ModelSettings(section: maxLength.map { ["max_length": .int($0)] } ?? [:])
        return (try DistillSettings(section: d), try FinetuneSettings(section: f), model.maxLength, try DataSettings(section: data))
    }

    func validate() throws {
        guard (layers == nil) != (studentFrom == nil) else { throw ValidationError("give exactly one of --layers and --student-from") }
        guard threads >= 1 else { throw ValidationError("--threads must be >= 1") }
        // The student checkpoint's depth is read in `run`; here any allowed depth lets the other flags be checked.
        try validatingFlags { try settings(studentDepth: { _ in 1 }) }
    }

    /// What the command prints and writes to OUT/summary.json.
    struct Summary: Encodable {
        var scheme: String
        var parameters, nonzeros, bytes, dev_f1, test_f1, teacher_test_f1: Value?
        var checkpoint: String
        /// The record's metrics, without the per-type scores.
        var metrics: [String: Value]
    }

    func run() throws {
        let s = try settings()
        let outURL = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: outURL, withIntermediateDirectories: true)
        let inputs = Pipelines.DistillInputs(distill: s.distill, finetune: s.finetune, maxLength: s.maxLength, seed: seed,
                                             teacher: URL(fileURLWithPath: teacher), student: studentFrom.map { URL(fileURLWithPath: $0) })
        let log = FileLog(url: outURL.appendingPathComponent("distill.log"))
        let data = try PipelineData.ner(try PipelineData.source(s.data, needsText: false), language: language, log: log)
        let run = PipelineRun(compute: ComputeContext(threads: threads), log: log, work: outURL) { fraction, text in
            writeErr(String(format: "\r[%3.0f%%] %@   ", fraction * 100, text))
        }
        run.compute.activate()
        let metrics = try Pipelines.distill(inputs, data: data, out: outURL, run: run).metrics
        writeErr("\n")
        let d = s.distill
        let scheme = "distill layers=\(metrics["distill.student_layers"] ?? .string("?")) map=\(metrics["distill.layer_map"] ?? .string("?"))"
            + " alpha=\(Float(d.alpha)) temperature=\(Float(d.temperature))" + (d.hiddenMSE ? " hidden_mse" : "")
            + (studentFrom.map { " student=\($0)" } ?? "")
        let summary = Summary(scheme: scheme, parameters: metrics["params"], nonzeros: metrics["nonzeros"], bytes: metrics["bytes"],
                              dev_f1: metrics["dev.f1"], test_f1: metrics["test.f1"], teacher_test_f1: metrics["distill.teacher_test_f1"],
                              checkpoint: outURL.path, metrics: metrics.filter { !$0.key.contains("per_type") })
        let json = try prettyJSON(summary)
        try json.write(to: outURL.appendingPathComponent("summary.json"), options: .atomic)
        print(String(decoding: json, as: UTF8.self))
    }
}
