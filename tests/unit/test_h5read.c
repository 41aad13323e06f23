/* test_h5read.c — the parallel direct-chunk reader gives the same bytes as H5Dread, for every
 * layout write_hdf5.c uses and the ones it falls back on. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../../pipeline/h5read.h"

enum { ROWS = 10007, COLS = 7, CHUNK = 512 };

/* A [ROWS][COLS] dataset of type ft (doubles or bytes), chunked with the given filters
 * (shuffle, deflate level; -1 = not chunked). */
static void make_ds(hid_t f, const char *name, int is_double, int chunked, int shuffle, int level)
{
    hsize_t dims[2] = { ROWS, COLS }, ch[2] = { CHUNK, COLS };
    hid_t sp = H5Screate_simple(2, dims, NULL), p = H5Pcreate(H5P_DATASET_CREATE);
    if (chunked) {
        H5Pset_chunk(p, 2, ch);
        if (shuffle) H5Pset_shuffle(p);
        if (level >= 0) H5Pset_deflate(p, (unsigned)level);
    }
    hid_t d = H5Dcreate2(f, name, is_double ? H5T_IEEE_F64LE : H5T_STD_U8LE, sp, H5P_DEFAULT, p, H5P_DEFAULT);
    assert_true(d >= 0);
    if (is_double) {
        double *v = malloc(sizeof(double) * ROWS * COLS);
        for (size_t i = 0; i < (size_t)ROWS * COLS; i++) v[i] = (double)(i % 1000) * 0.001 + (double)(i / 7);
        assert_true(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
        free(v);
    } else {
        uint8_t *v = malloc((size_t)ROWS * COLS);
        for (size_t i = 0; i < (size_t)ROWS * COLS; i++) v[i] = (uint8_t)((i * 31) % 5);
        assert_true(H5Dwrite(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
        free(v);
    }
    H5Dclose(d);
    H5Pclose(p);
    H5Sclose(sp);
}

static void test_parallel_read_equals_h5dread(void **st)
{
    (void)st;
    char path[] = "/tmp/test_h5read_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    struct { const char *name; int dbl, chunked, shuffle, level; } v[] = {
        { "/d_shuf_defl", 1, 1, 1, 4 }, { "/d_defl", 1, 1, 0, 1 }, { "/d_shuf", 1, 1, 1, -1 },
        { "/d_plain_chunked", 1, 1, 0, -1 }, { "/d_contig", 1, 0, 0, -1 }, { "/b_shuf_defl", 0, 1, 1, 4 },
        { "/b_contig", 0, 0, 0, -1 },
    };
    for (size_t j = 0; j < sizeof v / sizeof v[0]; j++) make_ds(f, v[j].name, v[j].dbl, v[j].chunked, v[j].shuffle, v[j].level);
    H5Fclose(f);
    ns_h5src_t s = { "test", "archive", path, 0 };
    assert_int_equal(ns_h5_open(&s, &f), 0);
    const int64_t ranges[][2] = { { 0, ROWS }, { 0, 1 }, { ROWS - 1, 1 }, { 511, 2 }, { 100, 4000 },
                                  { CHUNK * 19, ROWS - CHUNK * 19 }, { 7, 0 } };
    for (size_t j = 0; j < sizeof v / sizeof v[0]; j++) {
        hid_t d = H5Dopen2(f, v[j].name, H5P_DEFAULT);
        size_t esz = v[j].dbl ? 8 : 1;
        for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++) {
            int64_t r0 = ranges[r][0], k = ranges[r][1];
            size_t bytes = (size_t)k * COLS * esz + 1;
            unsigned char *a = calloc(bytes, 1), *b = calloc(bytes, 1);
            assert_int_equal(ns_h5_read_rows(&s, d, v[j].name, r0, k, COLS,
                                             v[j].dbl ? H5T_NATIVE_DOUBLE : H5T_NATIVE_UINT8, a), 0);
            assert_int_equal(ns_h5_read_rows_par(&s, d, v[j].name, r0, k, COLS, esz, b), 0);
            assert_memory_equal(a, b, bytes);
            free(a);
            free(b);
        }
        H5Dclose(d);
    }
    H5Fclose(f);
    unlink(path);
}

/* A table (compound rows: a fixed string, int32, double, int8) read through the parallel
 * chunk path (chunked + shuffle + deflate) gives the same fields as through HDF5's own
 * conversion (the same rows stored contiguous, which takes the plain path). */
typedef struct { char id[9]; int32_t line; double w; int8_t flag; } trow_t;

static void make_table(hid_t f, const char *name, int chunked)
{
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, 9);
    H5Tset_strpad(st, H5T_STR_NULLTERM);
    hid_t ft = H5Tcreate(H5T_COMPOUND, 9 + 4 + 8 + 1);
    H5Tinsert(ft, "id", 0, st);
    H5Tinsert(ft, "line", 9, H5T_STD_I32LE);
    H5Tinsert(ft, "w", 13, H5T_IEEE_F64LE);
    H5Tinsert(ft, "flag", 21, H5T_STD_I8LE);
    hid_t mt = H5Tcreate(H5T_COMPOUND, sizeof(trow_t));
    H5Tinsert(mt, "id", offsetof(trow_t, id), st);
    H5Tinsert(mt, "line", offsetof(trow_t, line), H5T_NATIVE_INT32);
    H5Tinsert(mt, "w", offsetof(trow_t, w), H5T_NATIVE_DOUBLE);
    H5Tinsert(mt, "flag", offsetof(trow_t, flag), H5T_NATIVE_INT8);
    hsize_t n = ROWS, ch = CHUNK;
    hid_t sp = H5Screate_simple(1, &n, NULL), p = H5Pcreate(H5P_DATASET_CREATE);
    if (chunked) { H5Pset_chunk(p, 1, &ch); H5Pset_shuffle(p); H5Pset_deflate(p, 1); }
    hid_t d = H5Dcreate2(f, name, ft, sp, H5P_DEFAULT, p, H5P_DEFAULT);
    trow_t *rows = calloc(ROWS, sizeof *rows);
    for (int i = 0; i < ROWS; i++) {
        if (i % 7) snprintf(rows[i].id, sizeof rows[i].id, "S%07d", i);   /* some empty */
        rows[i].line = i % 11 ? i : -1;
        rows[i].w = i * 0.25;
        rows[i].flag = (int8_t)(i % 3 - 1);
    }
    assert_true(H5Dwrite(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) >= 0);
    free(rows);
    H5Dclose(d); H5Pclose(p); H5Sclose(sp); H5Tclose(mt); H5Tclose(ft); H5Tclose(st);
}

