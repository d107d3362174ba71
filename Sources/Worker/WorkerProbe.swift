// WorkerProbe: what the worker's loop reports at a few named points (each phase of an iteration as it ends) to
// whoever injected the probe; `smaller worker --profile` (run by `smaller bench cluster --profile`) times them.
// The loop measures nothing itself, and by default nothing is measured.

/// The parts of the worker's loop. Every stretch of the loop's time ends in exactly one of them, so the phases
/// add up to the loop's whole time.
package enum WorkerLoopPhase: Int, CaseIterable, Sendable {
    /// Everything before the loop (it ends just before the first iteration); then, as in the coordinator,
    /// waiting for a message (or a finished task), reading one, decoding it, and the state machine with its
    /// actions (connecting, fetching, handing over finished tasks, READY credit); handing one message to the socket.
    case setup, poll, receive, decode, stateMachine, send
    /// A task's log opened; its inputs and request prepared (ends once per task started); a task that finishes
    /// at once run on the loop's thread; the inline tasks' log lines of an iteration written in one go.
    case taskLogOpen, taskPrepare, taskRunInline, taskLogWrite
}

/// Called on the loop's thread only. Implementations must not allocate per call when they measure nothing:
/// the calls sit on the path of every message.
package protocol WorkerProbe: AnyObject, Sendable {
    /// The loop's time since the previous phase ended went to `phase`.
    func phaseEnded(_ phase: WorkerLoopPhase)
}

/// The default probe: measures nothing.
package final class NoWorkerProbe: WorkerProbe {
    package static let shared = NoWorkerProbe()
    package init() {}
    package func phaseEnded(_ phase: WorkerLoopPhase) {}
}
