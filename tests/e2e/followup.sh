#!/bin/bash
# tests/e2e/followup.sh — one recall list per baby: MS/MS, hearing and gene reasons merged,
# deadlines, CSV and XLSX the same, Chinese, formula injection, archive and summary.
#
# Works on a simulated night with --every-condition --genes, edited so that chosen babies
# have chosen hearing records.  Prints "ok - NAME" / "not ok - NAME: why".
set -u
NS=${NS:-$PWD/neoscreen}
PY=/usr/bin/python3
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
ok() { echo "ok - $1"; }
nok() { echo "not ok - $1: $2"; }

N="$T/n"
"$NS" simulate -v 0 -o "$N" -n 600 -s 4242 --every-condition --genes 2> "$T/sim.err" || nok "simulate" "$(cat "$T/sim.err")"

# Chosen babies: X = an injected MSUD case (metabolic), given a unilateral initial refer;
# Y = a baby with no MS/MS finding, 9 days in NICU, screened by TEOAE only and passing;
# Z = a recalled baby whose hospital and mother's name look like formulas.
"$PY" - "$N" > "$T/ids" <<'EOF' || nok "python check block" "crashed (traceback above)"
import csv, sys
n = sys.argv[1]
truth = list(csv.DictReader(open(n + "/truth.csv", encoding="utf-8")))
x = next(t["infant_id"] for t in truth if t["condition"] == "MSUD")
hot = {t["infant_id"] for t in truth}
tg = {r["infant_id"] for r in csv.DictReader(open(n + "/truth-genes.csv", encoding="utf-8"))}
th = {r["infant_id"] for r in csv.DictReader(open(n + "/truth-hearing.csv", encoding="utf-8"))}
man = list(csv.DictReader(open(n + "/manifest.csv", encoding="utf-8")))
y = next(r["infant_id"] for r in man if r["infant_id"] not in hot | tg | th and r["nicu"] == "0"
         and r["transfusion"] == "0" and r["specimen"] == "initial")
z = next(t["infant_id"] for t in truth if t["condition"] == "PKU")
rows = list(csv.DictReader(open(n + "/hearing.csv", encoding="utf-8")))
hdr = list(rows[0].keys())
out = []
for r in rows:
    if r["infant_id"] in (x, y):
        continue
    out.append(r)
birth = {r["infant_id"]: r["birth_time"] for r in man}
out.append({"infant_id": x, "test_time": birth[x][:10] + "T23:00", "stage": "initial", "method": "TEOAE",
            "left": "refer", "right": "pass", "nicu_days": "0", "risk_factors": ""})
out.append({"infant_id": y, "test_time": birth[y][:10] + "T23:00", "stage": "initial", "method": "TEOAE",
            "left": "pass", "right": "pass", "nicu_days": "9", "risk_factors": ""})
w = csv.DictWriter(open(n + "/hearing.csv", "w", encoding="utf-8", newline=""), hdr, lineterminator="\n")
w.writeheader()
w.writerows(out)
for r in man:
    if r["infant_id"] == z:
        r["hospital"], r["mother_name"] = '=HYPERLINK("http://x","y")', "@SUM(1+1)"
w = csv.DictWriter(open(n + "/manifest.csv", "w", encoding="utf-8", newline=""), list(man[0].keys()), lineterminator="\n")
w.writeheader()
w.writerows(man)
print(x, y, z, birth[x][:10])
EOF
read -r X Y Z XBIRTH < "$T/ids"

"$NS" run -v 0 -t 2 -o "$T/o" "$N" 2> "$T/o.err"
RC=$?
[ "$RC" -eq 0 ] && ok "run on a night with hearing and gene plates: exit 0" || nok "run exit 0" "rc=$RC $(head -c 400 "$T/o.err")"

"$PY" - "$T/o/recall-list.csv" "$X" "$Y" "$Z" "$XBIRTH" <<'EOF' || nok "python check block" "crashed (traceback above)"
import csv, datetime, sys
path, x, y, z, xbirth = sys.argv[1:6]
rows = list(csv.DictReader(open(path, encoding="utf-8-sig")))
by = {}
for r in rows:
    by.setdefault(r["infant_id"], []).append(r)
def say(good, name, why=""):
    print(("ok - " if good else "not ok - ") + name + ("" if good else ": " + why))
