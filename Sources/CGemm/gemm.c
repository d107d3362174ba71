// Our own single-precision GEMM for AVX2 + FMA, laid out as in BLIS (Van Zee and van de Geijn): op(B) is packed
// into panels of NR columns by blocks of KC rows, op(A) into panels of MR rows by blocks of MC rows (alpha folded in),
// and a 6 × 16 micro-kernel keeps its tile of C in twelve ymm registers while it streams one A panel (L2) against
// one B panel (L1). Written so the training step allocates nothing: oneDNN's sgemm allocates scratch inside every
// call. The packing buffers belong to the calling thread, made on its first call, freed by a pthread key destructor.
#include "CGemm.h"
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define MR cgemm_mr
#define NR cgemm_nr
// Blocking for Zen 3 (32 KiB L1d, 512 KiB L2 per core): a B panel KC × NR is 16 KiB, an A block MC × KC 144 KiB.
#define KC 256
#define MC 144
#define NC 4080

static inline long min_l(long a, long b) { return a < b ? a : b; }

int cgemm_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

// ---- per-thread packing buffers ----

typedef struct { float *a, *b; } workspace;
static pthread_key_t workspace_key;
static pthread_once_t workspace_once = PTHREAD_ONCE_INIT;
static __thread workspace *current;

static void release_workspace(void *p) {
    workspace *w = p;
    free(w->a); free(w->b); free(w);
    current = NULL;
}

static void make_key(void) {
    if (pthread_key_create(&workspace_key, release_workspace) != 0) { perror("cgemm: pthread_key_create"); abort(); }
}

static workspace *thread_workspace(void) {
    if (current) return current;
    pthread_once(&workspace_once, make_key);
    workspace *w = malloc(sizeof *w);
    if (w) {
        w->a = aligned_alloc(64, sizeof(float) * (MC * KC + 64));  // + slack: pack_a's 8-float stores overrun by 2
        w->b = aligned_alloc(64, sizeof(float) * KC * NC);
    }
    // A few MiB per thread: failing here is out of memory, not bad input.
    if (!w || !w->a || !w->b) { fputs("cgemm: out of memory for packing buffers\n", stderr); abort(); }
    pthread_setspecific(workspace_key, w);
    current = w;
    return w;
}

static __thread void *slots[cgemm_thread_slots];
void **cgemm_thread_slot(int which) { return which >= 0 && which < cgemm_thread_slots ? &slots[which] : NULL; }

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)

// ---- packing ----

/// Writes the 8 × 8 block whose rows are r[0..<8] transposed: column c (r[0][c], …, r[7][c]) as 8 floats at
/// out + c · ostride.
static inline void transpose8(const __m256 r[8], float *out, long ostride) {
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]),
           t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]),
           t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]),
           t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE),
           u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE),
           u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE),
           u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    _mm256_storeu_ps(out + 0 * ostride, _mm256_permute2f128_ps(u0, u4, 0x20));
    _mm256_storeu_ps(out + 1 * ostride, _mm256_permute2f128_ps(u1, u5, 0x20));
    _mm256_storeu_ps(out + 2 * ostride, _mm256_permute2f128_ps(u2, u6, 0x20));
    _mm256_storeu_ps(out + 3 * ostride, _mm256_permute2f128_ps(u3, u7, 0x20));
    _mm256_storeu_ps(out + 4 * ostride, _mm256_permute2f128_ps(u0, u4, 0x31));
    _mm256_storeu_ps(out + 5 * ostride, _mm256_permute2f128_ps(u1, u5, 0x31));
    _mm256_storeu_ps(out + 6 * ostride, _mm256_permute2f128_ps(u2, u6, 0x31));
    _mm256_storeu_ps(out + 7 * ostride, _mm256_permute2f128_ps(u3, u7, 0x31));
}

