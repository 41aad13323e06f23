/* util.c — see util.h. */
#include <ctype.h>
#include <errno.h>
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

int ns_read_file(const char *path, char **buf, size_t *len)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    struct stat st;
    if (fstat(fd, &st) < 0) { int e = errno; close(fd); errno = e; return -1; }
    if (S_ISDIR(st.st_mode)) { close(fd); errno = EISDIR; return -1; }
    size_t cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 4096, n = 0;
    char *b = ns_malloc(cap);
    for (;;) {
        if (n + 1 >= cap) b = ns_realloc(b, cap *= 2);
        ssize_t r = read(fd, b + n, cap - n - 1);
        if (r < 0) {
            if (errno == EINTR) continue;
            int e = errno; free(b); close(fd); errno = e; return -1;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);
    b[n] = 0;
    *buf = b;
    *len = n;
    return 0;
}

int ns_strcaseeq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return 0;
    return *a == *b;
}

int ns_mkdir_p(const char *path)
{
    char *p = ns_strdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = 0;
        if (mkdir(p, 0755) < 0 && errno != EEXIST) { int e = errno; free(p); errno = e; return -1; }
        *s = '/';
    }
    int r = mkdir(p, 0755);
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
