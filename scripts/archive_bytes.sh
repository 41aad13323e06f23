#!/bin/bash
# archive_bytes.sh — meet batch.h5 written with other bytes for the same night.
#
# Found 2026-12-02 (BENCHMARKS.md, eighteenth session): a night run again now and then gave
# a batch.h5 with the same datasets and attributes but one deflated chunk encoded otherwise
# (the same data, a few bytes longer or shorter), and the addresses after it moved.  The
# cause (nineteenth session): igzip (ISA-L 2.30) hashed the address of its stream state
# once per chunk, so the encoding followed address-space randomisation, about one process
# in 3,000 for a given chunk; pipeline/zdeflate.c now places that state where the hash is
# the same in every process.  This script checks that nothing of the kind is left: for each
# round, a fresh directory and the 6,000-card night, then RUNS runs into one output
# directory; it stops at the first round whose archives differ, keeps two of them and says
# which chunks differ (h5py).  Before the fix about one round in 10 to 80 met it on the
# 2-core development VM (round 21 for the last binary without it); after it, none in 750.
#
# Usage: scripts/archive_bytes.sh [-r ROUNDS] [-k RUNS] [-t THREADS] [-o KEEP_DIR]
#        defaults: -r 100 -k 6 -t 2 -o /tmp/archive-bytes
# Exit 0 when no round met it, 1 when one did (the two archives kept), 2 on a usage error.
set -u
NS=${NS:-$(cd "$(dirname "$0")/.." && pwd)/neoscreen}
PY=/usr/bin/python3
rounds=100 runs=6 threads=2 keep=/tmp/archive-bytes
usage() { sed -n '2,/^set -u/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
while getopts "r:k:t:o:h" o; do
    case $o in
    r) rounds=$OPTARG ;; k) runs=$OPTARG ;; t) threads=$OPTARG ;; o) keep=$OPTARG ;;
    h) usage; exit 0 ;; *) usage >&2; exit 2 ;;
    esac
done
[ -x "$NS" ] || { echo "archive_bytes.sh: no neoscreen at $NS (make first)" >&2; exit 2; }
export NS_NOW=2026-11-24T08:00:00      # report.html's indicators as of one time
for r in $(seq "$rounds"); do
    T=$(mktemp -d)
    "$NS" simulate -v 0 -o "$T/n" -n 6000 -s 17 --every-condition > /dev/null 2>&1
    first=""
    for k in $(seq "$runs"); do
        "$NS" run -v 0 -t "$threads" -o "$T/k" "$T/n" > /dev/null 2>&1
        m=$(md5sum < "$T/k/batch.h5" | cut -c1-32)
        if [ -z "$first" ]; then first=$m; cp "$T/k/batch.h5" "$T/first.h5"; continue; fi
        if [ "$m" != "$first" ]; then
            mkdir -p "$keep"
            cp "$T/first.h5" "$keep/run1.h5"
            cp "$T/k/batch.h5" "$keep/run$k.h5"
            echo "round $r: run $k's batch.h5 is not run 1's (kept in $keep)"
            "$PY" - "$keep/run1.h5" "$keep/run$k.h5" <<'PYEOF'
import sys, zlib, h5py
a, b = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
def walk(g, h, path):
    for k in g:
        if isinstance(g[k], h5py.Group):
            walk(g[k], h[k], path + "/" + k)
            continue
        d, e = g[k], h[k]
        if d.chunks is None:
            continue
        for i in range(d.id.get_num_chunks()):
            at = d.id.get_chunk_info(i).chunk_offset
            x, y = d.id.read_direct_chunk(at)[1], e.id.read_direct_chunk(at)[1]
            if x != y:
                same = zlib.decompress(x) == zlib.decompress(y) if d.compression else x == y
                print("  %s%s chunk %s: %d and %d bytes, %s" % (path, "/" + k, at, len(x), len(y),
                      "the same data" if same else "OTHER DATA"))
walk(a, b, "")
PYEOF
            rm -rf "$T"
            exit 1
        fi
    done
    rm -rf "$T"
done
echo "no round of $rounds met it"
exit 0
