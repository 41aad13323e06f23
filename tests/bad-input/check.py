#!/usr/bin/python3
"""check.py — run every file of the bad-input corpus through `neoscreen run` (STYLE R10).

    /usr/bin/python3 tests/bad-input/check.py NEOSCREEN_BINARY [--write-missing] [PATTERN...]

cases.tsv (written by make-corpus.py) lists every corpus file with its kind, the exit status
`neoscreen run` must give, and the counts of summary.json that must hold.  Each file is run
as one night in a fresh temporary directory:

  plate        NN.*.csv here, beside good/GOOD.csv, with good/manifest.csv and qc.yaml
               (configs/panel-default.yaml and the other shipped configs)
  manifest, hearing, gene, panel, qc, hearing-yaml, genes-yaml
               the night base/night/ with base/'s configs, the file put in its place
               (make-corpus.py says where)

and must give:
  - exactly the stderr of NAME.expected (every line; @DIR@ = the night directory), or
    nothing when there is no NAME.expected;
  - exactly the exit status of cases.tsv;
  - with exit bit 1 (a config refused): nothing in the output directory;
    otherwise summary.json with that exit status, states_add_up true, the counts of
    cases.tsv, hearing.records_read = records_used + records_rejected and
    genes.wells_add_up true where present;
  - no text cell of recall-list.csv/.xlsx or plates-to-rerun.csv that a spreadsheet could
    run as a formula (= + - @ TAB CR LF first, unless it is a number), no formula in the
    XLSX, and no file anywhere but the night's inputs and the known outputs (an id such as
    ../../x must never become a path).

Large cases (1 MB cells, 10,000 columns) are written by `make-corpus.py --big` into a
temporary directory first.  Prints "ok - bad-input FILE" or "not ok - bad-input FILE: why"
per file, then "N passed, N failed"; exit status 1 if any failed, 2 on a usage error.
--write-missing writes NAME.expected from the run where it is missing and stderr is not
empty (review every one by hand before committing it).
"""
import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))      # run reads configs/ from here
BASE = os.path.join(HERE, "base")
OUTPUTS = {"recall-list.csv", "recall-list.xlsx", "batch.h5", "summary.json", "plates-to-rerun.csv", "report.html"}
FORMULA_START = "=+-@\t\r\n"


def night_of(kind, case, night):
    """lay out the night for one case; returns (run options, environment additions)"""
    name = os.path.basename(case)
    if kind == "plate":
        os.makedirs(night + "/plates")
        shutil.copy(case, night + "/plates/" + name)
        shutil.copy(HERE + "/good/GOOD.csv", night + "/plates/GOOD.csv")
        shutil.copy(HERE + "/good/manifest.csv", night + "/manifest.csv")
        return ["-q", HERE + "/qc.yaml"], {}
    shutil.copytree(BASE + "/night", night)
    opts = ["-c", BASE + "/panel.yaml", "-q", BASE + "/qc.yaml"]
    env = {"NEOSCREEN_HEARING": BASE + "/hearing.yaml", "NEOSCREEN_GENES": BASE + "/genes.yaml"}
    dest = {"manifest": "/manifest.csv", "hearing": "/hearing.csv", "gene": "/genes/" + name}.get(kind, "/" + name)
    shutil.copy(case, night + dest)
    if kind == "panel":
        opts[1] = night + dest
    elif kind == "qc":
        opts[3] = night + dest
    elif kind == "hearing-yaml":
        env["NEOSCREEN_HEARING"] = night + dest
    elif kind == "genes-yaml":
        env["NEOSCREEN_GENES"] = night + dest
    return opts, env


def lookup(s, key):
    v = s
    for k in key.split("."):
        if not isinstance(v, dict) or k not in v:
            return None
        v = v[k]
    return v


