/* test_kernels.c — ratio, cutoff, call and stats kernels, alone (no pipeline). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#include "../../kernels/ns_kernels.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void test_ratio(void **st)
{
    (void)st;
    double phe[] = { 50, 300, NAN, 40, 10, 1 };
    double tyr[] = { 50, 100, 45, 0, NAN, -2 };
    double c16[] = { 2, 2, 2, 2, 2, 2 }, c18[] = { 1, NAN, 1, 1, 1, 1 };
    double out[6];
    const double *num[] = { phe }, *den[] = { tyr };
    assert_int_equal(ns_ratio_compute(num, NULL, 1, den, NULL, 1, out, NULL, 6), 0);
    assert_true(out[0] == 1.0);
    assert_true(out[1] == 3.0);
    assert_true(isnan(out[2]));   /* missing numerator */
    assert_true(isnan(out[3]));   /* zero denominator: unknown, never infinite */
    assert_true(isnan(out[4]));   /* missing denominator */
    assert_true(isnan(out[5]));   /* non-positive denominator */
    const double *den2[] = { c16, c18 };
    assert_int_equal(ns_ratio_compute(num, NULL, 1, den2, NULL, 2, out, NULL, 6), 0);
    assert_true(out[0] == 50.0 / 3.0);
    assert_true(isnan(out[1]));   /* a missing term in a sum */
    assert_int_equal(ns_ratio_compute(num, NULL, 0, den, NULL, 1, out, NULL, 6), -1);
    assert_int_equal(ns_ratio_compute(NULL, NULL, 1, den, NULL, 1, out, NULL, 6), -1);
    assert_int_equal(ns_ratio_compute(num, NULL, 65, den, NULL, 1, out, NULL, 6), -1);

    /* censored terms: "<x" in the numerator gives an upper bound, in the denominator a
     * lower bound, in both: unknown */
    double c0[] = { 10, 100, 10 }, c16b[] = { 2, 0.05, 0.05 };
    uint8_t c0b[] = { NS_BOUND_UPPER, NS_BOUND_EXACT, NS_BOUND_UPPER };
    uint8_t c16bb[] = { NS_BOUND_EXACT, NS_BOUND_UPPER, NS_BOUND_UPPER };
    const double *n3[] = { c0 }, *d3[] = { c16b };
    const uint8_t *n3b[] = { c0b }, *d3b[] = { c16bb };
    uint8_t ob[3];
    assert_int_equal(ns_ratio_compute(n3, n3b, 1, d3, d3b, 1, out, ob, 3), 0);
    assert_true(out[0] == 5.0 && ob[0] == NS_BOUND_UPPER);
    assert_true(out[1] == 2000.0 && ob[1] == NS_BOUND_LOWER);
    assert_true(isnan(out[2]));
    assert_int_equal(ns_ratio_compute(n3, n3b, 1, d3, d3b, 1, out, NULL, 3), -1);
}

