/* report.c — the report model's shared helpers and the HTML page (report.h).
 *
 * The page is written to be well-formed XML as well as HTML (void elements closed with
 * "/>", every text escaped), so that `xmllint` checks it strictly; it uses no script and
 * no external resource.  Charts are inline SVG (svg.h).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "atomic_file.h"
#include "../kernels/ns_kernels.h"
#include "log.h"
#include "plate_qc.h"
#include "report_internal.h"
#include "svg.h"
#include "util.h"

/* ---- model ------------------------------------------------------------------------- */

void ns_report_init(ns_report_t *r)
{
    memset(r, 0, sizeof *r);
}

void ns_report_free(ns_report_t *r)
{
    if (!r) return;
    free(r->manifest_file); free(r->manifest_problem);
    free(r->night); free(r->panel_name); free(r->panel_version); free(r->panel_sha256); free(r->software);
    for (int k = 0; k < r->n_plates; k++) {
        ns_rpt_plate_t *p = &r->plates[k];
        free(p->id); free(p->file); free(p->error); free(p->qc_reason); free(p->qc_warnings);
    }
    free(r->plates);
    for (int k = 0; k < r->n_gplates; k++) {
        ns_rpt_gplate_t *g = &r->gplates[k];
        free(g->id); free(g->file); free(g->status); free(g->reason);
    }
    free(r->gplates);
    for (int64_t k = 0; k < r->n_babies; k++) {
        ns_rpt_baby_t *b = &r->babies[k];
        free(b->infant_id); free(b->sources); free(b->codes); free(b->name);
    }
    free(r->babies);
    for (int a = 0; a < r->n_analytes; a++) {
        free(r->analyte[a]); free(r->unit[a]); free(r->patient[a]);
    }
    free(r->analyte); free(r->unit); free(r->patient); free(r->n_patient); free(r->n_censored);
    free(r->view.keep);
    free(r->target_mean); free(r->target_sd);
    free(r->cut);
    for (int k = 0; k < r->n_seq; k++) { free(r->seq[k].night); free(r->seq[k].plate_id); }
    free(r->seq);
    free(r->ctl);
    for (int c = 0; c < r->n_cond; c++) free(r->cond[c]);
    free(r->cond);
    free(r->recalls);
    for (int h = 0; h < r->n_hist; h++) { free(r->hist[h].night); free(r->hist[h].path); free(r->hist[h].recalls); }
    free(r->hist);
    memset(r, 0, sizeof *r);
}

void ns_rpt_set_panel(ns_report_t *r, const ns_panel_t *p)
{
    const int na = p->n_analytes;
    r->n_analytes = na;
    r->analyte = ns_calloc((size_t)na + 1, sizeof *r->analyte);
    r->unit = ns_calloc((size_t)na + 1, sizeof *r->unit);
    r->patient = ns_calloc((size_t)na + 1, sizeof *r->patient);
    r->n_patient = ns_calloc((size_t)na + 1, sizeof *r->n_patient);
    r->n_censored = ns_calloc((size_t)na + 1, sizeof *r->n_censored);
    r->target_mean = ns_malloc(((size_t)na * 2 + 1) * sizeof *r->target_mean);
    r->target_sd = ns_malloc(((size_t)na * 2 + 1) * sizeof *r->target_sd);
    for (int a = 0; a < na; a++) {
        r->analyte[a] = ns_strdup(p->analytes[a].name);
        r->unit[a] = ns_strdup(p->analytes[a].unit);
        for (int l = 0; l < 2; l++) r->target_mean[a * 2 + l] = r->target_sd[a * 2 + l] = NAN;
    }
    r->n_cond = p->n_conds;
    r->cond = ns_calloc((size_t)p->n_conds + 1, sizeof *r->cond);
    r->recalls = ns_calloc((size_t)p->n_conds + 1, sizeof *r->recalls);
    int cap = 16;
    r->cut = ns_malloc((size_t)cap * sizeof *r->cut);
    for (int c = 0; c < p->n_conds; c++) {
        const ns_condition_t *cd = &p->conds[c];
        r->cond[c] = ns_strdup(cd->code);
        for (int m = 0; m < cd->n_markers; m++) {
            const ns_marker_t *mk = &cd->markers[m];
            if (mk->marker >= na) continue;              /* ratios: not drawn */
            const double v[3] = { mk->thr.cutoff, mk->thr.borderline, mk->thr.critical };
            for (int kind = 0; kind < 3; kind++) {
                if (!isfinite(v[kind])) continue;
                if (r->n_cut == cap) r->cut = ns_realloc(r->cut, (size_t)(cap *= 2) * sizeof *r->cut);
                ns_rpt_cut_t *o = &r->cut[r->n_cut++];
                memset(o, 0, sizeof *o);
                o->analyte = mk->marker;
                snprintf(o->cond, sizeof o->cond, "%s", cd->code);
                o->kind = kind;
                o->high = mk->thr.dir == NS_DIR_HIGH;
                o->value = v[kind];
            }
        }
    }
}

void ns_rpt_set_targets(ns_report_t *r, const ns_qc_config_t *q)
{
    if (!q) return;
    for (int a = 0; a < r->n_analytes; a++)
        for (int l = 0; l < 2 && l < NS_QC_LEVELS; l++) {
            double m = q->level[l].mean ? q->level[l].mean[a] : NAN, s = q->level[l].sd ? q->level[l].sd[a] : NAN;
            if (isfinite(m) && isfinite(s) && s > 0) {
                r->target_mean[a * 2 + l] = m;
                r->target_sd[a * 2 + l] = s;
            }
        }
}

int ns_rpt_add_seq(ns_report_t *r, const char *night, const char *plate_id, int tonight)
{
    if ((r->n_seq & 63) == 0) r->seq = ns_realloc(r->seq, (size_t)(r->n_seq + 64) * sizeof *r->seq);
    ns_rpt_seq_t *s = &r->seq[r->n_seq];
    s->night = ns_strdup(night ? night : "");
    s->plate_id = ns_strdup(plate_id ? plate_id : "");
    s->tonight = tonight;
    return r->n_seq++;
}

void ns_rpt_add_ctl(ns_report_t *r, int seq, int level, int analyte, double value, unsigned rules)
{
    if (!isfinite(value) || analyte < 0 || analyte >= r->n_analytes || level < 0 || level > 1) return;
    if (r->n_ctl == r->cap_ctl) {         /* doubled: 0.9M controls on a 1M night */
        r->cap_ctl = r->cap_ctl < 128 ? 256 : 2 * r->cap_ctl;
        r->ctl = ns_realloc(r->ctl, (size_t)r->cap_ctl * sizeof *r->ctl);
    }
    r->ctl[r->n_ctl++] = (ns_rpt_ctl_t){ seq, level, analyte, value, rules };
}

int ns_rpt_analyte(const ns_report_t *r, const char *name)
{
    for (int a = 0; a < r->n_analytes; a++)
        if (strcmp(r->analyte[a], name) == 0) return a;
    for (int a = 0; a < r->n_analytes; a++)
        if (ns_strcaseeq(r->analyte[a], name)) return a;
    return -1;
}

char *ns_rpt_manifest_problem(const ns_manifest_t *m)
{
    /* the same words as write_hdf5.c's /inputs error column */
    if (m->path && !m->ok) return ns_strdup("manifest unusable (see the run log)");
    if (m->path && m->n_rejected > 0) return ns_asprintf("%lld rows rejected (see the run log)", (long long)m->n_rejected);
    return ns_strdup("");
}

int ns_rpt_reportable(int state)
{
    return state == NS_STATE_NEGATIVE || state == NS_STATE_RECALL || state == NS_STATE_INVALID;
}

/* How many rows i < n have keep[i] set and v[i] equal to a, b or c: byte counts over
 * blocks of 255 rows (many rows to an instruction), added up per block. */
static int64_t count_kept(const uint8_t *keep, const uint8_t *v, int64_t n, uint8_t a, uint8_t b, uint8_t c)
{
    int64_t k = 0;
    for (int64_t i0 = 0; i0 < n; i0 += 255) {
        const int64_t i1 = i0 + 255 < n ? i0 + 255 : n;
        uint8_t s = 0;
        #pragma omp simd reduction(+:s)
        for (int64_t i = i0; i < i1; i++) s += keep[i] & ((v[i] == a) | (v[i] == b) | (v[i] == c));
        k += s;
    }
    return k;
}

/* keep[i] = 1 for the reportable patient wells among rows [0, n), else 0; how many */
static int64_t keep_rows(int64_t n, const uint8_t *type, const uint8_t *state, uint8_t *keep)
{
    uint8_t reportable[256];
    for (int s = 0; s < 256; s++) reportable[s] = (uint8_t)ns_rpt_reportable(s);
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++) {
        keep[i] = (uint8_t)(type[i] == NS_TYPE_PATIENT) & reportable[state[i]];
        k += keep[i];
    }
    return k;
}

