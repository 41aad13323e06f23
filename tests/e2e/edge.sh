#!/bin/bash
# tests/e2e/edge.sh — hand-built wells at the edges of the rules, through `neoscreen run`.
#
# One plate made from a normal patient row of the example night, with single cells changed
# (values chosen against configs/panel-default.yaml's cutoffs), and a manifest to match.
# Prints "ok - NAME" / "not ok - NAME: why".
set -u
NS=${NS:-$PWD/neoscreen}
PY=/usr/bin/python3
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CFG="$ROOT/configs/panel-default.yaml"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
ok() { echo "ok - $1"; }
nok() { echo "not ok - $1: $2"; }

mkdir -p "$T/n/plates"
"$PY" - "$ROOT/reference-data/example-night" "$T/n" <<'EOF'
import csv, sys
src, dst = sys.argv[1:3]
rows = list(csv.reader(open(src + "/plates/P20261122-0001.csv", encoding="utf-8")))
hdr = rows[0]
truth = {r[0] for r in csv.reader(open(src + "/truth.csv", encoding="utf-8"))}
ctl = [r for r in rows[1:] if r[3] != "patient"]
normal = next(r for r in rows[1:] if r[3] == "patient" and r[2] not in truth)
col = {h: i for i, h in enumerate(hdr)}
# well, sample, infant, {analyte: cell}
cases = [
    ("D01", "E0", "IE0", {"C0": "6.4"}),                      # CUD borderline -> routine repeat
    ("E01", "E1", "IE1", {"C0": "<10"}),                      # C0 censored across the cutoff
    ("F01", "E2", "IE2", {"SUAC": "<10"}),                    # SUAC censored across the cutoff
    ("G01", "E3", "IE3", {"Phe": "1200", "Tyr": ""}),         # PKU, confirming ratio missing
    ("H01", "E4", "IE4", {"C0": "21", "C16": "0.1", "C18": "0.2"}),   # C0/(C16+C18) == 70
    ("A02", "E5", "IE5", {"C8": "2.5", "C10": "0.2"}),        # MCAD, card 1 of infant IE5
    ("B02", "E6", "IE5", {"C0": "6.4"}),                      # card 2 of IE5: CUD borderline
    ("C02", "E7", "IE7", {"SUAC": "<1"}),                     # censored below the cutoff: normal
    ("D02", "E8", "IE8", {}),                                 # card logged twice, two infants
]
out = [hdr] + ctl
for well, sid, iid, cells in cases:
    r = list(normal)
    r[col["well"]], r[col["sample_id"]] = well, sid
    for k, v in cells.items():
        r[col[k]] = v
    out.append(r)
w = csv.writer(open(dst + "/plates/EDGE.csv", "w", encoding="utf-8", newline=""), lineterminator="\n")
w.writerows(out)
m = csv.writer(open(dst + "/manifest.csv", "w", encoding="utf-8", newline=""), lineterminator="\n")
m.writerow("sample_id,infant_id,specimen,sex,birth_weight_g,gestational_age_days,birth_time,collection_time,feeding,transfusion,antibiotics,nicu,hospital,mother_name,contact_phone".split(","))
for _, sid, iid, _ in cases:
    m.writerow([sid, iid, "initial", "F", "3300", "280", "2026-11-19T08:00", "2026-11-21T10:00",
                "breast", "0", "0", "0", "Test Hospital", "Mother " + iid, "+86 100 0000 0000"])
m.writerow(["E8", "IE9", "initial", "F", "3300", "280", "2026-11-19T08:00", "2026-11-21T10:00",
            "breast", "0", "0", "0", "Test Hospital", "Mother IE9", "+86 100 0000 0001"])
EOF
"$NS" run -v 0 -t 2 -c "$CFG" -o "$T/o" "$T/n" 2> "$T/err"
RC=$?

