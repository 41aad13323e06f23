/* genes.c — deafness-gene plates: ingest, plate QC on the plate's own controls, and the
 * config's rules turned into follow-up findings.  See genes.h for the contract and
 * configs/genes.yaml for the rules' meaning. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "csv.h"
#include "encoding.h"
#include "genes.h"
#include "ingest.h"
#include "sha256.h"
#include "log.h"
#include "util.h"

static const char *const state_names[] = { "gene_negative", "gene_positive", "gene_incomplete",
                                           "gene_hold", "control" };
static const char *const status_names[] = { "accepted", "rejected", "quarantined" };

const char *ns_gene_state_name(int s) { return s >= 0 && s < NS_GSTATE_N ? state_names[s] : "?"; }
const char *ns_gene_plate_status_name(int s) { return s >= 0 && s <= NS_GPLATE_QUARANTINED ? status_names[s] : "?"; }

/* ---- ingest ---------------------------------------------------------------------------- */

/* one parsed plate file, before it joins the night */
typedef struct {
    int64_t n, m;
    char (*well)[4];
    char **sid;
    int *control;
    uint8_t *call;      /* row-major: call[i * n_loci + l] */
} slot_t;

enum { COL_PLATE, COL_WELL, COL_SID, COL_TYPE };
static const char *const fixed_cols[] = { "plate_id", "well", "sample_id", "sample_type" };

__attribute__((format(printf, 5, 6)))
static void set_error(ns_gene_plate_t *pl, const char *path, int line, int col, const char *fmt, ...)
{
    if (pl->error) return;          /* the first problem is the one reported */
    va_list ap;
    va_start(ap, fmt);
    pl->error = ns_msg_vat(path, line, col, fmt, ap);
    va_end(ap);
    pl->status = NS_GPLATE_QUARANTINED;
}

static void slot_free(slot_t *s)
{
    for (int64_t i = 0; i < s->n; i++) free(s->sid[i]);
    free(s->well); free(s->sid); free(s->control); free(s->call);
    memset(s, 0, sizeof *s);
}

static int call_of(const char *s)
{
    for (int k = 0; k < NS_GCALL_N; k++) if (ns_strcaseeq(s, ns_gene_call_name(k))) return k;
    return -1;
}

/* "A01, H12" for the wells of control k */
static void wells_text(const ns_genes_config_t *c, int k, char *buf, size_t sz)
{
    buf[0] = 0;
    for (int i = 0; i < c->controls[k].n_wells; i++) {
        int w = c->controls[k].wells[i];
        char one[24];
        snprintf(one, sizeof one, "%s%c%02d", i ? ", " : "", 'A' + w / c->cols, w % c->cols + 1);
        strncat(buf, one, sz - strlen(buf) - 1);
    }
}

static const char *type_label(const ns_genes_config_t *c, int control, char *buf, size_t sz)
{
    if (control < 0) return "a patient";
    snprintf(buf, sz, "%s control", c->controls[control].name);
    return buf;
}

