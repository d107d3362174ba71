// Loyalty of a compressed model to its dense model on the same test set: how often the predicted label is the
// dense one, how close the label distributions are (1 − Jensen–Shannon distance, base 2), and how many gold
// entities the compression turned from found to missed and back.
import Foundation
import TextData

package struct LoyaltyReport: Sendable, Equatable {
    /// Share of scored positions whose predicted label equals the dense model's, in [0, 1].
    package var label: Double
    /// 1 − the mean Jensen–Shannon distance (base 2) between the two label distributions, in [0, 1].
    package var probability: Double
    /// Gold entities the dense model found (exact span and type) and the variant misses, per gold entity.
    package var correctToWrong: Double
    /// Gold entities the dense model missed and the variant finds, per gold entity.
    package var wrongToCorrect: Double
    /// Scored positions and gold entities compared.
    package var positions: Int
    package var goldEntities: Int
}

package enum Loyalty {
    /// scipy.spatial.distance.jensenshannon(p, q, base=2): both normalised to sum 1, then
    /// sqrt((KL(p‖m) + KL(q‖m)) / 2 / ln 2) with m = (p + q)/2 and 0·log(0/·) = 0. In [0, 1].
    package static func jsDistance(_ p: [Double], _ q: [Double]) -> Double {
        precondition(p.count == q.count, "two distributions over the same labels")
        let ps = p.reduce(0, +), qs = q.reduce(0, +)
        var left = 0.0, right = 0.0
        for (a0, b0) in zip(p, q) {
            let a = a0 / ps, b = b0 / qs, m = (a + b) / 2
            if a > 0 { left += a * Foundation.log(a / m) }
            if b > 0 { right += b * Foundation.log(b / m) }
        }
        // Rounding can leave a sum of non-negative terms a hair below 0 for equal inputs.
        return (max(0, (left + right) / Foundation.log(2.0) / 2)).squareRoot()
    }

    /// Compares `variant` with `dense` over the same sentences (`gold`); both need label distributions.
    package static func compare(dense: NERPredictions, variant: NERPredictions, gold: [NERSentence],
                                labels: LabelSet) throws -> LoyaltyReport {
        try Calibration.checkShapes(dense, gold: gold)
        try Calibration.checkShapes(variant, gold: gold)
        var agree = 0, positions = 0, distance = 0.0
        for s in gold.indices {
            for w in gold[s].tags.indices {
                positions += 1
                if dense.labels[s][w] == variant.labels[s][w] { agree += 1 }
                let p = dense.probabilities[s][w], q = variant.probabilities[s][w]
                guard p.count == q.count else {
                    throw ScoringError(message: "the dense model has \(p.count) labels, the variant \(q.count)")
                }
                distance += jsDistance(p.map(Double.init), q.map(Double.init))
            }
        }
        let goldEntities = try EntityF1.entities(gold.map(\.tags), mode: .default)
        let denseFound = Set(try EntityF1.entities(dense.tags(labels), mode: .default))
        let variantFound = Set(try EntityF1.entities(variant.tags(labels), mode: .default))
        var lost = 0, gained = 0
        for e in goldEntities {
            switch (denseFound.contains(e), variantFound.contains(e)) {
            case (true, false): lost += 1
            case (false, true): gained += 1
            default: break
            }
        }
        func share(_ k: Int, _ n: Int) -> Double { n == 0 ? 0 : Double(k) / Double(n) }
        return LoyaltyReport(label: positions == 0 ? 1 : share(agree, positions),
                             probability: positions == 0 ? 1 : 1 - distance / Double(positions),
                             correctToWrong: share(lost, goldEntities.count), wrongToCorrect: share(gained, goldEntities.count),
                             positions: positions, goldEntities: goldEntities.count)
    }
}
