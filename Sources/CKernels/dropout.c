// Dropout masks, TensorCore's Swift loop (Kernels.dropoutChunksReference) bit for bit: chunk c of `chunk` elements
// comes from its own xoshiro256** stream, seeded by SplitMix64 output c of the mask's seed (Random.swift), and
// element i of a chunk is 0 when the stream's i-th uniform, (next >> 40)·2⁻²⁴, is below p, else `keep`. The vector
// paths run several chunks' streams side by side, one per 64-bit lane (8 with AVX-512F, 4 with AVX2), and write
// each chunk in order through a transpose; the integer steps are the same operations, and a 24-bit integer converts
// to float exactly, so every path gives the same bits. Chunks that do not fill the lanes, and a short last chunk,
// take the portable loop.
#include "CKernels.h"
#include <stdint.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

static inline uint64_t splitmix64(uint64_t seed, uint64_t step) {
    uint64_t z = seed + step * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/// The stream state of chunk c (Xoshiro256(seed: splitMix64(seed, step: c))).
static inline void chunk_state(uint64_t seed, long c, uint64_t s[4]) {
    uint64_t own = splitmix64(seed, (uint64_t)c);
    for (int k = 0; k < 4; k++) s[k] = splitmix64(own, (uint64_t)(k + 1));
}

/// The states of chunks c0 … c0 + lanes − 1, transposed: st[k][j] is word k of chunk c0 + j's state.
static void lane_states(uint64_t seed, long c0, int lanes, uint64_t st[4][8]) {
    for (int j = 0; j < lanes; j++) {
        uint64_t s[4];
        chunk_state(seed, c0 + j, s);
        for (int k = 0; k < 4; k++) st[k][j] = s[k];
    }
}

static void chunk_c(float *mask, long count, float p, float keep, uint64_t seed, long c) {
    uint64_t s[4];
    chunk_state(seed, c, s);
    for (long i = 0; i < count; i++) {
        uint64_t result = rotl(s[1] * 5, 7) * 9;
        uint64_t t = s[1] << 17;
        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
        s[2] ^= t;
        s[3] = rotl(s[3], 45);
        float u = (float)(result >> 40) * (1.0f / 16777216.0f);
        mask[i] = u < p ? 0 : keep;
    }
}

#if defined(__x86_64__)
// ---- AVX-512F: 8 chunks at once ----
#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)
/// 8 uniforms' mask values, one per lane (chunk), and the streams advanced one step.
static inline __m256 step_512(__m512i *s0, __m512i *s1, __m512i *s2, __m512i *s3, __m256 p, __m256 keep) {
    __m512i x5 = _mm512_add_epi64(_mm512_slli_epi64(*s1, 2), *s1);
    __m512i r = _mm512_rol_epi64(x5, 7);
    __m512i result = _mm512_add_epi64(_mm512_slli_epi64(r, 3), r);
    __m512i t = _mm512_slli_epi64(*s1, 17);
    *s2 = _mm512_xor_si512(*s2, *s0); *s3 = _mm512_xor_si512(*s3, *s1);
    *s1 = _mm512_xor_si512(*s1, *s2); *s0 = _mm512_xor_si512(*s0, *s3);
    *s2 = _mm512_xor_si512(*s2, t);
    *s3 = _mm512_rol_epi64(*s3, 45);
    __m256 u = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm512_cvtepi64_epi32(_mm512_srli_epi64(result, 40))),
                             _mm256_set1_ps(1.0f / 16777216.0f));
    return _mm256_blendv_ps(keep, _mm256_setzero_ps(), _mm256_cmp_ps(u, p, _CMP_LT_OQ));
}

/// Rows v[0..7] (step k, lane j) to columns: v[j] holds lane j's steps 0..7.
static inline void transpose8(__m256 v[8]) {
    __m256 a0 = _mm256_unpacklo_ps(v[0], v[1]), a1 = _mm256_unpackhi_ps(v[0], v[1]);
    __m256 a2 = _mm256_unpacklo_ps(v[2], v[3]), a3 = _mm256_unpackhi_ps(v[2], v[3]);
    __m256 a4 = _mm256_unpacklo_ps(v[4], v[5]), a5 = _mm256_unpackhi_ps(v[4], v[5]);
    __m256 a6 = _mm256_unpacklo_ps(v[6], v[7]), a7 = _mm256_unpackhi_ps(v[6], v[7]);
    __m256 b0 = _mm256_shuffle_ps(a0, a2, 0x44), b1 = _mm256_shuffle_ps(a0, a2, 0xEE);
    __m256 b2 = _mm256_shuffle_ps(a1, a3, 0x44), b3 = _mm256_shuffle_ps(a1, a3, 0xEE);
    __m256 b4 = _mm256_shuffle_ps(a4, a6, 0x44), b5 = _mm256_shuffle_ps(a4, a6, 0xEE);
    __m256 b6 = _mm256_shuffle_ps(a5, a7, 0x44), b7 = _mm256_shuffle_ps(a5, a7, 0xEE);
    v[0] = _mm256_permute2f128_ps(b0, b4, 0x20); v[1] = _mm256_permute2f128_ps(b1, b5, 0x20);
    v[2] = _mm256_permute2f128_ps(b2, b6, 0x20); v[3] = _mm256_permute2f128_ps(b3, b7, 0x20);
    v[4] = _mm256_permute2f128_ps(b0, b4, 0x31); v[5] = _mm256_permute2f128_ps(b1, b5, 0x31);
    v[6] = _mm256_permute2f128_ps(b2, b6, 0x31); v[7] = _mm256_permute2f128_ps(b3, b7, 0x31);
}

