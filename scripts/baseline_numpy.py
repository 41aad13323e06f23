#!/usr/bin/python3
"""baseline_numpy.py — neoscreen's panel rules, written as a NumPy/pandas analyst would.

A speed baseline for neoscreen: it must give the SAME recalled samples as neoscreen, or a
speed comparison means nothing.  Everything is vectorised over samples (loops run over
markers, conditions and strata only).  The rules are those of neoscreen, read from its
source (the source of truth):

  cells        pipeline/ingest_plate.c ns_parse_cell: "<x" = x as an upper bound (true value
               in [0, x]); ND = 0 exact; empty / NaN = missing
  manifest     pipeline/ingest_manifest.c: columns by name (any case); rows without
               sample_id or infant_id rejected; a sample_id twice for one infant keeps the
               first row, for two infants rejects all; age_hours = collection - birth, both
               as days*24 + h + min/60 + s/3600 (float64, same order of operations), missing
               when either is missing or collection < birth; feeding canonical or unknown;
               transfusion / nicu 1|yes|y|true, 0|no|n|false, else unknown
  ratios       kernels/ratio.c: sums in listed order; missing when a term is missing or the
               denominator is not > 0; a "<x" numerator term gives an upper bound, a "<x"
               denominator term a lower bound, both: missing
  flags        kernels/cutoff.c: limits met within NS_CUTOFF_RTOL = 1e-9 (relative);
               censored values flagged only when the whole interval agrees, or when even
               its least abnormal end is at or beyond the cutoff; else missing
  strata       pipeline/score.c: a marker's limits come from the first panel stratum (panel
               order) the card belongs to that the marker overrides
  calls        kernels/call.c: rule any / all over primaries, require_secondary, missing
               primaries and secondaries
  TPN rule     pipeline/score.c: tpn_sensitive conditions on TPN need secondary
               confirmation, unless critical or a primary reaches tpn_max_fold x cutoff
  state        control / unmatched / recall (some call borderline, positive, critical) /
               invalid_specimen (some call indeterminate, or an `invalid` specimen finding)
               / negative

NOT covered, on purpose:
  * plate QC (Westgard, carry-over, patient medians): ignored.  neoscreen puts the patients
    of a rejected plate on qc_hold; this baseline scores them like any other.  Compare only
    on nights where QC passes (neoscreen summary.json: states.qc_hold == 0).
  * plate quarantine: a malformed plate (bad cell, negative value outside a blank, a plate
    or well read twice, ...) is refused with a message instead of being dropped.
  * condition scores (`score:` blocks): refused with a message.
  * the panel is not checked as `neoscreen config check` does: give a panel that passes it.

Usage:
  baseline_numpy.py night   --panel PANEL.yaml NIGHT_DIR [-o OUT.csv] [--counts FILE]
                            [--per-file]
  baseline_numpy.py archive --panel PANEL.yaml ARCHIVE.h5|DIR... [-o OUT.csv]
                            [--counts FILE] [--chunk N]

Output: the recalled sample_ids, sorted, one per line (OUT or stdout).  stderr: recalls per
condition and the read / compute timings.  --counts FILE writes the per-condition recall
counts as CSV (condition,recalls; last row ANY), counted like `neoscreen rescore`'s
new_recalls: patient cards with a manifest row (and, for archives, not on qc_hold).
Exit status: 0 done, 1 usage or input error, 2 a panel or night this baseline does not model.
"""
import argparse
import io
import os
import re
import sys
import time

import numpy as np

# ---- constants mirrored from kernels/cutoff.h, call.h, pipeline/batch.h, panel.h ----------
RTOL = 1e-9                                              # NS_CUTOFF_RTOL
F_NONE, F_BORDER, F_CUTOFF, F_CRITICAL, F_MISSING = 0, 1, 2, 3, 4
C_NEG, C_BORDER, C_POS, C_CRIT, C_INDET = 0, 1, 2, 3, 4
B_EXACT, B_UPPER, B_LOWER = 0, 1, 2
CELL_BELOW = 1                                           # NS_CELL_BELOW in /analytes/censoring
ST_NEG, ST_RECALL, ST_INVALID, ST_UNMATCHED, ST_QUAR, ST_CONTROL, ST_QC_HOLD = range(7)
SPEC = ["early_collection", "late_collection", "missing_collection_age",
        "missing_birth_weight", "missing_gestational_age", "transfusion", "tpn"]
COVS = ["gestational_age_days", "birth_weight_g", "age_hours", "feeding", "nicu",
        "transfusion", "sex"]
FIXED = ["plate_id", "well", "sample_id", "sample_type"]
TYPES = ["patient", "qc_low", "qc_high", "blank"]
FEEDS = ["breast", "formula", "mixed", "tpn"]


class Refuse(Exception):
    """A panel or input this baseline does not model (exit 2)."""


