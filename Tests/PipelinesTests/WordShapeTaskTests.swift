// `model.word_shape` end to end on the synthetic corpus: pretrain, fine-tune (with mention replacement) and three
// compression settings run with the word shapes as token types, twice with the same records and weights; the
// checkpoints carry the marker and the type table; the types reach the model (other types, other logits) and the
// stored test F1 is what the evaluator, which feeds the types, scores again.
import Evaluation
import Experiment
import Foundation
@testable import Pipelines
import Testing
import TestSupport
import TextData
import Transformer

@Suite struct WordShapeTaskTests {
    static let yaml = """
        name: tiny-shapes
        data: {source: synthetic, synthetic_sentences: 200}
        model: {layers: 2, hidden: 32, heads: 2, ffn: 64, max_length: 32, vocab: 400, word_shape: true}
        pretrain: {steps: 10, batch: 8, learning_rate: 1.0e-3}
        finetune: {epochs: 2, batch: 8, learning_rate: 5.0e-3, mention_replacement: 0.5}
        evaluation: {typo_rates: [0.1]}
        seeds: [3]
        languages: [syn-ton]
        compression:
          - quantize: {scheme: static}
          - distill: {layers: 1, map: "1", epochs: 1, cache_teacher: true}
          - prune: {sparsity: 0.5, when: before}
        """

    /// Every task of the grid in dependency order, in `dir`.
    static func runGrid(_ dir: URL, yaml: String = yaml) throws -> [String: PipelineOutcome] {
        let graph = try JobSpec.parse(yaml: yaml, file: "tiny.yaml").plan()
        let runner = TaskRunner(root: dir)
        var done: [String: PipelineOutcome] = [:]
        for task in graph.tasks { done[task.id] = try runner.run(task, inputs: task.spec.inputs.map { done[$0]! }) }
        return done
    }

    static func weights(_ o: PipelineOutcome) throws -> Data {
        try Data(contentsOf: o.checkpoint.appendingPathComponent(XLMRModel.weightsFile))
    }

    @Test func aWordShapeGridRunsDeterministicallyAndFeedsTheTypes() throws {
        let dir = try Fixtures.temporaryDirectory("word-shape-grid")
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = try Self.runGrid(dir.appendingPathComponent("a")), b = try Self.runGrid(dir.appendingPathComponent("b"))
        #expect(a.count == 5 && Set(a.keys) == Set(b.keys))
        for (id, outcome) in a {
            let twin = try #require(b[id])
            #expect(try Self.weights(outcome) == Self.weights(twin), "\(id): the same weights")
            for key in ["test.f1", "dev.f1", "pretrain.final_loss", "finetune.final_loss"] {
                #expect(outcome.metrics[key] == twin.metrics[key], "\(id): \(key)")
            }
            // Every checkpoint of the grid (fp32 and quantized) says it takes word shapes.
            let config = try XLMRModel.loadConfig(outcome.checkpoint)
            #expect(config.wordShapeTypes && config.typeVocabSize == WordShape.count, "\(id)")
        }

        let graph = try JobSpec.parse(yaml: Self.yaml, file: "tiny.yaml").plan()
        let finetune = try #require(graph.tasks.first { $0.spec.kind == .finetune })
        let folder = try #require(a[finetune.id]).checkpoint
        let model = try XLMRModel.load(folder)
        let tokenizer = try XLMRTokenizer(contentsOf: folder.appendingPathComponent(CheckpointFiles.tokenizerFile).path)
        let test = try Corpora.ner(PipelineData.synthetic(sentences: 200), language: "syn-ton").test
        let windows = try tokenizer.align(test, labels: .masakhaNER, maxLength: 32)
        let again = try NEREvaluator(tokenizer: tokenizer, labels: .masakhaNER, maxLength: 32, batchSize: 8).score(model, test, windows: windows)
        #expect(abs((a[finetune.id]?.metrics["test.f1"]?.doubleValue ?? -1) - again.f1) < 1e-12, "the record's F1 is the evaluator's, with types")

        // The types reach the model: the same ids with every word called lower case give other logits.
        let batch = Batcher.batches(windows, batchSize: 8, seed: nil)[0].tokenBatch(wordShapes: true)
        var lowered = batch
        lowered.tokenTypes = batch.tokenTypes!.map { $0 == 0 ? 0 : Int32(WordShape.lower.rawValue) }
        #expect(batch.tokenTypes != lowered.tokenTypes, "the synthetic test sentences have capitalised words")
        #expect(try model.logits(batch) != model.logits(lowered))
        // And a batch without them is refused rather than read as type 0.
        #expect { _ = try model.logits(Batcher.batches(windows, batchSize: 8, seed: nil)[0].tokenBatch(wordShapes: false)) }
            throws: { "\($0)".contains("word_shape_types") }
    }

