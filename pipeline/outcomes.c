/* outcomes.c — see outcomes.h. */
#include <stdlib.h>
#include <string.h>
#include "csv.h"
#include "ingest.h"
#include "log.h"
#include "outcomes.h"
#include "util.h"

static const ns_outcomes_t *sort_ctx;
static void drop_repeats(ns_outcomes_t *o, const char *tag);

static int cmp_sid(const void *pa, const void *pb)
{
    return strcmp(sort_ctx->v[*(const int64_t *)pa].sample_id, sort_ctx->v[*(const int64_t *)pb].sample_id);
}

static int cmp_iid(const void *pa, const void *pb)
{
    return strcmp(sort_ctx->v[*(const int64_t *)pa].infant_id, sort_ctx->v[*(const int64_t *)pb].infant_id);
}

int ns_outcomes_load(ns_outcomes_t *o, const char *path, const char *tag)
{
    memset(o, 0, sizeof *o);
    o->path = ns_strdup(path);
    char *text = NULL, *err = NULL, sha[65], enc[8];
    size_t len = 0;
    int64_t rows = 0;
    if (ns_ingest_read(path, &text, &len, sha, enc, &err, &rows) < 0) {
        ns_error(tag, "outcomes %s", err ? err : path);
        free(err);
        return -1;
    }
    ns_csv_t c;
    ns_csv_init(&c, text, len);
    int bad = 0, col_sid = -1, col_iid = -1, col_cond = -1, ncol = 0, rc;
    int64_t m = 0;
    if ((rc = ns_csv_next(&c)) <= 0) {
        if (rc < 0) ns_error(tag, "%s:%d:%d: %s", path, c.err_line, c.err_col, c.err);
        else ns_error(tag, "%s: empty file: expected a header with condition and sample_id or infant_id", path);
        bad = 1;
        goto out;
    }
    ncol = c.nf;
    for (int j = 0; j < c.nf; j++) {
        const char *h = c.f[j];
        int *slot = strcmp(h, "sample_id") == 0 ? &col_sid : strcmp(h, "infant_id") == 0 ? &col_iid
                  : strcmp(h, "condition") == 0 ? &col_cond : NULL;
        if (!slot) continue;
        if (*slot >= 0) {
            ns_error(tag, "%s:%d:%d: column %s given twice", path, c.fline[j], c.fcol[j], h);
            bad = 1;
        }
        *slot = j;
    }
    if (col_cond < 0 || (col_sid < 0 && col_iid < 0)) {
        ns_error(tag, "%s:%d:1: the header needs a condition column and a sample_id or infant_id column",
                 path, c.rec_line);
        bad = 1;
        goto out;
    }
    while ((rc = ns_csv_next(&c)) != 0) {
        if (rc < 0) {
            ns_error(tag, "%s:%d:%d: %s", path, c.err_line, c.err_col, c.err);
            bad = 1;
            continue;
        }
        if (c.nf != ncol) {
            ns_error(tag, "%s:%d:%d: %d fields, the header has %d", path, c.rec_line,
                     c.fcol[c.nf - 1], c.nf, ncol);
            bad = 1;
            continue;
        }
        const char *sid = col_sid >= 0 ? c.f[col_sid] : "", *iid = col_iid >= 0 ? c.f[col_iid] : "";
        const char *cond = c.f[col_cond];
        if (!*cond) {
            ns_error(tag, "%s:%d:%d: empty condition", path, c.fline[col_cond], c.fcol[col_cond]);
            bad = 1;
            continue;
        }
        if (!*sid && !*iid) {
            int j = col_sid >= 0 ? col_sid : col_iid;
            ns_error(tag, "%s:%d:%d: no sample_id or infant_id", path, c.fline[j], c.fcol[j]);
            bad = 1;
            continue;
        }
        if (o->n == m) {
            m = m ? 2 * m : 64;
            o->v = ns_realloc(o->v, (size_t)m * sizeof *o->v);
        }
        ns_case_t *k = &o->v[o->n++];
        k->sample_id = *sid ? ns_strdup(sid) : NULL;
        k->infant_id = *iid ? ns_strdup(iid) : NULL;
        k->code = ns_strdup(cond);
        k->line = c.rec_line;
    }
out:
    ns_csv_free(&c);
    free(text);
    if (bad) {
        ns_outcomes_free(o);
        return -1;
    }
    drop_repeats(o, tag);
    if (o->n == 0) ns_error(tag, "warning: %s names no case", path);
    o->by_sid = ns_calloc((size_t)o->n + 1, sizeof *o->by_sid);
    o->by_iid = ns_calloc((size_t)o->n + 1, sizeof *o->by_iid);
    for (int64_t k = 0; k < o->n; k++) {
        if (o->v[k].sample_id) o->by_sid[o->n_sid++] = k;
        if (o->v[k].infant_id) o->by_iid[o->n_iid++] = k;
    }
    sort_ctx = o;
    qsort(o->by_sid, (size_t)o->n_sid, sizeof *o->by_sid, cmp_sid);
    qsort(o->by_iid, (size_t)o->n_iid, sizeof *o->by_iid, cmp_iid);
    sort_ctx = NULL;
    return 0;
}

