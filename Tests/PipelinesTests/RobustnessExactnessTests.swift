// A perturbed set is scored only on the sentences the perturbation changed, the rest reusing the clean test
// predictions; these scores must equal, bit for bit, the scores of the whole perturbed set, for a fine-tuned fp32
// model, its inference encoder (at one and two threads) and its int8 quantization.
import Compression
import Evaluation
import Experiment
import Foundation
@testable import Pipelines
import Testing
import TestSupport
import TextData
import Transformer

@Suite struct RobustnessExactnessTests {
    @Test func changedSentencesOnlyEqualsScoringTheWholePerturbedSet() throws {
        let dir = try Fixtures.temporaryDirectory("robust-exact")
        defer { try? FileManager.default.removeItem(at: dir) }
        let language = "syn-ton"
        let yaml = """
            name: tiny
            data: {source: synthetic, synthetic_sentences: 400}
            model: {layers: 1, hidden: 64, heads: 2, ffn: 128, max_length: 32, vocab: 400}
            pretrain: {steps: 20, batch: 8, learning_rate: 1.0e-3}
            finetune: {epochs: 6, batch: 8, learning_rate: 5.0e-3}
            seeds: [7]
            languages: [\(language)]
            compression:
              - quantize: {scheme: dynamic}
            """
        let graph = try JobSpec.parse(yaml: yaml, file: "tiny.yaml").plan()
        let runner = TaskRunner(root: dir)
        let pre = try runner.run(try #require(graph.tasks.first { $0.spec.kind == .pretrain }), inputs: [])
        let ft = try runner.run(try #require(graph.tasks.first { $0.spec.kind == .finetune }), inputs: [pre])
        let quantized = try runner.run(try #require(graph.tasks.first { $0.spec.kind == .compress }), inputs: [ft])

        let model = try XLMRModel.load(ft.checkpoint)
        let tokenizer = try XLMRTokenizer(contentsOf: ft.checkpoint.appendingPathComponent("sentencepiece.bpe.model").path)
        let evaluator = NEREvaluator(tokenizer: tokenizer, labels: .masakhaNER, maxLength: 32, batchSize: 32)
        let test = try Corpora.ner(PipelineData.synthetic(sentences: 400), language: language).test
        let testWindows = try evaluator.align(test)
        let sets = try RobustnessSets(test: test, typoRates: [0.05, 0.1, 0.2, 0.5], seed: 4, ood: nil, seen: [], evaluator: evaluator)
        for set in sets.perturbed where set.perturbation != .diacritics {
            // Both parts of the merge are exercised: some sentences changed, some not.
            #expect(!set.changed.isEmpty && set.changed.count < test.count, "\(set.perturbation.name): \(set.changed.count) of \(test.count) changed")
        }

        let models: [(TokenLogitsModel, String)] = [
            (model, "fp32"), (try InferenceEncoder.fastest(model: model, threads: 1), "encoder 1 thread"),
            (try InferenceEncoder.fastest(model: model, threads: 2), "encoder 2 threads"), (try QuantizedModel.load(quantized.checkpoint), "int8"),
        ]
        for (scored, name) in models {
            let cleanPredictions = try evaluator.predictions(scored, test, windows: testWindows)
            let clean = try evaluator.score(cleanPredictions, gold: test)
            if name == "int8" { #expect(clean.f1 > 0, "the tiny model must find entities for the comparison to mean something") }
            let scores = try evaluator.robustness(scored, sets: sets, clean: clean, cleanPredictions: cleanPredictions)
            for (set, got) in zip(sets.perturbed, scores.perturbed) {
                let whole = set.changed.isEmpty ? clean : try evaluator.score(scored, set.text.sentences)
                #expect(got.scores == whole, "\(name) \(set.perturbation.name): \(got.scores.f1) vs whole set \(whole.f1)")
            }
        }
    }
}
