/* test_qc_history.c — earlier nights' QC read back from batch.h5 archives (--history):
 * hand-made batches and QC results written with ns_write_hdf5, then ns_qc_history_load
 * checked for ordering (by night, not by path or write order), the max_plates window,
 * z values and medians (NaN included), analyte mapping by name to a different panel,
 * skipped archives (no /qc, symbolic links, plates not run) and errors.
 *
 * Set NS_TEST_KEEP=1 to keep the temporary directories (their paths are printed). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../../pipeline/batch.h"
#include "../../pipeline/log.h"
#include "../../pipeline/plate_qc.h"
#include "../../pipeline/sha256.h"
#include "../../pipeline/write_hdf5.h"

/* ------------------------------------------------------------------ fixture */

static const char PANEL_TEXT[] = "analytes: [Phe, Tyr]\n";
static const char QC_TEXT[] = "levels:\n  qc_low: {lot: L1}\n  qc_high: {lot: H1}\n";

#define NA 2                    /* analytes of the archives: Phe, Tyr */
#define NP_MAX 3                /* plates per night */
#define NOBS_MAX (NP_MAX * NS_QC_LEVELS * NA)

/* A panel of up to 4 analytes, by name. */
typedef struct {
    ns_panel_t p;
    ns_analyte_t an[4];
} panel_fx_t;

static void panel_init(panel_fx_t *x, int n, const char *const *names)
{
    memset(x, 0, sizeof *x);
    x->p.path = "configs/test.yaml";
    x->p.text = (char *)PANEL_TEXT;
    x->p.text_len = sizeof PANEL_TEXT - 1;
    ns_sha256_hex(PANEL_TEXT, x->p.text_len, x->p.sha256);
    strcpy(x->p.name, "test-panel");
    strcpy(x->p.version, "1");
    for (int a = 0; a < n; a++) {
        snprintf(x->an[a].name, sizeof x->an[a].name, "%s", names[a]);
        strcpy(x->an[a].unit, "umol/L");
    }
    x->p.analytes = x->an;
    x->p.n_analytes = n;
}

/* One night: plates with no rows (only the QC results matter here), QC on every plate. */
typedef struct {
    panel_fx_t pf;
    ns_batch_t b;
    ns_plate_t plates[NP_MAX];
    char names[NP_MAX][32], paths[NP_MAX][64];
    ns_qc_config_t cfg;
    ns_qc_result_t qc;
    ns_plate_qc_t pq[NP_MAX];
    unsigned violated[NP_MAX][NA * NS_QC_LEVELS];
    double median[NP_MAX][NA], median_ref[NP_MAX][NA];
    ns_qc_control_t obs[NOBS_MAX];
    char night[16];
} night_fx_t;

/* Values that say where they came from: night d (0, 1, ...), plate k, level l, analyte a. */
static double z_of(int d, int k, int l, int a) { return d * 100 + k * 10 + l * 2 + a + 0.5; }
static double value_of(int d, int k, int l, int a) { return 1000.0 + z_of(d, k, l, a); }
static double median_of(int d, int k, int a) { return 500.0 + d * 100 + k * 10 + a; }

/* Night "2026-11-2<d>" with np plates "PL-<d>-<k>"; plate quarantined_k (or -1) is a
 * quarantined plate file (not_run, no controls).  Control (night 0, plate 1, qc_high, Tyr)
 * has a missing value, and median (night 1, plate 0, Phe) is NaN. */
