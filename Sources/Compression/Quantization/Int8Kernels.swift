// int8 linear kernels: weights symmetric per output channel (s8 in -127...127, one fp32 scale per row);
// activations unsigned 7-bit with a zero point (u8 in 0...127, see `int8ActivationMax` for why 7 bits),
// per token at run time (dynamic, LLM.int8()) or fixed by calibration (static); u8·s8 → s32 in oneDNN
// (`Int8SplitGemm`: weights reordered once, the product split over the engine's threads), then
// y = s_x · s_w · (acc − z_x · Σ_k W_q[j, k]) + b in fp32. Each kernel has a reference (dequantize, fp32 matmul).
import Foundation
import TensorCore
import Transformer

/// A linear layer's weights in int8: W ≈ q · scale per output row.
package final class Int8Weights: @unchecked Sendable {
    package let outFeatures: Int, inFeatures: Int
    package let q: UnsafeMutablePointer<Int8>      /// (out, in)
    package let scale: [Float]                     /// (out)
    package let rowSum: [Int32]                    /// (out) Σ_k q[j, k], for the activation zero point

    package init(q values: [Int8], scale: [Float], outFeatures: Int, inFeatures: Int) {
        precondition(values.count == outFeatures * inFeatures && scale.count == outFeatures, "Int8Weights: shape mismatch")
        self.outFeatures = outFeatures; self.inFeatures = inFeatures; self.scale = scale
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(values.count, 1), alignment: 64)
        q = raw.bindMemory(to: Int8.self, capacity: max(values.count, 1))
        q.initialize(from: values, count: values.count)
        var sums = [Int32](repeating: 0, count: outFeatures)
        for j in 0..<outFeatures { var s: Int32 = 0; for k in 0..<inFeatures { s += Int32(q[j * inFeatures + k]) }; sums[j] = s }
        rowSum = sums
    }

    deinit { UnsafeMutableRawPointer(q).deallocate() }

    /// Symmetric per-row quantization of W (out, in): scale = max |row| / 127, q = round(w / scale).
    package convenience init(weight w: UnsafePointer<Float>, outFeatures: Int, inFeatures: Int) {
        var values = [Int8](repeating: 0, count: outFeatures * inFeatures), scales = [Float](repeating: 0, count: outFeatures)
        for j in 0..<outFeatures {
            let row = w + j * inFeatures
            var m: Float = 0
            for k in 0..<inFeatures { m = max(m, abs(row[k])) }
            let s = m / 127
            scales[j] = s
            if s > 0 { for k in 0..<inFeatures { values[j * inFeatures + k] = Int8(max(-127, min(127, (row[k] / s).rounded()))) } }
        }
        self.init(q: values, scale: scales, outFeatures: outFeatures, inFeatures: inFeatures)
    }

    package var values: [Int8] { Array(UnsafeBufferPointer(start: q, count: outFeatures * inFeatures)) }

    /// The dequantized weights (out, in).
    package func dequantized() -> [Float] {
        var out = [Float](repeating: 0, count: outFeatures * inFeatures)
        for j in 0..<outFeatures { for k in 0..<inFeatures { out[j * inFeatures + k] = Float(q[j * inFeatures + k]) * scale[j] } }
        return out
    }

    /// Bytes on disk: the codes and the scales.
    package var byteCount: Int { outFeatures * inFeatures + 4 * outFeatures }
}

/// Activation quantization parameters for one row (or one whole tensor): x ≈ (q − zero) · scale.
package struct ActivationQuantization: Equatable, Sendable {
    package var scale: Float
    package var zero: Int32

    /// The asymmetric 7-bit range covering [lo, hi] (widened to include 0, so 0 is exact).
    package init(lo: Float, hi: Float) {
        let l = min(lo, 0), h = max(hi, 0)
        let s = (h - l) / Float(int8ActivationMax)
        scale = s > 0 && s.isFinite ? s : 1
        zero = Int32(max(0, min(Float(int8ActivationMax), (-l / scale).rounded())))
    }
    package init(scale: Float, zero: Int32) { self.scale = scale; self.zero = zero }

    /// The code of one value: clamp(x / scale + zero, 0, 127) rounded half to even. The kernels compute the same
    /// expression in the same order (rounding through the 1.5·2²³ trick), so codes match exactly.
    @inline(__always) package func code(_ x: Float) -> UInt8 {
        UInt8(max(0, min(Float(int8ActivationMax), x / scale + Float(zero))).rounded(.toNearestOrEven))
    }
    /// The value a code stands for (the fake-quantized activation).
    @inline(__always) package func value(_ q: UInt8) -> Float { Float(Int32(q) - zero) * scale }
}

