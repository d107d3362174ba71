// The prepacked int8 GEMM (oneDNN 1×1 int8 convolution over reordered weights) against the exact plain-Swift
// reference: several shapes, several row counts through one plan (cached primitives, one weight reorder), and
// the extremes of the 7-bit activation range.
import Testing
import TestSupport
@testable import TensorCore

@Suite struct Int8MatmulTests {
    @Test(arguments: [(1, 1, 1), (3, 5, 7), (17, 33, 64), (64, 48, 300), (130, 40, 96)])
    func matchesReferenceExactly(m: Int, n: Int, k: Int) {
        var r = TestRandom(seed: UInt64(m * 1000 + n * 10 + k))
        let b = (0..<(n * k)).map { _ in Int8(r.below(255) - 127) }
        b.withUnsafeBufferPointer { bp in
            let gemm = Int8PackedGemm(weights: bp.baseAddress!, n: n, k: k, owner: nil)
            // Several row counts through the same plan, and one of them twice (the cached primitive).
            for rows in [m, 1, m + 3, m] {
                let a = (0..<(rows * k)).map { _ in UInt8(r.below(Int(int8ActivationMax) + 1)) }
                var fast = [Int32](repeating: -1, count: rows * n), reference = fast
                a.withUnsafeBufferPointer { gemm.multiply(m: rows, a: $0.baseAddress!, c: &fast) }
                gemmU8S8S32Reference(m: rows, n: n, k: k, a: a, lda: k, b: bp.baseAddress!, ldb: k, c: &reference, ldc: n)
                #expect(fast == reference, "rows \(rows) of (\(n), \(k)) via \(gemm.implementation(rows: rows))")
            }
        }
    }

    @Test func manyRowCountsThroughTheBoundedPlanCache() {
        let n = 9, k = 20
        var r = TestRandom(seed: 5)
        let b = (0..<(n * k)).map { _ in Int8(r.below(255) - 127) }
        b.withUnsafeBufferPointer { bp in
            let gemm = Int8PackedGemm(weights: bp.baseAddress!, n: n, k: k, owner: nil)
            for rows in Array(1...40) + [3, 1] {   // past the cache bound, then back to evicted row counts
                let a = (0..<(rows * k)).map { _ in UInt8(r.below(Int(int8ActivationMax) + 1)) }
                var fast = [Int32](repeating: -1, count: rows * n), reference = fast
                a.withUnsafeBufferPointer { gemm.multiply(m: rows, a: $0.baseAddress!, c: &fast) }
                gemmU8S8S32Reference(m: rows, n: n, k: k, a: a, lda: k, b: bp.baseAddress!, ldb: k, c: &reference, ldc: n)
                #expect(fast == reference, "rows \(rows)")
            }
        }
    }

    @Test func extremesWithinTheActivationRangeAreExact() {
        let k = 256, n = 16
        let a = [UInt8](repeating: UInt8(int8ActivationMax), count: 4 * k)
        for w in [Int8(127), Int8(-127)] {
            let b = [Int8](repeating: w, count: n * k)
            var c = [Int32](repeating: 0, count: 4 * n)
            b.withUnsafeBufferPointer { bp in
                let gemm = Int8PackedGemm(weights: bp.baseAddress!, n: n, k: k, owner: nil)
                gemm.multiply(m: 4, a: a, c: &c)
                print("Int8PackedGemm uses \(gemm.implementation(rows: 4))")
            }
            #expect(c.allSatisfy { $0 == Int32(k) * int8ActivationMax * Int32(w) })
        }
    }
}
