/* qc_config.c — load and check a QC materials file (see qc_config.h and configs/qc.yaml).
 *
 * Built on the shared YAML helpers (yaml_doc.h), like panel.c: every node keeps its
 * position, so each problem is reported at the line and column of the value that causes
 * it, and checking goes on after a problem so that whoever edits a lot's targets sees
 * everything that is wrong in one go.  Unknown keys are errors: a misspelt "tragets:"
 * silently ignored would leave a control level unjudged, and a plate released on
 * controls nobody looked at.
 *
 * The file is checked against a panel because two of its facts live there: analyte names
 * (targets are stored by panel analyte index; any name or alias of the panel is accepted)
 * and the plate geometry (which well names exist).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include "batch.h"
#include "ingest.h"
#include "qc_config.h"
#include "sha256.h"
#include "util.h"
#include "yaml_doc.h"

typedef struct {
    ns_yaml_t y;
    ns_qc_config_t *q;
    const ns_panel_t *p;
    int *well_line;          /* per well: line where the map first names it (0 = not yet) */
} ld_t;

/* plate_map keys and the NS_TYPE_* each one sets; type t is map_keys[t - 1] */
static const char *const map_keys[] = { "qc_low", "qc_high", "blank", NULL };
static const char *const level_keys[] = { "qc_low", "qc_high", NULL };
static const char *const action_names[] = { "warning", "reject", NULL };

/* Defaults for absent keys (documented in configs/qc.yaml). */
#define DEF_BLANK_FRACTION 0.2
#define DEF_MEDIAN_WINDOW 20
#define DEF_MEDIAN_MIN_PATIENTS 20
#define DEF_HISTORY_PLATES 30

/* A scalar as a finite number: 1, or 0 when it is not one (nothing reported). */
static int scalar_num(const yaml_node_t *n, double *out)
{
    const char *s = ns_yaml_scalar(n);
    if (!s || !*s) return 0;
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (*end || errno || !isfinite(x)) return 0;
    *out = x;
    return 1;
}

/* An optional whole number in [lo, hi]; *out keeps its default when the key is absent. */
static void get_int(ld_t *L, yaml_node_t *m, const char *key, int lo, int hi, int *out,
                    const char *what, const char *why)
{
    double x;
    if (ns_yaml_num(&L->y, m, key, &x, what) != 1) return;
    if (x != floor(x) || x < lo || x > hi) {
        ns_yaml_err(&L->y, ns_yaml_get(&L->y, m, key), "%s: '%s' must be a whole number from %d to %d%s, not %g",
                    what, key, lo, hi, why, x);
        return;
    }
    *out = (int)x;
}

/* ---- sections ---------------------------------------------------------------------- */

static void load_plate_map(ld_t *L, yaml_node_t *qc, yaml_node_t *v)
{
    ns_qc_config_t *q = L->q;
    if (!v) {
        ns_yaml_err(&L->y, qc, "qc: missing 'plate_map' (which wells hold qc_low, qc_high and blank)");
        return;
    }
    if (!ns_yaml_keys(&L->y, v, "qc.plate_map", map_keys)) return;
    for (int t = NS_TYPE_QC_LOW; t <= NS_TYPE_BLANK; t++) {
        const char *tn = map_keys[t - 1];
        yaml_node_t *lst = ns_yaml_get(&L->y, v, tn);
        if (!lst) {
            if (t != NS_TYPE_BLANK)
                ns_yaml_err(&L->y, v, "qc.plate_map: missing '%s' (every plate needs at least one %s well)", tn, tn);
            continue;
        }
        if (lst->type != YAML_SEQUENCE_NODE) {
            ns_yaml_err(&L->y, lst, "qc.plate_map.%s must be a list of wells, e.g. [A01]", tn);
            continue;
        }
        if (lst->data.sequence.items.top == lst->data.sequence.items.start && t != NS_TYPE_BLANK) {
            ns_yaml_err(&L->y, lst, "qc.plate_map.%s is empty: every plate needs at least one %s well", tn, tn);
            continue;
        }
        for (yaml_node_item_t *it = lst->data.sequence.items.start; it < lst->data.sequence.items.top; it++) {
            yaml_node_t *n = ns_yaml_node(&L->y, *it);
            const char *s = ns_yaml_scalar(n);
            char w[4];
            int r = s ? ns_parse_well(s, q->rows, q->cols, w) : -1;
            if (r == -2) {
                ns_yaml_err(&L->y, n, "qc.plate_map.%s: well '%s' is not on a %d-well plate (A01-%c%02d)",
                            tn, s, q->rows * q->cols, 'A' + q->rows - 1, q->cols);
                continue;
            }
            if (r < 0) {
                ns_yaml_err(&L->y, n, "qc.plate_map.%s: '%s' is not a well name (expected A01-%c%02d)",
                            tn, s ? s : "(a list or mapping)", 'A' + q->rows - 1, q->cols);
                continue;
            }
            int wi = (w[0] - 'A') * q->cols + (w[1] - '0') * 10 + (w[2] - '0') - 1;
            if (L->well_line[wi]) {
                ns_yaml_err(&L->y, n, "qc.plate_map: well %s is listed twice (first as %s at line %d)",
                            w, map_keys[q->well_type[wi] - 1], L->well_line[wi]);
                continue;
            }
            L->well_line[wi] = ns_yaml_pos(n).line;
            q->well_type[wi] = (int8_t)t;
            q->n_ctl_wells[t]++;
        }
    }
}

