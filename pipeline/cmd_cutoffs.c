/* cmd_cutoffs.c — `neoscreen cutoffs derive`: population percentiles per marker and stratum.
 *
 * Chinese laboratories set most MS/MS cutoffs at a percentile of their own population,
 * typically the 99.5th / 0.5th (DOMAIN.md §1.3).  This command computes those percentiles
 * from archived nights, for every analyte and ratio of a panel and for every group:
 *
 *   all        every screen-negative patient card
 *   standard   screen-negative cards in none of the panel's strata
 *   STRATUM    screen-negative cards in that stratum (preterm, tpn, early...; a card may be
 *              in several)
 *
 * Screen-negative: the archived night called the card negative (not recall, invalid
 * specimen, unmatched or QC hold), and --outcomes does not name it a known case (matched by
 * card or baby).  A censored cell is ranked, not dropped: "<x" (true value at most x, below
 * the limit of quantitation) below every exact value, a ratio known only as ">= x" (over a
 * "<x" denominator) above them; a percentile that falls among them is reported as that
 * limit and marked censored.  Missing values are counted apart and never used.  Strata and
 * ratios are those of the panel given (-p), computed
 * from each card's archived covariates and analyte values exactly as `run` computes them.
 *
 * Percentiles are exact: every value is kept and sorted, and the quantile is type 7
 * (Hyndman-Fan; GSL's and R's default).  Each comes with a distribution-free confidence
 * interval from order statistics (ns_quantile_ci, binomial), and a group too small for the
 * percentile asked (no two-sided interval: N < ns_quantile_min_n) is flagged in the output
 * and on stderr.  Sorting makes the result independent of the thread count and of the
 * order archives are read in.  Memory: 8 bytes per screen-negative card and marker held at
 * once; with --memory the markers are split over several passes over the archives.
 *
 * Output: a YAML fragment (top-level key `population:`) that `neoscreen config check`
 * accepts and that can be pasted into a panel; with --outcomes, also the disease range of
 * each condition's markers among its known cases (--disease-out CSV, and as comments).
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_sort.h>
#include "../kernels/ns_kernels.h"
#include "archive.h"
#include "atomic_file.h"
#include "cmds.h"
#include "csv.h"
#include "log.h"
#include "outcomes.h"
#include "panel.h"
#include "score.h"
#include "util.h"

#define DEFAULT_PANEL "configs/panel-default.yaml"
#define MAX_MATCH 64

static void usage(FILE *fp)
{
    fprintf(fp,
"Usage: neoscreen cutoffs derive [options] ARCHIVE|DIR...\n"
"\n"
"Percentiles of screen-negative patient cards in archived nights (batch.h5 files, or\n"
"directories searched for them), per analyte and ratio of the panel and per group\n"
"(all, standard = in no stratum, each panel stratum), with N and a distribution-free\n"
"confidence interval; written as a `population:` YAML fragment that `neoscreen config\n"
"check` accepts and that can be pasted into a panel.  Exact (every value sorted, type-7\n"
"quantile) and identical for any thread count.\n"
"\n"
"Options:\n"
"  -p, --panel FILE     panel whose markers and strata are used [$NEOSCREEN_CONFIG, else\n"
"                       ./" DEFAULT_PANEL ", else the copy in the source tree]\n"
"  -o, --out FILE       write the fragment here [stdout]\n"
"      --lower PCT      lower percentile [0.5]\n"
"      --upper PCT      upper percentile [99.5]   (DOMAIN.md §1.3: 0.5/99.5 or 1/99)\n"
"      --conf C         confidence level of the intervals [0.95]\n"
"      --outcomes FILE  known cases (condition + sample_id/infant_id CSV): left out of the\n"
"                       normal population, and their values summarised per condition and\n"
"                       marker (the disease range)\n"
"      --disease-out FILE  that summary as CSV: condition,marker,direction,n,min,p5,median,p95,max\n"
"      --memory MB      memory for values held at once [2048]; more markers per pass\n"
"      --chunk N        archive rows read at a time [65536]\n"
"  -t, --threads N      threads [all cores]; the output does not depend on it\n"
"  -v, --verbosity N    0 quiet, 1 progress (default)\n"
"  -h, --help           this text\n");
}

/* Groups: 0 = all, 1 = standard, 2 + k = panel stratum k. */
#define G_ALL 0
#define G_STD 1

