// JobSpec: a parsed, validated and default-filled job file, with its compression settings already expanded.
import Foundation

/// A whole job: what to train, on which seeds and languages, which compression settings, how to execute.
/// Configuration sections are kept as resolved dictionaries (every default filled in), so the task ids hash
/// exactly what a task will run with, and the engine can read new fields without a schema change here.
package struct JobSpec: Sendable, Equatable {
    package var name: String
    /// `source` (synthetic | masakhaner), `ner` and `text` paths, `synthetic_sentences`.
    package var data: [String: Value]
    /// Encoder shape: layers, hidden, heads, ffn, max_length, vocab.
    package var model: [String: Value]
    package var pretrain: [String: Value]
    package var finetune: [String: Value]
    package var seeds: [Int]
    package var languages: [String]
    /// Expanded: one entry per grid cell setting, in file order then field order.
    package var compression: [CompressionSetting]
    package var execution: ExecutionSpec
    /// A grid of independent `noop` tasks (load and fault tests, `smaller bench cluster`); when present the
    /// pretrain/finetune/compress pipeline is not built.
    package var noop: NoopGrid?
    /// The `evaluation` section's keys that differ from their defaults (empty: the section is left out of the
    /// fine-tune and compress tasks' params, so their ids are those of a job without it).
    package var evaluation: [String: Value] = [:]
    /// `checkpoint` (the folder as written) and `sha256` (its content hash, PretrainedCheckpoint) when the job
    /// starts from a pretrained checkpoint; nil when it pretrains its own.
    package var pretrained: [String: Value]? = nil
    /// The `compute` section's keys that differ from their defaults (empty: left out of every task's params, so
    /// the ids are those of a job without it; set: in every engine task's params, so in its id).
    package var compute: [String: Value] = [:]
}

/// How tasks run and how hard the coordinator tries. None of it enters task ids (it does not change results).
package struct ExecutionSpec: Sendable, Equatable, Codable {
    /// `engine` runs the real tasks; `noop` runs every pipeline task as a noop (sleeps `noopSeconds`), so a
    /// pipeline's orchestration can be tried before or without the engine. The executor does enter task ids.
    package var executor: String = "engine"
    package var noopSeconds: Double = 0.05
    /// Bytes of output each noop pipeline task writes (`noop.bin`), so artifact transfer is exercised.
    package var noopOutputBytes: Int = 0
    /// Attempts per task before it is marked failed (a crash, a FAIL, a lost worker or a timeout each count).
    package var maxAttempts: Int = 3
    /// Seconds a task may run before it counts as a failed attempt.
    package var taskTimeout: Double = 3600
    /// Heartbeat interval (seconds) and liveness (intervals of silence before a peer is dead).
    package var heartbeatInterval: Double = 1.0
    package var liveness: Int = 3
    /// Workers of another engine version or commit than the coordinator's may join (they are refused otherwise,
    /// so one grid's numbers come from one build). Not part of any task id.
    package var allowMixedEngines = false

    package init() {}
}

/// Independent noop tasks, for tests and benchmarks.
package struct NoopGrid: Sendable, Equatable, Codable {
    package var tasks: Int
    package var seconds: Double
    /// Task indices whose every attempt reports FAIL.
    package var fail: [Int]
    /// Task indices whose every attempt kills its worker process (exit without a word).
    package var crash: [Int]
    /// Task indices whose first attempt fails permanently (`PermanentTaskError`): the task fails at once.
    package var failPermanent: [Int] = []
    /// Distinguishes otherwise identical grids (so a benchmark can rerun without the journal skipping it).
    package var salt: String
    /// Keep one CPU busy for `seconds` instead of sleeping (the scaling benchmark's CPU-bound tasks).
    package var burn = false
}

/// One expanded compression setting: a family and its fully resolved fields.
package struct CompressionSetting: Sendable, Hashable, Codable {
    package var family: String
    package var fields: [String: Value]
    /// Short stable label, e.g. `prune sparsity=0.5 when=before`: the family plus the fields the job file set.
    package var label: String

    package init(family: String, fields: [String: Value], label: String) {
        self.family = family
        self.fields = fields
        self.label = label
    }
}