def die(msg, code=1):
    sys.stderr.write("baseline_numpy: %s\n" % msg)
    sys.exit(code)


# ---- panel ------------------------------------------------------------------------------

def _num(s, default=np.nan):
    # neoscreen reads numbers with strtod from the YAML scalar text
    return default if s is None else float(s)


class Panel:
    """The parts of a neoscreen panel the calls need (pipeline/panel.c)."""

    def __init__(self, path):
        import yaml
        loader = getattr(yaml, "CBaseLoader", yaml.BaseLoader)   # every scalar as text, as libyaml gives it
        with open(path, "rb") as fh:
            y = yaml.load(fh.read().decode("utf-8"), Loader=loader)
        if not isinstance(y, dict) or "analytes" not in y or "conditions" not in y:
            raise Refuse("%s: not a neoscreen panel (no analytes: / conditions:)" % path)
        self.path = path
        self.analytes = [a["name"] for a in y["analytes"]]
        self.aliases = [[a["name"]] + list(a.get("aliases", []) or []) for a in y["analytes"]]
        self.spelling = {}                       # lower-case header spelling -> analyte index
        for i, al in enumerate(self.aliases):
            for s in al:
                self.spelling.setdefault(s.lower(), i)
        ai = {n: i for i, n in enumerate(self.analytes)}
        self.ratios = [(r["name"], [ai[t] for t in r["num"]], [ai[t] for t in r["den"]])
                       for r in (y.get("ratios") or [])]
        self.marker = dict(ai)
        for k, r in enumerate(self.ratios):
            self.marker[r[0]] = len(self.analytes) + k
        inp = y.get("input") or {}
        cols, types = inp.get("columns") or {}, inp.get("sample_types") or {}
        self.col_alias = {k: [k] + list(cols.get(k) or []) for k in FIXED}
        self.type_alias = {k: [k] + list(types.get(k) or []) for k in TYPES}
        sp = y.get("specimen") or {}
        self.min_age = _num(sp.get("min_age_hours"))
        self.max_age = _num(sp.get("max_age_hours"))
        self.invalid = [sp.get(f, "ignore") == "invalid" for f in SPEC]
        self.strata = []
        for s in y.get("strata") or []:
            cmp = [k for k in ("lt", "le", "gt", "ge", "eq") if k in s][0]
            cov = s["covariate"]
            text = cov in ("feeding", "sex")
            self.strata.append((s["name"], cov, cmp, s[cmp] if text else float(s[cmp])))
        sidx = {s[0]: k for k, s in enumerate(self.strata)}
        if y.get("population") is not None:
            sys.stderr.write("baseline_numpy: %s: population: is only used by condition scores; ignored\n" % path)
        self.conds = []
        for c in y["conditions"]:
            if c.get("score") is not None:
                raise Refuse("%s: condition %s has a score: block; condition scores are not part of "
                             "this baseline (use a panel without score: blocks)" % (path, c["code"]))
            mks = []
            for m in c["markers"]:
                thr = (m["direction"] == "low", _num(m.get("borderline")), float(m["cutoff"]),
                       _num(m.get("critical")))
                over = {}
                for sn, o in (m.get("strata") or {}).items():
                    over[sidx[sn]] = (thr[0], _num(o.get("borderline"), thr[1]),
                                      _num(o.get("cutoff"), thr[2]), _num(o.get("critical"), thr[3]))
                mks.append(dict(m=self.marker[m["marker"]], primary=m.get("role", "primary") == "primary",
                                thr=thr, over=over))
            self.conds.append(dict(code=c["code"], all=c.get("rule", "any") == "all",
                                   req=c.get("require_secondary", "false") == "true",
                                   tpn=c.get("tpn_sensitive", "false") == "true",
                                   fold=_num(c.get("tpn_max_fold")), markers=mks))


# ---- the rules, vectorised ---------------------------------------------------------------

def _beyond(x, limit, low):
    """x at or beyond limit on the abnormal side, within RTOL (kernels/cutoff.c beyond())."""
    if np.isnan(limit):
        return np.zeros(x.shape, bool)
    tol = abs(limit) * RTOL
    return x <= limit + tol if low else x >= limit - tol


def _level(x, thr):
    low, bl, cut, cr = thr
    out = np.zeros(x.shape, np.uint8)
    out[_beyond(x, bl, low)] = F_BORDER
    out[_beyond(x, cut, low)] = F_CUTOFF
    out[_beyond(x, cr, low)] = F_CRITICAL
    out[np.isnan(x)] = F_MISSING
    return out


def _level_bounded(x, bound, thr):
    """Flags of values with their bound kinds (ns_cutoff_level_bounded)."""
    out = _level(x, thr)
    cen = np.flatnonzero((bound != B_EXACT) & ~np.isnan(x))
    if cen.size:
        xc, up = x[cen], bound[cen] == B_UPPER
        a = _level(np.where(up, 0.0, xc), thr)           # the interval's ends: [0, x] or [x, inf)
        b = _level(np.where(up, xc, np.inf), thr)
        least = np.minimum(a, b)
        out[cen] = np.where(a == b, a, np.where(least >= F_CUTOFF, least, F_MISSING))
    return out


