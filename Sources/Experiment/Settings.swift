// Settings: the job's sections as typed values (model, data, pretrain, finetune), decoded once from a resolved
// spec. Their defaults and ranges are the schema's rules (JobSchema): a section is filled from the rules, checked
// against them, then decoded, so no type carries a second copy of a default.
import Foundation

/// A job section with a typed form. `rules` are its schema; decoding fills what is missing from them.
package protocol SectionSettings: Codable, Sendable, Equatable {
    static var rules: [FieldRule] { get }
    /// The section's name in messages (`model`, `prune`, …).
    static var sectionName: String { get }
    /// Checks between fields that no single rule can make (naming the section); nil when the combination is allowed.
    var combinationProblem: String? { get }
}

extension SectionSettings {
    package var combinationProblem: String? { nil }

    /// Decodes a resolved section (as a task spec carries it): missing keys take the schema's defaults, every
    /// value is checked against its rule. A section that fails is a configuration error no retry can cure.
    package init(section: [String: Value]) throws {
        let filled = try Self.filled(section)
        do {
            self = try JSONDecoder().decode(Self.self, from: JSONEncoder().encode(Value.object(filled)))
        } catch {
            throw PermanentTaskError("\(Self.sectionName): \(error)")
        }
        if let problem = combinationProblem { throw PermanentTaskError(problem) }
    }

    /// The section as a resolved dictionary; fields at their "as if absent" value are left out, as the job
    /// parser leaves them out.
    package var section: [String: Value] {
        // Encoding plain stored fields cannot fail; a failure would be a programmer error in a type here.
        guard let data = try? JSONEncoder().encode(self), let value = try? JSONDecoder().decode(Value.self, from: data),
              var object = value.objectValue else { preconditionFailure("\(Self.self) does not encode to an object") }
        for rule in Self.rules where rule.absentValue != nil && object[rule.name] == rule.absentValue { object[rule.name] = nil }
        return object
    }

    /// Checks the value against the schema's rules and its combination rules (what the CLI's flags go through).
    package func validate() throws {
        _ = try Self.filled(section)
        if let problem = combinationProblem { throw PermanentTaskError(problem) }
    }

    static func filled(_ section: [String: Value]) throws -> [String: Value] {
        var out: [String: Value] = [:]
        for rule in rules {
            if let value = section[rule.name] {
                if let problem = rule.problem(with: value) { throw PermanentTaskError("\(sectionName).\(rule.name): \(problem)") }
                out[rule.name] = value
            } else if let value = rule.default ?? rule.absentValue {
                out[rule.name] = value
            } else if !rule.optional {
                throw PermanentTaskError("\(sectionName).\(rule.name) is missing")
            }
        }
        let known = Set(rules.map(\.name))
        if let unknown = section.keys.sorted().first(where: { !known.contains($0) }) {
            throw PermanentTaskError("\(sectionName).\(unknown) is not a known key")
        }
        return out
    }
}

extension SectionSettings {
    /// The section with every key at the schema's default (for sections whose every key has one).
    package static var defaults: Self {
        get throws { try Self(section: [:]) }
    }
}

/// `model`: the encoder's shape.
package struct ModelSettings: SectionSettings {
    package static let rules = JobSchema.model
    package static let sectionName = "model"
    package var layers: Int
    package var hidden: Int
    package var heads: Int
    package var ffn: Int
    package var maxLength: Int
    package var vocab: Int
    /// Every token carries its word's shape class (lower, Capitalised, ALL CAPS, …) as its token type id.
    package var wordShape: Bool
    /// Rows of the hashed character n-gram table every token reads its word's n-grams from (0: none).
    package var charNgrams: Int
    /// Hidden and attention dropout of a model created here.
    package var dropout: Double

    enum CodingKeys: String, CodingKey {
        case layers, hidden, heads, ffn, maxLength = "max_length", vocab, wordShape = "word_shape", charNgrams = "char_ngrams"
        case dropout
    }

    package var combinationProblem: String? {
        hidden % heads == 0 ? nil : "model: hidden (\(hidden)) must be a multiple of heads (\(heads))"
    }
}

