/* util.c — see util.h. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "util.h"

static void oom(size_t n)
{
    fprintf(stderr, "neoscreen: out of memory allocating %zu bytes\n", n);
    exit(1);
}

void *ns_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) oom(n);
    return p;
}

void *ns_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) oom(n * size);
    return p;
}

void *ns_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) oom(n);
    return q;
}

char *ns_strndup(const char *s, size_t n)
{
    char *d = ns_malloc(n + 1);
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

char *ns_strdup(const char *s) { return ns_strndup(s, strlen(s)); }

char *ns_pool_alloc(ns_pool_t *p, size_t n)
{
    if (n == 0) n = 1;          /* a pointer of its own, even for nothing */
    if (n > p->room) {
        if (p->n == p->m) {
            p->m = p->m ? 2 * p->m : 16;
            p->blk = ns_realloc(p->blk, p->m * sizeof *p->blk);
        }
        p->room = n > NS_POOL_BLOCK ? n : NS_POOL_BLOCK;
        p->at = p->blk[p->n++] = ns_malloc(p->room);
    }
    char *r = p->at;
    p->at += n;
    p->room -= n;
    return r;
}

void ns_pool_move(ns_pool_t *dst, ns_pool_t *src)
{
    for (size_t k = 0; k < src->n; k++) {
        if (dst->n == dst->m) {
            dst->m = dst->m ? 2 * dst->m : 16;
            dst->blk = ns_realloc(dst->blk, dst->m * sizeof *dst->blk);
        }
        dst->blk[dst->n++] = src->blk[k];
    }
    dst->at = NULL;             /* the last block moved in may be src's: not dst's to fill */
    dst->room = 0;
    free(src->blk);
    memset(src, 0, sizeof *src);
}

void ns_pool_free(ns_pool_t *p)
{
    for (size_t k = 0; k < p->n; k++) free(p->blk[k]);
    free(p->blk);
    memset(p, 0, sizeof *p);
}

void ns_copy_str(char *dst, size_t size, const char *src)
{
    const size_t n = strnlen(src, size - 1);
    memcpy(dst, src, n);
    dst[n] = 0;
}

char *ns_asprintf(const char *fmt, ...)
{
    va_list ap;
    char probe[1];
    if (!fmt) fmt = "";
    va_start(ap, fmt);
    int n = vsnprintf(probe, sizeof probe, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    char *s = ns_malloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

int ns_read_file_into(const char *path, char **buf, size_t *cap, size_t *len)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    struct stat st;
    if (fstat(fd, &st) < 0) { int e = errno; close(fd); errno = e; return -1; }
    if (S_ISDIR(st.st_mode)) { close(fd); errno = EISDIR; return -1; }
    /* room for the file, the NUL and one byte more: the read that finds the end needs
     * room, and must not cost a doubling of the buffer */
    size_t want = st.st_size > 0 ? (size_t)st.st_size + 2 : 4096, n = 0;
    if (*cap < want) {                      /* nothing in it to keep */
        free(*buf);
        *buf = ns_malloc(want);
        *cap = want;
    }
    for (;;) {
        if (n + 1 >= *cap) *buf = ns_realloc(*buf, *cap *= 2);
        ssize_t r = read(fd, *buf + n, *cap - n - 1);
        if (r < 0) {
            if (errno == EINTR) continue;
            int e = errno; close(fd); errno = e; return -1;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);
    (*buf)[n] = 0;
    *len = n;
    return 0;
}

int ns_read_file(const char *path, char **buf, size_t *len)
{
    char *b = NULL;
    size_t cap = 0;
    if (ns_read_file_into(path, &b, &cap, len) < 0) {
        int e = errno;
        free(b);
        errno = e;
        return -1;
    }
    *buf = b;
    return 0;
}

/* ASCII letters only, as tolower() in the C locale (neoscreen never calls setlocale), without
 * its table lookup per character: the plate and manifest readers call this per row */
int ns_strcaseeq(const char *a, const char *b)
{
    for (;; a++, b++) {
        unsigned x = (unsigned char)*a, y = (unsigned char)*b;
        if (x != y) {
            x += x - 'A' < 26u ? 32u : 0u;
            y += y - 'A' < 26u ? 32u : 0u;
            if (x != y) return 0;
        } else if (!x) {
            return 1;
        }
    }
}

int ns_mkdir_p(const char *path)
{
    char *p = ns_strdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = 0;
        if (mkdir(p, 0700) < 0 && errno != EEXIST) { int e = errno; free(p); errno = e; return -1; }
        *s = '/';
    }
    int r = mkdir(p, 0700);
    free(p);
    if (r < 0 && errno != EEXIST) return -1;
    return 0;
}

char *ns_config_path(const char *given, const char *env, const char *rel)
{
    if (given) return ns_strdup(given);
    const char *e = env ? getenv(env) : NULL;
    if (e && *e) return ns_strdup(e);
    if (access(rel, R_OK) == 0) return ns_strdup(rel);
#ifdef NS_SRCDIR
    char *built = ns_asprintf("%s/%s", NS_SRCDIR, rel);
    if (access(built, R_OK) == 0) return built;
    free(built);
#endif
    return ns_strdup(rel);
}

/* days since 1970-01-01 of a civil date (Howard Hinnant's algorithm) */
static long days_from_civil(long y, unsigned mo, unsigned d)
{
    y -= mo <= 2;
    const long era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long)doe - 719468;
}

