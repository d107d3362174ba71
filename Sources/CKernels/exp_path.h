// softmax.c's e^x for one vector width: FastMath's simdExp step for step, no FMA. Included once per ISA with W (the
// name suffix), V, SET1, ADD, SUB, MUL, LESS(a, b) and GREATER(a, b) (a mask of the lanes where a < b, a > b),
// CHOOSE(mask, a, b) (b in the mask's lanes, else a), ZERO and SCALE_BITS(t) (the float whose bits are those of t
// minus 1.5·2²³'s, plus 127, shifted up 23) defined; undefines them at the end.
#define CAT2(a, b) a##_##b
#define CAT(a, b) CAT2(a, b)

static inline V CAT(exp, W)(V in) {
    V lo = SET1(EXP_LO), hi = SET1(EXP_HI), magic = SET1(MAGIC);
    MASK under = LESS(in, lo);
    V x = CHOOSE(under, in, lo);
    x = CHOOSE(GREATER(x, hi), x, hi);
    V n = SUB(ADD(MUL(x, SET1(LOG2E)), magic), magic);
    V r = SUB(x, MUL(n, SET1(LN2_HI)));
    r = ADD(r, MUL(n, SET1(LN2_LO)));
    V p = SET1(P0);
    p = ADD(MUL(p, r), SET1(P1));
    p = ADD(MUL(p, r), SET1(P2));
    p = ADD(MUL(p, r), SET1(P3));
    p = ADD(MUL(p, r), SET1(P4));
    p = ADD(MUL(p, r), SET1(P5));
    p = ADD(ADD(MUL(p, MUL(r, r)), r), SET1(1));
    return CHOOSE(under, MUL(p, SCALE_BITS(ADD(n, magic))), ZERO);
}

#undef CAT
#undef CAT2
#undef W
#undef V
#undef MASK
#undef SET1
#undef ADD
#undef SUB
#undef MUL
#undef LESS
#undef GREATER
#undef CHOOSE
#undef ZERO
#undef SCALE_BITS
