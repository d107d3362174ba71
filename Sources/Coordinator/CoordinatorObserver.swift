// CoordinatorObserver: what the coordinator's loop tells a live view of the run (the dashboard): the tasks at
// start, each committed batch of state changes, and the status snapshot it writes twice a second. Called on the
// loop's thread; an observer must only record and return (never block the loop on its readers).
import Experiment

/// A task of the graph as the coordinator starts: what a view needs to place it (language × setting) and its state.
package struct ObservedTask: Sendable {
    package var id, title: String
    package var kind: TaskKind
    package var language: String?
    package var setting: String?
    package var state: TaskState
}

package protocol CoordinatorObserver: AnyObject, Sendable {
    /// Once, before the loop's first iteration: the run, and every task of the graph as the journal restored it.
    func started(run: String, job: String, tasks: [ObservedTask])
    /// After each journal commit, with its entries in commit order.
    func committed(_ entries: [JournalEntry])
    /// Twice a second, with the snapshot that goes to `status.json`.
    func status(_ snapshot: StatusSnapshot)
}
