/* report_archive.c — the report model from batch.h5 archives (report.h).
 *
 * Tonight: every part of the page is read back from what write_hdf5.c stored — the panel
 * text (analytes, conditions, limits), the QC config text (control targets), /samples_state_code,
 * /analytes and /calls (through archive.h, in chunks), /inputs and /qc (plates, controls,
 * Westgard bits), /followup (the list, IDs only), /hearing/records (refer counts) and
 * /genes/plates.  A part an older archive lacks is marked not recorded, never guessed.
 *
 * History: each earlier archive gives its QC plates and controls (Levey-Jennings) and its
 * recalls per condition (matched to tonight's by code).
 *
 * HDF5 calls from the calling thread only (BUILD-NOTES G3); ns_archive_read inflates in
 * parallel itself.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <hdf5.h>
#include "../kernels/ns_kernels.h"
#include "archive.h"
#include "h5read.h"
#include "log.h"
#include "plate_qc.h"
#include "qc_config.h"
#include "report_internal.h"
#include "util.h"

#define CHUNK_ROWS 65536

static int exists(hid_t f, const char *name)
{
    /* H5Lexists needs every parent to exist */
    char buf[128];
    snprintf(buf, sizeof buf, "%s", name);
    for (char *p = strchr(buf + 1, '/'); ; p = strchr(p + 1, '/')) {
        if (p) *p = 0;
        htri_t e = H5Lexists(f, buf, H5P_DEFAULT);
        if (e <= 0) { H5Eclear2(H5E_DEFAULT); return 0; }
        if (!p) return 1;
        *p = '/';
    }
}

/* int64 scalar attribute of the object at objname; 0 when present, 1 absent, -1 error */
static int attr_i64(const ns_h5src_t *s, hid_t f, const char *objname, const char *name, int64_t *v)
{
    hid_t o = H5Oopen(f, objname, H5P_DEFAULT);
    if (o < 0) return ns_h5_fail(s, "opening %s", objname);
    htri_t e = H5Aexists(o, name);
    int r = 1;
    if (e < 0) r = ns_h5_fail(s, "looking for attribute %s of %s", name, objname);
    else if (e > 0) {
        hid_t a = H5Aopen(o, name, H5P_DEFAULT);
        r = a >= 0 && H5Aread(a, H5T_NATIVE_INT64, v) >= 0 ? 0 : ns_h5_fail(s, "reading attribute %s of %s", name, objname);
        if (a >= 0) H5Aclose(a);
    }
    H5Oclose(o);
    return r;
}

/* A scalar fixed-length string dataset (the config texts) as a malloc'd string, its length
 * in *len; NULL after a report. */
static char *read_text(const ns_h5src_t *s, hid_t f, const char *name, size_t *len)
{
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT), ft = -1, mt = -1;
    char *out = NULL;
    if (d < 0) { ns_h5_fail(s, "opening %s", name); return NULL; }
    if ((ft = H5Dget_type(d)) < 0 || (mt = ns_h5_mem_str(ft)) < 0) {
        ns_h5_fail(s, "%s is not a fixed-length string", name);
    } else {
        out = ns_calloc(H5Tget_size(mt) + 1, 1);
        if (H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0) {
            ns_h5_fail(s, "reading %s", name);
            free(out);
            out = NULL;
        } else {
            *len = strlen(out);
        }
    }
    if (mt >= 0) H5Tclose(mt);
    if (ft >= 0) H5Tclose(ft);
    H5Dclose(d);
    return out;
}

/* Rows of a compound table (fields fl), NULL after a report; *n rows. */
static char *table(const ns_h5src_t *s, hid_t f, const char *name, ns_h5field_t *fl, int nf, int64_t *n,
                   size_t *rs)
{
    hid_t d = -1;
    *n = ns_h5_len1(s, f, name, &d);
    if (*n < 0) return NULL;
    char *t = ns_h5_read_table(s, d, name, 0, *n, fl, nf, rs);
    H5Dclose(d);
    return t;
}

