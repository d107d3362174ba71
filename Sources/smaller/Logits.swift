// `smaller logits --model DIR --ids "0 17 52 2" [--ids …]`: per-token logits as JSON, (batch × tokens × outputs).
import ArgumentParser
import Foundation
import TensorCore
import Transformer

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

    func validate() throws {
        guard !ids.isEmpty else { throw ValidationError("give at least one --ids sequence") }
        guard threads >= 1 else { throw ValidationError("--threads must be >= 1") }
    }

    func run() throws {
        ComputeInfo.setThreads(threads)
        var rows: [[Int32]] = []
        for (n, s) in ids.enumerated() {
            let row = try s.split(separator: " ").map { part -> Int32 in
                guard let v = Int32(part) else { throw ValidationError("--ids #\(n + 1): \"\(part)\" is not an integer id") }
                return v
            }
            guard !row.isEmpty else { throw ValidationError("--ids #\(n + 1) is empty") }
            rows.append(row)
        }
        let m: XLMRModel
        do { m = try XLMRModel.load(URL(fileURLWithPath: model)) } catch { throw ValidationError("\(error)") }
        let batch = TokenBatch(rows: rows, pad: m.padId)
        let flat: [Float]
        do { flat = try m.logits(batch) } catch { throw ValidationError("\(error)") }
        let V = m.outputCount
        var out = "{\"logits\": ["
        for b in 0..<batch.batch {
            out += b > 0 ? ", [" : "["
            for t in 0..<batch.tokens {
                let start = (b * batch.tokens + t) * V
                out += (t > 0 ? ", [" : "[") + flat[start..<(start + V)].map { "\($0)" }.joined(separator: ", ") + "]"
            }
            out += "]"
        }
        print(out + "]}")
    }
}
