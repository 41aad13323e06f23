/* test_westgard.c — Westgard multirule kernel, alone (no pipeline).
 *
 * Each rule is shown to fire exactly when it should and not one observation earlier, and
 * not at all when its violating window lies entirely in the history. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>
#include "../../kernels/westgard.h"

enum { LOW = 0, HIGH = 1 };     /* qc_low, qc_high */
enum { HIST = 0, CUR = 1 };

typedef struct { ns_qc_obs_t o[128]; int n; } series_t;

static void add(series_t *s, double z, int level, int current)
{
    assert_true(s->n < 128);
    s->o[s->n].z = z;
    s->o[s->n].level = (uint8_t)level;
    s->o[s->n].current = (uint8_t)current;
    s->n++;
}

/* add k observations of the same z and level */
static void add_n(series_t *s, int k, double z, int level, int current)
{
    for (int i = 0; i < k; i++) add(s, z, level, current);
}

static ns_wg_result_t eval_mask(const series_t *s, unsigned on)
{
    ns_wg_result_t r;
    memset(&r, 0xa5, sizeof r);    /* every field must be written */
    assert_int_equal(ns_westgard_eval(s->o, s->n, on, &r), 0);
    return r;
}

static ns_wg_result_t eval(const series_t *s) { return eval_mask(s, NS_WG_ALL); }

#define assert_rule(r, bitval, lv) do {                                   \
        assert_in_range((r).first_rule, 0, 5);                            \
        assert_int_equal(1u << (r).first_rule, (bitval));                 \
        assert_int_equal((r).level, (lv));                                \
    } while (0)

#define assert_clean(r) do {                                              \
        assert_int_equal((r).violated, 0);                                \
        assert_int_equal((r).first_rule, -1);                             \
        assert_int_equal((r).level, -1);                                  \
    } while (0)

static void test_rule_names(void **st)
{
    (void)st;
    const char *want[] = { "1-2s", "1-3s", "2-2s", "R-4s", "4-1s", "10-x" };
    for (int b = 0; b < 6; b++) assert_string_equal(ns_westgard_rule_name(b), want[b]);
    assert_null(ns_westgard_rule_name(-1));
    assert_null(ns_westgard_rule_name(6));
    assert_int_equal(NS_WG_WARNING_RULES, NS_WG_1_2S);
    assert_int_equal(NS_WG_REJECT_RULES, 0x3e);
    assert_int_equal(NS_WG_WARNING_RULES | NS_WG_REJECT_RULES, NS_WG_ALL);
}

static void test_bad_args(void **st)
{
    (void)st;
    series_t s = { .n = 0 };
    add(&s, 0.5, LOW, HIST);
    add(&s, 0.5, LOW, CUR);
    ns_wg_result_t r, keep;
    memset(&r, 77, sizeof r);                                               /* a pattern to find untouched */
    keep = r;
    assert_int_equal(ns_westgard_eval(s.o, s.n, NS_WG_ALL, NULL), -1);
    assert_int_equal(ns_westgard_eval(s.o, -1, NS_WG_ALL, &r), -1);
    assert_int_equal(ns_westgard_eval(NULL, 2, NS_WG_ALL, &r), -1);
    assert_int_equal(ns_westgard_eval(s.o, s.n, NS_WG_ALL | 0x40, &r), -1);  /* unknown rule */
    assert_memory_equal(&r, &keep, sizeof r);                                /* untouched */

    series_t b = s;
    b.o[0].level = NS_QC_MAX_LEVELS;                                         /* level range */
    assert_int_equal(ns_westgard_eval(b.o, b.n, NS_WG_ALL, &r), -1);
    b = s;
    b.o[1].current = 2;                                                      /* not 0/1 */
    assert_int_equal(ns_westgard_eval(b.o, b.n, NS_WG_ALL, &r), -1);
    b = s;
    b.o[0].current = CUR;                                                    /* history after */
    b.o[1].current = HIST;                                                   /* the current run */
    assert_int_equal(ns_westgard_eval(b.o, b.n, NS_WG_ALL, &r), -1);
    assert_memory_equal(&r, &keep, sizeof r);

    /* empty series: valid, nothing to judge; obs may be NULL when n == 0 */
    assert_int_equal(ns_westgard_eval(NULL, 0, NS_WG_ALL, &r), 0);
    assert_clean(r);
    assert_int_equal(r.n_current, 0);
    assert_int_equal(r.n_missing, 0);
    /* highest legal level */
    b = s;
    b.o[1].level = NS_QC_MAX_LEVELS - 1;
    assert_int_equal(ns_westgard_eval(b.o, b.n, NS_WG_ALL, &r), 0);
}

