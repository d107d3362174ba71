// The engine executor: a tiny pretrain → finetune → prune grid runs end to end on the synthetic corpus through the
// pipelines, producing checkpoints that load and metrics that agree with a fresh evaluation.
import Evaluation
import Experiment
import Foundation
import Pipelines
import Testing
import TestSupport
import TextData
import Transformer
@testable import Worker

@Suite struct EngineExecutorTests {
    @Test func tinyPipelineRunsEndToEnd() throws {
        let dir = try Fixtures.temporaryDirectory("pipeline")
        defer { try? FileManager.default.removeItem(at: dir) }
        var job = TinyJob(compression: ["prune: {sparsity: 0.5, when: after}"])
        (job.layers, job.pretrainSteps, job.epochs) = (1, 20, 2)
        let yaml = job.yaml
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
        let splits = try Corpora.ner(try PipelineData.source(try TaskSettings(finetune.spec).data, needsText: false), language: "syn-ton")
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
        // The fine-tuned task's test predictions travel as an artifact, reach the compress task and give it loyalty.
        #expect(ft.artifacts["predictions.safetensors"] != nil)
        #expect((0...1).contains(pruned.metrics["loyalty.label"]?.doubleValue ?? -1))
        #expect(try XLMRModel.load(try #require(pruned.artifacts["config.json"]).deletingLastPathComponent()).config.id2label?["1"] == "B-PER")
    }
}
