/* write_hdf5.c — see write_hdf5.h for the layout.
 *
 * Everything goes through a few helpers: scalar/list string attributes, fixed-length string
 * lists, compound tables described by a column list and a row callback (two passes: the
 * first sizes the string fields so nothing is truncated, the second fills and writes one
 * chunk of rows at a time), and column-major batch arrays transposed into row-major chunks.
 * Buffers handed to HDF5 are always zeroed first (BUILD-NOTES G4), and memory use is bounded
 * by one chunk, not by the batch.
 *
 * Errors: the first failure is recorded with what was being written and the innermost
 * message of HDF5's error stack (read immediately, before another HDF5 call clears it),
 * then reported once through ns_error("run", ...).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <hdf5.h>
#include <omp.h>
#include "write_hdf5.h"
#include "atomic_file.h"
#include "h5vfd.h"
#include "log.h"
#include "plate_qc.h"
#include "run_followup.h"
#include "score.h"
#include "sha256.h"
#include "util.h"
#include "version.h"
#include "zdeflate.h"

#define CHUNK_ROWS 4096                 /* rows per chunk (all columns in one chunk) */
#define CHUNK_MAX_BYTES ((size_t)4 << 20)
#define DEFLATE_LEVEL 1                 /* the level the filter declares; the chunks are deflated by zdeflate.h */
#define CORE_INCREMENT ((size_t)8 << 20) /* in-memory file grows by this much */
#define MAX_COLS 24                     /* columns of the widest compound table */

typedef struct {
    hid_t f;
    int failed;
    char msg[1024];
    ns_h5vfd_state_t *vst;              /* the driver's state, when the file is written through it */
    int unplaced;                       /* a chunk compressor without a placed stream state */
} wctx_t;

/* ------------------------------------------------------------------ errors */

typedef struct { char s[1024]; } inner_t;

static herr_t walk_cb(unsigned n, const H5E_error2_t *e, void *data)
{
    /* walked upward: n == 0 is the innermost (most specific) entry */
    if (n == 0 && e->desc) snprintf(((inner_t *)data)->s, sizeof ((inner_t *)data)->s, "%s",
                                    e->desc);
    return 0;
}

/* Record the first failure: "what" plus HDF5's innermost message, if any.  Must be called
 * right after the failing HDF5 call.  Always returns -1. */
static int fail(wctx_t *w, const char *fmt, ...) NS_FORMAT(2, 3);
static int fail(wctx_t *w, const char *fmt, ...)
{
    if (w->failed) return -1;
    inner_t in = { "" };
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_cb, &in);
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(w->msg, sizeof w->msg, fmt, ap);
    va_end(ap);
    if (in.s[0] && k >= 0 && (size_t)k < sizeof w->msg) {
        /* a system call failed: HDF5 says "... errno = 2, error message = 'No such file or
         * directory', ..."; the quoted message alone reads best */
        const char *em = strstr(in.s, "error message = '"), *end;
        if (em && (end = strchr(em += 17, '\'')) != NULL)
            snprintf(w->msg + k, sizeof w->msg - (size_t)k, ": %.*s", (int)(end - em), em);
        else
            snprintf(w->msg + k, sizeof w->msg - (size_t)k, " (HDF5: %s)", in.s);
    }
    w->failed = 1;
    return -1;
}

static void close_type(hid_t t) { if (t >= 0) H5Tclose(t); }
static void close_space(hid_t s) { if (s >= 0) H5Sclose(s); }
static void close_plist(hid_t p) { if (p >= 0) H5Pclose(p); }

/* ------------------------------------------------------------------ types */

/* Fixed-length UTF-8 string of size bytes (at least 1). */
static hid_t str_fixed(size_t size, H5T_str_t pad)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0) return -1;
    if (H5Tset_size(t, size ? size : 1) < 0 || H5Tset_strpad(t, pad) < 0
        || H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

static hid_t str_vlen(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0) return -1;
    if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

static const char *nz(const char *s) { return s ? s : ""; }

/* ------------------------------------------------------------------ attributes */

static int attr_write(wctx_t *w, hid_t obj, const char *objname, const char *name,
                      hid_t ftype, hid_t mtype, hid_t space, const void *buf)
{
    hid_t a = H5Acreate2(obj, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0) return fail(w, "creating attribute %s of %s", name, objname);
    if (H5Awrite(a, mtype, buf) < 0) {
        fail(w, "writing attribute %s of %s", name, objname);
        H5Aclose(a);
        return -1;
    }
    if (H5Aclose(a) < 0) return fail(w, "closing attribute %s of %s", name, objname);
    return 0;
}

/* Scalar variable-length string attribute. */
static int attr_str(wctx_t *w, hid_t obj, const char *objname, const char *name,
                    const char *val)
{
    const char *v = nz(val);
    hid_t t = str_vlen(), s = H5Screate(H5S_SCALAR);
    int r = t < 0 || s < 0 ? fail(w, "making the type of attribute %s", name)
                           : attr_write(w, obj, objname, name, t, t, s, &v);
    close_type(t);
    close_space(s);
    return r;
}

/* 1-D variable-length string attribute (a list of code names). */
static int attr_strs(wctx_t *w, hid_t obj, const char *objname, const char *name,
                     const char *const *v, int n)
{
    hsize_t dim = (hsize_t)n;
    const char **c = ns_calloc((size_t)n, sizeof *c);
    for (int k = 0; k < n; k++) c[k] = nz(v[k]);
    hid_t t = str_vlen(), s = H5Screate_simple(1, &dim, NULL);
    int r = t < 0 || s < 0 ? fail(w, "making the type of attribute %s", name)
                           : attr_write(w, obj, objname, name, t, t, s, c);
    close_type(t);
    close_space(s);
    free(c);
    return r;
}

static int attr_i64(wctx_t *w, hid_t obj, const char *objname, const char *name, int64_t v)
{
    hid_t s = H5Screate(H5S_SCALAR);
    int r = s < 0 ? fail(w, "making the space of attribute %s", name)
                  : attr_write(w, obj, objname, name, H5T_STD_I64LE, H5T_NATIVE_INT64, s, &v);
    close_space(s);
    return r;
}

/* Attribute on an object given by absolute path. */
static int attr_strs_at(wctx_t *w, const char *objname, const char *name,
                        const char *const *v, int n)
{
    hid_t o = H5Oopen(w->f, objname, H5P_DEFAULT);
    if (o < 0) return fail(w, "opening %s", objname);
    int r = attr_strs(w, o, objname, name, v, n);
    H5Oclose(o);
    return r;
}

static int attr_str_at(wctx_t *w, const char *objname, const char *name, const char *v)
{
    hid_t o = H5Oopen(w->f, objname, H5P_DEFAULT);
    if (o < 0) return fail(w, "opening %s", objname);
    int r = attr_str(w, o, objname, name, v);
    H5Oclose(o);
    return r;
}

/* ------------------------------------------------------------------ datasets */

static hsize_t chunk_rows(hsize_t n, size_t rowbytes)
{
    hsize_t k = CHUNK_ROWS;
    if (rowbytes > 0 && k * rowbytes > CHUNK_MAX_BYTES) k = CHUNK_MAX_BYTES / rowbytes;
    if (k < 1) k = 1;
    return k < n ? k : n;
}

static int create_group(wctx_t *w, const char *name)
{
    hid_t p = H5Pcreate(H5P_GROUP_CREATE), g = -1;
    if (p < 0 || H5Pset_obj_track_times(p, 0) < 0) {
        fail(w, "making the properties of group %s", name);
    } else if ((g = H5Gcreate2(w->f, name, H5P_DEFAULT, p, H5P_DEFAULT)) < 0) {
        fail(w, "creating group %s", name);
    }
    close_plist(p);
    if (g < 0) return -1;
    if (H5Gclose(g) < 0) return fail(w, "closing group %s", name);
    return 0;
}

/* Create dataset name (absolute path) of rank 0 (scalar), 1 or 2.  With chunked != 0 and
 * no zero dimension it is chunked by rows (all columns per chunk): CHUNK_DEFLATE adds
 * shuffle + deflate, CHUNK_DEFLATE_ONLY deflate alone (tables), CHUNK_RAW no filter; otherwise contiguous.  Returns the dataset or -1
 * (recorded).
 *
 * Why doubles are not compressed: measured on a 100,000-card night, shuffle + deflate saves
 * 15 % of /analytes/values (33.9 -> 28.7 MB; 11 % of /ratios/values) because values read
 * from a decimal export have near-random mantissa bits, and it costs 29-37 MiB/s to write
 * and 160 MiB/s to read on one thread: most of `run`'s time, and all of `rescore`'s reading.
 * Codes, flags, calls and the text tables still shrink 5-10x and keep deflate. */
enum { CHUNK_NONE = 0, CHUNK_DEFLATE = 1, CHUNK_RAW = 2, CHUNK_DEFLATE_ONLY = 3 };
static hid_t create_ds(wctx_t *w, const char *name, hid_t ftype, int rank, const hsize_t *dims,
                       size_t rowbytes, int chunked)
{
    hid_t sp = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims, NULL);
    hid_t p = H5Pcreate(H5P_DATASET_CREATE), d = -1;
    int contiguous = rank == 0 || !chunked;
    for (int k = 0; k < rank; k++) if (dims[k] == 0) contiguous = 1;
    if (sp < 0 || p < 0 || H5Pset_obj_track_times(p, 0) < 0) {
        fail(w, "making the properties of %s", name);
        goto out;
    }
    if (!contiguous) {
        hsize_t ch[2] = { chunk_rows(dims[0], rowbytes), rank > 1 ? dims[1] : 1 };
        if (H5Pset_chunk(p, rank, ch) < 0
            || (chunked == CHUNK_DEFLATE && (H5Pset_shuffle(p) < 0 || H5Pset_deflate(p, DEFLATE_LEVEL) < 0))
            || (chunked == CHUNK_DEFLATE_ONLY && H5Pset_deflate(p, DEFLATE_LEVEL) < 0)) {
            fail(w, "setting chunking and compression of %s", name);
            goto out;
        }
    }
    if ((d = H5Dcreate2(w->f, name, ftype, sp, H5P_DEFAULT, p, H5P_DEFAULT)) < 0)
        fail(w, "creating dataset %s", name);
out:
    close_space(sp);
    close_plist(p);
    return d;
}

