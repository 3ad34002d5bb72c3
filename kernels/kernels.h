/* Kernel declarations: op, data precision, model precision, ISA.
 * Every SIMD kernel has a _ref twin with the same signature.
 *
 * Names: feral_k_<op>_<data>_<model>[_csr]_<isa>.  A kernel without _csr
 * takes both layouts (idx == NULL: dense); SIMD kernels without _csr run the
 * dense row with SIMD and hand a sparse row to the _ref twin, so any kernel
 * is safe in any slot.  _csr kernels require idx != NULL, strictly
 * increasing.
 *
 * Numerics shared by every ISA (so SIMD and ref agree):
 *  - integer x integer dot: exact (int32 blocks spilled to int64).  Model
 *    operands must lie in the symmetric range (no -128 / -32768, see
 *    docs/math.md on fixed point): the AVX2 and AVX-512 int8 paths negate
 *    model bytes.
 *  - dots with a float side: G32 (f32 FMA) when no side is f64, G64 (double
 *    FMA) for an f64 model; the _ref twins accumulate in double.
 *  - float axpy: x += alpha*a as a multiply then an add, never fused (f64
 *    model: in double; f32 model: in float with alpha rounded to float), so
 *    SIMD and ref results are bit-identical.
 *  - integer axpy (but for the fixed-point paths below: int8 x int8, and
 *    int16 x int16 with INDEPENDENT rounding and |alpha| < 1/2) rounds the
 *    INCREMENT: t = clamp((float)alpha * a, +-2^16),
 *    q <- sat(q + R(t)), R = floor(t + u) with u = 24-bit uniform in [0,1)
 *    (INDEPENDENT: one u per element), or round-half-even (NEAREST).
 *    mode is INDEPENDENT or NEAREST: SHARED (one u per 16 elements) was
 *    removed, feral_config validation rejects it, and no kernel reads it.  t + u is one f32 add, so the
 *    bias is below 2^-24 |t| units (< 2^-8 units for |t| < 2^16).  NaN
 *    increments saturate upwards.  Returns the number of saturated writes. */
#ifndef FERAL_KERNELS_H
#define FERAL_KERNELS_H
#include "internal.h"

/* One pair list drives every table: each valid (data, model) precision pair,
 * once.  X(dp, mp, ...) is expanded for every pair with the extra arguments;
 * the declarations below, ref.c's dots and dispatch.c's tables (ref, avx2,
 * avx512, avx512vnni) are all generated from it.  FERAL_K_P_<p> maps a
 * name to its enum feral_precision. */
#define FERAL_K_PAIRS(X, ...)                                                              \
	X(f32, f64, __VA_ARGS__) X(f32, f32, __VA_ARGS__) X(f32, i16, __VA_ARGS__)          \
	X(f32, i8, __VA_ARGS__) X(i16, f64, __VA_ARGS__) X(i16, f32, __VA_ARGS__)           \
	X(i16, i16, __VA_ARGS__) X(i16, i8, __VA_ARGS__) X(i8, f64, __VA_ARGS__)            \
	X(i8, f32, __VA_ARGS__) X(i8, i16, __VA_ARGS__) X(i8, i8, __VA_ARGS__)
/* The pairs whose dense dot has a VNNI kernel (k_avx512vnni.c): the only
 * code built with -mavx512vnni, selected only when cpuid reports it. */
#define FERAL_K_VNNI_DOTS(X, ...) X(i8, i8, __VA_ARGS__)
/* The end of a four-chain dense dot (k_avx2.c, k_avx512.c): after the loop
 * of four W-element steps, the 1-3 whole steps left go to chains s0, s1, s2
 * in turn (the fixed order that keeps one thread bit-reproducible); STEP is
 * called as STEP(args..., chain, offset) and k advances past each. */
#define FERAL_K_DOT_TAIL3(W, STEP, ...)                                                    \
	if (k + (W) <= len) {                                                              \
		STEP(__VA_ARGS__, s0, k);                                                  \
		k += (W);                                                                  \
		if (k + (W) <= len) {                                                      \
			STEP(__VA_ARGS__, s1, k);                                          \
			k += (W);                                                          \
			if (k + (W) <= len) {                                              \
				STEP(__VA_ARGS__, s2, k);                                  \
				k += (W);                                                  \
			}                                                                  \
		}                                                                          \
	}
