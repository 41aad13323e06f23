/* json.c — see json.h. */
#include <math.h>
#include "json.h"

void ns_json_init(ns_json_t *j, FILE *fp)
{
    j->fp = fp;
    j->depth = 0;
    j->first[0] = 1;
}

/* A writer's FILE is used by one thread (json.h), so the stdio calls need not take its
 * lock: a summary of ten thousand plates is some half a million of them. */
static void put(FILE *fp, const char *s, size_t n) { fwrite_unlocked(s, 1, n, fp); }
#define PUT_LIT(fp, lit) put((fp), (lit), sizeof(lit) - 1)

static void put_string(FILE *fp, const char *s)
{
    putc_unlocked('"', fp);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        /* a run of bytes that stand for themselves, written at once */
        const unsigned char *q = p;
        while (*q >= 0x20 && *q != '"' && *q != '\\') q++;
        if (q > p) {
            put(fp, (const char *)p, (size_t)(q - p));
            p = q - 1;
            continue;
        }
        switch (*p) {
        case '"': PUT_LIT(fp, "\\\""); break;
        case '\\': PUT_LIT(fp, "\\\\"); break;
        case '\n': PUT_LIT(fp, "\\n"); break;
        case '\r': PUT_LIT(fp, "\\r"); break;
        case '\t': PUT_LIT(fp, "\\t"); break;
        default: {
            char u[8];                                   /* a control byte: \u00XX */
            snprintf(u, sizeof u, "\\u%04x", *p);
            put(fp, u, 6);
        }
        }
    }
    putc_unlocked('"', fp);
}

static void lead(ns_json_t *j, const char *key)
{
    static const char spaces[] = "                                                                ";
    if (j->depth > 0) {
        if (j->first[j->depth]) putc_unlocked('\n', j->fp);
        else PUT_LIT(j->fp, ",\n");
        put(j->fp, spaces, 2 * (size_t)j->depth);           /* depth <= 31 */
    }
    j->first[j->depth] = 0;
    if (key) { put_string(j->fp, key); PUT_LIT(j->fp, ": "); }
}

static void open_(ns_json_t *j, const char *key, char c)
{
    lead(j, key);
    putc_unlocked(c, j->fp);
    if (j->depth < 31) j->depth++;
    j->first[j->depth] = 1;
}

static void close_(ns_json_t *j, char c)
{
    static const char spaces[] = "                                                                ";
    int empty = j->first[j->depth];
    if (j->depth > 0) j->depth--;
    if (!empty) {
        putc_unlocked('\n', j->fp);
        put(j->fp, spaces, 2 * (size_t)j->depth);
    }
    putc_unlocked(c, j->fp);
    if (j->depth == 0) putc_unlocked('\n', j->fp);
}

void ns_json_obj(ns_json_t *j, const char *key) { open_(j, key, '{'); }
void ns_json_arr(ns_json_t *j, const char *key) { open_(j, key, '['); }
void ns_json_end_obj(ns_json_t *j) { close_(j, '}'); }
void ns_json_end_arr(ns_json_t *j) { close_(j, ']'); }

void ns_json_str(ns_json_t *j, const char *key, const char *v)
{
    lead(j, key);
    if (v) put_string(j->fp, v);
    else PUT_LIT(j->fp, "null");
}

void ns_json_int(ns_json_t *j, const char *key, int64_t v)
{
    lead(j, key);
    char b[24], *e = b + sizeof b, *d = e;          /* the digits from the right, as %lld */
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do *--d = (char)('0' + u % 10); while (u /= 10);
    if (v < 0) *--d = '-';
    put(j->fp, d, (size_t)(e - d));
}

void ns_json_num(ns_json_t *j, const char *key, double v)
{
    lead(j, key);
    if (isfinite(v)) {
        char b[32];
        const int n = snprintf(b, sizeof b, "%.6g", v);
        put(j->fp, b, (size_t)n);
    } else {
        PUT_LIT(j->fp, "null");
    }
}

void ns_json_bool(ns_json_t *j, const char *key, int v)
{
    lead(j, key);
    if (v) PUT_LIT(j->fp, "true");
    else PUT_LIT(j->fp, "false");
}
