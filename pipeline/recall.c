/* recall.c — see recall.h. */
#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "atomic_file.h"
#include "csv.h"
#include "log.h"
#include "recall.h"
#include "score.h"
#include "util.h"

typedef struct {
    int64_t row;          /* batch row */
    const char *infant;   /* manifest infant_id */
    int prio, action;
} entry_t;

/* growable string */
typedef struct { char *s; size_t n, m; } str_t;

static void sreset(str_t *s)
{
    s->n = 0;
    if (s->s) s->s[0] = 0;   /* an empty string, never the previous row's text */
}

static void sadd(str_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sadd(str_t *s, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        size_t room = s->m - s->n;
        va_start(ap, fmt);
        int k = vsnprintf(s->s ? s->s + s->n : NULL, room, fmt, ap);
        va_end(ap);
        if ((size_t)k < room) { s->n += (size_t)k; return; }
        s->m = (s->m + (size_t)k + 1) * 2;
        s->s = ns_realloc(s->s, s->m);
    }
}

static void row_priority(const ns_batch_t *b, int64_t i, int *prio, int *act)
{
    const ns_panel_t *p = b->panel;
    const size_t un = (size_t)b->n;
    *prio = NS_PRIO_ROUTINE;
    *act = NS_ACT_REPEAT;
    for (int c = 0; c < p->n_conds; c++) {
        int v = b->call[(size_t)c * un + (size_t)i], pr, ac;
        if (v == NS_CALL_CRITICAL) { pr = NS_PRIO_CRITICAL; ac = NS_ACT_REFERRAL; }
        else if (v == NS_CALL_POSITIVE) { pr = p->conds[c].priority; ac = p->conds[c].action; }
        else if (v == NS_CALL_BORDERLINE) { pr = NS_PRIO_ROUTINE; ac = NS_ACT_REPEAT; }
        else continue;
        /* a time-critical condition held back only because the baby is on TPN: the repeat
         * cannot wait for the routine queue (DOMAIN.md §2.3: stop PN 3 h, then collect) */
        if (v == NS_CALL_BORDERLINE && (b->call_note[(size_t)c * un + (size_t)i] & NS_NOTE_TPN)
            && p->conds[c].priority == NS_PRIO_CRITICAL)
            pr = NS_PRIO_URGENT;
        if (pr < *prio) *prio = pr;
        if (ac < *act) *act = ac;
    }
}

/* specimen findings of one row that matter (invalid or caveat), appended to why */
static void specimen_reasons(const ns_batch_t *b, int64_t i, str_t *why)
{
    const ns_specimen_rules_t *sp = &b->panel->specimen;
    const ns_manifest_row_t *r = &b->manifest.rows[b->mrow[i]];
    for (int f = 0; f < NS_SPEC_N; f++) {
        int c = sp->consequence[f];
        if (!((b->spec[i] >> f) & 1u) || c == NS_SPEC_IGNORE) continue;
        const char *lead = c == NS_SPEC_INVALID ? "specimen: " : "caveat: ";
        sadd(why, "%s%s", why->n ? "; " : "", lead);
        switch (f) {
        case NS_SPEC_EARLY: sadd(why, "collected at %.1f h, before %.4g h", r->age_hours, sp->min_age_h); break;
        case NS_SPEC_LATE: sadd(why, "collected at %.1f h, after %.4g h", r->age_hours, sp->max_age_h); break;
        case NS_SPEC_NO_AGE: sadd(why, "age at collection unknown (birth or collection time missing or inconsistent)"); break;
        case NS_SPEC_NO_BW: sadd(why, "birth weight missing (no birth-weight stratum applied)"); break;
        case NS_SPEC_NO_GA: sadd(why, "gestational age missing (no preterm stratum applied)"); break;
        case NS_SPEC_TRANSFUSION: sadd(why, "transfused before collection"); break;
        case NS_SPEC_TPN: sadd(why, "on TPN at collection"); break;
        }
    }
}

