// Inference speed and size for records: batch-1 latency (p50/p95) and batch-32 throughput of any
// TokenLogitsModel on synthetic ids, and the bytes a checkpoint folder takes on disk.
import Foundation
import Transformer

package enum InferenceTiming {
    package struct Result: Sendable, Codable {
        package var b1P50Ms: Double, b1P95Ms: Double
        package var b32MedianMs: Double, b32P95Ms: Double
        package init(b1P50Ms: Double, b1P95Ms: Double, b32MedianMs: Double, b32P95Ms: Double) {
            self.b1P50Ms = b1P50Ms; self.b1P95Ms = b1P95Ms; self.b32MedianMs = b32MedianMs; self.b32P95Ms = b32P95Ms
        }
        /// Sentences per second at batch 32.
        package var throughput: Double { 32_000 / b32MedianMs }
    }

    /// Rows of `tokens` synthetic ids: `<s>`, ids in 4..<vocab−1, `</s>` (no padding: a full-length workload).
    package static func batch(_ rows: Int, tokens: Int, vocab: Int, seed: UInt64 = 2) -> TokenBatch {
        var state = seed
        func next() -> Int { state = state &* 6364136223846793005 &+ 1442695040888963407; return Int(state >> 33) }
        var ids = (0..<(rows * tokens)).map { _ in Int32(4 + next() % max(1, vocab - 5)) }
        for r in 0..<rows { ids[r * tokens] = 0; ids[r * tokens + tokens - 1] = 2 }
        return TokenBatch(batch: rows, tokens: tokens, ids: ids)
    }

    /// Sorted wall times in ms of `repeats` calls after `warmup` calls.
    package static func times(warmup: Int, repeats: Int, _ body: () throws -> Void) rethrows -> [Double] {
        for _ in 0..<warmup { try body() }
        var ms: [Double] = []
        for _ in 0..<max(1, repeats) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try body()
            ms.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
        return ms.sorted()
    }

    package static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        sorted[min(sorted.count - 1, max(0, Int((Double(sorted.count) * p).rounded(.up)) - 1))]
    }

    /// Batch 1 (`repeats` times) and batch 32 (`batchRepeats` times) of `maxLength` tokens.
    package static func run(_ model: TokenLogitsModel, vocab: Int, maxLength: Int, repeats: Int, batchRepeats: Int,
                            warmup: Int = 2) throws -> Result {
        var one = batch(1, tokens: maxLength, vocab: vocab), many = batch(32, tokens: maxLength, vocab: vocab)
        if model.takesWordShapes {
            // Synthetic ids have no words; any valid type row costs the same to add, so all take row 0.
            one.tokenTypes = [Int32](repeating: 0, count: one.ids.count)
            many.tokenTypes = [Int32](repeating: 0, count: many.ids.count)
        }
        if model.charNgramBuckets > 0 {
            // A five-letter word's twelve n-grams on every token (rows spread over the table), the rest unused.
            func addNgrams(_ batch: inout TokenBatch) {
                let K = TokenBatch.maxNgramSlots / 2
                batch.charNgrams = (0..<(batch.ids.count * K)).map { $0 % K < 12 ? Int32($0 % model.charNgramBuckets) : -1 }
                batch.ngramSlots = K
            }
            addNgrams(&one)
            addNgrams(&many)
        }
        let b1 = try times(warmup: warmup, repeats: repeats) { _ = try model.logits(one) }
        let b32 = try times(warmup: 1, repeats: batchRepeats) { _ = try model.logits(many) }
        return Result(b1P50Ms: percentile(b1, 0.5), b1P95Ms: percentile(b1, 0.95), b32MedianMs: percentile(b32, 0.5),
                      b32P95Ms: percentile(b32, 0.95))
    }

    /// Batch-1 latency and batch-32 throughput as records report them. An fp32 `XLMRModel` (dense, pruned,
    /// distilled) is timed on the inference encoder the quantized models run on, with its weights pre-packed (the
    /// fastest fp32 path for `threads`), so the records compare compression against our best fp32, not two code paths.
    package static func measure(_ model: TokenLogitsModel, vocab: Int, maxLength: Int, threads: Int, repeats: Int = 20,
                                batchRepeats: Int = 3) throws -> Result {
        let timed: TokenLogitsModel = try (model as? XLMRModel).map { try InferenceEncoder.fastest(model: $0, threads: threads) } ?? model
        return try run(timed, vocab: vocab, maxLength: maxLength, repeats: repeats, batchRepeats: batchRepeats)
    }

    /// Bytes of one file (symbolic links followed); 0 when it cannot be read.
    package static func fileSize(_ url: URL) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: url.resolvingSymlinksInPath().path)[.size] as? NSNumber)?.intValue) ?? 0
    }

    /// Bytes of the regular files directly in `folder` (symbolic links followed).
    package static func bytesOnDisk(_ folder: URL) -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.reduce(0) { $0 + fileSize(folder.appendingPathComponent($1)) }
    }
}
