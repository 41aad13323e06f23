/* ledger.c — open, create and migrate the follow-up ledger; events; derived case state
 * (ledger.h).  Every statement is prepared with bound parameters: no SQL is ever built
 * from input text. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "ledger.h"
#include "util.h"

static const char *const ev_names[NS_EV_N] = {
    "opened", "contact", "sample_received", "repeat_unsatisfactory", "escalated", "note",
    "cleared_on_repeat", "confirmed", "ruled_out", "lost_to_follow_up", "declined", "deceased",
};

const char *ns_ledger_event_name(int kind) { return kind >= 0 && kind < NS_EV_N ? ev_names[kind] : "?"; }

int ns_ledger_event_kind(const char *s)
{
    for (int k = 0; k < NS_EV_N; k++)
        if (strcmp(s, ev_names[k]) == 0) return k;
    return -1;
}

int ns_ledger_event_closes(int kind) { return kind >= NS_EV_CLEARED && kind < NS_EV_N; }

const char *const ns_ledger_status_sql =
    "COALESCE("
    "(SELECT CASE e.kind WHEN 'confirmed' THEN 'confirmed:' || e.detail ELSE e.kind END FROM events e"
    "  WHERE e.case_id = c.id AND e.kind IN ('cleared_on_repeat','confirmed','ruled_out',"
    "  'lost_to_follow_up','declined','deceased') ORDER BY e.at DESC, e.id DESC LIMIT 1),"
    "(SELECT 'escalated' FROM events e WHERE e.case_id = c.id AND e.kind = 'escalated' LIMIT 1),"
    "(SELECT 'contacted' FROM events e WHERE e.case_id = c.id AND e.kind = 'contact'"
    "  AND e.detail = 'reached' LIMIT 1),"
    "'open')";

/* schema version 1 */
static const char *const schema_v1 =
    "CREATE TABLE schema_version(version INTEGER NOT NULL, migrated_at TEXT NOT NULL);"
    "CREATE TABLE batches("
    "  id INTEGER PRIMARY KEY,"
    "  batch_key TEXT NOT NULL UNIQUE,"
    "  night TEXT NOT NULL,"
    "  night_date TEXT NOT NULL,"
    "  recorded_at TEXT NOT NULL,"
    "  panel_sha256 TEXT NOT NULL,"
    "  software_version TEXT NOT NULL,"
    "  cards_screened INTEGER NOT NULL,"
    "  initial_cards INTEGER NOT NULL,"
    "  repeat_cards INTEGER NOT NULL,"
    "  invalid_cards INTEGER NOT NULL,"
    "  qc_hold_cards INTEGER NOT NULL,"
    "  unmatched_cards INTEGER NOT NULL);"
    "CREATE TABLE batch_tat("
    "  batch_id INTEGER NOT NULL REFERENCES batches(id),"
    "  hours INTEGER NOT NULL,"
    "  n INTEGER NOT NULL,"
    "  PRIMARY KEY(batch_id, hours));"
    "CREATE TABLE cases("
    "  id INTEGER PRIMARY KEY,"
    "  batch_id INTEGER NOT NULL REFERENCES batches(id),"
    "  infant_id TEXT NOT NULL,"
    "  sample_ids TEXT NOT NULL,"
    "  opened_at TEXT NOT NULL,"
    "  priority TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  due_by TEXT,"
    "  conditions TEXT NOT NULL,"
    "  reasons TEXT NOT NULL,"
    "  screen_positive INTEGER NOT NULL,"
    "  msms INTEGER NOT NULL,"
    "  hospital TEXT, mother_name TEXT, contact_phone TEXT,"
    "  UNIQUE(batch_id, infant_id));"
    "CREATE INDEX cases_infant ON cases(infant_id);"
    "CREATE TABLE case_conditions("
    "  case_id INTEGER NOT NULL REFERENCES cases(id),"
    "  condition TEXT NOT NULL,"
    "  markers TEXT NOT NULL,"
    "  PRIMARY KEY(case_id, condition));"
    "CREATE TABLE events("
    "  id INTEGER PRIMARY KEY,"
    "  case_id INTEGER NOT NULL REFERENCES cases(id),"
    "  at TEXT NOT NULL,"
    "  operator TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  detail TEXT NOT NULL DEFAULT '',"
    "  priority TEXT, action TEXT, due_by TEXT,"
    "  batch_id INTEGER REFERENCES batches(id),"
    "  sample_id TEXT,"
    "  recorded_at TEXT NOT NULL,"
    "  UNIQUE(case_id, kind, detail, at, operator));"
    "CREATE INDEX events_case ON events(case_id, at);"
    "CREATE TRIGGER events_append_only_u BEFORE UPDATE ON events"
    "  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;"
    "CREATE TRIGGER events_append_only_d BEFORE DELETE ON events"
    "  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;"
    "CREATE TRIGGER cases_keep_d BEFORE DELETE ON cases"
    "  BEGIN SELECT RAISE(ABORT, 'cases are never deleted'); END;"
    "CREATE TABLE orphan_repeats("
    "  batch_id INTEGER NOT NULL REFERENCES batches(id),"
    "  sample_id TEXT NOT NULL,"
    "  infant_id TEXT NOT NULL,"
    "  PRIMARY KEY(batch_id, sample_id));";

