/* ingest.h — read tonight's plate exports and the LIMS manifest into a batch.
 *
 * Plates are parsed in parallel, one file per task, each into its own slot; slots are then
 * appended to the batch in file-name order, so the batch is the same for any thread count.
 * A plate file with any problem is quarantined whole — a plate is the unit a technician
 * re-runs — with one message "FILE:LINE:COL: what is wrong"; its data rows are still
 * counted so that nothing disappears from the totals.
 *
 * Cell values (µmol/L):
 *   a number      the measured value; negative values are accepted in blank wells only,
 *                 and a value beyond NS_CELL_MAX (either sign) quarantines the plate
 *   "<x"          below the limit of quantitation x: stored as x (an upper bound, so it can
 *                 never raise a high flag that x itself would not), marked NS_CELL_BELOW
 *   "ND"          not detected: stored as 0, marked NS_CELL_ND (raises low flags: a C0 that
 *                 is not detected is a deficiency, not a missing value)
 *   empty, "NaN"  not measured: missing (NAN).  A condition that needs it cannot be called,
 *                 and the specimen ends as invalid_specimen, never as negative.
 */
#ifndef NS_INGEST_H
#define NS_INGEST_H

#include <stddef.h>
#include <stdint.h>
#include "batch.h"

/* The largest plausible cell, in µmol/L: 1 mol/L, three times the osmolarity of all of
 * blood's solutes together.  A larger number ("1e308") is an export or typing error, and
 * kept it would overflow ratios and folds over the cutoff in the recall list. */
#define NS_CELL_MAX 1e6

/* Parse one cell.  @return 0 and *v, *kind set; -1 if s is not a value (not a number). */
int ns_parse_cell(const char *s, double *v, uint8_t *kind);

/* Parse a well name ("A1", "a01", "H12") for a rows x cols plate into out ("A01").
 * @return 0 ok, -1 not a well name, -2 a well name outside the plate. */
int ns_parse_well(const char *s, int rows, int cols, char out[4]);

/* Read an export for ingest: the raw bytes hashed into sha256, decoded to UTF-8 text
 * (encoding.h; the encoding found in encoding).  @return 0 with *text (caller frees);
 * -1 with *error = "FILE: cannot read: why" or "FILE:LINE:COL: what" (caller frees) and
 * *rows = the data rows counted in the raw bytes, so that an undecodable file's wells still
 * show in the totals. */
int ns_ingest_read(const char *path, char **text, size_t *tlen, char sha256[65], char encoding[8],
                   char **error, int64_t *rows);
/* Data rows (lines after the first, blank lines not counted) of a decoded text. */
int64_t ns_count_data_lines(const char *t, size_t n);

/* Read every plate file (paths, already sorted) into b->plates / rows.  b->panel must be
 * set.  Quarantined plates are marked in b->plates[k] with their error.
 * @return number of quarantined plates. */
int ns_ingest_plates(ns_batch_t *b, char **paths, int n_paths);

/* Plate rows of the plain kind (csv.h: ns_csv_next_plain) are read in place, without the
 * general CSV reader; every other row, and every row of a plate with a problem, goes
 * through the general reader.  Set to 0 (tests only) to send every row there: the batch
 * must come out the same (tests/unit/test_plate_rows.c). */
extern int ns_ingest_plain_rows;

/* 1 (the default): manifest rows of the plain kind are read in place (ingest_manifest.c:
 * plain_row); 0: every row through the general CSV reader (tests compare the two) */
extern int ns_manifest_plain_rows;

/* Read the manifest at path into m.  Row problems are collected in m->errors; m->ok is 0
 * when the file cannot be used at all (missing, unreadable, no sample_id column).
 * @return number of problems (0 = clean). */
int ns_ingest_manifest(ns_manifest_t *m, const char *path);

/* Join batch rows to manifest rows on sample_id (fills b->mrow and rows' n_wells). */
void ns_batch_join(ns_batch_t *b);

void ns_manifest_free(ns_manifest_t *m);

#endif
