// CompressionMethod: a compression setting as a typed value, one case per family (prune, distill, quantize) with
// its fields. Like the job sections, the fields' defaults and ranges are the schema's rules (JobSchema.families).
import Foundation

package enum CompressionFamily: String, Codable, Sendable, CaseIterable {
    case prune, distill, quantize
}

package enum CompressionMethod: Sendable, Equatable {
    case prune(PruneSettings)
    case distill(DistillSettings)
    case quantize(QuantizeSettings)

    package var family: CompressionFamily {
        switch self {
        case .prune: .prune
        case .distill: .distill
        case .quantize: .quantize
        }
    }
}

extension CompressionSetting {
    /// The setting's family and fields, typed and checked (a bad setting is a configuration error).
    package func method() throws -> CompressionMethod {
        switch CompressionFamily(rawValue: family) {
        case .prune: .prune(try PruneSettings(section: fields))
        case .distill: .distill(try DistillSettings(section: fields))
        case .quantize: .quantize(try QuantizeSettings(section: fields))
        case nil:
            throw PermanentTaskError("compression family '\(family)' is unknown (expected one of "
                                     + "\(CompressionFamily.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
    }
}

/// `prune`: magnitude pruning, unstructured or of whole heads / FFN neurons, before or after fine-tuning.
package struct PruneSettings: SectionSettings {
    package static var rules: [FieldRule] { JobSchema.families[CompressionFamily.prune.rawValue]! }
    package static let sectionName = "prune"

    package enum When: String, Codable, Sendable, CaseIterable { case before, after }
    package enum Structure: String, Codable, Sendable, CaseIterable { case unstructured, heads, neurons }
    package enum Scope: String, Codable, Sendable, CaseIterable { case global, layer }
    package enum Schedule: String, Codable, Sendable, CaseIterable { case oneshot, gradual }

    /// Fraction of the prunable weights (unstructured) or of heads / neurons (structured) removed.
    package var sparsity: Double
    package var when: When
    package var structure: Structure
    package var scope: Scope
    package var schedule: Schedule
    /// Fine-tuning epochs after pruning (when=before: 0 means the job's finetune.epochs).
    package var finetuneEpochs: Int
    /// The embedding tables / the classifier join the pruned set (unstructured only).
    package var embeddings: Bool
    package var classifier: Bool

    package init(sparsity: Double, when: When, structure: Structure, scope: Scope, schedule: Schedule,
                 finetuneEpochs: Int, embeddings: Bool, classifier: Bool) {
        self.sparsity = sparsity; self.when = when; self.structure = structure; self.scope = scope
        self.schedule = schedule; self.finetuneEpochs = finetuneEpochs; self.embeddings = embeddings; self.classifier = classifier
    }

    enum CodingKeys: String, CodingKey {
        case sparsity, when, structure, scope, schedule, finetuneEpochs = "finetune_epochs", embeddings, classifier
    }

    package var combinationProblem: String? {
        for (key, on) in [("embeddings", embeddings), ("classifier", classifier)] where on && structure != .unstructured {
            return "prune.\(key) is for unstructured pruning; \(structure.rawValue) removes encoder units only"
        }
        return nil
    }
}

/// `distill`: a student of fewer layers (copied from the teacher), or a narrower one with its own pretraining.
package struct DistillSettings: SectionSettings {
    package static var rules: [FieldRule] { JobSchema.families[CompressionFamily.distill.rawValue]! }
    package static let sectionName = "distill"

    /// Student depth.
    package var layers: Int
    /// A narrower student's widths (any set: the student is pretrained on its own; none: teacher layers).
    package var hidden: Int?
    package var heads: Int?
    package var ffn: Int?
    /// Weight of the KL term (1 − alpha on the gold-label cross-entropy).
    package var alpha: Double
    package var temperature: Double
    package var hiddenMSE: Bool
    package var epochs: Int
    /// Teacher layer for each student layer ("1,3"), or "" for the default map.
    package var map: String
    package var cacheTeacher: Bool

    package init(layers: Int, hidden: Int? = nil, heads: Int? = nil, ffn: Int? = nil, alpha: Double, temperature: Double,
                 hiddenMSE: Bool, epochs: Int, map: String, cacheTeacher: Bool) {
        self.layers = layers; self.hidden = hidden; self.heads = heads; self.ffn = ffn; self.alpha = alpha
        self.temperature = temperature; self.hiddenMSE = hiddenMSE; self.epochs = epochs; self.map = map; self.cacheTeacher = cacheTeacher
    }

    enum CodingKeys: String, CodingKey {
        case layers, hidden, heads, ffn, alpha, temperature, hiddenMSE = "hidden_mse", epochs, map, cacheTeacher = "cache_teacher"
    }

    /// Whether the student is narrower than the teacher (its own pretraining) rather than built from its layers.
    package var isNarrower: Bool { hidden != nil || heads != nil || ffn != nil }
}

/// `quantize`: dynamic int8, LLM.int8() mixed, static int8 with calibration, or weight-only int4.
package struct QuantizeSettings: SectionSettings {
    package static var rules: [FieldRule] { JobSchema.families[CompressionFamily.quantize.rawValue]! }
    package static let sectionName = "quantize"

    package enum Scheme: String, Codable, Sendable, CaseIterable {
        case dynamic, llmInt8 = "llm-int8", staticInt8 = "static", int4
    }
    package enum Calibration: String, Codable, Sendable, CaseIterable { case minmax, percentile }

    package var scheme: Scheme
    /// LLM.int8(): activation columns with max |x| above this stay in fp32.
    package var threshold: Double
    /// The word embeddings in int8 too.
    package var embeddings: Bool
    /// Static: how activation ranges are calibrated.
    package var calibration: Calibration

    package init(scheme: Scheme, threshold: Double, embeddings: Bool, calibration: Calibration) {
        self.scheme = scheme; self.threshold = threshold; self.embeddings = embeddings; self.calibration = calibration
    }
}