/* a series with every rule violated, but only in history; tonight is clean */
static void test_history_only_never_fires(void **st)
{
    (void)st;
    series_t s = { .n = 0 };
    add_n(&s, 10, 1.5, LOW, HIST);      /* 10-x, 4-1s, within and across levels */
    add(&s, 3.5, HIGH, HIST);           /* 1-3s, 1-2s */
    add(&s, 2.5, HIGH, HIST);           /* 2-2s same level across runs */
    add(&s, -2.5, LOW, HIST);           /* R-4s-like range in one old run */
    ns_wg_result_t r = eval(&s);        /* no current observation at all */
    assert_clean(r);
    assert_int_equal(r.n_current, 0);

    add(&s, -0.5, LOW, CUR);            /* tonight: in control, breaks every streak */
    add(&s, -0.3, HIGH, CUR);
    r = eval(&s);
    assert_clean(r);
    assert_int_equal(r.n_current, 2);
    assert_int_equal(r.n_missing, 0);
}

static void test_1_2s_warning_boundary(void **st)
{
    (void)st;
    series_t s = { .n = 0 };
    add(&s, 0.1, LOW, HIST);
    add(&s, 2.0, LOW, CUR);             /* exactly 2 SD: not beyond */
    add(&s, -2.0, HIGH, CUR);
    assert_clean(eval(&s));

    s.o[2].z = -2.0001;                 /* just beyond -2 SD on qc_high */
    ns_wg_result_t r = eval(&s);
    assert_int_equal(r.violated, NS_WG_1_2S);
    assert_rule(r, NS_WG_1_2S, HIGH);
    assert_true(r.violated & NS_WG_WARNING_RULES);
    assert_false(r.violated & NS_WG_REJECT_RULES);   /* warning only */
}

static void test_1_3s_boundary(void **st)
{
    (void)st;
    series_t s = { .n = 0 };
    add(&s, 0.2, LOW, CUR);
    add(&s, 3.0, HIGH, CUR);            /* exactly 3 SD: a 1-2s warning, not 1-3s */
    ns_wg_result_t r = eval(&s);
    assert_int_equal(r.violated, NS_WG_1_2S);

    s.o[1].z = 3.0001;
    r = eval(&s);
    assert_int_equal(r.violated, NS_WG_1_3S | NS_WG_1_2S);   /* 1-3s implies 1-2s */
    assert_rule(r, NS_WG_1_3S, HIGH);
    assert_true(r.violated & NS_WG_REJECT_RULES);

    s.o[1].z = -4.0;                    /* the other side */
    r = eval(&s);
    assert_rule(r, NS_WG_1_3S, HIGH);

    s.o[0].z = 3.5;                     /* both levels out: the smallest level decides */
    r = eval(&s);
    assert_rule(r, NS_WG_1_3S, LOW);
    assert_true(r.violated & NS_WG_R_4S);

    s.o[1].z = INFINITY;                /* an infinite z is present, and beyond */
    s.o[0].z = 0.0;
    r = eval(&s);
    assert_rule(r, NS_WG_1_3S, HIGH);
}

/* 2-2s (a): two current observations beyond the same 2 SD limit, across levels */
static void test_2_2s_across_levels_in_run(void **st)
{
    (void)st;
    series_t s = { .n = 0 };
    add(&s, 0.0, LOW, HIST);
    add(&s, 0.0, HIGH, HIST);
    add(&s, 2.5, LOW, CUR);
    add(&s, 2.0, HIGH, CUR);            /* only one beyond +2: 1-2s */
    ns_wg_result_t r = eval(&s);
    assert_int_equal(r.violated, NS_WG_1_2S);

    s.o[3].z = 2.2;                     /* both beyond +2 */
    r = eval(&s);
    assert_int_equal(r.violated, NS_WG_2_2S | NS_WG_1_2S);
    assert_rule(r, NS_WG_2_2S, -1);     /* across levels: no single level decided it */

    s.o[2].z = -2.5;                    /* beyond opposite limits: R-4s, not 2-2s */
    s.o[3].z = -2.2;
    r = eval(&s);
    assert_int_equal(r.violated, NS_WG_2_2S | NS_WG_1_2S);
    s.o[3].z = 2.2;
    r = eval(&s);
    assert_false(r.violated & NS_WG_2_2S);
    assert_true(r.violated & NS_WG_R_4S);

    /* the same level twice on one plate (duplicate control wells) */
    series_t d = { .n = 0 };
    add(&d, -2.1, HIGH, CUR);
    add(&d, 0.0, LOW, CUR);
    add(&d, -2.3, HIGH, CUR);
    r = eval(&d);
    assert_int_equal(r.violated, NS_WG_2_2S | NS_WG_1_2S);
    assert_rule(r, NS_WG_2_2S, HIGH);
}