package enum Int8Math {
    /// Adding 1.5·2²³ to a float in [0, 2²²) rounds it to an integer (half to even) held in the low mantissa bits.
    static let roundingMagic: Float = 12_582_912

    /// The per-token range of row `x` (K), through CKernels (`Int8Rows`; bit for bit `Reference.rowRange`).
    @inline(__always)
    static func rowRange(_ x: UnsafePointer<Float>, _ K: Int) -> ActivationQuantization {
        let (lo, hi) = Int8Rows.range(x, K)
        return ActivationQuantization(lo: lo, hi: hi)
    }

    /// q (K) = codes of x (K) under `a` (see `ActivationQuantization.code`), through CKernels.
    @inline(__always)
    static func quantizeRow(_ x: UnsafePointer<Float>, _ K: Int, _ a: ActivationQuantization, into q: UnsafeMutablePointer<UInt8>) {
        Int8Rows.quantize(x, K, scale: a.scale, zero: Float(a.zero), top: Float(int8ActivationMax), into: q)
    }

    /// y (N) = s_x · s_w · (acc − z · rowSum) + b for one output row, through CKernels.
    @inline(__always)
    static func dequantizeRow(_ acc: UnsafePointer<Int32>, _ a: ActivationQuantization, outFeatures N: Int,
                              wScale: UnsafePointer<Float>, rowSum: UnsafePointer<Int32>, bias: UnsafePointer<Float>,
                              into y: UnsafeMutablePointer<Float>) {
        Int8Rows.dequantize(acc, N, zero: a.zero, sx: a.scale, wScale: wScale, rowSum: rowSum, bias: bias, into: y)
    }

    /// The expressions the C kernels must match bit for bit (their tests' oracle).
    enum Reference {
        /// The per-token range of row `x` (K). Four scalar accumulators start at 0 and are replaced only by strictly
        /// smaller (larger) values, so they never hold NaN or -0: any reduction order gives the same bits.
        static func rowRange(_ x: UnsafePointer<Float>, _ K: Int) -> ActivationQuantization {
            var lo = (Float(0), Float(0), Float(0), Float(0)), hi = (Float(0), Float(0), Float(0), Float(0))
            var k = 0
            while k + 4 <= K {
                let a = x[k], b = x[k + 1], c = x[k + 2], d = x[k + 3]
                lo.0 = a < lo.0 ? a : lo.0; lo.1 = b < lo.1 ? b : lo.1; lo.2 = c < lo.2 ? c : lo.2; lo.3 = d < lo.3 ? d : lo.3
                hi.0 = a > hi.0 ? a : hi.0; hi.1 = b > hi.1 ? b : hi.1; hi.2 = c > hi.2 ? c : hi.2; hi.3 = d > hi.3 ? d : hi.3
                k += 4
            }
            var l = min(min(lo.0, lo.1), min(lo.2, lo.3)), h = max(max(hi.0, hi.1), max(hi.2, hi.3))
            while k < K { l = min(l, x[k]); h = max(h, x[k]); k += 1 }
            return ActivationQuantization(lo: l, hi: h)
        }

        /// The codes: the division, the clamps in this order, the rounding through `roundingMagic`.
        static func quantizeRow(_ x: UnsafePointer<Float>, _ K: Int, _ a: ActivationQuantization, into q: UnsafeMutablePointer<UInt8>) {
            let s = a.scale, z = Float(a.zero), top = Float(int8ActivationMax), magic = roundingMagic
            for k in 0..<K {
                var y = x[k] / s + z
                y = y < 0 ? 0 : y
                y = y > top ? top : y
                q[k] = UInt8(truncatingIfNeeded: (y + magic).bitPattern)
            }
        }

        /// The epilogue's expression (Swift compiles for baseline x86-64: no FMA).
        static func dequantizeRow(_ acc: UnsafePointer<Int32>, _ a: ActivationQuantization, outFeatures N: Int,
                                  wScale: UnsafePointer<Float>, rowSum: UnsafePointer<Int32>, bias: UnsafePointer<Float>,
                                  into y: UnsafeMutablePointer<Float>) {
            let z = a.zero, sx = a.scale
            for j in 0..<N { y[j] = Float(acc[j] &- z &* rowSum[j]) * (sx * wScale[j]) + bias[j] }
        }
    }
}

