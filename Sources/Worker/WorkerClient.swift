// WorkerClient: the worker's I/O shell: a DEALER socket (recreated on every reconnect), the task thread,
// the artifact cache with chunked fetch and upload, per-task log files. Protocol decisions are WorkerState's.
import Experiment
import Foundation
import Wire

package struct WorkerOptions: Sendable {
    package var endpoint: String
    /// Holds `cache/` (content-addressed artifacts), `logs/<task>-<attempt>.log` and `scratch/`.
    package var workDirectory: URL
    package var threads: Int
    package var engineVersion: String
    /// The commit announced in HELLO (`BuildInfo.commit`; the coordinator refuses another unless the job allows it).
    package var commit = BuildInfo.commit
    package var executors: [String: any TaskExecutor]
    package var curve: CurveClientKeys?
    package var shouldStop: @Sendable () -> Bool = { false }
    package var log: @Sendable (String) -> Void = { try? FileHandle.standardError.write(contentsOf: Data(($0 + "\n").utf8)) }
    /// Told what the loop does at a few named points (`smaller worker --profile` times the phases).
    package var probe: any WorkerProbe = NoWorkerProbe.shared
    /// Leases held at once (HELLO `prefetch`): one runs, the rest wait so a round trip never idles the worker.
    package var prefetch = 1
    /// No task is asked for while the work directory's filesystem has fewer free bytes (0: no reserve; DiskGuard).
    package var diskReserve: Int64 = 0
    /// Free bytes of the filesystem holding a path (statvfs by default).
    package var freeSpace: @Sendable (String) -> Int64? = { freeDiskBytes($0) }

    package init(endpoint: String, workDirectory: URL, threads: Int, engineVersion: String, executors: [any TaskExecutor]) {
        self.endpoint = endpoint
        self.workDirectory = workDirectory
        self.threads = threads
        self.engineVersion = engineVersion
        self.executors = Dictionary(uniqueKeysWithValues: executors.map { ($0.name, $0) })
    }
}

/// Results handed from the task thread to the loop; each hand-over writes a byte to a pipe the loop polls
/// beside its socket, so a finished task is noticed at once rather than at the next poll timeout.
final class TaskMailbox: @unchecked Sendable {
    private let lock = NSLock()
    private var finished: Message?
    private var progress: (Double, String)?
    let wakeFD: Int32

    init(wakeFD: Int32) { self.wakeFD = wakeFD }

    private func wake() {
        var byte: UInt8 = 1
        _ = write(wakeFD, &byte, 1)
    }

    func finish(_ m: Message, wake: Bool = true) { lock.lock(); finished = m; lock.unlock(); if wake { self.wake() } }
    func report(_ f: Double, _ text: String) { lock.lock(); progress = (f, text); lock.unlock(); wake() }
    func take() -> (Message?, (Double, String)?) {
        lock.lock()
        defer { finished = nil; progress = nil; lock.unlock() }
        return (finished, progress)
    }
}

