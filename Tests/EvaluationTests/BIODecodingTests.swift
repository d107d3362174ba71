// Constrained BIO decoding: the Viterbi path equals an exhaustive search over every valid label sequence, it
// repairs the sequences argmax breaks, and through the evaluator it changes nothing where argmax is already valid.
import Foundation
import Testing
import TestSupport
import TextData
@testable import Evaluation

@Suite struct BIODecodingTests {
    static let labels = LabelSet.masakhaNER  // O, B-/I- of PER, ORG, LOC, DATE

    static func valid(_ path: [Int]) -> Bool {
        let names = path.map { labels.label(of: $0) }
        for (i, name) in names.enumerated() where name.hasPrefix("I-") {
            guard i > 0, names[i - 1] != "O", names[i - 1].dropFirst(2) == name.dropFirst(2) else { return false }
        }
        return true
    }

    @Test func transitionsByHand() {
        let t = BIODecoder.transitions(Self.labels)
        let id = { (name: String) in Self.labels.labels.firstIndex(of: name)! }
        #expect(t.start == Self.labels.labels.map { !$0.hasPrefix("I-") })
        #expect(t.allowed[id("B-PER")][id("I-PER")] && t.allowed[id("I-PER")][id("I-PER")])
        #expect(!t.allowed[id("O")][id("I-PER")] && !t.allowed[id("B-ORG")][id("I-PER")] && !t.allowed[id("I-LOC")][id("I-PER")])
        #expect(t.allowed[id("O")][id("B-PER")] && t.allowed[id("I-DATE")][id("O")] && t.allowed[id("B-PER")][id("B-PER")])
    }

    @Test func equalsExhaustiveSearch() {
        let t = BIODecoder.transitions(Self.labels)
        let L = Self.labels.count
        var rng = SeededRandom(seed: 42)
        for trial in 0..<60 {
            let n = 1 + trial % 4
            // Peaked random distributions, so argmax is often invalid and the best valid path is unique.
            let words: [[Float]] = (0..<n).map { _ in
                let raw = (0..<L).map { _ in Foundation.exp(6 * rng.unit()) }
                let sum = raw.reduce(0, +)
                return raw.map { Float($0 / sum) }
            }
            var best: (score: Double, path: [Int]) = (-.infinity, [])
            for code in 0..<Int(pow(Double(L), Double(n))) {
                var path: [Int] = [], c = code
                for _ in 0..<n { path.append(c % L); c /= L }
                guard Self.valid(path) else { continue }
                let score = zip(path, words).map { Foundation.log(Double($1[$0])) }.reduce(0, +)
                if score > best.score { best = (score, path) }
            }
            #expect(BIODecoder.decode(words, transitions: t) == best.path, "trial \(trial)")
        }
        #expect(BIODecoder.decode([], transitions: t) == [])
    }

    @Test func repairsWhatArgmaxBreaks() {
        let t = BIODecoder.transitions(Self.labels)
        func dist(_ pairs: [String: Float]) -> [Float] {
            let rest = (1 - pairs.values.reduce(0, +)) / Float(Self.labels.count - pairs.count)
            return Self.labels.labels.map { pairs[$0] ?? rest }
        }
        let tags = { (path: [Int]) in path.map { Self.labels.label(of: $0) } }
        // argmax reads "O I-PER": the name's second word alone opens with I-. Worked by hand: B-PER I-PER scores
        // log .4 + log .6 = -1.427, O B-PER log .5 + log .3 = -1.897, O O log .5 + log .05 = -3.689.
        let words = [dist(["O": 0.5, "B-PER": 0.4]), dist(["I-PER": 0.6, "B-PER": 0.3, "O": 0.05])]
        #expect(tags(BIODecoder.decode(words, transitions: t)) == ["B-PER", "I-PER"])
        // A valid argmax sequence is kept.
        let clean = [dist(["B-LOC": 0.7]), dist(["I-LOC": 0.6]), dist(["O": 0.9])]
        #expect(tags(BIODecoder.decode(clean, transitions: t)) == ["B-LOC", "I-LOC", "O"])
    }

    @Test func evaluatorKeepsValidPredictionsAndRepairsTheRest() throws {
        let dir = try Fixtures.temporaryDirectory("evaluator-bio")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (sentences, windows, argmax, oracle) = try NEREvaluatorTests.fixture(dir, language: "syn-ton", seed: 8, maxLength: 12, batchSize: 5)
        let bio = NEREvaluator(tokenizer: argmax.tokenizer, labels: argmax.labels, maxLength: 12, batchSize: 5, decoding: .bio)
        let plain = try argmax.predictions(oracle, sentences, windows: windows)
        let decoded = try bio.predictions(oracle, sentences, windows: windows)
        #expect(decoded.probabilities.isEmpty)
        var repaired = 0
        for (a, b) in zip(plain.labels, decoded.labels) {
            #expect(Self.valid(b))
            // Near one-hot distributions: a valid argmax sequence is the best path; an invalid one is changed.
            if Self.valid(a) { #expect(a == b) } else { repaired += 1; #expect(a != b) }
        }
        // The oracle's argmax is mostly the gold tags (valid BIO); where windows repeat, it may read another sentence's.
        #expect(plain.labels.filter(Self.valid).count > plain.labels.count / 2)
        print("BIODecodingTests: \(repaired) of \(plain.labels.count) argmax sequences were invalid BIO")
        #expect(try bio.predictions(oracle, sentences, windows: windows, probabilities: true).probabilities
                == argmax.predictions(oracle, sentences, windows: windows, probabilities: true).probabilities)
    }
}
