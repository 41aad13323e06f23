/* test_hearing.c — the hearing engine: every rule of the shipped protocol on the babies it
 * is for (and not on the others), hearing.csv ingest with exact FILE:LINE:COL messages,
 * the protocol loader's errors at their line and column, the en/zh texts of every key the
 * engine can give, and the bad-input corpus in tests/bad-input/hearing/:
 *
 *   NN.ok.<what>.csv        loads: no message, no row rejected
 *   NN.row.<what>.csv       usable, some rows rejected: exactly the messages of
 *                           NN.row.<what>.expected (@FILE@ = the path), nothing lost
 *   NN.unusable.<what>.csv  not usable: exactly the messages of its .expected, no rows
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../pipeline/followup.h"
#include "../../pipeline/hearing.h"
#include "../../pipeline/util.h"
#include "../../pipeline/yaml_doc.h"

#define HDR "infant_id,test_time,stage,method,left,right,nicu_days,risk_factors\n"

/* ---- helpers ----------------------------------------------------------------------------- */

static ns_hearing_config_t *shipped(void)
{
    ns_panel_errs_t e;
    ns_hearing_config_t *h = ns_hearing_config_load(NS_SRCDIR "/configs/hearing.yaml", &e);
    for (int i = 0; i < e.n; i++) print_error("hearing.yaml:%d:%d: %s\n", e.v[i].pos.line, e.v[i].pos.col, e.v[i].msg);
    assert_non_null(h);
    ns_panel_errs_free(&e);
    return h;
}

static void read_csv(ns_hearing_records_t *r, const char *text)
{
    ns_hearing_read_mem(r, "hearing.csv", text, strlen(text));
}

/* Evaluate csv (rows after the standard header) with the shipped protocol. */
static void eval_rows(const char *rows, ns_findings_t *fs, ns_hearing_stats_t *st)
{
    char *text = ns_asprintf(HDR "%s", rows);
    ns_hearing_records_t r;
    read_csv(&r, text);
    for (int64_t i = 0; i < r.n_errors; i++) print_error("%s\n", r.errors[i]);
    assert_int_equal(r.n_errors, 0);
    assert_int_equal(r.ok, 1);
    ns_hearing_config_t *h = shipped();
    memset(fs, 0, sizeof *fs);
    int n = ns_hearing_eval(h, &r, fs, st);
    assert_int_equal(n, (int)fs->n);
    ns_hearing_config_free(h);
    ns_hearing_records_free(&r);
    free(text);
}

/* eval_rows for inputs that may carry messages about kept rows (same time, ...) */
static void eval_rows_any(const char *rows, ns_findings_t *fs)
{
    char *text = ns_asprintf(HDR "%s", rows);
    ns_hearing_records_t r;
    read_csv(&r, text);
    assert_int_equal(r.ok, 1);
    assert_int_equal(r.n_rejected, 0);
    ns_hearing_config_t *h = shipped();
    memset(fs, 0, sizeof *fs);
    ns_hearing_eval(h, &r, fs, NULL);
    ns_hearing_config_free(h);
    ns_hearing_records_free(&r);
    free(text);
}

static const char *arg(const ns_finding_t *f, const char *name)
{
    for (int k = 0; k < f->n_args; k++)
        if (strcmp(f->arg_name[k], name) == 0) return f->arg[k];
    return NULL;
}

/* Assert finding f is rule `code` with its action, reason, priority and due. */
static void is_finding(const ns_finding_t *f, const char *infant, const char *code, const char *action,
                       const char *reason, int prio, int due_days)
{
    assert_string_equal(f->infant_id, infant);
    assert_string_equal(f->sample_id, "");
    assert_int_equal(f->source, NS_SRC_HEARING);
    assert_string_equal(f->code, code);
    assert_string_equal(f->action, action);
    assert_string_equal(f->reason, reason);
    assert_int_equal(f->priority, prio);
    if (due_days < 0) {
        assert_int_equal(f->due_from, NS_DUE_NONE);
    } else {
        assert_int_equal(f->due_from, NS_DUE_BIRTH);
        assert_true(f->due_hours == due_days * 24.0);
    }
}

static int has_msg(const ns_hearing_records_t *r, const char *msg)
{
    for (int64_t i = 0; i < r->n_errors; i++)
        if (strcmp(r->errors[i], msg) == 0) return 1;
    return 0;
}

static void expect_msg(const ns_hearing_records_t *r, const char *msg)
{
    if (has_msg(r, msg)) return;
    print_error("missing message: %s\ngot:\n", msg);
    for (int64_t i = 0; i < r->n_errors; i++) print_error("  %s\n", r->errors[i]);
    fail();
}

/* ---- the shipped protocol, rule by rule ------------------------------------------------- */

static void test_shipped_config_loads(void **st)
{
    (void)st;
    ns_hearing_config_t *h = shipped();
    assert_true(h->nicu_aabr_days == 5);
    static const char *const ids[] = { "risk_surveillance", "nicu_aabr_refer", "nicu_oae_after_aabr_refer",
                                       "rescreen_refer", "oae_after_aabr_refer", "nicu_oae", "initial_refer",
                                       "not_tested" };
    assert_int_equal(h->n_rules, 8);
    for (int i = 0; i < 8; i++) assert_string_equal(h->rules[i].id, ids[i]);
    assert_int_equal(h->rules[0].stop, 0);          /* surveillance is independent */
    for (int i = 1; i < 8; i++) assert_int_equal(h->rules[i].stop, 1);
    assert_int_equal((int)strlen(h->sha256), 64);
    assert_non_null(strstr(h->text, "nicu_aabr_days: 5"));
    ns_hearing_config_free(h);
}

static void test_initial_refer_unilateral(void **st)
{
    (void)st;
    ns_findings_t fs;
    ns_hearing_stats_t s;
    eval_rows("B1,2026-11-02T10:00,initial,TEOAE,refer,pass,0,\n", &fs, &s);
    assert_int_equal(fs.n, 1);
    const ns_finding_t *f = &fs.v[0];
    is_finding(f, "B1", "hearing:initial_refer", "rescreen", "hearing_refer", NS_PRIO_ROUTINE, 42);
    assert_string_equal(arg(f, "stage"), "@hearing.stage.initial");
    assert_string_equal(arg(f, "method"), "TEOAE");
    assert_string_equal(arg(f, "result"), "@hearing.result.refer");
    assert_string_equal(arg(f, "ears"), "@hearing.ears.left");
    assert_string_equal(arg(f, "test_date"), "2026-11-02");
    assert_string_equal(arg(f, "nicu_days"), "0");
    assert_string_equal(arg(f, "nicu_limit"), "5");
    assert_true(f->test_time_h == ns_parse_time_h("2026-11-02T10:00"));
    assert_int_equal(s.infants, 1);
    assert_int_equal(s.initial_screened, 1);
    assert_int_equal(s.initial_refer, 1);
    assert_int_equal(s.refer, 1);
    ns_findings_free(&fs);

    /* the right ear alone: the same rule, the ear named */
    eval_rows("B1,2026-11-02T10:00,initial,DPOAE,pass,refer,,\n", &fs, &s);
    assert_int_equal(fs.n, 1);
    is_finding(&fs.v[0], "B1", "hearing:initial_refer", "rescreen", "hearing_refer", NS_PRIO_ROUTINE, 42);
    assert_string_equal(arg(&fs.v[0], "ears"), "@hearing.ears.right");
    assert_null(arg(&fs.v[0], "nicu_days"));       /* unknown stay: no argument */
    ns_findings_free(&fs);
}

static void test_initial_refer_bilateral(void **st)
{
    (void)st;
    ns_findings_t fs;
    eval_rows("B2,2026-11-02T10:00,initial,TEOAE,refer,refer,0,\n", &fs, NULL);
    assert_int_equal(fs.n, 1);
    is_finding(&fs.v[0], "B2", "hearing:initial_refer", "rescreen", "hearing_refer", NS_PRIO_ROUTINE, 42);
    assert_string_equal(arg(&fs.v[0], "ears"), "@hearing.ears.both");
    ns_findings_free(&fs);
}