typedef struct {
    const ns_panel_t *p;
    const ns_outcomes_t *oc;
    char **paths;
    int n_paths;
    int64_t chunk;
    /* the pass in progress: markers [m0, m1), one column of n_used values each */
    int m0, m1;
    double *col;          /* (m - m0) * cap + j */
    uint8_t *kind;        /* same layout: K_* */
    uint32_t *grp;        /* per used card: bit g (groups) */
    int64_t cap, n_used;
    /* totals (first pass) */
    int64_t screened, negative, cases_left_out, rows;
    char *night_lo, *night_hi;
    /* disease values: per case card and condition marker (first pass only) */
    double **dval;        /* [slot] growing array */
    int64_t *dn, *dm;
    ns_archive_seen_t seen;
} dctx_t;

static int used_card(const dctx_t *x, const ns_batch_t *b, const ns_archive_rows_t *r, size_t i,
                     int *is_case, int64_t *match, int *nm)
{
    *is_case = 0;
    *nm = 0;
    if (b->type[i] != NS_TYPE_PATIENT || b->mrow[i] < 0 || r->state[i] == NS_STATE_QC_HOLD
        || r->state[i] == NS_STATE_UNMATCHED)
        return 0;
    if (x->oc) {
        *nm = ns_outcomes_match(x->oc, b->sample_id[i], r->infant_id[i], match, MAX_MATCH);
        *is_case = *nm > 0;
    }
    return 1;
}

/* Value of marker m at row i if it is exact, else NAN. */
static double exact_value(const ns_batch_t *b, int m, size_t i)
{
    double v = ns_batch_marker(b, m)[i];
    return ns_batch_marker_bound(b, m, (int64_t)i) == NS_BOUND_EXACT ? v : NAN;
}

/* How a collected value is known (x->kind). */
enum { K_EXACT = 0, K_BELOW = 1 /* true value <= v */, K_ABOVE = 2 /* true value >= v */,
       K_MISSING = 3 };

static uint8_t value_kind(const ns_batch_t *b, int m, size_t i)
{
    double v = ns_batch_marker(b, m)[i];
    if (isnan(v)) return K_MISSING;
    int bd = ns_batch_marker_bound(b, m, (int64_t)i);
    return bd == NS_BOUND_UPPER ? K_BELOW : bd == NS_BOUND_LOWER ? K_ABOVE : K_EXACT;
}

static void disease_add(dctx_t *x, int slot, double v)
{
    if (x->dn[slot] == x->dm[slot]) {
        x->dm[slot] = x->dm[slot] ? 2 * x->dm[slot] : 16;
        x->dval[slot] = ns_realloc(x->dval[slot], (size_t)x->dm[slot] * sizeof **x->dval);
    }
    x->dval[slot][x->dn[slot]++] = v;
}

