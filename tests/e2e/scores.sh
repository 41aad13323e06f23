#!/bin/bash
# tests/e2e/scores.sh — condition scores (pipeline/score.h) through `neoscreen run`, and
# population fragments through `neoscreen config check`.
#
# A simulated night is run with a copy of the default panel that has a population:
# section and score blocks for MCAD (call_by both) and CUD (call_by cutoff: reported only).
# THE POPULATION NUMBERS ARE THE SIMULATOR'S OWN (pipeline/sim_profiles.c: median, and
# median * exp(+-2.576 * log_sd) for the 0.5th / 99.5th percentiles; preterm medium-chain
# acylcarnitines x0.82), and the CUD disease median 2.2 is the middle of the simulator's
# CUD range (C0 1.5-3.2): numbers for this test only, not clinical values.  The MCAD
# disease median 8.4 is DOMAIN §1.5 (Chace/Naylor, 16 affected newborns < 3 d).  The MCAD
# C8 cutoff is lowered to 0.15 here so that some healthy babies are cutoff-positive and the
# score has calls to lower.
#
# Prints "ok - NAME" or "not ok - NAME: why" per check (counted by tests/run.sh).
set -u
NS=${NS:-$PWD/neoscreen}
PY=/usr/bin/python3
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CFG="$ROOT/configs/panel-default.yaml"
T=${KEEP_T:-$(mktemp -d)}
[ -n "${KEEP_T:-}" ] || trap 'rm -rf "$T"' EXIT

ok() { echo "ok - $1"; }
nok() { echo "not ok - $1: $2"; }
check() {   # check NAME CMD... : ok if CMD succeeds
    local name=$1; shift
    if "$@" > "$T/check.out" 2>&1; then ok "$name"; else nok "$name" "$(head -c 400 "$T/check.out" | tr '\n' ' ')"; fi
}

# ---- the test panel: the default one + population + score blocks ----------------------
cat > "$T/population.yaml" <<'EOF'
population:
  source: "neoscreen simulate (pipeline/sim_profiles.c): test numbers only"
  lower_pct: 0.5
  upper_pct: 99.5
  markers:
    C8:
      all:      {n: 3000, lower: 0.026, median: 0.07, upper: 0.186}
      standard: {n: 2700, lower: 0.026, median: 0.07, upper: 0.186}
      preterm:  {n: 200, lower: 0.021, median: 0.057, upper: 0.153}
    C0:
      all: {n: 3000, lower: 17.0, median: 30.0, upper: 52.9}
EOF
"$PY" - "$CFG" "$T/population.yaml" "$T/scored.yaml" "$T/nopop.yaml" <<'EOF'
import sys
cfg, popf, out, nopop = sys.argv[1:5]
s = open(cfg, encoding="utf-8").read()
def edit(s, code, after, add, marker_cutoff, disease, new_cutoff=None):
    a = s.index("  - code: %s\n" % code)
    b = s.index("\n  - code: ", a + 1)
    blk = s[a:b]
    blk = blk.replace(after, after + add, 1)
    old = "        cutoff: %s\n" % marker_cutoff
    assert old in blk, (code, old)
    new = "        cutoff: %s\n" % (new_cutoff or marker_cutoff)
    blk = blk.replace(old, new + disease, 1)
    return s[:a] + blk + s[b:]
s = edit(s, "MCAD", "    require_secondary: false\n",
         "    score: {call_by: both, possible: 1.2, likely: 1.8}\n", "0.32",
         "        disease: {median: 8.4, source: \"DOMAIN 1.5: Chace/Naylor, 16 affected newborns < 3 d\"}\n",
         "0.15")
s = edit(s, "CUD", "    require_secondary: false\n",
         "    score: {call_by: cutoff, possible: 1.2, likely: 1.8}\n", "6.2",
         "        disease: {median: 2.2, source: \"simulator CUD range 1.5-3.2, test only\"}\n")
open(nopop, "w", encoding="utf-8").write(s)
open(out, "w", encoding="utf-8").write(s + "\n" + open(popf, encoding="utf-8").read())
EOF
out=$("$NS" config check "$T/scored.yaml" 2>&1)
check "config check: the scored panel is valid" grep -q 'ok (panel .*; 2 scored conditions)' <<< "$out"
out=$("$NS" config check "$T/nopop.yaml" 2>&1)
check "config check: a scored panel without population says it needs a fragment" \
    grep -q '2 scored conditions, no population: attach a population fragment' <<< "$out"

# ---- population fragments --------------------------------------------------------------
out=$("$NS" config check --panel "$T/nopop.yaml" "$T/population.yaml" 2>&1); rc=$?
check "config check: a fragment that fits the panel: exit 0" test $rc -eq 0
check "config check: a fragment is checked as a population" \
    grep -q 'population.yaml: ok (population for panel default .*: 2 markers, 4 entries, percentiles 0.5 / 99.5; 2 scored conditions checked)' <<< "$out"
