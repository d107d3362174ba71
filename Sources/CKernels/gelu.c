// Exact-form GELU, x·Φ(x), and its derivative Φ(x) + x·φ(x), vectorised with AVX-512 or AVX2 + FMA when the
// processor has them, else portable C.
//
// Φ(x) = ½·erfc(z) with z = −x/√2, and for z ≥ 0 erfc(z) = t·exp(−z² + P(t)), t = 1/(1 + z/2), P the degree-9
// polynomial of Numerical Recipes' erfcc (Press et al., §6.2: relative error < 1.2e-7 for every z ≥ 0; 1.05e-7
// measured in Double on a dense grid). The other half is 1 − ½·erfc(|z|). z² = x²/2 is split exactly (hi + lo, by FMA)
// and the exponent's reduction subtracts n·ln2 from hi before adding the small parts, so the tail keeps its
// relative accuracy where z² is large. Error bound in Float, checked by TensorCoreTests/GeluTests against erfc in
// Double over a dense grid and the extremes: |ΔΦ| ≤ 2.5e-7 everywhere and ≤ 6e-7 relative wherever Φ ≥ FLT_MIN
// (x ≥ −13; below, Φ is subnormal and 0 is returned); φ ≤ 3e-7 relative wherever φ ≥ FLT_MIN. GELU(−∞) is NaN, as
// −∞ · 0 in IEEE arithmetic and in torch.
#include "CKernels.h"
#include <math.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

// Numerical Recipes erfcc: P(t) = c0 + c1·t + … + c9·t⁹.
#define C0 -1.26551223f
#define C1 1.00002368f
#define C2 0.37409196f
#define C3 0.09678418f
#define C4 -0.18628806f
#define C5 0.27886807f
#define C6 -1.13520398f
#define C7 1.48851587f
#define C8 -0.82215223f
#define C9 0.17087277f
#define SQRT1_2 0.70710678118654752440f
#define INV_SQRT_2PI 0.39894228040143267794f
// exp: x = n·ln2 + r with ln2 split so n·LN2_HI is exact; e^r by Cephes expf's polynomial (|r| ≤ ln2/2).
#define LOG2E 1.44269504088896341f
#define LN2_HI 0.693359375f
#define LN2_LO -2.12194440e-4f
#define EXP_MIN -87.3f   // below: the result would be subnormal, and 0 is returned (absolute error < 1.2e-38)
#define E5 1.9875691500e-4f
#define E4 1.3981999507e-3f
#define E3 8.3334519073e-3f
#define E2 4.1665795894e-2f
#define E1 1.6666665459e-1f
#define E0 5.0000001201e-1f

// ---- portable C ----

/// e^(hi + lo) for hi ≤ 0 large and |lo| small: the reduction takes n·ln2 off hi before lo joins.
static inline float exp2part(float hi, float lo) {
    float x = hi + lo;
    if (!(x >= EXP_MIN)) return 0;   // also NaN
    float n = nearbyintf(x * LOG2E);
    float r = fmaf(-n, LN2_HI, hi);
    r = fmaf(-n, LN2_LO, r) + lo;
    float p = E5;
    p = fmaf(p, r, E4); p = fmaf(p, r, E3); p = fmaf(p, r, E2); p = fmaf(p, r, E1); p = fmaf(p, r, E0);
    p = fmaf(p, r * r, r) + 1;
    return ldexpf(p, (int)n);
}

static inline float poly_t(float t) {
    float p = C9;
    p = fmaf(p, t, C8); p = fmaf(p, t, C7); p = fmaf(p, t, C6); p = fmaf(p, t, C5);
    p = fmaf(p, t, C4); p = fmaf(p, t, C3); p = fmaf(p, t, C2); p = fmaf(p, t, C1);
    return fmaf(p, t, C0);
}

/// Φ(x), and φ(x) when `pdf` is not NULL.
static inline float cdf_scalar(float x, float *pdf) {
    float z = fabsf(x) * SQRT1_2;
    float hi = x * x, lo = fmaf(x, x, -hi);   // x² = hi + lo exactly, so z² = x²/2 = hi/2 + lo/2 exactly
    hi *= 0.5f; lo *= 0.5f;
    float t = 1 / (1 + 0.5f * z);
    float tail = 0.5f * t * exp2part(-hi, poly_t(t) - lo);   // Φ(−|x|)
    if (pdf) *pdf = INV_SQRT_2PI * exp2part(-hi, -lo);
    return x > 0 ? 1 - tail : tail;
}