/* Write rows [r0, r0 + k) of a rank-1 or rank-2 dataset with ncol columns from buf. */
static int write_rows(wctx_t *w, hid_t d, const char *name, int rank, hsize_t ncol,
                      hsize_t r0, hsize_t k, hid_t mtype, const void *buf)
{
    hsize_t start[2] = { r0, 0 }, count[2] = { k, ncol };
    hid_t fs = H5Dget_space(d), ms = -1;
    int r = -1;
    if (fs < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) < 0
        || (ms = H5Screate_simple(rank, count, NULL)) < 0) {
        fail(w, "selecting rows %llu..%llu of %s", (unsigned long long)r0,
             (unsigned long long)(r0 + k), name);
    } else if (H5Dwrite(d, mtype, ms, fs, H5P_DEFAULT, buf) < 0) {
        fail(w, "writing rows %llu..%llu of %s", (unsigned long long)r0,
             (unsigned long long)(r0 + k), name);
    } else {
        r = 0;
    }
    close_space(ms);
    close_space(fs);
    return r;
}

static int close_ds(wctx_t *w, hid_t d, const char *name)
{
    if (H5Dclose(d) < 0) return fail(w, "closing %s", name);
    return 0;
}

/* 1-D dataset of fixed-length strings, as wide as the longest + 1. */
static int write_strlist(wctx_t *w, const char *name, const char *const *v, int n)
{
    size_t width = 1;
    for (int k = 0; k < n; k++) {
        size_t l = strlen(nz(v[k])) + 1;
        if (l > width) width = l;
    }
    char *buf = ns_calloc((size_t)n ? (size_t)n : 1, width);
    for (int k = 0; k < n; k++) memcpy(buf + (size_t)k * width, nz(v[k]), strlen(nz(v[k])));
    hsize_t dim = (hsize_t)n;
    hid_t t = str_fixed(width, H5T_STR_NULLTERM), d = -1;
    int r = -1;
    if (t < 0) {
        fail(w, "making the string type of %s", name);
    } else if ((d = create_ds(w, name, t, 1, &dim, width, 0)) >= 0) {
        r = n > 0 ? write_rows(w, d, name, 1, 1, 0, dim, t, buf) : 0;
        if (close_ds(w, d, name) < 0) r = -1;
    }
    close_type(t);
    free(buf);
    return r;
}

/* A chunk compressor for this thread; one whose stream state found no room is noted in w
 * (the archive's bytes may then differ between runs: zdeflate.h) */
static ns_zdeflate_t *zdeflate_new(wctx_t *w)
{
    ns_zdeflate_t *z = ns_zdeflate_new();
    if (z && !ns_zdeflate_placed(z)) {
        #pragma omp atomic write
        w->unplaced = 1;
    }
    return z;
}

/* Batch array src, column-major (column c, row i at src[c * n + i]), written as a row-major
 * [n][ncol] matrix (or a [n] vector when vector != 0 and ncol == 1).  esz is 8 (double) or
 * 1 (uint8).
 *
 * Chunks hold COL_CHUNK_ROWS rows of ONE column, so a column of the batch is already a run of
 * whole chunks: they go to the file as they are (H5Dwrite_chunk), with no transposition, and
 * a reader that wants a few columns reads only those (rescore, derive).  Doubles are stored
 * unfiltered (see create_ds); the byte matrices are deflated here, chunks in parallel, and
 * written in a fixed order (the same file at any thread count).  HDF5's own deflate filter
 * is declared on the dataset, so any HDF5 reader inflates them. */
#define COL_CHUNK_ROWS 65536
static int write_matrix(wctx_t *w, const char *name, const void *src, size_t esz, int64_t n,
                        int ncol, int vector, const char *dims_attr)
{
    hid_t ft = esz == 8 ? H5T_IEEE_F64LE : H5T_STD_U8LE;
    hid_t mt = esz == 8 ? H5T_NATIVE_DOUBLE : H5T_NATIVE_UINT8;
    const int rank = vector ? 1 : 2, deflate = esz != 8;
    hsize_t dims[2] = { (hsize_t)n, (hsize_t)ncol };
    const hsize_t cr = dims[0] < COL_CHUNK_ROWS ? dims[0] : COL_CHUNK_ROWS;
    hid_t sp = H5Screate_simple(rank, dims, NULL), p = H5Pcreate(H5P_DATASET_CREATE), d = -1;
    int r = -1;
    if (sp < 0 || p < 0 || H5Pset_obj_track_times(p, 0) < 0) {
        fail(w, "making the properties of %s", name);
        goto out;
    }
    if (n > 0 && ncol > 0) {
        hsize_t ch[2] = { cr, 1 };
        /* shuffle is declared as on every deflated dataset; on one-byte elements it is the
         * identity, so the chunks below are only deflated */
        if (H5Pset_chunk(p, rank, ch) < 0
            || (deflate && (H5Pset_shuffle(p) < 0 || H5Pset_deflate(p, DEFLATE_LEVEL) < 0))) {
            fail(w, "setting chunking and compression of %s", name);
            goto out;
        }
    }
    if ((d = H5Dcreate2(w->f, name, ft, sp, H5P_DEFAULT, p, H5P_DEFAULT)) < 0) {
        fail(w, "creating dataset %s", name);
        goto out;
    }
    r = 0;
    const int native = H5Tequal(mt, ft) > 0;     /* raw chunk bytes are the file's bytes */
    const int64_t nch = n > 0 ? (n + (int64_t)cr - 1) / (int64_t)cr : 0;
    const size_t chunk_bytes = (size_t)cr * esz, bound = ns_zdeflate_bound(chunk_bytes);
    const int64_t ntask = (int64_t)ncol * nch;     /* chunk k of column c: task c * nch + k */
    unsigned char **zb = NULL;
    size_t *zlen = NULL;
    if (ntask > 0 && deflate && native) {
        /* every chunk of every column deflated in one parallel region (one region per
         * matrix, not per column: fewer joins, and fewer gaps in which an idle OpenMP
         * thread spins on a core the report and list writers need), each kept at its
         * compressed size; written below in column order, as before */
        zb = ns_calloc((size_t)ntask, sizeof *zb);
        zlen = ns_calloc((size_t)ntask, sizeof *zlen);
        int bad = 0;
        #pragma omp parallel if (ntask > 1)
        {
            ns_zdeflate_t *z = zdeflate_new(w);
            unsigned char *pad = ns_calloc(1, chunk_bytes), *out = ns_malloc(bound);
            #pragma omp for schedule(dynamic, 1) reduction(|:bad)
            for (int64_t t = 0; t < ntask; t++) {
                const int64_t c = t / nch, k = t % nch;
                const size_t rows = (size_t)(k + 1 < nch ? (int64_t)cr : n - k * (int64_t)cr);
                const unsigned char *in = (const unsigned char *)src + ((size_t)c * (size_t)n + (size_t)k * cr) * esz;
                if (rows < cr) {                  /* partial: zero-padded to a whole chunk */
                    memcpy(pad, in, rows * esz);
                    memset(pad + rows * esz, 0, chunk_bytes - rows * esz);
                    in = pad;
                }
                zlen[t] = z ? ns_zdeflate(z, in, chunk_bytes, out, bound) : 0;
                if (zlen[t] == 0) { bad = 1; continue; }
                zb[t] = ns_malloc(zlen[t]);
                memcpy(zb[t], out, zlen[t]);
            }
            ns_zdeflate_free(z);
            free(pad);
            free(out);
        }
        if (bad) r = fail(w, "compressing a chunk of %s", name);
    }
    unsigned char *edge = nch > 0 ? ns_calloc(1, chunk_bytes) : NULL;   /* the last, partial chunk, zero-padded */
    for (int c = 0; c < ncol && nch > 0 && r == 0; c++) {
        const unsigned char *col = (const unsigned char *)src + (size_t)c * (size_t)n * esz;
        if (!native) {                           /* a big-endian host: let HDF5 convert */
            hsize_t start[2] = { 0, (hsize_t)c }, count[2] = { dims[0], 1 };
            hid_t fs = H5Dget_space(d), ms = H5Screate_simple(1, dims, NULL);
            if (fs < 0 || ms < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) < 0
                || H5Dwrite(d, mt, ms, fs, H5P_DEFAULT, col) < 0)
                r = fail(w, "writing column %d of %s", c, name);
            close_space(ms);
            close_space(fs);
            continue;
        }
        for (int64_t k = 0; k < nch && r == 0; k++) {
            hsize_t off[2] = { (hsize_t)k * cr, (hsize_t)c };
            size_t rows = (size_t)(k + 1 < nch ? (int64_t)cr : n - k * (int64_t)cr);
            const void *buf;
            size_t len;
            if (deflate) {
                buf = zb[(int64_t)c * nch + k];
                len = zlen[(int64_t)c * nch + k];
            } else if (rows < cr) {
                memcpy(edge, col + (size_t)k * chunk_bytes, rows * esz);
                buf = edge;
                len = chunk_bytes;
            } else {
                buf = col + (size_t)k * chunk_bytes;
                len = chunk_bytes;
            }
            if (H5Dwrite_chunk(d, H5P_DEFAULT, 0, off, len, buf) < 0)
                r = fail(w, "writing rows %llu..%llu of column %d of %s", (unsigned long long)off[0],
                         (unsigned long long)(off[0] + rows), c, name);
        }
    }
    if (zb) for (int64_t t = 0; t < ntask; t++) free(zb[t]);
    free(zb);
    free(zlen);
    free(edge);
    if (close_ds(w, d, name) < 0) r = -1;
    d = -1;
    if (r == 0 && dims_attr) r = attr_str_at(w, name, "dims", dims_attr);
out:
    if (d >= 0) H5Dclose(d);
    close_space(sp);
    close_plist(p);
    return r;
}

/* ------------------------------------------------------------------ compound tables */

enum { K_STR, K_F64, K_I64, K_I32, K_I8 };

typedef struct {
    const char *name;
    int kind;
} col_t;

typedef union {
    const char *s;      /* K_STR (NULL = "") */
    double f;           /* K_F64 */
    int64_t i;          /* integer kinds */
} cell_t;

#define NCOLS(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Fill the cells of row i, in the order of the table's column list; string pointers must
 * stay valid until the next call with the same ctx.  Row functions are called from several
 * threads at once, each with its own copy of ctx (a ctx holds scratch space and pointers
 * to read, never state carried from one row to the next). */
typedef void (*row_fn)(void *ctx, int64_t i, cell_t *out);

/* The layout of a table's rows: fixed-width strings as wide as the longest value + NUL. */
typedef struct {
    const col_t *cols;
    int nc;
    size_t width[MAX_COLS], off[MAX_COLS], rowsize;
} layout_t;

