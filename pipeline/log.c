/* log.c — see log.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include "encoding.h"
#include "log.h"
#include "util.h"

int ns_verbosity = 1;
static struct timespec t0;
static double cpu0;

static double process_cpu_s(void)
{
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return (double)(r.ru_utime.tv_sec + r.ru_stime.tv_sec)
         + 1e-6 * (double)(r.ru_utime.tv_usec + r.ru_stime.tv_usec);
}

void ns_clock_start(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    const char *e = getenv("NS_CLOCK_T0");     /* ns_clock_pass()'s, read once */
    char v[64] = "";
    if (e) {
        snprintf(v, sizeof v, "%s", e);
        unsetenv("NS_CLOCK_T0");
    }
    long long s, ns;
    double c;
    if (sscanf(v, "%lld.%9lld:%lf", &s, &ns, &c) == 3 && ns >= 0 && ns < 1000000000LL) {
        const double ago = (double)(now.tv_sec - (time_t)s) + 1e-9 * (double)(now.tv_nsec - (long)ns);
        if (ago >= 0 && ago < 60) {            /* a start of this run, not a stray value */
            t0.tv_sec = (time_t)s;
            t0.tv_nsec = (long)ns;
            cpu0 = c;
            return;
        }
    }
    t0 = now;
    cpu0 = process_cpu_s();
}

void ns_clock_pass(void)
{
    char v[64];
    snprintf(v, sizeof v, "%lld.%09ld:%.6f", (long long)t0.tv_sec, (long)t0.tv_nsec, cpu0);
    setenv("NS_CLOCK_T0", v, 1);
}

double ns_wall_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0.tv_sec) + 1e-9 * (double)(t.tv_nsec - t0.tv_nsec);
}

double ns_cpu_s(void) { return process_cpu_s() - cpu0; }

long ns_peak_rss_kb(void)
{
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return r.ru_maxrss;
}

static void verror(const char *subcmd, int with_errno, const char *fmt, va_list ap)
{
    int e = errno;
    fflush(stdout);
    fprintf(stderr, "neoscreen %s: ", subcmd);
    vfprintf(stderr, fmt, ap);
    if (with_errno) fprintf(stderr, ": %s", strerror(e));
    fputc('\n', stderr);
    errno = e;
}

void ns_error(const char *subcmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror(subcmd, 0, fmt, ap);
    va_end(ap);
}

void ns_error_errno(const char *subcmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror(subcmd, 1, fmt, ap);
    va_end(ap);
}

void ns_info(int level, const char *stage, const char *fmt, ...)
{
    if (ns_verbosity < level) return;
    int e = errno;
    double w = ns_wall_s();
    fprintf(stderr, "[M::%s::%.3f*%.2f] ", stage, w, w > 0 ? ns_cpu_s() / w : 0.0);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    errno = e;
}

char *ns_msg_vat(const char *path, int line, int col, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    ns_utf8_clip(msg);
    return line > 0 ? ns_asprintf("%s:%d:%d: %s", path, line, col, msg) : ns_asprintf("%s: %s", path, msg);
}

void ns_msgs_vadd(char ***v, int64_t *n, const char *path, int line, int col, const char *fmt, va_list ap)
{
    *v = ns_realloc(*v, (size_t)(*n + 1) * sizeof **v);
    (*v)[(*n)++] = ns_msg_vat(path, line, col, fmt, ap);
}
