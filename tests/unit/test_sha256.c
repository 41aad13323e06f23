/* test_sha256.c — SHA-256 against the FIPS 180-4 / NIST example vectors, padding
 * boundaries, streaming splits and the file helper. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../../pipeline/sha256.h"
#include "../../pipeline/util.h"

static const char MSG448[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
static const char MSG896[] = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
                             "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";

static void hex_is(const void *data, size_t len, const char *want)
{
    char out[65];
    memset(out, 'x', sizeof out);
    ns_sha256_hex(data, len, out);
    assert_int_equal(out[64], 0);
    assert_string_equal(out, want);
}

static void test_nist_vectors(void **state)
{
    (void)state;
    hex_is("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    hex_is(NULL, 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    hex_is("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    hex_is(MSG448, strlen(MSG448),
           "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    hex_is(MSG896, strlen(MSG896),
           "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

static void test_million_a(void **state)
{
    (void)state;
    const char *want = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
    char *m = malloc(1000000);
    assert_non_null(m);
    memset(m, 'a', 1000000);
    hex_is(m, 1000000, want);

    /* the same through 1000 updates of 1000 bytes (never block-aligned: 1000 % 64 = 40) */
    ns_sha256_t c;
    uint8_t d[32];
    char out[65];
    ns_sha256_init(&c);
    for (int i = 0; i < 1000; i++) ns_sha256_update(&c, m + 1000 * i, 1000);
    ns_sha256_final(&c, d);
    ns_sha256_tohex(d, out);
    assert_string_equal(out, want);
    free(m);
}

/* Lengths around the padding boundaries (55: padding fits, 56: needs a second block, 64:
 * exactly one block).  Expected values computed independently with Python's hashlib:
 * hashlib.sha256(bytes(range(n))).hexdigest(). */
static void test_padding_boundaries(void **state)
{
    (void)state;
    static const struct { size_t n; const char *hex; } v[] = {
        { 55, "463eb28e72f82e0a96c0a4cc53690c571281131f672aa229e0d45ae59b598b59" },
        { 56, "da2ae4d6b36748f2a318f23e7ab1dfdf45acdc9d049bd80e59de82a60895f562" },
        { 63, "29af2686fd53374a36b0846694cc342177e428d1647515f078784d69cdb9e488" },
        { 64, "fdeab9acf3710362bd2658cdc9a29e8f9c757fcf9811603a8c447cd1d9151108" },
        { 65, "4bfd2c8b6f1eec7a2afeb48b934ee4b2694182027e6d0fc075074f2fabb31781" },
        { 119, "da18797ed7c3a777f0847f429724a2d8cd5138e6ed2895c3fa1a6d39d18f7ec6" },
        { 120, "f52b23db1fbb6ded89ef42a23ce0c8922c45f25c50b568a93bf1c075420bbb7c" },
    };
    uint8_t m[128];
    for (int i = 0; i < 128; i++) m[i] = (uint8_t)i;
    for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) hex_is(m, v[k].n, v[k].hex);
}

