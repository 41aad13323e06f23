/* numparse_x8.c — eight short plate cells at once, with AVX-512 (see numparse.h).
 *
 * A plate row is some forty cells such as "48.8", "0.2225" or "1751": a few digits with
 * at most one point.  One at a time (numparse.c: parse_short) each costs about twenty
 * cycles, most of them spent deciding its shape; here the eight cells are loaded side by
 * side, one 64-bit lane each, and every step is done for all eight in one instruction:
 *
 *   1. the bytes past each cell's end are masked off; each byte is told a digit, the point
 *      or anything else (a lane with anything else, two points or no digit is left to the
 *      scalar parser);
 *   2. the digits before the point are shifted to the top of their lane and the ones after
 *      it likewise, so that leading zero bytes pad both; each group of eight is added up by
 *      multiply-add of pairs, fours and eights (madd of 10/1, 100/1, then 10^4/1);
 *   3. m = int * 10^nfrac + frac, exactly (at most eight digits: m < 10^8), converted to a
 *      double (exact) and divided by 10^nfrac (an exact double), giving the scalar fast
 *      path's one IEEE division, bit for bit, without dividing (a division of eight lanes
 *      held up a quarter of this function): q = m * y with y = RN(10^-nfrac), then
 *      q + (m - q * 10^nfrac) * y, the residual exact by FMA (Markstein's correction).  That
 *      this is RN(m / 10^nfrac) is checked for every m < 10^8 and nfrac 0..7 (8 * 10^8
 *      quotients: ns_parse_short8_check_quotients, run by tests/unit/test_numparse).  In
 *      another rounding mode the division would round that way and this would not: then
 *      nothing is taken.
 *
 * Without AVX-512 (util.h: ns_cpu_avx512) ns_parse_short8 takes nothing and every cell
 * goes the scalar way. */
#include <stdint.h>
#include <string.h>
#include "numparse.h"
#include "util.h"

#if defined(__x86_64__) && defined(__GNUC__) && defined(__FLT_EVAL_METHOD__) && __FLT_EVAL_METHOD__ == 0 \
    && !defined(__FAST_MATH__)
#include <immintrin.h>
#define X8 1

#define X8_TARGET __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,bmi2")))

/* RN(m / 10^k) in each lane, for m < 10^8 and k 0..7, without dividing (step 3 above) */
X8_TARGET static inline __m512d quotient8(__m512i m, __m512i k)
{
    const __m512d p10 = _mm512_setr_pd(1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7);
    const __m512d r10 = _mm512_setr_pd(1e0, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7);   /* RN(10^-k) */
    const __m512d a = _mm512_cvtepi64_pd(m), d = _mm512_permutexvar_pd(k, p10), y = _mm512_permutexvar_pd(k, r10);
    const __m512d q = _mm512_mul_pd(a, y);
    return _mm512_fmadd_pd(_mm512_fnmadd_pd(q, d, a), y, q);
}

/* quotient8 against the division, for every m < 10^8 and k 0..7: the lanes that differ */
X8_TARGET static long check_quotients(void)
{
    long differ = 0;
    for (int k = 0; k < 8; k++) {
        const __m512i kk = _mm512_set1_epi64(k);
        const __m512d d = _mm512_set1_pd((double[]){ 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7 }[k]);
        __m512i m = _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7);
        for (int64_t i = 0; i < 100000000; i += 8) {
            const __m512d want = _mm512_div_pd(_mm512_cvtepi64_pd(m), d), got = quotient8(m, kk);
            differ += __builtin_popcount(_mm512_cmpneq_epi64_mask(_mm512_castpd_si512(want), _mm512_castpd_si512(got)));
            m = _mm512_add_epi64(m, _mm512_set1_epi64(8));
        }
    }
    return differ;
}

