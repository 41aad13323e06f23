/* sim_genes.c — deafness-gene plates for `neoscreen simulate`; see sim_genes.h.
 *
 * Numbers.  "Hangzhou" = Open Med 2026 (PMC12917547), 10,754 newborns, 15 variants in 4
 * genes; "Jiangxi" = Front Pediatr 2022 (10.3389/fped.2022.1020519), 24,349 newborns, 20
 * variants; "guideline" = 遗传性耳聋基因筛查规范, 中华医学杂志 2021;101:97-102 (all DOMAIN.md
 * §7.2).  [K] marks a simulator assumption (no source in DOMAIN).
 *
 *   - NS_SIM_GENE_POSITIVE 4.8 %: babies with >= 1 variant.  Jiangxi 4.813 %, Hangzhou
 *     4.92 %, a 6-locus cohort 4.64 % (PubMed 26663044); the 9 loci here carry nearly all
 *     of a 15-20 variant panel's positives [K].
 *   - Shares of all positive results per locus: c.235delC 47.3 % and c.919-2A>G (IVS7-2A>G)
 *     21.2 % (Hangzhou: 47.26 %, 21.17 % of variants); MT-RNR1 4.9 % so that 4.9 % x 4.8 %
 *     = 2.4 per mille of babies are aminoglycoside-susceptible (guideline, China-wide
 *     2.4 per mille), split m.1555A>G 4.1 / m.1494C>T 0.8 [K: m.1555A>G the common one];
 *     GJB3 c.538C>T 3.0 % [K; Jiangxi: GJB3 61 of 1,146 single-gene positives, 5.3 %, on a
 *     wider GJB3 panel]; the rest [K], in the usual Chinese order: GJB2 c.299_300delAT
 *     13.0 %, SLC26A4 c.2168A>G 7.6 %, GJB2 c.176_191del16 2.5 %, GJB2 c.35delG 0.5 % (the
 *     European founder variant, rare in China).  GJB2 then carries 63 % of positives,
 *     SLC26A4 29 % (Jiangxi: 46 % and 32 % of single-gene positives).
 *   - Autosomal loci in Hardy-Weinberg equilibrium: with positive share p, allele frequency
 *     q = 1 - sqrt(1 - p), hom q^2.  That gives GJB2 biallelic (hom or compound het) ~2.4
 *     and SLC26A4 ~0.5 per 10,000 babies: "a few" (Gansu, DOMAIN §7.2: 2 GJB2 hom in
 *     10,043).
 *   - Mitochondrial positives: 15 % heteroplasmic, 85 % homoplasmic [K].
 *   - Fails: 0.1 % of samples fail at every locus (no DNA on the punch), 0.1 % at one locus
 *     [K]: ~0.2 % of samples carry a fail call.
 *
 * Plates: 96 wells, A01 wt_control (every locus wt), B01 pos_control (every nuclear locus
 * het, both MT-RNR1 variants homoplasmic: the mixed control of configs/genes.yaml), C01
 * blank (every locus fail), samples from D01 column-major, as on the MS/MS plates.  Control positions
 * are local practice (DOMAIN §5.3: no standard); a gene config lists them.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_rng.h>
#include "atomic_file.h"
#include "log.h"
#include "sim_genes.h"
#include "sim_profiles.h"
#include "util.h"

#define SUB "simulate"
#define ROWS 8
#define COLS 12
#define WELLS (ROWS * COLS)
#define N_CTL 3
#define PER_PLATE (WELLS - N_CTL)
#define P_HETEROPLASMIC 0.15

const char *const ns_sim_call_name[NS_SIM_N_CALLS] = {
    "wt", "het", "hom", "heteroplasmic", "homoplasmic", "fail",
};

const ns_sim_locus_t ns_sim_loci[NS_SIM_GENE_LOCI] = {
    { "GJB2:c.35delG",        "GJB2",    0, 0.005 },
    { "GJB2:c.176_191del16",  "GJB2",    0, 0.025 },
    { "GJB2:c.235delC",       "GJB2",    0, 0.473 },
    { "GJB2:c.299_300delAT",  "GJB2",    0, 0.130 },
    { "SLC26A4:c.919-2A>G",   "SLC26A4", 0, 0.212 },
    { "SLC26A4:c.2168A>G",    "SLC26A4", 0, 0.076 },
    { "MT-RNR1:m.1494C>T",    "MT-RNR1", 1, 0.008 },
    { "MT-RNR1:m.1555A>G",    "MT-RNR1", 1, 0.041 },
    { "GJB3:c.538C>T",        "GJB3",    0, 0.030 },
};
enum { L_35, L_176, L_235, L_299, L_919, L_2168, L_1494, L_1555, L_GJB3 };

/* The genes in column order, for truth rows. */
static const char *const gene_names[] = { "GJB2", "SLC26A4", "MT-RNR1", "GJB3" };
#define N_GENES 4