/* conditions (codes) and reasons of one row, appended */
static void row_findings(const ns_batch_t *b, int64_t i, str_t *conds, str_t *why)
{
    const ns_panel_t *p = b->panel;
    const size_t un = (size_t)b->n;
    for (int c = 0, s0 = 0; c < p->n_conds; s0 += p->conds[c].n_markers, c++) {
        const ns_condition_t *cd = &p->conds[c];
        int v = b->call[(size_t)c * un + (size_t)i];
        if (v == NS_CALL_NEGATIVE) continue;
        if (v != NS_CALL_INDETERMINATE) {
            if (conds->n) sadd(conds, ";");
            sadd(conds, "%s", cd->code);
        }
        if (b->call_note[(size_t)c * un + (size_t)i] & NS_NOTE_TPN)
            sadd(why, "%s%s on TPN at collection: amino-acid rise without ratio confirmation, repeat specimen "
                 "after TPN stops", why->n ? "; " : "", cd->code);
        for (int k = 0; k < cd->n_markers; k++) {
            int f = b->flag[(size_t)(s0 + k) * un + (size_t)i];
            if (f == NS_FLAG_MISSING) {
                /* say why no decision was possible: no value, or a censored one ("<x")
                 * whose interval straddles a limit */
                double x = ns_batch_marker(b, cd->markers[k].marker)[i];
                const char *mn = ns_panel_marker_name(p, cd->markers[k].marker);
                if (isnan(x)) sadd(why, "%s%s %s missing", why->n ? "; " : "", cd->code, mn);
                else sadd(why, "%s%s %s censored (%s%.4g), cannot be called", why->n ? "; " : "", cd->code, mn,
                          ns_batch_marker_bound(b, cd->markers[k].marker, i) == NS_BOUND_LOWER ? ">" : "<", x);
                continue;
            }
            if (f == NS_FLAG_NONE || v == NS_CALL_INDETERMINATE) continue;
            const ns_threshold_t *t = ns_marker_threshold(b, &cd->markers[k], i);
            double x = ns_batch_marker(b, cd->markers[k].marker)[i];
            const char *op = t->dir == NS_DIR_HIGH ? ">=" : "<=";
            double lim = f == NS_FLAG_CRITICAL ? t->critical : f == NS_FLAG_BORDER ? t->borderline : t->cutoff;
            const char *ln = f == NS_FLAG_CRITICAL ? "critical" : f == NS_FLAG_BORDER ? "borderline" : "cutoff";
            sadd(why, "%s%s %s %.4g %s %s %.4g", why->n ? "; " : "", cd->code,
                 ns_panel_marker_name(p, cd->markers[k].marker), x, op, ln, lim);
            if (f != NS_FLAG_CUTOFF) sadd(why, " (cutoff %.4g, %.2fx)", t->cutoff, ns_cutoff_fold(x, t));
            else sadd(why, " (%.2fx)", ns_cutoff_fold(x, t));
        }
    }
    specimen_reasons(b, i, why);
}

static int cmp_infant(const void *a, const void *b)
{
    const entry_t *x = a, *y = b;
    int c = strcmp(x->infant, y->infant);
    return c ? c : (x->row > y->row) - (x->row < y->row);
}

static int cmp_final(const void *a, const void *b)
{
    const entry_t *x = a, *y = b;
    if (x->prio != y->prio) return x->prio - y->prio;
    return strcmp(x->infant, y->infant);
}