/* Parse a whole gene plate file into s; on any problem set pl->error and keep counting rows. */
static void parse_plate(const ns_genes_config_t *cfg, const char *path, ns_gene_plate_t *pl, slot_t *s)
{
    const int nl = cfg->n_loci;
    char *text = NULL;
    size_t tlen = 0;
    memset(s, 0, sizeof *s);
    if (ns_ingest_read(path, &text, &tlen, pl->sha256, pl->encoding, &pl->error, &pl->n_wells) < 0) {
        pl->status = NS_GPLATE_QUARANTINED;
        return;
    }

    ns_csv_t c;
    ns_csv_init(&c, text, tlen);
    int r = ns_csv_next(&c);
    if (r <= 0) {
        if (r < 0) {
            set_error(pl, path, c.err_line, c.err_col, "%s", c.err);
            pl->n_wells = ns_count_data_lines(text, tlen);
        } else set_error(pl, path, 1, 1, "empty file: no header row");
        ns_csv_free(&c);
        free(text);
        return;
    }

    /* header: each column is a fixed column, a locus, or an ignored vendor column */
    const int nh = c.nf;
    int fixed[4] = { -1, -1, -1, -1 };
    int *col_of = ns_malloc(((size_t)nl + 1) * sizeof *col_of);   /* locus -> column */
    for (int l = 0; l < nl; l++) col_of[l] = -1;
    char qb[200];
    for (int j = 0; j < nh; j++) {
        const char *h = c.f[j];
        int k;
        for (k = 0; k < 4; k++) if (ns_strcaseeq(h, fixed_cols[k])) break;
        if (k < 4) {
            if (fixed[k] >= 0)
                set_error(pl, path, c.fline[j], c.fcol[j], "columns %d and %d are both '%s'", fixed[k] + 1, j + 1, fixed_cols[k]);
            fixed[k] = j;
            continue;
        }
        int l = ns_genes_find_locus(cfg, h);
        if (l >= 0) {
            if (col_of[l] >= 0)
                set_error(pl, path, c.fline[j], c.fcol[j], "columns %d ('%s') and %d ('%s') both hold locus %s",
                          col_of[l] + 1, c.f[col_of[l]], j + 1, ns_clip_cell(qb, h), cfg->loci[l].id);
            col_of[l] = j;
            continue;
        }
        int ign = 0;
        for (int x = 0; x < cfg->n_ignore; x++) ign |= ns_strcaseeq(h, cfg->ignore_columns[x]);
        if (!ign)
            set_error(pl, path, c.fline[j], c.fcol[j], "column '%s' is not a locus of the gene config "
                      "(loci are named GENE:variant, e.g. %s; other vendor columns go in ignore_columns)",
                      ns_clip_cell(qb, h), cfg->loci[0].id);
    }
    for (int k = 0; k < 4; k++)
        if (fixed[k] < 0) set_error(pl, path, c.rec_line, 1, "missing column '%s'", fixed_cols[k]);
    for (int l = 0; l < nl; l++)
        if (col_of[l] < 0)
            set_error(pl, path, c.rec_line, 1, "missing column for locus %s: every configured locus must be on the plate "
                      "(a kit that does not test it needs a gene config without it)", cfg->loci[l].id);

    /* rows */
    const int rows = cfg->rows, cols = cfg->cols;
    int *seen = ns_calloc((size_t)(rows * cols), sizeof *seen);   /* line of each well, 0 = not yet */
    while ((r = ns_csv_next(&c)) != 0) {
        pl->n_wells++;
        if (pl->error) continue;                  /* quarantined: just count */
        if (r < 0) { set_error(pl, path, c.err_line, c.err_col, "%s", c.err); continue; }
        if (c.nf != nh) {
            if (c.nf < nh)
                set_error(pl, path, c.end_line, c.end_col, "row has %d fields, the header has %d (truncated row)", c.nf, nh);
            else
                set_error(pl, path, c.fline[nh], c.fcol[nh], "row has %d fields, the header has %d", c.nf, nh);
            continue;
        }
        const int jp = fixed[COL_PLATE], jw = fixed[COL_WELL], js = fixed[COL_SID], jt = fixed[COL_TYPE];
        const char *pid = c.f[jp];
        if (!*pid) { set_error(pl, path, c.fline[jp], c.fcol[jp], "empty plate_id"); continue; }
        if (!pl->id[0]) {
            if (strlen(pid) >= sizeof pl->id) {
                set_error(pl, path, c.fline[jp], c.fcol[jp], "plate_id '%.40s...' is longer than %d characters",
                          pid, (int)sizeof pl->id - 1);
                continue;
            }
            strcpy(pl->id, pid);
            pl->id_line = c.fline[jp];
            pl->id_col = c.fcol[jp];
        } else if (strcmp(pl->id, pid) != 0) {
            set_error(pl, path, c.fline[jp], c.fcol[jp], "plate_id '%s' differs from '%s' above: one file must hold one plate",
                      ns_clip_cell(qb, pid), pl->id);
            continue;
        }
        char well[4];
        int wr = ns_parse_well(c.f[jw], rows, cols, well);
        if (wr < 0) {
            if (wr == -2)
                set_error(pl, path, c.fline[jw], c.fcol[jw], "well '%s' is not on a %d-well plate (A01-%c%02d)",
                          ns_clip_cell(qb, c.f[jw]), rows * cols, 'A' + rows - 1, cols);
            else
                set_error(pl, path, c.fline[jw], c.fcol[jw], "well '%s' is not a well name (expected A01-%c%02d)",
                          ns_clip_cell(qb, c.f[jw]), 'A' + rows - 1, cols);
            continue;
        }
        int wi = (well[0] - 'A') * cols + (well[1] - '0') * 10 + (well[2] - '0') - 1;
        if (seen[wi]) {
            set_error(pl, path, c.fline[jw], c.fcol[jw], "duplicate well %s (first at line %d)", well, seen[wi]);
            continue;
        }
        seen[wi] = c.rec_line;
        const char *ts = c.f[jt];
        int control = -2;                         /* -1 patient, k control, -2 unknown */
        for (int x = 0; x < cfg->n_patient_types && control == -2; x++)
            if (ns_strcaseeq(ts, cfg->patient_types[x])) control = -1;
        for (int k = 0; k < cfg->n_controls && control == -2; k++)
            for (int x = 0; x < cfg->controls[k].n_types; x++)
                if (ns_strcaseeq(ts, cfg->controls[k].types[x])) { control = k; break; }
        if (control == -2) {
            char known[256] = "";
            for (int x = 0; x < cfg->n_patient_types; x++) {
                strncat(known, x ? ", " : "", sizeof known - strlen(known) - 1);
                strncat(known, cfg->patient_types[x], sizeof known - strlen(known) - 1);
            }
            for (int k = 0; k < cfg->n_controls; k++)
                for (int x = 0; x < cfg->controls[k].n_types; x++) {
                    strncat(known, ", ", sizeof known - strlen(known) - 1);
                    strncat(known, cfg->controls[k].types[x], sizeof known - strlen(known) - 1);
                }
            set_error(pl, path, c.fline[jt], c.fcol[jt], "unknown sample_type '%s' (expected one of: %s)",
                      ns_clip_cell(qb, ts), known);
            continue;
        }
        /* controls given wells in the config: the layout must match, or no well can be trusted */
        int want = cfg->well_control[wi];
        char l1[64], l2[64];
        if (control >= 0 && cfg->controls[control].n_wells && want != control) {
            char wl[128];
            wells_text(cfg, control, wl, sizeof wl);
            set_error(pl, path, c.fline[jt], c.fcol[jt], "well %s holds the %s control, but the gene config places it at %s",
                      well, cfg->controls[control].name, wl);
            continue;
        }
        if (want >= 0 && want != control) {
            set_error(pl, path, c.fline[jt], c.fcol[jt], "well %s holds %s, but the gene config says %s",
                      well, type_label(cfg, control, l1, sizeof l1), type_label(cfg, want, l2, sizeof l2));
            continue;
        }
        const char *sid = c.f[js];
        if (control < 0 && !*sid) { set_error(pl, path, c.fline[js], c.fcol[js], "empty sample_id in a patient well"); continue; }
        if (strlen(sid) >= NS_FU_ID_MAX) {
            set_error(pl, path, c.fline[js], c.fcol[js], "sample_id '%s' is longer than %d bytes", ns_clip_cell(qb, sid), NS_FU_ID_MAX - 1);
            continue;
        }
        if (s->n == s->m) {
            s->m = s->m ? s->m * 2 : 128;
            s->well = ns_realloc(s->well, (size_t)s->m * sizeof *s->well);
            s->sid = ns_realloc(s->sid, (size_t)s->m * sizeof *s->sid);
            s->control = ns_realloc(s->control, (size_t)s->m * sizeof *s->control);
            s->call = ns_realloc(s->call, (size_t)s->m * ((size_t)nl + 1));
        }
        uint8_t *call = s->call + (size_t)s->n * (size_t)nl;
        int bad = 0;
        for (int l = 0; l < nl && !bad; l++) {
            int j = col_of[l];
            const ns_gene_locus_t *lo = &cfg->loci[l];
            int k = call_of(c.f[j]);
            bad = 1;
            if (!*c.f[j])
                set_error(pl, path, c.fline[j], c.fcol[j], "empty call in column %s (every locus needs a call: fail for no amplification)", lo->id);
            else if (k < 0)
                set_error(pl, path, c.fline[j], c.fcol[j], "call '%s' in column %s is not one of wt, het, hom, heteroplasmic, homoplasmic, fail",
                          ns_clip_cell(qb, c.f[j]), lo->id);
            else if (lo->mt && (k == NS_GCALL_HET || k == NS_GCALL_HOM))
                set_error(pl, path, c.fline[j], c.fcol[j], "call '%s' in column %s: a mitochondrial locus is wt, heteroplasmic, homoplasmic or fail",
                          c.f[j], lo->id);
            else if (!lo->mt && (k == NS_GCALL_HETEROPLASMIC || k == NS_GCALL_HOMOPLASMIC))
                set_error(pl, path, c.fline[j], c.fcol[j], "call '%s' in column %s: a nuclear locus is wt, het, hom or fail",
                          c.f[j], lo->id);
            else { call[l] = (uint8_t)k; bad = 0; }
        }
        if (bad) continue;
        memcpy(s->well[s->n], well, 4);
        s->sid[s->n] = ns_strdup(sid);
        s->control[s->n] = control;
        s->n++;
    }
    if (!pl->error && pl->n_wells == 0) set_error(pl, path, 1, 1, "no data rows after the header");
    free(seen);
    free(col_of);
    ns_csv_free(&c);
    free(text);
    if (pl->error) slot_free(s);
}

