// Splitting a loop across the compute threads (the same count oneDNN uses) for the elementwise kernels.
import CDNNL
import Dispatch

package enum Parallel {
    /// Whether `chunks` and the attention gemm loop use libdispatch worker threads beside oneDNN's OpenMP
    /// threads. Off: measured on the 2-core machine, mixing the two pools made batch-1 inference 12× slower
    /// (OpenMP workers spin after each gemm while dispatch workers wait for a core).
    package nonisolated(unsafe) static var useDispatch = false

    /// Calls `body(range)` on disjoint chunks covering 0..<count, on up to omp_get_max_threads() threads,
    /// when each chunk gets at least `grain` items; otherwise runs inline.
    @inline(__always)
    package static func chunks(_ count: Int, grain: Int, _ body: (Range<Int>) -> Void) {
        let threads = min(Int(omp_get_max_threads()), count / max(grain, 1))
        if threads <= 1 || !useDispatch { body(0..<count); return }
        withoutActuallyEscaping(body) { body in
            let box = UnsafeSendable(body)
            DispatchQueue.concurrentPerform(iterations: threads) { part in
                let start = count * part / threads, end = count * (part + 1) / threads
                box.value(start..<end)
            }
        }
    }

    /// Runs `body(part)` for every part in 0..<parts at once on libdispatch threads (the caller runs one), each
    /// with oneDNN limited to one thread, so no OpenMP team runs beside them. For the inference path, which
    /// splits every linear layer by output features instead of letting oneDNN fork per product.
    package static func parts(_ parts: Int, _ body: (Int) -> Void) {
        if parts <= 1 { body(0); return }
        withoutActuallyEscaping(body) { body in
            let box = UnsafeSendable(body)
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                let previous = omp_get_max_threads()
                if previous != 1 { omp_set_num_threads(1) }
                box.value(part)
                if previous != 1 { omp_set_num_threads(previous) }
            }
        }
    }
}
