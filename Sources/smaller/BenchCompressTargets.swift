// `bench compress`'s targets relative to the machine (issue #18): int8 can only speed up the linear layers, so
// what an int8 encoder can gain here is bounded by (a) how much faster this machine's int8 GEMM is than its fp32
// GEMM on the model's own linear shapes and (b) the share of the fp32 forward pass those products take (Amdahl),
// as the pass's own StepProbe measures it (`PhaseShares`) in the same process.
// Each int8 variant's speedup is then printed as a fraction of that bound, so a target such as "≥ 85 % of the
// bound" can be judged on any machine (AVX2, AVX-512 VNNI, AMX) from one run.
import Evaluation
import Foundation
import TensorCore
import Transformer

struct MachineTargets: Codable {
    struct Batch: Codable {
        var rows: Int
        /// One pass's encoder linear products (every layer), median ms: fp32 as the fastest fp32 path runs them
        /// (pre-packed CGemm split over the threads), int8 as the int8 kernels run them (u8·s8→s32 only, split over
        /// the threads, no quantization or dequantization).
        var fp32GemmMs: Double, int8GemmMs: Double
        /// fp32GemmMs ÷ int8GemmMs.
        var gemmRatio: Double
        /// The fastest fp32 encoder's forward pass (its timing row), and the share of it in linear products as its
        /// probe measured them (`phases`, watched passes of the same encoder in this process).
        var fp32ForwardMs: Double, linearShare: Double
        /// The watched passes: mean ms and every phase's share (they add up to 1).
        var phases: PhaseShares
        /// The speedup int8 could give if only the products changed: 1 / ((1 − share) + share / ratio).
        var amdahlBound: Double
    }
    struct Variant: Codable {
        var name: String
        /// Speedup over the fastest fp32 row, and that speedup ÷ the batch's bound.
        var b1Speedup: Double, b1OfBound: Double, b32Speedup: Double, b32OfBound: Double
        /// The variant's batch-32 pass by its own probe (int8 encoders only): quantize, the int8 products (`gemm`),
        /// dequantize, and the fp32 work around them.
        var b32Phases: PhaseShares?
    }
    var isa: String, threads: Int
    var batch1: Batch, batch32: Batch
    var variants: [Variant]

    /// The fp32 row the bound is relative to (the fastest fp32 path, as records use).
    static let fp32Row = "fp32 inference encoder, pre-packed (split over threads)"

    /// (N, K) of each encoder layer's products: query/key/value as one (the int8 path fuses them), attention output,
    /// FFN in, FFN out.
    static func linearShapes(_ c: XLMRConfig) -> [(n: Int, k: Int)] {
        (0..<c.numHiddenLayers).flatMap { l -> [(n: Int, k: Int)] in
            let C = c.hiddenSize, W = c.attentionWidth(layer: l), F = c.intermediate(layer: l)
            return [(3 * W, C), (C, W), (F, C), (C, F)]
        }
    }

    /// One batch size's bound: the GEMM ratio on `config`'s linear shapes at `m` rows and the linear share of `phases`.
    static func batch(_ c: XLMRConfig, m: Int, threads: Int, repeats: Int, forwardMs: Double, phases: PhaseShares) -> Batch {
        let (f, q) = gemmTimes(m: m, shapes: linearShapes(c), threads: threads, repeats: repeats)
        let ratio = f / q, share = phases.linearShare
        return Batch(rows: m, fp32GemmMs: f, int8GemmMs: q, gemmRatio: ratio, fp32ForwardMs: forwardMs, linearShare: share,
                     phases: phases, amdahlBound: Amdahl.bound(share: share, ratio: ratio))
    }

