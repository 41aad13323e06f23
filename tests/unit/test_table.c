/* test_table.c — the table model and its CSV and XLSX writers: typed cells and their
 * checks, the anti-formula apostrophe, display widths with CJK text, exact CSV bytes,
 * atomic writes (mode, no temporary left, the old file untouched on failure, no writing
 * through a link planted under the temporary name), byte-identical XLSX, and a read-back
 * of the XLSX with openpyxl against the CSV (tests/unit/xlsx_readback.py). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../../pipeline/atomic_file.h"
#include "../../pipeline/table.h"
#include "../../pipeline/util.h"

static const char *keys3[] = { "id", "name", "n" };

static char *mkdir_tmp(void)
{
    char *d = strdup("/tmp/ns_test_table_XXXXXX");
    assert_non_null(d);
    assert_non_null(mkdtemp(d));
    return d;
}

static void rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char p[1024];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

/* Entries of dir other than . and ..; *tmp_seen: whether a name holds ".tmp". */
static int count_entries(const char *dir, int *tmp_seen)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    int n = 0;
    *tmp_seen = 0;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        n++;
        if (strstr(e->d_name, ".tmp")) *tmp_seen = 1;
    }
    closedir(d);
    return n;
}

static char *slurp(const char *path, size_t *len)
{
    char *b;
    size_t n;
    assert_int_equal(ns_read_file(path, &b, &n), 0);
    if (len) *len = n;
    return b;
}

static int file_mode(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (int)(st.st_mode & 07777);
}

static void test_new_and_columns(void **st)
{
    (void)st;
    const char *dup[] = { "a", "b", "a" }, *empty[] = { "a", "" }, *nul[] = { "a", NULL };
    assert_null(ns_table_new(0, keys3, NULL));
    assert_null(ns_table_new(16385, keys3, NULL));
    assert_null(ns_table_new(3, dup, NULL));
    assert_null(ns_table_new(2, empty, NULL));
    assert_null(ns_table_new(2, nul, NULL));
    const char *badhdr[] = { "x", "\xff", "z" };
    assert_null(ns_table_new(3, keys3, badhdr));

    const char *hdr[] = { "编号", NULL, "数量" };
    ns_table_t *t = ns_table_new(3, keys3, hdr);
    assert_non_null(t);
    assert_int_equal(t->ncols, 3);
    assert_string_equal(t->headers[0], "编号");
    assert_string_equal(t->headers[1], "name");        /* NULL header: the key */
    assert_int_equal(ns_table_col(t, "n"), 2);
    assert_int_equal(ns_table_col(t, "nope"), -1);
    assert_int_equal(ns_table_set_header(t, 1, "姓名"), 0);
    assert_string_equal(t->headers[1], "姓名");
    assert_int_equal(ns_table_set_header(t, 3, "x"), -1);
    assert_int_equal(ns_table_set_header(t, 1, NULL), 0);
    assert_string_equal(t->headers[1], "name");
    assert_int_equal(t->nrows, 0);
    for (int i = 0; i < 40; i++) assert_int_equal(ns_table_add_row(t), i);   /* grows past 16 */
    assert_int_equal(t->nrows, 40);
    assert_int_equal(ns_table_cell(t, 39, 2)->type, NS_TCELL_EMPTY);
    assert_null(ns_table_cell(t, 40, 0));
    assert_null(ns_table_cell(t, 0, 3));
    assert_null(ns_table_cell(t, -1, 0));
    ns_table_free(t);
}

