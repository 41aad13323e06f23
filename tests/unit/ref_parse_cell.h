/* ref_parse_cell.h — ns_parse_cell as it was before numparse.c (strtod plus a character
 * check), kept as the reference that test_numparse.c compares the new one with and that
 * bench_numparse.c times.  Needs <ctype.h>, <errno.h>, <math.h>, <stdlib.h>, batch.h and
 * util.h (ns_strcaseeq) included first. */
#ifndef NS_REF_PARSE_CELL_H
#define NS_REF_PARSE_CELL_H

/* the set of cells it accepts, and their values, must not change */
static int ref_parse_cell(const char *s, double *v, uint8_t *kind)
{
    if (!*s) { *v = NAN; *kind = NS_CELL_EMPTY; return 0; }
    if (ns_strcaseeq(s, "NaN")) { *v = NAN; *kind = NS_CELL_NAN; return 0; }
    if (ns_strcaseeq(s, "ND")) { *v = 0.0; *kind = NS_CELL_ND; return 0; }
    uint8_t k = NS_CELL_VALUE;
    if (*s == '<') { k = NS_CELL_BELOW; s++; while (*s == ' ') s++; }
    if (!*s || isspace((unsigned char)*s)) return -1;
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (end == s || *end || errno == ERANGE || !isfinite(x)) return -1;
    for (const char *c = s; c < end; c++)
        if (!(isdigit((unsigned char)*c) || *c == '.' || *c == '-' || *c == '+' || *c == 'e' || *c == 'E'))
            return -1;
    if (k == NS_CELL_BELOW && x < 0) return -1;
    *v = x;
    *kind = k;
    return 0;
}

#endif
