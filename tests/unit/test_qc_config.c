/* test_qc_config.c — the QC materials loader: the shipped configs/qc.yaml loads against the
 * default panel and matches the simulator's synthetic lots; defaults apply to absent keys;
 * every kind of mistake is reported at its line and column, and all of them at once. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "../../pipeline/batch.h"
#include "../../pipeline/panel.h"
#include "../../pipeline/qc_config.h"
#include "../../pipeline/sim_profiles.h"

/* A small panel of its own, so these tests do not move when the default panel does. */
static const char *panel_text =
    "panel: {name: t, version: \"1\"}\n"
    "analytes:\n"
    "  - {name: Phe}\n"
    "  - {name: Tyr}\n"
    "  - {name: Xle, aliases: [Leu]}\n"
    "  - {name: C0, aliases: [FC]}\n"
    "  - {name: \"C5:1\", aliases: [C51]}\n"
    "conditions:\n"
    "  - code: PKU\n"
    "    priority: urgent\n"
    "    action: referral\n"
    "    markers:\n"
    "      - {marker: Phe, direction: high, cutoff: 150}\n";
enum { PHE = 0, TYR, XLE, C0, C51 };

static const char *good =
    "qc:\n"                                                                  /* 1 */
    "  plate_map:\n"                                                         /* 2 */
    "    qc_low: [A01, H12]\n"                                               /* 3 */
    "    qc_high: [B01]\n"                                                   /* 4 */
    "    blank: [C01]\n"                                                     /* 5 */
    "  rules: [\"1-3s\", \"2-2s\", \"R-4s\"]\n"                              /* 6 */
    "  blank: {max_fraction_of_qc_low: 0.1, action: reject}\n"               /* 7 */
    "  median: {max_shift: 0.25, window_plates: 10, min_patients: 30}\n"     /* 8 */
    "  history_plates: 12\n"                                                 /* 9 */
    "  materials:\n"                                                         /* 10 */
    "    qc_low:\n"                                                          /* 11 */
    "      lot: L1\n"                                                        /* 12 */
    "      targets:\n"                                                       /* 13 */
    "        Phe: [49.0, 3.92]\n"                                            /* 14 */
    "        Leu: [87, 6.96]\n"                                              /* 15 */
    "        \"C5:1\": [0.014, 0.00112]\n"                                   /* 16 */
    "    qc_high:\n"                                                         /* 17 */
    "      lot: H1\n"                                                        /* 18 */
    "      targets: {Phe: [245, 19.6], C0: [150, 12]}\n";                    /* 19 */

static ns_panel_t *panel_from(const char *text)
{
    ns_panel_errs_t e;
    ns_panel_t *p = ns_panel_load_mem("panel.yaml", text, strlen(text), &e);
    for (int i = 0; i < e.n; i++) print_error("panel %d:%d: %s\n", e.v[i].pos.line, e.v[i].pos.col, e.v[i].msg);
    ns_panel_errs_free(&e);
    assert_non_null(p);
    return p;
}

static ns_qc_config_t *load(const char *text, const ns_panel_t *p, ns_panel_errs_t *e)
{
    return ns_qc_load_mem("qc.yaml", text, strlen(text), p, e);
}

