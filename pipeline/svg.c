/* svg.c — see svg.h. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "svg.h"
#include "util.h"

ns_scale_t ns_scale_make(int kind, double d0, double d1, double r0, double r1)
{
    ns_scale_t s = { kind == NS_SCALE_LOG ? NS_SCALE_LOG : NS_SCALE_LINEAR, d0, d1, r0, r1 };
    if (!isfinite(s.d0) || !isfinite(s.d1)) {
        s.d0 = s.kind == NS_SCALE_LOG ? 1 : 0;
        s.d1 = s.kind == NS_SCALE_LOG ? 10 : 1;
    }
    if (s.d0 > s.d1) { double t = s.d0; s.d0 = s.d1; s.d1 = t; }
    if (s.kind == NS_SCALE_LOG) {
        if (s.d1 <= 0) { s.d0 = 1; s.d1 = 10; }
        else if (s.d0 <= 0) s.d0 = s.d1 / 1000;
        if (s.d0 == s.d1) { s.d0 /= 2; s.d1 *= 2; }
    } else if (s.d0 == s.d1) {
        s.d0 -= 1;
        s.d1 += 1;
    }
    return s;
}

/* 1, 2, 5 or 10 times a power of ten, >= x */
static double nice_step(double x)
{
    if (!(x > 0) || !isfinite(x)) return 1;
    double p = pow(10, floor(log10(x)));
    double f = x / p;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

ns_scale_t ns_scale_nice(ns_scale_t s, int n)
{
    if (n < 1) n = 1;
    if (s.kind == NS_SCALE_LOG) {
        s.d0 = pow(10, floor(log10(s.d0) + 1e-9));
        s.d1 = pow(10, ceil(log10(s.d1) - 1e-9));
        if (s.d0 == s.d1) s.d1 *= 10;
    } else {
        double step = nice_step((s.d1 - s.d0) / n);
        s.d0 = floor(s.d0 / step + 1e-9) * step;
        s.d1 = ceil(s.d1 / step - 1e-9) * step;
        if (s.d0 == s.d1) s.d1 = s.d0 + step;
    }
    return s;
}

double ns_svg_map(const ns_scale_t *s, double x)
{
    if (!isfinite(x)) return NAN;
    double t;
    if (s->kind == NS_SCALE_LOG) {
        if (x <= 0) return NAN;
        t = (log10(x) - log10(s->d0)) / (log10(s->d1) - log10(s->d0));
    } else {
        t = (x - s->d0) / (s->d1 - s->d0);
    }
    return s->r0 + t * (s->r1 - s->r0);
}

double ns_svg_clamp(const ns_scale_t *s, double px)
{
    double lo = s->r0 < s->r1 ? s->r0 : s->r1, hi = s->r0 < s->r1 ? s->r1 : s->r0;
    return px < lo ? lo : px > hi ? hi : px;
}

static int in_domain(const ns_scale_t *s, double v)
{
    double eps = (s->kind == NS_SCALE_LOG ? v : (s->d1 - s->d0)) * 1e-9;
    return v >= s->d0 - eps && v <= s->d1 + eps;
}

static int linear_ticks(const ns_scale_t *s, int n, double *out, int max)
{
    double step = nice_step((s->d1 - s->d0) / (n > 0 ? n : 1));
    int k = 0;
    for (double i = ceil(s->d0 / step - 1e-9); k < max; i++) {
        double v = i * step;
        if (fabs(v) < step * 1e-9) v = 0;
        if (!in_domain(s, v)) break;
        if (s->kind == NS_SCALE_LOG && v <= 0) continue;
        out[k++] = v;
    }
    return k;
}

int ns_scale_ticks(const ns_scale_t *s, int n, double *out, int max)
{
    if (max < 1) return 0;
    if (s->kind != NS_SCALE_LOG) return linear_ticks(s, n, out, max);
    double l0 = log10(s->d0), l1 = log10(s->d1);
    int e0 = (int)floor(l0), e1 = (int)ceil(l1);
    /* mantissas: decades only when they are many, else 1-2-5 (or 1-5) */
    static const double m125[] = { 1, 2, 5 }, m15[] = { 1, 5 }, m1[] = { 1 };
    const double *m = m1;
    int nm = 1;
    double span = l1 - l0;
    if (span <= 1.5) { m = m125; nm = 3; }
    else if (span <= 3) { m = m15; nm = 2; }
    int k = 0;
    int step = 1;
    if (nm == 1 && e1 - e0 > 2 * (n > 0 ? n : 1)) step = (e1 - e0 + n - 1) / n;
    for (int e = e0; e <= e1 && k < max; e++) {
        if (nm == 1 && (e - e0) % step) continue;
        for (int j = 0; j < nm && k < max; j++) {
            double v = m[j] * pow(10, e);
            if (in_domain(s, v)) out[k++] = v;
        }
    }
    if (k < 2) return linear_ticks(s, n, out, max);    /* a narrow domain: plain numbers */
    return k;
}

void ns_svg_fmt(double v, char *buf, size_t size)
{
    if (v == 0 || !isfinite(v)) { snprintf(buf, size, "%s", v == 0 ? "0" : "-"); return; }
    double a = fabs(v);
    if (a >= 1e6 || a < 1e-4) snprintf(buf, size, "%.2g", v);
    else snprintf(buf, size, "%.4g", v);
}

int ns_fmt_f1(double v, char *out)
{
    const double a = fabs(v);
    if (!(a < 1e14) || LDBL_MANT_DIG < 57) return -1;   /* where long double is no wider, printf */
    /* a * 10 is exact in long double (53 + 4 bits of a 64-bit significand), so is its
     * fraction: the rounding decision is made on the exact value, as printf makes it */
    const long double t = (long double)a * 10.0L, n = floorl(t), f = t - n;
    uint64_t q = (uint64_t)n;
    q += f > 0.5L || (f == 0.5L && (q & 1));
    char tmp[24];
    int k = 0;
    tmp[k++] = (char)('0' + q % 10);
    tmp[k++] = '.';
    q /= 10;
    do { tmp[k++] = (char)('0' + q % 10); q /= 10; } while (q);
    int len = 0;
    if (signbit(v)) out[len++] = '-';
    while (k) out[len++] = tmp[--k];
    out[len] = '\0';
    return len;
}

static void put_f1(FILE *fp, double v)
{
    char b[32];
    int n = ns_fmt_f1(v, b);
    if (n < 0) fprintf(fp, "%.1f", v);
    else fwrite(b, 1, (size_t)n, fp);
}

/* bytes that are dropped (control characters but tab, LF, CR; DEL) or escaped */
static int xml_plain(unsigned char c)
{
    return c >= 0x20 ? c != '&' && c != '<' && c != '>' && c != '"' && c != '\'' && c != 0x7f
                     : 0;
}

void ns_xml_escape(FILE *fp, const char *s)
{
    if (!s) return;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        const unsigned char *run = p;
        while (*p && xml_plain(*p)) p++;
        if (p > run) fwrite(run, 1, (size_t)(p - run), fp);      /* a run needing nothing */
        if (!*p) break;
        switch (*p) {
        case '&': fputs("&amp;", fp); break;
        case '<': fputs("&lt;", fp); break;
        case '>': fputs("&gt;", fp); break;
        case '"': fputs("&quot;", fp); break;
        case '\'': fputs("&#39;", fp); break;
        case '\t': case '\n': case '\r': fputc(*p, fp); break;
        default: break;                                        /* other controls, DEL */
        }
        p++;
    }
}

