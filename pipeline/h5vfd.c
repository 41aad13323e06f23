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
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
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

/* The writing thread.  The archive's matrices of doubles (587 MB of the 1M night's 660 MB)
 * reach the driver as whole chunks of 512 KiB, at addresses HDF5 aligns (write_hdf5.c sets
 * H5Pset_alignment), straight from the batch's memory, which stays as it is until the file
 * is closed: the caller says so by naming that memory (st->stable_lo..stable_hi).  Through
 * the page cache, each such byte is copied by the kernel into a page it allocates and
 * charges, and written back later: CPU the night does not have to spare.
 *
 * So every write of a file open for writing is queued, in order, for a thread of the
 * driver, and HDF5 goes on at once.  A write from the named memory is queued as it is; any
 * other is copied first (the copies queued are held to QUEUE_COPIED bytes).  Where the file
 * system takes O_DIRECT, the thread copies a named write of at least DIO_MIN bytes, whose
 * address and size are multiples of DIO_ALIGN, with its neighbours in the file, DIO_BUF
 * bytes at a time, into an aligned buffer, and writes that through a second descriptor
 * opened with O_DIRECT (the device reads the buffer, not the kernel).  Every other write
 * goes through the page cache.  One thread makes every write: a page-cache write made beside
 * a direct one would wait for the file's lock until the device is done.  Reads, truncation
 * and the close wait for the queue to drain, so the file reads as if every write had been
 * made in its turn.  A file system that refuses O_DIRECT at the open, and tmpfs, have every
 * write made through the page cache by the thread; one that refuses a direct
 * write (EINVAL), that write and the later ones.  A write of more than QUEUE_COPIED bytes
 * from memory not named is made by the caller's thread once the queue is drained, with no
 * copy.  st->writes chooses the page cache alone, or no thread. */
#define DIO_MIN ((size_t)64 << 10)
#define DIO_ALIGN ((size_t)4096)
#define DIO_BUF ((size_t)4 << 20)
#define QUEUE_COPIED ((size_t)64 << 20)

typedef struct {
    haddr_t addr;
    size_t len;
    const unsigned char *src;
    int copied;                 /* src is the queue's own copy (else: the named memory) */
} note_t;

typedef struct {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t work, done;  /* a note was queued; notes were written */
    int on, stop;
    int fd, pfd;                /* O_DIRECT (or -1), and the page-cache descriptor */
    int err;                    /* errno of the first failed write; 0 */
    int refused;                /* no direct writes (none asked, or the file system refused) */
    note_t *note;               /* note[head..n) are to be written, in order */
    size_t n, head, cap;
    size_t copied;              /* bytes of copies queued */
    unsigned char *buf;         /* DIO_BUF bytes, DIO_ALIGN-aligned */
    haddr_t wb_from, wb_to;     /* page-cache writes since the writeback was last started */
    unsigned long long bytes;   /* written directly */
} dio_t;

