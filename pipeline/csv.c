/* csv.c — see csv.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define CSV_X64 1
#endif
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

/* bits set in a 16-bit mask (baseline x86-64 has no POPCNT: the builtin would be a call) */
static inline int pop16(unsigned x)
{
    x = x - ((x >> 1) & 0x5555u);
    x = (x & 0x3333u) + ((x >> 2) & 0x3333u);
    x = (x + (x >> 4)) & 0x0F0Fu;
    return (int)((x + (x >> 8)) & 0x1Fu);
}

/* room for at least need bytes in the field buffer */
static void reserve(ns_csv_t *c, size_t need)
{
    if (need < c->mbuf) return;
    size_t m = c->mbuf ? c->mbuf : 256;
    while (m <= need) m *= 2;
    c->mbuf = m;
    c->buf = ns_realloc(c->buf, c->mbuf);
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
            /* an unquoted field ends at a comma, LF, CR LF or the end of the text (a lone CR
             * is content); copied in one piece without its trailing blanks, the column
             * advanced by its characters (no LF inside) */
            const char *t = c->text;
            size_t p = c->pos, q = p;
            int chars = 0;
#ifdef __SSE2__
            /* sixteen bytes at a time to the first comma, LF or CR (a lone CR is then
             * taken by the loop below); characters = bytes that are not UTF-8 continuations */
            const __m128i comma = _mm_set1_epi8(','), lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');
            const __m128i top = _mm_set1_epi8((char)0xC0), cont = _mm_set1_epi8((char)0x80);
            while (q + 16 <= c->len) {
                __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(t + q));
                unsigned stop = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, comma),
                                                                                     _mm_cmpeq_epi8(v, lf)),
                                                                        _mm_cmpeq_epi8(v, cr)));
                unsigned cb = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_and_si128(v, top), cont));
                if (stop) {
                    unsigned k = (unsigned)__builtin_ctz(stop);
                    chars += (int)k - pop16(cb & ((1u << k) - 1u));
                    q += k;
                    break;
                }
                chars += 16 - pop16(cb);
                q += 16;
            }
#endif
            while (q < c->len) {
                unsigned char ch = (unsigned char)t[q];
                if (ch == ',' || ch == '\n' || (ch == '\r' && (q + 1 >= c->len || t[q + 1] == '\n'))) break;
                chars += (ch & 0xC0) != 0x80;
                q++;
            }
            size_t e = q;
            while (e > p && (t[e - 1] == ' ' || t[e - 1] == '\t')) e--;
            reserve(c, n + (e - p) + 1);
            memcpy(c->buf + n, t + p, e - p);
            n += e - p;
            c->pos = q;
            c->col += chars;
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

/* blanks (spaces, tabs) off both ends of each of the nf fields */
static void trim_spans(const char *t, int nf, size_t *span)
{
    for (int k = 0; k < nf; k++) {
        size_t b = span[2 * k], e = span[2 * k + 1];
        while (b < e && (t[b] == ' ' || t[b] == '\t')) b++;
        while (e > b && (t[e - 1] == ' ' || t[e - 1] == '\t')) e--;
        span[2 * k] = b;
        span[2 * k + 1] = e;
    }
}

#ifdef CSV_X64
/* trim_spans for the fields that are not quoted (quoted[k] == 0) */
static void trim_spans_plain(const char *t, int nf, size_t *span, const unsigned char *quoted)
{
    for (int k = 0; k < nf; k++)
        if (!quoted[k]) trim_spans(t, 1, span + 2 * k);
}

/* ns_csv_next_plain sixty-four bytes at a time (AVX-512 BW): the same rules, the same
 * spans.  Only a blank (space or tab) at a field's start or end is trimmed, that is one
 * beside a comma, the line's start or its end, so the trimming pass is made only for a
 * line with one there (a name with a space inside needs none).  @return 1 with the fields
 * split (untrimmed), the LF's position in *lf_at and *blank set if a blank lies beside a
 * delimiter (or at a block's edge: counted, to be safe); 0 for any other line (anything
 * odd, or near the end of the text, fewer than 64 bytes left): the SSE2 way below decides
 * about it.  The caller trims and moves the reader: no call is made from here, so that
 * the vector state is cleared on every way out (GCC 12 left the upper halves dirty on a
 * path through a call, and every SSE instruction after it paid for that). */