static int same(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* One case per baby (or card) and condition: a row repeating an earlier one, or naming by
 * infant_id alone a baby and condition another row already names, is dropped (counted, so
 * the note says how many).  Quadratic in the number of cases, which are few. */
static void drop_repeats(ns_outcomes_t *o, const char *tag)
{
    int64_t w = 0, dropped = 0;
    for (int64_t k = 0; k < o->n; k++) {
        ns_case_t *c = &o->v[k];
        int dup = 0;
        for (int64_t j = 0; j < o->n && !dup; j++) {
            if (j == k || !o->v[j].code) continue;
            const ns_case_t *d = &o->v[j];
            if (strcmp(c->code, d->code) != 0) continue;
            if (c->sample_id ? same(c->sample_id, d->sample_id) && (j < k)
                             : same(c->infant_id, d->infant_id) && (d->sample_id || j < k))
                dup = 1;
        }
        if (dup) {
            dropped++;
            free(c->sample_id);
            free(c->infant_id);
            free(c->code);
            c->code = NULL;          /* marks it gone for the rows after it */
            continue;
        }
    }
    for (int64_t k = 0; k < o->n; k++)
        if (o->v[k].code) o->v[w++] = o->v[k];
    o->n = w;
    if (dropped)
        ns_error(tag, "%s: %lld row%s naming a case already named (same card or baby, same condition): "
                 "counted once", o->path, (long long)dropped, dropped == 1 ? "" : "s");
}

void ns_outcomes_free(ns_outcomes_t *o)
{
    if (!o) return;
    for (int64_t k = 0; k < o->n; k++) {
        free(o->v[k].sample_id);
        free(o->v[k].infant_id);
        free(o->v[k].code);
    }
    free(o->v);
    free(o->by_sid);
    free(o->by_iid);
    free(o->path);
    memset(o, 0, sizeof *o);
}

/* First position in idx[0..n) whose key is >= s. */
static int64_t lower(const ns_outcomes_t *o, const int64_t *idx, int64_t n, const char *s, int sid)
{
    int64_t a = 0, b = n;
    while (a < b) {
        int64_t mid = a + (b - a) / 2;
        const ns_case_t *k = &o->v[idx[mid]];
        if (strcmp(sid ? k->sample_id : k->infant_id, s) < 0) a = mid + 1;
        else b = mid;
    }
    return a;
}

static int seen_case(const int64_t *out, int got, int64_t k)
{
    for (int j = 0; j < got; j++)
        if (out[j] == k) return 1;
    return 0;
}

int ns_outcomes_match(const ns_outcomes_t *o, const char *sample_id, const char *infant_id,
                      int64_t *out, int max)
{
    int got = 0;
    if (sample_id && *sample_id)
        for (int64_t j = lower(o, o->by_sid, o->n_sid, sample_id, 1);
             j < o->n_sid && got < max && strcmp(o->v[o->by_sid[j]].sample_id, sample_id) == 0; j++)
            out[got++] = o->by_sid[j];
    if (infant_id && *infant_id)
        for (int64_t j = lower(o, o->by_iid, o->n_iid, infant_id, 0);
             j < o->n_iid && got < max && strcmp(o->v[o->by_iid[j]].infant_id, infant_id) == 0; j++)
            if (!seen_case(out, got, o->by_iid[j])) out[got++] = o->by_iid[j];
    return got;
}
