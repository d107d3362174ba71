// Calibration and loyalty against independent references: ECE, MCE and the bins equal torchmetrics'
// CalibrationError (multiclass, 15 bins, l1 / max) and the JS distance scipy's jensenshannon(base=2), on the
// fixtures of Tests/Reference/make_calibration_golden.py; entity-level calibration, label and probability loyalty
// and entity flips on hand-computed cases; a model compared with itself is fully loyal.
import Foundation
import Testing
import TestSupport
import TextData
@testable import Evaluation

/// Calibration and JS distances are sums of a few hundred doubles: the references agree to rounding.
let calibrationAbsolute = 1e-9

struct CalibrationGolden: Decodable {
    struct Bins: Decodable { var count: [Int]; var confidence: [Double]; var accuracy: [Double] }
    struct Case: Decodable {
        var name: String
        var probabilities: [[Double]]
        var targets: [Int]
        var ece: Double
        var mce: Double
        var bins: Bins
    }
    struct JS: Decodable { var p: [Double]; var q: [Double]; var distance: Double }
    var generator: String
    var bins: Int
    var calibration: [Case]
    var jensenshannon: [JS]

    static func load() throws -> CalibrationGolden {
        let url = Fixtures.referenceFixtures.appendingPathComponent("calibration/golden.json")
        return try JSONDecoder().decode(CalibrationGolden.self, from: Data(contentsOf: url))
    }
}

@Suite struct CalibrationTests {
    @Test func eceAndMCEEqualTorchmetrics() throws {
        let golden = try CalibrationGolden.load()
        #expect(golden.bins == Calibration.binCount)
        #expect(golden.calibration.map(\.name) == ["random", "real-shaped", "bin-edges", "ones"])
        for c in golden.calibration {
            // Top label: the highest probability (no ties in the fixtures), correct when it is the target.
            let top = c.probabilities.map { p in p.indices.max { p[$0] < p[$1] }! }
            let report = Calibration.measure(confidences: zip(c.probabilities, top).map { $0[$1] },
                                             correct: zip(top, c.targets).map { $0 == $1 })
            #expect(abs(report.ece - c.ece) < calibrationAbsolute, "\(c.name): ECE \(report.ece) vs \(c.ece)")
            #expect(abs(report.mce - c.mce) < calibrationAbsolute, "\(c.name): MCE \(report.mce) vs \(c.mce)")
            let slots = report.bins + [report.certain]
            #expect(slots.map(\.count) == c.bins.count, "\(c.name)")
            for (mine, (conf, acc)) in zip(slots, zip(c.bins.confidence, c.bins.accuracy)) {
                #expect(abs(mine.confidence - conf) < calibrationAbsolute && abs(mine.accuracy - acc) < calibrationAbsolute, "\(c.name)")
            }
            #expect(report.count == c.targets.count && slots.map(\.count).reduce(0, +) == report.count)
        }
    }

    @Test func binsAreHalfOpenAndOneIsApart() {
        let e = Calibration.edges(15)
        #expect(e.count == 16 && e.first == 0 && e.last == 1 && e[3] == 0.2 && e[12] == 0.8)
        for m in 0..<15 {
            #expect(Calibration.bin(of: e[m], edges: e) == m, "an edge opens its bin")
            #expect(Calibration.bin(of: e[m + 1].nextDown, edges: e) == m)
        }
        #expect(Calibration.bin(of: 1, edges: e) == 15, "confidence 1 is kept apart, as torchmetrics keeps it")
        #expect(Calibration.bin(of: 1.5, edges: e) == 15 && Calibration.bin(of: -0.1, edges: e) == 0 && Calibration.bin(of: .nan, edges: e) == 0)
        let empty = Calibration.measure(confidences: [], correct: [])
        #expect(empty.ece == 0 && empty.mce == 0 && empty.count == 0 && empty.bins.count == 15)
    }

    @Test func jsDistanceEqualsScipy() throws {
        for c in try CalibrationGolden.load().jensenshannon {
            let d = Loyalty.jsDistance(c.p, c.q)
            #expect(abs(d - c.distance) < calibrationAbsolute, "\(c.p) \(c.q): \(d) vs \(c.distance)")
        }
    }

