// The quantize family of compress tasks on a tiny pipeline: every scheme writes a quantized checkpoint that
// loads back and re-scores to the reported test F1, with bytes, latency, throughput, calibration and loyalty in
// the record (QualityChecks); an already quantized parent is a clear error.
import Compression
import Evaluation
import Experiment
import Foundation
@testable import Pipelines
import Testing
import TestSupport
import TextData
import Transformer

@Suite struct CompressQuantizeTests {
    @Test func quantizeSettingsRunEvaluateAndLoadBack() throws {
        let dir = try Fixtures.temporaryDirectory("quantize-task")
        defer { try? FileManager.default.removeItem(at: dir) }
        var job = TinyJob(compression: ["quantize: {scheme: [dynamic, llm-int8, static, int4], embeddings: true}"])
        job.layers = 1
        let yaml = job.yaml
        let graph = try JobSpec.parse(yaml: yaml, file: "tiny.yaml").plan()
        let runner = TaskRunner(root: dir)
        let pretrain = try #require(graph.tasks.first { $0.spec.kind == .pretrain })
        let finetune = try #require(graph.tasks.first { $0.spec.kind == .finetune })
        let pre = try runner.run(pretrain, inputs: [])
        let ft = try runner.run(finetune, inputs: [pre])
        let compressTasks = graph.tasks.filter { $0.spec.kind == .compress }
        let splits = try Corpora.ner(try PipelineData.source(try TaskSettings(finetune.spec).data, needsText: false), language: "syn-ton")
        #expect(compressTasks.count == 4)
        var schemes: Set<String> = []
        for task in compressTasks {
            let out = try runner.run(task, inputs: [ft])
            let scheme = try #require(out.metrics["quantize.scheme"]?.stringValue)
            try QualityChecks.records(dense: ft, variant: out, testWords: splits.test.reduce(0) { $0 + $1.words.count })
            schemes.insert(scheme)
            for key in ["test.f1", "dev.f1", "bytes", "params", "latency.b1.p50_ms", "latency.b1.p95_ms", "throughput.b32"] {
                #expect(out.metrics[key] != nil, "\(scheme): missing metric \(key)")
            }
            #expect((out.metrics["bytes"]?.intValue ?? .max) < (out.metrics["bytes.parent"]?.intValue ?? 0), "\(scheme): not smaller on disk")
            // The artifact is a quantized checkpoint: it loads, re-scores to the reported F1, and is not fp32.
            let folder = try #require(out.files["config.json"]).deletingLastPathComponent()
            let model = try QuantizedModel.load(folder)
            #expect(throws: ModelError.self) { try XLMRModel.load(folder) }
            let tokenizer = try XLMRTokenizer(contentsOf: folder.appendingPathComponent("sentencepiece.bpe.model").path)
            let again = try NEREvaluator(tokenizer: tokenizer, labels: .masakhaNER, maxLength: 32, batchSize: 32).score(model, splits.test)
            #expect(abs(again.f1 - (out.metrics["test.f1"]?.doubleValue ?? -1)) < 1e-12, "\(scheme)")

            // Quantizing that checkpoint again is refused with a clear error (given the dense predictions it needs).
            try FileManager.default.copyItem(at: try #require(ft.files[DensePredictions.file]),
                                             to: folder.appendingPathComponent(DensePredictions.file))
            #expect {
                try runner.run(task, inputs: [out])
            } throws: { $0 is PermanentTaskError && "\($0)".contains("already quantized") }
        }
        #expect(schemes == ["dynamic", "llm-int8", "static", "int4"])
        try QualityChecks.denseArtifact(ft, compress: compressTasks[0], test: splits.test, runner: runner, dir: dir)
    }
}
