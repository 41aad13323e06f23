/* ingest_manifest.c — the LIMS sample manifest: one row per DBS card, joined to wells on
 * sample_id.  Columns are found by name (any order; unknown columns ignored).  A bad value
 * in a covariate column is reported and that value is left missing — the card is kept, so
 * its baby can still be reported; only rows without a usable sample_id or infant_id (empty,
 * or longer than the follow-up list's ids) are rejected. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <omp.h>
#include "csv.h"
#include "encoding.h"
#include "followup.h"
#include "ingest.h"
#include "sha256.h"
#include "log.h"
#include "numparse.h"
#include "util.h"

enum { M_SID, M_IID, M_SPEC, M_SEX, M_BW, M_GA, M_BIRTH, M_COLL, M_FEED, M_TRANSF, M_ABX,
       M_NICU, M_HOSP, M_MOTHER, M_PHONE, M_N };
static const char *const mcols[M_N] = {
    "sample_id", "infant_id", "specimen", "sex", "birth_weight_g", "gestational_age_days",
    "birth_time", "collection_time", "feeding", "transfusion", "antibiotics", "nicu",
    "hospital", "mother_name", "contact_phone" };

/* Longest text kept from any other column (bytes): a name, a hospital, a phone number.
 * A longer cell is an export error (a swallowed line, a pasted document); on the recall
 * list it could exceed what an XLSX cell holds and cost the follow-up team the whole file. */
#define TEXT_MAX 256

/* Plausible covariates: a birth weight in grams, a gestational age in days (20 to 50
 * weeks).  Outside them the number is a typo or another unit (kg, weeks), not a baby. */
static const double num_min[2] = { 100, 140 }, num_max[2] = { 10000, 350 };
static const char *const num_what[2] = { "a birth weight from 100 to 10000 g", "a gestational age from 140 to 350 days" };

__attribute__((format(printf, 5, 6)))
static void problem(ns_manifest_t *m, const char *path, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ns_msgs_vadd(&m->errors, &m->n_errors, path, line, col, fmt, ap);
    va_end(ap);
}

int ns_manifest_plain_rows = 1;

static int parse_flag(const char *s)
{
    if (!*s) return -1;
    if (!s[1]) {                /* one character, the usual case: 0 or 1 (also y, n) */
        switch (s[0]) {
        case '1': case 'y': case 'Y': return 1;
        case '0': case 'n': case 'N': return 0;
        default: return -2;
        }
    }
    if (!strcmp(s, "1") || ns_strcaseeq(s, "yes") || ns_strcaseeq(s, "y") || ns_strcaseeq(s, "true")) return 1;
    if (!strcmp(s, "0") || ns_strcaseeq(s, "no") || ns_strcaseeq(s, "n") || ns_strcaseeq(s, "false")) return 0;
    return -2;
}

