// WorkerState: the worker's protocol state machine as a value (Paranoid Pirate with acknowledged results).
// It takes events (messages, ticks, a finished task) and returns actions; the shell owns socket and threads.
import Experiment
import Foundation
import Wire

package struct WorkerConfig: Sendable {
    package var hello: WorkerHello
    package var heartbeatInterval: Double = ProtocolConstants.heartbeatInterval
    package var liveness: Int = ProtocolConstants.liveness
    package var backoffInitial: Double = ProtocolConstants.reconnectInitial
    package var backoffMax: Double = ProtocolConstants.reconnectMax

    package init(hello: WorkerHello) { self.hello = hello }
}

package enum WorkerPhase: Equatable, Sendable {
    /// Waiting to reconnect at the given time.
    case disconnected(retryAt: Double)
    /// HELLO sent, waiting for the coordinator's HELLO.
    case greeting
    /// Greeted: working or idle with READY sent.
    case working
    case exited
}

package enum WorkerEvent: Sendable {
    case start
    case message(Message)
    case malformed(WireError)
    case tick
    /// The running task ended: a RESULT or FAIL message to deliver (and keep until ACKed).
    case finished(Message)
    /// The running task reports progress (sent only while connected; never kept).
    case progress(Double, String)
}

package enum WorkerAction: Equatable, Sendable {
    /// Close any socket, open a fresh one and connect.
    case connect
    case disconnect
    case send(Message)
    case startTask(TaskAssignment)
    case log(String)
    case exit(reason: String)
}

