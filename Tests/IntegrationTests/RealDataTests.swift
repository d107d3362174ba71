// A reduced real grid on MasakhaNER 1.0 from ../shared/data (2 languages, 1 seed, a tiny model, few steps):
// the whole dense pipeline (tokenizer, MLM pretraining, fine-tuning, seqeval-exact evaluation, calibration) and
// dynamic int8 quantization (loyalty to the dense model) through a coordinator and two workers; and the robustness
// and out-of-distribution metrics (OOD on MasakhaNER 2.0) of the dense and a compressed model. Disabled, with the
// reason, when the shared data is not beside the checkout.
import Experiment
import Foundation
import Testing
import TestSupport

@Suite(.serialized, .enabled(if: Smaller.available, Smaller.unavailable)) struct RealDataTests {
    /// The reduced grid both tests run: a tiny model, few steps, one seed, dense and dynamic int8.
    static func job(_ name: String, data: String, languages: String) -> String {
        """
        name: \(name)
        data: \(data)
        model: {layers: 2, hidden: 64, heads: 2, ffn: 256, max_length: 64, vocab: 2000}
        pretrain: {steps: 200, batch: 16, learning_rate: 1.0e-3}
        finetune: {epochs: 3, batch: 16, learning_rate: 2.0e-3}
        seeds: [1]
        languages: [\(languages)]
        compression:
          - quantize: {scheme: dynamic}
        """
    }

    @Test(.enabled(if: Fixtures.sharedData != nil, "../shared/data (MasakhaNER, raw text) is not beside the checkout"))
    func reducedMasakhaNERGridLearnsEntities() throws {
        let shared = try #require(Fixtures.sharedData)
        let dir = try Fixtures.temporaryDirectory("realdata")
        defer { try? FileManager.default.removeItem(at: dir) }
        let yaml = Self.job("realdata", data: "{source: synthetic}", languages: "pcm, luo")
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

    @Test(.enabled(if: Fixtures.sharedData != nil, "../shared/data (MasakhaNER 1.0 and 2.0, raw text) is not beside the checkout"))
    func robustnessAndOutOfDistributionOnPcmAndYor() throws {
        let shared = try #require(Fixtures.sharedData)
        let dir = try Fixtures.temporaryDirectory("realdata-robust")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = shared.appendingPathComponent("masakhaner")
        let yaml = Self.job("realdata-robust", data: "{source: masakhaner, ner: \(data.path)/1.0, text: \(shared.path)/text, ood: \(data.path)/2.0}",
                            languages: "pcm, yor")
        let out = dir.appendingPathComponent("run")
        let child = try Child(["run", try writeJob(yaml, in: dir), "--workers", "2", "--out", out.path], in: dir, name: "run")
        let status = child.wait(seconds: 1200, "smaller run (real data, robustness)")
        #expect(status == 0, "smaller run: \(child.text.suffix(3000))")

        // The 2.0 test sets' sentence counts (../shared/data/README.md), an independent check of what was read.
        let oodTotal = ["pcm": 1613, "yor": 1964]
        let records = try RunDir(url: out).exportedRecords().filter { $0.spec.kind != .pretrain }
        #expect(records.count == 4)
        for record in records {
            let language = record.spec.language ?? "?", name = "\(language) \(record.spec.kind.rawValue)"
            func number(_ key: String) -> Double {
                guard let v = record.metrics[key]?.doubleValue else { Issue.record("\(name): no \(key)"); return .nan }
                return v
            }
            let clean = number("test.f1")
            // A model that predicts O everywhere has F1 0.
            if record.spec.kind == .finetune { #expect(clean > 0, "\(name): test F1 \(clean) is not above an all-O model") }
            for p in ["diacritics", "typos@0.05", "typos@0.1", "typos@0.2"] {
                let f1 = number("robust.\(p).f1"), changed = number("robust.\(p).changed_words")
                #expect((0...1).contains(f1) && (0...1).contains(changed), "\(name) \(p): F1 \(f1), changed \(changed)")
                if clean > 0 { #expect(number("robust.\(p).ratio") >= 0, "\(name) \(p)") }
            }
            // Typos hit about p of the words of ≥ 4 characters: the share grows with the rate.
            #expect(number("robust.typos@0.05.changed_words") < number("robust.typos@0.1.changed_words"))
            #expect(number("robust.typos@0.1.changed_words") < number("robust.typos@0.2.changed_words"))
            #expect(number("robust.typos@0.2.changed_words") < 0.2)
            // Yorùbá is written with tone marks and under-dots on most words; Pidgin almost never.
            let diacritics = number("robust.diacritics.changed_words")
            #expect(language == "yor" ? diacritics > 0.3 : diacritics < 0.05, "\(name): diacritics changed \(diacritics)")

            let removed = record.metrics["ood.removed"]?.intValue ?? -1, kept = record.metrics["ood.sentences"]?.intValue ?? -1
            #expect(removed >= 0 && kept > 1000 && removed + kept == oodTotal[language], "\(name): OOD \(kept) kept, \(removed) removed")
            let ood = number("ood.f1")
            #expect((0...1).contains(ood) && abs(number("ood.gap") - (clean - ood)) < 1e-12, "\(name): OOD F1 \(ood)")
            #expect(number("robust.seconds") > 0)
            print("RealDataTests: \(name): test F1 \(clean), diacritics \(number("robust.diacritics.f1")), typos@0.1 "
                  + "\(number("robust.typos@0.1.f1")), OOD F1 \(ood) (\(kept) sentences, \(removed) removed)")
        }
    }

    /// The study's recipe (D1T of docs/study.md, chosen on dev data: no MLM pretraining, word shapes, character
    /// n-grams whose table starts from skip-gram vectors of the pcm text, dropout 0.3, mention and singleton
    /// replacement, 12 epochs, word labels read as the best valid BIO sequence weighed by the training set's label
    /// transitions), with no compression: it must reach the issue's dense test F1 of 0.5 on Nigerian Pidgin.
    /// With BIO decoding alone (recipe D1) it gave 0.5279 on `avx512_core_amx` and `avx512_core_bf16`.
    @Test(.enabled(if: Fixtures.sharedData != nil, "../shared/data (MasakhaNER 1.0, raw text) is not beside the checkout"))
    func theStudyRecipeReachesHalfF1OnPidgin() throws {
        let shared = try #require(Fixtures.sharedData)
        let dir = try Fixtures.temporaryDirectory("realdata-recipe")
        defer { try? FileManager.default.removeItem(at: dir) }
        let yaml = """
            name: realdata-recipe
            data: {source: masakhaner, ner: \(shared.path)/masakhaner/1.0, text: \(shared.path)/text}
            model: {layers: 4, hidden: 128, heads: 4, ffn: 512, max_length: 128, vocab: 8000, word_shape: true, char_ngrams: 16384, dropout: 0.3}
            pretrain: {steps: 0, ngram_vectors: 5}
            finetune: {epochs: 12, batch: 16, learning_rate: 1.0e-3, warmup: 0.1, mention_replacement: 0.5, singleton_unk: 0.5}
            evaluation: {typo_rates: [0.1], decode: transitions}
            seeds: [1]
            languages: [pcm]
            """
        let out = dir.appendingPathComponent("run")
        let child = try Child(["run", try writeJob(yaml, in: dir), "--workers", "1", "--threads-per-worker", "2", "--out", out.path],
                              in: dir, name: "run")
        let status = child.wait(seconds: 3000, "smaller run (real data, the study's recipe)")
        #expect(status == 0, "smaller run: \(child.text.suffix(3000))")
        let record = try #require(try RunDir(url: out).exportedRecords().first { $0.spec.kind == .finetune })
        let f1 = record.metrics["test.f1"]?.doubleValue ?? -1, dev = record.metrics["dev.f1"]?.doubleValue ?? -1
        print("RealDataTests: pcm, the study's recipe: dev F1 \(dev), test F1 \(f1), best epoch \(record.metrics["finetune.best_epoch"]?.intValue ?? -1)")
        #expect(f1 >= 0.5, "pcm test F1 \(f1) (dev \(dev)) is below the issue's 0.5")
    }
}
