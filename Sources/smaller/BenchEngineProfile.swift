// `smaller bench engine --profile`: where a training step's and an inference pass's time goes (GEMM, attention,
// softmax, GELU, LayerNorm, dropout, cross-entropy, optimizer, the rest), timed through the model's StepProbe,
// with the GEMMs' GFLOP/s next to this machine's sgemm peak measured in the same run.
import Evaluation
import Experiment
import Foundation
import TensorCore
import Training
import Transformer

/// One profiled measurement: per-phase and whole-pass time over `passes` passes, and the FLOPs the GEMMs did.
struct PassProfile: Codable {
    struct Row: Codable { var phase: String; var ms: Double; var share: Double; var gflops: Double? }
    var name: String
    var passes: Int
    var step_ms: Double
    var rows: [Row]
    var gemm_percent_of_peak: Double?
    var attention_percent_of_peak: Double?

    /// The phases named by the probe, then `rest` = the whole pass minus them (the probe's `.other` stretches and
    /// the time between the pass's end and its last probe call), so the shares add up to the measured pass.
    init(name: String, passes: Int, totalNanos: UInt64, timer: StepTimer, gemmFlops: Double, attentionFlops: Double) {
        self.name = name; self.passes = passes
        let total = Double(totalNanos) / Double(passes) / 1e6
        step_ms = total
        var named = 0.0
        rows = []
        for phase in StepPhase.allCases where phase != .other {
            let ms = Double(timer.nanos[phase.rawValue]) / Double(passes) / 1e6
            guard ms > 0 else { continue }
            named += ms
            let flops = phase == .gemm ? gemmFlops : phase == .attention ? attentionFlops : 0
            rows.append(Row(phase: "\(phase)", ms: ms, share: ms / total, gflops: flops > 0 ? flops / (ms / 1e3) / 1e9 : nil))
        }
        rows.append(Row(phase: "rest", ms: total - named, share: (total - named) / total, gflops: nil))
        rows.append(Row(phase: "step", ms: total, share: 1, gflops: (gemmFlops + attentionFlops) / (total / 1e3) / 1e9))
    }

    /// The GEMMs' GFLOP/s as a share of `peak` (the machine's, measured in the same run).
    mutating func setPeak(_ peak: Double) {
        guard peak > 0 else { return }
        gemm_percent_of_peak = rows.first { $0.phase == "gemm" }?.gflops.map { 100 * $0 / peak }
        attention_percent_of_peak = rows.first { $0.phase == "attention" }?.gflops.map { 100 * $0 / peak }
    }

    var table: String {
        var lines = ["\(name) (mean of \(passes) passes)", "  phase              ms    share   GFLOP/s"]
        for r in rows {
            lines.append("  " + r.phase.padding(toLength: 13, withPad: " ", startingAt: 0)
                         + String(format: " %9.2f %7.1f%%", r.ms, 100 * r.share) + (r.gflops.map { String(format: " %9.1f", $0) } ?? ""))
        }
        if let g = gemm_percent_of_peak, let a = attention_percent_of_peak {
            lines.append(String(format: "  linear GEMMs at %.0f%% of the sgemm peak, attention GEMMs at %.0f%%", g, a))
        }
        return lines.joined(separator: "\n")
    }
}

extension BenchEngine {
    /// The FLOPs of the linear-layer GEMMs and of the batched attention GEMMs in one forward pass over B·T tokens
    /// (backward: twice each).
    static func gemmFlopsSplit(_ c: XLMRConfig, B: Int, T: Int, headRows: Int, headOutputs: Int, mlm: Bool)
        -> (linear: Double, attention: Double) {
        let all = forwardFlops(c, B: B, T: T, headRows: headRows, headOutputs: headOutputs, mlm: mlm)
        let attention = (0..<c.numHiddenLayers).reduce(0.0) { sum, l in
            sum + 2 * 2 * Double(B) * Double(T) * Double(T) * Double(c.heads(layer: l) * c.headSize)
        }
        return (all - attention, attention)
    }

    /// Runs `pass` `warmup` times unwatched, then `repeats` times with a StepTimer injected into `model` and handed
    /// to `pass` (for the phases the caller runs outside the model, such as the optimizer).
    static func profile(_ name: String, model: XLMRModel, warmup: Int, repeats: Int, flops: (linear: Double, attention: Double),
                        _ pass: (StepProbe) throws -> Void) rethrows -> PassProfile {
        for _ in 0..<warmup { try pass(NoStepProbe.shared) }
        let timer = StepTimer()
        model.probe = timer
        defer { model.probe = NoStepProbe.shared }
        var total: UInt64 = 0
        for _ in 0..<repeats {
            let t0 = DispatchTime.now().uptimeNanoseconds
            timer.start()
            try pass(timer)
            total &+= DispatchTime.now().uptimeNanoseconds &- t0
        }
        return PassProfile(name: name, passes: repeats, totalNanos: total, timer: timer, gemmFlops: flops.linear,
                           attentionFlops: flops.attention)
    }

