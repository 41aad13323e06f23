/* table_xlsx.c — ns_table_write_xlsx (table.h): the table as an XLSX workbook of one sheet.
 *
 * The workbook is the one libxlsxwriter 1.1.4 made from this table before: a bold header
 * row, frozen; an autofilter over the table; column widths from the widest text; wrapping
 * for long or multi-line text; one number format per count of decimals; dates shown as
 * yyyy-mm-dd.  Its XML parts are the same byte for byte (test_table compares every part
 * with libxlsxwriter's for the same table); only the ZIP container differs.
 *
 * Why not libxlsxwriter any more: it keeps every cell in a red-black tree and every string
 * in another, writes each piece of XML with fprintf and deflates at zlib level 6.  The 1M
 * night's recall list (27,743 rows, 20 columns) cost it 1.0 s of CPU, in the part of `run`
 * where both cores are busy.  Here the sheet is streamed: rows are deflated into the ZIP
 * member as they are written (zip_write.h), strings go into a hash table (the shared
 * strings, numbered in order of first use) and styles into a list (numbered in order of
 * first use, as libxlsxwriter numbers them).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "atomic_file.h"
#include "table_impl.h"
#include "util.h"
#include "xlsx_read.h"
#include "zip_write.h"

#define ZIP_LEVEL 1             /* the 1M night's sheet, 21.5 MB of XML: zlib level 1 0.07 s and
                                 * 3.1 MB, level 6 (libxlsxwriter's) 0.24 s and 2.4 MB */
#define FLUSH_AT ((size_t)1 << 18)   /* sheet XML gathered before it is deflated */
#define ROWS_MAX 1048576        /* Excel's rows per sheet */
#define EXCEL_1970 25569        /* Excel's day number of 1970-01-01 (1900 date system) */
#define XML_DECL "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
#define NS_MAIN "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
#define NS_DOC "http://schemas.openxmlformats.org/officeDocument/2006"
#define NS_PKG "http://schemas.openxmlformats.org/package/2006"

/* ---- growable text ------------------------------------------------------------------ */

typedef struct {
    char *p;
    size_t len, cap;
} sb_t;

static char *sb_room(sb_t *b, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 256;
        b->p = ns_realloc(b->p, b->cap);
    }
    return b->p + b->len;
}

static void sb_put(sb_t *b, const char *s, size_t n)
{
    memcpy(sb_room(b, n), s, n);
    b->len += n;
}

static void sb_str(sb_t *b, const char *s) { sb_put(b, s, strlen(s)); }

static void sb_uint(sb_t *b, uint64_t v)
{
    char t[20];
    int n = 0;
    do t[n++] = (char)('0' + v % 10); while (v /= 10);
    char *o = sb_room(b, (size_t)n);
    for (int i = 0; i < n; i++) o[i] = t[n - 1 - i];
    b->len += (size_t)n;
}

static void sb_printf(sb_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sb_t *b, const char *fmt, ...)
{
    va_list ap;
    /* formatted once into the room there is (64 bytes at least), again only if it did not fit */
    char *o = sb_room(b, 64);
    const size_t room = b->cap - b->len;
    va_start(ap, fmt);
    const int n = vsnprintf(o, room, fmt, ap);
    va_end(ap);
    if ((size_t)n >= room) {
        o = sb_room(b, (size_t)n + 1);
        va_start(ap, fmt);
        vsnprintf(o, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
}

/* How text is escaped (as libxlsxwriter escapes each kind): element text, & < > as
 * entities; an attribute, also "; a shared string, also every control character but TAB
 * and LF as _xHHHH_ (the only other one a table holds is CR). */
enum { ESC_TEXT, ESC_ATTR, ESC_SST };

static void sb_xml(sb_t *b, const char *s, size_t n, int how)
{
    char *o = sb_room(b, n * 7);              /* a byte becomes at most 7 ("_x000D_") */
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const unsigned char c = (unsigned char)s[i];
        if (c == '&') { memcpy(o + k, "&amp;", 5); k += 5; }
        else if (c == '<') { memcpy(o + k, "&lt;", 4); k += 4; }
        else if (c == '>') { memcpy(o + k, "&gt;", 4); k += 4; }
        else if (c == '"' && how == ESC_ATTR) { memcpy(o + k, "&quot;", 6); k += 6; }
        else if (c < 0x20 && c != '\t' && c != '\n' && how == ESC_SST) {
            static const char hex[] = "0123456789ABCDEF";
            memcpy(o + k, "_x00", 4);
            o[k + 4] = hex[c >> 4];
            o[k + 5] = hex[c & 15];
            o[k + 6] = '_';
            k += 7;
        } else {
            o[k++] = (char)c;
        }
    }
    b->len += k;
}

/* ---- shared strings: each distinct text once, numbered in order of first use --------- */

typedef struct {
    sb_t text;          /* the strings back to back */
    size_t *off;        /* string i is text.p + off[i], len[i] bytes */
    uint32_t *len, *hash;
    uint32_t n, cap;
    uint32_t *slot;     /* open addressing: string index + 1, 0 = free */
    uint32_t mask;
    uint64_t count;     /* string cells, repeats included */
} sst_t;

static uint32_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ n, w;
    for (; n >= 8; p += 8, n -= 8) {
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
        h ^= h >> 29;
    }
    w = 0;
    memcpy(&w, p, n);
    h = (h ^ w) * 0x94D049BB133111EBull;
    return (uint32_t)(h ^ h >> 32);
}

static void sst_rehash(sst_t *s)
{
    const uint32_t size = s->mask ? 2 * (s->mask + 1) : 1024;
    free(s->slot);
    s->slot = ns_calloc(size, sizeof *s->slot);
    s->mask = size - 1;
    for (uint32_t e = 0; e < s->n; e++) {
        uint32_t i = s->hash[e] & s->mask;
        while (s->slot[i]) i = (i + 1) & s->mask;
        s->slot[i] = e + 1;
    }
}

#define SST_MAX ((uint32_t)1 << 30)   /* distinct texts (the hash table's size stays a uint32_t) */

