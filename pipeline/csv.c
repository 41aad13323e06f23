/* csv.c — see csv.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "csv.h"
#include "table.h"
#include "util.h"

void ns_csv_init(ns_csv_t *c, const char *text, size_t len)
{
    memset(c, 0, sizeof *c);
    c->text = text;
    c->len = len;
    c->line = 1;
    c->col = 1;
}

void ns_csv_free(ns_csv_t *c)
{
    free(c->f);
    free(c->fcol);
    free(c->fline);
    free(c->buf);
    free(c->off);
    memset(c, 0, sizeof *c);
}

static inline int peek(const ns_csv_t *c) { return c->pos < c->len ? (unsigned char)c->text[c->pos] : -1; }

/* advance one byte, keeping line and (character) column */
static inline void adv(ns_csv_t *c)
{
    unsigned char b = (unsigned char)c->text[c->pos++];
    if (b == '\n') { c->line++; c->col = 1; }
    else if ((b & 0xC0) != 0x80) c->col++;
}

static void put(ns_csv_t *c, size_t *n, char ch)
{
    if (*n + 1 >= c->mbuf) {
        c->mbuf = c->mbuf ? c->mbuf * 2 : 256;
        c->buf = ns_realloc(c->buf, c->mbuf);
    }
    c->buf[(*n)++] = ch;
}

static void add_field(ns_csv_t *c, size_t start, int line, int col)
{
    if (c->nf == c->mf) {
        c->mf = c->mf ? c->mf * 2 : 64;
        c->off = ns_realloc(c->off, (size_t)c->mf * sizeof *c->off);
        c->fcol = ns_realloc(c->fcol, (size_t)c->mf * sizeof *c->fcol);
        c->fline = ns_realloc(c->fline, (size_t)c->mf * sizeof *c->fline);
        c->f = ns_realloc(c->f, (size_t)c->mf * sizeof *c->f);
    }
    c->off[c->nf] = start;
    c->fcol[c->nf] = col;
    c->fline[c->nf] = line;
    c->nf++;
}

static int error_here(ns_csv_t *c, int line, int col, const char *msg)
{
    c->err_line = line;
    c->err_col = col;
    snprintf(c->err, sizeof c->err, "%s", msg);
    while (peek(c) >= 0 && peek(c) != '\n') adv(c);   /* resynchronise at the next line */
    if (peek(c) == '\n') adv(c);
    return -1;
}

/* Rewind to a saved position (for resynchronising after an unterminated quote). */
static void seek(ns_csv_t *c, size_t pos, int line, int col)
{
    c->pos = pos;
    c->line = line;
    c->col = col;
}

int ns_csv_next(ns_csv_t *c)
{
    /* old Mac "CSV (Macintosh)" exports end lines with CR alone: refuse them plainly, or
     * the whole file would read as one enormous header row */
    if (c->pos == 0 && c->len > 0 && !memchr(c->text, '\n', c->len)) {
        const char *cr = memchr(c->text, '\r', c->len);
        if (cr && (size_t)(cr - c->text) + 1 < c->len) {
            int col = 1;
            for (const char *q = c->text; q < cr; q++) col += ((unsigned char)*q & 0xC0) != 0x80;
            c->err_line = 1;
            c->err_col = col;
            snprintf(c->err, sizeof c->err, "line ends are carriage returns (CR) only, as in an old Mac "
                     "'CSV (Macintosh)' export; save the file as CSV with CRLF or LF line ends");
            while (c->pos < c->len) adv(c);
            return -1;
        }
    }

    /* skip blank lines (only spaces, tabs, CR) */
    for (;;) {
        size_t p = c->pos;
        while (p < c->len && (c->text[p] == ' ' || c->text[p] == '\t' || c->text[p] == '\r')) p++;
        if (p >= c->len) { while (c->pos < c->len) adv(c); return 0; }
        if (c->text[p] != '\n') break;
        while (c->pos <= p) adv(c);
    }

    c->nf = 0;
    c->rec_line = c->line;
    size_t n = 0;
    for (;;) {                                   /* one field per iteration */
        while (peek(c) == ' ' || peek(c) == '\t') adv(c);
        size_t start = n;
        int fcol = c->col, fline = c->line;
        if (peek(c) == '"') {
            int qline = c->line, qcol = c->col;
            size_t qpos = c->pos;
            adv(c);
            for (;;) {
                int ch = peek(c);
                if (ch < 0) {
                    /* resume after the quote's own line, so the lines it swallowed are
                     * still seen (and counted) by the caller */
                    seek(c, qpos, qline, qcol);
                    return error_here(c, qline, qcol, "unterminated quoted field");
                }
                if (ch == '"') {
                    adv(c);
                    if (peek(c) == '"') { put(c, &n, '"'); adv(c); continue; }
                    break;
                }
                put(c, &n, (char)ch);
                adv(c);
            }
            while (peek(c) == ' ' || peek(c) == '\t') adv(c);
            int ch = peek(c);
            if (ch >= 0 && ch != ',' && ch != '\r' && ch != '\n')
                return error_here(c, c->line, c->col, "unexpected character after closing quote");
        } else {
            size_t last = n;                     /* end of the field without trailing blanks */
            for (;;) {
                int ch = peek(c);
                if (ch < 0 || ch == ',' || ch == '\n') break;
                if (ch == '\r' && (c->pos + 1 >= c->len || c->text[c->pos + 1] == '\n')) break;
                put(c, &n, (char)ch);
                if (ch != ' ' && ch != '\t') last = n;
                adv(c);
            }
            n = last;
        }
        put(c, &n, 0);
        add_field(c, start, fline, fcol);
        if (peek(c) == ',') { adv(c); continue; }
        c->end_line = c->line;
        c->end_col = c->col;
        if (peek(c) == '\r') adv(c);
        if (peek(c) == '\n') adv(c);
        break;
    }
    for (int i = 0; i < c->nf; i++) c->f[i] = c->buf + c->off[i];
    return 1;
}

void ns_csv_field(FILE *fp, const char *f)
{
    if (!strpbrk(f, ",\"\r\n")) { fputs(f, fp); return; }
    fputc('"', fp);
    for (; *f; f++) {
        if (*f == '"') fputc('"', fp);
        fputc(*f, fp);
    }
    fputc('"', fp);
}

void ns_csv_text(FILE *fp, const char *f)
{
    if (ns_table_formula_risk(f)) {
        char *g = ns_asprintf("'%s", f);
        ns_csv_field(fp, g);
        free(g);
    } else ns_csv_field(fp, f);
}
