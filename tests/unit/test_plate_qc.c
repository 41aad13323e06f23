/* test_plate_qc.c — plate QC decisions on hand-built batches: Westgard within a plate,
 * across tonight's plates and from history; missing controls; carry-over; median shift;
 * qc_hold of a rejected plate's patients only. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "../../pipeline/plate_qc.h"

#define NA 2              /* analytes A0, A1 */
#define PER_PLATE 24      /* qc_low, qc_high, blank, 21 patients */

static ns_panel_t panel;
static ns_qc_config_t cfg;
static double mean_[NS_QC_LEVELS][NA] = { { 10, 1 }, { 50, 5 } };
static double sd_[NS_QC_LEVELS][NA] = { { 1, 0.1 }, { 5, 0.5 } };

static void setup_config(void)
{
    static ns_analyte_t an[NA];
    memset(&panel, 0, sizeof panel);
    strcpy(an[0].name, "A0");
    strcpy(an[1].name, "A1");
    panel.analytes = an;
    panel.n_analytes = NA;
    memset(&cfg, 0, sizeof cfg);
    for (int l = 0; l < NS_QC_LEVELS; l++) {
        cfg.level[l].mean = mean_[l];
        cfg.level[l].sd = sd_[l];
    }
    cfg.rules = NS_WG_ALL;
    cfg.reject_rules = NS_WG_REJECT_RULES;
    cfg.blank_max_fraction = 0.2;
    cfg.blank_action = NS_QC_ACT_WARNING;
    cfg.median_max_shift = 0.3;
    cfg.median_window = 20;
    cfg.median_min_patients = 20;
}

/* n_plates plates; control z-scores per plate and level for analyte 0 (others at target);
 * patients at patient_level * (1 + shift of that plate) */
typedef struct {
    int n_plates;
    double z_low[48], z_high[48];
    double patient_shift[48];
    int drop_low_well[48];      /* plate has no qc_low well */
    double blank_a0[48];
} night_t;

static ns_batch_t *make_batch(const night_t *nt)
{
    ns_batch_t *b = calloc(1, sizeof *b);
    b->panel = &panel;
    b->n_plates = nt->n_plates;
    b->plates = calloc((size_t)nt->n_plates, sizeof *b->plates);
    int64_t n = 0;
    for (int k = 0; k < nt->n_plates; k++) n += PER_PLATE - (nt->drop_low_well[k] ? 1 : 0);
    b->n = n;
    b->plate = calloc((size_t)n, sizeof *b->plate);
    b->well = calloc((size_t)n, sizeof *b->well);
    b->type = calloc((size_t)n, 1);
    b->conc = calloc((size_t)n * NA, sizeof *b->conc);
    b->state = calloc((size_t)n, 1);
    b->sample_id = calloc((size_t)n, sizeof *b->sample_id);
    int64_t i = 0;
    for (int k = 0; k < nt->n_plates; k++) {
        snprintf(b->plates[k].id, sizeof b->plates[k].id, "P%d", k + 1);
        b->plates[k].status = NS_PLATE_OK;
        b->plates[k].first_row = i;
        for (int w = 0; w < PER_PLATE; w++) {
            int type = w == 0 ? NS_TYPE_QC_LOW : w == 1 ? NS_TYPE_QC_HIGH : w == 2 ? NS_TYPE_BLANK : NS_TYPE_PATIENT;
            if (type == NS_TYPE_QC_LOW && nt->drop_low_well[k]) continue;
            b->plate[i] = k;
            snprintf(b->well[i], 4, "%c%02d", 'A' + w % 8, w / 8 + 1);
            b->type[i] = (uint8_t)type;
            b->state[i] = type == NS_TYPE_PATIENT ? NS_STATE_NEGATIVE : NS_STATE_CONTROL;
            for (int a = 0; a < NA; a++) {
                double v;
                if (type == NS_TYPE_QC_LOW) v = mean_[0][a] + (a == 0 ? nt->z_low[k] : 0) * sd_[0][a];
                else if (type == NS_TYPE_QC_HIGH) v = mean_[1][a] + (a == 0 ? nt->z_high[k] : 0) * sd_[1][a];
                else if (type == NS_TYPE_BLANK) v = a == 0 ? nt->blank_a0[k] : 0.0;
                else v = (a == 0 ? 20.0 : 2.0) * (1.0 + nt->patient_shift[k]) * (1.0 + 0.001 * w);
                b->conc[(size_t)a * (size_t)n + (size_t)i] = v;
            }
            i++;
        }
    }
    return b;
}

