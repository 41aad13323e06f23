/* ledger_cases.h — a night into the follow-up ledger: cases open themselves from the
 * recall list, repeat cards close or escalate them (issue 9, points 2 and 3).
 *
 * ns_ledger_record_night() is the one call `run` makes, after the recall list is prepared.
 * In one write transaction it:
 *
 *   1. records the night as a batch, keyed by the sha-256 of the night's name, the
 *      manifest's sha-256 and every plate's sha-256 (in file order).  A night already in
 *      the ledger adds nothing (re-running a night, with the same or another panel, never
 *      duplicates a case); the result says so.  A night run again with other inputs (a
 *      quarantined plate re-exported, a manifest corrected) is a new batch of the same
 *      night name: it opens cases only for babies that no earlier run of that night name
 *      opened, links only repeat cards no earlier run linked or flagged, and its card
 *      counts replace the earlier run's in the indicators (ledger_stats.h); collection to
 *      report is counted to the first run's report time (the night's report went out
 *      then; a card first reported by the later run is counted as if reported then too).
 *   2. links every repeat card (manifest specimen "repeat", a reportable well: not on QC
 *      hold, not unmatched) to the open cases of its infant that carry an MS/MS finding and
 *      were opened by an earlier batch.  For each such case, against the panel conditions
 *      that opened it:
 *        - the card is invalid_specimen, or a condition that opened the case cannot be
 *          called on it (indeterminate, or not a condition of tonight's panel)
 *                                         -> event repeat_unsatisfactory (stays open);
 *        - a condition that opened the case is still called (borderline, positive,
 *          critical)                     -> event escalated: action referral, priority
 *          raised one step (routine -> urgent -> critical), due by the report's day;
 *        - every condition that opened it is negative (or it opened on an unreadable card
 *          only)                          -> event cleared_on_repeat (closes the case).
 *      A repeat card with no such case is recorded in orphan_repeats and returned in
 *      orphan_sids: flagged, never dropped.
 *   3. opens one case per row of the recall list (UNIQUE(batch, infant)): infant, cards,
 *      hospital and contact (the ledger is 0600), priority, action, due_by, the conditions
 *      and markers that opened it, the findings as JSON, and an `opened` event.  A row
 *      whose MS/MS findings all come from repeat cards linked in step 2, with no condition
 *      beyond those of the cases they were linked to, opens no new case (the escalation or
 *      the unsatisfactory-repeat event already records it).
 *   4. stores the night's card counts and collection-to-report hours (for the indicators).
 *
 * Report time ("now") is ns_ledger_now() (NS_NOW in tests).  The night's date is its name
 * when that is a date (YYYY-MM-DD), else the report's day.
 */
#ifndef NS_LEDGER_CASES_H
#define NS_LEDGER_CASES_H

#include <stdint.h>
#include "batch.h"
#include "followup.h"
#include "json.h"
#include "ledger.h"

typedef struct {
    char batch_key[65];
    int64_t batch_id;
    int already;                 /* the night was in the ledger before: nothing added */
    int64_t earlier_runs;        /* other batches of the same night name (other inputs) */
    int64_t cases_opened, screen_positive;
    int64_t repeats_linked, cleared, escalated, unsatisfactory;
    char **orphan_sids;          /* repeat cards without an open case (sample_ids) */
    int64_t n_orphans;
} ns_ledger_night_t;

/* Record night b (its recall list l, findings fs) in the ledger at path (created if
 * missing).  @return 0, or -1 with "PATH: why" in err (nothing recorded: the transaction
 * is rolled back). */
int ns_ledger_record_night(const char *path, const ns_batch_t *b, const ns_findings_t *fs,
                           const ns_fu_list_t *l, ns_ledger_night_t *res, char *err, size_t errlen);
void ns_ledger_night_free(ns_ledger_night_t *res);

/* The batch key of night b (see above), 64 hex digits. */
void ns_ledger_batch_key(const ns_batch_t *b, char out[65]);

#endif

/* The "ledger" object of summary.json: path (null when disabled), status ("recorded",
 * "already_recorded", "failed", "disabled"), error, batch_key, the counts above, the
 * orphan repeat cards' sample_ids, and indicators_as_of: the time ("now") at which the
 * report's indicators were read from the ledger (NULL: they were not).  res may be NULL
 * (disabled or failed). */
void ns_ledger_night_summary(ns_json_t *j, const char *path, const ns_ledger_night_t *res, const char *error,
                             const char *indicators_as_of);

/* The ledger path of a run: given (--ledger), else $NEOSCREEN_LEDGER, else configured
 * (the panel's followup.ledger, NULL if it has none), else "<parent of out>/ledger.sqlite"
 * (beside the nights' output directories, where the archives are).  Caller frees. */
char *ns_ledger_run_path(const char *given, const char *configured, const char *out);
