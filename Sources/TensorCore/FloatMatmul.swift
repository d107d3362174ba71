// oneDNN's fp32 path: C = alpha · op(A) · op(B) + beta · C through the matmul primitive, created once per problem
// (transposes as strides, alpha as an output scale, beta as a sum post-op) and cached per thread with its own
// scratchpad (`dnnl_scratchpad_mode_user`); a call re-points the memory handles and executes. Unlike `dnnl_sgemm`,
// which takes packing buffers inside every call, a cached problem costs no buffer of ours or oneDNN's.
//
// Threading: a product large enough to split runs one single-threaded primitive per `Parallel.parts` thread, each
// on its own block of output columns (rows when C is narrow), as the int8 path does (Int8SplitGemm.swift), rather
// than one primitive on oneDNN's OpenMP team. Everything else in a step runs on the spinning parts pool; an OpenMP
// team beside it spins too, so alternating between the two keeps more threads busy than there are cores, and each
// barrier waits for a descheduled thread. `FloatMatmul.threading` keeps the OpenMP form for `bench engine` to
// compare (docs/benchmarks.md has both). The split changes which products a thread computes, not the sums in an
// element of C, but oneDNN's kernels may block k differently for a different n: a result can differ in the last
// bits between thread counts (CGemm's does not).
import CDNNL

package enum FloatMatmul {
    /// How a product on more than one thread is split: `pool` (the default, see above) or one primitive on
    /// oneDNN's `openMP` team.
    package enum Threading: String, Sendable { case pool, openMP }
    package nonisolated(unsafe) static var threading = Threading.pool

    /// The problem `sgemm` states, for oneDNN's matmul.
    typealias Problem = (transA: Transpose, transB: Transpose, m: Int, n: Int, k: Int, alpha: Float,
                         a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float,
                         c: UnsafeMutablePointer<Float>, ldc: Int)

    /// Runs `p` on up to `threads` threads, split as `threading` says (see the file's comment); the strides were
    /// checked by `sgemm`.
    static func run(_ p: Problem, threads: Int, threading: Threading = FloatMatmul.threading) {
        if p.m == 0 || p.n == 0 { return }
        if p.k == 0 { return scaleOnly(p) }
        let cache = FloatMatmulCache.forThisThread
        let multiplyAdds = p.m * p.n * p.k
        if threads <= 1 || multiplyAdds < GemmKernel.splitMultiplyAdds { return cache.execute(p, threads: 1) }
        if threading == .openMP {
            return cache.execute(p, threads: OneDNN.gemmThreads(multiplyAdds: multiplyAdds, threads: threads))
        }
        cache.split(p, parts: threads)
    }

    /// C = beta · C (k = 0: oneDNN refuses an empty reduction).
    private static func scaleOnly(_ p: Problem) {
        for i in 0..<p.m {
            for j in 0..<p.n { p.c[i * p.ldc + j] = p.beta == 0 ? 0 : p.beta * p.c[i * p.ldc + j] }
        }
    }

    /// The number of problems a thread keeps primitives for; the one over the limit empties the cache (the
    /// model has a handful of shapes, evaluation batches add a few row counts; oneDNN's own primitive cache makes
    /// re-creating an evicted one cheap).
    package static let maxPlans = 64

    /// The primitives this thread holds, and how many it has created (for the tests of the cache).
    package static var cachedPlans: Int { FloatMatmulCache.forThisThread.plans.count }
    package static var plansCreated: Int { FloatMatmulCache.forThisThread.created }
    /// Drops this thread's primitives (tests that count what a first call creates start from an empty cache).
    package static func clearThisThread() { FloatMatmulCache.forThisThread.clear() }
    /// Products this thread has executed (the allocation tests bound oneDNN's allocations per product).
    package static var executions: Int { FloatMatmulCache.forThisThread.executions }
}

/// oneDNN's argument indices (DNNL_ARG_SRC, _WEIGHTS, _DST, _SCRATCHPAD in dnnl_types.h).
private enum MatmulArg { static let src: Int32 = 1, dst: Int32 = 17, weights: Int32 = 33, scratchpad: Int32 = 80 }

/// One thread's matmul primitives (CGemm thread slot 3), and the job that splits a product over the pool.
final class FloatMatmulCache: PartsBody {
    struct Key: Hashable {
        var transA: Bool, transB: Bool, m: Int, n: Int, k: Int, lda: Int, ldb: Int, ldc: Int
        var alpha: UInt32, beta: UInt32, threads: Int
    }

