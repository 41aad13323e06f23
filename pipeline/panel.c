/* panel.c — load and check a panel YAML file (see panel.h and configs/panel-default.yaml).
 *
 * The file is parsed with libyaml's document API, which keeps the start mark of every
 * node, so each problem can be reported at the line and column of the value that causes
 * it.  Checking does not stop at the first problem: a geneticist editing cutoffs should
 * see everything that is wrong in one go.  Unknown keys are errors, because a misspelt
 * "cutof:" silently ignored is a screening failure waiting to happen.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include "log.h"
#include "panel.h"
#include "sha256.h"
#include "encoding.h"
#include "util.h"
#include "yaml_doc.h"

typedef struct {
    ns_yaml_t y;
    ns_panel_t *p;
} ld_t;

static const char *const prio_names[] = { "critical", "urgent", "routine", NULL };
static const char *const act_names[] = { "referral", "repeat_specimen", NULL };

static const char *const spec_names[] = { "early_collection", "late_collection", "missing_collection_age",
                                          "missing_birth_weight", "missing_gestational_age", "transfusion",
                                          "tpn", NULL };
static const char *const conseq_names[] = { "ignore", "caveat", "invalid", NULL };
static const char *const cov_names[] = { "gestational_age_days", "birth_weight_g", "age_hours", "feeding",
                                         "nicu", "transfusion", "sex", NULL };

const char *ns_spec_name(int f) { return f >= 0 && f < NS_SPEC_N ? spec_names[f] : "?"; }

const char *ns_prio_name(int p) { return p >= 0 && p < NS_PRIO_N ? prio_names[p] : "?"; }
const char *ns_action_name(int a) { return a >= 0 && a < NS_ACT_N ? act_names[a] : "?"; }

int ns_panel_find_analyte(const ns_panel_t *p, const char *s)
{
    for (int i = 0; i < p->n_analytes; i++) {
        if (ns_strcaseeq(p->analytes[i].name, s)) return i;
        for (int k = 0; k < p->analytes[i].n_aliases; k++)
            if (ns_strcaseeq(p->analytes[i].aliases[k], s)) return i;
    }
    return -1;
}

static int find_marker(const ns_panel_t *p, const char *s)
{
    for (int i = 0; i < p->n_analytes; i++)
        if (strcmp(p->analytes[i].name, s) == 0) return i;
    for (int r = 0; r < p->n_ratios; r++)
        if (strcmp(p->ratios[r].name, s) == 0) return p->n_analytes + r;
    return -1;
}

const char *ns_panel_marker_name(const ns_panel_t *p, int m)
{
    if (m < 0) return "?";
    return m < p->n_analytes ? p->analytes[m].name : p->ratios[m - p->n_analytes].name;
}

/* ---- sections ---------------------------------------------------------------------- */

static void load_header(ld_t *L, yaml_node_t *v)
{
    static const char *const keys[] = { "name", "version", "kit", NULL };
    if (!v) { ns_yaml_err(&L->y, ns_yaml_root(&L->y), "missing 'panel:' section (name, version, kit)"); return; }
    if (!ns_yaml_keys(&L->y, v, "panel", keys)) return;
    ns_yaml_str(&L->y, v, "name", L->p->name, sizeof L->p->name, 1, "panel");
    ns_yaml_str(&L->y, v, "version", L->p->version, sizeof L->p->version, 1, "panel");
    ns_yaml_str(&L->y, v, "kit", L->p->kit, sizeof L->p->kit, 0, "panel");
}

static const char *const col_keys[] = { "plate_id", "well", "sample_id", "sample_type", NULL };
static const char *const type_keys[] = { "patient", "qc_low", "qc_high", "blank", NULL };

/* each canonical name is always accepted; the config adds spellings */
static void alias_list(ld_t *L, yaml_node_t *m, const char *key, const char *what,
                       char ***out, int *n)
{
    int k = 0;
    char **v = ns_yaml_strlist(&L->y, ns_yaml_get(&L->y, m, key), &k, what);
    char **r = ns_calloc((size_t)k + 2, sizeof *r);
    int j = 0;
    r[j++] = ns_strdup(key);
    for (int i = 0; i < k; i++) {
        if (ns_strcaseeq(v[i], key)) { free(v[i]); continue; }
        r[j++] = v[i];
    }
    free(v);
    *out = r;
    *n = j;
}

static void load_input(ld_t *L, yaml_node_t *v)
{
    ns_input_t *in = &L->p->input;
    in->plate_rows = 8;
    in->plate_cols = 12;
    static const char *const keys[] = { "plate", "columns", "sample_types", NULL };
    if (v && !ns_yaml_keys(&L->y, v, "input", keys)) v = NULL;
    yaml_node_t *plate = ns_yaml_get(&L->y, v, "plate"), *cols = ns_yaml_get(&L->y, v, "columns"),
                *types = ns_yaml_get(&L->y, v, "sample_types");
    if (plate) {
        static const char *const pk[] = { "rows", "cols", NULL };
        double r = 8, c = 12;
        if (ns_yaml_keys(&L->y, plate, "input.plate", pk)) {
            ns_yaml_num(&L->y, plate, "rows", &r, "input.plate");
            ns_yaml_num(&L->y, plate, "cols", &c, "input.plate");
            if (!((r == 8 && c == 12) || (r == 16 && c == 24)))
                ns_yaml_err(&L->y, plate, "input.plate: %gx%g wells is not a 96-well (8x12) or 384-well (16x24) plate", r, c);
            else { in->plate_rows = (int)r; in->plate_cols = (int)c; }
        }
    }
    if (cols) ns_yaml_keys(&L->y, cols, "input.columns", col_keys);
    if (types) ns_yaml_keys(&L->y, types, "input.sample_types", type_keys);
    for (int i = 0; i < 4; i++) {
        alias_list(L, cols, col_keys[i], "input.columns", &in->col_alias[i], &in->n_col_alias[i]);
        alias_list(L, types, type_keys[i], "input.sample_types", &in->type_alias[i], &in->n_type_alias[i]);
    }
    /* a spelling may mean one thing only */
    for (int g = 0; g < 2; g++)
        for (int i = 0; i < 4; i++)
            for (int j = i + 1; j < 4; j++) {
                char **a = g ? in->type_alias[i] : in->col_alias[i], **b = g ? in->type_alias[j] : in->col_alias[j];
                int na = g ? in->n_type_alias[i] : in->n_col_alias[i], nb = g ? in->n_type_alias[j] : in->n_col_alias[j];
                for (int x = 0; x < na; x++)
                    for (int y = 0; y < nb; y++)
                        if (ns_strcaseeq(a[x], b[y]))
                            ns_yaml_err(&L->y, g ? types : cols, "input: spelling '%s' is given for both %s and %s",
                                   a[x], g ? type_keys[i] : col_keys[i], g ? type_keys[j] : col_keys[j]);
            }
}

static void load_specimen(ld_t *L, yaml_node_t *v)
{
    ns_specimen_rules_t *sp = &L->p->specimen;
    sp->min_age_h = sp->max_age_h = NAN;
    for (int f = 0; f < NS_SPEC_N; f++) sp->consequence[f] = NS_SPEC_IGNORE;
    if (!v) return;
    static const char *const keys[] = { "min_age_hours", "max_age_hours", "early_collection", "late_collection",
                                        "missing_collection_age", "missing_birth_weight",
                                        "missing_gestational_age", "transfusion", "tpn", NULL };
    if (!ns_yaml_keys(&L->y, v, "specimen", keys)) return;
    if (ns_yaml_num(&L->y, v, "min_age_hours", &sp->min_age_h, "specimen") > 0 && sp->min_age_h < 0)
        ns_yaml_err(&L->y, ns_yaml_get(&L->y, v, "min_age_hours"), "specimen: min_age_hours must not be negative");
    if (ns_yaml_num(&L->y, v, "max_age_hours", &sp->max_age_h, "specimen") > 0 && !isnan(sp->min_age_h)
        && !(sp->max_age_h > sp->min_age_h))
        ns_yaml_err(&L->y, ns_yaml_get(&L->y, v, "max_age_hours"), "specimen: max_age_hours (%g) must be above min_age_hours (%g)",
                    sp->max_age_h, sp->min_age_h);
    for (int f = 0; f < NS_SPEC_N; f++)
        sp->consequence[f] = ns_yaml_enum(&L->y, v, spec_names[f], conseq_names, NS_SPEC_IGNORE, "specimen");
    if (!isnan(sp->max_age_h) && !(sp->max_age_h > 0))
        ns_yaml_err(&L->y, ns_yaml_get(&L->y, v, "max_age_hours"), "specimen: max_age_hours must be above 0");
    if (sp->consequence[NS_SPEC_TPN] == NS_SPEC_INVALID)
        ns_yaml_err(&L->y, ns_yaml_get(&L->y, v, "tpn"), "specimen: tpn can be ignore or caveat (TPN is handled per condition with tpn_sensitive)");
}