#define STR(t, rs, i, fl) ((t) + (size_t)(i) * (rs) + (fl).off)

/* The archive's panel, loaded from its own text.  NULL after a report. */
static ns_panel_t *archive_panel(const ns_archive_t *a)
{
    ns_panel_errs_t e;
    memset(&e, 0, sizeof e);
    char *name = ns_asprintf("%s:/config/panel_yaml", a->src.path);
    ns_panel_t *p = ns_panel_load_mem(name, a->panel_yaml, strlen(a->panel_yaml), &e);
    if (!p) {
        ns_panel_errs_print(stderr, "neoscreen report", name, a->panel_yaml, &e);
        ns_error(a->src.tag, "%s: the panel stored in the archive does not load (%d problem%s)", a->src.path, e.n,
                 e.n == 1 ? "" : "s");
    }
    ns_panel_errs_free(&e);
    free(name);
    return p;
}

/* States, values and calls of every row, in chunks; recalls per archived condition into
 * rec (when not NULL, length p->n_conds) and patients into *pat, or into r (tonight). */
static int read_rows(ns_archive_t *a, const ns_panel_t *p, ns_report_t *r, int64_t *rec, int64_t *pat)
{
    int *map = ns_malloc(((size_t)p->n_analytes + 1) * sizeof *map);
    int ret = -1;
    if (ns_archive_map(a, p, map) < 0) goto out;
    for (int64_t r0 = 0; r0 < a->n; r0 += CHUNK_ROWS) {
        int64_t k = a->n - r0 < CHUNK_ROWS ? a->n - r0 : CHUNK_ROWS;
        ns_batch_t b;
        ns_archive_rows_t x;
        if (ns_archive_read(a, p, map, r0, k, &b, &x) < 0) goto out;
        if (r) {
            ns_rpt_add_rows(r, k, b.type, x.state, b.conc, b.cell, x.call);
        } else {
            for (int64_t i = 0; i < k; i++) {
                if (b.type[i] != NS_TYPE_PATIENT || !ns_rpt_reportable(x.state[i])) continue;
                (*pat)++;
                for (int c = 0; c < p->n_conds; c++) {
                    int v = x.call[(size_t)c * (size_t)k + (size_t)i];
                    rec[c] += v == NS_CALL_BORDERLINE || v == NS_CALL_POSITIVE || v == NS_CALL_CRITICAL;
                }
            }
        }
        ns_archive_batch_free(&b);
        ns_archive_rows_free(&x);
    }
    ret = 0;
out:
    free(map);
    return ret;
}

/* /qc of an archive into r: its judged plates as Levey-Jennings plates of night `night`,
 * their controls (analytes matched to r's by name) with the Westgard bits of /qc/westgard.
 * plates (may be NULL) receives the /qc/plates table for the plate list of tonight. */
