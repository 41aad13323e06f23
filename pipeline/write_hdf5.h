/* write_hdf5.h — the night's HDF5 batch archive.
 *
 * The archive is the permanent, machine-readable record of a run: every well with its
 * analyte values, censoring, derived ratios, flags, calls and final state, together with the
 * exact panel text that produced them and checksums of every input file.  It is what
 * `neoscreen rescore` re-reads to try candidate cutoffs on past nights, and what a
 * geneticist opens in h5py.  It holds NO personal data (no mother's name, no phone number,
 * no birth or collection time), so it is written with mode 0644; infant and sample IDs are
 * pseudonymous lab identifiers and are kept so that a row can be traced.
 *
 * Layout, format "neoscreen-batch/1".  n = rows (wells of parsed plates), A = analytes,
 * R = ratios, S = flag slots, C = conditions.  Matrices are row-major, sample x column:
 * row i of every [n][...] dataset is row i of /samples.
 *
 *   /                             attributes (variable-length UTF-8 strings unless noted):
 *       format                    "neoscreen-batch/1"
 *       software_version          NS_VERSION;  build_cc, build_cflags: the exact build
 *       hdf5_version              of the library that wrote the file, "1.10.8"
 *       command_line              as passed by the caller ("" if none)
 *       panel_name, panel_version, panel_kit, panel_sha256
 *       n_samples, wells_read, n_quarantined_wells     int64 scalars
 *   /config/panel_yaml            scalar fixed-length string (NULLPAD, size = byte length of
 *                                 the panel file, 1 if empty): the panel file, byte for byte.
 *                                 Attribute sha256 = its digest (equals /@panel_sha256).
 *   /inputs                       compound [n_plates (+1 for the manifest)]:
 *       kind "plate"|"manifest", name, path, sha256, encoding, status "ok"|"quarantined",
 *       n_wells int64 (plate: data rows seen; manifest: rows accepted),
 *       error (plate: its quarantine message "FILE:LINE:COL: what"; manifest: only
 *       "manifest unusable" or "N rows rejected", since its messages may name personal-data
 *       columns; "" if none)
 *   /samples                      compound [n]:
 *       sample_id, plate_id, well, sample_type (ns_type_name), state (ns_state_name, ""
 *       if not computed), manifest_line int32 (-1 = no manifest row), infant_id, specimen,
 *       sex, hospital, birth_weight_g, gestational_age_days, age_hours (float64, NaN =
 *       unknown), feeding, transfusion, antibiotics, nicu (int8: 0/1, -1 = unknown).
 *       Manifest fields are ""/NaN/-1 for rows without a manifest row.
 *   /samples_state_code           uint8 [n], NS_STATE_*; attribute names[k] = name of code k
 *   /analytes/values              float64 [n][A], umol/L as read; NaN = missing
 *   /analytes/censoring           uint8 [n][A], NS_CELL_*; attribute names
 *   /analytes/names, units, loinc fixed-length strings [A]
 *   /ratios/values                float64 [n][R]; /ratios/names, /ratios/loinc [R]
 *   /flags/values                 uint8 [n][S], NS_FLAG_*; attribute names
 *   /flags/slots                  compound [S]: condition (code), condition_index int32,
 *                                 marker (name), marker_index int32 (panel marker index),
 *                                 role "primary"|"secondary", direction "high"|"low",
 *                                 cutoff, borderline, critical (float64, NaN = unused)
 *   /calls/values                 uint8 [n][C], NS_CALL_*; attribute names
 *   /calls/conditions             fixed-length strings [C], condition codes
 *   /manifest_unplated            compound: sample_id, infant_id, line int32 — manifest rows
 *                                 that no well refers to (cards logged, not plated)
 *
 * Strings inside compounds and string lists are fixed-length, NUL-terminated, UTF-8, as
 * wide as the longest value + 1 (never truncated); h5py reads them as bytes.  A C reader
 * must give its memory string types H5T_CSET_UTF8 as well: HDF5 does not convert between
 * character sets and fails the read otherwise.  Matrices, the state codes and the compound
 * tables are chunked by up to 4096 rows (all columns in one chunk, at most 4 MiB a chunk)
 * with shuffle + deflate level 4; string lists, the panel text and empty datasets (n == 0
 * or no columns) are contiguous.  Every matrix carries a "dims" attribute naming its axes.
 * Object modification times are not recorded, so the same batch and command line give a
 * byte-identical file.
 *
 * /ratios, /flags, /calls and /samples_state_code are written only when the batch carries
 * them (b->ratio, b->flag, b->call, b->state non-NULL), or when there is nothing to carry
 * (n == 0 or no columns): a missing group means "not computed".
 *
 * HDF5 I/O is done from the calling thread only (BUILD-NOTES G3).
 */
#ifndef NS_WRITE_HDF5_H
#define NS_WRITE_HDF5_H

#include "batch.h"

#define NS_HDF5_FORMAT "neoscreen-batch/1"

/* ns_write_hdf5: write the batch archive to path, atomically.
 * The archive is built in memory (HDF5 core driver, no backing store: about the size of the
 * compressed archive, held twice at the end), then written to ns_atomic_tmpname(path) with
 * mode 0644, fsync'ed and renamed over path (atomic_file.h): readers see the previous
 * archive or the complete new one, never a partial file.  HDF5 never writes to disk itself,
 * because HDF5 1.10 cannot recover from its own failed write (after a failed H5Fclose, on a
 * full disk for instance, the library crashes at exit and the run's exit status is lost).
 * @param path     final file name; its directory must exist
 * @param b        the batch (b->panel required); not modified
 * @param cmdline  command line to record, or NULL
 * @return 0, or -1 after reporting through ns_error("run", ...) what failed and on which
 *         file; the temporary file is then removed and path is untouched.  HDF5's own error
 *         printing is switched off during the call (and restored afterwards). */
int ns_write_hdf5(const char *path, const ns_batch_t *b, const char *cmdline);

#endif
