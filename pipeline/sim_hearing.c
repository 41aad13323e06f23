/* sim_hearing.c — hearing screen records for `neoscreen simulate`; see sim_hearing.h.
 *
 * Sources are DOMAIN.md §7.1: "Jiangxi" = Front Pediatr 2022 (10.3389/fped.2022.1020519),
 * 24,349 newborns, initial refer 7.00 %, refer after rescreen 1.30 %; "Liuzhou" = Front
 * Pediatr 2021;9:734300, 9,506 newborns, 11.4 % and 1.7 %; protocol = the Chinese 2010
 * specification and JCIH 2007/2019 as summarised there.  [K] marks a simulator assumption
 * (DOMAIN has no number for it).
 *
 * One infant:
 *   1. nicu_days: 0 for well babies (manifest nicu = 0).  NICU babies born < 32 w stay
 *      until 36-38 w postmenstrual age [K]; other NICU babies stay 6-28 days with
 *      probability P_NICU_LONG, else 1-5 days [K].  A stay > 5 days needs AABR (JCIH 2007).
 *   2. risk_factors [K]: "NICU>5d" for every stay > 5 days (a JCIH risk indicator);
 *      "ototoxic drugs" for P_OTOTOXIC of those on antibiotics; and, for any baby, family
 *      history 1 %, craniofacial 0.2 %, congenital CMV 0.2 %, hyperbilirubinemia (exchange
 *      transfusion) 0.1 %.  About 5 % of babies have one, mostly the long NICU stays.
 *   3. Initial screen, 48-72 h after birth (China: from 48 h, before discharge).  Well
 *      babies: TEOAE (P_TEOAE) or DPOAE; NICU babies: AABR (JCIH: AABR in the NICU), tested
 *      just before NICU discharge, except that P_NICU_OAE_ONLY of the stays > 5 days get an
 *      OAE screen only and pass — the protocol breach an engine must catch (OAE misses
 *      auditory neuropathy).
 *   4. Refer: P_REFER_WELL (OAE) and P_REFER_NICU (AABR) give ~9.0 % of all babies, between
 *      Jiangxi 7.00 % and Liuzhou 11.4 %.  Of the refers, P_BILATERAL refer in both ears
 *      [K: DOMAIN has no unilateral/bilateral split; unilateral is the more common], the
 *      rest in one ear, left or right alike.  P_NOT_TESTED of the babies have one ear not
 *      tested [K].
 *   5. Rescreen (China: both ears by day 42, for refers and missed ears): P_RESCREEN of
 *      the refers and untested ears [K] have a rescreen record at day 28-42, OAE
 *      (P_RESCREEN_AABR: AABR) for well babies, AABR for NICU babies.  NICU AABR refers
 *      have none: they go straight to diagnostic audiology (JCIH).  A rescreened refer
 *      refers again with P_RESCREEN_REFER, chosen so that rescreen refers are ~1.5 % of all
 *      babies (between Jiangxi 1.30 % and Liuzhou 1.7 %): 0.92 well x 0.085 x 0.90 x 0.21.
 *   6. Genotype [K]: biallelic GJB2 babies (congenital SNHL) refer far more often, biallelic
 *      SLC26A4 (often progressive, passes at birth) somewhat more; carriers like everyone
 *      (Gansu: 83.5 % of carriers passed, DOMAIN §7.2).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_rng.h>
#include "atomic_file.h"
#include "csv.h"
#include "log.h"
#include "sim_hearing.h"
#include "sim_profiles.h"
#include "util.h"

#define SUB "simulate"

#define P_NICU_LONG 0.45         /* [K] NICU stays > 5 days, babies >= 32 w */
#define P_OTOTOXIC 0.40          /* [K] long stays on antibiotics with aminoglycosides */
#define P_TEOAE 0.60             /* [K] well babies by TEOAE, else DPOAE */
#define P_NICU_OAE_ONLY 0.03     /* [K] stays > 5 d screened by OAE only (protocol breach) */
#define P_REFER_WELL 0.085       /* OAE initial refer, well babies (see 4. above) */
#define P_REFER_NICU 0.15        /* [K] AABR initial refer in the NICU (hearing loss ~10x) */
#define P_BILATERAL 0.35         /* [K] share of initial refers in both ears */
#define P_NOT_TESTED 0.005       /* [K] one ear not tested */
#define P_RESCREEN 0.90          /* [K] refers / missed ears with a rescreen record */
#define P_RESCREEN_AABR 0.30     /* [K] well-baby rescreens by AABR, else the same OAE */
#define P_RESCREEN_REFER 0.21    /* rescreened refers referring again (see 5. above) */
#define P_RESCREEN_REFER_MISSED 0.05  /* [K] an ear missed at the initial screen refers */