static void test_cutoff_high_low(void **st)
{
    (void)st;
    ns_threshold_t hi = { NS_DIR_HIGH, 120, 150, 600 };
    double x[] = { 100, 120, 149.9, 150, 599, 600, NAN };
    uint8_t f[7];
    assert_int_equal(ns_cutoff_flag(x, NULL, NULL, &hi, 1, f, 7), 0);
    uint8_t want[] = { NS_FLAG_NONE, NS_FLAG_BORDER, NS_FLAG_BORDER, NS_FLAG_CUTOFF, NS_FLAG_CUTOFF,
                       NS_FLAG_CRITICAL, NS_FLAG_MISSING };
    assert_memory_equal(f, want, 7);

    ns_threshold_t lo = { NS_DIR_LOW, 6.5, 5.0, NAN };   /* HK CUD grey zone, no critical */
    double y[] = { 30, 6.5, 5.5, 5.0, 0.0 };
    assert_int_equal(ns_cutoff_flag(y, NULL, NULL, &lo, 1, f, 5), 0);
    uint8_t want2[] = { NS_FLAG_NONE, NS_FLAG_BORDER, NS_FLAG_BORDER, NS_FLAG_CUTOFF, NS_FLAG_CUTOFF };
    assert_memory_equal(f, want2, 5);

    /* strata: per-row thresholds */
    ns_threshold_t two[2] = { { NS_DIR_HIGH, NAN, 10, NAN }, { NS_DIR_HIGH, NAN, 20, NAN } };
    double z[] = { 15, 15 };
    uint16_t s[] = { 0, 1 };
    assert_int_equal(ns_cutoff_flag(z, NULL, s, two, 2, f, 2), 0);
    assert_int_equal(f[0], NS_FLAG_CUTOFF);
    assert_int_equal(f[1], NS_FLAG_NONE);
    uint16_t bad[] = { 0, 2 };
    assert_int_equal(ns_cutoff_flag(z, NULL, bad, two, 2, f, 2), -1);
    assert_true(fabs(ns_cutoff_fold(300, &hi) - 2.0) < 1e-12);

    /* a value a rounding error below the limit meets it (C0 21 / (0.1 + 0.2) vs 70) */
    ns_threshold_t cpt1 = { NS_DIR_HIGH, NAN, 70, NAN };
    assert_int_equal(ns_cutoff_level(21.0 / (0.1 + 0.2), &cpt1), NS_FLAG_CUTOFF);
    ns_threshold_t oc = { NS_DIR_LOW, NAN, 1.5, NAN };
    assert_int_equal(ns_cutoff_level(0.3 / 0.2, &oc), NS_FLAG_CUTOFF);
    assert_int_equal(ns_cutoff_level(1.5000001, &oc), NS_FLAG_NONE);

    /* censored values: a flag only when the whole interval agrees, or is beyond the cutoff */
    ns_threshold_t cud = { NS_DIR_LOW, 6.5, 6.2, 5.0 };
    assert_int_equal(ns_cutoff_level_bounded(10, NS_BOUND_UPPER, &cud), NS_FLAG_MISSING);  /* C0 <10 */
    assert_int_equal(ns_cutoff_level_bounded(6.0, NS_BOUND_UPPER, &cud), NS_FLAG_CUTOFF);  /* C0 <6 */
    assert_int_equal(ns_cutoff_level_bounded(4.0, NS_BOUND_UPPER, &cud), NS_FLAG_CRITICAL);
    ns_threshold_t suac = { NS_DIR_HIGH, NAN, 6.1, NAN };
    assert_int_equal(ns_cutoff_level_bounded(10, NS_BOUND_UPPER, &suac), NS_FLAG_MISSING); /* SUAC <10 */
    assert_int_equal(ns_cutoff_level_bounded(1, NS_BOUND_UPPER, &suac), NS_FLAG_NONE);     /* SUAC <1 */
    assert_int_equal(ns_cutoff_level_bounded(80, NS_BOUND_LOWER, &cpt1), NS_FLAG_CUTOFF);  /* ratio >80 */
    assert_int_equal(ns_cutoff_level_bounded(50, NS_BOUND_LOWER, &cpt1), NS_FLAG_MISSING); /* ratio >50 */
    assert_int_equal(ns_cutoff_level_bounded(7, NS_BOUND_LOWER, &cud), NS_FLAG_NONE);      /* C0 >7 */
    double xs[] = { 10, 1 };
    uint8_t bs[] = { NS_BOUND_UPPER, NS_BOUND_UPPER };
    assert_int_equal(ns_cutoff_flag(xs, bs, NULL, &suac, 1, f, 2), 0);
    assert_int_equal(f[0], NS_FLAG_MISSING);
    assert_int_equal(f[1], NS_FLAG_NONE);
    assert_true(isnan(ns_cutoff_fold(NAN, &hi)));
}

