/* h5read.c — see h5read.h. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libdeflate.h>
#include <zlib.h>
#include "h5read.h"
#include "log.h"

void ns_h5_quiet(ns_h5_errstate_t *s)
{
    H5Eget_auto2(H5E_DEFAULT, &s->fn, &s->data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    H5Eclear2(H5E_DEFAULT);
}

void ns_h5_loud(const ns_h5_errstate_t *s)
{
    H5Eset_auto2(H5E_DEFAULT, s->fn, s->data);
}

typedef struct { char s[512]; } inner_t;

static herr_t walk_cb(unsigned n, const H5E_error2_t *e, void *data)
{
    if (n == 0 && e->desc) snprintf(((inner_t *)data)->s, sizeof ((inner_t *)data)->s, "%s",
                                    e->desc);
    return 0;
}

int ns_h5_fail(const ns_h5src_t *s, const char *fmt, ...)
{
    inner_t in = { "" };
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_cb, &in);
    H5Eclear2(H5E_DEFAULT);
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    /* a system call failed: HDF5 says "... errno = 13, error message = 'Permission
     * denied', ..."; the quoted message alone reads best (as write_hdf5.c does) */
    const char *em = strstr(in.s, "error message = '"), *end;
    if (em && (end = strchr(em += 17, '\'')) != NULL)
        ns_error(s->tag, "%s %s: %s: %.*s", s->label, s->path, what, (int)(end - em), em);
    else if (in.s[0])
        ns_error(s->tag, "%s %s: %s (HDF5: %s)", s->label, s->path, what, in.s);
    else
        ns_error(s->tag, "%s %s: %s", s->label, s->path, what);
    return -1;
}

int ns_h5_open(const ns_h5src_t *s, hid_t *f)
{
    htri_t is = H5Fis_hdf5(s->path);
    if (is <= 0) {
        if (is == 0) {
            H5Eclear2(H5E_DEFAULT);
            return ns_h5_fail(s, "not an HDF5 file");
        }
        return ns_h5_fail(s, "cannot open");
    }
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0) {
        if (fapl >= 0) H5Pclose(fapl);
        return ns_h5_fail(s, "making file properties");
    }
    *f = H5Fopen(s->path, H5F_ACC_RDONLY, fapl);
    if (*f < 0) ns_h5_fail(s, "cannot open");     /* before H5Pclose clears the stack */
    H5Pclose(fapl);
    return *f < 0 ? -1 : 0;
}

hid_t ns_h5_mem_str(hid_t ft)
{
    if (H5Tget_class(ft) != H5T_STRING || H5Tis_variable_str(ft) > 0) return -1;
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0) return -1;
    if (H5Tset_size(t, H5Tget_size(ft) + 1) < 0 || H5Tset_strpad(t, H5T_STR_NULLTERM) < 0
        || H5Tset_cset(t, H5Tget_cset(ft)) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

char *ns_h5_attr_str(const ns_h5src_t *s, hid_t obj, const char *name)
{
    htri_t ex = H5Aexists(obj, name);
    if (ex < 0) { ns_h5_fail(s, "looking for attribute %s", name); return NULL; }
    if (ex == 0) return ns_strdup("");
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT), ft = -1, sp = -1, mt = -1;
    char *out = NULL;
    if (a < 0 || (ft = H5Aget_type(a)) < 0 || (sp = H5Aget_space(a)) < 0) {
        ns_h5_fail(s, "opening attribute %s", name);
    } else if (H5Tget_class(ft) != H5T_STRING
               || H5Sget_simple_extent_type(sp) != H5S_SCALAR) {
        ns_h5_fail(s, "attribute %s is not a scalar string", name);
    } else if (H5Tis_variable_str(ft) > 0) {
        char *v = NULL;
        mt = H5Tcopy(H5T_C_S1);
        if (mt < 0 || H5Tset_size(mt, H5T_VARIABLE) < 0
            || H5Tset_cset(mt, H5Tget_cset(ft)) < 0 || H5Aread(a, mt, &v) < 0)
            ns_h5_fail(s, "reading attribute %s", name);
        else
            out = ns_strdup(v ? v : "");
        if (v) H5free_memory(v);
    } else {
        size_t n = H5Tget_size(ft);
        out = ns_calloc(n + 2, 1);
        if ((mt = ns_h5_mem_str(ft)) < 0 || H5Aread(a, mt, out) < 0) {
            ns_h5_fail(s, "reading attribute %s", name);
            free(out);
            out = NULL;
        }
    }
    if (mt >= 0) H5Tclose(mt);
    if (sp >= 0) H5Sclose(sp);
    if (ft >= 0) H5Tclose(ft);
    if (a >= 0) H5Aclose(a);
    return out;
}

