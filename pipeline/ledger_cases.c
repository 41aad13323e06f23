/* ledger_cases.c — a night's recall list into the ledger; repeat cards linked to open
 * cases (ledger_cases.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json.h"
#include "ledger_cases.h"
#include "log.h"
#include "sha256.h"
#include "util.h"
#include "version.h"
#include "../kernels/call.h"

#define OP_RUN "neoscreen run"

static void seterr(char *err, size_t n, const char *what, sqlite3 *db, const char *path)
{
    snprintf(err, n, "%s: %s%s%s", path, what ? what : "", what ? ": " : "", db ? sqlite3_errmsg(db) : "");
}

void ns_ledger_batch_key(const ns_batch_t *b, char out[65])
{
    ns_sha256_t c;
    uint8_t d[NS_SHA256_LEN];
    ns_sha256_init(&c);
    const char *night = b->night ? b->night : "";
    ns_sha256_update(&c, "neoscreen-batch/1\n", 18);
    ns_sha256_update(&c, night, strlen(night) + 1);
    ns_sha256_update(&c, b->manifest.sha256, strlen(b->manifest.sha256) + 1);
    for (int k = 0; k < b->n_plates; k++) ns_sha256_update(&c, b->plates[k].sha256, strlen(b->plates[k].sha256) + 1);
    ns_sha256_final(&c, d);
    ns_sha256_tohex(d, out);
}

static int is_repeat(const ns_manifest_row_t *r) { return r->specimen && ns_strcaseeq(r->specimen, "repeat"); }

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* a condition code of the panel (an MS/MS condition), or -1 */
static int panel_cond(const ns_panel_t *p, const char *code)
{
    for (int c = 0; c < p->n_conds; c++)
        if (strcmp(p->conds[c].code, code) == 0) return c;
    return -1;
}

/* is s in the ';'-list */
static int in_list(const char *list, const char *s)
{
    size_t k = strlen(s);
    for (const char *q = list; q && *q;) {
        const char *e = strchr(q, ';');
        size_t n = e ? (size_t)(e - q) : strlen(q);
        if (n == k && strncmp(q, s, k) == 0) return 1;
        q = e ? e + 1 : q + n;
    }
    return 0;
}

static void list_add(char **list, const char *s)
{
    if (!*s || in_list(*list, s)) return;
    char *n = *list && **list ? ns_asprintf("%s;%s", *list, s) : ns_strdup(s);
    free(*list);
    *list = n;
}

/* one step more urgent */
static const char *raise_prio(const char *p)
{
    if (strcmp(p, "routine") == 0) return "urgent";
    return "critical";
}

/* infants whose repeat card was linked tonight, and the conditions of the cases it met */
typedef struct { const char *infant; char *conds; } linked_t;

static linked_t *find_linked(linked_t *v, int64_t n, const char *infant)
{
    for (int64_t k = 0; k < n; k++)
        if (strcmp(v[k].infant, infant) == 0) return &v[k];
    return NULL;
}

static int64_t step_id(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : rc == SQLITE_DONE ? 0 : -1;
    sqlite3_reset(st);
    return v;
}

/* The statements every repeat card runs, prepared once per night (preparing them for each
 * card cost more than running them: the open-case query carries the status expression). */
typedef struct {
    sqlite3_stmt *handled;   /* ?1 sample_id, ?2 night: the cases an earlier run of this night
                                linked the card to (0: it was flagged as without a case) */
    sqlite3_stmt *open;      /* ?1 infant, ?2 batch id, ?3 night: the infant's open MS/MS cases
                                opened by earlier nights, and their current priority */
    sqlite3_stmt *conds;     /* ?1 case id: the conditions that opened it */
    sqlite3_stmt *orphan;    /* ?1 batch id, ?2 sample_id, ?3 infant: flag a card without a case */
} link_stmts_t;

