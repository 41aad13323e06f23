#!/bin/bash
# tests/e2e/sim_hearing.sh — `neoscreen simulate`: hearing records and deafness-gene plates.
#
# Checks the files against DESIGN.md inputs 3 and 4, the rates against DOMAIN.md §7.1-7.2
# (targets and sources in pipeline/sim_hearing.c and pipeline/sim_genes.c), the truth files
# against the records themselves, and that the hearing and gene streams leave the MS/MS
# night untouched.  Prints "ok - NAME" / "not ok - NAME: why" per check.
set -u
NS=${NS:-$PWD/neoscreen}
PY=/usr/bin/python3
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

ok() { echo "ok - $1"; }
nok() { echo "not ok - $1: $2"; }
check() {   # check NAME CMD... : ok if CMD succeeds
    local name=$1; shift
    if "$@" > "$T/check.out" 2>&1; then ok "$name"; else nok "$name" "$(head -c 400 "$T/check.out" | tr '\n' ' ')"; fi
}
sim() { "$NS" simulate -v 0 "$@" 2> "$T/sim.err" || { nok "simulate $*" "$(head -c 300 "$T/sim.err")"; }; }

# ---- 1. reproducible, and the MS/MS night does not move -------------------------------
sim -o "$T/a" -n 1200 -s 9 --every-condition --unmatched 2 --unplated 3 --genes
sim -o "$T/b" -n 1200 -s 9 --every-condition --unmatched 2 --unplated 3 --genes
check "same -n -s: byte-identical night (hearing, genes, truth files)" diff -r "$T/a" "$T/b"
sim -o "$T/c" -n 1200 -s 10 --every-condition --unmatched 2 --unplated 3 --genes
check "another seed: other hearing records" bash -c "! cmp -s '$T/a/hearing.csv' '$T/c/hearing.csv'"
sim -o "$T/d" -n 1200 -s 9 --every-condition --unmatched 2 --unplated 3 --no-hearing
check "--no-hearing: no hearing.csv, no truth-hearing.csv, no genes/" \
    test ! -e "$T/d/hearing.csv" -a ! -e "$T/d/truth-hearing.csv" -a ! -e "$T/d/genes" -a ! -e "$T/d/truth-genes.csv"
check "plates, manifest and truth.csv identical with and without hearing and genes" \
    diff -r -x hearing.csv -x truth-hearing.csv -x genes -x truth-genes.csv "$T/a" "$T/d"
sim -o "$T/e" -n 1200 -s 9 --every-condition --unmatched 2 --unplated 3
check "hearing.csv identical with and without --genes" cmp "$T/a/hearing.csv" "$T/e/hearing.csv"
sim -o "$T/f" -n 1200 -s 9 --every-condition --unmatched 2 --unplated 3 --genes --no-hearing
check "gene plates identical with and without hearing" diff -r "$T/a/genes" "$T/f/genes"
sim -o "$T/g" -n 300 -s 9 --genes --crlf
check "--crlf: hearing.csv and gene plates end lines with CRLF" \
    bash -c "head -1 '$T/g/hearing.csv' | grep -q \$'\\r\$' && head -1 '$T/g/genes/G20261122-0001.csv' | grep -q \$'\\r\$'"
check "hearing.csv is mode 0600 (infant ids and health data)" test "$(stat -c %a "$T/a/hearing.csv")" = 600
mkdir -p "$T/h/genes" && touch "$T/h/genes/G20261122-0001.csv"
"$NS" simulate -v 0 -o "$T/h" -n 100 --genes 2> "$T/h.err"
check "a non-empty genes/ is refused without --force" test $? -eq 1 -a -n "$(grep 'genes is not empty' "$T/h.err")"
check "--force replaces old gene plates" "$NS" simulate -v 0 -o "$T/h" -n 100 --genes --force

# ---- 2. formats, identities, every case type, truth consistency (the 1,200-baby night) -----
"$PY" - "$T/a" <<'EOF'
import csv, glob, os, sys
from datetime import datetime
night = sys.argv[1]
def ok(name, cond, why=""):
    print(("ok - %s" % name) if cond else ("not ok - %s: %s" % (name, why or "failed")))