    /// Measures the GEMM ratios on `config`'s linear shapes and the linear share of `encoder` (the fp32 row's model)
    /// at batch 1 and 32, and relates `rows`' timings to them; nil without the fp32 row.
    /// `encoders[i]` is row i's inference encoder when it runs on one (its phases are measured at batch 32).
    static func measure(config c: XLMRConfig, tokens: Int, threads: Int, repeats: Int, batchRepeats: Int,
                        rows: [BenchCompress.Row], encoder: InferenceEncoder, encoders: [InferenceEncoder?]) throws -> MachineTargets? {
        guard let fp32 = rows.first(where: { $0.name == fp32Row })?.timing else { return nil }
        func phases(_ size: Int, repeats: Int, of encoder: InferenceEncoder) throws -> PhaseShares {
            let batch = InferenceTiming.batch(size, tokens: tokens, vocab: c.vocabSize)
            defer { encoder.probe = NoStepProbe.shared }
            return try PhaseShares.measure(warmup: 1, repeats: repeats) { probe in
                encoder.probe = probe
                _ = try encoder.forward(batch)
            }
        }
        let b1 = batch(c, m: tokens, threads: threads, repeats: max(5, repeats), forwardMs: fp32.b1P50Ms,
                       phases: try phases(1, repeats: max(5, repeats), of: encoder))
        let b32 = batch(c, m: 32 * tokens, threads: threads, repeats: max(2, batchRepeats), forwardMs: fp32.b32MedianMs,
                        phases: try phases(32, repeats: max(2, batchRepeats), of: encoder))
        let variants = try rows.indices.filter { rows[$0].name.contains("int8") }.compactMap { i -> Variant? in
            guard let t = rows[i].timing else { return nil }
            let s1 = fp32.b1P50Ms / t.b1P50Ms, s32 = fp32.b32MedianMs / t.b32MedianMs
            return Variant(name: rows[i].name, b1Speedup: s1, b1OfBound: s1 / b1.amdahlBound, b32Speedup: s32, b32OfBound: s32 / b32.amdahlBound,
                           b32Phases: try encoders[i].map { try phases(32, repeats: max(2, batchRepeats), of: $0) })
        }
        return MachineTargets(isa: ComputeInfo.isa, threads: threads, batch1: b1, batch32: b32, variants: variants)
    }

    /// Median ms of one pass over `shapes` at m rows, fp32 and int8, the two timed alternately round by round.
    static func gemmTimes(m: Int, shapes: [(n: Int, k: Int)], threads: Int, repeats: Int) -> (fp32: Double, int8: Double) {
        let maxK = shapes.map(\.k).max()!, maxN = shapes.map(\.n).max()!
        let x = FloatBuffer(count: m * maxK), y = FloatBuffer(count: m * maxN)
        for i in 0..<(m * maxK) { x.pointer[i] = Float(i % 17) / 17 - 0.5 }
        let codes = UnsafeMutablePointer<UInt8>.allocate(capacity: m * maxK), acc = UnsafeMutablePointer<Int32>.allocate(capacity: m * maxN)
        defer { codes.deallocate(); acc.deallocate() }
        for i in 0..<(m * maxK) { codes[i] = UInt8(i % Int(int8ActivationMax + 1)) }
        var weights: [(fp32: FloatBuffer, packed: PackedWeights, int8: UnsafeMutablePointer<Int8>, split: Int8SplitGemm)] = []
        defer { for w in weights { w.int8.deallocate() } }
        for (n, k) in shapes {
            let w = FloatBuffer(count: n * k), q = UnsafeMutablePointer<Int8>.allocate(capacity: n * k)
            for i in 0..<(n * k) { w.pointer[i] = Float(i % 13) / 13 - 0.5; q[i] = Int8(i % 255 - 127) }
            weights.append((w, PackedWeights(weight: w.pointer, outFeatures: n, inFeatures: k), q,
                            Int8SplitGemm(weights: q, n: n, k: k, parts: threads, owner: nil)))
        }
        let discard = DiscardEpilogue()
        var f: [Double] = [], q: [Double] = []
        // Round 0 warms up (packing buffers, primitive creation, weight reorders).
        for round in 0...repeats {
            let tf = InferenceTiming.times(warmup: 0, repeats: 1) {
                for w in weights { w.packed.multiply(x.pointer, rows: m, into: y.pointer, threads: threads) }
            }
            let tq = InferenceTiming.times(warmup: 0, repeats: 1) {
                for w in weights { w.split.multiply(m: m, a: codes, acc: acc, epilogue: discard) }
            }
            if round > 0 { f += tf; q += tq }
        }
        return (InferenceTiming.percentile(f.sorted(), 0.5), InferenceTiming.percentile(q.sorted(), 0.5))
    }

    final class DiscardEpilogue: Int8Epilogue {
        func finish(rows: Range<Int>, start: Int, count: Int, acc: UnsafePointer<Int32>) {}
    }