static void test_parallel_table_equals_h5dread(void **st)
{
    (void)st;
    char path[] = "/tmp/test_h5read_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    make_table(f, "/t_chunked", 1);
    make_table(f, "/t_contig", 0);
    H5Fclose(f);
    ns_h5src_t s = { "test", "archive", path, 0 };
    assert_int_equal(ns_h5_open(&s, &f), 0);
    const int64_t ranges[][2] = { { 0, ROWS }, { 511, 3 }, { 1000, 4321 }, { ROWS - 5, 5 } };
    for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++) {
        char *buf[2];
        size_t rs[2];
        for (int t = 0; t < 2; t++) {
            ns_h5field_t fl[] = { { "flag", 0, H5T_NATIVE_INT8, 0, 0 }, { "id", 1, -1, 0, 0 },
                                  { "w", 0, H5T_NATIVE_DOUBLE, 0, 0 }, { "line", 0, H5T_NATIVE_INT32, 0, 0 } };
            hid_t d = H5Dopen2(f, t ? "/t_contig" : "/t_chunked", H5P_DEFAULT);
            buf[t] = ns_h5_read_table(&s, d, "t", ranges[r][0], ranges[r][1], fl, 4, &rs[t]);
            assert_non_null(buf[t]);
            H5Dclose(d);
        }
        assert_int_equal(rs[0], rs[1]);
        for (int64_t i = 0; i < ranges[r][1]; i++) {
            const char *a = buf[0] + (size_t)i * rs[0], *b = buf[1] + (size_t)i * rs[1];
            /* field by field (memory offsets of flag, id, w, line: 0, 8, 24, 32); a
             * string's bytes after its NUL are not part of it */
            assert_memory_equal(a, b, 1);                          /* flag at offset 0 */
            assert_string_equal(a + 8, b + 8);                     /* id: after 8-byte alignment */
            assert_memory_equal(a + 24, b + 24, 8);                /* w */
            assert_memory_equal(a + 32, b + 32, 4);                /* line */
        }
        free(buf[0]);
        free(buf[1]);
    }
    H5Fclose(f);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parallel_read_equals_h5dread),
        cmocka_unit_test(test_parallel_table_equals_h5dread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