/* 2-2s (b): the same level in consecutive runs */
static void test_2_2s_same_level_across_runs(void **st)
{
    (void)st;
    series_t s = { .n = 0 };
    add(&s, 2.3, HIGH, HIST);           /* last night's qc_high */
    add(&s, 0.4, LOW, HIST);            /* other level between: does not break the pair */
    add(&s, -0.1, LOW, CUR);
    add(&s, 2.4, HIGH, CUR);
    ns_wg_result_t r = eval(&s);
    assert_int_equal(r.violated, NS_WG_2_2S | NS_WG_1_2S);
    assert_rule(r, NS_WG_2_2S, HIGH);

    s.o[0].z = 2.0;                     /* history on the limit: not beyond */
    assert_int_equal(eval(&s).violated, NS_WG_1_2S);
    s.o[0].z = -2.3;                    /* opposite limits across runs: nothing (no R-4s */
    assert_int_equal(eval(&s).violated, NS_WG_1_2S);   /* across runs either) */

    /* not consecutive: an in-control run of that level between */
    series_t g = { .n = 0 };
    add(&g, 2.3, HIGH, HIST);
    add(&g, 1.0, HIGH, HIST);
    add(&g, 2.4, HIGH, CUR);
    assert_int_equal(eval(&g).violated, NS_WG_1_2S);

    /* the pair is of different levels across runs: not a 2-2s form */
    series_t x = { .n = 0 };
    add(&x, 2.5, LOW, HIST);
    add(&x, 2.5, HIGH, CUR);
    assert_int_equal(eval(&x).violated, NS_WG_1_2S);

    /* both in history, tonight in control: already judged */
    series_t h = { .n = 0 };
    add(&h, 2.5, HIGH, HIST);
    add(&h, 2.6, HIGH, HIST);
    add(&h, 2.0, HIGH, CUR);
    assert_clean(eval(&h));
}

static void test_r_4s(void **st)
{
    (void)st;
    series_t s = { .n = 0 };
    add(&s, 0.0, LOW, HIST);
    add(&s, 2.5, LOW, CUR);
    add(&s, -2.0, HIGH, CUR);           /* on the limit: no R-4s yet */
    assert_int_equal(eval(&s).violated, NS_WG_1_2S);

    s.o[2].z = -2.01;
    ns_wg_result_t r = eval(&s);
    assert_int_equal(r.violated, NS_WG_R_4S | NS_WG_1_2S);
    assert_rule(r, NS_WG_R_4S, -1);

    /* it needs two different observations: one wild control is 1-3s, not R-4s */
    series_t one = { .n = 0 };
    add(&one, 5.0, LOW, CUR);
    add(&one, 0.0, HIGH, CUR);
    r = eval(&one);
    assert_false(r.violated & NS_WG_R_4S);
    assert_rule(r, NS_WG_1_3S, LOW);

    /* within the run only: -2.5 last night, +2.5 tonight is not R-4s */
    series_t acr = { .n = 0 };
    add(&acr, -2.5, HIGH, HIST);
    add(&acr, 2.5, HIGH, CUR);
    assert_int_equal(eval(&acr).violated, NS_WG_1_2S);

    /* a range over 4 SD without both limits crossed is not R-4s (counting form) */
    series_t rng = { .n = 0 };
    add(&rng, 2.9, LOW, CUR);
    add(&rng, -1.9, HIGH, CUR);
    assert_int_equal(eval(&rng).violated, NS_WG_1_2S);

    /* both observations of one level (duplicate wells): that level decides */
    series_t dup = { .n = 0 };
    add(&dup, -2.4, HIGH, CUR);
    add(&dup, 2.4, LOW, CUR);
    add(&dup, 2.2, HIGH, CUR);
    r = eval(&dup);
    assert_rule(r, NS_WG_R_4S, HIGH);
}

