/* report_internal.h — helpers shared by the report's two fillers (report_fill.c from
 * memory, report_archive.c from archives) so that both build the model the same way. */
#ifndef NS_REPORT_INTERNAL_H
#define NS_REPORT_INTERNAL_H

#include "report.h"

/* Analytes (names, units), conditions and the limits drawn on the distributions, from the
 * panel the night ran with. */
void ns_rpt_set_panel(ns_report_t *r, const ns_panel_t *p);
/* Control targets from the QC config (NULL: none). */
void ns_rpt_set_targets(ns_report_t *r, const ns_qc_config_t *q);
/* Add a plate to the Levey-Jennings sequence; its index. */
int ns_rpt_add_seq(ns_report_t *r, const char *night, const char *plate_id, int tonight);
/* Add a control result (a NAN value is kept out). */
void ns_rpt_add_ctl(ns_report_t *r, int seq, int level, int analyte, double value, unsigned rules);
/* Tonight's analyte index of an analyte name (exact, else ASCII case-insensitive); -1. */
int ns_rpt_analyte(const ns_report_t *r, const char *name);
/* Rows [0, n) of a (partial) batch: states, patient values and recalls per condition
 * (call[c * n + i] for the report's condition c; NULL = none) added to the model. */
void ns_rpt_add_rows(ns_report_t *r, int64_t n, const uint8_t *type, const uint8_t *state,
                     const double *conc, const uint8_t *cell, const uint8_t *call);
/* The same, for a batch that outlives the report's writing (`run`): the patient values
 * stay in conc and are picked out chart by chart, instead of being copied (0.33 GB on a
 * night of a million cards).  Once, instead of any ns_rpt_add_rows. */
void ns_rpt_view_rows(ns_report_t *r, int64_t n, const uint8_t *type, const uint8_t *state,
                      const double *conc, const uint8_t *cell, const uint8_t *call);
/* The measured values of analyte a among the kept rows [0, n) of a batch's columns (exact
 * cells, finite; keep[i] 0 or 1), in row order, into out (room for n); how many.  With the
 * least, greatest and least positive of them (+inf, -inf, +inf when there are none), found
 * in the same pass, eight rows at a time where the CPU can (util.h: ns_cpu_avx512).  The
 * extremes are those of `if (v < lo) lo = v` in row order, down to the sign of a zero. */
int64_t ns_rpt_pick_range(int64_t n, const uint8_t *keep, const double *conc, const uint8_t *cell, int a,
                          double *out, double *lo, double *hi, double *minpos);
/* Append a baby to the recall list (strings copied; name may be NULL). */
void ns_rpt_add_baby(ns_report_t *r, const char *infant_id, int priority, const char *sources,
                     const char *codes, const char *name);
/* "a; b" appended to a malloc'd string (NULL = empty) unless already among its items. */
char *ns_rpt_join_unique(char *list, const char *item);
/* What the archive says of a manifest's problems (write_hdf5.c /inputs), "" if none;
 * malloc'd. */
char *ns_rpt_manifest_problem(const ns_manifest_t *m);
/* 1 for the states whose patients are reported (negative, recall, invalid_specimen). */
int ns_rpt_reportable(int state);
/* The indicators section (report_ledger.c), labels from L. */
void ns_rpt_ind_html(FILE *fp, const ns_rpt_ind_t *ind, const ns_lang_t *L);

/* an element with escaped text: <tag class="cls">text</tag> (cls NULL: no class) */
void ns_rpt_el(FILE *fp, const char *tag, const char *cls, const char *text);

#endif