/* [K] genotype link: initial refer, bilateral share, refer again at rescreen */
static const struct { double refer, bilateral, rescreen; } gene_link[2] = {
    { 0.80, 0.85, 0.90 },    /* GJB2 biallelic */
    { 0.30, 0.70, 0.80 },    /* SLC26A4 biallelic */
};

/* [K] risk indicators drawn for every baby (JCIH 2019 list, synthetic text) */
static const struct { const char *text; double p; } risks[] = {
    { "family history", 0.010 },
    { "craniofacial", 0.002 },
    { "congenital CMV", 0.002 },
    { "hyperbilirubinemia", 0.001 },
};
#define N_RISKS (int)(sizeof risks / sizeof risks[0])

enum { M_TEOAE = 0, M_DPOAE, M_AABR };
static const char *const method_name[] = { "TEOAE", "DPOAE", "AABR" };
enum { E_PASS = 0, E_REFER, E_NT };
static const char *const ear_name[] = { "pass", "refer", "not_tested" };

/* --every-condition: the first well babies and the first NICU babies get these, in order. */
enum { F_NONE = 0, F_UNI, F_BI, F_RS_REFER, F_RS_PASS, F_RISK_PASS, F_NT,   /* well */
       F_NICU_OAE, F_NICU_AABR_REFER };                                     /* NICU */
static const int forced_well[] = { F_UNI, F_BI, F_RS_REFER, F_RS_PASS, F_RISK_PASS, F_NT };
static const int forced_nicu[] = { F_NICU_OAE, F_NICU_AABR_REFER };
#define N_FW (int)(sizeof forced_well / sizeof forced_well[0])
#define N_FN (int)(sizeof forced_nicu / sizeof forced_nicu[0])

typedef struct {
    int rescreen, method, ear[2];   /* ear[0] left, ear[1] right */
    int64_t t;                      /* minutes since the epoch */
} hrec_t;

struct ns_sim_hearing {
    gsl_rng *r;
    const char *eol;
    ns_atomic_t *csv, *truth;
    int next_well, next_nicu, every;
    ns_sim_hearing_stats_t st;
};

static int bern(gsl_rng *r, double p) { return gsl_rng_uniform(r) < p; }

static int n_refer(const hrec_t *x) { return (x->ear[0] == E_REFER) + (x->ear[1] == E_REFER); }
static int n_nt(const hrec_t *x) { return (x->ear[0] == E_NT) + (x->ear[1] == E_NT); }

/* "left", "right" or "both": the ears holding result e */
static const char *ears(const hrec_t *x, int e)
{
    int l = x->ear[0] == e, rr = x->ear[1] == e;
    return l && rr ? "both" : l ? "left" : rr ? "right" : "";
}

static int draw_nicu_days(gsl_rng *r, const ns_sim_baby_t *b)
{
    if (!b->nicu) return 0;
    if (b->ga < 224) return (252 - b->ga) + (int)gsl_rng_uniform_int(r, 15);   /* to 36-38 w PMA */
    if (bern(r, P_NICU_LONG)) return 6 + (int)gsl_rng_uniform_int(r, 23);      /* 6-28 d */
    return 1 + (int)gsl_rng_uniform_int(r, 5);                                 /* 1-5 d */
}

