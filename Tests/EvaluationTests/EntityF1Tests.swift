// EntityF1 against seqeval 1.2.2 (golden numbers from Tests/Reference/make_f1_golden.py): random tag sequences
// (committed) and corrupted predictions over real MasakhaNER gold read from ../shared/data at test time.
import Foundation
import Testing
import TestSupport
import TextData
@testable import Evaluation

extension Tolerance {
    /// Our scores against seqeval's (float64 both sides; the arithmetic is the same, so this is a ceiling).
    static let seqevalAbsolute = 1e-9
}

@Suite struct EntityF1Tests {
    struct Mode: Decodable {
        struct PerType: Decodable { let precision: Double; let recall: Double; let f1: Double; let support: Int }
        let precision: Double; let recall: Double; let f1: Double; let per_type: [String: PerType]
    }
    struct Scores: Decodable { let accuracy: Double?; let `default`: Mode; let strict: Mode }
    struct RandomCase: Decodable { let gold: [[String]]; let pred: [[String]]; let scores: Scores }
    struct RealCase: Decodable { let file: String; let rate: Double; let edits: [Int]; let scores: Scores }

    static let folder = Fixtures.referenceFixtures.appendingPathComponent("f1")

    func check(gold: [[String]], pred: [[String]], expected: Scores, name: String) throws {
        for mode in ChunkMode.allCases {
            let ours = try EntityF1.score(gold: gold, predicted: pred, mode: mode)
            let theirs = mode == .default ? expected.default : expected.strict
            let close = { (a: Double, b: Double) in abs(a - b) <= Tolerance.seqevalAbsolute }
            #expect(close(ours.precision, theirs.precision) && close(ours.recall, theirs.recall) && close(ours.f1, theirs.f1),
                    "\(name) \(mode): ours \(ours.precision) \(ours.recall) \(ours.f1), seqeval \(theirs.precision) \(theirs.recall) \(theirs.f1)")
            #expect(Set(ours.perType.keys) == Set(theirs.per_type.keys), "\(name) \(mode) types")
            for (type, t) in theirs.per_type {
                guard let o = ours.perType[type] else { continue }
                #expect(close(o.precision, t.precision) && close(o.recall, t.recall) && close(o.f1, t.f1) && o.support == t.support,
                        "\(name) \(mode) \(type): ours \(o), seqeval \(t)")
            }
            if let accuracy = expected.accuracy { #expect(close(ours.tokenAccuracy, accuracy), "\(name) accuracy") }
        }
    }

    @Test func equalsSeqevalOnRandomSequences() throws {
        let cases = try JSONDecoder().decode([RandomCase].self, from: Data(contentsOf: Self.folder.appendingPathComponent("random_golden.json")))
        #expect(cases.count > 40)
        for (i, c) in cases.enumerated() { try check(gold: c.gold, pred: c.pred, expected: c.scores, name: "random case \(i)") }
    }

    @Test(.enabled(if: Fixtures.sharedData != nil, "../shared/data is absent, so the seqeval parity check on MasakhaNER cannot run"))
    func equalsSeqevalOnCorruptedMasakhaNER() throws {
        let shared = try #require(Fixtures.sharedData)
        let cases = try JSONDecoder().decode([RealCase].self, from: Data(contentsOf: Self.folder.appendingPathComponent("masakhaner_golden.json")))
        for c in cases {
            let gold = try CoNLL.read(contentsOf: shared.appendingPathComponent("masakhaner/\(c.file)")).sentences.map(\.tags)
            var pred = gold
            for e in stride(from: 0, to: c.edits.count, by: 3) {
                pred[c.edits[e]][c.edits[e + 1]] = LabelSet.masakhaNER.label(of: c.edits[e + 2])
            }
            #expect(pred != gold)
            try check(gold: gold, pred: pred, expected: c.scores, name: "\(c.file) at rate \(c.rate)")
        }
        #expect(cases.count == 10)
    }

    /// Hand-computed: the two modes differ exactly on a stray I- and on a type switch inside a chunk.
    @Test func handComputedModes() throws {
        let gold = [["B-PER", "I-PER", "O", "B-LOC"]]
        let pred = [["I-PER", "I-PER", "O", "B-LOC"]]
        let d = try EntityF1.score(gold: gold, predicted: pred, mode: .default)
        #expect(d.f1 == 1 && d.perType["PER"]?.support == 1)  // the stray I- starts a chunk: same span as gold
        let s = try EntityF1.score(gold: gold, predicted: pred, mode: .strict)
        #expect(s.predicted == 1 && s.truePositives == 1 && s.precision == 1 && s.recall == 0.5)  // no PER entity at all
        #expect(abs(s.f1 - 2.0 / 3.0) < 1e-15)
        #expect(try EntityF1.entities([["B-ORG", "I-LOC", "I-LOC"]], mode: .default).map(\.type) == ["ORG", "LOC"])
        #expect(try EntityF1.entities([["B-ORG", "I-LOC", "I-LOC"]], mode: .strict).map(\.type) == ["ORG"])
        #expect(d.tokenAccuracy == 0.75)
    }

    /// Per gold entity, in gold order: found only with the exact span and type.
    @Test func goldOutcomesNeedTheExactSpanAndType() throws {
        let gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O", "B-DATE", "I-DATE"]]
        let pred = [["B-PER", "I-PER", "O", "B-ORG"], ["B-ORG", "O", "B-DATE", "O"]]
        let o = try EntityF1.goldOutcomes(gold: gold, predicted: pred)
        #expect(o.map(\.entity) == [EntitySpan(sentence: 0, type: "PER", start: 0, end: 2), EntitySpan(sentence: 0, type: "LOC", start: 3, end: 4),
                                    EntitySpan(sentence: 1, type: "ORG", start: 0, end: 1), EntitySpan(sentence: 1, type: "DATE", start: 2, end: 4)])
        #expect(o.map(\.found) == [true, false, true, false])  // LOC predicted as ORG; DATE cut short
        #expect(throws: ScoringError.self) { try EntityF1.goldOutcomes(gold: gold, predicted: [pred[0]]) }
    }

    /// The found outcomes are the true positives seqeval counts, on every committed random case.
    @Test func goldOutcomesCountTheTruePositives() throws {
        let cases = try JSONDecoder().decode([RandomCase].self, from: Data(contentsOf: Self.folder.appendingPathComponent("random_golden.json")))
        for (i, c) in cases.enumerated() {
            let o = try EntityF1.goldOutcomes(gold: c.gold, predicted: c.pred)
            let s = try EntityF1.score(gold: c.gold, predicted: c.pred)
            #expect(o.count == s.gold && o.filter(\.found).count == s.truePositives, "random case \(i)")
        }
    }

    @Test func mismatchedShapesSayWhere() {
        #expect(throws: ScoringError(message: "sentence 2 has 3 tokens in the gold file but 2 in the predictions")) {
            try EntityF1.score(gold: [["O"], ["O", "O", "O"]], predicted: [["O"], ["O", "O"]])
        }
        #expect(throws: ScoringError.self) { try EntityF1.score(gold: [["O"]], predicted: [["O"], ["O"]]) }
        #expect(throws: ScoringError.self) { try EntityF1.score(gold: [["X-PER"]], predicted: [["O"]], mode: .strict) }
    }
}
