/* ingest_plate.c — MS/MS plate exports (wide CSV: plate_id, well, sample_id, sample_type,
 * one column per analyte).  See ingest.h for the cell rules. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "csv.h"
#include <omp.h>
#include "encoding.h"
#include "followup.h"
#include "ingest.h"
#include "numparse.h"
#include "sha256.h"
#include "log.h"
#include "util.h"

int ns_parse_cell(const char *s, double *v, uint8_t *kind)
{
    if (!*s) { *v = NAN; *kind = NS_CELL_EMPTY; return 0; }
    if ((*s | 0x20) == 'n') {   /* only a cell starting with n or N can be one of the words */
        if (ns_strcaseeq(s, "NaN")) { *v = NAN; *kind = NS_CELL_NAN; return 0; }
        if (ns_strcaseeq(s, "ND")) { *v = 0.0; *kind = NS_CELL_ND; return 0; }
    }
    uint8_t k = NS_CELL_VALUE;
    if (*s == '<') { k = NS_CELL_BELOW; s++; while (*s == ' ') s++; }
    /* a plate cell is a plain decimal (no spaces, hex floats, "inf"), read exactly as strtod
     * reads it; out of range (strtod's ERANGE: overflow, or an underflow losing digits) is
     * refused */
    double x;
    if (ns_parse_decimal_z(s, &x) != 0 || !isfinite(x)) return -1;
    if (k == NS_CELL_BELOW && x < 0) return -1;
    *v = x;
    *kind = k;
    return 0;
}

int ns_parse_well(const char *s, int rows, int cols, char out[4])
{
    int r = toupper((unsigned char)s[0]);
    if (r < 'A' || r > 'Z') return -1;
    const char *d = s + 1;
    if (!isdigit((unsigned char)*d)) return -1;
    int c = 0;
    for (; isdigit((unsigned char)*d); d++) {
        c = c * 10 + (*d - '0');
        if (c > 99) return -1;
    }
    if (*d || c == 0) return -1;
    if (r - 'A' >= rows || c > cols) return -2;
    out[0] = (char)r;
    out[1] = (char)('0' + c / 10);
    out[2] = (char)('0' + c % 10);
    out[3] = 0;
    return 0;
}

/* plates read and hashed together (sha256.h: ns_sha256_hex_many takes sixteen at once) */
#define GROUP 16

/* one parsed plate file, before it joins the batch: a thread's scratch, reused for each
 * plate it reads (so it stays in cache and costs no fresh pages) */
typedef struct {
    int64_t n, m;
    char (*well)[4];
    size_t *sid;        /* offset of each row's sample_id in sids */
    char *sids;         /* the sample_ids, each with its NUL */
    size_t nsids, msids;
    uint8_t *type;
    double *v;          /* row-major: v[i * n_analytes + a] */
    uint8_t *cell;
    char *raw[GROUP];   /* the files of a group of plates, read (ns_read_file_into) */
    size_t rawcap[GROUP];
} slot_t;

/* The header of the last plate a thread read, with its column mapping: the plates of a
 * night come from one instrument export, so the next header is usually the same and the
 * alias matching (every column against every spelling) is done once per thread, not once
 * per plate.  Only a header that mapped without a problem is kept. */
typedef struct {
    int valid, nh, na;
    char *text;         /* the header fields, each followed by its NUL */
    size_t len;
    int fixed[4];
    int *ana_of, *col_of;
} hdr_cache_t;

static int hdr_cache_hit(const hdr_cache_t *hc, const ns_csv_t *c, int na)
{
    if (!hc->valid || hc->nh != c->nf || hc->na != na) return 0;
    const char *q = hc->text;
    for (int j = 0; j < c->nf; j++) {
        size_t l = strlen(c->f[j]);
        if ((size_t)(q - hc->text) + l + 1 > hc->len || memcmp(q, c->f[j], l + 1) != 0) return 0;
        q += l + 1;
    }
    return 1;
}

static void hdr_cache_put(hdr_cache_t *hc, const ns_csv_t *c, int na, const int *fixed, const int *ana_of,
                          const int *col_of)
{
    size_t len = 0;
    for (int j = 0; j < c->nf; j++) len += strlen(c->f[j]) + 1;
    hc->text = ns_realloc(hc->text, len + 1);
    hc->len = len;
    char *q = hc->text;
    for (int j = 0; j < c->nf; j++) {
        size_t l = strlen(c->f[j]);
        memcpy(q, c->f[j], l + 1);
        q += l + 1;
    }
    hc->nh = c->nf;
    hc->na = na;
    memcpy(hc->fixed, fixed, sizeof hc->fixed);
    hc->ana_of = ns_realloc(hc->ana_of, (size_t)(c->nf ? c->nf : 1) * sizeof *hc->ana_of);
    memcpy(hc->ana_of, ana_of, (size_t)c->nf * sizeof *ana_of);
    hc->col_of = ns_realloc(hc->col_of, (size_t)(na ? na : 1) * sizeof *hc->col_of);
    memcpy(hc->col_of, col_of, (size_t)na * sizeof *col_of);
    hc->valid = 1;
}

enum { COL_PLATE, COL_WELL, COL_SID, COL_TYPE };

__attribute__((format(printf, 5, 6)))
static void set_error(ns_plate_t *pl, const char *path, int line, int col, const char *fmt, ...)
{
    if (pl->error) return;          /* the first problem is the one reported */
    va_list ap;
    va_start(ap, fmt);
    pl->error = ns_msg_vat(path, line, col, fmt, ap);
    va_end(ap);
    pl->status = NS_PLATE_QUARANTINED;
}

