/* test_csv.c — CSV reader, encoding detection, cell and well parsing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "../../pipeline/csv.h"
#include "../../pipeline/encoding.h"
#include "../../pipeline/ingest.h"
#include "../../pipeline/util.h"

static void read_all(const char *text, ns_csv_t *c)
{
    ns_csv_init(c, text, strlen(text));
}

static void test_plain_and_crlf(void **st)
{
    (void)st;
    const char *texts[] = { "a,b,c\n1,2,3\n", "a,b,c\r\n1,2,3\r\n", "a,b,c\r\n1,2,3" };
    for (int t = 0; t < 3; t++) {
        ns_csv_t c;
        read_all(texts[t], &c);
        assert_int_equal(ns_csv_next(&c), 1);
        assert_int_equal(c.nf, 3);
        assert_string_equal(c.f[2], "c");
        assert_int_equal(ns_csv_next(&c), 1);
        assert_int_equal(c.rec_line, 2);
        assert_string_equal(c.f[0], "1");
        assert_string_equal(c.f[2], "3");       /* no stray \r */
        assert_int_equal(ns_csv_next(&c), 0);
        ns_csv_free(&c);
    }
}

static void test_quotes(void **st)
{
    (void)st;
    ns_csv_t c;
    read_all("x,\"a, b\",\"say \"\"hi\"\"\",\"two\nlines\", trimmed  \nnext,1,2,3,4\n", &c);
    assert_int_equal(ns_csv_next(&c), 1);
    assert_int_equal(c.nf, 5);
    assert_string_equal(c.f[1], "a, b");
    assert_string_equal(c.f[2], "say \"hi\"");
    assert_string_equal(c.f[3], "two\nlines");
    assert_string_equal(c.f[4], "trimmed");
    assert_int_equal(c.fcol[1], 3);
    assert_int_equal(ns_csv_next(&c), 1);
    assert_int_equal(c.rec_line, 3);            /* the embedded newline counted */
    ns_csv_free(&c);
}

static void test_blank_lines_and_empty_fields(void **st)
{
    (void)st;
    ns_csv_t c;
    read_all("\n\na,,c,\n  \n\r\nd,e,f,g\n", &c);
    assert_int_equal(ns_csv_next(&c), 1);
    assert_int_equal(c.rec_line, 3);
    assert_int_equal(c.nf, 4);
    assert_string_equal(c.f[1], "");
    assert_string_equal(c.f[3], "");
    assert_int_equal(ns_csv_next(&c), 1);
    assert_int_equal(c.rec_line, 6);
    assert_int_equal(ns_csv_next(&c), 0);
    ns_csv_free(&c);
}

static void test_errors_have_positions(void **st)
{
    (void)st;
    ns_csv_t c;
    read_all("a,b\n1,\"open\n2,3\n", &c);
    assert_int_equal(ns_csv_next(&c), 1);
    assert_int_equal(ns_csv_next(&c), -1);
    assert_int_equal(c.err_line, 2);
    assert_int_equal(c.err_col, 3);
    assert_non_null(strstr(c.err, "unterminated"));
    ns_csv_free(&c);

    read_all("a,b\n\"x\"y,2\n3,4\n", &c);
    assert_int_equal(ns_csv_next(&c), 1);
    assert_int_equal(ns_csv_next(&c), -1);
    assert_int_equal(c.err_line, 2);
    assert_int_equal(c.err_col, 4);
    assert_int_equal(ns_csv_next(&c), 1);       /* resynchronised on the next line */
    assert_string_equal(c.f[0], "3");
    ns_csv_free(&c);
}

static void test_field_lines_and_resync(void **st)
{
    (void)st;
    ns_csv_t c;
    /* a quoted newline carries the record onto line 3: its later fields are on line 3 */
    read_all("h1,h2,h3\n1,\"a\nb\",x\n", &c);
    assert_int_equal(ns_csv_next(&c), 1);
    assert_int_equal(ns_csv_next(&c), 1);
    assert_int_equal(c.rec_line, 2);
    assert_int_equal(c.fline[1], 2);
    assert_int_equal(c.fline[2], 3);
    assert_int_equal(c.fcol[2], 4);
    ns_csv_free(&c);
    /* an unterminated quote does not swallow the lines after it */
    read_all("h\n\"open\nr3\nr4\n", &c);
    int n = 0, r;
    assert_int_equal(ns_csv_next(&c), 1);
    while ((r = ns_csv_next(&c)) != 0) n++;
    assert_int_equal(n, 3);
    ns_csv_free(&c);
    /* CR-only line ends are refused at the first CR, not read as one long header */
    read_all("a,b\r1,2\r", &c);
    assert_int_equal(ns_csv_next(&c), -1);
    assert_int_equal(c.err_line, 1);
    assert_int_equal(c.err_col, 4);
    assert_non_null(strstr(c.err, "CR"));
    ns_csv_free(&c);
}