/* A limit in the wrong unit (weeks for days, kg for grams) would silently put every baby,
 * or none, in the stratum: refuse values outside what the covariate's unit allows. */
static void check_stratum_unit(ld_t *L, yaml_node_t *at, const ns_stratum_t *x)
{
    static const struct { int cov; double lo, hi; const char *hint; } r[] = {
        { NS_COV_GA_DAYS, 140, 320, "days (37 weeks = 259)" },
        { NS_COV_BW_G, 300, 6000, "grams (1.5 kg = 1500)" },
        { NS_COV_AGE_H, 0, 1440, "hours since birth (3 days = 72)" },
    };
    for (size_t k = 0; k < sizeof r / sizeof r[0]; k++)
        if (r[k].cov == x->cov && !(x->value >= r[k].lo && x->value <= r[k].hi))
            ns_yaml_err(&L->y, at, "stratum %s: %s %g is outside %g..%g: give %s", x->name,
                        cov_names[x->cov], x->value, r[k].lo, r[k].hi, r[k].hint);
}

static void load_strata(ld_t *L, yaml_node_t *v)
{
    ns_panel_t *p = L->p;
    if (!v) return;
    if (v->type != YAML_SEQUENCE_NODE) { ns_yaml_err(&L->y, v, "'strata' must be a list"); return; }
    static const char *const keys[] = { "name", "covariate", "lt", "le", "gt", "ge", "eq", NULL };
    static const char *const cmps[] = { "lt", "le", "gt", "ge", "eq" };
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *sn = ns_yaml_node(&L->y, *it);
        if (!ns_yaml_keys(&L->y, sn, "stratum", keys)) continue;
        if (p->n_strata == NS_MAX_STRATA) { ns_yaml_err(&L->y, sn, "more than %d strata", NS_MAX_STRATA); break; }
        ns_stratum_t *x = &p->strata[p->n_strata];
        if (!ns_yaml_str(&L->y, sn, "name", x->name, sizeof x->name, 1, "stratum")) continue;
        x->pos = ns_yaml_pos(sn);
        /* population groups are "all", "standard" or a stratum name: keep them apart */
        if (strcmp(x->name, "all") == 0 || strcmp(x->name, "standard") == 0)
            ns_yaml_err(&L->y, ns_yaml_get(&L->y, sn, "name"),
                        "stratum name '%s' is reserved (population groups 'all' and 'standard')", x->name);
        for (int k = 0; k < p->n_strata; k++)
            if (strcmp(p->strata[k].name, x->name) == 0)
                ns_yaml_err(&L->y, ns_yaml_get(&L->y, sn, "name"), "duplicate stratum '%s'", x->name);
        x->cov = ns_yaml_enum(&L->y, sn, "covariate", cov_names, -1, "stratum");
        int n_cmp = 0;
        for (int k = 0; k < 5; k++) {
            yaml_node_t *cv = ns_yaml_get(&L->y, sn, cmps[k]);
            if (!cv) continue;
            n_cmp++;
            x->cmp = k;
            int text_cov = x->cov == NS_COV_FEEDING || x->cov == NS_COV_SEX;
            if (text_cov && k != NS_CMP_EQ)
                ns_yaml_err(&L->y, cv, "stratum %s: %s is text: compare it with eq", x->name, cov_names[x->cov]);
            else if (text_cov) ns_yaml_str(&L->y, sn, "eq", x->text, sizeof x->text, 1, "stratum");
            else if (ns_yaml_num(&L->y, sn, cmps[k], &x->value, "stratum") > 0)
                check_stratum_unit(L, cv, x);
        }
        if (n_cmp != 1) ns_yaml_err(&L->y, sn, "stratum %s: give exactly one of lt, le, gt, ge, eq", x->name);
        p->n_strata++;
    }
}

static void load_analytes(ld_t *L, yaml_node_t *v)
{
    ns_panel_t *p = L->p;
    if (!v) { ns_yaml_err(&L->y, ns_yaml_root(&L->y), "missing 'analytes:' list"); return; }
    if (v->type != YAML_SEQUENCE_NODE) { ns_yaml_err(&L->y, v, "'analytes' must be a list"); return; }
    int m = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
    p->analytes = ns_calloc((size_t)m, sizeof *p->analytes);
    static const char *const keys[] = { "name", "aliases", "unit", "loinc", NULL };
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *a = ns_yaml_node(&L->y, *it);
        if (!ns_yaml_keys(&L->y, a, "analyte", keys)) continue;
        ns_analyte_t *x = &p->analytes[p->n_analytes];
        if (!ns_yaml_str(&L->y, a, "name", x->name, sizeof x->name, 1, "analyte")) continue;
        x->pos = ns_yaml_pos(a);
        strcpy(x->unit, "umol/L");
        ns_yaml_str(&L->y, a, "unit", x->unit, sizeof x->unit, 0, x->name);
        ns_yaml_str(&L->y, a, "loinc", x->loinc, sizeof x->loinc, 0, x->name);
        yaml_node_t *al = ns_yaml_get(&L->y, a, "aliases");
        x->aliases = ns_yaml_strlist(&L->y, al, &x->n_aliases, "aliases");
        /* every spelling (name or alias) must identify one analyte only */
        for (int k = -1; k < x->n_aliases; k++) {
            const char *s = k < 0 ? x->name : x->aliases[k];
            int other = ns_panel_find_analyte(p, s);
            if (other >= 0)
                ns_yaml_err(&L->y, k < 0 ? ns_yaml_get(&L->y, a, "name") : al,
                       "analyte '%s': spelling '%s' is already used by analyte '%s' (line %d)",
                       x->name, s, p->analytes[other].name, p->analytes[other].pos.line);
        }
        p->n_analytes++;
    }
    if (p->n_analytes == 0) ns_yaml_err(&L->y, v, "'analytes' is empty: a panel needs at least one analyte");
}

/* A header spelling that names both a fixed column and an analyte would quarantine every
 * plate that uses it: refuse the config instead. */
static void check_column_clash(ld_t *L, yaml_node_t *where)
{
    const ns_input_t *in = &L->p->input;
    for (int k = 0; k < 4; k++)
        for (int x = 0; x < in->n_col_alias[k]; x++) {
            int a = ns_panel_find_analyte(L->p, in->col_alias[k][x]);
            if (a >= 0)
                ns_yaml_err(&L->y, where, "spelling '%s' names both the column %s and analyte '%s' (line %d)",
                       in->col_alias[k][x], in->col_alias[k][0], L->p->analytes[a].name, L->p->analytes[a].pos.line);
        }
}

