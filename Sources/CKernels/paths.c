// Which code path a CKernels call takes: each asks for one (2 AVX-512F, 1 AVX2 + FMA, 0 portable C) and runs the
// widest of it and what the processor has, looked up once per process.
#include "CKernels.h"

int ck_best_path(void) {
    static int best = -1;   // a benign race: every thread stores the same value
    if (best >= 0) return best;
    int found = 0;
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) found = 2;
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) found = 1;
#endif
    best = found;
    return found;
}

int ck_lower_path(int path) {
    int best = ck_best_path();
    return path < best ? (path < 0 ? 0 : path) : best;
}
