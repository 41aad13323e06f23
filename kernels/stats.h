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

#endif