/* 4-1s within one level: 3 nights beyond +1 SD is nothing, the 4th rejects */
static void test_4_1s_within_level(void **st)
{
    (void)st;
    series_t s = { .n = 0 };
    for (int night = 0; night < 3; night++) {
        add(&s, 1.5, HIGH, HIST);
        add(&s, -0.5, LOW, HIST);       /* qc_low in control: breaks the across-level run */
    }
    add(&s, -0.5, LOW, CUR);
    add(&s, 1.0, HIGH, CUR);            /* exactly 1 SD: not beyond */
    assert_clean(eval(&s));

    /* three in a row ending tonight: not yet */
    series_t t = { .n = 0 };
    add(&t, 0.2, HIGH, HIST);
    add_n(&t, 2, 1.5, HIGH, HIST);
    add(&t, 1.5, HIGH, CUR);
    assert_clean(eval(&t));

    t.o[0].z = 1.2;                     /* the fourth */
    ns_wg_result_t r = eval(&t);
    assert_int_equal(r.violated, NS_WG_4_1S);
    assert_rule(r, NS_WG_4_1S, HIGH);

    t.o[1].z = -1.5;                    /* mixed sides: no */
    assert_clean(eval(&t));

    /* the low side */
    series_t lo = { .n = 0 };
    add_n(&lo, 3, -1.1, LOW, HIST);
    add(&lo, -1.01, LOW, CUR);
    r = eval(&lo);
    assert_rule(r, NS_WG_4_1S, LOW);
    lo.o[0].z = -1.0;                   /* exactly -1 SD: not beyond */
    assert_clean(eval(&lo));

    /* four in history, tonight back in control: already judged */
    series_t h = { .n = 0 };
    add_n(&h, 4, 1.5, HIGH, HIST);
    add(&h, 0.3, HIGH, CUR);
    assert_clean(eval(&h));
    /* ...but a fifth beyond tonight still makes a window ending tonight */
    h.o[4].z = 1.5;
    assert_rule(eval(&h), NS_WG_4_1S, HIGH);
}

/* 4-1s across levels: two runs of both levels */
static void test_4_1s_across_levels(void **st)
{
    (void)st;
    series_t s = { .n = 0 };
    add(&s, 0.3, LOW, HIST);
    add(&s, 1.3, HIGH, HIST);
    add(&s, 1.4, LOW, CUR);
    add(&s, 1.1, HIGH, CUR);
    assert_clean(eval(&s));             /* three consecutive beyond +1 */

    s.o[0].z = 1.2;                     /* four */
    ns_wg_result_t r = eval(&s);
    assert_int_equal(r.violated, NS_WG_4_1S);
    assert_rule(r, NS_WG_4_1S, -1);     /* no level has four of its own */
}

/* 10-x within one level: 9 is nothing, 10 rejects; z == 0 breaks the run */
static void test_10x_within_level(void **st)
{
    (void)st;
    series_t s = { .n = 0 };
    add(&s, -0.2, LOW, HIST);
    add_n(&s, 8, 0.4, LOW, HIST);
    add(&s, 0.6, LOW, CUR);             /* nine on the high side */
    assert_clean(eval(&s));

    s.o[0].z = 0.2;                     /* ten */
    ns_wg_result_t r = eval(&s);
    assert_int_equal(r.violated, NS_WG_10X);
    assert_rule(r, NS_WG_10X, LOW);

    s.o[4].z = 0.0;                     /* on the mean: breaks the run */
    assert_clean(eval(&s));

    /* the low side, with the other level in control in between (within-level run only) */
    series_t lo = { .n = 0 };
    for (int night = 0; night < 9; night++) {
        add(&lo, -0.3, HIGH, HIST);
        add(&lo, 0.5, LOW, HIST);
    }
    add(&lo, -0.3, HIGH, CUR);
    add(&lo, -0.1, LOW, CUR);           /* qc_low's own run of nine stops here */
    r = eval(&lo);
    assert_int_equal(r.violated, NS_WG_10X);
    assert_rule(r, NS_WG_10X, HIGH);
}

/* 10-x across levels, as a slow drift over nights (issue 3 point 9): both levels creep
 * upwards 0.15 SD a night.  No rule fires until ten observations sit above the mean
 * (night 4, across levels); 4-1s follows once four are beyond +1 SD (night 7). */