/// Scratch that grows to the largest call and is reused, and the activation quantization split by rows over
/// `Parallel.parts` (it allocates nothing after the largest call).
final class Int8Scratch: PartsBody {
    private(set) var codes = UnsafeMutablePointer<UInt8>.allocate(capacity: 1), codeCapacity = 1
    private(set) var acc = UnsafeMutablePointer<Int32>.allocate(capacity: 1), accCapacity = 1
    /// Each row's quantization from the last `quantize`, for the dequantization.
    private(set) var ranges = UnsafeMutablePointer<ActivationQuantization>.allocate(capacity: 1), rangeCapacity = 1
    private var job: (x: UnsafePointer<Float>, rows: Int, k: Int, fixed: ActivationQuantization?, parts: Int, zeroing: [Int])?
    /// Below this many values (rows × K) the quantization runs on the calling thread.
    static let splitElements = 1 << 13

    func reserve(rows: Int, codes n: Int, acc m: Int) {
        if n > codeCapacity { codes.deallocate(); codes = .allocate(capacity: n); codeCapacity = n }
        if m > accCapacity { acc.deallocate(); acc = .allocate(capacity: m); accCapacity = m }
        if rows > rangeCapacity { ranges.deallocate(); ranges = .allocate(capacity: rows); rangeCapacity = rows }
    }

    /// codes (rows, K) of x (rows, K), each row under `fixed` (static) or its own range (dynamic), kept in
    /// `ranges`; split by rows over up to `parts` threads. Columns `zeroing` (ascending) are quantized as if x held 0
    /// there (LLM.int8()'s outlier columns), with no copy of x. Call `reserve` first.
    func quantize(_ x: UnsafePointer<Float>, rows: Int, _ K: Int, fixed: ActivationQuantization?, parts: Int, zeroing: [Int] = []) {
        precondition(rows * K <= codeCapacity && rows <= rangeCapacity, "Int8Scratch: quantize before reserve")
        let p = rows * K >= Self.splitElements ? max(1, min(parts, rows)) : 1
        job = (x, rows, K, fixed, p, zeroing)
        Parallel.parts(p, self)
        job = nil
    }

    func runPart(_ part: Int) {
        guard let j = job else { return }
        for i in (j.rows * part / j.parts)..<(j.rows * (part + 1) / j.parts) {
            let x = j.x + i * j.k, q = codes + i * j.k
            if j.zeroing.isEmpty {
                let a = j.fixed ?? Int8Math.rowRange(x, j.k)
                ranges[i] = a
                Int8Math.quantizeRow(x, j.k, a, into: q)
                continue
            }
            let a = j.fixed ?? Self.rangeSkipping(x, j.k, j.zeroing)
            ranges[i] = a
            Int8Math.quantizeRow(x, j.k, a, into: q)
            var zero: Float = 0, code: UInt8 = 0
            Int8Math.quantizeRow(&zero, 1, a, into: &code)
            for c in j.zeroing { q[c] = code }
        }
    }

    /// The range of row x (K) with columns `skip` (ascending) left out: the same as over a copy with 0 there, since
    /// every range includes 0 and min and max do not depend on the order.
    static func rangeSkipping(_ x: UnsafePointer<Float>, _ K: Int, _ skip: [Int]) -> ActivationQuantization {
        var lo: Float = 0, hi: Float = 0, start = 0
        for s in 0...skip.count {
            let end = s < skip.count ? skip[s] : K
            if end > start {
                let r = Int8Rows.range(x + start, end - start)
                lo = r.lo < lo ? r.lo : lo; hi = r.hi > hi ? r.hi : hi
            }
            start = end + 1
        }
        return ActivationQuantization(lo: lo, hi: hi)
    }

    deinit { codes.deallocate(); acc.deallocate(); ranges.deallocate() }
}

