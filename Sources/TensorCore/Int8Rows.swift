// The int8 path's row passes (a row's range, its 7-bit codes, the dequantizing epilogue) through CKernels, whose
// AVX-512 and AVX2 paths are picked at run time; bit for bit Compression's Swift reference (`Int8Math.Reference`).
import CKernels

package enum Int8Rows {

    /// (min(0, min x), max(0, max x)) over x (n), NaN skipped.
    @inline(__always)
    package static func range(_ x: UnsafePointer<Float>, _ n: Int, path: Int32 = CKernelPath.widest) -> (lo: Float, hi: Float) {
        var lo: Float = 0, hi: Float = 0
        ck_int8_row_range(path, x, n, &lo, &hi)
        return (lo, hi)
    }

    /// colMax (k) = max(colMax, |x|) column by column over x (rows, k), NaN skipped: LLM.int8()'s outlier search.
    @inline(__always)
    package static func columnAbsMax(_ x: UnsafePointer<Float>, rows: Int, _ k: Int, into colMax: UnsafeMutablePointer<Float>,
                                     path: Int32 = CKernelPath.widest) {
        ck_int8_column_abs_max(path, x, rows, k, colMax)
    }

    /// q (n) = low byte of the bits of clamp(x / scale + zero, 0, top) + 1.5·2²³.
    @inline(__always)
    package static func quantize(_ x: UnsafePointer<Float>, _ n: Int, scale: Float, zero: Float, top: Float,
                                 into q: UnsafeMutablePointer<UInt8>, path: Int32 = CKernelPath.widest) {
        ck_int8_quantize_row(path, x, n, scale, zero, top, q)
    }

    /// y (n) = Float(acc − zero · rowSum) · (sx · wScale) + bias, the integer parts wrapping.
    @inline(__always)
    package static func dequantize(_ acc: UnsafePointer<Int32>, _ n: Int, zero: Int32, sx: Float, wScale: UnsafePointer<Float>,
                                   rowSum: UnsafePointer<Int32>, bias: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>,
                                   path: Int32 = CKernelPath.widest) {
        ck_int8_dequantize_row(path, acc, n, zero, sx, wScale, rowSum, bias, y)
    }
}
