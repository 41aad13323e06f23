/* test_plate_rows.c — the plain-row path of plate ingest against the general CSV reader.
 *
 * Plates are made at random from the shipped panel and plate map: most rows plain, the
 * rest in every form the plain path must hand back (quotes, a lone CR, blanks around
 * cells, special cells, numbers it does not take itself, rows with a problem: a wrong
 * field count, well, type, plate id, sample id or value).  Each file is read twice, with
 * the plain path and with every row through the general reader (ns_ingest_plain_rows = 0),
 * and the two batches must be the same: plates, errors, counts, wells, IDs, types, the
 * bits of every value and its censoring.  The test also checks that the plain path
 * was taken for most rows (or it would compare the general reader with itself). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <omp.h>
#include "../../pipeline/batch.h"
#include "../../pipeline/ingest.h"
#include "../../pipeline/panel.h"
#include "../../pipeline/qc_config.h"
#include "../../pipeline/sha256.h"
#include "../../pipeline/util.h"

static uint64_t rng = 0x706c61696e726f77ULL;   /* "plainrow" */
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static unsigned below(unsigned n) { return (unsigned)(rnd() % n); }

/* a buffer that grows */
typedef struct { char *s; size_t n, m; } buf_t;
static void put(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(buf_t *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int k = vsnprintf(b->s + b->n, b->m - b->n, fmt, ap);
        va_end(ap);
        if ((size_t)k < b->m - b->n) { b->n += (size_t)k; return; }
        b->m = b->m * 2 + (size_t)k + 64;
        b->s = realloc(b->s, b->m);
    }
}

/* a cell: mostly the plain decimals an instrument prints, sometimes another form the
 * plate rules accept (ok = 1), or anything at all */
static void cell(buf_t *b, int blank_well, int ok)
{
    static const char *const good[] = {
        "ND", "nd", "NaN", "nan", "", "<0.05", "< 0.05", "<5", " 12.5 ", "\t3.2", "12.5\t",
        "+4", "00012.5000", ".5", "5.", "1e3", "1.5E-2", "123456.5", "1234.12345678",
        "1.123456789012345", "999999.9", "999999.99999999", "\"12.5\"", "-0", "-0.0", "0.000",
        "0000000000000000001", "1.", "+.5", "00000000.00000001", "99999.99999999", "0.45000000000000000000",
    };
    static const char *const bad[] = {
        "1.2.3", "abc", "1e400", "0x1A", "\"1,5\"", "\"\"", "-", "+", ".", "..5", "5..", "1 2",
        "4\r2", "\xe6\xa0\xb7", "1000001", "-1000001", "123456789.5", "-.5", "-5.", "9007199254740993", "1e-400",
        "12345678.12345678", "1234567.123456789",
    };
    unsigned r = below(100);
    if (r < 80) {
        double x = exp((double)below(1400000) / 100000.0 - 7.0);
        int neg = blank_well && below(3) == 0;
        put(b, "%s%.*g", neg ? "-" : "", 1 + (int)below(7), x);
    } else if (r < 83 && (blank_well || !ok)) {
        put(b, "-%u.%u", below(100), below(1000));      /* negative: a blank well only */
    } else if (ok || r < 90) {
        put(b, "%s", good[below(sizeof good / sizeof *good)]);
    } else {
        put(b, "%s", bad[below(sizeof bad / sizeof *bad)]);
    }
}

