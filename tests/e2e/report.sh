#!/bin/bash
# tests/e2e/report.sh — the batch report (report.html) of simulated nights:
#   - `run` writes it; it is well-formed (xmllint: strict XML, and the HTML parser reports
#     nothing but the HTML5/SVG element names its HTML 4 tables do not know), self-contained
#     (no script, no external URL), lang and charset set;
#   - it shows the night: the plate rejected by QC (rule named) to re-run, the quarantined
#     file with its reason, Levey-Jennings charts with the earlier night's plates, cutoff
#     lines, recalls per condition with the recent average, hearing refer rates;
#   - `neoscreen report` rebuilds it byte for byte from the archives alone (with and without
#     history), and `run` gives the same bytes at 1 and 2 threads;
#   - its last section holds the follow-up ledger's indicators (month and quarter of the
#     night, as of NS_NOW): `report --ledger` rebuilds it byte for byte; without --ledger
#     `report` gives the page without that section; `run --no-ledger` says it has no
#     ledger, the rest unchanged (and `report --no-ledger` rebuilds that page); a ledger
#     that is missing, damaged or locked is refused by `report --ledger`, naming it;
#   - no name or phone of the manifest in the default page (mode 0644); with names (run
#     --report-names, report --with-names -m): the names are there and the file is 0600;
#   - an archive without the parts added for the report (older archive) still gives a page
#     that says "not recorded"; a file that is not an archive is refused, naming it;
#   - a report that cannot be written costs no other output (exit bit 16, summary.json);
#   - labels follow --lang (zh);
#   - rendered in headless Chromium to PNG (en and zh): not blank, the QC colours drawn, the
#     zh page differs from the en one, and the Chinese title renders as glyphs — not as the
#     boxes ("tofu") of characters no font has: checked against private-use characters,
#     and shown to catch tofu with the CJK fonts hidden.  Skipped (not failed) without
#     Chromium.
# Prints "ok - NAME" / "not ok - NAME: why" (skips: "ok - NAME # SKIP why").
set -u
NS=${NS:-$PWD/neoscreen}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3
PNG="$PY $ROOT/tests/e2e/png_stats.py"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# the indicators section is "as of" the ledger's now: one now for every run and report
export NS_NOW=2026-11-24T08:00:00
unset NEOSCREEN_LEDGER
ok() { echo "ok - report: $1"; }
nok() { echo "not ok - report: $1: $2"; }
check() { local name=$1; shift; if "$@" > /dev/null 2>&1; then ok "$name"; else nok "$name" "$*"; fi; }

# two nights: the earlier one is history for the later one, which has a plate whose high
# control is 4 SD off on C3 (1-3s: rejected) and a malformed plate file (quarantined)
"$NS" simulate -v 0 -o "$T/n1" -n 600 -s 21 --night 2026-11-20 --every-condition --genes > /dev/null 2>&1
"$NS" simulate -v 0 -o "$T/n2" -n 600 -s 22 --night 2026-11-21 --every-condition --genes \
    --qc-shift qc_high:C3:4:2 > /dev/null 2>&1
cp "$ROOT/tests/bad-input/24.reject.non-numeric-cell.csv" "$T/n2/plates/P20261121-9999.csv"
# and a manifest row without an infant_id (rejected; the rest of the manifest is used)
$PY - "$T/n2/manifest.csv" <<'PYEOF'
import sys
p = sys.argv[1]
lines = open(p, encoding="utf-8").read().splitlines()
f = lines[-1].split(",")
f[0], f[1] = "S-NO-INFANT", ""
open(p, "a", encoding="utf-8").write(",".join(f) + "\n")
PYEOF
# the earlier night in a ledger of its own, so that its page can be rebuilt as it was;
# the later one (and every run of it below) in the default $T/ledger.sqlite
"$NS" run -v 0 -t 2 -n 2026-11-20 --ledger "$T/l1.sqlite" -o "$T/o1" "$T/n1" > /dev/null 2> "$T/o1.err"
"$NS" run -v 0 -t 2 -n 2026-11-21 -H "$T/o1" -o "$T/o2" "$T/n2" > /dev/null 2> "$T/o2.err"
rc=$?
R="$T/o2/report.html"
if [ -s "$R" ] && [ $((rc & 16)) -eq 0 ] && [ $((rc & 4)) -eq 4 ] && [ $((rc & 2)) -eq 2 ]; then
    ok "run writes report.html (exit $rc: QC hold and quarantine bits, no output failure)"
