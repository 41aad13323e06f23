/* recall.h — the recall list: one row per infant who needs action, for the follow-up team.
 *
 * Every patient well in state recall or invalid_specimen contributes; wells of the same
 * infant (an initial and a repeat card on the same night) are merged into one row whose
 * priority is the most urgent of them and whose action is a referral if any is.  Rows are
 * sorted by priority (critical, urgent, routine) and then by infant_id, byte-wise: no
 * thread, locale or hash order can change the file.
 *
 * Per well: a critical call gives priority critical and a referral; a positive call gives
 * the condition's own priority and action; a borderline call gives routine and a repeat
 * specimen; an invalid specimen (needed marker missing) gives routine and a repeat
 * specimen.
 *
 * The file holds names and phone numbers: it is created 0600 and written atomically.
 */
#ifndef NS_RECALL_H
#define NS_RECALL_H

#include "batch.h"
#include "followup.h"

typedef struct {
    int64_t n_infants;
    int64_t by_prio[NS_PRIO_N];
    int64_t by_action[NS_ACT_N];
} ns_recall_stats_t;

/* Write DIR-less path (e.g. "out/recall-list.csv").  Returns 0, or -1 after reporting. */
int ns_recall_write(const char *path, const ns_batch_t *b, ns_recall_stats_t *st);

/* The MS/MS findings of every patient well in state recall or invalid_specimen, in batch
 * row order; per well: each condition that is not negative (panel order) with its TPN note
 * and marker reasons, then the card's specimen findings.  Reason keys (configs/lang.yaml
 * "reason.<key>") and their arguments:
 *   marker          cond marker value op limit_kind limit cutoff fold   (beyond the cutoff)
 *   marker_limit    the same, for a borderline or critical limit
 *   marker_missing  cond marker;  marker_censored  cond marker bound value
 *   tpn_repeat      cond
 *   score           cond score band   (a condition with a score, score.h: the combined
 *                   score "%.2f" and "@band.<not_informative|possible|likely>"; after
 *                   that condition's marker reasons)
 *   spec_early  lead age min;  spec_late  lead age max;  spec_no_age, spec_no_bw,
 *   spec_no_ga, spec_transfusion, spec_tpn  lead  (lead "invalid" or "caveat": the text
 *                   is wrapped in reason.spec_lead_<lead>)
 *   card_unreadable (a card on the list with no other actionable reason; a safety net)
 * An argument value "@key" names a translation (limit.cutoff, lead.specimen, ...).
 * Deadlines: the panel's followup.due_days_of_life for the finding's priority. */
void ns_msms_findings(const ns_batch_t *b, ns_findings_t *out);

#endif
