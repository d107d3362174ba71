// int8 GEMM paths of oneDNN 2.6 against dnnl_sgemm for C (M, N) = A (M, K) · Bᵀ (B stored (N, K)), best of R:
// dnnl_sgemm, dnnl_gemm_u8s8s32 (packs B every call), the matmul and inner-product primitives and the 1×1
// convolution primitive (B reordered once into the layout each primitive asks for), interleaved round by round.
// Checks the int8 results exactly (7-bit activations).
// Build: cc -O2 -o bench_int8 Tests/Reference/bench_int8_primitives.c -ldnnl -lgomp
// Run:   OMP_NUM_THREADS=2 ./bench_int8 M N K [repeats]
#include <oneapi/dnnl/dnnl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#define CHK(x) do { dnnl_status_t s_ = (x); if (s_ != dnnl_success) { printf("%s failed: %d\n", #x, s_); exit(1); } } while (0)
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int M, N, K, R;
static uint8_t *a; static int8_t *b; static int32_t *c;
static dnnl_engine_t eng; static dnnl_stream_t st;

static int check(void) {  // first rows against the exact sum
    int bad = 0;
    for (int i = 0; i < M && i < 4; i++) for (int j = 0; j < N; j++) {
        int32_t s = 0; for (int k = 0; k < K; k++) s += a[i * K + k] * b[j * K + k];
        bad += s != c[i * N + j];
    }
    return bad;
}

typedef struct { dnnl_primitive_t p; dnnl_exec_arg_t args[4]; const char *impl; } Prepared;
static Prepared prepared[3];

// Creates the primitive for op desc `od` and reorders B (plain desc `wplain`) once.
static void prepare(Prepared *out, const void *od, const dnnl_memory_desc_t *sd, const dnnl_memory_desc_t *wplain,
                    const dnnl_memory_desc_t *dd) {
    const char **impl = &out->impl;
    dnnl_primitive_attr_t attr; CHK(dnnl_primitive_attr_create(&attr));
    CHK(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user));
    dnnl_primitive_desc_t pd; CHK(dnnl_primitive_desc_create(&pd, od, attr, eng, NULL));
    CHK(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, impl));
    const dnnl_memory_desc_t *wq = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    const dnnl_memory_desc_t *spq = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    void *wpk = aligned_alloc(64, dnnl_memory_desc_get_size(wq) + 64), *sp = aligned_alloc(64, dnnl_memory_desc_get_size(spq) + 64);
    dnnl_memory_t wuser, wpacked, smem, dmem, spmem; dnnl_primitive_desc_t rpd; dnnl_primitive_t rp, p;
    CHK(dnnl_memory_create(&wuser, wplain, eng, b)); CHK(dnnl_memory_create(&wpacked, wq, eng, wpk));
    CHK(dnnl_reorder_primitive_desc_create(&rpd, wplain, eng, wq, eng, NULL)); CHK(dnnl_primitive_create(&rp, rpd));
    dnnl_exec_arg_t rargs[2] = {{DNNL_ARG_FROM, wuser}, {DNNL_ARG_TO, wpacked}};
    CHK(dnnl_primitive_execute(rp, st, 2, rargs)); CHK(dnnl_stream_wait(st));
    CHK(dnnl_memory_create(&smem, sd, eng, a)); CHK(dnnl_memory_create(&dmem, dd, eng, c)); CHK(dnnl_memory_create(&spmem, spq, eng, sp));
    CHK(dnnl_primitive_create(&p, pd));
    out->p = p;
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, smem}, {DNNL_ARG_WEIGHTS, wpacked}, {DNNL_ARG_DST, dmem}, {DNNL_ARG_SCRATCHPAD, spmem}};
    for (int i = 0; i < 4; i++) out->args[i] = args[i];
}

static int cmp(const void *x, const void *y) { double a = *(const double *)x, b = *(const double *)y; return a < b ? -1 : a > b; }

// Method m once: 0 sgemm, 1 gemm_u8s8s32, 2..4 the prepared primitives.
static void run(int m, float *af, float *bf, float *cf) {
    int32_t co = 0;
    if (m == 0) dnnl_sgemm('N', 'T', M, N, K, 1, af, K, bf, K, 0, cf, N);
    else if (m == 1) dnnl_gemm_u8s8s32('N', 'T', 'F', M, N, K, 1, a, K, 0, b, K, 0, 0, c, N, &co);
    else { CHK(dnnl_primitive_execute(prepared[m - 2].p, st, 4, prepared[m - 2].args)); CHK(dnnl_stream_wait(st)); }
}

