/* batch.h — one night's data in columnar form, and the final state of every well.
 *
 * Ingest fills a batch: one row per well read from a plate that parsed cleanly, in plate
 * order (plate files sorted by name) then file order; analyte values as one column per
 * analyte; the manifest joined on sample_id.  Quarantined plates contribute no rows but
 * keep their row count, so the nothing-lost arithmetic still adds up:
 *
 *   wells_read = sum over plates of wells (parsed or quarantined)
 *              = controls + patients(negative + recall + invalid_specimen + unmatched)
 *                + quarantined
 *
 * Manifest rows that no well refers to are listed separately (cards logged in the LIMS but
 * not on any plate tonight): they are not wells, and they must not vanish either.
 */
#ifndef NS_BATCH_H
#define NS_BATCH_H

#include <stddef.h>
#include <stdint.h>
#include "panel.h"
#include "util.h"

/* Sample types of a well (plate column sample_type). */
enum { NS_TYPE_PATIENT = 0, NS_TYPE_QC_LOW = 1, NS_TYPE_QC_HIGH = 2, NS_TYPE_BLANK = 3,
       NS_TYPE_N };

/* Final state of a well.  Every well ends in exactly one. */
enum {
    NS_STATE_NEGATIVE = 0,     /* patient, all conditions negative */
    NS_STATE_RECALL = 1,       /* patient, at least one condition borderline/positive */
    NS_STATE_INVALID = 2,      /* patient, no call possible (missing markers, bad card) */
    NS_STATE_UNMATCHED = 3,    /* patient well with no manifest row: cannot be reported */
    NS_STATE_QUARANTINED = 4,  /* its plate file was malformed (no rows in the batch) */
    NS_STATE_CONTROL = 5,      /* qc_low / qc_high / blank well */
    NS_STATE_QC_HOLD = 6,      /* its plate failed QC (issue 3); never reported negative */
    NS_STATE_N
};

/* Why a call is what it is, beyond the flags (batch.call_note). */
enum {
    NS_NOTE_TPN = 1,     /* lowered to borderline: on TPN, no ratio confirmation */
    NS_NOTE_SCORE = 2    /* changed by the condition score (score.h): call_by both lowered a
                            borderline/positive cutoff call to negative, or call_by score
                            replaced the cutoff call by the band's */
};

/* Band of a condition's combined score (batch.band; score.h). */
enum { NS_BAND_NOT_INFORMATIVE = 0, NS_BAND_POSSIBLE = 1, NS_BAND_LIKELY = 2,
       NS_BAND_NONE = 3 /* no score: no score block, no usable primary marker, not a patient */,
       NS_BAND_N };

/* Censoring of a cell, see README "Cell values". */
enum { NS_CELL_VALUE = 0, NS_CELL_BELOW = 1 /* "<x" */, NS_CELL_ND = 2, NS_CELL_EMPTY = 3,
       NS_CELL_NAN = 4 };

enum { NS_PLATE_OK = 0, NS_PLATE_QUARANTINED = 1 };

typedef struct {
    char *path;            /* as opened (night dir + "plates/" + name) */
    char *name;            /* file name only */
    char id[NS_NAME_MAX];  /* plate_id from the file ("" if quarantined before reading it) */
    int id_line, id_col;   /* where that plate_id was first read */
    char sha256[65];       /* of the raw file bytes */
    char encoding[8];      /* "utf-8" or "gbk" */
    int status;            /* NS_PLATE_* */
    char *error;           /* "FILE:LINE:COL: what" when quarantined, else NULL */
    int64_t n_wells;       /* data rows seen (also for quarantined files) */
    int64_t first_row;     /* index of its first row in the batch (-1 if quarantined) */
    int64_t n_plain;       /* data rows taken by the plain-row path (ingest_plate.c) */
    char *sid_block;       /* its rows' sample_id strings, one after the other, when the
                              batch's sid_blocks is set (ingest_plate.c) */
} ns_plate_t;

/* One manifest row (one DBS card).  mother_name and contact_phone are personal data:
 * they go to the recall list (0600) only, never to logs, stderr, summary.json or HDF5.
 * The ten strings of a row are one run of bytes that starts at sample_id: in the
 * manifest's pool when it was read from a file, else an allocation of its own (freeing
 * sample_id frees them all); each may be rewritten in place, none replaced. */
typedef struct {
    char *sample_id, *infant_id, *specimen, *sex;
    double birth_weight_g;        /* NAN if empty */
    double gestational_age_days;  /* NAN if empty */
    char *birth_time, *collection_time;   /* as given (ISO 8601) */
    double age_hours;             /* collection - birth, NAN if either is missing */
    char *feeding;                /* breast|formula|mixed|tpn */
    int transfusion, antibiotics, nicu;   /* 0/1, -1 unknown */
    char *hospital;
    char *mother_name, *contact_phone;
    int line, sid_col;            /* line in the manifest file; column of its sample_id */
    int64_t n_wells;              /* wells that refer to it */
} ns_manifest_row_t;