static int read_qc(const ns_h5src_t *s, hid_t f, ns_report_t *r, const char *night, int tonight,
                   char ***anames, int64_t n_an)
{
    (void)anames;
    ns_h5field_t pf[] = { { "plate_id", 1, -1, 0, 0 }, { "status", 1, -1, 0, 0 } };
    size_t prs = 0, crs = 0;
    int64_t np = 0, nc = 0;
    char *pt = NULL, *ct = NULL;
    int *seq = NULL, ret = -1;
    uint32_t *wg = NULL;
    hid_t d = -1;
    if (!(pt = table(s, f, "/qc/plates", pf, 2, &np, &prs))) goto out;
    seq = ns_malloc(((size_t)np + 1) * sizeof *seq);
    for (int64_t k = 0; k < np; k++)
        seq[k] = strcmp(STR(pt, prs, k, pf[1]), "not_run") == 0 ? -1
                 : ns_rpt_add_seq(r, night, STR(pt, prs, k, pf[0]), tonight);
    /* Westgard bits [np][n_an * 2] */
    int64_t wr = 0, wc = 0;
    if (ns_h5_dims2(s, f, "/qc/westgard", &d, &wr, &wc) < 0) goto out;
    if (wr != np || wc != n_an * 2) {
        ns_h5_fail(s, "/qc/westgard is not [%lld plates][%lld]", (long long)np, (long long)(n_an * 2));
        goto out;
    }
    wg = ns_calloc((size_t)(np * wc) + 1, sizeof *wg);
    if (np * wc > 0 && H5Dread(d, H5T_NATIVE_UINT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, wg) < 0) {
        ns_h5_fail(s, "reading /qc/westgard");
        goto out;
    }
    ns_h5field_t cf[] = { { "plate_index", 0, H5T_NATIVE_INT32, 0, 0 }, { "level", 1, -1, 0, 0 },
                          { "analyte", 1, -1, 0, 0 }, { "value", 0, H5T_NATIVE_DOUBLE, 0, 0 } };
    if (!(ct = table(s, f, "/qc/controls", cf, 4, &nc, &crs))) goto out;
    for (int64_t i = 0; i < nc; i++) {
        const char *row = ct + (size_t)i * crs;
        int32_t pk;
        double v;
        memcpy(&pk, row + cf[0].off, sizeof pk);
        memcpy(&v, row + cf[3].off, sizeof v);
        const char *lv = row + cf[1].off, *an = row + cf[2].off;
        int level = strcmp(lv, "qc_low") == 0 ? 0 : strcmp(lv, "qc_high") == 0 ? 1 : -1;
        if (pk < 0 || pk >= np || level < 0) {
            ns_h5_fail(s, "/qc/controls[%lld]: plate_index %d or level '%.32s' out of range", (long long)i, (int)pk, lv);
            goto out;
        }
        if (seq[pk] < 0) continue;
        int a = ns_rpt_analyte(r, an);
        if (a < 0) continue;
        /* this archive's column of the analyte */
        int64_t col = -1;
        for (int64_t j = 0; j < n_an && col < 0; j++)
            if (strcmp((*anames)[j], an) == 0) col = j;
        unsigned rules = col >= 0 ? wg[pk * wc + col * 2 + level] : 0;
        ns_rpt_add_ctl(r, seq[pk], level, a, v, rules);
    }
    ret = 0;
out:
    if (d >= 0) H5Dclose(d);
    free(pt);
    free(ct);
    free(seq);
    free(wg);
    return ret;
}

static int read_plates(const ns_h5src_t *s, hid_t f, ns_report_t *r)
{
    ns_h5field_t inf[] = { { "kind", 1, -1, 0, 0 }, { "name", 1, -1, 0, 0 }, { "status", 1, -1, 0, 0 },
                           { "n_wells", 0, H5T_NATIVE_INT64, 0, 0 }, { "error", 1, -1, 0, 0 } };
    ns_h5field_t qf[] = { { "plate_id", 1, -1, 0, 0 }, { "status", 1, -1, 0, 0 }, { "reason", 1, -1, 0, 0 },
                          { "warnings", 1, -1, 0, 0 } };
    size_t irs = 0, qrs = 0;
    int64_t ni = 0, nq = 0;
    char *it = table(s, f, "/inputs", inf, 5, &ni, &irs), *qt = NULL;
    if (!it) return -1;
    if (r->have_qc && !(qt = table(s, f, "/qc/plates", qf, 4, &nq, &qrs))) { free(it); return -1; }
    r->plates = ns_calloc((size_t)ni + 1, sizeof *r->plates);
    int k = 0;
    for (int64_t i = 0; i < ni; i++) {
        if (strcmp(STR(it, irs, i, inf[0]), "manifest") == 0 && !r->manifest_file) {
            r->manifest_file = ns_strdup(STR(it, irs, i, inf[1]));
            r->manifest_problem = ns_strdup(STR(it, irs, i, inf[4]));
        }
        if (strcmp(STR(it, irs, i, inf[0]), "plate") != 0) continue;
        ns_rpt_plate_t *o = &r->plates[k];
        o->file = ns_strdup(STR(it, irs, i, inf[1]));
        o->quarantined = strcmp(STR(it, irs, i, inf[2]), "ok") != 0;
        memcpy(&o->wells, STR(it, irs, i, inf[3]), sizeof o->wells);
        o->error = ns_strdup(STR(it, irs, i, inf[4]));
        o->qc_status = NS_QC_NOT_RUN;
        if (qt && k < nq) {
            const char *st = STR(qt, qrs, k, qf[1]);
            o->id = ns_strdup(STR(qt, qrs, k, qf[0]));
            for (int q = 0; q <= NS_QC_NOT_RUN; q++)
                if (strcmp(st, ns_qc_status_name(q)) == 0) o->qc_status = q;
            o->qc_reason = ns_strdup(STR(qt, qrs, k, qf[2]));
            o->qc_warnings = ns_strdup(STR(qt, qrs, k, qf[3]));
        } else {
            o->id = ns_strdup("");
            o->qc_reason = ns_strdup("");
            o->qc_warnings = ns_strdup("");
        }
        k++;
    }
    r->n_plates = k;
    free(it);
    free(qt);
    return 0;
}

