#!/usr/bin/python3
"""check_h5.py — check a neoscreen HDF5 batch archive with an independent reader (h5py).

Usage: check_h5.py FILE [--expect-rows N]

Checks the layout documented in pipeline/write_hdf5.h ("neoscreen-batch/1"): the root
attributes, the panel text and its SHA-256, /inputs, /samples, the analyte, ratio, flag and
call matrices (shapes agree with /samples and with their name lists), state codes against
state names, the nothing-lost arithmetic (wells_read = rows + quarantined wells), and that
no personal-data field (mother_name, contact_phone, birth/collection time) exists anywhere.
When /qc (plate QC results) is present: /qc/plates has one row per plate row of /inputs
(same files, same order), /qc/westgard, /qc/median and /qc/median_ref have one row per
plate and one column per analyte (westgard: two, qc_low and qc_high) of /analytes/names,
every /qc/controls row names a plate of /qc/plates (plate_id and plate_index agree), a
level and an analyte of the panel, and /qc/config_yaml matches its SHA-256.  When /scores
(condition scores) is present: its conditions are /calls/conditions, values and bands are
[samples][conditions], bands are codes with their names, NaN exactly where the band is
"none", every score within [-1, 3], and /scores/mom has one column per listed marker.

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
QC_PLATE_FIELDS = ["plate_id", "file", "status", "reason", "warnings"]
QC_CONTROL_FIELDS = ["plate_id", "plate_index", "well", "level", "analyte", "value", "z"]
QC_STATUS = ("accepted", "warning", "rejected", "not_run")
QC_LEVELS = ("qc_low", "qc_high")
WG_BITS = ["1-2s", "1-3s", "2-2s", "R-4s", "4-1s", "10-x"]
PERSONAL = re.compile(r"mother|phone|birth_time|collection_time", re.I)
HEX64 = re.compile(r"^[0-9a-f]{64}$")
N_CELL, N_FLAG, N_CALL = 5, 5, 5          # NS_CELL_*, NS_FLAG_*, NS_CALL_* code counts
BAND_NAMES = ["not_informative", "possible", "likely", "none"]   # NS_BAND_*
N_BAND = len(BAND_NAMES)


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
        # doubles: chunked, unfiltered (deflate saves ~15 % on them at most of the cost);
        # codes: chunked with shuffle + deflate (write_hdf5.c create_ds)
        if n > 0 and ncol > 0 and kind == "f" and (ds.chunks is None or ds.compression is not None):
            self.bad("%s is not chunked without filters" % name)
        if n > 0 and ncol > 0 and kind != "f" and (ds.chunks is None or ds.compression != "gzip"
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
        plate_names = []
        if inputs_ok:
            n_manifest = 0
            for i, r in enumerate(ds[()]):
                kind, status, sha = text(r["kind"]), text(r["status"]), text(r["sha256"])
                if kind == "plate":
                    plate_names.append(text(r["name"]))
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

        # the IDs copy rescore reads (archives since scoring_version) must be /samples' own
        if "samples_ids" in f:
            ids = self.dataset(f, "samples_ids", 1)
            if ids is not None and self.fields(ids, ["sample_id", "infant_id"]):
                v = ids[()]
                if len(v) != n:
                    self.bad("/samples_ids has %d rows, /samples %d" % (len(v), n))
                elif not (all(v["sample_id"] == samples["sample_id"]) and all(v["infant_id"] == samples["infant_id"])):
                    self.bad("/samples_ids disagrees with the IDs of /samples")
        elif "scoring_version" in a:
            self.bad("an archive with scoring_version has no /samples_ids")

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

        n_scored = 0
        if "scores" in f:
            n_scored = self.check_scores(f, n, conds)

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

        if "night" in a and not isinstance(a["night"], (str, bytes, np.bytes_)):
            self.bad("root attribute night is not a string")
        qc = ""
        if "qc" in f:
            qc = self.check_qc(f, plate_names if inputs_ok else None, an)

        self.personal_names(f)
        return ("%s, %d samples, %d analytes, %d ratios, %d flag slots, %d conditions, "
                "%d plates (%d quarantined), %d unplated manifest rows, panel %s %s "
                "sha256 %s%s%s" % (FORMAT, n, na, len(rn), n_slots, len(conds), n_plates,
                                   n_quar_plates, n_unplated, text(a["panel_name"]),
                                   text(a["panel_version"]), root_sha[:12], qc,
                                   ", scores for %d conditions" % n_scored if "scores" in f else ""))

    def check_scores(self, f, n, conds):
        """Validate /scores (condition scores); return how many conditions have a score."""
        sc = self.names_list(f, "scores/conditions", None)
        if conds and sc != conds:
            self.bad("/scores/conditions differ from /calls/conditions")
        vals = self.matrix(f, "scores/values", n, len(sc), "f")
        bands = self.matrix(f, "scores/bands", n, len(sc), "u", N_BAND)
        if bands is not None:
            names = [text(x) for x in f["scores/bands"].attrs.get("names", [])]
            if names != BAND_NAMES:
                self.bad("/scores/bands names are %r, expected %r" % (names, BAND_NAMES))
        if vals is not None and bands is not None:
            none = bands == BAND_NAMES.index("none")
            if (np.isnan(vals) != none).any():
                self.bad("/scores: a band is 'none' exactly where the score is NaN, not so here")
            if (vals[~none] < -1).any() or (vals[~none] > 3).any():
                self.bad("/scores/values outside [-1, 3]")
        mc = self.names_list(f, "scores/mom_conditions", None)
        self.names_list(f, "scores/mom_markers", len(mc))
        self.matrix(f, "scores/mom", n, len(mc), "f")
        if not isinstance(f["scores"].attrs.get("population_source", ""), (str, bytes, np.bytes_)):
            self.bad("/scores@population_source is not a string")
        return 0 if bands is None else int((bands != BAND_NAMES.index("none")).any(axis=0).sum())

    def check_qc(self, f, plate_names, an):
        """Validate /qc; return a summary fragment for the ok line."""
        if not isinstance(f["qc"], h5py.Group):
            self.bad("/qc is not a group")
            return ""
        if "night" not in f.attrs:
            self.bad("/qc is present but root attribute night is missing")
        na = len(an)
        g = f["qc"]
        qsha = text(g.attrs.get("qc_config_sha256", ""))
        if "qc_config_sha256" not in g.attrs:
            self.bad("/qc@qc_config_sha256 is missing")
        for k in ("n_rejected", "n_warning"):
            if k not in g.attrs:
                self.bad("/qc@%s is missing" % k)
        if "config_yaml" in g:
            ds = self.dataset(f, "qc/config_yaml", 0)
            if ds is not None:
                raw = ds[()]
                raw = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)
                digest = hashlib.sha256(raw).hexdigest()
                if text(ds.attrs.get("sha256", "")) != digest:
                    self.bad("/qc/config_yaml@sha256 is not the SHA-256 of its bytes (%s)"
                             % digest)
                if qsha != digest:
                    self.bad("/qc@qc_config_sha256 %s is not the SHA-256 of /qc/config_yaml "
                             "(%s)" % (qsha, digest))
        elif qsha and not HEX64.match(qsha):
            self.bad("/qc@qc_config_sha256 %r is not 64 lowercase hex digits" % qsha)

        ds = self.dataset(f, "qc/plates", 1)
        if ds is None or not self.fields(ds, QC_PLATE_FIELDS):
            return ""
        plates = ds[()]
        npl = len(plates)
        ids = [text(r["plate_id"]) for r in plates]
        n_rej = n_warn = 0
        if plate_names is not None and npl != len(plate_names):
            self.bad("/qc/plates has %d rows but /inputs has %d plate rows"
                     % (npl, len(plate_names)))
        for k, r in enumerate(plates):
            st = text(r["status"])
            if st not in QC_STATUS:
                self.bad("/qc/plates[%d].status is %r" % (k, st))
            if st == "rejected":
                n_rej += 1
                if not text(r["reason"]):
                    self.bad("/qc/plates[%d] is rejected without a reason" % k)
            elif st == "warning":
                n_warn += 1
            if plate_names is not None and k < len(plate_names) \
                    and text(r["file"]) != plate_names[k]:
                self.bad("/qc/plates[%d].file %r is not /inputs plate %d (%r)"
                         % (k, text(r["file"]), k, plate_names[k]))
        for k, want in (("n_rejected", n_rej), ("n_warning", n_warn)):
            if k in g.attrs and int(g.attrs[k]) != want:
                self.bad("/qc@%s is %d but /qc/plates has %d" % (k, int(g.attrs[k]), want))

        wg = self.matrix(f, "qc/westgard", npl, na * 2, "u", 1 << len(WG_BITS))
        if wg is not None:
            bits = [text(v) for v in f["qc/westgard"].attrs.get("bit_names", [])]
            if bits != WG_BITS:
                self.bad("/qc/westgard@bit_names is %r, expected %r" % (bits, WG_BITS))
        self.matrix(f, "qc/median", npl, na, "f")
        self.matrix(f, "qc/median_ref", npl, na, "f")

        n_ctl = 0
        ds = self.dataset(f, "qc/controls", 1)
        if ds is not None and self.fields(ds, QC_CONTROL_FIELDS):
            ctl = ds[()]
            n_ctl = len(ctl)
            known = set(ids)
            analytes = set(an)
            for i, r in enumerate(ctl):
                pid, pi = text(r["plate_id"]), int(r["plate_index"])
                if pid not in known:
                    self.bad("/qc/controls[%d].plate_id %r is not in /qc/plates" % (i, pid))
                elif not 0 <= pi < npl or ids[pi] != pid:
                    self.bad("/qc/controls[%d]: plate_index %d is not plate %r"
                             % (i, pi, pid))
                if text(r["level"]) not in QC_LEVELS:
                    self.bad("/qc/controls[%d].level is %r" % (i, text(r["level"])))
                if text(r["analyte"]) not in analytes:
                    self.bad("/qc/controls[%d].analyte %r is not in /analytes/names"
                             % (i, text(r["analyte"])))
                if len(self.problems) > 20:
                    break
        return ", night %s, QC: %d plates (%d rejected, %d warning), %d controls" % (
            text(f.attrs.get("night", "")) or "-", npl, n_rej, n_warn, n_ctl)


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
