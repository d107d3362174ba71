// The protocol's messages as typed values (docs/protocol.md, "Commands").
import Experiment
import Foundation

package struct WorkerHello: Codable, Equatable, Sendable {
    package var worker: String
    package var host: String
    package var cores: Int
    package var threads: Int
    package var engine: String
    package var executors: [String]
    package var current: String?
    package var pid: Int
    /// The most leases this worker holds at once (it runs one at a time, in the order granted).
    package var prefetch: Int
    /// Every lease it still answers for, oldest first: those whose RESULT/FAIL it will resend, then the one it
    /// runs (with its progress). A restarted coordinator re-adopts them instead of failing them. Absent from
    /// idle workers and older ones (they name only `current`).
    package var leases: [AnnouncedLease]?
    /// The commit the worker was built from (`BuildInfo.commit`); absent from older workers, which a coordinator
    /// counts as a different build.
    package var commit: String?

    package init(worker: String, host: String, cores: Int, threads: Int, engine: String, executors: [String],
                 current: String? = nil, pid: Int, prefetch: Int = 1, leases: [AnnouncedLease]? = nil, commit: String? = nil) {
        self.worker = worker; self.host = host; self.cores = cores; self.threads = threads
        self.engine = engine; self.executors = executors; self.current = current; self.pid = pid
        self.prefetch = prefetch; self.leases = leases; self.commit = commit
    }
}

/// A lease named in a worker's HELLO: its task, and how far the run has got (nil when not reported; 1 for a
/// finished run whose RESULT/FAIL awaits its ACK).
package struct AnnouncedLease: Codable, Equatable, Sendable {
    package var task: String
    package var lease: String
    package var fraction: Double?

    package init(task: String, lease: String, fraction: Double? = nil) {
        self.task = task; self.lease = lease; self.fraction = fraction
    }
}

/// READY: the worker can take `credit` more leases.
package struct Ready: Codable, Equatable, Sendable {
    package var credit: Int

    package init(credit: Int = 1) { self.credit = credit }
}

package struct CoordinatorHello: Codable, Equatable, Sendable {
    package var run: String
    package var heartbeatInterval: Double
    package var liveness: Int
    package var chunkBytes: Int

    package init(run: String, heartbeatInterval: Double, liveness: Int, chunkBytes: Int = ProtocolConstants.chunkBytes) {
        self.run = run; self.heartbeatInterval = heartbeatInterval; self.liveness = liveness; self.chunkBytes = chunkBytes
    }
}

/// One input of a task: the producing task and its artifacts (fetched by digest).
package struct TaskInput: Codable, Equatable, Sendable {
    package var task: String
    package var artifacts: [ArtifactRef]

    package init(task: String, artifacts: [ArtifactRef]) { self.task = task; self.artifacts = artifacts }
}

package struct TaskAssignment: Codable, Equatable, Sendable {
    package var task: String
    package var lease: String
    package var attempt: Int
    package var spec: TaskSpec
    package var inputs: [TaskInput]
    package var timeout: Double

    package init(task: String, lease: String, attempt: Int, spec: TaskSpec, inputs: [TaskInput], timeout: Double) {
        self.task = task; self.lease = lease; self.attempt = attempt; self.spec = spec; self.inputs = inputs
        self.timeout = timeout
    }
}

package struct Progress: Codable, Equatable, Sendable {
    package var task: String
    package var lease: String
    package var fraction: Double
    package var message: String

    package init(task: String, lease: String, fraction: Double, message: String) {
        self.task = task; self.lease = lease; self.fraction = fraction; self.message = message
    }
}

package struct TaskResult: Codable, Equatable, Sendable {
    package var task: String
    package var lease: String
    package var record: ResultRecord

    package init(task: String, lease: String, record: ResultRecord) {
        self.task = task; self.lease = lease; self.record = record
    }
}

package struct TaskFailure: Codable, Equatable, Sendable {
    package var task: String
    package var lease: String
    package var error: String
    package var logTail: String
    /// True when no retry can cure it (a bad setting, a missing data file, a corrupt checkpoint): the coordinator
    /// fails the task at once. Absent (older workers) means retryable.
    package var permanent: Bool?

    package init(task: String, lease: String, error: String, logTail: String, permanent: Bool? = nil) {
        self.task = task; self.lease = lease; self.error = error; self.logTail = logTail; self.permanent = permanent
    }
}