static int read_followup(const ns_h5src_t *s, hid_t f, ns_report_t *r)
{
    ns_h5field_t rf[] = { { "infant_id", 1, -1, 0, 0 }, { "priority", 1, -1, 0, 0 }, { "sources", 1, -1, 0, 0 },
                          { "first_finding", 0, H5T_NATIVE_INT64, 0, 0 }, { "n_findings", 0, H5T_NATIVE_INT64, 0, 0 } };
    ns_h5field_t ff[] = { { "code", 1, -1, 0, 0 }, { "action", 1, -1, 0, 0 } };
    size_t rrs = 0, frs = 0;
    int64_t nr = 0, nf = 0;
    char *rt = table(s, f, "/followup/rows", rf, 5, &nr, &rrs), *ft = NULL;
    if (!rt) return -1;
    if (!(ft = table(s, f, "/followup/findings", ff, 2, &nf, &frs))) { free(rt); return -1; }
    int ret = 0;
    for (int64_t k = 0; k < nr; k++) {
        int64_t f0, n;
        memcpy(&f0, STR(rt, rrs, k, rf[3]), sizeof f0);
        memcpy(&n, STR(rt, rrs, k, rf[4]), sizeof n);
        if (f0 < 0 || n < 0 || f0 + n > nf) {
            ret = ns_h5_fail(s, "/followup/rows[%lld]: findings %lld..%lld out of range", (long long)k,
                             (long long)f0, (long long)(f0 + n));
            break;
        }
        int prio = NS_PRIO_ROUTINE;
        for (int q = 0; q < NS_PRIO_N; q++)
            if (strcmp(STR(rt, rrs, k, rf[1]), ns_prio_name(q)) == 0) prio = q;
        char *codes = NULL;
        for (int64_t j = f0; j < f0 + n; j++)
            if (*STR(ft, frs, j, ff[1])) codes = ns_rpt_join_unique(codes, STR(ft, frs, j, ff[0]));
        ns_rpt_add_baby(r, STR(rt, rrs, k, rf[0]), prio, STR(rt, rrs, k, rf[2]), codes ? codes : "", NULL);
        free(codes);
    }
    free(rt);
    free(ft);
    return ret;
}