static int dims_of(const ns_h5src_t *s, hid_t f, const char *name, int rank, hid_t *dset,
                   hsize_t *dims)
{
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0) return ns_h5_fail(s, "opening %s", name);
    hid_t sp = H5Dget_space(d);
    if (sp < 0 || H5Sget_simple_extent_ndims(sp) != rank
        || H5Sget_simple_extent_dims(sp, dims, NULL) < 0) {
        H5Eclear2(H5E_DEFAULT);
        ns_h5_fail(s, "%s is not %s-dimensional", name, rank == 1 ? "one" : "two");
        if (sp >= 0) H5Sclose(sp);
        H5Dclose(d);
        return -1;
    }
    H5Sclose(sp);
    *dset = d;
    return 0;
}

int64_t ns_h5_len1(const ns_h5src_t *s, hid_t f, const char *name, hid_t *dset)
{
    hsize_t dim = 0;
    if (dims_of(s, f, name, 1, dset, &dim) < 0) return -1;
    return (int64_t)dim;
}

int ns_h5_dims2(const ns_h5src_t *s, hid_t f, const char *name, hid_t *dset, int64_t *rows,
                int64_t *cols)
{
    hsize_t dims[2] = { 0, 0 };
    if (dims_of(s, f, name, 2, dset, dims) < 0) return -1;
    *rows = (int64_t)dims[0];
    *cols = (int64_t)dims[1];
    return 0;
}

/* How a dataset's chunks can be decoded here: rows per chunk and the filters in pipeline
 * order (shuffle, deflate); 0 when it cannot (another layout, type or filter). */
typedef struct {
    hsize_t rows;              /* rows per chunk */
    int nf;
    int filt[2];               /* H5Z_FILTER_SHUFFLE / H5Z_FILTER_DEFLATE, in write order */
} chunkfmt_t;

/* The filters of a chunked dataset into cf, when they are ones decoded here: none, shuffle,
 * deflate, or shuffle then deflate.  1 if so, else 0. */
static int filters_of(hid_t dcpl, chunkfmt_t *cf)
{
    cf->nf = H5Pget_nfilters(dcpl);
    if (cf->nf < 0 || cf->nf > 2) return 0;
    for (int j = 0; j < cf->nf; j++) {
        unsigned flags, cdv[8];
        size_t ncd = 8;
        char fname[64];
        H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)j, &flags, &ncd, cdv, sizeof fname, fname, NULL);
        if (id != H5Z_FILTER_SHUFFLE && id != H5Z_FILTER_DEFLATE) return 0;
        cf->filt[j] = (int)id;
    }
    return !(cf->nf == 2 && !(cf->filt[0] == H5Z_FILTER_SHUFFLE && cf->filt[1] == H5Z_FILTER_DEFLATE));
}

static int chunk_format(hid_t d, int64_t ncol, size_t esz, chunkfmt_t *cf)
{
    int ok = 0;
    hid_t dcpl = H5Dget_create_plist(d), ft = H5Dget_type(d), sp = H5Dget_space(d);
    hid_t want = esz == 8 ? H5T_IEEE_F64LE : H5T_STD_U8LE;
    const union { uint16_t u; uint8_t b[2]; } endian = { 1 };
    int rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    hsize_t cd[2] = { 0, 0 };
    /* esz 0: a table (compound rows), checked field by field by the caller */
    int type_ok = esz == 0 ? ft >= 0 && H5Tget_class(ft) == H5T_COMPOUND
                           : (esz == 8 || esz == 1) && ft >= 0 && H5Tequal(ft, want) > 0;
    if (dcpl < 0 || ft < 0 || rank < 1 || rank > 2 || !endian.b[0] || !type_ok
        || H5Pget_layout(dcpl) != H5D_CHUNKED
        || H5Pget_chunk(dcpl, rank, cd) != rank || (rank == 2 && (int64_t)cd[1] != ncol)
        || (rank == 1 && ncol != 1))
        goto out;
    cf->rows = cd[0];
    if (!filters_of(dcpl, cf)) goto out;
    ok = cf->rows > 0;
out:
    if (sp >= 0) H5Sclose(sp);
    if (ft >= 0) H5Tclose(ft);
    if (dcpl >= 0) H5Pclose(dcpl);
    H5Eclear2(H5E_DEFAULT);
    return ok;
}