static void test_columns_count_characters(void **st)
{
    (void)st;
    ns_csv_t c;
    read_all("\xe5\x8c\xbb\xe9\x99\xa2,b\n", &c);   /* "医院,b": 2 characters, 6 bytes */
    assert_int_equal(ns_csv_next(&c), 1);
    assert_int_equal(c.fcol[1], 4);
    ns_csv_free(&c);

    /* fields longer than the 16-byte scan step, multi-byte characters across its edges, a
     * lone CR inside a field, trailing blanks: columns, lines and contents as the byte rule */
    static const char *const parts[] = { "\xe5\x8c\xbb", "a", " ", "\xc3\xa9", "0123456789", "\r", "\t" };
    uint64_t r = 7;
    for (int trial = 0; trial < 2000; trial++) {
        char text[4096] = "", want[8][600];
        int wantcol[8], col = 1, nf = 1 + trial % 7;
        size_t len = 0;
        for (int f = 0; f < nf; f++) {
            char fld[600] = "";
            size_t fl = 0;
            int nparts = (int)(trial / 7 % 40);
            for (int k = 0; k < nparts; k++) {
                r = r * 6364136223846793005ULL + 1442695040888963407ULL;
                const char *pp = parts[(r >> 33) % 7];
                if (pp[0] == '\r' && (k == 0 || k == nparts - 1)) pp = "b";   /* a CR never ends a field here */
                size_t pl = strlen(pp);
                memcpy(fld + fl, pp, pl);
                fl += pl;
            }
            if (fl == 0 && f == 0) fld[fl++] = 'q';                         /* not a blank line */
            fld[fl] = 0;
            if (fld[0] == ' ' || fld[0] == '\t') fld[0] = 'x';              /* leading blanks are skipped */
            wantcol[f] = col;
            for (size_t i = 0; i < fl; i++) col += ((unsigned char)fld[i] & 0xC0) != 0x80;
            col++;                                                         /* the comma */
            size_t e = fl;
            while (e > 0 && (fld[e - 1] == ' ' || fld[e - 1] == '\t')) e--;
            memcpy(want[f], fld, e);
            want[f][e] = 0;
            memcpy(text + len, fld, fl);
            len += fl;
            text[len++] = f + 1 < nf ? ',' : '\n';
        }
        memcpy(text + len, "z\n", 3);
        ns_csv_init(&c, text, len + 2);
        assert_int_equal(ns_csv_next(&c), 1);
        assert_int_equal(c.nf, nf);
        for (int f = 0; f < nf; f++) {
            assert_string_equal(c.f[f], want[f]);
            assert_int_equal(c.fcol[f], wantcol[f]);
        }
        assert_int_equal(ns_csv_next(&c), 1);
        assert_int_equal(c.fline[0], 2);
        assert_int_equal(c.fcol[0], 1);
        ns_csv_free(&c);
    }
}

/* ns_utf8_valid_prefix (ASCII taken eight bytes at a time) against the byte-by-byte rule,
 * on random mixes of ASCII, valid and broken multi-byte sequences at every alignment. */
static size_t ref_valid_prefix(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i], cp, min;
        size_t k;
        if (c < 0x80) { i++; continue; }
        else if ((c & 0xE0) == 0xC0) { k = 1; min = 0x80; c &= 0x1F; }
        else if ((c & 0xF0) == 0xE0) { k = 2; min = 0x800; c &= 0x0F; }
        else if ((c & 0xF8) == 0xF0) { k = 3; min = 0x10000; c &= 0x07; }
        else return i;
        cp = c;
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= len || (s[i + j] & 0xC0) != 0x80) return i;
            cp = (cp << 6) | (s[i + j] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
        i += k + 1;
    }
    return len;
}