/* The number of the text, numbered on first use; SST_MAX if the table is full. */
static uint32_t sst_index(sst_t *s, const char *p, size_t n)
{
    if (s->n >= SST_MAX) return SST_MAX;
    s->count++;
    if (2 * ((uint64_t)s->n + 1) > (uint64_t)s->mask + 1) sst_rehash(s);
    const uint32_t h = hash_bytes(p, n);
    uint32_t i = h & s->mask;
    for (; s->slot[i]; i = (i + 1) & s->mask) {
        const uint32_t e = s->slot[i] - 1;
        if (s->hash[e] == h && s->len[e] == n && memcmp(s->text.p + s->off[e], p, n) == 0) return e;
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 1024;
        s->off = ns_realloc(s->off, s->cap * sizeof *s->off);
        s->len = ns_realloc(s->len, s->cap * sizeof *s->len);
        s->hash = ns_realloc(s->hash, s->cap * sizeof *s->hash);
    }
    const uint32_t e = s->n++;
    s->off[e] = s->text.len;
    s->len[e] = (uint32_t)n;
    s->hash[e] = h;
    sb_put(&s->text, p, n);
    s->slot[i] = e + 1;
    return e;
}

static void sst_free(sst_t *s)
{
    free(s->text.p);
    free(s->off);
    free(s->len);
    free(s->hash);
    free(s->slot);
}

/* ---- styles: numbered in order of first use ------------------------------------------ */

/* A cell's look.  Text and a number without fixed decimals look the same, so they share
 * one style (libxlsxwriter merged equal formats the same way). */
enum { XF_HEADER, XF_TEXT, XF_WRAP, XF_DATE, XF_NUM0 };     /* XF_NUM0 + d: d decimals */
#define XF_KINDS (XF_NUM0 + NS_TABLE_MAX_DECIMALS + 1)

typedef struct {
    int index[XF_KINDS];    /* style number in the file (1, 2, ...), 0 = not used yet */
    int kind[XF_KINDS];     /* style k - 1 is kind[k - 1] */
    int n;
} styles_t;

static int style(styles_t *x, int kind)
{
    if (!x->index[kind]) {
        x->kind[x->n++] = kind;
        x->index[kind] = x->n;
    }
    return x->index[kind];
}

/* ---- the sheet ---------------------------------------------------------------------- */

typedef struct {
    const ns_table_t *t;
    const char *path;
    ns_zip_t *zip;
    sb_t xml;               /* sheet XML not yet deflated */
    sb_t scratch;           /* one cell's text, with its apostrophe */
    sst_t sst;
    styles_t st;
    char (*col)[8];         /* column names, "A" ... */
    unsigned char *col_len;
    unsigned char *wrap;    /* nrows * ncols: this text cell wraps */
} sheet_t;

/* The cell's text as written (the apostrophe first when it could be read as a formula),
 * in w->scratch; returns its length. */
static size_t text_as_written(sheet_t *w, const char *s)
{
    const size_t n = strlen(s), a = ns_table_formula_risk(s) ? 1 : 0;
    w->scratch.len = 0;
    char *o = sb_room(&w->scratch, n + a + 1);
    o[0] = '\'';
    memcpy(o + a, s, n + 1);
    w->scratch.len = n + a;
    return n + a;
}