static void test_call_rules(void **st)
{
    (void)st;
    const int prim2[] = { 0, 0 }, prim_sec[] = { 0, 1 };
    uint8_t f[2];
#define CALL(a, b, role, rule, req) (f[0] = (a), f[1] = (b), ns_call_one(f, role, 2, rule, req))
    /* ANY over primaries */
    assert_int_equal(CALL(NS_FLAG_NONE, NS_FLAG_NONE, prim2, NS_RULE_ANY, 0), NS_CALL_NEGATIVE);
    assert_int_equal(CALL(NS_FLAG_NONE, NS_FLAG_CUTOFF, prim2, NS_RULE_ANY, 0), NS_CALL_POSITIVE);
    assert_int_equal(CALL(NS_FLAG_BORDER, NS_FLAG_NONE, prim2, NS_RULE_ANY, 0), NS_CALL_BORDERLINE);
    assert_int_equal(CALL(NS_FLAG_MISSING, NS_FLAG_CUTOFF, prim2, NS_RULE_ANY, 0), NS_CALL_POSITIVE);
    assert_int_equal(CALL(NS_FLAG_MISSING, NS_FLAG_NONE, prim2, NS_RULE_ANY, 0), NS_CALL_INDETERMINATE);
    assert_int_equal(CALL(NS_FLAG_MISSING, NS_FLAG_BORDER, prim2, NS_RULE_ANY, 0), NS_CALL_INDETERMINATE);
    assert_int_equal(CALL(NS_FLAG_CRITICAL, NS_FLAG_NONE, prim2, NS_RULE_ANY, 0), NS_CALL_CRITICAL);
    /* ALL over primaries (MSUD: Xle and Val) */
    assert_int_equal(CALL(NS_FLAG_CUTOFF, NS_FLAG_CUTOFF, prim2, NS_RULE_ALL, 0), NS_CALL_POSITIVE);
    assert_int_equal(CALL(NS_FLAG_CUTOFF, NS_FLAG_NONE, prim2, NS_RULE_ALL, 0), NS_CALL_NEGATIVE);
    assert_int_equal(CALL(NS_FLAG_CUTOFF, NS_FLAG_BORDER, prim2, NS_RULE_ALL, 0), NS_CALL_BORDERLINE);
    assert_int_equal(CALL(NS_FLAG_NONE, NS_FLAG_MISSING, prim2, NS_RULE_ALL, 0), NS_CALL_NEGATIVE);
    assert_int_equal(CALL(NS_FLAG_CUTOFF, NS_FLAG_MISSING, prim2, NS_RULE_ALL, 0), NS_CALL_INDETERMINATE);
    /* secondary confirmation (PKU: Phe with Phe/Tyr) */
    assert_int_equal(CALL(NS_FLAG_CUTOFF, NS_FLAG_CUTOFF, prim_sec, NS_RULE_ANY, 1), NS_CALL_POSITIVE);
    assert_int_equal(CALL(NS_FLAG_CUTOFF, NS_FLAG_NONE, prim_sec, NS_RULE_ANY, 1), NS_CALL_BORDERLINE);
    assert_int_equal(CALL(NS_FLAG_CUTOFF, NS_FLAG_MISSING, prim_sec, NS_RULE_ANY, 1), NS_CALL_POSITIVE);
    assert_int_equal(CALL(NS_FLAG_CRITICAL, NS_FLAG_NONE, prim_sec, NS_RULE_ANY, 1), NS_CALL_CRITICAL);
    assert_int_equal(CALL(NS_FLAG_NONE, NS_FLAG_CUTOFF, prim_sec, NS_RULE_ANY, 1), NS_CALL_NEGATIVE);
    assert_int_equal(CALL(NS_FLAG_CUTOFF, NS_FLAG_NONE, prim_sec, NS_RULE_ANY, 0), NS_CALL_POSITIVE);
#undef CALL
    /* the column kernel agrees with the scalar rule */
    uint8_t a[] = { 0, 2, 2, 4 }, b[] = { 0, 0, 2, 0 }, out[4];
    const uint8_t *cols[] = { a, b };
    assert_int_equal(ns_call_condition(cols, prim_sec, 2, NS_RULE_ANY, 1, out, 4), 0);
    uint8_t want[] = { NS_CALL_NEGATIVE, NS_CALL_BORDERLINE, NS_CALL_POSITIVE, NS_CALL_INDETERMINATE };
    assert_memory_equal(out, want, 4);
    assert_int_equal(ns_call_condition(cols, prim_sec, 2, 7, 1, out, 4), -1);
}