def _call(P, S, rule_all, req):
    """ns_call_one over all rows: P primary flags [k, n], S secondary flags [k2, n]."""
    miss = P == F_MISSING
    anym = miss.any(0)
    if rule_all:
        lvl = np.where(miss, F_CRITICAL, P).min(0)
        indet = anym & (lvl != F_NONE)
    else:
        lvl = np.where(miss, F_NONE, P).max(0)
        indet = anym & (lvl < F_CUTOFF)
    call = lvl.astype(np.uint8)                         # flag levels 0..3 map to calls 0..3
    if req:
        sec_ok = (S >= F_CUTOFF).any(0) if len(S) else np.zeros(P.shape[1], bool)   # missing counts
        call[(lvl == F_CUTOFF) & ~sec_ok] = C_BORDER
    call[indet] = C_INDET
    return call


def _eq_text(a, text):
    return a == (text.encode() if a.dtype.kind == "S" else text)


def score(panel, conc, upper, patient, has_row, cov):
    """neoscreen's ns_batch_score, vectorised.

    conc    [na, n] float64 analyte values (NaN missing; ND is 0)
    upper   [na, n] bool, the cell was "<x"
    patient [n] bool; has_row [n] bool, a manifest row joined
    cov     covariate arrays [n] (meaningful where has_row): age_hours, birth_weight_g,
            gestational_age_days (float, NaN missing), feeding, sex (str or bytes arrays),
            transfusion, nicu (int, -1 unknown)
    Returns (calls [n_conds, n] uint8, state [n] uint8)."""
    na, n = conc.shape
    # ratios
    vals = [conc[a] for a in range(na)]
    bounds = [np.where(upper[a], B_UPPER, B_EXACT).astype(np.uint8) for a in range(na)]
    with np.errstate(invalid="ignore", divide="ignore"):
        for _, num, den in panel.ratios:
            a = conc[num[0]].copy()
            for t in num[1:]:
                a += conc[t]
            b = conc[den[0]].copy()
            for t in den[1:]:
                b += conc[t]
            cn = upper[num].any(0)
            cd = upper[den].any(0)
            r = a / b
            bad = np.isnan(a) | np.isnan(b) | ~(b > 0) | (cn & cd)
            r[bad] = np.nan
            k = np.where(cn, B_UPPER, np.where(cd, B_LOWER, B_EXACT)).astype(np.uint8)
            k[bad] = B_EXACT
            vals.append(r)
            bounds.append(k)

    # specimen findings and strata (cards with a manifest row only)
    age, bw, ga = cov["age_hours"], cov["birth_weight_g"], cov["gestational_age_days"]
    with np.errstate(invalid="ignore"):
        f = [~np.isnan(age) & (age < panel.min_age) if not np.isnan(panel.min_age) else np.zeros(n, bool),
             ~np.isnan(age) & (age > panel.max_age) if not np.isnan(panel.max_age) else np.zeros(n, bool),
             np.isnan(age), np.isnan(bw), np.isnan(ga), cov["transfusion"] == 1,
             _eq_text(cov["feeding"], "tpn")]
    spec = [x & has_row for x in f]
    tpn = spec[6]
    invalid = np.zeros(n, bool)
    for k, x in enumerate(spec):
        if panel.invalid[k]:
            invalid |= x
    strata = []
    for _, c, cmp, v in panel.strata:
        if c in ("feeding", "sex"):
            m = _eq_text(cov[c], v)
        else:
            x = cov[c].astype(np.float64)
            if c in ("nicu", "transfusion"):
                x[x < 0] = np.nan
            with np.errstate(invalid="ignore"):
                m = {"lt": x < v, "le": x <= v, "gt": x > v, "ge": x >= v, "eq": x == v}[cmp]
        strata.append(m & has_row)

    # flags, calls, TPN rule
    calls = np.empty((len(panel.conds), n), np.uint8)
    for ci, c in enumerate(panel.conds):
        P, S, cut_rows = [], [], []
        for mk in c["markers"]:
            x, bd = vals[mk["m"]], bounds[mk["m"]]
            if not mk["over"]:
                fl = _level_bounded(x, bd, mk["thr"])
                cut = mk["thr"][2]
            else:           # the first panel stratum the card is in that the marker overrides
                sel = np.zeros(n, np.int8)
                for k in sorted(mk["over"]):
                    sel[(sel == 0) & strata[k]] = k + 1
                fl = np.empty(n, np.uint8)
                cut = np.empty(n)
                for k in np.unique(sel):
                    rows = sel == k
                    t = mk["thr"] if k == 0 else mk["over"][k - 1]
                    fl[rows] = _level_bounded(x[rows], bd[rows], t)
                    cut[rows] = t[2]
            (P if mk["primary"] else S).append(fl)
            if mk["primary"]:
                cut_rows.append((x, mk["thr"][0], cut))
        P, S = np.array(P), np.array(S)
        out = _call(P, S, c["all"], c["req"])
        if c["tpn"] and tpn.any():
            forced, plain = _call(P, S, c["all"], True), _call(P, S, c["all"], False)
            hold = tpn & (forced < plain) & (plain != C_CRIT)
            if not np.isnan(c["fold"]):      # disease range on TPN: the call stands
                with np.errstate(invalid="ignore"):
                    for x, low, cut in cut_rows:
                        hold &= ~(~np.isnan(x) & ((x <= cut / c["fold"]) if low else (x >= cut * c["fold"])))
            out[hold] = forced[hold]
        calls[ci] = out

    recall = ((calls >= C_BORDER) & (calls <= C_CRIT)).any(0)
    indet = (calls == C_INDET).any(0)
    state = np.where(recall, ST_RECALL, np.where(indet | invalid, ST_INVALID, ST_NEG)).astype(np.uint8)
    state[~has_row] = ST_UNMATCHED
    state[~patient] = ST_CONTROL
    return calls, state


