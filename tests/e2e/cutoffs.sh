#!/bin/bash
# tests/e2e/cutoffs.sh — `neoscreen cutoffs derive` on simulated archives.
#   - recovers the simulator's true percentiles: for every analyte the model gives no sex
#     or covariate shift, the 0.5th and 99.5th percentile of a baby in no stratum is
#     median * exp(log_sd * z_p) (simulate --profiles); it must lie inside the reported
#     95 % interval for at least 90 % of the 40 (analyte, percentile) pairs (the interval
#     is a 95 % one: about 2 misses in 40 are expected) and never far outside it;
#   - percentiles are exact: numpy's linear (type 7) percentile of the screen-negative exact
#     values read from batch.h5, same N, equal up to the rounding of the interpolation
#     (GSL computes (1-d) x[i] + d x[i+1], numpy x[i] + d (x[i+1] - x[i]));
#   - identical output at 1 and 2 threads, in one pass or in many (--memory);
#   - a stratum too small for the percentile is marked in the output and on stderr;
#   - the disease-range summary of known cases (--outcomes, --disease-out).
# Prints "ok - NAME" / "not ok - NAME: why".
set -u
NS=${NS:-$PWD/neoscreen}
PY=/usr/bin/python3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
ok() { echo "ok - $1"; }
nok() { echo "not ok - $1: $2"; }

"$NS" simulate -v 0 -o "$T/night" -n 20000 -s 5 > /dev/null 2>&1
"$NS" run -v 0 -o "$T/out" "$T/night" > /dev/null 2>&1
A=$T/out/batch.h5
[ -f "$A" ] || { nok "cutoffs: setup" "no archive"; exit 0; }
"$NS" simulate --profiles > "$T/profiles.csv"
"$NS" cutoffs derive -v 0 -t 2 --outcomes "$T/night/truth.csv" --disease-out "$T/disease.csv" -o "$T/pop.yaml" "$A" 2> "$T/d.err"
rc=$?

res=$($PY - "$T/profiles.csv" "$T/pop.yaml" <<'PYEOF'
import csv, math, sys, yaml
from statistics import NormalDist
prof = {r['analyte']: (float(r['median']), float(r['log_sd'])) for r in csv.DictReader(open(sys.argv[1]))}
pop = yaml.safe_load(open(sys.argv[2]))['population']
# analytes with a sex shift in sim_profiles.c are a mixture of two log-normals: left out
shifted = set("Phe Tyr Xle Val Met Cit Gly Ala Pro C2 C3 C4 C5 C6 C8 C10 C12 C14 C16 C18 C18:1".split())
z = NormalDist()
inside = total = 0
far = []
for a, (med, sd) in prof.items():
    if a in shifted: continue
    g = pop['markers'][a]['standard']
    for p, key in ((pop['lower_pct'], 'lower_ci'), (pop['upper_pct'], 'upper_ci')):
        t = med * math.exp(sd * z.inv_cdf(p / 100))
        lo, hi = g[key]
        total += 1
        inside += lo <= t <= hi
        w = hi - lo
        if not (lo - w <= t <= hi + w): far.append(f"{a} p{p}: {t:.4g} vs [{lo}, {hi}]")
print(f"{inside} {total} {';'.join(far)}")
PYEOF
)
read -r inside total far <<< "$res"
if [ "$rc" -eq 0 ] && [ "${total:-0}" -eq 40 ] && [ "$inside" -ge 36 ] && [ -z "$far" ]; then
    ok "cutoffs: the simulator's true 0.5th/99.5th percentiles lie in the reported 95 % interval ($inside of $total)"
else nok "cutoffs: true percentiles recovered" "rc=$rc res=[$res] $(head -c 300 "$T/d.err")"; fi

exact=$($PY - "$A" "$T/pop.yaml" <<'PYEOF'
import sys, h5py, numpy as np, yaml
f = h5py.File(sys.argv[1])
pop = yaml.safe_load(open(sys.argv[2]))['population']
names = [s.decode() if isinstance(s, bytes) else s for s in f['/samples_state_code'].attrs['names']]
st = f['/samples_state_code'][()]
smp = f['/samples'][()]
an = [a.decode() for a in f['/analytes/names'][()]]
neg = (st == names.index('negative')) & (smp['sample_type'] == b'patient')
bad = []
for a in ('Phe', 'C0', 'C8', 'C5:1'):
    j = an.index(a)
    v = f['/analytes/values'][:, j][neg & (f['/analytes/censoring'][:, j] == 0)]
    g = pop['markers'][a]['all']
    for q, k in ((pop['lower_pct'], 'lower'), (50, 'median'), (pop['upper_pct'], 'upper')):
        want = float(np.percentile(v, q, method='linear'))
        if abs(want - g[k]) > 1e-13 * abs(want) or len(v) != g['n']: bad.append(f"{a} {k}: numpy {want!r} n {len(v)} vs {g[k]!r} n {g['n']}")
print(";".join(bad) or "same")
PYEOF
)
if [ "$exact" = same ]; then
    ok "cutoffs: percentiles are exact: numpy's type-7 percentile of the archive's values, to the last bits of the interpolation"
