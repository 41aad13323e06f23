/* test_report.c — the batch report page (pipeline/report.h) from a model made by hand:
 * well-formed (xmllint, strict XML), every text escaped, labels from the translation table
 * in both languages, names only when asked for (and then mode 0600), "not recorded" for
 * parts an archive lacks, the same bytes for the same model; the follow-up ledger's
 * indicators section, read from a ledger made by hand. */
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
#include "../../pipeline/ledger.h"
#include "../../pipeline/plate_qc.h"
#include "../../pipeline/report_internal.h"
#include "../../pipeline/svg.h"
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

/* not inlined: gcc 12 then takes the pointers into the returned page for pointers to the
 * local buf (a false -Wdangling-pointer) */
__attribute__((noinline)) static char *render(const ns_report_t *r, const ns_lang_t *L)
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

/* count of needle in [h, end) */
static int count_in(const char *h, const char *end, const char *needle)
{
    int c = 0;
    for (const char *q = strstr(h, needle); q && q < end; q = strstr(q + 1, needle)) c++;
    return c;
}

/* The chart's coordinates as lj_chart prints them (scales of report.c's lj_chart) */
enum { LJ_X0 = 44, LJ_X1 = 286, LJ_Y0 = 20, LJ_Y1 = 140, LJ_NCOL = 484 };

static void lj_vertex(const ns_report_t *r, int a, int l, int seq, double v, char *buf, size_t n, int *col)
{
    const double mean = r->target_mean[a * 2 + l], sd = r->target_sd[a * 2 + l];
    ns_scale_t sx = ns_scale_make(NS_SCALE_LINEAR, -0.5, r->n_seq - 0.5, LJ_X0, LJ_X1);
    ns_scale_t sy = ns_scale_make(NS_SCALE_LINEAR, mean - 4 * sd, mean + 4 * sd, LJ_Y1, LJ_Y0);
    double px = ns_svg_map(&sx, seq), py = ns_svg_clamp(&sy, ns_svg_map(&sy, v));
    snprintf(buf, n, "%.1f,%.1f", px, py);
    *col = (int)floor((px - LJ_X0) / 0.5);
}

/* A Levey-Jennings chart of 3,000 plates, earlier nights' and tonight's interleaved (more
 * controls than its 484 columns), is thinned: far fewer points and vertices, yet every
 * control that broke a rule, the lowest and the highest control of each column for the
 * earlier nights and for tonight, the line's first, last, lowest and highest vertex of each
 * column, and a note saying so.  A chart of 400 controls on 1,200 plates (several in a
 * column, fewer than the columns) is drawn whole. */
