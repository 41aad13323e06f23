/* zdeflate.c — see zdeflate.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <isa-l/igzip_lib.h>
#include <libdeflate.h>
#include <zlib.h>
#include "zdeflate.h"

/* igzip's stateless call counts in 32 bits (its stored-block arithmetic included): larger
 * inputs go to libdeflate.  Archive chunks are at most 4 MiB. */
#define IGZIP_MAX ((size_t)1 << 31)

struct ns_zdeflate {
    struct libdeflate_compressor *fallback;   /* made at its first use */
    size_t level_size;
    unsigned char level_buf[];          /* igzip's level-1 hash tables and token buffer */
};

ns_zdeflate_t *ns_zdeflate_new(void)
{
    ns_zdeflate_t *z = malloc(sizeof *z + ISAL_DEF_LVL1_DEFAULT);
    if (!z) return NULL;
    z->fallback = NULL;
    z->level_size = ISAL_DEF_LVL1_DEFAULT;
    return z;
}

void ns_zdeflate_free(ns_zdeflate_t *z)
{
    if (!z) return;
    if (z->fallback) libdeflate_free_compressor(z->fallback);
    free(z);
}

size_t ns_zdeflate_bound(size_t n)
{
    return (size_t)compressBound((uLong)n);
}

size_t ns_zdeflate(ns_zdeflate_t *z, const void *in, size_t n, void *out, size_t cap)
{
    if (n <= IGZIP_MAX) {
        struct isal_zstream s;
        memset(&s, 0, sizeof s);            /* the init leaves hist_bits (and more) unset */
        isal_deflate_stateless_init(&s);
        s.next_in = (uint8_t *)(uintptr_t)in;   /* igzip reads it only */
        s.avail_in = (uint32_t)n;
        s.next_out = out;
        s.avail_out = cap < UINT32_MAX ? (uint32_t)cap : UINT32_MAX;
        s.level = 1;
        s.level_buf = z->level_buf;
        s.level_buf_size = (uint32_t)z->level_size;
        s.end_of_stream = 1;
        s.flush = NO_FLUSH;
        s.gzip_flag = IGZIP_ZLIB;
        s.hist_bits = 0;                    /* the default: a 32 KiB window */
        if (isal_deflate_stateless(&s) == COMP_OK) return s.total_out;
    }
    if (!z->fallback && !(z->fallback = libdeflate_alloc_compressor(1))) return 0;
    return libdeflate_zlib_compress(z->fallback, in, n, out, cap);
}
