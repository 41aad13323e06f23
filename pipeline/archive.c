/* archive.c — see archive.h. */
#include <math.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#ifdef _OPENMP
#include <omp.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "archive.h"
#include "log.h"
#include "score.h"
#include "sha256.h"
#include "util.h"
#include "write_hdf5.h"

static void close_ds(hid_t *d)
{
    if (*d >= 0) H5Dclose(*d);
    *d = -1;
}

void ns_archive_close(ns_archive_t *a)
{
    if (!a) return;
    close_ds(&a->d_samples); close_ds(&a->d_state); close_ds(&a->d_conc);
    close_ds(&a->d_cell); close_ds(&a->d_calls);
    close_ds(&a->d_ids); close_ds(&a->d_spec); close_ds(&a->d_strata);
    if (a->f >= 0) H5Fclose(a->f);
    if (a->src.fd > 0) close(a->src.fd);
    free(a->night);
    free(a->pop_sha256);
    free(a->scoring_source);
    free(a->panel_sha256);
    free(a->panel_yaml);
    ns_h5_strlist_free(a->analytes, a->n_analytes);
    ns_h5_strlist_free(a->conds, a->n_conds);
    memset(a, 0, sizeof *a);
    a->f = a->d_samples = a->d_state = a->d_conc = a->d_cell = a->d_calls = -1;
    a->d_ids = a->d_spec = a->d_strata = -1;
}

/* /config/panel_yaml: a scalar fixed-length string. */
static char *read_text(const ns_h5src_t *s, hid_t f, const char *name)
{
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT), ft = -1, mt = -1, sp = -1;
    char *out = NULL;
    if (d < 0) { ns_h5_fail(s, "opening %s", name); return NULL; }
    if ((sp = H5Dget_space(d)) < 0 || H5Sget_simple_extent_type(sp) != H5S_SCALAR) {
        H5Eclear2(H5E_DEFAULT);
        ns_h5_fail(s, "%s is not one string", name);
    } else if ((ft = H5Dget_type(d)) < 0 || (mt = ns_h5_mem_str(ft)) < 0) {
        ns_h5_fail(s, "%s is not a fixed-length string", name);
    } else {
        out = ns_calloc(H5Tget_size(mt) + 1, 1);
        if (H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0) {
            ns_h5_fail(s, "reading %s", name);
            free(out);
            out = NULL;
        }
    }
    if (mt >= 0) H5Tclose(mt);
    if (ft >= 0) H5Tclose(ft);
    if (sp >= 0) H5Sclose(sp);
    H5Dclose(d);
    return out;
}

/* The state codes of /samples_state_code must mean what NS_STATE_* means today. */
static int check_state_names(const ns_h5src_t *s, hid_t d)
{
    hid_t a = H5Aopen(d, "names", H5P_DEFAULT), t = -1, sp = -1, mt = -1;
    int r = -1;
    char *buf = NULL;
    hssize_t n = 0;
    if (a < 0 || (t = H5Aget_type(a)) < 0 || (sp = H5Aget_space(a)) < 0
        || (n = H5Sget_simple_extent_npoints(sp)) < 0) {
        ns_h5_fail(s, "/samples_state_code has no attribute names");
        goto out;
    }
    if (H5Tis_variable_str(t) > 0) {
        char **v = ns_calloc((size_t)n + 1, sizeof *v);
        mt = H5Tcopy(H5T_C_S1);
        if (mt < 0 || H5Tset_size(mt, H5T_VARIABLE) < 0 || H5Aread(a, mt, v) < 0) {
            free(v);
            ns_h5_fail(s, "reading /samples_state_code names");
            goto out;
        }
        r = n == NS_STATE_N ? 0 : -1;
        for (hssize_t k = 0; k < n; k++) {
            if (r == 0 && strcmp(v[k] ? v[k] : "", ns_state_name((int)k)) != 0) r = -1;
            if (v[k]) H5free_memory(v[k]);
        }
        free(v);
    } else if ((mt = ns_h5_mem_str(t)) >= 0) {
        size_t w = H5Tget_size(mt);
        buf = ns_calloc((size_t)n + 1, w);
        if (H5Aread(a, mt, buf) < 0) {
            ns_h5_fail(s, "reading /samples_state_code names");
            goto out;
        }
        r = n == NS_STATE_N ? 0 : -1;
        for (hssize_t k = 0; k < n && r == 0; k++)
            if (strcmp(buf + (size_t)k * w, ns_state_name((int)k)) != 0) r = -1;
    }
    if (r < 0) ns_h5_fail(s, "/samples_state_code names are not this version's states "
                          "(written by another neoscreen version?)");
out:
    free(buf);
    if (mt >= 0) H5Tclose(mt);
    if (sp >= 0) H5Sclose(sp);
    if (t >= 0) H5Tclose(t);
    if (a >= 0) H5Aclose(a);
    return r;
}

