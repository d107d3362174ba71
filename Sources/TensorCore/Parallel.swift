// Splitting work across threads: a persistent pool of worker threads that GEMMs, row kernels and the inference
// path hand their parts to, each caller saying how many parts (its `ComputeContext`'s threads at most).
import Dispatch
import Foundation
import Synchronization

package enum Parallel {
    /// How long `parts`' threads spin for the next job (workers) or for the workers to finish (the caller) before
    /// blocking; 0 blocks at once (the handoff before spinning was added).
    package static var spinNanoseconds: UInt64 {
        get { PartsPool.spinNanoseconds }
        set { PartsPool.spinNanoseconds = newValue }
    }

    /// Runs `body(part)` for every part in 0..<parts at once (the caller runs part 0, persistent `PartsPool`
    /// threads the rest). A body is one thread's work: the kernels it calls are passed `threads: 1` (the pool's
    /// threads also give oneDNN one thread when they start), so no OpenMP team runs beside the parts. For the
    /// inference path, which splits every linear layer by output features instead of letting oneDNN fork per
    /// product. A second caller while the pool is busy falls back to libdispatch. The pool allocates nothing after
    /// its first use, but this closure form does: `withoutActuallyEscaping` boxes the closure (one 32-byte
    /// allocation per call, seen in a release build); hot paths that must not allocate pass a `PartsBody` instead.
    package static func parts(_ parts: Int, _ body: (Int) -> Void) {
        if parts <= 1 { body(0); return }
        withoutActuallyEscaping(body) { body in
            if PartsPool.shared.run(parts, closure: body) { return }
            let box = UnsafeSendable(body)
            DispatchQueue.concurrentPerform(iterations: parts) { part in box.value(part) }
        }
    }

    /// As `parts(_:_:)` with `body.runPart(part)` for every part: nothing is allocated (the object carries the
    /// job's arguments, set by the caller before this call). While the pool is busy with another caller, the
    /// parts run one after another on the calling thread: still nothing allocated (libdispatch's fallback
    /// allocated per call), and the pool's threads hold the cores anyway.
    package static func parts(_ parts: Int, _ body: PartsBody) {
        if parts <= 1 { body.runPart(0); return }
        if PartsPool.shared.run(parts, object: body) { return }
        for part in 0..<parts { body.runPart(part) }
    }
}

/// A job for `Parallel.parts` that allocates nothing: an object whose `runPart(part)` does part `part`.
package protocol PartsBody: AnyObject {
    func runPart(_ part: Int)
}

/// Persistent worker threads for `Parallel.parts`, one job at a time. A job is handed over by bumping an atomic
/// generation; each side spins for up to `spinNanoseconds` before blocking on a semaphore (a sleeper raises a flag
/// that the other side swaps back before signalling). Measured on this KVM guest: a semaphore round trip to a
/// thread idle for 2 ms took 47 µs median, 4.6 ms p99 under load, because the idle vCPU halts; a batch-1 pass
/// hands over ~30 jobs separated by short serial phases, so a worker that spins through them never halts.
final class PartsPool: @unchecked Sendable {
    static let shared = PartsPool()
    /// How long a worker (for the next job) and the caller (for the workers to finish) spin before blocking.
    /// 5 ms: long enough that a worker never blocks between the products of one pass or training step, short enough
    /// that an idle pool gives its cores back soon (PyTorch's GNU OpenMP threads spin ~10 ms). On a KVM guest a vCPU
    /// that blocks mid-pass after idling is slow to get going again, so a shorter spin made an isolated batch-1 pass
    /// up to twice as slow (the sweep is in docs/benchmarks.md).
    package nonisolated(unsafe) static var spinNanoseconds: UInt64 = 5_000_000

