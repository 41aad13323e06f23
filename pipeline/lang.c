/* lang.c — load and check a translation file (see lang.h and configs/lang.yaml).
 *
 * The whole file is checked whatever language is asked for, so `config check` and a run
 * in English both catch a Chinese text that lost a placeholder.  The chosen language's
 * texts are then kept as a key-sorted array, looked up by binary search.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include "lang.h"
#include "sha256.h"
#include "util.h"
#include "yaml_doc.h"

typedef struct { char *key, *text; } entry_t;

struct ns_lang {
    char *code, *dflt;
    char **langs;
    int n_langs;
    entry_t *e;
    int n;
    char sha256[65];
};

/* ---- placeholders ------------------------------------------------------------------- */

static int name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
static int name_char(char c) { return name_start(c) || (c >= '0' && c <= '9'); }

/* Length of a valid "{name}" at s (s[0] == '{'), or 0. */
static size_t placeholder_len(const char *s)
{
    size_t i = 1;
    if (!name_start(s[i])) return 0;
    while (name_char(s[i])) i++;
    if (s[i] != '}' || i - 1 > NS_LANG_NAME_MAX) return 0;
    return i + 1;
}

/* The placeholder names of text, sorted and unique, as "a, b, c" (new string) in *set;
 * returns 0, or -1 with *bad pointing at a '{' that starts no valid placeholder. */
static int placeholder_set(const char *text, char **set, const char **bad)
{
    char **v = NULL;
    int n = 0, m = 0;
    *set = NULL;
    for (const char *s = text; *s; s++) {
        if (s[0] == '{' && s[1] == '{') { s++; continue; }
        if (s[0] == '}' && s[1] == '}') { s++; continue; }
        if (*s != '{') continue;
        size_t L = placeholder_len(s);
        if (!L) {
            for (int i = 0; i < n; i++) free(v[i]);
            free(v);
            *bad = s;
            return -1;
        }
        char *name = ns_strndup(s + 1, L - 2);
        int dup = 0;
        for (int i = 0; i < n && !dup; i++) dup = strcmp(v[i], name) == 0;
        if (dup) free(name);
        else {
            if (n == m) { m = m ? 2 * m : 8; v = ns_realloc(v, (size_t)m * sizeof *v); }
            v[n++] = name;
        }
        s += L - 1;
    }
    /* insertion sort: a text has a handful of placeholders */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) { char *x = v[j]; v[j] = v[j - 1]; v[j - 1] = x; }
    size_t len = 1;
    for (int i = 0; i < n; i++) len += strlen(v[i]) + 4;
    char *out = ns_malloc(len);
    out[0] = 0;
    for (int i = 0; i < n; i++) {
        if (i) strcat(out, ", ");
        strcat(out, "{");
        strcat(out, v[i]);
        strcat(out, "}");
        free(v[i]);
    }
    free(v);
    *set = out;
    return 0;
}

/* ---- loading ------------------------------------------------------------------------ */

typedef struct {
    ns_yaml_t y;
    ns_lang_t *l;
    const char *want;      /* requested language, NULL = default */
    int pick;              /* index into l->langs of the language kept */
} ld_t;

static int lang_code_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 15) return 0;
    for (size_t i = 0; i < n; i++)
        if (!name_char(s[i]) && s[i] != '-') return 0;
    return 1;
}

static int key_ok(const char *s)
{
    if (!*s) return 0;
    for (; *s; s++)
        if (!name_char(*s) && *s != '.' && *s != '-') return 0;
    return 1;
}

static int find_lang(const ns_lang_t *l, const char *code)
{
    for (int i = 0; i < l->n_langs; i++) if (strcmp(l->langs[i], code) == 0) return i;
    return -1;
}

static char *lang_list(const ns_lang_t *l)
{
    size_t len = 1;
    for (int i = 0; i < l->n_langs; i++) len += strlen(l->langs[i]) + 2;
    char *s = ns_malloc(len);
    s[0] = 0;
    for (int i = 0; i < l->n_langs; i++) {
        if (i) strcat(s, ", ");
        strcat(s, l->langs[i]);
    }
    return s;
}