static void add_risk(char *buf, size_t len, const char *text)
{
    size_t n = strlen(buf);
    snprintf(buf + n, len - n, "%s%s", n ? ";" : "", text);
}

/* Initial test time: 48-72 h after birth; NICU babies just before NICU discharge. */
static int64_t initial_time(gsl_rng *r, const ns_sim_baby_t *b, int nicu_days)
{
    int64_t t = 48 * 60 + (int64_t)gsl_rng_uniform_int(r, 24 * 60 + 1);
    if (nicu_days > 0) {
        int64_t d = (int64_t)nicu_days * 1440 - (int64_t)gsl_rng_uniform_int(r, 24 * 60);
        if (d > t) t = d;
    }
    return b->birth_min + t;
}

/* Rescreen time: day 28-42, and at least a week after the initial screen. */
static int64_t rescreen_time(gsl_rng *r, const ns_sim_baby_t *b, int64_t t_init)
{
    int64_t t = b->birth_min + 28 * 1440 + (int64_t)gsl_rng_uniform_int(r, 14 * 1440 + 1);
    if (t < t_init + 7 * 1440) t = t_init + 7 * 1440 + (int64_t)gsl_rng_uniform_int(r, 7 * 1440);
    return t;
}

static void write_rec(ns_sim_hearing_t *h, int64_t card, const hrec_t *x, int nicu_days, const char *risk)
{
    char t[32];
    FILE *fp = h->csv->fp;
    ns_sim_iso_minute(x->t, t, sizeof t);
    fprintf(fp, "I%07" PRId64 ",%s,%s,%s,%s,%s,%d,", card, t, x->rescreen ? "rescreen" : "initial",
            method_name[x->method], ear_name[x->ear[0]], ear_name[x->ear[1]], nicu_days);
    ns_csv_field(fp, risk);
    fputs(h->eol, fp);
}

static void truth_row(ns_sim_hearing_t *h, int64_t card, const char *kase, const char *which,
                      int method, const char *expected, const char *detail)
{
    FILE *fp = h->truth->fp;
    fprintf(fp, "I%07" PRId64 ",%s,%s,%s,%s,", card, kase, which, method_name[method], expected);
    ns_csv_field(fp, detail);
    fputs(h->eol, fp);
}

/* truth-hearing.csv rows of one infant, derived from the records as written. */
static void write_truth(ns_sim_hearing_t *h, const ns_sim_baby_t *b, const hrec_t *rec, int n_rec,
                        int nicu_days, const char *risk)
{
    const hrec_t *in = &rec[0];
    int r = n_refer(in);
    if (r > 0 && b->nicu && in->method == M_AABR)
        truth_row(h, b->card, "nicu_aabr_refer", ears(in, E_REFER), in->method, "audiology_referral", "");
    else if (r == 1)
        truth_row(h, b->card, "initial_refer_unilateral", ears(in, E_REFER), in->method, "rescreen", "");
    else if (r == 2)
        truth_row(h, b->card, "initial_refer_bilateral", "both", in->method, "rescreen", "");
    if (n_nt(in))
        truth_row(h, b->card, "not_tested", ears(in, E_NT), in->method, "rescreen", "");
    int aabr = 0;
    for (int k = 0; k < n_rec; k++) aabr |= rec[k].method == M_AABR;
    if (nicu_days > 5 && !aabr)
        truth_row(h, b->card, "nicu_oae_only", "both", in->method, "aabr_required", "");
    if (n_rec > 1) {
        const hrec_t *rs = &rec[1];
        if (n_refer(rs))
            truth_row(h, b->card, "rescreen_refer", ears(rs, E_REFER), rs->method, "audiology_referral", "");
        else
            truth_row(h, b->card, "rescreen_pass", "", rs->method, "none", "");
    }
    if (*risk) {
        const hrec_t *last = &rec[n_rec - 1];
        int pass = last->ear[0] == E_PASS && last->ear[1] == E_PASS;
        truth_row(h, b->card, pass ? "risk_factors_pass" : "risk_factors", "", last->method,
                  "surveillance", risk);
    }
}