say(all(len(v) == 1 for v in by.values()), "every baby appears once on the list")
rx = by.get(x, [None])[0]
conds = rx["conditions"].split(";") if rx else []
say(rx is not None and "MSUD" in conds and "hearing:initial_refer" in conds
    and "MSUD Xle" in rx["reasons"] and "refer in the left ear" in rx["reasons"]
    and rx["sources"] == "msms;hearing" and rx["priority"] == "critical"
    and rx["action"] == "referral;rescreen",
    "MSUD case with a hearing refer: one row, both reasons, most urgent priority, both actions",
    repr(rx and {k: rx[k] for k in ("priority", "action", "conditions", "sources", "reasons")}))
# due_by: MSUD is critical -> 5 days of life (panel followup), earlier than day 42
want = (datetime.date.fromisoformat(xbirth) + datetime.timedelta(days=5)).isoformat()
say(rx is not None and rx["due_by"] == want, "due_by is the earliest deadline: birth + 5 days for a critical condition (%s)" % want,
    repr(rx and rx["due_by"]))
ry = by.get(y, [None])[0]
say(ry is not None and ry["conditions"] == "hearing:nicu_oae" and ry["action"] == "aabr_screen"
    and "AABR screen is required" in ry["reasons"],
    "NICU stay of 9 days with a TEOAE pass only is not a pass: AABR screen", repr(ry))
rz = by.get(z, [None])[0]
say(rz is not None and rz["hospital"].startswith("'=HYPERLINK") and rz["mother_name"] == "'@SUM(1+1)"
    and rz["contact_phone"].startswith("'+"),
    "CSV: cells beginning with = @ + are neutralised with a leading apostrophe", repr(rz and (rz["hospital"], rz["mother_name"])))
for r in rows:
    if r["due_by"]:
        datetime.date.fromisoformat(r["due_by"])
say(True, "due_by is an ISO date or empty on every row")
EOF

# the XLSX says exactly what the CSV says
if out=$("$PY" "$ROOT/tests/unit/xlsx_readback.py" "$T/o/recall-list.csv" "$T/o/recall-list.xlsx" "recall list" 600 2>&1); then
    ok "recall-list.xlsx matches recall-list.csv row for row (frozen header, dates as dates, 0600): ${out##*: }"
else
    nok "recall-list.xlsx matches recall-list.csv" "$(echo "$out" | head -5 | tr '\n' ' ')"
fi

# determinism of both files
"$NS" run -v 0 -t 1 -o "$T/o1" "$N" 2> /dev/null
cmp -s "$T/o/recall-list.csv" "$T/o1/recall-list.csv" && cmp -s "$T/o/recall-list.xlsx" "$T/o1/recall-list.xlsx" \
    && ok "threads 1 vs 2: byte-identical recall-list.csv and recall-list.xlsx" \
    || nok "threads 1 vs 2: byte-identical CSV and XLSX" "differ"

# Chinese: headers, priorities, actions and reasons translated; codes and IDs unchanged
"$NS" run -v 0 -t 2 -L zh -o "$T/zh" "$N" 2> "$T/zh.err"
"$PY" - "$T/o/recall-list.csv" "$T/zh/recall-list.csv" "$X" <<'EOF' || nok "python check block" "crashed (traceback above)"
import csv, sys
en = list(csv.reader(open(sys.argv[1], encoding="utf-8-sig")))
zh = list(csv.reader(open(sys.argv[2], encoding="utf-8-sig")))
x = sys.argv[3]
def say(good, name, why=""):
    print(("ok - " if good else "not ok - ") + name + ("" if good else ": " + why))
h = en[0]
ci, cc, cs, cr, cp = h.index("infant_id"), h.index("conditions"), h.index("sample_id"), h.index("reasons"), h.index("priority")
say(zh[0][ci] == "婴儿编号" and zh[0][cp] == "优先级", "--lang zh: Chinese column headers", repr(zh[0][:5]))
same = len(en) == len(zh) and all(a[ci] == b[ci] and a[cc] == b[cc] and a[cs] == b[cs] for a, b in zip(en[1:], zh[1:]))
say(same, "--lang zh: same rows, same order; infant_id, sample_id and condition codes unchanged")
rx = next(r for r in zh[1:] if r[ci] == x)
say(rx[cp] == "危急" and "右耳" not in rx[cr] and "左耳未通过" in rx[cr] and "切值" in rx[cr],
    "--lang zh: priority and reason texts in Chinese", repr((rx[cp], rx[cr][:160])))
