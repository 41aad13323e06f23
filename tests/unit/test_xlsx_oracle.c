/* test_xlsx_oracle.c — table_xlsx.c writes the XML libxlsxwriter wrote for the same table.
 *
 * neoscreen wrote its lists with libxlsxwriter 1.1.4 until it got a writer of its own
 * (table_xlsx.c, 10x faster on a long list).  This test keeps libxlsxwriter as the oracle:
 * the way neoscreen used it is below (lxw_write, the former writer), and every XML part of
 * every workbook must come out the same byte for byte from both, for edge-case tables and
 * for random ones.  Only the ZIP container may differ (compression level).  The parts are
 * compared by tests/unit/xlsx_same_parts.py (Python's zipfile, an independent reader). */
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
#include <xlsxwriter.h>
#include "../../pipeline/table.h"
#include "../../pipeline/util.h"

/* ---- the oracle: libxlsxwriter driven as neoscreen drove it ---------------------------- */

static lxw_format *top_format(lxw_workbook *wb)
{
    lxw_format *f = workbook_add_format(wb);
    format_set_align(f, LXW_ALIGN_VERTICAL_TOP);
    return f;
}

static void lxw_write(const ns_table_t *t, const char *path, const char *sheet)
{
    lxw_workbook *wb = workbook_new(path);
    assert_non_null(wb);
    lxw_worksheet *ws = workbook_add_worksheet(wb, sheet);
    assert_non_null(ws);
    lxw_doc_properties props;
    memset(&props, 0, sizeof props);
    props.created = t->created;
    workbook_set_properties(wb, &props);
    lxw_format *hdr = top_format(wb), *txt = top_format(wb), *wrap = top_format(wb), *date = top_format(wb);
    lxw_format *num[NS_TABLE_MAX_DECIMALS + 2] = { 0 };
    format_set_bold(hdr);
    format_set_text_wrap(wrap);
    format_set_num_format(date, "yyyy-mm-dd");
    for (int c = 0; c < t->ncols; c++) {
        char *h = ns_table_cell_text(t, -1, c);
        int best = ns_display_width(h) + 1;
        for (int r = 0; r < t->nrows; r++) {
            if (ns_table_cell(t, r, c)->type == NS_TCELL_EMPTY) continue;
            char *s = ns_table_cell_text(t, r, c);
            if (ns_display_width(s) > best) best = ns_display_width(s);
            free(s);
        }
        best += 2;
        worksheet_set_column(ws, (lxw_col_t)c, (lxw_col_t)c,
                             best < 6 ? 6 : best > NS_TABLE_MAX_WIDTH ? NS_TABLE_MAX_WIDTH : best, NULL);
        worksheet_write_string(ws, 0, (lxw_col_t)c, h, hdr);
        free(h);
    }
    for (int r = 0; r < t->nrows; r++)
        for (int c = 0; c < t->ncols; c++) {
            const ns_cell_t *x = ns_table_cell(t, r, c);
            char *s = ns_table_cell_text(t, r, c);
            if (x->type == NS_TCELL_TEXT) {
                const int wraps = ns_display_width(s) + 2 > NS_TABLE_MAX_WIDTH || strchr(s, '\n');
                worksheet_write_string(ws, (lxw_row_t)r + 1, (lxw_col_t)c, s, wraps ? wrap : txt);
            } else if (x->type == NS_TCELL_NUMBER) {
                lxw_format **f = &num[x->decimals + 1];
                if (!*f) {
                    *f = top_format(wb);
                    if (x->decimals >= 0) {
                        char pat[32] = "0";
                        if (x->decimals > 0) snprintf(pat, sizeof pat, "0.%.*s", x->decimals, "000000000000000");
                        format_set_num_format(*f, pat);
                    }
                }
                worksheet_write_number(ws, (lxw_row_t)r + 1, (lxw_col_t)c, strtod(s, NULL), *f);
            } else if (x->type == NS_TCELL_DATE) {
                lxw_datetime dt = { 0 };
                assert_int_equal(sscanf(s, "%4d-%2d-%2d", &dt.year, &dt.month, &dt.day), 3);
                worksheet_write_datetime(ws, (lxw_row_t)r + 1, (lxw_col_t)c, &dt, date);
            }
            free(s);
        }
    worksheet_freeze_panes(ws, 1, 0);
    worksheet_autofilter(ws, 0, 0, (lxw_row_t)t->nrows, (lxw_col_t)(t->ncols - 1));
    assert_int_equal(workbook_close(wb), LXW_NO_ERROR);
}

/* ---- tables --------------------------------------------------------------------------- */