else nok "run writes report.html" "rc=$rc $(ls "$T/o2" | tr '\n' ' ') $(head -c 300 "$T/o2.err")"; fi
check "report.html is mode 0644 (no personal data)" test "$(stat -c %a "$R")" = 644
check "summary.json: report written, the earlier night's archive named" \
    $PY -c 'import json,sys; r=json.load(open(sys.argv[1]))["report"]; sys.exit(not (r["written"] and not r["names"] and r["history_nights"]==1 and r["history_archives"]==[sys.argv[2]]))' "$T/o2/summary.json" "$T/o1/batch.h5"

# well-formed and self-contained
xmllint --noout "$R" 2> "$T/xml.err"
check "report.html is well-formed XML (xmllint --noout)" test ! -s "$T/xml.err"
xmllint --html --noout "$R" 2> "$T/html.err"
grep -a 'error' "$T/html.err" | grep -av 'Tag \(section\|svg\|title\|line\|polyline\|circle\|rect\|text\|figure\|figcaption\) invalid' > "$T/html.bad"
check "xmllint --html: no error but the HTML5/SVG tag names it does not know" test ! -s "$T/html.bad"
check "no script, no external resource" bash -c "! grep -aqiE '<script|<link |src=|href=|url\\(|@import' '$R'"
check "lang and charset set" bash -c "grep -q '<html lang=\"en\">' '$R' && grep -q '<meta charset=\"utf-8\"/>' '$R'"

# what it shows
check "rejected plate listed to re-run with its rule" grep -q '<td>1-3s C3 qc_high</td>' "$R"
check "quarantined file listed with its reason" grep -q "<td>P20261121-9999.csv</td><td>$T/n2/plates/P20261121-9999.csv:[0-9]*:[0-9]*: " "$R"
check "manifest with a rejected row listed, counts only" grep -q '<td>manifest.csv</td><td>1 rows rejected (see the run log)</td>' "$R"
check "Levey-Jennings chart of C3 high control marks 1-3s" grep -q '<text x="[0-9.]*" y="[0-9.]*" text-anchor="middle" class="rule">[^<]*1-3s[^<]*</text>' "$R"
check "Levey-Jennings charts carry the earlier night's plates" grep -q '<title>2026-11-20 P20261120-0001: ' "$R"
check "mean and 3 SD lines drawn" bash -c "grep -q 'class=\"mean\"' '$R' && grep -q 'class=\"sd3\"' '$R'"
check "cutoff lines on the distributions (Phe: PKU)" grep -q 'class="cut".*<title>PKU cutoff &gt;' "$R"
check "recalls per condition against the recent average (1 earlier night)" grep -q 'Average over 1 earlier nights' "$R"
check "hearing refer rates" grep -q 'initial screen: refer</td><td class="n">[0-9]* of [0-9]* (' "$R"

# the same page from the archives alone, and at another thread count
hist=$($PY -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))["report"]["history_archives"]))' "$T/o2/summary.json")
"$NS" report -v 0 --ledger "$T/ledger.sqlite" -o "$T/r2.html" $hist "$T/o2/batch.h5" 2> "$T/r2.err"
check "report ARCHIVE... rebuilds run's report.html byte for byte (with history)" cmp "$R" "$T/r2.html"
"$NS" report -v 0 --ledger "$T/l1.sqlite" -o "$T/r1dir" "$T/o1/batch.h5" 2> "$T/r1.err"
check "report ARCHIVE -o DIR rebuilds it byte for byte (no history)" cmp "$T/o1/report.html" "$T/r1dir/report.html"
"$NS" run -v 0 -t 1 -n 2026-11-21 -H "$T/o1" -o "$T/o2t1" "$T/n2" > /dev/null 2>&1
check "same report.html at 1 and 2 threads" cmp "$R" "$T/o2t1/report.html"

