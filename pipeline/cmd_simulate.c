/* cmd_simulate.c — `neoscreen simulate`: write a synthetic night of DBS MS/MS plates.
 *
 * Tests, demos and benchmarks need nights that look real but hold no real baby: plates in
 * the instrument layout, a LIMS manifest with awkward text (commas, quotes, Chinese), a
 * known set of injected disease cases (truth.csv) to score the calls against, and the
 * usual mess of a real night (early and late collections, preterm and TPN babies, cards
 * logged but not plated, wells without a manifest row), and the hearing screen records and
 * deafness-gene plates that come with it.  The biology lives in sim_profiles.c, the
 * hearing records in sim_hearing.c, the gene plates in sim_genes.c (each on its own random
 * stream, so neither moves a value of the MS/MS night); this file is the machinery:
 *
 *   - one GSL Mersenne Twister seeded once, drawn in a fixed order, numbers printed in the
 *     C locale: the same arguments give byte-identical files;
 *   - streaming: cards are generated one at a time and plates written as soon as they
 *     fill, so memory is one plate whatever the number of samples;
 *   - the kinds of card (case, unmatched, unplated, plain) are placed by selection
 *     sampling (Knuth's Algorithm S): exact counts, uniform positions, no list of N;
 *   - every file is written atomically; manifest and truth hold personal data (0600);
 *   - the plate layout and the control lots come from a QC config (configs/qc.yaml, the
 *     same file `run` judges the plates with), so the simulator never disagrees with the
 *     lab's plate map; --qc-shift moves a control off target to exercise the Westgard
 *     rules without changing any other draw of the night.
 *
 * Everything here is synthetic: hospitals, names and phone numbers are invented (phone
 * numbers use the +86 10x prefix, which is not a mobile range, so no real person can be
 * dialled).
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include "atomic_file.h"
#include "cmds.h"
#include "csv.h"
#include "log.h"
#include "batch.h"
#include "panel.h"
#include "qc_config.h"
#include "sim_genes.h"
#include "sim_hearing.h"
#include "sim_profiles.h"
#include "util.h"

#define SUB "simulate"
#define N_AN NS_SIM_N_ANALYTES
#define LINE_MAX_LEN 4096
#define DEFAULT_PANEL "configs/panel-default.yaml"
#define DEFAULT_QC "configs/qc.yaml"

/* sample_type labels, indexed by NS_TYPE_* (batch.h) */
static const char *const type_name[] = { "patient", "qc_low", "qc_high", "blank" };

/* Control and blank wells come from the QC config's plate map (positions are local
 * practice, DOMAIN §5.3: no standard found).  Wells the map leaves out hold patients,
 * filled column-major (A01, B01, ..., H01, A02, ...).  A control well reads its level's
 * target mean with the simulated instrument's imprecision (CV NS_SIM_QC_CV; the config's
 * SD is the lab's acceptance SD, used only to scale --qc-shift) for every analyte with a
 * target; an analyte without a
 * target on that level reads the simulator's own synthetic material (the normal median,
 * times NS_SIM_QC_HIGH_FOLD for qc_high, CV NS_SIM_QC_CV), so every column is filled and
 * the random draws do not depend on which targets the file lists. */

/* --qc-shift LEVEL:ANALYTE:SDS[:PLATE], as given and as resolved against the panel */
typedef struct {
    const char *arg;
    int level;               /* 0 qc_low, 1 qc_high */
    int analyte;             /* simulator analyte index */
    double sds;              /* target SDs added */
    int plate;               /* 1-based plate number; 0 = every plate */
} shift_t;

/* Age at collection for initial cards, hours [K]: a blend of US practice (24-48 h) and
 * Chinese practice (>= 72 h, before day 7) (DOMAIN §2.1), with an early group as in
 * California (12-23 h: 21.7 % there, Peng 2021; fewer here).  Repeat cards (~2 %) are
 * collected at 7-19 days [K], inside the day-20 limit. */
static const struct { double p, lo, hi; } age_mix[] = {
    { 0.02, 12.0, 24.0 },    /* early: reads high for Phe, Met, C0, C3, C5; a programme that
                                enforces a 24 h minimum (configs/panel-default.yaml) sees
                                few -- California, which does not, had 21.7 % (Peng 2021) */
    { 0.73, 24.0, 72.0 },    /* standard (US window, into the China minimum) */
    { 0.25, 72.0, 168.0 },   /* China: >= 72 h, before day 7 */
};
#define P_REPEAT 0.02        /* [K] repeat cards; UK standard for avoidable repeats <= 2 % (DOMAIN §2.3) */
#define P_PRETERM 0.08       /* [K] ~8 % preterm (< 37 w) */
#define P_FEMALE 0.48        /* [K] sex ratio at birth ~1.08 (China) */

/* Median birth weight (g) by gestational age (weeks) [K], Fenton-like curve; BW is
 * log-normal around it with log-SD 0.12 [K]. */
static const double bw_curve[][2] = {
    { 24, 650 }, { 26, 850 }, { 28, 1100 }, { 30, 1450 }, { 32, 1800 }, { 34, 2300 },
    { 36, 2750 }, { 38, 3150 }, { 40, 3450 }, { 42, 3650 },
};

/* Fictional hospitals (one with a comma, one with quotes, Chinese names in UTF-8, to
 * exercise CSV quoting and encodings) and their share of cards [K]. */
static const struct { const char *name; double w; } hospitals[] = {
    { "Riverside Maternity Hospital", 0.22 },
    { "St. Aurelia Women's and Children's Hospital, East Campus", 0.18 },
    { "青岚市妇幼保健院", 0.20 },
    { "Lakeview General Hospital", 0.12 },
    { "Harbour \"Lighthouse\" Birth Centre", 0.08 },
    { "云溪县人民医院", 0.12 },
    { "Northgate Community Hospital", 0.08 },
};
#define N_HOSP (int)(sizeof hospitals / sizeof hospitals[0])

static const char *const surname_py[] = {
    "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu",
    "Sun", "Ma", "Zhu", "Hu", "Guo", "He", "Lin", "Luo", "Gao", "Ouyang",
};
static const char *const given_py[] = {
    "Fang", "Na", "Min", "Jing", "Li", "Xiuying", "Yan", "Hui", "Ting", "Xue", "Mei",
    "Lan", "Qian", "Yuxin", "Xiaohong", "Lingling", "Jia", "Shan", "Wen", "Yun",
};
static const char *const surname_zh[] = {
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "欧阳",
};
static const char *const given_zh[] = {
    "芳", "娜", "敏", "静", "丽", "秀英", "艳", "慧", "婷", "雪", "梅", "兰", "倩", "雨欣",
};
#define NELEM(x) (int)(sizeof(x) / sizeof((x)[0]))

enum { FEED_BREAST = 0, FEED_FORMULA, FEED_MIXED, FEED_TPN };
static const char *const feed_name[] = { "breast", "formula", "mixed", "tpn" };

/* Kinds of card, placed by selection sampling. */
enum { K_PLAIN = 0, K_CASE, K_UNMATCHED, K_UNPLATED };

