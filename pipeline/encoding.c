/* encoding.c — see encoding.h. */
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include "encoding.h"
#include "util.h"

size_t ns_utf8_valid_prefix(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
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
