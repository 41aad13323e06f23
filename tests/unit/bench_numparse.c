/* bench_numparse.c — how fast plate cells parse: strtod against ns_parse_decimal, and the
 * old (strtod) ns_parse_cell against the new one.  Not a test: `make bench-parse`.
 *
 * The cells imitate an MS/MS export: values over six decades printed with four significant
 * digits ("%.4g": "49.1", "0.139", "1.07", "0.0213", "1742"), a few "<0.05" and "ND".  A
 * pool of 64k cells is parsed over and over up to the requested count; each figure is the
 * best of several repetitions (the machine is shared).  The sums of the parsed values must
 * agree bit for bit, or the run fails.
 *
 * Usage: bench_numparse [CELLS [REPS]]   (default 50000000 cells, best of 3) */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../../pipeline/batch.h"
#include "../../pipeline/ingest.h"
#include "../../pipeline/numparse.h"
#include "../../pipeline/util.h"
#include "ref_parse_cell.h"

#define POOL 65536

static const char *cell[POOL];
static size_t cell_len[POOL];
static size_t pool_bytes;

static uint64_t rng_state = 42;
static uint64_t rnd(void)   /* splitmix64 */
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static double uniform(void) { return (double)(rnd() >> 11) * 0x1p-53; }

static void make_pool(void)
{
    char b[32];
    for (int i = 0; i < POOL; i++) {
        double u = uniform();
        if (u < 0.005) strcpy(b, "<0.05");
        else if (u < 0.007) strcpy(b, "ND");
        else snprintf(b, sizeof b, "%.4g", exp(log(0.005) + uniform() * (log(2000.0) - log(0.005))));
        cell[i] = ns_strdup(b);
        cell_len[i] = strlen(b);
        pool_bytes += cell_len[i];
    }
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

enum { M_STRTOD, M_DECIMAL, M_CELL_OLD, M_CELL_NEW, M_N };
static const char *method_name[M_N] = {
    "strtod (whole cell)", "ns_parse_decimal", "ns_parse_cell, old (strtod)", "ns_parse_cell, new",
};

/* parse n cells with method m; returns the sum of the values, as a check */
static double run(int m, int64_t n)
{
    double sum = 0;
    for (int64_t done = 0; done < n;) {
        int64_t k = n - done < POOL ? n - done : POOL;
        for (int64_t i = 0; i < k; i++) {
            const char *s = cell[i];
            double v = 0;
            uint8_t kind;
            char *end;
            switch (m) {
            case M_STRTOD:   /* "<0.05" and "ND" fail here; count them as 0 */
                v = strtod(s, &end);
                if (*end) v = 0;
                break;
            case M_DECIMAL:
                if (ns_parse_decimal(s, cell_len[i], &v) != 0) v = 0;
                break;
            case M_CELL_OLD:
                if (ref_parse_cell(s, &v, &kind) != 0) v = -1;
                break;
            case M_CELL_NEW:
                if (ns_parse_cell(s, &v, &kind) != 0) v = -1;
                break;
            }
            sum += v;
        }
        done += k;
    }
    return sum;
}

int main(int argc, char **argv)
{
    int64_t n = argc > 1 ? atoll(argv[1]) : 50000000;
    int reps = argc > 2 ? atoi(argv[2]) : 3;
    if (n < 1 || reps < 1) {
        fprintf(stderr, "Usage: bench_numparse [CELLS [REPS]]\n");
        return 1;
    }
    make_pool();
    double bytes = (double)pool_bytes / POOL * (double)n;
    printf("%lld cells (%.1f bytes each on average, %.0f MiB), best of %d\n", (long long)n,
           (double)pool_bytes / POOL, bytes / 1048576.0, reps);
    double best[M_N], sum[M_N];
    for (int m = 0; m < M_N; m++) best[m] = INFINITY;
    for (int r = 0; r < reps; r++)
        for (int m = 0; m < M_N; m++) {   /* interleaved, so a busy spell hits all alike */
            double t0 = now();
            sum[m] = run(m, n);
            double t = now() - t0;
            if (t < best[m]) best[m] = t;
        }
    for (int m = 0; m < M_N; m++)
        printf("  %-28s %7.2f ns/cell  %8.1f MiB/s\n", method_name[m], best[m] * 1e9 / (double)n,
               bytes / 1048576.0 / best[m]);
    printf("  speed-up: ns_parse_decimal %.1fx strtod; ns_parse_cell %.1fx the old one\n",
           best[M_STRTOD] / best[M_DECIMAL], best[M_CELL_OLD] / best[M_CELL_NEW]);
    if (memcmp(&sum[M_STRTOD], &sum[M_DECIMAL], sizeof(double)) ||
        memcmp(&sum[M_CELL_OLD], &sum[M_CELL_NEW], sizeof(double))) {
        fprintf(stderr, "bench_numparse: the parsers disagree (sums %.17g %.17g, %.17g %.17g)\n",
                sum[M_STRTOD], sum[M_DECIMAL], sum[M_CELL_OLD], sum[M_CELL_NEW]);
        return 1;
    }
    return 0;
}
