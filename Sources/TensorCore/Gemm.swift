// Single-precision matrix multiply: the oneDNN fast path and the plain-Swift reference beside it.
import CDNNL

/// Whether an operand is used as stored or transposed.
package enum Transpose: Sendable {
    case none, transposed
    var blasFlag: CChar { self == .none ? CChar(UInt8(ascii: "N")) : CChar(UInt8(ascii: "T")) }
}

/// Below this many multiply-adds (about 1.5 ms on one AVX2 core) sgemm runs single-threaded. Measured on the
/// loaded 2-core EPYC: with 2^21, batch-1 inference of the small model took 190 ms; with 2^26, 15 ms (oneDNN's
/// two-thread path for M = 128 shapes stalled on the busy machine). Large products stay multi-threaded.
package let smallGemmMultiplyAdds = 1 << 26

/// Runs `body` with oneDNN limited to the calling thread when the product has fewer than `smallGemmMultiplyAdds`
/// multiply-adds: an OpenMP fork/join costs more than such a product, and far more when the machine is
/// oversubscribed (a descheduled worker stalls the barrier for a time slice). Every GEMM entry point uses it.
@inline(__always)
package func withGemmThreads<R>(multiplyAdds: Int, _ body: () -> R) -> R {
    let previous = omp_get_max_threads()
    let small = multiplyAdds < smallGemmMultiplyAdds && previous > 1
    if small { omp_set_num_threads(1) }
    defer { if small { omp_set_num_threads(previous) } }
    return body()
}

/// C = alpha · op(A) · op(B) + beta · C, row-major, through oneDNN.
/// op(A) is (M, K), op(B) is (K, N), C is (M, N); lda/ldb/ldc are the row strides of the stored matrices.
package func sgemm(
    _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    precondition(m >= 0 && n >= 0 && k >= 0, "sgemm: negative dimension")
    let status = withGemmThreads(multiplyAdds: m * n * k) {
        dnnl_sgemm(transA.blasFlag, transB.blasFlag, Int64(m), Int64(n), Int64(k),
                   alpha, a, Int64(lda), b, Int64(ldb), beta, c, Int64(ldc))
    }
    // A failure here means invalid arguments (a programmer error), not bad input.
    precondition(status == dnnl_success, "dnnl_sgemm failed with status \(status.rawValue)")
}

/// The reference for `sgemm`: the same contract, written as three plain loops. Used as a test oracle.
package func sgemmReference(
    _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    for i in 0..<m {
        for j in 0..<n {
            var sum: Double = 0
            for p in 0..<k {
                let av = transA == .none ? a[i * lda + p] : a[p * lda + i]
                let bv = transB == .none ? b[p * ldb + j] : b[j * ldb + p]
                sum += Double(av) * Double(bv)
            }
            let scaled = Float(Double(alpha) * sum)
            c[i * ldc + j] = beta == 0 ? scaled : scaled + beta * c[i * ldc + j]
        }
    }
}
