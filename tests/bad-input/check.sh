#!/bin/bash
# check.sh — run every plate of the bad-input corpus through `neoscreen run` (STYLE R10).
#
#     tests/bad-input/check.sh NEOSCREEN_BINARY
#
# Each NN.<outcome>.<what>.csv here is run as one night, next to the clean plate
# good/GOOD.csv and with good/manifest.csv (which lists the patients of every corpus file):
#
#   reject  exit status has bit 2 (partial); stderr holds the one line of
#           NN.reject.<what>.expected (@DIR@ = the night dir) and no other line about the
#           file; summary.json lists exactly that file as quarantined, GOOD.csv is ok
#   ok      exit status has neither bit 2 nor bit 1; stderr says nothing about the file;
#           summary.json shows both plates ok
#   both    states_add_up is true, and wells_read is the well rows of both files
#           (wells.tsv, written by make-corpus.py)
#
# Prints "ok - bad-input NN.what" or "not ok - bad-input NN.what: why" per file, then
# "N passed, N failed"; exits 1 if any failed, 2 on a usage error.
set -u

if [ $# -ne 1 ]; then
    echo "Usage: $0 NEOSCREEN_BINARY" >&2
    exit 2
fi
case $1 in
    */*) NS=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") ;;
    *) NS=$(command -v "$1" || true) ;;
esac
if [ ! -x "$NS" ]; then
    echo "$0: $1 is not an executable file" >&2
    exit 2
fi
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)     # neoscreen run reads configs/panel-default.yaml from here

tmp=
cleanup() { if [ -n "$tmp" ]; then rm -rf "$tmp"; fi; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# well rows of a corpus file, from wells.tsv; empty if it is not listed
wells_of() {
    awk -F '\t' -v f="$1" '$1 == f { print $2 }' "$HERE/wells.tsv"
}

# check summary.json; prints nothing when it is right, else what is wrong
check_summary() {   # summary case outcome wells_expected
    "$PY" - "$@" <<'EOF'
import json, sys
path, case, outcome, wells = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
try:
    s = json.load(open(path, encoding="utf-8"))
except (OSError, ValueError) as e:
    print("summary.json missing or not JSON (%s)" % type(e).__name__)
    sys.exit()
why = []
status = {p["file"]: p["status"] for p in s["plates"]["list"]}
if status.get("GOOD.csv") != "ok":
    why.append("GOOD.csv is %s, not ok" % status.get("GOOD.csv", "missing"))
if outcome == "reject":
    q = [x["file"].rsplit("/", 1)[-1] for x in s["quarantined"]]
    if q != [case]:
        why.append("quarantined files are %s, expected [%s]" % (q, case))
elif status.get(case) != "ok":
    why.append("%s is %s, not ok" % (case, status.get(case, "missing")))
if s.get("states_add_up") is not True:
    why.append("states_add_up is %s" % s.get("states_add_up"))
if s.get("wells_read") != wells:
    why.append("wells_read is %s, expected %d" % (s.get("wells_read"), wells))
print("; ".join(why))
EOF
}

pass=0
fail=0
good_wells=$(wells_of good/GOOD.csv)
for f in "$HERE"/[0-9][0-9].*.csv; do
    [ -e "$f" ] || continue
    name=$(basename "$f")
    id=${name%.csv}
    why=
    case $name in
        [0-9][0-9].ok.*.csv) outcome=ok ;;
        [0-9][0-9].reject.*.csv) outcome=reject ;;
        *) outcome= ; why="name is not NN.ok.<what>.csv or NN.reject.<what>.csv" ;;
    esac
    wells=$(wells_of "$name")
    if [ -z "$why" ] && [ -z "$wells" ]; then why="not listed in wells.tsv (run make-corpus.py)"; fi
    if [ -z "$why" ] && [ "$outcome" = reject ] && [ ! -s "$HERE/$id.expected" ]; then
        why="no $id.expected"
    fi

    if [ -z "$why" ]; then
        tmp=$(mktemp -d)
        mkdir "$tmp/plates"
        cp "$f" "$HERE/good/GOOD.csv" "$tmp/plates/"
        cp "$HERE/good/manifest.csv" "$tmp/manifest.csv"
        (cd "$ROOT" && "$NS" run -t 2 -v 0 -q tests/bad-input/qc.yaml -o "$tmp/out" "$tmp") >"$tmp/stdout" 2>"$tmp/stderr"
        rc=$?
        mentions=$(grep -cF "$name" "$tmp/stderr")
        if [ "$outcome" = reject ]; then
            IFS= read -r expected <"$HERE/$id.expected"
            expected=${expected//@DIR@/$tmp}
            if [ $((rc & 2)) -eq 0 ]; then
                why="exit status $rc has no bit 2 (partial)"
            elif ! grep -qxF -- "$expected" "$tmp/stderr"; then
                got=$(grep -F "$name" "$tmp/stderr" | head -n 1)
                why="stderr lacks the expected line; got: ${got//$tmp/@DIR@}"
            elif [ "$mentions" -ne 1 ]; then
                why="$mentions stderr lines mention $name, expected 1"
            fi
        else
            if [ $((rc & 3)) -ne 0 ]; then
                why="exit status $rc has bit 1 or 2"
            fi
            if [ "$mentions" -ne 0 ]; then
                got=$(grep -F "$name" "$tmp/stderr" | head -n 1)
                why="${why:+$why; }stderr mentions the file: ${got//$tmp/@DIR@}"
            fi
        fi
        if [ -z "$why" ]; then
            why=$(check_summary "$tmp/out/summary.json" "$name" "$outcome" $((wells + good_wells)))
        fi
        rm -rf "$tmp"
        tmp=
    fi

    if [ -z "$why" ]; then
        echo "ok - bad-input $id"
        pass=$((pass + 1))
    else
        echo "not ok - bad-input $id: $why"
        fail=$((fail + 1))
    fi
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
