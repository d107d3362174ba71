// oneDNN plumbing shared by the fast paths: status checking, one CPU engine and stream, plain row-major memory
// descriptors, and the packed-sgemm entry points (exported by libdnnl 2.6 but declared only in its internal
// headers), looked up at run time so that a libdnnl without them falls back instead of failing to link.
import CDNNL
#if canImport(Glibc)
import Glibc
#endif

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

    /// A 2-D (rows, cols) descriptor with row stride `ld` (≥ cols) for `type`.
    package static func matrixDescriptor(rows: Int, cols: Int, ld: Int, type: dnnl_data_type_t = dnnl_f32) -> dnnl_memory_desc_t {
        precondition(rows >= 0 && cols >= 0 && ld >= cols, "matrixDescriptor: bad shape (\(rows), \(cols)) ld \(ld)")
        var md = dnnl_memory_desc_t()
        var dims: [Int64] = [Int64(rows), Int64(cols)], strides: [Int64] = [Int64(ld), 1]
        check(dnnl_memory_desc_init_by_strides(&md, 2, &dims, type, &strides), "memory_desc_init_by_strides")
        return md
    }

    // MARK: Packed sgemm (column-major BLAS convention, as oneDNN's gemm pack API)

    typealias PackSize = @convention(c) (
        UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafePointer<Int64>, UnsafePointer<Int64>,
        UnsafePointer<Int64>, UnsafePointer<Int64>, UnsafePointer<Int64>, UnsafeMutablePointer<Int>, UnsafeMutablePointer<Bool>
    ) -> dnnl_status_t
    typealias Pack = @convention(c) (
        UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafePointer<Int64>, UnsafePointer<Int64>,
        UnsafePointer<Int64>, UnsafePointer<Int64>, UnsafePointer<Int64>, UnsafePointer<Float>, UnsafeMutablePointer<Float>
    ) -> dnnl_status_t
    typealias Compute = @convention(c) (
        UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafePointer<Int64>, UnsafePointer<Int64>, UnsafePointer<Int64>,
        UnsafePointer<Float>, UnsafePointer<Int64>, UnsafePointer<Float>, UnsafePointer<Int64>, UnsafePointer<Float>,
        UnsafeMutablePointer<Float>, UnsafePointer<Int64>
    ) -> dnnl_status_t

    /// `dnnl::impl::cpu::sgemm_pack_get_size`, `sgemm_pack` and `sgemm_compute`, or nil when libdnnl lacks them.
    struct PackAPI { let size: PackSize; let pack: Pack; let compute: Compute }
    static let packAPI: PackAPI? = {
        guard let handle = dlopen(nil, RTLD_NOW) else { return nil }
        func symbol<F>(_ name: String, _: F.Type) -> F? {
            guard let p = dlsym(handle, name) else { return nil }
            return unsafeBitCast(p, to: F.self)
        }
        guard let size = symbol("_ZN4dnnl4impl3cpu19sgemm_pack_get_sizeEPKcS3_S3_PKlS5_S5_S5_S5_PmPb", PackSize.self),
              let pack = symbol("_ZN4dnnl4impl3cpu10sgemm_packEPKcS3_S3_PKlS5_S5_S5_S5_PKfPf", Pack.self),
              let compute = symbol("_ZN4dnnl4impl3cpu13sgemm_computeEPKcS3_PKlS5_S5_PKfS5_S7_S5_S7_PfS5_", Compute.self)
        else { return nil }
        return PackAPI(size: size, pack: pack, compute: compute)
    }()

    /// Whether weights can be pre-packed here (the pack API was found).
    package static var hasPackedGemm: Bool { packAPI != nil }
}
