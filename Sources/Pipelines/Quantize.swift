// quantize: the fine-tuned parent quantized per the setting (scheme, threshold, embeddings, calibration on ~200
// training sentences for static), then the shared evaluation (dev, test, timing) and packaging; and the CLI's
// quantization of a checkpoint folder, which shares the loading and quantizing step.
import Compression
import Evaluation
import Experiment
import Foundation
import TextData
import Transformer

extension QuantizeSettings {
    /// The engine's configuration for this setting; `percentile` and `groupSize` are the CLI's extra knobs.
    package func config(percentile: Double = QuantizationConfig(scheme: .dynamic).percentile,
                        groupSize: Int = QuantizationConfig(scheme: .dynamic).groupSize) -> QuantizationConfig {
        let scheme: QuantizationScheme = switch self.scheme {
        case .dynamic: .dynamic
        case .llmInt8: .llmInt8
        case .staticInt8: .staticInt8
        case .int4: .int4
        }
        let calibration: CalibrationMethod = switch self.calibration {
        case .minmax: .minmax
        case .percentile: .percentile
        }
        return QuantizationConfig(scheme: scheme, threshold: Float(threshold), embeddings: embeddings, calibration: calibration,
                                  percentile: percentile, groupSize: groupSize)
    }
}

extension Pipelines {
    package struct QuantizeInputs: Sendable {
        package var quantize: QuantizeSettings
        package var data: DataSettings
        package var maxLength: Int
        package var language: String
        /// The fine-tuned fp32 checkpoint.
        package var parent: URL
        /// What the evaluation scores beyond clean dev and test (the grid sets the job's; commands keep the defaults).
        package var evaluation = EvaluationInputs.standard

        package init(quantize: QuantizeSettings, data: DataSettings, maxLength: Int, language: String, parent: URL) {
            self.quantize = quantize; self.data = data; self.maxLength = maxLength; self.language = language; self.parent = parent
        }
    }

    /// Training sentences used to calibrate static quantization.
    static let calibrationSentences = 200

    /// Loads the fp32 checkpoint `folder` (refusing one already quantized) and quantizes it per `config`; the
    /// models compute with `compute`.
    package static func quantizeModel(_ folder: URL, config: QuantizationConfig, compute: ComputeContext,
                                      calibration: (XLMRModel) throws -> [TokenBatch]) throws -> (fp32: XLMRModel, quantized: QuantizedModel) {
        try permanent("quantization settings") { try config.validate() }
        if QuantizedModel.isQuantized(folder) {
            throw PermanentTaskError("the checkpoint \(folder.path) is already quantized (its config.json has quantization_config); quantize a fine-tuned fp32 checkpoint")
        }
        let fp32 = try permanent("loading the checkpoint \(folder.path)") { try XLMRModel.load(folder) }
        fp32.compute = compute
        return (fp32, try Quantizer.quantize(model: fp32, config: config, calibration: try calibration(fp32)))
    }

    package static func quantize(_ i: QuantizeInputs, out: URL, run: PipelineRun) throws -> PipelineOutcome {
        let log = run.log
        let started = Date()
        let config = i.quantize.config()
        let labels = LabelSet.masakhaNER
        let (tokenizer, tokenizerURL) = try CheckpointFiles.tokenizer(of: i.parent)
        let splits = try PipelineData.ner(try PipelineData.source(i.data, needsText: false), language: i.language, log: log)
        let (fp32, model) = try quantizeModel(i.parent, config: config, compute: run.compute) { fp32 in
            guard fp32.outputCount == labels.count else {
                throw PermanentTaskError("the parent has \(fp32.outputCount) labels, expected \(labels.count) (a fine-tuned NER checkpoint)")
            }
            guard config.scheme == .staticInt8 else { return [] }
            let sentences = Array(splits.train.prefix(Self.calibrationSentences))
            let windows = try tokenizer.align(sentences, labels: labels, maxLength: i.maxLength)
            log.write("calibrating \(config.calibration.rawValue) on \(sentences.count) training sentences (\(windows.count) windows)")
            return Batcher.batches(windows, batchSize: 32, seed: nil).map {
                var b = $0.tokenBatch(for: fp32); b.labels = nil; return b
            }
        }
        log.write("quantized: \(config.scheme.rawValue)\(config.embeddings ? " + int8 embeddings" : "")")
        let data = try NERData.prepared(splits, tokenizer: tokenizer, tokenizerFile: tokenizerURL, labels: labels,
                                        maxLength: i.maxLength, evaluation: i.evaluation, log: log)
        let scores = try Packaging.finish(model, vocab: fp32.config.vocabSize, data: data, scoreTrain: false, save: model.save,
                                          labelNames: nil, tokenizer: tokenizerURL, out: out, run: run, from: 0.3,
                                          reference: .compare(i.parent))
        log.write(String(format: "after quantization: dev F1 %.4f, test F1 %.4f", scores.dev.f1, scores.test.f1))

        var metrics = scores.metrics
        metrics["params"] = .int(model.parameterCount)
        // No `nonzeros`: int8/int4 rounding can turn small weights into zeros, and the quantized kernels do not
        // count them; the report shows "–" rather than a number that only looks exact.
        // The weights file as shipped, as in every record (the folder's config and tokenizer are the same size
        // for every variant); the whole folder beside it.
        metrics["bytes"] = .int(InferenceTiming.fileSize(out.appendingPathComponent(XLMRModel.weightsFile)))
        metrics["bytes.folder"] = .int(InferenceTiming.bytesOnDisk(out))
        metrics["bytes.parent"] = .int(InferenceTiming.fileSize(i.parent.appendingPathComponent(XLMRModel.weightsFile)))
        metrics["bytes.encoder_linears"] = .int(model.encoder.encoderLinearBytes)
        metrics["quantize.scheme"] = .string(config.scheme.rawValue)
        metrics["quantize.embeddings_int8"] = .bool(config.embeddings)
        if config.scheme == .llmInt8 {
            let kernels = model.kernels.values.compactMap { $0 as? MixedInt8Linear }
            let seen = kernels.reduce(0) { $0 + $1.columnsSeen }
            metrics["quantize.outlier_fraction"] = .double(seen > 0 ? Double(kernels.reduce(0) { $0 + $1.outlierColumns }) / Double(seen) : 0)
        }
        metrics["compress.seconds"] = .double(Date().timeIntervalSince(started))
        metrics["data.synthetic"] = .bool(splits.synthetic)
        return try outcome(out, metrics: metrics, run: run)
    }
}