out=$("$NS" config check --panel "$T/scored.yaml" "$T/population.yaml" 2>&1); rc=$?
check "config check: a fragment for a panel with its own population: exit 1" test $rc -eq 1
check "config check: ... reported at the fragment's population: key" \
    grep -q "population.yaml:1:1: the panel .*scored.yaml already has a population: section" <<< "$out"
sed -e 's/upper: 0.153}/upper: 9.0}/' -e 's/^      all: {n: 3000, lower: 17.0/      everyone: {n: 3000, lower: 17.0/' \
    "$T/population.yaml" > "$T/bad-pop.yaml"
echo "    Xle: {all: {n: 0, lower: 40, median: 87, upper: 150}}" >> "$T/bad-pop.yaml"
"$NS" config check --panel "$T/nopop.yaml" "$T/bad-pop.yaml" > "$T/bad.out" 2> "$T/bad.err"; rc=$?
check "config check: a bad fragment: exit 1, nothing on stdout" test $rc -eq 1 -a ! -s "$T/bad.out"
check "config check: unknown group at its line:col" \
    grep -q "bad-pop.yaml:11:7: population marker 'C0': unknown group 'everyone' (groups: all, standard, vlbw, preterm" "$T/bad.err"
check "config check: n 0 at its line:col" \
    grep -q "bad-pop.yaml:12:20: population Xle all: 'n' must be a whole number above 0, not '0'" "$T/bad.err"
check "config check: the offending fragment line is quoted" grep -q '>>>       everyone: {n: 3000' "$T/bad.err"
sed -e 's/upper: 0.153}/upper: 9.0}/' "$T/population.yaml" > "$T/bad-pop2.yaml"
"$NS" config check --panel "$T/nopop.yaml" "$T/bad-pop2.yaml" 2> "$T/bad2.err"; rc=$?
check "config check: a disease median inside a group's normal range: exit 1, at the fragment's line" \
    grep -q "bad-pop2.yaml:9:7: condition MCAD marker 'C8' (panel line [0-9]*): disease median 8.4 is not above the upper limit 9 of population group 'preterm'" "$T/bad2.err"

# ---- a night ---------------------------------------------------------------------------
N="$T/night"
"$NS" simulate -o "$N" -n 3000 -s 5 --every-condition 2> "$T/sim.err"
"$NS" run -c "$T/scored.yaml" -o "$T/o1" -t 2 "$N" 2> "$T/o1.err"; rc1=$?
check "run with a scored panel: exit 0" test $rc1 -eq 0
check "check_h5.py accepts the archive and sees 2 scored conditions" \
    "$PY" "$ROOT/scripts/check_h5.py" "$T/o1/batch.h5"
grep -q 'scores for 2 conditions' "$T/check.out" || nok "check_h5.py summary names the scores" "$(cat "$T/check.out")"

"$PY" - "$T/o1/batch.h5" "$N/truth.csv" > "$T/h5.txt" 2>&1 <<'EOF'
import csv, sys
import h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
t = lambda v: v.decode() if isinstance(v, bytes) else str(v)
conds = [t(c) for c in f["calls/conditions"][()]]
assert [t(c) for c in f["scores/conditions"][()]] == conds
sc, bd, calls = f["scores/values"][()], f["scores/bands"][()], f["calls/values"][()]
assert [t(x) for x in f["scores/bands"].attrs["names"]] == ["not_informative", "possible", "likely", "none"]
mcad, cud, pku = conds.index("MCAD"), conds.index("CUD"), conds.index("PKU")
samples = f["samples"][()]
patient = np.array([t(x) == "patient" for x in samples["sample_type"]])
# only MCAD and CUD are scored, and only patient wells
assert np.isnan(sc[:, pku]).all() and (bd[:, pku] == 3).all()
assert not np.isnan(sc[patient, mcad]).any(), "every patient has a C8 value"
assert np.isnan(sc[~patient, mcad]).all()
assert ((sc[patient, mcad] >= -1) & (sc[patient, mcad] <= 3)).all()
# the injected cases: scored in the disease range and still called
sid = [t(x) for x in samples["sample_id"]]
truth = {r["condition"]: r["sample_id"] for r in csv.DictReader(open(sys.argv[2], encoding="utf-8"))}
i = sid.index(truth["MCAD"])
assert bd[i, mcad] in (1, 2) and calls[i, mcad] in (2, 3), (sc[i, mcad], bd[i, mcad], calls[i, mcad])
j = sid.index(truth["CUD"])
assert bd[j, cud] == 2 and calls[j, cud] == 3, (sc[j, cud], bd[j, cud], calls[j, cud])
# call_by both: a cutoff-positive MCAD C8 with a not-informative score was lowered to negative
slots = f["flags/slots"][()]
s8 = [k for k, r in enumerate(slots) if t(r["condition"]) == "MCAD" and t(r["marker"]) == "C8"][0]
flag8 = f["flags/values"][:, s8]
lowered = patient & (flag8 == 2) & (calls[:, mcad] == 0)
assert lowered.sum() > 0, "no call lowered"
assert (bd[lowered, mcad] == 0).all()
# ... and no MCAD call above negative has a not-informative band
assert not ((calls[:, mcad] > 0) & (calls[:, mcad] < 4) & (bd[:, mcad] == 0)).any()
# call_by cutoff (CUD): reported only, so every CUD call is what the flags alone give
# MoM of C8 = value / median of the baby's group (standard 0.07, preterm 0.057)
mc = [t(x) for x in f["scores/mom_conditions"][()]]
mm = [t(x) for x in f["scores/mom_markers"][()]]
k = [q for q in range(len(mc)) if mc[q] == "MCAD" and mm[q] == "C8"][0]
an = [t(x) for x in f["analytes/names"][()]]
c8 = f["analytes/values"][:, an.index("C8")]
strata = [t(x) for x in f["samples_strata"].attrs["names"]]
pre = f["samples_strata"][:, strata.index("preterm")] == 1
m = f["scores/mom"][:, k]
ok_std = np.isclose(m[patient & ~pre], c8[patient & ~pre] / 0.07)
ok_pre = np.isclose(m[patient & pre], c8[patient & pre] / 0.057)
assert ok_std.all() and ok_pre.all() and pre[patient].sum() > 0
print("lowered", int(lowered.sum()))
EOF
check "batch.h5 /scores: shapes, bands, injected cases, calls lowered by the score, MoM by group" grep -q '^lowered [0-9]' "$T/h5.txt"
grep -q '^lowered' "$T/h5.txt" || sed 's/^/#   /' "$T/h5.txt" | tail -5

