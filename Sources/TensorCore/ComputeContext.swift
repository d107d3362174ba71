// ComputeContext: how many threads the engine computes with, as a value a caller passes down (the worker's
// `--threads`, a CLI's `--threads`), instead of a global each layer reads back.

package struct ComputeContext: Sendable, Equatable {
    /// Threads for the GEMM split, the parts pool and oneDNN.
    package var threads: Int

    package init(threads: Int) {
        precondition(threads >= 1, "thread count must be at least 1")
        self.threads = threads
    }

    /// Makes oneDNN (its OpenMP runtime) and the GEMM split use `threads`. A process runs one engine task at a
    /// time, so this is set once per task (or per command), before any compute.
    package func activate() {
        if ComputeInfo.threads != threads { ComputeInfo.setThreads(threads) }
    }
}
