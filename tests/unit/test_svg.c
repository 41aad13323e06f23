/* test_svg.c — the report's SVG writer (pipeline/svg.h): scales, nice ticks, histograms,
 * escaping, and elements that are well-formed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../pipeline/svg.h"
#include "../../pipeline/util.h"

/* what fn writes, as a string (caller frees) */
static char *capture(void (*fn)(FILE *, void *), void *arg)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    assert_non_null(fp);
    fn(fp, arg);
    fclose(fp);
    return buf;
}

static void test_linear_scale(void **st)
{
    (void)st;
    ns_scale_t s = ns_scale_make(NS_SCALE_LINEAR, 10, 20, 100, 300);
    assert_true(ns_svg_map(&s, 10) == 100);
    assert_true(ns_svg_map(&s, 20) == 300);
    assert_true(ns_svg_map(&s, 15) == 200);
    assert_true(ns_svg_map(&s, 25) == 400);             /* outside the domain: outside the range */
    assert_true(ns_svg_clamp(&s, 400) == 300);
    assert_true(isnan(ns_svg_map(&s, NAN)));
    assert_true(isnan(ns_svg_map(&s, INFINITY)));
    /* inverted range (a y axis): d0 at the bottom */
    ns_scale_t y = ns_scale_make(NS_SCALE_LINEAR, 0, 50, 200, 20);
    assert_true(ns_svg_map(&y, 0) == 200);
    assert_true(ns_svg_map(&y, 50) == 20);
    assert_true(ns_svg_clamp(&y, 500) == 200 && ns_svg_clamp(&y, -5) == 20);
    /* reversed and degenerate domains */
    ns_scale_t r = ns_scale_make(NS_SCALE_LINEAR, 20, 10, 0, 1);
    assert_true(r.d0 == 10 && r.d1 == 20);
    ns_scale_t d = ns_scale_make(NS_SCALE_LINEAR, 5, 5, 0, 1);
    assert_true(d.d0 < 5 && d.d1 > 5 && ns_svg_map(&d, 5) == 0.5);
    ns_scale_t n = ns_scale_make(NS_SCALE_LINEAR, NAN, 3, 0, 1);
    assert_true(isfinite(n.d0) && isfinite(n.d1) && n.d0 < n.d1);
}

static void test_log_scale(void **st)
{
    (void)st;
    ns_scale_t s = ns_scale_make(NS_SCALE_LOG, 0.1, 100, 0, 300);
    assert_true(fabs(ns_svg_map(&s, 0.1) - 0) < 1e-9);
    assert_true(fabs(ns_svg_map(&s, 100) - 300) < 1e-9);
    assert_true(fabs(ns_svg_map(&s, 1) - 100) < 1e-9);     /* one decade of three */
    assert_true(fabs(ns_svg_map(&s, 10) - 200) < 1e-9);
    /* non-positive values have no position on a log scale */
    assert_true(isnan(ns_svg_map(&s, 0)));
    assert_true(isnan(ns_svg_map(&s, -1)));
    /* a domain reaching 0 or below is raised, never log(0) */
    ns_scale_t z = ns_scale_make(NS_SCALE_LOG, 0, 50, 0, 1);
    assert_true(z.d0 > 0 && z.d1 == 50);
    assert_true(isfinite(ns_svg_map(&z, 1)));
    ns_scale_t neg = ns_scale_make(NS_SCALE_LOG, -5, -1, 0, 1);
    assert_true(neg.d0 > 0 && neg.d1 > neg.d0);
    ns_scale_t one = ns_scale_make(NS_SCALE_LOG, 3, 3, 0, 1);
    assert_true(one.d0 < 3 && one.d1 > 3);
}

