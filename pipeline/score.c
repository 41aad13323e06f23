/* score.c — see score.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "score.h"
#include "util.h"

/* Specimen findings of one card (bits 1 << NS_SPEC_*). */
static uint16_t specimen_findings(const ns_specimen_rules_t *sp, const ns_manifest_row_t *r)
{
    unsigned f = 0;
    if (isnan(r->age_hours)) f |= 1u << NS_SPEC_NO_AGE;
    else {
        if (!isnan(sp->min_age_h) && r->age_hours < sp->min_age_h) f |= 1u << NS_SPEC_EARLY;
        if (!isnan(sp->max_age_h) && r->age_hours > sp->max_age_h) f |= 1u << NS_SPEC_LATE;
    }
    if (isnan(r->birth_weight_g)) f |= 1u << NS_SPEC_NO_BW;
    if (isnan(r->gestational_age_days)) f |= 1u << NS_SPEC_NO_GA;
    if (r->transfusion == 1) f |= 1u << NS_SPEC_TRANSFUSION;
    if (r->feeding && strcmp(r->feeding, "tpn") == 0) f |= 1u << NS_SPEC_TPN;
    return (uint16_t)f;
}

/* Does a card belong to a stratum?  A missing covariate belongs to none. */
static int in_stratum(const ns_stratum_t *st, const ns_manifest_row_t *r)
{
    double v;
    switch (st->cov) {
    case NS_COV_FEEDING: return r->feeding && strcmp(r->feeding, st->text) == 0;
    case NS_COV_SEX: return r->sex && strcmp(r->sex, st->text) == 0;
    case NS_COV_GA_DAYS: v = r->gestational_age_days; break;
    case NS_COV_BW_G: v = r->birth_weight_g; break;
    case NS_COV_AGE_H: v = r->age_hours; break;
    case NS_COV_NICU: v = r->nicu < 0 ? NAN : r->nicu; break;
    case NS_COV_TRANSFUSION: v = r->transfusion < 0 ? NAN : r->transfusion; break;
    default: return 0;
    }
    if (isnan(v)) return 0;
    switch (st->cmp) {
    case NS_CMP_LT: return v < st->value;
    case NS_CMP_LE: return v <= st->value;
    case NS_CMP_GT: return v > st->value;
    case NS_CMP_GE: return v >= st->value;
    default: return v == st->value;
    }
}

const ns_threshold_t *ns_marker_threshold(const ns_batch_t *b, const ns_marker_t *mk, int64_t i)
{
    if (!mk->n_over || !b->strata) return &mk->thr;
    for (int k = 0; k < b->panel->n_strata; k++) {
        if (!((b->strata[i] >> k) & 1u)) continue;
        for (int j = 0; j < mk->n_over; j++)
            if (mk->strat_of[j] == k) return &mk->thr_of[j];
    }
    return &mk->thr;
}


/* On TPN, is a primary marker of condition cd at or beyond tpn_max_fold times its cutoff
 * (for a low marker: at or below cutoff / fold)?  Such a value is disease range, not the
 * broad amino-acid rise TPN gives, and the call must stand. */
static int tpn_disease_range(const ns_batch_t *b, const ns_condition_t *cd, int64_t i)
{
    if (isnan(cd->tpn_max_fold)) return 0;
    for (int k = 0; k < cd->n_markers; k++) {
        const ns_marker_t *mk = &cd->markers[k];
        if (mk->role != NS_ROLE_PRIMARY) continue;
        const ns_threshold_t *t = ns_marker_threshold(b, mk, i);
        double x = ns_batch_marker(b, mk->marker)[i];
        if (isnan(x)) continue;
        if (t->dir == NS_DIR_HIGH ? x >= t->cutoff * cd->tpn_max_fold : x <= t->cutoff / cd->tpn_max_fold)
            return 1;
    }
    return 0;
}

/* ---- condition scores (see score.h) ---------------------------------------------------- */

double ns_score_position(double x, double median, double limit, double disease)
{
    if (!(x > 0) || !(median > 0) || !(limit > 0) || !(disease > 0) || limit == median || disease == limit)
        return NAN;
    double t = log(x / limit) / log(disease / limit);    /* > 0: beyond the normal limit */
    double u = t > 0 ? 1.0 + t : log(x / median) / log(limit / median);
    return u < NS_SCORE_LO ? NS_SCORE_LO : u > NS_SCORE_HI ? NS_SCORE_HI : u;
}

