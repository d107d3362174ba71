// EngineExecutor: the `engine` executor. A task's spec is decoded once into typed settings, its input artifacts
// are put back together as checkpoint folders, and its pipeline runs (Pipelines.run picks it by kind and
// setting); the pipeline's outcome is the task's output.
import Experiment
import Foundation
import Pipelines

package struct EngineExecutor: TaskExecutor {
    package let name = "engine"
    package init() {}

    package func execute(_ request: ExecutionRequest, progress: @escaping @Sendable (Double, String) -> Void) throws -> ExecutionOutput {
        let compute = ComputeContext(threads: request.threads)
        compute.activate()
        try FileManager.default.createDirectory(at: request.workDirectory, withIntermediateDirectories: true)
        let spec = request.spec
        do {
            let s = try TaskSettings(spec)
            let run = PipelineRun(compute: compute, log: request.log, work: request.workDirectory, progress: progress)
            let out = request.workDirectory.appendingPathComponent("checkpoint")
            let outcome = try Pipelines.run(spec, s, inputs: try Self.inputFolders(request), out: out, run: run)
            return ExecutionOutput(metrics: outcome.metrics, artifacts: outcome.files)
        } catch let error as PermanentTaskError {
            throw PermanentTaskError("\(spec.title): \(error.description)")
        }
    }
}

extension TaskLog: PipelineLog {}

extension EngineExecutor {
    /// A task's input artifacts as checkpoint folders, in the order of `spec.inputs`: config.json, model.safetensors
    /// and the tokenizer of each parent task (and its optional files, such as a fine-tuned model's test predictions)
    /// linked (not copied) into a folder of the work directory. Inputs that did not arrive, or lack a file, are
    /// permanent errors.
    static func inputFolders(_ request: ExecutionRequest) throws -> [URL] {
        func link(_ source: URL, _ target: URL) throws {
            try? FileManager.default.removeItem(at: target)
            try FileManager.default.createSymbolicLink(at: target, withDestinationURL: source)
        }
        return try request.spec.inputs.map { parent in
            guard let files = request.inputs[parent] else {
                throw PermanentTaskError("the input artifacts of task \(parent.prefix(12)) did not arrive")
            }
            let folder = request.workDirectory.appendingPathComponent("parent-\(parent.prefix(12))")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for name in CheckpointFiles.files {
                guard let source = files[name] else {
                    throw PermanentTaskError("task \(parent.prefix(12)) produced no \(name) (it has \(files.keys.sorted()))")
                }
                try link(source, folder.appendingPathComponent(name))
            }
            for name in CheckpointFiles.optionalFiles { if let source = files[name] { try link(source, folder.appendingPathComponent(name)) } }
            return folder
        }
    }
}
