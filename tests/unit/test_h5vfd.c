/* test_h5vfd.c — HDF5 through h5vfd.c's driver gives the same file, byte for byte, as
 * HDF5's core driver with its backing store (what the archive was built with before),
 * for superblock versions 0 and 3, with the chunks of named memory written past the page
 * cache (O_DIRECT, where the file system takes it) or not, and HDF5 reads it back through
 * its default driver.  Writes queued for the driver's thread land in the order made, and a
 * read sees every write made before it.  A write that fails (a file-size limit, a full
 * device) is kept from HDF5: every HDF5 call succeeds, H5Fclose included, nothing crashes,
 * and the error is in the state.  pwrite is interposed below to make the driver's thread
 * slow, to refuse direct writes, and to fail a write. */
#define _GNU_SOURCE                     /* O_DIRECT */
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
#include <linux/magic.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <hdf5.h>
#include "../../pipeline/h5vfd.h"

#define NVAL ((hsize_t)3 << 20)          /* 24 MiB of doubles per dataset */

static char dir[64];

/* pwrite, as the test wants it (every pwrite of the process comes here; the knobs are 0
 * but in the tests that set them): the next call sleeps stall_ms first; calls on an
 * O_DIRECT descriptor fail with EINVAL; the eio_at-th call from now fails with EIO.  calls
 * counts every call. */
static atomic_int stall_ms, einval_direct, eio_at, calls;

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    const int ms = atomic_exchange(&stall_ms, 0);
    if (ms > 0) nanosleep(&(struct timespec){ ms / 1000, (long)(ms % 1000) * 1000000L }, NULL);
    const int k = atomic_fetch_add(&calls, 1) + 1;
    if (atomic_load(&einval_direct) && (fcntl(fd, F_GETFL) & O_DIRECT)) {
        errno = EINVAL;
        return -1;
    }
    if (atomic_load(&eio_at) == k) {
        errno = EIO;
        return -1;
    }
    return syscall(SYS_pwrite64, fd, buf, n, off);
}

/* Does the test directory's file system take O_DIRECT (tmpfs, which does since Linux 6.6,
 * the driver leaves alone)? */
static int direct_here(void)
{
    char p[128];
    snprintf(p, sizeof p, "%s/probe", dir);
    struct statfs fs;
    if (statfs(dir, &fs) == 0 && fs.f_type == TMPFS_MAGIC) return 0;
    const int fd = open(p, O_WRONLY | O_CREAT | O_DIRECT, 0600);
    if (fd >= 0) close(fd);
    unlink(p);
    return fd >= 0;
}

/* Build a file like the archive: a contiguous dataset, a chunked one written chunk by
 * chunk (as the archive's matrices are), a group, then close.  vfd: through h5vfd (st);
 * else HDF5's core driver with its backing store.  latest: newest file format (superblock
 * version 3).  Objects of 64 KiB or more are aligned to 4 KiB (as the archive's are), and the
 * chunked dataset's memory is named to the driver as kept until the close (write_hdf5.c's
 * matrices), so that its chunks may go past the page cache.  *ok: every HDF5 call
 * succeeded, H5Fclose included. */
