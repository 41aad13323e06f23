/* call.c — see call.h. */
#include "call.h"
#include "cutoff.h"

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

    #pragma omp parallel for schedule(static)
    for (ptrdiff_t i = 0; i < n; i++) {
        uint8_t f[64];
        for (int k = 0; k < n_markers; k++) f[k] = flags[k][i];
        out[i] = (uint8_t)call_one(f, role, n_markers, rule, require_secondary);
    }
    return 0;
}
