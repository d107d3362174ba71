// `smaller compress prune --model DIR --sparsity 0.5 [--structure …] [--scope …] [--compact] --out DIR`: one-shot
// pruning of a checkpoint into a new checkpoint and `prune-summary.json` (parameters, non-zeros, bytes, scheme).
import ArgumentParser
import Experiment
import Foundation
import Pipelines

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
    @Option(help: "unstructured (default), heads or neurons.") var structure: String?
    @Option(help: "global (one ranking over all layers; default) or layer (the same fraction in each).") var scope: String?
    @Flag(help: "Prune the embedding tables too (unstructured only).") var embeddings = false
    @Flag(help: "Prune the classifier's weight too (unstructured only).") var classifier = false
    @Flag(help: "Store the weights compactly (bitmask + non-zeros).") var compact = false
    @Option(help: "Output checkpoint folder.") var out: String

    /// The flags as the grid's prune setting, defaults and checks from the job schema (one-shot, no further epochs).
    func setting() throws -> PruneSettings {
        var section: [String: Value] = ["sparsity": .double(sparsity)]
        if let structure { section["structure"] = .string(structure) }
        if let scope { section["scope"] = .string(scope) }
        if embeddings { section["embeddings"] = .bool(true) }
        if classifier { section["classifier"] = .bool(true) }
        return try PruneSettings(section: section)
    }

    func validate() throws { try validatingFlags { try setting() } }

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
        let target = URL(fileURLWithPath: out)
        let p = try setting()
        let result = try Pipelines.pruneCheckpoint(URL(fileURLWithPath: model), p, compact: compact, out: target,
                                                   log: NoLog())
        let r = result.report
        let extra = (embeddings ? " +embeddings" : "") + (classifier ? " +classifier" : "")
        let summary = Summary(scheme: "prune \(p.structure.rawValue) \(p.scope.rawValue)\(extra)\(compact ? " compact" : "")",
                              structure: p.structure.rawValue, scope: p.scope.rawValue, sparsity_target: sparsity,
                              parameters_before: result.before, parameters: r.parameters, nonzeros: r.nonZeros, prunable: r.prunable,
                              prunable_zeros: r.prunableZeros, heads_per_layer: r.headsPerLayer, neurons_per_layer: r.neuronsPerLayer,
                              weights_file: result.weightsFile, bytes_on_disk: result.bytes)
        let data = try prettyJSON(summary)
        try data.write(to: target.appendingPathComponent("prune-summary.json"), options: .atomic)
        print(String(decoding: data, as: UTF8.self))
    }
}