int ns_recall_write(const char *path, const ns_batch_t *b, ns_recall_stats_t *st)
{
    memset(st, 0, sizeof *st);
    const ns_manifest_t *m = &b->manifest;
    int64_t ne = 0;
    entry_t *e = ns_malloc((size_t)(b->n ? b->n : 1) * sizeof *e);
    for (int64_t i = 0; i < b->n; i++) {
        if (b->state[i] != NS_STATE_RECALL && b->state[i] != NS_STATE_INVALID) continue;
        e[ne].row = i;
        e[ne].infant = m->rows[b->mrow[i]].infant_id;
        if (b->state[i] == NS_STATE_RECALL) row_priority(b, i, &e[ne].prio, &e[ne].action);
        else { e[ne].prio = NS_PRIO_ROUTINE; e[ne].action = NS_ACT_REPEAT; }
        ne++;
    }
    /* group wells by infant (then by row), keep the group's first entry as its head */
    qsort(e, (size_t)ne, sizeof *e, cmp_infant);
    int64_t *grp_start = ns_malloc((size_t)(ne + 1) * sizeof *grp_start);
    entry_t *head = ns_malloc((size_t)(ne ? ne : 1) * sizeof *head);
    int64_t ng = 0;
    for (int64_t j = 0; j < ne; j++) {
        if (j == 0 || strcmp(e[j].infant, e[j - 1].infant) != 0) {
            grp_start[ng] = j;
            head[ng] = e[j];
            head[ng].row = ng;           /* head.row = group index from here on */
            ng++;
        } else {
            if (e[j].prio < head[ng - 1].prio) head[ng - 1].prio = e[j].prio;
            if (e[j].action < head[ng - 1].action) head[ng - 1].action = e[j].action;
        }
    }
    grp_start[ng] = ne;
    qsort(head, (size_t)ng, sizeof *head, cmp_final);

    ns_atomic_t *af = ns_atomic_open(path, 0600);
    if (!af) {
        ns_error_errno("run", "cannot create %s", path);
        free(e); free(grp_start); free(head);
        return -1;
    }
    FILE *fp = af->fp;
    fputs("priority,action,state,infant_id,sample_id,plate_id,well,hospital,mother_name,contact_phone,"
          "conditions,reasons,specimen,age_at_collection_h,birth_weight_g,gestational_age_days,feeding,nicu\n", fp);
    str_t sid = {0}, plate = {0}, well = {0}, conds = {0}, why = {0}, spec = {0};
    for (int64_t g = 0; g < ng; g++) {
        int64_t j0 = grp_start[head[g].row], j1 = grp_start[head[g].row + 1];
        sreset(&sid); sreset(&plate); sreset(&well); sreset(&conds); sreset(&why); sreset(&spec);
        int any_recall = 0;
        for (int64_t j = j0; j < j1; j++) {
            int64_t i = e[j].row;
            const char *sep = j > j0 ? ";" : "";
            sadd(&sid, "%s%s", sep, b->sample_id[i]);
            sadd(&plate, "%s%s", sep, b->plates[b->plate[i]].id);
            sadd(&well, "%s%s", sep, b->well[i]);
            sadd(&spec, "%s%s", sep, m->rows[b->mrow[i]].specimen);
            size_t before = why.n;
            if (j1 - j0 > 1) sadd(&why, "%s[%s] ", why.n ? "; " : "", b->sample_id[i]);
            str_t w1 = {0};
            row_findings(b, i, &conds, &w1);
            if (w1.n) sadd(&why, "%s", w1.s);
            else why.n = before;
            free(w1.s);
            if (b->state[i] == NS_STATE_RECALL) any_recall = 1;
        }
        /* de-duplicate condition codes across the infant's wells, keeping panel order */
        str_t uc = {0};
        for (int c = 0; c < b->panel->n_conds; c++) {
            const char *code = b->panel->conds[c].code;
            size_t L = strlen(code);
            for (const char *q = conds.s; q && *q; ) {
                const char *end = strchr(q, ';');
                size_t ql = end ? (size_t)(end - q) : strlen(q);
                if (ql == L && strncmp(q, code, L) == 0) { sadd(&uc, "%s%s", uc.n ? ";" : "", code); break; }
                q = end ? end + 1 : q + ql;
            }
        }
        const ns_manifest_row_t *mr = &m->rows[b->mrow[e[j0].row]];
        const char *fields[] = {
            ns_prio_name(head[g].prio), ns_action_name(head[g].action),
            any_recall ? "recall" : "invalid_specimen", head[g].infant,
            sid.s, plate.s, well.s, mr->hospital, mr->mother_name, mr->contact_phone,
            uc.s ? uc.s : "", why.s && why.n ? why.s : "", spec.s };
        for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
            if (f) fputc(',', fp);
            ns_csv_field(fp, fields[f] ? fields[f] : "");
        }
        if (isnan(mr->age_hours)) fputs(",", fp); else fprintf(fp, ",%.1f", mr->age_hours);
        if (isnan(mr->birth_weight_g)) fputs(",", fp); else fprintf(fp, ",%.0f", mr->birth_weight_g);
        if (isnan(mr->gestational_age_days)) fputs(",", fp); else fprintf(fp, ",%.0f", mr->gestational_age_days);
        fputc(',', fp);
        ns_csv_field(fp, mr->feeding);
        fprintf(fp, ",%s\n", mr->nicu < 0 ? "" : mr->nicu ? "1" : "0");
        free(uc.s);
        st->n_infants++;
        st->by_prio[head[g].prio]++;
        st->by_action[head[g].action]++;
    }
    free(sid.s); free(plate.s); free(well.s); free(conds.s); free(why.s); free(spec.s);
    free(e); free(grp_start); free(head);
    if (ns_atomic_commit(af) < 0) {
        ns_error_errno("run", "cannot write %s", path);
        return -1;
    }
    return 0;
}

