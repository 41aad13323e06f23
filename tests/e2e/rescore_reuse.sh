#!/bin/bash
# tests/e2e/rescore_reuse.sh — rescore keeps the archived calls of conditions the candidate
# did not change (rescore_plan.h), and that changes nothing in what it reports:
#   - for ten candidates (the same panel; only comments, version and follow-up deadlines
#     changed; one cutoff; two conditions; a condition dropped; one added; a stratum, a
#     specimen rule, a ratio changed; per-stratum limits added), the conditions kept are exactly those the plan
#     promises (-v 2), and every output (conditions, changes, missed, recalled, stdout) is
#     byte-identical to --recompute-all's, over a normal night and one with a QC-hold plate,
#     at 2 threads vs 1 and small chunks, and without --outcomes (whose lines are formatted
#     in parallel, in blocks of rows) as with it;
#   - an archive without scoring_version, with another version or scoring_source, without
#     /samples_ids or
#     without /samples_specimen is read the old way or without the IDs copy, same bytes.
# Prints "ok - NAME" / "not ok - NAME: why".
set -u
NS=${NS:-$PWD/neoscreen}
PY=/usr/bin/python3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
ok() { echo "ok - $1"; }
nok() { echo "not ok - $1: $2"; }

"$NS" simulate -v 0 -o "$T/n1" -n 3000 -s 11 --every-condition > /dev/null 2>&1
"$NS" simulate -v 0 -o "$T/n2" -n 2000 -s 12 --every-condition --qc-shift qc_low:Phe:8:1 > /dev/null 2>&1
"$NS" run -v 0 -o "$T/o1" "$T/n1" > /dev/null 2>&1
"$NS" run -v 0 -o "$T/o2" "$T/n2" > /dev/null 2>&1
A1=$T/o1/batch.h5 A2=$T/o2/batch.h5
[ -f "$A1" ] && [ -f "$A2" ] || { nok "rescore reuse: setup" "no archive"; exit 0; }
grep -q ',qc_hold' <($PY -c "
import h5py,sys
f=h5py.File(sys.argv[1]); n=[s.decode() if isinstance(s,bytes) else s for s in f['/samples_state_code'].attrs['names']]
import numpy as np; print(','.join(sorted(set(n[i] for i in np.unique(f['/samples_state_code'][()])))))" "$A2" | sed 's/^/,/') \
    || nok "rescore reuse: setup" "the second night has no QC-hold plate"
cat "$T/n1/truth.csv" > "$T/truth.csv"
tail -n +2 "$T/n2/truth.csv" >> "$T/truth.csv"
$PY -c "import h5py,sys; open(sys.argv[2],'wb').write(h5py.File(sys.argv[1])['/config/panel_yaml'][()])" "$A1" "$T/arch.yaml"

# candidates, edited as text so that everything else stays byte for byte; "NAME KEPT TOTAL"
$PY - "$T/arch.yaml" "$T" > "$T/cands.txt" <<'PYEOF'
import re, sys
src, T = sys.argv[1], sys.argv[2]
text = open(src).read()
codes = re.findall(r'^  - code: (\S+)', text, re.M)
n = len(codes)
def block(code):          # the lines of one condition entry
    m = re.search(r'^  - code: %s\n.*?(?=^  - code: |^\S)' % re.escape(code), text, re.M | re.S)
    return m.group(0)
def sub1(t, pat, rep):
    t2, k = re.subn(pat, rep, t, count=1, flags=re.M)
    assert k == 1, pat
    return t2
def pku_cut(t, v):
    b = block('PKU'); return t.replace(b, sub1(b, r'cutoff: 150\b', 'cutoff: %s' % v))
cands = {}
cands['same'] = (text, n, n)
t = sub1(text, r'^  version: .*$', '  version: "2099.01-9"')
t = sub1(t, r'^(  - code: MSUD)$', '  # a comment the plan must not count\n\n\\1')
t = sub1(t, r'^(    urgent: )\d+', '\\g<1>9')
cands['cosmetic'] = (t, n, n)
cands['pku'] = (pku_cut(text, 70), n - 1, n)         # low enough to reach babies on TPN
b = block('MSUD')
t = pku_cut(text, 120)
# MSUD low enough to reach the babies on TPN (its TPN rule then lowers calls)
cands['two'] = (t.replace(b, sub1(sub1(b, r'cutoff: 490$', 'cutoff: 150'), r'cutoff: 390$', 'cutoff: 150')), n - 2, n)
b = block('PKU')
cands['override'] = (text.replace(b, sub1(b, r'cutoff: 150$', 'cutoff: 110\n        strata:\n          preterm: {cutoff: 60}\n          tpn: {cutoff: 75}\n          late: {cutoff: 80}')), n - 1, n)
cands['dropped'] = (text.replace(block('CIT'), ''), n - 1, n - 1)
b = block('PKU')
cands['added'] = (text.replace(b, b + sub1(sub1(b, r'code: PKU$', 'code: PKUX'), r'cutoff: 150\b', 'cutoff: 90')), n, n + 1)
cands['stratum'] = (sub1(text, r'lt: 1500\}', 'lt: 1400}'), 0, n)
cands['specimen'] = (sub1(text, r'^  min_age_hours: 24', '  min_age_hours: 22'), 0, n)
cands['ratio'] = (sub1(text, r'(name: "Phe/Tyr", num: \[Phe\], den: \[Tyr)\]', '\\1, Ala]'), 0, n)
for name, (t, kept, total) in cands.items():
    open('%s/c-%s.yaml' % (T, name), 'w').write(t)
    print(name, kept, total)
PYEOF
[ -s "$T/cands.txt" ] || { nok "rescore reuse: candidates" "could not write them"; exit 0; }

while read -r name kept total; do
    [ "$kept" -lt 0 ] && continue
    c=$T/c-$name.yaml
    "$NS" rescore -v 2 -t 2 -p "$c" -o "$T/k-$name" --outcomes "$T/truth.csv" --recalled "$T/k-$name.rec" "$A1" "$A2" \
        > "$T/k-$name.out" 2> "$T/k-$name.err"
    rk=$?
    "$NS" rescore -v 0 -t 1 --chunk 777 --recompute-all -p "$c" -o "$T/f-$name" --outcomes "$T/truth.csv" \
        --recalled "$T/f-$name.rec" "$A1" "$A2" > "$T/f-$name.out" 2> "$T/f-$name.err"
    rf=$?
    "$NS" rescore -v 0 -t 2 --chunk 1000 -p "$c" -o "$T/i-$name" --recalled "$T/i-$name.rec" "$A1" "$A2" > "$T/i-$name.out" 2>&1
    "$NS" rescore -v 0 -t 2 --recompute-all -p "$c" -o "$T/j-$name" --recalled "$T/j-$name.rec" "$A1" "$A2" > "$T/j-$name.out" 2>&1
    if [ "$kept" -gt 0 ]; then
        want="$kept of $total conditions unchanged since the night"
        got=$(grep -c "$want" "$T/k-$name.err")
    else
        want="every condition computed again"
        got=$(grep -c "$want" "$T/k-$name.err")
    fi
    diffs=""
    for f in rescore-conditions.csv rescore-changes.csv rescore-missed.csv; do
        cmp -s "$T/k-$name/$f" "$T/f-$name/$f" || diffs="$diffs $f"
    done
    for f in rescore-conditions.csv rescore-changes.csv; do
        cmp -s "$T/i-$name/$f" "$T/j-$name/$f" || diffs="$diffs $f(no outcomes)"
    done
    cmp -s "$T/k-$name.rec" "$T/f-$name.rec" || diffs="$diffs recalled"
    cmp -s "$T/i-$name.rec" "$T/j-$name.rec" || diffs="$diffs recalled(no outcomes)"
    # without --outcomes the lines are formatted in blocks of rows in parallel (3000 rows:
    # two blocks); with it, card by card: the same lines in the same order
    cmp -s "$T/j-$name/rescore-changes.csv" "$T/k-$name/rescore-changes.csv" || diffs="$diffs rescore-changes.csv(blocks)"
    cmp -s "$T/j-$name.rec" "$T/k-$name.rec" || diffs="$diffs recalled(blocks)"
    cmp -s "$T/k-$name.out" "$T/f-$name.out" || diffs="$diffs stdout"
    if [ "$rk" = "$rf" ] && [ "$got" -eq 2 ] && [ -z "$diffs" ] && [ -s "$T/k-$name/rescore-conditions.csv" ]; then
        ok "rescore reuse: candidate '$name': ${want} in both archives, outputs identical to --recompute-all"
    else nok "rescore reuse: candidate '$name'" "rc $rk/$rf, '$want' seen $got times (want 2), differs:$diffs $(grep -m2 'conditions\|computed' "$T/k-$name.err" | head -c 300)"; fi
done < "$T/cands.txt"

# the cosmetic candidate does change nothing, the PKU one does: the comparison has teeth
if [ "$(tail -n +2 "$T/k-cosmetic/rescore-changes.csv" | wc -l)" -eq 0 ] && [ "$(tail -n +2 "$T/k-pku/rescore-changes.csv" | wc -l)" -gt 0 ] \
   && [ "$(tail -n +2 "$T/k-added/rescore-changes.csv" | grep -c ',PKUX,')" -gt 0 ]; then
    ok "rescore reuse: the unchanged panel changes no call; the looser PKU and the added PKUX gain cards"
else nok "rescore reuse: changes" "cosmetic/pku/added changes: $(wc -l < "$T/k-cosmetic/rescore-changes.csv") $(wc -l < "$T/k-pku/rescore-changes.csv")"; fi

# archives the plan cannot trust, or without the new datasets: same bytes, said why
doctor() {   # doctor IN OUT WHAT [CANDIDATE]
    cp "$1" "$2"
    $PY - "$2" "$3" "${4:-}" <<'PYEOF'
import sys, h5py
f = h5py.File(sys.argv[1], 'r+')
w = sys.argv[2]
if w == 'noversion': del f.attrs['scoring_version']
if w == 'otherversion': f.attrs['scoring_version'] = 999
if w == 'noids': del f['/samples_ids']
if w == 'nospec': del f['/samples_specimen']
if w == 'othersource': f.attrs['scoring_source'] = '0' * 64
if w == 'otherpanel':            # as if the night had run with the candidate itself
    import numpy as np
    del f['/config/panel_yaml']
    f['/config/panel_yaml'] = np.bytes_(open(sys.argv[3], 'rb').read())
PYEOF
}
for w in noversion:"predates scoring_version" otherversion:"rules version 999" othersource:"another build of the scoring code" \
         noids:"unchanged since the night" \
         nospec:"no specimen findings or strata by column"; do
    what=${w%%:*} msg=${w#*:}
    doctor "$A1" "$T/$what.h5" "$what"
    "$NS" rescore -v 2 -p "$T/c-pku.yaml" -o "$T/d-$what" --recalled "$T/d-$what.rec" "$T/$what.h5" > /dev/null 2> "$T/d-$what.err"
    rc=$?
    "$NS" rescore -v 0 --recompute-all -p "$T/c-pku.yaml" -o "$T/e-$what" --recalled "$T/e-$what.rec" "$A1" > /dev/null 2>&1
    sed "s|$T/$what.h5|$A1|" "$T/d-$what/rescore-changes.csv" > "$T/d-$what.chg"
    if [ "$rc" -eq 0 ] && grep -q "$msg" "$T/d-$what.err" && cmp -s "$T/d-$what.chg" "$T/e-$what/rescore-changes.csv" \
       && cmp -s "$T/d-$what/rescore-conditions.csv" "$T/e-$what/rescore-conditions.csv" && cmp -s "$T/d-$what.rec" "$T/e-$what.rec"; then
        ok "rescore reuse: an archive with $what: '$msg', same outputs"
    else nok "rescore reuse: archive $what" "rc=$rc $(grep -m1 'conditions\|computed' "$T/d-$what.err" | head -c 300)"; fi
done

# one plan per archive, though archives with the same inputs share it (rescore_plan.h's
# memo): archives in a row that differ in scoring source, panel text or version each get
# their own
doctor "$A1" "$T/otherpanel.h5" otherpanel "$T/c-pku.yaml"
cp "$A2" "$T/copy2.h5"
"$NS" rescore -v 2 -p "$T/c-pku.yaml" -o "$T/m-mixed" "$A1" "$T/othersource.h5" "$A2" "$T/otherpanel.h5" \
    "$T/noversion.h5" "$T/copy2.h5" > /dev/null 2> "$T/m-mixed.err"
got=$(grep -o '[a-z0-9]*.h5: 2[34] of 24\|[a-z0-9]*.h5: every condition computed again ([a-z_ ]*' "$T/m-mixed.err" | tr '\n' '|')
want="batch.h5: 23 of 24|othersource.h5: every condition computed again (the archive was scored by another build of the scoring code|batch.h5: 23 of 24|otherpanel.h5: 24 of 24|noversion.h5: every condition computed again (the archive predates scoring_version|copy2.h5: 23 of 24|"
if [ "$got" = "$want" ]; then
    ok "rescore reuse: six archives in a row, each with the plan of its own scoring source, panel and version"
else nok "rescore reuse: plans in a row" "got '$got' $(grep -v 'looks like' "$T/m-mixed.err" | grep -m1 'rescore:' | head -c 200)"; fi

# the scoring_source digest (scripts/gen-version.sh) leaves out the checkout's directory
# (-DNS_SRCDIR, as make passes it), so that the same code built elsewhere keeps the archived
# calls; any other flag still counts
GV=$(cd "$(dirname "$0")/../.." && pwd)/scripts/gen-version.sh
digest() { "$GV" cc "$1" | sed -n 's/^#define NS_SCORING_SOURCE "\(.*\)"$/\1/p'; }
d1=$(digest '-O2 -g -DNS_SRCDIR="/work/main" -fopenmp')
d2=$(digest '-O2 -g -DNS_SRCDIR="/home/lab/neo screen" -fopenmp')
d3=$(digest '-O3 -g -DNS_SRCDIR="/work/main" -fopenmp')
if [ ${#d1} -eq 64 ] && [ "$d1" = "$d2" ] && [ "$d1" != "$d3" ]; then
    ok "scoring_source: the same for a checkout elsewhere, another for other flags"
else nok "scoring_source and the build directory" "d1=$d1 d2=$d2 d3=$d3"; fi