static void test_utf8_prefix_matches_bytewise(void **st)
{
    (void)st;
    static const char *const bits[] = { "a", "abcdefghij", "\xe5\x8c\xbb", "\xc3\xa9", "\xf0\x9f\x98\x80", "\xff",
                                        "\xe5\x8c", "\x80", "\xed\xa0\x80", "0123456789012345678" };
    uint64_t r = 99;
    for (int t = 0; t < 200000; t++) {
        unsigned char buf[256];
        size_t n = 0;
        int parts = 1 + t % 12;
        for (int k = 0; k < parts; k++) {
            r = r * 6364136223846793005ULL + 1442695040888963407ULL;
            const char *b = bits[(r >> 33) % 10];
            if ((r >> 20) % 4) b = bits[(r >> 40) % 2 ? 1 : 9];         /* mostly ASCII */
            size_t l = strlen(b);
            memcpy(buf + n, b, l);
            n += l;
        }
        assert_int_equal(ns_utf8_valid_prefix((const char *)buf, n), ref_valid_prefix(buf, n));
    }
}

/* The block check (64 bytes at a time, with AVX-512) against the reference: every pair of
 * bytes, and every lead byte with every third byte, placed across the start, the middle
 * and the ends of blocks, after text of each length class; and a run of blocks that are
 * all valid but for one byte, with the block check on and off (ns_simd). */
static void u8_case(unsigned char *buf, size_t n)
{
    assert_int_equal(ns_utf8_valid_prefix((const char *)buf, n), ref_valid_prefix(buf, n));
}

static void test_utf8_blocks(void **st)
{
    (void)st;
    static const char *const lead[] = { "a", "\xc3\xa9", "\xe5\x8c\xbb", "\xf0\x9f\x98\x80" };
    static const size_t at[] = { 0, 1, 3, 61, 62, 63, 64, 66, 127, 128 };
    static const unsigned char tail[] = { 0x41, 0x80, 0x9F, 0xBF, 0xC3, 0xE5, 0xF0 };
    unsigned char buf[200];
    for (int simd = 1; simd >= 0; simd--) {
        ns_simd = simd;
        for (size_t a = 0; simd && a < sizeof at / sizeof *at; a++)     /* the block check's cases */
            for (int l = 0; l < 4; l++) {
                /* valid text of one class up to the pair, ASCII after it */
                const size_t ll = strlen(lead[l]);
                size_t n = 0;
                while (n + ll <= at[a]) { memcpy(buf + n, lead[l], ll); n += ll; }
                while (n < at[a]) buf[n++] = 'x';
                for (unsigned b0 = 0x80; b0 <= 0xFF; b0++)
                    for (unsigned b1 = 0; b1 <= 0xFF; b1 += (b1 >= 0x70 && b1 < 0xC8) ? 1 : 7) {
                        memset(buf + n, 'y', sizeof buf - n);
                        buf[n] = (unsigned char)b0;
                        buf[n + 1] = (unsigned char)b1;
                        buf[n + 2] = buf[n + 3] = 0x80;
                        u8_case(buf, sizeof buf);
                        u8_case(buf, n + 2);                    /* cut after the pair */
                        if (b0 < 0xE0 || b1 < 0x80 || b1 > 0xBF) continue;
                        for (size_t t = 0; t < sizeof tail; t++) {
                            buf[n + 2] = tail[t];
                            u8_case(buf, sizeof buf);
                            if (b0 < 0xF0 || tail[t] < 0x80 || tail[t] > 0xBF) continue;
                            for (size_t t3 = 0; t3 < sizeof tail; t3++) {
                                buf[n + 3] = tail[t3];
                                u8_case(buf, sizeof buf);
                                u8_case(buf, n + 4);
                            }
                            buf[n + 3] = 0x80;
                        }
                    }
            }
        /* long valid text, one byte in it broken, each position in turn */
        static unsigned char big[1024];
        uint64_t r = 7;
        size_t n = 0;
        while (n + 4 <= sizeof big) {
            r = r * 6364136223846793005ULL + 1442695040888963407ULL;
            const char *c = lead[(r >> 33) % 4];
            memcpy(big + n, c, strlen(c));
            n += strlen(c);
        }
        u8_case(big, n);
        for (size_t i = 0; i < n; i++) {
            const unsigned char keep = big[i];
            big[i] = keep < 0x80 ? 0x80 : keep >= 0xC0 ? 0x41 : 0xFF;
            u8_case(big, n);
            big[i] = keep;
        }
    }
    ns_simd = 1;
}

