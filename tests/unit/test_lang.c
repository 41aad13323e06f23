/* test_lang.c — the translation table: the shipped configs/lang.yaml loads in English and
 * Chinese with every key the recall list needs, its English reproduces recall.c's texts
 * word for word, placeholders are filled and escaped as documented, and every kind of
 * mistake in a file is reported at its line and column, all of them at once. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../pipeline/lang.h"
#include "../../pipeline/panel.h"

#define SHIPPED NS_SRCDIR "/configs/lang.yaml"

static const char *required[] = {
    "col.priority", "col.action", "col.due_by", "col.state", "col.infant_id", "col.sample_id",
    "col.plate_id", "col.well", "col.hospital", "col.mother_name", "col.contact_phone", "col.conditions",
    "col.reasons", "col.specimen", "col.age_at_collection_h", "col.birth_weight_g",
    "col.gestational_age_days", "col.feeding", "col.nicu", "col.sources",
    "priority.critical", "priority.urgent", "priority.routine", "action.referral", "action.repeat_specimen",
    "state.recall", "state.invalid_specimen", "reason.marker", "reason.marker_missing", "reason.tpn_repeat",
    "reason.spec_early", "reason.spec_late", "reason.spec_no_age", "reason.spec_no_bw", "reason.spec_no_ga",
    "reason.spec_transfusion", "reason.spec_tpn", "limit.cutoff", "limit.borderline", "limit.critical",
    "sheet.recall_list" };

static void print_errs(const ns_panel_errs_t *e)
{
    for (int i = 0; i < e->n; i++) print_error("%d:%d: %s\n", e->v[i].pos.line, e->v[i].pos.col, e->v[i].msg);
}

static ns_lang_t *shipped(const char *code)
{
    ns_panel_errs_t e;
    ns_lang_t *l = ns_lang_load(SHIPPED, code, &e);
    print_errs(&e);
    assert_int_equal(e.n, 0);
    ns_panel_errs_free(&e);
    assert_non_null(l);
    return l;
}

/* ns_lang_format with up to 8 name/value pairs given as a NULL-terminated list. */
static char *fmt(const ns_lang_t *l, const char *key, ...)
{
    const char *names[8], *values[8];
    int n = 0;
    va_list ap;
    va_start(ap, key);
    for (const char *nm; n < 8 && (nm = va_arg(ap, const char *)); n++) {
        names[n] = nm;
        values[n] = va_arg(ap, const char *);
    }
    va_end(ap);
    return ns_lang_format(l, key, n, names, values);
}

