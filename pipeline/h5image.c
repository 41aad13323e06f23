/* h5image.c — see h5image.h. */
#define _GNU_SOURCE             /* mremap */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "h5image.h"

static size_t page_round(size_t n)
{
    const size_t ps = (size_t)sysconf(_SC_PAGESIZE);
    return (n + ps - 1) / ps * ps;
}

/* Reserve [len, n) of the file on disk, then map it: a mapped page that the disk could
 * not back would be a SIGBUS on first touch, a reservation that fails is an errno. */
static int grow_shared(ns_h5image_t *im, size_t n)
{
    int e = posix_fallocate(im->fd, (off_t)im->len, (off_t)(n - im->len));
    if (e != 0) return e;
    void *p = im->base ? mremap(im->base, im->len, n, MREMAP_MAYMOVE)
                       : mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED, im->fd, 0);
    if (p == MAP_FAILED) return errno ? errno : ENOMEM;
    im->base = p;
    im->len = n;
    if (n > im->mapped_max) im->mapped_max = n;
    return 0;
}

static void *grow_anon(ns_h5image_t *im, size_t n)
{
    void *p = im->base ? mremap(im->base, im->len, n, MREMAP_MAYMOVE)
                       : mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    im->base = p;
    im->len = n;
    return p;
}

/* The driver asks for `size` bytes in all (it zeroes the new part itself).  The memory
 * never shrinks: at close HDF5 truncates the backing file to the end of its data and
 * writes only that far. */
static void *image_realloc(void *ptr, size_t size, H5FD_file_image_op_t op, void *udata)
{
    ns_h5image_t *im = udata;
    (void)op;
    if (ptr != im->base) return NULL;                   /* not memory we handed out */
    const size_t n = page_round(size ? size : 1);
    if (n <= im->len) return im->base;
    if (!im->shared) return grow_anon(im, n);
    int e = grow_shared(im, n);
    if (e == 0) return im->base;
    /* go on in anonymous memory: the write at close meets (and reports) the same error */
    if (!im->err) im->err = e;
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    if (im->base) {
        memcpy(p, im->base, im->len);
        munmap(im->base, im->len);
    }
    im->base = p;
    im->len = n;
    im->shared = 0;
    return p;
}

static void *image_malloc(size_t size, H5FD_file_image_op_t op, void *udata)
{
    ns_h5image_t *im = udata;
    return im->base ? NULL : image_realloc(NULL, size, op, udata);
}

/* HDF5 is done with the memory (at H5Fclose): it stays, for ns_h5image_finish */
static herr_t image_free(void *ptr, H5FD_file_image_op_t op, void *udata)
{
    ns_h5image_t *im = udata;
    (void)op;
    if (ptr == NULL) return 0;
    if (ptr != im->base) return -1;
    im->released = 1;
    return 0;
}

/* the property list is copied (H5Fcreate copies it); every copy shares the one state */
static void *udata_copy(void *udata) { return udata; }
static herr_t udata_free(void *udata) { (void)udata; return 0; }

int ns_h5image_init(ns_h5image_t *im, hid_t fapl, const char *path)
{
    memset(im, 0, sizeof *im);
    im->fd = open(path, O_RDWR | O_CLOEXEC);
    im->shared = im->fd >= 0;
    if (im->fd < 0) im->err = errno;
    H5FD_file_image_callbacks_t cb = {
        .image_malloc = image_malloc, .image_memcpy = NULL, .image_realloc = image_realloc,
        .image_free = image_free, .udata_copy = udata_copy, .udata_free = udata_free,
        .udata = im,
    };
    return H5Pset_file_image_callbacks(fapl, &cb) < 0 ? -1 : 0;
}

/* little-endian unsigned of w bytes (the superblock's sizes of offsets: 2, 4 or 8) */
static uint64_t le(const unsigned char *p, int w)
{
    uint64_t v = 0;
    for (int k = w - 1; k >= 0; k--) v = v << 8 | p[k];
    return v;
}

uint64_t ns_h5image_eof(const void *image, size_t len)
{
    static const unsigned char sig[8] = { 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n' };
    const unsigned char *p = image;
    if (!p || len < 12 || memcmp(p, sig, 8) != 0) return 0;
    int w;
    size_t at;                  /* offset of the base address; the end-of-file address is */
    switch (p[8]) {             /* two addresses further on (HDF5 file format, superblock) */
    case 0: w = p[13]; at = 24; break;
    case 1: w = p[13]; at = 28; break;   /* + indexed storage K and its reserved bytes */
    case 2: case 3: w = p[9]; at = 12; break;
    default: return 0;
    }
    if ((w != 2 && w != 4 && w != 8) || at + 3 * (size_t)w > len) return 0;
    const uint64_t base = le(p + at, w), eof = le(p + at + 2 * (size_t)w, w);
    if (base != 0 || eof < at + 3 * (size_t)w || eof > len) return 0;   /* no user block here */
    return eof;
}

int ns_h5image_finish(ns_h5image_t *im)
{
    const uint64_t eof = ns_h5image_eof(im->base, im->len);
    int e = 0;
    if (!im->released || eof == 0) e = EINVAL;          /* not a whole HDF5 file */
    else if (im->fd < 0) e = im->err ? im->err : EBADF;  /* the file never opened */
    else if (!im->shared) {                             /* anonymous: write it all */
        const char *b = im->base;
        for (uint64_t off = 0; off < eof && !e; ) {
            ssize_t k = pwrite(im->fd, b + off, (size_t)(eof - off), (off_t)off);
            if (k > 0) off += (uint64_t)k;
            else if (k == 0) e = EIO;
            else if (errno != EINTR) e = errno;
        }
    }
    /* the room reserved past the data goes (the mapping first: no page past the end) */
    if (!e && im->shared) {
        munmap(im->base, im->len);
        im->base = NULL;
        im->len = 0;
    }
    if (!e && ftruncate(im->fd, (off_t)eof) != 0) e = errno;
    if (e) errno = e;
    return e ? -1 : 0;
}

void ns_h5image_done(ns_h5image_t *im)
{
    if (im->base) munmap(im->base, im->len);
    im->base = NULL;
    im->len = 0;
    if (im->fd >= 0) close(im->fd);
    im->fd = -1;
}
