/* panel.h — the screening panel: analytes, ratios and conditions, as loaded from YAML.
 *
 * A panel is the geneticist's half of neoscreen: which columns a plate must carry, which
 * ratios are derived from them, and which combination of markers beyond which cutoffs
 * calls which condition.  It is loaded once per run, checked completely before any sample
 * is touched (ns_panel_load() collects every problem, not just the first), and its exact
 * text and SHA-256 are stored in every output so a result can always be traced back to the
 * rules that made it.
 *
 * Every node keeps the line and column it came from, so that a later stage (or
 * `neoscreen config check`) can point a person at the offending YAML line.
 */
#ifndef NS_PANEL_H
#define NS_PANEL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "../kernels/ns_kernels.h"

#define NS_NAME_MAX 32       /* analyte, ratio and condition names, including the NUL */

/* A position in a text file; line and col are 1-based (0 = unknown). */
typedef struct {
    int line, col;
} ns_pos_t;

/* Marker roles inside a condition. */
enum { NS_ROLE_PRIMARY = 0, NS_ROLE_SECONDARY = 1 };

/* Condition priorities, in recall-list order (most urgent first). */
enum { NS_PRIO_CRITICAL = 0, NS_PRIO_URGENT = 1, NS_PRIO_ROUTINE = 2, NS_PRIO_N };
/* Actions for the follow-up team. */
enum { NS_ACT_REFERRAL = 0, NS_ACT_REPEAT = 1, NS_ACT_N };

typedef struct {
    char name[NS_NAME_MAX];  /* pipeline key, e.g. "Xle" */
    char **aliases;          /* header spellings accepted on input (exact, case-insensitive) */
    int n_aliases;
    char unit[16];           /* "umol/L" */
    char loinc[16];          /* may be empty */
    ns_pos_t pos;
} ns_analyte_t;

typedef struct {
    char name[NS_NAME_MAX];  /* e.g. "C0/(C16+C18)" */
    int *num, n_num;         /* analyte indices summed in the numerator */
    int *den, n_den;         /* analyte indices summed in the denominator */
    char loinc[16];
    ns_pos_t pos;
} ns_ratio_t;

/* A marker is an analyte or a ratio.  Marker index m < n_analytes is analyte m, otherwise
 * ratio (m - n_analytes).  Thresholds follow kernels/cutoff.h (NAN = zone not used). */
#define NS_MAX_STRATA 15          /* stratum 0 is "no override" */

typedef struct {
    int marker;              /* analyte or ratio index, see above */
    int role;                /* NS_ROLE_* */
    ns_threshold_t thr;      /* direction, borderline, cutoff, critical */
    /* condition score (score.h): the median of the condition's disease range for this
     * marker (NAN = the marker takes no part in the score), where that number comes from,
     * and the marker's weight in the combined score (default 1 primary, 0.5 secondary) */
    double disease_median;
    char *disease_source;
    double weight;
    ns_pos_t disease_pos;    /* of disease.median */
    /* per-stratum overrides: thr_of[k] applies to samples in panel stratum strat_of[k];
     * the first overridden stratum (in the panel's strata order) a sample belongs to wins */
    int n_over;
    int strat_of[NS_MAX_STRATA];
    ns_threshold_t thr_of[NS_MAX_STRATA];
    ns_pos_t pos;
} ns_marker_t;

/* Covariates a stratum can be defined on (from the manifest). */
enum { NS_COV_GA_DAYS, NS_COV_BW_G, NS_COV_AGE_H, NS_COV_FEEDING, NS_COV_NICU,
       NS_COV_TRANSFUSION, NS_COV_SEX, NS_COV_N };
enum { NS_CMP_LT, NS_CMP_LE, NS_CMP_GT, NS_CMP_GE, NS_CMP_EQ };

typedef struct {
    char name[NS_NAME_MAX];  /* e.g. "preterm" */
    int cov;                 /* NS_COV_* */
    int cmp;                 /* NS_CMP_* */
    double value;            /* numeric covariates */
    char text[NS_NAME_MAX];  /* NS_CMP_EQ on feeding / sex ("tpn", "M") */
    ns_pos_t pos;
} ns_stratum_t;

/* Specimen findings (a card that cannot be read as if it were a standard one). */
enum { NS_SPEC_EARLY, NS_SPEC_LATE, NS_SPEC_NO_AGE, NS_SPEC_NO_BW, NS_SPEC_NO_GA,
       NS_SPEC_TRANSFUSION, NS_SPEC_TPN, NS_SPEC_N };
/* What a finding does: nothing, a caveat in the reasons, or no negative call possible. */
enum { NS_SPEC_IGNORE = 0, NS_SPEC_CAVEAT = 1, NS_SPEC_INVALID = 2 };

