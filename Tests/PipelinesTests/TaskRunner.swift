// Runs planned grid tasks through their pipelines as the worker's engine executor does, minus the artifact
// transfer: each task in its own folder under `root`, one thread, its log beside it, its parents' checkpoint
// folders as inputs.
import Experiment
import Foundation
import Pipelines

struct TaskRunner {
    let root: URL

    func run(_ task: PlannedTask, inputs: [PipelineOutcome]) throws -> PipelineOutcome {
        let work = root.appendingPathComponent(String(task.id.prefix(8)))
        let run = PipelineRun(compute: ComputeContext(threads: 1), log: FileLog(url: root.appendingPathComponent("\(task.id.prefix(8)).log")),
                              work: work) { _, _ in }
        return try Pipelines.run(task.spec, try TaskSettings(task.spec), inputs: inputs.map(\.checkpoint),
                                 out: work.appendingPathComponent("checkpoint"), run: run)
    }
}
