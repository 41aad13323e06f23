/* hearing.c — hearing.csv ingest, the protocol loader and the rule engine (see hearing.h
 * for the contract and configs/hearing.yaml for the protocol and its sources).
 *
 * Three parts, in the order data flows: ingest (the manifest's discipline: every problem
 * at FILE:LINE:COL, a bad row rejected and counted, never a value in a message), the
 * loader (yaml_doc.h helpers, every problem at its node, all of them in one pass), and
 * the engine (one deciding record per infant, every matching rule in file order until a
 * rule with stop: true fires).  Nothing here knows a programme: all of that is the YAML.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include "csv.h"
#include "encoding.h"
#include "hearing.h"
#include "sha256.h"
#include "log.h"
#include "util.h"
#include "yaml_doc.h"

/* ---- names ------------------------------------------------------------------------------ */

/* Value names of each "when:" fact, in NS_* order (NULL-terminated). */
static const char *const stage_names[] = { "initial", "rescreen", NULL };
static const char *const method_names[] = { "TEOAE", "DPOAE", "AABR", NULL };
static const char *const result_names[] = { "pass", "not_tested", "refer", NULL };
static const char *const nicu_names[] = { "false", "true", "unknown", NULL };
static const char *const bool_names[] = { "false", "true", NULL };

static const char *const cond_keys[NS_HCOND_N + 1] = {
    "stage", "method", "result", "nicu", "risk_factors", "aabr_refer_before", "aabr_pass_before", NULL };
static const char *const *const cond_values[NS_HCOND_N] = {
    stage_names, method_names, result_names, nicu_names, bool_names, bool_names, bool_names };

static const char *const action_names[NS_HACT_N + 1] = {
    "rescreen", "aabr_screen", "audiology_referral", "surveillance", NULL };
static const char *const reason_names[NS_HREASON_N + 1] = {
    "hearing_refer", "hearing_not_tested", "hearing_nicu_aabr_refer", "hearing_nicu_oae",
    "hearing_oae_after_aabr_refer", "hearing_risk_factors", NULL };
static const char *const prio_names[] = { "critical", "urgent", "routine", NULL };

#define BIT(v) (1u << (v))
#define OAE (BIT(NS_HMETHOD_TEOAE) | BIT(NS_HMETHOD_DPOAE))

/* What a reason's text states, so its rule must guarantee it: when.<cond> must be a
 * non-empty subset of `allowed` (up to three facts per reason). */
static const struct { int cond; unsigned allowed; const char *says; } reason_needs[NS_HREASON_N][3] = {
    [NS_HREASON_REFER] = { { NS_HCOND_RESULT, BIT(NS_HEAR_REFER), "refer" } },
    [NS_HREASON_NOT_TESTED] = { { NS_HCOND_RESULT, BIT(NS_HEAR_NOT_TESTED), "not_tested" } },
    [NS_HREASON_NICU_AABR_REFER] = { { NS_HCOND_NICU, BIT(NS_HNICU_TRUE), "true" },
                                     { NS_HCOND_METHOD, BIT(NS_HMETHOD_AABR), "AABR" },
                                     { NS_HCOND_RESULT, BIT(NS_HEAR_REFER), "refer" } },
    [NS_HREASON_NICU_OAE] = { { NS_HCOND_NICU, BIT(NS_HNICU_TRUE), "true" },
                              { NS_HCOND_METHOD, OAE, "TEOAE and/or DPOAE" } },
    [NS_HREASON_OAE_AFTER_AABR_REFER] = { { NS_HCOND_AABR_BEFORE, BIT(1), "true" },
                                          { NS_HCOND_METHOD, OAE, "TEOAE and/or DPOAE" } },
    [NS_HREASON_RISK_FACTORS] = { { NS_HCOND_RISK, BIT(1), "true" } },
};

static const char *name_at(const char *const *names, int n, int i)
{
    return i >= 0 && i < n ? names[i] : NULL;
}
const char *ns_hearing_stage_name(int s) { return name_at(stage_names, NS_HSTAGE_N, s); }
const char *ns_hearing_method_name(int m) { return name_at(method_names, NS_HMETHOD_N, m); }
const char *ns_hearing_result_name(int r) { return name_at(result_names, NS_HEAR_N, r); }
const char *ns_hearing_action_name(int a) { return name_at(action_names, NS_HACT_N, a); }
const char *ns_hearing_reason_name(int r) { return name_at(reason_names, NS_HREASON_N, r); }

/* Index of s in names (ASCII case-insensitive), -1 if absent. */
static int find_ci(const char *const *names, const char *s)
{
    for (int i = 0; names[i]; i++)
        if (ns_strcaseeq(s, names[i])) return i;
    return -1;
}

/* ---- ingest ----------------------------------------------------------------------------- */