typedef struct {
    const char *out;
    int64_t n, cases, unmatched, unplated;
    int64_t first_case;      /* --first-case: the round robin of conditions starts here */
    unsigned long seed;
    int year, month, day;
    char ymd[9];             /* "20261122" */
    int cases_set, every, vendor, crlf, force;
    int hearing, genes;      /* write hearing.csv (default on), genes/ (--genes) */
    const char *panel_path, *qc_path;   /* NULL: the defaults (see ns_config_path()) */
    shift_t *shift;
    int n_shift;
} opts_t;

/* One card's infant and collection. */
typedef struct {
    int repeat, female, ga, bw, nicu, tpn, feeding, transfusion, antibiotics, hospital;
    double age_h, tpn_intensity;
    int64_t birth_min, coll_min;   /* minutes since 1970-01-01T00:00 (no time zone) */
} demo_t;

/* One patient well waiting for its plate. */
typedef struct {
    int64_t card;            /* 1-based card number: S<date>-<card>, I<card> */
    int cond;                /* index into ns_sim_conds, -1 = none */
    double v[N_AN];
} patient_t;

typedef struct {
    const opts_t *o;
    gsl_rng *r;
    const char *eol;
    /* per-analyte constants of the normal model */
    double logmed[N_AN], own_g[N_AN], own_e[N_AN];
    double shift[NS_SIM_COV_N][N_AN];    /* log shift per covariate */
    /* plate layout and control lots (from the QC config) */
    const ns_qc_config_t *qc;
    int rows, cols, wells;
    double qmean[NS_QC_LEVELS][N_AN], qsd[NS_QC_LEVELS][N_AN];  /* NAN: no target */
    int per_plate;                       /* patient wells per plate */
    /* the plate being filled */
    patient_t *pat;
    int n_pat;
    int plate_no;
    char plates_dir[4096];
    ns_atomic_t *manifest, *truth;
    ns_sim_hearing_t *hearing;           /* NULL with --no-hearing */
    ns_sim_genes_t *genes;               /* NULL when neither hearing nor --genes needs it */
    int64_t n_cases_written;
} sim_t;

/* ---- small helpers ---------------------------------------------------------------- */

static void usage(FILE *fp)
{
    fputs(
"Usage: neoscreen simulate -o DIR [options]\n"
"\n"
"Write a synthetic, reproducible night of dried-blood-spot MS/MS plates:\n"
"DIR/plates/<plate_id>.csv, DIR/manifest.csv and DIR/truth.csv (injected cases),\n"
"the hearing screen records DIR/hearing.csv (truth: DIR/truth-hearing.csv) and, with\n"
"--genes, deafness-gene plates DIR/genes/<plate_id>.csv (truth: DIR/truth-genes.csv).\n"
"Synthetic data only: no real infant, name, hospital or phone number.\n"
"\n"
"Options:\n"
"  -o, --out DIR         night directory to create (refused if DIR/plates or DIR/genes\n"
"                        is not empty)\n"
"      --force           write into a non-empty DIR/plates or DIR/genes, removing their\n"
"                        old plate files (P20261122-0001.csv, G20261122-0001.csv) and a\n"
"                        hearing.csv or truth-genes.csv this night would not rewrite\n"
"  -n, --samples N       patient samples (plated cards) [1000]\n"
"  -s, --seed N          random seed, 0..4294967295 [1]; same arguments, same bytes\n"
"      --night DATE      collection night YYYY-MM-DD [2026-11-22]\n"
"      --cases N         inject N disease cases, conditions round-robin in list order\n"
"                        [round(samples * 0.0005)]\n",
          fp);
    fprintf(fp,
"      --first-case K    the round robin of injected conditions starts at the K-th\n"
"                        condition (0-based, taken modulo the list) [0]: a series of\n"
"                        nights with a few cases each covers every condition\n"
"      --every-condition at least one case of each of the %d conditions, and of each\n"
"                        hearing and gene case type (the first infants get them)\n"
"      --no-hearing      no hearing.csv / truth-hearing.csv\n"
"      --genes           write deafness-gene plates (9 loci; 96 wells: A01 wt_control,\n"
"                        B01 pos_control, C01 blank) for the punched initial cards\n"
"      --profiles        print each analyte's normal-population median and log-SD (the\n"
"                        model of a baby with no covariate shift, sim_profiles.h) as CSV\n"
"                        and exit; no -o needed\n"
"      --unmatched K     K patient wells whose sample_id has no manifest row [0]\n"
"      --unplated K      K manifest rows with no well [0]\n"
"      --vendor-headers  vendor column names: Leu, SA, FC, C51 for Xle, SUAC, C0, C5:1\n"
"      --crlf            CRLF line endings\n"
"      --panel FILE      panel config, for analyte names and the plate size\n"
"                        [./%s, else the copy in the source tree]\n"
"      --qc FILE         QC config: plate map, control lots and their targets\n"
"                        [./%s, else the copy in the source tree]\n"
"      --qc-shift LEVEL:ANALYTE:SDS[:PLATE]\n"
"                        move control LEVEL (qc_low or qc_high) of ANALYTE (a panel name\n"
"                        or alias) by SDS target SDs (may be negative or fractional), on\n"
"                        every plate or only on plate number PLATE (1-based); repeatable,\n"
"                        shifts add up.  E.g. qc_high:C3:4:2 puts plate 2's high control\n"
"                        4 SD high on C3.  No other value of the night changes.  Names\n"
"                        with ':' are fine (qc_low:C5:1:3:2); one that reads two ways\n"
"                        (qc_low:C5:1:3: C5:1 at 3 SD, or C5 at 1 SD on plate 3) is\n"
"                        refused: write SDS with a decimal point (3.0 or 1.0)\n"
"  -v, --verbosity N     0 errors only, 1 progress (default)\n"
"  -h, --help            this text\n"
"\n"
"Plates: the panel's plate size (96 wells in the default panel).  Controls and blanks\n"
"sit in the wells of the QC plate map (shipped configs/qc.yaml: A01 qc_low, B01 qc_high,\n"
"C01 blank); every other well holds a patient, filled column-major.  A control well reads\n"
"its lot's target mean + N(0, target SD) per analyte (never below 0.001), with the lot id\n"
"as sample_id; an analyte without a target on that level reads the simulator's own\n"
"material (normal median, x%g for qc_high, CV %g %%).\n"
"Hearing: one initial record per infant of the manifest (48-72 h; NICU babies by AABR\n"
"before NICU discharge), ~9 %% initial refer, rescreen records (day 28-42) for ~90 %% of\n"
"refers and missed ears, ~1.5 %% rescreen refer.  Genes: ~4.8 %% of babies with a variant.\n"
"Hearing and gene draws use their own random streams: plates, manifest and truth.csv are\n"
"the same with or without them.\n"
"Conditions:",
            ns_sim_n_conds, DEFAULT_PANEL, DEFAULT_QC, NS_SIM_QC_HIGH_FOLD, 100 * NS_SIM_QC_CV);
    for (int c = 0; c < ns_sim_n_conds; c++)
        fprintf(fp, "%s%s", c % 12 == 0 ? "\n  " : " ", ns_sim_conds[c].code);
    fputs("\n", fp);
}