static void night_init(night_fx_t *x, int d, int np, int quarantined_k)
{
    static const char *const an[NA] = { "Phe", "Tyr" };
    memset(x, 0, sizeof *x);
    panel_init(&x->pf, NA, an);
    snprintf(x->night, sizeof x->night, "2026-11-%02d", 20 + d);

    x->cfg.path = "configs/qc.yaml";
    x->cfg.text = (char *)QC_TEXT;
    ns_sha256_hex(QC_TEXT, strlen(QC_TEXT), x->cfg.sha256);

    ns_batch_t *b = &x->b;
    b->panel = &x->pf.p;
    b->night = x->night;
    b->plates = x->plates;
    b->n_plates = np;
    b->qc = &x->qc;
    x->qc.cfg = &x->cfg;
    x->qc.plate = x->pq;
    x->qc.obs = x->obs;
    for (int k = 0; k < np; k++) {
        ns_plate_t *pl = &x->plates[k];
        snprintf(x->names[k], sizeof x->names[k], "P%d%d.csv", d, k);
        snprintf(x->paths[k], sizeof x->paths[k], "night%d/plates/P%d%d.csv", d, d, k);
        pl->name = x->names[k];
        pl->path = x->paths[k];
        snprintf(pl->id, sizeof pl->id, "PL-%d-%d", d, k);
        strcpy(pl->encoding, "utf-8");
        pl->status = k == quarantined_k ? NS_PLATE_QUARANTINED : NS_PLATE_OK;
        pl->error = k == quarantined_k ? "P.csv:1:1: bad" : NULL;
        pl->first_row = k == quarantined_k ? -1 : 0;
        ns_sha256_hex(pl->id, strlen(pl->id), pl->sha256);

        ns_plate_qc_t *q = &x->pq[k];
        q->violated = x->violated[k];
        q->median = x->median[k];
        q->median_ref = x->median_ref[k];
        if (k == quarantined_k) {
            q->status = NS_QC_NOT_RUN;
            for (int a = 0; a < NA; a++) q->median[a] = q->median_ref[a] = NAN;
            continue;
        }
        q->status = k == 0 ? NS_QC_ACCEPTED : NS_QC_REJECTED;
        if (k != 0) {
            snprintf(q->reason, sizeof q->reason, "1-3s Tyr qc_high");
            q->violated[1 * NS_QC_LEVELS + 1] = NS_WG_1_3S | NS_WG_1_2S;
        }
        for (int a = 0; a < NA; a++) {
            q->median[a] = median_of(d, k, a);
            q->median_ref[a] = k == 0 ? NAN : median_of(d, 0, a);
        }
        for (int l = 0; l < NS_QC_LEVELS; l++)
            for (int a = 0; a < NA; a++) {
                ns_qc_control_t *o = &x->obs[x->qc.n_obs++];
                snprintf(o->plate_id, sizeof o->plate_id, "%s", pl->id);
                o->plate = k;
                memcpy(o->well, l ? "H12" : "H11", 4);
                o->level = (uint8_t)l;
                o->analyte = a;
                o->value = value_of(d, k, l, a);
                o->z = z_of(d, k, l, a);
            }
    }
    if (d == 0 && np > 1) {             /* a missing control value */
        for (int64_t j = 0; j < x->qc.n_obs; j++) {
            ns_qc_control_t *o = &x->obs[j];
            if (o->plate == 1 && o->level == 1 && o->analyte == 1) o->value = o->z = NAN;
        }
    }
    if (d == 1) x->median[0][0] = NAN;
    for (int k = 0; k < np; k++) {
        if (x->pq[k].status == NS_QC_REJECTED) x->qc.n_rejected++;
        if (x->pq[k].status == NS_QC_WARNING) x->qc.n_warning++;
    }
}

/* ------------------------------------------------------------------ helpers */

static char *mkdir_tmp(void)
{
    char *d = strdup("/tmp/ns_test_qchist_XXXXXX");
    assert_non_null(d);
    assert_non_null(mkdtemp(d));
    return d;
}

static void rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            char p[1024];
            while ((e = readdir(d)) != NULL) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
                snprintf(p, sizeof p, "%s/%s", path, e->d_name);
                rm_rf(p);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void rm_tree(char *dir)
{
    if (getenv("NS_TEST_KEEP")) fprintf(stderr, "kept %s\n", dir);
    else rm_rf(dir);
    free(dir);
}