static void test_setters(void **st)
{
    (void)st;
    ns_table_t *t = ns_table_new(3, keys3, NULL);
    int r = ns_table_add_row(t);
    /* text: copied, "" and NULL are EMPTY, invalid UTF-8 and controls refused */
    char buf[8] = "abc";
    assert_int_equal(ns_table_set_text(t, r, 0, buf), 0);
    buf[0] = 'X';
    assert_string_equal(ns_table_cell(t, r, 0)->text, "abc");
    assert_int_equal(ns_table_cell(t, r, 0)->type, NS_TCELL_TEXT);
    const char *bad[] = { "\xff", "a\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "a\x01", "\x7f",
                          "\xc2\x85" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(ns_table_set_text(t, r, 0, bad[i]), -1);
        assert_string_equal(ns_table_cell(t, r, 0)->text, "abc");   /* left as it was */
    }
    assert_int_equal(ns_table_set_text(t, r, 0, "tab\tlf\ncr\r 中文 😀"), 0);
    assert_int_equal(ns_table_set_text(t, r, 0, ""), 0);
    assert_int_equal(ns_table_cell(t, r, 0)->type, NS_TCELL_EMPTY);
    assert_null(ns_table_cell(t, r, 0)->text);
    assert_int_equal(ns_table_set_text(t, r, 5, "x"), -1);
    assert_int_equal(ns_table_set_text(t, 1, 0, "x"), -1);

    /* numbers: NAN and infinities are EMPTY; decimals 0..15 or -1 */
    assert_int_equal(ns_table_set_number(t, r, 2, 2588.0, 0), 0);
    assert_int_equal(ns_table_cell(t, r, 2)->type, NS_TCELL_NUMBER);
    assert_true(ns_table_cell(t, r, 2)->num == 2588.0);
    assert_int_equal(ns_table_set_number(t, r, 2, 1.0, 16), -1);
    assert_int_equal(ns_table_set_number(t, r, 2, 1.0, -2), -1);
    assert_int_equal(ns_table_cell(t, r, 2)->type, NS_TCELL_NUMBER);
    assert_int_equal(ns_table_set_number(t, r, 2, NAN, 1), 0);
    assert_int_equal(ns_table_cell(t, r, 2)->type, NS_TCELL_EMPTY);
    assert_int_equal(ns_table_set_number(t, r, 2, INFINITY, 1), 0);
    assert_int_equal(ns_table_cell(t, r, 2)->type, NS_TCELL_EMPTY);

    /* dates: range, strict form, real days */
    assert_int_equal(ns_table_set_date(t, r, 1, 0), 0);
    assert_int_equal(ns_table_cell(t, r, 1)->type, NS_TCELL_DATE);
    assert_int_equal(ns_table_set_date(t, r, 1, -25508), 0);          /* 1900-03-01 */
    assert_int_equal(ns_table_set_date(t, r, 1, -25509), -1);
    assert_int_equal(ns_table_set_date(t, r, 1, 2932896), 0);         /* 9999-12-31 */
    assert_int_equal(ns_table_set_date(t, r, 1, 2932897), -1);
    assert_int_equal(ns_table_set_date_str(t, r, 1, "2024-02-29"), 0);
    assert_true(ns_table_cell(t, r, 1)->num == 19782.0);
    const char *bad_d[] = { "2025-02-29", "2026-02-30", "2026-2-01", "2026-02-01x", "2026/02/01", "26-02-01",
                            "2026-13-01", "2026-00-10", "1900-02-28", "2026-02-01T00:00", " 2026-02-01" };
    for (size_t i = 0; i < sizeof bad_d / sizeof bad_d[0]; i++)
        assert_int_equal(ns_table_set_date_str(t, r, 1, bad_d[i]), -1);
    assert_true(ns_table_cell(t, r, 1)->num == 19782.0);
    assert_int_equal(ns_table_set_date_str(t, r, 1, ""), 0);
    assert_int_equal(ns_table_cell(t, r, 1)->type, NS_TCELL_EMPTY);
    assert_int_equal(ns_table_set_date_str(t, r, 1, "1970-01-02"), 0);
    assert_true(ns_table_cell(t, r, 1)->num == 1.0);
    assert_int_equal(ns_table_set_empty(t, r, 1), 0);
    assert_int_equal(ns_table_cell(t, r, 1)->type, NS_TCELL_EMPTY);
    assert_int_equal(ns_table_set_empty(t, r, 3), -1);
    ns_table_free(t);
}

static void expect_text(const ns_table_t *t, int r, int c, const char *want)
{
    char *s = ns_table_cell_text(t, r, c);
    assert_non_null(s);
    assert_string_equal(s, want);
    free(s);
}

