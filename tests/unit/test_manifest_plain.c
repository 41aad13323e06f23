/* test_manifest_plain.c — the manifest's plain-row path (ingest_manifest.c: plain_row)
 * against the general CSV reader (ns_manifest_plain_rows = 0): the same rows, values (bit
 * for bit), positions, rejections and messages, in the same order.
 *
 * Random manifests, columns in a random order, with cells of every kind the checks tell
 * apart: good values and each way to be wrong (numbers out of range, not numbers, in
 * exponent or hex form; times that are not times, a collection before the birth; feeding
 * in any case or unknown; flags in each spelling; empty and overlong ids and texts), and
 * rows the plain path must leave to the general reader (blanks around a field, a wrong
 * number of fields, CRLF line ends, UTF-8 before the sample_id column).  Cells of any
 * column are quoted now and then, with "" inside and blanks around (the quoted-line path,
 * ns_csv_next_quoted), and now and then quoted so that only the general reader may read
 * them (a line break or CR inside, text after the quote, a quote in a plain cell).
 * Small files are read in one part; large ones in parts on two threads, one of them with a
 * byte-order mark; some with a column it does not read, now and then long.  With the
 * AVX-512 splitters and without.  The manifest's digest is the file's on both paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../../pipeline/batch.h"
#include "../../pipeline/ingest.h"
#include "../../pipeline/sha256.h"
#include "../../pipeline/util.h"

static uint64_t rng = 0x6d616e6966657374ULL;   /* "manifest" */
static unsigned below(unsigned n)
{
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned)((rng >> 33) % n);
}

static const char *const names[] = {
    "sample_id", "infant_id", "specimen", "sex", "birth_weight_g", "gestational_age_days",
    "birth_time", "collection_time", "feeding", "transfusion", "antibiotics", "nicu",
    "hospital", "mother_name", "contact_phone", "notes" };
enum { NCOL = 15, NOTES = 15 };     /* notes: a column the manifest does not read */

static const char *pick(const char *const *v, unsigned n) { return v[below(n)]; }
#define PICK(v) pick(v, sizeof v / sizeof *v)

/* cell k of a row; mostly good */
static void cell(char *o, size_t sz, int k, int row)
{
    static const char *const bw[] = { "3250", "3250.5", "100", "10000", "99.9", "10001", "0", "-5", "abc",
                                      "3.2e3", "0x10", "", "32500000000000000000000", "1e999", "nan", "inf" };
    static const char *const ga[] = { "280", "140", "350", "139", "351", "280.25", "", "w40", "2.8e2" };
    static const char *const tm[] = { "2026-11-17T17:13", "2026-11-19T05:53", "2026-11-19 05:53:10",
                                      "2026-11-18T00:00Z", "2026-02-30T10:00", "yesterday", "", "2026-11-17T25:00" };
    static const char *const feed[] = { "breast", "Formula", "MIXED", "tpn", "TPN", "bottle", "", "breast " };
    static const char *const flag[] = { "0", "1", "yes", "No", "Y", "n", "TRUE", "false", "", "2", "maybe" };
    static const char *const sex[] = { "M", "F", "U", "", "female" };
    static const char *const spec[] = { "initial", "repeat", "", "second" };
    static const char *const text[] = { "Riverside Maternity Hospital", "Zhao Yan", "+86 102 9690 5402",
                                        "\"St. Aurelia Women's and Children's Hospital, East Campus\"",
                                        "", " padded ", "Łódź Szpital", "\"quoted\"\"inside\"" };
    if (below(400) == 0 && k >= 2) {        /* overlong text */
        size_t n = 250 + below(12);
        if (n >= sz) n = sz - 1;
        memset(o, 'x', n);
        o[n] = 0;
        return;
    }
    switch (k) {
    case 0:
        if (below(300) == 0) { o[0] = 0; return; }
        if (below(300) == 0) { snprintf(o, sz, "S%070d", row); return; }
        snprintf(o, sz, "S-%d", below(4) ? row : (int)below((unsigned)row + 1));   /* some repeated */
        return;
    case 1:
        if (below(300) == 0) { o[0] = 0; return; }
        snprintf(o, sz, "I%d", below(8) ? row : (int)below((unsigned)row + 1));
        return;
    case 2: snprintf(o, sz, "%s", PICK(spec)); return;
    case 3: snprintf(o, sz, "%s", PICK(sex)); return;
    case 4: snprintf(o, sz, "%s", below(3) ? "3250" : PICK(bw)); return;
    case 5: snprintf(o, sz, "%s", below(3) ? "280" : PICK(ga)); return;
    case 6: case 7: snprintf(o, sz, "%s", below(3) ? (k == 6 ? tm[0] : tm[1]) : PICK(tm)); return;
    case 8: snprintf(o, sz, "%s", PICK(feed)); return;
    case 9: case 10: case 11: snprintf(o, sz, "%s", PICK(flag)); return;
    case NOTES:                             /* now and then far longer than the row's texts */
        if (below(3) == 0) {
            size_t n = 200 + below(300);
            if (n >= sz) n = sz - 1;
            for (size_t i = 0; i < n; i++) o[i] = (char)('a' + below(26));
            o[n] = 0;
        } else snprintf(o, sz, "%s", below(2) ? "" : "seen by the midwife");
        return;
    default: snprintf(o, sz, "%s", below(2) ? "Riverside Maternity Hospital" : PICK(text)); return;
    }
}

