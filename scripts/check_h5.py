#!/usr/bin/python3
"""check_h5.py — check a neoscreen HDF5 batch archive with an independent reader (h5py).

Usage: check_h5.py FILE [--expect-rows N]

Checks the layout documented in pipeline/write_hdf5.h ("neoscreen-batch/1"): the root
attributes, the panel text and its SHA-256, /inputs, /samples, the analyte, ratio, flag and
call matrices (shapes agree with /samples and with their name lists), state codes against
state names, the nothing-lost arithmetic (wells_read = rows + quarantined wells), and that
no personal-data field (mother_name, contact_phone, birth/collection time) exists anywhere.

Prints one summary line on success and exits 0.  On any problem prints one line per
problem ("check_h5: FILE: problem") and exits 1; usage errors exit 2.

Run it as /usr/bin/python3 (Debian's python3-h5py and python3-numpy; BUILD-NOTES G7).
"""
import argparse
import hashlib
import re
import sys

try:
    import h5py
    import numpy as np
except ImportError as e:  # pragma: no cover
    sys.exit("check_h5: %s (run with /usr/bin/python3; needs python3-h5py, python3-numpy)" % e)

FORMAT = "neoscreen-batch/1"
ROOT_STR_ATTRS = ["format", "software_version", "command_line", "panel_name", "panel_version",
                  "panel_kit", "panel_sha256"]
ROOT_INT_ATTRS = ["n_samples", "wells_read", "n_quarantined_wells"]
INPUT_FIELDS = ["kind", "name", "path", "sha256", "encoding", "status", "n_wells", "error"]
SAMPLE_FIELDS = ["sample_id", "plate_id", "well", "sample_type", "state", "manifest_line",
                 "infant_id", "specimen", "sex", "hospital", "birth_weight_g",
                 "gestational_age_days", "age_hours", "feeding", "transfusion", "antibiotics",
                 "nicu"]
SLOT_FIELDS = ["condition", "condition_index", "marker", "marker_index", "role", "direction",
               "cutoff", "borderline", "critical"]
UNPLATED_FIELDS = ["sample_id", "infant_id", "line"]
PERSONAL = re.compile(r"mother|phone|birth_time|collection_time", re.I)
HEX64 = re.compile(r"^[0-9a-f]{64}$")
N_CELL, N_FLAG, N_CALL = 5, 5, 5          # NS_CELL_*, NS_FLAG_*, NS_CALL_* code counts


def text(v):
    """h5py gives str for variable-length strings, bytes for fixed-length ones."""
    if isinstance(v, (bytes, np.bytes_)):
        return bytes(v).decode("utf-8", "replace")
    if isinstance(v, np.ndarray) and v.shape == ():
        return text(v[()])
    return str(v)