static int parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

static int parse_night(const char *s, opts_t *o)
{
    int y, m, d, yy, mm, dd, n = 0;
    if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10)
        return -1;
    if (y < 1900 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31) return -1;
    ns_sim_civil_from_days(ns_sim_days_from_civil(y, m, d), &yy, &mm, &dd);
    if (yy != y || mm != m || dd != d) return -1;   /* e.g. 2026-02-30 */
    o->year = y, o->month = m, o->day = d;
    snprintf(o->ymd, sizeof o->ymd, "%04d%02d%02d", y, m, d);
    return 0;
}

static double uniform(gsl_rng *r, double lo, double hi)
{
    return lo + (hi - lo) * gsl_rng_uniform(r);
}

static double log_uniform(gsl_rng *r, double lo, double hi)
{
    return exp(uniform(r, log(lo), log(hi)));
}

static int bernoulli(gsl_rng *r, double p) { return gsl_rng_uniform(r) < p; }

/* A printable analyte value: exactly what "%.4g" prints in the C locale (the program
 * never calls setlocale, so the decimal point is '.'), without printf's cost, which
 * otherwise dominates a million-sample run.  Values are floored at 0.001 umol/L (below any
 * reporting limit [K]); values >= 9999.5 print as integers, not in exponent form.  Near a
 * rounding tie the digits come from snprintf itself, so the output never depends on the
 * rounding error of the scaling below. */
static void fmt_value(double v, char *buf, size_t len)
{
    static const double p10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6 };
    if (!(v >= 0.001)) v = 0.001;
    if (v >= 9999.5) { snprintf(buf, len, "%.0f", v); return; }
    int e = 3;                                   /* 10^e <= v < 10^(e+1), e in -3..3 */
    while (e > -3 && v < p10[e + 3] / 1e3) e--;
    double scaled = v * p10[3 - e];              /* [1000, 10000) */
    double whole = floor(scaled), frac = scaled - whole;
    if (fabs(frac - 0.5) < 1e-6 || whole < 1000.0 || whole > 9999.0) {
        snprintf(buf, len, "%.4g", v);
        return;
    }
    long m = (long)whole + (frac > 0.5);
    if (m == 10000) m = 1000, e++;               /* e.g. 0.99996 -> 1 */
    char d[4];
    for (int i = 3; i >= 0; i--) d[i] = (char)('0' + m % 10), m /= 10;
    char *p = buf;
    int nint = e >= 0 ? e + 1 : 0;               /* digits before the point */
    if (nint == 0) *p++ = '0';
    for (int i = 0; i < nint; i++) *p++ = d[i];
    int last = 3;                                /* drop trailing zeros of the fraction */
    while (last >= nint && d[last] == '0') last--;
    if (last >= nint) {
        *p++ = '.';
        for (int i = 0; i < -e - 1; i++) *p++ = '0';
        for (int i = nint; i <= last; i++) *p++ = d[i];
    }
    *p = 0;
}

/* ---- the normal model ------------------------------------------------------------- */

typedef struct { sim_t *s; int cov; double add_sd, add_log; } shift_ctx_t;

static void add_shift(int a, void *arg)
{
    shift_ctx_t *c = arg;
    c->s->shift[c->cov][a] += c->add_sd * ns_sim_analytes[a].log_sd + c->add_log;
}

static int model_init(sim_t *s)
{
    char msg[256];
    if (ns_sim_profiles_check(msg, sizeof msg) < 0) {
        ns_error(SUB, "internal profile tables: %s", msg);
        return -1;
    }
    for (int a = 0; a < N_AN; a++) {
        const ns_sim_analyte_t *x = &ns_sim_analytes[a];
        double own = sqrt(x->log_sd * x->log_sd - NS_SIM_SPOT_SD * NS_SIM_SPOT_SD);
        s->logmed[a] = log(x->median);
        s->own_g[a] = x->group == NS_SIM_G_NONE ? 0.0 : own * sqrt(x->load);
        s->own_e[a] = x->group == NS_SIM_G_NONE ? own : own * sqrt(1.0 - x->load);
    }
    memset(s->shift, 0, sizeof s->shift);
    for (int i = 0; i < ns_sim_n_effects; i++) {
        const ns_sim_effect_t *e = &ns_sim_effects[i];
        shift_ctx_t c = { s, e->cov, e->d, log(e->fold) };
        ns_sim_for_each(e->analytes, add_shift, &c);   /* checked above */
    }
    return 0;
}

static void draw_demo(sim_t *s, demo_t *d, int64_t night_min)
{
    gsl_rng *r = s->r;
    memset(d, 0, sizeof *d);
    d->repeat = bernoulli(r, P_REPEAT);
    d->female = bernoulli(r, P_FEMALE);

    /* gestational age, days: term N(278, 9) within 259-300; preterm mostly late preterm [K] */
    if (bernoulli(r, P_PRETERM)) {
        double u = gsl_rng_uniform(r);
        d->ga = u < 0.70 ? (int)uniform(r, 238, 259)     /* 34-36 w */
              : u < 0.90 ? (int)uniform(r, 224, 238)     /* 32-33 w */
              : (int)uniform(r, 168, 224);               /* 24-31 w */
    } else {
        double g;
        do g = 278.0 + gsl_ran_gaussian_ziggurat(r, 9.0); while (g < 259.0 || g > 300.0);
        d->ga = (int)lround(g);
    }
    /* birth weight, correlated with GA through the growth curve */
    double wk = d->ga / 7.0, med = bw_curve[0][1];
    int nb = NELEM(bw_curve);
    if (wk >= bw_curve[nb - 1][0]) med = bw_curve[nb - 1][1];
    for (int i = 0; i + 1 < nb; i++)
        if (wk >= bw_curve[i][0] && wk < bw_curve[i + 1][0]) {
            double f = (wk - bw_curve[i][0]) / (bw_curve[i + 1][0] - bw_curve[i][0]);
            med = bw_curve[i][1] + f * (bw_curve[i + 1][1] - bw_curve[i][1]);
        }
    double bw = med * (d->female ? 0.97 : 1.03) * exp(gsl_ran_gaussian_ziggurat(r, 0.12));
    d->bw = 10 * (int)lround(fmin(5500.0, fmax(400.0, bw)) / 10.0);

    /* NICU, TPN (~2 %, mostly preterm/NICU), transfusion, antibiotics [K] */
    d->nicu = d->ga < 224 ? 1 : d->ga < 259 ? bernoulli(r, 0.35)
            : bernoulli(r, d->bw < 2500 ? 0.15 : 0.04);
    d->tpn = d->nicu && bernoulli(r, d->ga < 224 ? 0.80 : d->ga < 259 ? 0.25 : 0.12);
    d->tpn_intensity = d->tpn ? uniform(r, 0.5, 1.0) : 0.0;
    if (d->tpn) d->feeding = FEED_TPN;
    else {
        double u = gsl_rng_uniform(r);   /* [K] breast 55 %, formula 20 %, mixed 25 % */
        d->feeding = u < 0.55 ? FEED_BREAST : u < 0.75 ? FEED_FORMULA : FEED_MIXED;
    }
    d->transfusion = bernoulli(r, d->ga < 224 ? 0.30 : d->nicu ? 0.03 : 0.001);
    d->antibiotics = bernoulli(r, d->nicu ? 0.50 : 0.03);

    /* age at collection and the two timestamps */
    if (d->repeat) d->age_h = uniform(r, 168.0, 456.0);   /* day 7-19, inside day 20 (DOMAIN §2.1) */
    else {
        double u = gsl_rng_uniform(r), acc = 0;
        int k = 0;
        for (; k < NELEM(age_mix) - 1; k++) if (u < (acc += age_mix[k].p)) break;
        d->age_h = uniform(r, age_mix[k].lo, age_mix[k].hi);
    }
    /* cards reach the lab 12 h to 5 days after collection [K] (China: within 5 working days,
     * DOMAIN §2.1) */
    d->coll_min = night_min - (int64_t)uniform(r, 12 * 60, 5 * 24 * 60);
    d->birth_min = d->coll_min - (int64_t)lround(d->age_h * 60.0);
    d->age_h = (double)(d->coll_min - d->birth_min) / 60.0;   /* as the pipeline derives it */

    double u = gsl_rng_uniform(r), acc = 0;
    d->hospital = N_HOSP - 1;
    for (int i = 0; i < N_HOSP; i++) if (u < (acc += hospitals[i].w)) { d->hospital = i; break; }
}

