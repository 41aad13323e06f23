/* test_hdf5.c — the HDF5 batch archive: write a small hand-made batch, read it back with
 * the HDF5 C API, and check layout, values (NaN included), strings, mode, atomicity, the
 * absence of personal data, and failure without leftovers.
 *
 * Set NS_TEST_KEEP=1 to keep the temporary directories (their paths are printed), e.g. to
 * run scripts/check_h5.py or h5dump on the files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <hdf5.h>
#include <omp.h>
#include "../../pipeline/batch.h"
#include "../../pipeline/plate_qc.h"
#include "../../pipeline/sha256.h"
#include "../../pipeline/write_hdf5.h"

/* ------------------------------------------------------------------ fixture */

static const char PANEL_TEXT[] =
    "# test panel\n"
    "panel:\n"
    "  name: test-panel\n"
    "  version: \"1.2\"\n"
    "  kit: NeoBase 2\n"
    "analytes: [Phe, Tyr, C8]\n"
    "ratios:\n"
    "  - name: Phe/Tyr\n"
    "conditions:\n"
    "  - code: PKU   # \xe8\x8b\xaf\xe4\xb8\x99\xe9\x85\xae\xe5\xb0\xbf\xe7\x97\x87\n";

#define N_ROWS 5

typedef struct {
    ns_panel_t p;
    ns_analyte_t an[3];
    ns_ratio_t ra[1];
    ns_condition_t co[1];
    ns_marker_t mk[2];
    int slot_cond[2], slot_marker[2];
    int num[1], den[1];

    ns_batch_t b;
    ns_plate_t plates[2];
    int32_t plate[N_ROWS];
    char well[N_ROWS][4];
    char *sample_id[N_ROWS];
    uint8_t type[N_ROWS];
    double conc[3 * N_ROWS];
    uint8_t cell[3 * N_ROWS];
    int64_t mrow[N_ROWS];
    double ratio[N_ROWS];
    uint8_t flag[2 * N_ROWS];
    uint8_t call[N_ROWS];
    uint8_t state[N_ROWS];
    ns_manifest_row_t mrows[4];
    char *merrors[1];
} fx_t;

static double conc_of(int a, int i) { return 10.0 * (a + 1) + 0.25 * i; }

static void fx_init(fx_t *x)
{
    memset(x, 0, sizeof *x);
    ns_panel_t *p = &x->p;
    p->path = "configs/test-panel.yaml";
    p->text = (char *)PANEL_TEXT;
    p->text_len = sizeof PANEL_TEXT - 1;
    ns_sha256_hex(PANEL_TEXT, p->text_len, p->sha256);
    strcpy(p->name, "test-panel");
    strcpy(p->version, "1.2");
    strcpy(p->kit, "NeoBase 2");

    static const char *an[3][3] = { { "Phe", "umol/L", "29573-3" }, { "Tyr", "umol/L", "35572-7" },
                                    { "C8", "umol/L", "" } };
    for (int a = 0; a < 3; a++) {
        strcpy(x->an[a].name, an[a][0]);
        strcpy(x->an[a].unit, an[a][1]);
        strcpy(x->an[a].loinc, an[a][2]);
    }
    p->analytes = x->an;
    p->n_analytes = 3;

    strcpy(x->ra[0].name, "Phe/Tyr");
    x->num[0] = 0;
    x->den[0] = 1;
    x->ra[0].num = x->num; x->ra[0].n_num = 1;
    x->ra[0].den = x->den; x->ra[0].n_den = 1;
    p->ratios = x->ra;
    p->n_ratios = 1;

    x->mk[0] = (ns_marker_t){ .marker = 0, .role = NS_ROLE_PRIMARY,
                              .thr = { NS_DIR_HIGH, 100.0, 120.0, 360.0 } };
    x->mk[1] = (ns_marker_t){ .marker = 3, .role = NS_ROLE_SECONDARY,
                              .thr = { NS_DIR_HIGH, NAN, 2.0, NAN } };
    strcpy(x->co[0].code, "PKU");
    x->co[0].name = "phenylketonuria";
    x->co[0].markers = x->mk;
    x->co[0].n_markers = 2;
    x->co[0].rule = NS_RULE_ANY;
    x->co[0].require_secondary = 1;
    p->conds = x->co;
    p->n_conds = 1;
    x->slot_cond[0] = 0; x->slot_marker[0] = 0;
    x->slot_cond[1] = 0; x->slot_marker[1] = 1;
    p->slot_cond = x->slot_cond;
    p->slot_marker = x->slot_marker;
    p->n_slots = 2;

    ns_batch_t *b = &x->b;
    b->panel = p;
    x->plates[0] = (ns_plate_t){ .path = "night/plates/P0001.csv", .name = "P0001.csv",
                                 .id = "PL-0001", .encoding = "utf-8", .status = NS_PLATE_OK,
                                 .n_wells = N_ROWS, .first_row = 0 };
    ns_sha256_hex("plate one", 9, x->plates[0].sha256);
    x->plates[1] = (ns_plate_t){ .path = "night/plates/P0002.csv", .name = "P0002.csv",
                                 .encoding = "gbk", .status = NS_PLATE_QUARANTINED,
                                 .error = "night/plates/P0002.csv:3:9: cell 'O,12' in column "
                                          "Phe is not a number",
                                 .n_wells = 7, .first_row = -1 };
    ns_sha256_hex("plate two", 9, x->plates[1].sha256);
    b->plates = x->plates;
    b->n_plates = 2;

    b->n = N_ROWS;
    static const char *wells[N_ROWS] = { "A01", "A02", "A03", "H12", "B01" };
    static const char *ids[N_ROWS] = { "S1", "S2", "S3", "QC-L1", "S5-unmatched" };
    static const uint8_t types[N_ROWS] = { NS_TYPE_PATIENT, NS_TYPE_PATIENT, NS_TYPE_PATIENT,
                                           NS_TYPE_QC_LOW, NS_TYPE_PATIENT };
    static const int64_t mrow[N_ROWS] = { 0, 1, 2, -1, -1 };
    static const uint8_t state[N_ROWS] = { NS_STATE_NEGATIVE, NS_STATE_RECALL, NS_STATE_INVALID,
                                           NS_STATE_CONTROL, NS_STATE_UNMATCHED };
    for (int i = 0; i < N_ROWS; i++) {
        x->plate[i] = 0;
        memcpy(x->well[i], wells[i], 4);
        x->sample_id[i] = (char *)ids[i];
        x->type[i] = types[i];
        x->mrow[i] = mrow[i];
        x->state[i] = state[i];
        for (int a = 0; a < 3; a++) {
            x->conc[a * N_ROWS + i] = conc_of(a, i);
            x->cell[a * N_ROWS + i] = NS_CELL_VALUE;
        }
        x->ratio[i] = x->conc[i] / x->conc[N_ROWS + i];
        x->flag[i] = (uint8_t)(i % 4);
        x->flag[N_ROWS + i] = (uint8_t)((i + 1) % 5);
        x->call[i] = (uint8_t)(i % 5);
    }
    x->conc[1 * N_ROWS + 2] = NAN;          /* Tyr of S3 missing ("ND") */
    x->cell[1 * N_ROWS + 2] = NS_CELL_ND;
    x->ratio[2] = NAN;
    x->conc[2 * N_ROWS + 0] = 0.03;         /* C8 of S1 "<0.05" */
    x->cell[2 * N_ROWS + 0] = NS_CELL_BELOW;
    b->plate = x->plate;
    b->well = x->well;
    b->sample_id = x->sample_id;
    b->type = x->type;
    b->conc = x->conc;
    b->cell = x->cell;
    b->mrow = x->mrow;
    b->ratio = x->ratio;
    b->flag = x->flag;
    b->call = x->call;
    b->state = x->state;

    static const char *msid[4] = { "S1", "S2", "S3", "S9-unplated" };
    static const char *inf[4] = { "INF-001", "INF-002", "INF-003", "INF-009-NOT-ON-A-PLATE" };
    for (int k = 0; k < 4; k++) {
        x->mrows[k] = (ns_manifest_row_t){
            .sample_id = (char *)msid[k], .infant_id = (char *)inf[k], .specimen = "first",
            .sex = "F", .birth_weight_g = 3000.0 + k, .gestational_age_days = 270.0 + k,
            .birth_time = "2026-11-20T08:00:00", .collection_time = "2026-11-22T08:00:00",
            .age_hours = 48.0, .feeding = "breast", .transfusion = 0, .antibiotics = 1,
            .nicu = k == 1 ? 1 : 0, .hospital = "General Hospital",
            .mother_name = "Zhang Meimei-SECRET", .contact_phone = "13800138000",
            .line = k + 2, .n_wells = k < 3 ? 1 : 0 };
    }
    x->mrows[2].birth_weight_g = NAN;
    x->mrows[2].nicu = -1;
    x->mrows[3].hospital = "A Hospital Whose Name Is Longer Than The Others";  /* no card */
    b->manifest.path = "night/manifest.csv";
    ns_sha256_hex("manifest", 8, b->manifest.sha256);
    strcpy(b->manifest.encoding, "utf-8");
    b->manifest.rows = x->mrows;
    b->manifest.n = b->manifest.m = 4;
    b->manifest.ok = 1;
    /* a rejected row whose message names a personal-data column: must stay in the log */
    x->merrors[0] = "night/manifest.csv:9:40: contact_phone '1380013800X' is not a number";
    b->manifest.errors = x->merrors;
    b->manifest.n_errors = 1;
    b->manifest.n_rejected = 1;
    b->wells_read = N_ROWS + 7;
    b->n_quarantined_wells = 7;
}