/* ---- MS/MS findings (followup.h) ----------------------------------------------------- */

/* priority and action of one condition's call on row i (see recall.h) */
static void call_priority(const ns_batch_t *b, int c, int64_t i, int v, int *prio, int *act)
{
    const ns_condition_t *cd = &b->panel->conds[c];
    if (v == NS_CALL_CRITICAL) { *prio = NS_PRIO_CRITICAL; *act = NS_ACT_REFERRAL; return; }
    if (v == NS_CALL_POSITIVE) { *prio = cd->priority; *act = cd->action; return; }
    *prio = NS_PRIO_ROUTINE;             /* borderline, indeterminate */
    *act = NS_ACT_REPEAT;
    /* a time-critical condition held back only because the baby is on TPN: the repeat
     * cannot wait for the routine queue (DOMAIN.md §2.3: stop PN 3 h, then collect) */
    if (v == NS_CALL_BORDERLINE && (b->call_note[(size_t)c * (size_t)b->n + (size_t)i] & NS_NOTE_TPN)
        && cd->priority == NS_PRIO_CRITICAL)
        *prio = NS_PRIO_URGENT;
}

static ns_finding_t *msms_add(ns_findings_t *out, const ns_batch_t *b, int64_t i, const char *code,
                              int prio, int act, const char *reason)
{
    const ns_manifest_row_t *r = &b->manifest.rows[b->mrow[i]];
    ns_finding_t *f = ns_findings_add(out, r->infant_id, NS_SRC_MSMS);
    ns_copy_str(f->sample_id, sizeof f->sample_id, b->sample_id[i]);
    ns_copy_str(f->code, sizeof f->code, code);
    ns_copy_str(f->reason, sizeof f->reason, reason);
    f->batch_row = i;
    f->priority = prio;
    if (act >= 0) ns_copy_str(f->action, sizeof f->action, ns_action_name(act));
    else f->note_only = 1;
    double d = b->panel->due_days[prio];
    if (act >= 0 && !isnan(d)) {
        f->due_from = NS_DUE_BIRTH;
        f->due_hours = d * 24.0;
    }
    return f;
}

