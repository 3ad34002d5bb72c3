/* The int8 x int8 INDEPENDENT byte path (F >= 8), one template for every
 * ISA; its exact semantics are feral_k_fx8_dense in kernels.h.  Included by
 * k_avx2.c and k_avx512.c after they define the vector shim:
 *   FX8_V          vector type;  FX8_W  its bytes (elements)
 *   FX8_LD/ST      unaligned load/store;  FX8_RLD/RST  aligned load/store
 *                  of a ring entry's FX8_W bytes;  FX8_ADD64  64-bit add
 *   FX8_SET16(v)   16-bit broadcast;  FX8_SET8(v)  8-bit broadcast
 *   FX8_MADDUBS, FX8_ADD16, FX8_SRAI16(v, m) (m a constant: shifts by an
 *   xmm count are 2 uops on Intel), FX8_SRL16_8(v) (by 8),
 *   FX8_AND, FX8_ADDS8, FX8_SUBS8, FX8_ADD8, FX8_SUB8, FX8_MAX8
 *   FX8_COMBINE(e, o)  bytes: even from e (its low bytes, high bytes zero),
 *                      odd from o (its high bytes);  FX8_BLENDODD(e, o)
 *                      the same for any e;  FX8_ANDOR(w, m, s)  (w & m) | s;
 *                      FX8_BSWAP16(w)  the two bytes of each 16-bit lane
 *                      swapped
 *   FX8_NSAT(w, c)     the number of bytes where w and c differ, or (no
 *                      FX8_NSAT) FX8_SATV(acc, w, c): acc with one more in
 *                      each byte lane where w and c are equal, and
 *                      FX8_SATN(acc, nv): the saturated bytes of nv vectors
 *                      from acc (blocks of <= 254 vectors).
 * Per vector: vpmaddubsw with |aq| in the even (odd) bytes of its unsigned
 * operand forms |aq| a_k of the even (odd) elements in 16-bit lanes (|aq|
 * <= 128: no saturation).  F = 8: + the element's random byte r (even: the
 * low byte of its 16-bit word of random bits, odd: the high byte); bits
 * 8..15 are the increment, even ones shifted down, odd ones in place.
 * F > 8: R = r 2^m + s made in place by one and-or of the word (even) or of
 * the word byte-swapped (odd) with 0xff << m and s; |aq| a_k + R fits int16
 * (< 2^15), so one arithmetic shift by F (even: low byte) or by m (odd:
 * high byte) gives the increment, and no pre-shift is needed.  Then one
 * byte blend, a saturating byte add (aq > 0) or subtract (aq < 0: no
 * negation anywhere), a clamp to -127, and the saturated writes are the
 * bytes where the wrapping result differs, counted in byte lanes (no scalar
 * work a step).  Never widened to 32 bits, no float. */

static inline __attribute__((always_inline)) FX8_V fx8_vec(int8_t *x, const int8_t *a, FX8_V st,
                                                           FX8_V ue, FX8_V uo, FX8_V sv,
                                                           const int neg, const int m,
                                                           FX8_V *acc,
                                                           uint64_t *sat)
{
	const FX8_V lo8 = FX8_SET16(0xff), m127 = FX8_SET8(-127);
	FX8_V av = FX8_LD(a), xv = FX8_LD(x);
	FX8_V pe = FX8_MADDUBS(ue, av), po = FX8_MADDUBS(uo, av), t;
	if (m) {
		/* R = r 2^m + s in place: bits m..m+7 of the word (even) or of
		 * the word byte-swapped (odd: bits m+8..15 and 0..m-1), or s;
		 * |aq| a + R fits int16, one shift by F (even: the low byte) or
		 * by m (odd: the high byte) */
		const FX8_V M = FX8_SET16((short)(0xff << m));
		FX8_V ze = FX8_ADD16(pe, FX8_ANDOR(st, M, sv));
		FX8_V zo = FX8_ADD16(po, FX8_ANDOR(FX8_BSWAP16(st), M, sv));
		t = FX8_BLENDODD(FX8_SRAI16(ze, 8 + m), FX8_SRAI16(zo, m));
	} else {
		FX8_V se = FX8_ADD16(pe, FX8_AND(st, lo8));
		FX8_V so = FX8_ADD16(po, FX8_SRL16_8(st));
		t = FX8_COMBINE(FX8_SRL16_8(se), so);
	}
	FX8_V c = FX8_MAX8(neg ? FX8_SUBS8(xv, t) : FX8_ADDS8(xv, t), m127);
#ifdef FX8_NSAT
	*sat += FX8_NSAT(neg ? FX8_SUB8(xv, t) : FX8_ADD8(xv, t), c);
	(void)acc;
#else
	*acc = FX8_SATV(*acc, neg ? FX8_SUB8(xv, t) : FX8_ADD8(xv, t), c);
	(void)sat;
#endif
	FX8_ST(x, c);
	return st;
}

