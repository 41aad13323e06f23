/* test_h5read_fd.c — the parallel chunk readers of h5read.c give the same bytes whether HDF5
 * fetches the chunks (src.fd 0) or unfiltered ones are read with pread at the addresses of
 * HDF5's chunk index (src.fd > 0, as archive.c sets it; compressed chunks come through
 * HDF5 either way), for column-chunked matrices with and without
 * deflate (+ shuffle), over windows that start and end inside chunks, with columns skipped;
 * and row-chunked 1-D datasets and tables the same. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>
#include <hdf5.h>
#include "../../pipeline/h5read.h"

#define NROWS 1050
#define NCOL 5
#define CROWS 100

static char path[256];

static double val(int64_t i, int c) { return (double)i * 10.0 + c + 0.25 * (i % 7); }
static uint8_t code(int64_t i, int c) { return (uint8_t)((i * 3 + c) % 5 == 0 ? (i + c) % 4 : 0); }

/* A [NROWS][ncol] matrix chunked CROWS x 1, written column by column, with filters. */
static void make_matrix(hid_t f, const char *name, hid_t type, int shuffle, int deflate)
{
    hsize_t dims[2] = { NROWS, NCOL }, cd[2] = { CROWS, 1 };
    hid_t sp = H5Screate_simple(2, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    assert_true(H5Pset_chunk(dcpl, 2, cd) >= 0);
    if (shuffle) assert_true(H5Pset_shuffle(dcpl) >= 0);
    if (deflate) assert_true(H5Pset_deflate(dcpl, 1) >= 0);
    hid_t d = H5Dcreate2(f, name, type, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    assert_true(d >= 0);
    const int is_f64 = H5Tequal(type, H5T_IEEE_F64LE) > 0;
    void *buf = malloc((size_t)NROWS * NCOL * 8);
    for (int64_t i = 0; i < NROWS; i++)
        for (int c = 0; c < NCOL; c++) {
            if (is_f64) ((double *)buf)[i * NCOL + c] = val(i, c);
            else ((uint8_t *)buf)[i * NCOL + c] = code(i, c);
        }
    assert_true(H5Dwrite(d, is_f64 ? H5T_NATIVE_DOUBLE : H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    free(buf);
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(sp);
}

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof path, "/tmp/ns_test_h5read_%d.h5", (int)getpid());
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(f >= 0);
    make_matrix(f, "/plain", H5T_IEEE_F64LE, 0, 0);
    make_matrix(f, "/deflated", H5T_IEEE_F64LE, 0, 1);
    make_matrix(f, "/codes", H5T_STD_U8LE, 1, 1);
    /* a 1-D dataset of codes chunked by rows, deflated */
    hsize_t n = NROWS, cr = CROWS;
    hid_t sp = H5Screate_simple(1, &n, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 1, &cr);
    H5Pset_deflate(dcpl, 1);
    hid_t d = H5Dcreate2(f, "/state", H5T_STD_U8LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    uint8_t *st = malloc(NROWS);
    for (int64_t i = 0; i < NROWS; i++) st[i] = code(i, 3);
    assert_true(H5Dwrite(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, st) >= 0);
    free(st);
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(sp);
    H5Fclose(f);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    return 0;
}

/* Read window [r0, r0 + k) of `name` with columns cols (some -1) both ways; check values. */
static void check_cols(hid_t f, int fd, const char *name, size_t esz, int64_t r0, int64_t k, const int *cols, int nj)
{
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    assert_true(d >= 0);
    ns_h5src_t via_hdf5 = { "test", "archive", path, 0 }, via_fd = { "test", "archive", path, fd };
    unsigned char *a = malloc((size_t)nj * (size_t)k * esz), *b = malloc((size_t)nj * (size_t)k * esz);
    memset(a, 0xAB, (size_t)nj * (size_t)k * esz);
    memset(b, 0xAB, (size_t)nj * (size_t)k * esz);
    assert_int_equal(ns_h5_read_cols(&via_hdf5, d, name, r0, k, NCOL, esz, cols, nj, a), 0);
    assert_int_equal(ns_h5_read_cols(&via_fd, d, name, r0, k, NCOL, esz, cols, nj, b), 0);
    assert_memory_equal(a, b, (size_t)nj * (size_t)k * esz);
    for (int j = 0; j < nj; j++)
        for (int64_t i = 0; i < k; i++) {
            const unsigned char *at = b + ((size_t)j * (size_t)k + (size_t)i) * esz;
            if (cols[j] < 0) {                  /* skipped: left as it was */
                for (size_t e = 0; e < esz; e++) assert_int_equal(at[e], 0xAB);
            } else if (esz == 8) {
                double v;
                memcpy(&v, at, 8);
                assert_true(v == val(r0 + i, cols[j]));
            } else {
                assert_int_equal(*at, code(r0 + i, cols[j]));
            }
        }
    free(a);
    free(b);
    H5Dclose(d);
}

static void test_cols_both_ways(void **state)
{
    (void)state;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    int fd = open(path, O_RDONLY);
    assert_true(fd > 0);
    const int cols[] = { 4, -1, 0, 2 };
    const int64_t win[][2] = { { 0, NROWS }, { 0, 100 }, { 37, 400 }, { 100, 300 }, { 999, 51 }, { 1049, 1 } };
    for (size_t w = 0; w < sizeof win / sizeof win[0]; w++) {
        check_cols(f, fd, "/plain", 8, win[w][0], win[w][1], cols, 4);
        check_cols(f, fd, "/deflated", 8, win[w][0], win[w][1], cols, 4);
        check_cols(f, fd, "/codes", 1, win[w][0], win[w][1], cols, 4);
    }
    close(fd);
    H5Fclose(f);
}

static void test_rows_both_ways(void **state)
{
    (void)state;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    int fd = open(path, O_RDONLY);
    assert_true(f >= 0 && fd > 0);
    hid_t d = H5Dopen2(f, "/state", H5P_DEFAULT);
    ns_h5src_t via_hdf5 = { "test", "archive", path, 0 }, via_fd = { "test", "archive", path, fd };
    uint8_t a[NROWS], b[NROWS];
    assert_int_equal(ns_h5_read_rows_par(&via_hdf5, d, "/state", 150, 777, 1, 1, a), 0);
    assert_int_equal(ns_h5_read_rows_par(&via_fd, d, "/state", 150, 777, 1, 1, b), 0);
    assert_memory_equal(a, b, 777);
    for (int64_t i = 0; i < 777; i++) assert_int_equal(b[i], code(150 + i, 3));
    H5Dclose(d);
    close(fd);
    H5Fclose(f);
}

/* A descriptor of another, shorter file: the pread path (unfiltered chunks) says the file
 * is short, never returns other bytes; compressed chunks come through HDF5 itself (one
 * descent of the chunk index each), so they are still read right. */
static void test_short_file(void **state)
{
    (void)state;
    char other[300];
    snprintf(other, sizeof other, "%s.short", path);
    FILE *fp = fopen(other, "wb");
    assert_non_null(fp);
    fputs("too short", fp);
    fclose(fp);
    int fd = open(other, O_RDONLY);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, "/plain", H5P_DEFAULT), dz = H5Dopen2(f, "/deflated", H5P_DEFAULT);
    ns_h5src_t via_fd = { "test", "archive", path, fd };
    double *buf = malloc(NROWS * sizeof *buf);
    const int cols[] = { 1 };
    fflush(stderr);
    assert_int_equal(ns_h5_read_cols(&via_fd, d, "/plain", 0, NROWS, NCOL, 8, cols, 1, buf), -1);
    assert_int_equal(ns_h5_read_cols(&via_fd, dz, "/deflated", 0, NROWS, NCOL, 8, cols, 1, buf), 0);
    for (int64_t i = 0; i < NROWS; i++) assert_true(buf[i] == val(i, 1));
    free(buf);
    H5Dclose(d);
    H5Dclose(dz);
    H5Fclose(f);
    close(fd);
    unlink(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cols_both_ways),
        cmocka_unit_test(test_rows_both_ways),
        cmocka_unit_test(test_short_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