static void test_rescreen(void **st)
{
    (void)st;
    ns_findings_t fs;
    ns_hearing_stats_t s;
    /* refer at the rescreen: diagnostic audiology by 3 months, and no second rescreen */
    eval_rows("B3,2026-11-02T10:00,initial,TEOAE,refer,refer,0,\n"
              "B3,2026-11-28T09:00,rescreen,TEOAE,pass,refer,0,\n", &fs, &s);
    assert_int_equal(fs.n, 1);
    is_finding(&fs.v[0], "B3", "hearing:rescreen_refer", "audiology_referral", "hearing_refer", NS_PRIO_URGENT, 90);
    assert_string_equal(arg(&fs.v[0], "stage"), "@hearing.stage.rescreen");
    assert_string_equal(arg(&fs.v[0], "ears"), "@hearing.ears.right");
    assert_true(fs.v[0].test_time_h == ns_parse_time_h("2026-11-28T09:00"));
    assert_int_equal(s.initial_refer, 1);
    assert_int_equal(s.rescreened, 1);
    assert_int_equal(s.rescreen_refer, 1);
    ns_findings_free(&fs);

    /* pass at the rescreen: done, whatever the initial screen said */
    eval_rows("B3,2026-11-02T10:00,initial,TEOAE,refer,refer,0,\n"
              "B3,2026-11-28T09:00,rescreen,TEOAE,pass,pass,0,\n", &fs, &s);
    assert_int_equal(fs.n, 0);
    assert_int_equal(s.initial_refer, 1);
    assert_int_equal(s.rescreen_refer, 0);
    assert_int_equal(s.pass, 1);
    ns_findings_free(&fs);

    /* the stage decides, not the clock: a rescreen dated before the initial still counts
     * as the later screen, and the ingest says so */
    ns_hearing_records_t r;
    read_csv(&r, HDR "B4,2026-11-20T10:00,initial,TEOAE,refer,pass,0,\n"
                     "B4,2026-11-10T10:00,rescreen,TEOAE,refer,pass,0,\n");
    assert_int_equal(r.n, 2);
    assert_int_equal(r.n_errors, 1);
    expect_msg(&r, "hearing.csv:3:4: rescreen test_time is before the initial screen on line 2 "
                   "(kept: the rescreen still counts as the later stage)");
    ns_hearing_config_t *h = shipped();
    memset(&fs, 0, sizeof fs);
    ns_hearing_eval(h, &r, &fs, NULL);
    assert_int_equal(fs.n, 1);
    assert_string_equal(fs.v[0].code, "hearing:rescreen_refer");
    ns_findings_free(&fs);
    ns_hearing_config_free(h);
    ns_hearing_records_free(&r);
}

static void test_nicu_oae_pass_is_not_a_pass(void **st)
{
    (void)st;
    ns_findings_t fs;
    ns_hearing_stats_t s;
    eval_rows("N1,2026-11-02T10:00,initial,TEOAE,pass,pass,8,\n", &fs, &s);
    assert_int_equal(fs.n, 1);
    is_finding(&fs.v[0], "N1", "hearing:nicu_oae", "aabr_screen", "hearing_nicu_oae", NS_PRIO_ROUTINE, 42);
    assert_string_equal(arg(&fs.v[0], "nicu_days"), "8");
    assert_string_equal(arg(&fs.v[0], "nicu_limit"), "5");
    assert_string_equal(arg(&fs.v[0], "result"), "@hearing.result.pass");
    assert_string_equal(arg(&fs.v[0], "ears"), "@hearing.ears.both");
    assert_int_equal(s.nicu, 1);
    assert_int_equal(s.pass, 1);       /* the screen passed; the protocol still wants AABR */
    ns_findings_free(&fs);

    /* an OAE refer in the NICU: an AABR screen too, not an OAE rescreen */
    eval_rows("N1,2026-11-02T10:00,initial,DPOAE,refer,pass,6,\n", &fs, NULL);
    assert_int_equal(fs.n, 1);
    is_finding(&fs.v[0], "N1", "hearing:nicu_oae", "aabr_screen", "hearing_nicu_oae", NS_PRIO_ROUTINE, 42);
    ns_findings_free(&fs);

    /* then an AABR pass: done */
    eval_rows("N1,2026-11-02T10:00,initial,TEOAE,pass,pass,8,\n"
              "N1,2026-11-04T10:00,initial,AABR,pass,pass,8,\n", &fs, NULL);
    assert_int_equal(fs.n, 0);
    ns_findings_free(&fs);

    /* "over 5 days": 5 days exactly is a well baby; 5.5 is not */
    eval_rows("N2,2026-11-02T10:00,initial,TEOAE,pass,pass,5,\n", &fs, &s);
    assert_int_equal(fs.n, 0);
    assert_int_equal(s.nicu, 0);
    ns_findings_free(&fs);
    eval_rows("N2,2026-11-02T10:00,initial,TEOAE,pass,pass,5.5,\n", &fs, NULL);
    assert_int_equal(fs.n, 1);
    assert_string_equal(fs.v[0].code, "hearing:nicu_oae");
    assert_string_equal(arg(&fs.v[0], "nicu_days"), "5.5");
    ns_findings_free(&fs);

    /* the longest stay on any of the baby's rows counts (a later row may be empty) */
    eval_rows("N3,2026-11-02T10:00,initial,TEOAE,refer,pass,9,\n"
              "N3,2026-11-03T10:00,initial,TEOAE,pass,pass,,\n", &fs, NULL);
    assert_int_equal(fs.n, 1);
    assert_string_equal(fs.v[0].code, "hearing:nicu_oae");
    assert_string_equal(arg(&fs.v[0], "nicu_days"), "9");
    ns_findings_free(&fs);
}

/* Review findings: the outcome must not depend on row order when two rows share a time;
 * an AABR pass before an OAE is the NICU baby's AABR screen; Chinese "none" is no risk. */
static void test_order_and_earlier_aabr(void **st)
{
    (void)st;
    ns_findings_t a, b;
    /* NICU, AABR pass and TEOAE pass at the same time: the AABR decides, in any order */
    eval_rows_any("N1,2026-11-02T10:00,initial,AABR,pass,pass,10,\n"
                  "N1,2026-11-02T10:00,initial,TEOAE,pass,pass,10,\n", &a);
    eval_rows_any("N1,2026-11-02T10:00,initial,TEOAE,pass,pass,10,\n"
                  "N1,2026-11-02T10:00,initial,AABR,pass,pass,10,\n", &b);
    assert_int_equal(a.n, 0);
    assert_int_equal(b.n, 0);
    ns_findings_free(&a);
    ns_findings_free(&b);
    /* well baby, AABR refer left and TEOAE refer right at the same time: same outcome */
    eval_rows_any("W1,2026-11-02T10:00,initial,AABR,refer,pass,0,\n"
                  "W1,2026-11-02T10:00,initial,TEOAE,pass,refer,0,\n", &a);
    eval_rows_any("W1,2026-11-02T10:00,initial,TEOAE,pass,refer,0,\n"
                  "W1,2026-11-02T10:00,initial,AABR,refer,pass,0,\n", &b);
    assert_int_equal(a.n, 1);
    assert_int_equal(b.n, 1);
    assert_string_equal(a.v[0].code, b.v[0].code);
    assert_string_equal(arg(&a.v[0], "ears"), arg(&b.v[0], "ears"));
    ns_findings_free(&a);
    ns_findings_free(&b);
    /* NICU baby: AABR pass at 10:00, TEOAE pass at 11:00: the AABR screen is done */
    eval_rows_any("N2,2026-11-02T10:00,initial,AABR,pass,pass,10,\n"
                  "N2,2026-11-02T11:00,initial,TEOAE,pass,pass,10,\n", &a);
    assert_int_equal(a.n, 0);
    ns_findings_free(&a);
    /* "无" (none), "否", "N/A", "-": no risk factors, no surveillance */
    eval_rows_any("R1,2026-11-02T10:00,initial,TEOAE,pass,pass,0,\xe6\x97\xa0\n"
                  "R2,2026-11-02T10:00,initial,TEOAE,pass,pass,0,\xe5\x90\xa6\n"
                  "R3,2026-11-02T10:00,initial,TEOAE,pass,pass,0,N/A\n"
                  "R4,2026-11-02T10:00,initial,TEOAE,pass,pass,0,-\n", &a);
    assert_int_equal(a.n, 0);
    ns_findings_free(&a);
}

