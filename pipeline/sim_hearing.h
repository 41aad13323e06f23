/* sim_hearing.h — hearing screen records for `neoscreen simulate` (hearing.csv).
 *
 * A night's hearing records arrive beside the plates (DESIGN.md input 3): one row per
 * test, `infant_id,test_time,stage,method,left,right,nicu_days,risk_factors`.  This module
 * writes them for every infant of the manifest, plus truth-hearing.csv: the refers, the
 * NICU babies screened against protocol, the untested ears and the babies with risk
 * factors, each with the action the hearing protocol calls for, so a hearing engine can be
 * scored against it.
 *
 * hearing.csv is the hearing history of the night's cohort: every infant has one initial
 * record (48-72 h after birth, before discharge; NICU babies just before NICU discharge),
 * and a share of the initial refers and untested ears also have their rescreen record
 * (day 28-42), as an export made after the rescreen window would hold it.  Test times may
 * therefore lie after the night's date.
 *
 * Model, rates and sources: sim_hearing.c.  The draws come from their own random stream
 * (ns_sim_stream_seed), so hearing records never move a value of the MS/MS night.
 */
#ifndef NS_SIM_HEARING_H
#define NS_SIM_HEARING_H

#include <stdint.h>
#include "sim_genes.h"

/* One infant of the manifest, as the hearing simulator needs it. */
typedef struct {
    int64_t card;                  /* 1-based: infant I<card> */
    int64_t birth_min;             /* minutes since 1970-01-01T00:00 */
    int nicu;                      /* manifest nicu flag */
    int ga;                        /* gestational age, days */
    int antibiotics;               /* manifest antibiotics flag */
    const ns_sim_genotype_t *gt;   /* true deafness genotype, NULL if not genotyped */
} ns_sim_baby_t;

typedef struct ns_sim_hearing ns_sim_hearing_t;

/* Start the hearing simulator: OUT/hearing.csv and OUT/truth-hearing.csv (both 0600).
 * @param every  1: the first well and NICU infants get the fixed case list
 *               (--every-condition)
 * @return a new simulator (free with ns_sim_hearing_free), NULL with a message. */
ns_sim_hearing_t *ns_sim_hearing_new(const char *out, unsigned long seed, int every,
                                     const char *eol);

/* Draw and write the records of one infant.  @return 0 (write errors show at finish). */
int ns_sim_hearing_infant(ns_sim_hearing_t *h, const ns_sim_baby_t *b);

/* Commit both files.  @return 0, or -1 with a message. */
int ns_sim_hearing_finish(ns_sim_hearing_t *h);

/* Counters for the progress line and the tests. */
typedef struct {
    int64_t infants, initial_refer, rescreens, rescreen_refer, nicu, risk;
    int forced_left;               /* --every-condition cases not placed (no such infant) */
} ns_sim_hearing_stats_t;
ns_sim_hearing_stats_t ns_sim_hearing_stats(const ns_sim_hearing_t *h);

/* Remove uncommitted files and free (NULL is fine). */
void ns_sim_hearing_free(ns_sim_hearing_t *h);

#endif
