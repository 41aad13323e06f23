/* test_h5image.c — HDF5's core driver with its memory mapped onto the output file
 * (h5image.c), without a backing store, gives the same file as the driver with its own
 * anonymous memory and backing store, through several growths of the mapping (moves
 * included) and the cut to the end of the data; for superblock versions 0 and 3.  When
 * the file cannot be reserved (a file-size limit, as a full disk), the memory goes on
 * anonymously, the reason is kept, and the write in ns_h5image_finish fails with it, with
 * no crash.  ns_h5image_eof reads the end-of-file address and refuses what is not a
 * superblock. */
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
#include <sys/mman.h>
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
 * chunked one written chunk by chunk, then close.  map: use h5image (no backing store,
 * then ns_h5image_finish); else HDF5's backing store.  latest: newest file format
 * (superblock version 3).  Returns 0 if the file was closed and written, else -1 (and,
 * through im, what h5image saw; *fin_errno: errno of a failed ns_h5image_finish). */
static int build_as(const char *path, int map, int latest, ns_h5image_t *im, int *wrote, int *fin_errno)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    close(fd);
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE), fapl = H5Pcreate(H5P_FILE_ACCESS);
    assert_true(H5Pset_obj_track_times(fcpl, 0) >= 0);
    assert_true(H5Pset_fapl_core(fapl, INCREMENT, map ? 0 : 1) >= 0);
    if (latest) assert_true(H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST) >= 0);
    assert_true(H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) >= 0);
    if (map) assert_int_equal(ns_h5image_init(im, fapl, path), 0);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, fcpl, fapl);
    assert_true(f >= 0);
    double *v = malloc(NVAL * sizeof *v);
    for (hsize_t i = 0; i < NVAL; i++) v[i] = (double)i * 0.5 - 7.25;
    *wrote = 1;
    hsize_t dims = NVAL, cd = 65536;
    /* no modification times anywhere (as in the archive): two builds a second apart must
     * give the same bytes */
    hid_t sp = H5Screate_simple(1, &dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t dcpl0 = H5Pcreate(H5P_DATASET_CREATE), gcpl = H5Pcreate(H5P_GROUP_CREATE);
    assert_true(H5Pset_obj_track_times(dcpl, 0) >= 0 && H5Pset_obj_track_times(dcpl0, 0) >= 0
                && H5Pset_obj_track_times(gcpl, 0) >= 0);
    hid_t d = H5Dcreate2(f, "/contiguous", H5T_IEEE_F64LE, sp, H5P_DEFAULT, dcpl0, H5P_DEFAULT);
    if (d < 0 || H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) *wrote = 0;
    if (d >= 0) H5Dclose(d);
    assert_true(H5Pset_chunk(dcpl, 1, &cd) >= 0);
    d = H5Dcreate2(f, "/chunked", H5T_IEEE_F64LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    for (hsize_t c = 0; d >= 0 && c < NVAL / cd; c++) {
        hsize_t off = c * cd;
        if (H5Dwrite_chunk(d, H5P_DEFAULT, 0, &off, cd * sizeof *v, v + off) < 0) *wrote = 0;
    }
    if (d >= 0) H5Dclose(d);
    hid_t g = H5Gcreate2(f, "/small", H5P_DEFAULT, gcpl, H5P_DEFAULT);
    if (g >= 0) H5Gclose(g);
    H5Pclose(dcpl);
    H5Pclose(dcpl0);
    H5Pclose(gcpl);
    H5Sclose(sp);
    free(v);
    int r = H5Fclose(f) < 0 ? -1 : 0;
    H5Pclose(fcpl);
    H5Pclose(fapl);
    if (fin_errno) *fin_errno = 0;
    if (map && r == 0 && ns_h5image_finish(im) != 0) {
        if (fin_errno) *fin_errno = errno;
        r = -1;
    }
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

static void same_bytes(int latest)
{
    char a[128], b[128];
    snprintf(a, sizeof a, "%s/mapped.h5", dir);
    snprintf(b, sizeof b, "%s/anon.h5", dir);
    ns_h5image_t im;
    int wrote = 0, fe = -1;
    assert_int_equal(build_as(a, 1, latest, &im, &wrote, &fe), 0);
    assert_true(wrote);
    assert_int_equal(fe, 0);
    assert_int_equal(im.err, 0);
    assert_true(im.mapped_max >= 2 * NVAL * sizeof(double));     /* really mapped */
    ns_h5image_t unused;
    assert_int_equal(build_as(b, 0, latest, &unused, &wrote, NULL), 0);
    size_t na, nb;
    char *ba = slurp(a, &na), *bb = slurp(b, &nb);
    assert_true(na > 2 * NVAL * sizeof(double));
    assert_int_equal(na, nb);                          /* cut to the end of the data */
    assert_memory_equal(ba, bb, na);
    assert_int_equal((unsigned char)ba[8], latest ? 3 : 0);     /* the superblock version */
    assert_int_equal(ns_h5image_eof(ba, na), na);
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

static void test_same_bytes(void **state)
{
    (void)state;
    same_bytes(0);
}

static void test_same_bytes_latest_format(void **state)
{
    (void)state;
    same_bytes(1);
}

/* Memory that went on anonymously (h5image.c, image_realloc) is written into the file by
 * ns_h5image_finish, cut to the end of the data; and nothing is written for memory HDF5
 * has not released. */
static void test_anonymous_written(void **state)
{
    (void)state;
    char a[128], b[128];
    snprintf(a, sizeof a, "%s/ref.h5", dir);
    snprintf(b, sizeof b, "%s/fromanon.h5", dir);
    ns_h5image_t unused;
    int wrote = 0;
    assert_int_equal(build_as(a, 0, 0, &unused, &wrote, NULL), 0);
    size_t n;
    char *ref = slurp(a, &n);
    const size_t room = n + 3 * 4096 + 17;                 /* memory larger than the data */
    ns_h5image_t im;
    memset(&im, 0, sizeof im);
    im.base = mmap(NULL, room, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(im.base != MAP_FAILED);
    im.len = room;
    memcpy(im.base, ref, n);
    memset((char *)im.base + n, 0x5a, room - n);           /* must not reach the file */
    im.fd = open(b, O_RDWR | O_CREAT | O_TRUNC, 0644);
    assert_true(im.fd >= 0);
    assert_int_equal(ns_h5image_finish(&im), -1);           /* HDF5 has not released it */
    assert_int_equal(errno, EINVAL);
    im.released = 1;
    assert_int_equal(ns_h5image_finish(&im), 0);
    ns_h5image_done(&im);
    size_t nb;
    char *got = slurp(b, &nb);
    assert_int_equal(nb, n);
    assert_memory_equal(got, ref, n);
    free(got);
    free(ref);
    unlink(a);
    unlink(b);
}

/* The end-of-file address: read where each superblock version keeps it, refused when the
 * signature, the version, the size of offsets or the address itself is wrong. */
static void test_eof_address(void **state)
{
    (void)state;
    unsigned char sb[256];
    memset(sb, 0, sizeof sb);
    memcpy(sb, "\x89HDF\r\n\x1a\n", 8);
    /* version 0, 8-byte offsets: base at 24, end of file at 40 */
    sb[8] = 0; sb[13] = 8;
    sb[40] = 200;
    assert_int_equal(ns_h5image_eof(sb, sizeof sb), 200);
    assert_int_equal(ns_h5image_eof(sb, 199), 0);            /* past the image */
    sb[24] = 1;
    assert_int_equal(ns_h5image_eof(sb, sizeof sb), 0);      /* a base address (user block) */
    sb[24] = 0;
    /* version 1: four more bytes before the base address */
    sb[8] = 1; sb[40] = 0; sb[44] = 150;
    assert_int_equal(ns_h5image_eof(sb, sizeof sb), 150);
    /* version 2, 4-byte offsets: base at 12, end of file at 20 */
    memset(sb + 8, 0, sizeof sb - 8);
    sb[8] = 2; sb[9] = 4; sb[20] = 100;
    assert_int_equal(ns_h5image_eof(sb, sizeof sb), 100);
    sb[9] = 3;
    assert_int_equal(ns_h5image_eof(sb, sizeof sb), 0);      /* no such size of offsets */
    sb[9] = 4; sb[8] = 4;
    assert_int_equal(ns_h5image_eof(sb, sizeof sb), 0);      /* no such version */
    sb[8] = 2; sb[1] = 'X';
    assert_int_equal(ns_h5image_eof(sb, sizeof sb), 0);      /* no signature */
    assert_int_equal(ns_h5image_eof(NULL, 0), 0);
}

/* In a child (the limit must not touch the test runner): the file may not grow past
 * 4 MiB.  Exit status bits: 1 the reservation error was kept as EFBIG, 2 every write
 * succeeded in memory, 4 the file was not written: ns_h5image_finish failed with EFBIG. */
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
        int wrote = 0, fe = 0;
        int r = build_as(a, 1, 0, &im, &wrote, &fe);
        _exit((im.err == EFBIG ? 1 : 0) | (wrote ? 2 : 0) | (r != 0 && fe == EFBIG ? 4 : 0));
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
        cmocka_unit_test(test_same_bytes_latest_format),
        cmocka_unit_test(test_eof_address),
        cmocka_unit_test(test_anonymous_written),
        cmocka_unit_test(test_limit_falls_back),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    rmdir(dir);
    return r;
}
