// Constrained BIO decoding: the Viterbi path equals an exhaustive search over every valid label sequence, it
// repairs the sequences argmax breaks, and through the evaluator it changes nothing where argmax is already valid.
// Decoding by transitions: the scores from a training set's tags by hand, the path against an exhaustive search
// with those scores, and a split name (`B-PER B-PER`) joined.
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

    /// Random distributions over the labels for `n` words; `peak` sharpens them.
    static func randomWords(_ n: Int, peak: Double, _ rng: inout SeededRandom) -> [[Float]] {
        (0..<n).map { _ in
            let raw = (0..<labels.count).map { _ in Foundation.exp(peak * rng.unit()) }
            let sum = raw.reduce(0, +)
            return raw.map { Float($0 / sum) }
        }
    }

    /// The best valid path by trying every label sequence: the sum of log-probabilities plus, with `scores`, each
    /// step's transition score (the first word's start score).
    static func exhaustiveBest(_ words: [[Float]], scores: LabelTransitions? = nil) -> [Int] {
        let L = labels.count, n = words.count
        var best: (score: Double, path: [Int]) = (-.infinity, [])
        for code in 0..<Int(pow(Double(L), Double(n))) {
            var path: [Int] = [], c = code
            for _ in 0..<n { path.append(c % L); c /= L }
            guard valid(path) else { continue }
            var score = scores?.start[path[0]] ?? 0
            for (k, label) in path.enumerated() {
                score += Foundation.log(Double(words[k][label]))
                if k > 0, let scores { score += scores.pair[path[k - 1]][label] }
            }
            if score > best.score { best = (score, path) }
        }
        return best.path
    }

    @Test func equalsExhaustiveSearch() {
        let t = BIODecoder.transitions(Self.labels)
        var rng = SeededRandom(seed: 42)
        for trial in 0..<60 {
            // Peaked random distributions, so argmax is often invalid and the best valid path is unique.
            let words = Self.randomWords(1 + trial % 4, peak: 6, &rng)
            #expect(BIODecoder.decode(words, transitions: t) == Self.exhaustiveBest(words), "trial \(trial)")
        }
        #expect(BIODecoder.decode([], transitions: t) == [])
    }

    /// Tags [B-PER I-PER O] and [O B-PER]: label counts O 2, B-PER 2, I-PER 1, the six others 0; each plus ½,
    /// total 9.5. After B-PER: I-PER once, so P(I-PER | B-PER) = 1.5 / 5.5 and P(B-PER | B-PER) = 0.5 / 5.5;
    /// sentence starts: B-PER and O once each, P(B-PER opens) = 1.5 / 6.5.
    @Test func transitionScoresByHand() {
        let id = { (name: String) in Self.labels.labels.firstIndex(of: name)! }
        let s = LabelTransitions(tags: [["B-PER", "I-PER", "O"], ["O", "B-PER"]], labels: Self.labels)
        #expect(abs(s.pair[id("B-PER")][id("I-PER")] - Foundation.log((1.5 / 5.5) / (1.5 / 9.5))) < 1e-12)
        #expect(abs(s.pair[id("B-PER")][id("I-PER")] - 0.5465437063680699) < 1e-12)
        #expect(abs(s.pair[id("B-PER")][id("B-PER")] - (-1.0628942060660305)) < 1e-12)  // log(0.5/5.5) − log(2.5/9.5)
        #expect(abs(s.start[id("B-PER")] - (-0.13133600206108675)) < 1e-12)          // log(1.5/6.5) − log(2.5/9.5)
        // A tag outside the label set counts as O.
        #expect(LabelTransitions(tags: [["B-PER", "X-FOO"]], labels: Self.labels) == LabelTransitions(tags: [["B-PER", "O"]], labels: Self.labels))
    }

    @Test func transitionDecodingEqualsExhaustiveSearch() {
        let t = BIODecoder.transitions(Self.labels)
        let scores = LabelTransitions(tags: [["B-PER", "I-PER", "O", "B-LOC"], ["O", "B-ORG", "I-ORG", "I-ORG"], ["B-DATE", "I-DATE"]],
                                      labels: Self.labels)
        var rng = SeededRandom(seed: 7)
        for trial in 0..<40 {
            let words = Self.randomWords(1 + trial % 4, peak: 4, &rng)
            #expect(BIODecoder.decode(words, transitions: t, scores: scores) == Self.exhaustiveBest(words, scores: scores), "trial \(trial)")
        }
    }

    /// The model's reading of "Mia Khalifa" on MasakhaNER pcm's test (docs/study.md, part 5): both words B-PER
    /// (0.97, 0.98), a valid BIO sequence and so kept by `.bio`; with a training set where names go on with I-PER
    /// and a B-PER never follows a B-PER, the second word becomes I-PER.
    @Test func transitionsJoinASplitName() {
        let t = BIODecoder.transitions(Self.labels)
        let id = { (name: String) in Self.labels.labels.firstIndex(of: name)! }
        func dist(_ pairs: [String: Float]) -> [Float] {
            let rest = (1 - pairs.values.reduce(0, +)) / Float(Self.labels.count - pairs.count)
            return Self.labels.labels.map { pairs[$0] ?? rest }
        }
        let words = [dist(["B-PER": 0.97]), dist(["B-PER": 0.98, "I-PER": 0.015])]
        #expect(BIODecoder.decode(words, transitions: t) == [id("B-PER"), id("B-PER")])
        let training = Array(repeating: ["O", "B-PER", "I-PER", "O"], count: 300) + Array(repeating: ["B-PER", "O"], count: 100)
        let scores = LabelTransitions(tags: training, labels: Self.labels)
        #expect(BIODecoder.decode(words, transitions: t, scores: scores) == [id("B-PER"), id("I-PER")])
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