static void test_decode(void **st)
{
    (void)st;
    char *out;
    size_t n;
    char enc[8];
    ns_decode_err_t e;
    /* UTF-8 with BOM: BOM dropped */
    assert_int_equal(ns_decode_text("\xEF\xBB\xBF" "a,b\n", 7, &out, &n, enc, &e), 0);
    assert_string_equal(out, "a,b\n");
    assert_string_equal(enc, "utf-8");
    free(out);
    /* GBK "北京" = B1 B1 BE A9 (not valid UTF-8, so decoded as GBK) */
    assert_int_equal(ns_decode_text("x,\xB1\xB1\xBE\xA9\n", 7, &out, &n, enc, &e), 0);
    assert_string_equal(out, "x,\xe5\x8c\x97\xe4\xba\xac\n");
    assert_string_equal(enc, "gbk");
    free(out);
    /* neither: 0xFF is not a GBK lead byte */
    assert_int_equal(ns_decode_text("a\nbc\xFF\xFF\n", 7, &out, &n, enc, &e), -1);
    assert_null(out);
    assert_int_equal(e.line, 2);
    assert_int_equal(e.col, 3);
    /* UTF-8 Chinese with one stray Latin-1 byte: corrupted UTF-8, not GBK mojibake */
    const char *u8 = "\xe4\xba\xa7\xe6\x88\xbf,\xe4\xba\xa7\xe6\x88\xbf,\xb5g\n";
    assert_int_equal(ns_decode_text(u8, strlen(u8), &out, &n, enc, &e), -1);
    assert_int_equal(e.line, 1);
    assert_int_equal(e.col, 7);
    /* UTF-16 refused with a message that says so */
    assert_int_equal(ns_decode_text("\xFF\xFE" "a\0", 4, &out, &n, enc, &e), -1);
    assert_non_null(strstr(e.msg, "UTF-16"));
    assert_int_equal(ns_utf8_valid_prefix("ab\xC3", 3), 2);           /* truncated */
    assert_int_equal(ns_utf8_valid_prefix("\xC0\x80", 2), 0);         /* overlong */
    assert_int_equal(ns_utf8_valid_prefix("\xED\xA0\x80", 3), 0);     /* surrogate */
}

/* the owned variant: UTF-8 used where it lies (BOM moved off), GBK decoded into a new
 * buffer, a failure leaving the caller's bytes as they were */
static char *owned(const char *s, size_t n)
{
    char *b = malloc(n + 1);
    memcpy(b, s, n);
    b[n] = 'Z';                     /* the terminator must be written, not found */
    return b;
}

static void test_decode_owned(void **st)
{
    (void)st;
    char *out, enc[8];
    size_t n;
    ns_decode_err_t e;
    char *raw = owned("\xEF\xBB\xBF" "a,\xe5\x8c\x97\n", 9);
    assert_int_equal(ns_decode_text_owned(raw, 9, &out, &n, enc, &e), 0);
    assert_ptr_equal(out, raw);
    assert_int_equal(n, 6);
    assert_string_equal(out, "a,\xe5\x8c\x97\n");
    assert_string_equal(enc, "utf-8");
    free(raw);
    raw = owned("a,b", 3);
    assert_int_equal(ns_decode_text_owned(raw, 3, &out, &n, enc, &e), 0);
    assert_ptr_equal(out, raw);
    assert_string_equal(out, "a,b");
    free(raw);
    raw = owned("x,\xB1\xB1\xBE\xA9\n", 7);
    assert_int_equal(ns_decode_text_owned(raw, 7, &out, &n, enc, &e), 0);
    assert_true(out != raw);
    assert_string_equal(out, "x,\xe5\x8c\x97\xe4\xba\xac\n");
    assert_string_equal(enc, "gbk");
    free(out);
    free(raw);
    raw = owned("\xEF\xBB\xBF" "a\nbc\xFF\xFF\n", 10);
    assert_int_equal(ns_decode_text_owned(raw, 10, &out, &n, enc, &e), -1);
    assert_null(out);
    assert_memory_equal(raw, "\xEF\xBB\xBF" "a\nbc\xFF\xFF\n", 10);
    assert_int_equal(e.line, 2);
    free(raw);
}

