/* cmd_config.c — `neoscreen config check FILE...`: the geneticist's and the lab's safety net.
 *
 * Loads each config exactly as `run` would and prints every problem as FILE:LINE:COL
 * with the offending line quoted (redis' config loader style).  A file whose top-level
 * key is `qc` is a QC materials file (plate map, control lots, rules) and is checked
 * against a panel, since its analyte names and well names only mean something there;
 * a file whose top-level key is `genes` is a deafness-gene plate config (genes.h); a file
 * whose every top-level key is a dotted translation key ("action.counselling") is a
 * translation table; any other file is checked as a panel.  Exit status 0 when every file
 * is clean, 1
 * otherwise; `run` refuses to start on a config that fails this check.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>
#include "batch.h"
#include "cmds.h"
#include "genes.h"
#include "log.h"
#include "panel.h"
#include "qc_config.h"
#include "util.h"
#include "yaml_doc.h"

#define DEFAULT_PANEL "configs/panel-default.yaml"

static void usage(FILE *fp)
{
    fprintf(fp,
"Usage: neoscreen config check [options] FILE...\n"
"\n"
"Check configs (YAML) and report every problem as FILE:LINE:COL, the offending line\n"
"quoted after '>>>', and what is wrong.  Four kinds of file:\n"
"\n"
"  panel  analytes, ratios, conditions (configs/panel-default.yaml): unknown keys,\n"
"         unknown analytes in ratios or markers, borderline/critical limits on the\n"
"         wrong side of the cutoff, missing actions, duplicate conditions, aliases\n"
"         that clash, YAML syntax errors...\n"
"  QC     a file whose top-level key is 'qc:' (configs/qc.yaml): plate map, Westgard\n"
"         rules, control lots and targets.  Checked against a panel (--panel) for\n"
"         analyte names and plate size: wells not on the plate or listed twice,\n"
"         unknown rules or analytes, SD <= 0, missing control levels...\n"
"  genes  a file whose top-level key is 'genes:' (configs/genes.yaml): deafness-gene\n"
"         loci, plate controls and rules: duplicate loci or rule ids, rules naming an\n"
"         unknown gene or class or matching no locus, unknown calls or actions...\n"
"  texts  a file whose every top-level key is a translation key such as\n"
"         'action.counselling' (configs/genes-lang.yaml): each needs non-empty en and\n"
"         zh texts with the same {placeholders}.\n"
"\n"
"Options:\n"
"  -p, --panel FILE   panel that QC files are checked against [$NEOSCREEN_CONFIG, else\n"
"                     ./%s, else the copy in the source tree]\n"
"  -q, --quiet        print nothing for clean files\n"
"  -h, --help         this text\n"
"\n"
"Exit status: 0 every file is valid; 1 at least one problem (or a usage error).\n",
            DEFAULT_PANEL);
}

/* The panel QC files are checked against, found as `run` finds its config: -p FILE, else
 * $NEOSCREEN_CONFIG, else ./configs/panel-default.yaml, else the source tree's copy. */
static char *default_panel(const char *given)
{
    return ns_config_path(given, "NEOSCREEN_CONFIG", DEFAULT_PANEL);
}

/* 1 if path parses as YAML whose top level is a mapping with the key `key` ("qc",
 * "genes"); with key NULL, 1 if every top-level key is dotted ("action.x": a translation
 * table).  Anything else, including a file that cannot be read or parsed, is left to the
 * panel loader, which reports the problem. */
static int has_top_key(const char *path, const char *key)
{
    char *text;
    size_t len;
    if (ns_read_file(path, &text, &len) < 0) return 0;
    yaml_parser_t yp;
    yaml_document_t doc;
    int qc = 0;
    yaml_parser_initialize(&yp);
    yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);
    if (yaml_parser_load(&yp, &doc)) {
        yaml_node_t *root = yaml_document_get_root_node(&doc);
        if (root && root->type == YAML_MAPPING_NODE) {
            int dotted = 1;
            for (yaml_node_pair_t *a = root->data.mapping.pairs.start; a < root->data.mapping.pairs.top; a++) {
                yaml_node_t *k = yaml_document_get_node(&doc, a->key);
                int scalar = k && k->type == YAML_SCALAR_NODE;
                if (key && scalar && strcmp((const char *)k->data.scalar.value, key) == 0)
                    qc = 1;
                if (!scalar || !strchr((const char *)k->data.scalar.value, '.')) dotted = 0;
            }
            if (!key) qc = dotted && root->data.mapping.pairs.top > root->data.mapping.pairs.start;
        }
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&yp);
    free(text);
    return qc;
}

static void print_rules(unsigned rules)
{
    for (int b = 0, first = 1; ns_westgard_rule_name(b); b++)
        if (rules & (1u << b)) {
            printf("%s%s", first ? "" : " ", ns_westgard_rule_name(b));
            first = 0;
        }
}

