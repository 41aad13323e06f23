/* genes.h — the deafness-gene plate: ingest, plate QC and the rules that turn genotypes
 * into follow-up findings (DESIGN.md input 4; DOMAIN.md §7.2).
 *
 * Why: many Chinese programmes genotype every newborn's blood spot for a handful of
 * hearing-loss variants (GJB2, SLC26A4, MT-RNR1, GJB3; DOMAIN §7.2).  About 1 in 20
 * babies carries at least one of them, 1.4 % of babies who PASS the hearing screen are
 * genetically positive, and an mtDNA m.1555A>G baby must never be given an aminoglycoside.
 * So a gene result acts on its own, whatever the hearing screen said.  This module reads
 * the night's gene plates, judges each plate by its own controls, and produces
 * language-neutral findings (followup.h) for the follow-up merge.  It is a library module:
 * `neoscreen run` wires it in (reads configs/genes.yaml, maps sample_id -> infant_id through
 * the manifest, merges the findings).
 *
 * Order of use (one night):
 *     cfg = ns_genes_config_load("configs/genes.yaml", &errs);     -- once per run
 *     ns_genes_ingest(&g, cfg, paths, n);     -- parse the genes/ CSV files (parallel)
 *     ns_genes_qc(&g);                        -- accept / reject each plate on its controls
 *     ns_genes_evaluate(&g, &findings, lookup, ctx);   -- states, findings, summary
 *     ns_genes_night_free(&g); ns_genes_config_free(cfg);
 *
 * INPUT (one CSV per plate): plate_id, well, sample_id, sample_type, then one column per
 * locus, named "GENE:variant" in HGVS (GJB2:c.235delC, MT-RNR1:m.1555A>G) or an alias from
 * the config.  The four fixed column names are matched case-insensitively, in any order.
 * Calls (case-insensitive):
 *     wt              no variant allele                       (0 alleles)
 *     het, hom        nuclear loci (c./g./n.): one / two alleles
 *     heteroplasmic, homoplasmic
 *                     mitochondrial loci (m.): variant present (counted as 1 allele: mtDNA
 *                     is not diploid, "present" is all that matters for a rule)
 *     fail            no amplification / no call: the locus has no result
 * het/hom on an mtDNA locus, or heteroplasmic/homoplasmic on a nuclear one, is a bad call.
 * UTF-8 with or without BOM, GBK, CRLF or LF, exactly like the MS/MS plates (encoding.h).
 *
 * QUARANTINE: a plate file with any of these problems is set aside whole, with ONE message
 * "FILE:LINE:COL: what is wrong" (the first problem found), and its data rows are still
 * counted (nothing is lost): unreadable or undecodable bytes, CSV syntax, a missing fixed
 * column, a column that is neither fixed, a configured locus nor in ignore_columns
 * (unknown locus), two columns for one locus, a configured locus with no column, a row
 * with the wrong number of fields, an empty or changing plate_id, a bad or duplicate well,
 * an unknown sample_type, a control in a well the config does not give it (or a control
 * well holding something else), an empty patient sample_id or one over 63 characters, an
 * empty or bad call, no data rows, a plate_id already read tonight.
 * DECISION: a configured locus missing from the file QUARANTINES the plate.  It is never
 * read as "not tested": a baby whose plate silently skipped GJB2:c.235delC could be
 * counted gene-negative.  A lab whose kit tests fewer loci lists only those loci.
 *
 * PLATE QC: each parsed plate is judged by the controls of the config (ns_genes_qc):
 * every configured control must be on the plate (in each of its wells, if the config
 * gives wells) and every call of every control well must be one the config expects.
 * Otherwise the plate is REJECTED; its reason lists every problem, e.g.
 *     "positive control GJB2:c.235delC expected het, got wt (B01)"
 *     "blank control missing (sample_type ntc)"
 * Patients of a rejected plate get no gene findings and end in NS_GSTATE_HOLD (gene_hold:
 * re-run the plate; never reported gene-negative).
 *
 * RULES (configs/genes.yaml documents them in full): a rule looks at a set of loci —
 * per gene (scope: gene, one finding per gene that matches) or all together (scope:
 * sample) — filtered by gene and class, and fires when its conditions hold:
 *     min_alleles / max_alleles   the allele count of the set is within [min, max]
 *     call                        at least one locus of the set has one of these calls
 * A fail call makes the count uncertain: the known alleles give the lowest count, and
 * each failed locus may add up to 2 (nuclear) or 1 (mtDNA) for the highest.  A rule fires
 * only when it holds WHATEVER the failed loci would have shown: lowest >= min_alleles
 * and highest <= max_alleles.  So GJB2 het + another GJB2 locus failed is neither carrier
 * nor biallelic (only the repeat rule fires), while GJB2 hom + a failed locus is still
 * biallelic.
 */
