/* h5vfd.c — see h5vfd.h.  Modelled on HDF5's sec2 driver (H5FDsec2.c): the end of
 * allocated space (eoa) is HDF5's, the end of file (eof) is the file's; at the close the
 * file is cut or grown to eoa. */
#define _GNU_SOURCE                     /* sync_file_range */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "h5vfd.h"

#define MAXADDR (((haddr_t)1 << (8 * sizeof(off_t) - 1)) - 1)
#define IO_MAX ((size_t)1 << 30)        /* bytes per read(2)/write(2) call */
#define WB_STEP ((haddr_t)32 << 20)     /* the writeback is started every 32 MiB written */

/* The writeback helper.  The caller fsyncs the file after the close; the kernel's work of
 * writing it out (on ext4: allocating the blocks, building the requests) would then run
 * on the caller's thread, after the build: 0.3 s for the 1M night's 659 MB, with the other
 * core idle.  Instead, every WB_STEP written, a thread of the driver starts the writeback
 * of what is written so far (sync_file_range, SYNC_FILE_RANGE_WRITE: start, do not wait),
 * while HDF5 goes on; the fsync then mostly waits for what is already under way.  Its
 * errors are left to that fsync, which meets them again. */
typedef struct {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int on, stop;
    haddr_t upto, done;         /* written so far (as last told), and started */
} wb_t;

typedef struct {
    H5FD_t pub;                 /* HDF5's part, first */
    int fd;
    dev_t dev;                  /* the file, for HDF5's "is it open already?" */
    ino_t ino;
    haddr_t eoa, eof;
    haddr_t told;               /* eof when the helper was last told */
    ns_h5vfd_state_t *st;
    wb_t wb;
} file_t;

typedef struct {
    ns_h5vfd_state_t *st;
} fa_t;

static hid_t driver_id = -1;

static void failed(file_t *f, int e)
{
    if (!f->st->err) f->st->err = e ? e : EIO;
}

static void *wb_main(void *arg)
{
    file_t *f = arg;
    wb_t *w = &f->wb;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->stop && w->upto <= w->done) pthread_cond_wait(&w->cv, &w->mu);
        if (w->stop) break;
        const haddr_t from = w->done, to = w->upto;
        w->done = to;
        pthread_mutex_unlock(&w->mu);
        (void)sync_file_range(f->fd, (off_t)from, (off_t)(to - from), SYNC_FILE_RANGE_WRITE);
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static void wb_start(file_t *f)
{
    pthread_mutex_init(&f->wb.mu, NULL);
    pthread_cond_init(&f->wb.cv, NULL);
    f->wb.on = pthread_create(&f->wb.th, NULL, wb_main, f) == 0;   /* else: no helper */
}

static void wb_tell(file_t *f)
{
    if (!f->wb.on || f->eof < f->told + WB_STEP) return;
    f->told = f->eof;
    pthread_mutex_lock(&f->wb.mu);
    f->wb.upto = f->eof;
    pthread_cond_signal(&f->wb.cv);
    pthread_mutex_unlock(&f->wb.mu);
}

static void wb_stop(file_t *f)
{
    if (f->wb.on) {
        pthread_mutex_lock(&f->wb.mu);
        f->wb.stop = 1;
        pthread_cond_signal(&f->wb.cv);
        pthread_mutex_unlock(&f->wb.mu);
        pthread_join(f->wb.th, NULL);
    }
    pthread_cond_destroy(&f->wb.cv);
    pthread_mutex_destroy(&f->wb.mu);
}

static void *fa_copy(const void *fa)
{
    fa_t *c = malloc(sizeof *c);
    if (c) *c = *(const fa_t *)fa;
    return c;
}

static herr_t fa_free(void *fa)
{
    free(fa);
    return 0;
}

static H5FD_t *vfd_open(const char *name, unsigned flags, hid_t fapl, haddr_t maxaddr)
{
    if (!name || !*name || maxaddr == 0 || maxaddr > MAXADDR) return NULL;
    const fa_t *fa = H5Pget_driver_info(fapl);
    if (!fa || !fa->st) return NULL;
    int o = O_CLOEXEC | ((flags & H5F_ACC_RDWR) ? O_RDWR : O_RDONLY);
    if (flags & H5F_ACC_TRUNC) o |= O_TRUNC;
    if (flags & H5F_ACC_CREAT) o |= O_CREAT;
    if (flags & H5F_ACC_EXCL) o |= O_EXCL;
    const int fd = open(name, o, 0644);
    if (fd < 0) return NULL;
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        close(fd);
        return NULL;
    }
    file_t *f = calloc(1, sizeof *f);
    if (!f) {
        close(fd);
        return NULL;
    }
    f->fd = fd;
    f->dev = sb.st_dev;
    f->ino = sb.st_ino;
    f->eof = (haddr_t)sb.st_size;
    f->told = f->eof;
    f->st = fa->st;
    wb_start(f);
    return &f->pub;
}

