/* test_ledger.c — the follow-up ledger's database layer: creation (0600, WAL, schema
 * version), append-only events, derived case state, damaged and foreign files, the
 * indicators on a hand-built ledger; what a repeat card does to the open case it meets
 * (ns_ledger_record_night on a one-card night made by hand). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../../pipeline/ledger.h"
#include "../../pipeline/ledger_cases.h"
#include "../../pipeline/ledger_stats.h"
#include "../../pipeline/xlsx_read.h"
#include "../../kernels/call.h"

#define PANEL_FILE NS_SRCDIR "/configs/panel-default.yaml"

static char dir[256];

static int setup(void **st)
{
    (void)st;
    snprintf(dir, sizeof dir, "/tmp/ns_test_ledger_XXXXXX");
    if (!mkdtemp(dir)) return -1;
    setenv("NS_NOW", "2026-10-01T12:00:00", 1);
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static char *path_of(const char *name)
{
    static char p[400];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

static int64_t q1(ns_ledger_t *l, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(l->db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void test_create(void **st)
{
    (void)st;
    char err[512];
    const char *p = path_of("a.sqlite");
    ns_ledger_t *l = ns_ledger_open(p, 0, err, sizeof err);
    assert_null(l);                                  /* not created unless asked */
    assert_non_null(strstr(err, p));
    mode_t old = umask(0);                           /* even a permissive umask gives 0600 */
    l = ns_ledger_open(p, 1, err, sizeof err);
    umask(old);
    assert_non_null(l);
    struct stat sb;
    assert_int_equal(stat(p, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(q1(l, "PRAGMA user_version"), NS_LEDGER_SCHEMA);
    assert_int_equal(q1(l, "SELECT max(version) FROM schema_version"), NS_LEDGER_SCHEMA);
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(l->db, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
    sqlite3_finalize(s);
    ns_ledger_close(l);
    /* opened again: no second migration */
    l = ns_ledger_open(p, 1, err, sizeof err);
    assert_non_null(l);
    assert_int_equal(q1(l, "SELECT count(*) FROM schema_version"), 1);
    ns_ledger_close(l);
    /* a file made readable by others is narrowed back to 0600 */
    assert_int_equal(chmod(p, 0644), 0);
    l = ns_ledger_open(p, 0, err, sizeof err);
    assert_non_null(l);
    assert_int_equal(stat(p, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    ns_ledger_close(l);
}

/* A version-1 ledger (as the first release made it: no sample_id indexes) is migrated to
 * the current version when opened, keeping its rows and recording the migration. */
static void test_migrate_v1(void **st)
{
    (void)st;
    char err[512];
    const char *p = path_of("v1.sqlite");
    ns_ledger_t *l = ns_ledger_open(p, 1, err, sizeof err);
    assert_non_null(l);
    /* back to what version 1 had */
    assert_int_equal(sqlite3_exec(l->db, "DROP INDEX events_sample; DROP INDEX orphan_repeats_sample; "
                                         "DELETE FROM schema_version WHERE version > 1; PRAGMA user_version = 1;",
                                  NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(q1(l, "SELECT count(*) FROM sqlite_master WHERE name = 'events_sample'"), 0);
    ns_ledger_close(l);
    l = ns_ledger_open(p, 0, err, sizeof err);
    assert_non_null(l);
    assert_int_equal(q1(l, "PRAGMA user_version"), NS_LEDGER_SCHEMA);
    assert_int_equal(q1(l, "SELECT max(version) FROM schema_version"), NS_LEDGER_SCHEMA);
    assert_int_equal(q1(l, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN "
                           "('events_sample', 'orphan_repeats_sample')"), 2);
    ns_ledger_close(l);
}

static void test_damaged_and_foreign(void **st)
{
    (void)st;
    char err[512];
    const char *p = path_of("garbage.sqlite");
    FILE *fp = fopen(p, "w");
    assert_non_null(fp);
    for (int k = 0; k < 4096; k++) fputc((k * 7919) & 0xff, fp);
    fclose(fp);
    assert_null(ns_ledger_open(p, 1, err, sizeof err));
    assert_non_null(strstr(err, p));
    assert_non_null(strstr(err, "damaged"));
    /* an SQLite file of someone else's is not taken over */
    const char *q = path_of("other.sqlite");
    sqlite3 *db;
    assert_int_equal(sqlite3_open(q, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_null(ns_ledger_open(q, 1, err, sizeof err));
    assert_non_null(strstr(err, "not a neoscreen ledger"));
    /* a newer schema is refused */
    const char *r = path_of("newer.sqlite");
    ns_ledger_t *l = ns_ledger_open(r, 1, err, sizeof err);
    assert_non_null(l);
    assert_int_equal(sqlite3_exec(l->db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    ns_ledger_close(l);
    assert_null(ns_ledger_open(r, 1, err, sizeof err));
    assert_non_null(strstr(err, "newer"));
}

/* The read-only open of `report --ledger`: an existing ledger of this schema only; nothing
 * created, migrated or chmod-ed, and nothing can be written through it. */
static void test_open_ro(void **st)
{
    (void)st;
    char err[512];
    struct stat sb;
    const char *p = path_of("ro.sqlite");
    assert_null(ns_ledger_open_ro(p, err, sizeof err));          /* missing: not created */
    assert_non_null(strstr(err, p));
    assert_int_equal(stat(p, &sb), -1);
    ns_ledger_t *l = ns_ledger_open(p, 1, err, sizeof err);
    assert_non_null(l);
    ns_ledger_close(l);
    assert_int_equal(chmod(p, 0640), 0);
    l = ns_ledger_open_ro(p, err, sizeof err);
    assert_non_null(l);
    assert_int_equal(q1(l, "SELECT count(*) FROM batches"), 0);
    assert_int_equal(sqlite3_exec(l->db, "INSERT INTO schema_version VALUES (9, 'x')", NULL, NULL, NULL) & 0xff,
                     SQLITE_READONLY);
    ns_ledger_close(l);
    assert_int_equal(stat(p, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0640);                   /* its mode left alone */
    char side[450];
    snprintf(side, sizeof side, "%s-wal", p);                    /* nothing left beside it */
    assert_int_equal(access(side, F_OK), -1);
    snprintf(side, sizeof side, "%s-shm", p);
    assert_int_equal(access(side, F_OK), -1);
    /* an older schema is not migrated by a reader: refused, and still older afterwards */
    l = ns_ledger_open(p, 0, err, sizeof err);
    assert_non_null(l);
    assert_int_equal(sqlite3_exec(l->db, "PRAGMA user_version = 1", NULL, NULL, NULL), SQLITE_OK);
    ns_ledger_close(l);
    assert_null(ns_ledger_open_ro(p, err, sizeof err));
    assert_non_null(strstr(err, "older"));
    assert_non_null(strstr(err, p));
    sqlite3 *db;
    assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(s, 0), 1);
    sqlite3_finalize(s);
    /* newer */
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_null(ns_ledger_open_ro(p, err, sizeof err));
    assert_non_null(strstr(err, "newer"));
    /* damaged, someone else's database, an empty file */
    const char *g = path_of("ro-garbage.sqlite");
    FILE *fp = fopen(g, "w");
    assert_non_null(fp);
    for (int k = 0; k < 4096; k++) fputc((k * 7919) & 0xff, fp);
    fclose(fp);
    assert_null(ns_ledger_open_ro(g, err, sizeof err));
    assert_non_null(strstr(err, g));
    assert_non_null(strstr(err, "damaged"));
    const char *o = path_of("ro-other.sqlite");
    assert_int_equal(sqlite3_open(o, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_null(ns_ledger_open_ro(o, err, sizeof err));
    assert_non_null(strstr(err, "not a neoscreen ledger"));
    const char *e = path_of("ro-empty.sqlite");
    fp = fopen(e, "w");
    assert_non_null(fp);
    fclose(fp);
    assert_null(ns_ledger_open_ro(e, err, sizeof err));
    assert_non_null(strstr(err, "not a neoscreen ledger"));
    assert_int_equal(stat(e, &sb), 0);
    assert_int_equal(sb.st_size, 0);                             /* nothing written into it */
}

/* a batch and one case, by hand */
static int64_t make_case(ns_ledger_t *l, const char *key, const char *date, const char *infant, int sp,
                         const char *cond)
{
    char err[512];
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(l->db,
                     "INSERT OR IGNORE INTO batches(batch_key, night, night_date, recorded_at, panel_sha256, software_version, "
                     "cards_screened, initial_cards, repeat_cards, invalid_cards, qc_hold_cards, unmatched_cards) "
                     "VALUES (?1, ?2, ?2, ?2 || 'T08:00:00', 'x', 'v', 100, 90, 10, 3, 0, 0)", -1, &s, NULL), SQLITE_OK);
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, date, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);
    assert_int_equal(sqlite3_prepare_v2(l->db,
                     "INSERT INTO cases(batch_id, infant_id, sample_ids, opened_at, priority, action, due_by, conditions, "
                     "reasons, screen_positive, msms) SELECT id, ?2, 'S1', night_date || 'T08:00:00', 'routine', "
                     "'repeat_specimen', night_date, ?3, '[]', ?4, 1 FROM batches WHERE batch_key = ?1", -1, &s, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, infant, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, cond, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 4, sp);
    assert_int_equal(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);
    int64_t id = sqlite3_last_insert_rowid(l->db);
    if (*cond) {
        assert_int_equal(sqlite3_prepare_v2(l->db, "INSERT INTO case_conditions VALUES (?, ?, 'Phe')", -1, &s, NULL), SQLITE_OK);
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_text(s, 2, cond, -1, SQLITE_STATIC);
        assert_int_equal(sqlite3_step(s), SQLITE_DONE);
        sqlite3_finalize(s);
    }
    char at[32];
    snprintf(at, sizeof at, "%sT08:00:00", date);
    assert_int_equal(ns_ledger_add_event(l, id, at, "neoscreen run", NS_EV_OPENED, "", "routine", "repeat_specimen",
                                         date, -1, NULL, err, sizeof err), 1);
    return id;
}

static void test_events_and_state(void **st)
{
    (void)st;
    char err[512];
    ns_ledger_t *l = ns_ledger_open(path_of("ev.sqlite"), 1, err, sizeof err);
    assert_non_null(l);
    assert_int_equal(ns_ledger_begin(l, err, sizeof err), 0);
    int64_t c = make_case(l, "k1", "2026-09-02", "I1", 1, "PKU");
    ns_case_state_t cs;
    assert_int_equal(ns_ledger_case_state(l, c, &cs, err, sizeof err), 0);
    assert_string_equal(cs.status, "open");
    assert_string_equal(cs.priority, "routine");
    assert_int_equal(ns_ledger_case_state(l, 999, &cs, err, sizeof err), 1);
    assert_int_equal(ns_ledger_add_event(l, c, "2026-09-03T09:00:00", "A", NS_EV_CONTACT, "no_answer", NULL, NULL, NULL,
                                         -1, NULL, err, sizeof err), 1);
    /* the same event again is kept once */
    assert_int_equal(ns_ledger_add_event(l, c, "2026-09-03T09:00:00", "A", NS_EV_CONTACT, "no_answer", NULL, NULL, NULL,
                                         -1, NULL, err, sizeof err), 0);
    ns_ledger_case_state(l, c, &cs, err, sizeof err);
    assert_string_equal(cs.status, "open");
    assert_int_equal(cs.n_contacts, 1);
    ns_ledger_add_event(l, c, "2026-09-03T10:00:00", "A", NS_EV_CONTACT, "reached", NULL, NULL, NULL, -1, NULL, err, sizeof err);
    ns_ledger_case_state(l, c, &cs, err, sizeof err);
    assert_string_equal(cs.status, "contacted");
    ns_ledger_add_event(l, c, "2026-09-05T10:00:00", "neoscreen run", NS_EV_ESCALATED, "PKU", "urgent", "referral",
                        "2026-09-05", -1, NULL, err, sizeof err);
    ns_ledger_case_state(l, c, &cs, err, sizeof err);
    assert_string_equal(cs.status, "escalated");
    assert_string_equal(cs.priority, "urgent");
    assert_string_equal(cs.action, "referral");
    assert_string_equal(cs.due_by, "2026-09-05");
    assert_false(cs.closed);
    ns_ledger_add_event(l, c, "2026-09-08T10:00:00", "B", NS_EV_CONFIRMED, "PKU", NULL, NULL, NULL, -1, NULL, err, sizeof err);
    ns_ledger_case_state(l, c, &cs, err, sizeof err);
    assert_string_equal(cs.status, "confirmed:PKU");
    assert_true(cs.closed);
    /* the latest closing event wins, whatever order they were recorded in */
    ns_ledger_add_event(l, c, "2026-09-07T10:00:00", "B", NS_EV_RULED_OUT, "", NULL, NULL, NULL, -1, NULL, err, sizeof err);
    ns_ledger_case_state(l, c, &cs, err, sizeof err);
    assert_string_equal(cs.status, "confirmed:PKU");
    assert_int_equal(ns_ledger_commit(l, err, sizeof err), 0);
    /* append-only */
    assert_int_not_equal(sqlite3_exec(l->db, "UPDATE events SET kind = 'note'", NULL, NULL, NULL), SQLITE_OK);
    assert_non_null(strstr(sqlite3_errmsg(l->db), "append-only"));
    assert_int_not_equal(sqlite3_exec(l->db, "DELETE FROM events", NULL, NULL, NULL), SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(l->db, "DELETE FROM cases", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(q1(l, "SELECT count(*) FROM events"), 6);
    ns_ledger_close(l);
}

static double ind(const ns_indicators_t *v, const char *period, const char *name, const char *cond, int64_t *num,
                  int64_t *den, int64_t *n)
{
    for (int64_t k = 0; k < v->n; k++)
        if (!strcmp(v->v[k].period, period) && !strcmp(v->v[k].indicator, name) && !strcmp(v->v[k].condition, cond)) {
            if (num) *num = v->v[k].num;
            if (den) *den = v->v[k].den;
            if (n) *n = v->v[k].n;
            return v->v[k].value;
        }
    fail_msg("no indicator %s %s %s", period, name, cond);
    return NAN;
}

static void test_stats(void **st)
{
    (void)st;
    char err[512];
    ns_ledger_t *l = ns_ledger_open(path_of("st.sqlite"), 1, err, sizeof err);
    assert_non_null(l);
    assert_int_equal(ns_ledger_begin(l, err, sizeof err), 0);
    /* September: 2 nights (200 cards, 180 initial, 6 invalid); October: 1 night */
    int64_t a = make_case(l, "k1", "2026-09-02", "I1", 1, "PKU");
    int64_t b = make_case(l, "k1", "2026-09-02", "I2", 1, "PKU");
    int64_t c = make_case(l, "k2", "2026-09-20", "I3", 1, "MCAD");
    make_case(l, "k2", "2026-09-20", "I4", 0, "");               /* unreadable card only: not SP */
    int64_t e = make_case(l, "k3", "2026-10-02", "I5", 1, "PKU");
    /* collection -> report hours: 30, 40, 50, 60 (median 45 h) in September */
    assert_int_equal(sqlite3_exec(l->db, "INSERT INTO batch_tat SELECT id, 30, 1 FROM batches WHERE batch_key = 'k1';"
                                  "INSERT INTO batch_tat SELECT id, 40, 1 FROM batches WHERE batch_key = 'k1';"
                                  "INSERT INTO batch_tat SELECT id, 50, 1 FROM batches WHERE batch_key = 'k2';"
                                  "INSERT INTO batch_tat SELECT id, 60, 1 FROM batches WHERE batch_key = 'k2';",
                                  NULL, NULL, NULL), SQLITE_OK);
    ns_ledger_add_event(l, a, "2026-09-02T14:00:00", "A", NS_EV_CONTACT, "reached", NULL, NULL, NULL, -1, NULL, err, sizeof err);
    ns_ledger_add_event(l, a, "2026-09-03T14:00:00", "A", NS_EV_CONTACT, "reached", NULL, NULL, NULL, -1, NULL, err, sizeof err);
    ns_ledger_add_event(l, a, "2026-09-09T14:00:00", "A", NS_EV_CONFIRMED, "PKU", NULL, NULL, NULL, -1, NULL, err, sizeof err);
    ns_ledger_add_event(l, b, "2026-09-03T08:00:00", "A", NS_EV_CONTACT, "no_answer", NULL, NULL, NULL, -1, NULL, err, sizeof err);
    ns_ledger_add_event(l, b, "2026-09-20T08:00:00", "A", NS_EV_LOST, "", NULL, NULL, NULL, -1, NULL, err, sizeof err);
    ns_ledger_add_event(l, c, "2026-09-25T08:00:00", "neoscreen run", NS_EV_CLEARED, "S9", NULL, NULL, NULL, -1, NULL, err, sizeof err);
    /* a completion after "now" does not count yet */
    ns_ledger_add_event(l, e, "2026-10-05T08:00:00", "A", NS_EV_SAMPLE_RECEIVED, "", NULL, NULL, NULL, -1, NULL, err, sizeof err);
    assert_int_equal(ns_ledger_commit(l, err, sizeof err), 0);

    ns_indicators_t v;
    assert_int_equal(ns_ledger_stats(l, "2026-09-01", "2026-10-31", NS_BY_MONTH, "2026-10-01T12:00:00", &v, err, sizeof err), 0);
    int64_t num, den, n;
    assert_true(ind(&v, "2026-09", "cards_screened", "", &num, NULL, NULL) == 200);
    assert_true(fabs(ind(&v, "2026-09", "unsatisfactory_rate", "", &num, &den, NULL) - 6.0 / 200) < 1e-12);
    assert_true(fabs(ind(&v, "2026-09", "screen_positive_rate", "ALL", &num, &den, NULL) - 3.0 / 180) < 1e-12);
    assert_true(fabs(ind(&v, "2026-09", "screen_positive_rate", "PKU", &num, &den, NULL) - 2.0 / 180) < 1e-12);
    /* completed: a (confirmed), c (cleared); b lost */
    assert_true(fabs(ind(&v, "2026-09", "recall_completion_rate", "", &num, &den, NULL) - 2.0 / 3) < 1e-12);
    assert_true(fabs(ind(&v, "2026-09", "loss_to_follow_up_rate", "", &num, &den, NULL) - 1.0 / 3) < 1e-12);
    assert_true(fabs(ind(&v, "2026-09", "median_days_collection_to_report", "", NULL, NULL, &n) - 45.0 / 24) < 1e-12);
    assert_int_equal(n, 4);
    /* first contacts: a after 6 h, b after 24 h -> median 15 h */
    assert_true(fabs(ind(&v, "2026-09", "median_days_report_to_first_contact", "", NULL, NULL, &n) - 15.0 / 24) < 1e-12);
    assert_int_equal(n, 2);
    assert_true(fabs(ind(&v, "2026-09", "ppv", "PKU", &num, &den, NULL) - 0.5) < 1e-12);
    assert_int_equal(num, 1);
    assert_int_equal(den, 2);
    assert_true(ind(&v, "2026-09", "ppv", "MCAD", &num, &den, NULL) == 0.0);
    assert_true(fabs(ind(&v, "2026-09", "incidence", "ALL", NULL, NULL, NULL) - 1.0 / 180) < 1e-12);
    assert_true(ind(&v, "2026-10", "recall_completion_rate", "", &num, &den, NULL) == 0.0);
    assert_true(isnan(ind(&v, "2026-10", "median_days_report_to_first_contact", "", NULL, NULL, &n)));
    ns_indicators_free(&v);
    /* by quarter: September is Q3, October Q4 */
    assert_int_equal(ns_ledger_stats(l, "2026-09-01", "2026-10-31", NS_BY_QUARTER, "2026-10-01T12:00:00", &v, err, sizeof err), 0);
    assert_true(ind(&v, "2026-Q3", "cards_screened", "", NULL, NULL, NULL) == 200);
    assert_true(ind(&v, "2026-Q4", "cards_screened", "", NULL, NULL, NULL) == 100);
    ns_indicators_free(&v);
    ns_ledger_close(l);
}

/* A night of one repeat card (sample R1 of infant I1, reported: state st) with the given
 * calls of the panel's conditions (others negative), recorded into the ledger at path,
 * where an earlier night opened a case for I1 on condition `on` (an MS/MS case).  Returns
 * the night's result; *kind gets the kind of the event the card added to that case, *cs
 * its state afterwards. */
static ns_ledger_night_t repeat_night(const char *path, const ns_panel_t *p, const char *on, int st, const char *c1,
                                      int v1, const char *c2, int v2, char kind[32], ns_case_state_t *cs)
{
    char err[512];
    ns_ledger_t *l = ns_ledger_open(path, 1, err, sizeof err);
    assert_non_null(l);
    assert_int_equal(ns_ledger_begin(l, err, sizeof err), 0);
    int64_t opened = make_case(l, "k-earlier", "2026-09-20", "I1", 1, on);
    assert_int_equal(ns_ledger_commit(l, err, sizeof err), 0);
    ns_ledger_close(l);

    const int nc = p->n_conds;
    uint8_t *call = calloc((size_t)nc, 1);                 /* one row: call[c] */
    for (int c = 0; c < nc; c++) {
        if (c1 && !strcmp(p->conds[c].code, c1)) call[c] = (uint8_t)v1;
        if (c2 && !strcmp(p->conds[c].code, c2)) call[c] = (uint8_t)v2;
    }
    uint8_t type[1] = { NS_TYPE_PATIENT }, state[1] = { (uint8_t)st };
    int64_t mrow[1] = { 0 };
    char *sid[1] = { "R1" };
    ns_manifest_row_t row;
    memset(&row, 0, sizeof row);
    row.sample_id = "R1";
    row.infant_id = "I1";
    row.specimen = "repeat";
    ns_batch_t b;
    memset(&b, 0, sizeof b);
    b.panel = p;
    b.night = "2026-10-01";
    b.n = 1;
    b.type = type;
    b.state = state;
    b.mrow = mrow;
    b.sample_id = sid;
    b.call = call;
    b.manifest.rows = &row;
    b.manifest.n = 1;
    ns_findings_t fs;
    memset(&fs, 0, sizeof fs);
    ns_fu_list_t list;
    memset(&list, 0, sizeof list);
    ns_ledger_night_t res;
    assert_int_equal(ns_ledger_record_night(path, &b, &fs, &list, &res, err, sizeof err), 0);
    free(call);

    l = ns_ledger_open(path, 0, err, sizeof err);
    assert_non_null(l);
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(l->db, "SELECT kind FROM events WHERE case_id = ? AND sample_id = 'R1'",
                                        -1, &q, NULL), SQLITE_OK);
    sqlite3_bind_int64(q, 1, opened);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    snprintf(kind, 32, "%s", (const char *)sqlite3_column_text(q, 0));
    assert_int_equal(sqlite3_step(q), SQLITE_DONE);               /* one event for the card */
    sqlite3_finalize(q);
    assert_int_equal(ns_ledger_case_state(l, opened, cs, err, sizeof err), 0);
    ns_ledger_close(l);
    return res;
}

/* A repeat card that was read (state recall: another condition is positive on it) but on
 * which the condition that opened the case cannot be called (PKU indeterminate: its marker
 * missing): the case is not cleared — repeat_unsatisfactory, still open, priority and
 * action unchanged — and the card counts as linked.  Beside it, the outcomes it must not
 * be confused with: negative on PKU clears, still positive escalates, an unreadable card
 * is unsatisfactory too; and a condition tonight's panel does not know cannot be called
 * either. */
static void test_repeat_cannot_be_called(void **st)
{
    (void)st;
    ns_panel_errs_t e;
    memset(&e, 0, sizeof e);
    ns_panel_t *p = ns_panel_load(PANEL_FILE, &e);
    assert_non_null(p);
    ns_panel_errs_free(&e);
    char kind[32];
    ns_case_state_t cs;

    ns_ledger_night_t r = repeat_night(path_of("rep-indet.sqlite"), p, "PKU", NS_STATE_RECALL, "PKU",
                                       NS_CALL_INDETERMINATE, "MCAD", NS_CALL_POSITIVE, kind, &cs);
    assert_string_equal(kind, "repeat_unsatisfactory");
    assert_string_equal(cs.status, "open");
    assert_false(cs.closed);
    assert_string_equal(cs.priority, "routine");
    assert_string_equal(cs.action, "repeat_specimen");
    assert_int_equal(r.repeats_linked, 1);
    assert_int_equal(r.unsatisfactory, 1);
    assert_int_equal(r.cleared + r.escalated + r.n_orphans, 0);
    ns_ledger_night_free(&r);

    r = repeat_night(path_of("rep-neg.sqlite"), p, "PKU", NS_STATE_RECALL, "PKU", NS_CALL_NEGATIVE, "MCAD",
                     NS_CALL_POSITIVE, kind, &cs);
    assert_string_equal(kind, "cleared_on_repeat");
    assert_string_equal(cs.status, "cleared_on_repeat");
    assert_true(cs.closed);
    assert_int_equal(r.cleared, 1);
    ns_ledger_night_free(&r);

    r = repeat_night(path_of("rep-pos.sqlite"), p, "PKU", NS_STATE_RECALL, "PKU", NS_CALL_BORDERLINE, NULL, 0, kind, &cs);
    assert_string_equal(kind, "escalated");
    assert_string_equal(cs.status, "escalated");
    assert_string_equal(cs.priority, "urgent");
    assert_string_equal(cs.action, "referral");
    assert_int_equal(r.escalated, 1);
    ns_ledger_night_free(&r);

    r = repeat_night(path_of("rep-invalid.sqlite"), p, "PKU", NS_STATE_INVALID, "PKU", NS_CALL_INDETERMINATE, NULL, 0,
                     kind, &cs);
    assert_string_equal(kind, "repeat_unsatisfactory");
    assert_string_equal(cs.status, "open");
    assert_int_equal(r.unsatisfactory, 1);
    ns_ledger_night_free(&r);

    /* a case opened on a panel condition tonight's panel does not have (renamed or
     * dropped since): the card, negative on everything tonight's panel calls, cannot be
     * called on it either — not cleared */
    r = repeat_night(path_of("rep-gone.sqlite"), p, "OLDCOND", NS_STATE_NEGATIVE, NULL, 0, NULL, 0, kind, &cs);
    assert_string_equal(kind, "repeat_unsatisfactory");
    assert_string_equal(cs.status, "open");
    assert_int_equal(r.unsatisfactory, 1);
    assert_int_equal(r.cleared, 0);
    ns_ledger_night_free(&r);
    ns_panel_free(p);
}

static void test_paths_and_time(void **st)
{
    (void)st;
    unsetenv("NEOSCREEN_LEDGER");
    char *p = ns_ledger_run_path(NULL, NULL, "/archive/2026-11-22/");
    assert_string_equal(p, "/archive/ledger.sqlite");
    free(p);
    p = ns_ledger_run_path(NULL, NULL, "out");
    assert_string_equal(p, "ledger.sqlite");
    free(p);
    p = ns_ledger_run_path("x.db", "/lab/cfg.sqlite", "out");       /* --ledger first */
    assert_string_equal(p, "x.db");
    free(p);
    p = ns_ledger_run_path(NULL, "/lab/cfg.sqlite", "out");         /* then the config */
    assert_string_equal(p, "/lab/cfg.sqlite");
    free(p);
    setenv("NEOSCREEN_LEDGER", "/env.sqlite", 1);                   /* the environment before it */
    p = ns_ledger_run_path(NULL, "/lab/cfg.sqlite", "out");
    assert_string_equal(p, "/env.sqlite");
    free(p);
    unsetenv("NEOSCREEN_LEDGER");
    char t[24];
    assert_int_equal(ns_ledger_norm_time("2026-09-03 09:05", t), 0);
    assert_string_equal(t, "2026-09-03T09:05:00");
    assert_int_equal(ns_ledger_norm_time("2026-02-30T09:05", t), -1);
    assert_int_equal(ns_ledger_now(t), 0);
    assert_string_equal(t, "2026-10-01T12:00:00");
    assert_int_equal(ns_ledger_event_kind("lost_to_follow_up"), NS_EV_LOST);
    assert_true(ns_ledger_event_closes(NS_EV_CLEARED));
    assert_false(ns_ledger_event_closes(NS_EV_ESCALATED));
}

static void test_xlsx_helpers(void **st)
{
    (void)st;
    char c[8], t[24];
    ns_xlsx_col_name(0, c);
    assert_string_equal(c, "A");
    ns_xlsx_col_name(25, c);
    assert_string_equal(c, "Z");
    ns_xlsx_col_name(26, c);
    assert_string_equal(c, "AA");
    ns_xlsx_col_name(16383, c);
    assert_string_equal(c, "XFD");
    assert_int_equal(ns_xlsx_serial_to_time("46356.3854166667", t), 0);   /* 2026-11-30 09:15 */
    assert_string_equal(t, "2026-11-30T09:15:00");
    assert_int_equal(ns_xlsx_serial_to_time("25569", t), 0);
    assert_string_equal(t, "1970-01-01T00:00:00");
    assert_int_equal(ns_xlsx_serial_to_time("2026-11-30", t), -1);
    assert_int_equal(ns_xlsx_serial_to_time("1e9", t), -1);
    /* not a ZIP: refused by name */
    ns_xlsx_sheet_t sh;
    char err[512];
    const char *p = path_of("no.xlsx");
    FILE *fp = fopen(p, "w");
    assert_non_null(fp);
    fputs("case_id,event\n", fp);
    fclose(fp);
    assert_int_equal(ns_xlsx_read(p, &sh, err, sizeof err), -1);
    assert_non_null(strstr(err, "not an XLSX"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create),
        cmocka_unit_test(test_migrate_v1),
        cmocka_unit_test(test_damaged_and_foreign),
        cmocka_unit_test(test_open_ro),
        cmocka_unit_test(test_events_and_state),
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_repeat_cannot_be_called),
        cmocka_unit_test(test_paths_and_time),
        cmocka_unit_test(test_xlsx_helpers),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
