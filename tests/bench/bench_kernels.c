/* bench_kernels.c — the screening kernels alone, on in-memory columns, against the memory
 * bandwidth of this machine measured the same way (`make bench`; never part of `make test`).
 *
 * Builds N synthetic patient rows for the default panel's analytes (log-normal values, no
 * file I/O, no manifest), then times the three kernel stages of ns_batch_score on them:
 * ratio columns (ns_ratio_compute), one flag column per (condition, marker) slot
 * (ns_cutoff_flag, base limits) and one call column per condition (ns_call_condition).
 * Bytes moved are counted as the columns each stage reads and writes once.  The physical
 * limit is a read-only sum and a copy loop over arrays far larger than the caches, at the
 * same thread counts.  Prints one JSON object per line (read by scripts/bench.sh).
 *
 *   bench_kernels [-n ROWS] [-r REPS] [-p PANEL]    (defaults 2,000,000 rows, 5 reps)
 */
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <getopt.h>
#include <unistd.h>
#include "../../kernels/ns_kernels.h"
#include "../../pipeline/panel.h"

static double now(void) { return omp_get_wtime(); }

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* median and spread (min, max) of r repetitions */
static void summary(double *t, int r, double *med, double *lo, double *hi)
{
    qsort(t, (size_t)r, sizeof *t, cmp_d);
    *med = r % 2 ? t[r / 2] : 0.5 * (t[r / 2 - 1] + t[r / 2]);
    *lo = t[0];
    *hi = t[r - 1];
}

/* memory bandwidth: read-only sum and copy over arrays of `bytes` each */
static void bandwidth(size_t bytes, int reps, int threads)
{
    size_t n = bytes / sizeof(double);
    double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    #pragma omp parallel for num_threads(threads) schedule(static)
    for (size_t i = 0; i < n; i++) { a[i] = (double)(i & 1023); b[i] = 0; }
    double *tr = malloc((size_t)reps * sizeof *tr), *tc = malloc((size_t)reps * sizeof *tc);
    volatile double sink = 0;
    for (int r = 0; r < reps; r++) {
        double t0 = now(), s = 0;
        /* four independent sums: one chain of dependent adds would measure the adder's
         * latency, not the memory */
        #pragma omp parallel for num_threads(threads) schedule(static) reduction(+:s)
        for (size_t i = 0; i < n; i += 8) {
            double s0 = a[i] + a[i + 4], s1 = a[i + 1] + a[i + 5], s2 = a[i + 2] + a[i + 6], s3 = a[i + 3] + a[i + 7];
            s += (s0 + s1) + (s2 + s3);
        }
        tr[r] = now() - t0;
        sink += s;
        t0 = now();
        #pragma omp parallel for num_threads(threads) schedule(static)
        for (size_t i = 0; i < n; i++) b[i] = a[i];
        tc[r] = now() - t0;
    }
    double m, lo, hi;
    summary(tr, reps, &m, &lo, &hi);
    printf("{\"workload\": \"memory_read\", \"threads\": %d, \"bytes\": %zu, \"median_s\": %.6f, \"min_s\": %.6f, "
           "\"max_s\": %.6f, \"gib_s\": %.2f}\n", threads, bytes, m, lo, hi, bytes / m / 1073741824.0);
    summary(tc, reps, &m, &lo, &hi);
    printf("{\"workload\": \"memory_copy\", \"threads\": %d, \"bytes\": %zu, \"median_s\": %.6f, \"min_s\": %.6f, "
           "\"max_s\": %.6f, \"gib_s\": %.2f}\n", threads, 2 * bytes, m, lo, hi, 2 * bytes / m / 1073741824.0);
    (void)sink;
    free(a); free(b); free(tr); free(tc);
}

typedef struct {
    const ns_panel_t *p;
    size_t un;
    double *conc, *ratio;
    uint8_t *abound, *rbound, *flag, *call;
} cols_t;

/* The three kernel stages of ns_batch_score on rows [i0, i0 + m); returns the bytes the
 * stages read and write (each column touched counted once). */
