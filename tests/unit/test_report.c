/* test_report.c — the batch report page (pipeline/report.h) from a model made by hand:
 * well-formed (xmllint, strict XML), every text escaped, labels from the translation table
 * in both languages, names only when asked for (and then mode 0600), "not recorded" for
 * parts an archive lacks, the same bytes for the same model. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../../pipeline/plate_qc.h"
#include "../../pipeline/report_internal.h"
#include "../../pipeline/util.h"
#include "../../kernels/ns_kernels.h"

#define LANG_FILE NS_SRCDIR "/configs/lang.yaml"
#define PANEL_FILE NS_SRCDIR "/configs/panel-default.yaml"

static ns_lang_t *lang(const char *code)
{
    ns_panel_errs_t e;
    memset(&e, 0, sizeof e);
    ns_lang_t *L = ns_lang_load(LANG_FILE, code, &e);
    assert_non_null(L);
    ns_panel_errs_free(&e);
    return L;
}

/* A small night: the default panel, two plates (one rejected, hostile text in its reason),
 * one quarantined file, controls on two nights, patients, two babies (with names set). */
static void make_model(ns_report_t *r, ns_panel_t **pp)
{
    ns_panel_errs_t e;
    memset(&e, 0, sizeof e);
    ns_panel_t *p = ns_panel_load(PANEL_FILE, &e);
    assert_non_null(p);
    ns_panel_errs_free(&e);
    *pp = p;
    ns_report_init(r);
    r->night = ns_strdup("2026-11-22");
    r->panel_name = ns_strdup(p->name);
    r->panel_version = ns_strdup(p->version);
    r->panel_sha256 = ns_strdup(p->sha256);
    r->software = ns_strdup("test");
    ns_rpt_set_panel(r, p);
    int c3 = ns_rpt_analyte(r, "C3"), phe = ns_rpt_analyte(r, "phe");     /* any case */
    assert_true(c3 >= 0 && phe >= 0);
    r->target_mean[c3 * 2 + 1] = 10;
    r->target_sd[c3 * 2 + 1] = 1;
    r->wells_read = 200;
    r->have_qc = 1;
    r->n_plates = 3;
    r->plates = ns_calloc(3, sizeof *r->plates);
    const char *ids[3] = { "P1", "P2<script>alert(1)</script>", "" };
    for (int k = 0; k < 3; k++) {
        r->plates[k].id = ns_strdup(ids[k]);
        r->plates[k].file = ns_asprintf("P%d.csv", k + 1);
        r->plates[k].error = ns_strdup(k == 2 ? "P3.csv:4:9: value 'O,12' & \"x\" is not a number" : "");
        r->plates[k].quarantined = k == 2;
        r->plates[k].wells = 96;
        r->plates[k].qc_status = k == 0 ? NS_QC_ACCEPTED : k == 1 ? NS_QC_REJECTED : NS_QC_NOT_RUN;
        r->plates[k].qc_reason = ns_strdup(k == 1 ? "1-3s C3 qc_high" : "");
        r->plates[k].qc_warnings = ns_strdup("");
    }
    int h0 = ns_rpt_add_seq(r, "2026-11-21", "H1", 0);
    int s0 = ns_rpt_add_seq(r, r->night, "P1", 1), s1 = ns_rpt_add_seq(r, r->night, ids[1], 1);
    ns_rpt_add_ctl(r, h0, 1, c3, 10.4, 0);
    ns_rpt_add_ctl(r, s0, 1, c3, 9.1, 0);
    ns_rpt_add_ctl(r, s1, 1, c3, 14.2, NS_WG_1_2S | NS_WG_1_3S);
    ns_rpt_add_ctl(r, s1, 1, c3, NAN, 0);                  /* a missing value is left out */
    assert_int_equal(r->n_ctl, 3);
    /* patients: Phe values and states */
    enum { N = 6 };
    uint8_t type[N] = { 0, 0, 0, 0, NS_TYPE_QC_LOW, 0 };
    uint8_t state[N] = { NS_STATE_NEGATIVE, NS_STATE_RECALL, NS_STATE_QC_HOLD, NS_STATE_INVALID, NS_STATE_CONTROL,
                         NS_STATE_UNMATCHED };
    const int na = r->n_analytes, nc = r->n_cond;
    double *conc = ns_calloc((size_t)na * N, sizeof *conc);
    uint8_t *cell = ns_calloc((size_t)na * N, 1), *call = ns_calloc((size_t)nc * N, 1);
    const double phev[N] = { 60, 400, 900, 55, 50, 70 };
    for (int i = 0; i < N; i++) conc[(size_t)phe * N + (size_t)i] = phev[i];
    cell[(size_t)phe * N + 3] = NS_CELL_BELOW;
    call[1] = NS_CALL_POSITIVE;                            /* condition 0, row 1 (recall) */
    call[2] = NS_CALL_POSITIVE;                            /* row 2 is on QC hold: not counted */
    ns_rpt_add_rows(r, N, type, state, conc, cell, call);
    free(conc); free(cell); free(call);
    r->state[NS_STATE_QUARANTINED] += 96;
    assert_int_equal(r->patients, 3);                      /* negative, recall, invalid */
    assert_int_equal(r->n_patient[phe], 2);                /* the "<x" cell is counted apart */
    assert_int_equal(r->n_censored[phe], 1);
    assert_int_equal(r->recalls[0], 1);
    r->have_followup = 1;
    ns_rpt_add_baby(r, "I0000001", NS_PRIO_CRITICAL, "msms", "PKU", "Wang Fang");
    ns_rpt_add_baby(r, "I0000002", NS_PRIO_ROUTINE, "hearing", "hearing:initial_refer", "李娜");
    assert_int_equal(r->prio[NS_PRIO_CRITICAL], 1);
    r->n_hist = 1;
    r->hist = ns_calloc(1, sizeof *r->hist);
    r->hist[0].night = ns_strdup("2026-11-21");
    r->hist[0].path = ns_strdup("h.h5");
    r->hist[0].recalls = ns_malloc((size_t)nc * sizeof *r->hist[0].recalls);
    for (int c = 0; c < nc; c++) r->hist[0].recalls[c] = c == 0 ? 4 : -1;
    r->have_hearing = 1;
    r->hearing_recorded = 1;
    r->h_infants = 100;
    r->h_initial_screened = 100;
    r->h_initial_refer = 9;
    r->h_rescreened = 8;
    r->h_rescreen_refer = 1;
}

