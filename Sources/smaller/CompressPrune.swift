// `smaller compress prune --model DIR --sparsity 0.5 [--structure …] [--scope …] [--compact] --out DIR`: one-shot
// pruning of a checkpoint into a new checkpoint and `prune-summary.json` (parameters, non-zeros, bytes, scheme).
import ArgumentParser
import Compression
import Foundation
import TensorCore
import Transformer

struct CompressPrune: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Prune a checkpoint one-shot: unstructured magnitude, or whole heads / FFN neurons removed.",
        discussion: """
            --sparsity is the fraction of encoder linear weights zeroed (unstructured) or of heads / FFN neurons
            removed (heads, neurons; importance = L2 norm of each unit's weights, at least one head per layer kept).
            --embeddings and --classifier add the embedding tables and the classifier to the unstructured set.
            --compact writes model.sparse.safetensors (bitmask + non-zero values) instead of model.safetensors.
            The input may be dense or compact. Prints the summary as JSON and writes it to OUT/prune-summary.json.
            """)

    @Option(help: "A checkpoint folder (config.json + model.safetensors or model.sparse.safetensors).") var model: String
    @Option(help: "Fraction in [0, 1) to remove.") var sparsity: Double
    @Option(help: "unstructured, heads or neurons.") var structure: String = "unstructured"
    @Option(help: "global (one ranking over all layers) or layer (the same fraction in each).") var scope: String = "global"
    @Flag(help: "Prune the embedding tables too (unstructured only).") var embeddings = false
    @Flag(help: "Prune the classifier's weight too (unstructured only).") var classifier = false
    @Flag(help: "Store the weights compactly (bitmask + non-zeros).") var compact = false
    @Option(help: "Output checkpoint folder.") var out: String

    func validate() throws {
        guard sparsity >= 0, sparsity < 1 else { throw ValidationError("--sparsity is \(sparsity), expected a fraction in [0, 1)") }
        guard PruningStructure(rawValue: structure) != nil else { throw ValidationError("--structure is \(structure), expected unstructured, heads or neurons") }
        guard PruningScope(rawValue: scope) != nil else { throw ValidationError("--scope is \(scope), expected global or layer") }
        if (embeddings || classifier) && structure != "unstructured" {
            throw ValidationError("--embeddings and --classifier are for unstructured pruning, not \(structure)")
        }
    }

    struct Summary: Codable {
        var scheme: String
        var structure: String
        var scope: String
        var sparsity_target: Double
        var parameters_before: Int
        var parameters: Int
        var nonzeros: Int
        var prunable: Int
        var prunable_zeros: Int
        var heads_per_layer: [Int]
        var neurons_per_layer: [Int]
        var weights_file: String
        var bytes_on_disk: Int
    }

    func run() throws {
        let source = URL(fileURLWithPath: model), target = URL(fileURLWithPath: out)
        let s = PruningStructure(rawValue: structure)!, sc = PruningScope(rawValue: scope)!
        let input: XLMRModel
        do { input = try SparseCheckpoint.loadAny(source) } catch { throw ValidationError("\(error)") }
        let before = input.layout.parameterCount
        let pruned = try Pruning.oneShot(input, structure: s, sparsity: sparsity, scope: sc, embeddings: embeddings, classifier: classifier)
        let file: String
        if compact {
            try SparseCheckpoint.save(pruned, to: target)
            file = SparseCheckpoint.weightsFile
        } else {
            try pruned.save(target)
            file = XLMRModel.weightsFile
        }
        // The tokenizer (and any other non-weight file of a checkpoint folder) travels along.
        for name in ["sentencepiece.bpe.model"] {
            let from = source.appendingPathComponent(name), to = target.appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: from.path), !FileManager.default.fileExists(atPath: to.path) {
                try FileManager.default.copyItem(at: from.resolvingSymlinksInPath(), to: to)
            }
        }
        let r = Pruning.report(pruned, structure: s, embeddings: embeddings, classifier: classifier)
        let extra = (embeddings ? " +embeddings" : "") + (classifier ? " +classifier" : "")
        let summary = Summary(scheme: "prune \(s.rawValue) \(sc.rawValue)\(extra)\(compact ? " compact" : "")", structure: s.rawValue,
                              scope: sc.rawValue, sparsity_target: sparsity, parameters_before: before, parameters: r.parameters,
                              nonzeros: r.nonZeros, prunable: r.prunable, prunable_zeros: r.prunableZeros,
                              heads_per_layer: r.headsPerLayer, neurons_per_layer: r.neuronsPerLayer, weights_file: file,
                              bytes_on_disk: try SparseCheckpoint.fileSize(target.appendingPathComponent(file)))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(summary)
        try data.write(to: target.appendingPathComponent("prune-summary.json"), options: .atomic)
        print(String(decoding: data, as: UTF8.self))
    }
}