/* ---- elements ------------------------------------------------------------------------ */

void ns_svg_begin(FILE *fp, int w, int h, const char *title)
{
    fprintf(fp, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\">",
            w, h, w, h);
    if (title) {
        fputs("<title>", fp);
        ns_xml_escape(fp, title);
        fputs("</title>", fp);
    }
    fputc('\n', fp);
}

void ns_svg_end(FILE *fp)
{
    fputs("</svg>\n", fp);
}

void ns_svg_text(FILE *fp, double x, double y, const char *anchor, const char *cls, const char *text)
{
    fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\"", x, y);
    if (anchor && strcmp(anchor, "start") != 0) fprintf(fp, " text-anchor=\"%s\"", anchor);
    if (cls) fprintf(fp, " class=\"%s\"", cls);
    fputc('>', fp);
    ns_xml_escape(fp, text);
    fputs("</text>\n", fp);
}

#define MAX_TICKS 64

void ns_svg_axis_x(FILE *fp, const ns_scale_t *sx, double y, int n, const char *label)
{
    double t[MAX_TICKS];
    int k = ns_scale_ticks(sx, n, t, MAX_TICKS);
    char buf[32];
    fprintf(fp, "<line class=\"ax\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", sx->r0, y, sx->r1, y);
    for (int i = 0; i < k; i++) {
        double x = ns_svg_map(sx, t[i]);
        fprintf(fp, "<line class=\"ax\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", x, y, x, y + 4);
        ns_svg_fmt(t[i], buf, sizeof buf);
        ns_svg_text(fp, x, y + 15, "middle", "tk", buf);
    }
    if (label) ns_svg_text(fp, (sx->r0 + sx->r1) / 2, y + 29, "middle", "al", label);
}