    /// `--profile`: the sgemm peak, then the training step (MLM, all rows labelled) and the inference forward
    /// (token classification, batch 32 and 1) split by phase.
    func profileRun(_ c: XLMRConfig) throws {
        let (B, T) = (32, 128)
        var rng = Xoshiro256(seed: 1)
        // The peak: a 2048³ sgemm with the kernel in use, and the model's widest forward GEMM shape, timed before the
        // profiles and again after them (on a shared machine the load moves; the faster of the two counts).
        var peaks: [String: Stat] = [:]
        func measurePeaks(_ suffix: String) {
            for (name, m, n, k) in [("sgemm_2048", 2048, 2048, 2048), ("sgemm_\(B * T)x\(c.intermediateSize)x\(c.hiddenSize)_NT",
                                                                          B * T, c.intermediateSize, c.hiddenSize)] {
                let a = FloatBuffer(count: m * k), b = FloatBuffer(count: k * n), y = FloatBuffer(count: m * n)
                rng.fillNormal(a.buffer, std: 1); rng.fillNormal(b.buffer, std: 1)
                let transB: Transpose = m == 2048 ? .none : .transposed
                peaks[name + suffix] = Self.time(1, 5, flops: 2 * Double(m) * Double(n) * Double(k)) {
                    sgemm(.none, transB, m: m, n: n, k: k, a: a.pointer, lda: k, b: b.pointer, ldb: transB == .none ? n : k,
                          c: y.pointer, ldc: n, threads: threads)
                }
            }
        }
        measurePeaks("_before")
        var profiles: [PassProfile] = []

        if !inferenceOnly {
            let model = try XLMRModel(config: c, head: .maskedLM)
            model.compute = ComputeContext(threads: threads)
            model.initializeWeights(seed: 1)
            let optimizer = AdamW(model: model)
            var batch = Self.ids(B, tokens: T, vocab: c.vocabSize)
            batch.labels = batch.ids
            let w = Workspace(config: c, head: .maskedLM, maxBatch: B, maxTokens: T, maxHeadRows: B * T, training: true)
            let forward = Self.gemmFlopsSplit(c, B: B, T: T, headRows: B * T, headOutputs: c.vocabSize, mlm: true)
            profiles.append(try Self.profile("training step, MLM on all rows, B\(B)×T\(T)", model: model, warmup: warmup,
                                             repeats: repeats, flops: (3 * forward.linear, 3 * forward.attention)) { probe in
                model.zeroGradients()
                probe.phaseEnded(.other)
                _ = try model.forward(batch, workspace: w, training: true, rng: &rng)
                model.backward(workspace: w)
                GradientClipping.clip(model, maxNorm: 1)
                optimizer.update(model, lr: 1e-4)
                probe.phaseEnded(.optimizer)
            })
        }
        let classifier = try XLMRModel(config: c, head: .tokenClassification(labels: 9))
        classifier.compute = ComputeContext(threads: threads)
        classifier.initializeWeights(seed: 1)
        for batchSize in batch1Only ? [1] : [32, 1] {
            let batch = Self.ids(batchSize, tokens: T, vocab: c.vocabSize)
            let w = Workspace(config: c, head: classifier.head, maxBatch: batchSize, maxTokens: T, training: false)
            let flops = Self.gemmFlopsSplit(c, B: batchSize, T: T, headRows: batchSize * T, headOutputs: 9, mlm: false)
            profiles.append(try Self.profile("inference forward (XLMRModel, evaluation mode), B\(batchSize)×T\(T)",
                                             model: classifier, warmup: max(warmup, 1), repeats: repeats, flops: flops) { _ in
                _ = try classifier.forward(batch, workspace: w, training: false, rng: &rng)
            })
        }

        measurePeaks("_after")
        let peak = peaks.values.map(\.gflops).max() ?? 0
        for i in profiles.indices { profiles[i].setPeak(peak) }

        if json {
            struct Report: Codable {
                var config: String; var threads: Int; var isa: String; var gemm: String
                var peaks: [String: Stat]; var profiles: [PassProfile]
            }
            print(try JSONWriter.text(Report(config: config, threads: threads, isa: ComputeInfo.isa, gemm: GemmChoice.policy.rawValue,
                                             peaks: peaks, profiles: profiles)))
            return
        }
        print("smaller bench engine --profile --config \(config)  (threads \(threads), GEMM \(GemmChoice.policy.rawValue), oneDNN \(ComputeInfo.oneDNNVersion) \(ComputeInfo.isa))")
        for key in peaks.keys.sorted() {
            print(key.padding(toLength: 30, withPad: " ", startingAt: 0) + String(format: " %9.2f ms %9.1f GFLOP/s", peaks[key]!.median_ms, peaks[key]!.gflops))
        }
        print(String(format: "sgemm peak (the fastest of these, before and after the profiles): %.1f GFLOP/s", peak))
        for p in profiles { print(p.table) }
        printInt8Bounds(c, tokens: T, profiles: profiles)
        print("GEMM choice: \(GemmChoice.summary)")
        print("rest = the measured pass minus the named phases (embedding gathers, bias adds and sums, residual adds, copies, checks)")
    }
}