int ns_genes_ingest(ns_genes_night_t *g, const ns_genes_config_t *cfg, char **paths, int n_paths)
{
    const int nl = cfg->n_loci;
    memset(g, 0, sizeof *g);
    g->cfg = cfg;
    g->plates = ns_calloc((size_t)(n_paths ? n_paths : 1), sizeof *g->plates);
    g->n_plates = n_paths;
    slot_t *slots = ns_calloc((size_t)(n_paths ? n_paths : 1), sizeof *slots);
    for (int k = 0; k < n_paths; k++) {
        ns_gene_plate_t *pl = &g->plates[k];
        pl->path = ns_strdup(paths[k]);
        const char *sl = strrchr(paths[k], '/');
        pl->name = ns_strdup(sl ? sl + 1 : paths[k]);
        pl->first = -1;
        pl->status = NS_GPLATE_ACCEPTED;
        strcpy(pl->encoding, "?");
    }

    /* parallel over files: each task touches only its own plates[k] and slots[k] */
    #pragma omp parallel for schedule(dynamic, 1)
    for (int k = 0; k < n_paths; k++)
        parse_plate(cfg, paths[k], &g->plates[k], &slots[k]);

    /* serial, in file order: a plate is read once per night */
    for (int k = 0; k < n_paths; k++) {
        ns_gene_plate_t *pl = &g->plates[k];
        if (pl->status == NS_GPLATE_QUARANTINED) continue;
        for (int j = 0; j < k; j++)
            if (g->plates[j].status != NS_GPLATE_QUARANTINED && strcmp(g->plates[j].id, pl->id) == 0) {
                pl->error = ns_asprintf("%s:%d:%d: plate_id '%s' was already read from %s (a plate is read once per night)",
                                        pl->path, pl->id_line, pl->id_col, pl->id, g->plates[j].path);
                pl->status = NS_GPLATE_QUARANTINED;
                slot_free(&slots[k]);
                break;
            }
    }

    int64_t n = 0;
    int n_quar = 0;
    for (int k = 0; k < n_paths; k++) {
        if (g->plates[k].status == NS_GPLATE_QUARANTINED) n_quar++;
        else n += slots[k].n;
    }
    g->n = n;
    g->plate = ns_malloc(((size_t)n + 1) * sizeof *g->plate);
    g->well = ns_malloc(((size_t)n + 1) * sizeof *g->well);
    g->sample_id = ns_malloc(((size_t)n + 1) * sizeof *g->sample_id);
    g->control = ns_malloc(((size_t)n + 1) * sizeof *g->control);
    g->call = ns_malloc(((size_t)n + 1) * ((size_t)nl + 1));
    g->state = ns_calloc((size_t)n + 1, 1);
    int64_t i = 0;
    for (int k = 0; k < n_paths; k++) {
        slot_t *s = &slots[k];
        ns_gene_plate_t *pl = &g->plates[k];
        if (pl->status == NS_GPLATE_QUARANTINED) continue;
        pl->first = i;
        for (int64_t r = 0; r < s->n; r++, i++) {
            g->plate[i] = k;
            memcpy(g->well[i], s->well[r], 4);
            g->sample_id[i] = s->sid[r];
            s->sid[r] = NULL;
            g->control[i] = s->control[r];
            memcpy(g->call + (size_t)i * (size_t)nl, s->call + (size_t)r * (size_t)nl, (size_t)nl);
            if (s->control[r] < 0) pl->n_patients++;
            else pl->n_controls++;
        }
        slot_free(s);
    }
    free(slots);
    return n_quar;
}

