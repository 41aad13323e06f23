/* followup_write.c — the follow-up list as people read it: recall-list.csv and .xlsx.
 *
 * One table (table.h) is filled from the merged rows (followup.h) in the chosen language
 * (lang.h) and written twice, so the CSV and the XLSX always say the same thing.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "followup.h"
#include "lang.h"
#include "log.h"
#include "table.h"
#include "util.h"

/* growable string */
typedef struct { char *s; size_t n, m; } buf_t;

static void badd(buf_t *b, const char *s)
{
    size_t k = strlen(s);
    if (b->n + k + 1 > b->m) {
        b->m = (b->n + k + 1) * 2;
        b->s = ns_realloc(b->s, b->m);
    }
    memcpy(b->s + b->n, s, k + 1);
    b->n += k;
}

static void breset(buf_t *b)
{
    b->n = 0;
    if (b->s) b->s[0] = 0;
}

/* is key already in the ';'-separated list? */
static int listed(const char *list, const char *key)
{
    size_t k = strlen(key);
    for (const char *q = list; q && *q;) {
        const char *e = strchr(q, ';');
        size_t n = e ? (size_t)(e - q) : strlen(q);
        if (n == k && strncmp(q, key, k) == 0) return 1;
        q = e ? e + 1 : q + n;
    }
    return 0;
}

static void list_add(buf_t *b, const char *item)
{
    if (!*item || listed(b->s, item)) return;
    if (b->n) badd(b, ";");
    badd(b, item);
}

/* the value of f's argument name, or NULL */
static const char *arg_of(const ns_finding_t *f, const char *name)
{
    for (int k = 0; k < f->n_args; k++)
        if (strcmp(f->arg_name[k], name) == 0) return f->arg[k];
    return NULL;
}

/* one finding's reason in language L: its template with the arguments filled in; an
 * argument "@key" is itself a translation; a "lead" argument wraps the text in
 * reason.spec_lead_<lead> ("specimen: ...", "caveat: ...") */
/* an argument in language L: "@key" is the text of key; "@{key}" inside a value is
 * replaced by the text of key ("GJB2:c.235delC @{gene.call.hom}") */
static char *arg_text(const ns_lang_t *L, const char *v)
{
    if (v[0] == '@' && v[1] != '{') return ns_strdup(ns_lang_get(L, v + 1));
    buf_t b = {0};
    badd(&b, "");
    char key[NS_FU_ARG_MAX], one[2] = { 0, 0 };
    for (const char *p = v; *p; ) {
        const char *e;
        if (p[0] == '@' && p[1] == '{' && (e = strchr(p + 2, '}')) && (size_t)(e - p - 2) < sizeof key) {
            snprintf(key, sizeof key, "%.*s", (int)(e - p - 2), p + 2);
            badd(&b, ns_lang_get(L, key));
            p = e + 1;
        } else {
            one[0] = *p++;
            badd(&b, one);
        }
    }
    return b.s;
}

static char *reason_text(const ns_lang_t *L, const ns_finding_t *f)
{
    const char *names[NS_FU_MAX_ARGS], *vals[NS_FU_MAX_ARGS];
    char *own[NS_FU_MAX_ARGS];
    for (int k = 0; k < f->n_args; k++) {
        names[k] = f->arg_name[k];
        vals[k] = own[k] = arg_text(L, f->arg[k]);
    }
    char key[NS_FU_KEY_MAX + 32];
    snprintf(key, sizeof key, "reason.%s", f->reason);
    char *text = ns_lang_format(L, key, f->n_args, names, vals);
    for (int k = 0; k < f->n_args; k++) free(own[k]);
    const char *lead = arg_of(f, "lead");
    if (!lead) return text;
    snprintf(key, sizeof key, "reason.spec_lead_%s", lead);
    const char *wn[1] = { "text" }, *wv[1] = { text };
    char *wrapped = ns_lang_format(L, key, 1, wn, wv);
    free(text);
    return wrapped;
}

/* Set a text cell; text the table refuses (a stray control byte, C1 character or broken
 * UTF-8 from a LIMS field) is set with those characters replaced by U+FFFD, never left
 * blank, and reported by row and column (never quoted: it may be personal data). */
