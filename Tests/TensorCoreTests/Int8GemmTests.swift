// u8 · s8 → s32 GEMM through oneDNN against the exact plain-Swift reference, including the extremes that
// saturate oneDNN's AVX2 kernel when activations use the 8th bit (which is why they stay in 0...127).
import Testing
import TestSupport
@testable import TensorCore

@Suite struct Int8GemmTests {
    @Test(arguments: [(1, 1, 1), (3, 5, 7), (17, 33, 64), (64, 48, 300)])
    func matchesReferenceExactly(m: Int, n: Int, k: Int) {
        var r = TestRandom(seed: UInt64(m * 1000 + n * 10 + k))
        let a = (0..<(m * k)).map { _ in UInt8(r.below(Int(int8ActivationMax) + 1)) }
        let b = (0..<(n * k)).map { _ in Int8(r.below(255) - 127) }
        var fast = [Int32](repeating: 0, count: m * n), reference = fast
        gemmU8S8S32(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: k, c: &fast, ldc: n)
        gemmU8S8S32Reference(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: k, c: &reference, ldc: n)
        #expect(fast == reference)
    }

    @Test func extremesWithinTheActivationRangeAreExact() {
        let k = 256
        let a = [UInt8](repeating: UInt8(int8ActivationMax), count: k)
        for w in [Int8(127), Int8(-127)] {
            let b = [Int8](repeating: w, count: k)
            var c: [Int32] = [0]
            gemmU8S8S32(m: 1, n: 1, k: k, a: a, lda: k, b: b, ldb: k, c: &c, ldc: 1)
            #expect(c[0] == Int32(k) * int8ActivationMax * Int32(w))
        }
    }
}