static char *render(const ns_report_t *r, const ns_lang_t *L)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    ns_report_html(fp, r, L);
    fclose(fp);
    return buf;
}

/* xmllint on the page: 0 clean, 1 errors, -1 xmllint absent */
static int xmllint(const char *html, const char *opts)
{
    if (system("command -v xmllint > /dev/null 2>&1") != 0) return -1;
    char path[] = "/tmp/test_report.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *fp = fdopen(fd, "w");
    fputs(html, fp);
    fclose(fp);
    char *cmd = ns_asprintf("xmllint %s --noout %s 2>&1 | grep -a error | grep -av 'Tag [a-z]* invalid' | grep -q .",
                            opts, path);
    int found = system(cmd) == 0;
    free(cmd);
    unlink(path);
    return found;
}

static void test_page(void **st)
{
    (void)st;
    ns_panel_t *p;
    ns_report_t r;
    make_model(&r, &p);
    ns_lang_t *L = lang("en");
    char *h = render(&r, L);
    assert_true(strncmp(h, "<!DOCTYPE html>\n<html lang=\"en\">", 32) == 0);
    assert_non_null(strstr(h, "<meta charset=\"utf-8\"/>"));
    assert_non_null(strstr(h, "</body>\n</html>\n"));
    /* hostile text escaped, never markup */
    assert_null(strstr(h, "<script"));
    assert_non_null(strstr(h, "P2&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_non_null(strstr(h, "value &#39;O,12&#39; &amp; &quot;x&quot; is not a number"));
    /* the parts */
    assert_non_null(strstr(h, "<tr class=\"bad\"><td>P2&lt;script&gt;alert(1)&lt;/script&gt;</td>"));
    assert_non_null(strstr(h, "<td>1-3s C3 qc_high</td>"));
    assert_non_null(strstr(h, "class=\"rule\">1-2s 1-3s</text>"));           /* the rules, at the point */
    assert_non_null(strstr(h, "<figure class=\"fired\">"));
    assert_non_null(strstr(h, "<title>2026-11-21 H1: 10.4</title>"));        /* history point */
    assert_non_null(strstr(h, "Average over 1 earlier nights."));
    assert_non_null(strstr(h, "<td>PKU</td><td class=\"n\">1</td><td class=\"n\">333.33</td><td class=\"n\">4.0</td>"));
    assert_non_null(strstr(h, "9 of 100 (9.0%)"));
    assert_non_null(strstr(h, "n = 2; 1 below the limit of quantitation"));
    /* IDs only: names set in the model are not printed unless asked for */
    assert_non_null(strstr(h, "<td>I0000001</td>"));
    assert_null(strstr(h, "Wang Fang"));
    assert_null(strstr(h, "李娜"));
    /* well-formed: strict XML, and the HTML parser finds nothing but element names */
    int x = xmllint(h, "");
    if (x >= 0) assert_int_equal(x, 0);
    x = xmllint(h, "--html");
    if (x >= 0) assert_int_equal(x, 0);
    /* the same model, the same bytes */
    char *h2 = render(&r, L);
    assert_string_equal(h, h2);
    free(h2);
    free(h);

    /* with names: shown, and flagged as personal data */
    r.with_names = 1;
    h = render(&r, L);
    assert_non_null(strstr(h, "<td>Wang Fang</td>"));
    assert_non_null(strstr(h, "<td>李娜</td>"));
    assert_non_null(strstr(h, "this page holds personal data"));
    free(h);
    ns_lang_free(L);
    ns_report_free(&r);
    ns_panel_free(p);
}

static void test_chinese(void **st)
{
    (void)st;
    ns_panel_t *p;
    ns_report_t r;
    make_model(&r, &p);
    ns_lang_t *L = lang("zh");
    char *h = render(&r, L);
    assert_true(strncmp(h, "<!DOCTYPE html>\n<html lang=\"zh\">", 32) == 0);
    assert_non_null(strstr(h, "<h1>批次报告 — 2026-11-22</h1>"));
    assert_non_null(strstr(h, "100 例中 9 例（9.0%）"));
    assert_non_null(strstr(h, "<td>PKU</td>"));                              /* codes stay */
    int x = xmllint(h, "");
    if (x >= 0) assert_int_equal(x, 0);
    free(h);
    ns_lang_free(L);
    ns_report_free(&r);
    ns_panel_free(p);
}

static void test_not_recorded(void **st)
{
    (void)st;
    ns_panel_t *p;
    ns_report_t r;
    make_model(&r, &p);
    r.have_qc = 0;
    r.have_followup = 0;
    r.hearing_recorded = 0;
    ns_lang_t *L = lang("en");
    char *h = render(&r, L);
    assert_non_null(strstr(h, "plate QC not recorded"));
    assert_non_null(strstr(h, "recall list not recorded in this archive"));
    assert_non_null(strstr(h, "<p class=\"note\">not recorded in this archive</p>"));
    assert_null(strstr(h, "<td>I0000001</td>"));
    free(h);
    ns_lang_free(L);
    ns_report_free(&r);
    ns_panel_free(p);
}

static void test_write_mode(void **st)
{
    (void)st;
    ns_panel_t *p;
    ns_report_t r;
    make_model(&r, &p);
    ns_lang_t *L = lang("en");
    char dir[] = "/tmp/test_report_dir.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *path = ns_asprintf("%s/report.html", dir);
    struct stat st1;
    assert_int_equal(ns_report_write(path, &r, L, "test"), 0);
    assert_int_equal(stat(path, &st1), 0);
    assert_int_equal(st1.st_mode & 0777, 0644);
    r.with_names = 1;
    assert_int_equal(ns_report_write(path, &r, L, "test"), 0);
    assert_int_equal(stat(path, &st1), 0);
    assert_int_equal(st1.st_mode & 0777, 0600);
    unlink(path);
    /* a directory that is not there: -1, nothing left */
    char *bad = ns_asprintf("%s/missing/report.html", dir);
    assert_int_equal(ns_report_write(bad, &r, L, "test"), -1);
    rmdir(dir);
    free(bad);
    free(path);
    ns_lang_free(L);
    ns_report_free(&r);
    ns_panel_free(p);
}

static void test_lang_keys(void **st)
{
    (void)st;
    for (int k = 0; k < 2; k++) {
        ns_lang_t *L = lang(k ? "zh" : "en");
        assert_int_equal(ns_report_check_lang(L, "test", LANG_FILE), 0);
        ns_lang_free(L);
    }
    /* a table without one of the report's keys is refused */
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(ns_read_file(LANG_FILE, &text, &len), 0);
    char *at = strstr(text, "\n  report.plate_qc:");
    assert_non_null(at);
    at[1] = '#';                                           /* comment the key out */
    ns_panel_errs_t e;
    memset(&e, 0, sizeof e);
    ns_lang_t *L = ns_lang_load_mem("lang.yaml", text, len, "en", &e);
    assert_non_null(L);
    assert_int_equal(ns_report_check_lang(L, "test", "lang.yaml"), -1);
    ns_lang_free(L);
    ns_panel_errs_free(&e);
    free(text);
    /* every key is listed once */
    const char *const *keys = ns_report_lang_keys();
    for (int i = 0; keys[i]; i++)
        for (int j = i + 1; keys[j]; j++) assert_true(strcmp(keys[i], keys[j]) != 0);
}

static void test_join_unique(void **st)
{
    (void)st;
    char *s = NULL;
    s = ns_rpt_join_unique(s, "MCAD");
    s = ns_rpt_join_unique(s, "VLCAD");
    s = ns_rpt_join_unique(s, "MCAD");
    s = ns_rpt_join_unique(s, "");
    s = ns_rpt_join_unique(s, "CAD");                       /* a suffix of an item is another item */
    assert_string_equal(s, "MCAD; VLCAD; CAD");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_page),        cmocka_unit_test(test_chinese),   cmocka_unit_test(test_not_recorded),
        cmocka_unit_test(test_write_mode),  cmocka_unit_test(test_lang_keys), cmocka_unit_test(test_join_unique),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
