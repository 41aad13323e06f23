/* test_panel.c — the panel loader: a valid panel loads; every kind of mistake is reported
 * at its line and column, and all of them at once. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "../../pipeline/panel.h"

static const char *good =
    "panel: {name: t, version: \"1\", kit: k}\n"                     /* 1 */
    "analytes:\n"                                                      /* 2 */
    "  - {name: Phe, unit: umol/L, loinc: \"29573-3\"}\n"              /* 3 */
    "  - {name: Tyr}\n"                                                /* 4 */
    "  - {name: Xle, aliases: [Leu, Leu+Ile]}\n"                       /* 5 */
    "  - {name: C0, aliases: [FC]}\n"                                  /* 6 */
    "ratios:\n"                                                        /* 7 */
    "  - {name: Phe/Tyr, num: [Phe], den: [Tyr]}\n"                    /* 8 */
    "conditions:\n"                                                    /* 9 */
    "  - code: PKU\n"                                                  /* 10 */
    "    priority: urgent\n"                                           /* 11 */
    "    action: referral\n"                                           /* 12 */
    "    require_secondary: true\n"                                    /* 13 */
    "    markers:\n"                                                   /* 14 */
    "      - {marker: Phe, direction: high, cutoff: 150, borderline: 120}\n" /* 15 */
    "      - {marker: Phe/Tyr, role: secondary, direction: high, cutoff: 1.7}\n"
    "  - code: CUD\n"
    "    priority: urgent\n"
    "    action: referral\n"
    "    markers:\n"
    "      - {marker: C0, direction: low, cutoff: 6.4, borderline: 6.5, critical: 5}\n";

static ns_panel_t *load(const char *text, ns_panel_errs_t *e)
{
    return ns_panel_load_mem("t.yaml", text, strlen(text), e);
}

static void test_good(void **st)
{
    (void)st;
    ns_panel_errs_t e;
    ns_panel_t *p = load(good, &e);
    assert_non_null(p);
    assert_int_equal(e.n, 0);
    assert_int_equal(p->n_analytes, 4);
    assert_int_equal(p->n_ratios, 1);
    assert_int_equal(p->n_conds, 2);
    assert_int_equal(p->n_slots, 3);
    assert_int_equal(ns_panel_find_analyte(p, "leu"), 2);       /* alias, any case */
    assert_int_equal(ns_panel_find_analyte(p, "fc"), 3);
    assert_int_equal(ns_panel_find_analyte(p, "C5"), -1);
    const ns_condition_t *c = &p->conds[0];
    assert_string_equal(c->code, "PKU");
    assert_int_equal(c->require_secondary, 1);
    assert_int_equal(c->markers[1].marker, 4);                  /* ratio 0 after 4 analytes */
    assert_int_equal(c->markers[1].role, NS_ROLE_SECONDARY);
    assert_true(c->markers[0].thr.cutoff == 150 && c->markers[0].thr.borderline == 120);
    assert_true(isnan(c->markers[0].thr.critical));
    assert_int_equal(p->conds[1].markers[0].thr.dir, NS_DIR_LOW);
    assert_string_equal(ns_panel_marker_name(p, 4), "Phe/Tyr");
    assert_int_equal((int)strlen(p->sha256), 64);
    assert_int_equal(p->input.plate_rows * p->input.plate_cols, 96);
    for (int k = 0; k < NS_PRIO_N; k++) assert_true(isnan(p->due_days[k]));   /* no followup: */
    ns_panel_free(p);
    ns_panel_errs_free(&e);
}

/* replace the first occurrence of from with to in good, load, and expect one error at
 * line:col whose message contains want */