/* Whether a chunk with filter mask `mask` was stored with no filter applied. */
static int unfiltered(const chunkfmt_t *cf, uint32_t mask)
{
    for (int j = 0; j < cf->nf; j++)
        if (!((mask >> j) & 1u)) return 0;
    return 1;
}

/* Undo the filters of one raw chunk into out (rows * ncol * esz bytes).  mask bit j set =
 * filter j was skipped for this chunk (HDF5 stores a chunk unfiltered when a filter fails
 * or is optional and does not help).  0, or -1 on a corrupt chunk. */
static int decode_chunk(const chunkfmt_t *cf, uint32_t mask, const unsigned char *in, size_t in_len,
                        unsigned char *out, size_t out_len, size_t esz, unsigned char *tmp,
                        struct libdeflate_decompressor *z)
{
    const unsigned char *cur = in;
    size_t cur_len = in_len;
    for (int j = cf->nf - 1; j >= 0; j--) {
        if ((mask >> j) & 1u) continue;
        unsigned char *dst = (cur == tmp) ? out : tmp;
        if (cf->filt[j] == H5Z_FILTER_DEFLATE) {
            /* a zlib stream (HDF5's deflate filter), decoded by libdeflate: the whole
             * chunk at once, its Adler-32 checked, exactly out_len bytes or an error */
            if (!z || libdeflate_zlib_decompress(z, cur, cur_len, dst, out_len, NULL) != LIBDEFLATE_SUCCESS) return -1;
        } else {                               /* shuffle: byte b of element e at b * ne + e */
            if (cur_len != out_len) return -1;
            size_t ne = out_len / esz;
            if (esz == 1) memcpy(dst, cur, out_len);
            else
                /* in blocks of 64 elements, so that the block of dst being filled (64 rows
                 * of a table: a few kB) stays in L1 while every byte plane is read */
                for (size_t e0 = 0; e0 < ne; e0 += 64) {
                    const size_t e1 = e0 + 64 < ne ? e0 + 64 : ne;
                    for (size_t b = 0; b < esz; b++) {
                        const unsigned char *src = cur + b * ne;
                        for (size_t e = e0; e < e1; e++) dst[e * esz + b] = src[e];
                    }
                }
        }
        cur = dst;
        cur_len = out_len;
    }
    if (cur_len != out_len) return -1;
    if (cur != out) memcpy(out, cur, out_len);
    return 0;
}

/* Where chunk `off` of d is stored (one look in the chunk index): its file address, size
 * and filter mask.  0; 1 when it is not stored (or the index cannot say). */
static int chunk_locate(hid_t d, const hsize_t *off, haddr_t *addr, hsize_t *size, uint32_t *mask)
{
    unsigned m = 0;
    *addr = HADDR_UNDEF;
    *size = 0;
    if (H5Dget_chunk_info_by_coord(d, off, &m, addr, size) < 0) {
        H5Eclear2(H5E_DEFAULT);
        return 1;
    }
    *mask = m;
    return *addr == HADDR_UNDEF || *size == 0;
}

/* A filtered chunk's stored size, found through the chunk index's own lookup (HDF5 1.10's
 * H5Dget_chunk_info_by_coord walks the whole index instead): 0; 1 when it is not stored.
 * Its bytes are then fetched with H5Dread_chunk on this thread: compressed, they are few. */
static int chunk_stored(hid_t d, const hsize_t *off, hsize_t *size)
{
    *size = 0;
    if (H5Dget_chunk_storage_size(d, off, size) < 0) {
        H5Eclear2(H5E_DEFAULT);
        return 1;
    }
    return *size == 0;
}

/* Read len bytes at file address addr through s->fd (any thread: pread shares nothing). */
static int chunk_pread(const ns_h5src_t *s, unsigned char *buf, size_t len, haddr_t addr)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(s->fd, buf + done, len - done, (off_t)(addr + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        done += (size_t)n;
    }
    return 0;
}

/* The report after a parallel decode loop: 0, or -1 for a chunk that could not be read
 * (lost) or does not decompress (bad). */
static int decode_verdict(const ns_h5src_t *s, const char *name, int64_t r0, int64_t k, int lost, int bad)
{
    if (lost)
        return ns_h5_fail(s, "reading a chunk of %s (rows %lld..%lld): the file is shorter than its chunk index "
                          "says, or unreadable", name, (long long)r0, (long long)(r0 + k));
    if (bad)
        return ns_h5_fail(s, "a chunk of %s (rows %lld..%lld) does not decompress: the archive is corrupt", name,
                          (long long)r0, (long long)(r0 + k));
    return 0;
}