static void chunk_collect(dctx_t *x, const ns_batch_t *b, const ns_archive_rows_t *r, int first)
{
    const ns_panel_t *p = x->p;
    int64_t match[MAX_MATCH];
    for (size_t i = 0; i < (size_t)b->n; i++) {
        int is_case, nm;
        if (!used_card(x, b, r, i, &is_case, match, &nm)) continue;
        if (first) x->screened++;
        if (is_case && first) {
            /* a known case: its markers go to the disease range of its condition(s) */
            for (int s = 0; s < p->n_slots; s++) {
                const ns_condition_t *cd = &p->conds[p->slot_cond[s]];
                for (int j = 0; j < nm; j++)
                    if (strcmp(x->oc->v[match[j]].code, cd->code) == 0) {
                        double v = exact_value(b, cd->markers[p->slot_marker[s]].marker, i);
                        if (!isnan(v)) disease_add(x, s, v);
                    }
            }
        }
        if (r->state[i] != NS_STATE_NEGATIVE) continue;
        if (is_case) { if (first) x->cases_left_out++; continue; }
        if (first) x->negative++;
        int64_t j = x->n_used++;
        if (j >= x->cap) continue;          /* cannot happen: cap is the row count */
        uint32_t g = 1u << G_ALL;
        if (b->strata[i] == 0) g |= 1u << G_STD;
        for (int k = 0; k < p->n_strata; k++)
            if ((b->strata[i] >> k) & 1u) g |= 1u << (2 + k);
        x->grp[j] = g;
        for (int m = x->m0; m < x->m1; m++) {
            size_t at = (size_t)(m - x->m0) * (size_t)x->cap + (size_t)j;
            x->col[at] = ns_batch_marker(b, m)[i];
            x->kind[at] = value_kind(b, m, i);
        }
    }
}

static int one_pass(dctx_t *x, int first)
{
    x->n_used = 0;
    for (int k = 0; k < x->n_paths; k++) {
        ns_archive_t a;
        if (ns_archive_open(&a, "cutoffs", x->paths[k]) < 0) return -1;
        int *map = ns_calloc((size_t)x->p->n_analytes + 1, sizeof *map);
        int r = ns_archive_map(&a, x->p, map);
        if (first && r == 0) {
            ns_archive_note_copy(&x->seen, &a);
            x->rows += a.n;
            if (!x->night_lo || strcmp(a.night, x->night_lo) < 0) { free(x->night_lo); x->night_lo = ns_strdup(a.night); }
            if (!x->night_hi || strcmp(a.night, x->night_hi) > 0) { free(x->night_hi); x->night_hi = ns_strdup(a.night); }
            ns_info(1, "cutoffs", "archive %d/%d %s (night %s): %lld rows", k + 1, x->n_paths,
                    x->paths[k], a.night, (long long)a.n);
        }
        for (int64_t r0 = 0; r0 < a.n && r == 0; r0 += x->chunk) {
            int64_t n = a.n - r0 < x->chunk ? a.n - r0 : x->chunk;
            ns_batch_t b;
            ns_archive_rows_t rows;
            if (ns_archive_read(&a, x->p, map, r0, n, &b, &rows) < 0) { r = -1; break; }
            if (ns_batch_score(&b) < 0) r = -1;
            else chunk_collect(x, &b, &rows, first);
            ns_archive_batch_free(&b);
            ns_archive_rows_free(&rows);
        }
        free(map);
        ns_archive_close(&a);
        if (r < 0) return -1;
    }
    return 0;
}

/* Shortest decimal that reads back as exactly v. */
static void put_exact(FILE *fp, double v)
{
    char buf[40];
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
    fputs(buf, fp);
}

typedef struct {
    int64_t n, below, above, missing;   /* n counts every value, censored ones included */
    double lower, median, upper, lo_ci[2], up_ci[2];
    int lo_open, up_open;          /* a CI side could not be bounded: N too small */
    int lo_ci_cens, up_ci_cens;    /* a CI end is among censored values: no interval given */
    int lower_cens, median_cens, upper_cens;   /* the percentile is a censoring limit */
} gstat_t;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* A quantile computed over -inf (below) / +inf (above) placeholders: the value, or the
 * censoring limit with *cens = 1 when a placeholder took part. */
static double uncensor(double v, double below_lim, double above_lim, int *cens)
{
    *cens = !isfinite(v);
    if (!*cens) return v;
    return v < 0 ? below_lim : v > 0 ? above_lim : (isnan(below_lim) ? above_lim : below_lim);
}

