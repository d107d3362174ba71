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
// ---- AVX-512F: 16 lanes, masked loads and stores for the tail ----
#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)
#define W 512
#define LANES 16
#define V __m512
#define SET1 _mm512_set1_ps
#define ADD _mm512_add_ps
#define SUB _mm512_sub_ps
#define MUL _mm512_mul_ps
#define DIV _mm512_div_ps
#define FMADD _mm512_fmadd_ps
#define FNMADD _mm512_fnmadd_ps
#define FMSUB _mm512_fmsub_ps
#define ABS _mm512_abs_ps
#define ROUND(v) _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
// p·2^n where x ≥ EXP_MIN, else 0; x > 0 ? a : b.
#define EXP_SCALE(p, n, x) _mm512_maskz_scalef_ps(_mm512_cmp_ps_mask(x, SET1(EXP_MIN), _CMP_GE_OQ), p, n)
#define SELECT_POSITIVE(x, a, b) _mm512_mask_mov_ps(b, _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GT_OQ), a)
static inline __mmask16 tail_mask(long count) { return count >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << count) - 1); }
#define LOAD(p, count) _mm512_maskz_loadu_ps(tail_mask(count), p)
#define STORE(p, v, count) _mm512_mask_storeu_ps(p, tail_mask(count), v)
#include "gelu_path.h"
#pragma clang attribute pop

// ---- AVX2 + FMA: 8 lanes, the tail through a stack copy ----
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define W 256
#define LANES 8
#define V __m256
#define SET1 _mm256_set1_ps
#define ADD _mm256_add_ps
#define SUB _mm256_sub_ps
#define MUL _mm256_mul_ps
#define DIV _mm256_div_ps
#define FMADD _mm256_fmadd_ps
#define FNMADD _mm256_fnmadd_ps
#define FMSUB _mm256_fmsub_ps
#define ABS(v) _mm256_andnot_ps(SET1(-0.0f), v)
#define ROUND(v) _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
// 2^n through the exponent bits: n ≥ −126 wherever x ≥ EXP_MIN, and the other lanes are masked to 0.
#define EXP_SCALE(p, n, x) _mm256_and_ps(_mm256_cmp_ps(x, SET1(EXP_MIN), _CMP_GE_OQ), \
    MUL(p, _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23))))
#define SELECT_POSITIVE(x, a, b) _mm256_blendv_ps(b, a, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GT_OQ))
static inline __m256 load8(const float *p, long count) {
    if (count >= 8) return _mm256_loadu_ps(p);
    float buffer[8] = {0};
    for (long j = 0; j < count; j++) buffer[j] = p[j];
    return _mm256_loadu_ps(buffer);
}
static inline void store8(float *p, __m256 v, long count) {
    if (count >= 8) { _mm256_storeu_ps(p, v); return; }
    float buffer[8];
    _mm256_storeu_ps(buffer, v);
    for (long j = 0; j < count; j++) p[j] = buffer[j];
}
#define LOAD load8
#define STORE store8
#include "gelu_path.h"
#pragma clang attribute pop
#endif

void ck_gelu_forward(int path, const float *x, float *y, long n) {
    switch (ck_lower_path(path)) {
#if defined(__x86_64__)
    case 2: forward_512(x, y, n); return;
    case 1: forward_256(x, y, n); return;
#endif
    default: forward_c(x, y, n);
    }
}

void ck_gelu_backward(int path, const float *x, const float *dy, float *dx, long n) {
    switch (ck_lower_path(path)) {
#if defined(__x86_64__)
    case 2: backward_512(x, dy, dx, n); return;
    case 1: backward_256(x, dy, dx, n); return;
#endif
    default: backward_c(x, dy, dx, n);
    }
}

void ck_normal_cdf_pdf(int path, const float *x, float *cdf, float *pdf, long n) {
    switch (ck_lower_path(path)) {
#if defined(__x86_64__)
    case 2: cdf_pdf_512(x, cdf, pdf, n); return;
    case 1: cdf_pdf_256(x, cdf, pdf, n); return;
#endif
    default: cdf_pdf_c(x, cdf, pdf, n);
    }
}
