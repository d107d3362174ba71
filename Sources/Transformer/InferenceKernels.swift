// The seams of the inference path: a linear layer is any `LinearKernel` (fp32, int8, int4, sparse, …) and the
// word-embedding table any `EmbeddingLookup`; the fp32 ones here view an XLMRModel's flat parameters.
import Dispatch
import TensorCore

/// y (rows, out) = x (rows, in) · Wᵀ + b, for one linear layer of an inference model.
/// Kernels are used from one thread at a time (the encoder that owns them); they may keep scratch.
package protocol LinearKernel: AnyObject {
    var inFeatures: Int { get }
    var outFeatures: Int { get }
    /// x (rows, in) → y (rows, out), bias included. `y` does not alias `x`.
    func apply(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>)
    /// Bytes of this layer's stored parameters (weights, scales, bias) as they would sit on disk.
    var byteCount: Int { get }
}

/// Linear layers that read the same input (the attention's query, key and value) computed in one pass, e.g. one
/// activation quantization and one GEMM over the concatenated weights. outputs[i] (rows, out_i) as each layer's
/// own `apply` would write it.
package protocol FusedLinearKernels: AnyObject {
    func apply(_ x: UnsafePointer<Float>, rows: Int, into outputs: [UnsafeMutablePointer<Float>])
}

/// A kernel that can apply GELU to its output itself, each thread on its own slice while it is in cache (the
/// FFN's first layer). GELU is elementwise, so the result is the same as GELU after `apply`.
package protocol GeluFusing: LinearKernel {
    func apply(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, gelu: Bool)
}

/// A kernel that reports its own phases inside a pass (int8: `.quantize`, `.dequantize`) to the encoder's probe.
package protocol PhaseReporting: AnyObject {
    var probe: StepProbe { get set }
}

/// A kernel that can be fused with others of its kind over a shared input.
package protocol LinearFusing: LinearKernel {
    /// One kernel computing `self` followed by `others` over the same input, or nil when they cannot be fused.
    func fused(with others: [LinearKernel]) -> FusedLinearKernels?
}

/// Rows of the word-embedding table, added into a hidden-state row.
package protocol EmbeddingLookup: AnyObject {
    var rows: Int { get }
    var cols: Int { get }
    /// out (cols) += table[row].
    func addRow(_ row: Int, into out: UnsafeMutablePointer<Float>)
    /// out (cols) += factor × table[row].
    func addRow(_ row: Int, scaled factor: Float, into out: UnsafeMutablePointer<Float>)
    var byteCount: Int { get }
}

/// The fp32 linear layer: one sgemm on W (out, in) as stored in torch, then the bias, on `threads` threads.
package final class DenseLinear: LinearKernel {
    package let inFeatures: Int, outFeatures: Int
    /// The threads its product computes with: its model's `compute.threads` (`XLMRModel.denseLinear`), else 1.
    package let threads: Int
    package let weight: UnsafePointer<Float>   /// (out, in)
    package let bias: UnsafePointer<Float>     /// (out)
    private let owner: AnyObject

    /// Views `weight` and `bias`, keeping `owner` (the buffer they live in) alive.
    package init(weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, inFeatures: Int, outFeatures: Int, owner: AnyObject,
                 threads: Int = 1) {
        precondition(threads >= 1, "DenseLinear: threads must be >= 1")
        self.weight = weight; self.bias = bias; self.inFeatures = inFeatures; self.outFeatures = outFeatures; self.owner = owner
        self.threads = threads
    }

    /// Owns copies of `weight` (out, in) and `bias` (out).
    package convenience init(weight: [Float], bias: [Float], inFeatures: Int, outFeatures: Int, threads: Int = 1) {
        precondition(weight.count == inFeatures * outFeatures && bias.count == outFeatures, "DenseLinear: shape mismatch")
        let buffer = FloatBuffer(count: weight.count + bias.count)
        buffer.pointer.update(from: weight, count: weight.count)
        (buffer.pointer + weight.count).update(from: bias, count: bias.count)
        self.init(weight: buffer.pointer, bias: buffer.pointer + weight.count, inFeatures: inFeatures, outFeatures: outFeatures,
                  owner: buffer, threads: threads)
    }

    package func apply(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        sgemm(.none, .transposed, m: rows, n: outFeatures, k: inFeatures, a: x, lda: inFeatures, b: weight, ldb: inFeatures,
              c: y, ldc: outFeatures, threads: threads)
        Kernels.addBias(y, bias, rows: rows, cols: outFeatures)
    }

    package var byteCount: Int { 4 * (inFeatures * outFeatures + outFeatures) }
}