/* ---- plate QC -------------------------------------------------------------------------- */

typedef struct {
    char *s;
    size_t n, m;
} str_t;

__attribute__((format(printf, 2, 3)))
static void str_add(str_t *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (k < 0) return;
    size_t len = strlen(tmp);
    size_t sep = b->n ? 2 : 0;
    if (b->n + sep + len + 1 > b->m) {
        b->m = (b->n + sep + len + 1) * 2;
        b->s = ns_realloc(b->s, b->m);
    }
    if (sep) { memcpy(b->s + b->n, "; ", 2); b->n += 2; }
    memcpy(b->s + b->n, tmp, len + 1);
    b->n += len;
}

static void mask_text(char *buf, size_t sz, unsigned m)
{
    buf[0] = 0;
    for (int k = 0; k < NS_GCALL_N; k++)
        if (m & (1u << k)) {
            strncat(buf, buf[0] ? " or " : "", sz - strlen(buf) - 1);
            strncat(buf, ns_gene_call_name(k), sz - strlen(buf) - 1);
        }
}

int ns_genes_qc(ns_genes_night_t *g)
{
    const ns_genes_config_t *cfg = g->cfg;
    const int nl = cfg->n_loci, cols = cfg->cols;
    int n_rej = 0;
    for (int p = 0; p < g->n_plates; p++) {
        ns_gene_plate_t *pl = &g->plates[p];
        if (pl->status == NS_GPLATE_QUARANTINED) continue;
        free(pl->reason);
        pl->reason = NULL;
        pl->status = NS_GPLATE_ACCEPTED;
        int64_t lo = pl->first, hi = pl->first + pl->n_patients + pl->n_controls;
        str_t why = { 0 };
        for (int k = 0; k < cfg->n_controls; k++) {
            const ns_gene_control_t *ct = &cfg->controls[k];
            int64_t found = 0;
            for (int64_t i = lo; i < hi; i++) found += g->control[i] == k;
            if (ct->n_wells) {
                /* every well the config gives it must be there (ingest already checked
                   that nothing else sits in them) */
                for (int w = 0; w < ct->n_wells; w++) {
                    int have = 0;
                    for (int64_t i = lo; i < hi && !have; i++)
                        have = g->control[i] == k &&
                               (g->well[i][0] - 'A') * cols + (g->well[i][1] - '0') * 10 + (g->well[i][2] - '0') - 1 == ct->wells[w];
                    if (!have)
                        str_add(&why, "%s control missing (well %c%02d)", ct->name, 'A' + ct->wells[w] / cols, ct->wells[w] % cols + 1);
                }
            } else if (!found)
                str_add(&why, "%s control missing (sample_type %s)", ct->name, ct->types[0]);
            for (int64_t i = lo; i < hi; i++) {
                if (g->control[i] != k) continue;
                const uint8_t *call = g->call + (size_t)i * (size_t)nl;
                for (int l = 0; l < nl; l++)
                    if (!(ct->expect[l] & (1u << call[l]))) {
                        char exp[96];
                        mask_text(exp, sizeof exp, ct->expect[l]);
                        str_add(&why, "%s control %s expected %s, got %s (%s)", ct->name, cfg->loci[l].id, exp,
                                ns_gene_call_name(call[l]), g->well[i]);
                    }
            }
        }
        if (why.n) {
            pl->status = NS_GPLATE_REJECTED;
            pl->reason = why.s;
            n_rej++;
        }
    }
    g->judged = 1;
    return n_rej;
}

