/* qc_history.c — earlier nights' QC read back from their batch.h5 archives (plate_qc.h).
 *
 * ns_qc_history_load(h, dir, panel, max_plates):
 *   1. Find every regular file named exactly "batch.h5" under dir, at any depth.  Symbolic
 *      links (to files or to directories) are skipped, so a link cannot make an archive
 *      count twice or the walk loop.  A missing or unreadable dir (or subdirectory) is an
 *      error.
 *   2. Open each read-only and read its root attribute "night" and whether it has /qc;
 *      archives written without QC are skipped with a note (ns_info level 1).  An archive
 *      that is not HDF5 or cannot be read is an error naming the file.  Archives with /qc
 *      are ordered by (night, path), byte order; a missing night attribute counts as "".
 *   3. Walking back from the newest, take archives until max_plates judged plates are
 *      covered (max_plates < 0: no limit; 0: none), then read /analytes/names,
 *      /qc/plates, /qc/controls and /qc/median of those, oldest first.  Plates whose
 *      status is "not_run" (quarantined plate files: no controls, no medians) are left
 *      out and do not count.  Within an archive plates keep their index order and
 *      controls their row order; of the first archive read, only its newest plates are
 *      kept so that exactly the last max_plates plates remain, and the controls of the
 *      dropped plates are dropped with them.
 *   4. Analytes are mapped to the current panel by name (ns_panel_find_analyte: names
 *      and aliases, case-insensitive); an analyte the panel lacks gets -1 in obs and no
 *      column in median.  Controls get plate = -1 (not a plate of tonight).
 *
 * HDF5 calls use the numbered API (BUILD-NOTES G2), from the calling thread only (G3),
 * with HDF5's automatic error printing off for the duration of the call.  Strings are
 * read with memory types of the file's own size and character set (the writer uses
 * fixed-length UTF-8; HDF5 does not convert between character sets).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <hdf5.h>
#include "log.h"
#include "plate_qc.h"
#include "util.h"

const char *ns_qc_status_name(int status)
{
    switch (status) {
    case NS_QC_ACCEPTED: return "accepted";
    case NS_QC_WARNING:  return "warning";
    case NS_QC_REJECTED: return "rejected";
    case NS_QC_NOT_RUN:  return "not_run";
    default:             return "unknown";
    }
}

/* ------------------------------------------------------------------ errors */

typedef struct { char s[512]; } inner_t;

static herr_t walk_cb(unsigned n, const H5E_error2_t *e, void *data)
{
    if (n == 0 && e->desc) snprintf(((inner_t *)data)->s, sizeof ((inner_t *)data)->s, "%s",
                                    e->desc);
    return 0;
}

/* Report "history archive PATH: what (HDF5: innermost message)"; returns -1.  Called right
 * after the failing HDF5 call, or with the stack clear for a layout problem. */
static int arc_fail(const char *path, const char *fmt, ...) NS_FORMAT(2, 3);
static int arc_fail(const char *path, const char *fmt, ...)
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
        ns_error("run", "history archive %s: %s: %.*s", path, what, (int)(end - em), em);
    else if (in.s[0])
        ns_error("run", "history archive %s: %s (HDF5: %s)", path, what, in.s);
    else
        ns_error("run", "history archive %s: %s", path, what);
    return -1;
}

/* ------------------------------------------------------------------ finding archives */

typedef struct {
    char **v;
    int n, m;
} paths_t;

static void paths_add(paths_t *p, char *s)
{
    if (p->n == p->m) {
        p->m = p->m ? 2 * p->m : 16;
        p->v = ns_realloc(p->v, (size_t)p->m * sizeof *p->v);
    }
    p->v[p->n++] = s;
}