/* Control wells. */
static const struct { const char *well, *type, *sample_id; int call[NS_SIM_GENE_LOCI]; } controls[N_CTL] = {
    { "A01", "wt_control",  "GENE-CTRL-WT",  { 0 } },
    /* a mixed positive control: every nuclear locus het, both mtDNA variants present (as
     * configs/genes.yaml expects: the control then proves every locus can call a variant) */
    { "B01", "pos_control", "GENE-CTRL-POS",
      { [L_35] = NS_SIM_HET, [L_176] = NS_SIM_HET, [L_235] = NS_SIM_HET, [L_299] = NS_SIM_HET,
        [L_919] = NS_SIM_HET, [L_2168] = NS_SIM_HET, [L_1494] = NS_SIM_HOMOPLASMIC,
        [L_1555] = NS_SIM_HOMOPLASMIC, [L_GJB3] = NS_SIM_HET } },
    { "C01", "blank",       "BLANK",
      { NS_SIM_FAIL, NS_SIM_FAIL, NS_SIM_FAIL, NS_SIM_FAIL, NS_SIM_FAIL, NS_SIM_FAIL,
        NS_SIM_FAIL, NS_SIM_FAIL, NS_SIM_FAIL } },
};

/* --every-condition: the first samples of the night get these genotypes, in this order
 * (one of each gene case type of the brief; truth category in the comment).  Fails hide a
 * wt genotype. */
#define FAIL_ALL -1
static const struct { const char *what; int call[NS_SIM_GENE_LOCI]; } forced[] = {
    { "GJB2 hom",            { [L_235] = NS_SIM_HOM } },                            /* biallelic */
    { "GJB2 compound het",   { [L_235] = NS_SIM_HET, [L_299] = NS_SIM_HET } },      /* biallelic */
    { "GJB2 carrier",        { [L_235] = NS_SIM_HET } },                            /* carrier */
    { "SLC26A4 carrier",     { [L_919] = NS_SIM_HET } },                            /* carrier */
    { "SLC26A4 compound het", { [L_919] = NS_SIM_HET, [L_2168] = NS_SIM_HET } },    /* biallelic */
    { "m.1555A>G",           { [L_1555] = NS_SIM_HOMOPLASMIC } },                   /* aminoglycoside */
    { "m.1494C>T",           { [L_1494] = NS_SIM_HETEROPLASMIC } },                 /* aminoglycoside */
    { "GJB3 c.538C>T",       { [L_GJB3] = NS_SIM_HET } },                           /* uncertain */
    { "sample fail",         { FAIL_ALL } },                                        /* fail */
    { "one locus fails",     { [L_235] = NS_SIM_FAIL } },                           /* fail */
};
#define N_FORCED (int)(sizeof forced / sizeof forced[0])

typedef struct {
    int64_t card;
    unsigned char call[NS_SIM_GENE_LOCI];   /* as written on the plate */
} gsample_t;

struct ns_sim_genes {
    gsl_rng *r;
    const char *eol;
    char out[4096], ymd[9];
    int write;
    int n_forced;                 /* forced cases still to place */
    double p[NS_SIM_GENE_LOCI];   /* per-locus probability of a positive */
    gsample_t pat[PER_PLATE];
    int n_pat, plate_no;
    ns_atomic_t *truth;
    int64_t n_samples, n_positive;
};

/* ---- calibration -------------------------------------------------------------------- */

/* P(at least one positive locus) when locus l is positive with probability k * share_l. */
static double p_any(double k)
{
    double none = 1.0;
    for (int l = 0; l < NS_SIM_GENE_LOCI; l++) none *= 1.0 - k * ns_sim_loci[l].share;
    return 1.0 - none;
}

/* Per-locus positive probabilities giving NS_SIM_GENE_POSITIVE overall: bisection on k
 * (only +, *, / and comparisons: the same bits on every IEEE machine). */