static void forward_c(const float *x, float *y, long n) {
    for (long i = 0; i < n; i++) y[i] = x[i] * cdf_scalar(x[i], 0);
}

static void backward_c(const float *x, const float *dy, float *dx, long n) {
    for (long i = 0; i < n; i++) {
        float pdf, cdf = cdf_scalar(x[i], &pdf);
        dx[i] = dy[i] * (cdf + x[i] * pdf);
    }
}

static void cdf_pdf_c(const float *x, float *cdf, float *pdf, long n) {
    for (long i = 0; i < n; i++) cdf[i] = cdf_scalar(x[i], &pdf[i]);
}

#if defined(__x86_64__)
// ---- AVX-512F: 16 lanes, masked tails ----
#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)

static inline __m512 exp2part16(__m512 hi, __m512 lo) {
    __m512 x = _mm512_add_ps(hi, lo);
    __mmask16 live = _mm512_cmp_ps_mask(x, _mm512_set1_ps(EXP_MIN), _CMP_GE_OQ);
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(LOG2E)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(LN2_HI), hi);
    r = _mm512_add_ps(_mm512_fnmadd_ps(n, _mm512_set1_ps(LN2_LO), r), lo);
    __m512 p = _mm512_set1_ps(E5);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(E4));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(E3));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(E2));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(E1));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(E0));
    p = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1));
    return _mm512_maskz_scalef_ps(live, p, n);
}

/// Φ(x) in lanes; φ(x) into *pdf when pdf is not NULL.
static inline __m512 cdf16(__m512 x, __m512 *pdf) {
    __m512 z = _mm512_mul_ps(_mm512_abs_ps(x), _mm512_set1_ps(SQRT1_2));
    __m512 xx = _mm512_mul_ps(x, x), half = _mm512_set1_ps(0.5f);
    __m512 hi = _mm512_mul_ps(xx, half), lo = _mm512_mul_ps(_mm512_fmsub_ps(x, x, xx), half);
    __m512 t = _mm512_div_ps(_mm512_set1_ps(1), _mm512_fmadd_ps(z, _mm512_set1_ps(0.5f), _mm512_set1_ps(1)));
    __m512 p = _mm512_set1_ps(C9);
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(C8)); p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(C7));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(C6)); p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(C5));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(C4)); p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(C3));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(C2)); p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(C1));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(C0));
    __m512 neg_hi = _mm512_sub_ps(_mm512_setzero_ps(), hi);
    __m512 tail = _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), t), exp2part16(neg_hi, _mm512_sub_ps(p, lo)));
    if (pdf) *pdf = _mm512_mul_ps(_mm512_set1_ps(INV_SQRT_2PI), exp2part16(neg_hi, _mm512_sub_ps(_mm512_setzero_ps(), lo)));
    __mmask16 positive = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GT_OQ);
    return _mm512_mask_sub_ps(tail, positive, _mm512_set1_ps(1), tail);
}

static void forward_512(const float *x, float *y, long n) {
    for (long i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        __m512 v = _mm512_maskz_loadu_ps(m, x + i);
        _mm512_mask_storeu_ps(y + i, m, _mm512_mul_ps(v, cdf16(v, 0)));
    }
}

static void backward_512(const float *x, const float *dy, float *dx, long n) {
    for (long i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        __m512 v = _mm512_maskz_loadu_ps(m, x + i), pdf;
        __m512 cdf = cdf16(v, &pdf);
        _mm512_mask_storeu_ps(dx + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, dy + i), _mm512_fmadd_ps(v, pdf, cdf)));
    }
}

static void cdf_pdf_512(const float *x, float *cdf, float *pdf, long n) {
    for (long i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        __m512 p, c = cdf16(_mm512_maskz_loadu_ps(m, x + i), &p);
        _mm512_mask_storeu_ps(cdf + i, m, c);
        _mm512_mask_storeu_ps(pdf + i, m, p);
    }
}
#pragma clang attribute pop

// ---- AVX2 + FMA: 8 lanes, the tail through the portable code ----
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)