# ---- night mode: plate CSVs and the manifest ---------------------------------------------

def _decode(raw, path):
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return raw.decode("gbk")
        except UnicodeDecodeError:
            raise Refuse("%s: neither UTF-8 nor GBK (neoscreen would quarantine it)" % path)


def _plate_columns(panel, header, path):
    """Header -> ({fixed name: column}, {analyte index: column}); columns not in the panel
    are skipped, as neoscreen skips them."""
    fixed, ana = {}, {}
    lower = {k: {s.lower() for s in v} for k, v in panel.col_alias.items()}
    for h in header:
        hl = h.lower()
        k = next((k for k in FIXED if hl in lower[k]), None)
        if k is not None:
            if k in fixed:
                raise Refuse("%s: two %s columns" % (path, k))
            fixed[k] = h
        elif hl in panel.spelling:
            a = panel.spelling[hl]
            if a in ana:
                raise Refuse("%s: two columns hold analyte %s" % (path, panel.analytes[a]))
            ana[a] = h
    missing = [k for k in FIXED if k not in fixed] + [panel.analytes[a] for a in range(len(panel.analytes))
                                                      if a not in ana]
    if missing:
        raise Refuse("%s: missing column(s) %s (neoscreen would quarantine the plate)" % (path, ", ".join(missing)))
    return fixed, ana


NA_CELLS = ["", "NaN", "nan", "NAN"]


def _read_plate_text(pd, panel, text, path):
    header = pd.read_csv(io.StringIO(text), nrows=0).columns
    fixed, ana = _plate_columns(panel, list(header), path)
    cols = [fixed[k] for k in FIXED] + [ana[a] for a in range(len(panel.analytes))]
    df = pd.read_csv(io.StringIO(text), usecols=cols, keep_default_na=False,
                     dtype={fixed[k]: str for k in FIXED},
                     na_values={ana[a]: NA_CELLS for a in ana})
    return df[cols].set_axis(FIXED + panel.analytes, axis=1), set(ODD_CELL.findall(text))


def read_plates(pd, panel, night, per_file):
    """Every plates/*.csv of the night as one DataFrame.  per_file: one read_csv per file
    (simple); default: files with the same header are joined and read by one read_csv (the
    same cells, without ~2 ms of read_csv overhead per 96-well file)."""
    d = os.path.join(night, "plates")
    names = sorted(f for f in os.listdir(d) if not f.startswith(".") and len(f) >= 5 and f[-4:].lower() == ".csv")
    if not names:
        raise Refuse("%s holds no .csv plate files" % d)
    paths = [os.path.join(d, f) for f in names]
    frames, odd = [], set()
    if per_file:
        for p in paths:
            with open(p, "rb") as fh:
                df, o = _read_plate_text(pd, panel, _decode(fh.read(), p), p)
            frames.append(df)
            odd |= o
    else:
        groups = {}
        for p in paths:
            with open(p, "rb") as fh:
                t = _decode(fh.read(), p)
            nl = t.find("\n")
            head, body = (t, "") if nl < 0 else (t[:nl + 1], t[nl + 1:])
            if body and not body.endswith("\n"):
                body += "\n"
            g = groups.setdefault(head.rstrip("\r\n"), [head, p])
            g.append(body)
        for head, first, *bodies in groups.values():
            df, o = _read_plate_text(pd, panel, head + "".join(bodies), first)
            frames.append(df)
            odd |= o
    df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if df[["plate_id", "well"]].duplicated().any():
        raise Refuse("a well or a plate_id is read twice (neoscreen would quarantine the plate)")
    return df, sorted(odd)


