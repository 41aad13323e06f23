/* test_zdeflate.c — the archive's chunk encoder writes zlib streams that zlib itself
 * inflates to the same bytes: empty, tiny, constant, random (incompressible: igzip's stored
 * blocks), /samples-like rows, byte matrices; room for libdeflate's stream but not for
 * igzip's takes the libdeflate fallback; too little room is a clean 0; the same bytes give
 * the same stream, whatever the compressor did before, and wherever its stream state lies
 * (ISA-L 2.30 hashes that address once per stream: see zdeflate.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <alloca.h>
#include <libdeflate.h>
#include <zlib.h>
#include "../../pipeline/zdeflate.h"

static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint32_t next32(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

/* deflate n bytes with room cap (0: the bound), inflate with zlib, compare; the stream's
 * length */
static size_t round_trip(ns_zdeflate_t *z, const unsigned char *in, size_t n, size_t cap)
{
    if (!cap) cap = ns_zdeflate_bound(n);
    unsigned char *out = malloc(cap ? cap : 1), *back = malloc(n + 1);   /* exactly cap: an overrun shows under valgrind */
    assert_non_null(out);
    assert_non_null(back);
    size_t len = ns_zdeflate(z, in, n, out, cap);
    assert_true(len > 0 && len <= cap);
    assert_int_equal(out[0] & 0x0f, 8);                 /* CM = 8: deflate, in a zlib header */
    assert_int_equal(((unsigned)out[0] << 8 | out[1]) % 31, 0);
    uLongf bl = (uLongf)n;
    assert_int_equal(uncompress(back, &bl, out, (uLong)len), Z_OK);
    assert_int_equal(bl, n);
    if (n) assert_memory_equal(back, in, n);
    free(out);
    free(back);
    return len;
}

static void test_shapes(void **st)
{
    (void)st;
    ns_zdeflate_t *z = ns_zdeflate_new();
    assert_non_null(z);
    const size_t N = (size_t)1 << 20;
    unsigned char *b = calloc(N, 1);
    assert_non_null(b);
    round_trip(z, b, 0, 0);
    round_trip(z, (const unsigned char *)"A", 1, 0);
    assert_true(round_trip(z, b, N, 0) < N / 100);       /* zeros shrink */
    for (size_t i = 0; i < N; i++) b[i] = (unsigned char)next32();
    for (size_t n = 1; n <= N; n = n * 3 + 7) round_trip(z, b, n, 0);   /* random: no room to spare */
    round_trip(z, b, N, 0);
    /* rows like /samples: ids with counters, repeated words, NUL padding, doubles */
    for (size_t r = 0; r < N / 64; r++) {
        unsigned char *row = b + r * 64;
        memset(row, 0, 64);
        snprintf((char *)row, 24, "S20261122-%06zu", r);
        memcpy(row + 24, r % 7 ? "negative" : "recall", r % 7 ? 8 : 6);
        double w = 2500.0 + (double)(next32() % 2000);
        memcpy(row + 40, &w, sizeof w);
    }
    assert_true(round_trip(z, b, N, 0) < N / 2);
    /* a byte matrix column: long runs of one code, a few others */
    for (size_t i = 0; i < N; i++) b[i] = next32() % 997 == 0 ? (unsigned char)(1 + next32() % 3) : 0;
    round_trip(z, b, N, 0);
    free(b);
    ns_zdeflate_free(z);
    ns_zdeflate_free(NULL);
}

static void test_no_room(void **st)
{
    (void)st;
    ns_zdeflate_t *z = ns_zdeflate_new();
    unsigned char in[4096], out[64];
    for (size_t i = 0; i < sizeof in; i++) in[i] = (unsigned char)next32();
    assert_int_equal(ns_zdeflate(z, in, sizeof in, out, sizeof out), 0);
    assert_int_equal(ns_zdeflate(z, in, sizeof in, out, 0), 0);
    /* and the compressor is still good afterwards */
    round_trip(z, in, sizeof in, 0);
    ns_zdeflate_free(z);
}

/* Room below igzip's stream but enough for libdeflate's (which compresses rows like these
 * a little tighter): the fallback writes the stream, a valid one, of exactly that length. */
static void test_fallback(void **st)
{
    (void)st;
    const size_t n = 300000;
    unsigned char *in = malloc(n), *ref = malloc(ns_zdeflate_bound(n)), *out = malloc(n);
    for (size_t r = 0; r < n / 50; r++) {
        char *row = (char *)in + r * 50;
        memset(row, 0, 50);
        snprintf(row, 50, "S2026-%06zu,%s,%u", r, r % 3 ? "negative" : "recall", next32() % 5000);
    }
    struct libdeflate_compressor *ld = libdeflate_alloc_compressor(1);
    size_t lref = libdeflate_zlib_compress(ld, in, n, ref, ns_zdeflate_bound(n));
    libdeflate_free_compressor(ld);
    ns_zdeflate_t *z = ns_zdeflate_new();
    size_t lig = round_trip(z, in, n, 0);
    /* libdeflate wants a few bytes of slack beyond its stream */
    const size_t room = lref + 64;
    assert_true(lref > 0 && room < lig);             /* igzip does not fit in room bytes */
    size_t l = ns_zdeflate(z, in, n, out, room);
    assert_int_equal(l, lref);
    assert_memory_equal(out, ref, lref);              /* libdeflate's stream */
    round_trip(z, in, n, room);
    ns_zdeflate_free(z);
    free(in);
    free(ref);
    free(out);
}

