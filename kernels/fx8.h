/* The int8 x int8 INDEPENDENT byte path (F >= 8), one template for every
 * ISA; its exact semantics are feral_k_fx8_dense in kernels.h.  Included by
 * k_avx2.c and k_avx512.c after they define the vector shim:
 *   FX8_V          vector type;  FX8_W  its bytes (elements)
 *   FX8_LD/ST      unaligned load/store;  FX8_RLD/RST  aligned load/store
 *                  of a ring entry's FX8_W bytes;  FX8_ADD64  64-bit add
 *   FX8_SET32/16/8(v)  32/16/8-bit broadcast;  FX8_BCAST32(p)  of the dword
 *                  at p (a load, no shuffle)
 *   FX8_MADDUBS, FX8_ADD16, FX8_XOR, FX8_ADDS8, FX8_ADD8, FX8_MAX8
 *   FX8_MULHI16(v, c) the high 16 bits of each 16-bit product (vpmulhw):
 *                  by c = 2^(16 - k), 2 <= k <= 14, the arithmetic shift by
 *                  k with a per-call count (one loop for every F), and on
 *                  both vector ALU ports of Intel's AVX-512 (the shift runs
 *                  on one);  FX8_SRAI16(v, k)  (k a constant)
 *   FX8_BLENDODD(e, o) bytes: even from e, odd from o
 *   FX8_ANDOR(w, m, c) (w & m) | c  (c & m = 0)
 *   FX8_BSWAP16(w)  the two bytes of each 16-bit lane swapped
 *   FX8_SATV(acc, w, c) acc counting, in byte lanes, where w and c differ
 *                  (AVX2: where they are equal) and FX8_SATN(acc, nv): the
 *                  saturated bytes of nv vectors from acc (blocks of <= 254
 *                  vectors);  FX8_ZERO  the zero vector
 * Per vector: vpmaddubsw with |aq| in the even (odd) bytes of its unsigned
 * operand forms |aq| a_k of the even (odd) elements in 16-bit lanes (|aq|
 * <= 128: no saturation).  The addend R = r 2^m + s is made in place by one
 * and-or of the 16-bit random word (even) or of the word byte-swapped (odd)
 * with 0xff << m and a per-call constant C; |aq| a_k + R fits int16, and
 * one arithmetic shift by F (even: low byte) or by m (odd: high byte) gives
 * the increment t, then one byte blend.  No branch on the sign of alpha:
 * for aq < 0, C also sets bits F..15 (the addend is R - 2^F, so the shift
 * gives t - 1) and t is XORed with N = -1: ~(t - 1) = -t, the increment of
 * the definition, and then the same saturating byte add either way.  A
 * clamp to -127, and the saturated writes are the bytes where the wrapping
 * result differs, counted in byte lanes (no scalar work a step).  Never
 * widened to 32 bits, no float. */

/* The per-call constants, by value (a struct of them made GCC realign the
 * stack and spill). */
#define FX8_K FX8_V ue, FX8_V uo, FX8_V M, FX8_V C, FX8_V N, FX8_V ce, FX8_V co
#define FX8_KA ue, uo, M, C, N, ce, co

/* m: 0 (F = 8: the odd increment is the high byte as it stands), 1 (the
 * odd one shifted by one, an immediate) or 2 (any m >= 2: both shifts by
 * FX8_MULHI16 with the per-call multipliers ce = 2^(16-F), co = 2^(16-m)). */
static inline __attribute__((always_inline)) FX8_V fx8_vec(int8_t *x, const int8_t *a, FX8_V st,
                                                           FX8_K, const int m, FX8_V acc)
{
	const FX8_V m127 = FX8_SET8(-127);
	FX8_V av = FX8_LD(a), xv = FX8_LD(x);
	FX8_V ze = FX8_ADD16(FX8_MADDUBS(ue, av), FX8_ANDOR(st, M, C));
	FX8_V zo = FX8_ADD16(FX8_MADDUBS(uo, av), FX8_ANDOR(FX8_BSWAP16(st), M, C));
	FX8_V te, to;
	if (m == 0) {
		te = FX8_MULHI16(ze, ce);
		to = zo;
	} else if (m == 1) {
		te = FX8_MULHI16(ze, ce);
		to = FX8_SRAI16(zo, 1);
	} else {
		te = FX8_MULHI16(ze, ce);
		to = FX8_MULHI16(zo, co);
	}
	FX8_V t = FX8_XOR(FX8_BLENDODD(te, to), N);
	FX8_V c = FX8_MAX8(FX8_ADDS8(xv, t), m127);
	FX8_ST(x, c);
	return FX8_SATV(acc, FX8_ADD8(xv, t), c);
}

/* n: a multiple of FX8_W (the caller runs the rest with feral_k_fx8_dense
 * from element n).  One lagged-Fibonacci step (kernels.h, feral_k_lf_step)
 * per 64 elements: X_n = X_(n-S) + X_(n-R), the entry at w overwritten in
 * place; AVX2 forms it in two halves, the second serving the next 32
 * elements (unused when the row ends first, as in the scalar definition).
 * The ring cursor is two pointers, each wrapped by a compare and cmov a
 * step (cutting the row where either wraps instead costs a loop-exit
 * misprediction in about a third of the calls at d = 1024).  Byte lane
 * counts: blocks of at most 127 steps (254 vectors). */