# cells that are not plain numbers: "<x", ND, NaN in any case (only a hint for speed: a
# column with a token not found here takes the slower to_numeric path, with the same result)
ODD_CELL = re.compile(r",(<[^,\r\n]*|[Nn][Dd]|[Nn][Aa][Nn])(?=[,\r\n])")


def _cells(pd, col, name, odd_tokens):
    """One analyte column -> (values, "<x" mask), ns_parse_cell's rules.  A column holding
    only numbers and NaN cells was parsed by read_csv.  Any other is a column of text: the
    cells that are "<x", ND or NaN (odd_tokens, found in the file text by one regex) are set
    apart with isin, the rest converted with astype(float) (Python's float(), correctly
    rounded like strtod), and only the few odd cells are looked at as text."""
    n = len(col)
    if col.dtype.kind in "fiu":
        return col.to_numpy(np.float64), np.zeros(n, bool)
    oddm = (col.isin(odd_tokens) | col.isna()).to_numpy()
    try:
        v = col.where(~oddm, np.nan).astype(np.float64).to_numpy()
    except (TypeError, ValueError):           # some other text: every cell that does not convert
        v = pd.to_numeric(col, errors="coerce").to_numpy(np.float64)
        oddm = np.isnan(v)
    below = np.zeros(n, bool)
    odd = np.flatnonzero(oddm)
    if odd.size:
        s = col.iloc[odd]
        s = s.astype(object).where(s.notna(), "").astype(str)
        lt = s.str.startswith("<").to_numpy()
        core = s.str.slice(1).str.lstrip(" ").where(lt, s)
        up = core.str.upper()
        nd = (up == "ND").to_numpy() & ~lt
        nan = up.isin(["NAN", ""]).to_numpy() & ~lt
        x = pd.to_numeric(core.where(~(nd | nan), "nan"), errors="coerce").to_numpy(np.float64)
        bad = (np.isnan(x) & ~nan & ~nd) | (lt & (x < 0))
        if bad.any():
            raise Refuse("column %s: cell '%s' is not a number (neoscreen would quarantine its plate)"
                         % (name, s.iloc[int(np.flatnonzero(bad)[0])]))
        x[nd] = 0.0
        v[odd] = x
        below[odd] = lt
    if np.isinf(v).any():
        raise Refuse("column %s: an infinite cell (neoscreen would quarantine its plate)" % name)
    return v, below


TIME_RE = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?Z?"