/* Write night fx to DIR/sub/batch.h5 (sub may contain '/'; directories are made). */
static void write_night(const char *dir, const char *sub, const ns_batch_t *b, char *out,
                        size_t outsz)
{
    char d[1024];
    snprintf(d, sizeof d, "%s/%s", dir, sub);
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", d);
    assert_int_equal(system(cmd), 0);
    snprintf(out, outsz, "%s/batch.h5", d);
    assert_int_equal(ns_write_hdf5(out, b, NULL, "test"), 0);
}

/* Run ns_qc_history_load with stderr captured into err. */
static int load_capture_night(ns_qc_history_t *h, const char *dir, const ns_panel_t *p, int max,
                              const char *tonight, char *err, size_t errsz)
{
    fflush(stderr);
    char tmpl[] = "/tmp/ns_test_qchist_errXXXXXX";
    int fd = mkstemp(tmpl), saved = dup(2);
    assert_true(fd >= 0 && saved >= 0);
    dup2(fd, 2);
    int r = ns_qc_history_load(h, dir, p, max, tonight);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    lseek(fd, 0, SEEK_SET);
    ssize_t k = read(fd, err, errsz - 1);
    err[k > 0 ? k : 0] = 0;
    close(fd);
    unlink(tmpl);
    return r;
}

static int load_capture(ns_qc_history_t *h, const char *dir, const ns_panel_t *p, int max,
                        char *err, size_t errsz)
{
    return load_capture_night(h, dir, p, max, NULL, err, errsz);
}

static void assert_same(double got, double want)
{
    if (isnan(want)) assert_true(isnan(got));
    else assert_true(got == want);
}

/* The two nights of the main scenario, written later night first. */
typedef struct {
    night_fx_t n0, n1;
    char p0[1100], p1[1100];
} two_t;

static void two_nights(two_t *t, const char *dir, const char *sub0, const char *sub1)
{
    night_init(&t->n0, 0, 2, -1);
    night_init(&t->n1, 1, 2, -1);
    write_night(dir, sub1, &t->n1.b, t->p1, sizeof t->p1);   /* the later night first */
    write_night(dir, sub0, &t->n0.b, t->p0, sizeof t->p0);
}

/* Check one history obs against plate (d, k), level l, archive analyte a. */
static void check_obs(const ns_qc_control_t *o, int d, int k, int l, int a, int mapped)
{
    char id[32];
    snprintf(id, sizeof id, "PL-%d-%d", d, k);
    assert_string_equal(o->plate_id, id);
    assert_int_equal(o->plate, -1);
    assert_string_equal(o->well, l ? "H12" : "H11");
    assert_int_equal(o->level, l);
    assert_int_equal(o->analyte, mapped);
    if (d == 0 && k == 1 && l == 1 && a == 1) {
        assert_true(isnan(o->value));
        assert_true(isnan(o->z));
    } else {
        assert_same(o->value, value_of(d, k, l, a));
        assert_same(o->z, z_of(d, k, l, a));
    }
}

/* ------------------------------------------------------------------ tests */

/* Two nights, 2 plates each, max_plates 3: the oldest plate and its controls are dropped,
 * the rest come oldest first in plate and row order. */