/* n: a multiple of FX8_W (the caller runs the rest with feral_k_fx8_dense
 * from element n).  One lagged-Fibonacci step (kernels.h, feral_k_lf_step)
 * per 64 elements: X_n = X_(n-S) + X_(n-R), the entry at i overwritten in
 * place; AVX2 forms it in two halves, the second serving the next 32
 * elements (unused when the row ends first, as in the scalar definition). */
static inline __attribute__((always_inline)) uint64_t fx8_run(int8_t *x, const int8_t *a,
                                                              size_t n, int aqabs,
                                                              const int neg, const int m,
                                                              int32_t s,
                                                              struct feral_k_rng *rng)
{
	const FX8_V ue = FX8_SET16((short)aqabs), uo = FX8_SET16((short)(aqabs << 8));
	const FX8_V sv = FX8_SET16((short)s);
	uint64_t *lf = rng->lf;
	struct feral_k_lf_cur cur = feral_k_lf_begin(rng);
	uint64_t sat = 0;
	size_t k = 0;
	while (k + FX8_W <= n) {
		/* blocks of at most 254 vectors (even): byte lane counts stay <= 254 */
		size_t end = n - k > 254 * FX8_W ? k + 254 * FX8_W : n, k1 = k;
		(void)k1;
		FX8_V acc = FX8_SET8(0);
		while (k + FX8_W <= end) {
			uint64_t *w = lf + 8 * cur.i;
			const uint64_t *v = lf + 8 * cur.j;
			cur = feral_k_lf_adv(cur);
			FX8_V r0 = FX8_ADD64(FX8_RLD(w), FX8_RLD(v));
			FX8_RST(w, r0);
#if FX8_W == 32
			FX8_V r1 = FX8_ADD64(FX8_RLD(w + 4), FX8_RLD(v + 4));
			FX8_RST(w + 4, r1);
#endif
			fx8_vec(x + k, a + k, r0, ue, uo, sv, neg, m, &acc, &sat);
			k += FX8_W;
#if FX8_W == 32
			if (k + FX8_W <= end) {
				fx8_vec(x + k, a + k, r1, ue, uo, sv, neg, m, &acc, &sat);
				k += FX8_W;
			}
#endif
		}
#ifndef FX8_NSAT
		sat += FX8_SATN(acc, (k - k1) / FX8_W);
#endif
	}
	feral_k_lf_end(rng, cur);
	return sat;
}

/* The whole row (dense): SIMD for the multiple of FX8_W, the rest by the
 * scalar definition. */
static uint64_t fx8_row(int8_t *x, const int8_t *a, size_t len, double alpha,
                        struct feral_k_rng *rng)
{
	int16_t aq;
	int32_t s;
	int F = feral_k_fx8_alpha(alpha, rng, &aq, &s);
	int aqabs = aq < 0 ? -aq : aq;
	size_t n = len - len % FX8_W;
	uint64_t sat = 0;
	switch (F - 8) { /* one copy per shift and sign: immediate shifts, no branch a step */
#define FX8_M(m)                                                                           \
	case m:                                                                             \
		sat = aq < 0 ? fx8_run(x, a, n, aqabs, 1, m, s, rng)                         \
		             : fx8_run(x, a, n, aqabs, 0, m, s, rng);                        \
		break;
		FX8_M(0) FX8_M(1) FX8_M(2) FX8_M(3) FX8_M(4) FX8_M(5) FX8_M(6)
#undef FX8_M
	}
	return len == n ? sat : sat + feral_k_fx8_dense(x + n, a + n, len - n, n, F, aq, s, rng);
}
