// A job's `compute.gemm` pins the fp32 kernel of every task: the bits are the named kernel's whatever the worker
// process would have chosen (its --gemm, or auto's timing), and the record names the kernel that computed it.
import Experiment
import Foundation
@testable import Pipelines
import TensorCore
import Testing
import TestSupport

@Suite struct ComputePinTests {
    static func finetune(_ dir: URL, yaml: String) throws -> PipelineOutcome {
        let graph = try JobSpec.parse(yaml: yaml, file: "tiny.yaml").plan()
        let done = try WordShapeTaskTests.runGrid(dir, yaml: yaml)
        let task = try #require(graph.tasks.first { $0.spec.kind == .finetune })
        return try #require(done[task.id])
    }

    @Test(.enabled(if: GemmKernel.ownAvailable, "needs AVX2 and FMA for the own kernel to differ from oneDNN"))
    func aPinnedKernelComputesEveryTaskWhateverTheWorkerChose() throws {
        let dir = try Fixtures.temporaryDirectory("compute-pin")
        defer { try? FileManager.default.removeItem(at: dir) }
        var tiny = TinyJob(compression: [])
        (tiny.pretrainSteps, tiny.epochs) = (6, 1)
        let plain = tiny.yaml.components(separatedBy: "compression:")[0]
        let pinned = plain + "compute: {gemm: oneDNN}\n"
        // The same pinned job on a worker that would run CGemm, and on one that decides by timing.
        let underOwn = try GemmChoice.withPolicy(.own) { try Self.finetune(dir.appendingPathComponent("own"), yaml: pinned) }
        let underAuto = try GemmChoice.withPolicy(.auto) { try Self.finetune(dir.appendingPathComponent("auto"), yaml: pinned) }
        // References: the unpinned job with each kernel forced on the whole process.
        let oneDNN = try GemmChoice.withPolicy(.oneDNN) { try Self.finetune(dir.appendingPathComponent("ref-dnn"), yaml: plain) }
        let own = try GemmChoice.withPolicy(.own) { try Self.finetune(dir.appendingPathComponent("ref-own"), yaml: plain) }
        let w = try [underOwn, underAuto, oneDNN, own].map(WordShapeTaskTests.weights)
        #expect(w[0] == w[2] && w[1] == w[2], "a pinned job computes with oneDNN on every worker")
        #expect(w[3] != w[2], "the two kernels' bits differ here, so the equality above says something")
        for outcome in [underOwn, underAuto] {
            #expect(outcome.metrics["compute.gemm"] == .string("oneDNN"))
            #expect(outcome.metrics["compute.gemm.choice"] == nil)
        }
        #expect(own.metrics["compute.gemm"] == .string("own"))
        // Inside the task the pinned kernel; after it, the worker's policy again; under auto, the worker's.
        let pin = try ComputeSettings(section: ["gemm": .string("oneDNN")]), auto = try ComputeSettings.defaults
        let (inside, after, unpinned): (GemmPolicy, GemmPolicy, GemmPolicy) = try GemmChoice.withPolicy(.own) {
            let inside = try Pipelines.withKernel(pin) { GemmChoice.policy }
            return (inside, GemmChoice.policy, try Pipelines.withKernel(auto) { GemmChoice.policy })
        }
        #expect(inside == .oneDNN && after == .own && unpinned == .own)
    }
}
