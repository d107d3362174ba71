// CoordinatorState: the scheduling state machine as a value. It takes events (messages, ticks of a clock it
// is handed, cancel) and returns actions (journal entries first, then sends); it never touches a socket.
import Experiment
import Foundation
import Wire

package struct CoordinatorState: Sendable {
    package let config: CoordinatorConfig
    package private(set) var tasks: [String: TaskEntry] = [:]
    /// Dispatch order (the graph's order, so pretraining goes first).
    package let order: [String]
    package private(set) var workers: [String: WorkerEntry] = [:]
    /// Tasks whose inputs are all done and that are pending, in REVERSE dispatch order (the next to grant is
    /// last): granting pops from the end and a requeued task is pushed there, both O(1); removing from the
    /// front of a 3,000-entry array moved the whole array per grant.
    private var runnable: [String] = []
    private var dependents: [String: [String]] = [:]
    /// Every lease ever issued for a task (from the journal, then this process): lease → task.
    private var issued: [String: String]
    private var nextLease = 0
    private var finishedSent = false
    /// When each peer that has not said HELLO was last asked to, or told BYE (pruned after a liveness period).
    private var askedHello: [String: Double] = [:]
    package private(set) var cancelled = false
    /// Tasks per state, kept in step with `tasks` so finishing is known without a scan.
    private var counts: [TaskState: Int] = [:]
    /// Mean run time per task kind (`executor.kind`), an exponential moving average of the records'
    /// endedAt − startedAt: decides whether a worker may hold more than one lease of that kind.
    package private(set) var meanRunTime: [String: Double] = [:]
    /// The clock at the last tick: a gap longer than a liveness period means this process was not running
    /// (stopped, suspended, starved), so the peers' silence over it says nothing about them.
    private var lastTick: Double?

    package init(graph: TaskGraph, config: CoordinatorConfig, restored: [String: RestoredTask] = [:],
                 issuedLeases: [String: String] = [:], now: Double) {
        self.config = config
        order = graph.tasks.map(\.id)
        issued = issuedLeases
        for task in graph.tasks {
            var entry = TaskEntry(id: task.id, spec: task.spec)
            if let r = restored[task.id] {
                entry.state = r.state
                entry.failures = r.failures
                entry.lastError = r.lastError
                entry.logTail = r.logTail
                entry.artifacts = r.artifacts
                if r.state == .leased, let lease = r.lease, let worker = r.worker {
                    // The worker may still be running it: wait one liveness period for it to come back.
                    entry.lease = lease
                    entry.worker = worker
                    entry.leasedAt = now
                    var ghost = workers[worker] ?? WorkerEntry(id: worker, hello: nil, lastSeen: now, lastSent: now)
                    ghost.held.append(HeldLease(lease: lease, task: task.id))
                    ghost.headSince = now
                    workers[worker] = ghost
                } else if r.state == .leased {
                    entry.state = .pending
                }
            }
            tasks[task.id] = entry
            for input in task.spec.inputs { dependents[input, default: []].append(task.id) }
        }
        for id in order.reversed() where tasks[id]!.state == .pending && inputsDone(id) { runnable.append(id) }
        for t in tasks.values { counts[t.state, default: 0] += 1 }
    }

    /// Mutates `value` in place (with `&tasks[id]!`: one dictionary access for several fields).
    private static func modify<T>(_ value: inout T, _ body: (inout T) -> Void) { body(&value) }

    /// Every state change goes through here (after construction), to keep `counts` right. `body` changes other
    /// fields of the entry in the same in-place access (each `tasks[id]!.field = …` hashed the 64-character id
    /// again); returns the entry as changed.
    @discardableResult
    private mutating func setState(_ id: String, _ state: TaskState, _ body: (inout TaskEntry) -> Void = { _ in }) -> TaskEntry {
        var previous = state
        var entry: TaskEntry!
        Self.modify(&tasks[id]!) { t in
            previous = t.state
            t.state = state
            body(&t)
            entry = t
        }
        counts[previous, default: 0] -= 1
        counts[state, default: 0] += 1
        return entry
    }

    // MARK: Queries (for status and tests)

    package func count(_ state: TaskState) -> Int { counts[state, default: 0] }
    /// While set (to why), no task is granted; workers keep their credit and get tasks once it is cleared
    /// (the coordinator's disk reserve, DiskGuard).
    package var dispatchHold: String?
    package var isFinished: Bool { count(.pending) + count(.leased) == 0 }
    package var liveWorkers: [WorkerEntry] { workers.values.filter { $0.hello != nil }.sorted { $0.id < $1.id } }

    // MARK: Events

    package mutating func handle(_ event: CoordinatorEvent, now: Double) -> [CoordinatorAction] {
        var out: [CoordinatorAction] = []
        switch event {
        case .message(let from, let message): receive(message, from: from, now: now, &out)
        case .malformed(let from, let error):
            // Rate-limited per kind of error (a bounded set), so each kind still shows in the log.
            protocolError(from, "malformed message: \(error)", kind: "malformed message (\(error))", now: now, &out)
        case .resultMissingArtifacts(let from, let result, let missing):
            if workers[from]?.hello == nil { askForHello(from, .result(result), now: now, &out); break }
            touch(from, now)
            fail(task: result.task, lease: result.lease, worker: from,
                 error: "result names artifacts that were not uploaded: \(missing.joined(separator: ", "))",
                 logTail: nil, now: now, &out)
        case .connectionDropped(let from):
            if workers[from]?.hello != nil, workers[from]!.connectionLostAt == nil { workers[from]!.connectionLostAt = now }
        case .connectionOpened(let from):
            workers[from]?.connectionLostAt = nil
        case .tick: tick(now: now, &out)
        case .cancel:
            cancelled = true
            for id in order where tasks[id]!.state == .leased {
                setState(id, .pending)
                tasks[id]!.lease = nil
                tasks[id]!.worker = nil
                out.append(.journal(.released(task: id)))
            }
            for w in workers.values where w.hello != nil {
                out.append(.send(to: w.id, .bye(Bye(reason: "run cancelled", again: false))))
            }
            workers = [:]
            finishedSent = true
            out.append(.finished(cancelled: true))
            return out
        }
        if !cancelled { dispatch(now: now, &out) }
        checkFinished(&out)
        return Self.journalFirst(out)
    }

    /// Journal entries before everything else, each group in its original order: nothing is said or done
    /// before the state change behind it is durable.
    static func journalFirst(_ actions: [CoordinatorAction]) -> [CoordinatorAction] {
        // Already in order (no journal entry after another action): returned as is, without copying.
        var seenOther = false, ordered = true
        for action in actions {
            if case .journal = action { if seenOther { ordered = false; break } } else { seenOther = true }
        }
        if ordered { return actions }
        var journal: [CoordinatorAction] = [], rest: [CoordinatorAction] = []
        journal.reserveCapacity(actions.count)
        rest.reserveCapacity(actions.count)
        for action in actions {
            if case .journal = action { journal.append(action) } else { rest.append(action) }
        }
        return journal + rest
    }

    private mutating func touch(_ worker: String, _ now: Double) {
        workers[worker]?.lastSeen = now
    }

    private mutating func receive(_ message: Message, from: String, now: Double, _ out: inout [CoordinatorAction]) {
        if case .workerHello(let hello) = message {
            greet(hello, from: from, now: now, &out)
            return
        }
        guard workers[from]?.hello != nil else {
            askForHello(from, message, now: now, &out)
            return
        }
        touch(from, now)
        switch message {
        case .ready(let r):
            let w = workers[from]!
            workers[from]!.credit = min(w.credit + r.credit, max(0, (w.hello?.prefetch ?? 1) - w.held.count))
        case .heartbeat: break
        case .workerHeartbeat(let f): workers[from]!.record(f, now: now)
        case .progress(let p):
            if workers[from]!.lease == p.lease {
                workers[from]!.progress = p.fraction
                workers[from]!.progressMessage = p.message
            }
        case .result(let r): accept(r, from: from, now: now, &out)
        case .fail(let f):
            guard issued[f.lease] == f.task else {
                protocolError(from, "FAIL for lease \(f.lease) that was never issued for task \(f.task)", now: now, &out)
                return
            }
            fail(task: f.task, lease: f.lease, worker: from, error: f.error, logTail: f.logTail,
                 permanent: f.permanent == true, now: now, &out)
            out.append(.send(to: from, .ack(Ack(task: f.task, lease: f.lease, duplicate: false))))
        case .fetch(let f): out.append(.serveFetch(to: from, f))
        case .chunk(let c): out.append(.storeChunk(from: from, c))
        case .bye(let b):
            out.append(.log("worker \(from) left: \(b.reason)"))
            for h in workers[from]!.held.reversed() { releaseIfCurrent(h, &out) }
            workers[from] = nil
        case .workerHello, .coordinatorHello, .task, .ack:
            protocolError(from, "\(message.command) does not travel to the coordinator", now: now, &out)
        }
    }

    private mutating func greet(_ hello: WorkerHello, from: String, now: Double, _ out: inout [CoordinatorAction]) {
        guard hello.worker == from else {
            protocolError(from, "HELLO names worker \(hello.worker) but arrives from \(from)", now: now, &out)
            return
        }
        if let reason = buildMismatch(hello) {
            refuse(from, reason, now: now, &out)
            return
        }
        askedHello[from] = nil
        var entry = workers[from] ?? WorkerEntry(id: from, hello: nil, lastSeen: now, lastSent: now)
        // The leases it still answers for, oldest first: `leases` (results awaiting an ACK, then the running one),
        // or, from an older worker, only `current`.
        let announced = hello.leases ?? hello.current.map { [AnnouncedLease(task: issued[$0] ?? "", lease: $0)] } ?? []
        var kept: [HeldLease] = []
        var fraction: Double?
        for a in announced {
            if let h = entry.held.first(where: { $0.lease == a.lease }) ?? adoptable(a.lease, by: from) {
                kept.append(h)
                fraction = a.fraction
            }
        }
        // Leases it held that it no longer names: the queued ones were dropped on its side (requeued
        // uncharged); coming back without the one it was running, and naming nothing, means it lost that run.
        for (i, h) in entry.held.enumerated().reversed() where !kept.contains(h) {
            if i == 0, kept.isEmpty {
                fail(task: h.task, lease: h.lease, worker: from, error: "worker restarted and lost the task", logTail: nil, now: now, &out)
            } else {
                releaseIfCurrent(h, &out)
            }
        }
        for h in kept where tasks[h.task]?.state == .pending { readopt(h, by: from, now: now, &out) }
        entry.headSince = kept.isEmpty ? nil : (entry.held.first == kept.first ? entry.headSince ?? now : now)
        entry.held = kept
        entry.progress = kept.isEmpty ? nil : fraction
        entry.hello = hello
        entry.lastSeen = now
        entry.lastSent = now
        entry.connectionLostAt = nil
        entry.credit = 0
        workers[from] = entry
        let adopted = kept.isEmpty ? "" : ", re-adopting \(kept.count) lease\(kept.count == 1 ? "" : "s")"
        out.append(.log("worker \(from) joined (host \(hello.host), \(hello.threads) threads, pid \(hello.pid)\(adopted))"))
        out.append(.send(to: from, .coordinatorHello(CoordinatorHello(
            run: config.runID, heartbeatInterval: config.heartbeatInterval, liveness: config.liveness))))
    }

    /// Why a worker's build may not join this grid (nil when it may): another engine version or commit, unless
    /// the job allows mixed engines. A worker without `commit` (an older build) counts as another commit.
    private func buildMismatch(_ hello: WorkerHello) -> String? {
        guard !config.allowMixedEngines, hello.engine != config.engineVersion || hello.commit != config.commit else { return nil }
        return "worker runs engine \(hello.engine) (\(hello.commit ?? "commit unknown")) but the coordinator runs "
            + "\(config.engineVersion) (\(config.commit)); install the same build on every host, "
            + "or set execution: {allow_mixed_engines: true} in the job"
    }

    /// Refuses a worker for good (BYE `refused`, without `again`: it exits non-zero). Leases it held from an
    /// earlier connection go back to the queue uncharged.
    private mutating func refuse(_ from: String, _ reason: String, now: Double, _ out: inout [CoordinatorAction]) {
        for h in (workers[from]?.held ?? []).reversed() { releaseIfCurrent(h, &out) }
        workers[from] = nil
        askedHello[from] = now
        out.append(.peerLog(kind: "refused worker", "refused worker \(from): \(reason)"))
        out.append(.send(to: from, .bye(Bye(reason: reason, again: false, refused: true))))
    }

    /// A lease a (re)connecting worker names that it is not known to hold: still its task's lease and this
    /// worker's, or given back (its holder presumed gone or released) and not granted since. Its run goes on,
    /// so taking it back avoids a second run of the task; a task done, failed, or leased anew is not taken.
    private func adoptable(_ lease: String, by worker: String) -> HeldLease? {
        guard let id = issued[lease], let t = tasks[id] else { return nil }
        if t.state == .leased, t.lease == lease, t.worker == worker { return HeldLease(lease: lease, task: id) }
        if t.state == .pending, t.lease == nil { return HeldLease(lease: lease, task: id) }
        return nil
    }

    /// Leases a requeued task again to the worker that is still running it, under its old lease id.
    private mutating func readopt(_ h: HeldLease, by worker: String, now: Double, _ out: inout [CoordinatorAction]) {
        let t = setState(h.task, .leased) { t in t.lease = h.lease; t.worker = worker; t.leasedAt = now }
        runnable.removeAll { $0 == h.task }
        out.append(.journal(.leased(task: h.task, lease: h.lease, worker: worker, attempt: t.failures + 1)))
    }

    /// A message from a peer that has not said HELLO (the coordinator restarted, or forgot it): reply "say
    /// HELLO" (BYE with `hello`), at most once per heartbeat interval per peer, and charge nothing. A worker
    /// known from the journal keeps its leases while it reconnects; the message itself is dropped (the worker
    /// resends results after its HELLO).
    private mutating func askForHello(_ from: String, _ message: Message, now: Double, _ out: inout [CoordinatorAction]) {
        switch message {
        case .coordinatorHello, .task, .ack:
            protocolError(from, "\(message.command) does not travel to the coordinator", now: now, &out)
            return
        case .bye: return
        default: break
        }
        touch(from, now)
        if let asked = askedHello[from], now - asked < config.heartbeatInterval { return }
        askedHello[from] = now
        out.append(.peerLog(kind: "say HELLO", "\(message.command) from \(from), which has not said HELLO here: asking it to"))
        out.append(.send(to: from, .bye(Bye(reason: "unknown worker: say HELLO", again: true, hello: true))))
    }

    private mutating func accept(_ r: TaskResult, from: String, now: Double, _ out: inout [CoordinatorAction]) {
        guard let task = tasks[r.task], issued[r.lease] == r.task else {
            protocolError(from, "RESULT for lease \(r.lease) that was never issued for task \(r.task)", now: now, &out)
            return
        }
        drop(r.lease, of: from, now: now)
        if task.state.isTerminal {
            out.append(.send(to: from, .ack(Ack(task: r.task, lease: r.lease, duplicate: true))))
            return
        }
        var record = r.record
        record.status = "done"
        // RESULT does not repeat the spec (protocol v3): the record gets the coordinator's own.
        record.spec = task.spec
        let ran = record.endedAt - record.startedAt
        if ran.isFinite, ran >= 0 {
            let key = task.kindKey
            meanRunTime[key] = meanRunTime[key].map { 0.8 * $0 + 0.2 * ran } ?? ran
        }
        let artifacts = record.artifacts
        setState(r.task, .done) { t in t.artifacts = artifacts; t.lease = nil; t.leasedAt = nil; t.worker = nil }
        if let holder = task.worker, holder != from, workers[holder]?.held.contains(where: { $0.lease == task.lease }) == true {
            // Someone else holds a newer lease on it; their result will be a duplicate.
            out.append(.log("task \(r.task.prefix(12)) finished by \(from) while leased to \(holder)"))
        }
        // Only a pending task (requeued, then its late result came) is in the queue: skip the scan otherwise.
        if task.state == .pending { runnable.removeAll { $0 == r.task } }
        workers[from]?.done += 1
        out.append(.journal(.done(task: r.task, record: record)))
        out.append(.send(to: from, .ack(Ack(task: r.task, lease: r.lease, duplicate: false))))
        for dependent in dependents[r.task] ?? [] where tasks[dependent]!.state == .pending && inputsDone(dependent) {
            runnable.insert(dependent, at: 0)  // behind everything runnable already
        }
    }

    /// A failed attempt on `lease`; ignored when the lease is no longer the task's current one. A permanent
    /// failure (the worker says no retry can cure it) fails the task at once, whatever attempts remain.
    private mutating func fail(task id: String, lease: String, worker: String, error: String, logTail: String?,
                               permanent: Bool = false, now: Double, _ out: inout [CoordinatorAction]) {
        drop(lease, of: worker, now: now)
        guard var task = tasks[id], task.state == .leased, task.lease == lease else { return }
        task.failures += 1
        task.lease = nil
        task.worker = nil
        task.leasedAt = nil
        task.lastError = error
        task.logTail = logTail
        if permanent || task.failures >= config.maxAttempts {
            tasks[id] = task
            setState(id, .failed)
            out.append(.journal(.failed(task: id, failures: task.failures, error: error, logTail: logTail)))
            let why = permanent ? "failed permanently (no retry can cure it)" : "failed after \(task.failures) attempts"
            out.append(.log("task \(task.spec.title) \(why): \(error)"))
            skipDependents(of: id, &out)
        } else {
            tasks[id] = task
            setState(id, .pending)
            out.append(.journal(.attemptFailed(task: id, failures: task.failures, error: error, logTail: logTail)))
            out.append(.log("task \(task.spec.title) attempt \(task.failures) failed: \(error); requeued"))
            runnable.append(id)  // next to be granted
        }
    }

    /// Removes `lease` from what `worker` holds; when it was the running one, the next starts running now.
    private mutating func drop(_ lease: String, of worker: String, now: Double) {
        guard let i = workers[worker]?.held.firstIndex(where: { $0.lease == lease }) else { return }
        workers[worker]!.held.remove(at: i)
        if i == 0 {
            workers[worker]!.progress = nil
            workers[worker]!.progressMessage = nil
            workers[worker]!.headSince = workers[worker]!.held.isEmpty ? nil : now
        }
    }

    /// Gives a held lease's task back to the queue without counting an attempt, if the lease is still current.
    private mutating func releaseIfCurrent(_ h: HeldLease, _ out: inout [CoordinatorAction]) {
        guard tasks[h.task]?.state == .leased, tasks[h.task]?.lease == h.lease else { return }
        release(h.task, &out)
    }

    private mutating func release(_ id: String, _ out: inout [CoordinatorAction]) {
        setState(id, .pending) { t in t.lease = nil; t.worker = nil; t.leasedAt = nil }
        out.append(.journal(.released(task: id)))
        runnable.append(id)  // next to be granted
    }

    private mutating func skipDependents(of id: String, _ out: inout [CoordinatorAction]) {
        var stack = dependents[id] ?? []
        while let next = stack.popLast() {
            guard let t = tasks[next], !t.state.isTerminal else { continue }
            setState(next, .skipped)
            tasks[next]!.lastError = "input \(tasks[id]!.spec.title) failed"
            runnable.removeAll { $0 == next }
            out.append(.journal(.skipped(task: next, reason: "input \(tasks[id]!.spec.title) failed")))
            stack += dependents[next] ?? []
        }
    }

    private mutating func protocolError(_ from: String, _ reason: String, kind: String = "protocol error", now: Double,
                                        _ out: inout [CoordinatorAction]) {
        out.append(.peerLog(kind: kind, "protocol error from \(from): \(reason); disconnecting it"))
        // A peer it does not know (a stranger sending garbage) gets one reply per heartbeat interval, not one per
        // message: its flood is not answered by a flood of BYEs.
        if workers[from] == nil {
            if let asked = askedHello[from], now - asked < config.heartbeatInterval { return }
            askedHello[from] = now
        }
        out.append(.send(to: from, .bye(Bye(reason: "protocol error: \(reason)", again: true))))
        forget(from, error: "protocol error: \(reason)", now: now, &out)
    }

    private mutating func forget(_ worker: String, error: String, now: Double, _ out: inout [CoordinatorAction]) {
        guard let entry = workers[worker] else { return }
        // It ran its leases in order: the first is charged; the ones queued behind it never started.
        for h in entry.held.dropFirst().reversed() { releaseIfCurrent(h, &out) }
        if let h = entry.held.first {
            fail(task: h.task, lease: h.lease, worker: worker, error: error, logTail: nil, now: now, &out)
        }
        workers[worker] = nil
    }

    private mutating func tick(now: Double, _ out: inout [CoordinatorAction]) {
        if let last = lastTick, now - last > config.deadAfter { forgiveOwnStall(now - last, now: now, &out) }
        lastTick = now
        if !askedHello.isEmpty { askedHello = askedHello.filter { now - $0.value <= config.deadAfter } }
        for id in workers.keys.sorted() {
            guard let w = workers[id] else { continue }
            // A worker known only from the journal gets time to notice the restart and reconnect first.
            if let lost = w.connectionLostAt, now - lost > config.reconnectGrace {
                out.append(.log("worker \(id)'s connection dropped and it did not reconnect within \(config.reconnectGrace) s: presumed dead"))
                forget(id, error: "worker lost (its connection dropped)", now: now, &out)
                continue
            }
            if now - w.lastSeen > (w.hello == nil ? config.journaledWorkerGrace : config.deadAfter) {
                out.append(.log("worker \(id) is silent for \(String(format: "%.1f", now - w.lastSeen)) s: presumed dead"))
                forget(id, error: "worker lost (no heartbeat for \(String(format: "%.1f", config.deadAfter)) s)", now: now, &out)
                continue
            }
            if let task = w.task, let lease = w.lease, let t = tasks[task], t.lease == lease,
               let at = w.headSince, now - at > config.taskTimeout {
                out.append(.send(to: id, .bye(Bye(reason: "task timed out", again: false))))
                forget(id, error: "timed out after \(Int(config.taskTimeout)) s", now: now, &out)
                continue
            }
            if w.hello != nil, now - w.lastSent >= config.heartbeatInterval {
                out.append(.send(to: id, .heartbeat))
                workers[id]!.lastSent = now
            }
        }
    }

    /// After a stall of this process, every worker gets a fresh liveness window (and a dropped connection a
    /// fresh reconnect grace) before it is judged: heartbeats it sent meanwhile may still be queued unread, and
    /// a worker that really died is found one window later. Task timeouts keep counting (they are wall time).
    private mutating func forgiveOwnStall(_ gap: Double, now: Double, _ out: inout [CoordinatorAction]) {
        out.append(.log("the coordinator did not run for \(String(format: "%.1f", gap)) s: every worker gets a fresh liveness window"))
        for id in workers.keys {
            workers[id]!.lastSeen = max(workers[id]!.lastSeen, now)
            if workers[id]!.connectionLostAt != nil { workers[id]!.connectionLostAt = now }
        }
    }

    private func inputsDone(_ id: String) -> Bool {
        tasks[id]!.spec.inputs.allSatisfy { tasks[$0]?.state == .done }
    }

    /// `<prefix>-<n>` with n in fixed-width hex (8 digits, more when needed): lease ids of one coordinator then
    /// sort in the order they are issued (up to 2^32 leases; beyond, they stay unique and only lose that
    /// order), so the journal's `leases` B-tree (keyed by lease) grows at its right edge, one page per commit,
    /// instead of "-10" landing between "-1" and "-2".
    static func leaseID(_ prefix: String, _ n: Int) -> String {
        let digits = String(n, radix: 16)
        return prefix + "-" + String(repeating: "0", count: max(0, 8 - digits.utf8.count)) + digits
    }

    static func kindKey(_ spec: TaskSpec) -> String { "\(spec.executor).\(spec.kind.rawValue)" }

    /// Whether a worker that already holds a lease may be granted `spec` too: only for kinds known to run
    /// shorter than a round trip would cost (prefetching a long task would idle another worker at the end).
    private func prefetchable(_ kindKey: String) -> Bool {
        (meanRunTime[kindKey] ?? .infinity) < config.prefetchBelow
    }

    /// Grants runnable tasks to workers with credit, one per worker per round (those holding fewest first),
    /// until no worker can take the task it would get next.
    private mutating func dispatch(now: Double, _ out: inout [CoordinatorAction]) {
        if dispatchHold != nil { return }
        // Most events (a RESULT, a HEARTBEAT) leave every worker without credit: nothing to sort then.
        guard !runnable.isEmpty, workers.values.contains(where: { $0.credit > 0 && $0.hello != nil }) else { return }
        while !runnable.isEmpty {
            let candidates = workers.values.filter { $0.hello != nil && $0.credit > 0 }
                .sorted { ($0.held.count, $0.id) < ($1.held.count, $1.id) }.map(\.id)
            var granted = false
            for id in candidates {
                guard !runnable.isEmpty, let executors = workers[id]!.hello?.executors,
                      let index = runnable.lastIndex(where: { executors.contains(tasks[$0]!.spec.executor) }) else { continue }
                if !workers[id]!.held.isEmpty, !prefetchable(tasks[runnable[index]]!.kindKey) { continue }
                grant(runnable.remove(at: index), to: id, now: now, &out)
                granted = true
            }
            if !granted { return }
        }
    }

    private mutating func grant(_ taskID: String, to id: String, now: Double, _ out: inout [CoordinatorAction]) {
        nextLease += 1
        let lease = Self.leaseID(config.leasePrefix, nextLease)
        issued[lease] = taskID
        let task = setState(taskID, .leased) { t in t.lease = lease; t.worker = id; t.leasedAt = now }
        if workers[id]!.held.isEmpty { workers[id]!.headSince = now }
        workers[id]!.held.append(HeldLease(lease: lease, task: taskID))
        workers[id]!.credit -= 1
        workers[id]!.lastSent = now
        let inputs = task.spec.inputs.map { TaskInput(task: $0, artifacts: tasks[$0]!.artifacts) }
        out.append(.journal(.leased(task: taskID, lease: lease, worker: id, attempt: task.failures + 1)))
        out.append(.send(to: id, .task(TaskAssignment(task: taskID, lease: lease, attempt: task.failures + 1,
                                                     spec: task.spec, inputs: inputs, timeout: config.taskTimeout))))
    }

    private mutating func checkFinished(_ out: inout [CoordinatorAction]) {
        guard !finishedSent, isFinished else { return }
        finishedSent = true
        for w in workers.values where w.hello != nil {
            out.append(.send(to: w.id, .bye(Bye(reason: "grid finished", again: false))))
        }
        out.append(.finished(cancelled: false))
    }
}