/* Open the [n samples][cols] matrix name into *d; -1 after a report. */
static int open_matrix(ns_archive_t *a, const char *name, int64_t cols, const char *what, hid_t *d)
{
    int64_t rows, c;
    if (ns_h5_dims2(&a->src, a->f, name, d, &rows, &c) < 0) return -1;
    if (rows != a->n || c != cols)
        return ns_h5_fail(&a->src, "%s is not [%lld samples][%lld %s]", name, (long long)a->n,
                          (long long)cols, what);
    return 0;
}

static int has_link(hid_t f, const char *name)
{
    htri_t h = H5Lexists(f, name, H5P_DEFAULT);
    if (h < 0) H5Eclear2(H5E_DEFAULT);
    return h > 0;
}

/* Integer root attribute `name`, or -1 when absent or not an integer. */
static int64_t root_i64(hid_t f, const char *name)
{
    int64_t v = -1;
    if (H5Aexists(f, name) <= 0) { H5Eclear2(H5E_DEFAULT); return -1; }
    hid_t at = H5Aopen(f, name, H5P_DEFAULT);
    if (at < 0 || H5Aread(at, H5T_NATIVE_INT64, &v) < 0) v = -1;
    if (at >= 0) H5Aclose(at);
    H5Eclear2(H5E_DEFAULT);
    return v;
}

/* What ns_archive_read_given needs besides the core: the scoring rules' version, the
 * population fragment's digest, and the optional datasets (absent in older archives). */
static int open_extras(ns_archive_t *a)
{
    const ns_h5src_t *s = &a->src;
    a->scoring_version = root_i64(a->f, "scoring_version");
    if (!(a->scoring_source = ns_h5_attr_str(s, a->f, "scoring_source"))) return -1;
    if (has_link(a->f, "/config/population_yaml")) {
        char *t = read_text(s, a->f, "/config/population_yaml");
        if (!t) return -1;
        a->pop_sha256 = ns_calloc(65, 1);
        ns_sha256_hex(t, strlen(t), a->pop_sha256);
        free(t);
    }
    if (has_link(a->f, "/samples_ids") && ns_h5_len1(s, a->f, "/samples_ids", &a->d_ids) != a->n) {
        if (a->d_ids >= 0) ns_h5_fail(s, "/samples_ids does not have one row per sample");
        return -1;
    }
    if (has_link(a->f, "/samples_specimen")
        && open_matrix(a, "/samples_specimen", NS_SPEC_N, "specimen findings", &a->d_spec) < 0)
        return -1;
    if (has_link(a->f, "/samples_strata")) {
        int64_t rows;
        if (ns_h5_dims2(s, a->f, "/samples_strata", &a->d_strata, &rows, &a->n_strata) < 0) return -1;
        if (rows != a->n) return ns_h5_fail(s, "/samples_strata does not have one row per sample");
    }
    return 0;
}

/* A descriptor of the file HDF5 has open (a dup of the sec2 driver's, so it is the same
 * file), for reading chunks in parallel at the addresses of HDF5's chunk index; 0 when the
 * file is not read that way (another driver, or a user block shifting the addresses). */
static int raw_descriptor(hid_t f)
{
    hid_t fapl = H5Fget_access_plist(f), fcpl = H5Fget_create_plist(f);
    hsize_t ub = 1;
    void *h = NULL;
    int fd = 0;
    if (fapl >= 0 && fcpl >= 0 && H5Pget_driver(fapl) == H5FD_SEC2 && H5Pget_userblock(fcpl, &ub) >= 0 && ub == 0
        && H5Fget_vfd_handle(f, fapl, &h) >= 0 && h) {
        fd = fcntl(*(int *)h, F_DUPFD_CLOEXEC, 3);
        if (fd < 0) fd = 0;
    }
    if (fapl >= 0) H5Pclose(fapl);
    if (fcpl >= 0) H5Pclose(fcpl);
    H5Eclear2(H5E_DEFAULT);
    return fd;
}

