/* report.h — the batch report: what a technician looks at every morning (report.html).
 *
 * Why: after a night runs, a technician decides in a minute whether to release results —
 * which plates failed and why, how many recalls, anything unusual.  The report is one
 * self-contained HTML page (inline CSS and SVG, no script, no network) with the night at a
 * glance, the plate-QC table, Levey-Jennings charts of every control series, the
 * distribution of patient values per analyte against its cutoffs, recalls per condition
 * against the recent average and the hearing refer rates.
 *
 * The page is drawn from a language-neutral model, ns_report_t, that two fillers fill:
 *   - ns_report_from_run()      the night in memory, in `neoscreen run` (report_fill.c);
 *   - ns_report_from_archive()  a batch.h5 archive, in `neoscreen report` (report_archive.c);
 * and ns_report_add_history() adds earlier nights' archives (Levey-Jennings history and
 * the recent average of recalls) in both.  The same night gives the same model either
 * way, so `run`'s report.html and `report batch.h5` are byte-identical (tests/e2e/
 * report.sh checks it).  Every text a person reads comes from the translation table
 * (lang.h, keys report.*); codes and IDs never change with language.
 *
 * The page ends with the programme indicators from the follow-up ledger (ns_rpt_ind_t,
 * report_ledger.c) when a ledger is part of the picture: `run` always adds that section
 * (the indicators once tonight is recorded, or why there are none), `neoscreen report`
 * only when given --ledger or --no-ledger; without them its page is the one it always
 * made.
 *
 * Personal data: the model carries IDs only, unless names are asked for (mother's name,
 * for internal use); ns_report_write() then creates the file with mode 0600.
 *
 * Output is deterministic: no timestamp, numbers in the C locale, everything in a fixed
 * order; the same model gives the same bytes at any thread count.
 */
#ifndef NS_REPORT_H
#define NS_REPORT_H

#include <stdint.h>
#include <stdio.h>
#include "batch.h"
#include "lang.h"
#include "ledger_stats.h"
#include "panel.h"
#include "qc_config.h"

/* An MS/MS plate file of the night. */
typedef struct {
    char *id, *file;          /* plate_id ("" if quarantined before it was read), file name */
    int quarantined;          /* the file was malformed */
    char *error;              /* its quarantine message ("" if none) */
    int64_t wells;            /* data rows seen */
    int qc_status;            /* NS_QC_* (plate_qc.h); NS_QC_NOT_RUN without QC */
    char *qc_reason, *qc_warnings;  /* "" if none */
} ns_rpt_plate_t;

/* A deafness-gene plate that did not pass: quarantined or rejected by its controls. */
typedef struct {
    char *id, *file, *status, *reason;     /* status "quarantined" | "rejected" */
} ns_rpt_gplate_t;

/* A baby on the recall list (IDs only; name only with names asked for). */
typedef struct {
    char *infant_id;
    int priority;             /* NS_PRIO_* */
    char *sources;            /* "msms;hearing" */
    char *codes;              /* condition / rule codes of its actionable findings, "; " */
    char *name;               /* mother's name, NULL unless names were asked for */
} ns_rpt_baby_t;

/* A plate in the Levey-Jennings sequence: earlier nights' plates, then tonight's. */
typedef struct {
    char *night, *plate_id;
    int tonight;
} ns_rpt_seq_t;

/* One control result. */
typedef struct {
    int seq;                  /* index into seq[] */
    int level;                /* 0 qc_low, 1 qc_high */
    int analyte;              /* tonight's panel analyte index */
    double value;
    unsigned rules;           /* NS_WG_* bits that this analyte and level violated on the plate */
} ns_rpt_ctl_t;

/* A limit drawn on an analyte's distribution. */
typedef struct {
    int analyte;
    char cond[NS_NAME_MAX];   /* condition code */
    int kind;                 /* 0 cutoff, 1 borderline, 2 critical */
    int high;                 /* 1 high marker, 0 low */
    double value;
} ns_rpt_cut_t;

