// No heap allocation inside a training step after the first: the Workspace, optimizer state and gradients are
// allocated once, and the GEMMs run on our own kernel (CGemm), whose packing buffers each thread makes on its first
// call, or on oneDNN's matmul primitives, created once per problem with our own scratchpad. Counted by interposing
// malloc (CAllocationCounter) on the calling thread; the counter attributes each allocation to its caller's library
// (ours, oneDNN, or libstdc++'s operator new, which only oneDNN calls here). oneDNN 2.6's `dnnl_sgemm` takes buffers
// inside every call (documented below): why CGemm exists, and why the oneDNN path is the matmul primitive.
import CAllocationCounter
import CDNNL
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
    /// `products`: oneDNN matmul executions on this thread meanwhile.
    /// `plansCreated`: oneDNN primitives this thread created meanwhile (a first call for a problem).
    struct Count { var ours: UInt64; var oneDNN: UInt64; var cxx: UInt64 = 0; var products = 0; var plansCreated = 0 }

    /// Allocations made by `body` on this thread, with oneDNN given `threads` threads on it (restored afterwards).
    static func allocations(_ label: String, threads: Int = 1, _ body: () throws -> Void) rethrows -> Count {
        let previous = ComputeInfo.threads
        ComputeInfo.setThreads(threads)
        defer { ComputeInfo.setThreads(previous) }
        let (executions, plans) = (FloatMatmul.executions, FloatMatmul.plansCreated)
        allocation_counter_start()
        do { try body() } catch { _ = allocation_counter_stop(); throw error }
        let all = allocation_counter_stop(), oneDNN = allocation_counter_onednn(), cxx = allocation_counter_libstdcxx()
        let products = FloatMatmul.executions - executions
        print("\(label): \(all - oneDNN - cxx) allocations outside oneDNN, \(oneDNN) by oneDNN, \(cxx) through libstdc++ operator new, \(products) oneDNN products")
        return Count(ours: all - oneDNN - cxx, oneDNN: oneDNN, cxx: cxx, products: products,
                     plansCreated: FloatMatmul.plansCreated - plans)
    }

    /// Whether the count is zero in all with CGemm; with oneDNN's cached matmul primitives, zero of ours and at
    /// most `oneDNNPerProduct` of oneDNN's per product: its C API builds a map of the arguments in every
    /// `dnnl_primitive_execute` (6 nodes and buckets), and its `gemm:jit` matmul (small shapes) takes one buffer,
    /// a constant per call where `dnnl_sgemm`'s grew with the problem. Nothing scales with the step.
    static func isAllocationFree(_ n: Count) -> Bool {
        if GemmChoice.policy == .own { return n.ours + n.oneDNN + n.cxx == 0 }
        return n.ours == 0 && n.oneDNN + n.cxx <= UInt64(oneDNNPerProduct * n.products)
    }
    static let oneDNNPerProduct = 7

    /// Both fp32 kernels, each forced for a test (where CGemm can run).
    static let kernels: [GemmPolicy] = GemmKernel.ownAvailable ? [.own, .oneDNN] : [.oneDNN]

    /// Runs `body` with the fp32 kernel forced to `policy` (taking turns with other tests that force one).
    /// This thread's oneDNN primitive cache starts empty: plans other tests left on the thread could otherwise fill
    /// it mid-warm-up, and the cache, emptied when full, would re-create some in the counted steps.
    static func with<R>(_ policy: GemmPolicy, _ body: () throws -> R) rethrows -> R {
        try GemmChoice.withPolicy(policy) {
            FloatMatmul.clearThisThread()
            return try body()
        }
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

    @Test func oneDNNSgemmAllocatesInEveryCall() {
        // Why CGemm exists: oneDNN's own sgemm takes buffers inside every call (attributed to it by the counter).
        let a = FloatBuffer(count: 64 * 64), b = FloatBuffer(count: 64 * 64), c = FloatBuffer(count: 64 * 64)
        a.pointer.update(repeating: 0.5, count: a.count); b.pointer.update(repeating: 0.25, count: b.count)
        func call() {
            _ = dnnl_sgemm(CChar(UInt8(ascii: "N")), CChar(UInt8(ascii: "T")), 64, 64, 64, 1, a.pointer, 64, b.pointer, 64,
                           0, c.pointer, 64)
        }
        call()  // the first call sets oneDNN up (its JIT, OpenMP's threads): not what is counted
        let n = Self.allocations("10 dnnl_sgemm calls after the first") {
            for _ in 0..<10 { call() }
        }
        #expect(n.ours == 0 && n.oneDNN >= 10, "\(n)")
        #expect(c.pointer[0] == 64 * 0.5 * 0.25)
    }

    @Test(arguments: [1, 2], kernels)
    func sgemmAllocatesNothingAfterTheFirstCall(threads: Int, kernel: GemmPolicy) { Self.with(kernel) {
        // 96 × 128 × 256: above the split threshold, so with two threads the product is split over the pool.
        let (m, n, k) = (96, 128, 256)
        #expect(m * n * k >= GemmKernel.splitMultiplyAdds)
        let a = FloatBuffer(count: m * k), b = FloatBuffer(count: n * k), c = FloatBuffer(count: m * n)
        a.pointer.update(repeating: 0.5, count: a.count); b.pointer.update(repeating: 0.25, count: b.count)
        sgemm(.none, .transposed, m: m, n: n, k: k, a: a.pointer, lda: k, b: b.pointer, ldb: k, c: c.pointer, ldc: n,
              threads: threads)
        // And attention's batched form: 4 (batch, head) pairs of 16 × 16 × 8, dealt over the threads.
        let strides = BatchStrides(batch: 2 * 16 * 8, head: 16 * 8), scores = BatchStrides(batch: 2 * 16 * 16, head: 16 * 16)
        func batched() {
            sgemmBatched(.none, .transposed, m: 16, n: 16, k: 8, batches: 2, heads: 2, a: a.pointer, lda: 8, aStrides: strides,
                         b: b.pointer, ldb: 8, bStrides: strides, c: c.pointer + 4096, ldc: 16, cStrides: scores, threads: threads)
        }
        batched()
        let count = Self.allocations("10 sgemm and 10 batched calls, \(threads) thread(s)", threads: threads) {
            for _ in 0..<10 {
                sgemm(.none, .transposed, m: m, n: n, k: k, a: a.pointer, lda: k, b: b.pointer, ldb: k, c: c.pointer, ldc: n,
                      threads: threads)
                batched()
            }
        }
        #expect(Self.isAllocationFree(count), "\(kernel): \(count)")
        #expect(c.pointer[0] == Float(k) * 0.5 * 0.25 && c.pointer[4095] == Float(k) * 0.5 * 0.25)
        #expect(c.pointer[4096] == 8 * 0.5 * 0.25 && c.pointer[4096 + 4 * 256 - 1] == 8 * 0.5 * 0.25)
    } }

    @Test(arguments: kernels)
    func tokenClassificationStepsDoNotAllocate(kernel: GemmPolicy) throws { try Self.with(kernel) {
        let model = try XLMRModel(config: Self.config, head: .tokenClassification(labels: 3))
        model.initializeWeights(seed: 1)
        let trainer = Trainer(model: model, settings: TrainerSettings(steps: 10, peakLearningRate: 1e-3, warmupSteps: 2, seed: 1),
                              maxBatch: 4, maxTokens: 12)
        var batch = Self.batch(seed: 2, labels: true)
        _ = try trainer.step(&batch, step: 0)  // the first step may set things up
        let n = try Self.allocations("3 token-classification steps") {
            for s in 1..<4 { _ = try trainer.step(&batch, step: s) }
        }
        #expect(Self.isAllocationFree(n), "3 token-classification training steps (\(kernel) GEMM): \(n)")
    } }

    @Test(arguments: kernels)
    func splitTrainingStepsDoNotAllocate(kernel: GemmPolicy) throws { try Self.with(kernel) {
        // Wide enough that at two threads the linears, attention's batched products, softmax and GELU are split
        // over the pool (B4 × T64 rows, FFN 256): counted on the calling thread, which hands over and runs part 0.
        let config = XLMRConfig(vocabSize: 40, hiddenSize: 64, numHiddenLayers: 1, numAttentionHeads: 4, intermediateSize: 256,
                                maxPositionEmbeddings: 80, hiddenDropoutProb: 0.1, attentionProbsDropoutProb: 0.1)
        #expect(4 * 64 * 256 >= 2 * Parallel.rowSplitFloats && 4 * 64 * 256 * 64 >= GemmKernel.splitMultiplyAdds)
        let model = try XLMRModel(config: config, head: .tokenClassification(labels: 3))
        model.initializeWeights(seed: 11)
        model.compute = ComputeContext(threads: 2)
        let trainer = Trainer(model: model, settings: TrainerSettings(steps: 10, peakLearningRate: 1e-3, warmupSteps: 2, seed: 1),
                              maxBatch: 4, maxTokens: 64)
        var r = TestRandom(seed: 12)
        let ids = (0..<(4 * 64)).map { i in i % 64 == 0 ? Int32(0) : Int32(5 + r.below(30)) }
        var batch = TokenBatch(batch: 4, tokens: 64, ids: ids, attentionMask: [Int32](repeating: 1, count: 4 * 64),
                               labels: ids.map { $0 == 0 ? -100 : $0 % 3 })
        _ = try trainer.step(&batch, step: 0)  // makes each thread's job objects and packing buffers
        // While another test holds the parts pool, a split product runs its parts one after another on this
        // thread, which then meets the other parts' oneDNN problems for the first time: counted again, those
        // primitives exist.
        var n = Count(ours: 0, oneDNN: 0)
        for _ in 0..<2 {
            n = try Self.allocations("3 split token-classification steps, 2 threads", threads: 2) {
                for s in 1..<4 { _ = try trainer.step(&batch, step: s) }
            }
            if n.plansCreated == 0 { break }
        }
        #expect(Self.isAllocationFree(n), "3 split training steps (\(kernel) GEMM): \(n)")
    } }

    // CGemm only: the head's row count (the masked tokens) changes every step, and with oneDNN each new row count
    // is a new problem whose primitive is created on its first call (auto keeps these small products on CGemm).
    @Test(arguments: [GemmPolicy.own].filter { _ in GemmKernel.ownAvailable })
    func maskedLMStepsDoNotAllocate(kernel: GemmPolicy) throws { try Self.with(kernel) {
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
        #expect(Self.isAllocationFree(n), "3 MLM training steps, masking included (\(kernel) GEMM): \(n)")
    } }

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
        #expect(Self.isAllocationFree(n), "3 evaluation forward passes (\(GemmChoice.policy) GEMM): \(n)")
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
        #expect(Self.isAllocationFree(n), "3 inference-encoder passes (\(kind), \(GemmChoice.policy) GEMM): \(n)")
    }
}