static void load_languages(ld_t *L, yaml_node_t *root)
{
    ns_lang_t *l = L->l;
    yaml_node_t *v = ns_yaml_get(&L->y, root, "languages");
    if (!v) { ns_yaml_err(&L->y, root, "missing 'languages' (the list of language codes, e.g. [en, zh])"); return; }
    if (v->type != YAML_SEQUENCE_NODE) { ns_yaml_err(&L->y, v, "'languages' must be a list, e.g. [en, zh]"); return; }
    int m = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
    l->langs = ns_calloc((size_t)m + 1, sizeof *l->langs);
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *n = ns_yaml_node(&L->y, *it);
        const char *s = ns_yaml_scalar(n);
        if (!s || !lang_code_ok(s)) {
            ns_yaml_err(&L->y, n, "languages: '%s' is not a language code (letters, digits, '-', '_'; e.g. en, zh, zh-Hant)",
                        s ? s : "(a list or mapping)");
            continue;
        }
        if (find_lang(l, s) >= 0) { ns_yaml_err(&L->y, n, "languages: '%s' is listed twice", s); continue; }
        l->langs[l->n_langs++] = ns_strdup(s);
    }
    if (m == 0) ns_yaml_err(&L->y, v, "'languages' is empty: list at least one language");
}

static void load_default(ld_t *L, yaml_node_t *root)
{
    ns_lang_t *l = L->l;
    yaml_node_t *v = ns_yaml_get(&L->y, root, "default");
    if (!v) { ns_yaml_err(&L->y, root, "missing 'default' (the language used when none is asked for)"); return; }
    const char *s = ns_yaml_scalar(v);
    if (!s || !*s) { ns_yaml_err(&L->y, v, "'default' must be a language code"); return; }
    if (l->n_langs && find_lang(l, s) < 0) {
        char *list = lang_list(l);
        ns_yaml_err(&L->y, v, "default language '%s' is not in 'languages' (%s)", s, list);
        free(list);
        return;
    }
    l->dflt = ns_strdup(s);
}

/* One key's entry {lang: text, ...}: every listed language once, texts valid, the same
 * placeholders in all of them.  Keeps the chosen language's text. */
static void load_entry(ld_t *L, const char *key, yaml_node_t *k, yaml_node_t *m)
{
    ns_lang_t *l = L->l;
    if (!m || m->type != YAML_MAPPING_NODE) {
        ns_yaml_err(&L->y, m ? m : k, "text.%s must be a mapping of language to text, e.g. {en: \"...\", zh: \"...\"}", key);
        return;
    }
    int *seen = ns_calloc((size_t)l->n_langs + 1, sizeof *seen);   /* line of each language's text */
    char *first_set = NULL;
    const char *first_lang = NULL;
    const char *picked = NULL;
    for (yaml_node_pair_t *a = m->data.mapping.pairs.start; a < m->data.mapping.pairs.top; a++) {
        yaml_node_t *lk = ns_yaml_node(&L->y, a->key), *lv = ns_yaml_node(&L->y, a->value);
        const char *code = ns_yaml_scalar(lk);
        if (!code) { ns_yaml_err(&L->y, lk, "text.%s: language keys must be plain codes", key); continue; }
        int li = find_lang(l, code);
        if (li < 0) {
            char *list = lang_list(l);
            ns_yaml_err(&L->y, lk, "text.%s: unknown language '%s' (languages: %s)", key, code, list);
            free(list);
            continue;
        }
        if (seen[li]) {
            ns_yaml_err(&L->y, lk, "text.%s: language '%s' given twice (first at line %d)", key, code, seen[li]);
            continue;
        }
        seen[li] = (int)lk->start_mark.line + 1;
        const char *text = ns_yaml_scalar(lv);
        if (!text) {
            ns_yaml_err(&L->y, lv, "text.%s.%s must be text; quote it (a value that starts with '{' is read as "
                        "a YAML mapping)", key, code);
            continue;
        }
        if (!*text) { ns_yaml_err(&L->y, lv, "text.%s.%s is empty", key, code); continue; }
        char *set;
        const char *bad;
        if (placeholder_set(text, &set, &bad) < 0) {
            ns_yaml_err(&L->y, lv, "text.%s.%s: '{' at \"%.20s\" starts no placeholder (write {name} with a name of "
                        "letters, digits and '_', at most %d characters, or {{ for a literal brace)",
                        key, code, bad, NS_LANG_NAME_MAX);
            continue;
        }
        if (!first_set) { first_set = set; first_lang = code; }
        else {
            if (strcmp(set, first_set) != 0)
                ns_yaml_err(&L->y, lv, "text.%s.%s has placeholders %s but %s has %s: every language of a key must "
                            "use the same ones", key, code, *set ? set : "none", first_lang,
                            *first_set ? first_set : "none");
            free(set);
        }
        if (li == L->pick) picked = text;
    }
    for (int i = 0; i < l->n_langs; i++)
        if (!seen[i])
            ns_yaml_err(&L->y, k, "text.%s: no '%s' text (every key needs a text in each language of 'languages')",
                        key, l->langs[i]);
    free(seen);
    free(first_set);
    if (picked && L->pick >= 0) {
        l->e[l->n].key = ns_strdup(key);
        l->e[l->n].text = ns_strdup(picked);
        l->n++;
    }
}

