// ResultRecord: what one finished task reports (docs/results.md): its spec, open metrics, artifacts, provenance.
import Foundation

/// A content-addressed file a task produced: its logical name (e.g. `checkpoint.safetensors`), SHA-256, size.
package struct ArtifactRef: Codable, Hashable, Sendable {
    package var name: String
    package var sha256: String
    package var bytes: Int

    package init(name: String, sha256: String, bytes: Int) {
        self.name = name
        self.sha256 = sha256
        self.bytes = bytes
    }
}

/// One task's result. `metrics` is an open dictionary (`test.f1`, `dev.f1`, `params`, `latency.p50_ms`, …) so
/// the engine can add measurements without a schema change; new optional fields may be added, never removed.
package struct ResultRecord: Codable, Hashable, Sendable {
    package static let schemaVersion = 1

    package var schema: Int = ResultRecord.schemaVersion
    package var taskID: String
    package var spec: TaskSpec
    /// `done` or `failed` (failed records carry `error` and `logTail`).
    package var status: String
    package var metrics: [String: Value]
    package var artifacts: [ArtifactRef]
    package var engineVersion: String
    package var gitCommit: String?
    package var host: String
    package var worker: String
    package var threads: Int
    package var attempt: Int
    /// Seconds since 1970 (UTC).
    package var startedAt: Double
    package var endedAt: Double
    package var error: String?
    package var logTail: String?
    /// The task's log file (uploaded like an artifact, but not an input of dependents).
    package var log: ArtifactRef?

    package init(taskID: String, spec: TaskSpec, status: String, metrics: [String: Value], artifacts: [ArtifactRef] = [],
                 engineVersion: String, gitCommit: String? = nil, host: String, worker: String, threads: Int,
                 attempt: Int, startedAt: Double, endedAt: Double, error: String? = nil, logTail: String? = nil) {
        self.taskID = taskID
        self.spec = spec
        self.status = status
        self.metrics = metrics
        self.artifacts = artifacts
        self.engineVersion = engineVersion
        self.gitCommit = gitCommit
        self.host = host
        self.worker = worker
        self.threads = threads
        self.attempt = attempt
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.error = error
        self.logTail = logTail
    }

    package static func decode(_ data: Data) throws -> ResultRecord {
        try JSONDecoder().decode(ResultRecord.self, from: data)
    }
}

extension ResultRecord {
    /// The timers of the evaluation issue #13 added (names in docs/results.md), summed as `eval.added_seconds`:
    /// building and scoring the robustness sets, calibration, loyalty and writing the dense predictions. The F1
    /// scoring of dev, test and train, which existed before, is not among them.
    package static let addedEvaluationTimers = ["robust.seconds", "robust.prepare_seconds", "calibration.seconds",
                                                "loyalty.seconds", "predictions.seconds"]

    /// The sum of the `addedEvaluationTimers` present in `metrics` (a timer a record does not have counts 0).
    package static func addedEvaluationSeconds(_ metrics: [String: Value]) -> Double {
        addedEvaluationTimers.reduce(0) { $0 + (metrics[$1]?.doubleValue ?? 0) }
    }
}