static void test_10x_across_levels_drift(void **st)
{
    (void)st;
    for (int tonight = 0; tonight < 10; tonight++) {
        series_t s = { .n = 0 };
        for (int night = 0; night <= tonight; night++) {
            double z = 0.2 + 0.15 * night;
            add(&s, z, LOW, night == tonight);
            add(&s, z, HIGH, night == tonight);
        }
        ns_wg_result_t r = eval(&s);
        if (tonight < 4) {
            assert_clean(r);
        } else if (tonight < 7) {
            assert_int_equal(r.violated, NS_WG_10X);
            assert_rule(r, NS_WG_10X, -1);              /* five per level: across only */
        } else {
            assert_true(r.violated & NS_WG_4_1S);
            assert_rule(r, NS_WG_4_1S, tonight >= 9 ? LOW : -1);
        }
    }
}

static void test_nan_handling(void **st)
{
    (void)st;
    /* missing observations neither count nor break a consecutive window */
    series_t s = { .n = 0 };
    add_n(&s, 2, 1.5, HIGH, HIST);
    add(&s, NAN, HIGH, HIST);
    add(&s, 1.5, HIGH, HIST);
    add(&s, NAN, HIGH, CUR);
    ns_wg_result_t r = eval(&s);
    assert_clean(r);                    /* only three present; tonight's qc_high is missing */
    assert_int_equal(r.n_current, 1);
    assert_int_equal(r.n_missing, 1);

    add(&s, 1.5, HIGH, CUR);            /* a second qc_high well tonight: four present */
    r = eval(&s);
    assert_rule(r, NS_WG_4_1S, HIGH);
    assert_int_equal(r.n_current, 2);
    assert_int_equal(r.n_missing, 1);   /* history NAN is not counted */

    /* 2-2s (b) across a missing run of that level */
    series_t p = { .n = 0 };
    add(&p, 2.5, LOW, HIST);
    add(&p, NAN, LOW, HIST);
    add(&p, 2.5, LOW, CUR);
    assert_rule(eval(&p), NS_WG_2_2S, LOW);

    /* all current controls missing: no decision, counted */
    series_t m = { .n = 0 };
    add(&m, 3.5, LOW, HIST);
    add(&m, NAN, LOW, CUR);
    add(&m, NAN, HIGH, CUR);
    r = eval(&m);
    assert_clean(r);
    assert_int_equal(r.n_current, 2);
    assert_int_equal(r.n_missing, 2);
}

static void test_rules_on_mask(void **st)
{
    (void)st;
    series_t s = { .n = 0 };
    add(&s, 3.5, LOW, CUR);             /* 1-3s, 1-2s, 2-2s (a), R-4s */
    add(&s, 2.5, HIGH, CUR);
    add(&s, -2.5, HIGH, CUR);
    ns_wg_result_t r = eval(&s);
    assert_int_equal(r.violated, NS_WG_1_3S | NS_WG_1_2S | NS_WG_2_2S | NS_WG_R_4S);

    r = eval_mask(&s, NS_WG_2_2S);
    assert_int_equal(r.violated, NS_WG_2_2S);
    assert_rule(r, NS_WG_2_2S, -1);

    r = eval_mask(&s, NS_WG_4_1S | NS_WG_10X);       /* enabled rules not violated */
    assert_clean(r);

    r = eval_mask(&s, 0);                             /* nothing on: counts still filled */
    assert_clean(r);
    assert_int_equal(r.n_current, 3);
    assert_int_equal(r.n_missing, 0);

    r = eval_mask(&s, NS_WG_REJECT_RULES & ~NS_WG_1_3S);
    assert_rule(r, NS_WG_R_4S, HIGH);
}

