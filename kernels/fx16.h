/* The int16 x int16 INDEPENDENT fixed-point axpy (dense rows, |alpha| <
 * 1/2), one template for every ISA; its exact semantics are
 * feral_k_fx16_dense in kernels.h.  Included by k_avx2.c and k_avx512.c
 * after they define the vector shim:
 *   FX16_V           vector type;  FX16_W  its 16-bit lanes (16 or 32)
 *   FX16_LD/ST       unaligned load/store;  FX16_RLD/RST  aligned load/store
 *                    of FX16_W * 2 bytes of a ring entry;  FX16_ADD64
 *   FX16_A(aq)       the 32-bit aq pair (even | odd elements) broadcast
 *   FX16_T(av, A, r) mulhi(av, A) + [r <u mullo(av, A)] (the increment:
 *                    R = 65535 - r, so the carry of lo + R is r < lo)
 *   FX16_CLAMP(x, t) max(adds(x, t), -32767);  FX16_ADD16 wrapping add
 *   FX16_CNT(n, w, c) n with one more in each 16-bit lane where the
 *                    wrapping sum w and the clamped c differ (AVX-512:
 *                    saturated lanes) or agree (AVX2: a compare gives -1);
 *                    FX16_CNTN(n, nv) the saturated writes of nv vectors
 *   FX16_AQS         the group multiplier generator's state (lane[8..15]),
 *                    FX16_AQLOAD(rng), FX16_AQSTORE(rng, s), and
 *                    FX16_AQ(s, A0, f16, q): one xorshift64 step, the 16
 *                    dwords of the next 16 ring steps' pairs into q
 * Per 32 elements (one ring step): one 64-bit add for the ring entry, and
 * per vector mulhi, mullo, a compare and a subtract for the increment, a
 * saturating add and a max for the clamp, a wrapping add, a compare and a
 * lane-counter add for the saturation count.  The ring cursor costs no
 * work a step: steps run in blocks of FX16_B whose entries (written i..,
 * added j..) are contiguous, i.e. unless the block crosses the end of the
 * ring (i and j each cross it once per FERAL_K_LF_S steps: one predictable
 * branch a block); such blocks, and the last < FX16_B steps of a group of
 * 16, advance i and j one step at a time by a compare and a conditional
 * move each. */

#define FX16_LFB (64 * (size_t)FERAL_K_LF_S) /* the ring's bytes */
#define FX16_B 8 /* ring steps a block (4: 1-3 % slower at d 4096) */

/* o + 64 wrapped to 0 at the ring's end, as a cmov (GCC made a branch of
 * the ternary operator, mispredicted at every wrap). */
static inline __attribute__((always_inline)) size_t fx16_lfadv(size_t o)
{
	size_t n = o + 64, z = 0;
	__asm__("cmp %2, %0\n\tcmove %1, %0" : "+r"(n) : "r"(z), "i"(FX16_LFB) : "cc");
	return n;
}

static inline __attribute__((always_inline)) FX16_V fx16_vec(int16_t *x, const int16_t *a,
                                                             FX16_V r, FX16_V A, FX16_V n)
{
	FX16_V av = FX16_LD(a), xv = FX16_LD(x);
	__asm__("" : "+v"(av)); /* one load for both products */
	FX16_V t = FX16_T(av, A, r);
	FX16_V c = FX16_CLAMP(xv, t);
	FX16_ST(x, c);
	return FX16_CNT(n, FX16_ADD16(xv, t), c);
}

/* One ring step: entry wp += entry vp (kernels.h, feral_k_lf_step), its 64
 * bytes the R words of 32 elements; aq their multiplier pair. */
static inline __attribute__((always_inline)) FX16_V fx16_step(int16_t *x, const int16_t *a,
                                                              char *wp, const char *vp,
                                                              int32_t aq, FX16_V n)
{
	const FX16_V A = FX16_A(aq);
	FX16_V r0 = FX16_ADD64(FX16_RLD(wp), FX16_RLD(vp));
	FX16_RST(wp, r0);
#if FX16_W == 16
	FX16_V r1 = FX16_ADD64(FX16_RLD(wp + 32), FX16_RLD(vp + 32));
	FX16_RST(wp + 32, r1);
	n = fx16_vec(x, a, r0, A, n);
	return fx16_vec(x + 16, a + 16, r1, A, n);
#else
	return fx16_vec(x, a, r0, A, n);
#endif
}