/* ------------------------------------------------------------------ helpers */

static char *mkdir_tmp(void)
{
    char *d = strdup("/tmp/ns_test_hdf5_XXXXXX");
    assert_non_null(d);
    assert_non_null(mkdtemp(d));
    return d;
}

static void rm_tree(char *dir)
{
    if (getenv("NS_TEST_KEEP")) {
        fprintf(stderr, "kept %s\n", dir);
        free(dir);
        return;
    }
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char p[512];
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
    free(dir);
}

/* Number of entries in dir other than . and .., and whether any name contains ".tmp". */
static int count_entries(const char *dir, int *tmp_seen)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    *tmp_seen = 0;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        n++;
        if (strstr(e->d_name, ".tmp")) *tmp_seen = 1;
    }
    closedir(d);
    return n;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    buf[n] = 0;
    *len = (size_t)n;
    return buf;
}

static int contains(const char *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(hay + i, needle, k) == 0) return 1;
    return 0;
}

/* Decoded scan: count occurrences of needle in every link name, attribute (name and value),
 * compound field name and dataset content (read through HDF5, so decompressed).  Uses only
 * unversioned HDF5 calls so it builds against 1.10 and 1.12+. */
static int scan_buf(const void *p, size_t n, const char *needle)
{
    return p && n ? contains(p, n, needle) : 0;
}

static int scan_type_names(hid_t t, const char *needle)
{
    int hits = 0;
    if (H5Tget_class(t) != H5T_COMPOUND) return 0;
    int nm = H5Tget_nmembers(t);
    for (int k = 0; k < nm; k++) {
        char *name = H5Tget_member_name(t, (unsigned)k);
        hits += scan_buf(name, strlen(name), needle);
        H5free_memory(name);
    }
    return hits;
}

static int scan_values(hid_t t, hid_t space, int is_attr, hid_t id, const char *needle)
{
    hssize_t np = H5Sget_simple_extent_npoints(space);
    size_t sz = H5Tget_size(t);
    int hits = 0;
    if (np <= 0) return 0;
    if (H5Tis_variable_str(t) > 0) {
        char **v = calloc((size_t)np, sizeof *v);
        assert_true((is_attr ? H5Aread(id, t, v) : H5Dread(id, t, H5S_ALL, H5S_ALL,
                                                            H5P_DEFAULT, v)) >= 0);
        for (hssize_t k = 0; k < np; k++) {
            if (v[k]) hits += scan_buf(v[k], strlen(v[k]), needle);
            H5free_memory(v[k]);
        }
        free(v);
        return hits;
    }
    assert_false(H5Tdetect_class(t, H5T_VLEN) > 0);  /* the layout has no other vlen data */
    hid_t nt = H5Tget_native_type(t, H5T_DIR_DEFAULT);
    size_t nsz = H5Tget_size(nt);
    char *buf = calloc((size_t)np, nsz > sz ? nsz : sz);
    assert_true((is_attr ? H5Aread(id, nt, buf)
                         : H5Dread(id, nt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf)) >= 0);
    hits += scan_buf(buf, (size_t)np * nsz, needle);
    free(buf);
    H5Tclose(nt);
    return hits;
}

static int scan_obj(hid_t o, const char *needle)
{
    int hits = 0;
    for (hsize_t k = 0;; k++) {                         /* attributes */
        hid_t a = H5Aopen_by_idx(o, ".", H5_INDEX_NAME, H5_ITER_INC, k, H5P_DEFAULT,
                                 H5P_DEFAULT);
        if (a < 0) break;
        char name[256];
        H5Aget_name(a, sizeof name, name);
        hits += scan_buf(name, strlen(name), needle);
        hid_t t = H5Aget_type(a), sp = H5Aget_space(a);
        hits += scan_type_names(t, needle) + scan_values(t, sp, 1, a, needle);
        H5Sclose(sp);
        H5Tclose(t);
        H5Aclose(a);
    }
    if (H5Iget_type(o) == H5I_GROUP) {
        H5G_info_t gi;
        assert_true(H5Gget_info(o, &gi) >= 0);
        for (hsize_t k = 0; k < gi.nlinks; k++) {
            char name[256];
            assert_true(H5Lget_name_by_idx(o, ".", H5_INDEX_NAME, H5_ITER_INC, k, name,
                                           sizeof name, H5P_DEFAULT) > 0);
            hits += scan_buf(name, strlen(name), needle);
            hid_t c = H5Oopen(o, name, H5P_DEFAULT);
            assert_true(c >= 0);
            hits += scan_obj(c, needle);
            H5Oclose(c);
        }
    } else if (H5Iget_type(o) == H5I_DATASET) {
        hid_t t = H5Dget_type(o), sp = H5Dget_space(o);
        hits += scan_type_names(t, needle) + scan_values(t, sp, 0, o, needle);
        H5Sclose(sp);
        H5Tclose(t);
    }
    return hits;
}

static int scan_decoded(const char *path, const char *needle)
{
    H5E_auto2_t fn;
    void *data;
    H5Eget_auto2(H5E_DEFAULT, &fn, &data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);     /* H5Aopen_by_idx past the end fails */
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t root = H5Oopen(f, "/", H5P_DEFAULT);
    int hits = scan_obj(root, needle);
    H5Oclose(root);
    H5Fclose(f);
    H5Eset_auto2(H5E_DEFAULT, fn, data);
    return hits;
}

/* String attribute (variable or fixed length) as a malloc'd string. */
static char *attr_str(hid_t obj, const char *name)
{
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    assert_true(a >= 0);
    hid_t t = H5Aget_type(a);
    assert_int_equal(H5Tget_class(t), H5T_STRING);
    char *out;
    if (H5Tis_variable_str(t) > 0) {
        char *s = NULL;
        assert_true(H5Aread(a, t, &s) >= 0);
        out = strdup(s);
        H5free_memory(s);
    } else {
        size_t n = H5Tget_size(t);
        out = calloc(n + 1, 1);
        assert_true(H5Aread(a, t, out) >= 0);
    }
    H5Tclose(t);
    H5Aclose(a);
    return out;
}

static int64_t attr_i64(hid_t obj, const char *name)
{
    int64_t v = -99;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    assert_true(a >= 0);
    assert_true(H5Aread(a, H5T_NATIVE_INT64, &v) >= 0);
    H5Aclose(a);
    return v;
}

