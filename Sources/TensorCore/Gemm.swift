// Single-precision matrix multiply: our own AVX2 kernel (CGemm, split across `Parallel.parts` threads) and
// oneDNN's matmul primitive (FloatMatmul.swift), the kernel chosen per product by `GemmChoice`, and the
// plain-Swift reference beside both.
import CGemm

/// Whether an operand is used as stored or transposed.
package enum Transpose: Sendable {
    case none, transposed
    var blasFlag: CChar { self == .none ? CChar(UInt8(ascii: "N")) : CChar(UInt8(ascii: "T")) }
    var flag: Int32 { self == .none ? 0 : 1 }
}

/// Below this many multiply-adds (about 1.5 ms on one AVX2 core) a oneDNN product on its OpenMP team runs
/// single-threaded: an OpenMP fork/join costs more than such a product, and far more when the machine is
/// oversubscribed (a descheduled worker stalls the barrier for a time slice). docs/benchmarks.md has the
/// measurement behind the value.
package let smallGemmMultiplyAdds = 1 << 26

/// A kernel that runs `sgemm`, `PackedWeights` and `sgemmBatched` products (`GemmChoice` says which, per product).
package enum GemmKernel: String, Sendable, CaseIterable, Codable {
    /// CGemm: allocation-free after a thread's first call, and its bits do not depend on the thread count. Needs
    /// AVX2 and FMA.
    case own
    /// oneDNN's matmul primitive, cached per problem and thread (`FloatMatmul`).
    case oneDNN

    /// Whether this processor can run `own`.
    package static let ownAvailable = cgemm_supported() != 0
    /// Products of at least this many multiply-adds are split across the compute threads, with either kernel (a
    /// hand-over to the spinning pool costs a few µs; 2^20 multiply-adds take ~25 µs on one core).
    package static let splitMultiplyAdds = 1 << 20
}

/// C = alpha · op(A) · op(B) + beta · C, row-major, through `GemmChoice`'s kernel for the shape, on up to
/// `threads` threads (the caller's `ComputeContext.threads`; 1 inside a `Parallel.parts` body).
/// op(A) is (M, K), op(B) is (K, N), C is (M, N); lda/ldb/ldc are the row strides of the stored matrices.
package func sgemm(
    _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int
) {
    checkShape(transA, transB, m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc)
    let kernel = GemmChoice.kernel(transA, transB, m: m, n: n, k: k, threads: threads)
    GemmChoice.run(kernel, (transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc), threads: threads)
}

/// Stops on a negative dimension or a row stride shorter than its row (oneDNN checks the same and fails; CGemm
/// trusts them).
@inline(__always)
func checkShape(_ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int, lda: Int, ldb: Int, ldc: Int) {
    precondition(m >= 0 && n >= 0 && k >= 0, "sgemm: negative dimension")
    precondition(lda >= max(1, transA == .none ? k : m) && ldb >= max(1, transB == .none ? n : k) && ldc >= max(1, n),
                 "sgemm: a row stride is shorter than its row (lda \(lda), ldb \(ldb), ldc \(ldc) for \(m)×\(n)×\(k))")
}

/// One CGemm product, split into `parts` blocks of C each computed on its own thread of `Parallel.parts` when it
/// is large enough: by columns (on panel boundaries) when each part gets at least two panels, else by rows.
/// Columns even when C is tall: each thread then packs only its own part of op(B) (splitting rows packs all of
/// op(B) twice); measured with two threads, columns gave 144–156 GFLOP/s on the training shapes where rows gave
/// 125–148 (oneDNN: 143–152). Every element of C sees the same sums in the same order whatever the split, so results
/// do not depend on the thread count. One object per calling thread (`threadLocalJob`, slot 0), so a product
/// allocates nothing after a thread's first.
final class SplitGemm: PartsBody {
    /// op(B) is `b` (with `transB`, `ldb`) or, when `packedB` is set, the panels of `cgemm_pack_b`.
    typealias Problem = (transA: Transpose, transB: Transpose, m: Int, n: Int, k: Int, alpha: Float,
                         a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>?, ldb: Int,
                         packedB: UnsafePointer<Float>?, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int)
    private var problem: Problem?
    private var parts = 1

    /// Runs `problem` on the calling thread or split across `threads` threads.
    static func run(_ p: Problem, threads: Int) {
        if threads <= 1 || p.m * p.n * p.k < GemmKernel.splitMultiplyAdds { return compute(p, part: 0, parts: 1) }
        let job = threadLocalJob(slot: 0, SplitGemm.init)
        job.problem = p; job.parts = threads
        Parallel.parts(threads, job)
        job.problem = nil
    }

    func runPart(_ part: Int) {
        if let p = problem { Self.compute(p, part: part, parts: parts) }
    }

    private static func compute(_ p: Problem, part: Int, parts: Int) {
        let nr = Int(cgemm_nr)
        var (m, n, a, b, packedB, c) = (p.m, p.n, p.a, p.b, p.packedB, p.c)
        if parts > 1 && p.n >= 2 * nr * parts {
            let panels = (p.n + nr - 1) / nr
            let j0 = min(p.n, panels * part / parts * nr), j1 = min(p.n, panels * (part + 1) / parts * nr)
            n = j1 - j0
            b = b.map { p.transB == .none ? $0 + j0 : $0 + j0 * p.ldb }
            packedB = packedB.map { $0 + j0 * p.k }
            c += j0
        } else if parts > 1 {
            let i0 = p.m * part / parts, i1 = p.m * (part + 1) / parts
            m = i1 - i0
            a = p.transA == .none ? a + i0 * p.lda : a + i0
            c += i0 * p.ldc
        }
        if m <= 0 || n <= 0 { return }
        if let packedB {
            cgemm_sgemm_packed(p.transA.flag, m, n, p.k, p.alpha, a, p.lda, packedB, p.beta, c, p.ldc)
        } else {
            cgemm_sgemm(p.transA.flag, p.transB.flag, m, n, p.k, p.alpha, a, p.lda, b!, p.ldb, p.beta, c, p.ldc)
        }
    }
}

/// The calling thread's own object in CGemm thread slot `slot`, made by `make` on the thread's first call and kept
/// for the thread's life (never released): how the GEMM jobs handed to `Parallel.parts` avoid an allocation per call.
/// One job type per slot: 0 `SplitGemm`, 1 `BatchedGemm`, 2 `RowJob`, 3 `FloatMatmulCache` (all four taken).
func threadLocalJob<Job: AnyObject>(slot: Int32, _ make: () -> Job) -> Job {
    let pointer = cgemm_thread_slot(slot)!
    if let existing = pointer.pointee { return Unmanaged<Job>.fromOpaque(existing).takeUnretainedValue() }
    let job = make()
    pointer.pointee = Unmanaged.passRetained(job).toOpaque()
    return job
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
