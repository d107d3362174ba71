// One entry point for every one-shot pruning setting (unstructured magnitude, heads, neurons) and the counts
// that the CLI summary and the grid's records report for a pruned model.
import Foundation
import TensorCore
import Transformer

/// Counts describing a (possibly pruned) model.
package struct PruneReport: Sendable, Equatable, Codable {
    package var structure: PruningStructure
    /// Parameters without alignment padding (shrinks under structured pruning).
    package var parameters: Int
    package var nonZeros: Int
    /// The prunable set (encoder linear weights, plus the embedding tables and the classifier when those were
    /// pruned too) and how many of them are zero.
    package var prunable: Int
    package var prunableZeros: Int
    package var headsPerLayer: [Int]
    package var neuronsPerLayer: [Int]
    package var headsKept: Int { headsPerLayer.reduce(0, +) }
    package var neuronsKept: Int { neuronsPerLayer.reduce(0, +) }
    package var sparsity: Double { prunable == 0 ? 0 : Double(prunableZeros) / Double(prunable) }
}

package enum Pruning {
    /// Prunes one-shot: unstructured zeroes weights in place and returns the same model; heads and neurons return
    /// a new, smaller model. `sparsity` is the fraction of weights (unstructured) or of heads / neurons removed.
    /// `embeddings` and `classifier` add those weights to the unstructured set (structured pruning has no units there).
    package static func oneShot(_ model: XLMRModel, structure: PruningStructure, sparsity: Double, scope: PruningScope,
                                embeddings: Bool = false, classifier: Bool = false) throws -> XLMRModel {
        switch structure {
        case .unstructured:
            let tensors = MagnitudePruning.prunableTensors(of: model, embeddings: embeddings, classifier: classifier)
            try MagnitudePruning.prune(model, sparsity: sparsity, scope: scope, tensors: tensors)
            return model
        case .heads, .neurons:
            guard !embeddings, !classifier else {
                throw PruningError(message: "embeddings and classifier pruning are unstructured only; \(structure.rawValue) removes encoder units")
            }
            return try StructuredPruning.prune(model, structure: structure, fraction: sparsity, scope: scope).model
        }
    }

    package static func report(_ model: XLMRModel, structure: PruningStructure, embeddings: Bool = false,
                               classifier: Bool = false) -> PruneReport {
        let c = model.config
        let tensors = MagnitudePruning.prunableTensors(of: model, embeddings: embeddings, classifier: classifier)
        let s = MagnitudePruning.summary(model, tensors: tensors)
        return PruneReport(structure: structure, parameters: model.layout.parameterCount, nonZeros: s.nonZeros,
                           prunable: s.prunable, prunableZeros: s.prunedZeros,
                           headsPerLayer: (0..<c.numHiddenLayers).map { c.heads(layer: $0) },
                           neuronsPerLayer: (0..<c.numHiddenLayers).map { c.intermediate(layer: $0) })
    }
}