# the follow-up ledger's indicators, the page's last section
check "indicators section last: month 2026-11 and quarter 2026-Q4 of the night, as of NS_NOW, from the ledger" "$PY" -c "
import re, sys
page = open(sys.argv[1], encoding='utf-8').read()
sec = page[page.index('<section id=\"indicators\">'):]
assert sec.startswith('<section id=\"indicators\">\n<h2>Programme indicators (follow-up ledger)</h2>')
assert 'as of 2026-11-24T08:00:00' in sec and '<th>2026-11</th><th>2026-Q4</th>' in sec
assert re.search('data-period=\"2026-Q4\" data-indicator=\"cards_screened\" data-condition=\"\" data-num=\"[1-9]', sec)
assert sec.endswith('</section>\n</body>\n</html>\n') and sec.count('<section') == 1" "$R"
"$NS" report -v 0 -o "$T/r2plain.html" $hist "$T/o2/batch.h5" 2> /dev/null
check "report without --ledger: run's page without the indicators section, byte for byte" "$PY" -c "
import sys
page, plain = (open(p, 'rb').read() for p in sys.argv[1:3])
head, sec = page.split(b'<section id=\"indicators\">')
assert b'id=\"indicators\"' not in plain and plain == head + b'</body>\n</html>\n'" "$R" "$T/r2plain.html"
"$NS" run -v 0 -t 2 -n 2026-11-21 -H "$T/o1" --no-ledger -o "$T/o2nl" "$T/n2" > /dev/null 2>&1
check "run --no-ledger: the section says so, no indicators; everything before it the same" "$PY" -c "
import sys
a, b = (open(p, encoding='utf-8').read().split('<section id=\"indicators\">') for p in sys.argv[1:3])
assert a[0] == b[0] and 'This run kept no follow-up ledger (--no-ledger): no indicators.' in b[1] and 'data-indicator' not in b[1]
assert b[1].endswith('</section>\n</body>\n</html>\n')" "$R" "$T/o2nl/report.html"
"$NS" report -v 0 --no-ledger -o "$T/r2nl.html" $hist "$T/o2/batch.h5" 2> /dev/null
check "report --no-ledger rebuilds run --no-ledger's page byte for byte" cmp "$T/o2nl/report.html" "$T/r2nl.html"
"$NS" report -v 0 --ledger "$T/l1.sqlite" -o "$T/r2other.html" $hist "$T/o2/batch.h5" 2> "$T/r2other.err"; rc=$?
check "report --ledger of a ledger without the night: exit 0, the section says so, stderr too" \
    bash -c "[ $rc -eq 0 ] && grep -q 'not recorded in the follow-up ledger given: no indicators' '$T/r2other.html' \
             && grep -q '$T/l1.sqlite: night 2026-11-21 is not recorded' '$T/r2other.err'"
"$NS" report -v 0 --ledger "$T/none.sqlite" -o "$T/x1.html" "$T/o2/batch.h5" 2> "$T/x1.err"; rc=$?
check "report --ledger FILE missing: exit 1, the file named, nothing written, no ledger created" \
    bash -c "[ $rc -eq 1 ] && grep -q 'follow-up ledger: $T/none.sqlite: cannot open the ledger' '$T/x1.err' \
             && [ ! -e '$T/x1.html' ] && [ ! -e '$T/none.sqlite' ]"
head -c 8192 /dev/urandom > "$T/bad.sqlite"
"$NS" report -v 0 --ledger "$T/bad.sqlite" -o "$T/x2.html" "$T/o2/batch.h5" 2> "$T/x2.err"; rc=$?
check "report --ledger FILE damaged: exit 1, the file named as damaged, nothing written" \
    bash -c "[ $rc -eq 1 ] && grep -q '$T/bad.sqlite: .*damaged' '$T/x2.err' && [ ! -e '$T/x2.html' ]"
cp "$T/ledger.sqlite" "$T/locked.sqlite"
$PY - "$T/locked.sqlite" "$T/locked.ready" <<'PYEOF' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("PRAGMA locking_mode=EXCLUSIVE")      # keeps readers out even in WAL mode
c.execute("BEGIN EXCLUSIVE")
c.execute("INSERT INTO schema_version VALUES (0, 'lock')")
open(sys.argv[2], "w").close()
time.sleep(4)
c.execute("ROLLBACK")
PYEOF
holder=$!
for i in $(seq 50); do [ -e "$T/locked.ready" ] && break; sleep 0.1; done
NS_LEDGER_BUSY_MS=300 "$NS" report -v 0 --ledger "$T/locked.sqlite" -o "$T/x3.html" "$T/o2/batch.h5" 2> "$T/x3.err"; rc=$?
wait $holder
check "report --ledger FILE locked: exit 1, the file named as locked, nothing written" \
    bash -c "[ $rc -eq 1 ] && grep -q '$T/locked.sqlite: .*locked' '$T/x3.err' && [ ! -e '$T/x3.html' ]"
