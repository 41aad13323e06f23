/* test_clock.c — the log's clock (log.h): ns_clock_start() starts it, or takes over the
 * reference point that ns_clock_pass() handed to this program executed again (run does so
 * for OMP_WAIT_POLICY, omp_wait.h), so that "Real time" and the stage times count both
 * starts; the hand-over is read once and cleared, and a malformed one, or one from the
 * future or over a minute old, is ignored (and cleared too). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "../../pipeline/log.h"

static void sleep_s(double s)
{
    struct timespec t = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
    while (nanosleep(&t, &t) != 0) {}
}

/* NS_CLOCK_T0 for a start `ago` seconds before now (the monotonic clock, as passed) */
static void set_t0_ago(double ago)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long ns = (long long)now.tv_sec * 1000000000LL + now.tv_nsec - (long long)(ago * 1e9);
    char v[64];
    snprintf(v, sizeof v, "%lld.%09lld:0.000000", ns / 1000000000LL, ns % 1000000000LL);
    setenv("NS_CLOCK_T0", v, 1);
}

static void test_fresh_start(void **st)
{
    (void)st;
    unsetenv("NS_CLOCK_T0");
    ns_clock_start();
    const double w = ns_wall_s();
    assert_true(w >= 0 && w < 0.5);
}

static void test_taken_over(void **st)
{
    (void)st;
    set_t0_ago(3.0);
    ns_clock_start();
    const double w = ns_wall_s();
    assert_true(w >= 3.0 && w < 4.0);
    assert_null(getenv("NS_CLOCK_T0"));           /* read once */
    ns_clock_start();                             /* a later start is a fresh one */
    assert_true(ns_wall_s() < 0.5);
}

static void test_round_trip(void **st)
{
    (void)st;
    unsetenv("NS_CLOCK_T0");
    ns_clock_start();
    sleep_s(0.2);
    ns_clock_pass();
    assert_non_null(getenv("NS_CLOCK_T0"));
    ns_clock_start();                             /* as the program executed again does */
    const double w = ns_wall_s();
    assert_true(w >= 0.2 && w < 1.5);
    assert_true(ns_cpu_s() >= 0);
    assert_null(getenv("NS_CLOCK_T0"));
}

static void test_malformed_ignored(void **st)
{
    (void)st;
    static const char *const bad[] = { "", "abc", "12", "12.5", "12.5:", "x.5:1", "12.5000000000:1" };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0] + 2; k++) {
        if (k < sizeof bad / sizeof bad[0]) setenv("NS_CLOCK_T0", bad[k], 1);
        else set_t0_ago(k == sizeof bad / sizeof bad[0] ? -5.0 : 120.0);    /* future; stale */
        ns_clock_start();
        const double w = ns_wall_s();
        assert_true(w >= 0 && w < 0.5);
        assert_null(getenv("NS_CLOCK_T0"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fresh_start), cmocka_unit_test(test_taken_over),
        cmocka_unit_test(test_round_trip), cmocka_unit_test(test_malformed_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
