/* westgard.c — see westgard.h.
 *
 * One pass over the series.  Because the current run is a suffix of the series (checked
 * first), a window that holds a current observation ends at one: so a "k consecutive"
 * rule is violated iff, at some current observation, the streak of consecutive present
 * observations beyond the limit that ends there is >= k.  Streaks are kept per level and
 * for the interleaved series; NAN observations leave every streak untouched.
 */
#include <math.h>
#include <stddef.h>
#include "westgard.h"

enum { B_1_2S = 0, B_1_3S, B_2_2S, B_R_4S, B_4_1S, B_10X, N_RULES };

/* consecutive observations above +t and below -t, ending at the latest one */
typedef struct { int hi, lo; } streak_t;

/* Extend s with z; return 1 if either streak now reaches k. */
static int streak_push(streak_t *s, double z, double t, int k)
{
    s->hi = z > t ? s->hi + 1 : 0;
    s->lo = z < -t ? s->lo + 1 : 0;
    return s->hi >= k || s->lo >= k;
}

/* Record a violation of rule b, by a window of one level (lv >= 0) or across levels. */
static void hit(unsigned *viol, int *lvl, int b, int lv)
{
    *viol |= 1u << b;
    if (lv >= 0 && lv < lvl[b]) lvl[b] = lv;
}

static int check_args(const ns_qc_obs_t *obs, int n, unsigned rules_on,
                      const ns_wg_result_t *res)
{
    if (!res || n < 0 || (n > 0 && !obs) || (rules_on & ~(unsigned)NS_WG_ALL)) return -1;
    int seen_current = 0;
    for (int i = 0; i < n; i++) {
        if (obs[i].level >= NS_QC_MAX_LEVELS || obs[i].current > 1) return -1;
        if (obs[i].current) seen_current = 1;
        else if (seen_current) return -1;      /* history after the current run */
    }
    return 0;
}

int ns_westgard_eval(const ns_qc_obs_t *obs, int n, unsigned rules_on, ns_wg_result_t *res)
{
    if (check_args(obs, n, rules_on, res) != 0) return -1;

    /* streaks: [level] within one level, [NS_QC_MAX_LEVELS] across levels */
    streak_t s22[NS_QC_MAX_LEVELS] = { { 0, 0 } };
    streak_t s41[NS_QC_MAX_LEVELS + 1] = { { 0, 0 } };
    streak_t s10[NS_QC_MAX_LEVELS + 1] = { { 0, 0 } };
    int cur_hi2[NS_QC_MAX_LEVELS] = { 0 }, cur_lo2[NS_QC_MAX_LEVELS] = { 0 };
    int n_hi2 = 0, n_lo2 = 0;                   /* current observations beyond +-2 SD */
    int lvl[N_RULES];                           /* smallest deciding level, per rule */
    for (int b = 0; b < N_RULES; b++) lvl[b] = NS_QC_MAX_LEVELS;
    unsigned viol = 0;
    int n_current = 0, n_missing = 0;
    const int X = NS_QC_MAX_LEVELS;             /* index of the across-level streak */

    for (int i = 0; i < n; i++) {
        double z = obs[i].z;
        int lv = obs[i].level, cur = obs[i].current;
        n_current += cur;
        if (isnan(z)) { n_missing += cur; continue; }

        int r22 = streak_push(&s22[lv], z, 2.0, 2);
        int r41 = streak_push(&s41[lv], z, 1.0, 4);
        int x41 = streak_push(&s41[X], z, 1.0, 4);
        int r10 = streak_push(&s10[lv], z, 0.0, 10);
        int x10 = streak_push(&s10[X], z, 0.0, 10);
        if (!cur) continue;                     /* history only feeds the streaks */

        if (fabs(z) > 2.0) hit(&viol, lvl, B_1_2S, lv);
        if (fabs(z) > 3.0) hit(&viol, lvl, B_1_3S, lv);
        if (r22) hit(&viol, lvl, B_2_2S, lv);                       /* 2-2s (b) */
        if (r41) hit(&viol, lvl, B_4_1S, lv);
        if (x41) hit(&viol, lvl, B_4_1S, -1);
        if (r10) hit(&viol, lvl, B_10X, lv);
        if (x10) hit(&viol, lvl, B_10X, -1);

        /* pairs within the run: 2-2s (a) and R-4s.  Each pair is seen when its later
         * member arrives; it is of one level if an earlier partner shares this level. */
        if (z > 2.0) {
            if (n_hi2 > 0) hit(&viol, lvl, B_2_2S, cur_hi2[lv] > 0 ? lv : -1);
            if (n_lo2 > 0) hit(&viol, lvl, B_R_4S, cur_lo2[lv] > 0 ? lv : -1);
            n_hi2++;
            cur_hi2[lv]++;
        } else if (z < -2.0) {
            if (n_lo2 > 0) hit(&viol, lvl, B_2_2S, cur_lo2[lv] > 0 ? lv : -1);
            if (n_hi2 > 0) hit(&viol, lvl, B_R_4S, cur_hi2[lv] > 0 ? lv : -1);
            n_lo2++;
            cur_lo2[lv]++;
        }
    }

    static const int priority[N_RULES] = { B_1_3S, B_R_4S, B_2_2S, B_4_1S, B_10X, B_1_2S };
    viol &= rules_on;
    res->violated = viol;
    res->first_rule = -1;
    res->level = -1;
    for (int k = 0; k < N_RULES; k++) {
        int b = priority[k];
        if (viol & (1u << b)) {
            res->first_rule = b;
            res->level = lvl[b] < NS_QC_MAX_LEVELS ? lvl[b] : -1;
            break;
        }
    }
    for (int b = 0; b < N_RULES; b++)
        res->rule_level[b] = (viol & (1u << b)) && lvl[b] < NS_QC_MAX_LEVELS ? lvl[b] : -1;
    res->n_current = n_current;
    res->n_missing = n_missing;
    return 0;
}

const char *ns_westgard_rule_name(int bit)
{
    static const char *const names[N_RULES] = { "1-2s", "1-3s", "2-2s", "R-4s", "4-1s", "10-x" };
    return bit >= 0 && bit < N_RULES ? names[bit] : NULL;
}
