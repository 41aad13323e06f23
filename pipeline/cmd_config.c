/* cmd_config.c — `neoscreen config check FILE...`: the geneticist's safety net.
 *
 * Loads each panel file exactly as `run` would and prints every problem as FILE:LINE:COL
 * with the offending line quoted (redis' config loader style).  Exit status 0 when every
 * file is clean, 1 otherwise; `run` refuses to start on a config that fails this check.
 */
#include <getopt.h>
#include <string.h>
#include "cmds.h"
#include "log.h"
#include "panel.h"

static void usage(FILE *fp)
{
    fprintf(fp,
"Usage: neoscreen config check FILE...\n"
"\n"
"Check panel configs (YAML) and report every problem as FILE:LINE:COL, the offending\n"
"line quoted after '>>>', and what is wrong: unknown keys, unknown analytes in ratios or\n"
"markers, borderline/critical limits on the wrong side of the cutoff, missing actions,\n"
"duplicate conditions, aliases that clash, YAML syntax errors...\n"
"\n"
"Options:\n"
"  -q, --quiet   print nothing for clean files\n"
"  -h, --help    this text\n"
"\n"
"Exit status: 0 every file is valid; 1 at least one problem (or a usage error).\n");
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
        { "quiet", no_argument, NULL, 'q' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
    int quiet = 0, ch;
    optind = 1;
    argc--, argv++;
    while ((ch = getopt_long(argc, argv, "qh", lopts, NULL)) >= 0) {
        if (ch == 'q') quiet = 1;
        else if (ch == 'h') { usage(stdout); return 0; }
        else { usage(stderr); return 1; }
    }
    if (optind >= argc) { usage(stdout); return 1; }
    int bad = 0;
    for (int i = optind; i < argc; i++) {
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
    return bad;
}