/// The fp32 embedding table (V, C), viewed in place.
package final class DenseEmbedding: EmbeddingLookup {
    package let rows: Int, cols: Int
    package let table: UnsafePointer<Float>
    private let owner: AnyObject
    package init(table: UnsafePointer<Float>, rows: Int, cols: Int, owner: AnyObject) {
        self.table = table; self.rows = rows; self.cols = cols; self.owner = owner
    }
    package func addRow(_ row: Int, into out: UnsafeMutablePointer<Float>) {
        let r = table + row * cols
        for j in 0..<cols { out[j] += r[j] }
    }
    package func addRow(_ row: Int, scaled factor: Float, into out: UnsafeMutablePointer<Float>) {
        let r = table + row * cols
        for j in 0..<cols { out[j] += factor * r[j] }
    }
    package var byteCount: Int { 4 * rows * cols }
}

/// The linear layers of the encoder by transformers' tensor prefix (without `.weight`/`.bias`).
package enum LinearNames {
    package static let query = "attention.self.query", key = "attention.self.key", value = "attention.self.value"
    package static let attentionOutput = "attention.output.dense", intermediate = "intermediate.dense", output = "output.dense"
    package static let perLayer = [query, key, value, attentionOutput, intermediate, output]

    /// e.g. `roberta.encoder.layer.3.intermediate.dense`.
    package static func name(layer: Int, _ kind: String) -> String { "roberta.encoder.layer.\(layer).\(kind)" }

    /// Every encoder linear of `config`, layer by layer, with (in, out) from the per-layer accessors.
    package static func encoderLinears(_ config: XLMRConfig) -> [(name: String, inFeatures: Int, outFeatures: Int)] {
        var out: [(String, Int, Int)] = []
        let C = config.hiddenSize
        for l in 0..<config.numHiddenLayers {
            let W = config.attentionWidth(layer: l), F = config.intermediate(layer: l)
            out += [(name(layer: l, query), C, W), (name(layer: l, key), C, W), (name(layer: l, value), C, W),
                    (name(layer: l, attentionOutput), W, C), (name(layer: l, intermediate), C, F), (name(layer: l, output), F, C)]
        }
        return out
    }
}

extension XLMRModel {
    /// The fp32 kernel viewing this model's linear `name` (a prefix such as `classifier`), or nil; it computes with
    /// the model's threads.
    package func denseLinear(_ name: String) -> DenseLinear? {
        guard let w = layout.entry(name + ".weight"), let b = layout.entry(name + ".bias"), w.shape.count == 2 else { return nil }
        return DenseLinear(weight: parameters.pointer + w.offset, bias: parameters.pointer + b.offset,
                           inFeatures: w.shape[1], outFeatures: w.shape[0], owner: parameters, threads: compute.threads)
    }
}

/// The fp32 linear layer with its weight pre-packed into CGemm's panel layout (see `PackedWeights`; plain sgemm
/// where CGemm cannot run). For inference only: the packing is a copy, so
/// the model's weights must not change while this kernel is used.
package final class PackedDenseLinear: LinearKernel {
    package let dense: DenseLinear
    package let packed: PackedWeights
    package var inFeatures: Int { dense.inFeatures }
    package var outFeatures: Int { dense.outFeatures }

    package init(_ dense: DenseLinear) {
        self.dense = dense
        packed = PackedWeights(weight: dense.weight, outFeatures: dense.outFeatures, inFeatures: dense.inFeatures)
    }

    package func apply(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        packed.multiply(x, rows: rows, into: y, threads: dense.threads)
        Kernels.addBias(y, dense.bias, rows: rows, cols: outFeatures)
    }

    package var byteCount: Int { dense.byteCount }
}

extension InferenceEncoder {
    /// The fp32 inference encoder of `model` with every encoder linear and the head's small linears
    /// (`classifier`, `lm_head.dense`) pre-packed; the tied MLM decoder stays plain.
    package static func packed(model: XLMRModel) throws -> InferenceEncoder {
        try InferenceEncoder(model: model, replacing: fp32Linears(of: model) { PackedDenseLinear($0) })
    }

