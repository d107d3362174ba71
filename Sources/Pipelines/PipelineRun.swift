// What every pipeline run is given besides its settings and inputs: the compute context, a log, a progress
// callback and a scratch folder; and what it gives back: a checkpoint folder, its files and the record's metrics.
import Evaluation
import Experiment
import Foundation
import TensorCore

/// Where a pipeline writes its log lines (the worker's task log, a file beside a CLI output, or nothing).
package protocol PipelineLog: AnyObject, Sendable {
    func write(_ line: String)
}

/// A log that appends time-stamped lines to one file (the CLI's `distill.log`); lines are dropped if it cannot open.
package final class FileLog: PipelineLog, @unchecked Sendable {
    private let handle: FileHandle?
    private let lock = NSLock()

    package init(url: URL) {
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        handle = FileHandle(forWritingAtPath: url.path)
    }

    deinit { try? handle?.close() }

    package func write(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        try? handle?.write(contentsOf: Data("\(ISO8601DateFormatter().string(from: Date())) \(line)\n".utf8))
    }
}

/// A log that keeps nothing (a command whose output is its summary).
package final class NoLog: PipelineLog {
    package init() {}
    package func write(_ line: String) {}
}

package struct PipelineRun: Sendable {
    package var compute: ComputeContext
    package var log: PipelineLog
    /// Fraction done in [0, 1] and a short note (the worker's PROGRESS messages, the CLI's status line).
    package var progress: @Sendable (Double, String) -> Void
    /// Scratch space for intermediate files, made on demand.
    package var work: URL
    /// When the run began (the start of `train.seconds`).
    package var started: Date
    /// A run is one task: the process's peak resident memory is reset when it is made (a worker runs many tasks),
    /// and this says whether the kernel allowed it (`memory.scope`).
    package var memoryScope: ResidentMemory.Scope

    package init(compute: ComputeContext, log: PipelineLog, work: URL, progress: @escaping @Sendable (Double, String) -> Void) {
        self.compute = compute; self.log = log; self.work = work; self.progress = progress
        started = Date()
        memoryScope = ResidentMemory.resetPeak()
    }
}

/// A finished pipeline: the checkpoint folder it wrote, the files that travel as its artifacts (by plain name),
/// and the metrics of its result record (docs/results.md).
package struct PipelineOutcome: Sendable {
    package var checkpoint: URL
    package var files: [String: URL]
    package var metrics: [String: Value]
}

/// Runs `body`, turning whatever it throws into a `PermanentTaskError` that says what was being done: for steps
/// whose failure no retry can cure (reading a checkpoint or a data file that is missing or wrong).
func permanent<T>(_ what: @autoclosure () -> String, _ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as PermanentTaskError { throw error } catch {
        throw PermanentTaskError("\(what()): \(error)")
    }
}

/// The compute context, under the name the pipelines' callers see (they need not import TensorCore).
package typealias ComputeContext = TensorCore.ComputeContext
