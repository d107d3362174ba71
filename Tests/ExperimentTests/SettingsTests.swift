// Typed settings: a job that gives only what is required decodes, task by task, to the types' defaults, and those
// are the defaults docs/jobs.md documents; bad values are refused with the key named; the typed form writes back
// to the same resolved dictionary the parser made (so the hashed form is untouched).
import Foundation
import Testing
@testable import Experiment

@Suite struct SettingsTests {
    static let defaultsOnly = """
        name: d
        seeds: [1]
        languages: [syn-iso]
        compression:
          - prune: {sparsity: 0.5}
          - distill: {layers: 1}
          - quantize: {scheme: dynamic}
        """

    @Test func defaultsOnlyJobDecodesToTheTypesDefaults() throws {
        let graph = try JobSpec.parse(yaml: Self.defaultsOnly).plan()
        let pretrain = try TaskSettings(try #require(graph.tasks.first { $0.spec.kind == .pretrain }).spec)
        let finetune = try TaskSettings(try #require(graph.tasks.first { $0.spec.kind == .finetune }).spec)
        let (model, pre, fine, data) = (try ModelSettings.defaults, try PretrainSettings.defaults, try FinetuneSettings.defaults,
                                        try DataSettings.defaults)
        #expect(pretrain.model == model && finetune.model == model)
        #expect(pretrain.pretrain == pre && pretrain.finetune == nil)
        #expect(finetune.finetune == fine && finetune.pretrain == nil)
        #expect(pretrain.data == data && finetune.data == data)
        #expect(pretrain.seed == 1 && finetune.language == "syn-iso" && pretrain.languages == ["syn-iso"])

        // The defaults are the ones docs/jobs.md documents (an independent statement of them).
        let m = model
        let shape: [Int] = [m.layers, m.hidden, m.heads, m.ffn, m.maxLength, m.vocab]
        #expect(shape == [2, 64, 2, 256, 64, 2000])
        let p = pre
        #expect(p.steps == 300 && p.batch == 16 && p.learningRate == 5e-4 && p.maskProbability == 0.15 && p.warmup == 0.1)
        let f = fine
        #expect(f.epochs == 3 && f.batch == 16 && f.learningRate == 1e-4 && f.warmup == 0.1)
        let d = data
        #expect(d.source == .synthetic && d.ner == "" && d.text == "" && d.syntheticSentences == 2000)

        let methods = try graph.tasks.compactMap { try $0.spec.setting?.method() }
        #expect(methods == [
            .prune(PruneSettings(sparsity: 0.5, when: .after, structure: .unstructured, scope: .global, schedule: .oneshot,
                                 finetuneEpochs: 0, embeddings: false, classifier: false)),
            .distill(DistillSettings(layers: 1, alpha: 0.5, temperature: 2.0, hiddenMSE: false, epochs: 3, map: "", cacheTeacher: false)),
            .quantize(QuantizeSettings(scheme: .dynamic, threshold: 6.0, embeddings: false, calibration: .minmax)),
        ])
        // Each compress task decodes its own family.
        for task in graph.tasks where task.spec.kind == .compress {
            #expect(try TaskSettings(task.spec).compression?.family.rawValue == task.spec.setting?.family)
        }
    }

    @Test func typedSettingsWriteBackTheResolvedSection() throws {
        let job = try JobSpec.parse(yaml: """
            name: w
            seeds: [1]
            languages: [a]
            model: {layers: 3, hidden: 96, heads: 3}
            compression:
              - prune: {sparsity: [0.3, 0.6], structure: heads, when: before}
              - prune: {sparsity: 0.2, embeddings: true}
              - distill: {layers: 1, hidden: 32, heads: 2}
            """)
        #expect(try ModelSettings(section: job.model).section == job.model)
        #expect(try PretrainSettings(section: job.pretrain).section == job.pretrain)
        for setting in job.compression {
            let written: [String: Value] = switch try setting.method() {
            case .prune(let s): s.section
            case .distill(let s): s.section
            case .quantize(let s): s.section
            }
            #expect(written == setting.fields, "\(setting.label)")
        }
    }

    @Test func badValuesAreRefusedNamingTheKey() throws {
        #expect { _ = try ModelSettings(section: ["layers": .int(0)]) } throws: { "\($0)".contains("model.layers") }
        #expect { _ = try ModelSettings(section: ["hidden": .int(65), "heads": .int(2)]) } throws: { "\($0)".contains("multiple of heads") }
        #expect { _ = try ModelSettings(section: ["depth": .int(2)]) } throws: { "\($0)".contains("model.depth") }
        #expect { _ = try PruneSettings(section: [:]) } throws: { "\($0)".contains("prune.sparsity is missing") }
        #expect { _ = try PruneSettings(section: ["sparsity": .double(1)]) } throws: { "\($0)".contains("[0, 1)") }
        #expect { _ = try QuantizeSettings(section: ["scheme": .string("int2")]) } throws: { "\($0)".contains("quantize.scheme") }
        let pruneHeads = PruneSettings(sparsity: 0.5, when: .after, structure: .heads, scope: .global, schedule: .oneshot,
                                       finetuneEpochs: 0, embeddings: true, classifier: false)
        #expect { try pruneHeads.validate() } throws: { "\($0)".contains("prune.embeddings is for unstructured pruning") }
        #expect(throws: PermanentTaskError.self) {
            try CompressionSetting(family: "fold", fields: [:], label: "fold").method()
        }
        let noSeed = TaskSpec(kind: .pretrain, executor: "engine", params: ["model": .object([:]), "data": .object([:])])
        #expect { _ = try TaskSettings(noSeed) } throws: { "\($0)".contains("need a seed") }
    }

    @Test func noopSettingsReadWhatThePlanWrites() throws {
        let graph = try JobSpec.parse(yaml: "name: n\nnoop: {tasks: 3, seconds: 0.5, fail: [1], crash: 2, salt: x, burn: true}\n").plan()
        let settings = graph.tasks.map { NoopSettings(params: $0.spec.params) }
        #expect(settings.map(\.index) == [0, 1, 2])
        #expect(settings.map(\.fail) == [false, true, false] && settings.map(\.crash) == [false, false, true])
        #expect(settings.allSatisfy { $0.seconds == 0.5 && $0.burn && $0.salt == "x" && $0.outputBytes == 0 })
        let none = NoopSettings(params: [:])
        #expect(none.seconds == 0 && !none.fail && !none.crash && !none.burn && none.salt == "" && none.index == nil)
    }
}