txt = "\n".join(",".join(r) for r in zh)
say(("杂合" in txt or "纯合" in txt) and " het" not in txt and " hom" not in txt and "@{" not in txt and "{cond}" not in txt,
    "--lang zh: gene calls in Chinese, no untranslated key or placeholder left")
EOF

# summary.json: refer rates, gene-positive rate, babies with both reasons
"$PY" - "$N" "$T/o/summary.json" "$T/o/recall-list.csv" <<'EOF' || nok "python check block" "crashed (traceback above)"
import csv, json, sys
n, sp, rp = sys.argv[1:4]
d = json.load(open(sp))
h, g, rl = d["hearing"], d["genes"], d["recall_list"]
def say(good, name, why=""):
    print(("ok - " if good else "not ok - ") + name + ("" if good else ": " + why))
recs = list(csv.DictReader(open(n + "/hearing.csv", encoding="utf-8")))
initial = {}
for r in sorted(recs, key=lambda r: r["test_time"]):
    if r["stage"] == "initial":
        initial[r["infant_id"]] = "refer" in (r["left"], r["right"])
want = sum(initial.values()) / len(initial)
say(abs(h["initial_refer_rate"] - want) < 1e-6 and h["records_read"] == len(recs),
    "summary: initial refer rate %.4f recomputed from hearing.csv" % want, repr(h))
say("rescreen_refer_rate" in h and "rescreen_refer_per_screened" in h, "summary: rescreen refer rates given")
say(g["present"] and g["wells_add_up"] and abs(g["positive_rate"] - g["positive"] / g["tested"]) < 1e-6,
    "summary: gene-positive rate %.4f, gene wells add up" % g["positive_rate"], repr({k: g[k] for k in g if k != "plates_list"}))
rows = list(csv.DictReader(open(rp, encoding="utf-8-sig")))
both = sum(1 for r in rows if "msms" in r["sources"].split(";") and "hearing" in r["sources"].split(";"))
say(rl["msms_and_hearing"] == both and both >= 1 and rl["infants"] == len(rows),
    "summary: %d babies with a metabolic and a hearing reason, as on the list" % both, repr(rl))
EOF

# batch.h5 holds hearing and gene results per baby
"$PY" - "$T/o/batch.h5" "$X" <<'EOF' || nok "python check block" "crashed (traceback above)"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
x = sys.argv[2].encode()
rec = f["hearing/records"][:]
fnd = f["followup/findings"][:]
ok = (any(r["infant_id"] == x and r["left"] == b"refer" for r in rec)
      and any(r["infant_id"] == x and r["code"] == b"hearing:initial_refer" for r in fnd)
      and f["genes/calls"].shape == (f["genes/samples"].shape[0], len(f["genes/calls"].attrs["loci"]))
      and b"mother_name" not in f["followup/findings"].dtype.names)
print(("ok - " if ok else "not ok - ") + "batch.h5: /hearing/records, /genes/calls and /followup findings per baby")
EOF

# a gene plate whose positive control failed: its samples are held, exit bit 4
cp -r "$N" "$T/g"
gp=$(ls "$T/g/genes" | head -1)
sed -i 's/^\([^,]*\),B01,\([^,]*\),pos_control,het,/\1,B01,\2,pos_control,wt,/' "$T/g/genes/$gp"
"$NS" run -v 0 -t 2 -o "$T/go" "$T/g" 2> "$T/go.err"
RC=$?
"$PY" - "$T/go/summary.json" "$T/o/summary.json" "$RC" "$T/go.err" "$gp" "$T/go/plates-to-rerun.csv" <<'EOF' || nok "python check block" "crashed (traceback above)"
import csv, json, sys
d, d0 = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
rr = list(csv.DictReader(open(sys.argv[6], encoding="utf-8")))
rc, err, gp = int(sys.argv[3]), open(sys.argv[4]).read(), sys.argv[5]
g = d["genes"]
first = g["plates_list"][0]
ok = (rc & 4 and first["status"] == "rejected" and "positive control GJB2:c.35delG expected het, got wt" in first["reason"]
      and g["gene_hold"] > 0 and g["wells_add_up"] and g["tested"] == d0["genes"]["tested"] - g["gene_hold"]
      and gp in err and len(rr) == 1 and rr[0]["file"] == gp and int(rr[0]["patient_wells"]) == g["gene_hold"])
