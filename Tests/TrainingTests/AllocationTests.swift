// No heap allocation by our code inside a training step after the first: the Workspace, optimizer state and
// gradients are allocated once. Counted by interposing malloc (CAllocationCounter) on the calling thread, with
// // the compute pinned to that thread so oneDNN's work is seen too. oneDNN 2.6's `dnnl_sgemm` takes a pack
// buffer per call (measured below); the counter attributes each allocation to its caller's library, so the
// tests require zero allocations outside oneDNN and report oneDNN's. oneDNN's packed GEMM (the inference path's
// pre-packed weights) also allocates through libstdc++'s operator new, counted apart (no Swift code calls it).
import CAllocationCounter
import Testing
import TestSupport
@testable import TensorCore
@testable import Training
@testable import Transformer

@Suite(.serialized) struct AllocationTests {
    static let config = XLMRConfig(vocabSize: 40, hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 4, intermediateSize: 64,
                                   maxPositionEmbeddings: 40, hiddenDropoutProb: 0.1, attentionProbsDropoutProb: 0.1)

    /// `ours`: allocations by neither oneDNN nor libstdc++ (Swift code allocates through libswiftCore or directly);
    /// `cxx`: through libstdc++'s operator new, which only the C++ libraries (oneDNN) call here.
    struct Count { var ours: UInt64; var oneDNN: UInt64; var cxx: UInt64 = 0 }

    /// Allocations made by `body` on this thread, with one compute thread (restored afterwards).
    static func allocations(_ label: String, _ body: () throws -> Void) rethrows -> Count {
        let previous = ComputeInfo.threads
        ComputeInfo.setThreads(1)
        defer { ComputeInfo.setThreads(previous) }
        allocation_counter_start()
        do { try body() } catch { _ = allocation_counter_stop(); throw error }
        let all = allocation_counter_stop(), oneDNN = allocation_counter_onednn(), cxx = allocation_counter_libstdcxx()
        print("\(label): \(all - oneDNN - cxx) allocations outside oneDNN, \(oneDNN) by oneDNN, \(cxx) through libstdc++ operator new")
        return Count(ours: all - oneDNN - cxx, oneDNN: oneDNN, cxx: cxx)
    }

    static func batch(seed: UInt64, labels: Bool) -> TokenBatch {
        var r = TestRandom(seed: seed)
        let B = 4, T = 12
        var ids: [Int32] = [], mask: [Int32] = [], gold: [Int32] = []
        for b in 0..<B {
            let n = T - b  // ragged rows, so padding is exercised
            for t in 0..<T {
                ids.append(t < n ? (t == 0 ? 0 : Int32(5 + r.below(30))) : 1)
                mask.append(t < n ? 1 : 0)
                gold.append(t > 0 && t < n ? Int32(r.below(3)) : -100)
            }
        }
        return TokenBatch(batch: B, tokens: T, ids: ids, attentionMask: mask, labels: labels ? gold : nil)
    }

    @Test func theCounterSeesAllocations() {
        // The property the other tests rely on: a Swift allocation on this thread is counted as ours, both a
        // plain array and a 64-byte-aligned FloatBuffer (the kind a careless step would allocate).
        let n = Self.allocations("a fresh array") {
            let a = [Float](repeating: 1, count: 1000 + Int.random(in: 0..<2))
            let b = FloatBuffer(count: 1000)
            #expect(a.count >= 1000 && b.count == 1000)
        }
        #expect(n.ours >= 2 && n.oneDNN == 0, "the counter saw \(n) for a fresh array and buffer")
    }

    @Test func oneDNNSgemmAllocatesItsOwnBuffersOnly() {
        // Documents the allocations left in a step: oneDNN's own inside dnnl_sgemm, attributed to it.
        let a = FloatBuffer(count: 64 * 64), b = FloatBuffer(count: 64 * 64), c = FloatBuffer(count: 64 * 64)
        a.pointer.update(repeating: 0.5, count: a.count); b.pointer.update(repeating: 0.25, count: b.count)
        sgemm(.none, .transposed, m: 64, n: 64, k: 64, a: a.pointer, lda: 64, b: b.pointer, ldb: 64, c: c.pointer, ldc: 64)
        let n = Self.allocations("10 sgemm calls") {
            for _ in 0..<10 {
                sgemm(.none, .transposed, m: 64, n: 64, k: 64, a: a.pointer, lda: 64, b: b.pointer, ldb: 64, c: c.pointer, ldc: 64)
            }
        }
        #expect(n.ours == 0 && n.oneDNN >= 1, "\(n)")
    }