static void test_cell_text(void **st)
{
    (void)st;
    const char *hdr[] = { "=id", NULL, NULL };
    ns_table_t *t = ns_table_new(3, keys3, hdr);
    int r = ns_table_add_row(t);
    expect_text(t, -1, 0, "'=id");                     /* headers are neutralised too */
    expect_text(t, -1, 1, "name");
    expect_text(t, r, 0, "");
    ns_table_set_number(t, r, 0, 12.04, 1);
    expect_text(t, r, 0, "12.0");
    ns_table_set_number(t, r, 0, 5.2799, 2);
    expect_text(t, r, 0, "5.28");
    ns_table_set_number(t, r, 0, 2588, 0);
    expect_text(t, r, 0, "2588");
    ns_table_set_number(t, r, 0, 0.1, -1);
    expect_text(t, r, 0, "0.1");
    ns_table_set_number(t, r, 0, -0.0, 1);
    expect_text(t, r, 0, "0.0");                       /* never "-0.0" */
    ns_table_set_number(t, r, 0, -3.25, 2);
    expect_text(t, r, 0, "-3.25");                     /* numbers are not text: no apostrophe */
    ns_table_set_date(t, r, 0, 0);
    expect_text(t, r, 0, "1970-01-01");
    ns_table_set_date(t, r, 0, -25508);
    expect_text(t, r, 0, "1900-03-01");
    ns_table_set_date_str(t, r, 0, "2026-11-24");
    expect_text(t, r, 0, "2026-11-24");
    /* the OWASP set, and what is left alone */
    const char *risky[] = { "=1+1", "+86 138 0000 0000", "-2+3", "@SUM(A1)", "\tx", "\rx", "\n=1+1" };
    for (size_t i = 0; i < sizeof risky / sizeof risky[0]; i++) {
        assert_int_equal(ns_table_formula_risk(risky[i]), 1);
        ns_table_set_text(t, r, 1, risky[i]);
        char *want = ns_asprintf("'%s", risky[i]);
        expect_text(t, r, 1, want);
        free(want);
    }
    const char *safe[] = { "a=b", " =x", "'=x", "中=", "12", "" };
    for (size_t i = 0; i < sizeof safe / sizeof safe[0]; i++) assert_int_equal(ns_table_formula_risk(safe[i]), 0);
    assert_int_equal(ns_table_formula_risk(NULL), 0);
    ns_table_set_text(t, r, 1, "a=b");
    expect_text(t, r, 1, "a=b");
    assert_null(ns_table_cell_text(t, r, 3));
    assert_null(ns_table_cell_text(t, 1, 0));
    ns_table_free(t);
}

static void test_display_width(void **st)
{
    (void)st;
    assert_int_equal(ns_display_width(""), 0);
    assert_int_equal(ns_display_width("infant_id"), 9);
    assert_int_equal(ns_display_width("婴儿编号"), 8);                 /* CJK counts double */
    assert_int_equal(ns_display_width("昆明 Hospital"), 13);
    assert_int_equal(ns_display_width("（小时）"), 8);                 /* fullwidth forms */
    /* either side of the one-compare path for code points below U+0300 */
    assert_int_equal(ns_display_width("\x7f\xc2\x9f"), 0);            /* DEL, C1 control */
    assert_int_equal(ns_display_width("\xc2\xa0\xcb\xbf"), 2);        /* U+00A0, U+02FF */
    assert_int_equal(ns_display_width("e\xcc\x80"), 1);                /* e + combining U+0300 */
    assert_int_equal(ns_display_width("\xe1\x84\x80"), 2);            /* U+1100, wide */
    assert_int_equal(ns_display_width("한국"), 4);                     /* hangul */
    assert_int_equal(ns_display_width("e\xcc\x81"), 1);                /* e + combining acute */
    assert_int_equal(ns_display_width("µmol/L ≥"), 8);                /* narrow non-ASCII */
    assert_int_equal(ns_display_width("😀"), 2);
    assert_int_equal(ns_display_width("short\n一二三四五六\nab"), 12); /* widest line */
}