/* A rejected row might have been the refer that decides: its baby is listed to check */
static void test_rejected_row_listed(void **st)
{
    (void)st;
    char *text = ns_asprintf(HDR "%s", "J1,2026-11-02T10:00,initial,TEOAE,refer,pass,0,\n"
                                       "J1,2026-11-20T10:00,rescreen,ABR,refer,refer,0,\n"
                                       "K1,2026-11-02T10:00,initial,TEOAE,pass,pass,0,\n");
    ns_hearing_records_t r;
    read_csv(&r, text);
    assert_int_equal(r.n_rejected, 1);
    ns_hearing_config_t *h = shipped();
    ns_findings_t fs;
    memset(&fs, 0, sizeof fs);
    ns_hearing_stats_t s;
    ns_hearing_eval(h, &r, &fs, &s);
    int listed = 0;
    for (int64_t k = 0; k < fs.n; k++)
        if (!strcmp(fs.v[k].infant_id, "J1") && !strcmp(fs.v[k].code, "hearing:record_rejected")) {
            listed++;
            assert_string_equal(fs.v[k].action, "check_hearing_record");
            assert_int_equal(fs.v[k].priority, NS_PRIO_URGENT);
        }
    assert_int_equal(listed, 1);
    assert_int_equal(s.rejected_infants, 1);
    ns_findings_free(&fs);
    ns_hearing_config_free(h);
    ns_hearing_records_free(&r);
    free(text);
}

/* A NICU stay of 99999 days is a typo, not a stay: left unknown, with a message */
static void test_nicu_days_bound(void **st)
{
    (void)st;
    char *text = ns_asprintf(HDR "%s", "B1,2026-11-02T10:00,initial,TEOAE,pass,pass,99999,\n"
                                       "B2,2026-11-02T10:00,initial,TEOAE,pass,pass,365,\n");
    ns_hearing_records_t r;
    read_csv(&r, text);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.n_rejected, 0);
    assert_true(isnan(r.v[0].nicu_days));
    assert_true(r.v[1].nicu_days == 365);
    assert_int_equal(r.n_errors, 1);
    assert_non_null(strstr(r.errors[0], ":2:"));
    assert_non_null(strstr(r.errors[0], "nicu_days is not a number of days from 0 to 365 (left unknown)"));
    ns_hearing_records_free(&r);
    free(text);
}

static void test_nicu_aabr_refer_goes_to_audiology(void **st)
{
    (void)st;
    ns_findings_t fs;
    eval_rows("N4,2026-11-02T10:00,initial,AABR,pass,refer,10,\n", &fs, NULL);
    assert_int_equal(fs.n, 1);     /* no outpatient rescreen besides */
    is_finding(&fs.v[0], "N4", "hearing:nicu_aabr_refer", "audiology_referral", "hearing_nicu_aabr_refer",
               NS_PRIO_URGENT, 90);
    assert_string_equal(arg(&fs.v[0], "ears"), "@hearing.ears.right");
    assert_string_equal(arg(&fs.v[0], "nicu_days"), "10");
    ns_findings_free(&fs);

    /* a well baby's AABR refer is an ordinary initial refer: rescreen */
    eval_rows("W1,2026-11-02T10:00,initial,AABR,pass,refer,0,\n", &fs, NULL);
    assert_int_equal(fs.n, 1);
    assert_string_equal(fs.v[0].code, "hearing:initial_refer");
    ns_findings_free(&fs);

    /* ... but a later OAE pass cannot clear it (auditory neuropathy): AABR again */
    eval_rows("W1,2026-11-02T10:00,initial,AABR,pass,refer,0,\n"
              "W1,2026-11-25T10:00,rescreen,TEOAE,pass,pass,0,\n", &fs, NULL);
    assert_int_equal(fs.n, 1);
    is_finding(&fs.v[0], "W1", "hearing:oae_after_aabr_refer", "aabr_screen", "hearing_oae_after_aabr_refer",
               NS_PRIO_ROUTINE, 42);
    assert_string_equal(arg(&fs.v[0], "method"), "TEOAE");
    ns_findings_free(&fs);

    /* an AABR pass after the refer clears it, and a later OAE pass is then a pass */
    eval_rows("W1,2026-11-02T10:00,initial,AABR,pass,refer,0,\n"
              "W1,2026-11-20T10:00,rescreen,AABR,pass,pass,0,\n"
              "W1,2026-11-25T10:00,rescreen,TEOAE,pass,pass,0,\n", &fs, NULL);
    assert_int_equal(fs.n, 0);
    ns_findings_free(&fs);

    /* in the NICU, an OAE after an AABR refer leaves the direct referral standing */
    eval_rows("N5,2026-11-02T10:00,initial,AABR,refer,refer,7,\n"
              "N5,2026-11-03T10:00,initial,TEOAE,pass,pass,7,\n", &fs, NULL);
    assert_int_equal(fs.n, 1);
    is_finding(&fs.v[0], "N5", "hearing:nicu_oae_after_aabr_refer", "audiology_referral",
               "hearing_oae_after_aabr_refer", NS_PRIO_URGENT, 90);
    ns_findings_free(&fs);
}

static void test_risk_factors_surveillance(void **st)
{
    (void)st;
    ns_findings_t fs;
    ns_hearing_stats_t s;
    eval_rows("R1,2026-11-02T10:00,initial,TEOAE,pass,pass,0,family history of deafness\n", &fs, &s);
    assert_int_equal(fs.n, 1);
    is_finding(&fs.v[0], "R1", "hearing:risk_surveillance", "surveillance", "hearing_risk_factors",
               NS_PRIO_ROUTINE, -1);
    assert_int_equal(s.risk, 1);
    assert_int_equal(s.pass, 1);
    ns_findings_free(&fs);

    /* risk factors and a refer: both findings, surveillance first (rule order) */
    eval_rows("R2,2026-11-02T10:00,initial,TEOAE,refer,pass,0,1\n", &fs, NULL);
    assert_int_equal(fs.n, 2);
    assert_string_equal(fs.v[0].code, "hearing:risk_surveillance");
    assert_string_equal(fs.v[1].code, "hearing:initial_refer");
    ns_findings_free(&fs);

    /* risk factors on an earlier row only still count */
    eval_rows("R3,2026-11-02T10:00,initial,TEOAE,refer,pass,0,CMV\n"
              "R3,2026-11-30T10:00,rescreen,TEOAE,pass,pass,0,\n", &fs, NULL);
    assert_int_equal(fs.n, 1);
    assert_string_equal(fs.v[0].code, "hearing:risk_surveillance");
    ns_findings_free(&fs);

    /* flags that mean none, any case */
    eval_rows("R4,2026-11-02T10:00,initial,TEOAE,pass,pass,0,0\n"
              "R5,2026-11-02T10:00,initial,TEOAE,pass,pass,0,No\n"
              "R6,2026-11-02T10:00,initial,TEOAE,pass,pass,0,NONE\n"
              "R7,2026-11-02T10:00,initial,TEOAE,pass,pass,0,false\n", &fs, &s);
    assert_int_equal(fs.n, 0);
    assert_int_equal(s.risk, 0);
    assert_int_equal(s.infants, 4);
    ns_findings_free(&fs);
}

static void test_not_tested(void **st)
{
    (void)st;
    ns_findings_t fs;
    ns_hearing_stats_t s;
    eval_rows("T1,2026-11-02T10:00,initial,TEOAE,not_tested,pass,0,\n", &fs, &s);
    assert_int_equal(fs.n, 1);
    is_finding(&fs.v[0], "T1", "hearing:not_tested", "rescreen", "hearing_not_tested", NS_PRIO_ROUTINE, 42);
    assert_string_equal(arg(&fs.v[0], "ears"), "@hearing.ears.left");
    assert_string_equal(arg(&fs.v[0], "result"), "@hearing.result.not_tested");
    assert_int_equal(s.not_tested, 1);
    ns_findings_free(&fs);

    eval_rows("T2,2026-11-02T10:00,initial,TEOAE,not_tested,not_tested,0,\n", &fs, NULL);
    assert_int_equal(fs.n, 1);
    assert_string_equal(arg(&fs.v[0], "ears"), "@hearing.ears.both");
    ns_findings_free(&fs);

    /* a refer beside an untested ear: the refer rule, once */
    eval_rows("T3,2026-11-02T10:00,initial,TEOAE,not_tested,refer,0,\n", &fs, &s);
    assert_int_equal(fs.n, 1);
    assert_string_equal(fs.v[0].code, "hearing:initial_refer");
    assert_string_equal(arg(&fs.v[0], "ears"), "@hearing.ears.right");
    assert_int_equal(s.refer, 1);
    assert_int_equal(s.not_tested, 0);
    ns_findings_free(&fs);
}