/* Some cells quoted as a LIMS export may quote them (any column; "" for a quote; blanks
 * around the quotes), and now and then a quoted cell the plain paths must leave to the
 * general reader: a line break or a CR inside, text after the closing quote, a quote
 * inside a plain cell. */
static void requote(char *v, size_t sz)
{
    char q[600];
    size_t k = 0;
    const unsigned r = below(400);
    if (r >= 60) return;
    if (r < 4) {                                 /* broken or multi-line forms */
        static const char *const odd[] = { "\"a\nb\"", "\"a\rb\"", "\"x\"y", "ab\"c" };
        snprintf(v, sz, "%s", odd[r]);
        return;
    }
    if (r % 3 == 0) q[k++] = ' ';
    q[k++] = '"';
    for (const char *p = v; *p && k + 4 < sizeof q; p++) {
        if (*p == '"') q[k++] = '"';
        q[k++] = *p;
    }
    q[k++] = '"';
    if (r % 4 == 1) q[k++] = '\t';
    q[k] = 0;
    snprintf(v, sz, "%s", q);
}

static char *make_manifest(const char *path, int rows, int *order, int ncol)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    const char *eol = below(5) == 0 ? "\r\n" : "\n";
    for (int c = 0; c < ncol; c++) fprintf(f, "%s%s", c ? "," : "", names[order[c]]);
    fputs(eol, f);
    char v[512];
    for (int r = 1; r <= rows; r++) {
        int nf = below(200) == 0 ? ncol + (below(2) ? 1 : -1) : ncol;
        for (int c = 0; c < nf; c++) {
            cell(v, sizeof v, c < ncol ? order[c] : 2, r);
            requote(v, sizeof v);
            fprintf(f, "%s%s", c ? "," : "", v);
        }
        fputs(below(100) == 0 ? "\r\n" : eol, f);
    }
    fclose(f);
    return NULL;
}

static int same_str(const char *a, const char *b) { return (!a && !b) || (a && b && !strcmp(a, b)); }
static int same_num(double a, double b) { return isnan(a) ? isnan(b) : memcmp(&a, &b, sizeof a) == 0; }

static void same_manifest(const ns_manifest_t *x, const ns_manifest_t *y)
{
    assert_int_equal(x->n, y->n);
    assert_int_equal(x->n_rejected, y->n_rejected);
    assert_int_equal(x->n_errors, y->n_errors);
    assert_int_equal(x->ok, y->ok);
    for (int64_t e = 0; e < x->n_errors; e++) assert_string_equal(x->errors[e], y->errors[e]);
    for (int64_t i = 0; i < x->n; i++) {
        const ns_manifest_row_t *a = &x->rows[i], *b = &y->rows[i];
        assert_int_equal(a->line, b->line);
        assert_int_equal(a->sid_col, b->sid_col);
        assert_true(same_str(a->sample_id, b->sample_id) && same_str(a->infant_id, b->infant_id));
        assert_true(same_str(a->specimen, b->specimen) && same_str(a->sex, b->sex));
        assert_true(same_str(a->birth_time, b->birth_time) && same_str(a->collection_time, b->collection_time));
        assert_true(same_str(a->feeding, b->feeding) && same_str(a->hospital, b->hospital));
        assert_true(same_str(a->mother_name, b->mother_name) && same_str(a->contact_phone, b->contact_phone));
        assert_true(same_num(a->birth_weight_g, b->birth_weight_g));
        assert_true(same_num(a->gestational_age_days, b->gestational_age_days));
        assert_true(same_num(a->age_hours, b->age_hours));
        assert_int_equal(a->transfusion, b->transfusion);
        assert_int_equal(a->antibiotics, b->antibiotics);
        assert_int_equal(a->nicu, b->nicu);
    }
}

static void compare(const char *path, int threads, int64_t *rows, int64_t *msgs)
{
    ns_manifest_t x, y;
    omp_set_num_threads(threads);
    ns_manifest_plain_rows = 1;
    ns_ingest_manifest(&x, path);
    ns_manifest_plain_rows = 0;
    ns_ingest_manifest(&y, path);
    ns_manifest_plain_rows = 1;
    omp_set_num_threads(1);
    same_manifest(&x, &y);
    if (threads > 1) {                      /* the parts, put together, as one reader's rows */
        ns_manifest_t z;
        ns_ingest_manifest(&z, path);
        same_manifest(&x, &z);
        ns_manifest_free(&z);
    }
    char sha[NS_SHA256_HEX_LEN + 1];        /* the digest of the bytes as read, on both paths */
    assert_int_equal(ns_sha256_file_hex(path, sha), 0);
    assert_string_equal(x.sha256, sha);
    assert_string_equal(y.sha256, sha);
    *rows += x.n;
    *msgs += x.n_errors;
    ns_manifest_free(&x);
    ns_manifest_free(&y);
}

