/* test_sim.c — the simulator's gene tables, calibration, stream seeds and time helpers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "../../pipeline/sim_genes.h"
#include "../../pipeline/sim_profiles.h"
#include "../../pipeline/util.h"

static void test_gene_tables(void **st)
{
    (void)st;
    char msg[256] = "";
    assert_int_equal(ns_sim_genes_check(msg, sizeof msg), 0);
    /* calibrated: P(>= 1 positive locus) is the target, shares kept */
    double none = 1.0;
    for (int l = 0; l < NS_SIM_GENE_LOCI; l++) none *= 1.0 - ns_sim_genes_locus_p(l);
    assert_true(fabs(1.0 - none - NS_SIM_GENE_POSITIVE) < 1e-9);
    double p235 = ns_sim_genes_locus_p(2), p919 = ns_sim_genes_locus_p(4);
    assert_string_equal(ns_sim_loci[2].column, "GJB2:c.235delC");
    assert_string_equal(ns_sim_loci[4].column, "SLC26A4:c.919-2A>G");
    assert_true(fabs(p235 / p919 - 0.473 / 0.212) < 1e-9);
    /* MT-RNR1 ~2.4 per mille of babies (DOMAIN §7.2) */
    double mt = 0;
    for (int l = 0; l < NS_SIM_GENE_LOCI; l++) if (ns_sim_loci[l].mito) mt += ns_sim_genes_locus_p(l);
    assert_true(mt > 0.0022 && mt < 0.0026);
    assert_true(isnan(ns_sim_genes_locus_p(NS_SIM_GENE_LOCI)));
}

static void test_gene_plate_names(void **st)
{
    (void)st;
    assert_true(ns_sim_is_gene_plate_name("G20261122-0001.csv"));
    assert_true(ns_sim_is_gene_plate_name("G20261122-12345.csv"));
    assert_false(ns_sim_is_gene_plate_name("P20261122-0001.csv"));
    assert_false(ns_sim_is_gene_plate_name("G20261122-0001.csv.bak"));
    assert_false(ns_sim_is_gene_plate_name("G2026112-0001.csv"));
    assert_false(ns_sim_is_gene_plate_name("notes.txt"));
}

static void test_stream_seeds(void **st)
{
    (void)st;
    /* fixed values: a change here changes every simulated hearing file and gene plate */
    unsigned long h = ns_sim_stream_seed(1, NS_SIM_STREAM_HEARING);
    unsigned long g = ns_sim_stream_seed(1, NS_SIM_STREAM_GENES);
    assert_int_equal(h, 2298633409UL);
    assert_int_equal(g, 1703865447UL);
    assert_int_equal(h, ns_sim_stream_seed(1, NS_SIM_STREAM_HEARING));
    for (unsigned long s = 0; s < 1000; s++) {
        assert_true(ns_sim_stream_seed(s, 1) != ns_sim_stream_seed(s + 1, 1));
        assert_true(ns_sim_stream_seed(s, 1) != ns_sim_stream_seed(s, 2));
    }
}

static void test_iso_minute(void **st)
{
    (void)st;
    char b[32];
    ns_sim_iso_minute(0, b, sizeof b);
    assert_string_equal(b, "1970-01-01T00:00");
    int64_t m = ns_sim_days_from_civil(2026, 11, 22) * 1440 + 8 * 60 + 30;
    ns_sim_iso_minute(m, b, sizeof b);
    assert_string_equal(b, "2026-11-22T08:30");
    ns_sim_iso_minute(m + 42 * 1440, b, sizeof b);   /* day 42 rescreen window */
    assert_string_equal(b, "2027-01-03T08:30");
    ns_sim_iso_minute(-1, b, sizeof b);
    assert_string_equal(b, "1969-12-31T23:59");
    /* agrees with the pipeline's own parser */
    assert_true(ns_parse_time_h("2026-11-22T08:30") * 60.0 == (double)m);
    int y, mo, d;
    ns_sim_civil_from_days(ns_sim_days_from_civil(2024, 2, 29), &y, &mo, &d);
    assert_true(y == 2024 && mo == 2 && d == 29);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gene_tables),
        cmocka_unit_test(test_gene_plate_names),
        cmocka_unit_test(test_stream_seeds),
        cmocka_unit_test(test_iso_minute),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
