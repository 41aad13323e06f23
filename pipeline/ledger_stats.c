/* ledger_stats.c — programme indicators from the ledger (ledger_stats.h).  Each indicator
 * is one prepared query over the period's batches and cases; the period expression and
 * every value are bound parameters. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "json.h"
#include "ledger_stats.h"
#include "util.h"

/* ?1 from, ?2 to, ?3 by (0 month, 1 quarter, 2 all), ?4 period, ?5 now */
#define PER "(CASE ?3 WHEN 0 THEN substr(b.night_date,1,7) WHEN 1 THEN substr(b.night_date,1,4) || '-Q' || " \
            "((CAST(substr(b.night_date,6,2) AS INTEGER) + 2) / 3) ELSE 'all' END)"
#define IN_PERIOD " b.night_date >= ?1 AND b.night_date <= ?2 AND " PER " = ?4 "
/* card counts: the latest run of each night (a night run again with other inputs) */
#define LATEST " AND b.id = (SELECT max(b2.id) FROM batches b2 WHERE b2.night = b.night) "
#define SP_CASES " FROM cases c JOIN batches b ON b.id = c.batch_id WHERE" IN_PERIOD " AND c.screen_positive = 1 "

static const char *const S_83 = "DOMAIN.md 8.3";
static const char *const S_41 = "DOMAIN.md 4.1";
static const char *const S_82 = "DOMAIN.md 8.2/8.3";

typedef struct {
    ns_ledger_t *l;
    const char *from, *to, *now;
    int by;
    char *err;
    size_t errlen;
} ctx_t;

static sqlite3_stmt *prep(ctx_t *x, const char *sql, const char *period)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(x->l->db, sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(x->err, x->errlen, "%s: %s", x->l->path, sqlite3_errmsg(x->l->db));
        return NULL;
    }
    /* every statement may use any of ?1..?5; unused ones are ignored by SQLite only if
     * absent, so bind by index up to the count the statement has */
    int np = sqlite3_bind_parameter_count(st);
    if (np >= 1) sqlite3_bind_text(st, 1, x->from, -1, SQLITE_STATIC);
    if (np >= 2) sqlite3_bind_text(st, 2, x->to, -1, SQLITE_STATIC);
    if (np >= 3) sqlite3_bind_int(st, 3, x->by);
    if (np >= 4) sqlite3_bind_text(st, 4, period ? period : "", -1, SQLITE_TRANSIENT);
    if (np >= 5) sqlite3_bind_text(st, 5, x->now, -1, SQLITE_STATIC);
    return st;
}

/* one integer */
static int q_int(ctx_t *x, const char *sql, const char *period, int64_t *out)
{
    sqlite3_stmt *st = prep(x, sql, period);
    if (!st) return -1;
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        snprintf(x->err, x->errlen, "%s: %s", x->l->path, sqlite3_errmsg(x->l->db));
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_finalize(st);
    return 0;
}

static ns_indicator_t *add(ns_indicators_t *v, const char *period, const char *ind, const char *cond, int64_t num,
                           int64_t den, double value, int64_t n, const char *src)
{
    if (v->n == v->m) {
        v->m = v->m ? 2 * v->m : 64;
        v->v = ns_realloc(v->v, (size_t)v->m * sizeof *v->v);
    }
    ns_indicator_t *r = &v->v[v->n++];
    memset(r, 0, sizeof *r);
    snprintf(r->period, sizeof r->period, "%s", period);
    snprintf(r->indicator, sizeof r->indicator, "%s", ind);
    snprintf(r->condition, sizeof r->condition, "%s", cond);
    r->num = num;
    r->den = den;
    r->value = value;
    r->n = n;
    r->source = src;
    return r;
}

