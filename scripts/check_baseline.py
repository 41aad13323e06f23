#!/usr/bin/python3
"""check_baseline.py — helpers of scripts/check_baseline.sh (not a user tool).

  variant PANEL OUT          a panel that exercises what the default one leaves unused:
                             stratum overrides (first stratum wins), text and flag strata,
                             tpn_max_fold, an extra borderline zone, missing_birth_weight
                             invalid
  perturb NIGHT SEED         edit a simulated night in place, deterministically: censored,
                             ND, empty and NaN cells, values exactly at limits, the ratio
                             21 / (0.1 + 0.2) = 69.99999999999999 against 70, manifest
                             covariates missing, malformed, in other spellings, duplicate
                             and conflicting sample_ids, TPN babies
  night BATCH_H5 IDS CALLS   neoscreen's run vs the baseline's night mode: every well's
                             calls and state (qc_hold wells: calls only), and the recall
                             sets (baseline minus qc_hold cards = neoscreen)
  archive RESCORE_DIR IDS COUNTS ARCHIVE...
                             neoscreen rescore vs the baseline's archive mode: per
                             condition new recalls, gained, lost, calls changed (and ANY),
                             and the new recall set rebuilt from the archived calls and
                             rescore-changes.csv
Prints "same ..." or what differs (the first few cases).
"""
import csv
import os
import sys

import numpy as np

RECALL = (1, 2, 3)


def variant(src, dst):
    t = open(src).read()

    def sub(old, new, count=1):
        nonlocal t
        assert t.count(old) == count, (old, t.count(old))
        t = t.replace(old, new)

    sub('  - {name: late, covariate: age_hours, gt: 48}                 # DOMAIN §2.1 "late" group\n',
        '  - {name: late, covariate: age_hours, gt: 48}                 # DOMAIN §2.1 "late" group\n'
        '  - {name: boys, covariate: sex, eq: M}\n'
        '  - {name: nicu, covariate: nicu, eq: 1}\n'
        '  - {name: big, covariate: birth_weight_g, ge: 4000}\n'
        '  - {name: older, covariate: age_hours, ge: 60}\n'
        '  - {name: transfused, covariate: transfusion, eq: 1}\n'
        '  - {name: formula, covariate: feeding, eq: formula}\n')
    sub("  missing_birth_weight: caveat\n", "  missing_birth_weight: invalid\n")
    sub("    tpn_sensitive: true\n", "    tpn_sensitive: true\n    tpn_max_fold: 2\n", 3)
    # PKU Phe: vlbw is listed before preterm, so a vlbw preterm baby gets 120
    sub("        cutoff: 150\n", "        cutoff: 150\n        strata:\n"
        "          preterm: {cutoff: 130, critical: 400}\n          vlbw: {cutoff: 120}\n"
        "          older: {borderline: 90}\n")
    sub("        cutoff: 0.32\n", "        cutoff: 0.32\n        borderline: 0.25\n")
    sub("        cutoff: 35\n", "        cutoff: 35\n        strata: {boys: {critical: 45}, formula: {cutoff: 33}}\n")
    sub("        cutoff: 7.9\n", "        cutoff: 7.9\n        strata: {older: {cutoff: 6.5}, big: {cutoff: 7}}\n", 2)
    sub("        cutoff: 6.2\n", "        cutoff: 6.2\n        strata: {nicu: {cutoff: 7, borderline: 8}, "
        "transfused: {critical: 5.5}}\n")
    open(dst, "w").write(t)