void ns_svg_axis_y(FILE *fp, const ns_scale_t *sy, double x, double x_end, int n, const char *label)
{
    double t[MAX_TICKS];
    int k = ns_scale_ticks(sy, n, t, MAX_TICKS);
    char buf[32];
    fprintf(fp, "<line class=\"ax\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", x, sy->r0, x, sy->r1);
    for (int i = 0; i < k; i++) {
        double y = ns_svg_map(sy, t[i]);
        fprintf(fp, "<line class=\"gr\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", x, y, x_end, y);
        ns_svg_fmt(t[i], buf, sizeof buf);
        ns_svg_text(fp, x - 4, y + 3.5, "end", "tk", buf);
    }
    if (label) ns_svg_text(fp, x, sy->r1 - 6, "start", "al", label);
}

void ns_svg_hline(FILE *fp, const ns_scale_t *sy, double v, double x0, double x1, const char *cls,
                  const char *label)
{
    double y = ns_svg_map(sy, v);
    if (isnan(y) || !in_domain(sy, v)) return;
    fprintf(fp, "<line class=\"%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", cls, x0, y, x1, y);
    if (label) ns_svg_text(fp, x1 + 3, y + 3.5, "start", cls, label);
}

void ns_svg_vline(FILE *fp, const ns_scale_t *sx, double v, double y0, double y1, const char *cls,
                  const char *label)
{
    double x = ns_svg_map(sx, v);
    if (isnan(x) || !in_domain(sx, v)) return;
    fprintf(fp, "<line class=\"%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", cls, x, y0, x, y1);
    if (label) ns_svg_text(fp, x, y1 - 3, "middle", cls, label);
}

void ns_svg_polyline(FILE *fp, const ns_scale_t *sx, const ns_scale_t *sy, const double *xs,
                     const double *ys, int n, const char *cls)
{
    int open = 0;
    for (int i = 0; i < n; i++) {
        double x = ns_svg_map(sx, xs[i]), y = ns_svg_map(sy, ys[i]);
        if (isnan(x) || isnan(y)) {
            if (open) fputs("\"/>\n", fp);
            open = 0;
            continue;
        }
        y = ns_svg_clamp(sy, y);
        if (!open) fprintf(fp, "<polyline class=\"%s\" points=\"", cls);
        else fputc(' ', fp);
        put_f1(fp, x);
        fputc(',', fp);
        put_f1(fp, y);
        open = 1;
    }
    if (open) fputs("\"/>\n", fp);
}

void ns_svg_point(FILE *fp, const ns_scale_t *sx, const ns_scale_t *sy, double x, double y, double r,
                  const char *cls, const char *title)
{
    double px = ns_svg_map(sx, x), py = ns_svg_map(sy, y);
    if (isnan(px) || isnan(py)) return;
    py = ns_svg_clamp(sy, py);
    fputs("<circle class=\"", fp);
    fputs(cls, fp);
    fputs("\" cx=\"", fp);
    put_f1(fp, px);
    fputs("\" cy=\"", fp);
    put_f1(fp, py);
    fputs("\" r=\"", fp);
    put_f1(fp, r);
    fputc('"', fp);
    if (title) {
        fputs("><title>", fp);
        ns_xml_escape(fp, title);
        fputs("</title></circle>\n", fp);
    } else {
        fputs("/>\n", fp);
    }
}

void ns_svg_rect(FILE *fp, double x, double y, double w, double h, const char *cls, const char *title)
{
    if (w < 0) { x += w; w = -w; }
    if (h < 0) { y += h; h = -h; }
    fprintf(fp, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"", cls, x, y, w, h);
    if (title) {
        fputs("><title>", fp);
        ns_xml_escape(fp, title);
        fputs("</title></rect>\n", fp);
    } else {
        fputs("/>\n", fp);
    }
}

/* ---- histograms ---------------------------------------------------------------------- */

void ns_hist_edges(const ns_scale_t *s, int nb, double *edges)
{
    for (int i = 0; i <= nb; i++) {
        double t = (double)i / nb;
        edges[i] = s->kind == NS_SCALE_LOG
                   ? pow(10, log10(s->d0) + t * (log10(s->d1) - log10(s->d0)))
                   : s->d0 + t * (s->d1 - s->d0);
    }
    edges[0] = s->d0;
    edges[nb] = s->d1;
}

/* The bin search by binary steps: the reference, and the path for edges the table of
 * ns_hist_count cannot index. */
