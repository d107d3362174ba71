// TaskError: the one error a task's run throws when no retry can cure it.
import Foundation

/// A task error that cannot succeed on a retry: a bad setting, a missing data file, a corrupt or mismatched
/// checkpoint. The worker reports it as permanent, and the coordinator fails the task at once instead of
/// spending its remaining attempts on the same message. Anything else a run throws (out of memory, a killed
/// process, a lost connection) stays retryable.
package struct PermanentTaskError: Error, CustomStringConvertible, Sendable {
    package var description: String
    package init(_ description: String) { self.description = description }
}