static const char *const hcols[NS_HCOL_N] = {
    "infant_id", "test_time", "stage", "method", "left", "right", "nicu_days", "risk_factors" };

__attribute__((format(printf, 5, 6)))
static void problem(ns_hearing_records_t *r, const char *path, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ns_msgs_vadd(&r->errors, &r->n_errors, path, line, col, fmt, ap);
    va_end(ap);
}

/* the infant_id of a rejected row, when it is one: that baby's outcome needs a look */
static void note_rejected(ns_hearing_records_t *r, const char *id)
{
    if (!*id || strlen(id) >= NS_FU_ID_MAX) return;
    r->rejected_ids = ns_realloc(r->rejected_ids, (size_t)(r->n_rejected_ids + 1) * sizeof *r->rejected_ids);
    snprintf(r->rejected_ids[r->n_rejected_ids++], NS_FU_ID_MAX, "%s", id);
}

/* An ear result: the three names, plus "not tested" / "not-tested" as exports spell it. */
static int parse_ear(const char *s)
{
    int v = find_ci(result_names, s);
    if (v < 0 && (ns_strcaseeq(s, "not tested") || ns_strcaseeq(s, "not-tested"))) v = NS_HEAR_NOT_TESTED;
    return v;
}

/* risk_factors: a flag or free text; these words (any case) and empty mean none. */
static int has_risk(const char *s)
{
    static const char *const none[] = { "", "0", "no", "n", "none", "false", "n/a", "na", "nil", "-",
                                        "\xe6\x97\xa0" /* 无 */, "\xe5\x90\xa6" /* 否 */,
                                        "\xe6\xb2\xa1\xe6\x9c\x89" /* 没有 */, NULL };
    return find_ci(none, s) < 0;
}

static int worst_ear(const ns_hearing_rec_t *x)
{
    return x->ear[0] > x->ear[1] ? x->ear[0] : x->ear[1];
}

/* Severity for ordering records at the same stage and time: more refer ears, then more
 * not_tested ears, is worse (larger). */
static int severity(const ns_hearing_rec_t *x)
{
    int s = 0;
    for (int e = 0; e < 2; e++) s += x->ear[e] == NS_HEAR_REFER ? 4 : x->ear[e] == NS_HEAR_NOT_TESTED ? 1 : 0;
    return s;
}

static int cmp3(double a, double b) { return (a > b) - (a < b); }

/* The order of hearing.h: infant, stage, test_time, severity, then method (an AABR at the
 * same time decides over an OAE: it is the test an OAE cannot overrule), the ears, the
 * NICU stay and risk flag, and only then the line, so that rows which differ in any
 * value give the same outcome in any order. */
static int cmp_rec(const ns_hearing_rec_t *x, const ns_hearing_rec_t *y)
{
    int c = strcmp(x->infant_id, y->infant_id);
    if (!c) c = cmp3(x->stage, y->stage);
    if (!c) c = cmp3(x->test_time_h, y->test_time_h);
    if (!c) c = cmp3(severity(x), severity(y));
    if (!c) c = cmp3(x->method == NS_HMETHOD_AABR, y->method == NS_HMETHOD_AABR);
    if (!c) c = cmp3(x->method, y->method);
    if (!c) c = cmp3(x->ear[0], y->ear[0]);
    if (!c) c = cmp3(x->ear[1], y->ear[1]);
    if (!c) c = cmp3(isnan(x->nicu_days) ? -1.0 : x->nicu_days, isnan(y->nicu_days) ? -1.0 : y->nicu_days);
    if (!c) c = cmp3(x->risk, y->risk);
    if (!c) c = cmp3(x->line, y->line);
    return c;
}
static int cmp_rec_q(const void *a, const void *b) { return cmp_rec(a, b); }
static int cmp_id(const void *a, const void *b) { return strcmp((const char *)a, (const char *)b); }

/* x and y have the same stage, test_time, method and ear results */
static int same_test(const ns_hearing_rec_t *x, const ns_hearing_rec_t *y)
{
    return x->stage == y->stage && x->test_time_h == y->test_time_h && x->method == y->method
        && x->ear[0] == y->ear[0] && x->ear[1] == y->ear[1];
}

/* Reports about rows that are kept: conflicting results at the same stage and time, and a
 * rescreen dated before the initial screen.  r->v is sorted (cmp_rec). */