else nok "cutoffs: percentiles exact" "$exact"; fi

"$NS" cutoffs derive -v 1 -t 1 --memory 0.1 --outcomes "$T/night/truth.csv" -o "$T/pop1.yaml" "$A" 2> "$T/d1.err"
if cmp -s "$T/pop.yaml" "$T/pop1.yaml" && grep -q "70 markers x 8 groups in 70 passes" "$T/d1.err"; then
    ok "cutoffs: identical fragment at 1 and 2 threads, in one pass and in one pass per marker (--memory 0.1)"
else nok "cutoffs: thread- and pass-independent" "$(diff "$T/pop.yaml" "$T/pop1.yaml" | head -4)"; fi

n_vlbw=$($PY -c "import yaml,sys; print(yaml.safe_load(open(sys.argv[1]))['population']['markers']['Phe']['vlbw']['n'])" "$T/pop.yaml")
if [ "$n_vlbw" -lt 736 ] && grep -B1 "^      vlbw: " "$T/pop.yaml" | grep -q "# WARNING: N = $n_vlbw is too small for the 0.5/99.5 percentiles" \
   && grep -q "warning: group vlbw: N is too small for the 0.5/99.5 percentiles" "$T/d.err" \
   && ! grep -A0 "^      vlbw: " "$T/pop.yaml" | grep -q "upper_ci"; then
    ok "cutoffs: a stratum too small for the 99.5th percentile (vlbw, N = $n_vlbw < 736) is marked, without an interval"
else nok "cutoffs: small N warned" "n=$n_vlbw $(grep -c WARNING "$T/pop.yaml")"; fi

# disease ranges: one row per condition marker; the injected MCAD case's C8 is far above the normal 99.5th
c8=$(awk -F, '$1=="MCAD" && $2=="C8" {print $4, $7}' "$T/disease.csv")
up=$($PY -c "import yaml,sys; print(yaml.safe_load(open(sys.argv[1]))['population']['markers']['C8']['all']['upper'])" "$T/pop.yaml")
if [ -n "$c8" ] && awk -v a="$c8" -v u="$up" 'BEGIN{split(a,x," "); exit !(x[1]>=1 && x[2] > 2*u)}' \
   && grep -q "^#   MCAD C8 (high): n " "$T/pop.yaml"; then
    ok "cutoffs: --outcomes summarises the known cases' marker values (MCAD C8: n, median = $c8 > 2 x normal 99.5th $up)"
else nok "cutoffs: disease-range summary" "c8=[$c8] up=$up"; fi

"$NS" cutoffs derive -v 0 --lower 60 "$A" > /dev/null 2> "$T/e.err"
rc=$?
if [ "$rc" -eq 1 ] && grep -q "0 < --lower < 50 < --upper < 100" "$T/e.err"; then
    ok "cutoffs: percentiles out of order are refused"
else nok "cutoffs: bad percentiles refused" "rc=$rc"; fi

# the fragment is what `config check` and the scores take: check it, attach it to a panel
# that scores MCAD (disease median from the known cases), run and rescore with it
out=$("$NS" config check "$T/pop.yaml" 2>&1)
rc=$?
if [ "$rc" -eq 0 ] && echo "$out" | grep -q "ok (population for panel default .*70 markers"; then
    ok "cutoffs: config check accepts the derived fragment"
else nok "cutoffs: config check accepts the fragment" "rc=$rc $(echo "$out" | head -c 300)"; fi
ROOT0=$(cd "$(dirname "$0")/../.." && pwd)
cat "$ROOT0/configs/panel-default.yaml" "$T/pop.yaml" > "$T/pasted.yaml"
out=$("$NS" config check "$T/pasted.yaml" 2>&1)
rc=$?
if [ "$rc" -eq 0 ]; then
    ok "cutoffs: the fragment pasted at the end of the default panel gives a panel config check accepts"
else nok "cutoffs: pasted fragment" "rc=$rc $(echo "$out" | head -c 300)"; fi
med=$(awk -F, '$1=="MCAD" && $2=="C8" {print $7}' "$T/disease.csv")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
$PY - "$ROOT/configs/panel-default.yaml" "$T/scored.yaml" "$med" <<'PYEOF'
import sys
t = open(sys.argv[1]).read()
i = t.index("  - code: MCAD")
j = t.index("      - marker: C8\n", i)
k = t.index("        cutoff:", j)
k = t.index("\n", k) + 1
t = (t[:k] + f"        disease: {{ median: {sys.argv[3]}, source: \"tests/e2e/cutoffs.sh: simulated cases\" }}\n" + t[k:])
t = t.replace("  - code: MCAD\n", "  - code: MCAD\n    score: { call_by: both, possible: 1.0, likely: 1.8 }\n", 1)
open(sys.argv[2], "w").write(t)
PYEOF
"$NS" run -v 0 -c "$T/scored.yaml" -o "$T/nopop" "$T/night" > /dev/null 2> "$T/nopop.err"
rc=$?
if [ "$rc" -eq 1 ] && grep -q "no population" "$T/nopop.err" && [ ! -e "$T/nopop/batch.h5" ]; then
    ok "cutoffs: a panel that scores without a population is refused by run"
