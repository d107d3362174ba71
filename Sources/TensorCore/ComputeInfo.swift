// What the compute backend is: oneDNN's version, the instruction set it dispatches to, and its threads.
import CDNNL

package enum ComputeInfo {
    /// oneDNN's runtime version, e.g. "2.6.3".
    package static var oneDNNVersion: String {
        guard let v = dnnl_version()?.pointee else { return "unknown" }
        return "\(v.major).\(v.minor).\(v.patch)"
    }

    /// The CPU instruction set oneDNN's kernels dispatch to on this machine.
    package static var isa: String {
        switch dnnl_get_effective_cpu_isa() {
        case dnnl_cpu_isa_sse41: return "sse41"
        case dnnl_cpu_isa_avx: return "avx"
        case dnnl_cpu_isa_avx2: return "avx2"
        case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni"
        case dnnl_cpu_isa_avx512_mic, dnnl_cpu_isa_avx512_mic_4ops: return "avx512_mic"
        case dnnl_cpu_isa_avx512_core: return "avx512_core"
        case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni"
        case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16"
        case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx"
        case let other: return "isa(0x\(String(other.rawValue, radix: 16)))"
        }
    }

    /// Whether int8 matmul has VNNI (or AMX) instructions here, which is where int8 beats fp32.
    package static var hasInt8Acceleration: Bool {
        let v = dnnl_get_effective_cpu_isa()
        return v == dnnl_cpu_isa_avx512_core_vnni || v == dnnl_cpu_isa_avx512_core_bf16
            || v == dnnl_cpu_isa_avx512_core_amx || v == dnnl_cpu_isa_avx2_vnni
    }

    /// The threads oneDNN's OpenMP runtime uses for a call from this thread (for reports; the kernels take their
    /// count from a `ComputeContext`).
    package static var threads: Int { Int(omp_get_max_threads()) }

    /// Sets the threads oneDNN uses for calls from this thread (OpenMP keeps the count per thread); only
    /// `ComputeContext.activate()` and the `Parallel.parts` workers call it.
    static func setThreads(_ count: Int) {
        precondition(count >= 1, "thread count must be at least 1")
        omp_set_num_threads(Int32(count))
    }
}
