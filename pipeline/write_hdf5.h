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
 *       night                     the night's name (b->night, its directory's base name;
 *                                 "" if none): what --history orders archives by
 *       panel_name, panel_version, panel_kit, panel_sha256
 *       n_samples, wells_read, n_quarantined_wells     int64 scalars
 *       scoring_version           int64, NS_SCORING_VERSION (score.h) of the rules that
 *                                 made the calls (absent in archives written before it)
 *       scoring_source            NS_SCORING_SOURCE: SHA-256 of the sources that make
 *                                 calls and their build flags, the checkout's directory
 *                                 left out (scripts/gen-version.sh)
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
 *   /samples_ids                  compound [n]: sample_id, infant_id, as in /samples (a
 *                                 copy, so rescore names cards without inflating /samples;
 *                                 stored without a filter since 2026-12: 27 B a card,
 *                                 read by pread in parallel; absent in archives written
 *                                 before it)
 *   /samples_state_code           uint8 [n], NS_STATE_*; attribute names[k] = name of code k
 *   /samples_specimen             uint8 [n][7], 1 where the card has that specimen finding
 *                                 (names: early_collection, late_collection,
 *                                 missing_collection_age, missing_birth_weight,
 *                                 missing_gestational_age, transfusion, tpn)
 *   /samples_strata               uint8 [n][n_strata], 1 where the card is in that panel
 *                                 stratum (names: the panel's strata, e.g. preterm)
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
 *   /scores                       condition scores (score.h), only when some condition has a
 *                                 score: block.  Attribute population_source (the panel's
 *                                 population.source, "" if none)
 *   /scores/values                float64 [n][C], combined score; NaN = none (no score block,
 *                                 no usable primary marker, not a patient well)
 *   /scores/bands                 uint8 [n][C], NS_BAND_*; attribute names (not_informative,
 *                                 possible, likely, none)
 *   /scores/conditions            fixed-length strings [C], condition codes (as /calls)
 *   /scores/mom                   float64 [n][K]: each scored marker's value as a multiple of
 *                                 the median of the population group it was compared with
 *                                 (NaN = not used).  Column k: condition
 *                                 /scores/mom_conditions[k], marker /scores/mom_markers[k]
 *   /config/population_yaml       the population fragment byte for byte, when the panel's
 *                                 population was attached from one (attributes sha256, path)
 *   /manifest_unplated            compound: sample_id, infant_id, line int32 — manifest rows
 *                                 that no well refers to (cards logged, not plated)
 *
 *   /qc                           plate QC results (plate_qc.h), only when b->qc is set.
 *                                 P = b->n_plates: row k of every [P] table and [P][...]
 *                                 matrix is plate k, in /inputs plate order.  Attributes:
 *       qc_config_sha256          digest of /qc/config_yaml (the config's own digest when
 *                                 its text was not kept; "" when no config was given)
 *       n_rejected, n_warning     int64 scalars (ns_qc_result_t)
 *   /qc/config_yaml               the QC file byte for byte, as /config/panel_yaml;
 *                                 attributes sha256, path.  Absent when b->qc->cfg or its
 *                                 text is NULL.
 *   /qc/plates                    compound [P]: plate_id, file (plate file name), status
 *                                 "accepted"|"warning"|"rejected"|"not_run" (quarantined
 *                                 plate files are "not_run"), reason (what decided it, e.g.
 *                                 "1-3s C3 qc_high"; "" if accepted), warnings ("; "-
 *                                 separated, "" if none)
 *   /qc/controls                  compound [n_obs], control observations in plate order:
 *                                 plate_id, plate_index int32 (row of /qc/plates), well,
 *                                 level "qc_low"|"qc_high", analyte (panel analyte name),
 *                                 value, z (float64; NaN = missing value / no target)
 *   /qc/westgard                  uint32 [P][A * 2]: column a * 2 + level (0 qc_low,
 *                                 1 qc_high) holds the NS_WG_* bits violated by that analyte
 *                                 and level on the plate (0 = none, or not judged).
 *                                 Attributes bit_names[b] = name of bit (1 << b) ("1-2s",
 *                                 "1-3s", "2-2s", "R-4s", "4-1s", "10-x"), levels
 *                                 ["qc_low", "qc_high"], dims
 *   /qc/median, /qc/median_ref    float64 [P][A]: each plate's patient median per analyte,
 *                                 and the running median of earlier plates it was compared
 *                                 with (NaN = too few patients / no reference / not run)
 *   /followup                     the recall list's content without personal data (only
 *                                 when fu is given).  Attributes language, lang_sha256
 *   /followup/rows                compound [babies on the list, in list order]: infant_id,
 *                                 priority, due_day_of_life (float64: the due_by date as
 *                                 days after birth; NaN = none or birth unknown), sources
 *                                 ("msms;hearing;gene"), first_finding, n_findings (rows of
 *                                 /followup/findings)
 *   /followup/findings            compound [findings], grouped by baby: infant_id, sample_id,
 *                                 source, code (condition or rule code), priority, action
 *                                 ("" for a note), due_from ("birth"|"collection"|"test"|""),
 *                                 due_days (float64), reason (translation key), args
 *                                 ("name=value; ..."; a value "@key" is a translation key)
 *   /hearing/protocol_yaml        configs/hearing.yaml byte for byte (attributes sha256, path)
 *   /hearing/records              compound [records of hearing.csv used]: infant_id,
 *                                 test_date (no time of day), stage, method, left, right,
 *                                 nicu_days (NaN = unknown), risk_factors (int8 0/1: the
 *                                 text itself is never archived), line.  Attributes
 *                                 file_sha256, and int64 infants, initial_screened,
 *                                 initial_refer, rescreened, rescreen_refer (the counts
 *                                 behind the refer rates, ns_hearing_stats_t; archives
 *                                 written before the batch report lack them).  Absent
 *                                 when the night had no hearing.csv
 *   /genes/config_yaml            configs/genes.yaml byte for byte (attributes sha256, path)
 *   /genes/plates                 compound [gene plates]: plate_id, file, sha256, encoding,
 *                                 status "accepted"|"rejected"|"quarantined", reason, n_wells
 *   /genes/samples                compound [wells of parsed plates]: sample_id, plate_id,
 *                                 well, state (gene_negative, gene_positive, gene_incomplete,
 *                                 gene_hold, control)
 *   /genes/calls                  uint8 [wells][loci]: NS_GCALL_* codes; attributes loci
 *                                 (column names), names (code -> "wt", "het", ...), dims
 *
 * --history (qc_history.c) reads back /@night, /analytes/names, /qc/plates, /qc/controls
 * and /qc/median of earlier archives; archives without /qc are skipped.
 *
 * Strings inside compounds and string lists are fixed-length, NUL-terminated, UTF-8, as
 * wide as the longest value + 1 (never truncated); h5py reads them as bytes.  A C reader
 * must give its memory string types H5T_CSET_UTF8 as well: HDF5 does not convert between
 * character sets and fails the read otherwise.  Matrices and the state codes are chunked by
 * column: a chunk is up to 65,536 rows of ONE column, so a reader that wants some columns
 * reads only those, and the writer hands the batch's columns over as they are.  Doubles
 * are not filtered (deflate saved 11-15 % on them); byte matrices have shuffle (a no-op on
 * one byte) + deflate level 1.  Compound tables are chunked by up to 4096 rows (at most
 * 4 MiB a chunk) with deflate level 1 and no shuffle (on /samples shuffling made chunks
 * 13 % larger and dominated reading them).  Deflated chunks are compressed here, in
 * parallel (zdeflate.h: ISA-L igzip level 1), and written raw (H5Dwrite_chunk): any HDF5
 * reader inflates them.  igzip's code depends on the CPU, so an archive is the same bytes
 * at any thread count on one machine, but may differ in its compressed bytes (never in
 * what they hold) on another.
 * Archives written before the column layout (row chunks, shuffle + deflate) are still
 * read.  String lists, the panel text and empty datasets (n == 0 or no columns) are
 * contiguous.  Every matrix carries a "dims" attribute naming its axes.
 * Object modification times are not recorded, so the same batch and command line give a
 * byte-identical file (on one machine: see above).
 *
 * /ratios, /flags, /calls and /samples_state_code are written only when the batch carries
 * them (b->ratio, b->flag, b->call, b->state non-NULL), or when there is nothing to carry
 * (n == 0 or no columns): a missing group means "not computed".  /scores exists only when
 * some condition has a score block, so archives of panels without scores are unchanged.
 * Likewise /qc is written only when b->qc is set: a missing /qc means plate QC was not run.
 *
 * HDF5 I/O is done from the calling thread only (BUILD-NOTES G3).
 */
