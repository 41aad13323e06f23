/* test_numfmt.c — ns_fmt_g and ns_fmt_f against snprintf's "%.*g" and "%.*f": the same
 * bytes and the same return value, on random doubles of every exponent, on decimals such
 * as a lab prints (0.45, 1751, 0.0125), on exact ties of the last digit kept (0.125 to two
 * places), on the edges where rounding carries into a new digit (9.9995 to four), on
 * zeros of both signs, infinities and NaN, and into buffers too small. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../pipeline/numfmt.h"

static uint64_t rng = 88172645463325252ULL;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static long n_checked;

static void same(double x, int prec)
{
    char a[128], b[128];
    int ra = ns_fmt_g(a, sizeof a, x, prec), rb = snprintf(b, sizeof b, "%.*g", prec, x);
    if (ra != rb || strcmp(a, b) != 0) fail_msg("%%.%dg of %a: got '%s' (%d), printf '%s' (%d)", prec, x, a, ra, b, rb);
    ra = ns_fmt_f(a, sizeof a, x, prec);
    rb = snprintf(b, sizeof b, "%.*f", prec, x);
    if (ra != rb || strcmp(a, b) != 0) fail_msg("%%.%df of %a: got '%s' (%d), printf '%s' (%d)", prec, x, a, ra, b, rb);
    n_checked += 2;
}

static const int precs[] = { 0, 1, 2, 3, 4, 5, 6, 8, 10, 15, 17, 20, 22, 25 };
#define NPREC ((int)(sizeof precs / sizeof *precs))

static void test_random_bits(void **st)
{
    (void)st;
    for (int i = 0; i < 150000; i++) {
        uint64_t u = next();
        /* exponents of every size, and many near 1 where the lab's values are */
        if (i % 2) u = (u & 0x800FFFFFFFFFFFFFULL) | ((uint64_t)(1023 - 40 + (int)(next() % 80)) << 52);
        double x;
        memcpy(&x, &u, sizeof x);
        if (!isfinite(x)) continue;
        same(x, precs[i % NPREC]);
    }
}

static void test_lab_decimals(void **st)
{
    (void)st;
    char s[64];
    for (int i = 0; i < 150000; i++) {
        /* a value as an instrument prints it, read back as strtod reads it */
        const int digits = 1 + (int)(next() % 6), exp10 = (int)(next() % 16) - 9;
        const long mant = (long)(next() % 1000000) % (long)pow(10, digits);
        snprintf(s, sizeof s, "%ldE%d", mant, exp10);
        const double x = strtod(s, NULL);
        same(x, precs[i % NPREC]);
        same(-x, 4);
    }
}

static void test_ties_and_carries(void **st)
{
    (void)st;
    /* j / 2^t: exact binary fractions, many of them ties of the digit kept */
    for (int t = 1; t <= 12; t++)
        for (int j = 0; j < 4096; j++) {
            const double x = ldexp((double)j, -t);
            for (int k = 0; k < NPREC; k++) same(x, precs[k]);
        }
    /* just below, at and above 10^k: the rounded value gains a digit */
    for (int k = -12; k <= 17; k++) {
        const double p = pow(10, k);
        for (int d = -3; d <= 3; d++) {
            double x = p;
            for (int s = 0; s < (d < 0 ? -d : d); s++) x = nextafter(x, d < 0 ? 0 : INFINITY);
            for (int q = 0; q < NPREC; q++) same(x, precs[q]);
            same(x * 0.99995, 4);
            same(x * 9.9995, 4);
            same(x * 9.99949999, 4);
        }
    }
    static const double v[] = { 0.0, -0.0, 0.5, 1.5, 2.5, 0.125, 0.375, 9.9995, 99.995, 1e-5, 1e-4, 0.0001234,
                                123456, 1234567, 1e21, 1e22, 1e23, 1e300, 5e-324, 2.2250738585072014e-308,
                                1.7976931348623157e308, 4503599627370496.5, 9007199254740993.0, 0.45, 1751 };
    for (size_t i = 0; i < sizeof v / sizeof *v; i++)
        for (int k = 0; k < NPREC; k++) {
            same(v[i], precs[k]);
            same(-v[i], precs[k]);
        }
    /* %.22f of values from 5e-23 to 2^-74: scaled by 10^22 they are m * 2^-127 with m * 10^22
     * up to 2^126.08, half of one or more (a review found them rounded to zero) */
    for (uint64_t u = 0x3b4e392010175ee0ULL; u < 0x3b50000000000010ULL; u += 0x0000fedcba987ULL) {
        double x;
        memcpy(&x, &u, sizeof x);
        same(x, 22);
        same(-x, 22);
    }
    same(INFINITY, 4);
    same(-INFINITY, 2);
    same(NAN, 4);
    same(1.5, 18);          /* beyond the exact path: printf's own */
    same(2.5, 25);
    print_message("%ld values compared with snprintf\n", n_checked);
}

/* into buffers of every size: snprintf's bytes and its return value */
static void test_short_buffers(void **st)
{
    (void)st;
    static const double v[] = { -1234.5678, 0.000123456, 98765.4321, 1e-7 };
    for (size_t i = 0; i < sizeof v / sizeof *v; i++)
        for (size_t size = 0; size <= 16; size++) {
            char a[32], b[32];
            memset(a, 'x', sizeof a);
            memset(b, 'x', sizeof b);
            assert_int_equal(ns_fmt_g(a, size, v[i], 6), snprintf(b, size, "%.*g", 6, v[i]));
            assert_memory_equal(a, b, sizeof a);
            assert_int_equal(ns_fmt_f(a, size, v[i], 3), snprintf(b, size, "%.*f", 3, v[i]));
            assert_memory_equal(a, b, sizeof a);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_bits),
        cmocka_unit_test(test_lab_decimals),
        cmocka_unit_test(test_ties_and_carries),
        cmocka_unit_test(test_short_buffers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