typedef struct {
    char *path;
    char sha256[65];
    char encoding[8];
    ns_manifest_row_t *rows;
    int64_t n, m;
    int64_t n_rejected;           /* malformed rows, reported and not used */
    char **errors;                /* messages of rejected rows (file:line:col: ...) */
    int64_t n_errors;
    int ok;                       /* 0 if the file could not be used at all */
    ns_pool_t pool;               /* the rows' strings, when read from a file (pool.n > 0) */
    int rows_lent;                /* rows is a window of another manifest's array (the parts
                                     ns_ingest_manifest reads side by side): never grown
                                     in place nor freed with this one */
} ns_manifest_t;

struct ns_qc_result;

typedef struct {
    const ns_panel_t *panel;      /* not owned */
    const char *night;            /* night name (its directory's base name), for archives */
    const struct ns_qc_result *qc; /* plate QC results (plate_qc.h), NULL if QC not run */
    const int8_t *plate_map;      /* expected NS_TYPE_* per well (row * cols + col) from the QC
                                     config, checked at ingest; NULL = no check */

    ns_plate_t *plates;
    int n_plates;

    /* rows (wells from parsed plates) */
    int64_t n;
    int32_t *plate;               /* index into plates[] */
    char (*well)[4];              /* "A01" */
    char **sample_id;             /* as read; each its own allocation, or, when sid_blocks
                                     is set, in its plate's sid_block */
    int sid_blocks;
    uint8_t *type;                /* NS_TYPE_* */
    double *conc;                 /* analyte a, row i: conc[a * n + i]; NAN = missing */
    uint8_t *cell;                /* censoring, same layout: NS_CELL_* */
    int64_t *mrow;                /* manifest row index, -1 = none */

    /* derived by the kernels stage */
    uint8_t *abound;              /* analyte a, row i: NS_BOUND_* ("<x" cells are upper bounds) */
    double *ratio;                /* ratio r, row i: ratio[r * n + i] */
    uint8_t *rbound;              /* NS_BOUND_* of each ratio value, same layout */
    uint8_t *flag;                /* flag slot s, row i: flag[s * n + i] (NS_FLAG_*) */
    uint8_t *call;                /* condition c, row i: call[c * n + i] (NS_CALL_*) */
    uint8_t *call_note;           /* same layout: NS_NOTE_* bits explaining a call */
    /* condition scores (score.h); all three NULL when no condition has a score block */
    double *score;                /* condition c, row i: score[c * n + i]; NAN = no score */
    uint8_t *band;                /* same layout: NS_BAND_* */
    double *mom;                  /* score slot k (panel->sslot[k]), row i: mom[k * n + i], the
                                     value as a multiple of its population group's median;
                                     NAN = not used in the score */
    uint16_t *spec;               /* per row: bits (1 << NS_SPEC_*) of specimen findings */
    uint32_t *strata;             /* per row: bits (1 << k) of the panel strata it belongs to */
    uint8_t *state;               /* NS_STATE_* per row */

    /* Part of the answer already known (rescore reusing an archive's calls, score.h
     * ns_batch_score); all NULL / 0: compute everything.  Not owned. */
    const int *given_col;         /* per panel condition c: -1, or the column of given_call
                                     holding its calls (given_call[given_col[c] * n + i]) */
    const uint8_t *given_call;
    int spec_given;               /* spec and strata are filled (allocated by the caller) */

    ns_manifest_t manifest;

    int64_t wells_read;           /* including quarantined plates' rows */
    int64_t n_quarantined_wells;
} ns_batch_t;

/* Marker column for marker m of the panel (analyte or ratio). */
static inline const double *ns_batch_marker(const ns_batch_t *b, int m)
{
    int na = b->panel->n_analytes;
    return m < na ? b->conc + (size_t)m * (size_t)b->n
                  : b->ratio + (size_t)(m - na) * (size_t)b->n;
}

/* Bound kind (NS_BOUND_*) of marker m at row i. */
static inline int ns_batch_marker_bound(const ns_batch_t *b, int m, int64_t i)
{
    int na = b->panel->n_analytes;
    return m < na ? b->abound[(size_t)m * (size_t)b->n + (size_t)i]
                  : b->rbound[(size_t)(m - na) * (size_t)b->n + (size_t)i];
}

static inline const uint8_t *ns_batch_marker_bounds(const ns_batch_t *b, int m)
{
    int na = b->panel->n_analytes;
    return m < na ? b->abound + (size_t)m * (size_t)b->n
                  : b->rbound + (size_t)(m - na) * (size_t)b->n;
}

const char *ns_type_name(int type);     /* "patient", "qc_low", ... */
const char *ns_state_name(int state);   /* "negative", "recall", ... */
const char *ns_band_name(int band);     /* "not_informative", "possible", "likely", "none" */

void ns_batch_free(ns_batch_t *b);

#endif