#define FERAL_K_P_f64 FERAL_PRECISION_F64
#define FERAL_K_P_f32 FERAL_PRECISION_F32
#define FERAL_K_P_i16 FERAL_PRECISION_I16
#define FERAL_K_P_i8 FERAL_PRECISION_I8

#define FERAL_K_DECL_DOT(dp, mp, isa)                                                      \
	double feral_k_dot_##dp##_##mp##_##isa(const void *a, const uint32_t *idx,          \
	                                        const void *x, size_t len);
#define FERAL_K_DECL(dp, mp, isa)                                                          \
	FERAL_K_DECL_DOT(dp, mp, isa)                                                       \
	uint64_t feral_k_axpy_##dp##_##mp##_##isa(void *x, const void *a, const uint32_t *idx, \
	                                           size_t len, double alpha,                 \
	                                           enum feral_rounding mode,                 \
	                                           struct feral_k_rng *rng);

FERAL_K_PAIRS(FERAL_K_DECL, ref)
FERAL_K_PAIRS(FERAL_K_DECL, avx2)
FERAL_K_PAIRS(FERAL_K_DECL, avx512)
FERAL_K_VNNI_DOTS(FERAL_K_DECL_DOT, avx512vnni)
/* Sparse dots with gathers (AVX-512; model f64/f32 gathered directly, int8 /
 * int16 models as dwords whose low bytes are used: the dword read at column
 * j stays inside the model because the row's next columns are > j). */
FERAL_K_PAIRS(FERAL_K_DECL_DOT, csr_avx512)

/* Gathers take signed 32-bit indices (vpgatherd*), while a model may have
 * up to 2^32 - 1 elements.  The gathered part of a CSR row is the prefix
 * whose columns are <= INT32_MAX: the row is strictly increasing, so that
 * is the whole row unless its last column is larger (one compare per row),
 * else found by bisection; the scalar kernel (unsigned indices) takes the
 * rest.  Returns the prefix length. */