/* Called for the rows [lo, hi) of one decoded chunk whose first row is `first`; raw holds
 * the whole chunk.  Runs on any OpenMP thread: touch only the output rows given. */
typedef void (*emit_fn)(void *ctx, const unsigned char *raw, int64_t first, int64_t lo, int64_t hi);

/* Fetch the chunks covering rows [r0, r0 + k) of d raw (this thread: BUILD-NOTES G3), then
 * decode them and hand them to emit in parallel.  0; 1 when a chunk is not there (the caller
 * reads the plain way); -1 after a report. */
static int walk_chunks(const ns_h5src_t *s, hid_t d, const char *name, const chunkfmt_t *cf,
                       int64_t r0, int64_t k, size_t row_bytes, size_t esz, emit_fn emit, void *ctx)
{
    const int64_t cr = (int64_t)cf->rows, c0 = r0 / cr, c1 = (r0 + k - 1) / cr, nch = c1 - c0 + 1;
    const size_t raw_len = (size_t)cr * row_bytes;
    unsigned char **comp = ns_calloc((size_t)nch, sizeof *comp);
    size_t *clen = ns_calloc((size_t)nch, sizeof *clen);
    uint32_t *mask = ns_calloc((size_t)nch, sizeof *mask);
    haddr_t *addr = ns_calloc((size_t)nch, sizeof *addr);
    int r = 0, lost = 0;
    for (int64_t j = 0; j < nch && r == 0; j++) {
        hsize_t off[2] = { (hsize_t)((c0 + j) * cr), 0 };
        hsize_t nb = 0;
        /* compressed chunks are fetched here; unfiltered ones, with a descriptor, are read
         * at their addresses in the parallel loop below */
        const int here = cf->nf > 0 || s->fd <= 0;
        addr[j] = HADDR_UNDEF;
        if (cf->nf > 0 ? chunk_stored(d, off, &nb) != 0 : chunk_locate(d, off, &addr[j], &nb, &mask[j]) != 0) {
            r = 1;                     /* not allocated / unreadable: the plain path decides */
            break;
        }
        comp[j] = ns_malloc((size_t)nb);
        clen[j] = (size_t)nb;
        if (here) addr[j] = HADDR_UNDEF;
        if (here && H5Dread_chunk(d, H5P_DEFAULT, off, &mask[j], comp[j]) < 0)
            r = ns_h5_fail(s, "reading chunk %lld of %s", (long long)(c0 + j), name);
    }
    int bad = 0;
    if (r == 0) {
        #pragma omp parallel
        {
            unsigned char *raw = ns_malloc(raw_len), *tmp = ns_malloc(raw_len);
            struct libdeflate_decompressor *z = libdeflate_alloc_decompressor();
            #pragma omp for schedule(dynamic, 1) reduction(|:bad, lost)
            for (int64_t j = 0; j < nch; j++) {
                if (addr[j] != HADDR_UNDEF && chunk_pread(s, comp[j], clen[j], addr[j]) < 0) { lost = 1; continue; }
                /* a chunk stored as it is (no filter, or each one skipped) is its own rows */
                const unsigned char *rows = raw;
                if (unfiltered(cf, mask[j]) && clen[j] == raw_len) rows = comp[j];
                else if (decode_chunk(cf, mask[j], comp[j], clen[j], raw, raw_len, esz, tmp, z) < 0) { bad = 1; continue; }
                int64_t first = (c0 + j) * cr, lo = first > r0 ? first : r0;
                int64_t hi = first + cr < r0 + k ? first + cr : r0 + k;
                emit(ctx, rows, first, lo, hi);
            }
            libdeflate_free_decompressor(z);
            free(raw);
            free(tmp);
        }
        r = decode_verdict(s, name, r0, k, lost, bad);
    }
    for (int64_t j = 0; j < nch; j++) free(comp[j]);
    free(comp);
    free(clen);
    free(mask);
    free(addr);
    return r;
}

typedef struct {
    unsigned char *buf;
    int64_t r0;
    size_t row_bytes;
} rows_ctx_t;

static void emit_rows(void *ctx, const unsigned char *raw, int64_t first, int64_t lo, int64_t hi)
{
    const rows_ctx_t *c = ctx;
    memcpy(c->buf + (size_t)(lo - c->r0) * c->row_bytes, raw + (size_t)(lo - first) * c->row_bytes,
           (size_t)(hi - lo) * c->row_bytes);
}

