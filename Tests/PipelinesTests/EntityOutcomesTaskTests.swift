// Per-entity outcomes in evaluated records: the fine-tuned model's record and its int8 variant's carry
// `test.entity_outcomes` over the same gold entities, consistent with their test scores, and the fine-tuned
// model's bits equal a fresh evaluation of its saved checkpoint.
import Evaluation
import Experiment
import Foundation
@testable import Pipelines
import Testing
import TestSupport
import TextData
import Transformer

@Suite struct EntityOutcomesTaskTests {
    @Test func finetuneAndCompressRecordWhichGoldEntitiesTheyFound() throws {
        let dir = try Fixtures.temporaryDirectory("entity-outcomes")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (_, _, ft, quantized) = try RobustnessTaskTests.tinyGrid(dir, data: "", evaluation: "")
        var digests: Set<String> = []
        for (name, m) in [("finetune", ft.metrics), ("quantize", quantized.metrics)] {
            let o = try #require(m[EntityOutcomes.metric].flatMap(EntityOutcomes.init), "\(name) has outcomes")
            let gold = try #require(m["test.entities"]?.intValue)
            let recall = try #require(m["test.recall"]?.doubleValue)
            #expect(o.count == gold && gold > 0, "\(name)")
            #expect(o.found.filter { $0 }.count == Int((recall * Double(gold)).rounded()), "\(name): found bits are the true positives")
            digests.insert(o.digest)
        }
        #expect(digests.count == 1, "both records index the same gold entities")

        let model = try XLMRModel.load(ft.checkpoint)
        let tokenizer = try XLMRTokenizer(contentsOf: ft.checkpoint.appendingPathComponent("sentencepiece.bpe.model").path)
        let evaluator = NEREvaluator(tokenizer: tokenizer, labels: .masakhaNER, maxLength: 32, batchSize: 32)
        let test = try Corpora.ner(PipelineData.synthetic(sentences: 400), language: "syn-ton").test
        let fresh = try evaluator.outcomes(try evaluator.predictions(model, test, windows: try evaluator.align(test)), gold: test)
        #expect(ft.metrics[EntityOutcomes.metric].flatMap(EntityOutcomes.init)?.found == fresh.map(\.found))
        #expect(ft.metrics[EntityOutcomes.metric].flatMap(EntityOutcomes.init)?.digest == Metrics.outcomes(fresh).digest)
    }
}