static void test_order_window_values(void **state)
{
    (void)state;
    two_t *t = calloc(1, sizeof *t);
    assert_non_null(t);
    char *dir = mkdir_tmp();
    two_nights(t, dir, "2026-11-20", "2026-11-21");

    ns_qc_history_t h;
    assert_int_equal(ns_qc_history_load(&h, dir, &t->n0.pf.p, 3, NULL), 0);
    assert_int_equal(h.n_archives, 2);
    assert_string_equal(h.archives[0], t->p0);
    assert_string_equal(h.archives[1], t->p1);
    assert_int_equal(h.n_plates, 3);
    assert_int_equal(h.n_obs, 3 * NS_QC_LEVELS * NA);
    static const int pd[3] = { 0, 1, 1 }, pk[3] = { 1, 0, 1 };   /* kept: PL-0-1, 1-0, 1-1 */
    int j = 0;
    for (int q = 0; q < 3; q++)
        for (int l = 0; l < NS_QC_LEVELS; l++)
            for (int a = 0; a < NA; a++)
                check_obs(&h.obs[j++], pd[q], pk[q], l, a, a);
    for (int q = 0; q < 3; q++)
        for (int a = 0; a < NA; a++) {
            double want = pd[q] == 1 && pk[q] == 0 && a == 0 ? NAN : median_of(pd[q], pk[q], a);
            assert_same(h.median[q * NA + a], want);
        }
    ns_qc_history_free(&h);
    assert_null(h.obs);
    assert_int_equal(h.n_archives, 0);

    /* no limit: all 4 plates; max 0: nothing; max 2: only tonight-1's plates */
    assert_int_equal(ns_qc_history_load(&h, dir, &t->n0.pf.p, -1, NULL), 0);
    assert_int_equal(h.n_plates, 4);
    assert_int_equal(h.n_obs, 4 * NS_QC_LEVELS * NA);
    check_obs(&h.obs[0], 0, 0, 0, 0, 0);
    check_obs(&h.obs[h.n_obs - 1], 1, 1, 1, 1, 1);
    ns_qc_history_free(&h);
    assert_int_equal(ns_qc_history_load(&h, dir, &t->n0.pf.p, 0, NULL), 0);
    assert_int_equal(h.n_plates, 0);
    assert_int_equal(h.n_obs, 0);
    assert_int_equal(h.n_archives, 0);
    ns_qc_history_free(&h);
    assert_int_equal(ns_qc_history_load(&h, dir, &t->n0.pf.p, 2, NULL), 0);
    assert_int_equal(h.n_plates, 2);
    assert_int_equal(h.n_archives, 1);
    assert_string_equal(h.archives[0], t->p1);
    check_obs(&h.obs[0], 1, 0, 0, 0, 0);
    ns_qc_history_free(&h);

    rm_tree(dir);
    free(t);
}

/* The order is by the night attribute, not by path: the older night lives under a later
 * path, deeper in the tree. */
static void test_order_by_night_not_path(void **state)
{
    (void)state;
    two_t *t = calloc(1, sizeof *t);
    assert_non_null(t);
    char *dir = mkdir_tmp();
    two_nights(t, dir, "zz-old", "aa/deeper/new");

    ns_qc_history_t h;
    assert_int_equal(ns_qc_history_load(&h, dir, &t->n0.pf.p, -1, NULL), 0);
    assert_int_equal(h.n_archives, 2);
    assert_string_equal(h.archives[0], t->p0);
    assert_string_equal(h.archives[1], t->p1);
    assert_string_equal(h.obs[0].plate_id, "PL-0-0");
    assert_string_equal(h.obs[h.n_obs - 1].plate_id, "PL-1-1");
    ns_qc_history_free(&h);

    /* the same night twice (a copy of its outputs): read once, from the first path */
    night_fx_t *n2 = calloc(1, sizeof *n2);
    assert_non_null(n2);
    night_init(n2, 1, 2, -1);
    snprintf(n2->plates[0].id, sizeof n2->plates[0].id, "PL-dup");
    for (int64_t j = 0; j < n2->qc.n_obs; j++)
        if (n2->obs[j].plate == 0) snprintf(n2->obs[j].plate_id, 32, "PL-dup");
    char p2[1100];
    write_night(dir, "ab", &n2->b, p2, sizeof p2);      /* "aa/deeper/new" < "ab" */
    assert_int_equal(ns_qc_history_load(&h, dir, &t->n0.pf.p, -1, NULL), 0);
    assert_int_equal(h.n_archives, 2);
    assert_string_equal(h.archives[1], t->p1);
    assert_int_equal(h.n_plates, 4);
    for (int64_t j = 0; j < h.n_obs; j++) assert_string_not_equal(h.obs[j].plate_id, "PL-dup");
    ns_qc_history_free(&h);
    free(n2);

    rm_tree(dir);
    free(t);
}

