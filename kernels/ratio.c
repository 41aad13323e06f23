/* ratio.c — see ratio.h. */
#include <math.h>
#include "cutoff.h"
#include "ratio.h"

/* sum of terms at row i: the value sum, and whether any term is an upper bound */
static inline double term_sum(const double *const *v, const uint8_t *const *b, int k, ptrdiff_t i,
                              int *censored)
{
    double s = 0.0;
    for (int j = 0; j < k; j++) {
        s += v[j][i];                     /* NAN propagates */
        if (b && b[j][i] != NS_BOUND_EXACT) *censored = 1;
    }
    return s;
}

/* The common A/B ratio with bounds: the same rules as selects, which vectorise (y > 0 is
 * false for a NAN denominator; a NAN numerator gives NAN). */
NS_KERNEL_CLONES
static void ratio_ab(const double *restrict a, const double *restrict b, const uint8_t *restrict ab,
                     const uint8_t *restrict bb, double *restrict o, uint8_t *restrict ob, ptrdiff_t n)
{
    #pragma omp simd
    for (ptrdiff_t i = 0; i < n; i++) {
        const double x = a[i], y = b[i];
        const int cn = ab[i] != NS_BOUND_EXACT, cd = bb[i] != NS_BOUND_EXACT;
        const int ok = (x == x) & (y > 0.0) & !(cn & cd);
        o[i] = ok ? x / y : NAN;
        ob[i] = (uint8_t)(ok & cn ? NS_BOUND_UPPER : ok & cd ? NS_BOUND_LOWER : NS_BOUND_EXACT);
    }
}

int ns_ratio_compute(const double *const *num, const uint8_t *const *num_b, int n_num,
                     const double *const *den, const uint8_t *const *den_b, int n_den,
                     double *out, uint8_t *out_b, ptrdiff_t n)
{
    if (!num || !den || !out || n_num < 1 || n_den < 1 || n < 0) return -1;
    if (n_num > NS_RATIO_MAX_TERMS || n_den > NS_RATIO_MAX_TERMS) return -1;
    if ((num_b || den_b) && !out_b) return -1;
    for (int k = 0; k < n_num; k++) if (!num[k] || (num_b && !num_b[k])) return -1;
    for (int k = 0; k < n_den; k++) if (!den[k] || (den_b && !den_b[k])) return -1;

    if (n_num == 1 && n_den == 1 && num_b && den_b) {
        #pragma omp parallel for schedule(static) if (n >= NS_PAR_MIN)
        for (ptrdiff_t i0 = 0; i0 < n; i0 += 4096)
            ratio_ab(num[0] + i0, den[0] + i0, num_b[0] + i0, den_b[0] + i0, out + i0, out_b + i0,
                     n - i0 < 4096 ? n - i0 : 4096);
        return 0;
    }
    #pragma omp parallel for schedule(static) if (n >= NS_PAR_MIN)
    for (ptrdiff_t i = 0; i < n; i++) {
        int cn = 0, cd = 0;
        double a = term_sum(num, num_b, n_num, i, &cn);
        double b = term_sum(den, den_b, n_den, i, &cd);
        uint8_t kind = NS_BOUND_EXACT;
        double r;
        if (isnan(a) || isnan(b) || !(b > 0.0)) r = NAN;
        else if (cn && cd) r = NAN;                        /* both ends unknown */
        else {
            r = a / b;   /* num censored: an upper bound; den censored: a lower bound */
            kind = cn ? NS_BOUND_UPPER : cd ? NS_BOUND_LOWER : NS_BOUND_EXACT;
        }
        out[i] = r;
        if (out_b) out_b[i] = kind;
    }
    return 0;
}
