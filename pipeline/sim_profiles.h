/* sim_profiles.h — the biology behind `neoscreen simulate`, as plain tables.
 *
 * A synthetic night is only useful if it looks like a real one where it matters: normal
 * babies must sit below the programme cutoffs about as often as real ones do (recall rate
 * ~0.2-1 %, DOMAIN.md §11 item 7), the pre-analytical covariates must push analytes the
 * way the literature says (age at collection, prematurity, TPN: DOMAIN §2.1-2.3), and
 * every injected disease case must land clearly in its disease range (DOMAIN §1.5) so a
 * test can insist that every case is found.  This module holds those numbers and nothing
 * else; cmd_simulate.c draws from them.  Every number in sim_profiles.c carries a
 * "source:" comment, or is marked [K] (assumption / domain knowledge, not sourced).
 *
 * Model of one patient, analyte a (natural-log scale):
 *
 *   log x_a = log median_a                      normal-population median (umol/L)
 *           + spot                              shared by all analytes of the sample,
 *                                               N(0, NS_SIM_SPOT_SD^2): spot volume,
 *                                               hematocrit, punch position (DOMAIN §2.3)
 *           + sqrt(load_a) * s_a * g[group_a]   shared by the analyte's group, N(0,1)
 *           + sqrt(1 - load_a) * s_a * e_a      the analyte's own noise, N(0,1)
 *           + sum of covariate shifts           ns_sim_effects[] below
 *
 * where s_a = sqrt(log_sd_a^2 - NS_SIM_SPOT_SD^2), so that log_sd_a is the total log-SD
 * of the analyte in a baby without covariates.  The group factor makes analytes of one
 * family move together, which keeps ratios such as C8/C10 or Cit/Arg as tight as they are
 * in real populations.  A disease case then overrides its markers (ns_sim_conds[]).
 *
 * All tables are constant and indexed by position; names are the pipeline keys of
 * DOMAIN §1.1.  Names in effect and marker lists are space-separated analyte keys.
 */
#ifndef NS_SIM_PROFILES_H
#define NS_SIM_PROFILES_H

#define NS_SIM_N_ANALYTES 41   /* Phe ... C18:1OH, the plate column order */
#define NS_SIM_SPOT_SD 0.10    /* log-SD of the per-sample spot factor, see sim_profiles.c */

/* Analyte families sharing a latent factor (see the model above). */
enum {
    NS_SIM_G_NONE = 0,   /* no shared factor besides the spot */
    NS_SIM_G_AA,         /* amino acids */
    NS_SIM_G_SCAC,       /* free carnitine and short-chain acylcarnitines (C0-C5DC) */
    NS_SIM_G_MCAC,       /* medium-chain acylcarnitines (C6-C12:1) */
    NS_SIM_G_LCAC,       /* long-chain acylcarnitines (C14-C18:1OH) */
    NS_SIM_G_N
};

typedef struct {
    const char *key;     /* pipeline key, e.g. "Xle" (DOMAIN §1.1) */
    const char *vendor;  /* header written with --vendor-headers (e.g. "Leu"); NULL = key */
    double median;       /* normal-population median, umol/L */
    double log_sd;       /* total natural-log SD in the normal population (>= SPOT_SD) */
    int group;           /* NS_SIM_G_* */
    double load;         /* share of the non-spot variance carried by the group, 0..1 */
} ns_sim_analyte_t;

/* The 41 analytes in plate column order. */
extern const ns_sim_analyte_t ns_sim_analytes[NS_SIM_N_ANALYTES];

/* Covariates that shift log-means. */
enum {
    NS_SIM_COV_EARLY = 0,  /* collected < 24 h after birth */
    NS_SIM_COV_LATE,       /* collected > 48 h after birth */
    NS_SIM_COV_PRETERM,    /* gestational age < 259 d (37 w); doubled when BW < 1500 g */
    NS_SIM_COV_TPN,        /* on parenteral nutrition; scaled by a per-baby intensity */
    NS_SIM_COV_FEMALE,
    NS_SIM_COV_MALE,
    NS_SIM_COV_N
};

/* One covariate effect: every analyte in `analytes` gets, when the covariate applies,
 *   log shift = d * log_sd_a + log(fold)
 * (d is a Cohen's d, i.e. in units of the analyte's SD; fold is a plain multiplier; use
 * d = 0 or fold = 1 for the unused form). */
typedef struct {
    int cov;                /* NS_SIM_COV_* */
    const char *analytes;   /* space-separated keys */
    double d;
    double fold;
} ns_sim_effect_t;

extern const ns_sim_effect_t ns_sim_effects[];
extern const int ns_sim_n_effects;