/* Any way of cutting the message into update() calls gives the one-shot digest. */
static void test_multi_update_split(void **state)
{
    (void)state;
    uint8_t m[300];
    for (int i = 0; i < 300; i++) m[i] = (uint8_t)(i * 7 + 3);
    char one[65], out[65];
    uint8_t d[32];
    ns_sha256_hex(m, sizeof m, one);

    for (size_t a = 0; a <= sizeof m; a++) {            /* every two-way split */
        ns_sha256_t c;
        ns_sha256_init(&c);
        ns_sha256_update(&c, m, a);
        ns_sha256_update(&c, m + a, sizeof m - a);
        ns_sha256_final(&c, d);
        ns_sha256_tohex(d, out);
        assert_string_equal(out, one);
    }
    for (size_t step = 1; step <= 70; step++) {          /* fixed-size pieces, with empties */
        ns_sha256_t c;
        ns_sha256_init(&c);
        for (size_t p = 0; p < sizeof m; p += step) {
            ns_sha256_update(&c, m + p, p + step <= sizeof m ? step : sizeof m - p);
            ns_sha256_update(&c, NULL, 0);
        }
        ns_sha256_final(&c, d);
        ns_sha256_tohex(d, out);
        assert_string_equal(out, one);
    }
    /* "abc" split as "a" + "bc" */
    ns_sha256_t c;
    ns_sha256_init(&c);
    ns_sha256_update(&c, "a", 1);
    ns_sha256_update(&c, "bc", 2);
    ns_sha256_final(&c, d);
    ns_sha256_tohex(d, out);
    assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/ns_sha256_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/f.txt", dir);

    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs(MSG448, fp);
    assert_int_equal(fclose(fp), 0);

    char out[65];
    assert_int_equal(ns_sha256_file_hex(path, out), 0);
    assert_string_equal(out, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");

    /* larger than the read buffer: 200000 'a' (one-shot digest as the reference) */
    char *m = malloc(200000), want[65];
    assert_non_null(m);
    memset(m, 'a', 200000);
    ns_sha256_hex(m, 200000, want);
    fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(m, 1, 200000, fp), 200000);
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(ns_sha256_file_hex(path, out), 0);
    assert_string_equal(out, want);
    free(m);

    /* empty file */
    fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(ns_sha256_file_hex(path, out), 0);
    assert_string_equal(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

    /* errors */
    errno = 0;
    assert_int_equal(ns_sha256_file_hex(dir, out), -1);
    assert_int_equal(errno, EISDIR);
    assert_string_equal(out, "");
    unlink(path);
    errno = 0;
    assert_int_equal(ns_sha256_file_hex(path, out), -1);
    assert_int_equal(errno, ENOENT);
    assert_string_equal(out, "");
    rmdir(dir);
}

/* n pseudo-random bytes (xorshift32 from *x, which is left where it stopped) */
static unsigned char *random_bytes(size_t n, uint32_t *x)
{
    unsigned char *m = malloc(n);
    assert_non_null(m);
    for (size_t i = 0; i < n; i++) {
        *x ^= *x << 13; *x ^= *x >> 17; *x ^= *x << 5;
        m[i] = (unsigned char)*x;
    }
    return m;
}

/* The accelerated path (SHA-NI, where the CPU has it) and the portable one give the same
 * digests on every length from 0 to 1,100 bytes of pseudo-random data and on 1 MB; and
 * every other test of this file runs twice, once forced portable. */
static void test_accelerated_equals_portable(void **state)
{
    (void)state;
    enum { MAXLEN = 1 << 20 };
    uint32_t x = 2463534242u;
    unsigned char *m = random_bytes(MAXLEN, &x);
    char a[NS_SHA256_HEX_LEN + 1], b[NS_SHA256_HEX_LEN + 1];
    for (size_t len = 0; len <= MAXLEN; len = len < 1100 ? len + 1 : MAXLEN + (len == MAXLEN)) {
        if (len > MAXLEN) break;
        ns_sha256_use_portable(0);
        ns_sha256_hex(m, len, a);
        ns_sha256_use_portable(1);
        ns_sha256_hex(m, len, b);
        assert_string_equal(a, b);
        if (len == MAXLEN) break;
    }
    ns_sha256_use_portable(0);
    free(m);
}

/* ns_sha256_hex2 gives the two digests ns_sha256_hex gives, for every pair of lengths
 * 0..300 and 0..300 (two different messages; equal lengths, one shorter, one empty), and
 * for 31,000 and 31,114 bytes (two plate files): with SHA-NI, side by side, and portable. */
static void test_two_at_once(void **state)
{
    (void)state;
    enum { N = 40000 };
    uint32_t x = 88172645u;
    unsigned char *m = random_bytes(2 * N, &x);
    char a[NS_SHA256_HEX_LEN + 1], b[NS_SHA256_HEX_LEN + 1], ra[NS_SHA256_HEX_LEN + 1], rb[NS_SHA256_HEX_LEN + 1];
    size_t n = 0;
    for (size_t la = 0; la <= 300; la += la < 140 ? 1 : 7)
        for (size_t lb = 0; lb <= 300; lb += lb < 140 ? 1 : 7) {
            ns_sha256_hex2(m, la, a, m + N, lb, b);
            ns_sha256_hex(m, la, ra);
            ns_sha256_hex(m + N, lb, rb);
            assert_string_equal(a, ra);
            assert_string_equal(b, rb);
            n++;
        }
    ns_sha256_hex2(m, 31000, a, m + N, 31114, b);
    ns_sha256_hex(m, 31000, ra);
    ns_sha256_hex(m + N, 31114, rb);
    assert_string_equal(a, ra);
    assert_string_equal(b, rb);
    ns_sha256_hex2(m + N, 31114, a, m, 31114, b);       /* equal lengths */
    ns_sha256_hex(m + N, 31114, ra);
    ns_sha256_hex(m, 31114, rb);
    assert_string_equal(a, ra);
    assert_string_equal(b, rb);
    assert_true(n > 10000);
    free(m);
}

/* ns_sha256_hex_many against ns_sha256_hex, message by message, for n messages of the
 * given lengths, each from its own place in m (of mlen bytes) */
static void many_is_one_by_one(const unsigned char *m, size_t mlen, int n, const size_t *len)
{
    const void *data[64];
    char got[64][NS_SHA256_HEX_LEN + 1], want[NS_SHA256_HEX_LEN + 1];
    assert_true(n <= 64);
    for (int i = 0; i < n; i++) {
        assert_true(len[i] <= mlen);
        data[i] = m + (size_t)i * 977 % (mlen - len[i] + 1);
    }
    ns_sha256_hex_many(n, data, len, got);
    for (int i = 0; i < n; i++) {
        ns_sha256_hex(data[i], len[i], want);
        if (strcmp(got[i], want) != 0) fprintf(stderr, "message %d of %d (%zu bytes) differs\n", i, n, len[i]);
        assert_string_equal(got[i], want);
    }
}

/* ns_sha256_hex_many gives the digests ns_sha256_hex gives: from 1 to 40 messages the size
 * of plate files (31,000-31,299 bytes); sixteen of every length 0..200 at once (the
 * padding's boundaries in every lane); messages of one length; one short or empty message
 * among long ones; nine long ones among short (too few for a round of lanes), and
 * lengths spread from 0 to 5,000.  Where the CPU has AVX-512 the first cases go through
 * its sixteen lanes; in the portable group, through the portable code. */
static void test_many(void **state)
{
    (void)state;
    enum { N = 80000 };
    uint32_t x = 1013904223u;
    unsigned char *m = random_bytes(N, &x);
    size_t len[64];
    for (int n = 1; n <= 40; n++) {                      /* plate files */
        for (int i = 0; i < n; i++) {
            x ^= x << 13; x ^= x >> 17; x ^= x << 5;
            len[i] = 31000 + x % 300;
        }
        many_is_one_by_one(m, N, n, len);
    }
    for (size_t l = 0; l <= 200; l++) {                  /* every padding boundary */
        for (int i = 0; i < 16; i++) len[i] = l + (size_t)i % 2;
        many_is_one_by_one(m, N, 16, len);
    }
    for (int i = 0; i < 16; i++) len[i] = 4096;          /* one length */
    many_is_one_by_one(m, N, 16, len);
    static const size_t short_one[] = { 0, 1, 63, 64, 65, 130, 30000 };
    for (size_t s = 0; s < sizeof short_one / sizeof *short_one; s++)
        for (int at = 0; at < 16; at += 5) {             /* one short among long */
            for (int i = 0; i < 16; i++) len[i] = 31000 + (size_t)i * 7;
            len[at] = short_one[s];
            many_is_one_by_one(m, N, 16, len);
        }
    for (int i = 0; i < 16; i++) len[i] = i < 9 ? 20000 + (size_t)i * 64 : 100;     /* nine long */
    many_is_one_by_one(m, N, 16, len);
    for (int n = 10; n <= 64; n += 9) {                  /* spread */
        for (int i = 0; i < n; i++) {
            x ^= x << 13; x ^= x >> 17; x ^= x << 5;
            len[i] = x % 5001;
        }
        many_is_one_by_one(m, N, n, len);
    }
    for (int i = 0; i < 16; i++) len[i] = i < 10 ? 64 : 70000;      /* ten of one block, */
    many_is_one_by_one(m, N, 16, len);                   /* six long: those in pairs */
    many_is_one_by_one(m, N, 0, len);                    /* none */
    const void *none[12] = { NULL };                     /* empty messages given as NULL */
    size_t zero[12] = { 0 };
    char got[12][NS_SHA256_HEX_LEN + 1];
    ns_sha256_hex_many(12, none, zero, got);
    for (int i = 0; i < 12; i++)
        assert_string_equal(got[i], "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    free(m);
}

/* test_many with the AVX-512 paths switched off (util.h: ns_simd): the pairs alone */
static void test_many_without_simd(void **state)
{
    ns_simd = 0;
    test_many(state);
    ns_simd = 1;
}

static int force_portable(void **state) { (void)state; ns_sha256_use_portable(1); return 0; }
static int choose_again(void **state) { (void)state; ns_sha256_use_portable(0); return 0; }

int main(void)
{
    const struct CMUnitTest portable[] = {
        cmocka_unit_test(test_nist_vectors),
        cmocka_unit_test(test_million_a),
        cmocka_unit_test(test_padding_boundaries),
        cmocka_unit_test(test_multi_update_split),
        cmocka_unit_test(test_two_at_once),
        cmocka_unit_test(test_many),
    };
    if (cmocka_run_group_tests_name("portable", portable, force_portable, choose_again) != 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accelerated_equals_portable),
        cmocka_unit_test(test_nist_vectors),
        cmocka_unit_test(test_million_a),
        cmocka_unit_test(test_padding_boundaries),
        cmocka_unit_test(test_multi_update_split),
        cmocka_unit_test(test_file),
        cmocka_unit_test(test_two_at_once),
        cmocka_unit_test(test_many),
        cmocka_unit_test(test_many_without_simd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
