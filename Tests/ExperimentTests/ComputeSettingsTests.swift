// The job's `compute` section: at its default (auto) it stays out of every task's params (ids unchanged); a pinned
// kernel reaches every engine task and changes every id; anything else is refused at plan time, naming the key.
import Foundation
import Testing
@testable import Experiment

@Suite struct ComputeSettingsTests {
    static func job(_ extra: String) -> String { EvaluationSettingsTests.job(extra) }

    @Test func autoIsLeftOutAndAPinReachesEveryEngineTask() throws {
        let plain = try JobSpec.parse(yaml: Self.job("")).plan()
        #expect(try JobSpec.parse(yaml: Self.job("compute: {gemm: auto}")).plan().tasks.map(\.id) == plain.tasks.map(\.id))
        #expect(try JobSpec.parse(yaml: Self.job("compute: {}")).plan().tasks.map(\.id) == plain.tasks.map(\.id))
        #expect(try TaskSettings(try #require(plain.tasks.first).spec).compute.gemm == "auto")
        for kernel in ["own", "oneDNN"] {
            let pinned = try JobSpec.parse(yaml: Self.job("compute: {gemm: \(kernel)}"))
            #expect(pinned.compute == ["gemm": .string(kernel)])
            let graph = pinned.plan()
            #expect(graph.tasks.count == plain.tasks.count)
            #expect(Set(graph.tasks.map(\.id)).isDisjoint(with: plain.tasks.map(\.id)), "the kernel decides the bits: every id changes")
            for task in graph.tasks {
                #expect(task.spec.params["compute"] == .object(["gemm": .string(kernel)]), "\(task.spec.title)")
                #expect(try TaskSettings(task.spec).compute.gemm == kernel)
            }
        }
    }

    @Test(arguments: [("compute: {gemm: fast}", "compute.gemm"), ("compute: {gemm: onednn}", "oneDNN"),
                      ("compute: {threads: 2}", "threads: unknown key"), ("compute: oneDNN", "compute")])
    func badValuesAreRefused(line: String, message: String) {
        do {
            _ = try JobSpec.parse(yaml: Self.job(line), file: "jobs/x.yaml")
            Issue.record("\(line) must be refused")
        } catch {
            #expect("\(error)".contains(message) && "\(error)".contains("jobs/x.yaml:"), "\(error)")
        }
    }

    @Test func aNoopGridTakesNoComputeSection() {
        #expect(throws: JobFileError.self) { try JobSpec.parse(yaml: "name: n\nnoop: {tasks: 1}\ncompute: {gemm: own}\n") }
    }
}
