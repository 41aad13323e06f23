/* ledger.h — the follow-up ledger: every recall as a case, what happened to it, and the
 * indicators a screening programme reports (issue 9).
 *
 * Why a database: a recall list is only the start.  The follow-up team phones families,
 * repeat cards come back on later nights, diagnoses are confirmed or ruled out, and every
 * quarter the programme reports recall completion, loss to follow-up, PPV and turnaround
 * times (DOMAIN.md §8.3).  That record must outlive the nightly output directories and be
 * written by several people and the nightly run at once, so it lives in one SQLite file
 * (WAL journal, busy timeout, every write in one transaction), not in a spreadsheet.
 *
 * The file holds personal data (mother's name, phone): it is created mode 0600, and an
 * existing file with wider permissions is narrowed to 0600 when opened (with a message).
 * Nothing in this module prints a name, phone or ID; errors name the file and the reason.
 *
 * Schema (version NS_LEDGER_SCHEMA, kept in PRAGMA user_version and in the table
 * schema_version; a newer file than this build knows is refused, an older one migrated):
 *
 *   batches     one row per recorded night: batch_key (sha-256 of the night's name, the
 *               manifest's and every plate's sha-256), night, night_date, recorded_at, the
 *               panel's sha-256, card counts (screened, initial, repeat, invalid, qc_hold,
 *               unmatched).  UNIQUE(batch_key): a night is recorded once.
 *   batch_tat   per batch, hours from collection to report (floored) -> number of cards
 *   cases       one per baby on a night's recall list: UNIQUE(batch_id, infant_id); the
 *               opening data (sample_ids, priority, action, due_by, reasons as JSON of the
 *               language-neutral findings, screen_positive, hospital, mother, phone)
 *   case_conditions  (case_id, condition, markers): the condition codes and marker names
 *               that opened the case
 *   events      append-only (triggers refuse UPDATE and DELETE): case_id, at, operator,
 *               kind, detail, and for events that change them the new priority, action,
 *               due_by; the source batch and sample_id of automatic events
 *   orphan_repeats  repeat cards that found no open case (flagged, never dropped)
 *   (version 2 adds indexes on events(sample_id) and orphan_repeats(sample_id))
 *
 * The current state of a case is derived from its events (ns_ledger_case_state(), and the
 * view case_state), never stored.
 *
 * Time: every "now" is ns_ledger_now(): the environment variable NS_NOW
 * ("YYYY-MM-DDTHH:MM[:SS]") when set — for tests and for replaying a night — else the
 * machine's local time (TZ): the manifest's collection times and the times the follow-up
 * team types are the lab's wall-clock times, without a zone, and are compared with it.
 */
#ifndef NS_LEDGER_H
#define NS_LEDGER_H

#include <stdint.h>
#include <sqlite3.h>
#include "log.h"

#define NS_LEDGER_SCHEMA 2   /* 2: indexes on events(sample_id), orphan_repeats(sample_id) */
/* How long a writer waits for another writer's transaction before giving up (ms). */
#define NS_LEDGER_BUSY_MS_DEFAULT 5000

/* Event kinds.  Closing kinds end a case (the latest closing event wins). */
enum {
    NS_EV_OPENED = 0,          /* by `run`: the case opened from the night's recall row */
    NS_EV_CONTACT,             /* contact attempt; detail: reached|no_answer|wrong_number|message_left */
    NS_EV_SAMPLE_RECEIVED,     /* a specimen or a clinic visit came back (recorded by the team) */
    NS_EV_REPEAT_UNSATISFACTORY, /* a repeat card came back unreadable: the case stays open */
    NS_EV_ESCALATED,           /* a repeat card still abnormal: referral, priority raised */
    NS_EV_NOTE,                /* free text only */
    NS_EV_CLEARED,             /* closing: repeat card normal on every condition that opened it */
    NS_EV_CONFIRMED,           /* closing: detail = the condition code */
    NS_EV_RULED_OUT,           /* closing */
    NS_EV_LOST,                /* closing: lost_to_follow_up */
    NS_EV_DECLINED,            /* closing */
    NS_EV_DECEASED,            /* closing */
    NS_EV_N
};

/* "opened", "contact", "sample_received", "repeat_unsatisfactory", "escalated", "note",
 * "cleared_on_repeat", "confirmed", "ruled_out", "lost_to_follow_up", "declined",
 * "deceased" */
