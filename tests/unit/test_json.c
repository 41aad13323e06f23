/* test_json.c — json.c's string escape (RFC 8259), written in runs of plain bytes, gives
 * the bytes of a one-byte-at-a-time escape for every byte value and for random strings;
 * and a small document comes out as written here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "../../pipeline/json.h"

/* the reference: each byte on its own */
static void ref_string(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"') fputs("\\\"", fp);
        else if (*p == '\\') fputs("\\\\", fp);
        else if (*p == '\n') fputs("\\n", fp);
        else if (*p == '\r') fputs("\\r", fp);
        else if (*p == '\t') fputs("\\t", fp);
        else if (*p < 0x20) fprintf(fp, "\\u%04x", *p);
        else fputc(*p, fp);
    }
    fputc('"', fp);
}

/* s as a top-level JSON string, through json.c and through the reference */
static void check(const char *s)
{
    char *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    FILE *fa = open_memstream(&a, &na), *fb = open_memstream(&b, &nb);
    assert_non_null(fa);
    assert_non_null(fb);
    ns_json_t j;
    ns_json_init(&j, fa);
    ns_json_str(&j, NULL, s);
    ref_string(fb, s);
    fclose(fa);
    fclose(fb);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na);
    free(a);
    free(b);
}

static void test_every_byte(void **state)
{
    (void)state;
    char s[8];
    for (int c = 1; c < 256; c++) {
        for (int at = 0; at < 3; at++) {        /* alone, at the end of a run, inside one */
            const char *fmt[] = { "%c", "ab%c", "ab%ccd" };
            snprintf(s, sizeof s, fmt[at], c);
            check(s);
        }
    }
    check("");
}

static void test_random_strings(void **state)
{
    (void)state;
    static const unsigned char pick[] = { 'a', 'Z', '0', ' ', '"', '\\', '\n', '\r', '\t', 0x01, 0x1f,
                                          0x7f, 0x80, 0xe4, 0xbd, 0xa0, '/', '<' };
    uint64_t x = 88172645463325252ULL;
    char s[64];
    for (int n = 0; n < 200000; n++) {
        int len = (int)(x % 40);
        for (int k = 0; k < len; k++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            s[k] = (char)pick[x % sizeof pick];
        }
        s[len] = 0;
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        check(s);
    }
}

static void test_document(void **state)
{
    (void)state;
    char *a = NULL;
    size_t na = 0;
    FILE *fp = open_memstream(&a, &na);
    ns_json_t j;
    ns_json_init(&j, fp);
    ns_json_obj(&j, NULL);
    ns_json_str(&j, "name", "P\"1\"\\x");
    ns_json_arr(&j, "list");
    ns_json_int(&j, NULL, -3);
    ns_json_str(&j, NULL, NULL);
    ns_json_end_arr(&j);
    ns_json_end_obj(&j);
    fclose(fp);
    assert_string_equal(a, "{\n  \"name\": \"P\\\"1\\\"\\\\x\",\n  \"list\": [\n    -3,\n    null\n  ]\n}\n");
    free(a);
}

/* integers as printf's %lld (the ends of int64, powers of ten and their neighbours, random
 * bits), numbers as %.6g, and nesting to the deepest indentation */
static void test_numbers_and_depth(void **state)
{
    (void)state;
    int64_t v[200];
    int n = 0;
    v[n++] = INT64_MIN;
    v[n++] = INT64_MAX;
    v[n++] = 0;
    for (int64_t p = 1; p <= INT64_MAX / 10; p *= 10) {
        v[n++] = p; v[n++] = p - 1; v[n++] = -p; v[n++] = -p + 1;
    }
    uint64_t x = 0x9e3779b97f4a7c15ull;
    while (n < 200) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; v[n++] = (int64_t)x >> (x % 60); }
    for (int k = 0; k < n; k++) {
        char *a = NULL, want[32];
        size_t na = 0;
        FILE *fp = open_memstream(&a, &na);
        ns_json_t j;
        ns_json_init(&j, fp);
        ns_json_int(&j, NULL, v[k]);
        ns_json_num(&j, NULL, (double)v[k] / 7.0);
        fclose(fp);
        snprintf(want, sizeof want, "%lld", (long long)v[k]);
        assert_memory_equal(a, want, strlen(want));
        char num[40];
        snprintf(num, sizeof num, "%.6g", (double)v[k] / 7.0);
        assert_string_equal(a + strlen(want), num);
        free(a);
    }
    /* 40 arrays deep: indentation grows to 31 levels and stays there */
    char *a = NULL;
    size_t na = 0;
    FILE *fp = open_memstream(&a, &na);
    ns_json_t j;
    ns_json_init(&j, fp);
    for (int d = 0; d < 40; d++) ns_json_arr(&j, NULL);
    ns_json_bool(&j, NULL, 1);
    for (int d = 0; d < 40; d++) ns_json_end_arr(&j);
    fclose(fp);
    const char *t = strstr(a, "true");
    assert_non_null(t);
    int sp = 0;
    while (t - sp - 1 >= a && t[-sp - 1] == ' ') sp++;
    assert_int_equal(sp, 62);
    free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_byte),
        cmocka_unit_test(test_random_strings),
        cmocka_unit_test(test_document),
        cmocka_unit_test(test_numbers_and_depth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
