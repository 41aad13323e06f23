/* genes_config.c — load and check the deafness-gene config (see genes.h and
 * configs/genes.yaml).
 *
 * Built on the shared YAML helpers (yaml_doc.h) like qc_config.c: each problem is reported
 * at the line and column of the value that causes it, and checking goes on, so whoever
 * edits the file sees everything that is wrong in one pass.  Beyond the syntax, the loader
 * refuses rules that could never fire (their gene and class match no locus) and rules that
 * would fire for a baby whose every call is wt: both are mistakes that would otherwise
 * surface as a silent screening gap or a flood of recalls.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include "genes.h"
#include "ingest.h"
#include "sha256.h"
#include "util.h"
#include "yaml_doc.h"

static const char *const call_names[] = { "wt", "het", "hom", "heteroplasmic", "homoplasmic",
                                          "fail", NULL };
static const char *const class_names[] = { "pathogenic", "aminoglycoside_susceptibility",
                                           "uncertain", NULL };
static const char *const prio_names[] = { "critical", "urgent", "routine", NULL };
static const char *const scope_names[] = { "gene", "sample", NULL };
/* The follow-up actions a gene rule may ask for; each has a translation in
 * configs/lang.yaml.  Actions drive the follow-up team's work, so the set is closed. */
static const char *const action_names[] = { "audiology_referral", "counselling",
                                            "carrier_counselling", "aminoglycoside_warning",
                                            "repeat_specimen", "surveillance", NULL };
static const char *const fixed_cols[] = { "plate_id", "well", "sample_id", "sample_type", NULL };

#define NUCLEAR_CALLS ((1u << NS_GCALL_WT) | (1u << NS_GCALL_HET) | (1u << NS_GCALL_HOM) | (1u << NS_GCALL_FAIL))
#define MT_CALLS ((1u << NS_GCALL_WT) | (1u << NS_GCALL_HETEROPLASMIC) | (1u << NS_GCALL_HOMOPLASMIC) | (1u << NS_GCALL_FAIL))

const char *ns_gene_call_name(int c) { return c >= 0 && c < NS_GCALL_N ? call_names[c] : "?"; }
const char *ns_gene_class_name(int c) { return c >= 0 && c < NS_GCLASS_N ? class_names[c] : "?"; }

typedef struct {
    ns_yaml_t y;
    ns_genes_config_t *c;
    int *well_line;          /* per well: line where a control first claims it */
} ld_t;

/* ---- small helpers --------------------------------------------------------------------- */

/* Items of a node that may be one scalar or a list of scalars: up to max nodes in out.
 * @return the count, or -1 (reported) when v is a mapping or a list holding non-scalars. */
static int scalar_items(ld_t *L, yaml_node_t *v, yaml_node_t **out, int max, const char *what)
{
    if (v->type == YAML_SCALAR_NODE) { out[0] = v; return 1; }
    if (v->type != YAML_SEQUENCE_NODE) {
        ns_yaml_err(&L->y, v, "%s must be a name or a list of names", what);
        return -1;
    }
    int n = 0;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *x = ns_yaml_node(&L->y, *it);
        if (!ns_yaml_scalar(x)) { ns_yaml_err(&L->y, x, "%s: entries must be names, not lists or mappings", what); return -1; }
        if (n < max) out[n++] = x;
        else { ns_yaml_err(&L->y, x, "%s: more than %d entries", what, max); return -1; }
    }
    if (n == 0) ns_yaml_err(&L->y, v, "%s is an empty list", what);
    return n ? n : -1;
}

/* A key-like name: lowercase letters, digits and '_', starting with a letter. */
static int is_key_name(const char *s)
{
    if (!s || !islower((unsigned char)*s)) return 0;
    for (; *s; s++)
        if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_')) return 0;
    return 1;
}

static int call_of(const char *s)
{
    for (int k = 0; s && call_names[k]; k++) if (ns_strcaseeq(s, call_names[k])) return k;
    return -1;
}

static void list_names(char *buf, size_t sz, const char *const *names)
{
    buf[0] = 0;
    for (int i = 0; names[i]; i++) {
        strncat(buf, i ? ", " : "", sz - strlen(buf) - 1);
        strncat(buf, names[i], sz - strlen(buf) - 1);
    }
}

/* An optional whole number in [lo, hi]: 1 and *out set, 0 absent, -1 bad (reported). */
static int get_int(ld_t *L, yaml_node_t *m, const char *key, int lo, int hi, int *out, const char *what)
{
    double x;
    int r = ns_yaml_num(&L->y, m, key, &x, what);
    if (r != 1) return r;
    if (x != floor(x) || x < lo || x > hi) {
        ns_yaml_err(&L->y, ns_yaml_get(&L->y, m, key), "%s: '%s' must be a whole number from %d to %d, not %g",
                    what, key, lo, hi, x);
        return -1;
    }
    *out = (int)x;
    return 1;
}