/* Row i into row (rowsize bytes, zeroed), through fn with the caller's ctx. */
static void fill_row(const layout_t *L, row_fn fn, void *ctx, int64_t i, unsigned char *row)
{
    cell_t cell[MAX_COLS];
    fn(ctx, i, cell);
    for (int c = 0; c < L->nc; c++) {
        unsigned char *p = row + L->off[c];
        switch (L->cols[c].kind) {
        case K_STR: {
            /* a byte at a time: the strings are short (a few to 60 bytes), where this beats
             * strlen + memcpy (two calls a field; a fifth of /samples' CPU) */
            const char *s = cell[c].s;
            if (s)
                for (size_t k = 0, w = L->width[c] - 1; k < w && s[k]; k++) p[k] = (unsigned char)s[k];
            break;
        }
        case K_F64: memcpy(p, &cell[c].f, 8); break;
        case K_I64: memcpy(p, &cell[c].i, 8); break;
        case K_I32: { int32_t v = (int32_t)cell[c].i; memcpy(p, &v, 4); break; }
        default:    { int8_t v = (int8_t)cell[c].i; memcpy(p, &v, 1); break; }
        }
    }
}

/* Per-thread copies of a row function's ctx (ctx_size bytes), one per OpenMP thread. */
static unsigned char *ctx_copies(const void *ctx, size_t ctx_size, int nth)
{
    unsigned char *t = ns_malloc((size_t)nth * ctx_size + 1);
    for (int k = 0; k < nth; k++) memcpy(t + (size_t)k * ctx_size, ctx, ctx_size);
    return t;
}

#define PAR_ROWS 4096       /* fewer rows than this are done on one thread */

/* A table of n rows, chunked by rows and deflated (deflate 0: stored as it is, for a table
 * read whole and often, like /samples_ids).  width (NULL: not wanted): on entry, the width
 * of each text column when the caller knows it (the longest string + 1, as the first pass
 * below measures it; 0: measure), on return the widths used. */
static int write_table_as(wctx_t *w, const char *name, const col_t *cols, int nc, int64_t n,
                          row_fn fn, void *ctx, size_t ctx_size, int deflate, size_t *width)
{
    layout_t L = { .cols = cols, .nc = nc };
    hid_t mt = -1, ft = -1, d = -1;
    unsigned char *buf = NULL;
    int r = -1;
    const int nth = omp_get_max_threads();
    unsigned char *tctx = ctx_copies(ctx, ctx_size, nth);

    for (int c = 0; c < nc; c++) {
        static const size_t sz[] = { 1, 8, 8, 4, 1 };
        L.width[c] = sz[cols[c].kind];
    }
    /* pass 1: string widths, rows in parallel, each thread its widths, then the widest
     * (unless the caller knows them all) */
    int known = width != NULL;
    for (int c = 0; c < nc && known; c++) known = cols[c].kind != K_STR || width[c] > 0;
    size_t *tw = ns_calloc((size_t)nth * (size_t)MAX_COLS, sizeof *tw);
    if (known) {
        for (int c = 0; c < nc; c++) tw[c] = cols[c].kind == K_STR ? width[c] : 0;
    } else {
        #pragma omp parallel if (n >= PAR_ROWS)
        {
            const int t = omp_get_thread_num();
            void *x = tctx + (size_t)t * ctx_size;
            size_t *mw = tw + (size_t)t * MAX_COLS;
            cell_t cell[MAX_COLS];
            #pragma omp for schedule(static)
            for (int64_t i = 0; i < n; i++) {
                fn(x, i, cell);
                for (int c = 0; c < nc; c++)
                    if (cols[c].kind == K_STR) {
                        size_t l = strlen(nz(cell[c].s)) + 1;
                        if (l > mw[c]) mw[c] = l;
                    }
            }
        }
    }
    for (int t = 0; t < nth; t++)
        for (int c = 0; c < nc; c++)
            if (tw[(size_t)t * MAX_COLS + c] > L.width[c]) L.width[c] = tw[(size_t)t * MAX_COLS + c];
    free(tw);
    if (width)
        for (int c = 0; c < nc; c++) width[c] = L.width[c];
    L.rowsize = 0;
    for (int c = 0; c < nc; c++) { L.off[c] = L.rowsize; L.rowsize += L.width[c]; }
    const size_t rowsize = L.rowsize;

    if ((mt = H5Tcreate(H5T_COMPOUND, rowsize)) < 0
        || (ft = H5Tcreate(H5T_COMPOUND, rowsize)) < 0) {
        fail(w, "making the row type of %s", name);
        goto out;
    }
    for (int c = 0; c < nc; c++) {
        hid_t st = -1, m, f;
        switch (cols[c].kind) {
        case K_STR: m = f = st = str_fixed(L.width[c], H5T_STR_NULLTERM); break;
        case K_F64: m = H5T_NATIVE_DOUBLE; f = H5T_IEEE_F64LE; break;
        case K_I64: m = H5T_NATIVE_INT64; f = H5T_STD_I64LE; break;
        case K_I32: m = H5T_NATIVE_INT32; f = H5T_STD_I32LE; break;
        default:    m = H5T_NATIVE_INT8; f = H5T_STD_I8LE; break;
        }
        int bad = m < 0 || H5Tinsert(mt, cols[c].name, L.off[c], m) < 0
                  || H5Tinsert(ft, cols[c].name, L.off[c], f) < 0;
        if (bad) fail(w, "adding field %s to the row type of %s", cols[c].name, name);
        close_type(st);
        if (bad) goto out;
    }

    hsize_t dim = (hsize_t)n;
    /* deflate without shuffle: on /samples (178-byte rows, mostly text) shuffling made the
     * chunks 13 % larger and slower to compress, and unshuffling dominated reading it */
    if ((d = create_ds(w, name, ft, 1, &dim, rowsize, deflate ? CHUNK_DEFLATE_ONLY : CHUNK_RAW)) < 0) goto out;
    r = 0;
    if (n > 0) {
        /* pass 2: GROUP chunks at a time, each chunk filled (its rows zeroed first: G4, no
         * stray bytes in the file) and deflated by one thread, as HDF5's filter would, then
         * written raw in order: the same file at any thread count */
        enum { GROUP = 32 };
        const union { uint16_t u; uint8_t b[2]; } endian = { 1 };
        const hsize_t kmax = chunk_rows(dim, rowsize);
        const size_t cbytes = (size_t)kmax * rowsize, bound = ns_zdeflate_bound(cbytes);
        const int direct = endian.b[0] == 1;           /* memory rows are the file's bytes */
        buf = ns_malloc((size_t)GROUP * cbytes);
        unsigned char *zb = direct && deflate ? ns_malloc((size_t)GROUP * bound) : NULL;
        size_t zlen[GROUP];
        ns_zdeflate_t **z = ns_calloc((size_t)nth, sizeof *z);
        for (hsize_t g0 = 0; g0 < dim && r == 0; g0 += (hsize_t)GROUP * kmax) {
            const int nchg = (int)((dim - g0 + kmax - 1) / kmax < GROUP ? (dim - g0 + kmax - 1) / kmax : GROUP);
            const hsize_t grows = dim - g0 < (hsize_t)nchg * kmax ? dim - g0 : (hsize_t)nchg * kmax;
            int bad = 0;
            #pragma omp parallel if (nchg > 1 && grows >= PAR_ROWS)
            {
                const int t = omp_get_thread_num();
                void *x = tctx + (size_t)t * ctx_size;
                if (direct && deflate && !z[t]) z[t] = zdeflate_new(w);
                #pragma omp for schedule(dynamic, 1) reduction(|:bad)
                for (int k = 0; k < nchg; k++) {
                    unsigned char *cb = buf + (size_t)k * cbytes;
                    const hsize_t r0 = g0 + (hsize_t)k * kmax, r1 = r0 + kmax < g0 + grows ? r0 + kmax : g0 + grows;
                    memset(cb, 0, cbytes);
                    for (hsize_t j = r0; j < r1; j++) fill_row(&L, fn, x, (int64_t)j, cb + (size_t)(j - r0) * rowsize);
                    if (!direct || !deflate) continue;
                    zlen[k] = z[t] ? ns_zdeflate(z[t], cb, cbytes, zb + (size_t)k * bound, bound) : 0;
                    if (zlen[k] == 0) bad = 1;
                }
            }
            if (!direct) {
                r = write_rows(w, d, name, 1, 1, g0, grows, mt, buf);
                continue;
            }
            if (bad) { r = fail(w, "compressing rows of %s", name); break; }
            for (int k = 0; k < nchg && r == 0; k++) {
                hsize_t off0 = g0 + (hsize_t)k * kmax;
                const int ok = deflate ? H5Dwrite_chunk(d, H5P_DEFAULT, 0, &off0, zlen[k], zb + (size_t)k * bound) >= 0
                                       : H5Dwrite_chunk(d, H5P_DEFAULT, 0, &off0, cbytes, buf + (size_t)k * cbytes) >= 0;
                if (!ok)
                    r = fail(w, "writing rows %llu..%llu of %s", (unsigned long long)off0,
                             (unsigned long long)(off0 + kmax), name);
            }
        }
        for (int t = 0; t < nth; t++) ns_zdeflate_free(z[t]);
        free(z);
        free(zb);
    }
    if (close_ds(w, d, name) < 0) r = -1;
out:
    free(buf);
    free(tctx);
    close_type(mt);
    close_type(ft);
    return r;
}

static int write_table(wctx_t *w, const char *name, const col_t *cols, int nc, int64_t n,
                       row_fn fn, void *ctx, size_t ctx_size)
{
    return write_table_as(w, name, cols, nc, n, fn, ctx, ctx_size, 1, NULL);
}

/* ------------------------------------------------------------------ rows */

typedef struct {
    const ns_batch_t *b;
    const char *manifest_error;
    const int64_t *idx;             /* manifest_unplated: manifest row indices */
    char well[5];
    char id[NS_NAME_MAX + 1];       /* /qc/controls: plate_id, NUL-terminated */
} rctx_t;

static const char *base_name(const char *path)
{
    const char *s = path ? strrchr(path, '/') : NULL;
    return s ? s + 1 : nz(path);
}

static const col_t input_cols[] = {
    { "kind", K_STR }, { "name", K_STR }, { "path", K_STR }, { "sha256", K_STR },
    { "encoding", K_STR }, { "status", K_STR }, { "n_wells", K_I64 }, { "error", K_STR },
};