static void add_rate(ns_indicators_t *v, const char *period, const char *ind, const char *cond, int64_t num,
                     int64_t den, const char *src)
{
    add(v, period, ind, cond, num, den, den > 0 ? (double)num / (double)den : NAN, -1, src);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median_sorted(const double *v, int64_t n)
{
    if (n == 0) return NAN;
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/* One condition's counts in a period. */
typedef struct {
    char *cond;
    int64_t sp, conf, spc;     /* SP cases naming it; cases confirmed as it; SP cases naming it confirmed as it */
    int listed;                /* reported: a panel code of an SP case, or a confirmed diagnosis */
} per_cond_t;

static int cmp_pc(const void *a, const void *b)
{
    return strcmp(((const per_cond_t *)a)->cond, ((const per_cond_t *)b)->cond);
}

/* Add the rows (condition, count) of a grouped query into field `which` (0 sp, 1 conf,
 * 2 spc) of the conditions in *v. */
static int grouped(ctx_t *x, const char *sql, const char *p, per_cond_t **v, int *n, int which)
{
    sqlite3_stmt *st = prep(x, sql, p);
    if (!st) return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *c = (const char *)sqlite3_column_text(st, 0);
        if (!c) continue;
        int k;
        for (k = 0; k < *n; k++)
            if (strcmp((*v)[k].cond, c) == 0) break;
        if (k == *n) {
            *v = ns_realloc(*v, (size_t)(*n + 1) * sizeof **v);
            memset(&(*v)[k], 0, sizeof **v);
            (*v)[k].cond = ns_strdup(c);
            (*n)++;
        }
        per_cond_t *e = &(*v)[k];
        int64_t cnt = sqlite3_column_int64(st, 1);
        if (which == 0) { e->sp = cnt; e->listed |= strchr(c, ':') == NULL; }
        else if (which == 1) { e->conf = cnt; e->listed = 1; }
        else e->spc = cnt;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        snprintf(x->err, x->errlen, "%s: %s", x->l->path, sqlite3_errmsg(x->l->db));
        return -1;
    }
    return 0;
}

static int one_period(ctx_t *x, const char *p, ns_indicators_t *v)
{
    int64_t screened, initial, invalid, sp, done, lost, conf_all, sp_conf, orphans;
    char *sql;
    int r = 0;
    if (q_int(x, "SELECT total(cards_screened) FROM batches b WHERE" IN_PERIOD LATEST, p, &screened) < 0
        || q_int(x, "SELECT total(initial_cards) FROM batches b WHERE" IN_PERIOD LATEST, p, &initial) < 0
        || q_int(x, "SELECT total(invalid_cards) FROM batches b WHERE" IN_PERIOD LATEST, p, &invalid) < 0
        || q_int(x, "SELECT count(*)" SP_CASES, p, &sp) < 0
        || q_int(x, "SELECT count(*)" SP_CASES "AND EXISTS (SELECT 1 FROM events e WHERE e.case_id = c.id AND "
                 "e.at <= ?5 AND e.kind IN ('cleared_on_repeat','escalated','repeat_unsatisfactory',"
                 "'sample_received','confirmed','ruled_out'))", p, &done) < 0
        || q_int(x, "SELECT count(*) FROM orphan_repeats o JOIN batches b ON b.id = o.batch_id WHERE" IN_PERIOD, p,
                 &orphans) < 0)
        return -1;
    sql = ns_asprintf("SELECT count(*)" SP_CASES "AND %s = 'lost_to_follow_up'", ns_ledger_status_sql);
    r |= q_int(x, sql, p, &lost);
    free(sql);
    sql = ns_asprintf("SELECT count(*) FROM cases c JOIN batches b ON b.id = c.batch_id WHERE" IN_PERIOD
                      "AND %s LIKE 'confirmed:%%'", ns_ledger_status_sql);
    r |= q_int(x, sql, p, &conf_all);
    free(sql);
    sql = ns_asprintf("SELECT count(*)" SP_CASES "AND %s LIKE 'confirmed:%%'", ns_ledger_status_sql);
    r |= q_int(x, sql, p, &sp_conf);
    free(sql);
    if (r) return -1;

    add(v, p, "cards_screened", "", screened, -1, (double)screened, -1, S_83);
    add(v, p, "initial_cards", "", initial, -1, (double)initial, -1, S_83);
    add_rate(v, p, "unsatisfactory_rate", "", invalid, screened, S_83);
    add_rate(v, p, "screen_positive_rate", "ALL", sp, initial, S_41);
    add_rate(v, p, "recall_completion_rate", "", done, sp, S_83);
    add_rate(v, p, "loss_to_follow_up_rate", "", lost, sp, S_83);

    /* collection -> report: the histogram of floored hours */
    sqlite3_stmt *st = prep(x, "SELECT t.hours, sum(t.n) FROM batch_tat t JOIN batches b ON b.id = t.batch_id WHERE"
                            IN_PERIOD LATEST "GROUP BY t.hours ORDER BY t.hours", p);
    if (!st) return -1;
    int64_t total = 0, nh = 0;
    int64_t *hv = NULL, *hn = NULL;
    while (sqlite3_step(st) == SQLITE_ROW) {
        hv = ns_realloc(hv, (size_t)(nh + 1) * sizeof *hv);
        hn = ns_realloc(hn, (size_t)(nh + 1) * sizeof *hn);
        hv[nh] = sqlite3_column_int64(st, 0);
        hn[nh] = sqlite3_column_int64(st, 1);
        total += hn[nh++];
    }
    sqlite3_finalize(st);
    double med = NAN;
    if (total > 0) {
        /* the values at ranks (total-1)/2 and total/2 (0-based) */
        int64_t r1 = (total - 1) / 2, r2 = total / 2, acc = 0;
        double a = NAN, b = NAN;
        for (int64_t k = 0; k < nh; k++) {
            if (isnan(a) && r1 < acc + hn[k]) a = (double)hv[k];
            if (isnan(b) && r2 < acc + hn[k]) b = (double)hv[k];
            acc += hn[k];
        }
        med = (a + b) / 2.0 / 24.0;
    }
    free(hv);
    free(hn);
    add(v, p, "median_days_collection_to_report", "", -1, -1, med, total, S_82);

    /* report -> first contact, SP cases with a contact */
    st = prep(x, "SELECT (strftime('%s', (SELECT min(e.at) FROM events e WHERE e.case_id = c.id AND "
                 "e.kind = 'contact')) - strftime('%s', c.opened_at)) / 86400.0" SP_CASES "AND EXISTS (SELECT 1 FROM events e WHERE e.case_id = c.id AND "
                 "e.kind = 'contact')", p);
    if (!st) return -1;
    double *dv = NULL;
    int64_t nd = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        dv = ns_realloc(dv, (size_t)(nd + 1) * sizeof *dv);
        dv[nd++] = sqlite3_column_double(st, 0);
    }
    sqlite3_finalize(st);
    if (nd) qsort(dv, (size_t)nd, sizeof *dv, cmp_d);
    add(v, p, "median_days_report_to_first_contact", "", -1, -1, median_sorted(dv, nd), nd, S_82);
    free(dv);

    add(v, p, "confirmed_cases", "ALL", conf_all, -1, (double)conf_all, -1, S_41);
    add_rate(v, p, "ppv", "ALL", sp_conf, sp, S_41);
    add_rate(v, p, "incidence", "ALL", conf_all, initial, S_41);
    add(v, p, "repeat_without_case", "", orphans, -1, (double)orphans, -1, "DOMAIN.md 8.1");

    /* per condition: the conditions of SP cases (panel codes) and of confirmed diagnoses,
     * sorted by code, each counted by three grouped queries — a case's status is worked
     * out once per query, not once per condition */
    per_cond_t *pc = NULL;
    int nc = 0;
    char *q_sp = ns_strdup("SELECT cc.condition, count(*) FROM cases c JOIN batches b ON b.id = c.batch_id "
                           "JOIN case_conditions cc ON cc.case_id = c.id WHERE" IN_PERIOD "AND c.screen_positive = 1 "
                           "GROUP BY cc.condition");
    char *q_conf = ns_asprintf("SELECT substr(st, 11), count(*) FROM (SELECT %s AS st FROM cases c JOIN batches b "
                               "ON b.id = c.batch_id WHERE" IN_PERIOD ") WHERE substr(st, 1, 10) = 'confirmed:' "
                               "GROUP BY 1", ns_ledger_status_sql);
    char *q_spc = ns_asprintf("SELECT cc.condition, count(*) FROM (SELECT c.id AS id, %s AS st FROM cases c JOIN "
                              "batches b ON b.id = c.batch_id WHERE" IN_PERIOD "AND c.screen_positive = 1) s "
                              "JOIN case_conditions cc ON cc.case_id = s.id WHERE s.st = 'confirmed:' || cc.condition "
                              "GROUP BY cc.condition", ns_ledger_status_sql);
    r = grouped(x, q_sp, p, &pc, &nc, 0) < 0 || grouped(x, q_conf, p, &pc, &nc, 1) < 0
        || grouped(x, q_spc, p, &pc, &nc, 2) < 0 ? -1 : 0;
    free(q_sp); free(q_conf); free(q_spc);
    if (nc) qsort(pc, (size_t)nc, sizeof *pc, cmp_pc);
    for (int k = 0; k < nc && !r; k++) {
        const per_cond_t *e = &pc[k];
        if (!e->listed) continue;
        add_rate(v, p, "screen_positive_rate", e->cond, e->sp, initial, S_41);
        add(v, p, "confirmed_cases", e->cond, e->conf, -1, (double)e->conf, -1, S_41);
        add_rate(v, p, "ppv", e->cond, e->spc, e->sp, S_41);
        add_rate(v, p, "incidence", e->cond, e->conf, initial, S_41);
    }
    for (int k = 0; k < nc; k++) free(pc[k].cond);
    free(pc);
    return r;
}