static void link_finalize(link_stmts_t *s)
{
    sqlite3_finalize(s->handled);
    sqlite3_finalize(s->open);
    sqlite3_finalize(s->conds);
    sqlite3_finalize(s->orphan);
    memset(s, 0, sizeof *s);
}

static int link_prepare(ns_ledger_t *L, link_stmts_t *s, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    char *open = ns_asprintf("SELECT c.id, s.priority FROM cases c JOIN case_state s ON s.case_id = c.id "
                             "WHERE c.infant_id = ?1 AND c.msms = 1 AND c.batch_id NOT IN (SELECT id FROM batches "
                             "WHERE id = ?2 OR night = ?3) AND %s IN ('open','contacted','escalated') ORDER BY c.id",
                             ns_ledger_status_sql);
    int rc = sqlite3_prepare_v2(L->db,
                                "SELECT DISTINCT e.case_id FROM events e JOIN batches b ON b.id = e.batch_id WHERE "
                                "e.sample_id = ?1 AND b.night = ?2 AND e.kind IN ('cleared_on_repeat','escalated',"
                                "'repeat_unsatisfactory') UNION ALL SELECT 0 FROM orphan_repeats o JOIN batches b ON "
                                "b.id = o.batch_id WHERE o.sample_id = ?1 AND b.night = ?2", -1, &s->handled, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_prepare_v2(L->db, open, -1, &s->open, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(L->db, "SELECT condition FROM case_conditions WHERE case_id = ?1 ORDER BY condition",
                                -1, &s->conds, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(L->db, "INSERT OR IGNORE INTO orphan_repeats(batch_id, sample_id, infant_id) "
                                "VALUES (?1, ?2, ?3)", -1, &s->orphan, NULL);
    free(open);
    if (rc != SQLITE_OK) {
        seterr(err, errlen, NULL, L->db, L->path);
        link_finalize(s);
        return -1;
    }
    return 0;
}

/* Add the conditions that opened case cid to the ';'-list *list.  0, or -1 on a database error. */
static int case_conds(const link_stmts_t *s, int64_t cid, char **list)
{
    sqlite3_bind_int64(s->conds, 1, cid);
    int rc;
    while ((rc = sqlite3_step(s->conds)) == SQLITE_ROW) list_add(list, (const char *)sqlite3_column_text(s->conds, 0));
    sqlite3_reset(s->conds);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Link repeat card (batch row i) to its infant's open cases, with the night's statements
 * s.  Returns -1 on a database error. */
static int link_repeat(ns_ledger_t *L, const link_stmts_t *s, const ns_batch_t *b, int64_t i, int64_t batch_id,
                       const char *now, ns_ledger_night_t *res, linked_t *lk, int64_t *n_lk, char *err,
                       size_t errlen)
{
    const ns_panel_t *p = b->panel;
    const ns_manifest_row_t *r = &b->manifest.rows[b->mrow[i]];
    const char *night = b->night ? b->night : "";
    /* an earlier run of this night (other inputs: a plate re-exported) handled this card
     * already: the same cases again, no new event */
    int done = 0, rc;
    sqlite3_stmt *q = s->handled;
    sqlite3_bind_text(q, 1, b->sample_id[i], -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, night, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t cid = sqlite3_column_int64(q, 0);
        done = 1;
        if (cid == 0) continue;             /* flagged as an orphan then */
        linked_t *e = find_linked(lk, *n_lk, r->infant_id);
        if (!e) {
            e = &lk[(*n_lk)++];
            e->infant = r->infant_id;
            e->conds = ns_strdup("");
        }
        if (case_conds(s, cid, &e->conds) < 0) { rc = SQLITE_ERROR; break; }
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) { seterr(err, errlen, NULL, L->db, L->path); return -1; }
    if (done) return 0;
    q = s->open;
    sqlite3_bind_text(q, 1, r->infant_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, batch_id);
    sqlite3_bind_text(q, 3, night, -1, SQLITE_STATIC);
    int n_cases = 0, ret = 0;
    char day[16];
    ns_format_date(ns_parse_time_h(now), day);
    const size_t un = (size_t)b->n;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t cid = sqlite3_column_int64(q, 0);
        char prio[16];
        snprintf(prio, sizeof prio, "%s", sqlite3_column_text(q, 1) ? (const char *)sqlite3_column_text(q, 1) : "routine");
        n_cases++;
        int unsat = b->state[i] == NS_STATE_INVALID;
        char *still = NULL, *all = NULL;
        if (case_conds(s, cid, &all) < 0) { seterr(err, errlen, NULL, L->db, L->path); ret = -1; break; }
        for (const char *t = all; t && *t;) {
            const char *e = strchr(t, ';');
            char *code = ns_strndup(t, e ? (size_t)(e - t) : strlen(t));
            t = e ? e + 1 : t + strlen(t);
            int c = panel_cond(p, code);
            if (c < 0) {
                /* a panel condition that tonight's panel lacks (renamed, dropped): the card
                 * cannot be called on it.  Hearing and gene codes (with ':') are not for a
                 * blood spot to answer. */
                if (!strchr(code, ':')) unsat = 1;
            } else {
                int v = b->call[(size_t)c * un + (size_t)i];
                if (v == NS_CALL_INDETERMINATE) unsat = 1;
                else if (v != NS_CALL_NEGATIVE) list_add(&still, code);
            }
            free(code);
        }
        int kind, k2;
        const char *np = NULL, *na = NULL, *nd = NULL, *detail = b->sample_id[i];
        if (still) {
            kind = NS_EV_ESCALATED;
            np = raise_prio(prio);
            na = "referral";
            nd = day;
            detail = still;
            res->escalated++;
        } else if (unsat) {
            kind = NS_EV_REPEAT_UNSATISFACTORY;
            res->unsatisfactory++;
        } else {
            kind = NS_EV_CLEARED;
            res->cleared++;
        }
        k2 = ns_ledger_add_event(L, cid, now, OP_RUN, kind, detail, np, na, nd, batch_id, b->sample_id[i], err, errlen);
        free(still);
        if (k2 < 0) { free(all); ret = -1; break; }
        linked_t *e = find_linked(lk, *n_lk, r->infant_id);
        if (!e) {
            e = &lk[(*n_lk)++];
            e->infant = r->infant_id;
            e->conds = NULL;
        }
        for (const char *t = all; t && *t;) {
            const char *x = strchr(t, ';');
            char *one = ns_strndup(t, x ? (size_t)(x - t) : strlen(t));
            list_add(&e->conds, one);
            free(one);
            t = x ? x + 1 : t + strlen(t);
        }
        if (!e->conds) e->conds = ns_strdup("");
        free(all);
    }
    if (ret == 0 && rc != SQLITE_DONE) { seterr(err, errlen, NULL, L->db, L->path); ret = -1; }
    sqlite3_reset(q);
    if (ret < 0) return -1;
    if (n_cases) { res->repeats_linked++; return 0; }
    /* a repeat card without an open case: flagged */
    q = s->orphan;
    sqlite3_bind_int64(q, 1, batch_id);
    sqlite3_bind_text(q, 2, b->sample_id[i], -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, r->infant_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(q);
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) { seterr(err, errlen, NULL, L->db, L->path); return -1; }
    res->orphan_sids = ns_realloc(res->orphan_sids, (size_t)(res->n_orphans + 1) * sizeof *res->orphan_sids);
    res->orphan_sids[res->n_orphans++] = ns_strdup(b->sample_id[i]);
    return 0;
}

/* the findings of one row as JSON (language-neutral: codes, reason keys, arguments) */
static char *reasons_json(const ns_findings_t *fs, const ns_fu_list_t *l, const ns_fu_row_t *r)
{
    static const char *const src[NS_SRC_N] = { "msms", "hearing", "gene" };
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    if (!fp) return ns_strdup("[]");
    ns_json_t j;
    ns_json_init(&j, fp);
    ns_json_arr(&j, NULL);
    for (int64_t k = r->f0; k < r->f1; k++) {
        const ns_finding_t *f = &fs->v[l->order[k]];
        ns_json_obj(&j, NULL);
        ns_json_str(&j, "source", src[f->source]);
        ns_json_str(&j, "sample_id", f->sample_id);
        ns_json_str(&j, "code", f->code);
        ns_json_str(&j, "action", f->note_only ? "" : f->action);
        ns_json_str(&j, "priority", ns_prio_name(f->priority));
        ns_json_str(&j, "reason", f->reason);
        ns_json_obj(&j, "args");
        for (int a = 0; a < f->n_args; a++) ns_json_str(&j, f->arg_name[a], f->arg[a]);
        ns_json_end_obj(&j);
        ns_json_end_obj(&j);
    }
    ns_json_end_arr(&j);
    fclose(fp);
    return buf;
}

static const char *arg_of(const ns_finding_t *f, const char *name)
{
    for (int k = 0; k < f->n_args; k++)
        if (strcmp(f->arg_name[k], name) == 0) return f->arg[k];
    return NULL;
}

/* Open the case of list row g.  Returns -1 on a database error. */
/* The statements of opening a case, prepared once per night (a million-card night opens
 * tens of thousands of cases). */
typedef struct {
    sqlite3_stmt *seen;      /* ?1 infant, ?2 night, ?3 batch id: cases of an earlier run of this night */
    sqlite3_stmt *insert;    /* the case row */
    sqlite3_stmt *cond;      /* ?1 case id, ?2 condition, ?3 markers */
} open_stmts_t;

static void open_finalize(open_stmts_t *s)
{
    sqlite3_finalize(s->seen);
    sqlite3_finalize(s->insert);
    sqlite3_finalize(s->cond);
    memset(s, 0, sizeof *s);
}

static int open_prepare(ns_ledger_t *L, open_stmts_t *s, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    int rc = sqlite3_prepare_v2(L->db, "SELECT count(*) FROM cases c JOIN batches b ON b.id = c.batch_id WHERE "
                                "c.infant_id = ? AND b.night = ? AND b.id <> ?", -1, &s->seen, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(L->db,
                                "INSERT OR IGNORE INTO cases(batch_id, infant_id, sample_ids, opened_at, priority, action, "
                                "due_by, conditions, reasons, screen_positive, msms, hospital, mother_name, contact_phone) "
                                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", -1, &s->insert, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(L->db, "INSERT INTO case_conditions(case_id, condition, markers) VALUES (?,?,?)", -1,
                                &s->cond, NULL);
    if (rc != SQLITE_OK) {
        seterr(err, errlen, NULL, L->db, L->path);
        open_finalize(s);
        return -1;
    }
    return 0;
}

/* a statement ready for its next use: reset, no value left bound */
static void done_with(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

static int open_case(ns_ledger_t *L, const open_stmts_t *os, const ns_batch_t *b, const ns_findings_t *fs, const ns_fu_list_t *l,
                     int64_t g, int64_t batch_id, const char *now, linked_t *lk, int64_t n_lk,
                     ns_ledger_night_t *res, char *err, size_t errlen)
{
    const ns_fu_row_t *r = &l->rows[g];
    const ns_panel_t *p = b->panel;
    char *sids = NULL, *conds = NULL, *action = NULL;
    int msms = 0, sp = 0, other_src = 0, only_linked_repeats = 1;
    /* conditions and the markers that opened them */
    int nc = 0;
    char code[64][NS_FU_KEY_MAX];
    char *markers[64];
    for (int64_t k = r->f0; k < r->f1; k++) {
        const ns_finding_t *f = &fs->v[l->order[k]];
        if (f->sample_id[0]) list_add(&sids, f->sample_id);
        if (f->source != NS_SRC_MSMS) other_src |= !f->note_only;
        else {
            msms = 1;
            int64_t i = f->batch_row;
            if (!(i >= 0 && b->mrow[i] >= 0 && is_repeat(&b->manifest.rows[b->mrow[i]])
                  && find_linked(lk, n_lk, r->infant_id)))
                only_linked_repeats = 0;
        }
        if (f->note_only || !f->code[0] || strncmp(f->code, "specimen:", 9) == 0) continue;
        if (f->source == NS_SRC_MSMS && !f->invalid_card && panel_cond(p, f->code) >= 0) sp = 1;
        list_add(&conds, f->code);
        int c;
        for (c = 0; c < nc; c++)
            if (strcmp(code[c], f->code) == 0) break;
        if (c == nc && nc < 64) {
            snprintf(code[nc], sizeof code[nc], "%s", f->code);
            markers[nc++] = NULL;
        }
        const char *mk = arg_of(f, "marker");
        if (c < nc && mk) list_add(&markers[c], mk);
    }
    /* the most urgent finding's action: referral beats repeat_specimen at equal priority */
    for (int pr = 0; pr < NS_PRIO_N && !action; pr++)
        for (int64_t k = r->f0; k < r->f1; k++) {
            const ns_finding_t *f = &fs->v[l->order[k]];
            if (f->note_only || f->priority != pr) continue;
            if (!action || strcmp(f->action, "referral") == 0) { free(action); action = ns_strdup(f->action); }
        }
    int ret = 0;
    linked_t *e = find_linked(lk, n_lk, r->infant_id);
    if (msms && only_linked_repeats && !other_src && e) {
        /* every condition already on a linked case: recorded by that case's event */
        int covered = 1;
        for (int c = 0; c < nc; c++) covered &= in_list(e->conds, code[c]);
        if (covered) goto out;
    }
    /* a case for this baby from an earlier run of this night (other inputs): not again */
    sqlite3_stmt *st = os->seen;
    sqlite3_bind_text(st, 1, r->infant_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, b->night ? b->night : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, batch_id);
    int seen = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    done_with(st);
    if (seen < 0) { seterr(err, errlen, NULL, L->db, L->path); ret = -1; goto out; }
    if (seen > 0) goto out;
    char due[16] = "";
    if (!isnan(r->due_h)) ns_format_date(r->due_h, due);
    const ns_manifest_row_t *mr = r->mrow >= 0 ? &b->manifest.rows[r->mrow] : NULL;
    char *why = reasons_json(fs, l, r);
    st = os->insert;
    sqlite3_bind_int64(st, 1, batch_id);
    sqlite3_bind_text(st, 2, r->infant_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, sids ? sids : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, now, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, ns_prio_name(r->priority), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, action ? action : "repeat_specimen", -1, SQLITE_TRANSIENT);
    if (due[0]) sqlite3_bind_text(st, 7, due, -1, SQLITE_TRANSIENT);
    else sqlite3_bind_null(st, 7);
    sqlite3_bind_text(st, 8, conds ? conds : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 9, why, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 10, sp);
    sqlite3_bind_int(st, 11, msms);
    if (mr) {
        sqlite3_bind_text(st, 12, mr->hospital ? mr->hospital : "", -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 13, mr->mother_name ? mr->mother_name : "", -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 14, mr->contact_phone ? mr->contact_phone : "", -1, SQLITE_TRANSIENT);
    }
    int rc = sqlite3_step(st);
    done_with(st);
    free(why);
    if (rc != SQLITE_DONE) { seterr(err, errlen, NULL, L->db, L->path); ret = -1; goto out; }
    if (sqlite3_changes(L->db) == 0) goto out;     /* already there */
    int64_t cid = sqlite3_last_insert_rowid(L->db);
    res->cases_opened++;
    res->screen_positive += sp;
    st = os->cond;
    for (int c = 0; c < nc; c++) {
        sqlite3_bind_int64(st, 1, cid);
        sqlite3_bind_text(st, 2, code[c], -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, markers[c] ? markers[c] : "", -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_DONE) { seterr(err, errlen, NULL, L->db, L->path); ret = -1; }
        done_with(st);
        if (ret < 0) break;
    }
    if (ret == 0
        && ns_ledger_add_event(L, cid, now, OP_RUN, NS_EV_OPENED, b->night ? b->night : "", ns_prio_name(r->priority),
                               action ? action : "repeat_specimen", due[0] ? due : NULL, batch_id, NULL, err, errlen) < 0)
        ret = -1;
out:
    for (int c = 0; c < nc; c++) free(markers[c]);
    free(sids); free(conds); free(action);
    return ret;
}

static int night_is_date(const char *s)
{
    if (!s || strlen(s) != 10) return 0;
    char t[32];
    snprintf(t, sizeof t, "%sT00:00", s);
    return !isnan(ns_parse_time_h(t));
}

int ns_ledger_record_night(const char *path, const ns_batch_t *b, const ns_findings_t *fs,
                           const ns_fu_list_t *l, ns_ledger_night_t *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    ns_ledger_batch_key(b, res->batch_key);
    char now[24];
    if (ns_ledger_now(now) < 0) {
        snprintf(err, errlen, "%s: NS_NOW is set but is not a time YYYY-MM-DDTHH:MM[:SS]", path);
        return -1;
    }
    ns_ledger_t *L = ns_ledger_open(path, 1, err, errlen);
    if (!L) return -1;
    int ret = -1;
    sqlite3_stmt *st = NULL;
    link_stmts_t ls;
    open_stmts_t os = { 0 };
    memset(&ls, 0, sizeof ls);
    linked_t *lk = NULL;
    int64_t n_lk = 0, *tat = NULL, n_tat = 0;
    if (ns_ledger_begin(L, err, errlen) < 0) goto done;
    /* 1. the batch */
    if (sqlite3_prepare_v2(L->db, "SELECT id FROM batches WHERE batch_key = ?", -1, &st, NULL) != SQLITE_OK) goto dberr;
    sqlite3_bind_text(st, 1, res->batch_key, -1, SQLITE_STATIC);
    int64_t bid = step_id(st);
    sqlite3_finalize(st);
    st = NULL;
    if (bid < 0) goto dberr;
    if (bid > 0) {
        res->already = 1;
        res->batch_id = bid;
        ns_ledger_rollback(L);
        ret = 0;
        goto done;
    }
    int64_t cnt[6] = {0};   /* screened, initial, repeat, invalid, qc_hold, unmatched */
    /* the night's report went out with its first run: a later run of the same night (other
     * inputs) counts collection -> report against that time */
    double report_h = ns_parse_time_h(now);
    if (sqlite3_prepare_v2(L->db, "SELECT min(recorded_at) FROM batches WHERE night = ?", -1, &st, NULL) != SQLITE_OK)
        goto dberr;
    sqlite3_bind_text(st, 1, b->night ? b->night : "", -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        report_h = ns_parse_time_h((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    st = NULL;
    tat = ns_malloc(((size_t)b->n + 1) * sizeof *tat);
    for (int64_t i = 0; i < b->n; i++) {
        if (b->type[i] != NS_TYPE_PATIENT) continue;
        int s = b->state[i];
        if (s == NS_STATE_UNMATCHED) { cnt[5]++; continue; }
        if (s == NS_STATE_QC_HOLD) { cnt[4]++; continue; }
        if (s != NS_STATE_NEGATIVE && s != NS_STATE_RECALL && s != NS_STATE_INVALID) continue;
        const ns_manifest_row_t *r = &b->manifest.rows[b->mrow[i]];
        cnt[0]++;
        cnt[is_repeat(r) ? 2 : 1]++;
        cnt[3] += s == NS_STATE_INVALID;
        double ch = r->collection_time ? ns_parse_time_h(r->collection_time) : NAN;
        if (!isnan(ch)) tat[n_tat++] = (int64_t)floor(report_h - ch);
    }
    char night_date[16];
    if (night_is_date(b->night)) snprintf(night_date, sizeof night_date, "%s", b->night);
    else ns_format_date(report_h, night_date);
    if (sqlite3_prepare_v2(L->db,
                           "INSERT INTO batches(batch_key, night, night_date, recorded_at, panel_sha256, software_version, "
                           "cards_screened, initial_cards, repeat_cards, invalid_cards, qc_hold_cards, unmatched_cards) "
                           "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", -1, &st, NULL) != SQLITE_OK)
        goto dberr;
    sqlite3_bind_text(st, 1, res->batch_key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, b->night ? b->night : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, night_date, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, now, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, b->panel->sha256, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, NS_VERSION, -1, SQLITE_STATIC);
    for (int k = 0; k < 6; k++) sqlite3_bind_int64(st, 7 + k, cnt[k]);
    if (sqlite3_step(st) != SQLITE_DONE) goto dberr;
    sqlite3_finalize(st);
    st = NULL;
    bid = res->batch_id = sqlite3_last_insert_rowid(L->db);
    if (sqlite3_prepare_v2(L->db, "SELECT count(*) FROM batches WHERE night = ? AND id <> ?", -1, &st, NULL) != SQLITE_OK)
        goto dberr;
    sqlite3_bind_text(st, 1, b->night ? b->night : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, bid);
    res->earlier_runs = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    st = NULL;
    /* collection -> report, hours (floored), as a histogram: counted in one pass when the
     * hours span a plausible range (a 1 M-card night costs no sort), else sorted */
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (int64_t k = 0; k < n_tat; k++) {
        if (tat[k] < lo) lo = tat[k];
        if (tat[k] > hi) hi = tat[k];
    }
    int64_t *cnt_h = NULL;
    if (n_tat && hi - lo < 1000000) {
        cnt_h = ns_calloc((size_t)(hi - lo + 1), sizeof *cnt_h);
        for (int64_t k = 0; k < n_tat; k++) cnt_h[tat[k] - lo]++;
    } else {
        qsort(tat, (size_t)n_tat, sizeof *tat, cmp_i64);
    }
    if (sqlite3_prepare_v2(L->db, "INSERT INTO batch_tat(batch_id, hours, n) VALUES (?,?,?)", -1, &st, NULL) != SQLITE_OK) {
        free(cnt_h);
        goto dberr;
    }
    for (int64_t k = 0; k < (cnt_h ? hi - lo + 1 : n_tat);) {
        int64_t hours, n, e = k + 1;
        if (cnt_h) {
            hours = lo + k;
            n = cnt_h[k];
        } else {
            while (e < n_tat && tat[e] == tat[k]) e++;
            hours = tat[k];
            n = e - k;
        }
        k = e;
        if (n == 0) continue;
        sqlite3_bind_int64(st, 1, bid);
        sqlite3_bind_int64(st, 2, hours);
        sqlite3_bind_int64(st, 3, n);
        if (sqlite3_step(st) != SQLITE_DONE) { free(cnt_h); goto dberr; }
        sqlite3_reset(st);
    }
    free(cnt_h);
    sqlite3_finalize(st);
    st = NULL;
    /* 2. repeat cards */
    lk = ns_calloc((size_t)b->n + 1, sizeof *lk);
    if (link_prepare(L, &ls, err, errlen) < 0) goto fail;
    for (int64_t i = 0; i < b->n; i++) {
        if (b->type[i] != NS_TYPE_PATIENT || b->mrow[i] < 0) continue;
        int s = b->state[i];
        if (s != NS_STATE_NEGATIVE && s != NS_STATE_RECALL && s != NS_STATE_INVALID) continue;
        if (!is_repeat(&b->manifest.rows[b->mrow[i]])) continue;
        if (link_repeat(L, &ls, b, i, bid, now, res, lk, &n_lk, err, errlen) < 0) goto fail;
    }
    link_finalize(&ls);
    ns_info(2, "ledger", "%lld repeat cards linked, %lld without an open case", (long long)res->repeats_linked,
            (long long)res->n_orphans);
    /* 3. cases */
    if (open_prepare(L, &os, err, errlen) < 0) goto fail;
    for (int64_t g = 0; g < l->n; g++)
        if (open_case(L, &os, b, fs, l, g, bid, now, lk, n_lk, res, err, errlen) < 0) goto fail;
    open_finalize(&os);
    ns_info(2, "ledger", "%lld cases opened", (long long)res->cases_opened);
    if (ns_ledger_commit(L, err, errlen) < 0) goto fail;
    ret = 0;
    goto done;
dberr:
    seterr(err, errlen, NULL, L->db, L->path);
fail:
    sqlite3_finalize(st);
    link_finalize(&ls);
    open_finalize(&os);
    ns_ledger_rollback(L);
    /* nothing was recorded: the counts must not say otherwise */
    {
        char key[65];
        memcpy(key, res->batch_key, sizeof key);
        ns_ledger_night_free(res);
        memcpy(res->batch_key, key, sizeof key);
    }
done:
    for (int64_t k = 0; k < n_lk; k++) free(lk[k].conds);
    free(lk);
    free(tat);
    ns_ledger_close(L);
    return ret;
}

void ns_ledger_night_free(ns_ledger_night_t *res)
{
    for (int64_t k = 0; k < res->n_orphans; k++) free(res->orphan_sids[k]);
    free(res->orphan_sids);
    memset(res, 0, sizeof *res);
}

void ns_ledger_night_summary(ns_json_t *j, const char *path, const ns_ledger_night_t *res, const char *error,
                             const char *indicators_as_of)
{
    ns_json_obj(j, "ledger");
    ns_json_str(j, "path", path);
    ns_json_str(j, "status", !path ? "disabled" : error ? "failed" : res && res->already ? "already_recorded" : "recorded");
    ns_json_str(j, "error", error);
    if (path && !error && res) {
        ns_json_str(j, "batch_key", res->batch_key);
        ns_json_int(j, "earlier_runs_of_night", res->earlier_runs);
        ns_json_int(j, "cases_opened", res->cases_opened);
        ns_json_int(j, "screen_positive_cases", res->screen_positive);
        ns_json_int(j, "repeat_cards_linked", res->repeats_linked);
        ns_json_int(j, "cleared_on_repeat", res->cleared);
        ns_json_int(j, "escalated", res->escalated);
        ns_json_int(j, "repeat_unsatisfactory", res->unsatisfactory);
        ns_json_int(j, "repeat_without_case", res->n_orphans);
        ns_json_arr(j, "repeat_without_case_sample_ids");
        for (int64_t k = 0; k < res->n_orphans; k++) ns_json_str(j, NULL, res->orphan_sids[k]);
        ns_json_end_arr(j);
    }
    ns_json_str(j, "indicators_as_of", indicators_as_of);
    ns_json_end_obj(j);
}

char *ns_ledger_run_path(const char *given, const char *configured, const char *out)
{
    if (given) return ns_strdup(given);
    const char *e = getenv("NEOSCREEN_LEDGER");
    if (e && *e) return ns_strdup(e);
    if (configured) return ns_strdup(configured);
    char *o = ns_strdup(out);
    size_t n = strlen(o);
    while (n > 1 && o[n - 1] == '/') o[--n] = 0;
    char *slash = strrchr(o, '/');
    char *p;
    if (!slash) p = ns_strdup("ledger.sqlite");
    else if (slash == o) p = ns_strdup("/ledger.sqlite");
    else { *slash = 0; p = ns_asprintf("%s/ledger.sqlite", o); }
    free(o);
    return p;
}
