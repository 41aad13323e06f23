/* cmd_run.c — `neoscreen run`: one night of plates in; recall list, HDF5 archive and
 * summary out.
 *
 * Stages (minimap2's pipeline shape): ingest in parallel over files -> kernels in parallel
 * over rows -> recall merge and writers, serial and sorted.  Parallel code never decides
 * output order, so the recall list is byte-identical for any --threads.
 *
 * The config is checked completely before any input is read; a config that fails the check
 * stops the run with exit status 1 and nothing written.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef _OPENMP
#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <omp.h>
#include <pthread.h>
#endif
#include "atomic_file.h"
#include "csv.h"
#include "cmds.h"
#include "ingest.h"
#include "plate_qc.h"
#include "qc_config.h"
#include "json.h"
#include "ledger_cases.h"
#include "log.h"
#include "recall.h"
#include "report.h"
#include "run_followup.h"
#include "score.h"
#include "table.h"
#include "omp_wait.h"
#include "util.h"
#include "version.h"
#include "write_hdf5.h"

/* exit status bits (documented in usage) */
enum {
    EXIT_USAGE = 1,        /* usage or config error: nothing was read or written */
    EXIT_PARTIAL = 2,      /* some input quarantined / rejected: the rest was processed */
    EXIT_QC_HOLD = 4,      /* at least one plate on qc_hold */
    EXIT_UNMATCHED = 8,    /* patient wells with no manifest row */
    EXIT_OUTPUT = 16,      /* an output could not be written */
    EXIT_LEDGER = 32       /* the follow-up ledger could not be updated (every file written) */
};

#define DEFAULT_CONFIG "configs/panel-default.yaml"
#define DEFAULT_QC "configs/qc.yaml"

static void usage(FILE *fp)
{
    fputs(
"Usage: neoscreen run [options] NIGHT_DIR\n"
"\n"
"Process one night: NIGHT_DIR/plates/*.csv (MS/MS plate exports), NIGHT_DIR/manifest.csv\n"
"(the LIMS sample manifest), and when present NIGHT_DIR/hearing.csv (hearing screens) and\n"
"NIGHT_DIR/genes/*.csv (deafness-gene plates).  Writes, atomically, into the output\n"
"directory:\n"
"  recall-list.csv   one row per baby needing action, every screen's reasons merged, with\n"
"  recall-list.xlsx  the most urgent priority and the earliest due_by (mode 0600: they\n"
"                    hold names and phones; the same rows in both)\n"
"  batch.h5          HDF5 archive: samples, analyte/ratio matrices, flags, calls, states,\n"
"                    QC, hearing records, gene calls, the follow-up findings, config\n"
"                    texts and SHA-256s, input checksums (no personal data)\n"
"  summary.json      counts per state, plate and condition; quarantined files; exit status\n"
"  plates-to-rerun.csv  plates that failed QC, with the rule, analyte and level that decided\n"
"  report.html       the batch report: one self-contained page (inline CSS and SVG, no\n"
"                    script) with the night at a glance, plate QC, Levey-Jennings charts\n"
"                    (history from --history), patient distributions against cutoffs,\n"
"                    recalls per condition against the history's average, hearing refer\n"
"                    rates, and the follow-up ledger's programme indicators (below);\n"
"                    labels in --lang; IDs only (see --report-names)\n"
"\n", fp);
    fprintf(fp,
"Options:\n"
"  -o, --out DIR        output directory (created if missing) [required]\n"
"  -c, --config FILE    panel config [$NEOSCREEN_CONFIG, else ./%s, else the\n"
"                       copy in the source tree neoscreen was built from]\n"
"      --population FILE  population fragment (`neoscreen cutoffs derive` output) for the\n"
"                       panel's condition scores, when the panel has none inline\n"
"  -m, --manifest FILE  sample manifest [NIGHT_DIR/manifest.csv]\n"
"  -q, --qc FILE        QC materials, plate map and rules [configs/qc.yaml, found like -c]\n"
"  -H, --history DIR    earlier nights' outputs: every batch.h5 below DIR feeds the\n"
"                       across-night Westgard rules (4-1s, 10-x) and median monitoring;\n"
"                       archives of tonight, of a later night (ISO-dated names) and\n"
"                       second copies of a night are skipped, each with a message\n"
"  -L, --lang CODE      language of the recall list's headers, priorities, actions and\n"
"                       reasons, and of report.html: en or zh [the translation table's default]; codes\n"
"                       and IDs never change\n"
"      --lang-file FILE translation table [$NEOSCREEN_LANG_FILE, else configs/lang.yaml,\n"
"                       found like -c]\n"
"      --report-names   put the mothers' names of the babies on the list into\n"
"                       report.html, for internal use (the file is then mode 0600)\n"
"      --no-bom         recall-list.csv without the UTF-8 byte-order mark (the mark\n"
"                       lets Excel open Chinese text; scripts may not want it)\n"
"  -n, --night NAME     this night's name in batch.h5 and for --history ordering\n"
"                       [NIGHT_DIR's base name]; use ISO dates (2026-11-22) so that\n"
"                       nights sort in time\n"
"      --ledger FILE    the follow-up ledger (SQLite, mode 0600): the night's recall rows\n"
"                       open cases there, repeat cards close or escalate open ones (see\n"
"                       'neoscreen followup') [$NEOSCREEN_LEDGER, else the config's\n"
"                       followup.ledger, else ledger.sqlite in the parent directory of\n"
"                       -o, beside the other nights' outputs]\n"
"      --no-ledger      do not record the night in a ledger (report.html then says it\n"
"                       shows no indicators)\n"
"  -t, --threads N      threads for parsing and kernels [all cores]; with more than one,\n"
"                       and neither OMP_WAIT_POLICY nor GOMP_SPINCOUNT set, run starts\n"
"                       itself again with OMP_WAIT_POLICY=passive: waiting OpenMP threads\n"
"                       then sleep and leave the cores to the writers' threads (set the\n"
"                       variable to keep another policy)\n"
"  -v, --verbosity N    0 errors only, 1 progress (default), 2 details and stage times,\n"
"                       3 also the time of each part of batch.h5\n"
"  -h, --help           this text\n"
"\n", DEFAULT_CONFIG);
    fputs(
"Notes:\n"
"  Every well ends in exactly one state: negative, recall, invalid_specimen, unmatched\n"
"  (no manifest row), quarantined (its plate file was malformed) or control; summary.json\n"
"  shows that the states add up to the wells read.  A malformed plate file is reported as\n"
"  'neoscreen run: FILE:LINE:COL: what is wrong' and the rest of the night is processed.\n"
"\n"
"  report.html ends with the programme indicators of the follow-up ledger as they stand\n"
"  once this night is recorded: the calendar month and the calendar quarter that hold the\n"
"  night's date (its name when that is a date), every night of them in the ledger, with\n"
"  each definition, source and values observed elsewhere (DOMAIN.md 4.1, 8.3): the same\n"
"  figures as 'neoscreen followup stats' for those periods, as of the ledger's now\n"
"  ($NS_NOW, else the local time; summary.json ledger.indicators_as_of).  The rest of\n"
"  the page is written meanwhile; only that section waits for the ledger.  Without a\n"
"  ledger (--no-ledger) or when it failed (exit bit 32) the section says so.\n"
"\n"
"Exit status (bits, OR-ed; scripts should test bits, not parse messages):\n"
"  0   clean: everything read and reported\n"
"  1   usage or config error: nothing was read or written\n"
"  2   partial: a plate file quarantined, a manifest or hearing.csv problem, or no\n"
"      plate files at all\n"
"  4   at least one plate on hold: an MS/MS plate failed QC, or a gene plate its controls\n"
"  8   unmatched: patient wells or gene samples with no manifest row, or babies known\n"
"      only from hearing.csv (all listed in summary.json)\n"
"  16  an output file could not be written\n"
"  32  the follow-up ledger could not be updated (damaged, locked beyond its busy\n"
"      timeout, unwritable), or its indicators could not be read for report.html:\n"
"      every other output is written (report.html without indicators), summary.json\n"
"      says why; run the night again once the ledger is fixed (a night is recorded\n"
"      only once)\n",
          fp);
}

