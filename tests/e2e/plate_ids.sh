#!/bin/bash
# tests/e2e/plate_ids.sh — a plate id is read once per night: of several files carrying the
# same plate_id, the first in file order (names sorted) is read and every later one is
# quarantined, naming the first; the wells still add up.
# Prints "ok - NAME" / "not ok - NAME: why".
set -u
NS=${NS:-$PWD/neoscreen}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
ok() { echo "ok - $1"; }
nok() { echo "not ok - $1: $2"; }

"$NS" simulate -v 0 -o "$T/night" -n 400 -s 3 > /dev/null 2>&1
first=$(ls "$T/night/plates" | head -1)
id=${first%.csv}
cp "$T/night/plates/$first" "$T/night/plates/A-copy.csv"      # sorts before the original
cp "$T/night/plates/$first" "$T/night/plates/Z-copy.csv"      # sorts after every plate
"$NS" run -v 0 -o "$T/out" "$T/night" > /dev/null 2> "$T/err"
rc=$?
n1=$(grep -c "plate_id '$id' was already read from $T/night/plates/A-copy.csv" "$T/err")
if [ $((rc & 2)) -eq 2 ] && [ "$n1" -eq 2 ] && grep -q "$T/night/plates/$first:.*already read" "$T/err" \
   && grep -q "$T/night/plates/Z-copy.csv:.*already read" "$T/err" \
   && /usr/bin/python3 -c "import json,sys; s=json.load(open(sys.argv[1])); sys.exit(0 if s['states_add_up'] is True else 1)" "$T/out/summary.json"; then
    ok "plate ids: two later files with the first file's plate_id are quarantined, naming it"
else nok "plate ids: duplicates quarantined" "rc=$rc n1=$n1 $(head -c 400 "$T/err")"; fi