static void expect(const char *from, const char *to, int line, int col, const char *want)
{
    char text[16384];
    const char *at = strstr(good, from);
    assert_non_null(at);
    snprintf(text, sizeof text, "%.*s%s%s", (int)(at - good), good, to, at + strlen(from));
    ns_panel_errs_t e;
    ns_panel_t *p = load(text, &e);
    assert_null(p);
    int found = 0;
    for (int i = 0; i < e.n; i++)
        if (e.v[i].pos.line == line && e.v[i].pos.col == col && strstr(e.v[i].msg, want)) found = 1;
    if (!found)
        for (int i = 0; i < e.n; i++)
            print_error("got %d:%d: %s\n", e.v[i].pos.line, e.v[i].pos.col, e.v[i].msg);
    assert_true(found);
    ns_panel_errs_free(&e);
}

/* good, with Phe's marker given `strata: {ovr}` (line 15) and the strata list `defs`
 * appended from line 22 on */
static ns_panel_t *load_strata(const char *ovr, const char *defs, ns_panel_errs_t *e, char *text, size_t tsz)
{
    const char *from = "cutoff: 150, borderline: 120}";
    const char *at = strstr(good, from);
    assert_non_null(at);
    snprintf(text, tsz, "%.*scutoff: 150, borderline: 120, strata: {%s}}%sstrata:\n%s", (int)(at - good), good, ovr,
             at + strlen(from), defs);
    return load(text, e);
}

static int has_error(const ns_panel_errs_t *e, int line, const char *want)
{
    for (int i = 0; i < e->n; i++)
        if (e->v[i].pos.line == line && strstr(e->v[i].msg, want)) return 1;
    for (int i = 0; i < e->n; i++) print_error("got %d:%d: %s\n", e->v[i].pos.line, e->v[i].pos.col, e->v[i].msg);
    return 0;
}

static void test_strata(void **st)
{
    (void)st;
    static const char *defs =
        "  - {name: vlbw, covariate: birth_weight_g, lt: 1500}\n"          /* 23 */
        "  - {name: preterm, covariate: gestational_age_days, lt: 259}\n"  /* 24 */
        "  - {name: tpn, covariate: feeding, eq: tpn}\n";                 /* 25 */
    char text[16384];
    ns_panel_errs_t e;
    ns_panel_t *p = load_strata("preterm: {cutoff: 250}, vlbw: {cutoff: 400, borderline: 300}", defs, &e, text, sizeof text);
    assert_non_null(p);
    assert_int_equal(p->n_strata, 3);
    assert_int_equal(p->strata[1].cov, NS_COV_GA_DAYS);
    assert_int_equal(p->strata[1].cmp, NS_CMP_LT);
    assert_true(p->strata[1].value == 259);
    assert_string_equal(p->strata[2].text, "tpn");
    const ns_marker_t *mk = &p->conds[0].markers[0];
    assert_int_equal(mk->n_over, 2);
    assert_int_equal(mk->strat_of[0], 1);
    assert_true(mk->thr_of[0].cutoff == 250 && mk->thr_of[0].borderline == 120);   /* inherited */
    assert_int_equal(mk->strat_of[1], 0);
    assert_true(mk->thr_of[1].cutoff == 400 && mk->thr_of[1].borderline == 300);
    ns_panel_free(p);
    ns_panel_errs_free(&e);

    /* one stratum twice in a marker: refused (once overflowed the override table) */
    assert_null(load_strata("preterm: {cutoff: 250}, preterm: {cutoff: 300}", defs, &e, text, sizeof text));
    assert_true(has_error(&e, 15, "stratum 'preterm' is given twice"));
    ns_panel_errs_free(&e);
    assert_null(load_strata("term: {cutoff: 250}", defs, &e, text, sizeof text));
    assert_true(has_error(&e, 15, "unknown stratum 'term'"));
    ns_panel_errs_free(&e);
    /* limits in the wrong unit */
    assert_null(load_strata("", "  - {name: preterm, covariate: gestational_age_days, lt: 37}\n", &e, text, sizeof text));
    assert_true(has_error(&e, 23, "gestational_age_days 37 is outside 140..320: give days (37 weeks = 259)"));
    ns_panel_errs_free(&e);
    assert_null(load_strata("", "  - {name: vlbw, covariate: birth_weight_g, lt: 1.5}\n", &e, text, sizeof text));
    assert_true(has_error(&e, 23, "give grams"));
    ns_panel_errs_free(&e);
    assert_null(load_strata("", "  - {name: tpn, covariate: feeding, lt: 3}\n", &e, text, sizeof text));
    assert_true(has_error(&e, 23, "feeding is text: compare it with eq"));
    ns_panel_errs_free(&e);
    assert_null(load_strata("", "  - {name: a, covariate: age_hours, lt: 24}\n  - {name: a, covariate: age_hours, gt: 48}\n",
                            &e, text, sizeof text));
    assert_true(has_error(&e, 24, "duplicate stratum 'a'"));
    ns_panel_errs_free(&e);
}