static herr_t vfd_close(H5FD_t *file)
{
    file_t *f = (file_t *)file;
    wb_stop(f);
    if (close(f->fd) != 0) failed(f, errno);
    free(f);
    return 0;
}

/* the same file (device and inode) is the same file, whatever the name or descriptor */
static int vfd_cmp(const H5FD_t *a, const H5FD_t *b)
{
    const file_t *x = (const file_t *)a, *y = (const file_t *)b;
    if (x->dev != y->dev) return x->dev < y->dev ? -1 : 1;
    return x->ino < y->ino ? -1 : x->ino > y->ino;
}

/* the core driver's allocation features (not its file-image ones), so that a file is laid
 * out as the core driver lays it out */
static herr_t vfd_query(const H5FD_t *file, unsigned long *flags)
{
    (void)file;
    *flags = H5FD_FEAT_AGGREGATE_METADATA | H5FD_FEAT_ACCUMULATE_METADATA | H5FD_FEAT_DATA_SIEVE
             | H5FD_FEAT_AGGREGATE_SMALLDATA;
    return 0;
}

static haddr_t vfd_get_eoa(const H5FD_t *file, H5FD_mem_t type)
{
    (void)type;
    return ((const file_t *)file)->eoa;
}

static herr_t vfd_set_eoa(H5FD_t *file, H5FD_mem_t type, haddr_t addr)
{
    (void)type;
    if (addr > MAXADDR) return -1;
    ((file_t *)file)->eoa = addr;
    return 0;
}

static haddr_t vfd_get_eof(const H5FD_t *file, H5FD_mem_t type)
{
    (void)type;
    return ((const file_t *)file)->eof;
}

static herr_t vfd_get_handle(H5FD_t *file, hid_t fapl, void **handle)
{
    (void)fapl;
    *handle = &((file_t *)file)->fd;
    return 0;
}

/* Past the end of the file, or after a failure: zeros (as sec2 reads past its end). */
static herr_t vfd_read(H5FD_t *file, H5FD_mem_t type, hid_t dxpl, haddr_t addr, size_t size, void *buf)
{
    (void)type;
    (void)dxpl;
    file_t *f = (file_t *)file;
    unsigned char *p = buf;
    while (size > 0 && !f->st->err) {
        const ssize_t k = pread(f->fd, p, size > IO_MAX ? IO_MAX : size, (off_t)addr);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) failed(f, errno);
        if (k <= 0) break;
        p += k;
        addr += (haddr_t)k;
        size -= (size_t)k;
    }
    memset(p, 0, size);
    return 0;
}

static herr_t vfd_write(H5FD_t *file, H5FD_mem_t type, hid_t dxpl, haddr_t addr, size_t size, const void *buf)
{
    (void)type;
    (void)dxpl;
    file_t *f = (file_t *)file;
    const unsigned char *p = buf;
    while (size > 0 && !f->st->err) {
        const ssize_t k = pwrite(f->fd, p, size > IO_MAX ? IO_MAX : size, (off_t)addr);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            failed(f, k < 0 ? errno : EIO);
            break;
        }
        p += k;
        addr += (haddr_t)k;
        size -= (size_t)k;
        if (addr > f->eof) f->eof = addr;
    }
    wb_tell(f);
    return 0;
}

/* the file ends where HDF5's allocated space ends */
static herr_t vfd_truncate(H5FD_t *file, hid_t dxpl, hbool_t closing)
{
    (void)dxpl;
    (void)closing;
    file_t *f = (file_t *)file;
    if (f->eoa == f->eof || f->st->err) return 0;
    if (ftruncate(f->fd, (off_t)f->eoa) != 0) failed(f, errno);
    else f->eof = f->eoa;
    return 0;
}

static const H5FD_class_t vfd_class = {
    .name = "neoscreen_pwrite",
    .maxaddr = MAXADDR,
    .fc_degree = H5F_CLOSE_WEAK,
    .fapl_size = sizeof(fa_t),
    .fapl_copy = fa_copy,
    .fapl_free = fa_free,
    .open = vfd_open,
    .close = vfd_close,
    .cmp = vfd_cmp,
    .query = vfd_query,
    .get_eoa = vfd_get_eoa,
    .set_eoa = vfd_set_eoa,
    .get_eof = vfd_get_eof,
    .get_handle = vfd_get_handle,
    .read = vfd_read,
    .write = vfd_write,
    .truncate = vfd_truncate,
    .fl_map = H5FD_FLMAP_DICHOTOMY,
};

int ns_h5vfd_set(hid_t fapl, ns_h5vfd_state_t *st)
{
    if (driver_id < 0 || H5Iis_valid(driver_id) <= 0) driver_id = H5FDregister(&vfd_class);
    if (driver_id < 0) return -1;
    const fa_t fa = { st };
    return H5Pset_driver(fapl, driver_id, &fa) < 0 ? -1 : 0;
}