/* one series that violates all six rules; peel them off in priority order */
static void test_first_rule_priority(void **st)
{
    (void)st;
    series_t s = { .n = 0 };
    add_n(&s, 9, 1.5, LOW, HIST);
    add(&s, 3.5, LOW, CUR);             /* 10th and beyond: 10-x, 4-1s; 1-3s */
    add(&s, 2.5, LOW, CUR);             /* 2-2s within the run, same level */
    add(&s, -2.5, HIGH, CUR);           /* R-4s across levels */
    ns_wg_result_t r = eval(&s);
    assert_int_equal(r.violated, NS_WG_ALL);
    /* every violated rule names its own deciding level, whichever rule ranks first */
    const int by_bit[6] = { LOW, LOW, LOW, -1, LOW, LOW };   /* 1-2s 1-3s 2-2s R-4s 4-1s 10-x */
    for (int b = 0; b < 6; b++) assert_int_equal(r.rule_level[b], by_bit[b]);
    assert_int_equal(eval_mask(&s, NS_WG_1_3S).rule_level[4], -1);   /* 4-1s off: no level */

    const unsigned order[] = { NS_WG_1_3S, NS_WG_R_4S, NS_WG_2_2S, NS_WG_4_1S, NS_WG_10X,
                               NS_WG_1_2S };
    const int level[] = { LOW, -1, LOW, LOW, LOW, LOW };
    const char *name[] = { "1-3s", "R-4s", "2-2s", "4-1s", "10-x", "1-2s" };
    unsigned on = NS_WG_ALL;
    for (int k = 0; k < 6; k++) {
        r = eval_mask(&s, on);
        assert_int_equal(r.violated, on);
        assert_rule(r, order[k], level[k]);
        assert_string_equal(ns_westgard_rule_name(r.first_rule), name[k]);
        on &= ~order[k];
    }
    assert_clean(eval_mask(&s, on));
}

/* issue 3 point 9: a night whose qc_high is shifted 4 SD on one analyte */
static void test_shifted_high_control(void **st)
{
    (void)st;
    series_t s = { .n = 0 };
    const double hist_low[] = { 0.3, -0.8, 0.1, 1.2, -0.4, 0.6, -1.1, 0.2 };
    const double hist_high[] = { -0.2, 0.5, 0.9, -0.6, 0.1, -1.3, 0.4, 0.7 };
    for (int night = 0; night < 8; night++) {
        add(&s, hist_low[night], LOW, HIST);
        add(&s, hist_high[night], HIGH, HIST);
    }
    add(&s, 0.4, LOW, CUR);
    add(&s, 0.3, HIGH, CUR);
    assert_clean(eval(&s));             /* a normal night */

    s.o[s.n - 1].z = 0.3 + 4.0;         /* the shift */
    ns_wg_result_t r = eval(&s);
    assert_rule(r, NS_WG_1_3S, HIGH);
    assert_string_equal(ns_westgard_rule_name(r.first_rule), "1-3s");
    assert_true(r.violated & NS_WG_REJECT_RULES);
}

/* ---- brute-force oracle: every window spelled out, for a randomized cross-check ---- */

static void o_hit(unsigned *viol, int *lvl, int b, int lv)
{
    *viol |= 1u << b;
    if (lv >= 0 && (lvl[b] < 0 || lv < lvl[b])) lvl[b] = lv;
}

/* all windows of k consecutive entries of idx[] that hold a current observation */
static void o_windows(const ns_qc_obs_t *o, const int *idx, int m, int k, double t, int b,
                      int lv, unsigned *viol, int *lvl)
{
    for (int s = 0; s + k <= m; s++) {
        int hi = 1, lo = 1, cur = 0;
        for (int j = s; j < s + k; j++) {
            double z = o[idx[j]].z;
            hi &= z > t;
            lo &= z < -t;
            cur |= o[idx[j]].current;
        }
        if (cur && (hi || lo)) o_hit(viol, lvl, b, lv);
    }
}

static void oracle(const ns_qc_obs_t *o, int n, unsigned *viol, int *lvl)
{
    int all[128], one[128], m = 0;
    *viol = 0;
    for (int b = 0; b < 6; b++) lvl[b] = -1;
    for (int i = 0; i < n; i++) if (!isnan(o[i].z)) all[m++] = i;
    for (int a = 0; a < m; a++) {
        const ns_qc_obs_t *p = &o[all[a]];
        if (!p->current) continue;
        if (fabs(p->z) > 2) o_hit(viol, lvl, 0, p->level);
        if (fabs(p->z) > 3) o_hit(viol, lvl, 1, p->level);
        for (int c = 0; c < m; c++) {
            const ns_qc_obs_t *q = &o[all[c]];
            if (c == a || !q->current) continue;
            int same = p->level == q->level ? p->level : -1;
            if ((p->z > 2 && q->z > 2) || (p->z < -2 && q->z < -2)) o_hit(viol, lvl, 2, same);
            if (p->z > 2 && q->z < -2) o_hit(viol, lvl, 3, same);
        }
    }
    for (int lv = 0; lv < NS_QC_MAX_LEVELS; lv++) {
        int k = 0;
        for (int a = 0; a < m; a++) if (o[all[a]].level == lv) one[k++] = all[a];
        o_windows(o, one, k, 2, 2.0, 2, lv, viol, lvl);
        o_windows(o, one, k, 4, 1.0, 4, lv, viol, lvl);
        o_windows(o, one, k, 10, 0.0, 5, lv, viol, lvl);
    }
    o_windows(o, all, m, 4, 1.0, 4, -1, viol, lvl);
    o_windows(o, all, m, 10, 0.0, 5, -1, viol, lvl);
}

