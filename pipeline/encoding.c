/* encoding.c — see encoding.h. */
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include "encoding.h"
#include "util.h"

/* ---- UTF-8 validation, 64 bytes at a time (AVX-512) ------------------------------------
 *
 * The lookup algorithm of Keiser and Lemire ("Validating UTF-8 in less than one instruction
 * per byte", Software: Practice and Experience 51(5), 2021), as simdjson and simdutf use it.
 * Each byte is classified together with the byte before it by three 16-entry tables (the
 * high nibble of the byte before, its low nibble, the high nibble of the byte itself); the
 * AND of the three is the set of errors that pair makes: a lead byte not followed by a
 * continuation (TOO_SHORT), a continuation with no lead (TOO_LONG, TWO_CONTS), overlong
 * forms, surrogates, code points above U+10FFFF.  The third and fourth bytes of a sequence
 * are checked by where the lead byte two or three back says continuations must be.
 *
 * It only tells whether a block has an error, not where: ns_utf8_valid_prefix takes the
 * blocks up to the first one with an error (or up to the last whole block), backs up to a
 * character boundary at least four bytes before that block, and finds the exact prefix from
 * there byte by byte.  A manifest with Chinese names on half its lines (1M rows, 151 MB)
 * took 0.10 s byte by byte; the rule is the same (tests/unit/test_csv.c checks the two
 * against a reference on every error class at every offset). */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define U8_X64 1

enum {
    TOO_SHORT = 1 << 0,         /* 11______ 0_______, 11______ 11______ */
    TOO_LONG = 1 << 1,          /* 0_______ 10______ */
    OVERLONG_3 = 1 << 2,        /* 11100000 100_____ */
    TOO_LARGE = 1 << 3,         /* 11110100 1001____ and above */
    SURROGATE = 1 << 4,         /* 11101101 101_____ */
    OVERLONG_2 = 1 << 5,        /* 1100000_ 10______ */
    TOO_LARGE_1000 = 1 << 6,    /* 11110101 1000____ and above */
    OVERLONG_4 = 1 << 6,        /* 11110000 1000____ */
    TWO_CONTS = 1 << 7,         /* 10______ 10______ */
    CARRY = TOO_SHORT | TOO_LONG | TWO_CONTS,
};

#define U8_TARGET __attribute__((target("avx512f,avx512bw")))

/* the classes of a pair by the byte before: its high nibble, its low nibble; and by the
 * byte itself: its high nibble */
static const uint8_t u8_b1_high[16] = {TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG,
                                 TWO_CONTS, TWO_CONTS, TWO_CONTS, TWO_CONTS, TOO_SHORT | OVERLONG_2, TOO_SHORT,
                                 TOO_SHORT | OVERLONG_3 | SURROGATE,
                                 TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4};
static const uint8_t u8_b1_low[16] = {CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4, CARRY | OVERLONG_2, CARRY, CARRY,
                                CARRY | TOO_LARGE, CARRY | TOO_LARGE | TOO_LARGE_1000,
                                CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
                                CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
                                CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
                                CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000 | SURROGATE,
                                CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000};
static const uint8_t u8_b2_high[16] = {TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,
                                 TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE_1000 | OVERLONG_4,
                                 TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE,
                                 TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
                                 TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
                                 TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT};

/* a 16-byte table in every 128-bit lane, for _mm512_shuffle_epi8 */
#define U8_TABLE(t) _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(const void *)(t)))

/* the bytes of x moved up by n (1..3), the top n of prev coming in below */
#define U8_PREV(x, prev, n) _mm512_alignr_epi8((x), _mm512_permutex2var_epi64((prev), up, (x)), 16 - (n))

/* How many bytes of s (whole blocks of 64, from the start) hold no error; the blocks are
 * not checked for a sequence cut at their end (the caller's byte-by-byte pass is). */
