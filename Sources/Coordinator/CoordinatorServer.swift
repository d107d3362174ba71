// CoordinatorServer: the I/O shell around CoordinatorState: a ROUTER socket, the journal, the artifact store,
// a clock, and a status snapshot for `smaller status`. Journal first, then sends, for every batch.
import Experiment
import Foundation
import Wire

package struct CoordinatorOptions: Sendable {
    package var runDirectory: URL
    package var bind: String
    package var retryFailed = false
    /// Security for binds beyond loopback (nil: plain, loopback only).
    package var curve: CurveServerKeys?
    /// Called from the loop; true asks for a clean stop (Ctrl-C, `smaller cancel`).
    package var shouldStop: @Sendable () -> Bool = { false }
    package var log: @Sendable (String) -> Void = { try? FileHandle.standardError.write(contentsOf: Data(($0 + "\n").utf8)) }
    /// Called once the socket is bound, with the resolved endpoint (a `*` port becomes a number), unless there
    /// is nothing left to do (every task already done on a resumed run).
    package var onBound: @Sendable (String) -> Void = { _ in }
    /// Told what the loop does at a few named points (`smaller bench cluster` times dispatches and phases).
    package var probe: any CoordinatorProbe = NoCoordinatorProbe.shared
    /// Told the tasks, every committed batch and every status snapshot (the dashboard); none by default.
    package var observer: (any CoordinatorObserver)?
    /// No task is granted while the run directory's filesystem has fewer free bytes (0: no reserve; DiskGuard).
    package var diskReserve: Int64 = 0
    /// Free bytes of the filesystem holding a path (statvfs by default; tests pass their own).
    package var freeSpace: @Sendable (String) -> Int64? = { freeDiskBytes($0) }

    package init(runDirectory: URL, bind: String) {
        self.runDirectory = runDirectory
        self.bind = bind
    }
}

package struct CoordinatorOutcome: Sendable {
    package var cancelled: Bool
    package var done: Int
    package var failed: Int
    package var skipped: Int
    package var pending: Int
}