/* The .csv files in NIGHT/plates, sorted by name.  Returns count, -1 if the directory is unreadable. */
static int list_plates(const char *night, char ***out)
{
    char *dir = ns_asprintf("%s/plates", night);
    int n = ns_list_csv(dir, out);
    free(dir);
    return n;
}

/* ---- summary.json ------------------------------------------------------------------ */

typedef struct {
    const char *night, *out, *config;
    int threads, exit_status;
    int report_ok, report_names, report_hist;
    const ns_qc_history_t *hist;        /* the archives --history read, or NULL */
    const ns_run_fu_t *fu;
    int64_t state[NS_STATE_N];
    const char *ledger_path, *ledger_err;    /* path NULL: --no-ledger */
    const ns_ledger_night_t *ledger;
    const ns_rpt_ind_t *ind;            /* report.html's indicators (NULL: no report made) */
    const char *ind_err;                /* why they could not be read from a recorded ledger */
} run_info_t;

/* The calls of one condition (call[i], i < n) among the rows with rep[i] = 1: k[v] for
 * v = 1..3, k[4] for 4 and beyond, k[0] the rest.  Branch-free, all threads: byte counts
 * over blocks of 255 rows (sixteen or more rows to an instruction), added up per block;
 * integer sums, so the same at any thread count. */
static void count_calls(const uint8_t *call, const uint8_t *rep, size_t n, int64_t k[5])
{
    int64_t kr = 0, k1 = 0, k2 = 0, k3 = 0, k4 = 0;
    const size_t nb = (n + 254) / 255;
    #pragma omp parallel for schedule(static) reduction(+:kr, k1, k2, k3, k4)
    for (size_t blk = 0; blk < nb; blk++) {
        const size_t i0 = blk * 255, i1 = i0 + 255 < n ? i0 + 255 : n;
        uint8_t br = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0;
        #pragma omp simd reduction(+:br, b1, b2, b3, b4)
        for (size_t i = i0; i < i1; i++) {
            const uint8_t r = rep[i], v = call[i];
            br += r;
            b1 += r & (v == 1);
            b2 += r & (v == 2);
            b3 += r & (v == 3);
            b4 += r & (v >= 4);
        }
        kr += br; k1 += b1; k2 += b2; k3 += b3; k4 += b4;
    }
    k[0] = kr - k1 - k2 - k3 - k4;
    k[1] = k1;
    k[2] = k2;
    k[3] = k3;
    k[4] = k4;
}