static void free_batch(ns_batch_t *b)
{
    free(b->plates); free(b->plate); free(b->well); free(b->type); free(b->conc);
    free(b->state); free(b->sample_id); free(b);
}

static int held(const ns_batch_t *b, int k)
{
    int n = 0;
    for (int64_t i = 0; i < b->n; i++) n += b->plate[i] == k && b->state[i] == NS_STATE_QC_HOLD;
    return n;
}

static void test_shifted_high_control_rejects_its_plate_only(void **st)
{
    (void)st;
    setup_config();
    night_t nt = { .n_plates = 3, .z_high = { 0, 4.0, 0 } };
    ns_batch_t *b = make_batch(&nt);
    ns_qc_result_t r;
    assert_int_equal(ns_plate_qc_run(b, &cfg, NULL, &r), 0);
    assert_int_equal(r.plate[0].status, NS_QC_ACCEPTED);
    assert_int_equal(r.plate[1].status, NS_QC_REJECTED);
    assert_string_equal(r.plate[1].reason, "1-3s A0 qc_high");
    assert_int_equal(r.plate[2].status, NS_QC_ACCEPTED);
    assert_int_equal(held(b, 0), 0);
    assert_int_equal(held(b, 1), PER_PLATE - 3);     /* every patient, no control */
    assert_int_equal(held(b, 2), 0);
    assert_int_equal(r.n_rejected, 1);
    assert_true(r.plate[1].violated[0 * NS_QC_LEVELS + 1] & NS_WG_1_3S);
    /* A1's controls are at target on every plate: nothing judged against A1 */
    for (int k = 0; k < 3; k++)
        for (int l = 0; l < NS_QC_LEVELS; l++) assert_int_equal(r.plate[k].violated[1 * NS_QC_LEVELS + l], 0);
    ns_plate_qc_free(&r, b->n_plates);
    free_batch(b);
}

static void test_warning_then_2_2s_across_plates(void **st)
{
    (void)st;
    setup_config();
    night_t nt = { .n_plates = 2, .z_high = { 2.5, 2.5 } };
    ns_batch_t *b = make_batch(&nt);
    ns_qc_result_t r;
    assert_int_equal(ns_plate_qc_run(b, &cfg, NULL, &r), 0);
    assert_int_equal(r.plate[0].status, NS_QC_WARNING);     /* 1-2s alone: warning */
    assert_non_null(strstr(r.plate[0].warnings, "1-2s A0 qc_high"));
    assert_int_equal(r.plate[1].status, NS_QC_REJECTED);    /* same level, consecutive runs */
    assert_string_equal(r.plate[1].reason, "2-2s A0 qc_high");
    assert_int_equal(held(b, 0), 0);
    ns_plate_qc_free(&r, b->n_plates);
    free_batch(b);
}

static void test_rules_off_are_off(void **st)
{
    (void)st;
    setup_config();
    cfg.rules = NS_WG_1_2S | NS_WG_1_3S;   /* 1-3s in force, but only warning */
    cfg.reject_rules = 0;
    night_t nt = { .n_plates = 1, .z_high = { 4.0 } };
    ns_batch_t *b = make_batch(&nt);
    ns_qc_result_t r;
    assert_int_equal(ns_plate_qc_run(b, &cfg, NULL, &r), 0);
    assert_int_equal(r.plate[0].status, NS_QC_WARNING);
    ns_plate_qc_free(&r, b->n_plates);
    free_batch(b);
}