extension Pipelines {
    /// What the CLI's quantization of a checkpoint folder reports.
    package struct QuantizeSummary: Codable, Sendable {
        package var scheme: String
        package var embeddingsInt8: Bool
        package var threshold: Double
        /// Static only.
        package var calibration: String?
        package var calibrationSentences: Int
        /// int4 only.
        package var groupSize: Int?
        package var parameters: Int
        package var bytesOnDisk: Int
        package var fp32BytesOnDisk: Int
        package var encoderLinearBytes: Int
        package var fp32EncoderLinearBytes: Int
        package var out: String

        enum CodingKeys: String, CodingKey {
            case scheme, embeddingsInt8 = "embeddings_int8", threshold, calibration, calibrationSentences = "calibration_sentences"
            case groupSize = "group_size", parameters, bytesOnDisk = "bytes_on_disk", fp32BytesOnDisk = "fp32_bytes_on_disk"
            case encoderLinearBytes = "encoder_linear_bytes", fp32EncoderLinearBytes = "fp32_encoder_linear_bytes", out
        }

        /// Every key always present: a setting that does not apply is `null`, not missing.
        package func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(scheme, forKey: .scheme); try c.encode(embeddingsInt8, forKey: .embeddingsInt8)
            try c.encode(threshold, forKey: .threshold); try c.encode(calibration, forKey: .calibration)
            try c.encode(calibrationSentences, forKey: .calibrationSentences); try c.encode(groupSize, forKey: .groupSize)
            try c.encode(parameters, forKey: .parameters); try c.encode(bytesOnDisk, forKey: .bytesOnDisk)
            try c.encode(fp32BytesOnDisk, forKey: .fp32BytesOnDisk); try c.encode(encoderLinearBytes, forKey: .encoderLinearBytes)
            try c.encode(fp32EncoderLinearBytes, forKey: .fp32EncoderLinearBytes); try c.encode(out, forKey: .out)
        }
    }

    /// Quantizes the fp32 checkpoint `folder` into `out` (with its tokenizer), calibrating static quantization on
    /// the first `sentences` lines of `calibrationText`, each tokenized with the checkpoint's tokenizer and cut to
    /// `maxLength` tokens.
    package static func quantizeCheckpoint(_ folder: URL, config: QuantizationConfig, calibrationText: [String]?, sentences: Int,
                                           maxLength: Int, out: URL, compute: ComputeContext) throws -> QuantizeSummary {
        compute.activate()
        var calibrated = 0
        let (fp32, quantized) = try quantizeModel(folder, config: config, compute: compute) { fp32 in
            guard let lines = calibrationText else { return [] }
            guard !lines.isEmpty else { throw PermanentTaskError("the calibration text has no sentences") }
            let (tokenizer, _) = try CheckpointFiles.tokenizer(of: folder)
            let rows = try lines.prefix(sentences).map { line -> [Int32] in
                var ids = try tokenizer.encode(line)
                if ids.count > maxLength { ids = Array(ids.prefix(maxLength - 1)) + [XLMRTokenizer.eosId] }
                return ids.map(Int32.init)
            }
            calibrated = rows.count
            return try stride(from: 0, to: rows.count, by: 32).map {
                try TokenBatch(rows: Array(rows[$0..<min($0 + 32, rows.count)]), for: fp32, wordsFrom: folder)
            }
        }
        try quantized.save(out)
        let tokenizer = folder.appendingPathComponent(CheckpointFiles.tokenizerFile)
        if FileManager.default.fileExists(atPath: tokenizer.path) { try CheckpointFiles.copyTokenizer(tokenizer, into: out) }
        return QuantizeSummary(
            scheme: config.scheme.rawValue, embeddingsInt8: config.embeddings, threshold: Double(config.threshold),
            calibration: config.scheme == .staticInt8 ? config.calibration.rawValue : nil, calibrationSentences: calibrated,
            groupSize: config.scheme == .int4 ? config.groupSize : nil, parameters: quantized.parameterCount,
            bytesOnDisk: InferenceTiming.bytesOnDisk(out), fp32BytesOnDisk: InferenceTiming.bytesOnDisk(folder),
            encoderLinearBytes: quantized.encoder.encoderLinearBytes,
            fp32EncoderLinearBytes: try InferenceEncoder(model: fp32).encoderLinearBytes, out: out.path)
    }
}