/* 200,000 random series, rich in values on the limits (0, +-1, +-2, +-3) and NANs,
 * with 0..4 current observations over up to 3 levels: kernel == oracle, every field. */
static void test_random_vs_oracle(void **st)
{
    (void)st;
    static const double pick[] = { 0.0, 1.0, -1.0, 2.0, -2.0, 3.0, -3.0, 0.5, -0.5, 1.5,
                                   -1.5, 2.5, -2.5, 3.5, -3.5, NAN };
    static const int prio[] = { 1, 3, 2, 4, 5, 0 };
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (int iter = 0; iter < 200000; iter++) {
        series_t s = { .n = 0 };
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        int n = (int)(x % 41), n_cur = (int)((x >> 8) % 5);
        int n_lv = 1 + (int)((x >> 16) % 3), skew = (int)((x >> 24) % 3);
        for (int i = 0; i < n; i++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            /* skew 1 / 2 folds every value to one side, so long runs occur */
            double z = pick[x % 16];
            if ((skew == 1 && z < 0) || (skew == 2 && z > 0)) z = -z;
            add(&s, z, (int)((x >> 8) % (unsigned)n_lv), i >= n - n_cur);
        }
        unsigned on = (unsigned)((x >> 32) & NS_WG_ALL);
        if (iter % 2) on = NS_WG_ALL;
        unsigned want;
        int lvl[6];
        oracle(s.o, s.n, &want, lvl);
        want &= on;
        ns_wg_result_t r = eval_mask(&s, on);
        assert_int_equal(r.violated, want);
        int first = -1;
        for (int k = 0; k < 6 && first < 0; k++) if (want & (1u << prio[k])) first = prio[k];
        assert_int_equal(r.first_rule, first);
        assert_int_equal(r.level, first < 0 ? -1 : lvl[first]);
        int nc = 0, nm = 0;
        for (int i = 0; i < s.n; i++) {
            nc += s.o[i].current;
            nm += s.o[i].current && isnan(s.o[i].z);
        }
        assert_int_equal(r.n_current, nc);
        assert_int_equal(r.n_missing, nm);
    }
}

/* ns_westgard_eval_runs against ns_westgard_eval of each run's window, every field of
 * every run: 20,000 random series of up to 300 observations (values on the limits, long
 * one-sided stretches, many NANs, so that a window often holds fewer present observations
 * than a streak needs), cut into runs with gaps of history between them, some empty, for
 * windows of 0 to 60 observations back; and the arguments it refuses. */
