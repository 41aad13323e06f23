/* plate_qc.h — judge every plate of the night by its controls, blanks and patient medians.
 *
 * For each plate, analyte and control level: z = (value - target mean) / target SD, and
 * the Westgard multirule (kernels/westgard.h) over the series made of earlier nights'
 * controls (--history), the earlier plates of tonight, and this plate.  A reject rule
 * makes the plate `rejected`: every patient well on it ends in state qc_hold (never
 * negative, never on the recall list) and the plate is listed in plates-to-rerun.csv.
 * 1-2s, carry-over in a blank (unless configured to reject) and a shift of the patient
 * median give `warning`.  A plate without a control level, or without a control value for
 * an analyte that has a target, cannot be verified and is rejected.
 */
#ifndef NS_PLATE_QC_H
#define NS_PLATE_QC_H

#include <stdint.h>
#include "batch.h"
#include "qc_config.h"

enum { NS_QC_ACCEPTED = 0, NS_QC_WARNING = 1, NS_QC_REJECTED = 2, NS_QC_NOT_RUN = 3 };

/* One control observation (tonight's, or read back from an earlier night's archive). */
typedef struct {
    char plate_id[NS_NAME_MAX];
    int32_t plate;              /* index into b->plates tonight; -1 for history */
    char well[4];
    uint8_t level;              /* 0 qc_low, 1 qc_high */
    int32_t analyte;            /* panel analyte index */
    double value, z;            /* z = NAN when the value is missing */
} ns_qc_control_t;

typedef struct {
    int status;                 /* NS_QC_* */
    char reason[200];           /* what decided it, e.g. "1-3s C3 qc_high"; "" if accepted */
    char *warnings;             /* all warnings, "; "-separated, NULL if none */
    unsigned *violated;         /* [analyte * NS_QC_LEVELS + level]: NS_WG_* bits */
    double *median;             /* per analyte over this plate's patient wells (NAN: too few) */
    double *median_ref;         /* the running median it was compared with (NAN: none) */
} ns_plate_qc_t;

/* Earlier nights, read back from their batch.h5 archives (oldest first). */
typedef struct {
    int64_t n_obs;
    ns_qc_control_t *obs;          /* control observations, plate order, oldest first; analyte
                                   mapped to tonight's panel by name (-1: not in the panel) */
    int n_plates;
    double *median;             /* [plate * n_analytes + a]: patient medians, oldest first */
    int n_archives;
    char **archives;            /* paths read */
} ns_qc_history_t;

typedef struct ns_qc_result {
    const ns_qc_config_t *cfg;  /* not owned */
    ns_plate_qc_t *plate;       /* b->n_plates entries (quarantined plates: NS_QC_NOT_RUN) */
    int64_t n_obs;
    ns_qc_control_t *obs;          /* tonight's control observations, plate order */
    int n_rejected, n_warning;
} ns_qc_result_t;

/* Judge every parsed plate of b.  hist may be NULL (no earlier nights).  Fills r; sets
 * state NS_STATE_QC_HOLD on the patient wells of rejected plates when b->state exists.
 * @return 0, -1 on a kernel argument error (a bug; reported). */
int ns_plate_qc_run(ns_batch_t *b, const ns_qc_config_t *cfg, const ns_qc_history_t *hist,
                    ns_qc_result_t *r);
void ns_plate_qc_free(ns_qc_result_t *r, int n_plates);

const char *ns_qc_status_name(int status);   /* "accepted", "warning", "rejected", "not_run" */

/* Read earlier nights' archives: every batch.h5 under dir (any depth), ordered by their
 * "night" attribute then path, keeping the last max_plates plates.  Analytes are matched
 * to the panel by name.  Skipped, each with a message on stderr: archives whose night
 * equals skip_night (tonight, e.g. from an earlier run of the same night into the same
 * tree): tonight is never its own history; archives of a later night when both names
 * are ISO dates (YYYY-MM-DD...); and every archive of a night after the first one read
 * (by path), so that a copy of a night's outputs counts once.  skip_night may be NULL.
 * @return 0, or -1 after reporting an unreadable archive. */
int ns_qc_history_load(ns_qc_history_t *h, const char *dir, const ns_panel_t *p, int max_plates,
                       const char *skip_night);
void ns_qc_history_free(ns_qc_history_t *h);

#endif
