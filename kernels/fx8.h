/* The int8 x int8 INDEPENDENT byte path (F >= 8), one template for every
 * ISA; its exact semantics are feral_k_fx8_ind in kernels.h.  Included by
 * k_avx2.c and k_avx512.c after they define the vector shim:
 *   FX8_V          vector type;  FX8_W  its bytes (elements)
 *   FX8_NS         generator states a step (AVX2 2: G_0 and G_1 in turn,
 *                  so two xorshift chains overlap; AVX-512 1: G_0 | G_1)
 *   FX8_LD/ST      unaligned load/store;  FX8_SLD(i)/SST(i, v)  state i
 *   FX8_SET16(v)   16-bit broadcast;  FX8_SET8(v)  8-bit broadcast
 *   FX8_MADDUBS, FX8_ADD16, FX8_SRA16(v, c128), FX8_SRL16_8(v) (by 8),
 *   FX8_AND, FX8_ADDS8, FX8_SUBS8, FX8_ADD8, FX8_SUB8, FX8_MAX8,
 *   FX8_XORSHIFT(st)
 *   FX8_COMBINE(e, o)  bytes: even from e (its low bytes), odd from o (its
 *                      high bytes)
 *   FX8_SATV(acc, w, c)  acc with one more count in each byte lane where
 *                      w and c are equal (AVX2) or differ (AVX-512)
 *   FX8_SATN(acc, nv)  the saturated writes of nv vectors from acc (<= 255
 *                      counts a byte lane).
 * Per vector: vpmaddubsw with |aq| in the even (odd) bytes of its unsigned
 * operand forms |aq| a_k of the even (odd) elements in 16-bit lanes (|aq|
 * <= 128: no saturation); + s, >> m (F > 8 only); + the element's random
 * byte r (even: the low byte of its lane of random bits, odd: the high
 * byte); bits 8..15 are the increment t in [0, 64] in magnitude, even ones
 * shifted down, odd ones already in place; one byte blend, then a
 * saturating byte add (aq > 0) or subtract (aq < 0: no negation anywhere),
 * a clamp to -127, and the saturated writes are the bytes where the
 * wrapping result differs, counted in byte lanes (no scalar work a step).  Never widened to 32 bits, no float. */

static inline __attribute__((always_inline)) FX8_V fx8_vec(int8_t *x, const int8_t *a, FX8_V st,
                                                           FX8_V ue, FX8_V uo, FX8_V sv,
                                                           __m128i cm, const int neg,
                                                           const int pre, FX8_V *acc)
{
	const FX8_V lo8 = FX8_SET16(0xff), m127 = FX8_SET8(-127);
	FX8_V av = FX8_LD(a), xv = FX8_LD(x);
	FX8_V pe = FX8_MADDUBS(ue, av), po = FX8_MADDUBS(uo, av);
	if (pre) {
		pe = FX8_SRA16(FX8_ADD16(pe, sv), cm);
		po = FX8_SRA16(FX8_ADD16(po, sv), cm);
	}
	FX8_V se = FX8_ADD16(pe, FX8_AND(st, lo8));
	FX8_V so = FX8_ADD16(po, FX8_SRL16_8(st));
	FX8_V t = FX8_COMBINE(FX8_SRL16_8(se), so);
	FX8_V c = FX8_MAX8(neg ? FX8_SUBS8(xv, t) : FX8_ADDS8(xv, t), m127);
	*acc = FX8_SATV(*acc, neg ? FX8_SUB8(xv, t) : FX8_ADD8(xv, t), c);
	FX8_ST(x, c);
	return st;
}

/* n: a multiple of 32 (the caller runs the rest with feral_k_fx8_ind from
 * element n, whose block parity this leaves in the lane states). */
static inline __attribute__((always_inline)) uint64_t fx8_run(int8_t *x, const int8_t *a,
                                                              size_t n, int aqabs,
                                                              const int neg, const int pre,
                                                              int F, int32_t s,
                                                              struct feral_k_rng *rng)
{
	const FX8_V ue = FX8_SET16((short)aqabs), uo = FX8_SET16((short)(aqabs << 8));
	const FX8_V sv = FX8_SET16((short)s);
	const __m128i cm = _mm_cvtsi32_si128(F - 8);
	FX8_V st0 = FX8_SLD(0);
#if FX8_NS == 2
	FX8_V st1 = FX8_SLD(1);
#endif
	uint64_t sat = 0;
	size_t k = 0;
	while (k + FX8_W <= n) {
		/* blocks of at most 254 vectors: byte lane counts stay <= 254 */
		size_t end = n - k > 254 * FX8_W ? k + 254 * FX8_W : n, k1 = k;
		(void)k1;
		FX8_V acc = FX8_SET8(0);
#if FX8_NS == 2
		for (; k + 2 * FX8_W <= end; k += 2 * FX8_W) {
			st0 = FX8_XORSHIFT(st0);
			st1 = FX8_XORSHIFT(st1);
			fx8_vec(x + k, a + k, st0, ue, uo, sv, cm, neg, pre, &acc);
			fx8_vec(x + k + FX8_W, a + k + FX8_W, st1, ue, uo, sv, cm, neg, pre, &acc);
		}
#endif
		for (; k + FX8_W <= end; k += FX8_W) { /* AVX2: an odd last block, on G_0 */
			st0 = FX8_XORSHIFT(st0);
			fx8_vec(x + k, a + k, st0, ue, uo, sv, cm, neg, pre, &acc);
		}
		sat += FX8_SATN(acc, (k - k1) / FX8_W);
	}
#if FX8_NS == 2
	FX8_SST(1, st1);
#endif
	FX8_SST(0, st0);
	return sat;
}

/* The whole row (dense): SIMD for the multiple of FX8_W, the rest by the
 * scalar definition. */
static uint64_t fx8_row(int8_t *x, const int8_t *a, size_t len, int F, int16_t aq,
                        struct feral_k_rng *rng)
{
	int32_t s = feral_k_fx8_s(F, rng);
	int aqabs = aq < 0 ? -aq : aq;
	size_t n = len - len % FX8_W;
	uint64_t sat;
	if (F > 8)
		sat = aq < 0 ? fx8_run(x, a, n, aqabs, 1, 1, F, s, rng)
		             : fx8_run(x, a, n, aqabs, 0, 1, F, s, rng);
	else
		sat = aq < 0 ? fx8_run(x, a, n, aqabs, 1, 0, F, s, rng)
		             : fx8_run(x, a, n, aqabs, 0, 0, F, s, rng);
	return sat + feral_k_fx8_ind(x + n, a + n, NULL, len - n, n, F, aq, s, rng);
}
