#!/bin/bash
# tests/e2e/omp_wait.sh — `run` makes its OpenMP threads sleep while they wait for work
# (pipeline/omp_wait.h): with nothing chosen and more than one thread it executes itself
# again with OMP_WAIT_POLICY=passive.  libgomp prints its settings at start-up when
# OMP_DISPLAY_ENV=verbose, once per program start:
#   - OMP_WAIT_POLICY unset or empty, -t 2: two starts, the second with GOMP_SPINCOUNT '0'
#     (passive), and the log printed once (nothing is written before the second start);
#   - the night given first and a trailing "--" (getopt_long reorders the arguments the
#     second start is given): two starts, the same outputs;
#   - OMP_WAIT_POLICY=active or GOMP_SPINCOUNT given (the user's choice): one start;
#   - -t 1: one start, the default;
#   - under valgrind (its preload library in LD_PRELOAD), or started through the dynamic
#     loader (whose path /proc/self/exe then gives): one start, and the run completes;
#   - the same recall list (CSV, XLSX), rerun list and exit status in every case.
# Every run has a time limit, so that a start that repeated itself would fail, not hang.
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

# OUT [VAR=VALUE...] -- [COMMAND...] -- ARGS: `run -v 2 --no-ledger -o $T/OUT ARGS` with
# OMP_WAIT_POLICY unset unless given, started through COMMAND (a loader) if any
runit() {
    local out=$1; shift
    local envs=() pre=()
    while [ "$1" != "--" ]; do envs+=("$1"); shift; done
    shift
    while [ "$1" != "--" ]; do pre+=("$1"); shift; done
    shift
    env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT OMP_DISPLAY_ENV=verbose "${envs[@]}" timeout 120 \
        "${pre[@]}" "$NS" run -v 2 --no-ledger -o "$T/$out" "$@" > /dev/null 2> "$T/$out.err"
    echo $? > "$T/$out.rc"
}
starts() { grep -c '^OPENMP DISPLAY ENVIRONMENT BEGIN' "$T/$1.err"; }
spins() { grep -o "GOMP_SPINCOUNT = '[0-9]*'" "$T/$1.err" | grep -o '[0-9]*' | tr '\n' ' ' | sed 's/ $//'; }

runit p2 -- -- -t 2 "$NIGHT"
runit e2 OMP_WAIT_POLICY= -- -- -t 2 "$NIGHT"
runit r2 -- -- "$NIGHT" -t 2 --
runit a2 OMP_WAIT_POLICY=active -- -- -t 2 "$NIGHT"
runit s2 GOMP_SPINCOUNT=1000 -- -- -t 2 "$NIGHT"
runit p1 -- -- -t 1 "$NIGHT"
runit v2 LD_PRELOAD=/nonexistent/vgpreload_core-amd64-linux.so -- -- -t 2 "$NIGHT"
LOADER=$(ldd "$NS" 2>/dev/null | awk '/ld-linux/ { print $1; exit }')
[ -x "$LOADER" ] && runit l2 -- "$LOADER" -- -t 2 "$NIGHT"

if [ "$(starts p2)" = 2 ] && [ "$(spins p2 | awk '{print $2}')" = 0 ]; then
    ok "unset, 2 threads: run again with OMP_WAIT_POLICY=passive (GOMP_SPINCOUNT $(spins p2))"
else
    nok "unset, 2 threads: passive" "$(starts p2) start(s), GOMP_SPINCOUNT $(spins p2)"
fi
n=$(grep -c 'panel default' "$T/p2.err")
if [ "$n" = 1 ] && grep -q 'OpenMP threads wait for work as OMP_WAIT_POLICY=passive says' "$T/p2.err"; then
    ok "the log is written once, by the program started again, which says its threads wait passively"
else
    nok "the log once" "$n 'panel' lines; $(grep 'wait for work' "$T/p2.err" || echo 'no line on waiting')"
fi
for r in e2 r2; do
    if [ "$(starts $r)" = 2 ] && [ "$(spins $r | awk '{print $2}')" = 0 ]; then
        ok "$r: started again, passive ($([ $r = e2 ] && echo 'OMP_WAIT_POLICY empty' || echo 'the night first, a trailing --'))"
    else
        nok "$r: passive" "$(starts $r) start(s), GOMP_SPINCOUNT $(spins $r)"
    fi
done
if [ "$(starts s2)" = 1 ] && [ "$(spins s2)" = 1000 ]; then
    ok "GOMP_SPINCOUNT given: kept, one start"
else
    nok "GOMP_SPINCOUNT kept" "$(starts s2) start(s), GOMP_SPINCOUNT $(spins s2)"
fi
if [ "$(starts a2)" = 1 ] && [ "$(spins a2)" = 30000000000 ] && grep -q 'as OMP_WAIT_POLICY=active says' "$T/a2.err"; then
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
    ok "valgrind's preload library present: not started again"
else
    nok "under valgrind" "$(starts v2) starts"
fi
if [ ! -x "$LOADER" ]; then
    ok "started through the loader # skip: no ld-linux in ldd's output"
elif [ "$(starts l2)" = 1 ] && [ "$(cat "$T/l2.rc")" = "$(cat "$T/p2.rc")" ]; then
    ok "started through the loader ($LOADER): not started again, the run completes"
else
    nok "through the loader" "$(starts l2) start(s), exit $(cat "$T/l2.rc"): $(tail -2 "$T/l2.err")"
fi
same=1
for r in e2 r2 a2 s2 p1 v2 $([ -x "$LOADER" ] && echo l2); do
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