static void test_lj_thinned(void **st)
{
    (void)st;
    ns_panel_t *p;
    ns_report_t r;
    make_model(&r, &p);
    ns_lang_t *L = lang("en");
    char *h = render(&r, L);
    assert_null(strstr(h, "are thinned"));                 /* 3 controls: drawn whole */
    free(h);
    const int c3 = ns_rpt_analyte(&r, "C3");
    enum { NP = 3000 };
    static double val[NP];
    static int seqof[NP];
    uint64_t z = 99;
    int flagged = 0;
    for (int k = 0; k < NP; k++) {
        char id[32];
        snprintf(id, sizeof id, "T%04d", k);
        seqof[k] = ns_rpt_add_seq(&r, k % 2 ? r.night : "2026-11-21", id, k % 2);
        z = z * 6364136223846793005ULL + 1442695040888963407ULL;
        double v = 8.5 + (double)((z >> 33) % 300) / 100.0;   /* 8.5 .. 11.49 */
        unsigned rules = 0;
        if (k % 401 == 7) { v = 12.25; rules = NS_WG_1_2S; flagged++; }
        if (k == 1234) v = 6.125;                            /* the lowest, no rule */
        if (k == 2345) v = 13.375;                           /* the highest, no rule */
        val[k] = v;
        ns_rpt_add_ctl(&r, seqof[k], 1, c3, v, rules);
    }
    h = render(&r, L);
    const char *lj = strstr(h, "<section id=\"levey-jennings\">");
    assert_non_null(lj);
    const char *end = strstr(lj, "</section>");
    assert_non_null(end);
    assert_non_null(strstr(lj, "are thinned"));
    const int circles = count_in(lj, end, "<circle");
    assert_true(circles <= 4 * LJ_NCOL + flagged + 3);   /* 2 classes x lowest, highest */
    assert_true(circles < NP);
    assert_true(circles >= flagged + 2);
    char tip[96];
    for (int k = 7; k < NP; k += 401) {                      /* every control that broke a rule */
        snprintf(tip, sizeof tip, "<title>%s T%04d: 12.25 \xe2\x80\x94 1-2s</title>", k % 2 ? r.night : "2026-11-21", k);
        assert_non_null(strstr(lj, tip));
    }
    /* per column: the lowest and highest control of each class, by its tooltip; the line's
     * first, last, lowest and highest vertex, by its coordinates (the model's own 3 controls
     * are the first of the chart: column 0 and the first plates of the sequence) */
    const char *pl = strstr(lj, "<polyline class=\"ln\" points=\"");
    assert_non_null(pl);
    pl += 30;
    const char *ple = strchr(pl, '"');
    char *line = ns_malloc((size_t)(ple - pl) + 3);
    line[0] = ' ';
    memcpy(line + 1, pl, (size_t)(ple - pl));
    line[ple - pl + 1] = ' ';
    line[ple - pl + 2] = 0;
    int vert = 0;
    for (const char *q = line; *q; q++) vert += *q == ',';
    assert_true(vert <= 4 * LJ_NCOL + 3);
    assert_true(vert > LJ_NCOL);
    int lo[LJ_NCOL][2], hi[LJ_NCOL][2], first[LJ_NCOL], last[LJ_NCOL], vlo[LJ_NCOL], vhi[LJ_NCOL];
    for (int c = 0; c < LJ_NCOL; c++) {
        lo[c][0] = lo[c][1] = hi[c][0] = hi[c][1] = first[c] = last[c] = vlo[c] = vhi[c] = -1;
    }
    char xy[64];
    for (int k = 0; k < NP; k++) {
        int col, t = k % 2;
        lj_vertex(&r, c3, 1, seqof[k], val[k], xy, sizeof xy, &col);
        assert_true(col >= 0 && col < LJ_NCOL);
        if (col == 0) continue;                              /* shared with the model's controls */
        if (first[col] < 0) first[col] = k;
        last[col] = k;
        if (vlo[col] < 0 || val[k] < val[vlo[col]]) vlo[col] = k;
        if (vhi[col] < 0 || val[k] > val[vhi[col]]) vhi[col] = k;
        if (k % 401 == 7) continue;
        if (lo[col][t] < 0 || val[k] < val[lo[col][t]]) lo[col][t] = k;
        if (hi[col][t] < 0 || val[k] > val[hi[col][t]]) hi[col][t] = k;
    }
    int columns = 0;
    for (int c = 1; c < LJ_NCOL; c++) {
        if (first[c] < 0) continue;
        columns++;
        const int kk[4] = { first[c], last[c], vlo[c], vhi[c] };
        for (int j = 0; j < 4; j++) {
            char want[72];
            int col;
            lj_vertex(&r, c3, 1, seqof[kk[j]], val[kk[j]], xy, sizeof xy, &col);
            snprintf(want, sizeof want, " %s ", xy);
            assert_non_null(strstr(line, want));
        }
        for (int t = 0; t < 2; t++) {
            const int pk[2] = { lo[c][t], hi[c][t] };
            for (int j = 0; j < 2; j++) {
                if (pk[j] < 0) continue;
                snprintf(tip, sizeof tip, "<title>%s T%04d: ", t ? r.night : "2026-11-21", pk[j]);
                assert_non_null(strstr(lj, tip));
            }
        }
    }
    assert_true(columns > LJ_NCOL - 3);
    free(line);
    int x = xmllint(h, "");
    if (x >= 0) assert_int_equal(x, 0);
    free(h);
    ns_report_free(&r);
    ns_panel_free(p);

    /* 400 controls on the first 400 of 1,203 plates: 2.5 to a column, fewer than the columns */
    make_model(&r, &p);
    for (int k = 0; k < 1200; k++) {
        char id[32];
        snprintf(id, sizeof id, "U%04d", k);
        int s = ns_rpt_add_seq(&r, r.night, id, 1);
        if (k < 400) ns_rpt_add_ctl(&r, s, 1, c3, 8 + (k % 7) * 0.5, 0);
    }
    h = render(&r, L);
    lj = strstr(h, "<section id=\"levey-jennings\">");
    end = strstr(lj, "</section>");
    assert_null(strstr(lj, "are thinned"));
    assert_int_equal(count_in(lj, end, "<circle"), 403);
    for (int k = 0; k < 400; k++) {
        snprintf(tip, sizeof tip, "<title>%s U%04d: ", r.night, k);
        assert_non_null(strstr(lj, tip));
    }
    pl = strstr(lj, "<polyline class=\"ln\" points=\"");
    ple = strchr(pl + 30, '"');
    vert = 0;
    for (const char *q = pl + 30; q < ple; q++) vert += *q == ',';
    assert_int_equal(vert, 403);
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

/* The counts over many rows, kept or not, in blocks of 255 and across their edges: both the
 * rows added (ns_rpt_add_rows) and the rows viewed (ns_rpt_view_rows) count every kept
 * recall and censored cell, none of the others. */
static void test_counts_many_rows(void **st)
{
    (void)st;
    enum { N = 2000 };
    for (int view = 0; view < 2; view++) {
        ns_report_t r;
        ns_panel_t *p;
        make_model(&r, &p);
        const int na = r.n_analytes, nc = r.n_cond, phe = ns_rpt_analyte(&r, "Phe");
        uint8_t *type = ns_calloc(N, 1), *state = ns_calloc(N, 1);
        uint8_t *cell = ns_calloc((size_t)na * N, 1), *call = ns_calloc((size_t)nc * N, 1);
        double *conc = ns_calloc((size_t)na * N, sizeof *conc);
        int64_t kept = r.patients, rec = r.recalls[0], cens = r.n_censored[phe];     /* make_model's rows */
        for (int i = 0; i < N; i++) {
            type[i] = i % 97 == 0 ? NS_TYPE_QC_LOW : NS_TYPE_PATIENT;
            state[i] = i % 5 == 0 ? NS_STATE_QC_HOLD : i < 1000 ? NS_STATE_RECALL : NS_STATE_NEGATIVE;
            const int keep = type[i] == NS_TYPE_PATIENT && state[i] != NS_STATE_QC_HOLD;
            call[i] = i < 1000 || i % 3 == 0 ? NS_CALL_POSITIVE : i % 3 == 1 ? NS_CALL_CRITICAL : NS_CALL_NEGATIVE;
            cell[(size_t)phe * N + (size_t)i] = i % 2 ? NS_CELL_ND : i % 4 ? NS_CELL_BELOW : NS_CELL_VALUE;
            conc[(size_t)phe * N + (size_t)i] = 50;
            kept += keep;
            rec += keep && call[i] != NS_CALL_NEGATIVE;
            cens += keep && cell[(size_t)phe * N + (size_t)i] != NS_CELL_VALUE;
        }
        if (view) ns_rpt_view_rows(&r, N, type, state, conc, cell, call);
        else ns_rpt_add_rows(&r, N, type, state, conc, cell, call);
        assert_true(rec > 300 && cens > 300);
        assert_int_equal(r.patients, kept);
        assert_int_equal(r.recalls[0], rec);
        assert_int_equal(r.n_censored[phe], cens);
        free(type); free(state); free(cell); free(call); free(conc);
        ns_report_free(&r);
        ns_panel_free(p);
    }
}

/* The distribution charts from the batch's columns (ns_rpt_view_rows: values, extremes and
 * least positive value picked in one pass, eight rows at a time where the CPU can) are the
 * charts from the same rows added (ns_rpt_add_rows: picked, then scanned one at a time):
 * rows of every kind (not kept, censored, NaN, infinite, both zeros, negative), counts not a
 * multiple of 8, a column whose only extreme is a zero of either sign; with and without
 * the vector path. */
static void test_view_charts(void **st)
{
    (void)st;
    const ns_lang_t *L = lang("en");
    uint64_t seed = 0x7069636b72616e67ULL;      /* "pickrang" */
    for (int round = 0; round < 12; round++) {
        const int N = 40 + round * 37 + (round % 3) * 1000;
        char *page[3];
        for (int how = 0; how < 3; how++) {     /* added; viewed; viewed without AVX-512 */
            ns_report_t r;
            ns_panel_t *p;
            make_model(&r, &p);
            const int na = r.n_analytes;
            uint8_t *type = ns_calloc((size_t)N, 1), *state = ns_calloc((size_t)N, 1);
            uint8_t *cell = ns_calloc((size_t)na * (size_t)N, 1);
            double *conc = ns_calloc((size_t)na * (size_t)N, sizeof *conc);
            uint64_t x = seed + (uint64_t)round;
            for (int i = 0; i < N; i++) {
                x = x * 6364136223846793005ULL + 1442695040888963407ULL;
                type[i] = (x >> 60) == 0 ? NS_TYPE_QC_LOW : NS_TYPE_PATIENT;
                state[i] = (x >> 56) % 7 == 0 ? NS_STATE_QC_HOLD : NS_STATE_NEGATIVE;
            }
            for (int a = 0; a < na; a++)
                for (int i = 0; i < N; i++) {
                    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
                    const unsigned u = (unsigned)(x >> 40) % 100;
                    double v = (double)((x >> 20) % 100000) / 37.0;
                    if (a % 5 == 1) v = u < 50 ? 0.0 : -0.0;       /* only zeros: which sign */
                    else if (a % 5 == 2) v = u < 50 ? -0.0 : (double)u; /* the least is a zero */
                    else if (u < 3) v = NAN;
                    else if (u < 5) v = u == 3 ? INFINITY : -INFINITY;
                    else if (u < 8) v = -v;
                    else if (u < 10) v = 0.0;
                    conc[(size_t)a * (size_t)N + (size_t)i] = v;
                    cell[(size_t)a * (size_t)N + (size_t)i] = u >= 90 ? (uint8_t)(NS_CELL_BELOW + u % 4) : NS_CELL_VALUE;
                }
            const int simd = ns_simd;
            if (how == 2) ns_simd = 0;
            /* the charts are drawn from the viewed rows alone: the added ones, alone too */
            for (int a = 0; how == 0 && a < na; a++) r.n_patient[a] = 0;
            if (how == 0) ns_rpt_add_rows(&r, N, type, state, conc, cell, NULL);
            else ns_rpt_view_rows(&r, N, type, state, conc, cell, NULL);
            page[how] = render(&r, L);
            ns_simd = simd;
            free(type); free(state); free(cell); free(conc);
            ns_report_free(&r);
            ns_panel_free(p);
        }
        assert_true(strstr(page[0], "<figure>") != NULL);
        assert_string_equal(page[1], page[0]);
        assert_string_equal(page[2], page[0]);
        for (int how = 0; how < 3; how++) free(page[how]);
    }
    ns_lang_free((ns_lang_t *)L);
}

/* ns_rpt_pick_range against the loop it replaces (pick every kept exact finite value in row
 * order, then scan them one at a time): the same values, count and extremes, bit for bit
 * (the sign of a zero too), with and without the vector path; lengths around multiples of
 * 8, columns where the least or greatest value is a zero of either sign. */
static void test_pick_range(void **st)
{
    (void)st;
    enum { NA = 3, NMAX = 300 };
    uint64_t x = 0x72616e6765733031ULL;
    uint8_t keep[NMAX], cell[NA * NMAX];
    double conc[NA * NMAX], out[NMAX + 1], ref[NMAX + 1];
    for (int round = 0; round < 4000; round++) {
        const int n = round % NMAX, kind = round % 6;
        for (int i = 0; i < NA * NMAX; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            const unsigned u = (unsigned)(x >> 40) % 100;
            double v = (double)((x >> 16) % 1000000) / 8.0 - (kind == 3 ? 60000.0 : 0.0);
            if (kind == 1) v = u < 50 ? 0.0 : -0.0;                  /* zeros only */
            else if (kind == 2) v = u < 40 ? -0.0 : u < 80 ? 0.0 : (double)u;   /* least: a zero */
            else if (kind == 4) v = u < 40 ? -0.0 : u < 80 ? 0.0 : -(double)u;  /* greatest: a zero */
            else if (u < 3) v = NAN;
            else if (u < 6) v = u == 3 ? INFINITY : -INFINITY;
            conc[i] = v;
            cell[i] = u >= 92 ? (uint8_t)(NS_CELL_BELOW + u % 4) : NS_CELL_VALUE;
            if (i < NMAX) keep[i] = (x >> 60) % 5 != 0;
        }
        const int a = round % NA;
        int64_t k0 = 0;
        double l0 = INFINITY, h0 = -INFINITY, m0 = INFINITY;
        for (int i = 0; i < n; i++) {
            const double v = conc[a * n + i];
            if (keep[i] && cell[a * n + i] == NS_CELL_VALUE && isfinite(v)) ref[k0++] = v;
        }
        for (int64_t j = 0; j < k0; j++) {
            if (ref[j] < l0) l0 = ref[j];
            if (ref[j] > h0) h0 = ref[j];
            if (ref[j] > 0 && ref[j] < m0) m0 = ref[j];
        }
        for (int simd = 0; simd < 2; simd++) {
            const int was = ns_simd;
            ns_simd = simd;
            double l, h, m;
            const int64_t k = ns_rpt_pick_range(n, keep, conc, cell, a, out, &l, &h, &m);
            ns_simd = was;
            assert_int_equal(k, k0);
            assert_memory_equal(out, ref, (size_t)k * sizeof *out);
            assert_memory_equal(&l, &l0, sizeof l);
            assert_memory_equal(&h, &h0, sizeof h);
            assert_memory_equal(&m, &m0, sizeof m);
        }
    }
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

/* A ledger by hand: night 2026-11-22 (100 cards, 90 initial, 3 invalid; a PKU case,
 * confirmed) and night 2026-10-05 (50 cards; an MCAD case), both in 2026-Q4. */
static void make_ledger(const char *path)
{
    char err[512];
    ns_ledger_t *l = ns_ledger_open(path, 1, err, sizeof err);
    assert_non_null(l);
    assert_int_equal(sqlite3_exec(l->db,
        "INSERT INTO batches(batch_key, night, night_date, recorded_at, panel_sha256, software_version, cards_screened, "
        "initial_cards, repeat_cards, invalid_cards, qc_hold_cards, unmatched_cards) VALUES "
        "('k1', '2026-11-22', '2026-11-22', '2026-11-24T08:00:00', 'x', 'v', 100, 90, 10, 3, 0, 0),"
        "('k0', '2026-10-05', '2026-10-05', '2026-10-07T08:00:00', 'x', 'v', 50, 50, 0, 0, 0, 0);"
        "INSERT INTO batch_tat SELECT id, 48, 100 FROM batches WHERE batch_key = 'k1';"
        "INSERT INTO cases(batch_id, infant_id, sample_ids, opened_at, priority, action, due_by, conditions, reasons, "
        "screen_positive, msms) SELECT id, 'I1', 'S1', '2026-11-24T08:00:00', 'urgent', 'referral', '2026-11-24', 'PKU', "
        "'[]', 1, 1 FROM batches WHERE batch_key = 'k1';"
        "INSERT INTO case_conditions SELECT id, 'PKU', 'Phe' FROM cases WHERE infant_id = 'I1';"
        "INSERT INTO cases(batch_id, infant_id, sample_ids, opened_at, priority, action, due_by, conditions, reasons, "
        "screen_positive, msms) SELECT id, 'I0', 'S0', '2026-10-07T08:00:00', 'routine', 'repeat_specimen', "
        "'2026-10-10', 'MCAD', '[]', 1, 1 FROM batches WHERE batch_key = 'k0';"
        "INSERT INTO case_conditions SELECT id, 'MCAD', 'C8' FROM cases WHERE infant_id = 'I0';",
        NULL, NULL, NULL), SQLITE_OK);
    int64_t pku = 0;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(l->db, "SELECT id FROM cases WHERE infant_id = 'I1'", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    pku = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    assert_int_equal(ns_ledger_add_event(l, pku, "2026-11-25T10:00:00", "A", NS_EV_CONTACT, "reached", NULL, NULL,
                                         NULL, -1, NULL, err, sizeof err), 1);
    assert_int_equal(ns_ledger_add_event(l, pku, "2026-11-28T10:00:00", "A", NS_EV_CONFIRMED, "PKU", NULL, NULL,
                                         NULL, -1, NULL, err, sizeof err), 1);
    ns_ledger_close(l);
}

static const ns_indicator_t *find_ind(const ns_indicators_t *v, const char *name, const char *cond)
{
    for (int64_t k = 0; k < v->n; k++)
        if (!strcmp(v->v[k].indicator, name) && !strcmp(v->v[k].condition, cond)) return &v->v[k];
    return NULL;
}

static int count(const char *h, const char *needle)
{
    int n = 0;
    for (const char *p = h; (p = strstr(p, needle)) != NULL; p++) n++;
    return n;
}

/* ns_rpt_ind_load: the month and the quarter of the night, exactly ns_ledger_stats()'s
 * figures for them; a night not in the ledger; a ledger that is not there. */
static void test_indicators_load(void **st)
{
    (void)st;
    char dir[] = "/tmp/test_report_led.XXXXXX", err[512];
    assert_non_null(mkdtemp(dir));
    char *path = ns_asprintf("%s/ledger.sqlite", dir);
    make_ledger(path);
    const char *now = "2026-11-30T12:00:00";
    ns_rpt_ind_t ind;
    assert_int_equal(ns_rpt_ind_load(&ind, path, "2026-11-22", now, err, sizeof err), 0);
    assert_int_equal(ind.status, NS_RPT_IND_SHOWN);
    assert_string_equal(ind.night_date, "2026-11-22");
    assert_string_equal(ind.month, "2026-11");
    assert_string_equal(ind.quarter, "2026-Q4");
    assert_string_equal(ind.as_of, now);
    ns_ledger_t *l = ns_ledger_open_ro(path, err, sizeof err);
    assert_non_null(l);
    ns_indicators_t m, q;
    assert_int_equal(ns_ledger_stats(l, "2026-11-01", "2026-11-30", NS_BY_MONTH, now, &m, err, sizeof err), 0);
    assert_int_equal(ns_ledger_stats(l, "2026-10-01", "2026-12-31", NS_BY_QUARTER, now, &q, err, sizeof err), 0);
    ns_ledger_close(l);
    const ns_indicators_t *got[2] = { &ind.month_v, &ind.quarter_v }, *want[2] = { &m, &q };
    for (int k = 0; k < 2; k++) {
        assert_int_equal(got[k]->n, want[k]->n);
        for (int64_t i = 0; i < want[k]->n; i++) {
            const ns_indicator_t *a = &got[k]->v[i], *b = &want[k]->v[i];
            assert_string_equal(a->period, b->period);
            assert_string_equal(a->indicator, b->indicator);
            assert_string_equal(a->condition, b->condition);
            assert_true(a->num == b->num && a->den == b->den && a->n == b->n);
            assert_true((isnan(a->value) && isnan(b->value)) || a->value == b->value);
        }
    }
    assert_true(find_ind(&ind.month_v, "cards_screened", "")->num == 100);
    assert_true(find_ind(&ind.quarter_v, "cards_screened", "")->num == 150);
    assert_null(find_ind(&ind.month_v, "ppv", "MCAD"));               /* October's case: quarter only */
    assert_true(find_ind(&ind.quarter_v, "ppv", "MCAD")->den == 1);
    assert_true(find_ind(&ind.month_v, "ppv", "PKU")->value == 1.0);
    ns_indicators_free(&m);
    ns_indicators_free(&q);
    ns_rpt_ind_free(&ind);
    /* a night the ledger does not hold */
    assert_int_equal(ns_rpt_ind_load(&ind, path, "2026-11-23", now, err, sizeof err), 0);
    assert_int_equal(ind.status, NS_RPT_IND_NOT_RECORDED);
    ns_rpt_ind_free(&ind);
    /* no ledger there: an error naming it, nothing created */
    char *missing = ns_asprintf("%s/none.sqlite", dir);
    assert_int_equal(ns_rpt_ind_load(&ind, missing, "2026-11-22", now, err, sizeof err), -1);
    assert_int_equal(ind.status, NS_RPT_IND_FAILED);
    assert_non_null(strstr(err, missing));
    assert_int_equal(access(missing, F_OK), -1);
    ns_rpt_ind_free(&ind);
    char *cmd = ns_asprintf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(missing);
    free(path);
}

/* The section on the page: every figure with its data-* attributes, every label
 * translated (en, zh), well-formed; a statement for each kind of absence; without it the
 * page is the page as before, and the section is the only difference. */
static void test_indicators_section(void **st)
{
    (void)st;
    char dir[] = "/tmp/test_report_sec.XXXXXX", err[512];
    assert_non_null(mkdtemp(dir));
    char *path = ns_asprintf("%s/ledger.sqlite", dir);
    make_ledger(path);
    ns_rpt_ind_t ind;
    assert_int_equal(ns_rpt_ind_load(&ind, path, "2026-11-22", "2026-11-30T12:00:00", err, sizeof err), 0);
    ns_panel_t *p;
    ns_report_t r;
    make_model(&r, &p);
    ns_lang_t *L = lang("en");
    char *h0 = render(&r, L);
    assert_null(strstr(h0, "id=\"indicators\""));
    r.ind = &ind;
    char *h = render(&r, L);
    /* the page without the section, then the section last */
    const char *tail = "</body>\n</html>\n";
    size_t n0 = strlen(h0) - strlen(tail);
    assert_memory_equal(h, h0, n0);
    assert_true(strncmp(h + n0, "<section id=\"indicators\">\n", 26) == 0);
    assert_string_equal(h + strlen(h) - strlen(tail), tail);
    assert_int_equal(count(h, "<section id=\"indicators\">"), 1);
    assert_non_null(strstr(h, "as of 2026-11-30T12:00:00"));
    assert_non_null(strstr(h, "<th>2026-11</th><th>2026-Q4</th>"));
    assert_non_null(strstr(h, "<td class=\"n\" data-period=\"2026-11\" data-indicator=\"cards_screened\" "
                              "data-condition=\"\" data-num=\"100\" data-value=\"100\">100</td>"));
    assert_non_null(strstr(h, "data-period=\"2026-Q4\" data-indicator=\"unsatisfactory_rate\" data-condition=\"\" "
                              "data-num=\"3\" data-den=\"150\" data-value=\"0.02\">2.00% (3/150)</td>"));
    assert_non_null(strstr(h, "data-period=\"2026-11\" data-indicator=\"median_days_collection_to_report\" "
                              "data-condition=\"\" data-n=\"100\" data-value=\"2\">2.00 days (n = 100)</td>"));
    assert_non_null(strstr(h, "data-indicator=\"incidence\" data-condition=\"PKU\" data-num=\"1\" data-den=\"90\" "
                              "data-value=\"0.01111111111\">1:90 (1/90)</td>"));
    /* the quarter's MCAD case, not confirmed */
    assert_non_null(strstr(h, "data-indicator=\"ppv\" data-condition=\"MCAD\" data-num=\"0\" data-den=\"1\" "
                              "data-value=\"0\">0.00% (0/1)</td>"));
    assert_int_equal(count(h, "<td>PKU</td><td>2026-"), 2);              /* month and quarter */
    assert_int_equal(count(h, "<td>MCAD</td><td>2026-Q4</td>"), 1);
    assert_int_equal(count(h, "<td>MCAD</td><td>2026-11</td>"), 0);
    /* the PKU case was first reached 26 h after it opened */
    assert_non_null(strstr(h, "data-period=\"2026-11\" data-indicator=\"median_days_report_to_first_contact\" "
                              "data-condition=\"\" data-n=\"1\" data-value=\"1.083333333\">1.08 days (n = 1)</td>"));
    assert_non_null(strstr(h, "<td>DOMAIN.md 8.3</td>"));
    assert_non_null(strstr(h, "SW China 0.38 %"));
    assert_null(strstr(h, "report.ind"));                                /* every key has a text */
    int x = xmllint(h, "");
    if (x >= 0) assert_int_equal(x, 0);
    x = xmllint(h, "--html");
    if (x >= 0) assert_int_equal(x, 0);
    free(h);
    /* October's night: its MCAD case was never contacted, a median of nothing is "-" */
    ns_rpt_ind_t oct;
    assert_int_equal(ns_rpt_ind_load(&oct, path, "2026-10-05", "2026-11-30T12:00:00", err, sizeof err), 0);
    r.ind = &oct;
    h = render(&r, L);
    assert_non_null(strstr(h, "data-period=\"2026-10\" data-indicator=\"median_days_report_to_first_contact\" "
                              "data-condition=\"\" data-n=\"0\" data-value=\"\">-</td>"));
    free(h);
    ns_rpt_ind_free(&oct);
    r.ind = &ind;
    ns_lang_t *Z = lang("zh");
    h = render(&r, Z);
    assert_null(strstr(h, "report.ind"));
    assert_non_null(strstr(h, "筛查质量指标"));
    assert_non_null(strstr(h, "2.00%（3/150）"));
    x = xmllint(h, "");
    if (x >= 0) assert_int_equal(x, 0);
    free(h);
    ns_lang_free(Z);
    /* no indicators: one statement each, no table */
    const int sts[3] = { NS_RPT_IND_DISABLED, NS_RPT_IND_FAILED, NS_RPT_IND_NOT_RECORDED };
    const char *says[3] = { "(--no-ledger): no indicators", "could not be updated or read", "not recorded in the follow-up ledger given" };
    for (int k = 0; k < 3; k++) {
        ns_rpt_ind_t none;
        ns_rpt_ind_init(&none, sts[k]);
        r.ind = &none;
        h = render(&r, L);
        assert_memory_equal(h, h0, n0);
        const char *sec = h + n0;
        assert_non_null(strstr(sec, says[k]));
        assert_null(strstr(sec, "<table>"));
        assert_null(strstr(sec, "data-indicator"));
        free(h);
    }
    free(h0);
    ns_lang_free(L);
    ns_report_free(&r);
    ns_panel_free(p);
    ns_rpt_ind_free(&ind);
    char *cmd = ns_asprintf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(path);
}

/* ns_report_write_wait: the page is the same as ns_report_write() with r->ind set, the
 * section taken from what wait() returns, called once. */
static int waited;
static const ns_rpt_ind_t *give(void *arg)
{
    waited++;
    return arg;
}

static void test_write_wait(void **st)
{
    (void)st;
    ns_panel_t *p;
    ns_report_t r;
    make_model(&r, &p);
    ns_lang_t *L = lang("en");
    char dir[] = "/tmp/test_report_ww.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *a = ns_asprintf("%s/a.html", dir), *b = ns_asprintf("%s/b.html", dir);
    ns_rpt_ind_t none;
    ns_rpt_ind_init(&none, NS_RPT_IND_DISABLED);
    waited = 0;
    assert_int_equal(ns_report_write_wait(a, &r, L, "test", give, &none), 0);
    assert_int_equal(waited, 1);
    r.ind = &none;
    assert_int_equal(ns_report_write(b, &r, L, "test"), 0);
    char *ta = NULL, *tb = NULL;
    size_t la = 0, lb = 0;
    assert_int_equal(ns_read_file(a, &ta, &la), 0);
    assert_int_equal(ns_read_file(b, &tb, &lb), 0);
    assert_int_equal(la, lb);
    assert_memory_equal(ta, tb, la);
    assert_non_null(strstr(ta, "(--no-ledger)"));
    free(ta); free(tb);
    unlink(a); unlink(b); rmdir(dir);
    free(a); free(b);
    ns_lang_free(L);
    ns_report_free(&r);
    ns_panel_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_page), cmocka_unit_test(test_lj_thinned),        cmocka_unit_test(test_chinese),   cmocka_unit_test(test_not_recorded),
        cmocka_unit_test(test_write_mode),  cmocka_unit_test(test_lang_keys), cmocka_unit_test(test_join_unique),
        cmocka_unit_test(test_indicators_load), cmocka_unit_test(test_indicators_section),
        cmocka_unit_test(test_write_wait), cmocka_unit_test(test_counts_many_rows),
        cmocka_unit_test(test_view_charts), cmocka_unit_test(test_pick_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