X8_TARGET static unsigned short8_avx512(const char *t, size_t tlen, const size_t *span, const int *field,
                                        unsigned want, double max, double *out)
{
    if (_mm_getcsr() & 0x6000) return 0;    /* not rounding to nearest: one at a time (step 3) */
    /* the spans of the eight fields, gathered (a span array just written by scalar stores
     * would stall a vector load: the stores cannot be forwarded to it) */
    const __m256i f2 = _mm256_slli_epi32(_mm256_maskz_loadu_epi32((__mmask8)want, field), 1);
    const __m512i b = _mm512_mask_i32gather_epi64(_mm512_setzero_si512(), (__mmask8)want, f2, (const void *)span, 8);
    const __m512i e = _mm512_mask_i32gather_epi64(_mm512_setzero_si512(), (__mmask8)want,
                                                  _mm256_add_epi32(f2, _mm256_set1_epi32(1)), (const void *)span, 8);
    const __m512i len = _mm512_sub_epi64(e, b);
    /* lanes to load: wanted, 1..8 bytes long, and with 8 bytes readable at the start */
    __mmask8 ok = (__mmask8)want;
    ok &= _mm512_cmp_epu64_mask(_mm512_sub_epi64(len, _mm512_set1_epi64(1)), _mm512_set1_epi64(8), _MM_CMPINT_LT);
    ok &= _mm512_cmp_epi64_mask(b, _mm512_set1_epi64((int64_t)tlen - 8), _MM_CMPINT_LE);
    if (!ok) return 0;
    __m512i x = _mm512_mask_i64gather_epi64(_mm512_setzero_si512(), ok, b, (const void *)t, 1);
    /* the cell's own bytes: ~0 >> (64 - 8 len) */
    const __m512i own = _mm512_srlv_epi64(_mm512_set1_epi64(-1),
                                          _mm512_sub_epi64(_mm512_set1_epi64(64), _mm512_slli_epi64(len, 3)));
    const __mmask64 kown = _mm512_test_epi8_mask(own, own);
    const __m512i d = _mm512_sub_epi8(x, _mm512_set1_epi8('0'));
    const __mmask64 kdig = _mm512_cmplt_epu8_mask(d, _mm512_set1_epi8(10)) & kown;
    const __mmask64 kdot = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('.')) & kown;
    /* per lane: no other byte, at most one point, at least one digit */
    const __m512i one = _mm512_set1_epi8(1);
    const __m512i ndot = _mm512_sad_epu8(_mm512_maskz_mov_epi8(kdot, one), _mm512_setzero_si512());
    const __m512i ndig = _mm512_sad_epu8(_mm512_maskz_mov_epi8(kdig, one), _mm512_setzero_si512());
    const __m512i other = _mm512_maskz_mov_epi8(kown & ~(kdig | kdot), _mm512_set1_epi8(-1));
    ok &= _mm512_testn_epi64_mask(other, other);
    ok &= _mm512_cmp_epu64_mask(ndot, _mm512_set1_epi64(1), _MM_CMPINT_LE);
    ok &= _mm512_test_epi64_mask(ndig, ndig);
    if (!ok) return 0;
    /* nint: the bytes before the point (all of them without one); nfrac: after it */
    const __m512i dots = _mm512_maskz_mov_epi8(kdot, _mm512_set1_epi8(-1));
    const __m512i low = _mm512_and_si512(dots, _mm512_sub_epi64(_mm512_setzero_si512(), dots)); /* lowest bit */
    const __m512i before = _mm512_and_si512(_mm512_sub_epi64(low, _mm512_set1_epi64(1)), own);
    const __m512i nint = _mm512_sad_epu8(_mm512_and_si512(before, _mm512_set1_epi8(1)), _mm512_setzero_si512());
    const __m512i nfrac = _mm512_sub_epi64(_mm512_sub_epi64(len, nint), ndot);
    /* the integer digits to the top of the lane, then the fraction digits */
    const __m512i eight = _mm512_set1_epi64(8);
    const __m512i di = _mm512_sllv_epi64(d, _mm512_slli_epi64(_mm512_sub_epi64(eight, nint), 3));
    const __m512i df = _mm512_sllv_epi64(_mm512_srlv_epi64(d, _mm512_slli_epi64(_mm512_add_epi64(nint, ndot), 3)),
                                         _mm512_slli_epi64(_mm512_sub_epi64(eight, nfrac), 3));
    /* eight digits (first digit lowest byte, most significant) to their value */
    const __m512i w10 = _mm512_set1_epi16(0x010A), w100 = _mm512_set1_epi32(0x00010064);
    const __m512i qi = _mm512_madd_epi16(_mm512_maddubs_epi16(di, w10), w100);
    const __m512i qf = _mm512_madd_epi16(_mm512_maddubs_epi16(df, w10), w100);
    const __m512i e4 = _mm512_set1_epi64(10000);
    const __m512i vi = _mm512_add_epi64(_mm512_mul_epu32(qi, e4), _mm512_srli_epi64(qi, 32));
    const __m512i vf = _mm512_add_epi64(_mm512_mul_epu32(qf, e4), _mm512_srli_epi64(qf, 32));
    const __m512i p10i = _mm512_setr_epi64(1, 10, 100, 1000, 10000, 100000, 1000000, 10000000);
    const __m512i m = _mm512_add_epi64(_mm512_mul_epu32(vi, _mm512_permutexvar_epi64(nfrac, p10i)), vf);
    const __m512d v = quotient8(m, nfrac);
    ok &= _mm512_cmp_pd_mask(v, _mm512_set1_pd(max), _CMP_LE_OQ);
    _mm512_mask_storeu_pd(out, ok, v);
    return ok;
}

#endif

long ns_parse_short8_check_quotients(void)
{
#ifdef X8
    if (ns_cpu_avx512()) return check_quotients();
#endif
    return -1;
}

int ns_parse_short8_available(void)
{
#ifdef X8
    return ns_cpu_avx512();
#else
    return 0;
#endif
}

unsigned ns_parse_short8(const char *t, size_t tlen, const size_t *span, const int field[8], unsigned want,
                         double max, double out[8])
{
#ifdef X8
    if (ns_cpu_avx512()) return short8_avx512(t, tlen, span, field, want & 0xFFu, max, out);
#else
    (void)t; (void)tlen; (void)span; (void)field; (void)want; (void)max; (void)out;
#endif
    return 0;
}
