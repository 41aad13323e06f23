/* table.c — see table.h.  The model, then the CSV writer (the XLSX writer: table_xlsx.c). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "atomic_file.h"
#include "csv.h"
#include "numfmt.h"
#include "table.h"
#include "table_impl.h"
#include "util.h"

#define MAX_COLS 16384                 /* Excel's column limit */
#define DAY_MIN (-25508L)              /* 1900-03-01: Excel's day numbers are right from here */
#define DAY_MAX 2932896L               /* 9999-12-31 */
#define CREATED_DEFAULT ((time_t)315532800)   /* 1980-01-01T00:00:00Z */

static _Thread_local char last_err[512];

void ns_table_seterr(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_err, sizeof last_err, fmt, ap);
    va_end(ap);
}

const char *ns_table_error(void) { return last_err; }

/* ---- text helpers ------------------------------------------------------------------ */

/* Decode one UTF-8 sequence at s: its code point in *cp and its length, or 0 if invalid
 * (overlong, surrogate, above U+10FFFF, truncated). */
static int utf8_dec(const unsigned char *s, uint32_t *cp)
{
    if (s[0] < 0x80) { *cp = s[0]; return 1; }
    int n;
    uint32_t c, min;
    if ((s[0] & 0xE0) == 0xC0) { n = 2; c = s[0] & 0x1Fu; min = 0x80; }
    else if ((s[0] & 0xF0) == 0xE0) { n = 3; c = s[0] & 0x0Fu; min = 0x800; }
    else if ((s[0] & 0xF8) == 0xF0) { n = 4; c = s[0] & 0x07u; min = 0x10000; }
    else return 0;
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        c = (c << 6) | (s[i] & 0x3Fu);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
    *cp = c;
    return n;
}

/* 1 if s is valid UTF-8 without control characters other than TAB, LF, CR. */
static int text_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        uint32_t c;
        int n = utf8_dec(p, &c);
        if (!n) return 0;
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F || (c >= 0x80 && c < 0xA0)
            || c == 0xFFFE || c == 0xFFFF)
            return 0;
        p += n;
    }
    return 1;
}

char *ns_table_clean_text(const char *s)
{
    size_t len = strlen(s);
    char *out = ns_malloc(len * 3 + 1), *o = out;     /* a byte becomes at most 3 */
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        uint32_t c;
        int n = utf8_dec(p, &c);
        int bad = !n || (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F
                  || (c >= 0x80 && c < 0xA0) || c == 0xFFFE || c == 0xFFFF;
        if (bad) {
            memcpy(o, "\xef\xbf\xbd", 3);           /* U+FFFD */
            o += 3;
            p += n ? n : 1;
        } else {
            memcpy(o, p, (size_t)n);
            o += n;
            p += n;
        }
    }
    *o = 0;
    return out;
}

static int cp_width(uint32_t c)
{
    static const uint32_t zero[][2] = {
        { 0x0300, 0x036F }, { 0x1AB0, 0x1AFF }, { 0x1DC0, 0x1DFF }, { 0x200B, 0x200F },
        { 0x20D0, 0x20FF }, { 0xFE00, 0xFE0F }, { 0xFE20, 0xFE2F } };
    static const uint32_t wide[][2] = {
        { 0x1100, 0x115F }, { 0x2E80, 0x303E }, { 0x3041, 0x33FF }, { 0x3400, 0x4DBF },
        { 0x4E00, 0x9FFF }, { 0xA000, 0xA4CF }, { 0xA960, 0xA97F }, { 0xAC00, 0xD7A3 },
        { 0xF900, 0xFAFF }, { 0xFE10, 0xFE19 }, { 0xFE30, 0xFE6F }, { 0xFF00, 0xFF60 },
        { 0xFFE0, 0xFFE6 }, { 0x1F300, 0x1F64F }, { 0x1F900, 0x1F9FF }, { 0x20000, 0x2FFFD },
        { 0x30000, 0x3FFFD } };
    if (c < 0x20 || (c >= 0x7F && c < 0xA0)) return 0;
    if (c < 0x300) return 1;                 /* below every range: Latin text at one compare */
    for (size_t i = 0; i < sizeof zero / sizeof zero[0]; i++)
        if (c >= zero[i][0] && c <= zero[i][1]) return 0;
    for (size_t i = 0; i < sizeof wide / sizeof wide[0]; i++)
        if (c >= wide[i][0] && c <= wide[i][1]) return 2;
    return 1;
}

int ns_display_width(const char *text)
{
    int best = 0, w = 0;
    const unsigned char *p = (const unsigned char *)text;
    while (p && *p) {
        if (*p >= 0x20 && *p < 0x7F) {           /* printable ASCII: one column, no decoding */
            w++;
            p++;
            continue;
        }
        uint32_t c;
        int n = utf8_dec(p, &c);
        if (!n) { c = 0xFFFD; n = 1; }        /* invalid byte: one replacement character */
        if (c == '\n') { if (w > best) best = w; w = 0; }
        else w += cp_width(c);
        p += n;
    }
    return w > best ? w : best;
}