#ifndef NS_WRITE_HDF5_H
#define NS_WRITE_HDF5_H

#include "batch.h"

#define NS_HDF5_FORMAT "neoscreen-batch/1"

/* ns_write_hdf5: write the batch archive to path, atomically.
 * The archive is written to the file ns_atomic_tmpname(path) through h5vfd.h's driver,
 * then given mode 0644, fsync'ed and renamed over path (atomic_file.h): readers see the
 * previous archive or the complete new one, never a partial file.  A failed write (a full
 * disk, for instance) is kept from HDF5, because HDF5 1.10 cannot recover from one (with
 * its own sec2 driver the library crashed at exit and the run's exit status was lost); it
 * is reported after H5Fclose and the temporary file removed.
 * @param path     final file name; its directory must exist
 * @param b        the batch (b->panel required); not modified
 * @param fu       hearing records, gene plates and the follow-up list (/hearing, /genes,
 *                 /followup), or NULL for none
 * @param cmdline  command line to record, or NULL
 * A batch whose QC result is inconsistent (a control observation with a level, analyte
 * or plate out of range; a QC config digest that does not match its text) is refused.
 * @return 0, or -1 after reporting through ns_error("run", ...) what failed and on which
 *         file; the temporary file is then removed and path is untouched.  HDF5's own error
 *         printing is switched off during the call (and restored afterwards). */
struct ns_run_fu;
int ns_write_hdf5(const char *path, const ns_batch_t *b, const struct ns_run_fu *fu, const char *cmdline);

#endif
