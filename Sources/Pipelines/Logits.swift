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
        let batch = try TokenBatch(rows: rows, pad: model.padId, wordShapesFrom: model.takesWordShapes ? folder : nil)
        let flat = try model.logits(batch)
        let (T, V) = (batch.tokens, model.outputCount)
        return (0..<batch.batch).map { b in (0..<T).map { t in Array(flat[((b * T + t) * V)..<((b * T + t + 1) * V)]) } }
    }
}

extension TokenBatch {
    /// Padded rows of ids; with `wordShapesFrom` (the folder of a model that takes word shapes), each token's type
    /// is its word's shape, the words read back from the pieces of that checkpoint's tokenizer.
    init(rows: [[Int32]], pad: Int32, wordShapesFrom folder: URL?) throws {
        self.init(rows: rows, pad: pad)
        guard let folder else { return }
        let (tokenizer, _) = try CheckpointFiles.tokenizer(of: folder)
        tokenTypes = (0..<batch).flatMap { b in
            tokenizer.wordShapes(ofIds: ids[(b * tokens)..<((b + 1) * tokens)].map(Int.init)).map(Int32.init)
        }
    }
}