#ifndef NS_GENES_H
#define NS_GENES_H

#include <stdint.h>
#include "followup.h"
#include "panel.h"

#define NS_GENE_NAME_MAX  16   /* gene symbol, including the NUL ("SLC26A4") */
#define NS_GENE_LOCUS_MAX 48   /* "GENE:variant", including the NUL */
#define NS_GENE_ID_MAX    32   /* rule ids and control names, including the NUL */

/* Calls, in the order of the call names. */
enum { NS_GCALL_WT = 0, NS_GCALL_HET, NS_GCALL_HOM, NS_GCALL_HETEROPLASMIC,
       NS_GCALL_HOMOPLASMIC, NS_GCALL_FAIL, NS_GCALL_N };
/* Locus classes (configs/genes.yaml loci[].class). */
enum { NS_GCLASS_PATHOGENIC = 0, NS_GCLASS_AMINOGLYCOSIDE, NS_GCLASS_UNCERTAIN, NS_GCLASS_N };
/* Rule scopes. */
enum { NS_GSCOPE_GENE = 0, NS_GSCOPE_SAMPLE = 1 };

typedef struct {
    char id[NS_GENE_LOCUS_MAX];       /* "GJB2:c.235delC": gene ":" variant, the column name */
    char gene[NS_GENE_NAME_MAX];      /* "GJB2" */
    char variant[NS_GENE_LOCUS_MAX];  /* "c.235delC" */
    int gene_idx;                     /* index into cfg->genes */
    int cls;                          /* NS_GCLASS_* */
    int mt;                           /* 1: mitochondrial ("m." variant) */
    char **aliases;                   /* other column spellings (case-insensitive) */
    int n_aliases;
    ns_pos_t pos;
} ns_gene_locus_t;

typedef struct {
    char name[NS_GENE_ID_MAX];        /* "wild_type", "positive", "blank": used in reasons */
    char **types;                     /* sample_type spellings of this control */
    int n_types;
    int *wells;                       /* well indices (row * cols + col) it must occupy;
                                         n_wells == 0: any well holding its sample_type */
    int n_wells;
    unsigned *expect;                 /* per locus: bits (1u << NS_GCALL_*) of accepted calls */
    ns_pos_t pos;
} ns_gene_control_t;

typedef struct {
    char id[NS_GENE_ID_MAX];          /* unique; finding code "gene:GENE:id" or "gene:id" */
    int scope;                        /* NS_GSCOPE_* */
    uint8_t *gene_sel;                /* per cfg gene: 1 = the rule looks at it */
    unsigned class_mask;              /* bits (1u << NS_GCLASS_*) of the loci looked at */
    int min_alleles, max_alleles;     /* -1 = no condition */
    unsigned call_mask;               /* bits (1u << NS_GCALL_*); 0 = no condition */
    char action[NS_FU_KEY_MAX];       /* translation key action.<action> */
    int priority;                     /* NS_PRIO_* */
    double due_days;                  /* deadline in days of life; NAN = none */
    char reason[NS_FU_KEY_MAX];       /* translation key reason.<reason> */
    ns_pos_t pos;
} ns_gene_rule_t;

