// The distill compress task end to end on the synthetic corpus: pretrain → finetune (2-layer teacher) → distill
// to 1 layer; the student checkpoint loads with the teacher's labels and re-evaluates to the reported test F1;
// the record carries the distill keys; and a teacher with another label set is a clear error.
import Evaluation
import Experiment
import Foundation
@testable import Pipelines
import Testing
import TestSupport
import TextData
import Transformer

@Suite struct DistillTaskTests {
    @Test func distillTaskRunsEndToEnd() throws {
        let dir = try Fixtures.temporaryDirectory("distill-task")
        defer { try? FileManager.default.removeItem(at: dir) }
        var tiny = TinyJob(compression: [#"distill: {layers: 1, map: "0", epochs: 2, hidden_mse: true, cache_teacher: true}"#])
        (tiny.name, tiny.pretrainSteps, tiny.epochs) = ("tiny-distill", 20, 2)
        let yaml = tiny.yaml
        let graph = try JobSpec.parse(yaml: yaml, file: "tiny.yaml").plan()
        let pretrain = try #require(graph.tasks.first { $0.spec.kind == .pretrain })
        let finetune = try #require(graph.tasks.first { $0.spec.kind == .finetune })
        let compress = try #require(graph.tasks.first { $0.spec.kind == .compress })
        #expect(compress.spec.inputs == [finetune.id], "the teacher is the fine-tuned checkpoint")
        let runner = TaskRunner(root: dir)
        let pre = try runner.run(pretrain, inputs: [])
        let ft = try runner.run(finetune, inputs: [pre])
        let out = try runner.run(compress, inputs: [ft])

        #expect(out.metrics["distill.teacher_layers"]?.intValue == 2)
        #expect(out.metrics["distill.student_layers"]?.intValue == 1)
        #expect(out.metrics["distill.layer_map"]?.stringValue == "0")
        #expect(out.metrics["distill.teacher_test_f1"]?.doubleValue == ft.metrics["test.f1"]?.doubleValue,
                "the teacher re-evaluated in the distill task scores what its own record says")
        #expect((out.metrics["params"]?.intValue ?? .max) < (ft.metrics["params"]?.intValue ?? 0))
        #expect(out.metrics["distill.final_hidden_mse"] != nil && out.metrics["bytes"] != nil)
        let testF1 = try #require(out.metrics["test.f1"]?.doubleValue)

        // The student is a normal checkpoint: it loads with the label names and re-evaluates to the reported F1.
        let folder = try #require(out.files["config.json"]).deletingLastPathComponent()
        let student = try XLMRModel.load(folder)
        #expect(student.config.numHiddenLayers == 1 && student.config.id2label?["1"] == "B-PER")
        let tokenizer = try XLMRTokenizer(contentsOf: folder.appendingPathComponent("sentencepiece.bpe.model").path)
        let splits = try Corpora.ner(try PipelineData.source(try TaskSettings(compress.spec).data, needsText: false), language: "syn-ton")
        let windows = try tokenizer.align(splits.test, labels: .masakhaNER, maxLength: 32)
        let again = try NEREvaluator(tokenizer: tokenizer, labels: .masakhaNER, maxLength: 32, batchSize: 5)
            .score(student, splits.test, windows: windows)
        #expect(abs(again.f1 - testF1) < 1e-12)

        // A student from its own pretraining (path b) must share the teacher's tokenizer.
        let other = dir.appendingPathComponent("other-tokenizer")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        for name in ["config.json", "model.safetensors"] {
            try FileManager.default.copyItem(at: try #require(pre.files[name]), to: other.appendingPathComponent(name))
        }
        try Data("not the teacher's tokenizer".utf8).write(to: other.appendingPathComponent("sentencepiece.bpe.model"))
        func run(_ log: String) -> PipelineRun {
            PipelineRun(compute: ComputeContext(threads: 1), log: FileLog(url: dir.appendingPathComponent(log)), work: dir) { _, _ in }
        }
        let defaults = try DistillSettings(section: ["layers": .int(1)])
        let fromOther = Pipelines.DistillInputs(distill: defaults, finetune: try FinetuneSettings.defaults, maxLength: 64, seed: 0,
                                                teacher: try #require(ft.files["config.json"]).deletingLastPathComponent(), student: other)
        #expect {
            try Pipelines.distill(fromOther, data: splits, out: dir.appendingPathComponent("never"), run: run("y.log"))
        } throws: { "\($0)".contains("both must use the same tokenizer") }

        // A teacher whose labels are not the data's is refused, naming both label sets.
        let wrong = dir.appendingPathComponent("wrong-teacher")
        try FileManager.default.createDirectory(at: wrong, withIntermediateDirectories: true)
        let teacher = try XLMRModel.load(try #require(ft.files["config.json"]).deletingLastPathComponent(), head: .tokenClassification(labels: 5))
        try teacher.save(wrong)
        try FileManager.default.copyItem(at: folder.appendingPathComponent("sentencepiece.bpe.model"), to: wrong.appendingPathComponent("sentencepiece.bpe.model"))
        var job = Pipelines.DistillInputs(distill: defaults, finetune: try FinetuneSettings.defaults, maxLength: 64, seed: 0, teacher: wrong)
        job.distill.epochs = 1
        #expect {
            try Pipelines.distill(job, data: splits, out: dir.appendingPathComponent("never"), run: run("x.log"))
        } throws: { "\($0)".contains("differ from the data's") && "\($0)".contains("(5)") }
    }

    /// A narrower student from the grid: its own MLM pretraining on the teacher's tokenizer, then distillation.
    @Test func narrowerStudentFromItsOwnPretraining() throws {
        let dir = try Fixtures.temporaryDirectory("distill-narrow")
        defer { try? FileManager.default.removeItem(at: dir) }
        var job = TinyJob(compression: ["distill: {layers: 1, hidden: 16, heads: 2, ffn: 32, epochs: 1}"])
        (job.name, job.seed, job.language) = ("tiny-narrow", 3, "syn-iso")
        let yaml = job.yaml
        let graph = try JobSpec.parse(yaml: yaml, file: "narrow.yaml").plan()
        let pretrains = graph.tasks.filter { $0.spec.kind == .pretrain }
        let teacherPre = try #require(pretrains.first { $0.spec.inputs.isEmpty })
        let studentPre = try #require(pretrains.first { !$0.spec.inputs.isEmpty })
        let finetune = try #require(graph.tasks.first { $0.spec.kind == .finetune })
        let compress = try #require(graph.tasks.first { $0.spec.kind == .compress })
        #expect(compress.spec.inputs == [finetune.id, studentPre.id])
        let runner = TaskRunner(root: dir)
        let pre = try runner.run(teacherPre, inputs: [])
        let ft = try runner.run(finetune, inputs: [pre])
        let student = try runner.run(studentPre, inputs: [pre])
        // Same tokenizer bytes as the teacher's; the student's own width.
        let tokenizer = "sentencepiece.bpe.model"
        #expect(try Data(contentsOf: try #require(student.files[tokenizer])) == Data(contentsOf: try #require(pre.files[tokenizer])))
        let studentModel = try XLMRModel.load(try #require(student.files["config.json"]).deletingLastPathComponent())
        #expect((studentModel.config.numHiddenLayers, studentModel.config.hiddenSize, studentModel.config.intermediateSize) == (1, 16, 32))

        let out = try runner.run(compress, inputs: [ft, student])
        #expect(out.metrics["distill.student_layers"]?.intValue == 1 && out.metrics["distill.student_hidden"]?.intValue == 16)
        #expect(out.metrics["distill.teacher_test_f1"]?.doubleValue == ft.metrics["test.f1"]?.doubleValue)
        #expect((out.metrics["params"]?.intValue ?? .max) < (ft.metrics["params"]?.intValue ?? 0))
        let distilled = try XLMRModel.load(try #require(out.files["config.json"]).deletingLastPathComponent())
        #expect(distilled.config.hiddenSize == 16 && distilled.config.id2label?["1"] == "B-PER")
    }
}