static int gene_index(const ns_genes_config_t *c, const char *s)
{
    for (int g = 0; g < c->n_genes; g++) if (ns_strcaseeq(c->genes[g], s)) return g;
    return -1;
}

int ns_genes_find_locus(const ns_genes_config_t *c, const char *s)
{
    for (int l = 0; l < c->n_loci; l++) {
        if (ns_strcaseeq(c->loci[l].id, s)) return l;
        for (int a = 0; a < c->loci[l].n_aliases; a++)
            if (ns_strcaseeq(c->loci[l].aliases[a], s)) return l;
    }
    return -1;
}

/* ---- sections -------------------------------------------------------------------------- */

static void load_plate(ld_t *L, yaml_node_t *top)
{
    ns_genes_config_t *c = L->c;
    int w = 96;
    if (ns_yaml_get(&L->y, top, "plate_wells") && get_int(L, top, "plate_wells", 1, 384, &w, "genes") == 1 &&
        w != 96 && w != 384) {
        ns_yaml_err(&L->y, ns_yaml_get(&L->y, top, "plate_wells"), "genes: 'plate_wells' must be 96 or 384, not %d", w);
        w = 96;
    }
    c->rows = w == 384 ? 16 : 8;
    c->cols = w == 384 ? 24 : 12;
}

static char **name_list(ld_t *L, yaml_node_t *top, const char *key, int *n, const char *what)
{
    yaml_node_t *v = ns_yaml_get(&L->y, top, key);
    *n = 0;
    if (!v) return NULL;
    char **r = ns_yaml_strlist(&L->y, v, n, what);
    for (int i = 0; i < *n; i++)
        for (int j = 0; j < i; j++)
            if (ns_strcaseeq(r[i], r[j])) {
                ns_yaml_err(&L->y, v, "%s: '%s' is listed twice", what, r[i]);
                break;
            }
    return r;
}