static void test_csv_bytes(void **st)
{
    (void)st;
    char *dir = mkdir_tmp(), path[512];
    snprintf(path, sizeof path, "%s/list.csv", dir);
    const char *keys[] = { "infant_id", "hospital", "phone", "age_h", "due_by", "note" };
    const char *hdr[] = { "婴儿编号", "医院", "联系电话", "age_h", "due_by", "备注" };
    ns_table_t *t = ns_table_new(6, keys, hdr);
    int r = ns_table_add_row(t);
    ns_table_set_text(t, r, 0, "I0001");
    ns_table_set_text(t, r, 1, "昆明市妇幼保健院");
    ns_table_set_text(t, r, 2, "+86 138 0000 0000");
    ns_table_set_number(t, r, 3, 12.04, 1);
    ns_table_set_date_str(t, r, 4, "2026-11-24");
    ns_table_set_text(t, r, 5, "=HYPERLINK(\"http://x\",\"a\")");
    r = ns_table_add_row(t);
    ns_table_set_text(t, r, 0, "I0002,\"q\"");
    ns_table_set_number(t, r, 3, -3.5, 1);             /* a number is never guarded */
    ns_table_set_text(t, r, 5, "line1\nline2");
    assert_int_equal(ns_table_write_csv(t, path, 0600, 1), 0);
    assert_string_equal(ns_table_error(), "");
    size_t len;
    char *b = slurp(path, &len);
    const char *want =
        "\xEF\xBB\xBF" "婴儿编号,医院,联系电话,age_h,due_by,备注\n"
        "I0001,昆明市妇幼保健院,'+86 138 0000 0000,12.0,2026-11-24,\"'=HYPERLINK(\"\"http://x\"\",\"\"a\"\")\"\n"
        "\"I0002,\"\"q\"\"\",,,-3.5,,\"line1\nline2\"\n";
    assert_int_equal(len, strlen(want));
    assert_string_equal(b, want);
    free(b);
    assert_int_equal(file_mode(path), 0600);

    /* without BOM, another mode; the old file is replaced whole */
    assert_int_equal(ns_table_write_csv(t, path, 0640, 0), 0);
    b = slurp(path, NULL);
    assert_memory_equal(b, "婴儿编号,", strlen("婴儿编号,"));
    free(b);
    assert_int_equal(file_mode(path), 0640);
    int tmp_seen;
    assert_int_equal(count_entries(dir, &tmp_seen), 1);
    assert_int_equal(tmp_seen, 0);

    /* failure: no such directory -> -1, errno, a message naming the file */
    char bad[600];
    snprintf(bad, sizeof bad, "%s/missing/list.csv", dir);
    errno = 0;
    assert_int_equal(ns_table_write_csv(t, bad, 0600, 1), -1);
    assert_int_equal(errno, ENOENT);
    assert_non_null(strstr(ns_table_error(), "missing/list.csv"));
    ns_table_free(t);
    rm_tree(dir);
    free(dir);
}

/* A table of every kind of cell, Chinese text, injection cells and a long text. */
static ns_table_t *sample_table(void)
{
    const char *keys[] = { "priority", "infant_id", "hospital", "mother_name", "contact_phone", "reasons",
                           "age_at_collection_h", "birth_weight_g", "fold", "due_by", "nicu" };
    const char *hdr[] = { "优先级", "婴儿编号", "医院", "母亲姓名", "联系电话", "原因",
                          "采血日龄（小时）", "出生体重（克）", "fold", "截止日期", "nicu" };
    ns_table_t *t = ns_table_new(11, keys, hdr);
    assert_non_null(t);
    int r = ns_table_add_row(t);
    ns_table_set_text(t, r, 0, "危急");
    ns_table_set_text(t, r, 1, "I-0001");
    ns_table_set_text(t, r, 2, "昆明市妇幼保健院");
    ns_table_set_text(t, r, 3, "张三");
    ns_table_set_text(t, r, 4, "+86 138 0000 0000");
    ns_table_set_text(t, r, 5, "MSUD Xle 2588 >= cutoff 490 (5.28x); caveat: birth weight missing (no "
                               "birth-weight stratum applied); 枫糖尿病 亮氨酸显著升高，需当天联系家长并转诊");
    ns_table_set_number(t, r, 6, 12.04, 1);
    ns_table_set_number(t, r, 7, 3150, 0);
    ns_table_set_number(t, r, 8, 5.2799, 2);
    ns_table_set_date_str(t, r, 9, "2026-11-24");
    ns_table_set_number(t, r, 10, 1, 0);
    r = ns_table_add_row(t);
    ns_table_set_text(t, r, 0, "常规");
    ns_table_set_text(t, r, 1, "I-0002");
    ns_table_set_text(t, r, 2, "=HYPERLINK(\"http://evil\",\"click\")");
    ns_table_set_text(t, r, 3, "@SUM(1+1)*cmd|' /C calc'!A0");
    ns_table_set_text(t, r, 4, "-1+2");
    ns_table_set_text(t, r, 5, "line one\nline two, with \"quotes\"");
    ns_table_set_number(t, r, 7, NAN, 0);        /* missing: empty cell */
    ns_table_set_number(t, r, 8, 0.1, -1);
    ns_table_set_date(t, r, 9, 0);
    r = ns_table_add_row(t);                      /* a row with only an ID */
    ns_table_set_text(t, r, 1, "I-0003");
    ns_table_set_text(t, r, 5, "\ttab first");
    return t;
}

