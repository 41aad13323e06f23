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
#include "panel.h"
#include "sha256.h"
#include "util.h"

typedef struct {
    yaml_document_t doc;
    ns_panel_errs_t *errs;
    ns_panel_t *p;
} ld_t;

static void add_err(ns_panel_errs_t *e, int line, int col, const char *fmt, va_list ap)
{
    if (e->n == e->m) {
        e->m = e->m ? e->m * 2 : 16;
        e->v = ns_realloc(e->v, (size_t)e->m * sizeof *e->v);
    }
    ns_panel_err_t *x = &e->v[e->n++];
    x->pos.line = line;
    x->pos.col = col;
    vsnprintf(x->msg, sizeof x->msg, fmt, ap);
}

__attribute__((format(printf, 3, 4)))
static void err_at(ld_t *L, const yaml_node_t *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_err(L->errs, n ? (int)n->start_mark.line + 1 : 0, n ? (int)n->start_mark.column + 1 : 0,
            fmt, ap);
    va_end(ap);
}

static ns_pos_t pos_of(const yaml_node_t *n)
{
    ns_pos_t p = { (int)n->start_mark.line + 1, (int)n->start_mark.column + 1 };
    return p;
}

static yaml_node_t *node(ld_t *L, int id) { return yaml_document_get_node(&L->doc, id); }

static const char *scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* Check that every key of mapping m is one of allowed[] (NULL-terminated) and not
 * repeated; report the others.  Returns 0 if m is not a mapping (and reports that). */
static int check_keys(ld_t *L, yaml_node_t *m, const char *what, const char *const *allowed)
{
    if (!m || m->type != YAML_MAPPING_NODE) {
        err_at(L, m, "%s must be a mapping (key: value lines)", what);
        return 0;
    }
    for (yaml_node_pair_t *a = m->data.mapping.pairs.start; a < m->data.mapping.pairs.top; a++) {
        yaml_node_t *k = node(L, a->key);
        const char *ks = scalar(k);
        if (!ks) { err_at(L, k, "keys in %s must be plain names", what); continue; }
        int ok = 0;
        for (int i = 0; allowed[i]; i++) if (strcmp(ks, allowed[i]) == 0) ok = 1;
        if (!ok) {
            char list[256] = "";
            for (int i = 0; allowed[i]; i++) {
                strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
                strncat(list, allowed[i], sizeof list - strlen(list) - 1);
            }
            err_at(L, k, "unknown key '%s' in %s (allowed: %s)", ks, what, list);
        }
        for (yaml_node_pair_t *b = m->data.mapping.pairs.start; b < a; b++)
            if (scalar(node(L, b->key)) && strcmp(scalar(node(L, b->key)), ks) == 0) {
                err_at(L, k, "duplicate key '%s' in %s (first at line %d)", ks, what,
                       (int)node(L, b->key)->start_mark.line + 1);
                break;
            }
    }
    return 1;
}

static yaml_node_t *get(ld_t *L, yaml_node_t *m, const char *key)
{
    if (!m || m->type != YAML_MAPPING_NODE) return NULL;
    for (yaml_node_pair_t *a = m->data.mapping.pairs.start; a < m->data.mapping.pairs.top; a++) {
        const char *ks = scalar(node(L, a->key));
        if (ks && strcmp(ks, key) == 0) return node(L, a->value);
    }
    return NULL;
}

/* Copy a required/optional scalar string into dst (size dsz).  Returns 1 if present. */
static int get_str(ld_t *L, yaml_node_t *m, const char *key, char *dst, size_t dsz,
                   int required, const char *what)
{
    yaml_node_t *v = get(L, m, key);
    if (!v) {
        if (required) err_at(L, m, "%s: missing '%s'", what, key);
        return 0;
    }
    const char *s = scalar(v);
    if (!s || !*s) { err_at(L, v, "%s: '%s' must be a non-empty text value", what, key); return 0; }
    if (strlen(s) >= dsz) {
        err_at(L, v, "%s: '%s' is too long (at most %zu characters)", what, key, dsz - 1);
        return 0;
    }
    strcpy(dst, s);
    return 1;
}

