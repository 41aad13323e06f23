/* log.h — user-facing messages, progress lines and run resources.
 *
 * Two layers, as in samtools/htslib: kernels never print; the pipeline reports through
 * these functions only.  Errors read "neoscreen SUBCMD: message" (positions as
 * FILE:LINE:COL inside the message); progress lines read
 * "[M::stage::wall*cpu] message" (minimap2 style) so a technician sees where a long run is
 * and `make bench` can read the figures.  Messages name files and rows, never people:
 * no names, phones or infant IDs go through here.
 */
#ifndef NS_LOG_H
#define NS_LOG_H

#include <stdarg.h>
#include <stdint.h>

#include <stdio.h>

#if defined(__GNUC__)
#define NS_FORMAT(i, j) __attribute__((format(printf, i, j)))
#define NS_RESULT_USED __attribute__((warn_unused_result))
#else
#define NS_FORMAT(i, j)
#define NS_RESULT_USED
#endif

/* 0 = errors only, 1 = + progress (default), 2 = + details. */
extern int ns_verbosity;

/* "neoscreen SUBCMD: message\n" on stderr; stdout is flushed first; errno is preserved. */
void ns_error(const char *subcmd, const char *fmt, ...) NS_FORMAT(2, 3);
/* Same, with ": strerror(errno)" appended. */
void ns_error_errno(const char *subcmd, const char *fmt, ...) NS_FORMAT(2, 3);
/* "[M::stage::wall*cpu] message\n" on stderr when ns_verbosity >= level. */
void ns_info(int level, const char *stage, const char *fmt, ...) NS_FORMAT(3, 4);

/* "PATH:LINE:COL: message" (or "PATH: message" when line is 0), malloc'd, the message
 * clipped to whole UTF-8 characters. */
char *ns_msg_vat(const char *path, int line, int col, const char *fmt, va_list ap);
/* Append "PATH:LINE:COL: message" (or "PATH: message" when line is 0) to the growable
 * list *v of *n strings; the message is clipped to whole UTF-8 characters.  For input
 * readers that collect every problem of a file before the caller prints them. */
void ns_msgs_vadd(char ***v, int64_t *n, const char *path, int line, int col, const char *fmt, va_list ap);

void ns_clock_start(void);   /* reference point for wall/CPU figures (or the one handed over
                                by ns_clock_pass(), which it takes and clears) */
/* Hand the reference point to this program executed again (exec keeps the process, its
 * CPU time and the monotonic clock), through NS_CLOCK_T0: its figures then count both starts. */
void ns_clock_pass(void);
double ns_wall_s(void);      /* seconds since ns_clock_start() */
double ns_cpu_s(void);       /* process CPU seconds since ns_clock_start() */
long ns_peak_rss_kb(void);   /* peak resident set size, kB */

#endif