static int set_text(ns_table_t *t, int row, int col, const char *text)
{
    if (!text || ns_table_set_text(t, row, col, text) == 0) return 0;
    char *clean = ns_table_clean_text(text);
    int r = ns_table_set_text(t, row, col, clean);
    free(clean);
    ns_error("run", "recall list row %d, column %s: characters a spreadsheet cannot hold were replaced by U+FFFD",
             row + 1, t->keys[col]);
    return r;
}

/* append item to a ';'-separated list of cells; an item that a spreadsheet could take for
 * a formula (a list may be split into cells on ';') gets the same apostrophe as a cell */
static void badd_item(buf_t *b, const char *item)
{
    if (b->n) badd(b, ";");
    if (ns_table_formula_risk(item)) badd(b, "'");
    badd(b, item);
}

/* A gene result found again on a second plate (a sample tested twice) says the same thing:
 * is finding j of the row the same code with the same loci as an earlier one? */
static int repeats_gene_finding(const ns_findings_t *fs, const ns_fu_list_t *l, int64_t f0, int64_t j)
{
    const ns_finding_t *f = &fs->v[l->order[j]];
    if (f->source != NS_SRC_GENE) return 0;
    const char *loci = arg_of(f, "loci");
    for (int64_t k = f0; k < j; k++) {
        const ns_finding_t *e = &fs->v[l->order[k]];
        const char *el = arg_of(e, "loci");
        if (e->source == NS_SRC_GENE && strcmp(e->code, f->code) == 0 && loci && el && strcmp(loci, el) == 0)
            return 1;
    }
    return 0;
}

static const char *const columns[] = {
    "priority", "action", "due_by", "state", "infant_id", "sample_id", "plate_id", "well",
    "hospital", "mother_name", "contact_phone", "conditions", "reasons", "sources", "specimen",
    "age_at_collection_h", "birth_weight_g", "gestational_age_days", "feeding", "nicu",
};
enum { C_PRIO, C_ACT, C_DUE, C_STATE, C_INFANT, C_SID, C_PLATE, C_WELL, C_HOSP, C_MOTHER,
       C_PHONE, C_CONDS, C_REASONS, C_SOURCES, C_SPEC, C_AGE, C_BW, C_GA, C_FEED, C_NICU, C_N };

static const char *const source_names[NS_SRC_N] = { "msms", "hearing", "gene" };

const char *const *ns_followup_columns(int *n)
{
    *n = C_N;
    return columns;
}

static void count_action(ns_fu_stats_t *st, const char *action)
{
    for (int k = 0; k < st->n_actions; k++)
        if (strcmp(st->action[k], action) == 0) { st->by_action[k]++; return; }
    if (st->n_actions == NS_FU_MAX_ACTIONS) return;
    snprintf(st->action[st->n_actions], sizeof st->action[0], "%s", action);
    st->by_action[st->n_actions++] = 1;
}