/* Parse a number; returns 1 if present and valid, 0 if absent, -1 if invalid (reported). */
static int get_num(ld_t *L, yaml_node_t *m, const char *key, double *out, const char *what)
{
    yaml_node_t *v = get(L, m, key);
    if (!v) return 0;
    const char *s = scalar(v);
    char *end = NULL;
    errno = 0;
    double x = s ? strtod(s, &end) : NAN;
    if (!s || !*s || *end || errno || !isfinite(x)) {
        err_at(L, v, "%s: '%s' must be a number, not '%s'", what, key, s ? s : "(a list or mapping)");
        return -1;
    }
    *out = x;
    return 1;
}

/* Match a scalar against a list of names; returns index or -1 (reported). */
static int get_enum(ld_t *L, yaml_node_t *m, const char *key, const char *const *names,
                    int dflt, const char *what)
{
    yaml_node_t *v = get(L, m, key);
    if (!v) {
        if (dflt < 0) err_at(L, m, "%s: missing '%s'", what, key);
        return dflt;
    }
    const char *s = scalar(v);
    for (int i = 0; s && names[i]; i++) if (strcmp(s, names[i]) == 0) return i;
    char list[160] = "";
    for (int i = 0; names[i]; i++) {
        strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, names[i], sizeof list - strlen(list) - 1);
    }
    err_at(L, v, "%s: '%s' must be one of %s, not '%s'", what, key, list, s ? s : "(not text)");
    return dflt < 0 ? 0 : dflt;
}

/* A sequence of scalars as a new string array. */
static char **get_strlist(ld_t *L, yaml_node_t *v, int *n, const char *what)
{
    *n = 0;
    if (!v) return NULL;
    if (v->type != YAML_SEQUENCE_NODE) { err_at(L, v, "%s must be a list, e.g. [a, b]", what); return NULL; }
    int m = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
    char **r = ns_calloc((size_t)m + 1, sizeof *r);
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        const char *s = scalar(node(L, *it));
        if (!s || !*s) { err_at(L, node(L, *it), "%s: entries must be non-empty text", what); continue; }
        r[(*n)++] = ns_strdup(s);
    }
    return r;
}

static void free_strlist(char **v, int n)
{
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}

static const char *const prio_names[] = { "critical", "urgent", "routine", NULL };
static const char *const act_names[] = { "referral", "repeat_specimen", NULL };

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
    if (!v) { err_at(L, yaml_document_get_root_node(&L->doc), "missing 'panel:' section (name, version, kit)"); return; }
    if (!check_keys(L, v, "panel", keys)) return;
    get_str(L, v, "name", L->p->name, sizeof L->p->name, 1, "panel");
    get_str(L, v, "version", L->p->version, sizeof L->p->version, 1, "panel");
    get_str(L, v, "kit", L->p->kit, sizeof L->p->kit, 0, "panel");
}

static const char *const col_keys[] = { "plate_id", "well", "sample_id", "sample_type", NULL };
static const char *const type_keys[] = { "patient", "qc_low", "qc_high", "blank", NULL };

/* each canonical name is always accepted; the config adds spellings */
static void alias_list(ld_t *L, yaml_node_t *m, const char *key, const char *what,
                       char ***out, int *n)
{
    int k = 0;
    char **v = get_strlist(L, get(L, m, key), &k, what);
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
    if (v && !check_keys(L, v, "input", keys)) v = NULL;
    yaml_node_t *plate = get(L, v, "plate"), *cols = get(L, v, "columns"),
                *types = get(L, v, "sample_types");
    if (plate) {
        static const char *const pk[] = { "rows", "cols", NULL };
        double r = 8, c = 12;
        if (check_keys(L, plate, "input.plate", pk)) {
            get_num(L, plate, "rows", &r, "input.plate");
            get_num(L, plate, "cols", &c, "input.plate");
            if (!((r == 8 && c == 12) || (r == 16 && c == 24)))
                err_at(L, plate, "input.plate: %gx%g wells is not a 96-well (8x12) or 384-well (16x24) plate", r, c);
            else { in->plate_rows = (int)r; in->plate_cols = (int)c; }
        }
    }
    if (cols) check_keys(L, cols, "input.columns", col_keys);
    if (types) check_keys(L, types, "input.sample_types", type_keys);
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
                            err_at(L, g ? types : cols, "input: spelling '%s' is given for both %s and %s",
                                   a[x], g ? type_keys[i] : col_keys[i], g ? type_keys[j] : col_keys[j]);
            }
}

