// `pretrained: {checkpoint: DIR}`: one seedless import task replaces the pretraining, the checkpoint's content hash
// is in every dependent id, and a missing or unusable folder is a job-file error naming the key and line.
import Foundation
import Testing
import TestSupport
@testable import Experiment

@Suite struct PretrainedJobTests {
    static let fixtures = Fixtures.referenceFixtures.appendingPathComponent("checkpoint")

    static func yaml(_ checkpoint: String, maxLength: Int = 64) -> String {
        """
        name: p
        pretrained: {checkpoint: \(checkpoint)}
        model: {max_length: \(maxLength)}
        seeds: [1, 2]
        languages: [syn-iso, syn-ton]
        compression:
          - prune: {sparsity: 0.5, when: [before, after]}
          - quantize: {scheme: dynamic}
        """
    }

    @Test func oneImportTaskFeedsEveryFineTuneAndPruneBefore() throws {
        let job = try JobSpec.parse(yaml: Self.yaml(Self.fixtures.appendingPathComponent("safetensors").path))
        let graph = job.plan()
        let imports = graph.tasks.filter { $0.spec.kind == .pretrain }
        #expect(imports.count == 1)
        let importTask = try #require(imports.first)
        #expect(importTask.spec.seed == nil && importTask.spec.inputs.isEmpty)
        #expect(importTask.spec.params["pretrained"]?["sha256"]?.stringValue?.count == 64)
        #expect(importTask.spec.title.contains("from "))
        #expect(graph.count(of: .finetune) == 4 && graph.count(of: .compress) == 12)
        for task in graph.tasks where task.spec.kind == .finetune {
            #expect(task.spec.inputs == [importTask.id])
        }
        for task in graph.tasks where task.spec.setting?.label.contains("before") == true {
            #expect(task.spec.inputs == [importTask.id])
        }
        let settings = try TaskSettings(importTask.spec)
        #expect(settings.pretrained?.sha256 == importTask.spec.params["pretrained"]?["sha256"]?.stringValue)
    }

    @Test func theContentHashIsInTheIdsAndStable() throws {
        let dir = try Fixtures.temporaryDirectory("pretrained-hash")
        defer { try? FileManager.default.removeItem(at: dir) }
        let copy = dir.appendingPathComponent("ckpt")
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("safetensors"), to: copy)
        let first = try JobSpec.parse(yaml: Self.yaml(copy.path)).plan().tasks.map(\.id)
        #expect(try JobSpec.parse(yaml: Self.yaml(copy.path)).plan().tasks.map(\.id) == first)
        // One byte of the tokenizer changed: every task's id changes.
        let tokenizer = copy.appendingPathComponent("sentencepiece.bpe.model")
        var bytes = try Data(contentsOf: tokenizer)
        bytes[bytes.count - 1] ^= 1
        try bytes.write(to: tokenizer)
        let changed = try JobSpec.parse(yaml: Self.yaml(copy.path)).plan().tasks.map(\.id)
        #expect(Set(changed).isDisjoint(with: first))
        // Without `pretrained` the job pretrains per seed, as before.
        let own = try JobSpec.parse(yaml: Self.yaml("x").replacingOccurrences(of: "pretrained: {checkpoint: x}\n", with: "")).plan()
        #expect(own.count(of: .pretrain) == 2)
    }

    @Test func unusableFoldersAreJobFileErrors() throws {
        let dir = try Fixtures.temporaryDirectory("pretrained-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        func refused(_ yaml: String, _ message: String) {
            #expect {
                _ = try JobSpec.parse(yaml: yaml, file: "p.yaml")
            } throws: { error in
                let text = "\(error)"
                return error is JobFileError && text.contains("p.yaml:2") && text.contains("pretrained") && text.contains(message)
            }
        }
        refused(Self.yaml(dir.appendingPathComponent("absent").path), "is not a folder")
        refused(Self.yaml(dir.path), "has no weights")
        let noTokenizer = dir.appendingPathComponent("no-tokenizer")
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("pytorch"), to: noTokenizer)
        try FileManager.default.removeItem(at: noTokenizer.appendingPathComponent("sentencepiece.bpe.model"))
        refused(Self.yaml(noTokenizer.path), "has no sentencepiece.bpe.model")
        refused(Self.yaml(Self.fixtures.appendingPathComponent("pytorch").path, maxLength: 100), "set model.max_length to at most 64")
        let badConfig = dir.appendingPathComponent("bad-config")
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("pytorch"), to: badConfig)
        try Data("{\"model_type\": \"bert\"}".utf8).write(to: badConfig.appendingPathComponent("config.json"))
        refused(Self.yaml(badConfig.path), "expected xlm-roberta")
        let safetensors = Self.fixtures.appendingPathComponent("safetensors").path
        refused(Self.yaml(safetensors).replacingOccurrences(of: "model: {max_length: 64}", with: "model: {max_length: 64, word_shape: true}"),
                "model.word_shape needs a model pretrained with word shapes")
        refused(Self.yaml(safetensors).replacingOccurrences(of: "model: {max_length: 64}", with: "model: {max_length: 64, char_ngrams: 512}"),
                "model.char_ngrams needs a model pretrained with a character n-gram table")
        #expect(throws: JobFileError.self) { _ = try JobSpec.parse(yaml: "name: n\nnoop: {tasks: 1}\npretrained: {checkpoint: x}\n") }
    }
}