static void input_row(void *ctx, int64_t i, cell_t *o)
{
    const rctx_t *x = ctx;
    const ns_batch_t *b = x->b;
    if (i < b->n_plates) {
        const ns_plate_t *p = &b->plates[i];
        o[0].s = "plate";
        o[1].s = p->name;
        o[2].s = p->path;
        o[3].s = p->sha256;
        o[4].s = p->encoding;
        o[5].s = p->status == NS_PLATE_OK ? "ok" : "quarantined";
        o[6].i = p->n_wells;
        o[7].s = p->error;
    } else {
        const ns_manifest_t *m = &b->manifest;
        o[0].s = "manifest";
        o[1].s = base_name(m->path);
        o[2].s = m->path;
        o[3].s = m->sha256;
        o[4].s = m->encoding;
        o[5].s = m->ok ? "ok" : "quarantined";
        o[6].i = m->n;
        o[7].s = x->manifest_error;
    }
}

static const col_t sample_cols[] = {
    { "sample_id", K_STR }, { "plate_id", K_STR }, { "well", K_STR },
    { "sample_type", K_STR }, { "state", K_STR }, { "manifest_line", K_I32 },
    { "infant_id", K_STR }, { "specimen", K_STR }, { "sex", K_STR }, { "hospital", K_STR },
    { "birth_weight_g", K_F64 }, { "gestational_age_days", K_F64 }, { "age_hours", K_F64 },
    { "feeding", K_STR }, { "transfusion", K_I8 }, { "antibiotics", K_I8 }, { "nicu", K_I8 },
};

/* Only the manifest fields listed here are read: mother_name, contact_phone, birth_time
 * and collection_time never reach the archive. */
static void sample_row(void *ctx, int64_t i, cell_t *o)
{
    rctx_t *x = ctx;
    const ns_batch_t *b = x->b;
    int pl = b->plate ? b->plate[i] : -1;
    int64_t m = b->mrow ? b->mrow[i] : -1;
    const ns_manifest_row_t *r = m >= 0 && m < b->manifest.n ? &b->manifest.rows[m] : NULL;

    x->well[0] = 0;
    if (b->well) { memcpy(x->well, b->well[i], 4); x->well[4] = 0; }
    o[0].s = b->sample_id ? b->sample_id[i] : NULL;
    o[1].s = pl >= 0 && pl < b->n_plates ? b->plates[pl].id : NULL;
    o[2].s = x->well;
    o[3].s = b->type ? ns_type_name(b->type[i]) : NULL;
    o[4].s = b->state ? ns_state_name(b->state[i]) : NULL;
    o[5].i = r ? r->line : -1;
    o[6].s = r ? r->infant_id : NULL;
    o[7].s = r ? r->specimen : NULL;
    o[8].s = r ? r->sex : NULL;
    o[9].s = r ? r->hospital : NULL;
    o[10].f = r ? r->birth_weight_g : NAN;
    o[11].f = r ? r->gestational_age_days : NAN;
    o[12].f = r ? r->age_hours : NAN;
    o[13].s = r ? r->feeding : NULL;
    o[14].i = r ? r->transfusion : -1;
    o[15].i = r ? r->antibiotics : -1;
    o[16].i = r ? r->nicu : -1;
}

/* /samples_ids: the two IDs of /samples again, on their own, so that `rescore` can name
 * the cards it lists without inflating every card's covariates.  Stored without deflate:
 * `rescore` reads every row of it, and inflating it was a quarter of a default rescore's
 * time (1M cards: 27.9 MB raw against 4.0 MB deflated, 4 % of the archive; BENCHMARKS.md). */
static const col_t id_cols[] = { { "sample_id", K_STR }, { "infant_id", K_STR } };

static void id_row(void *ctx, int64_t i, cell_t *o)
{
    const ns_batch_t *b = ((rctx_t *)ctx)->b;
    int64_t m = b->mrow ? b->mrow[i] : -1;
    o[0].s = b->sample_id ? b->sample_id[i] : NULL;
    o[1].s = m >= 0 && m < b->manifest.n ? b->manifest.rows[m].infant_id : NULL;
}

static const col_t slot_cols[] = {
    { "condition", K_STR }, { "condition_index", K_I32 }, { "marker", K_STR },
    { "marker_index", K_I32 }, { "role", K_STR }, { "direction", K_STR },
    { "cutoff", K_F64 }, { "borderline", K_F64 }, { "critical", K_F64 },
};

static void slot_row(void *ctx, int64_t s, cell_t *o)
{
    const ns_panel_t *p = ((const rctx_t *)ctx)->b->panel;
    int c = p->slot_cond[s];
    const ns_condition_t *cd = &p->conds[c];
    const ns_marker_t *mk = &cd->markers[p->slot_marker[s]];
    o[0].s = cd->code;
    o[1].i = c;
    o[2].s = ns_panel_marker_name(p, mk->marker);
    o[3].i = mk->marker;
    o[4].s = mk->role == NS_ROLE_PRIMARY ? "primary" : "secondary";
    o[5].s = mk->thr.dir == NS_DIR_HIGH ? "high" : "low";
    o[6].f = mk->thr.cutoff;
    o[7].f = mk->thr.borderline;
    o[8].f = mk->thr.critical;
}

static const col_t unplated_cols[] = {
    { "sample_id", K_STR }, { "infant_id", K_STR }, { "line", K_I32 },
};

static const col_t qc_plate_cols[] = {
    { "plate_id", K_STR }, { "file", K_STR }, { "status", K_STR }, { "reason", K_STR },
    { "warnings", K_STR },
};

static const col_t qc_control_cols[] = {
    { "plate_id", K_STR }, { "plate_index", K_I32 }, { "well", K_STR }, { "level", K_STR },
    { "analyte", K_STR }, { "value", K_F64 }, { "z", K_F64 },
};

_Static_assert(NCOLS(input_cols) <= MAX_COLS && NCOLS(sample_cols) <= MAX_COLS
               && NCOLS(slot_cols) <= MAX_COLS && NCOLS(unplated_cols) <= MAX_COLS
               && NCOLS(qc_plate_cols) <= MAX_COLS && NCOLS(qc_control_cols) <= MAX_COLS,
               "raise MAX_COLS");

static const char *const qc_level_names[NS_QC_LEVELS] = { "qc_low", "qc_high" };

static void qc_plate_row(void *ctx, int64_t k, cell_t *o)
{
    const ns_batch_t *b = ((const rctx_t *)ctx)->b;
    const ns_plate_t *pl = &b->plates[k];
    const ns_plate_qc_t *q = b->qc->plate ? &b->qc->plate[k] : NULL;
    o[0].s = pl->id;
    o[1].s = pl->name;
    o[2].s = ns_qc_status_name(q ? q->status : NS_QC_NOT_RUN);
    o[3].s = q ? q->reason : NULL;
    o[4].s = q ? q->warnings : NULL;
}

static void qc_control_row(void *ctx, int64_t i, cell_t *o)
{
    rctx_t *x = ctx;
    const ns_qc_control_t *c = &x->b->qc->obs[i];
    const ns_panel_t *p = x->b->panel;
    memcpy(x->id, c->plate_id, NS_NAME_MAX);
    x->id[NS_NAME_MAX] = 0;
    memcpy(x->well, c->well, 4);
    x->well[4] = 0;
    o[0].s = x->id;
    o[1].i = c->plate;
    o[2].s = x->well;
    o[3].s = qc_level_names[c->level];            /* checked by check_batch */
    o[4].s = p->analytes[c->analyte].name;        /* checked by check_batch */
    o[5].f = c->value;
    o[6].f = c->z;
}

static void unplated_row(void *ctx, int64_t i, cell_t *o)
{
    const rctx_t *x = ctx;
    const ns_manifest_row_t *r = &x->b->manifest.rows[x->idx[i]];
    o[0].s = r->sample_id;
    o[1].s = r->infant_id;
    o[2].i = r->line;
}

/* ------------------------------------------------------------------ the archive */

static const char *const cell_names[] = { "value", "below", "nd", "empty", "nan" };
static const char *const flag_names[] = { "none", "borderline", "cutoff", "critical",
                                          "missing" };
static const char *const call_names[] = { "negative", "borderline", "positive", "critical",
                                          "indeterminate" };

static int write_root_attrs(wctx_t *w, const ns_batch_t *b, const char *cmdline,
                            const char *sha)
{
    const ns_panel_t *p = b->panel;
    unsigned maj = 0, min = 0, rel = 0;
    char h5v[32];
    H5get_libversion(&maj, &min, &rel);
    snprintf(h5v, sizeof h5v, "%u.%u.%u", maj, min, rel);

    hid_t g = H5Gopen2(w->f, "/", H5P_DEFAULT);
    if (g < 0) return fail(w, "opening the root group");
    int r = attr_str(w, g, "/", "format", NS_HDF5_FORMAT);
    if (r == 0) r = attr_str(w, g, "/", "software_version", NS_VERSION);
    if (r == 0) r = attr_str(w, g, "/", "build_cc", NS_BUILD_CC);
    if (r == 0) r = attr_str(w, g, "/", "build_cflags", NS_BUILD_CFLAGS);
    if (r == 0) r = attr_str(w, g, "/", "hdf5_version", h5v);
    if (r == 0) r = attr_str(w, g, "/", "command_line", cmdline);
    if (r == 0) r = attr_str(w, g, "/", "night", b->night);
    if (r == 0) r = attr_str(w, g, "/", "panel_name", p->name);
    if (r == 0) r = attr_str(w, g, "/", "panel_version", p->version);
    if (r == 0) r = attr_str(w, g, "/", "panel_kit", p->kit);
    if (r == 0) r = attr_str(w, g, "/", "panel_sha256", sha);
    if (r == 0) r = attr_i64(w, g, "/", "scoring_version", NS_SCORING_VERSION);
    if (r == 0) r = attr_str(w, g, "/", "scoring_source", NS_SCORING_SOURCE);
    if (r == 0) r = attr_i64(w, g, "/", "n_samples", b->n);
    if (r == 0) r = attr_i64(w, g, "/", "wells_read", b->wells_read);
    if (r == 0) r = attr_i64(w, g, "/", "n_quarantined_wells", b->n_quarantined_wells);
    H5Gclose(g);
    return r;
}

static int write_config(wctx_t *w, const ns_panel_t *p, const char *sha)
{
    const char *text = p->text ? p->text : "";
    size_t len = p->text ? p->text_len : 0;
    char zero = 0;
    if (create_group(w, "/config") < 0) return -1;
    hid_t t = str_fixed(len, H5T_STR_NULLPAD);
    if (t < 0) return fail(w, "making the string type of /config/panel_yaml");
    hid_t d = create_ds(w, "/config/panel_yaml", t, 0, NULL, 0, 0);
    int r = -1;
    if (d >= 0) {
        if (H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, len ? (const void *)text : &zero) < 0)
            fail(w, "writing /config/panel_yaml");
        else
            r = attr_str(w, d, "/config/panel_yaml", "sha256", sha);
        if (close_ds(w, d, "/config/panel_yaml") < 0) r = -1;
    }
    close_type(t);
    return r;
}

