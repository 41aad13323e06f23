/* report_ledger.c — the batch report's last section: the programme indicators of the
 * follow-up ledger (report.h, ns_rpt_ind_t), read from the ledger and drawn.
 *
 * The figures are those of `neoscreen followup stats` for the month and the quarter that
 * hold the night: the same function (ns_ledger_stats()) on the same ledger, as of the same
 * time.  Every cell also carries them as data-* attributes (period, indicator, condition,
 * numerator, denominator, value as %.10g like the CSV, n), so that a script reads the page
 * as it reads the CSV.  The section holds aggregates only: no ID, no name.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ledger.h"
#include "report_internal.h"
#include "svg.h"
#include "util.h"

void ns_rpt_ind_init(ns_rpt_ind_t *ind, int status)
{
    memset(ind, 0, sizeof *ind);
    ind->status = status;
}

void ns_rpt_ind_free(ns_rpt_ind_t *ind)
{
    ns_indicators_free(&ind->month_v);
    ns_indicators_free(&ind->quarter_v);
}

int ns_rpt_ind_load(ns_rpt_ind_t *ind, const char *path, const char *night, const char *now,
                    char *err, size_t errlen)
{
    ns_rpt_ind_init(ind, NS_RPT_IND_FAILED);
    ns_ledger_t *l = ns_ledger_open_ro(path, err, errlen);
    if (!l) return -1;
    snprintf(ind->as_of, sizeof ind->as_of, "%s", now);
    int ret = -1;
    sqlite3_stmt *st = NULL;
    /* one snapshot for the night's date and both periods */
    if (sqlite3_exec(l->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK
        || sqlite3_prepare_v2(l->db, "SELECT night_date FROM batches WHERE night = ?1 ORDER BY id LIMIT 1", -1, &st,
                              NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(l->db));
        goto out;
    }
    sqlite3_bind_text(st, 1, night ? night : "", -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        ind->status = NS_RPT_IND_NOT_RECORDED;
        ret = 0;
        goto out;
    }
    const char *d = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    if (rc != SQLITE_ROW) {
        snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(l->db));
        goto out;
    }
    char t[32];
    snprintf(t, sizeof t, "%sT00:00", d ? d : "");
    if (!d || strlen(d) != 10 || isnan(ns_parse_time_h(t))) {
        snprintf(err, errlen, "%s: night %s has no date in the ledger ('%s')", path, night, d ? d : "");
        goto out;
    }
    snprintf(ind->night_date, sizeof ind->night_date, "%s", d);
    /* the calendar month and quarter; day 31 bounds every month (dates compare as text) */
    const int q = (atoi(d + 5) + 2) / 3;       /* 1..4: d is a date */
    char mfrom[32], mto[32], qfrom[32], qto[32];
    snprintf(ind->month, sizeof ind->month, "%.7s", d);
    snprintf(ind->quarter, sizeof ind->quarter, "%.4s-Q%d", d, q);
    snprintf(mfrom, sizeof mfrom, "%.7s-01", d);
    snprintf(mto, sizeof mto, "%.7s-31", d);
    snprintf(qfrom, sizeof qfrom, "%.4s-%02d-01", d, 3 * q - 2);
    snprintf(qto, sizeof qto, "%.4s-%02d-31", d, 3 * q);
    if (ns_ledger_stats(l, mfrom, mto, NS_BY_MONTH, now, &ind->month_v, err, errlen) < 0
        || ns_ledger_stats(l, qfrom, qto, NS_BY_QUARTER, now, &ind->quarter_v, err, errlen) < 0) {
        ns_rpt_ind_free(ind);
        goto out;
    }
    ind->status = NS_RPT_IND_SHOWN;
    ret = 0;
out:
    sqlite3_finalize(st);
    if (!sqlite3_get_autocommit(l->db)) sqlite3_exec(l->db, "COMMIT", NULL, NULL, NULL);
    ns_ledger_close(l);
    if (ret < 0) ind->status = NS_RPT_IND_FAILED;
    return ret;
}

/* ---- the section ------------------------------------------------------------------------ */

