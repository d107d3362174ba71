// The int8 path's row passes (Compression's Int8Math): a row's range, its 7-bit codes, and the dequantizing
// epilogue, with AVX-512F and AVX2 paths chosen at run time as in gelu.c. Every path is bit for bit the Swift
// reference (Int8Math.Reference): min/max are exact, the division is IEEE, the clamps keep the reference's operand
// order (so NaN and -0 go the same way), the rounding is the same 1.5·2²³ addition, and the epilogue is the same
// products and sum in the same order with no FMA contraction (the pragmas below; the file must not be built with
// -ffast-math).
#include "CKernels.h"
#include <stdint.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#pragma STDC FP_CONTRACT OFF
#pragma clang fp contract(off)

#define MAGIC 12582912.0f   // 1.5·2²³

// ---- portable C: the reference's expressions one value at a time ----

static void range_c(const float *x, long n, float *lo, float *hi) {
    float l = *lo, h = *hi;
    for (long k = 0; k < n; k++) {
        float v = x[k];
        l = v < l ? v : l;
        h = v > h ? v : h;
    }
    *lo = l; *hi = h;
}

/// Folds a vector path's lane minima and maxima into *lo and *hi. The lanes hold neither NaN nor -0 (see
/// Int8Math.Reference.rowRange), so any reduction order gives the same bits.
static void fold_lanes(const float *ls, const float *hs, int lanes, float *lo, float *hi) {
    float rl = *lo, rh = *hi;
    for (int i = 0; i < lanes; i++) { rl = ls[i] < rl ? ls[i] : rl; rh = hs[i] > rh ? hs[i] : rh; }
    *lo = rl; *hi = rh;
}

static inline uint8_t code_c(float v, float scale, float zero, float top) {
    float y = v / scale + zero;
    y = y < 0 ? 0 : y;
    y = y > top ? top : y;
    float t = y + MAGIC;
    uint32_t bits;
    memcpy(&bits, &t, 4);
    return (uint8_t)bits;
}

static void quantize_c(const float *x, long n, float scale, float zero, float top, uint8_t *q) {
    for (long k = 0; k < n; k++) q[k] = code_c(x[k], scale, zero, top);
}

static void dequantize_c(const int32_t *acc, long n, int32_t zero, float sx, const float *ws, const int32_t *rowsum,
                         const float *bias, float *y) {
    for (long j = 0; j < n; j++) {
        int32_t a = (int32_t)((uint32_t)acc[j] - (uint32_t)zero * (uint32_t)rowsum[j]);   // wrapping, as &- and &*
        float s = sx * ws[j];
        float p = (float)a * s;
        y[j] = p + bias[j];
    }
}

static void column_abs_max_c(const float *x, long rows, long k, float *colmax) {
    for (long i = 0; i < rows; i++) {
        const float *r = x + i * k;
        for (long c = 0; c < k; c++) {
            float v = __builtin_fabsf(r[c]);
            colmax[c] = v > colmax[c] ? v : colmax[c];
        }
    }
}

#if defined(__x86_64__)
// ---- AVX-512F: 16 lanes, masked loads and stores for the tail ----
#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)
static inline __mmask16 mask16(long count) { return count >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << count) - 1); }

static void range_512(const float *x, long n, float *lo, float *hi) {
    // _mm512_min_ps(v, l) is v < l ? v : l lane by lane, as the reference. Masked-off lanes load 0, which changes
    // nothing: the accumulators start at 0, so lo <= 0 <= hi throughout.
    __m512 l = _mm512_set1_ps(*lo), h = _mm512_set1_ps(*hi), l2 = l, h2 = h;
    long k = 0;
    for (; k + 32 <= n; k += 32) {
        __m512 a = _mm512_loadu_ps(x + k), b = _mm512_loadu_ps(x + k + 16);
        l = _mm512_min_ps(a, l); h = _mm512_max_ps(a, h);
        l2 = _mm512_min_ps(b, l2); h2 = _mm512_max_ps(b, h2);
    }
    for (; k < n; k += 16) {
        __m512 a = _mm512_maskz_loadu_ps(mask16(n - k), x + k);
        l = _mm512_min_ps(a, l); h = _mm512_max_ps(a, h);
    }
    float ls[16], hs[16];
    _mm512_storeu_ps(ls, _mm512_min_ps(l2, l));
    _mm512_storeu_ps(hs, _mm512_max_ps(h2, h));
    fold_lanes(ls, hs, 16, lo, hi);
}