static long utf8_chars(const char *s, size_t n)
{
    long c = 0;
    for (size_t i = 0; i < n; i++) c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

/* Column widths (display width + 2, at least 6, capped) and the text cells that wrap:
 * wider than the cap, or more than one line. */
static void column_widths(sheet_t *w, double *width)
{
    const ns_table_t *t = w->t;
    char num[NS_TABLE_NUMBER_BUF];
    int *best = ns_malloc((size_t)t->ncols * sizeof *best);
    for (int c = 0; c < t->ncols; c++) {
        text_as_written(w, t->headers[c]);
        best[c] = ns_display_width(w->scratch.p) + 1;     /* bold is a little wider */
    }
    /* row by row, as the cells lie in memory */
    for (int r = 0; r < t->nrows; r++) {
        for (int c = 0; c < t->ncols; c++) {
            const ns_cell_t *x = &t->cells[(size_t)r * (size_t)t->ncols + (size_t)c];
            int dw;
            if (x->type == NS_TCELL_TEXT) {
                const char *s = x->text;
                if (ns_table_formula_risk(s)) {           /* as written, after the apostrophe */
                    text_as_written(w, s);
                    s = w->scratch.p;
                }
                dw = ns_display_width(s);
                if (dw + 2 > NS_TABLE_MAX_WIDTH || strchr(s, '\n'))
                    w->wrap[(size_t)r * (size_t)t->ncols + (size_t)c] = 1;
            } else if (x->type == NS_TCELL_NUMBER) {
                ns_table_number_text(x, num);
                dw = ns_display_width(num);
            } else if (x->type == NS_TCELL_DATE) {
                dw = 10;                                    /* YYYY-MM-DD */
            } else {
                continue;
            }
            if (dw > best[c]) best[c] = dw;
        }
    }
    for (int c = 0; c < t->ncols; c++) {
        int wd = best[c] + 2;
        if (wd < 6) wd = 6;
        if (wd > NS_TABLE_MAX_WIDTH) wd = NS_TABLE_MAX_WIDTH;
        width[c] = wd;
    }
    free(best);
}

/* "A1:T27744" (or "A1" for a single cell), with $ before each part if abs */
static void table_ref(sb_t *b, const sheet_t *w, int abs)
{
    const ns_table_t *t = w->t;
    const char *d = abs ? "$" : "";
    sb_printf(b, "%sA%s1", d, d);
    if (t->ncols > 1 || t->nrows > 0) sb_printf(b, ":%s%s%s%d", d, w->col[t->ncols - 1], d, t->nrows + 1);
}

static void flush_xml(sheet_t *w)
{
    ns_zip_write(w->zip, w->xml.p, w->xml.len);
    w->xml.len = 0;
}

/* Excel's column width for w characters (libxlsxwriter's conversion: whole pixels of the
 * default font's 7-pixel digits plus 5 of padding, in 1/256ths of a character) */
static double excel_width(double wd)
{
    const int px = wd < 1 ? (int)(wd * 12 + 0.5) : (int)(wd * 7 + 0.5) + 5;
    return (double)(int)((double)px / 7 * 256.0) / 256.0;
}

/* The first and last column with a cell in the header row (sheet row 0) or table row
 * r = row - 1; -1 if none. */
static void row_extent(const ns_table_t *t, int row, int *lo, int *hi)
{
    if (row == 0) { *lo = 0; *hi = t->ncols - 1; return; }
    const ns_cell_t *x = &t->cells[(size_t)(row - 1) * (size_t)t->ncols];
    *lo = *hi = -1;
    for (int c = 0; c < t->ncols; c++)
        if (x[c].type != NS_TCELL_EMPTY) {
            if (*lo < 0) *lo = c;
            *hi = c;
        }
}

/* How a cell's element goes on after its style: a shared string's number, a number, or
 * nothing (a blank cell with a style) */
#define AS_STRING "\" t=\"s\"><v>"
#define AS_NUMBER "\"><v>"
#define AS_BLANK "\"/>"

/* <c r="B7" s="3" and how */
static void cell_open(sheet_t *w, int c, int row, int s, const char *how)
{
    sb_put(&w->xml, "<c r=\"", 6);
    sb_put(&w->xml, w->col[c], w->col_len[c]);
    sb_uint(&w->xml, (uint64_t)row + 1);
    sb_put(&w->xml, "\" s=\"", 5);
    sb_uint(&w->xml, (uint64_t)s);
    sb_str(&w->xml, how);
}

static void cell_close(sheet_t *w) { sb_put(&w->xml, "</v></c>", 8); }

/* A number as libxlsxwriter writes one ("%.16G"): whole numbers below 1e15 directly */
static void put_number(sb_t *b, double v)
{
    if (v == floor(v) && fabs(v) < 1e15 && !(v == 0 && signbit(v))) {
        if (v < 0) sb_put(b, "-", 1);
        sb_uint(b, (uint64_t)fabs(v));
    } else {
        sb_printf(b, "%.16G", v);
    }
}

static int too_many_texts(const sheet_t *w)
{
    ns_table_seterr("%s: more than %u distinct texts", w->path, (unsigned)SST_MAX);
    return -1;
}

/* Write the header row and every row into the sheet member; -1 (message set) if a text is
 * longer than a cell holds, or there are too many distinct texts. */
static int write_rows(sheet_t *w)
{
    const ns_table_t *t = w->t;
    char num[NS_TABLE_NUMBER_BUF];
    int lo16 = 0, hi16 = 0;                 /* the spans of the 16-row block */
    for (int row = 0; row <= t->nrows; row++) {
        if (row % 16 == 0) {
            lo16 = t->ncols;
            hi16 = -1;
            for (int k = row; k < row + 16 && k <= t->nrows; k++) {
                int lo, hi;
                row_extent(t, k, &lo, &hi);
                if (hi >= 0 && lo < lo16) lo16 = lo;
                if (hi > hi16) hi16 = hi;
            }
        }
        int lo, hi;
        row_extent(t, row, &lo, &hi);
        if (hi < 0) continue;               /* no cell: no row element */
        sb_put(&w->xml, "<row r=\"", 8);
        sb_uint(&w->xml, (uint64_t)row + 1);
        sb_put(&w->xml, "\" spans=\"", 9);
        sb_uint(&w->xml, (uint64_t)lo16 + 1);
        sb_put(&w->xml, ":", 1);
        sb_uint(&w->xml, (uint64_t)hi16 + 1);
        sb_put(&w->xml, "\">", 2);
        for (int c = lo; c <= hi; c++) {
            if (row == 0) {                 /* the header: bold, text (an empty one: a blank cell) */
                const int s = style(&w->st, XF_HEADER);
                const size_t n = text_as_written(w, t->headers[c]);
                if (utf8_chars(w->scratch.p, n) > NS_TABLE_MAX_CELL_CHARS) {
                    ns_table_seterr("%s: header of column %s is longer than Excel's %d characters", w->path,
                                    t->keys[c], NS_TABLE_MAX_CELL_CHARS);
                    return -1;
                }
                if (n == 0) {
                    cell_open(w, c, row, s, AS_BLANK);
                    continue;
                }
                const uint32_t k = sst_index(&w->sst, w->scratch.p, n);
                if (k == SST_MAX) return too_many_texts(w);
                cell_open(w, c, row, s, AS_STRING);
                sb_uint(&w->xml, k);
                cell_close(w);
                continue;
            }
            const ns_cell_t *x = &t->cells[(size_t)(row - 1) * (size_t)t->ncols + (size_t)c];
            if (x->type == NS_TCELL_TEXT) {
                const size_t n = text_as_written(w, x->text);
                if (utf8_chars(w->scratch.p, n) > NS_TABLE_MAX_CELL_CHARS) {
                    ns_table_seterr("%s: row %d, column %s: text longer than Excel's %d characters", w->path, row,
                                    t->keys[c], NS_TABLE_MAX_CELL_CHARS);
                    return -1;
                }
                const int wrap = w->wrap[(size_t)(row - 1) * (size_t)t->ncols + (size_t)c];
                const uint32_t k = sst_index(&w->sst, w->scratch.p, n);
                if (k == SST_MAX) return too_many_texts(w);
                cell_open(w, c, row, style(&w->st, wrap ? XF_WRAP : XF_TEXT), AS_STRING);
                sb_uint(&w->xml, k);
            } else if (x->type == NS_TCELL_NUMBER) {
                /* the value the CSV shows, so both files hold the same number */
                ns_table_number_text(x, num);
                cell_open(w, c, row, style(&w->st, x->decimals < 0 ? XF_TEXT : XF_NUM0 + x->decimals), AS_NUMBER);
                put_number(&w->xml, strtod(num, NULL));
            } else if (x->type == NS_TCELL_DATE) {
                cell_open(w, c, row, style(&w->st, XF_DATE), AS_NUMBER);
                sb_uint(&w->xml, (uint64_t)((long)x->num + EXCEL_1970));
            } else {
                continue;                   /* EMPTY: nothing in the sheet */
            }
            cell_close(w);
        }
        sb_put(&w->xml, "</row>", 6);
        if (w->xml.len >= FLUSH_AT) flush_xml(w);
    }
    return 0;
}

/* ---- the other parts ----------------------------------------------------------------- */

/* the default Office theme, as libxlsxwriter writes it */
/* (in pieces: C compilers need only take string literals of 4095 bytes) */
static const char *const theme_xml[] = {
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<a:theme xmlns:a=\"http://sch",
    "emas.openxmlformats.org/drawingml/2006/main\" name=\"Office Theme\"><a:themeElements><a:clrS",
    "cheme name=\"Office\"><a:dk1><a:sysClr val=\"windowText\" lastClr=\"000000\"/></a:dk1><a:lt1",
    "><a:sysClr val=\"window\" lastClr=\"FFFFFF\"/></a:lt1><a:dk2><a:srgbClr val=\"1F497D\"/></a:",
    "dk2><a:lt2><a:srgbClr val=\"EEECE1\"/></a:lt2><a:accent1><a:srgbClr val=\"4F81BD\"/></a:acce",
    "nt1><a:accent2><a:srgbClr val=\"C0504D\"/></a:accent2><a:accent3><a:srgbClr val=\"9BBB59\"/>",
    "</a:accent3><a:accent4><a:srgbClr val=\"8064A2\"/></a:accent4><a:accent5><a:srgbClr val=\"4B",
    "ACC6\"/></a:accent5><a:accent6><a:srgbClr val=\"F79646\"/></a:accent6><a:hlink><a:srgbClr va",
    "l=\"0000FF\"/></a:hlink><a:folHlink><a:srgbClr val=\"800080\"/></a:folHlink></a:clrScheme><a",
    ":fontScheme name=\"Office\"><a:majorFont><a:latin typeface=\"Cambria\"/><a:ea typeface=\"\"/",
    "><a:cs typeface=\"\"/><a:font script=\"Jpan\" typeface=\"ＭＳ Ｐゴシック\"/><a:font script=\"Hang\"",
    " typeface=\"맑은 고딕\"/><a:font script=\"Hans\" typeface=\"宋体\"/><a:font script=\"Hant\" typefa",
    "ce=\"新細明體\"/><a:font script=\"Arab\" typeface=\"Times New Roman\"/><a:font script=\"Hebr\" t",
    "ypeface=\"Times New Roman\"/><a:font script=\"Thai\" typeface=\"Tahoma\"/><a:font script=\"E",
    "thi\" typeface=\"Nyala\"/><a:font script=\"Beng\" typeface=\"Vrinda\"/><a:font script=\"Gujr",
    "\" typeface=\"Shruti\"/><a:font script=\"Khmr\" typeface=\"MoolBoran\"/><a:font script=\"Knd",
    "a\" typeface=\"Tunga\"/><a:font script=\"Guru\" typeface=\"Raavi\"/><a:font script=\"Cans\" ",
    "typeface=\"Euphemia\"/><a:font script=\"Cher\" typeface=\"Plantagenet Cherokee\"/><a:font sc",
    "ript=\"Yiii\" typeface=\"Microsoft Yi Baiti\"/><a:font script=\"Tibt\" typeface=\"Microsoft ",
    "Himalaya\"/><a:font script=\"Thaa\" typeface=\"MV Boli\"/><a:font script=\"Deva\" typeface=",
    "\"Mangal\"/><a:font script=\"Telu\" typeface=\"Gautami\"/><a:font script=\"Taml\" typeface=",
    "\"Latha\"/><a:font script=\"Syrc\" typeface=\"Estrangelo Edessa\"/><a:font script=\"Orya\" t",
    "ypeface=\"Kalinga\"/><a:font script=\"Mlym\" typeface=\"Kartika\"/><a:font script=\"Laoo\" t",
    "ypeface=\"DokChampa\"/><a:font script=\"Sinh\" typeface=\"Iskoola Pota\"/><a:font script=\"M",
    "ong\" typeface=\"Mongolian Baiti\"/><a:font script=\"Viet\" typeface=\"Times New Roman\"/><a",
    ":font script=\"Uigh\" typeface=\"Microsoft Uighur\"/></a:majorFont><a:minorFont><a:latin typ",
    "eface=\"Calibri\"/><a:ea typeface=\"\"/><a:cs typeface=\"\"/><a:font script=\"Jpan\" typefac",
    "e=\"ＭＳ Ｐゴシック\"/><a:font script=\"Hang\" typeface=\"맑은 고딕\"/><a:font script=\"Hans\" typeface",
    "=\"宋体\"/><a:font script=\"Hant\" typeface=\"新細明體\"/><a:font script=\"Arab\" typeface=\"Arial",
    "\"/><a:font script=\"Hebr\" typeface=\"Arial\"/><a:font script=\"Thai\" typeface=\"Tahoma\"/",
    "><a:font script=\"Ethi\" typeface=\"Nyala\"/><a:font script=\"Beng\" typeface=\"Vrinda\"/><a",
    ":font script=\"Gujr\" typeface=\"Shruti\"/><a:font script=\"Khmr\" typeface=\"DaunPenh\"/><a",
    ":font script=\"Knda\" typeface=\"Tunga\"/><a:font script=\"Guru\" typeface=\"Raavi\"/><a:fon",
    "t script=\"Cans\" typeface=\"Euphemia\"/><a:font script=\"Cher\" typeface=\"Plantagenet Cher",
    "okee\"/><a:font script=\"Yiii\" typeface=\"Microsoft Yi Baiti\"/><a:font script=\"Tibt\" typ",
    "eface=\"Microsoft Himalaya\"/><a:font script=\"Thaa\" typeface=\"MV Boli\"/><a:font script=",
    "\"Deva\" typeface=\"Mangal\"/><a:font script=\"Telu\" typeface=\"Gautami\"/><a:font script=",
    "\"Taml\" typeface=\"Latha\"/><a:font script=\"Syrc\" typeface=\"Estrangelo Edessa\"/><a:font",
    " script=\"Orya\" typeface=\"Kalinga\"/><a:font script=\"Mlym\" typeface=\"Kartika\"/><a:font",
    " script=\"Laoo\" typeface=\"DokChampa\"/><a:font script=\"Sinh\" typeface=\"Iskoola Pota\"/>",
    "<a:font script=\"Mong\" typeface=\"Mongolian Baiti\"/><a:font script=\"Viet\" typeface=\"Ari",
    "al\"/><a:font script=\"Uigh\" typeface=\"Microsoft Uighur\"/></a:minorFont></a:fontScheme><a",
    ":fmtScheme name=\"Office\"><a:fillStyleLst><a:solidFill><a:schemeClr val=\"phClr\"/></a:soli",
    "dFill><a:gradFill rotWithShape=\"1\"><a:gsLst><a:gs pos=\"0\"><a:schemeClr val=\"phClr\"><a:",
    "tint val=\"50000\"/><a:satMod val=\"300000\"/></a:schemeClr></a:gs><a:gs pos=\"35000\"><a:sc",
    "hemeClr val=\"phClr\"><a:tint val=\"37000\"/><a:satMod val=\"300000\"/></a:schemeClr></a:gs>",
    "<a:gs pos=\"100000\"><a:schemeClr val=\"phClr\"><a:tint val=\"15000\"/><a:satMod val=\"35000",
    "0\"/></a:schemeClr></a:gs></a:gsLst><a:lin ang=\"16200000\" scaled=\"1\"/></a:gradFill><a:gr",
    "adFill rotWithShape=\"1\"><a:gsLst><a:gs pos=\"0\"><a:schemeClr val=\"phClr\"><a:shade val=",
    "\"51000\"/><a:satMod val=\"130000\"/></a:schemeClr></a:gs><a:gs pos=\"80000\"><a:schemeClr v",
    "al=\"phClr\"><a:shade val=\"93000\"/><a:satMod val=\"130000\"/></a:schemeClr></a:gs><a:gs po",
    "s=\"100000\"><a:schemeClr val=\"phClr\"><a:shade val=\"94000\"/><a:satMod val=\"135000\"/></",
    "a:schemeClr></a:gs></a:gsLst><a:lin ang=\"16200000\" scaled=\"0\"/></a:gradFill></a:fillStyl",
    "eLst><a:lnStyleLst><a:ln w=\"9525\" cap=\"flat\" cmpd=\"sng\" algn=\"ctr\"><a:solidFill><a:s",
    "chemeClr val=\"phClr\"><a:shade val=\"95000\"/><a:satMod val=\"105000\"/></a:schemeClr></a:s",
    "olidFill><a:prstDash val=\"solid\"/></a:ln><a:ln w=\"25400\" cap=\"flat\" cmpd=\"sng\" algn=",
    "\"ctr\"><a:solidFill><a:schemeClr val=\"phClr\"/></a:solidFill><a:prstDash val=\"solid\"/></",
    "a:ln><a:ln w=\"38100\" cap=\"flat\" cmpd=\"sng\" algn=\"ctr\"><a:solidFill><a:schemeClr val=",
    "\"phClr\"/></a:solidFill><a:prstDash val=\"solid\"/></a:ln></a:lnStyleLst><a:effectStyleLst>",
    "<a:effectStyle><a:effectLst><a:outerShdw blurRad=\"40000\" dist=\"20000\" dir=\"5400000\" ro",
    "tWithShape=\"0\"><a:srgbClr val=\"000000\"><a:alpha val=\"38000\"/></a:srgbClr></a:outerShdw",
    "></a:effectLst></a:effectStyle><a:effectStyle><a:effectLst><a:outerShdw blurRad=\"40000\" di",
    "st=\"23000\" dir=\"5400000\" rotWithShape=\"0\"><a:srgbClr val=\"000000\"><a:alpha val=\"350",
    "00\"/></a:srgbClr></a:outerShdw></a:effectLst></a:effectStyle><a:effectStyle><a:effectLst><a",
    ":outerShdw blurRad=\"40000\" dist=\"23000\" dir=\"5400000\" rotWithShape=\"0\"><a:srgbClr va",
    "l=\"000000\"><a:alpha val=\"35000\"/></a:srgbClr></a:outerShdw></a:effectLst><a:scene3d><a:c",
    "amera prst=\"orthographicFront\"><a:rot lat=\"0\" lon=\"0\" rev=\"0\"/></a:camera><a:lightRi",
    "g rig=\"threePt\" dir=\"t\"><a:rot lat=\"0\" lon=\"0\" rev=\"1200000\"/></a:lightRig></a:sce",
    "ne3d><a:sp3d><a:bevelT w=\"63500\" h=\"25400\"/></a:sp3d></a:effectStyle></a:effectStyleLst>",
    "<a:bgFillStyleLst><a:solidFill><a:schemeClr val=\"phClr\"/></a:solidFill><a:gradFill rotWith",
    "Shape=\"1\"><a:gsLst><a:gs pos=\"0\"><a:schemeClr val=\"phClr\"><a:tint val=\"40000\"/><a:sa",
    "tMod val=\"350000\"/></a:schemeClr></a:gs><a:gs pos=\"40000\"><a:schemeClr val=\"phClr\"><a:",
    "tint val=\"45000\"/><a:shade val=\"99000\"/><a:satMod val=\"350000\"/></a:schemeClr></a:gs><",
    "a:gs pos=\"100000\"><a:schemeClr val=\"phClr\"><a:shade val=\"20000\"/><a:satMod val=\"25500",
    "0\"/></a:schemeClr></a:gs></a:gsLst><a:path path=\"circle\"><a:fillToRect l=\"50000\" t=\"-8",
    "0000\" r=\"50000\" b=\"180000\"/></a:path></a:gradFill><a:gradFill rotWithShape=\"1\"><a:gsL",
    "st><a:gs pos=\"0\"><a:schemeClr val=\"phClr\"><a:tint val=\"80000\"/><a:satMod val=\"300000",
    "\"/></a:schemeClr></a:gs><a:gs pos=\"100000\"><a:schemeClr val=\"phClr\"><a:shade val=\"3000",
    "0\"/><a:satMod val=\"200000\"/></a:schemeClr></a:gs></a:gsLst><a:path path=\"circle\"><a:fil",
    "lToRect l=\"50000\" t=\"50000\" r=\"50000\" b=\"50000\"/></a:path></a:gradFill></a:bgFillSty",
    "leLst></a:fmtScheme></a:themeElements><a:objectDefaults/><a:extraClrSchemeLst/></a:theme>\n",
    NULL
};

static void styles_xml(sb_t *b, const styles_t *x)
{
    static const char *const dec = "0.000000000000000";
    int nfmt = 0;
    for (int k = 0; k < x->n; k++) nfmt += x->kind[k] >= XF_DATE;
    sb_str(b, XML_DECL "<styleSheet xmlns=\"" NS_MAIN "\">");
    if (nfmt) {
        sb_printf(b, "<numFmts count=\"%d\">", nfmt);
        for (int k = 0, id = 164; k < x->n; k++) {
            const int kind = x->kind[k];
            if (kind == XF_DATE) sb_printf(b, "<numFmt numFmtId=\"%d\" formatCode=\"yyyy-mm-dd\"/>", id++);
            else if (kind >= XF_NUM0) {
                const int d = kind - XF_NUM0;          /* "0", "0.0", "0.00", ... */
                sb_printf(b, "<numFmt numFmtId=\"%d\" formatCode=\"%.*s\"/>", id++, d ? d + 2 : 1, dec);
            }
        }
        sb_str(b, "</numFmts>");
    }
    sb_str(b, "<fonts count=\"2\"><font><sz val=\"11\"/><color theme=\"1\"/><name val=\"Calibri\"/>"
              "<family val=\"2\"/><scheme val=\"minor\"/></font><font><b/><sz val=\"11\"/><color theme=\"1\"/>"
              "<name val=\"Calibri\"/><family val=\"2\"/><scheme val=\"minor\"/></font></fonts>"
              "<fills count=\"2\"><fill><patternFill patternType=\"none\"/></fill><fill><patternFill "
              "patternType=\"gray125\"/></fill></fills><borders count=\"1\"><border><left/><right/><top/>"
              "<bottom/><diagonal/></border></borders><cellStyleXfs count=\"1\"><xf numFmtId=\"0\" "
              "fontId=\"0\" fillId=\"0\" borderId=\"0\"/></cellStyleXfs>");
    sb_printf(b, "<cellXfs count=\"%d\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\"/>",
              x->n + 1);
    for (int k = 0, id = 164; k < x->n; k++) {
        const int kind = x->kind[k];
        if (kind == XF_HEADER)
            sb_str(b, "<xf numFmtId=\"0\" fontId=\"1\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyFont=\"1\" "
                      "applyAlignment=\"1\"><alignment vertical=\"top\"/></xf>");
        else if (kind == XF_TEXT || kind == XF_WRAP)
            sb_printf(b, "<xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\" "
                         "applyAlignment=\"1\"><alignment vertical=\"top\"%s/></xf>",
                      kind == XF_WRAP ? " wrapText=\"1\"" : "");
        else
            sb_printf(b, "<xf numFmtId=\"%d\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\" "
                         "applyNumberFormat=\"1\" applyAlignment=\"1\"><alignment vertical=\"top\"/></xf>", id++);
    }
    sb_str(b, "</cellXfs><cellStyles count=\"1\"><cellStyle name=\"Normal\" xfId=\"0\" builtinId=\"0\"/>"
              "</cellStyles><dxfs count=\"0\"/><tableStyles count=\"0\" defaultTableStyle=\"TableStyleMedium9\" "
              "defaultPivotStyle=\"PivotStyleLight16\"/></styleSheet>");
}

/* xl/sharedStrings.xml, deflated as it is written */
static void sst_xml(sb_t *b, const sst_t *s, ns_zip_t *z)
{
    ns_zip_begin(z, "xl/sharedStrings.xml");
    sb_printf(b, XML_DECL "<sst xmlns=\"" NS_MAIN "\" count=\"%llu\" uniqueCount=\"%u\">",
              (unsigned long long)s->count, s->n);
    for (uint32_t e = 0; e < s->n; e++) {
        const char *p = s->text.p + s->off[e];
        const size_t n = s->len[e];
        /* leading or trailing blank kept (CR is written _x000D_, so it is no blank) */
        const int keep = n && (strchr(" \t\n", p[0]) || strchr(" \t\n", p[n - 1]));
        sb_str(b, keep ? "<si><t xml:space=\"preserve\">" : "<si><t>");
        sb_xml(b, p, n, ESC_SST);
        sb_str(b, "</t></si>");
        if (b->len >= FLUSH_AT) {
            ns_zip_write(z, b->p, b->len);
            b->len = 0;
        }
    }
    sb_str(b, "</sst>");
    ns_zip_write(z, b->p, b->len);
    b->len = 0;
}

/* The sheet's name in a formula: quoted ('...', with ' doubled) unless it is all letters,
 * digits, _ and . (libxlsxwriter's rule) */
static void quoted_sheet(sb_t *b, const char *sheet)
{
    int plain = 1;
    for (const char *p = sheet; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'
              || *p == '.'))
            plain = 0;
    if (plain) { sb_xml(b, sheet, strlen(sheet), ESC_TEXT); return; }
    sb_put(b, "'", 1);
    for (const char *p = sheet; *p; p++) {
        if (*p == '\'') sb_put(b, "''", 2);
        else sb_xml(b, p, 1, ESC_TEXT);
    }
    sb_put(b, "'", 1);
}

