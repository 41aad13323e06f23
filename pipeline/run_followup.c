/* run_followup.c — see run_followup.h. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "csv.h"
#include "log.h"
#include "recall.h"
#include "table.h"
#include "run_followup.h"
#include "util.h"

#define DEFAULT_LANG "configs/lang.yaml"
#define DEFAULT_HEARING "configs/hearing.yaml"
#define DEFAULT_GENES "configs/genes.yaml"

static int config_failed(const char *path, const char *what, ns_panel_errs_t *e)
{
    ns_panel_errs_print(stderr, "neoscreen run", path, NULL, e);
    ns_error("run", "%s: %d problem%s in the %s; nothing was read or written", path, e->n,
             e->n == 1 ? "" : "s", what);
    ns_panel_errs_free(e);
    return -1;
}

/* Every text the list can need must be in the translation table: a key missing from a
 * lab's own table would print as a raw key on the follow-up team's list. */
static int check_lang(const ns_run_fu_t *f, const ns_panel_t *p)
{
    static const char *const fixed[] = {
        "priority.critical", "priority.urgent", "priority.routine", "state.recall",
        "state.invalid_specimen", "sheet.recall_list", "sep.reasons", "reason.for_sample",
        "reason.spec_lead_invalid", "reason.spec_lead_caveat", "limit.cutoff", "limit.borderline",
        "limit.critical", "reason.marker", "reason.marker_limit", "reason.marker_missing",
        "reason.marker_censored", "reason.tpn_repeat", "reason.spec_early", "reason.spec_late",
        "reason.spec_no_age", "reason.spec_no_bw", "reason.spec_no_ga", "reason.spec_transfusion",
        "reason.spec_tpn", "reason.card_unreadable", "action.referral", "action.repeat_specimen",
        "hearing.stage.initial", "hearing.stage.rescreen", "hearing.ears.left", "hearing.ears.right",
        "hearing.ears.both", "hearing.result.pass", "hearing.result.refer", "hearing.result.not_tested",
        "gene.call.wt", "gene.call.het", "gene.call.hom", "gene.call.heteroplasmic",
        "gene.call.homoplasmic", "gene.call.fail", "action.check_hearing_record",
        "reason.hearing_record_rejected", NULL };
    char key[NS_FU_KEY_MAX + 16];
    int bad = 0;
#define NEED(...) do { snprintf(key, sizeof key, __VA_ARGS__); \
        if (!ns_lang_has(f->lang, key)) { \
            ns_error("run", "%s: no text for '%s', which the recall list needs", f->lang_path, key); bad = 1; } } while (0)
    for (int k = 0; fixed[k]; k++) NEED("%s", fixed[k]);
    int nc;
    const char *const *cols = ns_followup_columns(&nc);
    for (int k = 0; k < nc; k++) NEED("col.%s", cols[k]);
    for (int c = 0; p && c < p->n_conds; c++) NEED("action.%s", ns_action_name(p->conds[c].action));
    /* condition scores (score.h) are listed only by panels that have them */
    if (p && p->n_scored > 0) {
        NEED("reason.score");
        for (int k = 0; k < NS_BAND_NONE; k++) NEED("band.%s", ns_band_name(k));
    }
    for (int r = 0; r < f->hcfg->n_rules; r++) {
        NEED("action.%s", ns_hearing_action_name(f->hcfg->rules[r].action));
        NEED("reason.%s", ns_hearing_reason_name(f->hcfg->rules[r].reason));
    }
    for (int r = 0; r < f->gcfg->n_rules; r++) {
        NEED("action.%s", f->gcfg->rules[r].action);
        NEED("reason.%s", f->gcfg->rules[r].reason);
    }
