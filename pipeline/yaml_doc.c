/* yaml_doc.c — see yaml_doc.h. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"
#include "yaml_doc.h"

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

void ns_yaml_err(ns_yaml_t *Y, const yaml_node_t *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_err(Y->errs, n ? (int)n->start_mark.line + 1 : 0, n ? (int)n->start_mark.column + 1 : 0,
            fmt, ap);
    va_end(ap);
}

ns_pos_t ns_yaml_pos(const yaml_node_t *n)
{
    ns_pos_t p = { (int)n->start_mark.line + 1, (int)n->start_mark.column + 1 };
    return p;
}

yaml_node_t *ns_yaml_node(ns_yaml_t *Y, int id) { return yaml_document_get_node(&Y->doc, id); }

const char *ns_yaml_scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* Check that every key of mapping m is one of allowed[] (NULL-terminated) and not
 * repeated; report the others.  Returns 0 if m is not a mapping (and reports that). */
int ns_yaml_keys(ns_yaml_t *Y, yaml_node_t *m, const char *what, const char *const *allowed)
{
    if (!m || m->type != YAML_MAPPING_NODE) {
        ns_yaml_err(Y, m, "%s must be a mapping (key: value lines)", what);
        return 0;
    }
    for (yaml_node_pair_t *a = m->data.mapping.pairs.start; a < m->data.mapping.pairs.top; a++) {
        yaml_node_t *k = ns_yaml_node(Y, a->key);
        const char *ks = ns_yaml_scalar(k);
        if (!ks) { ns_yaml_err(Y, k, "keys in %s must be plain names", what); continue; }
        int ok = 0;
        for (int i = 0; allowed[i]; i++) if (strcmp(ks, allowed[i]) == 0) ok = 1;
        if (!ok) {
            char list[256] = "";
            for (int i = 0; allowed[i]; i++) {
                strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
                strncat(list, allowed[i], sizeof list - strlen(list) - 1);
            }
            ns_yaml_err(Y, k, "unknown key '%s' in %s (allowed: %s)", ks, what, list);
        }
        for (yaml_node_pair_t *b = m->data.mapping.pairs.start; b < a; b++)
            if (ns_yaml_scalar(ns_yaml_node(Y, b->key)) && strcmp(ns_yaml_scalar(ns_yaml_node(Y, b->key)), ks) == 0) {
                ns_yaml_err(Y, k, "duplicate key '%s' in %s (first at line %d)", ks, what,
                       (int)ns_yaml_node(Y, b->key)->start_mark.line + 1);
                break;
            }
    }
    return 1;
}

yaml_node_t *ns_yaml_get(ns_yaml_t *Y, yaml_node_t *m, const char *key)
{
    if (!m || m->type != YAML_MAPPING_NODE) return NULL;
    for (yaml_node_pair_t *a = m->data.mapping.pairs.start; a < m->data.mapping.pairs.top; a++) {
        const char *ks = ns_yaml_scalar(ns_yaml_node(Y, a->key));
        if (ks && strcmp(ks, key) == 0) return ns_yaml_node(Y, a->value);
    }
    return NULL;
}

/* Copy a required/optional scalar string into dst (size dsz).  Returns 1 if present. */
int ns_yaml_str(ns_yaml_t *Y, yaml_node_t *m, const char *key, char *dst, size_t dsz,
                   int required, const char *what)
{
    yaml_node_t *v = ns_yaml_get(Y, m, key);
    if (!v) {
        if (required) ns_yaml_err(Y, m, "%s: missing '%s'", what, key);
        return 0;
    }
    const char *s = ns_yaml_scalar(v);
    if (!s || !*s) { ns_yaml_err(Y, v, "%s: '%s' must be a non-empty text value", what, key); return 0; }
    if (strlen(s) >= dsz) {
        ns_yaml_err(Y, v, "%s: '%s' is too long (at most %zu characters)", what, key, dsz - 1);
        return 0;
    }
    strcpy(dst, s);
    return 1;
}