static void alias_text(char *buf, size_t sz, char **v, int n)
{
    buf[0] = 0;
    for (int i = 0; i < n; i++) {
        strncat(buf, i ? ", " : "", sz - strlen(buf) - 1);
        strncat(buf, v[i], sz - strlen(buf) - 1);
    }
}

/* empty s for the next plate, keeping its room */
static void slot_clear(slot_t *s)
{
    s->n = 0;
    s->nsids = 0;
}

static void slot_free(slot_t *s)
{
    slot_clear(s);
    free(s->well); free(s->sid); free(s->sids); free(s->type); free(s->v); free(s->cell);
    for (int j = 0; j < GROUP; j++) free(s->raw[j]);
    memset(s, 0, sizeof *s);
}

/* Data lines of a text whose header could not be read: lines end in LF, or in CR alone
 * when the text holds no LF at all (old Mac exports); blank lines are not counted. */
int64_t ns_count_data_lines(const char *t, size_t n)
{
    char eol = memchr(t, '\n', n) ? '\n' : '\r';
    int64_t lines = 0;
    int content = 0;
    for (size_t i = 0; i < n; i++) {
        if (t[i] == eol) { lines += content; content = 0; }
        else if (t[i] != '\r' && t[i] != ' ' && t[i] != '\t') content = 1;
    }
    lines += content;
    return lines > 0 ? lines - 1 : 0;
}

/* The second half of ns_ingest_read: raw (rlen bytes, read and hashed; taken over when
 * owned, else left to the caller) decoded to *text, or the error and the rows counted in
 * the raw bytes. */
static int ingest_decode(const char *path, char *raw, size_t rlen, int owned, char **text, size_t *tlen,
                         char encoding[8], char **error, int64_t *rows)
{
    ns_decode_err_t de;
    *text = NULL;
    *tlen = 0;
    *error = NULL;
    *rows = 0;
    if (ns_decode_text_owned(raw, rlen, text, tlen, encoding, &de) < 0) {
        *error = ns_asprintf("%s:%d:%d: %s", path, de.line, de.col, de.msg);
        /* count lines so the wells still show up in the totals */
        int64_t nl = 0;
        size_t last = rlen;      /* last byte that is not NUL (UTF-16 ends "\n\0") */
        for (size_t i = 0; i < rlen; i++) {
            nl += raw[i] == '\n';
            if (raw[i]) last = i;
        }
        if (last < rlen && raw[last] != '\n') nl++;
        *rows = nl > 0 ? nl - 1 : 0;
        if (owned) free(raw);
        return -1;
    }
    if (owned && *text != raw) free(raw);
    return 0;
}

int ns_ingest_read(const char *path, char **text, size_t *tlen, char sha256[65], char encoding[8],
                   char **error, int64_t *rows)
{
    char *raw = NULL;
    size_t rlen = 0;
    if (ns_read_file(path, &raw, &rlen) < 0) {
        *text = NULL;
        *tlen = 0;
        *rows = 0;
        *error = ns_asprintf("%s: cannot read: %s", path, strerror(errno));
        return -1;
    }
    ns_sha256_hex(raw, rlen, sha256);
    return ingest_decode(path, raw, rlen, 1, text, tlen, encoding, error, rows);
}

int ns_ingest_plain_rows = 1;

/* room in s for one more well; the first call (a new thread's scratch) makes room for
 * `hint` */
static void slot_reserve(slot_t *s, int na, int64_t hint)
{
    if (s->n < s->m) return;
    s->m = s->m ? s->m * 2 : hint > 0 ? hint : 128;
    s->well = ns_realloc(s->well, (size_t)s->m * sizeof *s->well);
    s->sid = ns_realloc(s->sid, (size_t)s->m * sizeof *s->sid);
    s->type = ns_realloc(s->type, (size_t)s->m * sizeof *s->type);
    s->v = ns_realloc(s->v, (size_t)s->m * (size_t)na * sizeof *s->v);
    s->cell = ns_realloc(s->cell, (size_t)s->m * (size_t)na * sizeof *s->cell);
}

/* row s->n's sample_id: the len bytes at id */
static void slot_sid(slot_t *s, const char *id, size_t len)
{
    if (s->nsids + len + 1 > s->msids) {
        s->msids = 2 * s->msids + len + 1 + 4096;
        s->sids = ns_realloc(s->sids, s->msids);
    }
    s->sid[s->n] = s->nsids;
    memcpy(s->sids + s->nsids, id, len);
    s->sids[s->nsids + len] = 0;
    s->nsids += len + 1;
}

/* the sample type a sample_type cell names (any configured spelling), or -1 */
static int sample_type_of(const ns_panel_t *p, const char *ts)
{
    for (int k = 0; k < NS_TYPE_N; k++)
        for (int x = 0; x < p->input.n_type_alias[k]; x++)
            if (ns_strcaseeq(ts, p->input.type_alias[k][x])) return k;
    return -1;
}

/* field [b, e) of the text as a C string in buf (size n), or NULL when it does not fit */
static const char *field_str(const char *t, size_t b, size_t e, char *buf, size_t n)
{
    if (e - b >= n) return NULL;
    memcpy(buf, t + b, e - b);
    buf[e - b] = 0;
    return buf;
}

/* What a plate's rows are checked against, for the plain-row path. */
typedef struct {
    const ns_panel_t *p;
    const int8_t *map;
    const int *fixed, *col_of;
    int nh;
    int simd;           /* ns_parse_short8 takes cells on this CPU */
    int64_t hint;       /* the wells of a plate: the scratch's first size */
    size_t *span;       /* 2 * nh */
} rowctx_t;

/* The next data row when it is plain (csv.h: ns_csv_next_plain) and passes every check
 * the general path below makes: it is added to s (well marked seen) and 1 returned.  On
 * anything else 0, with nothing added and the reader where it was, so that the general
 * path reads the row again and says what is wrong with it in its own words.  The cells are
 * the general path's (the same number parser on the same characters, ns_parse_cell for the
 * special forms), so the two paths cannot disagree on a value; tests/unit/test_plate_rows
 * checks it on random rows. */