/// Transposes 8 rows of 8 floats (row r at s + r·lds) into out[c·NR + r], c = 0..<8: 8 columns of a panel.
static inline void transpose8x8(const float *s, long lds, float *out) {
    __m256 r[8];
    for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(s + i * lds);
    transpose8(r, out, NR);
}

/// Packs op(A) rows 0..<mc, columns 0..<kc (element (i, p) at a[p·lda + i] when trans, else a[i·lda + p]) into
/// panels of MR rows, each kc × MR (p-major), scaled by alpha, zero rows past mc.
static void pack_a(int trans, long mc, long kc, float alpha, const float *a, long lda, float *restrict out) {
    for (long i0 = 0; i0 < mc; i0 += MR, out += kc * MR) {
        long rows = min_l(MR, mc - i0);
        if (rows == MR && !trans) {
            const float *r0 = a + i0 * lda, *r1 = r0 + lda, *r2 = r1 + lda, *r3 = r2 + lda, *r4 = r3 + lda,
                        *r5 = r4 + lda;
            long p = 0;
            // Eight columns at a time: a 6 × 8 block transposed in registers (rows 6 and 7 zero), each column
            // stored as 8 floats of which the next column's store overwrites the last 2 (the buffer has slack).
            __m256 av = _mm256_set1_ps(alpha);
            for (; p + 8 <= kc; p += 8) {
                __m256 r[8] = {_mm256_mul_ps(av, _mm256_loadu_ps(r0 + p)), _mm256_mul_ps(av, _mm256_loadu_ps(r1 + p)),
                               _mm256_mul_ps(av, _mm256_loadu_ps(r2 + p)), _mm256_mul_ps(av, _mm256_loadu_ps(r3 + p)),
                               _mm256_mul_ps(av, _mm256_loadu_ps(r4 + p)), _mm256_mul_ps(av, _mm256_loadu_ps(r5 + p)),
                               _mm256_setzero_ps(), _mm256_setzero_ps()};
                transpose8(r, out + p * MR, MR);
            }
            for (; p < kc; p++) {
                float *o = out + p * MR;
                o[0] = alpha * r0[p]; o[1] = alpha * r1[p]; o[2] = alpha * r2[p];
                o[3] = alpha * r3[p]; o[4] = alpha * r4[p]; o[5] = alpha * r5[p];
            }
        } else if (rows == MR) {
            // Six contiguous floats per column: four in one SSE load, two scalar (no read past the row).
            __m128 av = _mm_set1_ps(alpha);
            for (long p = 0; p < kc; p++) {
                const float *s = a + p * lda + i0;
                float *o = out + p * MR;
                _mm_storeu_ps(o, _mm_mul_ps(av, _mm_loadu_ps(s)));
                o[4] = alpha * s[4]; o[5] = alpha * s[5];
            }
        } else {
            for (long p = 0; p < kc; p++) {
                float *o = out + p * MR;
                for (int i = 0; i < MR; i++)
                    o[i] = i < rows ? alpha * (trans ? a[p * lda + i0 + i] : a[(i0 + i) * lda + p]) : 0.0f;
            }
        }
    }
}

/// Packs op(B) rows 0..<kc, columns 0..<nc (element (p, j) at b[j·ldb + p] when trans, else b[p·ldb + j]) into
/// panels of NR columns, each kc × NR (p-major), `stride` floats apart, zero columns past nc.
static void pack_b(int trans, long kc, long nc, const float *b, long ldb, float *restrict out, long stride) {
    for (long j0 = 0; j0 < nc; j0 += NR, out += stride) {
        long cols = min_l(NR, nc - j0);
        if (cols == NR && !trans) {
            for (long p = 0; p < kc; p++) {
                const float *s = b + p * ldb + j0;
                _mm256_storeu_ps(out + p * NR, _mm256_loadu_ps(s));
                _mm256_storeu_ps(out + p * NR + 8, _mm256_loadu_ps(s + 8));
            }
        } else if (cols == NR) {
            long p = 0;
            for (; p + 8 <= kc; p += 8) {
                transpose8x8(b + j0 * ldb + p, ldb, out + p * NR);
                transpose8x8(b + (j0 + 8) * ldb + p, ldb, out + p * NR + 8);
            }
            for (; p < kc; p++)
                for (int j = 0; j < NR; j++) out[p * NR + j] = b[(j0 + j) * ldb + p];
        } else {
            for (long p = 0; p < kc; p++)
                for (int j = 0; j < NR; j++)
                    out[p * NR + j] = j < cols ? (trans ? b[(j0 + j) * ldb + p] : b[p * ldb + j0 + j]) : 0.0f;
        }
    }
}