/// A linear layer with int8 weights; `activations` nil means per token at run time (dynamic), otherwise the
/// fixed calibrated range (static).
package final class Int8Linear: GeluFusing, Int8Epilogue, PhaseReporting {
    package let weights: Int8Weights
    package let bias: [Float]
    package let activations: ActivationQuantization?
    private let scratch = Int8Scratch()
    /// The threads the quantization, the product and the dequantization split over (`Parallel.parts`): the
    /// model's, set by `QuantizedModel` before the encoder is built (a fused kernel copies it when it is made).
    package var parts = 1 { didSet { if parts != oldValue { splitGemm = nil } } }
    /// The weights reordered once per column slice for oneDNN's int8 kernel (a runtime cache; the checkpoint keeps
    /// the plain codes).
    private var splitGemm: Int8SplitGemm?
    /// false: `dnnl_gemm_u8s8s32`, which packs the weights on every call; kept as `bench compress`'s reference row.
    package var usesPackedGemm = true
    /// The output of the call in progress and whether GELU follows, for `finish`.
    private var output: UnsafeMutablePointer<Float>?, gelu = false
    /// LLM.int8()'s outlier product for the call in progress, added in `finish` (`MixedInt8Linear`).
    private var outliers: OutlierAddend?
    /// The encoder's probe: while it measures, `apply` reports its quantization and moves its epilogues' time to
    /// `.dequantize` (a fused GELU's to `.gelu`); otherwise no clock is read.
    package var probe: StepProbe = NoStepProbe.shared { didSet { timing = !(probe is NoStepProbe) } }
    private var timing = false
    /// The fused GELU's time per slice of the call in progress, while timing.
    private let geluNanos = UnsafeMutablePointer<UInt64>.allocate(capacity: Int8Linear.maxSlices)
    private static let maxSlices = 256

    package init(weights: Int8Weights, bias: [Float], activations: ActivationQuantization? = nil) {
        precondition(bias.count == weights.outFeatures, "Int8Linear: bias has \(bias.count) values, expected \(weights.outFeatures)")
        self.weights = weights; self.bias = bias; self.activations = activations
        geluNanos.initialize(repeating: 0, count: Self.maxSlices)
    }

    deinit { geluNanos.deallocate() }

    package var inFeatures: Int { weights.inFeatures }
    package var outFeatures: Int { weights.outFeatures }
    package var byteCount: Int { weights.byteCount + 4 * bias.count + (activations == nil ? 0 : 8) }

    var gemm: Int8SplitGemm {
        if let g = splitGemm { return g }
        let g = Int8SplitGemm(weights: weights.q, n: outFeatures, k: inFeatures, parts: min(parts, Self.maxSlices), owner: weights)
        splitGemm = g
        return g
    }

    package func apply(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        apply(x, rows: rows, into: y, gelu: false)
    }

    /// As `apply`, then GELU on the output when `gelu` is true, by the thread that dequantized each slice.
    package func apply(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, gelu: Bool) {
        apply(x, rows: rows, into: y, gelu: gelu, zeroing: [])
    }

    /// As `apply(_:rows:into:gelu:)` with columns `zeroing` of x taken as 0 (`Int8Scratch.quantize`).
    func apply(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, gelu: Bool, zeroing: [Int],
               outliers: OutlierAddend? = nil) {
        let K = inFeatures, N = outFeatures
        scratch.reserve(rows: rows, codes: rows * K, acc: rows * N)
        scratch.quantize(x, rows: rows, K, fixed: activations, parts: parts, zeroing: zeroing)
        if timing { probe.phaseEnded(.quantize); geluNanos.update(repeating: 0, count: Self.maxSlices) }
        output = y; self.gelu = gelu; self.outliers = outliers
        defer { output = nil; self.gelu = false; self.outliers = nil }
        if usesPackedGemm {
            let g = gemm
            g.timesEpilogues = timing
            g.multiply(m: rows, a: scratch.codes, acc: scratch.acc, epilogue: self)
            if timing { probe.movedEpilogues(g.wallNanos(g.epilogueNanos), gelu: g.wallNanos(geluNanos)) }
        } else {
            gemmU8S8S32(m: rows, n: N, k: K, a: scratch.codes, lda: K, b: weights.q, ldb: K, c: scratch.acc, ldc: N)
            let t0 = timing ? DispatchTime.now().uptimeNanoseconds : 0
            finish(rows: 0..<rows, start: 0, count: N, acc: scratch.acc)
            if timing { probe.movedEpilogues(DispatchTime.now().uptimeNanoseconds &- t0, gelu: geluNanos[0]) }
        }
    }

    /// Dequantizes output columns start ..< start + count of every row (one thread's slice of the product), then
    /// GELU when asked.
    package func finish(rows: Range<Int>, start: Int, count: Int, acc: UnsafePointer<Int32>) {
        guard let y = output else { return }
        let N = outFeatures, ranges = scratch.ranges, gelu = gelu
        let slice = timing && gelu ? (splitGemm?.slice(startingAt: start) ?? 0) : 0
        var geluTime: UInt64 = 0
        defer { if timing && gelu { geluNanos[slice] &+= geluTime } }
        weights.scale.withUnsafeBufferPointer { sw in
            weights.rowSum.withUnsafeBufferPointer { rs in
                bias.withUnsafeBufferPointer { b in
                    for i in rows {
                        Int8Math.dequantizeRow(acc + (i - rows.lowerBound) * count, ranges[i], outFeatures: count, wScale: sw.baseAddress! + start,
                                               rowSum: rs.baseAddress! + start, bias: b.baseAddress! + start, into: y + i * N + start)
                        outliers?.add(row: i, columns: start, count, into: y + i * N + start)
                        if gelu {
                            let t0 = timing ? DispatchTime.now().uptimeNanoseconds : 0
                            Kernels.geluForward(y + i * N + start, y + i * N + start, count, threads: 1)
                            if timing { geluTime &+= DispatchTime.now().uptimeNanoseconds &- t0 }
                        }
                    }
                }
            }
        }
    }

    /// The reference: fake-quantize each activation row with the same range, dequantize the weights, and multiply
    /// in float64.
    package func reference(_ x: [Float], rows: Int) -> [Float] {
        let K = inFeatures, N = outFeatures, w = weights.dequantized()
        var y = [Float](repeating: 0, count: rows * N)
        x.withUnsafeBufferPointer { xp in
            for i in 0..<rows {
                let a = activations ?? Int8Math.rowRange(xp.baseAddress! + i * K, K)
                let fake = (0..<K).map { Double(a.value(a.code(xp[i * K + $0]))) }
                for j in 0..<N {
                    var s = 0.0
                    for k in 0..<K { s += fake[k] * Double(w[j * K + k]) }
                    y[i * N + j] = Float(s) + bias[j]
                }
            }
        }
        return y
    }
}