/* Analytes are mapped to the current panel by name: a different order, an analyte the
 * panel lacks (-1, no median), a panel analyte the archives lack (NaN medians), and
 * names compared case-insensitively. */
static void test_analyte_mapping(void **state)
{
    (void)state;
    two_t *t = calloc(1, sizeof *t);
    assert_non_null(t);
    char *dir = mkdir_tmp();
    two_nights(t, dir, "2026-11-20", "2026-11-21");

    static const char *const names[3] = { "C8", "tyr", "Leu" };   /* Phe missing */
    panel_fx_t pf;
    panel_init(&pf, 3, names);
    ns_qc_history_t h;
    assert_int_equal(ns_qc_history_load(&h, dir, &pf.p, 3, NULL), 0);
    assert_int_equal(h.n_plates, 3);
    assert_int_equal(h.n_obs, 3 * NS_QC_LEVELS * NA);
    static const int pd[3] = { 0, 1, 1 }, pk[3] = { 1, 0, 1 };
    int j = 0;
    for (int q = 0; q < 3; q++)
        for (int l = 0; l < NS_QC_LEVELS; l++)
            for (int a = 0; a < NA; a++)
                check_obs(&h.obs[j++], pd[q], pk[q], l, a, a == 0 ? -1 : 1);
    for (int q = 0; q < 3; q++) {
        assert_true(isnan(h.median[q * 3 + 0]));                   /* C8: not archived */
        assert_same(h.median[q * 3 + 1], median_of(pd[q], pk[q], 1));   /* Tyr */
        assert_true(isnan(h.median[q * 3 + 2]));                   /* Leu */
    }
    ns_qc_history_free(&h);

    /* reversed order, all present */
    static const char *const rev[2] = { "Tyr", "PHE" };
    panel_init(&pf, 2, rev);
    assert_int_equal(ns_qc_history_load(&h, dir, &pf.p, 1, NULL), 0);
    assert_int_equal(h.n_plates, 1);
    j = 0;
    for (int l = 0; l < NS_QC_LEVELS; l++)
        for (int a = 0; a < NA; a++) check_obs(&h.obs[j++], 1, 1, l, a, 1 - a);
    assert_same(h.median[0], median_of(1, 1, 1));
    assert_same(h.median[1], median_of(1, 1, 0));
    ns_qc_history_free(&h);

    rm_tree(dir);
    free(t);
}

/* An empty directory: no history, no error.  A missing one: -1 with a message naming it.
 * A file instead of a directory: -1. */
