#!/bin/bash
# tests/e2e/specimen.sh — specimen validity, strata overrides and TPN, through `neoscreen run`.
#
# Wells built from a normal patient row of the example night with single cells changed,
# a manifest with chosen covariates, and a copy of the default panel that adds stratum
# overrides to PKU's Phe cutoff (150 by default): preterm 250, vlbw 400 (vlbw is listed
# first, so it wins for a baby in both), and tpn_max_fold: 3 to MSUD.  Prints "ok - NAME" / "not ok - NAME: why".
set -u
NS=${NS:-$PWD/neoscreen}
PY=/usr/bin/python3
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/n/plates"

"$PY" - "$ROOT/configs/panel-default.yaml" "$T/panel.yaml" <<'EOF2'
import sys
s = open(sys.argv[1], encoding="utf-8").read()
i = s.index("  - code: PKU\n")
j = s.index("        cutoff: 150\n", i) + len("        cutoff: 150\n")
s = s[:j] + "        strata:\n          preterm: {cutoff: 250}\n          vlbw: {cutoff: 400}\n" + s[j:]
i = s.index("  - code: MSUD\n")
j = s.index("    tpn_sensitive: true\n", i)
s = s[:j] + "    tpn_max_fold: 3\n" + s[j:]
open(sys.argv[2], "w", encoding="utf-8").write(s)
EOF2

"$PY" - "$ROOT/reference-data/example-night" "$T/n" <<'EOF2'
import csv, sys
src, dst = sys.argv[1:3]
rows = list(csv.reader(open(src + "/plates/P20261122-0001.csv", encoding="utf-8")))
hdr = rows[0]
truth = {r[0] for r in csv.reader(open(src + "/truth.csv", encoding="utf-8"))}
ctl = [r for r in rows[1:] if r[3] != "patient"]
normal = next(r for r in rows[1:] if r[3] == "patient" and r[2] not in truth)
col = {h: i for i, h in enumerate(hdr)}
tpn_aa = {"Phe": "200", "Tyr": "150", "Xle": "600", "Val": "450", "Ala": "600", "Met": "40"}
# sample, {cells}, {manifest overrides}
cases = [
    ("T1", {"Phe": "200", "Tyr": "60"}, {}),                                   # term: PKU
    ("T2", {"Phe": "200", "Tyr": "60"}, {"gestational_age_days": "230"}),      # preterm: below 250
    ("T3", {"Phe": "300", "Tyr": "60"}, {"gestational_age_days": "230"}),      # preterm: above 250
    ("T4", {"Phe": "300", "Tyr": "60"}, {"gestational_age_days": "230", "birth_weight_g": "1200"}),  # vlbw wins: below 400
    ("N1", tpn_aa, {"feeding": "TPN"}),                                        # TPN global rise (any case)
    ("N2", {"Xle": "2000", "Val": "800", "Ala": "400"}, {"feeding": "tpn"}),   # true MSUD on TPN
    ("N3", tpn_aa, {}),                                                        # same rise, not on TPN
    ("N4", {"Xle": "1500", "Val": "1200", "Ala": "1500"}, {"feeding": "tpn"}), # >= 3x cutoff on TPN
    ("E1", {}, {"collection_time": "2026-11-19T20:00"}),                       # 12 h: early, normal
    ("E2", {"Phe": "600", "Tyr": "60"}, {"collection_time": "2026-11-19T20:00"}),  # early, PKU range
    ("X1", {}, {"transfusion": "1"}),                                          # transfused, normal
    ("B1", {}, {"birth_weight_g": ""}),                                        # no BW: caveat only
]
out = [hdr] + ctl
wells = [f"{r}{c:02d}" for c in range(1, 13) for r in "ABCDEFGH"][3:]
for k, (sid, cells, _) in enumerate(cases):
    r = list(normal)
    r[col["well"]], r[col["sample_id"]] = wells[k], sid
    for a, v in cells.items():
        r[col[a]] = v
    out.append(r)
csv.writer(open(dst + "/plates/SPEC.csv", "w", encoding="utf-8", newline=""), lineterminator="\n").writerows(out)
mh = "sample_id,infant_id,specimen,sex,birth_weight_g,gestational_age_days,birth_time,collection_time,feeding,transfusion,antibiotics,nicu,hospital,mother_name,contact_phone".split(",")
m = csv.writer(open(dst + "/manifest.csv", "w", encoding="utf-8", newline=""), lineterminator="\n")
m.writerow(mh)
for sid, _, over in cases:
    v = dict(zip(mh, [sid, "I" + sid, "initial", "F", "3300", "280", "2026-11-19T08:00", "2026-11-21T10:00",
                      "breast", "0", "0", "0", "Test Hospital", "Mother I" + sid, "+86 100 0000 0000"]))
    v.update(over)
    m.writerow([v[h] for h in mh])