static int *analyte_terms(ld_t *L, yaml_node_t *r, const char *key, int *n, const char *rname)
{
    *n = 0;
    yaml_node_t *v = ns_yaml_get(&L->y, r, key);
    if (!v) { ns_yaml_err(&L->y, r, "ratio '%s': missing '%s' (list of analytes)", rname, key); return NULL; }
    if (v->type != YAML_SEQUENCE_NODE || v->data.sequence.items.top == v->data.sequence.items.start) {
        ns_yaml_err(&L->y, v, "ratio '%s': '%s' must be a non-empty list of analytes, e.g. [C16, C18]", rname, key);
        return NULL;
    }
    int m = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (m > NS_RATIO_MAX_TERMS) {
        ns_yaml_err(&L->y, v, "ratio '%s': '%s' has %d terms, at most %d", rname, key, m, NS_RATIO_MAX_TERMS);
        return NULL;
    }
    int *idx = ns_calloc((size_t)m, sizeof *idx);
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *t = ns_yaml_node(&L->y, *it);
        const char *s = ns_yaml_scalar(t);
        int a = -1;
        for (int i = 0; s && i < L->p->n_analytes; i++)
            if (strcmp(L->p->analytes[i].name, s) == 0) a = i;
        if (a < 0) { ns_yaml_err(&L->y, t, "unknown analyte '%s' in ratio '%s'", s ? s : "?", rname); continue; }
        int dup = 0;
        for (int k = 0; k < *n; k++) dup |= idx[k] == a;
        if (dup) { ns_yaml_err(&L->y, t, "ratio '%s': analyte '%s' is listed twice in '%s'", rname, s, key); continue; }
        idx[(*n)++] = a;
    }
    return idx;
}

static void load_ratios(ld_t *L, yaml_node_t *v)
{
    ns_panel_t *p = L->p;
    if (!v) return;
    if (v->type != YAML_SEQUENCE_NODE) { ns_yaml_err(&L->y, v, "'ratios' must be a list"); return; }
    int m = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
    p->ratios = ns_calloc((size_t)m, sizeof *p->ratios);
    static const char *const keys[] = { "name", "num", "den", "loinc", NULL };
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *r = ns_yaml_node(&L->y, *it);
        if (!ns_yaml_keys(&L->y, r, "ratio", keys)) continue;
        ns_ratio_t *x = &p->ratios[p->n_ratios];
        if (!ns_yaml_str(&L->y, r, "name", x->name, sizeof x->name, 1, "ratio")) continue;
        x->pos = ns_yaml_pos(r);
        if (find_marker(p, x->name) >= 0)
            ns_yaml_err(&L->y, ns_yaml_get(&L->y, r, "name"), "ratio '%s': name already used by an analyte or ratio", x->name);
        ns_yaml_str(&L->y, r, "loinc", x->loinc, sizeof x->loinc, 0, x->name);
        x->num = analyte_terms(L, r, "num", &x->n_num, x->name);
        x->den = analyte_terms(L, r, "den", &x->n_den, x->name);
        p->n_ratios++;
    }
}

static void check_limits(ld_t *L, yaml_node_t *mk, const char *code, const char *name, const ns_threshold_t *t);

/* A marker's part in the condition score: disease: {median, source} and weight:.  Whether
 * the condition has a score block is checked by the caller, once all markers are read. */
static void load_disease(ld_t *L, yaml_node_t *mk, const ns_condition_t *c, ns_marker_t *x,
                         const char *name, const char *what)
{
    x->disease_median = NAN;
    x->weight = NAN;
    yaml_node_t *dz = ns_yaml_get(&L->y, mk, "disease");
    static const char *const dkeys[] = { "median", "source", NULL };
    if (dz && ns_yaml_keys(&L->y, dz, "disease", dkeys)) {
        double d = NAN;
        int r = ns_yaml_num(&L->y, dz, "median", &d, what);
        yaml_node_t *mn = ns_yaml_get(&L->y, dz, "median");
        if (r == 0)
            ns_yaml_err(&L->y, dz, "condition %s marker '%s': disease needs 'median' (median of the "
                        "condition's disease range)", c->code, name);
        else if (r > 0 && !(d > 0))
            ns_yaml_err(&L->y, mn, "condition %s marker '%s': disease median must be above 0, not %g", c->code, name, d);
        else if (r > 0) {
            x->disease_median = d;
            x->disease_pos = ns_yaml_pos(mn);
        }
        yaml_node_t *sv = ns_yaml_get(&L->y, dz, "source");
        const char *src = ns_yaml_scalar(sv);
        if (!sv)
            ns_yaml_err(&L->y, dz, "condition %s marker '%s': disease needs 'source' (where the median "
                        "comes from: confirmed cases, a paper)", c->code, name);
        else if (!src || !*src)
            ns_yaml_err(&L->y, sv, "condition %s marker '%s': disease source must be a non-empty text", c->code, name);
        else x->disease_source = ns_strdup(src);
    }
    yaml_node_t *wn = ns_yaml_get(&L->y, mk, "weight");
    if (ns_yaml_num(&L->y, mk, "weight", &x->weight, what) > 0) {
        if (!(x->weight >= 0))
            ns_yaml_err(&L->y, wn, "condition %s marker '%s': weight must be 0 or more, not %g", c->code, name, x->weight);
        else if (!dz)
            ns_yaml_err(&L->y, wn, "condition %s marker '%s': weight (in the score) needs "
                        "disease: {median, source}", c->code, name);
    }
}

/* score: {call_by, possible, likely} of a condition, and the checks that need all of its
 * markers: a disease median only with a score block, a usable primary marker. */
static void load_score(ld_t *L, yaml_node_t *cn, ns_condition_t *c, const char *what)
{
    static const char *const skeys[] = { "call_by", "possible", "likely", NULL };
    static const char *const call_by[] = { "cutoff", "score", "both", NULL };
    yaml_node_t *sc = ns_yaml_get(&L->y, cn, "score");
    ns_score_rule_t *r = &c->score;
    r->call_by = NS_CALL_BY_CUTOFF;
    r->possible = r->likely = NAN;
    if (sc && ns_yaml_keys(&L->y, sc, "score", skeys)) {
        char w2[96];
        snprintf(w2, sizeof w2, "%s score", what);
        r->present = 1;
        r->pos = ns_yaml_pos(sc);
        L->p->n_scored++;
        r->call_by = ns_yaml_enum(&L->y, sc, "call_by", call_by, -1, w2);
        int rp = ns_yaml_num(&L->y, sc, "possible", &r->possible, w2);
        int rl = ns_yaml_num(&L->y, sc, "likely", &r->likely, w2);
        if (rp == 0) ns_yaml_err(&L->y, sc, "%s: missing 'possible' (lowest score of the band possible)", w2);
        if (rl == 0) ns_yaml_err(&L->y, sc, "%s: missing 'likely' (lowest score of the band likely)", w2);
        if (rp > 0 && !(r->possible > NS_SCORE_LO && r->possible < NS_SCORE_HI))
            ns_yaml_err(&L->y, ns_yaml_get(&L->y, sc, "possible"), "%s: possible must be between %g and %g "
                        "(the score is clamped to that range), not %g", w2, NS_SCORE_LO, NS_SCORE_HI, r->possible);
        else if (rl > 0 && !(r->likely > NS_SCORE_LO && r->likely <= NS_SCORE_HI))
            ns_yaml_err(&L->y, ns_yaml_get(&L->y, sc, "likely"), "%s: likely must be above %g and at most %g "
                        "(the score is clamped to that range), not %g", w2, NS_SCORE_LO, NS_SCORE_HI, r->likely);
        else if (rp > 0 && rl > 0 && !(r->possible < r->likely))
            ns_yaml_err(&L->y, ns_yaml_get(&L->y, sc, "likely"), "%s: likely (%g) must be above possible (%g)",
                        w2, r->likely, r->possible);
    }
    int usable = 0;
    for (int k = 0; k < c->n_markers; k++) {
        ns_marker_t *x = &c->markers[k];
        if (isnan(x->disease_median)) continue;
        if (isnan(x->weight)) x->weight = x->role == NS_ROLE_PRIMARY ? 1.0 : 0.5;
        if (x->role == NS_ROLE_PRIMARY && x->weight > 0) usable = 1;
        if (!r->present)
            ns_yaml_errs_add(L->y.errs, x->disease_pos.line, x->disease_pos.col,
                             "condition %s marker '%s': a disease median is used only by a score: block, "
                             "and the condition has none", c->code, ns_panel_marker_name(L->p, x->marker));
    }
    if (r->present && !usable)
        ns_yaml_err(&L->y, sc, "condition %s: a score needs at least one primary marker with disease: "
                    "{median, source} and a weight above 0", c->code);
}

