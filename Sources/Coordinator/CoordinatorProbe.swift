// CoordinatorProbe: what the coordinator's loop reports at a few named points (each phase of an iteration as it
// ends, a READY in, a TASK out, a journal commit) to whoever injected the probe; `smaller bench cluster` times
// dispatches and, with --profile, the phases. The loop measures nothing itself, and by default nothing is measured.

/// Where the coordinator loop's time goes. Every stretch of it ends in exactly one
/// of them, so the phases add up to the loop's whole time.
package enum CoordinatorLoopPhase: Int, CaseIterable, Sendable {
    /// Everything before the loop (opening the journal, binding the socket); it ends on the loop's thread, just
    /// before the first iteration.
    case setup
    /// Waiting for a message (and the top of the iteration: stop and cancel checks, ZAP requests).
    case poll
    /// Reading one message off the socket.
    case receive
    /// Decoding it.
    case decode
    /// The state machine's answer to it (and the artifact check of a RESULT).
    case stateMachine
    /// The state machine's clock tick (leases, heartbeats, timeouts).
    case tick
    /// Writing the batch's done records as JSON.
    case journalJSON
    /// The batch's SQLite transaction.
    case journalSQLite
    /// Handing the batch's messages to the socket (and its other actions: logs, artifact chunks).
    case send
    /// Writing `status.json` (twice a second).
    case status
}

/// Called on the loop's thread only. Implementations must not allocate per call when they measure nothing:
/// the calls sit on the path of every message.
package protocol CoordinatorProbe: AnyObject, Sendable {
    /// The loop's time since the previous phase ended went to `phase`.
    func phaseEnded(_ phase: CoordinatorLoopPhase)
    /// A READY from `worker` was decoded (it is answered by a TASK when there is work).
    func readyReceived(from worker: String)
    /// A TASK for `worker` was handed to the socket.
    func taskSent(to worker: String)
    /// A journal transaction of `entries` entries committed (just after its `.journalSQLite` phase ended).
    func journalCommitted(entries: Int)
}

/// The default probe: measures nothing.
package final class NoCoordinatorProbe: CoordinatorProbe {
    package static let shared = NoCoordinatorProbe()
    package init() {}
    package func phaseEnded(_ phase: CoordinatorLoopPhase) {}
    package func readyReceived(from worker: String) {}
    package func taskSent(to worker: String) {}
    package func journalCommitted(entries: Int) {}
}