    final class Plan {
        let primitive: dnnl_primitive_t
        let src: dnnl_memory_t, weights: dnnl_memory_t, dst: dnnl_memory_t, scratch: dnnl_memory_t
        let scratchBuffer: UnsafeMutableRawPointer
        let args: [dnnl_exec_arg_t]
        init(primitive: dnnl_primitive_t, memories: [dnnl_memory_t], scratchBuffer: UnsafeMutableRawPointer) {
            self.primitive = primitive; self.scratchBuffer = scratchBuffer
            (src, weights, dst, scratch) = (memories[0], memories[1], memories[2], memories[3])
            args = [dnnl_exec_arg_t(arg: MatmulArg.src, memory: src), dnnl_exec_arg_t(arg: MatmulArg.weights, memory: weights),
                    dnnl_exec_arg_t(arg: MatmulArg.dst, memory: dst), dnnl_exec_arg_t(arg: MatmulArg.scratchpad, memory: scratch)]
        }
        deinit {
            dnnl_primitive_destroy(primitive)
            for m in [src, weights, dst, scratch] { dnnl_memory_destroy(m) }
            scratchBuffer.deallocate()
        }
    }

    static var forThisThread: FloatMatmulCache { threadLocalJob(slot: 3, FloatMatmulCache.init) }

    private(set) var plans: [Key: Plan] = [:]
    private(set) var created = 0
    private(set) var executions = 0
    private let stream: dnnl_stream_t
    private var pending: (problem: FloatMatmul.Problem, parts: Int)?

    init() {
        var s: dnnl_stream_t?
        OneDNN.check(dnnl_stream_create(&s, OneDNN.engine, dnnl_stream_default_flags.rawValue), "stream_create")
        stream = s!
    }

    func clear() { plans.removeAll() }

    /// Runs `p` whole on this thread with a primitive made for `threads` OpenMP threads.
    func execute(_ p: FloatMatmul.Problem, threads: Int) {
        OneDNN.withThreads(threads) {
            let plan = plan(p, threads: threads)
            dnnl_memory_set_data_handle(plan.src, UnsafeMutableRawPointer(mutating: p.a))
            dnnl_memory_set_data_handle(plan.weights, UnsafeMutableRawPointer(mutating: p.b))
            dnnl_memory_set_data_handle(plan.dst, UnsafeMutableRawPointer(p.c))
            let status = plan.args.withUnsafeBufferPointer { dnnl_primitive_execute(plan.primitive, stream, 4, $0.baseAddress) }
            OneDNN.check(status, "matmul execute")
            OneDNN.check(dnnl_stream_wait(stream), "stream_wait")
            executions &+= 1
        }
    }

    /// Runs `p` as `parts` blocks of C, each whole on one thread of `Parallel.parts`.
    func split(_ p: FloatMatmul.Problem, parts: Int) {
        pending = (p, parts)
        Parallel.parts(parts, self)
        pending = nil
    }

    func runPart(_ part: Int) {
        guard let (p, parts) = pending else { return }
        // Columns on 16-float boundaries (one AVX-512 register) when each part gets at least 64 of them: each
        // thread then reads only its own part of op(B); rows otherwise.
        var q = p
        if p.n >= 64 * parts {
            let j0 = min(p.n, (p.n * part / parts + 15) / 16 * 16)
            let j1 = part == parts - 1 ? p.n : min(p.n, (p.n * (part + 1) / parts + 15) / 16 * 16)
            q.n = j1 - j0
            q.b = p.transB == .none ? p.b + j0 : p.b + j0 * p.ldb
            q.c = p.c + j0
        } else {
            let i0 = p.m * part / parts, i1 = p.m * (part + 1) / parts
            q.m = i1 - i0
            q.a = p.transA == .none ? p.a + i0 * p.lda : p.a + i0
            q.c = p.c + i0 * p.ldc
        }
        if q.m > 0 && q.n > 0 { FloatMatmulCache.forThisThread.execute(q, threads: 1) }
    }

