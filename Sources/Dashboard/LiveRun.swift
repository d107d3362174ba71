// LiveRun: the dashboard's view of a running grid, kept incrementally from what the coordinator's loop tells it
// (CoordinatorObserver) under one lock. HTTP handlers read counts, rows and recent events from here: they never
// scan the journal, and the loop only appends and returns.
import Coordinator
import Experiment
import Foundation
import Report

package final class LiveRun: CoordinatorObserver, @unchecked Sendable {
    /// One task's place on the page: its language × setting cell, and its state.
    struct TaskRow {
        var title, kind, row, column: String
        var state: TaskState
    }

    private let lock = NSLock()
    private let scrapeLock = NSLock()
    private var run = "", job = ""
    private var resumed = false
    private var rows: [TaskRow] = []
    private var index: [String: Int] = [:]
    private var counts: [TaskState: Int] = [:]
    private var kindCounts: [String: [TaskState: Int]] = [:]
    private var snapshot: StatusSnapshot?
    private var statusVersion = 0
    private var results = 0
    /// Every finished task's line (records of earlier runs of the directory first), for the results table and plot.
    private var resultRows: [ResultRow] = []
    /// When recent tasks finished (seconds since 1970), oldest first, for the rate over `rateWindow`.
    private var finishedAt: [Double] = []
    private var events = EventLog(capacity: LiveRun.eventCapacity)
    private var closed = false
    /// Random per process: a browser resuming with an event id of another coordinator process starts over.
    package let epoch = String(UInt64.random(in: 0...UInt64.max), radix: 36)
    package let metrics: DashboardMetrics

    /// Events kept for reconnecting browsers; one further behind reloads the whole page state.
    static let eventCapacity = 8192
    static let rateWindow = 60.0

    package init(metrics: DashboardMetrics = DashboardMetrics()) { self.metrics = metrics }

    // MARK: CoordinatorObserver (the loop's thread)

    package func started(run: String, job: String, tasks: [ObservedTask]) {
        lock.lock()
        defer { lock.unlock() }
        self.run = run
        self.job = job
        rows = tasks.map { t in
            TaskRow(title: t.title, kind: t.kind.rawValue, row: t.language ?? "–",
                    column: t.setting ?? (t.kind == .finetune ? "dense" : t.kind.rawValue), state: t.state)
        }
        index = Dictionary(uniqueKeysWithValues: tasks.enumerated().map { ($1.id, $0) })
        counts = [:]
        kindCounts = [:]
        for r in rows {
            counts[r.state, default: 0] += 1
            kindCounts[r.kind, default: [:]][r.state, default: 0] += 1
        }
        results = counts[.done] ?? 0
        resumed = rows.contains { $0.state != .pending }
        metrics.results.increment(by: Int64(results))
        events.append(.reset)
    }

    package func committed(_ entries: [JournalEntry]) {
        let now = Date().timeIntervalSince1970
        lock.lock()
        defer { lock.unlock() }
        for entry in entries {
            switch entry {
            case .leased(let task, _, let worker, _): move(task, to: .leased, detail: worker)
            case .done(let task, let record):
                move(task, to: .done, detail: nil)
                results += 1
                finishedAt.append(now)
                let row = ResultRow(record)
                resultRows.append(row)
                events.append(.result(row))
                metrics.recordResult(kind: record.spec.kind.rawValue, seconds: record.endedAt - record.startedAt)
            case .attemptFailed(let task, _, let error, _):
                move(task, to: .pending, detail: error)
                metrics.attempts(outcome: "failed")
            case .failed(let task, _, let error, _):
                move(task, to: .failed, detail: error)
                metrics.attempts(outcome: "failed")
            case .skipped(let task, let reason): move(task, to: .skipped, detail: reason)
            case .released(let task):
                move(task, to: .pending, detail: nil)
                metrics.attempts(outcome: "released")
            }
        }
        let cut = now - Self.rateWindow
        if let first = finishedAt.firstIndex(where: { $0 >= cut }), first > 0 { finishedAt.removeFirst(first) }
    }

    package func status(_ snapshot: StatusSnapshot) {
        lock.lock()
        self.snapshot = snapshot
        statusVersion += 1
        lock.unlock()
    }

    /// The Prometheus text: the gauges are set from the tallies here, at scrape time, not on the loop's thread.
    package func exposition() -> [UInt8] {
        // One scrape at a time sets and reads the gauges, so no scrape emits another's half-set values.
        scrapeLock.lock()
        defer { scrapeLock.unlock() }
        lock.lock()
        let (counts, kinds, workers) = (counts, kindCounts, snapshot?.workers ?? [])
        lock.unlock()
        metrics.publish(counts: counts, byKind: kinds)
        metrics.publish(workers: workers)
        return metrics.exposition()
    }

    /// Called with the lock held.
    private func move(_ task: String, to state: TaskState, detail: String?) {
        guard let i = index[task] else { return }
        let old = rows[i].state
        rows[i].state = state
        counts[old, default: 0] -= 1
        counts[state, default: 0] += 1
        kindCounts[rows[i].kind, default: [:]][old, default: 0] -= 1
        kindCounts[rows[i].kind, default: [:]][state, default: 0] += 1
        events.append(.task(TaskChange(task: task, title: rows[i].title, row: rows[i].row, column: rows[i].column,
                                       from: old.rawValue, state: state.rawValue, detail: detail)))
    }

    /// The records already in the journal when the dashboard starts (a resumed run).
    package func preload(_ records: [ResultRecord]) {
        lock.lock()
        resultRows = records.map(ResultRow.init)
        lock.unlock()
    }

    /// Ends the event streams (the server is stopping).
    package func close() {
        lock.lock()
        closed = true
        lock.unlock()
    }

    package var isClosed: Bool {
        lock.lock()
        defer { lock.unlock() }
        return closed
    }

    // MARK: Reads (HTTP handlers)

    /// Test F1 against sparsity, one line per language: the mean over seeds and settings at each sparsity (the
    /// dense fine-tuned model at 0 %); nil before any result has both.
    package func sparsityChart() -> Chart? {
        lock.lock()
        var sums: [String: [Double: (total: Double, n: Int)]] = [:]
        for r in resultRows {
            guard let language = r.language, let f1 = r.f1, let sparsity = r.sparsity, f1.isFinite, sparsity.isFinite else { continue }
            let old = sums[language, default: [:]][sparsity] ?? (0, 0)
            sums[language, default: [:]][sparsity] = (old.total + f1, old.n + 1)
        }
        lock.unlock()
        guard !sums.isEmpty else { return nil }
        let series = sums.keys.sorted().enumerated().map { i, language in
            ChartSeries(name: language, points: sums[language]!.sorted { $0.key < $1.key }.map { s, v in
                ChartPoint(x: 100 * s, y: 100 * v.total / Double(v.n), label: "\(language): \(v.n) result(s)")
            }, line: true, color: i % palette.count)
        }
        return Chart(title: "Test F1 vs sparsity", xLabel: "sparsity (%)", yLabel: "test F1 (pts)", series: series)
    }

    /// Result lines of one language and/or setting (nil: any), `limit` after skipping `offset`, and how many match.
    package func resultPage(language: String?, setting: String?, limit: Int, offset: Int) -> (total: Int, rows: [ResultRow]) {
        lock.lock()
        defer { lock.unlock() }
        let matching = language == nil && setting == nil ? resultRows
            : resultRows.filter { (language == nil || $0.language == language) && (setting == nil || $0.setting == setting) }
        guard offset < matching.count else { return (matching.count, []) }
        return (matching.count, Array(matching[offset..<min(matching.count, offset + limit)]))
    }

    package func summary() -> Summary {
        lock.lock()
        defer { lock.unlock() }
        return makeSummary()
    }

    private func makeSummary() -> Summary {
        var tasks: [String: Int] = [:]
        for s in TaskState.allCases { tasks[s.rawValue] = counts[s] ?? 0 }
        var byKind: [String: [String: Int]] = [:]
        for (kind, states) in kindCounts {
            byKind[kind] = Dictionary(uniqueKeysWithValues: TaskState.allCases.map { ($0.rawValue, states[$0] ?? 0) })
        }
        let now = Date().timeIntervalSince1970
        let recent = finishedAt.filter { $0 >= now - Self.rateWindow }
        let started = snapshot?.startedAt ?? now
        let window = min(Self.rateWindow, max(1, now - started))
        let rate = Double(recent.count) / window
        let remaining = (counts[.pending] ?? 0) + (counts[.leased] ?? 0)
        return Summary(run: run, job: job, epoch: epoch, total: rows.count, tasks: tasks, byKind: byKind,
                       ratePerMinute: rate * 60, etaSeconds: rate > 0 ? Double(remaining) / rate : nil,
                       results: results, startedAt: snapshot?.startedAt, updatedAt: snapshot?.updatedAt,
                       finished: snapshot?.finished ?? false, coordinatorPid: Int(ProcessInfo.processInfo.processIdentifier), resumed: resumed,
                       workers: snapshot?.workers ?? [],
                       failed: Array((snapshot?.failed ?? []).prefix(Self.failuresShown)), held: snapshot?.held,
                       lastEvent: "\(epoch)-\(events.lastID)")
    }

    static let failuresShown = 50

    package func workers() -> [StatusSnapshot.WorkerRow] {
        lock.lock()
        defer { lock.unlock() }
        return snapshot?.workers ?? []
    }

    /// The language × setting grid: each cell's task counts by state.
    package func cells() -> [Cell] {
        lock.lock()
        defer { lock.unlock() }
        return makeCells()
    }

    /// The page's first state, taken at one instant: the summary (whose `lastEvent` the page's event stream
    /// starts after), the cells, and the newest `results` result lines.
    func initialState(results limit: Int) -> InitialState {
        lock.lock()
        defer { lock.unlock() }
        return InitialState(status: makeSummary(), cells: makeCells(), results: Array(resultRows.suffix(limit)))
    }

    private func makeCells() -> [Cell] {
        var order: [String] = []
        var byKey: [String: Cell] = [:]
        for r in rows {
            let key = r.row + "\u{1}" + r.column
            if byKey[key] == nil {
                order.append(key)
                byKey[key] = Cell(row: r.row, column: r.column, tasks: [:])
            }
            byKey[key]!.tasks[r.state.rawValue, default: 0] += 1
        }
        return order.map { byKey[$0]! }
    }

    /// Events after `after` (nil: from the oldest kept), or nil when they are no longer all kept; and the
    /// status version, which the event stream compares to know when to send the summary again.
    package func events(after: Int?) -> (events: [(id: Int, event: LiveEvent)]?, last: Int, statusVersion: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (events.since(after), events.lastID, statusVersion)
    }

    package var lastEventID: Int {
        lock.lock()
        defer { lock.unlock() }
        return events.lastID
    }

    package func summaryIfChanged(since version: Int) -> (Summary, Int)? {
        lock.lock()
        defer { lock.unlock() }
        return statusVersion == version ? nil : (makeSummary(), statusVersion)
    }
}

/// A bounded ring of events with increasing ids.
struct EventLog {
    let capacity: Int
    private var ring: [LiveEvent] = []
    private var start = 0
    /// Id of the newest event (0: none yet).
    private(set) var lastID = 0

    init(capacity: Int) { self.capacity = capacity }

    mutating func append(_ event: LiveEvent) {
        lastID += 1
        if ring.count < capacity { ring.append(event) } else {
            ring[start] = event
            start = (start + 1) % capacity
        }
    }

    /// Events with ids above `after` (nil: all kept), oldest first; nil when some of them were overwritten already
    /// or `after` is no id this log gave (a client's number: compared, never computed with).
    func since(_ after: Int?) -> [(id: Int, event: LiveEvent)]? {
        let oldest = lastID - ring.count + 1
        guard let after else { return slice(from: oldest) }
        if after == lastID { return [] }
        guard after >= oldest - 1, after < lastID else { return nil }
        return slice(from: after + 1)
    }

    private func slice(from first: Int) -> [(id: Int, event: LiveEvent)] {
        guard first <= lastID, !ring.isEmpty else { return [] }
        let oldest = lastID - ring.count + 1
        return (first...lastID).map { id in (id, ring[(start + id - oldest) % ring.count]) }
    }
}
