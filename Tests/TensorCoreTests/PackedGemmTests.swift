// Pre-packed weights (CGemm's panels) against the plain-Swift reference: odd shapes, one product above the
// split threshold, repeated use of a packing, one packing for every row count, and strided operands.
import Testing
import TestSupport
@testable import TensorCore
import CDNNL

@Suite struct PackedGemmTests {
    /// x (rows, in) · Wᵀ for W (out, in), by the reference kernel.
    func reference(_ x: [Float], _ w: [Float], rows: Int, out: Int, inF: Int) -> [Float] {
        var y = [Float](repeating: 0, count: rows * out)
        sgemmReference(.none, .transposed, m: rows, n: out, k: inF, a: x, lda: inF, b: w, ldb: inF, c: &y, ldc: out)
        return y
    }

    func expectClose(_ fast: [Float], _ ref: [Float], _ what: String) {
        let scale = max(1, ref.map(abs).max() ?? 1)
        let worst = zip(fast, ref).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= Tolerance.gemmRelative * scale, "\(what): max |packed − reference| = \(worst), scale \(scale)")
    }

    @Test(arguments: [(1, 5, 3), (7, 33, 17), (128, 64, 96), (128, 1024, 768)])
    func matchesReference(rows: Int, out: Int, inF: Int) {
        var rng = TestRandom(seed: UInt64(rows * 31 + out))
        let w = (0..<(out * inF)).map { _ in rng.uniform() - 0.5 }
        let x = (0..<(rows * inF)).map { _ in rng.uniform() - 0.5 }
        let ref = reference(x, w, rows: rows, out: out, inF: inF)
        w.withUnsafeBufferPointer { wp in
            let packed = PackedWeights(weight: wp.baseAddress!, outFeatures: out, inFeatures: inF)
            var first = [Float](repeating: .nan, count: rows * out), second = first
            packed.multiply(x, rows: rows, into: &first, threads: 2)
            packed.multiply(x, rows: rows, into: &second, threads: 2)
            expectClose(first, ref, "(\(rows), \(out), \(inF))")
            #expect(first == second, "a packing reused gives the same bits")
            #expect(packed.isPacked == GemmKernel.ownAvailable)
        }
    }

    @Test func onePackingServesEveryRowCountAndStride() {
        let (out, inF) = (24, 40)
        var rng = TestRandom(seed: 5)
        let w = (0..<(out * inF)).map { _ in rng.uniform() - 0.5 }
        w.withUnsafeBufferPointer { wp in
            let packed = PackedWeights(weight: wp.baseAddress!, outFeatures: out, inFeatures: inF)
            for rows in [9, 3, 9, 16] {
                let x = (0..<(rows * inF)).map { _ in rng.uniform() - 0.5 }
                var y = [Float](repeating: .nan, count: rows * out)
                packed.multiply(x, rows: rows, into: &y, threads: 2)
                expectClose(y, reference(x, w, rows: rows, out: out, inF: inF), "rows \(rows)")
            }
            // Strided output only (ldy 30); padding left untouched.
            do {
                let rows = 9, ldy = 30
                let x = (0..<(rows * inF)).map { _ in rng.uniform() - 0.5 }
                var y = [Float](repeating: 42, count: rows * ldy)
                packed.multiply(x, rows: rows, into: &y, ldy: ldy, threads: 2)
                let ref = reference(x, w, rows: rows, out: out, inF: inF)
                for r in 0..<rows {
                    expectClose(Array(y[(r * ldy)..<(r * ldy + out)]), Array(ref[(r * out)..<((r + 1) * out)]), "ldy row \(r)")
                    #expect(y[(r * ldy + out)..<((r + 1) * ldy)].allSatisfy { $0 == 42 }, "padding of row \(r) untouched")
                }
            }
            // Strided input and output (ldx 48, ldy 30), padding left untouched.
            let rows = 5, ldx = 48, ldy = 30
            let xs = (0..<(rows * ldx)).map { _ in rng.uniform() - 0.5 }
            var y = [Float](repeating: 42, count: rows * ldy)
            packed.multiply(xs, ldx: ldx, rows: rows, into: &y, ldy: ldy, threads: 2)
            let dense = (0..<rows).flatMap { r in xs[(r * ldx)..<(r * ldx + inF)] }
            let ref = reference(Array(dense), w, rows: rows, out: out, inF: inF)
            for r in 0..<rows {
                expectClose(Array(y[(r * ldy)..<(r * ldy + out)]), Array(ref[(r * out)..<((r + 1) * out)]), "strided row \(r)")
                #expect(y[(r * ldy + out)..<((r + 1) * ldy)].allSatisfy { $0 == 42 }, "padding of row \(r) untouched")
            }
        }
    }
}

@Suite struct OneDNNHelperTests {
    @Test func matrixDescriptorCoversTheStridedExtent() {
        // (3, 5) with row stride 8: oneDNN sizes a strided buffer as rows · stride (the last row padded too),
        // 3 · 8 floats = 96 bytes, so a buffer of that size is what it may touch.
        var md = OneDNN.matrixDescriptor(rows: 3, cols: 5, ld: 8)
        #expect(dnnl_memory_desc_get_size(&md) == 96)
        #expect(md.ndims == 2 && md.dims.0 == 3 && md.dims.1 == 5)
    }

    @Test func engineAndStreamExist() {
        var kind = dnnl_any_engine
        OneDNN.check(dnnl_engine_get_kind(OneDNN.engine, &kind), "engine_get_kind")
        #expect(kind == dnnl_cpu)
        OneDNN.check(dnnl_stream_wait(OneDNN.stream), "stream_wait")
    }
}