static void draw_analytes(sim_t *s, const demo_t *d, double *v)
{
    gsl_rng *r = s->r;
    double g[NS_SIM_G_N];
    double spot = gsl_ran_gaussian_ziggurat(r, NS_SIM_SPOT_SD);
    for (int k = 0; k < NS_SIM_G_N; k++) g[k] = gsl_ran_gaussian_ziggurat(r, 1.0);
    double w_pre = d->ga < 259 ? (d->bw < 1500 ? 2.0 : 1.0) : 0.0;
    for (int a = 0; a < N_AN; a++) {
        double lx = s->logmed[a] + spot + s->own_g[a] * g[ns_sim_analytes[a].group]
                  + s->own_e[a] * gsl_ran_gaussian_ziggurat(r, 1.0);
        if (d->age_h < 24.0) lx += s->shift[NS_SIM_COV_EARLY][a];
        if (d->age_h > 48.0) lx += s->shift[NS_SIM_COV_LATE][a];
        lx += w_pre * s->shift[NS_SIM_COV_PRETERM][a];
        lx += d->tpn_intensity * s->shift[NS_SIM_COV_TPN][a];
        lx += s->shift[d->female ? NS_SIM_COV_FEMALE : NS_SIM_COV_MALE][a];
        v[a] = exp(lx);
    }
}

/* ---- disease injection ------------------------------------------------------------ */

typedef struct { sim_t *s; const ns_sim_marker_t *m; double *v, fold; int ref; } mark_ctx_t;

static void apply_marker(int a, void *arg)
{
    mark_ctx_t *c = arg;
    const ns_sim_marker_t *m = c->m;
    gsl_rng *r = c->s->r;
    switch (m->mode) {
    case NS_SIM_ABS:  c->v[a] = log_uniform(r, m->lo, m->hi); break;
    case NS_SIM_FOLD: c->v[a] *= c->fold; break;
    case NS_SIM_REL:  c->v[a] = c->v[c->ref] * log_uniform(r, m->lo, m->hi); break;
    case NS_SIM_LOGN: {
        double sd = log(m->hi / m->lo) / 4.0, x;
        do x = m->median * exp(gsl_ran_gaussian_ziggurat(r, sd)); while (x < m->lo || x > m->hi);
        c->v[a] = x;
        break;
    }
    }
}

static void inject(sim_t *s, const ns_sim_cond_t *d, double *v)
{
    for (int k = 0; k < NS_SIM_MAX_MARKERS && d->m[k].analytes; k++) {
        const ns_sim_marker_t *m = &d->m[k];
        mark_ctx_t c = { s, m, v, 1.0, m->ref ? ns_sim_analyte_index(m->ref) : -1 };
        if (m->mode == NS_SIM_FOLD) c.fold = log_uniform(s->r, m->lo, m->hi);
        ns_sim_for_each(m->analytes, apply_marker, &c);   /* checked in model_init */
    }
}

/* ---- writers ---------------------------------------------------------------------- */

static void write_manifest_row(sim_t *s, int64_t card, const demo_t *d)
{
    FILE *fp = s->manifest->fp;
    char birth[32], coll[32], name[64], phone[32];
    gsl_rng *r = s->r;
    /* mother's name: pinyin (70 %) or Chinese characters (30 %), random pairs [K] */
    if (bernoulli(r, 0.70))
        snprintf(name, sizeof name, "%s %s",
                 surname_py[gsl_rng_uniform_int(r, NELEM(surname_py))],
                 given_py[gsl_rng_uniform_int(r, NELEM(given_py))]);
    else
        snprintf(name, sizeof name, "%s%s",
                 surname_zh[gsl_rng_uniform_int(r, NELEM(surname_zh))],
                 given_zh[gsl_rng_uniform_int(r, NELEM(given_zh))]);
    /* +86 10x: not a Chinese mobile range, so never a real subscriber */
    unsigned long ph = gsl_rng_uniform_int(r, 1000000000UL);
    snprintf(phone, sizeof phone, "+86 10%lu %04lu %04lu", ph / 100000000UL,
             ph / 10000UL % 10000UL, ph % 10000UL);
    ns_sim_iso_minute(d->birth_min, birth, sizeof birth);
    ns_sim_iso_minute(d->coll_min, coll, sizeof coll);
    fprintf(fp, "S%s-%06" PRId64 ",I%07" PRId64 ",%s,%s,%d,%d,%s,%s,%s,%d,%d,%d,",
            s->o->ymd, card, card, d->repeat ? "repeat" : "initial", d->female ? "F" : "M",
            d->bw, d->ga, birth, coll, feed_name[d->feeding], d->transfusion,
            d->antibiotics, d->nicu);
    ns_csv_field(fp, hospitals[d->hospital].name);
    fputc(',', fp);
    ns_csv_field(fp, name);
    fputc(',', fp);
    ns_csv_field(fp, phone);
    fputs(s->eol, fp);
}

/* Row prefix and values into buf; returns the length. */
static size_t plate_row(char *buf, const char *plate_id, const char *well, const char *sid,
                        int type, const double *v, const unsigned char *censor)
{
    size_t n = (size_t)snprintf(buf, LINE_MAX_LEN, "%s,%s,%s,%s", plate_id, well, sid,
                                type_name[type]);
    for (int a = 0; a < N_AN; a++) {
        char num[32];
        if (censor && censor[a] == 1) strcpy(num, "<0.01");
        else if (censor && censor[a] == 2) strcpy(num, "ND");
        else fmt_value(v[a], num, sizeof num);
        n += (size_t)snprintf(buf + n, LINE_MAX_LEN - n, ",%s", num);
    }
    return n;
}

