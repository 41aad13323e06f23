/* bench_naive.c — how fast this machine parses CSV the naive way (`make bench`; never part
 * of `make test`): the yardstick for issue 6's ingest targets, measured in the same run.
 *
 * ../shared/BUILD-NOTES.md §6 measured "naive C (memchr + strtod, mmap, 1 thread)" at
 * 211 MiB/s (best of 5) on a 1 GiB CSV of 3 text and 4 float columns, about 49 bytes a
 * row, on the machine kind the targets were set on; the 400 MiB/s a thread asked of the
 * plate reader is about twice that.  The VMs this project runs on differ from one session
 * to the next (BENCHMARKS.md "Machine"), so the bench measures the same naive parser here:
 *
 *   ref      a file of that shape (-m MiB of it, written to $TMPDIR and read once before
 *            timing, so that it is in the page cache as BUILD-NOTES' was), each line split
 *            at its commas by memchr and each float column read by strtod (-m 0: not run)
 *   plates   the same parser over every plate CSV of -d DIR (each file opened and mapped
 *            as the reader opens each one): strtod for every field after the first four
 *            (plate_id, well, sample_id, sample_type), the header line skipped
 *
 * Both on one thread; the values are summed so that nothing is optimised away.  Prints one
 * JSON object per line (read by scripts/bench.sh, which runs `-m 0 -r 1 -d` right after
 * each of its 1-thread plate-reader runs, so that the two are timed at the same moment of
 * a VM whose speed moves by a third within minutes, and the file alone at the end).
 *
 *   bench_naive [-r REPS] [-m MIB] [-d PLATE_DIR]    (defaults 5 reps, 256 MiB, no plates)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The lines of p[0, n): fields split by memchr, strtod on fields first_num, first_num + 1,
 * ... of each line; the sum of the values read; *rows, the lines. */
static double parse_naive(const char *p, size_t n, int first_num, int skip_header, long *rows)
{
    const char *end = p + n, *line = p;
    double sum = 0;
    long nr = 0;
    if (skip_header) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        line = nl ? nl + 1 : end;
    }
    while (line < end) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        const char *le = nl ? nl : end;
        const char *f = line;
        for (int k = 0; f <= le; k++) {
            const char *c = memchr(f, ',', (size_t)(le - f));
            const char *fe = c ? c : le;
            if (k >= first_num && fe > f) {
                /* strtod stops at the comma or the line end: the bytes after a field are
                 * never digits of it.  A last field with no line end after it is copied
                 * first: strtod must not read past the mapping */
                char *stop, tail[64];
                if (fe == end) {
                    const size_t l = (size_t)(fe - f) < sizeof tail - 1 ? (size_t)(fe - f) : sizeof tail - 1;
                    memcpy(tail, f, l);
                    tail[l] = 0;
                    sum += strtod(tail, &stop);
                } else
                    sum += strtod(f, &stop);
            }
            f = fe + 1;
        }
        nr++;
        line = le + 1;
    }
    *rows = nr;
    return sum;
}

/* The reference file: 3 text and 4 float columns, about 49 bytes a row, `bytes` of it
 * (a fixed generator: the same file in every run). */
static int write_ref(const char *path, size_t bytes)
{
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    static const char *const site[] = { "north", "east", "south", "west", "centre", "coast", "hills", "lakes" };
    static const char *const flag[] = { "ok", "late", "redo", "hold" };
    uint64_t s = 0x9E3779B97F4A7C15ull;
    size_t out = 0;
    for (long i = 0; out < bytes; i++) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        const double a = (double)(s % 100000) / 100.0, b = (double)((s >> 17) % 10000) / 1e4,
                     c = (double)((s >> 31) % 1000000) / 10.0, d = (double)((s >> 47) % 100000) / 1e3;
        int w = fprintf(f, "S%09ld,%s,%s,%.2f,%.4f,%.1f,%.3f\n", i, site[s % 8], flag[(s >> 5) % 4], a, b, c, d);
        if (w < 0) { fclose(f); return -1; }
        out += (size_t)w;
    }
    /* on disk before timing: writeback running beside the parser slowed it by up to 40 % */
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) { fclose(f); return -1; }
    return fclose(f);
}

/* the file mapped (NULL for an empty or unreadable file) */
static char *map_file(const char *path, size_t *n)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) return NULL;
    struct stat st;
    char *p = NULL;
    if (fstat(fd, &st) == 0 && st.st_size > 0) {
        p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) p = NULL;
        else *n = (size_t)st.st_size;
    }
    close(fd);
    return p;
}

static void report(const char *w, double *t, int reps, double bytes, long rows, double sum, const char *extra)
{
    qsort(t, (size_t)reps, sizeof *t, cmp_d);
    const double med = reps % 2 ? t[reps / 2] : 0.5 * (t[reps / 2 - 1] + t[reps / 2]);
    printf("{\"workload\": \"%s\", \"threads\": 1, \"bytes\": %.0f, \"rows\": %ld, \"reps\": %d, \"median_s\": %.6f, "
           "\"min_s\": %.6f, \"max_s\": %.6f, \"mib_s\": %.1f, \"best_mib_s\": %.1f, \"checksum\": %.6g%s}\n",
           w, bytes, rows, reps, med, t[0], t[reps - 1], bytes / med / 1048576.0, bytes / t[0] / 1048576.0, sum, extra);
    fflush(stdout);
}