    final class Worker: @unchecked Sendable {
        let start = DispatchSemaphore(value: 0)
        let sleeping = Atomic<Bool>(false)
        var thread: Thread?
    }
    private let lock = NSLock()
    private var workers: [Worker] = []
    private let generation = Atomic<Int>(0)
    private let finished = Atomic<Int>(0)
    private let callerSleeping = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)
    private var job: ((Int) -> Void)?
    private unowned(unsafe) var object: PartsBody? = nil
    /// Parts of the current job; workers with a higher index only report done.
    private var activeParts = 0

    /// Polls `ready()` for up to `spinNanoseconds`, yielding the core between polls; returns whether it held.
    /// Yielding rather than a tight load loop: this VM's two vCPUs can be SMT siblings of one core, where a tight
    /// loop takes issue slots from the thread doing the work (a syscall per poll is still ~1 µs of latency).
    @inline(__always)
    static func spin(_ ready: () -> Bool) -> Bool {
        if ready() { return true }
        let limit = spinNanoseconds
        if limit == 0 { return false }
        let t0 = DispatchTime.now().uptimeNanoseconds
        while true {
            sched_yield()
            if ready() { return true }
            if DispatchTime.now().uptimeNanoseconds &- t0 > limit { return false }
        }
    }

    /// `seen`: the generation when the worker was created (read before it starts: the first job may be handed
    /// over before the thread runs).
    private func workerLoop(_ w: Worker, index: Int, seen initial: Int) {
        // This thread only ever runs parts, each one thread's work: a oneDNN call from it runs on this thread alone.
        ComputeInfo.setThreads(1)
        var seen = initial
        while true {
            if !Self.spin({ generation.load(ordering: .acquiring) != seen }) {
                while true {
                    w.sleeping.store(true, ordering: .sequentiallyConsistent)
                    if generation.load(ordering: .sequentiallyConsistent) != seen { break }
                    w.start.wait()
                }
                w.sleeping.store(false, ordering: .sequentiallyConsistent)
            }
            seen = generation.load(ordering: .sequentiallyConsistent)
            if index < activeParts {
                if let object { object.runPart(index) } else if let job { job(index) }
            }
            finished.add(1, ordering: .sequentiallyConsistent)
            if callerSleeping.exchange(false, ordering: .sequentiallyConsistent) { done.signal() }
        }
    }

    /// Runs body(0..<parts) on the caller and parts − 1 workers; false (nothing run) when the pool is busy.
    func run(_ parts: Int, closure body: @escaping (Int) -> Void) -> Bool {
        run(parts, closure: body, object: nil)
    }

    func run(_ parts: Int, object: PartsBody) -> Bool {
        run(parts, closure: nil, object: object)
    }

    private func run(_ parts: Int, closure body: ((Int) -> Void)?, object body2: PartsBody?) -> Bool {
        guard lock.try() else { return false }
        defer { lock.unlock() }
        // Every worker wakes for every job (the pool only grows); those beyond parts − 1 just report done.
        while workers.count < parts - 1 {
            let w = Worker(), index = workers.count + 1, seen = generation.load(ordering: .sequentiallyConsistent)
            let thread = Thread { [unowned self] in self.workerLoop(w, index: index, seen: seen) }
            w.thread = thread
            workers.append(w)
            thread.start()
        }
        let count = workers.count
        job = body; object = body2; activeParts = parts
        finished.store(0, ordering: .sequentiallyConsistent)
        generation.add(1, ordering: .sequentiallyConsistent)
        for w in workers where w.sleeping.exchange(false, ordering: .sequentiallyConsistent) { w.start.signal() }
        if let body2 { body2.runPart(0) } else { body?(0) }
        if !Self.spin({ finished.load(ordering: .acquiring) == count }) {
            while true {
                callerSleeping.store(true, ordering: .sequentiallyConsistent)
                if finished.load(ordering: .sequentiallyConsistent) == count { break }
                done.wait()
            }
            callerSleeping.store(false, ordering: .sequentiallyConsistent)
        }
        job = nil; object = nil
        return true
    }
}