/* Write the plate being filled (controls + s->n_pat patients) and its truth rows. */
static int flush_plate(sim_t *s)
{
    char plate_id[48], path[4200], line[LINE_MAX_LEN];
    gsl_rng *r = s->r;
    s->plate_no++;
    snprintf(plate_id, sizeof plate_id, "P%s-%04d", s->o->ymd, s->plate_no);
    snprintf(path, sizeof path, "%s/%s.csv", s->plates_dir, plate_id);
    ns_atomic_t *f = ns_atomic_open(path, 0644);
    if (!f) { ns_error_errno(SUB, "cannot create %s", path); return -1; }

    size_t n = (size_t)snprintf(line, sizeof line, "plate_id,well,sample_id,sample_type");
    for (int a = 0; a < N_AN; a++) {
        const ns_sim_analyte_t *x = &ns_sim_analytes[a];
        n += (size_t)snprintf(line + n, sizeof line - n, ",%s",
                              s->o->vendor && x->vendor ? x->vendor : x->key);
    }
    fwrite(line, 1, n, f->fp);
    fputs(s->eol, f->fp);

    int next = 0;
    for (int w = 0; w < s->wells; w++) {
        char well[16], sid[48];
        double v[N_AN];
        unsigned char censor[N_AN];
        int row = w % s->rows, col = w / s->rows;   /* column-major */
        snprintf(well, sizeof well, "%c%02d", 'A' + row, col + 1);
        int type = s->qc->well_type[row * s->cols + col];
        if (type != NS_TYPE_PATIENT) {
            int l = type == NS_TYPE_QC_HIGH;
            for (int a = 0; a < N_AN; a++) {
                double med = ns_sim_analytes[a].median;
                censor[a] = 0;
                if (type == NS_TYPE_BLANK) {
                    v[a] = med * NS_SIM_BLANK_FRAC * exp(gsl_ran_gaussian_ziggurat(r, NS_SIM_BLANK_SD));
                    if (v[a] < 0.01) censor[a] = bernoulli(r, 0.7) ? 1 : 2;
                } else if (isnan(s->qmean[l][a])) {   /* no target: the built-in material */
                    double target = l ? NS_SIM_QC_HIGH_FOLD * med : med;
                    v[a] = target * (1.0 + gsl_ran_gaussian_ziggurat(r, NS_SIM_QC_CV));
                } else {
                    double sds = 0;
                    for (int k = 0; k < s->o->n_shift; k++) {
                        const shift_t *sh = &s->o->shift[k];
                        if (sh->level == l && sh->analyte == a && (sh->plate == 0 || sh->plate == s->plate_no))
                            sds += sh->sds;
                    }
                    /* the instrument's own imprecision (NS_SIM_QC_CV) around the lot's
                     * target; the config's SD is an acceptance SD and only scales shifts */
                    v[a] = s->qmean[l][a] * (1.0 + gsl_ran_gaussian_ziggurat(r, NS_SIM_QC_CV));
                    if (sds != 0) v[a] += sds * s->qsd[l][a];
                    if (!(v[a] >= 0.001)) v[a] = 0.001;
                }
            }
            n = plate_row(line, plate_id, well, type == NS_TYPE_BLANK ? "BLANK" : s->qc->level[l].lot,
                          type, v, censor);
        } else {
            if (next >= s->n_pat) continue;
            patient_t *p = &s->pat[next++];
            snprintf(sid, sizeof sid, "S%s-%06" PRId64, s->o->ymd, p->card);
            n = plate_row(line, plate_id, well, sid, NS_TYPE_PATIENT, p->v, NULL);
            if (p->cond >= 0) {
                fprintf(s->truth->fp, "%s,I%07" PRId64 ",%s,%s,%s%s", sid, p->card, plate_id,
                        well, ns_sim_conds[p->cond].code, s->eol);
                s->n_cases_written++;
            }
        }
        fwrite(line, 1, n, f->fp);
        fputs(s->eol, f->fp);
    }
    if (ns_atomic_commit(f) != 0) { ns_error_errno(SUB, "cannot write %s", path); return -1; }
    s->n_pat = 0;
    if (s->plate_no % 1000 == 0)
        ns_info(1, SUB, "%d plates written", s->plate_no);
    return 0;
}

/* ---- output directory ------------------------------------------------------------- */

/* Our plate file names: P + 8 digits + '-' + digits + ".csv". */
static int is_plate_name(const char *s)
{
    size_t n = strlen(s), i;
    if (n < 15 || s[0] != 'P' || strcmp(s + n - 4, ".csv") != 0) return 0;
    for (i = 1; i < 9; i++) if (s[i] < '0' || s[i] > '9') return 0;
    if (s[9] != '-') return 0;
    for (i = 10; i < n - 4; i++) if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

/* Empty DIR of the files is_ours() recognises (with --force), or refuse when it holds
 * anything.  A missing DIR is fine.  Returns 0 or -1 with a message. */
static int clear_dir(const char *dir, int (*is_ours)(const char *), int force)
{
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT) return 0;
        ns_error_errno(SUB, "cannot open %s", dir);
        return -1;
    }
    struct dirent *e;
    int nonempty = 0, removed = 0, failed = 0;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        nonempty = 1;
        if (!force) break;
        if (is_ours(e->d_name)) {
            char *p = ns_asprintf("%s/%s", dir, e->d_name);
            if (unlink(p) == 0) removed++;
            else { ns_error_errno(SUB, "cannot remove %s", p); failed = 1; }
            free(p);
        }
    }
    closedir(d);
    if (failed) return -1;
    if (nonempty && !force) {
        ns_error(SUB, "%s is not empty (use --force to overwrite)", dir);
        return -1;
    }
    if (removed) ns_info(1, SUB, "removed %d old plate files from %s", removed, dir);
    return 0;
}

/* A file an earlier night left that this night would not rewrite (hearing.csv with
 * --no-hearing, truth-genes.csv without --genes): removed with --force, else refused, so a
 * night never mixes two runs. */
static int clear_stale(const char *out, const char *name, int force)
{
    char *p = ns_asprintf("%s/%s", out, name);
    int ret = 0;
    if (access(p, F_OK) == 0) {
        if (!force) {
            ns_error(SUB, "%s is left from an earlier night and this one would not rewrite it "
                     "(use --force to remove it)", p);
            ret = -1;
        } else if (unlink(p) != 0) {
            ns_error_errno(SUB, "cannot remove %s", p);
            ret = -1;
        }
    }
    free(p);
    return ret;
}

/* Refuse non-empty plates/ and genes/ directories unless --force; with --force remove old
 * plate files so the night holds only tonight's plates.  Then create the directories. */