static int plain_row(const rowctx_t *x, ns_csv_t *c, const ns_plate_t *pl, int *seen, slot_t *s)
{
    const ns_panel_t *p = x->p;
    const int na = p->n_analytes, rows = p->input.plate_rows, cols = p->input.plate_cols;
    const size_t pos = c->pos;
    const int line = c->line, col = c->col;
    if (!ns_csv_next_plain(c, x->nh, x->span)) return 0;
    const char *t = c->text;
    const size_t *sp = x->span;
    char buf[72], wb[8];
#define SPAN(k) sp[2 * (k)], sp[2 * (k) + 1]
#define BACK() do { c->pos = pos; c->line = line; c->col = col; return 0; } while (0)
    const int jp = x->fixed[COL_PLATE], jw = x->fixed[COL_WELL], jt = x->fixed[COL_TYPE], js = x->fixed[COL_SID];
    size_t lp = sp[2 * jp + 1] - sp[2 * jp];
    if (!lp || lp != strlen(pl->id) || memcmp(t + sp[2 * jp], pl->id, lp) != 0) BACK();
    char well[4];
    const char *ws = field_str(t, SPAN(jw), wb, sizeof wb);
    if (!ws || ns_parse_well(ws, rows, cols, well) < 0) BACK();
    int wi = (well[0] - 'A') * cols + (well[1] - '0') * 10 + (well[2] - '0') - 1;
    if (seen[wi]) BACK();
    const char *ts = field_str(t, SPAN(jt), buf, sizeof buf);
    int type = ts ? sample_type_of(p, ts) : -1;
    if (type < 0) BACK();
    if (x->map && x->map[wi] != type && (x->map[wi] != NS_TYPE_PATIENT || type != NS_TYPE_PATIENT)) BACK();
    size_t ls = sp[2 * js + 1] - sp[2 * js];
    if ((type == NS_TYPE_PATIENT && !ls) || ls >= NS_FU_ID_MAX) BACK();
    slot_reserve(s, na, x->hint);
    double *v = s->v + (size_t)s->n * (size_t)na;
    uint8_t *ck = s->cell + (size_t)s->n * (size_t)na;
    memset(ck, NS_CELL_VALUE, (size_t)na);
    for (int a0 = 0; a0 < na; a0 += 8) {
        /* eight cells at once where the CPU can (numparse.h: the short plain numbers, in
         * range); the rest, one at a time */
        const int k = na - a0 < 8 ? na - a0 : 8;
        unsigned rest = (1u << k) - 1u;
        if (x->simd) rest &= ~ns_parse_short8(t, c->len, sp, x->col_of + a0, rest, NS_CELL_MAX, v + a0);
        for (; rest; rest &= rest - 1u) {
            const int a = a0 + __builtin_ctz(rest);
            const int j = x->col_of[a];
            const size_t b = sp[2 * j], e = sp[2 * j + 1];
            const unsigned char c0 = b < e ? (unsigned char)t[b] : 0;
            if ((c0 >= '0' && c0 <= '9') || c0 == '.' || c0 == '-' || c0 == '+') {
                if (ns_parse_decimal_in(t + b, e - b, c->len - b, &v[a]) != 0 || !isfinite(v[a])) BACK();
            } else {                /* empty, ND, NaN, <x: the general cell rules */
                const char *cs = field_str(t, b, e, buf, sizeof buf);
                if (!cs || ns_parse_cell(cs, &v[a], &ck[a]) < 0) BACK();
            }
            if ((v[a] < 0 && type != NS_TYPE_BLANK) || fabs(v[a]) > NS_CELL_MAX) BACK();
        }
    }
#undef SPAN
#undef BACK
    seen[wi] = line;
    memcpy(s->well[s->n], well, 4);
    slot_sid(s, t + sp[2 * js], ls);
    s->type[s->n] = (uint8_t)type;
    s->n++;
    return 1;
}

/* Parse a whole plate file into s: its bytes raw (rlen of them, hashed into pl->sha256
 * already; the caller's buffer, which the parse writes into), or NULL when reading it
 * failed with read_errno.  On any problem, set pl->error and keep counting rows. */