/* the same bits for 1 and 2 threads, on data where summation order matters */
static void test_reductions_thread_independent(void **st)
{
    (void)st;
    const ptrdiff_t n = 100003;
    double *x = malloc((size_t)n * sizeof *x);
    uint8_t *mask = malloc((size_t)n);
    uint64_t s = 12345;
    for (ptrdiff_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        x[i] = (double)(s >> 11) * 0x1.0p-53 * (i % 7 ? 1.0 : 1e8);
        if (i % 101 == 0) x[i] = NAN;
        mask[i] = (uint8_t)(i % 3 != 0);
    }
    double r[2], m[2], q[2];
    ptrdiff_t k[2];
    for (int t = 1; t <= 2; t++) {
        omp_set_num_threads(t);
        r[t - 1] = ns_sum_masked(x, mask, n, &k[t - 1]);
        m[t - 1] = ns_mean_masked(x, NULL, n);
        q[t - 1] = ns_quantile_masked(x, mask, n, 0.995);
    }
    assert_memory_equal(&r[0], &r[1], sizeof r[0]);
    assert_memory_equal(&m[0], &m[1], sizeof m[0]);
    assert_memory_equal(&q[0], &q[1], sizeof q[0]);
    assert_int_equal(k[0], k[1]);
    /* and the count is right */
    ptrdiff_t want = 0;
    for (ptrdiff_t i = 0; i < n; i++) want += mask[i] && !isnan(x[i]);
    assert_int_equal(k[0], want);
    free(x);
    free(mask);
}

static void test_quantile_and_counts(void **st)
{
    (void)st;
    double x[] = { 5, 1, NAN, 3, 2, 4 };
    assert_true(ns_quantile_masked(x, NULL, 6, 0.5) == 3.0);
    assert_true(ns_quantile_masked(x, NULL, 6, 0.0) == 1.0);
    assert_true(ns_quantile_masked(x, NULL, 6, 1.0) == 5.0);
    assert_true(ns_mean_masked(x, NULL, 6) == 3.0);
    assert_true(isnan(ns_quantile_masked(x, NULL, 6, 1.5)));
    assert_true(isnan(ns_quantile_masked(x, NULL, 6, NAN)));
    double none[] = { NAN };
    assert_true(isnan(ns_quantile_masked(none, NULL, 1, 0.5)));
    uint8_t codes[] = { 0, 1, 1, 2, 9 };
    int64_t counts[3];
    assert_int_equal(ns_count_codes(codes, 5, counts, 3), 0);
    assert_int_equal(counts[0], 1);
    assert_int_equal(counts[1], 2);
    assert_int_equal(counts[2], 2);   /* 2 and the out-of-range 9 */
}

/* The column kernel's precomputed limits flag exactly as the scalar rule does: random
 * thresholds (high and low, with and without borderline and critical zones) and values at,
 * just inside and just outside each limit's tolerance, plus NAN and censored values. */
static void test_cutoff_flag_matches_scalar(void **st)
{
    (void)st;
    enum { N = 40000, T = 200 };      /* > NS_PAR_MIN: the parallel path too */
    double *x = malloc(N * sizeof *x);
    uint8_t *bd = malloc(N), *out = malloc(N);
    uint64_t s = 99;
    #define RND() (s = s * 6364136223846793005ULL + 1442695040888963407ULL, (double)(s >> 11) / 9007199254740992.0)
    for (int t = 0; t < T; t++) {
        ns_threshold_t th;
        th.dir = t % 2 ? NS_DIR_LOW : NS_DIR_HIGH;
        th.cutoff = 0.01 + 100 * RND();
        double sgn = th.dir == NS_DIR_HIGH ? 1 : -1;
        th.borderline = t % 3 ? th.cutoff * (1 - 0.2 * sgn) : NAN;
        th.critical = t % 5 ? th.cutoff * (1 + 0.5 * sgn) : NAN;
        const double lim[3] = { th.cutoff, th.borderline, th.critical };
        for (int i = 0; i < N; i++) {
            double l = lim[i % 3];
            if (isnan(l)) l = th.cutoff;
            double eps[] = { 0, 1e-9, -1e-9, 2e-9, -2e-9, 1e-10, -1e-10, 1e-3, -1e-3, 0.5 };
            x[i] = i % 97 == 0 ? NAN : l * (1 + eps[(i / 3) % 10]);
            bd[i] = i % 89 == 0 ? NS_BOUND_UPPER : i % 83 == 0 ? NS_BOUND_LOWER : NS_BOUND_EXACT;
        }
        assert_int_equal(ns_cutoff_flag(x, bd, NULL, &th, 1, out, N), 0);
        for (int i = 0; i < N; i++)
            assert_int_equal(out[i], ns_cutoff_level_bounded(x[i], bd[i], &th));
        assert_int_equal(ns_cutoff_flag(x, NULL, NULL, &th, 1, out, N), 0);
        for (int i = 0; i < N; i++) assert_int_equal(out[i], ns_cutoff_level(x[i], &th));
    }
    #undef RND
    free(x); free(bd); free(out);
}