    func print() {
        Swift.print("targets relative to this machine (\(isa), \(threads) threads): int8 ÷ fp32 GEMM on the encoder's linear shapes, "
                    + "the Amdahl bound for int8, speedups against '\(Self.fp32Row)'")
        Swift.print("batch    rows  fp32 GEMM ms  int8 GEMM ms  GEMM ×  fp32 fwd ms  linear share  bound ×")
        for (label, b) in [("b1", batch1), ("b32", batch32)] {
            Swift.print(label.padding(toLength: 5, withPad: " ", startingAt: 0)
                        + String(format: " %7d %13.2f %13.2f %7.2f %12.1f %12.1f%% %8.2f", b.rows, b.fp32GemmMs, b.int8GemmMs, b.gemmRatio,
                                 b.fp32ForwardMs, 100 * b.linearShare, b.amdahlBound))
        }
        for (label, b) in [("b1", batch1), ("b32", batch32)] {
            Swift.print("\(label) fp32 pass by its probe (\(String(format: "%.1f", b.phases.passMs)) ms a pass; shares add up to 100 %): "
                        + b.phases.summary)
        }
        Swift.print("variant".padding(toLength: 40, withPad: " ", startingAt: 0) + "  b1 ×fp32  of bound  b32 ×fp32  of bound")
        for v in variants {
            Swift.print(v.name.padding(toLength: 40, withPad: " ", startingAt: 0)
                        + String(format: " %9.2f %8.0f%% %10.2f %8.0f%%", v.b1Speedup, 100 * v.b1OfBound, v.b32Speedup, 100 * v.b32OfBound))
        }
        printInt8Phases()
    }

    /// Each int8 variant's batch-32 pass split by its probe: ms a pass (share of the pass).
    func printInt8Phases() {
        let split = variants.compactMap { v in v.b32Phases.map { (v.name, $0) } }
        if split.isEmpty { return }
        Swift.print("int8 passes at b32 by their probe (ms a pass, share): quantize = ranges + codes (LLM.int8(): + outlier search), "
                    + "int8 GEMM = the u8·s8 products with their hand-overs (LLM.int8(): + fp32 outlier product), "
                    + "dequantize = the epilogues, fp32 rest = attention, LayerNorm, GELU, embeddings, the rest")
        Swift.print("variant".padding(toLength: 40, withPad: " ", startingAt: 0)
                    + "  pass ms       quantize      int8 GEMM     dequantize      fp32 rest")
        for (name, p) in split {
            let own = ["\(StepPhase.quantize)", "\(StepPhase.gemm)", "\(StepPhase.dequantize)"]
            let parts = own.map { p.share($0) } + [1 - own.reduce(0) { $0 + p.share($1) }]
            Swift.print(name.padding(toLength: 40, withPad: " ", startingAt: 0) + String(format: " %8.1f", p.passMs)
                        + parts.map { String(format: " %6.1f (%4.1f%%)", $0 * p.passMs, 100 * $0) }.joined())
        }
        for (name, p) in split { Swift.print("\(name) by every phase: " + p.summary) }
    }
}

extension BenchEngine {
    /// The fp32 side of the int8 bound for `--profile`'s inference rows (the last profiles, batch 32 then 1): each
    /// row's linear share as its probe measured it, this machine's int8 ÷ fp32 GEMM ratio on the config's encoder
    /// shapes at that row's B·T, and the Amdahl bound they give (what `bench compress` judges int8 variants against).
    func printInt8Bounds(_ c: XLMRConfig, tokens: Int, profiles: [PassProfile]) {
        let batches = batch1Only ? [1] : [32, 1]
        print("int8 bound for the inference rows (linear share from the probe above, GEMM ratio on the encoder's linear shapes):")
        for (b, p) in zip(batches, profiles.suffix(batches.count)) {
            let share = p.rows.first { $0.phase == "\(StepPhase.gemm)" }?.share ?? 0
            let (f, q) = MachineTargets.gemmTimes(m: b * tokens, shapes: MachineTargets.linearShapes(c), threads: threads,
                                                  repeats: max(2, repeats))
            print(String(format: "  B%-3d linear share %5.1f%%  fp32 GEMM %8.2f ms  int8 GEMM %8.2f ms  GEMM × %5.2f  bound × %5.2f",
                         b, 100 * share, f, q, f / q, Amdahl.bound(share: share, ratio: f / q)))
        }
    }
}
