/* zip_write.c — see zip_write.h.  Layout (APPNOTE.TXT 4.3): for each member a local
 * header, then its deflated bytes; then one central directory record per member, then the
 * end-of-central-directory record.  A member's CRC and sizes are known only at its end:
 * they are written into its local header then (pwrite), so no data descriptor is needed. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libdeflate.h>
#include <zlib.h>
#include "util.h"
#include "zip_write.h"

#define OUT_CAP ((size_t)1 << 18)       /* bytes buffered before a write(2) */
#define BLOCK ((size_t)1 << 20)         /* a member's bytes handed to the deflating thread */
#define DOS_DATE 0x0021                 /* 1980-01-01 (day 1, month 1, year 1980 + 0) */
#define LIMIT 0xFFFFFFFEull             /* sizes and offsets without ZIP64 (0xFFFFFFFF means
                                         * "see the ZIP64 record" to a reader) */

typedef struct {
    char *name;
    uint32_t crc, csize, usize, off;
} member_t;

struct ns_zip {
    int fd, err, level;
    uint64_t pos;                   /* file offset of out[0] */
    unsigned char *out;
    size_t len;
    z_stream zs;
    int open;                       /* a member is being written */
    uint64_t usize, start;          /* its uncompressed size, and where its data began */
    uint32_t crc;
    member_t *m;
    int n, cap;
    /* A member's bytes are deflated on a thread of the writer's own while the caller makes
     * the next ones (an XLSX sheet: the XML of the rows).  ns_zip_write fills `fill`; a full
     * block goes to the thread as `busy` (the two swap), which runs crc, deflate and the
     * writes on it.  The thread starts at the first full block (small members never need
     * it); every other step (a member's end, the next header, close) first waits for it to
     * finish its block, so that z's stream is only ever used by one thread at a time.  The
     * blocks are the bytes in order, cut every BLOCK bytes: deflate sees the same input
     * whatever the cut, and the file is the same bytes. */
    unsigned char *fill, *busy;
    size_t nfill, nbusy;
    int has_busy, stop, threaded;
    int err_seen;                   /* z->err as last read under the lock (the caller's copy) */
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

static void deflate_some(ns_zip_t *z, const void *p, size_t n, int flush);

/* Take n bytes into the current member: crc, size, deflate (the caller's thread, or the
 * deflating thread with its block). */
static void take(ns_zip_t *z, const void *p, size_t n)
{
    z->crc = libdeflate_crc32(z->crc, p, n);
    z->usize += n;
    deflate_some(z, p, n, Z_NO_FLUSH);
}

static void *deflater(void *arg)
{
    ns_zip_t *z = arg;
    pthread_mutex_lock(&z->mu);
    for (;;) {
        while (!z->has_busy && !z->stop) pthread_cond_wait(&z->cv, &z->mu);
        if (!z->has_busy) break;
        pthread_mutex_unlock(&z->mu);
        if (!z->err) take(z, z->busy, z->nbusy);
        pthread_mutex_lock(&z->mu);
        z->has_busy = 0;
        pthread_cond_broadcast(&z->cv);
    }
    pthread_mutex_unlock(&z->mu);
    return NULL;
}

/* Wait until the deflating thread has no block (then z's stream is this thread's). */
static void settle(ns_zip_t *z)
{
    if (!z->threaded) return;
    pthread_mutex_lock(&z->mu);
    while (z->has_busy) pthread_cond_wait(&z->cv, &z->mu);
    pthread_mutex_unlock(&z->mu);
}

/* Hand the filled bytes over: to the deflating thread (started now if need be), or, without
 * one, taken here. */
static void hand_over(ns_zip_t *z)
{
    if (z->nfill == 0) return;
    if (!z->threaded) {
        pthread_mutex_init(&z->mu, NULL);
        pthread_cond_init(&z->cv, NULL);
        z->busy = ns_malloc(BLOCK);
        z->threaded = pthread_create(&z->th, NULL, deflater, z) == 0;
        if (!z->threaded) {
            pthread_cond_destroy(&z->cv);
            pthread_mutex_destroy(&z->mu);
            free(z->busy);
            z->busy = NULL;
            take(z, z->fill, z->nfill);
            z->nfill = 0;
            return;
        }
    }
    pthread_mutex_lock(&z->mu);
    while (z->has_busy) pthread_cond_wait(&z->cv, &z->mu);
    z->err_seen = z->err;
    unsigned char *t = z->busy;
    z->busy = z->fill;
    z->nbusy = z->nfill;
    z->fill = t;
    z->nfill = 0;
    z->has_busy = 1;
    pthread_cond_broadcast(&z->cv);
    pthread_mutex_unlock(&z->mu);
}

/* The rest of the member's bytes taken (on this thread: the block is not full), nothing
 * left with the deflating thread. */
static void drain(ns_zip_t *z)
{
    settle(z);
    if (z->nfill) take(z, z->fill, z->nfill);
    z->nfill = 0;
}

static void flush_out(ns_zip_t *z)
{
    size_t done = 0;
    while (!z->err && done < z->len) {
        ssize_t k = write(z->fd, z->out + done, z->len - done);
        if (k > 0) done += (size_t)k;
        else if (k == 0) z->err = EIO;
        else if (errno != EINTR) z->err = errno;
    }
    z->pos += z->len;
    z->len = 0;
}

static void put(ns_zip_t *z, const void *p, size_t n)
{
    if (z->len + n > OUT_CAP) flush_out(z);
    memcpy(z->out + z->len, p, n);      /* n <= OUT_CAP: headers and deflate's output */
    z->len += n;
}

static void le16(unsigned char *p, unsigned v) { p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); }
static void le32(unsigned char *p, uint32_t v) { le16(p, v & 0xFFFF); le16(p + 2, v >> 16); }