/* The measured values of analyte a among the kept rows [0, n) of a batch's columns (exact
 * cells, finite), in row order, into out (room for n values); how many.  *censored (if
 * not NULL) is raised by the "<x" and ND cells.  Every value is stored and the count
 * advanced by the test, so that no branch waits on the data. */
static int64_t pick_values(int64_t n, const uint8_t *keep, const double *conc, const uint8_t *cell, int a,
                           double *out, int64_t *censored)
{
    const size_t un = (size_t)n;
    const double *x = conc + (size_t)a * un;
    const uint8_t *cl = cell ? cell + (size_t)a * un : NULL;
    int64_t k = 0, cens = 0;
    for (int64_t i = 0; i < n; i++) {
        const int c = cl ? cl[i] : NS_CELL_VALUE;
        out[k] = x[i];
        k += keep[i] & (c == NS_CELL_VALUE) & (isfinite(x[i]) != 0);
        cens += keep[i] & ((c == NS_CELL_BELOW) | (c == NS_CELL_ND));
    }
    if (censored) *censored += cens;
    return k;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define PICK_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))

/* ns_rpt_pick_range's pass, eight rows a step (n rounded down to a multiple of 8): appends to out
 * from *k on, folds into lo8, hi8, mp8 (one lane each); returns the rows taken. */
PICK_TARGET static int64_t pick_range_avx512(int64_t n, const uint8_t *keep, const double *x, const uint8_t *cl,
                                             double *out, int64_t *k, double *lo8, double *hi8, double *mp8)
{
    const __m512d zero = _mm512_setzero_pd();
    const __m128i z8 = _mm_setzero_si128();
    __m512d lo = _mm512_set1_pd(INFINITY), hi = _mm512_set1_pd(-INFINITY), mp = _mm512_set1_pd(INFINITY);
    int64_t i = 0, kk = *k;
    for (; i + 8 <= n; i += 8) {
        const __m512d v = _mm512_loadu_pd(x + i);
        const __m128i kb = _mm_loadl_epi64((const __m128i *)(keep + i)), cb = _mm_loadl_epi64((const __m128i *)(cl + i));
        /* kept, an exact cell (NS_CELL_VALUE is 0), finite (v - v is 0) */
        const __mmask8 m = (__mmask8)(_mm_test_epi8_mask(kb, kb) & _mm_cmpeq_epi8_mask(cb, z8)
                                      & _mm512_cmp_pd_mask(_mm512_sub_pd(v, v), zero, _CMP_EQ_OQ));
        _mm512_mask_compressstoreu_pd(out + kk, m, v);
        kk += __builtin_popcount(m);
        lo = _mm512_mask_min_pd(lo, m, v, lo);          /* min(v, lo): lo on a tie */
        hi = _mm512_mask_max_pd(hi, m, v, hi);
        mp = _mm512_mask_min_pd(mp, m & _mm512_cmp_pd_mask(v, zero, _CMP_GT_OQ), v, mp);
    }
    _mm512_storeu_pd(lo8, lo);
    _mm512_storeu_pd(hi8, hi);
    _mm512_storeu_pd(mp8, mp);
    *k = kk;
    return i;
}
#endif

/* (report_internal.h.)  Vector lanes find the same extremes as the loop in row order, but
 * where the least or greatest is a zero its sign may come from another row: then they are
 * found again, the scalar way, over what was picked. */
int64_t ns_rpt_pick_range(int64_t n, const uint8_t *keep, const double *conc, const uint8_t *cell, int a,
                          double *out, double *lo, double *hi, double *minpos)
{
    _Static_assert(NS_CELL_VALUE == 0, "pick_range_avx512 tests cells against 0");
    const size_t un = (size_t)n;
    const double *x = conc + (size_t)a * un;
    const uint8_t *cl = cell ? cell + (size_t)a * un : NULL;
    double l = INFINITY, h = -INFINITY, mp = INFINITY;
    int64_t i = 0, k = 0;
#ifdef PICK_TARGET
    if (cl && ns_cpu_avx512()) {
        double l8[8], h8[8], m8[8];
        i = pick_range_avx512(n, keep, x, cl, out, &k, l8, h8, m8);
        for (int j = 0; j < 8; j++) {
            if (l8[j] < l) l = l8[j];
            if (h8[j] > h) h = h8[j];
            if (m8[j] < mp) mp = m8[j];
        }
    }
#endif
    for (; i < n; i++) {
        const int c = cl ? cl[i] : NS_CELL_VALUE;
        const double v = x[i];
        if (!(keep[i] & (c == NS_CELL_VALUE)) || !isfinite(v)) continue;
        out[k++] = v;
        if (v < l) l = v;
        if (v > h) h = v;
        if (v > 0 && v < mp) mp = v;
    }
    if (l == 0 || h == 0) {             /* a zero's sign: the first such row's, as in row order */
        l = INFINITY;
        h = -INFINITY;
        for (int64_t j = 0; j < k; j++) {
            if (out[j] < l) l = out[j];
            if (out[j] > h) h = out[j];
        }
    }
    *lo = l;
    *hi = h;
    *minpos = mp;
    return k;
}

/* The counts of rows [0, n) that do not need the values: states, patients, recalls. */
static void count_rows(ns_report_t *r, int64_t n, const uint8_t *keep, const uint8_t *state, const uint8_t *call)
{
    const size_t un = (size_t)n;
    for (int64_t i = 0; i < n; i++)
        if (state[i] < NS_STATE_N) r->state[state[i]]++;
    for (int c = 0; c < r->n_cond && call; c++) {
        r->recalls[c] += count_kept(keep, call + (size_t)c * un, n, NS_CALL_BORDERLINE, NS_CALL_POSITIVE,
                                    NS_CALL_CRITICAL);
    }
}

void ns_rpt_add_rows(ns_report_t *r, int64_t n, const uint8_t *type, const uint8_t *state,
                     const double *conc, const uint8_t *cell, const uint8_t *call)
{
    uint8_t *keep = ns_malloc((size_t)(n > 0 ? n : 1));
    const int64_t rep = keep_rows(n, type, state, keep);
    r->patients += rep;
    count_rows(r, n, keep, state, call);
    for (int a = 0; a < r->n_analytes && conc; a++) {
        /* pick_values may store one value past the last kept one: room for n */
        r->patient[a] = ns_realloc(r->patient[a], (size_t)(r->n_patient[a] + n + 1) * sizeof **r->patient);
        r->n_patient[a] += pick_values(n, keep, conc, cell, a, r->patient[a] + r->n_patient[a], &r->n_censored[a]);
    }
    free(keep);
}

void ns_rpt_view_rows(ns_report_t *r, int64_t n, const uint8_t *type, const uint8_t *state,
                      const double *conc, const uint8_t *cell, const uint8_t *call)
{
    uint8_t *keep = ns_malloc((size_t)(n > 0 ? n : 1));
    r->patients += keep_rows(n, type, state, keep);
    count_rows(r, n, keep, state, call);
    if (!conc || n <= 0) {
        free(keep);
        return;
    }
    free(r->view.keep);
    r->view.n = n;
    r->view.keep = keep;
    r->view.conc = conc;
    r->view.cell = cell;
    /* the censored counts now: the page states them before any chart is drawn */
    for (int a = 0; a < r->n_analytes && cell; a++) {
        r->n_censored[a] += count_kept(keep, cell + (size_t)a * (size_t)n, n, NS_CELL_BELOW, NS_CELL_ND, NS_CELL_ND);
    }
}

void ns_rpt_add_baby(ns_report_t *r, const char *infant_id, int priority, const char *sources,
                     const char *codes, const char *name)
{
    if ((r->n_babies & 63) == 0) r->babies = ns_realloc(r->babies, (size_t)(r->n_babies + 64) * sizeof *r->babies);
    ns_rpt_baby_t *b = &r->babies[r->n_babies++];
    b->infant_id = ns_strdup(infant_id ? infant_id : "");
    b->priority = priority >= 0 && priority < NS_PRIO_N ? priority : NS_PRIO_ROUTINE;
    b->sources = ns_strdup(sources ? sources : "");
    b->codes = ns_strdup(codes ? codes : "");
    b->name = name ? ns_strdup(name) : NULL;
    r->prio[b->priority]++;
}

char *ns_rpt_join_unique(char *list, const char *item)
{
    if (!item || !*item) return list;
    if (!list) return ns_strdup(item);
    size_t L = strlen(item);
    for (const char *p = list; p;) {
        const char *e = strstr(p, "; ");
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == L && strncmp(p, item, L) == 0) return list;
        p = e ? e + 2 : NULL;
    }
    char *s = ns_asprintf("%s; %s", list, item);
    free(list);
    return s;
}