static int prepare_dir(sim_t *s)
{
    const opts_t *o = s->o;
    char genes_dir[4200];
    snprintf(s->plates_dir, sizeof s->plates_dir, "%s/plates", o->out);
    snprintf(genes_dir, sizeof genes_dir, "%s/genes", o->out);
    /* without --force nothing is removed, so a refusal leaves the directory as it was */
    if (clear_dir(s->plates_dir, is_plate_name, o->force) < 0
        || clear_dir(genes_dir, ns_sim_is_gene_plate_name, o->force) < 0)
        return -1;
    if (!o->hearing && (clear_stale(o->out, "hearing.csv", o->force) < 0
                        || clear_stale(o->out, "truth-hearing.csv", o->force) < 0))
        return -1;
    if (!o->genes && clear_stale(o->out, "truth-genes.csv", o->force) < 0) return -1;
    if (ns_mkdir_p(s->plates_dir) < 0) {
        ns_error_errno(SUB, "cannot create %s", s->plates_dir);
        return -1;
    }
    if (o->genes && ns_mkdir_p(genes_dir) < 0) {
        ns_error_errno(SUB, "cannot create %s", genes_dir);
        return -1;
    }
    return 0;
}

/* ---- main loop -------------------------------------------------------------------- */

static int simulate(sim_t *s)
{
    const opts_t *o = s->o;
    char *mpath = ns_asprintf("%s/manifest.csv", o->out);
    char *tpath = ns_asprintf("%s/truth.csv", o->out);
    int ret = -1;
    s->manifest = ns_atomic_open(mpath, 0600);
    if (!s->manifest) { ns_error_errno(SUB, "cannot create %s", mpath); goto done; }
    s->truth = ns_atomic_open(tpath, 0600);
    if (!s->truth) { ns_error_errno(SUB, "cannot create %s", tpath); goto done; }
    fprintf(s->manifest->fp, "sample_id,infant_id,specimen,sex,birth_weight_g,"
            "gestational_age_days,birth_time,collection_time,feeding,transfusion,antibiotics,"
            "nicu,hospital,mother_name,contact_phone%s", s->eol);
    fprintf(s->truth->fp, "sample_id,infant_id,plate_id,well,condition%s", s->eol);
    /* hearing and gene draws come from their own streams: the MS/MS night is the same
     * with or without them */
    if (o->hearing || o->genes) {
        s->genes = ns_sim_genes_new(o->out, o->ymd, o->seed, o->genes, o->every, s->eol);
        if (!s->genes) goto done;
    }
    if (o->hearing) {
        s->hearing = ns_sim_hearing_new(o->out, o->seed, o->every, s->eol);
        if (!s->hearing) goto done;
    }

    int64_t night_min = ns_sim_days_from_civil(o->year, o->month, o->day) * 1440;
    int64_t total = o->n + o->unplated;
    int64_t left[4] = { o->n - o->cases - o->unmatched, o->cases, o->unmatched, o->unplated };
    int64_t case_no = o->first_case;
    for (int64_t t = 0; t < total; t++) {
        /* selection sampling: kind k with probability left[k] / cards remaining */
        int64_t pick = (int64_t)(gsl_rng_uniform(s->r) * (double)(total - t));
        int kind = K_PLAIN;   /* when pick falls past the special kinds */
        for (int k = K_CASE; k <= K_UNPLATED; k++) {
            if (pick < left[k]) { kind = k; break; }
            pick -= left[k];
        }
        left[kind]--;

        int64_t card = t + 1;
        demo_t d;
        draw_demo(s, &d, night_min);
        if (kind != K_UNPLATED) {
            patient_t *p = &s->pat[s->n_pat++];
            p->card = card;
            p->cond = kind == K_CASE ? (int)(case_no++ % ns_sim_n_conds) : -1;
            draw_analytes(s, &d, p->v);
            if (p->cond >= 0) inject(s, &ns_sim_conds[p->cond], p->v);
            else
                for (int k = 0; k < ns_sim_n_mimics; k++)
                    if (bernoulli(s->r, ns_sim_mimics[k].p)) inject(s, &ns_sim_mimics[k].prof, p->v);
        }
        if (kind != K_UNMATCHED) write_manifest_row(s, card, &d);
        /* the gene plate runs on the punched initial cards that the manifest knows (a
         * repeat card's infant was genotyped on its first card); hearing records exist for
         * every infant of the manifest */
        ns_sim_genotype_t gt;
        int typed = s->genes && (kind == K_PLAIN || kind == K_CASE) && !d.repeat;
        if (typed && ns_sim_genes_sample(s->genes, card, &gt) < 0) goto done;
        if (s->hearing && kind != K_UNMATCHED) {
            ns_sim_baby_t b = { card, d.birth_min, d.nicu, d.ga, d.antibiotics, typed ? &gt : NULL };
            if (ns_sim_hearing_infant(s->hearing, &b) < 0) goto done;
        }
        if (s->n_pat == s->per_plate && flush_plate(s) < 0) goto done;
    }
    if (s->n_pat > 0 && flush_plate(s) < 0) goto done;
    if (s->genes && ns_sim_genes_finish(s->genes) < 0) goto done;
    if (s->hearing && ns_sim_hearing_finish(s->hearing) < 0) goto done;

    ns_atomic_t *m = s->manifest, *t = s->truth;
    s->manifest = s->truth = NULL;
    if (ns_atomic_commit(t) != 0) {
        ns_error_errno(SUB, "cannot write %s", tpath);
        ns_atomic_abort(m);
        goto done;
    }
    if (ns_atomic_commit(m) != 0) { ns_error_errno(SUB, "cannot write %s", mpath); goto done; }
    ret = 0;
done:
    ns_atomic_abort(s->manifest);
    ns_atomic_abort(s->truth);
    free(mpath);
    free(tpath);
    return ret;
}

/* Resolve --qc-shift LEVEL:ANALYTE:SDS[:PLATE] against the panel and the QC targets.
 * ANALYTE may itself hold ':' (C5:1), so every split is tried; exactly one must fit. */
