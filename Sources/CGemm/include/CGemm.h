// Our own single-precision GEMM for x86-64 with AVX2 and FMA: row-major C = alpha·op(A)·op(B) + beta·C on the
// calling thread, with packing buffers owned by each thread (made on its first call, freed when it exits), so a
// call allocates nothing after a thread's first. Callers split larger products across threads themselves.
#ifndef CGEMM_H
#define CGEMM_H
#include <stddef.h>

/// Rows of a micro-tile (MR) and columns of a packed panel (NR).
enum { cgemm_mr = 6, cgemm_nr = 16 };

/// 1 when this processor has AVX2 and FMA (the kernels below need both), else 0.
int cgemm_supported(void);

/// C (m × n, row stride ldc) = alpha · op(A) · op(B) + beta · C, row-major. op(A) is m × k: A stored m × k
/// (trans_a 0) or k × m (trans_a 1) with row stride lda; op(B) is k × n likewise. beta 0 never reads C.
void cgemm_sgemm(int trans_a, int trans_b, long m, long n, long k, float alpha, const float *a, long lda,
                 const float *b, long ldb, float beta, float *c, long ldc);

/// Floats needed to hold op(B) (k × n) pre-packed: ceil(n / NR) panels of k × NR.
size_t cgemm_packed_b_floats(long n, long k);

/// Packs op(B) (k × n: B stored k × n with trans_b 0, n × k with trans_b 1) into `packed` (any alignment; 64 bytes
/// is fastest) as panels of NR columns, each k × NR row-major, zero-padded past n. Columns j0..<j1 with j0 a
/// multiple of NR start at panel j0 / NR, `packed + (j0 / NR) · k · NR`.
void cgemm_pack_b(int trans_b, long n, long k, const float *b, long ldb, float *packed);

/// As cgemm_sgemm with op(B) given pre-packed by cgemm_pack_b (`packed` may point at a later panel; n counts the
/// columns from there).
void cgemm_sgemm_packed(int trans_a, long m, long n, long k, float alpha, const float *a, long lda,
                        const float *packed, float beta, float *c, long ldc);

/// How many per-thread pointer slots `cgemm_thread_slot` has.
enum { cgemm_thread_slots = 4 };

/// The calling thread's own slot `which` (0..<cgemm_thread_slots) for one pointer, NULL until set; NULL for a bad
/// index. Swift keeps its per-thread job objects there.
void **cgemm_thread_slot(int which);

#endif