static void load_loci(ld_t *L, yaml_node_t *top)
{
    static const char *const keys[] = { "gene", "variant", "class", "aliases", NULL };
    ns_genes_config_t *c = L->c;
    yaml_node_t *v = ns_yaml_get(&L->y, top, "loci");
    if (!v) { ns_yaml_err(&L->y, top, "genes: missing 'loci' (the variants on the plate)"); return; }
    if (v->type != YAML_SEQUENCE_NODE || v->data.sequence.items.top == v->data.sequence.items.start) {
        ns_yaml_err(&L->y, v, "genes.loci must be a non-empty list of {gene, variant, class}");
        return;
    }
    int m = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
    c->loci = ns_calloc((size_t)m, sizeof *c->loci);
    c->genes = ns_calloc((size_t)m, sizeof *c->genes);
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *n = ns_yaml_node(&L->y, *it);
        char what[96];
        snprintf(what, sizeof what, "genes.loci[%d]", (int)(it - v->data.sequence.items.start) + 1);
        if (!ns_yaml_keys(&L->y, n, what, keys)) continue;
        ns_gene_locus_t lo;
        memset(&lo, 0, sizeof lo);
        lo.pos = ns_yaml_pos(n);
        int ok = ns_yaml_str(&L->y, n, "gene", lo.gene, sizeof lo.gene, 1, what);
        ok &= ns_yaml_str(&L->y, n, "variant", lo.variant, sizeof lo.variant, 1, what);
        lo.cls = ns_yaml_enum(&L->y, n, "class", class_names, -1, what);
        if (!ok) continue;
        int bad = 0;
        for (const char *s = lo.gene; *s; s++)
            if (!(isalnum((unsigned char)*s) || *s == '-' || *s == '_' || *s == '.')) bad = 1;
        if (bad) {
            ns_yaml_err(&L->y, ns_yaml_get(&L->y, n, "gene"), "%s: gene '%s' must be a gene symbol (letters, digits, '-')", what, lo.gene);
            continue;
        }
        const char *vs = lo.variant;
        if (!((vs[0] == 'c' || vs[0] == 'g' || vs[0] == 'm' || vs[0] == 'n') && vs[1] == '.' && vs[2]) ||
            strpbrk(vs, " \t,")) {
            ns_yaml_err(&L->y, ns_yaml_get(&L->y, n, "variant"), "%s: variant '%s' must be in HGVS form: "
                        "c. (coding), g., n. or m. (mitochondrial), e.g. c.235delC or m.1555A>G", what, vs);
            continue;
        }
        lo.mt = vs[0] == 'm';
        if (strlen(lo.gene) + 1 + strlen(lo.variant) >= sizeof lo.id) {
            ns_yaml_err(&L->y, n, "%s: '%s:%s' is longer than %d characters", what, lo.gene, lo.variant,
                        (int)sizeof lo.id - 1);
            continue;
        }
        strcpy(lo.id, lo.gene);                 /* fits: checked just above */
        strcat(lo.id, ":");
        strcat(lo.id, lo.variant);
        yaml_node_t *al = ns_yaml_get(&L->y, n, "aliases");
        if (al) lo.aliases = ns_yaml_strlist(&L->y, al, &lo.n_aliases, what);
        /* every spelling of this locus must name it alone */
        const char *spell[65];
        int ns_ = 0;
        spell[ns_++] = lo.id;
        for (int a = 0; a < lo.n_aliases && ns_ < 65; a++) spell[ns_++] = lo.aliases[a];
        int clash = 0;
        for (int s = 0; s < ns_ && !clash; s++) {
            for (int f = 0; fixed_cols[f]; f++)
                if (ns_strcaseeq(spell[s], fixed_cols[f])) {
                    ns_yaml_err(&L->y, s ? al : n, "%s: '%s' is a fixed column name, not a locus", what, spell[s]);
                    clash = 1;
                }
            for (int i = 0; i < s && !clash; i++)
                if (ns_strcaseeq(spell[s], spell[i])) {
                    ns_yaml_err(&L->y, al, "%s: spelling '%s' is given twice", what, spell[s]);
                    clash = 1;
                }
            int prev = clash ? -1 : ns_genes_find_locus(c, spell[s]);
            if (prev >= 0) {
                if (s == 0)
                    ns_yaml_err(&L->y, n, "%s: locus %s is listed twice (first at line %d)", what, lo.id,
                                c->loci[prev].pos.line);
                else
                    ns_yaml_err(&L->y, al, "%s: alias '%s' already names locus %s (line %d)", what, spell[s],
                                c->loci[prev].id, c->loci[prev].pos.line);
                clash = 1;
            }
        }
        if (clash) { ns_strlist_free(lo.aliases, lo.n_aliases); continue; }
        int g = gene_index(c, lo.gene);
        if (g < 0) { g = c->n_genes++; strcpy(c->genes[g], lo.gene); }
        else if (strcmp(c->genes[g], lo.gene) != 0) {
            ns_yaml_err(&L->y, ns_yaml_get(&L->y, n, "gene"), "%s: gene '%s' is spelt '%s' above: use one spelling",
                        what, lo.gene, c->genes[g]);
            ns_strlist_free(lo.aliases, lo.n_aliases);
            continue;
        }
        lo.gene_idx = g;
        c->loci[c->n_loci++] = lo;
    }
    /* an mtDNA variant on a gene that also has nuclear variants mixes two kinds of counting */
    for (int l = 0; l < c->n_loci; l++)
        for (int k = 0; k < l; k++)
            if (c->loci[k].gene_idx == c->loci[l].gene_idx && c->loci[k].mt != c->loci[l].mt) {
                ns_yaml_errs_add(L->y.errs, c->loci[l].pos.line, c->loci[l].pos.col,
                                 "genes.loci: %s is %s but %s (line %d) is %s: one gene is either mitochondrial or nuclear",
                                 c->loci[l].id, c->loci[l].mt ? "mitochondrial" : "nuclear", c->loci[k].id,
                                 c->loci[k].pos.line, c->loci[k].mt ? "mitochondrial" : "nuclear");
                break;
            }
}

/* Accepted calls of one expectation value (a call or a list of calls) for locus l (-1: the
 * default, checked per locus by the caller).  0 on error (reported). */
static unsigned expect_mask(ld_t *L, yaml_node_t *v, const char *what)
{
    yaml_node_t *it[NS_GCALL_N + 1];
    int n = scalar_items(L, v, it, NS_GCALL_N, what);
    if (n < 0) return 0;
    unsigned m = 0;
    char list[96];
    list_names(list, sizeof list, call_names);
    for (int i = 0; i < n; i++) {
        int k = call_of(ns_yaml_scalar(it[i]));
        if (k < 0) {
            ns_yaml_err(&L->y, it[i], "%s: '%s' is not a call (%s)", what, ns_yaml_scalar(it[i]), list);
            return 0;
        }
        m |= 1u << k;
    }
    return m;
}

static void mask_text(char *buf, size_t sz, unsigned m)
{
    buf[0] = 0;
    for (int k = 0; k < NS_GCALL_N; k++)
        if (m & (1u << k)) {
            strncat(buf, buf[0] ? " or " : "", sz - strlen(buf) - 1);
            strncat(buf, call_names[k], sz - strlen(buf) - 1);
        }
}