static void test_good(void **st)
{
    (void)st;
    ns_panel_t *p = panel_from(panel_text);
    ns_panel_errs_t e;
    ns_qc_config_t *q = load(good, p, &e);
    for (int i = 0; i < e.n; i++) print_error("%d:%d: %s\n", e.v[i].pos.line, e.v[i].pos.col, e.v[i].msg);
    assert_non_null(q);
    assert_int_equal(e.n, 0);
    assert_int_equal(q->rows, 8);
    assert_int_equal(q->cols, 12);
    /* well_type is row-major: index row * cols + col */
    assert_int_equal(q->well_type[0 * 12 + 0], NS_TYPE_QC_LOW);     /* A01 */
    assert_int_equal(q->well_type[7 * 12 + 11], NS_TYPE_QC_LOW);    /* H12 */
    assert_int_equal(q->well_type[1 * 12 + 0], NS_TYPE_QC_HIGH);    /* B01 */
    assert_int_equal(q->well_type[2 * 12 + 0], NS_TYPE_BLANK);      /* C01 */
    assert_int_equal(q->well_type[3 * 12 + 0], NS_TYPE_PATIENT);    /* D01 */
    assert_int_equal(q->well_type[0 * 12 + 1], NS_TYPE_PATIENT);    /* A02 */
    assert_int_equal(q->n_ctl_wells[NS_TYPE_QC_LOW], 2);
    assert_int_equal(q->n_ctl_wells[NS_TYPE_QC_HIGH], 1);
    assert_int_equal(q->n_ctl_wells[NS_TYPE_BLANK], 1);
    assert_int_equal(q->n_ctl_wells[NS_TYPE_PATIENT], 92);
    assert_int_equal(ns_qc_expected_type(q, "A01"), NS_TYPE_QC_LOW);
    assert_int_equal(ns_qc_expected_type(q, "h12"), NS_TYPE_QC_LOW);     /* any case */
    assert_int_equal(ns_qc_expected_type(q, "B1"), NS_TYPE_QC_HIGH);     /* unpadded */
    assert_int_equal(ns_qc_expected_type(q, "C01"), NS_TYPE_BLANK);
    assert_int_equal(ns_qc_expected_type(q, "D01"), NS_TYPE_PATIENT);
    assert_int_equal(ns_qc_expected_type(q, "I13"), NS_TYPE_PATIENT);    /* not on the plate */
    assert_int_equal(ns_qc_expected_type(q, "junk"), NS_TYPE_PATIENT);
    assert_int_equal(q->rules, NS_WG_1_3S | NS_WG_2_2S | NS_WG_R_4S);
    assert_true(q->blank_max_fraction == 0.1);
    assert_int_equal(q->blank_action, NS_QC_ACT_REJECT);
    assert_true(q->median_max_shift == 0.25);
    assert_int_equal(q->median_window, 10);
    assert_int_equal(q->median_min_patients, 30);
    assert_int_equal(q->history_plates, 12);
    assert_string_equal(q->level[0].lot, "L1");
    assert_string_equal(q->level[1].lot, "H1");
    assert_true(q->level[0].mean[PHE] == 49.0 && q->level[0].sd[PHE] == 3.92);
    assert_true(q->level[0].mean[XLE] == 87 && q->level[0].sd[XLE] == 6.96);    /* by alias */
    assert_true(q->level[0].mean[C51] == 0.014 && q->level[0].sd[C51] == 0.00112);
    assert_true(isnan(q->level[0].mean[TYR]) && isnan(q->level[0].sd[TYR]));    /* not judged */
    assert_true(isnan(q->level[0].mean[C0]));
    assert_true(q->level[1].mean[C0] == 150 && q->level[1].sd[C0] == 12);
    assert_true(isnan(q->level[1].mean[XLE]));
    assert_string_equal(q->path, "qc.yaml");
    assert_string_equal(q->text, good);
    assert_int_equal((int)strlen(q->sha256), 64);
    ns_qc_free(q);
    ns_panel_errs_free(&e);
    ns_panel_free(p);
}

static void test_defaults(void **st)
{
    (void)st;
    ns_panel_t *p = panel_from(panel_text);
    static const char *minimal =
        "qc:\n"
        "  plate_map: {qc_low: [A01], qc_high: [B01]}\n"
        "  materials:\n"
        "    qc_low: {lot: L1, targets: {Phe: [49, 3.9]}}\n"
        "    qc_high: {lot: H1, targets: {Phe: [245, 19.6]}}\n";
    ns_panel_errs_t e;
    ns_qc_config_t *q = load(minimal, p, &e);
    assert_non_null(q);
    assert_int_equal(q->rules, NS_WG_ALL);
    assert_true(q->blank_max_fraction == 0.2);
    assert_int_equal(q->blank_action, NS_QC_ACT_WARNING);
    assert_true(isnan(q->median_max_shift));                    /* median monitoring off */
    assert_int_equal(q->median_window, 20);
    assert_int_equal(q->median_min_patients, 20);
    assert_int_equal(q->history_plates, 30);
    assert_int_equal(q->n_ctl_wells[NS_TYPE_BLANK], 0);         /* blanks are optional */
    assert_int_equal(q->n_ctl_wells[NS_TYPE_PATIENT], 94);
    ns_qc_free(q);
    ns_panel_errs_free(&e);
    ns_panel_free(p);
}