static int write_summary(const char *path, const ns_batch_t *b, run_info_t *ri)
{
    ns_atomic_t *af = ns_atomic_open(path, 0644);
    if (!af) { ns_error_errno("run", "cannot create %s", path); return -1; }
    const ns_panel_t *p = b->panel;
    const size_t un = (size_t)b->n;
    ns_json_t j;
    ns_json_init(&j, af->fp);
    ns_json_obj(&j, NULL);
    ns_json_str(&j, "format", "neoscreen-summary/1");
    ns_json_str(&j, "software_version", NS_VERSION);
    ns_json_str(&j, "night", ri->night);
    ns_json_obj(&j, "panel");
    ns_json_str(&j, "path", p->path);
    ns_json_str(&j, "name", p->name);
    ns_json_str(&j, "version", p->version);
    ns_json_str(&j, "kit", p->kit);
    ns_json_str(&j, "sha256", p->sha256);
    ns_json_end_obj(&j);

    /* nothing lost: the states add up to the wells read */
    int64_t total = 0;
    for (int s = 0; s < NS_STATE_N; s++) total += ri->state[s];
    ns_json_int(&j, "wells_read", b->wells_read);
    ns_json_obj(&j, "states");
    for (int s = 0; s < NS_STATE_N; s++) ns_json_int(&j, ns_state_name(s), ri->state[s]);
    ns_json_end_obj(&j);
    ns_json_int(&j, "states_total", total);
    ns_json_bool(&j, "states_add_up", total == b->wells_read);
    int64_t patients = ri->state[NS_STATE_QC_HOLD] + ri->state[NS_STATE_NEGATIVE] + ri->state[NS_STATE_RECALL]
                     + ri->state[NS_STATE_INVALID] + ri->state[NS_STATE_UNMATCHED];
    ns_json_int(&j, "patient_wells", patients);
    ns_json_num(&j, "recall_rate", patients ? (double)ri->state[NS_STATE_RECALL] / (double)patients : NAN);

    int n_ok = 0, n_q = 0;
    for (int k = 0; k < b->n_plates; k++) {
        if (b->plates[k].status == NS_PLATE_OK) n_ok++;
        else n_q++;
    }
    ns_json_obj(&j, "plates");
    ns_json_int(&j, "total", b->n_plates);
    ns_json_int(&j, "ok", n_ok);
    ns_json_int(&j, "quarantined", n_q);
    if (b->qc) {
        ns_json_int(&j, "qc_rejected", b->qc->n_rejected);
        ns_json_int(&j, "qc_warning", b->qc->n_warning);
        ns_json_str(&j, "qc_config_sha256", b->qc->cfg->sha256);
    }
    ns_json_arr(&j, "list");
    for (int k = 0; k < b->n_plates; k++) {
        const ns_plate_t *pl = &b->plates[k];
        ns_json_obj(&j, NULL);
        ns_json_str(&j, "file", pl->name);
        ns_json_str(&j, "plate_id", pl->id);
        ns_json_str(&j, "status", pl->status == NS_PLATE_OK ? "ok" : "quarantined");
        ns_json_int(&j, "wells", pl->n_wells);
        ns_json_str(&j, "encoding", pl->encoding);
        ns_json_str(&j, "sha256", pl->sha256);
        if (b->qc) {
            const ns_plate_qc_t *q = &b->qc->plate[k];
            ns_json_str(&j, "qc_status", ns_qc_status_name(q->status));
            ns_json_str(&j, "qc_reason", q->reason);
            ns_json_str(&j, "qc_warnings", q->warnings ? q->warnings : "");
        }
        ns_json_end_obj(&j);
    }
    ns_json_end_arr(&j);
    ns_json_end_obj(&j);

    ns_json_arr(&j, "quarantined");
    for (int k = 0; k < b->n_plates; k++) {
        const ns_plate_t *pl = &b->plates[k];
        if (pl->status == NS_PLATE_OK) continue;
        ns_json_obj(&j, NULL);
        ns_json_str(&j, "file", pl->path);
        ns_json_int(&j, "wells", pl->n_wells);
        ns_json_str(&j, "reason", pl->error);
        ns_json_end_obj(&j);
    }
    ns_json_end_arr(&j);

    /* per condition: calls among reportable patient wells (not wells on QC hold: their
     * values are not results) */
    uint8_t *rep = ns_malloc(un + 1);
    #pragma omp parallel for schedule(static)
    for (size_t i = 0; i < un; i++)
        rep[i] = b->state[i] != NS_STATE_CONTROL && b->state[i] != NS_STATE_UNMATCHED
                 && b->state[i] != NS_STATE_QC_HOLD;
    ns_json_obj(&j, "conditions");
    for (int c = 0; c < p->n_conds; c++) {
        int64_t k[5];
        count_calls(b->call + (size_t)c * un, rep, un, k);
        ns_json_obj(&j, p->conds[c].code);
        ns_json_int(&j, "critical", k[NS_CALL_CRITICAL]);
        ns_json_int(&j, "positive", k[NS_CALL_POSITIVE]);
        ns_json_int(&j, "borderline", k[NS_CALL_BORDERLINE]);
        ns_json_int(&j, "indeterminate", k[NS_CALL_INDETERMINATE]);
        ns_json_end_obj(&j);
    }
    ns_json_end_obj(&j);

    free(rep);

    /* each specimen finding among the cards that are not controls, in one pass */
    int64_t nspec[NS_SPEC_N] = { 0 };
    if (b->spec) {
        #pragma omp parallel
        {
            int64_t my[NS_SPEC_N] = { 0 };
            #pragma omp for schedule(static) nowait
            for (size_t i = 0; i < un; i++) {
                const unsigned v = b->state[i] != NS_STATE_CONTROL ? b->spec[i] : 0u;
                for (int f = 0; f < NS_SPEC_N; f++) my[f] += (v >> f) & 1u;
            }
            #pragma omp critical
            for (int f = 0; f < NS_SPEC_N; f++) nspec[f] += my[f];
        }
    }
    ns_json_obj(&j, "specimen_findings");
    for (int f = 0; f < NS_SPEC_N; f++) ns_json_int(&j, ns_spec_name(f), nspec[f]);
    ns_json_end_obj(&j);

    ns_run_fu_summary(ri->fu, &j);     /* recall_list, hearing, genes */
    ns_ledger_night_summary(&j, ri->ledger_path, ri->ledger, ri->ledger_err,
                            ri->ind && ri->ind->status == NS_RPT_IND_SHOWN ? ri->ind->as_of : NULL);

    /* unmatched wells: card IDs only (no personal data), with any findings, so the lab can
     * trace the card — an unmatched positive is the worst thing to leave in a drawer */
    ns_json_arr(&j, "unmatched");
    for (size_t i = 0; i < un; i++) {
        if (b->state[i] != NS_STATE_UNMATCHED) continue;
        ns_json_obj(&j, NULL);
        ns_json_str(&j, "sample_id", b->sample_id[i]);
        ns_json_str(&j, "plate_id", b->plates[b->plate[i]].id);
        ns_json_str(&j, "well", b->well[i]);
        ns_json_arr(&j, "findings");
        for (int c = 0; c < p->n_conds; c++) {
            int v = b->call[(size_t)c * un + i];
            if (v != NS_CALL_NEGATIVE && v != NS_CALL_INDETERMINATE) ns_json_str(&j, NULL, p->conds[c].code);
        }
        ns_json_end_arr(&j);
        ns_json_end_obj(&j);
    }
    ns_json_end_arr(&j);

    const ns_manifest_t *m = &b->manifest;
    ns_json_obj(&j, "manifest");
    ns_json_str(&j, "file", m->path);
    ns_json_str(&j, "sha256", m->sha256);
    ns_json_bool(&j, "usable", m->ok);
    ns_json_int(&j, "rows", m->n);
    ns_json_int(&j, "rejected_rows", m->n_rejected);
    ns_json_arr(&j, "problems");
    for (int64_t i = 0; i < m->n_errors; i++) ns_json_str(&j, NULL, m->errors[i]);
    ns_json_end_arr(&j);
    /* the rows without a well, found in one pass over the rows (a million rows are some
     * 140 MB; the count is written before the list) */
    int64_t n_unplated = 0, cap = 0, *unplated = NULL;
    for (int64_t i = 0; i < m->n; i++)
        if (m->rows[i].n_wells == 0) {
            if (n_unplated == cap) unplated = ns_realloc(unplated, (size_t)(cap = cap ? 2 * cap : 64) * sizeof *unplated);
            unplated[n_unplated++] = i;
        }
    ns_json_int(&j, "rows_without_well", n_unplated);
    ns_json_arr(&j, "without_well");
    for (int64_t k = 0; k < n_unplated; k++) {
        const ns_manifest_row_t *r = &m->rows[unplated[k]];
        ns_json_obj(&j, NULL);
        ns_json_str(&j, "sample_id", r->sample_id);
        ns_json_int(&j, "line", r->line);
        ns_json_end_obj(&j);
    }
    ns_json_end_arr(&j);
    free(unplated);
    ns_json_end_obj(&j);

    ns_json_obj(&j, "report");
    ns_json_str(&j, "file", "report.html");
    ns_json_bool(&j, "written", ri->report_ok);
    ns_json_bool(&j, "names", ri->report_names);
    ns_json_int(&j, "history_nights", ri->report_hist);
    /* what the indicators section shows (as of when: ledger.indicators_as_of) */
    static const char *const ind_names[] = { "shown", "no_ledger", "ledger_failed", "night_not_in_ledger" };
    ns_json_str(&j, "indicators", ri->ind ? ind_names[ri->ind->status] : NULL);
    /* the earlier nights' archives it drew on: `neoscreen report` given these and this
     * night's batch.h5 rebuilds the same page */
    ns_json_arr(&j, "history_archives");
    for (int k = 0; ri->hist && k < ri->hist->n_archives; k++) ns_json_str(&j, NULL, ri->hist->archives[k]);
    ns_json_end_arr(&j);
    ns_json_end_obj(&j);
    ns_json_int(&j, "exit_status", ri->exit_status);
    ns_json_arr(&j, "exit_reasons");
    if (ri->exit_status & EXIT_PARTIAL) ns_json_str(&j, NULL, "partial: input quarantined or rejected");
    if (ri->exit_status & EXIT_QC_HOLD) ns_json_str(&j, NULL, "qc_hold: plate(s) failed QC");
    if (ri->exit_status & EXIT_UNMATCHED) ns_json_str(&j, NULL, "unmatched: patient wells without manifest row");
    if (ri->exit_status & EXIT_OUTPUT) ns_json_str(&j, NULL, "output: a file could not be written");
    if (ri->exit_status & EXIT_LEDGER)
        ns_json_str(&j, NULL, ri->ind_err && !ri->ledger_err
                                  ? "ledger: the follow-up ledger's indicators could not be read for report.html"
                                  : "ledger: the follow-up ledger could not be updated");
    ns_json_end_arr(&j);
    ns_json_obj(&j, "resources");
    ns_json_int(&j, "threads", ri->threads);
    ns_json_num(&j, "wall_s", ns_wall_s());
    ns_json_num(&j, "cpu_s", ns_cpu_s());
    ns_json_int(&j, "peak_rss_kb", ns_peak_rss_kb());
    ns_json_end_obj(&j);
    ns_json_end_obj(&j);
    if (ns_atomic_commit(af) < 0) { ns_error_errno("run", "cannot write %s", path); return -1; }
    return 0;
}