static void column_abs_max_512(const float *x, long rows, long k, float *colmax) {
    // _mm512_max_ps(v, m) is v > m ? v : m lane by lane (m when v is NaN), as the reference.
    __m512 sign = _mm512_castsi512_ps(_mm512_set1_epi32(0x7FFFFFFF));
    for (long i = 0; i < rows; i++) {
        const float *r = x + i * k;
        for (long c = 0; c < k; c += 16) {
            __mmask16 m = mask16(k - c);
            __m512 v = _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(_mm512_maskz_loadu_ps(m, r + c)),
                                                            _mm512_castps_si512(sign)));
            _mm512_mask_storeu_ps(colmax + c, m, _mm512_max_ps(v, _mm512_maskz_loadu_ps(m, colmax + c)));
        }
    }
}

static inline __m512i codes_512(__m512 v, __m512 scale, __m512 zero, __m512 top) {
    __m512 y = _mm512_add_ps(_mm512_div_ps(v, scale), zero);
    y = _mm512_max_ps(_mm512_setzero_ps(), y);   // 0 > y ? 0 : y, i.e. y < 0 ? 0 : y
    y = _mm512_min_ps(top, y);                   // top < y ? top : y, i.e. y > top ? top : y
    return _mm512_castps_si512(_mm512_add_ps(y, _mm512_set1_ps(MAGIC)));
}

static void quantize_512(const float *x, long n, float s, float z, float t, uint8_t *q) {
    __m512 scale = _mm512_set1_ps(s), zero = _mm512_set1_ps(z), top = _mm512_set1_ps(t);
    long k = 0;
    for (; k + 16 <= n; k += 16)
        _mm_storeu_si128((__m128i *)(q + k), _mm512_cvtepi32_epi8(codes_512(_mm512_loadu_ps(x + k), scale, zero, top)));
    if (k < n) {
        __mmask16 m = mask16(n - k);
        _mm512_mask_cvtepi32_storeu_epi8(q + k, m, codes_512(_mm512_maskz_loadu_ps(m, x + k), scale, zero, top));
    }
}

static inline __m512 dequantize_16(__mmask16 m, const int32_t *acc, __m512i zero, __m512 sx, const float *ws, const int32_t *rowsum,
                                   const float *bias) {
    __m512i a = _mm512_sub_epi32(_mm512_maskz_loadu_epi32(m, acc), _mm512_mullo_epi32(zero, _mm512_maskz_loadu_epi32(m, rowsum)));
    __m512 s = _mm512_mul_ps(sx, _mm512_maskz_loadu_ps(m, ws));
    return _mm512_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(a), s), _mm512_maskz_loadu_ps(m, bias));
}

static void dequantize_512(const int32_t *acc, long n, int32_t z, float x, const float *ws, const int32_t *rowsum, const float *bias,
                           float *y) {
    __m512i zero = _mm512_set1_epi32(z);
    __m512 sx = _mm512_set1_ps(x);
    for (long j = 0; j < n; j += 16) {
        __mmask16 m = mask16(n - j);
        _mm512_mask_storeu_ps(y + j, m, dequantize_16(m, acc + j, zero, sx, ws + j, rowsum + j, bias + j));
    }
}
#pragma clang attribute pop

// ---- AVX2: 8 lanes, the tail through the portable code ----
#pragma clang attribute push(__attribute__((target("avx2"))), apply_to = function)
static void range_256(const float *x, long n, float *lo, float *hi) {
    __m256 l = _mm256_set1_ps(*lo), h = _mm256_set1_ps(*hi), l2 = l, h2 = h;
    long k = 0;
    for (; k + 16 <= n; k += 16) {
        __m256 a = _mm256_loadu_ps(x + k), b = _mm256_loadu_ps(x + k + 8);
        l = _mm256_min_ps(a, l); h = _mm256_max_ps(a, h);
        l2 = _mm256_min_ps(b, l2); h2 = _mm256_max_ps(b, h2);
    }
    float ls[8], hs[8];
    _mm256_storeu_ps(ls, _mm256_min_ps(l2, l));
    _mm256_storeu_ps(hs, _mm256_max_ps(h2, h));
    fold_lanes(ls, hs, 8, lo, hi);
    range_c(x + k, n - k, lo, hi);
}