void ns_report_set_names(ns_report_t *r, const ns_manifest_t *m)
{
    r->with_names = 1;
    for (int64_t k = 0; k < r->n_babies; k++) {
        ns_rpt_baby_t *b = &r->babies[k];
        free(b->name);
        b->name = NULL;
        for (int64_t i = 0; m && i < m->n; i++)
            if (m->rows[i].infant_id && strcmp(m->rows[i].infant_id, b->infant_id) == 0) {
                b->name = ns_strdup(m->rows[i].mother_name ? m->rows[i].mother_name : "");
                break;
            }
    }
}

/* ---- translation keys ----------------------------------------------------------------- */

static const char *const keys[] = {
    "report.title", "report.night", "report.panel", "report.software", "report.glance",
    "report.wells_read", "report.patients", "report.on_list", "report.plates_rejected",
    "report.files_quarantined", "report.states", "report.col.state", "report.col.count",
    "report.state.negative", "report.state.recall", "report.state.invalid_specimen",
    "report.state.unmatched", "report.state.quarantined", "report.state.control", "report.state.qc_hold",
    "report.total", "report.recalls_by_priority", "report.col.priority", "report.col.babies",
    "report.quarantined", "report.rerun", "report.none", "report.not_recorded", "report.col.file",
    "report.col.plate", "report.col.reason", "report.col.wells", "report.col.status", "report.col.warnings",
    "report.col.kind", "report.kind.msms", "report.kind.gene", "report.kind.manifest", "report.plate_qc", "report.qc.accepted",
    "report.qc.warning", "report.qc.rejected", "report.qc.not_run", "report.qc.quarantined",
    "report.qc.not_recorded", "report.lj", "report.lj_note", "report.lj_history", "report.lj_no_history",
    "report.lj_fired", "report.lj_thinned", "report.level.qc_low", "report.level.qc_high", "report.mean",
    "report.plate_seq", "report.target", "report.no_targets", "report.dist", "report.dist_note", "report.n_values",
    "report.censored", "report.log_scale", "report.no_values", "report.recalls", "report.recalls_note",
    "report.col.condition", "report.col.tonight", "report.col.average", "report.col.per_1000",
    "report.recalls_history", "report.recalls_no_history", "report.hearing", "report.hearing_absent",
    "report.h.infants", "report.h.initial", "report.h.rescreen", "report.h.rate", "report.list",
    "report.list_note", "report.list_note_names", "report.col.infant_id", "report.col.sources",
    "report.col.codes", "report.col.name", "report.list_unknown", "priority.critical", "priority.urgent",
    "priority.routine", "limit.cutoff", "limit.borderline", "limit.critical",
    /* the follow-up ledger's indicators (report_ledger.c): one name, definition and
     * observed-elsewhere text per indicator of ledger_stats.h */
    "report.ind", "report.ind_note", "report.ind_disabled", "report.ind_failed", "report.ind_not_recorded",
    "report.ind.col.indicator", "report.ind.col.observed", "report.ind.col.definition", "report.ind.col.source",
    "report.ind.col.period", "report.ind.by_condition", "report.ind.by_condition_note", "report.ind.no_conditions",
    "report.ind.rate", "report.ind.days", "report.ind.incidence",
#define IND_KEYS(x) "report.ind.name." x, "report.ind.def." x, "report.ind.ref." x
    IND_KEYS("cards_screened"), IND_KEYS("initial_cards"), IND_KEYS("unsatisfactory_rate"),
    IND_KEYS("screen_positive_rate"), IND_KEYS("recall_completion_rate"), IND_KEYS("loss_to_follow_up_rate"),
    IND_KEYS("median_days_collection_to_report"), IND_KEYS("median_days_report_to_first_contact"),
    IND_KEYS("confirmed_cases"), IND_KEYS("ppv"), IND_KEYS("incidence"), IND_KEYS("repeat_without_case"),
#undef IND_KEYS
    NULL
};

const char *const *ns_report_lang_keys(void)
{
    return keys;
}

int ns_report_check_lang(const ns_lang_t *L, const char *tag, const char *path)
{
    int bad = 0;
    for (int k = 0; keys[k]; k++)
        if (!ns_lang_has(L, keys[k])) {
            ns_error(tag, "%s: no text for '%s', which the batch report needs", path, keys[k]);
            bad = 1;
        }
    return bad ? -1 : 0;
}

/* ---- page ---------------------------------------------------------------------------- */

#define T(key) ns_lang_get(L, key)

static void esc(FILE *fp, const char *s)
{
    ns_xml_escape(fp, s);
}

void ns_rpt_el(FILE *fp, const char *tag, const char *cls, const char *text)
{
    if (cls) fprintf(fp, "<%s class=\"%s\">", tag, cls);
    else fprintf(fp, "<%s>", tag);
    esc(fp, text);
    fprintf(fp, "</%s>", tag);
}

/* a translated template with up to 3 named arguments, escaped */
static void fmt(FILE *fp, const ns_lang_t *L, const char *key, int n, const char *n0, const char *v0,
                const char *n1, const char *v1, const char *n2, const char *v2)
{
    const char *names[3] = { n0, n1, n2 }, *vals[3] = { v0, v1, v2 };
    char *s = ns_lang_format(L, key, n, names, vals);
    esc(fp, s);
    free(s);
}

static const char *num(char *buf, int64_t v)
{
    snprintf(buf, 32, "%lld", (long long)v);
    return buf;
}

static const char *qc_class(int s)
{
    return s == NS_QC_ACCEPTED ? "ok" : s == NS_QC_WARNING ? "warn" : s == NS_QC_REJECTED ? "bad" : "na";
}

static const char *qc_label_key(const ns_rpt_plate_t *p)
{
    if (p->quarantined) return "report.qc.quarantined";
    switch (p->qc_status) {
    case NS_QC_ACCEPTED: return "report.qc.accepted";
    case NS_QC_WARNING:  return "report.qc.warning";
    case NS_QC_REJECTED: return "report.qc.rejected";
    default:             return "report.qc.not_run";
    }
}

static const char *const css =
    "body{font-family:'Noto Sans CJK SC','Noto Sans SC','Source Han Sans SC','PingFang SC','Microsoft YaHei',"
    "'DejaVu Sans',Arial,sans-serif;margin:24px;color:#1a1a1a;background:#fff;font-size:14px}\n"
    "h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;border-bottom:2px solid #345;padding-bottom:3px;margin-top:28px}\n"
    "h3{font-size:15px;margin:14px 0 6px}.meta{color:#555;margin:0 0 12px}\n"
    "table{border-collapse:collapse;margin:6px 0}td,th{border:1px solid #bbb;padding:3px 8px;text-align:left;vertical-align:top}\n"
    "th{background:#e8edf2}td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
    ".cards{display:flex;flex-wrap:wrap;gap:10px}.card{border:1px solid #bbb;border-radius:6px;padding:8px 14px;min-width:150px}\n"
    ".card .v{font-size:26px;font-weight:bold}.card.bad{background:#fbe3e1;border-color:#c0392b}.card.warn{background:#fdf2d0}\n"
    "tr.ok td.st,span.ok{background:#dff3e4}tr.warn td.st,span.warn{background:#fdf0c4}tr.bad td.st,span.bad{background:#f8d3cf;font-weight:bold}\n"
    "tr.na td.st,span.na{background:#e6e6e6}tr.bad td{border-color:#c0392b}\n"
    ".charts{display:flex;flex-wrap:wrap;gap:8px}figure{margin:0;border:1px solid #ccc;padding:4px}figure.fired{border:2px solid #c0392b}\n"
    "figcaption{font-size:12px;max-width:320px}.note{color:#444;font-size:13px}.pd{color:#c0392b;font-weight:bold}\n"
    "svg text{font-family:inherit}svg .tk{font-size:9px;fill:#333}svg .al{font-size:10px;fill:#333}svg .ti{font-size:11px;font-weight:bold}\n"
    "svg .ax{stroke:#333;stroke-width:1}svg .gr{stroke:#eee;stroke-width:1}\n"
    "svg .mean{stroke:#2c3e50;stroke-width:1.2}svg .sd1{stroke:#7f8c8d;stroke-dasharray:2 3}svg .sd2{stroke:#e67e22;stroke-dasharray:5 3}\n"
    "svg .sd3{stroke:#c0392b;stroke-dasharray:8 3}svg text.sd1,svg text.sd2,svg text.sd3,svg text.mean{font-size:8px;stroke:none}\n"
    "svg text.sd1{fill:#7f8c8d}svg text.sd2{fill:#e67e22}svg text.sd3{fill:#c0392b}svg text.mean{fill:#2c3e50}\n"
    "svg .ln{fill:none;stroke:#555;stroke-width:1}svg .ph{fill:#aaa}svg .pt{fill:#111}svg .pw{fill:#e67e22}svg .pr{fill:#c0392b}\n"
    "svg .sep{stroke:#888;stroke-dasharray:1 2}svg text.sep{font-size:8px;fill:#666}svg text.rule{font-size:9px;fill:#c0392b;font-weight:bold}\n"
    "svg .bar{fill:#5d8aa8}svg .bar2{fill:#c0392b}svg .avg{stroke:#111;stroke-width:2}\n"
    "svg .cut{stroke:#c0392b;stroke-width:1.2}svg .brd{stroke:#e67e22;stroke-width:1;stroke-dasharray:4 2}svg .crit{stroke:#7b0000;stroke-width:1.5}\n"
    "svg text.cut,svg text.brd,svg text.crit{font-size:8px;stroke:none}svg text.cut{fill:#c0392b}svg text.brd{fill:#e67e22}svg text.crit{fill:#7b0000}\n";