/* One earlier night. */
typedef struct {
    char *night, *path;
    int64_t patients;         /* reportable patient wells (negative, recall, invalid) */
    int64_t *recalls;         /* per condition of the report (r->cond), -1 = not in that panel */
} ns_rpt_hist_t;

/* The programme indicators of the follow-up ledger, as they stand once the night is
 * recorded: the calendar month and the calendar quarter that hold the night's date (its
 * date in the ledger: its name when that is a date, else the day it was first recorded),
 * every night of them in the ledger, computed by ns_ledger_stats() as of as_of — the same
 * figures as `neoscreen followup stats --from <first day> --to <last day> --by month`
 * (quarter).  Aggregates only: no ID, no name. */
enum {
    NS_RPT_IND_SHOWN = 0,        /* month_v and quarter_v hold the indicators */
    NS_RPT_IND_DISABLED,         /* run --no-ledger: no ledger, no indicators */
    NS_RPT_IND_FAILED,           /* the ledger could not be updated (or read) for this night */
    NS_RPT_IND_NOT_RECORDED      /* the ledger given does not hold this night */
};

typedef struct {
    int status;                  /* NS_RPT_IND_* */
    char night_date[16];         /* YYYY-MM-DD */
    char month[16], quarter[24]; /* "2026-09", "2026-Q3" */
    char as_of[24];              /* YYYY-MM-DDTHH:MM:SS (ns_ledger_now()) */
    ns_indicators_t month_v, quarter_v;
} ns_rpt_ind_t;

/* An empty section of the given status (nothing to free until loaded). */
void ns_rpt_ind_init(ns_rpt_ind_t *ind, int status);
void ns_rpt_ind_free(ns_rpt_ind_t *ind);

/* The indicators of night (its name) from the ledger at path, opened read-only (never
 * created or migrated: ns_ledger_open_ro()), as of now (YYYY-MM-DDTHH:MM:SS).  Both
 * periods are read in one read transaction.  A ledger that does not hold the night gives
 * status NS_RPT_IND_NOT_RECORDED.  Opens, reads and closes its own SQLite connection on
 * the calling thread.
 * @return 0 (ind filled: free with ns_rpt_ind_free()), or -1 with "PATH: why" in err
 *         (ind then has status NS_RPT_IND_FAILED). */
int ns_rpt_ind_load(ns_rpt_ind_t *ind, const char *path, const char *night, const char *now,
                    char *err, size_t errlen) NS_RESULT_USED;

typedef struct {
    /* the night */
    char *night, *panel_name, *panel_version, *panel_sha256, *software;
    int64_t wells_read, state[NS_STATE_N];
    ns_rpt_plate_t *plates;
    int n_plates;
    int have_qc;              /* plate QC was run (archives: /qc exists) */
    char *manifest_file;      /* the manifest's file name ("" none) */
    char *manifest_problem;   /* "manifest unusable ..." / "N rows rejected ..." ("" none), the
                                 text the archive keeps (/inputs): counts, never row messages */
    ns_rpt_gplate_t *gplates; /* gene plates not passed */
    int n_gplates;
    int have_genes;
    int have_followup;        /* the recall list is known (archives: /followup exists) */
    int64_t prio[NS_PRIO_N];
    ns_rpt_baby_t *babies;
    int64_t n_babies;
    int with_names;

    /* analytes of tonight's panel */
    int n_analytes;
    char **analyte, **unit;
    double *target_mean, *target_sd;     /* [a * 2 + level]; NAN = no target */
    double **patient;                     /* per analyte: measured values of reportable
                                             patient wells (exact cells only), in row order
                                             (only counted into bins: no order matters) */
    int64_t *n_patient, *n_censored;      /* ... and how many were "<x" or ND */
    struct {                              /* or, from `run`, the batch's own columns: the  */
        int64_t n;                        /* values are picked out of them per chart       */
        uint8_t *keep;                    /* (ns_rpt_view_rows; n == 0: not a view); owned, */
                                          /* 1 for the reportable patient wells            */
        const uint8_t *cell;
        const double *conc;
    } view;
    ns_rpt_cut_t *cut;
    int n_cut;

    /* Levey-Jennings */
    ns_rpt_seq_t *seq;
    int n_seq;
    ns_rpt_ctl_t *ctl;
    int64_t n_ctl, cap_ctl;   /* cap_ctl: entries allocated in ctl */

    /* recalls per condition */
    int n_cond;
    char **cond;
    int64_t *recalls;                     /* tonight, reportable patient wells called
                                             borderline, positive or critical */
    int64_t patients;                     /* tonight's reportable patient wells */
    ns_rpt_hist_t *hist;
    int n_hist;

    /* hearing */
    int have_hearing;          /* hearing.csv was read */
    int hearing_recorded;      /* its counts are known (older archives did not keep them) */
    int64_t h_infants, h_initial_screened, h_initial_refer, h_rescreened, h_rescreen_refer;

    /* the follow-up ledger's indicators: NULL = no such section (not owned) */
    const ns_rpt_ind_t *ind;
} ns_report_t;