static void load_expect(ld_t *L, yaml_node_t *cn, ns_gene_control_t *ct, const char *what)
{
    ns_genes_config_t *c = L->c;
    yaml_node_t *v = ns_yaml_get(&L->y, cn, "expect");
    if (!v) { ns_yaml_err(&L->y, cn, "%s: missing 'expect' (the calls this control must give)", what); return; }
    if (v->type != YAML_MAPPING_NODE) {
        ns_yaml_err(&L->y, v, "%s: 'expect' must be a mapping of locus: call (and default: call)", what);
        return;
    }
    unsigned dflt = 0;
    yaml_node_t *dnode = NULL;
    int *line = ns_calloc((size_t)c->n_loci + 1, sizeof *line);
    for (yaml_node_pair_t *pr = v->data.mapping.pairs.start; pr < v->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = ns_yaml_node(&L->y, pr->key), *x = ns_yaml_node(&L->y, pr->value);
        const char *ks = ns_yaml_scalar(k);
        char w2[160];
        snprintf(w2, sizeof w2, "%s.expect.%s", what, ks ? ks : "?");
        if (ks && strcmp(ks, "default") == 0) {
            if (dnode) { ns_yaml_err(&L->y, k, "%s: 'default' is given twice", what); continue; }
            dnode = x;
            dflt = expect_mask(L, x, w2);
            continue;
        }
        int l = ks ? ns_genes_find_locus(c, ks) : -1;
        if (l < 0) {
            ns_yaml_err(&L->y, k, "%s.expect: '%s' is not a configured locus (or 'default')", what, ks ? ks : "(not text)");
            continue;
        }
        if (line[l]) {
            ns_yaml_err(&L->y, k, "%s.expect: locus %s is given twice (first at line %d)", what, c->loci[l].id, line[l]);
            continue;
        }
        line[l] = ns_yaml_pos(k).line;
        unsigned m = expect_mask(L, x, w2);
        if (!m) continue;
        unsigned allowed = c->loci[l].mt ? MT_CALLS : NUCLEAR_CALLS;
        if (m & ~allowed) {
            char bad[96];
            mask_text(bad, sizeof bad, m & ~allowed);
            ns_yaml_err(&L->y, x, "%s.expect: %s is not a call of %s locus %s", what, bad,
                        c->loci[l].mt ? "mitochondrial" : "nuclear", c->loci[l].id);
            continue;
        }
        ct->expect[l] = m;
    }
    for (int l = 0; l < c->n_loci; l++) {
        if (line[l]) continue;
        if (!dnode) {
            ns_yaml_err(&L->y, v, "%s.expect: no call for locus %s (list it, or give a 'default')", what, c->loci[l].id);
            continue;
        }
        if (!dflt) continue;   /* reported already */
        unsigned m = dflt & (c->loci[l].mt ? MT_CALLS : NUCLEAR_CALLS);
        if (!m) {
            char d[96];
            mask_text(d, sizeof d, dflt);
            ns_yaml_err(&L->y, dnode, "%s.expect: default %s is not a call of %s locus %s: give that locus its own call",
                        what, d, c->loci[l].mt ? "mitochondrial" : "nuclear", c->loci[l].id);
            continue;
        }
        ct->expect[l] = m;
    }
    free(line);
}

