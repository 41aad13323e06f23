/* test_numparse.c — ns_parse_decimal against strtod, bit for bit, and ns_parse_cell against
 * the strtod-based version it replaced (kept here as the reference).
 *
 * Over ten million strings: random decimals of 1 to 40 digits in every format a person or
 * an export could write (leading and trailing zeros, points anywhere, signs, exponents
 * from small to absurd), doubles printed with 15, 16 and 17 digits, exact halfway points
 * between doubles (ties to even, in and out of the fast path), the boundaries of the fast
 * path, and strings that are not numbers.  The generator has a fixed seed: a failure is
 * reproducible, and the first few differences are printed with their text. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <errno.h>
#include <fenv.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../pipeline/batch.h"
#include "../../pipeline/ingest.h"
#include "../../pipeline/numparse.h"
#include "../../pipeline/util.h"
#include "ref_parse_cell.h"

/* ---- references ---------------------------------------------------------------------- */

/* what ns_parse_decimal must say about s: strtod's value, 1 for its ERANGE, -1 unless the
 * whole string is a plain decimal (the old cell rule) */
static int ref_decimal(const char *s, double *out)
{
    if (!*s || isspace((unsigned char)*s)) return -1;
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    int range = errno == ERANGE;
    if (end == s || *end) return -1;
    for (const char *c = s; c < end; c++)
        if (!(isdigit((unsigned char)*c) || *c == '.' || *c == '-' || *c == '+' || *c == 'e' || *c == 'E'))
            return -1;
    *out = x;
    return range;
}

