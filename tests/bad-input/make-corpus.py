#!/usr/bin/python3
"""make-corpus.py — write the bad-input plate corpus (STYLE R10) deterministically.

    /usr/bin/python3 tests/bad-input/make-corpus.py

Writes, next to this script:
  NN.ok.<what>.csv       plates that must load cleanly
  NN.reject.<what>.csv   plates that must be quarantined with one message
  good/GOOD.csv          a clean plate run beside every corpus file
  good/manifest.csv      LIMS manifest with every patient id of the corpus and of GOOD
  wells.tsv              file <TAB> number of well rows the file holds (what wells_read
                         must count for it, whether it loads or not)

The NN.reject.*.expected files (one line: the exact stderr message) are NOT written here:
they were taken from `neoscreen run` and checked by hand against the files, and are
kept as they are when the corpus is regenerated.

Every plate has the four fixed columns and all 41 analytes of configs/panel-default.yaml
(in the panel's order unless the case says otherwise), rows qc_low, qc_high, blank and
three patients, with ordinary newborn values (umol/L).  Plate ids BI01, BI02... and
sample ids BI01-S1... are unique across the corpus.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# configs/panel-default.yaml, in its order, with an ordinary newborn value for each
ANALYTES = [
    ("Phe", 50), ("Tyr", 45), ("Xle", 90), ("Val", 95), ("Met", 17), ("Cit", 20),
    ("Arg", 10), ("Orn", 75), ("Gly", 380), ("Ala", 380), ("Pro", 120), ("SUAC", 0.3),
    ("C0", 30), ("C2", 30), ("C3", 2), ("C3DC", 0.1), ("C4", 0.3), ("C5", 0.12),
    ("C5:1", 0.02), ("C5OH", 0.2), ("C5DC", 0.1), ("C6", 0.05), ("C8", 0.07),
    ("C8:1", 0.1), ("C10", 0.1), ("C10:1", 0.05), ("C12", 0.1), ("C12:1", 0.05),
    ("C14", 0.2), ("C14:1", 0.1), ("C14:2", 0.02), ("C14OH", 0.01), ("C16", 3),
    ("C16:1", 0.2), ("C16OH", 0.02), ("C16:1OH", 0.02), ("C18", 1), ("C18:1", 1.5),
    ("C18:2", 0.3), ("C18OH", 0.01), ("C18:1OH", 0.02),
]
NAMES = [a for a, _ in ANALYTES]
FIXED = ["plate_id", "well", "sample_id", "sample_type"]
assert len(ANALYTES) == 41

# one factor per row kind: controls at two levels, a near-zero blank, three patients
FACTOR = {"qc_low": 1.0, "qc_high": 4.0, "blank": 0.004, "S1": 0.92, "S2": 1.07, "S3": 1.15}


def num(x):
    """plain decimal, no exponent, at most 4 decimals, no trailing zeros"""
    s = "%.4f" % x
    s = s.rstrip("0").rstrip(".")
    return "0" if s in ("", "-0") else s


class Plate:
    """a plate as a header and rows of fields (strings), plus the ids it uses"""

    def __init__(self, pid):
        self.pid = pid
        self.header = FIXED + NAMES
        self.rows = []
        self.patients = []
        for well, sid, typ, key in [("A01", pid + "-QCL", "qc_low", "qc_low"),
                                    ("A02", pid + "-QCH", "qc_high", "qc_high"),
                                    ("A03", pid + "-BLK", "blank", "blank"),
                                    ("B01", pid + "-S1", "patient", "S1"),
                                    ("B02", pid + "-S2", "patient", "S2"),
                                    ("B03", pid + "-S3", "patient", "S3")]:
            f = FACTOR[key]
            self.rows.append([pid, well, sid, typ] + [num(v * f) for _, v in ANALYTES])
            if typ == "patient":
                self.patients.append(sid)

    def col(self, name):
        return self.header.index(name)

    def row(self, sid_suffix):
        """the row whose sample id ends with -<sid_suffix> (S1, S2, S3, QCL, QCH, BLK)"""
        for r in self.rows:
            if r[2] == self.pid + "-" + sid_suffix:
                return r
        raise KeyError(sid_suffix)

    def add_column(self, name, values, at=None):
        """add a column (values: one per row) at index at (default: the end)"""
        at = len(self.header) if at is None else at
        self.header.insert(at, name)
        for r, v in zip(self.rows, values):
            r.insert(at, v)

    def text(self, nl="\n", final_nl=True):
        lines = [",".join(self.header)] + [",".join(r) for r in self.rows]
        return nl.join(lines) + (nl if final_nl else "")


def q(s):
    """CSV-quote a field"""
    return '"' + s.replace('"', '""') + '"'


CASES = []      # (file name, bytes, number of well rows, patient ids for the manifest)


def add(name, data, wells, patients):
    if isinstance(data, str):
        data = data.encode("utf-8")
    CASES.append((name, data, wells, patients))


def simple(n, outcome, what, edit=None, nl="\n", final_nl=True, enc="utf-8", prefix=b""):
    """the usual plate BI<n>, changed by edit(plate) -> optional text, written as name"""
    p = Plate("BI%02d" % n)
    text = edit(p) if edit else None
    if text is None:
        text = p.text(nl, final_nl)
    add("%02d.%s.%s.csv" % (n, outcome, what), prefix + text.encode(enc), len(p.rows), p.patients)
    return p


# ---- plates that must load ----------------------------------------------------------

simple(1, "ok", "plain-lf")
simple(2, "ok", "crlf", nl="\r\n")
simple(3, "ok", "utf8-bom", prefix=b"\xef\xbb\xbf")


def gbk_comment(p):
    notes = ["质控低值", "质控高值", "空白", "新生儿科 3床，足跟血", "产科 12床", "溶血，建议复查"]
    p.add_column("comment", [q(s) for s in notes])
simple(4, "ok", "gbk-hospital-text", gbk_comment, enc="gbk")


def quoted(p):
    for r in p.rows:
        r[2] = q(r[2])                      # quoted sample ids
    p.header = [q(h) if ":" in h else h for h in p.header]   # "C5:1" as spreadsheets write it
    p.add_column("comment", [q(s) for s in ["", "lot 24-117", "", 'card marked "urgent"',
                                            "NICU, bed 4", 'mother on "carnitine", pivalate abx']])
simple(5, "ok", "quoted-fields", quoted)


VENDOR = {"Xle": "Leu", "SUAC": "SA", "C0": "FC", "C5:1": "C51", "C8:1": "C81", "C10:1": "C101",
          "C12:1": "C121", "C14:1": "C141", "C14:2": "C142", "C16:1": "C161", "C16:1OH": "C16:1-OH",
          "C18:1": "C181", "C18:2": "C182", "C18:1OH": "C181OH", "C3DC": "C3DC+C4OH",
          "C5DC": "C5DC+C6OH", "C5OH": "C5-OH", "C14OH": "C14-OH", "C16OH": "C16-OH",
          "C18OH": "C18-OH", "Orn": "Orn+Asn"}


def vendor(p):
    p.header = [VENDOR.get(h, h) for h in p.header]
simple(6, "ok", "vendor-headers", vendor)


def censored(p):
    p.row("QCL")[p.col("C14OH")] = "<0.01"
    p.row("BLK")[p.col("Phe")] = "ND"
    p.row("BLK")[p.col("C5:1")] = ""
    p.row("S1")[p.col("SUAC")] = "ND"          # succinylacetone is usually not detected
    p.row("S1")[p.col("C18OH")] = "<0.01"
    p.row("S2")[p.col("C14OH")] = "< 0.01"
    p.row("S2")[p.col("C16:1OH")] = "NaN"
    p.row("S3")[p.col("C18:1OH")] = ""
    p.row("S3")[p.col("C14:2")] = "nan"
simple(7, "ok", "censored-cells", censored)


def unpadded(p):
    for r in p.rows:
        r[1] = r[1][0] + str(int(r[1][1:]))
simple(8, "ok", "well-a1-unpadded", unpadded)


def extra_columns(p):
    p.add_column("Phe-d5 IS", ["812", "790", "805", "799", "821", "808"], at=p.col("Tyr"))
    p.add_column("Rack", ["R7"] * 6, at=2)
    p.add_column("Acquired", ["2026-11-21 02:14"] * 6)
simple(9, "ok", "extra-unknown-column", extra_columns)


def blank_negative(p):
    b = p.row("BLK")
    for a, v in [("Phe", "-0.12"), ("C3", "-0.003"), ("C16", "-0.01"), ("C18:1OH", "-0.0005")]:
        b[p.col(a)] = v
simple(10, "ok", "blank-negative", blank_negative)


def vendor_fixed(p):
    p.header[:4] = ["Plate ID", "Position", "Sample text", "Sample Type"]
    for r, t in zip(p.rows, ["Level 1", "Level 2", "B", "P", "unknown", "Sample"]):
        r[3] = t
simple(11, "ok", "vendor-fixed-columns", vendor_fixed)


def reordered(p):
    order = [3, 0, 2, 1] + [4 + i for i in range(41)][::-1]     # type first, analytes reversed
    p.header = [p.header[i] for i in order]
    p.rows = [[r[i] for i in order] for r in p.rows]
simple(12, "ok", "columns-reordered", reordered)


def spaces_blank_lines(p):
    lines = [",".join(p.header)]
    for i, r in enumerate(p.rows):
        lines.append(", ".join(" %s\t" % x if i % 2 else x for x in r))
        if i == 2:
            lines += ["", "   ", "\t"]
    return "\r\n".join(lines) + "\r\n\r\n\r\n"
simple(13, "ok", "spaces-and-blank-lines", spaces_blank_lines)

simple(14, "ok", "no-final-newline", final_nl=False)


def case_variants(p):
    for r, t in zip(p.rows, ["QC_LOW", "Qc_High", "BLANK", "Patient", "PATIENT", "patient"]):
        r[3] = t
    for r in p.rows:
        r[1] = r[1].lower()
    p.header = [h.upper() for h in p.header]
simple(15, "ok", "case-insensitive-names", case_variants)


def multiline_comment(p):
    p.add_column("comment", [q(s) for s in ["", "", "", "repeat card:\nfirst spot was smeared",
                                            "", "transfused 2026-11-19\r\nsee chart"]],
                 at=4)
simple(16, "ok", "quoted-multiline-comment", multiline_comment)


def number_forms(p):
    s = p.row("S1")
    for a, v in [("Phe", "50."), ("Tyr", ".45e2"), ("Xle", "+90"), ("C3", "2.0E0"), ("C5", "0.120000")]:
        s[p.col(a)] = v
simple(17, "ok", "number-forms", number_forms)


# ---- plates that must be quarantined ------------------------------------------------

def set_cell(sid, col, value):
    def e(p):
        p.row(sid)[p.col(col)] = value
    return e


simple(20, "reject", "well-I13", set_cell("QCH", "well", "I13"))
simple(21, "reject", "well-A13", set_cell("S2", "well", "A13"))
simple(22, "reject", "well-not-a-name", set_cell("S1", "well", "1A"))
simple(23, "reject", "duplicate-well", set_cell("S3", "well", "B01"))
simple(24, "reject", "non-numeric-cell", set_cell("S2", "Met", "N/A"))


def drop_c8(p):
    i = p.col("C8")
    p.header.pop(i)
    for r in p.rows:
        r.pop(i)
simple(25, "reject", "missing-analyte-column", drop_c8)


def truncated(p):
    head, last = p.text(final_nl=False).rsplit("\n", 1)
    cut = [i for i, ch in enumerate(last) if ch == ","][22] + 3    # 2 characters into C5OH
    return head + "\n" + last[:cut]                                # no newline at the end
simple(26, "reject", "truncated-row", truncated)


def extra_field(p):
    p.row("S2").append("0.3")
simple(27, "reject", "extra-field", extra_field)


def unterminated(p):
    r = p.row("S1")
    r[2] = '"' + r[2]
simple(28, "reject", "unterminated-quote", unterminated)

simple(29, "reject", "mixed-plate-ids", set_cell("S2", "plate_id", "BI29B"))
simple(30, "reject", "unknown-sample-type", set_cell("BLK", "sample_type", "calibrator"))
simple(31, "reject", "empty-sample-id", set_cell("S2", "sample_id", ""))
simple(32, "reject", "negative-patient-value", set_cell("S3", "C5", "-0.05"))


def invalid_bytes(p):
    p.add_column("comment", ["", "", "", "", "hem\udcff\udcffolysed", ""])
    return p.text().encode("utf-8", "surrogateescape").decode("latin-1")
simple(33, "reject", "invalid-encoding", invalid_bytes, enc="latin-1")

simple(34, "reject", "utf16", enc="utf-16-le", prefix=b"\xff\xfe")


def header_only(p):
    p.rows = []
    p.patients = []
simple(35, "reject", "header-only", header_only)
add("36.reject.empty-file.csv", b"", 0, [])


def xle_and_leu(p):
    p.add_column("Leu", [r[p.col("Xle")] for r in p.rows])
simple(37, "reject", "duplicate-analyte-columns", xle_and_leu)


def no_well(p):
    for r in p.rows:
        r.pop(1)
    p.header.pop(1)
simple(38, "reject", "missing-well-column", no_well)
simple(39, "reject", "hex-number", set_cell("S1", "Gly", "0x1A"))


def after_quote(p):
    p.row("S2")[2] = '"BI40-S2"-R'
simple(40, "reject", "text-after-quote", after_quote)

simple(41, "reject", "decimal-comma", set_cell("S3", "C5DC", q("0,12")))


def utf8_chinese_then_bad_byte(p):
    p.add_column("comment", ["", "", "", "新生儿科", "产科 12床 hem\udcffolysed", ""], at=4)
    return p.text().encode("utf-8", "surrogateescape").decode("latin-1")
simple(42, "reject", "bad-byte-after-utf8-chinese", utf8_chinese_then_bad_byte, enc="latin-1")

simple(43, "reject", "well-zero", set_cell("S3", "well", "B00"))


def multiline_then_bad(p):
    p.add_column("comment", [q(s) for s in ["", "", "", "", "repeat card:\nspot smeared", ""]],
                 at=4)
    p.row("S2")[p.col("Tyr")] = "4S"
simple(44, "reject", "bad-value-after-multiline-field", multiline_then_bad)


def gbk_then_bad(p):
    p.add_column("comment", [q(s) for s in ["", "", "", "新生儿科 3床，足跟血", "", ""]], at=4)
    p.row("S1")[p.col("Met")] = "1\uff17"            # full-width 7 from a Chinese IME
simple(45, "reject", "gbk-then-bad-value", gbk_then_bad, enc="gbk")

simple(46, "reject", "cr-only-line-ends", nl="\r")
add("47.reject.xlsx-renamed.csv",
    b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00b\xee\x9dh^\x01\x00\x00\x90\x04\x00\x00"
    b"\x13\x00\x08\x02[Content_Types].xml \xa2\x04\x02(\xa0\x00\x02\x00\x00", 0, [])


def bom_dup(p):
    p.add_column("Leucine", [r[p.col("Xle")] for r in p.rows], at=p.col("Val"))
simple(48, "reject", "bom-duplicate-analyte-columns", bom_dup, prefix=b"\xef\xbb\xbf")


# ---- the clean plate run beside each case, and the manifest -----------------------------

good = Plate("GOOD")
good.rows = []
good.patients = []
for k, well in enumerate(["A01", "A02", "A03", "C01", "C02", "C03", "C04", "C05"]):
    typ = ["qc_low", "qc_high", "blank"][k] if k < 3 else "patient"
    sid = ["GOOD-QCL", "GOOD-QCH", "GOOD-BLK"][k] if k < 3 else "GOOD-S%d" % (k - 2)
    f = FACTOR[typ] if k < 3 else [0.88, 0.95, 1.0, 1.08, 1.2][k - 3]
    good.rows.append(["GOOD", well, sid, typ] + [num(v * f) for _, v in ANALYTES])
    if typ == "patient":
        good.patients.append(sid)

MCOLS = ["sample_id", "infant_id", "specimen", "sex", "birth_weight_g", "gestational_age_days",
         "birth_time", "collection_time", "feeding", "transfusion", "antibiotics", "nicu",
         "hospital", "mother_name", "contact_phone"]
HOSPITALS = ["City Maternity", "St. Anne", "County General", "University Women's"]
FEEDING = ["breast", "formula", "mixed", "breast", "breast", "tpn"]


def manifest_rows(ids):
    rows = []
    for i, sid in enumerate(ids):
        day = 18 + i % 3
        bh = (i * 7) % 24
        hours = 48 + (i * 5) % 25                       # collected 48-72 h after birth
        ch = bh + hours
        cday, ch = day + ch // 24, ch % 24
        nicu = 1 if FEEDING[i % 6] == "tpn" else 0
        rows.append([sid, "INF-%05d" % (1001 + i), "first", "FM"[i % 2],
                     str(2600 + (i * 137) % 1500), str(266 + (i * 3) % 21),
                     "2026-11-%02dT%02d:%02d" % (day, bh, (i * 11) % 60),
                     "2026-11-%02dT%02d:%02d" % (cday, ch, (i * 17) % 60),
                     FEEDING[i % 6], "0", "0", str(nicu), HOSPITALS[i % 4],
                     "Mother %03d" % (i + 1), "555-01%02d" % (i % 100)])
    return rows


def write(rel, data):
    path = os.path.join(HERE, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def main():
    names = [c[0] for c in CASES]
    assert len(set(n[:2] for n in names)) == len(names), "duplicate case number"
    for name, data, _, _ in CASES:
        write(name, data)
    write("good/GOOD.csv", good.text().encode())
    ids = good.patients + [s for c in CASES for s in c[3]]
    assert len(set(ids)) == len(ids)
    man = [",".join(MCOLS)] + [",".join(r) for r in manifest_rows(ids)]
    write("good/manifest.csv", ("\n".join(man) + "\n").encode())
    tsv = "".join("%s\t%d\n" % (n, w) for n, _, w, _ in CASES)
    write("wells.tsv", ("good/GOOD.csv\t%d\n" % len(good.rows) + tsv).encode())
    print("wrote %d corpus files, good/GOOD.csv, good/manifest.csv, wells.tsv" % len(CASES),
          file=sys.stderr)


main()
