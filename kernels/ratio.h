/* ratio.h — derived ratio columns (e.g. Phe/Tyr, C0/(C16+C18)).
 *
 * Screening ratios divide a sum of analytes by another sum.  They are more specific than
 * single analytes because a global rise (TPN, a thick spot, early collection) moves both
 * terms together (DOMAIN.md §1.4).
 */
#ifndef NS_RATIO_H
#define NS_RATIO_H

#include <stddef.h>
#include <stdint.h>

/* ns_ratio_compute: out[i] = sum_k num[k][i] / sum_k den[k][i].
 * @param num      n_num column pointers, each of length n (umol/L); NAN = missing
 * @param num_b    n_num bound columns (NS_BOUND_*, cutoff.h), or NULL = all exact
 * @param n_num    1..NS_RATIO_MAX_TERMS
 * @param den      n_den column pointers, each of length n
 * @param den_b    n_den bound columns, or NULL
 * @param n_den    1..NS_RATIO_MAX_TERMS
 * @param out      caller-allocated, length n
 * @param out_b    caller-allocated, length n, receives NS_BOUND_* of out; may be NULL only
 *                 when num_b and den_b are NULL
 * @param n        rows
 * out[i] is NAN when any term is missing, or when the denominator sum is not > 0 (a ratio
 * over zero is unknown, not infinite: it must never raise a flag).  With a censored term
 * the ratio is an interval [num_lo/den_hi, num_hi/den_lo]: it is reported as an upper bound
 * (NS_BOUND_UPPER, value num_hi/den_lo) when the denominator is exact, as a lower bound
 * (NS_BOUND_LOWER, value num_lo/den_hi) when only the denominator is censored, and as
 * missing when both are.
 * @return 0 on success, -1 on a NULL pointer or a term count out of range.  Pure. */
#define NS_RATIO_MAX_TERMS 64
int ns_ratio_compute(const double *const *num, const uint8_t *const *num_b, int n_num,
                     const double *const *den, const uint8_t *const *den_b, int n_den,
                     double *out, uint8_t *out_b, ptrdiff_t n);

#endif