/* 1 if the k ticks are multiples of one nice step (1, 2 or 5 x 10^j) */
static int nice_linear(const double *t, int k)
{
    double step = t[1] - t[0];
    double p = pow(10, floor(log10(step) + 1e-9)), f = step / p;
    if (!(fabs(f - 1) < 1e-6 || fabs(f - 2) < 1e-6 || fabs(f - 5) < 1e-6 || fabs(f - 10) < 1e-6)) return 0;
    for (int i = 0; i < k; i++) {
        double q = t[i] / step;
        if (fabs(q - round(q)) > 1e-6) return 0;
    }
    return 1;
}

/* 1 if every tick is 1, 2 or 5 x 10^j */
static int nice_log(const double *t, int k)
{
    for (int i = 0; i < k; i++) {
        double p = pow(10, floor(log10(t[i]) + 1e-9)), f = t[i] / p;
        if (!(fabs(f - 1) < 1e-6 || fabs(f - 2) < 1e-6 || fabs(f - 5) < 1e-6)) return 0;
    }
    return 1;
}

/* ticks of s lie inside the domain, ascend, and are nice: multiples of a 1-2-5 step on a
 * linear scale; 1-2-5 x 10^j on a log one (or, when the domain holds fewer than two of
 * those, multiples of a nice step) */
static void check_ticks(const ns_scale_t *s, int n)
{
    double t[64];
    int k = ns_scale_ticks(s, n, t, 64);
    assert_true(k >= 2);
    for (int i = 0; i < k; i++) {
        double eps = (s->d1 - s->d0) * 1e-9;
        assert_true(t[i] >= s->d0 - eps && t[i] <= s->d1 + eps);
        if (i) assert_true(t[i] > t[i - 1]);
    }
    if (s->kind == NS_SCALE_LINEAR) {
        assert_true(nice_linear(t, k));
        assert_true(k <= 2 * n + 1);
    } else {
        assert_true(nice_log(t, k) || nice_linear(t, k));
    }
}

static void test_ticks(void **st)
{
    (void)st;
    const double dom[][2] = { { 0, 1 }, { 0, 7 }, { 0.013, 0.47 }, { -3, 3 }, { 120, 480 }, { 0, 1234.5 },
                              { 33.3, 33.9 }, { -0.002, 0.001 } };
    for (size_t k = 0; k < sizeof dom / sizeof dom[0]; k++) {
        ns_scale_t s = ns_scale_make(NS_SCALE_LINEAR, dom[k][0], dom[k][1], 0, 100);
        check_ticks(&s, 5);
        ns_scale_t n = ns_scale_nice(s, 5);
        assert_true(n.d0 <= dom[k][0] && n.d1 >= dom[k][1]);   /* widened, never narrowed */
        check_ticks(&n, 5);
        double t[64];
        int c = ns_scale_ticks(&n, 5, t, 64);
        assert_true(fabs(t[0] - n.d0) < 1e-9 * (n.d1 - n.d0) && fabs(t[c - 1] - n.d1) < 1e-9 * (n.d1 - n.d0));
    }
    double t[64];
    ns_scale_t s = ns_scale_make(NS_SCALE_LINEAR, 0, 10, 0, 1);
    assert_int_equal(ns_scale_ticks(&s, 5, t, 64), 6);              /* 0 2 4 6 8 10 */
    assert_true(t[0] == 0 && t[5] == 10 && t[1] == 2);
    assert_int_equal(ns_scale_ticks(&s, 5, t, 3), 3);               /* max respected */
    assert_int_equal(ns_scale_ticks(&s, 5, t, 0), 0);
    /* log: decades over a wide domain, 1-2-5 over a narrow one */
    ns_scale_t l = ns_scale_make(NS_SCALE_LOG, 0.01, 1000, 0, 1);
    int k = ns_scale_ticks(&l, 5, t, 64);
    assert_int_equal(k, 6);
    assert_true(fabs(t[0] - 0.01) < 1e-12 && fabs(t[5] - 1000) < 1e-9);
    check_ticks(&l, 5);
    ns_scale_t l2 = ns_scale_make(NS_SCALE_LOG, 0.3, 8, 0, 1);
    check_ticks(&l2, 5);
    k = ns_scale_ticks(&l2, 5, t, 64);
    assert_int_equal(k, 4);                                         /* 0.5 1 2 5 */
    assert_true(fabs(t[0] - 0.5) < 1e-12 && fabs(t[3] - 5) < 1e-12);
    /* no power of ten or 2/5 multiple inside: plain nice numbers, still inside */
    ns_scale_t l3 = ns_scale_make(NS_SCALE_LOG, 31, 44, 0, 1);
    check_ticks(&l3, 4);
    k = ns_scale_ticks(&l3, 4, t, 64);
    assert_true(!nice_log(t, k) && nice_linear(t, k));
    ns_scale_t ln = ns_scale_nice(ns_scale_make(NS_SCALE_LOG, 0.03, 70, 0, 1), 5);
    assert_true(fabs(ln.d0 - 0.01) < 1e-12 && fabs(ln.d1 - 100) < 1e-9);
}