/* Statistics of marker column c (kinds k) for group g. */
static void group_stats(const dctx_t *x, const double *c, const uint8_t *kd, int g, double lo_q,
                        double up_q, double conf, double *tmp, gstat_t *o)
{
    memset(o, 0, sizeof *o);
    double below_lim = NAN, above_lim = NAN;   /* highest "<x", lowest ">=x" */
    int64_t k = 0;
    for (int64_t j = 0; j < x->n_used; j++) {
        if (!((x->grp[j] >> g) & 1u)) continue;
        switch (kd[j]) {
        case K_MISSING: o->missing++; continue;
        case K_BELOW:
            o->below++;
            if (isnan(below_lim) || c[j] > below_lim) below_lim = c[j];
            tmp[k++] = -INFINITY;
            break;
        case K_ABOVE:
            o->above++;
            if (isnan(above_lim) || c[j] < above_lim) above_lim = c[j];
            tmp[k++] = INFINITY;
            break;
        default: tmp[k++] = c[j];
        }
    }
    o->n = k;
    if (k == 0) return;
    qsort(tmp, (size_t)k, sizeof *tmp, cmp_double);
    o->lower = uncensor(ns_quantile_sorted(tmp, (size_t)k, lo_q), below_lim, above_lim, &o->lower_cens);
    o->median = uncensor(ns_quantile_sorted(tmp, (size_t)k, 0.5), below_lim, above_lim, &o->median_cens);
    o->upper = uncensor(ns_quantile_sorted(tmp, (size_t)k, up_q), below_lim, above_lim, &o->upper_cens);
    o->lo_open = ns_quantile_ci(tmp, (size_t)k, lo_q, conf, &o->lo_ci[0], &o->lo_ci[1], NULL, NULL) != 0;
    o->up_open = ns_quantile_ci(tmp, (size_t)k, up_q, conf, &o->up_ci[0], &o->up_ci[1], NULL, NULL) != 0;
    o->lo_ci_cens = !o->lo_open && (!isfinite(o->lo_ci[0]) || !isfinite(o->lo_ci[1]));
    o->up_ci_cens = !o->up_open && (!isfinite(o->up_ci[0]) || !isfinite(o->up_ci[1]));
}

static const char *group_name(const ns_panel_t *p, int g)
{
    return g == G_ALL ? "all" : g == G_STD ? "standard" : p->strata[g - 2].name;
}

static void put_pct(FILE *fp, double pct)
{
    put_exact(fp, pct);
}

/* Per group: markers whose N was too small, and the smallest N seen (for one stderr line
 * per group rather than one per marker). */
typedef struct {
    int n_small;
    int64_t min_n;
} gwarn_t;

static void write_group(FILE *fp, const ns_panel_t *p, int g, const gstat_t *s,
                        double lo_pct, double up_pct, size_t need, double conf, gwarn_t *w)
{
    const char *gn = group_name(p, g);
    if (s->n == 0) {
        fprintf(fp, "      # %s: no screen-negative card with a value\n", gn);
        return;
    }
    if ((size_t)s->n < need || s->lo_open || s->up_open) {
        fprintf(fp, "      # WARNING: N = %lld is too small for the %g/%g percentiles: a two-sided "
                "%g %% interval needs N >= %zu\n", (long long)s->n, lo_pct, up_pct, 100 * conf, need);
        if (w->n_small++ == 0 || s->n < w->min_n) w->min_n = s->n;
    }
    if (s->lower_cens || s->median_cens || s->upper_cens)
        fprintf(fp, "      # CENSORED: the%s%s%s %s a limit of quantitation, not a measured percentile "
                "(%lld of %lld values below a limit, %lld above one)\n",
                s->lower_cens ? " lower" : "", s->median_cens ? " median" : "", s->upper_cens ? " upper" : "",
                s->lower_cens + s->median_cens + s->upper_cens > 1 ? "are" : "is",
                (long long)s->below, (long long)s->n, (long long)s->above);
    fprintf(fp, "      %s: { n: %lld, lower: ", gn, (long long)s->n);
    put_exact(fp, s->lower);
    fputs(", median: ", fp);
    put_exact(fp, s->median);
    fputs(", upper: ", fp);
    put_exact(fp, s->upper);
    if (!s->lo_open && !s->lo_ci_cens) {
        fputs(", lower_ci: [", fp); put_exact(fp, s->lo_ci[0]); fputs(", ", fp);
        put_exact(fp, s->lo_ci[1]); fputc(']', fp);
    }
    if (!s->up_open && !s->up_ci_cens) {
        fputs(", upper_ci: [", fp); put_exact(fp, s->up_ci[0]); fputs(", ", fp);
        put_exact(fp, s->up_ci[1]); fputc(']', fp);
    }
    fputs(" }", fp);
    if (s->below || s->above || s->missing) {
        fputs("   #", fp);
        if (s->below) fprintf(fp, " %lld below a limit (ranked lowest)", (long long)s->below);
        if (s->above) fprintf(fp, " %lld above a limit (ranked highest)", (long long)s->above);
        if (s->missing) fprintf(fp, " %lld missing (not used)", (long long)s->missing);
    }
    fputc('\n', fp);
}