typedef struct {
    double min_age_h, max_age_h;     /* collection window; NAN = no limit */
    int consequence[NS_SPEC_N];      /* NS_SPEC_IGNORE / CAVEAT / INVALID */
} ns_specimen_rules_t;

/* How a condition's call uses its score (score.h): the cutoff call alone (the score is
 * only reported), the cutoff call kept only when the score agrees, or the score's band. */
enum { NS_CALL_BY_CUTOFF = 0, NS_CALL_BY_SCORE = 1, NS_CALL_BY_BOTH = 2 };
/* A marker's position in the score is clamped to [NS_SCORE_LO, NS_SCORE_HI] (score.h). */
#define NS_SCORE_LO (-1.0)
#define NS_SCORE_HI 3.0

/* A condition's `score:` block. */
typedef struct {
    int present;             /* 0: no score block (call_by cutoff, no score computed) */
    int call_by;             /* NS_CALL_BY_* */
    double possible, likely; /* band thresholds on the combined score, possible < likely */
    ns_pos_t pos;
} ns_score_rule_t;

typedef struct {
    char code[NS_NAME_MAX];  /* short stable code, e.g. "MCAD"; never translated */
    char *name;              /* human name */
    ns_marker_t *markers;
    int n_markers;
    int rule;                /* NS_RULE_ANY or NS_RULE_ALL (over primary markers) */
    int require_secondary;   /* positive needs a secondary marker at/over its cutoff */
    int tpn_sensitive;       /* amino-acid condition: on TPN, a positive needs its ratio
                                (secondary) markers to confirm, else "repeat after TPN" */
    double tpn_max_fold;     /* on TPN, a primary marker at/beyond this fold of its cutoff is
                                disease range, not a TPN rise: the call stands (NAN = none;
                                a critical-limit call always stands) */
    int priority;            /* NS_PRIO_* for a positive call */
    int action;              /* NS_ACT_* for a positive call */
    ns_score_rule_t score;   /* score: block (score.h) */
    ns_pos_t pos;
} ns_condition_t;

/* Screen-negative distribution of the markers (panel `population:`, or a fragment file
 * attached with ns_population_load()): per marker and group, the count, the lower and upper
 * percentiles (lower_pct, upper_pct) and the median.  Groups: every baby, babies in no
 * panel stratum, and each panel stratum. */
enum { NS_POP_ALL = 0, NS_POP_STANDARD = 1, NS_POP_STRATUM0 = 2 };
#define NS_POP_GROUPS (NS_POP_STRATUM0 + NS_MAX_STRATA)

typedef struct {
    int64_t n;               /* babies behind the entry; 0 = no entry for this group */
    double lower, median, upper;       /* lower <= median <= upper, median > 0, lower >= 0 */
    double lower_ci[2], upper_ci[2];   /* confidence intervals [lo, hi]; NAN = not given */
    ns_pos_t pos;            /* of the entry's mapping */
} ns_pop_entry_t;

typedef struct {
    int present;             /* 0: the panel has no population */
    char *source;            /* free text, NULL if not given */
    double lower_pct, upper_pct;       /* 0 < lower_pct < 50 < upper_pct < 100 */
    ns_pop_entry_t *e;       /* [marker * NS_POP_GROUPS + group]; marker as in ns_marker_t */
    ns_pos_t *mpos;          /* [marker]: where the marker's key is (line 0 = not listed) */
    ns_pos_t pos, markers_pos;         /* of population: and of its markers: mapping */
    /* only when attached from a fragment file (NULL / "" when inline in the panel) */
    char *path;
    char *text;              /* the fragment's exact bytes (NUL-terminated) */
    size_t text_len;
    char sha256[65];
} ns_population_t;

/* Input column spellings and well layout (the "lab" part of the panel file). */
typedef struct {
    char **col_alias[4];     /* aliases for plate_id, well, sample_id, sample_type */
    int n_col_alias[4];
    char **type_alias[4];    /* aliases for patient, qc_low, qc_high, blank */
    int n_type_alias[4];
    int plate_rows, plate_cols;   /* 8 x 12 (96-well) or 16 x 24 (384-well) */
} ns_input_t;

