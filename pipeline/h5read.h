/* h5read.h — reading neoscreen's own batch.h5 archives back: the small HDF5 helpers shared
 * by --history (qc_history.c), `cutoffs derive` and `rescore` (archive.c).
 *
 * HDF5 calls use the numbered API (BUILD-NOTES G2), from the calling thread only (G3).
 * Callers turn HDF5's automatic error printing off around a read (ns_h5_quiet) and every
 * failure is reported once, as "TAG: LABEL PATH: what: HDF5's innermost message".  Strings
 * are read with memory types of the file's own size and character set (the writer uses
 * fixed-length UTF-8; HDF5 does not convert between character sets).
 */
#ifndef NS_H5READ_H
#define NS_H5READ_H

#include <stddef.h>
#include <stdint.h>
#include <hdf5.h>
#include "log.h"
#include "util.h"

/* The file being read, as messages name it: tag "run", label "history archive". */
typedef struct {
    const char *tag, *label, *path;
    int fd;                  /* > 0: a read-only descriptor of the same file, through which
                                the chunk readers below fetch chunks in parallel (pread at
                                the addresses HDF5's chunk index gives); 0: HDF5 reads them */
} ns_h5src_t;

/* Saved automatic-error state: ns_h5_quiet() turns printing off, ns_h5_loud() restores. */
typedef struct {
    H5E_auto2_t fn;
    void *data;
} ns_h5_errstate_t;

void ns_h5_quiet(ns_h5_errstate_t *s);
void ns_h5_loud(const ns_h5_errstate_t *s);

/* Report a failure (see above) and clear HDF5's error stack; returns -1. */
int ns_h5_fail(const ns_h5src_t *s, const char *fmt, ...) NS_FORMAT(2, 3);

/* Open s->path read-only: 0 and the file, or -1 after a report (not HDF5, unreadable). */
int ns_h5_open(const ns_h5src_t *s, hid_t *f);

/* Memory type for a fixed-length file string type (same size + 1, same character set,
 * NUL-terminated), or -1 for any other type. */
hid_t ns_h5_mem_str(hid_t ft);

/* Scalar string attribute `name` of obj as a malloc'd string; "" when absent; NULL after a
 * report. */
char *ns_h5_attr_str(const ns_h5src_t *s, hid_t obj, const char *name);

/* Open the 1-D dataset `name`: its length and *dset, or -1 after a report. */
int64_t ns_h5_len1(const ns_h5src_t *s, hid_t f, const char *name, hid_t *dset);

/* Open the 2-D dataset `name`: 0, *rows, *cols and *dset, or -1 after a report. */
int ns_h5_dims2(const ns_h5src_t *s, hid_t f, const char *name, hid_t *dset, int64_t *rows,
                int64_t *cols);

/* Columns cols[0..nj) (cols NULL: 0..nj-1) of rows [r0, r0 + k) of the 2-D dataset d
 * (ncol columns of plain little-endian numbers, esz 8: IEEE doubles, 1: bytes) into dst,
 * column-major: column j at dst + j * k * esz (cols[j] < 0: column j is skipped and its
 * part of dst left as it is).  For a dataset chunked by column (chunks of
 * R rows x 1 column, what write_hdf5.c writes since the column layout), only the chunks of
 * those columns are read: raw (H5Dread_chunk, from the calling thread; unfiltered chunks
 * straight into dst), then inflated in parallel (OpenMP, zlib).
 * @return 0; 1 when d is not chunked that way (nothing read: the caller reads rows and
 *         transposes); -1 after a report. */
int ns_h5_read_cols(const ns_h5src_t *s, hid_t d, const char *name, int64_t r0, int64_t k,
                    int64_t ncol, size_t esz, const int *cols, int nj, void *dst);

/* Rows [r0, r0 + k) of the 1-D or 2-D dataset d (ncol columns) into buf, as mtype. */
int ns_h5_read_rows(const ns_h5src_t *s, hid_t d, const char *name, int64_t r0, int64_t k,
                    int64_t ncol, hid_t mtype, void *buf);

/* The same for a dataset of plain little-endian numbers (esz 8: IEEE doubles, 1: bytes)
 * chunked by rows with all columns in a chunk (1-D datasets, and matrices of archives
 * written before the column layout), through shuffle and/or deflate or no filter: the
 * chunks are fetched raw (H5Dread_chunk, from the calling thread) and decompressed and
 * unshuffled in parallel (OpenMP, libdeflate), since HDF5's own filter pipeline runs on one
 * thread.  Any other layout, type or filter is read with ns_h5_read_rows.  Same bytes
 * either way. */
int ns_h5_read_rows_par(const ns_h5src_t *s, hid_t d, const char *name, int64_t r0, int64_t k,
                        int64_t ncol, size_t esz, void *buf);

/* One compound field to read: its name, and where it goes in the memory row. */
typedef struct {
    const char *name;
    int is_str;             /* 1: fixed-length string (width from the file), 0: numeric */
    hid_t num;              /* memory type for a numeric field */
    size_t off, width;      /* filled by ns_h5_read_table */
} ns_h5field_t;

/* Rows [r0, r0 + k) of the named fields of compound dataset d into a malloc'd buffer of
 * rows of *rowsize bytes, strings NUL-terminated.  NULL after a report. */
void *ns_h5_read_table(const ns_h5src_t *s, hid_t d, const char *name, int64_t r0, int64_t k,
                       ns_h5field_t *fl, int nf, size_t *rowsize);

/* The 1-D fixed-length string dataset `name` as a malloc'd array of *n malloc'd strings
 * (free with ns_h5_strlist_free); NULL after a report. */
char **ns_h5_read_strlist(const ns_h5src_t *s, hid_t f, const char *name, int64_t *n);
void ns_h5_strlist_free(char **v, int64_t n);

/* Every regular file named exactly `fname` under dir, at any depth (symbolic links are
 * skipped: a link cannot make a file count twice or the walk loop), appended to *v / *n
 * (realloc'd; free each and the array).  A missing or unreadable directory is an error
 * reported under tag: returns -1. */
int ns_h5_find_files(const char *tag, const char *dir, const char *fname, char ***v, int *n);

#endif