ns_sim_hearing_t *ns_sim_hearing_new(const char *out, unsigned long seed, int every, const char *eol)
{
    ns_sim_hearing_t *h = ns_calloc(1, sizeof *h);
    h->eol = eol;
    h->every = every;
    h->r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!h->r) {
        ns_error(SUB, "cannot allocate the random number generator");
        free(h);
        return NULL;
    }
    gsl_rng_set(h->r, ns_sim_stream_seed(seed, NS_SIM_STREAM_HEARING));
    char *p = ns_asprintf("%s/hearing.csv", out), *q = ns_asprintf("%s/truth-hearing.csv", out);
    h->csv = ns_atomic_open(p, 0600);
    if (h->csv) h->truth = ns_atomic_open(q, 0600);
    if (!h->csv || !h->truth) {
        ns_error_errno(SUB, "cannot create %s", h->csv ? q : p);
        free(p);
        free(q);
        ns_sim_hearing_free(h);
        return NULL;
    }
    free(p);
    free(q);
    fprintf(h->csv->fp, "infant_id,test_time,stage,method,left,right,nicu_days,risk_factors%s", eol);
    fprintf(h->truth->fp, "infant_id,case,ears,method,expected,detail%s", eol);
    return h;
}

int ns_sim_hearing_infant(ns_sim_hearing_t *h, const ns_sim_baby_t *b)
{
    gsl_rng *r = h->r;
    int f = F_NONE;
    if (h->every) {
        if (!b->nicu && h->next_well < N_FW) f = forced_well[h->next_well++];
        else if (b->nicu && h->next_nicu < N_FN) f = forced_nicu[h->next_nicu++];
    }

    /* 1-2: NICU stay and risk factors */
    int nicu_days = draw_nicu_days(r, b);
    if (f == F_NICU_OAE && nicu_days <= 5) nicu_days = 6 + (int)gsl_rng_uniform_int(r, 9);
    char risk[160] = "";
    if (nicu_days > 5) add_risk(risk, sizeof risk, "NICU>5d");
    if (f == F_NONE) {
        if (nicu_days > 5 && b->antibiotics && bern(r, P_OTOTOXIC)) add_risk(risk, sizeof risk, "ototoxic drugs");
        for (int k = 0; k < N_RISKS; k++)
            if (bern(r, risks[k].p)) add_risk(risk, sizeof risk, risks[k].text);
    } else if (f == F_RISK_PASS) {
        add_risk(risk, sizeof risk, "family history");
    }

    /* 3-4: initial screen */
    hrec_t rec[2];
    memset(rec, 0, sizeof rec);
    hrec_t *in = &rec[0];
    int oae = bern(r, P_TEOAE) ? M_TEOAE : M_DPOAE;
    double p_refer = P_REFER_WELL, p_bi = P_BILATERAL, p_rr = P_RESCREEN_REFER;
    const ns_sim_genotype_t *gt = b->gt;
    int link = gt && gt->gjb2 >= 2 ? 0 : gt && gt->slc26a4 >= 2 ? 1 : -1;
    if (link >= 0) {
        p_refer = gene_link[link].refer;
        p_bi = gene_link[link].bilateral;
        p_rr = gene_link[link].rescreen;
    }
    int rescreen = 0, rs_refer = 0;
    switch (f) {
    case F_NONE:
        if (b->nicu && nicu_days > 5 && bern(r, P_NICU_OAE_ONLY)) {
            in->method = oae;     /* OAE only, passed: the protocol breach */
            break;
        }
        in->method = b->nicu ? M_AABR : oae;
        if (b->nicu && link < 0) p_refer = P_REFER_NICU;
        if (bern(r, p_refer)) {
            if (bern(r, p_bi)) in->ear[0] = in->ear[1] = E_REFER;
            else in->ear[gsl_rng_uniform_int(r, 2)] = E_REFER;
        }
        if (bern(r, P_NOT_TESTED)) in->ear[gsl_rng_uniform_int(r, 2)] = E_NT;
        break;
    case F_UNI: in->method = oae; in->ear[1] = E_REFER; break;
    case F_BI: in->method = oae; in->ear[0] = in->ear[1] = E_REFER; break;
    case F_RS_REFER: in->method = oae; in->ear[0] = E_REFER; rescreen = 1; rs_refer = 1; break;
    case F_RS_PASS: in->method = oae; in->ear[0] = in->ear[1] = E_REFER; rescreen = 1; break;
    case F_RISK_PASS: in->method = oae; break;
    case F_NT: in->method = oae; in->ear[0] = E_NT; break;
    case F_NICU_OAE: in->method = oae; break;
    case F_NICU_AABR_REFER: in->method = M_AABR; in->ear[1] = E_REFER; break;
    }
    in->t = initial_time(r, b, nicu_days);

    /* 5: rescreen of refers and missed ears, except NICU AABR refers (direct referral) */
    int direct = b->nicu && in->method == M_AABR && n_refer(in) > 0;
    if (f == F_NONE && !direct && (n_refer(in) || n_nt(in)) && bern(r, P_RESCREEN)) {
        rescreen = 1;
        rs_refer = n_refer(in) ? bern(r, p_rr) : -1;   /* -1: missed ears drawn per ear below */
    }
    int n_rec = 1;
    if (rescreen) {
        hrec_t *rs = &rec[n_rec++];
        rs->rescreen = 1;
        rs->method = b->nicu ? M_AABR : f == F_NONE && bern(r, P_RESCREEN_AABR) ? M_AABR : in->method;
        if (rs_refer == 1) {
            if (n_refer(in) == 2) {   /* both again, or one of the two */
                if (bern(r, 0.5)) rs->ear[0] = rs->ear[1] = E_REFER;
                else rs->ear[gsl_rng_uniform_int(r, 2)] = E_REFER;
            } else {
                rs->ear[in->ear[0] == E_REFER ? 0 : 1] = E_REFER;
            }
        }
        if (f == F_NONE)   /* an ear missed at the initial screen is tested now */
            for (int e = 0; e < 2; e++)
                if (in->ear[e] == E_NT && bern(r, P_RESCREEN_REFER_MISSED)) rs->ear[e] = E_REFER;
        rs->t = rescreen_time(r, b, in->t);
    }

    for (int k = 0; k < n_rec; k++) write_rec(h, b->card, &rec[k], nicu_days, risk);
    write_truth(h, b, rec, n_rec, nicu_days, risk);

    h->st.infants++;
    h->st.initial_refer += n_refer(in) > 0;
    h->st.rescreens += n_rec > 1;
    h->st.rescreen_refer += n_rec > 1 && n_refer(&rec[1]) > 0;
    h->st.nicu += b->nicu != 0;
    h->st.risk += *risk != 0;
    return 0;
}

int ns_sim_hearing_finish(ns_sim_hearing_t *h)
{
    ns_atomic_t *files[2] = { h->truth, h->csv };
    h->truth = h->csv = NULL;
    int ret = 0;
    for (int k = 0; k < 2; k++) {
        if (ret != 0) { ns_atomic_abort(files[k]); continue; }
        char *p = ns_strdup(files[k]->path);
        if (ns_atomic_commit(files[k]) != 0) {
            ns_error_errno(SUB, "cannot write %s", p);
            ret = -1;
        }
        free(p);
    }
    return ret;
}

ns_sim_hearing_stats_t ns_sim_hearing_stats(const ns_sim_hearing_t *h)
{
    ns_sim_hearing_stats_t s = h->st;
    s.forced_left = h->every ? (N_FW - h->next_well) + (N_FN - h->next_nicu) : 0;
    return s;
}

void ns_sim_hearing_free(ns_sim_hearing_t *h)
{
    if (!h) return;
    ns_atomic_abort(h->csv);
    ns_atomic_abort(h->truth);
    if (h->r) gsl_rng_free(h->r);
    free(h);
}