/* ---- rules ----------------------------------------------------------------------------- */

/* Alleles a call contributes: lowest and highest (a fail may hide up to 2, or 1 for mtDNA). */
static void alleles(int call, int mt, int *lo, int *hi)
{
    switch (call) {
    case NS_GCALL_HET: case NS_GCALL_HETEROPLASMIC: case NS_GCALL_HOMOPLASMIC: *lo = *hi = 1; break;
    case NS_GCALL_HOM: *lo = *hi = 2; break;
    case NS_GCALL_FAIL: *lo = 0; *hi = mt ? 1 : 2; break;
    default: *lo = *hi = 0;
    }
}

/* Does rule r fire on the loci set[0..n) of one sample's calls? */
static int fires(const ns_genes_config_t *cfg, const ns_gene_rule_t *r, const uint8_t *call, const int *set, int n)
{
    int lo = 0, hi = 0, hit = 0;
    for (int x = 0; x < n; x++) {
        int a, b, l = set[x];
        alleles(call[l], cfg->loci[l].mt, &a, &b);
        lo += a;
        hi += b;
        if (r->call_mask & (1u << call[l])) hit = 1;
    }
    if (r->call_mask && !hit) return 0;
    if (r->min_alleles >= 0 && lo < r->min_alleles) return 0;
    if (r->max_alleles >= 0 && hi > r->max_alleles) return 0;
    return 1;
}