static uint64_t bits(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

/* ---- the comparison ------------------------------------------------------------------ */

static size_t n_checked, n_cells, n_bad;
static char span[16384];

static void report(const char *what, const char *s, int r0, double v0, int r1, double v1)
{
    if (++n_bad <= 10)
        fprintf(stderr, "%s \"%.200s\": strtod %d %.17g (%016llx), numparse %d %.17g (%016llx)\n",
                what, s, r0, v0, (unsigned long long)bits(v0), r1, v1, (unsigned long long)bits(v1));
}

/* s through ns_parse_decimal (as a span followed by a digit, which must not be read) or
 * ns_parse_decimal_z, and through the reference: the same verdict and, for a number, the
 * same bits */
static void check(const char *s)
{
    size_t n = strlen(s);
    assert_true(n + 1 < sizeof span);
    memcpy(span, s, n);
    span[n] = '7';
    double v0 = -1.0, v1 = -1.0;
    int saved = errno = 12345;
    int z = n_checked++ % 2;   /* the two entry points share one parser: take turns */
    int r1 = z ? ns_parse_decimal_z(s, &v1) : ns_parse_decimal(span, n, &v1);
    if (errno != saved) report("errno changed", s, 0, 0, r1, v1);
    int r0 = ref_decimal(s, &v0);
    if (r0 != r1 || (r0 >= 0 && bits(v0) != bits(v1)) || (r0 < 0 && v1 != -1.0))
        report(z ? "decimal_z" : "decimal", s, r0, v0, r1, v1);
}

/* s through the new and the old ns_parse_cell: same verdict, kind and bits; a refused cell
 * leaves the outputs alone in both */
static void check_cell(const char *s)
{
    double v0 = -1.0, v1 = -1.0;
    uint8_t k0 = 99, k1 = 99;
    int r0 = ref_parse_cell(s, &v0, &k0);
    int r1 = ns_parse_cell(s, &v1, &k1);
    if (r0 != r1 || k0 != k1 || bits(v0) != bits(v1)) report("cell", s, r0, v0, r1, v1);
    n_cells++;
}

/* ---- generators (fixed seed) --------------------------------------------------------- */

static uint64_t rng_state = 0x6e656f7363726565ULL;   /* "neoscree" */

static uint64_t rnd(void)   /* splitmix64 */
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
/* [0, n) for n <= 65536, from 16 random bits (four draws per rnd(): the generator is the
 * test's main cost after strtod itself) */
static unsigned below(unsigned n)
{
    static uint64_t pool;
    static int left;
    if (!left) pool = rnd(), left = 4;
    unsigned x = (unsigned)(pool & 0xffff);
    pool >>= 16;
    left--;
    return (x * n) >> 16;
}

/* A random decimal: sign, leading zeros, 1 to 40 significant digits (mostly up to 15, the
 * fast path; often 16 to 20, its edge), trailing zeros, a point anywhere or none, an
 * exponent or none (mostly small, sometimes past the range of doubles). */
static void gen_decimal(char *b)
{
    char d[128];
    int nd = 0;
    int lead = below(4) == 0 ? (int)below(5) : 0;
    unsigned r = below(32);
    int nsig = r < 27 ? 1 + (int)below(15) : r < 31 ? 16 + (int)below(5) : 21 + (int)below(20);
    int trail = below(4) == 0 ? 1 + (int)below(5) : 0;
    for (int i = 0; i < lead; i++) d[nd++] = '0';
    uint64_t digits = rnd();                   /* 19 random decimal digits per draw */
    for (int i = 0; i < nsig; i++) {
        if (i % 19 == 18) digits = rnd();
        d[nd++] = (char)('0' + digits % 10);
        digits /= 10;
    }
    if (d[lead] == '0' && below(8)) d[lead] = '1';   /* mostly a nonzero first digit */
    for (int i = 0; i < trail; i++) d[nd++] = '0';
    char *p = b;
    unsigned sg = below(8);
    if (sg < 2) *p++ = '-';
    else if (sg == 2) *p++ = '+';
    int point = below(3) == 0 ? -1 : (int)below((unsigned)nd + 1);
    for (int i = 0; i < nd; i++) {
        if (i == point) *p++ = '.';
        *p++ = d[i];
    }
    if (point == nd) *p++ = '.';
    if (below(2)) {
        *p++ = below(2) ? 'e' : 'E';
        unsigned es = below(3);
        if (es == 1) *p++ = '-';
        else if (es == 2) *p++ = '+';
        if (below(8) == 0) *p++ = '0';
        r = below(64);
        unsigned x = r < 56 ? below(25) : r < 62 ? below(360) : (unsigned)(rnd() % 100000);
        char xd[8];
        int n = 0;
        do xd[n++] = (char)('0' + x % 10), x /= 10; while (x);
        while (n) *p++ = xd[--n];
    }
    *p = 0;
}

/* A cell as an export might hold it, or a near miss: a random decimal, "<x", the words,
 * or random text over the characters that matter. */
static void gen_cell(char *b)
{
    static const char alpha[] = "0123456789.+-eE< NDdnaAxXiIfF,";
    static const char *words[] = { "NaN", "nan", "NAN", "ND", "nd", "Nd", "N", "n", "NaNx", "NDx",
                                   "<NaN", "<ND", "< ", "<", "<<1", " ND", "inf", "nan(1)" };
    unsigned r = below(8);
    if (r < 3) { gen_decimal(b); return; }
    if (r == 3) { b[0] = '<'; gen_decimal(b + 1); return; }
    if (r == 4) { strcpy(b, "< "); gen_decimal(b + 2); return; }
    if (r == 5) { strcpy(b, words[below(sizeof words / sizeof *words)]); return; }
    int n = (int)below(9);
    for (int i = 0; i < n; i++) b[i] = alpha[below(sizeof alpha - 1)];
    b[n] = 0;
}

/* ---- tests --------------------------------------------------------------------------- */

static const char *edge[] = {
    /* zeros and signs */
    "0", "-0", "+0", "0.0", "-0.0", "-.0", "0.", "-0e0", "0e999999999999999999999",
    "-0e-99999999999", "00000", "-00000.00000e-5",
    /* the syntax: what strtod takes only in part is refused */
    ".5", "5.", "-.5", "+.5e1", ".", "-.", "+.", "+.e1", ".e1", "1e", "1e+", "1e-", "1E", "e1",
    "E5", "1E5", "1e+5", "1e-5", "1.e5", ".1e5", "1e05", "1e+005", "1e5.5", "1e5e5", "1.2.3",
    "--1", "+-1", "-+1", "++1", "", "+", "-", " 1", "1 ", "\t1", "1\n", "1,5", "1d5", "1f",
    "1_000", "0x1A", "0X1p3", "0x", "0x1.8p1", "inf", "INF", "-inf", "infinity", "nan", "NaN",
    "nan(1)", "1e+-5", "1ee5", "e", ".e", "1..", "..1",
    /* plate-like */
    "0000.450", "0.450", "0.45", "49.1", "0.139", "1.07", "0.0213", "1742", "0.001",
    "0.1", "0.2", "0.3", "0.7", "1.1", "2.675", "1.005", "0.07", "9.995",
    /* around 2^53: the fast path takes m <= 2^53 */
    "9007199254740991", "9007199254740992", "9007199254740993", "9007199254740994",
    "9007199254740995", "9007199254740993.0", "9007199254740992.5", "900719925474099.3",
    "18014398509481985", "18014398509481987", "9007199254740993e-5", "9007199254740992e-22",
    "9007199254740992e22", "9007199254740993e22", "9007199254740992e23",
    /* 15, 16, 17 significant digits */
    "123456789012345", "1234567890123456", "12345678901234567", "0.123456789012345",
    "0.1234567890123456", "0.12345678901234567", "1.23456789012345e-10",
    "0.45000000000000000000", "0.450000000000000000001", "1.00000000000000000000000000001",
    /* exponents at the fast path's edges */
    "1e22", "1e23", "1e-22", "1e-23", "-1e22", "-1e-23", "9e22", "9e-22", "123e20", "123e-25",
    "1e37", "1e38", "9e37", "900719925474099e23", "900719925474099e24", "9007199254740991e21",
    "1e36", "12e36", "999999999999999e22", "999999999999999e23", "1e15e1",
    /* extremes */
    "2.2250738585072011e-308", "2.2250738585072014e-308", "2.2250738585072012e-308",
    "4.9e-324", "5e-324", "2e-324", "3e-324", "2.4703282292062327e-324",
    "2.4703282292062328e-324", "1e-400", "-1e-400", "1e-320",
    "1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308",
    "-1.7976931348623159e308", "1e309", "1e308", "1e99999999999", "1e-99999999999",
    "0.0000000000000000000000000000001e31", "100000000000000000000000e-23",
    "179769313486231570000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00000000000000000000000000000000000000000000000000000000000000",
};

static void test_edge_cases(void **st)
{
    (void)st;
    for (size_t i = 0; i < sizeof edge / sizeof *edge; i++) check(edge[i]);
    /* long strings: digits, zeros around the point, huge exponent digit runs */
    static char b[12000];
    for (int n = 1; n <= 5000; n = n < 40 ? n + 1 : n * 3) {
        const char *fill = "0123456789";
        memset(b, '0', (size_t)n); b[n] = 0; check(b);                  /* zeros */
        b[n - 1] = '1'; check(b);                                        /* 0...01 */
        strcpy(b + n, "e-"); sprintf(b + n + 2, "%d", n); check(b);      /* 0...01e-n */
        b[0] = '.'; b[n] = 0; check(b);                                  /* .0...01 */
        for (int i = 0; i < n; i++) b[i] = fill[(i * 7 + 1) % 10];
        b[n] = 0; check(b);                                              /* many digits */
        if (n > 2) { b[n / 2] = '.'; check(b); }
        b[0] = '1'; memset(b + 1, '0', (size_t)n - 1); b[n] = 0; check(b);   /* 10...0 */
        sprintf(b + n, "e-%d", n - 1); check(b);                         /* 10...0e-(n-1) = 1 */
        b[0] = '1'; b[1] = '.'; memset(b + 2, '0', (size_t)n); b[n + 2] = 0; check(b);  /* 1.0...0 */
        memset(b, '9', (size_t)n); strcpy(b + n, "e"); memset(b + n + 1, '9', (size_t)n);
        b[2 * n + 1] = 0; check(b);                                      /* 9..9e9..9 */
        b[n + 1] = '-'; check(b);                                        /* 9..9e-9..9 */
    }
    assert_int_equal(n_bad, 0);
}

/* Exact halfway points between neighbouring doubles.  Those of the form q * 2^s * 10^t
 * with q * 2^s <= 2^53 and t <= 22 are in the fast path: one multiplication whose exact
 * result is a tie, which the hardware must round to even as strtod does.  The others
 * (printed exactly: up to 770 significant digits) go to strtod, and so do the same
 * midpoints cut to 17 and 25 digits, just beside the tie. */
static void test_halfway(void **st)
{
    (void)st;
    static char b[1000];
    const uint64_t lo = (uint64_t)1 << 53, hi = (uint64_t)1 << 54;
    uint64_t p5 = 1;
    for (int t = 1; t <= 23; t++) {
        p5 *= 5;                                       /* 5^t; 5^23 < 2^54 */
        uint64_t qlo = lo / p5 + 1, qhi = hi / p5;     /* q * 5^t in (2^53, 2^54) */
        for (int i = 0; i < 10000; i++) {
            uint64_t q = qlo + (qhi > qlo ? rnd() % (qhi - qlo + 1) : 0);
            q |= 1;                                    /* odd: q * 5^t is an odd tie */
            if (q > qhi) q -= 2;
            if (q * p5 <= lo || q * p5 >= hi) continue;
            int qb = 64 - __builtin_clzll(q);
            int s = qb < 54 ? (int)below((unsigned)(54 - qb)) : 0;   /* q * 2^s <= 2^53 */
            uint64_t m = q << s;
            if (m > lo) continue;
            sprintf(b, "%llue%d", (unsigned long long)m, t); check(b);
            sprintf(b, "-%llue+%d", (unsigned long long)m, t); check(b);
            int len = sprintf(b, "%llu", (unsigned long long)m);
            for (int z = 0; z < t; z++) b[len++] = '0';
            b[len] = 0; check(b);
        }
    }
    /* midpoints of random normal doubles, printed exactly (x86-64 long double holds them;
     * an odd multiple of 2^-1075 needs at most 770 significant digits) */
    for (int i = 0; i < 5000; i++) {
        double x;
        do { uint64_t u = rnd() >> 1; memcpy(&x, &u, sizeof x); } while (!isnormal(x) || x > DBL_MAX / 2);
        long double mid = ((long double)x + (long double)nextafter(x, INFINITY)) / 2;
        sprintf(b, "%.770Le", mid); check(b);
        sprintf(b, "%.17Le", mid); check(b);
        sprintf(b, "%.25Lg", mid); check(b);
    }
    assert_int_equal(n_bad, 0);
}

/* doubles printed as programs print them: shortest-ish, 15, 16, 17 digits, fixed */
static void test_printed_doubles(void **st)
{
    (void)st;
    char b[400];
    static const char *fmt[] = { "%.15g", "%.16g", "%.17g", "%.4g", "%.3f", "%.6e" };
    for (int i = 0; i < 50000; i++) {
        double x;
        if (i % 2) { uint64_t u = rnd(); memcpy(&x, &u, sizeof x); if (!isfinite(x)) continue; }
        else x = exp((double)(rnd() % 200000) / 1000.0 - 100.0);      /* e^-100 .. e^100 */
        for (size_t f = 0; f < sizeof fmt / sizeof *fmt; f++) {
            snprintf(b, sizeof b, fmt[f], x);
            check(b);
        }
    }
    assert_int_equal(n_bad, 0);
}

static void test_random_decimals(void **st)
{
    (void)st;
    char b[256];
    for (int i = 0; i < 9000000; i++) {
        gen_decimal(b);
        check(b);
    }
    assert_int_equal(n_bad, 0);
}

/* The fast path rounds once, in the current rounding mode, as strtod does: neoscreen never
 * leaves round-to-nearest, but a library caller might. */
static void test_rounding_modes(void **st)
{
    (void)st;
    static const int mode[] = { FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO, FE_TONEAREST };
    char b[256];
    for (size_t k = 0; k < sizeof mode / sizeof *mode; k++) {
        assert_int_equal(fesetround(mode[k]), 0);
        for (size_t i = 0; i < sizeof edge / sizeof *edge; i++) check(edge[i]);
        for (int i = 0; i < 100000; i++) {
            gen_decimal(b);
            check(b);
        }
    }
    assert_int_equal(fegetround(), FE_TONEAREST);
    assert_int_equal(n_bad, 0);
}

/* ns_parse_cell accepts exactly what it accepted before, with the same values and kinds */
static void test_cells_as_before(void **st)
{
    (void)st;
    char b[256];
    for (size_t i = 0; i < sizeof edge / sizeof *edge; i++) {
        check_cell(edge[i]);
        snprintf(b, sizeof b, "<%s", edge[i]); check_cell(b);
        snprintf(b, sizeof b, "<  %s", edge[i]); check_cell(b);
    }
    for (int i = 0; i < 1000000; i++) {
        gen_cell(b);
        check_cell(b);
    }
    assert_int_equal(n_bad, 0);
    fprintf(stderr, "test_numparse: %zu strings compared with strtod bit for bit, %zu cells with "
            "the old ns_parse_cell\n", n_checked, n_cells);
    assert_true(n_checked >= 10000000);
}

/* ns_parse_short8 (AVX-512, eight cells at once) against ns_parse_decimal, bit for bit, on
 * two million random cells side by side in one text, in all four rounding modes: every
 * lane it takes has ns_parse_decimal's value, it takes exactly the lanes its contract
 * names (1 to 8 bytes of digits with at most one point, at least one digit, 8 bytes
 * readable, value <= max; rounding to nearest) and it writes no other lane.  Cells near
 * the end of the text check the room rule.  On a CPU without AVX-512 it must take
 * nothing.  Its quotients, made without dividing, are checked against the division for
 * every numerator and power of ten it can meet (test_short8_quotients). */
static void gen_short(char *b)
{
    static const char alpha[] = "0123456789.0123456789.-+eE x<,";
    unsigned r = below(8);
    int n = r < 5 ? 1 + (int)below(8) : (int)below(12);
    for (int i = 0; i < n; i++) {
        if (r < 4) b[i] = (char)(below(11) == 10 ? '.' : '0' + (int)below(10));  /* digits and points */
        else b[i] = alpha[below((unsigned)(sizeof alpha - 2))];                    /* anything near */
        if (b[i] == ',') b[i] = ';';
    }
    b[n] = 0;
}

static int short8_wants(const char *t, size_t tlen, size_t b, size_t e, double max)
{
    size_t len = e - b;
    int dots = 0, digits = 0;
    if (len < 1 || len > 8 || b + 8 > tlen) return 0;
    for (size_t i = b; i < e; i++) {
        if (t[i] == '.') dots++;
        else if (t[i] >= '0' && t[i] <= '9') digits++;
        else return 0;
    }
    double v;
    return dots <= 1 && digits >= 1 && ns_parse_decimal(t + b, len, &v) == 0 && v <= max;
}

static void test_short8(void **st)
{
    (void)st;
    static const int mode[] = { FE_TONEAREST, FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO };
    const size_t cap = 1 << 20;
    char *t = malloc(cap);
    assert_non_null(t);
    size_t n_lanes = 0, n_taken = 0, bad = 0;
    const int avail = ns_parse_short8_available();
    for (int round = 0; round < 8; round++) {
        const int m = round % 2 ? mode[1 + round / 2 % 3] : FE_TONEAREST;   /* every other round */
        assert_int_equal(fesetround(m), 0);
        const int nearest = m == FE_TONEAREST;  /* else it takes nothing */
        /* a text of cells "c1,c2,...", up to the last byte */
        size_t tlen = 0, nc = 0;
        static size_t sp[2 << 18];          /* field k: t[sp[2k], sp[2k + 1]) */
        while (nc < (1 << 18)) {
            char cell[32];
            gen_short(cell);
            size_t l = strlen(cell);
            if (tlen + l + 1 > cap) break;
            sp[2 * nc] = tlen;
            memcpy(t + tlen, cell, l);
            tlen += l;
            sp[2 * nc++ + 1] = tlen;
            if (tlen < cap) t[tlen++] = ',';
        }
        tlen -= t[tlen - 1] == ',';     /* the text ends on its last cell */
        const double max = round & 1 ? 1e6 : 99999.5;
        for (size_t i = 0; i + 8 <= nc; i += 8) {
            /* eight fields in order, or anywhere in the text (the last ones included) */
            unsigned want = (unsigned)below(256) | (i % 3 == 0 ? 0xFFu : 0);
            int field[8];
            for (int l = 0; l < 8; l++)
                field[l] = i % 2 ? (int)(i + (size_t)l) : (int)(nc - 1 - below((unsigned)(nc < 65536 ? nc : 65536)));
            double out[8];
            for (int l = 0; l < 8; l++) out[l] = -1.0;
            unsigned got = ns_parse_short8(t, tlen, sp, field, want, max, out);
            for (int l = 0; l < 8; l++) {
                size_t b = sp[2 * field[l]], e = sp[2 * field[l] + 1];
                int expect = avail && nearest && (want >> l & 1) && short8_wants(t, tlen, b, e, max);
                int took = got >> l & 1;
                double v = 0;
                int ok = took == expect;
                if (took) ok = ok && ns_parse_decimal(t + b, e - b, &v) == 0 && bits(v) == bits(out[l]);
                else ok = ok && bits(out[l]) == bits(-1.0);
                if (!ok && bad++ < 5)
                    fprintf(stderr, "short8 '%.*s' (want %d, room %d): took %d, expected %d, %.17g vs %.17g\n",
                            (int)(e - b), t + b, want >> l & 1, b + 8 <= tlen, took, expect, out[l], v);
                n_lanes += want >> l & 1;
                n_taken += took;
            }
        }
    }
    assert_int_equal(fesetround(FE_TONEAREST), 0);
    /* switched off, it takes nothing */
    ns_simd = 0;
    size_t sp0[2] = { 0, 1 };
    int f0[8] = { 0 };
    double out[8];
    memcpy(t, "5,", 2);
    assert_int_equal(ns_parse_short8(t, cap, sp0, f0, 0xFF, 1e6, out), 0);
    assert_int_equal(ns_parse_short8_available(), 0);
    ns_simd = 1;
    free(t);
    fprintf(stderr, "test_numparse: ns_parse_short8 %s: %zu lanes asked, %zu taken, all as ns_parse_decimal\n",
            avail ? "on AVX-512" : "not available on this CPU (takes nothing)", n_lanes, n_taken);
    assert_int_equal(bad, 0);
    if (avail) assert_true(n_taken > 200000);
}

static void test_short8_quotients(void **st)
{
    (void)st;
    const long differ = ns_parse_short8_check_quotients();
    fprintf(stderr, "test_numparse: ns_parse_short8's quotients: %s\n",
            differ < 0 ? "not available on this CPU" : differ ? "some differ from the division" : "all 8e8 as the division");
    assert_true(differ <= 0);
    assert_int_equal(differ < 0, !ns_parse_short8_available());
}

/* ns_parse_time_h's digit-by-digit path against the sscanf rules it replaced (kept here as
 * the reference): canonical timestamps, and a million mutations of them (a character
 * replaced, dropped or added: signs, spaces, short or long fields, stray letters). */
static long ref_days(long y, unsigned mo, unsigned d)
{
    y -= mo <= 2;
    const long era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long)doe - 719468;
}