static int write_inputs(wctx_t *w, const ns_batch_t *b)
{
    const ns_manifest_t *m = &b->manifest;
    int has_manifest = m->path != NULL;
    char *merr = NULL;
    /* Counts only, not the messages: a manifest message may name a personal-data column
     * ("contact_phone is empty") and the archive must not carry even that.  The messages
     * themselves are in the run's log. */
    if (has_manifest && !m->ok)
        merr = ns_strdup("manifest unusable (see the run log)");
    else if (has_manifest && m->n_rejected > 0)
        merr = ns_asprintf("%lld rows rejected (see the run log)", (long long)m->n_rejected);
    rctx_t x = { .b = b, .manifest_error = merr };
    int r = write_table(w, "/inputs", input_cols, NCOLS(input_cols),
                        (int64_t)b->n_plates + has_manifest, input_row, &x, sizeof x);
    free(merr);
    return r;
}

/* Why each card could or could not be read as a standard one: /samples_specimen [n][7]
 * (0/1 per finding, names in attribute "names": early_collection...) and /samples_strata
 * [n][n_strata] (0/1 per panel stratum).  Written when scoring has run. */
static int write_specimen(wctx_t *w, const ns_batch_t *b)
{
    if (!b->spec || !b->strata) return 0;
    const ns_panel_t *p = b->panel;
    const size_t n = (size_t)b->n;
    uint8_t *m = ns_calloc(n * NS_SPEC_N + 1, 1);
    for (size_t i = 0; i < n; i++)
        for (int f = 0; f < NS_SPEC_N; f++) m[(size_t)f * n + i] = (uint8_t)((b->spec[i] >> f) & 1u);   /* column-major, as write_matrix reads */
    const char *fn[NS_SPEC_N];
    for (int f = 0; f < NS_SPEC_N; f++) fn[f] = ns_spec_name(f);
    int r = write_matrix(w, "/samples_specimen", m, 1, b->n, NS_SPEC_N, 0, "sample,finding");
    if (r == 0) r = attr_strs_at(w, "/samples_specimen", "names", fn, NS_SPEC_N);
    free(m);
    if (r < 0 || p->n_strata == 0) return r;
    m = ns_calloc(n * (size_t)p->n_strata + 1, 1);
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < p->n_strata; k++) m[(size_t)k * n + i] = (uint8_t)((b->strata[i] >> k) & 1u);
    const char *sn[NS_MAX_STRATA];
    for (int k = 0; k < p->n_strata; k++) sn[k] = p->strata[k].name;
    r = write_matrix(w, "/samples_strata", m, 1, b->n, p->n_strata, 0, "sample,stratum");
    if (r == 0) r = attr_strs_at(w, "/samples_strata", "names", sn, p->n_strata);
    free(m);
    return r;
}

static size_t width_of(const char *s) { return strlen(nz(s)) + 1; }

/* The widths of /samples's text columns (-1 if sample_cols no longer has them where this
 * looks), as write_table_as's first pass would measure them
 * over sample_row's cells (the longest + 1), without calling sample_row for every row: the
 * batch's own columns are read in order, and the manifest's fields over the rows that a
 * card refers to, in the manifest's order (in the batch's order each row is a few cache
 * misses).  The strings are the ones sample_row gives. */
static int sample_widths(const ns_batch_t *b, size_t *sw)
{
    static const struct { int c; const char *name; } at[] = {
        { 0, "sample_id" }, { 1, "plate_id" }, { 2, "well" }, { 3, "sample_type" }, { 4, "state" },
        { 6, "infant_id" }, { 7, "specimen" }, { 8, "sex" }, { 9, "hospital" }, { 13, "feeding" } };
    int ntext = 0;
    for (int c = 0; c < NCOLS(sample_cols); c++) ntext += sample_cols[c].kind == K_STR;
    if (ntext != (int)(sizeof at / sizeof at[0])) return -1;
    for (size_t k = 0; k < sizeof at / sizeof at[0]; k++)
        if (sample_cols[at[k].c].kind != K_STR || strcmp(sample_cols[at[k].c].name, at[k].name) != 0) return -1;
    const int64_t n = b->n, nm = b->manifest.n;
    for (int c = 0; c < NCOLS(sample_cols); c++) sw[c] = sample_cols[c].kind == K_STR ? 1 : 0;
    uint8_t *ref = ns_calloc((size_t)(nm > 0 ? nm : 1), 1);         /* manifest rows referred to */
    uint8_t *used = ns_calloc((size_t)(b->n_plates > 0 ? b->n_plates : 1), 1);
    unsigned char has_type[256] = { 0 }, has_state[256] = { 0 };
    size_t w_sid = 1, w_well = 1;
    for (int64_t i = 0; i < n; i++) {
        const int64_t m = b->mrow ? b->mrow[i] : -1;
        if (m >= 0 && m < nm) ref[m] = 1;                 /* else "" for its fields: width 1 */
        const int pl = b->plate ? b->plate[i] : -1;
        if (pl >= 0 && pl < b->n_plates) used[pl] = 1;
        if (b->type) has_type[b->type[i]] = 1;
        if (b->state) has_state[b->state[i]] = 1;
        const size_t ls = b->sample_id ? width_of(b->sample_id[i]) : 1;
        if (ls > w_sid) w_sid = ls;
        const size_t lw = b->well ? strnlen(b->well[i], 4) + 1 : 1;
        if (lw > w_well) w_well = lw;
    }
    sw[0] = w_sid;
    for (int k = 0; k < b->n_plates; k++)
        if (used[k] && width_of(b->plates[k].id) > sw[1]) sw[1] = width_of(b->plates[k].id);
    sw[2] = w_well;
    for (int v = 0; v < 256; v++) {
        if (has_type[v] && width_of(ns_type_name(v)) > sw[3]) sw[3] = width_of(ns_type_name(v));
        if (has_state[v] && width_of(ns_state_name(v)) > sw[4]) sw[4] = width_of(ns_state_name(v));
    }
    size_t w6 = 1, w7 = 1, w8 = 1, w9 = 1, w13 = 1;
    #pragma omp parallel for schedule(static) reduction(max:w6, w7, w8, w9, w13) if (nm >= PAR_ROWS)
    for (int64_t m = 0; m < nm; m++) {
        if (!ref[m]) continue;
        const ns_manifest_row_t *r = &b->manifest.rows[m];
        size_t l;
        if ((l = width_of(r->infant_id)) > w6) w6 = l;
        if ((l = width_of(r->specimen)) > w7) w7 = l;
        if ((l = width_of(r->sex)) > w8) w8 = l;
        if ((l = width_of(r->hospital)) > w9) w9 = l;
        if ((l = width_of(r->feeding)) > w13) w13 = l;
    }
    sw[6] = w6; sw[7] = w7; sw[8] = w8; sw[9] = w9; sw[13] = w13;
    free(used);
    free(ref);
    return 0;
}

static int write_samples(wctx_t *w, const ns_batch_t *b)
{
    rctx_t x = { .b = b };
    /* /samples_ids holds /samples's sample_id and infant_id: the same strings, so the same
     * widths */
    size_t sw[NCOLS(sample_cols)] = { 0 };
    if (sample_widths(b, sw) < 0) memset(sw, 0, sizeof sw);     /* columns changed: measure */
    double t = ns_wall_s();
    if (write_table_as(w, "/samples", sample_cols, NCOLS(sample_cols), b->n, sample_row, &x, sizeof x, 1, sw) < 0)
        return -1;
    ns_info(3, "output", "batch.h5: /samples in %.3f s", ns_wall_s() - t);
    t = ns_wall_s();
    size_t iw[NCOLS(id_cols)] = { sw[0], sw[6] };
    if (write_table_as(w, "/samples_ids", id_cols, NCOLS(id_cols), b->n, id_row, &x, sizeof x, 0, iw) < 0)
        return -1;
    ns_info(3, "output", "batch.h5: /samples_ids in %.3f s", ns_wall_s() - t);
    if (!b->state && b->n > 0) return 0;
    const char *names[NS_STATE_N];
    for (int k = 0; k < NS_STATE_N; k++) names[k] = ns_state_name(k);
    if (write_matrix(w, "/samples_state_code", b->state, 1, b->n, 1, 1, "sample") < 0)
        return -1;
    if (attr_strs_at(w, "/samples_state_code", "names", names, NS_STATE_N) < 0) return -1;
    return write_specimen(w, b);
}

/* write_matrix of doubles of the batch's own (b->conc, b->ratio), which stay as they are
 * until the file is closed: the driver may write their chunks past the page cache, later
 * (h5vfd.h).  Nothing else is named so: other sources may be gone before the close. */
static int write_batch_matrix(wctx_t *w, const char *name, const double *src, int64_t n, int ncol,
                              const char *dims_attr)
{
    if (w->vst && src && n > 0 && ncol > 0) {
        w->vst->stable_lo = src;
        w->vst->stable_hi = src + (size_t)n * (size_t)ncol;
    }
    const int r = write_matrix(w, name, src, 8, n, ncol, 0, dims_attr);
    if (w->vst) w->vst->stable_lo = w->vst->stable_hi = NULL;
    return r;
}

static int write_analytes(wctx_t *w, const ns_batch_t *b)
{
    const ns_panel_t *p = b->panel;
    int na = p->n_analytes, r = -1;
    const char **names = ns_calloc((size_t)na + 1, sizeof *names);
    const char **units = ns_calloc((size_t)na + 1, sizeof *units);
    const char **loinc = ns_calloc((size_t)na + 1, sizeof *loinc);
    for (int a = 0; a < na; a++) {
        names[a] = p->analytes[a].name;
        units[a] = p->analytes[a].unit;
        loinc[a] = p->analytes[a].loinc;
    }
    if (create_group(w, "/analytes") == 0
        && write_batch_matrix(w, "/analytes/values", b->conc, b->n, na, "sample,analyte") == 0
        && write_matrix(w, "/analytes/censoring", b->cell, 1, b->n, na, 0,
                        "sample,analyte") == 0
        && attr_strs_at(w, "/analytes/censoring", "names", cell_names, NCOLS(cell_names)) == 0
        && write_strlist(w, "/analytes/names", names, na) == 0
        && write_strlist(w, "/analytes/units", units, na) == 0
        && write_strlist(w, "/analytes/loinc", loinc, na) == 0)
        r = 0;
    free(names);
    free(units);
    free(loinc);
    return r;
}

