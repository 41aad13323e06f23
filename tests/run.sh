#!/bin/bash
# tests/run.sh — run every test group and end with one line "N passed, N failed".
#
#   unit       tests/unit/test_* (cmocka; summary read from its output)
#   e2e        tests/e2e/*.sh    (each prints "ok - NAME" / "not ok - NAME: why" lines; a
#              Python traceback in its output counts as one failure)
#   bad-input  tests/bad-input/check.sh (the corpus named by expected outcome)
#   fuzz       every file of tests/fuzz/regress/<target>/ (inputs the fuzzers once broke)
#              and the target's seeds (tests/fuzz/seeds.sh) through tests/fuzz/replay_<target>:
#              one run per file, ok when it exits 0 within 60 s (under `make check` the
#              replays carry ASan+UBSan, so a sanitizer report fails the file)
#
# Usage: tests/run.sh [GROUP...]   (default: all groups).  Run from the repository root
# after `make`; `make test` does both.  Exit status 1 if anything failed.
set -u
cd "$(dirname "$0")/.." || exit 1
NS="$PWD/neoscreen"
export NS
passed=0
failed=0
failures=()
groups=("$@")
[ ${#groups[@]} -eq 0 ] && groups=(unit e2e bad-input fuzz)

count_tap() {   # count "ok - " / "not ok - " lines of a TAP-like log
    local log=$1 name=$2 p f
    p=$(grep -c '^ok - ' "$log")
    f=$(grep -c '^not ok - ' "$log")
    passed=$((passed + p))
    failed=$((failed + f))
    while IFS= read -r l; do failures+=("$name: ${l#not ok - }"); done < <(grep '^not ok - ' "$log")
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for g in "${groups[@]}"; do
    case "$g" in
    unit)
        for t in tests/unit/test_*; do
            [ -x "$t" ] && [ "${t%.c}" = "$t" ] && [ "${t%.d}" = "$t" ] || continue
            echo "== $t"
            "$t" > "$tmp/unit.log" 2>&1
            rc=$?
            cat "$tmp/unit.log"
            p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\./\1/p' "$tmp/unit.log" | tail -1)
            f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s), listed below:/\1/p' "$tmp/unit.log" | tail -1)
            p=${p:-0}; f=${f:-0}
            # a crash prints no summary: count it as a failure
            if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; failures+=("$t: exited $rc without a summary"); fi
            while IFS= read -r l; do failures+=("$t: ${l#\[  FAILED  \] }"); done \
                < <(grep '^\[  FAILED  \] test_' "$tmp/unit.log")
            passed=$((passed + p)); failed=$((failed + f))
        done
        ;;
    e2e)
        for t in tests/e2e/*.sh; do
            [ -f "$t" ] || continue
            echo "== $t"
            bash "$t" > "$tmp/e2e.log" 2>&1
            rc=$?
            cat "$tmp/e2e.log"
            count_tap "$tmp/e2e.log" "$t"
            if [ "$rc" -ne 0 ] && ! grep -q '^not ok - ' "$tmp/e2e.log"; then
                failed=$((failed + 1)); failures+=("$t: exited $rc")
            fi
            # a Python checker that crashed printed no verdict for what it had left to check
            if grep -q '^Traceback (most recent call last):' "$tmp/e2e.log"; then
                failed=$((failed + 1)); failures+=("$t: a Python checker crashed (traceback above)")
            fi
        done
        ;;
    bad-input)
        if [ -f tests/bad-input/check.sh ]; then
            echo "== tests/bad-input/check.sh"
            bash tests/bad-input/check.sh "$NS" > "$tmp/bad.log" 2>&1
            grep -v '^[0-9]* passed, [0-9]* failed$' "$tmp/bad.log"
            count_tap "$tmp/bad.log" bad-input
        fi
        ;;
    fuzz)
        echo "== tests/fuzz (regression files and seeds, replayed)"
        . tests/fuzz/seeds.sh
        : > "$tmp/fuzz.log"
        for t in $FUZZ_TARGETS; do
            r=tests/fuzz/replay_$t
            { ls tests/fuzz/regress/"$t"/* 2>/dev/null; fuzz_seeds "$t"; } > "$tmp/files"
            while IFS= read -r f; do
                if [ ! -x "$r" ]; then
                    echo "not ok - fuzz $t $f: $r not built (make test builds it)"
                elif TMPDIR="$tmp" timeout 60 "$r" "$f" > "$tmp/replay.out" 2>&1; then
                    echo "ok - fuzz $t $f"
                else
                    echo "not ok - fuzz $t $f: exit $? ($(grep -m1 -E 'ERROR|runtime error|Abort|Segmentation' "$tmp/replay.out" | cut -c1-120))"
                fi
            done < "$tmp/files" >> "$tmp/fuzz.log"
        done
        grep -c '^ok - ' "$tmp/fuzz.log" | sed 's/$/ files replayed cleanly/'
        grep '^not ok - ' "$tmp/fuzz.log"
        count_tap "$tmp/fuzz.log" fuzz
        ;;
    *) echo "tests/run.sh: unknown group '$g' (unit, e2e, bad-input, fuzz)" >&2; exit 2 ;;
    esac
done

if [ ${#failures[@]} -gt 0 ]; then
    echo
    echo "Failures:"
    for f in "${failures[@]}"; do echo "  $f"; done
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
