#!/bin/bash
# check_baseline.sh — does scripts/baseline_numpy.py give neoscreen's answers?
#
# For each seed, simulated nights in three flavours:
#   plain  --every-condition, the default panel (all flavours --no-hearing: MS/MS only)
#   cases  --every-condition --cases 200, a shifted control so that plate 2 fails QC
#          (its cards are qc_hold in neoscreen; the baseline ignores QC, so they are set
#          aside before comparing the recall sets)
#   edge   --vendor-headers --crlf --unmatched/--unplated, the night edited by
#          check_baseline.py perturb (censored / ND / empty / NaN cells, values exactly at
#          limits, odd and missing covariates, duplicate manifest rows, TPN babies) and run
#          with check_baseline.py's variant panel (stratum overrides, tpn_max_fold, ...)
# and for each: `neoscreen run` vs `baseline_numpy.py night` (every well's calls and state,
# and the recall sets), then `neoscreen rescore` vs `baseline_numpy.py archive` on its
# batch.h5 with a candidate panel (PKU Phe cutoff 150 -> 100; for the plain night also the
# variant panel); finally one rescore over all archives of the run at once.
#
# Usage: scripts/check_baseline.sh [-n SAMPLES] [-s "SEED..."] [-f "FLAVOUR..."]
#        defaults: -n 20000 -s "1 2 3" -f "plain cases edge"
# Prints "ok - NAME" / "not ok - NAME: why" (tests/e2e/baseline.sh runs a short version).
set -u
cd "$(dirname "$0")/.." || exit 1
NS=${NS:-$PWD/neoscreen}
PY=/usr/bin/python3
BL="$PY $PWD/scripts/baseline_numpy.py"
HELP="$PY $PWD/scripts/check_baseline.py"
N=20000
SEEDS="1 2 3"
FLAVOURS="plain cases edge"
while getopts "n:s:f:" o; do
    case $o in
    n) N=$OPTARG ;;
    s) SEEDS=$OPTARG ;;
    f) FLAVOURS=$OPTARG ;;
    *) echo "usage: $0 [-n SAMPLES] [-s \"SEED...\"] [-f \"plain cases edge\"]" >&2; exit 2 ;;
    esac
done
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
ok() { echo "ok - $1"; }
nok() { echo "not ok - $1: $2"; }

DEF=configs/panel-default.yaml
$HELP variant "$DEF" "$T/variant.yaml"
if ! "$NS" config check "$T/variant.yaml" > "$T/cc.log" 2>&1; then
    nok "baseline: variant panel" "config check refuses it: $(head -c 300 "$T/cc.log")"
    exit 0
fi
loosen() {   # PKU Phe cutoff 150 -> 100 (the only "cutoff: 150" of the panel)
    sed 's/^        cutoff: 150$/        cutoff: 100/' "$1" > "$2"
    cmp -s "$1" "$2" && { echo "loosen: no cutoff: 150 in $1" >&2; return 1; }
    return 0
}
loosen "$DEF" "$T/loose.yaml" && loosen "$T/variant.yaml" "$T/variant-loose.yaml" || exit 1

# compare_archive NAME PANEL ARCHIVE...: rescore vs the baseline's archive mode
compare_archive() {
    local name=$1 cand=$2 dir
    shift 2
    dir=$(mktemp -d "$T/rs.XXXX")
    if ! "$NS" rescore -v 0 -p "$cand" -o "$dir/r" "$@" > /dev/null 2> "$dir/err"; then
        nok "$name" "neoscreen rescore failed: $(head -c 300 "$dir/err")"; return
    fi
    if ! $BL archive --panel "$cand" -o "$dir/ids" --counts "$dir/counts.csv" "$@" 2> "$dir/blerr"; then
        nok "$name" "baseline failed: $(tail -c 300 "$dir/blerr")"; return
    fi
    local r
    r=$($HELP archive "$dir/r" "$dir/ids" "$dir/counts.csv" "$@" 2>&1)
    case $r in same*) ok "$name: $r" ;; *) nok "$name" "$r" ;; esac
}

day=10
ARCHS=()
for seed in $SEEDS; do
    for fl in $FLAVOURS; do
        day=$((day + 1))
        night=$T/n-$fl-$seed
        out=$T/o-$fl-$seed
        panel=$DEF
        loose=$T/loose.yaml
        sim=(-v 0 -o "$night" -n "$N" -s "$seed" --every-condition --no-hearing --night "2026-10-$day")
        case $fl in
        plain) ;;
        cases) sim+=(--cases 200 --qc-shift qc_high:C3:6:2) ;;
        edge)  sim+=(--vendor-headers --crlf --unmatched 7 --unplated 7); panel=$T/variant.yaml
               loose=$T/variant-loose.yaml ;;
        *) nok "baseline: flavour $fl" "unknown (plain, cases, edge)"; continue ;;
        esac
        name="baseline $fl n=$N seed=$seed"
        if ! "$NS" simulate "${sim[@]}" > /dev/null 2> "$T/sim.err"; then
            nok "$name" "simulate failed: $(head -c 300 "$T/sim.err")"; continue
        fi
        [ "$fl" = edge ] && $HELP perturb "$night" "$seed"
        "$NS" run -v 0 -c "$panel" -o "$out" "$night" > /dev/null 2> "$T/run.err"
        rc=$?
        if [ ! -f "$out/batch.h5" ] || [ $((rc & 1)) -ne 0 ]; then
            nok "$name: night" "neoscreen run exit $rc: $(head -c 300 "$T/run.err")"; continue
        fi
        if ! $BL night --panel "$panel" -o "$T/ids" --calls-out "$T/calls.csv" "$night" 2> "$T/bl.err"; then
            nok "$name: night" "baseline failed: $(tail -c 300 "$T/bl.err")"; continue
        fi
        r=$($HELP night "$out/batch.h5" "$T/ids" "$T/calls.csv" 2>&1)
        case $r in same*) ok "$name: night: $r" ;; *) nok "$name: night" "$r" ;; esac
        ARCHS+=("$out/batch.h5")
        compare_archive "$name: archive, PKU Phe 150->100" "$loose" "$out/batch.h5"
        [ "$fl" = plain ] && compare_archive "$name: archive, variant panel" "$T/variant.yaml" "$out/batch.h5"
    done
done
[ ${#ARCHS[@]} -gt 1 ] && compare_archive "baseline: ${#ARCHS[@]} archives at once, PKU Phe 150->100" "$T/loose.yaml" "${ARCHS[@]}"
exit 0
