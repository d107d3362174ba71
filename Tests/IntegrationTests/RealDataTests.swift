// A reduced real grid on MasakhaNER 1.0 from ../shared/data (2 languages, 1 seed, a tiny model, few steps):
// the whole dense pipeline (tokenizer, MLM pretraining, fine-tuning, seqeval-exact evaluation) through a
// coordinator and two workers. Disabled, with the reason, when the shared data is not beside the checkout.
import Experiment
import Foundation
import Testing
import TestSupport

@Suite(.serialized, .enabled(if: Smaller.available, Smaller.unavailable)) struct RealDataTests {
    @Test(.enabled(if: Fixtures.sharedData != nil, "../shared/data (MasakhaNER, raw text) is not beside the checkout"))
    func reducedMasakhaNERGridLearnsEntities() throws {
        let shared = try #require(Fixtures.sharedData)
        let dir = try Fixtures.temporaryDirectory("realdata")
        defer { try? FileManager.default.removeItem(at: dir) }
        let yaml = """
            name: realdata
            data: {source: synthetic}
            model: {layers: 2, hidden: 64, heads: 2, ffn: 256, max_length: 64, vocab: 2000}
            pretrain: {steps: 200, batch: 16, learning_rate: 1.0e-3}
            finetune: {epochs: 3, batch: 16, learning_rate: 2.0e-3}
            seeds: [1]
            languages: [pcm, luo]
            """
        let job = try writeJob(yaml, in: dir)
        let out = dir.appendingPathComponent("run")
        // The job names the synthetic corpus; --data/--text switch it to the real files.
        let child = try Child(["run", job, "--workers", "2", "--out", out.path, "--data", "\(shared.path)/masakhaner/1.0",
                               "--text", "\(shared.path)/text"], in: dir, name: "run")
        let status = child.wait(seconds: 900, "smaller run (real data)")
        #expect(status == 0, "smaller run: \(child.text.suffix(3000))")

        let records = try RunDir(url: out).exportedRecords()
        let finetunes = records.filter { $0.spec.kind == .finetune }
        #expect(Set(finetunes.compactMap(\.spec.language)) == ["pcm", "luo"])
        for record in finetunes {
            let language = record.spec.language ?? "?"
            #expect(record.spec.params["data"]?["ner"]?.stringValue == "\(shared.path)/masakhaner/1.0")
            #expect(record.status == "done", "\(language): \(record.status)")
            // A model that predicts O everywhere finds no entity: precision, recall and F1 are all 0. The tiny
            // model must find real entities in both languages, with both precision and recall above zero.
            let f1 = record.metrics["test.f1"]?.doubleValue ?? -1
            let precision = record.metrics["test.precision"]?.doubleValue ?? -1
            let recall = record.metrics["test.recall"]?.doubleValue ?? -1
            print("RealDataTests: \(language): test P \(precision) R \(recall) F1 \(f1)")
            #expect(f1 > 0.05 && precision > 0.05 && recall > 0.05, "\(language): test F1 \(f1) (P \(precision), R \(recall))")
            #expect(record.metrics["data.synthetic"] == .bool(false))
            // The MasakhaNER test split's entity count: entities are read from the real files, not generated.
            #expect((record.metrics["test.entities"]?.intValue ?? 0) > 100)
        }
    }
}
