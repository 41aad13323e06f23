#!/usr/bin/python3
"""xlsx_same_parts.py DIR N — for k in 0..N-1, DIR/kkk.lxw.xlsx (libxlsxwriter's) and
DIR/kkk.ns.xlsx (table_xlsx.c's) must hold the same members, in the same order, with the
same bytes once inflated.  Prints the first difference of each pair and exits 1 if there
was any, else prints "same parts: N workbooks, M members"."""
import sys
import zipfile


def main():
    d, n = sys.argv[1], int(sys.argv[2])
    bad = members = 0
    for k in range(n):
        a = zipfile.ZipFile("%s/%03d.lxw.xlsx" % (d, k))
        b = zipfile.ZipFile("%s/%03d.ns.xlsx" % (d, k))
        if b.testzip() is not None:
            print("%03d: a damaged member in ours: %s" % (k, b.testzip()))
            bad += 1
        na, nb = a.namelist(), b.namelist()
        if na != nb:
            print("%03d: members %s, ours %s" % (k, na, nb))
            bad += 1
            continue
        for m in na:
            x, y = a.read(m), b.read(m)
            members += 1
            if x != y:
                i = next((j for j in range(min(len(x), len(y))) if x[j] != y[j]), min(len(x), len(y)))
                print("%03d %s: differs at byte %d\n  libxlsxwriter: %r\n  ours:          %r"
                      % (k, m, i, x[max(0, i - 60):i + 60], y[max(0, i - 60):i + 60]))
                bad += 1
    if bad:
        sys.exit(1)
    print("same parts: %d workbooks, %d members" % (n, members))


main()