static ns_table_t *build(const ns_fu_list_t *l, const ns_findings_t *fs, const ns_batch_t *b,
                         const ns_lang_t *L, ns_fu_stats_t *st)
{
    const char *headers[C_N];
    char key[64];
    char *hdr_own[C_N];
    for (int c = 0; c < C_N; c++) {
        snprintf(key, sizeof key, "col.%s", columns[c]);
        hdr_own[c] = ns_strdup(ns_lang_get(L, key));
        headers[c] = hdr_own[c];
    }
    ns_table_t *t = ns_table_new(C_N, columns, headers);
    for (int c = 0; c < C_N; c++) free(hdr_own[c]);
    if (!t) return NULL;

    const ns_manifest_t *m = &b->manifest;
    buf_t acts = {0}, conds = {0}, why = {0}, sid = {0}, plate = {0}, well = {0}, spec = {0}, src = {0};
    for (int64_t g = 0; g < l->n; g++) {
        const ns_fu_row_t *r = &l->rows[g];
        breset(&acts); breset(&conds); breset(&why); breset(&sid); breset(&plate); breset(&well);
        breset(&spec); breset(&src);
        /* cards: the distinct MS/MS wells, in batch order */
        int64_t n_cards = 0, last_row = -1;
        for (int64_t j = r->f0; j < r->f1; j++) {
            const ns_finding_t *f = &fs->v[l->order[j]];
            if (f->source != NS_SRC_MSMS || f->batch_row < 0 || f->batch_row == last_row) continue;
            int64_t i = last_row = f->batch_row;
            n_cards++;
            badd_item(&sid, b->sample_id[i]);
            badd_item(&plate, b->plates[b->plate[i]].id);
            badd_item(&well, b->well[i]);
            badd_item(&spec, m->rows[b->mrow[i]].specimen);
        }
        /* no MS/MS card on the list: the gene plate wells, so a gene result can be traced */
        for (int64_t j = r->f0; j < r->f1 && n_cards == 0; j++) {
            const ns_finding_t *f = &fs->v[l->order[j]];
            const char *gp = arg_of(f, "plate"), *gw = arg_of(f, "well");
            if (f->source != NS_SRC_GENE || !gp || !gw) continue;
            int dup = 0;
            for (int64_t k = r->f0; k < j; k++) {
                const ns_finding_t *e = &fs->v[l->order[k]];
                const char *ep = arg_of(e, "plate"), *ew = arg_of(e, "well");
                dup |= e->source == NS_SRC_GENE && ep && ew && !strcmp(ep, gp) && !strcmp(ew, gw);
            }
            if (dup) continue;
            badd_item(&sid, f->sample_id);
            badd_item(&plate, gp);
            badd_item(&well, gw);
        }
        /* actions, most urgent finding first (then in the order found) */
        for (int p = 0; p < NS_PRIO_N; p++)
            for (int64_t j = r->f0; j < r->f1; j++) {
                const ns_finding_t *f = &fs->v[l->order[j]];
                if (f->note_only || f->priority != p || listed(acts.s, f->action)) continue;
                list_add(&acts, f->action);
                count_action(st, f->action);
            }
        /* reasons; with several cards, each card's reasons as reason.for_sample */
        const char *sep = ns_lang_get(L, "sep.reasons");
        buf_t card = {0};
        for (int64_t j = r->f0; j < r->f1; j++) {
            const ns_finding_t *f = &fs->v[l->order[j]];
            if (!f->note_only && strncmp(f->code, "specimen:", 9) != 0) list_add(&conds, f->code);
            list_add(&src, source_names[f->source]);
            if (repeats_gene_finding(fs, l, r->f0, j)) continue;
            char *text = reason_text(L, f);
            int grouped = n_cards > 1 && f->source == NS_SRC_MSMS;
            if (!grouped) {
                if (why.n) badd(&why, sep);
                badd(&why, text);
                free(text);
                continue;
            }
            if (card.n) badd(&card, sep);
            badd(&card, text);
            free(text);
            const ns_finding_t *nx = j + 1 < r->f1 ? &fs->v[l->order[j + 1]] : NULL;
            if (!nx || nx->source != NS_SRC_MSMS || nx->batch_row != f->batch_row) {
                const char *wn[2] = { "sample", "reasons" }, *wv[2] = { f->sample_id, card.s };
                char *w = ns_lang_format(L, "reason.for_sample", 2, wn, wv);
                if (why.n) badd(&why, sep);
                badd(&why, w);
                free(w);
                breset(&card);
            }
        }
        free(card.s);
        /* translated action list */
        buf_t tacts = {0};
        for (const char *q = acts.s; q && *q;) {
            const char *e = strchr(q, ';');
            size_t n = e ? (size_t)(e - q) : strlen(q);
            snprintf(key, sizeof key, "action.%.*s", (int)n, q);
            if (tacts.n) badd(&tacts, ";");
            badd(&tacts, ns_lang_get(L, key));
            q = e ? e + 1 : q + n;
        }
        const ns_manifest_row_t *mr = r->mrow >= 0 ? &m->rows[r->mrow] : NULL;
        int row = ns_table_add_row(t);
        snprintf(key, sizeof key, "priority.%s", ns_prio_name(r->priority));
        set_text(t, row, C_PRIO, ns_lang_get(L, key));
        set_text(t, row, C_ACT, tacts.s ? tacts.s : "");
        if (!isnan(r->due_h)) ns_table_set_date(t, row, C_DUE, (long)floor(r->due_h / 24.0));
        set_text(t, row, C_STATE, ns_lang_get(L, r->invalid_only ? "state.invalid_specimen" : "state.recall"));
        set_text(t, row, C_INFANT, r->infant_id);
        set_text(t, row, C_SID, sid.s);
        set_text(t, row, C_PLATE, plate.s);
        set_text(t, row, C_WELL, well.s);
        set_text(t, row, C_CONDS, conds.s);
        set_text(t, row, C_REASONS, why.s);
        set_text(t, row, C_SOURCES, src.s);
        set_text(t, row, C_SPEC, spec.s);
        if (mr) {
            set_text(t, row, C_HOSP, mr->hospital);
            set_text(t, row, C_MOTHER, mr->mother_name);
            set_text(t, row, C_PHONE, mr->contact_phone);
            ns_table_set_number(t, row, C_AGE, mr->age_hours, 1);
            ns_table_set_number(t, row, C_BW, mr->birth_weight_g, 0);
            ns_table_set_number(t, row, C_GA, mr->gestational_age_days, 0);
            set_text(t, row, C_FEED, mr->feeding);
            if (mr->nicu >= 0) ns_table_set_number(t, row, C_NICU, mr->nicu, 0);
        }
        free(tacts.s);
        st->n_rows++;
        st->by_prio[r->priority]++;
        for (int s = 0; s < NS_SRC_N; s++) st->by_source[s] += (r->sources >> s) & 1u;
        int metabolic = 0, hearing = 0;
        for (int64_t j = r->f0; j < r->f1; j++) {
            const ns_finding_t *f = &fs->v[l->order[j]];
            if (f->note_only) continue;
            metabolic |= f->source == NS_SRC_MSMS && !f->invalid_card;
            hearing |= f->source == NS_SRC_HEARING;
        }
        st->msms_and_hearing += metabolic && hearing;
    }
    free(acts.s); free(conds.s); free(why.s); free(sid.s); free(plate.s); free(well.s); free(spec.s); free(src.s);
    return t;
}

