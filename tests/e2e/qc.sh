#!/bin/bash
# tests/e2e/qc.sh — plate QC through `neoscreen simulate` and `neoscreen run`.
#
# 1. One plate's high control shifted +4 SD on C3: that plate rejected (1-3s C3 qc_high),
#    all its patients on qc_hold, the other plates and their cases untouched, the plate in
#    plates-to-rerun.csv; its cards re-run on a later plate resolve normally.
# 2. A slow drift of the low control over ten nights: caught by an across-night rule when
#    earlier nights are read back with --history, and not caught night by night without.
# Seeded simulations: the figures are deterministic for this simulator; the assertions are
# about behaviour (which plate, which rule family), not about exact values.
set -u
NS=${NS:-$PWD/neoscreen}
PY=/usr/bin/python3
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
ok() { echo "ok - $1"; }
nok() { echo "not ok - $1: $2"; }
json() { "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

# ---- 1. shifted high control on plate 2 --------------------------------------------------
"$NS" simulate -v 0 -o "$T/n1" -n 465 -s 3 --every-condition --qc-shift qc_high:C3:4:2
"$NS" run -v 0 -o "$T/o1" "$T/n1" 2> "$T/o1.err"
RC=$?
P2=$(ls "$T/n1/plates" | sed -n 2p)
[ $((RC & 4)) -eq 4 ] && ok "shifted control: exit status has bit 4 (qc hold)" || nok "shifted control: exit status has bit 4" "rc=$RC"
status=$(json "$T/o1/summary.json" '" ".join(p["qc_status"] for p in d["plates"]["list"])')
[ "$status" = "accepted rejected accepted accepted accepted" ] || [ "$(echo "$status" | tr ' ' '\n' | grep -c rejected)" = 1 -a "$(echo "$status" | cut -d' ' -f2)" = rejected ] \
    && ok "shifted control: plate 2 rejected, the others not ($status)" || nok "shifted control: plate 2 rejected, the others not" "$status"
reason=$(json "$T/o1/summary.json" 'd["plates"]["list"][1]["qc_reason"]')
[ "$reason" = "1-3s C3 qc_high" ] && ok "shifted control: the reason names rule, analyte and level ($reason)" || nok "shifted control: reason" "$reason"
grep -q "^neoscreen run: $T/n1/plates/$P2: plate .* failed QC: 1-3s C3 qc_high" "$T/o1.err" \
    && ok "shifted control: stderr names the plate file" || nok "shifted control: stderr names the plate file" "$(cat "$T/o1.err")"
"$PY" - "$T/n1" "$T/o1" "$P2" > "$T/r1" <<'EOF'
import csv, json, sys
night, out, p2 = sys.argv[1:4]
plate = list(csv.DictReader(open(night + "/plates/" + p2, encoding="utf-8")))
held = {r["sample_id"] for r in plate if r["sample_type"] == "patient"}
d = json.load(open(out + "/summary.json"))
rec = list(csv.DictReader(open(out + "/recall-list.csv", encoding="utf-8-sig")))
rerun = list(csv.DictReader(open(out + "/plates-to-rerun.csv", encoding="utf-8")))
truth = list(csv.DictReader(open(night + "/truth.csv", encoding="utf-8")))
def say(ok, name, why=""):
    print(("ok - " if ok else "not ok - ") + name + ("" if ok else ": " + why))
say(d["states"]["qc_hold"] == len(held), "every patient of the rejected plate is on qc_hold (%d)" % len(held),
    "%d held" % d["states"]["qc_hold"])
say(not any(s in held for r in rec for s in r["sample_id"].split(";")), "no held card is on the recall list")
say(len(rerun) == 1 and rerun[0]["reason"] == "1-3s C3 qc_high" and set(rerun[0]["sample_ids"].split(";")) == held
    and int(rerun[0]["patient_wells"]) == len(held), "plates-to-rerun.csv lists the plate, its reason and its cards",
    repr(rerun))
ids = {r["infant_id"] for r in rec}
missed = [t["condition"] for t in truth if t["sample_id"] not in held and t["infant_id"] not in ids]
say(not missed, "cases on the other plates are all recalled", repr(missed))
say(d["states_add_up"], "states still add up")
# condition counts are over reportable wells only: a held card's values are not results
import h5py
f = h5py.File(out + "/batch.h5", "r")
st = [x.decode() for x in f["samples"]["state"][:]]
codes = [x.decode() for x in f["calls"]["conditions"][:]]
calls = f["calls"]["values"][:]
rows = [i for i, s in enumerate(st) if s not in ("control", "unmatched", "qc_hold")]
want = {c: sum(1 for i in rows if calls[i][k] in (1, 2, 3)) for k, c in enumerate(codes)}
got = {c: v["critical"] + v["positive"] + v["borderline"] for c, v in d["conditions"].items()}
held_calls = sum(1 for i, s in enumerate(st) if s == "qc_hold" for k in range(len(codes)) if calls[i][k] in (1, 2, 3))
say(want == got and held_calls > 0, "summary condition counts leave out the %d calls on held wells" % held_calls,
    "%r vs %r" % (got, want))
EOF
cat "$T/r1"

# the held cards re-run tonight on an extra plate: they resolve, the rerun list says so
"$PY" - "$T/n1" "$P2" <<'EOF'
import csv, sys
night, p2 = sys.argv[1:3]
rows = list(csv.reader(open(night + "/plates/" + p2, encoding="utf-8")))
hdr, body = rows[0], rows[1:]
out = [hdr]
for r in body:
    r = list(r)
    r[0] = "RERUN-1"
    if r[3] == "qc_high":                      # a good control this time: the lot's mean
        pass
    out.append(r)
csv.writer(open(night + "/plates/" + "Z-RERUN.csv", "w", encoding="utf-8", newline=""), lineterminator="\n").writerows(out)
EOF
# the re-run plate's high control must be in: copy plate 1's controls over it
"$PY" - "$T/n1/plates" <<'EOF'
import csv, os, sys
d = sys.argv[1]
files = sorted(f for f in os.listdir(d) if f.endswith(".csv"))
good = {r[3]: r for r in csv.reader(open(os.path.join(d, files[0]), encoding="utf-8")) if r[3] in ("qc_low", "qc_high", "blank")}
rows = list(csv.reader(open(os.path.join(d, "Z-RERUN.csv"), encoding="utf-8")))
for r in rows[1:]:
    if r[3] in good:
        r[4:] = good[r[3]][4:]
csv.writer(open(os.path.join(d, "Z-RERUN.csv"), "w", encoding="utf-8", newline=""), lineterminator="\n").writerows(rows)
EOF
"$NS" run -v 0 -o "$T/o1b" "$T/n1" 2> /dev/null
"$PY" - "$T/o1b" <<'EOF'
import csv, json, sys
out = sys.argv[1]
d = json.load(open(out + "/summary.json"))
rerun = list(csv.DictReader(open(out + "/plates-to-rerun.csv", encoding="utf-8")))
ok = len(rerun) == 1 and rerun[0]["rerun_tonight"] == rerun[0]["patient_wells"] and d["plates"]["list"][-1]["qc_status"] != "rejected"
print(("ok - " if ok else "not ok - ") + "cards re-run on a later plate resolve: rerun_tonight = patient_wells" + ("" if ok else ": %r" % rerun))
EOF

# ---- 2. slow drift over ten nights ---------------------------------------------------------
mkdir -p "$T/nights" "$T/out" "$T/alone"
first_hist="" first_alone=""
for k in $(seq 1 10); do
    night=2026-11-$(printf '%02d' "$k")
    shift_sd=$(awk -v k="$k" 'BEGIN{printf "%.2f", 0.3 * k}')
    "$NS" simulate -v 0 -o "$T/nights/$night" -n 93 -s $((100 + k)) --night "$night" --qc-shift "qc_low:Phe:$shift_sd"
    "$NS" run -v 0 -H "$T/out" -o "$T/out/$night" "$T/nights/$night" 2> /dev/null
    "$NS" run -v 0 -o "$T/alone/$night" "$T/nights/$night" 2> /dev/null
    h=$(json "$T/out/$night/summary.json" 'd["plates"]["list"][0]["qc_status"] + " " + d["plates"]["list"][0]["qc_reason"].replace(" ", "_")')
    a=$(json "$T/alone/$night/summary.json" 'd["plates"]["list"][0]["qc_status"] + " " + d["plates"]["list"][0]["qc_reason"].replace(" ", "_")')
    echo "# night $k (Phe qc_low +$shift_sd SD): with history: $h; alone: $a"
    [ -z "$first_hist" ] && [ "${h%% *}" = rejected ] && first_hist="$k ${h#* }"
    [ -z "$first_alone" ] && [ "${a%% *}" = rejected ] && first_alone="$k ${a#* }"
done
hk=${first_hist%% *} hr=${first_hist#* }
ak=${first_alone%% *}
case "$hr" in
    4-1s_Phe_*|2-2s_Phe_*|10-x_Phe_*)
        ok "drift: caught with --history on night $hk by an across-night rule ($hr)" ;;
    *) nok "drift: caught with --history by an across-night rule" "first rejection: '${first_hist:-none}'" ;;