static void calibrate(double p[NS_SIM_GENE_LOCI])
{
    double lo = 0.0, hi = 1.0;
    for (int i = 0; i < 200 && hi - lo > 1e-15; i++) {
        double mid = 0.5 * (lo + hi);
        if (p_any(mid) < NS_SIM_GENE_POSITIVE) lo = mid;
        else hi = mid;
    }
    for (int l = 0; l < NS_SIM_GENE_LOCI; l++) p[l] = lo * ns_sim_loci[l].share;
}

double ns_sim_genes_locus_p(int locus)
{
    double p[NS_SIM_GENE_LOCI];
    calibrate(p);
    return locus >= 0 && locus < NS_SIM_GENE_LOCI ? p[locus] : NAN;
}

int ns_sim_genes_check(char *msg, int len)
{
    double sum = 0;
    for (int l = 0; l < NS_SIM_GENE_LOCI; l++) {
        if (!(ns_sim_loci[l].share > 0 && ns_sim_loci[l].share < 1)) {
            snprintf(msg, (size_t)len, "locus %s: share not in (0, 1)", ns_sim_loci[l].column);
            return -1;
        }
        sum += ns_sim_loci[l].share;
    }
    if (fabs(sum - 1.0) > 1e-9) {
        snprintf(msg, (size_t)len, "locus shares add up to %.6f, not 1", sum);
        return -1;
    }
    double p[NS_SIM_GENE_LOCI], none = 1.0;
    calibrate(p);
    for (int l = 0; l < NS_SIM_GENE_LOCI; l++) none *= 1.0 - p[l];
    if (fabs(1.0 - none - NS_SIM_GENE_POSITIVE) > 1e-9) {
        snprintf(msg, (size_t)len, "calibration missed: %.6f positive", 1.0 - none);
        return -1;
    }
    return 0;
}

/* ---- plates and truth --------------------------------------------------------------- */