/* one condition's reasons on row i, in marker order */
static void condition_findings(const ns_batch_t *b, int c, int s0, int64_t i, ns_findings_t *out)
{
    const ns_panel_t *p = b->panel;
    const size_t un = (size_t)b->n;
    const ns_condition_t *cd = &p->conds[c];
    int v = b->call[(size_t)c * un + (size_t)i], prio, act;
    call_priority(b, c, i, v, &prio, &act);
    /* an indeterminate condition is no suspicion: it names no condition code */
    const char *code = v == NS_CALL_INDETERMINATE ? "" : cd->code;
    if (b->call_note[(size_t)c * un + (size_t)i] & NS_NOTE_TPN) {
        ns_finding_t *f = msms_add(out, b, i, code, prio, act, "tpn_repeat");
        ns_finding_arg_str(out, f, "cond", cd->code);
    }
    for (int k = 0; k < cd->n_markers; k++) {
        const ns_marker_t *mk = &cd->markers[k];
        int fl = b->flag[(size_t)(s0 + k) * un + (size_t)i];
        double x = ns_batch_marker(b, mk->marker)[i];
        const char *mn = ns_panel_marker_name(p, mk->marker);
        ns_finding_t *f;
        if (fl == NS_FLAG_MISSING) {
            /* say why no decision was possible: no value, or a censored one ("<x") whose
             * interval straddles a limit */
            f = msms_add(out, b, i, code, prio, act, isnan(x) ? "marker_missing" : "marker_censored");
            f->invalid_card = v == NS_CALL_INDETERMINATE;
            ns_finding_arg_str(out, f, "cond", cd->code);
            ns_finding_arg_str(out, f, "marker", mn);
            if (!isnan(x)) {
                ns_finding_arg_str(out, f, "bound", ns_batch_marker_bound(b, mk->marker, i) == NS_BOUND_LOWER ? ">" : "<");
                ns_finding_arg_g(out, f, "value", x, 4);
            }
            continue;
        }
        if (fl == NS_FLAG_NONE || v == NS_CALL_INDETERMINATE) continue;
        const ns_threshold_t *t = ns_marker_threshold(b, mk, i);
        double lim = fl == NS_FLAG_CRITICAL ? t->critical : fl == NS_FLAG_BORDER ? t->borderline : t->cutoff;
        f = msms_add(out, b, i, code, prio, act, fl == NS_FLAG_CUTOFF ? "marker" : "marker_limit");
        ns_finding_arg_str(out, f, "cond", cd->code);
        ns_finding_arg_str(out, f, "marker", mn);
        ns_finding_arg_g(out, f, "value", x, 4);
        ns_finding_arg_str(out, f, "op", t->dir == NS_DIR_HIGH ? ">=" : "<=");
        ns_finding_arg(out, f, "limit_kind", "@limit.%s",
                       fl == NS_FLAG_CRITICAL ? "critical" : fl == NS_FLAG_BORDER ? "borderline" : "cutoff");
        ns_finding_arg_g(out, f, "limit", lim, 4);
        ns_finding_arg_g(out, f, "cutoff", t->cutoff, 4);
        ns_finding_arg_f(out, f, "fold", ns_cutoff_fold(x, t), 2);
    }
    /* the condition score, when it has one (score.h): after the markers it combines */
    double sc = b->score ? b->score[(size_t)c * un + (size_t)i] : NAN;
    if (!isnan(sc)) {
        /* an indeterminate call asks nothing more of the score: a note only */
        ns_finding_t *f = msms_add(out, b, i, code, prio, v == NS_CALL_INDETERMINATE ? -1 : act, "score");
        ns_finding_arg_str(out, f, "cond", cd->code);
        ns_finding_arg_f(out, f, "score", fabs(sc) < 0.005 ? 0.0 : sc, 2);
        ns_finding_arg(out, f, "band", "@band.%s", ns_band_name(b->band[(size_t)c * un + (size_t)i]));
    }
}

/* specimen findings of row i that matter: on an unreadable card (state invalid_specimen)
 * an invalid finding asks for a repeat card; otherwise findings only add their text */