/* Check one QC file; *panel is loaded on first use (and stays NULL, reported, if bad). */
static int check_qc(const char *path, const char *panel_path, ns_panel_t **panel, int *panel_tried,
                    int quiet)
{
    if (!*panel_tried) {
        *panel_tried = 1;
        ns_panel_errs_t e;
        *panel = ns_panel_load(panel_path, &e);
        if (!*panel) {
            ns_panel_errs_print(stderr, "neoscreen config", panel_path, NULL, &e);
            ns_error("config", "%s: %d problem%s in the panel that QC files are checked against",
                     panel_path, e.n, e.n == 1 ? "" : "s");
        }
        ns_panel_errs_free(&e);
    }
    if (!*panel) {
        ns_error("config", "%s: not checked: the panel %s did not load", path, panel_path);
        return 1;
    }
    ns_panel_errs_t e;
    ns_qc_config_t *q = ns_qc_load(path, *panel, &e);
    int bad = 0;
    if (q) {
        if (!quiet) {
            int nt[NS_QC_LEVELS] = { 0 };
            for (int l = 0; l < NS_QC_LEVELS; l++)
                for (int a = 0; a < (*panel)->n_analytes; a++) nt[l] += !isnan(q->level[l].mean[a]);
            printf("%s: ok (qc for panel %s %s, %d-well plate: wells %d qc_low, %d qc_high, %d blank; "
                   "lots %s (%d targets), %s (%d targets); rules ",
                   path, (*panel)->name, (*panel)->version, q->rows * q->cols,
                   q->n_ctl_wells[NS_TYPE_QC_LOW], q->n_ctl_wells[NS_TYPE_QC_HIGH],
                   q->n_ctl_wells[NS_TYPE_BLANK], q->level[0].lot, nt[0], q->level[1].lot, nt[1]);
            print_rules(q->rules);
            printf(")\n");
        }
        ns_qc_free(q);
    } else {
        ns_panel_errs_print(stderr, "neoscreen config", path, NULL, &e);
        ns_error("config", "%s: %d problem%s", path, e.n, e.n == 1 ? "" : "s");
        bad = 1;
    }
    ns_panel_errs_free(&e);
    return bad;
}

/* Check one deafness-gene config. */
static int check_genes(const char *path, int quiet)
{
    ns_panel_errs_t e;
    ns_genes_config_t *g = ns_genes_config_load(path, &e);
    int bad = 0;
    if (g) {
        if (!quiet)
            printf("%s: ok (genes %s %s, %d-well plate: %d loci in %d genes, %d controls, %d rules)\n", path,
                   g->name[0] ? g->name : "-", g->version[0] ? g->version : "-", g->rows * g->cols, g->n_loci,
                   g->n_genes, g->n_controls, g->n_rules);
        ns_genes_config_free(g);
    } else {
        ns_panel_errs_print(stderr, "neoscreen config", path, NULL, &e);
        ns_error("config", "%s: %d problem%s", path, e.n, e.n == 1 ? "" : "s");
        bad = 1;
    }
    ns_panel_errs_free(&e);
    return bad;
}

/* The distinct {placeholders} of s, sorted, in out ("{gene} {loci}"; "" when none). */
static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }
static void placeholders(const char *s, char *out, size_t sz)
{
    char *v[32];
    int n = 0;
    for (const char *p = strchr(s, '{'); p && n < 32; p = strchr(p + 1, '{')) {
        const char *q = strchr(p, '}');
        if (!q) break;
        char *one = ns_strndup(p, (size_t)(q - p + 1));
        int dup = 0;
        for (int i = 0; i < n; i++) dup |= strcmp(v[i], one) == 0;
        if (dup) free(one);
        else v[n++] = one;
    }
    qsort(v, (size_t)n, sizeof *v, cmp_str);
    out[0] = 0;
    for (int i = 0; i < n; i++) {
        if (i) strncat(out, " ", sz - strlen(out) - 1);
        strncat(out, v[i], sz - strlen(out) - 1);
        free(v[i]);
    }
}

/* The entries of a translation table (root is a mapping); problems go to y's error list.
 * @return the number of keys. */
