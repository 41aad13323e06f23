#!/usr/bin/python3
"""make-corpus.py — write the bad-input corpus (STYLE R10) deterministically.

    /usr/bin/python3 tests/bad-input/make-corpus.py            the committed files
    /usr/bin/python3 tests/bad-input/make-corpus.py --big DIR  only the large cases, into DIR
                                                               (check.py does this each run)

Writes, next to this script:
  NN.<outcome>.<what>.csv   MS/MS plates: ok (load cleanly), reject (quarantined with one
                            message), hold (read, then held by plate QC)
  good/GOOD.csv             a clean plate run beside every plate case
  good/manifest.csv         LIMS manifest with every patient id of the plate cases and GOOD
  base/                     small configs (panel, QC, hearing, genes) and a clean night
                            (one plate, its manifest, hearing records, one gene plate) in
                            which every case of another kind is run
  manifest/ hearing/ genes/ panel/ qc/ hearing-yaml/ genes-yaml/
                            the cases of every other input kind (see the section below)
  cases.tsv                 file <TAB> kind <TAB> exit status <TAB> the counts of summary.json
                            that must hold: decided here from what each file holds

Large cases (1 MB cells, 10,000 columns) are listed in cases.tsv but written only by --big.
The NAME.expected files (the exact stderr of `neoscreen run`, @DIR@ for the night
directory; none when stderr must be empty) are NOT written here: they were taken from
`check.py --write-missing` and checked by hand against the files, and are kept as they are
when the corpus is regenerated.  hearing/ 01-05, 10-14 and 20-23 are hand-made files.

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


def lcg_bytes(n, seed, banned=b"\0\n\r"):
    """n reproducible pseudo-random bytes, none of them in banned"""
    out, x = bytearray(), seed
    while len(out) < n:
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        b = (x >> 16) & 0xFF
        if b not in banned:
            out.append(b)
    return bytes(out)


# binary garbage: no NUL and no line break, so no data row to count (0 wells)
add("49.reject.binary-garbage.csv", lcg_bytes(3000, 49), 0, [])


def nul_in_cell(p):
    p.row("S2")[p.col("Cit")] = "2\x000"
simple(50, "reject", "embedded-nul", nul_in_cell)
simple(51, "reject", "value-inf", set_cell("S1", "Phe", "inf"))
simple(52, "reject", "value-1e308", set_cell("S2", "C16", "1e308"))


def path_and_formula_ids(p):
    p.row("S1")[p.col("Phe")] = "900"        # on the recall list: PKU
    p.row("S2")[p.col("C8")] = "2.5"         # and MCAD
    for r in p.rows:
        r[0] = "../../BI53"
    for sid, new in [("S1", "../../x"), ("S2", "=cmd()"), ("S3", "@SUM(A1)")]:
        p.row(sid)[2] = new
    p.patients = ["../../x", "=cmd()", "@SUM(A1)"]
simple(53, "ok", "ids-like-paths-and-formulas", path_and_formula_ids)


def formula_plate_qc_fail(p):
    p.row("QCL")[p.col("Phe")] = "100"       # 10 SD above its target: 1-3s rejects the plate
    p.row("S3")[2] = "-1+1"
    for r in p.rows:
        r[0] = "=HYPERLINK(\"http://x\")"
    p.patients = [p.pid + "-S1", p.pid + "-S2", "-1+1"]
simple(54, "hold", "formula-plate-id-qc-fail", formula_plate_qc_fail)


def sample_of_good_plate(p):
    p.row("S1")[2] = "GOOD-S1"               # the card is also on GOOD.csv: a re-run, both read
    p.patients.remove(p.pid + "-S1")
simple(55, "ok", "duplicate-sample-id-across-plates", sample_of_good_plate)


def same_card_twice(p):
    p.row("S3")[2] = p.pid + "-S2"           # the same card punched into two wells
    p.patients.remove(p.pid + "-S3")
simple(56, "ok", "duplicate-sample-id-within-plate", same_card_twice)
simple(57, "reject", "sample-id-too-long", set_cell("S1", "sample_id", "S" * 64))


def comma_decimal_unquoted(p):
    p.row("S1")[p.col("C3")] = "1,84"        # a decimal comma in a comma-separated file
simple(58, "reject", "decimal-comma-unquoted", comma_decimal_unquoted)


def semicolons(p):
    return "\n".join(";".join(r) for r in [p.header] + p.rows) + "\n"
simple(59, "reject", "semicolon-separated", semicolons)


# ---- large plates: written by --big only (make test writes them into a temporary directory)

BIG = {}        # file name -> function returning its bytes


def big_cell_value(p):
    p.row("S2")[p.col("Met")] = "1" * (1 << 20)          # 1 MB of digits: not a finite number
def big_cell_comment(p):
    p.add_column("comment", ["", "", "", "x" * (1 << 20), "", ""])
def ten_thousand_columns(p):
    extra = 10000 - len(p.header)
    p.header += ["IS%d" % k for k in range(extra)]
    for r in p.rows:
        r += [""] * extra


def big(n, outcome, what, edit):
    """like simple(), but the bytes are only written with --big"""
    p = Plate("BI%02d" % n)
    edit(p)
    name = "%02d.%s.%s.csv" % (n, outcome, what)
    CASES.append((name, None, len(p.rows), p.patients))
    BIG[name] = lambda: p.text().encode()


big(60, "reject", "cell-1mb-value", big_cell_value)
big(61, "ok", "cell-1mb-comment", big_cell_comment)
big(62, "ok", "10000-columns", ten_thousand_columns)


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


# =========================================================================================
# Every other input kind: the manifest, hearing.csv, gene plates and the four YAML configs.
# Each case is run as one night made from base/ (a small panel, QC, hearing and gene config,
# and a night of one MS/MS plate, its manifest, hearing records and one gene plate) with one
# file replaced or added:
#
#   manifest/      base/night/manifest.csv replaced
#   hearing/       base/night/hearing.csv replaced (01-05, 10-14, 20-23 are hand-made files)
#   genes/         added to base/night/genes/ beside G01.csv
#   panel/, qc/    given to run as -c / -q
#   hearing-yaml/, genes-yaml/   given as $NEOSCREEN_HEARING / $NEOSCREEN_GENES
#
# cases.tsv holds, per file, the exit status and the counts of summary.json that must hold
# (KEY=VALUE, KEY+KEY=VALUE; "-" when nothing may be written): decided here, by hand, from
# what the file holds.

BASE_PANEL = """\
# Corpus panel: two analytes, one ratio, one condition (PKU as in configs/panel-default.yaml).
panel:
  name: corpus
  version: "1"
  kit: "corpus"