/// Chunks c0 … c0 + 7, each `chunk` long (a multiple of 8).
static void chunks8_512(float *mask, long chunk, float p, float keep, uint64_t seed, long c0) {
    uint64_t st[4][8];
    lane_states(seed, c0, 8, st);
    __m512i s0 = _mm512_loadu_si512(st[0]), s1 = _mm512_loadu_si512(st[1]);
    __m512i s2 = _mm512_loadu_si512(st[2]), s3 = _mm512_loadu_si512(st[3]);
    __m256 pv = _mm256_set1_ps(p), kv = _mm256_set1_ps(keep);
    float *base = mask + c0 * chunk;
    for (long i = 0; i < chunk; i += 8) {
        __m256 v[8];
        for (int k = 0; k < 8; k++) v[k] = step_512(&s0, &s1, &s2, &s3, pv, kv);
        transpose8(v);
        for (int j = 0; j < 8; j++) _mm256_storeu_ps(base + j * chunk + i, v[j]);
    }
}
#pragma clang attribute pop

// ---- AVX2: 4 chunks at once ----
#pragma clang attribute push(__attribute__((target("avx2"))), apply_to = function)
static inline __m256i rotl_256(__m256i x, int k) {
    return _mm256_or_si256(_mm256_slli_epi64(x, k), _mm256_srli_epi64(x, 64 - k));
}

static inline __m128 step_256(__m256i *s0, __m256i *s1, __m256i *s2, __m256i *s3, __m128 p, __m128 keep) {
    __m256i x5 = _mm256_add_epi64(_mm256_slli_epi64(*s1, 2), *s1);
    __m256i r = rotl_256(x5, 7);
    __m256i result = _mm256_add_epi64(_mm256_slli_epi64(r, 3), r);
    __m256i t = _mm256_slli_epi64(*s1, 17);
    *s2 = _mm256_xor_si256(*s2, *s0); *s3 = _mm256_xor_si256(*s3, *s1);
    *s1 = _mm256_xor_si256(*s1, *s2); *s0 = _mm256_xor_si256(*s0, *s3);
    *s2 = _mm256_xor_si256(*s2, t);
    *s3 = rotl_256(*s3, 45);
    // The low 32 bits of each lane's (result >> 40), lanes 0, 2, 4, 6 of the 32-bit view.
    __m256i low = _mm256_permutevar8x32_epi32(_mm256_srli_epi64(result, 40), _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7));
    __m128 u = _mm_mul_ps(_mm_cvtepi32_ps(_mm256_castsi256_si128(low)), _mm_set1_ps(1.0f / 16777216.0f));
    return _mm_blendv_ps(keep, _mm_setzero_ps(), _mm_cmplt_ps(u, p));
}

static void chunks4_256(float *mask, long chunk, float p, float keep, uint64_t seed, long c0) {
    uint64_t st[4][8];
    lane_states(seed, c0, 4, st);
    __m256i s0 = _mm256_loadu_si256((const __m256i *)st[0]), s1 = _mm256_loadu_si256((const __m256i *)st[1]);
    __m256i s2 = _mm256_loadu_si256((const __m256i *)st[2]), s3 = _mm256_loadu_si256((const __m256i *)st[3]);
    __m128 pv = _mm_set1_ps(p), kv = _mm_set1_ps(keep);
    float *base = mask + c0 * chunk;
    for (long i = 0; i < chunk; i += 4) {
        __m128 v0 = step_256(&s0, &s1, &s2, &s3, pv, kv), v1 = step_256(&s0, &s1, &s2, &s3, pv, kv);
        __m128 v2 = step_256(&s0, &s1, &s2, &s3, pv, kv), v3 = step_256(&s0, &s1, &s2, &s3, pv, kv);
        _MM_TRANSPOSE4_PS(v0, v1, v2, v3);
        _mm_storeu_ps(base + i, v0);
        _mm_storeu_ps(base + chunk + i, v1);
        _mm_storeu_ps(base + 2 * chunk + i, v2);
        _mm_storeu_ps(base + 3 * chunk + i, v3);
    }
}
#pragma clang attribute pop
#endif

void ck_dropout_chunks(int path, float *mask, long n, float p, unsigned long long seed, long chunk, long first, long end) {
    float keep = 1 / (1 - p);
    int lanes = 1;
#if defined(__x86_64__)
    int taken = ck_lower_path(path);
    lanes = chunk % 8 != 0 ? 1 : (taken == 2 ? 8 : (taken == 1 ? 4 : 1));
#endif
    long c = first;
    // Whole chunks only, lanes at a time.
    long whole = n / chunk < end ? n / chunk : end;
    for (; lanes > 1 && c + lanes <= whole; c += lanes) {
#if defined(__x86_64__)
        if (lanes == 8) chunks8_512(mask, chunk, p, keep, seed, c);
        else chunks4_256(mask, chunk, p, keep, seed, c);
#endif
    }
    for (; c < end; c++) {
        long start = c * chunk, stop = start + chunk < n ? start + chunk : n;
        if (stop > start) chunk_c(mask + start, stop - start, p, keep, seed, c);
    }
}