static int find_archives(const char *dir, paths_t *out)
{
    DIR *d = opendir(dir);
    if (!d) {
        ns_error_errno("run", "history directory %s", dir);
        return -1;
    }
    int r = 0;
    struct dirent *e;
    errno = 0;
    while (r == 0 && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        size_t l = strlen(dir);
        char *p = l && dir[l - 1] == '/' ? ns_asprintf("%s%s", dir, e->d_name)
                                         : ns_asprintf("%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) != 0) {
            ns_error_errno("run", "history: %s", p);
            r = -1;
        } else if (S_ISDIR(st.st_mode)) {
            r = find_archives(p, out);
        } else if (S_ISREG(st.st_mode) && strcmp(e->d_name, "batch.h5") == 0) {
            paths_add(out, p);
            p = NULL;
        }
        free(p);
        errno = 0;
    }
    if (r == 0 && errno != 0) {
        ns_error_errno("run", "history directory %s", dir);
        r = -1;
    }
    closedir(d);
    return r;
}

/* ------------------------------------------------------------------ reading */

/* Memory type for a file string type: same size and character set, NUL-terminated. */
static hid_t mem_str(hid_t ft)
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

/* Root attribute "night" as a malloc'd string ("" when absent); NULL after a report. */
static char *read_night(hid_t f, const char *path)
{
    htri_t ex = H5Aexists(f, "night");
    if (ex < 0) { arc_fail(path, "looking for attribute night"); return NULL; }
    if (ex == 0) return ns_strdup("");
    hid_t a = H5Aopen(f, "night", H5P_DEFAULT), ft = -1, sp = -1, mt = -1;
    char *out = NULL;
    if (a < 0 || (ft = H5Aget_type(a)) < 0 || (sp = H5Aget_space(a)) < 0) {
        arc_fail(path, "opening attribute night");
    } else if (H5Tget_class(ft) != H5T_STRING
               || H5Sget_simple_extent_type(sp) != H5S_SCALAR) {
        arc_fail(path, "attribute night is not a scalar string");
    } else if (H5Tis_variable_str(ft) > 0) {
        char *s = NULL;
        mt = H5Tcopy(H5T_C_S1);
        if (mt < 0 || H5Tset_size(mt, H5T_VARIABLE) < 0
            || H5Tset_cset(mt, H5Tget_cset(ft)) < 0 || H5Aread(a, mt, &s) < 0)
            arc_fail(path, "reading attribute night");
        else
            out = ns_strdup(s ? s : "");
        if (s) H5free_memory(s);
    } else {
        size_t n = H5Tget_size(ft);
        out = ns_calloc(n + 2, 1);
        if ((mt = mem_str(ft)) < 0 || H5Aread(a, mt, out) < 0) {
            arc_fail(path, "reading attribute night");
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

/* Length of the 1-D dataset name, or -1 after a report. */
static int64_t ds_len1(hid_t f, const char *path, const char *name, hid_t *dset)
{
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0) return arc_fail(path, "opening %s", name);
    hid_t s = H5Dget_space(d);
    hsize_t dim = 0;
    if (s < 0 || H5Sget_simple_extent_ndims(s) != 1
        || H5Sget_simple_extent_dims(s, &dim, NULL) < 0) {
        arc_fail(path, "%s is not one-dimensional", name);
        if (s >= 0) H5Sclose(s);
        H5Dclose(d);
        return -1;
    }
    H5Sclose(s);
    *dset = d;
    return (int64_t)dim;
}

/* One compound field to read: its name, and where it goes in the memory row. */
typedef struct {
    const char *name;
    int is_str;             /* 1: fixed-length string (width from the file), 0: numeric */
    hid_t num;              /* memory type for a numeric field */
    size_t off, width;      /* filled by read_table */
} field_t;

/* Read the named fields of compound dataset d ([n] rows) into a malloc'd buffer of rows of
 * *rowsize bytes, strings NUL-terminated.  NULL after a report. */
static void *read_table(hid_t d, int64_t n, const char *path, const char *name, field_t *fl,
                        int nf, size_t *rowsize)
{
    hid_t ft = H5Dget_type(d), mt = -1;
    hid_t st[16];
    int nst = 0, ok = 0;
    size_t off = 0;
    void *buf = NULL;
    if (ft < 0 || H5Tget_class(ft) != H5T_COMPOUND) {
        arc_fail(path, "%s is not a table", name);
        goto out;
    }
    for (int k = 0; k < nf; k++) {
        int idx = H5Tget_member_index(ft, fl[k].name);
        if (idx < 0) {
            H5Eclear2(H5E_DEFAULT);
            arc_fail(path, "%s has no field %s", name, fl[k].name);
            goto out;
        }
        if (fl[k].is_str) {
            hid_t mft = H5Tget_member_type(ft, (unsigned)idx);
            hid_t m = mft >= 0 ? mem_str(mft) : -1;
            if (mft >= 0) H5Tclose(mft);
            if (m < 0) {
                arc_fail(path, "%s.%s is not a fixed-length string", name, fl[k].name);
                goto out;
            }
            st[nst++] = m;
            fl[k].width = H5Tget_size(m);
        } else {
            fl[k].width = H5Tget_size(fl[k].num);
        }
        off = (off + 7) & ~(size_t)7;
        fl[k].off = off;
        off += fl[k].width;
    }
    *rowsize = (off + 7) & ~(size_t)7;
    if ((mt = H5Tcreate(H5T_COMPOUND, *rowsize)) < 0) {
        arc_fail(path, "making the row type of %s", name);
        goto out;
    }
    for (int k = 0, s = 0; k < nf; k++)
        if (H5Tinsert(mt, fl[k].name, fl[k].off, fl[k].is_str ? st[s++] : fl[k].num) < 0) {
            arc_fail(path, "making the row type of %s", name);
            goto out;
        }
    buf = ns_calloc(n > 0 ? (size_t)n : 1, *rowsize);
    if (n > 0 && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
        arc_fail(path, "reading %s", name);
        goto out;
    }
    ok = 1;
out:
    for (int s = 0; s < nst; s++) H5Tclose(st[s]);
    if (mt >= 0) H5Tclose(mt);
    if (ft >= 0) H5Tclose(ft);
    if (!ok) { free(buf); buf = NULL; }
    return buf;
}

/* One archive found with /qc. */
typedef struct {
    char *path, *night;
    int n_judged;           /* plates whose status is not "not_run" */
} arc_t;

static int arc_cmp(const void *pa, const void *pb)
{
    const arc_t *a = pa, *b = pb;
    int c = strcmp(a->night, b->night);
    return c ? c : strcmp(a->path, b->path);
}

/* /qc/plates: number of rows, and a malloc'd flag per row: 1 = judged (not "not_run").
 * Row k is plate index k of that night. */
static int64_t read_plates(hid_t f, const char *path, char **judged)
{
    hid_t d = -1;
    int64_t n = ds_len1(f, path, "/qc/plates", &d);
    if (n < 0) return -1;
    field_t fl[] = { { "status", 1, -1, 0, 0 } };
    size_t rs = 0;
    char *t = read_table(d, n, path, "/qc/plates", fl, 1, &rs);
    H5Dclose(d);
    if (!t) return -1;
    *judged = ns_calloc(n > 0 ? (size_t)n : 1, 1);
    for (int64_t k = 0; k < n; k++)
        (*judged)[k] = strcmp(t + (size_t)k * rs + fl[0].off, "not_run") != 0;
    free(t);
    return n;
}

/* Open path read-only: 0 and the file, or -1 after a report. */
static int open_archive(const char *path, hid_t *f)
{
    htri_t is = H5Fis_hdf5(path);
    if (is <= 0) {
        if (is == 0) {
            H5Eclear2(H5E_DEFAULT);
            return arc_fail(path, "not an HDF5 file");
        }
        return arc_fail(path, "cannot open");
    }
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0) {
        if (fapl >= 0) H5Pclose(fapl);
        return arc_fail(path, "making file properties");
    }
    *f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    if (*f < 0) arc_fail(path, "cannot open");     /* before H5Pclose clears the stack */
    H5Pclose(fapl);
    return *f < 0 ? -1 : 0;
}

/* Pass 1: night, whether /qc exists, and how many judged plates.  1 = usable, 0 = no
 * /qc (skipped), -1 = error (reported). */
static int scan_archive(const char *path, arc_t *a)
{
    hid_t f;
    if (open_archive(path, &f) < 0) return -1;
    int r = -1;
    htri_t has = H5Lexists(f, "/qc", H5P_DEFAULT);
    if (has < 0) {
        arc_fail(path, "looking for /qc");
    } else if (has == 0) {
        ns_info(1, "qc", "history: %s has no QC results (/qc), skipped", path);
        r = 0;
    } else if ((a->night = read_night(f, path)) != NULL) {
        char *judged = NULL;
        int64_t n = read_plates(f, path, &judged);
        if (n >= 0) {
            a->n_judged = 0;
            for (int64_t k = 0; k < n; k++) a->n_judged += judged[k];
            a->path = ns_strdup(path);
            r = 1;
        }
        free(judged);
        if (r != 1) { free(a->night); a->night = NULL; }
    }
    H5Fclose(f);
    return r;
}

/* /analytes/names of the archive mapped to the panel: map[j] = panel index or -1. */
static int64_t read_analyte_map(hid_t f, const char *path, const ns_panel_t *p, int **map)
{
    hid_t d = -1;
    int64_t n = ds_len1(f, path, "/analytes/names", &d);
    if (n < 0) return -1;
    hid_t ft = H5Dget_type(d), mt = ft >= 0 ? mem_str(ft) : -1;
    char *buf = NULL;
    if (mt < 0) {
        arc_fail(path, "/analytes/names is not a list of fixed-length strings");
        n = -1;
        goto out;
    }
    size_t w = H5Tget_size(mt);
    buf = ns_calloc(n > 0 ? (size_t)n : 1, w);
    if (n > 0 && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
        arc_fail(path, "reading /analytes/names");
        n = -1;
        goto out;
    }
    *map = ns_calloc(n > 0 ? (size_t)n : 1, sizeof **map);
    for (int64_t j = 0; j < n; j++) (*map)[j] = ns_panel_find_analyte(p, buf + (size_t)j * w);
out:
    free(buf);
    if (mt >= 0) H5Tclose(mt);
    if (ft >= 0) H5Tclose(ft);
    H5Dclose(d);
    return n;
}

/* Pass 2: append this archive's plates [skip..] (judged ones only, skip counted in judged
 * plates) and their controls to h. */
static int read_archive(ns_qc_history_t *h, const char *path, const ns_panel_t *p, int skip,
                        int64_t *obs_cap)
{
    hid_t f, d = -1;
    if (open_archive(path, &f) < 0) return -1;
    int r = -1, *map = NULL;
    char *judged = NULL, *ctl = NULL;
    double *med = NULL;
    int *slot = NULL;           /* archive plate k -> index in h, or -1 (dropped) */
    const int na = p->n_analytes;

    int64_t nan_ = read_analyte_map(f, path, p, &map);
    if (nan_ < 0) goto out;
    int64_t np = read_plates(f, path, &judged);
    if (np < 0) goto out;

    /* /qc/median [np][nan_] */
    if ((d = H5Dopen2(f, "/qc/median", H5P_DEFAULT)) < 0) {
        arc_fail(path, "opening /qc/median");
        goto out;
    }
    {
        hid_t s = H5Dget_space(d);
        hsize_t dims[2] = { 0, 0 };
        int ok = s >= 0 && H5Sget_simple_extent_ndims(s) == 2
                 && H5Sget_simple_extent_dims(s, dims, NULL) >= 0;
        if (s >= 0) H5Sclose(s);
        if (!ok || dims[0] != (hsize_t)np || dims[1] != (hsize_t)nan_) {
            H5Eclear2(H5E_DEFAULT);
            arc_fail(path, "/qc/median is not [%lld plates][%lld analytes]", (long long)np,
                     (long long)nan_);
            goto out;
        }
        med = ns_calloc((size_t)(np * nan_ > 0 ? np * nan_ : 1), sizeof *med);
        if (np * nan_ > 0
            && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, med) < 0) {
            arc_fail(path, "reading /qc/median");
            goto out;
        }
        H5Dclose(d);
        d = -1;
    }

    /* plates kept: judged ones after the first skip judged ones */
    slot = ns_calloc(np > 0 ? (size_t)np : 1, sizeof *slot);
    int seen = 0, nkeep = 0;
    for (int64_t k = 0; k < np; k++) {
        slot[k] = -1;
        if (!judged[k]) continue;
        if (seen++ >= skip) slot[k] = h->n_plates + nkeep++;
    }
    h->median = ns_realloc(h->median, (size_t)(h->n_plates + nkeep > 0 ? h->n_plates + nkeep : 1)
                                      * (size_t)(na > 0 ? na : 1) * sizeof *h->median);
    for (int64_t k = 0; k < np; k++) {
        if (slot[k] < 0) continue;
        double *row = h->median + (size_t)slot[k] * (size_t)na;
        for (int a = 0; a < na; a++) row[a] = NAN;
        for (int64_t j = 0; j < nan_; j++)
            if (map[j] >= 0 && isnan(row[map[j]])) row[map[j]] = med[k * nan_ + j];
    }

    /* /qc/controls, row order */
    int64_t nc = ds_len1(f, path, "/qc/controls", &d);
    if (nc < 0) goto out;
    field_t fl[] = {
        { "plate_id", 1, -1, 0, 0 }, { "plate_index", 0, H5T_NATIVE_INT32, 0, 0 },
        { "well", 1, -1, 0, 0 }, { "level", 1, -1, 0, 0 }, { "analyte", 1, -1, 0, 0 },
        { "value", 0, H5T_NATIVE_DOUBLE, 0, 0 }, { "z", 0, H5T_NATIVE_DOUBLE, 0, 0 },
    };
    size_t rs = 0;
    ctl = read_table(d, nc, path, "/qc/controls", fl, 7, &rs);
    H5Dclose(d);
    d = -1;
    if (!ctl) goto out;
    for (int64_t i = 0; i < nc; i++) {
        const char *row = ctl + (size_t)i * rs;
        int32_t pk;
        memcpy(&pk, row + fl[1].off, sizeof pk);
        const char *lv = row + fl[3].off;
        int level = strcmp(lv, "qc_low") == 0 ? 0 : strcmp(lv, "qc_high") == 0 ? 1 : -1;
        if (pk < 0 || pk >= np) {
            arc_fail(path, "/qc/controls[%lld]: plate_index %d is not a row of /qc/plates",
                     (long long)i, (int)pk);
            goto out;
        }
        if (level < 0) {
            arc_fail(path, "/qc/controls[%lld]: level '%.32s' is not qc_low or qc_high",
                     (long long)i, lv);
            goto out;
        }
        if (slot[pk] < 0) continue;                /* dropped, or a plate not run */
        if (h->n_obs == *obs_cap) {
            *obs_cap = *obs_cap ? 2 * *obs_cap : 256;
            h->obs = ns_realloc(h->obs, (size_t)*obs_cap * sizeof *h->obs);
        }
        ns_qc_control_t *o = &h->obs[h->n_obs++];
        memset(o, 0, sizeof *o);
        snprintf(o->plate_id, sizeof o->plate_id, "%s", row + fl[0].off);
        o->plate = -1;
        snprintf(o->well, sizeof o->well, "%s", row + fl[2].off);
        o->level = (uint8_t)level;
        o->analyte = ns_panel_find_analyte(p, row + fl[4].off);
        memcpy(&o->value, row + fl[5].off, sizeof o->value);
        memcpy(&o->z, row + fl[6].off, sizeof o->z);
    }
    h->n_plates += nkeep;
    r = 0;
out:
    if (d >= 0) H5Dclose(d);
    H5Fclose(f);
    free(map);
    free(judged);
    free(med);
    free(slot);
    free(ctl);
    return r;
}