static inline __attribute__((always_inline)) uint64_t fx8_run(int8_t *x, const int8_t *a,
                                                              size_t n, FX8_K, const int m,
                                                              struct feral_k_rng *rng)
{
	uint64_t *lf = rng->lf, *lfend = lf + 8 * FERAL_K_LF_S;
	/* feral_k_lf_begin's cursor as pointers, the wrap by a select (GCC made
	 * the ternary a branch there, mispredicted as the ring turns) */
	uint64_t *w = lf + 8 * (size_t)rng->lf_i;
	const uint64_t *v = w - 8 * FERAL_K_LF_R;
	v = v < lf ? v + 8 * FERAL_K_LF_S : v;
	size_t steps = (n + 63) / 64;
	uint64_t sat = 0;
	while (steps) {
		size_t cnt = steps < 127 ? steps : 127, nv = 0;
		steps -= cnt;
		FX8_V acc = FX8_ZERO;
		for (; cnt; cnt--) {
			FX8_V r0 = FX8_ADD64(FX8_RLD(w), FX8_RLD(v));
			FX8_RST(w, r0);
#if FX8_W == 32
			FX8_V r1 = FX8_ADD64(FX8_RLD(w + 4), FX8_RLD(v + 4));
			FX8_RST(w + 4, r1);
#endif
			w = w + 8 == lfend ? lf : w + 8;
			v = v + 8 == lfend ? lf : v + 8;
			acc = fx8_vec(x, a, r0, FX8_KA, m, acc);
			x += FX8_W, a += FX8_W, n -= FX8_W, nv++;
#if FX8_W == 32
			if (n) { /* the row may end after the first half */
				acc = fx8_vec(x, a, r1, FX8_KA, m, acc);
				x += FX8_W, a += FX8_W, n -= FX8_W, nv++;
			}
#endif
		}
		sat += FX8_SATN(acc, nv);
	}
	rng->lf_i = (uint32_t)((size_t)(w - lf) / 8);
	return sat;
}

/* Per-call constants by m = F - 8 (16-bit patterns, twice in a dword so
 * that they load as one broadcast): 0xff << m, 2^(16-F), 2^(16-m). */
#define FX8_P(v) ((uint32_t)(uint16_t)(v) * 0x10001u)
static const uint32_t fx8_tab[7][3] = {
	{FX8_P(0xff), FX8_P(256), 0},              {FX8_P(0x1fe), FX8_P(128), 0},
	{FX8_P(0x3fc), FX8_P(64), FX8_P(16384)},   {FX8_P(0x7f8), FX8_P(32), FX8_P(8192)},
	{FX8_P(0xff0), FX8_P(16), FX8_P(4096)},    {FX8_P(0x1fe0), FX8_P(8), FX8_P(2048)},
	{FX8_P(0x3fc0), FX8_P(4), FX8_P(1024)},
};

/* The whole row (dense): SIMD for the multiple of FX8_W, the rest by the
 * scalar definition.  No branch on the sign. */
static __attribute__((noinline)) uint64_t fx8_row(void *x_, const void *a_, size_t len,
                                                  double alpha, struct feral_k_rng *rng)
{
	int8_t *x = x_;
	const int8_t *a = a_;
	int F;
	int32_t s;
	uint32_t q = feral_k_fx8_mag(alpha, rng, &F, &s);
	uint32_t neg = (uint32_t)__builtin_signbit(alpha) != 0;
	int m = F - 8;
	size_t n = len - len % FX8_W;
	uint64_t sat = 0;
	if (n) {
		FX8_V ue = FX8_SET16((short)q), uo = FX8_SET16((short)(q << 8));
		/* aq < 0: bits F..15 set, the addend R - 2^F; N its bit 15 */
		FX8_V C = FX8_SET32((int)FX8_P((uint32_t)s | (-neg << F))), N = FX8_SRAI16(C, 15);
		FX8_V M = FX8_BCAST32(&fx8_tab[m][0]), ce = FX8_BCAST32(&fx8_tab[m][1]);
		FX8_V co = FX8_BCAST32(&fx8_tab[m][2]);
		/* one copy per kind of shift (m = 0, 1, >= 2), none per sign */
		sat = m >= 2 ? fx8_run(x, a, n, FX8_KA, 2, rng)
		      : m    ? fx8_run(x, a, n, FX8_KA, 1, rng)
		             : fx8_run(x, a, n, FX8_KA, 0, rng);
	}
	if (len == n)
		return sat;
	int16_t aq = (int16_t)(neg ? -(int32_t)q : (int32_t)q);
	return sat + feral_k_fx8_dense(x + n, a + n, len - n, n, F, aq, s, rng);
}

/* The int8 x int8 axpy entry of an ISA (k_avx2.c, k_avx512.c; after their
 * axpy_i8_i8_rest, which holds every other path): the byte path tested
 * first, before any frame, and both paths tail calls, so the common call
 * pays no register saves for the others. */
#define FX8_AXPY_ENTRY(isa)                                                                \
	uint64_t feral_k_axpy_i8_i8_##isa(void *x_, const void *a_, const uint32_t *idx,   \
	                                  size_t len, double alpha, enum feral_rounding mode, \
	                                  struct feral_k_rng *rng)                        \
	{                                                                                  \
		if (!idx && mode == FERAL_ROUNDING_INDEPENDENT &&                          \
		    __builtin_fabs(alpha) < FERAL_K_FX8_ALPHA_MAX)                         \
			return fx8_row(x_, a_, len, alpha, rng);                           \
		return axpy_i8_i8_rest(x_, a_, idx, len, alpha, mode, rng);                \
	}
