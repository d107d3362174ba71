// The dashboard's JSON shapes: the summary (`/api/status`), grid cells, result rows and the event stream's deltas.
import Coordinator
import Experiment
import Foundation

package struct Summary: Codable, Sendable {
    package var run, job, epoch: String
    package var total: Int
    package var tasks: [String: Int]
    package var byKind: [String: [String: Int]]
    /// Tasks finished per minute over the last minute (or since start, when shorter).
    package var ratePerMinute: Double
    package var etaSeconds: Double?
    package var results: Int
    package var startedAt, updatedAt: Double?
    package var finished: Bool
    /// The coordinator process serving this (its pid), and whether it resumed a run directory whose journal had
    /// tasks past pending: what tells a reloaded page that another process took over.
    package var coordinatorPid: Int
    package var resumed: Bool
    package var workers: [StatusSnapshot.WorkerRow]
    package var failed: [StatusSnapshot.FailedRow]
    /// Why the coordinator grants no task now (its disk reserve), or nil.
    package var held: String? = nil
    /// The newest event's id (`epoch-n`): the page opens the event stream after it.
    package var lastEvent: String
}

/// One language × setting cell of the grid: how many of its tasks are in each state.
package struct Cell: Codable, Sendable {
    package var row, column: String
    package var tasks: [String: Int]
}

/// A task's new state, as the event stream sends it.
package struct TaskChange: Codable, Sendable {
    package var task, title, row, column, from, state: String
    /// The worker it went to, or the error or reason it failed or was skipped for.
    package var detail: String?
}

/// One finished task's line of the results table (and a point of the F1 vs sparsity plot).
package struct ResultRow: Codable, Sendable {
    package var task, title, kind: String
    package var language, setting: String?
    package var seed: Int?
    package var f1, sparsity: Double?
    package var seconds: Double
    package var worker: String

    init(_ record: ResultRecord) {
        task = record.taskID
        title = record.spec.title
        kind = record.spec.kind.rawValue
        language = record.spec.language
        setting = record.spec.setting?.label ?? (record.spec.kind == .finetune ? "dense" : nil)
        seed = record.spec.seed
        f1 = record.metrics["test.f1"]?.doubleValue
        sparsity = record.metrics["sparsity"]?.doubleValue ?? (record.spec.kind == .finetune ? 0 : nil)
        seconds = record.endedAt - record.startedAt
        worker = record.worker
    }
}

package enum LiveEvent: Sendable {
    /// The coordinator (re)started: a browser reloads the whole state.
    case reset
    case task(TaskChange)
    case result(ResultRow)

    var name: String {
        switch self {
        case .reset: "reset"
        case .task: "task"
        case .result: "result"
        }
    }
}