/* One random plate file at path; returns how many data rows it has. */
static int make_plate(const char *path, const ns_panel_t *p, const int8_t *map, int variant)
{
    buf_t b = { malloc(4096), 0, 4096 };
    const int rows = p->input.plate_rows, cols = p->input.plate_cols, na = p->n_analytes;
    const char *eol = below(4) == 0 ? "\r\n" : "\n";
    put(&b, "plate_id,well,sample_id,sample_type");
    for (int a = 0; a < na; a++) put(&b, ",%s", p->analytes[a].name);
    put(&b, "%s", eol);
    /* most plates clean, the rest with a mutation on some rows */
    const int noisy = variant % 4 == 0;
    const int n = 1 + (int)below((unsigned)(rows * cols));
    int written = 0;
    for (int i = 0; i < n; i++) {
        int wi = i;
        int t = map ? map[wi] : NS_TYPE_PATIENT;
        const int mut = noisy && below(12) == 0 ? (int)below(12) : -1;
        if (mut == 0 && below(2)) { put(&b, "%s", eol); continue; }          /* blank line */
        if (mut == 1) put(&b, "P-OTHER,");
        else if (mut == 2) put(&b, " P-%04d ,", variant);
        else put(&b, "P-%04d,", variant);
        if (mut == 3) put(&b, "%c%02d,", 'A' + wi / cols, 13);
        else if (mut == 4) put(&b, "A01,");
        else if (mut == 5) put(&b, "%c%d,", 'a' + wi / cols, wi % cols + 1);
        else put(&b, "%c%02d,", 'A' + wi / cols, wi % cols + 1);
        if (mut == 6) put(&b, ",");
        else if (mut == 7) put(&b, "S%0*d,", 70, i);
        else if (mut == 8) put(&b, "\"S-%d,x\",", i);
        else put(&b, "S%04d-%03d\xe6\xa0\xb7,", variant, i);
        if (mut == 9) put(&b, "qc_mid");
        else if (mut == 10) put(&b, "%s", t == NS_TYPE_PATIENT ? "blank" : "patient");
        else if (below(8) == 0) {                               /* any case */
            for (const char *q = ns_type_name(t); *q; q++) put(&b, "%c", *q >= 'a' && *q <= 'z' ? *q - 32 : *q);
        } else put(&b, "%s", ns_type_name(t));
        if (t == NS_TYPE_PATIENT && mut == 10) t = NS_TYPE_BLANK;
        for (int a = 0; a < na; a++) {
            put(&b, ",");
            if (noisy ? below(8) == 0 : below(40) == 0) cell(&b, t == NS_TYPE_BLANK, !noisy);
            else put(&b, "%.4g", exp((double)below(1400000) / 100000.0 - 7.0));
        }
        if (mut == 11) put(&b, ",extra");
        if (mut == 0) b.n -= 2;                             /* a truncated row */
        put(&b, "%s", i + 1 == n && below(10) == 0 ? "" : eol);
        written++;
    }
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(b.s, 1, b.n, fp), b.n);
    assert_int_equal(fclose(fp), 0);
    free(b.s);
    return written;
}

