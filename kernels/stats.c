/* stats.c — see stats.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include "stats.h"

double ns_sum_masked(const double *x, const uint8_t *mask, ptrdiff_t n, ptrdiff_t *count)
{
    ptrdiff_t n_chunks = (n + NS_CHUNK - 1) / NS_CHUNK;
    double *cs = calloc((size_t)(n_chunks ? n_chunks : 1), sizeof *cs);
    ptrdiff_t *cc = calloc((size_t)(n_chunks ? n_chunks : 1), sizeof *cc);
    if (!cs || !cc) { free(cs); free(cc); *count = -1; return NAN; }

    /* each chunk is summed serially, in row order, by whichever thread owns it */
    #pragma omp parallel for schedule(static)
    for (ptrdiff_t c = 0; c < n_chunks; c++) {
        ptrdiff_t end = (c + 1) * NS_CHUNK < n ? (c + 1) * NS_CHUNK : n;
        double s = 0.0;
        ptrdiff_t k = 0;
        for (ptrdiff_t i = c * NS_CHUNK; i < end; i++)
            if ((!mask || mask[i]) && !isnan(x[i])) { s += x[i]; k++; }
        cs[c] = s;
        cc[c] = k;
    }
    double s = 0.0;
    ptrdiff_t k = 0;
    for (ptrdiff_t c = 0; c < n_chunks; c++) { s += cs[c]; k += cc[c]; }
    free(cs);
    free(cc);
    *count = k;
    return s;
}

double ns_mean_masked(const double *x, const uint8_t *mask, ptrdiff_t n)
{
    ptrdiff_t k;
    double s = ns_sum_masked(x, mask, n, &k);
    return k > 0 ? s / (double)k : NAN;
}

double ns_quantile_masked(const double *x, const uint8_t *mask, ptrdiff_t n, double q)
{
    if (!(q >= 0.0 && q <= 1.0) || n < 0) return NAN;   /* GSL would abort the process */
    double *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    if (!v) return NAN;
    size_t k = 0;
    for (ptrdiff_t i = 0; i < n; i++)
        if ((!mask || mask[i]) && !isnan(x[i])) v[k++] = x[i];
    double r = NAN;
    if (k > 0) {
        gsl_sort(v, 1, k);
        r = gsl_stats_quantile_from_sorted_data(v, 1, k, q);
    }
    free(v);
    return r;
}

int ns_count_codes(const uint8_t *x, ptrdiff_t n, int64_t *counts, int n_codes)
{
    if (!x || !counts || n_codes < 1 || n < 0) return -1;
    for (int c = 0; c < n_codes; c++) counts[c] = 0;
    for (ptrdiff_t i = 0; i < n; i++) counts[x[i] < n_codes ? x[i] : n_codes - 1]++;
    return 0;
}

double ns_quantile_sorted(const double *x, size_t n, double q)
{
    if (n == 0 || !(q >= 0.0 && q <= 1.0)) return NAN;
    return gsl_stats_quantile_from_sorted_data(x, 1, n, q);
}

/* P(B <= k), B ~ Binomial(n, q); 0 for k < 0. */
static double binom_cdf(long long k, double q, size_t n)
{
    if (k < 0) return 0.0;
    if ((size_t)k >= n) return 1.0;
    return gsl_cdf_binomial_P((unsigned)k, q, (unsigned)n);
}

/* Smallest k in [0, n] with P(B <= k) >= t (n + 1 if none: t > 1). */
static size_t binom_first_at_least(double t, double q, size_t n)
{
    size_t a = 0, b = n + 1;          /* answer in [a, b] */
    while (a < b) {
        size_t m = a + (b - a) / 2;
        if (binom_cdf((long long)m, q, n) >= t) b = m;
        else a = m + 1;
    }
    return a;
}

/* P(B > k); 1 for k < 0, 0 for k >= n.  The upper tail computed directly keeps its
 * precision when a confidence level very close to 1 puts the bound deep in the tail. */
static double binom_sf(long long k, double q, size_t n)
{
    if (k < 0) return 1.0;
    if ((size_t)k >= n) return 0.0;
    return gsl_cdf_binomial_Q((unsigned)k, q, (unsigned)n);
}

/* Smallest k in [0, n] with P(B > k) <= t. */
static size_t binom_first_tail_at_most(double t, double q, size_t n)
{
    size_t a = 0, b = n;
    while (a < b) {
        size_t m = a + (b - a) / 2;
        if (binom_sf((long long)m, q, n) <= t) b = m;
        else a = m + 1;
    }
    return a;
}

