/* plate_qc.c — see plate_qc.h.
 *
 * The Westgard series of one analyte is: earlier nights' controls (history), then tonight's
 * plates in file order.  For plate k, the kernel sees the last SERIES_BACK observations
 * before plate k plus plate k's own (marked current); no rule looks further back than
 * ten observations per level, so the window is ample and the cost stays linear in the
 * number of plates.  Analytes are independent and judged in parallel; every decision is
 * then taken serially in plate order, so results do not depend on the thread count.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../kernels/stats.h"
#include "log.h"
#include "plate_qc.h"
#include "util.h"

#define SERIES_BACK 48

static const char *const level_name[NS_QC_LEVELS] = { "qc_low", "qc_high" };

static int level_of_type(int type)
{
    return type == NS_TYPE_QC_LOW ? 0 : type == NS_TYPE_QC_HIGH ? 1 : -1;
}

/* rows of plate k: [first_row, end) — rows of one plate are contiguous in the batch */
static int64_t plate_end(const ns_batch_t *b, int k)
{
    int64_t i = b->plates[k].first_row;
    while (i < b->n && b->plate[i] == k) i++;
    return i;
}

/* The patient values (type NS_TYPE_PATIENT, not NaN) of rows [i0, i1) of col into buf, in
 * row order; how many.  Eight rows a step with AVX-512 compress stores where the CPU can,
 * the rest one at a time (every value stored, the count advanced by the test). */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
__attribute__((target("avx512f,avx512bw,avx512vl")))
static size_t patients_avx512(const double *col, const uint8_t *type, int64_t i0, int64_t i1, double *buf,
                              int64_t *next)
{
    const __m128i pat = _mm_set1_epi8((char)NS_TYPE_PATIENT);
    size_t m = 0;
    int64_t i = i0;
    for (; i + 8 <= i1; i += 8) {
        const __m512d v = _mm512_loadu_pd(col + i);
        const __m128i t = _mm_loadl_epi64((const __m128i *)(type + i));
        const __mmask8 k = (__mmask8)(_mm_cmpeq_epi8_mask(t, pat) & _mm512_cmp_pd_mask(v, v, _CMP_ORD_Q));
        _mm512_mask_compressstoreu_pd(buf + m, k, v);
        m += (size_t)__builtin_popcount(k);
    }
    *next = i;
    return m;
}
#endif

static size_t patient_values(const double *col, const uint8_t *type, int64_t i0, int64_t i1, double *buf)
{
    size_t m = 0;
    int64_t i = i0;
#if defined(__x86_64__) && defined(__GNUC__)
    if (ns_cpu_avx512()) m = patients_avx512(col, type, i0, i1, buf, &i);
#endif
    for (; i < i1; i++) {
        const double v = col[i];
        buf[m] = v;                                     /* kept if a patient's value */
        m += (size_t)(type[i] == NS_TYPE_PATIENT && !isnan(v));
    }
    return m;
}

/* Median of v (reordered): a branch-free quickselect (ns_median_inplace, the same value
 * as gsl_stats_median, three to four times faster on a plate's ~90 values) rather than a
 * full sort, since QC takes one per plate and analyte.  The middle element, or half the
 * sum of the two middle ones. */
static double median_of(double *v, size_t n)
{
    return ns_median_inplace(v, n);
}

static void add_warning(ns_plate_qc_t *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_warning(ns_plate_qc_t *q, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char *w = q->warnings ? ns_asprintf("%s; %s", q->warnings, msg) : ns_strdup(msg);
    free(q->warnings);
    q->warnings = w;
    if (q->status == NS_QC_ACCEPTED) q->status = NS_QC_WARNING;
}

__attribute__((format(printf, 2, 3)))
static void reject(ns_plate_qc_t *q, const char *fmt, ...)
{
    if (q->status == NS_QC_REJECTED) return;       /* the first reason decides */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q->reason, sizeof q->reason, fmt, ap);
    va_end(ap);
    q->status = NS_QC_REJECTED;
}

/* Westgard over every analyte: fills q[k].violated and returns, per plate and analyte,
 * the kernel's outcome in res_of[k * na + a] (violated == 0 where nothing was judged). */