static void head(FILE *fp, const ns_report_t *r, const ns_lang_t *L)
{
    fputs("<!DOCTYPE html>\n<html lang=\"", fp);
    esc(fp, ns_lang_code(L));
    fputs("\">\n<head>\n<meta charset=\"utf-8\"/>\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n<title>", fp);
    esc(fp, T("report.title"));
    fputs(" ", fp);
    esc(fp, r->night);
    fputs("</title>\n<style>\n", fp);
    fputs(css, fp);
    fputs("</style>\n</head>\n<body>\n<h1>", fp);
    esc(fp, T("report.title"));
    fputs(" \xe2\x80\x94 ", fp);       /* em dash */
    esc(fp, r->night);
    fputs("</h1>\n<p class=\"meta\">", fp);
    esc(fp, T("report.night"));
    fputs(": ", fp);
    esc(fp, r->night);
    fputs(" \xc2\xb7 ", fp);
    esc(fp, T("report.panel"));
    fputs(": ", fp);
    esc(fp, r->panel_name);
    fputs(" ", fp);
    esc(fp, r->panel_version);
    fputs(" (", fp);
    fprintf(fp, "%.12s", r->panel_sha256 ? r->panel_sha256 : "");
    fputs(") \xc2\xb7 ", fp);
    esc(fp, T("report.software"));
    fputs(": neoscreen ", fp);
    esc(fp, r->software);
    fputs("</p>\n", fp);
}

static void card(FILE *fp, const char *cls, int64_t v, const char *label)
{
    fprintf(fp, "<div class=\"card%s%s\"><div class=\"v\">%lld</div><div>", cls ? " " : "", cls ? cls : "", (long long)v);
    esc(fp, label);
    fputs("</div></div>\n", fp);
}

static void glance(FILE *fp, const ns_report_t *r, const ns_lang_t *L)
{
    char b1[32];
    int n_rej = 0, n_quar = 0;
    for (int k = 0; k < r->n_plates; k++) {
        n_rej += !r->plates[k].quarantined && r->plates[k].qc_status == NS_QC_REJECTED;
        n_quar += r->plates[k].quarantined;
    }
    const int m_bad = r->manifest_problem && *r->manifest_problem;
    int g_rej = 0, g_quar = 0;
    for (int k = 0; k < r->n_gplates; k++) {
        if (strcmp(r->gplates[k].status, "quarantined") == 0) g_quar++;
        else g_rej++;
    }
    fputs("<section id=\"glance\">\n<h2>", fp);
    esc(fp, T("report.glance"));
    fputs("</h2>\n<div class=\"cards\">\n", fp);
    card(fp, NULL, r->wells_read, T("report.wells_read"));
    card(fp, NULL, r->patients, T("report.patients"));
    if (r->have_followup) card(fp, r->prio[NS_PRIO_CRITICAL] ? "bad" : NULL, r->n_babies, T("report.on_list"));
    card(fp, n_rej + g_rej ? "bad" : NULL, n_rej + g_rej, T("report.plates_rejected"));
    card(fp, n_quar + g_quar ? "warn" : NULL, n_quar + g_quar, T("report.files_quarantined"));
    fputs("</div>\n", fp);

    /* states */
    fputs("<h3>", fp);
    esc(fp, T("report.states"));
    fputs("</h3>\n<table>\n<tr>", fp);
    ns_rpt_el(fp, "th", NULL, T("report.col.state"));
    ns_rpt_el(fp, "th", NULL, T("report.col.count"));
    fputs("</tr>\n", fp);
    static const int order[] = { NS_STATE_NEGATIVE, NS_STATE_RECALL, NS_STATE_INVALID, NS_STATE_UNMATCHED,
                                 NS_STATE_QC_HOLD, NS_STATE_QUARANTINED, NS_STATE_CONTROL };
    int64_t total = 0;
    for (size_t k = 0; k < sizeof order / sizeof order[0]; k++) {
        char key[64];
        snprintf(key, sizeof key, "report.state.%s", ns_state_name(order[k]));
        fputs("<tr>", fp);
        ns_rpt_el(fp, "td", NULL, T(key));
        ns_rpt_el(fp, "td", "n", num(b1, r->state[order[k]]));
        fputs("</tr>\n", fp);
        total += r->state[order[k]];
    }
    fputs("<tr>", fp);
    ns_rpt_el(fp, "th", NULL, T("report.total"));
    ns_rpt_el(fp, "td", "n", num(b1, total));
    fputs("</tr>\n</table>\n", fp);

    /* recalls per priority */
    fputs("<h3>", fp);
    esc(fp, T("report.recalls_by_priority"));
    fputs("</h3>\n", fp);
    if (!r->have_followup) {
        ns_rpt_el(fp, "p", "note", T("report.list_unknown"));
        fputc('\n', fp);
    } else {
        fputs("<table>\n<tr>", fp);
        ns_rpt_el(fp, "th", NULL, T("report.col.priority"));
        ns_rpt_el(fp, "th", NULL, T("report.col.babies"));
        fputs("</tr>\n", fp);
        for (int q = 0; q < NS_PRIO_N; q++) {
            char key[32];
            snprintf(key, sizeof key, "priority.%s", ns_prio_name(q));
            fprintf(fp, "<tr class=\"%s\">", q == NS_PRIO_CRITICAL && r->prio[q] ? "bad" : "ok");
            ns_rpt_el(fp, "td", "st", T(key));
            ns_rpt_el(fp, "td", "n", num(b1, r->prio[q]));
            fputs("</tr>\n", fp);
        }
        fputs("</table>\n", fp);
    }

    /* quarantined files */
    fputs("<h3>", fp);
    esc(fp, T("report.quarantined"));
    fputs("</h3>\n", fp);
    if (n_quar + g_quar + m_bad == 0) {
        ns_rpt_el(fp, "p", NULL, T("report.none"));
        fputc('\n', fp);
    } else {
        fputs("<table>\n<tr>", fp);
        ns_rpt_el(fp, "th", NULL, T("report.col.kind"));
        ns_rpt_el(fp, "th", NULL, T("report.col.file"));
        ns_rpt_el(fp, "th", NULL, T("report.col.reason"));
        fputs("</tr>\n", fp);
        for (int k = 0; k < r->n_plates; k++) {
            if (!r->plates[k].quarantined) continue;
            fputs("<tr class=\"warn\">", fp);
            ns_rpt_el(fp, "td", "st", T("report.kind.msms"));
            ns_rpt_el(fp, "td", NULL, r->plates[k].file);
            ns_rpt_el(fp, "td", NULL, r->plates[k].error);
            fputs("</tr>\n", fp);
        }
        for (int k = 0; k < r->n_gplates; k++) {
            if (strcmp(r->gplates[k].status, "quarantined") != 0) continue;
            fputs("<tr class=\"warn\">", fp);
            ns_rpt_el(fp, "td", "st", T("report.kind.gene"));
            ns_rpt_el(fp, "td", NULL, r->gplates[k].file);
            ns_rpt_el(fp, "td", NULL, r->gplates[k].reason);
            fputs("</tr>\n", fp);
        }
        if (m_bad) {                        /* rejected rows: the rest of the manifest was used */
            fputs("<tr class=\"warn\">", fp);
            ns_rpt_el(fp, "td", "st", T("report.kind.manifest"));
            ns_rpt_el(fp, "td", NULL, r->manifest_file);
            ns_rpt_el(fp, "td", NULL, r->manifest_problem);
            fputs("</tr>\n", fp);
        }
        fputs("</table>\n", fp);
    }

    /* plates to re-run */
    fputs("<h3>", fp);
    esc(fp, T("report.rerun"));
    fputs("</h3>\n", fp);
    if (!r->have_qc) {
        ns_rpt_el(fp, "p", "note", T("report.qc.not_recorded"));
        fputc('\n', fp);
    }
    if (n_rej + g_rej == 0) {
        if (r->have_qc) { ns_rpt_el(fp, "p", NULL, T("report.none")); fputc('\n', fp); }
    } else {
        fputs("<table>\n<tr>", fp);
        ns_rpt_el(fp, "th", NULL, T("report.col.kind"));
        ns_rpt_el(fp, "th", NULL, T("report.col.plate"));
        ns_rpt_el(fp, "th", NULL, T("report.col.file"));
        ns_rpt_el(fp, "th", NULL, T("report.col.reason"));
        fputs("</tr>\n", fp);
        for (int k = 0; k < r->n_plates; k++) {
            const ns_rpt_plate_t *p = &r->plates[k];
            if (p->quarantined || p->qc_status != NS_QC_REJECTED) continue;
            fputs("<tr class=\"bad\">", fp);
            ns_rpt_el(fp, "td", "st", T("report.kind.msms"));
            ns_rpt_el(fp, "td", NULL, p->id);
            ns_rpt_el(fp, "td", NULL, p->file);
            ns_rpt_el(fp, "td", NULL, p->qc_reason);
            fputs("</tr>\n", fp);
        }
        for (int k = 0; k < r->n_gplates; k++) {
            const ns_rpt_gplate_t *g = &r->gplates[k];
            if (strcmp(g->status, "quarantined") == 0) continue;
            fputs("<tr class=\"bad\">", fp);
            ns_rpt_el(fp, "td", "st", T("report.kind.gene"));
            ns_rpt_el(fp, "td", NULL, g->id);
            ns_rpt_el(fp, "td", NULL, g->file);
            ns_rpt_el(fp, "td", NULL, g->reason);
            fputs("</tr>\n", fp);
        }
        fputs("</table>\n", fp);
    }
    fputs("</section>\n", fp);
}