static void build_as(const char *path, int vfd, int latest, ns_h5vfd_state_t *st, int *ok)
{
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE), fapl = H5Pcreate(H5P_FILE_ACCESS);
    assert_true(H5Pset_obj_track_times(fcpl, 0) >= 0);
    if (vfd) assert_int_equal(ns_h5vfd_set(fapl, st), 0);
    else assert_true(H5Pset_fapl_core(fapl, 1 << 20, 1) >= 0);
    if (latest) assert_true(H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST) >= 0);
    assert_true(H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) >= 0);
    assert_true(H5Pset_alignment(fapl, 64 << 10, 4096) >= 0);
    *ok = 1;
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, fcpl, fapl);
    assert_true(f >= 0);
    double *v = malloc(NVAL * sizeof *v);
    for (hsize_t i = 0; i < NVAL; i++) v[i] = (double)i * 0.5 - 7.25;
    hsize_t dims = NVAL, cd = 65536;
    hid_t sp = H5Screate_simple(1, &dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t dcpl0 = H5Pcreate(H5P_DATASET_CREATE), gcpl = H5Pcreate(H5P_GROUP_CREATE);
    assert_true(H5Pset_obj_track_times(dcpl, 0) >= 0 && H5Pset_obj_track_times(dcpl0, 0) >= 0
                && H5Pset_obj_track_times(gcpl, 0) >= 0);
    hid_t d = H5Dcreate2(f, "/contiguous", H5T_IEEE_F64LE, sp, H5P_DEFAULT, dcpl0, H5P_DEFAULT);
    if (d < 0 || H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) *ok = 0;
    if (d >= 0) H5Dclose(d);
    assert_true(H5Pset_chunk(dcpl, 1, &cd) >= 0);
    d = H5Dcreate2(f, "/chunked", H5T_IEEE_F64LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (vfd) {
        st->stable_lo = v;
        st->stable_hi = v + NVAL;
    }
    for (hsize_t c = 0; d >= 0 && c < NVAL / cd; c++) {
        hsize_t off = c * cd;
        if (H5Dwrite_chunk(d, H5P_DEFAULT, 0, &off, cd * sizeof *v, v + off) < 0) *ok = 0;
    }
    if (vfd) st->stable_lo = st->stable_hi = NULL;
    /* read back before the close: the read sees the chunks, written or still queued */
    if (d >= 0) {
        double back[4];
        hsize_t start = NVAL - 1000, count = 4;
        hid_t fs = H5Dget_space(d), ms = H5Screate_simple(1, &count, NULL);
        if (H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &count, NULL) < 0
            || H5Dread(d, H5T_NATIVE_DOUBLE, ms, fs, H5P_DEFAULT, back) < 0)
            *ok = 0;
        for (int i = 0; i < 4 && !(vfd && st->err); i++)    /* after a failure: zeros */
            if (back[i] != (double)(start + (hsize_t)i) * 0.5 - 7.25) *ok = 0;
        H5Sclose(ms);
        H5Sclose(fs);
    }
    if (d < 0 || H5Dclose(d) < 0) *ok = 0;
    hid_t g = H5Gcreate2(f, "/small", H5P_DEFAULT, gcpl, H5P_DEFAULT);
    if (g < 0 || H5Gclose(g) < 0) *ok = 0;
    /* small datasets, as the archive's lists and attributes (HDF5 gathers their bytes in
     * blocks: the driver's features decide where they go) */
    hsize_t small = 13;
    hid_t ssp = H5Screate_simple(1, &small, NULL);
    for (int k = 0; k < 40; k++) {
        char name[32];
        snprintf(name, sizeof name, "/small/d%02d", k);
        d = H5Dcreate2(f, name, H5T_IEEE_F64LE, ssp, H5P_DEFAULT, dcpl0, H5P_DEFAULT);
        if (d < 0 || H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v + k) < 0 || H5Dclose(d) < 0)
            *ok = 0;
    }
    H5Sclose(ssp);
    /* space allocated at the end and never written: the file must still reach it */
    assert_true(H5Pset_alloc_time(dcpl0, H5D_ALLOC_TIME_EARLY) >= 0 && H5Pset_fill_time(dcpl0, H5D_FILL_TIME_NEVER) >= 0);
    hsize_t tail = 100000;
    hid_t tsp = H5Screate_simple(1, &tail, NULL);
    d = H5Dcreate2(f, "/unwritten", H5T_IEEE_F64LE, tsp, H5P_DEFAULT, dcpl0, H5P_DEFAULT);
    if (d < 0 || H5Dclose(d) < 0) *ok = 0;
    H5Sclose(tsp);
    H5Pclose(dcpl);
    H5Pclose(dcpl0);
    H5Pclose(gcpl);
    H5Sclose(sp);
    if (vfd) ns_h5vfd_drain(st);                 /* no queued write reads v after this */
    free(v);
    if (H5Fclose(f) < 0) *ok = 0;
    H5Pclose(fcpl);
    H5Pclose(fapl);
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

/* The file at path holds exactly n bytes, those of want. */
static void assert_file_is(const char *path, const void *want, size_t n)
{
    size_t got;
    char *disk = slurp(path, &got);
    assert_int_equal(got, n);
    assert_memory_equal(disk, want, n);
    free(disk);
}

/* n bytes of a pattern (byte i is i * mul + add), the caller frees */
static unsigned char *patterned(size_t n, unsigned mul, unsigned add)
{
    unsigned char *b = malloc(n);
    for (size_t i = 0; i < n; i++) b[i] = (unsigned char)(i * mul + add);
    return b;
}

