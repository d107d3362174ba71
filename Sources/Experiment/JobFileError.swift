// JobFileError: every mistake in a job file, named by file, line, column and key path.
import Foundation

/// A job-file mistake. `key` is the dotted path (`compression[1].prune.sparsity`); the message says what was
/// expected. Printed as `file:line:column: key: message`, the form editors jump to.
package struct JobFileError: Error, Equatable, CustomStringConvertible, LocalizedError {
    package var file: String
    package var line: Int?
    package var column: Int?
    package var key: String
    package var message: String

    package var description: String {
        var where_ = file
        if let line { where_ += ":\(line)" }
        if let column { where_ += ":\(column)" }
        return key.isEmpty ? "\(where_): \(message)" : "\(where_): \(key): \(message)"
    }

    package var errorDescription: String? { description }
}
