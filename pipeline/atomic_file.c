/* atomic_file.c — see atomic_file.h. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "atomic_file.h"
#include "util.h"

char *ns_atomic_tmpname(const char *path)
{
    return ns_asprintf("%s.tmp.%ld", path, (long)getpid());
}

int ns_atomic_sync_dir(const char *path)
{
    char *d = ns_strdup(path);
    int fd = open(dirname(d), O_RDONLY | O_DIRECTORY);
    free(d);
    if (fd < 0) return -1;
    int r = fsync(fd);
    /* some file systems refuse fsync on a directory; the rename has still happened */
    if (r < 0 && (errno == EINVAL || errno == EBADF)) r = 0;
    close(fd);
    return r;
}

/* A target that exists and is not a regular file (/dev/null, /dev/stdout, a FIFO) is
 * written in place: renaming a temporary file over it would replace the device node or
 * pipe with a plain file (as root, /dev/null itself). */
static ns_atomic_t *open_special(const char *path, mode_t mode)
{
    struct stat st;
    if (stat(path, &st) != 0 || S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) return NULL;
    FILE *fp = fopen(path, "w");
    if (!fp) return NULL;
    ns_atomic_t *a = ns_calloc(1, sizeof *a);
    a->fp = fp;
    a->path = ns_strdup(path);
    a->tmp = NULL;
    a->mode = mode;
    return a;
}

ns_atomic_t *ns_atomic_open(const char *path, mode_t mode)
{
    ns_atomic_t *sp = open_special(path, mode);
    if (sp) return sp;
    char *tmp = ns_atomic_tmpname(path);
    /* O_EXCL | O_NOFOLLOW: never write through a link planted under the predictable
     * temporary name; a leftover of an earlier process with our PID is removed once */
    int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    int fd = open(tmp, flags, mode);
    if (fd < 0 && errno == EEXIST && unlink(tmp) == 0) fd = open(tmp, flags, mode);
    if (fd < 0) { int e = errno; free(tmp); errno = e; return NULL; }
    fchmod(fd, mode);   /* the umask may have narrowed it; never widened beyond mode */
    FILE *fp = fdopen(fd, "w");
    if (!fp) { int e = errno; close(fd); unlink(tmp); free(tmp); errno = e; return NULL; }
    ns_atomic_t *a = ns_calloc(1, sizeof *a);
    a->fp = fp;
    a->path = ns_strdup(path);
    a->tmp = tmp;
    a->mode = mode;
    return a;
}

static void afree(ns_atomic_t *a)
{
    free(a->path);
    free(a->tmp);
    free(a);
}

int ns_atomic_commit(ns_atomic_t *a)
{
    int r = 0, e = 0;
    if (!a->tmp) {                     /* a device or pipe, written in place */
        if (fflush(a->fp) != 0 || ferror(a->fp)) { r = -1; e = errno; }
        if (fclose(a->fp) != 0 && r == 0) { r = -1; e = errno; }
        afree(a);
        errno = e;
        return r;
    }
    if (fflush(a->fp) != 0 || ferror(a->fp) || fsync(fileno(a->fp)) != 0) { r = -1; e = errno; }
    if (fclose(a->fp) != 0 && r == 0) { r = -1; e = errno; }
    if (r == 0 && rename(a->tmp, a->path) != 0) { r = -1; e = errno; }
    if (r == 0 && ns_atomic_sync_dir(a->path) != 0) { r = -1; e = errno; }
    if (r != 0) unlink(a->tmp);
    afree(a);
    errno = e;
    return r;
}

void ns_atomic_abort(ns_atomic_t *a)
{
    if (!a) return;
    fclose(a->fp);
    if (a->tmp) unlink(a->tmp);
    afree(a);
}

int ns_atomic_rename(const char *tmp, const char *path, mode_t mode)
{
    int fd = open(tmp, O_RDONLY);
    int r = fd < 0 ? -1 : 0, e = fd < 0 ? errno : 0;
    if (r == 0 && (fchmod(fd, mode) != 0 || fsync(fd) != 0)) { r = -1; e = errno; }
    if (fd >= 0) close(fd);
    if (r == 0 && rename(tmp, path) != 0) { r = -1; e = errno; }
    if (r == 0 && ns_atomic_sync_dir(path) != 0) { r = -1; e = errno; }
    if (r != 0) unlink(tmp);
    errno = e;
    return r;
}
