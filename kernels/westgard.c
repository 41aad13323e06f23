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
#include <string.h>
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

/* The judgement of one run, built one current observation at a time. */
typedef struct {
    int cur_hi2[NS_QC_MAX_LEVELS], cur_lo2[NS_QC_MAX_LEVELS];
    int n_hi2, n_lo2;                           /* current observations beyond +-2 SD */
    int lvl[N_RULES];                           /* smallest deciding level, per rule */
    unsigned viol;
    int n_current, n_missing;
} run_t;

static void run_start(run_t *r)
{
    memset(r, 0, sizeof *r);
    for (int b = 0; b < N_RULES; b++) r->lvl[b] = NS_QC_MAX_LEVELS;
}

/* A present current observation z of level lv; r22 .. x10: whether the streaks that end
 * at it (of its level, and across levels) reach 2-2s (b), 4-1s and 10-x. */
static void run_observe(run_t *r, double z, int lv, int r22, int r41, int x41, int r10, int x10)
{
    if (fabs(z) > 2.0) hit(&r->viol, r->lvl, B_1_2S, lv);
    if (fabs(z) > 3.0) hit(&r->viol, r->lvl, B_1_3S, lv);
    if (r22) hit(&r->viol, r->lvl, B_2_2S, lv);                       /* 2-2s (b) */
    if (r41) hit(&r->viol, r->lvl, B_4_1S, lv);
    if (x41) hit(&r->viol, r->lvl, B_4_1S, -1);
    if (r10) hit(&r->viol, r->lvl, B_10X, lv);
    if (x10) hit(&r->viol, r->lvl, B_10X, -1);

    /* pairs within the run: 2-2s (a) and R-4s.  Each pair is seen when its later member
     * arrives; it is of one level if an earlier partner shares this level. */
    if (z > 2.0) {
        if (r->n_hi2 > 0) hit(&r->viol, r->lvl, B_2_2S, r->cur_hi2[lv] > 0 ? lv : -1);
        if (r->n_lo2 > 0) hit(&r->viol, r->lvl, B_R_4S, r->cur_lo2[lv] > 0 ? lv : -1);
        r->n_hi2++;
        r->cur_hi2[lv]++;
    } else if (z < -2.0) {
        if (r->n_lo2 > 0) hit(&r->viol, r->lvl, B_2_2S, r->cur_lo2[lv] > 0 ? lv : -1);
        if (r->n_hi2 > 0) hit(&r->viol, r->lvl, B_R_4S, r->cur_hi2[lv] > 0 ? lv : -1);
        r->n_lo2++;
        r->cur_lo2[lv]++;
    }
}

static void run_finish(const run_t *r, unsigned rules_on, ns_wg_result_t *res)
{
    static const int priority[N_RULES] = { B_1_3S, B_R_4S, B_2_2S, B_4_1S, B_10X, B_1_2S };
    const unsigned viol = r->viol & rules_on;
    res->violated = viol;
    res->first_rule = -1;
    res->level = -1;
    for (int k = 0; k < N_RULES; k++) {
        int b = priority[k];
        if (viol & (1u << b)) {
            res->first_rule = b;
            res->level = r->lvl[b] < NS_QC_MAX_LEVELS ? r->lvl[b] : -1;
            break;
        }
    }
    for (int b = 0; b < N_RULES; b++)
        res->rule_level[b] = (viol & (1u << b)) && r->lvl[b] < NS_QC_MAX_LEVELS ? r->lvl[b] : -1;
    res->n_current = r->n_current;
    res->n_missing = r->n_missing;
}