#undef NEED
    const char *sheet = ns_lang_get(f->lang, "sheet.recall_list");
    if (!ns_table_sheet_name_ok(sheet)) {
        ns_error("run", "%s: sheet.recall_list '%s' is not an Excel sheet name (1-31 characters, none of "
                 "[]:*?/\\, no leading or trailing apostrophe)", f->lang_path, sheet);
        bad = 1;
    }
    /* every reason template must fill from the arguments its engine gives */
    static const char *const args[] = { "cond", "marker", "value", "op", "limit_kind", "limit", "cutoff",
        "fold", "bound", "score", "band", "age", "min", "max", "text", "sample", "reasons", "stage", "method",
        "result",
        "ears", "test_date", "nicu_days", "nicu_limit", "gene", "loci", "plate", "well" };
    const int na = (int)(sizeof args / sizeof args[0]);
    for (int k = 0; k < ns_lang_n_keys(f->lang); k++) {
        const char *key = ns_lang_key(f->lang, k);
        if (strncmp(key, "reason.", 7) != 0) continue;
        char *t = ns_lang_format(f->lang, key, na, args, args);
        const char *open = strchr(t, '{');
        if (open) {
            ns_error("run", "%s: %s uses a placeholder no finding gives (%.*s)", f->lang_path, key,
                     (int)strcspn(open, "}") + 1, open);
            bad = 1;
        }
        free(t);
    }
    if (bad) ns_error("run", "%s: the translation table cannot make the recall list; nothing was read or written",
                      f->lang_path);
    return bad ? -1 : 0;
}

int ns_run_fu_configs(ns_run_fu_t *f, const ns_panel_t *panel, const char *lang_file, const char *lang_code)
{
    memset(f, 0, sizeof *f);
    ns_panel_errs_t e;
    f->lang_path = ns_config_path(lang_file, "NEOSCREEN_LANG_FILE", DEFAULT_LANG);
    if (!(f->lang = ns_lang_load(f->lang_path, lang_code, &e)))
        return config_failed(f->lang_path, "translation table", &e);
    ns_panel_errs_free(&e);
    f->hearing_path = ns_config_path(NULL, "NEOSCREEN_HEARING", DEFAULT_HEARING);
    if (!(f->hcfg = ns_hearing_config_load(f->hearing_path, &e)))
        return config_failed(f->hearing_path, "hearing protocol", &e);
    ns_panel_errs_free(&e);
    f->genes_path = ns_config_path(NULL, "NEOSCREEN_GENES", DEFAULT_GENES);
    if (!(f->gcfg = ns_genes_config_load(f->genes_path, &e)))
        return config_failed(f->genes_path, "deafness-gene config", &e);
    ns_panel_errs_free(&e);
    return check_lang(f, panel);
}

int ns_run_fu_inputs(ns_run_fu_t *f, const char *night)
{
    int flags = 0;
    struct stat st;
    char *hpath = ns_asprintf("%s/hearing.csv", night);
    if (stat(hpath, &st) == 0) {
        f->have_hearing = 1;
        ns_hearing_read(&f->hrec, hpath);
        /* rows rejected or the file unusable: partial; notes about kept rows are not */
        if (f->hrec.n_rejected > 0 || !f->hrec.ok) flags |= 1;
        for (int64_t k = 0; k < f->hrec.n_errors; k++) ns_error("run", "%s", f->hrec.errors[k]);
        if (!f->hrec.ok) ns_error("run", "%s: not used: no hearing result of tonight is reported", hpath);
        ns_info(1, "ingest", "hearing: %lld records, %lld rejected", (long long)f->hrec.n_read,
                (long long)f->hrec.n_rejected);
    } else if (errno != ENOENT) {
        ns_error_errno("run", "%s", hpath);
        flags |= 1;
    }
    free(hpath);

    char *gdir = ns_asprintf("%s/genes", night);
    f->n_gpaths = ns_list_csv(gdir, &f->gpaths);
    if (f->n_gpaths < 0) {
        if (errno != ENOENT) { ns_error_errno("run", "cannot read %s", gdir); flags |= 1; }
        f->n_gpaths = 0;
    } else if (f->n_gpaths > 0) {
        f->have_genes = 1;
        f->genes_quarantined = ns_genes_ingest(&f->genes, f->gcfg, f->gpaths, f->n_gpaths);
        f->genes_rejected = ns_genes_qc(&f->genes);
        for (int k = 0; k < f->genes.n_plates; k++) {
            const ns_gene_plate_t *pl = &f->genes.plates[k];
            if (pl->error) ns_error("run", "%s (gene plate quarantined)", pl->error);
            else if (pl->reason)
                ns_error("run", "%s: gene plate %s failed its controls: %s (its samples are on gene_hold)",
                         pl->path, pl->id, pl->reason);
        }
        if (f->genes_quarantined) flags |= 1;
        if (f->genes_rejected) flags |= 2;
        ns_info(1, "ingest", "genes: %d plates, %d quarantined, %d rejected by their controls", f->n_gpaths,
                f->genes_quarantined, f->genes_rejected);
    }
    free(gdir);
    return flags;
}