def rows(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.reader(f))
LOCI = ["GJB2:c.35delG", "GJB2:c.176_191del16", "GJB2:c.235delC", "GJB2:c.299_300delAT",
        "SLC26A4:c.919-2A>G", "SLC26A4:c.2168A>G", "MT-RNR1:m.1494C>T", "MT-RNR1:m.1555A>G",
        "GJB3:c.538C>T"]
man = {r["sample_id"]: r for r in csv.DictReader(open(night + "/manifest.csv", encoding="utf-8"))}
infants = {r["infant_id"]: r for r in man.values()}
plated = set()
for p in glob.glob(night + "/plates/*.csv"):
    for r in csv.DictReader(open(p, encoding="utf-8")):
        if r["sample_type"] == "patient": plated.add(r["sample_id"])

# hearing.csv
h = rows(night + "/hearing.csv")
ok("hearing.csv header exact", h[0] == "infant_id,test_time,stage,method,left,right,nicu_days,risk_factors".split(","), h[0])
recs = [dict(zip(h[0], r)) for r in h[1:]]
bad = [r for r in recs if len(r) != 8 or r["stage"] not in ("initial", "rescreen")
       or r["method"] not in ("TEOAE", "DPOAE", "AABR")
       or r["left"] not in ("pass", "refer", "not_tested") or r["right"] not in ("pass", "refer", "not_tested")
       or not r["nicu_days"].isdigit() or "," in r["risk_factors"]]
ok("hearing.csv values in their vocabularies", not bad, str(bad[:2]))
ok("hearing infant_ids all in the manifest", all(r["infant_id"] in infants for r in recs),
   str([r["infant_id"] for r in recs if r["infant_id"] not in infants][:3]))
init = {}
for r in recs:
    if r["stage"] == "initial": init.setdefault(r["infant_id"], []).append(r)
ok("one initial record per manifest infant", set(init) == set(infants) and all(len(v) == 1 for v in init.values()),
   "%d infants with an initial record of %d" % (len(init), len(infants)))
resc = {r["infant_id"]: r for r in recs if r["stage"] == "rescreen"}
def t(s): return datetime.strptime(s, "%Y-%m-%dT%H:%M")
def age_h(r): return (t(r["test_time"]) - t(infants[r["infant_id"]]["birth_time"])).total_seconds() / 3600
well_init = [r for r in init.values() for r in r if infants[r["infant_id"]]["nicu"] == "0"]
ok("well babies: initial test 48-72 h after birth", all(48 <= age_h(r) <= 72 for r in well_init),
   str([(r["infant_id"], age_h(r)) for r in well_init if not 48 <= age_h(r) <= 72][:3]))
ok("well babies: nicu_days 0 and OAE at the initial screen",
   all(r["nicu_days"] == "0" and r["method"] in ("TEOAE", "DPOAE") for r in well_init))
nicu_init = [r for v in init.values() for r in v if infants[r["infant_id"]]["nicu"] == "1"]
ok("NICU babies: nicu_days >= 1", nicu_init and all(int(r["nicu_days"]) >= 1 for r in nicu_init))
ok("NICU babies: some stays > 5 days", sum(int(r["nicu_days"]) > 5 for r in nicu_init) > 0)
ok("rescreens come after the initial screen, by day 42 or a week after a late NICU screen",
   all(t(r["test_time"]) > t(init[i][0]["test_time"]) and (age_h(r) <= 42 * 24 or
       (t(r["test_time"]) - t(init[i][0]["test_time"])).days <= 14) for i, r in resc.items()))
ok("rescreens only after a refer or an untested ear",
   all("refer" in (init[i][0]["left"], init[i][0]["right"]) or "not_tested" in (init[i][0]["left"], init[i][0]["right"]) for i in resc))

# truth-hearing.csv, recomputed from hearing.csv
th = rows(night + "/truth-hearing.csv")
ok("truth-hearing.csv header exact", th[0] == "infant_id,case,ears,method,expected,detail".split(","), th[0])
truth_h = set(tuple(r) for r in th[1:])
def ears(r, v):
    l, rr = r["left"] == v, r["right"] == v
    return "both" if l and rr else "left" if l else "right" if rr else ""
