/* numparse.c — plain decimal numbers, exactly as strtod reads them (see numparse.h).
 *
 * Exactness rests on IEEE 754 double arithmetic with one rounding per operation: on
 * x86-64 the compiler uses SSE2 (FLT_EVAL_METHOD 0), not the x87 unit, whose extended
 * precision would round twice.  Where that is not so, the fast path is compiled out and
 * every number goes to strtod.  -ffast-math would let the compiler rewrite x / 10^k as
 * x * 10^-k (not exact), so it is refused outright (-freciprocal-math alone has no macro
 * to catch: do not add it to CFLAGS).  The sign is applied to m before the one rounding
 * operation, so the result follows the current rounding mode as strtod's does (neoscreen
 * never changes it; test_numparse checks all four). */
#include <errno.h>
#include <float.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "numparse.h"
#include "util.h"

#ifdef __FAST_MATH__
#error "numparse.c must not be built with -ffast-math: exact rounding needs IEEE arithmetic"
#endif
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
#define FAST_PATH 1
#else
#define FAST_PATH 0   /* excess precision (x87): double rounding would break exactness */
#endif

#define MAX_SIG 19                   /* decimal digits that always fit in a uint64_t */
#define TWO53 ((uint64_t)1 << 53)    /* integers up to here are exact doubles */
#define EXP_CAP 100000000            /* exponent digits stop adding up here (no overflow) */

/* 10^0 .. 10^22: every one an exact double (10^22 = 2^22 * 5^22, and 5^22 < 2^53) */
static const double pow10_dbl[23] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};
static const uint64_t pow10_u64[16] = {
    1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000,
    10000000000, 100000000000, 1000000000000, 10000000000000, 100000000000000,
    1000000000000000,
};

static inline int is_digit(char c) { return (unsigned char)(c - '0') < 10; }

/* strtod on a NUL-terminated copy of the span, with errno kept as it was */
static __attribute__((noinline, cold)) int slow_path(const char *s, size_t len, double *out)
{
    char small[64];
    char *buf = len < sizeof small ? small : ns_malloc(len + 1);
    memcpy(buf, s, len);
    buf[len] = 0;
    int saved = errno;
    errno = 0;
    char *end;
    double x = strtod(buf, &end);
    int range = errno == ERANGE;
    errno = saved;
    int whole = end == buf + len;   /* always, in the C locale: the syntax was checked */
    if (buf != small) free(buf);
    if (!whole) return -1;
    *out = x;
    return range;
}

/* The mantissa digits [p, end) (a '.' among them) when there are more than MAX_SIG: the
 * first MAX_SIG significant digits into *m, the power of ten they must be scaled by added
 * to *e (+1 for each integer digit left out, -1 for each fraction digit kept; leading zeros
 * are not significant).  @return 1 if a nonzero digit was left out (m is not exact). */
static __attribute__((noinline)) int long_mantissa(const char *p, const char *end, uint64_t *m,
                                                   int64_t *e)
{
    int nsig = 0, lost = 0, frac = 0;
    *m = 0;
    for (; p < end; p++) {
        if (*p == '.') { frac = 1; continue; }
        unsigned d = (unsigned)(*p - '0');
        if (nsig < MAX_SIG) {
            if (nsig || d) *m = *m * 10 + d, nsig++;
            *e -= frac;
        } else {
            *e += !frac;
            lost |= d != 0;
        }
    }
    return lost;
}

/* The parser, for a span (nul = 0: stops at end) or a C string (nul = 1: end is not used,
 * the scan stops at the NUL, which no rule accepts).  Inlined into both entry points, so
 * each gets its own copy without the test it does not need. */
static inline __attribute__((always_inline)) int parse(const char *s, const char *end, int nul,
                                                       double *out)
{
#define MORE(p) (nul || (p) < end)
    const char *p = s;
    int neg = 0;
    if (MORE(p) && (*p == '+' || *p == '-')) neg = *p++ == '-';

    /* the usual case, at most MAX_SIG digits: all of them into m, zeros included */
    const char *d0 = p;
    uint64_t m = 0;
    while (MORE(p) && is_digit(*p)) m = m * 10 + (unsigned)(*p++ - '0');
    size_t nint = (size_t)(p - d0), nfrac = 0;
    if (MORE(p) && *p == '.') {
        const char *f0 = ++p;
        while (MORE(p) && is_digit(*p)) m = m * 10 + (unsigned)(*p++ - '0');
        nfrac = (size_t)(p - f0);
    }
    const char *dend = p;
    if (nint + nfrac == 0) return -1;
    int64_t e = 0;       /* value = m * 10^e, exactly unless lost */
    if (MORE(p) && (*p | 0x20) == 'e') {
        p++;
        int eneg = 0;
        if (MORE(p) && (*p == '+' || *p == '-')) eneg = *p++ == '-';
        if (!MORE(p) || !is_digit(*p)) return -1;
        int64_t x = 0;
        for (; MORE(p) && is_digit(*p); p++)
            if (x < EXP_CAP) x = x * 10 + (*p - '0');
        e = eneg ? -x : x;
    }
    if (nul ? *p != 0 : p != end) return -1;
#undef MORE
    int lost = 0;
    if (nint + nfrac <= MAX_SIG) e -= (int64_t)nfrac;
    else lost = long_mantissa(d0, dend, &m, &e);
    if (m == 0) {        /* every digit is 0: strtod gives +-0 for any exponent */
        *out = neg ? -0.0 : 0.0;
        return 0;
    }
#if FAST_PATH
    if (!lost) {
        if (m > TWO53)   /* "0.45000000000000000000": trailing zeros are not precision */
            while (m % 10 == 0) m /= 10, e++;
        if (m <= TWO53) {
            if (e >= -22 && e <= 22) {
                double x = neg ? -(double)m : (double)m;
                *out = e < 0 ? x / pow10_dbl[-e] : x * pow10_dbl[e];
                return 0;
            }
            /* m * 10^(e-22) still an exact integer double: one rounding left, by 10^22 */
            if (e > 22 && e <= 22 + 15 && m <= TWO53 / pow10_u64[e - 22]) {
                m *= pow10_u64[e - 22];
                double x = neg ? -(double)m : (double)m;
                *out = x * pow10_dbl[22];
                return 0;
            }
        }
    }
#else
    (void)lost;
#endif
    return slow_path(s, (size_t)(p - s), out);
}