static int westgard_all(const ns_batch_t *b, const ns_qc_config_t *cfg, const ns_qc_history_t *hist,
                        const ns_qc_result_t *r, ns_wg_result_t *res_of)
{
    const int na = b->panel->n_analytes, np = b->n_plates;
    int bad = 0;
    /* the observations of each analyte, in series order (history, then tonight), found in
     * one pass: at[start[a] .. start[a + 1]) indexes the history (< nh) and tonight (>= nh) */
    const int64_t nh = hist ? hist->n_obs : 0, nt = nh + r->n_obs;
    int64_t *start = ns_calloc((size_t)na + 2, sizeof *start);
    int64_t *at = ns_malloc((size_t)(nt ? nt : 1) * sizeof *at);
    for (int64_t j = 0; j < nt; j++) {
        const ns_qc_control_t *o = j < nh ? &hist->obs[j] : &r->obs[j - nh];
        if (o->analyte >= 0 && o->analyte < na) start[o->analyte + 2]++;
    }
    for (int a = 0; a < na; a++) start[a + 2] += start[a + 1];
    for (int64_t j = 0; j < nt; j++) {
        const ns_qc_control_t *o = j < nh ? &hist->obs[j] : &r->obs[j - nh];
        if (o->analyte >= 0 && o->analyte < na) at[start[o->analyte + 1]++] = j;
    }

    #pragma omp parallel for schedule(dynamic, 1) reduction(|:bad)
    for (int a = 0; a < na; a++) {
        /* this analyte's series: history, then tonight in plate order */
        const int64_t m = start[a + 1] - start[a];
        ns_qc_obs_t *s = ns_malloc((size_t)(m ? m : 1) * sizeof *s);
        int32_t *plate_of = ns_malloc((size_t)(m ? m : 1) * sizeof *plate_of);
        for (int64_t x = 0; x < m; x++) {
            const int64_t j = at[start[a] + x];
            const ns_qc_control_t *o = j < nh ? &hist->obs[j] : &r->obs[j - nh];
            s[x].z = o->z;
            s[x].level = o->level;
            s[x].current = 0;
            plate_of[x] = j < nh ? -1 : o->plate;
        }
        /* tonight's plates as runs of the series: [lo[x], hi[x]) the observations of
         * plate pk[x]; each judged on the SERIES_BACK observations before it, in one pass */
        const size_t nps = (size_t)(np ? np : 1);
        int64_t *lo = ns_malloc(nps * sizeof *lo), *hi = ns_malloc(nps * sizeof *hi);
        int *pk = ns_malloc(nps * sizeof *pk);
        ns_wg_result_t *res = ns_malloc(nps * sizeof *res);
        int64_t nr = 0, j = 0;
        while (j < m && plate_of[j] < 0) j++;
        for (int k = 0; k < np; k++) {
            memset(&res_of[(size_t)k * na + a], 0, sizeof *res_of);
            const int64_t j0 = j;
            while (j < m && plate_of[j] == k) j++;
            if (j == j0) continue;
            lo[nr] = j0;
            hi[nr] = j;
            pk[nr++] = k;
        }
        if (ns_westgard_eval_runs(s, m, lo, hi, nr, SERIES_BACK, cfg->rules, res) < 0) bad = 1;
        for (int64_t x = 0; x < nr && !bad; x++) {
            const int k = pk[x];
            res_of[(size_t)k * na + a] = res[x];
            /* per level: which rules this plate's observations of that level break */
            for (int l = 0; l < NS_QC_LEVELS; l++) {
                int any = 0;
                for (int64_t i = lo[x]; i < hi[x]; i++) any |= s[i].level == l;
                if (!any) continue;
                unsigned v = 0;     /* rules decided by this level, or by levels together */
                for (int rb = 0; rb < 6; rb++)
                    if ((res[x].violated & (1u << rb))
                        && (res[x].rule_level[rb] == l || res[x].rule_level[rb] < 0))
                        v |= 1u << rb;
                r->plate[k].violated[a * NS_QC_LEVELS + l] = v;
            }
        }
        free(res);
        free(pk);
        free(hi);
        free(lo);
        free(s);
        free(plate_of);
    }
    free(start);
    free(at);
    return bad ? -1 : 0;
}