static uint64_t bits(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static void same_batch(const ns_batch_t *x, const ns_batch_t *y, int na)
{
    assert_int_equal(x->n_plates, y->n_plates);
    for (int k = 0; k < x->n_plates; k++) {
        const ns_plate_t *a = &x->plates[k], *b = &y->plates[k];
        assert_int_equal(a->status, b->status);
        assert_int_equal(a->n_wells, b->n_wells);
        assert_int_equal(a->first_row, b->first_row);
        assert_string_equal(a->id, b->id);
        assert_int_equal(a->id_line, b->id_line);
        assert_int_equal(a->id_col, b->id_col);
        if (a->error || b->error) {
            assert_non_null(a->error);
            assert_non_null(b->error);
            assert_string_equal(a->error, b->error);
        }
    }
    assert_int_equal(x->n, y->n);
    assert_int_equal(x->wells_read, y->wells_read);
    for (int64_t i = 0; i < x->n; i++) {
        assert_int_equal(x->plate[i], y->plate[i]);
        assert_memory_equal(x->well[i], y->well[i], 4);
        assert_string_equal(x->sample_id[i], y->sample_id[i]);
        assert_int_equal(x->type[i], y->type[i]);
        for (int a = 0; a < na; a++) {
            size_t j = (size_t)a * (size_t)x->n + (size_t)i;
            if (bits(x->conc[j]) != bits(y->conc[j]))
                fail_msg("row %lld analyte %d: %.17g vs %.17g", (long long)i, a, x->conc[j], y->conc[j]);
            assert_int_equal(x->cell[j], y->cell[j]);
        }
    }
}

static void test_plain_rows_as_general(void **st)
{
    (void)st;
    ns_panel_errs_t e = {0};
    ns_panel_t *p = ns_panel_load(NS_SRCDIR "/configs/panel-default.yaml", &e);
    assert_non_null(p);
    ns_qc_config_t *qc = ns_qc_load(NS_SRCDIR "/configs/qc.yaml", p, &e);
    assert_non_null(qc);
    char dir[] = "/tmp/ns-plainrows-XXXXXX";
    assert_non_null(mkdtemp(dir));
    enum { FILES = 400, PER = 40 };
    int64_t rows = 0, plain = 0, quarantined = 0;
    for (int g = 0; g < FILES / PER; g++) {
        char *paths[PER];
        for (int k = 0; k < PER; k++) {
            paths[k] = ns_asprintf("%s/P%03d.csv", dir, g * PER + k);
            make_plate(paths[k], p, qc->well_type, g * PER + k);
        }
        ns_batch_t x, y;
        memset(&x, 0, sizeof x);
        memset(&y, 0, sizeof y);
        x.panel = y.panel = p;
        x.plate_map = y.plate_map = qc->well_type;
        ns_ingest_plain_rows = 1;
        ns_ingest_plates(&x, paths, PER);
        ns_ingest_plain_rows = 0;
        ns_ingest_plates(&y, paths, PER);
        ns_ingest_plain_rows = 1;
        same_batch(&x, &y, p->n_analytes);
        /* and the plain path without the AVX-512 splitter and cell parser (util.h) */
        ns_batch_t z;
        memset(&z, 0, sizeof z);
        z.panel = p;
        z.plate_map = qc->well_type;
        ns_simd = 0;
        ns_ingest_plates(&z, paths, PER);
        ns_simd = 1;
        same_batch(&x, &z, p->n_analytes);
        for (int k = 0; k < PER; k++)         /* the AVX-512 splitter takes a few lines more (a CR LF */
            assert_true(z.plates[k].n_plain <= x.plates[k].n_plain);   /* across 16 bytes) */
        ns_batch_free(&z);
        for (int k = 0; k < PER; k++) {
            rows += x.plates[k].n_wells;
            plain += x.plates[k].n_plain;
            quarantined += x.plates[k].status != NS_PLATE_OK;
            if (getenv("SHOW") && x.plates[k].error) fprintf(stderr, "%s\n", x.plates[k].error);
            assert_int_equal(y.plates[k].n_plain, 0);
            unlink(paths[k]);
            free(paths[k]);
        }
        ns_batch_free(&x);
        ns_batch_free(&y);
    }
    rmdir(dir);
    fprintf(stderr, "test_plate_rows: %d files, %lld rows (%lld by the plain path), %lld plates quarantined\n",
            FILES, (long long)rows, (long long)plain, (long long)quarantined);
    assert_true(plain * 2 > rows);          /* the plain path was really taken */
    assert_true(quarantined >= FILES / 10); /* and the general reader had problems to find */
    ns_qc_free(qc);
    ns_panel_free(p);
    ns_panel_errs_free(&e);
}

/* Where each plate's rows land in the batch (ns_ingest_plates lays the batch out for full
 * plates and closes the gaps afterwards): plates of 1 to all wells, some quarantined for a
 * bad cell, some repeating an earlier plate's id (quarantined after they were read, their
 * rows dropped); each cell says which plate, row and analyte it is, so every value can be
 * checked in its place.  At 1 and 2 threads, from inside a parallel region (a team smaller
 * than asked for), and with every plate full and kept (the case in which nothing moves).
 * Some files are missing (quarantined, cannot be read); every file read has the SHA-256
 * of its bytes, whether its group of plates was hashed two or sixteen at a time. */
static void layout_night(const ns_panel_t *p, const char *dir, int nplates, int full, int threads, int nested)
{
    const int na = p->n_analytes, cap = p->input.plate_rows * p->input.plate_cols;
    char **paths = calloc((size_t)nplates, sizeof *paths);
    int *rows = calloc((size_t)nplates, sizeof *rows), *kept = calloc((size_t)nplates, sizeof *kept);
    int *ids = calloc((size_t)nplates, sizeof *ids), *good = calloc((size_t)nplates, sizeof *good);
    char (*sha)[NS_SHA256_HEX_LEN + 1] = calloc((size_t)nplates, sizeof *sha);
    for (int k = 0; k < nplates; k++) {
        paths[k] = ns_asprintf("%s/L%03d.csv", dir, k);
        rows[k] = full ? cap : 1 + (int)below((unsigned)cap);
        int bad = !full && below(5) == 0;                   /* a cell that is not a number */
        int dup = !full && k > 2 && below(6) == 0;          /* the id of plate k - 2 */
        int missing = !full && below(13) == 0;              /* no such file */
        buf_t b = { 0 };
        put(&b, "plate_id,well,sample_id,sample_type");
        for (int a = 0; a < na; a++) put(&b, ",%s", p->analytes[a].name);
        put(&b, "\n");
        int id = dup ? k - 2 : k;
        for (int r = 0; r < rows[k]; r++) {
            put(&b, "L%03d,%c%02d,S%03d-%02d,patient", id, 'A' + r / p->input.plate_cols,
                r % p->input.plate_cols + 1, k, r);
            for (int a = 0; a < na; a++) {
                if (bad && r == rows[k] / 2 && a == na / 2) put(&b, ",x%d", r);
                else put(&b, ",%d.%02d", k * 100 + r, a);
            }
            put(&b, "\n");
        }
        if (!missing) {
            FILE *f = fopen(paths[k], "w");
            assert_non_null(f);
            fwrite(b.s, 1, b.n, f);
            fclose(f);
            ns_sha256_hex(b.s, b.n, sha[k]);
        }
        free(b.s);
        ids[k] = id;
        good[k] = !bad && !missing;
        kept[k] = good[k];                  /* unless an earlier good plate has its id */
        for (int j = 0; j < k; j++) kept[k] &= !(good[j] && ids[j] == id);
    }
    ns_batch_t x;
    memset(&x, 0, sizeof x);
    x.panel = p;
    omp_set_num_threads(threads);
    if (nested) {           /* inside a parallel region: its teams get one thread, not `threads` */
        const int levels = omp_get_max_active_levels();
        omp_set_max_active_levels(1);
        #pragma omp parallel num_threads(2)
        #pragma omp single
        ns_ingest_plates(&x, paths, nplates);
        omp_set_max_active_levels(levels);
    } else
        ns_ingest_plates(&x, paths, nplates);
    omp_set_num_threads(1);
    int64_t i = 0;
    for (int k = 0; k < nplates; k++) {
        assert_string_equal(x.plates[k].sha256, sha[k]);    /* "" for a file not read */
        if (!sha[k][0]) assert_non_null(strstr(x.plates[k].error, "cannot read"));
        assert_int_equal(x.plates[k].status == NS_PLATE_OK, kept[k]);
        if (!kept[k]) { assert_int_equal(x.plates[k].first_row, -1); continue; }
        assert_int_equal(x.plates[k].first_row, i);
        for (int r = 0; r < rows[k]; r++, i++) {
            char sid[32], well[16];
            snprintf(sid, sizeof sid, "S%03d-%02d", k, r);
            snprintf(well, sizeof well, "%c%02d", 'A' + r / p->input.plate_cols, r % p->input.plate_cols + 1);
            assert_int_equal(x.plate[i], k);
            assert_string_equal(x.sample_id[i], sid);
            assert_memory_equal(x.well[i], well, 4);
            assert_int_equal(x.mrow[i], -1);
            assert_int_equal(x.type[i], NS_TYPE_PATIENT);
            for (int a = 0; a < na; a++) {
                char v[32];
                snprintf(v, sizeof v, "%d.%02d", k * 100 + r, a);
                assert_true(x.conc[(size_t)a * (size_t)x.n + (size_t)i] == strtod(v, NULL));
                assert_int_equal(x.cell[(size_t)a * (size_t)x.n + (size_t)i], NS_CELL_VALUE);
            }
        }
    }
    assert_int_equal(x.n, i);
    ns_batch_free(&x);
    for (int k = 0; k < nplates; k++) {
        unlink(paths[k]);
        free(paths[k]);
    }
    free(paths);
    free(rows);
    free(kept);
    free(ids);
    free(good);
    free(sha);
}

static void test_batch_layout(void **st)
{
    (void)st;
    ns_panel_errs_t e = {0};
    ns_panel_t *p = ns_panel_load(NS_SRCDIR "/configs/panel-default.yaml", &e);
    assert_non_null(p);
    char dir[] = "/tmp/ns-layout-XXXXXX";
    assert_non_null(mkdtemp(dir));
    for (int rep = 0; rep < 6; rep++) layout_night(p, dir, 30, 0, 1 + rep % 2, 0);
    layout_night(p, dir, 30, 0, 2, 1);
    layout_night(p, dir, 5, 1, 1, 0);
    layout_night(p, dir, 5, 1, 2, 0);
    layout_night(p, dir, 0, 0, 2, 0);
    layout_night(p, dir, 70, 0, 1, 0);     /* enough plates for groups of 16 */
    layout_night(p, dir, 150, 0, 2, 0);
    layout_night(p, dir, 150, 1, 2, 0);
    rmdir(dir);
    ns_panel_free(p);
    ns_panel_errs_free(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_rows_as_general),
        cmocka_unit_test(test_batch_layout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
