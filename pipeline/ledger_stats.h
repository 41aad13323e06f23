/* ledger_stats.h — the indicators a screening programme reports, from the ledger
 * (issue 9 point 5; `neoscreen followup stats`).
 *
 * Period: nights whose date (ledger_cases.h: the night's name when it is a date) lies in
 * [from, to], grouped by month ("2026-09"), quarter ("2026-Q3") or not at all ("all").  A
 * case belongs to the period of the night that opened it.  "Screen-positive case" (SP): a
 * case opened by at least one MS/MS finding naming a panel condition on a readable card
 * (borderline, positive or critical call); cases opened only for an unreadable card, or
 * only by hearing or gene findings, are not SP.  A condition of a case is a panel
 * condition code it was opened for (codes with ':' — hearing:, gene:, specimen: — are not
 * panel conditions).  Event-based indicators are evaluated as of `now` (ns_ledger_now()).
 *
 * Every indicator (NAME, for each period; per condition where marked [C]):
 *
 *   cards_screened        patient cards (wells) with a manifest row reported negative,
 *                         recall or invalid_specimen (not qc_hold, not unmatched); the
 *                         programme's denominator (DOMAIN.md §8.3 "screening rate" counts
 *                         valid screens / live births — live births are not known here: NF)
 *   initial_cards         of those, manifest specimen not "repeat" (first cards: babies)
 *   unsatisfactory_rate   invalid_specimen cards / cards_screened (DOMAIN.md §8.3
 *                         "unqualified-blood-spot %"; 2015 national median < 1 %, SW China
 *                         0.38 %, Zhejiang 0.06 %)
 *   screen_positive_rate  [C, and ALL] SP cases (naming C) / initial_cards (DOMAIN.md §4.1
 *                         "screen-positive / recall" column, §11 item 7: 0.2–0.6 %, up to
 *                         1.3–2.9 %)
 *   recall_completion_rate  SP cases whose recall was completed by now / SP cases:
 *                         completed = a repeat card came back (cleared_on_repeat, escalated
 *                         or repeat_unsatisfactory), a sample or visit was recorded
 *                         (sample_received), or a diagnosis was recorded (confirmed,
 *                         ruled_out) (DOMAIN.md §8.3 "召回率 of screen-positives": SW China
 *                         85.4 → 99.2 %, Ningxia 82.67 → 92.92 %)
 *   loss_to_follow_up_rate  SP cases whose current status is lost_to_follow_up / SP cases
 *                         (DOMAIN.md §8.3: national median < 1 %, SW China 0.08 %)
 *   median_days_collection_to_report  median over cards_screened of (report time − the
 *                         card's collection_time), each floored to the hour, in days; n =
 *                         cards with a collection time (DOMAIN.md §8.3 "pre-analytic TAT"
 *                         median 3–5 d, "report usually within 3 d"; §8.2 US goals)
 *   median_days_report_to_first_contact  median over SP cases with a contact event of
 *                         (first contact's time − the case's opening time), in days
 *                         (DOMAIN.md §8.2: time-critical results to the family at once;
 *                         Chinese statutory deadlines NF, §10)
 *   confirmed_cases       [C, and ALL] cases whose current status is confirmed:C
 *   ppv                   [C, and ALL] SP cases naming C with status confirmed:C / SP cases
 *                         naming C; ALL: SP cases confirmed (any condition) / SP cases
 *                         (DOMAIN.md §4.1 PPV column: 3.7–13.6 % in China; §11 item 8)
 *   incidence             [C, and ALL] confirmed_cases / initial_cards (DOMAIN.md §4.1:
 *                         1:3,795 national pilot, 1:1,178–1:5,800 regional)
 *   repeat_without_case   repeat cards that found no open case (flagged, not a rate)
 *
 * Card counts and collection-to-report hours of a night run more than once with other
 * inputs come from its latest run (the batch with the highest id of that night name);
 * cases are never duplicated across such runs (ledger_cases.h).
 *
 * A rate with denominator 0 has no value (empty in CSV, null in JSON).
 */
#ifndef NS_LEDGER_STATS_H
#define NS_LEDGER_STATS_H

#include <stdint.h>
#include <stdio.h>
#include "ledger.h"

typedef struct {
    char period[32];
    char indicator[48];
    char condition[40];     /* "" = not per condition; "ALL" = every condition */
    int64_t num, den;       /* -1 when the indicator is not a ratio */
    double value;           /* NAN = no value */
    int64_t n;              /* cases or cards behind a median, else -1 */
    const char *source;     /* DOMAIN.md section */
} ns_indicator_t;

typedef struct {
    ns_indicator_t *v;
    int64_t n, m;
} ns_indicators_t;

enum { NS_BY_MONTH = 0, NS_BY_QUARTER = 1, NS_BY_ALL = 2 };

/* Compute every indicator for nights in [from, to] (YYYY-MM-DD, inclusive) grouped by
 * `by`, as of now.  Periods in time order; within a period the order of the list above,
 * conditions sorted by code.  Every figure comes from one read transaction: its own, or
 * the caller's when one is open on l (several calls then see the same snapshot).
 * @return 0, or -1 with err. */
int ns_ledger_stats(ns_ledger_t *l, const char *from, const char *to, int by, const char *now,
                    ns_indicators_t *out, char *err, size_t errlen);
void ns_indicators_free(ns_indicators_t *v);

/* CSV: period,indicator,condition,numerator,denominator,value,n,source (values %.10g). */
void ns_indicators_csv(FILE *fp, const ns_indicators_t *v);
/* JSON: {"from","to","by","now","indicators":[{...}]}. */
void ns_indicators_json(FILE *fp, const ns_indicators_t *v, const char *from, const char *to, int by,
                        const char *now);

#endif
