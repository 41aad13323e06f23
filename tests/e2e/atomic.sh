#!/bin/bash
# tests/e2e/atomic.sh — outputs are atomic and the output directory is locked:
#   - `run` killed with SIGKILL at 50 moments spread over its whole run (ingest, kernels,
#     writing): every output file present afterwards is complete — byte-identical to the
#     finished run's (summary.json: complete JSON, same counts) — never partial; only
#     temporary files may be left (NAME.tmp.PID, libxlsxwriter's tmp.XXXXXXXXXX), and the next
#     run removes them;
#   - a re-run after the kills gives byte-identical outputs and no temporary files;
#   - a run into a directory another process holds locked refuses with a clear message,
#     exit 16, and leaves the directory as it was; two runs started together: one writes,
#     the other refuses;
#   - a write that fails (file-size limit, as a full disk) and an output directory that
#     cannot be made: clear messages, non-zero exits, no partial or temporary file.
# Prints "ok - NAME" / "not ok - NAME: why" (an archive that differs from the finished
# run's is described: its first differing byte, and the objects whose values differ).
set -u
NS=${NS:-$PWD/neoscreen}
PY=/usr/bin/python3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# report.html ends with the follow-up ledger's indicators "as of" the ledger's now: one
# fixed now, so that every run's page is the same bytes (the night is recorded once)
export NS_NOW=2026-11-24T08:00:00
ok() { echo "ok - $1"; }
nok() { echo "not ok - $1: $2"; }

"$NS" simulate -v 0 -o "$T/n" -n 6000 -s 17 --every-condition > /dev/null 2>&1
# the finished run's outputs (batch.h5 records the command line: same -o as the trials)
"$NS" run -v 0 -t 2 -o "$T/k" "$T/n" > /dev/null 2>&1
ref_rc=$?
cp -r "$T/k" "$T/ref"
# compared byte for byte (batch.h5 too, by check_dir, which says where two archives differ)
outs="recall-list.csv recall-list.xlsx plates-to-rerun.csv report.html"
# how long a run takes here, to spread the kills over it: the shortest of three, so that
# one run slowed by other work on the machine does not put the late kills after the end
dur_ms=0
for k in 1 2 3; do
    t0=$(date +%s%N); "$NS" run -v 0 -t 2 -o "$T/k" "$T/n" > /dev/null 2>&1; t1=$(date +%s%N)
    d=$(( (t1 - t0) / 1000000 ))
    if [ "$dur_ms" -eq 0 ] || [ "$d" -lt "$dur_ms" ]; then dur_ms=$d; fi
done
[ "$dur_ms" -lt 50 ] && dur_ms=50

check_dir() {   # DIR -> prints what is wrong, nothing when every final file is complete
    "$PY" - "$1" "$T/ref" <<'PYEOF'
import json, os, sys
d, ref = sys.argv[1], sys.argv[2]
bad = []

def h5_diff(a, b):
    """where two archives differ: the first byte, and the objects whose values differ"""
    x, y = open(a, "rb").read(), open(b, "rb").read()
    at = next((i for i in range(min(len(x), len(y))) if x[i] != y[i]), min(len(x), len(y)))
    out = " (%d and %d bytes, first difference at byte %d" % (len(x), len(y), at)
    try:
        import h5py, numpy
        names = []
        with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
            def walk(g, h, path):
                for k in sorted(set(g.attrs) | set(h.attrs)):
                    if k not in g.attrs or k not in h.attrs or not numpy.array_equal(g.attrs[k], h.attrs[k]):
                        names.append(path + "@" + k)
                for k in sorted(set(g) | set(h)):
                    if k not in g or k not in h:
                        names.append(path + "/" + k + " (in one only)")
                    elif isinstance(g[k], h5py.Group):
                        walk(g[k], h[k], path + "/" + k)
                    else:
                        if g[k].shape != h[k].shape or g[k].dtype != h[k].dtype or g[k][()].tobytes() != h[k][()].tobytes():
                            names.append(path + "/" + k)
                        walk_attrs(g[k], h[k], path + "/" + k)
            def walk_attrs(g, h, path):
                for k in sorted(set(g.attrs) | set(h.attrs)):
                    if k not in g.attrs or k not in h.attrs or not numpy.array_equal(g.attrs[k], h.attrs[k]):
                        names.append(path + "@" + k)
            walk(fa, fb, "")
        out += "; objects that differ: " + (", ".join(names[:8]) if names else "none, the bytes only")
    except Exception as e:
        out += "; not compared by object: %s" % type(e).__name__
    return out + ")"

for f in sorted(os.listdir(d)):
    p = os.path.join(d, f)
    if ".tmp." in f or (f.startswith("tmp.") and 10 <= len(f) <= 20):   # temporary: ours, libxlsxwriter's
        continue
    if f == "summary.json":
        try:
            a, b = json.load(open(p)), json.load(open(os.path.join(ref, f)))
            if a.get("states") != b.get("states"): bad.append("summary.json counts differ")
        except Exception as e:
            bad.append("summary.json torn (%s)" % type(e).__name__)
    elif not os.path.exists(os.path.join(ref, f)):
        bad.append("unexpected file " + f)
    elif open(p, "rb").read() != open(os.path.join(ref, f), "rb").read():
        # "none, the bytes only" in the message: the same objects, a chunk deflated in other
        # bytes (what igzip 2.30 did until zdeflate.c placed its stream state)
        why = h5_diff(p, os.path.join(ref, f)) if f.endswith(".h5") else ""
        bad.append(f + " differs from the finished run's" + why)
print("; ".join(bad))
PYEOF
}