static void load_marker(ld_t *L, yaml_node_t *mk, ns_condition_t *c)
{
    static const char *const keys[] = { "marker", "role", "direction", "cutoff", "borderline",
                                        "critical", "strata", "disease", "weight", NULL };
    static const char *const roles[] = { "primary", "secondary", NULL };
    static const char *const dirs[] = { "high", "low", NULL };
    char what[80];
    snprintf(what, sizeof what, "condition %s marker", c->code);
    if (!ns_yaml_keys(&L->y, mk, what, keys)) return;
    ns_marker_t *x = &c->markers[c->n_markers];
    x->pos = ns_yaml_pos(mk);
    char name[NS_NAME_MAX] = "";
    if (!ns_yaml_str(&L->y, mk, "marker", name, sizeof name, 1, what)) return;
    x->marker = find_marker(L->p, name);
    if (x->marker < 0) {
        ns_yaml_err(&L->y, ns_yaml_get(&L->y, mk, "marker"), "condition %s: unknown marker '%s' (not an analyte or ratio name)",
               c->code, name);
        return;
    }
    for (int k = 0; k < c->n_markers; k++)
        if (c->markers[k].marker == x->marker)
            ns_yaml_err(&L->y, ns_yaml_get(&L->y, mk, "marker"), "condition %s: marker '%s' is listed twice", c->code, name);
    x->role = ns_yaml_enum(&L->y, mk, "role", roles, NS_ROLE_PRIMARY, what);
    x->thr.dir = ns_yaml_enum(&L->y, mk, "direction", dirs, -1, what);
    x->thr.cutoff = x->thr.borderline = x->thr.critical = NAN;
    if (ns_yaml_num(&L->y, mk, "cutoff", &x->thr.cutoff, what) == 0)
        ns_yaml_err(&L->y, mk, "condition %s: marker '%s' has no cutoff", c->code, name);
    ns_yaml_num(&L->y, mk, "borderline", &x->thr.borderline, what);
    ns_yaml_num(&L->y, mk, "critical", &x->thr.critical, what);
    check_limits(L, mk, c->code, name, &x->thr);
    load_disease(L, mk, c, x, name, what);
    yaml_node_t *so = ns_yaml_get(&L->y, mk, "strata");
    if (so && so->type != YAML_MAPPING_NODE)
        ns_yaml_err(&L->y, so, "condition %s marker '%s': 'strata' must map stratum names to limits", c->code, name);
    else if (so) {
        static const char *const okeys[] = { "cutoff", "borderline", "critical", NULL };
        for (yaml_node_pair_t *pr = so->data.mapping.pairs.start; pr < so->data.mapping.pairs.top; pr++) {
            yaml_node_t *kn = ns_yaml_node(&L->y, pr->key), *vn = ns_yaml_node(&L->y, pr->value);
            const char *sn = ns_yaml_scalar(kn);
            int st = -1;
            for (int k = 0; sn && k < L->p->n_strata; k++)
                if (strcmp(L->p->strata[k].name, sn) == 0) st = k;
            if (st < 0) {
                ns_yaml_err(&L->y, kn, "condition %s marker '%s': unknown stratum '%s' (define it under 'strata:')",
                            c->code, name, sn ? sn : "?");
                continue;
            }
            int dup = -1;
            for (int k = 0; k < x->n_over; k++) if (x->strat_of[k] == st) dup = k;
            if (dup >= 0) {
                ns_yaml_err(&L->y, kn, "condition %s marker '%s': stratum '%s' is given twice", c->code, name, sn);
                continue;
            }
            if (x->n_over >= NS_MAX_STRATA) continue;   /* unreachable: strata are distinct */
            if (!ns_yaml_keys(&L->y, vn, "a stratum override", okeys)) continue;
            ns_threshold_t t = x->thr;      /* limits not given are inherited */
            ns_yaml_num(&L->y, vn, "cutoff", &t.cutoff, what);
            ns_yaml_num(&L->y, vn, "borderline", &t.borderline, what);
            ns_yaml_num(&L->y, vn, "critical", &t.critical, what);
            check_limits(L, vn, c->code, name, &t);
            x->strat_of[x->n_over] = st;
            x->thr_of[x->n_over++] = t;
        }
    }
    c->n_markers++;
}

/* Limits of one marker (or one stratum override) in the right order. */
static void check_limits(ld_t *L, yaml_node_t *mk, const char *code, const char *name, const ns_threshold_t *t)
{
    const double cut = t->cutoff, bl = t->borderline, cr = t->critical;
    const int high = t->dir == NS_DIR_HIGH;
    /* point at the limit's own value, or at the mapping when the limit is inherited */
    yaml_node_t *at_cut = ns_yaml_get(&L->y, mk, "cutoff"), *at_bl = ns_yaml_get(&L->y, mk, "borderline"),
                *at_cr = ns_yaml_get(&L->y, mk, "critical");
    if (!at_cut) at_cut = mk;
    if (!at_bl) at_bl = mk;
    if (!at_cr) at_cr = mk;
    if (!isnan(cut) && cut < 0)
        ns_yaml_err(&L->y, at_cut, "condition %s: cutoff %g for '%s' is negative", code, cut, name);
    else if (!isnan(cut) && cut == 0 && high)
        ns_yaml_err(&L->y, at_cut, "condition %s: a high cutoff of 0 for '%s' would flag every sample", code, name);
    if (!isnan(bl) && !isnan(cut) && !(high ? bl < cut : bl > cut))
        ns_yaml_err(&L->y, at_bl, "condition %s: '%s' is a %s marker, so borderline (%g) must be %s cutoff (%g)",
                    code, name, high ? "high" : "low", bl, high ? "below" : "above", cut);
    if (!isnan(cr) && !isnan(cut) && !(high ? cr > cut : cr < cut))
        ns_yaml_err(&L->y, at_cr, "condition %s: '%s' is a %s marker, so critical (%g) must be %s cutoff (%g)",
                    code, name, high ? "high" : "low", cr, high ? "above" : "below", cut);
}