    private func plan(_ p: FloatMatmul.Problem, threads: Int) -> Plan {
        let key = Key(transA: p.transA == .transposed, transB: p.transB == .transposed, m: p.m, n: p.n, k: p.k, lda: p.lda,
                      ldb: p.ldb, ldc: p.ldc, alpha: p.alpha.bitPattern, beta: p.beta.bitPattern, threads: threads)
        if let plan = plans[key] { return plan }
        if plans.count >= FloatMatmul.maxPlans { plans.removeAll() }
        let plan = Self.makePlan(p)
        plans[key] = plan
        created += 1
        return plan
    }

    /// A descriptor of the (rows, cols) matrix op(X) where X is stored row-major with row stride `ld`, transposed
    /// or not: a transpose is only a swap of the strides.
    private static func descriptor(rows: Int, cols: Int, ld: Int, _ t: Transpose) -> dnnl_memory_desc_t {
        var md = dnnl_memory_desc_t()
        var dims: [Int64] = [Int64(rows), Int64(cols)]
        var strides: [Int64] = t == .none ? [Int64(ld), 1] : [1, Int64(ld)]
        OneDNN.check(dnnl_memory_desc_init_by_strides(&md, 2, &dims, dnnl_f32, &strides), "memory_desc_init_by_strides")
        return md
    }

    private static func makePlan(_ p: FloatMatmul.Problem) -> Plan {
        var src = descriptor(rows: p.m, cols: p.k, ld: p.lda, p.transA)
        var weights = descriptor(rows: p.k, cols: p.n, ld: p.ldb, p.transB)
        var dst = descriptor(rows: p.m, cols: p.n, ld: p.ldc, .none)
        var desc = dnnl_matmul_desc_t()
        OneDNN.check(dnnl_matmul_desc_init(&desc, &src, &weights, nil, &dst), "matmul_desc_init")
        var attr: dnnl_primitive_attr_t?
        OneDNN.check(dnnl_primitive_attr_create(&attr), "primitive_attr_create")
        defer { dnnl_primitive_attr_destroy(attr) }
        OneDNN.check(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user), "set_scratchpad_mode")
        if p.alpha != 1 {
            var alpha = p.alpha
            OneDNN.check(dnnl_primitive_attr_set_output_scales(attr, 1, 0, &alpha), "set_output_scales")
        }
        if p.beta != 0 {
            var ops: dnnl_post_ops_t?
            OneDNN.check(dnnl_post_ops_create(&ops), "post_ops_create")
            defer { dnnl_post_ops_destroy(ops) }
            OneDNN.check(dnnl_post_ops_append_sum(ops, p.beta), "post_ops_append_sum")
            OneDNN.check(dnnl_primitive_attr_set_post_ops(attr, ops), "set_post_ops")
        }
        var pd: dnnl_primitive_desc_t?
        OneDNN.check(dnnl_primitive_desc_create(&pd, &desc, attr, OneDNN.engine, nil), "matmul primitive_desc_create")
        defer { dnnl_primitive_desc_destroy(pd) }
        var primitive: dnnl_primitive_t?
        OneDNN.check(dnnl_primitive_create(&primitive, pd), "matmul primitive_create")
        let scratchMD = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0)!
        let scratchBuffer = UnsafeMutableRawPointer.allocate(byteCount: max(dnnl_memory_desc_get_size(scratchMD), 64),
                                                             alignment: 64)
        var memories: [dnnl_memory_t] = []
        for (md, handle) in [(src, nil), (weights, nil), (dst, nil), (scratchMD.pointee, scratchBuffer)] as [(dnnl_memory_desc_t, UnsafeMutableRawPointer?)] {
            var md = md, memory: dnnl_memory_t?
            // DNNL_MEMORY_NONE (nil) for the operands, re-pointed per call; the scratchpad is ours for good.
            OneDNN.check(dnnl_memory_create(&memory, &md, OneDNN.engine, handle), "memory_create")
            memories.append(memory!)
        }
        return Plan(primitive: primitive!, memories: memories, scratchBuffer: scratchBuffer)
    }

    /// The name of oneDNN's implementation for `p` on one thread (for reports).
    func implementation(_ p: FloatMatmul.Problem) -> String {
        OneDNN.withThreads(1) {
            let plan = plan(p, threads: 1)
            var pd: const_dnnl_primitive_desc_t?
            guard dnnl_primitive_get_primitive_desc(plan.primitive, &pd) == dnnl_success, let pd else { return "unknown" }
            var info: UnsafePointer<CChar>?
            guard dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &info) == dnnl_success, let info else { return "unknown" }
            return String(cString: info)
        }
    }
}
