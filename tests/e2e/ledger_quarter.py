#!/usr/bin/python3
"""ledger_quarter.py — a simulated quarter through the follow-up ledger (tests/e2e/ledger.sh).

60 nights of 300 cards (2026-09-01 .. 2026-10-30), two injected cases a night with the
condition round robin moving on (`simulate --first-case`), so every condition comes back
every 12 nights.  Infant IDs are made unique per night (I<date>-<card>).  After each night's
`run` (with its own NS_NOW, the report time) the script plays the follow-up team:

  true case (truth.csv)       contact reached; if its condition comes back 12 nights later,
                              that night's injected card is made the baby's repeat card (still
                              abnormal: escalated), then confirmed; else confirmed after 72 h
  false positive, by a hash   0-3 a normal-looking card 3 nights later becomes its repeat card;
                              4-5 ruled out; 6 lost to follow-up; 7 declined; 8 one unanswered
                              call; 9 nothing
  unreadable card only        even hash: a repeat card 3 nights later

and keeps its own model of every case and event.  The expected indicators are computed
from that model, the simulator's truth and manifests, and the per-night outputs of `run`
(recall-list.csv, batch.h5 states and calls) — never from the ledger — and compared with
`neoscreen followup stats`.  Prints "ok - NAME" / "not ok - NAME: why".

Usage: ledger_quarter.py NEOSCREEN WORKDIR
"""
import csv, datetime, hashlib, json, math, os, subprocess, sys
import h5py

NS, W = sys.argv[1], sys.argv[2]
DB = os.path.join(W, "ledger.sqlite")
NIGHTS, CARDS = 60, 300
START = datetime.date(2026, 9, 1)
FINAL_NOW = "2026-11-30T12:00:00"
OP = "Follow-up Nurse Chen"
fails = 0


def ok(name, good, why=""):
    global fails
    print(("ok - " if good else "not ok - ") + name + ("" if good else ": " + why))
    fails += not good