static int resolve_shift(shift_t *sh, const ns_panel_t *p, const ns_qc_config_t *q)
{
    char buf[256], *tok[16];
    int nt = 0;
    if (strlen(sh->arg) >= sizeof buf) {
        ns_error(SUB, "--qc-shift '%.40s...' is too long", sh->arg);
        return -1;
    }
    strcpy(buf, sh->arg);
    for (char *c = buf, *start = buf;; c++) {
        if (*c != ':' && *c) continue;
        if (nt == (int)(sizeof tok / sizeof *tok)) break;
        tok[nt++] = start;
        if (!*c) break;
        *c = 0;
        start = c + 1;
    }
    if (nt < 3 || (strcmp(tok[0], "qc_low") != 0 && strcmp(tok[0], "qc_high") != 0)) {
        ns_error(SUB, "--qc-shift wants LEVEL:ANALYTE:SDS[:PLATE] with LEVEL qc_low or qc_high, "
                 "e.g. qc_high:C3:4:2, not '%s'", sh->arg);
        return -1;
    }
    sh->level = strcmp(tok[0], "qc_high") == 0;
    int found = 0, a_found = -1, named = 0;
    char name[256] = "", first[256] = "";
    for (int j = 1; j <= nt - 2; j++) {              /* ANALYTE = tok[1..j] */
        if (j > 1) strcat(name, ":");
        strcat(name, tok[j]);
        int a = ns_panel_find_analyte(p, name), rest = nt - 1 - j;
        if (a < 0 || rest > 2) continue;
        named = 1;
        char *end;
        errno = 0;
        double sds = strtod(tok[j + 1], &end);
        if (!*tok[j + 1] || *end || errno || !isfinite(sds)) continue;
        int64_t plate = 0;
        if (rest == 2 && parse_i64(tok[j + 2], 1, INT32_MAX, &plate) < 0) continue;
        if (found++) {
            ns_error(SUB, "--qc-shift '%s' can be read as analyte %s or %s: write SDS with a "
                     "decimal point (3.0) or the analyte without ':' (an alias such as C51)",
                     sh->arg, first, name);
            return -1;
        }
        snprintf(first, sizeof first, "%s", name);
        a_found = a;
        sh->sds = sds;
        sh->plate = (int)plate;
    }
    if (!found) {
        if (!named)
            ns_error(SUB, "--qc-shift '%s': no analyte of panel %s (name or alias) in it", sh->arg, p->name);
        else
            ns_error(SUB, "--qc-shift '%s': SDS must be a number and PLATE a plate number from 1",
                     sh->arg);
        return -1;
    }
    if (isnan(q->level[sh->level].mean[a_found])) {
        ns_error(SUB, "--qc-shift '%s': %s has no %s target in %s, so there is no SD to shift by",
                 sh->arg, p->analytes[a_found].name, tok[0], q->path);
        return -1;
    }
    sh->analyte = -1;
    for (int a = 0; a < N_AN; a++)
        if (ns_panel_find_analyte(p, ns_sim_analytes[a].key) == a_found) sh->analyte = a;
    if (sh->analyte < 0) {
        ns_error(SUB, "--qc-shift '%s': the simulator writes no column for %s", sh->arg,
                 p->analytes[a_found].name);
        return -1;
    }
    return 0;
}

/* Load the panel and the QC config; set the plate layout, control targets and shifts. */
static int layout_init(sim_t *s, opts_t *o, ns_panel_t **panel, ns_qc_config_t **qc)
{
    char *ppath = ns_config_path(o->panel_path, NULL, DEFAULT_PANEL);
    char *qpath = ns_config_path(o->qc_path, NULL, DEFAULT_QC);
    int ret = -1;
    ns_panel_errs_t e;
    *panel = ns_panel_load(ppath, &e);
    if (!*panel) {
        ns_panel_errs_print(stderr, "neoscreen simulate", ppath, NULL, &e);
        ns_error(SUB, "%s: %d problem%s in the panel; nothing was written", ppath, e.n, e.n == 1 ? "" : "s");
        ns_panel_errs_free(&e);
        goto out;
    }
    ns_panel_errs_free(&e);
    *qc = ns_qc_load(qpath, *panel, &e);
    if (!*qc) {
        ns_panel_errs_print(stderr, "neoscreen simulate", qpath, NULL, &e);
        ns_error(SUB, "%s: %d problem%s in the QC config; nothing was written", qpath, e.n,
                 e.n == 1 ? "" : "s");
        ns_panel_errs_free(&e);
        goto out;
    }
    ns_panel_errs_free(&e);
    const ns_qc_config_t *q = s->qc = *qc;
    s->rows = q->rows;
    s->cols = q->cols;
    s->wells = q->rows * q->cols;
    s->per_plate = q->n_ctl_wells[NS_TYPE_PATIENT];
    if (s->per_plate < 1) {
        ns_error(SUB, "%s: the plate map leaves no well of the %d-well plate for patients", qpath, s->wells);
        goto out;
    }
    for (int a = 0; a < N_AN; a++) {
        int pa = ns_panel_find_analyte(*panel, ns_sim_analytes[a].key);
        for (int l = 0; l < NS_QC_LEVELS; l++) {
            s->qmean[l][a] = pa >= 0 ? q->level[l].mean[pa] : NAN;
            s->qsd[l][a] = pa >= 0 ? q->level[l].sd[pa] : NAN;
        }
    }
    int64_t n_plates = (o->n + s->per_plate - 1) / s->per_plate;
    for (int k = 0; k < o->n_shift; k++) {
        if (resolve_shift(&o->shift[k], *panel, q) < 0) goto out;
        if (o->shift[k].plate > n_plates) {
            ns_error(SUB, "--qc-shift '%s': plate %d, but this night has %" PRId64 " plate%s",
                     o->shift[k].arg, o->shift[k].plate, n_plates, n_plates == 1 ? "" : "s");
            goto out;
        }
    }
    ns_info(1, SUB, "plate map %s: %d-well plates, %d qc_low, %d qc_high, %d blank, %d patient wells",
            qpath, s->wells, q->n_ctl_wells[NS_TYPE_QC_LOW], q->n_ctl_wells[NS_TYPE_QC_HIGH],
            q->n_ctl_wells[NS_TYPE_BLANK], s->per_plate);
    ret = 0;
out:
    free(ppath);
    free(qpath);
    return ret;
}