int ns_table_formula_risk(const char *s)
{
    return s && (*s == '=' || *s == '+' || *s == '-' || *s == '@' || *s == '\t' || *s == '\r' || *s == '\n');
}

/* The text as written: with the apostrophe when it could be read as a formula. */
static char *safe_text(const char *s)
{
    return ns_table_formula_risk(s) ? ns_asprintf("'%s", s) : ns_strdup(s);
}

/* ---- the model --------------------------------------------------------------------- */

ns_table_t *ns_table_new(int ncols, const char *const *keys, const char *const *headers)
{
    if (ncols < 1 || ncols > MAX_COLS || !keys) return NULL;
    for (int c = 0; c < ncols; c++) {
        if (!keys[c] || !*keys[c] || !text_ok(keys[c])) return NULL;
        if (headers && headers[c] && !text_ok(headers[c])) return NULL;
        for (int d = 0; d < c; d++) if (strcmp(keys[c], keys[d]) == 0) return NULL;
    }
    ns_table_t *t = ns_calloc(1, sizeof *t);
    t->ncols = ncols;
    t->keys = ns_calloc((size_t)ncols, sizeof *t->keys);
    t->headers = ns_calloc((size_t)ncols, sizeof *t->headers);
    for (int c = 0; c < ncols; c++) {
        t->keys[c] = ns_strdup(keys[c]);
        t->headers[c] = ns_strdup(headers && headers[c] ? headers[c] : keys[c]);
    }
    t->created = CREATED_DEFAULT;
    return t;
}

void ns_table_free(ns_table_t *t)
{
    if (!t) return;
    for (int c = 0; c < t->ncols; c++) { free(t->keys[c]); free(t->headers[c]); }
    for (size_t i = 0; i < (size_t)t->nrows * (size_t)t->ncols; i++) free(t->cells[i].text);
    free(t->keys);
    free(t->headers);
    free(t->cells);
    free(t);
}

int ns_table_col(const ns_table_t *t, const char *key)
{
    for (int c = 0; key && c < t->ncols; c++) if (strcmp(t->keys[c], key) == 0) return c;
    return -1;
}

int ns_table_set_header(ns_table_t *t, int col, const char *text)
{
    if (col < 0 || col >= t->ncols || (text && !text_ok(text))) return -1;
    free(t->headers[col]);
    t->headers[col] = ns_strdup(text ? text : t->keys[col]);
    return 0;
}

int ns_table_add_row(ns_table_t *t)
{
    if (t->nrows == t->mrows) {
        t->mrows = t->mrows ? t->mrows * 2 : 16;
        t->cells = ns_realloc(t->cells, (size_t)t->mrows * (size_t)t->ncols * sizeof *t->cells);
    }
    memset(t->cells + (size_t)t->nrows * (size_t)t->ncols, 0, (size_t)t->ncols * sizeof *t->cells);
    return t->nrows++;
}

static ns_cell_t *cell_at(ns_table_t *t, int row, int col)
{
    if (row < 0 || row >= t->nrows || col < 0 || col >= t->ncols) return NULL;
    return &t->cells[(size_t)row * (size_t)t->ncols + (size_t)col];
}

const ns_cell_t *ns_table_cell(const ns_table_t *t, int row, int col)
{
    return cell_at((ns_table_t *)t, row, col);
}

static void clear(ns_cell_t *x)
{
    free(x->text);
    memset(x, 0, sizeof *x);
}

int ns_table_set_empty(ns_table_t *t, int row, int col)
{
    ns_cell_t *x = cell_at(t, row, col);
    if (!x) return -1;
    clear(x);
    return 0;
}

int ns_table_set_text(ns_table_t *t, int row, int col, const char *text)
{
    ns_cell_t *x = cell_at(t, row, col);
    if (!x || (text && !text_ok(text))) return -1;
    clear(x);
    if (text && *text) {
        x->type = NS_TCELL_TEXT;
        x->text = ns_strdup(text);
    }
    return 0;
}

int ns_table_set_number(ns_table_t *t, int row, int col, double v, int decimals)
{
    ns_cell_t *x = cell_at(t, row, col);
    if (!x || decimals < -1 || decimals > NS_TABLE_MAX_DECIMALS) return -1;
    clear(x);
    if (!isfinite(v)) return 0;
    x->type = NS_TCELL_NUMBER;
    x->num = v == 0 ? 0.0 : v;         /* no "-0" */
    x->decimals = decimals;
    return 0;
}

int ns_table_set_date(ns_table_t *t, int row, int col, long days)
{
    ns_cell_t *x = cell_at(t, row, col);
    if (!x || days < DAY_MIN || days > DAY_MAX) return -1;
    clear(x);
    x->type = NS_TCELL_DATE;
    x->num = (double)days;
    return 0;
}