static void plate_table(FILE *fp, const ns_report_t *r, const ns_lang_t *L)
{
    char b1[32];
    fputs("<section id=\"plate-qc\">\n<h2>", fp);
    esc(fp, T("report.plate_qc"));
    fputs("</h2>\n", fp);
    if (!r->have_qc) { ns_rpt_el(fp, "p", "note", T("report.qc.not_recorded")); fputc('\n', fp); }
    fputs("<table>\n<tr>", fp);
    ns_rpt_el(fp, "th", NULL, T("report.col.plate"));
    ns_rpt_el(fp, "th", NULL, T("report.col.file"));
    ns_rpt_el(fp, "th", NULL, T("report.col.wells"));
    ns_rpt_el(fp, "th", NULL, T("report.col.status"));
    ns_rpt_el(fp, "th", NULL, T("report.col.reason"));
    ns_rpt_el(fp, "th", NULL, T("report.col.warnings"));
    fputs("</tr>\n", fp);
    for (int k = 0; k < r->n_plates; k++) {
        const ns_rpt_plate_t *p = &r->plates[k];
        fprintf(fp, "<tr class=\"%s\">", p->quarantined ? "warn" : qc_class(p->qc_status));
        ns_rpt_el(fp, "td", NULL, p->id);
        ns_rpt_el(fp, "td", NULL, p->file);
        ns_rpt_el(fp, "td", "n", num(b1, p->wells));
        ns_rpt_el(fp, "td", "st", T(qc_label_key(p)));
        ns_rpt_el(fp, "td", NULL, p->quarantined ? p->error : p->qc_reason);
        ns_rpt_el(fp, "td", NULL, p->qc_warnings);
        fputs("</tr>\n", fp);
    }
    fputs("</table>\n</section>\n", fp);
}

/* names of the Westgard rules in bits, "1-3s 2-2s" */
static void rule_names(unsigned bits, char *buf, size_t size)
{
    static const char *const nm[] = { "1-2s", "1-3s", "2-2s", "R-4s", "4-1s", "10-x" };
    buf[0] = 0;
    for (int k = 0; k < 6; k++)
        if ((bits >> k) & 1u) {
            size_t L = strlen(buf);
            snprintf(buf + L, size - L, "%s%s", L ? " " : "", nm[k]);
        }
}

/* Long Levey-Jennings sequences (a night of ten thousand plates, or years of history) are
 * thinned to what the chart can show.  The plot is cut into columns of LJ_COL SVG units
 * (half a CSS pixel: one device pixel on a 2x screen).  The line keeps, per column, its
 * first, last, lowest and highest vertex: drawn through those alone it has the shape of the
 * line through every vertex at that resolution (M4 aggregation; Jugel et al., "M4: a
 * visualization-oriented time series data aggregation", PVLDB 7(10), 2014).  The points
 * keep, per column, the lowest and highest control of the earlier nights and of tonight,
 * and every control that broke a rule.  A chart of no more controls than columns is drawn
 * whole. */
enum { LJ_W = 320, LJ_PLOT_X0 = 44, LJ_PLOT_X1 = LJ_W - 34 };
#define LJ_COL 0.5

static int lj_columns(void)
{
    return (int)((LJ_PLOT_X1 - LJ_PLOT_X0) / LJ_COL);     /* a point's x is inside the plot */
}

/* keep_ln[k] / keep_pt[k]: vertex k of the line / point k is drawn. */
static void lj_thin(const ns_report_t *r, const ns_scale_t *sx, const int64_t *idx, int64_t n, const double *ys,
                    unsigned char *keep_ln, unsigned char *keep_pt)
{
    const int nc = lj_columns();
    if (n <= nc) {
        memset(keep_ln, 1, (size_t)n);
        memset(keep_pt, 1, (size_t)n);
        return;
    }
    memset(keep_ln, 0, (size_t)n);
    memset(keep_pt, 0, (size_t)n);
    /* per column: the line's first, last, lowest, highest; the points' lowest and highest
     * of the earlier nights [0] and of tonight [1] (-1: none) */
    int64_t *m = ns_malloc((size_t)nc * 8 * sizeof *m);
    for (size_t j = 0; j < (size_t)nc * 8; j++) m[j] = -1;
    for (int64_t k = 0; k < n; k++) {
        const ns_rpt_ctl_t *c = &r->ctl[idx[k]];
        double px = ns_svg_map(sx, (double)c->seq);
        if (isnan(px) || isnan(ys[k])) { keep_ln[k] = keep_pt[k] = 1; continue; }    /* the marks skip it */
        int col = (int)floor((px - LJ_PLOT_X0) / LJ_COL);
        col = col < 0 ? 0 : col >= nc ? nc - 1 : col;
        int64_t *q = m + (size_t)col * 8;
        if (q[0] < 0) q[0] = k;
        q[1] = k;
        if (q[2] < 0 || ys[k] < ys[q[2]]) q[2] = k;
        if (q[3] < 0 || ys[k] > ys[q[3]]) q[3] = k;
        if (c->rules) { keep_pt[k] = 1; continue; }
        int64_t *pq = q + 4 + 2 * (r->seq[c->seq].tonight != 0);
        if (pq[0] < 0 || ys[k] < ys[pq[0]]) pq[0] = k;
        if (pq[1] < 0 || ys[k] > ys[pq[1]]) pq[1] = k;
    }
    for (int col = 0; col < nc; col++) {
        const int64_t *q = m + (size_t)col * 8;
        for (int j = 0; j < 4; j++) if (q[j] >= 0) keep_ln[q[j]] = 1;
        for (int j = 4; j < 8; j++) if (q[j] >= 0) keep_pt[q[j]] = 1;
    }
    free(m);
}