static const char *texts[] = {
    "a & b < c > d \"q\" 'x'", " leading", "trailing ", "\ttab", "line\nbreak", "cr\rhere", "x\r\n",
    "=1+2", "+86 138 0000", "-3", "@x", "张雨欣", "😀 emoji", "]]>", "plain", "two  spaces", "\n", " ",
    "a\tb", "x\r", "tab\t", "&amp;", "_x000D_", "Ω≈ç√", "1234", "Lakeview General Hospital", "MCAD;VLCAD",
    "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一",
};
static const double numbers[] = { 0, 1, -1, 0.1, 1e-7, 123456789012345678.0, 1e21, 3.14159, 2.5, -0.0001,
                                  0.45, 13.8, 1.0 / 3, 99999.5, 5e-324, 1.7976931348623157e308, 4060, -273.15 };
static const char *sheets[] = { "Sheet1", "召回名单", "recall list", "a'b c", "1abc", "Data_1.v2", "x&y\"z<>" };
#define N(a) (sizeof a / sizeof a[0])

static uint64_t rng = 88172645463325252ull;
static uint32_t next_u32(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

/* A random table: texts (some long enough to wrap, some repeated), numbers of every
 * decimals, dates from 1900-03-01 to 9999-12-31, empty cells, empty rows, empty headers. */
static ns_table_t *random_table(void)
{
    const int ncols = 1 + (int)(next_u32() % (next_u32() % 8 ? 24 : 60)), nrows = (int)(next_u32() % 120);
    const char **keys = calloc((size_t)ncols, sizeof *keys);
    char (*kb)[16] = calloc((size_t)ncols, sizeof *kb);
    for (int c = 0; c < ncols; c++) {
        snprintf(kb[c], sizeof kb[c], "col%d", c);
        keys[c] = kb[c];
    }
    ns_table_t *t = ns_table_new(ncols, keys, NULL);
    free(keys);
    free(kb);
    for (int c = 0; c < ncols; c++)
        if (next_u32() % 3 == 0) ns_table_set_header(t, c, next_u32() % 4 ? texts[next_u32() % N(texts)] : "");
    char longtext[400];
    for (int r = 0; r < nrows; r++) {
        const int row = ns_table_add_row(t);
        if (next_u32() % 10 == 0) continue;              /* an empty row */
        for (int c = 0; c < ncols; c++) {
            switch (next_u32() % 6) {
            case 0: break;                               /* empty */
            case 1:
                ns_table_set_number(t, row, c, numbers[next_u32() % N(numbers)] * (next_u32() % 3 ? 1 : 7.3),
                                    (int)(next_u32() % (NS_TABLE_MAX_DECIMALS + 2)) - 1);
                break;
            case 2: ns_table_set_date(t, row, c, -25508 + (long)(next_u32() % (2932896 + 25508 + 1))); break;
            case 3: {
                const int n = 1 + (int)(next_u32() % 200);
                for (int k = 0; k < n; k++) longtext[k] = (char)('a' + next_u32() % 26);
                longtext[n] = 0;
                ns_table_set_text(t, row, c, longtext);
                break;
            }
            default: ns_table_set_text(t, row, c, texts[next_u32() % N(texts)]);
            }
        }
    }
    if (next_u32() % 2) ns_table_set_created(t, (time_t)(next_u32() % 2000000000u));
    return t;
}

static ns_table_t *edge_table(void)
{
    const char *keys[] = { "k0", "k1", "k2" };
    const char *headers[] = { "=danger", " sp", "" };
    ns_table_t *t = ns_table_new(3, keys, headers);
    for (int r = 0; r < 40; r++) {
        const int row = ns_table_add_row(t);
        if (r == 3) continue;                       /* empty row */
        if (r >= 15 && r < 31) {                    /* a 16-row block with cells in one column */
            ns_table_set_text(t, row, 1, texts[r % N(texts)]);
            continue;
        }
        ns_table_set_text(t, row, 0, texts[r % N(texts)]);
        ns_table_set_number(t, row, 2, numbers[r % N(numbers)], r % 17 - 1);
    }
    return t;
}

static void test_same_parts(void **st)
{
    (void)st;
    char dir[] = "/tmp/ns_xlsx_oracle.XXXXXX", a[600], b[600], cmd[1400];
    assert_non_null(mkdtemp(dir));
    int n = 0;
    for (int k = 0; k < 60; k++, n++) {
        ns_table_t *t = k == 0 ? edge_table() : random_table();
        const char *sheet = sheets[k % N(sheets)];
        snprintf(a, sizeof a, "%s/%03d.lxw.xlsx", dir, k);
        snprintf(b, sizeof b, "%s/%03d.ns.xlsx", dir, k);
        lxw_write(t, a, sheet);
        assert_int_equal(ns_table_write_xlsx(t, b, 0600, sheet), 0);
        ns_table_free(t);
    }
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/tests/unit/xlsx_same_parts.py %s %d", NS_SRCDIR, dir, n);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_parts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