/* A warning-only rule ranked above a rejecting one must not hide the rejection:
 * 4-1s demoted to warning, 10-x rejecting, ten plates with qc_low at +1.5 SD break both. */
static void test_warning_rule_does_not_hide_rejecting_rule(void **st)
{
    (void)st;
    setup_config();
    cfg.rules = NS_WG_4_1S | NS_WG_10X;
    cfg.reject_rules = NS_WG_10X;
    night_t nt = { .n_plates = 8 };
    for (int k = 0; k < 8; k++) nt.z_low[k] = 1.5, nt.z_high[k] = 1.5;
    ns_batch_t *b = make_batch(&nt);
    ns_qc_result_t r;
    assert_int_equal(ns_plate_qc_run(b, &cfg, NULL, &r), 0);
    /* plate 2: four observations beyond +1 SD (4-1s, warning only); plate 5: ten on one
     * side of the mean (10-x, across levels) -> rejected by 10-x although 4-1s also holds */
    assert_int_equal(r.plate[1].status, NS_QC_WARNING);
    assert_non_null(strstr(r.plate[1].warnings, "4-1s A0"));
    assert_int_equal(r.plate[4].status, NS_QC_REJECTED);
    assert_string_equal(r.plate[4].reason, "10-x A0 qc_low+qc_high");
    assert_true(r.plate[4].violated[0 * NS_QC_LEVELS + 0] & NS_WG_4_1S);
    assert_int_equal(held(b, 4), PER_PLATE - 3);
    ns_plate_qc_free(&r, b->n_plates);
    free_batch(b);
}

/* an earlier night's qc_low reading of analyte a on plate OLD<k>, z SDs from target */
static void old_qc_low(ns_qc_control_t *o, int k, int a, double z)
{
    snprintf(o->plate_id, sizeof o->plate_id, "OLD%d", k);
    o->plate = -1;
    o->level = 0;
    o->analyte = a;
    o->z = z;
}

static void test_drift_caught_from_history(void **st)
{
    (void)st;
    setup_config();
    /* nine earlier plates with qc_low slightly high (+0.5 SD: no single-night rule
     * fires) -> tonight's tenth reading on the same side completes 10-x */
    ns_qc_history_t h;
    memset(&h, 0, sizeof h);
    ns_qc_control_t obs[9];
    memset(obs, 0, sizeof obs);
    for (int j = 0; j < 9; j++) old_qc_low(&obs[j], j, 0, 0.5);
    h.obs = obs;
    h.n_obs = 9;
    night_t nt = { .n_plates = 1, .z_low = { 0.5 } };
    ns_batch_t *b = make_batch(&nt);
    ns_qc_result_t r;
    assert_int_equal(ns_plate_qc_run(b, &cfg, NULL, &r), 0);
    assert_int_equal(r.plate[0].status, NS_QC_ACCEPTED);      /* without history: fine */
    ns_plate_qc_free(&r, b->n_plates);
    for (int64_t i = 0; i < b->n; i++) if (b->type[i] == NS_TYPE_PATIENT) b->state[i] = NS_STATE_NEGATIVE;
    assert_int_equal(ns_plate_qc_run(b, &cfg, &h, &r), 0);
    assert_int_equal(r.plate[0].status, NS_QC_REJECTED);
    assert_string_equal(r.plate[0].reason, "10-x A0 qc_low");
    ns_plate_qc_free(&r, b->n_plates);
    free_batch(b);
}

/* The history interleaves two analytes: each analyte's series must still be its own, in
 * order (plate_qc.c gathers them in one pass): A0's nine earlier +0.5 SD readings and
 * tonight's make 10-x, whatever A1's readings in between. */
