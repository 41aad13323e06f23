/* westgard.h — Westgard multirule QC over one analyte's control series.
 *
 * Why: a screening lab may not release a plate whose controls failed.  Control materials
 * (qc_low, qc_high, ...) run on every plate; each result becomes a z-score against the
 * lot's target mean and SD, and a set of control rules decides whether tonight's plate is
 * accepted, carries a warning, or is rejected.  This kernel applies those rules to one
 * analyte at a time; the pipeline owns the plate map, the lot targets and the history.
 *
 * Rules (Westgard JO, Barry PL, Hunt MR, Groth T. A multi-rule Shewhart chart for quality
 * control in clinical chemistry. Clin Chem 1981;27:493-501; westgard.com "Westgard
 * Rules"; DOMAIN.md §5.1).  "Beyond" is strict: |z| == 2.0 is not beyond 2 SD.
 *
 *   1-2s  a current observation with |z| > 2                         warning only
 *   1-3s  a current observation with |z| > 3                         random error
 *   2-2s  two observations beyond the same 2 SD limit (both > +2 or both < -2):
 *           (a) any two current observations (across levels within the run), or
 *           (b) two consecutive observations of one level, the later current
 *               (same level across runs)                             systematic error
 *   R-4s  within the current run only: one current observation > +2 and another
 *         current observation < -2 (the counting form of the rule, not "range > 4 SD";
 *         never across runs, as Westgard advises)                    random error
 *   4-1s  four consecutive observations beyond the same 1 SD limit, within one level
 *         or across levels (the interleaved series)                  systematic error
 *   10-x  ten consecutive observations on the same side of the mean (z > 0 all, or
 *         z < 0 all; z == 0 breaks the run), within one level or across levels
 *                                                                    systematic error
 *
 * Only tonight counts.  A rule is violated for the current run only when the window of
 * observations that violates it contains at least one current observation: a shift that
 * was already judged (and rejected) on an earlier night does not reject tonight's plate
 * again.  Because the current run's observations are the last of the series, such a
 * window always ends at a current observation.
 *
 * All rules are evaluated every time: 1-2s is reported as a warning but is not used as a
 * gate before the other rules (computer QC, as Westgard recommends for software; the
 * manual "1-2s then inspect" scheme is not reproduced).  A 1-3s violation also sets the
 * 1-2s bit, since |z| > 3 implies |z| > 2.
 *
 * Missing controls.  An observation whose z is NAN (value missing, or no target for the
 * lot) is skipped by every rule: it neither counts towards nor breaks a "consecutive"
 * window, so four observations beyond +1 SD with a missing one between them still make
 * a 4-1s.  This is a choice: a missing control tells nothing about the method, and
 * letting it break a run would let a lost well hide a drift.  Missing current
 * observations are counted (n_missing) so that the pipeline can decide what a plate
 * with missing controls means; this kernel does not decide it, and a run whose current
 * observations are all missing reports no violation.  Infinite z counts as present.
 *
 * Neonatal screening context: CLSI NBS04 (2nd ed., 2017) requires control acceptance
 * criteria for multianalyte MS/MS runs but its numeric limits are not public; the rule
 * set above is the general clinical-chemistry multirule, applied per analyte and level.
 *
 * Pure: no I/O, no allocation, no global state; a single pass over the series with a
 * few counters per level on the stack.  Not OpenMP-parallel inside: a series is tens of
 * observations, so the caller parallelizes over analytes (one call per analyte, each
 * writing its own result), which keeps the output independent of the thread count.
 */
#ifndef NS_WESTGARD_H
#define NS_WESTGARD_H

#include <stdint.h>

/* Number of distinct control levels a series may hold (level = 0 .. NS_QC_MAX_LEVELS-1). */
#define NS_QC_MAX_LEVELS 8

/* One control observation of one analyte.
 * A series is given oldest first, in run order, and the current run's observations come
 * last (every current == 1 after every current == 0); ns_westgard_eval() rejects a series
 * that breaks this.  Within one run, give the observations in plate order: the order
 * matters only to the consecutive-window rules (2-2s (b), 4-1s, 10-x). */
typedef struct {
    double z;           /* (value - target mean) / target SD of the lot; NAN = missing */
    uint8_t level;      /* control level: 0 = qc_low, 1 = qc_high, ... < NS_QC_MAX_LEVELS */
    uint8_t current;    /* 1 = belongs to the run (plate) being judged, 0 = history */
} ns_qc_obs_t;

/* Rule bits, for rules_on and ns_wg_result_t.violated.  Bit index b of a rule is what
 * first_rule and ns_westgard_rule_name() use: the bit is (1u << b). */