static double ref_time_h(const char *s)
{
    int y, mo, d, h, mi, sec = 0, n = 0;
    if (sscanf(s, "%4d-%2d-%2d%*1[T ]%2d:%2d%n", &y, &mo, &d, &h, &mi, &n) != 5) return NAN;
    if (s[n] == ':') {
        int n2 = 0;
        if (sscanf(s + n, ":%2d%n", &sec, &n2) != 1) return NAN;
        n += n2;
    }
    if (s[n] && s[n] != 'Z') return NAN;
    static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 59 || h < 0 || mi < 0) return NAN;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap) return NAN;
    return (double)ref_days(y, (unsigned)mo, (unsigned)d) * 24.0 + h + mi / 60.0 + sec / 3600.0;
}

static void test_time_fast_path(void **st)
{
    (void)st;
    static const char *const base[] = { "2026-11-22T08:30", "2026-11-22 08:30:15", "2024-02-29T23:59:59Z",
                                        "2023-02-29T00:00", "1999-12-31T24:00", "2026-13-01T00:00",
                                        "2026-11-22T08:30:60", "0000-01-01T00:00", "2026-04-31 12:00Z" };
    static const char alphabet[] = "0123456789-T :Z+x.";
    uint64_t r = 12345;
    size_t n = 0, bad = 0;
    for (int k = 0; k < 1000000; k++) {
        char s[40];
        snprintf(s, sizeof s, "%s", base[k % 9]);
        int m = 1 + (int)((r >> 60) & 3);
        for (int j = 0; j < m; j++) {
            r = r * 6364136223846793005ULL + 1442695040888963407ULL;
            size_t len = strlen(s), at = (size_t)(r >> 33) % (len + 1);
            char c = alphabet[(r >> 20) % (sizeof alphabet - 1)];
            switch ((r >> 8) % 3) {
            case 0: if (at < len) s[at] = c; break;                                  /* replace */
            case 1: if (at < len) memmove(s + at, s + at + 1, len - at); break;      /* drop */
            default: if (len + 1 < sizeof s) { memmove(s + at + 1, s + at, len - at + 1); s[at] = c; }  /* add */
            }
        }
        double a = ns_parse_time_h(s), b = ref_time_h(s);
        if (!(isnan(a) ? isnan(b) : a == b)) {
            if (bad++ < 5) fprintf(stderr, "time '%s': %.17g, reference %.17g\n", s, a, b);
        }
        n++;
    }
    for (int k = 0; k < 9; k++) {
        double a = ns_parse_time_h(base[k]), b = ref_time_h(base[k]);
        assert_true(isnan(a) ? isnan(b) : a == b);
    }
    assert_int_equal(bad, 0);
    assert_true(n == 1000000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edge_cases),
        cmocka_unit_test(test_halfway),
        cmocka_unit_test(test_printed_doubles),
        cmocka_unit_test(test_random_decimals),
        cmocka_unit_test(test_rounding_modes),
        cmocka_unit_test(test_cells_as_before),
        cmocka_unit_test(test_time_fast_path),
        cmocka_unit_test(test_short8),
        cmocka_unit_test(test_short8_quotients),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
