/* followup.c — see followup.h. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include "followup.h"
#include "numfmt.h"
#include "util.h"

ns_finding_t *ns_findings_add(ns_findings_t *fs, const char *infant_id, int source)
{
    if (fs->n == fs->m) {
        fs->m = fs->m ? 2 * fs->m : 64;
        fs->v = ns_realloc(fs->v, (size_t)fs->m * sizeof *fs->v);
    }
    ns_finding_t *f = &fs->v[fs->n++];
    memset(f, 0, sizeof *f);
    ns_copy_str(f->infant_id, sizeof f->infant_id, infant_id ? infant_id : "");
    f->source = source;
    f->due_from = NS_DUE_NONE;
    f->due_hours = NAN;
    f->test_time_h = NAN;
    f->batch_row = -1;
    return f;
}

/* s, cut to at most max bytes, as a string of fs's pool */
static const char *pool_str(ns_findings_t *fs, const char *s, size_t max)
{
    const size_t n = strnlen(s, max);
    char *p = ns_pool_alloc(&fs->text, n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

/* Name the next argument of f and give it the text v (cut to NS_FU_ARG_MAX - 1 bytes);
 * nothing beyond NS_FU_MAX_ARGS. */
static void put_arg(ns_findings_t *fs, ns_finding_t *f, const char *name, const char *v)
{
    if (f->n_args >= NS_FU_MAX_ARGS) return;
    const int k = f->n_args++;
    f->arg_name[k] = pool_str(fs, name, 15);
    f->arg[k] = pool_str(fs, v, NS_FU_ARG_MAX - 1);
}

void ns_finding_arg(ns_findings_t *fs, ns_finding_t *f, const char *name, const char *fmt, ...)
{
    if (f->n_args >= NS_FU_MAX_ARGS) return;
    char a[NS_FU_ARG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a, sizeof a, fmt, ap);
    va_end(ap);
    put_arg(fs, f, name, a);
}

void ns_finding_arg_str(ns_findings_t *fs, ns_finding_t *f, const char *name, const char *v)
{
    put_arg(fs, f, name, v ? v : "(null)");      /* as printf's "%s" of NULL */
}

void ns_finding_arg_g(ns_findings_t *fs, ns_finding_t *f, const char *name, double v, int prec)
{
    if (f->n_args >= NS_FU_MAX_ARGS) return;
    char a[NS_FU_ARG_MAX];
    ns_fmt_g(a, sizeof a, v, prec);
    put_arg(fs, f, name, a);
}

void ns_finding_arg_f(ns_findings_t *fs, ns_finding_t *f, const char *name, double v, int prec)
{
    if (f->n_args >= NS_FU_MAX_ARGS) return;
    char a[NS_FU_ARG_MAX];
    ns_fmt_f(a, sizeof a, v, prec);
    put_arg(fs, f, name, a);
}

void ns_findings_free(ns_findings_t *fs)
{
    free(fs->v);
    ns_pool_free(&fs->text);
    memset(fs, 0, sizeof *fs);
}

/* ---- merge --------------------------------------------------------------------------- */

static const ns_findings_t *sort_fs;     /* qsort has no context argument in C11 */

static int cmp_finding(const void *a, const void *b)
{
    const ns_finding_t *x = &sort_fs->v[*(const int64_t *)a], *y = &sort_fs->v[*(const int64_t *)b];
    int c = strcmp(x->infant_id, y->infant_id);
    if (c) return c;
    if (x->source != y->source) return x->source - y->source;
    int64_t i = *(const int64_t *)a, j = *(const int64_t *)b;
    return (i > j) - (i < j);
}

static int cmp_row(const void *a, const void *b)
{
    const ns_fu_row_t *x = a, *y = b;
    if (x->priority != y->priority) return x->priority - y->priority;
    if (x->due_unknown != y->due_unknown) return y->due_unknown - x->due_unknown;
    int xn = isnan(x->due_h), yn = isnan(y->due_h);
    if (xn != yn) return xn - yn;                      /* a deadline before none */
    if (!xn) {                                         /* by the day shown in due_by */
        double dx = floor(x->due_h / 24.0), dy = floor(y->due_h / 24.0);
        if (dx != dy) return dx < dy ? -1 : 1;
    }
    return strcmp(x->infant_id, y->infant_id);
}

/* manifest rows sorted by infant_id, then file order: the infant's first row */
static const ns_manifest_t *sort_m;
static int cmp_mrow(const void *a, const void *b)
{
    int64_t i = *(const int64_t *)a, j = *(const int64_t *)b;
    int c = strcmp(sort_m->rows[i].infant_id, sort_m->rows[j].infant_id);
    return c ? c : (i > j) - (i < j);
}

static int64_t infant_row(const ns_manifest_t *m, const int64_t *by_infant, const char *infant)
{
    int64_t lo = 0, hi = m->n;
    while (lo < hi) {                                  /* first row with id >= infant */
        int64_t mid = lo + (hi - lo) / 2;
        if (strcmp(m->rows[by_infant[mid]].infant_id, infant) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo < m->n && strcmp(m->rows[by_infant[lo]].infant_id, infant) == 0 ? by_infant[lo] : -1;
}

static double deadline(const ns_finding_t *f, const ns_batch_t *b, int64_t mrow)
{
    if (f->note_only || f->due_from == NS_DUE_NONE || isnan(f->due_hours)) return NAN;
    const ns_manifest_t *m = &b->manifest;
    double ref = NAN;
    if (f->due_from == NS_DUE_TEST) ref = f->test_time_h;
    else if (f->due_from == NS_DUE_BIRTH && mrow >= 0 && m->rows[mrow].birth_time)
        ref = ns_parse_time_h(m->rows[mrow].birth_time);
    else if (f->due_from == NS_DUE_COLLECTION) {
        int64_t r = f->batch_row >= 0 ? b->mrow[f->batch_row] : mrow;
        if (r >= 0 && m->rows[r].collection_time) ref = ns_parse_time_h(m->rows[r].collection_time);
    }
    return ref + f->due_hours;                         /* NAN stays NAN */
}

void ns_followup_merge(const ns_findings_t *fs, const ns_batch_t *b, ns_fu_list_t *out)
{
    memset(out, 0, sizeof *out);
    const ns_manifest_t *m = &b->manifest;
    int64_t n = fs->n;
    out->order = ns_malloc((size_t)(n ? n : 1) * sizeof *out->order);
    for (int64_t k = 0; k < n; k++) out->order[k] = k;
    sort_fs = fs;
    qsort(out->order, (size_t)n, sizeof *out->order, cmp_finding);

    /* manifest rows by infant: only for babies known from another screen than a plate well
     * (hearing, genes), so built on first need, and not sorted when already in order */
    int64_t *by_infant = NULL;

    out->rows = ns_calloc((size_t)(n ? n : 1), sizeof *out->rows);
    for (int64_t k = 0; k < n; ) {
        const ns_finding_t *f0 = &fs->v[out->order[k]];
        ns_fu_row_t *r = &out->rows[out->n++];
        r->infant_id = f0->infant_id;
        r->f0 = k;
        while (k < n && strcmp(fs->v[out->order[k]].infant_id, r->infant_id) == 0) k++;
        r->f1 = k;
        if (f0->source == NS_SRC_MSMS && f0->batch_row >= 0) r->mrow = b->mrow[f0->batch_row];
        else {
            if (!by_infant) {
                by_infant = ns_malloc((size_t)(m->n ? m->n : 1) * sizeof *by_infant);
                for (int64_t q = 0; q < m->n; q++) by_infant[q] = q;
                sort_m = m;
                int64_t q = 1;
                while (q < m->n && cmp_mrow(&by_infant[q - 1], &by_infant[q]) < 0) q++;
                if (q < m->n) qsort(by_infant, (size_t)m->n, sizeof *by_infant, cmp_mrow);
            }
            r->mrow = infant_row(m, by_infant, r->infant_id);
        }
        r->priority = NS_PRIO_N;
        r->due_h = NAN;
        r->invalid_only = 1;
        for (int64_t j = r->f0; j < r->f1; j++) {
            const ns_finding_t *f = &fs->v[out->order[j]];
            r->sources |= 1u << f->source;
            if (f->note_only) continue;
            if (f->priority < r->priority) r->priority = f->priority;
            if (!f->invalid_card) r->invalid_only = 0;
            double d = deadline(f, b, r->mrow);
            if (!isnan(d) && (isnan(r->due_h) || d < r->due_h)) r->due_h = d;
            if (isnan(d) && f->due_from != NS_DUE_NONE && !isnan(f->due_hours)) r->due_unknown = 1;
        }
        if (r->priority == NS_PRIO_N) r->priority = NS_PRIO_ROUTINE;   /* notes only: cannot happen */
    }
    qsort(out->rows, (size_t)out->n, sizeof *out->rows, cmp_row);
    free(by_infant);
}

void ns_followup_free(ns_fu_list_t *l)
{
    free(l->rows);
    free(l->order);
    memset(l, 0, sizeof *l);
}
