#!/bin/bash
# tests/e2e/manifest_parts.sh — a large manifest is read in parts, in parallel; the rows and
# every message must be those of one reader going through the file (what -t 1 does):
#   - bad rows scattered through the file (wrong field count, bad dates, empty ids, unknown
#     feeding): the same messages in the same order, the same recall list and summary counts;
#   - quoted fields with line breaks inside (a part may end inside one: the file is then read
#     again in one piece): same again, for several file sizes so that both cases occur.
# With 2 threads `run` reads the manifest beside the plates (cmd_run.c, manifest_job): in
# the scattered variant a plate is also quarantined, and every message of the run (the
# manifest's, the plate's, QC, the counts) must come out in the order -t 1 gives.
# Prints "ok - NAME" / "not ok - NAME: why".
set -u
NS=${NS:-$PWD/neoscreen}
PY=/usr/bin/python3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
ok() { echo "ok - $1"; }
nok() { echo "not ok - $1: $2"; }

"$NS" simulate -v 0 -o "$T/n" -n 40000 -s 5 --no-hearing > /dev/null 2>&1
for variant in scattered multiline:0 multiline:1 multiline:2 multiline:3 multiline:4 multiline:5; do
    rm -rf "$T/v"; cp -r "$T/n" "$T/v"
    $PY - "$T/v/manifest.csv" "$variant" <<'PYEOF'
import csv, io, random, sys
path, variant = sys.argv[1], sys.argv[2]
rows = list(csv.reader(open(path, newline="", encoding="utf-8")))
hdr, body = rows[0], rows[1:]
h = hdr.index("hospital")
rnd = random.Random(7)
if variant == "scattered":
    for i in range(0, len(body), 997):
        kind = (i // 997) % 4
        if kind == 0: body[i] = body[i][:-2]                                   # short row
        elif kind == 1: body[i][hdr.index("birth_time")] = "2026-13-45T99:99"   # bad date
        elif kind == 2: body[i][hdr.index("infant_id")] = ""                    # empty id
        else: body[i][hdr.index("feeding")] = "soup"                             # unknown feeding
else:
    extra = int(variant.split(":")[1])
    body = body[: len(body) - extra]
    for r in body:
        r[h] = r[h] + "\nWard " + str(rnd.randint(1, 9)) + ", " + "east wing " * rnd.randint(1, 12)   # a line break inside quotes
out = io.StringIO()
csv.writer(out, lineterminator="\n").writerows([hdr] + body)
open(path, "w", encoding="utf-8").write(out.getvalue())
PYEOF
    if [ "$variant" = scattered ]; then     # a plate with a cell that is no number: quarantined
        p=$(ls "$T/v/plates" | sed -n 3p)
        sed -i '5s/,[0-9.]*,/,12x5,/' "$T/v/plates/$p"
    fi
    echo "$variant" > "$T/variant"
    "$NS" run -v 1 -t 1 --no-ledger -o "$T/o1" "$T/v" > /dev/null 2> "$T/e1"
    r1=$?
    "$NS" run -v 1 -t 2 --no-ledger -o "$T/o2" "$T/v" > /dev/null 2> "$T/e2"
    r2=$?
    same=$($PY - "$T" <<'PYEOF'
import json, re, sys
T = sys.argv[1]
def msgs(p):   # the run's messages about the manifest, in order (timing lines dropped)
    return [l for l in open(p, encoding="utf-8") if "manifest.csv:" in l]
def every(p):  # every message but the thread count and the times, in order
    out = []
    for l in open(p, encoding="utf-8"):
        if "[M::main::" in l or "threads" in l: continue
        l = re.sub(r"^\[M::([a-z]+)::[0-9.]+\*[0-9.]+\] ", r"[\1] ", l)
        out.append(l.replace(f"{T}/o1", "OUT").replace(f"{T}/o2", "OUT"))
    return out
bad = []
if msgs(f"{T}/e1") != msgs(f"{T}/e2"): bad.append("messages differ")
if every(f"{T}/e1") != every(f"{T}/e2"): bad.append("the run's messages differ or come in another order")
if not any("plate quarantined" in l for l in every(f"{T}/e1")) and "scattered" in open(f"{T}/variant").read():
    bad.append("no plate was quarantined")
if open(f"{T}/o1/recall-list.csv", "rb").read() != open(f"{T}/o2/recall-list.csv", "rb").read(): bad.append("recall list differs")
s1, s2 = json.load(open(f"{T}/o1/summary.json")), json.load(open(f"{T}/o2/summary.json"))
for k in ("states", "manifest"):
    if s1.get(k) != s2.get(k): bad.append(k + " differ")
print("; ".join(bad) if bad else "same %d" % len(msgs(f"{T}/e1")))
PYEOF
)
    if [ "$r1" = "$r2" ] && [ "${same%% *}" = "same" ]; then
        ok "manifest parts ($variant): the same ${same#same } manifest messages, list and counts at 1 and 2 threads"
    else nok "manifest parts ($variant)" "rc $r1/$r2: $same"; fi
done