esac
if [ -z "$first_alone" ] || [ "$ak" -gt "$hk" ]; then
    ok "drift: without history it is caught later or not at all (${first_alone:-never})"
else
    nok "drift: without history it is caught later or not at all" "alone: night $first_alone, history: night $first_hist"
fi

# re-processing an old night later: the nights after it are not its history, so the
# verdicts are those of the night itself; a copy of the night's outputs counts once
cp -r "$T/out/2026-11-04" "$T/out/copy-of-04"
"$NS" run -v 0 -H "$T/out" -o "$T/re05" "$T/nights/2026-11-05" 2> "$T/re05.err"
st=$?
v1=$(json "$T/out/2026-11-05/summary.json" '[p["qc_status"] + " " + p["qc_reason"] for p in d["plates"]["list"]]')
v2=$(json "$T/re05/summary.json" '[p["qc_status"] + " " + p["qc_reason"] for p in d["plates"]["list"]]')
n_later=$(grep -c "a later night than tonight" "$T/re05.err")
n_same=$(grep -c "same night as tonight" "$T/re05.err")
n_copy=$(grep -c "is night 2026-11-04 again" "$T/re05.err")
if [ "$v1" = "$v2" ] && [ "$n_later" -eq 5 ] && [ "$n_same" -eq 1 ] && [ "$n_copy" -eq 1 ]; then
    ok "re-run of night 5 after night 10: later nights and the copy skipped, same verdicts ($v2)"
else
    nok "re-run of night 5 after night 10" "exit $st, verdicts '$v1' vs '$v2', later $n_later same $n_same copy $n_copy: $(head -c 600 "$T/re05.err")"
fi
# a night kept in a directory whose name is not its date: --night names it
mkdir -p "$T/x"
cp -r "$T/nights/2026-11-05" "$T/x/night"
"$NS" run -v 0 -H "$T/out" -n 2026-11-05 -o "$T/re05n" "$T/x/night" 2> /dev/null
v3=$(json "$T/re05n/summary.json" '[p["qc_status"] + " " + p["qc_reason"] for p in d["plates"]["list"]]')
n3=$(/usr/bin/python3 -c 'import h5py,sys; print(h5py.File(sys.argv[1], "r").attrs["night"].decode() if isinstance(h5py.File(sys.argv[1], "r").attrs["night"], bytes) else h5py.File(sys.argv[1], "r").attrs["night"])' "$T/re05n/batch.h5")
if [ "$v3" = "$v1" ] && [ "$n3" = 2026-11-05 ]; then
    ok "--night 2026-11-05 names a night kept in '.../night': archive says $n3, same verdicts"
else
    nok "--night names the night" "night attr '$n3', verdicts '$v3' vs '$v1'"
fi