static int read_genes(const ns_h5src_t *s, hid_t f, ns_report_t *r)
{
    ns_h5field_t gf[] = { { "plate_id", 1, -1, 0, 0 }, { "file", 1, -1, 0, 0 }, { "status", 1, -1, 0, 0 },
                          { "reason", 1, -1, 0, 0 } };
    size_t rs = 0;
    int64_t n = 0;
    char *t = table(s, f, "/genes/plates", gf, 4, &n, &rs);
    if (!t) return -1;
    r->gplates = ns_calloc((size_t)n + 1, sizeof *r->gplates);
    for (int64_t k = 0; k < n; k++) {
        if (strcmp(STR(t, rs, k, gf[2]), "accepted") == 0) continue;
        ns_rpt_gplate_t *o = &r->gplates[r->n_gplates++];
        o->id = ns_strdup(STR(t, rs, k, gf[0]));
        o->file = ns_strdup(STR(t, rs, k, gf[1]));
        o->status = ns_strdup(STR(t, rs, k, gf[2]));
        o->reason = ns_strdup(STR(t, rs, k, gf[3]));
    }
    free(t);
    return 0;
}

static int read_hearing(const ns_h5src_t *s, hid_t f, ns_report_t *r)
{
    int64_t *dst[] = { &r->h_infants, &r->h_initial_screened, &r->h_initial_refer, &r->h_rescreened,
                       &r->h_rescreen_refer };
    static const char *const nm[] = { "infants", "initial_screened", "initial_refer", "rescreened", "rescreen_refer" };
    int have = 0;
    for (int k = 0; k < 5; k++) {
        int e = attr_i64(s, f, "/hearing/records", nm[k], dst[k]);
        if (e < 0) return -1;
        have += e == 0;
    }
    r->hearing_recorded = have == 5;
    return 0;
}

int ns_report_from_archive(ns_report_t *r, const char *tag, const char *path)
{
    ns_archive_t a;
    if (ns_archive_open(&a, tag, path) < 0) return -1;
    const ns_h5src_t *s = &a.src;
    ns_h5_errstate_t es;
    ns_h5_quiet(&es);
    int ret = -1;
    ns_qc_config_t *qcc = NULL;
    char *qtext = NULL;
    ns_panel_t *p = archive_panel(&a);
    if (!p) goto out;
    r->night = ns_strdup(a.night);
    r->panel_name = ns_strdup(p->name);
    r->panel_version = ns_strdup(p->version);
    r->panel_sha256 = ns_strdup(p->sha256);
    if (!(r->software = ns_h5_attr_str(s, a.f, "software_version"))) goto out;
    ns_rpt_set_panel(r, p);
    int64_t qw = 0;
    if (attr_i64(s, a.f, "/", "wells_read", &r->wells_read) < 0 || attr_i64(s, a.f, "/", "n_quarantined_wells", &qw) < 0)
        goto out;
    r->state[NS_STATE_QUARANTINED] += qw;
    if (read_rows(&a, p, r, NULL, NULL) < 0) goto out;

    r->have_qc = exists(a.f, "/qc");
    if (r->have_qc && exists(a.f, "/qc/config_yaml")) {
        size_t len = 0;
        if (!(qtext = read_text(s, a.f, "/qc/config_yaml", &len))) goto out;
        ns_panel_errs_t e;
        memset(&e, 0, sizeof e);
        char *name = ns_asprintf("%s:/qc/config_yaml", path);
        qcc = ns_qc_load_mem(name, qtext, len, p, &e);
        if (!qcc) ns_error(tag, "%s: the QC config stored in the archive does not load (%d problem%s); "
                           "Levey-Jennings charts without targets", path, e.n, e.n == 1 ? "" : "s");
        ns_panel_errs_free(&e);
        free(name);
        ns_rpt_set_targets(r, qcc);
    }
    if (read_plates(s, a.f, r) < 0) goto out;
    if (r->have_qc && read_qc(s, a.f, r, r->night, 1, &a.analytes, a.n_analytes) < 0) goto out;
    r->have_followup = exists(a.f, "/followup/rows");
    if (r->have_followup && read_followup(s, a.f, r) < 0) goto out;
    r->have_hearing = exists(a.f, "/hearing/records");
    if (r->have_hearing && read_hearing(s, a.f, r) < 0) goto out;
    r->have_genes = exists(a.f, "/genes/plates");
    if (r->have_genes && read_genes(s, a.f, r) < 0) goto out;
    ret = 0;
out:
    ns_h5_loud(&es);
    ns_qc_free(qcc);
    free(qtext);
    ns_panel_free(p);
    ns_archive_close(&a);
    return ret;
}

