/* table.h — a small table model for the lists people read, written as CSV and XLSX.
 *
 * Why: the follow-up list goes to people in two forms, a CSV for scripts and LIMS imports
 * and an XLSX for the follow-up team, and both must say exactly the same thing.  The
 * list's builder (recall/follow-up merge) fills one table of typed cells; the two writers
 * below render it, so a column, a header text or a number format is decided once.
 *
 * Columns have a key (stable, never translated: "infant_id") and a header text (what
 * people read, taken from the translation table: "婴儿编号").  Cells are typed:
 *
 *   NS_TCELL_EMPTY   nothing (also what a missing number becomes)
 *   NS_TCELL_TEXT    UTF-8 text
 *   NS_TCELL_NUMBER  a finite double with a decimals hint (digits after the point in both
 *                   writers: CSV "%.*f", XLSX number format "0.0..."; -1 = as many as
 *                   needed, CSV "%.15g", XLSX "General"); the XLSX cell holds the value
 *                   rounded as the CSV shows it, so the two files agree to the digit
 *   NS_TCELL_DATE    a calendar day, days since 1970-01-01 (CSV "YYYY-MM-DD", XLSX a real
 *                   Excel date shown as yyyy-mm-dd)
 *
 * Formula injection (OWASP "CSV Injection").  A spreadsheet program treats a cell that
 * begins with '=', '+', '-' or '@' as a formula, and tab, CR or LF at the start can hide one;
 * a hospital or mother's name typed as "=HYPERLINK(...)" in the LIMS must never become a
 * live formula on the follow-up team's screen.  Both writers therefore write every TEXT
 * cell (and header) that begins with one of = + - @ TAB CR LF with a leading apostrophe '
 * prepended.  Trade-off, accepted and documented: a phone number typed "+86 138 ..."
 * is written "'+86 138 ..." in both files (the XLSX cell's text really starts with the
 * apostrophe; Excel does not hide it as it would for a typed-in quote prefix).  NUMBER and
 * DATE cells are never prefixed: they are written by this module from numbers, not from
 * text.  In the XLSX writer text always goes through worksheet_write_string(), never
 * through a formula call, so the prefix there guards the copy-paste and re-export paths.
 *
 * A table is not thread-safe; build it on one thread (the recall merge is serial).
 */
#ifndef NS_TABLE_H
#define NS_TABLE_H

#include <stddef.h>
#include <time.h>

enum { NS_TCELL_EMPTY = 0, NS_TCELL_TEXT, NS_TCELL_NUMBER, NS_TCELL_DATE };

/* Digits after the point a NUMBER cell may ask for. */
#define NS_TABLE_MAX_DECIMALS 15
/* XLSX: widest column (in characters of the default font); longer text wraps. */
#define NS_TABLE_MAX_WIDTH 80
/* XLSX: a cell holds at most this many characters (Excel's limit). */
#define NS_TABLE_MAX_CELL_CHARS 32767

typedef struct {
    int type;          /* NS_CELL_* */
    int decimals;      /* NUMBER: 0..NS_TABLE_MAX_DECIMALS, or -1 = as many as needed */
    double num;        /* NUMBER: the value; DATE: days since 1970-01-01 (whole) */
    char *text;        /* TEXT: UTF-8, owned by the table; NULL otherwise */
} ns_cell_t;

/* Read the fields; change them only through the functions below. */
typedef struct {
    int ncols;
    char **keys;       /* ncols column keys (unique) */
    char **headers;    /* ncols header texts */
    int nrows, mrows;
    ns_cell_t *cells;  /* nrows * ncols, row-major */
    time_t created;    /* XLSX document property "created"; see ns_table_set_created() */
} ns_table_t;

/* A new table with ncols columns.
 * @param keys     ncols column keys, non-empty and unique (copied)
 * @param headers  ncols header texts (copied); NULL, or a NULL entry: the key is used
 * @return the table, or NULL if ncols < 1 or > 16384 (Excel's column limit), a key is
 *         NULL, empty or repeated.  Free with ns_table_free(). */
ns_table_t *ns_table_new(int ncols, const char *const *keys, const char *const *headers);
void ns_table_free(ns_table_t *t);

/* Index of the column with this key, or -1. */
int ns_table_col(const ns_table_t *t, const char *key);

/* Replace the header text of column col (copied; NULL = the key).  0, or -1 if col is out
 * of range or text is not valid UTF-8. */
int ns_table_set_header(ns_table_t *t, int col, const char *text);

/* Append a row of EMPTY cells.  @return its index (0-based, not counting the header). */
int ns_table_add_row(ns_table_t *t);

/* Cell setters.  Each returns 0, or -1 (the cell is left as it was) when row or col is out
 * of range or the value is invalid as stated. */

/* Text (copied).  NULL = EMPTY.  -1 if not valid UTF-8 (overlong forms, surrogates and
 * code points above U+10FFFF are invalid) or if it holds a control character other than
 * TAB, LF and CR (XML 1.0, and so XLSX, cannot carry them). */