/// Where a job's text and NER data come from.
package enum DataSourceKind: String, Codable, Sendable, CaseIterable {
    case synthetic, masakhaner
}

/// `data`: the source, the MasakhaNER tree and raw-text folder paths, the synthetic corpus size.
package struct DataSettings: SectionSettings {
    package static let rules = JobSchema.data
    package static let sectionName = "data"
    package var source: DataSourceKind
    /// A folder of `<lang>/{train,dev,test}.txt` ("" when not set).
    package var ner: String
    /// A folder of `<lang>.txt` for pretraining ("" when not set).
    package var text: String
    package var syntheticSentences: Int
    /// A folder of `<lang>/test.txt` (MasakhaNER 2.0) scored as out-of-distribution test data ("" when not set).
    package var ood: String

    enum CodingKeys: String, CodingKey { case source, ner, text, syntheticSentences = "synthetic_sentences", ood }
}

/// `pretrain`: multilingual MLM pretraining.
package struct PretrainSettings: SectionSettings {
    package static let rules = JobSchema.pretrain
    package static let sectionName = "pretrain"
    package var steps: Int
    package var batch: Int
    package var learningRate: Double
    package var maskProbability: Double
    /// Fraction of the steps spent warming up.
    package var warmup: Double
    /// Epochs of skip-gram over the text that train the character n-gram table before any MLM step (0: none).
    package var ngramVectors: Int

    enum CodingKeys: String, CodingKey {
        case steps, batch, learningRate = "learning_rate", maskProbability = "mask_probability", warmup
        case ngramVectors = "ngram_vectors"
    }
}

/// `finetune`: token classification, epoch by epoch.
package struct FinetuneSettings: SectionSettings {
    package static let rules = JobSchema.finetune
    package static let sectionName = "finetune"
    package var epochs: Int
    package var batch: Int
    package var learningRate: Double
    /// Fraction of the steps spent warming up.
    package var warmup: Double
    /// The chance that each training mention is swapped for another of its type, drawn anew every epoch
    /// (`MentionReplacement`); 0 trains on the sentences as they are.
    package var mentionReplacement: Double

    /// Each occurrence of a word seen once in the training set gets <unk> pieces with this chance, every epoch.
    package var singletonUnk: Double

    enum CodingKeys: String, CodingKey {
        case epochs, batch, learningRate = "learning_rate", warmup, mentionReplacement = "mention_replacement"
        case singletonUnk = "singleton_unk"
    }
}

/// `evaluation`: the robustness perturbations every fine-tuned and compressed model is scored under.
package struct EvaluationSettings: SectionSettings {
    package static let rules = JobSchema.evaluation
    package static let sectionName = "evaluation"
    /// Word rates of the typo perturbations (each a `typos@rate` metric group).
    package var typoRates: [Double]
    /// Seeds the typo draws, so every model of a language is scored on the same perturbed text.
    package var perturbationSeed: Int
    /// `argmax` or `bio` (Evaluation's `Decoding`): how every model's word labels are read.
    package var decode: String

    enum CodingKeys: String, CodingKey { case typoRates = "typo_rates", perturbationSeed = "perturbation_seed", decode }
}

/// The job's `compute` section: `gemm` is `auto` (the worker decides each product's kernel) or the one fp32 GEMM
/// kernel, `own` or `oneDNN`, every product of the task runs.
package struct ComputeSettings: SectionSettings {
    package static let rules = JobSchema.compute
    package static let sectionName = "compute"
    package var gemm: String
}

