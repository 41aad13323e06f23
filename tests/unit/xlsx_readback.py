#!/usr/bin/python3
"""xlsx_readback.py CSV XLSX SHEET MODE — read a table written by ns_table_write_csv and
ns_table_write_xlsx back with independent readers (Python's csv module and openpyxl, from
Debian: run as /usr/bin/python3, BUILD-NOTES G7) and check that the two files say the
same thing, row for row and cell for cell.

Checks: both files have mode MODE (octal); the CSV starts with a UTF-8 BOM; the sheet is
named SHEET; the header row is frozen (freeze_panes "A2") and bold; every XLSX cell,
rendered as the CSV renders it (numbers with the decimals of their number format, dates
as YYYY-MM-DD), equals the CSV field; date cells are real dates formatted yyyy-mm-dd;
number cells are numbers; text cells are strings, never formulas.  Prints one line per
problem and exits 1 if there was any, else prints "readback ok: R rows, C columns".
"""
import csv
import datetime
import os
import stat
import sys

import openpyxl


def render(cell):
    """The text the CSV writer would give this XLSX cell."""
    v = cell.value
    if v is None:
        return ""
    if isinstance(v, datetime.datetime):
        return v.date().isoformat()
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        fmt = cell.number_format
        if fmt == "General":
            return "%.15g" % v
        dec = len(fmt.split(".")[1]) if "." in fmt else 0
        return "%.*f" % (dec, v)
    return str(v)


def main():
    csv_path, xlsx_path, sheet, mode = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4], 8)
    bad = []
    for p in (csv_path, xlsx_path):
        m = stat.S_IMODE(os.stat(p).st_mode)
        if m != mode:
            bad.append("%s: mode %o, expected %o" % (p, m, mode))
    raw = open(csv_path, "rb").read()
    if not raw.startswith(b"\xef\xbb\xbf"):
        bad.append("CSV has no UTF-8 BOM")
    with open(csv_path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))

    wb = openpyxl.load_workbook(xlsx_path)
    if wb.sheetnames != [sheet]:
        bad.append("sheets %r, expected [%r]" % (wb.sheetnames, sheet))
    ws = wb[wb.sheetnames[0]]
    if ws.freeze_panes != "A2":
        bad.append("freeze_panes %r, expected 'A2'" % ws.freeze_panes)
    xrows = list(ws.iter_rows())
    if len(xrows) != len(rows):
        bad.append("XLSX has %d rows, CSV %d" % (len(xrows), len(rows)))
    for c in xrows[0] if xrows else []:
        if not c.font.b:
            bad.append("header cell %s is not bold" % c.coordinate)
    dates = numbers = 0
    for r, (crow, xrow) in enumerate(zip(rows, xrows)):
        if len(xrow) != len(crow):
            bad.append("row %d: XLSX %d cells, CSV %d" % (r + 1, len(xrow), len(crow)))
        for c, (field, cell) in enumerate(zip(crow, xrow)):
            if cell.data_type == "f" or (isinstance(cell.value, str) and cell.value.startswith("=")):
                bad.append("%s is a formula: %r" % (cell.coordinate, cell.value))
            if isinstance(cell.value, datetime.datetime):
                dates += 1
                if cell.number_format != "yyyy-mm-dd" or not cell.is_date:
                    bad.append("%s: date with format %r" % (cell.coordinate, cell.number_format))
            elif isinstance(cell.value, (int, float)):
                numbers += 1
            if render(cell) != field:
                bad.append("%s: XLSX %r, CSV %r" % (cell.coordinate, render(cell), field))
    if dates == 0:
        bad.append("no date cell in the XLSX")
    if numbers == 0:
        bad.append("no number cell in the XLSX")
    for b in bad:
        print("readback: " + b)
    if bad:
        return 1
    print("readback ok: %d rows, %d columns, %d dates, %d numbers"
          % (len(rows), len(rows[0]) if rows else 0, dates, numbers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
