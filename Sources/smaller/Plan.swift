// `smaller plan JOB.yaml`: the expanded task graph (counts per kind, dependencies), without running it.
import ArgumentParser
import Experiment
import Foundation

struct Plan: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a job's expanded task graph without running it.")

    @Argument(help: "The job file (YAML).") var job: String
    @Flag(help: "List every task with its id and inputs.") var tasks = false

    func run() throws {
        let spec = try loadJob(job)
        try checkLanguages(spec, job: job)
        let graph = spec.plan()
        print("job \(spec.name): \(graph.tasks.count) tasks (executor: \(spec.execution.executor))")
        for kind in TaskKind.allCases {
            let n = graph.count(of: kind)
            if n > 0 { print("  \(kind.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) \(n)") }
        }
        if spec.noop == nil {
            print("seeds \(spec.seeds.map(String.init).joined(separator: ", ")); languages \(spec.languages.joined(separator: ", "))")
            print("settings (\(spec.compression.count)):")
            for s in spec.compression { print("  \(s.label)") }
            if let checkpoint = spec.pretrained?["checkpoint"]?.stringValue {
                print("pretrained: \(checkpoint) (content \(spec.pretrained?["sha256"]?.stringValue?.prefix(12) ?? "?")), imported once in place of pretrain(seed)")
            }
            if let kernel = spec.compute["gemm"]?.stringValue {
                print("fp32 GEMM: \(kernel) for every product of every task (compute.gemm; in the task ids)")
            } else {
                print("fp32 GEMM: each worker's own (--gemm or SMALLER_GEMM, by default measured per shape class on its machine)")
            }
            let pre = spec.pretrained == nil && spec.pretrain["per_language"]?.boolValue == true ? "pretrain(lang, seed)" : "pretrain(seed)"
            print("dependencies: \(pre) → finetune(lang, seed) → compress(lang, seed, setting); prune when=before starts from \(pre)")
            if spec.compression.contains(where: { JobSpec.studentModel($0, teacher: spec.model) != nil }) {
                print("              a narrower distill student (hidden/heads/ffn) adds its own pretraining ← \(pre), read by its compress tasks")
            }
        }
        if tasks {
            for t in graph.tasks {
                let inputs = t.spec.inputs.map { String($0.prefix(12)) }.joined(separator: ", ")
                print("\(t.id.prefix(12))  \(t.spec.title)\(inputs.isEmpty ? "" : "  ← \(inputs)")")
            }
        }
    }
}
