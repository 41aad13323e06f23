/* csv.h — a strict, position-reporting CSV record reader over UTF-8 text in memory.
 *
 * RFC 4180 with the habits of real exports: CRLF or LF line ends, quoted fields with ""
 * escapes and embedded newlines, spaces around unquoted fields trimmed, blank lines
 * skipped.  Every record remembers the line it started on and the column of each field
 * (1-based, in characters), so every later complaint can say FILE:LINE:COL.
 *
 * The reader does not own the text it reads; fields point into a scratch buffer that the
 * next call to ns_csv_next() overwrites.
 */
#ifndef NS_CSV_H
#define NS_CSV_H

#include <stddef.h>
#include <stdio.h>

typedef struct {
    const char *text;     /* UTF-8, not owned */
    size_t len, pos;
    int line;             /* line of the next unread character */
    int col;              /* its column */

    /* the current record */
    int nf;               /* number of fields */
    char **f;             /* field values, NUL-terminated (unquoted, unescaped) */
    int *fline;           /* line of each field's first character (a quoted field may
                             carry the record over several lines) */
    int *fcol;            /* column of each field's first character */
    int rec_line;         /* line on which the record starts */
    int end_line, end_col;  /* line and column just past the record's last character */

    /* the last error (ns_csv_next returned -1) */
    int err_line, err_col;
    char err[160];

    /* private */
    int mf;
    char *buf;
    size_t mbuf;
    size_t *off;
} ns_csv_t;

/* Start reading text (len bytes, need not be NUL-terminated). */
void ns_csv_init(ns_csv_t *c, const char *text, size_t len);

/* Read the next record.  @return 1 with a record, 0 at end of text, -1 on a syntax error
 * (unterminated quote, text after a closing quote, CR-only line ends); err/err_line/err_col
 * describe it and the reader has skipped to the line after the one holding the error (for
 * an unterminated quote: the line of the opening quote), so counting records can go on. */
int ns_csv_next(ns_csv_t *c);

void ns_csv_free(ns_csv_t *c);

/* The next record when it is of the plain kind a plate export is made of: one line ending
 * in LF or CR LF, not blank, no quote character and no other CR, exactly nf fields.  Then
 * field j is text[span[2j], span[2j+1]) without its leading and trailing blanks, exactly
 * the field ns_csv_next would give (unterminated, in place, nothing copied), and the
 * reader has moved past the line: @return 1.  Any other record (or the end of the text)
 * @return 0 with the reader untouched: ns_csv_next then reads it, with its messages.
 * The columns of the fields are not counted: a caller with something to say about a
 * field reads the line again with ns_csv_next (keep the reader's position to do so). */
int ns_csv_next_plain(ns_csv_t *c, int nf, size_t *span);

/* The same for a line some of whose fields are quoted (a LIMS export quotes a hospital
 * name with a comma in it): one line ending in LF or CR LF, exactly nf fields, each either
 * plain (no quote, no CR; blanks around it dropped) or quoted ("...", with "" for a quote,
 * no CR or LF inside, blanks around it dropped).  Field j is then text[span[2j],
 * span[2j+1]): for a quoted field, the bytes between its quotes, still escaped, and
 * quoted[j] says 0 (plain), 1 (quoted) or 2 (quoted, with "" inside: ns_csv_unescape);
 * the values are those ns_csv_next would give.  @return 1 and the reader past the line, or
 * 0 with the reader untouched (any other line: ns_csv_next reads it). */
int ns_csv_next_quoted(ns_csv_t *c, int nf, size_t *span, unsigned char *quoted);

/* The value of a quoted field's n bytes at s ("" read as "), into out (room for n + 1
 * bytes), NUL-terminated; its length. */
size_t ns_csv_unescape(const char *s, size_t n, char *out);

/* Write one field in CSV form: as it is, or quoted (with "" for ") when it holds a comma,
 * a quote or a line break.  The writer side of the same RFC 4180 the reader follows. */
void ns_csv_field(FILE *fp, const char *f);

/* The same for a text cell of a list people open in a spreadsheet (plates-to-rerun.csv):
 * text that could be read as a formula (table.h: it begins with = + - @ TAB CR LF) is
 * written with a leading apostrophe, as in the recall list, so that a plate or sample id
 * typed "=cmd()" stays text. */
void ns_csv_text(FILE *fp, const char *f);

#endif