/* The column kernel ns_call_condition (counts and minima over blocks of rows) against the
 * scalar rule ns_call_one, for every combination of flags of up to 4 markers, every
 * assignment of roles, both rules and both require_secondary settings; the rows are laid
 * out so that blocks and the parallel split cut through them. */
static void test_call_condition_matches_scalar(void **st)
{
    (void)st;
    enum { NF = 5 };
    for (int nm = 1; nm <= 4; nm++) {
        int combos = 1;
        for (int k = 0; k < nm; k++) combos *= NF;
        const ptrdiff_t n = (ptrdiff_t)combos * 97 + 13;      /* not a multiple of any block */
        uint8_t *col[4], *out = malloc((size_t)n);
        for (int k = 0; k < nm; k++) col[k] = malloc((size_t)n);
        for (ptrdiff_t i = 0; i < n; i++) {
            int c = (int)((i * 7919) % combos);
            for (int k = 0; k < nm; k++) { col[k][i] = (uint8_t)(c % NF); c /= NF; }
        }
        const uint8_t *fl[4] = { col[0], nm > 1 ? col[1] : NULL, nm > 2 ? col[2] : NULL, nm > 3 ? col[3] : NULL };
        for (int roles = 0; roles < (1 << nm); roles++) {
            int role[4];
            for (int k = 0; k < nm; k++) role[k] = (roles >> k) & 1;
            for (int rule = 0; rule < 2; rule++)
                for (int req = 0; req < 2; req++) {
                    assert_int_equal(ns_call_condition(fl, role, nm, rule, req, out, n), 0);
                    for (ptrdiff_t i = 0; i < n; i++) {
                        uint8_t f[4];
                        for (int k = 0; k < nm; k++) f[k] = col[k][i];
                        assert_int_equal(out[i], ns_call_one(f, role, nm, rule, req));
                    }
                }
        }
        for (int k = 0; k < nm; k++) free(col[k]);
        free(out);
    }
}

/* The one-term ratio path follows the general rules: NAN terms, zero or negative
 * denominators, censored numerator (upper bound), denominator (lower bound) or both. */
static void test_ratio_single_term_rules(void **st)
{
    (void)st;
    const double a[] = { 2, NAN, 2, 2, 2, 2, 2, 0 };
    const double b[] = { 4, 4, NAN, 0, -1, 4, 4, 4 };
    const uint8_t ab[] = { 0, 0, 0, 0, 0, NS_BOUND_UPPER, NS_BOUND_UPPER, 0 };
    const uint8_t bb[] = { 0, 0, 0, 0, 0, 0, NS_BOUND_UPPER, NS_BOUND_UPPER };
    const double *num[] = { a }, *den[] = { b };
    const uint8_t *nb[] = { ab }, *db[] = { bb };
    double r[8];
    uint8_t k[8];
    assert_int_equal(ns_ratio_compute(num, nb, 1, den, db, 1, r, k, 8), 0);
    assert_true(r[0] == 0.5 && k[0] == NS_BOUND_EXACT);
    assert_true(isnan(r[1]) && isnan(r[2]) && isnan(r[3]) && isnan(r[4]));
    assert_true(r[5] == 0.5 && k[5] == NS_BOUND_UPPER);
    assert_true(isnan(r[6]));                      /* both ends unknown */
    assert_true(r[7] == 0.0 && k[7] == NS_BOUND_LOWER);
}

