#!/bin/bash
# fuzz.sh — run each libFuzzer target for a given time, one after the other.
#
#     scripts/fuzz.sh [SECONDS [TARGET...]]     (default 60 s each, every target)
#
# Builds the targets first (`make fuzz`: clang with libclang-rt-14-dev and libomp-dev).
# One fuzzer at a time, one job, one worker (-jobs=1 -workers=1): the machine has 2 cores.
# Each target's corpus grows in tests/fuzz/work/<target>/ (not in git), seeded from the
# repository's own examples (tests/fuzz/seeds.sh) and from tests/fuzz/regress/<target>/.
# A crash, leak, timeout (-timeout=10 s) or out-of-memory (-rss_limit_mb=2048) input is
# left as tests/fuzz/work/<target>-artifacts/<kind>-<sha1>; turn each one into a
# regression file under tests/fuzz/regress/<target>/ once fixed.
#
# Prints, per target: seconds run, executions, cov and ft (libFuzzer's edge and feature
# counts at the end), corpus size, and whether it found anything; the full log is
# tests/fuzz/work/<target>.log.  Exit 1 if any target found something.
set -u
cd "$(dirname "$0")/.." || exit 1
root=$PWD
secs=${1:-60}
shift || true
. tests/fuzz/seeds.sh
targets=${*:-$FUZZ_TARGETS}

make -s fuzz >/dev/null || { echo "fuzz.sh: make fuzz failed" >&2; exit 1; }
export OMP_NUM_THREADS=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
found=0
printf '%-14s %6s %12s %7s %7s %7s  %s\n' target seconds execs cov ft corpus result
for t in $targets; do
    work=tests/fuzz/work/$t art=tests/fuzz/work/$t-artifacts
    mkdir -p "$work" "$art"
    seeds=$(mktemp -d)
    fuzz_seeds "$t" | while read -r f; do cp "$f" "$seeds/$(echo "$f" | tr / _)"; done
    [ -d tests/fuzz/regress/$t ] && cp tests/fuzz/regress/$t/* "$seeds/" 2>/dev/null
    log=tests/fuzz/work/$t.log
    start=$(date +%s)
    # with -jobs libFuzzer runs the fuzzer as a child writing ./fuzz-0.log: run it in the
    # work directory, and keep that log as the target's log
    rm -f tests/fuzz/work/fuzz-0.log
    (cd tests/fuzz/work && "$root/tests/fuzz/fuzz_$t" -max_total_time="$secs" -jobs=1 -workers=1 \
        -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
        -artifact_prefix="$root/$art/" "$root/$work" "$seeds") > "$log.parent" 2>&1
    rc=$?
    cat tests/fuzz/work/fuzz-0.log "$log.parent" > "$log" 2>/dev/null
    rm -f tests/fuzz/work/fuzz-0.log "$log.parent"
    # the parent's exit status is 0 even when the job found something
    grep -qE '^==[0-9]+==ERROR|runtime error|^SUMMARY|Test unit written' "$log" && rc=1
    end=$(date +%s)
    rm -rf "$seeds"
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
    ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
    corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p')
    result=clean
    if [ $rc -ne 0 ]; then
        found=1
        result="FOUND (exit $rc): $(grep -m1 -E 'ERROR: |runtime error|SUMMARY' "$log" | cut -c1-100); see $log"
    fi
    printf '%-14s %6s %12s %7s %7s %7s  %s\n' "$t" $((end - start)) "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$result"
done
exit $found