# 1. SIGKILL at 50 moments
torn=""; killed=0; tmp_seen=0
for i in $(seq 1 50); do
    delay_ms=$(( (i - 1) * dur_ms * 90 / 100 / 49 ))
    "$NS" run -v 0 -t 2 -o "$T/k" "$T/n" > /dev/null 2>&1 &
    pid=$!
    sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
    kill -9 "$pid" 2> /dev/null && killed=$((killed + 1))
    wait "$pid" 2> /dev/null
    ls "$T/k" | grep -q '\.tmp\.\|^tmp\.' && tmp_seen=$((tmp_seen + 1))
    w=$(check_dir "$T/k")
    [ -n "$w" ] && torn="$torn [kill $i at ${delay_ms} ms: $w]"
    if [ $((i % 10)) -eq 0 ]; then rm -rf "$T/k"; cp -r "$T/ref" "$T/k"; fi
done
if [ -z "$torn" ] && [ "$killed" -ge 40 ]; then
    ok "atomic: 50 runs killed with SIGKILL over 0..$((dur_ms * 90 / 100)) ms of a ${dur_ms} ms run ($killed while running, $tmp_seen left a .tmp file): every output present was complete, batch.h5 the same bytes"
else nok "atomic: SIGKILL leaves only complete outputs" "killed=$killed$torn"; fi

# 2. a re-run after a kill: identical outputs, temporary files gone
"$NS" run -v 0 -t 2 -o "$T/k" "$T/n" > /dev/null 2>&1 &
pid=$!; sleep "$(printf '0.%03d' $(( dur_ms * 6 / 10 % 1000 )))"; kill -9 "$pid" 2> /dev/null; wait "$pid" 2> /dev/null
"$NS" run -v 0 -t 2 -o "$T/k" "$T/n" > /dev/null 2>&1
rc=$?
same=1
for f in $outs; do cmp -s "$T/k/$f" "$T/ref/$f" || same=0; done
if [ "$rc" -eq "$ref_rc" ] && [ "$same" -eq 1 ] && [ -z "$(ls "$T/k" | grep '\.tmp\.\|^tmp\.')" ] && [ -z "$(check_dir "$T/k")" ]; then
    ok "atomic: the run after a kill writes byte-identical outputs (batch.h5 too) and removes the temporary files"
else nok "atomic: re-run after a kill" "rc=$rc/$ref_rc same=$same $(ls "$T/k" | tr '\n' ' ')"; fi

# 3. the lock: a directory held by another process is refused, untouched
cp -r "$T/ref" "$T/l"
before=$(cd "$T/l" && ls -l --time-style=+%s.%N | md5sum)
flock "$T/l" sleep 3 &
holder=$!
sleep 0.3
"$NS" run -v 0 -o "$T/l" "$T/n" > /dev/null 2> "$T/l.err"
rc=$?
wait "$holder"
after=$(cd "$T/l" && ls -l --time-style=+%s.%N | md5sum)
if [ "$rc" -eq 16 ] && grep -q "another neoscreen run is writing into this output directory" "$T/l.err" && [ "$before" = "$after" ]; then
    ok "atomic: a locked output directory is refused (exit 16, clear message) and left as it was"