/* rules: a list of rule names (1-2s warns, the others reject), or a mapping
 * {rule: reject | warning | off} that sets each rule's action. */
static int rule_bit(const char *s)
{
    for (int b = 0; s && ns_westgard_rule_name(b); b++)
        if (ns_strcaseeq(s, ns_westgard_rule_name(b))) return b;
    return -1;
}

static void unknown_rule(ld_t *L, yaml_node_t *n, const char *s)
{
    char list[80] = "";
    for (int b = 0; ns_westgard_rule_name(b); b++) {
        strncat(list, b ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, ns_westgard_rule_name(b), sizeof list - strlen(list) - 1);
    }
    ns_yaml_err(&L->y, n, "qc.rules: unknown rule '%s' (known: %s)", s ? s : "(not text)", list);
}

static void load_rules(ld_t *L, yaml_node_t *v)
{
    ns_qc_config_t *q = L->q;
    q->rules = NS_WG_ALL;
    q->reject_rules = NS_WG_REJECT_RULES;
    if (!v) return;
    if (v->type == YAML_MAPPING_NODE) {
        static const char *const acts[] = { "off", "warning", "reject", NULL };
        q->rules = q->reject_rules = 0;
        for (yaml_node_pair_t *pr = v->data.mapping.pairs.start; pr < v->data.mapping.pairs.top; pr++) {
            yaml_node_t *kn = ns_yaml_node(&L->y, pr->key), *vn = ns_yaml_node(&L->y, pr->value);
            const char *ks = ns_yaml_scalar(kn), *vs = ns_yaml_scalar(vn);
            int bit = rule_bit(ks);
            if (bit < 0) { unknown_rule(L, kn, ks); continue; }
            if (q->rules & (1u << bit) || q->reject_rules & (1u << bit)) {
                ns_yaml_err(&L->y, kn, "qc.rules: rule '%s' is listed twice", ns_westgard_rule_name(bit));
                continue;
            }
            int act = -1;
            for (int k = 0; vs && acts[k]; k++) if (strcmp(vs, acts[k]) == 0) act = k;
            if (act < 0) {
                ns_yaml_err(&L->y, vn, "qc.rules: '%s' must be reject, warning or off, not '%s'",
                            ns_westgard_rule_name(bit), vs ? vs : "(not text)");
                continue;
            }
            if (act >= 1) q->rules |= 1u << bit;
            if (act == 2) q->reject_rules |= 1u << bit;
        }
        if (!q->reject_rules)
            ns_yaml_err(&L->y, v, "qc.rules: no rule rejects: no control could ever hold a plate");
        return;
    }
    if (v->type != YAML_SEQUENCE_NODE) {
        ns_yaml_err(&L->y, v, "qc.rules must be a list of rule names, e.g. [\"1-3s\", \"2-2s\"], "
                    "or a mapping of rule names to reject, warning or off");
        return;
    }
    if (v->data.sequence.items.top == v->data.sequence.items.start) {
        ns_yaml_err(&L->y, v, "qc.rules is empty: no control could ever reject a plate "
                    "(leave the key out for all six rules)");
        return;
    }
    q->rules = 0;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *n = ns_yaml_node(&L->y, *it);
        const char *s = ns_yaml_scalar(n);
        int bit = rule_bit(s);
        if (bit < 0) { unknown_rule(L, n, s); continue; }
        if (q->rules & (1u << bit)) {
            ns_yaml_err(&L->y, n, "qc.rules: rule '%s' is listed twice", ns_westgard_rule_name(bit));
            continue;
        }
        q->rules |= 1u << bit;
    }
    q->reject_rules = q->rules & NS_WG_REJECT_RULES;
    if (q->rules && !q->reject_rules)
        ns_yaml_err(&L->y, v, "qc.rules: only 1-2s is on, and it only warns: no control could "
                    "ever hold a plate (add a rejecting rule such as \"1-3s\")");
}