package final class WorkerClient {
    let options: WorkerOptions
    package let workerID: String
    let cache: ArtifactStore
    let context: ZMQContext
    var socket: ZMQSocket?
    /// The current socket's monitor: how a refused handshake is seen (libzmq itself only retries it).
    var monitor: SocketMonitor?
    /// Handshakes refused since the last one that succeeded, and when the monitor was last read (every 50 ms,
    /// not per loop iteration: an empty read costs a system call).
    var refusedInARow = 0
    /// Handshakes that broke off without a reason since the last one that succeeded (`brokenHandshakeLimit`).
    var brokenInARow = 0
    var handshakesCheckedAt = 0.0
    /// Handshakes the current socket completed: after the first, libzmq reconnected it by itself (the link
    /// dropped), and the coordinator sees the new connection only once something is sent on it.
    var handshakesOnSocket = 0
    var state: WorkerState
    let clock0 = DispatchTime.now().uptimeNanoseconds
    var mailbox: TaskMailbox?
    /// Inputs still to fetch before the current task can start: digest and size, in order.
    var fetchQueue: [(sha256: String, total: Int)] = []
    var fetchOffset = 0
    var pendingStart: TaskAssignment?
    /// The wake-up pipe: [read end, write end], non-blocking.
    let wakePipe: [Int32]
    let probe: any WorkerProbe
    /// READY credits not yet sent: one per finished task. They go out at the end of a loop iteration once a
    /// quarter of the prefetch has gathered, or at once when fewer than half the leases are left (an idle or
    /// single-lease worker always asks at once). A READY per finished task made the coordinator commit a
    /// journal batch per READY, each holding ~3 tasks; the worker still never runs dry (it holds ≥ half).
    var pendingCredit = 0
    /// A low-water READY was sent and no TASK has come since. While one is outstanding, more credit waits for
    /// a full `creditBatch`: a worker that drains its queue faster than the coordinator refills it otherwise
    /// sent a READY of one or two credits every loop iteration, and each READY ends a coordinator batch (one
    /// more commit), which slowed the coordinator, the bottleneck, further. The coordinator keeps the credit
    /// of the outstanding READY, so nothing is lost: it grants as soon as it can.
    var readyOutstanding = false
    var creditBatch: Int { max(1, state.config.hello.prefetch / 4) }
    var lowWater: Int { max(1, state.config.hello.prefetch / 2) }
    /// The work directory's disk reserve: while it holds, READY credits wait (DiskGuard), heartbeats go on.
    lazy var diskGuard = DiskGuard(reserve: options.diskReserve, holdingMeans: "this worker asks for no new task",
                                   resumingMeans: "this worker asks for tasks again")
    var lastDiskCheck = -Double.infinity

    func checkDisk() {
        lastDiskCheck = now
        let path = options.workDirectory.path
        // No projection here (a worker does not know the tasks left): only the hold and its end.
        for event in diskGuard.check(free: options.freeSpace(path), done: 0, remaining: 0, where: path) {
            switch event {
            case .hold(let text), .resume(let text), .warn(let text): log(text)
            }
        }
    }

    package init(options: WorkerOptions) throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw ExecutionError("pipe() failed: errno \(errno)") }
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        wakePipe = fds
        self.options = options
        probe = options.probe
        let host = ProcessInfo.processInfo.hostName
        let safeHost = String(host.utf8.map { WireCodec.isIdentifierByte($0) ? Character(UnicodeScalar($0)) : "_" }.prefix(60))
        workerID = "\(safeHost)-\(getpid())-\(UUID().uuidString.prefix(4).lowercased())"
        cache = try ArtifactStore(root: options.workDirectory.appendingPathComponent("cache"))
        context = try ZMQContext()
        let hello = WorkerHello(worker: workerID, host: host, cores: ProcessInfo.processInfo.activeProcessorCount,
                                threads: options.threads, engine: options.engineVersion,
                                executors: options.executors.keys.sorted(), pid: Int(getpid()),
                                prefetch: max(1, min(options.prefetch, ProtocolConstants.maxPrefetch)), commit: options.commit)
        state = WorkerState(config: WorkerConfig(hello: hello), jitterSeed: UInt64(getpid()))
    }

    deinit {
        close(wakePipe[0])
        close(wakePipe[1])
    }

    var now: Double { Double(DispatchTime.now().uptimeNanoseconds - clock0) / 1e9 }

    func drainWakePipe() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(wakePipe[0], &buffer, buffer.count) > 0 {}
    }

    func log(_ text: String) { options.log("\(TaskLog.stamp()) worker \(workerID): \(text)") }

    /// Runs until the coordinator says BYE (or a stop is requested); returns the reason. Throws `WorkerRefused`
    /// when the coordinator refused this worker's build.
    package func run() throws -> String {
        try perform(state.handle(.start, now: now))
        probe.phaseEnded(.setup)
        while !state.isExited {
            if options.shouldStop() {
                if let socket { _ = try? socket.trySend(WireCodec.encode(.bye(Bye(reason: "worker stopped")))) }
                Thread.sleep(forTimeInterval: 0.05)
                return "stopped"
            }
            let woke = try socket?.poll(timeoutMs: 50, orFileDescriptor: wakePipe[0]) ?? (socket: false, fd: false)
            probe.phaseEnded(.poll)
            if woke.fd { drainWakePipe() }
            if let socket, woke.socket {
                var budget = 1000
                while budget > 0, let frames = try socket.receive(timeoutMs: 0) {
                    budget -= 1
                    probe.phaseEnded(.receive)
                    let message: Message
                    do { message = try WireCodec.decode(frames, direction: .toWorker) } catch {
                        probe.phaseEnded(.decode)
                        try perform(state.handle(.malformed(error), now: now))
                        break
                    }
                    probe.phaseEnded(.decode)
                    if case .chunk(let chunk) = message { try receiveChunk(chunk) }
                    if case .task = message { readyOutstanding = false }
                    try perform(state.handle(.message(message), now: now))
                    probe.phaseEnded(.stateMachine)
                    // Replaced (a reconnect) or closed: what the old socket still holds is stale.
                    if self.socket !== socket || state.isExited { break }
                }
            } else if socket == nil {
                Thread.sleep(forTimeInterval: 0.01)
            }
            try checkHandshakes()
            // A finished task starts the next held one, which may finish at once (inline): drain them all.
            while let box = mailbox {
                let (finished, progress) = box.take()
                if let (f, text) = progress { try perform(state.handle(.progress(f, text), now: now)) }
                guard let finished else { break }
                mailbox = nil
                try perform(state.handle(.finished(finished), now: now))
            }
            probe.phaseEnded(.stateMachine)
            // The inline tasks' log lines of this iteration, in one write.
            if let shared = inlineLog, shared.hasPending { shared.writeOut(); probe.phaseEnded(.taskLogWrite) }
            try perform(state.handle(.tick, now: now))
            if now - lastDiskCheck >= 1 { checkDisk() }
            if pendingCredit > 0, !diskGuard.holding, pendingCredit >= creditBatch || (state.queue.count < lowWater && !readyOutstanding) {
                send(.ready(Ready(credit: pendingCredit)))
                pendingCredit = 0
                readyOutstanding = true
            }
            probe.phaseEnded(.stateMachine)
        }
        if let reason = state.refusal { throw WorkerRefused(reason: reason) }
        if case .exited = state.phase { return "coordinator said BYE" }
        return "stopped"
    }

    /// Counts refused handshakes (libzmq retries a refused connection by itself, every 0.1 s); one that succeeds
    /// resets the count. Refused `ProtocolConstants.refusedHandshakeLimit` times in a row, the worker gives up:
    /// retrying does not change its key, the allowlist, or the coordinator's security.
    func checkHandshakes() throws {
        guard let monitor, now - handshakesCheckedAt >= 0.05 else { return }
        handshakesCheckedAt = now
        for event in monitor.events() {
            if event == .handshakeSucceeded {
                refusedInARow = 0
                brokenInARow = 0
                handshakesOnSocket += 1
                // A HEARTBEAT at once tells the coordinator this worker is back, within its reconnect grace.
                if handshakesOnSocket > 1 { send(.heartbeat) }
                continue
            }
            if case .handshakeFailedNoDetail = event {
                brokenInARow += 1
                guard brokenInARow >= ProtocolConstants.brokenHandshakeLimit else { continue }
                let why = options.curve == nil
                    ? "the coordinator closed every handshake before it completed: it likely requires CURVE keys (security mechanism mismatch; this worker has none: give --keys)"
                    : "the coordinator closed every handshake before it completed (is it a smaller coordinator with CURVE?)"
                log("handshake with \(options.endpoint) broke off \(brokenInARow) times in a row: \(why)")
                throw HandshakeRefused(endpoint: options.endpoint, times: brokenInARow, reason: why)
            }
            guard let why = event.refusal else { continue }
            refusedInARow += 1
            log("handshake with \(options.endpoint) refused (\(refusedInARow) of \(ProtocolConstants.refusedHandshakeLimit)): \(why)")
            if refusedInARow >= ProtocolConstants.refusedHandshakeLimit {
                throw HandshakeRefused(endpoint: options.endpoint, times: refusedInARow, reason: why)
            }
        }
    }

    func perform(_ actions: [WorkerAction]) throws {
        for action in actions {
            switch action {
            case .connect:
                monitor = nil
                socket = nil
                pendingCredit = 0
                readyOutstanding = false
                handshakesOnSocket = 0
                var attached: SocketMonitor?
                socket = try ZMQSocket.workerDealer(context, routingID: workerID, connect: options.endpoint, curve: options.curve,
                                                    beforeConnect: { attached = try SocketMonitor($0) })
                monitor = attached
            case .disconnect:
                monitor = nil
                socket = nil
                pendingCredit = 0
                readyOutstanding = false
            case .send(.ready(let r)):
                pendingCredit += r.credit
            case .send(let message):
                if case .result(let r) = message { upload(r.record) }
                send(message)
                if case .workerHello = message, !fetchQueue.isEmpty {
                    fetchOffset = 0
                    requestNextChunk()
                }
            case .startTask(let assignment): begin(assignment)
            case .log(let text): log(text)
            case .exit(let reason): log("exiting: \(reason)")
            }
        }
    }

    func send(_ message: Message) {
        guard let socket else { return }
        probe.phaseEnded(.stateMachine)
        // The state machine says when to beat; the figures are I/O (two small /proc reads), so the shell adds them.
        let message = message == .heartbeat ? Self.heartbeat() : message
        do { try socket.trySend(WireCodec.encode(message)) } catch { log("send failed: \(error)") }
        probe.phaseEnded(.send)
    }

    /// HEARTBEAT with this process's CPU time and resident memory; an empty one where /proc cannot be read (or a
    /// figure is beyond the protocol's range, which a coordinator would refuse).
    static func heartbeat() -> Message {
        guard let cpu = ProcessFigures.cpuSeconds, let rss = ProcessFigures.residentBytes else { return .heartbeat }
        let figures = WorkerFigures(cpuSeconds: cpu, residentBytes: rss)
        return figures.isValid ? .workerHeartbeat(figures) : .heartbeat
    }

    /// CHUNKs for every artifact and the log of a record, so the coordinator holds them before the RESULT.
    func upload(_ record: ResultRecord) {
        for ref in record.artifacts + (record.log.map { [$0] } ?? []) {
            var offset = 0
            repeat {
                guard let bytes = cache.read(ref.sha256, offset: offset, length: ProtocolConstants.chunkBytes) else {
                    log("artifact \(ref.name) (\(ref.sha256.prefix(12))) vanished from the cache")
                    break
                }
                send(.chunk(Chunk(sha256: ref.sha256, offset: offset, total: ref.bytes, bytes: bytes)))
                offset += bytes.count
                if bytes.isEmpty { break }
            } while offset < ref.bytes
        }
    }

    // MARK: Inputs

    func begin(_ assignment: TaskAssignment) {
        fetchQueue = []
        var seen = Set<String>()
        for input in assignment.inputs {
            for ref in input.artifacts where !cache.has(ref.sha256) && seen.insert(ref.sha256).inserted {
                fetchQueue.append((ref.sha256, ref.bytes))
            }
        }
        if fetchQueue.isEmpty { start(assignment); return }
        pendingStart = assignment
        fetchOffset = 0
        log("fetching \(fetchQueue.count) input artifacts for \(assignment.spec.title)")
        requestNextChunk()
    }

    func requestNextChunk() {
        guard let next = fetchQueue.first else { return }
        send(.fetch(Fetch(sha256: next.sha256, offset: fetchOffset, length: ProtocolConstants.chunkBytes)))
    }

    func receiveChunk(_ chunk: Chunk) throws {
        guard let current = fetchQueue.first, chunk.sha256 == current.sha256, chunk.offset == fetchOffset else { return }
        do {
            let complete = try cache.receive(sha256: chunk.sha256, offset: chunk.offset, total: current.total, bytes: chunk.bytes)
            fetchOffset += chunk.bytes.count
            if complete || current.total == 0 {
                fetchQueue.removeFirst()
                fetchOffset = 0
            }
        } catch {
            log("fetch of \(chunk.sha256.prefix(12)) failed: \(error); starting it again")
            fetchOffset = 0
        }
        if fetchQueue.isEmpty, let assignment = pendingStart {
            pendingStart = nil
            start(assignment)
        } else {
            requestNextChunk()
        }
    }

    // MARK: Running

    /// `logs/inline.log`, opened once for appending: the log of every task that runs inline, written out
    /// once per loop iteration (`run`); nil until an inline task runs (or if it cannot be opened).
    var inlineLog: SharedLog?
    func openInlineLog() -> SharedLog? {
        if inlineLog == nil { inlineLog = SharedLog(appendingTo: options.workDirectory.appendingPathComponent("logs/inline.log")) }
        return inlineLog
    }
    /// `<work directory>/scratch/`, as a path: each task's scratch directory is this plus its lease.
    lazy var scratchBase = options.workDirectory.appendingPathComponent("scratch").path + "/"

    func start(_ assignment: TaskAssignment) {
        probe.phaseEnded(.stateMachine)
        let box = TaskMailbox(wakeFD: wakePipe[1])
        mailbox = box
        let base = options.workDirectory
        let executor = options.executors[assignment.spec.executor]
        let inline = executor?.runsInline(assignment.spec) ?? true
        let log: TaskLog
        if inline, let shared = openInlineLog() {
            log = TaskLog(shared: shared, prefix: "\(assignment.task.prefix(16))-\(assignment.attempt)")
        } else {
            log = TaskLog(url: base.appendingPathComponent("logs/\(assignment.task)-\(assignment.attempt).log"))
        }
        probe.phaseEnded(.taskLogOpen)
        // Created by the executor when it writes outputs (most noop tasks write none: two system calls saved).
        let scratch = scratchBase + assignment.lease
        var inputs: [String: [String: URL]] = [:]
        for input in assignment.inputs {
            for ref in input.artifacts { if let p = cache.path(ref.sha256) { inputs[input.task, default: [:]][ref.name] = p } }
        }
        let request = ExecutionRequest(taskID: assignment.task, spec: assignment.spec, attempt: assignment.attempt,
                                       inputs: inputs, workDirectoryPath: scratch, threads: options.threads, log: log)
        let cache = self.cache
        let hello = state.config.hello
        let body: @Sendable () -> Void = {
            let started = Date().timeIntervalSince1970
            log.write("task \(assignment.spec.title) id \(assignment.task) lease \(assignment.lease) attempt \(assignment.attempt) on \(hello.worker)")
            do {
                guard let executor else { throw ExecutionError("this worker has no '\(assignment.spec.executor)' executor") }
                let output = try executor.execute(request) { f, text in box.report(min(1, max(0, f)), text) }
                var refs: [ArtifactRef] = []
                for (name, url) in output.artifacts.sorted(by: { $0.key < $1.key }) {
                    // The executor names its outputs from the spec alone: the next attempt would name it the same.
                    guard ArtifactName.isSafe(name) else { throw PermanentTaskError("artifact name '\(name)' is not a plain file name") }
                    refs.append(try cache.put(file: url, name: name))
                }
                log.write("done: \(output.metrics.count) metrics, \(refs.count) artifacts")
                var record = ResultRecord(taskID: assignment.task, spec: assignment.spec, status: "done", metrics: output.metrics,
                                          artifacts: refs, engineVersion: hello.engine, gitCommit: hello.commit,
                                          host: hello.host, worker: hello.worker,
                                          threads: hello.threads, attempt: assignment.attempt, startedAt: started,
                                          endedAt: Date().timeIntervalSince1970)
                if executor.uploadsLogs, !inline { record.log = try? cache.put(file: log.url, name: "task.log") }
                box.finish(.result(TaskResult(task: assignment.task, lease: assignment.lease, record: record)), wake: !inline)
            } catch {
                log.write("failed: \(error)")
                box.finish(.fail(TaskFailure(task: assignment.task, lease: assignment.lease, error: "\(error)",
                                             logTail: String(log.tail().suffix(4000)),
                                             permanent: error is PermanentTaskError ? true : nil)), wake: !inline)
            }
            if access(scratch, F_OK) == 0 { try? FileManager.default.removeItem(atPath: scratch) }
        }
        probe.phaseEnded(.taskPrepare)
        // Tasks that finish at once (a 0 s noop) run here: a thread would cost more than the task.
        if inline {
            body()
            probe.phaseEnded(.taskRunInline)
            return
        }
        let thread = Thread(block: body)
        thread.stackSize = 8 << 20
        thread.start()
    }
}

/// The coordinator refused this worker (another engine version or commit than its own); `reason` names both.
package struct WorkerRefused: Error, CustomStringConvertible {
    package let reason: String
    package var description: String { "the coordinator refused this worker: \(reason)" }
}

/// The coordinator refused this worker's handshake every time it tried: it stops, saying why.
package struct HandshakeRefused: Error, CustomStringConvertible {
    package var endpoint: String
    package var times: Int
    package var reason: String
    package var description: String { "the coordinator at \(endpoint) refused the connection \(times) times in a row: \(reason)" }
}