/// LLM.int8()-style mixed decomposition: input columns whose max |x| over the rows of this call exceeds
/// `threshold` are multiplied in fp32 (against the dequantized int8 weight columns); the rest go through the
/// dynamic int8 path with those columns zeroed.
package final class MixedInt8Linear: LinearKernel, PhaseReporting {
    package let base: Int8Linear
    package let threshold: Float
    /// Outlier columns and columns seen over every call so far (for reporting the outlier fraction).
    package private(set) var outlierColumns = 0, columnsSeen = 0
    private let split = OutlierSplit()

    package init(weights: Int8Weights, bias: [Float], threshold: Float) {
        base = Int8Linear(weights: weights, bias: bias); self.threshold = threshold
    }
    package var inFeatures: Int { base.inFeatures }
    package var outFeatures: Int { base.outFeatures }
    package var byteCount: Int { base.byteCount }
    /// Reports the outlier search as `.quantize`, then the int8 part's phases (`Int8Linear.probe`).
    package var probe: StepProbe {
        get { base.probe }
        set { base.probe = newValue }
    }

    /// Counts one call's outlier columns (also for the fused query/key/value kernel).
    func record(outliers: Int) { outlierColumns += outliers; columnsSeen += inFeatures }

    /// The columns of x (rows, in) whose max |x| exceeds the threshold.
    package func outliers(_ x: UnsafePointer<Float>, rows: Int) -> [Int] {
        let K = inFeatures
        var colMax = [Float](repeating: 0, count: K)
        colMax.withUnsafeMutableBufferPointer { Int8Rows.columnAbsMax(x, rows: rows, K, into: $0.baseAddress!) }
        return (0..<K).filter { colMax[$0] > threshold }
    }

    package func apply(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        let cols = outliers(x, rows: rows)
        record(outliers: cols.count)
        if !(probe is NoStepProbe) { probe.phaseEnded(.quantize) }
        if cols.isEmpty { base.apply(x, rows: rows, into: y); return }
        split.gather(x, rows: rows, inFeatures, cols: cols)
        base.apply(x, rows: rows, into: y, gelu: false, zeroing: cols, outliers: split.addend(base.weights, cols: cols, slot: 0))
    }

    /// The reference: outlier columns exact, the others fake-quantized per token (range over the regular
    /// columns only), dequantized weights, float64 matmul.
    package func reference(_ x: [Float], rows: Int) -> [Float] {
        let K = inFeatures, cols = Set(x.withUnsafeBufferPointer { outliers($0.baseAddress!, rows: rows) })
        var regular = x
        for i in 0..<rows { for k in cols { regular[i * K + k] = 0 } }
        var y = base.reference(regular, rows: rows)
        let w = base.weights.dequantized(), N = outFeatures
        for i in 0..<rows { for j in 0..<N {
            var s = 0.0
            for k in cols { s += Double(x[i * K + k]) * Double(w[j * K + k]) }
            y[i * N + j] += Float(s)
        } }
        return y
    }
}

