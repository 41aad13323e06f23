#!/bin/bash
# scripts/bench.sh — speed and memory of `neoscreen run` on a simulated night, at 1 and 2
# threads.  Prints figures; never fails a build (`make bench` ignores its exit status).
#   BENCH_SAMPLES (default 10000)  BENCH_SEED (default 7)  BENCH_REPS (default 3)
set -u
cd "$(dirname "$0")/.." || exit 0
N=${BENCH_SAMPLES:-10000}
SEED=${BENCH_SEED:-7}
REPS=${BENCH_REPS:-3}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
./neoscreen simulate -v 0 -o "$T/night" -n "$N" -s "$SEED" --every-condition --genes 2>/dev/null || { echo "bench: simulate failed"; exit 0; }
echo "neoscreen bench: $N samples ($(ls "$T/night/plates" | wc -l) MS/MS plates, $(ls "$T/night/genes" | wc -l) gene plates, hearing.csv, $(du -sh "$T/night" | cut -f1)), best of $REPS"
printf '%-8s %10s %12s %12s\n' threads wall_s samples/s peak_rss_MB
for t in 1 2; do
    best=""
    rss=0
    for r in $(seq "$REPS"); do
        /usr/bin/time -f '%e %M' -o "$T/time" ./neoscreen run -v 0 -t "$t" -o "$T/out$t" "$T/night" 2>/dev/null
        read -r w m < "$T/time"
        if [ -z "$best" ] || awk -v a="$w" -v b="$best" 'BEGIN{exit !(a<b)}'; then best=$w; fi
        [ "$m" -gt "$rss" ] && rss=$m
    done
    awk -v t="$t" -v w="$best" -v n="$N" -v m="$rss" 'BEGIN{printf "%-8s %10.3f %12.0f %12.1f\n", t, w, (w>0? n/w : 0), m/1024}'
done
cmp -s "$T/out1/recall-list.csv" "$T/out2/recall-list.csv" && cmp -s "$T/out1/recall-list.xlsx" "$T/out2/recall-list.xlsx" && echo "recall list (CSV and XLSX) identical at 1 and 2 threads" || echo "WARNING: recall lists differ between thread counts"
exit 0