static void test_fmt(void **st)
{
    (void)st;
    char b[32];
    ns_svg_fmt(0, b, sizeof b);
    assert_string_equal(b, "0");
    ns_svg_fmt(0.1 + 0.2, b, sizeof b);
    assert_string_equal(b, "0.3");
    ns_svg_fmt(250, b, sizeof b);
    assert_string_equal(b, "250");
    ns_svg_fmt(0.05, b, sizeof b);
    assert_string_equal(b, "0.05");
    ns_svg_fmt(1e7, b, sizeof b);
    assert_string_equal(b, "1e+07");
    ns_svg_fmt(-12.5, b, sizeof b);
    assert_string_equal(b, "-12.5");
}

static void hist_case(const ns_scale_t *s, const double *v, long n, long *counts, long *skipped, double *edges)
{
    ns_hist_edges(s, 4, edges);
    ns_hist_count(s, edges, 4, v, n, counts, skipped);
}

/* ns_hist_count on v against a plain scan of the edges: every count and the skipped, eight
 * values at a time (AVX-512, where the CPU has it) and one at a time (ns_simd 0) */
static void check_counts(const ns_scale_t *s, const double *e, int nb, const double *v, long n)
{
    long c[128], c1[128], ref[128] = { 0 }, sk, sk1, rsk = 0;
    assert_true(nb <= 128);
    ns_hist_count(s, e, nb, v, n, c, &sk);
    ns_simd = 0;
    ns_hist_count(s, e, nb, v, n, c1, &sk1);
    ns_simd = 1;
    assert_int_equal(sk1, sk);
    assert_memory_equal(c1, c, (size_t)nb * sizeof *c);
    for (long i = 0; i < n; i++) {
        double x = v[i];
        if (!isfinite(x) || (s->kind == NS_SCALE_LOG && x <= 0)) { rsk++; continue; }
        int b = 0;
        for (int k = 1; k < nb; k++)
            if (e[k] <= x) b = k;
        ref[b]++;
    }
    assert_int_equal(sk, rsk);
    for (int b = 0; b < nb; b++) assert_int_equal(c[b], ref[b]);
}

/* every bin count against a plain scan of the edges, for 1 to 70 bins, linear and log,
 * on values that fall on edges, between them, outside, and not at all */
static void test_hist_scan(void **st)
{
    (void)st;
    uint64_t r = 12345;
    enum { N = 5000 };
    static double v[N];
    for (int nb = 1; nb <= 70; nb++)
        for (int kind = 0; kind < 2; kind++) {
            ns_scale_t s = kind ? ns_scale_make(NS_SCALE_LOG, 0.01, 5000, 0, 1) : ns_scale_make(NS_SCALE_LINEAR, -3, 40, 0, 1);
            double e[71];
            ns_hist_edges(&s, nb, e);
            for (int i = 0; i < N; i++) {
                r = r * 6364136223846793005ULL + 1442695040888963407ULL;
                unsigned u = (unsigned)(r >> 33);
                v[i] = u % 7 == 0 ? e[u % (unsigned)(nb + 1)]                  /* an edge itself */
                     : u % 11 == 0 ? (u % 2 ? NAN : -1.0)
                     : kind ? exp((double)(u % 200000) / 10000.0 - 8.0) : (double)(u % 60000) / 1000.0 - 10.0;
            }
            check_counts(&s, e, nb, v, N);
        }
}