/* Every part but the sheet and the shared strings, in libxlsxwriter's order around them. */
static void add_part(ns_zip_t *z, sb_t *b, const char *name)
{
    ns_zip_add(z, name, b->p, b->len);
    b->len = 0;
}

static void parts_before(sheet_t *w, sb_t *b, int with_sst)
{
    sb_str(b, XML_DECL "<Types xmlns=\"" NS_PKG "/content-types\"><Default Extension=\"rels\" "
              "ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/><Default "
              "Extension=\"xml\" ContentType=\"application/xml\"/><Override PartName=\"/docProps/app.xml\" "
              "ContentType=\"application/vnd.openxmlformats-officedocument.extended-properties+xml\"/>"
              "<Override PartName=\"/docProps/core.xml\" ContentType=\"application/vnd.openxmlformats-"
              "package.core-properties+xml\"/><Override PartName=\"/xl/styles.xml\" ContentType=\"application/"
              "vnd.openxmlformats-officedocument.spreadsheetml.styles+xml\"/><Override PartName=\"/xl/theme/"
              "theme1.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.theme+xml\"/>"
              "<Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-"
              "officedocument.spreadsheetml.sheet.main+xml\"/><Override PartName=\"/xl/worksheets/sheet1.xml\" "
              "ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>");
    if (with_sst)
        sb_str(b, "<Override PartName=\"/xl/sharedStrings.xml\" ContentType=\"application/vnd.openxmlformats-"
                  "officedocument.spreadsheetml.sharedStrings+xml\"/>");
    sb_str(b, "</Types>");
    add_part(w->zip, b, "[Content_Types].xml");
    sb_str(b, XML_DECL "<Relationships xmlns=\"" NS_PKG "/relationships\"><Relationship Id=\"rId1\" Type=\""
              NS_DOC "/relationships/officeDocument\" Target=\"xl/workbook.xml\"/><Relationship Id=\"rId2\" "
              "Type=\"" NS_PKG "/relationships/metadata/core-properties\" Target=\"docProps/core.xml\"/>"
              "<Relationship Id=\"rId3\" Type=\"" NS_DOC "/relationships/extended-properties\" "
              "Target=\"docProps/app.xml\"/></Relationships>");
    add_part(w->zip, b, "_rels/.rels");
    sb_str(b, XML_DECL "<Relationships xmlns=\"" NS_PKG "/relationships\"><Relationship Id=\"rId1\" Type=\""
              NS_DOC "/relationships/worksheet\" Target=\"worksheets/sheet1.xml\"/><Relationship Id=\"rId2\" "
              "Type=\"" NS_DOC "/relationships/theme\" Target=\"theme/theme1.xml\"/><Relationship Id=\"rId3\" "
              "Type=\"" NS_DOC "/relationships/styles\" Target=\"styles.xml\"/>");
    if (with_sst)
        sb_str(b, "<Relationship Id=\"rId4\" Type=\"" NS_DOC "/relationships/sharedStrings\" "
                  "Target=\"sharedStrings.xml\"/>");
    sb_str(b, "</Relationships>");
    add_part(w->zip, b, "xl/_rels/workbook.xml.rels");
}