int ns_plate_qc_run(ns_batch_t *b, const ns_qc_config_t *cfg, const ns_qc_history_t *hist,
                    ns_qc_result_t *r)
{
    const ns_panel_t *p = b->panel;
    const int na = p->n_analytes, np = b->n_plates;
    const size_t un = (size_t)b->n;
    memset(r, 0, sizeof *r);
    r->cfg = cfg;
    r->plate = ns_calloc((size_t)(np ? np : 1), sizeof *r->plate);
    for (int k = 0; k < np; k++) {
        ns_plate_qc_t *q = &r->plate[k];
        q->status = b->plates[k].status == NS_PLATE_OK ? NS_QC_ACCEPTED : NS_QC_NOT_RUN;
        q->violated = ns_calloc((size_t)na * NS_QC_LEVELS, sizeof *q->violated);
        q->median = ns_malloc((size_t)na * sizeof *q->median);
        q->median_ref = ns_malloc((size_t)na * sizeof *q->median_ref);
        for (int a = 0; a < na; a++) q->median[a] = q->median_ref[a] = NAN;
    }

    /* tonight's control observations, plate order, well order, analyte order: the control
     * rows and where each row's observations start, then the rows filled in parallel */
    int n_of_level[NS_QC_LEVELS] = { 0, 0 };              /* analytes with a target, per level */
    for (int l = 0; l < NS_QC_LEVELS; l++)
        for (int a = 0; a < na; a++) n_of_level[l] += !isnan(cfg->level[l].mean[a]);
    int64_t n_ctl = 0;
    for (int64_t i = 0; i < b->n; i++) n_ctl += level_of_type(b->type[i]) >= 0;
    int64_t *ctl_row = ns_malloc((size_t)(n_ctl + 1) * sizeof *ctl_row);
    int64_t *ctl_obs = ns_malloc((size_t)(n_ctl + 1) * sizeof *ctl_obs);
    n_ctl = 0;
    for (int64_t i = 0; i < b->n; i++) {
        const int l = level_of_type(b->type[i]);
        if (l < 0) continue;
        ctl_row[n_ctl] = i;
        ctl_obs[n_ctl] = r->n_obs;
        r->n_obs += n_of_level[l];
        n_ctl++;
    }
    r->obs = ns_calloc((size_t)r->n_obs + 1, sizeof *r->obs);
    #pragma omp parallel for schedule(static)
    for (int64_t x = 0; x < n_ctl; x++) {
        const int64_t i = ctl_row[x];
        const int l = level_of_type(b->type[i]);
        const ns_qc_level_t *lv = &cfg->level[l];
        /* the plate id as snprintf("%s") would put it in the field (cut to fit), once a row */
        const char *pid = b->plates[b->plate[i]].id;
        const size_t pl = strnlen(pid, sizeof r->obs->plate_id - 1);
        ns_qc_control_t *o = &r->obs[ctl_obs[x]];
        for (int a = 0; a < na; a++) {
            if (isnan(lv->mean[a])) continue;
            memcpy(o->plate_id, pid, pl);       /* the rest of the field is calloc's zeros */
            o->plate = b->plate[i];
            memcpy(o->well, b->well[i], 4);
            o->level = (uint8_t)l;
            o->analyte = a;
            o->value = b->conc[(size_t)a * un + (size_t)i];
            o->z = (o->value - lv->mean[a]) / lv->sd[a];     /* NAN stays NAN */
            o++;
        }
    }
    free(ctl_obs);
    free(ctl_row);

    /* 1. Westgard, all analytes in parallel */
    ns_wg_result_t *res_of = ns_calloc((size_t)(np ? np : 1) * (size_t)(na ? na : 1), sizeof *res_of);
    if (westgard_all(b, cfg, hist, r, res_of) < 0) {
        ns_error("run", "internal error: Westgard kernel rejected a control series");
        free(res_of);
        return -1;
    }

    /* 2. each plate's patient medians, then the running median of the plates before it
     * (only medians: no decision depends on them).  Analytes in parallel, plates in order
     * within each: a thread reads its columns of b->conc front to back, and carries the
     * window of earlier plates' medians along. */
    int64_t *row_end = ns_malloc((size_t)(np ? np : 1) * sizeof *row_end);
    int64_t most = 1;                                    /* the most rows of a plate */
    for (int k = 0; k < np; k++) {
        row_end[k] = 0;
        if (r->plate[k].status == NS_QC_NOT_RUN) continue;    /* a quarantined plate has no rows */
        row_end[k] = plate_end(b, k);
        if (row_end[k] - b->plates[k].first_row > most) most = row_end[k] - b->plates[k].first_row;
    }
    const int want = cfg->median_window > 0 ? cfg->median_window : 0;     /* 0: no running median */
    #pragma omp parallel
    {
        double *buf = ns_malloc((size_t)most * sizeof *buf);
        double *ref = ns_malloc(((size_t)want + 1) * sizeof *ref);
        double *win = ns_malloc(((size_t)want + 1) * sizeof *win);    /* a ring of the latest medians */
        #pragma omp for schedule(static)
        for (int a = 0; a < na; a++) {
            const double *col = b->conc + (size_t)a * un;
            int nw = 0, head = 0;               /* win holds nw medians; the latest at head - 1 */
            for (int k = 0; k < np; k++) {
                ns_plate_qc_t *q = &r->plate[k];
                if (q->status == NS_QC_NOT_RUN) continue;
                const size_t m = patient_values(col, b->type, b->plates[k].first_row, row_end[k], buf);
                q->median[a] = (int)m >= cfg->median_min_patients ? median_of(buf, m) : NAN;
                if (isnan(cfg->median_max_shift) || isnan(q->median[a]) || want == 0) continue;
                /* the earlier plates' medians, latest first, then the history's */
                size_t nr = 0;
                for (int x = 0; x < nw; x++) ref[nr++] = win[(head - 1 - x + want) % want];
                for (int j = hist ? hist->n_plates - 1 : -1; j >= 0 && (int)nr < want; j--) {
                    const double h = hist->median[(size_t)j * na + a];
                    if (!isnan(h)) ref[nr++] = h;
                }
                if (nr >= 3) q->median_ref[a] = median_of(ref, nr);  /* fewer: too little to compare with */
                win[head] = q->median[a];
                head = (head + 1) % want;
                if (nw < want) nw++;
            }
        }
        free(win);
        free(ref);
        free(buf);
    }
    free(row_end);

    /* 3. decisions, plate by plate: each plate's own, so plates in parallel */
    int64_t n_rejected = 0, n_warning = 0;
    #pragma omp parallel reduction(+:n_rejected, n_warning)
    {
        int64_t *lvl_row = NULL;
        uint8_t *lvl_of = NULL;
        int lvl_cap = 0;
        #pragma omp for schedule(dynamic, 64)
        for (int k = 0; k < np; k++) {
            ns_plate_qc_t *q = &r->plate[k];
            if (q->status == NS_QC_NOT_RUN) continue;
            const int64_t i0 = b->plates[k].first_row, i1 = plate_end(b, k);

            /* a control level missing from the plate: nothing can be verified (the plate's
             * control rows by level, in lvl_row[]: a plate has a handful) */
            int n_lvl[NS_QC_LEVELS] = { 0, 0 };
            for (int64_t i = i0; i < i1; i++) {
                int l = level_of_type(b->type[i]);
                if (l < 0) continue;
                if (n_lvl[0] + n_lvl[1] == lvl_cap) {
                    lvl_cap = lvl_cap ? 2 * lvl_cap : 16;
                    lvl_row = ns_realloc(lvl_row, (size_t)lvl_cap * sizeof *lvl_row);
                    lvl_of = ns_realloc(lvl_of, (size_t)lvl_cap * sizeof *lvl_of);
                }
                lvl_row[n_lvl[0] + n_lvl[1]] = i;
                lvl_of[n_lvl[0] + n_lvl[1]] = (uint8_t)l;
                n_lvl[l]++;
            }
            for (int l = 0; l < NS_QC_LEVELS; l++)
                if (!n_lvl[l]) reject(q, "no %s well on the plate", level_name[l]);

            /* a level present but without a value for an analyte that has a target */
            for (int l = 0; l < NS_QC_LEVELS && q->status != NS_QC_REJECTED; l++)
                for (int a = 0; a < na; a++) {
                    if (isnan(cfg->level[l].mean[a]) || !n_lvl[l]) continue;
                    int have = 0;
                    for (int x = 0; x < n_lvl[0] + n_lvl[1]; x++)
                        if (lvl_of[x] == l && !isnan(b->conc[(size_t)a * un + (size_t)lvl_row[x]])) have = 1;
                    if (!have) { reject(q, "no %s value for %s", level_name[l], p->analytes[a].name); break; }
                }

            /* Westgard: a rejecting rule decides before any warning; among rules of one kind,
             * Westgard's order of seriousness, then analyte order.  Ranked here, not by the
             * kernel's first_rule, because the config may make any rule warning-only. */
            static const int by_seriousness[6] = { 1, 3, 2, 4, 5, 0 };   /* 1-3s R-4s 2-2s 4-1s 10-x 1-2s */
            int best_a = -1, best_rule = -1;
            for (int pass = 0; pass < 2 && best_rule < 0; pass++) {
                unsigned kind = pass ? cfg->rules & ~cfg->reject_rules : cfg->reject_rules;
                for (int s = 0; s < 6 && best_rule < 0; s++) {
                    int rule = by_seriousness[s];
                    if (!(kind & (1u << rule))) continue;
                    for (int a = 0; a < na; a++)
                        if (res_of[(size_t)k * na + a].violated & (1u << rule)) { best_rule = rule; best_a = a; break; }
                }
            }
            if (best_rule >= 0) {
                int l = res_of[(size_t)k * na + best_a].rule_level[best_rule];
                const char *ln = l >= 0 ? level_name[l] : "qc_low+qc_high";
                if ((1u << best_rule) & cfg->reject_rules)
                    reject(q, "%s %s %s", ns_westgard_rule_name(best_rule), p->analytes[best_a].name, ln);
                else
                    add_warning(q, "%s %s %s", ns_westgard_rule_name(best_rule), p->analytes[best_a].name, ln);
            }

            /* blanks: carry-over from the well before */
            for (int64_t i = i0; i < i1; i++) {
                if (b->type[i] != NS_TYPE_BLANK) continue;
                for (int a = 0; a < na; a++) {
                    double lim = cfg->blank_max_fraction * cfg->level[0].mean[a];
                    double v = b->conc[(size_t)a * un + (size_t)i];
                    /* "<0.01" or ND only says the blank is below a limit: no evidence of carry-over */
                    if (b->cell && b->cell[(size_t)a * un + (size_t)i] != NS_CELL_VALUE) continue;
                    if (isnan(lim) || isnan(v) || v <= lim) continue;
                    if (cfg->blank_action == NS_QC_ACT_REJECT)
                        reject(q, "carry-over %s in blank %s", p->analytes[a].name, b->well[i]);
                    else
                        add_warning(q, "carry-over %s in blank %s", p->analytes[a].name, b->well[i]);
                }
            }

            /* patient medians against the running median of earlier plates (both computed
             * above, in parallel) */
            for (int a = 0; a < na; a++) {
                if (isnan(cfg->median_max_shift) || isnan(q->median[a]) || isnan(q->median_ref[a])) continue;
                double shift = q->median[a] / q->median_ref[a] - 1.0;
                if (q->median_ref[a] > 0 && fabs(shift) > cfg->median_max_shift)
                    add_warning(q, "median shift %s %+.0f%%", p->analytes[a].name, 100.0 * shift);
            }

            if (q->status == NS_QC_REJECTED) n_rejected++;
            else if (q->status == NS_QC_WARNING) n_warning++;
            if (q->status == NS_QC_REJECTED && b->state)
                for (int64_t i = i0; i < i1; i++)
                    if (b->type[i] == NS_TYPE_PATIENT) b->state[i] = NS_STATE_QC_HOLD;
        }
        free(lvl_row);
        free(lvl_of);
    }
    r->n_rejected = n_rejected;
    r->n_warning = n_warning;
    free(res_of);
    return 0;
}

void ns_plate_qc_free(ns_qc_result_t *r, int n_plates)
{
    if (!r->plate) return;
    for (int k = 0; k < n_plates; k++) {
        free(r->plate[k].warnings);
        free(r->plate[k].violated);
        free(r->plate[k].median);
        free(r->plate[k].median_ref);
    }
    free(r->plate);
    free(r->obs);
    memset(r, 0, sizeof *r);
}