want = set()
for i, (r,) in init.items():
    nicu = infants[i]["nicu"] == "1"
    nref = (r["left"] == "refer") + (r["right"] == "refer")
    if nref and nicu and r["method"] == "AABR": want.add((i, "nicu_aabr_refer", ears(r, "refer"), "AABR", "audiology_referral", ""))
    elif nref == 1: want.add((i, "initial_refer_unilateral", ears(r, "refer"), r["method"], "rescreen", ""))
    elif nref == 2: want.add((i, "initial_refer_bilateral", "both", r["method"], "rescreen", ""))
    if "not_tested" in (r["left"], r["right"]): want.add((i, "not_tested", ears(r, "not_tested"), r["method"], "rescreen", ""))
    all_r = [r] + ([resc[i]] if i in resc else [])
    if int(r["nicu_days"]) > 5 and all(x["method"] != "AABR" for x in all_r):
        want.add((i, "nicu_oae_only", "both", r["method"], "aabr_required", ""))
    if i in resc:
        s = resc[i]
        if "refer" in (s["left"], s["right"]): want.add((i, "rescreen_refer", ears(s, "refer"), s["method"], "audiology_referral", ""))
        else: want.add((i, "rescreen_pass", "", s["method"], "none", ""))
    if r["risk_factors"]:
        last = all_r[-1]
        case = "risk_factors_pass" if last["left"] == last["right"] == "pass" else "risk_factors"
        want.add((i, case, "", last["method"], "surveillance", r["risk_factors"]))
ok("truth-hearing.csv matches the records (%d rows)" % len(want), want == truth_h,
   "missing %s; extra %s" % (sorted(want - truth_h)[:2], sorted(truth_h - want)[:2]))
ok("NICU stays > 5 days screened by AABR unless listed as nicu_oae_only",
   all(r["method"] == "AABR" for r in nicu_init if int(r["nicu_days"]) > 5
       and (r["infant_id"], "nicu_oae_only", "both", r["method"], "aabr_required", "") not in truth_h))
cases = {r[1] for r in th[1:]}
for c in ("initial_refer_unilateral", "initial_refer_bilateral", "rescreen_refer", "rescreen_pass",
          "nicu_oae_only", "nicu_aabr_refer", "risk_factors_pass", "not_tested"):
    ok("--every-condition: hearing case %s present" % c, c in cases)

# gene plates
plates = sorted(glob.glob(night + "/genes/*.csv"))
ok("gene plates written (genes/G<date>-<n>.csv)", plates and all(os.path.basename(p).startswith("G20261122-") for p in plates))
hdr_ok, ctl_ok, ids_ok, calls_ok, samples = True, True, True, True, []
POS = {l: ("homoplasmic" if l.startswith("MT-RNR1") else "het") for l in LOCI}
for p in plates:
    g = rows(p)
    hdr_ok &= g[0] == ["plate_id", "well", "sample_id", "sample_type"] + LOCI
    d = {r[1]: dict(zip(g[0], r)) for r in g[1:]}
    pid = os.path.splitext(os.path.basename(p))[0]
    ctl_ok &= (d.get("A01", {}).get("sample_type") == "wt_control" and all(d["A01"][l] == "wt" for l in LOCI)
               and d.get("B01", {}).get("sample_type") == "pos_control" and all(d["B01"][l] == POS.get(l, "wt") for l in LOCI)
               and d.get("C01", {}).get("sample_type") == "blank" and all(d["C01"][l] == "fail" for l in LOCI))
    for r in g[1:]:
        x = dict(zip(g[0], r))
        ids_ok &= x["plate_id"] == pid
        for l in LOCI:
            allowed = ("wt", "heteroplasmic", "homoplasmic", "fail") if l.startswith("MT-") else ("wt", "het", "hom", "fail")
            calls_ok &= x[l] in allowed
        if x["sample_type"] == "patient": samples.append(x)
ok("gene plate headers exact (9 loci of DOMAIN §7.2)", hdr_ok)
ok("gene plates: A01 wt_control, B01 pos_control, C01 blank on every plate", ctl_ok)
ok("gene plates: plate_id matches the file, calls in their vocabularies", ids_ok and calls_ok)
ok("gene sample_ids all in the manifest", all(s["sample_id"] in man for s in samples),
   str([s["sample_id"] for s in samples if s["sample_id"] not in man][:3]))