static int hist_bin_search(const double *edges, int nb, int top, double x)
{
    /* the last edge <= x among edges[0..nb-1] (below edges[0]: bin 0; edges[nb] and above:
     * the last bin), by steps of top, top/2, ... 1 that compile to conditional moves */
    int lo = 0;
    for (int st = top; st; st >>= 1) {
        int t = lo + st;
        lo = t < nb && edges[t] <= x ? t : lo;
    }
    return lo;
}

/* A million values per chart: each value's bin is looked up in a table of HIST_CELLS cells
 * over [edges[0], edges[nb]] (equal cells in data units on a linear scale, in the bits of
 * the double, an approximate log2, on a log one).  Both cell maps are monotone, so an edge
 * in an earlier cell is below the value and one in a later cell above it: the table gives
 * the bin at the start of the value's cell, and only the edges inside that cell (at most
 * one when the bins are wider than the cells) are compared. */
enum { HIST_CELLS = 4096 };
/* a table entry: the bin at the start of the cell, and whether an inner edge lies in it (a
 * value in a cell without one is in that bin: the next edge is in a later cell, above it) */
enum { HIST_EDGE_IN = 1 << 30, HIST_BIN_MASK = HIST_EDGE_IN - 1 };

typedef struct {
    int log;
    double e0, inv;           /* linear: cell = (x - e0) * inv */
    uint64_t k0;              /* log: cell = (bits(x) - k0) >> shift */
    int shift;
} hist_cells_t;

