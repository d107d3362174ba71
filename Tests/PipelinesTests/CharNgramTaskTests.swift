// `model.char_ngrams` end to end on the synthetic corpus: pretrain, fine-tune and four compression settings
// (static int8, int8 with int8 embeddings, a distilled student, pruning before fine-tuning) run with the n-gram
// table, twice with the same records and weights; every checkpoint carries the table; fine-tuning trains it and it
// reaches the logits; the stored test F1 is what the evaluator, which feeds the n-grams, scores again; `smaller
// logits` reads the n-grams back from the tokenizer's pieces.
import Evaluation
import Experiment
import Foundation
@testable import Pipelines
import Testing
import TestSupport
import TextData
import Transformer

@Suite struct CharNgramTaskTests {
    static let buckets = 512
    static let yaml = """
        name: tiny-ngrams
        data: {source: synthetic, synthetic_sentences: 200}
        model: {layers: 2, hidden: 32, heads: 2, ffn: 64, max_length: 32, vocab: 400, word_shape: true, char_ngrams: \(buckets)}
        pretrain: {steps: 10, batch: 8, learning_rate: 1.0e-3}
        finetune: {epochs: 2, batch: 8, learning_rate: 5.0e-3, mention_replacement: 0.5}
        evaluation: {typo_rates: [0.1], decode: bio}
        seeds: [3]
        languages: [syn-ton]
        compression:
          - quantize: {scheme: static}
          - quantize: {scheme: dynamic, embeddings: true}
          - distill: {layers: 1, map: "1", epochs: 1}
          - prune: {sparsity: 0.5, when: before}
        """