# a damaged ledger for run: exit bit 32, the page complete but for its indicators
"$NS" run -v 0 -t 2 -n 2026-11-21 -H "$T/o1" --ledger "$T/bad.sqlite" -o "$T/o2bad" "$T/n2" > /dev/null 2>&1; rc=$?
check "run with a damaged ledger: exit bit 32, report.html well-formed, the same up to the section, which says so" "$PY" -c "
import subprocess, sys
assert int(sys.argv[3]) & 32
a, b = (open(p, encoding='utf-8').read().split('<section id=\"indicators\">') for p in sys.argv[1:3])
assert a[0] == b[0] and 'could not be updated or read for this night' in b[1] and 'data-indicator' not in b[1]
subprocess.run(['xmllint', '--noout', sys.argv[2]], check=True)" "$R" "$T/o2bad/report.html" "$rc"

# personal data: none by default; names only when asked for, then 0600
$PY - "$T/n2/manifest.csv" > "$T/pd.txt" <<'PYEOF'
import csv, sys
for r in csv.DictReader(open(sys.argv[1], encoding="utf-8-sig")):
    for k in ("mother_name", "contact_phone"):
        if r[k].strip(): print(r[k].strip())
PYEOF
check "the simulated night has names and phones to look for" test "$(wc -l < "$T/pd.txt")" -gt 500
check "no name or phone of the manifest in the default report" bash -c "! grep -aqFf '$T/pd.txt' '$R'"
check "no name or phone in the report rebuilt from archives" bash -c "! grep -aqFf '$T/pd.txt' '$T/r2.html'"
"$NS" run -v 0 -t 2 -n 2026-11-21 -H "$T/o1" --report-names -o "$T/o2n" "$T/n2" > /dev/null 2> "$T/o2n.err"
listed=$($PY - "$T/o2n/recall-list.csv" <<'PYEOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8-sig")))
print(next(r["mother_name"] for r in rows if r["mother_name"]).lstrip("'"))
PYEOF
)
check "run --report-names: names of listed babies in the page" grep -aqF "<td>$listed</td>" "$T/o2n/report.html"
check "run --report-names: report.html is mode 0600" test "$(stat -c %a "$T/o2n/report.html")" = 600
check "names never on stderr" bash -c "! grep -aqFf '$T/pd.txt' '$T/o2n.err'"
"$NS" report -v 0 --with-names -m "$T/n2/manifest.csv" --ledger "$T/ledger.sqlite" -o "$T/r2n.html" "$T/o1/batch.h5" \
    "$T/o2/batch.h5" 2> "$T/r2n.err"
check "report --with-names -m: same page as run --report-names, mode 0600" \
    bash -c "cmp '$T/o2n/report.html' '$T/r2n.html' && test \$(stat -c %a '$T/r2n.html') = 600"
"$NS" report -v 0 --with-names -o "$T/x.html" "$T/o2/batch.h5" > /dev/null 2> "$T/wn.err"; rc=$?
check "report --with-names without a manifest is refused (exit 1)" bash -c "[ $rc -eq 1 ] && grep -q 'needs the night' '$T/wn.err' && [ ! -e '$T/x.html' ]"

# an archive without what the report added, and a file that is not an archive
cp "$T/o2/batch.h5" "$T/old.h5"
$PY - "$T/old.h5" <<'PYEOF'
import h5py, sys
with h5py.File(sys.argv[1], "r+") as f:
    for a in ("infants", "initial_screened", "initial_refer", "rescreened", "rescreen_refer"):
        del f["/hearing/records"].attrs[a]
    del f["/followup"]
PYEOF
"$NS" report -v 0 -o "$T/old.html" "$T/old.h5" 2> "$T/old.err"; rc=$?
check "older archive (no hearing counts, no /followup): a page saying not recorded" \
    bash -c "[ $rc -eq 0 ] && grep -q 'not recorded in this archive' '$T/old.html' && grep -q 'recall list not recorded' '$T/old.html'"
"$NS" report -v 0 -o "$T/twice.html" "$T/o2/batch.h5" "$T/o2/../o2/batch.h5" > /dev/null 2> "$T/twice.err"; rc=$?
check "the same archive twice is refused (a night is not its own history)" \
    bash -c "[ $rc -eq 1 ] && grep -q 'are the same file' '$T/twice.err' && [ ! -e '$T/twice.html' ]"
"$NS" report -v 0 -o "$T/bad.html" "$T/n2/manifest.csv" > /dev/null 2> "$T/bad.err"; rc=$?
check "not an archive: exit 1, the file named, nothing written" \
    bash -c "[ $rc -eq 1 ] && grep -q '$T/n2/manifest.csv' '$T/bad.err' && [ ! -e '$T/bad.html' ]"

