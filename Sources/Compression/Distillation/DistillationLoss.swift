// The distillation losses, each a kernel with its gradient beside a plain float64 reference: logit
// distillation α·T²·KL(softmax(t/T) ‖ softmax(s/T)) + (1−α)·CE(s, gold) over labelled rows, and the
// hidden-state MSE between a student layer's output and its mapped teacher layer's.
import Foundation
import TensorCore

/// One batch's distillation loss, split into its parts (each already averaged over labelled rows).
package struct DistillationLossValue: Sendable, Equatable {
    /// α·T²·KL + (1−α)·CE.
    package var loss: Float
    /// The mean KL(teacher_T ‖ student_T), without the α·T² factor.
    package var kl: Float
    /// The mean cross-entropy on gold labels.
    package var crossEntropy: Float
    /// Labelled rows the means run over.
    package var count: Int
}

package enum DistillationLoss {
    /// The loss over the rows whose label is not -100; rows are (N, K) logits. When `dlogits` is given it receives
    /// ∂loss/∂student, (N, K): (1/n)·[α·T·(softmax(s/T) − softmax(t/T)) + (1−α)·(softmax(s) − onehot(y))], zero
    /// on ignored rows. `dlogits` must not alias the logits. Labels outside 0..<K are a programmer error here.
    @discardableResult
    package static func forward(
        student s: UnsafePointer<Float>, teacher t: UnsafePointer<Float>, labels: UnsafePointer<Int32>,
        rows N: Int, cols K: Int, alpha: Float, temperature T: Float, dlogits: UnsafeMutablePointer<Float>?
    ) -> DistillationLossValue {
        precondition(alpha >= 0 && alpha <= 1 && T > 0, "distillation: alpha \(alpha) outside [0, 1] or temperature \(T) <= 0")
        var n = 0
        for r in 0..<N where labels[r] != Kernels.ignoreIndex { n += 1 }
        let invN: Float = n > 0 ? 1 / Float(n) : 0
        let invT = 1 / T
        var klTotal: Double = 0, ceTotal: Double = 0
        // Per-row scratch on the stack (no heap allocation in a training step): softmax(s/T), softmax(t/T), softmax(s).
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 3 * K) { scratch in
            let ps = scratch.baseAddress!, pt = ps + K, p1 = ps + 2 * K
            for r in 0..<N {
                let sr = s + r * K, tr = t + r * K
                let label = Int(labels[r])
                if label == Int(Kernels.ignoreIndex) {
                    if let d = dlogits { (d + r * K).update(repeating: 0, count: K) }
                    continue
                }
                precondition(label >= 0 && label < K, "distillation: label \(label) outside 0..<\(K)")
                // log-softmax of s/T and t/T, and of s, each shifted by its row maximum.
                var ms = -Float.infinity, mt = -Float.infinity
                for k in 0..<K { ms = max(ms, sr[k]); mt = max(mt, tr[k]) }
                var zs: Float = 0, zt: Float = 0, z1: Float = 0
                for k in 0..<K {
                    ps[k] = expf((sr[k] - ms) * invT); zs += ps[k]
                    pt[k] = expf((tr[k] - mt) * invT); zt += pt[k]
                    p1[k] = expf(sr[k] - ms); z1 += p1[k]
                }
                let logZs = logf(zs), logZt = logf(zt)
                var kl: Double = 0
                for k in 0..<K {
                    ps[k] /= zs; pt[k] /= zt; p1[k] /= z1
                    if pt[k] > 0 {
                        // log pt − log ps with both logs in shifted form, exact where pt underflows to 0 (term is 0).
                        let logPt = (tr[k] - mt) * invT - logZt, logPs = (sr[k] - ms) * invT - logZs
                        kl += Double(pt[k]) * Double(logPt - logPs)
                    }
                }
                klTotal += kl
                ceTotal += Double(ms + logf(z1) - sr[label])
                if let d = dlogits {
                    let dr = d + r * K
                    let a = alpha * T * invN, b = (1 - alpha) * invN
                    for k in 0..<K { dr[k] = a * (ps[k] - pt[k]) + b * p1[k] }
                    dr[label] -= b
                }
            }
        }
        let kl = n > 0 ? klTotal / Double(n) : 0, ce = n > 0 ? ceTotal / Double(n) : 0
        let loss = Double(alpha) * Double(T * T) * kl + Double(1 - alpha) * ce
        return DistillationLossValue(loss: Float(loss), kl: Float(kl), crossEntropy: Float(ce), count: n)
    }

    /// The plain definition in float64, one row at a time: the oracle for `forward`.
    package static func reference(student s: [Float], teacher t: [Float], labels: [Int32], cols K: Int,
                                  alpha: Double, temperature T: Double) -> Double {
        func logSoftmax(_ x: ArraySlice<Float>, _ scale: Double) -> [Double] {
            let v = x.map { Double($0) * scale }
            let m = v.max()!
            let lse = m + log(v.reduce(0) { $0 + exp($1 - m) })
            return v.map { $0 - lse }
        }
        var total = 0.0, n = 0
        for r in 0..<labels.count where labels[r] != Kernels.ignoreIndex {
            let sr = s[r * K ..< (r + 1) * K], tr = t[r * K ..< (r + 1) * K]
            let lsT = logSoftmax(sr, 1 / T), ltT = logSoftmax(tr, 1 / T), ls1 = logSoftmax(sr, 1)
            var kl = 0.0
            for k in 0..<K { kl += exp(ltT[k]) * (ltT[k] - lsT[k]) }
            total += alpha * T * T * kl + (1 - alpha) * -ls1[Int(labels[r])]
            n += 1
        }
        return n > 0 ? total / Double(n) : 0
    }
}

package enum HiddenStateMSE {
    /// Mean squared error between student and teacher hidden states, (N, C) each, over the rows whose `mask` is
    /// non-zero (real tokens, not padding) and every feature: Σ (s − t)² / (n·C). When `dstudent` is given it
    /// receives ∂loss/∂s scaled by `weight` (zero on masked rows); the returned loss is unweighted.
    @discardableResult
    package static func forward(student s: UnsafePointer<Float>, teacher t: UnsafePointer<Float>, mask: UnsafePointer<Int32>,
                                rows N: Int, width C: Int, weight: Float = 1, dstudent: UnsafeMutablePointer<Float>?) -> Float {
        var n = 0
        for r in 0..<N where mask[r] != 0 { n += 1 }
        guard n > 0 else {
            dstudent?.update(repeating: 0, count: N * C)
            return 0
        }
        let scale = 2 * weight / Float(n * C)
        var total: Double = 0
        for r in 0..<N {
            let sr = s + r * C, tr = t + r * C
            if mask[r] == 0 {
                if let d = dstudent { (d + r * C).update(repeating: 0, count: C) }
                continue
            }
            var row: Float = 0
            for c in 0..<C {
                let diff = sr[c] - tr[c]
                row += diff * diff
                if let d = dstudent { d[r * C + c] = scale * diff }
            }
            total += Double(row)
        }
        return Float(total / Double(n * C))
    }

    /// The plain definition in float64.
    package static func reference(student s: [Float], teacher t: [Float], mask: [Int32], width C: Int) -> Double {
        var total = 0.0, n = 0
        for r in 0..<mask.count where mask[r] != 0 {
            for c in 0..<C { let d = Double(s[r * C + c]) - Double(t[r * C + c]); total += d * d }
            n += 1
        }
        return n > 0 ? total / Double(n * C) : 0
    }
}
