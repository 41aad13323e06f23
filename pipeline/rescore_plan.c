/* rescore_plan.c — see rescore_plan.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rescore_plan.h"
#include "score.h"
#include "util.h"
#include "version.h"
#include "yaml_doc.h"

/* Top-level keys that cannot change a call, and the conditions compared one by one. */
static int skipped_key(const yaml_node_t *k)
{
    const char *s = ns_yaml_scalar(k);
    return s && (strcmp(s, "panel") == 0 || strcmp(s, "followup") == 0 || strcmp(s, "conditions") == 0);
}

/* The first pair at or after p (before end) whose key is not skipped. */
static const yaml_node_pair_t *next_kept(ns_yaml_t *Y, const yaml_node_pair_t *p, const yaml_node_pair_t *end)
{
    while (p < end && skipped_key(ns_yaml_node(Y, p->key))) p++;
    return p;
}

/* Compare everything outside the skipped keys: 1 equal; 0 and the first key that differs
 * (or is only on one side) in *key. */
static int rest_equal(ns_yaml_t *A, const yaml_node_t *ra, ns_yaml_t *B, const yaml_node_t *rb, const char **key)
{
    const yaml_node_pair_t *x = ra->data.mapping.pairs.start, *xe = ra->data.mapping.pairs.top;
    const yaml_node_pair_t *y = rb->data.mapping.pairs.start, *ye = rb->data.mapping.pairs.top;
    for (;;) {
        x = next_kept(A, x, xe);
        y = next_kept(B, y, ye);
        if (x == xe || y == ye) break;
        const yaml_node_t *kx = ns_yaml_node(A, x->key), *ky = ns_yaml_node(B, y->key);
        if (!ns_yaml_equal(A, kx, B, ky) || !ns_yaml_equal(A, ns_yaml_node(A, x->value), B, ns_yaml_node(B, y->value))) {
            *key = ns_yaml_scalar(kx) ? ns_yaml_scalar(kx) : "a top-level key";
            return 0;
        }
        x++;
        y++;
    }
    if (x != xe || y != ye) {
        const yaml_node_t *k = x != xe ? ns_yaml_node(A, x->key) : ns_yaml_node(B, y->key);
        *key = ns_yaml_scalar(k) ? ns_yaml_scalar(k) : "a top-level key";
        return 0;
    }
    return 1;
}

/* Value of key in mapping m, or NULL (no report: a missing key is only "not the same"). */
static yaml_node_t *lookup(ns_yaml_t *Y, const yaml_node_t *m, const char *key)
{
    if (!m || m->type != YAML_MAPPING_NODE) return NULL;
    for (const yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        const char *k = ns_yaml_scalar(ns_yaml_node(Y, p->key));
        if (k && strcmp(k, key) == 0) return ns_yaml_node(Y, p->value);
    }
    return NULL;
}

/* The entry of conditions list seq whose code is `code`, or NULL. */
static yaml_node_t *condition_entry(ns_yaml_t *Y, const yaml_node_t *seq, const char *code)
{
    if (!seq || seq->type != YAML_SEQUENCE_NODE) return NULL;
    for (const yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
        yaml_node_t *e = ns_yaml_node(Y, *it);
        const char *c = ns_yaml_scalar(lookup(Y, e, "code"));
        if (c && strcmp(c, code) == 0) return e;
    }
    return NULL;
}