/* Join items into out (size NS_FU_ARG_MAX) with ", "; when they do not fit, stop at an item
 * boundary and end with " +N" (N = items left out). */
static void join_items(char *out, char items[][NS_GENE_LOCUS_MAX + 32], int n)
{
    out[0] = 0;
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        size_t add = (i ? 2 : 0) + strlen(items[i]);
        char tail[16];
        int left = n - i - 1;
        snprintf(tail, sizeof tail, " +%d", left);
        size_t reserve = left ? strlen(tail) : 0;
        if (len + add + reserve >= NS_FU_ARG_MAX) {
            snprintf(tail, sizeof tail, " +%d", n - i);
            /* tail always fits: the items before left room for it */
            strcat(out, tail);
            return;
        }
        if (i) strcat(out, ", ");
        strcat(out, items[i]);
        len += add;
    }
}

static void emit(const ns_genes_night_t *g, int64_t i, const ns_gene_rule_t *r, int gene, const int *set, int n,
                 ns_findings_t *out, ns_genes_infant_fn infant_of, void *ctx)
{
    const ns_genes_config_t *cfg = g->cfg;
    const uint8_t *call = g->call + (size_t)i * (size_t)cfg->n_loci;
    const char *inf = infant_of ? infant_of(ctx, g->sample_id[i]) : NULL;
    ns_finding_t *f = ns_findings_add(out, inf ? inf : "", NS_SRC_GENE);
    snprintf(f->sample_id, sizeof f->sample_id, "%s", g->sample_id[i]);
    f->priority = r->priority;
    snprintf(f->action, sizeof f->action, "%s", r->action);
    snprintf(f->reason, sizeof f->reason, "%s", r->reason);
    if (gene >= 0) snprintf(f->code, sizeof f->code, "gene:%s:%s", cfg->genes[gene], r->id);
    else snprintf(f->code, sizeof f->code, "gene:%s", r->id);
    if (!isnan(r->due_days)) {
        f->due_from = NS_DUE_BIRTH;
        f->due_hours = r->due_days * 24.0;
    }
    char (*items)[NS_GENE_LOCUS_MAX + 32] = ns_malloc(((size_t)n + 1) * sizeof *items);
    int ni = 0;
    char genes[NS_FU_ARG_MAX] = "";
    uint8_t *gseen = ns_calloc((size_t)cfg->n_genes + 1, 1);
    for (int x = 0; x < n; x++) {
        int l = set[x];
        if (call[l] == NS_GCALL_WT && !(r->call_mask & (1u << NS_GCALL_WT))) continue;
        /* the call as "@{gene.call.het}": shown in the list's language (followup.h) */
        snprintf(items[ni++], sizeof items[0], "%s @{gene.call.%s}", cfg->loci[l].id, ns_gene_call_name(call[l]));
        int gi = cfg->loci[l].gene_idx;
        if (!gseen[gi]) {
            gseen[gi] = 1;
            if (genes[0]) strncat(genes, ", ", sizeof genes - strlen(genes) - 1);
            strncat(genes, cfg->genes[gi], sizeof genes - strlen(genes) - 1);
        }
    }
    char loci[NS_FU_ARG_MAX];
    join_items(loci, items, ni);
    ns_finding_arg(out, f, "gene", "%s", gene >= 0 ? cfg->genes[gene] : genes);
    ns_finding_arg(out, f, "loci", "%s", loci);
    ns_finding_arg(out, f, "plate", "%s", g->plates[g->plate[i]].id);
    ns_finding_arg(out, f, "well", "%s", g->well[i]);
    free(items);
    free(gseen);
}

