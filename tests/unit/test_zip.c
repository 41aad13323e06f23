/* test_zip.c — the ZIP writer (pipeline/zip_write.h): a member deflated on the writer's own
 * thread, block by block, is the same bytes as the member written at once, whatever the
 * sizes of the writes (1 byte, odd, a block less one, a block, a block and one, a whole
 * member); every member inflates back to what was written, with its CRC and sizes in its
 * header; a write that fails is reported by
 * ns_zip_close (-1, errno) also when it happened on that thread. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include "../../pipeline/zip_write.h"

enum { BIG = 5 * (1 << 20) + 12345, BLOCK = 1 << 20 };

/* A member that deflates the way a sheet does: rows of XML-like text with numbers. */
static unsigned char *content(size_t n, uint64_t seed)
{
    unsigned char *p = malloc(n);
    size_t i = 0;
    while (i < n) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        char row[96];
        int k = snprintf(row, sizeof row, "<row r=\"%llu\"><c t=\"s\"><v>%u</v></c></row>",
                         (unsigned long long)(i / 40), (unsigned)(seed >> 45));
        for (int j = 0; j < k && i < n; j++) p[i++] = (unsigned char)row[j];
    }
    return p;
}

/* The archive of three members (small, big, small), the big one written in pieces of
 * `step` bytes (0: at once; -1: sizes varying), into a file; its bytes. */
static unsigned char *archive(const unsigned char *big, long step, size_t *len)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/ns_test_zip_%d", (int)getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    ns_zip_t *z = ns_zip_open(fd, 1);
    assert_non_null(z);
    ns_zip_add(z, "a.txt", "hello", 5);
    ns_zip_begin(z, "big.xml");
    uint64_t s = 7;
    for (size_t i = 0; i < BIG;) {
        size_t k = step == 0 ? BIG : step > 0 ? (size_t)step : 0;
        if (step < 0) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            const size_t pick[] = { 1, 3, 511, BLOCK - 1, BLOCK, BLOCK + 1, 70000 };
            k = pick[(s >> 40) % 7];
        }
        if (k > BIG - i) k = BIG - i;
        ns_zip_write(z, big + i, k);
        i += k;
    }
    ns_zip_add(z, "z.txt", "bye", 3);
    assert_int_equal(ns_zip_close(z), 0);
    off_t n = lseek(fd, 0, SEEK_END);
    unsigned char *b = malloc((size_t)n);
    assert_int_equal(pread(fd, b, (size_t)n, 0), n);
    close(fd);
    unlink(path);
    *len = (size_t)n;
    return b;
}

static uint32_t le32(const unsigned char *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static unsigned le16(const unsigned char *p) { return p[0] | p[1] << 8; }

/* Member k of the archive (local headers in order): its name checked, inflated and compared
 * with want (wlen bytes), its CRC and sizes with the header's. */
static void check_member(const unsigned char *b, size_t len, int k, const char *name, const void *want, size_t wlen)
{
    size_t off = 0;
    for (int j = 0;; j++) {
        assert_true(off + 30 <= len);
        assert_int_equal(le32(b + off), 0x04034b50);
        const size_t nlen = le16(b + off + 26), csize = le32(b + off + 18);
        if (j == k) {
            assert_int_equal(nlen, strlen(name));
            assert_memory_equal(b + off + 30, name, nlen);
            assert_int_equal(le32(b + off + 22), wlen);
            unsigned char *out = malloc(wlen + 1);
            z_stream zs;
            memset(&zs, 0, sizeof zs);
            assert_int_equal(inflateInit2(&zs, -15), Z_OK);
            zs.next_in = (unsigned char *)(uintptr_t)(b + off + 30 + nlen);
            zs.avail_in = (uInt)csize;
            zs.next_out = out;
            zs.avail_out = (uInt)wlen + 1;
            assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
            assert_int_equal(zs.total_out, wlen);
            inflateEnd(&zs);
            assert_memory_equal(out, want, wlen);
            assert_int_equal(le32(b + off + 14), crc32(0, want, (uInt)wlen));
            free(out);
            return;
        }
        off += 30 + nlen + csize;
    }
}

/* The deflated bytes of member k (its local header's compressed size), into *len. */
static const unsigned char *member_data(const unsigned char *b, int k, size_t *len)
{
    size_t off = 0;
    for (int j = 0; j < k; j++) off += 30 + le16(b + off + 26) + le32(b + off + 18);
    *len = le32(b + off + 18);
    return b + off + 30 + le16(b + off + 26);
}

static void test_blocks_same_bytes(void **st)
{
    (void)st;
    unsigned char *big = content(BIG, 11);
    size_t n0;
    unsigned char *ref = archive(big, 0, &n0);
    check_member(ref, n0, 0, "a.txt", "hello", 5);
    check_member(ref, n0, 1, "big.xml", big, BIG);
    check_member(ref, n0, 2, "z.txt", "bye", 3);
    /* the member is the stream one deflate over all its bytes makes (the writer before the
     * deflating thread: the same zlib settings, no flush), not merely some valid stream */
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(deflateInit2(&zs, 1, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
    const size_t cap = deflateBound(&zs, BIG);
    unsigned char *one = malloc(cap);
    zs.next_in = big;
    zs.avail_in = BIG;
    zs.next_out = one;
    zs.avail_out = (uInt)cap;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    size_t mlen;
    const unsigned char *md = member_data(ref, 1, &mlen);
    assert_int_equal(mlen, zs.total_out);
    assert_memory_equal(md, one, mlen);
    deflateEnd(&zs);
    free(one);
    const long steps[] = { 1, 7, 65536, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK, -1 };
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
        size_t n;
        unsigned char *b = archive(big, steps[i], &n);
        if (n != n0 || memcmp(b, ref, n) != 0) fail_msg("writes of %ld bytes: another archive", steps[i]);
        free(b);
    }
    free(ref);
    free(big);
}

/* A descriptor that cannot be written (read-only): the first block's write fails on the
 * deflating thread, and close says so. */
static void test_write_error(void **st)
{
    (void)st;
    char path[64];
    snprintf(path, sizeof path, "/tmp/ns_test_zip_ro_%d", (int)getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    close(fd);
    fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    unsigned char *big = content(BIG, 5);
    ns_zip_t *z = ns_zip_open(fd, 1);
    ns_zip_begin(z, "big.xml");
    for (size_t i = 0; i < BIG; i += 4096) ns_zip_write(z, big + i, BIG - i < 4096 ? BIG - i : 4096);
    errno = 0;
    assert_int_equal(ns_zip_close(z), -1);
    assert_int_equal(errno, EBADF);
    close(fd);
    unlink(path);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_blocks_same_bytes), cmocka_unit_test(test_write_error) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