static void load_conditions(ld_t *L, yaml_node_t *v)
{
    ns_panel_t *p = L->p;
    if (!v) { ns_yaml_err(&L->y, ns_yaml_root(&L->y), "missing 'conditions:' list"); return; }
    if (v->type != YAML_SEQUENCE_NODE) { ns_yaml_err(&L->y, v, "'conditions' must be a list"); return; }
    int m = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
    p->conds = ns_calloc((size_t)m, sizeof *p->conds);
    static const char *const keys[] = { "code", "name", "priority", "action", "rule",
                                        "require_secondary", "tpn_sensitive", "tpn_max_fold", "markers",
                                        "score", NULL };
    static const char *const rules[] = { "any", "all", NULL };
    static const char *const bools[] = { "false", "true", NULL };
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *cn = ns_yaml_node(&L->y, *it);
        if (!ns_yaml_keys(&L->y, cn, "condition", keys)) continue;
        ns_condition_t *c = &p->conds[p->n_conds];
        if (!ns_yaml_str(&L->y, cn, "code", c->code, sizeof c->code, 1, "condition")) continue;
        c->pos = ns_yaml_pos(cn);
        for (int k = 0; k < p->n_conds; k++)
            if (strcmp(p->conds[k].code, c->code) == 0)
                ns_yaml_err(&L->y, ns_yaml_get(&L->y, cn, "code"), "duplicate condition '%s' (first at line %d)", c->code,
                       p->conds[k].pos.line);
        const char *nm = ns_yaml_scalar(ns_yaml_get(&L->y, cn, "name"));
        c->name = ns_strdup(nm ? nm : c->code);
        char what[64];
        snprintf(what, sizeof what, "condition %s", c->code);
        c->priority = ns_yaml_enum(&L->y, cn, "priority", prio_names, -1, what);
        c->action = ns_yaml_enum(&L->y, cn, "action", act_names, -1, what);
        c->rule = ns_yaml_enum(&L->y, cn, "rule", rules, NS_RULE_ANY, what);
        c->require_secondary = ns_yaml_enum(&L->y, cn, "require_secondary", bools, 0, what);
        c->tpn_sensitive = ns_yaml_enum(&L->y, cn, "tpn_sensitive", bools, 0, what);
        c->tpn_max_fold = NAN;
        yaml_node_t *fold = ns_yaml_get(&L->y, cn, "tpn_max_fold");
        if (ns_yaml_num(&L->y, cn, "tpn_max_fold", &c->tpn_max_fold, what) > 0) {
            if (!(c->tpn_max_fold > 1.0))
                ns_yaml_err(&L->y, fold, "condition %s: tpn_max_fold must be above 1 (a fold of the cutoff)", c->code);
            else if (!c->tpn_sensitive)
                ns_yaml_err(&L->y, fold, "condition %s: tpn_max_fold needs tpn_sensitive: true", c->code);
        }
        yaml_node_t *mks = ns_yaml_get(&L->y, cn, "markers");
        if (!mks || mks->type != YAML_SEQUENCE_NODE || mks->data.sequence.items.top == mks->data.sequence.items.start) {
            ns_yaml_err(&L->y, mks ? mks : cn, "condition %s: 'markers' must be a non-empty list", c->code);
        } else {
            int nm_ = (int)(mks->data.sequence.items.top - mks->data.sequence.items.start);
            c->markers = ns_calloc((size_t)nm_, sizeof *c->markers);
            for (yaml_node_item_t *mi = mks->data.sequence.items.start; mi < mks->data.sequence.items.top; mi++)
                load_marker(L, ns_yaml_node(&L->y, *mi), c);
            int n_prim = 0, n_sec = 0;
            for (int k = 0; k < c->n_markers; k++) {
                if (c->markers[k].role == NS_ROLE_PRIMARY) n_prim++;
                else n_sec++;
            }
            if (c->n_markers > 0 && n_prim == 0)
                ns_yaml_err(&L->y, mks, "condition %s: needs at least one primary marker", c->code);
            if (c->require_secondary && n_sec == 0)
                ns_yaml_err(&L->y, ns_yaml_get(&L->y, cn, "require_secondary"), "condition %s: require_secondary is true but no marker has role secondary", c->code);
            if (c->tpn_sensitive && n_sec == 0)
                ns_yaml_err(&L->y, ns_yaml_get(&L->y, cn, "tpn_sensitive"), "condition %s: tpn_sensitive is true but no marker has role secondary "
                            "(on TPN, only a ratio marker can tell the disease from a TPN rise)", c->code);
            if (c->n_markers > 64)
                ns_yaml_err(&L->y, mks, "condition %s: more than 64 markers", c->code);
        }
        load_score(L, cn, c, what);
        p->n_conds++;
    }
    if (p->n_conds == 0) ns_yaml_err(&L->y, v, "'conditions' is empty");
}

/* ---- population ------------------------------------------------------------------- */

const char *ns_pop_group_name(const ns_panel_t *p, int g)
{
    if (g == NS_POP_ALL) return "all";
    if (g == NS_POP_STANDARD) return "standard";
    g -= NS_POP_STRATUM0;
    return g >= 0 && g < p->n_strata ? p->strata[g].name : "?";
}

/* n: a whole number above 0.  Returns it, or -1 (reported; the entry still counts as given). */
static int64_t pop_count(ld_t *L, yaml_node_t *en, const char *what)
{
    yaml_node_t *v = ns_yaml_get(&L->y, en, "n");
    if (!v) { ns_yaml_err(&L->y, en, "%s: missing 'n' (how many babies the entry is from)", what); return -1; }
    const char *s = ns_yaml_scalar(v);
    char *end = NULL;
    errno = 0;
    long long n = s ? strtoll(s, &end, 10) : 0;
    if (!s || !*s || *end || errno || n <= 0) {
        ns_yaml_err(&L->y, v, "%s: 'n' must be a whole number above 0, not '%s'", what, s ? s : "(a list or mapping)");
        return -1;
    }
    return n;
}

/* lower_ci / upper_ci: [lo, hi] with lo <= hi. */
static void pop_ci(ld_t *L, yaml_node_t *en, const char *key, double out[2], const char *what)
{
    out[0] = out[1] = NAN;
    yaml_node_t *v = ns_yaml_get(&L->y, en, key);
    if (!v) return;
    double x[2];
    int ok = v->type == YAML_SEQUENCE_NODE && v->data.sequence.items.top - v->data.sequence.items.start == 2;
    for (int k = 0; ok && k < 2; k++) {
        const char *s = ns_yaml_scalar(ns_yaml_node(&L->y, v->data.sequence.items.start[k]));
        char *end = NULL;
        errno = 0;
        x[k] = s ? strtod(s, &end) : NAN;
        ok = s && *s && !*end && !errno && isfinite(x[k]);
    }
    if (!ok) { ns_yaml_err(&L->y, v, "%s: '%s' must be two numbers [lo, hi]", what, key); return; }
    if (!(x[0] <= x[1])) { ns_yaml_err(&L->y, v, "%s: '%s' [%g, %g] has lo above hi", what, key, x[0], x[1]); return; }
    out[0] = x[0];
    out[1] = x[1];
}

/* One entry { n, lower, median, upper [, lower_ci, upper_ci] }.  Values stay NAN where
 * invalid (reported), so the score cross-checks skip them. */
static void pop_entry(ld_t *L, yaml_node_t *en, ns_pop_entry_t *e, const char *what)
{
    static const char *const keys[] = { "n", "lower", "median", "upper", "lower_ci", "upper_ci", NULL };
    e->lower = e->median = e->upper = NAN;
    e->lower_ci[0] = e->lower_ci[1] = e->upper_ci[0] = e->upper_ci[1] = NAN;
    e->n = -1;
    if (en) e->pos = ns_yaml_pos(en);
    if (!ns_yaml_keys(&L->y, en, what, keys)) return;
    e->n = pop_count(L, en, what);
    static const char *const vk[] = { "lower", "median", "upper" };
    double v[3] = { NAN, NAN, NAN };
    int got[3];
    for (int k = 0; k < 3; k++) {
        got[k] = ns_yaml_num(&L->y, en, vk[k], &v[k], what);
        if (got[k] == 0) ns_yaml_err(&L->y, en, "%s: missing '%s'", what, vk[k]);
    }
    yaml_node_t *nl = ns_yaml_get(&L->y, en, "lower"), *nm = ns_yaml_get(&L->y, en, "median"),
                *nu = ns_yaml_get(&L->y, en, "upper");
    int bad = got[0] <= 0 || got[1] <= 0 || got[2] <= 0;
    if (got[1] > 0 && !(v[1] > 0)) {
        ns_yaml_err(&L->y, nm, "%s: median must be above 0 (the score works on logs), not %g", what, v[1]);
        bad = 1;
    }
    if (got[0] > 0 && !(v[0] >= 0)) {
        ns_yaml_err(&L->y, nl, "%s: lower must not be negative, not %g", what, v[0]);
        bad = 1;
    }
    if (!bad && !(v[0] <= v[1])) {
        ns_yaml_err(&L->y, nl, "%s: lower (%g) must not be above median (%g)", what, v[0], v[1]);
        bad = 1;
    }
    if (!bad && !(v[1] <= v[2])) {
        ns_yaml_err(&L->y, nu, "%s: upper (%g) must not be below median (%g)", what, v[2], v[1]);
        bad = 1;
    }
    pop_ci(L, en, "lower_ci", e->lower_ci, what);
    pop_ci(L, en, "upper_ci", e->upper_ci, what);
    if (bad) return;
    e->lower = v[0];
    e->median = v[1];
    e->upper = v[2];
}

