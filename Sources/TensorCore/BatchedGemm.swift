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
/// (no packing done twice, one hand-over per call, nothing allocated), with the kernel `GemmChoice` gives the
/// single-threaded shape (decided once per call, on the calling thread).
package func sgemmBatched(
    _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int, batches: Int, heads: Int,
    alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int, aStrides: BatchStrides,
    b: UnsafePointer<Float>, ldb: Int, bStrides: BatchStrides,
    beta: Float = 0,
    c: UnsafeMutablePointer<Float>, ldc: Int, cStrides: BatchStrides,
    threads requested: Int, reference: Bool = false
) {
    checkShape(transA, transB, m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc)
    let problem = BatchedGemm.Problem(transA, transB, m, n, k, batches, heads, alpha, a, lda, aStrides, b, ldb, bStrides,
                                      beta, c, ldc, cStrides)
    let threads = min(requested, batches * heads)
    if reference { return BatchedGemm.compute(problem, part: 0, parts: 1, kernel: nil) }
    let kernel = GemmChoice.kernel(transA, transB, m: m, n: n, k: k, threads: 1)
    if threads > 1 {
        let job = threadLocalJob(slot: 1, BatchedGemm.init)
        job.problem = problem; job.parts = threads; job.kernel = kernel
        Parallel.parts(threads, job)
        job.problem = nil
        return
    }
    BatchedGemm.compute(problem, part: 0, parts: 1, kernel: kernel)
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
    var kernel = GemmKernel.own

    func runPart(_ part: Int) {
        if let p = problem { Self.compute(p, part: part, parts: parts, kernel: kernel) }
    }

    /// Pairs part, part + parts, …, each product on this thread with `kernel` (nil: the reference).
    static func compute(_ p: Problem, part: Int, parts: Int, kernel: GemmKernel?) {
        for index in stride(from: part, to: p.batches * p.heads, by: parts) {
            let (bi, h) = (index / p.heads, index % p.heads)
            let ap = p.a + p.aStrides.offset(bi, h), bp = p.b + p.bStrides.offset(bi, h), cp = p.c + p.cStrides.offset(bi, h)
            if let kernel {
                GemmChoice.run(kernel, (p.transA, p.transB, p.m, p.n, p.k, p.alpha, ap, p.lda, bp, p.ldb, p.beta, cp, p.ldc),
                               threads: 1)
            } else {
                sgemmReference(p.transA, p.transB, m: p.m, n: p.n, k: p.k, alpha: p.alpha, a: ap, lda: p.lda, b: bp,
                               ldb: p.ldb, beta: p.beta, c: cp, ldc: p.ldc)
            }
        }
    }
}

/// A pointer handed to worker threads that write disjoint parts of it.
struct UnsafeSendable<P>: @unchecked Sendable {
    let value: P
    init(_ value: P) { self.value = value }
}
