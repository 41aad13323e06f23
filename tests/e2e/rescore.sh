#!/bin/bash
# tests/e2e/rescore.sh — `neoscreen rescore`: a candidate panel applied to archived nights.
#   - the archived panel reproduces every archived call exactly (no gain, no loss, no call
#     changed), and the counts equal those read straight from batch.h5;
#   - a loosened PKU cutoff gains exactly the cards with Phe in [new, old) (computed here
#     from the archive with h5py), loses none;
#   - a candidate that misses a known case exits 3 and lists it;
#   - same bytes at 1 and 2 threads and for any chunk size; directories are searched;
#   - bad archives, panels and outcome files are refused with a clear message.
# Prints "ok - NAME" / "not ok - NAME: why".
set -u
NS=${NS:-$PWD/neoscreen}
PY=/usr/bin/python3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
ok() { echo "ok - $1"; }
nok() { echo "not ok - $1: $2"; }

"$NS" simulate -v 0 -o "$T/night" -n 3000 -s 11 --every-condition > /dev/null 2>&1
"$NS" run -v 0 -o "$T/out" "$T/night" > /dev/null 2>&1
A=$T/out/batch.h5
[ -f "$A" ] || { nok "rescore: setup" "no archive"; exit 0; }
$PY -c "import h5py,sys; open(sys.argv[2],'wb').write(h5py.File(sys.argv[1])['/config/panel_yaml'][()])" "$A" "$T/arch.yaml"

# 1. the archived panel reproduces the archive
"$NS" rescore -v 0 --recompute-all -p "$T/arch.yaml" -o "$T/r1" "$A" > "$T/r1.out" 2> "$T/r1.err"
rc=$?
same=$($PY - "$A" "$T/r1/rescore-conditions.csv" <<'PYEOF'
import csv, sys, h5py, numpy as np
f = h5py.File(sys.argv[1])
st = f['/samples_state_code'][()]
names = [s.decode() if isinstance(s, bytes) else s for s in f['/samples_state_code'].attrs['names']]
smp = f['/samples'][()]
keep = (smp['sample_type'] == b'patient') & (smp['manifest_line'] >= 0) & (st != names.index('qc_hold'))
calls = f['/calls/values'][()]
codes = [c.decode() for c in f['/calls/conditions'][()]]
rows = {r['condition']: r for r in csv.DictReader(open(sys.argv[2]))}
bad = []
for j, c in enumerate(codes):
    n = int(np.sum(keep & np.isin(calls[:, j], [1, 2, 3])))
    r = rows[c]
    if not (int(r['old_recalls']) == n == int(r['new_recalls']) and r['gained'] == r['lost'] == r['calls_changed'] == '0'):
        bad.append(f"{c}: h5 {n} csv {r['old_recalls']}/{r['new_recalls']} +{r['gained']} -{r['lost']} ~{r['calls_changed']}")
print("same" if not bad and int(rows['ANY']['screened']) == int(keep.sum()) else ";".join(bad) or "screened differs")
PYEOF
)
nchg=$(($(wc -l < "$T/r1/rescore-changes.csv") - 1))
if [ "$rc" -eq 0 ] && [ "$same" = same ] && [ "$nchg" -eq 0 ]; then
    ok "rescore: the archived panel reproduces every archived call (24 conditions, 0 changes)"
else nok "rescore: archived panel reproduces the calls" "rc=$rc $same changes=$nchg $(head -c 300 "$T/r1.err")"; fi

# --recalled lists exactly the cards recalled under the candidate (here: the archive's own)
"$NS" rescore -v 0 -p "$T/arch.yaml" -o "$T/r1b" --recalled "$T/recalled.txt" "$A" > /dev/null 2>&1
want=$($PY - "$A" <<'PYEOF'
import sys, h5py
f = h5py.File(sys.argv[1])
names = [s.decode() if isinstance(s, bytes) else s for s in f['/samples_state_code'].attrs['names']]
st = f['/samples_state_code'][()]
print("\n".join(s.decode() for s in f['/samples']['sample_id'][st == names.index('recall')]))
PYEOF
)
if [ -n "$want" ] && [ "$want" = "$(cat "$T/recalled.txt")" ]; then
    ok "rescore: --recalled lists the $(echo "$want" | wc -l) cards the archive recalled, in row order"
