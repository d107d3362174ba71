// `smaller compress quantize --model DIR --scheme dynamic --out DIR`: quantizes an fp32 checkpoint (dynamic
// int8, LLM.int8(), static int8 calibrated on a text file, int4), writes the quantized checkpoint and prints
// a JSON summary (parameters, bytes on disk, scheme, …).
import ArgumentParser
import Compression
import Foundation
import TensorCore
import TextData
import Transformer
import Worker

struct CompressQuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Quantize an fp32 checkpoint; print a JSON summary.",
        discussion: "Static quantization calibrates on --calibration-data (one sentence per line), tokenized with the checkpoint's sentencepiece.bpe.model.")

    @Option(help: "The fp32 checkpoint folder (config.json + model.safetensors).") var model: String
    @Option(help: "dynamic, llm-int8, static or int4.") var scheme: String
    @Option(help: "The output folder.") var out: String
    @Flag(help: "Also store the word embeddings in int8 (one scale per row).") var embeddings = false
    @Option(help: "LLM.int8(): activation columns with max |x| above this run in fp32 (> 0).") var threshold: Float = 6
    @Option(help: "Static: minmax or percentile.") var calibration: String = "minmax"
    @Option(help: "Static percentile calibration: the upper percentile.") var percentile: Double = 99.99
    @Option(help: "Static: a text file, one sentence per line.") var calibrationData: String?
    @Option(help: "Static: sentences used from the calibration file.") var calibrationSentences: Int = 200
    @Option(help: "int4: inputs per scale group.") var groupSize: Int = 128
    @Option(help: "Longest calibration sequence in tokens.") var maxLength: Int = 128
    @Option(help: "Threads for oneDNN.") var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        guard QuantizationScheme(rawValue: scheme) != nil else {
            throw ValidationError("--scheme is \(scheme), expected one of \(QuantizationScheme.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard CalibrationMethod(rawValue: calibration) != nil else { throw ValidationError("--calibration is \(calibration), expected minmax or percentile") }
        guard threshold > 0 else { throw ValidationError("--threshold is \(threshold), expected a number > 0") }
        guard threads >= 1, calibrationSentences >= 1, maxLength >= 3 else { throw ValidationError("--threads and --calibration-sentences must be >= 1, --max-length >= 3") }
        if scheme == "static" && calibrationData == nil { throw ValidationError("--scheme static needs --calibration-data FILE (one sentence per line)") }
    }

    func run() throws {
        ComputeInfo.setThreads(threads)
        let source = URL(fileURLWithPath: model), target = URL(fileURLWithPath: out)
        if QuantizedModel.isQuantized(source) {
            throw ValidationError("\(model) is already a quantized checkpoint (its config.json has quantization_config); quantize the fp32 checkpoint instead")
        }
        let config = QuantizationConfig(scheme: QuantizationScheme(rawValue: scheme)!, threshold: threshold, embeddings: embeddings,
                                        calibration: CalibrationMethod(rawValue: calibration)!, percentile: percentile, groupSize: groupSize)
        do {
            try config.validate()
            let fp32 = try XLMRModel.load(source)
            var batches: [TokenBatch] = []
            if let calibrationData {
                let tokenizerURL = source.appendingPathComponent("sentencepiece.bpe.model")
                let tokenizer = try XLMRTokenizer(contentsOf: tokenizerURL.path)
                let text = try String(contentsOf: URL(fileURLWithPath: calibrationData), encoding: .utf8)
                let lines = text.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
                guard !lines.isEmpty else { throw ValidationError("--calibration-data \(calibrationData) has no sentences") }
                let rows = try lines.prefix(calibrationSentences).map { line -> [Int32] in
                    var ids = try tokenizer.encode(line)
                    if ids.count > maxLength { ids = Array(ids.prefix(maxLength - 1)) + [XLMRTokenizer.eosId] }
                    return ids.map(Int32.init)
                }
                batches = stride(from: 0, to: rows.count, by: 32).map { TokenBatch(rows: Array(rows[$0..<min($0 + 32, rows.count)]), pad: fp32.padId) }
            }
            let quantized = try Quantizer.quantize(model: fp32, config: config, calibration: batches)
            try quantized.save(target)
            let tokenizer = source.appendingPathComponent("sentencepiece.bpe.model")
            if FileManager.default.fileExists(atPath: tokenizer.path) {
                let copy = target.appendingPathComponent("sentencepiece.bpe.model")
                try? FileManager.default.removeItem(at: copy)
                try FileManager.default.copyItem(at: tokenizer.resolvingSymlinksInPath(), to: copy)
            }
            let fp32Encoder = try InferenceEncoder(model: fp32)
            let summary: [String: Any] = [
                "scheme": config.scheme.rawValue, "embeddings_int8": config.embeddings, "threshold": Double(config.threshold),
                "calibration": config.scheme == .staticInt8 ? config.calibration.rawValue : NSNull(),
                "calibration_sentences": batches.reduce(0) { $0 + $1.batch },
                "group_size": config.scheme == .int4 ? config.groupSize : NSNull(),
                "parameters": quantized.parameterCount,
                "bytes_on_disk": InferenceTiming.bytesOnDisk(target), "fp32_bytes_on_disk": InferenceTiming.bytesOnDisk(source),
                "encoder_linear_bytes": quantized.encoder.encoderLinearBytes, "fp32_encoder_linear_bytes": fp32Encoder.encoderLinearBytes,
                "out": target.path,
            ]
            let data = try JSONSerialization.data(withJSONObject: summary, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } catch let e as ValidationError { throw e } catch { throw ValidationError("\(error)") }
    }
}