static void load_blank(ld_t *L, yaml_node_t *v)
{
    static const char *const keys[] = { "max_fraction_of_qc_low", "action", NULL };
    ns_qc_config_t *q = L->q;
    q->blank_max_fraction = DEF_BLANK_FRACTION;
    q->blank_action = NS_QC_ACT_WARNING;
    if (!v || !ns_yaml_keys(&L->y, v, "qc.blank", keys)) return;
    double f;
    if (ns_yaml_num(&L->y, v, "max_fraction_of_qc_low", &f, "qc.blank") == 1) {
        if (!(f > 0 && f <= 1))
            ns_yaml_err(&L->y, ns_yaml_get(&L->y, v, "max_fraction_of_qc_low"),
                        "qc.blank: 'max_fraction_of_qc_low' must be above 0 and at most 1 "
                        "(a fraction of the qc_low target mean), not %g", f);
        else q->blank_max_fraction = f;
    }
    q->blank_action = ns_yaml_enum(&L->y, v, "action", action_names, NS_QC_ACT_WARNING, "qc.blank");
}

static void load_median(ld_t *L, yaml_node_t *v)
{
    static const char *const keys[] = { "max_shift", "window_plates", "min_patients", NULL };
    ns_qc_config_t *q = L->q;
    q->median_max_shift = NAN;
    q->median_window = DEF_MEDIAN_WINDOW;
    q->median_min_patients = DEF_MEDIAN_MIN_PATIENTS;
    if (!v || !ns_yaml_keys(&L->y, v, "qc.median", keys)) return;
    double x;
    if (ns_yaml_num(&L->y, v, "max_shift", &x, "qc.median") == 1) {
        if (!(x > 0 && x <= 1))
            ns_yaml_err(&L->y, ns_yaml_get(&L->y, v, "max_shift"),
                        "qc.median: 'max_shift' must be above 0 and at most 1 (0.3 = 30 %%), not %g", x);
        else q->median_max_shift = x;
    }
    get_int(L, v, "window_plates", 3, 1000, &q->median_window, "qc.median", "");
    get_int(L, v, "min_patients", 1, q->rows * q->cols, &q->median_min_patients, "qc.median",
            " (patient wells on one plate)");
}