static void test_well_baby_pass(void **st)
{
    (void)st;
    ns_findings_t fs;
    ns_hearing_stats_t s;
    eval_rows("W2,2026-11-02T10:00,initial,TEOAE,pass,pass,0,\n"
              "W3,2026-11-02T10:00,initial,AABR,pass,pass,0,no\n"
              "W4,2026-11-02T10:00,initial,DPOAE,pass,pass,,\n", &fs, &s);
    assert_int_equal(fs.n, 0);
    assert_int_equal(s.infants, 3);
    assert_int_equal(s.pass, 3);
    assert_int_equal(s.with_findings, 0);
    assert_int_equal(s.findings, 0);
    assert_int_equal(s.nicu_unknown, 1);   /* W4: treated as a well baby, but counted */
    ns_findings_free(&fs);

    /* a second attempt before discharge supersedes the first */
    eval_rows("W5,2026-11-02T10:00,initial,TEOAE,refer,pass,0,\n"
              "W5,2026-11-03T10:00,initial,TEOAE,pass,pass,0,\n", &fs, &s);
    assert_int_equal(fs.n, 0);
    assert_int_equal(s.initial_refer, 0);  /* the latest initial record counts */
    ns_findings_free(&fs);
}

/* Many babies, rows shuffled: findings come out by infant_id then rule order, the same for
 * any row order; the counts add up. */
static void test_order_and_stats(void **st)
{
    (void)st;
    const char *rows[] = {
        "C9,2026-11-02T10:00,initial,TEOAE,refer,pass,0,\n",
        "A1,2026-11-02T10:00,initial,TEOAE,pass,pass,0,x\n",
        "B5,2026-11-02T10:00,initial,AABR,refer,refer,20,yes\n",
        "A1,2026-11-03T10:00,initial,TEOAE,refer,pass,0,\n",
        "C9,2026-12-01T10:00,rescreen,TEOAE,pass,pass,0,\n",
        "D0,2026-11-02T10:00,initial,TEOAE,pass,not_tested,0,\n",
        "A2,2026-11-02T10:00,initial,TEOAE,refer,refer,0,\n",
        "A2,2026-12-01T10:00,rescreen,DPOAE,refer,pass,0,\n",
    };
    const int n = (int)(sizeof rows / sizeof *rows);
    char fwd[1024] = "", rev[1024] = "";
    for (int i = 0; i < n; i++) {
        strcat(fwd, rows[i]);
        strcat(rev, rows[n - 1 - i]);
    }
    ns_findings_t a, b;
    ns_hearing_stats_t s, s2;
    eval_rows(fwd, &a, &s);
    eval_rows(rev, &b, &s2);
    static const char *const want[][2] = {
        { "A1", "hearing:risk_surveillance" }, { "A1", "hearing:initial_refer" },
        { "A2", "hearing:rescreen_refer" },
        { "B5", "hearing:risk_surveillance" }, { "B5", "hearing:nicu_aabr_refer" },
        { "D0", "hearing:not_tested" } };
    assert_int_equal(a.n, 6);
    assert_int_equal(b.n, 6);
    for (int i = 0; i < 6; i++) {
        assert_string_equal(a.v[i].infant_id, want[i][0]);
        assert_string_equal(a.v[i].code, want[i][1]);
        assert_string_equal(b.v[i].infant_id, want[i][0]);
        assert_string_equal(b.v[i].code, want[i][1]);
        assert_int_equal(a.v[i].n_args, b.v[i].n_args);
        for (int k = 0; k < a.v[i].n_args; k++) assert_string_equal(a.v[i].arg[k], b.v[i].arg[k]);
    }
    assert_memory_equal(&s, &s2, sizeof s);
    assert_int_equal(s.records, 8);
    assert_int_equal(s.rec_result[NS_HEAR_PASS], 2);     /* A1's first, C9's rescreen */
    assert_int_equal(s.rec_result[NS_HEAR_REFER], 5);
    assert_int_equal(s.rec_result[NS_HEAR_NOT_TESTED], 1);
    assert_int_equal(s.infants, 5);
    assert_int_equal(s.initial_screened, 5);
    assert_int_equal(s.initial_refer, 4);    /* A1 (latest initial), A2, B5, C9 */
    assert_int_equal(s.rescreened, 2);
    assert_int_equal(s.rescreen_refer, 1);
    assert_int_equal(s.pass + s.refer + s.not_tested, s.infants);
    assert_int_equal(s.pass, 1);             /* C9 */
    assert_int_equal(s.refer, 3);
    assert_int_equal(s.not_tested, 1);
    assert_int_equal(s.nicu, 1);
    assert_int_equal(s.risk, 2);
    assert_int_equal(s.with_findings, 4);
    assert_int_equal(s.findings, 6);
    ns_findings_free(&a);
    ns_findings_free(&b);

    /* findings of other screens already in the list stay, hearing ones are appended */
    ns_hearing_records_t r;
    read_csv(&r, HDR "Z1,2026-11-02T10:00,initial,TEOAE,refer,pass,0,\n");
    ns_hearing_config_t *h = shipped();
    ns_findings_t fs;
    memset(&fs, 0, sizeof fs);
    ns_findings_add(&fs, "M1", NS_SRC_MSMS);
    assert_int_equal(ns_hearing_eval(h, &r, &fs, NULL), 1);
    assert_int_equal(fs.n, 2);
    assert_string_equal(fs.v[0].infant_id, "M1");
    assert_string_equal(fs.v[1].code, "hearing:initial_refer");
    assert_int_equal(ns_hearing_eval(NULL, &r, &fs, NULL), -1);
    assert_int_equal(ns_hearing_eval(h, NULL, &fs, NULL), -1);
    ns_findings_free(&fs);
    ns_hearing_config_free(h);
    ns_hearing_records_free(&r);
}

/* Rows of the same infant, stage and time: identical copies pass silently; different
 * results are both kept, reported, and the worse one decides. */
static void test_same_time_rows(void **st)
{
    (void)st;
    ns_hearing_records_t r;
    read_csv(&r, HDR "D1,2026-11-02T10:00,initial,TEOAE,pass,pass,0,\n"
                     "D1,2026-11-02T10:00,initial,TEOAE,pass,pass,0,\n");
    assert_int_equal(r.n_errors, 0);
    assert_int_equal(r.n, 2);
    ns_hearing_records_free(&r);

    read_csv(&r, HDR "D2,2026-11-02T10:00,initial,TEOAE,refer,pass,0,\n"
                     "D2,2026-11-02T10:00,initial,TEOAE,pass,pass,0,\n");
    assert_int_equal(r.n, 2);
    assert_int_equal(r.n_rejected, 0);
    assert_int_equal(r.n_errors, 1);
    expect_msg(&r, "hearing.csv:3:35: same infant, stage and test_time as line 2 with a different left: "
                   "both kept, the worse result counts");
    ns_hearing_config_t *h = shipped();
    ns_findings_t fs;
    memset(&fs, 0, sizeof fs);
    ns_hearing_eval(h, &r, &fs, NULL);
    assert_int_equal(fs.n, 1);
    assert_string_equal(fs.v[0].code, "hearing:initial_refer");   /* the refer, not the later pass */
    ns_findings_free(&fs);
    ns_hearing_config_free(h);
    ns_hearing_records_free(&r);
}

/* Rule semantics on a protocol of the test's own: every matching rule fires in file order,
 * stop ends the list, lists of values, nicu: true/false/unknown against nicu_aabr_days. */
