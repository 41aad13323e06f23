/* run_followup.h — the follow-up half of `neoscreen run`: hearing records, deafness-gene
 * plates, and the recall list with one row per baby (CSV and XLSX).
 *
 * Why a module: `run` reads three screens of one night and the follow-up team wants one
 * list.  cmd_run.c owns the MS/MS batch; this module owns the configs, inputs and outputs
 * of the other two screens and of the merged list, so that each step stays short:
 *
 *   ns_run_fu_configs()  before any input is read: lang, hearing and gene configs, all
 *                        checked (a bad config stops the run, like the panel)
 *   ns_run_fu_inputs()   NIGHT/hearing.csv and NIGHT/genes/<plate>.csv when present; every
 *                        problem as FILE:LINE:COL on stderr, the rest still used
 *   ns_run_fu_prepare()  findings of every screen -> merge by infant_id
 *   ns_run_fu_write_files() -> recall-list.csv / .xlsx
 *                        and recall-list.xlsx (0600, atomic)
 *   ns_run_fu_summary()  the hearing, gene and list counts for summary.json
 *
 * Gene plates hold sample_ids (the same dried blood spot as the MS/MS card): a gene
 * sample maps to its infant through the manifest; one that the manifest does not know
 * cannot be reported to anyone and is listed in summary.json as unmatched, like an
 * unmatched MS/MS well, with the unmatched exit bit.  Hearing records carry the infant_id
 * itself: a baby with no manifest row is still listed (without contact details or birth
 * time, which the manifest holds), said on stderr, with the unmatched exit bit.
 */
#ifndef NS_RUN_FOLLOWUP_H
#define NS_RUN_FOLLOWUP_H

#include <stdio.h>
#include "batch.h"
#include "followup.h"
#include "genes.h"
#include "hearing.h"
#include "json.h"
#include "lang.h"

typedef struct ns_run_fu {
    /* configs */
    char *lang_path, *hearing_path, *genes_path;
    ns_lang_t *lang;
    ns_hearing_config_t *hcfg;
    ns_genes_config_t *gcfg;
    /* inputs */
    int have_hearing;
    ns_hearing_records_t hrec;
    ns_hearing_stats_t hstats;
    int have_genes;
    char **gpaths;
    int n_gpaths;
    ns_genes_night_t genes;
    int genes_quarantined, genes_rejected;
    /* outputs */
    ns_findings_t findings;
    ns_fu_list_t list;
    ns_fu_stats_t stats;
    char **gene_unmatched;        /* gene samples without a manifest row (sample_ids) */
    int64_t n_gene_unmatched;
    int64_t hearing_without_manifest;   /* listed babies the manifest does not know */
} ns_run_fu_t;

/* Load the configs: lang (lang_file, else $NEOSCREEN_LANG_FILE, else configs/lang.yaml
 * found like the panel) in language lang_code (NULL = the file's default), and
 * configs/hearing.yaml and configs/genes.yaml ($NEOSCREEN_HEARING, $NEOSCREEN_GENES), and
 * check that the table has every text the panel's and the rules' findings can need.
 * @return 0, or -1 after printing every problem (nothing read or written yet). */
int ns_run_fu_configs(ns_run_fu_t *f, const ns_panel_t *panel, const char *lang_file, const char *lang_code);

/* Read NIGHT/hearing.csv and NIGHT/genes/<plate>.csv if present, judge the gene plates on
 * their controls.  Messages on stderr (FILE:LINE:COL, never personal data).
 * @return bit 1: an input problem (rows rejected, a file unusable or quarantined); bit 2:
 *         a gene plate rejected by its controls (its samples are on gene_hold). */
int ns_run_fu_inputs(ns_run_fu_t *f, const char *night);

/* Findings of every screen (MS/MS from b), merged by infant into the recall list f->list.
 * @return 0. */
int ns_run_fu_prepare(ns_run_fu_t *f, const ns_batch_t *b);

/* The recall list of ns_run_fu_prepare() written to OUT/recall-list.csv (with a UTF-8 BOM
 * when bom) and OUT/recall-list.xlsx; fills f->stats.  Reads f and b only (another thread
 * may read them meanwhile: `run` writes batch.h5 at the same time).  @return 0, or -1 after
 * reporting a file that could not be written. */
int ns_run_fu_write_files(ns_run_fu_t *f, const ns_batch_t *b, const char *out, int bom);

/* 1 if, after ns_run_fu_prepare(), a gene plate sample is not in the manifest (its results
 * cannot be reported) or a baby on the list is known only from hearing.csv (no contact
 * details): the run's "unmatched" exit bit. */
int ns_run_fu_unmatched(const ns_run_fu_t *f);

/* Rows of plates-to-rerun.csv for gene plates rejected by their controls (same columns as
 * the MS/MS rows: plate_id,file,reason,warnings,patient_wells,rerun_tonight,sample_ids). */
void ns_run_fu_rerun_rows(const ns_run_fu_t *f, FILE *fp);

/* The "recall_list", "hearing" and "genes" objects of summary.json. */
void ns_run_fu_summary(const ns_run_fu_t *f, ns_json_t *j);

void ns_run_fu_free(ns_run_fu_t *f);

#endif
