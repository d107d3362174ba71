// Every prune setting through the pipelines on a tiny synthetic pipeline: before/after, unstructured
// (one-shot with the mask kept through further fine-tuning, and gradual), heads and neurons (smaller models);
// the records carry structure, params, non-zeros and bytes, checkpoints load, and bad combinations fail clearly.
import Compression
import Experiment
import Foundation
import Pipelines
import Testing
import TestSupport
import TextData
import Transformer

@Suite struct PruneTaskTests {
    @Test func everyPruneSettingRuns() throws {
        let dir = try Fixtures.temporaryDirectory("prune-tasks")
        defer { try? FileManager.default.removeItem(at: dir) }
        var job = TinyJob(compression: [
            "prune: {sparsity: 0.5, when: after, finetune_epochs: 1}",
            "prune: {sparsity: 0.8, when: before, schedule: gradual}",
            "prune: {sparsity: 0.5, structure: heads, scope: layer}",
            "prune: {sparsity: 0.5, structure: neurons, when: before}",
            "prune: {sparsity: 0.5, when: after, schedule: gradual}",
            "prune: {sparsity: 0.5, embeddings: true, classifier: true}",
        ])
        (job.name, job.sentences, job.heads, job.seed) = ("tiny-prune", 120, 4, 3)
        let yaml = job.yaml
        let graph = try JobSpec.parse(yaml: yaml, file: "tiny.yaml").plan()
        let runner = TaskRunner(root: dir)
        var outputs: [String: PipelineOutcome] = [:]
        func run(_ task: PlannedTask) throws -> PipelineOutcome {
            try runner.run(task, inputs: task.spec.inputs.map { outputs[$0]! })
        }
        var results: [String: PipelineOutcome] = [:]
        for task in graph.tasks {
            if task.spec.kind == .compress, let label = task.spec.setting?.label, label.contains("schedule=gradual"), !label.contains("before") {
                #expect { _ = try run(task) } throws: { "\($0)".contains("finetune_epochs > 0") }
                continue
            }
            let out = try run(task)
            outputs[task.id] = out
            if let label = task.spec.setting?.label { results[label] = out }
        }
        #expect(results.count == 5)
        let dense = try #require(graph.tasks.first { $0.spec.kind == .finetune }.flatMap { outputs[$0.id] })
        let denseParams = try #require(dense.metrics["params"]?.intValue)
        for (label, out) in results {
            let m = out.metrics
            let params = try #require(m["params"]?.intValue), nonzeros = try #require(m["nonzeros"]?.intValue)
            let model = try XLMRModel.load(try #require(out.files["config.json"]).deletingLastPathComponent())
            #expect(model.layout.parameterCount == params, "\(label)")
            #expect(model.config.id2label?["1"] == "B-PER", "\(label)")
            #expect(m["test.f1"] != nil && (m["bytes"]?.intValue ?? 0) > 0, "\(label)")
            switch m["structure"]?.stringValue {
            case "unstructured":
                #expect(params == denseParams && nonzeros < params, "\(label)")
                // Fine-tuning kept the pruned weights at zero: the exact target sparsity survives.
                let target = label.contains("0.8") ? 0.8 : 0.5
                let prunable = try #require(m["prunable"]?.intValue)
                #expect(m["sparsity"]?.doubleValue == Double((Double(prunable) * target).rounded()) / Double(prunable), "\(label)")
                #expect((m["bytes"]?.intValue ?? .max) < (m["bytes.dense"]?.intValue ?? 0), "\(label)")
                let compact = try SparseCheckpoint.load(try #require(out.files[SparseCheckpoint.weightsFile]).deletingLastPathComponent())
                #expect(compact.parameters.array == model.parameters.array, "\(label): the compact copy is the same model")
                // The embedding tables and the classifier are pruned only when the setting says so.
                let extra = ["roberta.embeddings.word_embeddings.weight", "classifier.weight"]
                let zeros = extra.map { name in model.parameter(name)!.array.filter { $0 == 0 }.count }
                if label.contains("embeddings=true") {
                    #expect(zeros.allSatisfy { $0 > 0 }, "\(label): \(zeros)")
                    #expect(prunable == MagnitudePruning.prunableTensors(of: model, embeddings: true, classifier: true)
                        .reduce(0) { $0 + model.parameter($1)!.count }, "\(label)")
                } else {
                    #expect(zeros.allSatisfy { $0 == 0 }, "\(label): \(zeros)")
                }
            case "heads":
                #expect(m["heads"]?.intValue == 4 && params < denseParams, "\(label): 2 of 4 heads left in each of 2 layers")
            case "neurons":
                #expect(m["neurons"]?.intValue == 64 && params < denseParams, "\(label): half of 2 × 64 neurons left")
            default: Issue.record("\(label): no structure metric")
            }
        }
    }
}
