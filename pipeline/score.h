/* score.h — run the kernels over a batch and decide each well's final state.
 *
 * Order: ratio columns, then one flag column per (condition, marker) slot, then one call
 * column per condition (cutoff call, then the TPN rule, then the condition score below),
 * then the state of every row:
 *   control     qc_low / qc_high / blank wells
 *   unmatched   patient well with no manifest row (cannot be reported; listed in summary)
 *   recall      any condition borderline, positive or critical
 *   invalid     no condition above, but some condition indeterminate (missing marker)
 *   negative    everything else
 * Each step writes only its own row, so the result is the same for any thread count.
 *
 * CONDITION SCORE (in the spirit of R4S/CLIR, DOMAIN.md §3.1)
 *
 * A condition with a `score:` block combines its markers into one number that says how
 * far into the condition's disease range the pattern as a whole lies, adjusted for the
 * baby's covariates through the population group it is compared with.  Inputs, per
 * marker m of the condition that has `disease: {median: D}`:
 *   x   the row's value (skipped when missing, censored ("<x", or a ratio over one) or <= 0)
 *   g   the population group (panel `population:`): the first panel stratum (panel strata
 *       order) the row belongs to that has an entry for m, else `standard` if m has one,
 *       else `all`
 *   M   the median of g;  L = the normal limit of g: its upper percentile for a high
 *       marker, its lower one for a low marker;  D = the disease median
 * Position of the value, on a piecewise log scale (the same formula for high and low
 * markers: their logs change sign together):
 *       u = log(x/M) / log(L/M)          x on the normal side of L   (0 at M, 1 at L)
 *       u = 1 + log(x/L) / log(D/L)      x beyond L                  (2 at D)
 *   clamped to [NS_SCORE_LO, NS_SCORE_HI] = [-1, 3], so that one wild value cannot carry a
 *   condition alone.
 * Combined score S = sum(w_m * u_m) / sum(w_m) over the markers used (w_m = the marker's
 * `weight:`, default 1 primary, 0.5 secondary).  S is NAN (no score) unless a primary
 * marker with a weight above 0 was used.  S never decreases when one marker moves further
 * in its abnormal direction.
 * Band: S < possible: not_informative;  possible <= S < likely: possible;  S >= likely:
 * likely (`score: {possible, likely}`).
 *
 * Then the call, by `score: {call_by}`:
 *   cutoff  the cutoff call stands; the score is only reported
 *   both    a borderline or positive cutoff call stands only when the band is possible or
 *           likely; with not_informative it becomes negative (call_note NS_NOTE_SCORE)
 *   score   the band decides: likely -> positive, possible -> borderline,
 *           not_informative -> negative (NS_NOTE_SCORE when that changes the call); a call
 *           lowered by the TPN rule is never raised by the score
 * In every mode a critical call and an indeterminate one stand, and so does the cutoff call
 * when there is no score.  Only patient wells are scored.
 */
#ifndef NS_SCORE_H
#define NS_SCORE_H

#include "batch.h"

/* Version of the scoring rules.  Written into every archive (root attribute
 * scoring_version): `rescore` keeps an archive's stored calls for a condition whose panel
 * text did not change only when the archive was scored by the same rules.  Increase it
 * with any change to this module, the kernels or the panel loader that can change a call,
 * a score or a state for the same panel and values. */
#define NS_SCORING_VERSION 1

/* Allocate and fill b->ratio, b->flag, b->call and b->state, and b->score, b->band and
 * b->mom when some condition has a score block (else they stay NULL).  A panel with score
 * blocks but no population is reported (once) and its calls are the cutoff calls.
 *
 * With b->given_col set, a condition c with given_col[c] >= 0 takes its calls from
 * b->given_call (no flags, call rule, TPN rule or score are computed for it, its call_note
 * stays 0, its flag columns unwritten), and only the analytes and ratios that the other
 * conditions use are read (ns_score_needs); with b->spec_given, b->spec and b->strata are
 * taken as they are instead of computed from the manifest rows.  States use every call.
 * Returns 0, -1 on a kernel argument error (a bug, reported). */
int ns_batch_score(ns_batch_t *b);

/* What scoring reads when the conditions with given_col[c] >= 0 (NULL: none) are given:
 * need_analyte[a] (p->n_analytes) and need_ratio[r] (p->n_ratios) set to 1 for the values
 * the other conditions' markers use, directly or through a ratio, else 0. */
void ns_score_needs(const ns_panel_t *p, const int *given_col, uint8_t *need_analyte,
                    uint8_t *need_ratio);

/* The limits marker mk applies to row i: its first override (in the panel's strata order)
 * for a stratum the row belongs to, else its base limits.  Needs b->strata. */
const ns_threshold_t *ns_marker_threshold(const ns_batch_t *b, const ns_marker_t *mk, int64_t i);

/* Position u of value x of one marker (formula above), clamped to [-1, 3].
 * @param x        the value (> 0)
 * @param median   M, the population group's median (> 0)
 * @param limit    L, its normal limit: upper (high marker, L > M) or lower (low, 0 < L < M)
 * @param disease  D, the disease median, beyond L (high: D > L; low: D < L)
 * @return u, or NAN when any argument is not > 0 or L == M or D == L.  Pure. */
double ns_score_position(double x, double median, double limit, double disease);

/* Combined score of n markers: sum(w[k] * u[k]) / sum(w[k]) over k with u[k] not NAN.
 * @param primary  1 for a primary marker
 * @return the score, or NAN when no primary marker with w > 0 has a u.  Pure. */
double ns_score_combine(const double *u, const double *w, const uint8_t *primary, int n);

/* Band (NS_BAND_*) of score s: NS_BAND_NONE when s is NAN. */
int ns_score_band(double s, double possible, double likely);

/* The call after the score rule (see above).
 * @param call      the call so far (NS_CALL_*)
 * @param band      NS_BAND_* of the row's score
 * @param call_by   NS_CALL_BY_*
 * @param tpn_held  the call was lowered by the TPN rule (NS_NOTE_TPN)
 * @return the new call (NS_CALL_*). */
int ns_score_call(int call, int band, int call_by, int tpn_held);

/* Population group (NS_POP_*) that row strata bits `strata` use for marker m (rule above),
 * or -1 when the panel's population has no entry for m. */
int ns_pop_group(const ns_panel_t *p, int m, uint32_t strata);

#endif