static void test_xlsx_readback(void **st)
{
    (void)st;
    char *dir = mkdir_tmp(), csv[512], xlsx[512], cmd[2048];
    snprintf(csv, sizeof csv, "%s/recall.csv", dir);
    snprintf(xlsx, sizeof xlsx, "%s/recall.xlsx", dir);
    ns_table_t *t = sample_table();
    assert_int_equal(ns_table_write_csv(t, csv, 0600, 1), 0);
    assert_int_equal(ns_table_write_xlsx(t, xlsx, 0600, "召回名单"), 0);
    assert_string_equal(ns_table_error(), "");
    assert_int_equal(file_mode(xlsx), 0600);
    size_t len;
    char *b = slurp(xlsx, &len);
    assert_true(len > 1000);
    assert_memory_equal(b, "PK\x03\x04", 4);
    int tmp_seen;
    assert_int_equal(count_entries(dir, &tmp_seen), 2);   /* no temporary (ours or libxlsxwriter's) left */
    assert_int_equal(tmp_seen, 0);

    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/tests/unit/xlsx_readback.py '%s' '%s' '召回名单' 600",
             NS_SRCDIR, csv, xlsx);
    assert_int_equal(system(cmd), 0);

    /* the same table gives the same bytes (fixed "created" date, libxlsxwriter's fixed zip dates) */
    char xlsx2[512];
    snprintf(xlsx2, sizeof xlsx2, "%s/again.xlsx", dir);
    assert_int_equal(ns_table_write_xlsx(t, xlsx2, 0600, "召回名单"), 0);
    size_t len2;
    char *b2 = slurp(xlsx2, &len2);
    assert_int_equal(len, len2);
    assert_memory_equal(b, b2, len);
    free(b2);
    free(b);
    ns_table_free(t);
    rm_tree(dir);
    free(dir);
}

/* Column widths and wrapping, read back from the sheet's XML with openpyxl. */
static void test_xlsx_widths(void **st)
{
    (void)st;
    char *dir = mkdir_tmp(), xlsx[512], cmd[4096];
    snprintf(xlsx, sizeof xlsx, "%s/w.xlsx", dir);
    const char *keys[] = { "ascii", "cjk", "long", "num" };
    ns_table_t *t = ns_table_new(4, keys, NULL);
    int r = ns_table_add_row(t);
    ns_table_set_text(t, r, 0, "abcdefghij");                /* 10 wide */
    ns_table_set_text(t, r, 1, "一二三四五六七八九十");       /* 10 characters, 20 wide */
    char longtext[400];
    memset(longtext, 'x', 300);
    longtext[300] = 0;
    ns_table_set_text(t, r, 2, longtext);
    ns_table_set_number(t, r, 3, 3.14159, 3);
    r = ns_table_add_row(t);                                 /* a wider A, as written: */
    ns_table_set_text(t, r, 0, "-bcdefghijklmno");           /* '-bcdefghijklmno, 16 wide */
    ns_table_set_text(t, r, 1, "x");
    assert_int_equal(ns_table_write_xlsx(t, xlsx, 0644, NULL), 0);
    assert_int_equal(file_mode(xlsx), 0644);
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c '\n"
             "import openpyxl, sys\n"
             "ws = openpyxl.load_workbook(sys.argv[1]).active\n"
             "w = {k: v.width for k, v in ws.column_dimensions.items()}\n"
             "assert ws.title == \"Sheet1\", ws.title\n"
             "assert 18.2 <= w[\"A\"] <= 19, w\n"
             "assert 21.5 <= w[\"B\"] <= 23, w\n"
             "assert 79.5 <= w[\"C\"] <= 81, w\n"
             "assert ws[\"C2\"].alignment.wrap_text, \"long text does not wrap\"\n"
             "assert not ws[\"A2\"].alignment.wrap_text\n"
             "assert ws[\"D2\"].value == 3.142 and ws[\"D2\"].number_format == \"0.000\", ws[\"D2\"].value\n"
             "assert not ws[\"A3\"].alignment.wrap_text and not ws[\"B3\"].alignment.wrap_text\n"
             "assert ws.auto_filter.ref == \"A1:D3\", ws.auto_filter.ref\n"
             "' '%s'", xlsx);
    assert_int_equal(system(cmd), 0);
    ns_table_free(t);
    rm_tree(dir);
    free(dir);
}