#define T(key) ns_lang_get(L, key)

static void esc(FILE *fp, const char *s)
{
    ns_xml_escape(fp, s);
}

/* a translated text of key prefix + indicator name */
static const char *Tn(const ns_lang_t *L, const char *prefix, const char *name)
{
    char key[96];
    snprintf(key, sizeof key, "report.ind.%s.%s", prefix, name);
    return ns_lang_get(L, key);
}

/* a translated template with named arguments, escaped */
static void fmt(FILE *fp, const ns_lang_t *L, const char *key, int n, const char *const *names,
                const char *const *vals)
{
    char *s = ns_lang_format(L, key, n, names, vals);
    esc(fp, s);
    free(s);
}

static const ns_indicator_t *find(const ns_indicators_t *v, const char *name, const char *cond)
{
    for (int64_t k = 0; k < v->n; k++)
        if (strcmp(v->v[k].indicator, name) == 0 && strcmp(v->v[k].condition, cond) == 0) return &v->v[k];
    return NULL;
}

static int has_condition(const ns_indicators_t *v, const char *cond)
{
    for (int64_t k = 0; k < v->n; k++)
        if (strcmp(v->v[k].condition, cond) == 0) return 1;
    return 0;
}

/* One figure as a cell: what a person reads, and the exact figures of `followup stats`
 * in data-* attributes.  NULL: the period has no such figure. */
static void cell(FILE *fp, const ns_lang_t *L, const ns_indicator_t *x)
{
    if (!x) {
        fputs("<td class=\"n\">-</td>", fp);
        return;
    }
    fputs("<td class=\"n\" data-period=\"", fp);
    esc(fp, x->period);
    fputs("\" data-indicator=\"", fp);
    esc(fp, x->indicator);
    fputs("\" data-condition=\"", fp);
    esc(fp, x->condition);
    fputc('"', fp);
    if (x->num >= 0) fprintf(fp, " data-num=\"%lld\"", (long long)x->num);
    if (x->den >= 0) fprintf(fp, " data-den=\"%lld\"", (long long)x->den);
    if (x->n >= 0) fprintf(fp, " data-n=\"%lld\"", (long long)x->n);
    fputs(" data-value=\"", fp);
    if (!isnan(x->value)) fprintf(fp, "%.10g", x->value);
    fputs("\">", fp);
    char v[48], k[32], n[32];
    snprintf(k, sizeof k, "%lld", (long long)x->num);
    snprintf(n, sizeof n, "%lld", (long long)(x->den >= 0 ? x->den : x->n));
    if (isnan(x->value)) {
        fputc('-', fp);
    } else if (strcmp(x->indicator, "incidence") == 0) {
        if (x->value > 0) snprintf(v, sizeof v, "1:%.0f", 1.0 / x->value);
        else snprintf(v, sizeof v, "0");
        const char *nm[3] = { "inc", "k", "n" }, *vl[3] = { v, k, n };
        fmt(fp, L, "report.ind.incidence", 3, nm, vl);
    } else if (x->num >= 0 && x->den >= 0) {
        snprintf(v, sizeof v, "%.2f%%", 100.0 * x->value);
        const char *nm[3] = { "rate", "k", "n" }, *vl[3] = { v, k, n };
        fmt(fp, L, "report.ind.rate", 3, nm, vl);
    } else if (x->n >= 0) {
        snprintf(v, sizeof v, "%.2f", x->value);
        const char *nm[2] = { "d", "n" }, *vl[2] = { v, n };
        fmt(fp, L, "report.ind.days", 2, nm, vl);
    } else {
        fprintf(fp, "%lld", (long long)x->num);
    }
    fputs("</td>", fp);
}