static inline __m256 exp2part8(__m256 hi, __m256 lo) {
    __m256 x = _mm256_add_ps(hi, lo);
    __m256 live = _mm256_cmp_ps(x, _mm256_set1_ps(EXP_MIN), _CMP_GE_OQ);
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(LOG2E)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(LN2_HI), hi);
    r = _mm256_add_ps(_mm256_fnmadd_ps(n, _mm256_set1_ps(LN2_LO), r), lo);
    __m256 p = _mm256_set1_ps(E5);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(E4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(E3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(E2));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(E1));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(E0));
    p = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1));
    // 2^n through the exponent bits: n ≥ −126 wherever x ≥ EXP_MIN, and the other lanes are masked to 0.
    __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_and_ps(live, _mm256_mul_ps(p, _mm256_castsi256_ps(bits)));
}

static inline __m256 cdf8(__m256 x, __m256 *pdf) {
    __m256 z = _mm256_mul_ps(_mm256_andnot_ps(_mm256_set1_ps(-0.0f), x), _mm256_set1_ps(SQRT1_2));
    __m256 xx = _mm256_mul_ps(x, x), half = _mm256_set1_ps(0.5f);
    __m256 hi = _mm256_mul_ps(xx, half), lo = _mm256_mul_ps(_mm256_fmsub_ps(x, x, xx), half);
    __m256 t = _mm256_div_ps(_mm256_set1_ps(1), _mm256_fmadd_ps(z, _mm256_set1_ps(0.5f), _mm256_set1_ps(1)));
    __m256 p = _mm256_set1_ps(C9);
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(C8)); p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(C7));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(C6)); p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(C5));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(C4)); p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(C3));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(C2)); p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(C1));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(C0));
    __m256 neg_hi = _mm256_sub_ps(_mm256_setzero_ps(), hi);
    __m256 tail = _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), t), exp2part8(neg_hi, _mm256_sub_ps(p, lo)));
    if (pdf) *pdf = _mm256_mul_ps(_mm256_set1_ps(INV_SQRT_2PI), exp2part8(neg_hi, _mm256_sub_ps(_mm256_setzero_ps(), lo)));
    __m256 positive = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GT_OQ);
    return _mm256_blendv_ps(tail, _mm256_sub_ps(_mm256_set1_ps(1), tail), positive);
}

static void forward_256(const float *x, float *y, long n) {
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        _mm256_storeu_ps(y + i, _mm256_mul_ps(v, cdf8(v, 0)));
    }
    forward_c(x + i, y + i, n - i);
}

static void backward_256(const float *x, const float *dy, float *dx, long n) {
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i), pdf;
        __m256 cdf = cdf8(v, &pdf);
        _mm256_storeu_ps(dx + i, _mm256_mul_ps(_mm256_loadu_ps(dy + i), _mm256_fmadd_ps(v, pdf, cdf)));
    }
    backward_c(x + i, dy + i, dx + i, n - i);
}

static void cdf_pdf_256(const float *x, float *cdf, float *pdf, long n) {
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 p, c = cdf8(_mm256_loadu_ps(x + i), &p);
        _mm256_storeu_ps(cdf + i, c);
        _mm256_storeu_ps(pdf + i, p);
    }
    cdf_pdf_c(x + i, cdf + i, pdf + i, n - i);
}
#pragma clang attribute pop
#endif

int ck_gelu_best_path(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 2;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
#endif
    return 0;
}

static int lowered(int path) {
    int best = ck_gelu_best_path();
    return path < best ? (path < 0 ? 0 : path) : best;
}

void ck_gelu_forward(int path, const float *x, float *y, long n) {
    switch (lowered(path)) {
#if defined(__x86_64__)
    case 2: forward_512(x, y, n); return;
    case 1: forward_256(x, y, n); return;
#endif
    default: forward_c(x, y, n);
    }
}

void ck_gelu_backward(int path, const float *x, const float *dy, float *dx, long n) {
    switch (lowered(path)) {
#if defined(__x86_64__)
    case 2: backward_512(x, dy, dx, n); return;
    case 1: backward_256(x, dy, dx, n); return;
#endif
    default: backward_c(x, dy, dx, n);
    }
}

void ck_normal_cdf_pdf(int path, const float *x, float *cdf, float *pdf, long n) {
    switch (lowered(path)) {
#if defined(__x86_64__)
    case 2: cdf_pdf_512(x, cdf, pdf, n); return;
    case 1: cdf_pdf_256(x, cdf, pdf, n); return;
#endif
    default: cdf_pdf_c(x, cdf, pdf, n);
    }
}