/* One Levey-Jennings chart: analyte a, level l, its n controls idx[] in sequence order. */
static void lj_chart(FILE *fp, const ns_report_t *r, const ns_lang_t *L, int a, int l, const int64_t *idx,
                     int64_t n)
{
    const double mean = r->target_mean[a * 2 + l], sd = r->target_sd[a * 2 + l];
    const int W = LJ_W, H = 170, x0 = LJ_PLOT_X0, x1 = LJ_PLOT_X1, y0 = 20, y1 = H - 30;
    unsigned fired = 0;
    double lo = mean - 4 * sd, hi = mean + 4 * sd;
    for (int64_t k = 0; k < n; k++) {
        const ns_rpt_ctl_t *c = &r->ctl[idx[k]];
        if (r->seq[c->seq].tonight) fired |= c->rules;
    }
    char title[160], buf[64];
    snprintf(title, sizeof title, "%s \xc2\xb7 %s", r->analyte[a], T(l ? "report.level.qc_high" : "report.level.qc_low"));
    fprintf(fp, "<figure%s>\n", fired ? " class=\"fired\"" : "");
    ns_svg_begin(fp, W, H, title);
    ns_scale_t sx = ns_scale_make(NS_SCALE_LINEAR, -0.5, r->n_seq - 0.5, x0, x1);
    ns_scale_t sy = ns_scale_make(NS_SCALE_LINEAR, lo, hi, y1, y0);
    ns_svg_text(fp, x0, 13, "start", "ti", title);
    ns_svg_axis_y(fp, &sy, x0, x1, 4, NULL);
    fprintf(fp, "<line class=\"ax\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n", x0, y1, x1, y1);
    /* the boundary between earlier nights and tonight */
    int first_tonight = -1;
    for (int s = 0; s < r->n_seq; s++)
        if (r->seq[s].tonight) { first_tonight = s; break; }
    if (first_tonight > 0) ns_svg_vline(fp, &sx, first_tonight - 0.5, y1, y0 + 8, "sep", r->night);
    static const char *const cls[4] = { "mean", "sd1", "sd2", "sd3" };
    for (int k = -3; k <= 3; k++) {
        char lab[16];
        if (k == 0) snprintf(lab, sizeof lab, "%s", "x\xcc\x84");       /* x with macron */
        else snprintf(lab, sizeof lab, "%+dSD", k);
        ns_svg_hline(fp, &sy, mean + k * sd, x0, x1, cls[k < 0 ? -k : k], lab);
    }
    /* the line through the points, then the points (thinned when there are more than the
     * chart has columns: lj_thin) */
    double *xs = ns_malloc(((size_t)n + 1) * sizeof *xs), *ys = ns_malloc(((size_t)n + 1) * sizeof *ys);
    unsigned char *keep_ln = ns_malloc((size_t)n + 1), *keep_pt = ns_malloc((size_t)n + 1);
    for (int64_t k = 0; k < n; k++) {
        xs[k] = r->ctl[idx[k]].seq;
        ys[k] = r->ctl[idx[k]].value;
    }
    lj_thin(r, &sx, idx, n, ys, keep_ln, keep_pt);
    {
        double *lx = ns_malloc(((size_t)n + 1) * sizeof *lx), *ly = ns_malloc(((size_t)n + 1) * sizeof *ly);
        int64_t m = 0;
        for (int64_t k = 0; k < n; k++)
            if (keep_ln[k]) { lx[m] = xs[k]; ly[m] = ys[k]; m++; }
        ns_svg_polyline(fp, &sx, &sy, lx, ly, (int)m, "ln");
        free(lx);
        free(ly);
    }
    double last_label = -1e9;
    for (int64_t k = 0; k < n; k++) {
        if (!keep_pt[k]) continue;
        const ns_rpt_ctl_t *c = &r->ctl[idx[k]];
        const ns_rpt_seq_t *s = &r->seq[c->seq];
        char rules[64], tip[256];
        rule_names(c->rules, rules, sizeof rules);
        ns_svg_fmt(c->value, buf, sizeof buf);
        snprintf(tip, sizeof tip, "%s %s: %s%s%s", s->night, s->plate_id, buf, rules[0] ? " \xe2\x80\x94 " : "", rules);
        const char *pc = (c->rules & NS_WG_REJECT_RULES) ? "pr" : c->rules ? "pw" : s->tonight ? "pt" : "ph";
        ns_svg_point(fp, &sx, &sy, xs[k], ys[k], c->rules ? 4 : 2.5, pc, tip);
    }
    free(keep_ln);
    free(keep_pt);
    /* the rule named beside its point (over the points), unless the previous label is too
     * close: every rule is in the caption and in each point's tooltip */
    for (int64_t k = 0; k < n; k++) {
        const ns_rpt_ctl_t *c = &r->ctl[idx[k]];
        if (!c->rules || !r->seq[c->seq].tonight) continue;
        char rules[64];
        rule_names(c->rules, rules, sizeof rules);
        double px = ns_svg_map(&sx, xs[k]), py = ns_svg_clamp(&sy, ns_svg_map(&sy, ys[k]));
        if (px - last_label >= 6.0 * (double)strlen(rules)) {
            ns_svg_text(fp, px, py < y0 + 14 ? py + 14 : py - 7, "middle", "rule", rules);
            last_label = px;
        }
    }
    free(xs);
    free(ys);
    ns_svg_text(fp, (x0 + x1) / 2.0, H - 14, "middle", "al", T("report.plate_seq"));
    char sm[32], ss[32];
    ns_svg_fmt(mean, sm, sizeof sm);
    ns_svg_fmt(sd, ss, sizeof ss);
    const char *names[2] = { "mean", "sd" }, *vals[2] = { sm, ss };
    char *tg = ns_lang_format(L, "report.target", 2, names, vals);
    char *tgu = ns_asprintf("%s %s", tg, r->unit[a]);
    ns_svg_text(fp, x1, H - 3, "end", "tk", tgu);
    free(tg);
    free(tgu);
    ns_svg_end(fp);
    if (fired) {
        char rules[64];
        rule_names(fired, rules, sizeof rules);
        fputs("<figcaption>", fp);
        esc(fp, T("report.lj_fired"));
        fputs(": ", fp);
        esc(fp, rules);
        fputs("</figcaption>\n", fp);
    }
    fputs("</figure>\n", fp);
}

static void lj_section(FILE *fp, const ns_report_t *r, const ns_lang_t *L)
{
    char b1[32], b2[32];
    /* the controls of each chart (analyte a, level l: key a * 2 + l), in sequence order:
     * start[key] .. start[key + 1] of idx */
    const int nkey = r->n_analytes * 2;
    int64_t *start = ns_calloc((size_t)nkey + 1, sizeof *start), *idx = ns_malloc(((size_t)r->n_ctl + 1) * sizeof *idx);
    int64_t most = 0;
    for (int64_t k = 0; k < r->n_ctl; k++) start[r->ctl[k].analyte * 2 + r->ctl[k].level + 1]++;
    for (int key = 0; key < nkey; key++) {
        if (isfinite(r->target_mean[key]) && start[key + 1] > most) most = start[key + 1];
        start[key + 1] += start[key];
    }
    {
        int64_t *fill = ns_malloc(((size_t)nkey + 1) * sizeof *fill);
        memcpy(fill, start, ((size_t)nkey + 1) * sizeof *fill);
        for (int64_t k = 0; k < r->n_ctl; k++) idx[fill[r->ctl[k].analyte * 2 + r->ctl[k].level]++] = k;
        free(fill);
    }
    fputs("<section id=\"levey-jennings\">\n<h2>", fp);
    esc(fp, T("report.lj"));
    fputs("</h2>\n<p class=\"note\">", fp);
    esc(fp, T("report.lj_note"));
    fputs(" ", fp);
    int hist_plates = 0;
    for (int s = 0; s < r->n_seq; s++) hist_plates += !r->seq[s].tonight;
    if (r->n_hist > 0)
        fmt(fp, L, "report.lj_history", 2, "n", num(b1, r->n_hist), "k", num(b2, hist_plates), NULL, NULL);
    else
        esc(fp, T("report.lj_no_history"));
    if (most > lj_columns()) {
        fputs(" ", fp);
        fmt(fp, L, "report.lj_thinned", 1, "c", num(b1, lj_columns()), NULL, NULL, NULL, NULL);
    }
    fputs("</p>\n", fp);
    if (!r->have_qc) { ns_rpt_el(fp, "p", "note", T("report.qc.not_recorded")); fputc('\n', fp); }
    int any = 0;
    fputs("<div class=\"charts\">\n", fp);
    for (int a = 0; a < r->n_analytes; a++)
        for (int l = 0; l < 2; l++) {
            const int key = a * 2 + l;
            if (!isfinite(r->target_mean[key]) || start[key + 1] == start[key]) continue;
            any = 1;
            lj_chart(fp, r, L, a, l, idx + start[key], start[key + 1] - start[key]);
        }
    fputs("</div>\n", fp);
    free(idx);
    free(start);
    if (!any) { ns_rpt_el(fp, "p", "note", T("report.no_targets")); fputc('\n', fp); }
    fputs("</section>\n", fp);
}