double ns_score_combine(const double *u, const double *w, const uint8_t *primary, int n)
{
    double su = 0, sw = 0;
    int prim = 0;
    for (int k = 0; k < n; k++) {
        if (isnan(u[k])) continue;
        su += w[k] * u[k];
        sw += w[k];
        if (primary[k] && w[k] > 0) prim = 1;
    }
    return prim && sw > 0 ? su / sw : NAN;
}

int ns_score_band(double s, double possible, double likely)
{
    if (isnan(s)) return NS_BAND_NONE;
    return s >= likely ? NS_BAND_LIKELY : s >= possible ? NS_BAND_POSSIBLE : NS_BAND_NOT_INFORMATIVE;
}

int ns_score_call(int call, int band, int call_by, int tpn_held)
{
    if (band == NS_BAND_NONE || call == NS_CALL_CRITICAL || call == NS_CALL_INDETERMINATE) return call;
    if (call_by == NS_CALL_BY_BOTH)
        return (call == NS_CALL_BORDERLINE || call == NS_CALL_POSITIVE) && band == NS_BAND_NOT_INFORMATIVE
               ? NS_CALL_NEGATIVE : call;
    if (call_by == NS_CALL_BY_SCORE) {
        int v = band == NS_BAND_LIKELY ? NS_CALL_POSITIVE : band == NS_BAND_POSSIBLE ? NS_CALL_BORDERLINE
                                                                                   : NS_CALL_NEGATIVE;
        return tpn_held && v > call ? call : v;
    }
    return call;
}

int ns_pop_group(const ns_panel_t *p, int m, uint32_t strata)
{
    if (!p->pop.present) return -1;
    const ns_pop_entry_t *E = p->pop.e + (size_t)m * NS_POP_GROUPS;
    for (int k = 0; k < p->n_strata; k++)
        if (((strata >> k) & 1u) && E[NS_POP_STRATUM0 + k].n) return NS_POP_STRATUM0 + k;
    if (E[NS_POP_STANDARD].n) return NS_POP_STANDARD;
    if (E[NS_POP_ALL].n) return NS_POP_ALL;
    return -1;
}

/* Score condition c (markers from flag slot s0 on) on patient rows [i0, i0 + m), then apply
 * its call_by rule to b->call.  b->score / band / mom are preset to NAN / NONE / NAN. */
static void score_condition(ns_batch_t *b, int c, int s0, int64_t i0, int64_t m)
{
    const ns_panel_t *p = b->panel;
    const ns_condition_t *cd = &p->conds[c];
    const size_t un = (size_t)b->n;
    int km[64], col[64], nk = 0;
    double w[64];
    int lim_hi[64];
    uint8_t prim[64];
    for (int k = 0; k < cd->n_markers && k < 64; k++) {
        const ns_marker_t *mk = &cd->markers[k];
        if (isnan(mk->disease_median)) continue;
        km[nk] = k;
        col[nk] = -1;
        for (int j = 0; j < p->n_sslots; j++) if (p->sslot[j] == s0 + k) col[nk] = j;
        w[nk] = mk->weight;
        prim[nk] = mk->role == NS_ROLE_PRIMARY;
        lim_hi[nk] = mk->thr.dir == NS_DIR_HIGH;
        nk++;
    }
    double *sc = b->score + (size_t)c * un;
    uint8_t *bd = b->band + (size_t)c * un, *call = b->call + (size_t)c * un, *note = b->call_note + (size_t)c * un;
    for (int64_t i = i0; i < i0 + m; i++) {
        if (b->type[i] != NS_TYPE_PATIENT) continue;
        double u[64];
        for (int j = 0; j < nk; j++) {
            const ns_marker_t *mk = &cd->markers[km[j]];
            double x = ns_batch_marker(b, mk->marker)[i];
            int g;
            u[j] = NAN;
            if (!(x > 0) || ns_batch_marker_bound(b, mk->marker, i) != NS_BOUND_EXACT
                || (g = ns_pop_group(p, mk->marker, b->strata[i])) < 0)
                continue;
            const ns_pop_entry_t *e = &p->pop.e[(size_t)mk->marker * NS_POP_GROUPS + (size_t)g];
            u[j] = ns_score_position(x, e->median, lim_hi[j] ? e->upper : e->lower, mk->disease_median);
            if (col[j] >= 0 && !isnan(u[j])) b->mom[(size_t)col[j] * un + (size_t)i] = x / e->median;
        }
        sc[i] = ns_score_combine(u, w, prim, nk);
        bd[i] = (uint8_t)ns_score_band(sc[i], cd->score.possible, cd->score.likely);
        int v = ns_score_call(call[i], bd[i], cd->score.call_by, note[i] & NS_NOTE_TPN);
        if (v != call[i]) {
            call[i] = (uint8_t)v;
            note[i] |= NS_NOTE_SCORE;
        }
    }
}