static void test_history_of_two_analytes_interleaved(void **st)
{
    (void)st;
    setup_config();
    ns_qc_history_t h;
    memset(&h, 0, sizeof h);
    ns_qc_control_t obs[18];
    memset(obs, 0, sizeof obs);
    for (int j = 0; j < 18; j++)                   /* A1, A0, A1, A0, ... */
        old_qc_low(&obs[j], j / 2, j % 2 ? 0 : 1, j % 2 ? 0.5 : -0.5);
    h.obs = obs;
    h.n_obs = 18;
    night_t nt = { .n_plates = 1, .z_low = { 0.5 } };
    ns_batch_t *b = make_batch(&nt);
    ns_qc_result_t r;
    assert_int_equal(ns_plate_qc_run(b, &cfg, &h, &r), 0);
    assert_int_equal(r.plate[0].status, NS_QC_REJECTED);
    assert_string_equal(r.plate[0].reason, "10-x A0 qc_low");
    assert_int_equal(r.plate[0].violated[1 * NS_QC_LEVELS + 0], 0);   /* A1: -0.5 SD, then 0 */
    ns_plate_qc_free(&r, b->n_plates);
    free_batch(b);
}

/* Two wells of one control level on a plate: a value missing in one is supplied by the
 * other; missing in both rejects the plate. */
static void test_second_control_well_supplies_the_value(void **st)
{
    (void)st;
    setup_config();
    night_t nt = { .n_plates = 2 };
    ns_batch_t *b = make_batch(&nt);
    const size_t n = (size_t)b->n;
    for (int k = 0; k < 2; k++) {
        int64_t i0 = b->plates[k].first_row;
        /* the plate's fourth well (a patient) becomes a second qc_high at target */
        b->type[i0 + 3] = NS_TYPE_QC_HIGH;
        b->state[i0 + 3] = NS_STATE_CONTROL;
        for (int a = 0; a < NA; a++) b->conc[(size_t)a * n + (size_t)(i0 + 3)] = mean_[1][a];
        b->conc[n + (size_t)(i0 + 1)] = NAN;            /* A1 of the first qc_high well */
        if (k == 1) b->conc[n + (size_t)(i0 + 3)] = NAN;  /* plate 2: and of the second */
    }
    ns_qc_result_t r;
    assert_int_equal(ns_plate_qc_run(b, &cfg, NULL, &r), 0);
    assert_int_not_equal(r.plate[0].status, NS_QC_REJECTED);
    assert_int_equal(r.plate[1].status, NS_QC_REJECTED);
    assert_string_equal(r.plate[1].reason, "no qc_high value for A1");
    ns_plate_qc_free(&r, b->n_plates);
    free_batch(b);
}

static void test_missing_controls_reject(void **st)
{
    (void)st;
    setup_config();
    night_t nt = { .n_plates = 2, .drop_low_well = { 1, 0 } };
    ns_batch_t *b = make_batch(&nt);
    /* plate 2: qc_high A1 value missing */
    for (int64_t i = 0; i < b->n; i++)
        if (b->plate[i] == 1 && b->type[i] == NS_TYPE_QC_HIGH) b->conc[(size_t)b->n + (size_t)i] = NAN;
    ns_qc_result_t r;
    assert_int_equal(ns_plate_qc_run(b, &cfg, NULL, &r), 0);
    assert_string_equal(r.plate[0].reason, "no qc_low well on the plate");
    assert_string_equal(r.plate[1].reason, "no qc_high value for A1");
    assert_int_equal(held(b, 0), PER_PLATE - 3);
    ns_plate_qc_free(&r, b->n_plates);
    free_batch(b);
}

