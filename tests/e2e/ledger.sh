#!/bin/bash
# tests/e2e/ledger.sh — the follow-up ledger (issue 9): a simulated quarter whose indicators
# must equal the ones computed from the simulator's truth (ledger_quarter.py), an idempotent
# re-run, concurrent writers, a damaged and a locked ledger (the night's other outputs are
# still written), the import's all-or-nothing rule, every --help.
# Prints "ok - NAME" / "not ok - NAME: why".
set -u
NS=${NS:-$PWD/neoscreen}
PY=/usr/bin/python3
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
ok() { echo "ok - $1"; }
nok() { echo "not ok - $1: $2"; }
check() { local name=$1; shift; if "$@" > /dev/null 2>&1; then ok "$name"; else nok "$name" "failed: $*"; fi; }
json() { "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
sql() { "$PY" -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute(sys.argv[2]).fetchone()[0])" "$1" "$2"; }
unset NEOSCREEN_LEDGER

# ---- 1. the quarter ------------------------------------------------------------------
W="$T/q"
mkdir -p "$W"
"$PY" "$ROOT/tests/e2e/ledger_quarter.py" "$NS" "$W" || echo "# ledger_quarter.py exited $?"
DB="$W/ledger.sqlite"
[ -f "$DB" ] || { nok "the quarter made a ledger" "no $DB"; exit 1; }

# escalation raised the priority one step per escalation and made the action a referral
check "escalated cases: priority raised one step per escalation, action referral, due the report's day" "$PY" - "$DB" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
rows = c.execute("""SELECT c.priority, s.priority, s.action, s.due_by,
    (SELECT count(*) FROM events e WHERE e.case_id = c.id AND e.kind = 'escalated'),
    (SELECT substr(max(e.at), 1, 10) FROM events e WHERE e.case_id = c.id AND e.kind = 'escalated')
    FROM cases c JOIN case_state s ON s.case_id = c.id""").fetchall()
up = {"routine": "urgent", "urgent": "critical", "critical": "critical"}
esc = [r for r in rows if r[4] > 0]
assert len(esc) > 10, len(esc)
for p0, p, a, due, n, day in esc:
    want = p0
    for _ in range(n):
        want = up[want]
    assert (p, a, due) == (want, "referral", day), (p0, p, a, due, n, day)
EOF

# ---- 1b. the indicators in report.html: the figures of followup stats ---------------
# a night after the quarter, recorded in a copy of its ledger (confirmed cases, contacts,
# losses, repeats): report.html's section against `followup stats` for the month and the
# quarter that hold it, as of the same NS_NOW; `report --ledger` rebuilds the same page
IL="$T/ind.sqlite"
cp "$DB" "$IL"
"$NS" simulate -v 0 -o "$T/n1031" -n 300 --cases 2 --no-hearing --night 2026-10-31 -s 9031
NS_NOW=2026-11-02T08:00 "$NS" run -v 0 -t 1 --ledger "$IL" -n 2026-10-31 -o "$T/o1031" "$T/n1031" 2> "$T/o1031.err"
rc=$?
NS_NOW=2026-11-02T08:00 "$NS" followup stats -d "$IL" --from 2026-10-01 --to 2026-10-31 --by month -o "$T/ind-m.csv"
NS_NOW=2026-11-02T08:00 "$NS" followup stats -d "$IL" --from 2026-10-01 --to 2026-12-31 --by quarter -o "$T/ind-q.csv"
check "report.html indicators: every figure equals followup stats for 2026-10 and 2026-Q4 (exit $rc)" \
    "$PY" - "$T/o1031/report.html" "$T/ind-m.csv" "$T/ind-q.csv" <<'EOF'
import csv, re, sys
page = open(sys.argv[1], encoding="utf-8").read()
sec = page[page.index('<section id="indicators">'):]
assert 'as of 2026-11-02T08:00:00' in sec and '<th>2026-10</th><th>2026-Q4</th>' in sec, sec[:400]
cells = {}
for m in re.finditer(r'<td class="n" data-period="([^"]*)" data-indicator="([^"]*)" data-condition="([^"]*)"'
                     r'((?: data-(?:num|den|n)="\d+")*) data-value="([^"]*)">', sec):
    extra = dict(re.findall(r'data-(num|den|n)="(\d+)"', m.group(4)))
    key = m.group(1, 2, 3)
    assert key not in cells or cells[key] == (extra, m.group(5)), key
    cells[key] = (extra, m.group(5))
rows = list(csv.DictReader(open(sys.argv[2]))) + list(csv.DictReader(open(sys.argv[3])))
assert len(rows) > 40, len(rows)
want = {}
for r in rows:
    extra = {k: r[c] for k, c in (("num", "numerator"), ("den", "denominator"), ("n", "n")) if r[c] != ""}
    want[(r["period"], r["indicator"], r["condition"])] = (extra, r["value"])
assert cells == want, (sorted(set(cells) ^ set(want))[:5], [k for k in want if k in cells and cells[k] != want[k]][:5])
# a quarter worth comparing: confirmed cases with a PPV, completed recalls, contacts, losses
num = lambda p, i, c="": int(want[(p, i, c)][0]["num"])
assert num("2026-Q4", "ppv", "ALL") > 0 and num("2026-Q4", "recall_completion_rate") > 0
assert num("2026-Q4", "loss_to_follow_up_rate") > 0 and int(want[("2026-Q4", "median_days_report_to_first_contact", "")][0]["n"]) > 0
assert any(k[2] not in ("", "ALL") and k[1] == "ppv" and num(*k) > 0 for k in want)
EOF
NS_NOW=2026-11-02T08:00 "$NS" report -v 0 --ledger "$IL" -o "$T/r1031.html" "$T/o1031/batch.h5" 2> "$T/r1031.err"
check "report --ledger: the same page as run's report.html (same ledger, same NS_NOW)" cmp "$T/o1031/report.html" "$T/r1031.html"
check "summary.json: indicators shown, as of NS_NOW" \
    test "$(json "$T/o1031/summary.json" 'd["report"]["indicators"], d["ledger"]["indicators_as_of"]')" = "shown 2026-11-02T08:00:00"
check "report --ledger opened the ledger read-only: nothing recorded, no schema row added" \
    test "$(sql "$IL" "SELECT count(*) FROM batches")" = 61 -a "$(sql "$IL" "SELECT count(*) FROM schema_version")" = \
         "$(sql "$DB" "SELECT count(*) FROM schema_version")"

# ---- 2. idempotent: the same night again adds nothing --------------------------------
cases0=$(sql "$DB" "SELECT count(*) FROM cases")
events0=$(sql "$DB" "SELECT count(*) FROM events")
NS_NOW=2026-12-01T08:00 "$NS" run -v 0 -t 1 --ledger "$DB" -o "$T/rerun" "$W/nights/2026-09-05" 2> "$T/rerun.err"
rc=$?
check "re-running a night: exit status without the ledger bit (got $rc)" test $((rc & 32)) -eq 0
check "re-running a night: summary.json says already_recorded" \
    test "$(json "$T/rerun/summary.json" 'd["ledger"]["status"]')" = already_recorded
check "re-running a night: no case and no event added" \
    test "$(sql "$DB" "SELECT count(*) FROM cases")" = "$cases0" -a "$(sql "$DB" "SELECT count(*) FROM events")" = "$events0"
check "a night is one batch in the ledger" test "$(sql "$DB" "SELECT count(*) FROM batches")" = 60

# the same night again with other inputs (a plate re-exported: one control value differs):
# a second batch of that night, but no case, event or indicator changes
R="$T/re.sqlite"
cp "$DB" "$R"
mkdir -p "$T/re"
cp -r "$W/nights/2026-09-05" "$T/re/"
p1=$(ls "$T/re/2026-09-05/plates/"*.csv | head -1)
"$PY" - "$p1" <<'EOF'
import sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
for i, l in enumerate(lines):
    f = l.split(",")
    if len(f) > 4 and f[3] == "qc_low":
        f[4] = "%.4g" % (float(f[4]) * 1.001)
        lines[i] = ",".join(f)
        break
open(sys.argv[1], "w", encoding="utf-8").write("\n".join(lines))
EOF
NS_NOW=2026-11-30T12:00 "$NS" followup stats -d "$R" --from 2026-09-01 --to 2026-10-30 --by month -o "$T/re-before.csv"
NS_NOW=2026-12-01T08:00 "$NS" run -v 0 -t 1 --ledger "$R" -o "$T/re-out" "$T/re/2026-09-05" 2> /dev/null
NS_NOW=2026-11-30T12:00 "$NS" followup stats -d "$R" --from 2026-09-01 --to 2026-10-30 --by month -o "$T/re-after.csv"
check "a night re-exported: a new batch of the same night, no case and no event added" \
    test "$(json "$T/re-out/summary.json" 'd["ledger"]["status"], d["ledger"]["earlier_runs_of_night"], d["ledger"]["cases_opened"]')" = "recorded 1 0" -a \
         "$(sql "$R" "SELECT count(*) FROM cases")" = "$cases0" -a "$(sql "$R" "SELECT count(*) FROM events")" = "$events0" -a \
         "$(sql "$R" "SELECT count(*) FROM batches")" = 61
check "a night re-exported: the indicators are unchanged" cmp "$T/re-before.csv" "$T/re-after.csv"

# ---- 3. concurrent writers: two operators and a run at once --------------------------
C="$T/conc.sqlite"
cp "$DB" "$C"
chmod 600 "$C"
"$NS" simulate -v 0 -o "$T/n61" -n 300 --cases 2 --no-hearing --night 2026-10-31 -s 9061
recorder() {   # $1 operator, $2 first case id: 15 events on 15 cases
    for i in $(seq 0 14); do
        NS_NOW=2026-12-01T12:00 "$NS" followup record -v 0 -d "$C" --operator "$1" --at "2026-11-30T10:$(printf %02d "$i")" \
            $(($2 + i)) note "call notes $i" || echo "record $1 $i failed" >> "$T/conc.fail"
    done
}
recorder "Operator A" 1 & pa=$!
recorder "Operator B" 100 & pb=$!
NS_NOW=2026-11-02T08:00 "$NS" run -v 0 -t 1 --ledger "$C" -o "$T/o61" "$T/n61" 2> "$T/o61.err"
rrc=$?
wait $pa $pb
check "concurrent writers: every record succeeded" test ! -e "$T/conc.fail"
check "concurrent writers: 15 + 15 events present" \
    test "$(sql "$C" "SELECT count(*) FROM events WHERE operator = 'Operator A'")" = 15 -a \
         "$(sql "$C" "SELECT count(*) FROM events WHERE operator = 'Operator B'")" = 15
check "concurrent writers: the run recorded its night meanwhile (exit $rrc)" \
    test $((rrc & 32)) -eq 0 -a "$(json "$T/o61/summary.json" 'd["ledger"]["status"]')" = recorded -a \
         "$(sql "$C" "SELECT count(*) FROM batches")" = 61 -a \
         "$(sql "$C" "SELECT count(*) FROM cases c JOIN batches b ON b.id = c.batch_id WHERE b.night = 'n61'")" = \
         "$(json "$T/o61/summary.json" 'd["ledger"]["cases_opened"]')"
check "concurrent writers: the database is intact (integrity_check)" test "$(sql "$C" "PRAGMA integrity_check")" = ok

# ---- 4. a damaged ledger: clear error, exit bit 32, every other output ---------------
N1="$W/nights/2026-09-02"
head -c 8192 /dev/urandom > "$T/bad.sqlite"
NS_NOW=2026-12-01T08:00 "$NS" run -v 0 -t 1 --ledger "$T/bad.sqlite" -o "$T/obad" "$N1" 2> "$T/bad.err"
rc=$?
"$NS" run -v 0 -t 1 --no-ledger -o "$T/onol" "$N1" 2> /dev/null
rc0=$?
check "damaged ledger: exit status has bit 32 and otherwise that of a run without ledger ($rc vs $rc0)" \
    test $((rc & 32)) -eq 32 -a $((rc & ~32)) -eq "$rc0"
check "damaged ledger: stderr names the file and says it is damaged" \
    grep -q "follow-up ledger not updated: $T/bad.sqlite: .*damaged" "$T/bad.err"
check "damaged ledger: recall list, batch.h5, plates-to-rerun.csv and summary.json written" \
    test -s "$T/obad/recall-list.csv" -a -s "$T/obad/recall-list.xlsx" -a -s "$T/obad/batch.h5" -a -s "$T/obad/summary.json" \
         -a -e "$T/obad/plates-to-rerun.csv"
check "damaged ledger: the recall list is the same as without a ledger" cmp "$T/obad/recall-list.csv" "$T/onol/recall-list.csv"
check "damaged ledger: summary.json says failed, why, and the exit bit" \
    "$PY" -c "
import json,sys; d=json.load(open(sys.argv[1])); l=d['ledger']
assert l['status']=='failed' and 'damaged' in l['error'] and d['exit_status'] & 32
assert any(r.startswith('ledger:') for r in d['exit_reasons'])" "$T/obad/summary.json"
check "--no-ledger: summary.json says disabled" test "$(json "$T/onol/summary.json" 'd["ledger"]["status"]')" = disabled
# report.html: complete either way, the last section says why it shows no indicators
check "damaged ledger: report.html written, well-formed, its indicators section says the ledger failed" \
    bash -c "xmllint --noout '$T/obad/report.html' && grep -q 'could not be updated or read for this night' '$T/obad/report.html' \
             && ! grep -q 'data-indicator' '$T/obad/report.html'"
check "--no-ledger: report.html says the run kept no ledger, no indicators" \
    bash -c "grep -q 'This run kept no follow-up ledger (--no-ledger): no indicators.' '$T/onol/report.html' \
             && ! grep -q 'data-indicator' '$T/onol/report.html'"
check "damaged ledger and --no-ledger: report.html the same up to the indicators section" "$PY" -c "
import sys
a, b = (open(p, encoding='utf-8').read().split('<section id=\"indicators\">') for p in sys.argv[1:3])
assert len(a) == 2 and len(b) == 2 and a[0] == b[0] and a[1] != b[1]" "$T/obad/report.html" "$T/onol/report.html"
check "damaged ledger: summary.json says report.html shows no indicators" \
    test "$(json "$T/obad/summary.json" 'd["report"]["written"], d["report"]["indicators"]')" = "True ledger_failed"

# ---- 5. a locked ledger (a writer holding it beyond the busy timeout) ----------------
L="$T/locked.sqlite"
cp "$DB" "$L"
"$PY" - "$L" "$T/locked.ready" <<'EOF' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
open(sys.argv[2], "w").close()
time.sleep(4)
c.execute("ROLLBACK")
EOF
holder=$!
for i in $(seq 50); do [ -e "$T/locked.ready" ] && break; sleep 0.1; done
n1="$T/n62"
"$NS" simulate -v 0 -o "$n1" -n 200 --cases 1 --no-hearing --night 2026-11-01 -s 9062
NS_LEDGER_BUSY_MS=300 NS_NOW=2026-11-03T08:00 "$NS" run -v 0 -t 1 --ledger "$L" -o "$T/olock" "$n1" 2> "$T/lock.err"
rc=$?
NS_LEDGER_BUSY_MS=300 NS_NOW=2026-12-01T12:00 "$NS" followup record -d "$L" --operator X 1 note "x" 2> "$T/lockrec.err"
rrc=$?
wait $holder
check "locked ledger: run exits with bit 32 (got $rc) and says the ledger is locked" \
    test $((rc & 32)) -eq 32 -a -n "$(grep 'follow-up ledger not updated:.*locked' "$T/lock.err")"
check "locked ledger: every other output written, summary.json says failed" \
    test -s "$T/olock/recall-list.csv" -a -s "$T/olock/batch.h5" -a \
         "$(json "$T/olock/summary.json" 'd["ledger"]["status"]')" = failed
check "locked ledger: followup record exits 3 with a clear message" \
    test "$rrc" = 3 -a -n "$(grep 'locked' "$T/lockrec.err")"
NS_NOW=2026-11-03T09:00 "$NS" run -v 0 -t 1 --ledger "$L" -o "$T/olock2" "$n1" 2> /dev/null
check "locked ledger: once released, the same night records (nothing half-written before)" \
    test "$(json "$T/olock2/summary.json" 'd["ledger"]["status"]')" = recorded -a \
         "$(sql "$L" "SELECT count(*) FROM batches")" = 61

# ---- 6. import: a bad row never half-applies -----------------------------------------
I="$T/imp.sqlite"
cp "$DB" "$I"
ev0=$(sql "$I" "SELECT count(*) FROM events")
printf 'case_id,event,detail,at\n1,contact,reached,2026-11-01T09:00\n2,confirmed:NOPE,,2026-11-01T09:00\n999999,ruled_out,,2026-11-01T09:00\n3,contact,maybe,2026-11-01T09:00\n4,ruled_out,,2026-13-01T09:00\n' > "$T/bad.csv"
NS_NOW=2026-12-01T12:00 "$NS" followup import -d "$I" --operator X "$T/bad.csv" 2> "$T/imp.err"
rc=$?
check "import: bad rows -> exit 2, nothing imported" test "$rc" = 2 -a "$(sql "$I" "SELECT count(*) FROM events")" = "$ev0"
check "import: each bad row named as FILE:LINE:COL" \
    test "$(grep -c "$T/bad.csv:[3-6]:[0-9]*: " "$T/imp.err")" = 4
check "import: the good row is not named" test -z "$(grep "$T/bad.csv:2:" "$T/imp.err")"
NS_NOW=2026-12-01T12:00 "$NS" followup record -d "$I" 5 ruled_out 2> "$T/noop.err"
check "record without --operator is refused" test $? = 1 -a -n "$(grep -- '--operator' "$T/noop.err")"
NS_NOW=2026-12-01T12:00 "$NS" followup record -d "$I" --operator X --at 2027-01-01T00:00 5 ruled_out 2> "$T/fut.err"
check "record in the future is refused" test $? = 1 -a -n "$(grep 'future' "$T/fut.err")"
NS_NOW=2026-12-01T12:00 "$NS" followup list -d "$I" --overdue -o "$T/overdue.xlsx" 2> /dev/null
check "list --overdue as XLSX (mode 0600), readable by openpyxl, sorted by due date" "$PY" -c "
import openpyxl, os, sys
assert os.stat(sys.argv[1]).st_mode & 0o777 == 0o600
ws = openpyxl.load_workbook(sys.argv[1]).active
rows = list(ws.iter_rows(values_only=True))
h = rows[0]; due = [r[h.index('due_by')] for r in rows[1:]]
assert len(due) > 0 and due == sorted(due) and all(r[h.index('overdue')] == 'yes' for r in rows[1:])
assert all(r[h.index('status')] in ('open', 'contacted', 'escalated') for r in rows[1:])" "$T/overdue.xlsx"
NS_NOW=2026-12-01T12:00 "$NS" followup list -d "$I" --orphans -o "$T/orph.csv" 2> /dev/null
check "list --orphans: every repeat card without a case" \
    test "$(($(wc -l < "$T/orph.csv") - 1))" = "$(sql "$I" "SELECT count(*) FROM orphan_repeats")"

# ---- 7. the list filled in as XLSX and imported back --------------------------------
X="$T/x.sqlite"
cp "$DB" "$X"
NS_NOW=2026-12-01T12:00 "$NS" followup list -d "$X" -o "$T/open.xlsx" 2> /dev/null
"$PY" - "$T/open.xlsx" "$T/filled.xlsx" "$T/badx.xlsx" > "$T/xcases" <<'EOF' || nok "openpyxl fills in the list" "crashed"
import datetime, openpyxl, sys
wb = openpyxl.load_workbook(sys.argv[1]); ws = wb.active
h = [c.value for c in ws[1]]
ci, ei, di, ai = (h.index(k) + 1 for k in ("case_id", "event", "detail", "at"))
ws.cell(row=2, column=ei, value="contact"); ws.cell(row=2, column=di, value="reached")
ws.cell(row=2, column=ai, value=datetime.datetime(2026, 11, 30, 9, 15))          # a date cell
ws.cell(row=3, column=ei, value="ruled_out"); ws.cell(row=3, column=ai, value="2026-11-30T10:00")
ws.cell(row=4, column=ei, value="note"); ws.cell(row=4, column=di, value='回电 & <x> "q"')
wb.save(sys.argv[2])
ws.cell(row=5, column=ei, value="contact"); ws.cell(row=5, column=di, value="perhaps")
wb.save(sys.argv[3])
print(ws.cell(row=2, column=ci).value, ws.cell(row=3, column=ci).value, ws.cell(row=4, column=ci).value)
EOF
read -r x1 x2 x3 < "$T/xcases"
xev0=$(sql "$X" "SELECT count(*) FROM events")
NS_NOW=2026-12-01T12:00 "$NS" followup import -d "$X" --operator T "$T/badx.xlsx" 2> "$T/badx.err"
rc=$?
check "XLSX import: a bad row -> exit 2, named by row, column and cell, nothing imported" \
    test "$rc" = 2 -a "$(sql "$X" "SELECT count(*) FROM events")" = "$xev0" -a -n "$(grep "badx.xlsx:5:[0-9]*: (cell [A-Z]*5) contact wants" "$T/badx.err")"
NS_NOW=2026-12-01T12:00 "$NS" followup import -d "$X" --operator T "$T/filled.xlsx" 2> /dev/null
check "XLSX import: the filled-in list goes back (date cell, text time, Chinese and markup in detail)" \
    test "$(sql "$X" "SELECT group_concat(case_id || '|' || at || '|' || kind || '|' || detail, ';') FROM (SELECT * FROM events WHERE operator = 'T' ORDER BY id)")" = \
         "$x1|2026-11-30T09:15:00|contact|reached;$x2|2026-11-30T10:00:00|ruled_out|;$x3|2026-12-01T12:00:00|note|回电 & <x> \"q\""

# a Chinese list, filled in and imported back with -L zh
NS_NOW=2026-12-01T12:00 "$NS" followup list -d "$X" -L zh --no-bom -o "$T/zh.csv" 2> /dev/null
"$PY" - "$T/zh.csv" "$T/zh-filled.csv" > "$T/zcase" <<'EOF' || nok "fill in the Chinese list" "crashed"
import csv, sys
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8")))
h = rows[0]
assert "个案编号" in h and "记录事项" in h and "case_id" not in h, h
r = rows[1]
r[h.index("记录事项")] = "note"; r[h.index("详情")] = "已电话通知"; r[h.index("发生时间")] = "2026-11-30T11:00"
csv.writer(open(sys.argv[2], "w", encoding="utf-8", newline=""), lineterminator="\n").writerows(rows)
print(r[h.index("个案编号")], r[h.index("个案状态")])
EOF
read -r zc zstatus < "$T/zcase"
check "list -L zh: headers and status in Chinese (status '$zstatus'), IDs unchanged" \
    test -n "$zstatus" -a -z "$(printf '%s' "$zstatus" | tr -d '\n' | grep '^[a-z_:]*$')"
NS_NOW=2026-12-01T12:00 "$NS" followup import -d "$X" --operator Z "$T/zh-filled.csv" 2> "$T/zh-en.err"
check "import of a Chinese list without -L zh: refused, the header named" \
    test $? = 2 -a -n "$(grep 'needs the columns case_id and event' "$T/zh-en.err")"
NS_NOW=2026-12-01T12:00 "$NS" followup import -d "$X" --operator Z -L zh "$T/zh-filled.csv" 2> /dev/null
check "import -L zh: the Chinese list goes back" \
    test "$(sql "$X" "SELECT case_id || '|' || kind || '|' || detail FROM events WHERE operator = 'Z'")" = "$zc|note|已电话通知"

# ---- 7b. the ledger named in the config (followup.ledger) ---------------------------
C="$T/cfg"
mkdir -p "$C/etc" "$C/elsewhere"
"$NS" simulate -o "$C/night" -n 300 --seed 11 > /dev/null 2>&1
sed 's|^  # ledger: /var/lib/neoscreen/ledger.sqlite$|  ledger: ../lab/ledger.sqlite|' "$ROOT/configs/panel-default.yaml" > "$C/etc/panel.yaml"
check "the example line in panel-default.yaml is there to be set" grep -q '^  ledger: ../lab/ledger.sqlite$' "$C/etc/panel.yaml"
mkdir -p "$C/lab"
(cd "$C/elsewhere" && "$NS" run -v 0 -c "$C/etc/panel.yaml" -o "$C/out1" "$C/night" > /dev/null 2>&1)
check "run records the night in the config's followup.ledger, taken from the config's directory (not the working directory, not beside -o)" \
    sh -c "[ -f '$C/lab/ledger.sqlite' ] && [ ! -e '$C/ledger.sqlite' ] && [ ! -e '$C/elsewhere/lab' ] && [ \"\$(stat -c %a '$C/lab/ledger.sqlite')\" = 600 ]"
check "summary.json names the config's ledger" sh -c "grep -q '$C/etc/../lab/ledger.sqlite' '$C/out1/summary.json'"
NEOSCREEN_LEDGER="$C/env.sqlite" "$NS" run -v 0 -c "$C/etc/panel.yaml" -o "$C/out2" "$C/night" > /dev/null 2>&1
"$NS" run -v 0 -c "$C/etc/panel.yaml" --ledger "$C/opt.sqlite" -o "$C/out3" "$C/night" > /dev/null 2>&1
check "\$NEOSCREEN_LEDGER and --ledger come before the config's ledger" sh -c "[ -f '$C/env.sqlite' ] && [ -f '$C/opt.sqlite' ]"
check "the config's ledger is not a screening rule: the archived panel's calls are kept by rescore" \
    sh -c "'$NS' rescore -v 2 -p '$ROOT/configs/panel-default.yaml' -o '$C/rs' '$C/out1/batch.h5' 2>&1 | grep -q '24 of 24 conditions unchanged since the night'"
sed 's|^  # ledger: /var/lib/neoscreen/ledger.sqlite$|  ledger: ""|' "$ROOT/configs/panel-default.yaml" > "$C/bad.yaml"
"$NS" run -v 0 -c "$C/bad.yaml" -o "$C/out4" "$C/night" > "$C/bad.err" 2>&1; rc=$?
check "an empty followup.ledger is a config error naming its line (exit $rc)" sh -c "[ $rc -ne 0 ] && grep -q 'bad.yaml:[0-9]*:[0-9]*: followup.ledger must be' '$C/bad.err' && [ ! -e '$C/out4/batch.h5' ]"

# ---- 8. help ------------------------------------------------------------------------
for c in list record import stats export-outcomes; do
    check "followup $c --help prints Usage" sh -c "'$NS' followup $c --help | grep -q '^Usage: neoscreen followup $c'"
done
check "run --help documents --ledger and exit bit 32" sh -c "'$NS' run --help | grep -q -- '--ledger FILE' && '$NS' run --help | grep -q '^  32 '"
