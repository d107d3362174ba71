// `smaller run` on a quickstart-like grid that starts from a transformers checkpoint (the fixture's pytorch_model.bin):
// one import task, every fine-tune and compress task done, each fine-tune reading it; and a folder that is not a
// checkpoint refused before anything starts, with exit 64.
import Experiment
import Foundation
import Testing
import TestSupport

@Suite(.serialized, .enabled(if: Smaller.available, Smaller.unavailable)) struct PretrainedGridTests {
    static let checkpoint = Fixtures.referenceFixtures.appendingPathComponent("checkpoint/pytorch")

    @Test func aGridFromAPretrainedCheckpointRunsToTheEnd() throws {
        let dir = try Fixtures.temporaryDirectory("pretrained-grid")
        defer { try? FileManager.default.removeItem(at: dir) }
        let yaml = """
            name: pretrained-grid
            pretrained: {checkpoint: \(Self.checkpoint.path)}
            data: {source: synthetic, synthetic_sentences: 300}
            model: {max_length: 32}
            finetune: {epochs: 2, batch: 16, learning_rate: 2.0e-3}
            seeds: [1, 2]
            languages: [syn-iso, syn-ton]
            compression:
              - prune: {sparsity: 0.5, when: [before, after]}
              - distill: {layers: 1, epochs: 1}
              - quantize: {scheme: dynamic}
            """
        let out = dir.appendingPathComponent("run")
        let child = try Child(["run", try writeJob(yaml, in: dir), "--workers", "2", "--out", out.path], in: dir, name: "run")
        #expect(child.wait(seconds: 600, "smaller run (pretrained grid)") == 0, "smaller run: \(child.text.suffix(3000))")
        let records = try RunDir(url: out).exportedRecords()
        let planned = try JobSpec.parse(yaml: yaml).plan()
        #expect(records.count == planned.tasks.count && records.count == 1 + 4 + 4 * 4)
        #expect(records.allSatisfy { $0.status == "done" })
        let imported = try #require(records.first { $0.spec.kind == .pretrain })
        #expect(imported.metrics["pretrained.sha256"]?.stringValue == imported.spec.params["pretrained"]?["sha256"]?.stringValue)
        for record in records where record.spec.kind == .finetune {
            #expect(record.spec.inputs == [imported.taskID])
            #expect((record.metrics["test.f1"]?.doubleValue).map { (0...1).contains($0) } == true, "\(record.spec.title)")
        }
    }

    @Test func aFolderThatIsNotACheckpointIsRefusedWith64() throws {
        let dir = try Fixtures.temporaryDirectory("pretrained-64")
        defer { try? FileManager.default.removeItem(at: dir) }
        let job = try writeJob("name: p64\npretrained: {checkpoint: \(dir.path)}\nseeds: [1]\nlanguages: [syn-ton]\n", in: dir)
        for command in [["plan", job], ["run", job, "--workers", "1", "--out", dir.appendingPathComponent("run").path]] {
            let child = try Child(command, in: dir, name: command[0])
            #expect(child.wait(seconds: 60, "smaller \(command[0])") == 64, "\(child.text.suffix(2000))")
            #expect(child.text.contains("pretrained: checkpoint: \(dir.path) has no weights"), "\(child.text.suffix(2000))")
        }
    }
}
