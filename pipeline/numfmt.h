/* numfmt.h — printf's "%.<p>g" and "%.<p>f" of a double, the same bytes, without printf.
 *
 * glibc prints a double by multi-precision arithmetic (its __printf_fp): exact, and about
 * half a microsecond a number.  A night's recall list and findings print some hundred
 * thousand values with three or four significant digits.  Here the value's exact binary
 * form, M * 2^E with M < 2^53, is scaled by a power of ten in 128-bit integers and rounded
 * once, to nearest with ties to even, as glibc rounds (in the default rounding mode); so the
 * digits are printf's.  Whatever does not fit 128 bits (very large or very small values,
 * more than 17 digits), infinities and NaN go to snprintf itself.
 *
 * Both write at most size - 1 bytes and a NUL, and return the length printf would give
 * (as snprintf does); tests/unit/test_numfmt.c compares them with snprintf. */
#ifndef NS_NUMFMT_H
#define NS_NUMFMT_H

#include <stddef.h>

/* snprintf(buf, size, "%.*g", prec, x) */
int ns_fmt_g(char *buf, size_t size, double x, int prec);

/* snprintf(buf, size, "%.*f", prec, x) */
int ns_fmt_f(char *buf, size_t size, double x, int prec);

#endif