int ns_archive_open(ns_archive_t *a, const char *tag, const char *path)
{
    memset(a, 0, sizeof *a);
    a->f = a->d_samples = a->d_state = a->d_conc = a->d_cell = a->d_calls = -1;
    a->d_ids = a->d_spec = a->d_strata = -1;
    a->src = (ns_h5src_t){ tag, "archive", path, 0 };
    const ns_h5src_t *s = &a->src;
    ns_h5_errstate_t es;
    ns_h5_quiet(&es);
    int r = -1;
    if (ns_h5_open(s, &a->f) < 0) goto out;
    a->src.fd = raw_descriptor(a->f);
    char *fmt = ns_h5_attr_str(s, a->f, "format");
    if (!fmt) goto out;
    if (strcmp(fmt, NS_HDF5_FORMAT) != 0) {
        ns_h5_fail(s, "format '%.40s' is not %s: not a neoscreen batch archive, or another version's",
                   fmt, NS_HDF5_FORMAT);
        free(fmt);
        goto out;
    }
    free(fmt);
    if (!(a->night = ns_h5_attr_str(s, a->f, "night"))
        || !(a->panel_sha256 = ns_h5_attr_str(s, a->f, "panel_sha256")))
        goto out;
    htri_t has = H5Lexists(a->f, "/calls", H5P_DEFAULT);
    if (has <= 0) {
        H5Eclear2(H5E_DEFAULT);
        ns_h5_fail(s, "no /calls: not a neoscreen batch archive, or a night that never reached scoring");
        goto out;
    }
    if (!(a->panel_yaml = read_text(s, a->f, "/config/panel_yaml"))) goto out;
    if (!(a->analytes = ns_h5_read_strlist(s, a->f, "/analytes/names", &a->n_analytes))) goto out;
    if (!(a->conds = ns_h5_read_strlist(s, a->f, "/calls/conditions", &a->n_conds))) goto out;
    if ((a->n = ns_h5_len1(s, a->f, "/samples", &a->d_samples)) < 0) goto out;
    if (ns_h5_len1(s, a->f, "/samples_state_code", &a->d_state) != a->n) {
        if (a->d_state >= 0) ns_h5_fail(s, "/samples_state_code does not have one row per sample");
        goto out;
    }
    if (check_state_names(s, a->d_state) < 0) goto out;
    if (open_matrix(a, "/analytes/values", a->n_analytes, "analytes", &a->d_conc) < 0
        || open_matrix(a, "/analytes/censoring", a->n_analytes, "analytes", &a->d_cell) < 0
        || open_matrix(a, "/calls/values", a->n_conds, "conditions", &a->d_calls) < 0)
        goto out;
    if (open_extras(a) < 0) goto out;
    r = 0;
out:
    ns_h5_loud(&es);
    if (r < 0) {
        a->src.path = NULL;
        ns_archive_close(a);
    }
    return r;
}

int ns_archive_map(const ns_archive_t *a, const ns_panel_t *p, int *map)
{
    int r = 0;
    for (int j = 0; j < p->n_analytes; j++) {
        map[j] = -1;
        for (int64_t c = 0; c < a->n_analytes && map[j] < 0; c++)
            if (ns_panel_find_analyte(p, a->analytes[c]) == j) map[j] = (int)c;
        if (map[j] < 0) {
            ns_error(a->src.tag, "archive %s has no values of analyte %s (the panel needs it)",
                     a->src.path, p->analytes[j].name);
            r = -1;
        }
    }
    return r;
}

static int type_code(const char *s)
{
    for (int t = 0; t < NS_TYPE_N; t++)
        if (strcmp(s, ns_type_name(t)) == 0) return t;
    return -1;
}

/* A string of the /samples buffer, or NULL when empty: borrowed, not copied (the buffer is
 * x->tab; ns_archive_batch_free lets go of these before freeing the batch). */
static char *borrow(const char *s)
{
    return s && *s ? (char *)s : NULL;
}

/* Row-major [n][ncol] to column-major dst[j * n + i] = src[i * ncol + col(j)], for the
 * columns j < nj (col(j) = map[j], or j without a map), in blocks of rows that stay in
 * cache: column by column over the whole chunk would read every row once per column. */
#define TBLOCK 256
static void transpose_f64(const double *restrict src, size_t n, size_t ncol, const int *map,
                          size_t nj, double *restrict dst)
{
    #pragma omp parallel for schedule(static)
    for (size_t i0 = 0; i0 < n; i0 += TBLOCK) {
        size_t i1 = i0 + TBLOCK < n ? i0 + TBLOCK : n;
        for (size_t j = 0; j < nj; j++) {
            const size_t c = map ? (size_t)map[j] : j;
            double *restrict d = dst + j * n;
            for (size_t i = i0; i < i1; i++) d[i] = src[i * ncol + c];
        }
    }
}

