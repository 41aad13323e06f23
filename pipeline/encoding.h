/* encoding.h — turn the bytes of an exported file into UTF-8 text.
 *
 * Plate and manifest exports come from instrument PCs and LIMS exports: UTF-8 with or
 * without a byte-order mark, or GBK from Chinese Windows (BUILD-NOTES G12).  The rule is
 * simple and needs no declaration from the user: valid UTF-8 is UTF-8 (a leading BOM is
 * dropped); anything else is decoded as GBK with iconv; bytes that are neither are an
 * error with a line and column.  UTF-16/32 (recognised by their BOM) and NUL bytes are
 * refused with a message that says so, rather than being misread as text.
 *
 * Limit of the rule: a GBK file whose every non-ASCII byte pair also happens to be a valid
 * two-byte UTF-8 sequence (possible for a few characters, e.g. GBK "医院" = D2BD D4BA) is
 * read as UTF-8.  Real exports with more than a word or two of Chinese contain GBK lead
 * bytes in 0x81-0xC1 or three-byte patterns that are not UTF-8, so the rule holds in
 * practice; only text columns are affected, never numbers or IDs.
 */
#ifndef NS_ENCODING_H
#define NS_ENCODING_H

#include <stddef.h>

typedef struct {
    int line, col;       /* position of the first bad byte (1-based) when decoding fails */
    char msg[160];
} ns_decode_err_t;

/* Decode raw (len bytes) into a new NUL-terminated UTF-8 buffer *out (caller frees) of
 * *out_len bytes, and name the source encoding in enc ("utf-8" or "gbk").
 * @return 0 on success, -1 with err filled on failure (*out is then NULL). */
int ns_decode_text(const char *raw, size_t len, char **out, size_t *out_len, char enc[8],
                   ns_decode_err_t *err);

/* ns_decode_text for a buffer the caller owns and gives up: raw must hold len + 1 bytes
 * (ns_read_file's do).  UTF-8 text is used where it lies (a byte-order mark moved off, a
 * NUL written after it), so *out == raw; GBK text is decoded into a new buffer as above.
 * Either way the caller frees *out, and frees raw itself only when *out != raw (failure
 * included: *out is then NULL and raw is left as it was read). */
int ns_decode_text_owned(char *raw, size_t len, char **out, size_t *out_len, char enc[8],
                         ns_decode_err_t *err);

/* Cut a trailing incomplete UTF-8 sequence off s (in place), e.g. after vsnprintf
 * truncated a message in the middle of a character. */
void ns_utf8_clip(char *s);

/* A cell quoted in a message: s itself when it has at most 40 characters, else its first
 * 40 characters (cut on a character boundary) and "..." in buf. */
const char *ns_clip_cell(char buf[200], const char *s);

/* Length of the valid UTF-8 prefix of s (== len when all of s is valid UTF-8). */
size_t ns_utf8_valid_prefix(const char *s, size_t len);

#endif