static void test_rule_semantics(void **st)
{
    (void)st;
    const char *y =
        "hearing:\n"
        "  nicu_aabr_days: 3\n"
        "  rules:\n"
        "    - {id: risk, when: {risk_factors: true}, action: surveillance,\n"
        "       reason: hearing_risk_factors, priority: routine}\n"
        "    - {id: refer_any, when: {result: refer}, action: rescreen, reason: hearing_refer,\n"
        "       priority: routine, due: {days_of_life: 30}}\n"
        "    - {id: refer_stop, when: {result: refer, stage: [initial, rescreen]},\n"
        "       action: audiology_referral, reason: hearing_refer, priority: critical, stop: true}\n"
        "    - {id: after_stop, when: {result: refer}, action: rescreen, reason: hearing_refer,\n"
        "       priority: routine}\n"
        "    - {id: nt_unknown, when: {nicu: unknown, result: not_tested}, action: aabr_screen,\n"
        "       reason: hearing_not_tested, priority: urgent}\n"
        "    - {id: nt_nicu, when: {nicu: true, result: not_tested}, action: aabr_screen,\n"
        "       reason: hearing_not_tested, priority: urgent}\n"
        "    - {id: nt_well, when: {nicu: false, result: not_tested, method: [DPOAE, AABR]},\n"
        "       action: rescreen, reason: hearing_not_tested, priority: routine}\n";
    ns_panel_errs_t e;
    ns_hearing_config_t *h = ns_hearing_config_load_mem("t.yaml", y, strlen(y), &e);
    for (int i = 0; i < e.n; i++) print_error("%d:%d: %s\n", e.v[i].pos.line, e.v[i].pos.col, e.v[i].msg);
    assert_non_null(h);
    assert_int_equal(h->n_rules, 7);
    assert_int_equal(h->rules[2].pos.line, 8);
    assert_int_equal(h->rules[1].when[NS_HCOND_RESULT], 1u << NS_HEAR_REFER);
    assert_int_equal(h->rules[1].when[NS_HCOND_STAGE], ~0u);          /* absent: anything */
    assert_int_equal(h->rules[2].when[NS_HCOND_STAGE], 3u);
    ns_hearing_records_t r;
    read_csv(&r, HDR "S1,2026-11-02T10:00,initial,TEOAE,refer,pass,0,yes\n"
                     "S2,2026-11-02T10:00,rescreen,TEOAE,pass,refer,0,\n"
                     "S3,2026-11-02T10:00,initial,TEOAE,not_tested,pass,,\n"
                     "S4,2026-11-02T10:00,initial,TEOAE,not_tested,pass,4,\n"
                     "S5,2026-11-02T10:00,initial,TEOAE,not_tested,pass,3,\n"
                     "S6,2026-11-02T10:00,initial,DPOAE,not_tested,pass,3,\n");
    assert_int_equal(r.n_errors, 0);
    ns_findings_t fs;
    memset(&fs, 0, sizeof fs);
    ns_hearing_stats_t s;
    assert_int_equal(ns_hearing_eval(h, &r, &fs, &s), 8);
    static const char *const want[][2] = {
        { "S1", "hearing:risk" }, { "S1", "hearing:refer_any" }, { "S1", "hearing:refer_stop" },
        { "S2", "hearing:refer_any" }, { "S2", "hearing:refer_stop" },
        { "S3", "hearing:nt_unknown" }, { "S4", "hearing:nt_nicu" }, { "S6", "hearing:nt_well" } };
    for (int i = 0; i < 8; i++) {
        assert_string_equal(fs.v[i].infant_id, want[i][0]);
        assert_string_equal(fs.v[i].code, want[i][1]);
    }
    is_finding(&fs.v[1], "S1", "hearing:refer_any", "rescreen", "hearing_refer", NS_PRIO_ROUTINE, 30);
    is_finding(&fs.v[2], "S1", "hearing:refer_stop", "audiology_referral", "hearing_refer", NS_PRIO_CRITICAL, -1);
    assert_string_equal(arg(&fs.v[6], "nicu_limit"), "3");
    assert_string_equal(arg(&fs.v[6], "nicu_days"), "4");
    assert_int_equal(s.with_findings, 5);     /* S5: TEOAE, well: no rule */
    assert_int_equal(s.nicu, 1);
    assert_int_equal(s.nicu_unknown, 1);
    ns_findings_free(&fs);
    ns_hearing_records_free(&r);
    ns_panel_errs_free(&e);
    ns_hearing_config_free(h);
}

/* ---- ingest ------------------------------------------------------------------------------ */

static void test_ingest_values(void **st)
{
    (void)st;
    ns_hearing_records_t r;
    read_csv(&r, "Right , LEFT,Stage,Infant_ID,Method,Test_Time,hospital,Risk_Factors,NICU_Days\r\n"
                 "pass,Refer,INITIAL,I1,teoae,2026-11-02 10:00,General,\"hearing loss, mother\",3\r\n"
                 "Not Tested,not-tested,Rescreen,I1,AaBr,2026-11-30T08:00:30Z,General,,\r\n");
    assert_int_equal(r.n_errors, 0);
    assert_int_equal(r.ok, 1);
    assert_int_equal(r.n_read, 2);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.encoding, "utf-8");
    const ns_hearing_rec_t *a = &r.v[0], *b = &r.v[1];   /* sorted: initial first */
    assert_string_equal(a->infant_id, "I1");
    assert_int_equal(a->stage, NS_HSTAGE_INITIAL);
    assert_int_equal(a->method, NS_HMETHOD_TEOAE);
    assert_int_equal(a->ear[NS_HEAR_LEFT], NS_HEAR_REFER);
    assert_int_equal(a->ear[NS_HEAR_RIGHT], NS_HEAR_PASS);
    assert_true(a->nicu_days == 3);
    assert_int_equal(a->risk, 1);
    assert_string_equal(a->risk_factors, "hearing loss, mother");
    assert_true(a->test_time_h == ns_parse_time_h("2026-11-02T10:00"));
    assert_int_equal(a->line, 2);
    assert_int_equal(a->at[NS_HCOL_LEFT].col, 6);
    assert_int_equal(b->stage, NS_HSTAGE_RESCREEN);
    assert_int_equal(b->method, NS_HMETHOD_AABR);
    assert_int_equal(b->ear[NS_HEAR_LEFT], NS_HEAR_NOT_TESTED);
    assert_int_equal(b->ear[NS_HEAR_RIGHT], NS_HEAR_NOT_TESTED);
    assert_true(isnan(b->nicu_days));
    assert_int_equal(b->risk, 0);
    assert_string_equal(b->risk_factors, "");
    assert_int_equal(b->line, 3);
    ns_hearing_records_free(&r);
}

/* Every kind of bad row, each message at its line and column; nothing lost; no value
 * (infant ID, risk-factor text) in any message. */
static void test_ingest_row_errors(void **st)
{
    (void)st;
    ns_hearing_records_t r;
    read_csv(&r, HDR                                                                   /* 1 */
             "A1,2026-11-02T10:00,initial,TEOAE,pass,pass,0,\n"                       /* 2 ok */
             "A2,2026-11-02T10:00,inital,TEOAE,pass,pass,0,\n"                        /* 3 stage */
             "A3,2026-11-02T10:00,initial,TEOAE,pass,fail,0,\n"                       /* 4 right */
             "A4,2026-02-29T10:00,initial,TEOAE,pass,pass,0,\n"                       /* 5 time */
             "A5,2026-11-02T10:00,initial,TEOAE,pass,pass,0\n"                        /* 6 7 fields */
             "A6,2026-11-02T10:00,initial,TEOAE,pass,pass,0,,extra\n"                 /* 7 9 fields */
             ",2026-11-02T10:00,initial,TEOAE,pass,pass,0,\n"                         /* 8 no id */
             "A7,2026-11-02T10:00,initial,OAE,refer,pass,abc,SECRET-RISK\n"           /* 9 method */
             "A8,2026-11-02T10:00,initial,TEOAE,refer,pass,7d,SECRET-RISK\n"          /* 10 nicu: kept */
             "A9,2026-11-02T10:00,initial,TEOAE,,pass,0,\n"                           /* 11 left empty */
             "B1,,rescreen,DPOAE,pass,pass,-1,\n"                                     /* 12 time empty */
             "B2,2026-11-02T10:00,initial,\"TEOAE\"x,pass,pass,0,\n"                  /* 13 CSV syntax */
             "B3,2026-11-02T10:00,,,pass,maybe,0,\n"                                  /* 14 three bad */
             "B4,2026-11-02T10:00,initial,TEOAE,pass,pass,0x10,\n");                  /* 15 hex: kept */
    assert_int_equal(r.ok, 1);
    expect_msg(&r, "hearing.csv:3:21: stage is not initial or rescreen (row rejected)");
    expect_msg(&r, "hearing.csv:4:40: right is not pass, refer or not_tested (row rejected)");
    expect_msg(&r, "hearing.csv:5:4: test_time is not a date and time YYYY-MM-DDTHH:MM[:SS] (row rejected)");
    expect_msg(&r, "hearing.csv:6:46: row has 7 fields, the header has 8 (row rejected)");
    expect_msg(&r, "hearing.csv:7:48: row has 9 fields, the header has 8 (row rejected)");
    expect_msg(&r, "hearing.csv:8:1: empty infant_id (row rejected)");
    expect_msg(&r, "hearing.csv:9:29: method is not TEOAE, DPOAE or AABR (row rejected)");
    expect_msg(&r, "hearing.csv:10:46: nicu_days is not a number of days from 0 to 365 (left unknown)");
    expect_msg(&r, "hearing.csv:11:35: left is empty: expected pass, refer or not_tested (row rejected)");
    expect_msg(&r, "hearing.csv:12:4: empty test_time (row rejected)");
    expect_msg(&r, "hearing.csv:14:21: empty stage (expected initial or rescreen) (row rejected)");
    expect_msg(&r, "hearing.csv:14:22: empty method (expected TEOAE, DPOAE or AABR) (row rejected)");
    expect_msg(&r, "hearing.csv:14:28: right is not pass, refer or not_tested (row rejected)");
    expect_msg(&r, "hearing.csv:15:45: nicu_days is not a number of days from 0 to 365 (left unknown)");
    int csv_syntax = 0;
    for (int64_t i = 0; i < r.n_errors; i++) {
        csv_syntax += strncmp(r.errors[i], "hearing.csv:13:", 15) == 0;
        /* positions and problems only: never a value of the row */
        assert_null(strstr(r.errors[i], "SECRET"));
        assert_null(strstr(r.errors[i], "A7"));
        assert_null(strstr(r.errors[i], "inital"));
        assert_null(strstr(r.errors[i], "fail,"));
    }
    assert_int_equal(csv_syntax, 1);
    assert_int_equal(r.n_errors, 15);
    assert_int_equal(r.n_read, 14);
    assert_int_equal(r.n, 3);               /* A1, A8 and B4 */
    assert_int_equal(r.n_rejected, 11);
    assert_int_equal(r.n_read, r.n + r.n_rejected);
    assert_string_equal(r.v[0].infant_id, "A1");
    assert_string_equal(r.v[1].infant_id, "A8");
    assert_true(isnan(r.v[1].nicu_days));
    assert_true(isnan(r.v[2].nicu_days));     /* B4: not 16 */
    assert_int_equal(r.v[1].ear[NS_HEAR_LEFT], NS_HEAR_REFER);  /* the refer is not lost */
    ns_hearing_records_free(&r);

    /* an infant_id too long for the follow-up list is rejected, not cut */
    char *text = ns_asprintf(HDR "%064d,2026-11-02T10:00,initial,TEOAE,pass,pass,0,\n", 7);
    read_csv(&r, text);
    expect_msg(&r, "hearing.csv:2:1: infant_id is longer than 63 bytes (row rejected)");
    assert_int_equal(r.n_rejected, 1);
    ns_hearing_records_free(&r);
    free(text);
}

