/* test_util.c — date and time helpers shared by the manifest, hearing and follow-up code;
 * ns_copy_str against snprintf("%s"); ns_strcaseeq against tolower() in the C locale;
 * ns_pool_t (strings that must not overlap, and survive a move between pools). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../pipeline/util.h"

static void test_parse_time(void **st)
{
    (void)st;
    assert_true(ns_parse_time_h("1970-01-01T00:00") == 0.0);
    assert_true(ns_parse_time_h("1970-01-02 06:30") == 30.5);
    assert_true(ns_parse_time_h("2026-11-22T08:00:36Z") == ns_parse_time_h("2026-11-22T08:00") + 0.01);
    assert_true(ns_parse_time_h("2024-02-29T00:00") - ns_parse_time_h("2024-02-28T00:00") == 24.0);
    const char *bad[] = { "", "2026-11-22", "2026-13-01T00:00", "2025-02-29T00:00", "2026-04-31T00:00",
                          "2026-11-22T24:00", "2026-11-22T08:00 x", "22/11/2026 08:00" };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) assert_true(isnan(ns_parse_time_h(bad[k])));
}

static void test_format_date(void **st)
{
    (void)st;
    char d[16];
    ns_format_date(0.0, d);
    assert_string_equal(d, "1970-01-01");
    ns_format_date(ns_parse_time_h("2026-11-22T23:59"), d);
    assert_string_equal(d, "2026-11-22");
    ns_format_date(ns_parse_time_h("2026-11-22T08:00") + 42 * 24.0, d);   /* day 42 */
    assert_string_equal(d, "2027-01-03");
    ns_format_date(ns_parse_time_h("2024-02-28T12:00") + 24.0, d);
    assert_string_equal(d, "2024-02-29");
    ns_format_date(-1.0, d);
    assert_string_equal(d, "1969-12-31");
    ns_format_date(NAN, d);
    assert_string_equal(d, "");
    /* every day of four years round-trips */
    for (int k = 0; k < 4 * 366; k++) {
        double h = ns_parse_time_h("2023-01-01T00:00") + 24.0 * k + 13.0;
        char t[32];
        ns_format_date(h, d);
        snprintf(t, sizeof t, "%sT13:00", d);
        assert_true(ns_parse_time_h(t) == h);
    }
}

/* ns_copy_str stores what snprintf(dst, size, "%s", src) stores, and no byte beyond it:
 * every source length around every field size, UTF-8 bytes included. */
static void test_copy_str_is_snprintf(void **st)
{
    (void)st;
    char src[40];
    for (int len = 0; len < 39; len++) {
        for (int k = 0; k < len; k++) src[k] = (char)(k % 3 == 2 ? 0xe4 : 'a' + k % 26);
        src[len] = 0;
        for (size_t size = 1; size <= 36; size++) {
            char a[48], b[48];
            memset(a, 0x5a, sizeof a);
            memset(b, 0x5a, sizeof b);
            assert_true(snprintf(a, size, "%s", src) == len);   /* cut on purpose */
            ns_copy_str(b, size, src);
            assert_memory_equal(a, b, sizeof a);
        }
    }
}

/* every pair of strings of up to 2 characters over letters, the bytes beside 'A'..'Z' and
 * 'a'..'z', digits and bytes above 127: the same answer as folding with tolower() */
static void test_strcaseeq(void **st)
{
    (void)st;
    static const unsigned char alpha[] = { 'A', 'Z', 'a', 'z', 'M', 'm', '@', '[', '`', '{', '0', 0x7f, 0xc3, 0xe3, 0xa9 };
    enum { NA = sizeof alpha };
    char strs[1 + NA + NA * NA][3];
    int n = 0;
    strs[n++][0] = 0;
    for (int i = 0; i < NA; i++) { strs[n][0] = (char)alpha[i]; strs[n++][1] = 0; }
    for (int i = 0; i < NA; i++)
        for (int j = 0; j < NA; j++) { strs[n][0] = (char)alpha[i]; strs[n][1] = (char)alpha[j]; strs[n++][2] = 0; }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            const char *a = strs[i], *b = strs[j];
            size_t k = 0;
            while (a[k] && b[k] && tolower((unsigned char)a[k]) == tolower((unsigned char)b[k])) k++;
            int ref = tolower((unsigned char)a[k]) == tolower((unsigned char)b[k]);
            assert_int_equal(ns_strcaseeq(a, b), ref);
        }
    assert_true(ns_strcaseeq("Patient", "PATIENT"));
    assert_false(ns_strcaseeq("patient", "patients"));
    assert_false(ns_strcaseeq("qc_low", "qc-low"));
}

/* Strings from two pools, one of them moved into the other half way, some larger than a
 * block: each keeps its own bytes to the end (no two overlap, none is lost by the move),
 * and the blocks are what the sizes ask for. */
static void test_pool(void **st)
{
    (void)st;
    enum { N = 3000 };
    static char *s[N];
    static size_t len[N];
    ns_pool_t a = { 0 }, b = { 0 };
    size_t total = 0;
    for (int i = 0; i < N; i++) {
        len[i] = i % 997 == 0 ? NS_POOL_BLOCK + (size_t)i : 1 + (size_t)(i * 7919) % 1500;
        ns_pool_t *p = i % 2 ? &a : &b;
        s[i] = ns_pool_alloc(p, len[i]);
        memset(s[i], 'a' + i % 26, len[i]);
        total += len[i];
        if (i == N / 2) {
            size_t na = a.n, nb = b.n;
            ns_pool_move(&a, &b);
            assert_int_equal(a.n, na + nb);
            assert_int_equal(b.n, 0);
            assert_null(b.blk);
        }
    }
    ns_pool_move(&a, &b);
    size_t room = 0;
    for (size_t k = 0; k < a.n; k++) assert_non_null(a.blk[k]);
    for (int i = 0; i < N; i++) {
        for (size_t j = 0; j < len[i]; j++) assert_int_equal(s[i][j], 'a' + i % 26);
        room += len[i] > NS_POOL_BLOCK ? len[i] : 0;
    }
    /* no more blocks than the bytes need: each small block is at least half used */
    assert_true(a.n <= 2 * (total - room) / NS_POOL_BLOCK + 2 * (N / 997 + 1) + 4);
    ns_pool_free(&a);
    assert_int_equal(a.n, 0);
    assert_null(a.blk);
    ns_pool_free(&b);           /* an empty pool */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_time),
        cmocka_unit_test(test_format_date),
        cmocka_unit_test(test_copy_str_is_snprintf),
        cmocka_unit_test(test_strcaseeq),
        cmocka_unit_test(test_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