/// The fp32 side of LLM.int8(), shared by the separate and the fused kernels: x's outlier columns gathered (rows, O)
/// and each layer's weight columns there dequantized and laid out (O, N), so that the int8 epilogue adds
/// x[:, cols] · W[:, cols]ᵀ to each output row right after dequantizing it, while the row is in cache (the int8 path
/// reads x itself, those columns taken as 0: `Int8Scratch.quantize`'s `zeroing`). Its buffers grow to the largest
/// call and are reused.
final class OutlierSplit {
    private var gatheredX = UnsafeMutablePointer<Float>.allocate(capacity: 1), xCapacity = 1
    private var gatheredW: [(pointer: UnsafeMutablePointer<Float>, capacity: Int)] = []

    deinit { gatheredX.deallocate(); for w in gatheredW { w.pointer.deallocate() } }

    /// Gathers x's (rows, K) `cols`.
    func gather(_ x: UnsafePointer<Float>, rows: Int, _ K: Int, cols: [Int]) {
        let O = cols.count
        if xCapacity < rows * O { gatheredX.deallocate(); gatheredX = .allocate(capacity: rows * O); xCapacity = rows * O }
        for i in 0..<rows { for (o, k) in cols.enumerated() { gatheredX[i * O + o] = x[i * K + k] } }
    }

    /// The addend of layer `slot` (weights `w`) for the last `gather`: w's `cols` dequantized, (O, N).
    func addend(_ w: Int8Weights, cols: [Int], slot: Int) -> OutlierAddend {
        let O = cols.count, N = w.outFeatures, K = w.inFeatures
        while gatheredW.count <= slot { gatheredW.append((.allocate(capacity: 1), 1)) }
        if gatheredW[slot].capacity < O * N {
            gatheredW[slot].pointer.deallocate()
            gatheredW[slot] = (.allocate(capacity: O * N), O * N)
        }
        let wt = gatheredW[slot].pointer
        for (o, k) in cols.enumerated() { for j in 0..<N { wt[o * N + j] = Float(w.q[j * K + k]) * w.scale[j] } }
        return OutlierAddend(x: gatheredX, w: wt, count: O, outFeatures: N)
    }
}

/// One LLM.int8() layer's outlier product for the call in progress: y[i, j] += Σ_o x[i, o] · w[o, j], added by the
/// thread that dequantized row i's columns j (`add`), one outlier column after another.
struct OutlierAddend {
    let x: UnsafePointer<Float>, w: UnsafePointer<Float>
    let count: Int, outFeatures: Int

    /// Adds the product to columns start ..< start + n of row i, whose output is at y.
    @inline(__always)
    func add(row i: Int, columns start: Int, _ n: Int, into y: UnsafeMutablePointer<Float>) {
        for o in 0..<count {
            let a = x[i * count + o], wr = w + o * outFeatures + start
            for j in 0..<n { y[j] += a * wr[j] }
        }
    }
}

extension StepProbe {
    /// An int8 product's epilogues took `epilogues` ns of wall time, `gelu` of it in a fused GELU.
    func movedEpilogues(_ epilogues: UInt64, gelu: UInt64) {
        moved(gelu, to: .gelu)
        moved(epilogues &- min(gelu, epilogues), to: .dequantize)
    }
}
