// A checkpoint's per-token logits for id sequences (`smaller logits`): ragged rows padded with <pad> and masked.
import Foundation
import Transformer

extension Pipelines {
    /// Logits per row, token and output, in evaluation mode (padded positions included).
    package static func logits(_ folder: URL, rows: [[Int32]], compute: ComputeContext) throws -> [[[Float]]] {
        compute.activate()
        let model = try permanent("loading \(folder.path)") { try XLMRModel.load(folder) }
        model.compute = compute
        let batch = TokenBatch(rows: rows, pad: model.padId)
        let flat = try model.logits(batch)
        let (T, V) = (batch.tokens, model.outputCount)
        return (0..<batch.batch).map { b in (0..<T).map { t in Array(flat[((b * T + t) * V)..<((b * T + t + 1) * V)]) } }
    }
}
