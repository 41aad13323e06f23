#!/bin/bash
# tests/e2e/night.sh — whole nights through `neoscreen simulate` and `neoscreen run`.
#
# Prints "ok - NAME" or "not ok - NAME: why" per check (counted by tests/run.sh).
# Needs $NS (the neoscreen binary); uses /usr/bin/python3 (Debian's h5py) to read outputs.
set -u
NS=${NS:-$PWD/neoscreen}
PY=/usr/bin/python3
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CFG="$ROOT/configs/panel-default.yaml"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

ok() { echo "ok - $1"; }
nok() { echo "not ok - $1: $2"; }
check() {   # check NAME CMD... : ok if CMD succeeds
    local name=$1; shift
    if "$@" > "$T/check.out" 2>&1; then ok "$name"; else nok "$name" "$(head -c 400 "$T/check.out" | tr '\n' ' ')"; fi
}
json() {    # json FILE EXPR  -> prints the value of a Python expression over d
    "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"
}
run() {     # run NIGHT OUT [args...] -> sets RC; stderr in OUT.err
    local night=$1 out=$2; shift 2
    "$NS" run -c "$CFG" -o "$out" "$@" "$night" 2> "$out.err"
    RC=$?
}

# ---- 1. a night with one injected case of every condition ------------------------------
N1="$T/n1"
"$NS" simulate -o "$N1" -n 1500 -s 11 --every-condition --unmatched 3 --unplated 2 2> "$T/sim.err"
check "simulate writes plates, manifest and truth" test -s "$N1/manifest.csv" -a -s "$N1/truth.csv" -a -d "$N1/plates"
n_cond=$(grep -c '^  - code:' "$CFG")
n_truth=$(($(wc -l < "$N1/truth.csv") - 1))
check "truth holds one case per condition ($n_cond)" test "$n_truth" -ge "$n_cond"

run "$N1" "$T/o1" -t 2
check "run exit status is exactly 8 (unmatched wells, nothing else)" test "$RC" -eq 8
check "recall list, archive and summary written" test -s "$T/o1/recall-list.csv" -a -s "$T/o1/batch.h5" -a -s "$T/o1/summary.json"
check "recall-list.csv is mode 0600" test "$(stat -c %a "$T/o1/recall-list.csv")" = 600
check "no temporary files left" test -z "$(ls "$T/o1" | grep -F .tmp.)"

# every injected case is recalled with its condition
"$PY" - "$N1/truth.csv" "$T/o1/recall-list.csv" > "$T/missed.txt" <<'EOF'
import csv, sys
truth = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
rec = {r["infant_id"]: r for r in csv.DictReader(open(sys.argv[2], encoding="utf-8"))}
for t in truth:
    r = rec.get(t["infant_id"])
    if r is None:
        print("%s (%s) not on the recall list" % (t["condition"], t["sample_id"]))
    elif t["condition"] not in r["conditions"].split(";"):
        print("%s (%s) recalled for %s only" % (t["condition"], t["sample_id"], r["conditions"]))
EOF
check "every injected case is on the recall list with its condition" test ! -s "$T/missed.txt"
[ -s "$T/missed.txt" ] && sed 's/^/#   /' "$T/missed.txt"

