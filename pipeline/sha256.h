/* sha256.h — SHA-256 (FIPS 180-4), small and self-contained.
 *
 * Every output of a run records the SHA-256 of the panel text and of each input file, so a
 * result can always be traced back to the exact bytes it came from (and a re-delivered file
 * with the same name but different content is visible).  This is a plain implementation of
 * FIPS 180-4 §6.2 with no library dependency: the digest is part of the provenance, so it
 * must not change with how OpenSSL happens to be built or packaged on a lab machine.
 *
 * Not constant-time, not meant for secrets: it fingerprints files.
 */
#ifndef NS_SHA256_H
#define NS_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define NS_SHA256_LEN 32          /* digest bytes */
#define NS_SHA256_HEX_LEN 64      /* hex digits, without the NUL */

/* Streaming state.  Treat as opaque; it may live on the stack. */
typedef struct {
    uint32_t h[8];                /* chaining value */
    uint64_t nbytes;              /* message length so far, in bytes */
    uint8_t buf[64];              /* partial block */
    size_t nbuf;                  /* bytes used in buf (0..63) */
} ns_sha256_t;

/* Start a new digest. */
void ns_sha256_init(ns_sha256_t *c);

/* Add len bytes of data (data may be NULL when len == 0).  May be called any number of
 * times; the digest depends only on the concatenation of all the data. */
void ns_sha256_update(ns_sha256_t *c, const void *data, size_t len);

/* Finish: write the 32-byte digest to out.  The state is wiped afterwards; call
 * ns_sha256_init() again before reusing c. */
void ns_sha256_final(ns_sha256_t *c, uint8_t out[NS_SHA256_LEN]);

/* Digest as 64 lowercase hex digits plus a NUL. */
void ns_sha256_tohex(const uint8_t d[NS_SHA256_LEN], char out[NS_SHA256_HEX_LEN + 1]);

/* One-shot: hex digest of len bytes at data (data may be NULL when len == 0). */
void ns_sha256_hex(const void *data, size_t len, char out[NS_SHA256_HEX_LEN + 1]);

/* Two one-shot hex digests at once (the same digests as two ns_sha256_hex calls): with
 * SHA-NI the blocks of a and b are hashed side by side, which takes little more time than
 * one of them alone. */
void ns_sha256_hex2(const void *a, size_t la, char oa[NS_SHA256_HEX_LEN + 1], const void *b, size_t lb,
                    char ob[NS_SHA256_HEX_LEN + 1]);

/* n one-shot hex digests (the same as n ns_sha256_hex calls): out[i] of len[i] bytes at
 * data[i] (data[i] may be NULL when len[i] == 0).  Where the CPU has AVX-512 (F and BW)
 * and ns_simd (util.h) is set, sixteen messages are hashed at once, one in each lane, while
 * ten or more have whole blocks left; the rest two at a time as ns_sha256_hex2. */
void ns_sha256_hex_many(int n, const void *const *data, const size_t *len, char (*out)[NS_SHA256_HEX_LEN + 1]);

/* Hex digest of a whole file, read in blocks (the file is never held in memory).
 * @return 0, or -1 with errno set (out is then ""); EISDIR for a directory. */
int ns_sha256_file_hex(const char *path, char out[NS_SHA256_HEX_LEN + 1]);

/* Blocks are hashed with the x86 SHA extensions when the CPU has them (chosen once, at the
 * first block), and by ns_sha256_hex_many in AVX-512 lanes when it has those, else by the
 * portable code: same digests.  Tests call this with 1 to force the portable code, with 0
 * to choose again. */
void ns_sha256_use_portable(int portable);

#endif
