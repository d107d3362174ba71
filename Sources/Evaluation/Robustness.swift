// Robustness beyond clean test F1: the test set under each perturbation (diacritics stripped, typos at each rate)
// and an out-of-distribution test set (another corpus of the same language, with every sentence the model trained
// or selected on removed), each scored like the clean test set. The sets are perturbed and aligned once
// (`RobustnessSets`), then any number of models are scored on them (`NEREvaluator.robustness`). A perturbed set
// is scored only on the sentences the perturbation changed; the others take the clean test predictions. A window
// never spans two sentences, and no layer mixes rows of a batch (padding is masked, int8 activations are scaled
// per token), so a sentence's labels do not depend on which other sentences it is scored with; at most the last
// bits of a logit move with the padded length, which matters only at an exact argmax tie.
// RobustnessTaskTests checks the F1 equals scoring the whole perturbed set.
import Foundation
import TextData
import Transformer

/// The perturbed test sets and the out-of-distribution set of one language, aligned to one tokenizer.
package struct RobustnessSets: Sendable {
    package struct Perturbed: Sendable {
        package var perturbation: Perturbation
        package var text: PerturbedSentences
        /// Indices of the sentences the perturbation changed, ascending.
        package var changed: [Int]
        /// Windows of the changed sentences only (`changed[k]` is window sentence `k`); empty when the
        /// perturbation changed no word (the clean scores are reused).
        package var windows: [AlignedWindow]
    }

    package struct OutOfDistribution: Sendable {
        package var sentences: [NERSentence]
        package var windows: [AlignedWindow]
        /// Sentences of the set before removing those that occur in the in-distribution train or dev data.
        package var total: Int
        package var removed: Int
    }

    package var perturbed: [Perturbed]
    package var ood: OutOfDistribution?
    /// Wall time of perturbing, cleaning and aligning the sets.
    package var seconds: Double = 0

    /// Perturbs `test` (diacritics, then typos at each of `typoRates`, drawn from `seed`), removes from `ood` every
    /// sentence that occurs in `seen` (the model's train and dev sentences), and aligns every set for `evaluator`.
    package init(test: [NERSentence], typoRates: [Double], seed: UInt64, ood: [NERSentence]?, seen: [[NERSentence]],
                 evaluator: NEREvaluator) throws {
        let started = DispatchTime.now().uptimeNanoseconds
        let perturbations = [Perturbation.diacritics] + typoRates.map { .typos(rate: $0) }
        perturbed = try perturbations.map { p in
            let text = Perturb.apply(p, to: test, seed: seed)
            let changed = test.indices.filter { test[$0].words != text.sentences[$0].words }
            let windows = try evaluator.align(changed.map { text.sentences[$0] })
            return Perturbed(perturbation: p, text: text, changed: changed, windows: windows)
        }
        if let ood {
            let (kept, removed) = Overlap.removing(seen, from: ood)
            self.ood = OutOfDistribution(sentences: kept, windows: try evaluator.align(kept), total: ood.count, removed: removed)
        }
        seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
    }
}

/// A model's scores on the robustness sets.
package struct RobustnessScores: Sendable {
    package struct Perturbed: Sendable {
        package var perturbation: Perturbation
        package var scores: EntityScores
        /// Perturbed F1 / clean F1; nil when the clean F1 is 0.
        package var ratio: Double?
        /// Share of the test words the perturbation changed (0: the language has nothing it touches).
        package var changedShare: Double
    }

    package struct OutOfDistribution: Sendable {
        package var scores: EntityScores
        /// In-distribution test F1 − out-of-distribution F1.
        package var gap: Double
        package var sentences: Int
        package var removed: Int
    }

    package var perturbed: [Perturbed]
    package var ood: OutOfDistribution?
    /// Wall time of scoring these sets, and of building them (`RobustnessSets.seconds`, shared by every model a
    /// task scores).
    package var seconds: Double
    package var prepareSeconds: Double
}

extension NEREvaluator {
    /// Windows of the evaluator's `maxLength` for `sentences`.
    package func align(_ sentences: [NERSentence]) throws -> [AlignedWindow] {
        try tokenizer.align(sentences, labels: labels, maxLength: maxLength)
    }

    /// Scores `model` on every set of `sets`; `clean` are its scores and `cleanPredictions` its predictions on the
    /// unperturbed test set. The model runs as given (as the clean test set was scored), so every label of a
    /// perturbed set comes from the same forward pass.
    package func robustness(_ model: TokenLogitsModel, sets: RobustnessSets, clean: EntityScores,
                            cleanPredictions: NERPredictions) throws -> RobustnessScores {
        let started = DispatchTime.now().uptimeNanoseconds
        func ratio(_ f1: Double) -> Double? { clean.f1 > 0 ? f1 / clean.f1 : nil }
        let perturbed = try sets.perturbed.map { set -> RobustnessScores.Perturbed in
            // Unchanged text gives the clean predictions, so the clean scores stand (and cost nothing).
            let scores = set.windows.isEmpty ? clean : try score(model, set, unchanged: cleanPredictions)
            return .init(perturbation: set.perturbation, scores: scores, ratio: ratio(scores.f1),
                         changedShare: set.text.words == 0 ? 0 : Double(set.text.changedWords) / Double(set.text.words))
        }
        let ood = try sets.ood.map { set -> RobustnessScores.OutOfDistribution in
            let scores = try score(model, set.sentences, windows: set.windows)
            return .init(scores: scores, gap: clean.f1 - scores.f1, sentences: set.sentences.count, removed: set.removed)
        }
        return RobustnessScores(perturbed: perturbed, ood: ood, seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9,
                                prepareSeconds: sets.seconds)
    }

    /// Scores of `model` on the whole perturbed set: its changed sentences predicted, the rest read from `unchanged`
    /// (the same model's predictions on the clean test set).
    func score(_ model: TokenLogitsModel, _ set: RobustnessSets.Perturbed, unchanged: NERPredictions) throws -> EntityScores {
        let predicted = try predictions(model, set.changed.map { set.text.sentences[$0] }, windows: set.windows)
        var merged = NERPredictions(labels: unchanged.labels, probabilities: [])
        for (k, sentence) in set.changed.enumerated() { merged.labels[sentence] = predicted.labels[k] }
        return try score(merged, gold: set.text.sentences)
    }
}