typedef struct {
    char *path;              /* file it was read from */
    char *text;              /* the exact bytes of the file (NUL-terminated) */
    size_t text_len;
    char sha256[65];         /* hex digest of text */
    char name[64];           /* panel.name */
    char version[32];        /* panel.version */
    char kit[64];            /* panel.kit: assay kit the cutoffs are valid for */

    ns_analyte_t *analytes;  int n_analytes;
    ns_ratio_t *ratios;      int n_ratios;
    ns_condition_t *conds;   int n_conds;
    ns_stratum_t strata[NS_MAX_STRATA]; int n_strata;
    ns_specimen_rules_t specimen;
    ns_input_t input;
    double due_days[NS_PRIO_N];   /* followup: MS/MS deadline per priority, days of life
                                     (from birth_time); NAN = no deadline */
    char *ledger;                 /* followup.ledger: the follow-up ledger's file, a relative
                                     path already joined to the panel file's directory;
                                     NULL when the key is absent */

    /* Derived: distinct markers used by any condition, as flat "flag slots".  Slot s is
     * condition slot_cond[s], marker slot_marker[s] of that condition. */
    int n_slots;
    int *slot_cond, *slot_marker;

    ns_population_t pop;     /* screen-negative distributions (pop.present = 0: none) */
    int n_scored;            /* conditions with a score: block */
    /* Derived: "score slots", the flag slots whose condition has a score block and whose
     * marker has a disease median (batch.mom column k is slot sslot[k]). */
    int n_sslots;
    int *sslot;
} ns_panel_t;

/* One problem found while loading a panel. */
typedef struct {
    ns_pos_t pos;
    char msg[256];
} ns_panel_err_t;

typedef struct {
    ns_panel_err_t *v;
    int n, m;
    char *text;              /* the file's text, kept for quoting lines (NULL if unread) */
} ns_panel_errs_t;

/* Load and check a panel file.
 * @param path   YAML file
 * @param errs   receives every problem found (caller frees with ns_panel_errs_free())
 * @return the panel when errs->n == 0, otherwise NULL.  Free with ns_panel_free(). */
ns_panel_t *ns_panel_load(const char *path, ns_panel_errs_t *errs);

/* Same, from a string already in memory; name is used in messages only. */
ns_panel_t *ns_panel_load_mem(const char *name, const char *text, size_t len,
                              ns_panel_errs_t *errs);

/* Attach a population fragment to a loaded panel.  path holds one YAML mapping whose only
 * key is `population:`, in the panel's `population:` format (as `neoscreen cutoffs derive`
 * writes it).  Marker and stratum names are checked against p, then the panel's score
 * blocks against the population (ns_panel_check_scores()).  Errors point at the
 * fragment's own lines (errs->text is the fragment); a panel that already has a
 * population (inline or attached) is an error.
 * @return 0 (p->pop filled, p->pop.path/text/sha256 set), or -1 with errs->n > 0 and p
 *         unchanged.  errs is reset first; free it with ns_panel_errs_free(). */
int ns_population_load(ns_panel_t *p, const char *path, ns_panel_errs_t *errs);

/* Cross-checks between score blocks and the population, appended to errs: a population
 * exists; every marker with a disease median has an `all` or `standard` entry; in every
 * group of such a marker the normal limit (upper for a high marker, lower for a low one)
 * is on the abnormal side of the median and strictly positive, and the disease median lies
 * beyond it.  Run by ns_panel_load() when the population is inline and by
 * ns_population_load(); a caller that may run a panel with score blocks but no population
 * (no fragment given) should call it too.  Positions are in the panel file when the
 * population is inline, else in the fragment (the message names the panel line).
 * @return the number of problems added. */
int ns_panel_check_scores(const ns_panel_t *p, ns_panel_errs_t *errs);

/* What a command does to get its panel: load path, attach the population fragment pop_path
 * when given, and check the score blocks against the population (so a panel that scores
 * without one is refused).  Every problem goes to stderr as "neoscreen TAG: FILE:LINE:COL:
 * ..." with the line quoted, then one summary line ending in `consequence` ("nothing was
 * read or written").  NULL after such a report. */
ns_panel_t *ns_panel_open(const char *tag, const char *path, const char *pop_path,
                          const char *consequence);

/* Name of population group g ("all", "standard" or the stratum's name). */
const char *ns_pop_group_name(const ns_panel_t *p, int g);

void ns_panel_free(ns_panel_t *p);
void ns_panel_errs_free(ns_panel_errs_t *e);

/* Print every error as "PREFIX: FILE:LINE:COL: message", then the offending line after
 * ">>> " with a caret under the column (redis style), to fp: at most 120 characters of
 * it around the column ("..." where cut), control characters and bytes that are not
 * UTF-8 shown as '?'.  text may be NULL: the copy kept in e is used. */
void ns_panel_errs_print(FILE *fp, const char *prefix, const char *path, const char *text,
                         const ns_panel_errs_t *e);

/* Index of the analyte whose name or alias equals s (case-insensitive), or -1. */
int ns_panel_find_analyte(const ns_panel_t *p, const char *s);

/* Name of marker m (analyte or ratio). */
const char *ns_panel_marker_name(const ns_panel_t *p, int m);

const char *ns_prio_name(int prio);     /* "critical", "urgent", "routine" */
const char *ns_spec_name(int finding);  /* "early_collection", "late_collection", ... */
const char *ns_action_name(int act);    /* "referral", "repeat_specimen" */

#endif