static void load_controls(ld_t *L, yaml_node_t *top)
{
    static const char *const keys[] = { "name", "sample_type", "wells", "expect", NULL };
    ns_genes_config_t *c = L->c;
    yaml_node_t *v = ns_yaml_get(&L->y, top, "controls");
    if (!v) { ns_yaml_err(&L->y, top, "genes: missing 'controls' (a gene plate cannot be verified without them)"); return; }
    if (v->type != YAML_SEQUENCE_NODE || v->data.sequence.items.top == v->data.sequence.items.start) {
        ns_yaml_err(&L->y, v, "genes.controls must be a non-empty list of {name, sample_type, expect}");
        return;
    }
    int m = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
    c->controls = ns_calloc((size_t)m, sizeof *c->controls);
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *n = ns_yaml_node(&L->y, *it);
        char what[96];
        snprintf(what, sizeof what, "genes.controls[%d]", (int)(it - v->data.sequence.items.start) + 1);
        if (!ns_yaml_keys(&L->y, n, what, keys)) continue;
        ns_gene_control_t *ct = &c->controls[c->n_controls];
        memset(ct, 0, sizeof *ct);
        ct->pos = ns_yaml_pos(n);
        ct->expect = ns_calloc((size_t)c->n_loci + 1, sizeof *ct->expect);
        if (ns_yaml_str(&L->y, n, "name", ct->name, sizeof ct->name, 1, what)) {
            if (!is_key_name(ct->name))
                ns_yaml_err(&L->y, ns_yaml_get(&L->y, n, "name"), "%s: name '%s' must be lowercase letters, digits and _", what, ct->name);
            for (int k = 0; k < c->n_controls; k++)
                if (strcmp(c->controls[k].name, ct->name) == 0)
                    ns_yaml_err(&L->y, ns_yaml_get(&L->y, n, "name"), "%s: control '%s' is listed twice (first at line %d)",
                                what, ct->name, c->controls[k].pos.line);
        }
        snprintf(what, sizeof what, "genes.controls.%s", ct->name[0] ? ct->name : "?");
        yaml_node_t *tn = ns_yaml_get(&L->y, n, "sample_type");
        if (!tn) ns_yaml_err(&L->y, n, "%s: missing 'sample_type' (its label in the plate file)", what);
        else {
            yaml_node_t *items[16];
            int nt = scalar_items(L, tn, items, 16, what);
            for (int i = 0; i < nt; i++) {
                const char *s = ns_yaml_scalar(items[i]);
                if (!*s) { ns_yaml_err(&L->y, items[i], "%s: empty sample_type", what); continue; }
                for (int p = 0; p < c->n_patient_types; p++)
                    if (ns_strcaseeq(s, c->patient_types[p]))
                        ns_yaml_err(&L->y, items[i], "%s: sample_type '%s' is a patient spelling (patient_types)", what, s);
                for (int k = 0; k < c->n_controls; k++)
                    for (int x = 0; x < c->controls[k].n_types; x++)
                        if (ns_strcaseeq(s, c->controls[k].types[x]))
                            ns_yaml_err(&L->y, items[i], "%s: sample_type '%s' already names control %s", what, s,
                                        c->controls[k].name);
                for (int x = 0; x < ct->n_types; x++)
                    if (ns_strcaseeq(s, ct->types[x])) ns_yaml_err(&L->y, items[i], "%s: sample_type '%s' is given twice", what, s);
                ct->types = ns_realloc(ct->types, (size_t)(ct->n_types + 1) * sizeof *ct->types);
                ct->types[ct->n_types++] = ns_strdup(s);
            }
        }
        yaml_node_t *wn = ns_yaml_get(&L->y, n, "wells");
        if (wn) {
            if (wn->type != YAML_SEQUENCE_NODE || wn->data.sequence.items.top == wn->data.sequence.items.start) {
                ns_yaml_err(&L->y, wn, "%s: 'wells' must be a non-empty list of wells, e.g. [A01] (leave it out: any well)", what);
            } else {
                int mw = (int)(wn->data.sequence.items.top - wn->data.sequence.items.start);
                ct->wells = ns_calloc((size_t)mw, sizeof *ct->wells);
                for (yaml_node_item_t *wi = wn->data.sequence.items.start; wi < wn->data.sequence.items.top; wi++) {
                    yaml_node_t *x = ns_yaml_node(&L->y, *wi);
                    const char *s = ns_yaml_scalar(x);
                    char w[4];
                    int r = s ? ns_parse_well(s, c->rows, c->cols, w) : -1;
                    if (r < 0) {
                        if (r == -2)
                            ns_yaml_err(&L->y, x, "%s: well '%s' is not on a %d-well plate", what, s, c->rows * c->cols);
                        else
                            ns_yaml_err(&L->y, x, "%s: '%s' is not a well name (e.g. A01)", what, s ? s : "(not text)");
                        continue;
                    }
                    int idx = (w[0] - 'A') * c->cols + (w[1] - '0') * 10 + (w[2] - '0') - 1;
                    if (L->well_line[idx]) {
                        ns_yaml_err(&L->y, x, "%s: well %s is already given to a control (line %d)", what, w, L->well_line[idx]);
                        continue;
                    }
                    L->well_line[idx] = ns_yaml_pos(x).line;
                    ct->wells[ct->n_wells++] = idx;
                }
            }
        }
        load_expect(L, n, ct, what);
        c->n_controls++;     /* kept even when wrong: the errors already stop the load */
    }
}

/* ---- rules ----------------------------------------------------------------------------- */

