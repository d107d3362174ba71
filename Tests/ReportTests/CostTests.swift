// `smaller results --cost`: the added evaluation's seconds set against task time and the model's fine-tuning time,
// checked on hand-made records whose shares are worked out by hand.
import Experiment
import Report
import Testing

@Suite struct CostTests {
    static func record(_ kind: TaskKind, seed: Int, inputs: [String] = [], start: Double, end: Double,
                       metrics: [String: Value], status: String = "done") -> ResultRecord {
        let setting = kind == .compress ? CompressionSetting(family: "quantize", fields: [:], label: "quantize dynamic") : nil
        let spec = TaskSpec(kind: kind, executor: "engine", seed: seed, language: "pcm", setting: setting, params: [:], inputs: inputs)
        return ResultRecord(taskID: spec.id, spec: spec, status: status, metrics: metrics, engineVersion: "t", host: "h",
                            worker: "w", threads: 1, attempt: 1, startedAt: start, endedAt: end)
    }

    @Test func sharesOfTaskTimeAndOfTheParentFineTuning() throws {
        let pretrain = Self.record(.pretrain, seed: 1, start: 0, end: 20, metrics: [:])
        let ft1 = Self.record(.finetune, seed: 1, inputs: [pretrain.taskID], start: 20, end: 120,
                              metrics: ["finetune.seconds": .double(100), "robust.seconds": .double(3), "eval.added_seconds": .double(8)])
        let ft2 = Self.record(.finetune, seed: 2, start: 20, end: 70,
                              metrics: ["finetune.seconds": .double(50), "robust.seconds": .double(1), "eval.added_seconds": .double(2)])
        // Its parent is ft1 (by input id), not ft2, although ft2 comes first among the fine-tunes of its language.
        let compress = Self.record(.compress, seed: 1, inputs: [ft1.taskID], start: 120, end: 130,
                                   metrics: ["robust.seconds": .double(2), "eval.added_seconds": .double(4)])
        // An older record: only its robustness timers count.
        let old = Self.record(.compress, seed: 2, inputs: [ft2.taskID], start: 70, end: 80,
                              metrics: ["robust.seconds": .double(1.5), "robust.prepare_seconds": .double(0.5), "eval.seconds": .double(6)])
        let failed = Self.record(.compress, seed: 2, start: 80, end: 500, metrics: ["robust.seconds": .double(99)], status: "failed")
        let cost = EvaluationCost(records: [pretrain, ft2, ft1, compress, old, failed])

        #expect(cost.wallSeconds == 130)
        #expect(cost.taskSeconds == 20 + 100 + 50 + 10 + 10)
        #expect(cost.addedSeconds == 8 + 2 + 4 + 2)
        #expect(abs(cost.taskShare - 16.0 / 190) < 1e-12)
        let byTitle = Dictionary(uniqueKeysWithValues: cost.rows.map { ($0.title, $0) })
        #expect(cost.rows.count == 4)
        #expect(byTitle[compress.spec.title]?.fineTuneSeconds == 100)
        #expect(byTitle[old.spec.title]?.fineTuneSeconds == 50)
        #expect(byTitle[old.spec.title]?.complete == false && byTitle[old.spec.title]?.added == 2)
        let text = cost.markdown
        #expect(text.contains("| \(compress.spec.title) | 10.00 | 4.00 | 40.0 % | 4.0 % of 100.00 s |"), "\(text)")
        // One worker ("w"): 16 s over 130 s of wall.
        #expect(cost.workers == 1 && abs(cost.wallShare - 16.0 / 130) < 1e-12)
        #expect(text.contains("8.4 % of task time, 12.3 % of 1 worker(s) × wall"), "\(text)")
        #expect(text.contains("largest share of a model's fine-tuning time 8.0 %"), "\(text)")
        #expect(text.contains("only its robustness timers"))
    }
}