/// What an engine task runs with, typed: decoded once from its spec (`TaskSpec.params` and fields). A section
/// the kind does not carry is nil (a pretrain task has no `finetune`).
package struct TaskSettings: Sendable, Equatable {
    package var seed: Int
    package var language: String?
    /// Every language of the job (pretraining reads all their text).
    package var languages: [String]
    package var model: ModelSettings
    package var data: DataSettings
    package var pretrain: PretrainSettings?
    package var finetune: FinetuneSettings?
    package var compression: CompressionMethod?
    /// The job's `evaluation` section (its defaults when the spec has none).
    package var evaluation: EvaluationSettings
    /// The checkpoint folder and its planned content hash, for the task that imports a `pretrained` checkpoint.
    package var pretrained: (checkpoint: String, sha256: String)?
    /// The job's `compute` section (its defaults when the spec has none).
    package var compute: ComputeSettings

    package static func == (a: TaskSettings, b: TaskSettings) -> Bool {
        a.seed == b.seed && a.language == b.language && a.languages == b.languages && a.model == b.model && a.data == b.data
            && a.pretrain == b.pretrain && a.finetune == b.finetune && a.compression == b.compression
            && a.evaluation == b.evaluation && a.pretrained?.checkpoint == b.pretrained?.checkpoint
            && a.pretrained?.sha256 == b.pretrained?.sha256 && a.compute == b.compute
    }

    package init(_ spec: TaskSpec) throws {
        func section<S: SectionSettings>(_ type: S.Type) throws -> S? {
            guard let value = spec.params[S.sectionName] else { return nil }
            guard let object = value.objectValue else { throw PermanentTaskError("\(spec.title): '\(S.sectionName)' is not a mapping") }
            return try S(section: object)
        }
        if let p = spec.params["pretrained"] {
            guard let checkpoint = p["checkpoint"]?.stringValue, let sha256 = p["sha256"]?.stringValue else {
                throw PermanentTaskError("\(spec.title): 'pretrained' needs checkpoint and sha256")
            }
            pretrained = (checkpoint, sha256)
        }
        // The import of a pretrained checkpoint is one task for every seed and reads no data.
        guard let seed = spec.seed ?? (pretrained != nil ? 0 : nil) else { throw PermanentTaskError("\(spec.title): engine tasks need a seed") }
        guard let model = try section(ModelSettings.self) else { throw PermanentTaskError("\(spec.title): the spec has no 'model' section") }
        guard let data = try section(DataSettings.self) ?? (pretrained != nil ? try DataSettings.defaults : nil) else {
            throw PermanentTaskError("\(spec.title): the spec has no 'data' section")
        }
        self.seed = seed
        language = spec.language
        languages = spec.params["languages"]?.arrayValue?.compactMap(\.stringValue) ?? []
        self.model = model
        self.data = data
        pretrain = try section(PretrainSettings.self)
        finetune = try section(FinetuneSettings.self)
        compression = try spec.setting?.method()
        evaluation = try section(EvaluationSettings.self) ?? .defaults
        compute = try section(ComputeSettings.self) ?? .defaults
    }
}

/// A noop task's parameters (`params.noop`): how long it sleeps or burns CPU, whether it fails or crashes on
/// request, the bytes it writes. Absent keys mean "no" (the plan writes only what is set), so this reads the
/// dictionary by hand: it runs once per noop task, where a JSON round trip would cost more than the task.
package struct NoopSettings: Codable, Sendable, Equatable {
    package var index: Int?
    package var seconds: Double
    package var outputBytes: Int
    package var fail: Bool
    /// Fails with `PermanentTaskError`, which the coordinator does not retry.
    package var failPermanent: Bool
    package var crash: Bool
    package var burn: Bool
    package var salt: String

    package init(params: [String: Value]) {
        let noop = params["noop"]?.objectValue ?? [:]
        index = noop["index"]?.intValue
        seconds = noop["seconds"]?.doubleValue ?? 0
        outputBytes = noop["output_bytes"]?.intValue ?? 0
        fail = noop["fail"] == .bool(true)
        failPermanent = noop["fail_permanent"] == .bool(true)
        crash = noop["crash"] == .bool(true)
        burn = noop["burn"] == .bool(true)
        salt = noop["salt"]?.stringValue ?? ""
    }
}