int ns_rescore_plan(const ns_panel_t *cand, const ns_archive_t *a, int *given_col, char *why,
                    size_t whysz)
{
    for (int c = 0; c < cand->n_conds; c++) given_col[c] = -1;
    why[0] = 0;
    if (a->scoring_version != NS_SCORING_VERSION) {
        if (a->scoring_version < 0) snprintf(why, whysz, "the archive predates scoring_version");
        else snprintf(why, whysz, "the archive was scored by rules version %lld, this build has %d",
                      (long long)a->scoring_version, NS_SCORING_VERSION);
        return 0;
    }
    if (strcmp(a->scoring_source ? a->scoring_source : "", NS_SCORING_SOURCE) != 0) {
        snprintf(why, whysz, "the archive was scored by another build of the scoring code");
        return 0;
    }
    if (!cand->text || !a->panel_yaml) {
        snprintf(why, whysz, "no panel text to compare");
        return 0;
    }
    ns_panel_errs_t ea, eb;
    memset(&ea, 0, sizeof ea);
    memset(&eb, 0, sizeof eb);
    ns_yaml_t A, B;
    int ok_a = ns_yaml_parse(&A, cand->text, cand->text_len, &ea) == 0 && ea.n == 0;
    int ok_b = ns_yaml_parse(&B, a->panel_yaml, strlen(a->panel_yaml), &eb) == 0 && eb.n == 0;
    int kept = 0;
    yaml_node_t *ra = ok_a ? ns_yaml_root(&A) : NULL, *rb = ok_b ? ns_yaml_root(&B) : NULL;
    const char *key = NULL;
    if (!ra || !rb || ra->type != YAML_MAPPING_NODE || rb->type != YAML_MAPPING_NODE) {
        snprintf(why, whysz, "a panel text does not parse as a mapping");
    } else if (!rest_equal(&A, ra, &B, rb, &key)) {
        snprintf(why, whysz, "%.60s: differs", key);
    } else {
        /* a fragment moves scored conditions' calls: the same one, or none on both sides */
        const char *fa = cand->pop.text ? cand->pop.sha256 : NULL, *fb = a->pop_sha256;
        const int same_pop = (!fa && !fb) || (fa && fb && strcmp(fa, fb) == 0);
        yaml_node_t *sa = lookup(&A, ra, "conditions"), *sb = lookup(&B, rb, "conditions");
        for (int c = 0; c < cand->n_conds; c++) {
            const ns_condition_t *cd = &cand->conds[c];
            if (cd->score.present && !same_pop) continue;
            int col = -1;
            for (int64_t j = 0; j < a->n_conds && col < 0; j++)
                if (strcmp(a->conds[j], cd->code) == 0) col = (int)j;
            yaml_node_t *na = condition_entry(&A, sa, cd->code), *nb = condition_entry(&B, sb, cd->code);
            if (col < 0 || !na || !nb || !ns_yaml_equal(&A, na, &B, nb)) continue;
            given_col[c] = col;
            kept++;
        }
        if (!kept) snprintf(why, whysz, "every condition differs");
    }
    ns_yaml_done(&A);
    ns_yaml_done(&B);
    ns_panel_errs_free(&ea);
    ns_panel_errs_free(&eb);
    return kept;
}

static int same_str(const char *x, const char *y)
{
    return x == y || (x && y && strcmp(x, y) == 0);
}

/* Whether archive a's plan inputs are the memo's. */
static int memo_matches(const ns_rescore_memo_t *m, const ns_archive_t *a)
{
    if (!m->valid || m->scoring_version != a->scoring_version || m->n_conds != a->n_conds
        || !same_str(m->scoring_source, a->scoring_source) || !same_str(m->pop_sha256, a->pop_sha256)
        || !same_str(m->panel_yaml, a->panel_yaml))
        return 0;
    for (int64_t j = 0; j < a->n_conds; j++)
        if (!same_str(m->conds[j], a->conds[j])) return 0;
    return 1;
}

static char *dup_or_null(const char *s)
{
    return s ? ns_strdup(s) : NULL;
}

int ns_rescore_plan_memo(ns_rescore_memo_t *m, const ns_panel_t *cand, const ns_archive_t *a, int *given_col,
                         char *why, size_t whysz)
{
    if (memo_matches(m, a)) {
        memcpy(given_col, m->given_col, (size_t)cand->n_conds * sizeof *given_col);
        snprintf(why, whysz, "%s", m->why);
        return m->kept;
    }
    int kept = ns_rescore_plan(cand, a, given_col, why, whysz);
    ns_rescore_memo_free(m);
    m->scoring_version = a->scoring_version;
    m->n_conds = a->n_conds;
    m->scoring_source = dup_or_null(a->scoring_source);
    m->panel_yaml = dup_or_null(a->panel_yaml);
    m->pop_sha256 = dup_or_null(a->pop_sha256);
    m->conds = ns_calloc((size_t)a->n_conds + 1, sizeof *m->conds);
    for (int64_t j = 0; j < a->n_conds; j++) m->conds[j] = dup_or_null(a->conds[j]);
    m->given_col = ns_malloc(((size_t)cand->n_conds + 1) * sizeof *m->given_col);
    memcpy(m->given_col, given_col, (size_t)cand->n_conds * sizeof *given_col);
    snprintf(m->why, sizeof m->why, "%s", why);
    m->kept = kept;
    m->valid = 1;
    return kept;
}

void ns_rescore_memo_free(ns_rescore_memo_t *m)
{
    free(m->scoring_source);
    free(m->panel_yaml);
    free(m->pop_sha256);
    for (int64_t j = 0; m->conds && j < m->n_conds; j++) free(m->conds[j]);
    free(m->conds);
    free(m->given_col);
    memset(m, 0, sizeof *m);
}
