// Journal: the coordinator's SQLite (GRDB) journal in the run directory. Every state change is written
// here, in one transaction per batch, before the coordinator acts on it; a restart reads it back.
import Experiment
import Foundation
import GRDB
import Wire

package final class Journal: @unchecked Sendable {
    package let db: DatabaseQueue
    package let runDirectory: URL
    /// The background checkpointer's own connection, and commits since the last checkpoint was started.
    private var checkpointDB: DatabaseQueue?
    private var commitsSinceCheckpoint = 0
    private let checkpointer = DispatchQueue(label: "smaller.journal-checkpoint")
    /// Commits between checkpoints: a noop batch writes a handful of WAL pages, so the WAL stays a few MB.
    static let checkpointEvery = 200
    /// Above this size the background checkpoint becomes a TRUNCATE one. A passive checkpoint never lets the WAL
    /// restart while the loop keeps committing (there are always newer frames than it copied), so in a grid
    /// of instant tasks the WAL would grow ~9 KB per task without bound; a TRUNCATE checkpoint holds the next
    /// commit back (busy timeout) while it copies and empties the WAL, once per this many bytes.
    package var walLimitBytes = 64 << 20
    /// Each registered task's spec as JSON (RecordJSON.spec), written once at registration and reused for
    /// the `tasks.spec` column and every record of the task.
    private var specJSON: [String: String] = [:]
    /// Each registered task's rowid in `tasks`. Rows are inserted in the graph's order, which is also the
    /// dispatch order, so updating by rowid touches neighbouring rows: a batch of leases or results dirties
    /// a few pages of `tasks` instead of one random page (and an index lookup) per task id.
    private var rowids: [String: Int64] = [:]
    /// The statements of every batch, prepared once on the writer connection and held here (used only inside
    /// its write blocks). Found through GRDB's statement cache they cost a SQL string built, hashed and
    /// compared per statement: more than the statement's own work.
    private final class Hot {
        let begin, commit, lease, leaseRow, done, result: Statement
        init(_ db: Database) throws {
            begin = try db.makeStatement(sql: "BEGIN")
            commit = try db.makeStatement(sql: "COMMIT")
            lease = try db.makeStatement(sql: "UPDATE tasks SET state = 'leased', lease = ?, worker = ?, updated = ? WHERE rowid = ?")
            leaseRow = try db.makeStatement(sql: "INSERT OR REPLACE INTO leases (lease, task, worker, attempt, at) VALUES (?, ?, ?, ?, ?)")
            done = try db.makeStatement(sql: "UPDATE tasks SET state = 'done', lease = NULL, worker = NULL, artifacts = ?, updated = ? WHERE rowid = ?")
            result = try db.makeStatement(sql: "INSERT OR REPLACE INTO results (task, record, at) VALUES (?, ?, ?)")
        }
    }
    private var hot: Hot?

    package init(runDirectory: URL, readOnly: Bool = false) throws {
        self.runDirectory = runDirectory
        var config = Configuration()
        config.readonly = readOnly
        config.journalMode = .wal
        config.busyMode = .timeout(5)
        // synchronous=NORMAL in WAL mode survives a killed process (SIGKILL), which is what we promise;
        // FULL would add an fsync per batch to survive power loss too.
        // Checkpoints (copying the WAL into the database file: two fsyncs) run on a background connection, not
        // in the commit that crosses SQLite's 1000-page threshold: they stalled the coordinator's loop for 10+ ms.
        if !readOnly {
            config.prepareDatabase { db in
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
                try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
            }
        }
        let path = runDirectory.appendingPathComponent("journal.sqlite").path
        db = try DatabaseQueue(path: path, configuration: config)
        if readOnly { return }
        var checkpointConfig = Configuration()
        checkpointConfig.busyMode = .timeout(5)
        checkpointDB = try DatabaseQueue(path: path, configuration: checkpointConfig)
        // Fewer pages dirtied per task (each costs a WAL frame at commit): `leases` (small rows keyed by text)
        // is WITHOUT ROWID, one B-tree rather than a table plus an index; `results` has no index on `task` (a
        // random page per row): a task is journaled done once, since the state machine ignores a RESULT for a
        // done task; `events` has no AUTOINCREMENT (no sqlite_sequence write per row); per-task updates of
        // `tasks` go by rowid (below). Journals made before this have the same columns and keep working.
        try db.write { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS tasks (
                    id TEXT PRIMARY KEY, kind TEXT NOT NULL, title TEXT NOT NULL, spec TEXT NOT NULL,
                    state TEXT NOT NULL, failures INTEGER NOT NULL DEFAULT 0, lease TEXT, worker TEXT,
                    last_error TEXT, log_tail TEXT, artifacts TEXT NOT NULL DEFAULT '[]', updated REAL NOT NULL);
                CREATE TABLE IF NOT EXISTS leases (
                    lease TEXT PRIMARY KEY, task TEXT NOT NULL, worker TEXT NOT NULL, attempt INTEGER NOT NULL, at REAL NOT NULL) WITHOUT ROWID;
                CREATE TABLE IF NOT EXISTS results (task TEXT NOT NULL, record TEXT NOT NULL, at REAL NOT NULL);
                CREATE TABLE IF NOT EXISTS events (
                    seq INTEGER PRIMARY KEY, at REAL NOT NULL, kind TEXT NOT NULL, task TEXT, detail TEXT);
                """)
        }
    }

    package func meta(_ key: String) throws -> String? {
        try db.read { try String.fetchOne($0, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key]) }
    }

    package func setMeta(_ key: String, _ value: String) throws {
        try db.write { try $0.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", arguments: [key, value]) }
    }

    /// Adds the graph's tasks that the journal does not know yet, as pending; with `retryFailed`, failed and
    /// skipped tasks of this graph become pending again with their attempts reset.
    package func register(_ graph: TaskGraph, retryFailed: Bool, now: Double) throws {
        for task in graph.tasks where specJSON[task.id] == nil { specJSON[task.id] = RecordJSON.spec(task.spec) }
        try db.write { db in
            for task in graph.tasks {
                let spec = specJSON[task.id]!
                try db.execute(sql: """
                    INSERT OR IGNORE INTO tasks (id, kind, title, spec, state, updated) VALUES (?, ?, ?, ?, 'pending', ?)
                    """, arguments: [task.id, task.spec.kind.rawValue, task.spec.title, spec, now])
                if retryFailed {
                    try db.execute(sql: """
                        UPDATE tasks SET state = 'pending', failures = 0, updated = ? WHERE id = ? AND state IN ('failed', 'skipped')
                        """, arguments: [now, task.id])
                }
            }
        }
        for row in try db.read({ try Row.fetchAll($0, sql: "SELECT rowid, id FROM tasks") }) {
            rowids[row["id"] as String] = row["rowid"] as Int64
        }
    }

    /// The journal's view of the graph's tasks, and every lease issued for them.
    package func restore(_ graph: TaskGraph) throws -> (tasks: [String: RestoredTask], leases: [String: String]) {
        try db.read { db in
            var tasks: [String: RestoredTask] = [:]
            let rows = try Row.fetchAll(db, sql: "SELECT id, state, failures, lease, worker, last_error, log_tail, artifacts FROM tasks")
            for row in rows {
                let id: String = row["id"]
                guard graph.byID[id] != nil else { continue }
                let artifactsJSON: String = row["artifacts"]
                let artifacts = (try? JSONDecoder().decode([ArtifactRef].self, from: Data(artifactsJSON.utf8))) ?? []
                tasks[id] = RestoredTask(state: TaskState(rawValue: row["state"]) ?? .pending, failures: row["failures"],
                                         lease: row["lease"], worker: row["worker"], lastError: row["last_error"],
                                         logTail: row["log_tail"], artifacts: artifacts)
            }
            var leases: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT lease, task FROM leases") { leases[row["lease"]] = row["task"] }
            return (tasks, leases)
        }
    }

    /// Writes a batch of entries in one transaction. The coordinator calls this once per loop iteration with
    /// everything that iteration decided (group commit), before it sends anything: one transaction for many
    /// leases and results. Each done record is then also appended to `results.jsonl` by a background writer;
    /// the journal's `results` table is the durable copy, and `writeMissingResultFiles` (at every start)
    /// appends what a crash kept from the export. `probe` is told when the records' JSON and the transaction end (the coordinator's loop phases).
    package func apply(_ entries: [JournalEntry], now: Double, probe: any CoordinatorProbe = NoCoordinatorProbe.shared) throws {
        guard !entries.isEmpty else { return }
        // The done records' JSON, in entry order: the transaction below takes them one by one, then the export.
        var exports: [String] = []
        for case .done(let task, let record) in entries {
            exports.append(RecordJSON.record(record, spec: specJSON[task] ?? RecordJSON.spec(record.spec)))
        }
        var nextExport = 0
        probe.phaseEnded(.journalJSON)
        // Statements are compiled once per connection (cachedStatement), not once per entry.
        func run(_ db: Database, _ sql: String, _ arguments: StatementArguments) throws {
            try db.cachedStatement(sql: sql).execute(arguments: arguments)
        }
        // A registered task is addressed by rowid, anything else by id (same row either way).
        // The transaction by hand, through cached BEGIN / COMMIT statements: GRDB's `write` prepared both
        // statements again for every batch (one batch per READY). Same semantics: all or nothing.
        try db.writeWithoutTransaction { db in
            let hot = try self.hot ?? Hot(db)
            self.hot = hot
            try RawStatement.run(db, hot.begin) { _ in }
            do {
                for entry in entries {
                    switch entry {
                    // The two per-task entries bind their values straight into cached statements (RawStatement):
                    // GRDB's StatementArguments cost more than SQLite's own work for these short statements.
                    case .leased(let task, let lease, let worker, let attempt):
                        if let rowid = rowids[task] {
                            try RawStatement.run(db, hot.lease) {
                                $0.text(1, lease); $0.text(2, worker); $0.double(3, now); $0.int(4, Int(rowid))
                            }
                        } else {
                            try run(db, "UPDATE tasks SET state = 'leased', lease = ?, worker = ?, updated = ? WHERE id = ?", [lease, worker, now, task])
                        }
                        try RawStatement.run(db, hot.leaseRow) {
                            $0.text(1, lease); $0.text(2, task); $0.text(3, worker); $0.int(4, attempt); $0.double(5, now)
                        }
                    case .done(let task, let record):
                        let artifacts = RecordJSON.artifacts(record.artifacts)
                        if let rowid = rowids[task] {
                            try RawStatement.run(db, hot.done) { $0.text(1, artifacts); $0.double(2, now); $0.int(3, Int(rowid)) }
                        } else {
                            try run(db, "UPDATE tasks SET state = 'done', lease = NULL, worker = NULL, artifacts = ?, updated = ? WHERE id = ?",
                                    [artifacts, now, task])
                        }
                        try RawStatement.run(db, hot.result) { $0.text(1, task); $0.text(2, exports[nextExport]); $0.double(3, now) }
                        nextExport += 1
                        // No `events` row: the `results` row (task, record with its worker, time) is the event, and
                        // one row fewer per task is one page fewer per commit.
                    case .attemptFailed(let task, let failures, let error, let tail):
                        try run(db, """
                            UPDATE tasks SET state = 'pending', failures = ?, lease = NULL, worker = NULL, last_error = ?,
                            log_tail = ?, updated = ? WHERE id = ?
                            """, [failures, error, tail, now, task])
                        try event(db, now, "attempt-failed", task, error)
                    case .failed(let task, let failures, let error, let tail):
                        try run(db, """
                            UPDATE tasks SET state = 'failed', failures = ?, lease = NULL, worker = NULL, last_error = ?,
                            log_tail = ?, updated = ? WHERE id = ?
                            """, [failures, error, tail, now, task])
                        try event(db, now, "failed", task, error)
                    case .skipped(let task, let reason):
                        try run(db, "UPDATE tasks SET state = 'skipped', last_error = ?, updated = ? WHERE id = ?", [reason, now, task])
                    case .released(let task):
                        try run(db, "UPDATE tasks SET state = 'pending', lease = NULL, worker = NULL, updated = ? WHERE id = ?", [now, task])
                    }
                }
                try RawStatement.run(db, hot.commit) { _ in }
            } catch {
                try? RawStatement.run(db, "ROLLBACK") { _ in }  // fails harmlessly if SQLite already rolled back
                throw error
            }
        }
        probe.phaseEnded(.journalSQLite)
        probe.journalCommitted(entries: entries.count)
        noteCommit()
        resultsExport.enqueue(exports)  // only what was committed
    }

    /// A passive checkpoint on the background connection every `checkpointEvery` commits: it copies what
    /// the WAL holds into the database file without blocking the writer (durability does not depend on it:
    /// a commit is durable in the WAL). SQLite also checkpoints when the last connection closes.
    private func noteCommit() {
        commitsSinceCheckpoint += 1
        guard commitsSinceCheckpoint >= Self.checkpointEvery, let checkpointDB else { return }
        commitsSinceCheckpoint = 0
        let wal = runDirectory.appendingPathComponent("journal.sqlite-wal").path, limit = walLimitBytes
        checkpointer.async {
            _ = try? checkpointDB.inDatabase { try Row.fetchOne($0, sql: "PRAGMA wal_checkpoint(PASSIVE)") }
            let size = (try? FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int) ?? 0
            if size > limit {
                _ = try? checkpointDB.inDatabase { try Row.fetchOne($0, sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
            }
        }
    }

    private lazy var resultsExport = ResultFileWriter(runDirectory: runDirectory)

    deinit { resultsExport.stop() }

    /// Waits until every record handed to the background export is in `results.jsonl` (and the last checkpoint
    /// ran); false when writing it still fails after `timeout` seconds (the records stay in the journal).
    @discardableResult
    package func flushResultFiles(timeout: Double = .infinity) -> Bool {
        let flushed = resultsExport.flush(timeout: timeout)
        waitForCheckpoint()
        return flushed
    }

    /// Why appending to `results.jsonl` fails, while it does: the error, failures in a row, records waiting.
    package var resultExportFailure: (message: String, inARow: Int, unwritten: Int)? { resultsExport.failure }

    /// Waits until the checkpoint started by the last commit (if any) has run.
    package func waitForCheckpoint() { checkpointer.sync {} }

    /// Appends to `results.jsonl` every journaled result it lacks (a crash between the commit and the background
    /// write, or during it: a last line cut short is dropped first); returns how many, in commit order.
    @discardableResult
    package func writeMissingResultFiles() throws -> Int {
        let path = runDirectory.appendingPathComponent(ResultFileWriter.fileName).path
        let present = try ResultFileWriter.exportedTaskIDs(path)
        let missing = try db.read { db in
            try Row.fetchAll(db, sql: "SELECT task, record FROM results ORDER BY rowid").compactMap { row -> String? in
                present.contains(row["task"] as String) ? nil : row["record"] as String
            }
        }.map { json in
            // A journal written before RecordJSON (Foundation's pretty printer) holds records over several lines.
            guard json.contains("\n"), let r = try? ResultRecord.decode(Data(json.utf8)) else { return json }
            return RecordJSON.record(r, spec: RecordJSON.spec(r.spec))
        }
        if !missing.isEmpty { try ResultFileWriter.append(missing, to: path) }
        return missing.count
    }

    /// Write-then-rename without an fsync (`status.json`, which readers must never see half written): as
    /// durable as the WAL journal at synchronous=NORMAL (it survives a killed process, not a power cut).
    static func replace(_ url: URL, with data: Data) throws {
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp")
        // Plain open/write/close: Foundation's createFile and .atomic writes fsync.
        let fd = open(tmp.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw ResultFileWriter.ExportError(path: tmp.path, call: "open", errno: errno) }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let writeErrno = written < 0 ? errno : ENOSPC
        close(fd)
        guard written == data.count else { throw ResultFileWriter.ExportError(path: tmp.path, call: "write", errno: writeErrno) }
        guard rename(tmp.path, url.path) == 0 else { throw ResultFileWriter.ExportError(path: url.path, call: "rename", errno: errno) }
    }

    private func event(_ db: Database, _ now: Double, _ kind: String, _ task: String?, _ detail: String?) throws {
        try db.cachedStatement(sql: "INSERT INTO events (at, kind, task, detail) VALUES (?, ?, ?, ?)").execute(arguments: [now, kind, task, detail])
    }

    /// Done records of the given tasks (all when nil), oldest first.
    package func results(of ids: Set<String>? = nil) throws -> [ResultRecord] {
        try db.read { db in
            try Row.fetchAll(db, sql: "SELECT task, record FROM results ORDER BY at").compactMap { row -> ResultRecord? in
                let task: String = row["task"]
                if let ids, !ids.contains(task) { return nil }
                let json: String = row["record"]
                return try? ResultRecord.decode(Data(json.utf8))
            }
        }
    }

    /// Every lease, oldest first: worker and wall-clock time (seconds since 1970).
    package func leases() throws -> [(task: String, worker: String, at: Double)] {
        try db.read { db in
            try Row.fetchAll(db, sql: "SELECT task, worker, at FROM leases ORDER BY at").map { ($0["task"], $0["worker"], $0["at"]) }
        }
    }

    /// The first lease's and the last result's wall-clock times.
    package func span() throws -> (firstLease: Double, lastResult: Double) {
        try db.read { db in
            (try Double.fetchOne(db, sql: "SELECT MIN(at) FROM leases") ?? 0, try Double.fetchOne(db, sql: "SELECT MAX(at) FROM results") ?? 0)
        }
    }

    package struct TaskRow: Sendable {
        package var id, kind, title, state: String
        package var failures: Int
        package var lastError: String?
        package var logTail: String?
    }

    package func taskRows() throws -> [TaskRow] {
        try db.read { db in
            try Row.fetchAll(db, sql: "SELECT id, kind, title, state, failures, last_error, log_tail FROM tasks").map {
                TaskRow(id: $0["id"], kind: $0["kind"], title: $0["title"], state: $0["state"], failures: $0["failures"],
                        lastError: $0["last_error"], logTail: $0["log_tail"])
            }
        }
    }
}
