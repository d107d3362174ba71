// Magnitude pruning: exact zero counts (global and per layer), only the smallest magnitudes go, ties break by
// position, nothing outside the prunable tensors changes, and bad input is a clear error.
import Testing
import TestSupport
import Transformer
@testable import Compression

@Suite struct MagnitudePruningTests {
    static func model(seed: UInt64 = 5) throws -> XLMRModel {
        let config = XLMRConfig(vocabSize: 50, hiddenSize: 16, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 32,
                                maxPositionEmbeddings: 20)
        let m = try XLMRModel(config: config, head: .tokenClassification(labels: 9))
        m.initializeWeights(seed: seed)
        return m
    }

    @Test func handComputedSmallestGoFirst() {
        var a: [Float] = [3, -1, 2, -5], b: [Float] = [0.5, 4]
        a.withUnsafeMutableBufferPointer { pa in
            b.withUnsafeMutableBufferPointer { pb in MagnitudePruning.zeroSmallest(in: [pa, pb], count: 3) }
        }
        // Magnitudes 3, 1, 2, 5, 0.5, 4: the three smallest are 0.5, 1 and 2.
        #expect(a == [3, 0, 0, -5] && b == [0, 4])

        var ties: [Float] = [1, -1, 1, -1]
        ties.withUnsafeMutableBufferPointer { MagnitudePruning.zeroSmallest(in: [$0], count: 2) }
        #expect(ties == [0, 0, 1, -1], "ties break by position")
    }

    /// The radix selection zeros exactly what a full sort by (|w|, buffer, index) would: values drawn from a few
    /// levels (many ties, ±0, sub-normals, magnitudes in the same and in different 16-bit buckets) across buffers.
    @Test(arguments: [1, 7, 250, 999, 1000])
    func selectionMatchesASortReference(count: Int) {
        var rng = TestRandom(seed: UInt64(count))
        let levels: [Float] = [0, -0, 1e-40, 0.5, 0.5000001, -0.5, 1, 1.0000001, 3, -3, 1e30]
        var buffers = [300, 1, 0, 699].map { n in (0..<n).map { _ in levels[Int(rng.next() % UInt64(levels.count))] } }
        var keys: [(Float, Int, Int)] = []
        for (b, buffer) in buffers.enumerated() { for (i, w) in buffer.enumerated() { keys.append((abs(w), b, i)) } }
        keys.sort { $0 < $1 }
        var expected = buffers
        for (_, b, i) in keys.prefix(count) { expected[b][i] = 0 }
        func withPointers(_ arrays: inout [[Float]], _ body: ([UnsafeMutableBufferPointer<Float>]) -> Void) {
            let pointers = arrays.map { a -> UnsafeMutableBufferPointer<Float> in
                let p = UnsafeMutableBufferPointer<Float>.allocate(capacity: a.count)
                _ = p.initialize(from: a)
                return p
            }
            body(pointers)
            arrays = pointers.map { Array($0) }
            pointers.forEach { $0.deallocate() }
        }
        withPointers(&buffers) { MagnitudePruning.zeroSmallest(in: $0, count: count) }
        #expect(buffers.map { $0.map(\.bitPattern) } == expected.map { $0.map(\.bitPattern) })
    }

    @Test(arguments: [0.0, 0.3, 0.5, 0.9])
    func globalSparsityIsExactAndByMagnitude(sparsity: Double) throws {
        let model = try Self.model()
        let names = MagnitudePruning.prunableTensors(of: model)
        #expect(names.count == 2 * 6)
        let before = Dictionary(uniqueKeysWithValues: model.layout.entries.map { ($0.name, model.parameter($0.name)!.array) })
        let summary = try MagnitudePruning.prune(model, sparsity: sparsity, scope: .global, tensors: names)
        let n = names.reduce(0) { $0 + model.parameter($1)!.count }
        #expect(summary.prunable == n)
        #expect(summary.prunedZeros == Int((sparsity * Double(n)).rounded()))
        #expect(summary.parameters == model.layout.totalCount)

        // Every pruned weight was no larger in magnitude than every kept one.
        var pruned: [Float] = [], kept: [Float] = []
        for name in names {
            for (old, new) in zip(before[name]!, model.parameter(name)!.array) {
                if new == 0 { pruned.append(abs(old)) } else { kept.append(abs(old)); #expect(new == old) }
            }
        }
        if let largestPruned = pruned.max(), let smallestKept = kept.min() { #expect(largestPruned <= smallestKept) }
        // Nothing else moved: embeddings, biases, LayerNorms and the classifier are as they were.
        for e in model.layout.entries where !names.contains(e.name) {
            #expect(model.parameter(e.name)!.array == before[e.name]!, "\(e.name) changed")
        }
    }

    @Test func perLayerSparsityIsExactInEveryTensor() throws {
        let model = try Self.model()
        let names = MagnitudePruning.prunableTensors(of: model)
        let summary = try MagnitudePruning.prune(model, sparsity: 0.7, scope: .layer, tensors: names)
        for name in names {
            let count = model.parameter(name)!.count
            #expect(summary.zerosPerTensor[name] == Int((0.7 * Double(count)).rounded()), "\(name)")
        }
    }

    @Test func optionalTensorsAndBadInput() throws {
        let model = try Self.model()
        let all = MagnitudePruning.prunableTensors(of: model, embeddings: true, classifier: true)
        #expect(all.contains("classifier.weight") && all.contains("roberta.embeddings.word_embeddings.weight"))
        #expect(!all.contains { $0.hasSuffix(".bias") || $0.contains("LayerNorm") })
        for bad in [1.0, -0.1, 1.5] {
            #expect(throws: PruningError.self) { try MagnitudePruning.prune(model, sparsity: bad, scope: .global, tensors: all) }
        }
        #expect {
            try MagnitudePruning.prune(model, sparsity: 0.5, scope: .global, tensors: ["no.such.weight"])
        } throws: { "\($0)".contains("no.such.weight") }
    }
}
