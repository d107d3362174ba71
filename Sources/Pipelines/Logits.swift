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
        let batch = try TokenBatch(rows: rows, for: model, wordsFrom: folder)
        let flat = try model.logits(batch)
        let (T, V) = (batch.tokens, model.outputCount)
        return (0..<batch.batch).map { b in (0..<T).map { t in Array(flat[((b * T + t) * V)..<((b * T + t + 1) * V)]) } }
    }
}

extension TokenBatch {
    /// Padded rows of ids as `model` takes them: when it takes word shapes or character n-grams, the words are read
    /// back from the pieces of the tokenizer in `folder` (its checkpoint), each token typed with its word's shape
    /// and/or given its word's n-gram rows.
    init(rows: [[Int32]], for model: some TokenLogitsModel, wordsFrom folder: URL) throws {
        self.init(rows: rows, pad: model.padId)
        let buckets = model.charNgramBuckets
        guard model.takesWordShapes || buckets > 0 else { return }
        let (tokenizer, _) = try CheckpointFiles.tokenizer(of: folder)
        let rowIds = (0..<batch).map { b in ids[(b * tokens)..<((b + 1) * tokens)].map(Int.init) }
        if model.takesWordShapes { tokenTypes = rowIds.flatMap { tokenizer.wordShapes(ofIds: $0).map(Int32.init) } }
        if buckets > 0 {
            let K = CharNgrams.perToken
            charNgrams = rowIds.flatMap { row in
                tokenizer.charNgrams(ofIds: row).flatMap { hashes in
                    (0..<K).map { $0 < hashes.count ? CharNgrams.row(hashes[$0], buckets: buckets) : -1 }
                }
            }
            ngramSlots = K
        }
    }
}