    /// Two sentences, labels O B-PER I-PER B-LOC (ids 0 1 2 5), hand-made distributions.
    static let labels = LabelSet.masakhaNER
    static let gold = [NERSentence(words: ["a", "b", "c"], tags: ["B-PER", "I-PER", "O"]),
                       NERSentence(words: ["d", "e"], tags: ["B-LOC", "O"])]

    static func predictions(_ rows: [[(Int, Float)]]) -> NERPredictions {
        // Each word: its label and that label's probability; the rest spread evenly over the other 8 labels.
        NERPredictions(labels: rows.map { $0.map(\.0) }, probabilities: rows.map { $0.map { (label, p) in
            (0..<9).map { $0 == label ? p : (1 - p) / 8 }
        } })
    }

    @Test func entityCalibrationUsesTheLeastConfidentWord() throws {
        let p = Self.predictions([[(1, 0.9), (2, 0.6), (0, 0.95)], [(1, 0.7), (0, 1.0)]])
        let entities = try Calibration.entities(p, gold: Self.gold, labels: Self.labels)
        // Predicted: PER [0, 2) with confidence min(0.9, 0.6) = 0.6, correct; PER [0, 1) in sentence 2 at 0.7, wrong.
        #expect(entities.count == 2)
        #expect(entities.bins[9] == ReliabilityBin(count: 1, confidence: Double(Float(0.6)), accuracy: 1))
        #expect(entities.bins[10] == ReliabilityBin(count: 1, confidence: Double(Float(0.7)), accuracy: 0))
        let expectedECE = 0.5 * (1 - Double(Float(0.6))) + 0.5 * Double(Float(0.7))
        #expect(abs(entities.ece - expectedECE) < calibrationAbsolute)
        let tokens = try Calibration.tokens(p, gold: Self.gold, labels: Self.labels)
        #expect(tokens.count == 5 && tokens.certain.count == 1 && tokens.certain.accuracy == 1)
        #expect(throws: ScoringError.self) { try Calibration.tokens(NERPredictions(labels: p.labels, probabilities: []), gold: Self.gold, labels: Self.labels) }
    }

    @Test func loyaltyAndFlipsOnAHandComputedCase() throws {
        let dense = Self.predictions([[(1, 0.9), (2, 0.8), (0, 0.9)], [(5, 0.6), (0, 0.9)]])
        // The variant loses PER (B-PER becomes O) and finds nothing new: LOC stays found.
        let variant = Self.predictions([[(0, 0.5), (2, 0.8), (0, 0.9)], [(5, 0.6), (0, 0.9)]])
        let r = try Loyalty.compare(dense: dense, variant: variant, gold: Self.gold, labels: Self.labels)
        #expect(r.positions == 5 && r.goldEntities == 2)
        #expect(r.label == 4.0 / 5)
        // Only word 1 differs, so the mean distance is that word's JS distance over 5 positions.
        let d = Loyalty.jsDistance(dense.probabilities[0][0].map(Double.init), variant.probabilities[0][0].map(Double.init))
        #expect(d > 0.1 && abs(r.probability - (1 - d / 5)) < calibrationAbsolute)
        #expect(r.correctToWrong == 0.5 && r.wrongToCorrect == 0)
        // The other way round the lost entity is found again.
        let back = try Loyalty.compare(dense: variant, variant: dense, gold: Self.gold, labels: Self.labels)
        #expect(back.correctToWrong == 0 && back.wrongToCorrect == 0.5 && back.label == r.label)
    }

    @Test func aModelComparedWithItselfIsFullyLoyal() throws {
        let golden = try CalibrationGolden.load().calibration[0]
        // Real-looking distributions over 9 labels for every word of the hand-made sentences.
        let rows = Self.gold.enumerated().map { s, sentence in
            sentence.words.indices.map { w in golden.probabilities[s * 3 + w].map(Float.init) }
        }
        let p = NERPredictions(labels: rows.map { $0.map { d in d.indices.max { d[$0] < d[$1] }! } }, probabilities: rows)
        let r = try Loyalty.compare(dense: p, variant: p, gold: Self.gold, labels: Self.labels)
        #expect(r.label == 1 && r.probability == 1 && r.correctToWrong == 0 && r.wrongToCorrect == 0)
    }
}
