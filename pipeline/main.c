/* main.c — the neoscreen front door: a table of subcommands, grouped help, `help CMD`.
 *
 * Each subcommand lives in its own cmd_*.c file and returns the process exit status.  After
 * it returns, stdout is closed and checked so that a delayed write error (disk full on a
 * redirected report) is a failure, not a silently short file (samtools' bamtk.c does the
 * same).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "cmds.h"
#include "version.h"

typedef int (*ns_cmd_fn)(int argc, char **argv);

static const struct {
    const char *name, *group, *summary;
    ns_cmd_fn fn;
} cmds[] = {
    { "run",      "Batch",  "process one night of plates: recall list, HDF5 archive, summary", ns_cmd_run },
    { "report",   "Batch",  "rebuild the batch report (report.html) from batch.h5 archives", ns_cmd_report },
    { "simulate", "Data",   "write a synthetic night (plates, manifest, truth) for tests and demos", ns_cmd_simulate },
    { "rescore",  "Cutoffs", "apply a candidate panel to archived nights: gained, lost, sensitivity", ns_cmd_rescore },
    { "cutoffs",  "Cutoffs", "derive percentile cutoffs per stratum from archives (cutoffs derive)", ns_cmd_cutoffs },
    { "followup", "Follow-up", "the follow-up ledger: list, record, import, stats, export-outcomes", ns_cmd_followup },
    { "config",   "Config", "check a panel config (config check FILE)", ns_cmd_config },
    { "version",  "Misc",   "print version and build information", ns_cmd_version },
};
#define N_CMDS (int)(sizeof cmds / sizeof cmds[0])

static void usage(FILE *fp)
{
    static const char *groups[] = { "Batch", "Follow-up", "Cutoffs", "Config", "Data", "Misc" };
    fprintf(fp,
            "\nProgram: neoscreen (newborn screening batch engine)\n"
            "Version: %s\n\n"
            "Usage:   neoscreen <command> [options]\n"
            "         neoscreen help <command>\n\n"
            "Commands:\n", NS_VERSION);
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        fprintf(fp, "  -- %s\n", groups[g]);
        for (int i = 0; i < N_CMDS; i++)
            if (strcmp(cmds[i].group, groups[g]) == 0)
                fprintf(fp, "     %-10s %s\n", cmds[i].name, cmds[i].summary);
    }
    fputc('\n', fp);
}

int main(int argc, char **argv)
{
    static char help_opt[] = "--help", version_cmd[] = "version";
    static char *hv[4];
    if (argc < 2) { usage(stdout); return 1; }
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0
        || strcmp(argv[1], "-h") == 0) {
        if (argc < 3) { usage(stdout); return 0; }
        /* "neoscreen help CMD" is "neoscreen CMD --help" */
        hv[0] = argv[0];
        hv[1] = argv[2];
        hv[2] = help_opt;
        hv[3] = NULL;
        argc = 3;
        argv = hv;
    }
    if (strcmp(argv[1], "--version") == 0) argv[1] = version_cmd;

    int ret = -1;
    for (int i = 0; i < N_CMDS; i++)
        if (strcmp(argv[1], cmds[i].name) == 0) { ret = cmds[i].fn(argc - 1, argv + 1); break; }
    if (ret < 0) {
        fprintf(stderr, "neoscreen: unknown command '%s' (see 'neoscreen help')\n", argv[1]);
        return 1;
    }
    if (fclose(stdout) != 0 && errno != EBADF) {
        fprintf(stderr, "neoscreen %s: closing standard output: %s\n", argv[1], strerror(errno));
        return ret ? ret : 1;
    }
    return ret;
}
