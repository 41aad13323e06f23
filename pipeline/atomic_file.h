/* atomic_file.h — outputs appear whole or not at all.
 *
 * A follow-up team must never act on half a recall list.  Every output is written to a
 * temporary file beside its final name ("NAME.tmp.PID"), flushed, fsync'ed, given its
 * final mode, and renamed over the final name; the directory is then fsync'ed so the
 * rename itself survives a power cut.  On any failure the temporary file is removed and
 * the previous output (if any) is left untouched.  A target that exists and is not a
 * regular file (/dev/null, /dev/stdout, a FIFO) is written in place instead: a rename would
 * replace the device or pipe with a plain file.
 */
#ifndef NS_ATOMIC_FILE_H
#define NS_ATOMIC_FILE_H

#include <stdio.h>
#include <sys/types.h>

typedef struct {
    FILE *fp;          /* write here */
    char *path;        /* final name */
    char *tmp;         /* temporary name */
    mode_t mode;
} ns_atomic_t;

/* Open PATH.tmp.PID for writing with the given mode (0600 for files holding personal
 * data: the file is created with that mode, so it is never readable by others, not even
 * for a moment).  Returns NULL with errno set on failure. */
ns_atomic_t *ns_atomic_open(const char *path, mode_t mode);

/* Flush, fsync, rename over the final name, fsync the directory, free.  Returns 0, or -1
 * with errno set (the temporary file is then removed).  Always frees a. */
int ns_atomic_commit(ns_atomic_t *a);

/* Remove the temporary file and free. */
void ns_atomic_abort(ns_atomic_t *a);

/* For files written by a library that opens by name (HDF5): fsync TMP, chmod to mode,
 * rename it to PATH, fsync the directory.  Returns 0 or -1 with errno (TMP removed). */
int ns_atomic_rename(const char *tmp, const char *path, mode_t mode);

/* fsync the directory holding path, so that a rename into it survives a power cut (file
 * systems that refuse fsync on a directory count as success).  0 or -1 with errno.  For
 * writers that do their own rename (table.c's XLSX writer). */
int ns_atomic_sync_dir(const char *path);

/* The temporary name ns_atomic_open would use for path (caller frees). */
char *ns_atomic_tmpname(const char *path);

#endif
