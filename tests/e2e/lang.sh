#!/bin/bash
# tests/e2e/lang.sh — `neoscreen config check` on translation tables (configs/lang.yaml):
# the shipped file passes as a lang file; a broken copy fails with exit 1 and every problem
# at FILE:LINE:COL with the line quoted.  Prints "ok - NAME" / "not ok - NAME: why".
set -u
NS=${NS:-$PWD/neoscreen}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
check() { local name=$1; shift; if "$@"; then echo "ok - $name"; else echo "not ok - $name: $*"; fi; }

out=$("$NS" config check "$ROOT/configs/lang.yaml" 2>&1); rc=$?
check "shipped lang.yaml passes" test $rc -eq 0
check "shipped lang.yaml is checked as a lang file" grep -q 'ok (lang: [0-9]* keys in en, zh; default en)' <<< "$out"

# the shipped file with the Chinese text of one key dropped, a placeholder renamed in
# another, and an unknown top-level key
sed -e 's/^  col.well: .*/  col.well:                 {en: "well"}/' \
    -e 's/zh: "{cond} {marker} 无结果"/zh: "{cond} {analyte} 无结果"/' \
    "$ROOT/configs/lang.yaml" > "$T/lang.yaml"
echo "colour: red" >> "$T/lang.yaml"
wl=$(grep -n '^  col.well:' "$T/lang.yaml" | cut -d: -f1)
ml=$(grep -n '{analyte}' "$T/lang.yaml" | cut -d: -f1)
cl=$(grep -n '^colour:' "$T/lang.yaml" | cut -d: -f1)
"$NS" config check "$T/lang.yaml" > "$T/out" 2> "$T/err"; rc=$?
check "broken lang file: exit 1" test $rc -eq 1
check "missing translation at its line" grep -q "lang.yaml:$wl:3: text.col.well: no 'zh' text" "$T/err"
check "placeholder mismatch at its line" \
    grep -q "lang.yaml:$ml:[0-9]*: text.reason.marker_missing.zh has placeholders {analyte}, {cond} but en has {cond}, {marker}" "$T/err"
check "unknown top-level key at its line" grep -q "lang.yaml:$cl:1: unknown key 'colour'" "$T/err"
check "offending line quoted" grep -q '>>>   col.well:' "$T/err"
check "problem count" grep -q "3 problems" "$T/err"
check "nothing on stdout for a bad file" test ! -s "$T/out"