static void parts_after(sheet_t *w, sb_t *b, const char *sheet)
{
    sb_str(b, XML_DECL "<workbook xmlns=\"" NS_MAIN "\" xmlns:r=\"" NS_DOC "/relationships\"><fileVersion "
              "appName=\"xl\" lastEdited=\"4\" lowestEdited=\"4\" rupBuild=\"4505\"/><workbookPr "
              "defaultThemeVersion=\"124226\"/><bookViews><workbookView xWindow=\"240\" yWindow=\"15\" "
              "windowWidth=\"16095\" windowHeight=\"9660\"/></bookViews><sheets><sheet name=\"");
    sb_xml(b, sheet, strlen(sheet), ESC_ATTR);
    sb_str(b, "\" sheetId=\"1\" r:id=\"rId1\"/></sheets><definedNames><definedName "
              "name=\"_xlnm._FilterDatabase\" localSheetId=\"0\" hidden=\"1\">");
    quoted_sheet(b, sheet);
    sb_put(b, "!", 1);
    table_ref(b, w, 1);
    sb_str(b, "</definedName></definedNames><calcPr calcId=\"124519\" fullCalcOnLoad=\"1\"/></workbook>");
    add_part(w->zip, b, "xl/workbook.xml");
    if (w->sst.count) sst_xml(b, &w->sst, w->zip);
    ns_zip_begin(w->zip, "xl/theme/theme1.xml");
    for (const char *const *p = theme_xml; *p; p++) ns_zip_write(w->zip, *p, strlen(*p));
    styles_xml(b, &w->st);
    add_part(w->zip, b, "xl/styles.xml");
    char when[32];
    struct tm tm;
    const time_t created = w->t->created;
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&created, &tm));
    sb_printf(b, XML_DECL "<cp:coreProperties xmlns:cp=\"" NS_PKG "/metadata/core-properties\" "
                 "xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:dcterms=\"http://purl.org/dc/terms/\" "
                 "xmlns:dcmitype=\"http://purl.org/dc/dcmitype/\" xmlns:xsi=\"http://www.w3.org/2001/"
                 "XMLSchema-instance\"><dc:creator></dc:creator><cp:lastModifiedBy></cp:lastModifiedBy>"
                 "<dcterms:created xsi:type=\"dcterms:W3CDTF\">%s</dcterms:created><dcterms:modified "
                 "xsi:type=\"dcterms:W3CDTF\">%s</dcterms:modified></cp:coreProperties>", when, when);
    add_part(w->zip, b, "docProps/core.xml");
    sb_str(b, XML_DECL "<Properties xmlns=\"" NS_DOC "/extended-properties\" xmlns:vt=\"" NS_DOC
              "/docPropsVTypes\"><Application>Microsoft Excel</Application><DocSecurity>0</DocSecurity>"
              "<ScaleCrop>false</ScaleCrop><HeadingPairs><vt:vector size=\"2\" baseType=\"variant\"><vt:variant>"
              "<vt:lpstr>Worksheets</vt:lpstr></vt:variant><vt:variant><vt:i4>1</vt:i4></vt:variant></vt:vector>"
              "</HeadingPairs><TitlesOfParts><vt:vector size=\"1\" baseType=\"lpstr\"><vt:lpstr>");
    sb_xml(b, sheet, strlen(sheet), ESC_TEXT);
    sb_str(b, "</vt:lpstr></vt:vector></TitlesOfParts><Company></Company><LinksUpToDate>false</LinksUpToDate>"
              "<SharedDoc>false</SharedDoc><HyperlinksChanged>false</HyperlinksChanged><AppVersion>12.0000"
              "</AppVersion></Properties>");
    add_part(w->zip, b, "docProps/app.xml");
}