/* "YYYY-MM-DD..." */
static int iso_dated(const char *s)
{
    static const char pat[] = "dddd-dd-dd";
    for (int k = 0; pat[k]; k++)
        if (pat[k] == 'd' ? !isdigit((unsigned char)s[k]) : s[k] != pat[k]) return 0;
    return 1;
}

/* Why an archive of night `night` cannot be history for tonight, or NULL if it can.
 * Tonight is never its own history; when both names are ISO dates, a later night is not
 * history either (re-processing an old night must not see what came after it). */
static const char *not_history(const char *night, const char *tonight)
{
    if (!tonight || !*tonight) return NULL;
    if (strcmp(night, tonight) == 0) return "same night as tonight (use --night to name nights apart)";
    if (iso_dated(night) && iso_dated(tonight) && strcmp(night, tonight) > 0)
        return "a later night than tonight";
    return NULL;
}

int ns_qc_history_load(ns_qc_history_t *h, const char *dir, const ns_panel_t *p, int max_plates,
                       const char *skip_night)
{
    memset(h, 0, sizeof *h);
    H5E_auto2_t old_fn = NULL;
    void *old_data = NULL;
    H5Eget_auto2(H5E_DEFAULT, &old_fn, &old_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    H5Eclear2(H5E_DEFAULT);

    paths_t found = { 0 };
    arc_t *arc = NULL;
    int n_arc = 0, r = -1;
    struct stat st;
    if (!dir || !p) {
        ns_error("run", "history: no directory or no panel");
        goto out;
    }
    if (stat(dir, &st) != 0) {
        ns_error_errno("run", "history directory %s", dir);
        goto out;
    }
    if (!S_ISDIR(st.st_mode)) {
        ns_error("run", "history directory %s: not a directory", dir);
        goto out;
    }
    if (find_archives(dir, &found) < 0) goto out;

    arc = ns_calloc(found.n ? (size_t)found.n : 1, sizeof *arc);
    int n_usable = 0;
    for (int k = 0; k < found.n; k++) {
        int s = scan_archive(found.v[k], &arc[n_arc]);
        if (s < 0) goto out;
        n_usable += s;
        const char *why = s == 1 ? not_history(arc[n_arc].night, skip_night) : NULL;
        if (why) {
            ns_error("run", "history: %s (night %s) skipped: %s", found.v[k], arc[n_arc].night, why);
            free(arc[n_arc].night);
            free(arc[n_arc].path);
            memset(&arc[n_arc], 0, sizeof arc[n_arc]);
            continue;
        }
        n_arc += s;
    }
    qsort(arc, (size_t)n_arc, sizeof *arc, arc_cmp);

    /* one archive per night: a copy of a night's outputs must not count its plates twice */
    int w = 0;
    for (int k = 0; k < n_arc; k++) {
        if (w > 0 && strcmp(arc[w - 1].night, arc[k].night) == 0) {
            ns_error("run", "history: %s is night %s again (already read from %s); skipped",
                     arc[k].path, arc[k].night, arc[w - 1].path);
            free(arc[k].path);
            free(arc[k].night);
            continue;
        }
        arc[w++] = arc[k];
    }
    n_arc = w;
    if (n_usable > 0 && n_arc == 0)
        ns_error("run", "history: none of the %d archives in %s is an earlier night than %s; "
                 "across-night rules see tonight only", n_usable, dir, skip_night ? skip_night : "tonight");

    /* newest back to oldest until max_plates judged plates are covered */
    int first = n_arc, skip = 0;
    if (max_plates < 0) {
        first = 0;
    } else {
        int have = 0;
        while (first > 0 && have < max_plates) {
            first--;
            have += arc[first].n_judged;
        }
        skip = have > max_plates ? have - max_plates : 0;
    }
    int64_t obs_cap = 0;
    h->archives = ns_calloc((size_t)(n_arc - first) + 1, sizeof *h->archives);
    for (int k = first; k < n_arc; k++) {
        if (read_archive(h, arc[k].path, p, k == first ? skip : 0, &obs_cap) < 0) goto out;
        h->archives[h->n_archives++] = ns_strdup(arc[k].path);
    }
    if (h->n_archives > 0)
        ns_info(1, "qc", "history: %d plates, %lld control results from %d archives in %s",
                h->n_plates, (long long)h->n_obs, h->n_archives, dir);
    r = 0;
out:
    if (r != 0) ns_qc_history_free(h);
    for (int k = 0; k < found.n; k++) free(found.v[k]);
    free(found.v);
    for (int k = 0; k < n_arc; k++) {
        free(arc[k].path);
        free(arc[k].night);
    }
    free(arc);
    H5Eset_auto2(H5E_DEFAULT, old_fn, old_data);
    return r;
}

void ns_qc_history_free(ns_qc_history_t *h)
{
    if (!h) return;
    free(h->obs);
    free(h->median);
    for (int k = 0; k < h->n_archives; k++) free(h->archives[k]);
    free(h->archives);
    memset(h, 0, sizeof *h);
}