print(("ok - " if ok else "not ok - ") + "gene plate with a failed positive control: rejected, its samples on gene_hold, listed in plates-to-rerun.csv, exit bit 4"
      + ("" if ok else ": rc=%d %r" % (rc, first)))
EOF

# ---- things that must not be lost -------------------------------------------------------
# a gene result whose sample the manifest does not know; a baby known only from
# hearing.csv; a control character in a mother's name; a translation table missing a key
cp -r "$N" "$T/u"
"$PY" - "$T/u" "$Z" <<'EOF' > "$T/u.ids" || nok "python check block" "crashed (traceback above)"
import csv, glob, sys
n, z = sys.argv[1:3]
tg = [r for r in csv.DictReader(open(n + "/truth-genes.csv", encoding="utf-8")) if r["category"] == "aminoglycoside"]
sid = tg[0]["sample_id"]
for path in glob.glob(n + "/genes/*.csv"):
    s = open(path, encoding="utf-8").read()
    if "," + sid + "," in s:
        open(path, "w", encoding="utf-8").write(s.replace("," + sid + ",", ",X" + sid + ","))
with open(n + "/hearing.csv", "a", encoding="utf-8") as f:
    f.write("I9999999,2026-11-20T10:00,rescreen,AABR,refer,refer,0,\n")
man = list(csv.DictReader(open(n + "/manifest.csv", encoding="utf-8")))
for r in man:
    if r["infant_id"] == z:
        r["mother_name"] = "Li\x0bNa"
        r["contact_phone"] = "+86\u0085100"
w = csv.DictWriter(open(n + "/manifest.csv", "w", encoding="utf-8", newline=""), list(man[0].keys()), lineterminator="\n")
w.writeheader()
w.writerows(man)
print("X" + sid)
EOF
read -r XSID < "$T/u.ids"
"$NS" run -v 0 -t 2 -o "$T/uo" "$T/u" 2> "$T/uo.err"
RC=$?
"$PY" - "$T/uo" "$RC" "$T/uo.err" "$XSID" "$Z" <<'EOF' || nok "python check block" "crashed (traceback above)"
import csv, json, sys
o, rc, err, xsid, z = sys.argv[1], int(sys.argv[2]), open(sys.argv[3]).read(), sys.argv[4], sys.argv[5]
d = json.load(open(o + "/summary.json"))
rows = {r["infant_id"]: r for r in csv.DictReader(open(o + "/recall-list.csv", encoding="utf-8-sig"))}
def say(good, name, why=""):
    print(("ok - " if good else "not ok - ") + name + ("" if good else ": " + why))
say(rc & 8 and xsid in d["genes"]["unmatched"] and xsid in err,
    "gene sample not in the manifest: exit bit 8, named on stderr and in summary.json", "rc=%d %r" % (rc, d["genes"].get("unmatched")))
r = rows.get("I9999999")
say(r is not None and r["action"] == "audiology_referral" and r["contact_phone"] == ""
    and "I9999999" in d["recall_list"]["without_manifest_row_ids"] and "not in the manifest" in err,
    "baby known only from hearing.csv: listed without contact, said on stderr and in summary.json", repr(r))
rz = rows.get(z)
say(rz is not None and rz["mother_name"] == "Li\ufffdNa" and rz["contact_phone"] == "'+86\ufffd100",
    "control characters (C0 in a name, C1 in a phone) become U+FFFD, the cells are not blanked",
    repr(rz and (rz["mother_name"], rz["contact_phone"])))
EOF
grep -v '^  reason.gene_carrier:' "$ROOT/configs/lang.yaml" > "$T/lang-missing.yaml"
"$NS" run -v 0 --lang-file "$T/lang-missing.yaml" -o "$T/lm" "$N" 2> "$T/lm.err"
RC=$?
if [ "$RC" -eq 1 ] && [ ! -e "$T/lm/recall-list.csv" ] && grep -q "no text for 'reason.gene_carrier'" "$T/lm.err"; then
    ok "a translation table without a text the rules need: config error, nothing written"
