// JobSchema: the allowed keys of each job-file section, their types, ranges and defaults (docs/jobs.md).
import Foundation

/// What one key accepts. `default == nil` means required, unless `optional`: then a missing key stays missing
/// (it is not in the resolved spec, so adding an optional field never changes existing task ids).
package struct FieldRule: Sendable {
    enum Kind: Sendable {
        case int(ClosedRange<Int>)
        case double(String, @Sendable (Double) -> Bool)
        case bool
        case word([String])
        case string
        /// A list of distinct numbers, each accepted by the check (a single number is a list of one).
        case doubles(String, @Sendable (Double) -> Bool)
        /// A list of distinct language codes (a single code is a list of one).
        case codes
    }

    let name: String
    let kind: Kind
    let `default`: Value?
    var optional = false
    /// For an optional key: the value that means "as if absent" (left out of the resolved spec, so writing it
    /// out explicitly keeps the task ids, as writing out a default does).
    var absentValue: Value? = nil

    static func int(_ name: String, _ range: ClosedRange<Int>, _ d: Int?) -> FieldRule {
        FieldRule(name: name, kind: .int(range), default: d.map(Value.int))
    }
    static func double(_ name: String, _ expect: String, _ d: Double?, _ ok: @escaping @Sendable (Double) -> Bool) -> FieldRule {
        FieldRule(name: name, kind: .double(expect, ok), default: d.map(Value.double))
    }
    static func bool(_ name: String, _ d: Bool?) -> FieldRule { FieldRule(name: name, kind: .bool, default: d.map(Value.bool)) }
    static func word(_ name: String, _ choices: [String], _ d: String?) -> FieldRule {
        FieldRule(name: name, kind: .word(choices), default: d.map(Value.string))
    }
    static func string(_ name: String, _ d: String?) -> FieldRule { FieldRule(name: name, kind: .string, default: d.map(Value.string)) }
    /// A bool key that may be left out altogether.
    static func optionalBool(_ name: String) -> FieldRule {
        FieldRule(name: name, kind: .bool, default: nil, optional: true, absentValue: .bool(false))
    }
    /// An int key that may be left out altogether.
    static func optionalInt(_ name: String, _ range: ClosedRange<Int>) -> FieldRule {
        FieldRule(name: name, kind: .int(range), default: nil, optional: true)
    }
    static func doubles(_ name: String, _ expect: String, _ d: [Double]?, _ ok: @escaping @Sendable (Double) -> Bool) -> FieldRule {
        FieldRule(name: name, kind: .doubles(expect, ok), default: d.map { .array($0.map(Value.double)) })
    }
    /// A list of language codes that may be left out altogether.
    static func optionalCodes(_ name: String) -> FieldRule { FieldRule(name: name, kind: .codes, default: nil, optional: true) }

    /// The same key, left out of the resolved spec when it has its default value (decoding still fills the
    /// default in): keys and sections added after task ids were fixed keep the ids of jobs that do not set them.
    func omittedAtDefault() -> FieldRule {
        FieldRule(name: name, kind: kind, default: nil, optional: true, absentValue: self.default)
    }

    /// What is wrong with `value` for this key, or nil when it is allowed (the same checks `read` makes on YAML).
    func problem(with value: Value) -> String? {
        switch kind {
        case .int(let range):
            guard let i = value.intValue else { return "expected an integer, got \(value)" }
            return range.contains(i) ? nil : "expected an integer in \(range.lowerBound)...\(range.upperBound), got \(i)"
        case .double(let expect, let ok):
            guard let d = value.doubleValue, d.isFinite else { return "expected \(expect), got \(value)" }
            return ok(d) ? nil : "expected \(expect), got \(d)"
        case .bool: return value.boolValue == nil ? "expected true or false, got \(value)" : nil
        case .word(let choices):
            guard let w = value.stringValue, choices.contains(w) else { return "expected one of \(choices.joined(separator: ", ")), got \(value)" }
            return nil
        case .string: return value.stringValue == nil ? "expected a string, got \(value)" : nil
        case .doubles(let expect, let ok):
            guard let items = value.arrayValue else { return "expected a list of \(expect), got \(value)" }
            for item in items {
                guard let d = item.doubleValue, d.isFinite, ok(d) else { return "expected a list of \(expect), got \(item)" }
            }
            return Set(items).count == items.count ? nil : "a value appears twice in \(value)"
        case .codes:
            guard let items = value.arrayValue else { return "expected a list of language codes, got \(value)" }
            for item in items {
                guard let code = item.stringValue, JobSpec.isLanguageCode(code) else { return "expected a list of language codes, got \(item)" }
            }
            return Set(items).count == items.count ? nil : "a value appears twice in \(value)"
        }
    }

    func read(_ field: YAMLField) throws -> Value {
        switch kind {
        case .int(let range): .int(try field.int(in: range))
        case .double(let expect, let ok): .double(try field.double(where: ok, expect))
        case .bool: .bool(try field.bool())
        case .word(let choices): .string(try field.word(oneOf: choices))
        case .string: .string(try field.string())
        case .doubles(let expect, let ok):
            try Self.distinct(field, try field.scalarOrSequence().map { Value.double(try $0.double(where: ok, expect)) })
        case .codes: try Self.distinct(field, try field.scalarOrSequence().map { .string(try JobSpec.languageCode($0)) })
        }
    }

    private static func distinct(_ field: YAMLField, _ values: [Value]) throws -> Value {
        if Set(values).count != values.count { throw field.error("a value appears twice") }
        return .array(values)
    }
}

