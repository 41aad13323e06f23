/* cutoff.c — see cutoff.h. */
#include <math.h>
#include <stdint.h>
#include <string.h>
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

/* The limits of one threshold with their tolerance applied once, so that the hot loop is
 * three comparisons.  lim - tol (high) or lim + tol (low) is the same expression beyond()
 * evaluates, so the flags are bit-for-bit those of ns_cutoff_level; an unused (NAN) limit
 * becomes +inf for a high marker and -inf for a low one, which no finite x reaches. */
typedef struct {
    int high;
    double crit, cut, bord;
} eff_t;

static double eff_limit(double limit, int dir)
{
    if (isnan(limit)) return dir == NS_DIR_HIGH ? INFINITY : -INFINITY;
    double tol = fabs(limit) * NS_CUTOFF_RTOL;
    return dir == NS_DIR_HIGH ? limit - tol : limit + tol;
}

static inline uint8_t level_fast(double x, const eff_t *e)
{
    if (isnan(x)) return NS_FLAG_MISSING;
    if (e->high) return (uint8_t)(x >= e->crit ? NS_FLAG_CRITICAL : x >= e->cut ? NS_FLAG_CUTOFF
                                  : x >= e->bord ? NS_FLAG_BORDER : NS_FLAG_NONE);
    return (uint8_t)(x <= e->crit ? NS_FLAG_CRITICAL : x <= e->cut ? NS_FLAG_CUTOFF
                     : x <= e->bord ? NS_FLAG_BORDER : NS_FLAG_NONE);
}

/* The common case, one threshold and exact values: the level is the number of limits
 * reached (the limits are ordered, so reaching the critical limit means reaching the other
 * two), which vectorises; a NAN value is missing. */
NS_KERNEL_CLONES
static void flag_exact(const double *restrict x, const eff_t *e, uint8_t *restrict out, ptrdiff_t n)
{
    const double cr = e->crit, cu = e->cut, bo = e->bord;
    if (e->high) {
        #pragma omp simd
        for (ptrdiff_t i = 0; i < n; i++) {
            double v = x[i];
            uint8_t l = (uint8_t)((v >= bo) + (v >= cu) + (v >= cr));
            out[i] = v != v ? (uint8_t)NS_FLAG_MISSING : l;
        }
    } else {
        #pragma omp simd
        for (ptrdiff_t i = 0; i < n; i++) {
            double v = x[i];
            uint8_t l = (uint8_t)((v <= bo) + (v <= cu) + (v <= cr));
            out[i] = v != v ? (uint8_t)NS_FLAG_MISSING : l;
        }
    }
}

/* Are the effective limits ordered (critical beyond cutoff beyond borderline, ties allowed)? */
static int ordered(const eff_t *e)
{
    return e->high ? e->crit >= e->cut && e->cut >= e->bord : e->crit <= e->cut && e->cut <= e->bord;
}

int ns_cutoff_flag(const double *x, const uint8_t *bound, const uint16_t *stratum,
                   const ns_threshold_t *thr, int n_strata, uint8_t *out, ptrdiff_t n)
{
    if (!x || !thr || !out || n_strata < 1 || n < 0) return -1;
    eff_t eff[64];
    int fast = n_strata <= 64;
    for (int k = 0; fast && k < n_strata; k++) {
        /* an infinite limit would break the +-inf convention above: use the plain path */
        if (isinf(thr[k].critical) || isinf(thr[k].cutoff) || isinf(thr[k].borderline)) fast = 0;
        eff[k] = (eff_t){ thr[k].dir == NS_DIR_HIGH, eff_limit(thr[k].critical, thr[k].dir),
                          eff_limit(thr[k].cutoff, thr[k].dir), eff_limit(thr[k].borderline, thr[k].dir) };
    }
    /* for counting, no borderline zone is a borderline limit at the cutoff */
    eff_t e0 = { 0, 0, 0, 0 };
    if (fast) {
        e0 = eff[0];
        if (isnan(thr[0].borderline)) e0.bord = e0.cut;
    }
    if (fast && !stratum && ordered(&e0)) {
        /* one threshold: count the limits reached on every row, then redo the censored rows
         * (rare) by the interval rule */
        #pragma omp parallel for schedule(static) if (n >= NS_PAR_MIN)
        for (ptrdiff_t i0 = 0; i0 < n; i0 += 4096) {
            ptrdiff_t m = n - i0 < 4096 ? n - i0 : 4096;
            flag_exact(x + i0, &e0, out + i0, m);
            if (bound) {
                /* NS_BOUND_EXACT is 0: skip eight exact rows per load */
                ptrdiff_t i = i0;
                for (; i + 8 <= i0 + m; i += 8) {
                    uint64_t w;
                    memcpy(&w, bound + i, sizeof w);
                    if (!w) continue;
                    for (ptrdiff_t j = i; j < i + 8; j++)
                        if (bound[j] != NS_BOUND_EXACT) out[j] = (uint8_t)ns_cutoff_level_bounded(x[j], bound[j], &thr[0]);
                }
                for (; i < i0 + m; i++)
                    if (bound[i] != NS_BOUND_EXACT) out[i] = (uint8_t)ns_cutoff_level_bounded(x[i], bound[i], &thr[0]);
            }
        }
        return 0;
    }
    int bad = 0;
    #pragma omp parallel for schedule(static) reduction(|:bad) if (n >= NS_PAR_MIN)
    for (ptrdiff_t i = 0; i < n; i++) {
        int s = stratum ? stratum[i] : 0;
        if (s >= n_strata) { bad = 1; out[i] = NS_FLAG_MISSING; continue; }
        if (fast && (!bound || bound[i] == NS_BOUND_EXACT)) out[i] = level_fast(x[i], &eff[s]);
        else out[i] = (uint8_t)(bound ? ns_cutoff_level_bounded(x[i], bound[i], &thr[s])
                                      : ns_cutoff_level(x[i], &thr[s]));
    }
    return bad ? -1 : 0;
}
