// Quantized linear kernels against their references (dequantize the weights, fake-quantize the activations,
// multiply in float64), weight rounding bounds, int4 packing, and LLM.int8()'s limits (no outliers = dynamic,
// every column an outlier = fp32 activations on the int8 weights).
import Testing
import TestSupport
@testable import TensorCore
@testable import Transformer
@testable import Compression

extension Tolerance {
    /// A quantized kernel against its reference: the integer product is exact, so only float32 rounding of the
    /// dequantization (and of the fp32 outlier product) remains, relative to max |y|.
    static let quantKernelRelative: Float = 1e-5
}

func maxRelative(_ a: [Float], _ b: [Float]) -> Float {
    let scale = b.map(abs).max() ?? 0
    let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
    return scale > 0 ? worst / scale : worst
}

@Suite struct QuantizationKernelTests {
    static func random(_ n: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        var r = TestRandom(seed: seed)
        return (0..<n).map { _ in r.uniform() * scale }
    }

    static func apply(_ k: LinearKernel, _ x: [Float], rows: Int) -> [Float] {
        var y = [Float](repeating: .nan, count: rows * k.outFeatures)
        x.withUnsafeBufferPointer { k.apply($0.baseAddress!, rows: rows, into: &y) }
        return y
    }

    @Test(arguments: [(1, 8, 3), (5, 37, 11), (9, 64, 48)])
    func int8WeightsRoundWithinHalfAStep(rows: Int, k: Int, n: Int) {
        let w = Self.random(n * k, seed: UInt64(k))
        let q = Int8Weights(weight: w, outFeatures: n, inFeatures: k)
        let d = q.dequantized()
        for j in 0..<n {
            let m = (0..<k).map { abs(w[j * k + $0]) }.max()!
            #expect(abs(q.scale[j] - m / 127) <= 1e-7 * m)
            for c in 0..<k { #expect(abs(d[j * k + c] - w[j * k + c]) <= q.scale[j] * 0.5 * (1 + 1e-5)) }
        }
    }

    @Test(arguments: [(1, 8, 3), (5, 37, 11), (9, 64, 48)])
    func dynamicAndStaticInt8MatchTheirReference(rows: Int, k: Int, n: Int) {
        let w = Self.random(n * k, seed: 1), b = Self.random(n, seed: 2), x = Self.random(rows * k, seed: 3, scale: 3)
        let weights = Int8Weights(weight: w, outFeatures: n, inFeatures: k)
        for activations in [nil, ActivationQuantization(lo: -2, hi: 2.5)] {  // static clips part of x's range
            let kernel = Int8Linear(weights: weights, bias: b, activations: activations)
            let err = maxRelative(Self.apply(kernel, x, rows: rows), kernel.reference(x, rows: rows))
            #expect(err <= Tolerance.quantKernelRelative, "activations \(String(describing: activations)): \(err)")
        }
    }

    @Test func activationCodesStayWithinSevenBitsAndZeroIsExact() {
        let a = ActivationQuantization(lo: -1, hi: 3)
        #expect(a.code(-100) == 0 && a.code(100) == UInt8(int8ActivationMax))
        #expect(a.value(a.code(0)) == 0)
        let positive = ActivationQuantization(lo: 0.5, hi: 2)  // widened to include 0
        #expect(positive.zero == 0 && positive.value(positive.code(0)) == 0)
    }

    @Test func mixedInt8MatchesItsReferenceAndItsLimits() {
        let (rows, k, n) = (6, 40, 12)
        let w = Self.random(n * k, seed: 4), b = Self.random(n, seed: 5)
        var x = Self.random(rows * k, seed: 6)
        for i in 0..<rows { x[i * k + 3] *= 20; x[i * k + 17] *= 30 }  // two outlier columns
        let weights = Int8Weights(weight: w, outFeatures: n, inFeatures: k)
        let mixed = MixedInt8Linear(weights: weights, bias: b, threshold: 6)
        #expect(x.withUnsafeBufferPointer { mixed.outliers($0.baseAddress!, rows: rows) } == [3, 17])
        #expect(maxRelative(Self.apply(mixed, x, rows: rows), mixed.reference(x, rows: rows)) <= Tolerance.quantKernelRelative)
        #expect(mixed.outlierColumns == 2 && mixed.columnsSeen == k)
        // No outliers: exactly the dynamic kernel.
        let none = MixedInt8Linear(weights: weights, bias: b, threshold: 1e9)
        #expect(Self.apply(none, x, rows: rows) == Self.apply(Int8Linear(weights: weights, bias: b), x, rows: rows))
        // Every column an outlier: fp32 activations times the dequantized int8 weights.
        let all = MixedInt8Linear(weights: weights, bias: b, threshold: 1e-9)
        let dense = DenseLinear(weight: weights.dequantized(), bias: b, inFeatures: k, outFeatures: n)
        #expect(maxRelative(Self.apply(all, x, rows: rows), Self.apply(dense, x, rows: rows)) <= Tolerance.quantKernelRelative)
    }

    @Test(arguments: [(8, 3, 4), (37, 5, 8), (64, 4, 64)])
    func int4PacksRoundsAndComputesOnTheDequantizedWeights(k: Int, n: Int, group: Int) {
        let w = Self.random(n * k, seed: UInt64(k + n))
        let q = Int4Weights(weight: w, outFeatures: n, inFeatures: k, groupSize: group)
        #expect(q.packed.count == n * ((k + 1) / 2) && q.scale.count == n * ((k + group - 1) / group))
        let d = q.dequantized()
        for j in 0..<n { for c in 0..<k {
            let s = q.scale[j * q.groups + c / group]
            #expect((-7...7).contains(q.code(j, c)))
            #expect(abs(d[j * k + c] - w[j * k + c]) <= s * 0.5 * (1 + 1e-5))
        } }
        let b = Self.random(n, seed: 9), x = Self.random(3 * k, seed: 10)
        let kernel = Int4Linear(weights: q, bias: b)
        let reference = DenseLinear(weight: d, bias: b, inFeatures: k, outFeatures: n)
        #expect(Self.apply(kernel, x, rows: 3) == Self.apply(reference, x, rows: 3))
    }

    @Test func int8EmbeddingRowsAreTheDequantizedRows() {
        let (V, C) = (7, 10)
        let table = Self.random(V * C, seed: 11)
        let q = Int8Weights(weight: table, outFeatures: V, inFeatures: C)
        let e = Int8Embedding(weights: q), d = q.dequantized()
        for row in 0..<V {
            var out = [Float](repeating: 1, count: C)
            e.addRow(row, into: &out)
            #expect(out == (0..<C).map { 1 + d[row * C + $0] })
        }
    }
}

/// The fused query/key/value kernel against the separate kernels: bit for bit the same outputs.
@Suite struct Int8FusedLinearTests {
    /// The fused kernel's outputs for x (rows, K), one array per layer of `widths` outputs.
    static func outputs(of fused: FusedLinearKernels, _ x: [Float], rows: Int, widths: [Int]) -> [[Float]] {
        let pointers = widths.map { n in
            let o = UnsafeMutablePointer<Float>.allocate(capacity: rows * n)
            o.initialize(repeating: .nan, count: rows * n)
            return o
        }
        defer { pointers.forEach { $0.deallocate() } }
        x.withUnsafeBufferPointer { fused.apply($0.baseAddress!, rows: rows, into: pointers) }
        return zip(pointers, widths).map { Array(UnsafeBufferPointer(start: $0, count: rows * $1)) }
    }