static void parse_plate(const ns_panel_t *p, const int8_t *map, const char *path, char *raw, size_t rlen,
                        int read_errno, ns_plate_t *pl, slot_t *s, hdr_cache_t *hc)
{
    const int na = p->n_analytes;
    char *text = NULL;
    size_t tlen = 0;
    slot_clear(s);
    if (!raw) {
        pl->error = ns_asprintf("%s: cannot read: %s", path, strerror(read_errno));
        pl->status = NS_PLATE_QUARANTINED;
        return;
    }
    if (ingest_decode(path, raw, rlen, 0, &text, &tlen, pl->encoding, &pl->error, &pl->n_wells) < 0) {
        pl->status = NS_PLATE_QUARANTINED;
        return;
    }

    ns_csv_t c;
    ns_csv_init(&c, text, tlen);
    int r = ns_csv_next(&c);
    if (r <= 0) {
        if (r < 0) {
            set_error(pl, path, c.err_line, c.err_col, "%s", c.err);
            pl->n_wells = ns_count_data_lines(text, tlen);
        } else set_error(pl, path, 1, 1, "empty file: no header row");
        goto done;
    }

    /* header: map each column to a fixed column or an analyte */
    const int nh = c.nf;
    int fixed[4] = { -1, -1, -1, -1 };
    int *col_of = ns_malloc((size_t)na * sizeof *col_of);   /* analyte -> column */
    for (int a = 0; a < na; a++) col_of[a] = -1;
    int *ana_of = ns_malloc((size_t)nh * sizeof *ana_of);   /* column -> analyte or -1 */
    if (hdr_cache_hit(hc, &c, na)) {
        memcpy(fixed, hc->fixed, sizeof fixed);
        memcpy(ana_of, hc->ana_of, (size_t)nh * sizeof *ana_of);
        memcpy(col_of, hc->col_of, (size_t)na * sizeof *col_of);
    } else {
        for (int j = 0; j < nh; j++) {
            ana_of[j] = -1;
            const char *h = c.f[j];
            int done = 0;
            for (int k = 0; k < 4 && !done; k++)
                for (int x = 0; x < p->input.n_col_alias[k]; x++)
                    if (ns_strcaseeq(h, p->input.col_alias[k][x])) {
                        if (fixed[k] >= 0)
                            set_error(pl, path, c.fline[j], c.fcol[j], "columns %d and %d are both '%s'",
                                      fixed[k] + 1, j + 1, p->input.col_alias[k][0]);
                        fixed[k] = j;
                        done = 1;
                        break;
                    }
            if (done) continue;
            int a = ns_panel_find_analyte(p, h);
            if (a < 0) continue;                  /* other vendor columns (internal standards...) */
            if (col_of[a] >= 0)
                set_error(pl, path, c.fline[j], c.fcol[j], "columns %d ('%s') and %d ('%s') both hold analyte %s",
                          col_of[a] + 1, c.f[col_of[a]], j + 1, h, p->analytes[a].name);
            col_of[a] = j;
            ana_of[j] = a;
        }
        char acc[512];
        for (int k = 0; k < 4; k++)
            if (fixed[k] < 0) {
                alias_text(acc, sizeof acc, p->input.col_alias[k], p->input.n_col_alias[k]);
                set_error(pl, path, c.rec_line, 1, "missing column '%s' (accepted spellings: %s)",
                          p->input.col_alias[k][0], acc);
            }
        for (int a = 0; a < na; a++)
            if (col_of[a] < 0) {
                char *names[65];
                int nn = 0;
                names[nn++] = p->analytes[a].name;
                for (int x = 0; x < p->analytes[a].n_aliases && nn < 65; x++) names[nn++] = p->analytes[a].aliases[x];
                alias_text(acc, sizeof acc, names, nn);
                set_error(pl, path, c.rec_line, 1, "missing column for analyte %s (accepted spellings: %s)",
                          p->analytes[a].name, acc);
            }
        if (!pl->error) hdr_cache_put(hc, &c, na, fixed, ana_of, col_of);
    }

    /* rows */
    const int rows = p->input.plate_rows, cols = p->input.plate_cols;
    int *seen = ns_calloc((size_t)(rows * cols), sizeof *seen);   /* line of each well, 0 = not yet */
    char qb[200];                                                 /* a cell quoted in a message */
    size_t *span = ns_malloc(2 * (size_t)nh * sizeof *span);
    /* the scratch: room for a whole plate (one row per well: a second is refused) */
    const int64_t hint = (int64_t)rows * cols;
    const rowctx_t rx = { .p = p, .map = map, .fixed = fixed, .col_of = col_of, .nh = nh, .span = span,
                         .simd = ns_parse_short8_available(), .hint = hint };
    for (;;) {
        /* the plain rows of a good plate, once its id is known; every other row below */
        if (ns_ingest_plain_rows && !pl->error && pl->id[0] && plain_row(&rx, &c, pl, seen, s)) {
            pl->n_wells++;
            pl->n_plain++;
            continue;
        }
        if ((r = ns_csv_next(&c)) == 0) break;
        pl->n_wells++;
        if (pl->error) continue;                  /* quarantined: just count */
        if (r < 0) { set_error(pl, path, c.err_line, c.err_col, "%s", c.err); continue; }
        const int L = c.rec_line;
        if (c.nf != nh) {
            if (c.nf < nh)
                set_error(pl, path, c.end_line, c.end_col, "row has %d fields, the header has %d (truncated row)", c.nf, nh);
            else
                set_error(pl, path, c.fline[nh], c.fcol[nh], "row has %d fields, the header has %d", c.nf, nh);
            continue;
        }
        const char *pid = c.f[fixed[COL_PLATE]];
        if (!*pid) { set_error(pl, path, c.fline[fixed[COL_PLATE]], c.fcol[fixed[COL_PLATE]], "empty plate_id"); continue; }
        if (!pl->id[0]) {
            if (strlen(pid) >= sizeof pl->id) {
                set_error(pl, path, c.fline[fixed[COL_PLATE]], c.fcol[fixed[COL_PLATE]], "plate_id '%.40s...' is longer than %d characters",
                          pid, (int)sizeof pl->id - 1);
                continue;
            }
            strcpy(pl->id, pid);
            pl->id_line = c.fline[fixed[COL_PLATE]];
            pl->id_col = c.fcol[fixed[COL_PLATE]];
        } else if (strcmp(pl->id, pid) != 0) {
            set_error(pl, path, c.fline[fixed[COL_PLATE]], c.fcol[fixed[COL_PLATE]], "plate_id '%s' differs from '%s' above: one file must hold one plate",
                      ns_clip_cell(qb, pid), pl->id);
            continue;
        }
        char well[4];
        const char *ws = c.f[fixed[COL_WELL]];
        int wr = ns_parse_well(ws, rows, cols, well);
        if (wr < 0) {
            if (wr == -2)
                set_error(pl, path, c.fline[fixed[COL_WELL]], c.fcol[fixed[COL_WELL]], "well '%s' is not on a %d-well plate (A01-%c%02d)",
                          ns_clip_cell(qb, ws), rows * cols, 'A' + rows - 1, cols);
            else
                set_error(pl, path, c.fline[fixed[COL_WELL]], c.fcol[fixed[COL_WELL]], "well '%s' is not a well name (expected A01-%c%02d)",
                          ns_clip_cell(qb, ws), 'A' + rows - 1, cols);
            continue;
        }
        int wi = (well[0] - 'A') * cols + (well[1] - '0') * 10 + (well[2] - '0') - 1;
        if (seen[wi]) {
            set_error(pl, path, c.fline[fixed[COL_WELL]], c.fcol[fixed[COL_WELL]], "duplicate well %s (first at line %d)", well, seen[wi]);
            continue;
        }
        seen[wi] = L;
        const char *ts = c.f[fixed[COL_TYPE]];
        int type = sample_type_of(p, ts);
        if (type < 0) {
            set_error(pl, path, c.fline[fixed[COL_TYPE]], c.fcol[fixed[COL_TYPE]],
                      "unknown sample_type '%s' (expected patient, qc_low, qc_high or blank, or a spelling from the config)", ns_clip_cell(qb, ts));
            continue;
        }
        /* the plate map says where controls and blanks are; a mismatch means the plate
         * was loaded or exported with another layout, and no well on it can be trusted */
        if (map && map[wi] != type && (map[wi] != NS_TYPE_PATIENT || type != NS_TYPE_PATIENT)) {
            set_error(pl, path, c.fline[fixed[COL_TYPE]], c.fcol[fixed[COL_TYPE]],
                      "well %s holds %s, but the plate map (QC config) says %s", well, ns_type_name(type),
                      ns_type_name(map[wi]));
            continue;
        }
        const char *sid = c.f[fixed[COL_SID]];
        if (type == NS_TYPE_PATIENT && !*sid) {
            set_error(pl, path, c.fline[fixed[COL_SID]], c.fcol[fixed[COL_SID]], "empty sample_id in a patient well");
            continue;
        }
        /* the follow-up list carries ids of up to NS_FU_ID_MAX - 1 bytes: a longer one would
         * reach the family's row cut short (as on a gene plate) */
        if (strlen(sid) >= NS_FU_ID_MAX) {
            set_error(pl, path, c.fline[fixed[COL_SID]], c.fcol[fixed[COL_SID]], "sample_id '%s' is longer than %d bytes",
                      ns_clip_cell(qb, sid), NS_FU_ID_MAX - 1);
            continue;
        }
        slot_reserve(s, na, hint);
        double *v = s->v + (size_t)s->n * (size_t)na;
        uint8_t *ck = s->cell + (size_t)s->n * (size_t)na;
        int bad = 0;
        for (int a = 0; a < na && !bad; a++) {
            int j = col_of[a];
            if (ns_parse_cell(c.f[j], &v[a], &ck[a]) < 0) {
                set_error(pl, path, c.fline[j], c.fcol[j], "value '%s' in column %s is not a number", ns_clip_cell(qb, c.f[j]), p->analytes[a].name);
                bad = 1;
            } else if (v[a] < 0 && type != NS_TYPE_BLANK) {
                set_error(pl, path, c.fline[j], c.fcol[j], "negative value '%s' in column %s (allowed in blank wells only)",
                          ns_clip_cell(qb, c.f[j]), p->analytes[a].name);
                bad = 1;
            } else if (fabs(v[a]) > NS_CELL_MAX) {
                set_error(pl, path, c.fline[j], c.fcol[j], "value '%s' in column %s is beyond %g umol/L: not a blood concentration",
                          ns_clip_cell(qb, c.f[j]), p->analytes[a].name, NS_CELL_MAX);
                bad = 1;
            }
        }
        if (bad) continue;
        memcpy(s->well[s->n], well, 4);
        slot_sid(s, sid, strlen(sid));
        s->type[s->n] = (uint8_t)type;
        s->n++;
    }
    if (!pl->error && pl->n_wells == 0) set_error(pl, path, 1, 1, "no data rows after the header");
    free(span);
    free(seen);
    free(col_of);
    free(ana_of);
done:
    ns_csv_free(&c);
    if (text != raw) free(text);            /* decoded into a buffer of its own */
    if (pl->error) slot_clear(s);
}