int ns_cmd_simulate(int argc, char **argv)
{
    enum { O_NIGHT = 256, O_CASES, O_FIRST_CASE, O_EVERY, O_UNMATCHED, O_UNPLATED, O_VENDOR, O_CRLF, O_FORCE,
           O_PANEL, O_QC, O_QC_SHIFT, O_NO_HEARING, O_GENES, O_PROFILES };
    static const struct option lopts[] = {
        { "out", required_argument, NULL, 'o' },
        { "samples", required_argument, NULL, 'n' },
        { "seed", required_argument, NULL, 's' },
        { "night", required_argument, NULL, O_NIGHT },
        { "cases", required_argument, NULL, O_CASES },
        { "first-case", required_argument, NULL, O_FIRST_CASE },
        { "every-condition", no_argument, NULL, O_EVERY },
        { "unmatched", required_argument, NULL, O_UNMATCHED },
        { "unplated", required_argument, NULL, O_UNPLATED },
        { "vendor-headers", no_argument, NULL, O_VENDOR },
        { "crlf", no_argument, NULL, O_CRLF },
        { "force", no_argument, NULL, O_FORCE },
        { "panel", required_argument, NULL, O_PANEL },
        { "qc", required_argument, NULL, O_QC },
        { "qc-shift", required_argument, NULL, O_QC_SHIFT },
        { "no-hearing", no_argument, NULL, O_NO_HEARING },
        { "genes", no_argument, NULL, O_GENES },
        { "profiles", no_argument, NULL, O_PROFILES },
        { "verbosity", required_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    opts_t o = { .n = 1000, .seed = 1, .hearing = 1 };
    int64_t v;
    parse_night("2026-11-22", &o);
    if (argc <= 1) { usage(stdout); return 1; }
    /* at most one --qc-shift per argument */
    o.shift = ns_calloc((size_t)argc, sizeof *o.shift);
    int ret = 1;

    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":o:n:s:v:h", lopts, NULL)) != -1) {
        switch (c) {
        case 'o': o.out = optarg; break;
        case 'n':
            if (parse_i64(optarg, 1, INT64_C(1000000000), &v) < 0) {
                ns_error(SUB, "--samples wants an integer 1..1000000000, not '%s'", optarg);
                goto out;
            }
            o.n = v;
            break;
        case 's':
            if (parse_i64(optarg, 0, INT64_C(4294967295), &v) < 0) {
                ns_error(SUB, "--seed wants an integer 0..4294967295, not '%s'", optarg);
                goto out;
            }
            o.seed = (unsigned long)v;
            break;
        case O_NIGHT:
            if (parse_night(optarg, &o) < 0) {
                ns_error(SUB, "--night wants a date YYYY-MM-DD, not '%s'", optarg);
                goto out;
            }
            break;
        case O_CASES: case O_UNMATCHED: case O_UNPLATED:
            if (parse_i64(optarg, 0, INT64_C(1000000000), &v) < 0) {
                ns_error(SUB, "--%s wants an integer 0..1000000000, not '%s'",
                         c == O_CASES ? "cases" : c == O_UNMATCHED ? "unmatched" : "unplated",
                         optarg);
                goto out;
            }
            if (c == O_CASES) o.cases = v, o.cases_set = 1;
            else if (c == O_UNMATCHED) o.unmatched = v;
            else o.unplated = v;
            break;
        case O_FIRST_CASE:
            if (parse_i64(optarg, 0, INT64_C(1000000000), &v) < 0) {
                ns_error(SUB, "--first-case wants an integer 0..1000000000, not '%s'", optarg);
                goto out;
            }
            o.first_case = v;
            break;
        case O_EVERY: o.every = 1; break;
        case O_NO_HEARING: o.hearing = 0; break;
        case O_GENES: o.genes = 1; break;
        case O_PROFILES:
            /* the model's normal population (sim_profiles.h), for checks such as
             * tests/e2e/cutoffs.sh: a baby with no covariate shift has
             * log x ~ N(log median, log_sd^2) */
            printf("analyte,median,log_sd\n");
            for (int a = 0; a < NS_SIM_N_ANALYTES; a++)
                printf("%s,%.17g,%.17g\n", ns_sim_analytes[a].key, ns_sim_analytes[a].median,
                       ns_sim_analytes[a].log_sd);
            ret = 0;
            goto out;
        case O_VENDOR: o.vendor = 1; break;
        case O_CRLF: o.crlf = 1; break;
        case O_FORCE: o.force = 1; break;
        case O_PANEL: o.panel_path = optarg; break;
        case O_QC: o.qc_path = optarg; break;
        case O_QC_SHIFT: o.shift[o.n_shift++].arg = optarg; break;   /* resolved in layout_init */
        case 'v': ns_verbosity = atoi(optarg); break;
        case 'h': usage(stdout); ret = 0; goto out;
        case ':':
            ns_error(SUB, "option '%s' needs a value", argv[optind - 1]);
            goto out;
        default:
            ns_error(SUB, "unknown option '%s' (see 'neoscreen simulate --help')",
                     argv[optind - 1]);
            goto out;
        }
    }
    if (optind < argc) {
        ns_error(SUB, "unexpected argument '%s'", argv[optind]);
        goto out;
    }
    if (!o.out || !*o.out) {
        ns_error(SUB, "no output directory: give -o DIR");
        goto out;
    }
    if (!o.cases_set) o.cases = llround((double)o.n * 0.0005);   /* ~1:2000 [K], DOMAIN §11 item 6 */
    if (o.every && o.cases < ns_sim_n_conds) o.cases = ns_sim_n_conds;
    if (o.cases + o.unmatched > o.n) {
        ns_error(SUB, "%" PRId64 " cases + %" PRId64 " unmatched wells do not fit in %" PRId64
                 " samples", o.cases, o.unmatched, o.n);
        goto out;
    }

    ns_clock_start();
    sim_t s;
    memset(&s, 0, sizeof s);
    s.o = &o;
    s.eol = o.crlf ? "\r\n" : "\n";
    ns_panel_t *panel = NULL;
    ns_qc_config_t *qc = NULL;
    if (model_init(&s) < 0 || layout_init(&s, &o, &panel, &qc) < 0 || prepare_dir(&s) < 0) {
        ns_qc_free(qc);
        ns_panel_free(panel);
        goto out;
    }

    ns_info(1, SUB, "seed %lu, night %04d-%02d-%02d: %" PRId64 " samples, %" PRId64 " cases, %" PRId64
            " unmatched, %" PRId64 " unplated", o.seed, o.year, o.month, o.day, o.n, o.cases, o.unmatched,
            o.unplated);
    s.r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!s.r) {
        ns_error(SUB, "cannot allocate the random number generator");
        ns_qc_free(qc);
        ns_panel_free(panel);
        goto out;
    }
    gsl_rng_set(s.r, o.seed);
    s.pat = ns_malloc((size_t)s.per_plate * sizeof *s.pat);
    ret = simulate(&s) < 0 ? 1 : 0;
    if (ret == 0) {
        if (s.hearing) {
            ns_sim_hearing_stats_t h = ns_sim_hearing_stats(s.hearing);
            double n = h.infants > 0 ? (double)h.infants : 1.0;
            ns_info(1, SUB, "hearing: %" PRId64 " infants (%" PRId64 " NICU), initial refer %.2f %%, "
                    "%" PRId64 " rescreens, rescreen refer %.2f %%, risk factors %.2f %%",
                    h.infants, h.nicu, 100.0 * (double)h.initial_refer / n, h.rescreens,
                    100.0 * (double)h.rescreen_refer / n, 100.0 * (double)h.risk / n);
            if (h.forced_left)
                ns_error(SUB, "warning: --every-condition: %d hearing case type%s not placed "
                         "(the night has too few well or NICU infants)", h.forced_left,
                         h.forced_left == 1 ? "" : "s");
        }
        if (o.genes) {
            int64_t g = ns_sim_genes_n_samples(s.genes);
            ns_info(1, SUB, "genes: %d plates, %" PRId64 " samples, %.2f %% with a variant",
                    ns_sim_genes_n_plates(s.genes), g,
                    g ? 100.0 * (double)ns_sim_genes_n_positive(s.genes) / (double)g : 0.0);
            int left = ns_sim_genes_n_forced_left(s.genes);
            if (left)
                ns_error(SUB, "warning: --every-condition: %d gene case type%s not placed (too "
                         "few samples)", left, left == 1 ? "" : "s");
        }
        ns_info(1, SUB, "%d plates, %" PRId64 " patient wells, %" PRId64 " cases -> %s "
                "(%.1f s, peak RSS %ld kB)", s.plate_no, o.n, s.n_cases_written, o.out,
                ns_wall_s(), ns_peak_rss_kb());
    }
    ns_sim_hearing_free(s.hearing);
    ns_sim_genes_free(s.genes);
    free(s.pat);
    gsl_rng_free(s.r);
    ns_qc_free(qc);
    ns_panel_free(panel);
out:
    free(o.shift);
    return ret;
}