# a report that cannot be written: the other outputs are complete, bit 16, summary says so
mkdir -p "$T/o3/report.html/x"
"$NS" run -v 0 -t 2 -n 2026-11-21 -o "$T/o3" "$T/n2" > /dev/null 2> "$T/o3.err"; rc=$?
"$NS" run -v 0 -t 2 -n 2026-11-21 -o "$T/o3ref" "$T/n2" > /dev/null 2>&1
if [ $((rc & 16)) -eq 16 ] && grep -q "report.html" "$T/o3.err" && cmp -s "$T/o3/recall-list.csv" "$T/o3ref/recall-list.csv" \
   && [ -s "$T/o3/batch.h5" ] && [ -s "$T/o3/plates-to-rerun.csv" ] \
   && $PY -c 'import json,sys; s=json.load(open(sys.argv[1])); sys.exit(not (s["report"]["written"] is False and "output: a file could not be written" in s["exit_reasons"]))' "$T/o3/summary.json"; then
    ok "a report that cannot be written: exit bit 16, named, every other output complete, summary.json says so"
else nok "report write failure" "rc=$rc $(head -c 300 "$T/o3.err")"; fi

# language
"$NS" run -v 0 -t 2 -n 2026-11-21 -H "$T/o1" -L zh -o "$T/o2zh" "$T/n2" > /dev/null 2>&1
Z="$T/o2zh/report.html"
check "--lang zh: html lang zh, Chinese headings" bash -c "grep -q '<html lang=\"zh\">' '$Z' && grep -q '批次报告' '$Z' && grep -q '板质控' '$Z' \
    && grep -q '<h2>筛查质量指标（随访数据库）</h2>' '$Z'"
"$NS" report -v 0 -L zh --ledger "$T/ledger.sqlite" -o "$T/r2zh.html" "$T/o1/batch.h5" "$T/o2/batch.h5" 2> /dev/null
check "report -L zh rebuilds the zh page byte for byte" cmp "$Z" "$T/r2zh.html"

# Levey-Jennings history: 15 plates of an earlier night (600 controls), then tonight's 20
# plates (800) added after them.  The join leaves room for tonight's controls (a run under
# ASan once wrote past it here: 513..767 history controls and more than 256 tonight).  Each
# night's points are all on the page: as many as on its own page.
"$NS" simulate -v 0 -o "$T/h1" -n 1395 -s 3 --night 2026-11-01 > /dev/null 2>&1
"$NS" simulate -v 0 -o "$T/h2" -n 1860 -s 4 --night 2026-11-02 > /dev/null 2>&1
"$NS" run -v 0 --no-ledger -n 2026-11-01 -o "$T/ho1" "$T/h1" > /dev/null 2>&1
"$NS" run -v 0 --no-ledger -n 2026-11-02 -o "$T/ho2a" "$T/h2" > /dev/null 2>&1
"$NS" run -v 0 --no-ledger -n 2026-11-02 -H "$T/ho1" -o "$T/ho2" "$T/h2" > /dev/null 2> "$T/ho2.err"
rc=$?
ljpts() { sed -n '/<section id="levey-jennings">/,/<\/section>/p' "$1" | grep -o "<title>$2 P[^<]*</title></circle>" | wc -l; }
n1=$(ljpts "$T/ho1/report.html" 2026-11-01); n2=$(ljpts "$T/ho2a/report.html" 2026-11-02)
h1=$(ljpts "$T/ho2/report.html" 2026-11-01); h2=$(ljpts "$T/ho2/report.html" 2026-11-02)
if [ $rc -lt 128 ] && [ $((rc & 17)) -eq 0 ] && [ "$n1" -ge 600 ] && [ "$h1" = "$n1" ] && [ "$h2" = "$n2" ] && [ "$n2" -ge 800 ]; then
    ok "Levey-Jennings with 600 history controls and 800 of tonight: every point of both nights (rc $rc)"
else nok "Levey-Jennings history join" "rc=$rc history $h1 of $n1, tonight $h2 of $n2; $(head -c 300 "$T/ho2.err")"; fi

# rendered in headless Chromium
# $CHROMIUM names the browser; set empty, it is taken as absent (to try the skip)
CHROMIUM=${CHROMIUM-$(command -v chromium || command -v chromium-browser || true)}
if [ -z "$CHROMIUM" ]; then
    echo "ok - report: screenshot tests # SKIP chromium not installed (scripts/install-deps.sh --report-test installs it)"
    exit 0