const char *ns_ledger_event_name(int kind);
/* The kind named s, or -1. */
int ns_ledger_event_kind(const char *s);
/* 1 if kind closes a case. */
int ns_ledger_event_closes(int kind);

typedef struct ns_ledger {
    sqlite3 *db;
    char *path;
    sqlite3_stmt *ins_event;    /* ns_ledger_add_event()'s INSERT, prepared at its first use */
} ns_ledger_t;

/* Open the ledger at path: created (mode 0600, with its directory's parents existing) when
 * missing and create is 1, migrated to NS_LEDGER_SCHEMA, WAL journal, foreign keys on, busy
 * timeout busy_ms (0 = NS_LEDGER_BUSY_MS_DEFAULT, or $NS_LEDGER_BUSY_MS).
 * @return the ledger (close with ns_ledger_close()), or NULL with a message in err
 *         ("PATH: why": not a database, locked, unwritable, newer schema, ...). */
ns_ledger_t *ns_ledger_open(const char *path, int create, char *err, size_t errlen) NS_RESULT_USED;
void ns_ledger_close(ns_ledger_t *l);
/* Open an existing ledger read-only (`neoscreen report --ledger`, and the indicators of
 * run's report.html): never created, never migrated, its mode left alone, every change
 * refused (PRAGMA query_only; a file we may not write is opened SQLITE_OPEN_READONLY); the
 * busy timeout as above.  Closed last, it removes the -wal and -shm files as a writer
 * would.  The file must hold exactly schema NS_LEDGER_SCHEMA.
 * @return the ledger (close with ns_ledger_close()), or NULL with "PATH: why" in err
 *         (missing, not a database or damaged, locked, not a ledger, older or newer
 *         schema). */
ns_ledger_t *ns_ledger_open_ro(const char *path, char *err, size_t errlen) NS_RESULT_USED;

/* BEGIN IMMEDIATE (takes the write lock now, waiting up to the busy timeout), COMMIT,
 * ROLLBACK.  0, or -1 with the SQLite message in err. */
int ns_ledger_begin(ns_ledger_t *l, char *err, size_t errlen) NS_RESULT_USED;
int ns_ledger_commit(ns_ledger_t *l, char *err, size_t errlen) NS_RESULT_USED;
void ns_ledger_rollback(ns_ledger_t *l);

/* The ledger's "now" as "YYYY-MM-DDTHH:MM:SS" (see the top of this file).  -1 if NS_NOW is
 * set but not a time (out is then ""). */
int ns_ledger_now(char out[24]);
/* Normalize a time "YYYY-MM-DDTHH:MM[:SS]" (or with a space) to "YYYY-MM-DDTHH:MM:SS".
 * -1 if it is not a time. */
int ns_ledger_norm_time(const char *s, char out[24]);

/* Append one event.  priority/action/due_by/batch_id/sample_id may be NULL/-1 (unchanged,
 * none).  Inside the caller's transaction.  Duplicates of an event with the same case,
 * kind, detail, time and operator are ignored (a re-imported sheet adds nothing).
 * @return 1 added, 0 ignored as a duplicate, -1 on a database error (err). */
int ns_ledger_add_event(ns_ledger_t *l, int64_t case_id, const char *at, const char *op, int kind,
                        const char *detail, const char *priority, const char *action,
                        const char *due_by, int64_t batch_id, const char *sample_id,
                        char *err, size_t errlen);

/* The derived state of one case. */
typedef struct {
    int64_t id;
    char status[64];        /* open, contacted, escalated, or the latest closing event
                               (cleared_on_repeat, confirmed:<COND>, ruled_out, ...) */
    int closed;
    char priority[16], action[32], due_by[16];   /* current: the latest event that set them */
    int n_contacts;
} ns_case_state_t;

/* State of case id.  0, 1 if there is no such case, -1 on a database error. */
int ns_ledger_case_state(ns_ledger_t *l, int64_t id, ns_case_state_t *st, char *err, size_t errlen);

/* The case's current status as SQL (a correlated expression over events e of case c.id),
 * shared by the list, the stats and the view, so the rule is written once. */
extern const char *const ns_ledger_status_sql;

#endif
