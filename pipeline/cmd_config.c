/* cmd_config.c — `neoscreen config check FILE...`: the geneticist's and the lab's safety net.
 *
 * Loads each config exactly as `run` would and prints every problem as FILE:LINE:COL
 * with the offending line quoted (redis' config loader style).  A file whose top-level
 * key is `qc` is a QC materials file (plate map, control lots, rules) and is checked
 * against a panel, since its analyte names and well names only mean something there; a
 * file with a top-level `languages` or `text` key is a translation table (lang.h); a file
 * whose top-level key is `hearing` is a hearing protocol (hearing.h), `genes` a
 * deafness-gene plate config (genes.h), and a file with `population` but no panel sections
 * a population fragment (panel.h, ns_population_load()), checked against a panel like QC
 * files; any other file is checked as a panel.  Exit
 * status 0 when every file is clean, 1
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
#include "hearing.h"
#include "log.h"
#include "panel.h"
#include "lang.h"
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
"quoted after '>>>', and what is wrong.  Six kinds of file:\n"
"\n"
"  panel    analytes, ratios, conditions (configs/panel-default.yaml): unknown\n"
"           keys, unknown analytes in ratios or markers, borderline/critical limits\n"
"           on the wrong side of the cutoff, missing actions, duplicate conditions,\n"
"           aliases that clash, YAML syntax errors; score: blocks, disease\n"
"           medians and an inline population: that do not fit together...\n"
"  QC       a file whose top-level key is 'qc:' (configs/qc.yaml): plate map,\n"
"           Westgard rules, control lots and targets.  Checked against a panel\n"
"           (--panel) for analyte names and plate size: wells not on the plate or\n"
"           listed twice, unknown rules or analytes, SD <= 0, missing levels...\n"
"  hearing  a file whose top-level key is 'hearing:' (configs/hearing.yaml): the\n"
"           hearing protocol: unknown facts or values in 'when', duplicate rule\n"
"           ids, unknown actions or reasons, a reason its rule does not make true...\n"
"  lang     a file whose top level has 'languages:' and 'text:' (configs/lang.yaml):\n"
"           the translation table.  Every key needs a text in every listed\n"
"           language, with the same {placeholders} in each; unknown or repeated\n"
"           keys, a default language that is not listed, malformed placeholders...\n"
"  genes    a file whose top-level key is 'genes:' (configs/genes.yaml): deafness-\n"
"           gene loci, plate controls and rules: duplicate loci or rule ids, rules\n"
"           naming an unknown gene or class or matching no locus, unknown calls...\n"
"  population\n"
"           a file whose only top-level key is 'population:' (as written by\n"
"           `neoscreen cutoffs derive`): the screen-negative median and percentile\n"
"           limits per marker and group.  Checked against a panel (--panel): marker\n"
"           and stratum names, n, lower <= median <= upper, and the panel's score\n"
"           blocks (every scored marker has an 'all' or 'standard' entry; its\n"
"           disease median lies beyond the normal limit); a panel that already has a\n"
"           population: section is refused...\n"
"\n"
"Options:\n"
"  -p, --panel FILE   panel that QC files and population fragments are checked\n"
"                     against [$NEOSCREEN_CONFIG, else ./%s,\n"
"                     else the copy in the source tree]\n"
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

enum { KIND_PANEL = 0, KIND_QC, KIND_LANG, KIND_HEARING, KIND_GENES, KIND_POPULATION };

/* KIND_QC if path parses as YAML whose top level is a mapping with a key "qc",
 * KIND_HEARING with "hearing", KIND_GENES with "genes", KIND_LANG with "languages" or
 * "text", KIND_POPULATION with "population" and none of a panel's "panel", "analytes",
 * "conditions", else KIND_PANEL.  Anything else, including a file that cannot be read or
 * parsed, is left to the panel loader, which reports the problem. */
static int file_kind(const char *path)
{
    char *text;
    size_t len;
    if (ns_read_file(path, &text, &len) < 0) return 0;
    yaml_parser_t yp;
    yaml_document_t doc;
    int kind = KIND_PANEL, population = 0, panel = 0;
    yaml_parser_initialize(&yp);
    yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);
    if (yaml_parser_load(&yp, &doc)) {
        yaml_node_t *root = yaml_document_get_root_node(&doc);
        if (root && root->type == YAML_MAPPING_NODE) {
            for (yaml_node_pair_t *a = root->data.mapping.pairs.start; a < root->data.mapping.pairs.top; a++) {
                yaml_node_t *k = yaml_document_get_node(&doc, a->key);
                if (!k || k->type != YAML_SCALAR_NODE) continue;
                const char *ks = (const char *)k->data.scalar.value;
                if (strcmp(ks, "qc") == 0) kind = KIND_QC;
                else if (strcmp(ks, "hearing") == 0) kind = KIND_HEARING;
                else if (strcmp(ks, "genes") == 0) kind = KIND_GENES;
                else if ((strcmp(ks, "languages") == 0 || strcmp(ks, "text") == 0) && kind == KIND_PANEL)
                    kind = KIND_LANG;
                else if (strcmp(ks, "population") == 0) population = 1;
                else if (!strcmp(ks, "panel") || !strcmp(ks, "analytes") || !strcmp(ks, "conditions")) panel = 1;
            }
            if (kind == KIND_PANEL && population && !panel) kind = KIND_POPULATION;
        }
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&yp);
    free(text);
    return kind;
}

