// oneDNN's fp32 matmul path (FloatMatmul) against the plain-Swift reference: every transpose combination, odd
// shapes, row strides longer than the row, alpha and beta other than 1 and 0, on one thread, split over the pool
// and on OpenMP; and the per-thread primitive cache.
import Testing
import TestSupport
@testable import TensorCore

@Suite(.serialized) struct FloatMatmulTests {
    static let transposes = [(Transpose.none, Transpose.none), (.transposed, .none), (.none, .transposed), (.transposed, .transposed)]

    /// Runs oneDNN's path and the reference on the same operands (row strides padded by `pad`) and returns the
    /// worst difference relative to the result's scale; C's padding must stay untouched.
    static func compare(_ ta: Transpose, _ tb: Transpose, m: Int, n: Int, k: Int, pad: Int, alpha: Float, beta: Float,
                        threads: Int, threading: FloatMatmul.Threading = .pool, seed: UInt64) -> Float {
        var rng = TestRandom(seed: seed)
        let (lda, ldb, ldc) = ((ta == .none ? k : m) + pad, (tb == .none ? n : k) + pad, n + pad)
        let a = (0..<((ta == .none ? m : k) * lda)).map { _ in rng.uniform() - 0.5 }
        let b = (0..<((tb == .none ? k : n) * ldb)).map { _ in rng.uniform() - 0.5 }
        // beta 0 must ignore C, NaN included (C may be uninitialised workspace).
        let initial = (0..<(m * ldc)).map { i in beta == 0 && i % ldc < n ? Float.nan : rng.uniform() }
        var fast = initial, reference = initial
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                fast.withUnsafeMutableBufferPointer { c in
                    FloatMatmul.run((ta, tb, m, n, k, alpha, a.baseAddress!, lda, b.baseAddress!, ldb, beta, c.baseAddress!, ldc),
                                    threads: threads, threading: threading)
                }
            }
        }
        sgemmReference(ta, tb, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: &reference, ldc: ldc)
        var worst: Float = 0, scale: Float = 1
        for i in 0..<m {
            for j in 0..<ldc {
                let (f, r) = (fast[i * ldc + j], reference[i * ldc + j])
                if j >= n {
                    #expect(f.bitPattern == initial[i * ldc + j].bitPattern, "padding (\(i), \(j)) was written")
                } else {
                    worst = max(worst, f.isNaN ? .infinity : abs(f - r)); scale = max(scale, abs(r))
                }
            }
        }
        return worst / scale
    }

    @Test(arguments: transposes)
    func matchesReferenceOnOddShapes(transA: Transpose, transB: Transpose) {
        for (m, n, k, pad, alpha, beta) in [(37, 53, 29, 0, Float(1), Float(0)), (5, 3, 7, 3, 0.5, 2), (64, 1, 130, 1, -1, 1),
                                            (1, 77, 9, 5, 2, 0.25)] {
            let error = Self.compare(transA, transB, m: m, n: n, k: k, pad: pad, alpha: alpha, beta: beta, threads: 1, seed: UInt64(m * n))
            #expect(error <= Tolerance.gemmRelative, "\(m)×\(n)×\(k) pad \(pad) alpha \(alpha) beta \(beta): \(error)")
        }
    }

    @Test(arguments: [FloatMatmul.Threading.pool, .openMP])
    func matchesReferenceWhenSplit(threading: FloatMatmul.Threading) {
        // Above the split threshold: wide C (split by columns) and narrow C (split by rows), padded strides.
        for ((ta, tb), (m, n, k)) in zip(Self.transposes, [(130, 200, 70), (400, 40, 100), (97, 333, 65), (300, 50, 90)]) {
            #expect(m * n * k >= GemmKernel.splitMultiplyAdds)
            let error = Self.compare(ta, tb, m: m, n: n, k: k, pad: 3, alpha: 0.5, beta: 2, threads: 2, threading: threading,
                                    seed: UInt64(k))
            #expect(error <= Tolerance.gemmRelative, "\(threading) \(m)×\(n)×\(k): \(error)")
        }
    }

    @Test func emptyReductionScalesC() {
        let ab = FloatBuffer(count: 4), c = FloatBuffer(count: 4)
        for i in 0..<4 { c.pointer[i] = Float(i + 1) }
        GemmChoice.run(.oneDNN, (.none, .none, 2, 2, 0, 1, UnsafePointer(ab.pointer), 1, UnsafePointer(ab.pointer), 2, 3, c.pointer, 2), threads: 1)
        #expect((0..<4).map { c.pointer[$0] } == [3, 6, 9, 12])
    }

    @Test func aProblemCreatesItsPrimitiveOnce() {
        let before = FloatMatmul.plansCreated
        // A shape no other test of this thread uses.
        for _ in 0..<3 { _ = Self.compare(.none, .transposed, m: 11, n: 13, k: 17, pad: 0, alpha: 1, beta: 0, threads: 1, seed: 3) }
        #expect(FloatMatmul.plansCreated == before + 1)
        #expect(FloatMatmul.cachedPlans <= FloatMatmul.maxPlans)
    }

    @Test func theCacheIsBounded() {
        for n in 1...(FloatMatmul.maxPlans + 5) {
            _ = Self.compare(.none, .none, m: 2, n: n, k: 3, pad: 0, alpha: 1, beta: 0, threads: 1, seed: 1)
            #expect(FloatMatmul.cachedPlans <= FloatMatmul.maxPlans)
        }
    }
}
