/* rescore_plan.h — which conditions of a candidate panel can keep an archive's calls.
 *
 * A condition's calls on a card depend on its own entry under `conditions:`, on the rest of
 * the panel file except `panel:` (name, version, kit) and `followup:` (deadlines), on the
 * population fragment attached to the panel, if any, and on the scoring rules themselves
 * (NS_SCORING_VERSION, score.h) — never on another condition.  So when
 *   - the archive was scored by the same rules (its scoring_version attribute) and the
 *     same scoring code, built the same way (scoring_source: a digest of the kernels,
 *     score.c, the panel loader and their flags but the checkout's directory,
 *     scripts/gen-version.sh),
 *   - everything outside those keys is the same YAML in the candidate and in the archived
 *     panel (/config/panel_yaml), compared as parsed trees: comments, blank lines and
 *     indentation do not count, key order and quoting do,
 *   - and the condition's own entry is the same YAML, and for a condition with a score:
 *     block the same population fragment (or none on both sides),
 * its archived calls are exactly what the candidate would compute, and `rescore` keeps
 * them instead of reading that condition's values and computing them again.  Anything
 * else is recomputed: the plan errs only on the side of work.
 */
#ifndef NS_RESCORE_PLAN_H
#define NS_RESCORE_PLAN_H

#include "archive.h"
#include "panel.h"

/* Fill given_col[c] (cand->n_conds entries) with the archive's /calls column of candidate
 * condition c when its calls can be kept, else -1.  why (whysz bytes) receives, when no
 * condition can be kept, the reason in a few words ("the archive predates
 * scoring_version", "strata: differs"...), else "".
 * @return how many conditions are kept. */
int ns_rescore_plan(const ns_panel_t *cand, const ns_archive_t *a, int *given_col, char *why,
                    size_t whysz);

/* The plan of the last archive, kept to answer the next archive with the same inputs (the
 * scoring version and source, the panel text, the population fragment, the archived
 * conditions) without parsing both panels again: a decade of nights shares a few panel
 * versions.  Zero-initialise; one candidate panel per memo. */
typedef struct {
    int valid, kept;
    int64_t scoring_version, n_conds;
    char *scoring_source, *panel_yaml, *pop_sha256, **conds;
    int *given_col;
    char why[160];
} ns_rescore_memo_t;

/* ns_rescore_plan through memo m: the same results. */
int ns_rescore_plan_memo(ns_rescore_memo_t *m, const ns_panel_t *cand, const ns_archive_t *a, int *given_col,
                         char *why, size_t whysz);
void ns_rescore_memo_free(ns_rescore_memo_t *m);

#endif