input:
  plate: {rows: 8, cols: 12}
specimen:
  min_age_hours: 24
  max_age_hours: 480
  early_collection: invalid
  missing_collection_age: invalid
  missing_birth_weight: caveat
strata:
  - {name: lbw, covariate: birth_weight_g, lt: 2500}
analytes:
  - {name: Phe, aliases: [Phenylalanine], unit: umol/L}
  - {name: Tyr, aliases: [Tyrosine], unit: umol/L}
ratios:
  - {name: "Phe/Tyr", num: [Phe], den: [Tyr]}
conditions:
  - code: PKU
    name: "Phenylketonuria"
    priority: urgent
    action: referral
    rule: any
    require_secondary: true
    markers:
      - {marker: Phe, role: primary, direction: high, cutoff: 150}
      - {marker: "Phe/Tyr", role: secondary, direction: high, cutoff: 1.7}
followup:
  due_days_of_life: {critical: 5, urgent: 7, routine: 20}
"""

BASE_QC = open(os.path.join(HERE, "qc.yaml"), encoding="utf-8").read()   # the plate corpus' QC

BASE_HEARING = """\
# Corpus hearing protocol: four rules of configs/hearing.yaml.
hearing:
  name: "corpus"
  nicu_aabr_days: 5
  rules:
    - id: risk_surveillance
      when: {risk_factors: true}
      action: surveillance
      reason: hearing_risk_factors
      priority: routine
    - id: rescreen_refer
      when: {stage: rescreen, result: refer}
      action: audiology_referral
      reason: hearing_refer
      priority: urgent
      due: {days_of_life: 90}
      stop: true
    - id: initial_refer
      when: {stage: initial, result: refer}
      action: rescreen
      reason: hearing_refer
      priority: routine
      due: {days_of_life: 42}
      stop: true
    - id: not_tested
      when: {result: not_tested}
      action: rescreen
      reason: hearing_not_tested
      priority: routine
      due: {days_of_life: 42}
      stop: true
"""

BASE_GENES = """\
# Corpus gene config: two loci of configs/genes.yaml, its controls and four of its rules.
genes:
  name: corpus-genes
  version: "1"
  plate_wells: 96
  patient_types: [patient]
  loci:
    - {gene: GJB2, variant: c.235delC, class: pathogenic, aliases: ["GJB2:235delC"]}
    - {gene: MT-RNR1, variant: m.1555A>G, class: aminoglycoside_susceptibility}
  controls:
    - name: wild_type
      sample_type: wt_control
      expect: {default: wt}
    - name: positive
      sample_type: pos_control
      expect: {default: het, "MT-RNR1:m.1555A>G": [heteroplasmic, homoplasmic]}
    - name: blank
      sample_type: [blank, ntc]
      expect: {default: fail}
  rules:
    - id: aminoglycoside
      when: {class: aminoglycoside_susceptibility, min_alleles: 1}
      action: counselling
      priority: urgent
      reason: gene_aminoglycoside
    - id: biallelic
      when: {gene: GJB2, class: pathogenic, min_alleles: 2}
      action: audiology_referral
      priority: urgent
      due: {days_of_life: 90}
      reason: gene_biallelic
    - id: carrier
      when: {class: pathogenic, min_alleles: 1, max_alleles: 1}
      action: carrier_counselling
      priority: routine
      reason: gene_carrier
    - id: fail
      scope: sample
      when: {call: fail}
      action: repeat_specimen
      priority: routine
      reason: gene_fail