    @Test func tokenClassificationStepsDoNotAllocate() throws {
        let model = try XLMRModel(config: Self.config, head: .tokenClassification(labels: 3))
        model.initializeWeights(seed: 1)
        let trainer = Trainer(model: model, settings: TrainerSettings(steps: 10, peakLearningRate: 1e-3, warmupSteps: 2, seed: 1),
                              maxBatch: 4, maxTokens: 12)
        var batch = Self.batch(seed: 2, labels: true)
        _ = try trainer.step(&batch, step: 0)  // the first step may set things up
        let n = try Self.allocations("3 token-classification steps") {
            for s in 1..<4 { _ = try trainer.step(&batch, step: s) }
        }
        #expect(n.ours == 0, "3 token-classification training steps made \(n.ours) allocations outside oneDNN")
    }

    @Test func maskedLMStepsDoNotAllocate() throws {
        let model = try XLMRModel(config: Self.config, head: .maskedLM)
        model.initializeWeights(seed: 3)
        let masking = MLMMasking(maskId: 39, vocabSize: Self.config.vocabSize, specialIds: [0, 1, 2, 3], probability: 0.15)
        let trainer = Trainer(model: model, settings: TrainerSettings(steps: 10, peakLearningRate: 1e-3, warmupSteps: 2, seed: 3),
                              maxBatch: 4, maxTokens: 12, masking: masking)
        let original = Self.batch(seed: 4, labels: false)
        var batch = original
        _ = try trainer.step(&batch, step: 0)
        let n = try Self.allocations("3 MLM steps") {
            for s in 1..<4 { _ = try trainer.step(&batch, step: s) }
        }
        #expect(n.ours == 0, "3 MLM training steps (masking included) made \(n.ours) allocations outside oneDNN")
    }

    @Test func evaluationForwardDoesNotAllocate() throws {
        let model = try XLMRModel(config: Self.config, head: .tokenClassification(labels: 3))
        model.initializeWeights(seed: 5)
        let workspace = Workspace(config: Self.config, head: model.head, maxBatch: 4, maxTokens: 12, training: false)
        let batch = Self.batch(seed: 6, labels: false)
        var rng = Xoshiro256(seed: 0)
        try model.forward(batch, workspace: workspace, training: false, rng: &rng)
        let n = try Self.allocations("3 evaluation passes") {
            for _ in 0..<3 { try model.forward(batch, workspace: workspace, training: false, rng: &rng) }
        }
        #expect(n.ours == 0, "3 evaluation forward passes made \(n.ours) allocations outside oneDNN")
    }

    @Test func packedGemmAlsoAllocatesInsideOneDNNOnly() {
        // oneDNN's packed GEMM (weights pre-packed once) still takes its own buffers per call, like dnnl_sgemm, and
        // two more through operator new: no oneDNN GEMM entry point on this version runs without allocating
        // (see docs/benchmarks.md, round 4).
        let w = FloatBuffer(count: 64 * 64), x = FloatBuffer(count: 16 * 64), y = FloatBuffer(count: 16 * 64)
        w.pointer.update(repeating: 0.5, count: w.count); x.pointer.update(repeating: 0.25, count: x.count)
        let packed = PackedWeights(weight: w.pointer, outFeatures: 64, inFeatures: 64)
        packed.multiply(x.pointer, rows: 16, into: y.pointer)  // packs
        let n = Self.allocations("10 packed GEMM calls") {
            for _ in 0..<10 { packed.multiply(x.pointer, rows: 16, into: y.pointer) }
        }
        #expect(n.ours == 0 && n.oneDNN + n.cxx >= 10, "\(n)")
        #expect(y.pointer[0] == 64 * 0.5 * 0.25)
    }

    @Test(arguments: ["plain", "packed", "split"])
    func inferenceEncoderForwardDoesNotAllocate(kind: String) throws {
        let model = try XLMRModel(config: Self.config, head: .tokenClassification(labels: 3))
        model.initializeWeights(seed: 7)
        let encoder = switch kind {
        case "packed": try InferenceEncoder.packed(model: model)
        case "split": try InferenceEncoder.split(model: model, parts: 2)
        default: try InferenceEncoder(model: model)
        }
        let batch = Self.batch(seed: 8, labels: false)
        _ = try encoder.forward(batch)  // sizes the buffers and packs the weights
        // Counted on the calling thread only: the split kernel's worker threads are not seen.
        let n = try Self.allocations("3 inference-encoder passes (\(kind))") {
            for _ in 0..<3 { _ = try encoder.forward(batch) }
        }
        #expect(n.ours == 0, "3 inference-encoder passes (\(kind)) made \(n.ours) allocations outside oneDNN")
    }
}