/* Dimensions of a dataset; returns the rank. */
static int ds_dims(hid_t f, const char *name, hsize_t dims[2])
{
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    assert_true(d >= 0);
    hid_t s = H5Dget_space(d);
    int rank = H5Sget_simple_extent_ndims(s);
    dims[0] = dims[1] = 0;
    H5Sget_simple_extent_dims(s, dims, NULL);
    H5Sclose(s);
    H5Dclose(d);
    return rank;
}

static void read_ds(hid_t f, const char *name, hid_t mtype, void *buf)
{
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    assert_true(d >= 0);
    assert_true(H5Dread(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    H5Dclose(d);
}

/* Memory type for a fixed-length string.  The archive's strings are UTF-8 and HDF5 does
 * not convert between character sets, so readers must ask for UTF-8 too. */
static hid_t str_t(size_t n)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, n);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

/* Fixed-length string list: element k (width up to 63). */
static void strlist_at(hid_t f, const char *name, int n, int k, char out[64])
{
    hid_t t = str_t(64);
    char (*buf)[64] = calloc((size_t)n, 64);
    read_ds(f, name, t, buf);
    memcpy(out, buf[k], 64);
    free(buf);
    H5Tclose(t);
}


static int link_exists(hid_t f, const char *name) { return H5Lexists(f, name, H5P_DEFAULT) > 0; }

/* Run ns_write_hdf5 with stderr captured into err (up to errsz bytes). */
static int write_capture(const char *path, const ns_batch_t *b, const char *cmd, char *err,
                         size_t errsz)
{
    fflush(stderr);
    char tmpl[] = "/tmp/ns_test_hdf5_errXXXXXX";
    int fd = mkstemp(tmpl), saved = dup(2);
    assert_true(fd >= 0 && saved >= 0);
    dup2(fd, 2);
    int r = ns_write_hdf5(path, b, NULL, cmd);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    lseek(fd, 0, SEEK_SET);
    ssize_t k = read(fd, err, errsz - 1);
    err[k > 0 ? k : 0] = 0;
    close(fd);
    unlink(tmpl);
    return r;
}

/* Cross-check with the independent readers when they are there (tests run from the
 * repository root): scripts/check_h5.py (h5py) and h5dump -H.  Skipped, with a note, when
 * /usr/bin/python3 cannot import h5py or h5dump is missing. */
static void check_external(const char *path, long expect_rows)
{
    char cmd[1024];
    if (access("scripts/check_h5.py", R_OK) == 0 && access("/usr/bin/python3", X_OK) == 0
        && system("/usr/bin/python3 -c 'import h5py' >/dev/null 2>&1") == 0) {
        snprintf(cmd, sizeof cmd, "/usr/bin/python3 scripts/check_h5.py '%s' --expect-rows %ld",
                 path, expect_rows);
        assert_int_equal(system(cmd), 0);
    } else {
        printf("note: scripts/check_h5.py or h5py not available, cross-check skipped\n");
    }
    if (system("command -v h5dump >/dev/null 2>&1") == 0) {
        snprintf(cmd, sizeof cmd, "h5dump -H '%s' >/dev/null", path);
        assert_int_equal(system(cmd), 0);
    }
}

/* ------------------------------------------------------------------ tests */

static void test_roundtrip(void **state)
{
    (void)state;
    fx_t *x = malloc(sizeof *x);
    assert_non_null(x);
    fx_init(x);
    char *dir = mkdir_tmp(), path[512];
    snprintf(path, sizeof path, "%s/night.h5", dir);

    assert_int_equal(ns_write_hdf5(path, &x->b, NULL, "neoscreen run -t 2 night/"), 0);

    /* mode 0644, and only the final file is left */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644);
    int tmp_seen;
    assert_int_equal(count_entries(dir, &tmp_seen), 1);
    assert_int_equal(tmp_seen, 0);

    /* no personal data anywhere: neither in the raw bytes nor in any decoded (decompressed)
     * dataset, attribute, field or link name */
    static const char *pii[] = { "mother_name", "contact_phone", "Zhang Meimei", "13800138000",
                                 "1380013800X", "2026-11-20T08" /* birth time */ };
    size_t len;
    char *bytes = read_all(path, &len);
    for (size_t k = 0; k < sizeof pii / sizeof pii[0]; k++)
        assert_false(contains(bytes, len, pii[k]));
    assert_true(contains(bytes, len, "panel_sha256"));         /* attribute names are raw */
    free(bytes);
    for (size_t k = 0; k < sizeof pii / sizeof pii[0]; k++)
        assert_int_equal(scan_decoded(path, pii[k]), 0);
    /* positive controls: the decoded scan does see compressed table contents */
    assert_true(scan_decoded(path, "INF-001") > 0);
    assert_true(scan_decoded(path, "General Hospital") > 0);
    assert_true(scan_decoded(path, "PL-0001") > 0);
    assert_true(scan_decoded(path, "neoscreen run -t 2") > 0);  /* a vlen attribute */
    assert_true(scan_decoded(path, "gestational_age_days") > 0); /* a field name */

    assert_true(H5Fis_hdf5(path) > 0);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);

    /* root attributes */
    hid_t root = H5Gopen2(f, "/", H5P_DEFAULT);
    struct { const char *name, *want; } sa[] = {
        { "format", "neoscreen-batch/1" }, { "command_line", "neoscreen run -t 2 night/" },
        { "panel_name", "test-panel" }, { "panel_version", "1.2" }, { "panel_kit", "NeoBase 2" },
        { "panel_sha256", x->p.sha256 },
    };
    for (size_t k = 0; k < sizeof sa / sizeof sa[0]; k++) {
        char *s = attr_str(root, sa[k].name);
        assert_string_equal(s, sa[k].want);
        free(s);
    }
    char *sv = attr_str(root, "software_version");
    assert_true(strlen(sv) > 0);
    free(sv);
    assert_int_equal(attr_i64(root, "n_samples"), N_ROWS);
    assert_int_equal(attr_i64(root, "wells_read"), N_ROWS + 7);
    assert_int_equal(attr_i64(root, "n_quarantined_wells"), 7);
    H5Gclose(root);

    /* /config/panel_yaml: the exact bytes, and its digest */
    {
        hid_t d = H5Dopen2(f, "/config/panel_yaml", H5P_DEFAULT);
        assert_true(d >= 0);
        hid_t t = H5Dget_type(d);
        size_t n = H5Tget_size(t);
        assert_int_equal(n, sizeof PANEL_TEXT - 1);
        char *buf = calloc(n + 1, 1);
        assert_true(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
        assert_memory_equal(buf, PANEL_TEXT, n);
        char hex[65];
        ns_sha256_hex(buf, n, hex);
        char *sha = attr_str(d, "sha256");
        assert_string_equal(sha, hex);
        assert_string_equal(sha, x->p.sha256);
        free(sha);
        free(buf);
        H5Tclose(t);
        H5Dclose(d);
    }

    /* /analytes */
    hsize_t dims[2];
    assert_int_equal(ds_dims(f, "/analytes/values", dims), 2);
    assert_int_equal(dims[0], N_ROWS);
    assert_int_equal(dims[1], 3);
    double v[N_ROWS][3];
    read_ds(f, "/analytes/values", H5T_NATIVE_DOUBLE, v);
    for (int i = 0; i < N_ROWS; i++)
        for (int a = 0; a < 3; a++) {
            double want = x->conc[a * N_ROWS + i];
            if (isnan(want)) assert_true(isnan(v[i][a]));
            else assert_true(v[i][a] == want);
        }
    assert_true(isnan(v[2][1]));
    assert_true(v[0][2] == 0.03);
    uint8_t cen[N_ROWS][3];
    read_ds(f, "/analytes/censoring", H5T_NATIVE_UINT8, cen);
    assert_int_equal(cen[2][1], NS_CELL_ND);
    assert_int_equal(cen[0][2], NS_CELL_BELOW);
    assert_int_equal(cen[4][0], NS_CELL_VALUE);
    char s64[64];
    strlist_at(f, "/analytes/names", 3, 1, s64);
    assert_string_equal(s64, "Tyr");
    strlist_at(f, "/analytes/units", 3, 0, s64);
    assert_string_equal(s64, "umol/L");
    strlist_at(f, "/analytes/loinc", 3, 0, s64);
    assert_string_equal(s64, "29573-3");
    strlist_at(f, "/analytes/loinc", 3, 2, s64);
    assert_string_equal(s64, "");

    /* doubles: chunked by column (one column, up to 65536 rows, per chunk), no filter
     * (deflate saves ~15 % on them at most of the write and read time: write_hdf5.c);
     * codes: chunked the same way, shuffle + deflate */
    {
        hid_t d = H5Dopen2(f, "/analytes/values", H5P_DEFAULT);
        hid_t p = H5Dget_create_plist(d);
        assert_int_equal(H5Pget_layout(p), H5D_CHUNKED);
        hsize_t ch[2];
        assert_int_equal(H5Pget_chunk(p, 2, ch), 2);
        assert_int_equal(ch[0], N_ROWS);
        assert_int_equal(H5Pget_nfilters(p), 0);
        H5Pclose(p);
        H5Dclose(d);
    }
    {
        hid_t d = H5Dopen2(f, "/analytes/censoring", H5P_DEFAULT);
        hid_t p = H5Dget_create_plist(d);
        assert_int_equal(H5Pget_layout(p), H5D_CHUNKED);
        hsize_t ch[2];
        assert_int_equal(H5Pget_chunk(p, 2, ch), 2);
        assert_int_equal(ch[0], N_ROWS);
        assert_int_equal(ch[1], 1);
        int nf = H5Pget_nfilters(p), shuffle = 0, deflate = 0;
        for (int k = 0; k < nf; k++) {
            unsigned flags, cd[4];
            size_t ncd = 4;
            H5Z_filter_t id = H5Pget_filter2(p, (unsigned)k, &flags, &ncd, cd, 0, NULL, NULL);
            if (id == H5Z_FILTER_SHUFFLE) shuffle = 1;
            if (id == H5Z_FILTER_DEFLATE) { deflate = 1; assert_int_equal(cd[0], 1); }
        }
        assert_true(shuffle && deflate);
        H5Pclose(p);
        H5Dclose(d);
    }

    /* /ratios */
    assert_int_equal(ds_dims(f, "/ratios/values", dims), 2);
    assert_int_equal(dims[0], N_ROWS);
    assert_int_equal(dims[1], 1);
    double rv[N_ROWS];
    read_ds(f, "/ratios/values", H5T_NATIVE_DOUBLE, rv);
    assert_true(rv[0] == x->ratio[0]);
    assert_true(isnan(rv[2]));
    strlist_at(f, "/ratios/names", 1, 0, s64);
    assert_string_equal(s64, "Phe/Tyr");

    /* /flags: values transposed from slot-major; the slot table */
    assert_int_equal(ds_dims(f, "/flags/values", dims), 2);
    assert_int_equal(dims[1], 2);
    uint8_t fl[N_ROWS][2];
    read_ds(f, "/flags/values", H5T_NATIVE_UINT8, fl);
    for (int i = 0; i < N_ROWS; i++) {
        assert_int_equal(fl[i][0], x->flag[i]);
        assert_int_equal(fl[i][1], x->flag[N_ROWS + i]);
    }
    {
        typedef struct { char cond[16], marker[16], role[16], dir[8]; int32_t mi;
                         double cutoff, border, crit; } slot_t;
        hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(slot_t));
        hid_t s16 = str_t(16), s8 = str_t(8);
        H5Tinsert(t, "condition", offsetof(slot_t, cond), s16);
        H5Tinsert(t, "marker", offsetof(slot_t, marker), s16);
        H5Tinsert(t, "role", offsetof(slot_t, role), s16);
        H5Tinsert(t, "direction", offsetof(slot_t, dir), s8);
        H5Tinsert(t, "marker_index", offsetof(slot_t, mi), H5T_NATIVE_INT32);
        H5Tinsert(t, "cutoff", offsetof(slot_t, cutoff), H5T_NATIVE_DOUBLE);
        H5Tinsert(t, "borderline", offsetof(slot_t, border), H5T_NATIVE_DOUBLE);
        H5Tinsert(t, "critical", offsetof(slot_t, crit), H5T_NATIVE_DOUBLE);
        slot_t sl[2];
        memset(sl, 0, sizeof sl);
        assert_int_equal(ds_dims(f, "/flags/slots", dims), 1);
        assert_int_equal(dims[0], 2);
        read_ds(f, "/flags/slots", t, sl);
        assert_string_equal(sl[0].cond, "PKU");
        assert_string_equal(sl[0].marker, "Phe");
        assert_string_equal(sl[0].role, "primary");
        assert_string_equal(sl[0].dir, "high");
        assert_true(sl[0].cutoff == 120.0 && sl[0].border == 100.0 && sl[0].crit == 360.0);
        assert_string_equal(sl[1].marker, "Phe/Tyr");
        assert_int_equal(sl[1].mi, 3);
        assert_string_equal(sl[1].role, "secondary");
        assert_true(sl[1].cutoff == 2.0 && isnan(sl[1].border) && isnan(sl[1].crit));
        H5Tclose(s16);
        H5Tclose(s8);
        H5Tclose(t);
    }

    /* /calls */
    assert_int_equal(ds_dims(f, "/calls/values", dims), 2);
    assert_int_equal(dims[0], N_ROWS);
    assert_int_equal(dims[1], 1);
    uint8_t cl[N_ROWS];
    read_ds(f, "/calls/values", H5T_NATIVE_UINT8, cl);
    assert_memory_equal(cl, x->call, N_ROWS);
    strlist_at(f, "/calls/conditions", 1, 0, s64);
    assert_string_equal(s64, "PKU");
    {
        hid_t d = H5Dopen2(f, "/calls/values", H5P_DEFAULT);
        assert_true(H5Aexists(d, "names") > 0);
        char *dm = attr_str(d, "dims");
        assert_string_equal(dm, "sample,condition");
        free(dm);
        H5Dclose(d);
    }

    /* /samples */
    {
        typedef struct { char sid[32], pid[32], well[8], type[16], state[32], inf[32], hosp[32];
                         int32_t line; double bw, ga; int8_t nicu, abx; } srow_t;
        hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(srow_t));
        hid_t s32 = str_t(32), s8 = str_t(8), s16 = str_t(16);
        H5Tinsert(t, "sample_id", offsetof(srow_t, sid), s32);
        H5Tinsert(t, "plate_id", offsetof(srow_t, pid), s32);
        H5Tinsert(t, "well", offsetof(srow_t, well), s8);
        H5Tinsert(t, "sample_type", offsetof(srow_t, type), s16);
        H5Tinsert(t, "state", offsetof(srow_t, state), s32);
        H5Tinsert(t, "infant_id", offsetof(srow_t, inf), s32);
        H5Tinsert(t, "hospital", offsetof(srow_t, hosp), s32);
        H5Tinsert(t, "manifest_line", offsetof(srow_t, line), H5T_NATIVE_INT32);
        H5Tinsert(t, "birth_weight_g", offsetof(srow_t, bw), H5T_NATIVE_DOUBLE);
        H5Tinsert(t, "gestational_age_days", offsetof(srow_t, ga), H5T_NATIVE_DOUBLE);
        H5Tinsert(t, "nicu", offsetof(srow_t, nicu), H5T_NATIVE_INT8);
        H5Tinsert(t, "antibiotics", offsetof(srow_t, abx), H5T_NATIVE_INT8);
        srow_t r[N_ROWS];
        memset(r, 0, sizeof r);
        assert_int_equal(ds_dims(f, "/samples", dims), 1);
        assert_int_equal(dims[0], N_ROWS);
        read_ds(f, "/samples", t, r);
        assert_string_equal(r[0].sid, "S1");
        assert_string_equal(r[0].pid, "PL-0001");
        assert_string_equal(r[0].well, "A01");
        assert_string_equal(r[0].type, "patient");
        assert_string_equal(r[0].inf, "INF-001");
        assert_string_equal(r[0].hosp, "General Hospital");
        assert_int_equal(r[0].line, 2);
        assert_true(r[0].bw == 3000.0 && r[0].ga == 270.0);
        assert_int_equal(r[0].nicu, 0);
        assert_int_equal(r[1].nicu, 1);
        assert_int_equal(r[1].abx, 1);
        assert_true(isnan(r[2].bw));                /* NaN in a compound field */
        assert_int_equal(r[2].nicu, -1);
        assert_string_equal(r[3].type, "qc_low");
        assert_string_equal(r[3].well, "H12");
        /* the unmatched row: no manifest fields */
        assert_string_equal(r[4].sid, "S5-unmatched");
        assert_string_equal(r[4].inf, "");
        assert_string_equal(r[4].hosp, "");
        assert_int_equal(r[4].line, -1);
        assert_true(isnan(r[4].bw) && isnan(r[4].ga));
        assert_int_equal(r[4].nicu, -1);
        assert_int_equal(r[4].abx, -1);
        for (int i = 0; i < N_ROWS; i++)
            assert_string_equal(r[i].state, ns_state_name(x->state[i]));
        H5Tclose(s32);
        H5Tclose(s8);
        H5Tclose(s16);
        H5Tclose(t);

        /* the table has no field for personal data */
        hid_t d = H5Dopen2(f, "/samples", H5P_DEFAULT);
        hid_t ft = H5Dget_type(d);
        /* each text column as wide as its longest value + NUL, over the cards only: the
         * manifest row without a card (a longer infant_id and hospital) widens nothing */
        size_t w_state = 0;
        for (int i = 0; i < N_ROWS; i++)
            if (strlen(ns_state_name(x->state[i])) + 1 > w_state) w_state = strlen(ns_state_name(x->state[i])) + 1;
        const struct { const char *name; size_t width; } want[] = {
            { "sample_id", sizeof "S5-unmatched" }, { "plate_id", sizeof "PL-0001" }, { "well", 4 },
            { "sample_type", sizeof "patient" }, { "state", w_state }, { "infant_id", sizeof "INF-001" },
            { "specimen", sizeof "first" }, { "sex", sizeof "F" }, { "hospital", sizeof "General Hospital" },
            { "feeding", sizeof "breast" } };
        for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
            const int mi = H5Tget_member_index(ft, want[k].name);
            assert_true(mi >= 0);
            hid_t mt = H5Tget_member_type(ft, (unsigned)mi);
            if (H5Tget_size(mt) != want[k].width)
                fail_msg("/samples %s: %zu bytes wide, want %zu", want[k].name, H5Tget_size(mt), want[k].width);
            H5Tclose(mt);
        }
        assert_true(H5Tget_member_index(ft, "mother_name") < 0);
        assert_true(H5Tget_member_index(ft, "contact_phone") < 0);
        assert_true(H5Tget_member_index(ft, "birth_time") < 0);
        assert_true(H5Tget_member_index(ft, "feeding") >= 0);
        H5Tclose(ft);
        H5Dclose(d);
    }
    uint8_t sc[N_ROWS];
    read_ds(f, "/samples_state_code", H5T_NATIVE_UINT8, sc);
    assert_memory_equal(sc, x->state, N_ROWS);

    /* /inputs */
    {
        typedef struct { char kind[16], name[32], status[16], enc[8], sha[65], err[128];
                         int64_t nw; } irow_t;
        hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(irow_t));
        hid_t s16 = str_t(16), s32 = str_t(32), s8 = str_t(8), s65 = str_t(65), s128 = str_t(128);
        H5Tinsert(t, "kind", offsetof(irow_t, kind), s16);
        H5Tinsert(t, "name", offsetof(irow_t, name), s32);
        H5Tinsert(t, "status", offsetof(irow_t, status), s16);
        H5Tinsert(t, "encoding", offsetof(irow_t, enc), s8);
        H5Tinsert(t, "sha256", offsetof(irow_t, sha), s65);
        H5Tinsert(t, "error", offsetof(irow_t, err), s128);
        H5Tinsert(t, "n_wells", offsetof(irow_t, nw), H5T_NATIVE_INT64);
        irow_t r[3];
        memset(r, 0, sizeof r);
        assert_int_equal(ds_dims(f, "/inputs", dims), 1);
        assert_int_equal(dims[0], 3);
        read_ds(f, "/inputs", t, r);
        assert_string_equal(r[0].kind, "plate");
        assert_string_equal(r[0].name, "P0001.csv");
        assert_string_equal(r[0].status, "ok");
        assert_string_equal(r[0].sha, x->plates[0].sha256);
        assert_string_equal(r[0].err, "");
        assert_int_equal(r[0].nw, N_ROWS);
        assert_string_equal(r[1].status, "quarantined");
        assert_string_equal(r[1].enc, "gbk");
        assert_string_equal(r[1].err, x->plates[1].error);
        assert_int_equal(r[1].nw, 7);
        assert_string_equal(r[2].kind, "manifest");
        assert_string_equal(r[2].name, "manifest.csv");
        assert_string_equal(r[2].status, "ok");
        assert_int_equal(r[2].nw, 4);
        assert_string_equal(r[2].err, "1 rows rejected (see the run log)");
        H5Tclose(s16); H5Tclose(s32); H5Tclose(s8); H5Tclose(s65); H5Tclose(s128);
        H5Tclose(t);
    }

    /* /manifest_unplated */
    {
        typedef struct { char sid[32], inf[32]; int32_t line; } urow_t;
        hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(urow_t));
        hid_t s32 = str_t(32);
        H5Tinsert(t, "sample_id", offsetof(urow_t, sid), s32);
        H5Tinsert(t, "infant_id", offsetof(urow_t, inf), s32);
        H5Tinsert(t, "line", offsetof(urow_t, line), H5T_NATIVE_INT32);
        urow_t u[1];
        memset(u, 0, sizeof u);
        assert_int_equal(ds_dims(f, "/manifest_unplated", dims), 1);
        assert_int_equal(dims[0], 1);
        read_ds(f, "/manifest_unplated", t, u);
        assert_string_equal(u[0].sid, "S9-unplated");
        assert_string_equal(u[0].inf, "INF-009-NOT-ON-A-PLATE");
        assert_int_equal(u[0].line, 5);
        H5Tclose(s32);
        H5Tclose(t);
    }

    assert_true(H5Fclose(f) >= 0);
    check_external(path, N_ROWS);
    rm_tree(dir);
    free(x);
}