/* ns ring steps (32 ns elements); returns the saturated writes. */
static uint64_t fx16_run(int16_t *x, const int16_t *a, size_t ns, int16_t A0, int32_t f16,
                         struct feral_k_rng *rng)
{
	char *lf = (char *)rng->lf;
	size_t oi = 64 * (size_t)rng->lf_i; /* byte offsets of entries i and j */
	size_t oj = oi >= 64 * (size_t)FERAL_K_LF_R ? oi - 64 * (size_t)FERAL_K_LF_R
	                                            : oi + 64 * (size_t)(FERAL_K_LF_S - FERAL_K_LF_R);
	FX16_AQS sq = FX16_AQLOAD(rng);
	int32_t aq2[16] __attribute__((aligned(64)));
	uint64_t sat = 0;
	for (size_t s = 0; s < ns;) {
		/* blocks of 2^12 steps: lane counters <= 2^13 (AVX2: 2 vectors a step) */
		size_t bend = ns - s > 4096 ? s + 4096 : ns, s0 = s;
		FX16_V n = FX16_ZERO;
		while (s < bend) {
			sq = FX16_AQ(sq, A0, f16, aq2);
			size_t e = bend - s > 16 ? s + 16 : bend;
			const int32_t *q = aq2 - s;
			for (; s + FX16_B <= e; s += FX16_B) {
				int16_t *xs = x + 32 * s;
				const int16_t *as = a + 32 * s;
				if (__builtin_expect(oi <= FX16_LFB - 64 * FX16_B &&
				                     oj <= FX16_LFB - 64 * FX16_B, 1)) {
					char *wp = lf + oi;
					const char *vp = lf + oj;
#if FX16_W == 32 /* unrolled: no copies of the counter (AVX2's 16 ymm would spill, 25 % slower) */
#pragma GCC unroll 8
#endif
					for (int u = 0; u < FX16_B; u++)
						n = fx16_step(xs + 32 * u, as + 32 * u, wp + 64 * u, vp + 64 * u,
						              q[s + (size_t)u], n);
					oi = fx16_lfadv(oi + 64 * (FX16_B - 1));
					oj = fx16_lfadv(oj + 64 * (FX16_B - 1));
				} else {
					for (int u = 0; u < FX16_B; u++) {
						n = fx16_step(xs + 32 * u, as + 32 * u, lf + oi, lf + oj,
						              q[s + (size_t)u], n);
						oi = fx16_lfadv(oi);
						oj = fx16_lfadv(oj);
					}
				}
			}
			for (; s < e; s++) {
				n = fx16_step(x + 32 * s, a + 32 * s, lf + oi, lf + oj, q[s], n);
				oi = fx16_lfadv(oi);
				oj = fx16_lfadv(oj);
			}
		}
		sat += FX16_CNTN(n, s - s0);
	}
	rng->lf_i = (uint32_t)(oi / 64);
	FX16_AQSTORE(rng, sq);
	return sat;
}

/* The whole row (dense, INDEPENDENT, |alpha| < FERAL_K_FX16_ALPHA_MAX): SIMD
 * for the multiple of 32, the rest by the scalar definition. */
static uint64_t fx16_row(int16_t *x, const int16_t *a, size_t len, double alpha,
                         struct feral_k_rng *rng)
{
	int32_t f16;
	int16_t A0 = feral_k_fx16_alpha(alpha, rng, &f16);
	size_t k = len & ~(size_t)31;
	uint64_t sat = k ? fx16_run(x, a, k / 32, A0, f16, rng) : 0;
	return k == len ? sat : sat + feral_k_fx16_dense(x + k, a + k, len - k, k, A0, f16, rng);
}