static int bench_ref(size_t mib, int reps)
{
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char path[4096];
    snprintf(path, sizeof path, "%s/bench_naive.%ld.csv", tmp, (long)getpid());
    if (write_ref(path, mib << 20) != 0) {
        fprintf(stderr, "bench_naive: cannot write %s: %s\n", path, strerror(errno));
        unlink(path);
        return -1;
    }
    size_t n = 0;
    char *p = map_file(path, &n);
    unlink(path);                   /* the mapping keeps it until munmap */
    if (!p) { fprintf(stderr, "bench_naive: cannot map %s\n", path); return -1; }
    long rows = 0;
    double sum = parse_naive(p, n, 3, 0, &rows);          /* once before timing: in the page cache */
    double *t = malloc((size_t)reps * sizeof *t);
    for (int r = 0; r < reps; r++) {
        const double t0 = now();
        sum = parse_naive(p, n, 3, 0, &rows);
        t[r] = now() - t0;
    }
    char extra[160];
    snprintf(extra, sizeof extra, ", \"row_bytes\": %.1f, \"reference_mib_s\": 211", (double)n / (double)rows);
    report("naive_strtod_ref", t, reps, (double)n, rows, sum, extra);
    free(t);
    munmap(p, n);
    return 0;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int bench_plates(const char *dir, int reps)
{
    DIR *d = opendir(dir);
    if (!d) { fprintf(stderr, "bench_naive: %s: %s\n", dir, strerror(errno)); return -1; }
    char **names = NULL;
    size_t nn = 0, cap = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 4, ".csv") != 0) continue;
        if (nn == cap) names = realloc(names, (cap = cap ? 2 * cap : 1024) * sizeof *names);
        names[nn] = malloc(strlen(dir) + l + 2);
        sprintf(names[nn++], "%s/%s", dir, e->d_name);
    }
    closedir(d);
    if (!nn) { fprintf(stderr, "bench_naive: no .csv in %s\n", dir); free(names); return -1; }
    qsort(names, nn, sizeof *names, by_name);
    double *t = malloc((size_t)reps * sizeof *t), sum = 0, bytes = 0;
    long rows = 0;
    size_t unread = 0;
    for (int r = -1; r < reps; r++) {             /* r = -1: once before timing */
        const double t0 = now();
        sum = 0;
        bytes = 0;
        rows = 0;
        unread = 0;
        for (size_t i = 0; i < nn; i++) {
            size_t n = 0;
            char *p = map_file(names[i], &n);
            if (!p) { unread++; continue; }
            long fr = 0;
            sum += parse_naive(p, n, 4, 1, &fr);
            rows += fr;
            bytes += (double)n;
            munmap(p, n);
        }
        if (r >= 0) t[r] = now() - t0;
    }
    if (unread) fprintf(stderr, "bench_naive: %zu of %zu files in %s empty or unreadable (not timed)\n", unread, nn, dir);
    char extra[64];
    snprintf(extra, sizeof extra, ", \"files\": %zu", nn - unread);
    report("naive_strtod_plates", t, reps, bytes, rows, sum, extra);
    for (size_t i = 0; i < nn; i++) free(names[i]);
    free(names);
    free(t);
    return 0;
}

int main(int argc, char **argv)
{
    int reps = 5, c;
    long mib = 256;
    const char *dir = NULL;
    static const struct option lopts[] = {
        { "reps", required_argument, NULL, 'r' }, { "mib", required_argument, NULL, 'm' },
        { "plates", required_argument, NULL, 'd' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 }
    };
    while ((c = getopt_long(argc, argv, "r:m:d:h", lopts, NULL)) != -1) {
        switch (c) {
        case 'r': reps = atoi(optarg); break;
        case 'm': mib = atol(optarg); break;
        case 'd': dir = optarg; break;
        case 'h':
            printf("Usage: bench_naive [options]\n\n"
                   "Naive CSV parsing as ../shared/BUILD-NOTES.md section 6 measured it (memchr + strtod,\n"
                   "mmap, 1 thread; 211 MiB/s best of 5 on the machine issue 6's targets were set on):\n"
                   "on a file of its shape (3 text and 4 float columns, 50 bytes a row, written to\n"
                   "$TMPDIR and synced first), and on the plate CSVs of a night.  One JSON object per\n"
                   "line on stdout (scripts/bench.sh reads them); never part of make test.\n\n"
                   "  -r, --reps N      timed passes over each input; median, best and spread (5)\n"
                   "  -m, --mib N       MiB of the reference-shaped file (256; 0: not run)\n"
                   "  -d, --plates DIR  a night's plates/ directory: strtod on every field after the\n"
                   "                    first four of each row, the header skipped (default: not run)\n"
                   "  -h, --help        this text\n");
            return 0;
        default:
            fprintf(stderr, "usage: bench_naive [-r REPS] [-m MIB] [-d PLATE_DIR] (--help)\n");
            return 2;
        }
    }
    if (reps < 1 || mib < 0) { fprintf(stderr, "bench_naive: -r must be at least 1, -m at least 0\n"); return 2; }
    int bad = mib > 0 && bench_ref((size_t)mib, reps) != 0;
    if (dir) bad |= bench_plates(dir, reps) != 0;
    return bad;
}