static void transpose_u8(const uint8_t *restrict src, size_t n, size_t ncol, const int *map,
                         size_t nj, uint8_t *restrict dst)
{
    #pragma omp parallel for schedule(static)
    for (size_t i0 = 0; i0 < n; i0 += TBLOCK) {
        size_t i1 = i0 + TBLOCK < n ? i0 + TBLOCK : n;
        for (size_t j = 0; j < nj; j++) {
            const size_t c = map ? (size_t)map[j] : j;
            uint8_t *restrict d = dst + j * n;
            for (size_t i = i0; i < i1; i++) d[i] = src[i * ncol + c];
        }
    }
}

/* The start of both readers: b and x cleared, tied to panel p, rows [r0, r0 + k) checked
 * against the archive.  0, or -1 after a report. */
static int rows_start(const ns_archive_t *a, const ns_panel_t *p, int64_t r0, int64_t k, ns_batch_t *b,
                      ns_archive_rows_t *x)
{
    memset(b, 0, sizeof *b);
    memset(x, 0, sizeof *x);
    b->panel = p;
    b->night = a->night;
    if (r0 < 0 || k < 0 || r0 + k > a->n) {
        ns_error(a->src.tag, "archive %s: rows %lld..%lld asked for, it has %lld", a->src.path,
                 (long long)r0, (long long)(r0 + k), (long long)a->n);
        return -1;
    }
    return 0;
}

