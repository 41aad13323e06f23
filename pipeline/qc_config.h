/* qc_config.h — control materials, plate map and QC rules (configs/qc.yaml).
 *
 * A lab may release a plate's results only when its controls are in: each control level
 * (qc_low, qc_high) has a lot with a target mean and SD per analyte, the plate map says
 * which wells hold controls and blanks (positions are local practice: DOMAIN.md §5.3 found
 * no standard, so nothing about them is fixed in code), and the Westgard rules in force
 * are listed (DOMAIN.md §5.1).  Loaded and checked like the panel: every problem at its
 * FILE:LINE:COL, `config check` accepts the file, `run` refuses to start on a bad one.
 */
#ifndef NS_QC_CONFIG_H
#define NS_QC_CONFIG_H

#include <stdint.h>
#include "panel.h"

#define NS_QC_LEVELS 2          /* 0 = qc_low, 1 = qc_high */

typedef struct {
    char lot[NS_NAME_MAX];      /* lot id, e.g. "QCL-LOT2611" */
    double *mean, *sd;          /* per panel analyte (panel order); NAN = no target: the
                                   analyte is not judged on this level */
} ns_qc_level_t;

enum { NS_QC_ACT_WARNING = 0, NS_QC_ACT_REJECT = 1 };

typedef struct {
    char *path, *text;
    char sha256[65];
    int rows, cols;             /* plate geometry, from the panel's input.plate */
    int8_t *well_type;          /* rows*cols, index (row * cols + col): NS_TYPE_* expected in
                                   that well; NS_TYPE_PATIENT for wells the map leaves out */
    int n_ctl_wells[4];         /* wells per NS_TYPE_* in the map */
    ns_qc_level_t level[NS_QC_LEVELS];
    unsigned rules;             /* NS_WG_* bits in force (kernels/westgard.h) */
    unsigned reject_rules;      /* those of them that reject the plate; the others warn */
    double blank_max_fraction;  /* blank above this fraction of the qc_low target: carry-over */
    int blank_action;           /* NS_QC_ACT_* */
    double median_max_shift;    /* |plate median / running median - 1| above this: warning;
                                   NAN = monitoring off */
    int median_window;          /* plates in the running median */
    int median_min_patients;    /* plates with fewer patient wells are not judged */
    int history_plates;         /* earlier plates read back from archives (--history) */
} ns_qc_config_t;

/* Load and check a QC file against the panel (analyte names, plate geometry).
 * @return the config, or NULL with every problem in errs.  Free with ns_qc_free(). */
ns_qc_config_t *ns_qc_load(const char *path, const ns_panel_t *panel, ns_panel_errs_t *errs);
ns_qc_config_t *ns_qc_load_mem(const char *name, const char *text, size_t len,
                               const ns_panel_t *panel, ns_panel_errs_t *errs);
void ns_qc_free(ns_qc_config_t *q);

/* NS_TYPE_* the map expects in well "A01" (NS_TYPE_PATIENT when not a control well). */
int ns_qc_expected_type(const ns_qc_config_t *q, const char *well);

#endif