/* Every stage of the scoring, on rows [i0, i0 + m) only (m <= NS_SCORE_BLOCK): bounds,
 * ratios, specimen findings and strata, flags, calls (with the TPN rule and the scores),
 * states.  The kernels run serially here (they go parallel only on long columns): the
 * parallelism is over blocks, so that a block's columns stay in cache from the ratio kernel
 * to the state and a night is one parallel region, not one per column.  0, or the stage
 * that failed (1 ratio, 2 cutoff, 3 call) with its index in *what. */
#define NS_SCORE_BLOCK 4096
static int score_rows(ns_batch_t *b, const uint8_t *need_a, const uint8_t *need_r, int64_t i0,
                      int64_t m, int *what)
{
    const ns_panel_t *p = b->panel;
    const size_t un = (size_t)b->n, o = (size_t)i0;
    const int *given = b->given_col;

    for (int a = 0; a < p->n_analytes; a++) {
        if (need_a && !need_a[a]) continue;
        const uint8_t *cell = b->cell + (size_t)a * un + o;
        uint8_t *ab = b->abound + (size_t)a * un + o;
        for (int64_t i = 0; i < m; i++) ab[i] = cell[i] == NS_CELL_BELOW ? NS_BOUND_UPPER : NS_BOUND_EXACT;
    }
    for (int r = 0; r < p->n_ratios; r++) {
        if (need_r && !need_r[r]) continue;
        const ns_ratio_t *x = &p->ratios[r];
        const double *num[NS_RATIO_MAX_TERMS], *den[NS_RATIO_MAX_TERMS];
        const uint8_t *nb[NS_RATIO_MAX_TERMS], *db[NS_RATIO_MAX_TERMS];
        for (int k = 0; k < x->n_num; k++) {
            num[k] = b->conc + (size_t)x->num[k] * un + o;
            nb[k] = b->abound + (size_t)x->num[k] * un + o;
        }
        for (int k = 0; k < x->n_den; k++) {
            den[k] = b->conc + (size_t)x->den[k] * un + o;
            db[k] = b->abound + (size_t)x->den[k] * un + o;
        }
        if (ns_ratio_compute(num, nb, x->n_num, den, db, x->n_den, b->ratio + (size_t)r * un + o,
                             b->rbound + (size_t)r * un + o, m) < 0) {
            *what = r;
            return 1;
        }
    }

    /* specimen findings and strata, from each well's manifest row */
    for (int64_t i = i0; i < i0 + m && !b->spec_given; i++) {
        if (b->mrow[i] < 0) continue;
        const ns_manifest_row_t *r = &b->manifest.rows[b->mrow[i]];
        b->spec[i] = specimen_findings(&p->specimen, r);
        uint32_t s = 0;
        for (int k = 0; k < p->n_strata; k++) s |= (uint32_t)in_stratum(&p->strata[k], r) << k;
        b->strata[i] = s;
    }

    /* flags: each marker's limits resolved per row by its first overridden stratum */
    uint16_t sidx[NS_SCORE_BLOCK];
    for (int s = 0; s < p->n_slots; s++) {
        if (given && given[p->slot_cond[s]] >= 0) continue;
        const ns_marker_t *mk = &p->conds[p->slot_cond[s]].markers[p->slot_marker[s]];
        ns_threshold_t thr[NS_MAX_STRATA + 1];
        thr[0] = mk->thr;
        for (int k = 0; k < mk->n_over; k++) thr[k + 1] = mk->thr_of[k];
        if (mk->n_over)
            for (int64_t i = 0; i < m; i++) {
                const ns_threshold_t *t = ns_marker_threshold(b, mk, i0 + i);
                sidx[i] = (uint16_t)(t == &mk->thr ? 0 : t - mk->thr_of + 1);
            }
        const uint8_t *bounds = ns_batch_marker_bounds(b, mk->marker);
        if (ns_cutoff_flag(ns_batch_marker(b, mk->marker) + o, bounds ? bounds + o : NULL,
                           mk->n_over ? sidx : NULL, thr, mk->n_over + 1, b->flag + (size_t)s * un + o, m) < 0) {
            *what = s;
            return 2;
        }
    }

    if (b->score) {              /* no score until one is computed below */
        for (int c = 0; c < p->n_conds; c++) {
            double *sc = b->score + (size_t)c * un + o;
            for (int64_t i = 0; i < m; i++) sc[i] = NAN;
            memset(b->band + (size_t)c * un + o, NS_BAND_NONE, (size_t)m);
        }
        for (int j = 0; j < p->n_sslots; j++) {
            double *mo = b->mom + (size_t)j * un + o;
            for (int64_t i = 0; i < m; i++) mo[i] = NAN;
        }
    }
    for (int c = 0, s0 = 0; c < p->n_conds; c++) {
        const ns_condition_t *cd = &p->conds[c];
        const uint8_t *fl[64];
        int role[64];
        for (int k = 0; k < cd->n_markers; k++) {
            fl[k] = b->flag + (size_t)(s0 + k) * un + o;
            role[k] = cd->markers[k].role;
        }
        uint8_t *out = b->call + (size_t)c * un + o;
        memset(b->call_note + (size_t)c * un + o, 0, (size_t)m);
        if (given && given[c] >= 0) {
            memcpy(out, b->given_call + (size_t)given[c] * un + o, (size_t)m);
            s0 += cd->n_markers;
            continue;
        }
        if (ns_call_condition(fl, role, cd->n_markers, cd->rule, cd->require_secondary, out, m) < 0) {
            *what = c;
            return 3;
        }
        /* TPN raises amino acids across the board: for an amino-acid condition, a baby on
         * TPN needs the ratio (secondary) markers to confirm, else "repeat after TPN"
         * (DOMAIN.md §2.3, §1.4: Phe/Tyr, Xle/Ala tell PKU and MSUD from TPN) */
        if (cd->tpn_sensitive) {
            uint8_t forced[NS_SCORE_BLOCK], plain[NS_SCORE_BLOCK];
            if (cd->require_secondary) memcpy(forced, out, (size_t)m);    /* the same rule */
            if ((!cd->require_secondary && ns_call_condition(fl, role, cd->n_markers, cd->rule, 1, forced, m) < 0)
                || ns_call_condition(fl, role, cd->n_markers, cd->rule, 0, plain, m) < 0) {
                *what = c;
                return 3;
            }
            for (int64_t i = 0; i < m; i++)
                if (((b->spec[i0 + i] >> NS_SPEC_TPN) & 1u) && forced[i] < plain[i]
                    && plain[i] != NS_CALL_CRITICAL && !tpn_disease_range(b, cd, i0 + i)) {
                    out[i] = forced[i];
                    b->call_note[(size_t)c * un + o + (size_t)i] |= NS_NOTE_TPN;
                }
        }
        if (cd->score.present && b->score && p->pop.present) score_condition(b, c, s0, i0, m);
        s0 += cd->n_markers;
    }

    /* states: whether any condition recalls or is indeterminate, a call column at a time */
    uint8_t recall[NS_SCORE_BLOCK], indet[NS_SCORE_BLOCK];
    memset(recall, 0, (size_t)m);
    memset(indet, 0, (size_t)m);
    for (int c = 0; c < p->n_conds; c++) {
        const uint8_t *restrict v = b->call + (size_t)c * un + o;
        #pragma omp simd
        for (int64_t i = 0; i < m; i++) {
            recall[i] |= (uint8_t)(v[i] != NS_CALL_NEGATIVE && v[i] != NS_CALL_INDETERMINATE);
            indet[i] |= (uint8_t)(v[i] == NS_CALL_INDETERMINATE);
        }
    }
    /* a finding that makes the card unreadable stops a negative call, never a positive
     * one: an early card with PKU-range Phe is still a PKU recall */
    unsigned invalid_mask = 0;
    for (int f = 0; f < NS_SPEC_N; f++)
        if (p->specimen.consequence[f] == NS_SPEC_INVALID) invalid_mask |= 1u << f;
    for (int64_t j = 0; j < m; j++) {
        const int64_t i = i0 + j;
        uint8_t st;
        if (b->type[i] != NS_TYPE_PATIENT) st = NS_STATE_CONTROL;
        else if (b->mrow[i] < 0) st = NS_STATE_UNMATCHED;
        else st = recall[j] ? NS_STATE_RECALL
                 : (indet[j] || (b->spec[i] & invalid_mask)) ? NS_STATE_INVALID : NS_STATE_NEGATIVE;
        b->state[i] = st;
    }
    return 0;
}

