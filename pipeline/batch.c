/* batch.c — names and lifetime of the batch model (see batch.h). */
#include <stdlib.h>
#include "batch.h"
#include "ingest.h"

static const char *const type_names[NS_TYPE_N] = { "patient", "qc_low", "qc_high", "blank" };
static const char *const state_names[NS_STATE_N] = {
    "negative", "recall", "invalid_specimen", "unmatched", "quarantined", "control", "qc_hold" };

const char *ns_type_name(int t) { return t >= 0 && t < NS_TYPE_N ? type_names[t] : "?"; }
const char *ns_state_name(int s) { return s >= 0 && s < NS_STATE_N ? state_names[s] : "?"; }

static const char *const band_names[NS_BAND_N] = { "not_informative", "possible", "likely", "none" };
const char *ns_band_name(int k) { return k >= 0 && k < NS_BAND_N ? band_names[k] : "?"; }

void ns_batch_free(ns_batch_t *b)
{
    if (!b) return;
    for (int k = 0; k < b->n_plates; k++) {
        free(b->plates[k].sid_block);
        free(b->plates[k].path);
        free(b->plates[k].name);
        free(b->plates[k].error);
    }
    free(b->plates);
    if (b->sample_id && !b->sid_blocks)
        for (int64_t i = 0; i < b->n; i++) free(b->sample_id[i]);
    free(b->plate); free(b->well); free(b->sample_id); free(b->type);
    free(b->conc); free(b->cell); free(b->mrow);
    free(b->abound); free(b->ratio); free(b->rbound); free(b->flag); free(b->call); free(b->call_note);
    free(b->score); free(b->band); free(b->mom); free(b->spec); free(b->strata); free(b->state);
    ns_manifest_free(&b->manifest);
}