static void test_ingest_unusable(void **st)
{
    (void)st;
    ns_hearing_records_t r;
    read_csv(&r, "infant_id,test_time,stage,method,left,right\n"
                 "A1,2026-11-02T10:00,initial,TEOAE,pass,pass\n");
    assert_int_equal(r.ok, 0);
    assert_int_equal(r.n, 0);
    assert_int_equal(r.n_errors, 2);
    expect_msg(&r, "hearing.csv:1:1: missing column 'nicu_days' (leave a cell empty for an unknown stay): "
                   "the hearing records cannot be used");
    expect_msg(&r, "hearing.csv:1:1: missing column 'risk_factors' (leave a cell empty for none): "
                   "the hearing records cannot be used");
    ns_hearing_records_free(&r);

    read_csv(&r, "");
    assert_int_equal(r.ok, 0);
    expect_msg(&r, "hearing.csv:1:1: empty file (no header row): the hearing records cannot be used");
    ns_hearing_records_free(&r);

    /* not text at all: the first bad byte's position */
    read_csv(&r, HDR "A1,2026-11-02T10:00,initial,TEOAE,pass,pass,0,\xff\xfe\n");
    assert_int_equal(r.ok, 0);
    assert_int_equal(r.n_errors, 1);
    assert_non_null(strstr(r.errors[0], "hearing.csv:2:"));
    assert_non_null(strstr(r.errors[0], ": the hearing records cannot be used"));
    ns_hearing_records_free(&r);

    assert_int_equal(ns_hearing_read(&r, NS_SRCDIR "/tests/no/such/hearing.csv"), 1);
    assert_int_equal(r.ok, 0);
    assert_string_equal(r.errors[0], NS_SRCDIR "/tests/no/such/hearing.csv: cannot read: No such file or directory");
    ns_hearing_records_free(&r);
}

static void test_ingest_bom_crlf_and_gbk(void **st)
{
    (void)st;
    ns_hearing_records_t r;
    read_csv(&r, "\xEF\xBB\xBF" "infant_id,test_time,stage,method,left,right,nicu_days,risk_factors\r\n"
                 "G1,2026-11-02T10:00,initial,TEOAE,refer,pass,0,\r\n"
                 "G2,2026-11-02T10:00,inital,TEOAE,refer,pass,0,\r\n");
    assert_int_equal(r.ok, 1);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.v[0].ear[NS_HEAR_LEFT], NS_HEAR_REFER);
    assert_string_equal(r.v[0].risk_factors, "");    /* no stray CR */
    assert_int_equal(r.n_errors, 1);
    /* the BOM takes no column */
    expect_msg(&r, "hearing.csv:3:21: stage is not initial or rescreen (row rejected)");
    ns_hearing_records_free(&r);

    /* GBK: risk text 家族史 (BC D2 D7 E5 CA B7) before a bad nicu_days; columns count
     * characters: risk_factors starts at 45, so the bad cell is at 45 + 3 + 1 = 49 (in
     * bytes of UTF-8 it would be 55, in GBK bytes 52) */
    read_csv(&r, "infant_id,test_time,stage,method,left,right,risk_factors,nicu_days\n"
                 "K1,2026-11-02T10:00,initial,TEOAE,pass,pass,\xBC\xD2\xD7\xE5\xCA\xB7,x\n"
                 "K2,2026-11-02T10:00,initial,AABR,pass,pass,\xD4\xE7\xB2\xFA,12\n");
    assert_int_equal(r.ok, 1);
    assert_string_equal(r.encoding, "gbk");
    assert_int_equal(r.n, 2);
    assert_string_equal(r.v[0].risk_factors, "\xe5\xae\xb6\xe6\x97\x8f\xe5\x8f\xb2");   /* UTF-8 now */
    assert_int_equal(r.v[0].risk, 1);
    assert_true(r.v[1].nicu_days == 12);
    assert_int_equal(r.n_errors, 1);
    expect_msg(&r, "hearing.csv:2:49: nicu_days is not a number of days from 0 to 365 (left unknown)");
    ns_hearing_records_free(&r);
}

/* tests/bad-input/hearing/: names state the outcome; .expected files hold the stderr of
 * `neoscreen run` on the file (tests/bad-input/check.py), whose lines
 * "neoscreen run: @DIR@/hearing.csv:LINE:COL: what" are this reader's messages. */