typedef struct ns_h5vfd_file {
    H5FD_t pub;                 /* HDF5's part, first */
    int fd;
    dev_t dev;                  /* the file, for HDF5's "is it open already?" */
    ino_t ino;
    haddr_t eoa, eof;
    haddr_t told;               /* eof when the helper was last told */
    ns_h5vfd_state_t *st;
    wb_t wb;
    dio_t dio;
    struct ns_h5vfd_file *next; /* the state's open files (ns_h5vfd_drain) */
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
    /* no helper beside the writing thread (which starts the writeback itself), or if it
     * cannot be made */
    f->wb.on = !f->dio.on && pthread_create(&f->wb.th, NULL, wb_main, f) == 0;
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

static int write_all(int fd, const unsigned char *p, size_t size, haddr_t addr)
{
    while (size > 0) {
        const ssize_t k = pwrite(fd, p, size > IO_MAX ? IO_MAX : size, (off_t)addr);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return k < 0 ? errno : EIO;
        p += k;
        addr += (haddr_t)k;
        size -= (size_t)k;
    }
    return 0;
}

static void *dio_main(void *arg)
{
    dio_t *d = arg;
    note_t run[DIO_BUF / DIO_MIN];
    pthread_mutex_lock(&d->mu);
    for (;;) {
        while (!d->stop && d->head == d->n) pthread_cond_wait(&d->work, &d->mu);
        if (d->head == d->n) break;
        /* the next note; if direct, with the direct notes that follow it in the file, up to
         * DIO_BUF bytes.  note[] may move (grow) while the lock is let go: copied out first */
        const haddr_t addr = d->note[d->head].addr;
        size_t k = d->head, len = 0;
        if (!d->note[k].copied)                  /* named: aligned, DIO_MIN..DIO_BUF bytes (dio_queue) */
            while (k < d->n && !d->note[k].copied && d->note[k].addr == addr + len
                   && len + d->note[k].len <= DIO_BUF)
                len += d->note[k++].len;
        else
            len = d->note[k++].len;
        const size_t count = k - d->head;
        memcpy(run, d->note + d->head, count * sizeof *run);
        const int refused = d->refused, skip = d->err != 0;
        pthread_mutex_unlock(&d->mu);
        int e = 0, direct = 0, refuse = 0, paged = 0;
        if (skip) {
            /* after a failure: skipped, as the rest */
        } else if (run[0].copied || refused) {   /* the page cache, from the note's bytes */
            for (size_t i = 0; i < count && !e; i++) e = write_all(d->pfd, run[i].src, run[i].len, run[i].addr);
            paged = 1;
        } else {
            unsigned char *p = d->buf;
            for (size_t i = 0; i < count; i++) p = (unsigned char *)memcpy(p, run[i].src, run[i].len) + run[i].len;
            if ((e = write_all(d->fd, d->buf, len, addr)) != EINVAL) {
                direct = e == 0;
            } else {                             /* refused: the page cache, from now on */
                refuse = paged = 1;
                e = write_all(d->pfd, d->buf, len, addr);
            }
        }
        if (paged && e == 0) {                   /* start the writeback every WB_STEP (see wb_t) */
            if (d->wb_from == d->wb_to || addr < d->wb_from) d->wb_from = addr;
            if (addr + len > d->wb_to) d->wb_to = addr + len;
            if (d->wb_to - d->wb_from >= WB_STEP) {
                (void)sync_file_range(d->pfd, (off_t)d->wb_from, (off_t)(d->wb_to - d->wb_from), SYNC_FILE_RANGE_WRITE);
                d->wb_from = d->wb_to = 0;
            }
        }
        if (run[0].copied) free((void *)run[0].src);
        pthread_mutex_lock(&d->mu);
        if (run[0].copied) d->copied -= len;
        if (refuse) d->refused = 1;
        if (direct) d->bytes += len;
        if (e && !d->err) d->err = e;
        d->head = k;
        pthread_cond_broadcast(&d->done);
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

/* The file open for writing as pfd (named name) opened again with O_DIRECT; -1 if it is not
 * a regular file, or on tmpfs (which takes O_DIRECT since Linux 6.6, by copying into its
 * pages: the thread's copy would be one more), or its file system takes no direct I/O, or
 * only coarser than ours.  By
 * /proc/self/fd where there is one, else by name; either way checked to be the same file
 * (device and inode): a name replaced meanwhile must not take the writes. */
static int open_direct(const char *name, int pfd)
{
    struct stat sb, db;
    struct statfs fs;
    if (fstat(pfd, &sb) != 0 || !S_ISREG(sb.st_mode)) return -1;
    if (fstatfs(pfd, &fs) == 0 && fs.f_type == TMPFS_MAGIC) return -1;   /* memory: nothing to skip */
#ifdef STATX_DIOALIGN
    struct statx sx;
    if (statx(pfd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) == 0 && (sx.stx_mask & STATX_DIOALIGN)
        && (sx.stx_dio_offset_align == 0 || sx.stx_dio_offset_align > DIO_ALIGN
            || sx.stx_dio_mem_align > DIO_ALIGN))
        return -1;
#endif
    char self[40];
    snprintf(self, sizeof self, "/proc/self/fd/%d", pfd);
    int fd = open(self, O_WRONLY | O_DIRECT | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0 && errno == ENOENT) fd = open(name, O_WRONLY | O_DIRECT | O_CLOEXEC | O_NONBLOCK);
    if (fd >= 0 && (fstat(fd, &db) != 0 || db.st_dev != sb.st_dev || db.st_ino != sb.st_ino)) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* Start the thread of the file open for writing as pfd, named name; with direct, open it
 * again with O_DIRECT where it may be (else every write goes through the page cache).
 * With name NULL, or if the thread cannot start, the driver goes on without (dio.on == 0):
 * every write is made when HDF5 makes it. */
static void dio_start(dio_t *d, const char *name, int pfd, int direct)
{
    memset(d, 0, sizeof *d);
    d->fd = -1;
    d->pfd = pfd;
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->work, NULL);
    pthread_cond_init(&d->done, NULL);
    if (!name) return;
    if (direct && (d->fd = open_direct(name, pfd)) >= 0 && !(d->buf = aligned_alloc(DIO_ALIGN, DIO_BUF))) {
        close(d->fd);
        d->fd = -1;
    }
    d->refused = d->fd < 0;
    if (pthread_create(&d->th, NULL, dio_main, d) != 0) {
        free(d->buf);
        d->buf = NULL;
        if (d->fd >= 0) close(d->fd);
        d->fd = -1;
        return;
    }
    d->on = 1;
}

/* Wait until every note is written; the first error goes to the file's state. */
static void dio_drain(file_t *f)
{
    dio_t *d = &f->dio;
    if (!d->on) return;
    pthread_mutex_lock(&d->mu);
    while (d->head != d->n) pthread_cond_wait(&d->done, &d->mu);
    const int e = d->err;
    d->n = d->head = 0;
    pthread_mutex_unlock(&d->mu);
    if (e) failed(f, e);
}

static void dio_stop(file_t *f)
{
    dio_t *d = &f->dio;
    if (d->on) {
        dio_drain(f);
        pthread_mutex_lock(&d->mu);
        d->stop = 1;
        pthread_cond_signal(&d->work);
        pthread_mutex_unlock(&d->mu);
        pthread_join(d->th, NULL);
        f->st->direct_bytes += d->bytes;
        if (d->fd >= 0 && close(d->fd) != 0) failed(f, errno);
        free(d->buf);
        free(d->note);
    }
    pthread_cond_destroy(&d->done);
    pthread_cond_destroy(&d->work);
    pthread_mutex_destroy(&d->mu);
}

static int grow_notes(dio_t *d)
{
    const size_t cap = d->cap ? 2 * d->cap : 1024;
    note_t *n = realloc(d->note, cap * sizeof *n);
    if (!n) return -1;
    d->note = n;
    d->cap = cap;
    return 0;
}

/* Make the write on the caller's thread, after any queued: the sec2 way (eof follows the
 * bytes written, a failure is kept). */
static void write_here(file_t *f, haddr_t addr, size_t size, const unsigned char *p)
{
    dio_drain(f);
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
}

/* Queue the write (the thread is on): as it is, if from the named memory and fit to go
 * direct, else copied; made here instead if a copy would pass QUEUE_COPIED alone, or if
 * there is no memory for it.  A failure met before is reported here (and the write
 * skipped). */
static void dio_queue(file_t *f, haddr_t addr, size_t size, const unsigned char *p)
{
    dio_t *d = &f->dio;
    const ns_h5vfd_state_t *st = f->st;
    const int direct = size >= DIO_MIN && size <= DIO_BUF && addr % DIO_ALIGN == 0 && size % DIO_ALIGN == 0
                       && st->stable_lo && p >= (const unsigned char *)st->stable_lo
                       && p + size <= (const unsigned char *)st->stable_hi;
    unsigned char *copy = NULL;
    if (!direct) {
        if (size > QUEUE_COPIED) {
            write_here(f, addr, size, p);
            return;
        }
        pthread_mutex_lock(&d->mu);              /* hold the copies queued to QUEUE_COPIED */
        while (d->copied + size > QUEUE_COPIED && !d->err) pthread_cond_wait(&d->done, &d->mu);
        pthread_mutex_unlock(&d->mu);
        if (!(copy = malloc(size))) {
            write_here(f, addr, size, p);
            return;
        }
        memcpy(copy, p, size);
    }
    pthread_mutex_lock(&d->mu);
    const int e = d->err;
    int queued = 0;
    if (!e && (d->n < d->cap || grow_notes(d) == 0)) {
        d->note[d->n++] = (note_t){ addr, size, copy ? copy : p, copy != NULL };
        if (copy) d->copied += size;
        copy = NULL;
        queued = 1;
        pthread_cond_signal(&d->work);
    }
    pthread_mutex_unlock(&d->mu);
    free(copy);
    if (e) failed(f, e);                         /* skipped, as every write after a failure */
    else if (!queued) write_here(f, addr, size, p);
    else if (addr + size > f->eof) f->eof = addr + size;
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
    f->next = f->st->files;
    f->st->files = f;
    const int queued = (flags & H5F_ACC_RDWR) && f->st->writes != NS_H5VFD_AT_ONCE;
    dio_start(&f->dio, queued ? name : NULL, fd, f->st->writes == NS_H5VFD_DIRECT);
    wb_start(f);
    return &f->pub;
}

static herr_t vfd_close(H5FD_t *file)
{
    file_t *f = (file_t *)file;
    dio_stop(f);
    wb_stop(f);
    for (file_t **p = &f->st->files; *p; p = &(*p)->next)
        if (*p == f) {
            *p = f->next;
            break;
        }
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
    dio_drain(f);
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
    if (f->st->err || size == 0) return 0;
    if (f->dio.on) {
        dio_queue(f, addr, size, buf);
        return 0;
    }
    write_here(f, addr, size, buf);
    wb_tell(f);
    return 0;
}

/* the file ends where HDF5's allocated space ends */
static herr_t vfd_truncate(H5FD_t *file, hid_t dxpl, hbool_t closing)
{
    (void)dxpl;
    (void)closing;
    file_t *f = (file_t *)file;
    dio_drain(f);
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

void ns_h5vfd_drain(ns_h5vfd_state_t *st)
{
    for (file_t *f = st->files; f; f = f->next) dio_drain(f);
}

int ns_h5vfd_set(hid_t fapl, ns_h5vfd_state_t *st)
{
    if (driver_id < 0 || H5Iis_valid(driver_id) <= 0) driver_id = H5FDregister(&vfd_class);
    if (driver_id < 0) return -1;
    const fa_t fa = { st };
    return H5Pset_driver(fapl, driver_id, &fa) < 0 ? -1 : 0;
}