    /// Every encoder linear and the head's small linears (`classifier`, `lm_head.dense`) of `model`, as `kernel`
    /// makes them from the model's fp32 weights.
    private static func fp32Linears(of model: XLMRModel, _ kernel: (DenseLinear) -> LinearKernel) -> [String: LinearKernel] {
        var replacing: [String: LinearKernel] = [:]
        let names = LinearNames.encoderLinears(model.config).map(\.name) + ["classifier", "lm_head.dense"]
        for name in names { if let d = model.denseLinear(name) { replacing[name] = kernel(d) } }
        return replacing
    }

    /// The fastest fp32 inference path for `threads` threads: `split` across them, or `packed` on one.
    package static func fastest(model: XLMRModel, threads: Int) throws -> InferenceEncoder {
        threads > 1 ? try split(model: model, parts: threads) : try packed(model: model)
    }

    /// The fp32 inference encoder of `model` with every encoder linear and the head's small linears split into
    /// `parts` pre-packed slices run on `parts` threads (`SplitPackedLinear`), and GELU and attention split too.
    package static func split(model: XLMRModel, parts: Int) throws -> InferenceEncoder {
        let encoder = try InferenceEncoder(model: model, replacing: fp32Linears(of: model) { SplitPackedLinear($0, parts: parts) })
        encoder.parallelParts = parts
        return encoder
    }
}

/// The fp32 linear layer split by output features into `parts` slices, each pre-packed and run single-threaded on
/// its own thread (`Parallel.parts`), with its slice of the bias added by the same thread. At batch 1 this replaces
/// oneDNN's OpenMP fork/join per product. Products below `minimumMultiplyAdds` run on the calling thread.
package final class SplitPackedLinear: LinearFusing, GeluFusing, PartsBody, PhaseReporting {
    package let dense: DenseLinear
    let slices: [(start: Int, count: Int, packed: PackedWeights)]
    /// The encoder's probe: while it measures, a GELU applied here is reported as `.gelu` (as the int8 kernels report
    /// theirs), so the linear share that the int8 bound is taken from holds the products alone; no clock otherwise.
    package var probe: StepProbe = NoStepProbe.shared { didSet { timing = !(probe is NoStepProbe) } }
    private var timing = false
    /// Each slice's GELU time in the call in progress, while timing (one slot per slice, written by its thread).
    private let geluNanos: UnsafeMutablePointer<UInt64>
    package var inFeatures: Int { dense.inFeatures }
    package var outFeatures: Int { dense.outFeatures }
    /// Below this many multiply-adds a product is not split (a thread wake-up costs more than it saves).
    package static let minimumMultiplyAdds = 1 << 20
    /// Above this many rows the product runs as one OpenMP sgemm on the plain weights instead: at batch 32 × 128
    /// the split was slower than threading the whole product (docs/benchmarks.md has the measurement).
    package static let maximumRows = 512

    package init(_ dense: DenseLinear, parts: Int) {
        precondition(parts >= 1, "SplitPackedLinear: parts must be >= 1")
        self.dense = dense
        let out = dense.outFeatures, n = min(parts, out)
        slices = (0..<n).map { i in
            // Slice boundaries on multiples of 8 outputs where possible (one AVX2 register).
            let start = i == 0 ? 0 : min(out, (out * i / n + 7) / 8 * 8), end = i == n - 1 ? out : min(out, (out * (i + 1) / n + 7) / 8 * 8)
            return (start, end - start, PackedWeights(weight: dense.weight + start * dense.inFeatures, outFeatures: max(end - start, 1),
                                                      inFeatures: dense.inFeatures))
        }.filter { $0.count > 0 }
        geluNanos = .allocate(capacity: max(slices.count, 1))
        geluNanos.initialize(repeating: 0, count: max(slices.count, 1))
    }

    package func apply(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        apply(x, rows: rows, into: y, gelu: false)
    }

    /// As `apply`, then GELU on the output when `gelu` is true, each thread on its own slice while it is in cache.
    package func apply(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, gelu: Bool) {
        let out = outFeatures
        if rows > Self.maximumRows {
            dense.apply(x, rows: rows, into: y)
            if gelu {
                if timing { probe.phaseEnded(.gemm) }
                Kernels.geluForward(y, y, rows * out, threads: dense.threads)
                if timing { probe.phaseEnded(.gelu) }
            }
            return
        }
        let timesGelu = timing && gelu
        if timesGelu { geluNanos.update(repeating: 0, count: slices.count) }
        if rows * out * inFeatures < Self.minimumMultiplyAdds {
            for i in slices.indices { slice(i, x, rows: rows, into: y, gelu: gelu) }
            if timesGelu { probe.moved(geluTotal, to: .gelu) }
        } else {
            pending = (x, rows, y, gelu)
            Parallel.parts(slices.count, self)
            pending = nil
            // The slices ran side by side: the wall time is their average.
            if timesGelu { probe.moved(geluTotal / UInt64(slices.count), to: .gelu) }
        }
    }

    private var geluTotal: UInt64 { (0..<slices.count).reduce(0) { $0 &+ geluNanos[$1] } }

    deinit { geluNanos.deallocate() }

    /// The arguments of the product being split (for `runPart`, which `Parallel.parts` calls without allocating).
    private var pending: (x: UnsafePointer<Float>, rows: Int, y: UnsafeMutablePointer<Float>, gelu: Bool)?

    package func runPart(_ i: Int) {
        guard let p = pending else { return }
        slice(i, p.x, rows: p.rows, into: p.y, gelu: p.gelu)
    }

    /// Slice i of the product: y[:, slice] = x · W[slice]ᵀ + b[slice], then GELU when asked.
    @inline(__always)
    func slice(_ i: Int, _ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, gelu: Bool) {
        let s = slices[i], out = outFeatures
        s.packed.multiply(x, rows: rows, into: y + s.start, ldy: out, threads: 1)
        let bias = dense.bias + s.start
        var geluTime: UInt64 = 0
        for r in 0..<rows {
            let row = y + r * out + s.start
            for c in 0..<s.count { row[c] += bias[c] }
            if gelu {
                let t0 = timing ? DispatchTime.now().uptimeNanoseconds : 0
                Kernels.geluForward(row, row, s.count, threads: 1)
                if timing { geluTime &+= DispatchTime.now().uptimeNanoseconds &- t0 }
            }
        }
        if timing && gelu { geluNanos[i] = geluTime }
    }

    package var byteCount: Int { dense.byteCount }
}

