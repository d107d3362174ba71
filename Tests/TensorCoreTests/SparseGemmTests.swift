// The CSR sparse × dense kernel against oneDNN's dense sgemm on the densified weights.
import Testing
import TestSupport
@testable import TensorCore

/// The CSR kernel against the dense sgemm on the same (densified) weights.
@Suite struct SparseGemmTests {
    @Test(arguments: [(7, 13, 5, 0.0), (130, 40, 33, 0.9), (300, 24, 17, 0.5)])
    func csrMatchesDense(n: Int, k: Int, m: Int, sparsity: Double) {
        var rng = Xoshiro256(seed: UInt64(n))
        var w = (0..<(m * k)).map { _ in rng.normal() }
        for i in w.indices where rng.uniform() < Float(sparsity) { w[i] = 0 }
        let x = (0..<(n * k)).map { _ in rng.normal() }, bias = (0..<m).map { _ in rng.normal() }
        var dense = [Float](repeating: 0, count: n * m)
        sgemm(.none, .transposed, m: n, n: m, k: k, a: x, lda: k, b: w, ldb: k, c: &dense, ldc: m, threads: 1)
        for r in 0..<n { for j in 0..<m { dense[r * m + j] += bias[j] } }
        let csr = CSRMatrix(dense: w, rows: m, cols: k)
        #expect(csr.nonZeros == w.filter { $0 != 0 }.count)
        var y = [Float](repeating: .nan, count: n * m)
        var scratch = [Float](repeating: 0, count: csr.scratchCount(n: n))
        csr.multiply(x: x, n: n, bias: bias, y: &y, scratch: &scratch)
        let scale = dense.map(abs).max()!
        let err = zip(dense, y).map { abs($0 - $1) }.max()!
        #expect(err <= Tolerance.kernelRelative * scale * Float(k).squareRoot(), "error \(err) of \(scale)")
    }
}