/* Type 7 on a small set, by hand: h = (n - 1) q. */
static void test_quantile_sorted_type7(void **st)
{
    (void)st;
    const double x[] = { 1, 2, 4, 8, 16 };
    assert_true(ns_quantile_sorted(x, 5, 0.0) == 1.0);
    assert_true(ns_quantile_sorted(x, 5, 1.0) == 16.0);
    assert_true(ns_quantile_sorted(x, 5, 0.5) == 4.0);
    assert_true(fabs(ns_quantile_sorted(x, 5, 0.9) - (8.0 + 0.6 * 8.0)) < 1e-12);   /* h = 3.6 */
    assert_true(isnan(ns_quantile_sorted(x, 0, 0.5)));
    assert_true(isnan(ns_quantile_sorted(x, 5, 1.5)));
}

/* Binomial sums done the slow way, to check the ranks the CI picks. */
static double slow_cdf(long k, double q, long n)
{
    double s = 0, lc = 0;
    for (long j = 0; j <= k && j <= n; j++) {
        if (j > 0) lc += log((double)(n - j + 1)) - log((double)j);
        s += exp(lc + j * log(q) + (n - j) * log1p(-q));
    }
    return s;
}

static void test_quantile_ci_ranks(void **st)
{
    (void)st;
    enum { N = 400 };
    double *x = malloc(N * sizeof *x);
    for (int i = 0; i < N; i++) x[i] = i + 1;       /* x(r) = r */
    const double qs[] = { 0.5, 0.9, 0.99 };
    for (int t = 0; t < 3; t++) {
        double lo, hi;
        size_t rl, ru;
        int r = ns_quantile_ci(x, N, qs[t], 0.95, &lo, &hi, &rl, &ru);
        assert_int_equal(r, 0);
        assert_true(lo == (double)rl && hi == (double)ru);
        /* l: P(B <= l-1) <= 0.025 < P(B <= l);  u: P(B <= u-2) < 0.975 <= P(B <= u-1) */
        assert_true(slow_cdf((long)rl - 1, qs[t], N) <= 0.025 + 1e-12);
        assert_true(slow_cdf((long)rl, qs[t], N) > 0.025 - 1e-12);
        assert_true(slow_cdf((long)ru - 1, qs[t], N) >= 0.975 - 1e-12);
        assert_true(slow_cdf((long)ru - 2, qs[t], N) < 0.975 + 1e-12);
        assert_true(slow_cdf((long)ru - 1, qs[t], N) - slow_cdf((long)rl - 1, qs[t], N) >= 0.95 - 1e-9);
    }
    free(x);
}

/* The median's interval is symmetric (l + u = n + 1), also deep in the tails where the
 * upper side must come from P(B > k) rather than 1 - P(B <= k). */
static void test_quantile_ci_symmetric_deep_tail(void **st)
{
    (void)st;
    const size_t n = 100000;
    double *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++) x[i] = (double)(i + 1);
    const double confs[] = { 0.95, 1 - 1e-9, 1 - 2e-16 };
    for (int t = 0; t < 3; t++) {
        double lo, hi;
        size_t rl, ru;
        assert_int_equal(ns_quantile_ci(x, n, 0.5, confs[t], &lo, &hi, &rl, &ru), 0);
        assert_int_equal(rl + ru, n + 1);
    }
    free(x);
}

/* Too few values for the 99.5th: the upper side is open, and min_n says where it closes. */
static void test_quantile_ci_small_n(void **st)
{
    (void)st;
    size_t need = ns_quantile_min_n(0.995, 0.95);
    assert_int_equal(need, 736);                    /* 0.995^736 < 0.025 < 0.995^735 */
    double *x = malloc(need * sizeof *x);
    for (size_t i = 0; i < need; i++) x[i] = (double)i;
    double lo, hi;
    assert_int_equal(ns_quantile_ci(x, need - 1, 0.995, 0.95, &lo, &hi, NULL, NULL), 1);
    assert_true(!isnan(lo) && isnan(hi));
    assert_int_equal(ns_quantile_ci(x, need, 0.995, 0.95, &lo, &hi, NULL, NULL), 0);
    assert_true(!isnan(hi));
    assert_int_equal(ns_quantile_ci(x, need, 1.0, 0.95, &lo, &hi, NULL, NULL), -1);
    free(x);
}

/* Coverage: the 90th percentile of U(0,1) is 0.9; over many samples the interval holds it
 * at least ~95 % of the time (fixed LCG, so the test is deterministic). */
