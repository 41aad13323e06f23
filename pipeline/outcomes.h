/* outcomes.h — known outcomes: which babies had which condition confirmed.
 *
 * `rescore --outcomes` and `cutoffs derive --outcomes` read a CSV with a header holding a
 * `condition` column (a panel condition code, e.g. MCAD) and a `sample_id` and/or
 * `infant_id` column; other columns are ignored, so the simulator's truth.csv and the
 * follow-up ledger's export are both accepted as they are.  A case is a baby (or a card)
 * with a condition: it matches a card by its sample_id, and every card of the baby when the
 * row gives an infant_id (a repeat card of a confirmed case is that case too).  A row that
 * names a case already named is counted once (with a note).  Errors name
 * FILE:LINE:COL; a file with any bad row is refused whole (a known case silently dropped is
 * exactly what this file exists to prevent).
 */
#ifndef NS_OUTCOMES_H
#define NS_OUTCOMES_H

#include <stdint.h>

typedef struct {
    char *sample_id;         /* NULL when only the infant is named */
    char *infant_id;         /* NULL when only the card is named */
    char *code;              /* condition code */
    int line;
} ns_case_t;

typedef struct {
    char *path;
    ns_case_t *v;
    int64_t n;
    int64_t *by_sid, n_sid;  /* case indices with a sample_id, sorted by it */
    int64_t *by_iid, n_iid;  /* case indices with an infant_id, sorted by it */
} ns_outcomes_t;

/* Read path.  0, or -1 after reporting every problem under tag. */
int ns_outcomes_load(ns_outcomes_t *o, const char *path, const char *tag);
void ns_outcomes_free(ns_outcomes_t *o);

/* Indices of the distinct cases naming a card (its sample_id, or its infant's id), at most
 * max of them into out; returns how many. */
int ns_outcomes_match(const ns_outcomes_t *o, const char *sample_id, const char *infant_id,
                      int64_t *out, int max);

#endif