static void quantize_256(const float *x, long n, float s, float z, float t, uint8_t *q) {
    __m256 scale = _mm256_set1_ps(s), zero = _mm256_set1_ps(z), top = _mm256_set1_ps(t), magic = _mm256_set1_ps(MAGIC);
    __m256i low = _mm256_set1_epi32(0xFF);
    long k = 0;
    for (; k + 8 <= n; k += 8) {
        __m256 y = _mm256_add_ps(_mm256_div_ps(_mm256_loadu_ps(x + k), scale), zero);
        y = _mm256_max_ps(_mm256_setzero_ps(), y);
        y = _mm256_min_ps(top, y);
        // The low byte of each lane's bits, as the reference's truncation; 0...255, so the packs never saturate.
        __m256i b = _mm256_and_si256(_mm256_castps_si256(_mm256_add_ps(y, magic)), low);
        __m128i w = _mm_packus_epi32(_mm256_castsi256_si128(b), _mm256_extracti128_si256(b, 1));
        _mm_storel_epi64((__m128i *)(q + k), _mm_packus_epi16(w, w));
    }
    quantize_c(x + k, n - k, s, z, t, q + k);
}

static void column_abs_max_256(const float *x, long rows, long k, float *colmax) {
    __m256 sign = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
    long body = k / 8 * 8;
    for (long i = 0; i < rows; i++) {
        const float *r = x + i * k;
        for (long c = 0; c < body; c += 8) {
            __m256 v = _mm256_and_ps(_mm256_loadu_ps(r + c), sign);
            _mm256_storeu_ps(colmax + c, _mm256_max_ps(v, _mm256_loadu_ps(colmax + c)));
        }
        column_abs_max_c(r + body, 1, k - body, colmax + body);
    }
}

static void dequantize_256(const int32_t *acc, long n, int32_t z, float x, const float *ws, const int32_t *rowsum, const float *bias,
                           float *y) {
    __m256i zero = _mm256_set1_epi32(z);
    __m256 sx = _mm256_set1_ps(x);
    long j = 0;
    for (; j + 8 <= n; j += 8) {
        __m256i a = _mm256_sub_epi32(_mm256_loadu_si256((const __m256i *)(acc + j)),
                                     _mm256_mullo_epi32(zero, _mm256_loadu_si256((const __m256i *)(rowsum + j))));
        __m256 s = _mm256_mul_ps(sx, _mm256_loadu_ps(ws + j));
        _mm256_storeu_ps(y + j, _mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(a), s), _mm256_loadu_ps(bias + j)));
    }
    dequantize_c(acc + j, n - j, z, x, ws + j, rowsum + j, bias + j, y + j);
}
#pragma clang attribute pop
#endif

void ck_int8_row_range(int path, const float *x, long n, float *lo, float *hi) {
    switch (ck_lower_path(path)) {
#if defined(__x86_64__)
    case 2: range_512(x, n, lo, hi); return;
    case 1: range_256(x, n, lo, hi); return;
#endif
    default: range_c(x, n, lo, hi);
    }
}

void ck_int8_quantize_row(int path, const float *x, long n, float scale, float zero, float top, unsigned char *q) {
    switch (ck_lower_path(path)) {
#if defined(__x86_64__)
    case 2: quantize_512(x, n, scale, zero, top, q); return;
    case 1: quantize_256(x, n, scale, zero, top, q); return;
#endif
    default: quantize_c(x, n, scale, zero, top, q);
    }
}

void ck_int8_dequantize_row(int path, const int *acc, long n, int zero, float sx, const float *wscale, const int *rowsum,
                            const float *bias, float *y) {
    switch (ck_lower_path(path)) {
#if defined(__x86_64__)
    case 2: dequantize_512(acc, n, zero, sx, wscale, rowsum, bias, y); return;
    case 1: dequantize_256(acc, n, zero, sx, wscale, rowsum, bias, y); return;
#endif
    default: dequantize_c(acc, n, zero, sx, wscale, rowsum, bias, y);
    }
}

void ck_int8_column_abs_max(int path, const float *x, long rows, long k, float *colmax) {
    switch (ck_lower_path(path)) {
#if defined(__x86_64__)
    case 2: column_abs_max_512(x, rows, k, colmax); return;
    case 1: column_abs_max_256(x, rows, k, colmax); return;
#endif
    default: column_abs_max_c(x, rows, k, colmax);
    }
}
