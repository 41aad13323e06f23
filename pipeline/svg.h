/* svg.h — a tiny SVG writer for the batch report: scales, ticks, axes, marks.
 *
 * Why: the report (report.h) must be one self-contained HTML file that any browser opens
 * without network or JavaScript, so its charts are inline SVG written by hand.  This module
 * knows nothing of newborn screening: it maps numbers to pixels and writes elements.
 *
 * Scales map a data domain [d0, d1] onto a pixel range [r0, r1] (r0 > r1 is allowed: the
 * y axis grows upwards).  A log scale maps log10(x); it needs d0 > 0, and a value <= 0 or
 * not finite has no position (ns_svg_map returns NAN and the marks skip it).  Ticks are
 * "nice" numbers (1, 2, 5 x 10^k on a linear scale; powers of ten, with 2 and 5 between
 * them when the domain spans few decades, on a log scale) and always lie inside the domain.
 *
 * Output is deterministic: numbers are printed in the C locale with a fixed number of
 * decimals, so the same chart gives the same bytes.  Every text is XML-escaped.
 */
#ifndef NS_SVG_H
#define NS_SVG_H

#include <stdio.h>

enum { NS_SCALE_LINEAR = 0, NS_SCALE_LOG = 1 };

typedef struct {
    int kind;             /* NS_SCALE_* */
    double d0, d1;        /* data domain (d0 < d1; log: 0 < d0) */
    double r0, r1;        /* pixel range: d0 maps to r0, d1 to r1 */
} ns_scale_t;

/* A scale over [d0, d1].  A degenerate domain (d0 == d1) is widened around the value (by
 * +-1 on a linear scale, x0.5 / x2 on a log one); a log domain with d0 <= 0 is raised to
 * d1 / 1000 (or 1 when d1 <= 0 too); d0 > d1 are swapped; non-finite ends become [0, 1]
 * ([1, 10] for log).
 * @return the scale (never fails). */
ns_scale_t ns_scale_make(int kind, double d0, double d1, double r0, double r1);

/* Widen a linear scale's domain outwards to nice tick values (the first and last of about
 * n ticks); a log scale's to whole powers of ten.  Returns the widened scale. */
ns_scale_t ns_scale_nice(ns_scale_t s, int n);

/* Pixel position of x; NAN when x has none (not finite; <= 0 on a log scale).  Values
 * outside the domain map outside the range (callers clip with ns_svg_clamp). */
double ns_svg_map(const ns_scale_t *s, double x);

/* Position clamped into the pixel range. */
double ns_svg_clamp(const ns_scale_t *s, double px);

/* About n nice tick values inside the domain, ascending, written to out (at most max).
 * @return how many (0 when max < 1). */
int ns_scale_ticks(const ns_scale_t *s, int n, double *out, int max);

/* A tick label: the shortest of %.0f .. %.6g that shows v at the tick step's precision
 * ("0.05", "250", "1e+04" only for |v| >= 1e6 or < 1e-4).  buf of size >= 32. */
void ns_svg_fmt(double v, char *buf, size_t size);

/* v as printf's "%.1f" writes it (the binary value rounded to one decimal, ties to even,
 * "-" for any negative sign, "-0.0" included), into out (>= 24 bytes) without printf, for
 * |v| < 1e14; returns the length, or -1 for anything else (NaN, inf, larger values), which
 * the caller then formats with printf (also wherever long double cannot hold a double times
 * 10 exactly).  Charts print hundreds of thousands of these. */
int ns_fmt_f1(double v, char *out);

/* Write s to fp with & < > " ' escaped (XML/HTML text and attribute safe).  Bytes that
 * are not valid in XML 1.0 (control characters other than tab, LF, CR) are dropped. */
void ns_xml_escape(FILE *fp, const char *s);

/* ---- elements ------------------------------------------------------------------------ */

/* <svg> with a viewBox of w x h, width w, and an accessible title (escaped; NULL: none). */
void ns_svg_begin(FILE *fp, int w, int h, const char *title);
void ns_svg_end(FILE *fp);

/* Text at (x, y); anchor "start" | "middle" | "end"; cls a CSS class or NULL. */
void ns_svg_text(FILE *fp, double x, double y, const char *anchor, const char *cls, const char *text);

/* Bottom axis at pixel row y with ticks of sx (about n) and an optional label below. */
void ns_svg_axis_x(FILE *fp, const ns_scale_t *sx, double y, int n, const char *label);
/* Left axis at pixel column x with ticks of sy and horizontal grid lines to x_end. */
void ns_svg_axis_y(FILE *fp, const ns_scale_t *sy, double x, double x_end, int n, const char *label);

/* A horizontal reference line at data value v of sy from x0 to x1, class cls, with an
 * optional label at its right end.  Nothing when v has no position or lies outside the
 * domain. */
void ns_svg_hline(FILE *fp, const ns_scale_t *sy, double v, double x0, double x1, const char *cls,
                  const char *label);
/* The same, vertical, at data value v of sx from y0 to y1. */
void ns_svg_vline(FILE *fp, const ns_scale_t *sx, double v, double y0, double y1, const char *cls,
                  const char *label);

/* A polyline through (xs[i], ys[i]) in data units; points without a position break it. */
void ns_svg_polyline(FILE *fp, const ns_scale_t *sx, const ns_scale_t *sy, const double *xs,
                     const double *ys, int n, const char *cls);

/* A point (circle of radius r) at data (x, y) with a tooltip title (escaped; NULL none).
 * Nothing when either coordinate has no position; y is clamped into the plot. */
void ns_svg_point(FILE *fp, const ns_scale_t *sx, const ns_scale_t *sy, double x, double y, double r,
                  const char *cls, const char *title);

/* A rectangle in pixels. */
void ns_svg_rect(FILE *fp, double x, double y, double w, double h, const char *cls, const char *title);

/* ---- histograms ---------------------------------------------------------------------- */

/* Bin edges for values on scale s: nb bins of equal width in data units (linear) or in
 * log10 (log), covering the domain.  edges has nb + 1 entries. */
void ns_hist_edges(const ns_scale_t *s, int nb, double *edges);

/* Count values into the bins of edges (nb bins): a value at an inner edge goes to the bin
 * above it; values below edges[0] go to bin 0 and above edges[nb] to bin nb - 1 (so no
 * value is lost off the chart); values without a position on s (NAN; <= 0 on a log scale)
 * are not counted and returned in *skipped (may be NULL). */
void ns_hist_count(const ns_scale_t *s, const double *edges, int nb, const double *v, long n,
                   long *counts, long *skipped);

#endif
