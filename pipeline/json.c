/* json.c — see json.h. */
#include <math.h>
#include "json.h"

void ns_json_init(ns_json_t *j, FILE *fp)
{
    j->fp = fp;
    j->depth = 0;
    j->first[0] = 1;
}

static void put_string(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        /* a run of bytes that stand for themselves, written at once */
        const unsigned char *q = p;
        while (*q >= 0x20 && *q != '"' && *q != '\\') q++;
        if (q > p) {
            fwrite(p, 1, (size_t)(q - p), fp);
            p = q - 1;
            continue;
        }
        switch (*p) {
        case '"': fputs("\\\"", fp); break;
        case '\\': fputs("\\\\", fp); break;
        case '\n': fputs("\\n", fp); break;
        case '\r': fputs("\\r", fp); break;
        case '\t': fputs("\\t", fp); break;
        default:
            if (*p < 0x20) fprintf(fp, "\\u%04x", *p);
            else fputc(*p, fp);
        }
    }
    fputc('"', fp);
}

static void lead(ns_json_t *j, const char *key)
{
    if (j->depth > 0) {
        fputs(j->first[j->depth] ? "\n" : ",\n", j->fp);
        for (int i = 0; i < j->depth; i++) fputs("  ", j->fp);
    }
    j->first[j->depth] = 0;
    if (key) { put_string(j->fp, key); fputs(": ", j->fp); }
}

static void open_(ns_json_t *j, const char *key, char c)
{
    lead(j, key);
    fputc(c, j->fp);
    if (j->depth < 31) j->depth++;
    j->first[j->depth] = 1;
}

static void close_(ns_json_t *j, char c)
{
    int empty = j->first[j->depth];
    if (j->depth > 0) j->depth--;
    if (!empty) {
        fputc('\n', j->fp);
        for (int i = 0; i < j->depth; i++) fputs("  ", j->fp);
    }
    fputc(c, j->fp);
    if (j->depth == 0) fputc('\n', j->fp);
}

void ns_json_obj(ns_json_t *j, const char *key) { open_(j, key, '{'); }
void ns_json_arr(ns_json_t *j, const char *key) { open_(j, key, '['); }
void ns_json_end_obj(ns_json_t *j) { close_(j, '}'); }
void ns_json_end_arr(ns_json_t *j) { close_(j, ']'); }

void ns_json_str(ns_json_t *j, const char *key, const char *v)
{
    lead(j, key);
    if (v) put_string(j->fp, v);
    else fputs("null", j->fp);
}

void ns_json_int(ns_json_t *j, const char *key, int64_t v)
{
    lead(j, key);
    fprintf(j->fp, "%lld", (long long)v);
}

void ns_json_num(ns_json_t *j, const char *key, double v)
{
    lead(j, key);
    if (isfinite(v)) fprintf(j->fp, "%.6g", v);
    else fputs("null", j->fp);
}

void ns_json_bool(ns_json_t *j, const char *key, int v)
{
    lead(j, key);
    fputs(v ? "true" : "false", j->fp);
}
