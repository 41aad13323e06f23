/* test_score.c — condition scores (pipeline/score.h): the position formula at its anchors,
 * clamping, weights, monotonicity in every marker's abnormal direction, band edges, the
 * call_by rules, NAN handling and the population group a row is compared with, both on the
 * pure functions and through ns_batch_score() on a small hand-made batch.
 *
 * The population and disease numbers below are made up for the test; they are not
 * clinical values. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "../../pipeline/panel.h"
#include "../../pipeline/batch.h"
#include "../../pipeline/score.h"
#include "../../pipeline/recall.h"

#define EPS 1e-12

/* ---- the formula ----------------------------------------------------------------------- */

static void test_position_anchors(void **st)
{
    (void)st;
    /* high marker: M 0.07, normal limit (upper) 0.2, disease median 8.4 */
    assert_float_equal(ns_score_position(0.07, 0.07, 0.2, 8.4), 0.0, EPS);
    assert_float_equal(ns_score_position(0.2, 0.07, 0.2, 8.4), 1.0, EPS);
    assert_float_equal(ns_score_position(8.4, 0.07, 0.2, 8.4), 2.0, EPS);
    /* halfway in log terms between M and L, and between L and D */
    assert_float_equal(ns_score_position(sqrt(0.07 * 0.2), 0.07, 0.2, 8.4), 0.5, 1e-9);
    assert_float_equal(ns_score_position(sqrt(0.2 * 8.4), 0.07, 0.2, 8.4), 1.5, 1e-9);
    /* low marker: M 30, normal limit (lower) 17, disease median 2.2 */
    assert_float_equal(ns_score_position(30, 30, 17, 2.2), 0.0, EPS);
    assert_float_equal(ns_score_position(17, 30, 17, 2.2), 1.0, EPS);
    assert_float_equal(ns_score_position(2.2, 30, 17, 2.2), 2.0, EPS);
    /* on the normal side of the median the position is negative */
    assert_true(ns_score_position(0.05, 0.07, 0.2, 8.4) < 0);
    assert_true(ns_score_position(40, 30, 17, 2.2) < 0);
}

static void test_position_clamp_and_nan(void **st)
{
    (void)st;
    assert_float_equal(ns_score_position(1e6, 0.07, 0.2, 8.4), NS_SCORE_HI, 0);
    assert_float_equal(ns_score_position(1e-9, 0.07, 0.2, 8.4), NS_SCORE_LO, 0);
    assert_float_equal(ns_score_position(1e-9, 30, 17, 2.2), NS_SCORE_HI, 0);
    assert_float_equal(ns_score_position(1e6, 30, 17, 2.2), NS_SCORE_LO, 0);
    /* exactly 3 at D^2/L (one more disease-range step), still 3 beyond it */
    assert_float_equal(ns_score_position(8.4 * 8.4 / 0.2, 0.07, 0.2, 8.4), 3.0, 1e-9);
    /* no log scale: value or parameters not > 0, L == M, D == L */
    assert_true(isnan(ns_score_position(0, 0.07, 0.2, 8.4)));
    assert_true(isnan(ns_score_position(-1, 0.07, 0.2, 8.4)));
    assert_true(isnan(ns_score_position(NAN, 0.07, 0.2, 8.4)));
    assert_true(isnan(ns_score_position(0.1, 0.2, 0.2, 8.4)));
    assert_true(isnan(ns_score_position(0.1, 0.07, 0.2, 0.2)));
    assert_true(isnan(ns_score_position(5, 30, 0, 2.2)));
}

static void test_combine_weights(void **st)
{
    (void)st;
    double u[3] = { 2.0, 0.5, 1.0 }, w[3] = { 1.0, 0.5, 2.0 };
    uint8_t prim[3] = { 1, 0, 0 };
    assert_float_equal(ns_score_combine(u, w, prim, 3), (2.0 + 0.25 + 2.0) / 3.5, EPS);
    assert_float_equal(ns_score_combine(u, w, prim, 2), (2.0 + 0.25) / 1.5, EPS);
    /* a marker that was not usable is left out of both sums */
    u[1] = NAN;
    assert_float_equal(ns_score_combine(u, w, prim, 3), (2.0 + 2.0) / 3.0, EPS);
    /* weight 0: counted for nothing */
    w[2] = 0;
    assert_float_equal(ns_score_combine(u, w, prim, 3), 2.0, EPS);
    /* no usable primary marker: no score, however many secondaries */
    u[0] = NAN;
    u[1] = 1.5;
    w[2] = 2;
    assert_true(isnan(ns_score_combine(u, w, prim, 3)));
    /* a primary with weight 0 does not make a score either */
    u[0] = 2.0;
    w[0] = 0;
    assert_true(isnan(ns_score_combine(u, w, prim, 3)));
    assert_true(isnan(ns_score_combine(u, w, prim, 0)));
}