// ---- the micro-kernel and the loops around it ----

/// The 6 × 16 tile at c (row stride ldc) = A panel (kc × MR) · B panel (kc × NR) + beta · tile (beta 0: not read).
static void kernel(long kc, const float *restrict a, const float *restrict b, float *restrict c, long ldc,
                   float beta) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00,
           c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (int i = 0; i < MR; i++) _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
#pragma clang loop unroll_count(4)
    for (long p = 0; p < kc; p++) {
        __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8), x;
        x = _mm256_broadcast_ss(a + 0); c00 = _mm256_fmadd_ps(x, b0, c00); c01 = _mm256_fmadd_ps(x, b1, c01);
        x = _mm256_broadcast_ss(a + 1); c10 = _mm256_fmadd_ps(x, b0, c10); c11 = _mm256_fmadd_ps(x, b1, c11);
        x = _mm256_broadcast_ss(a + 2); c20 = _mm256_fmadd_ps(x, b0, c20); c21 = _mm256_fmadd_ps(x, b1, c21);
        x = _mm256_broadcast_ss(a + 3); c30 = _mm256_fmadd_ps(x, b0, c30); c31 = _mm256_fmadd_ps(x, b1, c31);
        x = _mm256_broadcast_ss(a + 4); c40 = _mm256_fmadd_ps(x, b0, c40); c41 = _mm256_fmadd_ps(x, b1, c41);
        x = _mm256_broadcast_ss(a + 5); c50 = _mm256_fmadd_ps(x, b0, c50); c51 = _mm256_fmadd_ps(x, b1, c51);
        a += MR; b += NR;
    }
    __m256 acc[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
    if (beta == 0.0f) {
        for (int i = 0; i < MR; i++) {
            _mm256_storeu_ps(c + i * ldc, acc[i][0]);
            _mm256_storeu_ps(c + i * ldc + 8, acc[i][1]);
        }
    } else if (beta == 1.0f) {
        for (int i = 0; i < MR; i++) {
            _mm256_storeu_ps(c + i * ldc, _mm256_add_ps(_mm256_loadu_ps(c + i * ldc), acc[i][0]));
            _mm256_storeu_ps(c + i * ldc + 8, _mm256_add_ps(_mm256_loadu_ps(c + i * ldc + 8), acc[i][1]));
        }
    } else {
        __m256 bv = _mm256_set1_ps(beta);
        for (int i = 0; i < MR; i++) {
            _mm256_storeu_ps(c + i * ldc, _mm256_fmadd_ps(bv, _mm256_loadu_ps(c + i * ldc), acc[i][0]));
            _mm256_storeu_ps(c + i * ldc + 8, _mm256_fmadd_ps(bv, _mm256_loadu_ps(c + i * ldc + 8), acc[i][1]));
        }
    }
}