static void test_empty_and_missing_dir(void **state)
{
    (void)state;
    static const char *const an[NA] = { "Phe", "Tyr" };
    panel_fx_t pf;
    panel_init(&pf, NA, an);
    char *dir = mkdir_tmp(), sub[600], err[4096];
    snprintf(sub, sizeof sub, "%s/nights/empty", dir);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && touch '%s/nights/other.h5'", sub, dir);
    assert_int_equal(system(cmd), 0);

    ns_qc_history_t h;
    assert_int_equal(ns_qc_history_load(&h, dir, &pf.p, 10, NULL), 0);
    assert_int_equal(h.n_obs, 0);
    assert_int_equal(h.n_plates, 0);
    assert_int_equal(h.n_archives, 0);
    ns_qc_history_free(&h);

    snprintf(sub, sizeof sub, "%s/no-such-dir", dir);
    assert_int_equal(load_capture(&h, sub, &pf.p, 10, err, sizeof err), -1);
    assert_non_null(strstr(err, "neoscreen run: "));
    assert_non_null(strstr(err, sub));
    assert_non_null(strstr(err, "No such file or directory"));
    assert_int_equal(h.n_obs, 0);
    assert_null(h.obs);

    snprintf(sub, sizeof sub, "%s/nights/other.h5", dir);
    assert_int_equal(load_capture(&h, sub, &pf.p, 10, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a directory"));
    rm_tree(dir);
}

/* Skipped: an archive written without QC (with a note), a symbolic link to an archive or
 * to a directory of archives, a quarantined plate (not_run) of a night with QC. */
static void test_skipped(void **state)
{
    (void)state;
    two_t *t = calloc(1, sizeof *t);
    assert_non_null(t);
    char *dir = mkdir_tmp(), err[4096], path[1100];
    two_nights(t, dir, "2026-11-20", "2026-11-21");

    /* a later night without QC */
    night_fx_t *nq = calloc(1, sizeof *nq);
    assert_non_null(nq);
    night_init(nq, 2, 2, -1);
    nq->b.qc = NULL;
    write_night(dir, "2026-11-22", &nq->b, path, sizeof path);
    /* links: to an archive, and to a directory holding one */
    char l1[1200], l2[1200];
    snprintf(l1, sizeof l1, "%s/2026-11-22/link", dir);
    assert_int_equal(mkdir(l1, 0755), 0);
    snprintf(l1, sizeof l1, "%s/2026-11-22/link/batch.h5", dir);
    assert_int_equal(symlink(t->p1, l1), 0);
    snprintf(l2, sizeof l2, "%s/dirlink", dir);
    snprintf(l1, sizeof l1, "%s/2026-11-20", dir);
    assert_int_equal(symlink(l1, l2), 0);

    static const char *const an[NA] = { "Phe", "Tyr" };
    panel_fx_t pf;
    panel_init(&pf, NA, an);
    int old = ns_verbosity;
    ns_verbosity = 1;
    ns_qc_history_t h;
    assert_int_equal(load_capture(&h, dir, &pf.p, -1, err, sizeof err), 0);
    ns_verbosity = old;
    assert_int_equal(h.n_archives, 2);
    assert_string_equal(h.archives[0], t->p0);
    assert_string_equal(h.archives[1], t->p1);
    assert_int_equal(h.n_plates, 4);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "skipped"));
    ns_qc_history_free(&h);

    /* a night whose middle plate was quarantined: it does not count towards max_plates */
    night_fx_t *n3 = calloc(1, sizeof *n3);
    assert_non_null(n3);
    night_init(n3, 3, 3, 1);
    write_night(dir, "2026-11-23", &n3->b, path, sizeof path);
    assert_int_equal(ns_qc_history_load(&h, dir, &pf.p, 3, NULL), 0);
    assert_int_equal(h.n_plates, 3);                  /* PL-1-1, PL-3-0, PL-3-2 */
    assert_int_equal(h.n_archives, 2);
    assert_int_equal(h.n_obs, 3 * NS_QC_LEVELS * NA);
    assert_string_equal(h.obs[0].plate_id, "PL-1-1");
    assert_string_equal(h.obs[NS_QC_LEVELS * NA].plate_id, "PL-3-0");
    assert_string_equal(h.obs[2 * NS_QC_LEVELS * NA].plate_id, "PL-3-2");
    check_obs(&h.obs[2 * NS_QC_LEVELS * NA + 3], 3, 2, 1, 1, 1);
    assert_same(h.median[2 * NA + 1], median_of(3, 2, 1));
    ns_qc_history_free(&h);

    free(nq);
    free(n3);
    rm_tree(dir);
    free(t);
}

/* Tonight is never its own history, and re-processing an old night must not read the
 * nights after it (ISO-dated names); each skip is said on stderr. */
