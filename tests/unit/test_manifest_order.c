/* test_manifest_order.c — the manifest's rows come out sorted by sample_id with the
 * duplicate rules applied (same infant: the first line kept; different infants: every row
 * of that card rejected), whatever the order of the file: in order, in order but for a few
 * places (the runs are merged), in up to 70 runs (past the merge limit: qsort), shuffled;
 * each checked against an expectation computed here from the rows written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <omp.h>
#include "../../pipeline/batch.h"
#include "../../pipeline/ingest.h"

typedef struct { char sid[32], iid[16]; int line; } row_t;

static uint64_t rng = 0x853c49e6748fea9bull;
static uint64_t next(void) { rng = rng * 6364136223846793005ull + 1442695040888963407ull; return rng >> 33; }

static int cmp_sid_line(const void *a, const void *b)
{
    const row_t *x = a, *y = b;
    int c = strcmp(x->sid, y->sid);
    return c ? c : x->line - y->line;
}

/* n cards S-<k> (no zero padding: 9 then 10 sort back; or padded to `pad` digits, so that
 * only the cards past 10^pad - 1 sort back, as the simulator's S-1000000 does), some
 * repeated; then `breaks` places where a block of rows is moved elsewhere, or a full
 * shuffle (breaks < 0). */
static void check_padded(int n, int breaks, int dups, int pad)
{
    row_t *r = calloc((size_t)n + (size_t)dups, sizeof *r);
    int nr = 0;
    for (int k = 0; k < n; k++) {
        snprintf(r[nr].sid, sizeof r[nr].sid, "S-%0*d", pad, k + 1);
        snprintf(r[nr].iid, sizeof r[nr].iid, "I%d", k + 1);
        nr++;
    }
    for (int d = 0; d < dups; d++) {                 /* a repeat, same or other infant */
        int k = (int)(next() % (uint64_t)n);
        r[nr] = r[k];
        if (next() % 2) snprintf(r[nr].iid, sizeof r[nr].iid, "J%d", d);
        nr++;
    }
    if (breaks < 0) {
        for (int i = nr - 1; i > 0; i--) {
            int j = (int)(next() % (uint64_t)(i + 1));
            row_t t = r[i]; r[i] = r[j]; r[j] = t;
        }
    } else {
        for (int b = 0; b < breaks; b++) {           /* rotate a random stretch: two breaks */
            int i = (int)(next() % (uint64_t)nr), j = (int)(next() % (uint64_t)nr);
            if (i > j) { int t = i; i = j; j = t; }
            if (j - i < 2) continue;
            row_t t = r[i];
            memmove(&r[i], &r[i + 1], (size_t)(j - i) * sizeof *r);
            r[j] = t;
        }
    }
    char path[64];
    snprintf(path, sizeof path, "/tmp/ns_test_manifest_%d.csv", (int)getpid());
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fprintf(fp, "sample_id,infant_id,hospital,mother_name,contact_phone\n");
    for (int i = 0; i < nr; i++) {
        r[i].line = i + 2;
        fprintf(fp, "%s,%s,H,M,P\n", r[i].sid, r[i].iid);
    }
    fclose(fp);

    /* expected: by (sample_id, line); a card's rows kept as its first if all one infant */
    qsort(r, (size_t)nr, sizeof *r, cmp_sid_line);
    row_t *want = calloc((size_t)nr, sizeof *want);
    int nw = 0, rejected = 0;
    for (int i = 0; i < nr;) {
        int j = i + 1, conflict = 0;
        while (j < nr && strcmp(r[j].sid, r[i].sid) == 0) conflict |= strcmp(r[j].iid, r[i].iid) != 0, j++;
        if (!conflict) want[nw++] = r[i];
        rejected += conflict ? j - i : j - i - 1;
        i = j;
    }
    ns_manifest_t m;
    ns_ingest_manifest(&m, path);
    assert_true(m.ok);
    assert_int_equal(m.n, nw);
    assert_int_equal(m.n_rejected, rejected);
    assert_int_equal(m.n_errors, rejected + 0);
    for (int i = 0; i < nw; i++) {
        if (strcmp(m.rows[i].sample_id, want[i].sid) != 0 || m.rows[i].line != want[i].line
            || strcmp(m.rows[i].infant_id, want[i].iid) != 0)
            fail_msg("n %d breaks %d: row %d is %s line %d, expected %s line %d", n, breaks, i,
                     m.rows[i].sample_id, m.rows[i].line, want[i].sid, want[i].line);
    }
    ns_manifest_free(&m);
    unlink(path);
    free(r);
    free(want);
}