enum JobSchema {
    /// The most settings one compression entry may expand into (the product of its lists' lengths).
    static let maxSettingsPerEntry = 10_000
    /// The most tasks an engine grid may plan (a bound counted before anything is expanded, overflow-safe):
    /// beyond it the graph, the journal and the report would be the problem, not the study.
    static let maxGridTasks = 200_000
    static let topLevel = ["name", "data", "model", "pretrain", "finetune", "evaluation", "seeds", "languages", "compression",
                           "execution", "noop", "pretrained", "compute"]

    /// `pretrained`: a Hugging Face XLM-R folder every fine-tune starts from, in place of the pretrain tasks.
    static let pretrained: [FieldRule] = [.string("checkpoint", nil)]

    static let data: [FieldRule] = [
        .word("source", DataSourceKind.allCases.map(\.rawValue), DataSourceKind.synthetic.rawValue),
        .string("ner", ""),
        .string("text", ""),
        .int("synthetic_sentences", 10...10_000_000, 2000),
        // MasakhaNER 2.0-style tree DIR/<lang>/test.txt scored as out-of-distribution test data.
        .string("ood", "").omittedAtDefault(),
        // The languages scored out of distribution (absent: every language of the job); read at plan time only.
        .optionalCodes("ood_languages"),
    ]

    static let model: [FieldRule] = [
        .int("layers", 1...48, 2),
        .int("hidden", 8...8192, 64),
        .int("heads", 1...128, 2),
        .int("ffn", 8...32768, 256),
        .int("max_length", 8...4096, 64),
        .int("vocab", 100...1_000_000, 2000),
        // Added after task ids were fixed: each token's type id is its word's shape class (docs/jobs.md).
        .bool("word_shape", false).omittedAtDefault(),
        // Added after task ids were fixed: rows of a hashed table of each word's character n-grams (0: none).
        .int("char_ngrams", 0...(1 << 24), 0).omittedAtDefault(),
        // Added after task ids were fixed: the dropout of a model created here (hidden and attention; the classifier's
        // follows the hidden one), as config.json's hidden_dropout_prob and attention_probs_dropout_prob.
        .double("dropout", "a probability in [0, 1)", 0.1) { $0 >= 0 && $0 < 1 }.omittedAtDefault(),
    ]

    static let pretrain: [FieldRule] = [
        .int("steps", 0...10_000_000, 300),
        .int("batch", 1...4096, 16),
        .double("learning_rate", "a number > 0", 5e-4) { $0 > 0 },
        .double("mask_probability", "a number in (0, 1)", 0.15) { $0 > 0 && $0 < 1 },
        .double("warmup", "a fraction in [0, 1]", 0.1) { $0 >= 0 && $0 <= 1 },
        // One pretraining per seed AND language (its own tokenizer and MLM on its own text) instead of one per seed.
        .bool("per_language", false).omittedAtDefault(),
        // Epochs of skip-gram on the text that train the model.char_ngrams table before any MLM step (0: none).
        .int("ngram_vectors", 0...100, 0).omittedAtDefault(),
    ]

