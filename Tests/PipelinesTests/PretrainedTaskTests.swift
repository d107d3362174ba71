// A grid that starts from a transformers checkpoint (Tests/Reference/fixtures/checkpoint): the import task stands in
// for pretraining, every fine-tune and compress task runs from it with the checkpoint's own tokenizer, and the two
// weight formats of the same model give the same results to the last bit.
import Experiment
import Foundation
import Pipelines
import Testing
import TestSupport
import Transformer

@Suite struct PretrainedTaskTests {
    static let fixtures = Fixtures.referenceFixtures.appendingPathComponent("checkpoint")

    func runGrid(_ format: String, in dir: URL) throws -> [String: PipelineOutcome] {
        let yaml = """
            name: pretrained-\(format)
            pretrained: {checkpoint: \(Self.fixtures.appendingPathComponent(format).path)}
            data: {source: synthetic, synthetic_sentences: 120}
            model: {max_length: 32}
            finetune: {epochs: 1, batch: 8, learning_rate: 1.0e-3}
            seeds: [3]
            languages: [syn-ton]
            compression:
              - prune: {sparsity: 0.5, when: before}
              - quantize: {scheme: dynamic}
            """
        let graph = try JobSpec.parse(yaml: yaml, file: "p.yaml").plan()
        let runner = TaskRunner(root: dir.appendingPathComponent(format))
        var outputs: [String: PipelineOutcome] = [:], byTitle: [String: PipelineOutcome] = [:]
        for task in graph.tasks {
            let out = try runner.run(task, inputs: task.spec.inputs.map { outputs[$0]! })
            outputs[task.id] = out
            byTitle[task.spec.kind == .pretrain ? "import" : task.spec.setting?.label ?? "finetune"] = out
        }
        return byTitle
    }

    @Test func bothFormatsRunTheGridAndAgreeToTheBit() throws {
        let dir = try Fixtures.temporaryDirectory("pretrained-tasks")
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = try runGrid("safetensors", in: dir), b = try runGrid("pytorch", in: dir)
        #expect(a.keys.sorted() == ["finetune", "import", "prune sparsity=0.5 when=before", "quantize scheme=dynamic"])
        #expect(a["import"]?.metrics["pretrained.sha256"] != b["import"]?.metrics["pretrained.sha256"])
        // The fine-tuned model has the checkpoint's shape and tokenizer.
        let finetuned = try #require(a["finetune"]?.checkpoint)
        let config = try XLMRModel.loadConfig(finetuned)
        #expect(config.hiddenSize == 16 && config.numHiddenLayers == 2 && config.vocabSize == 122)
        #expect(try Data(contentsOf: finetuned.appendingPathComponent("sentencepiece.bpe.model"))
            == Data(contentsOf: Self.fixtures.appendingPathComponent("safetensors/sentencepiece.bpe.model")))
        for key in a.keys {
            for metric in ["dev.f1", "test.f1", "nonzeros"] where a[key]?.metrics[metric] != nil {
                #expect(a[key]?.metrics[metric] == b[key]?.metrics[metric], "\(key) \(metric)")
            }
        }
        #expect(a["finetune"]?.metrics["test.f1"] != nil)
    }

    @Test func aCheckpointChangedSincePlanningIsRefused() throws {
        let dir = try Fixtures.temporaryDirectory("pretrained-changed")
        defer { try? FileManager.default.removeItem(at: dir) }
        let copy = dir.appendingPathComponent("ckpt")
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("pytorch"), to: copy)
        let graph = try JobSpec.parse(yaml: "name: c\npretrained: {checkpoint: \(copy.path)}\nseeds: [1]\nlanguages: [syn-ton]\n").plan()
        try Data("{}".utf8).write(to: copy.appendingPathComponent("config.json"))
        let task = try #require(graph.tasks.first)
        #expect { _ = try TaskRunner(root: dir).run(task, inputs: []) } throws: { "\($0)".contains("changed since the job was planned") }
    }
}