static void check_consistency(ns_hearing_records_t *r)
{
    for (int64_t i = 0; i < r->n; ) {
        int64_t j = i + 1;
        while (j < r->n && strcmp(r->v[j].infant_id, r->v[i].infant_id) == 0) j++;
        int latest_initial = -1;   /* line of the latest initial screen seen so far */
        double t_initial = -INFINITY;
        int64_t run = i;           /* first row of the run of rows same_test() as row k: the
                                      order keeps them together, so the row before the run is
                                      the nearest one that differs (50,000 copies of one row
                                      took 11 s when each looked back over all of them) */
        for (int64_t k = i; k < j; k++) {
            const ns_hearing_rec_t *x = &r->v[k];
            if (k > i && !same_test(&r->v[k - 1], x)) run = k;
            if (x->stage == NS_HSTAGE_INITIAL && x->test_time_h >= t_initial) {
                t_initial = x->test_time_h;
                latest_initial = x->line;
            }
            if (x->stage == NS_HSTAGE_RESCREEN && x->test_time_h < t_initial)
                problem(r, r->path, x->at[NS_HCOL_TEST_TIME].line, x->at[NS_HCOL_TEST_TIME].col,
                        "rescreen test_time is before the initial screen on line %d (kept: "
                        "the rescreen still counts as the later stage)", latest_initial);
            /* an earlier row of the same infant, stage and time with another result (rows
             * with identical results are duplicates, allowed): the message goes on the later
             * line, at the first field that differs */
            const ns_hearing_rec_t *y = run > i ? &r->v[run - 1] : NULL;
            if (y && y->stage == x->stage && y->test_time_h == x->test_time_h) {
                int f = y->method != x->method ? NS_HCOL_METHOD : y->ear[0] != x->ear[0] ? NS_HCOL_LEFT
                      : NS_HCOL_RIGHT;
                const ns_hearing_rec_t *later = x->line > y->line ? x : y, *earlier = later == x ? y : x;
                problem(r, r->path, later->at[f].line, later->at[f].col,
                        "same infant, stage and test_time as line %d with a different %s: both kept, "
                        "the worse result counts", earlier->line, hcols[f]);
            }
        }
        i = j;
    }
}