static void test_carry_over_and_median_shift_warn(void **st)
{
    (void)st;
    setup_config();
    night_t nt = { .n_plates = 5, .blank_a0 = { 0, 0, 0, 0, 3.0 },
                   .patient_shift = { 0, 0, 0, 0.5, 0 } };
    ns_batch_t *b = make_batch(&nt);
    ns_qc_result_t r;
    assert_int_equal(ns_plate_qc_run(b, &cfg, NULL, &r), 0);
    /* plate 4: patient medians 50 % above the running median of plates 1-3 */
    assert_int_equal(r.plate[3].status, NS_QC_WARNING);
    assert_non_null(strstr(r.plate[3].warnings, "median shift A0 +50%"));
    assert_true(fabs(r.plate[3].median_ref[0] - r.plate[0].median[0]) < 1e-9);
    /* plate 5: blank A0 3.0 > 0.2 x qc_low target 10 */
    assert_int_equal(r.plate[4].status, NS_QC_WARNING);
    assert_non_null(strstr(r.plate[4].warnings, "carry-over A0 in blank C01"));
    assert_int_equal(held(b, 3) + held(b, 4), 0);              /* warnings hold nothing */
    cfg.blank_action = NS_QC_ACT_REJECT;
    ns_plate_qc_free(&r, b->n_plates);
    assert_int_equal(ns_plate_qc_run(b, &cfg, NULL, &r), 0);
    assert_int_equal(r.plate[4].status, NS_QC_REJECTED);
    ns_plate_qc_free(&r, b->n_plates);
    free_batch(b);
}