def check_counts(s, checks):
    """the KEY=VALUE and KEY+KEY=VALUE lines of cases.tsv against summary.json"""
    why = []
    for c in checks:
        key, want = c.split("=", 1)
        if key == "quarantined":
            got = ",".join(os.path.basename(q["file"]) for q in s.get("quarantined", []))
            if got != want:
                why.append("quarantined files are [%s], expected [%s]" % (got, want))
            continue
        vals = [lookup(s, k) for k in key.split("+")]
        if any(v is None for v in vals):
            why.append("%s missing from summary.json" % key)
            continue
        got = vals[0] if len(vals) == 1 else sum(vals)
        got = "true" if got is True else "false" if got is False else str(got)
        if got != want:
            why.append("%s is %s, expected %s" % (key, got, want))
    h, g = s.get("hearing", {}), s.get("genes", {})
    if h.get("present") and h["records_read"] != h["records_used"] + h["records_rejected"]:
        why.append("hearing: records_read %d != used %d + rejected %d"
                   % (h["records_read"], h["records_used"], h["records_rejected"]))
    if g.get("present") and g.get("wells_add_up") is not True:
        why.append("genes.wells_add_up is %s" % g.get("wells_add_up"))
    if s.get("states_add_up") is not True:
        why.append("states_add_up is %s" % s.get("states_add_up"))
    return why


def is_number(t):
    try:
        float(t)
        return True
    except ValueError:
        return False


def check_outputs(out):
    """no cell a spreadsheet would run as a formula, in any list for people"""
    why = []
    for name in ("recall-list.csv", "plates-to-rerun.csv"):
        path = os.path.join(out, name)
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8-sig", newline="") as f:
            for r, row in enumerate(csv.reader(f), 1):
                for cell in row:
                    parts = [cell] + cell.split(";")      # a list may be split into cells on ';'
                    bad = [p for p in parts if p and p[0] in FORMULA_START and not is_number(p)]
                    if bad:
                        why.append("%s row %d: cell '%s' could run as a formula" % (name, r, bad[0][:40]))
    path = os.path.join(out, "recall-list.xlsx")
    if os.path.exists(path):
        z = zipfile.ZipFile(path)
        for n in z.namelist():
            if not n.endswith(".xml"):
                continue
            x = z.read(n).decode("utf-8")
            if n.startswith("xl/worksheets/") and re.search(r"<f[ >]", x):
                why.append("recall-list.xlsx %s holds a formula" % n)
            for t in re.findall(r"<t(?: [^>]*)?>([^<]*)</t>", x):
                t = t.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
                if t and t[0] in FORMULA_START and not is_number(t):
                    why.append("recall-list.xlsx %s: text '%s' could run as a formula" % (n, t[:40]))
    return why


def all_files(top):
    out = set()
    for d, _, fs in os.walk(top):
        for f in fs:
            out.add(os.path.relpath(os.path.join(d, f), top))
    return out


