// Softmax over rows, the engine's Swift reference (TensorCore's Kernels.softmaxReference: the row maximum, e^(x − max)
// by FastMath's simdExp in 8-lane blocks, the 8 lanes' partial sums, then y = e · (1/Σ)) bit for bit, with AVX-512F
// and AVX2 paths chosen at run time as in gelu.c. Bit for bit because the exp is the same IEEE operations in the same
// order with no FMA contraction (the pragmas below; the file must not be built with -ffast-math), the lanes' partial
// sums take the same values in the same order (the AVX-512 path adds its low eight lanes, then its high eight, into
// eight partial sums), and a maximum does not depend on the order it is taken in (for ±0 either may come out, which
// gives the same e^(x − max); a NaN makes the whole row NaN either way).
#include "CKernels.h"
#include <stdint.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#pragma STDC FP_CONTRACT OFF
#pragma clang fp contract(off)

// simdExp's constants (FastMath.swift), as its Float literals round them.
#define EXP_LO -87.3f
#define EXP_HI 88.7f
#define MAGIC 12582912.0f   // 1.5·2²³
#define LOG2E 1.44269504088896341f
#define LN2_HI 0.693359375f
#define LN2_LO 2.12194440e-4f
#define P0 1.9875691500e-4f
#define P1 1.3981999507e-3f
#define P2 8.3334519073e-3f
#define P3 4.1665795894e-2f
#define P4 1.6666665459e-1f
#define P5 5.0000001201e-1f

// ---- portable C: simdExp one lane at a time ----

static inline float exp_c(float in) {
    float x = in < EXP_LO ? EXP_LO : in;
    x = x > EXP_HI ? EXP_HI : x;
    float n = (x * LOG2E + MAGIC) - MAGIC;
    float r = x - n * LN2_HI;
    r = r + n * LN2_LO;
    float p = P0;
    p = p * r + P1; p = p * r + P2; p = p * r + P3; p = p * r + P4; p = p * r + P5;
    p = p * (r * r) + r + 1;
    float t = n + MAGIC;
    uint32_t bits, sbits;
    memcpy(&bits, &t, 4);
    sbits = ((bits - 0x4B400000u) + 127u) << 23;
    float scale;
    memcpy(&scale, &sbits, 4);
    float e = p * scale;
    return in < EXP_LO ? 0 : e;
}

/// The lanes' partial sums folded as the reference folds them: lane 0 first, then 1, …, 7.
static inline float fold8(const float *lanes) {
    float s = -0.0f;
    for (int j = 0; j < 8; j++) s += lanes[j];
    return s;
}

static float row_max_c(const float *x, long n) {
    float m = -__builtin_inff();
    for (long c = 0; c < n; c++) m = x[c] > m ? x[c] : m;
    return m;
}

static float exp_shifted_c(const float *x, float *y, long n, float m) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0}, tail[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    long i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) { float e = exp_c(x[i + j] - m); y[i + j] = e; acc[j] += e; }
    float total = fold8(acc);
    if (i < n) {
        for (int j = 0; j < 8; j++) {
            float e = exp_c((i + j < n ? x[i + j] : 0) - m);
            tail[j] = i + j < n ? e : 0;
            if (i + j < n) y[i + j] = e;
        }
        total += fold8(tail);
    }
    return total;
}

static void softmax_row_c(const float *x, float *y, long n) {
    float total = exp_shifted_c(x, y, n, row_max_c(x, n));
    float inv = 1 / total;
    for (long c = 0; c < n; c++) y[c] *= inv;
}

#if defined(__x86_64__)
// ---- AVX-512F ----
#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)
#define W 512
#define V __m512
#define MASK __mmask16
#define SET1 _mm512_set1_ps
#define ADD _mm512_add_ps
#define SUB _mm512_sub_ps
#define MUL _mm512_mul_ps
#define LESS(a, b) _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ)
#define GREATER(a, b) _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ)
#define CHOOSE(m, a, b) _mm512_mask_blend_ps(m, a, b)
#define ZERO _mm512_setzero_ps()
#define SCALE_BITS(t) _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32( \
    _mm512_sub_epi32(_mm512_castps_si512(t), _mm512_set1_epi32(0x4B400000)), _mm512_set1_epi32(127)), 23))
#include "exp_path.h"

static float row_max_512(const float *x, long n) {
    __m512 m16 = _mm512_set1_ps(-__builtin_inff());
    long c = 0;
    for (; c + 16 <= n; c += 16) m16 = _mm512_max_ps(m16, _mm512_loadu_ps(x + c));
    float m = _mm512_reduce_max_ps(m16);
    for (; c < n; c++) m = x[c] > m ? x[c] : m;
    return m;
}