package final class CoordinatorServer {
    let options: CoordinatorOptions
    let job: JobSpec
    let graph: TaskGraph
    let journal: Journal
    let store: ArtifactStore
    var state: CoordinatorState
    let started = Date()
    let clock0 = DispatchTime.now().uptimeNanoseconds
    /// Routing ids as received, by the printable key the state machine uses.
    var identities: [String: [UInt8]] = [:]
    var lastStatus = 0.0
    var logFile: FileHandle?
    let probe: any CoordinatorProbe
    /// Messages that failed to decode (each disconnected its sender): shown in `status.json`.
    package private(set) var malformedMessages = 0
    /// When the last record was appended to `results.jsonl` (seconds since 1970), once `run` has returned.
    package private(set) var resultFilesWrittenAt = 0.0

    package init(job: JobSpec, options: CoordinatorOptions) throws {
        self.options = options
        probe = options.probe
        self.job = job
        diskGuard = DiskGuard(reserve: options.diskReserve)
        graph = job.plan()
        let fm = FileManager.default
        try fm.createDirectory(at: options.runDirectory, withIntermediateDirectories: true)
        journal = try Journal(runDirectory: options.runDirectory)
        store = try ArtifactStore(root: options.runDirectory.appendingPathComponent("artifacts"))
        let runID: String
        if let existing = try journal.meta("run") { runID = existing } else {
            runID = "\(job.name)-\(UUID().uuidString.prefix(8).lowercased())"
            try journal.setMeta("run", runID)
        }
        try journal.setMeta("job", job.name)
        try journal.register(graph, retryFailed: options.retryFailed, now: Date().timeIntervalSince1970)
        let (restored, leases) = try journal.restore(graph)
        try journal.writeMissingResultFiles()
        let config = CoordinatorConfig(runID: runID, leasePrefix: "l\(UUID().uuidString.prefix(8).lowercased())",
                                       execution: job.execution)
        state = CoordinatorState(graph: graph, config: config, restored: restored, issuedLeases: leases, now: 0)
        let logURL = options.runDirectory.appendingPathComponent("coordinator.log")
        if !fm.fileExists(atPath: logURL.path) { _ = fm.createFile(atPath: logURL.path, contents: nil) }
        logFile = try? FileHandle(forWritingTo: logURL)
        _ = try? logFile?.seekToEnd()
        // Before anything can read the observer (the dashboard serves once this returns), not when the loop starts.
        observeStart()
    }

    var lastCancelCheck = 0.0

    /// `smaller cancel` leaves a `cancel` file; looked for ten times a second, not on every message.
    func cancelRequested() -> Bool {
        lastCancelCheck = now
        return access(options.runDirectory.appendingPathComponent("cancel").path, F_OK) == 0
    }

    var now: Double { Double(DispatchTime.now().uptimeNanoseconds - clock0) / 1e9 }

    let formatter = ISO8601DateFormatter()

    func log(_ text: String) {
        let line = "\(formatter.string(from: Date())) \(text)"
        try? logFile?.write(contentsOf: Data((line + "\n").utf8))
        options.log(line)
    }

    /// The bound ROUTER, its context and the CURVE handler, between `bind()` and `run()`.
    private var link: (context: ZMQContext, socket: ZMQSocket, zap: ZAPHandler?)?

    /// Binds the endpoint now, before `run()`, and returns what was bound (the port chosen for `:*`). A caller
    /// that starts other listeners on port 0 (the dashboard) binds first: else the kernel may hand such a
    /// listener the very port this endpoint names, and this bind fails with "Address already in use".
    @discardableResult
    package func bind() throws -> String {
        if link != nil { return boundEndpoint }
        let context = try ZMQContext()
        var zap: ZAPHandler?
        if let curve = options.curve {
            zap = try ZAPHandler(context: context, allowed: curve.allowedClients, log: { [weak self] line in
                guard let self else { return }
                rateLimitedLog.note("refused handshake", line, now: now)
            })
        }
        let socket = try ZMQSocket.coordinatorRouter(context, bind: options.bind, curve: options.curve,
                                                     beforeBind: { [unowned self] in monitor = try SocketMonitor($0) })
        let endpoint = socket.lastEndpoint.isEmpty ? options.bind : socket.lastEndpoint
        boundEndpoint = endpoint
        link = (context, socket, zap)
        if !state.isFinished { options.onBound(endpoint) }
        try "\(endpoint)\n".write(to: options.runDirectory.appendingPathComponent("coordinator.endpoint"), atomically: true, encoding: .utf8)
        log("coordinator \(state.config.runID): \(graph.tasks.count) tasks (\(state.count(.done)) already done), bound \(endpoint)\(options.curve != nil ? " with CURVE" : "")")
        return endpoint
    }

    /// Runs until every task is terminal, or a stop is requested (then leases are released and workers told).
    /// Binds first unless `bind()` has; the socket closes when this returns.
    package func run() throws -> CoordinatorOutcome {
        try bind()
        guard let bound = link else { preconditionFailure("bound above") }
        link = nil
        let socket = bound.socket, zap = bound.zap

        var finished: Bool? = nil
        let tickEvery = min(0.05, state.config.heartbeatInterval / 4)
        // One tick before the first message: the state's own-stall rule measures from its last tick, and workers
        // already queued are granted leases in the first batch, before the loop's first tick would come.
        var lastTick = now
        checkDisk()
        if let f = try perform(state.handle(.tick, now: lastTick), socket) { finished = f }
        probe.phaseEnded(.setup)
        while finished == nil {
            if options.shouldStop() || (now - lastCancelCheck >= 0.1 && cancelRequested()) {
                try? FileManager.default.removeItem(at: options.runDirectory.appendingPathComponent("cancel"))
                finished = try perform(state.handle(.cancel, now: now), socket)
                break
            }
            zap?.serve()
            var actions: [CoordinatorAction] = []
            let woke = try socket.poll(timeoutMs: Int(tickEvery * 1000))
            probe.phaseEnded(.poll)
            if woke {
                // A batch ends at a READY (its TASKs go out after one commit, not after the whole queue is
                // read) or after 64 messages; either way it is one transaction.
                var budget = 64
                while budget > 0, let frames = try socket.receive(timeoutMs: 0) {
                    probe.phaseEnded(.receive)
                    budget -= 1
                    // A RESULT is checked against the artifact store, so the CHUNKs that came before it in this
                    // batch must be stored first: flush the batch's actions when a RESULT follows a CHUNK.
                    // Otherwise the whole batch is one journal transaction (group commit), before any send.
                    if frames.count > 2, frames[2] == Self.resultCommand,
                       actions.contains(where: { if case .storeChunk = $0 { true } else { false } }) {
                        if let f = try perform(actions, socket) { finished = f }
                        actions = []
                    }
                    actions += noteConnection(frames.first, fd: socket.lastSourceFD)
                    actions += handle(frames)
                    if frames.count > 2, frames[2] == Self.readyCommand { break }
                }
            }
            if now - lastTick >= tickEvery {
                lastTick = now
                expireUploads()
                // The monitor is read here and when a peer shows a new connection (noteConnection), not per
                // message: an empty read costs a system call.
                actions += connectionEvents()
                peerRates.prune { self.state.workers[$0]?.hello != nil }
                rateLimitedLog.flush(now: now)
                if now - lastDiskCheck >= 1 { checkDisk() }
                actions += state.handle(.tick, now: now)
                probe.phaseEnded(.tick)
            }
            // Not `finished = …`: a flush before a RESULT (above) may have reached the end of the grid already.
            if let f = try perform(actions, socket) { finished = f }
            if now - lastStatus >= 0.5 { writeStatus(); probe.phaseEnded(.status) }
        }
        if !journal.flushResultFiles(timeout: Self.finalExportTimeout), let f = journal.resultExportFailure {
            log("results.jsonl lacks \(f.unwritten) records: \(f.message); the journal holds them, and a coordinator started on this run directory writes them")
        }
        resultFilesWrittenAt = Date().timeIntervalSince1970
        writeStatus()
        statusWriter.sync {}
        _ = exportProblems()
        // Give the BYEs a moment to leave before the socket closes (linger is 0).
        let flushUntil = now + 0.2
        while now < flushUntil { _ = try? socket.receive(timeoutMs: 20) }
        let outcome = CoordinatorOutcome(cancelled: finished ?? true, done: state.count(.done), failed: state.count(.failed),
                                         skipped: state.count(.skipped), pending: state.count(.pending) + state.count(.leased))
        log("coordinator stops: \(outcome.done) done, \(outcome.failed) failed, \(outcome.skipped) skipped, \(outcome.pending) not finished\(outcome.cancelled ? " (cancelled; the run directory resumes)" : "")")
        return outcome
    }

    var diskGuard: DiskGuard
    var lastDiskCheck = -Double.infinity

    /// Holds or resumes dispatch by the run directory's free space (DiskGuard); logs what changed.
    func checkDisk() {
        lastDiskCheck = now
        let done = state.count(.done) + state.count(.failed) + state.count(.skipped)
        let path = options.runDirectory.path
        for event in diskGuard.check(free: options.freeSpace(path), done: done, remaining: graph.tasks.count - done, where: path) {
            switch event {
            case .hold(let why): state.dispatchHold = why; log(why)
            case .resume(let why): state.dispatchHold = nil; log(why)
            case .warn(let why): log(why)
            }
        }
    }

    /// The ROUTER's monitor, its endpoint, and which worker sends on which connection (CoordinatorConnections).
    var monitor: SocketMonitor?
    var boundEndpoint = ""
    var connections = Connections()

    /// Per-peer message rates of greeted workers.
    var peerRates = PeerRateLimit()

    /// Whether a message from `from` passes its rate limit (strangers are not limited here: see PeerRateLimit);
    /// one over it is dropped and counted, and logged as a rate-limited line.
    func withinRate(_ from: String, _ frames: [[UInt8]]) -> Bool {
        let chatter = frames.count > 2 && (frames[2] == Self.heartbeatCommand || frames[2] == Self.progressCommand)
        if peerRates.admit(from, chatter: chatter, now: now, greeted: { self.state.workers[from]?.hello != nil }) { return true }
        rateLimitedLog.note("over rate", "worker \(from) is over its message rate: dropped (\(peerRates.dropped) so far in this run)", now: now)
        return false
    }

    static let heartbeatCommand = Array("HEARTBEAT".utf8)
    static let progressCommand = Array("PROGRESS".utf8)

    /// Partial uploads open in the store, bounded per peer and in total.
    var uploads = Uploads()
    lazy var rateLimitedLog = RateLimitedLog { [unowned self] in self.log($0) }

    /// Closes and forgets uploads idle too long (their peer gone or stuck), partial files and all.
    func expireUploads() {
        guard uploads.count > 0 else { return }
        for (sha, peer) in uploads.expire(now: now) {
            store.discard(sha)
            rateLimitedLog.note("upload abandoned", "upload of \(sha.prefix(12)) from \(peer) idle for \(Int(Uploads.idleSeconds)) s: discarded", now: now)
        }
    }

    /// The command frame of a RESULT (frame 2, after the identity and the protocol tag).
    static let resultCommand = Array("RESULT".utf8)
    static let readyCommand = Array("READY".utf8)

    static func key(_ identity: [UInt8]) -> String {
        if !identity.isEmpty, identity.count <= ProtocolConstants.maxIdentifierLength, identity.allSatisfy(WireCodec.isIdentifierByte) {
            return String(decoding: identity, as: UTF8.self)
        }
        return "0x" + identity.map { String(format: "%02x", $0) }.joined()
    }

    func handle(_ frames: [[UInt8]]) -> [CoordinatorAction] {
        guard let identity = frames.first else { return [] }
        let from = Self.key(identity)
        if identities[from] == nil { identities[from] = identity }
        if !withinRate(from, frames) { return [] }
        let message: Message
        defer { probe.phaseEnded(.stateMachine) }
        do {
            message = try WireCodec.decode(Array(frames.dropFirst()), direction: .toCoordinator)
        } catch {
            malformedMessages += 1
            probe.phaseEnded(.decode)
            return state.handle(.malformed(from: from, error), now: now)
        }
        probe.phaseEnded(.decode)
        if case .ready = message { probe.readyReceived(from: from) }
        if case .result(let result) = message {
            let missing = result.record.artifacts.map(\.sha256).filter { !store.has($0) }
            if !missing.isEmpty {
                return state.handle(.resultMissingArtifacts(from: from, result, missing: missing), now: now)
            }
        }
        return state.handle(.message(from: from, message), now: now)
    }

    /// Journal first (one transaction), then everything else in order. Returns the finish flag if reached.
    func perform(_ actions: [CoordinatorAction], _ socket: ZMQSocket) throws -> Bool? {
        var entries: [JournalEntry] = []
        entries.reserveCapacity(actions.count)
        for case .journal(let e) in actions { entries.append(e) }
        try journal.apply(entries, now: Date().timeIntervalSince1970, probe: probe)
        if !entries.isEmpty { options.observer?.committed(entries) }
        defer { probe.phaseEnded(.send) }
        var finished: Bool? = nil
        // TASKs first: a worker waits for them, while ACKs only let it forget a result (all of this batch's
        // state changes are committed already, so the order among sends is free). Two passes over the
        // actions rather than a reordered copy of them.
        func isTask(_ action: CoordinatorAction) -> Bool { if case .send(_, .task) = action { true } else { false } }
        func act(_ action: CoordinatorAction) {
            switch action {
            case .journal: break
            case .send(let to, let message):
                send(message, to: to, socket)
                if case .task = message { probe.taskSent(to: to) }
            case .log(let text): log(text)
            case .peerLog(let kind, let text): rateLimitedLog.note(kind, text, now: now)
            case .serveFetch(let to, let fetch):
                let bytes = store.read(fetch.sha256, offset: fetch.offset, length: fetch.length)
                let total = store.size(fetch.sha256) ?? 0
                if let bytes {
                    send(.chunk(Chunk(sha256: fetch.sha256, offset: fetch.offset, total: total, bytes: bytes)), to: to, socket)
                } else {
                    log("worker \(to) asked for unknown artifact \(fetch.sha256.prefix(12))")
                    send(.bye(Bye(reason: "unknown artifact \(fetch.sha256)", again: true)), to: to, socket)
                }
            case .storeChunk(let from, let chunk):
                if let refused = uploads.admit(chunk, from: from, now: now) {
                    rateLimitedLog.note("upload refused", "upload from \(from) refused: \(refused)", now: now)
                    break
                }
                do {
                    if try store.receive(sha256: chunk.sha256, offset: chunk.offset, total: chunk.total, bytes: chunk.bytes) {
                        uploads.close(chunk.sha256)
                    }
                } catch {
                    uploads.close(chunk.sha256)
                    rateLimitedLog.note("upload rejected", "upload from \(from) rejected: \(error)", now: now)
                }
            case .finished(let cancelled): finished = cancelled
            }
        }
        for action in actions where isTask(action) { act(action) }
        for action in actions where !isTask(action) { act(action) }
        return finished
    }

    func send(_ message: Message, to: String, _ socket: ZMQSocket) {
        guard let identity = identities[to] else { return }
        do {
            try socket.trySend([identity] + WireCodec.encode(message))
        } catch {
            log("send to \(to) failed: \(error)")
        }
    }

    /// How long a finishing coordinator waits for `results.jsonl` writes that keep failing before it gives up
    /// (loudly: the records are in the journal, and the next start on the directory writes them).
    static let finalExportTimeout = 30.0

    /// Why `status.json` could not be written last time (set on `statusWriter`), nil after a success.
    let statusFailure = LockedText()
    /// The export trouble last logged (without its counts), and when: logged when it starts or changes, every
    /// 10 s while it lasts, and once when it ends.
    var loggedExportTrouble: String?
    var exportTroubleLoggedAt = 0.0

    /// The exports' failures (`results.jsonl`, `status.json`) as lines for `status.json`, logged as above.
    func exportProblems() -> [String] {
        var problems: [String] = [], key = ""
        if let f = journal.resultExportFailure {
            problems.append("results.jsonl: \(f.message) (\(f.inARow) failed writes in a row, \(f.unwritten) records waiting; retrying)")
            key += f.message
        }
        if let s = statusFailure.value {
            problems.append("status.json: \(s) (retrying every 0.5 s)")
            key += s
        }
        let trouble = problems.isEmpty ? nil : key
        if trouble != loggedExportTrouble || (trouble != nil && now - exportTroubleLoggedAt >= 10) {
            if trouble != nil { log("export failing: \(problems.joined(separator: "; "))") } else { log("exports are written again") }
            loggedExportTrouble = trouble
            exportTroubleLoggedAt = now
        }
        return problems
    }

    /// `status.json` in the run directory, atomically replaced: what `smaller status` shows.
    func writeStatus() {
        lastStatus = now
        let problems = exportProblems()
        var tasks: [String: Int] = [:]
        for s in TaskState.allCases { tasks[s.rawValue] = state.count(s) }
        let workers = state.workers.values.sorted { $0.id < $1.id }.map { w in
            StatusSnapshot.WorkerRow(id: w.id, host: w.hello?.host ?? "?", state: w.task == nil ? "idle" : "busy",
                                     task: w.task.flatMap { state.tasks[$0]?.spec.title }, done: w.done,
                                     lastHeartbeatAgo: now - w.lastSeen, progress: w.progress,
                                     pid: w.hello?.pid, threads: w.hello?.threads, taskSeconds: w.headSince.map { now - $0 },
                                     cpuSeconds: w.figures?.cpuSeconds, residentBytes: w.figures?.residentBytes, cpuCores: w.cpuCores)
        }
        let failed = state.order.compactMap { id -> StatusSnapshot.FailedRow? in
            guard let t = state.tasks[id], t.state == .failed else { return nil }
            return StatusSnapshot.FailedRow(task: id, title: t.spec.title, error: t.lastError ?? "", logTail: t.logTail)
        }
        let snapshot = StatusSnapshot(run: state.config.runID, job: job.name, pid: Int(getpid()), updatedAt: Date().timeIntervalSince1970,
                                      startedAt: started.timeIntervalSince1970, tasks: tasks, total: graph.tasks.count,
                                      workers: workers, failed: failed, finished: state.isFinished,
                                      malformedMessages: malformedMessages, exportErrors: problems.isEmpty ? nil : problems,
                                      overRateMessages: peerRates.dropped, held: state.dispatchHold)
        options.observer?.status(snapshot)
        let encoder = JSONWriter.encoder(pretty: true)
        // Write-then-rename without an fsync: Foundation's `.atomic` write fsyncs, which stalled the loop (and
        // every READY waiting in it) for 10-80 ms twice a second on a busy disk. The write itself happens on
        // `statusWriter`, off the loop: creating the temporary file allocates an inode, 0.1-5 ms on this
        // filesystem (see ResultFileWriter); `run` waits for the last one before returning.
        if let data = try? encoder.encode(snapshot) {
            let url = options.runDirectory.appendingPathComponent("status.json")
            let failure = statusFailure
            statusWriter.async {
                do { try Journal.replace(url, with: data); failure.value = nil } catch { failure.value = "\(error)" }
            }
        }
    }

    /// Tells the observer (if any) the graph's tasks as restored from the journal (at the end of `init`).
    func observeStart() {
        guard let observer = options.observer else { return }
        let tasks = state.order.compactMap { id in
            state.tasks[id].map { t in
                ObservedTask(id: id, title: t.spec.title, kind: t.spec.kind, language: t.spec.language,
                             setting: t.spec.setting?.label, state: t.state)
            }
        }
        observer.started(run: state.config.runID, job: job.name, tasks: tasks)
    }

    /// Writes `status.json` snapshots in order, off the loop thread.
    let statusWriter = DispatchQueue(label: "smaller.status-writer")
}