def _parse_time_h(pd, s):
    """ns_parse_time_h: YYYY-MM-DDTHH:MM[:SS] (or a space for T, optional Z) as hours since
    1970, days*24 + h + mi/60 + sec/3600 in that order of float64 operations, NaN if
    invalid.  (sscanf also takes one-digit fields and leading blanks; such spellings are
    missing here.)"""
    ok = s.str.fullmatch(TIME_RE).fillna(False).to_numpy(bool)
    z = s.str.endswith("Z").fillna(False).to_numpy(bool)
    if z.any():
        s = s.where(~z, s.str.slice(0, -1))
    t = pd.to_datetime(s.where(ok, ""), format="%Y-%m-%dT%H:%M", errors="coerce")
    ns = t.to_numpy("datetime64[ns]").view(np.int64)
    day = np.int64(86400 * 10**9)
    days = ns // day
    rem = ns - days * day
    h = rem // (3600 * 10**9)
    mi = (rem // (60 * 10**9)) % 60
    sec = (rem // 10**9) % 60
    out = days.astype(np.float64) * 24.0 + h + mi / 60.0 + sec / 3600.0
    out[t.isna().to_numpy()] = np.nan
    return out


def _flag(s):
    """parse_flag on a categorical column: 1 / yes / y / true -> 1, 0 / no / n / false -> 0
    (words in any case), anything else (empty too) -> -1 unknown."""
    cats = s.cat.categories.astype(str)
    low = cats.str.lower()
    code = np.where((cats == "1") | low.isin(["yes", "y", "true"]), 1,
                    np.where((cats == "0") | low.isin(["no", "n", "false"]), 0, -1)).astype(np.int8)
    c = s.cat.codes.to_numpy()
    return np.where(c >= 0, code[c], -1).astype(np.int8)


MANIFEST_COLS = ["sample_id", "infant_id", "sex", "birth_weight_g", "gestational_age_days",
                 "birth_time", "collection_time", "feeding", "transfusion", "nicu"]


def read_manifest(pd, path):
    """The manifest's covariates per sample_id, as pipeline/ingest_manifest.c reads them."""
    with open(path, "rb") as fh:
        text = _decode(fh.read(), path)
    header = list(pd.read_csv(io.StringIO(text), nrows=0, dtype=str).columns)
    low = [h.lower() for h in header]
    want = {c: header[low.index(c)] for c in MANIFEST_COLS if c in low}
    for c in want:
        if low.count(c) > 1:
            raise Refuse("%s: column %s appears twice (neoscreen cannot use the manifest)" % (path, c))
    if "sample_id" not in want or "infant_id" not in want:
        raise Refuse("%s: no sample_id or infant_id column" % path)
    kind = {"sample_id": str, "infant_id": str, "birth_time": str, "collection_time": str,
            "sex": "category", "feeding": "category", "transfusion": "category", "nicu": "category"}
    m = pd.read_csv(io.StringIO(text), usecols=list(want.values()), keep_default_na=False,
                    na_values={want[c]: [""] for c in ("birth_weight_g", "gestational_age_days") if c in want},
                    dtype={want[c]: k for c, k in kind.items() if c in want})
    m = m.rename(columns={v: k for k, v in want.items()})
    m = m[(m["sample_id"] != "") & (m["infant_id"] != "")]
    dup = m["sample_id"].duplicated(keep=False)
    if dup.any():                            # same infant: first row; two infants: none
        d = m[dup]
        n_inf = d.groupby("sample_id")["infant_id"].transform("nunique")
        drop = d.index[(n_inf > 1) | d["sample_id"].duplicated(keep="first")]
        m = m.drop(drop)
    n = len(m)
    out = {"sample_id": m["sample_id"].to_numpy()}
    for c in ("birth_weight_g", "gestational_age_days"):
        if c not in m:
            out[c] = np.full(n, np.nan)
            continue
        col = m[c]
        v = (col.to_numpy(np.float64) if col.dtype.kind in "fiu"
             else pd.to_numeric(col, errors="coerce").to_numpy(np.float64))
        v[~np.isfinite(v) | ~(v > 0)] = np.nan          # strtod; a positive finite number
        out[c] = v
    blank = pd.Series([""] * n, index=m.index)
    tb = _parse_time_h(pd, m["birth_time"] if "birth_time" in m else blank)
    tc = _parse_time_h(pd, m["collection_time"] if "collection_time" in m else blank)
    age = tc - tb
    age[tc < tb] = np.nan
    out["age_hours"] = age
    for c in ("feeding", "sex"):
        if c not in m:
            out[c] = np.full(n, "", object)
            continue
        cats = m[c].cat.categories.astype(str)
        if c == "feeding":                   # one of four words, any case; else unknown
            cats = cats.str.lower()
            cats = cats.where(cats.isin(FEEDS), "")
        codes = m[c].cat.codes.to_numpy()
        out[c] = np.where(codes >= 0, np.asarray(cats, object)[codes], "")
    for c in ("transfusion", "nicu"):
        out[c] = _flag(m[c]) if c in m else np.full(n, -1, np.int8)
    return pd.DataFrame(out)


def run_night(panel, args):
    import pandas as pd
    t0 = time.perf_counter()
    plates, odd = read_plates(pd, panel, args.input[0], args.per_file)
    man = read_manifest(pd, os.path.join(args.input[0], "manifest.csv"))
    n, na = len(plates), len(panel.analytes)
    tmap = {s.lower(): k for k in TYPES for s in panel.type_alias[k]}
    types = plates["sample_type"].str.lower().map(tmap)
    if types.isna().any():
        raise Refuse("unknown sample_type '%s' (neoscreen would quarantine the plate)"
                     % plates["sample_type"][types.isna()].iloc[0])
    types = types.to_numpy()
    patient = types == "patient"
    conc = np.empty((na, n))
    upper = np.empty((na, n), bool)
    for a, name in enumerate(panel.analytes):
        conc[a], upper[a] = _cells(pd, plates[name], name, odd)
    if ((conc < 0).any(0) & (types != "blank")).any():
        raise Refuse("a negative value outside a blank well (neoscreen would quarantine the plate)")
    sid = plates["sample_id"].to_numpy(object)
    mrow = pd.Index(man["sample_id"]).get_indexer(sid)      # manifest sample_ids are unique
    mrow[~patient] = -1
    has_row = mrow >= 0
    if len(man) == 0:                        # a one-row stand-in, never used (has_row is false)
        man = pd.DataFrame({"sample_id": [""], "age_hours": [np.nan], "birth_weight_g": [np.nan],
                            "gestational_age_days": [np.nan], "feeding": [""], "sex": [""],
                            "transfusion": np.array([-1], np.int8), "nicu": np.array([-1], np.int8)})
    take = np.where(has_row, mrow, 0)
    cov = {c: man[c].to_numpy()[take] for c in man.columns if c != "sample_id"}
    for c in ("feeding", "sex"):
        cov[c] = cov[c].astype(str)
    t1 = time.perf_counter()
    calls, state = score(panel, conc, upper, patient, has_row, cov)
    recalled = np.unique(sid[state == ST_RECALL]).astype(str) if n else np.array([], str)
    screened = patient & has_row
    sc = calls[:, screened]
    counts = {"recalls": ((sc >= C_BORDER) & (sc <= C_CRIT)).sum(1)}
    t2 = time.perf_counter()
    if args.calls_out:
        _write_calls(args.calls_out, plates["plate_id"].to_numpy(object), plates["well"].to_numpy(object),
                     sid, state, calls)
    report(panel, args, recalled, counts, {"recalls": int((state == ST_RECALL).sum())}, int(screened.sum()),
           "night %s: %d wells, %d patient, %d unmatched" % (args.input[0], n, int(patient.sum()),
                                                              int((patient & ~has_row).sum())),
           t1 - t0, t2 - t1)


def _write_calls(path, a, b, sid, state, calls):
    """Every row: two locating columns, sample_id, state code, and the calls as one digit per
    condition (for checking against batch.h5, not part of the timed work)."""
    digits = np.array([str(k) for k in range(10)], object)
    code = digits[calls[0]]
    for c in calls[1:]:
        code = code + digits[c]
    with open(path, "w") as fh:
        fh.write("a,b,sample_id,state,calls\n")
        fh.writelines("%s,%s,%s,%d,%s\n" % r for r in zip(a, b, sid, state, code))


# ---- archive mode: batch.h5 -------------------------------------------------------------

def archive_paths(args):
    """Files as given; a directory gives every batch.h5 under it (symbolic links skipped),
    sorted; the same file twice is read once (ns_archive_paths)."""
    out, seen = [], set()
    for a in args:
        if os.path.isdir(a):
            found = []
            for root, dirs, files in os.walk(a):
                dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(root, d))]
                found += [os.path.join(root, f) for f in files
                          if f == "batch.h5" and not os.path.islink(os.path.join(root, f))]
            if not found:
                raise Refuse("%s: no batch.h5 under it" % a)
            cand = sorted(found)
        elif os.path.isfile(a):
            cand = [a]
        else:
            raise Refuse("%s: no such file or directory" % a)
        for p in cand:
            st = os.stat(p)
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                out.append(p)
    return out


