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

typedef struct { const char *key; int i; } keyref_t;

static int cmp_keyref(const void *a, const void *b)
{
    const keyref_t *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* Check that every key of mapping m is one of allowed[] (NULL-terminated) and not
 * repeated; report the others.  Returns 0 if m is not a mapping (and reports that).
 * Repeats are found by sorting (a mapping of 40,000 keys took 25 s pair by pair). */
int ns_yaml_keys(ns_yaml_t *Y, yaml_node_t *m, const char *what, const char *const *allowed)
{
    if (!m || m->type != YAML_MAPPING_NODE) {
        ns_yaml_err(Y, m, "%s must be a mapping (key: value lines)", what);
        return 0;
    }
    yaml_node_pair_t *p0 = m->data.mapping.pairs.start;
    int np = (int)(m->data.mapping.pairs.top - p0), nk = 0;
    keyref_t *kr = ns_malloc((size_t)(np ? np : 1) * sizeof *kr);
    int *first = ns_malloc((size_t)(np ? np : 1) * sizeof *first);   /* pair -> first pair with its key */
    for (int a = 0; a < np; a++) {
        first[a] = a;
        const char *ks = ns_yaml_scalar(ns_yaml_node(Y, p0[a].key));
        if (ks) { kr[nk].key = ks; kr[nk++].i = a; }
    }
    qsort(kr, (size_t)nk, sizeof *kr, cmp_keyref);
    for (int q = 1; q < nk; q++)
        if (strcmp(kr[q].key, kr[q - 1].key) == 0) first[kr[q].i] = first[kr[q - 1].i];
    for (yaml_node_pair_t *a = p0; a < m->data.mapping.pairs.top; a++) {
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
        int f = first[a - p0];
        if (f != a - p0)
            ns_yaml_err(Y, k, "duplicate key '%s' in %s (first at line %d)", ks, what,
                        (int)ns_yaml_node(Y, p0[f].key)->start_mark.line + 1);
    }
    free(kr);
    free(first);
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

/* Flow lists and mappings ([ and {) nested deeper than this are not a config (ours nest 3
 * deep).  libyaml's scanner reads a whole run of them before its first event, keeping
 * state per level at each one: 20,000 '[' take seconds, 200,000 (200 KB) minutes.  So
 * the text is scanned for them before libyaml sees it.  Returns 1 with the position of
 * the first bracket too deep. */
#define MAX_FLOW_DEPTH 64
static int flow_too_deep(const char *t, size_t n, int *line, int *col)
{
    int depth = 0, l = 1, c = 1, comment = 0;
    char quote = 0, prev = '\n';          /* quote: ' or " while in a quoted scalar */
    for (size_t i = n >= 3 && memcmp(t, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0; i < n; i++) {
        char ch = t[i];
        if (ch == '\n') { l++; c = 1; comment = 0; prev = ch; continue; }
        if (comment) {
        } else if (quote) {
            if (quote == '"' && ch == '\\' && i + 1 < n && t[i + 1] != '\n') { i++; c++; }
            else if (ch == quote && quote == '\'' && i + 1 < n && t[i + 1] == '\'') { i++; c++; }
            else if (ch == quote) quote = 0;
        } else if (ch == '#' && (prev == ' ' || prev == '\t' || prev == '\n')) {
            comment = 1;
        } else if ((ch == '"' || ch == '\'') && strchr(" \t\n[{,:", prev)) {
            quote = ch;
        } else if (ch == '[' || ch == '{') {
            if (++depth > MAX_FLOW_DEPTH) { *line = l; *col = c; return 1; }
        } else if ((ch == ']' || ch == '}') && depth > 0) {
            depth--;
        }
        if (((unsigned char)ch & 0xC0) != 0x80) c++;
        prev = ch;
    }
    return 0;
}

/* An alias (*name) anywhere in the text: reported at the first one, whose anchor (&name)
 * comes before it.  libyaml's loader shares an aliased node instead of copying it, so a
 * "billion laughs" document loads small, but every loader that walks it would see the
 * node again at each use (one message per use), and an anchor may even refer to itself
 * (a cycle).  A config is text a person reviews and a hash identifies: each value is
 * written where it applies.  Returns 1 if an alias was reported; a syntax error ends the
 * scan quietly (the loader reports it). */
static int refuse_aliases(const char *text, size_t len, ns_panel_errs_t *errs)
{
    yaml_parser_t yp;
    yaml_event_t ev;
    struct { char *name; int line; } *anc = NULL;
    int n_anc = 0, found = 0, done = 0;
    yaml_parser_initialize(&yp);
    yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);
    while (!done && !found && yaml_parser_parse(&yp, &ev)) {
        const yaml_char_t *a = ev.type == YAML_SCALAR_EVENT ? ev.data.scalar.anchor
                             : ev.type == YAML_SEQUENCE_START_EVENT ? ev.data.sequence_start.anchor
                             : ev.type == YAML_MAPPING_START_EVENT ? ev.data.mapping_start.anchor : NULL;
        if (a) {
            anc = ns_realloc(anc, (size_t)(n_anc + 1) * sizeof *anc);
            anc[n_anc].name = ns_strdup((const char *)a);
            anc[n_anc++].line = (int)ev.start_mark.line + 1;
        }
        if (ev.type == YAML_ALIAS_EVENT) {
            const char *name = (const char *)ev.data.alias.anchor;
            for (int k = n_anc - 1; k >= 0 && !found; k--)
                if (strcmp(anc[k].name, name) == 0) {
                    ns_yaml_errs_add(errs, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1,
                                     "YAML alias '*%s' (anchor '&%s' on line %d): a config does not use "
                                     "anchors and aliases; write the value out where it applies",
                                     name, name, anc[k].line);
                    found = 1;
                }
        }
        done = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
    }
    for (int k = 0; k < n_anc; k++) free(anc[k].name);
    free(anc);
    yaml_parser_delete(&yp);
    return found;
}

/* libyaml gives no mark for a reader error (bytes that are not UTF-8, control characters
 * such as NUL), only the byte offset: its line and column (in characters) */
static void reader_error_pos(const char *text, size_t len, size_t off, int *line, int *col)
{
    *line = 1;
    *col = 1;
    size_t i0 = len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;   /* a BOM is no column */
    for (size_t i = i0; i < off && i < len; i++) {
        unsigned char b = (unsigned char)text[i];
        if (b == '\n') { ++*line; *col = 1; }
        else if ((b & 0xC0) != 0x80) ++*col;
    }
}

/* Report the parser's error: "YAML syntax error: what [context]" at its position. */
static void syntax_error(ns_panel_errs_t *errs, const yaml_parser_t *yp, const char *text, size_t len)
{
    int line = (int)yp->problem_mark.line + 1, col = (int)yp->problem_mark.column + 1;
    char byte[24] = "";
    if (yp->error == YAML_READER_ERROR) {
        reader_error_pos(text, len, yp->problem_offset, &line, &col);
        if (yp->problem_value >= 0) snprintf(byte, sizeof byte, " (byte 0x%02X)", (unsigned)yp->problem_value & 0xFFu);
    }
    ns_yaml_errs_add(errs, line, col, "YAML syntax error: %s%s%s%s", yp->problem ? yp->problem : "unknown",
                     byte, yp->context ? " " : "", yp->context ? yp->context : "");
}

int ns_yaml_parse(ns_yaml_t *y, const char *text, size_t len, ns_panel_errs_t *errs)
{
    memset(y, 0, sizeof *y);
    y->errs = errs;
    if (!errs->text) errs->text = ns_strndup(text, len);
    int dl, dc;
    if (flow_too_deep(text, len, &dl, &dc)) {
        ns_yaml_errs_add(errs, dl, dc, "[ and { nested more than %d deep: not a config", MAX_FLOW_DEPTH);
        return -1;
    }
    if (refuse_aliases(text, len, errs)) return -1;
    yaml_parser_t yp;
    yaml_parser_initialize(&yp);
    yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);
    if (!yaml_parser_load(&yp, &y->doc)) {
        syntax_error(errs, &yp, text, len);
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
        syntax_error(errs, &yp, text, len);
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

int ns_yaml_equal(ns_yaml_t *A, const yaml_node_t *a, ns_yaml_t *B, const yaml_node_t *b)
{
    if (!a || !b) return !a && !b;
    if (a->type != b->type) return 0;
    if ((a->tag == NULL) != (b->tag == NULL)
        || (a->tag && strcmp((const char *)a->tag, (const char *)b->tag) != 0))
        return 0;
    switch (a->type) {
    case YAML_SCALAR_NODE:
        return a->data.scalar.length == b->data.scalar.length && a->data.scalar.style == b->data.scalar.style
               && memcmp(a->data.scalar.value, b->data.scalar.value, a->data.scalar.length) == 0;
    case YAML_SEQUENCE_NODE: {
        const yaml_node_item_t *x = a->data.sequence.items.start, *y = b->data.sequence.items.start;
        if (a->data.sequence.items.top - x != b->data.sequence.items.top - y) return 0;
        for (; x < a->data.sequence.items.top; x++, y++)
            if (!ns_yaml_equal(A, ns_yaml_node(A, *x), B, ns_yaml_node(B, *y))) return 0;
        return 1;
    }
    case YAML_MAPPING_NODE: {
        const yaml_node_pair_t *x = a->data.mapping.pairs.start, *y = b->data.mapping.pairs.start;
        if (a->data.mapping.pairs.top - x != b->data.mapping.pairs.top - y) return 0;
        for (; x < a->data.mapping.pairs.top; x++, y++)
            if (!ns_yaml_equal(A, ns_yaml_node(A, x->key), B, ns_yaml_node(B, y->key))
                || !ns_yaml_equal(A, ns_yaml_node(A, x->value), B, ns_yaml_node(B, y->value)))
                return 0;
        return 1;
    }
    default:
        return 1;
    }
}