/* S never decreases when one marker moves further in its abnormal direction (the others
 * fixed at several places), over a log grid from far below to far above. */
static void test_monotone(void **st)
{
    (void)st;
    /* three markers: high primary, low primary, high secondary */
    const double M[3] = { 0.07, 30, 0.10 }, L[3] = { 0.2, 17, 0.30 }, D[3] = { 8.4, 2.2, 1.0 };
    const int high[3] = { 1, 0, 1 };
    const double w[3] = { 1, 1, 0.5 };
    const uint8_t prim[3] = { 1, 1, 0 };
    const double fixed[] = { 0.5, 1.0, 3.0 };     /* the others, as multiples of their M or L */
    for (int m = 0; m < 3; m++)
        for (int f = 0; f < 3; f++) {
            double u[3], prev = -INFINITY;
            for (int k = 0; k < 3; k++)
                if (k != m) u[k] = ns_score_position(fixed[f] * (high[k] ? L[k] : M[k]), M[k], L[k], D[k]);
            for (int j = 0; j <= 400; j++) {
                /* 10^-4 .. 10^4 of the median, walked in the abnormal direction */
                double t = -4.0 + 8.0 * j / 400.0;
                double x = M[m] * pow(10.0, high[m] ? t : -t);
                u[m] = ns_score_position(x, M[m], L[m], D[m]);
                double s = ns_score_combine(u, w, prim, 3);
                assert_false(isnan(s));
                assert_true(s >= prev);
                prev = s;
            }
            /* and it reached both clamps of that marker */
            assert_float_equal(u[m], NS_SCORE_HI, 0);
        }
}

static void test_band_edges(void **st)
{
    (void)st;
    assert_int_equal(ns_score_band(1.2, 1.2, 1.8), NS_BAND_POSSIBLE);
    assert_int_equal(ns_score_band(nextafter(1.2, 0), 1.2, 1.8), NS_BAND_NOT_INFORMATIVE);
    assert_int_equal(ns_score_band(1.8, 1.2, 1.8), NS_BAND_LIKELY);
    assert_int_equal(ns_score_band(nextafter(1.8, 0), 1.2, 1.8), NS_BAND_POSSIBLE);
    assert_int_equal(ns_score_band(-1, 1.2, 1.8), NS_BAND_NOT_INFORMATIVE);
    assert_int_equal(ns_score_band(3, 1.2, 1.8), NS_BAND_LIKELY);
    assert_int_equal(ns_score_band(NAN, 1.2, 1.8), NS_BAND_NONE);
    assert_string_equal(ns_band_name(NS_BAND_NOT_INFORMATIVE), "not_informative");
    assert_string_equal(ns_band_name(NS_BAND_NONE), "none");
}

