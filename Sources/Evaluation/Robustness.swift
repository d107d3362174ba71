// Robustness beyond clean test F1: the test set under each perturbation (diacritics stripped, typos at each rate)
// and an out-of-distribution test set (another corpus of the same language, with every sentence the model trained
// or selected on removed), each scored like the clean test set. The sets are perturbed and aligned once
// (`RobustnessSets`), then any number of models are scored on them (`NEREvaluator.robustness`).
import Foundation
import TextData
import Transformer

/// The perturbed test sets and the out-of-distribution set of one language, aligned to one tokenizer.
package struct RobustnessSets: Sendable {
    package struct Perturbed: Sendable {
        package var perturbation: Perturbation
        package var text: PerturbedSentences
        /// Empty when the perturbation changed no word (the clean scores are reused).
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
            let windows = text.changedWords == 0 ? [] : try evaluator.align(text.sentences)
            return Perturbed(perturbation: p, text: text, windows: windows)
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

    /// Scores `model` on every set of `sets`; `clean` are its scores on the unperturbed test set. An fp32
    /// `XLMRModel` runs on the inference encoder (pre-packed weights for `threads`), as timing does.
    package func robustness(_ model: TokenLogitsModel, sets: RobustnessSets, clean: EntityScores, threads: Int) throws -> RobustnessScores {
        let started = DispatchTime.now().uptimeNanoseconds
        let fast: TokenLogitsModel = try (model as? XLMRModel).map { try InferenceEncoder.fastest(model: $0, threads: threads) } ?? model
        func ratio(_ f1: Double) -> Double? { clean.f1 > 0 ? f1 / clean.f1 : nil }
        let perturbed = try sets.perturbed.map { set -> RobustnessScores.Perturbed in
            // Unchanged text gives the clean predictions, so the clean scores stand (and cost nothing).
            let scores = set.windows.isEmpty ? clean : try score(fast, set.text.sentences, windows: set.windows)
            return .init(perturbation: set.perturbation, scores: scores, ratio: ratio(scores.f1),
                         changedShare: set.text.words == 0 ? 0 : Double(set.text.changedWords) / Double(set.text.words))
        }
        let ood = try sets.ood.map { set -> RobustnessScores.OutOfDistribution in
            let scores = try score(fast, set.sentences, windows: set.windows)
            return .init(scores: scores, gap: clean.f1 - scores.f1, sentences: set.sentences.count, removed: set.removed)
        }
        return RobustnessScores(perturbed: perturbed, ood: ood, seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9,
                                prepareSeconds: sets.seconds)
    }
}