static void test_errors(void **st)
{
    (void)st;
    expect("den: [Tyr]", "den: [Tyx]", 8, 39, "unknown analyte 'Tyx' in ratio 'Phe/Tyr'");
    expect("cutoff: 150, borderline: 120", "cutoff: 150, borderline: 160", 15, 65, "borderline (160) must be below cutoff (150)");
    expect("critical: 5", "critical: 7", 21, 78, "critical (7) must be below cutoff (6.4)");
    expect("    action: referral\n    require", "    require", 10, 5, "missing 'action'");
    expect("code: CUD", "code: PKU", 17, 11, "duplicate condition 'PKU' (first at line 10)");
    expect("cutoff: 150,", "cutof: 150,", 15, 40, "unknown key 'cutof'");
    expect("cutoff: 150,", "cutoff: abc,", 15, 48, "'cutoff' must be a number, not 'abc'");
    expect("marker: Phe,", "marker: Phx,", 15, 18, "unknown marker 'Phx'");
    expect("aliases: [FC]", "aliases: [Leu]", 6, 25, "spelling 'Leu' is already used by analyte 'Xle'");
    expect("priority: urgent\n    action: referral\n    require", "priority: soon\n    action: referral\n    require", 11, 15, "must be one of critical, urgent, routine");
    expect("direction: low", "direction: down", 21, 33, "'direction' must be one of high, low");
    expect("role: secondary", "role: primary", 13, 24, "require_secondary is true but no marker has role secondary");
    expect("analytes:\n", "analytes:\n  - {name: Phe: x}\n", 3, 15, "YAML syntax error");
    expect("conditions:\n", "followup: {due_days_of_life: {urgent: -1}}\nconditions:\n", 9, 39,
           "followup.due_days_of_life: urgent must be from 0 to 3650 days, not -1");
    expect("conditions:\n", "followup: {due_days_of_life: {soon: 2}}\nconditions:\n", 9, 31,
           "unknown key 'soon'");
    /* TPN handling: needs a ratio to confirm with; the disease-range fold needs TPN on */
    expect("    require_secondary: true\n", "    require_secondary: true\n    tpn_max_fold: 3\n", 14, 19,
           "condition PKU: tpn_max_fold needs tpn_sensitive: true");
    expect("    require_secondary: true\n", "    tpn_sensitive: true\n    require_secondary: true\n    tpn_max_fold: 1\n", 15, 19,
           "tpn_max_fold must be above 1");
    expect("    action: referral\n    markers:\n", "    action: referral\n    tpn_sensitive: true\n    markers:\n", 20, 20,
           "condition CUD: tpn_sensitive is true but no marker has role secondary");
}