static void test_quantile_ci_coverage(void **st)
{
    (void)st;
    enum { N = 500, REPS = 1000 };
    double *x = malloc(N * sizeof *x);
    uint64_t s = 12345;
    int hit = 0;
    for (int r = 0; r < REPS; r++) {
        for (int i = 0; i < N; i++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            x[i] = (double)(s >> 11) / 9007199254740992.0;
        }
        qsort(x, N, sizeof *x, cmp_double);
        double lo, hi;
        assert_int_equal(ns_quantile_ci(x, N, 0.9, 0.95, &lo, &hi, NULL, NULL), 0);
        hit += lo <= 0.9 && 0.9 <= hi;
    }
    assert_true(hit >= 935 && hit <= 990);
    free(x);
}

/* ns_median_inplace against gsl_stats_median, bit for bit: every n from 1 to 300 and some
 * larger, values with many ties (small integer sets), continuous ones, +-inf, and sorted,
 * reversed and constant inputs (the worst cases of a quickselect); and its AVX-512 path
 * against the one-at-a-time path, bit for bit, signed zeros included. */
static void test_median_inplace(void **state)
{
    (void)state;
    enum { NMAX = 2100 };
    double *v = malloc(NMAX * sizeof *v), *w = malloc(NMAX * sizeof *w), *v1 = malloc(NMAX * sizeof *v1);
    uint64_t s = 0x9e3779b97f4a7c15ull;
    int checked = 0;
    for (size_t n = 1; n <= NMAX; n += n < 300 ? 1 : 199) {
        for (int kind = 0; kind < 8; kind++) {
            for (size_t i = 0; i < n; i++) {
                s = s * 6364136223846793005ull + 1442695040888963407ull;
                const double u = (double)(s >> 11) * 0x1p-53;
                switch (kind) {
                case 0: v[i] = u * 100.0; break;                        /* continuous */
                case 1: v[i] = (double)(s >> 60); break;                 /* 16 values, ties */
                case 2: v[i] = (double)(s >> 63) * 0.25; break;          /* two values */
                case 3: v[i] = (double)i * 0.5; break;                   /* sorted */
                case 4: v[i] = (double)(n - i); break;                   /* reversed */
                case 5: v[i] = 3.25; break;                              /* constant */
                case 6: v[i] = (s >> 58) == 0 ? INFINITY : (s >> 58) == 1 ? -INFINITY : u - 0.5; break;
                default: v[i] = (s >> 62) == 0 ? -0.0 : (s >> 62) == 1 ? 0.0 : (double)(s >> 63); /* signed zeros */
                }
            }
            memcpy(w, v, n * sizeof *v);
            memcpy(v1, v, n * sizeof *v);
            const double want = gsl_stats_median(w, 1, n), got = ns_median_inplace(v, n);
            if (kind == 7 ? want != got : memcmp(&want, &got, sizeof got) != 0)   /* gsl's sort may order -0 and 0 either way */
                fail_msg("n %zu kind %d: median %.17g, gsl %.17g", n, kind, got, want);
            ns_stats_simd = 0;                   /* the one-at-a-time path: the same bits */
            const double one = ns_median_inplace(v1, n);
            ns_stats_simd = 1;
            if (memcmp(&one, &got, sizeof got) != 0)
                fail_msg("n %zu kind %d: median %.17g one at a time, %.17g eight", n, kind, one, got);
            checked++;
        }
    }
    assert_true(checked > 2000);
    assert_true(isnan(ns_median_inplace(v, 0)));
    free(v);
    free(w);
    free(v1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ratio),
        cmocka_unit_test(test_cutoff_high_low),
        cmocka_unit_test(test_call_rules),
        cmocka_unit_test(test_call_condition_matches_scalar),
        cmocka_unit_test(test_reductions_thread_independent),
        cmocka_unit_test(test_quantile_and_counts),
        cmocka_unit_test(test_cutoff_flag_matches_scalar),
        cmocka_unit_test(test_ratio_single_term_rules),
        cmocka_unit_test(test_quantile_sorted_type7),
        cmocka_unit_test(test_quantile_ci_ranks),
        cmocka_unit_test(test_quantile_ci_small_n),
        cmocka_unit_test(test_quantile_ci_symmetric_deep_tail),
        cmocka_unit_test(test_quantile_ci_coverage),
        cmocka_unit_test(test_median_inplace),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
