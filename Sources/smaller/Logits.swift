// `smaller logits --model DIR --ids "0 17 52 2" [--ids …]`: per-token logits as JSON, (batch × tokens × outputs).
import ArgumentParser
import Experiment
import Foundation
import Pipelines

struct Logits: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a checkpoint's per-token logits for id sequences as JSON {\"logits\": [[[...]]]}.",
        discussion: "Ragged inputs are padded with <pad> and masked; padded positions are printed too.")

    @Option(help: "A checkpoint folder (config.json + model.safetensors).")
    var model: String

    @Option(name: .customLong("ids"), help: "One sequence of space-separated token ids; repeat for a batch.")
    var ids: [String]

    @Option(help: "Threads for oneDNN.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    /// The --ids values as rows of token ids.
    func rows() throws -> [[Int32]] {
        try ids.enumerated().map { n, s in
            let row = try s.split(separator: " ").map { part -> Int32 in
                guard let v = Int32(part) else { throw ValidationError("--ids #\(n + 1): \"\(part)\" is not an integer id") }
                return v
            }
            guard !row.isEmpty else { throw ValidationError("--ids #\(n + 1) is empty") }
            return row
        }
    }

    func validate() throws {
        guard !ids.isEmpty else { throw ValidationError("give at least one --ids sequence") }
        guard threads >= 1 else { throw ValidationError("--threads must be >= 1") }
        _ = try rows()
    }

    struct Output: Encodable { var logits: [[[Float]]] }

    func run() throws {
        let logits = try Pipelines.logits(URL(fileURLWithPath: model), rows: try rows(), compute: ComputeContext(threads: threads))
        print(try JSONWriter.text(Output(logits: logits)))
    }
}