/* edges that are not evenly spaced: clusters of edges closer than the counter's table cells
 * (several edges per cell), an inner edge equal to the first, values on, just below and just
 * above every edge, and far outside; every count against a plain scan */
static void test_hist_clustered(void **st)
{
    (void)st;
    uint64_t r = 777;
    for (int kind = 0; kind < 2; kind++)
        for (int nb = 2; nb <= 40; nb += 3) {
            ns_scale_t s = kind ? ns_scale_make(NS_SCALE_LOG, 0.5, 2000, 0, 1) : ns_scale_make(NS_SCALE_LINEAR, -5, 2000, 0, 1);
            double e[41];
            e[0] = kind ? 0.5 : -5;
            e[nb] = 2000;
            e[1] = e[0];                                       /* an inner edge on the first */
            for (int b = 2; b < nb; b++)                       /* a cluster near 7, the rest spread */
                e[b] = b < nb / 2 + 1 ? 7 + (b - 2) * 1e-9 : e[b - 1] + 100.0 / nb;
            enum { N = 4000 };
            double v[N];
            for (int i = 0; i < N; i++) {
                r = r * 6364136223846793005ULL + 1442695040888963407ULL;
                unsigned u = (unsigned)(r >> 33);
                double edge = e[u % (unsigned)(nb + 1)];
                v[i] = u % 5 == 0 ? edge : u % 5 == 1 ? nextafter(edge, -INFINITY) : u % 5 == 2 ? nextafter(edge, INFINITY)
                     : u % 5 == 3 ? (u % 2 ? 1e9 : (kind ? 1e-9 : -1e9)) : (double)(u % 3000000) / 1000.0 - 4;
            }
            check_counts(&s, e, nb, v, N);
        }
}

static double rnd(uint64_t *r)                    /* [0, 1) */
{
    *r = *r * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*r >> 11) / 9007199254740992.0;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* random scales (log over 1e-300..1e300, linear of either sign, ranges a few steps wide),
 * edges evenly spaced or random (sorted, some repeated), values on the edges, a step either
 * side, inside, outside and not at all: every count against a plain scan */