int ns_archive_read(ns_archive_t *a, const ns_panel_t *p, const int *map, int64_t r0,
                    int64_t k, ns_batch_t *b, ns_archive_rows_t *x)
{
    const ns_h5src_t *s = &a->src;
    if (rows_start(a, p, r0, k, b, x) < 0) return -1;
    ns_h5_errstate_t es;
    ns_h5_quiet(&es);
    int r = -1;
    const size_t uk = (size_t)k, na = (size_t)a->n_analytes, nc = (size_t)a->n_conds;
    double *vals = NULL;
    uint8_t *cens = NULL, *calls = NULL;
    char *tab = NULL;

    ns_h5field_t fl[] = {
        { "sample_id", 1, -1, 0, 0 }, { "sample_type", 1, -1, 0, 0 },
        { "manifest_line", 0, H5T_NATIVE_INT32, 0, 0 }, { "infant_id", 1, -1, 0, 0 },
        { "specimen", 1, -1, 0, 0 }, { "sex", 1, -1, 0, 0 }, { "hospital", 1, -1, 0, 0 },
        { "birth_weight_g", 0, H5T_NATIVE_DOUBLE, 0, 0 },
        { "gestational_age_days", 0, H5T_NATIVE_DOUBLE, 0, 0 },
        { "age_hours", 0, H5T_NATIVE_DOUBLE, 0, 0 }, { "feeding", 1, -1, 0, 0 },
        { "transfusion", 0, H5T_NATIVE_INT8, 0, 0 }, { "antibiotics", 0, H5T_NATIVE_INT8, 0, 0 },
        { "nicu", 0, H5T_NATIVE_INT8, 0, 0 },
    };
    enum { F_SID, F_TYPE, F_LINE, F_INFANT, F_SPEC, F_SEX, F_HOSP, F_BW, F_GA, F_AGE, F_FEED,
           F_TRANSF, F_ANTIB, F_NICU, F_N };
    size_t rs = 0;
    if (!(tab = ns_h5_read_table(s, a->d_samples, "/samples", r0, k, fl, F_N, &rs))) goto out;

    x->k = k;
    x->state = ns_calloc(uk + 1, 1);
    x->call = ns_calloc(uk * nc + 1, 1);
    x->infant_id = ns_calloc(uk + 1, sizeof *x->infant_id);
    if (ns_h5_read_rows_par(s, a->d_state, "/samples_state_code", r0, k, 1, 1, x->state) < 0) goto out;

    /* the matrices: column-chunked archives give each wanted column straight into the
     * batch; older ones (chunked by rows) are read by rows and transposed */
    const size_t pa = (size_t)p->n_analytes;
    b->n = k;
    b->sample_id = ns_calloc(uk + 1, sizeof *b->sample_id);
    b->type = ns_calloc(uk + 1, 1);
    b->mrow = ns_malloc((uk + 1) * sizeof *b->mrow);
    b->conc = ns_malloc(pa * uk * sizeof *b->conc + 1);
    b->cell = ns_malloc(pa * uk + 1);
    int rc;
    if ((rc = ns_h5_read_cols(s, a->d_calls, "/calls/values", r0, k, (int64_t)nc, 1, NULL, (int)nc, x->call)) < 0)
        goto out;
    if (rc == 1) {
        calls = ns_malloc(uk * nc + 1);
        if (ns_h5_read_rows_par(s, a->d_calls, "/calls/values", r0, k, (int64_t)nc, 1, calls) < 0) goto out;
        transpose_u8(calls, uk, nc, NULL, nc, x->call);
    }
    if ((rc = ns_h5_read_cols(s, a->d_conc, "/analytes/values", r0, k, (int64_t)na, 8, map, (int)pa, b->conc)) < 0)
        goto out;
    if (rc == 1) {
        vals = ns_malloc(uk * na * sizeof *vals + 1);
        if (ns_h5_read_rows_par(s, a->d_conc, "/analytes/values", r0, k, (int64_t)na, 8, vals) < 0) goto out;
        transpose_f64(vals, uk, na, map, pa, b->conc);
    }
    if ((rc = ns_h5_read_cols(s, a->d_cell, "/analytes/censoring", r0, k, (int64_t)na, 1, map, (int)pa, b->cell)) < 0)
        goto out;
    if (rc == 1) {
        cens = ns_malloc(uk * na + 1);
        if (ns_h5_read_rows_par(s, a->d_cell, "/analytes/censoring", r0, k, (int64_t)na, 1, cens) < 0) goto out;
        transpose_u8(cens, uk, na, map, pa, b->cell);
    }
    /* every field of each row is set below, on all threads (no serial zeroing of the array) */
    b->manifest.rows = ns_malloc((uk + 1) * sizeof *b->manifest.rows);
    b->manifest.ok = 1;
    /* rows in parallel: types first, then each patient row's manifest slot (a running count
     * over the rows, serial), then the manifest rows themselves */
    int64_t bad_row = INT64_MAX;                   /* the first row with an unknown type */
    #pragma omp parallel for schedule(static) reduction(min:bad_row)
    for (size_t i = 0; i < uk; i++) {
        const char *row = tab + i * rs;
        int t = type_code(row + fl[F_TYPE].off);
        if (t < 0) { bad_row = (int64_t)i < bad_row ? (int64_t)i : bad_row; continue; }
        b->type[i] = (uint8_t)t;
        b->sample_id[i] = (char *)(row + fl[F_SID].off);
    }
    if (bad_row != INT64_MAX) {
        ns_error(s->tag, "archive %s: /samples[%lld]: unknown sample_type '%.32s'", s->path,
                 (long long)(r0 + bad_row), tab + (size_t)bad_row * rs + fl[F_TYPE].off);
        goto out;
    }
    for (size_t i = 0; i < uk; i++) {
        int32_t line;
        memcpy(&line, tab + i * rs + fl[F_LINE].off, sizeof line);
        b->mrow[i] = line < 0 ? -1 : b->manifest.n++;   /* no manifest row: unmatched or control */
    }
    #pragma omp parallel for schedule(static)
    for (size_t i = 0; i < uk; i++) {
        if (b->mrow[i] < 0) continue;
        const char *row = tab + i * rs;
        int32_t line;
        int8_t tr, ab, nicu;
        memcpy(&line, row + fl[F_LINE].off, sizeof line);
        ns_manifest_row_t *m = &b->manifest.rows[b->mrow[i]];
        memset(m, 0, sizeof *m);        /* times, mother_name, contact_phone: none in an archive */
        m->sample_id = (char *)(row + fl[F_SID].off);
        m->infant_id = borrow(row + fl[F_INFANT].off);
        m->specimen = borrow(row + fl[F_SPEC].off);
        m->sex = borrow(row + fl[F_SEX].off);
        m->hospital = borrow(row + fl[F_HOSP].off);
        m->feeding = borrow(row + fl[F_FEED].off);
        memcpy(&m->birth_weight_g, row + fl[F_BW].off, sizeof m->birth_weight_g);
        memcpy(&m->gestational_age_days, row + fl[F_GA].off, sizeof m->gestational_age_days);
        memcpy(&m->age_hours, row + fl[F_AGE].off, sizeof m->age_hours);
        memcpy(&tr, row + fl[F_TRANSF].off, 1);
        memcpy(&ab, row + fl[F_ANTIB].off, 1);
        memcpy(&nicu, row + fl[F_NICU].off, 1);
        m->transfusion = tr;
        m->antibiotics = ab;
        m->nicu = nicu;
        m->line = line;
        m->n_wells = 1;
        x->infant_id[i] = m->infant_id;
    }
    b->manifest.m = b->manifest.n;
    b->wells_read = k;
    x->tab = tab;
    tab = NULL;
    r = 0;
out:
    ns_h5_loud(&es);
    free(tab);
    free(vals);
    free(cens);
    free(calls);
    if (r < 0) {
        ns_archive_batch_free(b);
        memset(b, 0, sizeof *b);
        ns_archive_rows_free(x);
    }
    return r;
}