static size_t stages(const cols_t *c, size_t i0, size_t m)
{
    const ns_panel_t *p = c->p;
    const size_t un = c->un, na = (size_t)p->n_analytes, nr = (size_t)p->n_ratios;
    size_t bytes = 0;
    for (size_t x = 0; x < nr; x++) {
        const ns_ratio_t *q = &p->ratios[x];
        const double *num[NS_RATIO_MAX_TERMS], *den[NS_RATIO_MAX_TERMS];
        const uint8_t *nb[NS_RATIO_MAX_TERMS], *db[NS_RATIO_MAX_TERMS];
        for (int k = 0; k < q->n_num; k++) { num[k] = c->conc + (size_t)q->num[k] * un + i0; nb[k] = c->abound + (size_t)q->num[k] * un + i0; }
        for (int k = 0; k < q->n_den; k++) { den[k] = c->conc + (size_t)q->den[k] * un + i0; db[k] = c->abound + (size_t)q->den[k] * un + i0; }
        ns_ratio_compute(num, nb, q->n_num, den, db, q->n_den, c->ratio + x * un + i0, c->rbound + x * un + i0, (ptrdiff_t)m);
        bytes += m * ((size_t)(q->n_num + q->n_den) * 9 + 9);
    }
    for (int s = 0; s < p->n_slots; s++) {
        const ns_marker_t *mk = &p->conds[p->slot_cond[s]].markers[p->slot_marker[s]];
        size_t mm = (size_t)mk->marker;
        const double *x = mm < na ? c->conc + mm * un : c->ratio + (mm - na) * un;
        const uint8_t *b = mm < na ? c->abound + mm * un : c->rbound + (mm - na) * un;
        ns_cutoff_flag(x + i0, b + i0, NULL, &mk->thr, 1, c->flag + (size_t)s * un + i0, (ptrdiff_t)m);
        bytes += m * 10;
    }
    for (int k = 0, s0 = 0; k < p->n_conds; k++) {
        const ns_condition_t *cd = &p->conds[k];
        const uint8_t *fl[64];
        int role[64];
        for (int j = 0; j < cd->n_markers; j++) { fl[j] = c->flag + (size_t)(s0 + j) * un + i0; role[j] = cd->markers[j].role; }
        ns_call_condition(fl, role, cd->n_markers, cd->rule, cd->require_secondary, c->call + (size_t)k * un + i0, (ptrdiff_t)m);
        bytes += m * ((size_t)cd->n_markers + 1);
        s0 += cd->n_markers;
    }
    return bytes;
}

#ifndef BLOCK
#define BLOCK 4096      /* rows per block, as NS_SCORE_BLOCK in pipeline/score.c */
#endif