else nok "rescore: --recalled" "$(diff <(echo "$want") "$T/recalled.txt" | head -3)"; fi

# 2. PKU Phe cutoff 150 -> 100: exactly the cards with 100 <= Phe < 150 (exact cells) are gained
$PY - "$T/arch.yaml" "$T/loose.yaml" <<'PYEOF'
import sys
t = open(sys.argv[1]).read()
old = "        cutoff: 150\n"
assert t.count(old) == 1, t.count(old)
open(sys.argv[2], "w").write(t.replace(old, "        cutoff: 100\n"))
PYEOF
"$NS" rescore -v 0 -p "$T/loose.yaml" -o "$T/r2" "$A" > /dev/null 2> "$T/r2.err"
rc=$?
want=$($PY - "$A" <<'PYEOF'
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1])
st = f['/samples_state_code'][()]
names = [s.decode() if isinstance(s, bytes) else s for s in f['/samples_state_code'].attrs['names']]
smp = f['/samples'][()]
an = [a.decode() for a in f['/analytes/names'][()]]
phe = f['/analytes/values'][:, an.index('Phe')]
cen = f['/analytes/censoring'][:, an.index('Phe')]
keep = (smp['sample_type'] == b'patient') & (smp['manifest_line'] >= 0) & (st != names.index('qc_hold'))
sel = keep & (cen == 0) & (phe >= 100) & (phe < 150)
print(" ".join(sorted(s.decode() for s in smp['sample_id'][sel])))
PYEOF
)
got=$(awk -F, 'NR>1 && $5=="PKU" && $8=="gained" {print $3}' "$T/r2/rescore-changes.csv" | sort | tr '\n' ' ' | sed 's/ $//')
others=$(awk -F, 'NR>1 && ($5!="PKU" || $8!="gained")' "$T/r2/rescore-changes.csv" | wc -l)
if [ "$rc" -eq 0 ] && [ -n "$want" ] && [ "$got" = "$want" ] && [ "$others" -eq 0 ]; then
    ok "rescore: PKU cutoff 150 -> 100 gains exactly the $(echo "$want" | wc -w) cards with 100 <= Phe < 150, loses none"
else nok "rescore: loosened cutoff gains exactly the expected cards" "rc=$rc want=[$want] got=[$got] others=$others"; fi

# 3. a known case lost: PKU cutoff 5000 misses the injected PKU case -> exit 3, listed
sed 's/^        cutoff: 100$/        cutoff: 5000/' "$T/loose.yaml" > "$T/blind.yaml"
"$NS" rescore -v 0 -p "$T/blind.yaml" -o "$T/r3" --outcomes "$T/night/truth.csv" "$A" > "$T/r3.out" 2> "$T/r3.err"
rc=$?
pku=$(awk -F, '$5=="PKU" {print $1}' "$T/night/truth.csv" | head -1)
if [ "$rc" -eq 3 ] && grep -q "^$pku,.*,PKU," "$T/r3/rescore-missed.csv" && grep -q "would MISS 1 known case" "$T/r3.err" \
   && awk -F, '$1=="PKU" {exit !($13=="1" && $14=="0")}' "$T/r3/rescore-conditions.csv"; then
    ok "rescore: a candidate that misses a known case exits 3 and lists it (PKU sensitivity 1 -> 0)"
else nok "rescore: a lost known case exits non-zero" "rc=$rc $(head -c 300 "$T/r3.err") $(grep PKU "$T/r3/rescore-conditions.csv")"; fi
"$NS" rescore -v 0 -p "$T/arch.yaml" -o "$T/r3b" --outcomes "$T/night/truth.csv" "$A" > /dev/null 2>&1
rc=$?
if [ "$rc" -eq 0 ] && [ "$(wc -l < "$T/r3b/rescore-missed.csv")" -eq 1 ] \
   && awk -F, 'NR>1 && $1!="ANY" && $10!="1" {bad=1} END {exit bad}' "$T/r3b/rescore-conditions.csv"; then
    ok "rescore: with the archived panel every known case is found (exit 0, one case per condition)"