typedef struct {
    char *path, *text;                /* file name and exact text */
    char sha256[65];
    char name[64], version[32], kit[64];   /* optional descriptive fields */
    int rows, cols;                   /* plate geometry: 8 x 12 or 16 x 24 */
    char **patient_types;             /* sample_type spellings of a patient */
    int n_patient_types;
    char **ignore_columns;            /* extra vendor columns that are skipped */
    int n_ignore;
    ns_gene_locus_t *loci;    int n_loci;
    char (*genes)[NS_GENE_NAME_MAX];  int n_genes;   /* in order of first appearance */
    ns_gene_control_t *controls; int n_controls;
    int *well_control;                /* rows * cols: control given that well, -1 = none */
    ns_gene_rule_t *rules;    int n_rules;
} ns_genes_config_t;

/* Load and check a gene config (configs/genes.yaml).  Every problem goes to errs at its
 * FILE:LINE:COL (unknown keys or values, duplicate loci or rule ids, a rule naming an
 * unknown gene or class or matching no locus, bad numbers, ...); print them with
 * ns_panel_errs_print().  Caller frees errs with ns_panel_errs_free().
 * @return the config when errs->n == 0, else NULL.  Free with ns_genes_config_free(). */
ns_genes_config_t *ns_genes_config_load(const char *path, ns_panel_errs_t *errs);
/* Same, from text in memory (len bytes); name is used in messages only. */
ns_genes_config_t *ns_genes_config_load_mem(const char *name, const char *text, size_t len,
                                            ns_panel_errs_t *errs);
void ns_genes_config_free(ns_genes_config_t *c);

/* Index of the locus whose id or alias equals s (case-insensitive), or -1. */
int ns_genes_find_locus(const ns_genes_config_t *c, const char *s);

/* ---- one night of gene plates --------------------------------------------------------- */

enum { NS_GPLATE_ACCEPTED = 0, NS_GPLATE_REJECTED = 1, NS_GPLATE_QUARANTINED = 2 };

/* Final state of a well of a parsed plate (quarantined plates keep only their count).
 * Every patient ends in exactly one: */
enum {
    NS_GSTATE_NEGATIVE = 0,    /* every locus wt */
    NS_GSTATE_POSITIVE,        /* at least one variant allele (any class), fails or not */
    NS_GSTATE_INCOMPLETE,      /* no variant allele, at least one fail: no negative result */
    NS_GSTATE_HOLD,            /* plate rejected by its controls (gene_hold): re-run */
    NS_GSTATE_CONTROL,         /* a control well */
    NS_GSTATE_N
};

typedef struct {
    char *path;                /* as given */
    char *name;                /* file name only */
    char id[NS_NAME_MAX];      /* plate_id ("" if quarantined before it was read) */
    int id_line, id_col;
    char sha256[65];           /* of the raw bytes */
    char encoding[8];          /* "utf-8", "gbk" or "?" */
    int status;                /* NS_GPLATE_*; ACCEPTED until ns_genes_qc judges it */
    char *error;               /* QUARANTINED: "FILE:LINE:COL: what"; else NULL */
    char *reason;              /* REJECTED: every control problem, "; "-separated; else NULL */
    int64_t n_wells;           /* data rows (also for quarantined files) */
    int64_t n_patients, n_controls;
    int64_t first;             /* its first well in the night's arrays, -1 if quarantined */
} ns_gene_plate_t;

/* Counts for the run summary.  Nothing is lost:
 *     wells_read = wells_quarantined + controls + hold + tested
 *     tested     = negative + positive + incomplete                            */