/* ---- plates-to-rerun.csv --------------------------------------------------------------- */

/* Plates that failed QC: what decided it, and the cards to punch again.  A card already
 * re-run on an accepted plate tonight is counted as resolved. */
static int write_rerun(const char *path, const ns_batch_t *b, const ns_qc_result_t *q, const ns_run_fu_t *fu)
{
    ns_atomic_t *af = ns_atomic_open(path, 0644);
    if (!af) { ns_error_errno("run", "cannot create %s", path); return -1; }
    fputs("plate_id,file,reason,warnings,patient_wells,rerun_tonight,sample_ids\n", af->fp);
    /* cards (manifest rows) with a well that is not on hold: already re-run tonight */
    uint8_t *resolved = ns_calloc((size_t)(b->manifest.n + 1), 1);
    for (int64_t i = 0; i < b->n; i++)
        if (b->mrow[i] >= 0 && b->type[i] == NS_TYPE_PATIENT && b->state[i] != NS_STATE_QC_HOLD)
            resolved[b->mrow[i]] = 1;
    for (int k = 0; k < b->n_plates; k++) {
        if (q->plate[k].status != NS_QC_REJECTED) continue;
        int64_t n = 0, done = 0;
        size_t cap = 256, len = 0;
        char *ids = ns_malloc(cap);
        ids[0] = 0;
        for (int64_t i = b->plates[k].first_row; i < b->n && b->plate[i] == k; i++) {
            if (b->type[i] != NS_TYPE_PATIENT) continue;
            n++;
            if (b->mrow[i] >= 0 && resolved[b->mrow[i]]) done++;
            size_t L = strlen(b->sample_id[i]) + 3;
            if (len + L >= cap) ids = ns_realloc(ids, cap = (cap + L) * 2);
            /* each id guarded: a list split into cells on ';' must not start a formula */
            len += (size_t)sprintf(ids + len, "%s%s%s", len ? ";" : "",
                                   ns_table_formula_risk(b->sample_id[i]) ? "'" : "", b->sample_id[i]);
        }
        ns_csv_text(af->fp, b->plates[k].id);
        fputc(',', af->fp);
        ns_csv_text(af->fp, b->plates[k].name);
        fputc(',', af->fp);
        ns_csv_text(af->fp, q->plate[k].reason);
        fputc(',', af->fp);
        ns_csv_text(af->fp, q->plate[k].warnings ? q->plate[k].warnings : "");
        fprintf(af->fp, ",%lld,%lld,", (long long)n, (long long)done);
        ns_csv_text(af->fp, ids);
        fputc('\n', af->fp);
        free(ids);
    }
    ns_run_fu_rerun_rows(fu, af->fp);        /* gene plates rejected by their controls */
    free(resolved);
    if (ns_atomic_commit(af) < 0) { ns_error_errno("run", "cannot write %s", path); return -1; }
    return 0;
}

/* ---- the command ------------------------------------------------------------------- */

/* Temporary files of a run that was killed before it could rename them (OUT/NAME.tmp.PID,
 * atomic_file.c), or before libxlsxwriter (neoscreen's XLSX writer until 2026-12) removed
 * one of its own (OUT/tmp.XXXXXXXXXX: names and phones): with the directory
 * locked no other run is writing, so every one of them is stale.  Only those names are
 * touched. */