static int write_ratios(wctx_t *w, const ns_batch_t *b)
{
    const ns_panel_t *p = b->panel;
    int nr = p->n_ratios, r = -1;
    if (!b->ratio && b->n > 0 && nr > 0) return 0;          /* not computed */
    const char **names = ns_calloc((size_t)nr + 1, sizeof *names);
    const char **loinc = ns_calloc((size_t)nr + 1, sizeof *loinc);
    for (int k = 0; k < nr; k++) {
        names[k] = p->ratios[k].name;
        loinc[k] = p->ratios[k].loinc;
    }
    if (create_group(w, "/ratios") == 0
        && write_batch_matrix(w, "/ratios/values", b->ratio, b->n, nr, "sample,ratio") == 0
        && write_strlist(w, "/ratios/names", names, nr) == 0
        && write_strlist(w, "/ratios/loinc", loinc, nr) == 0)
        r = 0;
    free(names);
    free(loinc);
    return r;
}

static int write_flags(wctx_t *w, const ns_batch_t *b)
{
    const ns_panel_t *p = b->panel;
    int ns = p->n_slots;
    if (!b->flag && b->n > 0 && ns > 0) return 0;           /* not computed */
    rctx_t x = { .b = b };
    if (create_group(w, "/flags") < 0
        || write_matrix(w, "/flags/values", b->flag, 1, b->n, ns, 0, "sample,slot") < 0
        || attr_strs_at(w, "/flags/values", "names", flag_names, NCOLS(flag_names)) < 0
        || write_table(w, "/flags/slots", slot_cols, NCOLS(slot_cols), ns, slot_row, &x, sizeof x) < 0)
        return -1;
    return 0;
}

static int write_calls(wctx_t *w, const ns_batch_t *b)
{
    const ns_panel_t *p = b->panel;
    int nc = p->n_conds, r = -1;
    if (!b->call && b->n > 0 && nc > 0) return 0;           /* not computed */
    const char **codes = ns_calloc((size_t)nc + 1, sizeof *codes);
    for (int c = 0; c < nc; c++) codes[c] = p->conds[c].code;
    if (create_group(w, "/calls") == 0
        && write_matrix(w, "/calls/values", b->call, 1, b->n, nc, 0, "sample,condition") == 0
        && attr_strs_at(w, "/calls/values", "names", call_names, NCOLS(call_names)) == 0
        && write_strlist(w, "/calls/conditions", codes, nc) == 0)
        r = 0;
    free(codes);
    return r;
}

static int write_unplated(wctx_t *w, const ns_batch_t *b)
{
    const ns_manifest_t *m = &b->manifest;
    int64_t k = 0;
    int64_t *idx = ns_calloc(m->n > 0 ? (size_t)m->n : 1, sizeof *idx);
    for (int64_t j = 0; m->rows && j < m->n; j++)
        if (m->rows[j].n_wells == 0) idx[k++] = j;
    rctx_t x = { .b = b, .idx = idx };
    int r = write_table(w, "/manifest_unplated", unplated_cols, NCOLS(unplated_cols), k,
                        unplated_row, &x, sizeof x);
    free(idx);
    return r;
}

/* ------------------------------------------------------------------ follow-up */

/* A text (a config file) as a scalar string dataset with its sha256 and path. */
static int write_text(wctx_t *w, const char *name, const char *text, const char *path)
{
    size_t len = text ? strlen(text) : 0;
    char sha[65], zero = 0;
    ns_sha256_hex(text ? text : "", len, sha);
    hid_t t = str_fixed(len ? len : 1, H5T_STR_NULLPAD);
    if (t < 0) return fail(w, "making the string type of %s", name);
    int r = -1;
    hid_t d = create_ds(w, name, t, 0, NULL, 0, 0);
    if (d >= 0) {
        if (H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, len ? (const void *)text : &zero) < 0)
            fail(w, "writing %s", name);
        else if (attr_str(w, d, name, "sha256", sha) == 0)
            r = attr_str(w, d, name, "path", path);
        if (close_ds(w, d, name) < 0) r = -1;
    }
    close_type(t);
    return r;
}

/* /scores (score.h), only when the batch carries scores; and the population fragment the
 * panel was given, if any, as /config/population_yaml (it moves calls: keep its bytes). */
static int write_scores(wctx_t *w, const ns_batch_t *b)
{
    const ns_panel_t *p = b->panel;
    if (p->pop.text && write_text(w, "/config/population_yaml", p->pop.text, p->pop.path) < 0) return -1;
    if (!b->score || !b->band || !b->mom) return 0;
    const int nc = p->n_conds, K = p->n_sslots;
    const char **codes = ns_calloc((size_t)nc + 1, sizeof *codes);
    const char **mc = ns_calloc((size_t)K + 1, sizeof *mc), **mm = ns_calloc((size_t)K + 1, sizeof *mm);
    const char *bn[NS_BAND_N];
    for (int c = 0; c < nc; c++) codes[c] = p->conds[c].code;
    for (int k = 0; k < K; k++) {
        int s = p->sslot[k];
        mc[k] = p->conds[p->slot_cond[s]].code;
        mm[k] = ns_panel_marker_name(p, p->conds[p->slot_cond[s]].markers[p->slot_marker[s]].marker);
    }
    for (int k = 0; k < NS_BAND_N; k++) bn[k] = ns_band_name(k);
    int r = -1;
    if (create_group(w, "/scores") == 0
        && attr_str_at(w, "/scores", "population_source", p->pop.source) == 0
        && write_matrix(w, "/scores/values", b->score, 8, b->n, nc, 0, "sample,condition") == 0
        && write_matrix(w, "/scores/bands", b->band, 1, b->n, nc, 0, "sample,condition") == 0
        && attr_strs_at(w, "/scores/bands", "names", bn, NS_BAND_N) == 0
        && write_strlist(w, "/scores/conditions", codes, nc) == 0
        && write_matrix(w, "/scores/mom", b->mom, 8, b->n, K, 0, "sample,score_marker") == 0
        && write_strlist(w, "/scores/mom_conditions", mc, K) == 0
        && write_strlist(w, "/scores/mom_markers", mm, K) == 0)
        r = 0;
    free(codes);
    free(mc);
    free(mm);
    return r;
}

typedef struct {
    const ns_run_fu_t *fu;
    const ns_batch_t *b;
    char t[24], due[16], args[NS_FU_MAX_ARGS * (NS_FU_ARG_MAX + 18)];
} fctx_t;

/* risk_factors is free text that may be clinical: only its presence is archived; the
 * test is archived by its date only (no times of day: see the top of write_hdf5.h) */
static const col_t hearing_cols[] = {
    { "infant_id", K_STR }, { "test_date", K_STR }, { "stage", K_STR }, { "method", K_STR },
    { "left", K_STR }, { "right", K_STR }, { "nicu_days", K_F64 }, { "risk_factors", K_I8 },
    { "line", K_I32 },
};

static void hearing_row(void *ctx, int64_t i, cell_t *o)
{
    fctx_t *x = ctx;
    const ns_hearing_rec_t *r = &x->fu->hrec.v[i];
    ns_format_date(r->test_time_h, x->due);
    o[0].s = r->infant_id;
    o[1].s = x->due;
    o[2].s = ns_hearing_stage_name(r->stage);
    o[3].s = ns_hearing_method_name(r->method);
    o[4].s = ns_hearing_result_name(r->ear[0]);
    o[5].s = ns_hearing_result_name(r->ear[1]);
    o[6].f = r->nicu_days;
    o[7].i = r->risk;
    o[8].i = r->line;
}

static const col_t gplate_cols[] = {
    { "plate_id", K_STR }, { "file", K_STR }, { "sha256", K_STR }, { "encoding", K_STR },
    { "status", K_STR }, { "reason", K_STR }, { "n_wells", K_I64 },
};

static void gplate_row(void *ctx, int64_t k, cell_t *o)
{
    const ns_gene_plate_t *pl = &((fctx_t *)ctx)->fu->genes.plates[k];
    o[0].s = pl->id;
    o[1].s = pl->name;
    o[2].s = pl->sha256;
    o[3].s = pl->encoding;
    o[4].s = ns_gene_plate_status_name(pl->status);
    o[5].s = pl->error ? pl->error : pl->reason;
    o[6].i = pl->n_wells;
}

static const col_t gsample_cols[] = {
    { "sample_id", K_STR }, { "plate_id", K_STR }, { "well", K_STR }, { "state", K_STR },
};

static void gsample_row(void *ctx, int64_t i, cell_t *o)
{
    const ns_genes_night_t *g = &((fctx_t *)ctx)->fu->genes;
    o[0].s = g->sample_id[i];
    o[1].s = g->plates[g->plate[i]].id;
    o[2].s = g->well[i];
    o[3].s = ns_gene_state_name(g->state[i]);
}

/* deadlines as days of life (a date would give away the birth date) */
static const col_t finding_cols[] = {
    { "infant_id", K_STR }, { "sample_id", K_STR }, { "source", K_STR }, { "code", K_STR },
    { "priority", K_STR }, { "action", K_STR }, { "due_from", K_STR }, { "due_days", K_F64 },
    { "reason", K_STR }, { "args", K_STR },
};

static void finding_row(void *ctx, int64_t k, cell_t *o)
{
    fctx_t *x = ctx;
    const ns_fu_list_t *l = &x->fu->list;
    const ns_finding_t *f = &x->fu->findings.v[l->order[k]];
    static const char *const src[NS_SRC_N] = { "msms", "hearing", "gene" };
    o[0].s = f->infant_id;
    o[1].s = f->sample_id;
    o[2].s = src[f->source];
    o[3].s = f->code;
    o[4].s = f->note_only ? "" : ns_prio_name(f->priority);
    o[5].s = f->note_only ? "" : f->action;
    static const char *const from[] = { "", "birth", "collection", "test" };
    int has = !f->note_only && f->due_from != NS_DUE_NONE && !isnan(f->due_hours);
    o[6].s = has ? from[f->due_from] : "";
    o[7].f = has ? f->due_hours / 24.0 : NAN;
    o[8].s = f->reason;
    size_t n = 0;
    x->args[0] = 0;
    for (int a = 0; a < f->n_args; a++)
        n += (size_t)snprintf(x->args + n, sizeof x->args - n, "%s%s=%s", a ? "; " : "", f->arg_name[a], f->arg[a]);
    o[9].s = x->args;
}

static const col_t furow_cols[] = {
    { "infant_id", K_STR }, { "priority", K_STR }, { "due_day_of_life", K_F64 }, { "sources", K_STR },
    { "first_finding", K_I64 }, { "n_findings", K_I64 },
};