int ns_hearing_read_mem(ns_hearing_records_t *r, const char *name, const char *raw, size_t len)
{
    memset(r, 0, sizeof *r);
    r->path = ns_strdup(name);
    strcpy(r->encoding, "?");
    ns_sha256_hex(raw, len, r->sha256);
    char *text;
    size_t tlen;
    ns_decode_err_t de;
    if (ns_decode_text(raw, len, &text, &tlen, r->encoding, &de) < 0) {
        problem(r, name, de.line, de.col, "%s: the hearing records cannot be used", de.msg);
        return (int)r->n_errors;
    }

    ns_csv_t c;
    ns_csv_init(&c, text, tlen);
    int rc = ns_csv_next(&c);
    int col[NS_HCOL_N];
    for (int k = 0; k < NS_HCOL_N; k++) col[k] = -1;
    if (rc <= 0) {
        if (rc < 0) problem(r, name, c.err_line, c.err_col, "%s in the header: the hearing records cannot be used", c.err);
        else problem(r, name, 1, 1, "empty file (no header row): the hearing records cannot be used");
        goto done;
    }
    const int nh = c.nf;
    int unusable = 0;
    for (int j = 0; j < nh; j++)
        for (int k = 0; k < NS_HCOL_N; k++)
            if (ns_strcaseeq(c.f[j], hcols[k])) {
                if (col[k] >= 0) {
                    problem(r, name, c.fline[j], c.fcol[j], "column '%s' appears twice (fields %d and %d): "
                            "the hearing records cannot be used", hcols[k], col[k] + 1, j + 1);
                    unusable = 1;
                }
                col[k] = j;
            }
    for (int k = 0; k < NS_HCOL_N; k++)
        if (col[k] < 0) {
            problem(r, name, c.rec_line, 1, "missing column '%s'%s: the hearing records cannot be used",
                    hcols[k], k == NS_HCOL_NICU_DAYS ? " (leave a cell empty for an unknown stay)"
                    : k == NS_HCOL_RISK_FACTORS ? " (leave a cell empty for none)" : "");
            unusable = 1;
        }
    if (unusable) goto done;
    r->ok = 1;

    while ((rc = ns_csv_next(&c)) != 0) {
        r->n_read++;
        if (rc < 0) {
            problem(r, name, c.err_line, c.err_col, "%s (row rejected)", c.err);
            r->n_rejected++;
            continue;
        }
        if (c.nf != nh) {
            problem(r, name, c.nf < nh ? c.end_line : c.fline[nh], c.nf < nh ? c.end_col : c.fcol[nh],
                    "row has %d fields, the header has %d (row rejected)", c.nf, nh);
            r->n_rejected++;
            if (col[NS_HCOL_INFANT_ID] < c.nf) note_rejected(r, c.f[col[NS_HCOL_INFANT_ID]]);
            continue;
        }
        ns_hearing_rec_t x;
        memset(&x, 0, sizeof x);
        x.line = c.rec_line;
        for (int k = 0; k < NS_HCOL_N; k++) {
            x.at[k].line = c.fline[col[k]];
            x.at[k].col = c.fcol[col[k]];
        }
        int bad = 0;
#define BAD(k, ...) do { problem(r, name, x.at[k].line, x.at[k].col, __VA_ARGS__); bad = 1; } while (0)
        const char *f[NS_HCOL_N];
        for (int k = 0; k < NS_HCOL_N; k++) f[k] = c.f[col[k]];

        if (!*f[NS_HCOL_INFANT_ID]) BAD(NS_HCOL_INFANT_ID, "empty infant_id (row rejected)");
        else if (strlen(f[NS_HCOL_INFANT_ID]) >= sizeof x.infant_id)
            BAD(NS_HCOL_INFANT_ID, "infant_id is longer than %zu bytes (row rejected)", sizeof x.infant_id - 1);
        else strcpy(x.infant_id, f[NS_HCOL_INFANT_ID]);

        x.test_time_h = *f[NS_HCOL_TEST_TIME] ? ns_parse_time_h(f[NS_HCOL_TEST_TIME]) : NAN;
        if (!*f[NS_HCOL_TEST_TIME]) BAD(NS_HCOL_TEST_TIME, "empty test_time (row rejected)");
        else if (isnan(x.test_time_h))
            BAD(NS_HCOL_TEST_TIME, "test_time is not a date and time YYYY-MM-DDTHH:MM[:SS] (row rejected)");

        if ((x.stage = find_ci(stage_names, f[NS_HCOL_STAGE])) < 0)
            BAD(NS_HCOL_STAGE, "%s (row rejected)", *f[NS_HCOL_STAGE] ? "stage is not initial or rescreen"
                                                    : "empty stage (expected initial or rescreen)");
        if ((x.method = find_ci(method_names, f[NS_HCOL_METHOD])) < 0)
            BAD(NS_HCOL_METHOD, "%s (row rejected)", *f[NS_HCOL_METHOD] ? "method is not TEOAE, DPOAE or AABR"
                                                      : "empty method (expected TEOAE, DPOAE or AABR)");
        for (int e = 0; e < 2; e++) {
            int k = e == 0 ? NS_HCOL_LEFT : NS_HCOL_RIGHT;
            if ((x.ear[e] = parse_ear(f[k])) < 0)
                BAD(k, "%s %s pass, refer or not_tested (row rejected)", hcols[k],
                    *f[k] ? "is not" : "is empty: expected");
        }
#undef BAD
        if (bad) { r->n_rejected++; note_rejected(r, f[NS_HCOL_INFANT_ID]); continue; }

        x.nicu_days = NAN;
        if (*f[NS_HCOL_NICU_DAYS]) {
            /* plain decimal days only: strtod alone would take "0x10", "1e3" or "inf" */
            const char *s = f[NS_HCOL_NICU_DAYS];
            char *end;
            errno = 0;
            double d = strtod(s, &end);
            if (*end || errno || !isfinite(d) || d < 0 || d > 365 || strspn(s, "0123456789.") != strlen(s))
                problem(r, name, x.at[NS_HCOL_NICU_DAYS].line, x.at[NS_HCOL_NICU_DAYS].col,
                        "nicu_days is not a number of days from 0 to 365 (left unknown)");
            else x.nicu_days = d;
        }
        x.risk = has_risk(f[NS_HCOL_RISK_FACTORS]);
        x.risk_factors = ns_strdup(f[NS_HCOL_RISK_FACTORS]);
        if (r->n == r->m) {
            r->m = r->m ? 2 * r->m : 256;
            r->v = ns_realloc(r->v, (size_t)r->m * sizeof *r->v);
        }
        r->v[r->n++] = x;
    }
    if (r->n_read == 0) {
        /* an export that came out empty would otherwise pass for a night with no refer */
        problem(r, name, c.rec_line, 1, "no data rows after the header: the hearing records cannot be used");
        r->ok = 0;
    }
    if (r->n > 1) qsort(r->v, (size_t)r->n, sizeof *r->v, cmp_rec_q);
    check_consistency(r);
done:
    ns_csv_free(&c);
    free(text);
    return (int)r->n_errors;
}

int ns_hearing_read(ns_hearing_records_t *r, const char *path)
{
    char *raw;
    size_t len;
    if (ns_read_file(path, &raw, &len) < 0) {
        int e = errno;
        memset(r, 0, sizeof *r);
        r->path = ns_strdup(path);
        strcpy(r->encoding, "?");
        problem(r, path, 0, 0, "cannot read: %s", strerror(e));
        return (int)r->n_errors;
    }
    int n = ns_hearing_read_mem(r, path, raw, len);
    free(raw);
    return n;
}