else nok "rescore: archived panel finds every known case" "rc=$rc"; fi

# a known case whose condition the candidate does not have (a typo, a dropped condition)
# is a missed case, not a silently ignored one
sed 's/,PKU$/,PKUX/' "$T/night/truth.csv" > "$T/typo.csv"
"$NS" rescore -v 0 -p "$T/arch.yaml" -o "$T/r3c" --outcomes "$T/typo.csv" "$A" > /dev/null 2> "$T/r3c.err"
rc=$?
if [ "$rc" -eq 3 ] && grep -q ",PKUX," "$T/r3c/rescore-missed.csv" && grep -q "condition PKUX is not in the candidate panel" "$T/r3c.err"; then
    ok "rescore: a known case of a condition the candidate lacks counts as missed (exit 3)"
else nok "rescore: unknown-condition case missed" "rc=$rc $(head -c 300 "$T/r3c.err")"; fi

# a known case whose plate failed QC is not evaluated: said and listed, not "absent"
"$NS" simulate -v 0 -o "$T/qh" -n 3000 -s 11 --every-condition --qc-shift qc_low:Phe:8:1 > /dev/null 2>&1
"$NS" run -v 0 -o "$T/qhout" "$T/qh" > /dev/null 2>&1
"$NS" rescore -v 0 -p "$T/arch.yaml" -o "$T/r3d" --outcomes "$T/qh/truth.csv" "$T/qhout/batch.h5" > /dev/null 2> "$T/r3d.err"
rc=$?
if [ "$rc" -eq 0 ] && grep -q ",PKU,.*,not evaluated: its card is on a QC-hold plate" "$T/r3d/rescore-missed.csv" \
   && grep -q "1 known case was not evaluated" "$T/r3d.err" && ! grep -q "in none of the archives" "$T/r3d.err"; then
    ok "rescore: a known case on a QC-hold plate is reported as not evaluated, not as absent"
else nok "rescore: known case on QC hold" "rc=$rc $(head -c 300 "$T/r3d.err")"; fi

# 4. same bytes at any thread count and chunk size; directories are searched
"$NS" rescore -v 0 -t 1 -p "$T/loose.yaml" -o "$T/t1" --outcomes "$T/night/truth.csv" "$A" > /dev/null 2>&1
"$NS" rescore -v 0 -t 2 --chunk 97 -p "$T/loose.yaml" -o "$T/t2" --outcomes "$T/night/truth.csv" "$A" > /dev/null 2>&1
if cmp -s "$T/t1/rescore-conditions.csv" "$T/t2/rescore-conditions.csv" && cmp -s "$T/t1/rescore-changes.csv" "$T/t2/rescore-changes.csv"; then
    ok "rescore: identical outputs at 1 and 2 threads, chunks of 65536 and 97 rows"
else nok "rescore: identical outputs at any thread count and chunk size" "$(diff "$T/t1/rescore-conditions.csv" "$T/t2/rescore-conditions.csv" | head -5)"; fi
mkdir -p "$T/arch/2026-11-01" "$T/arch/2026-11-02/x"
cp "$A" "$T/arch/2026-11-01/batch.h5"; cp "$A" "$T/arch/2026-11-02/x/batch.h5"
"$NS" rescore -v 0 -p "$T/loose.yaml" -o "$T/d" "$T/arch" > "$T/d.out" 2>&1
g1=$(awk -F, '$1=="PKU" {print $7}' "$T/t1/rescore-conditions.csv"); g2=$(awk -F, '$1=="PKU" {print $7}' "$T/d/rescore-conditions.csv")
if grep -q "^rescore: 2 archives, 6198 rows, 6000 cards screened" "$T/d.out" && [ "$g2" -eq $((2 * g1)) ]; then
    ok "rescore: a directory is searched for batch.h5 at any depth (2 archives, gains doubled)"
