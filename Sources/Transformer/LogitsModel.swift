// The model protocol the Worker's Runner and Evaluation call: "map (ids, mask) batches to per-token logits".
// Dense, pruned and quantized variants all implement it, so nothing downstream special-cases them.
import TensorCore

package protocol TokenLogitsModel: AnyObject {
    /// Outputs per token (labels for token classification, the vocabulary for MLM).
    var outputCount: Int { get }
    /// The id used to pad ragged rows.
    var padId: Int32 { get }
    /// Whether its batches must carry each token's word shape as its token type (config `word_shape_types`).
    var takesWordShapes: Bool { get }
    /// Rows of its character n-gram table (config `smaller_char_ngram_buckets`), 0 without one: its batches must then
    /// carry each token's n-gram rows.
    var charNgramBuckets: Int { get }
    /// Logits for every position of `batch`, (B, T, outputCount) flattened row-major. Evaluation mode (no dropout).
    func logits(_ batch: TokenBatch) throws -> [Float]
}

extension XLMRModel: TokenLogitsModel {
    package var padId: Int32 { Int32(config.padTokenId) }
    package var takesWordShapes: Bool { config.wordShapeTypes }
    package var charNgramBuckets: Int { config.charNgramBuckets }

    /// Evaluation-mode logits. Reuses one evaluation workspace, replaced by a larger one only when a batch does
    /// not fit (evaluation and timing loops call this per batch; allocating per call cost more than small forwards).
    package func logits(_ batch: TokenBatch) throws -> [Float] {
        if let w = evaluationWorkspace, w.maxBatch >= batch.batch, w.maxTokens >= batch.tokens {
            return try logits(batch, workspace: w)
        }
        let w = Workspace(config: config, head: head, maxBatch: max(batch.batch, evaluationWorkspace?.maxBatch ?? 1),
                          maxTokens: max(batch.tokens, evaluationWorkspace?.maxTokens ?? 1), training: false)
        evaluationWorkspace = w
        return try logits(batch, workspace: w)
    }

    package func logits(_ batch: TokenBatch, workspace: Workspace) throws -> [Float] {
        var unlabelled = batch
        unlabelled.labels = nil
        var rng = Xoshiro256(seed: 0)
        try forward(unlabelled, workspace: workspace, training: false, rng: &rng)
        return workspace.logits(outputs: outputCount).array
    }
}