package struct WorkerState: Sendable {
    package private(set) var config: WorkerConfig
    package private(set) var phase: WorkerPhase = .disconnected(retryAt: 0)
    /// Leases held, in the order granted: the first is running, the others wait (at most `hello.prefetch`).
    package private(set) var queue: [TaskAssignment] = []
    package var running: TaskAssignment? { queue.first }
    /// RESULT/FAIL messages not yet acknowledged, oldest first.
    /// Each with the lease it answers, so that an ACK is matched without copying messages.
    package private(set) var unacked: [(lease: String?, message: Message)] = []
    package private(set) var backoff: Double
    private var lastHeard = 0.0
    /// The clock at the last tick: a longer gap than the liveness period is this process's own stall, not
    /// the coordinator's silence (see `CoordinatorState.forgiveOwnStall`).
    private var lastTick: Double?
    /// Messages from the coordinator that failed to decode (each dropped the connection).
    package private(set) var malformedMessages = 0
    /// When this connection's last HEARTBEAT (or its HELLO) went out. Sent every interval even while other messages
    /// flow: a HEARTBEAT carries the worker's CPU and memory figures, which must stay at most one interval old.
    private var lastBeat = 0.0
    /// The running task's last reported progress, re-announced in HELLO.
    private var runningFraction: Double?
    /// Deterministic jitter source (a worker-specific seed), so tests see exact delays.
    private var jitterState: UInt64
    /// Why the coordinator refused this worker (BYE `refused`: another build than its own); set when it exits so.
    package private(set) var refusal: String?

    package init(config: WorkerConfig, jitterSeed: UInt64 = 0) {
        self.config = config
        backoff = config.backoffInitial
        jitterState = jitterSeed
    }

    package var isExited: Bool { phase == .exited }

    package mutating func handle(_ event: WorkerEvent, now: Double) -> [WorkerAction] {
        var out: [WorkerAction] = []
        switch event {
        case .start: connect(now: now, &out)
        case .message(let message):
            lastHeard = now
            receive(message, now: now, &out)
        case .malformed(let error):
            malformedMessages += 1
            out.append(.log("malformed message from the coordinator (\(malformedMessages) so far): \(error); reconnecting"))
            dropConnection(now: now, &out)
        case .tick: tick(now: now, &out)
        case .progress(let fraction, let text):
            if running != nil { runningFraction = fraction }
            if phase == .working, let task = running {
                send(.progress(Progress(task: task.task, lease: task.lease, fraction: fraction, message: text)), now: now, &out)
            }
        case .finished(let message):
            if !queue.isEmpty { queue.removeFirst() }
            runningFraction = nil
            unacked.append((Self.lease(of: message), message))
            if phase == .working {
                send(message, now: now, &out)
                send(.ready(Ready(credit: 1)), now: now, &out)
            }
            if let next = queue.first { out.append(.startTask(next)) }
        }
        return out
    }

    private mutating func send(_ message: Message, now: Double, _ out: inout [WorkerAction]) {
        out.append(.send(message))
    }

    private mutating func connect(now: Double, _ out: inout [WorkerAction]) {
        out.append(.connect)
        phase = .greeting
        lastHeard = now
        lastBeat = now
        var hello = config.hello
        hello.current = running?.lease
        hello.leases = announcedLeases()
        send(.workerHello(hello), now: now, &out)
    }

    /// The leases HELLO re-announces, oldest first: results and failures awaiting their ACK, then the running
    /// task's (the newest `maxAnnouncedLeases`, so the running one is always named). Nil when there are none,
    /// so an idle worker's HELLO is what it always was.
    func announcedLeases() -> [AnnouncedLease]? {
        var leases: [AnnouncedLease] = []
        for pending in unacked {
            switch pending.message {
            case .result(let r): leases.append(AnnouncedLease(task: r.task, lease: r.lease, fraction: 1))
            case .fail(let f): leases.append(AnnouncedLease(task: f.task, lease: f.lease, fraction: 1))
            default: break
            }
        }
        if let task = running { leases.append(AnnouncedLease(task: task.task, lease: task.lease, fraction: runningFraction)) }
        return leases.isEmpty ? nil : Array(leases.suffix(ProtocolConstants.maxAnnouncedLeases))
    }

    private mutating func dropConnection(now: Double, _ out: inout [WorkerAction]) {
        out.append(.disconnect)
        // Leases waiting behind the running one are given up: the coordinator requeues them uncharged when
        // this worker says HELLO again (naming only the running one) or is presumed dead.
        queue = Array(queue.prefix(1))
        let delay = backoff * (0.8 + 0.4 * nextJitter())
        phase = .disconnected(retryAt: now + delay)
        out.append(.log(String(format: "reconnecting in %.2f s", delay)))
        backoff = min(backoff * 2, config.backoffMax)
    }

    private mutating func nextJitter() -> Double {
        jitterState &+= 0x9E37_79B9_7F4A_7C15
        var z = jitterState
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
    }

    private mutating func receive(_ message: Message, now: Double, _ out: inout [WorkerAction]) {
        // Switching on the message alone, with the phase in guards: a (phase, message) tuple copied the message.
        if phase == .exited { return }
        if case .disconnected = phase { return }  // a straggler from a socket being replaced
        switch message {
        case .coordinatorHello(let h) where phase == .greeting:
            config.heartbeatInterval = h.heartbeatInterval
            config.liveness = h.liveness
            phase = .working
            backoff = config.backoffInitial
            for pending in unacked { send(pending.message, now: now, &out) }
            let credit = config.hello.prefetch - queue.count
            if credit > 0 { send(.ready(Ready(credit: credit)), now: now, &out) }
        case .task(let assignment) where phase == .working:
            guard queue.count < config.hello.prefetch else {
                out.append(.log("TASK \(assignment.task.prefix(12)) beyond the \(config.hello.prefetch) leases this worker holds: reconnecting"))
                dropConnection(now: now, &out)
                return
            }
            queue.append(assignment)
            if queue.count == 1 { out.append(.startTask(assignment)) }
        case .ack(let ack) where phase == .working:
            unacked.removeAll { $0.lease == ack.lease }
        case .heartbeat:
            break
        case .bye(let bye) where bye.again && bye.hello == true:
            // "Say HELLO": the coordinator restarted (or forgot this worker) and charged nothing. Answered by a
            // fresh socket whose first message is HELLO, so nothing queued on the old one arrives before it. In
            // `greeting` the HELLO is on its way already: the request is a straggler.
            guard phase == .working else { return }
            out.append(.log("coordinator does not know this worker (\(bye.reason)); saying HELLO again"))
            out.append(.disconnect)
            queue = Array(queue.prefix(1))
            connect(now: now, &out)
        case .bye(let bye):
            if bye.again {
                out.append(.log("coordinator said BYE (\(bye.reason)); reconnecting"))
                dropConnection(now: now, &out)
            } else {
                out.append(.log("coordinator said BYE: \(bye.reason)"))
                out.append(.disconnect)
                phase = .exited
                if bye.refused == true { refusal = bye.reason }
                out.append(.exit(reason: bye.reason))
            }
        case .chunk:
            break  // artifact transfers are the shell's business
        default:
            out.append(.log("unexpected \(message.command) from the coordinator; reconnecting"))
            dropConnection(now: now, &out)
        }
    }

    private mutating func tick(now: Double, _ out: inout [WorkerAction]) {
        let window = config.heartbeatInterval * Double(config.liveness)
        if let last = lastTick, now - last > window {
            out.append(.log(String(format: "this worker did not run for %.1f s: the coordinator gets a fresh liveness window", now - last)))
            lastHeard = max(lastHeard, now)
        }
        lastTick = now
        switch phase {
        case .exited: return
        case .disconnected(let retryAt):
            if now >= retryAt { connect(now: now, &out) }
        case .greeting, .working:
            if now - lastHeard > window {
                out.append(.log(String(format: "coordinator silent for %.1f s", now - lastHeard)))
                dropConnection(now: now, &out)
                return
            }
            if phase == .working, now - lastBeat >= config.heartbeatInterval {
                send(.heartbeat, now: now, &out)
                lastBeat = now
            }
        }
    }

    static func lease(of message: Message) -> String? {
        switch message {
        case .result(let r): r.lease
        case .fail(let f): f.lease
        default: nil
        }
    }
}
