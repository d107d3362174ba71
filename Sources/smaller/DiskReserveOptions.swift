// `--min-free-disk MB`, shared by `smaller run`, `coordinator` and `worker`: below it the coordinator grants no task
// and a worker asks for none (DiskGuard); `run` passes its value to its local workers.
import ArgumentParser

struct DiskReserveOptions: ParsableArguments {
    @Option(help: "Take no new task while this process's directory (the run directory; a worker's own) has less than this many MB free (0: no reserve).")
    var minFreeDisk: Int = 1000

    func validate() throws {
        if minFreeDisk < 0 { throw ValidationError("--min-free-disk must be 0 (no reserve) or more MB") }
    }

    /// The reserve in bytes (decimal megabytes, as the log prints them), saturating.
    var bytes: Int64 {
        let (product, overflow) = Int64(clamping: minFreeDisk).multipliedReportingOverflow(by: 1_000_000)
        return overflow ? .max : product
    }
}