static void pop_free(ns_population_t *pop)
{
    free(pop->source);
    free(pop->e);
    free(pop->mpos);
    free(pop->path);
    free(pop->text);
    memset(pop, 0, sizeof *pop);
}

/* The key node of `key` in mapping m (for positions: "population:" rather than its value). */
static yaml_node_t *key_node(ns_yaml_t *Y, yaml_node_t *m, const char *key)
{
    if (!m || m->type != YAML_MAPPING_NODE) return NULL;
    for (yaml_node_pair_t *a = m->data.mapping.pairs.start; a < m->data.mapping.pairs.top; a++) {
        const char *ks = ns_yaml_scalar(ns_yaml_node(Y, a->key));
        if (ks && strcmp(ks, key) == 0) return ns_yaml_node(Y, a->key);
    }
    return NULL;
}

/* population: {source, lower_pct, upper_pct, markers: {MARKER: {GROUP: entry}}}; v is the
 * value of the key k */
static void load_population(ld_t *L, yaml_node_t *k, yaml_node_t *v)
{
    ns_panel_t *p = L->p;
    ns_population_t *pop = &p->pop;
    static const char *const keys[] = { "source", "lower_pct", "upper_pct", "markers", NULL };
    if (!ns_yaml_keys(&L->y, v, "population", keys)) return;
    const int nm = p->n_analytes + p->n_ratios;
    pop->present = 1;
    pop->pos = ns_yaml_pos(k);
    pop->e = ns_calloc((size_t)nm * NS_POP_GROUPS + 1, sizeof *pop->e);
    pop->mpos = ns_calloc((size_t)nm + 1, sizeof *pop->mpos);
    yaml_node_t *sv = ns_yaml_get(&L->y, v, "source");
    if (sv) {
        const char *s = ns_yaml_scalar(sv);
        if (!s || !*s) ns_yaml_err(&L->y, sv, "population: 'source' must be a non-empty text");
        else pop->source = ns_strdup(s);
    }
    pop->lower_pct = pop->upper_pct = NAN;
    int rl = ns_yaml_num(&L->y, v, "lower_pct", &pop->lower_pct, "population");
    int ru = ns_yaml_num(&L->y, v, "upper_pct", &pop->upper_pct, "population");
    if (rl == 0) ns_yaml_err(&L->y, v, "population: missing 'lower_pct' (the percentile that 'lower' is, e.g. 0.5)");
    else if (rl > 0 && !(pop->lower_pct > 0 && pop->lower_pct < 50))
        ns_yaml_err(&L->y, ns_yaml_get(&L->y, v, "lower_pct"), "population: lower_pct must be above 0 and below 50, not %g",
                    pop->lower_pct);
    if (ru == 0) ns_yaml_err(&L->y, v, "population: missing 'upper_pct' (the percentile that 'upper' is, e.g. 99.5)");
    else if (ru > 0 && !(pop->upper_pct > 50 && pop->upper_pct < 100))
        ns_yaml_err(&L->y, ns_yaml_get(&L->y, v, "upper_pct"), "population: upper_pct must be above 50 and below 100, not %g",
                    pop->upper_pct);
    yaml_node_t *ms = ns_yaml_get(&L->y, v, "markers");
    if (!ms) { ns_yaml_err(&L->y, v, "population: missing 'markers' (marker: {group: {n, lower, median, upper}})"); return; }
    pop->markers_pos = ns_yaml_pos(key_node(&L->y, v, "markers"));
    if (ms->type != YAML_MAPPING_NODE || ms->data.mapping.pairs.top == ms->data.mapping.pairs.start) {
        ns_yaml_err(&L->y, ms, "population: 'markers' must map marker names to groups, e.g. Phe: {all: {n: ..., ...}}");
        return;
    }
    for (yaml_node_pair_t *a = ms->data.mapping.pairs.start; a < ms->data.mapping.pairs.top; a++) {
        yaml_node_t *kn = ns_yaml_node(&L->y, a->key), *gv = ns_yaml_node(&L->y, a->value);
        const char *name = ns_yaml_scalar(kn);
        int m = name ? find_marker(p, name) : -1;
        if (m < 0) {
            ns_yaml_err(&L->y, kn, "population: unknown marker '%s' (not an analyte or ratio name of this panel)",
                        name ? name : "?");
            continue;
        }
        if (pop->mpos[m].line) {
            ns_yaml_err(&L->y, kn, "population: marker '%s' is given twice (first at line %d)", name, pop->mpos[m].line);
            continue;
        }
        pop->mpos[m] = ns_yaml_pos(kn);
        if (gv->type != YAML_MAPPING_NODE || gv->data.mapping.pairs.top == gv->data.mapping.pairs.start) {
            ns_yaml_err(&L->y, gv, "population marker '%s': give groups (all, standard or a stratum name) "
                        "mapped to {n, lower, median, upper}", name);
            continue;
        }
        for (yaml_node_pair_t *b = gv->data.mapping.pairs.start; b < gv->data.mapping.pairs.top; b++) {
            yaml_node_t *gk = ns_yaml_node(&L->y, b->key);
            const char *gn = ns_yaml_scalar(gk);
            int g = -1;
            if (gn && strcmp(gn, "all") == 0) g = NS_POP_ALL;
            else if (gn && strcmp(gn, "standard") == 0) g = NS_POP_STANDARD;
            for (int k = 0; gn && g < 0 && k < p->n_strata; k++)
                if (strcmp(p->strata[k].name, gn) == 0) g = NS_POP_STRATUM0 + k;
            if (g < 0) {
                char list[256] = "all, standard";
                for (int k = 0; k < p->n_strata; k++) {
                    strncat(list, ", ", sizeof list - strlen(list) - 1);
                    strncat(list, p->strata[k].name, sizeof list - strlen(list) - 1);
                }
                ns_yaml_err(&L->y, gk, "population marker '%s': unknown group '%s' (groups: %s)", name,
                            gn ? gn : "?", list);
                continue;
            }
            ns_pop_entry_t *e = &pop->e[(size_t)m * NS_POP_GROUPS + (size_t)g];
            if (e->n != 0) {
                ns_yaml_err(&L->y, gk, "population marker '%s': group '%s' is given twice (first at line %d)", name,
                            gn, e->pos.line);
                continue;
            }
            char what[96];
            snprintf(what, sizeof what, "population %s %s", name, gn);
            pop_entry(L, ns_yaml_node(&L->y, b->value), e, what);
            e->pos = ns_yaml_pos(gk);
        }
    }
}

/* " (panel line N)" when the population is a fragment (the error points into the fragment,
 * so the message names the panel's line), else "" (the error is at that line already) */
static const char *panel_line(const ns_panel_t *p, int line, char *buf, size_t n)
{
    if (p->pop.path) snprintf(buf, n, " (panel line %d)", line);
    else buf[0] = 0;
    return buf;
}