static void same_bytes(int latest, int writes)
{
    char a[128], b[128];
    snprintf(a, sizeof a, "%s/vfd.h5", dir);
    snprintf(b, sizeof b, "%s/core.h5", dir);
    ns_h5vfd_state_t st = { .writes = writes };
    int ok = 0;
    FILE *fp = fopen(a, "w");                  /* an older, longer file in its place: truncated */
    assert_non_null(fp);
    for (int i = 0; i < 100000; i++) fputs("stale bytes of an older archive\n", fp);
    fclose(fp);
    build_as(a, 1, latest, &st, &ok);
    assert_true(ok);
    assert_int_equal(st.err, 0);
    /* the chunked dataset's 48 chunks went direct, and nothing else */
    if (direct_here() && writes == NS_H5VFD_DIRECT) assert_int_equal(st.direct_bytes, NVAL * sizeof(double));
    else assert_int_equal(st.direct_bytes, 0);
    build_as(b, 0, latest, NULL, &ok);
    assert_true(ok);
    size_t na, nb;
    char *ba = slurp(a, &na), *bb = slurp(b, &nb);
    assert_true(na > 2 * NVAL * sizeof(double));
    assert_int_equal(na, nb);
    assert_memory_equal(ba, bb, na);
    assert_int_equal((unsigned char)ba[8], latest ? 3 : 0);     /* the superblock version */
    free(ba);
    free(bb);
    /* HDF5 reads it back through its default driver */
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
    same_bytes(0, NS_H5VFD_DIRECT);
}

static void test_same_bytes_latest_format(void **state)
{
    (void)state;
    same_bytes(1, NS_H5VFD_DIRECT);
}

static void test_same_bytes_page_cache(void **state)
{
    (void)state;
    same_bytes(0, NS_H5VFD_PAGE_CACHE);
    same_bytes(1, NS_H5VFD_PAGE_CACHE);
}

static void test_same_bytes_at_once(void **state)
{
    (void)state;
    same_bytes(0, NS_H5VFD_AT_ONCE);
    same_bytes(1, NS_H5VFD_AT_ONCE);
}

/* Through the driver alone (HDF5's H5FD calls): writes from named memory and copied ones,
 * over one another, land in the order made; a read before the close sees them all. */
static void writes_in_order(int writes)
{
    char a[128];
    snprintf(a, sizeof a, "%s/order.h5", dir);
    const size_t MB = 1 << 20;
    unsigned char *mem = malloc(4 * MB + 4096), *img = calloc(1, 3 * MB);
    unsigned char *kept = mem + 4096 - ((uintptr_t)mem % 4096) + 8;   /* not aligned in memory */
    for (size_t i = 0; i < 3 * MB; i++) kept[i] = (unsigned char)(i * 7 + 1);
    ns_h5vfd_state_t st = { .writes = writes, .stable_lo = kept, .stable_hi = kept + 3 * MB };
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    assert_int_equal(ns_h5vfd_set(fapl, &st), 0);
    H5FD_t *f = H5FDopen(a, H5F_ACC_RDWR | H5F_ACC_CREAT | H5F_ACC_TRUNC, fapl, HADDR_UNDEF);
    assert_non_null(f);
    assert_true(H5FDset_eoa(f, H5FD_MEM_DRAW, 3 * MB) >= 0);
    unsigned char patch[300];
    memset(patch, 0xAB, sizeof patch);
    /* [0, 1 MiB) direct; 300 bytes over it, copied; [1, 2 MiB) direct, then a second
     * version of its first 512 KiB (other bytes of the named memory); [2, 3 MiB) copied */
    assert_true(H5FDwrite(f, H5FD_MEM_DRAW, H5P_DEFAULT, 0, MB, kept) >= 0);
    memcpy(img, kept, MB);
    assert_true(H5FDwrite(f, H5FD_MEM_DRAW, H5P_DEFAULT, 4096 + 10, sizeof patch, patch) >= 0);
    memcpy(img + 4096 + 10, patch, sizeof patch);
    memset(patch, 0xCD, sizeof patch);           /* the queue took its own copy */
    assert_true(H5FDwrite(f, H5FD_MEM_DRAW, H5P_DEFAULT, MB, MB, kept + MB) >= 0);
    memcpy(img + MB, kept + MB, MB);
    assert_true(H5FDwrite(f, H5FD_MEM_DRAW, H5P_DEFAULT, MB, MB / 2, kept + 2 * MB) >= 0);
    memcpy(img + MB, kept + 2 * MB, MB / 2);
    unsigned char *loose = malloc(MB);           /* not named: copied */
    memset(loose, 0x5A, MB);
    assert_true(H5FDwrite(f, H5FD_MEM_DRAW, H5P_DEFAULT, 2 * MB, MB, loose) >= 0);
    memcpy(img + 2 * MB, loose, MB);
    memset(loose, 0, MB);
    unsigned char *back = malloc(3 * MB);
    assert_true(H5FDread(f, H5FD_MEM_DRAW, H5P_DEFAULT, 0, 3 * MB, back) >= 0);
    assert_memory_equal(back, img, 3 * MB);
    assert_true(H5FDclose(f) >= 0);
    assert_int_equal(st.err, 0);
    assert_int_equal(st.direct_bytes, direct_here() && writes == NS_H5VFD_DIRECT ? 2 * MB + MB / 2 : 0);
    assert_file_is(a, img, 3 * MB);
    free(back);
    free(loose);
    free(img);
    free(mem);
    H5Pclose(fapl);
    unlink(a);
}