static void test_same_bytes(void **st)
{
    (void)st;
    const size_t n = 200000;
    unsigned char *in = malloc(n), *o1 = malloc(ns_zdeflate_bound(n)), *o2 = malloc(ns_zdeflate_bound(n));
    unsigned char *junk = malloc(n);
    for (size_t i = 0; i < n; i++) in[i] = (unsigned char)("ACGT"[next32() % 4] + (i % 50 == 0));
    for (size_t i = 0; i < n; i++) junk[i] = (unsigned char)next32();
    ns_zdeflate_t *a = ns_zdeflate_new(), *b = ns_zdeflate_new();
    size_t l1 = ns_zdeflate(a, in, n, o1, ns_zdeflate_bound(n));
    /* b first deflates other data, and fails once for want of room */
    unsigned char small[16];
    assert_true(ns_zdeflate(b, junk, n, o2, ns_zdeflate_bound(n)) > 0);
    assert_int_equal(ns_zdeflate(b, junk, n, small, sizeof small), 0);
    size_t l2 = ns_zdeflate(b, in, n, o2, ns_zdeflate_bound(n));
    assert_true(l1 > 0);
    assert_int_equal(l1, l2);
    assert_memory_equal(o1, o2, l1);
    ns_zdeflate_free(a);
    ns_zdeflate_free(b);
    free(in);
    free(o1);
    free(o2);
    free(junk);
}

/* ns_zdeflate called k * 64 KiB deeper in the stack, where its stream state lay until
 * ISA-L 2.30's slot for the input's third byte was tied down (zdeflate.c) */
static size_t __attribute__((noinline)) deflate_deeper(unsigned k, ns_zdeflate_t *z, const void *in,
                                                       size_t n, void *out, size_t cap)
{
    volatile unsigned char *pad = alloca(((size_t)k << 16) + 64);
    pad[0] = 0;
    size_t len = ns_zdeflate(z, in, n, out, cap);
    pad[k] = 1;                                       /* keeps the pad live across the call */
    return len;
}

/* igzip 2.30 writes its hash entry for the input's third byte at a slot made from the stream
 * state's address (bits 16 and up).  That slot matters when it is the first or second byte's
 * own slot: then a later copy of the input's head is matched differently.  Inputs that open
 * with a random head repeated through them, deflated by several compressors at 24 stack
 * depths 64 KiB apart, must all come out in the same bytes: before the stream state was
 * placed, about one input in a hundred did not. */
static void test_any_address(void **st)
{
    (void)st;
    enum { N = 1024, INPUTS = 3000, DEPTHS = 24, COMPRESSORS = 4 };
    unsigned char in[N], ref[N + 64], out[N + 64];
    ns_zdeflate_t *z[COMPRESSORS];
    for (int c = 0; c < COMPRESSORS; c++) {
        assert_non_null(z[c] = ns_zdeflate_new());
        assert_true(ns_zdeflate_placed(z[c]));      /* room was found for each */
    }
    assert_false(ns_zdeflate_placed(NULL));
    int differ = 0;
    for (int t = 0; t < INPUTS; t++) {
        unsigned char head[8];
        for (int i = 0; i < 8; i++) head[i] = (unsigned char)next32();
        for (int i = 0; i < N; i++) in[i] = (unsigned char)(next32() % 5);
        for (int at = 0; at + 8 <= N; at += 40 + (int)(next32() % 60)) memcpy(in + at, head + at % 3, 8 - at % 3);
        const size_t cap = ns_zdeflate_bound(N);
        assert_true(cap <= sizeof ref);
        size_t lref = ns_zdeflate(z[0], in, N, ref, cap);
        assert_true(lref > 0);
        if (t < 50) round_trip(z[0], in, N, 0);
        for (unsigned k = 1; k <= DEPTHS; k++) {
            size_t l = deflate_deeper(k, z[k % COMPRESSORS], in, N, out, cap);
            if (l != lref || memcmp(out, ref, l)) differ++;
        }
    }
    if (differ) print_error("%d of %d streams differ from the first for the same input\n", differ, INPUTS * DEPTHS);
    assert_int_equal(differ, 0);
    for (int c = 0; c < COMPRESSORS; c++) ns_zdeflate_free(z[c]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_no_room),
        cmocka_unit_test(test_fallback),
        cmocka_unit_test(test_same_bytes),
        cmocka_unit_test(test_any_address),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