/* The same batch and command line give the same bytes; a rewrite replaces the file. */
static void test_deterministic_overwrite(void **state)
{
    (void)state;
    fx_t *x = malloc(sizeof *x);
    assert_non_null(x);
    fx_init(x);
    char *dir = mkdir_tmp(), a[512], b[512];
    snprintf(a, sizeof a, "%s/a.h5", dir);
    snprintf(b, sizeof b, "%s/b.h5", dir);
    assert_int_equal(ns_write_hdf5(a, &x->b, NULL, "cmd"), 0);
    assert_int_equal(ns_write_hdf5(b, &x->b, NULL, "cmd"), 0);
    size_t la, lb;
    char *ba = read_all(a, &la), *bb = read_all(b, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(ba, bb, la);
    free(ba);
    free(bb);

    /* overwrite a with a different batch: the new content is there */
    x->conc[0] = 99.5;
    assert_int_equal(ns_write_hdf5(a, &x->b, NULL, NULL), 0);
    hid_t f = H5Fopen(a, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    double v[N_ROWS][3];
    read_ds(f, "/analytes/values", H5T_NATIVE_DOUBLE, v);
    assert_true(v[0][0] == 99.5);
    hid_t root = H5Gopen2(f, "/", H5P_DEFAULT);
    char *cmd = attr_str(root, "command_line");
    assert_string_equal(cmd, "");
    free(cmd);
    H5Gclose(root);
    H5Fclose(f);
    int tmp_seen;
    assert_int_equal(count_entries(dir, &tmp_seen), 2);
    assert_int_equal(tmp_seen, 0);
    rm_tree(dir);
    free(x);
}

/* A batch of n rows (n > one chunk) built over the fixture's panel and manifest. */
typedef struct {
    int32_t *plate;
    char (*well)[4];
    char **sid;
    uint8_t *type, *cell, *flag, *call, *st;
    double *conc, *ratio;
    int64_t *mrow;
} big_t;

static void big_init(big_t *g, ns_batch_t *b, int64_t n)
{
    g->plate = calloc((size_t)n, sizeof *g->plate);
    g->well = calloc((size_t)n, 4);
    g->sid = calloc((size_t)n, sizeof *g->sid);
    g->type = calloc((size_t)n, 1);
    g->cell = calloc((size_t)n * 3, 1);
    g->flag = calloc((size_t)n * 2, 1);
    g->call = calloc((size_t)n, 1);
    g->st = calloc((size_t)n, 1);
    g->conc = calloc((size_t)n * 3, sizeof *g->conc);
    g->ratio = calloc((size_t)n, sizeof *g->ratio);
    g->mrow = calloc((size_t)n, sizeof *g->mrow);
    assert_true(g->plate && g->well && g->sid && g->type && g->cell && g->flag && g->call
                && g->st && g->conc && g->ratio && g->mrow);
    for (int64_t i = 0; i < n; i++) {
        memcpy(g->well[i], "A01", 4);
        g->sid[i] = i % 2 ? "odd" : "even-sample";
        g->mrow[i] = i % 3 == 0 ? 0 : -1;
        for (int a = 0; a < 3; a++) {
            g->conc[a * n + i] = a * 1e6 + (double)i;
            g->cell[a * n + i] = (uint8_t)((i + a) % 5);
        }
        g->ratio[i] = i % 7 == 0 ? NAN : (double)i / 3.0;
        g->flag[i] = (uint8_t)(i % 5);
        g->flag[n + i] = (uint8_t)((i / 5) % 5);
        g->call[i] = (uint8_t)((i / 3) % 5);
        g->st[i] = (uint8_t)(i % NS_STATE_N);
    }
    b->n = n;
    b->plates[0].n_wells = n;                   /* keep the nothing-lost arithmetic */
    b->wells_read = n + b->n_quarantined_wells;
    b->plate = g->plate; b->well = g->well; b->sample_id = g->sid; b->type = g->type;
    b->cell = g->cell; b->flag = g->flag; b->call = g->call; b->state = g->st;
    b->conc = g->conc; b->ratio = g->ratio; b->mrow = g->mrow;
}

static void big_free(big_t *g)
{
    free(g->plate); free(g->well); free(g->sid); free(g->type); free(g->cell);
    free(g->flag); free(g->call); free(g->st); free(g->conc); free(g->ratio); free(g->mrow);
}

/* More rows than one chunk: columns written chunk by chunk (the last one partial), tables
 * written in groups of chunks compressed in parallel; HDF5 reads them back as written. */
static void test_many_rows(void **state)
{
    (void)state;
    fx_t *x = malloc(sizeof *x);
    assert_non_null(x);
    fx_init(x);
    const int64_t n = 140000;       /* three chunks of 65536 rows, the last one partial */
    ns_batch_t *b = &x->b;
    big_t g;
    big_init(&g, b, n);
    double *conc = g.conc, *ratio = g.ratio;
    uint8_t *cell = g.cell, *flag = g.flag, *st = g.st;

    char *dir = mkdir_tmp(), path[512];
    snprintf(path, sizeof path, "%s/big.h5", dir);
    assert_int_equal(ns_write_hdf5(path, b, NULL, "big"), 0);

    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    double *v = malloc((size_t)n * 3 * sizeof *v), *rv = malloc((size_t)n * sizeof *rv);
    uint8_t *c = malloc((size_t)n * 3), *fl = malloc((size_t)n * 2), *sc = malloc((size_t)n);
    read_ds(f, "/analytes/values", H5T_NATIVE_DOUBLE, v);
    read_ds(f, "/analytes/censoring", H5T_NATIVE_UINT8, c);
    read_ds(f, "/ratios/values", H5T_NATIVE_DOUBLE, rv);
    read_ds(f, "/flags/values", H5T_NATIVE_UINT8, fl);
    read_ds(f, "/samples_state_code", H5T_NATIVE_UINT8, sc);
    int bad = 0;
    for (int64_t i = 0; i < n; i++) {
        for (int a = 0; a < 3; a++) {
            bad += v[i * 3 + a] != conc[a * n + i];
            bad += c[i * 3 + a] != cell[a * n + i];
        }
        bad += isnan(ratio[i]) ? !isnan(rv[i]) : rv[i] != ratio[i];
        bad += fl[i * 2] != flag[i] || fl[i * 2 + 1] != flag[n + i];
        bad += sc[i] != st[i];
    }
    assert_int_equal(bad, 0);
    {
        hid_t d = H5Dopen2(f, "/analytes/values", H5P_DEFAULT), p = H5Dget_create_plist(d);
        hsize_t ch[2];
        H5Pget_chunk(p, 2, ch);
        assert_int_equal(ch[0], 65536);
        assert_int_equal(ch[1], 1);
        H5Pclose(p);
        H5Dclose(d);
    }
    /* samples: spot-check a row in the last chunk */
    {
        typedef struct { char sid[16]; int32_t line; } srow_t;
        hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(srow_t)), s16 = str_t(16);
        H5Tinsert(t, "sample_id", offsetof(srow_t, sid), s16);
        H5Tinsert(t, "manifest_line", offsetof(srow_t, line), H5T_NATIVE_INT32);
        srow_t *r = calloc((size_t)n, sizeof *r);
        read_ds(f, "/samples", t, r);
        assert_string_equal(r[9999].sid, "odd");
        assert_string_equal(r[9996].sid, "even-sample");
        assert_int_equal(r[9999].line, 2);        /* 9999 % 3 == 0: manifest row 0 */
        assert_int_equal(r[9998].line, -1);
        free(r);
        H5Tclose(s16);
        H5Tclose(t);
    }
    H5Fclose(f);
    check_external(path, n);
    /* the same bytes at any thread count: chunks are compressed in parallel, written in
     * order (the file above was written with the default threads) */
    {
        const int th0 = omp_get_max_threads();
        char p1[512], p3[512];
        snprintf(p1, sizeof p1, "%s/big1.h5", dir);
        snprintf(p3, sizeof p3, "%s/big3.h5", dir);
        omp_set_num_threads(1);
        assert_int_equal(ns_write_hdf5(p1, b, NULL, "big"), 0);
        omp_set_num_threads(3);
        assert_int_equal(ns_write_hdf5(p3, b, NULL, "big"), 0);
        omp_set_num_threads(th0);
        size_t l0, l1, l3;
        char *b0 = read_all(path, &l0), *b1 = read_all(p1, &l1), *b3 = read_all(p3, &l3);
        assert_int_equal(l0, l1);
        assert_int_equal(l0, l3);
        assert_memory_equal(b0, b1, l0);
        assert_memory_equal(b0, b3, l0);
        free(b0);
        free(b1);
        free(b3);
    }
    free(v); free(rv); free(c); free(fl); free(sc);
    big_free(&g);
    rm_tree(dir);
    free(x);
}

/* An empty night (no plates, no rows, no manifest) still gives a readable archive; derived
 * arrays that were not computed are left out when there are rows. */
static void test_empty_and_not_computed(void **state)
{
    (void)state;
    fx_t *x = malloc(sizeof *x);
    assert_non_null(x);
    fx_init(x);
    char *dir = mkdir_tmp(), path[512];
    snprintf(path, sizeof path, "%s/empty.h5", dir);

    ns_batch_t e;
    memset(&e, 0, sizeof e);
    e.panel = &x->p;
    assert_int_equal(ns_write_hdf5(path, &e, NULL, "empty"), 0);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    hsize_t dims[2];
    assert_int_equal(ds_dims(f, "/samples", dims), 1);
    assert_int_equal(dims[0], 0);
    assert_int_equal(ds_dims(f, "/analytes/values", dims), 2);
    assert_int_equal(dims[0], 0);
    assert_int_equal(dims[1], 3);
    assert_int_equal(ds_dims(f, "/inputs", dims), 1);
    assert_int_equal(dims[0], 0);
    assert_int_equal(ds_dims(f, "/manifest_unplated", dims), 1);
    assert_int_equal(dims[0], 0);
    assert_int_equal(ds_dims(f, "/flags/slots", dims), 1);
    assert_int_equal(dims[0], 2);
    H5Fclose(f);
    check_external(path, 0);

    /* rows, but kernels not run */
    x->b.ratio = NULL;
    x->b.flag = NULL;
    x->b.call = NULL;
    x->b.state = NULL;
    assert_int_equal(ns_write_hdf5(path, &x->b, NULL, "early"), 0);
    f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    assert_false(link_exists(f, "/ratios"));
    assert_false(link_exists(f, "/flags"));
    assert_false(link_exists(f, "/calls"));
    assert_false(link_exists(f, "/samples_state_code"));
    assert_true(link_exists(f, "/analytes"));
    assert_int_equal(ds_dims(f, "/samples", dims), 1);
    assert_int_equal(dims[0], N_ROWS);
    H5Fclose(f);
    check_external(path, N_ROWS);
    rm_tree(dir);
    free(x);
}

/* A write that fails half-way (file size limit: write() gets EFBIG) returns -1, removes
 * its temporary file and leaves the previous archive exactly as it was.  The process must
 * also stay healthy: HDF5 1.10 segfaults at exit after a failed H5Fclose of an on-disk file,
 * which is why the archive is built in memory; a crash here shows as this binary's exit
 * status (tests/run.sh counts it as a failure). */
static void test_failure_midway_keeps_previous(void **state)
{
    (void)state;
    fx_t *x = malloc(sizeof *x);
    assert_non_null(x);
    fx_init(x);
    char *dir = mkdir_tmp(), path[512], err[2048];
    snprintf(path, sizeof path, "%s/night.h5", dir);
    assert_int_equal(ns_write_hdf5(path, &x->b, NULL, "first"), 0);
    size_t l0, l1;
    char *before = read_all(path, &l0);
    assert_true(l0 < 60000);

    big_t g;
    big_init(&g, &x->b, 10000);                 /* its archive is larger than 60000 bytes */
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 60000;
    void (*oldsig)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    int r = write_capture(path, &x->b, "second", err, sizeof err);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, oldsig);

    assert_int_equal(r, -1);
    assert_non_null(strstr(err, "neoscreen run: cannot write HDF5 archive "));
    assert_non_null(strstr(err, path));
    char *after = read_all(path, &l1);
    assert_int_equal(l0, l1);
    assert_memory_equal(before, after, l0);
    int tmp_seen;
    assert_int_equal(count_entries(dir, &tmp_seen), 1);
    assert_int_equal(tmp_seen, 0);
    free(before);
    free(after);
    big_free(&g);
    rm_tree(dir);
    free(x);
}

