/* xlsx_read.c — the first worksheet of an XLSX file as text cells (xlsx_read.h).
 *
 * ZIP: the end-of-central-directory record gives the central directory; each entry gives
 * its local header, whose data is stored (method 0) or raw deflate (method 8, zlib
 * inflate with -15 window bits).  XML: a forward scan for the few elements a sheet needs
 * (<si>, <t>, <row>, <c>, <v>, <is>); entities &amp; &lt; &gt; &quot; &apos; &#N; &#xN;.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>
#include "util.h"
#include "xlsx_read.h"

#define MEMBER_MAX (64u << 20)
#define MAX_ROWS 1048576
#define MAX_COLS 16384
#define MAX_CELLS (1 << 24)   /* cells held at once, empty ones between filled ones included */

static uint32_t u16(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t u32(const unsigned char *p) { return u16(p) | u16(p + 2) << 16; }

/* the member called name, inflated (NUL-terminated) into *out; 0, 1 = no such member, -1 */
static int member(const unsigned char *z, size_t n, const char *name, char **out, size_t *olen, char *why, size_t wn)
{
    *out = NULL;
    if (n < 22) { snprintf(why, wn, "not an XLSX (ZIP) file"); return -1; }
    size_t e = n - 22;
    size_t stop = n > 22 + 65535 ? n - 22 - 65535 : 0;
    for (;; e--) {
        if (u32(z + e) == 0x06054b50) break;
        if (e == stop) { snprintf(why, wn, "not an XLSX (ZIP) file"); return -1; }
    }
    uint32_t cnt = u16(z + e + 10), cd = u32(z + e + 16);
    size_t p = cd;
    for (uint32_t k = 0; k < cnt; k++) {
        if (p + 46 > n || u32(z + p) != 0x02014b50) { snprintf(why, wn, "damaged ZIP directory"); return -1; }
        uint32_t method = u16(z + p + 10), csize = u32(z + p + 20), usize = u32(z + p + 24);
        uint32_t nl = u16(z + p + 28), xl = u16(z + p + 30), cl = u16(z + p + 32), lho = u32(z + p + 42);
        if (p + 46 + nl > n) { snprintf(why, wn, "damaged ZIP directory"); return -1; }
        const char *nm = (const char *)z + p + 46;
        int match = strlen(name) == nl && memcmp(nm, name, nl) == 0;
        /* a name ending in "*": the first .xml member of that directory */
        if (!match && name[strlen(name) - 1] == '*') {
            size_t pl = strlen(name) - 1;
            match = nl > pl + 4 && memcmp(nm, name, pl) == 0 && memcmp(nm + nl - 4, ".xml", 4) == 0
                    && !memchr(nm + pl, '/', nl - pl);
        }
        p += 46 + nl + xl + cl;
        if (!match) continue;
        if ((size_t)lho + 30 > n || u32(z + lho) != 0x04034b50) { snprintf(why, wn, "damaged ZIP member"); return -1; }
        size_t data = (size_t)lho + 30 + u16(z + lho + 26) + u16(z + lho + 28);
        if (data + csize > n) { snprintf(why, wn, "damaged ZIP member (truncated file?)"); return -1; }
        if (usize > MEMBER_MAX) { snprintf(why, wn, "a sheet larger than %u MiB", MEMBER_MAX >> 20); return -1; }
        char *buf = ns_malloc((size_t)usize + 1);
        if (method == 0) {
            if (csize != usize) { free(buf); snprintf(why, wn, "damaged ZIP member"); return -1; }
            memcpy(buf, z + data, usize);
        } else if (method == 8) {
            z_stream s;
            memset(&s, 0, sizeof s);
            if (inflateInit2(&s, -15) != Z_OK) { free(buf); snprintf(why, wn, "zlib failed"); return -1; }
            s.next_in = (unsigned char *)(z + data);
            s.avail_in = csize;
            s.next_out = (unsigned char *)buf;
            s.avail_out = usize;
            int rc = inflate(&s, Z_FINISH);
            inflateEnd(&s);
            if (rc != Z_STREAM_END || s.total_out != usize) {
                free(buf);
                snprintf(why, wn, "damaged ZIP member (deflate data)");
                return -1;
            }
        } else {
            free(buf);
            snprintf(why, wn, "ZIP compression method %u is not supported", method);
            return -1;
        }
        buf[usize] = 0;
        *out = buf;
        if (olen) *olen = usize;
        return 0;
    }
    return 1;
}

/* append the UTF-8 of code point c */
static size_t put_utf8(char *o, unsigned long c)
{
    if (c < 0x80) { o[0] = (char)c; return 1; }
    if (c < 0x800) { o[0] = (char)(0xc0 | c >> 6); o[1] = (char)(0x80 | (c & 0x3f)); return 2; }
    if (c < 0x10000) {
        o[0] = (char)(0xe0 | c >> 12); o[1] = (char)(0x80 | (c >> 6 & 0x3f)); o[2] = (char)(0x80 | (c & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | c >> 18); o[1] = (char)(0x80 | (c >> 12 & 0x3f));
    o[2] = (char)(0x80 | (c >> 6 & 0x3f)); o[3] = (char)(0x80 | (c & 0x3f));
    return 4;
}

/* text of s[0..n) with entities decoded, appended to *acc */
static void add_text(char **acc, size_t *alen, const char *s, size_t n)
{
    *acc = ns_realloc(*acc, *alen + n + 1);
    char *o = *acc + *alen;
    for (size_t i = 0; i < n;) {
        if (s[i] != '&') { *o++ = s[i++]; continue; }
        const char *e = memchr(s + i, ';', n - i);
        size_t L = e ? (size_t)(e - (s + i)) : 0;
        if (L == 3 && !strncmp(s + i, "&lt", 3)) *o++ = '<';
        else if (L == 3 && !strncmp(s + i, "&gt", 3)) *o++ = '>';
        else if (L == 4 && !strncmp(s + i, "&amp", 4)) *o++ = '&';
        else if (L == 5 && !strncmp(s + i, "&quot", 5)) *o++ = '"';
        else if (L == 5 && !strncmp(s + i, "&apos", 5)) *o++ = '\'';
        else if (L > 2 && s[i + 1] == '#') {
            unsigned long c = s[i + 2] == 'x' ? strtoul(s + i + 3, NULL, 16) : strtoul(s + i + 2, NULL, 10);
            if (c == 0 || c > 0x10ffff) c = 0xfffd;
            o += put_utf8(o, c);        /* at most 4 bytes for an entity of >= 4 */
        } else { *o++ = s[i++]; continue; }
        i += L + 1;
    }
    *alen = (size_t)(o - *acc);
    (*acc)[*alen] = 0;
}

/* the start of the next element named tag ("<t" followed by '>' ' ' or '/') at or after p,
 * before end; NULL if none */
static const char *find_tag(const char *p, const char *end, const char *tag)
{
    size_t L = strlen(tag);
    while (p && p < end && (p = strstr(p, tag)) != NULL && p < end) {
        char c = p[L];
        if (c == '>' || c == ' ' || c == '/' || c == '\t' || c == '\n' || c == '\r') return p;
        p += L;
    }
    return NULL;
}

/* the text content of every <t> inside [p, end) joined */
static char *texts(const char *p, const char *end)
{
    char *acc = ns_strdup("");
    size_t alen = 0;
    while ((p = find_tag(p, end, "<t")) != NULL) {
        const char *gt = strchr(p, '>');
        if (!gt || gt >= end) break;
        if (gt[-1] == '/') { p = gt; continue; }       /* <t/> */
        const char *close = strstr(gt, "</t>");
        if (!close || close > end) break;
        add_text(&acc, &alen, gt + 1, (size_t)(close - gt - 1));
        p = close + 4;
    }
    return acc;
}

/* value of attribute name inside the start tag [p, gt) into out */
static int attr(const char *p, const char *gt, const char *name, char *out, size_t on)
{
    size_t L = strlen(name);
    for (const char *q = p + 1; q < gt; q++) {
        if ((q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\n') && !strncmp(q, name, L) && q[L] == '=' && (q[L + 1] == '"' || q[L + 1] == '\'')) {
            const char *v = q + L + 2, *e = strchr(v, q[L + 1]);
            if (!e || e > gt) return -1;
            snprintf(out, on, "%.*s", (int)(e - v), v);
            return 0;
        }
    }
    return -1;
}

static void row_free(ns_xlsx_row_t *r)
{
    for (int k = 0; k < r->n; k++) free(r->cells[k]);
    free(r->cells);
    r->cells = NULL;
    r->n = 0;
}

void ns_xlsx_col_name(int col, char out[8])
{
    char t[8];
    int n = 0;
    for (col++; col > 0 && n < 7; col = (col - 1) / 26) t[n++] = (char)('A' + (col - 1) % 26);
    for (int k = 0; k < n; k++) out[k] = t[n - 1 - k];
    out[n] = 0;
}

int ns_xlsx_read(const char *path, ns_xlsx_sheet_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    char *raw = NULL, why[200] = "";
    size_t n;
    if (ns_read_file(path, &raw, &n) < 0) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        return -1;
    }
    char *ss = NULL, *sheet = NULL;
    char **shared = NULL;
    int nshared = 0, ret = -1;
    const unsigned char *z = (const unsigned char *)raw;
    int r = member(z, n, "xl/sharedStrings.xml", &ss, NULL, why, sizeof why);
    if (r < 0) goto fail;
    r = member(z, n, "xl/worksheets/sheet1.xml", &sheet, NULL, why, sizeof why);
    if (r == 1) r = member(z, n, "xl/worksheets/*", &sheet, NULL, why, sizeof why);
    if (r < 0) goto fail;
    if (r == 1) { snprintf(why, sizeof why, "no worksheet (not an XLSX workbook?)"); goto fail; }
    if (ss) {
        const char *end = ss + strlen(ss);
        for (const char *p = ss; (p = find_tag(p, end, "<si")) != NULL;) {
            const char *close = strstr(p, "</si>");
            const char *gt = strchr(p, '>');
            if (gt && gt[-1] == '/') close = gt + 1;
            if (!close) { snprintf(why, sizeof why, "damaged shared strings"); goto fail; }
            shared = ns_realloc(shared, (size_t)(nshared + 1) * sizeof *shared);
            shared[nshared++] = texts(p, close);
            p = close;
        }
    }
    const char *end = sheet + strlen(sheet);
    size_t total_cells = 0;
    for (const char *p = sheet; (p = find_tag(p, end, "<row")) != NULL;) {
        const char *gt = strchr(p, '>');
        if (!gt) break;
        const char *rend = gt[-1] == '/' ? gt + 1 : strstr(gt, "</row>");
        if (!rend) { snprintf(why, sizeof why, "damaged worksheet (a row without its end)"); goto fail; }
        char rv[32];
        int rownum = attr(p, gt, "r", rv, sizeof rv) == 0 ? atoi(rv) : (out->nrows ? out->rows[out->nrows - 1].r + 1 : 1);
        if (rownum < 1 || rownum > MAX_ROWS) { snprintf(why, sizeof why, "row number %d out of range", rownum); goto fail; }
        ns_xlsx_row_t row = { rownum, 0, NULL };
        int next_col = 0;
        for (const char *c = gt; (c = find_tag(c, rend, "<c")) != NULL;) {
            const char *cgt = strchr(c, '>');
            if (!cgt || cgt > rend) break;
            const char *cend = cgt[-1] == '/' ? cgt + 1 : strstr(cgt, "</c>");
            if (!cend || cend > rend) { snprintf(why, sizeof why, "damaged worksheet (row %d)", rownum); row_free(&row); goto fail; }
            char ref[32] = "", type[16] = "n";
            int col = next_col;
            if (attr(c, cgt, "r", ref, sizeof ref) == 0) {
                col = 0;
                for (const char *q = ref; *q >= 'A' && *q <= 'Z' && col <= MAX_COLS; q++) col = col * 26 + (*q - 'A' + 1);
                col--;
            }
            attr(c, cgt, "t", type, sizeof type);
            next_col = col + 1;
            if (col < 0 || col >= MAX_COLS) { snprintf(why, sizeof why, "cell %s out of range", ref); row_free(&row); goto fail; }
            char *val = NULL;
            if (cgt[-1] != '/') {
                if (!strcmp(type, "inlineStr")) {
                    const char *is = find_tag(cgt, cend, "<is");
                    val = is ? texts(is, cend) : NULL;
                } else {
                    const char *v = find_tag(cgt, cend, "<v");
                    const char *vgt = v ? strchr(v, '>') : NULL;
                    const char *vend = vgt ? strstr(vgt, "</v>") : NULL;
                    if (vend && vend < cend) {
                        char *t = NULL;
                        size_t tl = 0;
                        add_text(&t, &tl, vgt + 1, (size_t)(vend - vgt - 1));
                        if (!strcmp(type, "s")) {
                            int k = atoi(t);
                            val = k >= 0 && k < nshared ? ns_strdup(shared[k]) : NULL;
                            free(t);
                            if (!val) { snprintf(why, sizeof why, "cell %s names a shared string that is not there", ref); row_free(&row); goto fail; }
                        } else if (!strcmp(type, "b")) {
                            val = ns_strdup(t[0] == '1' ? "TRUE" : "FALSE");
                            free(t);
                        } else {
                            val = t;
                        }
                    }
                }
            }
            if (val && !*val) { free(val); val = NULL; }
            if (val) {
                if (col >= row.n && (total_cells += (size_t)(col + 1 - row.n)) > MAX_CELLS) {
                    free(val);
                    row_free(&row);
                    snprintf(why, sizeof why, "a sheet of more than %d cells", MAX_CELLS);
                    goto fail;
                }
                if (col >= row.n) {
                    row.cells = ns_realloc(row.cells, (size_t)(col + 1) * sizeof *row.cells);
                    for (int k = row.n; k <= col; k++) row.cells[k] = NULL;
                    row.n = col + 1;
                }
                free(row.cells[col]);
                row.cells[col] = val;
            }
            c = cend;
        }
        if (row.n) {
            out->rows = ns_realloc(out->rows, (size_t)(out->nrows + 1) * sizeof *out->rows);
            out->rows[out->nrows++] = row;
        }
        p = rend;
    }
    ret = 0;
fail:
    if (ret < 0) {
        snprintf(err, errlen, "%s: %s", path, why);
        ns_xlsx_free(out);
    }
    for (int k = 0; k < nshared; k++) free(shared[k]);
    free(shared);
    free(ss);
    free(sheet);
    free(raw);
    return ret;
}

void ns_xlsx_free(ns_xlsx_sheet_t *s)
{
    for (int r = 0; r < s->nrows; r++) {
        for (int k = 0; k < s->rows[r].n; k++) free(s->rows[r].cells[k]);
        free(s->rows[r].cells);
    }
    free(s->rows);
    memset(s, 0, sizeof *s);
}

int ns_xlsx_serial_to_time(const char *s, char out[24])
{
    out[0] = 0;
    char *e;
    double d = strtod(s, &e);
    if (e == s || *e || !isfinite(d) || d < 61.0 || d >= 2958466.0) return -1;
    /* 1899-12-30 is 25569 days before 1970-01-01 */
    long long secs = llround((d - 25569.0) * 86400.0);
    time_t t = (time_t)secs;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) return -1;
    strftime(out, 24, "%Y-%m-%dT%H:%M:%S", &tm);
    return 0;
}