def ts(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S")


def parse(s):
    s = s.replace(" ", "T")
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S" if s.count(":") == 2 else "%Y-%m-%dT%H:%M")


def h(s):
    return int(hashlib.sha1(s.encode()).hexdigest(), 16) % 10


def sh(args, env_now, **kw):
    env = dict(os.environ, NS_NOW=env_now)
    env.pop("NEOSCREEN_LEDGER", None)
    return subprocess.run(args, env=env, capture_output=True, text=True, **kw)


def read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def write_csv(path, rows, fields):
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


# ---- the model -------------------------------------------------------------------------
cases = []          # dicts: id, infant, night, date, opened (datetime), conds (set), sp, events [(at, seq, kind, detail)]
by_infant = {}      # infant -> [case index]
nights = []         # per night: date, screened, initial, invalid, tat hours list, orphans
plans = {}          # night index -> [(infant, "plain" | "case:C")]
manual = []         # events the team records: (case index, at datetime, kind, detail)
seq = [0]
pii = set()         # mothers' names and phones seen in manifests
CLOSING = {"cleared_on_repeat", "confirmed", "ruled_out", "lost_to_follow_up", "declined", "deceased"}


def add_event(ci, at, kind, detail=""):
    seq[0] += 1
    cases[ci]["events"].append((at, seq[0], kind, detail))


def status(c, now=None):
    ev = sorted(c["events"])
    closing = [e for e in ev if e[2] in CLOSING]
    if closing:
        e = closing[-1]
        return "confirmed:" + e[3] if e[2] == "confirmed" else e[2]
    if any(e[2] == "escalated" for e in ev):
        return "escalated"
    if any(e[2] == "contact" and e[3] == "reached" for e in ev):
        return "contacted"
    return "open"


def is_open(c):
    return status(c) in ("open", "contacted", "escalated")


run_rcs = []
for k in range(NIGHTS):
    date = START + datetime.timedelta(days=k)
    ymd = date.isoformat()
    nd = os.path.join(W, "nights", ymd)
    od = os.path.join(W, "out", ymd)
    report = datetime.datetime.combine(date, datetime.time(8, 0)) + datetime.timedelta(days=2)
    p = sh([NS, "simulate", "-v", "0", "-o", nd, "-n", str(CARDS), "--cases", "2", "--first-case", str(2 * k),
            "--no-hearing", "--night", ymd, "-s", str(7000 + k)], ts(report))
    if p.returncode:
        ok("simulate night %s" % ymd, False, p.stderr)
        sys.exit(1)
    # unique infant IDs, planned repeat cards
    man = read_csv(nd + "/manifest.csv")
    fields = list(man[0].keys())
    truth = read_csv(nd + "/truth.csv")
    tfields = list(truth[0].keys()) if truth else ["sample_id", "infant_id", "plate_id", "well", "condition"]
    tag = ymd.replace("-", "")
    for r in man:
        r["infant_id"] = "I%s-%s" % (tag, r["infant_id"][1:])
        pii.add(r["mother_name"])
        pii.add(r["contact_phone"])
    for t in truth:
        t["infant_id"] = "I%s-%s" % (tag, t["infant_id"][1:])
    case_sids = {t["sample_id"]: t["condition"] for t in truth}
    placed = {}     # sample_id -> infant it now belongs to (python-placed repeat cards)
    used = set()
    for infant, kind in plans.get(k, []):
        if kind == "plain":
            cand = next((r for r in man[20:] if r["specimen"] == "initial" and r["sample_id"] not in case_sids
                         and r["sample_id"] not in used), None)
        else:
            cond = kind[5:]
            cand = next((r for r in man if case_sids.get(r["sample_id"]) == cond and r["sample_id"] not in used), None)
        if cand is None:
            continue
        used.add(cand["sample_id"])
        cand["infant_id"] = infant
        cand["specimen"] = "repeat"
        placed[cand["sample_id"]] = infant
        for t in truth:
            if t["sample_id"] == cand["sample_id"]:
                t["infant_id"] = infant
    write_csv(nd + "/manifest.csv", man, fields)
    os.chmod(nd + "/manifest.csv", 0o600)
    write_csv(nd + "/truth.csv", truth, tfields)

    p = sh([NS, "run", "-v", "1", "-t", "1", "--ledger", DB, "-o", od, nd], ts(report))
    run_rcs.append(p.returncode)
    with open(os.path.join(W, "run-%s.err" % ymd), "w") as f:
        f.write(p.stderr + p.stdout)
    if p.returncode & (1 | 16 | 32):
        ok("run night %s" % ymd, False, "exit %d: %s" % (p.returncode, p.stderr[-400:]))
        sys.exit(1)

    # what run reported, per card (batch.h5) and per baby (recall-list.csv)
    with h5py.File(od + "/batch.h5", "r") as f5:
        s = f5["samples"][:]
        conds5 = [c.decode() for c in f5["calls/conditions"][:]]
        calls = f5["calls/values"][:]
    card = {}
    for i, r in enumerate(s):
        if r["sample_type"] != b"patient":
            continue
        card[r["sample_id"].decode()] = (r["state"].decode(), {conds5[c]: int(calls[i][c]) for c in range(len(conds5))})
    states = [card[r["sample_id"]][0] for r in man]
    if any(st not in ("negative", "recall", "invalid_specimen") for st in states):
        ok("night %s: every card reported (no QC hold, no unmatched)" % ymd, False, str(set(states)))
    mrow = {r["sample_id"]: r for r in man}
    rep = {r["infant_id"]: r for r in read_csv(od + "/recall-list.csv")}
    tat = [math.floor((report - parse(r["collection_time"])).total_seconds() / 3600.0) for r in man]
    nights.append({"date": ymd, "screened": len(man), "initial": sum(r["specimen"] != "repeat" for r in man),
                   "invalid": states.count("invalid_specimen"), "tat": tat, "orphans": 0})

    # repeat cards: link to the infant's open case from an earlier night
    linked = {}
    for r in man:
        if r["specimen"] != "repeat":
            continue
        inf = r["infant_id"]
        open_cases = [ci for ci in by_infant.get(inf, []) if is_open(cases[ci]) and cases[ci]["night"] < k]
        if not open_cases:
            nights[-1]["orphans"] += 1
            continue
        st, cl = card[r["sample_id"]]
        linked[inf] = set()
        for ci in open_cases:
            c = cases[ci]
            still = [x for x in c["conds"] if cl.get(x, 0) in (1, 2, 3)]
            unsat = st == "invalid_specimen" or any(cl.get(x, 0) == 4 for x in c["conds"])
            add_event(ci, report, "escalated" if still else "repeat_unsatisfactory" if unsat else "cleared_on_repeat",
                      "")
            c.setdefault("linked_kind", []).append(("escalated" if still else "repeat_unsatisfactory" if unsat
                                                    else "cleared_on_repeat"))
            linked[inf] |= c["conds"]

    # cases from the recall list
    new = []
    for inf, r in rep.items():
        conds = set(x for x in r["conditions"].split(";") if x)
        if inf in linked and all(mrow.get(sid, {}).get("specimen") == "repeat" for sid in r["sample_id"].split(";")) \
                and conds <= linked[inf]:
            continue
        ci = len(cases)
        cases.append({"id": None, "infant": inf, "night": k, "date": ymd, "opened": report, "conds": conds,
                      "sp": bool(conds), "events": [], "sid": r["sample_id"].split(";")[0]})
        by_infant.setdefault(inf, []).append(ci)
        add_event(ci, report, "opened")
        new.append(ci)

    # the team's plan for tonight's new cases
    truth_of = {t["infant_id"]: t["condition"] for t in truth}
    for ci in new:
        c = cases[ci]
        hv = h(c["infant"])
        o = c["opened"]
        if c["sp"] and truth_of.get(c["infant"]) in c["conds"]:
            cond = truth_of[c["infant"]]
            manual.append((ci, o + datetime.timedelta(hours=2 + hv), "contact", "reached"))
            if k + 12 < NIGHTS:
                plans.setdefault(k + 12, []).append((c["infant"], "case:" + cond))
                c["confirm_after_repeat"] = (k + 12, cond)
            else:
                manual.append((ci, o + datetime.timedelta(hours=72), "confirmed", cond))
        elif c["sp"]:
            if hv <= 3:
                manual.append((ci, o + datetime.timedelta(hours=3), "contact", "message_left"))
                if k + 3 < NIGHTS:
                    plans.setdefault(k + 3, []).append((c["infant"], "plain"))
            elif hv <= 5:
                manual.append((ci, o + datetime.timedelta(hours=5), "contact", "reached"))
                manual.append((ci, o + datetime.timedelta(hours=48), "ruled_out", ""))
            elif hv == 6:
                manual.append((ci, o + datetime.timedelta(hours=4), "contact", "no_answer"))
                manual.append((ci, o + datetime.timedelta(hours=28), "contact", "no_answer"))
                manual.append((ci, o + datetime.timedelta(hours=240), "lost_to_follow_up", ""))
            elif hv == 7:
                manual.append((ci, o + datetime.timedelta(hours=6), "contact", "reached"))
                manual.append((ci, o + datetime.timedelta(hours=30), "declined", ""))
            elif hv == 8:
                manual.append((ci, o + datetime.timedelta(hours=10), "contact", "no_answer"))
        elif hv % 2 == 0 and k + 3 < NIGHTS:
            plans.setdefault(k + 3, []).append((c["infant"], "plain"))
    # escalated true cases: confirmed once the repeat came back
    for ci in range(len(cases)):
        c = cases[ci]
        if c.get("confirm_after_repeat", (None,))[0] == k:
            manual.append((ci, report + datetime.timedelta(hours=5), "confirmed", c["confirm_after_repeat"][1]))
            c["confirm_after_repeat"] = (None,)

ok("60 nights run into the ledger (exit status without bits 1, 16, 32)", len(run_rcs) == NIGHTS, str(run_rcs))

# ---- case ids from the ledger's list (infant + night -> case_id) -----------------------
lst = os.path.join(W, "all.csv")
p = sh([NS, "followup", "list", "-d", DB, "--all", "--no-bom", "-o", lst], FINAL_NOW)
ok("followup list --all", p.returncode == 0, p.stderr)
rows = read_csv(lst)
ids = {(r["infant_id"], r["night"]): int(r["case_id"]) for r in rows}
for c in cases:
    c["id"] = ids.get((c["infant"], c["date"]))
missing = [(c["infant"], c["date"]) for c in cases if c["id"] is None]
ok("every case of the model is in the ledger, and no other (%d cases)" % len(cases),
   not missing and len(rows) == len(cases), "missing %s; ledger has %d" % (missing[:5], len(rows)))
ok("the list file is mode 0600", oct(os.stat(lst).st_mode & 0o777) == "0o600", oct(os.stat(lst).st_mode))

# ---- the team's events: half by `record`, half by one `import` per night ---------------
manual.sort(key=lambda e: (e[1], e[0]))
imp = []
n_rec = 0
for i, (ci, at, kind, detail) in enumerate(manual):
    c = cases[ci]
    add_event(ci, at, kind, detail)
    ev = kind + ":" + detail if kind == "confirmed" else kind
    if i % 2 == 0:
        args = [NS, "followup", "record", "-d", DB, "--operator", OP, "--at", ts(at), str(c["id"]), ev]
        if kind != "confirmed" and detail:
            args.append(detail)
        p = sh(args, FINAL_NOW)
        n_rec += p.returncode == 0
        if p.returncode:
            ok("record %s on case %d" % (ev, c["id"]), False, p.stderr)
    else:
        imp.append({"case_id": c["id"], "event": ev, "detail": "" if kind == "confirmed" else detail, "at": ts(at)})
ok("followup record: %d events recorded one at a time" % n_rec, n_rec == (len(manual) + 1) // 2)
sheet = os.path.join(W, "sheet.csv")
write_csv(sheet, imp, ["case_id", "event", "detail", "at"])
p = sh([NS, "followup", "import", "-d", DB, "--operator", OP, sheet], FINAL_NOW)
ok("followup import: %d events from one sheet" % len(imp), p.returncode == 0, p.stderr)
p = sh([NS, "followup", "import", "-d", DB, "--operator", OP, sheet], FINAL_NOW)
ok("the same sheet imported again adds nothing", p.returncode == 0 and "0 events imported" in p.stderr, p.stderr)

# ---- expected indicators ---------------------------------------------------------------
now = parse(FINAL_NOW)


def period_of(date, by):
    if by == "month":
        return date[:7]
    if by == "quarter":
        return "%s-Q%d" % (date[:4], (int(date[5:7]) + 2) // 3)
    return "all"


def median(v):
    v = sorted(v)
    n = len(v)
    if not n:
        return None
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2.0


def expected(by):
    out = {}
    for per in sorted({period_of(n["date"], by) for n in nights}):
        ns_ = [n for n in nights if period_of(n["date"], by) == per]
        cs = [c for c in cases if period_of(c["date"], by) == per]
        sp = [c for c in cs if c["sp"]]
        scr = sum(n["screened"] for n in ns_)
        ini = sum(n["initial"] for n in ns_)
        inv = sum(n["invalid"] for n in ns_)
        E = {}
        E[("cards_screened", "")] = (scr, None, scr)
        E[("initial_cards", "")] = (ini, None, ini)
        E[("unsatisfactory_rate", "")] = (inv, scr, inv / scr)
        E[("screen_positive_rate", "ALL")] = (len(sp), ini, len(sp) / ini)
        done = [c for c in sp if any(e[0] <= now and e[2] in ("cleared_on_repeat", "escalated", "repeat_unsatisfactory",
                                                              "sample_received", "confirmed", "ruled_out")
                                     for e in c["events"])]
        E[("recall_completion_rate", "")] = (len(done), len(sp), len(done) / len(sp) if sp else None)
        lost = [c for c in sp if status(c) == "lost_to_follow_up"]
        E[("loss_to_follow_up_rate", "")] = (len(lost), len(sp), len(lost) / len(sp) if sp else None)
        tat = [x for n in ns_ for x in n["tat"]]
        E[("median_days_collection_to_report", "")] = (None, None, median(tat) / 24.0)
        fc = [(min(e[0] for e in c["events"] if e[2] == "contact") - c["opened"]).total_seconds() / 86400.0
              for c in sp if any(e[2] == "contact" for e in c["events"])]
        E[("median_days_report_to_first_contact", "")] = (None, None, median(fc))
        conf = [c for c in cs if status(c).startswith("confirmed:")]
        spc = [c for c in sp if status(c).startswith("confirmed:")]
        E[("confirmed_cases", "ALL")] = (len(conf), None, len(conf))
        E[("ppv", "ALL")] = (len(spc), len(sp), len(spc) / len(sp) if sp else None)
        E[("incidence", "ALL")] = (len(conf), ini, len(conf) / ini)
        orph = sum(n["orphans"] for n in ns_)
        E[("repeat_without_case", "")] = (orph, None, orph)
        conds = sorted({x for c in sp for x in c["conds"]} | {status(c)[10:] for c in conf})
        for x in conds:
            spx = [c for c in sp if x in c["conds"]]
            cx = [c for c in cs if status(c) == "confirmed:" + x]
            spcx = [c for c in spx if status(c) == "confirmed:" + x]
            E[("screen_positive_rate", x)] = (len(spx), ini, len(spx) / ini)
            E[("confirmed_cases", x)] = (len(cx), None, len(cx))
            E[("ppv", x)] = (len(spcx), len(spx), len(spcx) / len(spx) if spx else None)
            E[("incidence", x)] = (len(cx), ini, len(cx) / ini)
        out[per] = E
    return out


def compare(by, path):
    got = {}
    for r in read_csv(path):
        got.setdefault(r["period"], {})[(r["indicator"], r["condition"])] = r
    exp = expected(by)
    bad = []
    if sorted(got) != sorted(exp):
        return ["periods %s, expected %s" % (sorted(got), sorted(exp))]
    for per, E in exp.items():
        G = got[per]
        if set(G) != set(E):
            bad.append("%s: indicators differ: extra %s, missing %s" % (per, sorted(set(G) - set(E))[:4],
                                                                      sorted(set(E) - set(G))[:4]))
        for key, (num, den, val) in E.items():
            g = G.get(key)
            if g is None:
                continue
            gnum = int(g["numerator"]) if g["numerator"] else None
            gden = int(g["denominator"]) if g["denominator"] else None
            gval = float(g["value"]) if g["value"] else None
            if key[0].startswith("median"):
                num = gnum
                den = gden
            if gnum != num or gden != den or (val is None) != (gval is None) \
                    or (val is not None and abs(gval - val) > 1e-9 * max(1.0, abs(val))):
                bad.append("%s %s %s: got %s/%s=%s, expected %s/%s=%s" % (per, key[0], key[1], gnum, gden, gval, num,
                                                                        den, val))
    return bad


for by in ("month", "quarter", "all"):
    out = os.path.join(W, "stats-%s.csv" % by)
    js = os.path.join(W, "stats-%s.json" % by)
    p = sh([NS, "followup", "stats", "-d", DB, "--from", "2026-09-01", "--to", "2026-10-30", "--by", by, "-o", out,
            "--json", js], FINAL_NOW)
    if p.returncode:
        ok("followup stats --by %s" % by, False, p.stderr)
        continue
    bad = compare(by, out)
    E = expected(by)
    ok("stats --by %s: every indicator equals the value computed from the simulator's truth and the team's "
       "record (%d periods, %d values)" % (by, len(E), sum(len(e) for e in E.values())), not bad, "; ".join(bad[:6]))
    with open(js) as f:
        J = json.load(f)
    jbad = [r for r in J["indicators"] if r["value"] is not None and abs(
        r["value"] - E[r["period"]][(r["indicator"], r["condition"] or "")][2]) > 1e-5 * max(1.0, abs(r["value"]))]
    ok("stats --by %s: the JSON says the same" % by, len(J["indicators"]) == sum(len(e) for e in E.values()) and not jbad,
       str(jbad[:3]))

# the quarter really exercised what it should
allc = [c for c in cases]
kinds = {}
for c in allc:
    for e in c["events"]:
        kinds[e[2]] = kinds.get(e[2], 0) + 1
sp = [c for c in allc if c["sp"]]
unresolved = [c for c in sp if is_open(c)]
ok("the quarter has cleared (%d), escalated (%d) and unsatisfactory (%d) repeats, confirmed (%d), ruled out (%d), "
   "lost (%d), declined (%d) and never resolved (%d) cases, and repeat cards without a case (%d)"
   % (kinds.get("cleared_on_repeat", 0), kinds.get("escalated", 0), kinds.get("repeat_unsatisfactory", 0),
      kinds.get("confirmed", 0), kinds.get("ruled_out", 0), kinds.get("lost_to_follow_up", 0),
      kinds.get("declined", 0), len(unresolved), sum(n["orphans"] for n in nights)),
   all(kinds.get(x, 0) > 0 for x in ("cleared_on_repeat", "escalated", "confirmed", "ruled_out", "lost_to_follow_up",
                                      "declined")) and unresolved and sum(n["orphans"] for n in nights) > 0, str(kinds))

# ---- outcomes for the geneticists ------------------------------------------------------
oc = os.path.join(W, "outcomes.csv")
p = sh([NS, "followup", "export-outcomes", "-d", DB, "-o", oc], FINAL_NOW)
exp_oc = sorted({(c["infant"], status(c)[10:]) for c in allc if status(c).startswith("confirmed:")})
got_oc = sorted((r["infant_id"], r["condition"]) for r in read_csv(oc)) if p.returncode == 0 else []
ok("export-outcomes: one row per confirmed baby and condition (%d), mode 0600" % len(exp_oc),
   p.returncode == 0 and got_oc == exp_oc and oct(os.stat(oc).st_mode & 0o777) == "0o600",
   p.stderr + " got %s expected %s" % (got_oc[:3], exp_oc[:3]))
rd = os.path.join(W, "rescore")
p = sh([NS, "rescore", "-v", "0", "-p", os.path.join(os.path.dirname(NS), "configs/panel-default.yaml"), "-o", rd,
        "--outcomes", oc, os.path.join(W, "out")], FINAL_NOW)
known = 0
if p.returncode == 0:
    for r in read_csv(rd + "/rescore-conditions.csv"):
        if r["condition"] != "ANY":
            known += int(r.get("known_cases") or r.get("known") or 0)
ok("rescore --outcomes accepts the export and finds every confirmed case (exit 0, %d known)" % known,
   p.returncode == 0 and known == len(exp_oc), "exit %d: %s" % (p.returncode, p.stderr[-300:]))

# ---- personal data never on a terminal or in a log -------------------------------------
leaks = []
for fn in os.listdir(W):
    if fn.startswith("run-") and fn.endswith(".err"):
        t = open(os.path.join(W, fn), encoding="utf-8").read()
        leaks += [x for x in pii if x and x in t]
ok("no mother's name or phone in any run's stdout/stderr", not leaks, str(leaks[:2]))
ok("the ledger is mode 0600", oct(os.stat(DB).st_mode & 0o777) == "0o600", oct(os.stat(DB).st_mode))
named = [r for r in rows if r["mother_name"] in pii and r["contact_phone"].lstrip("'") in pii]
ok("the list file holds the names and phones (for the team)", len(named) == len(rows) > 0,
   "%d of %d rows" % (len(named), len(rows)))

with open(os.path.join(W, "model.json"), "w") as f:
    json.dump({"cases": len(cases), "events": sum(len(c["events"]) for c in cases),
               "piifile": sorted(x for x in pii if x)}, f)
sys.exit(1 if fails else 0)