static void test_xlsx_failures(void **st)
{
    (void)st;
    char *dir = mkdir_tmp(), xlsx[512], bad[600];
    snprintf(xlsx, sizeof xlsx, "%s/list.xlsx", dir);
    ns_table_t *t = sample_table();
    /* an existing list stays untouched when a new one cannot be written */
    FILE *fp = fopen(xlsx, "w");
    assert_non_null(fp);
    fputs("previous list", fp);
    fclose(fp);
    const char *bad_names[] = { "a[1]", "x:y", "'quoted'", "a name longer than thirty-one characters" };
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        assert_int_equal(ns_table_write_xlsx(t, xlsx, 0600, bad_names[i]), -1);
        assert_non_null(strstr(ns_table_error(), "sheet name"));
    }
    /* a text longer than an Excel cell holds */
    int r = ns_table_add_row(t);
    char *huge = malloc(NS_TABLE_MAX_CELL_CHARS + 2);
    memset(huge, 'y', NS_TABLE_MAX_CELL_CHARS + 1);
    huge[NS_TABLE_MAX_CELL_CHARS + 1] = 0;
    assert_int_equal(ns_table_set_text(t, r, 5, huge), 0);
    free(huge);
    assert_int_equal(ns_table_write_xlsx(t, xlsx, 0600, "s"), -1);
    assert_non_null(strstr(ns_table_error(), "longer than Excel"));
    assert_null(strstr(ns_table_error(), "yyyy"));       /* names the cell, not its contents */
    char *b = slurp(xlsx, NULL);
    assert_string_equal(b, "previous list");
    free(b);
    int tmp_seen;
    assert_int_equal(count_entries(dir, &tmp_seen), 1);
    assert_int_equal(tmp_seen, 0);
    /* a device is neither replaced by a file nor written into */
    struct stat dn;
    assert_int_equal(ns_table_write_xlsx(t, "/dev/null", 0600, "s"), -1);
    assert_non_null(strstr(ns_table_error(), "not a regular file"));
    assert_int_equal(stat("/dev/null", &dn), 0);
    assert_true(S_ISCHR(dn.st_mode));
    /* no such directory */
    snprintf(bad, sizeof bad, "%s/missing/list.xlsx", dir);
    errno = 0;
    assert_int_equal(ns_table_write_xlsx(t, bad, 0600, "s"), -1);
    assert_int_equal(errno, ENOENT);
    assert_non_null(strstr(ns_table_error(), "missing/list.xlsx"));
    ns_table_free(t);
    rm_tree(dir);
    free(dir);
}

/* A link planted under the predictable temporary name is not written through, and a link
 * at the final name is replaced, not followed. */
static void test_xlsx_links(void **st)
{
    (void)st;
    char *dir = mkdir_tmp(), xlsx[512], victim[512], victim2[512];
    snprintf(xlsx, sizeof xlsx, "%s/list.xlsx", dir);
    snprintf(victim, sizeof victim, "%s/victim", dir);
    snprintf(victim2, sizeof victim2, "%s/victim2", dir);
    FILE *fp = fopen(victim, "w");
    fputs("keep me", fp);
    fclose(fp);
    fp = fopen(victim2, "w");
    fputs("keep me too", fp);
    fclose(fp);
    char *tmp = ns_atomic_tmpname(xlsx);
    assert_int_equal(symlink(victim, tmp), 0);
    assert_int_equal(symlink(victim2, xlsx), 0);
    ns_table_t *t = sample_table();
    assert_int_equal(ns_table_write_xlsx(t, xlsx, 0600, "s"), 0);
    char *b = slurp(victim, NULL);
    assert_string_equal(b, "keep me");
    free(b);
    b = slurp(victim2, NULL);
    assert_string_equal(b, "keep me too");
    free(b);
    struct stat sb;
    assert_int_equal(lstat(xlsx, &sb), 0);
    assert_true(S_ISREG(sb.st_mode));
    assert_int_equal(lstat(tmp, &sb), -1);
    free(tmp);
    ns_table_free(t);
    rm_tree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_and_columns),
        cmocka_unit_test(test_setters),
        cmocka_unit_test(test_cell_text),
        cmocka_unit_test(test_display_width),
        cmocka_unit_test(test_csv_bytes),
        cmocka_unit_test(test_xlsx_readback),
        cmocka_unit_test(test_xlsx_widths),
        cmocka_unit_test(test_xlsx_failures),
        cmocka_unit_test(test_xlsx_links),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
