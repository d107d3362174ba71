// The coordinator state machine's vocabulary: configuration, task and worker entries, events, journal entries
// and actions. The machine itself is CoordinatorState.swift; the I/O shell is CoordinatorServer.swift.
import Experiment
import Foundation
import Wire

package struct CoordinatorConfig: Sendable {
    package var runID: String
    /// Prefix of lease ids, unique per coordinator process, so leases never repeat across restarts.
    package var leasePrefix: String
    package var heartbeatInterval: Double
    package var liveness: Int
    package var maxAttempts: Int
    package var taskTimeout: Double
    /// More than one lease per worker only for task kinds whose mean run time is below this.
    package var prefetchBelow = ProtocolConstants.prefetchBelowSeconds
    /// The build workers must match (HELLO `engine` and `commit`) unless `allowMixedEngines`: this process's.
    package var engineVersion = BuildInfo.version
    package var commit = BuildInfo.commit
    package var allowMixedEngines: Bool
    /// How long a worker whose connection dropped has to come back before it is presumed dead.
    package var reconnectGrace = ProtocolConstants.reconnectGrace

    package init(runID: String, leasePrefix: String, execution: ExecutionSpec) {
        self.runID = runID
        self.leasePrefix = leasePrefix
        heartbeatInterval = execution.heartbeatInterval
        liveness = execution.liveness
        maxAttempts = execution.maxAttempts
        taskTimeout = execution.taskTimeout
        allowMixedEngines = execution.allowMixedEngines
    }

    package var deadAfter: Double { heartbeatInterval * Double(liveness) }
    /// How long a restarted coordinator waits for a worker known only from the journal to say HELLO: a
    /// worker notices a silent coordinator after `deadAfter` and then waits at most the longest reconnect
    /// back-off (with its +20 % jitter); one more heartbeat interval covers the connection itself.
    package var journaledWorkerGrace: Double { deadAfter + ProtocolConstants.reconnectMax * 1.2 + heartbeatInterval }
}

package enum TaskState: String, Codable, Sendable, CaseIterable {
    case pending, leased, done, failed, skipped

    package var isTerminal: Bool { self == .done || self == .failed || self == .skipped }
}

package struct TaskEntry: Sendable {
    package let id: String
    package let spec: TaskSpec
    /// `CoordinatorState.kindKey(spec)`, made once (the mean run time per kind is looked up per grant).
    package let kindKey: String
    package var state: TaskState = .pending
    /// Failed attempts so far; the next lease is attempt `failures + 1`.
    package var failures = 0
    package var lease: String?
    package var worker: String?
    package var leasedAt: Double?
    package var lastError: String?
    package var logTail: String?
    package var artifacts: [ArtifactRef] = []

    package init(id: String, spec: TaskSpec) {
        self.id = id
        self.spec = spec
        kindKey = CoordinatorState.kindKey(spec)
    }
}

/// What the journal says about a task when the coordinator starts on an existing run directory.
package struct RestoredTask: Sendable {
    package var state: TaskState
    package var failures: Int
    package var lease: String?
    package var worker: String?
    package var lastError: String?
    package var logTail: String?
    package var artifacts: [ArtifactRef]

    package init(state: TaskState, failures: Int, lease: String?, worker: String?, lastError: String?,
                 logTail: String?, artifacts: [ArtifactRef]) {
        self.state = state; self.failures = failures; self.lease = lease; self.worker = worker
        self.lastError = lastError; self.logTail = logTail; self.artifacts = artifacts
    }
}

/// A lease a worker holds: the task it names.
package struct HeldLease: Equatable, Sendable {
    package var lease: String
    package var task: String
}

package struct WorkerEntry: Sendable {
    package let id: String
    /// Nil for a worker known only from the journal (it held a lease when the last coordinator stopped).
    package var hello: WorkerHello?
    package var lastSeen: Double
    package var lastSent: Double
    /// Leases it may still be granted (READY credits, at most its prefetch minus what it holds).
    package var credit = 0
    /// Leases it holds, oldest first: a worker runs them in that order, so the first is the one running.
    package var held: [HeldLease] = []
    /// When the first held lease started running (granted to an idle worker, or its predecessor ended).
    package var headSince: Double?
    package var done = 0
    package var lease: String? { held.first?.lease }
    package var task: String? { held.first?.task }
    package var progress: Double?
    package var progressMessage: String?
    /// When its connection dropped, if it has not come back on a new one since: presumed dead after
    /// `CoordinatorConfig.reconnectGrace` (a killed worker's leases go back at once, not after the liveness timeout).
    package var connectionLostAt: Double?
    /// Its process's figures from its latest HEARTBEAT that had them, and when that arrived.
    package var figures: WorkerFigures?
    package var figuresAt: Double?
    /// CPU in use over the last interval between two such HEARTBEATs, in cores (1 = one core busy).
    package var cpuCores: Double?

    mutating func record(_ f: WorkerFigures, now: Double) {
        if let old = figures, let at = figuresAt, now > at, f.cpuSeconds >= old.cpuSeconds {
            cpuCores = (f.cpuSeconds - old.cpuSeconds) / (now - at)
        } else {
            // The first figures, or a counter that went back (another process under the same id): no interval yet.
            cpuCores = nil
        }
        figures = f
        figuresAt = now
    }
}

package enum CoordinatorEvent: Sendable {
    case message(from: String, Message)
    case malformed(from: String, WireError)
    /// A RESULT whose artifacts are not all in the store (the shell checks before passing it on).
    case resultMissingArtifacts(from: String, TaskResult, missing: [String])
    /// The connection a worker last sent on closed (the ROUTER's monitor saw it).
    case connectionDropped(from: String)
    /// A worker sent on a new connection (after a drop, libzmq may reconnect without a new HELLO).
    case connectionOpened(from: String)
    case tick
    case cancel
}

/// A durable state change; the shell commits these before it performs any other action of the same batch.
package enum JournalEntry: Equatable, Sendable {
    case leased(task: String, lease: String, worker: String, attempt: Int)
    case done(task: String, record: ResultRecord)
    /// A failed attempt; the task is pending again.
    case attemptFailed(task: String, failures: Int, error: String, logTail: String?)
    /// The last allowed attempt failed.
    case failed(task: String, failures: Int, error: String, logTail: String?)
    case skipped(task: String, reason: String)
    /// Given back without counting an attempt (cancel, a worker leaving on purpose).
    case released(task: String)
}

package enum CoordinatorAction: Equatable, Sendable {
    case journal(JournalEntry)
    case send(to: String, Message)
    case serveFetch(to: String, Fetch)
    case storeChunk(from: String, Chunk)
    case log(String)
    /// A line a peer can cause at will, written at most a few times per interval per `kind` (then summarized).
    case peerLog(kind: String, String)
    /// Every task is done, failed or skipped (or the run was cancelled): say BYE and stop.
    case finished(cancelled: Bool)
}