static void test_call_rules(void **st)
{
    (void)st;
    enum { NEG = NS_CALL_NEGATIVE, BL = NS_CALL_BORDERLINE, POS = NS_CALL_POSITIVE, CRIT = NS_CALL_CRITICAL,
           IND = NS_CALL_INDETERMINATE, NI = NS_BAND_NOT_INFORMATIVE, PO = NS_BAND_POSSIBLE, LI = NS_BAND_LIKELY,
           NO = NS_BAND_NONE };
    /* cutoff: the score is only reported */
    for (int c = 0; c <= IND; c++)
        for (int band = 0; band < NS_BAND_N; band++) assert_int_equal(ns_score_call(c, band, NS_CALL_BY_CUTOFF, 0), c);
    /* both: borderline / positive stand only with possible or likely */
    assert_int_equal(ns_score_call(POS, NI, NS_CALL_BY_BOTH, 0), NEG);
    assert_int_equal(ns_score_call(BL, NI, NS_CALL_BY_BOTH, 0), NEG);
    assert_int_equal(ns_score_call(BL, NI, NS_CALL_BY_BOTH, 1), NEG);
    assert_int_equal(ns_score_call(POS, PO, NS_CALL_BY_BOTH, 0), POS);
    assert_int_equal(ns_score_call(POS, LI, NS_CALL_BY_BOTH, 0), POS);
    assert_int_equal(ns_score_call(BL, LI, NS_CALL_BY_BOTH, 0), BL);
    assert_int_equal(ns_score_call(NEG, LI, NS_CALL_BY_BOTH, 0), NEG);     /* never raises */
    assert_int_equal(ns_score_call(CRIT, NI, NS_CALL_BY_BOTH, 0), CRIT);   /* never lowers a critical */
    assert_int_equal(ns_score_call(IND, NI, NS_CALL_BY_BOTH, 0), IND);
    assert_int_equal(ns_score_call(POS, NO, NS_CALL_BY_BOTH, 0), POS);     /* no score: cutoff call */
    /* score: the band decides */
    assert_int_equal(ns_score_call(NEG, LI, NS_CALL_BY_SCORE, 0), POS);
    assert_int_equal(ns_score_call(NEG, PO, NS_CALL_BY_SCORE, 0), BL);
    assert_int_equal(ns_score_call(POS, PO, NS_CALL_BY_SCORE, 0), BL);
    assert_int_equal(ns_score_call(POS, NI, NS_CALL_BY_SCORE, 0), NEG);
    assert_int_equal(ns_score_call(BL, LI, NS_CALL_BY_SCORE, 0), POS);
    assert_int_equal(ns_score_call(CRIT, NI, NS_CALL_BY_SCORE, 0), CRIT);
    assert_int_equal(ns_score_call(IND, LI, NS_CALL_BY_SCORE, 0), IND);
    assert_int_equal(ns_score_call(POS, NO, NS_CALL_BY_SCORE, 0), POS);
    assert_int_equal(ns_score_call(NEG, NO, NS_CALL_BY_SCORE, 0), NEG);
    /* a call held back by the TPN rule is never raised by the score, but may be lowered */
    assert_int_equal(ns_score_call(BL, LI, NS_CALL_BY_SCORE, 1), BL);
    assert_int_equal(ns_score_call(BL, NI, NS_CALL_BY_SCORE, 1), NEG);
}

/* ---- through ns_batch_score ------------------------------------------------------------- */

static const char *panel_text =
    "panel: {name: t, version: \"1\"}\n"
    "analytes:\n"
    "  - {name: C8}\n"
    "  - {name: C10}\n"
    "  - {name: C0}\n"
    "strata:\n"
    "  - {name: preterm, covariate: gestational_age_days, lt: 259}\n"
    "  - {name: lbw, covariate: birth_weight_g, lt: 2500}\n"
    "population:\n"
    "  lower_pct: 0.5\n"
    "  upper_pct: 99.5\n"
    "  markers:\n"
    "    C8:\n"
    "      all:      {n: 1000, lower: 0.02, median: 0.08, upper: 0.25}\n"
    "      standard: {n: 900, lower: 0.02, median: 0.07, upper: 0.20}\n"
    "      preterm:  {n: 100, lower: 0.01, median: 0.05, upper: 0.15}\n"
    "    C10:\n"
    "      all: {n: 1000, lower: 0.03, median: 0.10, upper: 0.30}\n"
    "    C0:\n"
    "      all: {n: 1000, lower: 17, median: 30, upper: 50}\n"
    "conditions:\n"
    "  - code: MCAD\n"
    "    priority: critical\n"
    "    action: referral\n"
    "    score: {call_by: both, possible: 1.2, likely: 1.8}\n"
    "    markers:\n"
    "      - {marker: C8, direction: high, cutoff: 0.15, critical: 5, disease: {median: 8.4, source: test}}\n"
    "      - {marker: C10, role: secondary, direction: high, cutoff: 0.48, disease: {median: 1.0, source: test}}\n"
    "  - code: CUD\n"
    "    priority: urgent\n"
    "    action: referral\n"
    "    score: {call_by: score, possible: 1.2, likely: 1.8}\n"
    "    markers:\n"
    "      - {marker: C0, direction: low, cutoff: 6.4, disease: {median: 2.2, source: test}}\n"
    "  - code: PLAIN\n"
    "    priority: urgent\n"
    "    action: referral\n"
    "    markers:\n"
    "      - {marker: C10, direction: high, cutoff: 0.48}\n";

enum { A_C8, A_C10, A_C0 };
enum { C_MCAD, C_CUD, C_PLAIN };