void ns_score_needs(const ns_panel_t *p, const int *given_col, uint8_t *need_analyte,
                    uint8_t *need_ratio)
{
    memset(need_analyte, 0, (size_t)p->n_analytes);
    memset(need_ratio, 0, (size_t)p->n_ratios);
    for (int c = 0; c < p->n_conds; c++) {
        if (given_col && given_col[c] >= 0) continue;
        for (int k = 0; k < p->conds[c].n_markers; k++) {
            int mk = p->conds[c].markers[k].marker;
            if (mk < p->n_analytes) need_analyte[mk] = 1;
            else need_ratio[mk - p->n_analytes] = 1;
        }
    }
    for (int r = 0; r < p->n_ratios; r++) {
        if (!need_ratio[r]) continue;
        for (int k = 0; k < p->ratios[r].n_num; k++) need_analyte[p->ratios[r].num[k]] = 1;
        for (int k = 0; k < p->ratios[r].n_den; k++) need_analyte[p->ratios[r].den[k]] = 1;
    }
}

int ns_batch_score(ns_batch_t *b)
{
    const ns_panel_t *p = b->panel;
    const int64_t n = b->n;
    const size_t un = (size_t)n;

    for (int r = 0; r < p->n_ratios; r++)
        if (p->ratios[r].n_num > NS_RATIO_MAX_TERMS || p->ratios[r].n_den > NS_RATIO_MAX_TERMS) {
            ns_error("run", "internal error: ratio %s has more than %d terms", p->ratios[r].name, NS_RATIO_MAX_TERMS);
            return -1;
        }
    /* "<x" cells are upper bounds; everything else read from a plate is exact (ND is 0) */
    b->abound = ns_malloc((size_t)p->n_analytes * un + 1);
    b->ratio = ns_malloc((size_t)p->n_ratios * un * sizeof *b->ratio + 1);
    b->rbound = ns_malloc((size_t)p->n_ratios * un + 1);
    if (!b->spec_given) {
        b->spec = ns_calloc(un ? un : 1, sizeof *b->spec);
        b->strata = ns_calloc(un ? un : 1, sizeof *b->strata);
    }
    uint8_t *need_a = NULL, *need_r = NULL;
    if (b->given_col) {
        need_a = ns_malloc((size_t)p->n_analytes + 1);
        need_r = ns_malloc((size_t)p->n_ratios + 1);
        ns_score_needs(p, b->given_col, need_a, need_r);
    }
    b->flag = ns_malloc((size_t)p->n_slots * un + 1);
    b->call = ns_malloc((size_t)p->n_conds * un + 1);
    b->call_note = ns_malloc((size_t)p->n_conds * un + 1);      /* zeroed by score_rows, block by block */
    b->state = ns_malloc(un + 1);
    if (p->n_scored > 0) {
        const size_t nsc = (size_t)p->n_conds * un, nmom = (size_t)p->n_sslots * un;
        b->score = ns_malloc((nsc + 1) * sizeof *b->score);
        b->band = ns_malloc(nsc + 1);
        b->mom = ns_malloc((nmom + 1) * sizeof *b->mom);
        /* NaN and no band until scored: filled by score_rows, block by block */
        /* a panel whose population was never given (no fragment attached): say so, and
         * keep the cutoff calls rather than stop the night */
        static int warned;           /* once per process: rescore and derive score many chunks */
        if (!p->pop.present && !warned++)
            ns_error("run", "%s: %d condition%s ha%s a score: block but the panel has no population: the scores "
                     "are not computed and the calls are the cutoff calls", p->path, p->n_scored,
                     p->n_scored == 1 ? "" : "s", p->n_scored == 1 ? "s" : "ve");
    }

    const int64_t nblk = (n + NS_SCORE_BLOCK - 1) / NS_SCORE_BLOCK;
    int stage = 0, what = 0;
    #pragma omp parallel for schedule(dynamic, 1) if (nblk > 1)
    for (int64_t k = 0; k < nblk; k++) {
        int w = 0, st;
        int64_t i0 = k * NS_SCORE_BLOCK;
        if ((st = score_rows(b, need_a, need_r, i0, n - i0 < NS_SCORE_BLOCK ? n - i0 : NS_SCORE_BLOCK, &w)) != 0) {
            #pragma omp critical(ns_score_fail)
            if (!stage) { stage = st; what = w; }
        }
    }
    free(need_a);
    free(need_r);
    if (stage == 1) ns_error("run", "internal error: ratio kernel rejected ratio %s", p->ratios[what].name);
    if (stage == 2) ns_error("run", "internal error: cutoff kernel rejected slot %d", what);
    if (stage == 3) ns_error("run", "internal error: call kernel rejected condition %s", p->conds[what].code);
    return stage ? -1 : 0;
}