static void load_targets(ld_t *L, yaml_node_t *lv, int l, const char *what)
{
    const ns_panel_t *p = L->p;
    ns_qc_level_t *lev = &L->q->level[l];
    yaml_node_t *tg = ns_yaml_get(&L->y, lv, "targets");
    if (!tg) {
        ns_yaml_err(&L->y, lv, "%s: missing 'targets' (analyte: [mean, sd])", what);
        return;
    }
    if (tg->type != YAML_MAPPING_NODE) {
        ns_yaml_err(&L->y, tg, "%s: 'targets' must be a mapping of analyte: [mean, sd]", what);
        return;
    }
    if (tg->data.mapping.pairs.top == tg->data.mapping.pairs.start) {
        ns_yaml_err(&L->y, tg, "%s: 'targets' is empty: no analyte would be judged on this level", what);
        return;
    }
    int *line = ns_calloc((size_t)p->n_analytes + 1, sizeof *line);
    for (yaml_node_pair_t *pr = tg->data.mapping.pairs.start; pr < tg->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = ns_yaml_node(&L->y, pr->key), *v = ns_yaml_node(&L->y, pr->value);
        const char *ks = ns_yaml_scalar(k);
        int a = ks ? ns_panel_find_analyte(p, ks) : -1;
        if (a < 0) {
            ns_yaml_err(&L->y, k, "%s: unknown analyte '%s' (not a name or alias in panel %s)",
                        what, ks ? ks : "(not text)", p->name);
            continue;
        }
        if (line[a]) {
            ns_yaml_err(&L->y, k, "%s: analyte %s has two targets (first at line %d)", what,
                        p->analytes[a].name, line[a]);
            continue;
        }
        line[a] = ns_yaml_pos(k).line;
        double mean, sd;
        yaml_node_t *nm = NULL, *ns = NULL;
        if (v->type == YAML_SEQUENCE_NODE && v->data.sequence.items.top - v->data.sequence.items.start == 2) {
            nm = ns_yaml_node(&L->y, v->data.sequence.items.start[0]);
            ns = ns_yaml_node(&L->y, v->data.sequence.items.start[1]);
        }
        if (!nm || !scalar_num(nm, &mean) || !scalar_num(ns, &sd)) {
            ns_yaml_err(&L->y, v, "%s: the target of %s must be [mean, sd], two numbers in umol/L, "
                        "e.g. [49.0, 3.92]", what, p->analytes[a].name);
            continue;
        }
        int ok = 1;
        if (mean < 0) {
            ns_yaml_err(&L->y, nm, "%s: target mean %g of %s is negative", what, mean, p->analytes[a].name);
            ok = 0;
        }
        if (!(sd > 0)) {
            ns_yaml_err(&L->y, ns, "%s: target SD %g of %s must be above 0", what, sd, p->analytes[a].name);
            ok = 0;
        }
        if (ok) { lev->mean[a] = mean; lev->sd[a] = sd; }
    }
    free(line);
}

static void load_materials(ld_t *L, yaml_node_t *qc, yaml_node_t *v)
{
    static const char *const keys[] = { "lot", "targets", NULL };
    if (!v) {
        ns_yaml_err(&L->y, qc, "qc: missing 'materials' (lot and targets of qc_low and qc_high)");
        return;
    }
    if (!ns_yaml_keys(&L->y, v, "qc.materials", level_keys)) return;
    for (int l = 0; l < NS_QC_LEVELS; l++) {
        char what[64];
        snprintf(what, sizeof what, "qc.materials.%s", level_keys[l]);
        yaml_node_t *lv = ns_yaml_get(&L->y, v, level_keys[l]);
        if (!lv) {
            ns_yaml_err(&L->y, v, "qc.materials: missing '%s' (its lot and targets)", level_keys[l]);
            continue;
        }
        if (!ns_yaml_keys(&L->y, lv, what, keys)) continue;
        ns_yaml_str(&L->y, lv, "lot", L->q->level[l].lot, sizeof L->q->level[l].lot, 1, what);
        load_targets(L, lv, l, what);
    }
}

/* ---- entry points ------------------------------------------------------------------ */