class Checker:
    def __init__(self, path):
        self.path = path
        self.problems = []

    def bad(self, msg):
        self.problems.append(msg)

    def dataset(self, f, name, ndim=None):
        obj = f.get(name)
        name = "/" + name.lstrip("/")
        if obj is None:
            self.bad("%s is missing" % name)
            return None
        if not isinstance(obj, h5py.Dataset):
            self.bad("%s is not a dataset" % name)
            return None
        if ndim is not None and obj.ndim != ndim:
            self.bad("%s has %d dimensions, expected %d" % (name, obj.ndim, ndim))
            return None
        return obj

    def fields(self, ds, want):
        names = ds.dtype.names or ()
        missing = [k for k in want if k not in names]
        if missing:
            self.bad("%s lacks field(s) %s" % (ds.name, ", ".join(missing)))
            return False
        return True

    def names_list(self, f, name, length):
        ds = self.dataset(f, name, 1)
        if ds is None:
            return []
        if ds.dtype.kind not in "SOU":
            self.bad("%s is not a list of strings" % ds.name)
            return []
        vals = [text(v) for v in ds[()]]
        if length is not None and len(vals) != length:
            self.bad("%s has %d entries, expected %d" % (ds.name, len(vals), length))
        return vals

    def matrix(self, f, name, n, ncol, kind, max_code=None):
        ds = self.dataset(f, name, 2)
        if ds is None:
            return None
        name = ds.name
        if ds.shape != (n, ncol):
            self.bad("%s has shape %s, expected (%d, %d)" % (name, ds.shape, n, ncol))
            return None
        if ds.dtype.kind != kind:
            self.bad("%s has type %s" % (name, ds.dtype))
        if n > 0 and ncol > 0 and (ds.chunks is None or ds.compression != "gzip"
                                   or not ds.shuffle):
            self.bad("%s is not chunked with shuffle + deflate" % name)
        if "dims" not in ds.attrs:
            self.bad("%s has no dims attribute" % name)
        data = ds[()]
        if max_code is not None and data.size and int(data.max()) >= max_code:
            self.bad("%s holds code %d (codes are < %d)" % (name, int(data.max()), max_code))
        return data

    def personal_names(self, f):
        hits = []

        def visit(name, obj):
            for k in obj.attrs.keys():
                if PERSONAL.search(k):
                    hits.append("%s@%s" % (name, k))
            if PERSONAL.search(name.rsplit("/", 1)[-1]):
                hits.append(name)
            if isinstance(obj, h5py.Dataset) and obj.dtype.names:
                hits.extend("%s.%s" % (name, k) for k in obj.dtype.names if PERSONAL.search(k))

        for k in f.attrs.keys():
            if PERSONAL.search(k):
                hits.append("/@" + k)
        f.visititems(visit)
        for h in hits:
            self.bad("personal-data name in the archive: %s" % h)

    def run(self, expect_rows):
        try:
            f = h5py.File(self.path, "r")
        except (OSError, ValueError) as e:
            self.bad("cannot open as HDF5: %s" % e)
            return None
        with f:
            return self.check(f, expect_rows)

    def check(self, f, expect_rows):
        a = f.attrs
        for k in ROOT_STR_ATTRS + ROOT_INT_ATTRS:
            if k not in a:
                self.bad("root attribute %s is missing" % k)
        if self.problems:
            return None
        if text(a["format"]) != FORMAT:
            self.bad("format is %r, expected %r" % (text(a["format"]), FORMAT))
        root_sha = text(a["panel_sha256"])
        if not HEX64.match(root_sha):
            self.bad("panel_sha256 %r is not 64 lowercase hex digits" % root_sha)

        # the panel text and its digest
        ds = self.dataset(f, "config/panel_yaml", 0)
        if ds is not None:
            raw = ds[()]
            raw = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)
            digest = hashlib.sha256(raw).hexdigest()
            if text(ds.attrs.get("sha256", "")) != digest:
                self.bad("/config/panel_yaml@sha256 is not the SHA-256 of its bytes (%s)" % digest)
            if root_sha != digest:
                self.bad("panel_sha256 %s is not the SHA-256 of /config/panel_yaml (%s)"
                         % (root_sha, digest))

        # inputs
        n_plates = n_quar_plates = 0
        plate_wells = quar_wells = 0
        ds = self.dataset(f, "inputs", 1)
        inputs_ok = ds is not None and self.fields(ds, INPUT_FIELDS)
        if inputs_ok:
            n_manifest = 0
            for i, r in enumerate(ds[()]):
                kind, status, sha = text(r["kind"]), text(r["status"]), text(r["sha256"])
                if kind not in ("plate", "manifest"):
                    self.bad("/inputs[%d].kind is %r" % (i, kind))
                if status not in ("ok", "quarantined"):
                    self.bad("/inputs[%d].status is %r" % (i, status))
                if sha and not HEX64.match(sha):
                    self.bad("/inputs[%d].sha256 %r is not a hex digest" % (i, sha))
                if kind == "manifest":
                    n_manifest += 1
                elif kind == "plate":
                    n_plates += 1
                    plate_wells += int(r["n_wells"])
                    if status == "quarantined":
                        n_quar_plates += 1
                        quar_wells += int(r["n_wells"])
                        if not text(r["error"]):
                            self.bad("/inputs[%d] is quarantined without an error" % i)
            if n_manifest > 1:
                self.bad("/inputs lists %d manifests" % n_manifest)

        # samples
        ds = self.dataset(f, "samples", 1)
        if ds is None or not self.fields(ds, SAMPLE_FIELDS):
            return None
        samples = ds[()]
        n = len(samples)
        if int(a["n_samples"]) != n:
            self.bad("n_samples is %d but /samples has %d rows" % (int(a["n_samples"]), n))
        if expect_rows is not None and n != expect_rows:
            self.bad("/samples has %d rows, expected %d" % (n, expect_rows))
        wells_read, n_quar = int(a["wells_read"]), int(a["n_quarantined_wells"])
        if wells_read != n + n_quar:
            self.bad("wells_read %d != rows %d + quarantined wells %d" % (wells_read, n, n_quar))
        if inputs_ok and (plate_wells != wells_read or quar_wells != n_quar):
            self.bad("/inputs plate wells (%d, quarantined %d) disagree with wells_read %d, "
                     "n_quarantined_wells %d" % (plate_wells, quar_wells, wells_read, n_quar))

        if "samples_state_code" in f:
            sc = self.dataset(f, "samples_state_code", 1)
            if sc is not None:
                names = [text(v) for v in sc.attrs.get("names", [])]
                codes = sc[()]
                if sc.shape != (n,):
                    self.bad("/samples_state_code has shape %s, expected (%d,)" % (sc.shape, n))
                elif not names:
                    self.bad("/samples_state_code has no names attribute")
                else:
                    for i in range(n):
                        c = int(codes[i])
                        st = text(samples["state"][i])
                        if c >= len(names) or names[c] != st:
                            self.bad("/samples[%d].state %r disagrees with state code %d"
                                     % (i, st, c))
                            break

        # analytes
        grp = f.get("analytes")
        if grp is None:
            self.bad("/analytes is missing")
            return None
        an = self.names_list(f, "analytes/names", None)
        na = len(an)
        self.names_list(f, "analytes/units", na)
        self.names_list(f, "analytes/loinc", na)
        self.matrix(f, "analytes/values", n, na, "f")
        self.matrix(f, "analytes/censoring", n, na, "u", N_CELL)

        rn = []
        if "ratios" in f:
            rn = self.names_list(f, "ratios/names", None)
            self.names_list(f, "ratios/loinc", len(rn))
            self.matrix(f, "ratios/values", n, len(rn), "f")

        conds = []
        if "calls" in f:
            conds = self.names_list(f, "calls/conditions", None)
            self.matrix(f, "calls/values", n, len(conds), "u", N_CALL)

        n_slots = 0
        if "flags" in f:
            sl = self.dataset(f, "flags/slots", 1)
            if sl is not None and self.fields(sl, SLOT_FIELDS):
                slots = sl[()]
                n_slots = len(slots)
                markers = an + rn
                for s, r in enumerate(slots):
                    mi, m = int(r["marker_index"]), text(r["marker"])
                    if "ratios" in f or mi < na:
                        if not 0 <= mi < len(markers) or markers[mi] != m:
                            self.bad("/flags/slots[%d]: marker %r is not marker %d" % (s, m, mi))
                    c = text(r["condition"])
                    if conds and c not in conds:
                        self.bad("/flags/slots[%d]: condition %r not in /calls/conditions"
                                 % (s, c))
                    if text(r["role"]) not in ("primary", "secondary"):
                        self.bad("/flags/slots[%d].role is %r" % (s, text(r["role"])))
                    if text(r["direction"]) not in ("high", "low"):
                        self.bad("/flags/slots[%d].direction is %r" % (s, text(r["direction"])))
            self.matrix(f, "flags/values", n, n_slots, "u", N_FLAG)

        up = self.dataset(f, "manifest_unplated", 1)
        n_unplated = 0
        if up is not None and self.fields(up, UNPLATED_FIELDS):
            n_unplated = len(up)

        self.personal_names(f)
        return ("%s, %d samples, %d analytes, %d ratios, %d flag slots, %d conditions, "
                "%d plates (%d quarantined), %d unplated manifest rows, panel %s %s "
                "sha256 %s" % (FORMAT, n, na, len(rn), n_slots, len(conds), n_plates,
                               n_quar_plates, n_unplated, text(a["panel_name"]),
                               text(a["panel_version"]), root_sha[:12]))


def main(argv):
    ap = argparse.ArgumentParser(prog="check_h5.py",
                                 description="Check a neoscreen HDF5 batch archive.")
    ap.add_argument("file")
    ap.add_argument("--expect-rows", type=int, metavar="N",
                    help="fail unless /samples has exactly N rows")
    args = ap.parse_args(argv)
    c = Checker(args.file)
    summary = c.run(args.expect_rows)
    if c.problems or summary is None:
        for p in c.problems or ["layout check failed"]:
            print("check_h5: %s: %s" % (args.file, p), file=sys.stderr)
        return 1
    print("check_h5: %s: ok: %s" % (args.file, summary))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