int ns_sim_is_gene_plate_name(const char *s)
{
    size_t n = strlen(s), i;
    if (n < 15 || s[0] != 'G' || strcmp(s + n - 4, ".csv") != 0) return 0;
    for (i = 1; i < 9; i++) if (s[i] < '0' || s[i] > '9') return 0;
    if (s[9] != '-') return 0;
    for (i = 10; i < n - 4; i++) if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

static void write_row(FILE *fp, const char *plate_id, const char *well, const char *sid,
                      const char *type, const unsigned char *call, const char *eol)
{
    fprintf(fp, "%s,%s,%s,%s", plate_id, well, sid, type);
    for (int l = 0; l < NS_SIM_GENE_LOCI; l++) fprintf(fp, ",%s", ns_sim_call_name[call[l]]);
    fputs(eol, fp);
}

static int positive(int c)
{
    return c == NS_SIM_HET || c == NS_SIM_HOM || c == NS_SIM_HETEROPLASMIC || c == NS_SIM_HOMOPLASMIC;
}

/* truth-genes.csv rows of one sample: one per gene with a variant (biallelic, carrier,
 * aminoglycoside, uncertain), then one fail row listing the loci that failed. */
static void write_truth(ns_sim_genes_t *g, const gsample_t *x, const char *plate_id, const char *well)
{
    FILE *fp = g->truth->fp;
    char sid[48], iid[32];
    snprintf(sid, sizeof sid, "S%s-%06" PRId64, g->ymd, x->card);
    snprintf(iid, sizeof iid, "I%07" PRId64, x->card);
    for (int k = 0; k < N_GENES; k++) {
        int alleles = 0, any = 0;
        for (int l = 0; l < NS_SIM_GENE_LOCI; l++) {
            if (strcmp(ns_sim_loci[l].gene, gene_names[k]) != 0 || !positive(x->call[l])) continue;
            any = 1;
            alleles += x->call[l] == NS_SIM_HOM ? 2 : 1;
        }
        if (!any) continue;
        const char *cat = strcmp(gene_names[k], "MT-RNR1") == 0 ? "aminoglycoside"
                        : strcmp(gene_names[k], "GJB3") == 0 ? "uncertain"
                        : alleles >= 2 ? "biallelic" : "carrier";
        fprintf(fp, "%s,%s,%s,%s,%s,%s,", sid, iid, plate_id, well, cat, gene_names[k]);
        int first = 1;
        for (int l = 0; l < NS_SIM_GENE_LOCI; l++) {
            if (strcmp(ns_sim_loci[l].gene, gene_names[k]) != 0 || !positive(x->call[l])) continue;
            fprintf(fp, "%s%s=%s", first ? "" : ";", ns_sim_loci[l].column, ns_sim_call_name[x->call[l]]);
            first = 0;
        }
        fputs(g->eol, fp);
    }
    int n_fail = 0;
    const char *fgene = NULL;
    for (int l = 0; l < NS_SIM_GENE_LOCI; l++)
        if (x->call[l] == NS_SIM_FAIL) {
            if (!fgene) fgene = ns_sim_loci[l].gene;
            else if (strcmp(fgene, ns_sim_loci[l].gene) != 0) fgene = "all";
            n_fail++;
        }
    if (n_fail) {
        fprintf(fp, "%s,%s,%s,%s,fail,%s,", sid, iid, plate_id, well, fgene);
        int first = 1;
        for (int l = 0; l < NS_SIM_GENE_LOCI; l++)
            if (x->call[l] == NS_SIM_FAIL) {
                fprintf(fp, "%s%s=fail", first ? "" : ";", ns_sim_loci[l].column);
                first = 0;
            }
        fputs(g->eol, fp);
    }
}

static int flush_plate(ns_sim_genes_t *g)
{
    char plate_id[48], path[4200];
    g->plate_no++;
    snprintf(plate_id, sizeof plate_id, "G%s-%04d", g->ymd, g->plate_no);
    snprintf(path, sizeof path, "%s/genes/%s.csv", g->out, plate_id);
    ns_atomic_t *f = ns_atomic_open(path, 0644);
    if (!f) { ns_error_errno(SUB, "cannot create %s", path); return -1; }
    fputs("plate_id,well,sample_id,sample_type", f->fp);
    for (int l = 0; l < NS_SIM_GENE_LOCI; l++) fprintf(f->fp, ",%s", ns_sim_loci[l].column);
    fputs(g->eol, f->fp);
    int next = 0;
    for (int w = 0; w < WELLS; w++) {
        char well[8], sid[48];
        int row = w % ROWS, col = w / ROWS;   /* column-major */
        snprintf(well, sizeof well, "%c%02d", 'A' + row, col + 1);
        if (w < N_CTL) {
            unsigned char call[NS_SIM_GENE_LOCI];
            for (int l = 0; l < NS_SIM_GENE_LOCI; l++) call[l] = (unsigned char)controls[w].call[l];
            write_row(f->fp, plate_id, controls[w].well, controls[w].sample_id, controls[w].type, call, g->eol);
            continue;
        }
        if (next >= g->n_pat) break;
        const gsample_t *x = &g->pat[next++];
        snprintf(sid, sizeof sid, "S%s-%06" PRId64, g->ymd, x->card);
        write_row(f->fp, plate_id, well, sid, "patient", x->call, g->eol);
        write_truth(g, x, plate_id, well);
    }
    if (ns_atomic_commit(f) != 0) { ns_error_errno(SUB, "cannot write %s", path); return -1; }
    g->n_pat = 0;
    return 0;
}

/* ---- public ------------------------------------------------------------------------- */

ns_sim_genes_t *ns_sim_genes_new(const char *out, const char *ymd, unsigned long seed,
                                 int write, int every, const char *eol)
{
    char msg[256];
    if (ns_sim_genes_check(msg, sizeof msg) < 0) {
        ns_error(SUB, "internal gene tables: %s", msg);
        return NULL;
    }
    ns_sim_genes_t *g = ns_calloc(1, sizeof *g);
    g->eol = eol;
    g->write = write;
    g->n_forced = every ? N_FORCED : 0;
    snprintf(g->out, sizeof g->out, "%s", out);
    snprintf(g->ymd, sizeof g->ymd, "%s", ymd);
    calibrate(g->p);
    g->r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!g->r) {
        ns_error(SUB, "cannot allocate the random number generator");
        free(g);
        return NULL;
    }
    gsl_rng_set(g->r, ns_sim_stream_seed(seed, NS_SIM_STREAM_GENES));
    if (write) {
        char *p = ns_asprintf("%s/truth-genes.csv", out);
        g->truth = ns_atomic_open(p, 0600);
        if (!g->truth) {
            ns_error_errno(SUB, "cannot create %s", p);
            free(p);
            ns_sim_genes_free(g);
            return NULL;
        }
        free(p);
        fprintf(g->truth->fp, "sample_id,infant_id,plate_id,well,category,gene,calls%s", eol);
    }
    return g;
}

