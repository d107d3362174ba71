// JournalPages: bounded reads of the journal for the dashboard's API, on a read-only connection of its own:
// one page of tasks (LIMIT/OFFSET in insertion order) and single records, never the whole table per request.
import Foundation
import GRDB

extension Journal {
    package struct TaskPageRow: Codable, Sendable {
        package var id, kind, title, state: String
        package var failures: Int
        package var worker, lastError: String?
        package var updated: Double
    }

    /// Tasks in the graph's order (rowid), optionally of one state: `limit` rows after skipping `offset`.
    package func taskPage(state: String?, limit: Int, offset: Int) throws -> [TaskPageRow] {
        let filter = state == nil ? "" : "WHERE state = ?"
        var arguments: StatementArguments = state.map { [$0] } ?? []
        arguments += [limit, offset]
        return try db.read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, kind, title, state, failures, worker, last_error, updated FROM tasks \(filter)
                ORDER BY rowid LIMIT ? OFFSET ?
                """, arguments: arguments).map {
                TaskPageRow(id: $0["id"], kind: $0["kind"], title: $0["title"], state: $0["state"], failures: $0["failures"],
                            worker: $0["worker"], lastError: $0["last_error"], updated: $0["updated"])
            }
        }
    }

    /// Every journaled record's JSON text, oldest first (read once when the dashboard starts on a resumed run).
    package func recordTexts() throws -> [String] {
        try db.read { try String.fetchAll($0, sql: "SELECT record FROM results ORDER BY rowid") }
    }

}