static void load_analytes(ld_t *L, yaml_node_t *v)
{
    ns_panel_t *p = L->p;
    if (!v) { err_at(L, yaml_document_get_root_node(&L->doc), "missing 'analytes:' list"); return; }
    if (v->type != YAML_SEQUENCE_NODE) { err_at(L, v, "'analytes' must be a list"); return; }
    int m = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
    p->analytes = ns_calloc((size_t)m, sizeof *p->analytes);
    static const char *const keys[] = { "name", "aliases", "unit", "loinc", NULL };
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *a = node(L, *it);
        if (!check_keys(L, a, "analyte", keys)) continue;
        ns_analyte_t *x = &p->analytes[p->n_analytes];
        if (!get_str(L, a, "name", x->name, sizeof x->name, 1, "analyte")) continue;
        x->pos = pos_of(a);
        strcpy(x->unit, "umol/L");
        get_str(L, a, "unit", x->unit, sizeof x->unit, 0, x->name);
        get_str(L, a, "loinc", x->loinc, sizeof x->loinc, 0, x->name);
        yaml_node_t *al = get(L, a, "aliases");
        x->aliases = get_strlist(L, al, &x->n_aliases, "aliases");
        /* every spelling (name or alias) must identify one analyte only */
        for (int k = -1; k < x->n_aliases; k++) {
            const char *s = k < 0 ? x->name : x->aliases[k];
            int other = ns_panel_find_analyte(p, s);
            if (other >= 0)
                err_at(L, k < 0 ? get(L, a, "name") : al,
                       "analyte '%s': spelling '%s' is already used by analyte '%s' (line %d)",
                       x->name, s, p->analytes[other].name, p->analytes[other].pos.line);
        }
        p->n_analytes++;
    }
    if (p->n_analytes == 0) err_at(L, v, "'analytes' is empty: a panel needs at least one analyte");
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
                err_at(L, where, "spelling '%s' names both the column %s and analyte '%s' (line %d)",
                       in->col_alias[k][x], in->col_alias[k][0], L->p->analytes[a].name, L->p->analytes[a].pos.line);
        }
}

static int *analyte_terms(ld_t *L, yaml_node_t *r, const char *key, int *n, const char *rname)
{
    *n = 0;
    yaml_node_t *v = get(L, r, key);
    if (!v) { err_at(L, r, "ratio '%s': missing '%s' (list of analytes)", rname, key); return NULL; }
    if (v->type != YAML_SEQUENCE_NODE || v->data.sequence.items.top == v->data.sequence.items.start) {
        err_at(L, v, "ratio '%s': '%s' must be a non-empty list of analytes, e.g. [C16, C18]", rname, key);
        return NULL;
    }
    int m = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (m > NS_RATIO_MAX_TERMS) {
        err_at(L, v, "ratio '%s': '%s' has %d terms, at most %d", rname, key, m, NS_RATIO_MAX_TERMS);
        return NULL;
    }
    int *idx = ns_calloc((size_t)m, sizeof *idx);
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *t = node(L, *it);
        const char *s = scalar(t);
        int a = -1;
        for (int i = 0; s && i < L->p->n_analytes; i++)
            if (strcmp(L->p->analytes[i].name, s) == 0) a = i;
        if (a < 0) { err_at(L, t, "unknown analyte '%s' in ratio '%s'", s ? s : "?", rname); continue; }
        int dup = 0;
        for (int k = 0; k < *n; k++) dup |= idx[k] == a;
        if (dup) { err_at(L, t, "ratio '%s': analyte '%s' is listed twice in '%s'", rname, s, key); continue; }
        idx[(*n)++] = a;
    }
    return idx;
}

