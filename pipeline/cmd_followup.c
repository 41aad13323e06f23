/* cmd_followup.c — `neoscreen followup`: the follow-up team's side of the ledger
 * (ledger.h): list open and overdue cases, record what happened (one event at a time or a
 * filled-in sheet), the programme's indicators, and the confirmed cases as the
 * known-outcomes file `rescore --outcomes` reads.
 *
 * Personal data (mother's name, phone) leaves the ledger only in `list` files, mode 0600;
 * nothing here prints a name or phone to stdout or stderr.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "atomic_file.h"
#include "cmds.h"
#include "csv.h"
#include "encoding.h"
#include "ingest.h"
#include "lang.h"
#include "ledger.h"
#include "ledger_stats.h"
#include "log.h"
#include "panel.h"
#include "table.h"
#include "util.h"
#include "xlsx_read.h"

#define SUB "followup"
#define DEFAULT_CONFIG "configs/panel-default.yaml"
#define DEFAULT_LANG "configs/lang.yaml"

static void usage(FILE *fp)
{
    fputs(
"Usage: neoscreen followup <command> -d LEDGER [options]\n"
"\n"
"The follow-up ledger (SQLite, mode 0600) that `neoscreen run` fills: every baby on a\n"
"night's recall list is a case; repeat cards on later nights clear or escalate it; the\n"
"follow-up team records what happened.  Every change is an event with its time and\n"
"operator; nothing is ever overwritten.\n"
"\n"
"Commands:\n"
"  list              open cases (or --overdue, --all, --orphans) as CSV or XLSX, by due date\n"
"  record            add one event to a case\n"
"  import            add the events of a filled-in sheet (CSV or XLSX), all or nothing\n"
"  stats             programme indicators per month or quarter (CSV, JSON)\n"
"  export-outcomes   confirmed diagnoses as the known-outcomes CSV of `rescore --outcomes`\n"
"\n"
"Common options:\n"
"  -d, --ledger FILE  the ledger [$NEOSCREEN_LEDGER]\n"
"  -v, --verbosity N  0 errors only, 1 what was done (default)\n"
"  -h, --help         this text; `neoscreen followup COMMAND --help` for a command\n"
"\n"
"Time: every default time is now (the machine's local time, like the manifest's and the\n"
"team's times), or $NS_NOW (YYYY-MM-DDTHH:MM[:SS]) when set, for tests and replays.\n"
"Exit status: 0 done, 1 usage or input error (nothing changed), 2 a row of an import\n"
"was refused (nothing changed), 3 the ledger could not be opened or written (damaged,\n"
"locked beyond the busy timeout, unwritable).\n", fp);
}

static void usage_list(FILE *fp)
{
    fputs(
"Usage: neoscreen followup list -d LEDGER -o FILE [--overdue | --all | --orphans]\n"
"\n"
"Writes the cases still open (status open, contacted or escalated) to FILE (.csv or\n"
".xlsx, mode 0600: it holds names and phones), sorted by due date (none last), then\n"
"priority, then case id.  Columns: case_id, status, priority, action, due_by, overdue,\n"
"night, opened_at, infant_id, sample_ids, conditions, hospital, mother_name,\n"
"contact_phone, contacts, last_event, last_event_at, and three empty columns event,\n"
"detail, at for the team to fill in: the same file goes back with `followup import`.\n"
"The current priority, action and due date are the latest an event set (an escalation\n"
"raises them).\n"
"\n"
"  -o, --out FILE   output file (.csv or .xlsx) [required]\n"
"      --overdue    only open cases whose due date is before today\n"
"      --all        every case, closed ones too\n"
"      --orphans    repeat cards that found no open case: night, sample_id, infant_id\n"
"      --no-bom     CSV without the UTF-8 byte-order mark\n"
"  -L, --lang CODE  headers, status, priority, action, last event and yes/no in en or zh\n"
"                   [the translation table's default]; IDs and codes never change\n"
"      --lang-file FILE  translation table [$NEOSCREEN_LANG_FILE, else configs/lang.yaml]\n", fp);
}

static void usage_record(FILE *fp)
{
    fputs(
"Usage: neoscreen followup record -d LEDGER --operator NAME [--at TIME] CASE_ID EVENT [DETAIL]\n"
"\n"
"Adds one event to case CASE_ID (the case_id column of `followup list`).  EVENT:\n"
"  contact RESULT        a contact attempt; RESULT reached, no_answer, wrong_number or\n"
"                        message_left\n"
"  sample_received       a specimen or clinic visit came back (DETAIL: optional note)\n"
"  confirmed:CONDITION   diagnosis confirmed (a condition code of the panel, -c)\n"
"  ruled_out             diagnosis ruled out\n"
"  lost_to_follow_up     the family cannot be reached any more\n"
"  declined              the family declined follow-up\n"
"  deceased\n"
"  note TEXT             a note only\n"
"The last of confirmed, ruled_out, lost_to_follow_up, declined, deceased and\n"
"cleared_on_repeat (by `run`) is the case's status.  The same event (case, event,\n"
"detail, time, operator) recorded twice is kept once.\n"
"\n"
"  --operator NAME  who records it [required: never taken from the login silently]\n"
"  --at TIME        when it happened, YYYY-MM-DDTHH:MM[:SS] [now]\n"
"  -c, --config FILE  panel whose condition codes confirmed: accepts [as `run`]\n", fp);
}

static void usage_import(FILE *fp)
{
    fputs(
"Usage: neoscreen followup import -d LEDGER --operator NAME FILE.csv|FILE.xlsx\n"
"\n"
"Adds the events of a sheet the team filled in: a CSV (UTF-8 with or without BOM, or\n"
"GBK) or an XLSX workbook (its first sheet) with a header row holding case_id and\n"
"event, and optionally detail and at (values as for `record`; in XLSX `at` may be a\n"
"date cell).  Other columns are ignored: the list `followup list` writes, filled in,\n"
"goes back as it is.  Rows with an empty event are skipped.  Every row is checked\n"
"first; any problem is reported as FILE:LINE:COL (XLSX: row and column number, and the\n"
"cell) and nothing is imported (exit 2).  Otherwise all rows go in one transaction.\n"
"Importing the same sheet again adds nothing when it gives the times (at).\n"
"\n"
"  --operator NAME  who imports [required]\n"
"  -c, --config FILE  panel whose condition codes confirmed: accepts [as `run`]\n"
"  -L, --lang CODE  also know the columns by their headers in this language (a list\n"
"                   written with `followup list -L zh` goes back with -L zh)\n"
"      --lang-file FILE  translation table [$NEOSCREEN_LANG_FILE, else configs/lang.yaml]\n", fp);
}

static void usage_stats(FILE *fp)
{
    fputs(
"Usage: neoscreen followup stats -d LEDGER --from DATE --to DATE [options]\n"
"\n"
"Programme indicators for the nights dated DATE..DATE (inclusive), as CSV (period,\n"
"indicator, condition, numerator, denominator, value, n, source) on stdout or -o, and\n"
"JSON with --json.  Indicators (README \"Follow-up ledger\" has each definition and its\n"
"DOMAIN.md source): cards_screened, initial_cards, unsatisfactory_rate,\n"
"screen_positive_rate (ALL and per condition), recall_completion_rate,\n"
"loss_to_follow_up_rate, median_days_collection_to_report,\n"
"median_days_report_to_first_contact, confirmed_cases, ppv, incidence (ALL and per\n"
"condition), repeat_without_case.  Rates are fractions (0.0123 = 1.23 %).\n"
"\n"
"  --from DATE, --to DATE  YYYY-MM-DD [required]\n"
"  --by month|quarter|all  grouping [quarter]\n"
"  -o, --out FILE          CSV to FILE instead of stdout\n"
"      --json FILE         also JSON\n", fp);
}

static void usage_export(FILE *fp)
{
    fputs(
"Usage: neoscreen followup export-outcomes -d LEDGER -o FILE\n"
"\n"
"Writes every case whose status is confirmed:CONDITION as the known-outcomes CSV that\n"
"`neoscreen rescore --outcomes` and `cutoffs derive --outcomes` read: sample_id,\n"
"infant_id, condition, then case_id, night, confirmed_at (ignored by rescore).  One row\n"
"per baby and condition.  Mode 0600: a diagnosis beside an ID is health data.\n", fp);
}

/* ---- shared ----------------------------------------------------------------------- */