check "the injected MCAD case's reasons give its score and band" "$PY" -c '
import csv, re, sys
truth = {r["condition"]: r["infant_id"] for r in csv.DictReader(open(sys.argv[1], encoding="utf-8"))}
rec = {r["infant_id"]: r for r in csv.DictReader(open(sys.argv[2], encoding="utf-8-sig"))}
ok = re.search(r"MCAD score [0-9]\.[0-9][0-9] \((possible|likely)\)", rec[truth["MCAD"]]["reasons"])
cud = re.search(r"CUD score [0-9]\.[0-9][0-9] \(likely\)", rec[truth["CUD"]]["reasons"])
sys.exit(0 if ok and cud else 1)' "$N/truth.csv" "$T/o1/recall-list.csv"
check "a score reason follows its condition's marker reasons" "$PY" -c '
import csv, sys
for r in csv.DictReader(open(sys.argv[1], encoding="utf-8-sig")):
    w = r["reasons"]
    if "MCAD score" in w and "MCAD C8" in w and w.index("MCAD C8") > w.index("MCAD score"):
        sys.exit(1)' "$T/o1/recall-list.csv"

# the same night with the scores reported only (call_by cutoff): more MCAD recalls
sed 's/score: {call_by: both,/score: {call_by: cutoff,/' "$T/scored.yaml" > "$T/cutoff.yaml"
"$NS" run -c "$T/cutoff.yaml" -o "$T/o2" -t 2 "$N" 2> "$T/o2.err"
n1=$(grep -c 'MCAD C8' "$T/o1/recall-list.csv"); n2=$(grep -c 'MCAD C8' "$T/o2/recall-list.csv")
check "call_by both recalls fewer MCAD babies than call_by cutoff ($n1 < $n2)" test "$n1" -lt "$n2"
check "the scores themselves do not depend on call_by" "$PY" -c '
import sys, h5py, numpy as np
a, b = (h5py.File(p, "r") for p in sys.argv[1:3])
sys.exit(0 if np.array_equal(a["scores/values"][()], b["scores/values"][()], equal_nan=True) else 1)' \
    "$T/o1/batch.h5" "$T/o2/batch.h5"

# thread count changes nothing; Chinese lists translate the band
"$NS" run -c "$T/scored.yaml" -o "$T/o3" -t 1 --lang zh "$N" 2> "$T/o3.err"
check "-t 1 and -t 2 give the same /scores" h5diff "$T/o1/batch.h5" "$T/o3/batch.h5" /scores /scores
check "--lang zh: the score reason in Chinese" grep -q 'MCAD 评分 [0-9.]*（\(可能\|很可能\)）' "$T/o3/recall-list.csv"

# a lab's translation table without the score texts is refused for a scored panel only
grep -v -e '^  reason.score:' -e '^    en: "{cond} score' -e '^    zh: "{cond} 评分' "$ROOT/configs/lang.yaml" > "$T/lang.yaml"
"$NS" run -c "$T/scored.yaml" -o "$T/o4" --lang-file "$T/lang.yaml" "$N" 2> "$T/o4.err"; rc=$?
check "a lang table without reason.score is refused for a scored panel" grep -q "no text for 'reason.score'" "$T/o4.err"
check "... with exit status 1" test $rc -eq 1
"$NS" run -c "$CFG" -o "$T/o5" --lang-file "$T/lang.yaml" "$N" 2> "$T/o5.err"; rc=$?
check "... but not for the default panel (no scores)" test $rc -eq 0
check "the default panel writes no /scores" "$PY" -c '
import sys, h5py; sys.exit(1 if "scores" in h5py.File(sys.argv[1], "r") else 0)' "$T/o5/batch.h5"
