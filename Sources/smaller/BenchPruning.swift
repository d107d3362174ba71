// `smaller bench pruning`: on the AfriBERTa-small shape (random weights), batch-32 × seq-128 throughput and
// batch-1 latency of dense fp32, 50% heads + 50% FFN neurons removed, and 90% unstructured sparsity (dense
// kernel; and the CSR kernel on the encoder's linear layers alone), plus the compact checkpoint's bytes against
// dense. Model variants are timed interleaved, round by round. The two pruned models are also rows of
// `smaller bench compress`, beside the quantized ones.
import ArgumentParser
import Compression
import Experiment
import Foundation
import TensorCore
import Transformer

enum PruningBench {
    struct Timing: Codable { var median_ms: Double; var p95_ms: Double }
    struct Variant: Codable {
        var name: String
        var parameters: Int
        var nonzeros: Int
        var batch32: Timing          // B32 × T128, one forward (token classification, 9 labels)
        var batch1: Timing           // B1 × T128
        var sequencesPerSecond: Double
    }
    struct Result: Codable {
        var threads: Int
        var variants: [Variant]
        /// Structured 50% heads + 50% neurons throughput over dense fp32 (target ≥ 1.6).
        var structuredSpeedup: Double
        /// The 24 encoder linear layers alone at 90% sparsity: dense sgemm vs the CSR kernel, B32×T128 and B1×T128.
        var linearDenseB32: Timing, linearSparseB32: Timing, linearDenseB1: Timing, linearSparseB1: Timing
        /// Bytes on disk: whole weights file (dense, compact) and the encoder linear weights alone.
        var denseFileBytes: Int, compactFileBytes: Int
        var encoderDenseBytes: Int, encoderCompactBytes: Int
        var encoderCompactFraction: Double { Double(encoderCompactBytes) / Double(encoderDenseBytes) }
    }

    static func time(_ warmup: Int, _ repeats: Int, _ body: () throws -> Void) rethrows -> Timing {
        let s = try BenchEngine.time(warmup, repeats, flops: 0, body)
        return Timing(median_ms: s.median_ms, p95_ms: s.p95_ms)
    }

    static func measure(compute: ComputeContext, repeats: Int = 5, warmup: Int = 1, log: (String) -> Void = { _ in }) throws -> Result {
        let c = XLMRConfig.afribertaSmall(), T = 128
        let dense = try XLMRModel(config: c, head: .tokenClassification(labels: 9))
        dense.compute = compute
        dense.initializeWeights(seed: 1)
        func ids(_ batch: Int) -> TokenBatch {
            var r = Xoshiro256(seed: 2)
            var v = (0..<(batch * T)).map { _ in Int32(4 + r.below(c.vocabSize - 5)) }
            for i in 0..<batch { v[i * T] = 0; v[i * T + T - 1] = 2 }
            return TokenBatch(batch: batch, tokens: T, ids: v)
        }
        let heads = try StructuredPruning.prune(dense, structure: .heads, fraction: 0.5, scope: .global).model
        let both = try StructuredPruning.prune(heads, structure: .neurons, fraction: 0.5, scope: .global).model
        let sparse = try XLMRModel(config: c, head: dense.head)
        sparse.compute = compute
        sparse.parameters.copy(from: dense.parameters)
        let tensors = MagnitudePruning.prunableTensors(of: sparse)
        try MagnitudePruning.prune(sparse, sparsity: 0.9, scope: .global, tensors: tensors)
        let models = [("dense fp32", dense), ("structured 50% heads + 50% neurons", both), ("unstructured 90% (dense kernel)", sparse)]
        // Runs are interleaved (one of each model per round), so load from other processes hits all alike.
        var ms = [[[Double]]](repeating: [[], []], count: models.count)
        var rng = Xoshiro256(seed: 0)
        for (bi, B) in [32, 1].enumerated() {
            let batch = ids(B)
            let spaces = models.map { Workspace(config: $0.1.config, head: $0.1.head, maxBatch: B, maxTokens: T, training: false) }
            for round in 0..<(warmup + repeats) {
                for (i, (_, model)) in models.enumerated() {
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    try model.forward(batch, workspace: spaces[i], training: false, rng: &rng)
                    if round >= warmup { ms[i][bi].append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6) }
                }
            }
        }
        func stat(_ v: [Double]) -> Timing {
            let s = v.sorted()
            let median = s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
            return Timing(median_ms: median, p95_ms: s[min(s.count - 1, Int((Double(s.count) * 0.95).rounded(.up)) - 1)])
        }
        let variants = models.enumerated().map { i, m in
            let r = Pruning.report(m.1, structure: .unstructured)
            let v = Variant(name: m.0, parameters: r.parameters, nonzeros: r.nonZeros, batch32: stat(ms[i][0]), batch1: stat(ms[i][1]),
                            sequencesPerSecond: 32_000 / stat(ms[i][0]).median_ms)
            log("\(m.0): B32 \(v.batch32.median_ms) ms, B1 \(v.batch1.median_ms) ms")
            return v
        }