/* patients sorted by sample_id, then by their place in the night (plate, file order) */
typedef struct {
    const char *sid;
    int64_t i;
} ord_t;

static int cmp_sample(const void *a, const void *b)
{
    const ord_t *x = a, *y = b;
    int c = strcmp(x->sid, y->sid);
    if (c) return c;
    return (x->i > y->i) - (x->i < y->i);
}

int64_t ns_genes_evaluate(ns_genes_night_t *g, ns_findings_t *out, ns_genes_infant_fn infant_of, void *ctx)
{
    const ns_genes_config_t *cfg = g->cfg;
    const int nl = cfg->n_loci;
    if (!g->judged) ns_genes_qc(g);
    ns_genes_summary_t *S = &g->sum;
    free(S->locus_calls);
    memset(S, 0, sizeof *S);
    S->locus_calls = ns_calloc((size_t)nl + 1, sizeof *S->locus_calls);
    S->n_plates = g->n_plates;
    for (int p = 0; p < g->n_plates; p++) {
        const ns_gene_plate_t *pl = &g->plates[p];
        S->wells_read += pl->n_wells;
        if (pl->status == NS_GPLATE_QUARANTINED) { S->quarantined++; S->wells_quarantined += pl->n_wells; }
        else if (pl->status == NS_GPLATE_REJECTED) S->rejected++;
        else S->accepted++;
    }

    /* states and counts: every well of a parsed plate */
    int64_t np = 0;
    ord_t *order = ns_malloc(((size_t)g->n + 1) * sizeof *order);
    for (int64_t i = 0; i < g->n; i++) {
        const uint8_t *call = g->call + (size_t)i * (size_t)nl;
        if (g->control[i] >= 0) { g->state[i] = NS_GSTATE_CONTROL; S->controls++; continue; }
        if (g->plates[g->plate[i]].status == NS_GPLATE_REJECTED) { g->state[i] = NS_GSTATE_HOLD; S->hold++; continue; }
        S->tested++;
        int variant = 0, fail = 0;
        unsigned cls = 0;
        for (int l = 0; l < nl; l++) {
            S->locus_calls[l][call[l]]++;
            if (call[l] == NS_GCALL_FAIL) fail = 1;
            else if (call[l] != NS_GCALL_WT) { variant = 1; cls |= 1u << cfg->loci[l].cls; }
        }
        for (int k = 0; k < NS_GCLASS_N; k++) S->class_positive[k] += (cls >> k) & 1u;
        S->with_fail += fail;
        g->state[i] = variant ? NS_GSTATE_POSITIVE : fail ? NS_GSTATE_INCOMPLETE : NS_GSTATE_NEGATIVE;
        if (variant) S->positive++;
        else if (fail) S->incomplete++;
        else S->negative++;
        order[np].sid = g->sample_id[i];
        order[np++].i = i;
    }
    S->positive_rate = S->tested ? (double)S->positive / (double)S->tested : NAN;

    /* findings, in a fixed order */
    qsort(order, (size_t)np, sizeof *order, cmp_sample);
    int64_t before = out->n;
    int *set = ns_malloc(((size_t)nl + 1) * sizeof *set);
    for (int64_t o = 0; o < np; o++) {
        int64_t i = order[o].i;
        const uint8_t *call = g->call + (size_t)i * (size_t)nl;
        for (int ri = 0; ri < cfg->n_rules; ri++) {
            const ns_gene_rule_t *r = &cfg->rules[ri];
            if (r->scope == NS_GSCOPE_SAMPLE) {
                int n = 0;
                for (int l = 0; l < nl; l++)
                    if (r->gene_sel[cfg->loci[l].gene_idx] && (!r->class_mask || r->class_mask & (1u << cfg->loci[l].cls)))
                        set[n++] = l;
                if (n && fires(cfg, r, call, set, n)) emit(g, i, r, -1, set, n, out, infant_of, ctx);
                continue;
            }
            for (int ge = 0; ge < cfg->n_genes; ge++) {
                if (!r->gene_sel[ge]) continue;
                int n = 0;
                for (int l = 0; l < nl; l++)
                    if (cfg->loci[l].gene_idx == ge && (!r->class_mask || r->class_mask & (1u << cfg->loci[l].cls)))
                        set[n++] = l;
                if (n && fires(cfg, r, call, set, n)) emit(g, i, r, ge, set, n, out, infant_of, ctx);
            }
        }
    }
    free(set);
    free(order);
    S->findings = out->n - before;
    for (int64_t k = before; k < out->n; k++)
        if (out->v[k].priority >= 0 && out->v[k].priority < NS_PRIO_N) S->findings_by_prio[out->v[k].priority]++;
    return S->findings;
}

void ns_genes_night_free(ns_genes_night_t *g)
{
    for (int p = 0; p < g->n_plates; p++) {
        free(g->plates[p].path);
        free(g->plates[p].name);
        free(g->plates[p].error);
        free(g->plates[p].reason);
    }
    for (int64_t i = 0; i < g->n; i++) free(g->sample_id[i]);
    free(g->plates);
    free(g->plate);
    free(g->well);
    free(g->sample_id);
    free(g->control);
    free(g->call);
    free(g->state);
    free(g->sum.locus_calls);
    memset(g, 0, sizeof *g);
}