/* Replace the first occurrence of from with to in good, load against panel p, and expect
 * an error at line:col whose message contains want. */
static void expect_in(const ns_panel_t *p, const char *from, const char *to, int line, int col,
                      const char *want)
{
    char text[8192];
    const char *at = strstr(good, from);
    assert_non_null(at);
    snprintf(text, sizeof text, "%.*s%s%s", (int)(at - good), good, to, at + strlen(from));
    ns_panel_errs_t e;
    ns_qc_config_t *q = load(text, p, &e);
    assert_null(q);
    int found = 0;
    for (int i = 0; i < e.n; i++)
        if (e.v[i].pos.line == line && e.v[i].pos.col == col && strstr(e.v[i].msg, want)) found = 1;
    if (!found) {
        print_error("wanted %d:%d: %s\n", line, col, want);
        for (int i = 0; i < e.n; i++)
            print_error("got %d:%d: %s\n", e.v[i].pos.line, e.v[i].pos.col, e.v[i].msg);
    }
    assert_true(found);
    ns_panel_errs_free(&e);
}

static ns_panel_t *P;   /* the test panel, for expect() */

static void expect(const char *from, const char *to, int line, int col, const char *want)
{
    expect_in(P, from, to, line, col, want);
}

static void test_plate_map_errors(void **st)
{
    (void)st;
    P = panel_from(panel_text);
    /* a well name that is not one; a well off the 96-well plate */
    expect("qc_high: [B01]", "qc_high: [B1x]", 4, 15, "qc.plate_map.qc_high: 'B1x' is not a well name (expected A01-H12)");
    expect("blank: [C01]", "blank: [I01]", 5, 13, "qc.plate_map.blank: well 'I01' is not on a 96-well plate (A01-H12)");
    expect("blank: [C01]", "blank: [A13]", 5, 13, "well 'A13' is not on a 96-well plate");
    expect("blank: [C01]", "blank: [{x: 1}]", 5, 13, "is not a well name");
    /* a well listed twice: across types (any spelling of it), and within one type */
    expect("blank: [C01]", "blank: [a1]", 5, 13, "qc.plate_map: well A01 is listed twice (first as qc_low at line 3)");
    expect("qc_low: [A01, H12]", "qc_low: [A01, A01]", 3, 19, "well A01 is listed twice (first as qc_low at line 3)");
    /* an empty level, a missing level, a level that is not a list */
    expect("qc_high: [B01]", "qc_high: []", 4, 14, "qc.plate_map.qc_high is empty: every plate needs at least one qc_high well");
    expect("    qc_high: [B01]\n", "", 3, 5, "qc.plate_map: missing 'qc_high'");
    expect("qc_low: [A01, H12]", "qc_low: A01", 3, 13, "qc.plate_map.qc_low must be a list of wells");
    expect("    qc_low: [A01, H12]\n", "    patient: [A01, H12]\n", 3, 5, "unknown key 'patient' in qc.plate_map");
    expect("  plate_map:\n    qc_low: [A01, H12]\n    qc_high: [B01]\n    blank: [C01]\n", "", 2, 3,
           "qc: missing 'plate_map'");
    ns_panel_free(P);
}

