// Several int8 linear layers over the same input (the attention's query, key and value) in one pass: the
// activations are quantized once and multiplied by the concatenated weights in one GEMM, then each layer's
// slice of the accumulator is dequantized into its own output. Bit for bit what the separate kernels compute
// (same codes, same exact integer products, same dequantization expression).
import TensorCore
import Transformer

package final class Int8FusedLinear: FusedLinearKernels, Int8Epilogue, PhaseReporting {
    package let parts: [Int8Linear]
    package let inFeatures: Int, outFeatures: Int    /// outFeatures: the sum over the parts
    private let activations: ActivationQuantization?
    private let weights: Int8Weights                  /// (Σ out, in), the parts' codes stacked
    private let scale: [Float], rowSum: [Int32], bias: [Float], offsets: [Int]
    private let scratch = Int8Scratch()
    /// Threads, as the first part's when this kernel was made (`Int8Linear.parts`).
    private let threads: Int
    private lazy var gemm = Int8SplitGemm(weights: weights.q, n: outFeatures, k: inFeatures, parts: threads, owner: weights)
    /// The outputs of the call in progress, for `finish`.
    private var outputs: [UnsafeMutablePointer<Float>] = []
    /// LLM.int8()'s outlier products of the call in progress, one per layer (`MixedInt8FusedLinear`), or none.
    private var outliers: [OutlierAddend] = []
    /// As `Int8Linear.probe` (no GELU here).
    package var probe: StepProbe = NoStepProbe.shared { didSet { for p in parts { p.probe = probe } } }

    /// nil unless every part reads the same input width and quantizes activations the same way (all dynamic, or
    /// the same static range).
    package init?(_ parts: [Int8Linear]) {
        guard let first = parts.first, parts.count >= 2,
              parts.allSatisfy({ $0.inFeatures == first.inFeatures && $0.activations == first.activations })
        else { return nil }
        self.parts = parts
        inFeatures = first.inFeatures; outFeatures = parts.reduce(0) { $0 + $1.outFeatures }; activations = first.activations
        threads = first.parts
        weights = Int8Weights(q: parts.flatMap(\.weights.values), scale: parts.flatMap(\.weights.scale),
                              outFeatures: outFeatures, inFeatures: inFeatures)
        scale = weights.scale; rowSum = weights.rowSum; bias = parts.flatMap(\.bias)
        offsets = parts.reduce(into: [0]) { $0.append($0.last! + $1.outFeatures) }
    }

    package func apply(_ x: UnsafePointer<Float>, rows: Int, into outputs: [UnsafeMutablePointer<Float>]) {
        apply(x, rows: rows, into: outputs, zeroing: [])
    }

    /// As `apply`, with columns `zeroing` of x taken as 0 (`Int8Scratch.quantize`).
    func apply(_ x: UnsafePointer<Float>, rows: Int, into outputs: [UnsafeMutablePointer<Float>], zeroing: [Int],
               outliers: [OutlierAddend] = []) {
        precondition(outputs.count == parts.count, "Int8FusedLinear: \(outputs.count) outputs for \(parts.count) layers")
        // `bench compress`'s reference row switches its kernels to `dnnl_gemm_u8s8s32`: then run them one by one.
        if !parts.allSatisfy(\.usesPackedGemm) {
            for (p, out) in outputs.enumerated() {
                parts[p].apply(x, rows: rows, into: out, gelu: false, zeroing: zeroing, outliers: outliers.isEmpty ? nil : outliers[p])
            }
            return
        }
        let K = inFeatures, N = outFeatures
        scratch.reserve(rows: rows, codes: rows * K, acc: rows * N)
        scratch.quantize(x, rows: rows, K, fixed: activations, parts: threads, zeroing: zeroing)
        let timing = !(probe is NoStepProbe)
        if timing { probe.phaseEnded(.quantize) }
        self.outputs = outputs; self.outliers = outliers
        defer { self.outputs = []; self.outliers = [] }
        gemm.timesEpilogues = timing
        gemm.multiply(m: rows, a: scratch.codes, acc: scratch.acc, epilogue: self)
        if timing { probe.movedEpilogues(gemm.wallNanos(gemm.epilogueNanos), gelu: 0) }
    }

    /// Dequantizes stacked output columns start ..< start + count (one thread's slice, which may span layers)
    /// into each layer's own output.
    package func finish(rows: Range<Int>, start: Int, count: Int, acc: UnsafePointer<Int32>) {
        let ranges = scratch.ranges
        scale.withUnsafeBufferPointer { sw in
            rowSum.withUnsafeBufferPointer { rs in
                bias.withUnsafeBufferPointer { b in
                    for (p, out) in outputs.enumerated() {
                        let lo = max(start, offsets[p]), hi = min(start + count, offsets[p + 1]), n = offsets[p + 1] - offsets[p]
                        if hi <= lo { continue }
                        for i in rows {
                            Int8Math.dequantizeRow(acc + (i - rows.lowerBound) * count + (lo - start), ranges[i], outFeatures: hi - lo, wScale: sw.baseAddress! + lo,
                                                   rowSum: rs.baseAddress! + lo, bias: b.baseAddress! + lo,
                                                   into: out + i * n + (lo - offsets[p]))
                            if !outliers.isEmpty {
                                outliers[p].add(row: i, columns: lo - offsets[p], hi - lo, into: out + i * n + (lo - offsets[p]))
                            }
                        }
                    }
                }
            }
        }
    }
}

