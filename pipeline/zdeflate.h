/* zdeflate.h — zlib streams for archive chunks, made fast.
 *
 * HDF5's deflate filter (id 1) stores each chunk as one zlib stream (RFC 1950 around RFC
 * 1951).  write_hdf5.c deflates the chunks itself, in parallel, and hands them to HDF5 whole
 * (H5Dwrite_chunk); any encoder that writes a valid zlib stream will do, since every reader
 * (HDF5's filter, h5py, rescore's libdeflate) inflates them all alike.
 *
 * The encoder is ISA-L's igzip at its level 1.  On the chunks of a 1,000,000-card night
 * (BENCHMARKS.md, eleventh session) it deflated /samples at 811 MB/s against libdeflate
 * level 1's 383, for 2 % more bytes, and the byte matrices (/flags, /analytes/censoring) at
 * about 2,900 MB/s against 320, for 0.05 MB more on 107 MB.  Data that does not compress
 * is stored by igzip in stored blocks (with ns_zdeflate_bound's room that always fits); only
 * when the room given is smaller than igzip's stream, or the input is over 2 GiB, does
 * libdeflate level 1 try instead: a valid stream all the same.
 *
 * The output depends only on the input bytes (and on the room given, when that is less than
 * ns_zdeflate_bound), so the same chunks give the same file at any thread count and in any
 * process (igzip 2.30 also hashes where its stream state lies: zdeflate.c places it).  igzip
 * picks SSE, AVX2 or AVX-512 code by CPU; its streams may differ between machines, never
 * their inflated bytes, so archives are the same bytes on one machine, not across them.
 */
#ifndef NS_ZDEFLATE_H
#define NS_ZDEFLATE_H

#include <stddef.h>

typedef struct ns_zdeflate ns_zdeflate_t;

/* A compressor for one thread at a time (about 300 KB of tables, and 84 KB of stream state
 * mapped at a chosen address).  NULL when out of memory. */
ns_zdeflate_t *ns_zdeflate_new(void);
void ns_zdeflate_free(ns_zdeflate_t *z);

/* 1 when z's stream state lies where igzip 2.30's stray hash is the same in every process
 * (zdeflate.c), 0 when no such room was found and it is malloc's: its streams are still
 * valid, but their bytes may differ from another process's for the same input. */
int ns_zdeflate_placed(const ns_zdeflate_t *z);

/* Room that always suffices for the zlib stream of n bytes (zlib's compressBound). */
size_t ns_zdeflate_bound(size_t n);

/* The zlib stream of the n bytes at in, written to out (cap bytes of room).  @return its
 * length, or 0 if it did not fit in cap (never with cap >= ns_zdeflate_bound(n)). */
size_t ns_zdeflate(ns_zdeflate_t *z, const void *in, size_t n, void *out, size_t cap);

#endif