static void seterr(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t n, const char *fmt, ...)
{
    if (!err || !n) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
}

int ns_ledger_norm_time(const char *s, char out[24])
{
    out[0] = 0;
    if (!s) return -1;
    double h = ns_parse_time_h(s);
    if (isnan(h)) return -1;
    /* rebuild from the parsed fields: seconds are kept when given */
    long long secs = llround(h * 3600.0);
    time_t t = (time_t)secs;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) return -1;
    strftime(out, 24, "%Y-%m-%dT%H:%M:%S", &tm);
    return 0;
}

int ns_ledger_now(char out[24])
{
    const char *e = getenv("NS_NOW");
    if (e && *e) return ns_ledger_norm_time(e, out);
    /* local wall-clock time: the manifest's collection times and the times the team types
     * are the lab's local times, without a zone */
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, 24, "%Y-%m-%dT%H:%M:%S", &tm);
    return 0;
}

static int exec(ns_ledger_t *l, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(l->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        seterr(err, errlen, "%s: %s", l->path, msg ? msg : sqlite3_errmsg(l->db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

int ns_ledger_begin(ns_ledger_t *l, char *err, size_t errlen) { return exec(l, "BEGIN IMMEDIATE", err, errlen); }
int ns_ledger_commit(ns_ledger_t *l, char *err, size_t errlen) { return exec(l, "COMMIT", err, errlen); }
void ns_ledger_rollback(ns_ledger_t *l)
{
    if (!sqlite3_get_autocommit(l->db)) sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
}

static int user_version(ns_ledger_t *l, int *v, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(l->db, "PRAGMA user_version", -1, &st, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        seterr(err, errlen, "%s: %s", l->path, sqlite3_errmsg(l->db));
        sqlite3_finalize(st);
        return -1;
    }
    *v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return 0;
}

/* create or migrate to NS_LEDGER_SCHEMA, in one write transaction (two first openers at
 * once: the second finds the schema made) */
static int migrate(ns_ledger_t *l, char *err, size_t errlen)
{
    int v;
    if (user_version(l, &v, err, errlen) < 0) return -1;
    if (v == NS_LEDGER_SCHEMA) return 0;
    if (v > NS_LEDGER_SCHEMA) {
        seterr(err, errlen, "%s: ledger schema version %d is newer than this neoscreen knows (%d); "
               "use a newer neoscreen", l->path, v, NS_LEDGER_SCHEMA);
        return -1;
    }
    if (ns_ledger_begin(l, err, errlen) < 0) return -1;
    if (user_version(l, &v, err, errlen) < 0) goto fail;
    if (v == 0) {
        /* a file that is a database but not a ledger (tables of its own) is not ours */
        sqlite3_stmt *st = NULL;
        int n = 0;
        if (sqlite3_prepare_v2(l->db, "SELECT count(*) FROM sqlite_master", -1, &st, NULL) == SQLITE_OK
            && sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        if (n > 0) {
            seterr(err, errlen, "%s: an SQLite database that is not a neoscreen ledger (it has tables "
                   "but no ledger schema version); refusing to write into it", l->path);
            goto fail;
        }
        if (exec(l, schema_v1, err, errlen) < 0) goto fail;
        v = 1;
    }
    if (v == 1) {
        /* version 2: a repeat card looks up its earlier handling by sample_id; without these
         * indexes each lookup scanned every event and orphan (a 1M-card night with 20,000
         * repeat cards took 21 s to record instead of under one) */
        if (exec(l, "CREATE INDEX IF NOT EXISTS events_sample ON events(sample_id);"
                    "CREATE INDEX IF NOT EXISTS orphan_repeats_sample ON orphan_repeats(sample_id);",
                 err, errlen) < 0)
            goto fail;
        v = 2;
    }
    /* later versions: if (v == 2) { ALTER ...; v = 3; } */
    char now[24], sql[160];
    ns_ledger_now(now);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(l->db, "INSERT INTO schema_version(version, migrated_at) VALUES (?, ?)", -1, &st,
                           NULL) != SQLITE_OK) {
        seterr(err, errlen, "%s: %s", l->path, sqlite3_errmsg(l->db));
        goto fail;
    }
    sqlite3_bind_int(st, 1, v);
    sqlite3_bind_text(st, 2, now, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        seterr(err, errlen, "%s: %s", l->path, sqlite3_errmsg(l->db));
        goto fail;
    }
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v);   /* a constant, not input */
    if (exec(l, sql, err, errlen) < 0) goto fail;
    if (exec(l,
             "CREATE VIEW IF NOT EXISTS case_state AS SELECT c.id AS case_id, c.infant_id, c.batch_id, "
             "(SELECT e.priority FROM events e WHERE e.case_id = c.id AND e.priority IS NOT NULL "
             " ORDER BY e.at DESC, e.id DESC LIMIT 1) AS priority, "
             "(SELECT e.action FROM events e WHERE e.case_id = c.id AND e.action IS NOT NULL "
             " ORDER BY e.at DESC, e.id DESC LIMIT 1) AS action, "
             "(SELECT e.due_by FROM events e WHERE e.case_id = c.id AND e.due_by IS NOT NULL "
             " ORDER BY e.at DESC, e.id DESC LIMIT 1) AS due_by "
             "FROM cases c", err, errlen) < 0)
        goto fail;
    return ns_ledger_commit(l, err, errlen);
fail:
    ns_ledger_rollback(l);
    return -1;
}

/* how long a connection waits for another writer ($NS_LEDGER_BUSY_MS, for tests), and
 * extended result codes (a damaged file told apart from a locked one) */
static void set_busy(ns_ledger_t *l)
{
    int busy = NS_LEDGER_BUSY_MS_DEFAULT;
    const char *e = getenv("NS_LEDGER_BUSY_MS");
    if (e && atoi(e) > 0) busy = atoi(e);
    sqlite3_busy_timeout(l->db, busy);
    sqlite3_extended_result_codes(l->db, 1);
}

ns_ledger_t *ns_ledger_open(const char *path, int create, char *err, size_t errlen)
{
    if (err && errlen) err[0] = 0;
    /* the file is made (or checked) here, mode 0600, before SQLite opens it: SQLite
     * would create it with the umask's mode, readable by others for a moment */
    int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC | (create ? O_CREAT : 0), 0600);
    if (fd < 0) {
        seterr(err, errlen, "%s: cannot open the ledger: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        seterr(err, errlen, "%s: the ledger is not a regular file", path);
        close(fd);
        return NULL;
    }
    if (st.st_mode & 077) {
        if (fchmod(fd, 0600) < 0) {
            seterr(err, errlen, "%s: the ledger is readable by others (mode %03o) and cannot be made 0600: %s",
                   path, (unsigned)(st.st_mode & 0777), strerror(errno));
            close(fd);
            return NULL;
        }
        ns_error("ledger", "%s: mode was %03o, set to 0600 (the ledger holds personal data)", path,
                 (unsigned)(st.st_mode & 0777));
    }
    close(fd);
    ns_ledger_t *l = ns_calloc(1, sizeof *l);
    l->path = ns_strdup(path);
    if (sqlite3_open_v2(path, &l->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) {
        seterr(err, errlen, "%s: cannot open the ledger: %s", path, l->db ? sqlite3_errmsg(l->db) : "out of memory");
        ns_ledger_close(l);
        return NULL;
    }
    set_busy(l);
    /* WAL: readers never block the writer, the writer never blocks readers */
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(l->db, "PRAGMA journal_mode=WAL", -1, &s, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        seterr(err, errlen, "%s: %s%s", path, sqlite3_errmsg(l->db),
               (rc & 0xff) == SQLITE_NOTADB || (rc & 0xff) == SQLITE_CORRUPT
                   ? " (the ledger file is damaged: restore it from the last backup)" : "");
        sqlite3_finalize(s);
        ns_ledger_close(l);
        return NULL;
    }
    sqlite3_finalize(s);
    if (exec(l, "PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL", err, errlen) < 0
        || migrate(l, err, errlen) < 0) {
        if (err && strstr(err, "not a database"))
            strncat(err, " (the ledger file is damaged: restore it from the last backup)", errlen - strlen(err) - 1);
        ns_ledger_close(l);
        return NULL;
    }
    return l;
}

ns_ledger_t *ns_ledger_open_ro(const char *path, char *err, size_t errlen)
{
    if (err && errlen) err[0] = 0;
    struct stat st;
    if (lstat(path, &st) < 0) {
        seterr(err, errlen, "%s: cannot open the ledger: %s", path, strerror(errno));
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        seterr(err, errlen, "%s: the ledger is not a regular file", path);
        return NULL;
    }
    ns_ledger_t *l = ns_calloc(1, sizeof *l);
    l->path = ns_strdup(path);
    /* opened for writing when we may (never created: no SQLITE_OPEN_CREATE), with every
     * change refused (query_only): the last connection to close a WAL ledger removes its
     * -wal and -shm files, which a read-only connection would leave behind.  A file we may
     * only read is opened read-only. */
    int ro = access(path, W_OK) != 0;
    if (sqlite3_open_v2(path, &l->db, (ro ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOFOLLOW,
                        NULL) != SQLITE_OK
        || (!ro && sqlite3_exec(l->db, "PRAGMA query_only = 1", NULL, NULL, NULL) != SQLITE_OK)) {
        seterr(err, errlen, "%s: cannot open the ledger: %s", path, l->db ? sqlite3_errmsg(l->db) : "out of memory");
        ns_ledger_close(l);
        return NULL;
    }
    set_busy(l);
    /* the first read finds a damaged file, a lock held beyond the busy timeout, a file
     * that is no ledger */
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(l->db, "PRAGMA user_version", -1, &s, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_step(s);
    int v = rc == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
    if (rc != SQLITE_ROW) {
        int base = rc & 0xff;
        seterr(err, errlen, "%s: cannot read the ledger: %s%s", path, sqlite3_errmsg(l->db),
               base == SQLITE_NOTADB || base == SQLITE_CORRUPT ? " (the ledger file is damaged: restore it from the last backup)"
               : base == SQLITE_BUSY || base == SQLITE_LOCKED ? " (another program holds it locked; try again later)" : "");
    }
    sqlite3_finalize(s);
    if (rc == SQLITE_ROW && v != NS_LEDGER_SCHEMA) {
        if (v == 0)
            seterr(err, errlen, "%s: not a neoscreen ledger (no ledger schema version)", path);
        else if (v > NS_LEDGER_SCHEMA)
            seterr(err, errlen, "%s: ledger schema version %d is newer than this neoscreen knows (%d); use a newer "
                   "neoscreen", path, v, NS_LEDGER_SCHEMA);
        else
            seterr(err, errlen, "%s: ledger schema version %d is older than this neoscreen's (%d) and is not "
                   "migrated by a read-only open ('neoscreen run' or 'neoscreen followup list -d FILE' migrates it)",
                   path, v, NS_LEDGER_SCHEMA);
        rc = SQLITE_ERROR;
    }
    if (rc != SQLITE_ROW) {
        ns_ledger_close(l);
        return NULL;
    }
    return l;
}

void ns_ledger_close(ns_ledger_t *l)
{
    if (!l) return;
    sqlite3_finalize(l->ins_event);
    if (l->db) sqlite3_close_v2(l->db);
    free(l->path);
    free(l);
}

static void bind_opt(sqlite3_stmt *st, int k, const char *s)
{
    if (s) sqlite3_bind_text(st, k, s, -1, SQLITE_TRANSIENT);
    else sqlite3_bind_null(st, k);
}

int ns_ledger_add_event(ns_ledger_t *l, int64_t case_id, const char *at, const char *op, int kind,
                        const char *detail, const char *priority, const char *action,
                        const char *due_by, int64_t batch_id, const char *sample_id,
                        char *err, size_t errlen)
{
    char now[24];
    ns_ledger_now(now);
    /* one statement for the connection's life: a night adds an event per case and per
     * repeat card, and preparing it each time cost more than running it */
    if (!l->ins_event
        && sqlite3_prepare_v2(l->db,
                              "INSERT OR IGNORE INTO events(case_id, at, operator, kind, detail, priority, action, "
                              "due_by, batch_id, sample_id, recorded_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                              -1, &l->ins_event, NULL) != SQLITE_OK) {
        seterr(err, errlen, "%s: %s", l->path, sqlite3_errmsg(l->db));
        return -1;
    }
    sqlite3_stmt *st = l->ins_event;
    sqlite3_bind_int64(st, 1, case_id);
    sqlite3_bind_text(st, 2, at, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, op, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, ns_ledger_event_name(kind), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, detail ? detail : "", -1, SQLITE_TRANSIENT);
    bind_opt(st, 6, priority);
    bind_opt(st, 7, action);
    bind_opt(st, 8, due_by);
    if (batch_id >= 0) sqlite3_bind_int64(st, 9, batch_id);
    else sqlite3_bind_null(st, 9);
    bind_opt(st, 10, sample_id);
    sqlite3_bind_text(st, 11, now, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    int added = sqlite3_changes(l->db) > 0;
    if (rc != SQLITE_DONE) seterr(err, errlen, "%s: %s", l->path, sqlite3_errmsg(l->db));
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? added : -1;
}

int ns_ledger_case_state(ns_ledger_t *l, int64_t id, ns_case_state_t *cs, char *err, size_t errlen)
{
    memset(cs, 0, sizeof *cs);
    char *sql = ns_asprintf(
        "SELECT %s, s.priority, s.action, s.due_by, "
        "(SELECT count(*) FROM events e WHERE e.case_id = c.id AND e.kind = 'contact') "
        "FROM cases c JOIN case_state s ON s.case_id = c.id WHERE c.id = ?", ns_ledger_status_sql);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(l->db, sql, -1, &st, NULL);
    free(sql);
    if (rc != SQLITE_OK) {
        seterr(err, errlen, "%s: %s", l->path, sqlite3_errmsg(l->db));
        return -1;
    }
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) { sqlite3_finalize(st); return 1; }
    if (rc != SQLITE_ROW) {
        seterr(err, errlen, "%s: %s", l->path, sqlite3_errmsg(l->db));
        sqlite3_finalize(st);
        return -1;
    }
    cs->id = id;
#define COPY(dst, k) snprintf(dst, sizeof dst, "%s", sqlite3_column_text(st, k) ? (const char *)sqlite3_column_text(st, k) : "")
    COPY(cs->status, 0);
    COPY(cs->priority, 1);
    COPY(cs->action, 2);
    COPY(cs->due_by, 3);
#undef COPY
    cs->n_contacts = sqlite3_column_int(st, 4);
    cs->closed = strcmp(cs->status, "open") && strcmp(cs->status, "contacted") && strcmp(cs->status, "escalated");
    sqlite3_finalize(st);
    return 0;
}
