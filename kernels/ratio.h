/* ratio.h — derived ratio columns (e.g. Phe/Tyr, C0/(C16+C18)).
 *
 * Screening ratios divide a sum of analytes by another sum.  They are more specific than
 * single analytes because a global rise (TPN, a thick spot, early collection) moves both
 * terms together (DOMAIN.md §1.4).
 */
#ifndef NS_RATIO_H
#define NS_RATIO_H

#include <stddef.h>

/* ns_ratio_compute: out[i] = sum_k num[k][i] / sum_k den[k][i].
 * @param num    n_num column pointers, each of length n (umol/L); NAN = missing
 * @param n_num  >= 1
 * @param den    n_den column pointers, each of length n
 * @param n_den  >= 1
 * @param out    caller-allocated, length n
 * @param n      rows
 * out[i] is NAN when any term is missing, or when the denominator sum is not > 0 (a ratio
 * over zero is unknown, not infinite: it must never raise a flag).
 * @return 0 on success, -1 on a NULL pointer or n_num/n_den < 1.  Pure. */
int ns_ratio_compute(const double *const *num, int n_num, const double *const *den, int n_den,
                     double *out, ptrdiff_t n);

#endif