package struct Ack: Codable, Equatable, Sendable {
    package var task: String
    package var lease: String
    package var duplicate: Bool

    package init(task: String, lease: String, duplicate: Bool) {
        self.task = task; self.lease = lease; self.duplicate = duplicate
    }
}

package struct Fetch: Codable, Equatable, Sendable {
    package var sha256: String
    package var offset: Int
    package var length: Int

    package init(sha256: String, offset: Int, length: Int) {
        self.sha256 = sha256; self.offset = offset; self.length = length
    }
}

package struct Chunk: Equatable, Sendable {
    package var sha256: String
    package var offset: Int
    package var total: Int
    package var bytes: [UInt8]

    package init(sha256: String, offset: Int, total: Int, bytes: [UInt8]) {
        self.sha256 = sha256; self.offset = offset; self.total = total; self.bytes = bytes
    }
}

package struct Bye: Codable, Equatable, Sendable {
    package var reason: String
    /// From the coordinator: true when the worker may reconnect and say HELLO again (it was forgotten or
    /// misbehaved), false when it should exit (grid finished, cancelled, its task timed out).
    package var again: Bool
    /// From the coordinator, with `again`: it does not know this worker (it restarted, or forgot it) and nothing
    /// was charged; the worker reconnects at once, without back-off, and re-announces its leases in HELLO.
    package var hello: Bool?
    /// From the coordinator, without `again`: this worker is refused (another engine version or commit than the
    /// coordinator's); it exits with `reason` and a non-zero status instead of as after a finished grid.
    package var refused: Bool?

    package init(reason: String, again: Bool = false, hello: Bool? = nil, refused: Bool? = nil) {
        self.reason = reason; self.again = again; self.hello = hello; self.refused = refused
    }
}

/// What a worker's HEARTBEAT reports about its own process (docs/protocol.md, "Binary bodies").
package struct WorkerFigures: Equatable, Sendable {
    /// User + system CPU time of the whole worker process since it started.
    package var cpuSeconds: Double
    /// Its resident memory now.
    package var residentBytes: Int

    package init(cpuSeconds: Double, residentBytes: Int) { self.cpuSeconds = cpuSeconds; self.residentBytes = residentBytes }

    /// Both figures within the protocol's ranges: what a worker may send and a coordinator accepts.
    package var isValid: Bool {
        cpuSeconds >= 0 && cpuSeconds <= ProtocolConstants.maxCPUSeconds
            && residentBytes >= 0 && residentBytes <= ProtocolConstants.maxResidentBytes
    }
}

/// Every message of protocol version 3, in both directions.
package enum Message: Equatable, Sendable {
    case workerHello(WorkerHello)
    case coordinatorHello(CoordinatorHello)
    case ready(Ready)
    case task(TaskAssignment)
    /// HEARTBEAT with an empty body: the coordinator's, or a worker's that cannot read its figures.
    case heartbeat
    /// HEARTBEAT from a worker, with its process's figures.
    case workerHeartbeat(WorkerFigures)
    case progress(Progress)
    case result(TaskResult)
    case fail(TaskFailure)
    case ack(Ack)
    case fetch(Fetch)
    case chunk(Chunk)
    case bye(Bye)

    /// Frame 1 of the message. HELLO is one command in both directions; the direction picks the body type.
    package var command: String {
        switch self {
        case .workerHello, .coordinatorHello: "HELLO"
        case .ready: "READY"
        case .task: "TASK"
        case .heartbeat, .workerHeartbeat: "HEARTBEAT"
        case .progress: "PROGRESS"
        case .result: "RESULT"
        case .fail: "FAIL"
        case .ack: "ACK"
        case .fetch: "FETCH"
        case .chunk: "CHUNK"
        case .bye: "BYE"
        }
    }
}

/// Which side sent a message: the codec checks commands against the direction they may travel.
package enum Direction: Sendable {
    case toCoordinator, toWorker
}
