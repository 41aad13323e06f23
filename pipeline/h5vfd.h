/* h5vfd.h — an HDF5 file driver that writes straight into the file and never fails HDF5.
 *
 * `run` builds batch.h5 once, front to back, from one thread.  HDF5's sec2 driver would
 * write it with pwrite, the cheapest way (the page cache is filled by one copy), but HDF5
 * 1.10 does not recover from a failed write in mid-build: with sec2, a full disk or a
 * file-size limit ended in a crash at exit.  The core driver, which keeps the file in
 * memory until the close, cannot fail that way, but its memory costs a page fault and a
 * cleared page for every 4 KiB (the 1M night: 0.4 s of the archive's time).
 *
 * This driver is sec2's write path with the failure kept from HDF5: a write or read that
 * fails is recorded (the first errno) and reported to HDF5 as done; later writes are
 * skipped, and reads give zeros.  HDF5 goes on without crashing (some of its later calls
 * may fail, on metadata it reads back as zeros); the caller checks st->err, stops, reports
 * that errno rather than whatever HDF5 said after it, and throws the file away.  It takes
 * the space-allocation features of the core driver, so a file comes out byte for byte as
 * the core driver would make it (objects of 64 KiB or more aligned to 4 KiB if the caller
 * asks HDF5 to, as write_hdf5.c does).  A thread of its own makes the writes, in turn, while
 * HDF5 goes on: the chunks of memory the caller names as kept until the close go past the
 * page cache (O_DIRECT) where the file system allows it, and the thread starts the kernel's
 * writeback of the rest as the file grows, so that the caller's fsync has little left to
 * do (h5vfd.c).  Only the one thread that does HDF5 I/O may use it.
 */
#ifndef NS_H5VFD_H
#define NS_H5VFD_H

#include <hdf5.h>

/* How the writes are made (h5vfd.c): by a thread of the driver, past the page cache where
 * they may be (the default), or through it; or each when HDF5 makes it, as sec2 does. */
enum { NS_H5VFD_DIRECT = 0, NS_H5VFD_PAGE_CACHE = 1, NS_H5VFD_AT_ONCE = 2 };

typedef struct {
    int err;           /* errno of the first failed read, write or truncate; 0 */
    int writes;                        /* NS_H5VFD_DIRECT (0), _PAGE_CACHE or _AT_ONCE */
    const void *stable_lo, *stable_hi; /* memory that stays as it is until the close, whose
                                        * large aligned writes may go direct; NULL: none */
    unsigned long long direct_bytes;   /* bytes written direct, added at each close */
    struct ns_h5vfd_file *files;       /* the driver's: the files open with this state */
} ns_h5vfd_state_t;

/* Make fapl use the driver; st receives the outcome of every file opened with fapl (and
 * must outlive them).  Returns 0, or -1 if HDF5 refused. */
int ns_h5vfd_set(hid_t fapl, ns_h5vfd_state_t *st);

/* Wait until every write queued for the files still open with st is made: none then reads
 * the memory named in stable_lo..stable_hi.  For a file HDF5 could not close (it keeps it
 * open, to close at exit), before that memory is freed.  The one HDF5 thread only. */
void ns_h5vfd_drain(ns_h5vfd_state_t *st);

#endif