else nok "atomic: lock refused" "rc=$rc $(head -c 300 "$T/l.err")"; fi

# 4. two runs at once into one directory: one finishes, the other refuses
"$NS" run -v 0 -t 1 -o "$T/two" "$T/n" > /dev/null 2>&1
rm -rf "$T/ref"; mv "$T/two" "$T/ref"
"$NS" run -v 0 -t 1 -o "$T/two" "$T/n" > /dev/null 2> "$T/two1.err" & p1=$!
"$NS" run -v 0 -t 1 -o "$T/two" "$T/n" > /dev/null 2> "$T/two2.err" & p2=$!
wait "$p1"; r1=$?; wait "$p2"; r2=$?
refused=$(grep -l "another neoscreen run" "$T/two1.err" "$T/two2.err" | wc -l)
if [ "$refused" -le 1 ] && { [ "$r1" -eq "$ref_rc" ] || [ "$r2" -eq "$ref_rc" ]; } && [ -z "$(check_dir "$T/two")" ]; then
    ok "atomic: two runs started together into one directory: $((2 - refused)) wrote, $refused refused, outputs complete"
else nok "atomic: two runs at once" "rc=$r1/$r2 refused=$refused $(check_dir "$T/two")"; fi

# 5. a write that fails (a file-size limit below the archive's size, as a full disk would):
#    exit bit 16, the file named, no archive and no temporary file left, the other outputs
#    complete, summary.json saying an output failed
rm -rf "$T/full"
(trap '' XFSZ; ulimit -f 1024; "$NS" run -v 0 -t 2 -o "$T/full" "$T/n" > /dev/null 2> "$T/full.err")
rc=$?
if [ $((rc & 16)) -eq 16 ] && grep -q "cannot write HDF5 archive $T/full/batch.h5: .*File too large" "$T/full.err" \
   && [ ! -e "$T/full/batch.h5" ] && [ -z "$(ls "$T/full" | grep '\.tmp\.\|^tmp\.')" ] \
   && cmp -s "$T/full/recall-list.csv" "$T/ref/recall-list.csv" \
   && grep -q "output: a file could not be written" "$T/full/summary.json"; then
    ok "atomic: a write that fails (file-size limit) exits with bit 16, names batch.h5, leaves no partial or temporary file"
else nok "atomic: failing write" "rc=$rc $(ls "$T/full" | tr '\n' ' ') $(head -c 300 "$T/full.err")"; fi

# 6. an output directory that cannot be made: a clear message, exit 1, nothing written
: > "$T/afile"
"$NS" run -v 0 -o "$T/afile/out" "$T/n" > /dev/null 2> "$T/af.err"
rc=$?
if [ "$rc" -eq 1 ] && grep -q "cannot write into output directory $T/afile/out: Not a directory" "$T/af.err"; then
    ok "atomic: an output directory that cannot be created is refused with its reason (exit 1)"
else nok "atomic: bad output directory" "rc=$rc $(head -c 300 "$T/af.err")"; fi

# 7. one file of the recall list cannot be written (a directory where recall-list.csv goes;
#    the CSV is written beside the XLSX, on a thread of its own): its error is named, exit
#    bit 16, the XLSX and the other outputs complete
rm -rf "$T/csvdir"; mkdir -p "$T/csvdir/recall-list.csv"
"$NS" run -v 0 -t 2 -o "$T/csvdir" "$T/n" > /dev/null 2> "$T/csvdir.err"
rc=$?
if [ $((rc & 16)) -eq 16 ] && grep -q "recall-list.csv" "$T/csvdir.err" && [ -d "$T/csvdir/recall-list.csv" ] \
   && cmp -s "$T/csvdir/recall-list.xlsx" "$T/ref/recall-list.xlsx" && cmp -s "$T/csvdir/report.html" "$T/ref/report.html" \
   && [ -z "$(ls "$T/csvdir" | grep '\.tmp\.\|^tmp\.')" ] && grep -q "output: a file could not be written" "$T/csvdir/summary.json"; then
    ok "atomic: a recall-list.csv that cannot be written is named (exit bit 16); the XLSX and the other outputs are complete"
else nok "atomic: failing CSV beside the XLSX" "rc=$rc $(ls "$T/csvdir" | tr '\n' ' ') $(head -c 300 "$T/csvdir.err")"; fi