def perturb(night, seed):
    import pandas as pd
    rng = np.random.default_rng(int(seed))
    mpath = os.path.join(night, "manifest.csv")
    m = pd.read_csv(mpath, dtype=str, keep_default_na=False)
    n = len(m)

    def some(frac):
        return rng.random(n) < frac

    for c in ("birth_time", "collection_time"):
        m.loc[some(0.01), c] = ""
        k = some(0.01)
        m.loc[k, c] = m.loc[k, c] + ":" + pd.Series(rng.integers(0, 60, n), index=m.index)[k].map("{:02d}".format)
        k = some(0.01)
        m.loc[k, c] = m.loc[k, c].str.replace("T", " ", regex=False)
        k = some(0.005)
        m.loc[k, c] = m.loc[k, c] + "Z"
    k = some(0.005)                                 # collection before birth: age missing
    m.loc[k, ["birth_time", "collection_time"]] = m.loc[k, ["collection_time", "birth_time"]].to_numpy()
    k = some(0.01)                                  # early cards, some exactly 24 h and 60 h old
    m.loc[k, "collection_time"] = (pd.to_datetime(m.loc[k, "birth_time"].str.slice(0, 16), errors="coerce")
                                   + pd.to_timedelta(rng.choice([23.5, 24, 60, 59.9833333], k.sum()), unit="h")
                                   ).dt.strftime("%Y-%m-%dT%H:%M").fillna("")
    for c in ("birth_weight_g", "gestational_age_days"):
        m.loc[some(0.01), c] = ""
        m.loc[some(0.002), c] = "abc"
        m.loc[some(0.002), c] = "0"
    k = some(0.01)
    m.loc[k, "birth_weight_g"] = rng.choice(["1499", "1500", "2499", "2500", "4000"], k.sum())
    m.loc[some(0.01), "gestational_age_days"] = "258"
    m.loc[some(0.03), "feeding"] = "tpn"
    m.loc[some(0.01), "feeding"] = "TPN"
    m.loc[some(0.005), "feeding"] = "Formula"
    m.loc[some(0.005), "feeding"] = "iv"
    m.loc[some(0.005), "feeding"] = ""
    for c, words in (("transfusion", ["yes", "Y", "true", "maybe", "", "1"]),
                     ("nicu", ["yes", "no", "TRUE", "x", "", "1"])):
        k = some(0.03)
        m.loc[k, c] = rng.choice(words, k.sum())
    m.loc[some(0.01), "sex"] = ""
    m.loc[some(0.005), "sex"] = "U"
    m.loc[some(0.002), "infant_id"] = ""            # rejected: its wells end unmatched
    dup_same = m.sample(20, random_state=int(seed))
    dup_other = m.sample(10, random_state=int(seed) + 1).copy()
    dup_other["infant_id"] = dup_other["infant_id"] + "X"
    m = pd.concat([m, dup_same, dup_other])
    m = m.drop(m.sample(30, random_state=int(seed) + 2).index[:30])   # unmatched wells
    m.to_csv(mpath, index=False)
    tpn_ids = set(m["sample_id"][m["feeding"].str.lower() == "tpn"])

    # plates: patient cells only (controls and blanks stay as QC expects them)
    pdir = os.path.join(night, "plates")
    special = {
        "Phe": ["150", "149.99", "150.0000001", "<200", "<100", "ND", "", "300", "400", "130", "120"],
        "Tyr": ["88.23529411764706", "<50", "ND", "nan", "100"],
        "C0": ["6.2", "6.5", "5.0", "5.5", "7", "8", "<10", "<5", "21", "nd", "NaN", "125"],
        "C16": ["0.1", "<0.1", "12", "ND"], "C18": ["0.2", "<0.2", ""],
        "Cit": ["35", "45", "50", "65", "5", "<5", "<3", "33"],
        "C8": ["0.32", "0.25", "0.31999999", "<0.3", "<1"], "C10": ["0.2", "<0.2", "ND"],
        "C3": ["7.9", "6.5", "7", "<8", "ND"], "C2": ["<1", "ND", ""],
        "SUAC": ["<10", "6.1", "<6"], "Xle": ["490", "<500", "980"], "Val": ["390", "780", "<400"],
        "Ala": ["<300", "ND"], "Met": ["65", "6.3", "<6", "130", "ND"],
    }
    for f in sorted(os.listdir(pdir)):
        path = os.path.join(pdir, f)
        raw = open(path, newline="").read()
        eol = "\r\n" if "\r\n" in raw else "\n"
        rows = list(csv.reader(raw.splitlines()))
        head = rows[0]
        hl = [h.lower() for h in head]
        alias = {"xle": ["leu"], "suac": ["sa"], "c0": ["fc"]}
        sid = hl.index("sample_id")
        col = {}
        for a in special:
            for name in [a.lower()] + alias.get(a.lower(), []):
                if name in hl:
                    col[a] = hl.index(name)
        tcol = hl.index("sample_type")
        for r in rows[1:]:
            if r[tcol] != "patient":
                continue
            for a, j in col.items():
                if rng.random() < 0.004:
                    r[j] = special[a][rng.integers(len(special[a]))]
            if rng.random() < 0.002:                # C0/(C16+C18) = 69.99999999999999 vs 70
                r[col["C0"]], r[col["C16"]], r[col["C18"]] = "21", "0.1", "0.2"
            if rng.random() < 0.002:                # Phe/Tyr = 1.7 exactly on paper
                r[col["Phe"]], r[col["Tyr"]] = "170", "100"
            if r[sid] in tpn_ids and rng.random() < 0.3:
                # MSUD on TPN without ratio confirmation (held back to borderline), or at
                # twice the cutoff (disease range under tpn_max_fold: 2, the call stands)
                r[col["Xle"]], r[col["Val"]], r[col["Ala"]], r[col["Phe"]] = (
                    ("500", "400", "600", "120"), ("1000", "800", "900", "200"),
                    ("980", "780", "1000", "190"), ("1000", "<400", "900", "200"))[rng.integers(4)]
        with open(path, "w", newline="") as fh:
            csv.writer(fh, lineterminator=eol).writerows(rows)


def _s(a):
    return np.char.decode(a, "utf-8") if a.dtype.kind == "S" else a.astype(str)