/// The coordinator's view for `smaller status`, rewritten every half second.
package struct StatusSnapshot: Codable, Sendable {
    package struct WorkerRow: Codable, Sendable {
        package var id, host, state: String
        package var task: String?
        package var done: Int
        package var lastHeartbeatAgo: Double
        package var progress: Double?
        /// From the worker's HELLO, and how long its current task has run (absent in files from older builds).
        package var pid: Int? = nil
        package var threads: Int? = nil
        package var taskSeconds: Double? = nil
        /// From the worker's latest HEARTBEAT (absent until one carried them, and in files from older builds):
        /// its process's CPU seconds and resident bytes, and the cores it kept busy between its last two.
        package var cpuSeconds: Double? = nil
        package var residentBytes: Int? = nil
        package var cpuCores: Double? = nil
    }

    package struct FailedRow: Codable, Sendable {
        package var task, title, error: String
        package var logTail: String?
    }

    package var run, job: String
    package var pid: Int
    package var updatedAt, startedAt: Double
    package var tasks: [String: Int]
    package var total: Int
    package var workers: [WorkerRow]
    package var failed: [FailedRow]
    package var finished: Bool
    /// Messages dropped as malformed since the coordinator started (absent in files from older builds).
    package var malformedMessages: Int? = nil
    /// Exports failing now (`results.jsonl`, `status.json` itself), each with its error; absent when none.
    package var exportErrors: [String]? = nil
    /// Messages of greeted workers dropped over their message rate (PeerRateLimit); absent in older files.
    package var overRateMessages: Int? = nil
    /// Why no task is being granted now (the disk reserve); absent when tasks are granted.
    package var held: String? = nil
}

/// A string shared between the loop and a writer queue.
final class LockedText: @unchecked Sendable {
    private let lock = NSLock()
    private var text: String?
    var value: String? {
        get { lock.lock(); defer { lock.unlock() }; return text }
        set { lock.lock(); text = newValue; lock.unlock() }
    }
}