static void expect_fmt(char *got, const char *want)
{
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_shipped_en(void **st)
{
    (void)st;
    ns_lang_t *l = shipped(NULL);                         /* the file's default */
    assert_string_equal(ns_lang_code(l), "en");
    assert_string_equal(ns_lang_default(l), "en");
    assert_int_equal(ns_lang_n_languages(l), 2);
    assert_string_equal(ns_lang_language(l, 0), "en");
    assert_string_equal(ns_lang_language(l, 1), "zh");
    assert_null(ns_lang_language(l, 2));
    assert_int_equal(strlen(ns_lang_sha256(l)), 64);
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        if (!ns_lang_has(l, required[i])) print_error("missing key %s\n", required[i]);
        assert_true(ns_lang_has(l, required[i]));
    }
    assert_true(ns_lang_n_keys(l) >= (int)(sizeof required / sizeof required[0]));
    /* English = the recall list's words before the table existed (recall.c) */
    assert_string_equal(ns_lang_get(l, "col.infant_id"), "infant_id");
    assert_string_equal(ns_lang_get(l, "col.age_at_collection_h"), "age_at_collection_h");
    assert_string_equal(ns_lang_get(l, "priority.critical"), "critical");
    assert_string_equal(ns_lang_get(l, "action.repeat_specimen"), "repeat_specimen");
    assert_string_equal(ns_lang_get(l, "state.invalid_specimen"), "invalid_specimen");
    expect_fmt(fmt(l, "reason.marker", "cond", "MSUD", "marker", "Xle", "value", "2588", "op", ">=",
                   "limit_kind", ns_lang_get(l, "limit.cutoff"), "limit", "490", "fold", "5.28", NULL),
               "MSUD Xle 2588 >= cutoff 490 (5.28x)");
    expect_fmt(fmt(l, "reason.marker_limit", "cond", "PKU", "marker", "Phe", "value", "1500", "op", ">=",
                   "limit_kind", ns_lang_get(l, "limit.critical"), "limit", "1200", "cutoff", "120",
                   "fold", "12.50", NULL),
               "PKU Phe 1500 >= critical 1200 (cutoff 120, 12.50x)");
    expect_fmt(fmt(l, "reason.marker_missing", "cond", "MSUD", "marker", "Xle", NULL), "MSUD Xle missing");
    expect_fmt(fmt(l, "reason.marker_censored", "cond", "MSUD", "marker", "Xle", "bound", "<", "value", "20", NULL),
               "MSUD Xle censored (<20), cannot be called");
    expect_fmt(fmt(l, "reason.tpn_repeat", "cond", "MSUD", NULL),
               "MSUD on TPN at collection: amino-acid rise without ratio confirmation, repeat specimen after TPN stops");
    char *early = fmt(l, "reason.spec_early", "age", "12.0", "min", "24", NULL);
    expect_fmt(fmt(l, "reason.spec_lead_invalid", "text", early, NULL), "specimen: collected at 12.0 h, before 24 h");
    free(early);
    expect_fmt(fmt(l, "reason.spec_late", "age", "200.5", "max", "168", NULL), "collected at 200.5 h, after 168 h");
    expect_fmt(fmt(l, "reason.spec_lead_caveat", "text", ns_lang_get(l, "reason.spec_no_bw"), NULL),
               "caveat: birth weight missing (no birth-weight stratum applied)");
    assert_string_equal(ns_lang_get(l, "reason.spec_no_age"),
                        "age at collection unknown (birth or collection time missing or inconsistent)");
    assert_string_equal(ns_lang_get(l, "reason.spec_no_ga"), "gestational age missing (no preterm stratum applied)");
    assert_string_equal(ns_lang_get(l, "reason.spec_transfusion"), "transfused before collection");
    assert_string_equal(ns_lang_get(l, "reason.spec_tpn"), "on TPN at collection");
    assert_string_equal(ns_lang_get(l, "sep.reasons"), "; ");
    ns_lang_free(l);
}

static void test_shipped_zh(void **st)
{
    (void)st;
    ns_lang_t *l = shipped("ZH");                         /* code matched without case */
    assert_string_equal(ns_lang_code(l), "zh");
    assert_string_equal(ns_lang_get(l, "priority.critical"), "危急");
    assert_string_equal(ns_lang_get(l, "priority.urgent"), "紧急");
    assert_string_equal(ns_lang_get(l, "priority.routine"), "常规");
    assert_string_equal(ns_lang_get(l, "action.referral"), "转诊");
    assert_string_equal(ns_lang_get(l, "action.repeat_specimen"), "复采血片");
    assert_string_equal(ns_lang_get(l, "col.infant_id"), "婴儿编号");
    assert_string_equal(ns_lang_get(l, "sheet.recall_list"), "召回名单");
    expect_fmt(fmt(l, "reason.marker", "cond", "MSUD", "marker", "Xle", "value", "2588", "op", ">=",
                   "limit_kind", ns_lang_get(l, "limit.cutoff"), "limit", "490", "fold", "5.28", NULL),
               "MSUD Xle 2588 >= 切值 490（5.28 倍）");
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        assert_true(ns_lang_has(l, required[i]));
        assert_string_not_equal(ns_lang_get(l, required[i]), required[i]);
    }
    /* every sheet name is one Excel accepts (<= 31 characters, none of []:*?/\) */
    const char *s = ns_lang_get(l, "sheet.recall_list");
    assert_null(strpbrk(s, "[]:*?/\\"));
    ns_lang_free(l);
}

static const char *mini =
    "default: en\n"
    "languages: [en, zh]\n"
    "text:\n"
    "  greet: {en: \"hello {name}, {{literal}} }} {name}\", zh: \"{name} 你好 {{literal}} }} {name}\"}\n"
    "  order: {en: \"{a} then {b}\", zh: \"{b} 后 {a}\"}\n"
    "  plain: {en: \"a } b\", zh: \"x\"}\n";