static void test_hist_random(void **st)
{
    (void)st;
    uint64_t r = 4242;
    enum { N = 400 };
    double e[129], v[N];
    for (int it = 0; it < 4000; it++) {
        /* a number of bins that divides the counter's 4096 cells puts evenly spaced edges on
         * cell boundaries, where a cell computed two ways could round apart */
        const int kind = it % 2, nb = it % 4 < 2 ? 1 << (1 + (int)(rnd(&r) * 6)) : 1 + (int)(rnd(&r) * 100);
        double d0, d1;
        if (kind) {
            d0 = pow(10, rnd(&r) * 600 - 300);
            d1 = it % 7 == 0 ? nextafter(nextafter(d0, INFINITY), INFINITY) : d0 * pow(10, rnd(&r) * 20);
            if (!(d1 > d0) || !isfinite(d1)) d1 = nextafter(d0, INFINITY);
        } else {
            d0 = (rnd(&r) - 0.5) * pow(10, rnd(&r) * 12 - 4);
            d1 = it % 7 == 0 ? nextafter(d0, INFINITY) : d0 + pow(10, rnd(&r) * 12 - 4);
        }
        ns_scale_t s = ns_scale_make(kind ? NS_SCALE_LOG : NS_SCALE_LINEAR, d0, d1, 0, 1);
        if (it % 4 < 2 || it % 3 == 0) {
            ns_hist_edges(&s, nb, e);
        } else {
            e[0] = s.d0;
            e[nb] = s.d1;
            for (int b = 1; b < nb; b++)
                e[b] = b > 1 && rnd(&r) < 0.1 ? e[b - 1]
                     : kind ? s.d0 * pow(s.d1 / s.d0, rnd(&r)) : s.d0 + (s.d1 - s.d0) * rnd(&r);
            qsort(e + 1, (size_t)(nb > 1 ? nb - 1 : 0), sizeof *e, cmp_dbl);
        }
        int rising = 1;                                  /* the edges must not fall */
        for (int b = 1; b <= nb; b++) rising &= e[b] >= e[b - 1];
        if (!rising) continue;
        for (int i = 0; i < N; i++) {
            double x = e[(int)(rnd(&r) * (nb + 1))], u = rnd(&r);
            v[i] = u < 0.25 ? x : u < 0.4 ? nextafter(x, -INFINITY) : u < 0.55 ? nextafter(x, INFINITY)
                 : u < 0.85 ? (kind ? s.d0 * pow(s.d1 / s.d0, rnd(&r) * 1.2 - 0.1) : s.d0 + (s.d1 - s.d0) * (rnd(&r) * 1.2 - 0.1))
                 : u < 0.9 ? -x : u < 0.95 ? 0.0 : u < 0.97 ? NAN : u < 0.99 ? INFINITY : -INFINITY;
        }
        check_counts(&s, e, nb, v, N);
    }
}

static void test_hist(void **st)
{
    (void)st;
    double e[5];
    long c[4], sk;
    ns_scale_t s = ns_scale_make(NS_SCALE_LINEAR, 0, 4, 0, 1);
    const double v[] = { 0, 0.5, 1, 1.99, 2, 3.99, 4, 9, -1, NAN };
    hist_case(&s, v, 10, c, &sk, e);
    assert_true(e[0] == 0 && e[1] == 1 && e[4] == 4);
    /* [0,1): 0, 0.5, -1 (below: first bin) | [1,2): 1, 1.99 | [2,3): 2 | [3,4]: 3.99, 4, 9 */
    assert_int_equal(c[0], 3);
    assert_int_equal(c[1], 2);
    assert_int_equal(c[2], 1);
    assert_int_equal(c[3], 3);
    assert_int_equal(sk, 1);
    /* log bins: equal in log10; zero and negatives not counted */
    ns_scale_t l = ns_scale_make(NS_SCALE_LOG, 1, 10000, 0, 1);
    const double w[] = { 1, 5, 10, 99, 100, 5000, 0, -3 };
    hist_case(&l, w, 8, c, &sk, e);
    assert_true(fabs(e[1] - 10) < 1e-9 && fabs(e[2] - 100) < 1e-9 && e[4] == 10000);
    assert_int_equal(c[0], 2);          /* 1, 5 */
    assert_int_equal(c[1], 2);          /* 10, 99 */
    assert_int_equal(c[2], 1);          /* 100 */
    assert_int_equal(c[3], 1);          /* 5000 */
    assert_int_equal(sk, 2);
    long tot = c[0] + c[1] + c[2] + c[3] + sk;
    assert_int_equal(tot, 8);           /* nothing lost */
}

static void escape_fn(FILE *fp, void *arg)
{
    ns_xml_escape(fp, arg);
}

static void test_escape(void **st)
{
    (void)st;
    char *s = capture(escape_fn, "<a href=\"x\">Tom & 'Jerry'</a>\x01\x7f 批次");
    assert_string_equal(s, "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt; 批次");
    free(s);
}

/* ns_fmt_f1 against snprintf("%.1f") on 10 M values: exact ties and their neighbours
 * (k/20 and the doubles either side), decimals like x.x5 that are just above or below a
 * tie in binary, -0.0 and negatives that round to zero, random magnitudes up to the limit;
 * beyond it (and NaN, inf) it must decline. */