static float exp_shifted_512(const float *x, float *y, long n, float m) {
    __m512 shift = _mm512_set1_ps(m);
    __m256 acc = _mm256_setzero_ps();
    long i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 e = exp_512(_mm512_sub_ps(_mm512_loadu_ps(x + i), shift));
        _mm512_storeu_ps(y + i, e);
        acc = _mm256_add_ps(acc, _mm512_castps512_ps256(e));              // block i, then block i + 8, as the reference
        acc = _mm256_add_ps(acc, _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1)));
    }
    float lanes[8];
    if (i + 8 <= n) {
        __mmask16 low = 0x00FF;
        __m512 e = exp_512(_mm512_sub_ps(_mm512_maskz_loadu_ps(low, x + i), shift));
        _mm512_mask_storeu_ps(y + i, low, e);
        acc = _mm256_add_ps(acc, _mm512_castps512_ps256(e));
        i += 8;
    }
    _mm256_storeu_ps(lanes, acc);
    float total = fold8(lanes);
    if (i < n) {
        __mmask16 part = (__mmask16)((1u << (n - i)) - 1);
        __m512 e = exp_512(_mm512_sub_ps(_mm512_maskz_loadu_ps(part, x + i), shift));
        e = _mm512_maskz_mov_ps(part, e);
        _mm512_mask_storeu_ps(y + i, part, e);
        _mm256_storeu_ps(lanes, _mm512_castps512_ps256(e));
        total += fold8(lanes);
    }
    return total;
}

static void softmax_row_512(const float *x, float *y, long n) {
    float total = exp_shifted_512(x, y, n, row_max_512(x, n));
    __m512 inv = _mm512_set1_ps(1 / total);
    long c = 0;
    for (; c + 16 <= n; c += 16) _mm512_storeu_ps(y + c, _mm512_mul_ps(_mm512_loadu_ps(y + c), inv));
    if (c < n) {
        __mmask16 part = (__mmask16)((1u << (n - c)) - 1);
        _mm512_mask_storeu_ps(y + c, part, _mm512_mul_ps(_mm512_maskz_loadu_ps(part, y + c), inv));
    }
}
#pragma clang attribute pop

// ---- AVX2 ----
#pragma clang attribute push(__attribute__((target("avx2"))), apply_to = function)
#define W 256
#define V __m256
#define MASK __m256
#define SET1 _mm256_set1_ps
#define ADD _mm256_add_ps
#define SUB _mm256_sub_ps
#define MUL _mm256_mul_ps
#define LESS(a, b) _mm256_cmp_ps(a, b, _CMP_LT_OQ)
#define GREATER(a, b) _mm256_cmp_ps(a, b, _CMP_GT_OQ)
#define CHOOSE(m, a, b) _mm256_blendv_ps(a, b, m)
#define ZERO _mm256_setzero_ps()
#define SCALE_BITS(t) _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32( \
    _mm256_sub_epi32(_mm256_castps_si256(t), _mm256_set1_epi32(0x4B400000)), _mm256_set1_epi32(127)), 23))
#include "exp_path.h"

static float row_max_256(const float *x, long n) {
    __m256 m8 = _mm256_set1_ps(-__builtin_inff());
    long c = 0;
    for (; c + 8 <= n; c += 8) m8 = _mm256_max_ps(m8, _mm256_loadu_ps(x + c));
    float lanes[8];
    _mm256_storeu_ps(lanes, m8);
    float m = lanes[0];
    for (int j = 1; j < 8; j++) m = lanes[j] > m ? lanes[j] : m;
    for (; c < n; c++) m = x[c] > m ? x[c] : m;
    return m;
}

static float exp_shifted_256(const float *x, float *y, long n, float m) {
    __m256 shift = _mm256_set1_ps(m), acc = _mm256_setzero_ps();
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 e = exp_256(_mm256_sub_ps(_mm256_loadu_ps(x + i), shift));
        _mm256_storeu_ps(y + i, e);
        acc = _mm256_add_ps(acc, e);
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, acc);
    float total = fold8(lanes);
    if (i < n) {
        float in[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        for (long j = 0; j < n - i; j++) in[j] = x[i + j];
        _mm256_storeu_ps(lanes, exp_256(_mm256_sub_ps(_mm256_loadu_ps(in), shift)));
        for (long j = n - i; j < 8; j++) lanes[j] = 0;
        for (long j = 0; j < n - i; j++) y[i + j] = lanes[j];
        total += fold8(lanes);
    }
    return total;
}

static void softmax_row_256(const float *x, float *y, long n) {
    float total = exp_shifted_256(x, y, n, row_max_256(x, n));
    __m256 inv = _mm256_set1_ps(1 / total);
    long c = 0;
    for (; c + 8 <= n; c += 8) _mm256_storeu_ps(y + c, _mm256_mul_ps(_mm256_loadu_ps(y + c), inv));
    float s = 1 / total;
    for (; c < n; c++) y[c] *= s;
}
#pragma clang attribute pop
#endif

void ck_softmax_rows(int path, const float *x, float *y, long rows, long cols) {
    int p = ck_lower_path(path);
    for (long r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols;
        switch (p) {
#if defined(__x86_64__)
        case 2: softmax_row_512(xr, yr, cols); break;
        case 1: softmax_row_256(xr, yr, cols); break;
#endif
        default: softmax_row_c(xr, yr, cols);
        }
    }
}

float ck_row_max(int path, const float *x, long n) {
    switch (ck_lower_path(path)) {
#if defined(__x86_64__)
    case 2: return row_max_512(x, n);
    case 1: return row_max_256(x, n);
#endif
    default: return row_max_c(x, n);
    }
}

float ck_exp_shifted(int path, const float *x, float *y, long n, float shift) {
    switch (ck_lower_path(path)) {
#if defined(__x86_64__)
    case 2: return exp_shifted_512(x, y, n, shift);
    case 1: return exp_shifted_256(x, y, n, shift);
#endif
    default: return exp_shifted_c(x, y, n, shift);
    }
}