static void test_rule_and_limit_errors(void **st)
{
    (void)st;
    P = panel_from(panel_text);
    expect("\"R-4s\"]", "\"R-5s\"]", 6, 27, "qc.rules: unknown rule 'R-5s' (known: 1-2s, 1-3s, 2-2s, R-4s, 4-1s, 10-x)");
    expect("\"2-2s\"", "\"1-3s\"", 6, 19, "qc.rules: rule '1-3s' is listed twice");
    expect("rules: [\"1-3s\", \"2-2s\", \"R-4s\"]", "rules: []", 6, 10, "qc.rules is empty");
    expect("rules: [\"1-3s\", \"2-2s\", \"R-4s\"]", "rules: 1-3s", 6, 10, "qc.rules must be a list");
    expect("rules: [\"1-3s\", \"2-2s\", \"R-4s\"]", "rules: [\"1-2s\"]", 6, 10, "qc.rules: only 1-2s is on, and it only warns");
    expect("rules: [\"1-3s\", \"2-2s\", \"R-4s\"]", "rules: {1-2s: warning, 1-3s: warning}", 6, 10,
           "qc.rules: no rule rejects");
    /* fractions and whole numbers out of range */
    expect("max_fraction_of_qc_low: 0.1", "max_fraction_of_qc_low: 1.5", 7, 35,
           "'max_fraction_of_qc_low' must be above 0 and at most 1");
    expect("max_fraction_of_qc_low: 0.1", "max_fraction_of_qc_low: lots", 7, 35, "must be a number, not 'lots'");
    expect("action: reject", "action: drop", 7, 48, "'action' must be one of warning, reject, not 'drop'");
    expect("max_shift: 0.25", "max_shift: 0", 8, 23, "'max_shift' must be above 0 and at most 1");
    expect("window_plates: 10", "window_plates: 2", 8, 44, "'window_plates' must be a whole number from 3 to 1000, not 2");
    expect("window_plates: 10", "window_plates: 10.5", 8, 44, "'window_plates' must be a whole number");
    expect("min_patients: 30", "min_patients: 97", 8, 62, "'min_patients' must be a whole number from 1 to 96");
    expect("history_plates: 12", "history_plates: -1", 9, 19, "'history_plates' must be a whole number from 0 to 100000");
    expect("history_plates: 12", "history_plate: 12", 9, 3, "unknown key 'history_plate' in qc");
    expect("median: {max_shift", "median: {max_shif", 8, 12, "unknown key 'max_shif' in qc.median");
    ns_panel_free(P);
}

static void test_material_errors(void **st)
{
    (void)st;
    P = panel_from(panel_text);
    /* unknown analyte; one analyte twice (name and alias) */
    expect("Leu: [87, 6.96]", "Lue: [87, 6.96]", 15, 9,
           "qc.materials.qc_low: unknown analyte 'Lue' (not a name or alias in panel t)");
    expect("Phe: [49.0, 3.92]", "Xle: [49.0, 3.92]", 15, 9, "analyte Xle has two targets (first at line 14)");
    /* sd <= 0, mean < 0 */
    expect("Leu: [87, 6.96]", "Leu: [87, 0]", 15, 19, "target SD 0 of Xle must be above 0");
    expect("Leu: [87, 6.96]", "Leu: [87, -1]", 15, 19, "target SD -1 of Xle must be above 0");
    expect("Leu: [87, 6.96]", "Leu: [-87, 6.96]", 15, 15, "target mean -87 of Xle is negative");
    /* a target that is not a list of two numbers */
    expect("Leu: [87, 6.96]", "Leu: [87]", 15, 14, "the target of Xle must be [mean, sd]");
    expect("Leu: [87, 6.96]", "Leu: [87, 6.96, 1]", 15, 14, "the target of Xle must be [mean, sd]");
    expect("Leu: [87, 6.96]", "Leu: [87, sd]", 15, 14, "the target of Xle must be [mean, sd]");
    expect("Leu: [87, 6.96]", "Leu: 87", 15, 14, "the target of Xle must be [mean, sd]");
    /* a missing materials level, lot, targets; empty targets; no materials at all */
    expect("    qc_high:\n      lot: H1\n      targets: {Phe: [245, 19.6], C0: [150, 12]}\n", "", 11, 5,
           "qc.materials: missing 'qc_high' (its lot and targets)");
    expect("      lot: L1\n", "", 12, 7, "qc.materials.qc_low: missing 'lot'");
    expect("      targets: {Phe: [245, 19.6], C0: [150, 12]}\n", "", 18, 7, "qc.materials.qc_high: missing 'targets'");
    expect("targets: {Phe: [245, 19.6], C0: [150, 12]}", "targets: {}", 19, 16, "'targets' is empty");
    expect("targets: {Phe: [245, 19.6], C0: [150, 12]}", "targets: [Phe]", 19, 16, "'targets' must be a mapping");
    expect("      lot: H1\n", "      lot: H1\n      lots: H2\n", 19, 7, "unknown key 'lots' in qc.materials.qc_high");
    expect("    qc_high:\n", "    qc_mid:\n", 17, 5, "unknown key 'qc_mid' in qc.materials");
    ns_panel_free(P);
}