static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void test_bad_input_corpus(void **st)
{
    (void)st;
    const char *dir = NS_SRCDIR "/tests/bad-input/hearing";
    const char *prefix = "neoscreen run: @DIR@/hearing.csv:";
    DIR *d = opendir(dir);
    assert_non_null(d);
    char *names[64];
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < 64) {
        size_t l = strlen(de->d_name);
        if (l > 4 && strcmp(de->d_name + l - 4, ".csv") == 0) names[n++] = ns_strdup(de->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    int seen[5] = { 0 };   /* by kind */
    for (int i = 0; i < n; i++) {
        char *path = ns_asprintf("%s/%s", dir, names[i]);
        /* 0 clean (ok, or unmatched: babies the manifest does not know), 1 rows rejected,
         * 2 unusable, 3 notes about kept rows */
        int kind = strstr(names[i], ".ok.") || strstr(names[i], ".unmatched.") ? 0 : strstr(names[i], ".row.") ? 1
                 : strstr(names[i], ".unusable.") ? 2 : strstr(names[i], ".note.") ? 3 : -1;
        if (kind < 0) { print_error("%s: name is not NN.ok|unmatched|row|unusable|note.<what>.csv\n", names[i]); fail(); }
        seen[kind]++;
        ns_hearing_records_t r;
        ns_hearing_read(&r, path);
        char *exp_path = ns_asprintf("%.*s.expected", (int)(strlen(path) - 4), path);
        char *exp = NULL;
        size_t len;
        int n_exp = 0;
        if (ns_read_file(exp_path, &exp, &len) == 0) {
            for (char *line = strtok(exp, "\n"); line; line = strtok(NULL, "\n")) {
                if (strncmp(line, prefix, strlen(prefix)) != 0 || !isdigit((unsigned char)line[strlen(prefix)])) continue;
                char *want = ns_asprintf("%s:%s", path, line + strlen(prefix));
                expect_msg(&r, want);
                free(want);
                n_exp++;
            }
        }
        if (r.n_errors != n_exp) {
            for (int64_t k = 0; k < r.n_errors; k++) print_error("%s: %s\n", names[i], r.errors[k]);
            fail();
        }
        if (kind == 0 || kind == 3) {
            assert_int_equal(r.ok, 1);
            assert_true(r.n > 0);
            assert_int_equal(r.n_rejected, 0);
            assert_true(kind == 0 ? r.n_errors == 0 : r.n_errors > 0);
        } else if (kind == 1) {
            assert_int_equal(r.ok, 1);
            assert_true(r.n_rejected > 0);
        } else {
            assert_int_equal(r.ok, 0);
            assert_int_equal(r.n, 0);
            assert_true(r.n_errors > 0);
        }
        assert_int_equal(r.n_read, r.n + r.n_rejected);
        free(exp);
        free(exp_path);
        ns_hearing_records_free(&r);
        free(path);
        free(names[i]);
    }
    assert_true(seen[0] >= 3 && seen[1] >= 3 && seen[2] >= 3);
}

/* ---- protocol loader errors -------------------------------------------------------------- */

typedef struct { int line, col; const char *msg; } want_t;

static void expect_errs(const char *yaml, const want_t *w, int n)
{
    ns_panel_errs_t e;
    ns_hearing_config_t *h = ns_hearing_config_load_mem("h.yaml", yaml, strlen(yaml), &e);
    assert_null(h);
    int ok = e.n == n;
    for (int i = 0; i < n; i++) {
        int found = 0;
        for (int k = 0; k < e.n; k++)
            found |= e.v[k].pos.line == w[i].line && e.v[k].pos.col == w[i].col && strcmp(e.v[k].msg, w[i].msg) == 0;
        if (!found) { print_error("missing %d:%d: %s\n", w[i].line, w[i].col, w[i].msg); ok = 0; }
    }
    if (!ok) {
        for (int k = 0; k < e.n; k++) print_error("got %d:%d: %s\n", e.v[k].pos.line, e.v[k].pos.col, e.v[k].msg);
        fail();
    }
    ns_panel_errs_free(&e);
}

static void test_config_errors(void **st)
{
    (void)st;
    const char *y =
        "hearing:\n"                                                       /* 1 */
        "  nicu_aabr_days: -1\n"                                           /* 2 */
        "  colour: blue\n"                                                 /* 3 */
        "  rules:\n"                                                       /* 4 */
        "    - id: a\n"                                                    /* 5 */
        "      when: {stage: initial, result: refer}\n"                    /* 6 */
        "      action: rescreen\n"                                         /* 7 */
        "      reason: hearing_refer\n"                                    /* 8 */
        "      priority: routine\n"                                        /* 9 */
        "      due: {days_of_life: 42.5}\n"                                /* 10 */
        "    - id: a\n"                                                    /* 11 */
        "      when: {method: OAE, nicu_stay: true}\n"                     /* 12 */
        "      action: refer\n"                                            /* 13 */
        "      reason: hearing_refer\n"                                    /* 14 */
        "      priorty: urgent\n"                                          /* 15 */
        "    - id: b\n"                                                    /* 16 */
        "      when: {stage: initial}\n"                                   /* 17 */
        "      action: rescreen\n"                                         /* 18 */
        "      reason: hearing_refer\n"                                    /* 19 */
        "      priority: routine\n"                                        /* 20 */
        "      stop: yes\n"                                                /* 21 */
        "    - id: c d\n"                                                  /* 22 */
        "      when: {}\n"                                                 /* 23 */
        "      action: rescreen\n"                                         /* 24 */
        "      reason: hearing_not_tested\n"                               /* 25 */
        "      priority: routine\n"                                        /* 26 */
        "    - id: e\n"                                                    /* 27 */
        "      when: {result: [refer, refer], nicu: maybe}\n"              /* 28 */
        "      action: audiology_referral\n"                               /* 29 */
        "      reason: hearing_nicu_oae\n"                                 /* 30 */
        "      priority: soon\n"                                           /* 31 */
        "      due: {days: 90}\n"                                          /* 32 */
        "    - id: f\n"                                                    /* 33 */
        "      when: {method: [TEOAE, AABR], nicu: true}\n"                /* 34 */
        "      action: aabr_screen\n"                                      /* 35 */
        "      reason: hearing_nicu_oae\n"                                 /* 36 */
        "      priority: routine\n"                                        /* 37 */
        "      due: {days_of_life: abc}\n";                                /* 38 */
    const want_t w[] = {
        { 2, 19, "hearing: 'nicu_aabr_days' must be a number of days from 0 to 365, not -1" },
        { 3, 3, "unknown key 'colour' in hearing (allowed: name, nicu_aabr_days, rules)" },
        { 10, 27, "rule 'a': due: 'days_of_life' must be a whole number of days from 1 to 3650, not 42.5" },
        { 11, 11, "duplicate rule id 'a' (first at line 5)" },
        { 12, 22, "rule 'a': when.method: unknown value 'OAE' (expected TEOAE, DPOAE or AABR)" },
        { 12, 27, "unknown key 'nicu_stay' in rule 'a': when (allowed: stage, method, result, nicu, "
                  "risk_factors, aabr_refer_before, aabr_pass_before)" },
        { 13, 15, "rule 'a': 'action' must be one of rescreen, aabr_screen, audiology_referral, "
                  "surveillance, not 'refer'" },
        { 15, 7, "unknown key 'priorty' in rule 'a' (allowed: id, when, action, reason, priority, due, stop)" },
        { 11, 7, "rule 'a': missing 'priority'" },
        { 19, 15, "rule 'b': reason hearing_refer says result is refer, but 'when' does not make sure "
                  "of it (when.result must be refer)" },
        { 21, 13, "rule 'b': 'stop' must be one of false, true, not 'yes'" },
        { 22, 11, "hearing.rules[4]: id 'c d' may hold only letters, digits, '_', '-' and '.'" },
        { 23, 13, "hearing.rules[4]: 'when' is empty: the rule would fire for every screened baby" },
        { 28, 30, "rule 'e': when.result lists 'refer' twice" },
        { 28, 44, "rule 'e': when.nicu: unknown value 'maybe' (expected false, true or unknown)" },
        { 31, 17, "rule 'e': 'priority' must be one of critical, urgent, routine, not 'soon'" },
        { 32, 13, "unknown key 'days' in rule 'e': due (allowed: days_of_life)" },
        { 32, 12, "rule 'e': due: missing 'days_of_life' (leave 'due' out for no deadline)" },
        { 36, 15, "rule 'f': reason hearing_nicu_oae says method is TEOAE and/or DPOAE, but 'when' does "
                  "not make sure of it (when.method must be TEOAE and/or DPOAE)" },
        { 38, 27, "rule 'f': due: 'days_of_life' must be a number, not 'abc'" },
    };
    expect_errs(y, w, (int)(sizeof w / sizeof *w));
}

static void test_config_errors_structure(void **st)
{
    (void)st;
    const want_t empty[] = { { 1, 1, "empty file: expected a 'hearing:' section (nicu_aabr_days, rules)" } };
    expect_errs("", empty, 1);
    const want_t other[] = { { 1, 1, "unknown key 'qc' in the top level (allowed: hearing)" },
                             { 1, 1, "missing 'hearing:' section (nicu_aabr_days, rules)" } };
    expect_errs("qc: {}\n", other, 2);
    const want_t missing[] = {
        { 2, 3, "hearing: missing 'nicu_aabr_days' (a NICU stay longer than this many days requires an "
                "AABR screen; JCIH 2007: 5)" },
        { 2, 3, "hearing: missing 'rules' (the protocol: a list of rules)" } };
    expect_errs("hearing:\n  name: x\n", missing, 2);
    const want_t norules[] = {
        { 2, 39, "hearing.rules must be a non-empty list of rules (- id: ..., when: ..., action: ..., "
                 "reason: ..., priority: ...)" } };
    expect_errs("hearing:\n  {nicu_aabr_days: 5, name: x, rules: []}\n", norules, 1);
    const want_t rule_missing[] = {
        { 4, 7, "hearing.rules[1]: missing 'id'" },
        { 4, 7, "hearing.rules[1]: missing 'when' (the facts the rule applies to, e.g. {stage: initial, "
                "result: refer})" },
        { 4, 7, "hearing.rules[1]: missing 'action'" },
        { 4, 7, "hearing.rules[1]: missing 'reason'" },
        { 4, 7, "hearing.rules[1]: missing 'priority'" } };
    expect_errs("hearing:\n  nicu_aabr_days: 5\n  rules:\n    - stop: true\n", rule_missing, 5);
    /* a syntax error: its own line and column, nothing else */
    ns_panel_errs_t e;
    assert_null(ns_hearing_config_load_mem("h.yaml", "hearing:\n  rules: [a\n", 21, &e));
    assert_int_equal(e.n, 1);
    assert_int_equal(e.v[0].pos.line, 3);
    assert_non_null(strstr(e.v[0].msg, "YAML syntax error"));
    ns_panel_errs_free(&e);
    assert_null(ns_hearing_config_load(NS_SRCDIR "/configs/no-such-hearing.yaml", &e));
    assert_int_equal(e.n, 1);
    assert_string_equal(e.v[0].msg, "cannot read: No such file or directory");
    ns_panel_errs_free(&e);
}

/* ---- translations ------------------------------------------------------------------------ */

/* Placeholders of a template, as "{a}{b}" in order of first appearance, into out. */
static void placeholders(const char *t, char *out, size_t n)
{
    out[0] = 0;
    for (const char *p = strchr(t, '{'); p; p = strchr(p + 1, '{')) {
        const char *q = strchr(p, '}');
        assert_non_null(q);
        char ph[40];
        snprintf(ph, sizeof ph, "%.*s", (int)(q - p + 1), p);
        if (!strstr(out, ph)) strncat(out, ph, n - strlen(out) - 1);
    }
}

/* Every action and reason the engine can give has en and zh texts in configs/lang.yaml;
 * both languages use the same placeholders; each is an arg the engine gives with that
 * reason ({nicu_days} only with reasons whose rules must test nicu: true). */
static void test_translations(void **st)
{
    (void)st;
    char *text;
    size_t len;
    assert_int_equal(ns_read_file(NS_SRCDIR "/configs/lang.yaml", &text, &len), 0);
    ns_panel_errs_t e;
    memset(&e, 0, sizeof e);
    ns_yaml_t y;
    assert_int_equal(ns_yaml_parse(&y, text, len, &e), 0);
    assert_int_equal(e.n, 0);
    yaml_node_t *root = ns_yaml_get(&y, ns_yaml_root(&y), "text");
    assert_non_null(root);
    const char *base = "{stage}{method}{result}{ears}{test_date}{nicu_limit}";
    for (int kind = 0; kind < 2; kind++)
        for (int i = 0; ; i++) {
            const char *name = kind == 0 ? ns_hearing_action_name(i) : ns_hearing_reason_name(i);
            if (!name) break;
            char key[64];
            snprintf(key, sizeof key, "%s.%s", kind == 0 ? "action" : "reason", name);
            yaml_node_t *v = ns_yaml_get(&y, root, key);
            if (!v) { print_error("%s: not in configs/lang.yaml\n", key); fail(); }
            const char *en = ns_yaml_scalar(ns_yaml_get(&y, v, "en"));
            const char *zh = ns_yaml_scalar(ns_yaml_get(&y, v, "zh"));
            assert_non_null(en);
            assert_non_null(zh);
            assert_true(*en && *zh);
            char pen[256], pzh[256];
            placeholders(en, pen, sizeof pen);
            placeholders(zh, pzh, sizeof pzh);
            for (char *p = pen; (p = strchr(p, '{')); p++) {
                char ph[40];
                snprintf(ph, sizeof ph, "%.*s", (int)(strchr(p, '}') - p + 1), p);
                assert_non_null(strstr(pzh, ph));    /* zh says everything en says */
                int nicu_reason = kind == 1 && (i == NS_HREASON_NICU_AABR_REFER || i == NS_HREASON_NICU_OAE);
                if (!strstr(base, ph) && !(nicu_reason && strcmp(ph, "{nicu_days}") == 0)) {
                    print_error("%s: placeholder %s is not an arg the engine gives\n", key, ph);
                    fail();
                }
            }
            for (char *p = pzh; (p = strchr(p, '{')); p++) {
                char ph[40];
                snprintf(ph, sizeof ph, "%.*s", (int)(strchr(p, '}') - p + 1), p);
                assert_non_null(strstr(pen, ph));
            }
        }
    /* the code values of the stage, ears and result args */
    const char *codes[] = { "hearing.stage.initial", "hearing.stage.rescreen", "hearing.ears.left",
                            "hearing.ears.right", "hearing.ears.both", "hearing.result.pass",
                            "hearing.result.refer", "hearing.result.not_tested" };
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++) {
        yaml_node_t *v = ns_yaml_get(&y, root, codes[i]);
        assert_non_null(v);
        assert_non_null(ns_yaml_scalar(ns_yaml_get(&y, v, "zh")));
    }
    ns_yaml_done(&y);
    ns_panel_errs_free(&e);
    free(text);
}