static void furow_row(void *ctx, int64_t g, cell_t *o)
{
    fctx_t *x = ctx;
    const ns_fu_row_t *r = &x->fu->list.rows[g];
    o[0].s = r->infant_id;
    o[1].s = ns_prio_name(r->priority);
    const ns_manifest_t *m = &x->b->manifest;
    double birth = r->mrow >= 0 && m->rows[r->mrow].birth_time ? ns_parse_time_h(m->rows[r->mrow].birth_time) : NAN;
    o[2].f = floor((r->due_h - birth) / 24.0);      /* NaN when either is unknown */
    static const char *const src[NS_SRC_N] = { "msms", "hearing", "gene" };
    x->t[0] = 0;
    for (int s = 0; s < NS_SRC_N; s++)
        if ((r->sources >> s) & 1u) {
            strncat(x->t, x->t[0] ? ";" : "", sizeof x->t - strlen(x->t) - 1);
            strncat(x->t, src[s], sizeof x->t - strlen(x->t) - 1);
        }
    o[3].s = x->t;
    o[4].i = r->f0;
    o[5].i = r->f1 - r->f0;
}

/* /hearing, /genes and /followup: the other screens of the night and the list made of
 * them (no names or phones: the list itself is recall-list.csv / .xlsx) */
static int write_followup(wctx_t *w, const ns_batch_t *b, const ns_run_fu_t *fu)
{
    fctx_t x = { .fu = fu, .b = b };
    if (create_group(w, "/followup") < 0) return -1;
    int r = write_table(w, "/followup/rows", furow_cols, NCOLS(furow_cols), fu->list.n, furow_row, &x, sizeof x);
    if (r == 0) r = write_table(w, "/followup/findings", finding_cols, NCOLS(finding_cols), fu->findings.n,
                                finding_row, &x, sizeof x);
    if (r == 0) r = attr_str_at(w, "/followup", "language", ns_lang_code(fu->lang));
    if (r == 0) r = attr_str_at(w, "/followup", "lang_sha256", ns_lang_sha256(fu->lang));

    if (r == 0) r = create_group(w, "/hearing");
    if (r == 0) r = write_text(w, "/hearing/protocol_yaml", fu->hcfg->text, fu->hcfg->path);
    if (r == 0 && fu->have_hearing) {
        r = write_table(w, "/hearing/records", hearing_cols, NCOLS(hearing_cols), fu->hrec.n, hearing_row, &x, sizeof x);
        if (r == 0) r = attr_str_at(w, "/hearing/records", "file_sha256", fu->hrec.sha256);
        /* the per-baby counts behind the refer rates (summary.json "hearing"; the report) */
        if (r == 0) {
            const ns_hearing_stats_t *h = &fu->hstats;
            const struct { const char *name; int64_t v; } st[] = {
                { "infants", h->infants }, { "initial_screened", h->initial_screened },
                { "initial_refer", h->initial_refer }, { "rescreened", h->rescreened },
                { "rescreen_refer", h->rescreen_refer } };
            hid_t o = H5Oopen(w->f, "/hearing/records", H5P_DEFAULT);
            if (o < 0) r = fail(w, "opening /hearing/records");
            for (size_t k = 0; r == 0 && k < sizeof st / sizeof st[0]; k++)
                r = attr_i64(w, o, "/hearing/records", st[k].name, st[k].v);
            if (o >= 0) H5Oclose(o);
        }
    }

    if (r == 0) r = create_group(w, "/genes");
    if (r == 0) r = write_text(w, "/genes/config_yaml", fu->gcfg->text, fu->gcfg->path);
    if (r == 0 && fu->have_genes) {
        const ns_genes_night_t *g = &fu->genes;
        const int nl = fu->gcfg->n_loci;
        r = write_table(w, "/genes/plates", gplate_cols, NCOLS(gplate_cols), g->n_plates, gplate_row, &x, sizeof x);
        if (r == 0) r = write_table(w, "/genes/samples", gsample_cols, NCOLS(gsample_cols), g->n, gsample_row, &x, sizeof x);
        if (r == 0) {                           /* calls [sample][locus], column-major for write_matrix */
            uint8_t *cm = ns_malloc((size_t)(g->n * nl > 0 ? g->n * nl : 1));
            for (int64_t i = 0; i < g->n; i++)
                for (int l = 0; l < nl; l++) cm[(size_t)l * (size_t)g->n + (size_t)i] = g->call[(size_t)i * (size_t)nl + (size_t)l];
            r = write_matrix(w, "/genes/calls", cm, 1, g->n, nl, 0, "sample,locus");
            free(cm);
        }
        if (r == 0) {
            const char **ln = ns_malloc((size_t)(nl ? nl : 1) * sizeof *ln);
            for (int l = 0; l < nl; l++) ln[l] = fu->gcfg->loci[l].id;
            r = attr_strs_at(w, "/genes/calls", "loci", ln, nl);
            free(ln);
        }
        if (r == 0) {
            const char *cn[NS_GCALL_N];
            for (int c = 0; c < NS_GCALL_N; c++) cn[c] = ns_gene_call_name(c);
            r = attr_strs_at(w, "/genes/calls", "names", cn, NS_GCALL_N);
        }
    }
    return r;
}

/* A [rows][cols] matrix given row-major in buf (esz 8: double, 4: uint32), chunked and
 * compressed like the batch matrices. */
static int write_rowmajor(wctx_t *w, const char *name, const void *buf, size_t esz,
                          int rows, int cols, const char *dims_attr)
{
    hid_t ft = esz == 8 ? H5T_IEEE_F64LE : H5T_STD_U32LE;
    hid_t mt = esz == 8 ? H5T_NATIVE_DOUBLE : H5T_NATIVE_UINT32;
    hsize_t dims[2] = { (hsize_t)rows, (hsize_t)cols };
    size_t rowbytes = esz * (size_t)cols;
    hid_t d = create_ds(w, name, ft, 2, dims, rowbytes, esz == 8 ? CHUNK_RAW : CHUNK_DEFLATE);
    if (d < 0) return -1;
    int r = 0;
    if (rows > 0 && cols > 0) {
        hsize_t kmax = chunk_rows(dims[0], rowbytes);
        for (hsize_t r0 = 0; r0 < dims[0] && r == 0; r0 += kmax) {
            hsize_t k = dims[0] - r0 < kmax ? dims[0] - r0 : kmax;
            r = write_rows(w, d, name, 2, dims[1], r0, k, mt,
                           (const unsigned char *)buf + (size_t)r0 * rowbytes);
        }
    }
    if (close_ds(w, d, name) < 0) r = -1;
    if (r == 0 && dims_attr) r = attr_str_at(w, name, "dims", dims_attr);
    return r;
}

/* /qc: plate QC results (plate_qc.h), written only when the batch carries them. */
static int write_qc(wctx_t *w, const ns_batch_t *b)
{
    const ns_qc_result_t *q = b->qc;
    const ns_qc_config_t *cfg = q->cfg;
    const int np = b->n_plates, na = b->panel->n_analytes, nl = NS_QC_LEVELS;
    rctx_t x = { .b = b };
    char sha[65] = "";
    int r = -1;

    if (create_group(w, "/qc") < 0) return -1;
    if (cfg && !cfg->text) snprintf(sha, sizeof sha, "%s", cfg->sha256);   /* no text kept */
    if (cfg && cfg->text) {
        const char *text = cfg->text;
        size_t len = strlen(text);
        char zero = 0;
        ns_sha256_hex(text, len, sha);
        hid_t t = str_fixed(len, H5T_STR_NULLPAD);
        if (t < 0) return fail(w, "making the string type of /qc/config_yaml");
        hid_t d = create_ds(w, "/qc/config_yaml", t, 0, NULL, 0, 0);
        if (d >= 0) {
            if (H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, len ? (const void *)text : &zero)
                < 0)
                fail(w, "writing /qc/config_yaml");
            else if (attr_str(w, d, "/qc/config_yaml", "sha256", sha) == 0)
                r = attr_str(w, d, "/qc/config_yaml", "path", cfg->path);
            if (close_ds(w, d, "/qc/config_yaml") < 0) r = -1;
        }
        close_type(t);
        if (r < 0) return -1;
    }
    hid_t g = H5Gopen2(w->f, "/qc", H5P_DEFAULT);
    if (g < 0) return fail(w, "opening /qc");
    r = attr_str(w, g, "/qc", "qc_config_sha256", sha);
    if (r == 0) r = attr_i64(w, g, "/qc", "n_rejected", q->n_rejected);
    if (r == 0) r = attr_i64(w, g, "/qc", "n_warning", q->n_warning);
    H5Gclose(g);
    if (r < 0) return -1;

    if (write_table(w, "/qc/plates", qc_plate_cols, NCOLS(qc_plate_cols), np, qc_plate_row,
                    &x, sizeof x) < 0
        || write_table(w, "/qc/controls", qc_control_cols, NCOLS(qc_control_cols), q->n_obs,
                       qc_control_row, &x, sizeof x) < 0)
        return -1;

    /* per plate: Westgard bits [a * NS_QC_LEVELS + level], patient medians */
    size_t cells = (size_t)(np ? np : 1) * (size_t)(na ? na : 1);
    uint32_t *wg = ns_calloc(cells * (size_t)nl, sizeof *wg);
    double *med = ns_calloc(cells, sizeof *med), *ref = ns_calloc(cells, sizeof *ref);
    for (int k = 0; k < np; k++) {
        const ns_plate_qc_t *pq = q->plate ? &q->plate[k] : NULL;
        for (int a = 0; a < na; a++) {
            size_t c = (size_t)k * (size_t)na + (size_t)a;
            for (int l = 0; l < nl; l++)
                wg[c * (size_t)nl + (size_t)l] =
                    pq && pq->violated ? (uint32_t)pq->violated[a * nl + l] : 0;
            med[c] = pq && pq->median ? pq->median[a] : NAN;
            ref[c] = pq && pq->median_ref ? pq->median_ref[a] : NAN;
        }
    }
    const char *bits[6];
    for (int k = 0; k < 6; k++) bits[k] = ns_westgard_rule_name(k);
    r = -1;
    if (write_rowmajor(w, "/qc/westgard", wg, 4, np, na * nl, "plate,analyte_level") == 0
        && attr_strs_at(w, "/qc/westgard", "bit_names", bits, 6) == 0
        && attr_strs_at(w, "/qc/westgard", "levels", qc_level_names, nl) == 0
        && write_rowmajor(w, "/qc/median", med, 8, np, na, "plate,analyte") == 0
        && write_rowmajor(w, "/qc/median_ref", ref, 8, np, na, "plate,analyte") == 0)
        r = 0;
    free(wg);
    free(med);
    free(ref);
    return r;
}