# expectations: infant -> (state, priority, action, conditions, reason fragment)
"$PY" - "$T/o/recall-list.csv" > "$T/res" <<'EOF'
import csv, sys
rec = {r["infant_id"]: r for r in csv.DictReader(open(sys.argv[1], encoding="utf-8-sig"))}   # the list starts with a BOM
want = {
    "IE0": ("recall", "routine", "repeat_specimen", "CUD", "CUD C0 6.4 <= borderline 6.5"),
    "IE1": ("invalid_specimen", "routine", "repeat_specimen", "", "CUD C0 censored (<10), cannot be called"),
    "IE2": ("invalid_specimen", "routine", "repeat_specimen", "", "TYR1 SUAC censored (<10), cannot be called"),
    "IE3": ("recall", "urgent", "referral", "PKU", "PKU Phe/Tyr missing"),
    "IE4": ("recall", "urgent", "referral", "CPT1", "CPT1 C0/(C16+C18) 70 >= cutoff 70"),
    # every distinct action, most urgent first (README: the recall list)
    "IE5": ("recall", "critical", "referral;repeat_specimen", "MCAD;CUD", "[E5] MCAD C8 2.5 >= cutoff 0.32"),
}
names = {
    "IE0": "CUD borderline is a routine repeat",
    "IE1": "C0 '<10' straddling the cutoff: invalid specimen, no stale condition codes",
    "IE2": "SUAC '<10' straddling the cutoff: invalid specimen, not a TYR1 referral",
    "IE3": "Phe 1200 with Tyr missing stays an urgent PKU referral, reason names the missing ratio",
    "IE4": "a ratio exactly at its cutoff (21/(0.1+0.2) vs 70) is positive",
    "IE5": "two cards of one infant: one row, both sample ids, the most urgent priority",
}
for iid, (st, pr, act, conds, frag) in want.items():
    r = rec.get(iid)
    got = None if r is None else (r["state"], r["priority"], r["action"], r["conditions"])
    if got == (st, pr, act, conds) and frag in r["reasons"]:
        print("ok - " + names[iid])
    else:
        print("not ok - %s: got %s reasons=%r" % (names[iid], got, r and r["reasons"]))
print(("ok - " if rec.get("IE5", {}).get("sample_id") == "E5;E6" else "not ok - ") + "merged row lists E5;E6")
for iid, why in (("IE7", "SUAC '<1' is below the cutoff: negative"), ("IE8", "conflicting card is not reported"),
                 ("IE9", "conflicting card is not reported to either infant")):
    print(("ok - " if iid not in rec else "not ok - ") + why + " (" + iid + ")")
EOF
rc_py=$?
cat "$T/res"
# a checker that stops half-way checked nothing: that is a failure, not silence
[ "$rc_py" -eq 0 ] || nok "edge night: recall-list checker" "it exited $rc_py"
[ $((RC & 2)) -eq 2 ] && [ $((RC & 8)) -eq 8 ] && ok "conflicting duplicate card: exit bits 2 and 8" || nok "conflicting duplicate card: exit bits 2 and 8" "rc=$RC"
grep -q "manifest.csv:10:1: sample_id also on line 11 with a different infant_id" "$T/err" \
    && ok "conflicting duplicate card reported at its line" || nok "conflicting duplicate card reported at its line" "$(cat "$T/err")"
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["states_add_up"] and d["states"]["unmatched"] == 1 and d["unmatched"][0]["sample_id"] == "E8" else 1)' "$T/o/summary.json" \
    && ok "the conflicting card's well is unmatched and listed" || nok "the conflicting card's well is unmatched and listed" "see summary"

# threads 1 vs 4 on the same night (STYLE R10: 1 and 4)
"$NS" run -v 0 -t 4 -c "$CFG" -o "$T/o4" "$T/n" 2> /dev/null
cmp -s "$T/o/recall-list.csv" "$T/o4/recall-list.csv" && ok "edge night: recall list identical at 2 and 4 threads" \
    || nok "edge night: recall list identical at 2 and 4 threads" "differs"

# a night whose plates never arrived is not clean; a stale summary does not survive
mkdir -p "$T/empty/plates"
cp "$T/n/manifest.csv" "$T/empty/"
"$NS" run -v 0 -c "$CFG" -o "$T/o" "$T/empty" 2> /dev/null
RC=$?
[ $((RC & 2)) -eq 2 ] && ok "no plate files: exit status has bit 2" || nok "no plate files: exit status has bit 2" "rc=$RC"
touch "$T/notadir"
"$NS" run -v 0 -c "$CFG" -o "$T/notadir" "$T/n" 2> "$T/err2"
RC=$?
[ "$RC" -eq 1 ] && grep -q "cannot write into output directory" "$T/err2" && ok "-o naming a file: exit 1 before any work" \
    || nok "-o naming a file: exit 1 before any work" "rc=$RC $(cat "$T/err2")"
