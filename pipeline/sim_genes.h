/* sim_genes.h — deafness-gene plates for `neoscreen simulate` (--genes).
 *
 * Many Chinese programmes genotype a panel of deafness variants on the same dried blood
 * spot as the MS/MS screen (DOMAIN.md §7.2); the lab receives one CSV per 96-well
 * genotyping plate, one column per locus (DESIGN.md input 4).  This module draws a
 * genotype for every card the gene plate runs on and writes those plates, with control
 * wells, plus truth-genes.csv: the positive and failed samples with the category a gene
 * engine should give them.
 *
 * Model (numbers and sources in sim_genes.c):
 *   - the 9 loci of DOMAIN §7.2, independent; an autosomal locus in Hardy-Weinberg
 *     equilibrium (wt / het / hom), a mitochondrial one wt / heteroplasmic / homoplasmic;
 *   - each locus carries a fixed share of all positive results (c.235delC 47 %, IVS7-2A>G
 *     21 %, ...), scaled so that the share of babies with at least one variant is
 *     NS_SIM_GENE_POSITIVE; biallelic babies (hom, compound het) then come out of the
 *     model at their Hardy-Weinberg rate, a few per 10,000;
 *   - a small share of samples fail: the whole sample (no DNA) or one locus.
 * The draws come from their own random stream (ns_sim_stream_seed), so gene plates never
 * move a value of the MS/MS night, and the genotypes are drawn whether or not the plates
 * are written (the hearing records depend on them; see sim_hearing.h).
 */
#ifndef NS_SIM_GENES_H
#define NS_SIM_GENES_H

#include <stdint.h>

#define NS_SIM_GENE_LOCI 9

/* Share of babies with at least one variant called, and of samples with a fail call
 * (sources and assumptions in sim_genes.c). */
#define NS_SIM_GENE_POSITIVE 0.048
#define NS_SIM_GENE_FAIL_SAMPLE 0.001   /* every locus fails (no DNA) */
#define NS_SIM_GENE_FAIL_LOCUS 0.001    /* one locus fails */

/* Calls as written in the plate (ns_sim_call_name). */
enum { NS_SIM_WT = 0, NS_SIM_HET, NS_SIM_HOM, NS_SIM_HETEROPLASMIC, NS_SIM_HOMOPLASMIC,
       NS_SIM_FAIL, NS_SIM_N_CALLS };
extern const char *const ns_sim_call_name[NS_SIM_N_CALLS];

typedef struct {
    const char *column;   /* plate column, GENE:variant in HGVS (DESIGN.md input 4) */
    const char *gene;     /* GJB2, SLC26A4, MT-RNR1, GJB3 */
    int mito;             /* 1: mitochondrial (heteroplasmic / homoplasmic calls) */
    double share;         /* share of all positive results carried by this locus */
} ns_sim_locus_t;

/* The loci in plate column order. */
extern const ns_sim_locus_t ns_sim_loci[NS_SIM_GENE_LOCI];

/* What the hearing simulator needs to know of a baby's genotype: the true number of
 * pathogenic GJB2 and SLC26A4 alleles (0, 1 or 2), whatever the plate called. */
typedef struct {
    int gjb2, slc26a4;
} ns_sim_genotype_t;

typedef struct ns_sim_genes ns_sim_genes_t;

/* Start the gene simulator of a night.
 * @param out    night directory; plates go to OUT/genes/<plate_id>.csv (the directory must
 *               exist when write is set), truth to OUT/truth-genes.csv
 * @param ymd    night as "YYYYMMDD": sample ids S<ymd>-<card>, plate ids G<ymd>-<nnnn>
 * @param seed   the night's seed (the stream is derived from it)
 * @param write  0: draw genotypes only, write nothing
 * @param every  1: the first samples get the fixed case list (--every-condition)
 * @param eol    line ending, "\n" or "\r\n" (not copied)
 * @return a new simulator (free with ns_sim_genes_free), NULL with a message on failure. */
ns_sim_genes_t *ns_sim_genes_new(const char *out, const char *ymd, unsigned long seed,
                                 int write, int every, const char *eol);

/* Draw the genotype of card number `card` (1-based; sample S<ymd>-<card>, infant
 * I<card>), put it on the current plate, and write the plate when it is full.
 * @param gt  receives the true genotype (may be NULL)
 * @return 0, or -1 with a message if a plate could not be written. */
int ns_sim_genes_sample(ns_sim_genes_t *g, int64_t card, ns_sim_genotype_t *gt);

/* Write the last, partial plate and commit truth-genes.csv.  @return 0, or -1 with a
 * message.  The counters below are final after this. */
int ns_sim_genes_finish(ns_sim_genes_t *g);

/* Counters for the progress line. */
int64_t ns_sim_genes_n_samples(const ns_sim_genes_t *g);
int64_t ns_sim_genes_n_positive(const ns_sim_genes_t *g);   /* >= 1 variant called */
int ns_sim_genes_n_plates(const ns_sim_genes_t *g);
int ns_sim_genes_n_forced_left(const ns_sim_genes_t *g);   /* --every-condition cases not placed */

/* Remove uncommitted files and free (NULL is fine). */
void ns_sim_genes_free(ns_sim_genes_t *g);

/* Is name a gene plate file name: G + 8 digits + '-' + digits + ".csv"? */
int ns_sim_is_gene_plate_name(const char *name);

/* Check the locus table (shares positive, summing to 1) and the calibration.  On failure
 * writes a message (at most len bytes) and returns -1. */
int ns_sim_genes_check(char *msg, int len);

/* The per-locus probability of a positive call (het or hom; hetero- or homoplasmic) after
 * calibration to NS_SIM_GENE_POSITIVE; for tests. */
double ns_sim_genes_locus_p(int locus);

#endif