int main(int argc, char **argv) {
    if (argc < 4) { printf("usage: %s M N K [repeats]\n", argv[0]); return 2; }
    M = atoi(argv[1]); N = atoi(argv[2]); K = atoi(argv[3]); R = argc > 4 ? atoi(argv[4]) : 20;
    CHK(dnnl_engine_create(&eng, dnnl_cpu, 0)); CHK(dnnl_stream_create(&st, eng, dnnl_stream_default_flags));
    a = aligned_alloc(64, (size_t)M * K); b = aligned_alloc(64, (size_t)N * K); c = aligned_alloc(64, (size_t)M * N * 4);
    float *af = aligned_alloc(64, (size_t)M * K * 4), *bf = aligned_alloc(64, (size_t)N * K * 4), *cf = aligned_alloc(64, (size_t)M * N * 4);
    for (long i = 0; i < (long)M * K; i++) { a[i] = rand() % 128; af[i] = a[i]; }   // 7-bit activations
    for (long i = 0; i < (long)N * K; i++) { b[i] = rand() % 255 - 127; bf[i] = b[i]; }
    dnnl_memory_desc_t sd, wany, wplain, dd;
    {   // matmul: src (M, K), weights (K, N) = B stored (N, K) ("ba"), dst (M, N)
        dnnl_dims_t s = {M, K}, w = {K, N}, d = {M, N};
        CHK(dnnl_memory_desc_init_by_tag(&sd, 2, s, dnnl_u8, dnnl_ab)); CHK(dnnl_memory_desc_init_by_tag(&wany, 2, w, dnnl_s8, dnnl_format_tag_any));
        CHK(dnnl_memory_desc_init_by_tag(&wplain, 2, w, dnnl_s8, dnnl_ba)); CHK(dnnl_memory_desc_init_by_tag(&dd, 2, d, dnnl_s32, dnnl_ab));
        dnnl_matmul_desc_t md; CHK(dnnl_matmul_desc_init(&md, &sd, &wany, NULL, &dd));
        prepare(&prepared[0], &md, &sd, &wplain, &dd);
    }
    {   // inner product: src (M, K), weights (N, K) "oi", dst (M, N)
        dnnl_dims_t s = {M, K}, w = {N, K}, d = {M, N};
        CHK(dnnl_memory_desc_init_by_tag(&sd, 2, s, dnnl_u8, dnnl_nc)); CHK(dnnl_memory_desc_init_by_tag(&wany, 2, w, dnnl_s8, dnnl_format_tag_any));
        CHK(dnnl_memory_desc_init_by_tag(&wplain, 2, w, dnnl_s8, dnnl_oi)); CHK(dnnl_memory_desc_init_by_tag(&dd, 2, d, dnnl_s32, dnnl_nc));
        dnnl_inner_product_desc_t id; CHK(dnnl_inner_product_forward_desc_init(&id, dnnl_forward_inference, &sd, &wany, NULL, &dd));
        prepare(&prepared[1], &id, &sd, &wplain, &dd);
    }
    {   // 1x1 convolution, rows as width: src (1, K, 1, M) nhwc, weights (N, K, 1, 1) oihw, dst (1, N, 1, M) nhwc
        dnnl_dims_t s = {1, K, 1, M}, w = {N, K, 1, 1}, d = {1, N, 1, M}, one = {1, 1}, zero = {0, 0};
        CHK(dnnl_memory_desc_init_by_tag(&sd, 4, s, dnnl_u8, dnnl_nhwc)); CHK(dnnl_memory_desc_init_by_tag(&wany, 4, w, dnnl_s8, dnnl_format_tag_any));
        CHK(dnnl_memory_desc_init_by_tag(&wplain, 4, w, dnnl_s8, dnnl_oihw)); CHK(dnnl_memory_desc_init_by_tag(&dd, 4, d, dnnl_s32, dnnl_nhwc));
        dnnl_convolution_desc_t cd;
        CHK(dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct, &sd, &wany, NULL, &dd, one, zero, zero));
        prepare(&prepared[2], &cd, &sd, &wplain, &dd);
    }
    // Interleaved: every round runs each method once, so drifting load hits all alike. Min and median per method.
    const char *names[5] = {"sgemm", "gemm_u8s8s32", "matmul", "inner product", "1x1 convolution"};
    double *times = malloc(sizeof(double) * 5 * R);
    for (int m = 0; m < 5; m++) run(m, af, bf, cf);   // warm-up
    for (int r = 0; r < R; r++) for (int m = 0; m < 5; m++) { double t = now(); run(m, af, bf, cf); times[m * R + r] = now() - t; }
    for (int m = 0; m < 5; m++) qsort(times + m * R, R, sizeof(double), cmp);
    double sgMin = times[0], sgMed = times[R / 2];
    printf("%d x %d x %d  (min / median of %d interleaved rounds, ms; x = sgemm time / this)\n", M, N, K, R);
    for (int m = 0; m < 5; m++) {
        double mn = times[m * R], md = times[m * R + R / 2];
        int wrong = 0;
        if (m > 0) { for (long i = 0; i < (long)M * N; i++) c[i] = -1; run(m, af, bf, cf); wrong = check(); }
        printf("  %-16s %-26s %9.2f %9.2f   x %.2f / %.2f%s\n", names[m], m >= 2 ? prepared[m - 2].impl : "", mn * 1e3, md * 1e3,
               sgMin / mn, sgMed / md, m > 0 && wrong ? "  WRONG" : "");
    }
    return 0;
}
