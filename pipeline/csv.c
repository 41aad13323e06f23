/* csv.c — see csv.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "csv.h"
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

static void add_field(ns_csv_t *c, size_t start, int col)
{
    if (c->nf == c->mf) {
        c->mf = c->mf ? c->mf * 2 : 64;
        c->off = ns_realloc(c->off, (size_t)c->mf * sizeof *c->off);
        c->fcol = ns_realloc(c->fcol, (size_t)c->mf * sizeof *c->fcol);
        c->f = ns_realloc(c->f, (size_t)c->mf * sizeof *c->f);
    }
    c->off[c->nf] = start;
    c->fcol[c->nf] = col;
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

int ns_csv_next(ns_csv_t *c)
{
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
        int fcol = c->col;
        if (peek(c) == '"') {
            int qline = c->line, qcol = c->col;
            adv(c);
            for (;;) {
                int ch = peek(c);
                if (ch < 0) return error_here(c, qline, qcol, "unterminated quoted field");
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
        add_field(c, start, fcol);
        if (peek(c) == ',') { adv(c); continue; }
        c->end_col = c->col;
        if (peek(c) == '\r') adv(c);
        if (peek(c) == '\n') adv(c);
        break;
    }
    for (int i = 0; i < c->nf; i++) c->f[i] = c->buf + c->off[i];
    return 1;
}
