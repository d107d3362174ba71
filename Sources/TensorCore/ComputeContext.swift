// ComputeContext: how many threads the engine computes with, as a value a caller passes down (the worker's
// `--threads`, a CLI's `--threads`) to the models and encoders that hold it, and they to every kernel
// (`sgemm`, `sgemmBatched`, the row kernels) as an argument, instead of a global each kernel reads back.

package struct ComputeContext: Sendable, Equatable {
    /// Threads for the GEMM split, the parts pool and oneDNN.
    package var threads: Int

    package init(threads: Int) {
        precondition(threads >= 1, "thread count must be at least 1")
        self.threads = threads
    }

    /// One thread: the default of a model or encoder that was not handed a context.
    package static let single = ComputeContext(threads: 1)

    /// Makes oneDNN (its OpenMP runtime: the int8 primitives, and sgemm where CGemm cannot run) use `threads` for
    /// calls from the calling thread, which must be the thread that runs the task's compute. OpenMP keeps the count
    /// per thread, and oneDNN has no per-call count, so this is set once per task (or per command), before any
    /// compute; `OneDNN.withThreads` is the one place that lowers it around a call.
    package func activate() {
        if ComputeInfo.threads != threads { ComputeInfo.setThreads(threads) }
    }
}