__attribute__((target("avx512f,avx512bw,bmi,bmi2")))
static int next_plain_x64(const ns_csv_t *c, int nf, size_t *span, size_t *lf_at, int *blank)
{
    const char *t = c->text;
    const size_t len = c->len, p0 = c->pos;
    size_t q = p0, fstart = p0;
    int j = 0;
    uint64_t edge = 0, after = 1;       /* blanks beside a delimiter; bit 0: a field starts */
    const __m512i comma = _mm512_set1_epi8(','), lf = _mm512_set1_epi8('\n'), cr = _mm512_set1_epi8('\r'),
                  quote = _mm512_set1_epi8('"'), sp = _mm512_set1_epi8(' '), tab = _mm512_set1_epi8('\t');
    for (; q + 64 <= len; q += 64) {
        const __m512i v = _mm512_loadu_si512((const void *)(t + q));
        const uint64_t lfm = _mm512_cmpeq_epi8_mask(v, lf);
        const uint64_t upto = lfm ? _blsmsk_u64(lfm) >> 1 : ~0ULL;       /* bytes before the LF */
        const uint64_t odd = (_mm512_cmpeq_epi8_mask(v, cr) | _mm512_cmpeq_epi8_mask(v, quote)) & upto;
        if (odd) {                                      /* a CR only right before the LF */
            if (!lfm || odd != (_blsi_u64(lfm) >> 1) || t[q + (size_t)__builtin_ctzll(odd)] != '\r') return 0;
        }
        uint64_t cm = _mm512_cmpeq_epi8_mask(v, comma) & upto;
        /* a blank after a delimiter or before one (or at the block's edges: to be safe) */
        const uint64_t bl = (_mm512_cmpeq_epi8_mask(v, sp) | _mm512_cmpeq_epi8_mask(v, tab)) & upto;
        edge |= bl & ((cm << 1) | after | (1ULL << 63) | (cm >> 1) | (lfm >> 1) | (odd >> 1));
        after = cm >> 63;
        if (j + __builtin_popcountll(cm) >= nf) return 0;       /* more fields than nf */
        for (; cm; cm = _blsr_u64(cm)) {
            const size_t e = q + (size_t)__builtin_ctzll(cm);
            span[2 * j] = fstart;
            span[2 * j + 1] = e;
            j++;
            fstart = e + 1;
        }
        if (lfm) {
            q += (size_t)__builtin_ctzll(lfm);
            if (j != nf - 1) return 0;
            span[2 * j] = fstart;
            span[2 * j + 1] = q > fstart && t[q - 1] == '\r' ? q - 1 : q;
            *lf_at = q;
            *blank = edge != 0;
            return 1;
        }
    }
    return 0;
}
#endif

int ns_csv_next_plain(ns_csv_t *c, int nf, size_t *span)
{
#ifdef CSV_X64
    size_t lf_at;
    int blank;
    if (ns_cpu_avx512() && next_plain_x64(c, nf, span, &lf_at, &blank)) {
        if (blank) trim_spans(c->text, nf, span);
        if (nf == 1 && span[1] == span[0]) return 0;       /* a blank line */
        c->pos = lf_at + 1;
        c->line++;
        c->col = 1;
        return 1;
    }
#endif
    const char *t = c->text;
    const size_t len = c->len, p0 = c->pos;
    size_t q = p0, fstart = p0;
    int j = 0;
    /* field ends: commas up to the LF; a quote or a CR before it sends the line back */
#ifdef __SSE2__
    const __m128i comma = _mm_set1_epi8(','), lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r'),
                  quote = _mm_set1_epi8('"');
    for (; q + 16 <= len; q += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(t + q));
        unsigned lfm = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, lf));
        unsigned odd = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, quote)));
        unsigned cm = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, comma));
        unsigned upto = lfm ? (lfm & -lfm) - 1u : 0xFFFFu;     /* bytes before the LF */
        if (odd & upto) {
            /* a CR is allowed only right before the LF */
            unsigned bad = odd & upto;
            if (!lfm || bad != ((lfm & -lfm) >> 1) || t[q + (unsigned)__builtin_ctz(bad)] != '\r') return 0;
        }
        for (cm &= upto; cm; cm &= cm - 1) {
            if (j + 1 >= nf) return 0;                  /* more fields than nf */
            size_t e = q + (unsigned)__builtin_ctz(cm);
            span[2 * j] = fstart;
            span[2 * j + 1] = e;
            j++;
            fstart = e + 1;
        }
        if (lfm) { q += (unsigned)__builtin_ctz(lfm); goto eol; }
    }
#endif
    for (; q < len && t[q] != '\n'; q++) {
        if (t[q] == '"' || (t[q] == '\r' && (q + 1 >= len || t[q + 1] != '\n'))) return 0;
        if (t[q] == ',') {
            if (j + 1 >= nf) return 0;
            span[2 * j] = fstart;
            span[2 * j + 1] = q;
            j++;
            fstart = q + 1;
        }
    }
    if (q >= len) return 0;                     /* the last line has no LF: the general reader */