void ns_hearing_records_free(ns_hearing_records_t *r)
{
    free(r->rejected_ids);
    for (int64_t i = 0; i < r->n; i++) free(r->v[i].risk_factors);
    free(r->v);
    for (int64_t i = 0; i < r->n_errors; i++) free(r->errors[i]);
    free(r->errors);
    free(r->path);
    memset(r, 0, sizeof *r);
}

/* ---- protocol loader -------------------------------------------------------------------- */

typedef struct {
    ns_yaml_t y;
    ns_hearing_config_t *h;
} ld_t;

static int valid_id(const char *s)
{
    if (!*s) return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.') return 0;
    return 1;
}

/* "a, b or c" from names[] (NULL-terminated). */
static void list_names(char *out, size_t n, const char *const *names)
{
    out[0] = 0;
    for (int i = 0; names[i]; i++) {
        strncat(out, i == 0 ? "" : names[i + 1] ? ", " : " or ", n - strlen(out) - 1);
        strncat(out, names[i], n - strlen(out) - 1);
    }
}

/* One value of a "when:" fact: its bit, or 0 (reported). */
static unsigned cond_value(ld_t *L, const yaml_node_t *n, int cond, const char *what)
{
    const char *s = ns_yaml_scalar(n);
    for (int i = 0; s && cond_values[cond][i]; i++)
        if (strcmp(s, cond_values[cond][i]) == 0) return BIT(i);
    char list[96];
    list_names(list, sizeof list, cond_values[cond]);
    ns_yaml_err(&L->y, n, "%s: when.%s: unknown value '%s' (expected %s)", what, cond_keys[cond],
                s ? s : "(a list or mapping)", list);
    return 0;
}

/* when: {fact: value | [values]}.  Returns 1 when every value is valid. */
static int load_when(ld_t *L, yaml_node_t *rule, ns_hearing_rule_t *R, const char *what)
{
    for (int c = 0; c < NS_HCOND_N; c++) R->when[c] = ~0u;
    yaml_node_t *w = ns_yaml_get(&L->y, rule, "when");
    if (!w) {
        ns_yaml_err(&L->y, rule, "%s: missing 'when' (the facts the rule applies to, e.g. "
                    "{stage: initial, result: refer})", what);
        return 0;
    }
    char wwhat[96];
    snprintf(wwhat, sizeof wwhat, "%s: when", what);
    if (!ns_yaml_keys(&L->y, w, wwhat, cond_keys)) return 0;
    if (w->data.mapping.pairs.top == w->data.mapping.pairs.start) {
        ns_yaml_err(&L->y, w, "%s: 'when' is empty: the rule would fire for every screened baby", what);
        return 0;
    }
    int ok = 1;
    for (int c = 0; c < NS_HCOND_N; c++) {
        yaml_node_t *v = ns_yaml_get(&L->y, w, cond_keys[c]);
        if (!v) continue;
        unsigned m = 0;
        if (v->type == YAML_SEQUENCE_NODE) {
            if (v->data.sequence.items.top == v->data.sequence.items.start) {
                ns_yaml_err(&L->y, v, "%s: when.%s is an empty list: the rule could never fire", what, cond_keys[c]);
                ok = 0;
                continue;
            }
            for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
                yaml_node_t *n = ns_yaml_node(&L->y, *it);
                unsigned b = cond_value(L, n, c, what);
                if (!b) { ok = 0; continue; }
                if (m & b) {
                    ns_yaml_err(&L->y, n, "%s: when.%s lists '%s' twice", what, cond_keys[c], ns_yaml_scalar(n));
                    ok = 0;
                }
                m |= b;
            }
        } else {
            if (!(m = cond_value(L, v, c, what))) ok = 0;
        }
        if (m) R->when[c] = m;
    }
    return ok;
}

/* The reason's text states facts (reason_needs): the rule's when must guarantee them. */
static void check_reason(ld_t *L, yaml_node_t *rule, const ns_hearing_rule_t *R, const char *what)
{
    for (int q = 0; q < 3; q++) {
        int c = reason_needs[R->reason][q].cond;
        unsigned allowed = reason_needs[R->reason][q].allowed;
        if (!allowed) break;
        if ((R->when[c] & ~allowed) == 0 && (R->when[c] & allowed)) continue;
        ns_yaml_err(&L->y, ns_yaml_get(&L->y, rule, "reason"),
                    "%s: reason %s says %s is %s, but 'when' does not make sure of it "
                    "(when.%s must be %s)", what, reason_names[R->reason], cond_keys[c],
                    reason_needs[R->reason][q].says, cond_keys[c], reason_needs[R->reason][q].says);
    }
}