void ns_report_init(ns_report_t *r);
void ns_report_free(ns_report_t *r);

/* ---- filling (report_fill.c: memory; report_archive.c: archives) -------------------- */

struct ns_run_fu;

/* The panel's analytes, conditions and limits into a fresh model, before anything else
 * when earlier nights are added ahead of tonight (run reads them on its HDF5 thread, then
 * fills tonight on another). */
void ns_report_begin(ns_report_t *r, const ns_panel_t *p);

/* Tonight from `run`'s memory: the scored batch b (with b->qc when QC ran), the QC config
 * (targets; may be NULL) and the follow-up state fu (may be NULL).  with_names: put the
 * mother's name of each listed baby in the model (from b's manifest).  r is fresh, or
 * begun with b's panel (ns_report_begin) and given its earlier nights already.  Reads b
 * and fu only: safe beside other readers. */
void ns_report_from_run(ns_report_t *r, const ns_batch_t *b, const ns_qc_config_t *qc_config,
                        const struct ns_run_fu *fu, int with_names);

/* Tonight from an archive (tag names the command in messages).  0, or -1 after a report
 * naming the file.  HDF5 from the calling thread only. */
int ns_report_from_archive(ns_report_t *r, const char *tag, const char *path);

/* Earlier nights (oldest first) for the Levey-Jennings charts and the recent average of
 * recalls: their plates go before tonight's whether tonight is filled already or later.
 * Call after ns_report_begin() or after filling tonight.  0, or -1 after a report naming
 * the file. */
int ns_report_add_history(ns_report_t *r, const char *tag, char *const *paths, int n);

/* Put names (mother_name of the manifest, matched on infant_id) on the listed babies;
 * with_names is set.  For `report --with-names --manifest FILE`. */
void ns_report_set_names(ns_report_t *r, const ns_manifest_t *m);

/* ---- output (report.c) ------------------------------------------------------------- */

/* The page, to fp, labels from L (lang.h; keys report.*); the indicators section from
 * r->ind, when set. */
void ns_report_html(FILE *fp, const ns_report_t *r, const ns_lang_t *L);

/* The translation keys the page uses (NULL-terminated), for checking a table. */
const char *const *ns_report_lang_keys(void);

/* Check that L has every key the page uses: 0, or -1 after naming each missing key
 * (tag, path in messages). */
int ns_report_check_lang(const ns_lang_t *L, const char *tag, const char *path);

/* Write the page to path atomically (atomic_file.h), mode 0600 when the model holds
 * names, else 0644.  0, or -1 after a report naming the file (tag in messages). */
int ns_report_write(const char *path, const ns_report_t *r, const ns_lang_t *L, const char *tag);

/* The same, for a page whose indicators are not known yet: every other section is written
 * first, then wait(arg) is called and the indicators section drawn from what it returns
 * (r->ind is not used; NULL: no section).  `run` writes the page while its ledger step
 * runs on another thread, and only the last section waits for it. */
int ns_report_write_wait(const char *path, const ns_report_t *r, const ns_lang_t *L, const char *tag,
                         const ns_rpt_ind_t *(*wait)(void *arg), void *arg);

#endif