static inline size_t feral_k_gather_len(const uint32_t *idx, size_t len)
{
	if (len == 0 || idx[len - 1] <= (uint32_t)INT32_MAX)
		return len;
	size_t lo = 0, hi = len - 1; /* idx[hi] > INT32_MAX; answer in [lo, hi] */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (idx[mid] > (uint32_t)INT32_MAX)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* 24-bit uniform in [0, 1) from the scalar stream (ref kernels). */
static inline float feral_k_uniform24(struct feral_k_rng *r)
{
	return (float)(feral_rng_next(&r->scalar) >> 40) * 0x1.0p-24f;
}

/* ---- int8 data x int8 model axpy, fixed point ---------------------------------
 * The hot Buckwild! path runs in 16-bit lanes.  For |alpha| < 64:
 *   F  = the largest of 1..14 with |alpha| 2^F < 128;
 *   aq = alpha 2^F rounded to an integer: stochastically, floor(alpha 2^F + u0)
 *        with one 53-bit draw per call (INDEPENDENT), or half up
 *        (NEAREST), so |aq| <= 128 and |a aq| <= 16256 fits int16;
 *   increment = (a aq + R) >> F (arithmetic), R uniform on [0, 2^F) from the
 *        top F bits of a 16-bit draw (one per element; dense rows: of a
 *        ring byte, feral_k_fx_dense), or R = 2^(F-1) - 1
 *        + bit F of a aq (NEAREST:
 *        half to even).  INDEPENDENT needs only R uniform for each element:
 *        the byte paths (F >= 8: k_avx512.c, and k_avx2.c for INDEPENDENT)
 *        form R = r 2^(F-8) + s from an 8-bit draw r per element and one s
 *        per call, uniform on [0, 2^(F-8)).
 * E[aq] = alpha 2^F and E[increment | aq] = a aq 2^-F exactly, so the update
 * is unbiased; the one shared draw u0 adds a relative variance below 2^-12.
 * |alpha| >= 64 (or NaN) takes the f32 path of kernels.h's contract. */
#define FERAL_K_FX_ALPHA_MAX 64.0
/* Store q into an int8 model entry, saturated to [-127, 127]; 1 when it
 * saturated (the kernels count saturations). */
static inline int feral_k_store_sat8(int8_t *px, int32_t q)
{
	int s = q > 127 || q < -127;
	q = q > 127 ? 127 : q < -127 ? -127 : q;
	FERAL_RACY_STORE(px, (int8_t)q);
	return s;
}

static inline int feral_k_fx_alpha(double alpha, enum feral_rounding mode,
                                   struct feral_k_rng *rng, int16_t *aq)
{
	int F = 14;
	double m = alpha < 0 ? -alpha : alpha;
	while (F > 1 && m * (double)(1 << F) >= 128.0)
		F--;
	double A = alpha * (double)(1 << F);
	double u0 = mode == FERAL_ROUNDING_NEAREST ? 0.5 : feral_rng_uniform(&rng->scalar);
	double q = __builtin_floor(A + u0);
	*aq = (int16_t)q;
	return F;
}
/* The scalar loop of the fixed-point path (ref kernel and SIMD tails). */
static inline uint64_t feral_k_fx_i8_i8(int8_t *x, const int8_t *a, const uint32_t *idx,
                                        size_t len, int F, int16_t aq,
                                        enum feral_rounding mode, struct feral_k_rng *rng)
{
	uint64_t sat = 0;
	int32_t R = 0;
	for (size_t k = 0; k < len; k++) {
		int32_t p = (int32_t)a[k] * aq;
		if (mode == FERAL_ROUNDING_NEAREST)
			R = (1 << (F - 1)) - 1 + ((p >> F) & 1);
		else
			R = (int32_t)((feral_rng_next(&rng->scalar) >> 48) >> (16 - F));
		int8_t *px = idx ? &x[idx[k]] : &x[k];
		sat += feral_k_store_sat8(px, (int32_t)FERAL_RACY_LOAD(px) + ((p + R) >> F));
	}
	return sat;
}

/* ---- int8 x int8, INDEPENDENT, F >= 8 (|alpha| < 1/2): the byte path ---------
 * Bit-exact on every ISA: feral_k_fx8_ind below (sparse rows, ref) and its
 * dense variant feral_k_fx8_dense further down, which k_avx2.c and
 * k_avx512.c run through kernels/fx8.h.  F as feral_k_fx_alpha defines it (F = 6 - e for |alpha|
 * in [2^e, 2^(e+1)), at most 14: read off the exponent bits) and |aq| =
 * |alpha| 2^F rounded stochastically in integers (no float on the path to
 * the loop), from ONE scalar draw v: |alpha| 2^F = M 2^-sh with M the
 * 53-bit significand, sh = 52 - e - F in [46, 58], and |aq| = (M >> sh) +
 * [top sh bits of v < M mod 2^sh], so E|aq| = |alpha| 2^F exactly; s = the
 * low 6 bits of v >> (6 - m), uniform on [0, 2^m), m = F - 8 (bits disjoint
 * from the compare's, so independent).  (|alpha| < 2^-20: a second draw,
 * floor(|alpha| 2^F + u) in double.)  Element k of the row becomes
 *   x_k <- clamp(x_k + sgn(aq) floor((floor((|aq| a_k + s) / 2^m) + r_k) / 2^8))
 *        = clamp(x_k + sgn(aq) floor((|aq| a_k + s + r_k 2^m) / 2^F)),
 * r_k an 8-bit draw: byte k mod 32 (little endian) of the xorshift64 x 4
 * generator G_(k/32 mod 2) (G_0 = lane[0..3], G_1 = lane[4..7], one step
 * for each block of 32 elements it serves, taken before the block).  So
 * r_k 2^m + s is uniform on [0, 2^F) and E[increment | aq] = aq a_k 2^-F
 * exactly (either sign: 2^F - 1 - R is as uniform as R).  The random bits:
 * exactly 8 per element plus m shared by the call's elements (their
 * rounding errors correlate only through those low bits, < 2^-8 of a unit).
 * An AVX2 vector of 32 bytes of G_0 or G_1 serves one block, an AVX-512
 * vector of G_0 | G_1 (lane[0..7]) two, so every ISA draws the same bytes.
 * k0: the element index where this piece of the row starts (a multiple of
 * 32 unless 0 < len, SIMD tails). */
static inline void feral_k_xorshift64x4(uint64_t *g)
{
	for (int i = 0; i < 4; i++) {
		uint64_t v = g[i];
		v ^= v << 13;
		v ^= v >> 7;
		v ^= v << 17;
		g[i] = v;
	}
}
#define FERAL_K_FX8_ALPHA_MAX 0.5
/* |aq| (0..128), F and s as above (the sign of aq is alpha's).  The compare
 * (top sh bits of v) < (M mod 2^sh) is taken as v < M 2^(64-sh) mod 2^64:
 * the same bits, no mask. */
static inline uint32_t feral_k_fx8_mag(double alpha, struct feral_k_rng *rng, int *Fp,
                                       int32_t *s)
{
	uint64_t b;
	memcpy(&b, &alpha, sizeof b);
	int E = (int)((b >> 52) & 0x7ff); /* |alpha| < 1/2: E <= 1021 */
	int F = 1029 - E;                   /* 6 - e */
	F = F > 14 ? 14 : F;
	/* |alpha| 2^F = M 2^-sh: sh = 1075 - E - F = max(46, 1061 - E), taken
	 * from E directly (not after F: a shorter chain from alpha to aq) */
	int sh = 1061 - E;
	sh = sh < 46 ? 46 : sh;
	uint64_t v = feral_rng_next(&rng->scalar);
	*s = (int32_t)(v & 63) >> (14 - F);
	*Fp = F;
	uint64_t M = (b & ((1ull << 52) - 1)) | (1ull << 52);
	if (__builtin_expect(E >= 1003, 1)) /* sh <= 58; the top sh bits of v: disjoint from s's */
		return (uint32_t)((M >> sh) + (v < M << (64 - sh)));
	/* |alpha| < 2^-20 (or subnormal): a second draw, in double */
	return (uint32_t)__builtin_floor(__builtin_fabs(alpha) * (double)(1 << F) +
	                                 feral_rng_uniform(&rng->scalar));
}
static inline int feral_k_fx8_alpha(double alpha, struct feral_k_rng *rng, int16_t *aq,
                                    int32_t *s)
{
	int F;
	int32_t q = (int32_t)feral_k_fx8_mag(alpha, rng, &F, s);
	*aq = (int16_t)(__builtin_signbit(alpha) ? -q : q);
	return F;
}
static inline uint64_t feral_k_fx8_ind(int8_t *x, const int8_t *a, const uint32_t *idx,
                                       size_t len, size_t k0, int F, int16_t aq, int32_t s,
                                       struct feral_k_rng *rng)
{
	uint64_t sat = 0;
	const int m = F - 8;
	const int32_t u = aq < 0 ? -aq : aq, sg = aq < 0 ? -1 : 1;
	for (size_t k = 0; k < len; k++) {
		size_t j = k0 + k;
		uint64_t *g = &rng->lane[4 * ((j >> 5) & 1)];
		if ((j & 31) == 0)
			feral_k_xorshift64x4(g);
		int32_t r = (int32_t)((g[(j & 31) >> 3] >> (8 * (j & 7))) & 0xff);
		int32_t t = (((u * a[k] + s) >> m) + r) >> 8;
		int8_t *px = idx ? &x[idx[k]] : &x[k];
		sat += feral_k_store_sat8(px, (int32_t)FERAL_RACY_LOAD(px) + sg * t);
	}
	return sat;
}

/* The DENSE byte path (idx == NULL; the sparse one above keeps xorshift) takes
 * its random bytes from an additive lagged-Fibonacci generator: 8
 * independent 64-bit lanes, X_n = X_(n-37) + X_(n-100) mod 2^64 in each
 * (Knuth's lags, x^100 + x^37 + 1 primitive: period (2^100 - 1) 2^63 from a
 * seed with an odd low bit), one 64-byte ring entry a step, so a step is
 * one vector add on AVX-512 and two on AVX2, plus the ring's loads and store
 * (docs/design.md section 6 for the trade-off).  Element j of the row (j =
 * k0 + k) takes byte j mod 64 (memory order) of the entry made by the step
 * taken at element 64 floor(j / 64); every ISA steps once per 64 elements
 * it starts, AVX2 forming both 32-byte halves even when the row ends after
 * the first.  Elements j & ~1 and j | 1 share the 16-bit word w at bytes
 * (j & 62, j & 62 + 1): the even one takes r = bits m..m+7 of w, the odd
 * one bits m..m+7 of w byte-swapped (bits m+8..15 and 0..m-1 of w), so the
 * two draws are disjoint; at F = 8 (m = 0) they are w's low and high byte.
 * (This lets the SIMD kernels form r 2^m + s in place with one and-or and
 * skip the shift by m before the add: kernels/fx8.h.)  Everything else as
 * feral_k_fx8_ind. */
/* A cursor on the ring for a run of steps (the SIMD loops keep it in
 * registers): i the entry the next step overwrites (the oldest), j the one
 * FERAL_K_LF_R steps older that is added to it.  feral_k_lf_end puts i back. */
struct feral_k_lf_cur {
	size_t i, j;
};
static inline struct feral_k_lf_cur feral_k_lf_begin(const struct feral_k_rng *g)
{
	size_t i = g->lf_i;
	return (struct feral_k_lf_cur){i, i >= FERAL_K_LF_R ? i - FERAL_K_LF_R
	                                                   : i + FERAL_K_LF_S - FERAL_K_LF_R};
}
/* The cursor one step on (by value: the SIMD loops keep it in registers;
 * a cursor passed by address made GCC spill it every step, +3-4 % on the
 * int8 axpy).  A step writes lf[8 i..] += lf[8 j..] before advancing. */
static inline struct feral_k_lf_cur feral_k_lf_adv(struct feral_k_lf_cur c)
{
	c.i = c.i + 1 == FERAL_K_LF_S ? 0 : c.i + 1;
	c.j = c.j + 1 == FERAL_K_LF_S ? 0 : c.j + 1;
	return c;
}
static inline void feral_k_lf_end(struct feral_k_rng *g, struct feral_k_lf_cur c)
{
	g->lf_i = (uint32_t)c.i;
}
/* The entry the last step made (a row's tail continues it). */
static inline const uint8_t *feral_k_lf_newest(const struct feral_k_rng *g)
{
	return (const uint8_t *)&g->lf[8 * (size_t)(g->lf_i ? g->lf_i - 1 : FERAL_K_LF_S - 1)];
}
static inline const uint8_t *feral_k_lf_step(struct feral_k_rng *g)
{
	struct feral_k_lf_cur c = feral_k_lf_begin(g);
	uint64_t *w = g->lf + 8 * c.i;
	const uint64_t *v = g->lf + 8 * c.j;
	for (int l = 0; l < 8; l++)
		w[l] += v[l];
	feral_k_lf_end(g, feral_k_lf_adv(c));
	return (const uint8_t *)w;
}
static inline uint64_t feral_k_fx8_dense(int8_t *x, const int8_t *a, size_t len, size_t k0,
                                         int F, int16_t aq, int32_t s, struct feral_k_rng *rng)
{
	uint64_t sat = 0;
	const int m = F - 8;
	const int32_t u = aq < 0 ? -aq : aq, sg = aq < 0 ? -1 : 1;
	/* the newest entry (a tail after SIMD steps: k0 is not a multiple of 64) */
	const uint8_t *r8 = feral_k_lf_newest(rng);
	for (size_t k = 0; k < len; k++) {
		size_t j = k0 + k;
		if ((j & 63) == 0)
			r8 = feral_k_lf_step(rng);
		/* the 16-bit word w of elements j & ~1 and j | 1: even j takes
		 * bits m..m+7 of w, odd j those of w byte-swapped */
		uint32_t w = (uint32_t)r8[j & 62] | (uint32_t)r8[(j & 62) + 1] << 8;
		if (j & 1)
			w = (w >> 8 | w << 8) & 0xffff;
		int32_t t = (((u * a[k] + s) >> m) + (int32_t)((w >> m) & 0xff)) >> 8;
		sat += feral_k_store_sat8(&x[k], (int32_t)FERAL_RACY_LOAD(&x[k]) + sg * t);
	}
	return sat;
}

/* The DENSE int8 x int8 INDEPENDENT path at F < 8 (1/2 <= |alpha| < 64: the
 * 16-bit lanes, feral_k_fx_i8_i8's arithmetic): F and aq as
 * feral_k_fx_alpha defines them (one scalar draw), and R uniform on [0,
 * 2^F) from the lagged-Fibonacci ring as on the byte path: element j = k0 +
 * k takes byte j mod 64 (memory order) b of the entry made by the step
 * taken at element 64 floor(j / 64), R = b >> (8 - F) (its top F bits);
 * the increment is (a aq + R) >> F (arithmetic), so E[increment | aq] = a aq
 * 2^-F exactly.  Every ISA steps once per 64 elements it starts (AVX2 both
 * halves at once), so all write the same model (kernels/k_avx2.c,
 * k_avx512.c run this for their tails from k0).  Sparse rows keep
 * feral_k_fx_i8_i8's scalar draws. */
static inline uint64_t feral_k_fx_dense(int8_t *x, const int8_t *a, size_t len, size_t k0,
                                        int F, int16_t aq, struct feral_k_rng *rng)
{
	uint64_t sat = 0;
	/* the newest entry (a tail after SIMD steps: k0 is not a multiple of 64) */
	const uint8_t *r8 = feral_k_lf_newest(rng);
	for (size_t k = 0; k < len; k++) {
		size_t j = k0 + k;
		if ((j & 63) == 0)
			r8 = feral_k_lf_step(rng);
		int32_t p = (int32_t)a[k] * aq, R = (int32_t)(r8[j & 63] >> (8 - F));
		sat += feral_k_store_sat8(&x[k], (int32_t)FERAL_RACY_LOAD(&x[k]) + ((p + R) >> F));
	}
	return sat;
}

/* ---- int16 data x int16 model axpy, INDEPENDENT rounding, fixed point ------
 * For |alpha| < FERAL_K_FX16_ALPHA_MAX (1/2), per call: N = alpha 2^32
 * rounded stochastically to an integer, in integers from alpha's bits and
 * ONE 64-bit scalar draw v (no float on the path to the loop: the axpy's
 * alpha waits on the dot, so this is latency): |alpha| 2^32 = M 2^-sh, M the
 * 53-bit significand, sh >= 22, |N| = (M >> sh) + [top sh bits of v < M mod
 * 2^sh] with alpha's sign (|alpha| < 2^-43: a second draw, in double), so
 * E[N] = alpha 2^32 exactly; A0 = N >> 16 (floor) and f16 = N & 0xffff.  Per group of 16 elements (sparse rows:
 * 16g .. 16g+15; dense rows, every ISA: the even and the odd elements of
 * each 32, feral_k_fx16_dense below)
 * aq = A0 + [v < f16], v 16 random bits, so
 * E[aq] = alpha 2^16 and |aq| <= 32767.  Per element:
 *   increment = floor((a aq + R) / 2^16), R uniform on [0, 2^16): exactly 16
 *        random bits per element (sparse: the top 16 bits of one scalar
 *        draw; dense: a 16-bit word of the lagged-Fibonacci ring), formed in 16-bit lanes
 *        as mulhi(a, aq) + carry(mullo(a, aq) + R).
 * E[increment | aq] = a aq 2^-16 exactly, so the update is unbiased, and
 * |increment| <= 2^14.  Rounding aq is a random step length (its variance
 * <= 1/4 in units of 2^-16 alpha adds at most a^2 2^-34 <= 1/16 unit^2 to an
 * element); drawn once per call it would lie along a, the direction the
 * row's own residual sees, and raised the horizon (docs/design.md); drawn per
 * group of 16 it is spread over d/16 independent pieces.  Larger |alpha|,
 * NaN and NEAREST keep the f32 path of the contract at the top of
 * this file. */
#define FERAL_K_FX16_ALPHA_MAX (32767.0 / 65536.0)
static inline int16_t feral_k_fx16_alpha(double alpha, struct feral_k_rng *rng, int32_t *f16)
{
	uint64_t b;
	memcpy(&b, &alpha, sizeof b);
	int E = (int)((b >> 52) & 0x7ff);
	int sh = 1043 - E; /* |alpha| 2^32 = M 2^-sh; |alpha| < 1/2: sh >= 22 */
	uint64_t M = (b & ((1ull << 52) - 1)) | (1ull << 52), q;
	uint64_t v = feral_rng_next(&rng->scalar);
	if (__builtin_expect(E > 0 && sh < 64, 1)) /* |alpha| >= 2^-43 */
		q = (M >> sh) + ((v >> (64 - sh)) < (M & ((1ull << sh) - 1)));
	else /* a second draw, in double (|alpha| 2^32 < 2^-11: q is 0 or 1) */
		q = (uint64_t)__builtin_floor(__builtin_fabs(alpha) * 0x1p32 +
		                              feral_rng_uniform(&rng->scalar));
	int64_t sg = -(int64_t)(b >> 63), N = ((int64_t)q ^ sg) - sg; /* no branch on the sign */
	*f16 = (int32_t)(N & 0xffff);
	return (int16_t)(N >> 16); /* arithmetic: floor */
}
/* q clamped to the int16 model's range [-32767, 32767], *sat counting clamps. */
static inline int16_t feral_k_sat16(int32_t q, uint64_t *sat)
{
	if (q > 32767) {
		(*sat)++;
		return 32767;
	}
	if (q < -32767) {
		(*sat)++;
		return -32767;
	}
	return (int16_t)q;
}
static inline uint64_t feral_k_fx16_i16_i16(int16_t *x, const int16_t *a, const uint32_t *idx,
                                            size_t len, int16_t A0, int32_t f16,
                                            struct feral_k_rng *rng)
{
	uint64_t sat = 0;
	int32_t aq = A0;
	for (size_t k = 0; k < len; k++) {
		if ((k & 15) == 0)
			aq = A0 + ((int32_t)(feral_rng_next(&rng->scalar) >> 48) < f16);
		int32_t p = (int32_t)a[k] * aq;
		int32_t R = (int32_t)(feral_rng_next(&rng->scalar) >> 48);
		int16_t *px = idx ? &x[idx[k]] : &x[k];
		FERAL_RACY_STORE(px, feral_k_sat16((int32_t)FERAL_RACY_LOAD(px) + ((p + R) >> 16), &sat));
	}
	return sat;
}

/* The DENSE int16 path (idx == NULL; the sparse one above keeps the scalar
 * draws) takes its per-element bits from the lagged-Fibonacci ring of the
 * int8 path (feral_k_lf_step): one step per 32 elements, taken at element
 * 32 floor(j / 32) (j = k0 + k), element j reading the 16-bit word j mod 32
 * (bytes 2 (j & 31), + 1, little endian) r of that entry as R = 65535 - r
 * (so that the carry of lo + R is the unsigned r < lo).  The group
 * multipliers aq = A0 + [v < f16] come from one xorshift64 step on
 * lane[8..15] per 512 elements, taken at element 512 floor(j / 512): v is
 * the 16-bit word w = 2 ((j >> 5) & 15) + (j & 1) of those 64 bytes (bits
 * 16 (w & 3).. of lane[8 + w / 4]), so the even and the odd elements of
 * each 32 are the two groups of 16, as in one AVX-512 vector; AVX2 forms
 * half an entry and both multipliers per vector of 16. */
static inline uint64_t feral_k_fx16_dense(int16_t *x, const int16_t *a, size_t len, size_t k0,
                                          int16_t A0, int32_t f16, struct feral_k_rng *rng)
{
	uint64_t sat = 0;
	/* the newest entry (a tail after SIMD steps: k0 not a multiple of 32) */
	const uint8_t *r8 = feral_k_lf_newest(rng);
	for (size_t k = 0; k < len; k++) {
		size_t j = k0 + k;
		if ((j & 511) == 0) {
			feral_k_xorshift64x4(rng->lane + 8);
			feral_k_xorshift64x4(rng->lane + 12);
		}
		if ((j & 31) == 0)
			r8 = feral_k_lf_step(rng);
		unsigned w = 2 * (unsigned)((j >> 5) & 15) + (unsigned)(j & 1);
		int32_t v = (int32_t)((rng->lane[8 + w / 4] >> (16 * (w & 3))) & 0xffff);
		int32_t aq = A0 + (v < f16);
		int32_t r = (int32_t)r8[2 * (j & 31)] | (int32_t)r8[2 * (j & 31) + 1] << 8;
		int32_t q = (int32_t)FERAL_RACY_LOAD(&x[k]) + (((int32_t)a[k] * aq + 65535 - r) >> 16);
		FERAL_RACY_STORE(&x[k], feral_k_sat16(q, &sat));
	}
	return sat;
}

/* The CPU features behind each table (cpuid + XCR0), for tests. */
int feral_k_cpu_avx2(void);
int feral_k_cpu_avx512(void);
int feral_k_cpu_avx512vnni(void);
/* Random bit generators of k_avx2.c, for bench/kbench.c: n32 x 32 bytes
 * from generator gen (0..6; 0 when this CPU lacks it), folded to 64 bits. */
#define FERAL_K_BITS_GENS 7
uint64_t feral_k_bits_avx2(struct feral_k_rng *rng, size_t n32, int gen);
int feral_k_cpu_vaes(void);

#endif