/* A finding renders: the shipped English template of its reason, filled from its args,
 * leaves no placeholder. */
static void test_render_english(void **st)
{
    (void)st;
    ns_findings_t fs;
    eval_rows("E1,2026-11-02T10:00,initial,TEOAE,refer,pass,0,\n"
              "E2,2026-11-02T10:00,initial,AABR,refer,refer,9,\n", &fs, NULL);
    assert_int_equal(fs.n, 2);
    char *text;
    size_t len;
    assert_int_equal(ns_read_file(NS_SRCDIR "/configs/lang.yaml", &text, &len), 0);
    ns_panel_errs_t e;
    memset(&e, 0, sizeof e);
    ns_yaml_t y;
    assert_int_equal(ns_yaml_parse(&y, text, len, &e), 0);
    const char *want[] = {
        "hearing initial screen (TEOAE, 2026-11-02): refer in the left ear",
        "NICU stay of 9 days: AABR refer in both ears (initial screen, 2026-11-02); refer straight to "
        "diagnostic audiology, not to an outpatient rescreen" };
    for (int i = 0; i < 2; i++) {
        char key[64], out[512] = "";
        snprintf(key, sizeof key, "reason.%s", fs.v[i].reason);
        yaml_node_t *texts = ns_yaml_get(&y, ns_yaml_root(&y), "text");
        const char *t = ns_yaml_scalar(ns_yaml_get(&y, ns_yaml_get(&y, texts, key), "en"));
        assert_non_null(t);
        for (const char *p = t; *p; ) {
            if (*p != '{') { strncat(out, p++, 1); continue; }
            const char *q = strchr(p, '}');
            char name[32];
            snprintf(name, sizeof name, "%.*s", (int)(q - p - 1), p + 1);
            const char *v = arg(&fs.v[i], name);
            if (!v) { print_error("%s: no arg %s\n", key, name); fail(); }
            if (v[0] == '@') {                  /* a code shown through its own text */
                v = ns_yaml_scalar(ns_yaml_get(&y, ns_yaml_get(&y, texts, v + 1), "en"));
                assert_non_null(v);
            }
            strcat(out, v);
            p = q + 1;
        }
        assert_string_equal(out, want[i]);
    }
    ns_yaml_done(&y);
    ns_panel_errs_free(&e);
    free(text);
    ns_findings_free(&fs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_config_loads),
        cmocka_unit_test(test_initial_refer_unilateral),
        cmocka_unit_test(test_initial_refer_bilateral),
        cmocka_unit_test(test_rescreen),
        cmocka_unit_test(test_nicu_oae_pass_is_not_a_pass),
        cmocka_unit_test(test_nicu_aabr_refer_goes_to_audiology),
        cmocka_unit_test(test_order_and_earlier_aabr),
        cmocka_unit_test(test_rejected_row_listed),
        cmocka_unit_test(test_nicu_days_bound),
        cmocka_unit_test(test_risk_factors_surveillance),
        cmocka_unit_test(test_not_tested),
        cmocka_unit_test(test_well_baby_pass),
        cmocka_unit_test(test_order_and_stats),
        cmocka_unit_test(test_same_time_rows),
        cmocka_unit_test(test_rule_semantics),
        cmocka_unit_test(test_ingest_values),
        cmocka_unit_test(test_ingest_row_errors),
        cmocka_unit_test(test_ingest_unusable),
        cmocka_unit_test(test_ingest_bom_crlf_and_gbk),
        cmocka_unit_test(test_bad_input_corpus),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_config_errors_structure),
        cmocka_unit_test(test_translations),
        cmocka_unit_test(test_render_english),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