int ns_report_add_history(ns_report_t *r, const char *tag, char *const *paths, int n)
{
    /* earlier nights' plates go before tonight's in the Levey-Jennings sequence: collect
     * them in a scratch model that shares r's analytes, then splice */
    ns_report_t h;
    ns_report_init(&h);
    h.n_analytes = r->n_analytes;
    h.analyte = r->analyte;
    int ret = -1;
    r->hist = ns_realloc(r->hist, ((size_t)r->n_hist + (size_t)n + 1) * sizeof *r->hist);
    for (int k = 0; k < n; k++) {
        ns_archive_t a;
        if (ns_archive_open(&a, tag, paths[k]) < 0) goto out;
        ns_h5_errstate_t es;
        ns_h5_quiet(&es);
        int ok = -1;
        ns_panel_t *p = archive_panel(&a);
        int64_t *rec = NULL, pat = 0;
        if (p) {
            rec = ns_calloc((size_t)p->n_conds + 1, sizeof *rec);
            ok = read_rows(&a, p, NULL, rec, &pat);
        }
        if (ok == 0 && exists(a.f, "/qc")) ok = read_qc(&a.src, a.f, &h, a.night, 0, &a.analytes, a.n_analytes);
        if (ok == 0) {
            ns_rpt_hist_t *o = &r->hist[r->n_hist++];
            o->night = ns_strdup(a.night);
            o->path = ns_strdup(paths[k]);
            o->patients = pat;
            o->recalls = ns_malloc(((size_t)r->n_cond + 1) * sizeof *o->recalls);
            for (int c = 0; c < r->n_cond; c++) {
                o->recalls[c] = -1;
                for (int j = 0; j < p->n_conds; j++)
                    if (strcmp(p->conds[j].code, r->cond[c]) == 0) o->recalls[c] = rec[j];
            }
        }
        free(rec);
        ns_panel_free(p);
        ns_h5_loud(&es);
        ns_archive_close(&a);
        if (ok < 0) goto out;
    }
    /* splice: h's plates, then r's */
    if (h.n_seq > 0) {
        ns_rpt_seq_t *seq = ns_malloc(((size_t)h.n_seq + (size_t)r->n_seq + 64) * sizeof *seq);
        memcpy(seq, h.seq, (size_t)h.n_seq * sizeof *seq);
        if (r->n_seq) memcpy(seq + h.n_seq, r->seq, (size_t)r->n_seq * sizeof *seq);
        const int64_t cap_ctl = h.n_ctl + r->n_ctl + 256;      /* tonight's controls come after */
        ns_rpt_ctl_t *ctl = ns_malloc((size_t)cap_ctl * sizeof *ctl);
        if (h.n_ctl) memcpy(ctl, h.ctl, (size_t)h.n_ctl * sizeof *ctl);
        for (int64_t i = 0; i < r->n_ctl; i++) {
            ctl[h.n_ctl + i] = r->ctl[i];
            ctl[h.n_ctl + i].seq += h.n_seq;
        }
        free(r->seq);
        free(r->ctl);
        free(h.seq);
        free(h.ctl);
        r->seq = seq;
        r->ctl = ctl;
        r->cap_ctl = cap_ctl;
        r->n_seq += h.n_seq;
        r->n_ctl += h.n_ctl;
        h.seq = NULL;
        h.ctl = NULL;
        h.n_seq = 0;
        h.n_ctl = h.cap_ctl = 0;
    }
    ret = 0;
out:
    for (int k = 0; k < h.n_seq; k++) { free(h.seq[k].night); free(h.seq[k].plate_id); }
    free(h.seq);
    free(h.ctl);
    return ret;
}