static void remove_stale_tmp(const char *out)
{
    static const char *const names[] = { "recall-list.csv", "recall-list.xlsx", "batch.h5", "summary.json",
                                         "plates-to-rerun.csv", "report.html", NULL };
    DIR *d = opendir(out);
    if (!d) return;
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, "tmp.", 4) == 0 && len >= 10 && len <= 20) {     /* tmp. + 6..16 random */
            int alnum = 1;
            for (const char *q = e->d_name + 4; *q; q++)
                alnum &= (*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z');
            char *p = alnum ? ns_asprintf("%s/%s", out, e->d_name) : NULL;
            struct stat st;
            if (p && lstat(p, &st) == 0 && S_ISREG(st.st_mode) && unlink(p) == 0) n++;
            free(p);
            continue;
        }
        for (int k = 0; names[k]; k++) {
            size_t l = strlen(names[k]);
            const char *t = e->d_name + l;
            if (strncmp(e->d_name, names[k], l) != 0 || strncmp(t, ".tmp.", 5) != 0 || !t[5]) continue;
            int digits = 1;
            for (const char *q = t + 5; *q; q++) digits &= *q >= '0' && *q <= '9';
            if (!digits) continue;
            char *p = ns_asprintf("%s/%s", out, e->d_name);
            if (unlink(p) == 0) n++;
            free(p);
        }
    }
    closedir(d);
    if (n) ns_info(1, "run", "%s: removed %d temporary file%s left by a run that did not finish", out, n, n == 1 ? "" : "s");
}

/* Writing the recall list files, on a thread of its own. */
typedef struct {
    ns_run_fu_t *fu;
    const ns_batch_t *b;
    const char *out;
    int bom, r;
} fu_job_t;

/* The manifest, read on a thread of its own while the plates are read: the two touch
 * nothing in common until ns_batch_join, and print nothing until both are done.  Each
 * keeps the --threads team for its parallel parts; the OpenMP runtime spins less when its
 * threads outnumber the cores.  (Giving the manifest one thread was 0.05 s faster on the
 * 1M night with 2 cores, but would make it the slowest part on a machine with many.) */
typedef struct {
    ns_manifest_t *m;
    const char *path;
    int threads;        /* --threads: a new thread starts from the default, not from ours */
    int nprob;
    double secs;
} manifest_job_t;

static void *manifest_job(void *arg)
{
    manifest_job_t *j = arg;
    double t0 = ns_wall_s();
    omp_set_num_threads(j->threads);
    j->nprob = ns_ingest_manifest(j->m, j->path);
    j->secs = ns_wall_s() - t0;
    return NULL;
}

/* The recall list and report threads yield to the HDF5 thread: while all three run, the
 * cores are oversubscribed (the HDF5 thread's parallel regions want both), and batch.h5,
 * the biggest output, is the one the night waits for; the two writers still get every
 * core it leaves idle (they finish before it).  Linux: a thread has its own nice value.
 * 1M night, 2 threads, 18 alternated pairs: 0.11 and 0.25 s less (medians), the same bytes. */
static void yield_to_archive(void)
{
#ifdef __linux__
    const id_t tid = (id_t)syscall(SYS_gettid);
    errno = 0;
    int nice = getpriority(PRIO_PROCESS, tid);
    if (errno == 0) setpriority(PRIO_PROCESS, tid, nice + 10 < 19 ? nice + 10 : 19);
#endif
}

static void *fu_write_job(void *arg)
{
    fu_job_t *j = arg;
    j->r = ns_run_fu_write_files(j->fu, j->b, j->out, j->bom);
    return NULL;
}

/* fu_write_job on a thread of its own (yielding to the archive's; not when it runs on the
 * main thread, which builds the archive) */
static void *fu_write_thread(void *arg)
{
    yield_to_archive();
    return fu_write_job(arg);
}

/* The report's last section, the ledger's indicators, is known only after the ledger step
 * (this thread, after batch.h5): the report thread writes every other section meanwhile
 * and waits here for that one; the main thread fills ind, then says ready. */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int ready;
    ns_rpt_ind_t ind;
} ind_gate_t;

static const ns_rpt_ind_t *ind_wait(void *arg)
{
    ind_gate_t *g = arg;
    pthread_mutex_lock(&g->mu);
    while (!g->ready) pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
    return &g->ind;
}