static void load_due(ld_t *L, yaml_node_t *rule, ns_hearing_rule_t *R, const char *what)
{
    static const char *const keys[] = { "days_of_life", NULL };
    R->due_days = -1;
    yaml_node_t *d = ns_yaml_get(&L->y, rule, "due");
    if (!d) return;
    char dwhat[96];
    snprintf(dwhat, sizeof dwhat, "%s: due", what);
    if (!ns_yaml_keys(&L->y, d, dwhat, keys)) return;
    double x;
    int r = ns_yaml_num(&L->y, d, "days_of_life", &x, dwhat);
    if (r == 0) {
        ns_yaml_err(&L->y, d, "%s: missing 'days_of_life' (leave 'due' out for no deadline)", dwhat);
        return;
    }
    if (r < 0) return;
    if (x != floor(x) || x < 1 || x > 3650) {
        ns_yaml_err(&L->y, ns_yaml_get(&L->y, d, "days_of_life"),
                    "%s: 'days_of_life' must be a whole number of days from 1 to 3650, not %g", dwhat, x);
        return;
    }
    R->due_days = (int)x;
}

/* One rule, rules[idx]; earlier rules are loaded (their ids and lines, for duplicates). */
static void load_rule(ld_t *L, yaml_node_t *n, int idx)
{
    static const char *const keys[] = { "id", "when", "action", "reason", "priority", "due", "stop", NULL };
    ns_hearing_rule_t *R = &L->h->rules[idx];
    memset(R, 0, sizeof *R);
    R->pos = ns_yaml_pos(n);
    /* messages name the rule by its id once it has a usable one, else by its place */
    char what[80];
    const char *ids = ns_yaml_scalar(ns_yaml_get(&L->y, n, "id"));
    if (ids && valid_id(ids) && strlen(ids) < sizeof R->id) snprintf(what, sizeof what, "rule '%s'", ids);
    else snprintf(what, sizeof what, "hearing.rules[%d]", idx + 1);
    if (!ns_yaml_keys(&L->y, n, what, keys)) return;
    yaml_node_t *idn = ns_yaml_get(&L->y, n, "id");
    if (ns_yaml_str(&L->y, n, "id", R->id, sizeof R->id, 1, what)) {
        if (!valid_id(R->id)) {
            ns_yaml_err(&L->y, idn, "%s: id '%s' may hold only letters, digits, '_', '-' and '.'", what, R->id);
            R->id[0] = 0;
        } else {
            for (int k = 0; k < idx; k++)
                if (strcmp(L->h->rules[k].id, R->id) == 0) {
                    ns_yaml_err(&L->y, idn, "duplicate rule id '%s' (first at line %d)", R->id, L->h->rules[k].pos.line);
                    break;
                }
        }
    }
    int when_ok = load_when(L, n, R, what);
    R->action = ns_yaml_enum(&L->y, n, "action", action_names, -1, what);
    int had_reason = ns_yaml_get(&L->y, n, "reason") != NULL;
    int nerr = L->y.errs->n;
    R->reason = ns_yaml_enum(&L->y, n, "reason", reason_names, -1, what);
    if (when_ok && had_reason && L->y.errs->n == nerr) check_reason(L, n, R, what);
    R->priority = ns_yaml_enum(&L->y, n, "priority", prio_names, -1, what);
    load_due(L, n, R, what);
    R->stop = ns_yaml_enum(&L->y, n, "stop", bool_names, 0, what);
}

static void load_rules(ld_t *L, yaml_node_t *hn)
{
    yaml_node_t *v = ns_yaml_get(&L->y, hn, "rules");
    if (!v) {
        ns_yaml_err(&L->y, hn, "hearing: missing 'rules' (the protocol: a list of rules)");
        return;
    }
    if (v->type != YAML_SEQUENCE_NODE || v->data.sequence.items.top == v->data.sequence.items.start) {
        ns_yaml_err(&L->y, v, "hearing.rules must be a non-empty list of rules "
                    "(- id: ..., when: ..., action: ..., reason: ..., priority: ...)");
        return;
    }
    int n = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
    L->h->rules = ns_calloc((size_t)n, sizeof *L->h->rules);
    L->h->n_rules = n;
    for (int i = 0; i < n; i++) load_rule(L, ns_yaml_node(&L->y, v->data.sequence.items.start[i]), i);
}

