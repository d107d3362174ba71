// Batched matmul for attention: one (M, N, K) product per (batch, head) pair, with strides, through oneDNN's
// sgemm in a loop, and the plain-Swift reference beside it. The loop can be split across threads, each running
// single-threaded sgemm: one OpenMP fork/join per tiny (T×T×HS) product costs more than the product.
import CDNNL
import Dispatch

/// Where matrix (b, h) of a batched operand starts: `b · batchStride + h · headStride` floats from the base.
package struct BatchStrides: Sendable {
    package var batch: Int
    package var head: Int
    package init(batch: Int, head: Int) { self.batch = batch; self.head = head }
    @inline(__always) func offset(_ b: Int, _ h: Int) -> Int { b * batch + h * head }
}

/// For every b in 0..<batches and h in 0..<heads: C[b,h] = alpha · op(A[b,h]) · op(B[b,h]) + beta · C[b,h].
/// Leading dimensions apply within each matrix, so heads can be read in place from (B, T, C) activations.
/// `parallel` splits the pairs over the worker threads of `Parallel.parts` (each running single-threaded sgemm).
package func sgemmBatched(
    _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int, batches: Int, heads: Int,
    alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int, aStrides: BatchStrides,
    b: UnsafePointer<Float>, ldb: Int, bStrides: BatchStrides,
    beta: Float = 0,
    c: UnsafeMutablePointer<Float>, ldc: Int, cStrides: BatchStrides,
    reference: Bool = false, parallel: Bool = Parallel.useDispatch
) {
    let total = batches * heads
    let threads = reference || !parallel ? 1 : min(Int(omp_get_max_threads()), total)
    if threads > 1 {
        // On the persistent pool of Parallel.parts, each part with oneDNN on one thread.
        Parallel.parts(threads) { part in
            for index in stride(from: part, to: total, by: threads) {
                let (bi, h) = (index / heads, index % heads)
                sgemm(transA, transB, m: m, n: n, k: k, alpha: alpha, a: a + aStrides.offset(bi, h), lda: lda,
                      b: b + bStrides.offset(bi, h), ldb: ldb, beta: beta, c: c + cStrides.offset(bi, h), ldc: ldc)
            }
        }
        return
    }
    for bi in 0..<batches {
        for h in 0..<heads {
            let ap = a + aStrides.offset(bi, h), bp = b + bStrides.offset(bi, h), cp = c + cStrides.offset(bi, h)
            if reference {
                sgemmReference(transA, transB, m: m, n: n, k: k, alpha: alpha, a: ap, lda: lda, b: bp, ldb: ldb,
                               beta: beta, c: cp, ldc: ldc)
            } else {
                sgemm(transA, transB, m: m, n: n, k: k, alpha: alpha, a: ap, lda: lda, b: bp, ldb: ldb,
                      beta: beta, c: cp, ldc: ldc)
            }
        }
    }
}

/// A pointer handed to worker threads that write disjoint parts of it.
struct UnsafeSendable<P>: @unchecked Sendable {
    let value: P
    init(_ value: P) { self.value = value }
}
