// Elementwise and row kernels against float64 references and central finite differences.
import Foundation
import Testing
import TestSupport
@testable import TensorCore

/// Central finite difference of a scalar function at x[i], computed in Double around Float inputs.
func finiteDifference(_ x: inout [Float], _ i: Int, step: Float, _ f: ([Float]) -> Double) -> Double {
    let saved = x[i]
    x[i] = saved + step; let up = f(x)
    x[i] = saved - step; let down = f(x)
    x[i] = saved
    return (up - down) / Double(2 * step)
}

func closeFD(_ fd: Double, _ an: Float) -> Bool {
    abs(Float(fd) - an) <= Tolerance.finiteDifferenceRelative * max(abs(Float(fd)), abs(an)) + Tolerance.finiteDifferenceAbsolute
}

@Suite struct KernelTests {
    @Test func geluMatchesErfReferenceAndTorchValues() {
        let xs: [Float] = [-4, -1.5, -0.3, 0, 0.2, 1, 2.5, 6]
        var y = [Float](repeating: 0, count: xs.count)
        Kernels.geluForward(xs, &y, xs.count, threads: 2)
        for (x, v) in zip(xs, y) {
            let ref = Float(Kernels.geluReference(Double(x)))
            #expect(abs(v - ref) <= Tolerance.kernelRelative * max(1, abs(ref)))
        }
        // torch.nn.functional.gelu(torch.tensor([1.0, -1.0])) = [0.8413447, -0.1586553]
        #expect(abs(y[5] - 0.8413447) < 1e-6)
    }

    @Test func geluBackwardMatchesFiniteDifferences() {
        var x: [Float] = [-3, -1.2, -0.5, 0.1, 0.7, 2.2]
        let dy: [Float] = [0.3, -1, 2, 0.5, -0.7, 1.1]
        var dx = [Float](repeating: 0, count: x.count)
        Kernels.geluBackward(x, dy, &dx, x.count, threads: 2)
        for i in x.indices {
            let fd = finiteDifference(&x, i, step: Tolerance.finiteDifferenceStep) { v in
                zip(v, dy).reduce(0) { $0 + Kernels.geluReference(Double($1.0)) * Double($1.1) }
            }
            #expect(closeFD(fd, dx[i]), "gelu' at \(x[i]): fd \(fd) vs \(dx[i])")
        }
    }

