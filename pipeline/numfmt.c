/* numfmt.c — see numfmt.h. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "numfmt.h"

#if defined(__SIZEOF_INT128__)
__extension__ typedef unsigned __int128 u128;

static u128 pow10_u128(int k)              /* 10^k, k <= 38 */
{
    u128 r = 1;
    while (k-- > 0) r *= 10;
    return r;
}

/* m * 2^e * 10^k = q + f exactly, q an integer and 0 <= f < 1: q, and how f compares with
 * one half (*half: -1, 0, 1); 0 when a part of the sum does not fit 128 bits */
static int scaled(uint64_t m, int e, int k, u128 *q, int *half)
{
    u128 num, den;
    if (k >= 0) {
        if (k > 22) return 0;
        num = (u128)m * pow10_u128(k);             /* < 2^53 * 2^74 = 2^127 */
        if (e >= 0) {
            if (e >= 127 || (num >> (127 - e)) != 0) return 0;
            *q = num << e;
            *half = -1;
            return 1;
        }
        const int s = -e;
        if (s >= 128) {                            /* below one half: num < 2^127 */
            *q = 0;
            *half = -1;
            return 1;
        }
        const u128 r = num & (((u128)1 << s) - 1), h = (u128)1 << (s - 1);
        *q = num >> s;
        *half = (r > h) - (r < h);
        return 1;
    }
    if (-k > 38) return 0;
    num = m;
    den = pow10_u128(-k);                          /* < 2^127 */
    if (e >= 0) {
        if (e > 73) return 0;                      /* m * 2^e < 2^127 */
        num <<= e;
    } else {
        if (-e >= 127 || (den >> (126 + e)) != 0) return 0;   /* den * 2^-e < 2^126 */
        den <<= -e;
    }
    const u128 r2 = (num % den) << 1;
    *q = num / den;
    *half = (r2 > den) - (r2 < den);
    return 1;
}

/* q rounded by its fraction's comparison with one half: to nearest, ties to even */
static u128 rounded(u128 q, int half)
{
    return q + (half > 0 || (half == 0 && (q & 1)));
}

/* the decimal digits of d, at least `min` of them (zeros in front); returns their count */
static int digits(u128 d, int min, char *out)
{
    char t[48];
    int n = 0;
    do {
        t[n++] = (char)('0' + (int)(d % 10));
        d /= 10;
    } while (d);
    while (n < min) t[n++] = '0';
    for (int i = 0; i < n; i++) out[i] = t[n - 1 - i];
    return n;
}

/* |x| = m * 2^e with m < 2^53 (x finite, not 0) */
static void split(double ax, uint64_t *m, int *e)
{
    int ex;
    const double fr = frexp(ax, &ex);              /* [0.5, 1) */
    *m = (uint64_t)ldexp(fr, 53);
    *e = ex - 53;
}

static int put(char *buf, size_t size, const char *s, int n)
{
    if (size) {
        const size_t k = (size_t)n < size - 1 ? (size_t)n : size - 1;
        memcpy(buf, s, k);
        buf[k] = 0;
    }
    return n;
}

int ns_fmt_g(char *buf, size_t size, double x, int prec)
{
    if (!isfinite(x) || prec < 0 || prec > 17) return snprintf(buf, size, "%.*g", prec, x);
    if (prec == 0) prec = 1;
    char o[64];
    int n = 0;
    if (signbit(x)) o[n++] = '-';
    const double ax = fabs(x);
    if (ax == 0) {
        o[n++] = '0';
        return put(buf, size, o, n);
    }
    uint64_t m;
    int e;
    split(ax, &m, &e);
    /* X: the decimal exponent of |x| (10^X <= |x| < 10^(X+1)), found exactly as the one
     * that puts prec digits before the point; D: those digits, rounded once.  A rounding
     * that carries into a new digit (9.9996 to four: 10.00) moves X up, as printf's does. */
    const u128 lo = pow10_u128(prec - 1), hi = lo * 10;
    int X = (int)floor(log10(ax)), half = 0;
    u128 D = 0;
    for (int tries = 0;; tries++) {
        if (tries == 4 || !scaled(m, e, prec - 1 - X, &D, &half)) return snprintf(buf, size, "%.*g", prec, x);
        if (D >= hi) X++;
        else if (D < lo) X--;
        else break;
    }
    D = rounded(D, half);
    if (D == hi) {
        D = lo;
        X++;
    }
    char d[48];
    digits(D, prec, d);
    int last = prec;                               /* without the trailing zeros */
    while (last > 1 && d[last - 1] == '0') last--;
    if (X < -4 || X >= prec) {                     /* d.ddde+XX */
        o[n++] = d[0];
        if (last > 1) {
            o[n++] = '.';
            memcpy(o + n, d + 1, (size_t)(last - 1));
            n += last - 1;
        }
        o[n++] = 'e';
        o[n++] = X < 0 ? '-' : '+';
        const int ax10 = X < 0 ? -X : X;
        if (ax10 >= 100) o[n++] = (char)('0' + ax10 / 100);
        o[n++] = (char)('0' + ax10 / 10 % 10);
        o[n++] = (char)('0' + ax10 % 10);
    } else if (X >= 0) {                           /* ddd.ddd */
        memcpy(o + n, d, (size_t)(X + 1));
        n += X + 1;
        if (last > X + 1) {
            o[n++] = '.';
            memcpy(o + n, d + X + 1, (size_t)(last - X - 1));
            n += last - X - 1;
        }
    } else {                                       /* 0.000ddd */
        o[n++] = '0';
        o[n++] = '.';
        for (int z = 0; z < -X - 1; z++) o[n++] = '0';
        memcpy(o + n, d, (size_t)last);
        n += last;
    }
    return put(buf, size, o, n);
}

int ns_fmt_f(char *buf, size_t size, double x, int prec)
{
    if (!isfinite(x) || prec < 0 || prec > 22) return snprintf(buf, size, "%.*f", prec, x);
    const double ax = fabs(x);
    u128 D = 0;
    if (ax != 0) {
        uint64_t m;
        int e;
        split(ax, &m, &e);
        int half;
        if (!scaled(m, e, prec, &D, &half)) return snprintf(buf, size, "%.*f", prec, x);
        D = rounded(D, half);
    }
    char o[96], d[48];
    int n = 0;
    if (signbit(x)) o[n++] = '-';
    const int nd = digits(D, prec + 1, d);
    memcpy(o + n, d, (size_t)(nd - prec));
    n += nd - prec;
    if (prec > 0) {
        o[n++] = '.';
        memcpy(o + n, d + nd - prec, (size_t)prec);
        n += prec;
    }
    return put(buf, size, o, n);
}

#else   /* no 128-bit integers: printf itself */

int ns_fmt_g(char *buf, size_t size, double x, int prec) { return snprintf(buf, size, "%.*g", prec, x); }
int ns_fmt_f(char *buf, size_t size, double x, int prec) { return snprintf(buf, size, "%.*f", prec, x); }

#endif