static void load_text(ld_t *L, yaml_node_t *root)
{
    ns_lang_t *l = L->l;
    yaml_node_t *v = ns_yaml_get(&L->y, root, "text");
    if (!v) { ns_yaml_err(&L->y, root, "missing 'text' (key: {en: \"...\", zh: \"...\"} entries)"); return; }
    if (v->type != YAML_MAPPING_NODE) { ns_yaml_err(&L->y, v, "'text' must be a mapping of key: {language: text}"); return; }
    int m = (int)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
    if (m == 0) { ns_yaml_err(&L->y, v, "'text' has no entries"); return; }
    l->e = ns_calloc((size_t)m, sizeof *l->e);
    for (yaml_node_pair_t *a = v->data.mapping.pairs.start; a < v->data.mapping.pairs.top; a++) {
        yaml_node_t *k = ns_yaml_node(&L->y, a->key);
        const char *key = ns_yaml_scalar(k);
        if (!key || !key_ok(key)) {
            ns_yaml_err(&L->y, k, "text: key '%s' must be made of letters, digits, '.', '_' and '-'",
                        key ? key : "(a list or mapping)");
            continue;
        }
        int dup = 0;
        for (yaml_node_pair_t *b = v->data.mapping.pairs.start; b < a && !dup; b++) {
            yaml_node_t *bk = ns_yaml_node(&L->y, b->key);
            if (ns_yaml_scalar(bk) && strcmp(ns_yaml_scalar(bk), key) == 0) {
                ns_yaml_err(&L->y, k, "duplicate key '%s' in text (first at line %d)", key,
                            (int)bk->start_mark.line + 1);
                dup = 1;
            }
        }
        if (!dup) load_entry(L, key, k, ns_yaml_node(&L->y, a->value));
    }
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const entry_t *)a)->key, ((const entry_t *)b)->key);
}

ns_lang_t *ns_lang_load_mem(const char *name, const char *text, size_t len, const char *lang,
                            ns_panel_errs_t *errs)
{
    (void)name;
    memset(errs, 0, sizeof *errs);
    ld_t L;
    memset(&L, 0, sizeof L);
    L.want = lang;
    L.pick = -1;
    ns_lang_t *l = L.l = ns_calloc(1, sizeof *l);
    ns_sha256_hex(text, len, l->sha256);
    if (ns_yaml_parse(&L.y, text, len, errs) < 0) { ns_lang_free(l); return NULL; }
    yaml_node_t *root = ns_yaml_root(&L.y);
    static const char *const top[] = { "default", "languages", "text", NULL };
    if (!root) {
        ns_yaml_errs_add(errs, 1, 1, "empty file: expected 'default', 'languages' and 'text'");
    } else if (ns_yaml_keys(&L.y, root, "the top level", top)) {
        load_languages(&L, root);
        load_default(&L, root);
        const char *want = lang ? lang : l->dflt;
        if (want) {
            for (int i = 0; i < l->n_langs && L.pick < 0; i++)
                if (ns_strcaseeq(l->langs[i], want)) L.pick = i;
            if (L.pick < 0 && l->n_langs) {
                char *list = lang_list(l);
                ns_yaml_err(&L.y, ns_yaml_get(&L.y, root, "languages"),
                            "language '%s' is not in this file (available: %s)", want, list);
                free(list);
            }
        }
        load_text(&L, root);
    }
    ns_yaml_done(&L.y);
    if (errs->n) { ns_lang_free(l); return NULL; }
    free(errs->text);
    errs->text = NULL;
    l->code = ns_strdup(l->langs[L.pick]);
    qsort(l->e, (size_t)l->n, sizeof *l->e, cmp_entry);
    return l;
}