static void check(int n, int breaks, int dups) { check_padded(n, breaks, dups, 0); }

static void test_orders(void **state)
{
    (void)state;
    const int brk[] = { 0, 1, 2, 5, 20, 31, 32, 33, 40, 70, -1 };
    for (size_t b = 0; b < sizeof brk / sizeof *brk; b++) {
        check(3000, brk[b], 0);
        check(3000, brk[b], 150);
        check(20, brk[b], 5);
    }
    check(1, 0, 0);
    check(2, -1, 1);
    /* in order but for a few cards at the end: put in place one by one (up to 64) */
    check_padded(10005, 0, 0, 4);           /* S-10000..S-10005 after S-9999 */
    check_padded(10064, 0, 0, 4);
    check_padded(10065, 0, 0, 4);           /* 65: sorted as before */
    check_padded(10003, 0, 3, 4);           /* and repeats at the end */
    check_padded(10003, 1, 0, 4);
    check_padded(103, 0, 0, 2);
}

/* ns_batch_join over enough wells to run on two threads (65,536 or more): each patient well
 * gets its card's row, or none (an id not in the manifest, a control well); each row counts
 * the wells that name it, cards on two and three wells far apart (in both threads' ranges)
 * too; the same at one thread. */
static void test_join(void **state)
{
    (void)state;
    enum { M = 60000, N = 150000 };
    char path[64];
    snprintf(path, sizeof path, "/tmp/ns_test_join_%d.csv", (int)getpid());
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fprintf(fp, "sample_id,infant_id,hospital,mother_name,contact_phone\n");
    for (int k = 0; k < M; k++) fprintf(fp, "S-%06d,I%d,H,M,P\n", k, k);
    fclose(fp);
    char (*sid)[16] = calloc(N, sizeof *sid);
    char **sidp = calloc(N, sizeof *sidp);
    uint8_t *type = calloc(N, 1);
    int64_t *want = calloc(N, sizeof *want), *count = calloc(M, sizeof *count);
    for (int i = 0; i < N; i++) {
        const uint64_t u = next() % 1000;
        int card = (int)((int64_t)i * M / N);                /* mostly in the manifest's order */
        if (u < 20) card = (int)(next() % M);                /* a card already on another well */
        else if (u < 400) card = (int)(next() % 4) * 997;    /* four cards on wells all over: both
                                                                threads count them at once */
        type[i] = u >= 990 ? NS_TYPE_QC_LOW : NS_TYPE_PATIENT;
        if (u >= 980 && u < 990) snprintf(sid[i], sizeof sid[i], "X-%06d", i);     /* not in it */
        else snprintf(sid[i], sizeof sid[i], "S-%06d", card);
        sidp[i] = sid[i];
        want[i] = type[i] == NS_TYPE_PATIENT && sid[i][0] == 'S' ? card : -1;
        if (want[i] >= 0) count[want[i]]++;
    }
    int repeats = 0;
    for (int k = 0; k < M; k++) repeats += count[k] > 1;
    assert_true(repeats > 1000);
    for (int round = 0; round < 12; round++) {
        const int threads = round < 11 ? 2 : 1;
        ns_batch_t b;
        memset(&b, 0, sizeof b);
        ns_ingest_manifest(&b.manifest, path);
        assert_int_equal(b.manifest.n, M);
        b.n = N;
        b.type = type;
        b.sample_id = sidp;
        b.mrow = calloc(N, sizeof *b.mrow);
        omp_set_num_threads(threads);
        ns_batch_join(&b);
        omp_set_num_threads(1);
        for (int i = 0; i < N; i++)
            if (b.mrow[i] != want[i]) fail_msg("%d threads: well %d (%s) joined to row %lld, expected %lld", threads, i,
                                               sid[i], (long long)b.mrow[i], (long long)want[i]);
        for (int k = 0; k < M; k++) assert_int_equal(b.manifest.rows[k].n_wells, count[k]);
        free(b.mrow);
        ns_manifest_free(&b.manifest);
    }
    unlink(path);
    free(sid); free(sidp); free(type); free(want); free(count);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_orders), cmocka_unit_test(test_join) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