static void test_tonight_and_later_nights_skipped(void **state)
{
    (void)state;
    two_t *t = calloc(1, sizeof *t);
    assert_non_null(t);
    char *dir = mkdir_tmp(), err[4096];
    two_nights(t, dir, "a", "b");                       /* nights 2026-11-20 and -21 */
    ns_qc_history_t h;

    assert_int_equal(load_capture_night(&h, dir, &t->n0.pf.p, -1, "2026-11-21", err, sizeof err), 0);
    assert_int_equal(h.n_archives, 1);
    assert_string_equal(h.archives[0], t->p0);
    assert_non_null(strstr(err, "same night as tonight"));
    ns_qc_history_free(&h);

    assert_int_equal(load_capture_night(&h, dir, &t->n0.pf.p, -1, "2026-11-20b", err, sizeof err), 0);
    assert_int_equal(h.n_archives, 1);                  /* -20 < -20b < -21 */
    assert_string_equal(h.archives[0], t->p0);
    assert_non_null(strstr(err, "a later night than tonight"));
    ns_qc_history_free(&h);

    assert_int_equal(load_capture_night(&h, dir, &t->n0.pf.p, -1, "2026-11-19", err, sizeof err), 0);
    assert_int_equal(h.n_archives, 0);
    assert_int_equal(h.n_obs, 0);
    assert_non_null(strstr(err, "none of the 2 archives"));
    ns_qc_history_free(&h);

    /* names that are not dates cannot be ordered: only the same name is skipped */
    assert_int_equal(load_capture_night(&h, dir, &t->n0.pf.p, -1, "night", err, sizeof err), 0);
    assert_int_equal(h.n_archives, 2);
    ns_qc_history_free(&h);

    rm_tree(dir);
    free(t);
}

/* A file named batch.h5 that is not HDF5, or an archive whose /qc is damaged: -1 and a
 * message naming the file. */
static void test_unreadable_archive(void **state)
{
    (void)state;
    two_t *t = calloc(1, sizeof *t);
    assert_non_null(t);
    char *dir = mkdir_tmp(), err[4096], bad[1100];
    two_nights(t, dir, "2026-11-20", "2026-11-21");
    snprintf(bad, sizeof bad, "%s/junk", dir);
    assert_int_equal(mkdir(bad, 0755), 0);
    snprintf(bad, sizeof bad, "%s/junk/batch.h5", dir);
    FILE *fp = fopen(bad, "w");
    assert_non_null(fp);
    fputs("plate_id,well\n", fp);
    fclose(fp);

    ns_qc_history_t h;
    assert_int_equal(load_capture(&h, dir, &t->n0.pf.p, 10, err, sizeof err), -1);
    assert_non_null(strstr(err, "neoscreen run: history archive "));
    assert_non_null(strstr(err, bad));
    assert_non_null(strstr(err, "not an HDF5 file"));
    assert_null(strstr(err, "HDF5-DIAG"));
    assert_null(h.obs);
    assert_null(h.archives);
    unlink(bad);

    /* a truncated archive */
    size_t len;
    {
        FILE *in = fopen(t->p1, "rb");
        assert_non_null(in);
        fseek(in, 0, SEEK_END);
        len = (size_t)ftell(in);
        fclose(in);
    }
    assert_int_equal(truncate(t->p1, (off_t)(len / 2)), 0);
    assert_int_equal(load_capture(&h, dir, &t->n0.pf.p, 10, err, sizeof err), -1);
    assert_non_null(strstr(err, t->p1));
    assert_non_null(strstr(err, "truncated"));
    assert_null(strstr(err, "HDF5-DIAG"));
    rm_tree(dir);
    free(t);
}

static void test_status_names(void **state)
{
    (void)state;
    assert_string_equal(ns_qc_status_name(NS_QC_ACCEPTED), "accepted");
    assert_string_equal(ns_qc_status_name(NS_QC_WARNING), "warning");
    assert_string_equal(ns_qc_status_name(NS_QC_REJECTED), "rejected");
    assert_string_equal(ns_qc_status_name(NS_QC_NOT_RUN), "not_run");
    assert_non_null(ns_qc_status_name(99));
}

int main(void)
{
    ns_verbosity = 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_window_values),
        cmocka_unit_test(test_order_by_night_not_path),
        cmocka_unit_test(test_analyte_mapping),
        cmocka_unit_test(test_empty_and_missing_dir),
        cmocka_unit_test(test_skipped),
        cmocka_unit_test(test_tonight_and_later_nights_skipped),
        cmocka_unit_test(test_unreadable_archive),
        cmocka_unit_test(test_status_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