EOF2

"$NS" run -v 0 -t 2 -c "$T/panel.yaml" -o "$T/o" "$T/n" 2> "$T/err"
echo "# run exit status $?"
"$PY" - "$T/o/recall-list.csv" <<'EOF2' || echo "not ok - specimen: the recall-list checker stopped half-way (it checked nothing after that)"
import csv, sys
rec = {r["infant_id"]: r for r in csv.DictReader(open(sys.argv[1], encoding="utf-8-sig"))}   # the list starts with a BOM
def check(name, iid, want):
    r = rec.get(iid)
    if want is None:
        print(("ok - " if r is None else "not ok - ") + name + ("" if r is None else ": on the list: %r" % r["reasons"]))
        return
    st, pr, act, conds, frag = want
    got = r and (r["state"], r["priority"], r["action"], r["conditions"])
    good = got == (st, pr, act, conds) and frag in r["reasons"]
    print(("ok - " if good else "not ok - ") + name + ("" if good else ": got %s %r" % (got, r and r["reasons"])))
check("term baby, Phe 200: PKU referral", "IT1", ("recall", "urgent", "referral", "PKU", "PKU Phe 200 >= cutoff 150"))
check("preterm baby, Phe 200: under the preterm cutoff 250, negative", "IT2", None)
check("preterm baby, Phe 300: over the preterm cutoff, PKU referral", "IT3", ("recall", "urgent", "referral", "PKU", "PKU Phe 300 >= cutoff 250"))
check("VLBW preterm baby, Phe 300: the vlbw cutoff 400 decides (listed first)", "IT4", None)
check("TPN baby with a global amino-acid rise: repeat after TPN (urgent: MSUD is critical), no MSUD referral", "IN1",
      ("recall", "urgent", "repeat_specimen", "PKU;MSUD", "MSUD on TPN at collection: amino-acid rise without ratio confirmation"))
check("TPN baby with disease-range Xle and high Xle/Ala: MSUD referral stands", "IN2",
      ("recall", "critical", "referral", "MSUD", "MSUD Xle 2000 >= cutoff 490"))
check("TPN baby with Xle 1500 >= tpn_max_fold 3 x 490, ratio normal: MSUD referral stands", "IN4",
      ("recall", "critical", "referral", "MSUD", "MSUD Xle 1500 >= cutoff 490"))
check("the same rise without TPN is an MSUD referral (PKU borderline beside it)", "IN3", ("recall", "critical", "referral;repeat_specimen", "PKU;MSUD", "MSUD Xle 600"))
check("early card (12 h), normal values: invalid specimen, repeat", "IE1",
      ("invalid_specimen", "routine", "repeat_specimen", "", "specimen: collected at 12.0 h, before 24 h"))
check("early card with PKU-range Phe: still a PKU referral, early noted", "IE2",
      ("recall", "urgent", "referral", "PKU", "specimen: collected at 12.0 h, before 24 h"))
check("transfused before collection: invalid specimen", "IX1",
      ("invalid_specimen", "routine", "repeat_specimen", "", "specimen: transfused before collection"))
check("missing birth weight alone: a caveat, not a recall", "IB1", None)
EOF2
"$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
f = d["specimen_findings"]
ok = f["early_collection"] == 2 and f["transfusion"] == 1 and f["missing_birth_weight"] == 1 and f["tpn"] == 3 and d["states_add_up"]
print(("ok - " if ok else "not ok - ") + "summary counts specimen findings and still adds up" + ("" if ok else ": %r" % f))' "$T/o/summary.json"
"$PY" - "$T/o/batch.h5" <<'EOF2'
import sys, h5py
f = h5py.File(sys.argv[1], "r")
names = [n.decode() if isinstance(n, bytes) else n for n in f["samples_specimen"].attrs["names"]]
tot = dict(zip(names, f["samples_specimen"][:].sum(axis=0).tolist()))
strata = [n.decode() if isinstance(n, bytes) else n for n in f["samples_strata"].attrs["names"]]
s = dict(zip(strata, f["samples_strata"][:].sum(axis=0).tolist()))
ok = tot["early_collection"] == 2 and tot["transfusion"] == 1 and tot["tpn"] == 3 and s["preterm"] == 3 and s["vlbw"] == 1
print(("ok - " if ok else "not ok - ") + "batch.h5 keeps each card's specimen findings and strata" + ("" if ok else ": %r %r" % (tot, s)))
EOF2