U8_TARGET static size_t utf8_blocks_avx512(const unsigned char *s, size_t len)
{
    const __m512i b1_high = U8_TABLE(u8_b1_high), b1_low = U8_TABLE(u8_b1_low), b2_high = U8_TABLE(u8_b2_high);
    const __m512i up = _mm512_set_epi64(13, 12, 11, 10, 9, 8, 7, 6);  /* prev's top lane, x's lanes 0-2 */
    const __m512i nib = _mm512_set1_epi8(0x0F);
    __m512i prev = _mm512_setzero_si512();
    size_t i = 0;
    for (; i + 64 <= len; i += 64) {
        const __m512i x = _mm512_loadu_si512((const void *)(s + i));
        if (!_mm512_movepi8_mask(x) && !_mm512_movepi8_mask(prev)) {   /* ASCII after ASCII */
            prev = x;
            continue;
        }
        const __m512i p1 = U8_PREV(x, prev, 1), p2 = U8_PREV(x, prev, 2), p3 = U8_PREV(x, prev, 3);
        const __m512i sc = _mm512_and_si512(
            _mm512_and_si512(_mm512_shuffle_epi8(b1_high, _mm512_and_si512(_mm512_srli_epi16(p1, 4), nib)),
                             _mm512_shuffle_epi8(b1_low, _mm512_and_si512(p1, nib))),
            _mm512_shuffle_epi8(b2_high, _mm512_and_si512(_mm512_srli_epi16(x, 4), nib)));
        /* third and fourth bytes: 0x80 where a lead two or three back asks for one */
        const __m512i must = _mm512_or_si512(_mm512_subs_epu8(p2, _mm512_set1_epi8((char)(0xE0 - 0x80))),
                                             _mm512_subs_epu8(p3, _mm512_set1_epi8((char)(0xF0 - 0x80))));
        const __m512i err = _mm512_xor_si512(_mm512_and_si512(must, _mm512_set1_epi8((char)0x80)), sc);
        if (_mm512_test_epi8_mask(err, err)) break;
        prev = x;
    }
    return i;
}
#endif

size_t ns_utf8_valid_prefix(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
#ifdef U8_X64
    if (len >= 64 && ns_cpu_avx512()) {
        /* every character that starts four or more bytes before the first unchecked byte
         * ends inside the checked blocks, and is valid */
        const size_t ok = utf8_blocks_avx512(s, len);
        if (ok >= 4) {
            i = ok - 4;
            while (i > 0 && (s[i] & 0xC0) == 0x80) i--;
        }
    }
#endif
    while (i < len) {
        /* ASCII, eight bytes at a time */
        while (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, s + i, sizeof w);
            if (w & 0x8080808080808080ULL) break;
            i += 8;
        }
        if (i >= len) break;
        unsigned c = s[i];
        size_t k;
        unsigned min;
        if (c < 0x80) { i++; continue; }
        else if ((c & 0xE0) == 0xC0) { k = 1; min = 0x80; c &= 0x1F; }
        else if ((c & 0xF0) == 0xE0) { k = 2; min = 0x800; c &= 0x0F; }
        else if ((c & 0xF8) == 0xF0) { k = 3; min = 0x10000; c &= 0x07; }
        else return i;
        unsigned cp = c;
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= len || (s[i + j] & 0xC0) != 0x80) return i;
            cp = (cp << 6) | (s[i + j] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
        i += k + 1;
    }
    return len;
}

void ns_utf8_clip(char *s)
{
    size_t n = strlen(s), v = ns_utf8_valid_prefix(s, n);
    if (v < n && n - v < 4) s[v] = 0;   /* only a cut-off tail; invalid text stays visible */
}

/* line and column (in characters) of byte offset off; the text before off is UTF-8, or
 * GBK when gbk is set (a lead byte >= 0x81 starts a two-byte character there) */
static void position_of(const char *s, size_t off, int gbk, int *line, int *col)
{
    int l = 1, c = 1;
    for (size_t i = 0; i < off; i++) {
        unsigned char b = (unsigned char)s[i];
        if (b == '\n') { l++; c = 1; }
        else if (gbk && b >= 0x81) { c++; i++; }
        else if (gbk || (b & 0xC0) != 0x80) c++;
    }
    *line = l;
    *col = c;
}

static int fail(ns_decode_err_t *err, const char *s, size_t off, int gbk, const char *msg)
{
    position_of(s, off, gbk, &err->line, &err->col);
    snprintf(err->msg, sizeof err->msg, "%s", msg);
    return -1;
}

