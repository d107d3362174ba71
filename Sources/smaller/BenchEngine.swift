// `smaller bench engine`: training-step time, batch-1 latency and batch-32 throughput of the engine, with
// achieved GFLOP/s next to this machine's measured sgemm peak. Release build; medians and p95 after warm-up.
import ArgumentParser
import Experiment
import Foundation
import TensorCore
import Training
import Transformer

struct BenchEngine: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Time a training step (B32×T128, fwd+bwd+AdamW) and inference (B1, B32) of the engine.")

    @Option(help: "small (4×256, FFN 1024, vocab 8000) or afriberta-small (4×768, FFN 3072, vocab 70k).")
    var config: String = "small"
    @Option(help: "Timed repeats per measurement (after warm-up).") var repeats: Int = 10
    @Option(help: "Warm-up runs per measurement.") var warmup: Int = 2
    @Option(help: "Compute threads (GEMM split, parts pool, oneDNN).") var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    @Flag(help: "Print one JSON object instead of a table.") var json = false
    @Flag(help: "Skip the training-step measurements.") var inferenceOnly = false
    @Flag(help: "Time inference at batch 1 only (skip batch 32).") var batch1Only = false
    @Flag(help: ArgumentHelp("Serve timed batch-1 inference passes: print `ready`, then run one pass per line read on stdin and print its milliseconds.",
                             discussion: "For Tests/Reference/bench_torch.py --paired, which interleaves these with PyTorch's passes."))
    var serve = false
    @Option(help: "With --serve: the inference path (model, encoder, packed or split).") var servePath: String = "split"
    @Option(help: "Microseconds the split path's threads spin between hand-overs before blocking (default: built-in).")
    var spinUs: Int?
    @Option(help: "The GEMM kernel for the whole run: own (CGemm), oneDNN (matmul primitives) or auto (measured per shape class, the default; SMALLER_GEMM sets it too).")
    var gemm: String?
    @Option(help: "How a oneDNN product uses the threads: pool (one single-threaded primitive per thread of ours, the default) or openMP.")
    var onednnThreading: String = FloatMatmul.Threading.pool.rawValue
    @Flag(help: "Split the training step and the inference forward by phase (GEMM, attention, softmax, GELU, …) instead.")
    var profile = false

    func validate() throws {
        guard ["small", "afriberta-small"].contains(config) else { throw ValidationError("--config must be small or afriberta-small") }
        guard repeats >= 1, warmup >= 0, threads >= 1 else { throw ValidationError("--repeats and --threads must be >= 1") }
        if let gemm { _ = try GemmSetup.parse(gemm) }
        guard FloatMatmul.Threading(rawValue: onednnThreading) != nil else { throw ValidationError("--onednn-threading must be pool or openMP") }
        guard Self.servePaths.contains(servePath) else { throw ValidationError("--serve-path must be one of \(Self.servePaths.joined(separator: ", ")), got \(servePath)") }
    }

    struct Stat: Codable { var median_ms: Double; var p95_ms: Double; var gflops: Double }

    static func time(_ warmup: Int, _ repeats: Int, flops: Double, _ body: () throws -> Void) rethrows -> Stat {
        for _ in 0..<warmup { try body() }
        var ms: [Double] = []
        for _ in 0..<repeats {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try body()
            ms.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
        ms.sort()
        let median = ms.count % 2 == 1 ? ms[ms.count / 2] : (ms[ms.count / 2 - 1] + ms[ms.count / 2]) / 2
        let p95 = ms[min(ms.count - 1, Int((Double(ms.count) * 0.95).rounded(.up)) - 1)]
        return Stat(median_ms: median, p95_ms: p95, gflops: flops / (median / 1e3) / 1e9)
    }

    /// Model FLOPs of a forward pass over B·T tokens with the head on `headRows` rows (multiply-add = 2).
    static func forwardFlops(_ c: XLMRConfig, B: Int, T: Int, headRows: Int, headOutputs: Int, mlm: Bool) -> Double {
        let C = Double(c.hiddenSize), F = Double(c.intermediateSize), N = Double(B * T)
        let perLayer = 2 * N * (4 * C * C + 2 * C * F) + 2 * 2 * Double(B) * Double(T) * Double(T) * C
        let head = mlm ? 2 * Double(headRows) * (C * C + C * Double(headOutputs)) : 2 * N * C * Double(headOutputs)
        return Double(c.numHiddenLayers) * perLayer + head
    }

    static let servePaths = ["model", "encoder", "packed", "split"]

    /// Batch × T token ids as the bench uses them: seeded, <s> first, </s> last, no padding.
    static func ids(_ batch: Int, tokens T: Int, vocab: Int) -> TokenBatch {
        var r = Xoshiro256(seed: 2)
        var v = (0..<(batch * T)).map { _ in Int32(4 + r.below(vocab - 5)) }
        for i in 0..<batch { v[i * T] = 0; v[i * T + T - 1] = 2 }
        return TokenBatch(batch: batch, tokens: T, ids: v)
    }

    /// `--serve`: one untimed-warm-up batch-1 × 128 pass per `warmup`, then `ready`, then per stdin line one timed
    /// pass whose milliseconds are printed on their own line (flushed); `q` or end of input stops.
    func serveLoop(_ c: XLMRConfig) throws {
        let classifier = try XLMRModel(config: c, head: .tokenClassification(labels: 9))
        classifier.compute = ComputeContext(threads: threads)
        classifier.initializeWeights(seed: 1)
        let batch = Self.ids(1, tokens: 128, vocab: c.vocabSize)
        var rng = Xoshiro256(seed: 1)
        let pass: () throws -> Void
        switch servePath {
        case "model":
            let w = Workspace(config: c, head: classifier.head, maxBatch: 1, maxTokens: 128, training: false)
            pass = { _ = try classifier.forward(batch, workspace: w, training: false, rng: &rng) }
        case "encoder": let e = try InferenceEncoder(model: classifier); pass = { _ = try e.forward(batch) }
        case "packed": let e = try InferenceEncoder.packed(model: classifier); pass = { _ = try e.forward(batch) }
        default: let e = try InferenceEncoder.split(model: classifier, parts: threads); pass = { _ = try e.forward(batch) }
        }
        for _ in 0..<max(warmup, 1) { try pass() }
        print("ready"); fflush(nil)
        while let line = readLine(), !line.hasPrefix("q") {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try pass()
            print(String(format: "%.4f", Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)); fflush(nil)
        }
    }

    /// Each GEMM shape of a training step of `c` at M = B·T rows (forward x·Wᵀ, backward dY·W and dYᵀ·X for the
    /// attention and FFN-in linears), timed with CGemm and with oneDNN's sgemm in the same process.
    static func gemmShapes(_ c: XLMRConfig, rows M: Int, threads: Int, warmup: Int, repeats: Int) -> [String: Stat] {
        guard GemmKernel.ownAvailable else { return [:] }
        let saved = GemmChoice.policy
        defer { GemmChoice.policy = saved }
        let C = c.hiddenSize, F = c.intermediateSize
        let shapes: [(String, Transpose, Transpose, Int, Int, Int)] = [
            ("fwd_\(M)x\(C)x\(C)_NT", .none, .transposed, M, C, C), ("fwd_\(M)x\(F)x\(C)_NT", .none, .transposed, M, F, C),
            ("dx_\(M)x\(C)x\(F)_NN", .none, .none, M, C, F), ("dw_\(F)x\(C)x\(M)_TN", .transposed, .none, F, C, M),
        ]
        var out: [String: Stat] = [:]
        var rng = Xoshiro256(seed: 9)
        for (name, ta, tb, m, n, k) in shapes {
            let a = FloatBuffer(count: m * k), b = FloatBuffer(count: k * n), y = FloatBuffer(count: m * n)
            rng.fillNormal(a.buffer, std: 1); rng.fillNormal(b.buffer, std: 1)
            for kernel in [GemmPolicy.own, .oneDNN] {
                GemmChoice.policy = kernel
                out["gemm_\(name)_\(kernel.rawValue)"] = time(max(warmup, 1), repeats, flops: 2 * Double(m * n * k)) {
                    sgemm(ta, tb, m: m, n: n, k: k, a: a.pointer, lda: ta == .none ? k : m, b: b.pointer,
                          ldb: tb == .none ? n : k, c: y.pointer, ldc: n, threads: threads)
                }
            }
        }
        return out
    }

    func run() throws {
        ComputeContext(threads: threads).activate()
        if let gemm { GemmSetup.configure(forced: GemmPolicy(parsing: gemm)!) }
        FloatMatmul.threading = FloatMatmul.Threading(rawValue: onednnThreading)!
        if let spinUs { Parallel.spinNanoseconds = UInt64(max(spinUs, 0)) * 1000 }
        var c: XLMRConfig = config == "small" ? .small() : .afribertaSmall()
        c.hiddenDropoutProb = 0.1; c.attentionProbsDropoutProb = 0.1
        if serve { return try serveLoop(c) }
        if profile { return try profileRun(c) }
        let (B, T) = (32, 128)
        var results: [String: Stat] = [:]
        var rng = Xoshiro256(seed: 1)

        // sgemm peak: 2048³, with the kernel in use and with oneDNN's (the machine's reference).
        let n = 2048
        let a = FloatBuffer(count: n * n), b = FloatBuffer(count: n * n), cc = FloatBuffer(count: n * n)
        rng.fillNormal(a.buffer, std: 1); rng.fillNormal(b.buffer, std: 1)
        let kernel = GemmChoice.policy
        let peaks = kernel == .oneDNN ? [("sgemm_2048", kernel)] : [("sgemm_2048", kernel), ("sgemm_2048_oneDNN", .oneDNN)]
        for (name, k) in peaks {
            GemmChoice.policy = k
            results[name] = Self.time(1, 5, flops: 2 * Double(n * n * n)) {
                sgemm(.none, .none, m: n, n: n, k: n, a: a.pointer, lda: n, b: b.pointer, ldb: n, c: cc.pointer, ldc: n,
                      threads: threads)
            }
        }
        GemmChoice.policy = kernel
        if !inferenceOnly {
            results.merge(Self.gemmShapes(c, rows: B * T, threads: threads, warmup: warmup, repeats: repeats)) { $1 }
        }

        func ids(_ batch: Int) -> TokenBatch { Self.ids(batch, tokens: T, vocab: c.vocabSize) }

        if !inferenceOnly {
            let model = try XLMRModel(config: c, head: .maskedLM)
            model.compute = ComputeContext(threads: threads)
            model.initializeWeights(seed: 1)
            let optimizer = AdamW(model: model)
            for (name, fraction) in [("train_step_mlm15", 0.15), ("train_step_all_rows", 1.0)] {
                var batch = ids(B)
                var labelRng = Xoshiro256(seed: 3)
                batch.labels = batch.ids.map { id in labelRng.uniform() < Float(fraction) ? id : -100 }
                let rows = batch.labels!.filter { $0 != -100 }.count
                let w = Workspace(config: c, head: .maskedLM, maxBatch: B, maxTokens: T, maxHeadRows: rows, training: true)
                let flops = 3 * Self.forwardFlops(c, B: B, T: T, headRows: rows, headOutputs: c.vocabSize, mlm: true)
                results[name] = try Self.time(warmup, repeats, flops: flops) {
                    model.zeroGradients()
                    _ = try model.forward(batch, workspace: w, training: true, rng: &rng)
                    model.backward(workspace: w)
                    GradientClipping.clip(model, maxNorm: 1)
                    optimizer.update(model, lr: 1e-4)
                }
            }
            results["adamw_only"] = Self.time(warmup, repeats, flops: 0) { optimizer.update(model, lr: 1e-4) }
        }

        let classifier = try XLMRModel(config: c, head: .tokenClassification(labels: 9))
        classifier.compute = ComputeContext(threads: threads)
        classifier.initializeWeights(seed: 1)
        for batchSize in batch1Only ? [1] : [1, 32] {
            let batch = ids(batchSize)
            let w = Workspace(config: c, head: classifier.head, maxBatch: batchSize, maxTokens: T, training: false)
            let flops = Self.forwardFlops(c, B: batchSize, T: T, headRows: batchSize * T, headOutputs: 9, mlm: false)
            results["inference_b\(batchSize)"] = try Self.time(warmup, repeats, flops: flops) {
                _ = try classifier.forward(batch, workspace: w, training: false, rng: &rng)
            }
            // The inference path (InferenceEncoder, what evaluation and compressed variants run): fp32 weights as
            // stored, and pre-packed once into oneDNN's GEMM layout (packing happens in the first warm-up run).
            for (suffix, encoder) in [("encoder", try InferenceEncoder(model: classifier)),
                                      ("packed", try InferenceEncoder.packed(model: classifier)),
                                      ("split", try InferenceEncoder.split(model: classifier, parts: threads))] {
                results["inference_b\(batchSize)_\(suffix)"] = try Self.time(max(warmup, 1), repeats, flops: flops) {
                    _ = try encoder.forward(batch)
                }
            }
        }

        if json {
            struct Report: Codable {
                var config: String; var threads: Int; var isa: String; var oneDNN: String; var gemm: String
                var gemm_choice: String; var batch: Int; var tokens: Int
                var results: [String: Stat]
            }
            let report = Report(config: config, threads: threads, isa: ComputeInfo.isa, oneDNN: ComputeInfo.oneDNNVersion,
                                gemm: GemmChoice.policy.rawValue, gemm_choice: GemmChoice.summary, batch: B, tokens: T, results: results)
            print(try JSONWriter.text(report))
        } else {
            print("smaller bench engine --config \(config)  (threads \(threads), GEMM \(GemmChoice.policy.rawValue), oneDNN \(ComputeInfo.oneDNNVersion) \(ComputeInfo.isa), B\(B)×T\(T))")
            print("measurement".padding(toLength: 34, withPad: " ", startingAt: 0) + "   median ms      p95 ms   GFLOP/s")
            for key in results.keys.sorted() {
                let s = results[key]!
                print(key.padding(toLength: 34, withPad: " ", startingAt: 0)
                      + String(format: " %11.2f %11.2f %9.1f", s.median_ms, s.p95_ms, s.gflops))
            }
            let peak = max(results["sgemm_2048"]?.gflops ?? 0, results["sgemm_2048_oneDNN"]?.gflops ?? 0)
            if peak > 0, let step = results["train_step_all_rows"]?.gflops {
                print(String(format: "training step (all rows) reaches %.0f%% of the sgemm peak (the faster of the two 2048³ rows)", 100 * step / peak))
            }
            for key in results.keys.sorted() where key.hasPrefix("gemm_") && key.hasSuffix("_own") {
                let base = key.dropLast(4)
                if let own = results[key], let dnnl = results[base + "_oneDNN"] {
                    print("\(base): CGemm " + String(format: "%.1f GFLOP/s, oneDNN %.1f GFLOP/s, oneDNN ms / CGemm ms %.2f", own.gflops, dnnl.gflops, dnnl.median_ms / own.median_ms))
                }
            }
            print("inference_bN: XLMRModel.forward in evaluation mode; _encoder: InferenceEncoder (fp32); "
                  + "_packed: InferenceEncoder with weights pre-packed for our GEMM; "
                  + "_split: pre-packed and split by output features over the threads, one GEMM thread each"
                  + (GemmChoice.policy == .oneDNN ? " (GEMM: oneDNN, weights not pre-packed)" : ""))
            print("GEMM choice: \(GemmChoice.summary)")
        }
    }
}
