/* xlsx_read.h — read the first worksheet of an XLSX workbook as rows of text cells.
 *
 * Why: the follow-up team fills in the list `followup list -o FILE.xlsx` wrote (or any sheet
 * with the right columns) and gives it back; `followup import` reads it.  This is
 * a small reader of what spreadsheets save: the ZIP container
 * (stored or deflated members, zlib), xl/sharedStrings.xml and the first sheet
 * (xl/worksheets/sheet1.xml, else the first xml member of xl/worksheets/).  Cells become text:
 * shared and inline strings as they are (rich-text runs joined), numbers as written in
 * the file (the shortest round-trip form Excel and openpyxl write), booleans "TRUE"/"FALSE";
 * formulas give their cached value.  Dates are numbers in XLSX (days since 1899-12-30);
 * ns_xlsx_serial_to_time() turns one into a time.  No formatting, no other sheets.
 *
 * Limits (a file beyond them is refused, not half-read): 64 MiB per member uncompressed,
 * 1,048,576 rows and 16,384 columns (Excel's own).
 */
#ifndef NS_XLSX_READ_H
#define NS_XLSX_READ_H

#include <stddef.h>

typedef struct {
    int r;            /* spreadsheet row number (1-based) */
    int n;            /* cells: columns 0 .. n-1 (A = 0) */
    char **cells;     /* n entries, NULL = empty cell; UTF-8 */
} ns_xlsx_row_t;

typedef struct {
    ns_xlsx_row_t *rows;   /* in row order, rows without any cell left out */
    int nrows;
} ns_xlsx_sheet_t;

/* Read path's first worksheet.  @return 0, or -1 with "PATH: why" in err (not a ZIP, no
 * worksheet, a damaged member, too large). */
int ns_xlsx_read(const char *path, ns_xlsx_sheet_t *out, char *err, size_t errlen);
void ns_xlsx_free(ns_xlsx_sheet_t *s);

/* "A", "B", ..., "Z", "AA", ... for column index col (0-based) into out. */
void ns_xlsx_col_name(int col, char out[8]);

/* An Excel serial date-time (days since 1899-12-30, the 1900 date system) as
 * "YYYY-MM-DDTHH:MM:SS", rounded to the second.  -1 if s is not a number in
 * 1900-03-01 .. 9999-12-31. */
int ns_xlsx_serial_to_time(const char *s, char out[24]);

#endif
