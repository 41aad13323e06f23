/* h5image.h — the memory of HDF5's core driver is the file it becomes.
 *
 * `run` builds batch.h5 with HDF5's core driver: HDF5 keeps the whole file in memory.
 * Left to itself the driver's memory is anonymous: every page is zeroed by the kernel,
 * filled, and copied again into the page cache when a backing store is written at close.
 * Given these callbacks (H5Pset_file_image_callbacks) on a core driver WITHOUT a backing
 * store, the memory is a shared mapping of the output file itself, reserved on disk
 * (posix_fallocate) before it is mapped: the archive's bytes are written once, straight
 * into the page cache, and nothing is copied at close.  After H5Fclose,
 * ns_h5image_finish cuts the file to the end of HDF5's data, the end-of-file address of
 * the superblock (the length HDF5's own backing store would have truncated it to).
 *
 * Failures: if the disk cannot reserve the room (full, over a file-size limit) or the file
 * cannot be mapped, the memory continues as anonymous memory and the reason is kept in
 * err; ns_h5image_finish then writes the image into the file itself, and that write meets
 * the same error and returns it (as HDF5's backing-store write at close did before).
 * Only the one thread that does HDF5 I/O may use this. */
#ifndef NS_H5IMAGE_H
#define NS_H5IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include <hdf5.h>

typedef struct {
    int fd;           /* our own descriptor of the backing file; -1: anonymous only */
    void *base;       /* the driver's memory (NULL until its first write) */
    size_t len;       /* bytes mapped */
    int shared;       /* base maps fd (else anonymous) */
    int err;          /* errno of the first reservation or mapping that failed, or 0 */
    size_t mapped_max;/* the largest extent that was a mapping of the file (for tests) */
    int released;     /* HDF5 has closed the file (its memory stays for finish) */
} ns_h5image_t;

/* Open path (the file HDF5's image is to become; it may already exist) and set the
 * callbacks on fapl, which must already use the core driver, without a backing store.  If
 * the file cannot be opened, fd is -1, err its errno, the memory anonymous, and
 * ns_h5image_finish fails with that errno.  Returns 0, or -1 if the property list refused
 * the callbacks. */
int ns_h5image_init(ns_h5image_t *im, hid_t fapl, const char *path);

/* After a successful H5Fclose: make the file HDF5's image, cut to its end-of-file
 * address (written from memory first if the memory was anonymous).  Returns 0, or -1 with
 * errno set (EINVAL: the memory holds no HDF5 superblock).  The caller fsyncs. */
int ns_h5image_finish(ns_h5image_t *im);

/* Unmap what is still mapped and close the descriptor (after H5Fclose, finished or not). */
void ns_h5image_done(ns_h5image_t *im);

/* The end-of-file address in the superblock at the start of an HDF5 file image of len
 * bytes (versions 0 to 3, no user block), or 0 if there is none or it lies past len. */
uint64_t ns_h5image_eof(const void *image, size_t len);

#endif
