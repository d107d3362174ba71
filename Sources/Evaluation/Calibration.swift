// Calibration of a model's confidence: top-label expected and maximum calibration error over 15 equal-width bins
// of [0, 1], binned exactly as torchmetrics' CalibrationError (multiclass, norm l1 / max) bins them, at token level
// (scored positions) and at entity level (a predicted entity's confidence is the lowest predicted-label
// probability over its words; it is correct when gold has the same span and type).
import Foundation
import TextData

/// One bin of a reliability diagram: how many predictions fell in it, their mean confidence and their accuracy
/// (0 and 0 for an empty bin, as torchmetrics leaves them).
package struct ReliabilityBin: Sendable, Equatable {
    package var count: Int
    package var confidence: Double
    package var accuracy: Double

    package init(count: Int, confidence: Double, accuracy: Double) {
        self.count = count; self.confidence = confidence; self.accuracy = accuracy
    }
}

package struct CalibrationReport: Sendable, Equatable {
    /// Expected calibration error: Σ over bins of |bin|/n · |accuracy − confidence|, in [0, 1].
    package var ece: Double
    /// Maximum calibration error: the largest |accuracy − confidence| over the bins, in [0, 1].
    package var mce: Double
    /// The equal-width bins [m/15, (m+1)/15), m = 0…14.
    package var bins: [ReliabilityBin]
    /// Predictions of confidence exactly 1: torchmetrics bins them apart from the last bin (a bucketize with
    /// right=True puts 1.0 past the last edge), and so do we, so ECE and MCE are computed over `bins` + this one.
    package var certain: ReliabilityBin
    /// Predictions measured (n).
    package var count: Int
}

package enum Calibration {
    package static let binCount = 15

    /// The bin edges m/bins, m = 0…bins, each correctly rounded (the reference fixtures pass these same edges to
    /// torchmetrics; its own float64 `torch.linspace` is one ulp off at 11/15).
    package static func edges(_ bins: Int) -> [Double] {
        (0...bins).map { Double($0) / Double(bins) }
    }

    /// The bin of a confidence: the number of edges ≤ c, less one (torch.bucketize(c, edges, right=True) − 1),
    /// so bin m holds [edge m, edge m+1) and c = 1 gets index `bins`. Confidences outside [0, 1] are clamped.
    static func bin(of confidence: Double, edges: [Double]) -> Int {
        let c = min(1, max(0, confidence.isNaN ? 0 : confidence))
        var lo = 0, hi = edges.count // first index whose edge is > c
        while lo < hi {
            let mid = (lo + hi) / 2
            if edges[mid] > c { hi = mid } else { lo = mid + 1 }
        }
        return max(0, lo - 1)
    }

    /// ECE, MCE and the reliability bins of predictions with `confidences` (top-label probability) and whether
    /// each was `correct`. No predictions give 0 and 0 with empty bins.
    package static func measure(confidences: [Double], correct: [Bool], bins: Int = binCount) -> CalibrationReport {
        precondition(confidences.count == correct.count, "one correctness flag per confidence")
        let e = edges(bins)
        // Slot `bins` is the confidence-1 bin; sums run in input order as torch's scatter_add does on the CPU.
        var count = [Int](repeating: 0, count: bins + 1)
        var confidenceSum = [Double](repeating: 0, count: bins + 1), correctSum = [Double](repeating: 0, count: bins + 1)
        for (c, ok) in zip(confidences, correct) {
            let m = bin(of: c, edges: e)
            count[m] += 1
            confidenceSum[m] += c
            correctSum[m] += ok ? 1 : 0
        }
        let n = confidences.count
        let slots = (0...bins).map { m in
            count[m] == 0 ? ReliabilityBin(count: 0, confidence: 0, accuracy: 0)
                : ReliabilityBin(count: count[m], confidence: confidenceSum[m] / Double(count[m]),
                                 accuracy: correctSum[m] / Double(count[m]))
        }
        var ece = 0.0, mce = 0.0
        for s in slots where n > 0 {
            let gap = abs(s.accuracy - s.confidence)
            ece += gap * (Double(s.count) / Double(n))
            mce = max(mce, gap)
        }
        return CalibrationReport(ece: ece, mce: mce, bins: Array(slots[..<bins]), certain: slots[bins], count: n)
    }

    /// Token level: every scored position (a word's first sub-token), its confidence the probability of the
    /// predicted label, correct when that label is the gold one. Needs `predictions.probabilities`.
    package static func tokens(_ predictions: NERPredictions, gold: [NERSentence], labels: LabelSet) throws -> CalibrationReport {
        try checkShapes(predictions, gold: gold)
        var confidences: [Double] = [], correct: [Bool] = []
        for (s, sentence) in gold.enumerated() {
            for (w, tag) in sentence.tags.enumerated() {
                let label = predictions.labels[s][w]
                confidences.append(Double(predictions.probabilities[s][w][label]))
                correct.append(labels.id(of: tag) == label)
            }
        }
        return measure(confidences: confidences, correct: correct)
    }

    /// Entity level: every predicted entity (seqeval's default chunking, as F1), its confidence the lowest
    /// probability of the predicted label over its words, correct when gold has an entity of the same span and type.
    package static func entities(_ predictions: NERPredictions, gold: [NERSentence], labels: LabelSet) throws -> CalibrationReport {
        try checkShapes(predictions, gold: gold)
        let goldEntities = Set(try EntityF1.entities(gold.map(\.tags), mode: .default))
        var confidences: [Double] = [], correct: [Bool] = []
        for e in try EntityF1.entities(predictions.tags(labels), mode: .default) {
            let words = predictions.probabilities[e.sentence][e.start..<e.end]
            let labelIDs = predictions.labels[e.sentence][e.start..<e.end]
            confidences.append(zip(words, labelIDs).map { Double($0[$1]) }.min() ?? 0)
            correct.append(goldEntities.contains(e))
        }
        return measure(confidences: confidences, correct: correct)
    }

    /// Predictions must have a label and a distribution for every gold word.
    static func checkShapes(_ p: NERPredictions, gold: [NERSentence]) throws {
        if let mismatch = EntityF1.firstMismatch(gold: gold.map(\.words.count), predicted: p.labels.map(\.count)) {
            throw ScoringError(message: mismatch)
        }
        guard p.probabilities.map(\.count) == p.labels.map(\.count) else {
            throw ScoringError(message: "calibration needs a label distribution for every scored word")
        }
        for (dists, labels) in zip(p.probabilities, p.labels) {
            for (d, l) in zip(dists, labels) where !d.indices.contains(l) {
                throw ScoringError(message: "a predicted label \(l) is outside its distribution of \(d.count) labels")
            }
        }
    }
}
