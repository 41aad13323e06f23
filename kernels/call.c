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
    for (ptrdiff_t i0 = 0; i0 < n; i0 += CALL_BLOCK) {
        const ptrdiff_t m = n - i0 < CALL_BLOCK ? n - i0 : CALL_BLOCK;
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
        uint8_t *restrict o = out + i0;
        #pragma omp simd
        for (ptrdiff_t j = 0; j < m; j++) {
            int level, ind;
            if (rule == NS_RULE_ALL) {
                /* every primary must be abnormal: one present normal primary clears it */
                ind = miss[j] == n_prim || (lo[j] != NS_FLAG_NONE && miss[j]);
                level = lo[j];
            } else {
                ind = miss[j] && hi[j] < NS_FLAG_CUTOFF;
                level = hi[j];
            }
            uint8_t v = level == NS_FLAG_CRITICAL ? NS_CALL_CRITICAL
                      : level == NS_FLAG_CUTOFF ? ((require_secondary && !sec[j]) ? NS_CALL_BORDERLINE : NS_CALL_POSITIVE)
                      : level == NS_FLAG_BORDER ? NS_CALL_BORDERLINE : NS_CALL_NEGATIVE;
            o[j] = ind ? (uint8_t)NS_CALL_INDETERMINATE : v;
        }
    }
    return 0;
}