int ns_h5_read_rows_par(const ns_h5src_t *s, hid_t d, const char *name, int64_t r0, int64_t k,
                        int64_t ncol, size_t esz, void *buf)
{
    if (k <= 0) return 0;
    chunkfmt_t cf;
    hid_t mt = esz == 8 ? H5T_NATIVE_DOUBLE : H5T_NATIVE_UINT8;
    if (!chunk_format(d, ncol, esz, &cf)) return ns_h5_read_rows(s, d, name, r0, k, ncol, mt, buf);
    rows_ctx_t c = { buf, r0, (size_t)ncol * esz };
    int r = walk_chunks(s, d, name, &cf, r0, k, c.row_bytes, esz, emit_rows, &c);
    if (r == 1) return ns_h5_read_rows(s, d, name, r0, k, ncol, mt, buf);
    return r;
}

/* Filters of a dataset chunked by column (R x 1, or R for rank 1), as chunk_format. */
static int col_chunk_format(hid_t d, int64_t ncol, size_t esz, chunkfmt_t *cf)
{
    int ok = 0;
    hid_t dcpl = H5Dget_create_plist(d), ft = H5Dget_type(d), sp = H5Dget_space(d);
    hid_t want = esz == 8 ? H5T_IEEE_F64LE : H5T_STD_U8LE;
    const union { uint16_t u; uint8_t b[2]; } endian = { 1 };
    hsize_t cd[2] = { 0, 0 }, dims[2] = { 0, 0 };
    if (dcpl < 0 || ft < 0 || sp < 0 || !endian.b[0] || (esz != 8 && esz != 1) || H5Tequal(ft, want) <= 0
        || H5Sget_simple_extent_ndims(sp) != 2 || H5Sget_simple_extent_dims(sp, dims, NULL) != 2
        || (int64_t)dims[1] != ncol || H5Pget_layout(dcpl) != H5D_CHUNKED
        || H5Pget_chunk(dcpl, 2, cd) != 2 || cd[1] != 1 || cd[0] == 0)
        goto out;
    cf->rows = cd[0];
    if (!filters_of(dcpl, cf)) goto out;
    ok = 1;
out:
    if (sp >= 0) H5Sclose(sp);
    if (ft >= 0) H5Tclose(ft);
    if (dcpl >= 0) H5Pclose(dcpl);
    H5Eclear2(H5E_DEFAULT);
    return ok;
}