def run_archive(panel, args):
    """What `neoscreen rescore -p PANEL` computes as new recalls: cards with a manifest row
    whose archived state is not qc_hold (nor unmatched), recalled under the candidate."""
    import h5py
    t_read = t_comp = 0.0
    nc = len(panel.conds)
    ids = []
    cnt = {k: np.zeros(nc, np.int64) for k in ("recalls", "gained", "lost", "calls_changed")}
    anyc = {"recalls": 0, "gained": 0, "lost": 0}
    screened = rows = 0
    fields = ["sample_id", "sample_type", "manifest_line", "sex", "birth_weight_g",
              "gestational_age_days", "age_hours", "feeding", "transfusion", "nicu"]
    calls_fh = open(args.calls_out, "w") if args.calls_out else None
    if calls_fh:
        calls_fh.write("a,b,sample_id,state,calls\n")
    for path in archive_paths(args.input):
        t0 = time.perf_counter()
        f = h5py.File(path, "r")
        names = [x.decode() for x in f["/analytes/names"][()]]
        cmap = []
        for j, name in enumerate(panel.analytes):     # ns_archive_map: by the panel's spellings
            c = next((c for c, an in enumerate(names) if panel.spelling.get(an.lower()) == j), None)
            if c is None:
                raise Refuse("archive %s has no values of analyte %s" % (path, name))
            cmap.append(c)
        arch_codes = [x.decode() for x in f["/calls/conditions"][()]]
        old_of = [arch_codes.index(c["code"]) if c["code"] in arch_codes else -1 for c in panel.conds]
        ds_s, ds_st, ds_calls = f["/samples"], f["/samples_state_code"], f["/calls/values"]
        ds_v, ds_c = f["/analytes/values"], f["/analytes/censoring"]
        n = ds_s.shape[0]
        rows += n
        t_read += time.perf_counter() - t0
        for r0 in range(0, n, args.chunk):
            t0 = time.perf_counter()
            r1 = min(n, r0 + args.chunk)
            s = ds_s.fields(fields)[r0:r1]
            old = ds_st[r0:r1].reshape(-1)
            oldc = ds_calls[r0:r1]
            v = ds_v[r0:r1]
            cz = ds_c[r0:r1]
            conc = np.ascontiguousarray(v[:, cmap].T)
            upper = np.ascontiguousarray(cz[:, cmap].T) == CELL_BELOW
            patient = s["sample_type"] == b"patient"
            has_row = s["manifest_line"] >= 0
            cov = {c: s[c] for c in ("age_hours", "birth_weight_g", "gestational_age_days", "feeding",
                                     "sex", "transfusion", "nicu")}
            t1 = time.perf_counter()
            calls, state = score(panel, conc, upper, patient, has_row, cov)
            keep = patient & has_row & (old != ST_QC_HOLD) & (old != ST_UNMATCHED)
            new_any = keep & (state == ST_RECALL)
            old_any = keep & (old == ST_RECALL)
            ids.append(s["sample_id"][new_any])
            for ci, oc in enumerate(old_of):
                nrec = keep & (calls[ci] >= C_BORDER) & (calls[ci] <= C_CRIT)
                if oc >= 0:
                    ocall = oldc[:, oc]
                    orec = keep & (ocall >= C_BORDER) & (ocall <= C_CRIT)
                    cnt["calls_changed"][ci] += int((keep & (ocall != calls[ci])).sum())
                else:
                    orec = np.zeros_like(keep)
                cnt["recalls"][ci] += int(nrec.sum())
                cnt["gained"][ci] += int((nrec & ~orec).sum())
                cnt["lost"][ci] += int((orec & ~nrec).sum())
            anyc["recalls"] += int(new_any.sum())
            anyc["gained"] += int((new_any & ~old_any).sum())
            anyc["lost"] += int((old_any & ~new_any).sum())
            screened += int(keep.sum())
            t_read += t1 - t0
            t_comp += time.perf_counter() - t1
            if calls_fh:
                idx = np.arange(r0, r1)
                _write_calls_fh(calls_fh, np.full(r1 - r0, path, object), idx,
                                s["sample_id"].astype(str), state, calls)
        f.close()
    if calls_fh:
        calls_fh.close()
    t0 = time.perf_counter()
    allids = np.concatenate(ids) if ids else np.array([], "S1")
    recalled = np.unique(allids).astype(str)
    t_comp += time.perf_counter() - t0
    report(panel, args, recalled, cnt, anyc, screened,
           "archives: %d rows, %d cards screened (patient, manifest row, not qc_hold)" % (rows, screened),
           t_read, t_comp)


