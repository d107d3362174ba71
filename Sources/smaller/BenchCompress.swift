// `smaller bench compress`: batch-1 latency and batch-32 throughput of compressed variants of the
// AfriBERTa-small-shaped model (random weights) against our fp32 in the same process, and their bytes on disk.
// Variants are a list of (name, build): a new compression adds one row.
import ArgumentParser
import Compression
import Evaluation
import Experiment
import Foundation
import TensorCore
import Transformer

struct BenchCompress: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compress",
        abstract: "Latency, throughput and bytes of pruned and quantized variants of the AfriBERTa-small shape vs fp32.")

    @Option(help: "Timed batch-1 repeats per variant (after warm-up).") var repeats: Int = 20
    @Option(help: "Timed batch-32 repeats per variant.") var batchRepeats: Int = 3
    @Option(help: "Threads for oneDNN.") var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Tokens per sentence.") var tokens: Int = 128
    @Option(help: "small (4×256, FFN 1024, vocab 8000) or afriberta-small (4×768, FFN 3072, vocab 70k).")
    var config: String = "afriberta-small"
    @Flag(help: "Print one JSON object instead of tables.") var json = false
    @Option(help: "Rows per int8 product call and dequantizing epilogue (0: all rows in one call).")
    var int8RowBlock: Int = Int8SplitGemm.defaultRowBlock

    func validate() throws {
        guard ["small", "afriberta-small"].contains(config) else { throw ValidationError("--config must be small or afriberta-small") }
        guard repeats >= 1, batchRepeats >= 1, threads >= 1, tokens >= 2 else { throw ValidationError("--repeats, --batch-repeats, --threads must be >= 1, --tokens >= 2") }
        guard int8RowBlock >= 0 else { throw ValidationError("--int8-row-block must be >= 0") }
    }

    /// One row of the benchmark: `build` returns the model to time (nil: size only) and how to save it.
    struct Variant {
        let name: String
        let timed: Bool
        let build: () throws -> (model: TokenLogitsModel, encoderLinearBytes: Int, save: (URL) throws -> Void)
    }

    /// XLMRModel.forward with one reused workspace (its `logits(_:)` allocates one per call).
    final class WorkspaceModel: TokenLogitsModel {
        let model: XLMRModel
        var workspace: Workspace?
        init(_ model: XLMRModel) { self.model = model }
        var outputCount: Int { model.outputCount }
        var padId: Int32 { model.padId }
        var takesWordShapes: Bool { model.takesWordShapes }
        var charNgramBuckets: Int { model.charNgramBuckets }
        func logits(_ batch: TokenBatch) throws -> [Float] {
            if workspace == nil || workspace!.maxBatch < batch.batch || workspace!.maxTokens < batch.tokens {
                workspace = Workspace(config: model.config, head: model.head, maxBatch: batch.batch, maxTokens: batch.tokens, training: false)
            }
            return try model.logits(batch, workspace: workspace!)
        }
    }

    /// Bytes of the encoder's linear layers in the compact sparse format: a bit per weight plus the non-zero
    /// values, and the fp32 biases (as `encoderLinearBytes` counts weights, scales and biases).
    static func compactLinearBytes(_ model: XLMRModel, _ weights: [String]) -> Int {
        weights.reduce(0) { sum, name in
            let e = model.layout.entry(name)!
            let nonZeros = UnsafeBufferPointer(start: model.parameters.pointer + e.offset, count: e.count).reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
            return sum + (e.count + 7) / 8 + 4 * nonZeros + 4 * e.shape[0]
        }
    }

    /// Outlier features as in real transformers: columns `columns` of every LayerNorm's γ are multiplied by
    /// `gain` and the matching input columns of the linears that read LayerNorm outputs (q, k, v, FFN in,
    /// classifier) divided by it, so products stay as they were while those hidden features exceed LLM.int8()'s
    /// threshold. The measured outlier fraction is reported.
    static func injectOutliers(_ model: XLMRModel, columns: [Int], gain: Float) {
        for e in model.layout.entries where e.name.hasSuffix("LayerNorm.weight") {
            let g = model.parameter(e.name)!
            for c in columns { g[c] *= gain }
        }
        var readers = ["classifier"]
        for l in 0..<model.config.numHiddenLayers {
            readers += [LinearNames.query, LinearNames.key, LinearNames.value, LinearNames.intermediate].map { LinearNames.name(layer: l, $0) }
        }
        for name in readers {
            guard let w = model.parameter(name + ".weight") else { continue }
            let (rows, cols) = (w.shape[0], w.shape[1])
            for r in 0..<rows { for c in columns { w[r * cols + c] /= gain } }
        }
    }

    struct Row: Codable {
        var name: String
        var timing: InferenceTiming.Result?
        var bytes: Int, encoderLinearBytes: Int
        /// max |logits − fp32 logits| / max |fp32 logits| on one synthetic sentence.
        var logitsRelativeError: Double
        var note: String?
    }

    func run() throws {
        let compute = ComputeContext(threads: threads)
        compute.activate()
        Int8SplitGemm.defaultRowBlock = int8RowBlock
        let c: XLMRConfig = config == "small" ? .small() : .afribertaSmall()
        let model = try XLMRModel(config: c, head: .tokenClassification(labels: 9))
        model.compute = compute  // the pruned and quantized variants take it from here
        model.initializeWeights(seed: 1)
        let outlierColumns = [17, 401]
        Self.injectOutliers(model, columns: outlierColumns, gain: 12)
        let calibration = (0..<4).map { InferenceTiming.batch(8, tokens: tokens, vocab: c.vocabSize, seed: UInt64(10 + $0)) }
        func quantized(_ q: QuantizationConfig) -> () throws -> (model: TokenLogitsModel, encoderLinearBytes: Int, save: (URL) throws -> Void) {
            { let m = try Quantizer.quantize(model: model, config: q, calibration: calibration)
              return (m, m.encoder.encoderLinearBytes, m.save) }
        }
        let variants: [Variant] = [
            Variant(name: "fp32 XLMRModel.forward", timed: true) {
                (WorkspaceModel(model), try InferenceEncoder(model: model).encoderLinearBytes, model.save)
            },
            Variant(name: "fp32 inference encoder", timed: true) {
                let e = try InferenceEncoder(model: model)
                return (e, e.encoderLinearBytes, model.save)
            },
            Variant(name: "fp32 inference encoder, pre-packed (split over threads)", timed: true) {
                let e = try InferenceEncoder.fastest(model: model, threads: threads)
                return (e, e.encoderLinearBytes, model.save)
            },
            Variant(name: "structured: 50% heads + 50% FFN neurons removed", timed: true) {
                let heads = try StructuredPruning.prune(model, structure: .heads, fraction: 0.5, scope: .global).model
                let both = try StructuredPruning.prune(heads, structure: .neurons, fraction: 0.5, scope: .global).model
                return (WorkspaceModel(both), try InferenceEncoder(model: both).encoderLinearBytes, both.save)
            },
            Variant(name: "unstructured 90% (compact file, dense kernel)", timed: true) {
                let sparse = try XLMRModel(config: c, head: model.head)
                sparse.compute = compute
                sparse.parameters.copy(from: model.parameters)
                let tensors = MagnitudePruning.prunableTensors(of: sparse)
                try MagnitudePruning.prune(sparse, sparsity: 0.9, scope: .global, tensors: tensors)
                return (WorkspaceModel(sparse), Self.compactLinearBytes(sparse, tensors), { _ = try SparseCheckpoint.save(sparse, to: $0) })
            },
            Variant(name: "unstructured 90% + embeddings and classifier (compact file)", timed: false) {
                let sparse = try XLMRModel(config: c, head: model.head)
                sparse.compute = compute
                sparse.parameters.copy(from: model.parameters)
                try MagnitudePruning.prune(sparse, sparsity: 0.9, scope: .global,
                                           tensors: MagnitudePruning.prunableTensors(of: sparse, embeddings: true, classifier: true))
                return (WorkspaceModel(sparse), Self.compactLinearBytes(sparse, MagnitudePruning.prunableTensors(of: sparse)),
                        { _ = try SparseCheckpoint.save(sparse, to: $0) })
            },
            Variant(name: "dynamic int8", timed: true, build: quantized(QuantizationConfig(scheme: .dynamic))),
            Variant(name: "dynamic int8, per-call gemm_u8s8s32", timed: true) {
                let m = try Quantizer.quantize(model: model, config: QuantizationConfig(scheme: .dynamic))
                for case let k as Int8Linear in m.kernels.values { k.usesPackedGemm = false }
                return (m, m.encoder.encoderLinearBytes, m.save)
            },
            Variant(name: "dynamic int8 + int8 embeddings", timed: false, build: quantized(QuantizationConfig(scheme: .dynamic, embeddings: true))),
            Variant(name: "llm-int8 (threshold 6)", timed: true) {
                let m = try Quantizer.quantize(model: model, config: QuantizationConfig(scheme: .llmInt8, threshold: 6))
                return (m, m.encoder.encoderLinearBytes, m.save)
            },
            Variant(name: "static int8 (min-max)", timed: true, build: quantized(QuantizationConfig(scheme: .staticInt8))),
            Variant(name: "int4 weight-only (group 128)", timed: false, build: quantized(QuantizationConfig(scheme: .int4))),
            Variant(name: "int4 + int8 embeddings", timed: false, build: quantized(QuantizationConfig(scheme: .int4, embeddings: true))),
        ]
        var rows: [Row] = []
        var outlierFraction: Double? = nil
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("smaller-bench-compress-\(ProcessInfo.processInfo.processIdentifier)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let probe = InferenceTiming.batch(1, tokens: tokens, vocab: c.vocabSize, seed: 99)
        let reference = try model.logits(probe)
        let referenceScale = Double(reference.map(abs).max() ?? 1)
        var models: [TokenLogitsModel?] = []
        for v in variants {
            let built = try v.build()
            let probeLogits = try built.model.logits(probe)
            let logitsError = Double(zip(probeLogits, reference).map { abs($0 - $1) }.max() ?? 0) / referenceScale
            try? FileManager.default.removeItem(at: scratch)
            try built.save(scratch)
            let bytes = InferenceTiming.bytesOnDisk(scratch)
            models.append(v.timed ? built.model : nil)
            rows.append(Row(name: v.name, timing: nil, bytes: bytes, encoderLinearBytes: built.encoderLinearBytes,
                            logitsRelativeError: logitsError, note: nil))
        }
        // Timing interleaves the variants, one call each per round, so load that drifts on a shared machine hits
        // every variant alike (measured one after another, the ratios swung 0.3–2.9× between runs).
        let one = InferenceTiming.batch(1, tokens: tokens, vocab: c.vocabSize), many = InferenceTiming.batch(32, tokens: tokens, vocab: c.vocabSize)
        let timed = models.indices.filter { models[$0] != nil }
        var b1 = [[Double]](repeating: [], count: models.count), b32 = b1
        for i in timed { for _ in 0..<2 { _ = try models[i]!.logits(one) }; _ = try models[i]!.logits(many) }
        for _ in 0..<repeats { for i in timed { b1[i] += try InferenceTiming.times(warmup: 0, repeats: 1) { _ = try models[i]!.logits(one) } } }
        if !json { printErr("batch 1 done") }
        for _ in 0..<batchRepeats { for i in timed { b32[i] += try InferenceTiming.times(warmup: 0, repeats: 1) { _ = try models[i]!.logits(many) } } }
        for i in timed {
            let (a, b) = (b1[i].sorted(), b32[i].sorted())
            rows[i].timing = InferenceTiming.Result(b1P50Ms: InferenceTiming.percentile(a, 0.5), b1P95Ms: InferenceTiming.percentile(a, 0.95),
                                                    b32MedianMs: InferenceTiming.percentile(b, 0.5), b32P95Ms: InferenceTiming.percentile(b, 0.95))
            if let q = models[i] as? QuantizedModel {
                // Over every mixed kernel of the model and every call of the timing runs.
                let ks = q.kernels.values.compactMap { $0 as? MixedInt8Linear }
                if !ks.isEmpty {
                    let o = ks.reduce(0) { $0 + $1.outlierColumns }, s = ks.reduce(0) { $0 + $1.columnsSeen }
                    outlierFraction = s > 0 ? Double(o) / Double(s) : 0
                    rows[i].note = String(format: "outlier columns %.3f%% of linear inputs", 100 * outlierFraction!)
                }
            }
        }
        let fp32Encoder = rows.indices.first { rows[$0].name == MachineTargets.fp32Row }.flatMap { models[$0] as? InferenceEncoder }
        let targets = try fp32Encoder.flatMap {
            try MachineTargets.measure(config: c, tokens: tokens, threads: threads, repeats: repeats, batchRepeats: batchRepeats,
                                       rows: rows, encoder: $0, encoders: models.map { ($0 as? QuantizedModel)?.encoder })
        }
        report(rows, outlierFraction: outlierFraction, targets: targets)
    }

    func report(_ rows: [Row], outlierFraction: Double?, targets: MachineTargets?) {
        let reference = rows[0]
        let refTiming = reference.timing!
        if json {
            struct Report: Codable {
                var config: String; var threads: Int; var isa: String; var oneDNN: String; var tokens: Int
                var rows: [Row]; var outlierFraction: Double?; var targets: MachineTargets?
            }
            let r = Report(config: config, threads: threads, isa: ComputeInfo.isa, oneDNN: ComputeInfo.oneDNNVersion, tokens: tokens,
                           rows: rows, outlierFraction: outlierFraction, targets: targets)
            print((try? JSONWriter.text(r)) ?? "")
            return
        }
        print("smaller bench compress --config \(config)  (threads \(threads), oneDNN \(ComputeInfo.oneDNNVersion) \(ComputeInfo.isa), T\(tokens); ratios vs \(reference.name))")
        func pad(_ s: String, _ n: Int) -> String { s.padding(toLength: n, withPad: " ", startingAt: 0) }
        print(pad("variant", 32) + "  b1 p50 ms  b1 p95 ms  b1 ×fp32   b32 ms   sent/s  b32 ×fp32")
        for r in rows {
            guard let t = r.timing else { continue }
            print(pad(r.name, 32) + String(format: " %10.1f %10.1f %9.2f %8.0f %8.1f %10.2f", t.b1P50Ms, t.b1P95Ms,
                                           refTiming.b1P50Ms / t.b1P50Ms, t.b32MedianMs, t.throughput, t.throughput / refTiming.throughput)
                  + (r.note.map { "   (\($0))" } ?? ""))
        }
        print(pad("variant", 32) + "  bytes on disk  ×fp32   encoder linear bytes  ×fp32   logits rel. error")
        for r in rows where r.name != "fp32 XLMRModel.forward" {
            print(pad(r.name, 32) + String(format: " %14d %6.1f%% %21d %6.1f%% %18.2e", r.bytes, 100 * Double(r.bytes) / Double(reference.bytes),
                                           r.encoderLinearBytes, 100 * Double(r.encoderLinearBytes) / Double(reference.encoderLinearBytes),
                                           r.logitsRelativeError))
        }
        targets?.print()
    }
}
