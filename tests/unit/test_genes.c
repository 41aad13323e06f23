/* test_genes.c — the deafness-gene plate engine: every shipped rule on real plate files
 * (findings, priorities, deadlines, arguments), fail calls that block allele counting,
 * plate QC on the plate's own controls (rejected plates hold their patients), ingest
 * errors at their exact line and column, encodings, config validation, the nothing-lost
 * counts, and that the shipped configs/genes.yaml and its translations agree. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../../pipeline/genes.h"
#include "../../pipeline/lang.h"
#include "../../pipeline/util.h"
#include "../../pipeline/yaml_doc.h"

static char tmpdir[64];
static int file_no;

static ns_genes_config_t *load_text(const char *text, ns_panel_errs_t *e)
{
    return ns_genes_config_load_mem("genes.yaml", text, strlen(text), e);
}

static void print_errs(const ns_panel_errs_t *e)
{
    for (int i = 0; i < e->n; i++) print_error("%d:%d: %s\n", e->v[i].pos.line, e->v[i].pos.col, e->v[i].msg);
}

static ns_genes_config_t *shipped(void)
{
    ns_panel_errs_t e;
    ns_genes_config_t *c = ns_genes_config_load(NS_SRCDIR "/configs/genes.yaml", &e);
    print_errs(&e);
    assert_int_equal(e.n, 0);
    ns_panel_errs_free(&e);
    assert_non_null(c);
    return c;
}

/* Write text as a new file in tmpdir; returns its path (caller frees). */
static char *write_plate(const char *name, const char *text, size_t len)
{
    char *path = ns_asprintf("%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
    return path;
}

/* ---- building plates from a config ------------------------------------------------------ */

typedef struct {
    char *s;
    size_t n;
} buf_t;

static void add(buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    b->s = realloc(b->s, b->n + (size_t)k + 1);
    va_start(ap, fmt);
    vsnprintf(b->s + b->n, (size_t)k + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)k;
}

/* A plate for config c: every control (in its configured well, else the next free one)
 * with its first expected call at each locus, then one patient per spec.  A spec is
 * "SAMPLE_ID LOCUS=CALL ...", every locus not named is wt. */
static char *plate_csv(const ns_genes_config_t *c, const char *plate_id, const char *const *specs, int n)
{
    buf_t b = { 0 };
    add(&b, "plate_id,well,sample_id,sample_type");
    for (int l = 0; l < c->n_loci; l++) add(&b, ",%s", c->loci[l].id);
    add(&b, "\n");
    int used[384] = { 0 }, next = 0;
    for (int k = 0; k < c->n_controls; k++)
        for (int w = 0; w < c->controls[k].n_wells; w++) used[c->controls[k].wells[w]] = 1;
    for (int k = 0; k < c->n_controls; k++) {
        int w;
        if (c->controls[k].n_wells) w = c->controls[k].wells[0];
        else { while (used[next]) next++; w = next; used[w] = 1; }
        add(&b, "%s,%c%02d,CTL%d,%s", plate_id, 'A' + w / c->cols, w % c->cols + 1, k, c->controls[k].types[0]);
        for (int l = 0; l < c->n_loci; l++) {
            int call = 0;
            while (!(c->controls[k].expect[l] & (1u << call))) call++;
            add(&b, ",%s", ns_gene_call_name(call));
        }
        add(&b, "\n");
    }
    for (int p = 0; p < n; p++) {
        while (used[next]) next++;
        used[next] = 1;
        char sid[64];
        sscanf(specs[p], "%63s", sid);
        add(&b, "%s,%c%02d,%s,patient", plate_id, 'A' + next / c->cols, next % c->cols + 1, sid);
        for (int l = 0; l < c->n_loci; l++) {
            const char *call = "wt";
            char key[80];
            snprintf(key, sizeof key, " %s=", c->loci[l].id);
            const char *at = strstr(specs[p], key);
            char got[20];
            if (at) { sscanf(at + strlen(key), "%19s", got); call = got; }
            add(&b, ",%s", call);
        }
        add(&b, "\n");
    }
    return b.s;
}

/* Ingest the given plate texts (one file each), judge and evaluate. */
static void run_texts(ns_genes_night_t *g, ns_findings_t *fs, const ns_genes_config_t *c, char **texts, int n)
{
    char **paths = calloc((size_t)n, sizeof *paths);
    for (int k = 0; k < n; k++) {
        char name[32];
        snprintf(name, sizeof name, "g%04d.csv", file_no++);
        paths[k] = write_plate(name, texts[k], strlen(texts[k]));
    }
    memset(fs, 0, sizeof *fs);
    ns_genes_ingest(g, c, paths, n);
    ns_genes_qc(g);
    ns_genes_evaluate(g, fs, NULL, NULL);
    for (int k = 0; k < n; k++) { unlink(paths[k]); free(paths[k]); }
    free(paths);
}

/* One accepted plate of the shipped config with these patients. */
static void run_patients(ns_genes_night_t *g, ns_findings_t *fs, const ns_genes_config_t *c, const char *const *specs, int n)
{
    char *t = plate_csv(c, "GP01", specs, n);
    run_texts(g, fs, c, &t, 1);
    free(t);
    assert_int_equal(g->plates[0].status, NS_GPLATE_ACCEPTED);
}

static const char *arg(const ns_finding_t *f, const char *name)
{
    for (int k = 0; k < f->n_args; k++) if (strcmp(f->arg_name[k], name) == 0) return f->arg[k];
    return NULL;
}

/* ---- shipped config and translations ---------------------------------------------------- */

static void test_shipped_config(void **st)
{
    (void)st;
    ns_genes_config_t *c = shipped();
    assert_int_equal(c->n_loci, 9);
    assert_int_equal(c->n_genes, 4);
    assert_string_equal(c->genes[0], "GJB2");
    assert_int_equal(c->n_controls, 3);
    int l = ns_genes_find_locus(c, "mt-rnr1:M.1555A>G");
    assert_true(l >= 0);
    assert_true(c->loci[l].mt);
    assert_int_equal(c->loci[l].cls, NS_GCLASS_AMINOGLYCOSIDE);
    assert_int_equal(ns_genes_find_locus(c, "SLC26A4:IVS7-2A>G"), ns_genes_find_locus(c, "SLC26A4:c.919-2A>G"));
    assert_int_equal(c->loci[ns_genes_find_locus(c, "GJB3:c.538C>T")].cls, NS_GCLASS_UNCERTAIN);
    assert_int_equal(c->rows * c->cols, 96);
    ns_genes_config_free(c);
}

/* Every action and reason key of the shipped rules has an English and a Chinese text in
 * configs/lang.yaml, and every {placeholder} of a gene reason is an argument the engine
 * gives (gene, loci, plate, well). */
static void test_lang_covers_rules(void **st)
{
    (void)st;
    ns_genes_config_t *c = shipped();
    static const char *const actions[] = { "audiology_referral", "counselling", "carrier_counselling",
                                           "aminoglycoside_warning", "repeat_specimen", "surveillance" };
    const char *const names[] = { "gene", "loci", "plate", "well" };
    const char *const vals[] = { "G", "L", "P", "W" };
    for (int lang = 0; lang < 2; lang++) {
        ns_panel_errs_t e;
        ns_lang_t *L = ns_lang_load(NS_SRCDIR "/configs/lang.yaml", lang ? "zh" : "en", &e);
        assert_non_null(L);
        ns_panel_errs_free(&e);
        char key[96];
        for (int a = 0; a < 6; a++) {
            snprintf(key, sizeof key, "action.%s", actions[a]);
            if (!ns_lang_has(L, key)) fail_msg("no translation for %s", key);
        }
        for (int r = 0; r < c->n_rules; r++) {
            snprintf(key, sizeof key, "action.%s", c->rules[r].action);
            if (!ns_lang_has(L, key)) fail_msg("no translation for %s", key);
            snprintf(key, sizeof key, "reason.%s", c->rules[r].reason);
            if (!ns_lang_has(L, key)) fail_msg("no translation for %s", key);
            char *t = ns_lang_format(L, key, 4, names, vals);    /* every placeholder filled */
            if (strchr(t, '{')) fail_msg("%s (%s): unknown placeholder in '%s'", key, lang ? "zh" : "en", t);
            free(t);
        }
        ns_lang_free(L);
    }
    ns_genes_config_free(c);
}

/* ---- each shipped rule ----------------------------------------------------------------- */

static void test_mt_heteroplasmic(void **st)
{
    (void)st;
    ns_genes_config_t *c = shipped();
    ns_genes_night_t g;
    ns_findings_t fs;
    const char *p[] = { "S1 MT-RNR1:m.1555A>G=heteroplasmic" };
    run_patients(&g, &fs, c, p, 1);
    assert_int_equal(fs.n, 2);
    const ns_finding_t *f = &fs.v[0];
    assert_string_equal(f->code, "gene:MT-RNR1:aminoglycoside");
    assert_string_equal(f->sample_id, "S1");
    assert_string_equal(f->infant_id, "");
    assert_int_equal(f->source, NS_SRC_GENE);
    assert_string_equal(f->action, "counselling");
    assert_string_equal(f->reason, "gene_aminoglycoside");
    assert_int_equal(f->priority, NS_PRIO_URGENT);
    assert_int_equal(f->due_from, NS_DUE_NONE);
    assert_string_equal(arg(f, "gene"), "MT-RNR1");
    assert_string_equal(arg(f, "loci"), "MT-RNR1:m.1555A>G @{gene.call.heteroplasmic}");
    assert_string_equal(arg(f, "plate"), "GP01");
    f = &fs.v[1];
    assert_string_equal(f->code, "gene:MT-RNR1:aminoglycoside_warning");
    assert_string_equal(f->action, "aminoglycoside_warning");
    assert_string_equal(f->reason, "gene_aminoglycoside_warning");
    assert_int_equal(f->priority, NS_PRIO_URGENT);
    assert_int_equal(g.sum.positive, 1);
    assert_int_equal(g.sum.class_positive[NS_GCLASS_AMINOGLYCOSIDE], 1);
    ns_findings_free(&fs);
    ns_genes_night_free(&g);

    /* m.1494C>T homoplasmic: the same two */
    const char *q[] = { "S2 MT-RNR1:m.1494C>T=homoplasmic" };
    run_patients(&g, &fs, c, q, 1);
    assert_int_equal(fs.n, 2);
    assert_string_equal(arg(&fs.v[0], "loci"), "MT-RNR1:m.1494C>T @{gene.call.homoplasmic}");
    assert_string_equal(fs.v[1].action, "aminoglycoside_warning");
    ns_findings_free(&fs);
    ns_genes_night_free(&g);
    ns_genes_config_free(c);
}

static void test_gjb2_hom_biallelic(void **st)
{
    (void)st;
    ns_genes_config_t *c = shipped();
    ns_genes_night_t g;
    ns_findings_t fs;
    const char *p[] = { "S1 GJB2:c.235delC=HOM" };      /* calls are case-insensitive */
    run_patients(&g, &fs, c, p, 1);
    assert_int_equal(fs.n, 1);                          /* a referral, not also "carrier" */
    const ns_finding_t *f = &fs.v[0];
    assert_string_equal(f->code, "gene:GJB2:biallelic");
    assert_string_equal(f->action, "audiology_referral");
    assert_string_equal(f->reason, "gene_biallelic");
    assert_int_equal(f->priority, NS_PRIO_URGENT);
    assert_int_equal(f->due_from, NS_DUE_BIRTH);
    assert_true(f->due_hours == 90 * 24.0);
    assert_string_equal(arg(f, "gene"), "GJB2");
    assert_string_equal(arg(f, "loci"), "GJB2:c.235delC @{gene.call.hom}");
    ns_findings_free(&fs);
    ns_genes_night_free(&g);
    ns_genes_config_free(c);
}

static void test_gjb2_compound_het(void **st)
{
    (void)st;
    ns_genes_config_t *c = shipped();
    ns_genes_night_t g;
    ns_findings_t fs;
    const char *p[] = { "S1 GJB2:c.35delG=het GJB2:c.235delC=het" };
    run_patients(&g, &fs, c, p, 1);
    assert_int_equal(fs.n, 1);
    assert_string_equal(fs.v[0].code, "gene:GJB2:biallelic");
    assert_int_equal(fs.v[0].priority, NS_PRIO_URGENT);
    assert_true(fs.v[0].due_hours == 2160.0);
    assert_string_equal(arg(&fs.v[0], "loci"), "GJB2:c.35delG @{gene.call.het}, GJB2:c.235delC @{gene.call.het}");
    ns_findings_free(&fs);
    ns_genes_night_free(&g);

    /* SLC26A4 compound het: its own rule (imaging advice) */
    const char *q[] = { "S2 SLC26A4:c.919-2A>G=het SLC26A4:c.2168A>G=het" };
    run_patients(&g, &fs, c, q, 1);
    assert_int_equal(fs.n, 1);
    assert_string_equal(fs.v[0].code, "gene:SLC26A4:biallelic_eva");
    assert_string_equal(fs.v[0].action, "audiology_referral");
    assert_string_equal(fs.v[0].reason, "gene_biallelic_eva");
    ns_findings_free(&fs);
    ns_genes_night_free(&g);

    /* one het in each of two genes is two carriers, not a biallelic */
    const char *r[] = { "S3 GJB2:c.235delC=het SLC26A4:c.919-2A>G=het" };
    run_patients(&g, &fs, c, r, 1);
    assert_int_equal(fs.n, 2);
    assert_string_equal(fs.v[0].code, "gene:GJB2:carrier");
    assert_string_equal(fs.v[1].code, "gene:SLC26A4:carrier");
    ns_findings_free(&fs);
    ns_genes_night_free(&g);
    ns_genes_config_free(c);
}

static void test_slc26a4_carrier(void **st)
{
    (void)st;
    ns_genes_config_t *c = shipped();
    ns_genes_night_t g;
    ns_findings_t fs;
    const char *p[] = { "S1 SLC26A4:c.919-2A>G=het" };
    run_patients(&g, &fs, c, p, 1);
    assert_int_equal(fs.n, 1);
    const ns_finding_t *f = &fs.v[0];
    assert_string_equal(f->code, "gene:SLC26A4:carrier");
    assert_string_equal(f->action, "carrier_counselling");
    assert_string_equal(f->reason, "gene_carrier");
    assert_int_equal(f->priority, NS_PRIO_ROUTINE);
    assert_int_equal(f->due_from, NS_DUE_NONE);
    assert_string_equal(arg(f, "loci"), "SLC26A4:c.919-2A>G @{gene.call.het}");
    assert_int_equal(g.state[g.n - 1], NS_GSTATE_POSITIVE);
    ns_findings_free(&fs);
    ns_genes_night_free(&g);
    ns_genes_config_free(c);
}

static void test_gjb3_counselling_only(void **st)
{
    (void)st;
    ns_genes_config_t *c = shipped();
    ns_genes_night_t g;
    ns_findings_t fs;
    const char *p[] = { "S1 GJB3:c.538C>T=het", "S2 GJB3:c.538C>T=hom" };
    run_patients(&g, &fs, c, p, 2);
    assert_int_equal(fs.n, 2);              /* one each, never carrier or biallelic */
    for (int k = 0; k < 2; k++) {
        assert_string_equal(fs.v[k].code, "gene:GJB3:uncertain");
        assert_string_equal(fs.v[k].action, "counselling");
        assert_string_equal(fs.v[k].reason, "gene_uncertain");
        assert_int_equal(fs.v[k].priority, NS_PRIO_ROUTINE);
    }
    assert_string_equal(fs.v[0].sample_id, "S1");
    assert_string_equal(fs.v[1].sample_id, "S2");
    assert_int_equal(g.sum.class_positive[NS_GCLASS_UNCERTAIN], 2);
    assert_int_equal(g.sum.class_positive[NS_GCLASS_PATHOGENIC], 0);
    ns_findings_free(&fs);
    ns_genes_night_free(&g);
    ns_genes_config_free(c);
}

static void test_fail_repeat(void **st)
{
    (void)st;
    ns_genes_config_t *c = shipped();
    ns_genes_night_t g;
    ns_findings_t fs;
    const char *p[] = { "S1 GJB2:c.35delG=fail MT-RNR1:m.1555A>G=FAIL" };
    run_patients(&g, &fs, c, p, 1);
    assert_int_equal(fs.n, 1);
    const ns_finding_t *f = &fs.v[0];
    assert_string_equal(f->code, "gene:fail");
    assert_string_equal(f->action, "repeat_specimen");
    assert_string_equal(f->reason, "gene_fail");
    assert_int_equal(f->priority, NS_PRIO_ROUTINE);
    assert_string_equal(arg(f, "loci"), "GJB2:c.35delG @{gene.call.fail}, MT-RNR1:m.1555A>G @{gene.call.fail}");
    assert_string_equal(arg(f, "gene"), "GJB2, MT-RNR1");
    assert_string_equal(arg(f, "well"), "A04");      /* row-major, after the three controls */
    assert_int_equal(g.state[g.n - 1], NS_GSTATE_INCOMPLETE);
    assert_int_equal(g.sum.incomplete, 1);
    assert_int_equal(g.sum.with_fail, 1);
    ns_findings_free(&fs);
    ns_genes_night_free(&g);

    /* a whole sample failed: one finding; the list is cut at a locus boundary */
    const char *q[] = { "S2 GJB2:c.35delG=fail GJB2:c.176_191del16=fail GJB2:c.235delC=fail GJB2:c.299_300delAT=fail "
                        "SLC26A4:c.919-2A>G=fail SLC26A4:c.2168A>G=fail MT-RNR1:m.1494C>T=fail MT-RNR1:m.1555A>G=fail GJB3:c.538C>T=fail" };
    run_patients(&g, &fs, c, q, 1);
    assert_int_equal(fs.n, 1);
    const char *loci = arg(&fs.v[0], "loci");
    assert_true(strlen(loci) < NS_FU_ARG_MAX);
    const char *head = "GJB2:c.35delG @{gene.call.fail}, GJB2:c.176_191del16 @{gene.call.fail}";
    assert_true(strncmp(loci, head, strlen(head)) == 0);
    const char *plus = strrchr(loci, '+');
    assert_non_null(plus);
    assert_true(plus[-1] == ' ' && atoi(plus + 1) >= 1);
    ns_findings_free(&fs);
    ns_genes_night_free(&g);
    ns_genes_config_free(c);
}

/* A fail in a gene makes its allele count a range: carrier and biallelic fire only if
 * they hold whatever the failed locus would have shown. */
static void test_fail_blocks_counting(void **st)
{
    (void)st;
    ns_genes_config_t *c = shipped();
    ns_genes_night_t g;
    ns_findings_t fs;
    const char *p[] = {
        "A1 GJB2:c.235delC=het GJB2:c.35delG=fail",                 /* 1..3: neither */
        "A2 GJB2:c.235delC=hom GJB2:c.35delG=fail",                 /* 2..4: biallelic */
        "A3 GJB2:c.235delC=het SLC26A4:c.2168A>G=fail",             /* GJB2 exact: carrier */
        "A4 MT-RNR1:m.1555A>G=homoplasmic MT-RNR1:m.1494C>T=fail",  /* present whatever */
    };
    run_patients(&g, &fs, c, p, 4);
    const char *want[][2] = {
        { "A1", "gene:fail" },
        { "A2", "gene:GJB2:biallelic" }, { "A2", "gene:fail" },
        { "A3", "gene:GJB2:carrier" }, { "A3", "gene:fail" },
        { "A4", "gene:MT-RNR1:aminoglycoside" }, { "A4", "gene:MT-RNR1:aminoglycoside_warning" }, { "A4", "gene:fail" },
    };
    assert_int_equal(fs.n, 8);
    for (int k = 0; k < 8; k++) {
        assert_string_equal(fs.v[k].sample_id, want[k][0]);
        assert_string_equal(fs.v[k].code, want[k][1]);
    }
    assert_string_equal(arg(&fs.v[1], "loci"), "GJB2:c.35delG @{gene.call.fail}, GJB2:c.235delC @{gene.call.hom}");
    assert_int_equal(g.sum.positive, 4);      /* a variant allele, fails or not */
    assert_int_equal(g.sum.with_fail, 4);
    ns_findings_free(&fs);
    ns_genes_night_free(&g);
    ns_genes_config_free(c);
}

static void test_all_wt_nothing(void **st)
{
    (void)st;
    ns_genes_config_t *c = shipped();
    ns_genes_night_t g;
    ns_findings_t fs;
    const char *p[] = { "S1", "S2", "S3" };
    run_patients(&g, &fs, c, p, 3);
    assert_int_equal(fs.n, 0);
    assert_int_equal(g.sum.tested, 3);
    assert_int_equal(g.sum.negative, 3);
    assert_int_equal(g.sum.positive, 0);
    assert_true(g.sum.positive_rate == 0.0);
    for (int64_t i = 0; i < g.n; i++)
        assert_int_equal(g.state[i], g.control[i] >= 0 ? NS_GSTATE_CONTROL : NS_GSTATE_NEGATIVE);
    ns_findings_free(&fs);
    ns_genes_night_free(&g);
    ns_genes_config_free(c);
}

/* Findings are ordered by sample_id whatever the well order; the infant lookup is used;
 * summary counts per locus and the positive rate. */
static const char *lookup(void *ctx, const char *sid)
{
    (void)ctx;
    if (strcmp(sid, "S-B") == 0) return "INF-B";
    return NULL;
}

static void test_order_summary_lookup(void **st)
{
    (void)st;
    ns_genes_config_t *c = shipped();
    const char *p[] = { "S-C GJB3:c.538C>T=het", "S-A GJB2:c.235delC=het", "S-D", "S-B GJB2:c.235delC=hom" };
    char *t = plate_csv(c, "GP01", p, 4);
    char *path = write_plate("order.csv", t, strlen(t));
    ns_genes_night_t g;
    ns_findings_t fs = { 0 };
    ns_genes_ingest(&g, c, &path, 1);
    ns_genes_evaluate(&g, &fs, lookup, NULL);     /* runs QC itself */
    assert_int_equal(g.judged, 1);
    assert_int_equal(fs.n, 3);
    assert_string_equal(fs.v[0].sample_id, "S-A");
    assert_string_equal(fs.v[1].sample_id, "S-B");
    assert_string_equal(fs.v[1].infant_id, "INF-B");
    assert_string_equal(fs.v[0].infant_id, "");
    assert_string_equal(fs.v[2].sample_id, "S-C");
    const ns_genes_summary_t *s = &g.sum;
    assert_int_equal(s->tested, 4);
    assert_int_equal(s->positive, 3);
    assert_true(fabs(s->positive_rate - 0.75) < 1e-12);
    int l = ns_genes_find_locus(c, "GJB2:c.235delC");
    assert_int_equal(s->locus_calls[l][NS_GCALL_HET], 1);
    assert_int_equal(s->locus_calls[l][NS_GCALL_HOM], 1);
    assert_int_equal(s->locus_calls[l][NS_GCALL_WT], 2);
    assert_int_equal(s->findings, 3);
    assert_int_equal(s->findings_by_prio[NS_PRIO_URGENT], 1);
    assert_int_equal(s->findings_by_prio[NS_PRIO_ROUTINE], 2);
    ns_findings_free(&fs);
    ns_genes_night_free(&g);
    unlink(path);
    free(path);
    free(t);
    ns_genes_config_free(c);
}

/* Same files, 1 or 4 threads: the same findings in the same order. */
static void test_threads_same(void **st)
{
    (void)st;
    ns_genes_config_t *c = shipped();
    char *t[6];
    for (int k = 0; k < 6; k++) {
        char id[16], s1[64], s2[64];
        snprintf(id, sizeof id, "GP%02d", k);
        snprintf(s1, sizeof s1, "X%d GJB2:c.235delC=het", 5 - k);
        snprintf(s2, sizeof s2, "Y%d MT-RNR1:m.1555A>G=homoplasmic GJB2:c.35delG=fail", k);
        const char *p[] = { s1, s2 };
        t[k] = plate_csv(c, id, p, 2);
    }
    ns_findings_t a, b;
    ns_genes_night_t g1, g2;
    omp_set_num_threads(1);
    run_texts(&g1, &a, c, t, 6);
    omp_set_num_threads(4);
    run_texts(&g2, &b, c, t, 6);
    assert_int_equal(a.n, 6 + 6 * 3);
    assert_int_equal(a.n, b.n);
    for (int64_t k = 0; k < a.n; k++) {
        assert_string_equal(a.v[k].sample_id, b.v[k].sample_id);
        assert_string_equal(a.v[k].code, b.v[k].code);
        assert_string_equal(arg(&a.v[k], "plate"), arg(&b.v[k], "plate"));
    }
    assert_string_equal(a.v[0].sample_id, "X0");
    for (int k = 0; k < 6; k++) free(t[k]);
    ns_findings_free(&a);
    ns_findings_free(&b);
    ns_genes_night_free(&g1);
    ns_genes_night_free(&g2);
    ns_genes_config_free(c);
}

/* ---- plate QC (a small config of its own) ----------------------------------------------- */

static const char *tcfg_text =
    "genes:\n"
    "  loci:\n"
    "    - {gene: GJB2, variant: c.235delC, class: pathogenic, aliases: [\"GJB2:235delC\"]}\n"
    "    - {gene: GJB2, variant: c.35delG, class: pathogenic}\n"
    "    - {gene: MT-RNR1, variant: m.1555A>G, class: aminoglycoside_susceptibility}\n"
    "    - {gene: GJB3, variant: c.538C>T, class: uncertain}\n"
    "  ignore_columns: [operator]\n"
    "  controls:\n"
    "    - {name: wild_type, sample_type: wt_control, wells: [A01], expect: {default: wt}}\n"
    "    - name: positive\n"
    "      sample_type: pos_control\n"
    "      expect: {default: wt, \"GJB2:c.235delC\": het, \"MT-RNR1:m.1555A>G\": [heteroplasmic, homoplasmic]}\n"
    "    - {name: blank, sample_type: [blank, ntc], expect: {default: fail}}\n"
    "  rules:\n"
    "    - {id: biallelic, when: {class: pathogenic, min_alleles: 2}, action: audiology_referral,\n"
    "       priority: urgent, due: {days_of_life: 90}, reason: gene_biallelic}\n"
    "    - {id: fail, scope: sample, when: {call: fail}, action: repeat_specimen, priority: routine, reason: gene_fail}\n";

#define HDR "plate_id,well,sample_id,sample_type,GJB2:c.235delC,GJB2:c.35delG,MT-RNR1:m.1555A>G,GJB3:c.538C>T"
static const char *good_rows[] = {
    HDR,                                                     /* line 1 */
    "P1,A01,,wt_control,wt,wt,wt,wt",                        /* line 2 */
    "P1,B01,POS-LOT1,pos_control,het,wt,homoplasmic,wt",     /* line 3 */
    "P1,C01,,ntc,fail,fail,fail,fail",                       /* line 4 */
    "P1,D01,S1,patient,hom,wt,wt,wt",                        /* line 5 */
    "P1,E01,S2,patient,wt,wt,wt,wt",                         /* line 6 */
};
#define N_GOOD 6

static ns_genes_config_t *tcfg(void)
{
    ns_panel_errs_t e;
    ns_genes_config_t *c = load_text(tcfg_text, &e);
    print_errs(&e);
    assert_int_equal(e.n, 0);
    ns_panel_errs_free(&e);
    return c;
}

/* The good plate with line `line` (1-based) replaced by repl (NULL: dropped). */
static char *variant_plate(int line, const char *repl)
{
    buf_t b = { 0 };
    for (int i = 0; i < N_GOOD; i++) {
        const char *l = i + 1 == line ? repl : good_rows[i];
        if (l) add(&b, "%s\n", l);
    }
    return b.s;
}

static void test_qc_good_plate(void **st)
{
    (void)st;
    ns_genes_config_t *c = tcfg();
    char *t = variant_plate(0, NULL);
    ns_genes_night_t g;
    ns_findings_t fs;
    run_texts(&g, &fs, c, &t, 1);
    assert_null(g.plates[0].error);
    assert_int_equal(g.plates[0].status, NS_GPLATE_ACCEPTED);
    assert_null(g.plates[0].reason);
    assert_string_equal(g.plates[0].id, "P1");
    assert_string_equal(g.plates[0].encoding, "utf-8");
    assert_int_equal(g.plates[0].n_controls, 3);
    assert_int_equal(g.plates[0].n_patients, 2);
    assert_int_equal(fs.n, 1);
    assert_string_equal(fs.v[0].code, "gene:GJB2:biallelic");
    assert_string_equal(fs.v[0].sample_id, "S1");
    ns_findings_free(&fs);
    ns_genes_night_free(&g);
    free(t);
    ns_genes_config_free(c);
}

/* judge the good plate with one line replaced; returns the reason (copy) and checks that
 * the plate is rejected and its patients held without findings */
static char *rejected_reason(const ns_genes_config_t *c, int line, const char *repl)
{
    char *t = variant_plate(line, repl);
    ns_genes_night_t g;
    ns_findings_t fs;
    run_texts(&g, &fs, c, &t, 1);
    assert_null(g.plates[0].error);
    assert_int_equal(g.plates[0].status, NS_GPLATE_REJECTED);
    assert_non_null(g.plates[0].reason);
    assert_int_equal(fs.n, 0);                       /* S1 is hom, but on a rejected plate */
    assert_int_equal(g.sum.hold, 2);
    assert_int_equal(g.sum.tested, 0);
    assert_int_equal(g.sum.rejected, 1);
    assert_true(isnan(g.sum.positive_rate));
    for (int64_t i = 0; i < g.n; i++)
        assert_int_equal(g.state[i], g.control[i] >= 0 ? NS_GSTATE_CONTROL : NS_GSTATE_HOLD);
    char *r = ns_strdup(g.plates[0].reason);
    ns_findings_free(&fs);
    ns_genes_night_free(&g);
    free(t);
    return r;
}

static void test_qc_wt_control_wrong(void **st)
{
    (void)st;
    ns_genes_config_t *c = tcfg();
    char *r = rejected_reason(c, 2, "P1,A01,,wt_control,het,wt,wt,wt");
    assert_string_equal(r, "wild_type control GJB2:c.235delC expected wt, got het (A01)");
    free(r);
    r = rejected_reason(c, 3, "P1,B01,POS-LOT1,pos_control,wt,wt,homoplasmic,wt");
    assert_string_equal(r, "positive control GJB2:c.235delC expected het, got wt (B01)");
    free(r);
    r = rejected_reason(c, 3, "P1,B01,POS-LOT1,pos_control,het,wt,wt,wt");
    assert_string_equal(r, "positive control MT-RNR1:m.1555A>G expected heteroplasmic or homoplasmic, got wt (B01)");
    free(r);
    ns_genes_config_free(c);
}

static void test_qc_blank_amplified(void **st)
{
    (void)st;
    ns_genes_config_t *c = tcfg();
    char *r = rejected_reason(c, 4, "P1,C01,,ntc,fail,wt,fail,fail");
    assert_string_equal(r, "blank control GJB2:c.35delG expected fail, got wt (C01)");
    free(r);
    /* two problems: both listed */
    r = rejected_reason(c, 4, "P1,C01,,blank,het,fail,fail,wt");
    assert_string_equal(r, "blank control GJB2:c.235delC expected fail, got het (C01); "
                           "blank control GJB3:c.538C>T expected fail, got wt (C01)");
    free(r);
    ns_genes_config_free(c);
}

static void test_qc_missing_control(void **st)
{
    (void)st;
    ns_genes_config_t *c = tcfg();
    char *r = rejected_reason(c, 3, NULL);
    assert_string_equal(r, "positive control missing (sample_type pos_control)");
    free(r);
    r = rejected_reason(c, 2, NULL);          /* the config gives wild_type well A01 */
    assert_string_equal(r, "wild_type control missing (well A01)");
    free(r);
    ns_genes_config_free(c);
}

/* One good, one rejected, one quarantined plate: every well is counted once. */
static void test_nothing_lost(void **st)
{
    (void)st;
    ns_genes_config_t *c = tcfg();
    char *t[3];
    t[0] = variant_plate(0, NULL);
    t[1] = variant_plate(4, "P2,C01,,ntc,fail,fail,wt,fail");
    for (char *p = t[1]; (p = strstr(p, "P1,")); ) p[1] = '2';
    t[2] = variant_plate(6, "P3,E01,S9,patient,wt,wt,wt,maybe");
    for (char *p = t[2]; (p = strstr(p, "P1,")); ) p[1] = '3';
    ns_genes_night_t g;
    ns_findings_t fs;
    run_texts(&g, &fs, c, t, 3);
    const ns_genes_summary_t *s = &g.sum;
    assert_int_equal(g.plates[0].status, NS_GPLATE_ACCEPTED);
    assert_int_equal(g.plates[1].status, NS_GPLATE_REJECTED);
    assert_int_equal(g.plates[2].status, NS_GPLATE_QUARANTINED);
    assert_int_equal(s->n_plates, 3);
    assert_int_equal(s->accepted + s->rejected + s->quarantined, 3);
    assert_int_equal(s->wells_read, 15);
    assert_int_equal(s->wells_quarantined, 5);
    assert_int_equal(s->controls, 6);
    assert_int_equal(s->hold, 2);
    assert_int_equal(s->tested, 2);
    assert_int_equal(s->wells_read, s->wells_quarantined + s->controls + s->hold + s->tested);
    assert_int_equal(s->tested, s->negative + s->positive + s->incomplete);
    assert_int_equal(fs.n, 1);
    for (int k = 0; k < 3; k++) free(t[k]);
    ns_findings_free(&fs);
    ns_genes_night_free(&g);
    ns_genes_config_free(c);
}

/* ---- ingest errors: one message at the exact line and column ---------------------------- */

static void expect_quarantine(const ns_genes_config_t *c, const char *text, size_t len, const char *where_what,
                              int64_t wells)
{
    char name[32];
    snprintf(name, sizeof name, "q%04d.csv", file_no++);
    char *path = write_plate(name, text, len);
    ns_genes_night_t g;
    ns_findings_t fs = { 0 };
    assert_int_equal(ns_genes_ingest(&g, c, &path, 1), 1);
    ns_genes_evaluate(&g, &fs, NULL, NULL);
    assert_int_equal(g.plates[0].status, NS_GPLATE_QUARANTINED);
    char *want = ns_asprintf("%s:%s", path, where_what);
    assert_non_null(g.plates[0].error);
    assert_string_equal(g.plates[0].error, want);
    assert_int_equal(g.plates[0].n_wells, wells);
    assert_int_equal(g.sum.wells_quarantined, wells);
    assert_int_equal(g.n, 0);
    assert_int_equal(fs.n, 0);
    free(want);
    ns_findings_free(&fs);
    ns_genes_night_free(&g);
    unlink(path);
    free(path);
}

static void quarantine_line(const ns_genes_config_t *c, int line, const char *repl, const char *where_what)
{
    char *t = variant_plate(line, repl);
    expect_quarantine(c, t, strlen(t), where_what, repl || line == 0 ? 5 : 4);
    free(t);
}

static void test_ingest_errors(void **st)
{
    (void)st;
    ns_genes_config_t *c = tcfg();
    /* header: an unknown locus column (col 98), a configured locus missing */
    quarantine_line(c, 1, HDR ",GJB2:c.109G>A",
                    "1:98: column 'GJB2:c.109G>A' is not a locus of the gene config (loci are named GENE:variant, "
                    "e.g. GJB2:c.235delC; other vendor columns go in ignore_columns)");
    quarantine_line(c, 1, "plate_id,well,sample_id,sample_type,GJB2:c.235delC,GJB2:c.35delG,MT-RNR1:m.1555A>G",
                    "1:1: missing column for locus GJB3:c.538C>T: every configured locus must be on the plate "
                    "(a kit that does not test it needs a gene config without it)");
    quarantine_line(c, 1, "plate_id,well,sample_id,sample_type,GJB2:c.235delC,GJB2:235delC,MT-RNR1:m.1555A>G,GJB3:c.538C>T",
                    "1:52: columns 5 ('GJB2:c.235delC') and 6 ('GJB2:235delC') both hold locus GJB2:c.235delC");
    /* rows */
    quarantine_line(c, 5, "P1,D01,S1,patient,hom,wt,wt,mutant",
                    "5:29: call 'mutant' in column GJB3:c.538C>T is not one of wt, het, hom, heteroplasmic, homoplasmic, fail");
    quarantine_line(c, 5, "P1,D01,S1,patient,hom,wt,,wt",
                    "5:26: empty call in column MT-RNR1:m.1555A>G (every locus needs a call: fail for no amplification)");
    quarantine_line(c, 5, "P1,D01,S1,patient,hom,wt,het,wt",
                    "5:26: call 'het' in column MT-RNR1:m.1555A>G: a mitochondrial locus is wt, heteroplasmic, homoplasmic or fail");
    quarantine_line(c, 5, "P1,D01,S1,patient,heteroplasmic,wt,wt,wt",
                    "5:19: call 'heteroplasmic' in column GJB2:c.235delC: a nuclear locus is wt, het, hom or fail");
    quarantine_line(c, 6, "P1,D01,S2,patient,wt,wt,wt,wt", "6:4: duplicate well D01 (first at line 5)");
    quarantine_line(c, 6, "P1,I01,S2,patient,wt,wt,wt,wt", "6:4: well 'I01' is not on a 96-well plate (A01-H12)");
    quarantine_line(c, 6, "P1,E1x,S2,patient,wt,wt,wt,wt", "6:4: well 'E1x' is not a well name (expected A01-H12)");
    quarantine_line(c, 6, "P1,E01,S2,patient,wt,wt,wt", "6:27: row has 7 fields, the header has 8 (truncated row)");
    quarantine_line(c, 6, "P1,E01,S2,patient,wt,wt,wt,wt,wt", "6:31: row has 9 fields, the header has 8");
    quarantine_line(c, 6, "P2,E01,S2,patient,wt,wt,wt,wt",
                    "6:1: plate_id 'P2' differs from 'P1' above: one file must hold one plate");
    quarantine_line(c, 6, "P1,E01,S2,qc_low,wt,wt,wt,wt",
                    "6:11: unknown sample_type 'qc_low' (expected one of: patient, wt_control, pos_control, blank, ntc)");
    quarantine_line(c, 6, "P1,E01,,patient,wt,wt,wt,wt", "6:8: empty sample_id in a patient well");
    /* the layout of configured control wells */
    quarantine_line(c, 6, "P1,E01,,wt_control,wt,wt,wt,wt",
                    "6:9: well E01 holds the wild_type control, but the gene config places it at A01");
    quarantine_line(c, 2, "P1,A01,S0,patient,wt,wt,wt,wt",
                    "2:11: well A01 holds a patient, but the gene config says wild_type control");
    /* an ignored vendor column is skipped; a file with a header only has no rows */
    const char *only = HDR "\n";
    expect_quarantine(c, only, strlen(only), "1:1: no data rows after the header", 0);
    ns_genes_config_free(c);
}

static void test_ingest_encodings(void **st)
{
    (void)st;
    ns_genes_config_t *c = tcfg();
    /* UTF-8 BOM, CRLF, an ignored column, calls in capitals, an alias column */
    const char *t =
        "\xEF\xBB\xBFplate_id,well,sample_id,sample_type,GJB2:235delC,GJB2:c.35delG,MT-RNR1:m.1555A>G,GJB3:c.538C>T,Operator\r\n"
        "P1,A01,,WT_CONTROL,WT,WT,WT,WT,li\r\n"
        "P1,B01,POS,pos_control,HET,wt,Heteroplasmic,wt,li\r\n"
        "P1,C01,,Blank,FAIL,fail,fail,fail,li\r\n"
        "P1,D1,S1,Patient,het,het,wt,wt,li\r\n";
    char *tt = ns_strdup(t);
    ns_genes_night_t g;
    ns_findings_t fs;
    run_texts(&g, &fs, c, &tt, 1);
    assert_null(g.plates[0].error);
    assert_int_equal(g.plates[0].status, NS_GPLATE_ACCEPTED);
    assert_int_equal(fs.n, 1);
    assert_string_equal(fs.v[0].code, "gene:GJB2:biallelic");
    assert_string_equal(arg(&fs.v[0], "well"), "D01");
    ns_findings_free(&fs);
    ns_genes_night_free(&g);
    free(tt);

    /* GBK: a sample id in Chinese ("张1" = D5 C5 31) */
    const char *gbk =
        HDR "\n"
        "P1,A01,,wt_control,wt,wt,wt,wt\n"
        "P1,B01,,pos_control,het,wt,homoplasmic,wt\n"
        "P1,C01,,ntc,fail,fail,fail,fail\n"
        "P1,D01,\xD5\xC5" "1,patient,wt,fail,wt,wt\n";
    tt = ns_strdup(gbk);
    run_texts(&g, &fs, c, &tt, 1);
    assert_null(g.plates[0].error);
    assert_string_equal(g.plates[0].encoding, "gbk");
    assert_int_equal(fs.n, 1);
    assert_string_equal(fs.v[0].sample_id, "\xE5\xBC\xA0" "1");
    assert_string_equal(fs.v[0].code, "gene:fail");
    ns_findings_free(&fs);
    ns_genes_night_free(&g);
    free(tt);
    ns_genes_config_free(c);
}

/* A plate_id read twice in one night: the later file is quarantined. */
static void test_duplicate_plate(void **st)
{
    (void)st;
    ns_genes_config_t *c = tcfg();
    char *t[2] = { variant_plate(0, NULL), variant_plate(0, NULL) };
    ns_genes_night_t g;
    ns_findings_t fs;
    run_texts(&g, &fs, c, t, 2);
    assert_int_equal(g.plates[0].status, NS_GPLATE_ACCEPTED);
    assert_int_equal(g.plates[1].status, NS_GPLATE_QUARANTINED);
    assert_non_null(strstr(g.plates[1].error, ":2:1: plate_id 'P1' was already read from "));
    assert_int_equal(g.sum.wells_quarantined, 5);
    assert_int_equal(fs.n, 1);
    for (int k = 0; k < 2; k++) free(t[k]);
    ns_findings_free(&fs);
    ns_genes_night_free(&g);
    ns_genes_config_free(c);
}

/* ---- config validation ----------------------------------------------------------------- */

static int has_err(const ns_panel_errs_t *e, int line, int col, const char *part)
{
    for (int i = 0; i < e->n; i++)
        if (e->v[i].pos.line == line && e->v[i].pos.col == col && strstr(e->v[i].msg, part)) return 1;
    return 0;
}

static void test_config_errors(void **st)
{
    (void)st;
    const char *bad =
        "genes:\n"                                                                           /* 1 */
        "  plate_wells: 100\n"                                                               /* 2 */
        "  colour: red\n"                                                                    /* 3 */
        "  loci:\n"                                                                          /* 4 */
        "    - {gene: GJB2, variant: c.235delC, class: pathogenic}\n"                        /* 5 */
        "    - {gene: GJB2, variant: c.235delC, class: pathogenic}\n"                        /* 6 */
        "    - {gene: GJB2, variant: 235delC, class: pathogenic}\n"                          /* 7 */
        "    - {gene: MT-RNR1, variant: m.1555A>G, class: ototoxic}\n"                       /* 8 */
        "    - {gene: MT-RNR1, variant: m.1494C>T, class: aminoglycoside_susceptibility}\n"  /* 9 */
        "  controls:\n"                                                                      /* 10 */
        "    - {name: wt, sample_type: patient, expect: {default: wt}}\n"                    /* 11 */
        "    - {name: pos, sample_type: pos, expect: {\"GJB2:c.235delC\": het, \"MT-RNR1:m.1494C>T\": het}}\n" /* 12 */
        "    - {name: ntc, sample_type: ntc, wells: [A13], expect: {default: nocall}}\n"     /* 13 */
        "  rules:\n"                                                                         /* 14 */
        "    - {id: r1, when: {gene: GJB9, min_alleles: 1}, action: counselling, priority: routine, reason: gene_x}\n" /* 15 */
        "    - {id: r1, when: {class: uncertain, min_alleles: 1}, action: counselling, priority: routine, reason: gene_x}\n" /* 16 */
        "    - {id: r3, when: {min_alleles: 1.5}, action: counselling, priority: soon, reason: gene_x}\n" /* 17 */
        "    - {id: r4, when: {max_alleles: 0}, action: counselling, priority: routine, reason: gene_x}\n" /* 18 */
        "    - {id: r5, when: {min_alleles: 2, max_alleles: 1}, action: phone, priority: routine, reason: x}\n" /* 19 */
        "    - {id: r6, when: {call: fail}, action: repeat_specimen, priority: routine, due: {days_of_life: 0}, reason: gene_x}\n"; /* 20 */
    ns_panel_errs_t e;
    ns_genes_config_t *c = load_text(bad, &e);
    assert_null(c);
    print_errs(&e);
    assert_true(has_err(&e, 2, 16, "'plate_wells' must be 96 or 384, not 100"));
    assert_true(has_err(&e, 3, 3, "unknown key 'colour' in genes"));
    assert_true(has_err(&e, 6, 7, "locus GJB2:c.235delC is listed twice (first at line 5)"));
    assert_true(has_err(&e, 7, 29, "variant '235delC' must be in HGVS form"));
    assert_true(has_err(&e, 8, 50, "'class' must be one of pathogenic, aminoglycoside_susceptibility, uncertain, not 'ototoxic'"));
    assert_true(has_err(&e, 11, 31, "sample_type 'patient' is a patient spelling"));
    assert_true(has_err(&e, 12, 90, "het is not a call of mitochondrial locus MT-RNR1:m.1494C>T"));
    assert_true(has_err(&e, 12, 45, "no call for locus MT-RNR1:m.1555A>G"));
    assert_true(has_err(&e, 13, 45, "well 'A13' is not on a 96-well plate"));
    assert_true(has_err(&e, 13, 69, "'nocall' is not a call"));
    assert_true(has_err(&e, 15, 29, "unknown gene 'GJB9'"));
    assert_true(has_err(&e, 16, 12, "rule id 'r1' is used twice (first at line 15)"));
    assert_true(has_err(&e, 16, 22, "no configured locus has the gene(s) and class(es) given"));
    assert_false(has_err(&e, 15, 22, "no configured locus"));     /* follows from GJB9 */
    assert_false(has_err(&e, 17, 22, "needs min_alleles"));       /* it has one, a bad one */
    assert_true(has_err(&e, 17, 36, "'min_alleles' must be a whole number from 0 to 64, not 1.5"));
    assert_true(has_err(&e, 17, 73, "'priority' must be one of critical, urgent, routine, not 'soon'"));
    assert_true(has_err(&e, 18, 22, "would fire for a baby whose every call is wt"));
    assert_true(has_err(&e, 19, 52, "max_alleles 1 is below min_alleles 2"));
    assert_true(has_err(&e, 19, 64, "'action' must be one of audiology_referral"));
    assert_true(has_err(&e, 19, 98, "reason 'x' must be a translation key starting with gene_"));
    assert_true(has_err(&e, 20, 100, "'days_of_life' must be a whole number from 1 to 3650, not 0"));
    ns_panel_errs_free(&e);

    /* a second document, an empty file */
    c = load_text("genes: {}\n---\nx: 1\n", &e);
    assert_null(c);
    assert_true(e.n >= 1);
    ns_panel_errs_free(&e);
    c = load_text("", &e);
    assert_null(c);
    assert_true(has_err(&e, 1, 1, "empty file"));
    ns_panel_errs_free(&e);
}

static int setup(void **st)
{
    (void)st;
    strcpy(tmpdir, "/tmp/ns_test_genes_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **st)
{
    (void)st;
    DIR *d = opendir(tmpdir);       /* files a failed test did not get to remove */
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (de->d_name[0] != '.') {
            char *p = ns_asprintf("%s/%s", tmpdir, de->d_name);
            unlink(p);
            free(p);
        }
    if (d) closedir(d);
    return rmdir(tmpdir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_config),
        cmocka_unit_test(test_lang_covers_rules),
        cmocka_unit_test(test_mt_heteroplasmic),
        cmocka_unit_test(test_gjb2_hom_biallelic),
        cmocka_unit_test(test_gjb2_compound_het),
        cmocka_unit_test(test_slc26a4_carrier),
        cmocka_unit_test(test_gjb3_counselling_only),
        cmocka_unit_test(test_fail_repeat),
        cmocka_unit_test(test_fail_blocks_counting),
        cmocka_unit_test(test_all_wt_nothing),
        cmocka_unit_test(test_order_summary_lookup),
        cmocka_unit_test(test_threads_same),
        cmocka_unit_test(test_qc_good_plate),
        cmocka_unit_test(test_qc_wt_control_wrong),
        cmocka_unit_test(test_qc_blank_amplified),
        cmocka_unit_test(test_qc_missing_control),
        cmocka_unit_test(test_nothing_lost),
        cmocka_unit_test(test_ingest_errors),
        cmocka_unit_test(test_ingest_encodings),
        cmocka_unit_test(test_duplicate_plate),
        cmocka_unit_test(test_config_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