def run_case(ns, path, kind, exit_want, checks, big_dir, write_missing):
    case = os.path.join(HERE, path)
    if not os.path.exists(case):
        case = os.path.join(big_dir, path)
    expected = os.path.join(HERE, re.sub(r"\.(csv|yaml)$", ".expected", path))
    if not os.path.exists(case):
        return ["no such file (make-corpus.py)"]
    top = tempfile.mkdtemp(prefix="ns-bad-")
    try:
        t = top + "/t"       # ids like ../../x must not escape: top holds t/ and nothing else
        night, out = t + "/n", t + "/o"
        os.makedirs(t)
        opts, env_add = night_of(kind, case, night)
        inputs = {os.path.join("t/n", f) for f in all_files(night)}
        env = {k: v for k, v in os.environ.items()
               if k not in ("NEOSCREEN_CONFIG", "NEOSCREEN_QC", "NEOSCREEN_HEARING", "NEOSCREEN_GENES",
                            "NEOSCREEN_LANG_FILE")}
        env.update(env_add)
        p = subprocess.run([ns, "run", "-t", "2", "-v", "0"] + opts + ["-o", out, night],
                           cwd=ROOT, env=env, capture_output=True, timeout=300)
        err = p.stderr.decode("utf-8", "backslashreplace").replace(night, "@DIR@")
        why = []
        if os.path.exists(expected):
            with open(expected, encoding="utf-8") as f:
                want = f.read()
            if err != want:
                got, exp = err.splitlines(), want.splitlines()
                diff = [(i + 1, e, g) for i, (e, g) in enumerate(zip(exp + [""] * len(got), got + [""] * len(exp)))
                        if e != g]
                ln, e, g = diff[0] if diff else (0, "", "")
                why.append("stderr differs from %s at line %d: expected '%s', got '%s'"
                           % (os.path.basename(expected), ln, e[:300], g[:300]))
        elif err and write_missing:
            with open(expected, "w", encoding="utf-8") as f:
                f.write(err)
            print("# wrote %s:\n# %s" % (os.path.relpath(expected, HERE), err.replace("\n", "\n# ")))
        elif err:
            why.append("stderr is not empty (no %s): '%s'" % (os.path.basename(expected), err.splitlines()[0][:300]))
        if p.returncode != exit_want:
            why.append("exit status %d, expected %d" % (p.returncode, exit_want))
        outs = all_files(out) if os.path.isdir(out) else set()
        if p.returncode & 1:
            if outs:
                why.append("a refused config, yet %s was written" % ", ".join(sorted(outs)))
        else:
            try:
                with open(out + "/summary.json", encoding="utf-8") as f:
                    s = json.load(f)
            except (OSError, ValueError) as e:
                s = None
                why.append("summary.json missing or not JSON (%s)" % type(e).__name__)
            if s is not None:
                if s.get("exit_status") != p.returncode:
                    why.append("summary.json exit_status %s, the run exited %d" % (s.get("exit_status"), p.returncode))
                why += check_counts(s, [c for c in checks if c != "-"])
            why += check_outputs(out)
        stray = all_files(top) - inputs - {os.path.join("t/o", f) for f in outs}
        # run's default follow-up ledger, beside the output directory (never for a refused config)
        if not p.returncode & 1:
            stray -= {"t/ledger.sqlite"}
        stray |= {"t/o/" + f for f in outs if f not in OUTPUTS}
        if stray:
            why.append("files nobody asked for: %s" % ", ".join(sorted(stray)[:5]))
        return why
    finally:
        shutil.rmtree(top, ignore_errors=True)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    write_missing = "--write-missing" in sys.argv
    if not args:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        sys.exit(2)
    ns = os.path.abspath(args[0])
    if not os.access(ns, os.X_OK):
        print("%s: %s is not an executable file" % (sys.argv[0], args[0]), file=sys.stderr)
        sys.exit(2)
    pats = args[1:]
    cases = []
    with open(HERE + "/cases.tsv", encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            path, kind, ex, checks = line.rstrip("\n").split("\t")
            if not pats or any(q in path for q in pats):
                cases.append((path, kind, int(ex), checks.split()))
    big_dir = tempfile.mkdtemp(prefix="ns-bad-big-")
    passed = failed = 0
    try:
        subprocess.run([sys.executable, HERE + "/make-corpus.py", "--big", big_dir], check=True)
        for path, kind, ex, checks in cases:
            m = re.fullmatch(r"(?:[a-z-]+/)?\d\d\.[a-z]+\.[A-Za-z0-9-]+\.(csv|yaml)", path)
            why = ["name is not [DIR/]NN.<outcome>.<what>.csv|yaml"] if not m else []
            try:
                why = why or run_case(ns, path, kind, ex, checks, big_dir, write_missing)
            except subprocess.TimeoutExpired:
                why = ["neoscreen run took more than 300 s"]
            except Exception as e:      # one broken case must not hide the others' results
                why = ["the check itself failed: %s: %s" % (type(e).__name__, e)]
            if why:
                print("not ok - bad-input %s: %s" % (path, "; ".join(why)))
                failed += 1
            else:
                print("ok - bad-input %s" % path)
                passed += 1
            sys.stdout.flush()
    finally:
        shutil.rmtree(big_dir, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


main()