    @Test func aStudentWithoutShapesIsRefusedForATeacherWithThem() throws {
        let dir = try Fixtures.temporaryDirectory("word-shape-distill")
        defer { try? FileManager.default.removeItem(at: dir) }
        let graph = try JobSpec.parse(yaml: Self.yaml, file: "tiny.yaml").plan()
        let runner = TaskRunner(root: dir)
        let pre = try runner.run(try #require(graph.tasks.first { $0.spec.kind == .pretrain }), inputs: [])
        let ft = try runner.run(try #require(graph.tasks.first { $0.spec.kind == .finetune }), inputs: [pre])
        // A one-layer MLM student of the same shape and tokenizer, but with one token type.
        var c = try XLMRModel.loadConfig(ft.checkpoint)
        (c.numHiddenLayers, c.typeVocabSize, c.wordShapeTypes, c.id2label, c.architectures) = (1, 1, false, nil, nil)
        let student = try XLMRModel(config: c, head: .maskedLM)
        student.initializeWeights(seed: 1)
        let folder = dir.appendingPathComponent("plain-student")
        try student.save(folder)
        try FileManager.default.copyItem(at: ft.checkpoint.appendingPathComponent(CheckpointFiles.tokenizerFile),
                                          to: folder.appendingPathComponent(CheckpointFiles.tokenizerFile))
        let inputs = Pipelines.DistillInputs(distill: try DistillSettings(section: ["layers": .int(1)]), finetune: try FinetuneSettings.defaults,
                                             maxLength: 32, seed: 0, teacher: ft.checkpoint, student: folder)
        let splits = try Corpora.ner(PipelineData.synthetic(sentences: 200), language: "syn-ton")
        let run = PipelineRun(compute: ComputeContext(threads: 1), log: FileLog(url: dir.appendingPathComponent("d.log")), work: dir) { _, _ in }
        #expect {
            try Pipelines.distill(inputs, data: splits, out: dir.appendingPathComponent("never"), run: run)
        } throws: { "\($0)".contains("word shapes (model.word_shape)") }
    }

    @Test func smallerLogitsReadsTheShapesFromTheTokenizer() throws {
        let dir = try Fixtures.temporaryDirectory("word-shape-logits")
        defer { try? FileManager.default.removeItem(at: dir) }
        let graph = try JobSpec.parse(yaml: Self.yaml, file: "tiny.yaml").plan()
        let pretrain = try #require(graph.tasks.first { $0.spec.kind == .pretrain })
        let pre = try TaskRunner(root: dir).run(pretrain, inputs: [])
        let tokenizer = try XLMRTokenizer(contentsOf: pre.checkpoint.appendingPathComponent(CheckpointFiles.tokenizerFile).path)
        let words = try Self.knownWords(tokenizer)
        #expect(words.contains { WordShape($0) == .capitalised } && words.contains { WordShape($0) == .lower })
        let ids = try tokenizer.encode(words.joined(separator: " "))
        let logits = try Pipelines.logits(pre.checkpoint, rows: [ids.map(Int32.init)], compute: ComputeContext(threads: 1))
        // The same as the model given the shapes alignment computes from the words themselves.
        let window = try tokenizer.align([NERSentence(words: words, tags: words.map { _ in "O" })], labels: nil, maxLength: 32)[0]
        #expect(window.inputIds == ids)
        let model = try XLMRModel.load(pre.checkpoint)
        let direct = try model.logits(TokenBatch(batch: 1, tokens: ids.count, ids: ids.map(Int32.init),
                                                 tokenTypes: window.tokenTypes.map(Int32.init)))
        #expect(tokenizer.wordShapes(ofIds: ids) == window.tokenTypes)
        #expect(logits[0].flatMap { $0 } == direct, "the logits differ")
    }

    /// Words of the synthetic test sentences the tokenizer knows whole (no <unk> piece, whose text is lost), at most
    /// 30 pieces of them in all.
    static func knownWords(_ tokenizer: XLMRTokenizer) throws -> [String] {
        let test = try Corpora.ner(PipelineData.synthetic(sentences: 200), language: "syn-ton").test
        let known = try test.prefix(20).flatMap(\.words).filter { try !tokenizer.pieceIds($0).contains(XLMRTokenizer.unkId) }
        var words: [String] = [], pieces = 0
        for word in known where pieces + (try tokenizer.pieceIds(word).count) <= 30 {
            words.append(word); pieces += try tokenizer.pieceIds(word).count
        }
        return words
    }
}