static void test_fmt_f1(void **st)
{
    (void)st;
    char want[64], got[32];
    uint64_t r = 0x243f6a8885a308d3ull;
    long n = 0;
    for (long i = 0; i < 10000000; i++) {
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        const double u = (double)(r >> 11) * 0x1p-53;
        double v;
        switch (i % 6) {
        case 0: v = (double)(long)(r >> 44) / 20.0; break;                  /* k/20: ties */
        case 1: v = nextafter((double)(long)(r >> 44) / 20.0, (r & 1) ? INFINITY : -INFINITY); break;
        case 2: v = (double)(long)(r >> 40) / 100.0; break;                 /* x.x5 in decimal */
        case 3: v = u * 400.0 - 20.0; break;                                 /* chart coordinates */
        case 4: v = -u * 0.1; break;                                         /* -0.0 .. -0.1 */
        default: v = ldexp(u, (int)(r >> 58) - 16) * ((r >> 57 & 1) ? -1 : 1); break;
        }
        snprintf(want, sizeof want, "%.1f", v);
        int k = ns_fmt_f1(v, got);
        n++;
        if (fabs(v) >= 1e14) {                                   /* past the limit: declined */
            if (k != -1) fail_msg("%.17g: not declined", v);
            continue;
        }
        if (k < 0 || strcmp(got, want) != 0 || (size_t)k != strlen(want))
            fail_msg("%.17g: got %s, printf %s", v, k < 0 ? "(declined)" : got, want);
    }
    const double edge[] = { 0.0, -0.0, 0.05, 0.15, 0.25, 0.35, 0.45, -0.05, -0.25, 1.05, 2.5e-324,
                            -2.5e-324, 99999999999999.95, -99999999999999.9, 0.95, 9.95, 99.95 };
    for (size_t i = 0; i < sizeof edge / sizeof *edge; i++) {
        snprintf(want, sizeof want, "%.1f", edge[i]);
        assert_true(ns_fmt_f1(edge[i], got) > 0);
        assert_string_equal(got, want);
    }
    assert_int_equal(ns_fmt_f1(1e14, got), -1);
    assert_int_equal(ns_fmt_f1(NAN, got), -1);
    assert_int_equal(ns_fmt_f1(-INFINITY, got), -1);
    assert_int_equal(n, 10000000);
}

/* The escape writes runs in one go: the same bytes as one character at a time, on random
 * strings over the special characters, controls, DEL and UTF-8. */
static void escape_ref(FILE *fp, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", fp); break;
        case '<': fputs("&lt;", fp); break;
        case '>': fputs("&gt;", fp); break;
        case '"': fputs("&quot;", fp); break;
        case '\'': fputs("&#39;", fp); break;
        default:
            if ((*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') || *p == 0x7f) break;
            fputc(*p, fp);
        }
    }
}

static void ref_fn(FILE *fp, void *arg) { escape_ref(fp, arg); }

static void test_escape_runs(void **st)
{
    (void)st;
    static const char alpha[] = "ab &<>\"'\t\n\r\x01\x1f\x7f\xe6\x89\xb9z";
    uint64_t r = 7;
    char str[64];
    for (int i = 0; i < 20000; i++) {
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        int len = (int)(r >> 59);
        for (int k = 0; k < len; k++) {
            r = r * 6364136223846793005ull + 1442695040888963407ull;
            str[k] = alpha[(r >> 33) % (sizeof alpha - 1)];
        }
        str[len] = '\0';
        char *a = capture(escape_fn, str), *b = capture(ref_fn, str);
        assert_string_equal(a, b);
        free(a);
        free(b);
    }
}