int ns_table_set_text(ns_table_t *t, int row, int col, const char *text);
/* A copy of text (caller frees) that ns_table_set_text() accepts: every invalid UTF-8
 * sequence and every character it refuses (controls other than TAB, LF, CR; U+0080-U+009F;
 * U+FFFE, U+FFFF) replaced by U+FFFD, so that a stray byte never blanks a cell. */
char *ns_table_clean_text(const char *text);
/* A number.  NAN or an infinity: the cell becomes EMPTY (missing value, written as
 * nothing).  decimals: 0..NS_TABLE_MAX_DECIMALS or -1 (see the top of this file). */
int ns_table_set_number(ns_table_t *t, int row, int col, double x, int decimals);
/* A date, days since 1970-01-01; -1 unless 1900-03-01 <= day <= 9999-12-31 (the range in
 * which Excel's day numbers are right). */
int ns_table_set_date(ns_table_t *t, int row, int col, long days);
/* A date from "YYYY-MM-DD" (exactly that form, a real day, in the range above).  NULL or
 * "" = EMPTY. */
int ns_table_set_date_str(ns_table_t *t, int row, int col, const char *ymd);
int ns_table_set_empty(ns_table_t *t, int row, int col);

/* The cell at (row, col), NULL if out of range. */
const ns_cell_t *ns_table_cell(const ns_table_t *t, int row, int col);

/* The XLSX "created" property.  Unset, it is 1980-01-01T00:00:00Z (the date every ZIP
 * member carries), so the same table always gives the same bytes; set it to the
 * night's run time to show that in Excel's document properties. */
void ns_table_set_created(ns_table_t *t, time_t when);

/* The text a cell is written as in CSV: numbers formatted, dates as YYYY-MM-DD, text with
 * the anti-formula apostrophe when needed, "" for EMPTY.  New string (caller frees);
 * NULL if out of range.  row -1 = the header. */
char *ns_table_cell_text(const ns_table_t *t, int row, int col);

/* 1 if text must get the leading apostrophe (begins with = + - @ TAB, CR or LF), else 0. */
int ns_table_formula_risk(const char *text);

/* Display width of UTF-8 text in a fixed-width grid: East Asian wide and fullwidth
 * characters (CJK ideographs, kana, hangul, fullwidth forms, most emoji) count 2,
 * combining marks and controls 0, others 1.  With line breaks: the widest line. */
int ns_display_width(const char *text);

/* Write the table as CSV: header line of header texts, then one line per row; fields as
 * ns_table_cell_text(), quoted by ns_csv_field() (RFC 4180 quoting, LF line ends like
 * every neoscreen CSV), UTF-8.
 * @param mode  file mode (0600 for anything holding personal data; applied when the file
 *              is created, so it is never readable by others, not even for a moment)
 * @param bom   nonzero: begin with a UTF-8 byte-order mark (Excel on Windows otherwise
 *              opens the file as the local code page and mangles Chinese text)
 * @return 0, or -1 with errno set and ns_table_error() saying why; the file at path is
 *         then untouched (atomic: atomic_file.h). */
int ns_table_write_csv(const ns_table_t *t, const char *path, int mode, int bom);

/* Write the table as an XLSX workbook of one sheet: bold header row, frozen (it stays in
 * view when scrolling) and with an autofilter; column widths fit the longest text
 * (display width, CJK counting double, at most NS_TABLE_MAX_WIDTH; longer text and text
 * with line breaks wraps, top-aligned); numbers as numbers with the decimals hint as
 * format; dates as Excel dates formatted yyyy-mm-dd; text as strings (never formulas),
 * with the same apostrophe rule as the CSV.
 * @param mode   file mode, as for the CSV
 * @param sheet  sheet name (UTF-8, at most 31 characters, none of []:*?/\, no leading or
 *               trailing apostrophe); NULL = "Sheet1"
 * @return 0, or -1 with ns_table_error() saying why (errno set when a system call failed,
 *         else EINVAL); the file at path is then untouched.
 *
 * Atomic like every output: the workbook is written to PATH.tmp.PID, created with
 * O_EXCL|O_NOFOLLOW and the final mode, fsync'ed, renamed over path, and the directory
 * fsync'ed.  The sheet is deflated as it is written (table_xlsx.c): no temporary file, and
 * the XML of a long list never sits in memory whole. */
int ns_table_write_xlsx(const ns_table_t *t, const char *path, int mode, const char *sheet);

/* 1 if name is a sheet name Excel accepts (1 to 31 characters, none of []:*?/\, no
 * leading or trailing apostrophe), else 0: for checking a config before a run. */
int ns_table_sheet_name_ok(const char *name);

/* Why the last writer call on this thread failed ("" if none did).  Names the file and
 * the reason, never cell contents. */
const char *ns_table_error(void);

#endif
