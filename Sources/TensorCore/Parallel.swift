// Splitting a loop across the compute threads (the same count oneDNN uses) for the elementwise kernels.
import CDNNL
import Dispatch
import Foundation

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

    /// Runs `body(part)` for every part in 0..<parts at once (the caller runs part 0, persistent `PartsPool`
    /// threads the rest), each with oneDNN limited to one thread, so no OpenMP team runs beside them. For the
    /// inference path, which splits every linear layer by output features instead of letting oneDNN fork per
    /// product. Allocates nothing after the pool's first use; a second caller while the pool is busy falls back
    /// to libdispatch.
    package static func parts(_ parts: Int, _ body: (Int) -> Void) {
        if parts <= 1 { body(0); return }
        withoutActuallyEscaping(body) { body in
            if PartsPool.shared.run(parts, body) { return }
            let box = UnsafeSendable(body)
            DispatchQueue.concurrentPerform(iterations: parts) { part in PartsPool.singleThreaded { box.value(part) } }
        }
    }
}

/// Persistent worker threads for `Parallel.parts`: one job at a time, handed over with semaphores.
final class PartsPool: @unchecked Sendable {
    static let shared = PartsPool()
    private let lock = NSLock()
    private var workers: [(start: DispatchSemaphore, thread: Thread)] = []
    private let done = DispatchSemaphore(value: 0)
    private var job: ((Int) -> Void)?

    @inline(__always)
    static func singleThreaded(_ body: () -> Void) {
        let previous = omp_get_max_threads()
        if previous != 1 { omp_set_num_threads(1) }
        body()
        if previous != 1 { omp_set_num_threads(previous) }
    }

    /// Runs body(0..<parts) on the caller and parts − 1 workers; false (nothing run) when the pool is busy.
    func run(_ parts: Int, _ body: @escaping (Int) -> Void) -> Bool {
        guard lock.try() else { return false }
        defer { lock.unlock() }
        while workers.count < parts - 1 {
            let index = workers.count + 1, start = DispatchSemaphore(value: 0)
            let thread = Thread { [unowned self] in
                while true {
                    start.wait()
                    if let job = self.job { PartsPool.singleThreaded { job(index) } }
                    self.done.signal()
                }
            }
            thread.start()
            workers.append((start, thread))
        }
        job = body
        for w in 0..<(parts - 1) { workers[w].start.signal() }
        PartsPool.singleThreaded { body(0) }
        for _ in 0..<(parts - 1) { done.wait() }
        job = nil
        return true
    }
}
