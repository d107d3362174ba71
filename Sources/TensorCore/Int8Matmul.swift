// u8 · s8 → s32 GEMM with the weights reordered ONCE into oneDNN's preferred layout, through the int8 1×1
// convolution primitive: C (M, N) = A (M, K) · Bᵀ with B stored (N, K) as a linear layer's weight.
//
// Why a 1×1 convolution and not the matmul primitive: on this AVX2 machine (no VNNI) oneDNN 2.6's int8 matmul
// and inner-product primitives dispatch to `gemm:jit` / `gemm_s8u8s32:jit`, the same GEMM as
// `dnnl_gemm_u8s8s32`, which packs the weights on every call; the 1×1 convolution dispatches to
// `jit_uni_int8_1x1:avx2`, a direct JIT kernel over pre-reordered weights. Rows are the convolution's width
// (src (1, K, 1, M) nhwc is exactly A row-major; dst (1, N, 1, M) nhwc is C row-major), so no activation
// reorders. With u8 activations oneDNN needs no compensation, and the 7-bit activations (`int8ActivationMax`)
// keep `vpmaddubsw` exact, as for `gemmU8S8S32`. If the primitive cannot be created (another oneDNN build), the
// plan falls back to `gemmU8S8S32`.
import CDNNL

/// oneDNN's argument indices (DNNL_ARG_SRC, _WEIGHTS, _DST, _SCRATCHPAD, _FROM, _TO in dnnl_types.h).
private enum Arg {
    static let src: Int32 = 1, dst: Int32 = 17, weights: Int32 = 33, scratchpad: Int32 = 80
    static let from: Int32 = 1, to: Int32 = 17
}

/// Int64 dims for a memory descriptor.
private func dims(_ values: [Int]) -> [Int64] { values.map(Int64.init) }

