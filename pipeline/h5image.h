/* h5image.h — the memory of HDF5's core driver, mapped onto its backing file.
 *
 * `run` builds batch.h5 with HDF5's core driver and a backing file: HDF5 keeps the whole
 * file in memory and writes it to the backing file when it is closed (HDF5 then handles
 * its own truncation and I/O errors the way it always has).  Left to itself the driver's
 * memory is anonymous: every page is zeroed by the kernel, filled, and copied again into
 * the page cache at close.  Given these callbacks (H5Pset_file_image_callbacks), the memory
 * is instead a shared mapping of the backing file itself, reserved on disk
 * (posix_fallocate) before it is mapped, so the archive's bytes are written once, straight
 * into the page cache; HDF5's write at close then copies each page onto itself.
 *
 * Nothing about failures changes: if the disk cannot reserve the room (full, over a file
 * size limit) or the file cannot be mapped, the memory continues as anonymous memory, the
 * reason is kept, and HDF5's write at close meets the same error it always did.  Only the
 * one thread that does HDF5 I/O may use this. */
#ifndef NS_H5IMAGE_H
#define NS_H5IMAGE_H

#include <stddef.h>
#include <hdf5.h>

typedef struct {
    int fd;           /* our own descriptor of the backing file; -1: anonymous only */
    void *base;       /* the driver's memory (NULL until its first write) */
    size_t len;       /* bytes mapped */
    int shared;       /* base maps fd (else anonymous) */
    int err;          /* errno of the first reservation or mapping that failed, or 0 */
    size_t mapped_max;/* the largest extent that was a mapping of the file (for tests) */
} ns_h5image_t;

/* Open path (the backing file HDF5 will create; it may already exist) and set the
 * callbacks on fapl, which must already use the core driver.  fd == -1 (and no mapping)
 * if the file cannot be opened: the driver then works as if this were never called.
 * Returns 0, or -1 if the property list refused the callbacks. */
int ns_h5image_init(ns_h5image_t *im, hid_t fapl, const char *path);

/* Unmap what HDF5 did not free and close the descriptor (after H5Fclose). */
void ns_h5image_done(ns_h5image_t *im);

#endif