int ns_ledger_stats(ns_ledger_t *l, const char *from, const char *to, int by, const char *now,
                    ns_indicators_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    ctx_t x = { l, from, to, now, by, err, errlen };
    /* one read transaction: every figure from the same snapshot (the caller's, when it
     * has one open: several calls then read the same snapshot) */
    const int own = sqlite3_get_autocommit(l->db);
    if (own && sqlite3_exec(l->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", l->path, sqlite3_errmsg(l->db));
        return -1;
    }
    sqlite3_stmt *st = prep(&x, "SELECT DISTINCT " PER " FROM batches b WHERE b.night_date >= ?1 AND b.night_date <= ?2 "
                            "ORDER BY 1", NULL);
    int r = st ? 0 : -1;
    char **pv = NULL;
    int np = 0;
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        pv = ns_realloc(pv, (size_t)(np + 1) * sizeof *pv);
        pv[np++] = ns_strdup((const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    if (!r && np == 0 && by == NS_BY_ALL) { pv = ns_malloc(sizeof *pv); pv[np++] = ns_strdup("all"); }
    for (int k = 0; k < np && !r; k++) r = one_period(&x, pv[k], out);
    for (int k = 0; k < np; k++) free(pv[k]);
    free(pv);
    if (own) sqlite3_exec(l->db, "COMMIT", NULL, NULL, NULL);
    if (r) ns_indicators_free(out);
    return r;
}

void ns_indicators_free(ns_indicators_t *v)
{
    free(v->v);
    memset(v, 0, sizeof *v);
}

static void num_or_empty(FILE *fp, int64_t x)
{
    if (x >= 0) fprintf(fp, "%lld", (long long)x);
}

void ns_indicators_csv(FILE *fp, const ns_indicators_t *v)
{
    fputs("period,indicator,condition,numerator,denominator,value,n,source\n", fp);
    for (int64_t k = 0; k < v->n; k++) {
        const ns_indicator_t *r = &v->v[k];
        fprintf(fp, "%s,%s,%s,", r->period, r->indicator, r->condition);
        num_or_empty(fp, r->num);
        fputc(',', fp);
        num_or_empty(fp, r->den);
        fputc(',', fp);
        if (!isnan(r->value)) fprintf(fp, "%.10g", r->value);
        fputc(',', fp);
        num_or_empty(fp, r->n);
        fprintf(fp, ",%s\n", r->source);
    }
}

void ns_indicators_json(FILE *fp, const ns_indicators_t *v, const char *from, const char *to, int by,
                        const char *now)
{
    static const char *const bys[] = { "month", "quarter", "all" };
    ns_json_t j;
    ns_json_init(&j, fp);
    ns_json_obj(&j, NULL);
    ns_json_str(&j, "format", "neoscreen-followup-stats/1");
    ns_json_str(&j, "from", from);
    ns_json_str(&j, "to", to);
    ns_json_str(&j, "by", bys[by]);
    ns_json_str(&j, "as_of", now);
    ns_json_arr(&j, "indicators");
    for (int64_t k = 0; k < v->n; k++) {
        const ns_indicator_t *r = &v->v[k];
        ns_json_obj(&j, NULL);
        ns_json_str(&j, "period", r->period);
        ns_json_str(&j, "indicator", r->indicator);
        ns_json_str(&j, "condition", r->condition[0] ? r->condition : NULL);
        if (r->num >= 0) ns_json_int(&j, "numerator", r->num);
        if (r->den >= 0) ns_json_int(&j, "denominator", r->den);
        ns_json_num(&j, "value", r->value);
        if (r->n >= 0) ns_json_int(&j, "n", r->n);
        ns_json_str(&j, "source", r->source);
        ns_json_end_obj(&j);
    }
    ns_json_end_arr(&j);
    ns_json_end_obj(&j);
    fputc('\n', fp);
}