/* Parse a number; returns 1 if present and valid, 0 if absent, -1 if invalid (reported). */
int ns_yaml_num(ns_yaml_t *Y, yaml_node_t *m, const char *key, double *out, const char *what)
{
    yaml_node_t *v = ns_yaml_get(Y, m, key);
    if (!v) return 0;
    const char *s = ns_yaml_scalar(v);
    char *end = NULL;
    errno = 0;
    double x = s ? strtod(s, &end) : NAN;
    if (!s || !*s || *end || errno || !isfinite(x)) {
        ns_yaml_err(Y, v, "%s: '%s' must be a number, not '%s'", what, key, s ? s : "(a list or mapping)");
        return -1;
    }
    *out = x;
    return 1;
}

/* Match a scalar against a list of names; returns index or -1 (reported). */
int ns_yaml_enum(ns_yaml_t *Y, yaml_node_t *m, const char *key, const char *const *names,
                    int dflt, const char *what)
{
    yaml_node_t *v = ns_yaml_get(Y, m, key);
    if (!v) {
        if (dflt < 0) ns_yaml_err(Y, m, "%s: missing '%s'", what, key);
        return dflt;
    }
    const char *s = ns_yaml_scalar(v);
    for (int i = 0; s && names[i]; i++) if (strcmp(s, names[i]) == 0) return i;
    char list[160] = "";
    for (int i = 0; names[i]; i++) {
        strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, names[i], sizeof list - strlen(list) - 1);
    }
    ns_yaml_err(Y, v, "%s: '%s' must be one of %s, not '%s'", what, key, list, s ? s : "(not text)");
    return dflt < 0 ? 0 : dflt;
}

/* A sequence of scalars as a new string array. */
char **ns_yaml_strlist(ns_yaml_t *Y, yaml_node_t *v, int *n, const char *what)
{
    *n = 0;
    if (!v) return NULL;
    if (v->type != YAML_SEQUENCE_NODE) { ns_yaml_err(Y, v, "%s must be a list, e.g. [a, b]", what); return NULL; }
    int m = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
    char **r = ns_calloc((size_t)m + 1, sizeof *r);
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        const char *s = ns_yaml_scalar(ns_yaml_node(Y, *it));
        if (!s || !*s) { ns_yaml_err(Y, ns_yaml_node(Y, *it), "%s: entries must be non-empty text", what); continue; }
        r[(*n)++] = ns_strdup(s);
    }
    return r;
}

void ns_strlist_free(char **v, int n)
{
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}


void ns_yaml_errs_add(ns_panel_errs_t *e, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_err(e, line, col, fmt, ap);
    va_end(ap);
}

int ns_yaml_parse(ns_yaml_t *y, const char *text, size_t len, ns_panel_errs_t *errs)
{
    memset(y, 0, sizeof *y);
    y->errs = errs;
    if (!errs->text) errs->text = ns_strndup(text, len);
    yaml_parser_t yp;
    yaml_parser_initialize(&yp);
    yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);
    if (!yaml_parser_load(&yp, &y->doc)) {
        ns_yaml_errs_add(errs, (int)yp.problem_mark.line + 1, (int)yp.problem_mark.column + 1,
                         "YAML syntax error: %s%s%s", yp.problem ? yp.problem : "unknown",
                         yp.context ? " " : "", yp.context ? yp.context : "");
        yaml_parser_delete(&yp);
        return -1;
    }
    y->loaded = 1;
    /* a second document ("---") would be silently ignored by a one-document load: refuse */
    yaml_document_t extra;
    if (yaml_parser_load(&yp, &extra)) {
        yaml_node_t *r2 = yaml_document_get_root_node(&extra);
        if (r2) ns_yaml_err(y, r2, "a second YAML document ('---'): a config file holds one document");
        yaml_document_delete(&extra);
    } else {
        ns_yaml_errs_add(errs, (int)yp.problem_mark.line + 1, (int)yp.problem_mark.column + 1,
                         "YAML syntax error: %s", yp.problem ? yp.problem : "unknown");
    }
    yaml_parser_delete(&yp);
    return 0;
}

void ns_yaml_done(ns_yaml_t *y)
{
    if (y->loaded) yaml_document_delete(&y->doc);
    y->loaded = 0;
}

yaml_node_t *ns_yaml_root(ns_yaml_t *y) { return y->loaded ? yaml_document_get_root_node(&y->doc) : NULL; }