int ns_table_set_date_str(ns_table_t *t, int row, int col, const char *ymd)
{
    if (!ymd || !*ymd) return ns_table_set_empty(t, row, col);
    /* exactly YYYY-MM-DD: ns_parse_time_h checks the day is real */
    static const char shape[] = "dddd-dd-dd";
    if (strlen(ymd) != 10) return -1;
    for (int i = 0; i < 10; i++)
        if (shape[i] == 'd' ? (ymd[i] < '0' || ymd[i] > '9') : ymd[i] != '-') return -1;
    char buf[32];
    snprintf(buf, sizeof buf, "%sT00:00", ymd);
    double h = ns_parse_time_h(buf);
    if (isnan(h)) return -1;
    return ns_table_set_date(t, row, col, (long)floor(h / 24.0));
}

void ns_table_set_created(ns_table_t *t, time_t when) { t->created = when; }

int ns_table_number_text(const ns_cell_t *x, char *buf)
{
    /* printf's "%.15g" and "%.*f", without printf (numfmt.h) */
    return x->decimals < 0 ? ns_fmt_g(buf, NS_TABLE_NUMBER_BUF, x->num, 15)
                           : ns_fmt_f(buf, NS_TABLE_NUMBER_BUF, x->num, x->decimals);
}

static char *cell_text(const ns_cell_t *x)
{
    char d[16];
    switch (x->type) {
    case NS_TCELL_TEXT: return safe_text(x->text);
    case NS_TCELL_NUMBER: {
        char b[NS_TABLE_NUMBER_BUF];
        ns_table_number_text(x, b);
        return ns_strdup(b);
    }
    case NS_TCELL_DATE: ns_format_date(x->num * 24.0, d); return ns_strdup(d);
    default: return ns_strdup("");
    }
}

char *ns_table_cell_text(const ns_table_t *t, int row, int col)
{
    if (row == -1 && col >= 0 && col < t->ncols) return safe_text(t->headers[col]);
    const ns_cell_t *x = ns_table_cell(t, row, col);
    return x ? cell_text(x) : NULL;
}

/* ---- CSV --------------------------------------------------------------------------- */

/* s as one CSV field, as ns_csv_field writes it (guard: as it writes safe_text(s), with the
 * apostrophe first when s could be read as a formula): quoted when it holds a comma, a
 * quote or a line end.  The caller holds the file's lock. */
static void csv_cell(FILE *fp, const char *s, int guard)
{
    const size_t n = strlen(s);
    const int risk = guard && ns_table_formula_risk(s), quote = strcspn(s, ",\"\r\n") < n;
    if (quote) putc_unlocked('"', fp);
    if (risk) putc_unlocked('\'', fp);
    if (!quote) {
        fwrite_unlocked(s, 1, n, fp);
        return;
    }
    for (const char *q; (q = strchr(s, '"')); s = q + 1) {      /* each quote doubled */
        fwrite_unlocked(s, 1, (size_t)(q - s) + 1, fp);
        putc_unlocked('"', fp);
    }
    fwrite_unlocked(s, 1, strlen(s), fp);
    putc_unlocked('"', fp);
}

int ns_table_write_csv(const ns_table_t *t, const char *path, int mode, int bom)
{
    last_err[0] = 0;
    ns_atomic_t *a = ns_atomic_open(path, (mode_t)mode);
    if (!a) {
        ns_table_seterr("cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    FILE *fp = a->fp;
    flockfile(fp);                   /* one lock for the file, not one a character */
    if (bom) fwrite_unlocked("\xEF\xBB\xBF", 1, 3, fp);
    for (int r = -1; r < t->nrows; r++) {
        for (int c = 0; c < t->ncols; c++) {
            if (c) putc_unlocked(',', fp);
            if (r < 0) {
                csv_cell(fp, t->headers[c], 1);
                continue;
            }
            const ns_cell_t *x = &t->cells[(size_t)r * (size_t)t->ncols + (size_t)c];
            char b[NS_TABLE_NUMBER_BUF];                       /* >= 16, for a date */
            switch (x->type) {
            case NS_TCELL_TEXT: csv_cell(fp, x->text, 1); break;
            case NS_TCELL_NUMBER: ns_table_number_text(x, b); csv_cell(fp, b, 0); break;
            case NS_TCELL_DATE: ns_format_date(x->num * 24.0, b); csv_cell(fp, b, 0); break;
            default: break;
            }
        }
        putc_unlocked('\n', fp);
    }
    funlockfile(fp);
    if (ns_atomic_commit(a) < 0) {
        int e = errno;
        ns_table_seterr("cannot write %s: %s", path, strerror(e));
        errno = e;
        return -1;
    }
    return 0;
}

int ns_table_sheet_name_ok(const char *name)
{
    if (!name || !*name || name[0] == '\'' || name[strlen(name) - 1] == '\'' || strpbrk(name, "[]:*?/\\"))
        return 0;
    int chars = 0;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) chars += (*p & 0xC0) != 0x80;
    return chars <= 31 && text_ok(name);
}
