// Integer matrix multiply u8 · s8 → s32 for quantized inference: the oneDNN fast path and the plain-Swift
// reference beside it. The weight operand is stored (N, K) as a linear layer's weight, so C = A · Bᵀ.
import CDNNL

/// The largest activation code the int8 kernels may use. oneDNN 2.6 on AVX2 without VNNI multiplies u8 · s8
/// pairs with `vpmaddubsw`, whose 16-bit pair sums saturate: 255 · 127 · 2 overflows, and a test measured
/// 1,048,544 instead of 2,072,640 for a 64-long dot product of 255s and 127s. With activations kept in 0...127
/// (7 bits) and weights in -127...127 a pair sum is at most 2 · 127 · 128 = 32,512 < 32,767, so the result is
/// exact on every ISA. (On VNNI machines the 8th activation bit would be free; we keep one code path.)
package let int8ActivationMax: Int32 = 127

/// C (M, N) = A (M, K) · Bᵀ, with A unsigned 8-bit (row stride lda), B signed 8-bit stored (N, K) (row stride
/// ldb), C 32-bit (row stride ldc). No offsets: callers correct zero points themselves (see the linear kernels).
/// Activations must stay within 0...`int8ActivationMax` (see above).
package func gemmU8S8S32(m: Int, n: Int, k: Int, a: UnsafePointer<UInt8>, lda: Int,
                         b: UnsafePointer<Int8>, ldb: Int, c: UnsafeMutablePointer<Int32>, ldc: Int) {
    precondition(m >= 0 && n >= 0 && k >= 0, "gemmU8S8S32: negative dimension")
    if m == 0 || n == 0 { return }
    var zero: Int32 = 0
    let status = OneDNN.withThreads(OneDNN.gemmThreads(multiplyAdds: m * n * k, threads: ComputeInfo.threads)) {
        dnnl_gemm_u8s8s32(CChar(UInt8(ascii: "N")), CChar(UInt8(ascii: "T")), CChar(UInt8(ascii: "F")),
                          Int64(m), Int64(n), Int64(k), 1, a, Int64(lda), 0, b, Int64(ldb), 0, 0, c, Int64(ldc), &zero)
    }
    precondition(status == dnnl_success, "dnnl_gemm_u8s8s32 failed with status \(status.rawValue)")
}

/// The reference for `gemmU8S8S32`: the same contract as plain loops with exact 32-bit accumulation.
package func gemmU8S8S32Reference(m: Int, n: Int, k: Int, a: UnsafePointer<UInt8>, lda: Int,
                                  b: UnsafePointer<Int8>, ldb: Int, c: UnsafeMutablePointer<Int32>, ldc: Int) {
    for i in 0..<m {
        for j in 0..<n {
            var sum: Int32 = 0
            for p in 0..<k { sum &+= Int32(a[i * lda + p]) * Int32(b[j * ldb + p]) }
            c[i * ldc + j] = sum
        }
    }
}