/* The sheet: its head, the rows, its tail; then the parts that depend on what the rows used. */
static int write_book(sheet_t *w, const char *sheet)
{
    const ns_table_t *t = w->t;
    sb_t b = { 0 };
    int with_sst = 0;                   /* any text (else no shared-string part at all) */
    for (int c = 0; c < t->ncols && !with_sst; c++) with_sst = t->headers[c][0] != 0;
    for (size_t i = 0; i < (size_t)t->nrows * (size_t)t->ncols && !with_sst; i++)
        with_sst = t->cells[i].type == NS_TCELL_TEXT;
    parts_before(w, &b, with_sst);
    ns_zip_begin(w->zip, "xl/worksheets/sheet1.xml");
    sb_str(&w->xml, XML_DECL "<worksheet xmlns=\"" NS_MAIN "\" xmlns:r=\"" NS_DOC "/relationships\"><dimension ref=\"");
    table_ref(&w->xml, w, 0);
    sb_str(&w->xml, "\"/><sheetViews><sheetView tabSelected=\"1\" workbookViewId=\"0\"><pane ySplit=\"1\" "
                    "topLeftCell=\"A2\" activePane=\"bottomLeft\" state=\"frozen\"/><selection "
                    "pane=\"bottomLeft\"/></sheetView></sheetViews><sheetFormatPr defaultRowHeight=\"15\"/><cols>");
    double *width = ns_calloc((size_t)t->ncols, sizeof *width);
    column_widths(w, width);
    for (int c = 0; c < t->ncols; c++)
        sb_printf(&w->xml, "<col min=\"%d\" max=\"%d\" width=\"%.16G\" customWidth=\"1\"/>", c + 1, c + 1,
                  excel_width(width[c]));
    free(width);
    sb_str(&w->xml, "</cols><sheetData>");
    if (write_rows(w) < 0) {
        free(b.p);
        return -1;
    }
    sb_str(&w->xml, "</sheetData><autoFilter ref=\"");
    table_ref(&w->xml, w, 0);
    sb_str(&w->xml, "\"/><pageMargins left=\"0.7\" right=\"0.7\" top=\"0.75\" bottom=\"0.75\" header=\"0.3\" "
                    "footer=\"0.3\"/></worksheet>");
    flush_xml(w);
    parts_after(w, &b, sheet);
    free(b.p);
    return 0;
}