ns_lang_t *ns_lang_load(const char *path, const char *lang, ns_panel_errs_t *errs)
{
    char *text;
    size_t len;
    memset(errs, 0, sizeof *errs);
    if (ns_read_file(path, &text, &len) < 0) {
        ns_yaml_errs_add(errs, 0, 0, "cannot read: %s", strerror(errno));
        return NULL;
    }
    ns_lang_t *l = ns_lang_load_mem(path, text, len, lang, errs);
    free(text);
    return l;
}

void ns_lang_free(ns_lang_t *l)
{
    if (!l) return;
    for (int i = 0; i < l->n; i++) { free(l->e[i].key); free(l->e[i].text); }
    free(l->e);
    ns_strlist_free(l->langs, l->n_langs);
    free(l->code);
    free(l->dflt);
    free(l);
}

/* ---- lookup ------------------------------------------------------------------------- */

static const entry_t *find(const ns_lang_t *l, const char *key)
{
    if (!l || !key || !l->n) return NULL;
    entry_t k = { (char *)key, NULL };
    return bsearch(&k, l->e, (size_t)l->n, sizeof *l->e, cmp_entry);
}

const char *ns_lang_get(const ns_lang_t *l, const char *key)
{
    const entry_t *e = find(l, key);
    return e ? e->text : key ? key : "";
}

int ns_lang_has(const ns_lang_t *l, const char *key) { return find(l, key) != NULL; }

char *ns_lang_format(const ns_lang_t *l, const char *key, int n, const char *const *names,
                     const char *const *values)
{
    const char *t = ns_lang_get(l, key);
    size_t cap = strlen(t) + 64, len = 0;
    char *out = ns_malloc(cap);
#define PUT(p, k) do { size_t k_ = (k); \
        if (len + k_ + 1 > cap) { cap = (len + k_ + 1) * 2; out = ns_realloc(out, cap); } \
        memcpy(out + len, (p), k_); len += k_; } while (0)
    for (const char *s = t; *s; ) {
        if ((s[0] == '{' && s[1] == '{') || (s[0] == '}' && s[1] == '}')) { PUT(s, 1); s += 2; continue; }
        size_t L = s[0] == '{' ? placeholder_len(s) : 0;
        int hit = -1;
        for (int i = 0; L && i < n && hit < 0; i++)
            if (names[i] && strlen(names[i]) == L - 2 && strncmp(names[i], s + 1, L - 2) == 0) hit = i;
        if (hit >= 0) {
            const char *v = values[hit] ? values[hit] : "";
            PUT(v, strlen(v));
            s += L;
        } else if (L) {
            PUT(s, L);                   /* no such argument: keep "{name}" visible */
            s += L;
        } else {
            PUT(s, 1);
            s++;
        }
    }
#undef PUT
    out[len] = 0;
    return out;
}

const char *ns_lang_code(const ns_lang_t *l) { return l ? l->code : ""; }
const char *ns_lang_default(const ns_lang_t *l) { return l ? l->dflt : ""; }
int ns_lang_n_languages(const ns_lang_t *l) { return l ? l->n_langs : 0; }
const char *ns_lang_language(const ns_lang_t *l, int i) { return l && i >= 0 && i < l->n_langs ? l->langs[i] : NULL; }
int ns_lang_n_keys(const ns_lang_t *l) { return l ? l->n : 0; }
const char *ns_lang_key(const ns_lang_t *l, int i) { return l && i >= 0 && i < l->n ? l->e[i].key : NULL; }
const char *ns_lang_sha256(const ns_lang_t *l) { return l ? l->sha256 : ""; }
