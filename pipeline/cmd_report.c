/* cmd_report.c — `neoscreen report`: the batch report rebuilt from archives.
 *
 * The page `run` writes as report.html, made again from batch.h5 alone (no plate CSVs, no
 * manifest): the last archive named is the night, the ones before it are earlier nights
 * (Levey-Jennings history and the recent average of recalls), oldest first.  Given the
 * archives `run` read as its --history, the page is byte-identical to run's report.html
 * (report.h).  The archive holds no personal data, so a page with names needs the
 * manifest (--with-names -m FILE), and is then written mode 0600.
 *
 * The page's last section, the follow-up ledger's indicators, comes from the ledger
 * (--ledger FILE, opened read-only: never created, never migrated) as it stands now: with
 * the ledger as it was when `run` wrote its page and the same NS_NOW (summary.json
 * ledger.indicators_as_of), the page is byte-identical to run's.  --no-ledger writes the
 * section of `run --no-ledger`; with neither, the page has no such section.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "cmds.h"
#include "ingest.h"
#include "lang.h"
#include "ledger.h"
#include "log.h"
#include "report.h"
#include "util.h"

#define DEFAULT_LANG "configs/lang.yaml"

static void usage(FILE *fp)
{
    fprintf(fp,
"Usage: neoscreen report [options] -o OUT ARCHIVE...\n"
"\n"
"Rebuild the batch report (report.html, as `neoscreen run` writes it) from batch.h5\n"
"archives, without the plate CSVs.  The LAST archive is the night reported; the ones\n"
"before it are earlier nights, oldest first: their controls extend the Levey-Jennings\n"
"charts and their recalls per condition give the recent average.  Given the archives\n"
"that `run --history` read (its messages and summary.json name them), the page is\n"
"byte-identical to that run's report.html.  Parts an older archive did not record (the\n"
"QC results, the recall list, the hearing refer counts) are shown as not recorded.\n"
"\n"
"With --ledger FILE the page ends, as run's does, with the follow-up ledger's programme\n"
"indicators for the calendar month and quarter that hold the night (as 'neoscreen\n"
"followup stats' computes them), as of the ledger's now: $NS_NOW, else the local time.\n"
"Given the ledger as it stood when run wrote its page and NS_NOW set to that run's\n"
"summary.json ledger.indicators_as_of, the page is byte-identical to run's.  A night the\n"
"ledger does not hold gets a section saying so.  Without --ledger (or --no-ledger) the\n"
"page has no indicators section.\n"
"\n"
"Options:\n"
"  -o, --out OUT        a directory (OUT/report.html is written; created if missing) or a\n"
"                       file name ending in .html [required]\n"
"  -L, --lang CODE      language of the labels: en or zh [the translation table's default]\n"
"      --lang-file FILE translation table [$NEOSCREEN_LANG_FILE, else configs/lang.yaml]\n"
"      --with-names     put the mothers' names of the babies on the list into the page,\n"
"                       for internal use: needs -m (archives hold no names); the file\n"
"                       is then mode 0600\n"
"  -m, --manifest FILE  the night's sample manifest, for --with-names\n"
"      --ledger FILE    the follow-up ledger (SQLite), opened read-only: never created,\n"
"                       never migrated; a missing, damaged, locked or foreign file is an\n"
"                       error naming it\n"
"      --no-ledger      end the page as `run --no-ledger` does (a section saying that the\n"
"                       run kept no ledger)\n"
"  -t, --threads N      threads for decompressing archive chunks [all cores]\n"
"  -v, --verbosity N    0 errors only, 1 progress (default), 2 details\n"
"  -h, --help           this text\n"
"\n"
"Exit status: 0 written; 1 usage, translation table, archive or ledger error (nothing\n"
"written); 16 the page could not be written.\n");
}

int ns_cmd_report(int argc, char **argv)
{
    static const struct option lopts[] = {
        { "out", required_argument, NULL, 'o' },
        { "lang", required_argument, NULL, 'L' },
        { "lang-file", required_argument, NULL, 'F' },
        { "with-names", no_argument, NULL, 'N' },
        { "manifest", required_argument, NULL, 'm' },
        { "ledger", required_argument, NULL, 'D' },
        { "no-ledger", no_argument, NULL, 'X' },
        { "threads", required_argument, NULL, 't' },
        { "verbosity", required_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    const char *out = NULL, *lang_code = NULL, *lang_file = NULL, *manifest = NULL, *ledger = NULL;
    int names = 0, threads = 0, no_ledger = 0, ch;
    if (argc == 1) { usage(stdout); return 1; }
    optind = 1;
    while ((ch = getopt_long(argc, argv, "o:L:m:t:v:h", lopts, NULL)) >= 0) {
        switch (ch) {
        case 'o': out = optarg; break;
        case 'L': lang_code = optarg; break;
        case 'F': lang_file = optarg; break;
        case 'N': names = 1; break;
        case 'm': manifest = optarg; break;
        case 'D': ledger = optarg; break;
        case 'X': no_ledger = 1; break;
        case 't': threads = atoi(optarg);
            if (threads < 1) { ns_error("report", "--threads must be a positive number, not '%s'", optarg); return 1; }
            break;
        case 'v': ns_verbosity = atoi(optarg); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 1;
        }
    }
    if (optind >= argc) { ns_error("report", "no archive given (see 'neoscreen report --help')"); return 1; }
    if (!out) { ns_error("report", "no output: give -o DIR or -o FILE.html"); return 1; }
    if (names && !manifest) {
        ns_error("report", "--with-names needs the night's manifest (-m FILE): archives hold no names");
        return 1;
    }
    if (manifest && !names) ns_error("report", "-m given without --with-names: the manifest is not used");
    if (ledger && no_ledger) {
        ns_error("report", "--ledger and --no-ledger together: give one");
        return 1;
    }
#ifdef _OPENMP
    if (threads > 0) omp_set_num_threads(threads);
#endif
    ns_clock_start();

    int status = 1;
    ns_report_t r;
    ns_report_init(&r);
    ns_manifest_t m;
    memset(&m, 0, sizeof m);
    int have_m = 0;
    char *path = NULL;
    ns_rpt_ind_t ind;
    ns_rpt_ind_init(&ind, NS_RPT_IND_DISABLED);
    ns_panel_errs_t e;
    memset(&e, 0, sizeof e);
    char *lpath = ns_config_path(lang_file, "NEOSCREEN_LANG_FILE", DEFAULT_LANG);
    ns_lang_t *L = ns_lang_load(lpath, lang_code, &e);
    if (!L) {
        ns_panel_errs_print(stderr, "neoscreen report", lpath, NULL, &e);
        ns_error("report", "%s: %d problem%s in the translation table; nothing written", lpath, e.n, e.n == 1 ? "" : "s");
        goto done;
    }
    if (ns_report_check_lang(L, "report", lpath) < 0) goto done;

    const int n_arc = argc - optind;
    char *const *arcs = argv + optind;
    /* the same file twice would count a night as its own history */
    for (int i = 0; i < n_arc; i++)
        for (int j = i + 1; j < n_arc; j++) {
            struct stat a, b;
            if (stat(arcs[i], &a) == 0 && stat(arcs[j], &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
                ns_error("report", "%s and %s are the same file: a night is given once (the last archive is the night, "
                         "the ones before it earlier nights); nothing written", arcs[i], arcs[j]);
                goto done;
            }
        }
    if (ns_report_from_archive(&r, "report", arcs[n_arc - 1]) < 0) {
        ns_error("report", "%s: cannot build the report; nothing written", arcs[n_arc - 1]);
        goto done;
    }
    if (n_arc > 1 && ns_report_add_history(&r, "report", arcs, n_arc - 1) < 0) {
        ns_error("report", "an earlier night's archive could not be read; nothing written");
        goto done;
    }
    if (names) {
        ns_ingest_manifest(&m, manifest);
        have_m = 1;
        /* row messages may quote columns, never names; the count is enough here */
        if (!m.ok) {
            ns_error("report", "%s: manifest unusable; nothing written", manifest);
            goto done;
        }
        if (m.n_rejected)
            ns_error("report", "%s: %lld manifest rows rejected (their babies show no name)", manifest,
                     (long long)m.n_rejected);
        ns_report_set_names(&r, &m);
    }
    if (ledger) {
        char now[24], err[512];
        if (ns_ledger_now(now) < 0) {
            ns_error("report", "NS_NOW is set but is not a time YYYY-MM-DDTHH:MM[:SS]; nothing written");
            goto done;
        }
        if (ns_rpt_ind_load(&ind, ledger, r.night, now, err, sizeof err) < 0) {
            ns_error("report", "follow-up ledger: %s; nothing written", err);
            goto done;
        }
        if (ind.status == NS_RPT_IND_NOT_RECORDED)
            ns_error("report", "%s: night %s is not recorded in this ledger: the page says so, with no indicators",
                     ledger, r.night);
    }
    if (ledger || no_ledger) r.ind = &ind;

    /* OUT: a .html file, else a directory */
    size_t ol = strlen(out);
    struct stat st;
    int is_file = ol > 5 && strcmp(out + ol - 5, ".html") == 0 && !(stat(out, &st) == 0 && S_ISDIR(st.st_mode));
    if (is_file) {
        path = ns_strdup(out);
    } else {
        if (ns_mkdir_p(out) < 0) {
            ns_error_errno("report", "cannot make output directory %s", out);
            status = 16;
            goto done;
        }
        path = ns_asprintf("%s/report.html", out);
    }
    status = ns_report_write(path, &r, L, "report") < 0 ? 16 : 0;
    if (status == 0)
        ns_info(1, "report", "%s: night %s, %d earlier night%s, %s", path, r.night, r.n_hist, r.n_hist == 1 ? "" : "s",
                ns_lang_code(L));
done:
    if (have_m) ns_manifest_free(&m);
    ns_report_free(&r);
    ns_rpt_ind_free(&ind);
    ns_panel_errs_free(&e);
    ns_lang_free(L);
    free(lpath);
    free(path);
    return status;
}