"""

# The night: plate N01 (controls A01-A03, four patients; N01-S2 has PKU), their manifest,
# hearing records (INF-N3 refers) and gene plate G01 (N01-S4 is a GJB2 carrier).  Clean:
# exit 0, 7 wells, recall list INF-N2, INF-N3, INF-N4.
BASE_PLATE = [
    "plate_id,well,sample_id,sample_type,Phe,Tyr",
    "N01,A01,N01-QCL,qc_low,50,45",
    "N01,A02,N01-QCH,qc_high,200,180",
    "N01,A03,N01-BLK,blank,0.2,0.1",
    "N01,B01,N01-S1,patient,60,50",
    "N01,B02,N01-S2,patient,600,40",
    "N01,B03,N01-S3,patient,55,48",
    "N01,B04,N01-S4,patient,52,60"]
BASE_MANIFEST = [",".join(MCOLS)] + [
    "N01-S%d,INF-N%d,initial,%s,%d,%d,2026-11-19T08:00,2026-11-21T10:00,breast,0,0,0,Corpus Hospital,"
    "Mother N%d,+86 100 0000 000%d" % (i, i, "FM"[i % 2], 3000 + 100 * i, 275 + i, i, i) for i in range(1, 5)]
BASE_HEARING_CSV = [
    "infant_id,test_time,stage,method,left,right,nicu_days,risk_factors",
    "INF-N1,2026-11-20T10:00,initial,TEOAE,pass,pass,0,",
    "INF-N2,2026-11-20T10:30,initial,TEOAE,pass,pass,0,",
    "INF-N3,2026-11-20T11:00,initial,TEOAE,refer,pass,0,",
    "INF-N4,2026-11-20T11:30,initial,AABR,pass,pass,0,"]
GENE_HEADER = "plate_id,well,sample_id,sample_type,GJB2:c.235delC,MT-RNR1:m.1555A>G"
BASE_GENE = [GENE_HEADER,
             "G01,A01,GENE-WT,wt_control,wt,wt",
             "G01,B01,GENE-POS,pos_control,het,homoplasmic",
             "G01,C01,GENE-BLK,blank,fail,fail",
             "G01,D01,N01-S1,patient,wt,wt",
             "G01,E01,N01-S2,patient,wt,wt",
             "G01,F01,N01-S3,patient,wt,wt",
             "G01,G01,N01-S4,patient,het,wt"]
BASE_WELLS = len(BASE_PLATE) - 1

KCASES = []     # (path, kind, exit, checks, bytes or None for a hand-made file, big function)


def kcase(path, kind, exit, checks, data=None, big_fn=None):
    if isinstance(data, str):
        data = data.encode("utf-8")
    KCASES.append((path, kind, exit, checks, data, big_fn))


def lines(ls, nl="\n", final=True):
    return nl.join(ls) + (nl if final else "")


def replace1(text, old, new):
    """text with old replaced once (old must be there)"""
    assert old in text, old
    return text.replace(old, new, 1)


def big_text(fn):
    return lambda: fn().encode("utf-8")


# ---- manifest/ ------------------------------------------------------------------------------

def mcheck(records, rejected=0, unmatched=0):
    """a usable manifest: every data row kept or rejected; the wells of rejected cards unmatched"""
    return ["manifest.usable=true", "manifest.rows+manifest.rejected_rows=%d" % records,
            "manifest.rejected_rows=%d" % rejected, "states.unmatched=%d" % unmatched,
            "wells_read=%d" % BASE_WELLS]


M_UNUSABLE = ["manifest.usable=false", "manifest.rows=0", "states.unmatched=4", "wells_read=%d" % BASE_WELLS]
MAN = lines(BASE_MANIFEST)


def mcell(row, col, value, text=MAN):
    """the base manifest with the cell of data row row (1-4) in column col set to value"""
    ls = text.rstrip("\n").split("\n")
    f = ls[row].split(",")
    f[MCOLS.index(col)] = value
    ls[row] = ",".join(f)
    return lines(ls)


def m(n, outcome, what, data, exit, checks, big_fn=None):
    kcase("manifest/%02d.%s.%s.csv" % (n, outcome, what), "manifest", exit, checks, data, big_fn)


m(1, "ok", "bom-crlf-no-final-newline", "\ufeff" + lines(BASE_MANIFEST, "\r\n", False), 0, mcheck(4))
m(2, "ok", "columns-reordered-unknown-columns",
  lines([",".join(reversed(l.split(","))) + ",ward" for l in BASE_MANIFEST[:1]] +
        [",".join(reversed(l.split(","))) + ",3B" for l in BASE_MANIFEST[1:]]), 0, mcheck(4))
# formula- and path-shaped ids and texts of babies on the recall list (INF-N2 PKU, INF-N4
# gene carrier): every text cell of both lists must come out guarded
def formula_names():
    rows = [l.split(",") for l in BASE_MANIFEST]
    col = {c: k for k, c in enumerate(MCOLS)}
    rows[2][col["infant_id"]] = "=cmd()"
    rows[2][col["hospital"]] = '"=HYPERLINK(""http://x"")"'
    rows[2][col["mother_name"]] = "@SUM(1+1)"
    rows[4][col["infant_id"]] = "../../x"
    rows[4][col["contact_phone"]] = "-1 555 0100"
    return lines(",".join(r) for r in rows)
m(3, "ok", "ids-and-names-like-formulas-and-paths", formula_names(), 0, mcheck(4))
m(4, "ok", "10000-columns", None, 0, mcheck(4), big_text(lambda: lines(
    [BASE_MANIFEST[0] + "".join(",x%d" % k for k in range(10000 - len(MCOLS)))] +
    [l + "," * (10000 - len(MCOLS)) for l in BASE_MANIFEST[1:]])))
m(5, "ok", "cell-1mb-unknown-column", None, 0, mcheck(4), big_text(lambda: lines(
    [BASE_MANIFEST[0] + ",note"] + [l + "," + ("n" * (1 << 20) if i == 2 else "")
                                    for i, l in enumerate(BASE_MANIFEST[1:], 1)])))
m(6, "ok", "blank-lines", lines(BASE_MANIFEST[:3] + ["", " "] + BASE_MANIFEST[3:]),
  0, mcheck(4))
m(10, "note", "birth-weight-negative", mcell(1, "birth_weight_g", "-3100"), 2, mcheck(4))
m(11, "note", "birth-weight-inf", mcell(1, "birth_weight_g", "inf"), 2, mcheck(4))
m(12, "note", "birth-weight-1e308", mcell(1, "birth_weight_g", "1e308"), 2, mcheck(4))
m(13, "note", "birth-weight-decimal-comma", mcell(2, "birth_weight_g", '"3,200"'), 2, mcheck(4))
m(14, "note", "gestational-age-in-weeks", mcell(3, "gestational_age_days", "39"), 2, mcheck(4))
m(15, "note", "birth-time-not-a-date", mcell(2, "birth_time", "2026-11-31T08:00"), 2, mcheck(4))
m(16, "note", "mother-name-1mb", None, 2, mcheck(4), big_text(lambda: mcell(2, "mother_name", "M" * (1 << 20))))
m(17, "note", "no-contact-columns", lines([",".join(l.split(",")[:12]) for l in BASE_MANIFEST]), 2, mcheck(4))
m(18, "note", "feeding-and-flags-unknown", mcell(3, "nicu", "maybe", mcell(3, "feeding", "donor milk")), 2,
  mcheck(4))
m(20, "row", "truncated-last-row", MAN[:-40], 10, mcheck(4, 1, 1))
m(21, "row", "unbalanced-quote", replace1(MAN, ",Mother N2", ',"Mother N2'), 10, mcheck(4, 1, 1))
m(22, "row", "decimal-comma-unquoted", mcell(3, "birth_weight_g", "3,300"), 10, mcheck(4, 1, 1))
m(23, "row", "duplicate-sample-id-same-infant", lines(BASE_MANIFEST + [BASE_MANIFEST[2]]), 2, mcheck(5, 1, 0))
m(24, "row", "duplicate-sample-id-two-infants",
  lines(BASE_MANIFEST + [BASE_MANIFEST[2].replace("INF-N2", "INF-N9")]), 10, mcheck(5, 2, 1))
m(25, "row", "infant-id-too-long", mcell(1, "infant_id", "I" * 64), 10, mcheck(4, 1, 1))
m(26, "row", "empty-sample-id", mcell(3, "sample_id", ""), 10, mcheck(4, 1, 1))
m(27, "unmatched", "line-break-in-sample-id", mcell(1, "sample_id", '"N01-\nS1"'), 8, mcheck(4, 0, 1))
m(30, "nodata", "header-only", lines(BASE_MANIFEST[:1]), 10,
  ["manifest.usable=true", "manifest.rows=0", "manifest.rejected_rows=0", "states.unmatched=4",
   "wells_read=%d" % BASE_WELLS])
m(31, "unusable", "empty-file", "", 10, M_UNUSABLE)
m(32, "unusable", "binary-garbage", lcg_bytes(2000, 32), 10, M_UNUSABLE)
m(33, "unusable", "embedded-nul", replace1(MAN, "Mother N3", "Mother\0N3"), 10, M_UNUSABLE)
m(34, "unusable", "invalid-utf8-not-gbk", replace1(MAN, "Mother N3", "Mother \udcff\udcfe").encode(
    "utf-8", "surrogateescape"), 10, M_UNUSABLE)
m(35, "unusable", "semicolon-separated", lines(l.replace(",", ";") for l in BASE_MANIFEST), 10, M_UNUSABLE)
m(36, "unusable", "duplicate-column", lines([l + "," + l.split(",")[1] for l in BASE_MANIFEST]), 10, M_UNUSABLE)
m(37, "unusable", "utf16", b"\xff\xfe" + MAN.encode("utf-16-le"), 10, M_UNUSABLE)


# ---- hearing/ -------------------------------------------------------------------------------

def hcheck(read, rejected=0, usable=True):
    return ["hearing.usable=%s" % ("true" if usable else "false"), "hearing.records_read=%d" % read,
            "hearing.records_rejected=%d" % rejected, "wells_read=%d" % BASE_WELLS]


H_UNUSABLE = hcheck(0, 0, False)
HEAR = lines(BASE_HEARING_CSV)


def h(n, outcome, what, data, exit, checks, big_fn=None):
    kcase("hearing/%02d.%s.%s.csv" % (n, outcome, what), "hearing", exit, checks, data, big_fn)


# the hand-made files (their infants, HB01..., are not in the base manifest: a refer among
# them reaches the recall list without contact details, exit bit 8)
h(1, "ok", "plain-lf", None, 0, hcheck(3))
h(2, "ok", "utf8-bom-crlf", None, 0, hcheck(3))
h(3, "ok", "gbk-risk-text", None, 8, hcheck(2))
h(4, "ok", "columns-reordered-any-case", None, 8, hcheck(1))
h(5, "ok", "values-any-case", None, 8, hcheck(2))
h(10, "row", "bad-stage", None, 10, hcheck(2, 1))
h(11, "row", "bad-ear-value", None, 10, hcheck(2, 1))
h(12, "row", "bad-test-time", None, 10, hcheck(1, 1))
h(13, "row", "wrong-field-count", None, 10, hcheck(2, 2))
h(14, "row", "empty-infant-id", None, 2, hcheck(1, 1))
h(20, "unusable", "missing-column", None, 2, H_UNUSABLE)
h(21, "unusable", "duplicate-column", None, 2, H_UNUSABLE)
h(22, "unusable", "empty-file", None, 2, H_UNUSABLE)
h(23, "unusable", "utf16", None, 2, H_UNUSABLE)
# written here
h(6, "ok", "no-final-newline", lines(BASE_HEARING_CSV, final=False), 0, hcheck(4))
h(7, "ok", "10000-columns", None, 0, hcheck(4), big_text(lambda: lines(
    [BASE_HEARING_CSV[0] + "".join(",c%d" % k for k in range(9992))] +
    [l + "," * 9992 for l in BASE_HEARING_CSV[1:]])))
h(8, "ok", "risk-factors-1mb", None, 0, hcheck(4), big_text(
    lambda: replace1(HEAR, "refer,pass,0,", "refer,pass,0," + "r" * (1 << 20))))
h(9, "unmatched", "infant-ids-like-formulas-and-paths",
  lines(BASE_HEARING_CSV + ["=cmd(),2026-11-20T12:00,initial,TEOAE,refer,refer,0,",
                            "../../x,2026-11-20T12:30,initial,DPOAE,pass,refer,0,",
                            "+1 555,2026-11-20T12:40,initial,AABR,not_tested,pass,0,"]), 8, hcheck(7))
# one row 50,000 times over (identical rows are allowed; it took 11 s when every copy was
# compared with every other)
h(28, "ok", "one-row-50000-times", None, 0, hcheck(50003), big_text(
    lambda: lines(BASE_HEARING_CSV + [BASE_HEARING_CSV[3]] * 49999)))
h(15, "row", "truncated-last-row", HEAR[:-12], 2, hcheck(4, 1))
h(16, "row", "unbalanced-quote", replace1(HEAR, "INF-N3,", '"INF-N3,'), 2, hcheck(4, 1))
h(17, "row", "infant-id-too-long", replace1(HEAR, "INF-N3,", "N" * 64 + ","), 2, hcheck(4, 1))
h(18, "note", "nicu-days-negative-inf-1e308-decimal-comma",
  lines([BASE_HEARING_CSV[0]] + [l.replace(",0,", ",%s," % v) for l, v in
                                 zip(BASE_HEARING_CSV[1:], ["-3", "inf", "1e308", '"5,5"'])]), 0, hcheck(4))
h(19, "note", "same-test-two-results", lines(BASE_HEARING_CSV + [BASE_HEARING_CSV[3].replace("refer,pass", "pass,pass")]),
  0, hcheck(5))
h(24, "unusable", "header-only", lines(BASE_HEARING_CSV[:1]), 2, H_UNUSABLE)
h(25, "unusable", "binary-garbage", lcg_bytes(2000, 25), 2, H_UNUSABLE)
h(26, "unusable", "embedded-nul", replace1(HEAR, "TEOAE,refer", "TEO\0AE,refer"), 2, H_UNUSABLE)
h(27, "unusable", "invalid-utf8-not-gbk", replace1(HEAR, "refer,pass,0,", "refer,pass,0,\udcff\udcfe").encode(
    "utf-8", "surrogateescape"), 2, H_UNUSABLE)


# ---- genes/ ---------------------------------------------------------------------------------

def gcheck(wells, quarantined=False, plates_quarantined=None):
    """genes: G01's 7 wells and the case's, every one of them counted"""
    q = 1 if quarantined else 0
    return ["genes.wells_read=%d" % (7 + wells), "genes.wells_quarantined=%d" % (wells * q),
            "genes.plates_quarantined=%d" % (q if plates_quarantined is None else plates_quarantined),
            "genes.wells_add_up=true", "wells_read=%d" % BASE_WELLS]


G02 = [l.replace("G01,", "G02,", 1) for l in BASE_GENE]
GENE = lines(G02)


def g(n, outcome, what, data, exit, checks, big_fn=None):
    kcase("genes/%02d.%s.%s.csv" % (n, outcome, what), "gene", exit, checks, data, big_fn)


def gcell(row, col, value, ls=G02):
    ls = list(ls)
    f = ls[row].split(",")
    f[GENE_HEADER.split(",").index(col)] = value
    ls[row] = ",".join(f)
    return lines(ls)


g(1, "ok", "duplicate-sample-ids-across-plates", GENE, 0, gcheck(7))
g(2, "ok", "bom-crlf-no-final-newline", "\ufeff" + lines(G02, "\r\n", False), 0, gcheck(7))
g(3, "ok", "alias-column-any-case", lines([G02[0].replace("GJB2:c.235delC", "gjb2:235DELC")] +
                                          [l.replace(",het,", ",HET,") for l in G02[1:]]), 0, gcheck(7))
g(4, "ok", "plate-id-like-formula", lines(l.replace("G02,", "=cmd(),", 1) for l in G02), 0, gcheck(7))
g(5, "hold", "formula-plate-id-controls-fail", lines([G02[0]] + [
    l.replace("G02,", "@SUM(1),", 1).replace("pos_control,het,", "pos_control,wt,") for l in G02[1:]]), 4,
  gcheck(7) + ["genes.plates_rejected=1", "genes.gene_hold=4"])
g(10, "reject", "empty-file", "", 2, gcheck(0, True))
g(11, "reject", "header-only", lines(G02[:1]), 2, gcheck(0, True))
g(12, "reject", "truncated-last-row", GENE[:-6], 2, gcheck(7, True))
g(13, "reject", "unbalanced-quote", replace1(GENE, "N01-S3,", '"N01-S3,'), 2, gcheck(7, True))
g(14, "reject", "duplicate-well", replace1(GENE, "G02,F01", "G02,E01"), 2, gcheck(7, True))
g(15, "reject", "binary-garbage", lcg_bytes(2000, 15), 2, gcheck(0, True))
g(16, "reject", "embedded-nul", replace1(GENE, "het,homo", "he\0t,homo"), 2, gcheck(7, True))
g(17, "reject", "invalid-utf8-not-gbk", replace1(GENE, "N01-S3", "N01-S3\udcff\udcfe").encode(
    "utf-8", "surrogateescape"), 2, gcheck(7, True))
g(18, "reject", "unknown-call", gcell(7, "GJB2:c.235delC", "heterozygous"), 2, gcheck(7, True))
g(19, "reject", "het-on-mitochondrial-locus", gcell(7, "MT-RNR1:m.1555A>G", "het"), 2, gcheck(7, True))
g(20, "reject", "sample-id-too-long", gcell(5, "sample_id", "S" * 64), 2, gcheck(7, True))
g(21, "reject", "missing-locus-column", lines(",".join(l.split(",")[:5]) for l in G02), 2, gcheck(7, True))
g(22, "reject", "plate-id-read-twice", lines(BASE_GENE), 2, gcheck(7, True))
g(23, "reject", "10000-columns", None, 2, gcheck(7, True), big_text(lambda: lines(
    [G02[0] + "".join(",vendor%d" % k for k in range(9994))] + [l + "," * 9994 for l in G02[1:]])))
g(24, "reject", "call-1mb", None, 2, gcheck(7, True), big_text(lambda: gcell(7, "GJB2:c.235delC", "h" * (1 << 20))))
g(25, "reject", "semicolon-separated", lines(l.replace(",", ";") for l in G02), 2, gcheck(7, True))


# ---- panel/, qc/, hearing-yaml/, genes-yaml/ -------------------------------------------------

NOTHING = ["-"]      # exit 1: no output directory content, no summary.json

# an alias bomb: ten levels, each a list of nine aliases of the level before (9^10 strings
# if expanded)
BOMB = 'lol0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n' + "".join(
    "lol%d: &a%d [%s]\n" % (k, k, ", ".join(["*a%d" % (k - 1)] * 9)) for k in range(1, 10))


def y(kind, n, outcome, what, data, exit=1, checks=NOTHING, big_fn=None):
    """a config case: kind is also its directory"""
    kcase("%s/%02d.%s.%s.yaml" % (kind, n, outcome, what), kind, exit, checks, data, big_fn)


OK_NIGHT = ["wells_read=%d" % BASE_WELLS, "states.recall=1", "states.negative=3"]
P = BASE_PANEL
y("panel", 1, "ok", "crlf-bom-no-final-newline", "\ufeff" + P.replace("\n", "\r\n").rstrip("\r\n"), 0, OK_NIGHT)
y("panel", 2, "ok", "cutoff-1e308", replace1(P, "cutoff: 150", "cutoff: 1e308"), 0,
  ["wells_read=%d" % BASE_WELLS, "states.recall=0", "states.negative=4"])
y("panel", 10, "reject", "empty-file", "")
y("panel", 11, "reject", "tab-indentation", replace1(P, "  - {name: Tyr", "\t- {name: Tyr"))
y("panel", 12, "reject", "duplicate-key", replace1(P, '  version: "1"\n', '  version: "1"\n  name: corpus2\n'))
y("panel", 13, "reject", "wrong-type-list-for-number", replace1(P, "cutoff: 150", "cutoff: [150]"))
y("panel", 14, "reject", "wrong-type-mapping-for-list",
  replace1(P, "ratios:\n  - {name: \"Phe/Tyr\", num: [Phe], den: [Tyr]}", "ratios:\n  Phe/Tyr: {num: [Phe], den: [Tyr]}"))
y("panel", 15, "reject", "cutoff-inf", replace1(P, "cutoff: 150", "cutoff: .inf"))
y("panel", 16, "reject", "cutoff-negative", replace1(P, "cutoff: 150", "cutoff: -150"))
y("panel", 17, "reject", "cutoff-decimal-comma", replace1(P, "cutoff: 1.7", "cutoff: 1,7"))
y("panel", 18, "reject", "invalid-utf8-not-gbk",
  replace1(P, 'kit: "corpus"', 'kit: "corp\udcff\udcfeus"').encode("utf-8", "surrogateescape"))
y("panel", 19, "reject", "gbk", replace1(P, 'kit: "corpus"', 'kit: "试剂盒"').encode("gbk"))
y("panel", 20, "reject", "embedded-nul", replace1(P, 'kit: "corpus"', 'kit: "cor\0pus"'))
y("panel", 21, "reject", "binary-garbage", lcg_bytes(2000, 21))
# the bomb where the loader takes lists of names: analytes' aliases
y("panel", 22, "reject", "alias-bomb", replace1(
    P, "  - {name: Phe, aliases: [Phenylalanine], unit: umol/L}",
    "  - {name: Phe, aliases: &a0 [l, l, l, l, l, l, l, l, l], unit: umol/L}\n" + "".join(
        "  - {name: X%d, aliases: &a%d [%s], unit: umol/L}\n" % (k, k, ", ".join(["*a%d" % (k - 1)] * 9))
        for k in range(1, 10)).rstrip("\n")))
y("panel", 23, "reject", "self-referring-anchor", replace1(P, "aliases: [Phenylalanine]",
                                                                  "aliases: &s [Phenylalanine, *s]"))
y("panel", 24, "reject", "second-document", P + "---\npanel: {name: other}\n")
y("panel", 25, "reject", "unknown-key-typo", replace1(P, "cutoff: 150", "cutof: 150"))
y("panel", 27, "reject", "bom-then-invalid-utf8-on-line-1", ("\ufeff" + replace1(
    P, "# Corpus panel:", "# Corpus \udcffpanel:")).encode("utf-8", "surrogateescape"))
y("panel", 28, "reject", "flow-nesting-65-deep",
  replace1(P, "followup:", "followup:\n  due_days_of_life: %s1%s\nx_deep:" % ("[" * 65, "]" * 65)))
# libyaml alone took 7 minutes over this one (its scanner keeps state per open bracket)
y("panel", 29, "reject", "flow-nesting-200000-deep", None, big_fn=big_text(
    lambda: replace1(P, "followup:", "x_deep: %s%s\nfollowup:" % ("[" * 200000, "]" * 200000))))
y("panel", 26, "reject", "scalar-1mb", None, big_fn=big_text(
    lambda: replace1(P, 'name: "Phenylketonuria"', 'name: "Phenylketonuria %s"' % ("x" * (1 << 20)))
    .replace('kit: "corpus"', 'kit: "%s"' % ("k" * (1 << 20)))))

Q = BASE_QC
y("qc", 1, "ok", "crlf-no-final-newline", Q.replace("\n", "\r\n").rstrip("\r\n"), 0, OK_NIGHT)
y("qc", 2, "hold", "target-mean-1e308", replace1(Q, "Phe: [50, 5]", "Phe: [1e308, 5]"), 4,
  ["wells_read=%d" % BASE_WELLS, "states.qc_hold=4", "plates.qc_rejected=1"])
y("qc", 10, "reject", "empty-file", "")
y("qc", 11, "reject", "tab-indentation", replace1(Q, "    qc_high: [A02]", "\tqc_high: [A02]"))
y("qc", 12, "reject", "duplicate-analyte-target", replace1(Q, "        Phe: [200, 20]\n",
                                                                "        Phe: [200, 20]\n        Phe: [210, 20]\n"))
y("qc", 13, "reject", "duplicate-key", replace1(Q, "  rules:", "  plate_map: {qc_low: [A01]}\n  rules:"))
y("qc", 14, "reject", "wrong-type-mapping-for-pair", replace1(Q, "Phe: [50, 5]", "Phe: {mean: 50, sd: 5}"))
y("qc", 15, "reject", "sd-zero", replace1(Q, "Phe: [200, 20]", "Phe: [200, 0]"))
y("qc", 16, "reject", "target-negative", replace1(Q, "Phe: [50, 5]", "Phe: [-50, 5]"))
y("qc", 17, "reject", "target-inf", replace1(Q, "Phe: [50, 5]", "Phe: [50, inf]"))
y("qc", 18, "reject", "decimal-comma", replace1(Q, "Phe: [50, 5]", "Phe: [50, 5,5]"))
y("qc", 19, "reject", "well-like-path", replace1(Q, "blank: [A03]", "blank: [../../x]"))
y("qc", 20, "reject", "alias-bomb", Q + BOMB)
y("qc", 21, "reject", "invalid-utf8-not-gbk",
  replace1(Q, "lot: CORPUS-QCH", "lot: CORPUS-\udcffQCH").encode("utf-8", "surrogateescape"))

HY = BASE_HEARING
y("hearing-yaml", 1, "ok", "no-final-newline", HY.rstrip("\n"), 0, OK_NIGHT)
y("hearing-yaml", 10, "reject", "empty-file", "")
y("hearing-yaml", 11, "reject", "tab-indentation", replace1(HY, "    - id: not_tested", "\t- id: not_tested"))
y("hearing-yaml", 12, "reject", "duplicate-key",
  replace1(HY, "      action: surveillance\n", "      action: surveillance\n      action: rescreen\n"))
y("hearing-yaml", 13, "reject", "duplicate-rule-id", replace1(HY, "id: not_tested", "id: initial_refer"))
y("hearing-yaml", 14, "reject", "wrong-type-list-for-mapping",
  replace1(HY, "when: {risk_factors: true}", "when: [risk_factors]"))
y("hearing-yaml", 15, "reject", "due-1e308", replace1(HY, "days_of_life: 90", "days_of_life: 1e308"))
y("hearing-yaml", 16, "reject", "due-negative", replace1(HY, "days_of_life: 42", "days_of_life: -42"))
y("hearing-yaml", 17, "reject", "nicu-days-inf", replace1(HY, "nicu_aabr_days: 5", "nicu_aabr_days: .inf"))
y("hearing-yaml", 18, "reject", "alias-bomb", HY + BOMB)
y("hearing-yaml", 19, "reject", "embedded-nul", replace1(HY, 'name: "corpus"', 'name: "cor\0pus"'))
y("hearing-yaml", 20, "reject", "unknown-value", replace1(HY, "result: not_tested", "result: untested"))

GY = BASE_GENES
y("genes-yaml", 1, "ok", "crlf", GY.replace("\n", "\r\n"), 0, OK_NIGHT)
y("genes-yaml", 10, "reject", "empty-file", "")
y("genes-yaml", 11, "reject", "tab-indentation", replace1(GY, "    - id: carrier", "\t- id: carrier"))
y("genes-yaml", 12, "reject", "duplicate-key", replace1(GY, "      priority: routine\n",
                                                                      "      priority: routine\n      priority: urgent\n"))
y("genes-yaml", 13, "reject", "min-alleles-1e308", replace1(GY, "min_alleles: 2", "min_alleles: 1e308"))
y("genes-yaml", 14, "reject", "alias-bomb", GY + BOMB)
y("genes-yaml", 15, "reject", "invalid-utf8-not-gbk",
  replace1(GY, "name: corpus-genes", "name: corpus-\udcff-genes").encode("utf-8", "surrogateescape"))


def write(rel, data, top=HERE):
    path = os.path.join(top, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def plate_checks(name, wells):
    """a plate case beside GOOD.csv: every well of both counted, the case quarantined or not"""
    q = ".reject." in name
    return ["wells_read=%d" % (wells + len(good.rows)), "states.quarantined=%d" % (wells if q else 0),
            "quarantined=%s" % (name if q else ""), "plates.ok=%d" % (1 if q else 2)]


PLATE_EXIT = {"ok": 0, "reject": 2, "hold": 4}


def main():
    big_dir = None
    if len(sys.argv) == 3 and sys.argv[1] == "--big":
        big_dir = sys.argv[2]
    elif len(sys.argv) != 1:
        sys.exit("usage: make-corpus.py [--big DIR]")
    names = [c[0] for c in CASES]
    assert len(set(n[:2] for n in names)) == len(names), "duplicate case number"
    paths = [k[0] for k in KCASES]
    assert len(set(os.path.dirname(x) + os.path.basename(x)[:2] for x in paths)) == len(paths), "duplicate number"
    if big_dir:        # only the large cases, into big_dir
        for name, fn in BIG.items():
            write(name, fn(), big_dir)
        for path, _, _, _, _, fn in KCASES:
            if fn:
                write(path, fn(), big_dir)
        return
    for name, data, _, _ in CASES:
        if data is not None:
            write(name, data)
    write("good/GOOD.csv", good.text().encode())
    ids = good.patients + [s for c in CASES for s in c[3]]
    assert len(set(ids)) == len(ids)
    man = [",".join(MCOLS)] + [",".join(r) for r in manifest_rows(ids)]
    write("good/manifest.csv", ("\n".join(man) + "\n").encode())

    for rel, text in [("base/panel.yaml", BASE_PANEL), ("base/qc.yaml", BASE_QC),
                      ("base/hearing.yaml", BASE_HEARING), ("base/genes.yaml", BASE_GENES),
                      ("base/night/plates/N01.csv", lines(BASE_PLATE)),
                      ("base/night/manifest.csv", lines(BASE_MANIFEST)),
                      ("base/night/hearing.csv", lines(BASE_HEARING_CSV)),
                      ("base/night/genes/G01.csv", lines(BASE_GENE))]:
        write(rel, text.encode())
    for path, _, _, _, data, fn in KCASES:
        if data is not None:
            write(path, data)
        elif not fn:
            assert os.path.exists(os.path.join(HERE, path)), path + ": a hand-made case is missing"

    tsv = ["# file\tkind\texit status\tsummary.json counts that must hold (written by make-corpus.py)"]
    for name, _, wells, _ in CASES:
        outcome = name.split(".")[1]
        tsv.append("%s\tplate\t%d\t%s" % (name, PLATE_EXIT[outcome], " ".join(plate_checks(name, wells))))
    order = ["manifest", "hearing", "gene", "panel", "qc", "hearing-yaml", "genes-yaml"]
    for path, kind, exit, checks, _, _ in sorted(KCASES, key=lambda k: (order.index(k[1]), k[0])):
        tsv.append("%s\t%s\t%d\t%s" % (path, kind, exit, " ".join(checks)))
    write("cases.tsv", ("\n".join(tsv) + "\n").encode())
    print("wrote %d plate and %d other corpus files (%d of them large, written by --big), base/, "
          "good/, cases.tsv" % (len(CASES), len(KCASES), len(BIG) + sum(1 for k in KCASES if k[5])),
          file=sys.stderr)


main()