ns_hearing_config_t *ns_hearing_config_load_mem(const char *name, const char *text, size_t len,
                                                ns_panel_errs_t *errs)
{
    memset(errs, 0, sizeof *errs);
    ld_t L;
    memset(&L, 0, sizeof L);
    ns_hearing_config_t *h = L.h = ns_calloc(1, sizeof *h);
    h->path = ns_strdup(name);
    h->text = ns_strndup(text, len);
    ns_sha256_hex(text, len, h->sha256);
    h->nicu_aabr_days = NAN;
    if (ns_yaml_parse(&L.y, text, len, errs) < 0) {
        ns_hearing_config_free(h);
        return NULL;
    }
    yaml_node_t *root = ns_yaml_root(&L.y);
    static const char *const top[] = { "hearing", NULL };
    static const char *const hkeys[] = { "name", "nicu_aabr_days", "rules", NULL };
    if (!root) {
        ns_yaml_errs_add(errs, 1, 1, "empty file: expected a 'hearing:' section (nicu_aabr_days, rules)");
    } else if (ns_yaml_keys(&L.y, root, "the top level", top)) {
        yaml_node_t *hn = ns_yaml_get(&L.y, root, "hearing");
        if (!hn) {
            ns_yaml_err(&L.y, root, "missing 'hearing:' section (nicu_aabr_days, rules)");
        } else if (ns_yaml_keys(&L.y, hn, "hearing", hkeys)) {
            ns_yaml_str(&L.y, hn, "name", h->name, sizeof h->name, 0, "hearing");
            double d;
            int r = ns_yaml_num(&L.y, hn, "nicu_aabr_days", &d, "hearing");
            if (r == 0)
                ns_yaml_err(&L.y, hn, "hearing: missing 'nicu_aabr_days' (a NICU stay longer than this "
                            "many days requires an AABR screen; JCIH 2007: 5)");
            else if (r > 0 && !(d >= 0 && d <= 365))
                ns_yaml_err(&L.y, ns_yaml_get(&L.y, hn, "nicu_aabr_days"),
                            "hearing: 'nicu_aabr_days' must be a number of days from 0 to 365, not %g", d);
            else if (r > 0) h->nicu_aabr_days = d;
            load_rules(&L, hn);
        }
    }
    ns_yaml_done(&L.y);
    if (errs->n) { ns_hearing_config_free(h); return NULL; }
    free(errs->text);
    errs->text = NULL;
    return h;
}

ns_hearing_config_t *ns_hearing_config_load(const char *path, ns_panel_errs_t *errs)
{
    char *text;
    size_t len;
    memset(errs, 0, sizeof *errs);
    if (ns_read_file(path, &text, &len) < 0) {
        ns_yaml_errs_add(errs, 0, 0, "cannot read: %s", strerror(errno));
        return NULL;
    }
    ns_hearing_config_t *h = ns_hearing_config_load_mem(path, text, len, errs);
    free(text);
    return h;
}

void ns_hearing_config_free(ns_hearing_config_t *h)
{
    if (!h) return;
    free(h->rules);
    free(h->path);
    free(h->text);
    free(h);
}

/* ---- engine ----------------------------------------------------------------------------- */

static int cmp_ptr(const void *a, const void *b)
{
    return cmp_rec(*(const ns_hearing_rec_t *const *)a, *(const ns_hearing_rec_t *const *)b);
}

/* "left", "right" or "both": the ears whose result is res. */
static const char *ears_with(const ns_hearing_rec_t *x, int res)
{
    int l = x->ear[NS_HEAR_LEFT] == res, r = x->ear[NS_HEAR_RIGHT] == res;
    return l && r ? "both" : l ? "left" : "right";
}