static void load_ratios(ld_t *L, yaml_node_t *v)
{
    ns_panel_t *p = L->p;
    if (!v) return;
    if (v->type != YAML_SEQUENCE_NODE) { err_at(L, v, "'ratios' must be a list"); return; }
    int m = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
    p->ratios = ns_calloc((size_t)m, sizeof *p->ratios);
    static const char *const keys[] = { "name", "num", "den", "loinc", NULL };
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *r = node(L, *it);
        if (!check_keys(L, r, "ratio", keys)) continue;
        ns_ratio_t *x = &p->ratios[p->n_ratios];
        if (!get_str(L, r, "name", x->name, sizeof x->name, 1, "ratio")) continue;
        x->pos = pos_of(r);
        if (find_marker(p, x->name) >= 0)
            err_at(L, get(L, r, "name"), "ratio '%s': name already used by an analyte or ratio", x->name);
        get_str(L, r, "loinc", x->loinc, sizeof x->loinc, 0, x->name);
        x->num = analyte_terms(L, r, "num", &x->n_num, x->name);
        x->den = analyte_terms(L, r, "den", &x->n_den, x->name);
        p->n_ratios++;
    }
}

static void load_marker(ld_t *L, yaml_node_t *mk, ns_condition_t *c)
{
    static const char *const keys[] = { "marker", "role", "direction", "cutoff", "borderline",
                                        "critical", NULL };
    static const char *const roles[] = { "primary", "secondary", NULL };
    static const char *const dirs[] = { "high", "low", NULL };
    char what[80];
    snprintf(what, sizeof what, "condition %s marker", c->code);
    if (!check_keys(L, mk, what, keys)) return;
    ns_marker_t *x = &c->markers[c->n_markers];
    x->pos = pos_of(mk);
    char name[NS_NAME_MAX] = "";
    if (!get_str(L, mk, "marker", name, sizeof name, 1, what)) return;
    x->marker = find_marker(L->p, name);
    if (x->marker < 0) {
        err_at(L, get(L, mk, "marker"), "condition %s: unknown marker '%s' (not an analyte or ratio name)",
               c->code, name);
        return;
    }
    for (int k = 0; k < c->n_markers; k++)
        if (c->markers[k].marker == x->marker)
            err_at(L, get(L, mk, "marker"), "condition %s: marker '%s' is listed twice", c->code, name);
    x->role = get_enum(L, mk, "role", roles, NS_ROLE_PRIMARY, what);
    x->thr.dir = get_enum(L, mk, "direction", dirs, -1, what);
    x->thr.cutoff = x->thr.borderline = x->thr.critical = NAN;
    if (get_num(L, mk, "cutoff", &x->thr.cutoff, what) == 0)
        err_at(L, mk, "condition %s: marker '%s' has no cutoff", c->code, name);
    get_num(L, mk, "borderline", &x->thr.borderline, what);
    get_num(L, mk, "critical", &x->thr.critical, what);
    const double cut = x->thr.cutoff, bl = x->thr.borderline, cr = x->thr.critical;
    if (!isnan(cut) && cut < 0)
        err_at(L, get(L, mk, "cutoff"), "condition %s: cutoff %g for '%s' is negative", c->code, cut, name);
    else if (!isnan(cut) && cut == 0 && x->thr.dir == NS_DIR_HIGH)
        err_at(L, get(L, mk, "cutoff"), "condition %s: a high cutoff of 0 for '%s' would flag every sample",
               c->code, name);
    if (x->thr.dir == NS_DIR_HIGH) {
        if (!isnan(bl) && !isnan(cut) && !(bl < cut))
            err_at(L, get(L, mk, "borderline"), "condition %s: '%s' is a high marker, so borderline (%g) must be below cutoff (%g)",
                   c->code, name, bl, cut);
        if (!isnan(cr) && !isnan(cut) && !(cr > cut))
            err_at(L, get(L, mk, "critical"), "condition %s: '%s' is a high marker, so critical (%g) must be above cutoff (%g)",
                   c->code, name, cr, cut);
    } else {
        if (!isnan(bl) && !isnan(cut) && !(bl > cut))
            err_at(L, get(L, mk, "borderline"), "condition %s: '%s' is a low marker, so borderline (%g) must be above cutoff (%g)",
                   c->code, name, bl, cut);
        if (!isnan(cr) && !isnan(cut) && !(cr < cut))
            err_at(L, get(L, mk, "critical"), "condition %s: '%s' is a low marker, so critical (%g) must be below cutoff (%g)",
                   c->code, name, cr, cut);
    }
    c->n_markers++;
}