static int cmp_row_sid(const void *a, const void *b)
{
    const ns_manifest_row_t *x = a, *y = b;
    int c = strcmp(x->sample_id, y->sample_id);
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

typedef struct {
    const char *sid;
    int line;
    int64_t idx;
} row_key_t;

static int cmp_key(const void *a, const void *b)
{
    const row_key_t *x = a, *y = b;
    int c = strcmp(x->sid, y->sid);
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* Sort keys, which are all different (the line breaks ties).  An export is usually in
 * order but for a few places (S...-999999 then S...-1000000 sorts back by strcmp): then its
 * ascending runs are merged, in O(n) per round, instead of sorting a million strings
 * again; many runs (a shuffled file) go to qsort.  Either way the one sorted order. */
static void sort_keys(row_key_t *key, int64_t n)
{
    enum { MAX_RUNS = 64 };
    int64_t start[MAX_RUNS + 1];
    int nr = 0;
    start[nr++] = 0;
    for (int64_t i = 1; i < n; i++)
        if (cmp_key(&key[i - 1], &key[i]) > 0) {
            if (nr == MAX_RUNS) { qsort(key, (size_t)n, sizeof *key, cmp_key); return; }
            start[nr++] = i;
        }
    start[nr] = n;
    row_key_t *tmp = ns_malloc((size_t)n * sizeof *tmp), *src = key, *dst = tmp;
    while (nr > 1) {                        /* merge runs pairwise, src -> dst */
        int w = 0;
        for (int r = 0; r < nr; r += 2) {
            const int64_t a0 = start[r], a1 = start[r + 1], b1 = r + 1 < nr ? start[r + 2] : a1;
            int64_t i = a0, j = a1, o = a0;
            while (i < a1 && j < b1) dst[o++] = cmp_key(&src[i], &src[j]) < 0 ? src[i++] : src[j++];
            while (i < a1) dst[o++] = src[i++];
            while (j < b1) dst[o++] = src[j++];
            start[w++] = a0;
        }
        start[w] = n;
        nr = w;
        row_key_t *t = src; src = dst; dst = t;
    }
    if (src != key) memcpy(key, src, (size_t)n * sizeof *key);
    free(tmp);
}

/* the row's strings: one allocation from sample_id on (batch.h), or m's pool's */
static void row_free(const ns_manifest_t *m, ns_manifest_row_t *r)
{
    if (!m->pool.n) free(r->sample_id);
}

/* The row's ten strings (the columns of row_cols, text[q] of len[q] bytes; NULL: no such
 * column), one after the other in m's pool: a million rows are then a few hundred mallocs,
 * not ten million (and as many frees at the end of the run, on one thread). */
static const int row_cols[10] = { M_SID, M_IID, M_SPEC, M_SEX, M_BIRTH, M_COLL, M_FEED, M_HOSP, M_MOTHER, M_PHONE };

static void row_strings(ns_manifest_t *m, ns_manifest_row_t *x, const char *const text[10], const size_t len[10])
{
    char **dst[10] = { &x->sample_id, &x->infant_id, &x->specimen, &x->sex, &x->birth_time,
                       &x->collection_time, &x->feeding, &x->hospital, &x->mother_name, &x->contact_phone };
    size_t total = 0;
    for (int q = 0; q < 10; q++) total += len[q] + 1;
    char *p = ns_pool_alloc(&m->pool, total);
    for (int q = 0; q < 10; q++) {
        if (len[q]) memcpy(p, text[q], len[q]);
        p[len[q]] = 0;
        *dst[q] = p;
        p += len[q] + 1;
    }
}

/* a new, zeroed row at the end of m's rows, read from line `line` */
static ns_manifest_row_t *new_row(ns_manifest_t *m, int line)
{
    if (m->n == m->m) {
        m->m = m->m ? m->m * 2 : 256;
        if (m->rows_lent) {                 /* a window full: the rows go on in their own array */
            ns_manifest_row_t *own = ns_malloc((size_t)m->m * sizeof *own);
            if (m->n) memcpy(own, m->rows, (size_t)m->n * sizeof *own);
            m->rows = own;
            m->rows_lent = 0;
        } else
            m->rows = ns_realloc(m->rows, (size_t)m->m * sizeof *m->rows);
    }
    ns_manifest_row_t *x = &m->rows[m->n++];
    memset(x, 0, sizeof *x);
    x->line = line;
    return x;
}

/* The next data row when it is one line (csv.h: ns_csv_next_plain, no quotes; or
 * ns_csv_next_quoted, some fields quoted, no line break inside) and the general path below
 * would take it without a word: every check that path makes, made on the fields in place
 * (a quoted text with "" is unescaped into unq, 10 x TEXT_MAX + 1 bytes; a quoted id, or an
 * escaped number, time, flag or feeding, is left to the general path).  Then the row is added to m as that path adds it, and 1 is
 * returned.  On anything else 0, with nothing added and the reader where it was: the
 * general path reads the row again and says what it has to say, in its own words.  The
 * numbers are read by ns_parse_decimal, which gives strtod's double for the plain decimals
 * it takes (and takes nothing else).  tests/unit/test_manifest_order checks the two paths
 * give the same manifest, and tests/unit/test_manifest_plain that they say the same. */
static int plain_row(ns_manifest_t *m, ns_csv_t *c, const int *col, int nh, size_t *span,
                     unsigned char *quoted, char *unq)
{
    const size_t pos = c->pos;
    const int line = c->line, lcol = c->col;
    int anyq = 0;                           /* quoted[] is set (some field may be quoted) */
    if (ns_cpu_avx512()) {                  /* one pass, quotes or none */
        if (!ns_csv_next_quoted(c, nh, span, quoted)) return 0;
        anyq = 1;
    } else if (!ns_csv_next_plain(c, nh, span)) {
        if (!ns_csv_next_quoted(c, nh, span, quoted)) return 0;
        anyq = 1;
    }
#define BACK() do { c->pos = pos; c->line = line; c->col = lcol; return 0; } while (0)
#define LEN(j) (span[2 * (j) + 1] - span[2 * (j)])
#define ESCAPED(j) (anyq && quoted[j] == 2)     /* its value is not its bytes */
    const char *t = c->text;
    const size_t ls = LEN(col[M_SID]), li = LEN(col[M_IID]);
    if (!ls || !li || ls >= NS_FU_ID_MAX || li >= NS_FU_ID_MAX) BACK();
    if (anyq && (quoted[col[M_SID]] || quoted[col[M_IID]])) BACK();     /* rare: the general path */
    for (int k = M_SPEC; k < M_N; k++)
        if (col[k] >= 0 && LEN(col[k]) > TEXT_MAX) BACK();
    double num[2] = { NAN, NAN };
    const int numk[2] = { M_BW, M_GA };
    for (int q = 0; q < 2; q++) {
        const int j = col[numk[q]];
        if (j < 0 || !LEN(j)) continue;
        if (ESCAPED(j)) BACK();
        if (ns_parse_decimal_in(t + span[2 * j], LEN(j), c->len - span[2 * j], &num[q]) != 0
            || !(num[q] >= num_min[q] && num[q] <= num_max[q]))
            BACK();
    }
    double tm[2] = { NAN, NAN };
    const int tk[2] = { M_BIRTH, M_COLL };
    for (int q = 0; q < 2; q++) {
        const int j = col[tk[q]];
        if (j < 0 || !LEN(j)) continue;
        if (ESCAPED(j)) BACK();
        char buf[32];
        if (LEN(j) >= sizeof buf) BACK();
        memcpy(buf, t + span[2 * j], LEN(j));
        buf[LEN(j)] = 0;
        if (isnan(tm[q] = ns_parse_time_h(buf))) BACK();
    }
    if (!isnan(tm[0]) && !isnan(tm[1]) && tm[1] < tm[0]) BACK();
    static const char *const feeds[] = { "breast", "formula", "mixed", "tpn" };
    int feed = -1;
    if (col[M_FEED] >= 0 && LEN(col[M_FEED])) {
        if (ESCAPED(col[M_FEED])) BACK();
        for (int q = 0; q < 4 && feed < 0; q++)
            if (LEN(col[M_FEED]) == strlen(feeds[q]) && !strncasecmp(t + span[2 * col[M_FEED]], feeds[q], LEN(col[M_FEED])))
                feed = q;
        if (feed < 0) BACK();
    }
    int flag[3];
    const int fk[3] = { M_TRANSF, M_ABX, M_NICU };
    for (int q = 0; q < 3; q++) {
        const int j = col[fk[q]];
        char buf[8];
        if (j < 0) { flag[q] = -1; continue; }
        if (LEN(j) >= sizeof buf || ESCAPED(j)) BACK();
        memcpy(buf, t + span[2 * j], LEN(j));
        buf[LEN(j)] = 0;
        if ((flag[q] = parse_flag(buf)) == -2) BACK();
    }

    ns_manifest_row_t *x = new_row(m, line);
    x->sid_col = 1;                         /* characters before the field, on its line */
    for (size_t q = pos; q < span[2 * col[M_SID]]; q++) x->sid_col += ((unsigned char)t[q] & 0xC0) != 0x80;
    const char *ft[10];
    size_t fl[10];
    for (int q = 0; q < 10; q++) {
        const int j = col[row_cols[q]];
        ft[q] = j >= 0 ? t + span[2 * j] : NULL;
        fl[q] = j >= 0 ? LEN(j) : 0;
        if (j >= 0 && ESCAPED(j)) {         /* "" read as ": into unq, each at most TEXT_MAX + 1 */
            char *u = unq + (size_t)q * (TEXT_MAX + 1);
            fl[q] = ns_csv_unescape(ft[q], fl[q], u);
            ft[q] = u;
        }
    }
    row_strings(m, x, ft, fl);
    x->birth_weight_g = num[0];
    x->gestational_age_days = num[1];
    x->age_hours = !isnan(tm[0]) && !isnan(tm[1]) ? tm[1] - tm[0] : NAN;
    if (feed >= 0) strcpy(x->feeding, feeds[feed]);
    x->transfusion = flag[0];
    x->antibiotics = flag[1];
    x->nicu = flag[2];
#undef ESCAPED
#undef LEN
#undef BACK
    return 1;
}

/* The data rows of one part of the manifest (the reader c, positioned at the part's first
 * row, stops at its end) into m's rows, messages and counts; *n_records counts the records
 * read.  @return 1 if a quoted field ran to the end of the part unterminated, else 0. */
static int parse_rows(ns_manifest_t *m, const char *path, ns_csv_t *c, const int *col, int nh,
                      int64_t *n_records)
{
    int r, unterminated = 0;
    size_t *span = ns_malloc(2 * (size_t)nh * sizeof *span);
    unsigned char *quoted = ns_malloc((size_t)nh);
    char *unq = ns_malloc(10 * (TEXT_MAX + 1));
    for (;;) {
        if (ns_manifest_plain_rows && plain_row(m, c, col, nh, span, quoted, unq)) {
            (*n_records)++;
            continue;
        }
        if ((r = ns_csv_next(c)) == 0) break;
        (*n_records)++;
        if (r < 0) {
            if (strstr(c->err, "unterminated quoted field")) unterminated = 1;
            problem(m, path, c->err_line, c->err_col, "%s (row rejected)", c->err);
            m->n_rejected++;
            continue;
        }
        const int L = c->rec_line;
        if (c->nf != nh) {
            problem(m, path, c->nf < nh ? c->end_line : c->fline[nh], c->nf < nh ? c->end_col : c->fcol[nh],
                    "row has %d fields, the header has %d (row rejected)", c->nf, nh);
            m->n_rejected++;
            continue;
        }
        const char *sid = c->f[col[M_SID]], *iid = c->f[col[M_IID]];
        if (!*sid || !*iid) {
            problem(m, path, c->fline[col[*sid ? M_IID : M_SID]], c->fcol[col[*sid ? M_IID : M_SID]], "empty %s (row rejected)", *sid ? "infant_id" : "sample_id");
            m->n_rejected++;
            continue;
        }
        /* the follow-up list holds ids of up to NS_FU_ID_MAX - 1 bytes: two longer ids that
         * agree that far would be one baby there (one row, one family phoned) */
        if (strlen(sid) >= NS_FU_ID_MAX || strlen(iid) >= NS_FU_ID_MAX) {
            int k = strlen(sid) >= NS_FU_ID_MAX ? M_SID : M_IID;
            problem(m, path, c->fline[col[k]], c->fcol[col[k]], "%s is longer than %d bytes (row rejected)",
                    mcols[k], NS_FU_ID_MAX - 1);
            m->n_rejected++;
            continue;
        }
        for (int k = M_SPEC; k < M_N; k++) {
            int j = col[k];
            if (j >= 0 && strlen(c->f[j]) > TEXT_MAX) {
                problem(m, path, c->fline[j], c->fcol[j], "%s is longer than %d bytes (left empty)", mcols[k], TEXT_MAX);
                c->f[j][0] = 0;
            }
        }
        ns_manifest_row_t *x = new_row(m, L);
        x->sid_col = c->fcol[col[M_SID]];
        const char *ft[10];
        size_t fl[10];
        for (int q = 0; q < 10; q++) {
            const int j = col[row_cols[q]];
            ft[q] = j >= 0 ? c->f[j] : NULL;
            fl[q] = j >= 0 ? strlen(c->f[j]) : 0;
        }
        row_strings(m, x, ft, fl);
        x->birth_weight_g = x->gestational_age_days = x->age_hours = NAN;
        const int numk[2] = { M_BW, M_GA };
        double *numv[2] = { &x->birth_weight_g, &x->gestational_age_days };
        for (int q = 0; q < 2; q++) {
            int j = col[numk[q]];
            if (j < 0 || !*c->f[j]) continue;
            char *end;
            double v = strtod(c->f[j], &end);
            if (*end || !isfinite(v) || v <= 0)
                problem(m, path, c->fline[j], c->fcol[j], "%s is not a positive number (left missing)", mcols[numk[q]]);
            else if (v < num_min[q] || v > num_max[q])
                problem(m, path, c->fline[j], c->fcol[j], "%s is not %s (left missing)", mcols[numk[q]], num_what[q]);
            else *numv[q] = v;
        }
        double tb = NAN, tc = NAN;
        if (col[M_BIRTH] >= 0 && *c->f[col[M_BIRTH]] && isnan(tb = ns_parse_time_h(c->f[col[M_BIRTH]])))
            problem(m, path, c->fline[col[M_BIRTH]], c->fcol[col[M_BIRTH]], "birth_time is not a date and time YYYY-MM-DDTHH:MM (left missing)");
        if (col[M_COLL] >= 0 && *c->f[col[M_COLL]] && isnan(tc = ns_parse_time_h(c->f[col[M_COLL]])))
            problem(m, path, c->fline[col[M_COLL]], c->fcol[col[M_COLL]], "collection_time is not a date and time YYYY-MM-DDTHH:MM (left missing)");
        if (!isnan(tb) && !isnan(tc)) {
            if (tc < tb) problem(m, path, c->fline[col[M_COLL]], c->fcol[col[M_COLL]], "collection_time is before birth_time (age left missing)");
            else x->age_hours = tc - tb;
        }
        /* feeding: one of DESIGN.md's words, any case; anything else could hide a TPN baby */
        if (col[M_FEED] >= 0 && *x->feeding) {
            static const char *const feeds[] = { "breast", "formula", "mixed", "tpn", NULL };
            int known = 0;
            for (int q = 0; feeds[q]; q++)
                if (strcasecmp(x->feeding, feeds[q]) == 0) { strcpy(x->feeding, feeds[q]); known = 1; }
            if (!known) {
                problem(m, path, c->fline[col[M_FEED]], c->fcol[col[M_FEED]],
                        "feeding is not breast, formula, mixed or tpn (left unknown)");
                x->feeding[0] = 0;
            }
        }
        const int fk[3] = { M_TRANSF, M_ABX, M_NICU };
        int *fv[3] = { &x->transfusion, &x->antibiotics, &x->nicu };
        for (int q = 0; q < 3; q++) {
            int j = col[fk[q]];
            *fv[q] = j < 0 ? -1 : parse_flag(c->f[j]);
            if (*fv[q] == -2) {
                problem(m, path, c->fline[j], c->fcol[j], "%s is not 0/1 or yes/no (left unknown)", mcols[fk[q]]);
                *fv[q] = -1;
            }
        }
    }
    free(span);
    free(quoted);
    free(unq);
    return unterminated;
}

/* The line ends in p[0, n): byte counts over blocks of 255 (many bytes to an instruction),
 * added up per block. */
static int64_t count_lines(const char *p, size_t n)
{
    int64_t lines = 0;
    for (size_t b0 = 0; b0 < n; b0 += 255) {
        const size_t b1 = b0 + 255 < n ? b0 + 255 : n;
        uint8_t k = 0;
        #pragma omp simd reduction(+:k)
        for (size_t i = b0; i < b1; i++) k += p[i] == '\n';
        lines += k;
    }
    return lines;
}

int ns_ingest_manifest(ns_manifest_t *m, const char *path)
{
    memset(m, 0, sizeof *m);
    m->path = ns_strdup(path);
    strcpy(m->encoding, "?");
    char *raw, *text;
    size_t rlen, tlen;
    if (ns_read_file(path, &raw, &rlen) < 0) {
        problem(m, path, 0, 0, "cannot read: %s", strerror(errno));
        return (int)m->n_errors;
    }
    /* The digest is of the bytes as read.  Decoding leaves them as they are (UTF-8 is used
     * where it lies; GBK goes to a new buffer) unless a byte-order mark is moved off: then
     * the digest is taken first; otherwise it is taken beside the parsing below, and raw
     * kept until then. */
    int sha_later = !(rlen >= 3 && memcmp(raw, "\xEF\xBB\xBF", 3) == 0);
    if (!sha_later) ns_sha256_hex(raw, rlen, m->sha256);
    ns_decode_err_t de;
    int dr = ns_decode_text_owned(raw, rlen, &text, &tlen, m->encoding, &de);
    if (dr < 0) {
        if (sha_later) ns_sha256_hex(raw, rlen, m->sha256);
        free(raw);
        problem(m, path, de.line, de.col, "%s", de.msg);
        return (int)m->n_errors;
    }

    ns_csv_t c;
    ns_csv_init(&c, text, tlen);
    int r = ns_csv_next(&c);
    int col[M_N];
    for (int k = 0; k < M_N; k++) col[k] = -1;
    if (r <= 0) {
        problem(m, path, r < 0 ? c.err_line : 1, r < 0 ? c.err_col : 1, "%s", r < 0 ? c.err : "empty file: no header row");
        goto done;
    }
    const int nh = c.nf;
    int dup_col = 0;
    for (int j = 0; j < nh; j++)
        for (int k = 0; k < M_N; k++)
            if (ns_strcaseeq(c.f[j], mcols[k])) {
                if (col[k] >= 0) {
                    /* which of two phone columns is right cannot be guessed */
                    problem(m, path, c.fline[j], c.fcol[j], "column '%s' appears twice (fields %d and %d): "
                            "the manifest cannot be used", mcols[k], col[k] + 1, j + 1);
                    dup_col = 1;
                }
                col[k] = j;
            }
    if (dup_col) goto done;
    if (col[M_SID] < 0 || col[M_IID] < 0) {
        problem(m, path, c.rec_line, 1, "missing column '%s': the manifest cannot be joined to wells",
                col[M_SID] < 0 ? "sample_id" : "infant_id");
        goto done;
    }
    /* the follow-up team needs these: say so loudly if a column is absent (misspelt?) */
    const int contact[3] = { M_HOSP, M_MOTHER, M_PHONE };
    for (int q = 0; q < 3; q++)
        if (col[contact[q]] < 0)
            problem(m, path, c.rec_line, 1, "no '%s' column: the recall list will not have it", mcols[contact[q]]);
    m->ok = 1;
    int64_t n_records = 0;
    /* the rows, in parts read in parallel: each part starts after a line end, and a part
     * that ends inside a quoted field (a line break within quotes) says so by an
     * unterminated quote; then the whole file is read again in one piece, so the rows and
     * messages are always those of one reader going through the file in order */
    int nparts = omp_get_max_threads() > 1 ? 4 * omp_get_max_threads() : 1;   /* with the digest, in tasks */
    if (tlen - c.pos < ((size_t)4 << 20)) nparts = 1;
    if (nparts > 1) {
        size_t *cut = ns_malloc(((size_t)nparts + 1) * sizeof *cut);
        int *line0 = ns_malloc(((size_t)nparts + 1) * sizeof *line0);
        cut[0] = c.pos;
        cut[nparts] = tlen;
        for (int k = 1; k < nparts; k++) {
            size_t at = c.pos + (tlen - c.pos) / (size_t)nparts * (size_t)k;
            if (at < cut[k - 1]) at = cut[k - 1];
            const char *nl = at < tlen ? memchr(text + at, '\n', tlen - at) : NULL;
            cut[k] = nl ? (size_t)(nl - text) + 1 : tlen;
        }
        /* the lines of each part, counted on all threads; the line of each part's first byte */
        int64_t *nlines = ns_malloc((size_t)nparts * sizeof *nlines);
        #pragma omp parallel for schedule(static)
        for (int k = 0; k < nparts; k++) nlines[k] = count_lines(text + cut[k], cut[k + 1] - cut[k]);
        line0[0] = c.line;
        for (int k = 1; k <= nparts; k++) line0[k] = line0[k - 1] + (int)nlines[k - 1];
        /* Each part reads its rows straight into its window of m's rows: a row ends at a
         * line end (the file's last row may end without one), so a window of the part's
         * lines (one more for the part that holds the end of the file) holds them.  Rows rejected, blank lines and
         * rows of several lines leave gaps, closed below.  (Reading into arrays of their
         * own and copying them into one was a second first touch of 136 bytes a row,
         * 0.14 GB on the 1M night.) */
        int64_t *base = ns_malloc(((size_t)nparts + 1) * sizeof *base);
        base[0] = 0;
        for (int k = 0; k < nparts; k++)     /* (a last line longer than a part: later parts empty) */
            base[k + 1] = base[k] + nlines[k] + (cut[k] < tlen && cut[k + 1] == tlen);
        free(nlines);
        m->rows = ns_malloc((size_t)(base[nparts] ? base[nparts] : 1) * sizeof *m->rows);
        m->n = 0;
        m->m = base[nparts];
        ns_manifest_t *part = ns_calloc((size_t)nparts, sizeof *part);
        for (int k = 0; k < nparts; k++) {
            part[k].rows = m->rows + base[k];
            part[k].m = base[k + 1] - base[k];
            part[k].rows_lent = 1;
        }
        int64_t *nrec = ns_calloc((size_t)nparts, sizeof *nrec);
        int split_bad = 0;
        int *unterminated = ns_calloc((size_t)nparts, sizeof *unterminated);
        #pragma omp parallel
        #pragma omp single
        {
            if (sha_later) {
                #pragma omp task
                ns_sha256_hex(raw, rlen, m->sha256);
            }
            for (int k = 0; k < nparts; k++) {
                #pragma omp task firstprivate(k)
                {
                    ns_csv_t pc;
                    ns_csv_init(&pc, text, cut[k + 1]);
                    pc.pos = cut[k];
                    pc.line = line0[k];
                    pc.col = 1;
                    unterminated[k] = parse_rows(&part[k], path, &pc, col, nh, &nrec[k]);
                    ns_csv_free(&pc);
                }
            }
        }
        sha_later = 0;
        for (int k = 0; k + 1 < nparts; k++) split_bad |= unterminated[k];
        free(unterminated);
        /* the parts' rows, one after the other */
        int64_t *at = ns_malloc(((size_t)nparts + 1) * sizeof *at);
        int grown = 0;
        at[0] = 0;
        for (int k = 0; k < nparts; k++) {
            at[k + 1] = at[k] + (split_bad ? 0 : part[k].n);
            grown |= !part[k].rows_lent;
        }
        if (split_bad) {
            for (int k = 0; k < nparts; k++) {
                ns_pool_free(&part[k].pool);
                if (!part[k].rows_lent) free(part[k].rows);
            }
            free(m->rows);
            m->rows = NULL;
            m->n = m->m = 0;
        } else if (!grown) {
            /* where they were read, but for the gaps: each part moved down, in order (it
             * lands at or before where it is, after the ones already moved) */
            for (int k = 0; k < nparts; k++)
                if (part[k].n && at[k] != base[k])
                    memmove(m->rows + at[k], m->rows + base[k], (size_t)part[k].n * sizeof *m->rows);
            m->n = at[nparts];
        } else {
            /* a part outgrew its window (more rows than line ends: not met in any file
             * tried, but then nothing is lost): every part copied into a new array */
            ns_manifest_row_t *rows = ns_malloc((size_t)(at[nparts] ? at[nparts] : 1) * sizeof *rows);
            for (int k = 0; k < nparts; k++) {
                if (part[k].n) memcpy(rows + at[k], part[k].rows, (size_t)part[k].n * sizeof *rows);
                if (!part[k].rows_lent) free(part[k].rows);
            }
            free(m->rows);
            m->rows = rows;
            m->n = m->m = at[nparts];
        }
        free(at);
        free(base);
        for (int k = 0; k < nparts; k++) {
            if (!split_bad) {
                ns_pool_move(&m->pool, &part[k].pool);
                m->n_rejected += part[k].n_rejected;
                n_records += nrec[k];
                m->errors = ns_realloc(m->errors, (size_t)(m->n_errors + part[k].n_errors + 1) * sizeof *m->errors);
                for (int64_t e = 0; e < part[k].n_errors; e++) m->errors[m->n_errors++] = part[k].errors[e];
            } else
                for (int64_t e = 0; e < part[k].n_errors; e++) free(part[k].errors[e]);
            free(part[k].errors);
        }
        if (split_bad) nparts = 1;
        free(part);
        free(nrec);
        free(cut);
        free(line0);
    }
    if (nparts == 1) parse_rows(m, path, &c, col, nh, &n_records);

    if (n_records == 0)
        problem(m, path, c.rec_line, 1, "no data rows after the header: no well can be matched to a card");

    /* duplicate sample_id.  Same infant: the first row (by line) is kept, later ones are
     * rejected.  Different infants: nobody can say whose card it is, so every row of that
     * sample_id is rejected and its wells end unmatched (reported, never misattributed). */
    if (m->n > 1) {
        /* exports usually list cards in order: then there is nothing to sort.  Otherwise
         * (sample_id, line) keys are sorted and the rows moved once, not at every swap */
        /* the first row out of order, if any (all pairs compared, on all threads) */
        int64_t i0 = m->n;
        int tie = 0;                        /* two neighbours with one sample_id */
        #pragma omp parallel for schedule(static) reduction(min:i0) reduction(|:tie)
        for (int64_t i = 1; i < m->n; i++) {
            if (i >= i0) continue;
            const int c = strcmp(m->rows[i - 1].sample_id, m->rows[i].sample_id);
            tie |= c == 0;
            if (c > 0 || (c == 0 && m->rows[i - 1].line >= m->rows[i].line)) i0 = i;
        }
        /* in order but for a few rows at the end (S-999999, then S-1000000, which strcmp
         * puts before S-100001): each of those is put in its place by a binary search and
         * one move of the rows after it, instead of sorting a million keys */
        int64_t i1 = i0 < m->n ? i0 + 1 : m->n;
        while (i1 < m->n && cmp_row_sid(&m->rows[i1 - 1], &m->rows[i1]) < 0) i1++;
        if (i0 < m->n && i1 == m->n && m->n - i0 <= 64) {
            for (int64_t j = i0; j < m->n; j++) {
                const ns_manifest_row_t r = m->rows[j];
                int64_t lo = 0, hi = j;             /* the first of rows[0, j) after r */
                while (lo < hi) {
                    const int64_t mid = lo + (hi - lo) / 2;
                    if (cmp_row_sid(&m->rows[mid], &r) < 0) lo = mid + 1;
                    else hi = mid;
                }
                memmove(&m->rows[lo + 1], &m->rows[lo], (size_t)(j - lo) * sizeof *m->rows);
                m->rows[lo] = r;
            }
        } else if (i0 < m->n) {
            row_key_t *key = ns_malloc((size_t)m->n * sizeof *key);
            #pragma omp parallel for schedule(static)
            for (int64_t i = 0; i < m->n; i++) key[i] = (row_key_t){ m->rows[i].sample_id, m->rows[i].line, i };
            sort_keys(key, m->n);
            ns_manifest_row_t *sorted = ns_malloc((size_t)m->n * sizeof *sorted);
            #pragma omp parallel for schedule(static)
            for (int64_t i = 0; i < m->n; i++) sorted[i] = m->rows[key[i].idx];
            free(m->rows);
            m->rows = sorted;
            m->m = m->n;
            free(key);
        }
        /* rows that repeat the sample_id before them (all pairs compared, on all threads);
         * none if the rows were in order and no two neighbours shared one */
        if (i0 == m->n && !tie) goto done;
        uint8_t *same = ns_malloc((size_t)m->n + 1);
        same[0] = 0;
        #pragma omp parallel for schedule(static)
        for (int64_t i = 1; i < m->n; i++) same[i] = strcmp(m->rows[i].sample_id, m->rows[i - 1].sample_id) == 0;
        int64_t w = 0;
        for (int64_t i = 0; i < m->n; ) {
            int64_t j = i + 1;
            int conflict = 0;
            while (j < m->n && same[j]) {
                conflict |= strcmp(m->rows[j].infant_id, m->rows[i].infant_id) != 0;
                j++;
            }
            for (int64_t k = i; k < j; k++) {
                if (k == i && !conflict) { m->rows[w++] = m->rows[k]; continue; }
                if (conflict)
                    problem(m, path, m->rows[k].line, m->rows[k].sid_col, "sample_id also on line %d with a different "
                            "infant_id (every row of this card rejected)", m->rows[k == i ? i + 1 : i].line);
                else
                    problem(m, path, m->rows[k].line, m->rows[k].sid_col,
                            "duplicate sample_id (same as line %d; row rejected)", m->rows[i].line);
                m->n_rejected++;
                row_free(m, &m->rows[k]);
            }
            i = j;
        }
        free(same);
        m->n = w;
    }
done:
    if (sha_later) ns_sha256_hex(raw, rlen, m->sha256);
    if (text != raw) free(raw);
    ns_csv_free(&c);
    free(text);
    return (int)m->n_errors;
}

static int cmp_sid_key(const void *key, const void *elem)
{
    return strcmp((const char *)key, ((const ns_manifest_row_t *)elem)->sample_id);
}

void ns_batch_join(ns_batch_t *b)
{
    ns_manifest_t *m = &b->manifest;   /* rows are sorted by sample_id after ingest */
    /* on all threads, each over a range of wells (a row's well count is added atomically:
     * a card may be on wells of both ranges) */
    #pragma omp parallel if (b->n >= 65536)
    {
        int64_t next = -1;             /* the row after the last match: wells often follow the manifest */
        #pragma omp for schedule(static)
        for (int64_t i = 0; i < b->n; i++) {
            b->mrow[i] = -1;
            if (b->type[i] != NS_TYPE_PATIENT || !m->n) continue;
            ns_manifest_row_t *r;
            if (next >= 0 && next < m->n && strcmp(b->sample_id[i], m->rows[next].sample_id) == 0) r = &m->rows[next];
            else r = bsearch(b->sample_id[i], m->rows, (size_t)m->n, sizeof *m->rows, cmp_sid_key);
            if (r) {
                b->mrow[i] = r - m->rows;
                __atomic_fetch_add(&r->n_wells, 1, __ATOMIC_RELAXED);
                next = b->mrow[i] + 1;
            }
        }
    }
}

void ns_manifest_free(ns_manifest_t *m)
{
    for (int64_t i = 0; i < m->n && !m->pool.n; i++) row_free(m, &m->rows[i]);
    ns_pool_free(&m->pool);
    free(m->rows);
    for (int64_t i = 0; i < m->n_errors; i++) free(m->errors[i]);
    free(m->errors);
    free(m->path);
    memset(m, 0, sizeof *m);
}