static void test_cells(void **st)
{
    (void)st;
    double v;
    uint8_t k;
    assert_int_equal(ns_parse_cell("1.25", &v, &k), 0);
    assert_true(v == 1.25 && k == NS_CELL_VALUE);
    assert_int_equal(ns_parse_cell("<0.01", &v, &k), 0);
    assert_true(v == 0.01 && k == NS_CELL_BELOW);
    assert_int_equal(ns_parse_cell("ND", &v, &k), 0);
    assert_true(v == 0.0 && k == NS_CELL_ND);
    assert_int_equal(ns_parse_cell("", &v, &k), 0);
    assert_true(isnan(v) && k == NS_CELL_EMPTY);
    assert_int_equal(ns_parse_cell("NaN", &v, &k), 0);
    assert_true(isnan(v) && k == NS_CELL_NAN);
    assert_int_equal(ns_parse_cell("2e-3", &v, &k), 0);
    assert_true(v == 2e-3);
    const char *bad[] = { "abc", "1.2.3", "0x1A", "inf", "1,5", "<", "<-1", "12abc", " ", "--1" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(ns_parse_cell(bad[i], &v, &k), -1);
}

static void test_wells(void **st)
{
    (void)st;
    char w[4];
    assert_int_equal(ns_parse_well("A1", 8, 12, w), 0);
    assert_string_equal(w, "A01");
    assert_int_equal(ns_parse_well("h12", 8, 12, w), 0);
    assert_string_equal(w, "H12");
    assert_int_equal(ns_parse_well("I13", 8, 12, w), -2);
    assert_int_equal(ns_parse_well("A13", 8, 12, w), -2);
    assert_int_equal(ns_parse_well("I13", 16, 24, w), 0);
    assert_int_equal(ns_parse_well("A00", 8, 12, w), -1);
    assert_int_equal(ns_parse_well("1A", 8, 12, w), -1);
    assert_int_equal(ns_parse_well("A1x", 8, 12, w), -1);
    assert_int_equal(ns_parse_well("", 8, 12, w), -1);
}

/* ns_csv_next_plain on random texts, with the AVX-512 splitter and without (util.h:
 * ns_simd): every line either path takes is the general reader's record (ns_csv_next from
 * the same place: the same fields, the reader left at the same byte), the lines it leaves
 * are read by ns_csv_next, and the AVX-512 path takes every line the other one takes.
 * Lines of 0 to 300 bytes (so fields and line ends fall on every side of the 64- and
 * 16-byte blocks), with blanks, quotes, lone and paired CRs, empty fields, a wrong number
 * of fields, blank lines, and a last line with or without its LF. */
static uint64_t split_rng = 0x73706c6974746572ULL;   /* "splitter" */

static unsigned split_below(unsigned n)
{
    split_rng = split_rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned)((split_rng >> 33) % n);
}

static size_t gen_text(char *b, size_t cap, int nf)
{
    static const char odd[] = " \t\"\r,x";
    size_t n = 0;
    int lines = 1 + (int)split_below(12);
    for (int l = 0; l < lines && n + 400 < cap; l++) {
        int f = split_below(8) ? nf : nf - 1 + (int)split_below(3);   /* mostly nf fields */
        if (split_below(16) == 0) f = 0;                                /* a blank line */
        for (int k = 0; k < f; k++) {
            if (k) b[n++] = ',';
            int w = split_below(4) ? (int)split_below(8) : (int)split_below(40);
            for (int i = 0; i < w; i++)
                b[n++] = split_below(40) ? (char)('0' + split_below(10)) : odd[split_below(sizeof odd - 1)];
        }
        if (split_below(6) == 0) b[n++] = '\r';
        if (l + 1 < lines || split_below(2)) b[n++] = '\n';
    }
    return n;
}

