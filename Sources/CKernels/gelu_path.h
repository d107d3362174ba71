// One vector code path of gelu.c, included once per ISA with W (the name suffix), LANES, V and the operation
// macros defined (see gelu.c); undefines them at the end. The same steps as gelu.c's portable cdf_scalar.
#define CAT2(a, b) a##_##b
#define CAT(a, b) CAT2(a, b)

static inline V CAT(exp2part, W)(V hi, V lo) {
    V x = ADD(hi, lo);
    V n = ROUND(MUL(x, SET1(LOG2E)));
    V r = ADD(FNMADD(n, SET1(LN2_LO), FNMADD(n, SET1(LN2_HI), hi)), lo);
    V p = SET1(E5);
    p = FMADD(p, r, SET1(E4)); p = FMADD(p, r, SET1(E3)); p = FMADD(p, r, SET1(E2));
    p = FMADD(p, r, SET1(E1)); p = FMADD(p, r, SET1(E0));
    p = ADD(FMADD(p, MUL(r, r), r), SET1(1));
    return EXP_SCALE(p, n, x);
}

/// Φ(x) in lanes; φ(x) into *pdf when pdf is not NULL.
static inline V CAT(cdf, W)(V x, V *pdf) {
    V z = MUL(ABS(x), SET1(SQRT1_2));
    V xx = MUL(x, x), half = SET1(0.5f);
    V hi = MUL(xx, half), lo = MUL(FMSUB(x, x, xx), half);
    V t = DIV(SET1(1), FMADD(z, half, SET1(1)));
    V p = SET1(C9);
    p = FMADD(p, t, SET1(C8)); p = FMADD(p, t, SET1(C7)); p = FMADD(p, t, SET1(C6)); p = FMADD(p, t, SET1(C5));
    p = FMADD(p, t, SET1(C4)); p = FMADD(p, t, SET1(C3)); p = FMADD(p, t, SET1(C2)); p = FMADD(p, t, SET1(C1));
    p = FMADD(p, t, SET1(C0));
    V zero = SET1(0), neg_hi = SUB(zero, hi);
    V tail = MUL(MUL(half, t), CAT(exp2part, W)(neg_hi, SUB(p, lo)));
    if (pdf) *pdf = MUL(SET1(INV_SQRT_2PI), CAT(exp2part, W)(neg_hi, SUB(zero, lo)));
    return SELECT_POSITIVE(x, SUB(SET1(1), tail), tail);
}

static void CAT(forward, W)(const float *x, float *y, long n) {
    for (long i = 0; i < n; i += LANES) {
        V v = LOAD(x + i, n - i);
        STORE(y + i, MUL(v, CAT(cdf, W)(v, 0)), n - i);
    }
}

static void CAT(backward, W)(const float *x, const float *dy, float *dx, long n) {
    for (long i = 0; i < n; i += LANES) {
        V v = LOAD(x + i, n - i), pdf;
        V cdf = CAT(cdf, W)(v, &pdf);
        STORE(dx + i, MUL(LOAD(dy + i, n - i), FMADD(v, pdf, cdf)), n - i);
    }
}

static void CAT(cdf_pdf, W)(const float *x, float *cdf, float *pdf, long n) {
    for (long i = 0; i < n; i += LANES) {
        V p, c = CAT(cdf, W)(LOAD(x + i, n - i), &p);
        STORE(cdf + i, c, n - i);
        STORE(pdf + i, p, n - i);
    }
}

#undef W
#undef LANES
#undef V
#undef SET1
#undef ADD
#undef SUB
#undef MUL
#undef DIV
#undef FMADD
#undef FNMADD
#undef FMSUB
#undef ABS
#undef ROUND
#undef EXP_SCALE
#undef SELECT_POSITIVE
#undef LOAD
#undef STORE
