/* stats.c — see stats.h. */
#include <math.h>
#include <stdlib.h>
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
