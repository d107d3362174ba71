// compress(lang, seed, setting) for the quantize family: the fine-tuned parent quantized per the setting
// (scheme, threshold, embeddings, calibration on ~200 training sentences for static), evaluated like the dense
// model on dev and test, timed (batch-1 latency, batch-32 throughput) and sized; the quantized checkpoint is
// the artifact.
import Compression
import Evaluation
import Experiment
import Foundation
import TextData
import Transformer

struct CompressQuantize {
    let request: ExecutionRequest
    let settings: EngineSettings
    let progress: @Sendable (Double, String) -> Void

    /// Training sentences used to calibrate static quantization.
    static let calibrationSentences = 200

    func run() throws -> ExecutionOutput {
        let spec = request.spec
        guard let setting = spec.setting, let language = spec.language, let parent = spec.inputs.first else {
            throw ExecutionError("\(spec.title): a compress task needs a setting, a language and a parent checkpoint")
        }
        let f = setting.fields
        guard let schemeName = f["scheme"]?.stringValue, let scheme = QuantizationScheme(rawValue: schemeName) else {
            throw ExecutionError("\(spec.title): quantize.scheme is \(String(describing: f["scheme"])), expected one of \(QuantizationScheme.allCases.map(\.rawValue))")
        }
        let calibrationName = f["calibration"]?.stringValue ?? "minmax"
        guard let calibration = CalibrationMethod(rawValue: calibrationName) else {
            throw ExecutionError("\(spec.title): quantize.calibration is \(calibrationName), expected minmax or percentile")
        }
        let config = QuantizationConfig(scheme: scheme, threshold: Float(f["threshold"]?.doubleValue ?? 6),
                                        embeddings: f["embeddings"]?.boolValue ?? false, calibration: calibration)
        do { try config.validate() } catch { throw ExecutionError("\(spec.title): \(error)") }
        let log = request.log
        let started = Date()
        let folder = try Checkpoint.folder(from: request, parent: parent)
        if QuantizedModel.isQuantized(folder) {
            throw ExecutionError("\(spec.title): the parent checkpoint is already quantized; quantize a fine-tuned fp32 checkpoint")
        }
        let fp32 = try XLMRModel.load(folder)
        let labels = LabelSet.masakhaNER
        guard fp32.outputCount == labels.count else {
            throw ExecutionError("\(spec.title): the parent has \(fp32.outputCount) labels, expected \(labels.count) (a fine-tuned NER checkpoint)")
        }
        let tokenizerURL = folder.appendingPathComponent(Checkpoint.tokenizerFile)
        let tokenizer = try XLMRTokenizer(contentsOf: tokenizerURL.path)
        let data = try Corpora.ner(try TaskData.source(settings, needsText: false), language: language)
        var batches: [TokenBatch] = []
        if scheme == .staticInt8 {
            let sentences = Array(data.train.prefix(Self.calibrationSentences))
            let windows = try tokenizer.align(sentences, labels: labels, maxLength: settings.maxLength)
            batches = Batcher.batches(windows, batchSize: 32, seed: nil).map { var b = $0.tokenBatch; b.labels = nil; return b }
            log.write("calibrating \(calibration.rawValue) on \(sentences.count) training sentences (\(windows.count) windows)")
        }
        let model = try Quantizer.quantize(model: fp32, config: config, calibration: batches)
        log.write("quantized: \(scheme.rawValue)\(config.embeddings ? " + int8 embeddings" : "")")
        progress(0.3, "evaluating \(language)")

        let evaluator = NEREvaluator(tokenizer: tokenizer, labels: labels, maxLength: settings.maxLength, batchSize: 32)
        let dev = try evaluator.score(model, data.dev)
        let test = try evaluator.score(model, data.test)
        log.write(String(format: "after quantization: dev F1 %.4f, test F1 %.4f", dev.f1, test.f1))
        progress(0.7, "timing")
        let timing = try InferenceTiming.measure(model, vocab: fp32.config.vocabSize, maxLength: settings.maxLength)

        let out = request.workDirectory.appendingPathComponent("checkpoint")
        try model.save(out)
        try FileManager.default.copyItem(at: tokenizerURL.resolvingSymlinksInPath(), to: out.appendingPathComponent(Checkpoint.tokenizerFile))

        var metrics = NEREvaluator.metrics(dev, prefix: "dev").merging(NEREvaluator.metrics(test, prefix: "test")) { $1 }
        metrics.merge(timing) { $1 }
        metrics["params"] = .int(model.parameterCount)
        // No `nonzeros`: int8/int4 rounding can turn small weights into zeros, and the quantized kernels do not
        // count them; the report shows "–" rather than a number that only looks exact.
        // The weights file as shipped, as in every record (the folder's config and tokenizer are the same size
        // for every variant); the whole folder beside it.
        metrics["bytes"] = .int(InferenceTiming.fileSize(out.appendingPathComponent(XLMRModel.weightsFile)))
        metrics["bytes.folder"] = .int(InferenceTiming.bytesOnDisk(out))
        metrics["bytes.parent"] = .int(InferenceTiming.fileSize(folder.appendingPathComponent(XLMRModel.weightsFile)))
        metrics["bytes.encoder_linears"] = .int(model.encoder.encoderLinearBytes)
        metrics["quantize.scheme"] = .string(scheme.rawValue)
        metrics["quantize.embeddings_int8"] = .bool(config.embeddings)
        if scheme == .llmInt8 {
            let kernels = model.kernels.values.compactMap { $0 as? MixedInt8Linear }
            let seen = kernels.reduce(0) { $0 + $1.columnsSeen }
            metrics["quantize.outlier_fraction"] = .double(seen > 0 ? Double(kernels.reduce(0) { $0 + $1.outlierColumns }) / Double(seen) : 0)
        }
        metrics["compress.seconds"] = .double(Date().timeIntervalSince(started))
        metrics["data.synthetic"] = .bool(data.synthetic)
        return ExecutionOutput(metrics: metrics, artifacts: try Checkpoint.artifacts(in: out))
    }
}