/* One analyte's histogram with its limits. */
static void dist_chart(FILE *fp, const ns_report_t *r, const ns_lang_t *L, int a, double *scratch)
{
    const double *v = r->patient[a];
    int64_t n = r->n_patient[a];
    /* domain: the values and the limits drawn; log when they span a wide range */
    double lo = INFINITY, hi = -INFINITY, minpos = INFINITY;
    if (r->view.n > 0) {           /* from the batch's column, into scratch (view.n values) */
        n = ns_rpt_pick_range(r->view.n, r->view.keep, r->view.conc, r->view.cell, a, scratch, &lo, &hi, &minpos);
        v = scratch;
    } else {
        for (int64_t i = 0; i < n; i++) {
            if (v[i] < lo) lo = v[i];
            if (v[i] > hi) hi = v[i];
            if (v[i] > 0 && v[i] < minpos) minpos = v[i];
        }
    }
    const int W = 320, H = 190, x0 = 40, x1 = W - 12, y0 = 44, y1 = H - 36;
    char title[96], b1[32];
    for (int k = 0; k < r->n_cut; k++)
        if (r->cut[k].analyte == a) {
            if (r->cut[k].value < lo) lo = r->cut[k].value;
            if (r->cut[k].value > hi) hi = r->cut[k].value;
            if (r->cut[k].value > 0 && r->cut[k].value < minpos) minpos = r->cut[k].value;
        }
    int log = n > 0 && isfinite(minpos) && hi / minpos >= 30;
    snprintf(title, sizeof title, "%s (%s)", r->analyte[a], r->unit[a]);
    fputs("<figure>\n", fp);
    ns_svg_begin(fp, W, H, title);
    ns_svg_text(fp, x0, 13, "start", "ti", title);
    if (n == 0) {
        ns_svg_text(fp, W / 2.0, H / 2.0, "middle", "al", T("report.no_values"));
        ns_svg_end(fp);
        fputs("</figure>\n", fp);
        return;
    }
    ns_scale_t sx = log ? ns_scale_make(NS_SCALE_LOG, minpos / 1.5, hi * 1.5, x0, x1)
                        : ns_scale_nice(ns_scale_make(NS_SCALE_LINEAR, lo < 0 ? lo : 0, hi, x0, x1), 5);
    sx.r0 = x0;
    sx.r1 = x1;
    enum { NB = 40 };
    double edges[NB + 1];
    long counts[NB], skipped = 0;
    ns_hist_edges(&sx, NB, edges);
    ns_hist_count(&sx, edges, NB, v, (long)n, counts, &skipped);
    long cmax = 1;
    for (int k = 0; k < NB; k++)
        if (counts[k] > cmax) cmax = counts[k];
    ns_scale_t sy = ns_scale_nice(ns_scale_make(NS_SCALE_LINEAR, 0, (double)cmax, y1, y0), 4);
    sy.r0 = y1;
    sy.r1 = y0;
    ns_svg_axis_y(fp, &sy, x0, x1, 4, NULL);
    for (int k = 0; k < NB; k++) {
        if (!counts[k]) continue;
        double bx0 = ns_svg_map(&sx, edges[k]), bx1 = ns_svg_map(&sx, edges[k + 1]);
        double by = ns_svg_map(&sy, (double)counts[k]);
        char e0[32], e1[32], tip[96];
        ns_svg_fmt(edges[k], e0, sizeof e0);
        ns_svg_fmt(edges[k + 1], e1, sizeof e1);
        snprintf(tip, sizeof tip, "%s\xe2\x80\x93%s: %ld", e0, e1, counts[k]);
        ns_svg_rect(fp, bx0 + 0.3, by, bx1 - bx0 - 0.6, y1 - by, "bar", tip);
    }
    ns_svg_axis_x(fp, &sx, y1, 5, log ? T("report.log_scale") : NULL);
    /* limits: one line per distinct (kind, value); labels list the conditions */
    static const char *const cls[3] = { "cut", "brd", "crit" };
    int row = 0;
    for (int k = 0; k < r->n_cut; k++) {
        const ns_rpt_cut_t *c = &r->cut[k];
        if (c->analyte != a) continue;
        int dup = 0;
        for (int j = 0; j < k && !dup; j++)
            dup = r->cut[j].analyte == a && r->cut[j].kind == c->kind && r->cut[j].value == c->value;
        if (dup) continue;
        char *lab = NULL;
        for (int j = k; j < r->n_cut; j++)
            if (r->cut[j].analyte == a && r->cut[j].kind == c->kind && r->cut[j].value == c->value)
                lab = ns_rpt_join_unique(lab, r->cut[j].cond);
        char vbuf[32];
        ns_svg_fmt(c->value, vbuf, sizeof vbuf);
        static const char *const lk[3] = { "limit.cutoff", "limit.borderline", "limit.critical" };
        char *full = ns_asprintf("%s %s %s%s", lab, T(lk[c->kind]), c->high ? ">" : "<", vbuf);
        double px = ns_svg_map(&sx, c->value);
        if (!isnan(px)) {
            fprintf(fp, "<line class=\"%s\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"><title>", cls[c->kind], px, y1,
                    px, y0 - 4 + 0);
            esc(fp, full);
            fputs("</title></line>\n", fp);
            ns_svg_text(fp, px, y0 - 6 - 8 * (row % 3), px > (x0 + x1) / 2.0 ? "end" : "start", cls[c->kind], full);
            row++;
        }
        free(lab);
        free(full);
    }
    ns_svg_end(fp);
    fputs("<figcaption>", fp);
    fmt(fp, L, "report.n_values", 1, "n", num(b1, n), NULL, NULL, NULL, NULL);
    if (r->n_censored[a] + skipped) {
        fputs("; ", fp);
        fmt(fp, L, "report.censored", 1, "n", num(b1, r->n_censored[a] + skipped), NULL, NULL, NULL, NULL);
    }
    fputs("</figcaption>\n</figure>\n", fp);
}

static void dist_section(FILE *fp, const ns_report_t *r, const ns_lang_t *L)
{
    fputs("<section id=\"distributions\">\n<h2>", fp);
    esc(fp, T("report.dist"));
    fputs("</h2>\n<p class=\"note\">", fp);
    esc(fp, T("report.dist_note"));
    fputs("</p>\n<div class=\"charts\">\n", fp);
    double *scratch = r->view.n > 0 ? ns_malloc((size_t)r->view.n * sizeof *scratch) : NULL;
    for (int a = 0; a < r->n_analytes; a++) dist_chart(fp, r, L, a, scratch);
    free(scratch);
    fputs("</div>\n</section>\n", fp);
}

/* average of condition c over the history nights that had it; NAN if none */
static double hist_avg(const ns_report_t *r, int c)
{
    double s = 0;
    int k = 0;
    for (int h = 0; h < r->n_hist; h++)
        if (r->hist[h].recalls[c] >= 0) { s += (double)r->hist[h].recalls[c]; k++; }
    return k ? s / k : NAN;
}

static void recalls_section(FILE *fp, const ns_report_t *r, const ns_lang_t *L)
{
    char b1[32], buf[32];
    fputs("<section id=\"recalls\">\n<h2>", fp);
    esc(fp, T("report.recalls"));
    fputs("</h2>\n<p class=\"note\">", fp);
    esc(fp, T("report.recalls_note"));
    fputs(" ", fp);
    if (r->n_hist) fmt(fp, L, "report.recalls_history", 1, "n", num(b1, r->n_hist), NULL, NULL, NULL, NULL);
    else esc(fp, T("report.recalls_no_history"));
    fputs("</p>\n", fp);
    /* bar chart: tonight's count per condition, the recent average as a tick */
    const int nc = r->n_cond;
    const int bw = 22, W = 60 + nc * bw + 20, H = 220, x0 = 44, y0 = 20, y1 = H - 50;
    double vmax = 1;
    for (int c = 0; c < nc; c++) {
        if ((double)r->recalls[c] > vmax) vmax = (double)r->recalls[c];
        double av = hist_avg(r, c);
        if (isfinite(av) && av > vmax) vmax = av;
    }
    ns_svg_begin(fp, W, H, T("report.recalls"));
    ns_scale_t sy = ns_scale_nice(ns_scale_make(NS_SCALE_LINEAR, 0, vmax, y1, y0), 4);
    sy.r0 = y1;
    sy.r1 = y0;
    ns_svg_axis_y(fp, &sy, x0, x0 + nc * bw + 4, 4, NULL);
    fprintf(fp, "<line class=\"ax\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n", x0, y1, x0 + nc * bw + 4, y1);
    for (int c = 0; c < nc; c++) {
        double bx = x0 + 4 + c * bw, av = hist_avg(r, c);
        double by = ns_svg_map(&sy, (double)r->recalls[c]);
        char tip[128];
        ns_svg_fmt(av, buf, sizeof buf);
        snprintf(tip, sizeof tip, "%s: %lld (%s %s)", r->cond[c], (long long)r->recalls[c], T("report.col.average"),
                 isfinite(av) ? buf : "-");
        if (r->recalls[c] > 0)
            ns_svg_rect(fp, bx, by, bw - 6, y1 - by, isfinite(av) && (double)r->recalls[c] > 2 * av + 1 ? "bar2" : "bar", tip);
        if (isfinite(av)) {
            double ay = ns_svg_map(&sy, av);
            fprintf(fp, "<line class=\"avg\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", bx - 2, ay, bx + bw - 4, ay);
        }
        fprintf(fp, "<text class=\"tk\" transform=\"translate(%.1f,%d) rotate(60)\">", bx + (bw - 6) / 2.0, y1 + 6);
        esc(fp, r->cond[c]);
        fputs("</text>\n", fp);
    }
    ns_svg_end(fp);
    /* table */
    fputs("<table>\n<tr>", fp);
    ns_rpt_el(fp, "th", NULL, T("report.col.condition"));
    ns_rpt_el(fp, "th", NULL, T("report.col.tonight"));
    ns_rpt_el(fp, "th", NULL, T("report.col.per_1000"));
    ns_rpt_el(fp, "th", NULL, T("report.col.average"));
    fputs("</tr>\n", fp);
    for (int c = 0; c < nc; c++) {
        double av = hist_avg(r, c);
        fputs("<tr>", fp);
        ns_rpt_el(fp, "td", NULL, r->cond[c]);
        ns_rpt_el(fp, "td", "n", num(b1, r->recalls[c]));
        if (r->patients > 0) snprintf(buf, sizeof buf, "%.2f", 1000.0 * (double)r->recalls[c] / (double)r->patients);
        else snprintf(buf, sizeof buf, "-");
        ns_rpt_el(fp, "td", "n", buf);
        if (isfinite(av)) snprintf(buf, sizeof buf, "%.1f", av);
        else snprintf(buf, sizeof buf, "-");
        ns_rpt_el(fp, "td", "n", buf);
        fputs("</tr>\n", fp);
    }
    fputs("</table>\n</section>\n", fp);
}