/* Read the column-chunked u8 matrix d (ncol columns) of rows [r0, r0 + k), all columns,
 * into dst (column-major).  0, 1 when not column-chunked, -1 after a report. */
static int read_u8_cols(ns_archive_t *a, hid_t d, const char *name, int64_t r0, int64_t k, int64_t ncol,
                        uint8_t *dst)
{
    return ns_h5_read_cols(&a->src, d, name, r0, k, ncol, 1, NULL, (int)ncol, dst);
}

int ns_archive_read_given(ns_archive_t *a, const ns_panel_t *p, const int *map, const int *given_col,
                          int full_rows, int64_t r0, int64_t k, ns_batch_t *b, ns_archive_rows_t *x)
{
    const ns_h5src_t *s = &a->src;
    if (a->d_spec < 0 || (p->n_strata > 0 && a->n_strata != p->n_strata)) return 1;
    if (rows_start(a, p, r0, k, b, x) < 0) return -1;
    ns_h5_errstate_t es;
    ns_h5_quiet(&es);
    int r = -1, rc;
    const size_t uk = (size_t)k, nc = (size_t)a->n_conds, pa = (size_t)p->n_analytes;
    const int use_ids = !full_rows && a->d_ids >= 0;
    uint8_t *m8 = NULL, *need_a = ns_malloc(pa + 1), *need_r = ns_malloc((size_t)p->n_ratios + 1);
    int *cols = ns_malloc((pa + 1) * sizeof *cols);
    char *tab = NULL;

    x->k = k;
    /* every element of these is written below (in the IDs loops, or read from the file) */
    x->state = ns_malloc(uk + 1);
    x->call = ns_malloc(uk * nc + 1);
    x->infant_id = ns_malloc((uk + 1) * sizeof *x->infant_id);
    b->n = k;
    b->sample_id = ns_malloc((uk + 1) * sizeof *b->sample_id);
    b->type = ns_malloc(uk + 1);
    b->mrow = ns_malloc((uk + 1) * sizeof *b->mrow);
    b->conc = ns_malloc(pa * uk * sizeof *b->conc + 1);
    b->cell = ns_malloc(pa * uk + 1);
    /* spec: zeroed block by block below; strata too when there are strata */
    b->spec = ns_malloc((uk + 1) * sizeof *b->spec);
    b->strata = p->n_strata > 0 ? ns_malloc((uk + 1) * sizeof *b->strata) : ns_calloc(uk + 1, sizeof *b->strata);
    b->spec_given = 1;
    b->given_col = given_col;
    b->given_call = x->call;
    if (ns_h5_read_rows_par(s, a->d_state, "/samples_state_code", r0, k, 1, 1, x->state) < 0) goto out;
    if ((rc = read_u8_cols(a, a->d_calls, "/calls/values", r0, k, (int64_t)nc, x->call)) != 0) { r = rc; goto out; }

    /* the analytes the recomputed conditions need; the others' columns stay unread */
    ns_score_needs(p, given_col, need_a, need_r);
    for (size_t j = 0; j < pa; j++) cols[j] = need_a[j] ? map[j] : -1;
    if ((rc = ns_h5_read_cols(s, a->d_conc, "/analytes/values", r0, k, a->n_analytes, 8, cols, (int)pa, b->conc)) != 0
        || (rc = ns_h5_read_cols(s, a->d_cell, "/analytes/censoring", r0, k, a->n_analytes, 1, cols, (int)pa, b->cell)) != 0) {
        r = rc;
        goto out;
    }

    /* specimen findings and strata as the night found them: bits from 0/1 columns */
    const size_t nst = (size_t)p->n_strata, nm = NS_SPEC_N > nst ? NS_SPEC_N : nst;
    m8 = ns_malloc(nm * uk + 1);
    if ((rc = read_u8_cols(a, a->d_spec, "/samples_specimen", r0, k, NS_SPEC_N, m8)) != 0) { r = rc; goto out; }
    #pragma omp parallel for schedule(static)
    for (size_t i0 = 0; i0 < uk; i0 += 8192) {
        memset(b->spec + i0, 0, ((uk < i0 + 8192 ? uk : i0 + 8192) - i0) * sizeof *b->spec);
        for (int f = 0; f < NS_SPEC_N; f++)
            #pragma omp simd
            for (size_t i = i0; i < (uk < i0 + 8192 ? uk : i0 + 8192); i++)
                b->spec[i] |= (uint16_t)((m8[(size_t)f * uk + i] & 1u) << f);
    }
    if (nst > 0) {
        if ((rc = read_u8_cols(a, a->d_strata, "/samples_strata", r0, k, (int64_t)nst, m8)) != 0) { r = rc; goto out; }
        #pragma omp parallel for schedule(static)
        for (size_t i0 = 0; i0 < uk; i0 += 8192) {
            memset(b->strata + i0, 0, ((uk < i0 + 8192 ? uk : i0 + 8192) - i0) * sizeof *b->strata);
            for (size_t q = 0; q < nst; q++)
                #pragma omp simd
                for (size_t i = i0; i < (uk < i0 + 8192 ? uk : i0 + 8192); i++)
                    b->strata[i] |= (uint32_t)(m8[q * uk + i] & 1u) << q;
        }
    }

    if (use_ids) {
        ns_h5field_t fl[] = { { "sample_id", 1, -1, 0, 0 }, { "infant_id", 1, -1, 0, 0 } };
        size_t rs = 0;
        if (!(tab = ns_h5_read_table(s, a->d_ids, "/samples_ids", r0, k, fl, 2, &rs))) goto out;
        #pragma omp parallel for schedule(static)
        for (size_t i = 0; i < uk; i++) {
            const char *row = tab + i * rs;
            const uint8_t st = x->state[i];
            b->sample_id[i] = (char *)(row + fl[0].off);
            b->type[i] = st == NS_STATE_CONTROL ? NS_TYPE_QC_LOW : NS_TYPE_PATIENT;
            b->mrow[i] = st == NS_STATE_CONTROL || st == NS_STATE_UNMATCHED ? -1 : 0;
            x->infant_id[i] = borrow(row + fl[1].off);
        }
    } else {
        ns_h5field_t fl[] = { { "sample_id", 1, -1, 0, 0 }, { "sample_type", 1, -1, 0, 0 },
                              { "manifest_line", 0, H5T_NATIVE_INT32, 0, 0 }, { "infant_id", 1, -1, 0, 0 } };
        size_t rs = 0;
        if (!(tab = ns_h5_read_table(s, a->d_samples, "/samples", r0, k, fl, 4, &rs))) goto out;
        for (size_t i = 0; i < uk; i++) {
            const char *row = tab + i * rs;
            int t = type_code(row + fl[1].off);
            int32_t line;
            if (t < 0) {
                ns_error(s->tag, "archive %s: /samples[%lld]: unknown sample_type '%.32s'", s->path,
                         (long long)(r0 + (int64_t)i), row + fl[1].off);
                goto out;
            }
            memcpy(&line, row + fl[2].off, sizeof line);
            b->type[i] = (uint8_t)t;
            b->sample_id[i] = (char *)(row + fl[0].off);
            b->mrow[i] = line < 0 ? -1 : 0;
            x->infant_id[i] = line < 0 ? NULL : borrow(row + fl[3].off);
        }
    }
    b->manifest.ok = 1;          /* no manifest rows: nothing reads them when spec_given */
    b->wells_read = k;
    x->tab = tab;
    tab = NULL;
    r = 0;
out:
    ns_h5_loud(&es);
    free(tab);
    free(m8);
    free(need_a);
    free(need_r);
    free(cols);
    if (r != 0) {
        ns_archive_batch_free(b);
        memset(b, 0, sizeof *b);
        ns_archive_rows_free(x);
    }
    return r;
}