static void test_plain_as_general(void **st)
{
    (void)st;
    char dir[] = "/tmp/ns-mplain-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *path = malloc(strlen(dir) + 16);
    sprintf(path, "%s/manifest.csv", dir);
    int64_t rows = 0, msgs = 0;
    for (int round = 0; round < 60; round++) {
        int order[NCOL + 1], ncol = NCOL;
        ns_simd = round % 4 != 3;           /* the quoted-line splitter's AVX-512 way, and not */
        for (int c = 0; c < NCOL; c++) order[c] = c;
        if (round % 3) {                    /* another column order, sometimes fewer columns */
            for (int c = NCOL - 1; c > 0; c--) {
                int j = (int)below((unsigned)c + 1), t = order[c];
                order[c] = order[j];
                order[j] = t;
            }
            if (round % 5 == 0) {           /* drop a column that is not an id */
                int c = (int)below(NCOL);
                if (order[c] > 1) { memmove(order + c, order + c + 1, (size_t)(NCOL - c - 1) * sizeof *order); ncol--; }
            }
        }
        if (round % 4 == 1) {               /* a column it does not read, anywhere */
            int c = (int)below((unsigned)ncol + 1);
            memmove(order + c + 1, order + c, (size_t)(ncol - c) * sizeof *order);
            order[c] = NOTES;
            ncol++;
        }
        make_manifest(path, 50 + (int)below(400), order, ncol);
        compare(path, 1, &rows, &msgs);
    }
    ns_simd = 1;
    for (int round = 0; round < 3; round++) {   /* past 4 MB: read in parts, two threads */
        int order[NCOL];
        for (int c = 0; c < NCOL; c++) order[c] = c;
        make_manifest(path, 40000, order, NCOL);
        if (round == 2) {                   /* with a byte-order mark (moved off in place) */
            FILE *f = fopen(path, "rb");
            assert_non_null(f);
            fseek(f, 0, SEEK_END);
            long n = ftell(f);
            rewind(f);
            char *b = malloc((size_t)n + 3);
            memcpy(b, "\xEF\xBB\xBF", 3);
            assert_int_equal(fread(b + 3, 1, (size_t)n, f), (size_t)n);
            fclose(f);
            f = fopen(path, "wb");
            fwrite(b, 1, (size_t)n + 3, f);
            fclose(f);
            free(b);
        }
        compare(path, 2, &rows, &msgs);
    }
    unlink(path);
    rmdir(dir);
    free(path);
    fprintf(stderr, "test_manifest_plain: %lld rows kept and %lld messages, alike on both paths\n", (long long)rows,
            (long long)msgs);
    assert_true(rows > 50000);
    assert_true(msgs > 5000);
}

/* Each spelling of a 0/1 flag read as what it means, on both paths (the comparison above
 * cannot tell: both paths read flags with the same parse_flag). */
static void test_flag_spellings(void **st)
{
    (void)st;
    static const struct { const char *cell; int v; } want[] = {
        { "1", 1 }, { "0", 0 }, { "y", 1 }, { "Y", 1 }, { "n", 0 }, { "N", 0 }, { "yes", 1 }, { "YES", 1 },
        { "No", 0 }, { "true", 1 }, { "FALSE", 0 }, { "", -1 }, { "2", -1 }, { "x", -1 }, { "-", -1 },
        { "10", -1 }, { "maybe", -1 }, { "ye", -1 }, { "t", -1 }, { "f", -1 }, { "T", -1 }, { "F", -1 },
        { "8", -1 }, { "9", -1 }, { "o", -1 }, { "Z", -1 },
    };
    const int n = (int)(sizeof want / sizeof *want);
    int bad = 0;                /* cells that are not a flag: a message each */
    char dir[] = "/tmp/ns-mflag-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/manifest.csv", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("sample_id,infant_id,transfusion,hospital,mother_name,contact_phone\n", f);
    for (int k = 0; k < n; k++) {
        fprintf(f, "S%02d,I%02d,%s,,,\n", k, k, want[k].cell);
        bad += want[k].v < 0 && want[k].cell[0];
    }
    fclose(f);
    for (int plain = 0; plain < 2; plain++) {
        ns_manifest_t m;
        ns_manifest_plain_rows = plain;
        ns_ingest_manifest(&m, path);
        assert_int_equal(m.n, n);
        for (int k = 0; k < n; k++) {        /* rows sorted by sample_id: S00, S01, ... */
            if (m.rows[k].transfusion != want[k].v) fprintf(stderr, "'%s' read as %d\n", want[k].cell, m.rows[k].transfusion);
            assert_int_equal(m.rows[k].transfusion, want[k].v);
        }
        for (int64_t e = 0; e < m.n_errors && m.n_errors != bad; e++) fprintf(stderr, "%s\n", m.errors[e]);
        assert_int_equal(m.n_errors, bad);
        ns_manifest_free(&m);
    }
    ns_manifest_plain_rows = 1;
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_plain_as_general), cmocka_unit_test(test_flag_spellings) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
