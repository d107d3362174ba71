// The engine executor: NER evaluation reads predictions back to the right words (an oracle scores F1 = 1, a
// model that predicts O everywhere scores 0), and a tiny pretrain → finetune pipeline runs end to end on the
// synthetic corpus, producing checkpoints that load and metrics that agree with a fresh evaluation.
import Experiment
import Foundation
import Testing
import TestSupport
import TextData
import Transformer
@testable import Worker

/// Returns, at every position, a one-hot logit on the gold label of the window with those ids.
final class OracleModel: TokenLogitsModel {
    let outputCount: Int
    let padId: Int32 = 1
    let gold: [[Int32]: [Int]]
    /// When set, every position predicts this label instead.
    var constant: Int?

    init(windows: [AlignedWindow], labels: Int) {
        outputCount = labels
        gold = Dictionary(windows.map { ($0.inputIds.map(Int32.init), $0.labels) }, uniquingKeysWith: { a, _ in a })
    }

    func logits(_ batch: TokenBatch) throws -> [Float] {
        let (B, T, L) = (batch.batch, batch.tokens, outputCount)
        var out = [Float](repeating: 0, count: B * T * L)
        for b in 0..<B {
            let row = (0..<T).filter { batch.attentionMask[b * T + $0] != 0 }.map { batch.ids[b * T + $0] }
            let labels = gold[row] ?? []
            for t in 0..<T {
                let label = constant ?? (t < labels.count && labels[t] >= 0 ? labels[t] : 0)
                out[(b * T + t) * L + label] = 10
            }
        }
        return out
    }
}

@Suite struct EngineExecutorTests {
    static func tokenizer(_ dir: URL, text: [String]) throws -> XLMRTokenizer {
        let file = dir.appendingPathComponent("text.txt")
        try text.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        return try XLMRTokenizer.train(textFiles: [file], vocabularySize: 300, output: dir.appendingPathComponent("t.model"))
    }

    @Test func evaluatorReadsPredictionsBackToTheirWords() throws {
        let dir = try Fixtures.temporaryDirectory("evaluator")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (splits, text) = try Corpora.synthetic(language: "syn-agg", seed: 3, sizes: SyntheticSizes(text: 400, train: 10, dev: 120, test: 10))
        let tokenizer = try Self.tokenizer(dir, text: text)
        // Distinct word sequences only, so the oracle's lookup by ids is unambiguous; a short maxLength forces
        // several windows per sentence, so the read-back across windows is exercised too.
        var seen = Set<[String]>()
        let sentences = splits.dev.filter { seen.insert($0.words).inserted }
        let windows = try tokenizer.align(sentences, labels: .masakhaNER, maxLength: 12)
        #expect(windows.count > sentences.count, "some sentences must span several windows")
        let evaluator = NEREvaluator(tokenizer: tokenizer, labels: .masakhaNER, maxLength: 12, batchSize: 7)
        let oracle = OracleModel(windows: windows, labels: LabelSet.masakhaNER.count)

        let predicted = try evaluator.predict(oracle, sentences, windows: windows)
        #expect(predicted == sentences.map(\.tags))
        let perfect = try evaluator.score(oracle, sentences, windows: windows)
        #expect(perfect.f1 == 1 && perfect.gold > 50)

        oracle.constant = 0  // "O" everywhere
        let none = try evaluator.score(oracle, sentences, windows: windows)
        #expect(none.f1 == 0 && none.predicted == 0)
    }

    @Test func tinyPipelineRunsEndToEnd() throws {
        let dir = try Fixtures.temporaryDirectory("pipeline")
        defer { try? FileManager.default.removeItem(at: dir) }
        let yaml = """
            name: tiny
            data: {source: synthetic, synthetic_sentences: 200}
            model: {layers: 1, hidden: 32, heads: 2, ffn: 64, max_length: 32, vocab: 400}
            pretrain: {steps: 20, batch: 8, learning_rate: 1.0e-3}
            finetune: {epochs: 2, batch: 8, learning_rate: 1.0e-3}
            seeds: [7]
            languages: [syn-ton]
            compression:
              - prune: {sparsity: 0.5, when: after}
            """
        let graph = try JobSpec.parse(yaml: yaml, file: "tiny.yaml").plan()
        let pretrain = try #require(graph.tasks.first { $0.spec.kind == .pretrain })
        let finetune = try #require(graph.tasks.first { $0.spec.kind == .finetune })
        let executor = EngineExecutor()

        func request(_ task: PlannedTask, inputs: [String: [String: URL]]) -> ExecutionRequest {
            engineRequest(task, inputs: inputs, root: dir)
        }
        let pre = try executor.execute(request(pretrain, inputs: [:])) { _, _ in }
        #expect(Set(pre.artifacts.keys) == ["config.json", "model.safetensors", "sentencepiece.bpe.model"])
        let first = try #require(pre.metrics["pretrain.first_loss"]?.doubleValue)
        #expect(first > 0 && first.isFinite)

        let ft = try executor.execute(request(finetune, inputs: [pretrain.id: pre.artifacts])) { _, _ in }
        for key in ["dev.f1", "test.f1", "test.precision", "test.recall", "train.f1", "params"] {
            #expect(ft.metrics[key] != nil, "missing metric \(key)")
        }
        let testF1 = try #require(ft.metrics["test.f1"]?.doubleValue)
        #expect(testF1 >= 0 && testF1 <= 1)

        // The fine-tuned checkpoint loads with its label names, and re-evaluating it gives the reported test F1.
        let folder = try #require(ft.artifacts["config.json"]).deletingLastPathComponent()
        let model = try XLMRModel.load(folder)
        #expect(model.config.id2label?["1"] == "B-PER")
        let tokenizer = try XLMRTokenizer(contentsOf: folder.appendingPathComponent("sentencepiece.bpe.model").path)
        let splits = try Corpora.ner(try TaskData.source(try EngineSettings(finetune.spec), needsText: false), language: "syn-ton")
        let windows = try tokenizer.align(splits.test, labels: .masakhaNER, maxLength: 32)
        let again = try NEREvaluator(tokenizer: tokenizer, labels: .masakhaNER, maxLength: 32, batchSize: 5)
            .score(model, splits.test, windows: windows)
        #expect(abs(again.f1 - testF1) < 1e-12)

        // Pruning after fine-tuning: half the encoder's linear weights are zero, exactly, and it is evaluated too.
        let compress = try #require(graph.tasks.first { $0.spec.kind == .compress })
        let pruned = try executor.execute(request(compress, inputs: [finetune.id: ft.artifacts])) { _, _ in }
        let prunable = try #require(pruned.metrics["prunable"]?.intValue)
        #expect(pruned.metrics["sparsity"]?.doubleValue == Double((Double(prunable) * 0.5).rounded()) / Double(prunable))
        #expect((pruned.metrics["nonzeros"]?.intValue ?? .max) < (pruned.metrics["params"]?.intValue ?? 0))
        #expect(pruned.metrics["test.f1"] != nil)
        #expect(try XLMRModel.load(try #require(pruned.artifacts["config.json"]).deletingLastPathComponent()).config.id2label?["1"] == "B-PER")
    }
}
