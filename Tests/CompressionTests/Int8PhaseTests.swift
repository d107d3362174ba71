// What the int8 kernels report to an encoder's probe (`bench compress`'s split of an int8 pass): the quantization
// as a phase that ends, the epilogues' time (and a fused GELU's) moved out of the product, and outputs that are
// the same bits whether or not a probe watches.
import Testing
import TestSupport
@testable import TensorCore
@testable import Transformer
@testable import Compression

@Suite struct Int8PhaseTests {
    final class Recorder: StepProbe {
        var ended: [StepPhase] = [], moved: [(phase: StepPhase, nanos: UInt64)] = []
        func phaseEnded(_ phase: StepPhase) { ended.append(phase) }
        func moved(_ nanos: UInt64, to phase: StepPhase) { moved.append((phase, nanos)) }
    }

    static func layer(n: Int, k: Int, seed: UInt64) -> Int8Linear {
        Int8Linear(weights: Int8Weights(weight: QuantizationKernelTests.random(n * k, seed: seed), outFeatures: n, inFeatures: k),
                   bias: QuantizationKernelTests.random(n, seed: seed + 1))
    }

    @Test(arguments: [1, 2])
    func int8LinearReportsQuantizeThenMovesItsEpilogues(parts: Int) {
        let rows = 130, k = 96, n = 300
        let kernel = Self.layer(n: n, k: k, seed: 11)
        kernel.parts = parts
        let x = QuantizationKernelTests.random(rows * k, seed: 12, scale: 3)
        for gelu in [false, true] {
            var unwatched = [Float](repeating: .nan, count: rows * n), watched = unwatched
            x.withUnsafeBufferPointer { kernel.apply($0.baseAddress!, rows: rows, into: &unwatched, gelu: gelu) }
            let recorder = Recorder()
            kernel.probe = recorder
            x.withUnsafeBufferPointer { kernel.apply($0.baseAddress!, rows: rows, into: &watched, gelu: gelu) }
            kernel.probe = NoStepProbe.shared
            #expect(watched.map(\.bitPattern) == unwatched.map(\.bitPattern))
            #expect(recorder.ended == [.quantize])
            #expect(recorder.moved.map(\.phase) == [.gelu, .dequantize])
            #expect(recorder.moved[1].nanos > 0)
            #expect((recorder.moved[0].nanos > 0) == gelu)
        }
    }

    @Test func fusedAndMixedKernelsReportTheirOwnPhases() throws {
        let rows = 130, k = 96
        let x = QuantizationKernelTests.random(rows * k, seed: 21, scale: 3)
        let layers = [200, 150].enumerated().map { Self.layer(n: $1, k: k, seed: UInt64(30 + 2 * $0)) }
        layers.forEach { $0.parts = 2 }
        let fused = try #require(layers[0].fused(with: [layers[1]]) as? Int8FusedLinear)
        let recorder = Recorder()
        fused.probe = recorder
        _ = Int8FusedLinearTests.outputs(of: fused, x, rows: rows, widths: [200, 150])
        #expect(recorder.ended == [.quantize] && recorder.moved.map(\.phase) == [.gelu, .dequantize])
        #expect(layers.allSatisfy { $0.probe === recorder })

        // LLM.int8(): the outlier search ends first as quantization, then the int8 part's own phases.
        let mixed = MixedInt8Linear(weights: layers[0].weights, bias: layers[0].bias, threshold: 2)
        let watch = Recorder()
        mixed.probe = watch
        _ = QuantizationKernelTests.apply(mixed, x, rows: rows)
        #expect(mixed.outlierColumns > 0)
        #expect(watch.ended == [.quantize, .quantize] && watch.moved.map(\.phase) == [.gelu, .dequantize])
    }
}
