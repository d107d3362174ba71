// A checkpoint's per-token logits for id sequences (`smaller logits`): ragged rows padded with <pad> and masked.
import Foundation
import TextData
import Transformer

extension Pipelines {
    /// Logits per row, token and output, in evaluation mode (padded positions included).
    package static func logits(_ folder: URL, rows: [[Int32]], compute: ComputeContext) throws -> [[[Float]]] {
        compute.activate()
        let model = try permanent("loading \(folder.path)") { try XLMRModel.load(folder) }
        model.compute = compute
        let batch = try TokenBatch(rows: rows, pad: model.padId,
                                   wordsFrom: model.takesWordShapes || model.charNgramBuckets > 0 ? folder : nil,
                                   shapes: model.takesWordShapes, ngramBuckets: model.charNgramBuckets)
        let flat = try model.logits(batch)
        let (T, V) = (batch.tokens, model.outputCount)
        return (0..<batch.batch).map { b in (0..<T).map { t in Array(flat[((b * T + t) * V)..<((b * T + t + 1) * V)]) } }
    }
}

extension TokenBatch {
    /// Padded rows of ids; with `wordsFrom` (the folder of a model that takes word shapes or character n-grams),
    /// the words are read back from the pieces of that checkpoint's tokenizer: with `shapes` each token's type is
    /// its word's shape, with `ngramBuckets` > 0 each token carries its word's n-gram rows (hash mod buckets).
    init(rows: [[Int32]], pad: Int32, wordsFrom folder: URL?, shapes: Bool, ngramBuckets: Int) throws {
        self.init(rows: rows, pad: pad)
        guard let folder else { return }
        let (tokenizer, _) = try CheckpointFiles.tokenizer(of: folder)
        let rowIds = (0..<batch).map { b in ids[(b * tokens)..<((b + 1) * tokens)].map(Int.init) }
        if shapes { tokenTypes = rowIds.flatMap { tokenizer.wordShapes(ofIds: $0).map(Int32.init) } }
        if ngramBuckets > 0 {
            let K = CharNgrams.perToken, buckets = UInt32(ngramBuckets)
            charNgrams = rowIds.flatMap { row in
                tokenizer.charNgrams(ofIds: row).flatMap { hashes in
                    (0..<K).map { $0 < hashes.count ? Int32(hashes[$0] % buckets) : -1 }
                }
            }
            ngramSlots = K
        }
    }
}