int ns_westgard_eval(const ns_qc_obs_t *obs, int n, unsigned rules_on, ns_wg_result_t *res)
{
    if (check_args(obs, n, rules_on, res) != 0) return -1;

    /* streaks: [level] within one level, [NS_QC_MAX_LEVELS] across levels */
    streak_t s22[NS_QC_MAX_LEVELS] = { { 0, 0 } };
    streak_t s41[NS_QC_MAX_LEVELS + 1] = { { 0, 0 } };
    streak_t s10[NS_QC_MAX_LEVELS + 1] = { { 0, 0 } };
    const int X = NS_QC_MAX_LEVELS;             /* index of the across-level streak */
    run_t run;
    run_start(&run);

    for (int i = 0; i < n; i++) {
        double z = obs[i].z;
        int lv = obs[i].level, cur = obs[i].current;
        run.n_current += cur;
        if (isnan(z)) { run.n_missing += cur; continue; }

        int r22 = streak_push(&s22[lv], z, 2.0, 2);
        int r41 = streak_push(&s41[lv], z, 1.0, 4);
        int x41 = streak_push(&s41[X], z, 1.0, 4);
        int r10 = streak_push(&s10[lv], z, 0.0, 10);
        int x10 = streak_push(&s10[X], z, 0.0, 10);
        if (cur) run_observe(&run, z, lv, r22, r41, x41, r10, x10);   /* history only feeds the streaks */
    }
    run_finish(&run, rules_on, res);
    return 0;
}

int ns_westgard_eval_runs(const ns_qc_obs_t *obs, int64_t n, const int64_t *lo, const int64_t *hi,
                          int64_t n_runs, int64_t back, unsigned rules_on, ns_wg_result_t *res)
{
    if (n < 0 || (n > 0 && !obs) || n_runs < 0 || (n_runs > 0 && (!lo || !hi || !res)) || back < 0
        || (rules_on & ~(unsigned)NS_WG_ALL))
        return -1;
    for (int64_t i = 0; i < n; i++)
        if (obs[i].level >= NS_QC_MAX_LEVELS) return -1;
    for (int64_t r = 0; r < n_runs; r++)
        if (lo[r] < 0 || lo[r] > hi[r] || hi[r] > n || (r > 0 && lo[r] < hi[r - 1])) return -1;

    /* The streaks of the whole series, and the present observations counted by level
     * ([X]: all levels) up to the lead (i) and up to the window's start (t).  A window's
     * streak is the whole streak cut to the present observations in the window, so a
     * streak reaches k in the window iff it reaches k and the window holds k of them. */
    streak_t s22[NS_QC_MAX_LEVELS] = { { 0, 0 } };
    streak_t s41[NS_QC_MAX_LEVELS + 1] = { { 0, 0 } };
    streak_t s10[NS_QC_MAX_LEVELS + 1] = { { 0, 0 } };
    int64_t led[NS_QC_MAX_LEVELS + 1] = { 0 }, trail[NS_QC_MAX_LEVELS + 1] = { 0 };
    const int X = NS_QC_MAX_LEVELS;
    int64_t i = 0, t = 0;
    for (int64_t r = 0; r < n_runs; r++) {
        const int64_t from = lo[r] > back ? lo[r] - back : 0;
        for (; t < from; t++)
            if (!isnan(obs[t].z)) { trail[obs[t].level]++; trail[X]++; }
        run_t run;
        run_start(&run);
        for (; i < hi[r]; i++) {
            const double z = obs[i].z;
            const int lv = obs[i].level, cur = i >= lo[r];
            run.n_current += cur;
            if (isnan(z)) { run.n_missing += cur; continue; }
            const int r22 = streak_push(&s22[lv], z, 2.0, 2);
            const int r41 = streak_push(&s41[lv], z, 1.0, 4);
            const int x41 = streak_push(&s41[X], z, 1.0, 4);
            const int r10 = streak_push(&s10[lv], z, 0.0, 10);
            const int x10 = streak_push(&s10[X], z, 0.0, 10);
            led[lv]++;
            led[X]++;
            if (!cur) continue;
            const int64_t in_lv = led[lv] - trail[lv], in_x = led[X] - trail[X];
            run_observe(&run, z, lv, r22 && in_lv >= 2, r41 && in_lv >= 4, x41 && in_x >= 4,
                        r10 && in_lv >= 10, x10 && in_x >= 10);
        }
        run_finish(&run, rules_on, &res[r]);
    }
    return 0;
}

const char *ns_westgard_rule_name(int bit)
{
    static const char *const names[N_RULES] = { "1-2s", "1-3s", "2-2s", "R-4s", "4-1s", "10-x" };
    return bit >= 0 && bit < N_RULES ? names[bit] : NULL;
}