static ns_lang_t *load(const char *text, const char *code, ns_panel_errs_t *e)
{
    return ns_lang_load_mem("lang.yaml", text, strlen(text), code, e);
}

static void test_format(void **st)
{
    (void)st;
    ns_panel_errs_t e;
    ns_lang_t *l = load(mini, NULL, &e);
    print_errs(&e);
    assert_non_null(l);
    ns_panel_errs_free(&e);
    assert_int_equal(ns_lang_n_keys(l), 3);
    expect_fmt(fmt(l, "greet", "name", "Ann", NULL), "hello Ann, {literal} } Ann");
    /* a missing argument stays visible; a NULL value is empty; extra arguments are ignored */
    expect_fmt(fmt(l, "greet", "other", "x", NULL), "hello {name}, {literal} } {name}");
    const char *nm[] = { "name" }, *nv[] = { NULL };
    expect_fmt(ns_lang_format(l, "greet", 1, nm, nv), "hello , {literal} } ");
    expect_fmt(ns_lang_format(l, "order", 0, NULL, NULL), "{a} then {b}");
    /* a lone '}' is itself; so is a '{' that starts no placeholder in a template that did
     * not come from a checked file (a key used as its own template) */
    expect_fmt(fmt(l, "plain", "b", "B", NULL), "a } b");
    expect_fmt(fmt(l, "x { y {b c} {b", "b", "B", NULL), "x { y {b c} {b");
    /* an unknown key: the key itself, used as the template */
    assert_false(ns_lang_has(l, "nope.key"));
    assert_string_equal(ns_lang_get(l, "nope.key"), "nope.key");
    expect_fmt(fmt(l, "no {x} here", "x", "1", NULL), "no 1 here");
    ns_lang_free(l);

    l = load(mini, "zh", &e);
    assert_non_null(l);
    ns_panel_errs_free(&e);
    expect_fmt(fmt(l, "order", "a", "A", "b", "B", NULL), "B 后 A");
    expect_fmt(fmt(l, "greet", "name", "李", NULL), "李 你好 {literal} } 李");
    ns_lang_free(l);

    /* no table at all: keys come back as they are */
    assert_string_equal(ns_lang_get(NULL, "col.well"), "col.well");
    assert_string_equal(ns_lang_code(NULL), "");
    expect_fmt(fmt(NULL, "x={v}", "v", "1", NULL), "x=1");
}

/* 1 if some error is at line:col and its message contains needle. */
static int has_err(const ns_panel_errs_t *e, int line, int col, const char *needle)
{
    for (int i = 0; i < e->n; i++)
        if (e->v[i].pos.line == line && e->v[i].pos.col == col && strstr(e->v[i].msg, needle)) return 1;
    return 0;
}

static void expect_err(const ns_panel_errs_t *e, int line, int col, const char *needle)
{
    if (!has_err(e, line, col, needle)) {
        print_error("expected an error at %d:%d containing \"%s\"; got:\n", line, col, needle);
        print_errs(e);
    }
    assert_true(has_err(e, line, col, needle));
}