ok("gene samples are the punched initial cards of the manifest, once each",
   [s["sample_id"] for s in samples] == sorted(sid for sid in plated if sid in man and man[sid]["specimen"] == "initial"))

# truth-genes.csv, recomputed from the plates
tg = rows(night + "/truth-genes.csv")
ok("truth-genes.csv header exact", tg[0] == "sample_id,infant_id,plate_id,well,category,gene,calls".split(","), tg[0])
want = []
for s in samples:
    iid = man[s["sample_id"]]["infant_id"]
    for gene in ("GJB2", "SLC26A4", "MT-RNR1", "GJB3"):
        v = [(l, s[l]) for l in LOCI if l.split(":")[0] == gene and s[l] not in ("wt", "fail")]
        if not v: continue
        alleles = sum(2 if c == "hom" else 1 for _, c in v)
        cat = "aminoglycoside" if gene == "MT-RNR1" else "uncertain" if gene == "GJB3" else "biallelic" if alleles >= 2 else "carrier"
        want.append([s["sample_id"], iid, s["plate_id"], s["well"], cat, gene, ";".join("%s=%s" % x for x in v)])
    f = [l for l in LOCI if s[l] == "fail"]
    if f:
        genes = {l.split(":")[0] for l in f}
        want.append([s["sample_id"], iid, s["plate_id"], s["well"], "fail", genes.pop() if len(genes) == 1 else "all",
                     ";".join(l + "=fail" for l in f)])
ok("truth-genes.csv matches the plates (%d rows)" % len(want), want == tg[1:],
   "first difference: %s" % next(([a, b] for a, b in zip(want, tg[1:]) if a != b), "lengths %d %d" % (len(want), len(tg) - 1)))
def has(pred): return any(pred(s) for s in samples)
ok("--every-condition: gene GJB2 hom", has(lambda s: any(s[l] == "hom" for l in LOCI[:4])))
ok("--every-condition: gene GJB2 compound het", has(lambda s: sum(s[l] == "het" for l in LOCI[:4]) >= 2))
ok("--every-condition: gene SLC26A4 het carrier", any(r[4] == "carrier" and r[5] == "SLC26A4" for r in tg[1:]))
ok("--every-condition: gene m.1555A>G", has(lambda s: s["MT-RNR1:m.1555A>G"] != "wt" and s["MT-RNR1:m.1555A>G"] != "fail"))
ok("--every-condition: gene m.1494C>T", has(lambda s: s["MT-RNR1:m.1494C>T"] in ("heteroplasmic", "homoplasmic")))
ok("--every-condition: gene GJB3 c.538C>T", has(lambda s: s["GJB3:c.538C>T"] in ("het", "hom")))
ok("--every-condition: gene fail (whole sample and one locus)",
   has(lambda s: all(s[l] == "fail" for l in LOCI)) and has(lambda s: sum(s[l] == "fail" for l in LOCI) == 1))
EOF