static void test_file_errors(void **st)
{
    (void)st;
    P = panel_from(panel_text);
    expect("qc:\n", "qcx:\n", 1, 1, "unknown key 'qcx' in the top level (allowed: qc)");
    expect("qc:\n", "qcx:\n", 1, 1, "missing 'qc:' section");
    expect("  history_plates: 12\n", "  history_plates: [12\n", 10, 12, "YAML syntax error");
    expect("C0: [150, 12]}\n", "C0: [150, 12]}\n---\nx: 1\n", 21, 1, "a second YAML document");
    ns_panel_errs_t e;
    assert_null(load("", P, &e));
    assert_int_equal(e.n, 1);
    assert_non_null(strstr(e.v[0].msg, "empty file"));
    ns_panel_errs_free(&e);
    assert_null(ns_qc_load("/nonexistent/qc.yaml", P, &e));
    assert_int_equal(e.n, 1);
    assert_non_null(strstr(e.v[0].msg, "cannot read"));
    ns_panel_errs_free(&e);
    assert_null(load(good, NULL, &e));                  /* no panel: refused, not a crash */
    assert_int_equal(e.n, 1);
    ns_panel_errs_free(&e);
    ns_panel_free(P);
}

static void test_all_errors_at_once(void **st)
{
    (void)st;
    ns_panel_t *p = panel_from(panel_text);
    char text[4096];
    snprintf(text, sizeof text, "%s", good);
    memcpy(strstr(text, "[C01]"), "[A01]", 5);          /* well twice */
    memcpy(strstr(text, "R-4s"), "R-5s", 4);            /* unknown rule */
    memcpy(strstr(text, "Leu:"), "Lue:", 4);            /* unknown analyte */
    memcpy(strstr(text, "12]}"), "-1]}", 4);            /* SD <= 0 */
    ns_panel_errs_t e;
    assert_null(load(text, p, &e));
    assert_int_equal(e.n, 4);
    /* printed redis-style, with the line quoted and a caret under the column */
    char buf[4096] = "";
    FILE *fp = fmemopen(buf, sizeof buf, "w");
    ns_panel_errs_print(fp, "neoscreen config", "qc.yaml", NULL, &e);
    fclose(fp);
    assert_non_null(strstr(buf, "neoscreen config: qc.yaml:15:9: qc.materials.qc_low: unknown analyte 'Lue'"));
    assert_non_null(strstr(buf, "    >>>         Lue: [87, 6.96]\n                ^\n"));
    ns_panel_errs_free(&e);
    ns_panel_free(p);
}

static void test_384_well_plate(void **st)
{
    (void)st;
    char text[4096];
    snprintf(text, sizeof text, "input: {plate: {rows: 16, cols: 24}}\n%s", panel_text);
    ns_panel_t *p = panel_from(text);
    ns_panel_errs_t e;
    snprintf(text, sizeof text, "%s", good);
    char *h = strstr(text, "H12");
    memcpy(h, "P24", 3);
    ns_qc_config_t *q = load(text, p, &e);
    assert_non_null(q);
    assert_int_equal(q->rows * q->cols, 384);
    assert_int_equal(q->well_type[15 * 24 + 23], NS_TYPE_QC_LOW);
    assert_int_equal(ns_qc_expected_type(q, "P24"), NS_TYPE_QC_LOW);
    assert_int_equal(q->n_ctl_wells[NS_TYPE_PATIENT], 380);
    ns_qc_free(q);
    ns_panel_errs_free(&e);
    expect_in(p, "blank: [C01]", "blank: [Q01]", 5, 13, "well 'Q01' is not on a 384-well plate (A01-P24)");
    ns_panel_free(p);
}

/* The shipped file: loads against the shipped panel, holds the simulator's layout, and its
 * targets are the simulator's synthetic lots (so `simulate` and `run` agree). */