extension SplitPackedLinear {
    /// Query, key and value as one hand-over: thread i computes slice i of each (same slicing required).
    package func fused(with others: [LinearKernel]) -> FusedLinearKernels? {
        let all = [self] + others.compactMap { $0 as? SplitPackedLinear }
        guard all.count == others.count + 1,
              all.allSatisfy({ $0.inFeatures == inFeatures && $0.slices.count == slices.count }) else { return nil }
        return FusedSplitPackedLinears(all)
    }
}

/// `SplitPackedLinear`s over one input run in one `Parallel.parts` hand-over instead of one each.
package final class FusedSplitPackedLinears: FusedLinearKernels, PartsBody {
    let kernels: [SplitPackedLinear]
    private var pending: (x: UnsafePointer<Float>, rows: Int, outputs: [UnsafeMutablePointer<Float>])?
    init(_ kernels: [SplitPackedLinear]) { self.kernels = kernels }

    package func apply(_ x: UnsafePointer<Float>, rows: Int, into outputs: [UnsafeMutablePointer<Float>]) {
        precondition(outputs.count == kernels.count, "FusedSplitPackedLinears: \(outputs.count) outputs for \(kernels.count) kernels")
        let first = kernels[0]
        if rows > SplitPackedLinear.maximumRows || rows * first.outFeatures * first.inFeatures < SplitPackedLinear.minimumMultiplyAdds {
            for j in kernels.indices { kernels[j].apply(x, rows: rows, into: outputs[j]) }
            return
        }
        pending = (x, rows, outputs)
        Parallel.parts(first.slices.count, self)
        pending = nil
    }

    package func runPart(_ i: Int) {
        guard let p = pending else { return }
        for j in kernels.indices { kernels[j].slice(i, p.x, rows: p.rows, into: p.outputs[j], gelu: false) }
    }
}