else nok "rescore: directory of archives" "$(head -2 "$T/d.out") g1=$g1 g2=$g2"; fi

# memory is one chunk, not the archives: 8 archives peak like 1 (under `make check`, ASan
# would keep freed chunks in its quarantine: turned off for these two runs)
AQ="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0:thread_local_quarantine_size_kb=0"
for k in 1 2 3 4 5 6 7 8; do mkdir -p "$T/eight/$k"; cp "$A" "$T/eight/$k/batch.h5"; done
ASAN_OPTIONS=$AQ "$NS" rescore -v 1 --chunk 500 -p "$T/loose.yaml" -o "$T/m1" "$A" > /dev/null 2> "$T/m1.err"
ASAN_OPTIONS=$AQ "$NS" rescore -v 1 --chunk 500 -p "$T/loose.yaml" -o "$T/m8" "$T/eight" > /dev/null 2> "$T/m8.err"
r1=$(sed -n 's/.*rows in .* s, peak RSS \([0-9]*\) kB.*/\1/p' "$T/m1.err"); r8=$(sed -n 's/.*rows in .* s, peak RSS \([0-9]*\) kB.*/\1/p' "$T/m8.err")
if [ -n "$r1" ] && [ -n "$r8" ] && [ "$r8" -le $((r1 + r1 / 10)) ] && grep -q "8 archives, 24792 rows" "$T/m8.err"; then
    ok "rescore: memory is bounded by the chunk: 8 archives peak at $r8 kB, 1 at $r1 kB"
else nok "rescore: bounded memory" "r1=$r1 r8=$r8 $(tail -1 "$T/m8.err")"; fi

# 5. refusals
echo "not hdf5" > "$T/fake.h5"
"$NS" rescore -v 0 -p "$T/arch.yaml" -o "$T/e1" "$T/fake.h5" > /dev/null 2> "$T/e1.err"
rc=$?
if [ "$rc" -eq 1 ] && grep -q "archive $T/fake.h5: not an HDF5 file" "$T/e1.err" && [ ! -e "$T/e1/rescore-conditions.csv" ]; then
    ok "rescore: a file that is not HDF5 is refused by name, nothing written"
else nok "rescore: non-HDF5 archive refused" "rc=$rc $(head -c 300 "$T/e1.err")"; fi
sed 's/^  - {name: Phe, aliases: \[Phenylalanine\]/  - {name: Hcy, aliases: [Homocysteine]}\n  - {name: Phe, aliases: [Phenylalanine]/' "$T/arch.yaml" > "$T/hcy.yaml"
"$NS" rescore -v 0 -p "$T/hcy.yaml" -o "$T/e2" "$A" > /dev/null 2> "$T/e2.err"
rc=$?
if [ "$rc" -eq 1 ] && grep -q "has no values of analyte Hcy (the panel needs it)" "$T/e2.err"; then
    ok "rescore: a panel needing an analyte the archive lacks is refused, naming it"
else nok "rescore: missing analyte refused" "rc=$rc $(head -c 300 "$T/e2.err")"; fi
printf 'sample_id,condition\nS1,PKU\n"S2,MCAD\n' > "$T/bad-outcomes.csv"
"$NS" rescore -v 0 -p "$T/arch.yaml" -o "$T/e3" --outcomes "$T/bad-outcomes.csv" "$A" > /dev/null 2> "$T/e3.err"
rc=$?
if [ "$rc" -eq 1 ] && grep -q "$T/bad-outcomes.csv:3:1: " "$T/e3.err"; then
    ok "rescore: a malformed outcomes file is refused with FILE:LINE:COL"
else nok "rescore: malformed outcomes refused" "rc=$rc $(head -c 300 "$T/e3.err")"; fi

# infant IDs beside diagnoses: owner-only files; a stale missed list does not survive a run without --outcomes
m1=$(stat -c %a "$T/r3/rescore-missed.csv"); m2=$(stat -c %a "$T/r3/rescore-changes.csv")
"$NS" rescore -v 0 -p "$T/arch.yaml" -o "$T/r3" "$A" > /dev/null 2>&1
if [ "$m1" = 600 ] && [ "$m2" = 600 ] && [ ! -e "$T/r3/rescore-missed.csv" ]; then
    ok "rescore: outputs are 0600, and a missed list from an earlier --outcomes run is removed"