#ifdef __SSE2__
eol:
#endif
    if (j != nf - 1) return 0;
    span[2 * j] = fstart;
    span[2 * j + 1] = q > fstart && t[q - 1] == '\r' ? q - 1 : q;
    /* blanks off both ends of every field; a line of blanks alone is a blank line */
    trim_spans(t, nf, span);
    if (nf == 1 && span[1] == span[0]) return 0;
    c->pos = q + 1;
    c->line++;
    c->col = 1;
    return 1;
}

#ifdef CSV_X64
/* bits set from each set bit of x up to the next one, the first included, the second not:
 * the bytes inside quotes, given the quotes' bits (each bit the parity of the quotes up to
 * it, in six shifts) */
static inline uint64_t prefix_xor(uint64_t x)
{
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    return x;
}

/* ns_csv_next_quoted sixty-four bytes at a time (AVX-512 BW), for the line at the reader:
 * the commas and the LF outside quotes (a bit set for every byte after an odd number of
 * quotes in the line) split it; a field holding a quote character gets quoted[j] = 3 and
 * its span from delimiter to delimiter, to be checked by check_quoted; every other field
 * its span untrimmed and quoted[j] = 0.  @return 1 with the LF's position in *lf_at, the
 * number of fields holding a quote in *nq and *blank set if a blank lies beside a
 * delimiter outside quotes (a field may need trimming); 0 for any other line (an LF or a
 * CR inside quotes, a CR elsewhere than before the LF, another number of fields, fewer
 * than 64 bytes left): the byte-by-byte way decides about it.  As next_plain_x64, no call
 * is made from here. */
__attribute__((target("avx512f,avx512bw,bmi,bmi2")))
static int next_quoted_x64(const ns_csv_t *c, int nf, size_t *span, unsigned char *quoted, size_t *lf_at,
                           int *nq, int *blank)
{
    const char *t = c->text;
    const size_t len = c->len, p0 = c->pos;
    size_t q = p0, fstart = p0;
    int j = 0, nquoted = 0;
    uint64_t inside = 0;                /* all ones if the block before ended inside quotes */
    uint64_t fquote = 0;                /* the field begun holds a quote */
    uint64_t edge = 0;                  /* blanks beside a delimiter */
    uint64_t after = 1;                 /* bit 0: the block's first byte starts a field */
    const __m512i comma = _mm512_set1_epi8(','), lf = _mm512_set1_epi8('\n'), cr = _mm512_set1_epi8('\r'),
                  quote = _mm512_set1_epi8('"'), sp = _mm512_set1_epi8(' '), tab = _mm512_set1_epi8('\t');
    for (; q + 64 <= len; q += 64) {
        const __m512i v = _mm512_loadu_si512((const void *)(t + q));
        const uint64_t qm = _mm512_cmpeq_epi8_mask(v, quote);
        const uint64_t in = prefix_xor(qm) ^ inside;
        inside = (uint64_t)((int64_t)in >> 63);
        const uint64_t lfm = _mm512_cmpeq_epi8_mask(v, lf);
        const uint64_t lfs = lfm & ~in;
        const uint64_t upto = lfs ? _blsmsk_u64(lfs) >> 1 : ~0ULL;       /* bytes before the LF */
        if (lfm & upto) return 0;                                       /* an LF inside quotes */
        const uint64_t crm = _mm512_cmpeq_epi8_mask(v, cr) & upto;
        if (crm && (!lfs || crm != (_blsi_u64(lfs) >> 1))) return 0;     /* a CR only right before the LF */
        const uint64_t cm = _mm512_cmpeq_epi8_mask(v, comma) & ~in & upto;
        const uint64_t bl = (_mm512_cmpeq_epi8_mask(v, sp) | _mm512_cmpeq_epi8_mask(v, tab)) & ~in & upto;
        /* a blank after a delimiter (or at a block's edge: counted, to be safe) or before one */
        edge |= bl & ((cm << 1) | after | (1ULL << 63) | (cm >> 1) | (lfs >> 1) | (crm >> 1));
        after = cm >> 63;
        if (j + __builtin_popcountll(cm) >= nf) return 0;              /* more fields than nf */
        size_t b0 = 0;                                                  /* the field's first bit here */
        const uint64_t qu = qm & upto;
        for (uint64_t m = cm; m; m = _blsr_u64(m)) {
            const size_t bit = (size_t)__builtin_ctzll(m);
            fquote |= _bzhi_u64(qu >> b0, (unsigned)(bit - b0));
            span[2 * j] = fstart;
            span[2 * j + 1] = q + bit;
            quoted[j] = fquote ? 3 : 0;
            nquoted += fquote != 0;
            fquote = 0;
            j++;
            fstart = q + bit + 1;
            b0 = bit + 1;
        }
        if (lfs) {
            const size_t bit = (size_t)__builtin_ctzll(lfs);
            if (j != nf - 1) return 0;
            fquote |= b0 < 64 ? _bzhi_u64(qu >> b0, (unsigned)(bit - b0)) : 0;
            q += bit;
            span[2 * j] = fstart;
            span[2 * j + 1] = q > fstart && t[q - 1] == '\r' ? q - 1 : q;
            quoted[j] = fquote ? 3 : 0;
            nquoted += fquote != 0;
            *lf_at = q;
            *nq = nquoted;
            *blank = edge != 0;
            return 1;
        }
        if (b0 < 64) fquote |= qu >> b0;
    }
    return 0;
}