void ns_rpt_ind_html(FILE *fp, const ns_rpt_ind_t *ind, const ns_lang_t *L)
{
    fputs("<section id=\"indicators\">\n<h2>", fp);
    esc(fp, T("report.ind"));
    fputs("</h2>\n", fp);
    if (ind->status != NS_RPT_IND_SHOWN) {
        ns_rpt_el(fp, "p", "note", T(ind->status == NS_RPT_IND_DISABLED ? "report.ind_disabled"
                              : ind->status == NS_RPT_IND_NOT_RECORDED ? "report.ind_not_recorded"
                              : "report.ind_failed"));
        fputs("\n</section>\n", fp);
        return;
    }
    fputs("<p class=\"note\">", fp);
    {
        const char *nm[4] = { "as_of", "month", "quarter", "date" };
        const char *vl[4] = { ind->as_of, ind->month, ind->quarter, ind->night_date };
        fmt(fp, L, "report.ind_note", 4, nm, vl);
    }
    fputs("</p>\n<table>\n<tr>", fp);
    ns_rpt_el(fp, "th", NULL, T("report.ind.col.indicator"));
    ns_rpt_el(fp, "th", NULL, ind->month);
    ns_rpt_el(fp, "th", NULL, ind->quarter);
    ns_rpt_el(fp, "th", NULL, T("report.ind.col.observed"));
    ns_rpt_el(fp, "th", NULL, T("report.ind.col.definition"));
    ns_rpt_el(fp, "th", NULL, T("report.ind.col.source"));
    fputs("</tr>\n", fp);
    /* the programme-wide figures, in ledger_stats.h's order (the quarter has them all) */
    const ns_indicators_t *mv = &ind->month_v, *qv = &ind->quarter_v;
    for (int64_t k = 0; k < qv->n; k++) {
        const ns_indicator_t *x = &qv->v[k];
        if (x->condition[0] && strcmp(x->condition, "ALL") != 0) continue;
        fputs("<tr><td>", fp);
        esc(fp, Tn(L, "name", x->indicator));
        if (x->condition[0]) {
            fputs(" (", fp);
            esc(fp, x->condition);
            fputc(')', fp);
        }
        fputs("</td>", fp);
        cell(fp, L, find(mv, x->indicator, x->condition));
        cell(fp, L, x);
        ns_rpt_el(fp, "td", NULL, Tn(L, "ref", x->indicator));
        ns_rpt_el(fp, "td", NULL, Tn(L, "def", x->indicator));
        ns_rpt_el(fp, "td", NULL, x->source);
        fputs("</tr>\n", fp);
    }
    fputs("</table>\n<h3>", fp);
    /* per condition: the conditions of the quarter (the month's are among them) */
    esc(fp, T("report.ind.by_condition"));
    fputs("</h3>\n", fp);
    static const char *const per[] = { "screen_positive_rate", "confirmed_cases", "ppv", "incidence" };
    const int n_per = (int)(sizeof per / sizeof per[0]);
    int any = 0;
    for (int64_t k = 0; k < qv->n; k++) {
        const ns_indicator_t *x = &qv->v[k];
        if (!x->condition[0] || strcmp(x->condition, "ALL") == 0 || strcmp(x->indicator, per[0]) != 0) continue;
        if (!any) {
            ns_rpt_el(fp, "p", "note", T("report.ind.by_condition_note"));
            fputs("\n<table>\n<tr>", fp);
            ns_rpt_el(fp, "th", NULL, T("report.col.condition"));
            ns_rpt_el(fp, "th", NULL, T("report.ind.col.period"));
            for (int j = 0; j < n_per; j++) ns_rpt_el(fp, "th", NULL, Tn(L, "name", per[j]));
            fputs("</tr>\n", fp);
            any = 1;
        }
        for (int pk = 0; pk < 2; pk++) {
            const ns_indicators_t *v = pk ? qv : mv;
            if (!has_condition(v, x->condition)) continue;      /* none in the month */
            fputs("<tr>", fp);
            ns_rpt_el(fp, "td", NULL, x->condition);
            ns_rpt_el(fp, "td", NULL, pk ? ind->quarter : ind->month);
            for (int j = 0; j < n_per; j++) cell(fp, L, find(v, per[j], x->condition));
            fputs("</tr>\n", fp);
        }
    }
    if (any) fputs("</table>\n", fp);
    else {
        ns_rpt_el(fp, "p", "note", T("report.ind.no_conditions"));
        fputc('\n', fp);
    }
    fputs("</section>\n", fp);
}