typedef struct {
    double c8, c10, c0;
    double ga, bw;          /* NAN = unknown */
    int type;               /* NS_TYPE_* */
    int matched;            /* has a manifest row */
    int c8_cell;            /* NS_CELL_* of C8 */
} row_t;

static ns_panel_t *load_panel(void)
{
    ns_panel_errs_t e;
    ns_panel_t *p = ns_panel_load_mem("t.yaml", panel_text, strlen(panel_text), &e);
    for (int i = 0; i < e.n; i++) print_error("%d:%d: %s\n", e.v[i].pos.line, e.v[i].pos.col, e.v[i].msg);
    assert_non_null(p);
    ns_panel_errs_free(&e);
    return p;
}

/* A batch of n rows as ingest would leave it (freed with ns_batch_free()). */
static ns_batch_t *make_batch(const ns_panel_t *p, const row_t *r, int n)
{
    ns_batch_t *b = calloc(1, sizeof *b);
    const size_t un = (size_t)n;
    b->panel = p;
    b->n = n;
    b->sample_id = calloc(un, sizeof *b->sample_id);
    b->type = calloc(un, 1);
    b->mrow = calloc(un, sizeof *b->mrow);
    b->conc = calloc(3 * un, sizeof *b->conc);
    b->cell = calloc(3 * un, 1);
    b->manifest.rows = calloc(un, sizeof *b->manifest.rows);
    for (int i = 0; i < n; i++) {
        b->type[i] = (uint8_t)r[i].type;
        b->conc[A_C8 * un + (size_t)i] = r[i].c8;
        b->conc[A_C10 * un + (size_t)i] = r[i].c10;
        b->conc[A_C0 * un + (size_t)i] = r[i].c0;
        b->cell[A_C8 * un + (size_t)i] = (uint8_t)r[i].c8_cell;
        for (int a = 0; a < 3; a++)
            if (isnan(b->conc[(size_t)a * un + (size_t)i])) b->cell[(size_t)a * un + (size_t)i] = NS_CELL_EMPTY;
        if (!r[i].matched) { b->mrow[i] = -1; continue; }
        ns_manifest_row_t *m = &b->manifest.rows[b->manifest.n];
        m->gestational_age_days = r[i].ga;
        m->birth_weight_g = r[i].bw;
        m->age_hours = 48;
        m->transfusion = m->antibiotics = m->nicu = 0;
        b->mrow[i] = b->manifest.n++;
    }
    return b;
}

#define STD(c8, c10, c0) { c8, c10, c0, 280, 3300, NS_TYPE_PATIENT, 1, NS_CELL_VALUE }

static double pos_hi(double x, double M, double L, double D) { return ns_score_position(x, M, L, D); }