int ns_h5_read_cols(const ns_h5src_t *s, hid_t d, const char *name, int64_t r0, int64_t k,
                    int64_t ncol, size_t esz, const int *cols, int nj, void *dst)
{
    chunkfmt_t cf;
    if (k <= 0 || nj <= 0) return 0;
    if (!col_chunk_format(d, ncol, esz, &cf)) return 1;
    const int64_t cr = (int64_t)cf.rows, c0 = r0 / cr, c1 = (r0 + k - 1) / cr, nch = c1 - c0 + 1;
    const int64_t nt = (int64_t)nj * nch;
    const size_t raw_len = (size_t)cr * esz;
    unsigned char *out = dst;
    unsigned char **comp = ns_calloc((size_t)nt, sizeof *comp), **direct = ns_calloc((size_t)nt, sizeof *direct);
    size_t *clen = ns_calloc((size_t)nt, sizeof *clen);
    uint32_t *mask = ns_calloc((size_t)nt, sizeof *mask);
    haddr_t *addr = ns_calloc((size_t)nt, sizeof *addr);
    int r = 0;
    /* locate, and without a descriptor fetch (this thread: BUILD-NOTES G3), every chunk;
     * task t = column j, chunk c0 + q */
    for (int64_t t = 0; t < nt && r == 0; t++) {
        const int j = (int)(t / nch), col = cols ? cols[j] : j;
        const int64_t q = t % nch, first = (c0 + q) * cr;
        hsize_t off[2] = { (hsize_t)first, (hsize_t)col };
        hsize_t nb = 0;
        if (cols && cols[j] < 0) continue;        /* not wanted: dst left as it is */
        if (col < 0 || col >= ncol) {
            r = ns_h5_fail(s, "column %d of %s asked for, it has %lld", col, name, (long long)ncol);
            break;
        }
        const int here = cf.nf > 0 || s->fd <= 0;    /* fetched on this thread (see walk_chunks) */
        addr[t] = HADDR_UNDEF;
        if (cf.nf > 0 ? chunk_stored(d, off, &nb) != 0 : chunk_locate(d, off, &addr[t], &nb, &mask[t]) != 0) {
            r = ns_h5_fail(s, "chunk at row %lld, column %d of %s is missing: the archive is incomplete",
                           (long long)first, col, name);
            break;
        }
        if (here) addr[t] = HADDR_UNDEF;
        if (nb > (hsize_t)compressBound((uLong)raw_len) + 64) {
            r = ns_h5_fail(s, "chunk at row %lld, column %d of %s is %llu bytes for %zu bytes of data: the archive is "
                           "corrupt", (long long)first, col, name, (unsigned long long)nb, raw_len);
            break;
        }
        unsigned char *at = out + ((size_t)j * (size_t)k + (size_t)(first - r0)) * esz;
        const int whole = cf.nf == 0 && nb == raw_len && first >= r0 && first + cr <= r0 + k;
        clen[t] = (size_t)nb;
        if (whole) direct[t] = at;    /* unfiltered and wholly wanted: straight into place */
        else comp[t] = ns_malloc((size_t)nb);
        if (here && H5Dread_chunk(d, H5P_DEFAULT, off, &mask[t], whole ? at : comp[t]) < 0)
            r = ns_h5_fail(s, "reading chunk at row %lld, column %d of %s", (long long)first, col, name);
    }
    int bad = 0, lost = 0;
    if (r == 0) {
        #pragma omp parallel if (nt > 1)
        {
            unsigned char *raw = ns_malloc(raw_len), *tmp = ns_malloc(raw_len);
            struct libdeflate_decompressor *z = libdeflate_alloc_decompressor();
            #pragma omp for schedule(dynamic, 1) reduction(|:bad, lost)
            for (int64_t t = 0; t < nt; t++) {
                if (!comp[t] && !direct[t]) continue;
                if (addr[t] != HADDR_UNDEF && chunk_pread(s, comp[t] ? comp[t] : direct[t], clen[t], addr[t]) < 0) { lost = 1; continue; }
                if (!comp[t]) continue;
                if (decode_chunk(&cf, mask[t], comp[t], clen[t], raw, raw_len, esz, tmp, z) < 0) { bad = 1; continue; }
                const int j = (int)(t / nch);
                const int64_t first = (c0 + t % nch) * cr, lo = first > r0 ? first : r0;
                const int64_t hi = first + cr < r0 + k ? first + cr : r0 + k;
                memcpy(out + ((size_t)j * (size_t)k + (size_t)(lo - r0)) * esz, raw + (size_t)(lo - first) * esz,
                       (size_t)(hi - lo) * esz);
            }
            libdeflate_free_decompressor(z);
            free(raw);
            free(tmp);
        }
        r = decode_verdict(s, name, r0, k, lost, bad);
    }
    for (int64_t t = 0; t < nt; t++) free(comp[t]);
    free(comp);
    free(direct);
    free(clen);
    free(mask);
    free(addr);
    return r;
}

/* A table read by the chunk walker: each field copied from its offset in the file row to its
 * offset in the memory row.  Strings: the file's fixed width, NUL-terminated (the memory
 * field is one byte wider); numbers: the same bytes (checked: same type, little-endian). */
typedef struct {
    unsigned char *buf;
    int64_t r0;
    size_t frow, mrow;             /* file and memory row sizes */
    int nf;
    size_t foff[32], moff[32], fw[32];
    int is_str[32];
} table_ctx_t;

static void emit_table(void *ctx, const unsigned char *raw, int64_t first, int64_t lo, int64_t hi)
{
    const table_ctx_t *c = ctx;
    for (int64_t i = lo; i < hi; i++) {
        const unsigned char *fr = raw + (size_t)(i - first) * c->frow;
        unsigned char *mr = c->buf + (size_t)(i - c->r0) * c->mrow;
        memset(mr, 0, c->mrow);    /* the padding too: the buffer is not zeroed beforehand */
        for (int j = 0; j < c->nf; j++) {
            memcpy(mr + c->moff[j], fr + c->foff[j], c->fw[j]);
            if (c->is_str[j]) mr[c->moff[j] + c->fw[j]] = 0;
        }
    }
}

/* The parallel path for ns_h5_read_table, when every field can be copied as it is: 0 done,
 * 1 not possible here (the caller reads the plain way), -1 after a report. */