static inline uint64_t dbits(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static inline int hist_cell(const hist_cells_t *c, double x)
{
    if (c->log) {
        uint64_t k = dbits(x);                     /* x > 0: the bits order as the values */
        if (k <= c->k0) return 0;
        uint64_t j = (k - c->k0) >> c->shift;
        return j >= HIST_CELLS ? HIST_CELLS - 1 : (int)j;
    }
    double g = (x - c->e0) * c->inv;
    return g >= HIST_CELLS - 1 ? HIST_CELLS - 1 : g >= 0 ? (int)g : 0;
}

/* the cell map for edges[0..nb]; 0 when they cannot be indexed (not finite, not rising) */
static int hist_cells_make(const ns_scale_t *s, const double *edges, int nb, hist_cells_t *c)
{
    const double e0 = edges[0], e1 = edges[nb];
    if (!isfinite(e0) || !isfinite(e1) || !(e1 > e0)) return 0;
    c->log = s->kind == NS_SCALE_LOG && e0 > 0;
    if (c->log) {
        c->k0 = dbits(e0);
        uint64_t span = dbits(e1) - c->k0;
        c->shift = 0;
        while ((span >> c->shift) >= HIST_CELLS) c->shift++;
    } else {
        c->e0 = e0;
        c->inv = HIST_CELLS / (e1 - e0);
        if (!(c->inv > 0) || !isfinite(c->inv)) return 0;    /* e1 - e0 overflowed: inv 0 */
    }
    return 1;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HIST_TARGET __attribute__((target("avx512f,avx512vl,avx512dq,bmi")))
#define HIST_LANE_BINS 128      /* the vector counter's bins at most (the report draws 40) */

/* ns_hist_count's loop, eight values a step (n rounded down to a multiple of 8; the caller
 * counts the rest): the same cell, the same table entry and the same edge comparisons as
 * one value at a time, in vector lanes; each lane counts into a histogram of its own, so
 * that values falling in one bin do not wait on each other's increments.  Adds to counts
 * and *sk; returns how many values it took. */
HIST_TARGET static long hist_count_avx512(const hist_cells_t *c, const int *tab, const double *edges, int nb,
                                          int log_kind, const double *v, long n, long *counts, long *sk)
{
    uint32_t lane[8][HIST_LANE_BINS];
    memset(lane, 0, sizeof lane);
    const __m512d zero = _mm512_setzero_pd(), top = _mm512_set1_pd(HIST_CELLS - 1);
    const __m512d e0 = _mm512_set1_pd(c->log ? 0.0 : c->e0), inv = _mm512_set1_pd(c->log ? 0.0 : c->inv);
    const __m512i k0 = _mm512_set1_epi64((long long)c->k0), jmax = _mm512_set1_epi64(HIST_CELLS - 1);
    const __m128i shift = _mm_cvtsi32_si128(c->log ? c->shift : 0);
    const __m256i one = _mm256_set1_epi32(1), last = _mm256_set1_epi32(nb - 1);
    const __m256i bin_mask = _mm256_set1_epi32(HIST_BIN_MASK), edge_in = _mm256_set1_epi32(HIST_EDGE_IN);
    long skipped = 0, i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m512d x = _mm512_loadu_pd(v + i);
        /* finite: x - x is 0 (NaN for NaN and the infinities); on a log scale also > 0 */
        __mmask8 ok = _mm512_cmp_pd_mask(_mm512_sub_pd(x, x), zero, _CMP_EQ_OQ);
        if (log_kind) ok &= _mm512_cmp_pd_mask(x, zero, _CMP_GT_OQ);
        skipped += 8 - __builtin_popcount(ok);
        __m256i cell;
        if (c->log) {
            const __m512i k = _mm512_castpd_si512(x);
            const __mmask8 above = _mm512_cmpgt_epu64_mask(k, k0);
            __m512i j = _mm512_maskz_srl_epi64(above, _mm512_sub_epi64(k, k0), shift);
            j = _mm512_min_epu64(j, jmax);
            cell = _mm512_cvtepi64_epi32(j);
        } else {
            __m512d g = _mm512_mul_pd(_mm512_sub_pd(x, e0), inv);
            const __mmask8 hi = _mm512_cmp_pd_mask(g, top, _CMP_GE_OQ), lo = _mm512_cmp_pd_mask(g, zero, _CMP_GE_OQ);
            g = _mm512_mask_blend_pd(hi, _mm512_maskz_mov_pd(lo, g), top);  /* >= top: top; < 0 (or NaN): 0 */
            cell = _mm512_cvttpd_epi32(g);
        }
        const __m256i t = _mm256_mmask_i32gather_epi32(_mm256_setzero_si256(), ok, cell, tab, 4);
        __m256i b = _mm256_and_si256(t, bin_mask);
        /* a cell with an edge inside: step on while the next edge is <= x */
        for (__mmask8 go = ok & _mm256_test_epi32_mask(t, edge_in); go;) {
            go &= _mm256_cmplt_epi32_mask(b, last);                         /* b + 1 < nb */
            if (!go) break;
            const __m256i b1 = _mm256_add_epi32(b, one);
            const __m512d e = _mm512_mask_i32gather_pd(x, go, b1, edges, 8);
            go &= _mm512_cmp_pd_mask(e, x, _CMP_LE_OQ);
            b = _mm256_mask_mov_epi32(b, go, b1);
        }
        uint32_t bin[8];
        _mm256_storeu_si256((__m256i *)bin, b);
        for (unsigned m = ok; m; m &= m - 1) {
            const int l = __builtin_ctz(m);
            lane[l][bin[l]]++;
        }
    }
    for (int l = 0; l < 8; l++)
        for (int b = 0; b < nb; b++) counts[b] += lane[l][b];
    *sk += skipped;
    return i;
}
#endif

void ns_hist_count(const ns_scale_t *s, const double *edges, int nb, const double *v, long n,
                   long *counts, long *skipped)
{
    long sk = 0;
    for (int b = 0; b < nb; b++) counts[b] = 0;
    int top = 1;                      /* the largest power of two below nb (0 for one bin) */
    while (top * 2 < nb) top *= 2;
    if (nb <= 1) top = 0;
    hist_cells_t hc;
    int *tab = NULL;
    if (nb > 1 && hist_cells_make(s, edges, nb, &hc) && (tab = calloc(HIST_CELLS + 1, sizeof *tab))) {
        /* tab[j]: how many inner edges (edges[1..nb-1]) lie in cells before j */
        for (int b = 1; b < nb; b++) tab[hist_cell(&hc, edges[b]) + 1]++;
        for (int j = 1; j <= HIST_CELLS; j++) tab[j] += tab[j - 1];
        for (int j = 0; j < HIST_CELLS; j++)
            if (tab[j + 1] != (tab[j] & HIST_BIN_MASK)) tab[j] |= HIST_EDGE_IN;
    }
    long i = 0;
#ifdef HIST_TARGET
    if (tab && nb <= HIST_LANE_BINS && ns_cpu_avx512())
        i = hist_count_avx512(&hc, tab, edges, nb, s->kind == NS_SCALE_LOG, v, n, counts, &sk);
#endif
    for (; i < n; i++) {
        double x = v[i];
        if (!isfinite(x) || (s->kind == NS_SCALE_LOG && x <= 0)) { sk++; continue; }
        int b;
        if (tab) {
            const int t = tab[hist_cell(&hc, x)];
            b = t & HIST_BIN_MASK;
            if (t & HIST_EDGE_IN)
                while (b + 1 < nb && edges[b + 1] <= x) b++;     /* the cell's edges <= x */
        } else {
            b = hist_bin_search(edges, nb, top, x);
        }
        counts[b]++;
    }
    free(tab);
    if (skipped) *skipped = sk;
}