int ns_quantile_ci(const double *x, size_t n, double q, double conf, double *lo, double *hi,
                   size_t *rank_lo, size_t *rank_hi)
{
    if (!x || !lo || !hi || !(q > 0.0 && q < 1.0) || !(conf > 0.0 && conf < 1.0)
        || n > 4000000000u)
        return -1;
    const double a2 = (1.0 - conf) / 2.0;
    /* l - 1 = the largest k with P(B <= k) <= a2, i.e. (first k with P > a2) - 1 */
    size_t k_first_over = n == 0 ? 0 : binom_first_at_least(nextafter(a2, 2.0), q, n);
    size_t l = k_first_over;          /* rank l = k + 1 where k = k_first_over - 1 */
    /* u - 1 = the smallest k with P(B <= k) >= 1 - a2, i.e. P(B > k) <= a2 */
    size_t u = n == 0 ? 1 : binom_first_tail_at_most(a2, q, n) + 1;
    if (u > n) u = n + 1;
    *lo = l >= 1 && l <= n ? x[l - 1] : NAN;
    *hi = u >= 1 && u <= n ? x[u - 1] : NAN;
    if (rank_lo) *rank_lo = l;
    if (rank_hi) *rank_hi = u;
    return (l >= 1 && u <= n) ? 0 : 1;
}

size_t ns_quantile_min_n(double q, double conf)
{
    if (!(q > 0.0 && q < 1.0) || !(conf > 0.0 && conf < 1.0)) return 0;
    const double a2 = (1.0 - conf) / 2.0;
    /* both sides bounded once q^n <= a2 and (1 - q)^n <= a2 */
    double m = fmin(q, 1.0 - q);
    return (size_t)ceil(log(a2) / log(1.0 - m));
}

/* Small inputs (QC's ~90 values): out of place, each level one pass that writes every
 * value to both the "below" and the "above" buffer and advances each count by its
 * comparison, so that nothing waits on a mispredicted branch or on a load from a moving
 * position.  Three buffers of n ping-pong: a level reads one and writes the other two. */
#define SMALL_SELECT 256

/* One level: the values of src[0, len) below p to lt, those above to gt, each in order;
 * how many of each. */
typedef void (*split_fn)(const double *src, size_t len, double p, double *lt, size_t *nl, double *gt, size_t *ng);

static void split_scalar(const double *src, size_t len, double p, double *lt, size_t *nl, double *gt, size_t *ng)
{
    size_t l = 0, g = 0;
    for (size_t j = 0; j < len; j++) {
        const double x = src[j];
        lt[l] = x;
        gt[g] = x;
        l += (size_t)(x < p);
        g += (size_t)(x > p);
    }
    *nl = l;
    *ng = g;
}