int ns_sim_genes_sample(ns_sim_genes_t *g, int64_t card, ns_sim_genotype_t *gt)
{
    gsample_t x = { .card = card };
    unsigned char truecall[NS_SIM_GENE_LOCI] = { 0 };
    if (g->n_forced > 0) {
        int f = N_FORCED - g->n_forced--;
        for (int l = 0; l < NS_SIM_GENE_LOCI; l++) {
            int c = forced[f].call[0] == FAIL_ALL ? NS_SIM_FAIL : forced[f].call[l];
            x.call[l] = (unsigned char)c;
            truecall[l] = (unsigned char)(c == NS_SIM_FAIL ? NS_SIM_WT : c);
        }
    } else {
        /* one uniform per locus, then the fail draw: a fixed number of draws per sample
         * except for the heteroplasmy draw of mitochondrial positives */
        for (int l = 0; l < NS_SIM_GENE_LOCI; l++) {
            double u = gsl_rng_uniform(g->r), p = g->p[l];
            if (ns_sim_loci[l].mito) {
                if (u < p)
                    truecall[l] = gsl_rng_uniform(g->r) < P_HETEROPLASMIC ? NS_SIM_HETEROPLASMIC
                                                                         : NS_SIM_HOMOPLASMIC;
            } else {
                double q = 1.0 - sqrt(1.0 - p);
                truecall[l] = u < q * q ? NS_SIM_HOM : u < p ? NS_SIM_HET : NS_SIM_WT;
            }
            x.call[l] = truecall[l];
        }
        double u = gsl_rng_uniform(g->r);
        if (u < NS_SIM_GENE_FAIL_SAMPLE)
            for (int l = 0; l < NS_SIM_GENE_LOCI; l++) x.call[l] = NS_SIM_FAIL;
        else if (u < NS_SIM_GENE_FAIL_SAMPLE + NS_SIM_GENE_FAIL_LOCUS)
            x.call[gsl_rng_uniform_int(g->r, NS_SIM_GENE_LOCI)] = NS_SIM_FAIL;
    }
    if (gt) {
        gt->gjb2 = gt->slc26a4 = 0;
        for (int l = 0; l < NS_SIM_GENE_LOCI; l++) {
            int a = truecall[l] == NS_SIM_HOM ? 2 : truecall[l] == NS_SIM_HET ? 1 : 0;
            if (strcmp(ns_sim_loci[l].gene, "GJB2") == 0) gt->gjb2 += a;
            else if (strcmp(ns_sim_loci[l].gene, "SLC26A4") == 0) gt->slc26a4 += a;
        }
        if (gt->gjb2 > 2) gt->gjb2 = 2;
        if (gt->slc26a4 > 2) gt->slc26a4 = 2;
    }
    g->n_samples++;
    for (int l = 0; l < NS_SIM_GENE_LOCI; l++)
        if (positive(x.call[l])) { g->n_positive++; break; }
    if (!g->write) return 0;
    g->pat[g->n_pat++] = x;
    return g->n_pat == PER_PLATE ? flush_plate(g) : 0;
}

int ns_sim_genes_finish(ns_sim_genes_t *g)
{
    if (!g->write) return 0;
    if (g->n_pat > 0 && flush_plate(g) < 0) return -1;
    ns_atomic_t *t = g->truth;
    g->truth = NULL;
    char *p = ns_strdup(t->path);
    int ret = ns_atomic_commit(t);
    if (ret != 0) ns_error_errno(SUB, "cannot write %s", p);
    free(p);
    return ret;
}

int64_t ns_sim_genes_n_samples(const ns_sim_genes_t *g) { return g->n_samples; }
int64_t ns_sim_genes_n_positive(const ns_sim_genes_t *g) { return g->n_positive; }
int ns_sim_genes_n_plates(const ns_sim_genes_t *g) { return g->plate_no; }
int ns_sim_genes_n_forced_left(const ns_sim_genes_t *g) { return g->n_forced; }

void ns_sim_genes_free(ns_sim_genes_t *g)
{
    if (!g) return;
    ns_atomic_abort(g->truth);
    if (g->r) gsl_rng_free(g->r);
    free(g);
}