        // The encoder's linear layers alone: dense sgemm vs CSR at 90%.
        let mats = tensors.map { name -> (e: ParameterLayout.Entry, csr: CSRMatrix) in
            let e = sparse.layout.entry(name)!
            return (e, CSRMatrix(dense: sparse.parameters.pointer + e.offset, rows: e.shape[0], cols: e.shape[1]))
        }
        let maxN = 32 * T, widest = mats.map { max($0.e.shape[0], $0.e.shape[1]) }.max()!
        let x = FloatBuffer(count: maxN * widest), y = FloatBuffer(count: maxN * widest)
        var fill = Xoshiro256(seed: 5)
        fill.fillNormal(x.buffer, std: 1)
        let scratch = FloatBuffer(count: mats.map { $0.csr.scratchCount(n: maxN) }.max()!)
        func linears(_ n: Int, sparseKernel: Bool) {
            for (e, csr) in mats {
                if sparseKernel {
                    csr.multiply(x: x.pointer, n: n, bias: nil, y: y.pointer, scratch: scratch.pointer)
                } else {
                    sgemm(.none, .transposed, m: n, n: e.shape[0], k: e.shape[1], a: x.pointer, lda: e.shape[1],
                          b: sparse.parameters.pointer + e.offset, ldb: e.shape[1], c: y.pointer, ldc: e.shape[0],
                          threads: compute.threads)
                }
            }
        }
        // Interleaved too: dense, CSR, dense, CSR, …
        var lin = [[Double]](repeating: [], count: 4)
        for round in 0..<(warmup + repeats) {
            for (i, (n, sparseKernel)) in [(maxN, false), (maxN, true), (T, false), (T, true)].enumerated() {
                let t0 = DispatchTime.now().uptimeNanoseconds
                linears(n, sparseKernel: sparseKernel)
                if round >= warmup { lin[i].append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6) }
            }
        }
        let ld32 = stat(lin[0]), ls32 = stat(lin[1]), ld1 = stat(lin[2]), ls1 = stat(lin[3])
        log("encoder linears B32: dense \(ld32.median_ms) ms, CSR \(ls32.median_ms) ms; B1: dense \(ld1.median_ms) ms, CSR \(ls1.median_ms) ms")

        // Bytes on disk.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bench-prune-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try sparse.save(dir.appendingPathComponent("dense"))
        let compactBytes = try SparseCheckpoint.save(sparse, to: dir.appendingPathComponent("compact"))
        let denseBytes = try SparseCheckpoint.fileSize(dir.appendingPathComponent("dense/\(XLMRModel.weightsFile)"))
        let (stored, _) = try Safetensors.read(dir.appendingPathComponent("compact/\(SparseCheckpoint.weightsFile)"))
        var encDense = 0, encCompact = 0
        for name in tensors {
            encDense += 4 * sparse.layout.entry(name)!.count
            encCompact += (stored[name + ".mask"]?.data.count ?? 0) + (stored[name + ".values"]?.data.count ?? stored[name]!.data.count)
        }
        return Result(threads: compute.threads, variants: variants,
                      structuredSpeedup: variants[0].batch32.median_ms / variants[1].batch32.median_ms,
                      linearDenseB32: ld32, linearSparseB32: ls32, linearDenseB1: ld1, linearSparseB1: ls1,
                      denseFileBytes: denseBytes, compactFileBytes: compactBytes, encoderDenseBytes: encDense, encoderCompactBytes: encCompact)
    }
}

/// `smaller bench pruning`: `PruningBench.measure` as JSON (release build): the pruned models' forward and the
/// encoder's linear layers alone, dense sgemm against the CSR kernel at 90% sparsity.
struct BenchPruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pruning",
                                                    abstract: "Pruning speed and size, including the CSR sparse kernel against sgemm (AfriBERTa-small shape).")
    @Option(help: "Timed repeats per measurement.") var repeats: Int = 5
    @Option(help: "Threads for oneDNN.") var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    func run() throws {
        let compute = ComputeContext(threads: threads)
        compute.activate()
        let r = try PruningBench.measure(compute: compute, repeats: repeats) { printErr($0) }
        print(try JSONWriter.text(r, pretty: true))
        print(String(format: "structured speedup %.2fx (target 1.6x); compact encoder weights %.1f%% of dense (target ≤ 20%%)",
                     r.structuredSpeedup, 100 * r.encoderCompactFraction))
    }
}