void ns_archive_batch_free(ns_batch_t *b)
{
    if (!b) return;
    /* the strings are borrowed from the rows' /samples buffer: let go of them (the
     * array, not each string) before ns_batch_free frees what the batch owns */
    free(b->sample_id);
    b->sample_id = NULL;
    /* and so are all the manifest rows' strings: the rows go as one array (not a walk
     * over them by ns_manifest_free, on one thread, 65,536 rows a chunk) */
    free(b->manifest.rows);
    b->manifest.rows = NULL;
    b->manifest.n = b->manifest.m = 0;
    ns_batch_free(b);
}

void ns_archive_rows_free(ns_archive_rows_t *x)
{
    if (!x) return;
    free(x->tab);
    free(x->infant_id);
    free(x->state);
    free(x->call);
    memset(x, 0, sizeof *x);
}

static int cmp_str(const void *pa, const void *pb)
{
    return strcmp(*(char *const *)pa, *(char *const *)pb);
}

/* Drop paths that name a file already in the list (same device and inode: the same path
 * twice, a hard link, a directory and a file inside it), with a message. */
static void drop_same_files(const char *tag, char **v, int *n)
{
    dev_t *dev = ns_calloc((size_t)*n + 1, sizeof *dev);
    ino_t *ino = ns_calloc((size_t)*n + 1, sizeof *ino);
    int w = 0;
    for (int k = 0; k < *n; k++) {
        struct stat st;
        memset(&st, 0, sizeof st);
        int dup = -1;
        if (stat(v[k], &st) == 0)
            for (int j = 0; j < w && dup < 0; j++)
                if (dev[j] == st.st_dev && ino[j] == st.st_ino) dup = j;
        if (dup >= 0) {
            ns_error(tag, "%s is the same file as %s: read once", v[k], v[dup]);
            free(v[k]);
            continue;
        }
        dev[w] = st.st_dev;
        ino[w] = st.st_ino;
        v[w++] = v[k];
    }
    *n = w;
    free(dev);
    free(ino);
}

