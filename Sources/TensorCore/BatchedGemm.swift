// Batched matmul for attention: one (M, N, K) product per (batch, head) pair, with strides, through `sgemm` in a
// loop, and the plain-Swift reference beside it. The loop is split across threads, each running whole products on
// one thread: a split (or an OpenMP fork/join) per tiny (T×T×HS) product costs more than the product.

/// Where matrix (b, h) of a batched operand starts: `b · batchStride + h · headStride` floats from the base.
package struct BatchStrides: Sendable {
    package var batch: Int
    package var head: Int
    package init(batch: Int, head: Int) { self.batch = batch; self.head = head }
    @inline(__always) func offset(_ b: Int, _ h: Int) -> Int { b * batch + h * head }
}

/// For every b in 0..<batches and h in 0..<heads: C[b,h] = alpha · op(A[b,h]) · op(B[b,h]) + beta · C[b,h].
/// Leading dimensions apply within each matrix, so heads can be read in place from (B, T, C) activations.
/// The pairs are dealt round-robin over up to `threads` threads of `Parallel.parts`, each product whole on one thread
/// (no packing done twice, one hand-over per call, nothing allocated) when the kernel is CGemm; with oneDNN's sgemm
/// they run in turn on the calling thread (its OpenMP threads may still be spinning from the last large product).
package func sgemmBatched(
    _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int, batches: Int, heads: Int,
    alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int, aStrides: BatchStrides,
    b: UnsafePointer<Float>, ldb: Int, bStrides: BatchStrides,
    beta: Float = 0,
    c: UnsafeMutablePointer<Float>, ldc: Int, cStrides: BatchStrides,
    threads requested: Int, reference: Bool = false
) {
    let problem = BatchedGemm.Problem(transA, transB, m, n, k, batches, heads, alpha, a, lda, aStrides, b, ldb, bStrides,
                                      beta, c, ldc, cStrides)
    let threads = min(requested, batches * heads)
    if !reference && threads > 1 && GemmKernel.current == .own {
        let job = threadLocalJob(slot: 1, BatchedGemm.init)
        job.problem = problem; job.parts = threads
        Parallel.parts(threads, job)
        job.problem = nil
        return
    }
    BatchedGemm.compute(problem, part: 0, parts: 1, threads: requested, reference: reference)
}

/// The job of a threaded `sgemmBatched`: part p computes pairs p, p + parts, p + 2·parts, … One object per calling
/// thread (CGemm thread slot 1).
final class BatchedGemm: PartsBody {
    typealias Problem = (transA: Transpose, transB: Transpose, m: Int, n: Int, k: Int, batches: Int, heads: Int,
                         alpha: Float, a: UnsafePointer<Float>, lda: Int, aStrides: BatchStrides,
                         b: UnsafePointer<Float>, ldb: Int, bStrides: BatchStrides, beta: Float,
                         c: UnsafeMutablePointer<Float>, ldc: Int, cStrides: BatchStrides)
    var problem: Problem?
    var parts = 1

    func runPart(_ part: Int) {
        if let p = problem { Self.compute(p, part: part, parts: parts, threads: 1, reference: false) }
    }

    /// Pairs part, part + parts, …, each product on up to `threads` threads (1 when split: each part is one thread).
    static func compute(_ p: Problem, part: Int, parts: Int, threads: Int, reference: Bool) {
        for index in stride(from: part, to: p.batches * p.heads, by: parts) {
            let (bi, h) = (index / p.heads, index % p.heads)
            let ap = p.a + p.aStrides.offset(bi, h), bp = p.b + p.bStrides.offset(bi, h), cp = p.c + p.cStrides.offset(bi, h)
            if reference {
                sgemmReference(p.transA, p.transB, m: p.m, n: p.n, k: p.k, alpha: p.alpha, a: ap, lda: p.lda, b: bp,
                               ldb: p.ldb, beta: p.beta, c: cp, ldc: p.ldc)
            } else {
                sgemm(p.transA, p.transB, m: p.m, n: p.n, k: p.k, alpha: p.alpha, a: ap, lda: p.lda, b: bp, ldb: p.ldb,
                      beta: p.beta, c: cp, ldc: p.ldc, threads: threads)
            }
        }
    }
}

/// A pointer handed to worker threads that write disjoint parts of it.
struct UnsafeSendable<P>: @unchecked Sendable {
    let value: P
    init(_ value: P) { self.value = value }
}