#if FAST_PATH && defined(__SSE2__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#include <emmintrin.h>
#define SHORT_PATH 1
__extension__ typedef unsigned __int128 u128;   /* GCC and Clang on x86-64 */

/* The value of the k ASCII digits (0 <= k <= 8) in the low k bytes of v (the first digit
 * lowest), with neither a loop nor a branch: each byte less '0' (a digit borrows nothing,
 * so the bytes above the first k cannot disturb them), shifted up so that the digits are
 * the last k of eight, then combined in pairs, fours and eights by multiplication (the
 * SWAR method of simdjson's parse_eight_digits_unrolled). */
static inline uint64_t eight_digits(uint64_t v, int k)
{
    v = (v - 0x3030303030303030ULL) << ((8 * (8 - k)) & 63);
    v &= -(uint64_t)(k != 0);                   /* k = 0: no digits (the shift would be 64) */
    v = v * 10 + (v >> 8);
    v = (((v & 0x000000FF000000FFULL) * (100 + (1000000ULL << 32)))
         + (((v >> 16) & 0x000000FF000000FFULL) * (1 + (10000ULL << 32)))) >> 32;
    return (uint32_t)v;
}

/* The commonest cell, [sign] up to 8 digits [. up to 8 digits], with no exponent and at
 * most 15 digits, the way a plate export prints it: the digits are told apart from the
 * point sixteen bytes at a time and added up as above, without a branch that depends on
 * the digits, and the value is the fast path's m / 10^nfrac below (the same operands, so
 * the same double).  room: bytes readable at s (>= len).  @return 1 with *out set, 0 when
 * the span is of any other form. */
static inline int parse_short(const char *s, size_t len, size_t room, double *out)
{
    const char *p = s;
    int neg = 0;
    if (len && (*p == '-' || *p == '+')) { neg = *p == '-'; p++; len--; room--; }
    if (len == 0 || len > 16) return 0;
    __m128i v;
    if (room >= 16) v = _mm_loadu_si128((const __m128i *)(const void *)p);
    else {
        unsigned char b[16] = { 0 };
        memcpy(b, p, len);
        v = _mm_loadu_si128((const __m128i *)(const void *)b);
    }
    const __m128i d = _mm_sub_epi8(v, _mm_set1_epi8('0'));
    const unsigned all = (1u << len) - 1u;
    const unsigned digit = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d)) & all;
    const unsigned dot = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('.'))) & all;
    const int nint = __builtin_ctz(dot | (1u << len));           /* len when there is no point */
    const int nfrac = (int)len - nint - (dot != 0);
    if ((digit | dot) != all || (dot & (dot - 1u)) || nint > 8 || nfrac > 8 || (int)len == (dot != 0))
        return 0;                   /* not digits around at most one point, or too many */
    const u128 w = (u128)(uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(v, v)) << 64 | (uint64_t)_mm_cvtsi128_si64(v);
    const uint64_t m = eight_digits((uint64_t)w, nint) * pow10_u64[nfrac]
                       + eight_digits((uint64_t)(w >> (8 * (nint + 1))), nfrac);
    if (m > TWO53) return 0;        /* 16 digits: past what the fast path below takes */
    const double x = neg ? -(double)m : (double)m;
    *out = x / pow10_dbl[nfrac];
    return 1;
}
#endif

int ns_parse_decimal(const char *s, size_t len, double *out)
{
#ifdef SHORT_PATH
    if (parse_short(s, len, len, out)) return 0;
#endif
    return parse(s, s + len, 0, out);
}

int ns_parse_decimal_in(const char *s, size_t len, size_t room, double *out)
{
#ifdef SHORT_PATH
    if (parse_short(s, len, room, out)) return 0;
#else
    (void)room;
#endif
    return parse(s, s + len, 0, out);
}

int ns_parse_decimal_z(const char *s, double *out)
{
    return parse(s, NULL, 1, out);
}