static void load_when(ld_t *L, yaml_node_t *w, ns_gene_rule_t *r, const char *what)
{
    static const char *const keys[] = { "gene", "class", "min_alleles", "max_alleles", "call", NULL };
    ns_genes_config_t *c = L->c;
    char wh[128];
    snprintf(wh, sizeof wh, "%s.when", what);
    r->gene_sel = ns_calloc((size_t)c->n_genes + 1, 1);
    if (!w) return;                  /* reported by the caller, at the rule */
    if (!ns_yaml_keys(&L->y, w, wh, keys)) return;
    int n_before = L->y.errs->n;         /* a bad value below makes later checks moot */
    yaml_node_t *gn = ns_yaml_get(&L->y, w, "gene");
    if (gn) {
        yaml_node_t *it[64];
        int n = scalar_items(L, gn, it, 64, wh);
        for (int i = 0; i < n; i++) {
            int g = gene_index(c, ns_yaml_scalar(it[i]));
            if (g < 0) {
                ns_yaml_err(&L->y, it[i], "%s: unknown gene '%s' (no locus of genes.loci has it)", wh, ns_yaml_scalar(it[i]));
                continue;
            }
            if (r->gene_sel[g]) ns_yaml_err(&L->y, it[i], "%s: gene %s is listed twice", wh, c->genes[g]);
            r->gene_sel[g] = 1;
        }
    } else memset(r->gene_sel, 1, (size_t)c->n_genes);
    yaml_node_t *cn = ns_yaml_get(&L->y, w, "class");
    if (cn) {
        yaml_node_t *it[NS_GCLASS_N + 1];
        int n = scalar_items(L, cn, it, NS_GCLASS_N, wh);
        char list[96];
        list_names(list, sizeof list, class_names);
        for (int i = 0; i < n; i++) {
            int k = -1;
            for (int j = 0; class_names[j]; j++) if (strcmp(ns_yaml_scalar(it[i]), class_names[j]) == 0) k = j;
            if (k < 0) { ns_yaml_err(&L->y, it[i], "%s: unknown class '%s' (%s)", wh, ns_yaml_scalar(it[i]), list); continue; }
            if (r->class_mask & (1u << k)) ns_yaml_err(&L->y, it[i], "%s: class %s is listed twice", wh, class_names[k]);
            r->class_mask |= 1u << k;
        }
    }
    yaml_node_t *kn = ns_yaml_get(&L->y, w, "call");
    if (kn) r->call_mask = expect_mask(L, kn, wh);
    get_int(L, w, "min_alleles", 0, 64, &r->min_alleles, wh);
    get_int(L, w, "max_alleles", 0, 64, &r->max_alleles, wh);
    if (r->min_alleles >= 0 && r->max_alleles >= 0 && r->min_alleles > r->max_alleles)
        ns_yaml_err(&L->y, ns_yaml_get(&L->y, w, "max_alleles"), "%s: max_alleles %d is below min_alleles %d: the rule could never fire",
                    wh, r->max_alleles, r->min_alleles);
    if (!kn && !ns_yaml_get(&L->y, w, "min_alleles") && !ns_yaml_get(&L->y, w, "max_alleles")) {
        ns_yaml_err(&L->y, w, "%s: needs min_alleles, max_alleles or call", wh);
        return;
    }
    if (L->y.errs->n > n_before) return;
    /* which loci does it look at? none: it can never fire */
    int n_loci = 0;
    for (int l = 0; l < c->n_loci; l++)
        /* a locus whose class was not understood (cls -1, reported above) has no class bit */
        if (r->gene_sel[c->loci[l].gene_idx]
            && (!r->class_mask || (c->loci[l].cls >= 0 && r->class_mask & (1u << c->loci[l].cls)))) n_loci++;
    if (n_loci == 0) {
        ns_yaml_err(&L->y, w, "%s: no configured locus has the gene(s) and class(es) given: the rule could never fire", wh);
        return;
    }
    /* would it fire for a baby with every call wt?  Then every negative baby is recalled. */
    int wt_calls_ok = !r->call_mask || (r->call_mask & (1u << NS_GCALL_WT));
    if (wt_calls_ok && r->min_alleles <= 0)
        ns_yaml_err(&L->y, w, "%s: the rule would fire for a baby whose every call is wt (give min_alleles >= 1 or a call other than wt)", wh);
}

