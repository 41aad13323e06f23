/* yaml_doc.h — load a YAML config into a document whose every node keeps its position,
 * and read it with checks that report FILE:LINE:COL.
 *
 * Shared by every config loader (panel, QC materials...).  Each helper reports what is
 * wrong with a value at that value's own line and column and keeps going, so a loader
 * collects every problem in one pass; unknown and duplicate keys are errors (a misspelt
 * key silently ignored is a screening failure waiting to happen).  Exactly one YAML
 * document per file: a second one after "---" is refused, not ignored.  Anchors and
 * aliases (&name, *name) are refused at the first alias: each value is written where it
 * applies, so an "alias bomb" or an anchor that refers to itself never reaches a loader;
 * so are [ and { nested more than 64 deep (libyaml's scanner slows down with depth).
 * Bytes that are not UTF-8 text are reported at their own line and column.
 */
#ifndef NS_YAML_DOC_H
#define NS_YAML_DOC_H

#include <stddef.h>
#include <yaml.h>
#include "panel.h"

typedef struct {
    yaml_document_t doc;
    ns_panel_errs_t *errs;   /* where problems go (not owned) */
    int loaded;
} ns_yaml_t;

/* Parse text (one YAML document) into y; errs receives problems (and keeps a copy of the
 * text for quoting lines).  @return 0, or -1 on a syntax error (reported; y unusable). */
int ns_yaml_parse(ns_yaml_t *y, const char *text, size_t len, ns_panel_errs_t *errs);
void ns_yaml_done(ns_yaml_t *y);
yaml_node_t *ns_yaml_root(ns_yaml_t *y);

/* Report a problem at node n (NULL: no position). */
void ns_yaml_err(ns_yaml_t *Y, const yaml_node_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Add a problem at an explicit position. */
void ns_yaml_errs_add(ns_panel_errs_t *e, int line, int col, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

ns_pos_t ns_yaml_pos(const yaml_node_t *n);
yaml_node_t *ns_yaml_node(ns_yaml_t *Y, int id);
/* The text of a scalar node, NULL for lists and mappings. */
const char *ns_yaml_scalar(const yaml_node_t *n);
/* Check that mapping m has only keys from allowed[] (NULL-terminated), none twice.
 * Returns 0 (and reports) when m is not a mapping. */
int ns_yaml_keys(ns_yaml_t *Y, yaml_node_t *m, const char *what, const char *const *allowed);
/* The value of key in mapping m, NULL if absent. */
yaml_node_t *ns_yaml_get(ns_yaml_t *Y, yaml_node_t *m, const char *key);
/* Copy a text value (<= dsz-1 bytes).  Returns 1 if present and valid. */
int ns_yaml_str(ns_yaml_t *Y, yaml_node_t *m, const char *key, char *dst, size_t dsz,
                int required, const char *what);
/* A finite number: 1 present and valid, 0 absent, -1 invalid (reported). */
int ns_yaml_num(ns_yaml_t *Y, yaml_node_t *m, const char *key, double *out, const char *what);
/* One of names[] (NULL-terminated): its index; dflt when absent (dflt < 0: required). */
int ns_yaml_enum(ns_yaml_t *Y, yaml_node_t *m, const char *key, const char *const *names,
                 int dflt, const char *what);
/* A list of non-empty scalars as new strings (free with ns_strlist_free). */
char **ns_yaml_strlist(ns_yaml_t *Y, yaml_node_t *v, int *n, const char *what);
void ns_strlist_free(char **v, int n);

/* Are node a of A and node b of B the same YAML?  Scalars: same text, tag and style
 * (plain, single- or double-quoted...); sequences: same items in order; mappings: same
 * keys in the same order with the same values.  Comments, spacing and positions do not
 * count.  Either NULL: equal only when both are.  @return 1 or 0. */
int ns_yaml_equal(ns_yaml_t *A, const yaml_node_t *a, ns_yaml_t *B, const yaml_node_t *b);

#endif