static ns_ledger_t *open_ledger(const char *given, int create)
{
    const char *path = given ? given : getenv("NEOSCREEN_LEDGER");
    if (!path || !*path) {
        ns_error(SUB, "no ledger: give -d FILE (or set $NEOSCREEN_LEDGER)");
        return NULL;
    }
    char err[512];
    ns_ledger_t *l = ns_ledger_open(path, create, err, sizeof err);
    if (!l) ns_error(SUB, "%s", err);
    return l;
}

static int operator_ok(const char *op)
{
    if (!op || !*op) {
        ns_error(SUB, "--operator NAME is required: every event says who recorded it");
        return 0;
    }
    size_t n = strlen(op);
    int ok = n <= 64 && ns_utf8_valid_prefix(op, strlen(op)) == strlen(op);
    for (const char *p = op; *p && ok; p++) ok = (unsigned char)*p >= 0x20 && *p != 0x7f;
    if (!ok) ns_error(SUB, "--operator must be 1 to 64 characters of text");
    return ok;
}

/* One event, checked: kind, detail and time normalized.  why gets the problem. */
typedef struct {
    int64_t case_id;
    int kind;
    char detail[512];
    char at[24];
} ev_t;

static int check_event(ns_ledger_t *l, const ns_panel_t *panel, const char *case_s, const char *event,
                       const char *detail, const char *at, const char *now, ev_t *e, char *why, size_t wn,
                       int *bad_field)
{
    memset(e, 0, sizeof *e);
    char *end;
    errno = 0;
    long long id = strtoll(case_s, &end, 10);
    *bad_field = 0;
    if (!*case_s || *end || errno || id <= 0) { snprintf(why, wn, "case_id '%s' is not a case number", case_s); return -1; }
    e->case_id = id;
    ns_case_state_t cs;
    char err[512];
    int r = ns_ledger_case_state(l, id, &cs, err, sizeof err);
    if (r < 0) { snprintf(why, wn, "%s", err); return -2; }
    if (r > 0) { snprintf(why, wn, "there is no case %lld in the ledger", id); return -1; }
    *bad_field = 1;
    const char *cond = NULL;
    if (strncmp(event, "confirmed:", 10) == 0) {
        cond = event + 10;
        e->kind = NS_EV_CONFIRMED;
    } else {
        e->kind = ns_ledger_event_kind(event);
        if (e->kind == NS_EV_CONFIRMED) cond = detail;
    }
    if (e->kind < 0 || e->kind == NS_EV_OPENED || e->kind == NS_EV_CLEARED || e->kind == NS_EV_ESCALATED
        || e->kind == NS_EV_REPEAT_UNSATISFACTORY) {
        snprintf(why, wn, "event '%s' is not one the team records (contact, sample_received, "
                 "confirmed:CONDITION, ruled_out, lost_to_follow_up, declined, deceased, note)", event);
        return -1;
    }
    *bad_field = 2;
    if (detail && ns_utf8_valid_prefix(detail, strlen(detail)) != strlen(detail)) { snprintf(why, wn, "detail is not UTF-8 text"); return -1; }
    if (detail && strlen(detail) >= sizeof e->detail) { snprintf(why, wn, "detail is longer than %zu bytes", sizeof e->detail - 1); return -1; }
    if (e->kind == NS_EV_CONFIRMED) {
        *bad_field = cond == detail ? 2 : 1;
        int ok = 0;
        for (int c = 0; cond && c < panel->n_conds && !ok; c++) ok = strcmp(panel->conds[c].code, cond) == 0;
        if (!ok) {
            snprintf(why, wn, "'%s' is not a condition code of the panel %s (confirmed:CODE, e.g. confirmed:%s)",
                     cond ? cond : "", panel->path, panel->n_conds ? panel->conds[0].code : "PKU");
            return -1;
        }
        snprintf(e->detail, sizeof e->detail, "%s", cond);
    } else if (e->kind == NS_EV_CONTACT) {
        static const char *const res[] = { "reached", "no_answer", "wrong_number", "message_left" };
        int ok = 0;
        for (int k = 0; k < 4 && detail; k++) ok |= strcmp(detail, res[k]) == 0;
        if (!ok) {
            snprintf(why, wn, "contact wants a result: reached, no_answer, wrong_number or message_left");
            return -1;
        }
        snprintf(e->detail, sizeof e->detail, "%s", detail);
    } else if (e->kind == NS_EV_NOTE && (!detail || !*detail)) {
        snprintf(why, wn, "note wants its text");
        return -1;
    } else {
        snprintf(e->detail, sizeof e->detail, "%s", detail ? detail : "");
    }
    *bad_field = 3;
    if (at && *at) {
        if (ns_ledger_norm_time(at, e->at) < 0) {
            snprintf(why, wn, "time '%s' is not YYYY-MM-DDTHH:MM[:SS]", at);
            return -1;
        }
        if (strcmp(e->at, now) > 0) {
            snprintf(why, wn, "time %s is in the future (now is %s)", e->at, now);
            return -1;
        }
    } else {
        snprintf(e->at, sizeof e->at, "%s", now);
    }
    return 0;
}