int ns_panel_check_scores(const ns_panel_t *p, ns_panel_errs_t *errs)
{
    const ns_population_t *pop = &p->pop;
    const int frag = pop->path != NULL;
    const int n0 = errs->n;
    char ob[48], ob2[48];
    for (int c = 0; c < p->n_conds; c++) {
        const ns_condition_t *cd = &p->conds[c];
        if (!cd->score.present) continue;
        if (!pop->present) {
            ns_yaml_errs_add(errs, cd->score.pos.line, cd->score.pos.col,
                             "condition %s has a score: block but the panel has no population: section "
                             "(give one in the panel, or attach a population fragment)", cd->code);
            continue;
        }
        for (int k = 0; k < cd->n_markers; k++) {
            const ns_marker_t *mk = &cd->markers[k];
            if (isnan(mk->disease_median)) continue;
            const int m = mk->marker, high = mk->thr.dir == NS_DIR_HIGH;
            const char *mn = ns_panel_marker_name(p, m);
            const double D = mk->disease_median;
            const ns_pop_entry_t *E = pop->e + (size_t)m * NS_POP_GROUPS;
            if (!E[NS_POP_ALL].n && !E[NS_POP_STANDARD].n) {
                ns_pos_t at = !frag ? mk->disease_pos : pop->mpos[m].line ? pop->mpos[m] : pop->markers_pos;
                ns_yaml_errs_add(errs, at.line, at.col,
                                 "condition %s marker '%s'%s has a disease median, but the population has no "
                                 "'all' or 'standard' entry for '%s'", cd->code, mn,
                                 panel_line(p, mk->disease_pos.line, ob, sizeof ob), mn);
                continue;
            }
            for (int g = 0; g < NS_POP_STRATUM0 + p->n_strata; g++) {
                const ns_pop_entry_t *e = &E[g];
                const double M = e->median, Lim = high ? e->upper : e->lower;
                if (!e->n || isnan(M) || isnan(Lim)) continue;
                ns_pos_t at = frag ? e->pos : mk->disease_pos;
                const char *gn = ns_pop_group_name(p, g);
                /* the entry's own line is in the fragment, or in the panel itself */
                snprintf(ob2, sizeof ob2, "line %d", e->pos.line);
                if (high ? !(Lim > M) : !(Lim < M && Lim > 0)) {
                    ns_yaml_errs_add(errs, at.line, at.col,
                                     "population %s %s (%s): the %s limit %g must be %s the median %g for the score "
                                     "of condition %s%s", mn, gn, ob2, high ? "upper" : "lower", Lim,
                                     high ? "above" : "above 0 and below", M, cd->code,
                                     panel_line(p, mk->disease_pos.line, ob, sizeof ob));
                } else if (high ? !(D > Lim) : !(D < Lim)) {
                    ns_yaml_errs_add(errs, at.line, at.col,
                                     "condition %s marker '%s'%s: disease median %g is not %s the %s limit %g of "
                                     "population group '%s' (%s): it must lie on the abnormal side", cd->code, mn,
                                     panel_line(p, mk->disease_pos.line, ob, sizeof ob), D, high ? "above" : "below",
                                     high ? "upper" : "lower", Lim, gn, ob2);
                }
            }
        }
    }
    return errs->n - n0;
}

int ns_population_load(ns_panel_t *p, const char *path, ns_panel_errs_t *errs)
{
    char *text;
    size_t len;
    memset(errs, 0, sizeof *errs);
    if (ns_read_file(path, &text, &len) < 0) {
        ns_yaml_errs_add(errs, 0, 0, "cannot read: %s", strerror(errno));
        return -1;
    }
    ld_t L;
    memset(&L, 0, sizeof L);
    L.p = p;
    if (ns_yaml_parse(&L.y, text, len, errs) < 0) { free(text); return -1; }
    yaml_node_t *root = ns_yaml_root(&L.y);
    static const char *const top[] = { "population", NULL };
    int attached = 0;
    if (!root) {
        ns_yaml_errs_add(errs, 1, 1, "empty file: expected 'population:'");
    } else if (ns_yaml_keys(&L.y, root, "a population fragment", top)) {
        yaml_node_t *v = ns_yaml_get(&L.y, root, "population"), *k = key_node(&L.y, root, "population");
        if (!v) ns_yaml_err(&L.y, root, "a population fragment needs 'population:'");
        else if (p->pop.present && p->pop.path)
            ns_yaml_err(&L.y, k, "the panel %s already has a population, attached from %s: one population only",
                        p->path, p->pop.path);
        else if (p->pop.present)
            ns_yaml_err(&L.y, k, "the panel %s already has a population: section (its line %d): give it in the "
                        "panel or as a fragment, not both", p->path, p->pop.pos.line);
        else {
            load_population(&L, k, v);
            attached = p->pop.present;
        }
    }
    ns_yaml_done(&L.y);
    if (attached && !errs->n) {
        p->pop.path = ns_strdup(path);
        p->pop.text = text;
        p->pop.text_len = len;
        ns_sha256_hex(text, len, p->pop.sha256);
        text = NULL;
        ns_panel_check_scores(p, errs);
    }
    free(text);
    if (errs->n) {
        if (attached) pop_free(&p->pop);
        return -1;
    }
    free(errs->text);
    errs->text = NULL;
    return 0;
}

/* followup.ledger: where `run` records the night (a relative path is taken from the panel
 * file's directory, so that a cron job's working directory does not matter) */
static void load_ledger_path(ld_t *L, yaml_node_t *v)
{
    yaml_node_t *n = ns_yaml_get(&L->y, v, "ledger");
    if (!n) return;
    const char *s = ns_yaml_scalar(n);
    if (!s || !*s || strchr(s, '\n')) {
        ns_yaml_err(&L->y, n, "followup.ledger must be the path of the follow-up ledger file");
        return;
    }
    const char *slash = s[0] == '/' ? NULL : strrchr(L->p->path ? L->p->path : "", '/');
    L->p->ledger = slash ? ns_asprintf("%.*s/%s", (int)(slash - L->p->path), L->p->path, s) : ns_strdup(s);
}

/* followup: {due_days_of_life: {critical: 5, urgent: 7, routine: 20}, ledger: FILE} */
static void load_followup(ld_t *L, yaml_node_t *v)
{
    ns_panel_t *p = L->p;
    for (int k = 0; k < NS_PRIO_N; k++) p->due_days[k] = NAN;
    if (!v) return;
    static const char *const keys[] = { "due_days_of_life", "ledger", NULL };
    if (!ns_yaml_keys(&L->y, v, "followup", keys)) return;
    load_ledger_path(L, v);
    yaml_node_t *d = ns_yaml_get(&L->y, v, "due_days_of_life");
    if (!d) return;
    if (!ns_yaml_keys(&L->y, d, "followup.due_days_of_life", prio_names)) return;
    for (int k = 0; k < NS_PRIO_N; k++)
        if (ns_yaml_num(&L->y, d, prio_names[k], &p->due_days[k], "followup.due_days_of_life") > 0
            && !(p->due_days[k] >= 0 && p->due_days[k] <= 3650))
            ns_yaml_err(&L->y, ns_yaml_get(&L->y, d, prio_names[k]),
                        "followup.due_days_of_life: %s must be from 0 to 3650 days, not %g", prio_names[k], p->due_days[k]);
}

/* ---- entry points ------------------------------------------------------------------ */

