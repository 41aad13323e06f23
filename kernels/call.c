/* call.c — see call.h. */
#include "call.h"
#include "cutoff.h"
#include <string.h>

#define CALL_BLOCK 512          /* rows per block of ns_call_condition */

/* The rule, inlined into the column loop below (the exported ns_call_one is the same). */
static inline int call_one(const uint8_t *flag, const int *role, int n_markers, int rule,
                           int require_secondary)
{
    int n_prim = 0, n_missing = 0, lo = NS_FLAG_CRITICAL, hi = NS_FLAG_NONE, sec_ok = 0;
    for (int k = 0; k < n_markers; k++) {
        int f = flag[k];
        if (role[k] != 0) {                      /* secondary */
            /* a missing secondary cannot refute a positive primary: it does not lower it */
            if (f == NS_FLAG_MISSING || f >= NS_FLAG_CUTOFF) sec_ok = 1;
            continue;
        }
        n_prim++;
        if (f == NS_FLAG_MISSING) { n_missing++; continue; }
        if (f < lo) lo = f;
        if (f > hi) hi = f;
    }
    if (n_prim == 0) return NS_CALL_INDETERMINATE;

    int level;
    if (rule == 1 /* NS_RULE_ALL */) {
        if (n_missing == n_prim) return NS_CALL_INDETERMINATE;
        if (lo == NS_FLAG_NONE) return NS_CALL_NEGATIVE;   /* one present primary is normal */
        if (n_missing) return NS_CALL_INDETERMINATE;
        level = lo;
    } else {
        if (n_missing && hi < NS_FLAG_CUTOFF) return NS_CALL_INDETERMINATE;
        level = hi;
    }
    switch (level) {
    case NS_FLAG_CRITICAL: return NS_CALL_CRITICAL;
    case NS_FLAG_CUTOFF:
        return (require_secondary && !sec_ok) ? NS_CALL_BORDERLINE : NS_CALL_POSITIVE;
    case NS_FLAG_BORDER: return NS_CALL_BORDERLINE;
    default: return NS_CALL_NEGATIVE;
    }
}

int ns_call_one(const uint8_t *flag, const int *role, int n_markers, int rule,
                int require_secondary)
{
    return call_one(flag, role, n_markers, rule, require_secondary);
}

/* Flag levels 0..3 and the calls they give are the same numbers (call_block maps one to the
 * other by arithmetic on bytes). */
_Static_assert((int)NS_FLAG_NONE == (int)NS_CALL_NEGATIVE && (int)NS_FLAG_BORDER == (int)NS_CALL_BORDERLINE
               && (int)NS_FLAG_CUTOFF == (int)NS_CALL_POSITIVE && (int)NS_FLAG_CRITICAL == (int)NS_CALL_CRITICAL
               && NS_CALL_POSITIVE - 1 == NS_CALL_BORDERLINE, "flag levels and calls");

/* ns_call_condition's rows [i0, i0 + m), m <= CALL_BLOCK: every step on bytes, so that the
 * loops run 16 (32 with AVX2) rows at a time. */
NS_KERNEL_CLONES
static void call_block(const uint8_t *const *flags, const int *role, int n_markers, int n_prim, int rule,
                       int require_secondary, uint8_t *out, ptrdiff_t i0, ptrdiff_t m)
{
    uint8_t miss[CALL_BLOCK], lo[CALL_BLOCK], hi[CALL_BLOCK], sec[CALL_BLOCK];
    memset(miss, 0, (size_t)m);
    memset(lo, NS_FLAG_CRITICAL, (size_t)m);
    memset(hi, NS_FLAG_NONE, (size_t)m);
    memset(sec, 0, (size_t)m);
    for (int k = 0; k < n_markers; k++) {
        const uint8_t *restrict f = flags[k] + i0;
        if (role[k] != 0) {
            /* a secondary confirms at or beyond its cutoff; a missing one cannot refute */
            #pragma omp simd
            for (ptrdiff_t j = 0; j < m; j++) sec[j] |= (uint8_t)(f[j] >= NS_FLAG_CUTOFF);
            continue;
        }
        #pragma omp simd
        for (ptrdiff_t j = 0; j < m; j++) {
            uint8_t v = f[j], ms = v == NS_FLAG_MISSING;
            miss[j] = (uint8_t)(miss[j] + ms);
            uint8_t vl = ms ? (uint8_t)NS_FLAG_CRITICAL : v, vh = ms ? (uint8_t)NS_FLAG_NONE : v;
            lo[j] = vl < lo[j] ? vl : lo[j];
            hi[j] = vh > hi[j] ? vh : hi[j];
        }
    }
    /* the level (0..3, a missing primary left out) is the call, but for a level at the
     * cutoff without the secondary it needs (borderline) and an undecidable row */
    uint8_t *restrict o = out + i0;
    const uint8_t req = require_secondary != 0, np = (uint8_t)n_prim;
    if (rule == NS_RULE_ALL) {
        /* every primary must be abnormal: one present normal primary clears it */
        #pragma omp simd
        for (ptrdiff_t j = 0; j < m; j++) {
            const uint8_t lv = lo[j];
            const uint8_t ind = (uint8_t)((miss[j] == np) | ((lv != NS_FLAG_NONE) & (miss[j] != 0)));
            const uint8_t v = (uint8_t)(lv - ((lv == NS_FLAG_CUTOFF) & req & (sec[j] == 0)));
            o[j] = ind ? (uint8_t)NS_CALL_INDETERMINATE : v;
        }
    } else {
        #pragma omp simd
        for (ptrdiff_t j = 0; j < m; j++) {
            const uint8_t lv = hi[j];
            const uint8_t ind = (uint8_t)((miss[j] != 0) & (lv < NS_FLAG_CUTOFF));
            const uint8_t v = (uint8_t)(lv - ((lv == NS_FLAG_CUTOFF) & req & (sec[j] == 0)));
            o[j] = ind ? (uint8_t)NS_CALL_INDETERMINATE : v;
        }
    }
}

int ns_call_condition(const uint8_t *const *flags, const int *role, int n_markers, int rule,
                      int require_secondary, uint8_t *out, ptrdiff_t n)
{
    if (!flags || !role || !out || n_markers < 1 || n_markers > 64 || n < 0) return -1;
    if (rule != NS_RULE_ANY && rule != NS_RULE_ALL) return -1;
    for (int k = 0; k < n_markers; k++) if (!flags[k]) return -1;
    int n_prim = 0;
    for (int k = 0; k < n_markers; k++) n_prim += role[k] == 0;
    if (n_prim == 0) {
        memset(out, NS_CALL_INDETERMINATE, (size_t)n);
        return 0;
    }

    /* call_one() marker by marker over a block of rows (the same rule, as counts and
     * minima/maxima that vectorise), then the decision per row */
    #pragma omp parallel for schedule(static) if (n >= NS_PAR_MIN)
    for (ptrdiff_t i0 = 0; i0 < n; i0 += CALL_BLOCK)
        call_block(flags, role, n_markers, n_prim, rule, require_secondary, out, i0,
                   n - i0 < CALL_BLOCK ? n - i0 : CALL_BLOCK);
    return 0;
}