/* A field holding a quote (text[*b, *e), delimiter to delimiter) as ns_csv_next_quoted
 * takes it: blanks, a quote, the text with "" for a quote, the closing quote, blanks.
 * @return 1 (quoted), 2 (with "" inside) with *b, *e moved to the text inside, or 0. */
static int check_quoted(const char *t, size_t *b, size_t *e)
{
    size_t p = *b, end = *e;
    int kind = 1;
    while (p < end && (t[p] == ' ' || t[p] == '\t')) p++;
    if (p >= end || t[p] != '"') return 0;                  /* a quote inside a plain field */
    const size_t in = ++p;
    for (;;) {
        if (p >= end) return 0;
        if (t[p] != '"') { p++; continue; }
        if (p + 1 < end && t[p + 1] == '"') { kind = 2; p += 2; continue; }
        break;
    }
    const size_t out = p++;
    while (p < end && (t[p] == ' ' || t[p] == '\t')) p++;
    if (p != end) return 0;                                 /* text after the closing quote */
    *b = in;
    *e = out;
    return kind;
}
#endif

int ns_csv_next_quoted(ns_csv_t *c, int nf, size_t *span, unsigned char *quoted)
{
#ifdef CSV_X64
    size_t lf_at;
    int nq, blank;
    if (ns_cpu_avx512() && next_quoted_x64(c, nf, span, quoted, &lf_at, &nq, &blank)) {
        int ok = 1;
        for (int k = 0; nq && ok && k < nf; k++)
            if (quoted[k] == 3) {
                ok = (quoted[k] = (unsigned char)check_quoted(c->text, &span[2 * k], &span[2 * k + 1])) != 0;
                nq--;
            }
        if (ok) {                           /* (else the way below finds what is wrong) */
            if (blank) trim_spans_plain(c->text, nf, span, quoted);
            if (nf == 1 && !quoted[0] && span[1] == span[0]) return 0;     /* a blank line */
            c->pos = lf_at + 1;
            c->line++;
            c->col = 1;
            return 1;
        }
    }
#endif
    const char *t = c->text;
    const size_t len = c->len;
    size_t q = c->pos;
    for (int j = 0; j < nf; j++) {
        while (q < len && (t[q] == ' ' || t[q] == '\t')) q++;
        if (q < len && t[q] == '"') {
            size_t b = ++q;
            quoted[j] = 1;
            for (;;) {
                if (q >= len || t[q] == '\n' || t[q] == '\r') return 0;    /* unterminated, or a break inside */
                if (t[q] != '"') { q++; continue; }
                if (q + 1 < len && t[q + 1] == '"') { quoted[j] = 2; q += 2; continue; }
                break;
            }
            span[2 * j] = b;
            span[2 * j + 1] = q++;
            while (q < len && (t[q] == ' ' || t[q] == '\t')) q++;
        } else {
            size_t b = q;
            quoted[j] = 0;
            while (q < len && t[q] != ',' && t[q] != '\n' && t[q] != '\r') {
                if (t[q] == '"') return 0;                 /* a quote inside a plain field */
                q++;
            }
            size_t e = q;
            while (e > b && (t[e - 1] == ' ' || t[e - 1] == '\t')) e--;
            span[2 * j] = b;
            span[2 * j + 1] = e;
        }
        if (q >= len) return 0;                          /* the last line has no LF: the general reader */
        if (t[q] == ',') {
            if (j + 1 == nf) return 0;                   /* more fields than nf */
            q++;
            continue;
        }
        if (j + 1 < nf) return 0;                        /* fewer fields than nf, or a CR or a stray character */
        if (t[q] == '\r') {
            if (q + 1 >= len || t[q + 1] != '\n') return 0;
            q++;
        }
        if (t[q] != '\n') return 0;
        if (nf == 1 && !quoted[0] && span[1] == span[0]) return 0;   /* a blank line */
        c->pos = q + 1;
        c->line++;
        c->col = 1;
        return 1;
    }
    return 0;
}

size_t ns_csv_unescape(const char *s, size_t n, char *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        out[k++] = s[i];
        if (s[i] == '"' && i + 1 < n && s[i + 1] == '"') i++;
    }
    out[k] = 0;
    return k;
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