    @Test(arguments: [(1, 16), (7, 40), (130, 24)])
    func fusedEqualsSeparateKernelsExactly(rows: Int, k: Int) throws {
        let x = QuantizationKernelTests.random(rows * k, seed: 7, scale: 3)
        for activations in [nil, ActivationQuantization(lo: -2, hi: 2.5)] {
            let parts = [5, 12, 3].enumerated().map { i, n in
                Int8Linear(weights: Int8Weights(weight: QuantizationKernelTests.random(n * k, seed: UInt64(10 + i)), outFeatures: n, inFeatures: k),
                           bias: QuantizationKernelTests.random(n, seed: UInt64(20 + i)), activations: activations)
            }
            let fused = try #require(parts[0].fused(with: [parts[1], parts[2]]))
            let got = Self.outputs(of: fused, x, rows: rows, widths: parts.map(\.outFeatures))
            for (i, part) in parts.enumerated() {
                #expect(got[i] == QuantizationKernelTests.apply(part, x, rows: rows), "part \(i), activations \(String(describing: activations))")
            }
        }
    }

    @Test func fusedMixedEqualsSeparateKernelsExactly() throws {
        let rows = 6, k = 32
        var x = QuantizationKernelTests.random(rows * k, seed: 8)
        for i in 0..<rows { x[i * k + 3] *= 20; x[i * k + 17] *= 20 }   // two outlier columns
        let parts = [5, 9, 4].enumerated().map { i, n in
            MixedInt8Linear(weights: Int8Weights(weight: QuantizationKernelTests.random(n * k, seed: UInt64(30 + i)), outFeatures: n, inFeatures: k),
                            bias: QuantizationKernelTests.random(n, seed: UInt64(40 + i)), threshold: 6)
        }
        let separate = parts.map { QuantizationKernelTests.apply($0, x, rows: rows) }
        let fused = try #require(parts[0].fused(with: [parts[1], parts[2]]))
        let pointers = parts.map { UnsafeMutablePointer<Float>.allocate(capacity: rows * $0.outFeatures) }
        defer { pointers.forEach { $0.deallocate() } }
        x.withUnsafeBufferPointer { fused.apply($0.baseAddress!, rows: rows, into: pointers) }
        for (i, part) in parts.enumerated() {
            #expect(Array(UnsafeBufferPointer(start: pointers[i], count: rows * part.outFeatures)) == separate[i], "part \(i)")
            #expect(part.outlierColumns == 4 && part.columnsSeen == 2 * k)   // one separate call and one fused call
        }
    }