static void test_more_errors(void **st)
{
    (void)st;
    /* high cutoff 0 flags everyone; duplicated ratio term; a second document is refused;
     * an analyte alias that is also a fixed-column spelling */
    expect("cutoff: 150,", "cutoff: 0,", 15, 48, "a high cutoff of 0 for 'Phe' would flag every sample");
    expect("num: [Phe]", "num: [Phe, Phe]", 8, 32, "analyte 'Phe' is listed twice in 'num'");
    expect("critical: 5}\n", "critical: 5}\n---\nbogus: 1\n", 23, 1, "a second YAML document");
    expect("panel: {name: t", "input: {columns: {well: [FC]}}\npanel: {name: t", 1, 18, "spelling 'FC' names both the column well and analyte 'C0'");
    char big[8192] = "";
    strcat(big, "num: [Phe");
    for (int i = 0; i < 70; i++) strcat(big, ", Phe");
    strcat(big, "]");
    expect("num: [Phe]", big, 8, 26, "has 71 terms, at most 64");
}

static void test_all_errors_at_once(void **st)
{
    (void)st;
    char text[4096];
    snprintf(text, sizeof text, "%s", good);
    char *a = strstr(text, "den: [Tyr]");
    memcpy(a, "den: [Tyx]", 10);
    char *b = strstr(text, "cutoff: 6.4");
    memcpy(b, "cutoff: 4.4", 11);           /* now borderline 6.5 ok, critical 5 > 4.4: wrong */
    ns_panel_errs_t e;
    assert_null(load(text, &e));
    assert_int_equal(e.n, 2);
    ns_panel_errs_free(&e);
}

static void test_print_quotes_line(void **st)
{
    (void)st;
    char text[4096];
    snprintf(text, sizeof text, "%s", good);
    memcpy(strstr(text, "den: [Tyr]"), "den: [Tyx]", 10);
    ns_panel_errs_t e;
    assert_null(load(text, &e));
    char buf[2048] = "";
    FILE *fp = fmemopen(buf, sizeof buf, "w");
    ns_panel_errs_print(fp, "neoscreen config", "t.yaml", NULL, &e);
    fclose(fp);
    assert_non_null(strstr(buf, "neoscreen config: t.yaml:8:39: unknown analyte 'Tyx' in ratio 'Phe/Tyr'\n"
                                "    >>>   - {name: Phe/Tyr, num: [Phe], den: [Tyx]}\n"));
    /* caret under column 39: 8 leading characters then 38 spaces */
    assert_non_null(strstr(buf, "\n        " "                                      ^\n"));
    ns_panel_errs_free(&e);
}

static void test_shipped_config(void **st)
{
    (void)st;
    ns_panel_errs_t e;
    ns_panel_t *p = ns_panel_load(NS_SRCDIR "/configs/panel-default.yaml", &e);
    for (int i = 0; i < e.n; i++) print_error("%d:%d: %s\n", e.v[i].pos.line, e.v[i].pos.col, e.v[i].msg);
    assert_non_null(p);
    /* MS/MS deadlines: ACHDNC 5 / 7 days, China's day-20 sampling limit */
    assert_true(p->due_days[NS_PRIO_CRITICAL] == 5 && p->due_days[NS_PRIO_URGENT] == 7
                && p->due_days[NS_PRIO_ROUTINE] == 20);
    /* the vendor spellings of the issue all resolve */
    const char *sp[][2] = { {"Leu", "Xle"}, {"Xle", "Xle"}, {"Leu+Ile", "Xle"}, {"SA", "SUAC"},
                            {"SUAC", "SUAC"}, {"C0", "C0"}, {"FC", "C0"}, {"C5:1", "C5:1"}, {"C51", "C5:1"} };
    for (size_t i = 0; i < sizeof sp / sizeof *sp; i++) {
        int a = ns_panel_find_analyte(p, sp[i][0]);
        assert_true(a >= 0);
        assert_string_equal(p->analytes[a].name, sp[i][1]);
    }
    ns_panel_free(p);
    ns_panel_errs_free(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_strata),
        cmocka_unit_test(test_more_errors),
        cmocka_unit_test(test_all_errors_at_once),
        cmocka_unit_test(test_print_quotes_line),
        cmocka_unit_test(test_shipped_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