    @Test func anNgramGridRunsDeterministicallyAndFeedsTheNgrams() throws {
        let dir = try Fixtures.temporaryDirectory("char-ngram-grid")
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = try WordShapeTaskTests.runGrid(dir.appendingPathComponent("a"), yaml: Self.yaml)
        let b = try WordShapeTaskTests.runGrid(dir.appendingPathComponent("b"), yaml: Self.yaml)
        #expect(a.count == 6 && Set(a.keys) == Set(b.keys))
        for (id, outcome) in a {
            let twin = try #require(b[id])
            #expect(try WordShapeTaskTests.weights(outcome) == WordShapeTaskTests.weights(twin), "\(id): the same weights")
            for key in ["test.f1", "dev.f1", "robust.typos@0.1.f1"] {
                #expect(outcome.metrics[key] == twin.metrics[key], "\(id): \(key)")
            }
            if outcome.metrics["test.f1"] != nil { #expect(outcome.metrics["robust.typos@0.1.f1"] != nil, "\(id): typos scored") }
            #expect(try XLMRModel.loadConfig(outcome.checkpoint).charNgramBuckets == Self.buckets, "\(id)")
        }
        let graph = try JobSpec.parse(yaml: Self.yaml, file: "tiny.yaml").plan()
        let pretrainTask = try #require(graph.tasks.first { $0.spec.kind == .pretrain })
        let finetuneTask = try #require(graph.tasks.first { $0.spec.kind == .finetune })
        let pretrain = try #require(a[pretrainTask.id]).checkpoint
        let folder = try #require(a[finetuneTask.id]).checkpoint
        let model = try XLMRModel.load(folder)
        let table = try #require(model.parameter("roberta.embeddings.char_ngram_embeddings.weight"))
        #expect(table.shape == [Self.buckets, 32])
        let pretrained = try XLMRModel.load(pretrain)
        let before = try #require(pretrained.parameter("roberta.embeddings.char_ngram_embeddings.weight"))
        #expect(table.array != before.array, "fine-tuning trains the table")

        let tokenizer = try XLMRTokenizer(contentsOf: folder.appendingPathComponent(CheckpointFiles.tokenizerFile).path)
        let test = try Corpora.ner(PipelineData.synthetic(sentences: 200), language: "syn-ton").test
        let windows = try tokenizer.align(test, labels: .masakhaNER, maxLength: 32)
        let finetuneID = finetuneTask.id
        let again = try NEREvaluator(tokenizer: tokenizer, labels: .masakhaNER, maxLength: 32, batchSize: 8, decoding: .bio)
            .score(model, test, windows: windows)
        #expect(abs((a[finetuneID]?.metrics["test.f1"]?.doubleValue ?? -1) - again.f1) < 1e-12, "the record's F1 is the evaluator's, with n-grams")

        // The n-grams reach the model: the same batch with every token's n-grams dropped gives other logits.
        let batch = Batcher.batches(windows, batchSize: 8, seed: nil)[0].tokenBatch(for: model)
        #expect(batch.ngramSlots == CharNgrams.perToken && batch.charNgrams!.contains { $0 >= 0 })
        var none = batch
        none.charNgrams = batch.charNgrams!.map { _ in -1 }
        #expect(try model.logits(batch) != model.logits(none))
        #expect { _ = try model.logits(Batcher.batches(windows, batchSize: 8, seed: nil)[0].tokenBatch(wordShapes: true)) }
            throws: { "\($0)".contains("smaller_char_ngram_buckets") }
    }

    /// `finetune.singleton_unk` reaches fine-tuning: the same job with it set trains other weights, the same ones twice.
    @Test func singletonUnkChangesTheFineTuneDeterministically() throws {
        let dir = try Fixtures.temporaryDirectory("singleton-unk")
        defer { try? FileManager.default.removeItem(at: dir) }
        func finetuneWeights(_ extra: String, _ name: String) throws -> Data {
            let yaml = Self.yaml.replacingOccurrences(of: "mention_replacement: 0.5}", with: "mention_replacement: 0.5\(extra)}")
                .components(separatedBy: "compression:")[0]
            let graph = try JobSpec.parse(yaml: yaml, file: "tiny.yaml").plan()
            let done = try WordShapeTaskTests.runGrid(dir.appendingPathComponent(name), yaml: yaml)
            let finetune = try #require(graph.tasks.first { $0.spec.kind == .finetune })
            return try WordShapeTaskTests.weights(try #require(done[finetune.id]))
        }
        let plain = try finetuneWeights("", "plain")
        let unk = try finetuneWeights(", singleton_unk: 0.5", "unk"), again = try finetuneWeights(", singleton_unk: 0.5", "again")
        #expect(unk == again)
        #expect(unk != plain)
    }

    /// `model.dropout` is the created model's hidden and attention dropout, which its fine-tunes read from its config.
    @Test func modelDropoutReachesTheCheckpoint() throws {
        let dir = try Fixtures.temporaryDirectory("model-dropout")
        defer { try? FileManager.default.removeItem(at: dir) }
        let yaml = Self.yaml.replacingOccurrences(of: "char_ngrams: \(Self.buckets)}", with: "char_ngrams: \(Self.buckets), dropout: 0.3}")
            .components(separatedBy: "compression:")[0]
        let done = try WordShapeTaskTests.runGrid(dir, yaml: yaml)
        #expect(done.count == 2)
        for outcome in done.values {
            let config = try XLMRModel.loadConfig(outcome.checkpoint)
            #expect(config.hiddenDropoutProb == 0.3 && config.attentionProbsDropoutProb == 0.3)
        }
    }

    @Test func smallerLogitsReadsTheNgramsFromTheTokenizer() throws {
        let dir = try Fixtures.temporaryDirectory("char-ngram-logits")
        defer { try? FileManager.default.removeItem(at: dir) }
        let graph = try JobSpec.parse(yaml: Self.yaml, file: "tiny.yaml").plan()
        let pretrainTask = try #require(graph.tasks.first { $0.spec.kind == .pretrain })
        let pre = try TaskRunner(root: dir).run(pretrainTask, inputs: [])
        let tokenizer = try XLMRTokenizer(contentsOf: pre.checkpoint.appendingPathComponent(CheckpointFiles.tokenizerFile).path)
        let words = try WordShapeTaskTests.knownWords(tokenizer)
        #expect(words.count >= 5)
        let ids = try tokenizer.encode(words.joined(separator: " "))
        let logits = try Pipelines.logits(pre.checkpoint, rows: [ids.map(Int32.init)], compute: ComputeContext(threads: 1))
        let window = try tokenizer.align([NERSentence(words: words, tags: words.map { _ in "O" })], labels: nil, maxLength: 32)[0]
        #expect(window.inputIds == ids)
        #expect(tokenizer.charNgrams(ofIds: ids) == window.charNgrams)
        let batch = Batcher.batches([window], batchSize: 1, seed: nil)[0]
        let model = try XLMRModel.load(pre.checkpoint)
        #expect(logits[0].flatMap { $0 } == (try model.logits(batch.tokenBatch(for: model))), "the logits differ")
    }
}