static void test_runs_vs_windows(void **st)
{
    (void)st;
    enum { NMAX = 300, RMAX = 64 };
    static const double pick[] = { 0.0, 1.0, -1.0, 2.0, -2.0, 3.0, -3.0, 0.5, -0.5, 1.5,
                                   -1.5, 2.5, -2.5, 3.5, -3.5, NAN };
    static ns_qc_obs_t o[NMAX], w[NMAX];
    int64_t lo[RMAX], hi[RMAX];
    ns_wg_result_t got[RMAX], want;
    uint64_t x = 0x2545f4914f6cdd1du;
    long judged = 0, cut = 0;
    for (int iter = 0; iter < 20000; iter++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        const int n = (int)(x % NMAX), n_lv = 1 + (int)((x >> 12) % 3), skew = (int)((x >> 20) % 3);
        const int nan_pct = (int)((x >> 24) % 4) * 25;                 /* 0, 25, 50 or 75 % */
        const int64_t back = (int64_t)((x >> 32) % 61);
        const unsigned on = iter % 2 ? NS_WG_ALL : (unsigned)((x >> 40) & NS_WG_ALL);
        for (int i = 0; i < n; i++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            double z = pick[x % 15];
            if ((skew == 1 && z < 0) || (skew == 2 && z > 0)) z = -z;
            if ((int)((x >> 8) % 100) < nan_pct) z = NAN;
            o[i].z = z;
            o[i].level = (uint8_t)((x >> 16) % (unsigned)n_lv);
            o[i].current = (uint8_t)((x >> 24) & 1);             /* ignored by the runs */
        }
        int nr = 0;
        for (int64_t at = 0; at < n && nr < RMAX;) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            lo[nr] = at + (int64_t)(x % 4);                           /* history between runs */
            if (lo[nr] > n) break;
            hi[nr] = lo[nr] + (int64_t)((x >> 8) % 6);                /* 0 to 5 observations */
            if (hi[nr] > n) hi[nr] = n;
            at = hi[nr];
            nr++;
        }
        memset(got, 0xa5, sizeof got);
        assert_int_equal(ns_westgard_eval_runs(o, n, lo, hi, nr, back, on, got), 0);
        for (int r = 0; r < nr; r++) {
            const int64_t from = lo[r] > back ? lo[r] - back : 0;
            for (int64_t i = from; i < hi[r]; i++) {
                w[i - from] = o[i];
                w[i - from].current = i >= lo[r];
            }
            memset(&want, 0x5a, sizeof want);
            assert_int_equal(ns_westgard_eval(w, (int)(hi[r] - from), on, &want), 0);
            if (memcmp(&want, &got[r], sizeof want) != 0)
                fail_msg("series %d run %d [%lld, %lld) back %lld: violated %#x/%#x, first %d/%d, level %d/%d",
                         iter, r, (long long)lo[r], (long long)hi[r], (long long)back, got[r].violated,
                         want.violated, got[r].first_rule, want.first_rule, got[r].level, want.level);
            judged++;
            cut += from > 0 && want.violated != 0;
        }
    }
    assert_true(judged > 100000);
    assert_true(cut > 1000);

    /* refused, res untouched */
    ns_qc_obs_t one = { .z = 0.0, .level = 0 };
    int64_t l0[2] = { 0, 0 }, h0[2] = { 1, 1 }, l1 = 1, h1 = 2;
    ns_wg_result_t r0;
    memset(&r0, 0x77, sizeof r0);
    const ns_wg_result_t before = r0;
    assert_int_equal(ns_westgard_eval_runs(&one, 1, &l1, &h1, 1, 0, NS_WG_ALL, &r0), -1);     /* beyond n */
    assert_int_equal(ns_westgard_eval_runs(&one, 1, l0, h0, 2, 0, NS_WG_ALL, &r0), -1);       /* overlapping */
    assert_int_equal(ns_westgard_eval_runs(&one, 1, l0, h0, 1, -1, NS_WG_ALL, &r0), -1);      /* back < 0 */
    assert_int_equal(ns_westgard_eval_runs(&one, 1, l0, h0, 1, 0, 0x40, &r0), -1);            /* unknown rule */
    one.level = NS_QC_MAX_LEVELS;
    assert_int_equal(ns_westgard_eval_runs(&one, 1, l0, h0, 1, 0, NS_WG_ALL, &r0), -1);       /* level */
    assert_memory_equal(&r0, &before, sizeof r0);
    assert_int_equal(ns_westgard_eval_runs(NULL, 0, NULL, NULL, 0, 0, NS_WG_ALL, NULL), 0);  /* nothing to judge */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule_names),
        cmocka_unit_test(test_bad_args),
        cmocka_unit_test(test_history_only_never_fires),
        cmocka_unit_test(test_1_2s_warning_boundary),
        cmocka_unit_test(test_1_3s_boundary),
        cmocka_unit_test(test_2_2s_across_levels_in_run),
        cmocka_unit_test(test_2_2s_same_level_across_runs),
        cmocka_unit_test(test_r_4s),
        cmocka_unit_test(test_4_1s_within_level),
        cmocka_unit_test(test_4_1s_across_levels),
        cmocka_unit_test(test_10x_within_level),
        cmocka_unit_test(test_10x_across_levels_drift),
        cmocka_unit_test(test_nan_handling),
        cmocka_unit_test(test_rules_on_mask),
        cmocka_unit_test(test_first_rule_priority),
        cmocka_unit_test(test_shifted_high_control),
        cmocka_unit_test(test_random_vs_oracle),
        cmocka_unit_test(test_runs_vs_windows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
