// Our own AVX2 GEMM (CGemm) against the plain-Swift reference: every transpose combination, shapes that cross
// each blocking boundary (MR 6, NR 16, KC 256, MC 144, NC 4080), alpha and beta (beta 0 must not read C), strided
// operands with their padding untouched, pre-packed B, and the thread split (same bits as one thread).
import CGemm
import Testing
import TestSupport
@testable import TensorCore

@Suite(.enabled(if: GemmKernel.ownAvailable, "CGemm needs AVX2 and FMA")) struct OwnGemmTests {
    struct Problem: CustomStringConvertible {
        var m: Int, n: Int, k: Int, transA: Transpose, transB: Transpose, alpha: Float = 1, beta: Float = 0
        /// Extra floats per stored row, so that strides are not the dense ones.
        var pad = 0
        var description: String { "\(m)×\(n)×\(k) \(transA == .none ? "N" : "T")\(transB == .none ? "N" : "T") α\(alpha) β\(beta) pad \(pad)" }
        var lda: Int { (transA == .none ? k : m) + pad }
        var ldb: Int { (transB == .none ? n : k) + pad }
        var ldc: Int { n + pad }
        var aCount: Int { (transA == .none ? m : k) * lda }
        var bCount: Int { (transB == .none ? k : n) * ldb }
    }

    static let shapes: [(Int, Int, Int)] = [(1, 1, 1), (7, 17, 5), (6, 16, 256), (150, 35, 300), (13, 4100, 9), (145, 33, 513)]
    static let problems: [Problem] = shapes.flatMap { s in
        [(Transpose.none, Transpose.none), (.transposed, .none), (.none, .transposed), (.transposed, .transposed)].map {
            Problem(m: s.0, n: s.1, k: s.2, transA: $0.0, transB: $0.1)
        }
    } + [
        Problem(m: 31, n: 47, k: 70, transA: .none, transB: .transposed, alpha: 0.5, beta: 2, pad: 3),
        Problem(m: 31, n: 47, k: 70, transA: .transposed, transB: .none, alpha: -1.5, beta: 1, pad: 5),
        Problem(m: 20, n: 40, k: 300, transA: .none, transB: .none, alpha: 1, beta: 0, pad: 1),
    ]

    static func operands(_ p: Problem, seed: UInt64) -> (a: [Float], b: [Float], c: [Float]) {
        var rng = TestRandom(seed: seed)
        let a = (0..<p.aCount).map { _ in rng.uniform() - 0.5 }
        let b = (0..<p.bCount).map { _ in rng.uniform() - 0.5 }
        // beta 0 must ignore C entirely: NaN there would show through any read.
        let c = (0..<(p.m * p.ldc)).map { i in p.beta == 0 && i % p.ldc < p.n ? Float.nan : (i % p.ldc < p.n ? rng.uniform() : 42) }
        return (a, b, c)
    }

    /// |fast − reference| within the GEMM tolerance of the result's scale, and every padding float still 42.
    static func expectMatches(_ fast: [Float], _ reference: [Float], _ p: Problem, _ what: String) {
        let scale = max(1, reference.filter { $0 != 42 }.map(abs).max() ?? 1)
        var worst: Float = 0, paddingWritten = 0
        for i in 0..<p.m {
            for j in 0..<p.ldc {
                let (f, r) = (fast[i * p.ldc + j], reference[i * p.ldc + j])
                if j >= p.n { if f != 42 { paddingWritten += 1 } } else { worst = max(worst, f.isNaN ? .infinity : abs(f - r)) }
            }
        }
        #expect(worst <= Tolerance.gemmRelative * scale, "\(what) \(p): max |CGemm − reference| = \(worst), scale \(scale)")
        #expect(paddingWritten == 0, "\(what) \(p): \(paddingWritten) padding floats written")
    }

    @Test(arguments: problems)
    func matchesReference(_ p: Problem) {
        let (a, b, c) = Self.operands(p, seed: UInt64(p.m * 1000 + p.n * 10 + p.k))
        var fast = c, reference = c.map { $0.isNaN ? 0 : $0 }
        cgemm_sgemm(p.transA.flag, p.transB.flag, p.m, p.n, p.k, p.alpha, a, p.lda, b, p.ldb, p.beta, &fast, p.ldc)
        sgemmReference(p.transA, p.transB, m: p.m, n: p.n, k: p.k, alpha: p.alpha, a: a, lda: p.lda, b: b, ldb: p.ldb,
                       beta: p.beta, c: &reference, ldc: p.ldc)
        Self.expectMatches(fast, reference, p, "cgemm_sgemm")
    }

    @Test(arguments: problems.filter { $0.transB == .transposed || $0.pad > 0 })
    func prePackedBGivesTheSameBits(_ p: Problem) {
        let (a, b, c) = Self.operands(p, seed: 99)
        var direct = c, packed = c
        cgemm_sgemm(p.transA.flag, p.transB.flag, p.m, p.n, p.k, p.alpha, a, p.lda, b, p.ldb, p.beta, &direct, p.ldc)
        var panels = [Float](repeating: .nan, count: cgemm_packed_b_floats(p.n, p.k))
        cgemm_pack_b(p.transB.flag, p.n, p.k, b, p.ldb, &panels)
        cgemm_sgemm_packed(p.transA.flag, p.m, p.n, p.k, p.alpha, a, p.lda, panels, p.beta, &packed, p.ldc)
        #expect(zip(direct, packed).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }, "\(p): packed and direct differ")
        // Columns from the second panel on: the panels from `(j0 / NR) · k · NR`, C from column j0.
        let nr = Int(cgemm_nr)
        if p.n > nr {
            var tail = c
            panels.withUnsafeBufferPointer { pp in
                tail.withUnsafeMutableBufferPointer { tp in
                    for i in 0..<p.m { for j in nr..<p.n { tp[i * p.ldc + j] = c[i * p.ldc + j] } }
                    cgemm_sgemm_packed(p.transA.flag, p.m, p.n - nr, p.k, p.alpha, a, p.lda, pp.baseAddress! + nr * p.k,
                                       p.beta, tp.baseAddress! + nr, p.ldc)
                }
            }
            for i in 0..<p.m {
                for j in nr..<p.n { #expect(tail[i * p.ldc + j] == direct[i * p.ldc + j], "\(p): tail column \(j) row \(i)") }
            }
        }
    }

    @Test func emptyInnerDimensionScalesC() {
        var c: [Float] = [1, 2, 3, 4], zeroed: [Float] = [.nan, .nan, .nan, .nan]
        let a: [Float] = [1], b: [Float] = [1]
        cgemm_sgemm(0, 0, 2, 2, 0, 1, a, 1, b, 2, 3, &c, 2)
        #expect(c == [3, 6, 9, 12], "k = 0: C = beta · C")
        cgemm_sgemm(0, 0, 2, 2, 0, 1, a, 1, b, 2, 0, &zeroed, 2)
        #expect(zeroed == [0, 0, 0, 0], "k = 0, beta 0: zeros, C not read")
    }

    @Test(arguments: [(300, 200, 64, Transpose.none, Transpose.transposed), (40, 900, 70, .transposed, .none), (1000, 20, 80, .none, .none)])
    func theThreadSplitGivesTheSameBits(m: Int, n: Int, k: Int, transA: Transpose, transB: Transpose) {
        // Above splitMultiplyAdds `sgemm` splits C over the threads it is given (by columns, or by rows when C is
        // narrow); every element's sum is the same, so the bits equal one thread's, for 2 and 3 threads.
        let p = Problem(m: m, n: n, k: k, transA: transA, transB: transB, alpha: 0.75, beta: 0.5)
        #expect(m * n * k >= GemmKernel.splitMultiplyAdds)
        let (a, b, c) = Self.operands(p, seed: 5)
        var one = c
        cgemm_sgemm(transA.flag, transB.flag, m, n, k, p.alpha, a, p.lda, b, p.ldb, p.beta, &one, p.ldc)
        for threads in [2, 3] {
            var split = c
            sgemm(transA, transB, m: m, n: n, k: k, alpha: p.alpha, a: a, lda: p.lda, b: b, ldb: p.ldb, beta: p.beta,
                  c: &split, ldc: p.ldc, threads: threads)
            #expect(one == split, "\(p): split over \(threads) threads and one-thread results differ")
        }
        // And through pre-packed weights (`PackedWeights`, op(B) = Wᵀ), which splits the same way.
        if transA == .none && transB == .transposed {
            b.withUnsafeBufferPointer { w in
                let packed = PackedWeights(weight: w.baseAddress!, outFeatures: n, inFeatures: k)
                var y = [Float](repeating: .nan, count: m * n), expected = y
                packed.multiply(a, rows: m, into: &y, threads: 2)
                cgemm_sgemm(0, 1, m, n, k, 1, a, k, b, k, 0, &expected, n)
                #expect(y == expected, "PackedWeights split differs from one thread")
            }
        }
    }
}