# nothing lost: states add up to the wells read, which are the data rows of the plates
rows=0
for f in "$N1"/plates/*.csv; do rows=$((rows + $(grep -c . "$f") - 1)); done
check "summary: states add up to the wells read" test "$(json "$T/o1/summary.json" 'd["states_add_up"]')" = True
check "summary: wells read = data rows of all plates ($rows)" test "$(json "$T/o1/summary.json" 'd["wells_read"]')" -eq "$rows"
check "summary: 3 unmatched wells listed" test "$(json "$T/o1/summary.json" 'len(d["unmatched"])')" -eq 3
check "summary: 2 manifest rows without a well listed" test "$(json "$T/o1/summary.json" 'd["manifest"]["rows_without_well"]')" -eq 2
check "summary: the 2 rows without a well, each with its sample_id and line" test "$(json "$T/o1/summary.json" \
    'len(d["manifest"]["without_well"]) == 2 and all(w["sample_id"] and w["line"] > 1 for w in d["manifest"]["without_well"]) and d["manifest"]["without_well"][0]["line"] != d["manifest"]["without_well"][1]["line"]')" = True
recall_rows=$(($(wc -l < "$T/o1/recall-list.csv") - 1))
check "summary: recall list count matches the file" test "$(json "$T/o1/summary.json" 'd["recall_list"]["infants"]')" -eq "$recall_rows"

# sorted by priority, then infant
check "recall list sorted by priority, then due_by (none last), then infant_id; one row per infant" "$PY" -c '
import csv, sys
rank = {"critical": 0, "urgent": 1, "routine": 2}
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8-sig")))
keys = [(rank[r["priority"]], r["due_by"] or "9999-99-99", r["infant_id"].encode()) for r in rows]
sys.exit(0 if keys == sorted(keys) and len(set(k[2] for k in keys)) == len(keys) else 1)' "$T/o1/recall-list.csv"
check "recall-list.csv starts with a UTF-8 BOM (Excel reads Chinese text)" test "$(head -c 3 "$T/o1/recall-list.csv" | od -An -tx1 | tr -d ' ')" = efbbbf

# personal data never on stderr
"$PY" -c '
import csv, sys
for r in csv.DictReader(open(sys.argv[1], encoding="utf-8")):
    print(r["mother_name"]); print(r["contact_phone"])' "$N1/manifest.csv" | grep -v '^$' > "$T/pii.txt"
check "no names or phones on stderr" test -z "$(grep -F -f "$T/pii.txt" "$T/o1.err" | head -1)"
check "no names or phones in summary.json or batch.h5" test -z "$(grep -a -F -f "$T/pii.txt" "$T/o1/summary.json" "$T/o1/batch.h5" | head -1)"
# ... nor on stdout or in the most verbose log, while the list itself holds them
"$NS" run -c "$CFG" -v 3 -t 2 -o "$T/o1v" "$N1" > "$T/o1v.out" 2> "$T/o1v.err"
check "no names or phones on stdout or in the -v 3 log (the recall list has them)" \
    test -z "$(grep -a -F -f "$T/pii.txt" "$T/o1v.out" "$T/o1v.err" | head -1)" -a -n "$(grep -a -F -f "$T/pii.txt" "$T/o1v/recall-list.csv" | head -1)"
check "an output directory run creates is mode 0700; the files with names are 0600" \
    test "$(stat -c %a "$T/o1v")" = 700 -a "$(stat -c %a "$T/o1v/recall-list.csv")" = 600 -a "$(stat -c %a "$T/o1v/recall-list.xlsx")" = 600

# the archive is readable by independent clients
check "batch.h5 passes scripts/check_h5.py (h5py)" "$PY" "$ROOT/scripts/check_h5.py" "$T/o1/batch.h5" --expect-rows "$(json "$T/o1/summary.json" 'd["wells_read"] - d["states"]["quarantined"]')"
check "batch.h5 readable by h5dump" h5dump -H "$T/o1/batch.h5"

# ---- 2. determinism: 1 thread and 2 threads ---------------------------------------------
run "$N1" "$T/o1t1" -t 4
check "threads 2 vs 4: byte-identical recall list" cmp "$T/o1/recall-list.csv" "$T/o1t1/recall-list.csv"
# (the ledger section says the second run found the night already recorded)
strip='json.dumps({k: v for k, v in d.items() if k not in ("resources", "ledger")}, sort_keys=True)'
check "threads 2 vs 4: identical summary counts" test "$(json "$T/o1/summary.json" "$strip")" = "$(json "$T/o1t1/summary.json" "$strip")"
run "$N1" "$T/o1t0" -t 1
check "threads 1 vs 2: byte-identical recall list" cmp "$T/o1/recall-list.csv" "$T/o1t0/recall-list.csv"
# the findings themselves, in the order they were found (the list sorts its rows; the
# archive keeps the findings as found, the cards' in row order at any thread count)
same_findings='import h5py, sys
a, b = (h5py.File(p, "r")["/followup/findings"][...] for p in sys.argv[1:3])
sys.exit(0 if len(a) > 0 and a.tobytes() == b.tobytes() else 1)'
check "threads 1, 2 and 4: the same /followup/findings in the same order" \
    sh -c '"$1" -c "$2" "$3" "$4" && "$1" -c "$2" "$3" "$5"' - "$PY" "$same_findings" "$T/o1t0/batch.h5" "$T/o1/batch.h5" "$T/o1t1/batch.h5"

# ---- 3. vendor headers and CRLF: the same night reads the same ---------------------------
"$NS" simulate -o "$T/n1v" -n 1500 -s 11 --every-condition --unmatched 3 --unplated 2 --vendor-headers --crlf 2> /dev/null
check "vendor headers use vendor spellings" grep -q -e ',Leu,' -e ',FC,' "$T/n1v/plates/$(ls "$T/n1v/plates" | head -1)"
run "$T/n1v" "$T/o1v" -t 2
check "vendor headers + CRLF: same recall list" cmp "$T/o1/recall-list.csv" "$T/o1v/recall-list.csv"

# ---- 4. a malformed plate is quarantined, the rest of the night still runs ---------------
cp -r "$N1" "$T/n2"
bad=$(ls "$T/n2/plates" | sed -n 2p)
sed -i '5s/^\([^,]*\),[A-H][0-9]*,/\1,I13,/' "$T/n2/plates/$bad"
run "$T/n2" "$T/o2" -t 2
check "quarantine: exit status has bit 2 (partial)" test $((RC & 2)) -eq 2
check "quarantine: message names file:line:col" grep -q "^neoscreen run: $T/n2/plates/$bad:5:[0-9]*: well 'I13' is not on a 96-well plate" "$T/o2.err"
check "quarantine: other plates processed" test "$(json "$T/o2/summary.json" 'd["plates"]["ok"]')" -eq $(($(ls "$T/n2/plates" | wc -l) - 1))
check "quarantine: states still add up" test "$(json "$T/o2/summary.json" 'd["states_add_up"]')" = True
check "quarantine: its wells are counted as quarantined" test "$(json "$T/o2/summary.json" 'd["states"]["quarantined"]')" -eq $(($(grep -c . "$T/n2/plates/$bad") - 1))

# ---- 5. GBK manifest (Chinese Windows export) ---------------------------------------------
cp -r "$N1" "$T/n3"
iconv -f UTF-8 -t GBK "$N1/manifest.csv" > "$T/n3/manifest.csv"
run "$T/n3" "$T/o3" -t 2
check "GBK manifest: same recall list as UTF-8" cmp "$T/o1/recall-list.csv" "$T/o3/recall-list.csv"
check "GBK manifest: detected as gbk" test "$(json "$T/o3/summary.json" 'd["manifest"]["sha256"] != ""')" = True

# ---- 5b. manifest problems: reported at FILE:LINE:COL, the rest of the manifest used ------
cp -r "$N1" "$T/n5"
"$PY" - "$N1/manifest.csv" "$T/n5/manifest.csv" "$T/n5.expected" <<'EOF2'
import sys
src, dst, exp = sys.argv[1:4]
lines = open(src, encoding="utf-8").read().rstrip("\n").split("\n")
hdr = lines[0].split(",")
bw = hdr.index("birth_weight_g")
f = lines[2].split(","); f[bw] = "abc"; lines[2] = ",".join(f)          # line 3
lines.append(lines[3])                                                   # duplicate of line 4
dup_line = len(lines)
lines[4] = ",".join(lines[4].split(",")[:12])                            # line 5 cut short
lines.append("")
open(dst, "w", encoding="utf-8").write("\n".join(lines))
p = dst
with open(exp, "w") as e:
    c = len(",".join(lines[2].split(",")[:bw])) + 2
    e.write("neoscreen run: %s:3:%d: birth_weight_g is not a positive number (left missing)\n" % (p, c))
    e.write("neoscreen run: %s:5:%d: row has 12 fields, the header has %d (row rejected)\n" % (p, len(lines[4]) + 1, len(hdr)))
    e.write("neoscreen run: %s:%d:1: duplicate sample_id (same as line 4; row rejected)\n" % (p, dup_line))
EOF2
run "$T/n5" "$T/o5" -t 2
check "manifest problems: exit status 2|8 (partial, one card now unmatched)" test "$RC" -eq 10
while IFS= read -r want; do
    check "manifest problem reported: ${want#*manifest.csv:}" grep -qxF "$want" "$T/o5.err"
done < "$T/n5.expected"
check "manifest problems: 2 rows rejected" test "$(json "$T/o5/summary.json" 'd["manifest"]["rejected_rows"]')" -eq 2
check "manifest problems: states still add up" test "$(json "$T/o5/summary.json" 'd["states_add_up"]')" = True

# ---- 6. a config that fails the check stops the run before anything is read -------------
sed 's/direction: high/direction: up/' "$CFG" > "$T/bad.yaml"
"$NS" run -c "$T/bad.yaml" -o "$T/o4" "$N1" 2> "$T/o4.err"
RC=$?
check "bad config: run exits 1" test "$RC" -eq 1
check "bad config: nothing written" test ! -e "$T/o4"
check "bad config: errors quote FILE:LINE:COL" grep -q "^neoscreen run: $T/bad.yaml:[0-9]*:[0-9]*: condition .*'direction' must be one of high, low, not 'up'" "$T/o4.err"
"$NS" config check "$T/bad.yaml" > /dev/null 2>&1
check "config check fails on the same file" test $? -eq 1
check "config check accepts every shipped config" "$NS" config check "$ROOT"/configs/*.yaml

# ---- 7. the bundled example night is what the simulator makes -----------------------------
EX="$ROOT/reference-data/example-night"
if [ -f "$EX/SIMULATE" ]; then
    # SIMULATE holds the exact arguments used to make it
    "$NS" simulate -o "$T/ex" $(cat "$EX/SIMULATE") 2> /dev/null
    check "example night is reproducible from reference-data/example-night/SIMULATE" \
        diff -r -x SIMULATE -x README.md "$EX" "$T/ex"
else
    nok "example night is reproducible" "reference-data/example-night/SIMULATE missing"
fi

# ---- 8. every command prints Usage ------------------------------------------------------
for cmd in $("$NS" help | awk '/^     [a-z]/ {print $1}'); do
    [ "$cmd" = version ] && { check "'neoscreen version' names the build" grep -q HDF5 <("$NS" version); continue; }
    "$NS" "$cmd" > "$T/u.out" 2>&1
    rc=$?
    check "'neoscreen $cmd' run bare prints Usage and exits 1" test "$rc" -eq 1 -a -n "$(grep '^Usage:' "$T/u.out")"
    check "'neoscreen $cmd --help' exits 0" "$NS" "$cmd" --help
done
