// Weight-only int4 (symmetric, one fp32 scale per group of `groupSize` inputs, two codes per byte) and int8
// word embeddings (one scale per row). Both are for size: int4 is dequantized once to fp32 when the kernel is
// built (disk holds 4 bits per weight, memory 32), embeddings are dequantized row by row on lookup.
import TensorCore
import Transformer

/// W (out, in) as int4 codes in -7...7 stored +8 as nibbles (even input index in the low nibble), with
/// scale (out, groups) = max |group| / 7.
package final class Int4Weights: @unchecked Sendable {
    package let outFeatures: Int, inFeatures: Int, groupSize: Int
    package let packed: [UInt8]     /// (out, ceil(in / 2))
    package let scale: [Float]      /// (out, groups)
    package var groups: Int { (inFeatures + groupSize - 1) / groupSize }
    package var rowBytes: Int { (inFeatures + 1) / 2 }

    package init(packed: [UInt8], scale: [Float], outFeatures: Int, inFeatures: Int, groupSize: Int) throws {
        self.outFeatures = outFeatures; self.inFeatures = inFeatures; self.groupSize = groupSize
        self.packed = packed; self.scale = scale
        guard packed.count == outFeatures * rowBytes, scale.count == outFeatures * groups else {
            throw QuantizationError("int4 weights: \(packed.count) packed bytes and \(scale.count) scales, expected \(outFeatures * rowBytes) and \(outFeatures * groups) for (\(outFeatures), \(inFeatures)) in groups of \(groupSize)")
        }
    }

    package convenience init(weight w: UnsafePointer<Float>, outFeatures: Int, inFeatures: Int, groupSize: Int) {
        let G = (inFeatures + groupSize - 1) / groupSize, rowBytes = (inFeatures + 1) / 2
        var packed = [UInt8](repeating: 0x88, count: outFeatures * rowBytes), scales = [Float](repeating: 0, count: outFeatures * G)
        for j in 0..<outFeatures {
            for g in 0..<G {
                let start = g * groupSize, end = min(inFeatures, start + groupSize)
                var m: Float = 0
                for k in start..<end { m = max(m, abs(w[j * inFeatures + k])) }
                let s = m / 7
                scales[j * G + g] = s
                for k in start..<end {
                    let q = s > 0 ? Int(max(-7, min(7, (w[j * inFeatures + k] / s).rounded(.toNearestOrEven)))) : 0
                    let byte = j * rowBytes + k / 2, nibble = UInt8(q + 8)
                    packed[byte] = k % 2 == 0 ? (packed[byte] & 0xF0) | nibble : (packed[byte] & 0x0F) | (nibble << 4)
                }
            }
        }
        try! self.init(packed: packed, scale: scales, outFeatures: outFeatures, inFeatures: inFeatures, groupSize: groupSize)
    }

    /// The code of weight (j, k) in -7...7 (-8 is never written).
    @inline(__always) package func code(_ j: Int, _ k: Int) -> Int {
        let b = packed[j * rowBytes + k / 2]
        return Int(k % 2 == 0 ? b & 0x0F : b >> 4) - 8
    }

    package func dequantized() -> [Float] {
        var out = [Float](repeating: 0, count: outFeatures * inFeatures)
        for j in 0..<outFeatures { for k in 0..<inFeatures { out[j * inFeatures + k] = Float(code(j, k)) * scale[j * groups + k / groupSize] } }
        return out
    }

    package var byteCount: Int { packed.count + 4 * scale.count }
}

/// Weight-only int4: the dequantized weights through fp32 sgemm, on the threads the quantized kernels get from
/// oneDNN (set once by `ComputeContext.activate()`), like the int8 ones.
package final class Int4Linear: LinearKernel {
    package let weights: Int4Weights
    private let dense: DenseLinear
    package let bias: [Float]
    package init(weights: Int4Weights, bias: [Float]) {
        self.weights = weights; self.bias = bias
        dense = DenseLinear(weight: weights.dequantized(), bias: bias, inFeatures: weights.inFeatures, outFeatures: weights.outFeatures)
    }
    package var inFeatures: Int { weights.inFeatures }
    package var outFeatures: Int { weights.outFeatures }
    package var byteCount: Int { weights.byteCount + 4 * bias.count }
    package func apply(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        sgemm(.none, .transposed, m: rows, n: outFeatures, k: inFeatures, a: x, lda: inFeatures, b: dense.weight, ldb: inFeatures,
              c: y, ldc: outFeatures, threads: ComputeInfo.threads)
        Kernels.addBias(y, dense.bias, rows: rows, cols: outFeatures)
    }
}

/// Word embeddings in int8 with one scale per row (the same layout as per-channel int8 weights).
package final class Int8Embedding: EmbeddingLookup {
    package let weights: Int8Weights
    package init(weights: Int8Weights) { self.weights = weights }
    package var rows: Int { weights.outFeatures }
    package var cols: Int { weights.inFeatures }
    package func addRow(_ row: Int, into out: UnsafeMutablePointer<Float>) {
        let q = weights.q + row * cols, s = weights.scale[row]
        for j in 0..<cols { out[j] += Float(q[j]) * s }
    }
    package func addRow(_ row: Int, scaled factor: Float, into out: UnsafeMutablePointer<Float>) {
        let q = weights.q + row * cols, s = weights.scale[row] * factor
        for j in 0..<cols { out[j] += Float(q[j]) * s }
    }
    package var byteCount: Int { weights.byteCount }
}
