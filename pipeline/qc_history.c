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
#include "h5read.h"
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

#define HIST(p) (&(ns_h5src_t){ "run", "history archive", (p), 0 })
#define arc_fail(path, ...) ns_h5_fail(HIST(path), __VA_ARGS__)

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
    int64_t n = ns_h5_len1(HIST(path), f, "/qc/plates", &d);
    if (n < 0) return -1;
    ns_h5field_t fl[] = { { "status", 1, -1, 0, 0 } };
    size_t rs = 0;
    char *t = ns_h5_read_table(HIST(path), d, "/qc/plates", 0, n, fl, 1, &rs);
    H5Dclose(d);
    if (!t) return -1;
    *judged = ns_calloc(n > 0 ? (size_t)n : 1, 1);
    for (int64_t k = 0; k < n; k++)
        (*judged)[k] = strcmp(t + (size_t)k * rs + fl[0].off, "not_run") != 0;
    free(t);
    return n;
}

/* Pass 1: night, whether /qc exists, and how many judged plates.  1 = usable, 0 = no
 * /qc (skipped), -1 = error (reported). */
static int scan_archive(const char *path, arc_t *a)
{
    hid_t f;
    if (ns_h5_open(HIST(path), &f) < 0) return -1;
    int r = -1;
    htri_t has = H5Lexists(f, "/qc", H5P_DEFAULT);
    if (has < 0) {
        arc_fail(path, "looking for /qc");
    } else if (has == 0) {
        ns_info(1, "qc", "history: %s has no QC results (/qc), skipped", path);
        r = 0;
    } else if ((a->night = ns_h5_attr_str(HIST(path), f, "night")) != NULL) {
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
    int64_t n = ns_h5_len1(HIST(path), f, "/analytes/names", &d);
    if (n < 0) return -1;
    hid_t ft = H5Dget_type(d), mt = ft >= 0 ? ns_h5_mem_str(ft) : -1;
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
    if (ns_h5_open(HIST(path), &f) < 0) return -1;
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
    int64_t nc = ns_h5_len1(HIST(path), f, "/qc/controls", &d);
    if (nc < 0) goto out;
    ns_h5field_t fl[] = {
        { "plate_id", 1, -1, 0, 0 }, { "plate_index", 0, H5T_NATIVE_INT32, 0, 0 },
        { "well", 1, -1, 0, 0 }, { "level", 1, -1, 0, 0 }, { "analyte", 1, -1, 0, 0 },
        { "value", 0, H5T_NATIVE_DOUBLE, 0, 0 }, { "z", 0, H5T_NATIVE_DOUBLE, 0, 0 },
    };
    size_t rs = 0;
    ctl = ns_h5_read_table(HIST(path), d, "/qc/controls", 0, nc, fl, 7, &rs);
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
    ns_h5_errstate_t es;
    ns_h5_quiet(&es);

    struct { char **v; int n; } found = { NULL, 0 };
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
    if (ns_h5_find_files("run", dir, "batch.h5", &found.v, &found.n) < 0) goto out;

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
    ns_h5_loud(&es);
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