/// C (mc × nc) = packed A (mc × kc) · packed B (kc × nc; panels `bstride` floats apart) + beta · C.
static void macro_kernel(long mc, long nc, long kc, const float *ap, const float *bp, long bstride, float beta,
                         float *c, long ldc) {
    float tile[MR * NR] __attribute__((aligned(64)));
    for (long jr = 0; jr < nc; jr += NR) {
        long cols = min_l(NR, nc - jr);
        const float *b = bp + (jr / NR) * bstride;
        for (long ir = 0; ir < mc; ir += MR) {
            long rows = min_l(MR, mc - ir);
            const float *a = ap + (ir / MR) * kc * MR;
            float *cc = c + ir * ldc + jr;
            if (rows == MR && cols == NR) {
                kernel(kc, a, b, cc, ldc, beta);
                continue;
            }
            kernel(kc, a, b, tile, NR, 0.0f);
            for (long i = 0; i < rows; i++)
                for (long j = 0; j < cols; j++) {
                    float *o = cc + i * ldc + j;
                    *o = beta == 0.0f ? tile[i * NR + j] : beta * *o + tile[i * NR + j];
                }
        }
    }
}

#pragma clang attribute pop

/// C = beta · C for an empty inner dimension (or alpha 0); beta 0 writes zeros without reading C.
static void scale_c(long m, long n, float beta, float *c, long ldc) {
    for (long i = 0; i < m; i++)
        for (long j = 0; j < n; j++) c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
}

/// C (m × nc) = beta · C + op(A) columns pc..<pc + kc (alpha folded in) · the packed B rows pc..<pc + kc (panels
/// `bstride` floats apart), one MC block of op(A) packed at a time: the loop both entry points share.
static void multiply_k_block(int trans_a, long m, long nc, long pc, long kc, float alpha, const float *a, long lda,
                             const float *bp, long bstride, float beta, float *c, long ldc, float *abuf) {
    for (long ic = 0; ic < m; ic += MC) {
        long mc = min_l(MC, m - ic);
        pack_a(trans_a, mc, kc, alpha, trans_a ? a + pc * lda + ic : a + ic * lda + pc, lda, abuf);
        macro_kernel(mc, nc, kc, abuf, bp, bstride, beta, c + ic * ldc, ldc);
    }
}

void cgemm_sgemm(int trans_a, int trans_b, long m, long n, long k, float alpha, const float *a, long lda,
                 const float *b, long ldb, float beta, float *c, long ldc) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0 || alpha == 0.0f) { scale_c(m, n, beta, c, ldc); return; }
    workspace *w = thread_workspace();
    for (long jc = 0; jc < n; jc += NC) {
        long nc = min_l(NC, n - jc);
        for (long pc = 0; pc < k; pc += KC) {
            long kc = min_l(KC, k - pc);
            pack_b(trans_b, kc, nc, trans_b ? b + jc * ldb + pc : b + pc * ldb + jc, ldb, w->b, kc * NR);
            multiply_k_block(trans_a, m, nc, pc, kc, alpha, a, lda, w->b, kc * NR, pc == 0 ? beta : 1.0f, c + jc, ldc, w->a);
        }
    }
}

size_t cgemm_packed_b_floats(long n, long k) {
    if (n <= 0 || k <= 0) return 0;
    return (size_t)((n + NR - 1) / NR) * (size_t)k * NR;
}

void cgemm_pack_b(int trans_b, long n, long k, const float *b, long ldb, float *packed) {
    if (n <= 0 || k <= 0) return;
    // One call over all k rows: each panel is k × NR, panels k · NR floats apart.
    pack_b(trans_b, k, n, b, ldb, packed, k * NR);
}

void cgemm_sgemm_packed(int trans_a, long m, long n, long k, float alpha, const float *a, long lda,
                        const float *packed, float beta, float *c, long ldc) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0 || alpha == 0.0f) { scale_c(m, n, beta, c, ldc); return; }
    workspace *w = thread_workspace();
    for (long pc = 0; pc < k; pc += KC) {
        long kc = min_l(KC, k - pc);
        multiply_k_block(trans_a, m, n, pc, kc, alpha, a, lda, packed + pc * NR, k * NR, pc == 0 ? beta : 1.0f, c, ldc, w->a);
    }
}
