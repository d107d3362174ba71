// What the evaluate-and-package step scores beyond clean dev and test (the job's `evaluation` section and its
// out-of-distribution folder), how a language's robustness sets are read and built (once per process: `NERData.prepared`), and their
// metric names (docs/results.md).
import Evaluation
import Experiment
import Foundation
import TextData

extension Pipelines {
    /// The perturbations' settings and the out-of-distribution folder of a pipeline run.
    package struct EvaluationInputs: Sendable {
        package var settings: EvaluationSettings
        /// A folder of `<lang>/test.txt` (MasakhaNER 2.0), or nil for no out-of-distribution score.
        package var ood: URL?

        package init(settings: EvaluationSettings, ood: URL?) { self.settings = settings; self.ood = ood }

        /// A grid task's: its `evaluation` section and `data.ood`.
        package init(_ s: TaskSettings) {
            self.init(settings: s.evaluation, ood: s.data.ood.isEmpty ? nil : URL(fileURLWithPath: s.data.ood))
        }

        /// The schema's defaults and no out-of-distribution set (what the CLI's commands score).
        package static var standard: EvaluationInputs {
            // The evaluation section has a default for every key, so this cannot fail.
            guard let settings = try? EvaluationSettings.defaults else { preconditionFailure("evaluation defaults do not decode") }
            return EvaluationInputs(settings: settings, ood: nil)
        }
    }
}

extension NERData {
    /// `splits`' test set perturbed and the out-of-distribution test set of its language read and cleaned of
    /// sentences in `splits`' train and dev, all aligned for `evaluator`. A missing or malformed OOD file is permanent.
    static func robustnessSets(_ splits: NERSplits, evaluation e: Pipelines.EvaluationInputs, evaluator: NEREvaluator,
                               log: PipelineLog) throws -> RobustnessSets {
        var ood: [NERSentence]? = nil
        if let folder = e.ood {
            let file = JobSpec.oodTestFile(folder.path, language: splits.language)
            let document = try permanent("reading the out-of-distribution test set") { try CoNLL.read(contentsOf: file, lenient: true) }
            if let warning = document.warning(file: file.path) { log.write("data warning: \(warning)") }
            ood = document.sentences
        }
        let sets = try RobustnessSets(test: splits.test, typoRates: e.settings.typoRates, seed: UInt64(e.settings.perturbationSeed),
                                      ood: ood, seen: [splits.train, splits.dev], evaluator: evaluator)
        for set in sets.perturbed where set.text.changedWords == 0 {
            log.write("\(splits.language): \(set.perturbation.name) changes no word of the test set (its scores are the clean ones)")
        }
        if let o = sets.ood {
            log.write("\(splits.language): out-of-distribution test \(o.sentences.count) sentences (\(o.removed) of \(o.total) removed: also in train or dev)")
        }
        return sets
    }
}

extension Metrics {
    /// `robust.<perturbation>.f1`, `.ratio` (absent when clean test F1 is 0), `.changed_words`; `ood.*` scores with
    /// `ood.gap`, `ood.sentences`, `ood.removed`; and `robust.seconds`, `robust.prepare_seconds`.
    package static func robustness(_ r: RobustnessScores) -> [String: Value] {
        var m: [String: Value] = ["robust.seconds": .double(r.seconds), "robust.prepare_seconds": .double(r.prepareSeconds)]
        for p in r.perturbed {
            let prefix = "robust.\(p.perturbation.name)"
            m["\(prefix).f1"] = .double(p.scores.f1)
            if let ratio = p.ratio { m["\(prefix).ratio"] = .double(ratio) }
            m["\(prefix).changed_words"] = .double(p.changedShare)
        }
        if let o = r.ood {
            m.merge(scores(o.scores, prefix: "ood")) { $1 }
            m["ood.gap"] = .double(o.gap)
            m["ood.sentences"] = .int(o.sentences)
            m["ood.removed"] = .int(o.removed)
        }
        return m
    }
}