/* Target directory missing: -1, a message naming the path, nothing created. */
static void test_missing_dir(void **state)
{
    (void)state;
    fx_t *x = malloc(sizeof *x);
    assert_non_null(x);
    fx_init(x);
    char *dir = mkdir_tmp(), path[600], sub[512], err[2048];
    snprintf(sub, sizeof sub, "%s/no-such-dir", dir);
    snprintf(path, sizeof path, "%s/night.h5", sub);

    assert_int_equal(write_capture(path, &x->b, "cmd", err, sizeof err), -1);
    assert_non_null(strstr(err, "neoscreen run: "));
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "No such file or directory"));
    assert_null(strstr(err, "HDF5-DIAG"));          /* HDF5's own stack printing is off */
    struct stat st;
    assert_int_equal(stat(sub, &st), -1);
    int tmp_seen;
    assert_int_equal(count_entries(dir, &tmp_seen), 0);

    /* HDF5's automatic error printing is restored afterwards */
    H5E_auto2_t fn = NULL;
    void *data = NULL;
    H5Eget_auto2(H5E_DEFAULT, &fn, &data);
    assert_non_null(fn);
    rm_tree(dir);
    free(x);
}

/* A panel whose recorded digest does not match its text is refused, leaving nothing. */
static void test_sha_mismatch(void **state)
{
    (void)state;
    fx_t *x = malloc(sizeof *x);
    assert_non_null(x);
    fx_init(x);
    x->p.sha256[0] = x->p.sha256[0] == '0' ? '1' : '0';
    char *dir = mkdir_tmp(), path[512], err[2048];
    snprintf(path, sizeof path, "%s/night.h5", dir);
    assert_int_equal(write_capture(path, &x->b, "cmd", err, sizeof err), -1);
    assert_non_null(strstr(err, "sha256"));
    int tmp_seen;
    assert_int_equal(count_entries(dir, &tmp_seen), 0);
    rm_tree(dir);
    free(x);
}

