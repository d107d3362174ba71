// The oneDNN sgemm against the plain-Swift reference, for every transpose combination and with beta.
import Testing
import TestSupport
@testable import TensorCore

@Suite struct GemmTests {
    @Test(arguments: [(Transpose.none, Transpose.none), (.transposed, .none), (.none, .transposed), (.transposed, .transposed)])
    func matchesReference64(transA: Transpose, transB: Transpose) {
        let (m, n, k) = (64, 64, 64)
        var rng = TestRandom(seed: 7)
        let a = (0..<(m * k)).map { _ in rng.uniform() }
        let b = (0..<(k * n)).map { _ in rng.uniform() }
        let initial = (0..<(m * n)).map { _ in rng.uniform() }
        var fast = initial, reference = initial
        sgemm(transA, transB, m: m, n: n, k: k, alpha: 0.5, a: a, lda: transA == .none ? k : m,
              b: b, ldb: transB == .none ? n : k, beta: 2, c: &fast, ldc: n, threads: 2)
        sgemmReference(transA, transB, m: m, n: n, k: k, alpha: 0.5, a: a, lda: transA == .none ? k : m,
                       b: b, ldb: transB == .none ? n : k, beta: 2, c: &reference, ldc: n)
        let scale = reference.map(abs).max()!
        let worst = zip(fast, reference).map { abs($0 - $1) }.max()!
        #expect(worst <= Tolerance.gemmRelative * scale, "max |oneDNN − reference| = \(worst), scale \(scale)")
    }

    @Test func rectangularShapesAndStrides() {
        // C (5×3) inside a wider buffer (ldc 8), A (5×7), B (7×3): checks strides are honoured.
        let (m, n, k, ldc) = (5, 3, 7, 8)
        var rng = TestRandom(seed: 11)
        let a = (0..<(m * k)).map { _ in rng.uniform() }
        let b = (0..<(k * n)).map { _ in rng.uniform() }
        var fast = [Float](repeating: 42, count: m * ldc)
        var reference = fast
        sgemm(.none, .none, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: &fast, ldc: ldc, threads: 2)
        sgemmReference(.none, .none, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: &reference, ldc: ldc)
        for i in 0..<m {
            for j in 0..<ldc {
                let (f, r) = (fast[i * ldc + j], reference[i * ldc + j])
                if j >= n { #expect(f == 42, "padding column \(j) of row \(i) was written") }
                else { #expect(abs(f - r) <= Tolerance.gemmRelative * max(1, abs(r))) }
            }
        }
    }

    @Test func hand_computed2x2() {
        // [[1,2],[3,4]] · [[5,6],[7,8]] = [[19,22],[43,50]]
        var c = [Float](repeating: 0, count: 4)
        sgemm(.none, .none, m: 2, n: 2, k: 2, a: [1, 2, 3, 4], lda: 2, b: [5, 6, 7, 8], ldb: 2, c: &c, ldc: 2, threads: 2)
        #expect(c == [19, 22, 43, 50])
    }

    @Test func reportsBackend() {
        #expect(ComputeInfo.oneDNNVersion.split(separator: ".").count == 3)
        #expect(ComputeInfo.threads >= 1)
        #expect(!ComputeInfo.isa.isEmpty)
    }
}
