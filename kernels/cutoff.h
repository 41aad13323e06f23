/* cutoff.h — per-marker cutoff flags.
 *
 * A marker is abnormal in one direction: high (Phe in PKU) or low (C0 in carnitine uptake
 * deficiency).  Three nested zones are possible on the abnormal side:
 *
 *   high marker:   normal < borderline <= value < cutoff <= value < critical <= value
 *   low marker:    value <= critical < value <= cutoff < value <= borderline < normal
 *
 * i.e. a high value is "at cutoff" when value >= cutoff, a low value when value <= cutoff,
 * and likewise for the borderline and critical limits.  Any limit may be NAN (zone unused);
 * the cutoff itself is required by the panel loader.
 *
 * Limits are met within a relative tolerance of NS_CUTOFF_RTOL: a ratio computed as
 * 69.99999999999999 (C0 21 over C16+C18 0.3) meets a cutoff of 70, as it does on paper.
 * Lab values carry 3-4 significant digits, so no real value is that close to a limit.
 *
 * Censored values.  A cell "<x" says only that the true value lies in [0, x]; a ratio with
 * such a term in its denominator only that it lies in [x, +inf).  The bound kind travels
 * with the value (NS_BOUND_*), and a flag is given only when every value in the interval
 * would get it -- or, on the abnormal side, when even the least abnormal end of the
 * interval is beyond the cutoff (then the flag of that end: a positive, never more).  An
 * interval that straddles a limit gives NS_FLAG_MISSING: no decision, never a negative.
 */
#ifndef NS_CUTOFF_H
#define NS_CUTOFF_H

#include <stddef.h>
#include <stdint.h>

enum { NS_DIR_HIGH = 0, NS_DIR_LOW = 1 };

/* What a value says about the true value. */
enum {
    NS_BOUND_EXACT = 0,   /* it is the value */
    NS_BOUND_UPPER = 1,   /* the true value is in [0, x]   ("<x" cells) */
    NS_BOUND_LOWER = 2    /* the true value is in [x, +inf) (ratio over a "<x" term) */
};

#define NS_CUTOFF_RTOL 1e-9

/* The kernels split a column between threads only when it has at least this many rows:
 * below it, a parallel region costs more than it saves (and on a loaded machine each one
 * can wait a scheduler tick for its second thread).  ns_batch_score() calls them on
 * blocks of rows from its own parallel loop, where they run serially. */
#define NS_PAR_MIN 32768

/* A hot loop compiled twice, for AVX2 and for baseline x86-64, the CPU choosing at load time
 * (GCC/clang function multiversioning; one version elsewhere). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__SANITIZE_ADDRESS__) && !defined(NS_NO_CLONES)
#define NS_KERNEL_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define NS_KERNEL_CLONES
#endif

/* Flag levels, ordered: a larger level is further into the abnormal side. */
enum {
    NS_FLAG_NONE = 0,       /* normal */
    NS_FLAG_BORDER = 1,     /* in the borderline zone */
    NS_FLAG_CUTOFF = 2,     /* beyond the cutoff */
    NS_FLAG_CRITICAL = 3,   /* beyond the critical limit */
    NS_FLAG_MISSING = 4     /* value missing: no decision possible */
};

typedef struct {
    int dir;            /* NS_DIR_HIGH or NS_DIR_LOW */
    double borderline;  /* NAN = no borderline zone */
    double cutoff;      /* required */
    double critical;    /* NAN = no critical zone */
} ns_threshold_t;

/* ns_cutoff_flag: flag each value of one marker.
 * @param x        marker values, length n; NAN = missing
 * @param bound    NS_BOUND_* per value, length n; NULL = all exact
 * @param stratum  per-row stratum index into thr[], length n; NULL = stratum 0 for all rows
 * @param thr      thresholds per stratum, length n_strata
 * @param n_strata >= 1
 * @param out      caller-allocated, length n; receives NS_FLAG_*
 * @return 0 on success, -1 on a NULL pointer, n_strata < 1, or a stratum index out of
 *         range (out is then undefined).  Pure. */
int ns_cutoff_flag(const double *x, const uint8_t *bound, const uint16_t *stratum,
                   const ns_threshold_t *thr, int n_strata, uint8_t *out, ptrdiff_t n);

/* Flag of a single exact value. */
int ns_cutoff_level(double x, const ns_threshold_t *t);

/* Flag of a single value with its bound kind (the rule ns_cutoff_flag applies per row). */
int ns_cutoff_level_bounded(double x, int bound, const ns_threshold_t *t);

/* Fold over cutoff: x / cutoff, for reporting (NAN if either is missing or cutoff == 0). */
double ns_cutoff_fold(double x, const ns_threshold_t *t);

#endif
