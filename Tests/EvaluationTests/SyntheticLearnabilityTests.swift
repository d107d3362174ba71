// The synthetic corpus is learnable but not trivial: a baseline that only memorises each training word's most
// frequent tag finds many test entities (the patterns are consistent) but far from all (30% of names are unseen in
// train and some person names are place names), so a model must use context; always-O scores 0.
import Foundation
import Testing
import TextData
@testable import Evaluation

@Suite struct SyntheticLearnabilityTests {
    @Test func memorisingBaselineFindsMostEntities() throws {
        for spec in SyntheticCorpus.languages {
            let data = SyntheticCorpus.generate(spec, seed: 1)
            var counts: [String: [String: Int]] = [:]
            for sentence in data.train {
                for (word, tag) in zip(sentence.words, sentence.tags) {
                    counts[word, default: [:]][String(tag.dropFirst(tag == "O" ? 0 : 2)), default: 0] += 1
                }
            }
            let predicted = data.test.map { sentence -> [String] in
                var out: [String] = []
                for word in sentence.words {
                    let type = counts[word]?.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }?.key ?? "O"
                    if type == "O" { out.append("O"); continue }
                    let continues = out.last.map { $0 != "O" && $0.dropFirst(2) == type } ?? false
                    out.append((continues ? "I-" : "B-") + type)
                }
                return out
            }
            let gold = data.test.map(\.tags)
            let scores = try EntityF1.score(gold: gold, predicted: predicted)
            print("\(spec.code): memorising baseline entity F1 \(scores.f1)")
            #expect(scores.f1 > 0.5, "\(spec.code): a memorising baseline should find many entities, got \(scores.f1)")
            #expect(scores.f1 < 0.9, "\(spec.code): memorising alone should not be enough, got \(scores.f1)")
            #expect(try EntityF1.score(gold: gold, predicted: gold.map { $0.map { _ in "O" } }).f1 == 0)
        }
    }
}