fi
shot() {   # HTML PNG WIDTH,HEIGHT [env...]: a screenshot; chromium never touches the network
    local u; u=$(mktemp -d "$T/chr.XXXXXX")
    env "${@:4}" timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking \
        --no-first-run --disable-sync --disable-extensions --user-data-dir="$u" \
        --screenshot="$2" --window-size="$3" "file://$1" > "$T/chromium.log" 2>&1
}
stat_of() { $PNG "$@" 2>&1; }
field() { $PY -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2" 2>/dev/null; }

shot "$R" "$T/en.png" 1280,2400
shot "$Z" "$T/zh.png" 1280,2400
en=$(stat_of "$T/en.png"); zh=$(stat_of "$T/zh.png")
check "en screenshot: a PNG of the page, not blank (>5% non-white, >50 colours)" \
    $PY -c 'import json,sys; s=json.loads(sys.argv[1]); sys.exit(not (s["height"]==2400 and s["nonwhite_share"]>0.05 and s["colours"]>50))' "$en"
check "zh screenshot: not blank" \
    $PY -c 'import json,sys; s=json.loads(sys.argv[1]); sys.exit(not (s["nonwhite_share"]>0.05 and s["colours"]>50))' "$zh"
check "zh screenshot differs from en" test "$(field "$en" sha256)" != "$(field "$zh" sha256)"
# the rejected plate's row and the critical card are drawn in their colours (#f8d3cf, #fbe3e1)
$PY - "$T/en.png" "$ROOT/tests/e2e" > "$T/red.txt" <<'PYEOF'
import sys
sys.path.insert(0, sys.argv[2])
from png_stats import decode
w, h, bpp, rows = decode(sys.argv[1])
print(sum(1 for y in range(h) for x in range(0, w * bpp, bpp) if rows[y][x:x + 3] == b"\xf8\xd3\xcf"))
PYEOF
check "QC colours drawn: pixels of the rejected plate's red (#f8d3cf)" test "$(cat "$T/red.txt")" -gt 200

# the Chinese title as glyphs, not tofu: the same text against private-use characters
# (no font has them: drawn as empty boxes), each in the page's own font stack
title=$(sed -n 's|^<h1>\(.*\) — .*</h1>$|\1|p' "$Z")
css=$(sed -n 's|^body{font-family:\([^;]*\);.*|\1|p' "$Z")
probe() { printf '<!DOCTYPE html><html lang="zh"><head><meta charset="utf-8"/><style>body{margin:10px;font-size:48px;font-family:%s}</style></head><body>%s</body></html>\n' "$css" "$1" > "$2"; }
probe "$title" "$T/cjk.html"
probe "$(printf '\xee\x80\x80\xee\x80\x81\xee\x80\x82\xee\x80\x83')" "$T/pua.html"
shot "$T/cjk.html" "$T/cjk.png" 800,200
shot "$T/pua.html" "$T/pua.png" 800,200
c=$(stat_of "$T/cjk.png"); p=$(stat_of "$T/pua.png")
if [ -n "$title" ] && [ "$(field "$c" sha256)" != "$(field "$p" sha256)" ] && [ "$(field "$c" nonwhite)" -gt 500 ] 2>/dev/null; then
    ok "the zh title ($title) renders as glyphs, not as tofu boxes"
else nok "CJK glyphs" "title='$title' cjk=$c pua=$p (install fonts-noto-cjk)"; fi
# negative control: with only DejaVu visible to fontconfig, the same check sees tofu
mkdir -p "$T/fc"
cat > "$T/fonts.conf" <<EOF
<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><dir>/usr/share/fonts/truetype/dejavu</dir><cachedir>$T/fc</cachedir></fontconfig>
EOF
if [ -d /usr/share/fonts/truetype/dejavu ]; then
    shot "$T/cjk.html" "$T/cjk0.png" 800,200 FONTCONFIG_FILE="$T/fonts.conf"
    shot "$T/pua.html" "$T/pua0.png" 800,200 FONTCONFIG_FILE="$T/fonts.conf"
    c0=$(stat_of "$T/cjk0.png"); p0=$(stat_of "$T/pua0.png")
    if [ "$(field "$c0" sha256)" = "$(field "$p0" sha256)" ]; then
        ok "the glyph check catches tofu: with the CJK fonts hidden the title draws as the private-use boxes"
    else nok "glyph check negative control" "cjk0=$c0 pua0=$p0"; fi
else
    echo "ok - report: glyph check negative control # SKIP no /usr/share/fonts/truetype/dejavu"
fi
