/* zip_write.h — write a ZIP archive (the container of an XLSX workbook) to a file.
 *
 * Members are deflated as they are written (zlib, raw deflate), so a large member, the
 * sheet of a long list, never has to sit in memory whole.  Every member carries the fixed
 * date 1980-01-01 00:00 (the same bytes for the same content).  No ZIP64: a member or an
 * archive past 4 GiB is refused (EFBIG); an XLSX sheet of Excel's 1,048,576 rows stays far
 * below that.
 *
 * Errors are sticky: after the first failed write every call does nothing (one met on
 * the deflating thread, below, from the next block on), and ns_zip_close() returns -1 with
 * that errno.  The descriptor must be a regular file (the
 * sizes of a member are written into its header once it is complete, with pwrite).
 * Not thread-safe: one archive, one thread (a large member is deflated on a thread of the
 * writer's own, block by block, while the caller makes the next blocks: the same bytes).
 */
#ifndef NS_ZIP_WRITE_H
#define NS_ZIP_WRITE_H

#include <stddef.h>

typedef struct ns_zip ns_zip_t;

/* An archive written to fd from its current start (offset 0), members deflated at zlib
 * level (1..9).  fd stays the caller's.  NULL only if memory runs out. */
ns_zip_t *ns_zip_open(int fd, int level);

/* Start the member name (ends the previous one). */
void ns_zip_begin(ns_zip_t *z, const char *name);

/* Append n bytes to the current member. */
void ns_zip_write(ns_zip_t *z, const void *p, size_t n);

/* A whole member from memory: ns_zip_begin + ns_zip_write. */
void ns_zip_add(ns_zip_t *z, const char *name, const void *p, size_t n);

/* End the last member, write the central directory and free z.  0, or -1 with errno set
 * (the first error met).  fd is neither synced nor closed. */
int ns_zip_close(ns_zip_t *z);

#endif