static void specimen_findings(const ns_batch_t *b, int64_t i, ns_findings_t *out)
{
    static const char *const key[NS_SPEC_N] = {
        [NS_SPEC_EARLY] = "spec_early", [NS_SPEC_LATE] = "spec_late", [NS_SPEC_NO_AGE] = "spec_no_age",
        [NS_SPEC_NO_BW] = "spec_no_bw", [NS_SPEC_NO_GA] = "spec_no_ga",
        [NS_SPEC_TRANSFUSION] = "spec_transfusion", [NS_SPEC_TPN] = "spec_tpn",
    };
    static const char *const code[NS_SPEC_N] = {
        [NS_SPEC_EARLY] = "specimen:early", [NS_SPEC_LATE] = "specimen:late", [NS_SPEC_NO_AGE] = "specimen:no_age",
        [NS_SPEC_NO_BW] = "specimen:no_birth_weight", [NS_SPEC_NO_GA] = "specimen:no_gestational_age",
        [NS_SPEC_TRANSFUSION] = "specimen:transfusion", [NS_SPEC_TPN] = "specimen:tpn",
    };
    const ns_specimen_rules_t *sp = &b->panel->specimen;
    const ns_manifest_row_t *r = &b->manifest.rows[b->mrow[i]];
    for (int k = 0; k < NS_SPEC_N; k++) {
        int c = sp->consequence[k];
        if (!((b->spec[i] >> k) & 1u) || c == NS_SPEC_IGNORE) continue;
        int repeat = c == NS_SPEC_INVALID && b->state[i] == NS_STATE_INVALID;
        ns_finding_t *f = msms_add(out, b, i, c == NS_SPEC_INVALID ? code[k] : "", NS_PRIO_ROUTINE,
                                   repeat ? NS_ACT_REPEAT : -1, key[k]);
        f->invalid_card = repeat;
        /* the renderer wraps the text in reason.spec_lead_<lead> */
        ns_finding_arg_str(out, f, "lead", c == NS_SPEC_INVALID ? "invalid" : "caveat");
        if (k == NS_SPEC_EARLY || k == NS_SPEC_LATE) {
            ns_finding_arg_f(out, f, "age", r->age_hours, 1);
            ns_finding_arg_g(out, f, k == NS_SPEC_EARLY ? "min" : "max", k == NS_SPEC_EARLY ? sp->min_age_h : sp->max_age_h, 4);
        }
    }
}

/* the findings of rows [i0, i1), in row order */
static void findings_rows(const ns_batch_t *b, int64_t i0, int64_t i1, ns_findings_t *out)
{
    const ns_panel_t *p = b->panel;
    for (int64_t i = i0; i < i1; i++) {
        if (b->state[i] != NS_STATE_RECALL && b->state[i] != NS_STATE_INVALID) continue;
        int64_t n0 = out->n;
        for (int c = 0, s0 = 0; c < p->n_conds; s0 += p->conds[c].n_markers, c++)
            if (b->call[(size_t)c * (size_t)b->n + (size_t)i] != NS_CALL_NEGATIVE) condition_findings(b, c, s0, i, out);
        specimen_findings(b, i, out);
        /* a card on the list always says why and what to do */
        int actionable = 0;
        for (int64_t k = n0; k < out->n; k++) actionable |= !out->v[k].note_only;
        if (!actionable) {
            ns_finding_t *f = msms_add(out, b, i, "", NS_PRIO_ROUTINE, NS_ACT_REPEAT, "card_unreadable");
            f->invalid_card = b->state[i] == NS_STATE_INVALID;
        }
    }
}

#define PAR_FINDING_ROWS 1024       /* fewer rows than this are done on one thread */

void ns_msms_findings(const ns_batch_t *b, ns_findings_t *out)
{
    const int nt = b->n >= PAR_FINDING_ROWS ? omp_get_max_threads() : 1;
    if (nt <= 1) {
        findings_rows(b, 0, b->n, out);
        return;
    }
    /* each thread a slice of the rows into findings of its own, then appended in row
     * order: the same findings in the same order at any thread count */
    ns_findings_t *part = ns_calloc((size_t)nt, sizeof *part);
    #pragma omp parallel num_threads(nt)
    {
        const int t = omp_get_thread_num(), T = omp_get_num_threads();
        findings_rows(b, b->n * t / T, b->n * (t + 1) / T, &part[t]);
    }
    int64_t total = out->n;
    for (int t = 0; t < nt; t++) total += part[t].n;
    int t0 = 0;
    if (out->n == 0 && out->m <= part[0].m) {       /* the first slice's array becomes out's */
        ns_pool_move(&part[0].text, &out->text);
        free(out->v);
        *out = part[0];
        memset(&part[0], 0, sizeof part[0]);
        t0 = 1;
    }
    if (total > out->m) {
        out->m = total;
        out->v = ns_realloc(out->v, (size_t)out->m * sizeof *out->v);
    }
    for (int t = t0; t < nt; t++) {
        if (part[t].n) memcpy(out->v + out->n, part[t].v, (size_t)part[t].n * sizeof *out->v);
        out->n += part[t].n;
        ns_pool_move(&out->text, &part[t].text);      /* their arguments' strings with them */
        ns_findings_free(&part[t]);
    }
    free(part);
}