static void ind_ready(ind_gate_t *g)
{
    pthread_mutex_lock(&g->mu);
    g->ready = 1;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

/* The batch report, on a thread of its own: tonight from memory (earlier nights were read
 * into rep beforehand, on the HDF5 thread), rendered and written; the indicators section
 * last, once the gate is ready.  Reads b and fu only. */
typedef struct {
    ns_report_t *rep;
    const ns_batch_t *b;
    const ns_qc_config_t *qcc;
    const ns_run_fu_t *fu;
    const char *path;
    ind_gate_t *gate;
    int names, r;
} report_job_t;

static void *report_job(void *arg)
{
    report_job_t *j = arg;
    ns_report_from_run(j->rep, j->b, j->qcc, j->fu, j->names);
    j->r = ns_report_write_wait(j->path, j->rep, j->fu->lang, "run", ind_wait, j->gate);
    if (j->r < 0 && unlink(j->path) < 0 && errno != ENOENT)     /* an older night's page must */
        ns_error_errno("run", "cannot remove the previous %s", j->path);   /* not pass for tonight's */
    return NULL;
}

static void *report_thread(void *arg)
{
    yield_to_archive();
    return report_job(arg);
}

int ns_cmd_run(int argc, char **argv)
{
    static const struct option lopts[] = {
        { "out", required_argument, NULL, 'o' },
        { "config", required_argument, NULL, 'c' },
        { "manifest", required_argument, NULL, 'm' },
        { "qc", required_argument, NULL, 'q' },
        { "history", required_argument, NULL, 'H' },
        { "night", required_argument, NULL, 'n' },
        { "lang", required_argument, NULL, 'L' },
        { "lang-file", required_argument, NULL, 'F' },
        { "population", required_argument, NULL, 'P' },
        { "no-bom", no_argument, NULL, 'B' },
        { "report-names", no_argument, NULL, 'R' },
        { "ledger", required_argument, NULL, 'D' },
        { "no-ledger", no_argument, NULL, 'N' },
        { "threads", required_argument, NULL, 't' },
        { "verbosity", required_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    const char *out = NULL, *config = NULL, *manifest = NULL, *qc_file = NULL, *history = NULL;
    const char *night_opt = NULL, *lang_code = NULL, *lang_file = NULL, *pop_file = NULL;
    const char *ledger_opt = NULL;
    int bom = 1, report_names = 0, no_ledger = 0;
    int threads = 0, ch;
    if (argc == 1) { usage(stdout); return 1; }
    optind = 1;
    while ((ch = getopt_long(argc, argv, "o:c:m:q:H:n:L:t:v:h", lopts, NULL)) >= 0) {
        switch (ch) {
        case 'o': out = optarg; break;
        case 'c': config = optarg; break;
        case 'm': manifest = optarg; break;
        case 'q': qc_file = optarg; break;
        case 'H': history = optarg; break;
        case 'L': lang_code = optarg; break;
        case 'F': lang_file = optarg; break;
        case 'P': pop_file = optarg; break;
        case 'B': bom = 0; break;
        case 'R': report_names = 1; break;
        case 'D': ledger_opt = optarg; break;
        case 'N': no_ledger = 1; break;
        case 'n': night_opt = optarg;
            if (!*optarg || strlen(optarg) > 64 || strchr(optarg, '/')) {
                ns_error("run", "--night must be a name of 1 to 64 characters without '/'");
                return EXIT_USAGE;
            }
            break;
        case 't': threads = atoi(optarg);
            if (threads < 1) { ns_error("run", "--threads must be a positive number, not '%s'", optarg); return EXIT_USAGE; }
            break;
        case 'v': ns_verbosity = atoi(optarg); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind != argc - 1) { ns_error("run", "expected one NIGHT_DIR (see 'neoscreen run --help')"); return EXIT_USAGE; }
    if (!out) { ns_error("run", "no output directory: give -o DIR"); return EXIT_USAGE; }
    const char *night = argv[optind];
#ifdef _OPENMP
    if (threads > 0) omp_set_num_threads(threads);
    else threads = omp_get_max_threads();
#else
    threads = 1;
#endif
    ns_clock_start();           /* handed over to the second start, if there is one */
    /* OpenMP threads that sleep while they wait, not spin: the writers' threads need the
     * cores (omp_wait.h; 1M night at 2 threads: BENCHMARKS.md).  argv as getopt_long left
     * it: the options first, then the night, which reads the same */
    ns_omp_wait_passive(argc, argv, threads);

    /* 1. configs: checked completely before anything else is touched.  Every early exit
     * goes through `done`, which frees whatever was made so far. */
    int status = EXIT_USAGE, n_paths = 0, lock_fd = -1;
    char **paths = NULL, *night_name = NULL, *qc_path = NULL;
    ns_qc_config_t *qcc = NULL;
    ns_qc_history_t hist;
    memset(&hist, 0, sizeof hist);
    ns_run_fu_t fu;
    memset(&fu, 0, sizeof fu);
    ns_batch_t b;
    memset(&b, 0, sizeof b);
    ns_qc_result_t qres;
    memset(&qres, 0, sizeof qres);
    char *cfg_path = ns_config_path(config, "NEOSCREEN_CONFIG", DEFAULT_CONFIG);
    ns_panel_errs_t perr;
    ns_panel_t *panel = ns_panel_open("run", cfg_path, pop_file, "nothing was read or written");
    if (!panel) goto done;
    qc_path = ns_config_path(qc_file, "NEOSCREEN_QC", DEFAULT_QC);
    qcc = ns_qc_load(qc_path, panel, &perr);
    if (!qcc) {
        ns_panel_errs_print(stderr, "neoscreen run", qc_path, NULL, &perr);
        ns_error("run", "%s: %d problem%s in the QC config; nothing was read or written", qc_path, perr.n,
                 perr.n == 1 ? "" : "s");
        ns_panel_errs_free(&perr);
        goto done;
    }
    ns_panel_errs_free(&perr);
    if (ns_run_fu_configs(&fu, panel, lang_file, lang_code) < 0) goto done;
    if (ns_report_check_lang(fu.lang, "run", fu.lang_path) < 0) {
        ns_error("run", "%s: the translation table lacks texts of the batch report; nothing was read or written",
                 fu.lang_path);
        goto done;
    }
    /* the night's name: --night, else its directory's base name ("nights/2026-11-22/" -> "2026-11-22") */
    night_name = ns_strdup(night_opt ? night_opt : night);
    for (size_t L = strlen(night_name); L > 1 && night_name[L - 1] == '/'; L--) night_name[L - 1] = 0;
    if (strrchr(night_name, '/')) memmove(night_name, strrchr(night_name, '/') + 1, strlen(strrchr(night_name, '/')));
    if (history && ns_qc_history_load(&hist, history, panel, qcc->history_plates, night_name) < 0) goto done;

    n_paths = list_plates(night, &paths);
    if (n_paths < 0) {
        ns_error_errno("run", "cannot read %s/plates", night);
        n_paths = 0;
        goto done;
    }
    struct stat st;
    if (ns_mkdir_p(out) < 0 || stat(out, &st) < 0 || !S_ISDIR(st.st_mode) || access(out, W_OK | X_OK) < 0) {
        if (errno == 0 || (stat(out, &st) == 0 && !S_ISDIR(st.st_mode))) errno = ENOTDIR;
        ns_error_errno("run", "cannot write into output directory %s", out);
        goto done;
    }
    /* one run at a time per output directory: a second one would interleave its files with
     * the first's.  The lock is on the directory itself (no lock file to leave behind) and
     * ends with the process, however it ends. */
    lock_fd = open(out, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (lock_fd < 0 || flock(lock_fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno == EWOULDBLOCK)
            ns_error("run", "%s: another neoscreen run is writing into this output directory; this one stops "
                     "without touching it (run again when the other has finished, or choose another -o)", out);
        else
            ns_error_errno("run", "cannot lock output directory %s", out);
        status = EXIT_OUTPUT;
        goto done;
    }
    remove_stale_tmp(out);
    ns_info(1, "run", "panel %s %s (%d analytes, %d ratios, %d conditions), %d threads",
            panel->name, panel->version, panel->n_analytes, panel->n_ratios, panel->n_conds, threads);
    if (threads > 1) {
        const char *wp = getenv("OMP_WAIT_POLICY"), *sc = getenv("GOMP_SPINCOUNT");
        ns_info(2, "run", "OpenMP threads wait for work as OMP_WAIT_POLICY=%s%s%s says", wp ? wp : "(unset)",
                sc ? " and GOMP_SPINCOUNT=" : "", sc ? sc : "");
    }

    /* 2. ingest */
    status = 0;
    b.panel = panel;
    b.plate_map = qcc->well_type;
    b.night = night_name;
    char *mpath = manifest ? ns_strdup(manifest) : ns_asprintf("%s/manifest.csv", night);
    manifest_job_t mjob = { &b.manifest, mpath, omp_get_max_threads(), 0, 0 };
    pthread_t m_thread;
    int m_threaded = mjob.threads > 1 && pthread_create(&m_thread, NULL, manifest_job, &mjob) == 0;
    if (!m_threaded) manifest_job(&mjob);
    double t_plates = ns_wall_s();
    int n_quar = ns_ingest_plates(&b, paths, n_paths);
    t_plates = ns_wall_s() - t_plates;
    if (m_threaded) pthread_join(m_thread, NULL);
    /* the plate reader's own time, for `make bench` (plate ingest as a stage) */
    ns_info(2, "ingest", "manifest read in %.3f s, plates in %.3f s%s", mjob.secs, t_plates,
            m_threaded ? " (side by side)" : "");
    for (int64_t i = 0; i < b.manifest.n_errors; i++) ns_error("run", "%s", b.manifest.errors[i]);
    if (mjob.nprob) status |= EXIT_PARTIAL;
    free(mpath);
    ns_info(1, "ingest", "manifest: %lld rows, %lld rejected", (long long)b.manifest.n,
            (long long)b.manifest.n_rejected);

    for (int k = 0; k < b.n_plates; k++)
        if (b.plates[k].error) ns_error("run", "%s (plate quarantined)", b.plates[k].error);
    if (n_quar) status |= EXIT_PARTIAL;
    if (n_paths == 0) {
        /* an export that never arrived is not a clean night */
        ns_error("run", "%s/plates holds no .csv plate files", night);
        status |= EXIT_PARTIAL;
    }
    ns_batch_join(&b);
    ns_info(1, "ingest", "%d plates, %lld wells, %d quarantined (%lld wells)", n_paths,
            (long long)b.wells_read, n_quar, (long long)b.n_quarantined_wells);
    int fu_flags = ns_run_fu_inputs(&fu, night);        /* hearing.csv, genes/<plate>.csv */
    if (fu_flags & 1) status |= EXIT_PARTIAL;
    if (fu_flags & 2) status |= EXIT_QC_HOLD;

    /* 3. kernels and states */
    double t_stage = ns_wall_s();
    if (ns_batch_score(&b) < 0) status |= EXIT_OUTPUT;
    ns_info(3, "kernels", "ratios, flags, calls and states in %.3f s", ns_wall_s() - t_stage);
    /* plate QC: controls, blanks, patient medians; rejected plates' patients -> qc_hold */
    t_stage = ns_wall_s();
    if (ns_plate_qc_run(&b, qcc, history ? &hist : NULL, &qres) < 0) status |= EXIT_OUTPUT;
    ns_info(3, "qc", "plate QC in %.3f s", ns_wall_s() - t_stage);
    b.qc = &qres;
    if (qres.n_rejected) status |= EXIT_QC_HOLD;
    for (int k = 0; k < b.n_plates; k++)
        if (qres.plate[k].status == NS_QC_REJECTED)
            ns_error("run", "%s: plate %s failed QC: %s (its patients are on qc_hold)", b.plates[k].path,
                     b.plates[k].id, qres.plate[k].reason);
    ns_info(1, "qc", "%d plates accepted, %d with warnings, %d rejected%s", b.n_plates - n_quar - qres.n_warning - qres.n_rejected,
            qres.n_warning, qres.n_rejected, history ? "" : " (no --history: within-night rules only)");

    run_info_t ri;
    memset(&ri, 0, sizeof ri);
    ri.fu = &fu;
    ri.night = night;
    ri.out = out;
    ri.threads = threads;
    ns_count_codes(b.state, b.n, ri.state, NS_STATE_N);
    ri.state[NS_STATE_QUARANTINED] += b.n_quarantined_wells;
    if (ri.state[NS_STATE_UNMATCHED]) status |= EXIT_UNMATCHED;
    ns_info(1, "kernels", "%lld patient wells: %lld negative, %lld recall, %lld invalid, %lld unmatched",
            (long long)(ri.state[NS_STATE_NEGATIVE] + ri.state[NS_STATE_RECALL] + ri.state[NS_STATE_INVALID] + ri.state[NS_STATE_UNMATCHED]),
            (long long)ri.state[NS_STATE_NEGATIVE], (long long)ri.state[NS_STATE_RECALL],
            (long long)ri.state[NS_STATE_INVALID], (long long)ri.state[NS_STATE_UNMATCHED]);

    /* 4. outputs, each atomic */
    char *p_recall = ns_asprintf("%s/recall-list.csv", out);
    char *p_h5 = ns_asprintf("%s/batch.h5", out);
    char *p_sum = ns_asprintf("%s/summary.json", out);
    /* a summary from an earlier run must not survive a run that fails to write its own:
     * summary.json is written last, so its presence means this run completed */
    if (unlink(p_sum) < 0 && errno != ENOENT) {
        ns_error_errno("run", "cannot remove the previous %s", p_sum);
        status |= EXIT_OUTPUT;
    }
    ns_run_fu_prepare(&fu, &b);
    if (ns_run_fu_unmatched(&fu)) status |= EXIT_UNMATCHED;
    /* the batch report: earlier nights first, here (HDF5 stays on this thread), the same
     * archives the QC history read; then tonight from memory on its own thread.  A failure
     * loses no other output (exit bit 16, summary.json says so) */
    ns_report_t rep;
    ns_report_init(&rep);
    ns_report_begin(&rep, panel);
    char *p_rep = ns_asprintf("%s/report.html", out);
    ind_gate_t gate;
    memset(&gate, 0, sizeof gate);
    pthread_mutex_init(&gate.mu, NULL);
    pthread_cond_init(&gate.cv, NULL);
    /* without a ledger the section is known now: the report never waits */
    ns_rpt_ind_init(&gate.ind, no_ledger ? NS_RPT_IND_DISABLED : NS_RPT_IND_FAILED);
    gate.ready = no_ledger;
    report_job_t rjob = { &rep, &b, qcc, &fu, p_rep, &gate, report_names, 0 };
    pthread_t rep_thread;
    int rep_threaded = 0, rep_wanted = 0;
    if (history && ns_report_add_history(&rep, "run", hist.archives, hist.n_archives) < 0) {
        ns_error("run", "%s: not written: an earlier night's archive could not be read", p_rep);
        rjob.r = -1;
        if (unlink(p_rep) < 0 && errno != ENOENT) ns_error_errno("run", "cannot remove the previous %s", p_rep);
    } else {
        rep_wanted = 1;
        /* without a thread it is written after the ledger step (its last section waits for it) */
        rep_threaded = pthread_create(&rep_thread, NULL, report_thread, &rjob) == 0;
    }
    /* the recall list (CSV, XLSX: one thread, zlib) is written while this thread builds
     * batch.h5 (HDF5 stays on this thread, BUILD-NOTES G3); both only read fu and b */
    fu_job_t job = { &fu, &b, out, bom, 0 };
    pthread_t fu_thread;
    int threaded = pthread_create(&fu_thread, NULL, fu_write_thread, &job) == 0;
    if (!threaded) fu_write_job(&job);
    char *p_rerun = ns_asprintf("%s/plates-to-rerun.csv", out);
    if (write_rerun(p_rerun, &b, &qres, &fu) < 0) status |= EXIT_OUTPUT;
    free(p_rerun);
    char *cmdline = NULL;
    {
        size_t L = 1;
        for (int i = 0; i < argc; i++) L += strlen(argv[i]) + 1;
        cmdline = ns_calloc(L + 16, 1);
        strcpy(cmdline, "neoscreen");
        for (int i = 0; i < argc; i++) { strcat(cmdline, " "); strcat(cmdline, argv[i]); }
    }
    ns_info(2, "output", "plates-to-rerun.csv written");
    if (ns_write_hdf5(p_h5, &b, &fu, cmdline) < 0) status |= EXIT_OUTPUT;
    else ns_info(2, "output", "batch.h5 written");
    /* the follow-up ledger (reads fu and b only, like the list writer): a failure is
     * reported and costs no other output */
    char ledger_err[512];
    ns_ledger_night_t lres;
    memset(&lres, 0, sizeof lres);
    char *ledger_path = no_ledger ? NULL : ns_ledger_run_path(ledger_opt, panel->ledger, out);
    ri.ledger_path = ledger_path;
    ri.ledger = &lres;
    if (ledger_path && ns_ledger_record_night(ledger_path, &b, &fu.findings, &fu.list, &lres, ledger_err,
                                              sizeof ledger_err) < 0) {
        ns_error("run", "follow-up ledger not updated: %s (every other output is written; run the night "
                 "again once the ledger is fixed)", ledger_err);
        ri.ledger_err = ledger_err;
        status |= EXIT_LEDGER;
    } else if (ledger_path) {
        ns_info(1, "ledger", "%s: %s; %lld cases opened, %lld repeat cards linked (%lld cleared, %lld escalated, "
                "%lld unsatisfactory), %lld without an open case", ledger_path,
                lres.already ? "night already recorded, nothing added" : "night recorded", (long long)lres.cases_opened,
                (long long)lres.repeats_linked, (long long)lres.cleared, (long long)lres.escalated,
                (long long)lres.unsatisfactory, (long long)lres.n_orphans);
        if (lres.n_orphans)
            ns_info(1, "ledger", "%lld repeat card%s without an open case (flagged: summary.json, "
                    "'neoscreen followup list --orphans')",
                     (long long)lres.n_orphans, lres.n_orphans == 1 ? "" : "s");
    }
    /* the report's indicators, as they stand now that the night is recorded: read on this
     * thread (one read-only connection, opened and closed here), then handed over */
    char ind_err[512];
    if (rep_wanted && ledger_path && !ri.ledger_err) {
        char now[24];
        int r = ns_ledger_now(now);
        if (r < 0) snprintf(ind_err, sizeof ind_err, "NS_NOW is set but is not a time YYYY-MM-DDTHH:MM[:SS]");
        else r = ns_rpt_ind_load(&gate.ind, ledger_path, night_name, now, ind_err, sizeof ind_err);
        if (r < 0) {
            ns_error("run", "report.html: the follow-up ledger's indicators could not be read: %s (the page is "
                     "written without them)", ind_err);
            ri.ind_err = ind_err;
            status |= EXIT_LEDGER;
        } else {
            ns_info(2, "ledger", "indicators of %s and %s as of %s, for report.html", gate.ind.month,
                    gate.ind.quarter, gate.ind.as_of);
        }
    }
    if (!gate.ready) ind_ready(&gate);
    if (rep_wanted && !rep_threaded) report_job(&rjob);
    ri.ind = rep_wanted ? &gate.ind : NULL;
    if (threaded) pthread_join(fu_thread, NULL);
    if (job.r < 0) status |= EXIT_OUTPUT;
    ns_info(2, "output", "recall list (CSV, XLSX) written");
    if (rep_threaded) pthread_join(rep_thread, NULL);
    if (rjob.r < 0) status |= EXIT_OUTPUT;
    else ns_info(2, "output", "report.html written");
    ri.report_ok = rjob.r == 0;
    ri.report_names = report_names;
    ri.report_hist = rep.n_hist;
    ri.hist = history ? &hist : NULL;
    ns_report_free(&rep);
    free(p_rep);
    ri.exit_status = status;
    if (write_summary(p_sum, &b, &ri) < 0) status |= EXIT_OUTPUT;
    ns_info(2, "output", "summary.json written");
    ns_info(1, "run", "recall list: %lld infants (%lld critical, %lld urgent, %lld routine) -> %s",
            (long long)fu.stats.n_rows, (long long)fu.stats.by_prio[NS_PRIO_CRITICAL],
            (long long)fu.stats.by_prio[NS_PRIO_URGENT], (long long)fu.stats.by_prio[NS_PRIO_ROUTINE], out);
    ns_info(1, "main", "Version %s; exit status %d; Real time: %.3f sec; CPU: %.3f sec; Peak RSS: %.3f GB",
            NS_VERSION, status, ns_wall_s(), ns_cpu_s(), (double)ns_peak_rss_kb() / 1048576.0);

    free(cmdline);
    ns_rpt_ind_free(&gate.ind);
    pthread_cond_destroy(&gate.cv);
    pthread_mutex_destroy(&gate.mu);
    ns_ledger_night_free(&lres);
    free(ledger_path);
    free(p_recall); free(p_h5); free(p_sum);
done:
    if (lock_fd >= 0) close(lock_fd);
    for (int k = 0; k < n_paths; k++) free(paths[k]);
    free(paths);
    ns_plate_qc_free(&qres, b.n_plates);
    ns_batch_free(&b);
    ns_run_fu_free(&fu);
    ns_qc_history_free(&hist);
    free(night_name);
    ns_qc_free(qcc);
    ns_panel_free(panel);
    free(cfg_path);
    free(qc_path);
    return status;
}
