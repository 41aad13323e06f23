/* numparse.h — a decimal parser for plate cells that gives exactly what strtod gives.
 *
 * Plate ingest is parse-bound: a night is millions of cells such as "49.1", "0.139" or
 * "0.0213", and glibc's strtod spends most of its time on generality a plate cell never
 * needs (locales, hex floats, arbitrary precision).  This parser takes the common case
 * itself and hands everything else to strtod, so that its result is always the double
 * strtod returns, bit for bit: correctly rounded, round-to-nearest-even.  A value printed
 * as "0.450" therefore compares with a cutoff written "0.45" exactly as it always did.
 *
 * Fast path (Clinger, "How to read floating point numbers accurately", PLDI 1990): the
 * significant digits are read into a 64-bit integer m and the decimal exponent into e
 * (value = m * 10^e).  When m <= 2^53 (m is then an exact double) and |e| <= 22 (10^|e| is
 * an exact double), the value is one IEEE multiplication m * 10^e or division m / 10^-e of
 * two exact operands, which the hardware rounds correctly.  Also when e > 22 but
 * m * 10^(e-22) is still <= 2^53: that product is computed exactly in integers, and one
 * multiplication by 10^22 remains.  Zero (every digit 0) is +-0 whatever the exponent.
 * Everything else (more than 19 significant digits that are not trailing zeros, m > 2^53,
 * larger exponents, results near overflow or in the subnormal range) goes to strtod.
 */
#ifndef NS_NUMPARSE_H
#define NS_NUMPARSE_H

#include <stddef.h>
#include <stdint.h>

/* ns_parse_decimal: the double strtod would read from the span s[0..len).
 * @param s    the text; it need not be NUL-terminated (s[len] is never read)
 * @param len  its length in bytes
 * @param out  receives the value when the return is 0 or 1; untouched on -1
 * @return 0   the whole span is a plain decimal number, *out is its value;
 *         1   it is one, but strtod would report ERANGE: *out is what strtod returns
 *             (+-HUGE_VAL on overflow; a zero or subnormal that lost precision);
 *         -1  it is not a plain decimal number.
 * A plain decimal number is: an optional sign '+' or '-'; digits with an optional '.'
 * (at least one digit, before or after the point: "5.", ".5" and "0000.450" are numbers,
 * "." is not); then optionally 'e' or 'E', an optional sign and at least one digit.
 * Nothing else: no spaces, no hex ("0x1A"), no "inf" or "nan", nothing after the number
 * ("1e" and "1e+" are refused, where strtod would stop before the 'e').  The empty span is
 * refused.  "-0" gives -0.0, as strtod does.
 * errno is left as it was.  Thread-safe; allocates only for a span of 64 bytes or more
 * that needs strtod (exits through ns_malloc if that fails).
 * Assumes LC_NUMERIC is the C locale (strtod's decimal point must be '.'): neoscreen never
 * calls setlocale. */
int ns_parse_decimal(const char *s, size_t len, double *out);

/* ns_parse_decimal_in: the same, where room >= len bytes are readable at s (a span inside
 * a larger text): with room >= 17 the common short forms ("49.1", "-0.0213") are read
 * with one sixteen-byte load instead of a copy.  The bytes past len never change the
 * result. */
int ns_parse_decimal_in(const char *s, size_t len, size_t room, double *out);

/* ns_parse_decimal_z: the same for the NUL-terminated string s (the span up to its NUL),
 * without a strlen first: the one a caller holding C strings (csv.h fields) wants. */
int ns_parse_decimal_z(const char *s, double *out);

/* ns_parse_short8: up to eight cells of a text at once (numparse_x8.c, AVX-512).
 * Lane i (bit i of want) is field field[i] of a split line: the span
 * t[span[2 field[i]], span[2 field[i] + 1]) (csv.h: ns_csv_next_plain); field[i] and the
 * spans of lanes not in want are not read.  It is taken when it is 1 to 8
 * bytes of digits with at most one '.' and at least one digit (no sign, no exponent), its
 * first byte is at most tlen - 8 (eight bytes are read there), and its value is <= max;
 * then out[i] is exactly what ns_parse_decimal gives for the span.  @return the lanes
 * taken; out[i] of any other lane is not touched: parse those one at a time.  Returns 0
 * unless ns_cpu_avx512() (util.h) and the rounding mode is to nearest (fenv.h's default,
 * which neoscreen never leaves). */
unsigned ns_parse_short8(const char *t, size_t tlen, const size_t *span, const int field[8], unsigned want,
                         double max, double out[8]);

/* whether ns_parse_short8 can take anything here: ns_cpu_avx512() */
int ns_parse_short8_available(void);

/* For tests: ns_parse_short8's quotients, made without dividing, against the division, for
 * every numerator below 10^8 and every power of ten it divides by (8 * 10^8 of them, about
 * a second): the number that differ (0), or -1 where ns_parse_short8 is not available. */
long ns_parse_short8_check_quotients(void);

#endif
