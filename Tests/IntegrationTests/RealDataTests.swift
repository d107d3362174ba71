// A reduced real grid on MasakhaNER 1.0 from ../shared/data (2 languages, 1 seed, a tiny model, few steps):
// the whole dense pipeline (tokenizer, MLM pretraining, fine-tuning, seqeval-exact evaluation, calibration) and
// dynamic int8 quantization (loyalty to the dense model) through a coordinator and two workers. Skips with a printed reason when the shared data is not beside the checkout.
import Experiment
import Foundation
import Testing
import TestSupport

@Suite(.serialized, .enabled(if: Smaller.available)) struct RealDataTests {
    @Test func reducedMasakhaNERGridLearnsEntities() throws {
        guard let shared = Fixtures.sharedData else {
            print("RealDataTests: skipped: ../shared/data (MasakhaNER, raw text) is not beside the checkout")
            return
        }
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
            compression:
              - quantize: {scheme: dynamic}
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
        // Calibration in every evaluated record, loyalty to the dense model in every compressed one (docs/results.md).
        let compressed = records.filter { $0.spec.kind == .compress }
        #expect(compressed.count == 2)
        func inUnit(_ r: ResultRecord, _ key: String) -> Bool { (0...1).contains(r.metrics[key]?.doubleValue ?? -1) }
        for record in finetunes + compressed {
            for key in ["calibration.token.ece", "calibration.token.mce", "calibration.entity.ece", "calibration.entity.mce"] {
                #expect(inUnit(record, key), "\(record.spec.title): \(key) = \(String(describing: record.metrics[key]))")
            }
            #expect(record.metrics["calibration.token.bins"]?.arrayValue?.count == 15)
            #expect((record.metrics["memory.peak_bytes"]?.intValue ?? 0) > 0 && record.metrics["isa"]?.stringValue != nil)
        }
        for record in compressed {
            for key in ["loyalty.label", "loyalty.probability", "loyalty.flips.correct_to_wrong", "loyalty.flips.wrong_to_correct"] {
                #expect(inUnit(record, key), "\(record.spec.title): \(key) = \(String(describing: record.metrics[key]))")
            }
        }
    }
}