extension Int8Linear: LinearFusing {
    package func fused(with others: [LinearKernel]) -> FusedLinearKernels? {
        let rest = others.compactMap { $0 as? Int8Linear }
        guard rest.count == others.count else { return nil }
        return Int8FusedLinear([self] + rest)
    }
}

/// LLM.int8() over a shared input: the outlier columns found once, the regular part through one fused int8 GEMM,
/// each layer's fp32 outlier product added in its epilogue, exactly as the separate `MixedInt8Linear`s compute it.
package final class MixedInt8FusedLinear: FusedLinearKernels, PhaseReporting {
    package let parts: [MixedInt8Linear]
    private let base: Int8FusedLinear
    private let split = OutlierSplit()

    /// nil unless the parts share the threshold and their int8 bases fuse.
    package init?(_ parts: [MixedInt8Linear]) {
        guard let first = parts.first, parts.allSatisfy({ $0.threshold == first.threshold }),
              let base = Int8FusedLinear(parts.map(\.base)) else { return nil }
        self.parts = parts; self.base = base
    }

    /// As `MixedInt8Linear.probe`.
    package var probe: StepProbe {
        get { base.probe }
        set { base.probe = newValue }
    }

    package func apply(_ x: UnsafePointer<Float>, rows: Int, into outputs: [UnsafeMutablePointer<Float>]) {
        precondition(outputs.count == parts.count, "MixedInt8FusedLinear: \(outputs.count) outputs for \(parts.count) layers")
        let cols = parts[0].outliers(x, rows: rows)
        for p in parts { p.record(outliers: cols.count) }
        if !(probe is NoStepProbe) { probe.phaseEnded(.quantize) }
        if cols.isEmpty { base.apply(x, rows: rows, into: outputs); return }
        split.gather(x, rows: rows, base.inFeatures, cols: cols)
        let addends = parts.indices.map { split.addend(parts[$0].base.weights, cols: cols, slot: $0) }
        base.apply(x, rows: rows, into: outputs, zeroing: cols, outliers: addends)
    }
}

extension MixedInt8Linear: LinearFusing {
    package func fused(with others: [LinearKernel]) -> FusedLinearKernels? {
        let rest = others.compactMap { $0 as? MixedInt8Linear }
        guard rest.count == others.count else { return nil }
        return MixedInt8FusedLinear([self] + rest)
    }
}