static void test_errors_all_at_once(void **st)
{
    (void)st;
    const char *bad =
        "default: fr\n"                                                   /* 1 */
        "languages: [en, zh, en, \"e n\"]\n"                              /* 2 */
        "colour: x\n"                                                     /* 3 */
        "text:\n"                                                         /* 4 */
        "  a.b: {en: \"x {v}\", zh: \"y {w}\"}\n"                         /* 5 */
        "  a.b: {en: \"x\", zh: \"y\"}\n"                                 /* 6 */
        "  c: {en: \"only\"}\n"                                           /* 7 */
        "  d: {en: \"x {bad name}\", zh: \"q\", fr: \"z\"}\n"             /* 8 */
        "  e: {en: {v}, zh: \"z\"}\n"                                     /* 9 */
        "  \"f g\": {en: \"a\", zh: \"b\"}\n"                             /* 10 */
        "  h: {en: \"\", zh: \"ok\", zh: \"again\"}\n"                     /* 11 */
        "  i: just text\n"                                                /* 12 */
        "  j: {en: \"{abcdefghijklmnop}\", zh: \"{abcdefghijklmnop}\"}\n"  /* 13: 16-character name */
        "  k: {en: \"{a}{b}\", zh: \"{b}{a}{a}\"}\n";                     /* 14: same set: fine */
    ns_panel_errs_t e;
    ns_lang_t *l = load(bad, NULL, &e);
    assert_null(l);
    expect_err(&e, 1, 10, "default language 'fr' is not in 'languages'");
    expect_err(&e, 2, 21, "'en' is listed twice");
    expect_err(&e, 2, 25, "not a language code");
    expect_err(&e, 3, 1, "unknown key 'colour'");
    expect_err(&e, 5, 26, "text.a.b.zh has placeholders {w} but en has {v}");
    expect_err(&e, 6, 3, "duplicate key 'a.b' in text (first at line 5)");
    expect_err(&e, 7, 3, "text.c: no 'zh' text");
    expect_err(&e, 8, 11, "starts no placeholder");
    expect_err(&e, 8, 36, "unknown language 'fr' (languages: en, zh)");
    expect_err(&e, 9, 11, "quote it");
    expect_err(&e, 10, 3, "key 'f g' must be made of");
    expect_err(&e, 11, 11, "text.h.en is empty");
    expect_err(&e, 11, 25, "language 'zh' given twice (first at line 11)");
    expect_err(&e, 12, 6, "text.i must be a mapping");
    expect_err(&e, 13, 11, "starts no placeholder");
    expect_err(&e, 13, 37, "starts no placeholder");
    for (int i = 0; i < e.n; i++) assert_int_not_equal(e.v[i].pos.line, 14);
    assert_int_equal(e.n, 16);
    ns_panel_errs_free(&e);
}

static void test_errors_structure(void **st)
{
    (void)st;
    ns_panel_errs_t e;
    /* an unknown language asked for: the error names the ones there are */
    ns_lang_t *l = load(mini, "fr", &e);
    assert_null(l);
    expect_err(&e, 2, 12, "language 'fr' is not in this file (available: en, zh)");
    assert_int_equal(e.n, 1);
    ns_panel_errs_free(&e);

    l = load("", NULL, &e);
    assert_null(l);
    expect_err(&e, 1, 1, "empty file");
    ns_panel_errs_free(&e);

    l = load("default: en\nlanguages: [en\ntext: {}\n", NULL, &e);
    assert_null(l);
    assert_true(e.n >= 1);
    assert_non_null(strstr(e.v[0].msg, "YAML syntax error"));
    ns_panel_errs_free(&e);

    l = load("default: en\nlanguages: [en]\ntext:\n  a: {en: \"x\"}\n---\ndefault: zh\n", NULL, &e);
    assert_null(l);
    expect_err(&e, 6, 1, "a second YAML document");
    ns_panel_errs_free(&e);

    l = load("default: en\ndefault: en\nlanguages: []\ntext: {}\n", NULL, &e);
    assert_null(l);
    expect_err(&e, 2, 1, "duplicate key 'default'");
    expect_err(&e, 3, 12, "'languages' is empty");
    expect_err(&e, 4, 7, "'text' has no entries");
    ns_panel_errs_free(&e);

    l = load("languages: en\n", NULL, &e);
    assert_null(l);
    expect_err(&e, 1, 12, "'languages' must be a list");
    expect_err(&e, 1, 1, "missing 'default'");
    expect_err(&e, 1, 1, "missing 'text'");
    ns_panel_errs_free(&e);

    /* a file that cannot be read */
    l = ns_lang_load("/nonexistent/lang.yaml", NULL, &e);
    assert_null(l);
    assert_int_equal(e.n, 1);
    assert_non_null(strstr(e.v[0].msg, "cannot read"));
    ns_panel_errs_free(&e);

    /* one language only is a valid file */
    l = load("default: zh\nlanguages: [zh]\ntext:\n  x: {zh: \"是\"}\n", NULL, &e);
    assert_non_null(l);
    assert_int_equal(e.n, 0);
    assert_string_equal(ns_lang_get(l, "x"), "是");
    ns_panel_errs_free(&e);
    ns_lang_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_en),
        cmocka_unit_test(test_shipped_zh),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_errors_all_at_once),
        cmocka_unit_test(test_errors_structure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