    @Test func differentActivationRangesDoNotFuse() {
        let w = Int8Weights(weight: QuantizationKernelTests.random(4 * 8, seed: 1), outFeatures: 4, inFeatures: 8)
        let a = Int8Linear(weights: w, bias: [0, 0, 0, 0]), b = Int8Linear(weights: w, bias: [0, 0, 0, 0], activations: ActivationQuantization(lo: -1, hi: 1))
        #expect(a.fused(with: [b]) == nil)
    }
}

/// The int8 kernels split over threads (`Int8Linear.parts`: quantization by rows, the product and the
/// dequantization by output columns) against the same kernels on one thread: the integer products are exact and
/// every output element sees the same expression, so the outputs are bit for bit the same whatever the split.
@Suite struct Int8SplitKernelTests {
    // 130 × 96 ≥ Int8Scratch.splitElements and 130 · 300 · 96 ≥ Int8SplitGemm.splitMultiplyAdds: both split.
    @Test(arguments: [2, 3])
    func splitEqualsOneThreadExactly(parts: Int) {
        let k = 96, n = 300
        let weights = Int8Weights(weight: QuantizationKernelTests.random(n * k, seed: 3), outFeatures: n, inFeatures: k)
        let bias = QuantizationKernelTests.random(n, seed: 4)
        for activations in [nil, ActivationQuantization(lo: -2, hi: 2.5)] {
            let one = Int8Linear(weights: weights, bias: bias, activations: activations)
            let split = Int8Linear(weights: weights, bias: bias, activations: activations)
            split.parts = parts
            for rows in [130, 2, 130] {
                let x = QuantizationKernelTests.random(rows * k, seed: UInt64(rows), scale: 3)
                let y = QuantizationKernelTests.apply(split, x, rows: rows)
                #expect(y == QuantizationKernelTests.apply(one, x, rows: rows), "parts \(parts), rows \(rows)")
                #expect(maxRelative(y, split.reference(x, rows: rows)) <= Tolerance.quantKernelRelative)
            }
        }
    }