int main(int argc, char **argv)
{
    long n = 2000000;
    int reps = 5, ch;
    const char *panel_path = NS_SRCDIR "/configs/panel-default.yaml";
    static const struct option lopts[] = {
        { "rows", required_argument, NULL, 'n' }, { "reps", required_argument, NULL, 'r' },
        { "panel", required_argument, NULL, 'p' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 }
    };
    while ((ch = getopt_long(argc, argv, "n:r:p:h", lopts, NULL)) != -1) {
        switch (ch) {
        case 'n': n = atol(optarg); break;
        case 'r': reps = atoi(optarg); break;
        case 'p': panel_path = optarg; break;
        case 'h':
            printf("Usage: bench_kernels [options]\n\n"
                   "Times the screening kernels (ratios, cutoff flags, condition calls) on synthetic\n"
                   "in-memory columns, column by column and in blocks of 4096 rows, at 1 and 2 threads\n"
                   "(1 only on a one-core machine), and a read loop and a copy loop over 1 GiB: the\n"
                   "memory bandwidth the kernels are compared with.  One JSON object per line on\n"
                   "stdout (scripts/bench.sh reads them); never part of make test.\n\n"
                   "  -n, --rows N     rows (default 2,000,000)\n"
                   "  -r, --reps N     repetitions of each timing; the median and spread are printed (5)\n"
                   "  -p, --panel F    panel YAML (default configs/panel-default.yaml)\n"
                   "  -h, --help       this text\n");
            return 0;
        default:
            fprintf(stderr, "usage: bench_kernels [-n ROWS] [-r REPS] [-p PANEL] (--help)\n");
            return 1;
        }
    }
    if (n < 1 || reps < 1) { fprintf(stderr, "bench_kernels: -n and -r must be positive\n"); return 1; }
    ns_panel_errs_t e;
    ns_panel_t *p = ns_panel_load(panel_path, &e);
    if (!p) { ns_panel_errs_print(stderr, "bench_kernels", panel_path, NULL, &e); return 1; }
    ns_panel_errs_free(&e);
    const size_t un = (size_t)n, na = (size_t)p->n_analytes, nr = (size_t)p->n_ratios;
    double *conc = malloc(na * un * sizeof *conc), *ratio = malloc(nr * un * sizeof *ratio);
    uint8_t *abound = calloc(na * un, 1), *rbound = malloc(nr * un);
    uint8_t *flag = malloc((size_t)p->n_slots * un), *call = malloc((size_t)p->n_conds * un);
    /* deterministic log-normal-ish values: median 1, log-SD ~0.3 (Irwin-Hall of 4 uniforms) */
    #pragma omp parallel for schedule(static)
    for (size_t k = 0; k < na * un; k++) {
        uint64_t s = (k + 1) * 0x9E3779B97F4A7C15ULL, z = 0;
        for (int j = 0; j < 4; j++) { s ^= s >> 31; s *= 0xBF58476D1CE4E5B9ULL; z += s >> 40; }
        conc[k] = exp(0.3 * ((double)z / (double)(1ULL << 24) - 2.0) * 1.732);
    }
    int maxt = omp_get_max_threads();
    for (int threads = 1; threads <= (maxt < 2 ? 1 : 2); threads++) {
        omp_set_num_threads(threads);
        cols_t cl = { p, un, conc, ratio, abound, rbound, flag, call };
        for (int mode = 0; mode < 2; mode++) {
            /* mode 0: each kernel over whole columns (parallel inside the kernel);
             * mode 1: blocks of rows, each through every stage, parallel over blocks —
             * what ns_batch_score does */
            double *t = malloc((size_t)reps * sizeof *t);
            size_t bytes = 0;
            for (int r = 0; r < reps; r++) {
                double t0 = now();
                if (mode == 0) bytes = stages(&cl, 0, un);
                else {
                    size_t nb = (un + BLOCK - 1) / BLOCK, tot = 0;
                    #pragma omp parallel for schedule(dynamic, 4) reduction(+:tot)
                    for (size_t k = 0; k < nb; k++)
                        tot += stages(&cl, k * BLOCK, un - k * BLOCK < BLOCK ? un - k * BLOCK : BLOCK);
                    bytes = tot;
                }
                t[r] = now() - t0;
            }
            double m, lo, hi;
            summary(t, reps, &m, &lo, &hi);
            size_t cells = un * (nr + (size_t)p->n_slots + (size_t)p->n_conds);
            printf("{\"workload\": \"%s\", \"threads\": %d, \"rows\": %ld, \"cells\": %zu, \"bytes\": %zu, \"median_s\": %.6f, "
                   "\"min_s\": %.6f, \"max_s\": %.6f, \"rows_s\": %.0f, \"cells_s\": %.0f, \"gib_s\": %.2f}\n",
                   mode ? "kernels_blocked" : "kernels", threads, n, cells, bytes, m, lo, hi, n / m, cells / m,
                   bytes / m / 1073741824.0);
            free(t);
        }
        bandwidth((size_t)1 << 30, reps, threads);
        fflush(stdout);
    }
    free(conc); free(ratio); free(abound); free(rbound); free(flag); free(call);
    ns_panel_free(p);
    return 0;
}