static ns_panel_t *load_panel(const char *config)
{
    char *cfg = ns_config_path(config, "NEOSCREEN_CONFIG", DEFAULT_CONFIG);
    ns_panel_t *p = ns_panel_open(SUB, cfg, NULL, "nothing was changed");
    free(cfg);
    return p;
}

/* The translation table (--lang-file, else $NEOSCREEN_LANG_FILE, else configs/lang.yaml
 * found like the panel) in language code (NULL = its default); NULL after reporting. */
static ns_lang_t *load_lang(const char *file, const char *code)
{
    char *path = ns_config_path(file, "NEOSCREEN_LANG_FILE", DEFAULT_LANG);
    ns_panel_errs_t e;
    ns_lang_t *L = ns_lang_load(path, code, &e);
    if (!L) {
        ns_panel_errs_print(stderr, "neoscreen followup", path, NULL, &e);
        ns_error(SUB, "%s: %d problem%s in the translation table; nothing was written", path, e.n, e.n == 1 ? "" : "s");
    }
    ns_panel_errs_free(&e);
    free(path);
    return L;
}

/* ---- record ----------------------------------------------------------------------- */

static int cmd_record(int argc, char **argv)
{
    static const struct option lopts[] = {
        { "ledger", required_argument, NULL, 'd' }, { "operator", required_argument, NULL, 'O' },
        { "at", required_argument, NULL, 'A' }, { "config", required_argument, NULL, 'c' },
        { "verbosity", required_argument, NULL, 'v' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
    const char *db = NULL, *op = NULL, *at = NULL, *config = NULL;
    int ch;
    if (argc == 1) { usage_record(stdout); return 1; }
    optind = 1;
    while ((ch = getopt_long(argc, argv, "d:c:v:h", lopts, NULL)) >= 0) {
        switch (ch) {
        case 'd': db = optarg; break;
        case 'O': op = optarg; break;
        case 'A': at = optarg; break;
        case 'c': config = optarg; break;
        case 'v': ns_verbosity = atoi(optarg); break;
        case 'h': usage_record(stdout); return 0;
        default: usage_record(stderr); return 1;
        }
    }
    if (argc - optind < 2 || argc - optind > 3) {
        ns_error(SUB, "record wants CASE_ID EVENT [DETAIL] (see 'neoscreen followup record --help')");
        return 1;
    }
    if (!operator_ok(op)) return 1;
    char now[24];
    if (ns_ledger_now(now) < 0) { ns_error(SUB, "NS_NOW is set but is not a time"); return 1; }
    ns_panel_t *panel = load_panel(config);
    if (!panel) return 1;
    ns_ledger_t *l = open_ledger(db, 0);
    if (!l) { ns_panel_free(panel); return 3; }
    int ret = 0, bf;
    char why[640], err[512];
    ev_t e;
    if (ns_ledger_begin(l, err, sizeof err) < 0) { ns_error(SUB, "%s", err); ret = 3; goto out; }
    int r = check_event(l, panel, argv[optind], argv[optind + 1], argc - optind == 3 ? argv[optind + 2] : NULL, at, now,
                        &e, why, sizeof why, &bf);
    if (r < 0) {
        ns_error(SUB, "%s%s", why, r == -2 ? "" : " (nothing recorded)");
        ns_ledger_rollback(l);
        ret = r == -2 ? 3 : 1;
        goto out;
    }
    r = ns_ledger_add_event(l, e.case_id, e.at, op, e.kind, e.detail, NULL, NULL, NULL, -1, NULL, err, sizeof err);
    if (r < 0 || ns_ledger_commit(l, err, sizeof err) < 0) {
        ns_error(SUB, "%s (nothing recorded)", err);
        ns_ledger_rollback(l);
        ret = 3;
        goto out;
    }
    ns_case_state_t cs;
    if (ns_ledger_case_state(l, e.case_id, &cs, err, sizeof err) == 0)
        ns_info(1, SUB, "case %lld: %s %s; status %s", (long long)e.case_id, ns_ledger_event_name(e.kind),
                r ? "recorded" : "already recorded (kept once)", cs.status);
out:
    ns_ledger_close(l);
    ns_panel_free(panel);
    return ret;
}

/* ---- import ----------------------------------------------------------------------- */

/* One row of a sheet, from CSV or XLSX: fields with their line (XLSX: the row number) and
 * column (CSV: in characters; XLSX: the column number, A = 1). */
typedef struct {
    int line, nf;
    char **f;
    int *col;
} rec_t;

static void recs_free(rec_t *v, int n)
{
    for (int k = 0; k < n; k++) {
        for (int j = 0; j < v[k].nf; j++) free(v[k].f[j]);
        free(v[k].f);
        free(v[k].col);
    }
    free(v);
}

/* The sheet at path as records; CSV syntax errors reported (counted in *nbad). */
static rec_t *read_sheet(const char *path, int *n, int *nbad)
{
    *n = 0;
    rec_t *v = NULL;
    size_t pl = strlen(path);
    if (pl > 5 && ns_strcaseeq(path + pl - 5, ".xlsx")) {
        ns_xlsx_sheet_t sh;
        char err[512];
        if (ns_xlsx_read(path, &sh, err, sizeof err) < 0) {
            ns_error(SUB, "%s", err);
            return NULL;
        }
        v = ns_calloc((size_t)sh.nrows + 1, sizeof *v);
        for (int r = 0; r < sh.nrows; r++) {
            rec_t *x = &v[(*n)++];
            x->line = sh.rows[r].r;
            x->nf = sh.rows[r].n;
            x->f = ns_calloc((size_t)x->nf + 1, sizeof *x->f);
            x->col = ns_calloc((size_t)x->nf + 1, sizeof *x->col);
            for (int k = 0; k < x->nf; k++) {
                x->f[k] = ns_strdup(sh.rows[r].cells[k] ? sh.rows[r].cells[k] : "");
                x->col[k] = k + 1;
            }
        }
        ns_xlsx_free(&sh);
        return v;
    }
    char *text = NULL, *rerr = NULL, sha[65], enc[8];
    size_t tlen;
    int64_t rows;
    if (ns_ingest_read(path, &text, &tlen, sha, enc, &rerr, &rows) < 0) {
        ns_error(SUB, "%s", rerr);
        free(rerr);
        return NULL;
    }
    ns_csv_t c;
    ns_csv_init(&c, text, tlen);
    int r;
    v = ns_calloc(1, sizeof *v);
    while ((r = ns_csv_next(&c)) != 0) {
        if (r < 0) {
            ns_error(SUB, "%s:%d:%d: %s", path, c.err_line, c.err_col, c.err);
            (*nbad)++;
            continue;
        }
        v = ns_realloc(v, (size_t)(*n + 1) * sizeof *v);
        rec_t *x = &v[(*n)++];
        x->line = c.rec_line;
        x->nf = c.nf;
        x->f = ns_calloc((size_t)c.nf + 1, sizeof *x->f);
        x->col = ns_calloc((size_t)c.nf + 1, sizeof *x->col);
        for (int k = 0; k < c.nf; k++) {
            x->f[k] = ns_strdup(c.f[k]);
            x->col[k] = c.fcol[k];
        }
    }
    ns_csv_free(&c);
    free(text);
    return v;
}

static int cmd_import(int argc, char **argv)
{
    static const struct option lopts[] = {
        { "ledger", required_argument, NULL, 'd' }, { "operator", required_argument, NULL, 'O' },
        { "config", required_argument, NULL, 'c' }, { "lang", required_argument, NULL, 'L' },
        { "lang-file", required_argument, NULL, 'F' },
        { "verbosity", required_argument, NULL, 'v' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
    const char *db = NULL, *op = NULL, *config = NULL, *lang_code = NULL, *lang_file = NULL;
    int ch;
    if (argc == 1) { usage_import(stdout); return 1; }
    optind = 1;
    while ((ch = getopt_long(argc, argv, "d:c:L:v:h", lopts, NULL)) >= 0) {
        switch (ch) {
        case 'd': db = optarg; break;
        case 'O': op = optarg; break;
        case 'c': config = optarg; break;
        case 'L': lang_code = optarg; break;
        case 'F': lang_file = optarg; break;
        case 'v': ns_verbosity = atoi(optarg); break;
        case 'h': usage_import(stdout); return 0;
        default: usage_import(stderr); return 1;
        }
    }
    if (argc - optind != 1) { ns_error(SUB, "import wants one FILE.csv"); return 1; }
    if (!operator_ok(op)) return 1;
    const char *path = argv[optind];
    char now[24];
    if (ns_ledger_now(now) < 0) { ns_error(SUB, "NS_NOW is set but is not a time"); return 1; }
    int nrec = 0, nbad = 0;
    rec_t *recs = read_sheet(path, &nrec, &nbad);
    if (!recs) return 1;
    ns_panel_t *panel = load_panel(config);
    ns_lang_t *L = panel ? load_lang(lang_file, lang_code) : NULL;
    if (!L) { recs_free(recs, nrec); ns_panel_free(panel); return 1; }
    ns_ledger_t *l = open_ledger(db, 0);
    if (!l) { recs_free(recs, nrec); ns_panel_free(panel); ns_lang_free(L); return 3; }
    int ret = 0, xlsx = strlen(path) > 5 && ns_strcaseeq(path + strlen(path) - 5, ".xlsx");
    ev_t *ev = NULL;
    int64_t nev = 0;
    char err[512], why[640];
    /* checked and applied in one write transaction: the checks see the ledger the rows
     * go into */
    if (ns_ledger_begin(l, err, sizeof err) < 0) { ns_error(SUB, "%s", err); ret = 3; goto out; }
    int col[4] = { -1, -1, -1, -1 };   /* case_id, event, detail, at */
    static const char *const names[4] = { "case_id", "event", "detail", "at" };
    if (nrec == 0) { ns_error(SUB, "%s: no header line", path); ret = 2; goto rollback; }
    /* a column is known by its key or by its header in the chosen language */
    for (int k = 0; k < recs[0].nf; k++)
        for (int j = 0; j < 4; j++) {
            char key[32];
            snprintf(key, sizeof key, "col.%s", names[j]);
            if ((strcmp(recs[0].f[k], names[j]) == 0 || strcmp(recs[0].f[k], ns_lang_get(L, key)) == 0) && col[j] < 0)
                col[j] = k;
        }
    if (col[0] < 0 || col[1] < 0) {
        ns_error(SUB, "%s:%d:1: the header needs the columns case_id and event", path, recs[0].line);
        ret = 2;
        goto rollback;
    }
    for (int i = 1; i < nrec; i++) {
        rec_t *x = &recs[i];
        const char *ev_s = col[1] < x->nf ? x->f[col[1]] : "";
        if (!*ev_s) continue;
        const char *cs = col[0] < x->nf ? x->f[col[0]] : "";
        const char *det = col[2] >= 0 && col[2] < x->nf && x->f[col[2]][0] ? x->f[col[2]] : NULL;
        const char *at = col[3] >= 0 && col[3] < x->nf ? x->f[col[3]] : NULL;
        /* a sheet written by `followup list` may carry the anti-formula apostrophe */
        if (det && det[0] == '\'' && ns_table_formula_risk(det + 1)) det++;
        /* XLSX: a date typed into a cell is a number (days since 1899-12-30) */
        char at_buf[24];
        if (xlsx && at && *at && ns_xlsx_serial_to_time(at, at_buf) == 0) at = at_buf;
        ev_t e;
        int bf;
        int k = check_event(l, panel, cs, ev_s, det, at, now, &e, why, sizeof why, &bf);
        if (k == -2) { ns_error(SUB, "%s", why); ret = 3; goto rollback; }
        if (k < 0) {
            int fc = bf == 0 ? col[0] : bf == 1 ? col[1] : bf == 2 ? col[2] : col[3];
            int cc = fc >= 0 && fc < x->nf ? x->col[fc] : fc >= 0 ? fc + 1 : 1;
            if (xlsx) {
                char cn[8];
                ns_xlsx_col_name(cc - 1, cn);
                ns_error(SUB, "%s:%d:%d: (cell %s%d) %s", path, x->line, cc, cn, x->line, why);
            } else {
                ns_error(SUB, "%s:%d:%d: %s", path, x->line, cc, why);
            }
            nbad++;
            continue;
        }
        ev = ns_realloc(ev, (size_t)(nev + 1) * sizeof *ev);
        ev[nev++] = e;
    }
    if (nbad) {
        ns_error(SUB, "%s: %d row%s refused; nothing was imported (fix the row%s and import the file again)", path,
                 nbad, nbad == 1 ? "" : "s", nbad == 1 ? "" : "s");
        ret = 2;
        goto rollback;
    }
    int64_t added = 0;
    for (int64_t k = 0; k < nev; k++) {
        int a = ns_ledger_add_event(l, ev[k].case_id, ev[k].at, op, ev[k].kind, ev[k].detail, NULL, NULL, NULL, -1,
                                    NULL, err, sizeof err);
        if (a < 0) { ns_error(SUB, "%s (nothing imported)", err); ret = 3; goto rollback; }
        added += a;
    }
    if (ns_ledger_commit(l, err, sizeof err) < 0) { ns_error(SUB, "%s (nothing imported)", err); ret = 3; goto rollback; }
    ns_info(1, SUB, "%s: %lld events imported, %lld already in the ledger", path, (long long)added,
            (long long)(nev - added));
    goto out;
rollback:
    ns_ledger_rollback(l);
out:
    recs_free(recs, nrec);
    free(ev);
    ns_ledger_close(l);
    ns_panel_free(panel);
    ns_lang_free(L);
    return ret;
}

/* ---- list ------------------------------------------------------------------------- */

static const char *const list_cols[] = {
    "case_id", "status", "priority", "action", "due_by", "overdue", "night", "opened_at", "infant_id",
    "sample_ids", "conditions", "hospital", "mother_name", "contact_phone", "contacts", "last_event",
    "last_event_at", "event", "detail", "at",
};
#define N_FILL_COLS 3   /* event, detail, at: left empty for the team to fill in and import */
#define N_LIST_COLS (int)(sizeof list_cols / sizeof list_cols[0])

static int cmd_list(int argc, char **argv)
{
    static const struct option lopts[] = {
        { "ledger", required_argument, NULL, 'd' }, { "out", required_argument, NULL, 'o' },
        { "overdue", no_argument, NULL, 'V' }, { "all", no_argument, NULL, 'a' },
        { "orphans", no_argument, NULL, 'R' }, { "no-bom", no_argument, NULL, 'B' },
        { "lang", required_argument, NULL, 'L' }, { "lang-file", required_argument, NULL, 'F' },
        { "verbosity", required_argument, NULL, 'v' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
    const char *db = NULL, *out = NULL, *lang_code = NULL, *lang_file = NULL;
    int overdue = 0, all = 0, orphans = 0, bom = 1, ch;
    if (argc == 1) { usage_list(stdout); return 1; }
    optind = 1;
    while ((ch = getopt_long(argc, argv, "d:o:L:v:h", lopts, NULL)) >= 0) {
        switch (ch) {
        case 'd': db = optarg; break;
        case 'o': out = optarg; break;
        case 'L': lang_code = optarg; break;
        case 'F': lang_file = optarg; break;
        case 'V': overdue = 1; break;
        case 'a': all = 1; break;
        case 'R': orphans = 1; break;
        case 'B': bom = 0; break;
        case 'v': ns_verbosity = atoi(optarg); break;
        case 'h': usage_list(stdout); return 0;
        default: usage_list(stderr); return 1;
        }
    }
    if (optind != argc) { ns_error(SUB, "list takes no arguments besides its options"); return 1; }
    if (!out) { ns_error(SUB, "list wants -o FILE (.csv or .xlsx): the list holds names and phones"); return 1; }
    if (overdue + all + orphans > 1) { ns_error(SUB, "give one of --overdue, --all, --orphans"); return 1; }
    size_t ol = strlen(out);
    int xlsx = ol > 5 && ns_strcaseeq(out + ol - 5, ".xlsx");
    char now[24], today[16];
    if (ns_ledger_now(now) < 0) { ns_error(SUB, "NS_NOW is set but is not a time"); return 1; }
    ns_format_date(ns_parse_time_h(now), today);
    ns_lang_t *L = load_lang(lang_file, lang_code);
    if (!L) return 1;
    ns_ledger_t *l = open_ledger(db, 0);
    if (!l) { ns_lang_free(L); return 3; }
    int ret = 0;
    ns_table_t *t;
    char *sql, key[80];
    if (orphans) {
        static const char *const oc[] = { "night", "sample_id", "infant_id" };
        t = ns_table_new(3, oc, NULL);
        sql = ns_strdup("SELECT b.night, o.sample_id, o.infant_id FROM orphan_repeats o JOIN batches b ON b.id = o.batch_id "
                        "ORDER BY b.night_date, b.id, o.sample_id");
    } else {
        t = ns_table_new(N_LIST_COLS, list_cols, NULL);
        sql = ns_asprintf(
            "SELECT * FROM (SELECT c.id, %s AS status, s.priority, s.action, s.due_by, b.night, c.opened_at, c.infant_id, "
            "c.sample_ids, c.conditions, c.hospital, c.mother_name, c.contact_phone, "
            "(SELECT count(*) FROM events e WHERE e.case_id = c.id AND e.kind = 'contact'), "
            "(SELECT e.kind FROM events e WHERE e.case_id = c.id ORDER BY e.at DESC, e.id DESC LIMIT 1), "
            "(SELECT e.at FROM events e WHERE e.case_id = c.id ORDER BY e.at DESC, e.id DESC LIMIT 1) "
            "FROM cases c JOIN case_state s ON s.case_id = c.id JOIN batches b ON b.id = c.batch_id) "
            "WHERE (?1 = 1 OR status IN ('open','contacted','escalated')) AND (?2 = 0 OR (due_by IS NOT NULL AND due_by < ?3)) "
            "ORDER BY due_by IS NULL, due_by, CASE priority WHEN 'critical' THEN 0 WHEN 'urgent' THEN 1 ELSE 2 END, id",
            ns_ledger_status_sql);
    }
    /* headers in the chosen language; the keys stay as they are */
    for (int k = 0; k < t->ncols; k++) {
        snprintf(key, sizeof key, "col.%s", t->keys[k]);
        ns_table_set_header(t, k, ns_lang_get(L, key));
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_exec(l->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK
        || sqlite3_prepare_v2(l->db, sql, -1, &st, NULL) != SQLITE_OK) {
        ns_error(SUB, "%s: %s", l->path, sqlite3_errmsg(l->db));
        free(sql);
        ns_table_free(t);
        ns_ledger_close(l);
        ns_lang_free(L);
        return 3;
    }
    free(sql);
    if (!orphans) {
        sqlite3_bind_int(st, 1, all);
        sqlite3_bind_int(st, 2, overdue);
        sqlite3_bind_text(st, 3, today, -1, SQLITE_STATIC);
    }
    int rc, n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int row = ns_table_add_row(t);
        n++;
        for (int k = 0; k < t->ncols - (orphans ? 0 : N_FILL_COLS); k++) {
            int sc = orphans ? k : k < 5 ? k : k == 5 ? -1 : k - 1;   /* "overdue" is computed */
            if (sc < 0) {
                const char *due = (const char *)sqlite3_column_text(st, 4);
                const char *status = (const char *)sqlite3_column_text(st, 1);
                int open = strcmp(status, "open") == 0 || strcmp(status, "contacted") == 0 || strcmp(status, "escalated") == 0;
                ns_table_set_text(t, row, k, ns_lang_get(L, open && due && strcmp(due, today) < 0 ? "answer.yes" : "answer.no"));
                continue;
            }
            /* words for people in the chosen language: status, priority, action, event */
            const char *v = (const char *)sqlite3_column_text(st, sc);
            const char *grp = orphans || !v ? NULL : k == 1 ? "status" : k == 2 ? "priority" : k == 3 ? "action"
                            : k == 15 ? "event" : NULL;
            if (grp) {
                char *text;
                if (k == 1 && strncmp(v, "confirmed:", 10) == 0) {
                    const char *nm[1] = { "cond" }, *vl[1] = { v + 10 };
                    text = ns_lang_format(L, "status.confirmed", 1, nm, vl);
                } else {
                    snprintf(key, sizeof key, "%s.%s", grp, v);
                    text = ns_strdup(ns_lang_get(L, key));
                }
                ns_table_set_text(t, row, k, text);
                free(text);
                continue;
            }
            if (sqlite3_column_type(st, sc) == SQLITE_INTEGER) ns_table_set_number(t, row, k, (double)sqlite3_column_int64(st, sc), 0);
            else if (k == 4 && !orphans && sqlite3_column_text(st, sc)) ns_table_set_date_str(t, row, k, (const char *)sqlite3_column_text(st, sc));
            else if (sqlite3_column_text(st, sc) && ns_table_set_text(t, row, k, (const char *)sqlite3_column_text(st, sc)) < 0) {
                char *clean = ns_table_clean_text((const char *)sqlite3_column_text(st, sc));
                ns_table_set_text(t, row, k, clean);
                free(clean);
            }
        }
    }
    if (rc != SQLITE_DONE) { ns_error(SUB, "%s: %s", l->path, sqlite3_errmsg(l->db)); ret = 3; }
    sqlite3_finalize(st);
    sqlite3_exec(l->db, "COMMIT", NULL, NULL, NULL);
    if (!ret) {
        int w = xlsx ? ns_table_write_xlsx(t, out, 0600, ns_lang_get(L, orphans ? "sheet.orphan_repeats" : "sheet.followup"))
                     : ns_table_write_csv(t, out, 0600, bom);
        if (w < 0) { ns_error(SUB, "%s", ns_table_error()); ret = 1; }
        else ns_info(1, SUB, "%d %s written to %s", n, orphans ? "repeat cards without a case" : "cases", out);
    }
    ns_table_free(t);
    ns_ledger_close(l);
    ns_lang_free(L);
    return ret;
}

/* ---- stats ------------------------------------------------------------------------ */

static int date_ok(const char *s)
{
    char t[40];
    if (!s || strlen(s) != 10) return 0;
    snprintf(t, sizeof t, "%sT00:00", s);
    return !isnan(ns_parse_time_h(t));
}

static int cmd_stats(int argc, char **argv)
{
    static const struct option lopts[] = {
        { "ledger", required_argument, NULL, 'd' }, { "out", required_argument, NULL, 'o' },
        { "from", required_argument, NULL, 'F' }, { "to", required_argument, NULL, 'T' },
        { "by", required_argument, NULL, 'b' }, { "json", required_argument, NULL, 'J' },
        { "verbosity", required_argument, NULL, 'v' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
    const char *db = NULL, *out = NULL, *from = NULL, *to = NULL, *json = NULL;
    int by = NS_BY_QUARTER, ch;
    if (argc == 1) { usage_stats(stdout); return 1; }
    optind = 1;
    while ((ch = getopt_long(argc, argv, "d:o:v:h", lopts, NULL)) >= 0) {
        switch (ch) {
        case 'd': db = optarg; break;
        case 'o': out = optarg; break;
        case 'F': from = optarg; break;
        case 'T': to = optarg; break;
        case 'J': json = optarg; break;
        case 'b':
            if (strcmp(optarg, "month") == 0) by = NS_BY_MONTH;
            else if (strcmp(optarg, "quarter") == 0) by = NS_BY_QUARTER;
            else if (strcmp(optarg, "all") == 0) by = NS_BY_ALL;
            else { ns_error(SUB, "--by wants month, quarter or all, not '%s'", optarg); return 1; }
            break;
        case 'v': ns_verbosity = atoi(optarg); break;
        case 'h': usage_stats(stdout); return 0;
        default: usage_stats(stderr); return 1;
        }
    }
    if (optind != argc) { ns_error(SUB, "stats takes no arguments besides its options"); return 1; }
    if (!date_ok(from) || !date_ok(to)) { ns_error(SUB, "--from and --to want dates YYYY-MM-DD"); return 1; }
    if (strcmp(from, to) > 0) { ns_error(SUB, "--from %s is after --to %s", from, to); return 1; }
    char now[24];
    if (ns_ledger_now(now) < 0) { ns_error(SUB, "NS_NOW is set but is not a time"); return 1; }
    ns_ledger_t *l = open_ledger(db, 0);
    if (!l) return 3;
    ns_indicators_t v;
    char err[512];
    if (ns_ledger_stats(l, from, to, by, now, &v, err, sizeof err) < 0) {
        ns_error(SUB, "%s", err);
        ns_ledger_close(l);
        return 3;
    }
    ns_ledger_close(l);
    int ret = 0;
    if (out) {
        ns_atomic_t *af = ns_atomic_open(out, 0644);
        if (!af) { ns_error_errno(SUB, "cannot create %s", out); ret = 1; }
        else {
            ns_indicators_csv(af->fp, &v);
            if (ns_atomic_commit(af) < 0) { ns_error_errno(SUB, "cannot write %s", out); ret = 1; }
        }
    } else {
        ns_indicators_csv(stdout, &v);
    }
    if (json) {
        ns_atomic_t *af = ns_atomic_open(json, 0644);
        if (!af) { ns_error_errno(SUB, "cannot create %s", json); ret = 1; }
        else {
            ns_indicators_json(af->fp, &v, from, to, by, now);
            if (ns_atomic_commit(af) < 0) { ns_error_errno(SUB, "cannot write %s", json); ret = 1; }
        }
    }
    ns_indicators_free(&v);
    return ret;
}

/* ---- export-outcomes -------------------------------------------------------------- */

static int cmd_export(int argc, char **argv)
{
    static const struct option lopts[] = {
        { "ledger", required_argument, NULL, 'd' }, { "out", required_argument, NULL, 'o' },
        { "verbosity", required_argument, NULL, 'v' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
    const char *db = NULL, *out = NULL;
    int ch;
    if (argc == 1) { usage_export(stdout); return 1; }
    optind = 1;
    while ((ch = getopt_long(argc, argv, "d:o:v:h", lopts, NULL)) >= 0) {
        switch (ch) {
        case 'd': db = optarg; break;
        case 'o': out = optarg; break;
        case 'v': ns_verbosity = atoi(optarg); break;
        case 'h': usage_export(stdout); return 0;
        default: usage_export(stderr); return 1;
        }
    }
    if (optind != argc || !out) { ns_error(SUB, "export-outcomes wants -o FILE"); return 1; }
    ns_ledger_t *l = open_ledger(db, 0);
    if (!l) return 3;
    /* one row per baby and condition: the earliest case confirming it */
    char *sql = ns_asprintf(
        "SELECT sample_ids, infant_id, substr(status, 11), id, night, "
        "(SELECT max(e.at) FROM events e WHERE e.case_id = x.id AND e.kind = 'confirmed') FROM "
        "(SELECT c.id, c.sample_ids, c.infant_id, b.night, %s AS status FROM cases c JOIN batches b ON b.id = c.batch_id) x "
        "WHERE status LIKE 'confirmed:%%' GROUP BY infant_id, substr(status, 11) HAVING id = min(id) "
        "ORDER BY infant_id, 3", ns_ledger_status_sql);
    sqlite3_stmt *st = NULL;
    int ret = 0;
    if (sqlite3_prepare_v2(l->db, sql, -1, &st, NULL) != SQLITE_OK) {
        ns_error(SUB, "%s: %s", l->path, sqlite3_errmsg(l->db));
        free(sql);
        ns_ledger_close(l);
        return 3;
    }
    free(sql);
    ns_atomic_t *af = ns_atomic_open(out, 0600);
    if (!af) { ns_error_errno(SUB, "cannot create %s", out); sqlite3_finalize(st); ns_ledger_close(l); return 1; }
    fputs("sample_id,infant_id,condition,case_id,night,confirmed_at\n", af->fp);
    int rc, n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        /* the first card of the case (the list is ';'-separated) */
        const char *sids = (const char *)sqlite3_column_text(st, 0);
        char *first = ns_strndup(sids ? sids : "", sids && strchr(sids, ';') ? (size_t)(strchr(sids, ';') - sids) : strlen(sids ? sids : ""));
        ns_csv_field(af->fp, first);
        free(first);
        for (int k = 1; k < 6; k++) {
            fputc(',', af->fp);
            if (k == 3) fprintf(af->fp, "%lld", (long long)sqlite3_column_int64(st, k));
            else ns_csv_field(af->fp, sqlite3_column_text(st, k) ? (const char *)sqlite3_column_text(st, k) : "");
        }
        fputc('\n', af->fp);
        n++;
    }
    if (rc != SQLITE_DONE) {
        ns_error(SUB, "%s: %s", l->path, sqlite3_errmsg(l->db));
        ns_atomic_abort(af);
        ret = 3;
    } else if (ns_atomic_commit(af) < 0) {
        ns_error_errno(SUB, "cannot write %s", out);
        ret = 1;
    } else {
        ns_info(1, SUB, "%d confirmed case%s written to %s", n, n == 1 ? "" : "s", out);
    }
    sqlite3_finalize(st);
    ns_ledger_close(l);
    return ret;
}

int ns_cmd_followup(int argc, char **argv)
{
    static const struct { const char *name; int (*fn)(int, char **); } sub[] = {
        { "list", cmd_list }, { "record", cmd_record }, { "import", cmd_import }, { "stats", cmd_stats },
        { "export-outcomes", cmd_export },
    };
    ns_clock_start();
    if (argc < 2) { usage(stdout); return 1; }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) { usage(stdout); return 0; }
    for (size_t k = 0; k < sizeof sub / sizeof sub[0]; k++)
        if (strcmp(argv[1], sub[k].name) == 0) return sub[k].fn(argc - 1, argv + 1);
    ns_error(SUB, "unknown command '%s' (list, record, import, stats, export-outcomes)", argv[1]);
    return 1;
}
