/* report_fill.c — the report model from `neoscreen run`'s memory (report.h).
 *
 * Mirrors what write_hdf5.c archives, field for field, so that report_archive.c builds
 * the same model from batch.h5: the plate table from b->plates and b->qc, tonight's
 * control results from b->qc->obs, the list from fu->list and fu->findings. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "plate_qc.h"
#include "report_internal.h"
#include "run_followup.h"
#include "util.h"
#include "version.h"

static const char *nz(const char *s) { return s ? s : ""; }

void ns_report_begin(ns_report_t *r, const ns_panel_t *p)
{
    ns_rpt_set_panel(r, p);
}

void ns_report_from_run(ns_report_t *r, const ns_batch_t *b, const ns_qc_config_t *qcc,
                        const ns_run_fu_t *fu, int with_names)
{
    const ns_panel_t *p = b->panel;
    r->night = ns_strdup(nz(b->night));
    r->panel_name = ns_strdup(p->name);
    r->panel_version = ns_strdup(p->version);
    r->panel_sha256 = ns_strdup(p->sha256);
    r->software = ns_strdup(NS_VERSION);
    if (!r->analyte) ns_rpt_set_panel(r, p);           /* not begun with the panel yet */
    ns_rpt_set_targets(r, qcc);

    const char *mp = b->manifest.path ? strrchr(b->manifest.path, '/') : NULL;
    r->manifest_file = ns_strdup(mp ? mp + 1 : nz(b->manifest.path));
    r->manifest_problem = ns_rpt_manifest_problem(&b->manifest);
    r->wells_read = b->wells_read;
    r->state[NS_STATE_QUARANTINED] += b->n_quarantined_wells;
    ns_rpt_view_rows(r, b->n, b->type, b->state, b->conc, b->cell, b->call);   /* b outlives the writing */

    const ns_qc_result_t *q = b->qc;
    r->have_qc = q != NULL;
    r->n_plates = b->n_plates;
    r->plates = ns_calloc((size_t)b->n_plates + 1, sizeof *r->plates);
    for (int k = 0; k < b->n_plates; k++) {
        const ns_plate_t *pl = &b->plates[k];
        ns_rpt_plate_t *o = &r->plates[k];
        const ns_plate_qc_t *pq = q && q->plate ? &q->plate[k] : NULL;
        o->id = ns_strdup(pl->id);
        o->file = ns_strdup(nz(pl->name));
        o->quarantined = pl->status != NS_PLATE_OK;
        o->error = ns_strdup(nz(pl->error));
        o->wells = pl->n_wells;
        o->qc_status = pq ? pq->status : NS_QC_NOT_RUN;
        o->qc_reason = ns_strdup(pq ? pq->reason : "");
        o->qc_warnings = ns_strdup(pq && pq->warnings ? pq->warnings : "");
    }
    /* tonight's controls, plate order; plates not judged (quarantined) are not in the chart */
    if (q) {
        int *seq = ns_malloc(((size_t)b->n_plates + 1) * sizeof *seq);
        for (int k = 0; k < b->n_plates; k++)
            seq[k] = r->plates[k].qc_status == NS_QC_NOT_RUN ? -1 : ns_rpt_add_seq(r, r->night, b->plates[k].id, 1);
        for (int64_t i = 0; i < q->n_obs; i++) {
            const ns_qc_control_t *c = &q->obs[i];
            if (c->plate < 0 || c->plate >= b->n_plates || seq[c->plate] < 0 || c->analyte < 0) continue;
            const ns_plate_qc_t *pq = &q->plate[c->plate];
            unsigned rules = pq->violated ? pq->violated[c->analyte * NS_QC_LEVELS + c->level] : 0;
            ns_rpt_add_ctl(r, seq[c->plate], c->level, c->analyte, c->value, rules);
        }
        free(seq);
    }

    if (fu) {
        r->have_followup = 1;
        static const char *const src[NS_SRC_N] = { "msms", "hearing", "gene" };
        for (int64_t k = 0; k < fu->list.n; k++) {
            const ns_fu_row_t *row = &fu->list.rows[k];
            char sources[64] = "";
            for (int s = 0; s < NS_SRC_N; s++)
                if ((row->sources >> s) & 1u) {
                    if (sources[0]) strcat(sources, ";");
                    strcat(sources, src[s]);
                }
            char *codes = NULL;
            for (int64_t j = row->f0; j < row->f1; j++) {
                const ns_finding_t *f = &fu->findings.v[fu->list.order[j]];
                if (!f->note_only) codes = ns_rpt_join_unique(codes, f->code);
            }
            const char *name = NULL;
            if (with_names && row->mrow >= 0) name = nz(b->manifest.rows[row->mrow].mother_name);
            ns_rpt_add_baby(r, row->infant_id, row->priority, sources, codes ? codes : "", name);
            free(codes);
        }
        r->with_names = with_names;
        r->have_hearing = fu->have_hearing;
        if (fu->have_hearing) {
            r->hearing_recorded = 1;
            r->h_infants = fu->hstats.infants;
            r->h_initial_screened = fu->hstats.initial_screened;
            r->h_initial_refer = fu->hstats.initial_refer;
            r->h_rescreened = fu->hstats.rescreened;
            r->h_rescreen_refer = fu->hstats.rescreen_refer;
        }
        r->have_genes = fu->have_genes;
        if (fu->have_genes) {
            const ns_genes_night_t *g = &fu->genes;
            r->gplates = ns_calloc((size_t)g->n_plates + 1, sizeof *r->gplates);
            for (int k = 0; k < g->n_plates; k++) {
                const ns_gene_plate_t *pl = &g->plates[k];
                const char *st = ns_gene_plate_status_name(pl->status);
                if (strcmp(st, "accepted") == 0) continue;
                ns_rpt_gplate_t *o = &r->gplates[r->n_gplates++];
                o->id = ns_strdup(pl->id);
                o->file = ns_strdup(nz(pl->name));
                o->status = ns_strdup(st);
                o->reason = ns_strdup(pl->error ? pl->error : nz(pl->reason));
            }
        }
    }
}