static void rate_row(FILE *fp, const ns_lang_t *L, const char *key, int64_t k, int64_t n)
{
    char bk[32], bn[32], br[32];
    if (n > 0) snprintf(br, sizeof br, "%.1f%%", 100.0 * (double)k / (double)n);
    else snprintf(br, sizeof br, "-");
    fputs("<tr>", fp);
    ns_rpt_el(fp, "td", NULL, T(key));
    fputs("<td class=\"n\">", fp);
    fmt(fp, L, "report.h.rate", 3, "k", num(bk, k), "n", num(bn, n), "rate", br);
    fputs("</td></tr>\n", fp);
}

static void hearing_section(FILE *fp, const ns_report_t *r, const ns_lang_t *L)
{
    char b1[32];
    fputs("<section id=\"hearing\">\n<h2>", fp);
    esc(fp, T("report.hearing"));
    fputs("</h2>\n", fp);
    if (!r->have_hearing) {
        ns_rpt_el(fp, "p", NULL, T(r->have_followup ? "report.hearing_absent" : "report.not_recorded"));
        fputs("\n</section>\n", fp);
        return;
    }
    if (!r->hearing_recorded) {
        ns_rpt_el(fp, "p", "note", T("report.not_recorded"));
        fputs("\n</section>\n", fp);
        return;
    }
    fputs("<table>\n<tr>", fp);
    ns_rpt_el(fp, "td", NULL, T("report.h.infants"));
    ns_rpt_el(fp, "td", "n", num(b1, r->h_infants));
    fputs("</tr>\n", fp);
    rate_row(fp, L, "report.h.initial", r->h_initial_refer, r->h_initial_screened);
    rate_row(fp, L, "report.h.rescreen", r->h_rescreen_refer, r->h_rescreened);
    fputs("</table>\n", fp);
    /* two bars, 0-100 % would flatten them: scale to the larger rate */
    const int W = 360, H = 90, x0 = 150, x1 = W - 50;
    double r1 = r->h_initial_screened ? (double)r->h_initial_refer / (double)r->h_initial_screened : 0;
    double r2 = r->h_rescreened ? (double)r->h_rescreen_refer / (double)r->h_rescreened : 0;
    double mx = r1 > r2 ? r1 : r2;
    ns_svg_begin(fp, W, H, T("report.hearing"));
    ns_scale_t sx = ns_scale_nice(ns_scale_make(NS_SCALE_LINEAR, 0, mx > 0 ? mx * 100 : 1, x0, x1), 4);
    sx.r0 = x0;
    sx.r1 = x1;
    const double rates[2] = { r1 * 100, r2 * 100 };
    const char *const lab[2] = { "report.h.initial", "report.h.rescreen" };
    for (int k = 0; k < 2; k++) {
        double y = 8 + k * 24;
        ns_svg_text(fp, x0 - 6, y + 13, "end", "al", T(lab[k]));
        double px = ns_svg_map(&sx, rates[k]);
        ns_svg_rect(fp, x0, y, px - x0, 16, "bar", NULL);
        char b[32];
        snprintf(b, sizeof b, "%.1f%%", rates[k]);
        ns_svg_text(fp, px + 4, y + 13, "start", "al", b);
    }
    ns_svg_axis_x(fp, &sx, 60, 4, "%");
    ns_svg_end(fp);
    fputs("</section>\n", fp);
}

static void list_section(FILE *fp, const ns_report_t *r, const ns_lang_t *L)
{
    fputs("<section id=\"recall-list\">\n<h2>", fp);
    esc(fp, T("report.list"));
    fputs("</h2>\n", fp);
    if (!r->have_followup) {
        ns_rpt_el(fp, "p", "note", T("report.list_unknown"));
        fputs("\n</section>\n", fp);
        return;
    }
    ns_rpt_el(fp, "p", r->with_names ? "pd" : "note", T(r->with_names ? "report.list_note_names" : "report.list_note"));
    fputs("\n<table>\n<tr>", fp);
    ns_rpt_el(fp, "th", NULL, T("report.col.priority"));
    ns_rpt_el(fp, "th", NULL, T("report.col.infant_id"));
    if (r->with_names) ns_rpt_el(fp, "th", NULL, T("report.col.name"));
    ns_rpt_el(fp, "th", NULL, T("report.col.sources"));
    ns_rpt_el(fp, "th", NULL, T("report.col.codes"));
    fputs("</tr>\n", fp);
    for (int64_t k = 0; k < r->n_babies; k++) {
        const ns_rpt_baby_t *b = &r->babies[k];
        char key[32];
        snprintf(key, sizeof key, "priority.%s", ns_prio_name(b->priority));
        fprintf(fp, "<tr class=\"%s\">", b->priority == NS_PRIO_CRITICAL ? "bad" : b->priority == NS_PRIO_URGENT ? "warn" : "ok");
        ns_rpt_el(fp, "td", "st", T(key));
        ns_rpt_el(fp, "td", NULL, b->infant_id);
        if (r->with_names) ns_rpt_el(fp, "td", NULL, b->name ? b->name : "");
        ns_rpt_el(fp, "td", NULL, b->sources);
        ns_rpt_el(fp, "td", NULL, b->codes);
        fputs("</tr>\n", fp);
    }
    fputs("</table>\n</section>\n", fp);
}

/* every section but the indicators */
static void page_body(FILE *fp, const ns_report_t *r, const ns_lang_t *L)
{
    head(fp, r, L);
    glance(fp, r, L);
    plate_table(fp, r, L);
    lj_section(fp, r, L);
    dist_section(fp, r, L);
    recalls_section(fp, r, L);
    hearing_section(fp, r, L);
    list_section(fp, r, L);
}

static void page_end(FILE *fp, const ns_rpt_ind_t *ind, const ns_lang_t *L)
{
    if (ind) ns_rpt_ind_html(fp, ind, L);
    fputs("</body>\n</html>\n", fp);
}

void ns_report_html(FILE *fp, const ns_report_t *r, const ns_lang_t *L)
{
    page_body(fp, r, L);
    page_end(fp, r->ind, L);
}

int ns_report_write(const char *path, const ns_report_t *r, const ns_lang_t *L, const char *tag)
{
    return ns_report_write_wait(path, r, L, tag, NULL, NULL);
}

int ns_report_write_wait(const char *path, const ns_report_t *r, const ns_lang_t *L, const char *tag,
                         const ns_rpt_ind_t *(*wait)(void *arg), void *arg)
{
    ns_atomic_t *af = ns_atomic_open(path, r->with_names ? 0600 : 0644);
    if (!af) {
        ns_error_errno(tag, "cannot create %s", path);
        return -1;
    }
    page_body(af->fp, r, L);
    page_end(af->fp, wait ? wait(arg) : r->ind, L);
    if (ns_atomic_commit(af) < 0) {
        ns_error_errno(tag, "cannot write %s", path);
        return -1;
    }
    return 0;
}