static void test_writes_in_order(void **state)
{
    (void)state;
    writes_in_order(NS_H5VFD_DIRECT);
    writes_in_order(NS_H5VFD_PAGE_CACHE);
    writes_in_order(NS_H5VFD_AT_ONCE);
}

/* ns_h5vfd_drain: once it returns, the named memory may change (be freed): the file holds
 * what it held at the write.  32 MiB named, then overwritten at once after the drain. */
static void test_drain(void **state)
{
    (void)state;
    char a[128];
    snprintf(a, sizeof a, "%s/drain.h5", dir);
    const size_t N = (size_t)32 << 20, CH = (size_t)512 << 10;
    unsigned char *kept = malloc(N), *want = malloc(N);
    for (size_t i = 0; i < N; i++) kept[i] = (unsigned char)(i % 251);
    memcpy(want, kept, N);
    ns_h5vfd_state_t st = { .stable_lo = kept, .stable_hi = kept + N };
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    assert_int_equal(ns_h5vfd_set(fapl, &st), 0);
    H5FD_t *f = H5FDopen(a, H5F_ACC_RDWR | H5F_ACC_CREAT | H5F_ACC_TRUNC, fapl, HADDR_UNDEF);
    assert_non_null(f);
    assert_true(H5FDset_eoa(f, H5FD_MEM_DRAW, N) >= 0);
    for (size_t o = 0; o < N; o += CH) assert_true(H5FDwrite(f, H5FD_MEM_DRAW, H5P_DEFAULT, o, CH, kept + o) >= 0);
    st.stable_lo = st.stable_hi = NULL;
    ns_h5vfd_drain(&st);
    memset(kept, 0xEE, N);                       /* as if freed and reused */
    assert_true(H5FDclose(f) >= 0);
    assert_int_equal(st.err, 0);
    assert_null(st.files);                       /* the close took the file off the list */
    assert_file_is(a, want, N);
    free(want);
    free(kept);
    H5Pclose(fapl);
    unlink(a);
}

/* A driver file through H5FD calls, 4 MiB of eoa, named memory kept (st) */
static H5FD_t *open_raw(const char *path, ns_h5vfd_state_t *st, hid_t *fapl)
{
    *fapl = H5Pcreate(H5P_FILE_ACCESS);
    assert_int_equal(ns_h5vfd_set(*fapl, st), 0);
    H5FD_t *f = H5FDopen(path, H5F_ACC_RDWR | H5F_ACC_CREAT | H5F_ACC_TRUNC, *fapl, HADDR_UNDEF);
    assert_non_null(f);
    assert_true(H5FDset_eoa(f, H5FD_MEM_DRAW, (haddr_t)4 << 20) >= 0);
    return f;
}

/* The thread slowed at its first write, so that the notes wait in the queue together: only
 * notes that follow one another in the file are written as one.  Named chunks at 0, 2 MiB
 * and 1 MiB (in that order), a copied write over the first, then the read. */