static double select_small(const double *v, size_t n, size_t k, double *prev, split_fn split)
{
    double buf[3][SMALL_SELECT + 8];                             /* + 8: split_avx512's slack */
    const double *src = v;
    int si = -1;                                                 /* src is buf[si], or v */
    size_t len = n;
    double under = -INFINITY;            /* the largest value left behind below the range */
    while (len > 8) {
        const double a = src[0], b = src[len / 2], c = src[len - 1];
        const double mn = a < b ? a : b, mx = a < b ? b : a;
        const double p = c < mn ? mn : c > mx ? mx : c;          /* median of three */
        const int il = si == 0 ? 1 : 0, ig = si == 2 ? 1 : 2;    /* the two others */
        double *lt = buf[il], *gt = buf[ig];
        size_t nl, ng;
        split(src, len, p, lt, &nl, gt, &ng);
        if (k < nl) {
            src = lt; si = il; len = nl;
        } else if (k < len - ng) {                               /* a tie of the pivot */
            if (prev) {
                double m = under;
                for (size_t j = 0; j < nl; j++) m = lt[j] > m ? lt[j] : m;
                *prev = k > nl ? p : m;
            }
            return p;
        } else {
            k -= len - ng;
            src = gt; si = ig; len = ng;
            under = p;                   /* >= all that was below: values < p and the ties */
        }
    }
    double t[8];
    memcpy(t, src, len * sizeof *t);
    for (size_t j = 1; j < len; j++) {
        const double x = t[j];
        size_t i = j;
        while (i > 0 && t[i - 1] > x) { t[i] = t[i - 1]; i--; }
        t[i] = x;
    }
    if (prev) *prev = k > 0 ? t[k - 1] : under;
    return t[k];
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SEL_TARGET __attribute__((target("avx512f,popcnt")))

/* split_scalar eight values a step: each step compares eight values with the pivot and
 * stores those below and those above, compressed, at the ends of lt and gt (a store writes
 * eight lanes: the buffers have eight of slack).  The values keep their order, so with the
 * same pivots select_small holds the same values at every level either way: the same value
 * and the same *prev, bit for bit. */
SEL_TARGET static void split_avx512(const double *src, size_t len, double p, double *lt, size_t *nl, double *gt,
                                    size_t *ng)
{
    const __m512d vp = _mm512_set1_pd(p);
    size_t l = 0, g = 0;
    for (size_t j = 0; j < len; j += 8) {
        const __mmask8 in = len - j >= 8 ? 0xFF : (__mmask8)((1u << (len - j)) - 1u);
        const __m512d x = _mm512_maskz_loadu_pd(in, src + j);
        const __mmask8 ml = _mm512_mask_cmp_pd_mask(in, x, vp, _CMP_LT_OQ);
        const __mmask8 mg = _mm512_mask_cmp_pd_mask(in, x, vp, _CMP_GT_OQ);
        _mm512_storeu_pd(lt + l, _mm512_maskz_compress_pd(ml, x));
        _mm512_storeu_pd(gt + g, _mm512_maskz_compress_pd(mg, x));
        l += (size_t)__builtin_popcount(ml);
        g += (size_t)__builtin_popcount(mg);
    }
    *nl = l;
    *ng = g;
}

static int cpu_avx512f(void)
{
    static int known = -1;              /* asked once; threads may race to ask */
    int c = __atomic_load_n(&known, __ATOMIC_RELAXED);
    if (c < 0) {
        __builtin_cpu_init();
        c = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("popcnt");
        __atomic_store_n(&known, c, __ATOMIC_RELAXED);
    }
    return c;
}
#define HAVE_SELECT_AVX512 1
#endif

int ns_stats_simd = 1;

/* Move the values < p of v[lo, hi) to its front, by swaps that happen or not according
 * to the comparison (conditional moves, no branch on the data); returns where they end. */
static size_t part_below(double *v, size_t lo, size_t hi, double p)
{
    size_t i = lo;
    for (size_t j = lo; j < hi; j++) {
        const double x = v[j], y = v[i];
        const int lt = x < p;
        v[j] = lt ? y : x;
        v[i] = lt ? x : y;
        i += (size_t)lt;
    }
    return i;
}

/* Same, for the values <= p. */
static size_t part_not_above(double *v, size_t lo, size_t hi, double p)
{
    size_t i = lo;
    for (size_t j = lo; j < hi; j++) {
        const double x = v[j], y = v[i];
        const int le = x <= p;
        v[j] = le ? y : x;
        v[i] = le ? x : y;
        i += (size_t)le;
    }
    return i;
}

/* The k-th smallest (0-based) of v[0, n), left at v[k] with v[0, k) <= v[k] <= v[k+1, n). */
static double select_kth(double *v, size_t n, size_t k)
{
    size_t lo = 0, hi = n;
    while (hi - lo > 12) {
        const double a = v[lo], b = v[lo + (hi - lo) / 2], c = v[hi - 1];
        const double mn = a < b ? a : b, mx = a < b ? b : a;
        const double p = c < mn ? mn : c > mx ? mx : c;          /* median of three: a value of the range */
        const size_t i = part_below(v, lo, hi, p);
        if (k < i) { hi = i; continue; }
        const size_t m = part_not_above(v, i, hi, p);            /* [i, m) == p, never empty */
        if (k < m) return v[k];
        lo = m;
    }
    for (size_t j = lo + 1; j < hi; j++) {                       /* insertion sort of the rest */
        const double x = v[j];
        size_t i = j;
        while (i > lo && v[i - 1] > x) { v[i] = v[i - 1]; i--; }
        v[i] = x;
    }
    return v[k];
}

double ns_median_inplace(double *v, size_t n)
{
    if (n == 0) return NAN;
    const size_t rhs = n / 2;
    if (n <= SMALL_SELECT) {
        double a = 0.0;
        split_fn split = split_scalar;
#ifdef HAVE_SELECT_AVX512
        if (ns_stats_simd && cpu_avx512f()) split = split_avx512;
#endif
        const double b = select_small(v, n, rhs, n % 2 ? NULL : &a, split);
        return n % 2 ? b : (a + b) / 2.0;
    }
    const double b = select_kth(v, n, rhs);
    if (n % 2) return b;
    double a = v[0];                                             /* the largest of v[0, rhs) */
    for (size_t j = 1; j < rhs; j++) a = v[j] > a ? v[j] : a;
    return (a + b) / 2.0;
}
