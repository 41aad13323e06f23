/* stats.c — see stats.h. */
#include <math.h>
#include <stdlib.h>
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
