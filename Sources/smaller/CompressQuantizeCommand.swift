// `smaller compress quantize --model DIR --scheme dynamic --out DIR`: quantizes an fp32 checkpoint (dynamic
// int8, LLM.int8(), static int8 calibrated on a text file, int4), writes the quantized checkpoint and prints
// a JSON summary (parameters, bytes on disk, scheme, …).
import ArgumentParser
import Experiment
import Foundation
import Pipelines

struct CompressQuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Quantize an fp32 checkpoint; print a JSON summary.",
        discussion: "Static quantization calibrates on --calibration-data (one sentence per line), tokenized with the checkpoint's sentencepiece.bpe.model.")

    @Option(help: "The fp32 checkpoint folder (config.json + model.safetensors).") var model: String
    @Option(help: "dynamic, llm-int8, static or int4.") var scheme: String
    @Option(help: "The output folder.") var out: String
    @Flag(help: "Also store the word embeddings in int8 (one scale per row).") var embeddings = false
    @Option(help: "LLM.int8(): activation columns with max |x| above this run in fp32 (> 0; default as in job files, 6).") var threshold: Double?
    @Option(help: "Static: minmax (default) or percentile.") var calibration: String?
    @Option(help: "Static percentile calibration: the upper percentile.") var percentile: Double = 99.99
    @Option(help: "Static: a text file, one sentence per line.") var calibrationData: String?
    @Option(help: "Static: sentences used from the calibration file.") var calibrationSentences: Int = 200
    @Option(help: "int4: inputs per scale group.") var groupSize: Int = 128
    @Option(help: "Longest calibration sequence in tokens.") var maxLength: Int = 128
    @Option(help: "Threads for oneDNN.") var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    /// The flags as the grid's quantize setting, defaults and checks from the job schema.
    func setting() throws -> QuantizeSettings {
        var section: [String: Value] = ["scheme": .string(scheme)]
        if let threshold { section["threshold"] = .double(threshold) }
        if embeddings { section["embeddings"] = .bool(true) }
        if let calibration { section["calibration"] = .string(calibration) }
        return try QuantizeSettings(section: section)
    }

    func validate() throws {
        let quantize = try validatingFlags { try setting() }
        guard threads >= 1, calibrationSentences >= 1, maxLength >= 3 else { throw ValidationError("--threads and --calibration-sentences must be >= 1, --max-length >= 3") }
        if quantize.scheme == .staticInt8 && calibrationData == nil { throw ValidationError("--scheme static needs --calibration-data FILE (one sentence per line)") }
    }

    func run() throws {
        let config = try setting().config(percentile: percentile, groupSize: groupSize)
        let lines = try calibrationData.map { path -> [String] in
            let text = try String(contentsOf: URL(fileURLWithPath: path), encoding: .utf8)
            return text.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        }
        let summary = try Pipelines.quantizeCheckpoint(URL(fileURLWithPath: model), config: config, calibrationText: lines,
                                                       sentences: calibrationSentences, maxLength: maxLength,
                                                       out: URL(fileURLWithPath: out), compute: ComputeContext(threads: threads))
        print(String(decoding: try prettyJSON(summary), as: UTF8.self))
    }
}
