/* score.c — see score.h. */
#include <stdlib.h>
#include "log.h"
#include "score.h"
#include "util.h"

int ns_batch_score(ns_batch_t *b)
{
    const ns_panel_t *p = b->panel;
    const int64_t n = b->n;
    const size_t un = (size_t)n;

    /* "<x" cells are upper bounds; everything else read from a plate is exact (ND is 0) */
    b->abound = ns_malloc((size_t)p->n_analytes * un);
    for (size_t k = 0; k < (size_t)p->n_analytes * un; k++)
        b->abound[k] = b->cell[k] == NS_CELL_BELOW ? NS_BOUND_UPPER : NS_BOUND_EXACT;

    b->ratio = ns_malloc((size_t)p->n_ratios * un * sizeof *b->ratio);
    b->rbound = ns_malloc((size_t)p->n_ratios * un);
    for (int r = 0; r < p->n_ratios; r++) {
        const ns_ratio_t *x = &p->ratios[r];
        const double *num[NS_RATIO_MAX_TERMS], *den[NS_RATIO_MAX_TERMS];
        const uint8_t *nb[NS_RATIO_MAX_TERMS], *db[NS_RATIO_MAX_TERMS];
        if (x->n_num > NS_RATIO_MAX_TERMS || x->n_den > NS_RATIO_MAX_TERMS) {
            ns_error("run", "internal error: ratio %s has more than %d terms", x->name, NS_RATIO_MAX_TERMS);
            return -1;
        }
        for (int k = 0; k < x->n_num; k++) {
            num[k] = b->conc + (size_t)x->num[k] * un;
            nb[k] = b->abound + (size_t)x->num[k] * un;
        }
        for (int k = 0; k < x->n_den; k++) {
            den[k] = b->conc + (size_t)x->den[k] * un;
            db[k] = b->abound + (size_t)x->den[k] * un;
        }
        if (ns_ratio_compute(num, nb, x->n_num, den, db, x->n_den, b->ratio + (size_t)r * un,
                             b->rbound + (size_t)r * un, n) < 0) {
            ns_error("run", "internal error: ratio kernel rejected ratio %s", x->name);
            return -1;
        }
    }

    b->flag = ns_malloc((size_t)p->n_slots * un);
    for (int s = 0; s < p->n_slots; s++) {
        const ns_marker_t *mk = &p->conds[p->slot_cond[s]].markers[p->slot_marker[s]];
        if (ns_cutoff_flag(ns_batch_marker(b, mk->marker), ns_batch_marker_bounds(b, mk->marker), NULL,
                           &mk->thr, 1, b->flag + (size_t)s * un, n) < 0) {
            ns_error("run", "internal error: cutoff kernel rejected slot %d", s);
            return -1;
        }
    }

    b->call = ns_malloc((size_t)p->n_conds * un);
    for (int c = 0, s0 = 0; c < p->n_conds; c++) {
        const ns_condition_t *cd = &p->conds[c];
        const uint8_t *fl[64];
        int role[64];
        for (int k = 0; k < cd->n_markers; k++) {
            fl[k] = b->flag + (size_t)(s0 + k) * un;
            role[k] = cd->markers[k].role;
        }
        if (ns_call_condition(fl, role, cd->n_markers, cd->rule, cd->require_secondary,
                              b->call + (size_t)c * un, n) < 0) {
            ns_error("run", "internal error: call kernel rejected condition %s", cd->code);
            return -1;
        }
        s0 += cd->n_markers;
    }

    b->state = ns_malloc(un);
    const int nc = p->n_conds;
    #pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) {
        uint8_t st;
        if (b->type[i] != NS_TYPE_PATIENT) st = NS_STATE_CONTROL;
        else if (b->mrow[i] < 0) st = NS_STATE_UNMATCHED;
        else {
            int recall = 0, indet = 0;
            for (int c = 0; c < nc; c++) {
                uint8_t v = b->call[(size_t)c * un + (size_t)i];
                if (v == NS_CALL_INDETERMINATE) indet = 1;
                else if (v != NS_CALL_NEGATIVE) recall = 1;
            }
            st = recall ? NS_STATE_RECALL : indet ? NS_STATE_INVALID : NS_STATE_NEGATIVE;
        }
        b->state[i] = st;
    }
    return 0;
}