/* The CSV file of the list, on a thread of its own while the caller writes the XLSX: the
 * list is the night's last output to be finished, and the two only read the table. */
typedef struct {
    const ns_table_t *t;
    const char *path;
    int bom, r;
    char err[512];
} csv_job_t;

static void *csv_job(void *arg)
{
    csv_job_t *j = arg;
    j->r = ns_table_write_csv(j->t, j->path, 0600, j->bom);
    if (j->r < 0) snprintf(j->err, sizeof j->err, "%s", ns_table_error());     /* thread-local */
    return NULL;
}

int ns_followup_write(const char *csv_path, const char *xlsx_path, const ns_fu_list_t *l,
                      const ns_findings_t *fs, const ns_batch_t *b, const ns_lang_t *L, int bom,
                      ns_fu_stats_t *st)
{
    memset(st, 0, sizeof *st);
    ns_table_t *t = build(l, fs, b, L, st);
    if (!t) {
        ns_error("run", "internal error: the recall-list table could not be built");
        return -1;
    }
    /* a list that could not be written must not leave last night's file in its place,
     * where it would be read as tonight's */
    int r = 0;
    csv_job_t cj = { t, csv_path, bom, 0, "" };
    pthread_t th;
    const int threaded = csv_path && xlsx_path && pthread_create(&th, NULL, csv_job, &cj) == 0;
    if (csv_path && !threaded) csv_job(&cj);
    if (xlsx_path && ns_table_write_xlsx(t, xlsx_path, 0600, ns_lang_get(L, "sheet.recall_list")) < 0) {
        ns_error("run", "%s", ns_table_error());
        if (unlink(xlsx_path) == 0) ns_error("run", "%s: the previous file was removed", xlsx_path);
        r = -1;
    }
    if (threaded) pthread_join(th, NULL);
    if (csv_path && cj.r < 0) {
        ns_error("run", "%s", cj.err);
        if (unlink(csv_path) == 0) ns_error("run", "%s: the previous file was removed", csv_path);
        r = -1;
    }
    ns_table_free(t);
    return r;
}
