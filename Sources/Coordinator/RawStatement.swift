// RawStatement: runs one of GRDB's cached statements with values bound through SQLite's C API, for the
// journal's per-task statements (a lease, a result): building GRDB StatementArguments for each cost more than
// the statement itself. Used only inside the journal's write block, between its BEGIN and COMMIT.
import GRDB
import GRDBSQLite

struct RawStatement {
    let handle: OpaquePointer

    /// SQLite copies bound text before `bind` returns (SQLITE_TRANSIENT).
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    func text(_ index: Int32, _ value: String?) {
        guard var value else { sqlite3_bind_null(handle, index); return }
        value.withUTF8 { buffer in
            if let base = buffer.baseAddress {
                _ = base.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                    sqlite3_bind_text(handle, index, $0, Int32(buffer.count), Self.transient)
                }
            } else {
                _ = sqlite3_bind_text(handle, index, "", 0, Self.transient)  // empty text, not NULL
            }
        }
    }

    func double(_ index: Int32, _ value: Double) { sqlite3_bind_double(handle, index, value) }
    func int(_ index: Int32, _ value: Int) { sqlite3_bind_int64(handle, index, Int64(value)) }

    /// Binds with `bind`, steps once (statements that return no rows), resets; throws SQLite's error.
    static func run(_ db: Database, _ sql: String, _ bind: (RawStatement) -> Void) throws {
        try run(db, try db.cachedStatement(sql: sql), bind)
    }

    /// The same with a statement the caller holds (prepared once on this connection): no SQL text is built,
    /// hashed and compared to find it in GRDB's statement cache.
    static func run(_ db: Database, _ statement: Statement, _ bind: (RawStatement) -> Void) throws {
        let raw = RawStatement(handle: statement.sqliteStatement)
        sqlite3_reset(raw.handle)
        sqlite3_clear_bindings(raw.handle)
        bind(raw)
        let code = sqlite3_step(raw.handle)
        sqlite3_reset(raw.handle)
        guard code == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)), sql: statement.sql)
        }
    }
}
