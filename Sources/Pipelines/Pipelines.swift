// Pipelines: the recipes (pretrain, fine-tune, prune, quantize, distill) as typed functions of their settings,
// inputs and a run (compute context, log, progress), each returning a checkpoint and its record's metrics. The
// worker's engine executor and the CLI both call these; one file per recipe.
import Experiment
import Foundation

package enum Pipelines {
    /// The outcome of a run that wrote the checkpoint `folder`: its files as artifacts, the metrics with the
    /// threads, instruction set and peak memory they were computed with.
    static func outcome(_ folder: URL, metrics: [String: Value], extraFiles: [String: URL] = [:], run: PipelineRun) throws -> PipelineOutcome {
        var metrics = metrics
        metrics["threads"] = .int(run.compute.threads)
        metrics.merge(Metrics.compute(run)) { $1 }
        let files = try CheckpointFiles.artifacts(in: folder).merging(extraFiles) { $1 }
        return PipelineOutcome(checkpoint: folder, files: files, metrics: metrics)
    }
}