static int cmp_double(const void *x, const void *y)
{
    const double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* The running median by its definition: the medians of up to median_window earlier plates
 * that were screened and had one (latest first), then the history's (latest first); none
 * with fewer than 3. */
static double reference_ref(const ns_qc_result_t *r, const ns_qc_history_t *h, int k, int a)
{
    double v[64];
    int n = 0;
    for (int j = k - 1; j >= 0 && n < cfg.median_window; j--)
        if (r->plate[j].status != NS_QC_NOT_RUN && !isnan(r->plate[j].median[a])) v[n++] = r->plate[j].median[a];
    for (int j = h ? h->n_plates - 1 : -1; j >= 0 && n < cfg.median_window; j--)
        if (!isnan(h->median[(size_t)j * NA + a])) v[n++] = h->median[(size_t)j * NA + a];
    if (n < 3) return NAN;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/* 40 plates against a window of 5 (the ring of earlier medians wraps many times): shifts
 * on every plate, two quarantined plates, A1 without patient values on some plates (no
 * median, so not in the window), with and without a history of 4 plates (one of them
 * without A1). */
static void test_running_median_window(void **st)
{
    (void)st;
    setup_config();
    cfg.median_window = 5;
    night_t nt = { .n_plates = 40 };
    for (int k = 0; k < 40; k++) nt.patient_shift[k] = 0.01 * (double)((k * 7) % 11) - 0.05;
    ns_batch_t *b = make_batch(&nt);
    b->plates[6].status = NS_PLATE_QUARANTINED;         /* as ingest leaves them: no first row */
    b->plates[6].first_row = -1;
    b->plates[17].status = NS_PLATE_QUARANTINED;
    b->plates[17].first_row = -1;
    for (int64_t i = 0; i < b->n; i++) {
        const int k = b->plate[i];
        if (b->type[i] == NS_TYPE_PATIENT && (k % 4 == 1 || k == 12)) b->conc[(size_t)b->n + (size_t)i] = NAN;
    }
    double hmed[4 * NA] = { 19.0, 2.1, 21.0, NAN, 20.5, 1.9, 19.5, 2.05 };
    ns_qc_history_t h = { .n_plates = 4, .median = hmed };
    for (int with_h = 0; with_h < 2; with_h++) {
        ns_qc_result_t r;
        assert_int_equal(ns_plate_qc_run(b, &cfg, with_h ? &h : NULL, &r), 0);
        int compared = 0;
        for (int k = 0; k < 40; k++)
            for (int a = 0; a < NA; a++) {
                if (r.plate[k].status == NS_QC_NOT_RUN) {
                    assert_true(isnan(r.plate[k].median_ref[a]));
                    continue;
                }
                const double want = isnan(r.plate[k].median[a]) ? NAN : reference_ref(&r, with_h ? &h : NULL, k, a);
                const double got = r.plate[k].median_ref[a];
                if (!(isnan(want) ? isnan(got) : memcmp(&want, &got, sizeof got) == 0))
                    fail_msg("history %d plate %d analyte %d: median_ref %.17g, want %.17g", with_h, k, a, got, want);
                compared += !isnan(want);
            }
        assert_true(compared > 50);
        assert_true(isnan(r.plate[5].median[1]) && isnan(r.plate[12].median[1]) && !isnan(r.plate[11].median[1]));
        ns_plate_qc_free(&r, b->n_plates);
    }
    free_batch(b);
}

/* Each plate's patient median (the patient values that are numbers, picked eight rows at a
 * time where the CPU can) against the median of the same rows picked and sorted here:
 * plates of 17 to 31 rows (so that they start and end anywhere in a group of eight), wells
 * of every type, NaN values; with and without the vector pick. */
static void test_patient_medians(void **st)
{
    (void)st;
    setup_config();
    cfg.median_min_patients = 3;
    night_t nt = { .n_plates = 40 };
    ns_batch_t *b = make_batch(&nt);
    uint64_t x = 0x6d656469616e7321ULL;
    for (int k = 1; k < 40; k++) {              /* move plate boundaries: first_row anywhere */
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        const int d = (int)((x >> 40) % 15) - 7;
        b->plates[k].first_row += d;
    }
    for (int k = 0; k < 40; k++) {
        const int64_t e = k + 1 < 40 ? b->plates[k + 1].first_row : b->n;
        for (int64_t i = b->plates[k].first_row; i < e; i++) b->plate[i] = k;
    }
    for (int64_t i = 0; i < b->n; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        const unsigned u = (unsigned)(x >> 40) % 100;
        if (b->type[i] == NS_TYPE_PATIENT && u < 15) b->type[i] = u < 5 ? NS_TYPE_BLANK : NS_TYPE_QC_LOW;
        for (int a = 0; a < NA; a++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            double *v = &b->conc[(size_t)a * (size_t)b->n + (size_t)i];
            if ((x >> 60) == 0) *v = NAN;
            else if (b->type[i] == NS_TYPE_PATIENT) *v = (double)((x >> 20) % 10000) / 100.0;
        }
    }
    cfg.rules = 0;
    cfg.reject_rules = 0;
    const int was = ns_simd;
    for (int simd = 0; simd < 2; simd++) {
        ns_simd = simd;
        ns_qc_result_t r;
        assert_int_equal(ns_plate_qc_run(b, &cfg, NULL, &r), 0);
        int compared = 0;
        for (int k = 0; k < 40; k++)
            for (int a = 0; a < NA; a++) {
                double v[64];
                int n = 0;
                const int64_t e = k + 1 < 40 ? b->plates[k + 1].first_row : b->n;
                for (int64_t i = b->plates[k].first_row; i < e; i++) {
                    const double c = b->conc[(size_t)a * (size_t)b->n + (size_t)i];
                    if (b->type[i] == NS_TYPE_PATIENT && !isnan(c)) v[n++] = c;
                }
                double want = NAN;
                if (n >= cfg.median_min_patients) {
                    qsort(v, (size_t)n, sizeof *v, cmp_double);
                    want = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
                }
                const double got = r.plate[k].median[a];
                if (!(isnan(want) ? isnan(got) : memcmp(&want, &got, sizeof got) == 0))
                    fail_msg("simd %d plate %d analyte %d: median %.17g, want %.17g", simd, k, a, got, want);
                compared += !isnan(want);
            }
        assert_true(compared > 60);
        ns_plate_qc_free(&r, b->n_plates);
    }
    ns_simd = was;
    free_batch(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shifted_high_control_rejects_its_plate_only),
        cmocka_unit_test(test_warning_then_2_2s_across_plates),
        cmocka_unit_test(test_rules_off_are_off),
        cmocka_unit_test(test_warning_rule_does_not_hide_rejecting_rule),
        cmocka_unit_test(test_drift_caught_from_history),
        cmocka_unit_test(test_history_of_two_analytes_interleaved),
        cmocka_unit_test(test_second_control_well_supplies_the_value),
        cmocka_unit_test(test_missing_controls_reject),
        cmocka_unit_test(test_carry_over_and_median_shift_warn),
        cmocka_unit_test(test_patient_medians),
        cmocka_unit_test(test_running_median_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