else nok "rescore: output modes and stale files" "missed=$m1 changes=$m2 $(ls "$T/r3")"; fi

# crafted archives: a panel text that is not one string (it used to overflow the heap), a
# foreign format, state codes of another version: refused by name
$PY - "$A" "$T/craft1.h5" "$T/craft2.h5" "$T/craft3.h5" <<'PYEOF'
import shutil, sys, h5py, numpy as np
for k, path in enumerate(sys.argv[2:]):
    shutil.copy(sys.argv[1], path)
    f = h5py.File(path, "r+")
    if k == 0:
        del f["/config/panel_yaml"]
        f["/config/panel_yaml"] = np.array([b"x" * 4000] * 2000, dtype="S4000")
    elif k == 1:
        f.attrs["format"] = np.bytes_("other-tool/9")
    else:
        f["/samples_state_code"].attrs["names"] = [b"negative", b"positive"]
    f.close()
PYEOF
r=""
for k in 1 2 3; do
    "$NS" rescore -v 0 -p "$T/arch.yaml" -o "$T/c$k" "$T/craft$k.h5" > /dev/null 2> "$T/c$k.err"; r="$r $?"
done
if [ "$r" = " 1 1 1" ] && grep -q "/config/panel_yaml is not one string" "$T/c1.err" \
   && grep -q "format 'other-tool/9' is not neoscreen-batch/1" "$T/c2.err" \
   && grep -q "/samples_state_code names are not this version's states" "$T/c3.err"; then
    ok "rescore: crafted archives (panel text not one string, foreign format, other state codes) are refused by name"
else nok "rescore: crafted archives refused" "rc=$r $(cat "$T"/c?.err | head -c 400)"; fi

# formula-shaped IDs: a card gained by the loosened panel whose sample_id and infant_id begin
# with '=' is written as text ('=...) in rescore-changes.csv and rescore-missed.csv, never as a
# cell a spreadsheet would run
g=$(awk -F, 'NR>1 && $5=="PKU" && $8=="gained" {print $3 "," $4; exit}' "$T/r2/rescore-changes.csv")
gs=${g%,*}; gi=${g#*,}
if [ -n "$gs" ]; then
    cp -r "$T/night" "$T/fnight"
    sed -i "s/\b$gs\b/=$gs/g; s/\b$gi\b/=$gi/g" "$T/fnight/manifest.csv" "$T"/fnight/plates/*.csv
    printf 'sample_id,infant_id,condition\n=%s,=%s,PKU\n' "$gs" "$gi" > "$T/fcases.csv"
    sed 's/        cutoff: 100$/        cutoff: 100000/' "$T/loose.yaml" > "$T/fblind.yaml"
    "$NS" run -v 0 -o "$T/fout" "$T/fnight" > /dev/null 2>&1
    "$NS" rescore -v 0 -p "$T/loose.yaml" -o "$T/fr" "$T/fout/batch.h5" > /dev/null 2>&1
    "$NS" rescore -v 0 -p "$T/fblind.yaml" --outcomes "$T/fcases.csv" -o "$T/fm" "$T/fout/batch.h5" > /dev/null 2>&1
    if grep -q "^[^,]*,[^,]*,'=$gs,'=$gi,PKU," "$T/fr/rescore-changes.csv" \
       && grep -q "'=$gs" "$T/fm/rescore-missed.csv" \
       && ! grep -q "\(^\|,\)=" "$T/fr/rescore-changes.csv" "$T/fm/rescore-missed.csv"; then
        ok "rescore: formula-shaped sample and infant ids are written as text ('=...) in the changes and missed lists"
    else nok "rescore: formula-shaped ids escaped" "$(grep -h "$gs" "$T/fr/rescore-changes.csv" "$T/fm/rescore-missed.csv" 2>/dev/null | head -3)"; fi
else nok "rescore: formula-shaped ids escaped" "no gained card to rename"; fi