/* How a disease marker overrides the normal draw.  lo/hi are umol/L for ABS and LOGN,
 * multipliers for FOLD and REL.  Draws within [lo, hi] are log-uniform except LOGN.
 * FOLD draws one factor for its whole analyte list (the listed analytes fall or rise
 * together, their ratios unchanged); the other modes draw once per listed analyte. */
enum {
    NS_SIM_ABS = 0,  /* value drawn in [lo, hi] */
    NS_SIM_FOLD,     /* normal value times a factor in [lo, hi] */
    NS_SIM_REL,      /* value of analyte `ref` (already set) times a factor in [lo, hi] */
    NS_SIM_LOGN      /* log-normal with `median`, log-SD log(hi/lo)/4, redrawn into [lo, hi] */
};

#define NS_SIM_MAX_MARKERS 10

typedef struct {
    const char *analytes;   /* space-separated keys; NULL ends the marker list */
    int mode;               /* NS_SIM_ABS ... */
    double lo, hi;
    const char *ref;        /* REL only: reference analyte, set by an earlier marker */
    double median;          /* LOGN only */
} ns_sim_marker_t;

typedef struct {
    const char *code;       /* condition code as used by the panel config, e.g. "MCAD" */
    const char *name;       /* human name, for comments and reports */
    ns_sim_marker_t m[NS_SIM_MAX_MARKERS];
} ns_sim_cond_t;

/* The 24 injectable conditions, in the round-robin order used by --cases. */
extern const ns_sim_cond_t ns_sim_conds[];
extern const int ns_sim_n_conds;

/* Mimics: non-disease causes of abnormal results (pivalate exposure, maternal B12 or
 * carnitine deficiency, catabolic state; DOMAIN §2.3).  Each plain (non-case) patient
 * gets profile `prof`, applied like a disease, with probability p.  They are not cases:
 * they are the false positives of a realistic night and never appear in truth.csv. */
typedef struct {
    double p;
    ns_sim_cond_t prof;
} ns_sim_mimic_t;

extern const ns_sim_mimic_t ns_sim_mimics[];
extern const int ns_sim_n_mimics;

/* Control materials: qc_low targets the normal median, qc_high NS_SIM_QC_HIGH_FOLD times
 * it; both with coefficient of variation NS_SIM_QC_CV.  Blanks read NS_SIM_BLANK_FRAC of
 * the median (carry-over), log-SD NS_SIM_BLANK_SD. */
#define NS_SIM_QC_HIGH_FOLD 5.0
#define NS_SIM_QC_CV 0.08
#define NS_SIM_BLANK_FRAC 0.003
#define NS_SIM_BLANK_SD 0.5

/* Index of analyte key (exact match), or -1. */
int ns_sim_analyte_index(const char *key);

/* Apply fn(analyte_index, arg) to every key of a space-separated list.
 * @return 0, or -1 if a key is unknown (fn was then called for the keys before it). */
int ns_sim_for_each(const char *list, void (*fn)(int a, void *arg), void *arg);

/* Check the tables for internal consistency: every key resolves, log_sd >= SPOT_SD,
 * load in [0,1], ranges positive with lo <= hi, every REL reference set earlier in its
 * condition or mimic, mimic probabilities in [0,1].  On failure writes a message (NUL-terminated, at most len bytes) and
 * returns -1; returns 0 when the tables are sound. */
int ns_sim_profiles_check(char *msg, int len);

/* ---- helpers shared by the simulator's modules (cmd_simulate.c, sim_hearing.c,
 * sim_genes.c) ---------------------------------------------------------------------- */

#include <stddef.h>
#include <stdint.h>

/* Days since 1970-01-01 of a proleptic Gregorian date, and back (H. Hinnant's algorithms):
 * exact, free of time zones and locale. */
int64_t ns_sim_days_from_civil(int64_t y, int m, int d);
void ns_sim_civil_from_days(int64_t z, int *y, int *m, int *d);
/* Minutes since 1970-01-01T00:00 -> "2026-11-19T08:30" (the manifest's format). */
void ns_sim_iso_minute(int64_t min, char *buf, size_t len);

/* Seed of an independent random stream of a night: the MS/MS night draws from the user's
 * seed itself; the hearing records (stream NS_SIM_STREAM_HEARING) and the gene plates
 * (NS_SIM_STREAM_GENES) draw from their own Mersenne Twisters seeded with this, so adding
 * or changing them never moves a value of the plates or the manifest.  A SplitMix64 mix of
 * (seed, stream), reduced to the 32 bits gsl_rng_set() uses for mt19937; never 0. */
enum { NS_SIM_STREAM_HEARING = 1, NS_SIM_STREAM_GENES = 2 };
unsigned long ns_sim_stream_seed(unsigned long seed, unsigned stream);

#endif