static int read_table_par(const ns_h5src_t *s, hid_t d, hid_t ft, const char *name, int64_t r0,
                          int64_t k, const ns_h5field_t *fl, int nf, size_t rowsize, void *buf)
{
    chunkfmt_t cf;
    if (k <= 0 || nf > 32 || !chunk_format(d, 1, 0, &cf)) return 1;
    table_ctx_t c = { buf, r0, H5Tget_size(ft), rowsize, nf, { 0 }, { 0 }, { 0 }, { 0 } };
    for (int j = 0; j < nf; j++) {
        int idx = H5Tget_member_index(ft, fl[j].name);
        hid_t mft = idx >= 0 ? H5Tget_member_type(ft, (unsigned)idx) : -1;
        int ok = mft >= 0;
        if (ok && fl[j].is_str) {
            /* fixed-length, NUL-terminated or NUL-padded, as the writer makes them */
            H5T_str_t pad = H5Tget_strpad(mft);
            ok = H5Tget_class(mft) == H5T_STRING && H5Tis_variable_str(mft) == 0
                 && (pad == H5T_STR_NULLTERM || pad == H5T_STR_NULLPAD) && H5Tget_size(mft) + 1 == fl[j].width;
            c.fw[j] = H5Tget_size(mft);
        } else if (ok) {
            ok = H5Tequal(mft, fl[j].num) > 0;
            c.fw[j] = fl[j].width;
        }
        if (mft >= 0) H5Tclose(mft);
        if (!ok) { H5Eclear2(H5E_DEFAULT); return 1; }
        c.foff[j] = H5Tget_member_offset(ft, (unsigned)idx);
        c.moff[j] = fl[j].off;
        c.is_str[j] = fl[j].is_str;
    }
    return walk_chunks(s, d, name, &cf, r0, k, c.frow, c.frow, emit_table, &c);
}

/* Select rows [r0, r0 + k) of d in *fs and a matching memory space in *ms. */
static int select_rows(const ns_h5src_t *s, hid_t d, const char *name, int64_t r0, int64_t k,
                       int64_t ncol, hid_t *fs, hid_t *ms)
{
    *fs = H5Dget_space(d);
    *ms = -1;
    int rank = *fs >= 0 ? H5Sget_simple_extent_ndims(*fs) : -1;
    hsize_t start[2] = { (hsize_t)r0, 0 }, count[2] = { (hsize_t)k, (hsize_t)ncol };
    if (rank < 1 || rank > 2
        || H5Sselect_hyperslab(*fs, H5S_SELECT_SET, start, NULL, count, NULL) < 0
        || (*ms = H5Screate_simple(rank, count, NULL)) < 0) {
        ns_h5_fail(s, "selecting rows %lld..%lld of %s", (long long)r0, (long long)(r0 + k), name);
        if (*fs >= 0) H5Sclose(*fs);
        *fs = -1;
        return -1;
    }
    return 0;
}

int ns_h5_read_rows(const ns_h5src_t *s, hid_t d, const char *name, int64_t r0, int64_t k,
                    int64_t ncol, hid_t mtype, void *buf)
{
    if (k <= 0) return 0;
    hid_t fs, ms;
    if (select_rows(s, d, name, r0, k, ncol, &fs, &ms) < 0) return -1;
    int r = 0;
    if (H5Dread(d, mtype, ms, fs, H5P_DEFAULT, buf) < 0)
        r = ns_h5_fail(s, "reading rows %lld..%lld of %s", (long long)r0, (long long)(r0 + k), name);
    H5Sclose(ms);
    H5Sclose(fs);
    return r;
}