def night(h5, ids_path, calls_path):
    import h5py
    import pandas as pd
    f = h5py.File(h5, "r")
    smp = f["/samples"][()]
    st = f["/samples_state_code"][()].reshape(-1)
    names = [x.decode() if isinstance(x, bytes) else x for x in f["/samples_state_code"].attrs["names"]]
    hold = names.index("qc_hold")
    calls = f["/calls/values"][()]
    neo = pd.DataFrame({"a": _s(smp["plate_id"]), "b": _s(smp["well"]), "sid": _s(smp["sample_id"]), "st": st,
                        "calls": ["".join(map(str, r)) for r in calls]})
    bl = pd.read_csv(calls_path, dtype={"a": str, "b": str, "sample_id": str, "calls": str}, keep_default_na=False)
    j = neo.merge(bl, on=["a", "b"], how="outer", indicator=True)
    bad = []
    if (j["_merge"] != "both").any():
        bad.append("%d wells in one only" % int((j["_merge"] != "both").sum()))
    j = j[j["_merge"] == "both"]
    dc = j[j["calls_x"] != j["calls_y"]]
    if len(dc):
        codes = [x.decode() for x in f["/calls/conditions"][()]]
        ex = []
        for _, r in dc.head(3).iterrows():
            d = [k for k in range(len(codes)) if r["calls_x"][k] != r["calls_y"][k]]
            ex.append("%s %s %s: %s" % (r["a"], r["b"], r["sid"],
                                        ", ".join("%s neo %s bl %s" % (codes[k], r["calls_x"][k], r["calls_y"][k])
                                                  for k in d)))
        bad.append("%d wells with other calls (%s)" % (len(dc), "; ".join(ex)))
    ds = j[(j["st"] != hold) & (j["st"] != j["state"])]
    if len(ds):
        bad.append("%d wells with another state (%s)" % (len(ds), "; ".join(
            "%s %s neo %s bl %s" % (r["a"], r["b"], names[r["st"]], names[r["state"]])
            for _, r in ds.head(3).iterrows())))
    neo_ids = set(neo["sid"][neo["st"] == names.index("recall")])
    held = set(neo["sid"][neo["st"] == hold])
    bl_ids = set(open(ids_path).read().split())
    if bl_ids - held != neo_ids:
        bad.append("recall sets differ: %d only in baseline, %d only in neoscreen"
                   % (len(bl_ids - held - neo_ids), len(neo_ids - bl_ids)))
    print("; ".join(bad) if bad else "same: %d wells, calls and states equal; %d recalled (%d more by the baseline "
          "among %d qc_hold cards)" % (len(j), len(neo_ids), len(bl_ids & held), len(held)))


def archive(rdir, ids_path, counts_path, archives):
    import h5py
    rows = {r["condition"]: r for r in csv.DictReader(open(os.path.join(rdir, "rescore-conditions.csv")))}
    mine = {r["condition"]: r for r in csv.DictReader(open(counts_path))}
    bad = []
    for c, r in rows.items():
        b = mine.get(c)
        if b is None:
            bad.append("%s not in the baseline" % c)
            continue
        pairs = [("new_recalls", "recalls"), ("gained", "gained"), ("lost", "lost")]
        if c != "ANY":
            pairs.append(("calls_changed", "calls_changed"))
        for x, y in pairs:
            if r[x] != b[y]:
                bad.append("%s %s: rescore %s baseline %s" % (c, x, r[x], b[y]))
    # the new recall set: archived per-condition recalls, flipped by rescore-changes.csv
    flips = {}
    for r in csv.DictReader(open(os.path.join(rdir, "rescore-changes.csv"))):
        flips.setdefault((os.path.realpath(r["archive"]), r["sample_id"]), []).append((r["condition"], r["change"]))
    new = set()
    for a in archives:
        f = h5py.File(a, "r")
        smp = f["/samples"].fields(["sample_id", "sample_type", "manifest_line"])[()]
        st = f["/samples_state_code"][()].reshape(-1)
        names = [x.decode() if isinstance(x, bytes) else x for x in f["/samples_state_code"].attrs["names"]]
        codes = [x.decode() for x in f["/calls/conditions"][()]]
        calls = f["/calls/values"][()]
        keep = ((smp["sample_type"] == b"patient") & (smp["manifest_line"] >= 0)
                & (st != names.index("qc_hold")) & (st != names.index("unmatched")))
        rp = os.path.realpath(a)
        for i in np.flatnonzero(keep):
            sid = smp["sample_id"][i].decode()
            rec = {codes[k] for k in range(len(codes)) if calls[i, k] in RECALL}
            for c, ch in flips.get((rp, sid), []):
                if ch == "gained":
                    rec.add(c)
                else:
                    rec.discard(c)
            if rec:
                new.add(sid)
    bl_ids = set(open(ids_path).read().split())
    if bl_ids != new:
        bad.append("recall sets differ: %d only in baseline, %d only in rescore" % (len(bl_ids - new), len(new - bl_ids)))
    print("; ".join(bad) if bad else "same: %d conditions + ANY (new recalls %s, gained %s, lost %s), %d cards recalled"
          % (len(rows) - 1, rows["ANY"]["new_recalls"], rows["ANY"]["gained"], rows["ANY"]["lost"], len(new)))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "variant":
        variant(*args)
    elif cmd == "perturb":
        perturb(*args)
    elif cmd == "night":
        night(*args)
    elif cmd == "archive":
        archive(args[0], args[1], args[2], args[3:])
    else:
        sys.exit("check_baseline.py: unknown command %s" % cmd)
