/* cutoff.c — see cutoff.h. */
#include <math.h>
#include "cutoff.h"

/* "x is at or beyond limit on the abnormal side"; a NAN limit is never reached. */
static inline int beyond(double x, double limit, int dir)
{
    if (isnan(limit)) return 0;
    double tol = fabs(limit) * NS_CUTOFF_RTOL;
    return dir == NS_DIR_HIGH ? x >= limit - tol : x <= limit + tol;
}

int ns_cutoff_level(double x, const ns_threshold_t *t)
{
    if (isnan(x)) return NS_FLAG_MISSING;
    if (beyond(x, t->critical, t->dir)) return NS_FLAG_CRITICAL;
    if (beyond(x, t->cutoff, t->dir)) return NS_FLAG_CUTOFF;
    if (beyond(x, t->borderline, t->dir)) return NS_FLAG_BORDER;
    return NS_FLAG_NONE;
}

int ns_cutoff_level_bounded(double x, int bound, const ns_threshold_t *t)
{
    if (bound == NS_BOUND_EXACT || isnan(x)) return ns_cutoff_level(x, t);
    /* the interval's two ends: [0, x] or [x, +inf) */
    double lo = bound == NS_BOUND_UPPER ? 0.0 : x, hi = bound == NS_BOUND_UPPER ? x : INFINITY;
    int a = ns_cutoff_level(lo, t), b = ns_cutoff_level(hi, t);
    if (a == b) return a;
    int least = a < b ? a : b;       /* the least abnormal end of the interval */
    return least >= NS_FLAG_CUTOFF ? least : NS_FLAG_MISSING;
}

double ns_cutoff_fold(double x, const ns_threshold_t *t)
{
    if (isnan(x) || isnan(t->cutoff) || t->cutoff == 0.0) return NAN;
    return x / t->cutoff;
}

int ns_cutoff_flag(const double *x, const uint8_t *bound, const uint16_t *stratum,
                   const ns_threshold_t *thr, int n_strata, uint8_t *out, ptrdiff_t n)
{
    if (!x || !thr || !out || n_strata < 1 || n < 0) return -1;
    int bad = 0;

    #pragma omp parallel for schedule(static) reduction(|:bad)
    for (ptrdiff_t i = 0; i < n; i++) {
        int s = stratum ? stratum[i] : 0;
        if (s >= n_strata) { bad = 1; out[i] = NS_FLAG_MISSING; continue; }
        out[i] = (uint8_t)(bound ? ns_cutoff_level_bounded(x[i], bound[i], &thr[s])
                                 : ns_cutoff_level(x[i], &thr[s]));
    }
    return bad ? -1 : 0;
}