static void chart_fn(FILE *fp, void *arg)
{
    (void)arg;
    ns_scale_t sx = ns_scale_make(NS_SCALE_LINEAR, 0, 3, 40, 300);
    ns_scale_t sy = ns_scale_make(NS_SCALE_LOG, 0.1, 100, 150, 10);
    const double xs[] = { 0, 1, 2, 3 }, ys[] = { 1, 10, -1, 50 };
    ns_svg_begin(fp, 320, 170, "C3 <high> & \"low\"");
    ns_svg_axis_x(fp, &sx, 150, 4, "plate & night");
    ns_svg_axis_y(fp, &sy, 40, 300, 4, NULL);
    ns_svg_hline(fp, &sy, 7.9, 40, 300, "cut", "PA<MMA>");
    ns_svg_hline(fp, &sy, 1000, 40, 300, "cut", "outside");      /* outside the domain: nothing */
    ns_svg_vline(fp, &sx, 1.5, 150, 10, "sep", "tonight");
    ns_svg_polyline(fp, &sx, &sy, xs, ys, 4, "ln");                /* broken at the -1 */
    ns_svg_point(fp, &sx, &sy, 1, 10, 3, "pr", "1-3s & 2-2s");
    ns_svg_point(fp, &sx, &sy, 2, 0, 3, "pr", NULL);              /* no position: nothing */
    ns_svg_rect(fp, 50, 140, 10, -20, "bar", "0.1\xe2\x80\x93" "0.2: 5");
    ns_svg_text(fp, 1, 2, "end", "tk", "a<b");
    ns_svg_end(fp);
}

static void test_elements(void **st)
{
    (void)st;
    char *s = capture(chart_fn, NULL);
    assert_non_null(strstr(s, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 320 170\""));
    assert_non_null(strstr(s, "<title>C3 &lt;high&gt; &amp; &quot;low&quot;</title>"));
    assert_non_null(strstr(s, ">plate &amp; night</text>"));
    assert_non_null(strstr(s, ">PA&lt;MMA&gt;</text>"));
    assert_null(strstr(s, "outside"));
    assert_non_null(strstr(s, "<title>1-3s &amp; 2-2s</title></circle>"));
    assert_non_null(strstr(s, "text-anchor=\"end\" class=\"tk\">a&lt;b</text>"));
    /* the polyline breaks where a value has no position: two pieces */
    int pl = 0;
    for (const char *p = s; (p = strstr(p, "<polyline")); p++) pl++;
    assert_int_equal(pl, 2);
    /* one circle: the point at 0 on a log scale is left out */
    int ci = 0;
    for (const char *p = s; (p = strstr(p, "<circle")); p++) ci++;
    assert_int_equal(ci, 1);
    /* a rectangle of negative height is drawn upwards from y */
    assert_non_null(strstr(s, "<rect class=\"bar\" x=\"50.0\" y=\"120.0\" width=\"10.0\" height=\"20.0\""));
    /* balanced: every opened element closed (no '<' in text: escaped) */
    int open = 0, close = 0, self = 0;
    for (const char *p = s; *p; p++) {
        if (p[0] == '<' && p[1] == '/') close++;
        else if (p[0] == '<') open++;
        if (p[0] == '/' && p[1] == '>') self++;
    }
    assert_int_equal(open, close + self);
    assert_non_null(strstr(s, "</svg>\n"));
    /* deterministic: the same chart, the same bytes */
    char *t = capture(chart_fn, NULL);
    assert_string_equal(s, t);
    free(s);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linear_scale), cmocka_unit_test(test_log_scale), cmocka_unit_test(test_ticks),
        cmocka_unit_test(test_fmt),          cmocka_unit_test(test_hist),      cmocka_unit_test(test_hist_scan), cmocka_unit_test(test_hist_clustered), cmocka_unit_test(test_hist_random),      cmocka_unit_test(test_escape),
        cmocka_unit_test(test_elements),     cmocka_unit_test(test_fmt_f1),    cmocka_unit_test(test_escape_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
