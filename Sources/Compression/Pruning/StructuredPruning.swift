// Structured pruning: whole attention heads or FFN neurons ranked by a weight-norm importance score and
// physically removed, giving a new, smaller XLMRModel whose config records what went (transformers'
// `pruned_heads`, our `smaller_intermediate_sizes`), so its matrices are smaller and inference is faster.
import Foundation
import TensorCore
import Transformer

/// What structured pruning removes.
package enum PruningStructure: String, Sendable, Codable, CaseIterable {
    case unstructured, heads, neurons
}

/// What a structured prune did, counted.
package struct StructuredSummary: Sendable, Equatable, Codable {
    package var structure: PruningStructure
    /// Heads (or neurons) per layer before and after.
    package var before: [Int]
    package var after: [Int]
    /// Parameters before and after (without alignment padding).
    package var parametersBefore: Int
    package var parametersAfter: Int
    package var removed: Int { before.reduce(0, +) - after.reduce(0, +) }
    package var kept: Int { after.reduce(0, +) }
}

package enum StructuredPruning {
    /// Importance of every current head, per layer: the L2 norm of all weights that belong to the head —
    /// its HS rows of the query, key and value weights and its HS columns of `attention.output.dense.weight`.
    /// Biases are not counted. Indices are the layer's current (post-pruning) head positions.
    package static func headImportance(_ model: XLMRModel) -> [[Float]] {
        let c = model.config, C = c.hiddenSize, HS = c.headSize
        return (0..<c.numHiddenLayers).map { l in
            let p = "roberta.encoder.layer.\(l).", W = c.attentionWidth(layer: l)
            let q = model.parameter(p + "attention.self.query.weight")!, k = model.parameter(p + "attention.self.key.weight")!
            let v = model.parameter(p + "attention.self.value.weight")!, o = model.parameter(p + "attention.output.dense.weight")!
            return (0..<c.heads(layer: l)).map { h in
                var sum: Double = 0
                for r in (h * HS)..<((h + 1) * HS) {
                    for j in 0..<C {
                        let a = q[r * C + j], b = k[r * C + j], d = v[r * C + j], e = o[j * W + r]
                        sum += Double(a * a) + Double(b * b) + Double(d * d) + Double(e * e)
                    }
                }
                return Float(sum.squareRoot())
            }
        }
    }

    /// Importance of every current FFN neuron, per layer: the L2 norm of its row of `intermediate.dense.weight`
    /// and its column of `output.dense.weight` (biases not counted).
    package static func neuronImportance(_ model: XLMRModel) -> [[Float]] {
        let c = model.config, C = c.hiddenSize
        return (0..<c.numHiddenLayers).map { l in
            let p = "roberta.encoder.layer.\(l).", F = c.intermediate(layer: l)
            let i = model.parameter(p + "intermediate.dense.weight")!, o = model.parameter(p + "output.dense.weight")!
            return (0..<F).map { n in
                var sum: Double = 0
                for j in 0..<C {
                    let a = i[n * C + j], b = o[j * F + n]
                    sum += Double(a * a) + Double(b * b)
                }
                return Float(sum.squareRoot())
            }
        }
    }

    /// Chooses which units to remove: the round(fraction × total) least important, over all layers at once
    /// (`.global`) or round(fraction × count) in each layer (`.layer`); every layer keeps at least one unit.
    /// Ties break by layer, then position. Returns the removed current indices per layer, sorted.
    package static func select(_ importance: [[Float]], fraction: Double, scope: PruningScope) throws -> [[Int]] {
        guard fraction >= 0, fraction < 1 else { throw PruningError(message: "sparsity must be in [0, 1), got \(fraction)") }
        var removed = importance.map { _ in [Int]() }
        switch scope {
        case .layer:
            for (l, scores) in importance.enumerated() {
                let k = min(Int((fraction * Double(scores.count)).rounded()), scores.count - 1)
                let order = scores.indices.sorted { (scores[$0], $0) < (scores[$1], $1) }
                removed[l] = Array(order.prefix(max(k, 0))).sorted()
            }
        case .global:
            let total = importance.reduce(0) { $0 + $1.count }
            var k = Int((fraction * Double(total)).rounded())
            var all: [(score: Float, layer: Int, index: Int)] = []
            for (l, scores) in importance.enumerated() { for (i, s) in scores.enumerated() { all.append((s, l, i)) } }
            all.sort { ($0.score, $0.layer, $0.index) < ($1.score, $1.layer, $1.index) }
            for unit in all where k > 0 {
                guard removed[unit.layer].count < importance[unit.layer].count - 1 else { continue }
                removed[unit.layer].append(unit.index); k -= 1
            }
            removed = removed.map { $0.sorted() }
        }
        return removed
    }

    /// Removes the least important fraction of heads or neurons and returns the smaller model with copied weights.
    package static func prune(_ model: XLMRModel, structure: PruningStructure, fraction: Double,
                              scope: PruningScope) throws -> (model: XLMRModel, summary: StructuredSummary) {
        let smaller: XLMRModel
        let units: (XLMRConfig, Int) -> Int
        switch structure {
        case .heads:
            smaller = try removing(model, heads: try select(headImportance(model), fraction: fraction, scope: scope), neurons: nil)
            units = { $0.heads(layer: $1) }
        case .neurons:
            smaller = try removing(model, heads: nil, neurons: try select(neuronImportance(model), fraction: fraction, scope: scope))
            units = { $0.intermediate(layer: $1) }
        case .unstructured:
            throw PruningError(message: "structured pruning needs structure heads or neurons, got unstructured")
        }
        let layers = 0..<model.config.numHiddenLayers
        return (smaller, StructuredSummary(structure: structure, before: layers.map { units(model.config, $0) },
                                           after: layers.map { units(smaller.config, $0) },
                                           parametersBefore: model.layout.parameterCount, parametersAfter: smaller.layout.parameterCount))
    }

    /// A new model without the given heads / neurons (current indices per layer; nil or empty: none), every other
    /// weight copied. `pruned_heads` records original head indices, merged with any already removed.
    package static func removing(_ model: XLMRModel, heads: [[Int]]?, neurons: [[Int]]?) throws -> XLMRModel {
        let c = model.config, L = c.numHiddenLayers, HS = c.headSize, C = c.hiddenSize
        var config = c
        var keptHeads: [[Int]] = [], keptNeurons: [[Int]] = []
        var pruned: [String: [Int]] = [:]
        for l in 0..<L {
            let drop = Set(heads?[l] ?? []), dropN = Set(neurons?[l] ?? [])
            guard drop.allSatisfy({ $0 >= 0 && $0 < c.heads(layer: l) }), drop.count < c.heads(layer: l) else {
                throw PruningError(message: "layer \(l): cannot remove heads \(drop.sorted()) of \(c.heads(layer: l)) (keep at least one)")
            }
            guard dropN.allSatisfy({ $0 >= 0 && $0 < c.intermediate(layer: l) }), dropN.count < c.intermediate(layer: l) else {
                throw PruningError(message: "layer \(l): cannot remove neurons \(dropN.sorted()) of \(c.intermediate(layer: l)) (keep at least one)")
            }
            keptHeads.append((0..<c.heads(layer: l)).filter { !drop.contains($0) })
            keptNeurons.append((0..<c.intermediate(layer: l)).filter { !dropN.contains($0) })
            // Current head j is original head `remaining[j]`.
            let already = Set(c.prunedHeads?[String(l)] ?? [])
            let remaining = (0..<c.numAttentionHeads).filter { !already.contains($0) }
            let all = already.union(drop.map { remaining[$0] })
            if !all.isEmpty { pruned[String(l)] = all.sorted() }
        }
        config.prunedHeads = pruned.isEmpty ? nil : pruned
        let sizes = keptNeurons.map(\.count)
        config.layerIntermediateSizes = sizes.allSatisfy({ $0 == c.intermediateSize }) ? nil : sizes
        let out = try XLMRModel(config: config, head: model.head)
        out.compute = model.compute
        for e in out.layout.entries {
            let dst = out.parameter(e.name)!, src = model.parameter(e.name)!
            guard let l = layerIndex(e.name) else { dst.pointer.update(from: src.pointer, count: e.count); continue }
            let headRows = keptHeads[l].flatMap { h in (h * HS)..<((h + 1) * HS) }
            let suffix = e.name.dropFirst("roberta.encoder.layer.\(l).".count)
            switch suffix {
            case "attention.self.query.weight", "attention.self.key.weight", "attention.self.value.weight":
                copyRows(src, dst, rows: headRows, width: C)
            case "attention.self.query.bias", "attention.self.key.bias", "attention.self.value.bias":
                copyRows(src, dst, rows: headRows, width: 1)
            case "attention.output.dense.weight":
                copyColumns(src, dst, columns: headRows, rows: C, width: c.attentionWidth(layer: l))
            case "intermediate.dense.weight": copyRows(src, dst, rows: keptNeurons[l], width: C)
            case "intermediate.dense.bias": copyRows(src, dst, rows: keptNeurons[l], width: 1)
            case "output.dense.weight": copyColumns(src, dst, columns: keptNeurons[l], rows: C, width: c.intermediate(layer: l))
            default: dst.pointer.update(from: src.pointer, count: e.count)
            }
        }
        return out
    }

    static func layerIndex(_ name: String) -> Int? {
        let prefix = "roberta.encoder.layer."
        guard name.hasPrefix(prefix) else { return nil }
        return Int(name.dropFirst(prefix.count).prefix { $0.isNumber })
    }

    /// dst (rows.count, width) = src[rows, :].
    static func copyRows(_ src: Tensor, _ dst: Tensor, rows: [Int], width: Int) {
        for (i, r) in rows.enumerated() { (dst.pointer + i * width).update(from: src.pointer + r * width, count: width) }
    }

    /// dst (rows, columns.count) = src[:, columns] with src (rows, width).
    static func copyColumns(_ src: Tensor, _ dst: Tensor, columns: [Int], rows: Int, width: Int) {
        let n = columns.count
        for r in 0..<rows { for (j, col) in columns.enumerated() { dst[r * n + j] = src[r * width + col] } }
    }

    /// Zeroes (in place, keeping shapes) the given heads' and neurons' contribution to the layer output: the heads'
    /// columns of `attention.output.dense.weight`, and the neurons' rows + biases of `intermediate.dense` and
    /// columns of `output.dense`. Removing them physically gives the same function; tests rely on this.
    package static func zeroOut(_ model: XLMRModel, heads: [[Int]]?, neurons: [[Int]]?) {
        let c = model.config, HS = c.headSize, C = c.hiddenSize
        for l in 0..<c.numHiddenLayers {
            let p = "roberta.encoder.layer.\(l).", W = c.attentionWidth(layer: l), F = c.intermediate(layer: l)
            let o = model.parameter(p + "attention.output.dense.weight")!
            for h in heads?[l] ?? [] { for r in 0..<C { for j in (h * HS)..<((h + 1) * HS) { o[r * W + j] = 0 } } }
            let iw = model.parameter(p + "intermediate.dense.weight")!, ib = model.parameter(p + "intermediate.dense.bias")!
            let ow = model.parameter(p + "output.dense.weight")!
            for n in neurons?[l] ?? [] {
                (iw.pointer + n * C).update(repeating: 0, count: C); ib[n] = 0
                for r in 0..<C { ow[r * F + n] = 0 }
            }
        }
    }
}