def _write_calls_fh(fh, a, b, sid, state, calls):
    digits = np.array([str(k) for k in range(10)], object)
    code = digits[calls[0]]
    for c in calls[1:]:
        code = code + digits[c]
    fh.writelines("%s,%s,%s,%d,%s\n" % r for r in zip(a, b, sid, state, code))


# ---- output -----------------------------------------------------------------------------

def report(panel, args, recalled, counts, anyc, screened, what, t_read, t_comp):
    """recalled sample_ids to -o or stdout; counts (arrays per condition, by column name) to
    --counts as CSV with a last row ANY (anyc); the table and timings to stderr."""
    out = open(args.output, "w") if args.output else sys.stdout
    out.write("".join(x + "\n" for x in recalled))
    if args.output:
        out.close()
    cols = list(counts)
    if args.counts:
        with open(args.counts, "w") as fh:
            fh.write("condition,%s\n" % ",".join(cols))
            for ci, c in enumerate(panel.conds):
                fh.write("%s,%s\n" % (c["code"], ",".join(str(int(counts[k][ci])) for k in cols)))
            fh.write("ANY,%s\n" % ",".join(str(anyc[k]) if k in anyc else "" for k in cols))
    err = sys.stderr
    err.write("baseline_numpy: %s\n" % what)
    err.write("baseline_numpy: plate QC is NOT applied (no qc_hold); compare on nights whose QC passes\n")
    err.write("%-10s" % "condition" + "".join(" %13s" % k for k in cols) + "\n")
    for ci, c in enumerate(panel.conds):
        err.write("%-10s" % c["code"] + "".join(" %13d" % counts[k][ci] for k in cols) + "\n")
    err.write("%-10s" % "ANY" + "".join(" %13s" % anyc.get(k, "") for k in cols)
              + "   (%d distinct sample_ids recalled; %d cards screened)\n" % (len(recalled), screened))
    err.write("baseline_numpy: time read %.3f s, compute %.3f s\n" % (t_read, t_comp))


def main(argv):
    ap = argparse.ArgumentParser(prog="baseline_numpy.py", description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["night", "archive"])
    ap.add_argument("input", nargs="+", help="NIGHT_DIR (night) or ARCHIVE.h5|DIR... (archive)")
    ap.add_argument("--panel", "-p", required=True)
    ap.add_argument("-o", "--output", help="recalled sample_ids, one per line (default stdout)")
    ap.add_argument("--counts", help="per-condition recall counts as CSV")
    ap.add_argument("--chunk", type=int, default=1 << 18, help="archive rows per chunk [262144]")
    ap.add_argument("--per-file", action="store_true", help="night: one read_csv per plate file")
    ap.add_argument("--calls-out", help="(checking) every row's state and calls as CSV")
    args = ap.parse_args(argv)
    if args.mode == "night" and len(args.input) != 1:
        die("night mode takes one NIGHT_DIR")
    if args.chunk < 1:
        die("--chunk must be positive")
    try:
        panel = Panel(args.panel)
        (run_night if args.mode == "night" else run_archive)(panel, args)
    except Refuse as e:
        die(str(e), 2)
    except (OSError, KeyError, ValueError) as e:
        die("%s: %s" % (type(e).__name__, e))


if __name__ == "__main__":
    main(sys.argv[1:])