/* /qc: plate QC results round-trip (plate table, controls, Westgard bits, medians, the QC
 * config text), the night attribute, a batch without QC has no /qc, and an inconsistent
 * QC result is refused. */
static void test_qc_roundtrip(void **state)
{
    (void)state;
    fx_t *x = malloc(sizeof *x);
    assert_non_null(x);
    fx_init(x);
    char *dir = mkdir_tmp(), path[512], err[2048];
    snprintf(path, sizeof path, "%s/night.h5", dir);

    /* without QC, without a night: no /qc, night "" */
    assert_int_equal(ns_write_hdf5(path, &x->b, NULL, "cmd"), 0);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    assert_false(link_exists(f, "/qc"));
    hid_t root = H5Gopen2(f, "/", H5P_DEFAULT);
    char *s = attr_str(root, "night");
    assert_string_equal(s, "");
    free(s);
    H5Gclose(root);
    H5Fclose(f);

    static const char QC_TEXT[] = "# qc\nlevels: {qc_low: {lot: L1}}  # \xe8\xb4\xa8\xe6\x8e\xa7\n";
    ns_qc_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.path = "configs/qc.yaml";
    cfg.text = (char *)QC_TEXT;
    ns_sha256_hex(QC_TEXT, sizeof QC_TEXT - 1, cfg.sha256);
    unsigned viol[3 * NS_QC_LEVELS] = { 0 };
    viol[0 * NS_QC_LEVELS + 0] = NS_WG_1_2S;
    viol[2 * NS_QC_LEVELS + 1] = NS_WG_4_1S | NS_WG_10X;
    double med[3] = { 55.5, NAN, 7.25 }, ref[3] = { 50.0, NAN, NAN };
    ns_plate_qc_t pq[2];
    memset(pq, 0, sizeof pq);
    pq[0].status = NS_QC_WARNING;
    pq[0].warnings = "1-2s Phe qc_low; median shift Phe +11%";
    pq[0].violated = viol;
    pq[0].median = med;
    pq[0].median_ref = ref;
    pq[1].status = NS_QC_NOT_RUN;                /* quarantined: no arrays */
    ns_qc_control_t obs[3];
    memset(obs, 0, sizeof obs);
    for (int a = 0; a < 3; a++) {
        strcpy(obs[a].plate_id, "PL-0001");
        obs[a].plate = 0;
        memcpy(obs[a].well, "H12", 4);
        obs[a].level = 0;
        obs[a].analyte = 2 - a;                  /* C8, Tyr, Phe */
        obs[a].value = conc_of(2 - a, 3);
        obs[a].z = 0.5 * a - 2.25;
    }
    obs[1].value = obs[1].z = NAN;
    ns_qc_result_t qc;
    memset(&qc, 0, sizeof qc);
    qc.cfg = &cfg;
    qc.plate = pq;
    qc.obs = obs;
    qc.n_obs = 3;
    qc.n_warning = 1;
    x->b.qc = &qc;
    x->b.night = "2026-11-22";
    assert_int_equal(ns_write_hdf5(path, &x->b, NULL, "cmd"), 0);

    f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    root = H5Gopen2(f, "/", H5P_DEFAULT);
    s = attr_str(root, "night");
    assert_string_equal(s, "2026-11-22");
    free(s);
    H5Gclose(root);
    hid_t g = H5Gopen2(f, "/qc", H5P_DEFAULT);
    assert_true(g >= 0);
    s = attr_str(g, "qc_config_sha256");
    assert_string_equal(s, cfg.sha256);
    free(s);
    assert_int_equal(attr_i64(g, "n_warning"), 1);
    assert_int_equal(attr_i64(g, "n_rejected"), 0);
    H5Gclose(g);
    {
        hid_t d = H5Dopen2(f, "/qc/config_yaml", H5P_DEFAULT);
        assert_true(d >= 0);
        hid_t t = H5Dget_type(d);
        size_t n = H5Tget_size(t);
        assert_int_equal(n, sizeof QC_TEXT - 1);
        char *buf = calloc(n + 1, 1);
        assert_true(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
        assert_memory_equal(buf, QC_TEXT, n);
        s = attr_str(d, "sha256");
        assert_string_equal(s, cfg.sha256);
        free(s);
        s = attr_str(d, "path");
        assert_string_equal(s, "configs/qc.yaml");
        free(s);
        free(buf);
        H5Tclose(t);
        H5Dclose(d);
    }

    /* /qc/plates */
    hsize_t dims[2];
    {
        typedef struct { char id[16], file[16], status[16], reason[64], warn[64]; } prow_t;
        hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(prow_t));
        hid_t s16 = str_t(16), s64 = str_t(64);
        H5Tinsert(t, "plate_id", offsetof(prow_t, id), s16);
        H5Tinsert(t, "file", offsetof(prow_t, file), s16);
        H5Tinsert(t, "status", offsetof(prow_t, status), s16);
        H5Tinsert(t, "reason", offsetof(prow_t, reason), s64);
        H5Tinsert(t, "warnings", offsetof(prow_t, warn), s64);
        prow_t r[2];
        memset(r, 0, sizeof r);
        assert_int_equal(ds_dims(f, "/qc/plates", dims), 1);
        assert_int_equal(dims[0], 2);
        read_ds(f, "/qc/plates", t, r);
        assert_string_equal(r[0].id, "PL-0001");
        assert_string_equal(r[0].file, "P0001.csv");
        assert_string_equal(r[0].status, "warning");
        assert_string_equal(r[0].reason, "");
        assert_string_equal(r[0].warn, pq[0].warnings);
        assert_string_equal(r[1].id, "");
        assert_string_equal(r[1].file, "P0002.csv");
        assert_string_equal(r[1].status, "not_run");
        assert_string_equal(r[1].warn, "");
        H5Tclose(s16); H5Tclose(s64); H5Tclose(t);
    }
    /* /qc/controls */
    {
        typedef struct { char id[16], well[8], level[16], an[16]; int32_t pi; double v, z; } crow_t;
        hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(crow_t));
        hid_t s16 = str_t(16), s8 = str_t(8);
        H5Tinsert(t, "plate_id", offsetof(crow_t, id), s16);
        H5Tinsert(t, "well", offsetof(crow_t, well), s8);
        H5Tinsert(t, "level", offsetof(crow_t, level), s16);
        H5Tinsert(t, "analyte", offsetof(crow_t, an), s16);
        H5Tinsert(t, "plate_index", offsetof(crow_t, pi), H5T_NATIVE_INT32);
        H5Tinsert(t, "value", offsetof(crow_t, v), H5T_NATIVE_DOUBLE);
        H5Tinsert(t, "z", offsetof(crow_t, z), H5T_NATIVE_DOUBLE);
        crow_t r[3];
        memset(r, 0, sizeof r);
        assert_int_equal(ds_dims(f, "/qc/controls", dims), 1);
        assert_int_equal(dims[0], 3);
        read_ds(f, "/qc/controls", t, r);
        static const char *an[3] = { "C8", "Tyr", "Phe" };
        for (int k = 0; k < 3; k++) {
            assert_string_equal(r[k].id, "PL-0001");
            assert_string_equal(r[k].well, "H12");
            assert_string_equal(r[k].level, "qc_low");
            assert_string_equal(r[k].an, an[k]);
            assert_int_equal(r[k].pi, 0);
            if (k == 1) {
                assert_true(isnan(r[k].v) && isnan(r[k].z));
            } else {
                assert_true(r[k].v == obs[k].value);
                assert_true(r[k].z == obs[k].z);
            }
        }
        H5Tclose(s16); H5Tclose(s8); H5Tclose(t);
    }
    /* /qc/westgard, /qc/median, /qc/median_ref */
    {
        uint32_t wg[2][6];
        assert_int_equal(ds_dims(f, "/qc/westgard", dims), 2);
        assert_int_equal(dims[0], 2);
        assert_int_equal(dims[1], 6);
        read_ds(f, "/qc/westgard", H5T_NATIVE_UINT32, wg);
        for (int c = 0; c < 6; c++) {
            assert_int_equal(wg[0][c], viol[c]);
            assert_int_equal(wg[1][c], 0);
        }
        hid_t d = H5Dopen2(f, "/qc/westgard", H5P_DEFAULT);
        hid_t a = H5Aopen(d, "bit_names", H5P_DEFAULT), t = H5Aget_type(a);
        char *bn[6] = { 0 };
        assert_true(H5Aread(a, t, bn) >= 0);
        assert_string_equal(bn[1], "1-3s");
        assert_string_equal(bn[5], "10-x");
        for (int k = 0; k < 6; k++) H5free_memory(bn[k]);
        H5Tclose(t);
        H5Aclose(a);
        H5Dclose(d);
        double m[2][3], r[2][3];
        read_ds(f, "/qc/median", H5T_NATIVE_DOUBLE, m);
        read_ds(f, "/qc/median_ref", H5T_NATIVE_DOUBLE, r);
        assert_true(m[0][0] == 55.5 && isnan(m[0][1]) && m[0][2] == 7.25);
        assert_true(r[0][0] == 50.0 && isnan(r[0][1]) && isnan(r[0][2]));
        for (int a2 = 0; a2 < 3; a2++) assert_true(isnan(m[1][a2]) && isnan(r[1][a2]));
    }
    H5Fclose(f);
    check_external(path, N_ROWS);

    /* byte-identical when written again */
    char path2[600];
    snprintf(path2, sizeof path2, "%s/again.h5", dir);
    assert_int_equal(ns_write_hdf5(path2, &x->b, NULL, "cmd"), 0);
    size_t l1, l2;
    char *b1 = read_all(path, &l1), *b2 = read_all(path2, &l2);
    assert_int_equal(l1, l2);
    assert_memory_equal(b1, b2, l1);
    free(b1);
    free(b2);
    unlink(path2);

    /* an observation naming an analyte the panel does not have: refused, nothing written */
    size_t l0;
    char *before = read_all(path, &l0);
    obs[2].analyte = 3;
    assert_int_equal(write_capture(path, &x->b, "cmd", err, sizeof err), -1);
    assert_non_null(strstr(err, "QC control observation 2 is inconsistent"));
    obs[2].analyte = 0;
    /* a config digest that does not match its text */
    cfg.sha256[0] = cfg.sha256[0] == '0' ? '1' : '0';
    assert_int_equal(write_capture(path, &x->b, "cmd", err, sizeof err), -1);
    assert_non_null(strstr(err, "QC config sha256"));
    char *after = read_all(path, &l1);
    assert_int_equal(l0, l1);
    assert_memory_equal(before, after, l0);
    free(before);
    free(after);
    int tmp_seen;
    assert_int_equal(count_entries(dir, &tmp_seen), 1);
    assert_int_equal(tmp_seen, 0);
    rm_tree(dir);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_deterministic_overwrite),
        cmocka_unit_test(test_many_rows),
        cmocka_unit_test(test_empty_and_not_computed),
        cmocka_unit_test(test_failure_midway_keeps_previous),
        cmocka_unit_test(test_missing_dir),
        cmocka_unit_test(test_sha_mismatch),
        cmocka_unit_test(test_qc_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