static void test_batch_calls(void **st)
{
    (void)st;
    ns_panel_t *p = load_panel();
    assert_int_equal(p->n_scored, 2);
    assert_int_equal(p->n_sslots, 3);
    const row_t r[] = {
        /* 0 MCAD cutoff-positive (C8 0.16 >= 0.15) but not informative: lowered */
        STD(0.16, 0.10, 30),
        /* 1 MCAD critical (C8 >= 5) with C10 missing: stays critical */
        STD(6.0, NAN, 30),
        /* 2 MCAD positive and possible: stands (0.5 beyond the limit, C10 0.6) */
        STD(0.5, 0.6, 30),
        /* 3 preterm (and lbw): C8 against the preterm entry (M 0.05, L 0.15) */
        { 0.15, 0.10, 30, 250, 2000, NS_TYPE_PATIENT, 1, NS_CELL_VALUE },
        /* 4 lbw only: lbw has no C8 entry, so standard (M 0.07, L 0.20) */
        { 0.15, 0.10, 30, 270, 2000, NS_TYPE_PATIENT, 1, NS_CELL_VALUE },
        /* 5 no manifest row: in no stratum, standard */
        { 0.15, 0.10, 30, NAN, NAN, NS_TYPE_PATIENT, 0, NS_CELL_VALUE },
        /* 6 a control well: never scored */
        { 0.16, 0.10, 30, NAN, NAN, NS_TYPE_QC_HIGH, 0, NS_CELL_VALUE },
        /* 7 C8 missing, C10 present: no primary, no score; MCAD indeterminate */
        STD(NAN, 0.6, 30),
        /* 8 C8 censored "<0.01": not used, no score; its cutoff call is negative */
        { 0.01, 0.10, 30, 280, 3300, NS_TYPE_PATIENT, 1, NS_CELL_BELOW },
        /* 9 CUD cutoff-positive (C0 3 <= 6.4) and likely: positive */
        STD(0.07, 0.10, 3),
        /* 10 CUD negative by cutoff (C0 11) but possible: borderline by score */
        STD(0.07, 0.10, 11),
        /* 11 CUD cutoff-positive (C0 6) and only possible: borderline */
        STD(0.07, 0.10, 6),
        /* 12 C0 0 (ND): no score, the cutoff call (positive) stands */
        STD(0.07, 0.10, 0),
    };
    const int n = (int)(sizeof r / sizeof r[0]);
    ns_batch_t *b = make_batch(p, r, n);
    assert_int_equal(ns_batch_score(b), 0);
    assert_non_null(b->score);
    const size_t un = (size_t)n;
#define SC(c, i) b->score[(size_t)(c) * un + (size_t)(i)]
#define BAND(c, i) b->band[(size_t)(c) * un + (size_t)(i)]
#define CALL(c, i) b->call[(size_t)(c) * un + (size_t)(i)]
#define NOTE(c, i) b->call_note[(size_t)(c) * un + (size_t)(i)]
#define MOM(k, i) b->mom[(size_t)(k) * un + (size_t)(i)]

    /* row 0: S = (u(C8) + 0.5 u(C10)) / 1.5, standard group */
    double u8 = pos_hi(0.16, 0.07, 0.20, 8.4), u10 = pos_hi(0.10, 0.10, 0.30, 1.0);
    assert_float_equal(SC(C_MCAD, 0), (u8 + 0.5 * u10) / 1.5, EPS);
    assert_int_equal(BAND(C_MCAD, 0), NS_BAND_NOT_INFORMATIVE);
    assert_int_equal(CALL(C_MCAD, 0), NS_CALL_NEGATIVE);
    assert_true(NOTE(C_MCAD, 0) & NS_NOTE_SCORE);
    assert_int_equal(b->state[0], NS_STATE_NEGATIVE);
    /* row 1 */
    assert_int_equal(CALL(C_MCAD, 1), NS_CALL_CRITICAL);
    assert_int_equal(BAND(C_MCAD, 1), NS_BAND_LIKELY);
    assert_float_equal(SC(C_MCAD, 1), pos_hi(6.0, 0.07, 0.20, 8.4), EPS);     /* C10 missing: left out */
    assert_false(NOTE(C_MCAD, 1) & NS_NOTE_SCORE);
    /* row 2 */
    assert_int_equal(BAND(C_MCAD, 2), NS_BAND_POSSIBLE);
    assert_int_equal(CALL(C_MCAD, 2), NS_CALL_POSITIVE);
    assert_int_equal(b->state[2], NS_STATE_RECALL);
    /* rows 3-5: the group */
    u10 = pos_hi(0.10, 0.10, 0.30, 1.0);
    assert_float_equal(SC(C_MCAD, 3), (1.0 + 0.5 * u10) / 1.5, EPS);          /* x == preterm L */
    assert_float_equal(MOM(0, 3), 0.15 / 0.05, EPS);
    assert_float_equal(SC(C_MCAD, 4), (pos_hi(0.15, 0.07, 0.20, 8.4) + 0.5 * u10) / 1.5, EPS);
    assert_float_equal(MOM(0, 4), 0.15 / 0.07, EPS);
    assert_float_equal(SC(C_MCAD, 5), SC(C_MCAD, 4), EPS);
    assert_int_equal(ns_pop_group(p, A_C8, 3u), NS_POP_STRATUM0 + 0);          /* preterm + lbw */
    assert_int_equal(ns_pop_group(p, A_C8, 2u), NS_POP_STANDARD);              /* lbw only */
    assert_int_equal(ns_pop_group(p, A_C10, 1u), NS_POP_ALL);                  /* C10: all only */
    /* row 6: a control */
    for (int c = 0; c < 3; c++) {
        assert_true(isnan(SC(c, 6)));
        assert_int_equal(BAND(c, 6), NS_BAND_NONE);
    }
    assert_true(isnan(MOM(0, 6)));
    /* rows 7, 8: no usable primary */
    assert_true(isnan(SC(C_MCAD, 7)));
    assert_int_equal(BAND(C_MCAD, 7), NS_BAND_NONE);
    assert_int_equal(CALL(C_MCAD, 7), NS_CALL_INDETERMINATE);
    assert_false(isnan(MOM(1, 7)));                                            /* C10 still got its MoM */
    assert_true(isnan(SC(C_MCAD, 8)));
    assert_true(isnan(MOM(0, 8)));
    assert_int_equal(CALL(C_MCAD, 8), NS_CALL_NEGATIVE);
    /* rows 9-12: CUD, call_by score, a low marker */
    assert_float_equal(SC(C_CUD, 9), ns_score_position(3, 30, 17, 2.2), EPS);
    assert_int_equal(CALL(C_CUD, 9), NS_CALL_POSITIVE);
    assert_false(NOTE(C_CUD, 9) & NS_NOTE_SCORE);
    assert_int_equal(BAND(C_CUD, 10), NS_BAND_POSSIBLE);
    assert_int_equal(CALL(C_CUD, 10), NS_CALL_BORDERLINE);
    assert_true(NOTE(C_CUD, 10) & NS_NOTE_SCORE);
    assert_int_equal(b->state[10], NS_STATE_RECALL);
    assert_int_equal(CALL(C_CUD, 11), NS_CALL_BORDERLINE);
    assert_true(NOTE(C_CUD, 11) & NS_NOTE_SCORE);
    assert_true(isnan(SC(C_CUD, 12)));
    assert_int_equal(CALL(C_CUD, 12), NS_CALL_POSITIVE);
    /* a condition without a score block: no score anywhere, calls untouched */
    for (int i = 0; i < n; i++) {
        assert_true(isnan(SC(C_PLAIN, i)));
        assert_int_equal(BAND(C_PLAIN, i), NS_BAND_NONE);
        assert_false(NOTE(C_PLAIN, i) & NS_NOTE_SCORE);
    }
    ns_batch_free(b);
    free(b);
    ns_panel_free(p);
}

