// The recipe options in a real fine-tune task on a tiny synthetic grid: mention replacement trains another model
// than the plain recipe and the same one again for the same seed (the draws are seeded per epoch); BIO decoding
// stores, for every test sentence, the best valid BIO sequence over the stored label distributions.
import Evaluation
import Experiment
import Foundation
@testable import Pipelines
import Testing
import TestSupport
import TextData

@Suite struct RecipeOptionsTaskTests {
    static func finetune(_ dir: URL, finetuneExtra: String, evaluation: String) throws -> PipelineOutcome {
        let yaml = """
            name: tiny
            data: {source: synthetic, synthetic_sentences: 300}
            model: {layers: 1, hidden: 32, heads: 2, ffn: 64, max_length: 32, vocab: 300}
            pretrain: {steps: 10, batch: 8, learning_rate: 1.0e-3}
            finetune: {epochs: 3, batch: 8, learning_rate: 5.0e-3\(finetuneExtra)}
            evaluation: {typo_rates: []\(evaluation)}
            seeds: [5]
            languages: [syn-agg]
            """
        let graph = try JobSpec.parse(yaml: yaml, file: "tiny.yaml").plan()
        let runner = TaskRunner(root: dir)
        let pre = try runner.run(try #require(graph.tasks.first { $0.spec.kind == .pretrain }), inputs: [])
        return try runner.run(try #require(graph.tasks.first { $0.spec.kind == .finetune }), inputs: [pre])
    }

    static func weights(_ o: PipelineOutcome) throws -> Data {
        try Data(contentsOf: o.checkpoint.appendingPathComponent("model.safetensors"))
    }

    @Test func mentionReplacementTrainsAnotherModelDeterministically() throws {
        let dir = try Fixtures.temporaryDirectory("recipe-options")
        defer { try? FileManager.default.removeItem(at: dir) }
        let plain = try Self.finetune(dir.appendingPathComponent("plain"), finetuneExtra: "", evaluation: "")
        let a = try Self.finetune(dir.appendingPathComponent("a"), finetuneExtra: ", mention_replacement: 0.5", evaluation: "")
        let b = try Self.finetune(dir.appendingPathComponent("b"), finetuneExtra: ", mention_replacement: 0.5", evaluation: "")
        #expect(try Self.weights(a) == Self.weights(b))
        #expect(a.metrics["test.f1"] == b.metrics["test.f1"] && a.metrics["finetune.final_loss"] == b.metrics["finetune.final_loss"])
        #expect(try Self.weights(a) != Self.weights(plain))
        // The same number of optimizer steps: the schedule does not depend on the draws.
        #expect(a.metrics["finetune.steps"] == plain.metrics["finetune.steps"])
    }

    @Test func bioDecodingReadsTheBestValidSequence() throws {
        let dir = try Fixtures.temporaryDirectory("recipe-decode")
        defer { try? FileManager.default.removeItem(at: dir) }
        let bio = try Self.finetune(dir, finetuneExtra: "", evaluation: ", decode: bio")
        // The fine-tune's stored test predictions: each sentence's labels are the Viterbi path over its stored
        // distributions (the argmax ones would be each word's top label).
        let test = try Corpora.ner(PipelineData.synthetic(sentences: 300), language: "syn-agg").test
        let p = try DensePredictions.read(from: bio.checkpoint, gold: test, labels: .masakhaNER)
        let transitions = BIODecoder.transitions(.masakhaNER)
        var differsFromArgmax = 0
        for (labels, distributions) in zip(p.labels, p.probabilities) {
            #expect(labels == BIODecoder.decode(distributions, transitions: transitions))
            let argmax = distributions.map { q in q.indices.max { q[$0] < q[$1] || (q[$0] == q[$1] && $0 > $1) }! }
            if argmax != labels { differsFromArgmax += 1 }
        }
        print("RecipeOptionsTaskTests: BIO decoding changed \(differsFromArgmax) of \(test.count) test sentences")
        let f1 = bio.metrics["test.f1"]?.doubleValue ?? -1
        #expect((0...1).contains(f1), "test.f1 \(f1)")
    }
}