    /// LLM.int8() with its outlier product added in each slice's epilogue: split over threads (and fused over query,
    /// key and value, slices straddling a layer boundary) the bits of one thread, and within the kernel budget of its
    /// float64 reference.
    @Test(arguments: [2, 3])
    func splitMixedEqualsOneThreadExactly(parts: Int) throws {
        let rows = 130, k = 96
        var x = QuantizationKernelTests.random(rows * k, seed: 11, scale: 3)
        for i in 0..<rows { x[i * k + 5] *= 25; x[i * k + 90] *= 25 }   // two outlier columns
        func layers(_ threads: Int) -> [MixedInt8Linear] {
            [200, 150, 170].enumerated().map { i, n in
                let m = MixedInt8Linear(weights: Int8Weights(weight: QuantizationKernelTests.random(n * k, seed: UInt64(70 + i)),
                                                             outFeatures: n, inFeatures: k),
                                        bias: QuantizationKernelTests.random(n, seed: UInt64(80 + i)), threshold: 6)
                m.base.parts = threads
                return m
            }
        }
        let one = layers(1), split = layers(parts)
        for (a, b) in zip(one, split) {
            let y = QuantizationKernelTests.apply(b, x, rows: rows)
            #expect(y == QuantizationKernelTests.apply(a, x, rows: rows), "parts \(parts)")
            #expect(maxRelative(y, b.reference(x, rows: rows)) <= Tolerance.quantKernelRelative)
        }
        let fused = try #require(split[0].fused(with: [split[1], split[2]]))
        let pointers = split.map { UnsafeMutablePointer<Float>.allocate(capacity: rows * $0.outFeatures) }
        defer { pointers.forEach { $0.deallocate() } }
        x.withUnsafeBufferPointer { fused.apply($0.baseAddress!, rows: rows, into: pointers) }
        for (i, layer) in one.enumerated() {
            #expect(Array(UnsafeBufferPointer(start: pointers[i], count: rows * layer.outFeatures))
                    == QuantizationKernelTests.apply(layer, x, rows: rows), "fused part \(i), parts \(parts)")
        }
    }

    @Test(arguments: [1, 2])
    func geluInTheEpilogueEqualsGeluAfter(parts: Int) {
        let rows = 130, k = 96, n = 300
        let kernel = Int8Linear(weights: Int8Weights(weight: QuantizationKernelTests.random(n * k, seed: 5), outFeatures: n, inFeatures: k),
                                bias: QuantizationKernelTests.random(n, seed: 6))
        kernel.parts = parts
        let x = QuantizationKernelTests.random(rows * k, seed: 7, scale: 3)
        var after = QuantizationKernelTests.apply(kernel, x, rows: rows)
        after.withUnsafeMutableBufferPointer { Kernels.geluForward($0.baseAddress!, $0.baseAddress!, rows * n, threads: 1) }
        var fused = [Float](repeating: .nan, count: rows * n)
        x.withUnsafeBufferPointer { kernel.apply($0.baseAddress!, rows: rows, into: &fused, gelu: true) }
        #expect(fused == after)
    }

    @Test func splitFusedEqualsSeparateKernelsExactly() throws {
        // Stacked widths 200 + 150 + 170: the two column slices (260 each) straddle the first boundary.
        let rows = 130, k = 96
        let x = QuantizationKernelTests.random(rows * k, seed: 9, scale: 3)
        let layers = [200, 150, 170].enumerated().map { i, n in
            Int8Linear(weights: Int8Weights(weight: QuantizationKernelTests.random(n * k, seed: UInt64(50 + i)), outFeatures: n, inFeatures: k),
                       bias: QuantizationKernelTests.random(n, seed: UInt64(60 + i)))
        }
        let separate = layers.map { QuantizationKernelTests.apply($0, x, rows: rows) }
        layers.forEach { $0.parts = 2 }
        let fused = try #require(layers[0].fused(with: [layers[1], layers[2]]))
        let got = Int8FusedLinearTests.outputs(of: fused, x, rows: rows, widths: layers.map(\.outFeatures))
        for i in layers.indices { #expect(got[i] == separate[i], "layer \(i)") }
    }
}
