/* stats.h — deterministic reductions and robust statistics over columns.
 *
 * Floating-point addition is not associative, so an OpenMP reduction(+:sum) gives results
 * that change in the last bits with the thread count.  These kernels sum fixed-size chunks
 * (NS_CHUNK rows, independent of the thread count) into a per-chunk array in parallel and
 * then add the chunk sums serially in chunk order: the same bits for any thread count.
 */
#ifndef NS_STATS_H
#define NS_STATS_H

#include <stddef.h>
#include <stdint.h>

#define NS_CHUNK 4096

/* Sum and count of the non-NAN values of x (length n), where mask is NULL or mask[i] != 0.
 * Deterministic for any thread count.  Returns the sum; *count receives the count.
 * Allocates a small chunk array internally; returns NAN (and *count = -1) if that fails. */
double ns_sum_masked(const double *x, const uint8_t *mask, ptrdiff_t n, ptrdiff_t *count);

/* Mean of the non-NAN masked values, NAN if there are none. */
double ns_mean_masked(const double *x, const uint8_t *mask, ptrdiff_t n);

/* Quantile (0..1) of the non-NAN masked values using GSL's interpolation on sorted data.
 * Copies the values (allocates); NAN if none, if q is outside [0, 1], or on allocation
 * failure. */
double ns_quantile_masked(const double *x, const uint8_t *mask, ptrdiff_t n, double q);

/* Histogram of small codes: counts[v] += 1 for each x[i] (< n_codes).  Integer counts
 * are exact, so any reduction order gives the same result.  Values >= n_codes are counted
 * in counts[n_codes - 1].  Returns 0, or -1 on bad arguments. */
int ns_count_codes(const uint8_t *x, ptrdiff_t n, int64_t *counts, int n_codes);

/* Exact quantile q (0..1) of n sorted values: Hyndman-Fan type 7, the definition of GSL's
 * gsl_stats_quantile_from_sorted_data and R's default: h = (n - 1) q, then linear
 * interpolation between the order statistics x[floor h] and x[floor h + 1].  NAN when
 * n == 0 or q is outside [0, 1]. */
double ns_quantile_sorted(const double *x, size_t n, double q);

/* Distribution-free confidence interval for the q-quantile of the population n sorted
 * values were drawn from: order statistics x(l) <= Q_q <= x(u) (1-based ranks) with
 * coverage >= conf, from B ~ Binomial(n, q), the count of values below Q_q:
 *   l = the largest rank with P(B <= l - 1) <= (1 - conf) / 2,
 *   u = the smallest rank with P(B <= u - 1) >= 1 - (1 - conf) / 2.
 * Returns 0 with *lo = x(l), *hi = x(u); 1 when n is too small to bound one side at this
 * level (that side is NAN: e.g. the 99.5th percentile needs n >= 736 for an upper 95 %
 * bound, because 0.995^n must fall below 0.025); -1 on bad arguments.  *rank_lo and
 * *rank_hi (may be NULL) receive l and u (0 or n + 1 for an unbounded side). */
int ns_quantile_ci(const double *x, size_t n, double q, double conf, double *lo, double *hi,
                   size_t *rank_lo, size_t *rank_hi);

/* Median of n values (none NAN), reordering v: the middle order statistic, or half the
 * sum of the two middle ones; the same value as gsl_stats_median, found by a quickselect
 * whose partition steps are branch-free (plate QC takes one for every plate and analyte,
 * about 90 values each, where the data-dependent branches of a classic partition
 * mispredict half the time).  NAN when n == 0. */
double ns_median_inplace(double *v, size_t n);

/* 1 (the default): ns_median_inplace partitions eight values at a time with AVX-512 where
 * the CPU has it (the same steps, the same value); 0: one at a time.  For tests. */
extern int ns_stats_simd;

/* Smallest n for which ns_quantile_ci bounds both sides of the q-quantile at conf. */
size_t ns_quantile_min_n(double q, double conf);

#endif
