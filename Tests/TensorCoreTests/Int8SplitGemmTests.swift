// The int8 product split by output columns over `Parallel.parts` against the exact plain-Swift reference: every
// slice's block in its place, the epilogue called once per slice and row block on exactly its columns and rows, for
// 1–3 parts, whole or blocked rows, and row counts on both sides of the split threshold.
import Foundation
import Testing
import TestSupport
@testable import TensorCore

@Suite struct Int8SplitGemmTests {
    /// Records each slice the epilogue sees (from whichever thread), and copies its block into (m, N) row-major.
    final class Collect: Int8Epilogue, @unchecked Sendable {
        let n: Int
        var c: [Int32]
        var seen: [(rows: Range<Int>, start: Int, count: Int)] = []
        let lock = NSLock()
        init(m: Int, n: Int) { self.n = n; c = [Int32](repeating: -1, count: m * n) }
        func finish(rows: Range<Int>, start: Int, count: Int, acc: UnsafePointer<Int32>) {
            lock.withLock {
                seen.append((rows, start, count))
                for i in rows { for j in 0..<count { c[i * n + start + j] = acc[(i - rows.lowerBound) * count + j] } }
            }
        }
    }

    @Test(arguments: [1, 2, 3], [0, 16])
    func slicesTogetherEqualTheReference(parts: Int, rowBlock: Int) {
        let n = 200, k = 96
        var r = TestRandom(seed: UInt64(parts))
        let b = (0..<(n * k)).map { _ in Int8(r.below(255) - 127) }
        b.withUnsafeBufferPointer { bp in
            let gemm = Int8SplitGemm(weights: bp.baseAddress!, n: n, k: k, parts: parts, owner: nil)
            gemm.rowBlock = rowBlock
            #expect(gemm.parts == min(parts, n / Int8SplitGemm.minimumSliceWidth))
            // 3 rows stay on the calling thread (3 · 200 · 96 < 2^20); 70 split (70 · 200 · 96 ≥ 2^20); then 3 again.
            for m in [3, 70, 3] {
                let a = (0..<(m * k)).map { _ in UInt8(r.below(Int(int8ActivationMax) + 1)) }
                var acc = [Int32](repeating: -1, count: m * n), reference = acc
                let collect = Collect(m: m, n: n)
                a.withUnsafeBufferPointer { gemm.multiply(m: m, a: $0.baseAddress!, acc: &acc, epilogue: collect) }
                gemmU8S8S32Reference(m: m, n: n, k: k, a: a, lda: k, b: bp.baseAddress!, ldb: k, c: &reference, ldc: n)
                #expect(collect.c == reference, "m \(m), parts \(parts) via \(gemm.implementation(rows: m))")
                // Each slice's blocks cover the rows 0..<m in order, each row once; the slices cover the columns.
                let blocks = rowBlock > 0 ? (m + rowBlock - 1) / rowBlock : 1
                let bySlice = Dictionary(grouping: collect.seen, by: \.start)
                #expect(bySlice.count == gemm.parts)
                for (_, seen) in bySlice {
                    let rows = seen.map(\.rows).sorted { $0.lowerBound < $1.lowerBound }
                    #expect(rows.count == blocks && rows.first?.lowerBound == 0 && rows.last?.upperBound == m)
                    #expect(zip(rows, rows.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound && $0.count <= max(rowBlock, m) })
                }
                let covered = bySlice.values.map { $0[0] }.sorted { $0.start < $1.start }
                #expect(covered.first?.start == 0)
                #expect(zip(covered, covered.dropFirst()).allSatisfy { $0.start + $0.count == $1.start })
                #expect(covered.last.map { $0.start + $0.count } == n)
            }
        }
    }
}
