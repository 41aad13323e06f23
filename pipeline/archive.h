/* archive.h — a batch.h5 archive read back row by row, as batches a panel can be scored on.
 *
 * `cutoffs derive` and `rescore` never re-read plate CSVs: every value a panel needs is in
 * the archive (write_hdf5.c): analyte values and their censoring, sample types, the
 * covariates of each card (/samples: birth weight, gestational age, age at collection,
 * feeding, sex, transfusion, NICU), the state each well ended in and the calls the
 * archived panel made, plus the exact text of that panel.  ns_archive_read() turns rows
 * [r0, r0 + k) into an ns_batch_t for any panel whose analytes the archive holds (matched
 * by name or alias), so ns_batch_score() runs on it exactly as it did on the night — and a
 * run over many archives holds one chunk at a time, however many rows they have.
 *
 * Personal data never reached the archive, so none comes back: the manifest rows built
 * here carry IDs and covariates only.
 */
#ifndef NS_ARCHIVE_H
#define NS_ARCHIVE_H

#include <stdint.h>
#include "batch.h"
#include "h5read.h"

typedef struct {
    ns_h5src_t src;          /* tag of the command, label "archive", path */
    hid_t f;
    char *night;             /* root attribute "night" ("" if absent) */
    char *panel_sha256;      /* root attribute "panel_sha256" */
    char *panel_yaml;        /* /config/panel_yaml: the exact panel the night ran with */
    int64_t n;               /* rows (wells) */
    char **analytes;         /* /analytes/names */
    int64_t n_analytes;
    char **conds;            /* /calls/conditions: codes of the archived panel */
    int64_t n_conds;
    int64_t scoring_version; /* root attribute scoring_version, -1 when absent */
    char *scoring_source;    /* root attribute scoring_source ("" when absent) */
    char *pop_sha256;        /* SHA-256 of /config/population_yaml, NULL when the night had
                                no population fragment */
    int64_t n_strata;        /* columns of /samples_strata (0 when absent) */
    hid_t d_samples, d_state, d_conc, d_cell, d_calls;
    hid_t d_ids, d_spec, d_strata;   /* -1 when the archive has none */
} ns_archive_t;

/* Archived outcome of rows [r0, r0 + k), beside the rebuilt batch. */
typedef struct {
    uint8_t *state;          /* [k] NS_STATE_* the night gave each row */
    uint8_t *call;           /* [c * k + i]: NS_CALL_* of archived condition c */
    char **infant_id;        /* [k] (NULL entries for wells with no manifest row) */
    int64_t k;
    char *tab;               /* the /samples rows the batch's strings point into */
} ns_archive_rows_t;

/* Open path and read its metadata.  tag names the command in messages ("rescore").
 * Returns 0, or -1 after a report (not HDF5, not a neoscreen archive, no /calls...). */
int ns_archive_open(ns_archive_t *a, const char *tag, const char *path);
void ns_archive_close(ns_archive_t *a);

/* map[j] = the archive column of panel analyte j.  -1 after a report naming every analyte
 * of the panel the archive does not hold. */
int ns_archive_map(const ns_archive_t *a, const ns_panel_t *p, int *map);

/* Rows [r0, r0 + k) as batch b for panel p (map from ns_archive_map): sample_id, type,
 * conc, cell, and one manifest row per patient well that had one (mrow = -1 otherwise).
 * b is overwritten.  x receives the archived state and calls, and owns the text the batch's
 * strings point into (not copied, for speed): free b with ns_archive_batch_free() first,
 * then x with ns_archive_rows_free().  0, or -1 after a report. */
int ns_archive_read(ns_archive_t *a, const ns_panel_t *p, const int *map, int64_t r0,
                    int64_t k, ns_batch_t *b, ns_archive_rows_t *x);

/* The same rows for a batch some of whose calls are given (score.h): given_col[j] (panel
 * condition j) >= 0 is the archived /calls column that condition keeps, and b->given_call
 * points at x->call.  Only the analytes the other conditions need (ns_score_needs) are
 * read; specimen findings and strata come from /samples_specimen and /samples_strata
 * (b->spec_given), which the caller has checked the panels agree on.  IDs come from
 * /samples_ids, and types and manifest rows from the archived states (control: not a
 * patient; unmatched: no manifest row; a QC-hold card counts as a patient with one);
 * with full_rows, or in an archive without /samples_ids, from /samples as
 * ns_archive_read does (no covariates).  0; 1 when the archive cannot be read this way
 * (no /samples_specimen, strata or column chunks: nothing read, use ns_archive_read);
 * -1 after a report. */
int ns_archive_read_given(ns_archive_t *a, const ns_panel_t *p, const int *map, const int *given_col,
                          int full_rows, int64_t r0, int64_t k, ns_batch_t *b, ns_archive_rows_t *x);
void ns_archive_batch_free(ns_batch_t *b);
void ns_archive_rows_free(ns_archive_rows_t *x);

/* The archives named by args: a file is taken as it is; a directory contributes every
 * batch.h5 under it (any depth, symbolic links skipped), sorted by path; a file named twice
 * (same path, a hard link, or found again under a directory) is kept once, with a message.
 * Appends to *v / *n.  -1 after a report (missing path, unreadable directory, none found). */
int ns_archive_paths(const char *tag, char **args, int n_args, char ***v, int *n);

/* Start of a command that streams archives (rescore, cutoffs derive): thread count
 * (threads <= 0: all cores), the clock for its timing lines, and large chunk buffers kept
 * in the heap between chunks (glibc). */
void ns_archive_start(int threads);

/* Archives read so far, by night, panel and row count: ns_archive_note_copy() warns when an
 * archive looks like a copy of one already read (its cards would count twice; distinct files
 * are still both read: two nights may share a name). */
typedef struct {
    char **key, **path;
    int n;
} ns_archive_seen_t;

void ns_archive_note_copy(ns_archive_seen_t *seen, const ns_archive_t *a);
void ns_archive_seen_free(ns_archive_seen_t *seen);

#endif
