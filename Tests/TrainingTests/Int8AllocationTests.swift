// No heap allocation by us or by oneDNN's own code in a quantized model's forward pass after the first: the int8
// kernels' scratch, oneDNN primitives (user scratchpad) and reordered weights are made on the first pass and
// reused, and the split over the pool hands over objects, not closures. Only oneDNN's argument map per
// `dnnl_primitive_execute` remains (bounded below). LLM.int8() is not covered: its outlier search builds arrays.
import CAllocationCounter
import Foundation
import Synchronization
import Testing
@testable import Compression
@testable import TensorCore
@testable import Transformer

extension AllocationTests {
    /// With `poolBusy`, another thread keeps `Parallel.parts`' pool busy meanwhile, so this thread runs many splits'
    /// parts itself one after another (what happened when other suites ran beside this one on a loaded machine).
    @Test(arguments: [QuantizationScheme.dynamic, .staticInt8], [false, true])
    func int8EncoderForwardDoesNotAllocate(scheme: QuantizationScheme, poolBusy: Bool) throws {
        // Wide enough that quantization (120 rows × 128 ≥ 2^13) and the products (≥ 2^20 multiply-adds) take the split.
        let config = XLMRConfig(vocabSize: 40, hiddenSize: 128, numHiddenLayers: 2, numAttentionHeads: 4, intermediateSize: 256,
                                maxPositionEmbeddings: 40)
        let model = try XLMRModel(config: config, head: .tokenClassification(labels: 3))
        model.initializeWeights(seed: 7)
        model.compute = ComputeContext(threads: 2)
        let batch = TokenBatch(batch: 4, tokens: 30, ids: (0..<120).map { Int32(5 + $0 % 31) })
        let quantized = try Quantizer.quantize(model: model, config: QuantizationConfig(scheme: scheme), calibration: [batch])
        for _ in 0..<2 { _ = try quantized.encoder.forward(batch) }  // sizes the scratch, makes the primitives
        let busy = poolBusy ? PoolOccupier() : nil
        // Counted on the calling thread only (part 0 of every split); the pool's threads are not seen.
        let n = try Self.allocations("3 int8 encoder passes (\(scheme))", threads: 2) {
            for _ in 0..<3 { _ = try quantized.encoder.forward(batch) }
        }
        busy?.stop()
        #expect(n.ours == 0 && n.oneDNN == 0, "3 int8 encoder passes (\(scheme)): \(n)")
        // What remains is inside `dnnl_primitive_execute`: it builds a C++ map of the arguments on every call
        // (6 operator-new calls each, measured; no C API avoids it). So the bound follows the executions this thread
        // ran: at least one slice per product (4 per layer, 2 layers, 3 passes), more when the pool was busy with
        // another caller and the parts ran here one after another.
        let executions = allocation_counter_executions()
        print("3 int8 encoder passes (\(scheme), pool busy \(poolBusy)): \(executions) oneDNN executions on this thread")
        #expect(executions >= 4 * 2 * 3, "3 int8 encoder passes (\(scheme)): \(executions) executions on this thread")
        #expect(n.cxx <= 6 * executions, "3 int8 encoder passes (\(scheme)): \(n), \(executions) executions")
    }
}

/// Keeps `Parallel.parts`' pool busy from another thread with short two-part jobs until `stop()`.
private final class PoolOccupier: PartsBody, @unchecked Sendable {
    private let stopped = Atomic(false)
    private let done = DispatchSemaphore(value: 0)

    init() {
        Thread { [self] in
            while !stopped.load(ordering: .relaxed) { Parallel.parts(2, self) }
            done.signal()
        }.start()
        Thread.sleep(forTimeInterval: 0.01)  // its first jobs are running
    }

    func runPart(_ part: Int) {
        let t0 = DispatchTime.now().uptimeNanoseconds
        while DispatchTime.now().uptimeNanoseconds - t0 < 200_000 {}
    }

    func stop() {
        stopped.store(true, ordering: .relaxed)
        done.wait()
    }
}