/* Through the batch: sweeping one marker up (high) or down (low) over many rows never
 * lowers the score, in the standard and in the preterm group; and scores and calls are the
 * same at 1 and 4 threads. */
static void test_batch_monotone_threads(void **st)
{
    (void)st;
    ns_panel_t *p = load_panel();
    enum { K = 601, N = 4 * K };
    row_t *r = calloc(N, sizeof *r);
    for (int j = 0; j < K; j++) {
        double t = -3.0 + 6.0 * j / (K - 1);
        r[j] = (row_t)STD(0.07 * pow(10, t), 0.2, 30);               /* C8 up */
        r[K + j] = (row_t)STD(0.07 * pow(10, t), 0.2, 30);           /* C8 up, preterm */
        r[K + j].ga = 250;
        r[2 * K + j] = (row_t)STD(0.5, 0.10 * pow(10, t), 30);       /* C10 up, C8 fixed */
        r[3 * K + j] = (row_t)STD(0.07, 0.10, 30 * pow(10, -t));     /* C0 down */
    }
    double *ref = NULL;
    uint8_t *refc = NULL;
    for (int th = 1; th <= 4; th += 3) {
        omp_set_num_threads(th);
        ns_batch_t *b = make_batch(p, r, N);
        assert_int_equal(ns_batch_score(b), 0);
        const double *mc = b->score + (size_t)C_MCAD * N, *cu = b->score + (size_t)C_CUD * N;
        for (int j = 1; j < K; j++) {
            assert_true(mc[j] >= mc[j - 1]);
            assert_true(mc[K + j] >= mc[K + j - 1]);
            assert_true(mc[2 * K + j] >= mc[2 * K + j - 1]);
            assert_true(cu[3 * K + j] >= cu[3 * K + j - 1]);
        }
        /* the preterm group has the lower median and limit: its babies score higher */
        assert_true(mc[K + K / 2] > mc[K / 2]);
        if (!ref) {
            ref = malloc(sizeof(double) * 3 * N);
            refc = malloc(3 * N);
            memcpy(ref, b->score, sizeof(double) * 3 * N);
            memcpy(refc, b->call, 3 * N);
        } else {
            assert_memory_equal(ref, b->score, sizeof(double) * 3 * N);
            assert_memory_equal(refc, b->call, 3 * N);
        }
        ns_batch_free(b);
        free(b);
    }
    omp_set_num_threads(2);
    free(ref);
    free(refc);
    free(r);
    ns_panel_free(p);
}