static void load_conditions(ld_t *L, yaml_node_t *v)
{
    ns_panel_t *p = L->p;
    if (!v) { err_at(L, yaml_document_get_root_node(&L->doc), "missing 'conditions:' list"); return; }
    if (v->type != YAML_SEQUENCE_NODE) { err_at(L, v, "'conditions' must be a list"); return; }
    int m = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
    p->conds = ns_calloc((size_t)m, sizeof *p->conds);
    static const char *const keys[] = { "code", "name", "priority", "action", "rule",
                                        "require_secondary", "markers", NULL };
    static const char *const rules[] = { "any", "all", NULL };
    static const char *const bools[] = { "false", "true", NULL };
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *cn = node(L, *it);
        if (!check_keys(L, cn, "condition", keys)) continue;
        ns_condition_t *c = &p->conds[p->n_conds];
        if (!get_str(L, cn, "code", c->code, sizeof c->code, 1, "condition")) continue;
        c->pos = pos_of(cn);
        for (int k = 0; k < p->n_conds; k++)
            if (strcmp(p->conds[k].code, c->code) == 0)
                err_at(L, get(L, cn, "code"), "duplicate condition '%s' (first at line %d)", c->code,
                       p->conds[k].pos.line);
        const char *nm = scalar(get(L, cn, "name"));
        c->name = ns_strdup(nm ? nm : c->code);
        char what[64];
        snprintf(what, sizeof what, "condition %s", c->code);
        c->priority = get_enum(L, cn, "priority", prio_names, -1, what);
        c->action = get_enum(L, cn, "action", act_names, -1, what);
        c->rule = get_enum(L, cn, "rule", rules, NS_RULE_ANY, what);
        c->require_secondary = get_enum(L, cn, "require_secondary", bools, 0, what);
        yaml_node_t *mks = get(L, cn, "markers");
        if (!mks || mks->type != YAML_SEQUENCE_NODE || mks->data.sequence.items.top == mks->data.sequence.items.start) {
            err_at(L, mks ? mks : cn, "condition %s: 'markers' must be a non-empty list", c->code);
        } else {
            int nm_ = (int)(mks->data.sequence.items.top - mks->data.sequence.items.start);
            c->markers = ns_calloc((size_t)nm_, sizeof *c->markers);
            for (yaml_node_item_t *mi = mks->data.sequence.items.start; mi < mks->data.sequence.items.top; mi++)
                load_marker(L, node(L, *mi), c);
            int n_prim = 0, n_sec = 0;
            for (int k = 0; k < c->n_markers; k++) {
                if (c->markers[k].role == NS_ROLE_PRIMARY) n_prim++;
                else n_sec++;
            }
            if (c->n_markers > 0 && n_prim == 0)
                err_at(L, mks, "condition %s: needs at least one primary marker", c->code);
            if (c->require_secondary && n_sec == 0)
                err_at(L, get(L, cn, "require_secondary"), "condition %s: require_secondary is true but no marker has role secondary", c->code);
            if (c->n_markers > 64)
                err_at(L, mks, "condition %s: more than 64 markers", c->code);
        }
        p->n_conds++;
    }
    if (p->n_conds == 0) err_at(L, v, "'conditions' is empty");
}

/* ---- entry points ------------------------------------------------------------------ */