static void test_shipped_config(void **st)
{
    (void)st;
    ns_panel_errs_t e;
    ns_panel_t *p = ns_panel_load(NS_SRCDIR "/configs/panel-default.yaml", &e);
    assert_non_null(p);
    ns_panel_errs_free(&e);
    ns_qc_config_t *q = ns_qc_load(NS_SRCDIR "/configs/qc.yaml", p, &e);
    for (int i = 0; i < e.n; i++) print_error("%d:%d: %s\n", e.v[i].pos.line, e.v[i].pos.col, e.v[i].msg);
    assert_non_null(q);
    assert_int_equal(ns_qc_expected_type(q, "A01"), NS_TYPE_QC_LOW);
    assert_int_equal(ns_qc_expected_type(q, "B01"), NS_TYPE_QC_HIGH);
    assert_int_equal(ns_qc_expected_type(q, "C01"), NS_TYPE_BLANK);
    assert_int_equal(ns_qc_expected_type(q, "D01"), NS_TYPE_PATIENT);
    assert_int_equal(q->n_ctl_wells[NS_TYPE_PATIENT], 93);
    assert_int_equal(q->rules, NS_WG_ALL);
    assert_int_equal(q->reject_rules, NS_WG_1_3S | NS_WG_2_2S | NS_WG_R_4S | NS_WG_4_1S);
    assert_string_equal(q->level[0].lot, "QCL-LOT2611");
    assert_string_equal(q->level[1].lot, "QCH-LOT2611");
    int phe = ns_panel_find_analyte(p, "Phe"), c3 = ns_panel_find_analyte(p, "C3"),
        c51 = ns_panel_find_analyte(p, "C5:1"), tyr = ns_panel_find_analyte(p, "Tyr");
    assert_true(phe >= 0 && c3 >= 0 && c51 >= 0 && tyr >= 0);
    assert_true(q->level[0].mean[phe] == 49 && q->level[0].sd[phe] == 5.88);
    assert_true(q->level[1].mean[c3] == 11.5 && q->level[1].sd[c3] == 1.38);
    assert_true(q->level[0].mean[c51] == 0.014 && q->level[0].sd[c51] == 0.00168);
    assert_true(isnan(q->level[0].mean[tyr]));          /* not a primary marker: not judged */
    /* judged analytes = the primary markers of the panel's conditions; targets = the
     * simulator's lot (median, x5 for qc_high), SD = 12 % acceptance SD */
    int judged = 0;
    for (int a = 0; a < NS_SIM_N_ANALYTES; a++) {
        int pa = ns_panel_find_analyte(p, ns_sim_analytes[a].key);
        assert_true(pa >= 0);
        int primary = 0;
        for (int c = 0; c < p->n_conds; c++)
            for (int k = 0; k < p->conds[c].n_markers; k++)
                primary |= p->conds[c].markers[k].marker == pa && p->conds[c].markers[k].role == NS_ROLE_PRIMARY;
        judged += primary;
        for (int l = 0; l < NS_QC_LEVELS; l++) {
            if (!primary) { assert_true(isnan(q->level[l].mean[pa])); continue; }
            double m = ns_sim_analytes[a].median * (l ? NS_SIM_QC_HIGH_FOLD : 1.0);
            if (!(fabs(q->level[l].mean[pa] - m) <= 5e-4 * m && fabs(q->level[l].sd[pa] - 0.12 * m) <= 5e-4 * 0.12 * m))
                print_error("%s level %d: [%g, %g], simulator [%g, %g]\n", ns_sim_analytes[a].key, l,
                            q->level[l].mean[pa], q->level[l].sd[pa], m, 0.12 * m);
            assert_true(fabs(q->level[l].mean[pa] - m) <= 5e-4 * m);
            assert_true(fabs(q->level[l].sd[pa] - 0.12 * m) <= 5e-4 * 0.12 * m);
        }
    }
    assert_int_equal(judged, 20);
    ns_qc_free(q);
    ns_panel_errs_free(&e);
    ns_panel_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_plate_map_errors),
        cmocka_unit_test(test_rule_and_limit_errors),
        cmocka_unit_test(test_material_errors),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_all_errors_at_once),
        cmocka_unit_test(test_384_well_plate),
        cmocka_unit_test(test_shipped_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