/* "YYYY-MM-DDTHH:MM[:SS]" or with a space; returns hours since the epoch, NAN if invalid */
static int digits(const char *s, int k, int *v)
{
    int x = 0;
    for (int i = 0; i < k; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        x = x * 10 + (s[i] - '0');
    }
    *v = x;
    return 1;
}

double ns_parse_time_h(const char *s)
{
    int y, mo, d, h, mi, sec = 0, n = 0;
    /* the form every export uses, digit by digit (a manifest has two per card); anything
     * else (signs, spaces, short fields) goes through sscanf, which defines the rules */
    if (digits(s, 4, &y) && s[4] == '-' && digits(s + 5, 2, &mo) && s[7] == '-' && digits(s + 8, 2, &d)
        && (s[10] == 'T' || s[10] == ' ') && digits(s + 11, 2, &h) && s[13] == ':' && digits(s + 14, 2, &mi)
        && (s[16] != ':' || (digits(s + 17, 2, &sec) && (s[19] < '0' || s[19] > '9')))) {
        n = s[16] == ':' ? 19 : 16;
    } else {
        sec = 0;
        n = 0;
        if (sscanf(s, "%4d-%2d-%2d%*1[T ]%2d:%2d%n", &y, &mo, &d, &h, &mi, &n) != 5) return NAN;
        if (s[n] == ':') {
            int n2 = 0;
            if (sscanf(s + n, ":%2d%n", &sec, &n2) != 1) return NAN;
            n += n2;
        }
    }
    if (s[n] && s[n] != 'Z') return NAN;
    static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 59 || h < 0 || mi < 0) return NAN;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap) return NAN;
    return (double)days_from_civil(y, (unsigned)mo, (unsigned)d) * 24.0 + h + mi / 60.0 + sec / 3600.0;
}

void ns_format_date(double hours, char out[16])
{
    if (isnan(hours)) { out[0] = 0; return; }
    long z = (long)floor(hours / 24.0) + 719468;            /* civil_from_days, Hinnant */
    const long era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    long y = (long)yoe + era * 400 + (m <= 2);
    snprintf(out, 16, "%04d-%02d-%02d", (int)(y % 10000), (int)(m % 100), (int)(d % 100));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int ns_list_csv(const char *dir, char ***out)
{
    DIR *d = opendir(dir);
    *out = NULL;
    if (!d) return -1;
    char **v = NULL;
    int n = 0, m = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t L = strlen(de->d_name);
        if (de->d_name[0] == '.' || L < 5 || !ns_strcaseeq(de->d_name + L - 4, ".csv")) continue;
        if (n == m) v = ns_realloc(v, (size_t)(m = m ? m * 2 : 64) * sizeof *v);
        v[n++] = ns_asprintf("%s/%s", dir, de->d_name);
    }
    closedir(d);
    if (n) qsort(v, (size_t)n, sizeof *v, cmp_str);
    *out = v;
    return n;
}

int ns_simd = 1;

int ns_cpu_avx512(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    static int known = -1;          /* the CPU's answer, asked once (threads may race to ask) */
    int k = __atomic_load_n(&known, __ATOMIC_RELAXED);
    if (k < 0) {
        __builtin_cpu_init();
        k = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")
            && __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2");
        __atomic_store_n(&known, k, __ATOMIC_RELAXED);
    }
    return k && ns_simd;
#else
    return 0;
#endif
}