ns_panel_t *ns_panel_load_mem(const char *name, const char *text, size_t len, ns_panel_errs_t *errs)
{
    memset(errs, 0, sizeof *errs);
    ld_t L;
    memset(&L, 0, sizeof L);
    L.p = ns_calloc(1, sizeof *L.p);
    L.p->path = ns_strdup(name);
    L.p->text = ns_strndup(text, len);
    L.p->text_len = len;
    ns_sha256_hex(text, len, L.p->sha256);
    if (ns_yaml_parse(&L.y, text, len, errs) < 0) { ns_panel_free(L.p); return NULL; }

    yaml_node_t *root = ns_yaml_root(&L.y);
    static const char *const top[] = { "panel", "input", "specimen", "strata", "analytes", "ratios",
                                       "conditions", "followup", "population", NULL };
    if (!root) {
        ns_yaml_errs_add(errs, 1, 1, "empty file: expected panel, analytes, ratios and conditions");
    } else if (ns_yaml_keys(&L.y, root, "the top level", top)) {
        load_header(&L, ns_yaml_get(&L.y, root, "panel"));
        load_input(&L, ns_yaml_get(&L.y, root, "input"));
        load_analytes(&L, ns_yaml_get(&L.y, root, "analytes"));
        yaml_node_t *cols = ns_yaml_get(&L.y, ns_yaml_get(&L.y, root, "input"), "columns");
        check_column_clash(&L, cols ? cols : ns_yaml_get(&L.y, root, "analytes"));
        load_ratios(&L, ns_yaml_get(&L.y, root, "ratios"));
        load_specimen(&L, ns_yaml_get(&L.y, root, "specimen"));
        load_strata(&L, ns_yaml_get(&L.y, root, "strata"));
        yaml_node_t *pv = ns_yaml_get(&L.y, root, "population");
        if (pv) load_population(&L, key_node(&L.y, root, "population"), pv);
        load_conditions(&L, ns_yaml_get(&L.y, root, "conditions"));
        load_followup(&L, ns_yaml_get(&L.y, root, "followup"));
        /* scores against an inline population; a fragment is checked when attached */
        if (L.p->pop.present) ns_panel_check_scores(L.p, errs);
    }
    ns_yaml_done(&L.y);

    if (errs->n) { ns_panel_free(L.p); return NULL; }
    free(errs->text);
    errs->text = NULL;

    ns_panel_t *p = L.p;
    for (int c = 0; c < p->n_conds; c++) p->n_slots += p->conds[c].n_markers;
    p->slot_cond = ns_calloc((size_t)p->n_slots, sizeof *p->slot_cond);
    p->slot_marker = ns_calloc((size_t)p->n_slots, sizeof *p->slot_marker);
    for (int c = 0, s = 0; c < p->n_conds; c++)
        for (int k = 0; k < p->conds[c].n_markers; k++, s++) {
            p->slot_cond[s] = c;
            p->slot_marker[s] = k;
        }
    p->sslot = ns_calloc((size_t)p->n_slots + 1, sizeof *p->sslot);
    for (int s = 0; s < p->n_slots; s++) {
        const ns_condition_t *cd = &p->conds[p->slot_cond[s]];
        if (cd->score.present && !isnan(cd->markers[p->slot_marker[s]].disease_median)) p->sslot[p->n_sslots++] = s;
    }
    return p;
}

ns_panel_t *ns_panel_load(const char *path, ns_panel_errs_t *errs)
{
    char *text;
    size_t len;
    memset(errs, 0, sizeof *errs);
    if (ns_read_file(path, &text, &len) < 0) {
        errs->m = 1;
        errs->v = ns_calloc(1, sizeof *errs->v);
        errs->n = 1;
        snprintf(errs->v[0].msg, sizeof errs->v[0].msg, "cannot read: %s", strerror(errno));
        return NULL;
    }
    ns_panel_t *p = ns_panel_load_mem(path, text, len, errs);
    free(text);
    return p;
}

void ns_panel_free(ns_panel_t *p)
{
    if (!p) return;
    for (int i = 0; i < p->n_analytes; i++) ns_strlist_free(p->analytes[i].aliases, p->analytes[i].n_aliases);
    free(p->analytes);
    for (int r = 0; r < p->n_ratios; r++) { free(p->ratios[r].num); free(p->ratios[r].den); }
    free(p->ratios);
    for (int c = 0; c < p->n_conds; c++) {
        for (int k = 0; k < p->conds[c].n_markers; k++) free(p->conds[c].markers[k].disease_source);
        free(p->conds[c].name);
        free(p->conds[c].markers);
    }
    pop_free(&p->pop);
    free(p->sslot);
    free(p->conds);
    for (int i = 0; i < 4; i++) {
        ns_strlist_free(p->input.col_alias[i], p->input.n_col_alias[i]);
        ns_strlist_free(p->input.type_alias[i], p->input.n_type_alias[i]);
    }
    free(p->slot_cond);
    free(p->slot_marker);
    free(p->path);
    free(p->ledger);
    free(p->text);
    free(p);
}

void ns_panel_errs_free(ns_panel_errs_t *e)
{
    free(e->v);
    free(e->text);
    memset(e, 0, sizeof *e);
}

/* The quoted line after ">>> " and its caret: at most QUOTE_CHARS characters of it (a
 * window around the column, "..." where cut: a 1 MB scalar must not become a 1 MB log
 * line), bytes that are not text (control characters, invalid UTF-8) shown as '?'. */
#define QUOTE_CHARS 120
static size_t char_len(const char *s, size_t n, size_t i)   /* a byte and its continuation bytes */
{
    size_t k = 1;
    if ((unsigned char)s[i] >= 0xC0)
        while (i + k < n && k < 4 && ((unsigned char)s[i + k] & 0xC0) == 0x80) k++;
    return k;
}

static void quote_line(FILE *fp, const char *s, size_t n, int col)
{
    size_t nchars = 0;
    for (size_t i = 0; i < n; i += char_len(s, n, i)) nchars++;
    size_t at = col > 0 ? (size_t)col - 1 : 0, from = 0, to = nchars;
    if (nchars > QUOTE_CHARS) {
        from = at > QUOTE_CHARS / 2 ? at - QUOTE_CHARS / 2 : 0;
        to = from + QUOTE_CHARS < nchars ? from + QUOTE_CHARS : nchars;
        from = to - QUOTE_CHARS;
    }
    fputs("    >>> ", fp);
    if (from > 0) fputs("...", fp);
    for (size_t i = 0, c = 0; i < n && c < to; c++) {
        size_t k = char_len(s, n, i);
        unsigned char b = (unsigned char)s[i];
        int text = b >= 0x80 ? ns_utf8_valid_prefix(s + i, k) == k : b >= 0x20 ? b != 0x7F : b == '\t';
        if (c >= from) {
            if (text) fwrite(s + i, 1, k, fp);
            else fputc('?', fp);
        }
        i += k;
    }
    if (to < nchars) fputs("...", fp);
    fprintf(fp, "\n        %*s^\n", (int)(at - from + (from > 0 ? 3 : 0)), "");
}

void ns_panel_errs_print(FILE *fp, const char *prefix, const char *path, const char *text,
                         const ns_panel_errs_t *e)
{
    fflush(stdout);
    if (!text) text = e->text;
    /* where each line starts, found once: 40,000 problems must not walk the text 40,000 times */
    size_t n_lines = 0, *start = NULL;
    if (text && e->n > 0) {
        n_lines = 1;
        for (const char *q = text; (q = strchr(q, '\n')); q++) n_lines++;
        start = ns_malloc(n_lines * sizeof *start);
        size_t l = 0;
        start[l++] = 0;
        for (const char *q = text; (q = strchr(q, '\n')); q++) start[l++] = (size_t)(q + 1 - text);
    }
    for (int i = 0; i < e->n; i++) {
        const ns_panel_err_t *x = &e->v[i];
        if (x->pos.line <= 0) { fprintf(fp, "%s: %s: %s\n", prefix, path, x->msg); continue; }
        fprintf(fp, "%s: %s:%d:%d: %s\n", prefix, path, x->pos.line, x->pos.col, x->msg);
        if (!text || (size_t)x->pos.line > n_lines) continue;
        const char *s = text + start[x->pos.line - 1];
        if (!*s) continue;
        const char *eol = strchr(s, '\n');
        int n = eol ? (int)(eol - s) : (int)strlen(s);
        if (n > 0 && s[n - 1] == '\r') n--;
        quote_line(fp, s, (size_t)n, x->pos.col);
    }
    free(start);
}

ns_panel_t *ns_panel_open(const char *tag, const char *path, const char *pop_path,
                          const char *consequence)
{
    char prefix[64];
    snprintf(prefix, sizeof prefix, "neoscreen %s", tag);
    ns_panel_errs_t e;
    const char *bad = path;
    ns_panel_t *p = ns_panel_load(path, &e);
    if (p && pop_path) {
        ns_panel_errs_free(&e);
        bad = pop_path;
        if (ns_population_load(p, pop_path, &e) < 0) { ns_panel_free(p); p = NULL; }
    } else if (p && ns_panel_check_scores(p, &e) > 0) {
        ns_panel_free(p);
        p = NULL;
    }
    if (!p) {
        ns_panel_errs_print(stderr, prefix, bad, NULL, &e);
        ns_error(tag, "%s: %d problem%s in the %s; %s", bad, e.n, e.n == 1 ? "" : "s",
                 bad == pop_path ? "population fragment" : "panel", consequence);
    }
    ns_panel_errs_free(&e);
    return p;
}