ns_qc_config_t *ns_qc_load_mem(const char *name, const char *text, size_t len,
                               const ns_panel_t *panel, ns_panel_errs_t *errs)
{
    memset(errs, 0, sizeof *errs);
    if (!panel) {
        ns_yaml_errs_add(errs, 0, 0, "no panel to check the QC file against");
        return NULL;
    }
    ld_t L;
    memset(&L, 0, sizeof L);
    L.p = panel;
    ns_qc_config_t *q = L.q = ns_calloc(1, sizeof *q);
    q->path = ns_strdup(name);
    q->text = ns_strndup(text, len);
    ns_sha256_hex(text, len, q->sha256);
    q->rows = panel->input.plate_rows;
    q->cols = panel->input.plate_cols;
    q->well_type = ns_calloc((size_t)q->rows * (size_t)q->cols, sizeof *q->well_type);
    for (int i = 0; i < q->rows * q->cols; i++) q->well_type[i] = NS_TYPE_PATIENT;
    L.well_line = ns_calloc((size_t)q->rows * (size_t)q->cols, sizeof *L.well_line);
    for (int l = 0; l < NS_QC_LEVELS; l++) {
        q->level[l].mean = ns_malloc(((size_t)panel->n_analytes + 1) * sizeof(double));
        q->level[l].sd = ns_malloc(((size_t)panel->n_analytes + 1) * sizeof(double));
        for (int a = 0; a < panel->n_analytes; a++) q->level[l].mean[a] = q->level[l].sd[a] = NAN;
    }
    q->rules = NS_WG_ALL;
    q->reject_rules = NS_WG_REJECT_RULES;
    q->blank_max_fraction = DEF_BLANK_FRACTION;
    q->blank_action = NS_QC_ACT_WARNING;
    q->median_max_shift = NAN;
    q->median_window = DEF_MEDIAN_WINDOW;
    q->median_min_patients = DEF_MEDIAN_MIN_PATIENTS;
    q->history_plates = DEF_HISTORY_PLATES;

    if (ns_yaml_parse(&L.y, text, len, errs) < 0) {
        free(L.well_line);
        ns_qc_free(q);
        return NULL;
    }
    yaml_node_t *root = ns_yaml_root(&L.y);
    static const char *const top[] = { "qc", NULL };
    static const char *const qkeys[] = { "plate_map", "rules", "blank", "median", "history_plates",
                                         "materials", NULL };
    if (!root) {
        ns_yaml_errs_add(errs, 1, 1, "empty file: expected a 'qc:' section (plate_map, rules, materials...)");
    } else if (ns_yaml_keys(&L.y, root, "the top level", top)) {
        yaml_node_t *qc = ns_yaml_get(&L.y, root, "qc");
        if (!qc)
            ns_yaml_err(&L.y, root, "missing 'qc:' section (plate_map, rules, materials...)");
        else if (ns_yaml_keys(&L.y, qc, "qc", qkeys)) {
            load_plate_map(&L, qc, ns_yaml_get(&L.y, qc, "plate_map"));
            load_rules(&L, ns_yaml_get(&L.y, qc, "rules"));
            load_blank(&L, ns_yaml_get(&L.y, qc, "blank"));
            load_median(&L, ns_yaml_get(&L.y, qc, "median"));
            get_int(&L, qc, "history_plates", 0, 100000, &q->history_plates, "qc",
                    " (0 = read no earlier nights)");
            load_materials(&L, qc, ns_yaml_get(&L.y, qc, "materials"));
        }
    }
    ns_yaml_done(&L.y);
    free(L.well_line);

    if (errs->n) { ns_qc_free(q); return NULL; }
    free(errs->text);
    errs->text = NULL;
    q->n_ctl_wells[NS_TYPE_PATIENT] = q->rows * q->cols - q->n_ctl_wells[NS_TYPE_QC_LOW]
                                    - q->n_ctl_wells[NS_TYPE_QC_HIGH] - q->n_ctl_wells[NS_TYPE_BLANK];
    return q;
}

ns_qc_config_t *ns_qc_load(const char *path, const ns_panel_t *panel, ns_panel_errs_t *errs)
{
    char *text;
    size_t len;
    memset(errs, 0, sizeof *errs);
    if (ns_read_file(path, &text, &len) < 0) {
        ns_yaml_errs_add(errs, 0, 0, "cannot read: %s", strerror(errno));
        return NULL;
    }
    ns_qc_config_t *q = ns_qc_load_mem(path, text, len, panel, errs);
    free(text);
    return q;
}

void ns_qc_free(ns_qc_config_t *q)
{
    if (!q) return;
    for (int l = 0; l < NS_QC_LEVELS; l++) {
        free(q->level[l].mean);
        free(q->level[l].sd);
    }
    free(q->well_type);
    free(q->path);
    free(q->text);
    free(q);
}

int ns_qc_expected_type(const ns_qc_config_t *q, const char *well)
{
    char w[4];
    if (!q || !well || ns_parse_well(well, q->rows, q->cols, w) < 0) return NS_TYPE_PATIENT;
    return q->well_type[(w[0] - 'A') * q->cols + (w[1] - '0') * 10 + (w[2] - '0') - 1];
}