/* walk the text; bit i of taken[] set for a line starting at byte i that the plain path took */
static size_t walk_plain(const char *text, size_t n, int nf, unsigned char *taken, size_t *bad)
{
    ns_csv_t c, g;
    ns_csv_init(&c, text, n);
    ns_csv_init(&g, text, n);
    size_t sp[64], plain = 0;
    for (;;) {
        const size_t pos = c.pos;
        const int line = c.line, col = c.col;
        if (ns_csv_next_plain(&c, nf, sp)) {
            plain++;
            taken[pos / 8] |= (unsigned char)(1u << (pos % 8));
            g.pos = pos, g.line = line, g.col = col;
            int ok = ns_csv_next(&g) == 1 && g.nf == nf && g.pos == c.pos && g.line == c.line;
            for (int k = 0; ok && k < nf; k++) {
                size_t fl = sp[2 * k + 1] - sp[2 * k];
                ok = strlen(g.f[k]) == fl && memcmp(g.f[k], text + sp[2 * k], fl) == 0;
            }
            if (!ok && (*bad)++ < 5)
                fprintf(stderr, "plain line at byte %zu (simd %d) is not the general reader's record\n", pos, ns_simd);
        } else if (ns_csv_next(&c) == 0) break;
    }
    ns_csv_free(&c);
    ns_csv_free(&g);
    return plain;
}

static void test_plain_split(void **st)
{
    (void)st;
    static char text[8192];
    static unsigned char t0[1024], t1[1024];
    size_t n0 = 0, n1 = 0, bad = 0;
    for (int round = 0; round < 20000; round++) {
        const int nf = 1 + (int)split_below(30);
        size_t n = gen_text(text, sizeof text, nf);
        memset(t0, 0, sizeof t0);
        memset(t1, 0, sizeof t1);
        ns_simd = 0;
        n0 += walk_plain(text, n, nf, t0, &bad);
        ns_simd = 1;
        n1 += walk_plain(text, n, nf, t1, &bad);
        for (size_t i = 0; i < sizeof t0; i++)
            if ((t0[i] & ~t1[i]) && bad++ < 5) fprintf(stderr, "a line near byte %zu taken without AVX-512 only\n", 8 * i);
    }
    fprintf(stderr, "test_csv: plain lines as the general reader's records: %zu without AVX-512, %zu with (%s here)\n",
            n0, n1, ns_cpu_avx512() ? "available" : "not available");
    assert_int_equal(bad, 0);
    assert_true(n0 > 10000);
    assert_true(n1 >= n0);
}

/* ns_csv_next_quoted the same way: random lines whose fields are plain or quoted (with ""
 * inside, blanks around the quotes, commas, CRs and line breaks inside, text after the
 * closing quote, an unterminated quote at the end); every line it takes is the general
 * reader's record, field by field once unescaped, and it takes lines with quotes. */
static size_t gen_quoted(char *b, size_t cap, int nf)
{
    static const char odd[] = " \t\"\r\n,x";
    size_t n = 0;
    int lines = 1 + (int)split_below(12);
    for (int l = 0; l < lines && n + 800 < cap; l++) {
        int f = split_below(8) ? nf : nf - 1 + (int)split_below(3);
        if (split_below(16) == 0) f = 0;
        for (int k = 0; k < f; k++) {
            if (k) b[n++] = ',';
            const int q = split_below(3) == 0;
            if (q && split_below(4) == 0) b[n++] = ' ';
            if (q) b[n++] = '"';
            int w = split_below(4) ? (int)split_below(8) : (int)split_below(40);
            for (int i = 0; i < w; i++) {
                char ch = split_below(30) ? (char)('a' + split_below(26)) : odd[split_below(sizeof odd - 1)];
                if (ch == '\n' && !q && split_below(2)) ch = 'n';
                b[n++] = ch;
                if (ch == '"' && q && split_below(8)) b[n++] = '"';     /* mostly escaped */
            }
            if (q && split_below(40)) b[n++] = '"';                  /* now and then unterminated */
            if (q && split_below(6) == 0) b[n++] = split_below(2) ? '\t' : 'z';
        }
        if (split_below(6) == 0) b[n++] = '\r';
        if (l + 1 < lines || split_below(2)) b[n++] = '\n';
    }
    return n;
}

/* walk the text with ns_csv_next_quoted; bit i of taken[] set for a line starting at
 * byte i that it took; counts of its lines with quotes and with "" added up */
