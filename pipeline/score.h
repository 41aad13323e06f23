/* score.h — run the kernels over a batch and decide each well's final state.
 *
 * Order: ratio columns, then one flag column per (condition, marker) slot, then one call
 * column per condition, then the state of every row:
 *   control     qc_low / qc_high / blank wells
 *   unmatched   patient well with no manifest row (cannot be reported; listed in summary)
 *   recall      any condition borderline, positive or critical
 *   invalid     no condition above, but some condition indeterminate (missing marker)
 *   negative    everything else
 * Each step writes only its own row, so the result is the same for any thread count.
 */
#ifndef NS_SCORE_H
#define NS_SCORE_H

#include "batch.h"

/* Allocate and fill b->ratio, b->flag, b->call and b->state.  Returns 0, -1 on a kernel
 * argument error (a bug, reported). */
int ns_batch_score(ns_batch_t *b);

/* The limits marker mk applies to row i: its first override (in the panel's strata order)
 * for a stratum the row belongs to, else its base limits.  Needs b->strata. */
const ns_threshold_t *ns_marker_threshold(const ns_batch_t *b, const ns_marker_t *mk, int64_t i);

#endif