int ns_table_write_xlsx(const ns_table_t *t, const char *path, int mode, const char *sheet)
{
    ns_table_seterr("%s", "");
    if (!sheet) sheet = "Sheet1";
    if (!ns_table_sheet_name_ok(sheet)) {
        ns_table_seterr("%s: sheet name '%s' not allowed (at most 31 characters, none of [ ] : * ? / \\, "
                        "no apostrophe first or last)", path, sheet);
        errno = EINVAL;
        return -1;
    }
    if ((long)t->nrows + 1 > ROWS_MAX) {
        ns_table_seterr("%s: %d rows do not fit in a sheet (at most %d)", path, t->nrows, ROWS_MAX - 1);
        errno = EINVAL;
        return -1;
    }
    /* a device or a pipe is not replaced by a file (the rename below would), nor written in
     * place (the ZIP's headers are written last, with pwrite) */
    struct stat target;
    if (stat(path, &target) == 0 && !S_ISREG(target.st_mode)) {
        ns_table_seterr("%s: not a regular file (an XLSX workbook is written to a file)", path);
        errno = EINVAL;
        return -1;
    }
    /* PATH.tmp.PID, created here with its final mode (a leftover of an earlier process with
     * our PID goes once; a link planted under that name is not followed), renamed over PATH
     * once whole and synced */
    char *tmp = ns_atomic_tmpname(path);
    const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    int fd = open(tmp, flags, (mode_t)mode);
    if (fd < 0 && errno == EEXIST && unlink(tmp) == 0) fd = open(tmp, flags, (mode_t)mode);
    if (fd < 0) {
        const int er = errno;
        ns_table_seterr("cannot create %s: %s", tmp, strerror(er));
        free(tmp);
        errno = er;
        return -1;
    }
    int er = 0;
    if (fchmod(fd, (mode_t)mode) != 0) {            /* the umask must not narrow it */
        er = errno;
        ns_table_seterr("cannot set up %s: %s", tmp, strerror(er));
        goto fail;
    }
    sheet_t w = { .t = t, .path = path, .zip = ns_zip_open(fd, ZIP_LEVEL) };
    if (!w.zip) {
        er = ENOMEM;
        ns_table_seterr("%s: cannot start the compressor", path);
        goto fail;
    }
    w.col = ns_malloc((size_t)t->ncols * sizeof *w.col);
    w.col_len = ns_malloc((size_t)t->ncols);
    for (int c = 0; c < t->ncols; c++) {
        ns_xlsx_col_name(c, w.col[c]);
        w.col_len[c] = (unsigned char)strlen(w.col[c]);
    }
    w.wrap = ns_calloc((size_t)t->nrows * (size_t)t->ncols + 1, 1);
    const int rc = write_book(&w, sheet);
    const int zr = ns_zip_close(w.zip);             /* frees the writer whatever happened */
    const int zerr = errno;
    free(w.xml.p);
    free(w.scratch.p);
    sst_free(&w.sst);
    free(w.col);
    free(w.col_len);
    free(w.wrap);
    if (rc < 0) { er = EINVAL; goto fail; }
    if (zr < 0 || fsync(fd) != 0) {
        er = zr < 0 ? zerr : errno;
        ns_table_seterr("cannot write %s: %s", path, strerror(er));
        goto fail;
    }
    if (close(fd) != 0) {
        fd = -1;
        er = errno;
        ns_table_seterr("cannot write %s: %s", path, strerror(er));
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        er = errno;
        ns_table_seterr("cannot rename %s to %s: %s", tmp, path, strerror(er));
        goto fail;
    }
    free(tmp);
    if (ns_atomic_sync_dir(path) != 0) {
        er = errno;
        ns_table_seterr("cannot sync the directory of %s: %s", path, strerror(er));
        errno = er;
        return -1;
    }
    return 0;
fail:
    if (fd >= 0) close(fd);
    unlink(tmp);
    free(tmp);
    errno = er;
    return -1;
}
