// Robustness and out-of-distribution metrics on a tiny synthetic grid: the fine-tuned model and a compressed
// variant carry every metric, scored on the same perturbed text; the OOD set loses exactly its planted train and
// dev sentences and its F1 is the model's F1 on what is left; a missing OOD file fails the task naming the file.
// A perturbed set scored only on its changed sentences (the rest reusing the clean predictions) scores exactly as
// the whole perturbed set, for the fp32 model, its inference encoder and its int8 quantization.
import Compression
import Evaluation
import Experiment
import Foundation
@testable import Pipelines
import Testing
import TestSupport
import TextData
import Transformer

@Suite struct RobustnessTaskTests {
    @Test func finetuneAndCompressRecordRobustnessAndOOD() throws {
        let dir = try Fixtures.temporaryDirectory("robust-task")
        defer { try? FileManager.default.removeItem(at: dir) }
        let language = "syn-ton"
        let splits = try Corpora.ner(PipelineData.synthetic(sentences: 400), language: language)
        // The OOD set: the test sentences, plus planted copies of 5 train and 3 dev sentences (one in NFD and with
        // other tags, which must still count as a copy).
        var planted = Array(splits.train.prefix(5)) + Array(splits.dev.prefix(3))
        planted[0] = NERSentence(words: planted[0].words.map(\.decomposedStringWithCanonicalMapping),
                                 tags: Array(repeating: "O", count: planted[0].words.count))
        let oodSentences = Array(splits.test.prefix(20)) + planted + Array(splits.test.dropFirst(20))
        let ood = dir.appendingPathComponent("ood")
        try FileManager.default.createDirectory(at: ood.appendingPathComponent(language), withIntermediateDirectories: true)
        try CoNLL.write(oodSentences, to: ood.appendingPathComponent("\(language)/test.txt"))
        // An independent statement of the removal: sentences equal word for word (after NFC) to a train or dev one.
        let seen = Set((splits.train + splits.dev).map { $0.words.map(\.precomposedStringWithCanonicalMapping) })
        let expectedKept = oodSentences.filter { !seen.contains($0.words.map(\.precomposedStringWithCanonicalMapping)) }

        let (finetune, pre, ft, quantized) = try Self.tinyGrid(dir, data: ", ood: \(ood.path)",
                                                               evaluation: "evaluation: {typo_rates: [0.1, 0.5], perturbation_seed: 4}")

        for (name, m) in [("finetune", ft.metrics), ("quantize", quantized.metrics)] {
            func number(_ key: String) -> Double { m[key]?.doubleValue ?? .nan }
            let clean = number("test.f1")
            if name == "finetune" { #expect(clean > 0, "the tiny model must find entities for the checks below to mean something") }
            for p in ["diacritics", "typos@0.1", "typos@0.5"] {
                let f1 = number("robust.\(p).f1"), changed = number("robust.\(p).changed_words")
                #expect((0...1).contains(f1) && (0...1).contains(changed), "\(name) \(p): F1 \(f1), changed \(changed)")
                if clean > 0 { #expect(abs(number("robust.\(p).ratio") - f1 / clean) < 1e-12, "\(name) \(p)") }
                if changed == 0 { #expect(f1 == clean, "\(name) \(p): unchanged text scores as clean") }
            }
            #expect(m["robust.typos@0.05.f1"] == nil, "only the job's rates")
            // Half the eligible words hit at 0.5, a tenth at 0.1.
            #expect(number("robust.typos@0.5.changed_words") > 2 * number("robust.typos@0.1.changed_words"))
            #expect(m["ood.removed"] == .int(oodSentences.count - expectedKept.count) && m["ood.sentences"] == .int(expectedKept.count))
            #expect(oodSentences.count - expectedKept.count >= 8, "the planted copies are removed")
            #expect(abs(number("ood.gap") - (clean - number("ood.f1"))) < 1e-12)
            #expect((0...1).contains(number("ood.f1")) && number("robust.seconds") >= 0 && number("robust.prepare_seconds") >= 0)
        }
        // Both models read the same perturbed text.
        for p in ["diacritics", "typos@0.1", "typos@0.5"] {
            #expect(ft.metrics["robust.\(p).changed_words"] == quantized.metrics["robust.\(p).changed_words"])
        }
        // The OOD F1 is the fine-tuned model's F1 on exactly the kept sentences (scored here on the training model's
        // own forward pass, as the pipeline does).
        let folder = ft.checkpoint
        let model = try XLMRModel.load(folder)
        let tokenizer = try XLMRTokenizer(contentsOf: folder.appendingPathComponent("sentencepiece.bpe.model").path)
        let evaluator = NEREvaluator(tokenizer: tokenizer, labels: .masakhaNER, maxLength: 32, batchSize: 32)
        let reference = try evaluator.score(model, expectedKept)
        #expect(abs(reference.f1 - (ft.metrics["ood.f1"]?.doubleValue ?? -1)) < 1e-12)

        // The OOD file gone at run time (the plan checked it earlier): the task fails for good, naming the file.
        try FileManager.default.removeItem(at: ood.appendingPathComponent("\(language)/test.txt"))
        do {
            _ = try TaskRunner(root: dir).run(finetune, inputs: [pre])
            Issue.record("a missing OOD test file must fail the task")
        } catch let error as PermanentTaskError {
            #expect(error.description.contains("\(language)/test.txt"), "\(error)")
        }
    }

    @Test func changedSentencesOnlyEqualsScoringTheWholePerturbedSet() throws {
        let dir = try Fixtures.temporaryDirectory("robust-exact")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (_, _, ft, quantized) = try Self.tinyGrid(dir, data: "", evaluation: "")
        let model = try XLMRModel.load(ft.checkpoint)
        let tokenizer = try XLMRTokenizer(contentsOf: ft.checkpoint.appendingPathComponent("sentencepiece.bpe.model").path)
        let evaluator = NEREvaluator(tokenizer: tokenizer, labels: .masakhaNER, maxLength: 32, batchSize: 32)
        let test = try Corpora.ner(PipelineData.synthetic(sentences: 400), language: "syn-ton").test
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

    /// Pretrains, fine-tunes and dynamically quantizes a tiny model on syn-ton in `dir` (`data` is appended to the
    /// job's data section, `evaluation` is its evaluation line); returns the fine-tune task and the three outcomes.
    static func tinyGrid(_ dir: URL, data: String, evaluation: String) throws
        -> (finetune: PlannedTask, pretrained: PipelineOutcome, finetuned: PipelineOutcome, quantized: PipelineOutcome) {
        let yaml = """
            name: tiny
            data: {source: synthetic, synthetic_sentences: 400\(data)}
            model: {layers: 1, hidden: 64, heads: 2, ffn: 128, max_length: 32, vocab: 400}
            pretrain: {steps: 20, batch: 8, learning_rate: 1.0e-3}
            finetune: {epochs: 6, batch: 8, learning_rate: 5.0e-3}
            \(evaluation)
            seeds: [7]
            languages: [syn-ton]
            compression:
              - quantize: {scheme: dynamic}
            """
        let graph = try JobSpec.parse(yaml: yaml, file: "tiny.yaml").plan()
        let runner = TaskRunner(root: dir)
        let pre = try runner.run(try #require(graph.tasks.first { $0.spec.kind == .pretrain }), inputs: [])
        let finetune = try #require(graph.tasks.first { $0.spec.kind == .finetune })
        let ft = try runner.run(finetune, inputs: [pre])
        let quantized = try runner.run(try #require(graph.tasks.first { $0.spec.kind == .compress }), inputs: [ft])
        return (finetune, pre, ft, quantized)
    }
}
