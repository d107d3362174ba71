// Structured pruning: removing heads or neurons physically gives the same logits as zeroing their contribution
// in the full model; the least important units go; every layer keeps a head; config records original indices.
import Foundation
import Testing
import TestSupport
import TensorCore
import Transformer
@testable import Compression

@Suite struct StructuredPruningTests {
    static let config = XLMRConfig(vocabSize: 30, hiddenSize: 12, numHiddenLayers: 2, numAttentionHeads: 4, intermediateSize: 16,
                                   maxPositionEmbeddings: 20, initializerRange: 0.3)

    static func model(seed: UInt64 = 3) throws -> XLMRModel {
        let m = try XLMRModel(config: config, head: .tokenClassification(labels: 5))
        m.initializeWeights(seed: seed)
        var noise = Xoshiro256(seed: seed + 1)
        for e in m.layout.entries where e.shape.count == 1 {
            let t = m.parameter(e.name)!
            for i in 0..<t.count { t[i] += 0.1 * noise.normal() }
        }
        return m
    }

    static let batch = TokenBatch(batch: 2, tokens: 6, ids: [0, 5, 9, 13, 22, 2, 0, 17, 4, 2, 1, 1],
                                  attentionMask: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0])

    /// Largest |a − b| relative to the largest |a|.
    static func relativeError(_ a: [Float], _ b: [Float]) -> Float {
        let scale = a.map(abs).max() ?? 1
        return zip(a, b).map { abs($0 - $1) }.max()! / max(scale, 1e-30)
    }

    @Test(arguments: [PruningStructure.heads, .neurons])
    func removingEqualsZeroingOut(structure: PruningStructure) throws {
        let full = try Self.model()
        let removed: [[Int]] = structure == .heads ? [[1, 3], [0]] : [[0, 5, 6, 15], [2]]
        let smaller = try StructuredPruning.removing(full, heads: structure == .heads ? removed : nil,
                                                     neurons: structure == .neurons ? removed : nil)
        StructuredPruning.zeroOut(full, heads: structure == .heads ? removed : nil, neurons: structure == .neurons ? removed : nil)
        let a = try full.logits(Self.batch), b = try smaller.logits(Self.batch)
        // Same arithmetic minus exact zeros; only the GEMM's summation blocking can differ with the inner size.
        #expect(Self.relativeError(a, b) <= Tolerance.kernelRelative, "error \(Self.relativeError(a, b))")
        #expect(smaller.layout.parameterCount < full.layout.parameterCount)
        if structure == .heads {
            #expect(smaller.config.prunedHeads == ["0": [1, 3], "1": [0]])
            #expect(smaller.parameter("roberta.encoder.layer.0.attention.self.query.weight")!.shape == [6, 12])
        } else {
            #expect(smaller.config.layerIntermediateSizes == [12, 15])
            #expect(smaller.parameter("roberta.encoder.layer.0.output.dense.weight")!.shape == [12, 12])
        }
    }

    @Test func secondPruneRecordsOriginalHeadIndices() throws {
        let once = try StructuredPruning.removing(try Self.model(), heads: [[1], []], neurons: nil)
        // Layer 0 now has original heads 0, 2, 3; removing current head 1 removes original head 2.
        let twice = try StructuredPruning.removing(once, heads: [[1], [3]], neurons: nil)
        #expect(twice.config.prunedHeads == ["0": [1, 2], "1": [3]])
        #expect(twice.config.heads(layer: 0) == 2 && twice.config.heads(layer: 1) == 3)
    }

    @Test func leastImportantGoAndEveryLayerKeepsOne() throws {
        // Hand-made importance: layer 0 all tiny, layer 1 large.
        let importance: [[Float]] = [[0.1, 0.2, 0.3, 0.05], [5, 4, 6, 7]]
        let global = try StructuredPruning.select(importance, fraction: 0.5, scope: .global)
        // 4 of 8 go: the four smallest are all of layer 0, but one must stay (0.3), so 4 (score 4) goes too.
        #expect(global == [[0, 1, 3], [1]])
        let perLayer = try StructuredPruning.select(importance, fraction: 0.5, scope: .layer)
        #expect(perLayer == [[0, 3], [0, 1]])
        #expect(throws: PruningError.self) { try StructuredPruning.select(importance, fraction: 1.0, scope: .global) }
    }

    @Test func importanceIsTheWeightNorm() throws {
        let m = try Self.model()
        let c = m.config, HS = c.headSize, C = c.hiddenSize
        let scores = StructuredPruning.headImportance(m)
        // Head 2 of layer 1 by hand: its rows of q, k, v and its columns of the output dense.
        let p = "roberta.encoder.layer.1."
        var sum: Double = 0
        for n in ["query", "key", "value"] {
            let w = m.parameter(p + "attention.self.\(n).weight")!
            for r in (2 * HS)..<(3 * HS) { for j in 0..<C { sum += Double(w[r * C + j] * w[r * C + j]) } }
        }
        let o = m.parameter(p + "attention.output.dense.weight")!
        for r in 0..<C { for j in (2 * HS)..<(3 * HS) { sum += Double(o[r * C + j] * o[r * C + j]) } }
        #expect(abs(Double(scores[1][2]) - sum.squareRoot()) <= 1e-5 * sum.squareRoot())
        let neurons = StructuredPruning.neuronImportance(m)
        #expect(neurons.map(\.count) == [16, 16])
    }

    @Test(arguments: [PruningStructure.heads, .neurons])
    func prunedModelTrainsSavesAndLoads(structure: PruningStructure) throws {
        let (smaller, summary) = try StructuredPruning.prune(try Self.model(), structure: structure, fraction: 0.5, scope: .global)
        #expect(summary.kept * 2 == summary.before.reduce(0, +))
        #expect(summary.parametersAfter == smaller.layout.parameterCount)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("structured-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try smaller.save(dir)
        let back = try XLMRModel.load(dir)
        #expect(back.parameters.array == smaller.parameters.array)
        #expect(try back.logits(Self.batch) == smaller.logits(Self.batch))
    }
}

/// Against transformers: a model physically pruned by hand in torch (Tests/Reference/make_pruned_golden.py).
@Suite struct StructuredPruningGoldenTests {
    struct Expected: Decodable {
        let ids: [Int32], attention_mask: [Int32], batch: Int, tokens: Int, heads: [[Int]], neurons: [[Int]], logits: [Float]
    }

    @Test func removingMatchesTransformersPrunedByHand() throws {
        let dir = Fixtures.referenceFixtures.appendingPathComponent("golden_pruned")
        let e = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: dir.appendingPathComponent("expected.json")))
        let full = try XLMRModel.load(dir)
        let pruned = try StructuredPruning.removing(full, heads: e.heads, neurons: e.neurons)
        #expect(pruned.config.prunedHeads == ["0": [1, 3], "1": [0]] && pruned.config.layerIntermediateSizes == [28, 30])
        let batch = TokenBatch(batch: e.batch, tokens: e.tokens, ids: e.ids, attentionMask: e.attention_mask)
        let ours = try pruned.logits(batch)
        #expect(StructuredPruningTests.relativeError(e.logits, ours) <= Tolerance.logitsRelative)
        // The reference really is a different function from the full model.
        #expect(StructuredPruningTests.relativeError(e.logits, try full.logits(batch)) > 100 * Tolerance.logitsRelative)
    }
}