static void test_runs_only_of_neighbours(void **state)
{
    (void)state;
    char a[128];
    snprintf(a, sizeof a, "%s/runs.h5", dir);
    const size_t MB = 1 << 20;
    unsigned char *kept = patterned(3 * MB, 13, 5), *img = calloc(1, 3 * MB), *back = malloc(3 * MB);
    ns_h5vfd_state_t st = { .stable_lo = kept, .stable_hi = kept + 3 * MB };
    hid_t fapl;
    H5FD_t *f = open_raw(a, &st, &fapl);
    atomic_store(&stall_ms, 300);
    const size_t at[3] = { 0, 2 * MB, MB };
    for (int k = 0; k < 3; k++) {
        assert_true(H5FDwrite(f, H5FD_MEM_DRAW, H5P_DEFAULT, at[k], MB, kept + (size_t)k * MB) >= 0);
        memcpy(img + at[k], kept + (size_t)k * MB, MB);
    }
    unsigned char patch[5000];
    memset(patch, 0x3C, sizeof patch);
    assert_true(H5FDwrite(f, H5FD_MEM_DRAW, H5P_DEFAULT, 100, sizeof patch, patch) >= 0);
    memcpy(img + 100, patch, sizeof patch);
    assert_true(H5FDread(f, H5FD_MEM_DRAW, H5P_DEFAULT, 0, 3 * MB, back) >= 0);
    assert_memory_equal(back, img, 3 * MB);
    assert_true(H5FDclose(f) >= 0);
    assert_int_equal(st.err, 0);
    if (direct_here()) assert_int_equal(st.direct_bytes, 3 * MB);
    assert_file_is(a, img, 3 * MB);
    free(back);
    free(img);
    free(kept);
    H5Pclose(fapl);
    unlink(a);
}

/* A file system that refuses the direct writes (EINVAL): the same bytes through the page
 * cache, no error. */
static void test_direct_refused(void **state)
{
    (void)state;
    char a[128];
    snprintf(a, sizeof a, "%s/refused.h5", dir);
    const size_t MB = 1 << 20;
    unsigned char *kept = patterned(2 * MB, 29, 3);
    ns_h5vfd_state_t st = { .stable_lo = kept, .stable_hi = kept + 2 * MB };
    hid_t fapl;
    H5FD_t *f = open_raw(a, &st, &fapl);
    atomic_store(&einval_direct, 1);
    assert_true(H5FDwrite(f, H5FD_MEM_DRAW, H5P_DEFAULT, 0, MB, kept) >= 0);
    assert_true(H5FDwrite(f, H5FD_MEM_DRAW, H5P_DEFAULT, MB, MB, kept + MB) >= 0);
    assert_true(H5FDclose(f) >= 0);
    atomic_store(&einval_direct, 0);
    assert_int_equal(st.err, 0);
    assert_int_equal(st.direct_bytes, 0);
    assert_file_is(a, kept, 2 * MB);
    free(kept);
    H5Pclose(fapl);
    unlink(a);
}

/* A write that fails on the thread (EIO on the second pwrite): the error is the state's,
 * and no later write is made, copied or named, before or after the caller hears of it. */
static void test_nothing_after_a_failure(void **state)
{
    (void)state;
    char a[128];
    snprintf(a, sizeof a, "%s/eio.h5", dir);
    const size_t MB = 1 << 20;
    unsigned char *kept = malloc(4 * MB);
    memset(kept, 0x11, 4 * MB);
    ns_h5vfd_state_t st = { .stable_lo = kept, .stable_hi = kept + 4 * MB };
    hid_t fapl;
    H5FD_t *f = open_raw(a, &st, &fapl);
    atomic_store(&stall_ms, 200);                /* all four queued before the first is made */
    atomic_store(&calls, 0);
    atomic_store(&eio_at, 2);
    for (int k = 0; k < 4; k++)
        assert_true(H5FDwrite(f, H5FD_MEM_DRAW, H5P_DEFAULT, (haddr_t)k * MB + 10, MB - 20, kept + (size_t)k * MB) >= 0);
    assert_true(H5FDwrite(f, H5FD_MEM_DRAW, H5P_DEFAULT, 0, 100, kept) >= 0);   /* after */
    assert_true(H5FDclose(f) >= 0);
    atomic_store(&eio_at, 0);
    assert_int_equal(st.err, EIO);
    assert_int_equal(atomic_load(&calls), 2);
    free(kept);
    H5Pclose(fapl);
    unlink(a);
}