static int check_text_entries(ns_yaml_t *y, yaml_node_t *root)
{
    static const char *const langs[] = { "en", "zh", NULL };
    int n_keys = 0;
    for (yaml_node_pair_t *a = root->data.mapping.pairs.start; a < root->data.mapping.pairs.top; a++, n_keys++) {
        yaml_node_t *k = ns_yaml_node(y, a->key), *v = ns_yaml_node(y, a->value);
        const char *ks = ns_yaml_scalar(k);
        for (yaml_node_pair_t *b = root->data.mapping.pairs.start; b < a; b++)
            if (strcmp(ns_yaml_scalar(ns_yaml_node(y, b->key)), ks) == 0) {
                ns_yaml_err(y, k, "'%s' is given twice (first at line %d)", ks, ns_yaml_pos(ns_yaml_node(y, b->key)).line);
                break;
            }
        if (!ns_yaml_keys(y, v, ks, langs)) continue;
        char ph[2][256];
        int ok = 1;
        for (int l = 0; langs[l]; l++) {
            yaml_node_t *t = ns_yaml_get(y, v, langs[l]);
            const char *ts = ns_yaml_scalar(t);
            if (!t) ns_yaml_err(y, v, "%s: missing '%s' text", ks, langs[l]);
            else if (!ts || !*ts) ns_yaml_err(y, t, "%s: '%s' must be a non-empty text", ks, langs[l]);
            if (!ts || !*ts) { ok = 0; continue; }
            placeholders(ts, ph[l], sizeof ph[l]);
        }
        if (ok && strcmp(ph[0], ph[1]) != 0)
            ns_yaml_err(y, v, "%s: the en and zh texts have different {placeholders} (en: %s; zh: %s)",
                        ks, ph[0][0] ? ph[0] : "none", ph[1][0] ? ph[1] : "none");
    }
    return n_keys;
}

/* Check one translation table: key: {en: "...", zh: "..."}, both non-empty, same
 * {placeholders} (a placeholder in one language only is a text that cannot be filled). */
static int check_texts(const char *path, int quiet)
{
    ns_panel_errs_t e;
    memset(&e, 0, sizeof e);
    int n_keys = 0;
    char *text;
    size_t len;
    if (ns_read_file(path, &text, &len) < 0) {
        ns_yaml_errs_add(&e, 0, 0, "cannot read: %s", strerror(errno));
    } else {
        ns_yaml_t y;
        if (ns_yaml_parse(&y, text, len, &e) == 0) {
            yaml_node_t *root = ns_yaml_root(&y);
            if (!root || root->type != YAML_MAPPING_NODE)
                ns_yaml_errs_add(&e, 1, 1, "expected a mapping of translation keys");
            else
                n_keys = check_text_entries(&y, root);
            ns_yaml_done(&y);
        }
        free(text);
    }
    int bad = e.n > 0;
    if (bad) {
        ns_panel_errs_print(stderr, "neoscreen config", path, NULL, &e);
        ns_error("config", "%s: %d problem%s", path, e.n, e.n == 1 ? "" : "s");
    } else if (!quiet)
        printf("%s: ok (translations: %d keys, en and zh)\n", path, n_keys);
    ns_panel_errs_free(&e);
    return bad;
}

int ns_cmd_config(int argc, char **argv)
{
    if (argc < 2) { usage(stdout); return 1; }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) { usage(stdout); return 0; }
    if (strcmp(argv[1], "check") != 0) {
        ns_error("config", "unknown action '%s' (expected 'check')", argv[1]);
        return 1;
    }
    static const struct option lopts[] = {
        { "panel", required_argument, NULL, 'p' }, { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
    int quiet = 0, ch;
    const char *panel_opt = NULL;
    optind = 1;
    argc--, argv++;
    while ((ch = getopt_long(argc, argv, "p:qh", lopts, NULL)) >= 0) {
        if (ch == 'q') quiet = 1;
        else if (ch == 'p') panel_opt = optarg;
        else if (ch == 'h') { usage(stdout); return 0; }
        else { usage(stderr); return 1; }
    }
    if (optind >= argc) { usage(stdout); return 1; }
    char *panel_path = default_panel(panel_opt);
    ns_panel_t *qc_panel = NULL;
    int panel_tried = 0, bad = 0;
    for (int i = optind; i < argc; i++) {
        if (has_top_key(argv[i], "genes")) {
            bad |= check_genes(argv[i], quiet);
            continue;
        }
        if (has_top_key(argv[i], NULL)) {
            bad |= check_texts(argv[i], quiet);
            continue;
        }
        if (has_top_key(argv[i], "qc")) {
            bad |= check_qc(argv[i], panel_path, &qc_panel, &panel_tried, quiet);
            continue;
        }
        ns_panel_errs_t e;
        ns_panel_t *p = ns_panel_load(argv[i], &e);
        if (p) {
            if (!quiet)
                printf("%s: ok (panel %s %s, kit %s: %d analytes, %d ratios, %d conditions, %d markers)\n",
                       argv[i], p->name, p->version, p->kit[0] ? p->kit : "-", p->n_analytes, p->n_ratios,
                       p->n_conds, p->n_slots);
            ns_panel_free(p);
        } else {
            ns_panel_errs_print(stderr, "neoscreen config", argv[i], NULL, &e);
            ns_error("config", "%s: %d problem%s", argv[i], e.n, e.n == 1 ? "" : "s");
            bad = 1;
        }
        ns_panel_errs_free(&e);
    }
    ns_panel_free(qc_panel);
    free(panel_path);
    return bad;
}