static int decode(const char *raw, size_t len, char *own, char **out, size_t *out_len, char enc[8],
                  ns_decode_err_t *err)
{
    *out = NULL;
    if (len >= 2 && ((raw[0] == '\xFF' && raw[1] == '\xFE') || (raw[0] == '\xFE' && raw[1] == '\xFF')))
        return fail(err, raw, 0, 0, "file is UTF-16 or UTF-32 (byte-order mark); export as UTF-8 or GBK");
    const char *nul = memchr(raw, 0, len);
    if (nul) return fail(err, raw, (size_t)(nul - raw), 0, "NUL byte: this is not a text file");

    if (len >= 3 && memcmp(raw, "\xEF\xBB\xBF", 3) == 0) { raw += 3; len -= 3; }
    if (ns_utf8_valid_prefix(raw, len) == len) {
        if (own) {                  /* in place: a BOM is moved off, the NUL is room the owner left */
            if (raw != own) memmove(own, raw, len);
            own[len] = 0;
            *out = own;
        } else *out = ns_strndup(raw, len);
        *out_len = len;
        strcpy(enc, "utf-8");
        return 0;
    }

    /* Not UTF-8 throughout.  If the valid part already holds several three- or four-byte
     * UTF-8 sequences (CJK text), the file is UTF-8 with a bad byte: decoding it as GBK
     * would "succeed" and turn the Chinese text into mojibake.  GBK text almost never forms
     * even one such sequence by chance before its first non-UTF-8 byte, let alone four. */
    size_t u = ns_utf8_valid_prefix(raw, len);
    int n_wide = 0;
    for (size_t i = 0; i < u; i++) n_wide += (unsigned char)raw[i] >= 0xE0;
    if (n_wide >= 4)
        return fail(err, raw, u, 0, "invalid UTF-8 byte in a UTF-8 file (the text before it is UTF-8, not GBK)");

    /* GBK (CP936), the encoding of Chinese Windows exports */
    iconv_t cd = iconv_open("UTF-8", "GBK");
    if (cd == (iconv_t)-1)
        return fail(err, raw, u, 0, "not valid UTF-8, and GBK decoding is not available (iconv)");
    size_t cap = len * 3 / 2 + 16;
    char *buf = ns_malloc(cap + 1);
    char *in = (char *)raw, *o = buf;
    size_t inleft = len, outleft = cap;
    while (inleft > 0) {
        if (iconv(cd, &in, &inleft, &o, &outleft) != (size_t)-1) continue;
        if (errno == E2BIG) {
            size_t used = (size_t)(o - buf);
            cap *= 2;
            buf = ns_realloc(buf, cap + 1);
            o = buf + used;
            outleft = cap - used;
            continue;
        }
        /* EILSEQ / EINVAL: neither encoding reads the file; point at the byte where the
         * reading that got further stopped, counted in that encoding's characters */
        size_t g = (size_t)(in - raw);
        int e = errno;
        iconv_close(cd);
        free(buf);
        const char *msg = e == EINVAL && g >= u ? "truncated character at end of file (neither UTF-8 nor GBK)"
                                                : "byte sequence is neither UTF-8 nor GBK";
        return g >= u ? fail(err, raw, g, 1, msg) : fail(err, raw, u, 0, msg);
    }
    iconv_close(cd);
    *o = 0;
    *out = buf;
    *out_len = (size_t)(o - buf);
    strcpy(enc, "gbk");
    return 0;
}

int ns_decode_text(const char *raw, size_t len, char **out, size_t *out_len, char enc[8],
                   ns_decode_err_t *err)
{
    return decode(raw, len, NULL, out, out_len, enc, err);
}

int ns_decode_text_owned(char *raw, size_t len, char **out, size_t *out_len, char enc[8],
                         ns_decode_err_t *err)
{
    return decode(raw, len, raw, out, out_len, enc, err);
}

const char *ns_clip_cell(char buf[200], const char *s)
{
    size_t i = 0, chars = 0;
    while (s[i] && chars < 40) {
        size_t k = 1;
        while (((unsigned char)s[i + k] & 0xC0) == 0x80) k++;
        i += k;
        chars++;
    }
    if (!s[i]) return s;
    snprintf(buf, 200, "%.*s...", (int)i, s);
    return buf;
}