ns_panel_t *ns_panel_load_mem(const char *name, const char *text, size_t len, ns_panel_errs_t *errs)
{
    memset(errs, 0, sizeof *errs);
    errs->text = ns_strndup(text, len);
    ld_t L;
    memset(&L, 0, sizeof L);
    L.errs = errs;
    L.p = ns_calloc(1, sizeof *L.p);
    L.p->path = ns_strdup(name);
    L.p->text = ns_strndup(text, len);
    L.p->text_len = len;
    ns_sha256_hex(text, len, L.p->sha256);

    yaml_parser_t yp;
    yaml_parser_initialize(&yp);
    yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);
    if (!yaml_parser_load(&yp, &L.doc)) {
        ns_panel_errs_t *e = errs;
        if (e->n == e->m) { e->m = 16; e->v = ns_realloc(e->v, (size_t)e->m * sizeof *e->v); }
        ns_panel_err_t *x = &e->v[e->n++];
        x->pos.line = (int)yp.problem_mark.line + 1;
        x->pos.col = (int)yp.problem_mark.column + 1;
        snprintf(x->msg, sizeof x->msg, "YAML syntax error: %s%s%s", yp.problem ? yp.problem : "unknown",
                 yp.context ? " " : "", yp.context ? yp.context : "");
        yaml_parser_delete(&yp);
        ns_panel_free(L.p);
        return NULL;
    }
    /* a second document ("---") would be silently ignored by a one-document load: refuse */
    yaml_document_t extra;
    if (yaml_parser_load(&yp, &extra)) {
        yaml_node_t *r2 = yaml_document_get_root_node(&extra);
        if (r2) err_at(&L, r2, "a second YAML document ('---'): a panel file holds one document");
        yaml_document_delete(&extra);
    } else {
        ns_panel_err_t x;
        x.pos.line = (int)yp.problem_mark.line + 1;
        x.pos.col = (int)yp.problem_mark.column + 1;
        snprintf(x.msg, sizeof x.msg, "YAML syntax error: %s", yp.problem ? yp.problem : "unknown");
        if (errs->n == errs->m) { errs->m = errs->m ? errs->m * 2 : 16; errs->v = ns_realloc(errs->v, (size_t)errs->m * sizeof *errs->v); }
        errs->v[errs->n++] = x;
    }
    yaml_parser_delete(&yp);

    yaml_node_t *root = yaml_document_get_root_node(&L.doc);
    static const char *const top[] = { "panel", "input", "analytes", "ratios", "conditions", NULL };
    if (!root) {
        ns_panel_err_t *x;
        errs->m = 16;
        errs->v = ns_realloc(errs->v, (size_t)errs->m * sizeof *errs->v);
        x = &errs->v[errs->n++];
        x->pos.line = 1; x->pos.col = 1;
        snprintf(x->msg, sizeof x->msg, "empty file: expected panel, analytes, ratios and conditions");
    } else if (check_keys(&L, root, "the top level", top)) {
        load_header(&L, get(&L, root, "panel"));
        load_input(&L, get(&L, root, "input"));
        load_analytes(&L, get(&L, root, "analytes"));
        yaml_node_t *cols = get(&L, get(&L, root, "input"), "columns");
        check_column_clash(&L, cols ? cols : get(&L, root, "analytes"));
        load_ratios(&L, get(&L, root, "ratios"));
        load_conditions(&L, get(&L, root, "conditions"));
    }
    yaml_document_delete(&L.doc);

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
    for (int i = 0; i < p->n_analytes; i++) free_strlist(p->analytes[i].aliases, p->analytes[i].n_aliases);
    free(p->analytes);
    for (int r = 0; r < p->n_ratios; r++) { free(p->ratios[r].num); free(p->ratios[r].den); }
    free(p->ratios);
    for (int c = 0; c < p->n_conds; c++) { free(p->conds[c].name); free(p->conds[c].markers); }
    free(p->conds);
    for (int i = 0; i < 4; i++) {
        free_strlist(p->input.col_alias[i], p->input.n_col_alias[i]);
        free_strlist(p->input.type_alias[i], p->input.n_type_alias[i]);
    }
    free(p->slot_cond);
    free(p->slot_marker);
    free(p->path);
    free(p->text);
    free(p);
}

void ns_panel_errs_free(ns_panel_errs_t *e)
{
    free(e->v);
    free(e->text);
    memset(e, 0, sizeof *e);
}

void ns_panel_errs_print(FILE *fp, const char *prefix, const char *path, const char *text,
                         const ns_panel_errs_t *e)
{
    fflush(stdout);
    for (int i = 0; i < e->n; i++) {
        const ns_panel_err_t *x = &e->v[i];
        if (x->pos.line <= 0) { fprintf(fp, "%s: %s: %s\n", prefix, path, x->msg); continue; }
        fprintf(fp, "%s: %s:%d:%d: %s\n", prefix, path, x->pos.line, x->pos.col, x->msg);
        if (!text) text = e->text;
        if (!text) continue;
        const char *s = text;
        for (int l = 1; l < x->pos.line && s; l++) { s = strchr(s, '\n'); if (s) s++; }
        if (!s || !*s) continue;
        const char *eol = strchr(s, '\n');
        int n = eol ? (int)(eol - s) : (int)strlen(s);
        if (n > 0 && s[n - 1] == '\r') n--;
        fprintf(fp, "    >>> %.*s\n        %*s^\n", n, s, x->pos.col - 1, "");
    }
}
