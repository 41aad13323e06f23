/* test_panel.c — the panel loader: a valid panel loads; every kind of mistake is reported
 * at its line and column, and all of them at once. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
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

/* text must fail to load with an error at line:col whose message contains want */
static void expect_error_at(const char *text, int line, int col, const char *want)
{
    ns_panel_errs_t e;
    ns_panel_t *p = load(text, &e);
    assert_null(p);
    int found = 0;
    for (int i = 0; i < e.n; i++)
        if (e.v[i].pos.line == line && e.v[i].pos.col == col && strstr(e.v[i].msg, want)) found = 1;
    if (!found) {
        print_error("want %d:%d: %s\n", line, col, want);
        for (int i = 0; i < e.n; i++)
            print_error("got %d:%d: %s\n", e.v[i].pos.line, e.v[i].pos.col, e.v[i].msg);
    }
    assert_true(found);
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
    expect_error_at(text, line, col, want);
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

/* ---- population: and score blocks ------------------------------------------------------ */

static const char *good_pop =
    "panel: {name: t, version: \"1\"}\n"                                          /* 1 */
    "analytes:\n"                                                                   /* 2 */
    "  - {name: Phe}\n"                                                             /* 3 */
    "  - {name: Tyr}\n"                                                             /* 4 */
    "  - {name: C0}\n"                                                              /* 5 */
    "ratios:\n"                                                                     /* 6 */
    "  - {name: Phe/Tyr, num: [Phe], den: [Tyr]}\n"                                 /* 7 */
    "strata:\n"                                                                     /* 8 */
    "  - {name: preterm, covariate: gestational_age_days, lt: 259}\n"               /* 9 */
    "population:\n"                                                                 /* 10 */
    "  source: \"test numbers\"\n"                                                  /* 11 */
    "  lower_pct: 0.5\n"                                                            /* 12 */
    "  upper_pct: 99.5\n"                                                           /* 13 */
    "  markers:\n"                                                                  /* 14 */
    "    Phe:\n"                                                                    /* 15 */
    "      all: {n: 1000, lower: 22, median: 49, upper: 98}\n"                      /* 16 */
    "      preterm: {n: 100, lower: 25, median: 56, upper: 110, lower_ci: [24, 26]}\n" /* 17 */
    "    Phe/Tyr:\n"                                                                /* 18 */
    "      standard: {n: 900, lower: 0.5, median: 1.1, upper: 2.0, upper_ci: [1.9, 2.1]}\n" /* 19 */
    "    C0:\n"                                                                     /* 20 */
    "      all: {n: 1000, lower: 17, median: 30, upper: 50}\n"                      /* 21 */
    "conditions:\n"                                                                 /* 22 */
    "  - code: PKU\n"                                                               /* 23 */
    "    priority: urgent\n"                                                        /* 24 */
    "    action: referral\n"                                                        /* 25 */
    "    score: {call_by: both, possible: 1.2, likely: 1.8}\n"                      /* 26 */
    "    markers:\n"                                                                /* 27 */
    "      - {marker: Phe, direction: high, cutoff: 150, disease: {median: 600, source: \"test\"}}\n" /* 28 */
    "      - {marker: Phe/Tyr, role: secondary, direction: high, cutoff: 1.7, disease: {median: 6, source: \"t\"}}\n" /* 29 */
    "  - code: CUD\n"                                                               /* 30 */
    "    priority: urgent\n"                                                        /* 31 */
    "    action: referral\n"                                                        /* 32 */
    "    markers:\n"                                                                /* 33 */
    "      - {marker: C0, direction: low, cutoff: 6.4}\n";                          /* 34 */

/* 1-based column of the first `token` on line `line` of text (0 if absent) */
static int col_of(const char *text, int line, const char *token)
{
    const char *s = text;
    for (int l = 1; l < line && s; l++) { s = strchr(s, '\n'); if (s) s++; }
    if (!s) return 0;
    const char *eol = strchr(s, '\n'), *t = strstr(s, token);
    return t && (!eol || t < eol) ? (int)(t - s) + 1 : 0;
}

/* good_pop with `from` replaced by `to` (and from2 by to2 when from2 is not NULL) must fail
 * with an error at line:col of `token` (on that line of the edited text) whose message
 * contains want */
static void expect_pop2(const char *from, const char *to, const char *from2, const char *to2, int line,
                        const char *token, const char *want)
{
    char text[16384], t2[16384];
    const char *at = strstr(good_pop, from);
    assert_non_null(at);
    snprintf(text, sizeof text, "%.*s%s%s", (int)(at - good_pop), good_pop, to, at + strlen(from));
    if (from2) {
        at = strstr(text, from2);
        assert_non_null(at);
        snprintf(t2, sizeof t2, "%.*s%s%s", (int)(at - text), text, to2, at + strlen(from2));
        memcpy(text, t2, sizeof text);
    }
    int col = col_of(text, line, token);
    if (col == 0) print_error("token '%s' not on line %d\n", token, line);
    assert_true(col > 0);
    expect_error_at(text, line, col, want);
}

static void expect_pop(const char *from, const char *to, int line, const char *token, const char *want)
{
    expect_pop2(from, to, NULL, NULL, line, token, want);
}

static void test_population_good(void **st)
{
    (void)st;
    ns_panel_errs_t e;
    ns_panel_t *p = load(good_pop, &e);
    for (int i = 0; i < e.n; i++) print_error("%d:%d: %s\n", e.v[i].pos.line, e.v[i].pos.col, e.v[i].msg);
    assert_non_null(p);
    const ns_population_t *pop = &p->pop;
    assert_true(pop->present);
    assert_null(pop->path);                       /* inline */
    assert_string_equal(pop->source, "test numbers");
    assert_true(pop->lower_pct == 0.5 && pop->upper_pct == 99.5);
    const ns_pop_entry_t *phe = pop->e + 0 * NS_POP_GROUPS, *ratio = pop->e + 3 * NS_POP_GROUPS;
    assert_int_equal(phe[NS_POP_ALL].n, 1000);
    assert_true(phe[NS_POP_ALL].lower == 22 && phe[NS_POP_ALL].median == 49 && phe[NS_POP_ALL].upper == 98);
    assert_int_equal(phe[NS_POP_STANDARD].n, 0);
    assert_int_equal(phe[NS_POP_STRATUM0].n, 100);
    assert_true(phe[NS_POP_STRATUM0].lower_ci[0] == 24 && phe[NS_POP_STRATUM0].lower_ci[1] == 26);
    assert_true(isnan(phe[NS_POP_STRATUM0].upper_ci[0]));
    assert_true(ratio[NS_POP_STANDARD].upper_ci[1] == 2.1);
    assert_string_equal(ns_pop_group_name(p, NS_POP_STRATUM0), "preterm");
    const ns_condition_t *c = &p->conds[0];
    assert_true(c->score.present && c->score.call_by == NS_CALL_BY_BOTH);
    assert_true(c->score.possible == 1.2 && c->score.likely == 1.8);
    assert_true(c->markers[0].disease_median == 600 && c->markers[0].weight == 1.0);
    assert_string_equal(c->markers[0].disease_source, "test");
    assert_true(c->markers[1].weight == 0.5);     /* secondary default */
    assert_false(p->conds[1].score.present);
    assert_true(isnan(p->conds[1].markers[0].disease_median));
    assert_int_equal(p->n_scored, 1);
    assert_int_equal(p->n_sslots, 2);
    assert_int_equal(p->sslot[0], 0);
    assert_int_equal(p->sslot[1], 1);
    ns_panel_free(p);
    ns_panel_errs_free(&e);
}

static void test_population_errors(void **st)
{
    (void)st;
    /* the population section */
    expect_pop("lower_pct: 0.5", "lower_pct: 50", 12, "50", "lower_pct must be above 0 and below 50");
    expect_pop("upper_pct: 99.5", "upper_pct: 100", 13, "100", "upper_pct must be above 50 and below 100");
    expect_pop("  upper_pct: 99.5\n", "", 11, "source", "missing 'upper_pct'");
    expect_pop("  source: \"test numbers\"\n", "  sauce: x\n", 11, "sauce", "unknown key 'sauce' in population");
    expect_pop("    Phe:\n      all:", "    Phx:\n      all:", 15, "Phx", "population: unknown marker 'Phx'");
    expect_pop("    C0:\n", "    Phe:\n", 20, "Phe", "population: marker 'Phe' is given twice (first at line 15)");
    expect_pop("      preterm: {n: 100", "      term: {n: 100", 17, "term",
               "unknown group 'term' (groups: all, standard, preterm)");
    expect_pop("      preterm: {n: 100", "      all: {n: 100", 17, "all", "group 'all' is given twice (first at line 16)");
    /* one entry */
    expect_pop("all: {n: 1000, lower: 22", "all: {n: 10.5, lower: 22", 16, "10.5", "'n' must be a whole number above 0");
    expect_pop("all: {n: 1000, lower: 22", "all: {n: 0, lower: 22", 16, "0,", "'n' must be a whole number above 0");
    expect_pop("all: {n: 1000, lower: 22", "all: {lower: 22", 16, "{", "missing 'n'");
    expect_pop("lower: 22, median: 49", "lower: 52, median: 49", 16, "52", "lower (52) must not be above median (49)");
    expect_pop("median: 49, upper: 98", "median: 49, upper: 48", 16, "48", "upper (48) must not be below median (49)");
    expect_pop("lower: 17, median: 30", "lower: 0, median: 0", 21, "0, upper", "median must be above 0");
    expect_pop("lower: 17, median: 30", "lower: -1, median: 30", 21, "-1", "lower must not be negative");
    expect_pop("upper: 50}", "upper: 50, mean: 31}", 21, "mean", "unknown key 'mean' in population C0 all");
    expect_pop("upper_ci: [1.9, 2.1]", "upper_ci: [2.1, 1.9]", 19, "[2.1", "'upper_ci' [2.1, 1.9] has lo above hi");
    expect_pop("lower_ci: [24, 26]", "lower_ci: [24]", 17, "[24]", "'lower_ci' must be two numbers [lo, hi]");
    /* strata cannot take a group's name */
    expect_pop("{name: preterm,", "{name: all,", 9, "all", "stratum name 'all' is reserved");
}

static void test_score_errors(void **st)
{
    (void)st;
    /* the score block */
    expect_pop("call_by: both", "call_by: either", 26, "either", "'call_by' must be one of cutoff, score, both");
    expect_pop("call_by: both, ", "", 26, "{", "missing 'call_by'");
    expect_pop("likely: 1.8", "likely: 1.1", 26, "1.1", "likely (1.1) must be above possible (1.2)");
    expect_pop(", likely: 1.8", "", 26, "{", "missing 'likely'");
    expect_pop("possible: 1.2", "possible: -1", 26, "-1", "possible must be between -1 and 3");
    expect_pop("likely: 1.8", "likely: 4", 26, "4", "likely must be above -1 and at most 3");
    expect_pop("likely: 1.8}", "likely: 1.8, cut: 1}", 26, "cut", "unknown key 'cut' in score");
    /* markers' disease and weight */
    expect_pop("median: 600, source: \"test\"", "median: 600", 28, "{median", "disease needs 'source'");
    expect_pop("median: 600, source: \"test\"", "median: 600, source: \"\"", 28, "\"\"", "disease source must be a non-empty text");
    expect_pop("median: 600, source: \"test\"", "source: \"test\"", 28, "{source", "disease needs 'median'");
    expect_pop("median: 600, source", "median: -6, source", 28, "-6", "disease median must be above 0");
    expect_pop("median: 600, source: \"test\"}", "median: 600, source: \"test\"}, weight: -1", 28, "-1",
               "weight must be 0 or more");
    expect_pop("cutoff: 6.4}", "cutoff: 6.4, weight: 2}", 34, "2}", "weight (in the score) needs disease:");
    expect_pop("cutoff: 6.4}", "cutoff: 6.4, disease: {median: 2, source: x}}", 34, "2,",
               "a disease median is used only by a score: block, and the condition has none");
    expect_pop("median: 600, source: \"test\"}}", "median: 600, source: \"test\"}, weight: 0}", 26, "{call_by",
               "a score needs at least one primary marker with disease");
    expect_pop("direction: high, cutoff: 150, disease: {median: 600, source: \"test\"}}",
               "direction: high, cutoff: 150}", 26, "{call_by", "a score needs at least one primary marker");
    /* against the population */
    expect_pop("median: 600, source", "median: 100, source", 28, "100",
               "disease median 100 is not above the upper limit 110 of population group 'preterm' (line 17)");
    expect_pop("median: 600, source", "median: 90, source", 28, "90",
               "disease median 90 is not above the upper limit 98 of population group 'all' (line 16)");
    expect_pop("median: 56, upper: 110", "median: 56, upper: 56", 28, "600",
               "population Phe preterm (line 17): the upper limit 56 must be above the median 56");
    expect_pop("    Phe:\n      all: {n: 1000, lower: 22, median: 49, upper: 98}\n", "    Phe:\n", 27, "600",
               "has a disease median, but the population has no 'all' or 'standard' entry for 'Phe'");
    /* a low marker needs a lower limit above 0 */
    expect_pop2("lower: 17, median: 30", "lower: 0, median: 30", "cutoff: 6.4}",
                "cutoff: 6.4, disease: {median: 2, source: x}}\n    score: {call_by: score, possible: 1, likely: 2}",
                34, "2,", "population C0 all (line 21): the lower limit 0 must be above 0 and below the median 30");
    expect_pop2("lower: 17, median: 30", "lower: 1.5, median: 30", "cutoff: 6.4}",
                "cutoff: 6.4, disease: {median: 2, source: x}}\n    score: {call_by: score, possible: 1, likely: 2}",
                34, "2,", "condition CUD marker 'C0': disease median 2 is not below the lower limit 1.5");
}

/* good_pop without its population: section (lines 10-21), i.e. conditions from line 10 */
static void panel_without_pop(char *out, size_t n)
{
    const char *a = strstr(good_pop, "population:\n"), *b = strstr(good_pop, "conditions:\n");
    snprintf(out, n, "%.*s%s", (int)(a - good_pop), good_pop, b);
}

/* the population: section of good_pop as a fragment file, from line 2 (edited: from -> to) */
static void write_fragment(const char *path, const char *from, const char *to)
{
    const char *a = strstr(good_pop, "population:\n"), *b = strstr(good_pop, "conditions:\n");
    char frag[4096], out[4096];
    snprintf(frag, sizeof frag, "# from cutoffs derive\n%.*s", (int)(b - a), a);
    const char *at = from ? strstr(frag, from) : NULL;
    if (from) assert_non_null(at);
    if (at) snprintf(out, sizeof out, "%.*s%s%s", (int)(at - frag), frag, to, at + strlen(from));
    else snprintf(out, sizeof out, "%s", frag);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(out, fp);
    fclose(fp);
}

static int has_error_at(const ns_panel_errs_t *e, int line, int col, const char *want)
{
    for (int i = 0; i < e->n; i++)
        if (e->v[i].pos.line == line && e->v[i].pos.col == col && strstr(e->v[i].msg, want)) return 1;
    for (int i = 0; i < e->n; i++) print_error("got %d:%d: %s\n", e->v[i].pos.line, e->v[i].pos.col, e->v[i].msg);
    return 0;
}

static void test_population_fragment(void **st)
{
    (void)st;
    char dir[] = "/tmp/test_panel.XXXXXX", path[256], text[8192];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/pop.yaml", dir);
    panel_without_pop(text, sizeof text);
    ns_panel_errs_t e;
    ns_panel_t *p = load(text, &e);
    assert_non_null(p);                               /* scores wait for a population */
    ns_panel_errs_free(&e);
    assert_false(p->pop.present);
    assert_int_equal(ns_panel_check_scores(p, &e), 1);
    assert_true(has_error_at(&e, 14, 12, "condition PKU has a score: block but the panel has no population"));
    ns_panel_errs_free(&e);

    /* a fragment that fits */
    write_fragment(path, NULL, NULL);
    assert_int_equal(ns_population_load(p, path, &e), 0);
    assert_int_equal(e.n, 0);
    assert_true(p->pop.present);
    assert_string_equal(p->pop.path, path);
    assert_int_equal((int)strlen(p->pop.sha256), 64);
    assert_non_null(strstr(p->pop.text, "# from cutoffs derive"));
    assert_true(p->pop.e[0 * NS_POP_GROUPS + NS_POP_STRATUM0].upper == 110);
    assert_int_equal(ns_panel_check_scores(p, &e), 0);
    /* a second one is refused, and the first stays */
    assert_int_equal(ns_population_load(p, path, &e), -1);
    assert_true(has_error_at(&e, 2, 1, "already has a population, attached from"));
    assert_true(p->pop.present && p->pop.path);
    ns_panel_errs_free(&e);
    ns_panel_free(p);

    /* a panel with its own population: section takes no fragment */
    p = load(good_pop, &e);
    assert_non_null(p);
    assert_int_equal(ns_population_load(p, path, &e), -1);
    assert_true(has_error_at(&e, 2, 1, "already has a population: section (its line 10)"));
    ns_panel_errs_free(&e);
    ns_panel_free(p);

    /* errors point at the fragment's own lines (and name the panel's) */
    p = load(text, &e);
    ns_panel_errs_free(&e);
    write_fragment(path, "upper: 110", "upper: 700");
    assert_int_equal(ns_population_load(p, path, &e), -1);
    assert_true(has_error_at(&e, 9, 7, "condition PKU marker 'Phe' (panel line 16): disease median 600 is not above "
                                       "the upper limit 700 of population group 'preterm' (line 9)"));
    assert_false(p->pop.present);                     /* the panel is unchanged */
    char buf[2048] = "";
    FILE *fp = fmemopen(buf, sizeof buf, "w");
    ns_panel_errs_print(fp, "neoscreen config", path, NULL, &e);
    fclose(fp);
    assert_non_null(strstr(buf, ">>>       preterm: {n: 100, lower: 25, median: 56, upper: 700"));
    ns_panel_errs_free(&e);
    write_fragment(path, "    Phe:\n      all: {n: 1000, lower: 22, median: 49, upper: 98}\n", "    Phe:\n");
    assert_int_equal(ns_population_load(p, path, &e), -1);
    assert_true(has_error_at(&e, 7, 5, "has a disease median, but the population has no 'all' or 'standard' entry"));
    ns_panel_errs_free(&e);
    write_fragment(path, "population:\n", "populations: 1\npopulation:\n");
    assert_int_equal(ns_population_load(p, path, &e), -1);
    assert_true(has_error_at(&e, 2, 1, "unknown key 'populations' in a population fragment (allowed: population)"));
    ns_panel_errs_free(&e);
    write_fragment(path, "    Phe/Tyr:\n", "    Xle:\n");
    assert_int_equal(ns_population_load(p, path, &e), -1);
    assert_true(has_error_at(&e, 10, 5, "population: unknown marker 'Xle'"));
    ns_panel_errs_free(&e);
    /* and once it is right, it attaches */
    write_fragment(path, NULL, NULL);
    assert_int_equal(ns_population_load(p, path, &e), 0);
    ns_panel_errs_free(&e);
    ns_panel_free(p);
    remove(path);
    p = load(text, &e);
    ns_panel_errs_free(&e);
    assert_int_equal(ns_population_load(p, path, &e), -1);
    assert_non_null(strstr(e.v[0].msg, "cannot read"));
    ns_panel_errs_free(&e);
    ns_panel_free(p);
    rmdir(dir);
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
        cmocka_unit_test(test_population_good),
        cmocka_unit_test(test_population_errors),
        cmocka_unit_test(test_score_errors),
        cmocka_unit_test(test_population_fragment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
