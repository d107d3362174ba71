// The distillation losses against their float64 references, hand-computed values (α = 0 is the engine's
// cross-entropy; α = 1, T = 1 on identical logits is 0) and central finite differences of the gradient.
import Foundation
import Testing
import TestSupport
import TensorCore
@testable import Compression

@Suite struct DistillationLossTests {
    static let K = 5
    static let labels: [Int32] = [2, -100, 0, 4, -100, 1]

    static func logits(seed: UInt64, scale: Float = 2) -> [Float] {
        var rng = Xoshiro256(seed: seed)
        return (0..<labels.count * K).map { _ in scale * rng.normal() }
    }

    static func kernel(_ s: [Float], _ t: [Float], _ labels: [Int32], K: Int, alpha: Float, T: Float, gradient: Bool)
        -> (DistillationLossValue, [Float]) {
        var d = [Float](repeating: .nan, count: s.count)
        let v = d.withUnsafeMutableBufferPointer { dp in
            DistillationLoss.forward(student: s, teacher: t, labels: labels, rows: labels.count, cols: K, alpha: alpha,
                                     temperature: T, dlogits: gradient ? dp.baseAddress! : nil)
        }
        return (v, d)
    }

    @Test(arguments: [(Float(0), Float(1)), (0.5, 2), (1, 1), (0.3, 4), (1, 0.5)])
    func matchesReferenceAndFiniteDifferences(alpha: Float, temperature: Float) {
        let s = Self.logits(seed: 1), t = Self.logits(seed: 2)
        let (value, d) = Self.kernel(s, t, Self.labels, K: Self.K, alpha: alpha, T: temperature, gradient: true)
        let ref = DistillationLoss.reference(student: s, teacher: t, labels: Self.labels, cols: Self.K,
                                             alpha: Double(alpha), temperature: Double(temperature))
        #expect(abs(Double(value.loss) - ref) <= Double(Tolerance.kernelRelative) * max(1, abs(ref)), "loss \(value.loss) vs reference \(ref)")
        #expect(value.count == 4)
        let (noGradient, _) = Self.kernel(s, t, Self.labels, K: Self.K, alpha: alpha, T: temperature, gradient: false)
        #expect(noGradient == value, "the loss does not depend on whether the gradient is asked for")
        // Central differences of the float64 reference at every logit.
        let h = Tolerance.finiteDifferenceStep
        for i in s.indices {
            var up = s, down = s
            up[i] += h; down[i] -= h
            let fd = Float((DistillationLoss.reference(student: up, teacher: t, labels: Self.labels, cols: Self.K, alpha: Double(alpha), temperature: Double(temperature))
                          - DistillationLoss.reference(student: down, teacher: t, labels: Self.labels, cols: Self.K, alpha: Double(alpha), temperature: Double(temperature)))
                           / Double(up[i] - down[i]))
            let ok = abs(fd - d[i]) <= Tolerance.finiteDifferenceRelative * max(abs(fd), abs(d[i])) + Tolerance.finiteDifferenceAbsolute
            #expect(ok, "∂loss/∂s[\(i)]: finite difference \(fd) vs kernel \(d[i])")
            if Self.labels[i / Self.K] == -100 { #expect(d[i] == 0, "ignored rows get no gradient") }
        }
    }

    @Test func alphaZeroIsTheEnginesCrossEntropy() {
        let s = Self.logits(seed: 3), t = Self.logits(seed: 4)
        for T: Float in [1, 2, 5] {
            let (value, d) = Self.kernel(s, t, Self.labels, K: Self.K, alpha: 0, T: T, gradient: true)
            var dce = [Float](repeating: 0, count: s.count)
            let ce = dce.withUnsafeMutableBufferPointer { dp in
                Kernels.crossEntropy(s, labels: Self.labels, rows: Self.labels.count, cols: Self.K, dlogits: dp.baseAddress!, threads: 1)
            }
            #expect(abs(value.loss - ce.loss) <= Tolerance.kernelRelative * max(1, ce.loss), "α = 0: \(value.loss) vs CE \(ce.loss)")
            #expect(zip(d, dce).allSatisfy { abs($0 - $1) <= Tolerance.kernelRelative }, "α = 0: gradient is CE's")
        }
        // By hand: logits (0, ln 3) give softmax (1/4, 3/4); gold 1 costs −ln(3/4).
        let (hand, _) = Self.kernel([0, logf(3)], [9, -9], [1], K: 2, alpha: 0, T: 3, gradient: false)
        #expect(abs(Double(hand.loss) - -log(0.75)) <= 1e-6)
    }

    @Test func alphaOneTemperatureOneIsKL() {
        // Identical logits: KL is 0, and so is the gradient.
        let s = Self.logits(seed: 5)
        let (same, d) = Self.kernel(s, s, Self.labels, K: Self.K, alpha: 1, T: 1, gradient: true)
        #expect(abs(same.loss) <= 1e-6 && d.allSatisfy { abs($0) <= 1e-7 }, "KL(p ‖ p) = 0, got \(same.loss)")
        // By hand: teacher (0, 0) → (1/2, 1/2); student (0, ln 3) → (1/4, 3/4):
        // KL = ½ ln(½ / ¼) + ½ ln(½ / ¾) = ½ ln(4/3).
        let (hand, _) = Self.kernel([0, logf(3)], [0, 0], [0], K: 2, alpha: 1, T: 1, gradient: false)
        #expect(abs(Double(hand.loss) - 0.5 * log(4.0 / 3.0)) <= 1e-6, "\(hand.loss)")
        // T² scaling: at T = 2 the same pair costs 4 · KL(softmax(t/2) ‖ softmax(s/2)) = 4 · ½ ln(((1/2)/(1/(1+√3))) · ((1/2)/(√3/(1+√3)))).
        let (scaled, _) = Self.kernel([0, logf(3)], [0, 0], [0], K: 2, alpha: 1, T: 2, gradient: false)
        let q0 = 1 / (1 + 3.0.squareRoot()), q1 = 3.0.squareRoot() / (1 + 3.0.squareRoot())
        #expect(abs(Double(scaled.loss) - 4 * (0.5 * log(0.5 / q0) + 0.5 * log(0.5 / q1))) <= 1e-6)
    }

    @Test func hiddenMSEMatchesReferenceAndFiniteDifferences() {
        let N = 6, C = 4
        let mask: [Int32] = [1, 1, 0, 1, 1, 0]
        var rng = Xoshiro256(seed: 11)
        let s = (0..<N * C).map { _ in rng.normal() }, t = (0..<N * C).map { _ in rng.normal() }
        var d = [Float](repeating: .nan, count: N * C)
        let loss = d.withUnsafeMutableBufferPointer {
            HiddenStateMSE.forward(student: s, teacher: t, mask: mask, rows: N, width: C, weight: 0.5, dstudent: $0.baseAddress!)
        }
        let ref = HiddenStateMSE.reference(student: s, teacher: t, mask: mask, width: C)
        #expect(abs(Double(loss) - ref) <= Double(Tolerance.kernelRelative) * max(1, ref))
        let h = Tolerance.finiteDifferenceStep
        for i in s.indices {
            var up = s, down = s
            up[i] += h; down[i] -= h
            let fd = Float(0.5 * (HiddenStateMSE.reference(student: up, teacher: t, mask: mask, width: C)
                                  - HiddenStateMSE.reference(student: down, teacher: t, mask: mask, width: C)) / Double(up[i] - down[i]))
            let ok = abs(fd - d[i]) <= Tolerance.finiteDifferenceRelative * max(abs(fd), abs(d[i])) + Tolerance.finiteDifferenceAbsolute
            #expect(ok, "∂(½·MSE)/∂s[\(i)]: finite difference \(fd) vs kernel \(d[i])")
        }
    }
}