/* Disease-range summary of the known cases, per condition marker. */
static void write_disease(FILE *yaml, FILE *csv, dctx_t *x)
{
    const ns_panel_t *p = x->p;
    if (csv) fputs("condition,marker,direction,n,min,p5,median,p95,max\n", csv);
    fputs("\n# Disease ranges: exact values of the known cases (--outcomes) found in these archives,\n"
          "# per condition marker.  To score a condition, paste a marker's median under it as\n"
          "#   disease: { median: M, source: \"neoscreen cutoffs derive: N known cases, nights ...\" }\n", yaml);
    for (int s = 0; s < p->n_slots; s++) {
        const ns_condition_t *cd = &p->conds[p->slot_cond[s]];
        const ns_marker_t *mk = &cd->markers[p->slot_marker[s]];
        const char *mn = ns_panel_marker_name(p, mk->marker);
        const char *dir = mk->thr.dir == NS_DIR_HIGH ? "high" : "low";
        int64_t n = x->dn[s];
        if (n == 0) {
            fprintf(yaml, "#   %s %s (%s): no known case\n", cd->code, mn, dir);
            continue;
        }
        qsort(x->dval[s], (size_t)n, sizeof **x->dval, cmp_double);
        const double *v = x->dval[s];
        double q[5] = { v[0], ns_quantile_sorted(v, (size_t)n, 0.05), ns_quantile_sorted(v, (size_t)n, 0.5),
                        ns_quantile_sorted(v, (size_t)n, 0.95), v[n - 1] };
        fprintf(yaml, "#   %s %s (%s): n %lld, median ", cd->code, mn, dir, (long long)n);
        put_exact(yaml, q[2]);
        fputs(", range ", yaml);
        put_exact(yaml, q[0]);
        fputs(" .. ", yaml);
        put_exact(yaml, q[4]);
        fputc('\n', yaml);
        if (csv) {
            ns_csv_field(csv, cd->code); fputc(',', csv);
            ns_csv_field(csv, mn);
            fprintf(csv, ",%s,%lld", dir, (long long)n);
            for (int j = 0; j < 5; j++) { fputc(',', csv); put_exact(csv, q[j]); }
            fputc('\n', csv);
        }
    }
}