/* gene sample -> infant through the manifest (rows sorted by sample_id after ingest) */
static int cmp_sid_key(const void *key, const void *row)
{
    return strcmp((const char *)key, ((const ns_manifest_row_t *)row)->sample_id);
}

static const char *infant_of(void *ctx, const char *sample_id)
{
    const ns_manifest_t *m = ctx;
    if (!m->rows || m->n == 0) return NULL;
    const ns_manifest_row_t *r = bsearch(sample_id, m->rows, (size_t)m->n, sizeof *m->rows, cmp_sid_key);
    return r ? r->infant_id : NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* every gene patient sample the manifest does not know, sorted, once each */
static void gene_unmatched(ns_run_fu_t *f, const ns_manifest_t *m)
{
    const ns_genes_night_t *g = &f->genes;
    for (int64_t i = 0; i < g->n; i++) {
        if (g->control[i] >= 0 || infant_of((void *)m, g->sample_id[i])) continue;
        f->gene_unmatched = ns_realloc(f->gene_unmatched, (size_t)(f->n_gene_unmatched + 1) * sizeof *f->gene_unmatched);
        f->gene_unmatched[f->n_gene_unmatched++] = ns_strdup(g->sample_id[i]);
    }
    if (f->n_gene_unmatched > 1)
        qsort(f->gene_unmatched, (size_t)f->n_gene_unmatched, sizeof *f->gene_unmatched, cmp_str);
    int64_t w = 0;
    for (int64_t k = 0; k < f->n_gene_unmatched; k++) {
        if (w > 0 && strcmp(f->gene_unmatched[w - 1], f->gene_unmatched[k]) == 0) { free(f->gene_unmatched[k]); continue; }
        f->gene_unmatched[w++] = f->gene_unmatched[k];
    }
    f->n_gene_unmatched = w;
}

int ns_run_fu_prepare(ns_run_fu_t *f, const ns_batch_t *b)
{
    ns_msms_findings(b, &f->findings);
    if (f->have_hearing && f->hrec.ok) ns_hearing_eval(f->hcfg, &f->hrec, &f->findings, &f->hstats);
    if (f->have_genes) {
        int64_t n0 = f->findings.n;
        ns_genes_evaluate(&f->genes, &f->findings, infant_of, (void *)&b->manifest);
        /* a gene result nobody can be told about cannot go on the list: its sample is
         * listed in summary.json and the run ends with the unmatched bit */
        int64_t w = n0;
        for (int64_t k = n0; k < f->findings.n; k++)
            if (f->findings.v[k].infant_id[0]) f->findings.v[w++] = f->findings.v[k];
        f->findings.n = w;
        gene_unmatched(f, &b->manifest);
        if (f->n_gene_unmatched)
            ns_error("run", "%lld gene plate sample%s not in the manifest: %s%s (results not reported; "
                     "listed in summary.json)", (long long)f->n_gene_unmatched, f->n_gene_unmatched == 1 ? "" : "s",
                     f->gene_unmatched[0], f->n_gene_unmatched > 1 ? ", ..." : "");
    }
    ns_followup_merge(&f->findings, b, &f->list);
    for (int64_t k = 0; k < f->list.n; k++) f->hearing_without_manifest += f->list.rows[k].mrow < 0;
    if (f->hearing_without_manifest)
        ns_error("run", "%lld bab%s on the recall list from hearing.csv only, not in the manifest: no contact "
                 "details or birth time (listed in summary.json)", (long long)f->hearing_without_manifest,
                 f->hearing_without_manifest == 1 ? "y" : "ies");

    return 0;
}

int ns_run_fu_write_files(ns_run_fu_t *f, const ns_batch_t *b, const char *out, int bom)
{
    char *p_csv = ns_asprintf("%s/recall-list.csv", out), *p_xlsx = ns_asprintf("%s/recall-list.xlsx", out);
    int r = ns_followup_write(p_csv, p_xlsx, &f->list, &f->findings, b, f->lang, bom, &f->stats);
    free(p_csv);
    free(p_xlsx);
    return r;
}

int ns_run_fu_unmatched(const ns_run_fu_t *f)
{
    return f->n_gene_unmatched > 0 || f->hearing_without_manifest > 0;
}

void ns_run_fu_rerun_rows(const ns_run_fu_t *f, FILE *fp)
{
    if (!f->have_genes) return;
    const ns_genes_night_t *g = &f->genes;
    for (int k = 0; k < g->n_plates; k++) {
        if (g->plates[k].status != NS_GPLATE_REJECTED) continue;
        int64_t n = 0, done = 0;
        size_t cap = 256, len = 0;
        char *ids = ns_malloc(cap);
        ids[0] = 0;
        for (int64_t i = 0; i < g->n; i++) {
            if (g->plate[i] != k || g->control[i] >= 0) continue;
            n++;
            for (int64_t j = 0; j < g->n; j++)       /* tested again on an accepted plate */
                if (g->state[j] != NS_GSTATE_HOLD && g->control[j] < 0 && strcmp(g->sample_id[j], g->sample_id[i]) == 0) {
                    done++;
                    break;
                }
            size_t L = strlen(g->sample_id[i]) + 3;
            if (len + L >= cap) ids = ns_realloc(ids, cap = (cap + L) * 2);
            len += (size_t)snprintf(ids + len, cap - len, "%s%s%s", len ? ";" : "",
                                    ns_table_formula_risk(g->sample_id[i]) ? "'" : "", g->sample_id[i]);
        }
        ns_csv_text(fp, g->plates[k].id);
        fputc(',', fp);
        ns_csv_text(fp, g->plates[k].name);
        fputc(',', fp);
        ns_csv_text(fp, g->plates[k].reason ? g->plates[k].reason : "");
        fprintf(fp, ",,%lld,%lld,", (long long)n, (long long)done);
        ns_csv_text(fp, ids);
        fputc('\n', fp);
        free(ids);
    }
}

static void rate(ns_json_t *j, const char *key, int64_t num, int64_t den)
{
    if (den > 0) ns_json_num(j, key, (double)num / (double)den);
    else ns_json_str(j, key, NULL);
}

void ns_run_fu_summary(const ns_run_fu_t *f, ns_json_t *j)
{
    const ns_fu_stats_t *s = &f->stats;
    ns_json_obj(j, "recall_list");
    ns_json_int(j, "infants", s->n_rows);
    for (int q = 0; q < NS_PRIO_N; q++) ns_json_int(j, ns_prio_name(q), s->by_prio[q]);
    ns_json_obj(j, "actions");
    for (int k = 0; k < s->n_actions; k++) ns_json_int(j, s->action[k], s->by_action[k]);
    ns_json_end_obj(j);
    ns_json_obj(j, "sources");
    static const char *const src[NS_SRC_N] = { "msms", "hearing", "gene" };
    for (int k = 0; k < NS_SRC_N; k++) ns_json_int(j, src[k], s->by_source[k]);
    ns_json_end_obj(j);
    ns_json_int(j, "msms_and_hearing", s->msms_and_hearing);
    ns_json_int(j, "without_manifest_row", f->hearing_without_manifest);
    ns_json_arr(j, "without_manifest_row_ids");       /* infant IDs only, no personal data */
    for (int64_t k = 0; k < f->list.n; k++)
        if (f->list.rows[k].mrow < 0) ns_json_str(j, NULL, f->list.rows[k].infant_id);
    ns_json_end_arr(j);
    ns_json_str(j, "language", ns_lang_code(f->lang));
    ns_json_end_obj(j);

    ns_json_obj(j, "hearing");
    ns_json_bool(j, "present", f->have_hearing);
    ns_json_str(j, "protocol_sha256", f->hcfg->sha256);
    if (f->have_hearing) {
        const ns_hearing_stats_t *h = &f->hstats;
        ns_json_str(j, "file_sha256", f->hrec.sha256);
        ns_json_int(j, "records_read", f->hrec.n_read);      /* == records_used + records_rejected */
        ns_json_int(j, "records_used", f->hrec.n);
        ns_json_int(j, "records_rejected", f->hrec.n_rejected);
        ns_json_bool(j, "usable", f->hrec.ok);
        ns_json_int(j, "infants", h->infants);
        ns_json_int(j, "pass", h->pass);
        ns_json_int(j, "refer", h->refer);
        ns_json_int(j, "not_tested", h->not_tested);
        ns_json_int(j, "initial_screened", h->initial_screened);
        ns_json_int(j, "initial_refer", h->initial_refer);
        rate(j, "initial_refer_rate", h->initial_refer, h->initial_screened);
        ns_json_int(j, "rescreened", h->rescreened);
        ns_json_int(j, "rescreen_refer", h->rescreen_refer);
        rate(j, "rescreen_refer_rate", h->rescreen_refer, h->rescreened);
        /* DOMAIN §7.1 quotes "refer after rescreen" per baby screened (1.3-1.7 %) */
        rate(j, "rescreen_refer_per_screened", h->rescreen_refer, h->initial_screened);
        ns_json_int(j, "nicu", h->nicu);
        ns_json_int(j, "nicu_unknown", h->nicu_unknown);
        ns_json_int(j, "risk_factors", h->risk);
        ns_json_int(j, "with_findings", h->with_findings);
        ns_json_int(j, "infants_with_rejected_rows", h->rejected_infants);
    }
    ns_json_end_obj(j);

    ns_json_obj(j, "genes");
    ns_json_bool(j, "present", f->have_genes);
    ns_json_str(j, "config_sha256", f->gcfg->sha256);
    if (f->have_genes) {
        const ns_genes_summary_t *g = &f->genes.sum;
        ns_json_int(j, "plates", g->n_plates);
        ns_json_int(j, "plates_accepted", g->accepted);
        ns_json_int(j, "plates_rejected", g->rejected);
        ns_json_int(j, "plates_quarantined", g->quarantined);
        ns_json_int(j, "wells_read", g->wells_read);
        ns_json_int(j, "wells_quarantined", g->wells_quarantined);
        ns_json_int(j, "controls", g->controls);
        ns_json_int(j, "gene_hold", g->hold);
        ns_json_int(j, "tested", g->tested);
        ns_json_int(j, "negative", g->negative);
        ns_json_int(j, "positive", g->positive);
        ns_json_int(j, "incomplete", g->incomplete);
        rate(j, "positive_rate", g->positive, g->tested);
        ns_json_int(j, "with_fail", g->with_fail);
        ns_json_bool(j, "wells_add_up", g->wells_read == g->wells_quarantined + g->controls + g->hold + g->tested
                                        && g->tested == g->negative + g->positive + g->incomplete);
        ns_json_arr(j, "plates_list");
        for (int k = 0; k < f->genes.n_plates; k++) {
            const ns_gene_plate_t *pl = &f->genes.plates[k];
            ns_json_obj(j, NULL);
            ns_json_str(j, "plate_id", pl->id);
            ns_json_str(j, "file", pl->name);
            ns_json_str(j, "status", ns_gene_plate_status_name(pl->status));
            ns_json_str(j, "reason", pl->error ? pl->error : pl->reason);
            ns_json_end_obj(j);
        }
        ns_json_end_arr(j);
        ns_json_arr(j, "unmatched");
        for (int64_t k = 0; k < f->n_gene_unmatched; k++) ns_json_str(j, NULL, f->gene_unmatched[k]);
        ns_json_end_arr(j);
    }
    ns_json_end_obj(j);
}

void ns_run_fu_free(ns_run_fu_t *f)
{
    ns_followup_free(&f->list);
    ns_findings_free(&f->findings);
    if (f->have_hearing) ns_hearing_records_free(&f->hrec);
    if (f->have_genes) ns_genes_night_free(&f->genes);
    for (int k = 0; k < f->n_gpaths; k++) free(f->gpaths[k]);
    free(f->gpaths);
    for (int64_t k = 0; k < f->n_gene_unmatched; k++) free(f->gene_unmatched[k]);
    free(f->gene_unmatched);
    ns_lang_free(f->lang);
    ns_hearing_config_free(f->hcfg);
    ns_genes_config_free(f->gcfg);
    free(f->lang_path);
    free(f->hearing_path);
    free(f->genes_path);
    memset(f, 0, sizeof *f);
}