static void load_rules(ld_t *L, yaml_node_t *top)
{
    static const char *const keys[] = { "id", "scope", "when", "action", "priority", "due", "reason", NULL };
    static const char *const due_keys[] = { "days_of_life", NULL };
    ns_genes_config_t *c = L->c;
    yaml_node_t *v = ns_yaml_get(&L->y, top, "rules");
    if (!v) { ns_yaml_err(&L->y, top, "genes: missing 'rules' (what each genotype calls for)"); return; }
    if (v->type != YAML_SEQUENCE_NODE || v->data.sequence.items.top == v->data.sequence.items.start) {
        ns_yaml_err(&L->y, v, "genes.rules must be a non-empty list of {id, when, action, priority, reason}");
        return;
    }
    int m = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
    c->rules = ns_calloc((size_t)m, sizeof *c->rules);
    char alist[200];
    list_names(alist, sizeof alist, action_names);
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *n = ns_yaml_node(&L->y, *it);
        char what[96];
        snprintf(what, sizeof what, "genes.rules[%d]", (int)(it - v->data.sequence.items.start) + 1);
        if (!ns_yaml_keys(&L->y, n, what, keys)) continue;
        ns_gene_rule_t *r = &c->rules[c->n_rules++];
        memset(r, 0, sizeof *r);
        r->pos = ns_yaml_pos(n);
        r->min_alleles = r->max_alleles = -1;
        r->due_days = NAN;
        if (ns_yaml_str(&L->y, n, "id", r->id, sizeof r->id, 1, what)) {
            if (!is_key_name(r->id))
                ns_yaml_err(&L->y, ns_yaml_get(&L->y, n, "id"), "%s: id '%s' must be lowercase letters, digits and _", what, r->id);
            for (int k = 0; k < c->n_rules - 1; k++)
                if (strcmp(c->rules[k].id, r->id) == 0)
                    ns_yaml_err(&L->y, ns_yaml_get(&L->y, n, "id"), "%s: rule id '%s' is used twice (first at line %d)",
                                what, r->id, c->rules[k].pos.line);
            snprintf(what, sizeof what, "genes.rules.%s", r->id);
        }
        r->scope = ns_yaml_enum(&L->y, n, "scope", scope_names, NS_GSCOPE_GENE, what);
        load_when(L, ns_yaml_get(&L->y, n, "when"), r, what);
        if (!ns_yaml_get(&L->y, n, "when")) ns_yaml_err(&L->y, n, "%s: missing 'when'", what);
        yaml_node_t *an = ns_yaml_get(&L->y, n, "action");
        if (!an) ns_yaml_err(&L->y, n, "%s: missing 'action'", what);
        else {
            const char *s = ns_yaml_scalar(an);
            int k = -1;
            for (int j = 0; s && action_names[j]; j++) if (strcmp(s, action_names[j]) == 0) k = j;
            if (k < 0) ns_yaml_err(&L->y, an, "%s: 'action' must be one of %s, not '%s'", what, alist, s ? s : "(not text)");
            else strcpy(r->action, action_names[k]);
        }
        r->priority = ns_yaml_enum(&L->y, n, "priority", prio_names, -1, what);
        if (ns_yaml_str(&L->y, n, "reason", r->reason, sizeof r->reason, 1, what) &&
            (!is_key_name(r->reason) || strncmp(r->reason, "gene_", 5) != 0))
            ns_yaml_err(&L->y, ns_yaml_get(&L->y, n, "reason"), "%s: reason '%s' must be a translation key starting with "
                        "gene_ (lowercase letters, digits and _)", what, r->reason);
        yaml_node_t *dn = ns_yaml_get(&L->y, n, "due");
        if (dn && ns_yaml_keys(&L->y, dn, "due", due_keys)) {
            int d = 0;
            int got = get_int(L, dn, "days_of_life", 1, 3650, &d, what);
            if (got == 0) ns_yaml_err(&L->y, dn, "%s: 'due' needs days_of_life", what);
            if (got == 1) r->due_days = d;
        }
        /* the finding code must fit: "gene:" GENE ":" id */
        for (int g = 0; g < c->n_genes && r->id[0] && r->gene_sel; g++) {
            size_t len = 5 + (r->scope == NS_GSCOPE_GENE ? strlen(c->genes[g]) + 1 : 0) + strlen(r->id);
            if (r->gene_sel[g] && len >= NS_FU_KEY_MAX) {
                ns_yaml_err(&L->y, ns_yaml_get(&L->y, n, "id"), "%s: finding code 'gene:%s%s%s' would be longer than %d characters: shorten the id",
                            what, r->scope == NS_GSCOPE_GENE ? c->genes[g] : "", r->scope == NS_GSCOPE_GENE ? ":" : "", r->id,
                            NS_FU_KEY_MAX - 1);
                break;
            }
        }
    }
}

/* ---- entry points ---------------------------------------------------------------------- */