    @Test func softmaxForwardBackward() {
        var rng = TestRandom(seed: 3)
        let (rows, cols) = (3, 5)
        var x = (0..<(rows * cols)).map { _ in rng.uniform() * 3 }
        let w = (0..<(rows * cols)).map { _ in rng.uniform() }
        var y = [Float](repeating: 0, count: x.count)
        Kernels.softmaxForward(x, &y, rows: rows, cols: cols, threads: 2)
        for r in 0..<rows {
            let denom = (0..<cols).reduce(0.0) { $0 + exp(Double(x[r * cols + $1])) }
            for c in 0..<cols { #expect(abs(Double(y[r * cols + c]) - exp(Double(x[r * cols + c])) / denom) < 1e-6) }
        }
        var dx = [Float](repeating: 0, count: x.count)
        Kernels.softmaxBackward(y, w, &dx, rows: rows, cols: cols, threads: 2)
        let loss: ([Float]) -> Double = { v in
            var out = [Float](repeating: 0, count: v.count)
            Kernels.softmaxForward(v, &out, rows: rows, cols: cols, threads: 2)
            return zip(out, w).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }
        for i in x.indices {
            let fd = finiteDifference(&x, i, step: Tolerance.finiteDifferenceStep, loss)
            #expect(closeFD(fd, dx[i]), "softmax dx[\(i)]: fd \(fd) vs \(dx[i])")
        }
    }

    @Test func layerNormForwardBackward() {
        var rng = TestRandom(seed: 5)
        let (rows, cols) = (4, 6)
        var x = (0..<(rows * cols)).map { _ in rng.uniform() * 2 }
        var gamma = (0..<cols).map { _ in 1 + rng.uniform() * 0.5 }
        var beta = (0..<cols).map { _ in rng.uniform() * 0.5 }
        let w = (0..<(rows * cols)).map { _ in rng.uniform() }
        let eps: Float = 1e-5
        func run(_ x: [Float], _ g: [Float], _ b: [Float]) -> ([Float], [Float], [Float]) {
            var y = [Float](repeating: 0, count: x.count), mean = [Float](repeating: 0, count: rows), rstd = mean
            Kernels.layerNormForward(x, g, b, &y, mean: &mean, rstd: &rstd, rows: rows, cols: cols, eps: eps, threads: 2)
            return (y, mean, rstd)
        }
        let (y, mean, rstd) = run(x, gamma, beta)
        // Forward against a float64 reference.
        for r in 0..<rows {
            let row = (0..<cols).map { Double(x[r * cols + $0]) }
            let mu = row.reduce(0, +) / Double(cols)
            let variance = row.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(cols)
            for c in 0..<cols {
                let ref = (row[c] - mu) / (variance + Double(eps)).squareRoot() * Double(gamma[c]) + Double(beta[c])
                #expect(abs(Double(y[r * cols + c]) - ref) < 1e-5)
            }
        }
        var dx = [Float](repeating: 0, count: x.count), dg = [Float](repeating: 0, count: cols), db = dg
        Kernels.layerNormBackward(x, gamma, mean: mean, rstd: rstd, w, &dx, dgamma: &dg, dbeta: &db, rows: rows, cols: cols,
                                  threads: 2)
        let dot: ([Float]) -> Double = { out in zip(out, w).reduce(0) { $0 + Double($1.0) * Double($1.1) } }
        for i in x.indices {
            let fd = finiteDifference(&x, i, step: Tolerance.finiteDifferenceStep) { dot(run($0, gamma, beta).0) }
            #expect(closeFD(fd, dx[i]), "layernorm dx[\(i)]: fd \(fd) vs \(dx[i])")
        }
        for c in 0..<cols {
            let fdg = finiteDifference(&gamma, c, step: Tolerance.finiteDifferenceStep) { dot(run(x, $0, beta).0) }
            let fdb = finiteDifference(&beta, c, step: Tolerance.finiteDifferenceStep) { dot(run(x, gamma, $0).0) }
            #expect(closeFD(fdg, dg[c]) && closeFD(fdb, db[c]), "layernorm dgamma/dbeta[\(c)]")
        }
    }

    @Test func crossEntropyIgnoresMinus100AndMatchesFiniteDifferences() {
        var rng = TestRandom(seed: 9)
        let (rows, cols) = (4, 5)
        var x = (0..<(rows * cols)).map { _ in rng.uniform() * 2 }
        let labels: [Int32] = [2, -100, 0, 4]
        var d = [Float](repeating: 0, count: x.count)
        let (loss, count) = Kernels.crossEntropy(x, labels: labels, rows: rows, cols: cols, dlogits: &d, threads: 1)
        #expect(count == 3)
        var ref = 0.0
        for r in [0, 2, 3] {
            let logZ = log((0..<cols).reduce(0.0) { $0 + exp(Double(x[r * cols + $1])) })
            ref += logZ - Double(x[r * cols + Int(labels[r])])
        }
        #expect(abs(Double(loss) - ref / 3) < 1e-6)
        #expect((0..<cols).allSatisfy { d[cols + $0] == 0 }, "ignored row has zero gradient")
        for i in x.indices {
            let fd = finiteDifference(&x, i, step: Tolerance.finiteDifferenceStep) {
                Double(Kernels.crossEntropy($0, labels: labels, rows: rows, cols: cols, dlogits: nil, threads: 1).loss)
            }
            #expect(closeFD(fd, d[i]), "cross-entropy d[\(i)]: fd \(fd) vs \(d[i])")
        }
    }

    @Test func dropoutKeepsExpectedFractionAndScales() {
        var rng = Xoshiro256(seed: 1)
        let n = 20_000
        var mask = [Float](repeating: 0, count: n)
        Kernels.dropoutMask(&mask, n, p: 0.25, rng: &rng, threads: 1)
        let kept = mask.filter { $0 != 0 }
        #expect(kept.allSatisfy { abs($0 - 1 / 0.75) < 1e-6 })
        #expect(abs(Double(kept.count) / Double(n) - 0.75) < 0.02)
        Kernels.dropoutMask(&mask, n, p: 0, rng: &rng, threads: 1)
        #expect(mask.allSatisfy { $0 == 1 })
    }

    /// The C kernel (chunks' streams side by side in vector lanes) against the Swift loop it replaced, on every path
    /// this processor runs: short and partial chunks, ranges that start mid-mask, fewer chunks than lanes.
    @Test func dropoutKernelGivesTheReferenceBitsOnEveryPath() {
        let chunk = Kernels.dropoutChunk
        let cases: [(n: Int, chunks: Range<Int>)] = [(0, 0..<0), (1, 0..<1), (100, 0..<1), (chunk - 1, 0..<1), (chunk, 0..<1),
                                                     (chunk + 1, 0..<2), (3 * chunk, 0..<3), (9 * chunk + 5, 0..<10),
                                                     (17 * chunk, 0..<17), (17 * chunk, 3..<14), (12 * chunk + 7, 5..<13)]
        for path in 0...CKernelPath.best {
            for (n, chunks) in cases {
                for (p, seed) in [(Float(0.1), UInt64(1)), (0.3, 0xDEAD_BEEF_CAFE_F00D), (0.5, 42), (0.9, UInt64.max)] {
                    var ours = [Float](repeating: .nan, count: n), reference = ours
                    ours.withUnsafeMutableBufferPointer {
                        Kernels.dropoutChunks($0.baseAddress!, n, p: p, seed: seed, chunks: chunks, path: path)
                    }
                    reference.withUnsafeMutableBufferPointer {
                        Kernels.dropoutChunksReference($0.baseAddress!, n, p: p, seed: seed, chunks: chunks)
                    }
                    #expect(ours.map(\.bitPattern) == reference.map(\.bitPattern), "path \(path), n \(n), chunks \(chunks), p \(p)")
                }
            }
        }
    }

    /// The seeded contract: one draw from the caller's stream per call, the same bits for any thread count, and
    /// chunks that are not copies of each other.
    @Test func dropoutMaskIsTheSameBitsForAnyThreadCount() {
        let n = 5 * Kernels.dropoutChunk + 123
        var one = [Float](repeating: .nan, count: n), split = one
        var rngOne = Xoshiro256(seed: 7)
        Kernels.dropoutMask(&one, n, p: 0.1, rng: &rngOne, threads: 1)
        for threads in [2, 3] {
            var rng = Xoshiro256(seed: 7)
            Kernels.dropoutMask(&split, n, p: 0.1, rng: &rng, threads: threads)
            #expect(split == one, "\(threads) threads")
            #expect(rng.next() == rngOne.next(), "one draw per call")
            rngOne = Xoshiro256(seed: 7); _ = rngOne.next()
        }
        let chunk = Kernels.dropoutChunk
        #expect(Array(one[0..<chunk]) != Array(one[chunk..<(2 * chunk)]))
        let kept = Double(one.filter { $0 != 0 }.count) / Double(n)
        #expect(abs(kept - 0.9) < 0.01, "kept \(kept)")
    }

    @Test func batchedGemmMatchesReference() {
        // Attention-shaped: (B=2, NH=3) heads read in place from (B, T, C) with C = 12, HS = 4, T = 5.
        let (B, NH, T, HS) = (2, 3, 5, 4), C = NH * HS
        var rng = TestRandom(seed: 21)
        let q = (0..<(B * T * C)).map { _ in rng.uniform() }, k = (0..<(B * T * C)).map { _ in rng.uniform() }
        var fast = [Float](repeating: 0, count: B * NH * T * T), slow = fast
        let hidden = BatchStrides(batch: T * C, head: HS), scores = BatchStrides(batch: NH * T * T, head: T * T)
        for reference in [false, true] {
            var out = [Float](repeating: 0, count: B * NH * T * T)
            q.withUnsafeBufferPointer { qp in k.withUnsafeBufferPointer { kp in
                out.withUnsafeMutableBufferPointer { cp in
                    sgemmBatched(.none, .transposed, m: T, n: T, k: HS, batches: B, heads: NH, alpha: 0.5,
                                 a: qp.baseAddress!, lda: C, aStrides: hidden, b: kp.baseAddress!, ldb: C, bStrides: hidden,
                                 c: cp.baseAddress!, ldc: T, cStrides: scores, threads: 2, reference: reference)
                }
            } }
            if reference { slow = out } else { fast = out }
        }
        #expect(zip(fast, slow).allSatisfy { abs($0 - $1) <= Tolerance.gemmRelative * max(1, abs($1)) })
        // One entry by hand: scores[b=1, h=2, i=3, j=1] = 0.5 · Σ_d q[1,3,2·4+d] · k[1,1,2·4+d].
        var hand: Float = 0
        for d in 0..<HS { hand += q[1 * T * C + 3 * C + 8 + d] * k[1 * T * C + 1 * C + 8 + d] }
        #expect(abs(fast[1 * NH * T * T + 2 * T * T + 3 * T + 1] - 0.5 * hand) < 1e-5)
    }

    @Test func rngIsDeterministicAndNormalHasUnitMoments() {
        var a = Xoshiro256(seed: 42), b = Xoshiro256(seed: 42), c = Xoshiro256(seed: 43)
        let sa = (0..<8).map { _ in a.next() }, sb = (0..<8).map { _ in b.next() }, sc = (0..<8).map { _ in c.next() }
        #expect(sa == sb && sa != sc)
        var r = Xoshiro256(seed: 7)
        let n = 50_000
        let xs = (0..<n).map { _ in Double(r.normal()) }
        let mean = xs.reduce(0, +) / Double(n)
        let variance = xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
        #expect(abs(mean) < 0.02 && abs(variance - 1) < 0.03, "mean \(mean), variance \(variance)")
        let u = (0..<n).map { _ in r.uniform() }
        #expect(u.allSatisfy { $0 >= 0 && $0 < 1 })
        #expect((0..<1000).allSatisfy { _ in (0..<7).contains(r.below(7)) })
    }

    /// (GELU's Φ and φ: GeluTests.)
    @Test func vectorisedExpMatchesLibm() {
        var worstExp: Double = 0
        var x: Float = -30
        while x < 30 {
            let v = SIMD8<Float>((0..<8).map { x + Float($0) * 0.0071 })
            let e = simdExp(v)
            for j in 0..<8 {
                let d = Double(v[j])
                worstExp = max(worstExp, abs(Double(e[j]) - exp(d)) / exp(d))
            }
            x += 0.057
        }
        #expect(worstExp < Tolerance.fastExpRelative, "exp relative error \(worstExp)")
        #expect(simdExp(SIMD8(repeating: -Float.greatestFiniteMagnitude)) == SIMD8(repeating: 0), "masked scores give exactly 0")
    }

    @Test func storageIsAligned() {
        let buffer = FloatBuffer(count: 100)
        #expect(Int(bitPattern: buffer.pointer) % 64 == 0)
        var arena = Arena(count: Arena.size([[3], [5, 2]]))
        _ = arena.take([3])
        #expect(Int(bitPattern: arena.take([5, 2]).pointer) % 64 == 0)
    }
}