else
    nok "translation table missing a key" "rc=$RC $(head -c 300 "$T/lm.err")"
fi

# a bad hearing row through `run`: FILE:LINE:COL on stderr, exit bit 2, counted, rest used
cp -r "$N" "$T/h"
line=$(($(wc -l < "$T/h/hearing.csv") + 1))
printf 'I0000001,2026-11-20T10:00,second,TEOAE,pass,pass,0,\n' >> "$T/h/hearing.csv"
"$NS" run -v 0 -t 2 -o "$T/ho" "$T/h" 2> "$T/ho.err"
RC=$?
rej=$("$PY" -c 'import json,sys; h=json.load(open(sys.argv[1]))["hearing"]; print(h["records_rejected"], h["records_read"])' "$T/ho/summary.json")
flag=$("$PY" -c 'import csv,sys; print(sum(1 for r in csv.DictReader(open(sys.argv[1], encoding="utf-8-sig")) if r["infant_id"] == "I0000001" and "hearing:record_rejected" in r["conditions"].split(";") and "check_hearing_record" in r["action"]))' "$T/ho/recall-list.csv")
if [ $((RC & 2)) -eq 2 ] && grep -q "^neoscreen run: $T/h/hearing.csv:$line:27: " "$T/ho.err" && [ "$rej" = "1 $(($(wc -l < "$T/h/hearing.csv") - 1))" ] && [ "$flag" = 1 ]; then
    ok "hearing.csv with a bad stage: FILE:LINE:COL, exit bit 2, the row counted as rejected, its baby listed to check the record"
else
    nok "bad hearing row through run" "rc=$RC rejected/read=$rej $(grep hearing.csv "$T/ho.err" | head -c 300)"
fi

# a gene plate run twice (a second accepted plate with the same samples): the same results
# are not listed twice
cp -r "$N" "$T/d"
g1=$(ls "$T/d/genes" | head -1)
sed "s/^${g1%.csv},/${g1%.csv}-B,/" "$T/d/genes/$g1" > "$T/d/genes/${g1%.csv}-B.csv"
"$NS" run -v 0 -t 2 -o "$T/do" "$T/d" 2> /dev/null
"$PY" - "$T/o/recall-list.csv" "$T/do/recall-list.csv" <<'EOF' || nok "python check block" "crashed (traceback above)"
import csv, sys
a = {r["infant_id"]: r["reasons"] for r in csv.DictReader(open(sys.argv[1], encoding="utf-8-sig"))}
b = {r["infant_id"]: r["reasons"].replace("-B,", ",") for r in csv.DictReader(open(sys.argv[2], encoding="utf-8-sig"))}
diff = [k for k in a if a[k] != b.get(k)]
print(("ok - " if not diff and set(a) == set(b) else "not ok - ") + "a sample on two accepted gene plates: its results listed once"
      + ("" if not diff else ": %r" % [(k, a[k][:80], b.get(k, "")[:160]) for k in diff[:2]]))
EOF

# a translation table whose reason uses a placeholder no finding gives, or whose sheet name
# Excel refuses: refused before anything is read
sed 's/{loci}/{locus}/g' "$ROOT/configs/lang.yaml" > "$T/lang-ph.yaml"
sed 's/recall list"/recall: list"/' "$ROOT/configs/lang.yaml" > "$T/lang-sheet.yaml"
"$NS" run -v 0 --lang-file "$T/lang-ph.yaml" -o "$T/lp" "$N" 2> "$T/lp.err"; r1=$?
"$NS" run -v 0 --lang-file "$T/lang-sheet.yaml" -o "$T/ls" "$N" 2> "$T/ls.err"; r2=$?
if [ "$r1" -eq 1 ] && [ "$r2" -eq 1 ] && grep -q "reason.gene_carrier uses a placeholder no finding gives ({locus})" "$T/lp.err" \
   && grep -q "sheet.recall_list 'recall: list' is not an Excel sheet name" "$T/ls.err" && [ ! -e "$T/lp/recall-list.csv" ]; then
    ok "a translation table with an unknown placeholder or a bad sheet name: config error, nothing written"
else
    nok "lang placeholder / sheet name checks" "rc=$r1/$r2 $(head -c 200 "$T/lp.err") $(head -c 200 "$T/ls.err")"
fi