else nok "cutoffs: scoring panel without population refused" "rc=$rc $(head -c 300 "$T/nopop.err")"; fi
"$NS" run -v 0 -c "$T/scored.yaml" --population "$T/pop.yaml" -o "$T/scored" "$T/night" > /dev/null 2> "$T/scored.err"
rc=$?
chk=$($PY - "$T/scored/batch.h5" "$T/pop.yaml" <<'PYEOF'
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1])
codes = [c.decode() for c in f["/scores/conditions"][()]]
v = f["/scores/values"][:, codes.index("MCAD")]
same = f["/config/population_yaml"][()] == open(sys.argv[2], "rb").read()
print("ok" if same and np.sum(~np.isnan(v)) > 1000 else f"same={same} scored={np.sum(~np.isnan(v))}")
PYEOF
)
if [ $((rc & 1)) -eq 0 ] && [ "$chk" = ok ]; then
    ok "cutoffs: run --population attaches the fragment: MCAD scores in batch.h5, the fragment archived"
else nok "cutoffs: run --population" "rc=$rc $chk $(head -c 300 "$T/scored.err")"; fi
"$NS" rescore -v 0 -p "$T/scored.yaml" --population "$T/pop.yaml" --outcomes "$T/night/truth.csv" -o "$T/rs" "$A" > /dev/null 2> "$T/rs.err"
rc=$?
if [ "$rc" -eq 0 ] && awk -F, '$1=="MCAD" {exit !($14=="1" && $16+0 <= $15+0)}' "$T/rs/rescore-conditions.csv"; then
    ok "cutoffs: rescore with the scored panel + fragment keeps every MCAD case, with no more false positives"
else nok "cutoffs: rescore with scores" "rc=$rc $(grep MCAD "$T/rs/rescore-conditions.csv") $(head -c 200 "$T/rs.err")"; fi

# censored cells are ranked, not dropped: mark every Phe below 45 as "<45" in a copy of the
# archive; N and the upper percentile stay exactly as they were, the lower one becomes the
# limit 45 and is marked CENSORED
cp "$A" "$T/cens.h5"
$PY - "$T/cens.h5" <<'PYEOF'
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r+")
an = [a.decode() for a in f["/analytes/names"][()]]
j = an.index("Phe")
v = f["/analytes/values"][()]
c = f["/analytes/censoring"][()]
low = (v[:, j] < 45) & (c[:, j] == 0)
v[low, j] = 45.0
c[low, j] = 1          # NS_CELL_BELOW
f["/analytes/values"][...] = v
f["/analytes/censoring"][...] = c
PYEOF
"$NS" cutoffs derive -v 0 -o "$T/cens.yaml" "$T/cens.h5" 2> /dev/null
"$NS" cutoffs derive -v 0 -o "$T/plain.yaml" "$A" 2> /dev/null
cmp=$($PY - "$T/plain.yaml" "$T/cens.yaml" <<'PYEOF'
import sys, yaml
a = yaml.safe_load(open(sys.argv[1]))["population"]["markers"]["Phe"]["all"]
b = yaml.safe_load(open(sys.argv[2]))["population"]["markers"]["Phe"]["all"]
ok = a["n"] == b["n"] and a["upper"] == b["upper"] and a["upper_ci"] == b["upper_ci"] and b["lower"] == 45 and "lower_ci" not in b
print("ok" if ok else f"{a} / {b}")
PYEOF
)
if [ "$cmp" = ok ] && grep -A1 "^    \"Phe\":" "$T/cens.yaml" | grep -q "# CENSORED: the lower"; then
    ok "cutoffs: '<x' cells are ranked below the exact values: same N and upper percentile, lower = the limit, marked CENSORED"
else nok "cutoffs: censored cells ranked" "$cmp"; fi

# -o naming a pipe (or /dev/null, /dev/stdout) writes into it: a temporary file renamed over
# it would replace the pipe or device with a plain file
mkfifo "$T/fifo"
timeout 30 cat "$T/fifo" > "$T/fromfifo" &
"$NS" cutoffs derive -v 0 -o "$T/fifo" "$A" 2> /dev/null
rc=$?
wait
if [ "$rc" -eq 0 ] && [ -p "$T/fifo" ] && cmp -s "$T/fromfifo" "$T/plain.yaml"; then
    ok "cutoffs: -o into a named pipe writes through it and leaves it a pipe"
else nok "cutoffs: -o into a pipe" "rc=$rc $(ls -la "$T/fifo")"; fi