typedef struct {
    int n_plates, accepted, rejected, quarantined;
    int64_t wells_read, wells_quarantined, controls;
    int64_t tested;            /* patients on accepted plates */
    int64_t negative, positive, incomplete, hold;
    double positive_rate;      /* positive / tested; NAN when nothing was tested */
    int64_t with_fail;         /* tested samples with at least one fail call */
    int64_t class_positive[NS_GCLASS_N];   /* tested samples with a variant of that class */
    int64_t (*locus_calls)[NS_GCALL_N];    /* per locus: tested samples with each call */
    int64_t findings;          /* findings produced */
    int64_t findings_by_prio[NS_PRIO_N];
} ns_genes_summary_t;

typedef struct {
    const ns_genes_config_t *cfg;     /* not owned */
    ns_gene_plate_t *plates;          /* in the order of paths */
    int n_plates;
    int64_t n;                        /* wells of parsed (not quarantined) plates, in plate
                                         order then file order */
    int *plate;                       /* plate index of each well */
    char (*well)[4];                  /* "A01" */
    char **sample_id;                 /* "" allowed for controls */
    int *control;                     /* control index, -1 = patient */
    uint8_t *call;                    /* call[i * cfg->n_loci + l]: NS_GCALL_* */
    uint8_t *state;                   /* NS_GSTATE_*, set by ns_genes_evaluate() */
    int judged;                       /* ns_genes_qc() has run */
    ns_genes_summary_t sum;           /* filled by ns_genes_evaluate() */
} ns_genes_night_t;

/* Read every gene plate file (paths in the order wanted, normally sorted by name) into g
 * (which is overwritten).  Files are parsed in parallel, each into its own slot, and
 * joined in path order: the result is the same for any thread count.  A plate_id already
 * read from an earlier file quarantines the later file.
 * @return the number of quarantined plates. */
int ns_genes_ingest(ns_genes_night_t *g, const ns_genes_config_t *cfg, char **paths, int n_paths);

/* Judge every parsed plate on its controls (see the top of this file).
 * @return the number of rejected plates. */
int ns_genes_qc(ns_genes_night_t *g);

/* Maps a sample_id to an infant_id; returns NULL or "" when unknown. */
typedef const char *(*ns_genes_infant_fn)(void *ctx, const char *sample_id);

/* Apply the rules to every patient of an accepted plate, set every well's state, fill
 * g->sum, and append the findings to out.  Runs ns_genes_qc() first if it has not run.
 *
 * Findings: source NS_SRC_GENE; sample_id set; infant_id = infant_of(ctx, sample_id) when
 * infant_of is given, else "" (the caller maps it through the manifest); priority, action
 * and reason from the rule; code "gene:GENE:RULE" (scope gene) or "gene:RULE" (scope
 * sample); due_from NS_DUE_BIRTH with due_hours = 24 x days_of_life when the rule has a
 * deadline, else NS_DUE_NONE.  Arguments, always these four:
 *     gene    the gene ("GJB2"); scope sample: the genes of the loci listed, ", "-joined
 *     loci    the loci of the set that are not wt or that matched `call`, with their call:
 *             "GJB2:c.235delC hom, GJB2:c.299_300delAT het" (cut at a locus boundary with
 *             " +N" when longer than one argument holds)
 *     plate   plate_id
 *     well    "A01"
 * Order: by sample_id (byte order), then plate and well order, then rule order of the
 * config, then gene order: deterministic, independent of threads.
 * @return the number of findings appended. */
int64_t ns_genes_evaluate(ns_genes_night_t *g, ns_findings_t *out, ns_genes_infant_fn infant_of,
                          void *ctx);

void ns_genes_night_free(ns_genes_night_t *g);

const char *ns_gene_call_name(int call);      /* "wt", "het", ... "fail" */
const char *ns_gene_class_name(int cls);      /* "pathogenic", ... */
const char *ns_gene_state_name(int state);    /* "gene_negative", "gene_positive",
                                                 "gene_incomplete", "gene_hold", "control" */
const char *ns_gene_plate_status_name(int s); /* "accepted", "rejected", "quarantined" */

#endif
