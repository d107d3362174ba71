// `pretrain.per_language`: off (absent or false) the graph is unchanged, one pretraining per seed over every
// language; on, one per seed and language, on that language's text alone, read by that language's tasks only.
import Testing
@testable import Experiment

@Suite struct PerLanguagePretrainingTests {
    static func job(_ pretrain: String) -> String {
        """
        name: p
        seeds: [1, 2]
        languages: [syn-iso, syn-agg]
        pretrain: {steps: 10\(pretrain)}
        compression:
          - prune: {sparsity: 0.5, when: before}
          - distill: {layers: 1, hidden: 32, heads: 2, ffn: 64}
          - quantize: {scheme: dynamic}
        """
    }

    @Test func offKeepsTheIds() throws {
        let plain = try JobSpec.parse(yaml: Self.job("")).plan().tasks.map(\.id)
        #expect(try JobSpec.parse(yaml: Self.job(", per_language: false")).plan().tasks.map(\.id) == plain)
    }

    @Test func onGivesEachLanguageItsOwnPretraining() throws {
        let graph = try JobSpec.parse(yaml: Self.job(", per_language: true")).plan()
        let pretrainings = graph.tasks.filter { $0.spec.kind == .pretrain && $0.spec.inputs.isEmpty }
        // 2 seeds × 2 languages, all before any other task.
        #expect(pretrainings.count == 4)
        #expect(graph.tasks.prefix(2).allSatisfy { $0.spec.kind == .pretrain })
        for p in pretrainings {
            let language = try #require(p.spec.language)
            #expect(p.spec.params["languages"] == .array([.string(language)]))
            #expect(p.spec.title == "pretrain(\(language), seed \(p.spec.seed!))")
        }
        // Every task of a language and seed reads that language's pretraining (fine-tune, prune before) or a
        // student pretrained on its tokenizer.
        for task in graph.tasks where task.spec.kind != .pretrain || !task.spec.inputs.isEmpty {
            let language = try #require(task.spec.language)
            let roots = Self.roots(task, graph)
            #expect(roots.count == 1 && roots.allSatisfy {
                graph.byID[$0]!.spec.language == language && graph.byID[$0]!.spec.seed == task.spec.seed
            }, "\(task.spec.title)")
        }
        #expect(graph.tasks.filter { $0.spec.kind == .pretrain && !$0.spec.inputs.isEmpty }.count == 4)
    }

    /// The pretrainings without inputs a task depends on.
    static func roots(_ task: PlannedTask, _ graph: TaskGraph) -> Set<String> {
        if task.spec.inputs.isEmpty { return [task.id] }
        return task.spec.inputs.reduce(into: Set<String>()) { $0.formUnion(roots(graph.byID[$1]!, graph)) }
    }
}