static void walk_quoted(const char *text, size_t n, int nf, unsigned char *taken, size_t *n_taken,
                        size_t *with_quotes, size_t *with_escapes, size_t *bad)
{
    static char val[1024];
    ns_csv_t c, g;
    ns_csv_init(&c, text, n);
    ns_csv_init(&g, text, n);
    size_t sp[64];
    unsigned char qd[32];
    for (;;) {
        const size_t pos = c.pos;
        const int line = c.line, col = c.col;
        if (ns_csv_next_quoted(&c, nf, sp, qd)) {
            (*n_taken)++;
            taken[pos / 8] |= (unsigned char)(1u << (pos % 8));
            g.pos = pos, g.line = line, g.col = col;
            int ok = ns_csv_next(&g) == 1 && g.nf == nf && g.pos == c.pos && g.line == c.line && c.col == 1;
            int anyq = 0, anye = 0;
            for (int k = 0; ok && k < nf; k++) {
                size_t fl = sp[2 * k + 1] - sp[2 * k];
                const char *v = text + sp[2 * k];
                ok = qd[k] <= 2;
                anyq |= qd[k] != 0;
                if (qd[k] == 2) {
                    anye = 1;
                    fl = ns_csv_unescape(v, fl, val);
                    v = val;
                }
                ok = ok && strlen(g.f[k]) == fl && memcmp(g.f[k], v, fl) == 0;
            }
            *with_quotes += anyq;
            *with_escapes += anye;
            if (!ok && (*bad)++ < 5)
                fprintf(stderr, "quoted line at byte %zu (simd %d) is not the general reader's record\n", pos, ns_simd);
        } else {
            if (c.pos != pos || c.line != line || c.col != col) {
                if ((*bad)++ < 5) fprintf(stderr, "a line left at byte %zu moved the reader (simd %d)\n", pos, ns_simd);
                break;
            }
            if (ns_csv_next(&c) == 0) break;
        }
    }
    ns_csv_free(&c);
    ns_csv_free(&g);
}

/* ...with the AVX-512 splitter and without: every line either takes is the general
 * reader's record, and both take the same lines */
static void test_quoted_split(void **st)
{
    (void)st;
    static char text[16384];
    static unsigned char t0[2048], t1[2048];
    size_t taken[2] = { 0, 0 }, with_quotes[2] = { 0, 0 }, with_escapes[2] = { 0, 0 }, bad = 0;
    for (int round = 0; round < 20000; round++) {
        const int nf = 1 + (int)split_below(12);
        size_t n = gen_quoted(text, sizeof text, nf);
        memset(t0, 0, sizeof t0);
        memset(t1, 0, sizeof t1);
        ns_simd = 0;
        walk_quoted(text, n, nf, t0, &taken[0], &with_quotes[0], &with_escapes[0], &bad);
        ns_simd = 1;
        walk_quoted(text, n, nf, t1, &taken[1], &with_quotes[1], &with_escapes[1], &bad);
        if (memcmp(t0, t1, sizeof t0) != 0 && bad++ < 5) fprintf(stderr, "round %d: the two ways took other lines\n", round);
    }
    fprintf(stderr, "test_csv: %zu quoted-path lines as the general reader's records (%zu with quotes, %zu with \"\"), "
            "the same with AVX-512 (%s here)\n", taken[0], with_quotes[0], with_escapes[0],
            ns_cpu_avx512() ? "available" : "not available");
    assert_int_equal(bad, 0);
    assert_int_equal(taken[0], taken[1]);
    assert_true(with_quotes[0] > 5000);
    assert_true(with_escapes[0] > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_and_crlf),
        cmocka_unit_test(test_quotes),
        cmocka_unit_test(test_blank_lines_and_empty_fields),
        cmocka_unit_test(test_errors_have_positions),
        cmocka_unit_test(test_field_lines_and_resync),
        cmocka_unit_test(test_columns_count_characters),
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_decode_owned),
        cmocka_unit_test(test_utf8_prefix_matches_bytewise),
        cmocka_unit_test(test_utf8_blocks),
        cmocka_unit_test(test_cells),
        cmocka_unit_test(test_wells),
        cmocka_unit_test(test_plain_split),
        cmocka_unit_test(test_quoted_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