enum {
    NS_WG_1_2S = 1u << 0,   /* bit 0: warning */
    NS_WG_1_3S = 1u << 1,   /* bit 1: reject, random error */
    NS_WG_2_2S = 1u << 2,   /* bit 2: reject, systematic error */
    NS_WG_R_4S = 1u << 3,   /* bit 3: reject, random error */
    NS_WG_4_1S = 1u << 4,   /* bit 4: reject, systematic error */
    NS_WG_10X  = 1u << 5,   /* bit 5: reject, systematic error */
    NS_WG_ALL  = 0x3f       /* every rule above */
};

/* Rules whose violation only warns, and rules whose violation rejects the run.  A plate
 * is rejected if (violated & NS_WG_REJECT_RULES), else warned if (violated &
 * NS_WG_WARNING_RULES), else accepted (subject to the pipeline's missing-control policy). */
#define NS_WG_WARNING_RULES ((unsigned)NS_WG_1_2S)
#define NS_WG_REJECT_RULES  ((unsigned)NS_WG_ALL & ~(unsigned)NS_WG_1_2S)

/* Outcome for one analyte's series.  Every field is written on success. */
typedef struct {
    unsigned violated;  /* NS_WG_* bits of the enabled rules violated by a window holding
                         * at least one current observation; 0 = none */
    int first_rule;     /* bit index of the most serious violated rule, in the order
                         * 1-3s, R-4s, 2-2s, 4-1s, 10-x, 1-2s; -1 if violated == 0 */
    int level;          /* the control level that decided first_rule: the smallest level
                         * with a violating window made of that level's observations only
                         * (1-3s and 1-2s: the level of the offending observation; R-4s
                         * and 2-2s(a): both observations of that level).  -1 if only
                         * windows spanning several levels violate it, or if none does */
    int rule_level[6];  /* per rule bit index: the level that decided that rule, chosen as
                         * for level; -1 if the rule is not violated or only windows
                         * spanning several levels violate it.  Lets a caller that ranks
                         * rules differently (warning vs reject) name the right level */
    int n_current;      /* number of current observations, present or missing */
    int n_missing;      /* number of current observations whose z is NAN (history
                         * observations that are missing are skipped, not counted) */
} ns_wg_result_t;

/* ns_westgard_eval: apply the enabled rules to one analyte's control series.
 * @param obs       the series, length n, oldest first, current run last (see
 *                  ns_qc_obs_t); may be NULL only when n == 0
 * @param n         number of observations, >= 0 (n == 0, or no current observation,
 *                  gives no violation)
 * @param rules_on  NS_WG_* bits of the rules to apply (0 = none; NS_WG_ALL = all);
 *                  a disabled rule is never reported and never decides first_rule
 * @param res       caller-owned, receives the outcome
 * @return 0 on success; -1 if res is NULL, n < 0, obs is NULL with n > 0, rules_on has
 *         bits outside NS_WG_ALL, an observation has level >= NS_QC_MAX_LEVELS or
 *         current > 1, or a history observation follows a current one.  On -1, *res is
 *         left unchanged.  Pure: no I/O, no allocation, no global state. */
int ns_westgard_eval(const ns_qc_obs_t *obs, int n, unsigned rules_on, ns_wg_result_t *res);

/* ns_westgard_eval_runs: the runs of one series judged in one pass, as ns_westgard_eval
 * would judge each.  Run r is obs[lo[r] .. hi[r]); res[r] receives what
 * ns_westgard_eval gives on obs[from .. hi[r]) with from = max(0, lo[r] - back) and
 * exactly that run's observations current (the obs' own current fields are ignored).
 * Runs are in series order and do not overlap (lo[r] >= hi[r - 1]); observations outside
 * every run are history.  Each call of ns_westgard_eval walks its window again; this
 * walks the series once, since a window's streak is the series' streak cut to the
 * present observations in the window (plate QC judges ten thousand plates a night, 48
 * observations back for each).
 * @return 0; -1 (res untouched) on n < 0, n_runs < 0, back < 0, NULL arrays with
 *         n or n_runs > 0, rules_on outside NS_WG_ALL, a level >= NS_QC_MAX_LEVELS, or
 *         runs out of order, overlapping or outside [0, n). */
int ns_westgard_eval_runs(const ns_qc_obs_t *obs, int64_t n, const int64_t *lo, const int64_t *hi,
                          int64_t n_runs, int64_t back, unsigned rules_on, ns_wg_result_t *res);

/* ns_westgard_rule_name: the conventional name of rule bit index bit (0..5): "1-2s",
 * "1-3s", "2-2s", "R-4s", "4-1s", "10-x" — the spelling used in plate status reasons
 * ("1-3s C3 qc_high").  @return a static string, or NULL if bit is out of range. */
const char *ns_westgard_rule_name(int bit);

#endif
