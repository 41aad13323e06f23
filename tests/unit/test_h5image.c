/* test_h5image.c — HDF5's core driver with its memory mapped onto the backing file
 * (h5image.c) writes the same bytes as with its own anonymous memory, through several
 * growths of the mapping (moves included) and the truncation at close; and when the file
 * cannot be reserved (a file-size limit, as a full disk), the memory goes on anonymously,
 * the reason is kept, and HDF5's write at close fails as it always did, with no crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <hdf5.h>
#include "../../pipeline/h5image.h"

#define INCREMENT ((size_t)1 << 20)
#define NVAL ((hsize_t)3 << 20)          /* 24 MiB of doubles: 24+ growths of the image */

static char dir[64];

/* Build a file like the archive: a few small objects, a large contiguous dataset and a
 * chunked one written chunk by chunk, then close.  map: use h5image.  Returns H5Fclose's
 * result (and, through im, what h5image saw). */
static int build(const char *path, int map, ns_h5image_t *im, int *wrote)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    close(fd);
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE), fapl = H5Pcreate(H5P_FILE_ACCESS);
    assert_true(H5Pset_obj_track_times(fcpl, 0) >= 0);
    assert_true(H5Pset_fapl_core(fapl, INCREMENT, 1) >= 0);
    assert_true(H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) >= 0);
    if (map) assert_int_equal(ns_h5image_init(im, fapl, path), 0);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, fcpl, fapl);
    assert_true(f >= 0);
    double *v = malloc(NVAL * sizeof *v);
    for (hsize_t i = 0; i < NVAL; i++) v[i] = (double)i * 0.5 - 7.25;
    *wrote = 1;
    hsize_t dims = NVAL, cd = 65536;
    hid_t sp = H5Screate_simple(1, &dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t d = H5Dcreate2(f, "/contiguous", H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (d < 0 || H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) *wrote = 0;
    if (d >= 0) H5Dclose(d);
    assert_true(H5Pset_chunk(dcpl, 1, &cd) >= 0);
    d = H5Dcreate2(f, "/chunked", H5T_IEEE_F64LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    for (hsize_t c = 0; d >= 0 && c < NVAL / cd; c++) {
        hsize_t off = c * cd;
        if (H5Dwrite_chunk(d, H5P_DEFAULT, 0, &off, cd * sizeof *v, v + off) < 0) *wrote = 0;
    }
    if (d >= 0) H5Dclose(d);
    hid_t g = H5Gcreate2(f, "/small", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g >= 0) H5Gclose(g);
    H5Pclose(dcpl);
    H5Sclose(sp);
    free(v);
    int r = H5Fclose(f) < 0 ? -1 : 0;
    H5Pclose(fcpl);
    H5Pclose(fapl);
    if (map) ns_h5image_done(im);
    return r;
}

static char *slurp(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    *n = (size_t)ftell(fp);
    rewind(fp);
    char *b = malloc(*n + 1);
    assert_int_equal(fread(b, 1, *n, fp), *n);
    fclose(fp);
    return b;
}

static void test_same_bytes(void **state)
{
    (void)state;
    char a[128], b[128];
    snprintf(a, sizeof a, "%s/mapped.h5", dir);
    snprintf(b, sizeof b, "%s/anon.h5", dir);
    ns_h5image_t im;
    int wrote = 0;
    assert_int_equal(build(a, 1, &im, &wrote), 0);
    assert_true(wrote);
    assert_int_equal(im.err, 0);
    assert_true(im.mapped_max >= 2 * NVAL * sizeof(double));     /* really mapped */
    ns_h5image_t unused;
    assert_int_equal(build(b, 0, &unused, &wrote), 0);
    size_t na, nb;
    char *ba = slurp(a, &na), *bb = slurp(b, &nb);
    assert_true(na > 2 * NVAL * sizeof(double));
    assert_int_equal(na, nb);                          /* truncated to the end of the data */
    assert_memory_equal(ba, bb, na);
    free(ba);
    free(bb);
    /* and HDF5 reads it back through its default driver */
    hid_t f = H5Fopen(a, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    double *v = malloc(NVAL * sizeof *v);
    hid_t d = H5Dopen2(f, "/chunked", H5P_DEFAULT);
    assert_true(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
    for (hsize_t i = 0; i < NVAL; i += 4099) assert_true(v[i] == (double)i * 0.5 - 7.25);
    assert_true(v[NVAL - 1] == (double)(NVAL - 1) * 0.5 - 7.25);
    H5Dclose(d);
    H5Fclose(f);
    free(v);
    unlink(a);
    unlink(b);
}

/* In a child (the limit must not touch the test runner): the file may not grow past
 * 4 MiB.  Exit status bits: 1 the reservation error was kept as EFBIG, 2 every write
 * succeeded in memory, 4 H5Fclose failed. */
static void test_limit_falls_back(void **state)
{
    (void)state;
    char a[128];
    snprintf(a, sizeof a, "%s/limited.h5", dir);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = { 4 << 20, 4 << 20 };
        setrlimit(RLIMIT_FSIZE, &rl);
        H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
        ns_h5image_t im;
        int wrote = 0;
        int r = build(a, 1, &im, &wrote);
        _exit((im.err == EFBIG ? 1 : 0) | (wrote ? 2 : 0) | (r != 0 ? 4 : 0));
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));                        /* no crash */
    assert_int_equal(WEXITSTATUS(st), 1 | 2 | 4);
    unlink(a);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/ns_test_h5image_%d", (int)getpid());
    mkdir(dir, 0700);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_bytes),
        cmocka_unit_test(test_limit_falls_back),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    rmdir(dir);
    return r;
}