    static let finetune: [FieldRule] = [
        .int("epochs", 1...1000, 3),
        .int("batch", 1...4096, 16),
        .double("learning_rate", "a number > 0", 1e-4) { $0 > 0 },
        .double("warmup", "a fraction in [0, 1]", 0.1) { $0 >= 0 && $0 <= 1 },
        // Added after task ids were fixed: jobs that leave it at 0 keep their ids.
        .double("mention_replacement", "a probability in [0, 1]", 0) { $0 >= 0 && $0 <= 1 }.omittedAtDefault(),
        // Added after task ids were fixed: words seen once in training get <unk> pieces with this chance per epoch.
        .double("singleton_unk", "a probability in [0, 1]", 0) { $0 >= 0 && $0 <= 1 }.omittedAtDefault(),
    ]

    /// What the evaluation of every fine-tuned and compressed model adds to test F1 (docs/results.md). Every key is
    /// left out of the resolved spec at its default, so jobs that do not set them keep their task ids.
    static let evaluation: [FieldRule] = [
        .doubles("typo_rates", "word rates in (0, 1]", [0.05, 0.1, 0.2]) { $0 > 0 && $0 <= 1 }.omittedAtDefault(),
        .int("perturbation_seed", 0...Int(Int32.max), 0).omittedAtDefault(),
        // How word labels are read from the model's distributions: each word's argmax, or the best valid BIO sequence.
        .word("decode", ["argmax", "bio", "transitions"], "argmax").omittedAtDefault(),
    ]

    /// How every engine task computes. Left out of the resolved spec at its default (so jobs without it keep their
    /// task ids); set, it joins every engine task's params and so its id: the kernel decides a result's last bits.
    static let compute: [FieldRule] = [
        // The fp32 GEMM kernel: auto (each worker's measured choice per shape class, or its --gemm), or one kernel
        // for every product, which makes a grid's bits independent of the workers' timings.
        .word("gemm", ["auto", "own", "oneDNN"], "auto").omittedAtDefault(),
    ]

    /// Compression families; any field may be given as a list, which expands into the grid.
    static let families: [String: [FieldRule]] = [
        CompressionFamily.prune.rawValue: [
            .double("sparsity", "a fraction in [0, 1)", nil) { $0 >= 0 && $0 < 1 },
            .word("when", PruneSettings.When.allCases.map(\.rawValue), "after"),
            .word("structure", PruneSettings.Structure.allCases.map(\.rawValue), "unstructured"),
            .word("scope", PruneSettings.Scope.allCases.map(\.rawValue), "global"),
            .word("schedule", PruneSettings.Schedule.allCases.map(\.rawValue), "oneshot"),
            .int("finetune_epochs", 0...1000, 0),
            // Unstructured only: the embedding tables and the classifier join the pruned set (optional keys, so
            // settings without them keep their task ids).
            .optionalBool("embeddings"),
            .optionalBool("classifier"),
        ],
        CompressionFamily.distill.rawValue: [
            .int("layers", 1...48, nil),
            // A narrower student (any of these set): pretrained from scratch on the same text and tokenizer.
            .optionalInt("hidden", 8...8192),
            .optionalInt("heads", 1...128),
            .optionalInt("ffn", 8...32768),
            .double("alpha", "a fraction in [0, 1]", 0.5) { $0 >= 0 && $0 <= 1 },
            .double("temperature", "a number > 0", 2.0) { $0 > 0 },
            .bool("hidden_mse", false),
            .int("epochs", 1...1000, 3),
            .string("map", ""),
            .bool("cache_teacher", false),
        ],
        CompressionFamily.quantize.rawValue: [
            .word("scheme", QuantizeSettings.Scheme.allCases.map(\.rawValue), nil),
            .double("threshold", "a number > 0", 6.0) { $0 > 0 },
            .bool("embeddings", false),
            .word("calibration", QuantizeSettings.Calibration.allCases.map(\.rawValue), "minmax"),
        ],
    ]

    static let execution = ["executor", "noop_seconds", "noop_output_bytes", "max_attempts", "task_timeout", "heartbeat_interval", "liveness",
                            "allow_mixed_engines"]
    static let noop = ["tasks", "seconds", "fail", "crash", "fail_permanent", "salt", "burn"]
}