int ns_hearing_eval(const ns_hearing_config_t *h, const ns_hearing_records_t *r,
                    ns_findings_t *out, ns_hearing_stats_t *stats)
{
    if (!h || !r || !out) return -1;
    ns_hearing_stats_t st;
    memset(&st, 0, sizeof st);
    /* records may come from anywhere, in any order: evaluate through sorted pointers (the
     * comparison is a total order, so qsort's instability cannot show) */
    const ns_hearing_rec_t **idx = ns_malloc(((size_t)r->n + 1) * sizeof *idx);
    for (int64_t i = 0; i < r->n; i++) idx[i] = &r->v[i];
    qsort(idx, (size_t)r->n, sizeof *idx, cmp_ptr);
    const int64_t n0 = out->n;

    for (int64_t i = 0; i < r->n; ) {
        int64_t j = i + 1;
        while (j < r->n && strcmp(idx[j]->infant_id, idx[i]->infant_id) == 0) j++;
        const ns_hearing_rec_t *d = idx[j - 1];   /* the deciding record */
        const ns_hearing_rec_t *last_initial = NULL, *last_rescreen = NULL, *last_aabr = NULL;
        double nicu = NAN;
        int risk = 0;
        for (int64_t k = i; k < j; k++) {
            const ns_hearing_rec_t *x = idx[k];
            st.records++;
            st.rec_result[worst_ear(x)]++;
            if (x->stage == NS_HSTAGE_INITIAL) last_initial = x;
            else last_rescreen = x;
            if (k < j - 1 && x->method == NS_HMETHOD_AABR) last_aabr = x;
            if (!isnan(x->nicu_days) && !(x->nicu_days <= nicu)) nicu = x->nicu_days;
            risk |= x->risk;
        }
        int fact[NS_HCOND_N];
        fact[NS_HCOND_STAGE] = d->stage;
        fact[NS_HCOND_METHOD] = d->method;
        fact[NS_HCOND_RESULT] = worst_ear(d);
        fact[NS_HCOND_NICU] = isnan(nicu) ? NS_HNICU_UNKNOWN : nicu > h->nicu_aabr_days ? NS_HNICU_TRUE : NS_HNICU_FALSE;
        fact[NS_HCOND_RISK] = risk;
        fact[NS_HCOND_AABR_BEFORE] = last_aabr && worst_ear(last_aabr) == NS_HEAR_REFER;
        fact[NS_HCOND_AABR_PASS_BEFORE] = last_aabr && worst_ear(last_aabr) == NS_HEAR_PASS;

        st.infants++;
        if (last_initial) { st.initial_screened++; st.initial_refer += worst_ear(last_initial) == NS_HEAR_REFER; }
        if (last_rescreen) { st.rescreened++; st.rescreen_refer += worst_ear(last_rescreen) == NS_HEAR_REFER; }
        st.pass += fact[NS_HCOND_RESULT] == NS_HEAR_PASS;
        st.refer += fact[NS_HCOND_RESULT] == NS_HEAR_REFER;
        st.not_tested += fact[NS_HCOND_RESULT] == NS_HEAR_NOT_TESTED;
        st.nicu += fact[NS_HCOND_NICU] == NS_HNICU_TRUE;
        st.nicu_unknown += fact[NS_HCOND_NICU] == NS_HNICU_UNKNOWN;
        st.risk += risk;

        int fired = 0;
        for (int q = 0; q < h->n_rules; q++) {
            const ns_hearing_rule_t *R = &h->rules[q];
            int match = 1;
            for (int c = 0; c < NS_HCOND_N && match; c++) match = (R->when[c] & BIT(fact[c])) != 0;
            if (!match) continue;
            ns_finding_t *f = ns_findings_add(out, d->infant_id, NS_SRC_HEARING);
            f->priority = R->priority;
            snprintf(f->code, sizeof f->code, "hearing:%s", R->id);
            snprintf(f->action, sizeof f->action, "%s", action_names[R->action]);
            snprintf(f->reason, sizeof f->reason, "%s", reason_names[R->reason]);
            if (R->due_days >= 0) {
                f->due_from = NS_DUE_BIRTH;
                f->due_hours = R->due_days * 24.0;
            }
            f->test_time_h = d->test_time_h;
            char date[16];
            ns_format_date(d->test_time_h, date);
            /* "@key": the renderer shows the code in the list's language (followup.h) */
            ns_finding_arg(out, f, "stage", "@hearing.stage.%s", stage_names[d->stage]);
            ns_finding_arg(out, f, "method", "%s", method_names[d->method]);
            ns_finding_arg(out, f, "result", "@hearing.result.%s", result_names[fact[NS_HCOND_RESULT]]);
            ns_finding_arg(out, f, "ears", "@hearing.ears.%s", ears_with(d, fact[NS_HCOND_RESULT]));
            ns_finding_arg(out, f, "test_date", "%s", date);
            if (!isnan(nicu)) ns_finding_arg(out, f, "nicu_days", "%g", nicu);
            ns_finding_arg(out, f, "nicu_limit", "%g", h->nicu_aabr_days);
            fired = 1;
            if (R->stop) break;
        }
        st.with_findings += fired;
        i = j;
    }
    free(idx);

    /* babies with a rejected row, once each, in infant_id order */
    char (*ids)[NS_FU_ID_MAX] = ns_malloc(((size_t)r->n_rejected_ids + 1) * sizeof *ids);
    if (r->n_rejected_ids > 0) {
        memcpy(ids, r->rejected_ids, (size_t)r->n_rejected_ids * sizeof *ids);
        qsort(ids, (size_t)r->n_rejected_ids, sizeof *ids, cmp_id);
    }
    for (int64_t k = 0; k < r->n_rejected_ids; k++) {
        if (k > 0 && strcmp(ids[k], ids[k - 1]) == 0) continue;
        ns_finding_t *f = ns_findings_add(out, ids[k], NS_SRC_HEARING);
        f->priority = NS_PRIO_URGENT;
        snprintf(f->code, sizeof f->code, "hearing:record_rejected");
        snprintf(f->action, sizeof f->action, "check_hearing_record");
        snprintf(f->reason, sizeof f->reason, "hearing_record_rejected");
        st.rejected_infants++;
    }
    free(ids);
    st.findings = out->n - n0;
    if (stats) *stats = st;
    return (int)(out->n - n0);
}