/* ns_msms_findings at 1, 2, 3 and 4 threads: each thread takes a slice of the cards and the
 * slices are appended in row order, so the findings are the same, in the same order, as
 * one thread finds them; babies with cards far apart show an order that crosses slices. */
static void test_findings_threads(void **st)
{
    (void)st;
    ns_panel_t *p = load_panel();
    enum { N = 3000 };
    row_t *r = calloc(N, sizeof *r);
    for (int j = 0; j < N; j++) {
        r[j] = (row_t)STD(j % 7 == 0 ? 0.5 : 0.07, j % 11 == 0 ? 0.9 : 0.1, j % 13 == 0 ? 3.0 : 30);
        if (j % 17 == 0) r[j].ga = NAN;                        /* a specimen finding too */
    }
    static char sid[N][16], inf[N][16];
    ns_findings_t ref = { 0 };
    for (int th = 1; th <= 4; th++) {
        omp_set_num_threads(th);
        ns_batch_t *b = make_batch(p, r, N);
        for (int i = 0; i < N; i++) {
            snprintf(sid[i], sizeof sid[i], "S%05d", i);
            snprintf(inf[i], sizeof inf[i], "I%04d", i % 1000);  /* three cards a baby, 1000 apart */
            b->sample_id[i] = sid[i];
            b->manifest.rows[b->mrow[i]].infant_id = inf[i];
        }
        assert_int_equal(ns_batch_score(b), 0);
        ns_findings_t fs = { 0 };
        ns_msms_findings(b, &fs);
        if (th == 1) {
            ref = fs;
            assert_true(ref.n > 500);
        } else {
            assert_int_equal(fs.n, ref.n);
            for (int64_t k = 0; k < fs.n; k++) {
                const ns_finding_t *x = &fs.v[k], *y = &ref.v[k];
                if (x->batch_row != y->batch_row || strcmp(x->reason, y->reason) != 0 || strcmp(x->code, y->code) != 0
                    || strcmp(x->infant_id, y->infant_id) != 0 || x->n_args != y->n_args)
                    fail_msg("%d threads, finding %lld: row %lld %s %s, one thread: row %lld %s %s", th, (long long)k,
                             (long long)x->batch_row, x->code, x->reason, (long long)y->batch_row, y->code, y->reason);
                for (int a = 0; a < x->n_args; a++) {
                    assert_string_equal(x->arg_name[a], y->arg_name[a]);
                    assert_string_equal(x->arg[a], y->arg[a]);
                }
            }
            ns_findings_free(&fs);
        }
        for (int i = 0; i < N; i++) b->sample_id[i] = NULL;   /* not the batch's to free */
        ns_batch_free(b);
        free(b);
    }
    omp_set_num_threads(2);
    ns_findings_free(&ref);
    free(r);
    ns_panel_free(p);
}

/* A panel without score blocks: no score arrays at all, so nothing downstream changes. */
static void test_no_scores_no_arrays(void **st)
{
    (void)st;
    const char *t = "panel: {name: t, version: \"1\"}\n"
                    "analytes:\n  - {name: C8}\n  - {name: C10}\n  - {name: C0}\n"
                    "conditions:\n  - code: X\n    priority: urgent\n    action: referral\n"
                    "    markers:\n      - {marker: C8, direction: high, cutoff: 0.15}\n";
    ns_panel_errs_t e;
    ns_panel_t *p = ns_panel_load_mem("t.yaml", t, strlen(t), &e);
    assert_non_null(p);
    ns_panel_errs_free(&e);
    const row_t r[] = { STD(0.16, 0.1, 30) };
    ns_batch_t *b = make_batch(p, r, 1);
    assert_int_equal(ns_batch_score(b), 0);
    assert_null(b->score);
    assert_null(b->band);
    assert_null(b->mom);
    assert_int_equal(b->call[0], NS_CALL_POSITIVE);
    ns_batch_free(b);
    free(b);
    ns_panel_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_position_anchors),
        cmocka_unit_test(test_position_clamp_and_nan),
        cmocka_unit_test(test_combine_weights),
        cmocka_unit_test(test_monotone),
        cmocka_unit_test(test_band_edges),
        cmocka_unit_test(test_call_rules),
        cmocka_unit_test(test_batch_calls),
        cmocka_unit_test(test_batch_monotone_threads),
        cmocka_unit_test(test_findings_threads),
        cmocka_unit_test(test_no_scores_no_arrays),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