/* Print a file's problems (FILE:LINE:COL, the line quoted) and their count; 1. */
static int report(const char *path, const ns_panel_errs_t *e)
{
    ns_panel_errs_print(stderr, "neoscreen config", path, NULL, e);
    ns_error("config", "%s: %d problem%s", path, e->n, e->n == 1 ? "" : "s");
    return 1;
}

/* Check one translation table: the whole file is checked whatever the language. */
static int check_lang(const char *path, int quiet)
{
    ns_panel_errs_t e;
    ns_lang_t *l = ns_lang_load(path, NULL, &e);
    int bad = 0;
    if (l) {
        if (!quiet) {
            printf("%s: ok (lang: %d keys in ", path, ns_lang_n_keys(l));
            for (int i = 0; i < ns_lang_n_languages(l); i++)
                printf("%s%s", i ? ", " : "", ns_lang_language(l, i));
            printf("; default %s)\n", ns_lang_default(l));
        }
        ns_lang_free(l);
    } else bad = report(path, &e);
    ns_panel_errs_free(&e);
    return bad;
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
    } else bad = report(path, &e);
    ns_panel_errs_free(&e);
    return bad;
}

/* Check one population fragment against a fresh copy of the panel (attaching it changes the
 * panel, so each fragment gets its own). */
static int check_population(const char *path, const char *panel_path, int quiet)
{
    ns_panel_errs_t e;
    ns_panel_t *p = ns_panel_load(panel_path, &e);
    if (!p) {
        ns_panel_errs_print(stderr, "neoscreen config", panel_path, NULL, &e);
        ns_error("config", "%s: %d problem%s in the panel that population fragments are checked against",
                 panel_path, e.n, e.n == 1 ? "" : "s");
        ns_error("config", "%s: not checked: the panel %s did not load", path, panel_path);
        ns_panel_errs_free(&e);
        return 1;
    }
    ns_panel_errs_free(&e);
    int bad = 0;
    if (ns_population_load(p, path, &e) == 0) {
        if (!quiet) {
            int nm = 0, ne = 0;
            for (int m = 0; m < p->n_analytes + p->n_ratios; m++) {
                nm += p->pop.mpos[m].line > 0;
                for (int g = 0; g < NS_POP_GROUPS; g++) ne += p->pop.e[(size_t)m * NS_POP_GROUPS + g].n != 0;
            }
            printf("%s: ok (population for panel %s %s: %d markers, %d entries, percentiles %g / %g; "
                   "%d scored condition%s checked)\n", path, p->name, p->version, nm, ne, p->pop.lower_pct,
                   p->pop.upper_pct, p->n_scored, p->n_scored == 1 ? "" : "s");
        }
    } else bad = report(path, &e);
    ns_panel_errs_free(&e);
    ns_panel_free(p);
    return bad;
}

/* Check one hearing protocol. */
static int check_hearing(const char *path, int quiet)
{
    ns_panel_errs_t e;
    ns_hearing_config_t *h = ns_hearing_config_load(path, &e);
    int bad = 0;
    if (h) {
        if (!quiet)
            printf("%s: ok (hearing protocol %s: %d rules, NICU stay > %g days = AABR)\n", path,
                   h->name[0] ? h->name : "-", h->n_rules, h->nicu_aabr_days);
        ns_hearing_config_free(h);
    } else bad = report(path, &e);
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
    } else bad = report(path, &e);
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
        int kind = file_kind(argv[i]);
        if (kind == KIND_HEARING) {
            bad |= check_hearing(argv[i], quiet);
            continue;
        }
        if (kind == KIND_GENES) {
            bad |= check_genes(argv[i], quiet);
            continue;
        }
        if (kind == KIND_QC) {
            bad |= check_qc(argv[i], panel_path, &qc_panel, &panel_tried, quiet);
            continue;
        }
        if (kind == KIND_LANG) {
            bad |= check_lang(argv[i], quiet);
            continue;
        }
        if (kind == KIND_POPULATION) {
            bad |= check_population(argv[i], panel_path, quiet);
            continue;
        }
        ns_panel_errs_t e;
        ns_panel_t *p = ns_panel_load(argv[i], &e);
        if (p) {
            if (!quiet) {
                printf("%s: ok (panel %s %s, kit %s: %d analytes, %d ratios, %d conditions, %d markers",
                       argv[i], p->name, p->version, p->kit[0] ? p->kit : "-", p->n_analytes, p->n_ratios,
                       p->n_conds, p->n_slots);
                /* scores without a population only run once a fragment is attached */
                if (p->n_scored)
                    printf("; %d scored condition%s%s", p->n_scored, p->n_scored == 1 ? "" : "s",
                           p->pop.present ? "" : ", no population: attach a population fragment to run them");
                printf(")\n");
            }
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