int ns_archive_paths(const char *tag, char **args, int n_args, char ***v, int *n)
{
    int n0_all = *n;
    for (int k = 0; k < n_args; k++) {
        struct stat st;
        if (stat(args[k], &st) != 0) {
            ns_error_errno(tag, "%s", args[k]);
            return -1;
        }
        if (!S_ISDIR(st.st_mode)) {
            *v = ns_realloc(*v, (size_t)(*n + 1) * sizeof **v);
            (*v)[(*n)++] = ns_strdup(args[k]);
            continue;
        }
        int n0 = *n;
        if (ns_h5_find_files(tag, args[k], "batch.h5", v, n) < 0) return -1;
        if (*n == n0) {
            ns_error(tag, "%s: no batch.h5 archive in this directory or below it", args[k]);
            return -1;
        }
        qsort(*v + n0, (size_t)(*n - n0), sizeof **v, cmp_str);
    }
    int m = *n - n0_all;
    drop_same_files(tag, *v + n0_all, &m);
    *n = n0_all + m;
    return 0;
}

void ns_archive_note_copy(ns_archive_seen_t *seen, const ns_archive_t *a)
{
    char *key = ns_asprintf("%s\t%s\t%lld", a->night, a->panel_sha256, (long long)a->n);
    for (int k = 0; k < seen->n; k++)
        if (strcmp(seen->key[k], key) == 0) {
            ns_error(a->src.tag, "warning: %s looks like a copy of %s (night %s, same panel, %lld rows): "
                     "its cards are counted twice", a->src.path, seen->path[k], a->night, (long long)a->n);
            free(key);
            return;
        }
    seen->key = ns_realloc(seen->key, (size_t)(seen->n + 1) * sizeof *seen->key);
    seen->path = ns_realloc(seen->path, (size_t)(seen->n + 1) * sizeof *seen->path);
    seen->key[seen->n] = key;
    seen->path[seen->n++] = ns_strdup(a->src.path);
}

void ns_archive_seen_free(ns_archive_seen_t *seen)
{
    for (int k = 0; k < seen->n; k++) {
        free(seen->key[k]);
        free(seen->path[k]);
    }
    free(seen->key);
    free(seen->path);
    memset(seen, 0, sizeof *seen);
}

void ns_archive_start(int threads)
{
#ifdef _OPENMP
    if (threads > 0) omp_set_num_threads(threads);
#else
    (void)threads;
#endif
    ns_clock_start();
#ifdef __GLIBC__
    /* every chunk allocates and frees the same large arrays: keep them in the heap instead
     * of mmap/munmap each time (which cost a page fault per page, every chunk) */
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
#endif
}
