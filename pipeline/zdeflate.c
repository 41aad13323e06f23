/* zdeflate.c — see zdeflate.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <isa-l/igzip_lib.h>
#include <libdeflate.h>
#include <zlib.h>
#include "zdeflate.h"

/* igzip's stateless call counts in 32 bits (its stored-block arithmetic included): larger
 * inputs go to libdeflate.  Archive chunks are at most 4 MiB. */
#define IGZIP_MAX ((size_t)1 << 31)

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000        /* Linux 4.17; older kernels take it as a hint */
#endif

struct ns_zdeflate {
    struct libdeflate_compressor *fallback;   /* made at its first use */
    struct isal_zstream *stream;        /* placed by stream_map */
    size_t stream_mapped;               /* its mapping's length; 0 when it is malloc's */
    size_t level_size;
    unsigned char level_buf[];          /* igzip's level-1 hash tables and token buffer */
};

/* Where the stream state lies changes igzip's bytes.
 *
 * ISA-L 2.30 (Debian 12's libisal2) has a register mix-up in the first step of its level-1
 * body (isal_deflate_icf_body_hash_hist_*, write_first_byte, for a stream with no history):
 * the hash slot for the input's third byte is computed from the stream pointer, not from the
 * input: crc32c((uint32_t)(stream address >> 16)) & (IGZIP_LVL1_HASH_SIZE - 1).  (A later
 * upstream version loads the data into that register first.)  The stream still inflates to
 * its input, but when that slot is the first or second byte's own slot, a later copy of the
 * input's head is matched differently, and the stream comes out a byte or so longer or
 * shorter: about once in 3,000 processes for a chunk of /samples_strata, as the stack moves
 * with address-space randomisation.  So the state is placed where that slot is STREAM_SLOT,
 * in every process.  Placing it is harmless for an igzip without the mix-up. */
enum { STREAM_SLOT = 0 };

/* crc32c of v, as SSE4.2's crc32 instruction gives it with a zero seed, four bits a step
 * through nib (crc32c_nibbles) */
static void crc32c_nibbles(uint32_t nib[16])
{
    for (uint32_t n = 0; n < 16; n++) {
        uint32_t c = n;
        for (int k = 0; k < 4; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        nib[n] = c;
    }
}

static unsigned stream_slot(const uint32_t nib[16], uintptr_t at)
{
    uint32_t v = (uint32_t)(at >> 16), crc = 0;
    for (int k = 0; k < 8; k++, v >>= 4) crc = (crc >> 4) ^ nib[(crc ^ v) & 15];
    return crc & (IGZIP_LVL1_HASH_SIZE - 1);
}

/* The stream state mapped at step (a 64 KiB multiple) if that room is free, else NULL */
static struct isal_zstream *map_at(uintptr_t step, size_t len)
{
    void *want = (void *)(step << 16);
    void *p = mmap(want, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p == MAP_FAILED) return NULL;
    if (p == want) return p;
    munmap(p, len);                         /* a kernel that took it as a hint */
    return NULL;
}

static int no_room;                         /* a search found nothing: do not search again */

/* A mapping for the stream state at an address whose slot is STREAM_SLOT: the first one
 * free among the 64 KiB steps below where the kernel would put it (the mapping area grows
 * down, so that room is mostly free; one step in about 8,192 has the slot), then above it
 * (valgrind hands out low addresses).  NULL if none was found within 64 GiB, and from then
 * on without looking (a full address space: about 0.1 s a search). */
static struct isal_zstream *stream_map(size_t len)
{
    if (__atomic_load_n(&no_room, __ATOMIC_RELAXED)) return NULL;
    uint32_t nib[16];
    crc32c_nibbles(nib);
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    const uintptr_t at = (uintptr_t)p >> 16, span = (uintptr_t)1 << 20;
    if (stream_slot(nib, (uintptr_t)p) == STREAM_SLOT) return p;
    munmap(p, len);
    struct isal_zstream *s = NULL;
    for (uintptr_t step = at - 1; !s && step + span > at && step > 256; step--)
        if (stream_slot(nib, step << 16) == STREAM_SLOT) s = map_at(step, len);
    for (uintptr_t step = at + 1; !s && step < at + span && step < ((uintptr_t)1 << 31); step++)
        if (stream_slot(nib, step << 16) == STREAM_SLOT) s = map_at(step, len);
    if (!s) __atomic_store_n(&no_room, 1, __ATOMIC_RELAXED);
    return s;
}

ns_zdeflate_t *ns_zdeflate_new(void)
{
    ns_zdeflate_t *z = malloc(sizeof *z + ISAL_DEF_LVL1_DEFAULT);
    if (!z) return NULL;
    z->fallback = NULL;
    z->level_size = ISAL_DEF_LVL1_DEFAULT;
    long page = sysconf(_SC_PAGESIZE);
    size_t len = (sizeof *z->stream + (size_t)page - 1) / (size_t)page * (size_t)page;
    z->stream = stream_map(len);
    z->stream_mapped = z->stream ? len : 0;
    /* Without a placed one (a full address space), a valid stream all the same, whose
     * bytes may then differ between processes */
    if (!z->stream && !(z->stream = malloc(sizeof *z->stream))) {
        free(z);
        return NULL;
    }
    return z;
}

void ns_zdeflate_free(ns_zdeflate_t *z)
{
    if (!z) return;
    if (z->fallback) libdeflate_free_compressor(z->fallback);
    if (z->stream_mapped) munmap(z->stream, z->stream_mapped);
    else free(z->stream);
    free(z);
}

int ns_zdeflate_placed(const ns_zdeflate_t *z)
{
    return z && z->stream_mapped != 0;
}

size_t ns_zdeflate_bound(size_t n)
{
    return (size_t)compressBound((uLong)n);
}

size_t ns_zdeflate(ns_zdeflate_t *z, const void *in, size_t n, void *out, size_t cap)
{
    if (n <= IGZIP_MAX) {
        struct isal_zstream *s = z->stream;
        memset(s, 0, sizeof *s);            /* the init leaves hist_bits (and more) unset */
        isal_deflate_stateless_init(s);
        s->next_in = (uint8_t *)(uintptr_t)in;  /* igzip reads it only */
        s->avail_in = (uint32_t)n;
        s->next_out = out;
        s->avail_out = cap < UINT32_MAX ? (uint32_t)cap : UINT32_MAX;
        s->level = 1;
        s->level_buf = z->level_buf;
        s->level_buf_size = (uint32_t)z->level_size;
        s->end_of_stream = 1;
        s->flush = NO_FLUSH;
        s->gzip_flag = IGZIP_ZLIB;
        s->hist_bits = 0;                   /* the default: a 32 KiB window */
        if (isal_deflate_stateless(s) == COMP_OK) return s->total_out;
    }
    if (!z->fallback && !(z->fallback = libdeflate_alloc_compressor(1))) return 0;
    return libdeflate_zlib_compress(z->fallback, in, n, out, cap);
}