/* Arrays the batch must carry whatever stage it reached. */
static int check_batch(wctx_t *w, const ns_batch_t *b)
{
    const ns_panel_t *p = b->panel;
    if (b->n < 0 || b->n_plates < 0 || (b->n_plates > 0 && !b->plates))
        return fail(w, "the batch is inconsistent (n = %lld, %d plates)", (long long)b->n,
                    b->n_plates);
    if (b->n > 0 && p->n_analytes > 0 && (!b->conc || !b->cell))
        return fail(w, "the batch has no analyte values");
    if (p->n_slots > 0 && (!p->slot_cond || !p->slot_marker))
        return fail(w, "the panel has no flag slot table");
    const ns_qc_result_t *q = b->qc;
    if (q) {
        if (q->n_obs < 0 || (q->n_obs > 0 && !q->obs))
            return fail(w, "the QC result is inconsistent (%lld control observations)",
                        (long long)q->n_obs);
        for (int64_t i = 0; i < q->n_obs; i++) {
            const ns_qc_control_t *c = &q->obs[i];
            if (c->level >= NS_QC_LEVELS || c->analyte < 0 || c->analyte >= p->n_analytes
                || c->plate < 0 || c->plate >= b->n_plates)
                return fail(w, "QC control observation %lld is inconsistent (level %d, "
                            "analyte %d, plate %d)", (long long)i, c->level, c->analyte,
                            c->plate);
        }
        if (q->cfg && q->cfg->text && q->cfg->sha256[0]) {
            char sha[65];
            const char *t = q->cfg->text ? q->cfg->text : "";
            ns_sha256_hex(t, strlen(t), sha);
            if (strcmp(q->cfg->sha256, sha) != 0)
                return fail(w, "QC config sha256 %s does not match its text (%s)",
                            q->cfg->sha256, sha);
        }
    }
    return 0;
}

/* Build the whole archive.  With backing, HDF5 writes the file named label through
 * h5vfd.h's driver: pwrite, with a failed write (a full disk, a file-size limit) kept from
 * HDF5, which does not recover from one in mid-build (with its sec2 driver that ended in a
 * crash at exit), and reported here after the close.  Without, HDF5's core driver builds
 * the file in memory and the image is handed back (caller frees) for atomic_file.c to
 * write. */
/* Objects of ALIGN_FROM bytes or more (the matrices' 512 KiB chunks) start at a multiple of
 * ALIGN_TO in the file, so that h5vfd.c may write them past the page cache (O_DIRECT).  The
 * gaps cost 0.3 % of the 1M night's file. */
#define ALIGN_FROM ((hsize_t)64 << 10)
#define ALIGN_TO ((hsize_t)4096)
static int build_image(wctx_t *w, const ns_batch_t *b, const ns_run_fu_t *fu, const char *cmdline, const char *sha,
                       const char *label, int backing, void **img, size_t *len)
{
    const ns_panel_t *p = b->panel;
    hid_t fcpl = -1, fapl = -1;
    /* static: HDF5 may keep a file it could not close and write it at exit, through the
     * driver, which records into this (one HDF5 thread: no other build at the same time) */
    static ns_h5vfd_state_t vst;
    memset(&vst, 0, sizeof vst);
    w->vst = backing ? &vst : NULL;
    int r = -1;
    *img = NULL;
    *len = 0;
    /* no modification times (byte-identical output); close everything with the file */
    if ((fcpl = H5Pcreate(H5P_FILE_CREATE)) < 0 || H5Pset_obj_track_times(fcpl, 0) < 0
        || (fapl = H5Pcreate(H5P_FILE_ACCESS)) < 0
        || (backing ? ns_h5vfd_set(fapl, &vst) < 0 : H5Pset_fapl_core(fapl, CORE_INCREMENT, 0) < 0)
        || H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0
        || H5Pset_alignment(fapl, ALIGN_FROM, ALIGN_TO) < 0) {
        fail(w, "making file properties");
        goto out;
    }
    if ((w->f = H5Fcreate(label, H5F_ACC_TRUNC, fcpl, fapl)) < 0) {
        fail(w, backing ? "creating the archive" : "creating the archive in memory");
        goto out;
    }
    /* each part's time at -v 3, for profiling */
    double tp = ns_wall_s();
#define PART(name, call) do { if (r == 0) { r = (call); ns_info(3, "output", "batch.h5: %s in %.3f s", name, \
                                                                    ns_wall_s() - tp); tp = ns_wall_s(); \
                                            if (vst.err) r = -1; } } while (0)
    r = 0;
    PART("root attributes", write_root_attrs(w, b, cmdline, sha));
    PART("/config", write_config(w, p, sha));
    PART("/inputs", write_inputs(w, b));
    PART("/analytes", write_analytes(w, b));
    PART("/ratios", write_ratios(w, b));
    PART("/samples*", write_samples(w, b));
    PART("/flags", write_flags(w, b));
    PART("/calls", write_calls(w, b));
    PART("/scores", write_scores(w, b));
    PART("/manifest_unplated", write_unplated(w, b));
    if (b->qc) PART("/qc", write_qc(w, b));
    if (fu) PART("/followup", write_followup(w, b, fu));
#undef PART
    if (r == 0 && !backing && H5Fflush(w->f, H5F_SCOPE_GLOBAL) < 0) r = fail(w, "flushing the archive");
    if (r == 0 && !backing) {
        ssize_t n = H5Fget_file_image(w->f, NULL, 0);
        if (n <= 0) {
            r = fail(w, "getting the size of the file image");
        } else {
            *img = ns_malloc((size_t)n);
            if (H5Fget_file_image(w->f, *img, (size_t)n) != n)
                r = fail(w, "copying the file image");
            else
                *len = (size_t)n;
        }
    }
    if (H5Fclose(w->f) < 0 && r == 0) r = fail(w, "closing the archive");
    w->f = -1;
    /* a file HDF5 could not close is still open: its queued writes read the batch, which
     * the caller frees (h5vfd.h) */
    if (backing) ns_h5vfd_drain(&vst);
    /* a write that failed comes first: what HDF5 read back of the writes skipped after it
     * was zeros, and an HDF5 error that followed says less than the errno */
    if (backing && vst.err) {
        w->failed = 0;
        H5Eclear2(H5E_DEFAULT);
        r = fail(w, "writing the archive to %s: %s", label, strerror(vst.err));
    }
    ns_info(3, "output", "batch.h5: closed (written) in %.3f s, %.1f MB of it past the page cache", ns_wall_s() - tp,
            (double)vst.direct_bytes / 1e6);
    if (w->unplaced)
        ns_info(1, "output", "batch.h5: no room in the address space to place igzip's stream state: "
                "its bytes may differ from another run's of the same night (its data do not)");
out:
    close_plist(fcpl);
    close_plist(fapl);
    if (r != 0) { free(*img); *img = NULL; *len = 0; }
    return r;
}

/* Write the image to path.tmp.PID (mode 0644), fsync, rename over path, fsync the dir. */
static int store_image(wctx_t *w, const char *path, const void *img, size_t len)
{
    ns_atomic_t *a = ns_atomic_open(path, 0644);
    if (!a) {
        int e = errno;
        char *tmp = ns_atomic_tmpname(path);
        snprintf(w->msg, sizeof w->msg, "creating %s: %s", tmp, strerror(e));
        free(tmp);
        return -1;
    }
    char *tmp = ns_strdup(a->tmp);
    int r = 0;
    if (fwrite(img, 1, len, a->fp) != len) {
        int e = errno;
        ns_atomic_abort(a);
        snprintf(w->msg, sizeof w->msg, "writing %s: %s", tmp, strerror(e));
        r = -1;
    } else if (ns_atomic_commit(a) != 0) {       /* removes tmp on failure */
        snprintf(w->msg, sizeof w->msg, "writing %s: %s", tmp, strerror(errno));
        r = -1;
    }
    free(tmp);
    return r;
}

int ns_write_hdf5(const char *path, const ns_batch_t *b, const ns_run_fu_t *fu, const char *cmdline)
{
    H5E_auto2_t old_fn = NULL;
    void *old_data = NULL;
    H5Eget_auto2(H5E_DEFAULT, &old_fn, &old_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    H5Eclear2(H5E_DEFAULT);         /* fail() must not pick up an earlier, unrelated error */

    wctx_t w = { .f = -1 };
    char sha[65] = "";
    void *img = NULL;
    size_t len = 0;
    int r = -1;
    const ns_panel_t *p = b ? b->panel : NULL;

    if (!p) {
        fail(&w, "no batch or no panel");
        goto out;
    }
    /* the digest of the bytes actually stored; the panel's own must agree */
    ns_sha256_hex(p->text ? p->text : "", p->text ? p->text_len : 0, sha);
    if (p->sha256[0] && strcmp(p->sha256, sha) != 0) {
        fail(&w, "panel sha256 %s does not match its text (%s)", p->sha256, sha);
        goto out;
    }
    if (check_batch(&w, b) < 0) goto out;
    /* The archive is written to PATH.tmp.PID (h5vfd.h), then fsync'ed and renamed over PATH.
     * A target that is not a regular file (a device, a pipe) gets an image built in memory
     * written in place instead. */
    struct stat st;
    const int in_place = stat(path, &st) == 0 && !S_ISREG(st.st_mode);
    char *tmp = ns_atomic_tmpname(path);        /* in place: a name for HDF5's open-file table only */
    if (!in_place) {
        /* made here first, so that a missing or unwritable directory is said plainly */
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) {
            fail(&w, "creating %s: %s", tmp, strerror(errno));
            free(tmp);
            goto out;
        }
        close(fd);
    }
    double t0 = ns_wall_s();
    r = build_image(&w, b, fu, cmdline, sha, tmp, !in_place, &img, &len);
    double t1 = ns_wall_s();
    if (in_place) {
        if (r == 0) r = store_image(&w, path, img, len);
    } else if (r == 0 && ns_atomic_rename(tmp, path, 0644) != 0) {   /* removes tmp on failure */
        r = fail(&w, "storing %s: %s", tmp, strerror(errno));
    } else if (r != 0) {
        unlink(tmp);
    }
    free(tmp);
    if (r == 0)
        ns_info(2, "output", "batch.h5: built and written in %.2f s, synced and renamed in %.2f s", t1 - t0,
                ns_wall_s() - t1);
out:
    if (r != 0) ns_error("run", "cannot write HDF5 archive %s: %s", path, w.msg);
    free(img);
    H5Eset_auto2(H5E_DEFAULT, old_fn, old_data);
    return r;
}