/* Truncation waits for the queue: writes queued past the new end do not land after it. */
static void test_truncate_after_the_queue(void **state)
{
    (void)state;
    char a[128];
    snprintf(a, sizeof a, "%s/trunc.h5", dir);
    const size_t MB = 1 << 20;
    unsigned char *kept = malloc(2 * MB);
    memset(kept, 0x42, 2 * MB);
    ns_h5vfd_state_t st = { .stable_lo = kept, .stable_hi = kept + 2 * MB };
    hid_t fapl;
    H5FD_t *f = open_raw(a, &st, &fapl);
    atomic_store(&stall_ms, 200);
    assert_true(H5FDwrite(f, H5FD_MEM_DRAW, H5P_DEFAULT, 0, MB, kept) >= 0);
    assert_true(H5FDwrite(f, H5FD_MEM_DRAW, H5P_DEFAULT, MB, MB, kept + MB) >= 0);
    assert_true(H5FDset_eoa(f, H5FD_MEM_DRAW, MB) >= 0);
    assert_true(H5FDtruncate(f, H5P_DEFAULT, 0) >= 0);
    struct stat sb;
    assert_int_equal(stat(a, &sb), 0);
    assert_int_equal(sb.st_size, (off_t)MB);
    assert_true(H5FDclose(f) >= 0);
    assert_int_equal(st.err, 0);
    assert_int_equal(stat(a, &sb), 0);
    assert_int_equal(sb.st_size, (off_t)MB);
    free(kept);
    H5Pclose(fapl);
    unlink(a);
}

/* In a child (the limit must not touch the test runner): the file may not grow past
 * 4 MiB.  Exit status bits: 1 the error was kept as EFBIG, 2 every HDF5 call succeeded. */
static void limit_kept_from_hdf5(int writes)
{
    char a[128];
    snprintf(a, sizeof a, "%s/limited.h5", dir);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = { 4 << 20, 4 << 20 };
        setrlimit(RLIMIT_FSIZE, &rl);
        H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
        ns_h5vfd_state_t st = { .writes = writes };
        int ok = 0;
        build_as(a, 1, 0, &st, &ok);
        _exit((st.err == EFBIG ? 1 : 0) | (ok ? 2 : 0));
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));                    /* no crash, at exit either */
    assert_int_equal(WEXITSTATUS(status), 1 | 2);
    unlink(a);
}

static void test_limit_kept_from_hdf5(void **state)
{
    (void)state;
    limit_kept_from_hdf5(NS_H5VFD_DIRECT);
    limit_kept_from_hdf5(NS_H5VFD_PAGE_CACHE);
    limit_kept_from_hdf5(NS_H5VFD_AT_ONCE);
}

/* A device that is always full: the first write fails with ENOSPC, HDF5 never knows. */
static void test_full_device(void **state)
{
    (void)state;
    if (access("/dev/full", W_OK) != 0) skip();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
        ns_h5vfd_state_t st = { 0 };
        int ok = 0;
        build_as("/dev/full", 1, 0, &st, &ok);
        _exit((st.err == ENOSPC ? 1 : 0) | (ok ? 2 : 0));
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1 | 2);
}

/* HDF5 knows a file already open through the driver (by device and inode, whatever the
 * name): creating it again over the open one is refused, not a second writer. */
static void test_open_twice(void **state)
{
    (void)state;
    char a[128], b[160];
    snprintf(a, sizeof a, "%s/twice.h5", dir);
    snprintf(b, sizeof b, "%s/../%s/twice.h5", dir, strrchr(dir, '/') + 1);   /* same file, another name */
    ns_h5vfd_state_t st = { 0 };
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    assert_int_equal(ns_h5vfd_set(fapl, &st), 0);
    hid_t f = H5Fcreate(a, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    assert_true(f >= 0);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t g = H5Fcreate(b, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    assert_true(g < 0);
    hid_t h = H5Fopen(b, H5F_ACC_RDWR, fapl);            /* opening it again is the same file */
    assert_true(h >= 0);
    assert_true(H5Fclose(h) >= 0);
    assert_true(H5Fclose(f) >= 0);
    H5Pclose(fapl);
    assert_int_equal(st.err, 0);
    unlink(a);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/ns_test_h5vfd_%d", (int)getpid());
    mkdir(dir, 0700);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_bytes),
        cmocka_unit_test(test_same_bytes_latest_format),
        cmocka_unit_test(test_same_bytes_page_cache),
        cmocka_unit_test(test_same_bytes_at_once),
        cmocka_unit_test(test_writes_in_order),
        cmocka_unit_test(test_drain),
        cmocka_unit_test(test_runs_only_of_neighbours),
        cmocka_unit_test(test_direct_refused),
        cmocka_unit_test(test_nothing_after_a_failure),
        cmocka_unit_test(test_truncate_after_the_queue),
        cmocka_unit_test(test_limit_kept_from_hdf5),
        cmocka_unit_test(test_full_device),
        cmocka_unit_test(test_open_twice),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    rmdir(dir);
    return r;
}