ns_genes_config_t *ns_genes_config_load_mem(const char *name, const char *text, size_t len,
                                            ns_panel_errs_t *errs)
{
    memset(errs, 0, sizeof *errs);
    ld_t L;
    memset(&L, 0, sizeof L);
    ns_genes_config_t *c = L.c = ns_calloc(1, sizeof *c);
    c->path = ns_strdup(name);
    c->text = ns_strndup(text, len);
    ns_sha256_hex(text, len, c->sha256);
    c->rows = 8;
    c->cols = 12;
    if (ns_yaml_parse(&L.y, text, len, errs) < 0) {
        ns_genes_config_free(c);
        return NULL;
    }
    yaml_node_t *root = ns_yaml_root(&L.y);
    static const char *const top_keys[] = { "genes", NULL };
    static const char *const keys[] = { "name", "version", "kit", "plate_wells", "patient_types",
                                        "ignore_columns", "loci", "controls", "rules", NULL };
    if (!root) {
        ns_yaml_errs_add(errs, 1, 1, "empty file: expected a 'genes:' section (loci, controls, rules)");
    } else if (ns_yaml_keys(&L.y, root, "the top level", top_keys)) {
        yaml_node_t *top = ns_yaml_get(&L.y, root, "genes");
        if (!top)
            ns_yaml_err(&L.y, root, "missing 'genes:' section (loci, controls, rules)");
        else if (ns_yaml_keys(&L.y, top, "genes", keys)) {
            ns_yaml_str(&L.y, top, "name", c->name, sizeof c->name, 0, "genes");
            ns_yaml_str(&L.y, top, "version", c->version, sizeof c->version, 0, "genes");
            ns_yaml_str(&L.y, top, "kit", c->kit, sizeof c->kit, 0, "genes");
            load_plate(&L, top);
            L.well_line = ns_calloc((size_t)(c->rows * c->cols), sizeof *L.well_line);
            c->patient_types = name_list(&L, top, "patient_types", &c->n_patient_types, "genes.patient_types");
            if (!ns_yaml_get(&L.y, top, "patient_types")) {
                c->patient_types = ns_calloc(2, sizeof *c->patient_types);
                c->patient_types[0] = ns_strdup("patient");
                c->n_patient_types = 1;
            } else if (c->n_patient_types == 0)
                ns_yaml_err(&L.y, ns_yaml_get(&L.y, top, "patient_types"), "genes.patient_types is empty: no well could hold a patient");
            c->ignore_columns = name_list(&L, top, "ignore_columns", &c->n_ignore, "genes.ignore_columns");
            load_loci(&L, top);
            for (int i = 0; i < c->n_ignore; i++) {
                int bad = ns_genes_find_locus(c, c->ignore_columns[i]) >= 0;
                for (int f = 0; fixed_cols[f]; f++) bad |= ns_strcaseeq(c->ignore_columns[i], fixed_cols[f]);
                if (bad)
                    ns_yaml_err(&L.y, ns_yaml_get(&L.y, top, "ignore_columns"),
                                "genes.ignore_columns: '%s' is a locus or fixed column: it cannot be ignored", c->ignore_columns[i]);
            }
            if (c->n_loci) {
                load_controls(&L, top);
                load_rules(&L, top);
            }
        }
    }
    ns_yaml_done(&L.y);
    free(L.well_line);
    if (errs->n) { ns_genes_config_free(c); return NULL; }
    free(errs->text);
    errs->text = NULL;
    c->well_control = ns_malloc((size_t)(c->rows * c->cols) * sizeof *c->well_control);
    for (int i = 0; i < c->rows * c->cols; i++) c->well_control[i] = -1;
    for (int k = 0; k < c->n_controls; k++)
        for (int w = 0; w < c->controls[k].n_wells; w++) c->well_control[c->controls[k].wells[w]] = k;
    return c;
}

ns_genes_config_t *ns_genes_config_load(const char *path, ns_panel_errs_t *errs)
{
    char *text;
    size_t len;
    memset(errs, 0, sizeof *errs);
    if (ns_read_file(path, &text, &len) < 0) {
        ns_yaml_errs_add(errs, 0, 0, "cannot read: %s", strerror(errno));
        return NULL;
    }
    ns_genes_config_t *c = ns_genes_config_load_mem(path, text, len, errs);
    free(text);
    return c;
}

void ns_genes_config_free(ns_genes_config_t *c)
{
    if (!c) return;
    for (int l = 0; l < c->n_loci; l++) ns_strlist_free(c->loci[l].aliases, c->loci[l].n_aliases);
    for (int k = 0; k < c->n_controls; k++) {
        ns_strlist_free(c->controls[k].types, c->controls[k].n_types);
        free(c->controls[k].wells);
        free(c->controls[k].expect);
    }
    for (int r = 0; r < c->n_rules; r++) free(c->rules[r].gene_sel);
    ns_strlist_free(c->patient_types, c->n_patient_types);
    ns_strlist_free(c->ignore_columns, c->n_ignore);
    free(c->loci);
    free(c->genes);
    free(c->controls);
    free(c->well_control);
    free(c->rules);
    free(c->path);
    free(c->text);
    free(c);
}
