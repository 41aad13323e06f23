#!/bin/bash
# tests/e2e/omp_wait.sh — `run` makes its OpenMP threads sleep while they wait for work
# (pipeline/omp_wait.h): with OMP_WAIT_POLICY unset and more than one thread it executes
# itself again with OMP_WAIT_POLICY=passive.  libgomp prints its settings at start-up when
# OMP_DISPLAY_ENV=verbose, once per program start:
#   - unset, -t 2: two starts, the second with GOMP_SPINCOUNT '0' (passive), and the log
#     printed once (nothing is written before the second start);
#   - OMP_WAIT_POLICY=active (the user's choice): one start, spinning;
#   - -t 1: one start, the default;
#   - under valgrind (its preload library in LD_PRELOAD): one start, so that memcheck
#     keeps watching the program;
#   - the same recall list (CSV, XLSX) and exit status whichever way the threads wait.
# Prints "ok - NAME" / "not ok - NAME: why".
set -u
NS=${NS:-$PWD/neoscreen}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NIGHT="$ROOT/reference-data/example-night"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export NS_NOW=2026-11-24T08:00:00
ok() { echo "ok - $1"; }
nok() { echo "not ok - $1: $2"; }

# NAME OUT [VAR=VALUE...] -- ARGS: run with OMP_WAIT_POLICY unset unless given
runit() {
    local out=$1; shift
    local envs=()
    while [ "$1" != "--" ]; do envs+=("$1"); shift; done
    shift
    env -u OMP_WAIT_POLICY OMP_DISPLAY_ENV=verbose "${envs[@]}" "$NS" run -v 2 --no-ledger -o "$T/$out" "$@" \
        "$NIGHT" > /dev/null 2> "$T/$out.err"
    echo $? > "$T/$out.rc"
}
starts() { grep -c '^OPENMP DISPLAY ENVIRONMENT BEGIN' "$T/$1.err"; }
spins() { grep -o "GOMP_SPINCOUNT = '[0-9]*'" "$T/$1.err" | grep -o '[0-9]*' | tr '\n' ' ' | sed 's/ $//'; }

runit p2 -- -t 2
runit a2 OMP_WAIT_POLICY=active -- -t 2
runit p1 -- -t 1
runit v2 LD_PRELOAD=/nonexistent/vgpreload_core-amd64-linux.so -- -t 2

if [ "$(starts p2)" = 2 ] && [ "$(spins p2 | awk '{print $2}')" = 0 ]; then
    ok "unset, 2 threads: run again with OMP_WAIT_POLICY=passive (GOMP_SPINCOUNT $(spins p2))"
else
    nok "unset, 2 threads: passive" "$(starts p2) start(s), GOMP_SPINCOUNT $(spins p2)"
fi
n=$(grep -c 'panel default' "$T/p2.err")
if [ "$n" = 1 ] && grep -q 'OMP_WAIT_POLICY=passive: the OpenMP threads sleep' "$T/p2.err"; then
    ok "the log is written once, by the program run again, which says its threads sleep"
else
    nok "the log once" "$n 'panel' lines; $(grep 'OMP_WAIT_POLICY=' "$T/p2.err" || echo 'no OMP_WAIT_POLICY line')"
fi
if [ "$(starts a2)" = 1 ] && [ "$(spins a2)" = 30000000000 ] && grep -q 'OMP_WAIT_POLICY=active: the OpenMP threads spin' "$T/a2.err"; then
    ok "OMP_WAIT_POLICY=active given: kept, one start"
else
    nok "active kept" "$(starts a2) start(s), GOMP_SPINCOUNT $(spins a2)"
fi
if [ "$(starts p1)" = 1 ] && [ "$(spins p1)" = 300000 ]; then
    ok "1 thread: one start, the runtime's default"
else
    nok "1 thread" "$(starts p1) start(s), GOMP_SPINCOUNT $(spins p1)"
fi
if [ "$(starts v2)" = 1 ]; then
    ok "valgrind's preload library present: not run again"
else
    nok "under valgrind" "$(starts v2) starts"
fi
same=1
for r in a2 p1 v2; do
    [ "$(cat "$T/$r.rc")" = "$(cat "$T/p2.rc")" ] || same=0
    for f in recall-list.csv recall-list.xlsx plates-to-rerun.csv; do
        cmp -s "$T/p2/$f" "$T/$r/$f" || same=0
    done
done
if [ "$same" = 1 ] && [ -s "$T/p2/recall-list.csv" ]; then
    ok "the same recall list, rerun list and exit status ($(cat "$T/p2.rc")) whichever way the threads wait"
else
    nok "same outputs" "exit statuses $(cat "$T"/*.rc | tr '\n' ' '); a list differs"
fi