void *ns_h5_read_table(const ns_h5src_t *s, hid_t d, const char *name, int64_t r0, int64_t k,
                       ns_h5field_t *fl, int nf, size_t *rowsize)
{
    hid_t ft = H5Dget_type(d), mt = -1;
    hid_t st[32];
    int nst = 0, ok = 0;
    size_t off = 0;
    void *buf = NULL;
    if (ft < 0 || H5Tget_class(ft) != H5T_COMPOUND) {
        ns_h5_fail(s, "%s is not a table", name);
        goto out;
    }
    if (nf > 32) {
        ns_h5_fail(s, "%s: too many fields asked for", name);
        goto out;
    }
    for (int j = 0; j < nf; j++) {
        int idx = H5Tget_member_index(ft, fl[j].name);
        if (idx < 0) {
            H5Eclear2(H5E_DEFAULT);
            ns_h5_fail(s, "%s has no field %s", name, fl[j].name);
            goto out;
        }
        if (fl[j].is_str) {
            hid_t mft = H5Tget_member_type(ft, (unsigned)idx);
            hid_t m = mft >= 0 ? ns_h5_mem_str(mft) : -1;
            if (mft >= 0) H5Tclose(mft);
            if (m < 0) {
                ns_h5_fail(s, "%s.%s is not a fixed-length string", name, fl[j].name);
                goto out;
            }
            st[nst++] = m;
            fl[j].width = H5Tget_size(m);
        } else {
            fl[j].width = H5Tget_size(fl[j].num);
        }
        off = (off + 7) & ~(size_t)7;
        fl[j].off = off;
        off += fl[j].width;
    }
    *rowsize = (off + 7) & ~(size_t)7;
    if ((mt = H5Tcreate(H5T_COMPOUND, *rowsize)) < 0) {
        ns_h5_fail(s, "making the row type of %s", name);
        goto out;
    }
    for (int j = 0, m = 0; j < nf; j++)
        if (H5Tinsert(mt, fl[j].name, fl[j].off, fl[j].is_str ? st[m++] : fl[j].num) < 0) {
            ns_h5_fail(s, "making the row type of %s", name);
            goto out;
        }
    /* zeroed row by row by the parallel walker (emit_table), or here for HDF5's own read */
    buf = ns_malloc((k > 0 ? (size_t)k : 1) * *rowsize);
    int par = read_table_par(s, d, ft, name, r0, k, fl, nf, *rowsize, buf);
    if (par < 0) goto out;
    if (par == 1) {
        memset(buf, 0, (k > 0 ? (size_t)k : 1) * *rowsize);
        if (ns_h5_read_rows(s, d, name, r0, k, 1, mt, buf) < 0) goto out;
    }
    ok = 1;
out:
    for (int m = 0; m < nst; m++) H5Tclose(st[m]);
    if (mt >= 0) H5Tclose(mt);
    if (ft >= 0) H5Tclose(ft);
    if (!ok) { free(buf); buf = NULL; }
    return buf;
}

char **ns_h5_read_strlist(const ns_h5src_t *s, hid_t f, const char *name, int64_t *n)
{
    hid_t d = -1;
    *n = ns_h5_len1(s, f, name, &d);
    if (*n < 0) return NULL;
    hid_t ft = H5Dget_type(d), mt = ft >= 0 ? ns_h5_mem_str(ft) : -1;
    char *buf = NULL, **out = NULL;
    if (mt < 0) {
        ns_h5_fail(s, "%s is not a list of fixed-length strings", name);
        goto out;
    }
    size_t w = H5Tget_size(mt);
    buf = ns_calloc(*n > 0 ? (size_t)*n : 1, w);
    if (*n > 0 && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
        ns_h5_fail(s, "reading %s", name);
        goto out;
    }
    out = ns_calloc((size_t)*n + 1, sizeof *out);
    for (int64_t j = 0; j < *n; j++) out[j] = ns_strdup(buf + (size_t)j * w);
out:
    free(buf);
    if (mt >= 0) H5Tclose(mt);
    if (ft >= 0) H5Tclose(ft);
    H5Dclose(d);
    return out;
}

void ns_h5_strlist_free(char **v, int64_t n)
{
    if (!v) return;
    for (int64_t j = 0; j < n; j++) free(v[j]);
    free(v);
}

int ns_h5_find_files(const char *tag, const char *dir, const char *fname, char ***v, int *n)
{
    DIR *d = opendir(dir);
    if (!d) {
        ns_error_errno(tag, "%s", dir);
        return -1;
    }
    int r = 0, cap = *n;
    struct dirent *e;
    errno = 0;
    while (r == 0 && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        size_t l = strlen(dir);
        char *p = l && dir[l - 1] == '/' ? ns_asprintf("%s%s", dir, e->d_name)
                                         : ns_asprintf("%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) != 0) {
            ns_error_errno(tag, "%s", p);
            r = -1;
        } else if (S_ISDIR(st.st_mode)) {
            r = ns_h5_find_files(tag, p, fname, v, n);
            cap = *n;
        } else if (S_ISREG(st.st_mode) && strcmp(e->d_name, fname) == 0) {
            if (*n >= cap) {
                cap = cap ? 2 * cap : 16;
                *v = ns_realloc(*v, (size_t)cap * sizeof **v);
            }
            (*v)[(*n)++] = p;
            p = NULL;
        }
        free(p);
        errno = 0;
    }
    if (r == 0 && errno != 0) {
        ns_error_errno(tag, "%s", dir);
        r = -1;
    }
    closedir(d);
    return r;
}