static int derive(int argc, char **argv)
{
    static const struct option lopts[] = {
        { "panel", required_argument, NULL, 'p' },
        { "out", required_argument, NULL, 'o' },
        { "lower", required_argument, NULL, 'L' },
        { "upper", required_argument, NULL, 'U' },
        { "conf", required_argument, NULL, 'C' },
        { "outcomes", required_argument, NULL, 'O' },
        { "disease-out", required_argument, NULL, 'D' },
        { "memory", required_argument, NULL, 'M' },
        { "chunk", required_argument, NULL, 'K' },
        { "threads", required_argument, NULL, 't' },
        { "verbosity", required_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    const char *panel_opt = NULL, *out = NULL, *outcomes = NULL, *dis_out = NULL;
    double lo_pct = 0.5, up_pct = 99.5, conf = 0.95, mem_mb = 2048;
    int64_t chunk = 65536;
    int threads = 0, ch;
    char *end;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "p:o:t:v:h", lopts, NULL)) >= 0) {
        switch (ch) {
        case 'p': panel_opt = optarg; break;
        case 'o': out = optarg; break;
        case 'O': outcomes = optarg; break;
        case 'D': dis_out = optarg; break;
        case 'L': case 'U': case 'C': case 'M': {
            double v = strtod(optarg, &end);
            if (end == optarg || *end || !isfinite(v) || v <= 0) {
                ns_error("cutoffs", "--%s needs a positive number, not '%s'",
                         ch == 'L' ? "lower" : ch == 'U' ? "upper" : ch == 'C' ? "conf" : "memory", optarg);
                return 1;
            }
            if (ch == 'L') lo_pct = v; else if (ch == 'U') up_pct = v; else if (ch == 'C') conf = v; else mem_mb = v;
            break;
        }
        case 'K': chunk = strtoll(optarg, &end, 10);
            if (end == optarg || *end || chunk < 1) { ns_error("cutoffs", "--chunk must be a positive number, not '%s'", optarg); return 1; }
            break;
        case 't': threads = atoi(optarg);
            if (threads < 1) { ns_error("cutoffs", "--threads must be a positive number, not '%s'", optarg); return 1; }
            break;
        case 'v': ns_verbosity = atoi(optarg); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 1;
        }
    }
    if (!(lo_pct < 50 && up_pct > 50 && up_pct < 100)) {
        ns_error("cutoffs", "percentiles must satisfy 0 < --lower < 50 < --upper < 100 (got %g and %g)", lo_pct, up_pct);
        return 1;
    }
    if (!(conf < 1)) { ns_error("cutoffs", "--conf must be between 0 and 1, e.g. 0.95"); return 1; }
    if (dis_out && !outcomes) { ns_error("cutoffs", "--disease-out needs --outcomes (the known cases)"); return 1; }
    if (optind >= argc) { ns_error("cutoffs", "no archives given (batch.h5 files or directories)"); return 1; }
    ns_archive_start(threads);
    int status = 1;
    dctx_t x;
    memset(&x, 0, sizeof x);
    x.chunk = chunk;
    ns_outcomes_t oc;
    memset(&oc, 0, sizeof oc);
    ns_atomic_t *fo = NULL, *fd = NULL;
    double *tmp = NULL;
    char *cfg = ns_config_path(panel_opt, "NEOSCREEN_CONFIG", DEFAULT_PANEL);
    ns_panel_errs_t perr;
    ns_panel_t *p = ns_panel_load(cfg, &perr);
    if (!p) {
        ns_panel_errs_print(stderr, "neoscreen cutoffs", cfg, NULL, &perr);
        ns_error("cutoffs", "%s: %d problem%s in the panel", cfg, perr.n, perr.n == 1 ? "" : "s");
        ns_panel_errs_free(&perr);
        free(cfg);
        return 1;
    }
    ns_panel_errs_free(&perr);
    x.p = p;
    if (p->n_strata + 2 > 32) { ns_error("cutoffs", "too many strata"); goto done; }
    if (outcomes) {
        if (ns_outcomes_load(&oc, outcomes, "cutoffs") < 0) goto done;
        x.oc = &oc;
    }
    if (ns_archive_paths("cutoffs", argv + optind, argc - optind, &x.paths, &x.n_paths) < 0) goto done;
    x.dval = ns_calloc((size_t)p->n_slots + 1, sizeof *x.dval);
    x.dn = ns_calloc((size_t)p->n_slots + 1, sizeof *x.dn);
    x.dm = ns_calloc((size_t)p->n_slots + 1, sizeof *x.dm);

    /* rows in all archives bound the cards used: the column capacity */
    int64_t total = 0;
    for (int k = 0; k < x.n_paths; k++) {
        ns_archive_t a;
        if (ns_archive_open(&a, "cutoffs", x.paths[k]) < 0) goto done;
        total += a.n;
        ns_archive_close(&a);
    }
    x.cap = total > 0 ? total : 1;
    const int nm = p->n_analytes + p->n_ratios;
    /* per marker and card: 8 bytes of value and 1 of kind, plus 8 of sort buffer per thread */
    int per_pass = (int)fmin((double)nm, fmax(1.0, mem_mb * 1048576.0 / (9.0 * (double)x.cap)));
    x.col = ns_malloc((size_t)per_pass * (size_t)x.cap * sizeof *x.col);
    x.kind = ns_malloc((size_t)per_pass * (size_t)x.cap);
    x.grp = ns_malloc((size_t)x.cap * sizeof *x.grp);
    tmp = NULL;

    if (out) {
        if (!(fo = ns_atomic_open(out, 0644))) { ns_error_errno("cutoffs", "cannot write %s", out); goto done; }
    }
    if (dis_out && !(fd = ns_atomic_open(dis_out, 0644))) { ns_error_errno("cutoffs", "cannot write %s", dis_out); goto done; }
    FILE *fp = fo ? fo->fp : stdout;
    const double lq = lo_pct / 100, uq = up_pct / 100;
    size_t need = ns_quantile_min_n(lq < 1 - uq ? lq : 1 - uq, conf);
    const int ng = 2 + p->n_strata;
    gstat_t *st = ns_calloc((size_t)per_pass * (size_t)ng + 1, sizeof *st);
    int n_warn = 0, passes = 0;
    gwarn_t *gw = ns_calloc((size_t)ng, sizeof *gw);
    for (int m0 = 0; m0 < nm; m0 += per_pass) {
        x.m0 = m0;
        x.m1 = m0 + per_pass < nm ? m0 + per_pass : nm;
        if (one_pass(&x, m0 == 0) < 0) { free(st); free(gw); goto done; }
        passes++;
        if (m0 == 0) {
            ns_info(1, "cutoffs", "%lld cards screened, %lld screen-negative used%s", (long long)x.screened,
                    (long long)x.negative, x.oc ? "" : " (no --outcomes: known cases cannot be left out)");
            if (x.negative == 0) {
                ns_error("cutoffs", "no screen-negative patient card in the %d archive%s: nothing to derive",
                         x.n_paths, x.n_paths == 1 ? "" : "s");
                free(st);
                free(gw);
                goto done;
            }
            fprintf(fp, "# neoscreen cutoffs derive: percentiles of screen-negative patient cards\n"
                    "# archives: %d, nights %s .. %s; %lld rows, %lld cards screened, %lld screen-negative used",
                    x.n_paths, x.night_lo ? x.night_lo : "", x.night_hi ? x.night_hi : "", (long long)x.rows,
                    (long long)x.screened, (long long)x.negative);
            if (x.oc) fprintf(fp, ", %lld known cases left out", (long long)x.cases_left_out);
            fprintf(fp, "\n# panel: %s %s (%s), sha256 %s\n", p->name, p->version, cfg, p->sha256);
            fprintf(fp, "# groups: all; standard = in none of the panel's strata; one per stratum\n"
                    "# percentiles: exact, type 7 (Hyndman-Fan, as GSL and R); *_ci: distribution-free %g %%\n"
                    "# intervals from order statistics (binomial); a two-sided interval at these percentiles\n"
                    "# needs N >= %zu.  Censored cells are ranked (\"<x\" lowest, \">=x\" highest), missing ones\n"
                    "# are not used; a percentile among censored values is that limit (marked CENSORED).\n",
                    100 * conf, need);
            fputs("population:\n", fp);
            fprintf(fp, "  source: \"neoscreen cutoffs derive: %d archives, nights %s..%s, %lld screen-negative cards\"\n",
                    x.n_paths, x.night_lo ? x.night_lo : "", x.night_hi ? x.night_hi : "", (long long)x.negative);
            fputs("  lower_pct: ", fp); put_pct(fp, lo_pct);
            fputs("\n  upper_pct: ", fp); put_pct(fp, up_pct);
            fputs("\n  markers:\n", fp);
        }
        const int nb = x.m1 - x.m0;
        #pragma omp parallel
        {
            double *t = ns_malloc((size_t)(x.n_used > 0 ? x.n_used : 1) * sizeof *t);
            #pragma omp for schedule(dynamic, 1)
            for (int w = 0; w < nb * ng; w++) {
                int mi = w / ng, g = w % ng;
                group_stats(&x, x.col + (size_t)mi * (size_t)x.cap, x.kind + (size_t)mi * (size_t)x.cap,
                            g, lq, uq, conf, t, &st[w]);
            }
            free(t);
        }
        for (int mi = 0; mi < nb; mi++) {
            const char *mn = ns_panel_marker_name(p, x.m0 + mi);
            int any = 0;
            for (int g = 0; g < ng; g++) any |= st[mi * ng + g].n > 0;
            if (!any) {
                /* a marker key with nothing under it would not be valid population YAML */
                fprintf(fp, "    # \"%s\": no screen-negative card with a value\n", mn);
                ns_error("cutoffs", "warning: %s: no screen-negative card has a value; left out", mn);
                n_warn++;
                continue;
            }
            fputs("    \"", fp);
            fputs(mn, fp);
            fputs("\":\n", fp);
            for (int g = 0; g < ng; g++)
                write_group(fp, p, g, &st[mi * ng + g], lo_pct, up_pct, need, conf, &gw[g]);
        }
    }
    free(st);
    for (int g = 0; g < ng; g++) {
        if (!gw[g].n_small) continue;
        n_warn++;
        ns_error("cutoffs", "warning: group %s: N is too small for the %g/%g percentiles for %d of %d "
                 "markers (smallest N %lld; a two-sided %g %% interval needs N >= %zu); marked in the output",
                 group_name(p, g), lo_pct, up_pct, gw[g].n_small, nm, (long long)gw[g].min_n, 100 * conf, need);
    }
    free(gw);
    if (x.oc) write_disease(fp, fd ? fd->fp : NULL, &x);
    if (fo && ns_atomic_commit(fo) < 0) { fo = NULL; ns_error_errno("cutoffs", "writing %s", out); goto done; }
    fo = NULL;
    if (fd && ns_atomic_commit(fd) < 0) { fd = NULL; ns_error_errno("cutoffs", "writing %s", dis_out); goto done; }
    fd = NULL;
    if (!out) fflush(stdout);
    ns_info(1, "cutoffs", "%d markers x %d groups in %d pass%s, %d group warning%s, %.2f s, peak RSS %ld kB",
            nm, ng, passes, passes == 1 ? "" : "es", n_warn, n_warn == 1 ? "" : "s", ns_wall_s(), ns_peak_rss_kb());
    status = 0;
done:
    if (fo) ns_atomic_abort(fo);
    if (fd) ns_atomic_abort(fd);
    free(tmp);
    free(x.col);
    free(x.kind);
    free(x.grp);
    for (int s = 0; x.dval && s < p->n_slots; s++) free(x.dval[s]);
    free(x.dval);
    free(x.dn);
    free(x.dm);
    for (int k = 0; k < x.n_paths; k++) free(x.paths[k]);
    free(x.paths);
    ns_archive_seen_free(&x.seen);
    free(x.night_lo);
    free(x.night_hi);
    ns_outcomes_free(&oc);
    ns_panel_free(p);
    free(cfg);
    return status;
}

int ns_cmd_cutoffs(int argc, char **argv)
{
    if (argc < 2) { usage(stdout); return 1; }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) { usage(stdout); return 0; }
    if (strcmp(argv[1], "derive") == 0) return derive(argc - 1, argv + 1);
    ns_error("cutoffs", "unknown subcommand '%s' (expected: derive)", argv[1]);
    return 1;
}