ns_zip_t *ns_zip_open(int fd, int level)
{
    ns_zip_t *z = ns_calloc(1, sizeof *z);
    z->fd = fd;
    z->level = level;
    z->out = ns_malloc(OUT_CAP);
    z->fill = ns_malloc(BLOCK);
    if (deflateInit2(&z->zs, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(z->fill);
        free(z->out);
        free(z);
        return NULL;
    }
    return z;
}

/* Run deflate over n bytes of input (flush: Z_NO_FLUSH or Z_FINISH), output to the file. */
static void deflate_some(ns_zip_t *z, const void *p, size_t n, int flush)
{
    unsigned char buf[1 << 16];
    z->zs.next_in = (unsigned char *)(uintptr_t)p;
    while (!z->err) {
        const size_t chunk = n > (1u << 30) ? (1u << 30) : n;
        z->zs.avail_in = (uInt)chunk;
        int rc;
        do {
            z->zs.next_out = buf;
            z->zs.avail_out = sizeof buf;
            rc = deflate(&z->zs, chunk == n ? flush : Z_NO_FLUSH);
            if (rc == Z_STREAM_ERROR) { z->err = EIO; return; }
            put(z, buf, sizeof buf - z->zs.avail_out);
        } while (z->zs.avail_out == 0 || (chunk == n && flush == Z_FINISH && rc != Z_STREAM_END));
        n -= chunk;
        if (n == 0) return;
    }
}

static void end_member(ns_zip_t *z)
{
    drain(z);
    if (!z->open) return;
    z->open = 0;
    deflate_some(z, "", 0, Z_FINISH);
    deflateReset(&z->zs);
    const uint64_t end = z->pos + z->len, csize = end - z->start;
    member_t *m = &z->m[z->n - 1];
    if (z->usize > LIMIT || csize > LIMIT || end > LIMIT) {
        if (!z->err) z->err = EFBIG;
        return;
    }
    m->crc = z->crc;
    m->csize = (uint32_t)csize;
    m->usize = (uint32_t)z->usize;
    unsigned char f[12];                 /* CRC-32, compressed size, uncompressed size */
    le32(f, m->crc);
    le32(f + 4, m->csize);
    le32(f + 8, m->usize);
    if (m->off >= z->pos) {              /* the header is still in the buffer */
        memcpy(z->out + (m->off - z->pos) + 14, f, sizeof f);
    } else {
        flush_out(z);
        ssize_t k;
        while (!z->err && (k = pwrite(z->fd, f, sizeof f, (off_t)m->off + 14)) != (ssize_t)sizeof f)
            if (k >= 0 || errno != EINTR) z->err = k < 0 ? errno : EIO;     /* short: EIO */
    }
}

void ns_zip_begin(ns_zip_t *z, const char *name)
{
    end_member(z);
    if (z->err) return;
    const size_t nlen = strlen(name);
    const uint64_t off = z->pos + z->len;
    if (off > LIMIT || nlen > 0xFFFE) { z->err = EFBIG; return; }
    if (z->n == z->cap) z->m = ns_realloc(z->m, (size_t)(z->cap = z->cap ? 2 * z->cap : 16) * sizeof *z->m);
    z->m[z->n++] = (member_t){ .name = ns_strdup(name), .off = (uint32_t)off };
    unsigned char h[30] = { 0 };
    le32(h, 0x04034b50);                 /* local file header */
    le16(h + 4, 20);                     /* version needed: 2.0 (deflate) */
    le16(h + 8, 8);                      /* method: deflate; flags 0 */
    le16(h + 12, DOS_DATE);              /* time 00:00:00 at +10 */
    le16(h + 26, (unsigned)nlen);        /* CRC and sizes at +14: end_member fills them */
    put(z, h, sizeof h);
    put(z, name, nlen);
    z->start = z->pos + z->len;
    z->usize = 0;
    z->crc = 0;
    z->open = 1;
}

void ns_zip_write(ns_zip_t *z, const void *p, size_t n)
{
    /* after an error nothing more is taken (one met on the deflating thread is seen here
     * from its next block on) */
    if (z->err_seen || (!z->threaded && z->err) || !z->open || n == 0) return;
    const unsigned char *q = p;
    while (n > 0) {
        const size_t k = n < BLOCK - z->nfill ? n : BLOCK - z->nfill;
        memcpy(z->fill + z->nfill, q, k);
        z->nfill += k;
        q += k;
        n -= k;
        if (z->nfill == BLOCK) hand_over(z);
    }
}

void ns_zip_add(ns_zip_t *z, const char *name, const void *p, size_t n)
{
    ns_zip_begin(z, name);
    ns_zip_write(z, p, n);
}

int ns_zip_close(ns_zip_t *z)
{
    end_member(z);
    const uint64_t cd = z->pos + z->len;
    for (int i = 0; i < z->n && !z->err; i++) {
        const member_t *m = &z->m[i];
        const size_t nlen = strlen(m->name);
        unsigned char h[46] = { 0 };
        le32(h, 0x02014b50);             /* central directory header */
        le16(h + 4, 20);                 /* made by: MS-DOS, 2.0 */
        le16(h + 6, 20);
        le16(h + 10, 8);
        le16(h + 14, DOS_DATE);
        le32(h + 16, m->crc);
        le32(h + 20, m->csize);
        le32(h + 24, m->usize);
        le16(h + 28, (unsigned)nlen);
        le32(h + 42, m->off);
        put(z, h, sizeof h);
        put(z, m->name, nlen);
    }
    const uint64_t end = z->pos + z->len;
    if (!z->err && (cd > LIMIT || end - cd > LIMIT || z->n > 0xFFFE)) z->err = EFBIG;
    if (!z->err) {
        unsigned char e[22] = { 0 };
        le32(e, 0x06054b50);             /* end of central directory */
        le16(e + 8, (unsigned)z->n);
        le16(e + 10, (unsigned)z->n);
        le32(e + 12, (uint32_t)(end - cd));
        le32(e + 16, (uint32_t)cd);
        put(z, e, sizeof e);
        flush_out(z);
    }
    if (z->threaded) {
        pthread_mutex_lock(&z->mu);
        z->stop = 1;
        pthread_cond_broadcast(&z->cv);
        pthread_mutex_unlock(&z->mu);
        pthread_join(z->th, NULL);
        pthread_cond_destroy(&z->cv);
        pthread_mutex_destroy(&z->mu);
    }
    free(z->fill);
    free(z->busy);
    const int err = z->err;
    deflateEnd(&z->zs);
    for (int i = 0; i < z->n; i++) free(z->m[i].name);
    free(z->m);
    free(z->out);
    free(z);
    if (err) errno = err;
    return err ? -1 : 0;
}
