// The one way engine-task tests build an ExecutionRequest: each task in its own work directory under `root`,
// one thread, its log beside it.
import Experiment
import Foundation
@testable import Worker

func engineRequest(_ task: PlannedTask, inputs: [String: [String: URL]], root: URL) -> ExecutionRequest {
    ExecutionRequest(taskID: task.id, spec: task.spec, attempt: 1, inputs: inputs,
                     workDirectory: root.appendingPathComponent(String(task.id.prefix(8))), threads: 1,
                     log: TaskLog(url: root.appendingPathComponent("\(task.id.prefix(8)).log")))
}