static const ns_plate_t *sort_plates;

static int cmp_plate_id(const void *pa, const void *pb)
{
    int a = *(const int *)pa, b = *(const int *)pb;
    int c = strcmp(sort_plates[a].id, sort_plates[b].id);
    return c ? c : (a > b) - (a < b);
}

/* ord[0..n) sorted by (plate id, file order). */
static void sort_plates_by_id(const ns_plate_t *plates, int *ord, int n)
{
    sort_plates = plates;
    qsort(ord, (size_t)n, sizeof *ord, cmp_plate_id);
    sort_plates = NULL;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
/* The first n & ~7 rows of the first na & ~7 analytes of the row-major v (n rows of na)
 * into the analyte-major conc (analyte a's rows at conc[a * nub + base...]), eight rows by
 * eight analytes at a time: eight loads, three rounds of shuffles, eight stores, where
 * one value at a time was a load and a store each (a tenth of the plate reader's time).
 * @return the analytes done (na & ~7); the caller does the rest. */
__attribute__((target("avx512f")))
static int transpose_x8(const double *v, int64_t n, int na, double *conc, int64_t nub, int64_t base)
{
    const int a8 = na & ~7;
    for (int a0 = 0; a0 < a8; a0 += 8) {
        double *dst = conc + (size_t)a0 * (size_t)nub + (size_t)base;
        for (int64_t r0 = 0; r0 + 8 <= n; r0 += 8) {
            const double *src = v + (size_t)r0 * (size_t)na + (size_t)a0;
#define ROW(i) _mm512_loadu_pd(src + (size_t)(i) * (size_t)na)
            /* (r_i[j], r_i+1[j]) pairs, then four rows of analytes j and j + 4, then eight */
            const __m512d x0 = ROW(0), x1 = ROW(1), x2 = ROW(2), x3 = ROW(3), x4 = ROW(4), x5 = ROW(5),
                          x6 = ROW(6), x7 = ROW(7);
#undef ROW
            const __m512d t0 = _mm512_unpacklo_pd(x0, x1), t1 = _mm512_unpackhi_pd(x0, x1),
                          t2 = _mm512_unpacklo_pd(x2, x3), t3 = _mm512_unpackhi_pd(x2, x3),
                          t4 = _mm512_unpacklo_pd(x4, x5), t5 = _mm512_unpackhi_pd(x4, x5),
                          t6 = _mm512_unpacklo_pd(x6, x7), t7 = _mm512_unpackhi_pd(x6, x7);
            const __m512d u0 = _mm512_shuffle_f64x2(t0, t2, 0x88), u1 = _mm512_shuffle_f64x2(t1, t3, 0x88),
                          u2 = _mm512_shuffle_f64x2(t0, t2, 0xDD), u3 = _mm512_shuffle_f64x2(t1, t3, 0xDD),
                          u4 = _mm512_shuffle_f64x2(t4, t6, 0x88), u5 = _mm512_shuffle_f64x2(t5, t7, 0x88),
                          u6 = _mm512_shuffle_f64x2(t4, t6, 0xDD), u7 = _mm512_shuffle_f64x2(t5, t7, 0xDD);
#define COL(j, c) _mm512_storeu_pd(dst + (size_t)(j) * (size_t)nub + (size_t)r0, (c))
            COL(0, _mm512_shuffle_f64x2(u0, u4, 0x88));
            COL(1, _mm512_shuffle_f64x2(u1, u5, 0x88));
            COL(2, _mm512_shuffle_f64x2(u2, u6, 0x88));
            COL(3, _mm512_shuffle_f64x2(u3, u7, 0x88));
            COL(4, _mm512_shuffle_f64x2(u0, u4, 0xDD));
            COL(5, _mm512_shuffle_f64x2(u1, u5, 0xDD));
            COL(6, _mm512_shuffle_f64x2(u2, u6, 0xDD));
            COL(7, _mm512_shuffle_f64x2(u3, u7, 0xDD));
#undef COL
        }
    }
    return a8;
}
#else
static int transpose_x8(const double *v, int64_t n, int na, double *conc, int64_t nub, int64_t base)
{
    (void)v; (void)n; (void)na; (void)conc; (void)nub; (void)base;
    return 0;
}
#endif

/* The rows of plate k (parsed into s) to the batch, from row `base` on: the batch is
 * laid out for `nub` rows, analyte-major (conc[a * nub + i]), until compact_rows. */
static void slot_to_batch(ns_batch_t *b, int k, int64_t base, int64_t nub, slot_t *s)
{
    const int na = b->panel->n_analytes;
    char *ids = b->plates[k].sid_block = ns_malloc(s->nsids ? s->nsids : 1);
    memcpy(ids, s->sids, s->nsids);
    for (int64_t r = 0; r < s->n; r++) {
        const int64_t i = base + r;
        b->plate[i] = k;
        memcpy(b->well[i], s->well[r], 4);
        b->sample_id[i] = ids + s->sid[r];
        b->type[i] = s->type[r];
        b->mrow[i] = -1;
    }
    /* row-major slot -> analyte-major batch: the values eight by eight where the CPU can */
    const int64_t n = s->n;
    const double *restrict v = s->v;
    const uint8_t *restrict ck = s->cell;
    const int a8 = ns_cpu_avx512() ? transpose_x8(v, n, na, b->conc, nub, base) : 0;
    for (int a = 0; a < na; a++) {
        double *restrict dc = b->conc + (size_t)a * (size_t)nub + (size_t)base;
        uint8_t *restrict dk = b->cell + (size_t)a * (size_t)nub + (size_t)base;
        for (int64_t r = a < a8 ? n & ~(int64_t)7 : 0; r < n; r++) dc[r] = v[(size_t)r * (size_t)na + (size_t)a];
        for (int64_t r = 0; r < n; r++) dk[r] = ck[(size_t)r * (size_t)na + (size_t)a];
    }
    s->n = 0;
    s->nsids = 0;
}

typedef struct { size_t src, dst, m; } move_t;     /* m rows from src to dst (dst <= src) */

/* moves [i0, i1) of mv, in order */
static void move_run(ns_batch_t *b, const move_t *mv, size_t i0, size_t i1)
{
    for (size_t i = i0; i < i1; i++)
        if (mv[i].src != mv[i].dst) {
            memmove(b->conc + mv[i].dst, b->conc + mv[i].src, mv[i].m * sizeof *b->conc);
            memmove(b->cell + mv[i].dst, b->cell + mv[i].src, mv[i].m * sizeof *b->cell);
        }
}

/* The moves of compact_rows on the analyte columns, in address order, split among the
 * threads: thread t takes a run of moves and makes them in order.  Its first moves may
 * land below its first source, on sources of thread t - 1 that may not be read yet: the
 * rows of those (its head) are put aside before anything moves, and written after every
 * thread is done.  Every other move lands on or above the thread's first source, on rows
 * only this thread reads, in the order that reads each before it is overwritten. */
static void move_columns(ns_batch_t *b, const move_t *mv, size_t nm)
{
    int T = nm >= 64 ? omp_get_max_threads() : 1;
    size_t total = 0;
    for (size_t i = 0; i < nm; i++) total += mv[i].m;
    size_t lo[65], hd[65], off[65];
    for (;;) {
        if (T > 64) T = 64;
        size_t acc = 0, i = 0;
        lo[0] = 0;
        for (int t = 1; t < T; t++) {          /* equal shares of rows */
            while (i < nm && acc < total / (size_t)T * (size_t)t) acc += mv[i++].m;
            lo[t] = i;
        }
        lo[T] = nm;
        size_t kept = 0;
        for (int t = 0; t < T; t++) {
            hd[t] = lo[t];
            off[t] = kept;
            if (t > 0 && lo[t] < lo[t + 1])
                while (hd[t] < lo[t + 1] && mv[hd[t]].dst < mv[lo[t]].src) kept += mv[hd[t]++].m;
        }
        off[T] = kept;
        if (T == 1 || kept <= ((size_t)8 << 20)) break;      /* heads of 8M rows at most */
        T = 1;
    }
    double *hc = ns_malloc((off[T] ? off[T] : 1) * sizeof *hc);
    uint8_t *hk = ns_malloc(off[T] ? off[T] : 1);
    #pragma omp parallel num_threads(T)
    {
        const int t = omp_get_thread_num();
        if (omp_get_num_threads() != T) {  /* a smaller team than asked */
            if (t == 0) move_run(b, mv, 0, nm);     /* every move, in order */
        } else {
            size_t o = off[t];
            for (size_t i = lo[t]; i < hd[t]; o += mv[i++].m) {     /* the head, aside */
                memcpy(hc + o, b->conc + mv[i].src, mv[i].m * sizeof *hc);
                memcpy(hk + o, b->cell + mv[i].src, mv[i].m);
            }
            move_run(b, mv, hd[t], lo[t + 1]);
            #pragma omp barrier
            o = off[t];
            for (size_t i = lo[t]; i < hd[t]; o += mv[i++].m) {     /* and in place */
                memcpy(b->conc + mv[i].dst, hc + o, mv[i].m * sizeof *hc);
                memcpy(b->cell + mv[i].dst, hk + o, mv[i].m);
            }
        }
    }
    free(hc);
    free(hk);
}

/* Close the gaps: plate k's rows (rows_of[k] of them) sit at k * cap of a batch laid out
 * for nub rows; they move to first_row of a batch of b->n rows.  Every block moves down
 * (to a lower or the same address) and the blocks are moved in address order, so none is
 * overwritten before its turn.  The arrays are then cut to b->n rows (a cut of a large
 * block is a remap, not a copy). */
static void compact_rows(ns_batch_t *b, int64_t cap, int64_t nub, const int64_t *rows_of)
{
    const int na = b->panel->n_analytes;
    const int64_t n = b->n;
    if (n == nub) return;                   /* every plate full and kept: nothing moves */
    for (int k = 0; k < b->n_plates; k++) {
        const int64_t m = rows_of[k], src = (int64_t)k * cap, dst = b->plates[k].first_row;
        if (b->plates[k].status != NS_PLATE_OK || !m || src == dst) continue;
        memmove(b->plate + dst, b->plate + src, (size_t)m * sizeof *b->plate);
        memmove(b->well + dst, b->well + src, (size_t)m * sizeof *b->well);
        memmove(b->sample_id + dst, b->sample_id + src, (size_t)m * sizeof *b->sample_id);
        memmove(b->type + dst, b->type + src, (size_t)m * sizeof *b->type);
        memmove(b->mrow + dst, b->mrow + src, (size_t)m * sizeof *b->mrow);
    }
    /* the analyte columns: their moves (in rows of a column; conc and cell alike) */
    size_t nm = 0;
    move_t *mv = ns_malloc((size_t)(na ? na : 1) * (size_t)(b->n_plates ? b->n_plates : 1) * sizeof *mv);
    for (int a = 0; a < na; a++)
        for (int k = 0; k < b->n_plates; k++) {
            const int64_t m = rows_of[k];
            if (b->plates[k].status != NS_PLATE_OK || !m) continue;
            mv[nm++] = (move_t){ .src = (size_t)a * (size_t)nub + (size_t)k * (size_t)cap,
                                 .dst = (size_t)a * (size_t)n + (size_t)b->plates[k].first_row, .m = (size_t)m };
        }
    move_columns(b, mv, nm);
    free(mv);
    const size_t nr = (size_t)(n ? n : 1);
    b->plate = ns_realloc(b->plate, nr * sizeof *b->plate);
    b->well = ns_realloc(b->well, nr * sizeof *b->well);
    b->sample_id = ns_realloc(b->sample_id, nr * sizeof *b->sample_id);
    b->type = ns_realloc(b->type, nr * sizeof *b->type);
    b->mrow = ns_realloc(b->mrow, nr * sizeof *b->mrow);
    b->conc = ns_realloc(b->conc, nr * (size_t)(na ? na : 1) * sizeof *b->conc);
    b->cell = ns_realloc(b->cell, nr * (size_t)(na ? na : 1) * sizeof *b->cell);
}

int ns_ingest_plates(ns_batch_t *b, char **paths, int n_paths)
{
    const ns_panel_t *p = b->panel;
    const int na = p->n_analytes;
    b->plates = ns_calloc((size_t)(n_paths ? n_paths : 1), sizeof *b->plates);
    b->n_plates = n_paths;
    for (int k = 0; k < n_paths; k++) {
        ns_plate_t *pl = &b->plates[k];
        pl->path = ns_strdup(paths[k]);
        const char *sl = strrchr(paths[k], '/');
        pl->name = ns_strdup(sl ? sl + 1 : paths[k]);
        pl->first_row = -1;
        strcpy(pl->encoding, "?");
    }

    /* The batch, laid out for every plate full: plate k's rows from k * cap on (a plate
     * holds at most one row per well).  Each plate is parsed into its thread's scratch and
     * copied to its place at once, the first touch of those pages; compact_rows closes
     * the gaps afterwards.  Pages of the gaps are never touched. */
    const int64_t cap = (int64_t)p->input.plate_rows * p->input.plate_cols;
    const int64_t nub = cap * n_paths;
    const size_t nr = (size_t)(nub ? nub : 1);
    b->plate = ns_malloc(nr * sizeof *b->plate);
    b->well = ns_malloc(nr * sizeof *b->well);
    b->sample_id = ns_malloc(nr * sizeof *b->sample_id);
    b->type = ns_malloc(nr * sizeof *b->type);
    b->mrow = ns_malloc(nr * sizeof *b->mrow);
    b->conc = ns_malloc(nr * (size_t)(na ? na : 1) * sizeof *b->conc);
    b->cell = ns_malloc(nr * (size_t)(na ? na : 1) * sizeof *b->cell);
    int64_t *rows_of = ns_calloc((size_t)(n_paths ? n_paths : 1), sizeof *rows_of);
    b->sid_blocks = 1;                      /* sample_ids in their plate's sid_block */

    /* parallel over files: each task touches only its own plates[k], its rows of the batch
     * and its thread's scratch */
    const int nth = omp_get_max_threads();
    hdr_cache_t *hcs = ns_calloc((size_t)nth, sizeof *hcs);
    slot_t *scratch = ns_calloc((size_t)nth, sizeof *scratch);
    /* plates in groups, read first and hashed together; groups of GROUP unless that leaves
     * fewer than four per thread */
    int G = GROUP;
    while (G > 2 && (n_paths + G - 1) / G < 4 * nth) G /= 2;
    #pragma omp parallel for schedule(dynamic, 1)
    for (int q = 0; q < (n_paths + G - 1) / G; q++) {
        const int t = omp_get_thread_num() % nth, k0 = G * q, nk = n_paths - k0 < G ? n_paths - k0 : G;
        char *raw[GROUP];                       /* the thread's buffers, or NULL: not read */
        const void *hraw[GROUP];                /* the plates read, to hash */
        size_t rlen[GROUP], hlen[GROUP];
        int err[GROUP], at[GROUP], nh = 0;
        char hex[GROUP][NS_SHA256_HEX_LEN + 1];
        for (int j = 0; j < nk; j++) {
            err[j] = 0;
            if (ns_read_file_into(paths[k0 + j], &scratch[t].raw[j], &scratch[t].rawcap[j], &rlen[j]) == 0) {
                raw[j] = scratch[t].raw[j];
            } else {
                raw[j] = NULL;
                rlen[j] = 0;
                err[j] = errno;
                continue;
            }
            hraw[nh] = raw[j];
            hlen[nh] = rlen[j];
            at[nh++] = j;
        }
        ns_sha256_hex_many(nh, hraw, hlen, hex);
        for (int r = 0; r < nh; r++) memcpy(b->plates[k0 + at[r]].sha256, hex[r], sizeof hex[r]);
        for (int j = 0; j < nk; j++) {
            const int k = k0 + j;
            ns_plate_t *pl = &b->plates[k];
            parse_plate(p, b->plate_map, paths[k], raw[j], rlen[j], err[j], pl, &scratch[t], &hcs[t]);
            if (pl->status != NS_PLATE_OK) continue;
            if (scratch[t].n > cap) {       /* cannot be: every row is a distinct well */
                ns_error("ingest", "internal error: %s holds %lld rows, its plate %lld wells", paths[k],
                         (long long)scratch[t].n, (long long)cap);
                abort();
            }
            rows_of[k] = scratch[t].n;
            slot_to_batch(b, k, (int64_t)k * cap, nub, &scratch[t]);
        }
    }
    for (int t = 0; t < nth; t++) {
        free(hcs[t].text);
        free(hcs[t].ana_of);
        free(hcs[t].col_of);
        slot_free(&scratch[t]);
    }
    free(hcs);
    free(scratch);

    /* a plate id may appear once per night: the first file (in file order) keeps it, every
     * later one is quarantined naming it (its rows are dropped).  Sorted by (id, file
     * order), so that a night of 10,000 plates does not compare every pair. */
    int *ord = ns_malloc((size_t)(n_paths ? n_paths : 1) * sizeof *ord), n_ok = 0;
    for (int k = 0; k < n_paths; k++)
        if (b->plates[k].status == NS_PLATE_OK) ord[n_ok++] = k;
    sort_plates_by_id(b->plates, ord, n_ok);
    for (int g = 0; g < n_ok; ) {
        int h = g + 1;
        while (h < n_ok && strcmp(b->plates[ord[h]].id, b->plates[ord[g]].id) == 0) h++;
        for (int j = g + 1; j < h; j++) {
            const int k = ord[j];
            ns_plate_t *pl = &b->plates[k];
            pl->error = ns_asprintf("%s:%d:%d: plate_id '%s' was already read from %s (a plate is read once per night)",
                                    pl->path, pl->id_line, pl->id_col, pl->id, b->plates[ord[g]].path);
            pl->status = NS_PLATE_QUARANTINED;
            free(pl->sid_block);
            pl->sid_block = NULL;
            rows_of[k] = 0;
        }
        g = h;
    }
    free(ord);

    int64_t n = 0;
    int n_quar = 0;
    for (int k = 0; k < n_paths; k++) {
        ns_plate_t *pl = &b->plates[k];
        b->wells_read += pl->n_wells;
        if (pl->status == NS_PLATE_OK) {
            pl->first_row = n;
            n += rows_of[k];
        } else { n_quar++; b->n_quarantined_wells += pl->n_wells; }
    }
    b->n = n;
    compact_rows(b, cap, nub, rows_of);
    free(rows_of);
    return n_quar;
}