/// A weight matrix B (N, K) prepared for repeated u8 · s8 → s32 products: one convolution primitive per row
/// count M (created on first use and cached), the weights reordered once per layout the primitives ask for.
/// Used from one thread at a time (like the linear kernels that own it). Views `weights`; `owner` keeps it alive.
package final class Int8PackedGemm: @unchecked Sendable {
    package let n: Int, k: Int
    private let weights: UnsafePointer<Int8>
    private let owner: AnyObject?
    private var stream: dnnl_stream_t?
    private var plans: [Int: Plan] = [:]
    private let maxPlans = 32
    private var packs: [Pack] = []
    /// Set when oneDNN refused the primitive: every product then goes through `gemmU8S8S32`.
    package private(set) var usesFallback = false

    private final class Pack {
        var desc: dnnl_memory_desc_t
        let buffer: UnsafeMutableRawPointer
        let memory: dnnl_memory_t
        init(desc: dnnl_memory_desc_t, buffer: UnsafeMutableRawPointer, memory: dnnl_memory_t) {
            self.desc = desc; self.buffer = buffer; self.memory = memory
        }
        deinit { dnnl_memory_destroy(memory); buffer.deallocate() }
    }

    private final class Plan {
        let primitive: dnnl_primitive_t
        let src: dnnl_memory_t, dst: dnnl_memory_t, scratch: dnnl_memory_t
        let scratchBuffer: UnsafeMutableRawPointer
        var args: [dnnl_exec_arg_t]
        init(primitive: dnnl_primitive_t, src: dnnl_memory_t, dst: dnnl_memory_t, scratch: dnnl_memory_t,
             scratchBuffer: UnsafeMutableRawPointer, weights: dnnl_memory_t) {
            self.primitive = primitive; self.src = src; self.dst = dst; self.scratch = scratch; self.scratchBuffer = scratchBuffer
            args = [dnnl_exec_arg_t(arg: Arg.src, memory: src), dnnl_exec_arg_t(arg: Arg.weights, memory: weights),
                    dnnl_exec_arg_t(arg: Arg.dst, memory: dst), dnnl_exec_arg_t(arg: Arg.scratchpad, memory: scratch)]
        }
        deinit {
            dnnl_primitive_destroy(primitive)
            dnnl_memory_destroy(src); dnnl_memory_destroy(dst); dnnl_memory_destroy(scratch)
            scratchBuffer.deallocate()
        }
    }

    /// Views B = `weights` (N, K), row stride K.
    package init(weights: UnsafePointer<Int8>, n: Int, k: Int, owner: AnyObject?) {
        precondition(n >= 1 && k >= 1, "Int8PackedGemm: empty weight matrix (\(n), \(k))")
        self.weights = weights; self.n = n; self.k = k; self.owner = owner
    }

    deinit {
        plans.removeAll(); packs.removeAll()
        if let stream { dnnl_stream_destroy(stream) }
    }

    /// C (M, N) = A (M, K) · Bᵀ; A rows contiguous (stride K) with codes in 0...`int8ActivationMax`, C rows
    /// contiguous (stride N). `threads` nil: OpenMP's count for this thread (one for small products); 1 inside a
    /// `Parallel.parts` body (`Int8SplitGemm`). A given object should always be called with the same count: the
    /// primitive's thread count is fixed when it is created, so creation and execution must see the same one.
    package func multiply(m: Int, a: UnsafePointer<UInt8>, c: UnsafeMutablePointer<Int32>, threads: Int? = nil) {
        precondition(m >= 0, "Int8PackedGemm: negative row count")
        if m == 0 { return }
        // Small products run on the calling thread, as in `sgemm`. Large ones use the count this thread's
        // `ComputeContext.activate()` gave oneDNN.
        let count = threads ?? OneDNN.gemmThreads(multiplyAdds: m * n * k, threads: ComputeInfo.threads)
        OneDNN.withThreads(count) { execute(m: m, a: a, c: c) }
    }

    private func execute(m: Int, a: UnsafePointer<UInt8>, c: UnsafeMutablePointer<Int32>) {
        guard let plan = plan(rows: m) else {
            gemmU8S8S32(m: m, n: n, k: k, a: a, lda: k, b: weights, ldb: k, c: c, ldc: n)
            return
        }
        dnnl_memory_set_data_handle(plan.src, UnsafeMutableRawPointer(mutating: a))
        dnnl_memory_set_data_handle(plan.dst, UnsafeMutableRawPointer(c))
        let status = plan.args.withUnsafeBufferPointer { dnnl_primitive_execute(plan.primitive, stream, 4, $0.baseAddress) }
        precondition(status == dnnl_success, "Int8PackedGemm: oneDNN convolution failed with status \(status.rawValue)")
        let wait = dnnl_stream_wait(stream)
        precondition(wait == dnnl_success, "Int8PackedGemm: dnnl_stream_wait failed with status \(wait.rawValue)")
    }

    /// The name of the oneDNN implementation used for M rows (for the benchmarks), or "gemm_u8s8s32 (fallback)".
    package func implementation(rows m: Int) -> String {
        guard let plan = plan(rows: m) else { return "gemm_u8s8s32 (fallback)" }
        var pd: const_dnnl_primitive_desc_t?
        guard dnnl_primitive_get_primitive_desc(plan.primitive, &pd) == dnnl_success, let pd else { return "unknown" }
        var info: UnsafePointer<CChar>?
        guard dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &info) == dnnl_success, let info else { return "unknown" }
        return String(cString: info)
    }

    /// The cached plan for M rows, created on first use; nil when oneDNN cannot build it.
    private func plan(rows m: Int) -> Plan? {
        if usesFallback { return nil }
        if let p = plans[m] { return p }
        // Evaluation sees many row counts (B × padded T): keep the cache bounded (oneDNN's own primitive cache
        // makes re-creating an evicted one cheap).
        if plans.count >= maxPlans { plans.removeAll() }
        guard let p = makePlan(rows: m) else { usesFallback = true; plans.removeAll(); return nil }
        plans[m] = p
        return p
    }

    private func makePlan(rows m: Int) -> Plan? {
        // The process's CPU engine (thread-safe); streams are per plan.
        let engine = OneDNN.engine
        if stream == nil {
            var s: dnnl_stream_t?
            guard dnnl_stream_create(&s, engine, dnnl_stream_default_flags.rawValue) == dnnl_success else { return nil }
            stream = s
        }
        var src = dnnl_memory_desc_t(), dst = dnnl_memory_desc_t(), wAny = dnnl_memory_desc_t()
        guard dnnl_memory_desc_init_by_tag(&src, 4, dims([1, k, 1, m]), dnnl_u8, dnnl_nhwc) == dnnl_success,
              dnnl_memory_desc_init_by_tag(&dst, 4, dims([1, n, 1, m]), dnnl_s32, dnnl_nhwc) == dnnl_success,
              dnnl_memory_desc_init_by_tag(&wAny, 4, dims([n, k, 1, 1]), dnnl_s8, dnnl_format_tag_any) == dnnl_success
        else { return nil }
        var conv = dnnl_convolution_desc_t()
        let one = dims([1, 1]), zero = dims([0, 0])
        guard dnnl_convolution_forward_desc_init(&conv, dnnl_forward_inference, dnnl_convolution_direct, &src, &wAny, nil, &dst,
                                                 one, zero, zero) == dnnl_success else { return nil }
        var attr: dnnl_primitive_attr_t?
        guard dnnl_primitive_attr_create(&attr) == dnnl_success, let attr else { return nil }
        defer { dnnl_primitive_attr_destroy(attr) }
        guard dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user) == dnnl_success else { return nil }
        var pd: dnnl_primitive_desc_t?
        guard dnnl_primitive_desc_create(&pd, &conv, attr, engine, nil) == dnnl_success, let pd else { return nil }
        defer { dnnl_primitive_desc_destroy(pd) }
        // The chosen src/dst layouts must be the plain row-major ones we pass (no activation reorders).
        guard let srcMD = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0), dnnl_memory_desc_equal(srcMD, &src) != 0,
              let dstMD = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0), dnnl_memory_desc_equal(dstMD, &dst) != 0,
              let wMD = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0),
              let spMD = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0)
        else { return nil }
        guard let pack = pack(for: wMD.pointee, engine: engine) else { return nil }
        var primitive: dnnl_primitive_t?
        guard dnnl_primitive_create(&primitive, pd) == dnnl_success, let primitive else { return nil }
        let scratchBytes = dnnl_memory_desc_get_size(spMD)
        let scratchBuffer = UnsafeMutableRawPointer.allocate(byteCount: max(scratchBytes, 64), alignment: 64)
        var srcMem: dnnl_memory_t?, dstMem: dnnl_memory_t?, spMem: dnnl_memory_t?
        guard dnnl_memory_create(&srcMem, &src, engine, nil) == dnnl_success, let srcMem,
              dnnl_memory_create(&dstMem, &dst, engine, nil) == dnnl_success, let dstMem,
              dnnl_memory_create(&spMem, spMD, engine, scratchBuffer) == dnnl_success, let spMem
        else { dnnl_primitive_destroy(primitive); scratchBuffer.deallocate(); return nil }
        return Plan(primitive: primitive, src: srcMem, dst: dstMem, scratch: spMem, scratchBuffer: scratchBuffer, weights: pack.memory)
    }

    /// The weights in layout `desc`, reordered from the plain (N, K) matrix the first time that layout is asked for.
    private func pack(for desc: dnnl_memory_desc_t, engine: dnnl_engine_t) -> Pack? {
        var want = desc
        for p in packs where dnnl_memory_desc_equal(&p.desc, &want) != 0 { return p }
        var plain = dnnl_memory_desc_t()
        guard dnnl_memory_desc_init_by_tag(&plain, 4, dims([n, k, 1, 1]), dnnl_s8, dnnl_oihw) == dnnl_success else { return nil }
        let bytes = dnnl_memory_desc_get_size(&want)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 64), alignment: 64)
        var from: dnnl_memory_t?, to: dnnl_memory_t?, rpd: dnnl_primitive_desc_t?, reorder: dnnl_primitive_t?
        defer {
            if let from { dnnl_memory_destroy(from) }
            if let reorder { dnnl_primitive_destroy(reorder) }
            if let rpd { dnnl_primitive_desc_destroy(rpd) }
        }
        guard dnnl_memory_create(&from, &plain, engine, UnsafeMutableRawPointer(mutating: weights)) == dnnl_success, let from,
              dnnl_memory_create(&to, &want, engine, buffer) == dnnl_success, let to
        else { buffer.deallocate(); return nil }
        let pack = Pack(desc: want, buffer: buffer, memory: to)
        guard dnnl_reorder_primitive_desc_create(&rpd, &plain, engine, &want, engine, nil) == dnnl_success, let rpd,
              dnnl_primitive_create(&reorder, rpd) == dnnl_success, let reorder
        else { return nil }
        let args = [dnnl_exec_arg_t(arg: Arg.from, memory: from), dnnl_exec_arg_t(arg: Arg.to, memory: to)]
        let status = args.withUnsafeBufferPointer { dnnl_primitive_execute(reorder, stream, 2, $0.baseAddress) }
        guard status == dnnl_success, dnnl_stream_wait(stream) == dnnl_success else { return nil }
        packs.append(pack)
        return pack
    }
}
