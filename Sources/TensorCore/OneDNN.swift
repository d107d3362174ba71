// oneDNN plumbing shared by the fast paths: status checking, one CPU engine and stream, plain row-major memory
// descriptors.
import CDNNL

package enum OneDNN {
    /// Stops on a failed oneDNN call: after validated arguments a failure is a programmer error, not bad input.
    @inline(__always)
    package static func check(_ status: dnnl_status_t, _ what: @autoclosure () -> String) {
        precondition(status == dnnl_success, "oneDNN \(what()) failed with status \(status.rawValue)")
    }

    /// The process's CPU engine and an in-order stream on it, created on first use.
    package nonisolated(unsafe) static let engine: dnnl_engine_t = {
        var e: dnnl_engine_t?
        check(dnnl_engine_create(&e, dnnl_cpu, 0), "engine_create")
        return e!
    }()
    package nonisolated(unsafe) static let stream: dnnl_stream_t = {
        var s: dnnl_stream_t?
        check(dnnl_stream_create(&s, engine, dnnl_stream_default_flags.rawValue), "stream_create")
        return s!
    }()

    /// The threads a oneDNN product of `multiplyAdds` runs on for a caller computing with `threads`: one below
    /// `smallGemmMultiplyAdds`.
    @inline(__always)
    package static func gemmThreads(multiplyAdds: Int, threads: Int) -> Int {
        multiplyAdds < smallGemmMultiplyAdds ? 1 : threads
    }

    /// Runs `body`, a oneDNN call, on `threads` threads. oneDNN's OpenMP build has no per-call thread count: it
    /// reads the calling thread's OpenMP count (libgomp keeps that per thread, so setting it changes no other
    /// thread). `ComputeContext.activate()` sets it once on the thread that runs a task and the `Parallel.parts`
    /// workers set theirs to 1 when they start, so this changes it only for a call that must run on fewer threads
    /// than its thread computes with (a small product, or the fallback sgemm inside part 0 of a `Parallel.parts`
    /// body), and puts it back after. The one place in the engine that sets OpenMP's count around a call.
    @inline(__always)
    package static func withThreads<R>(_ threads: Int, _ body: () -> R) -> R {
        let current = omp_get_max_threads()
        if threads == Int(current) { return body() }
        omp_set_num_threads(Int32(threads))
        defer { omp_set_num_threads(current) }
        return body()
    }

    /// A 2-D (rows, cols) descriptor with row stride `ld` (≥ cols) for `type`.
    package static func matrixDescriptor(rows: Int, cols: Int, ld: Int, type: dnnl_data_type_t = dnnl_f32) -> dnnl_memory_desc_t {
        precondition(rows >= 0 && cols >= 0 && ld >= cols, "matrixDescriptor: bad shape (\(rows), \(cols)) ld \(ld)")
        var md = dnnl_memory_desc_t()
        var dims: [Int64] = [Int64(rows), Int64(cols)], strides: [Int64] = [Int64(ld), 1]
        check(dnnl_memory_desc_init_by_strides(&md, 2, &dims, type, &strides), "memory_desc_init_by_strides")
        return md
    }
}