# ---- 3. rates ---------------------------------------------------------------------------
# The initial refer rate on a 10,000-baby night, as DOMAIN §7.1 gives it (7.00-11.4 %).
# The narrower bands (rescreen refer 1.3-1.7 %, gene-positive 4.5-5.0 %) are as wide as
# one or two binomial SDs at n = 10,000 (0.12 and 0.22 points), so they are checked on a
# 100,000-baby night, where the targets (1.5 %, 4.8 %) sit >= 2.5 SD inside them.
rates() {   # rates NIGHT N_MIN
"$PY" - "$1" "$2" <<'EOF'
import csv, glob, sys
night, which = sys.argv[1], sys.argv[2]
def ok(name, cond, why=""):
    print(("ok - %s" % name) if cond else ("not ok - %s: %s" % (name, why or "failed")))
inf = {r["infant_id"]: r for r in csv.DictReader(open(night + "/manifest.csv", encoding="utf-8"))}
n = len(inf)
init, resc = {}, {}
for r in csv.DictReader(open(night + "/hearing.csv", encoding="utf-8")):
    (init if r["stage"] == "initial" else resc)[r["infant_id"]] = r
ref = lambda r: "refer" in (r["left"], r["right"])
p_init = 100.0 * sum(ref(r) for r in init.values()) / n
p_resc = 100.0 * sum(ref(r) for r in resc.values()) / n
if which == "10k":
    ok("initial refer %.2f %% of %d babies in 7-11 %% (Jiangxi 7.00, Liuzhou 11.4)" % (p_init, n), 7 <= p_init <= 11)
    uni = sum((r["left"] == "refer") != (r["right"] == "refer") for r in init.values())
    bi = sum(r["left"] == r["right"] == "refer" for r in init.values())
    ok("unilateral refers (%d) outnumber bilateral (%d)" % (uni, bi), uni > bi > 0)
    nt = sum("not_tested" in (r["left"], r["right"]) for r in init.values())
    ok("a small share not tested in one ear (%d, 0.1-1.5 %%)" % nt, 0.001 * n <= nt <= 0.015 * n)
    nicu = [r for r in init.values() if inf[r["infant_id"]]["nicu"] == "1"]
    aabr = sum(r["method"] == "AABR" for r in nicu)
    ok("NICU babies screened by AABR (%d of %d)" % (aabr, len(nicu)), len(nicu) > 0 and aabr >= 0.95 * len(nicu))
    rf = sum(bool(r["risk_factors"]) for r in init.values())
    ok("risk factors on a small share (%.2f %%, 2-10 %%)" % (100.0 * rf / n), 0.02 * n <= rf <= 0.10 * n)
    sys.exit(0)
ok("rescreen refer %.2f %% of %d babies in 1.3-1.7 %% (Jiangxi 1.30, Liuzhou 1.7)" % (p_resc, n), 1.3 <= p_resc <= 1.7)
LOCI = None
samples = 0; pos = 0; mt = 0; fail = 0; biallelic = 0
allele = {}
for p in glob.glob(night + "/genes/*.csv"):
    rd = csv.DictReader(open(p, encoding="utf-8"))
    LOCI = rd.fieldnames[4:]
    for r in rd:
        if r["sample_type"] != "patient": continue
        samples += 1
        calls = [r[l] for l in LOCI]
        pos += any(c not in ("wt", "fail") for c in calls)
        mt += any(r[l] not in ("wt", "fail") for l in LOCI if l.startswith("MT-"))
        fail += "fail" in calls
        for l in LOCI:
            if r[l] not in ("wt", "fail"): allele[l] = allele.get(l, 0) + 1
biallelic = sum(1 for r in csv.DictReader(open(night + "/truth-genes.csv", encoding="utf-8")) if r["category"] == "biallelic")
tot = sum(allele.values())
p_pos = 100.0 * pos / samples
ok("gene-positive %.2f %% of %d samples in 4.5-5.0 %% (Jiangxi 4.813, Hangzhou 4.92)" % (p_pos, samples), 4.5 <= p_pos <= 5.0)
s235 = 100.0 * allele.get("GJB2:c.235delC", 0) / tot
s919 = 100.0 * allele.get("SLC26A4:c.919-2A>G", 0) / tot
ok("c.235delC the most common variant: %.1f %% of positive calls (Hangzhou 47.26)" % s235,
   max(allele, key=allele.get) == "GJB2:c.235delC" and 42 <= s235 <= 52)
ok("c.919-2A>G %.1f %% of positive calls (Hangzhou 21.17)" % s919, 17 <= s919 <= 25)
ok("MT-RNR1 %.2f per mille of samples (China 2.4)" % (1000.0 * mt / samples), 1.9 <= 1000.0 * mt / samples <= 2.9)
ok("a few biallelic samples (%d, 1-10 per 10,000)" % biallelic, 1e-4 * samples <= biallelic <= 1e-3 * samples)
ok("fail calls on ~0.2 %% of samples (%.3f %%)" % (100.0 * fail / samples), 0.1 <= 100.0 * fail / samples <= 0.35)
EOF
}
sim -o "$T/r10" -n 10000 -s 2026 --genes
rates "$T/r10" 10k
sim -o "$T/r100" -n 100000 -s 2026 --genes
rates "$T/r100" 100k
rm -rf "$T/r100"

# ---- 4. `run` still processes a night that carries hearing records and gene plates ------
"$NS" run -v 0 -t 2 -o "$T/o" "$T/g" 2> "$T/run.err"
check "run: a night with hearing.csv and genes/ still runs (exit 0)" test $? -eq 0
