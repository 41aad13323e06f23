#!/usr/bin/python3
"""bench_targets.py: where one `make bench` run stands against issue 6's targets.

Usage: bench_targets.py [--write] BENCH.json

Reads the results scripts/bench.sh wrote and prints, target by target, the figure of this
run, the goal, and whether it was met ("met", "not met", or "not measured" when the run
left the figure out, as BENCH_QUICK's smaller night or a missing peer do).  With --write
the same list is added to BENCH.json as "targets".  The targets are goals the bench
reports against, never a failure: the exit status is 0 whatever they say (2 for a usage
error, or a file that cannot be read or is not a bench.json).  A target whose records
recalled other cards than a peer's is "not met" whatever their speed: a speed figure on
different answers is worthless.  Ratios are taken from the medians, unrounded.

The targets (issue 6, item 4; the reference figures are BUILD-NOTES §6's):
  (a)  a 10,000-sample night end to end <= 0.3 s
  (b)  plate-CSV ingest >= 400 MiB/s per thread; >= 20x the pandas baseline; >= 3x DuckDB
       on the same files end to end.  The pandas ratio is given both ways the sentence
       reads: the ingest (the night's run until its manifest and plates are read) against
       the baseline's own read time, and the whole night against the baseline's whole run
  (c)  rescore of 10M samples <= 1.5 s on 2 threads, peak RSS <= 512 MiB, >= 3x h5py+NumPy
  (d)  the kernels within 2x of the read bandwidth the bench measures (a fraction >= 0.5)
  2 threads >= 1.7x faster than 1 on (b)-(d)
"""
import json
import sys


def find(res, workload, tool="neoscreen", threads=None):
    for r in res:
        if r.get("workload") == workload and r.get("tool") == tool and (threads is None or r.get("threads") == threads):
            return r
    return None


def num(x):
    return x if isinstance(x, (int, float)) and not isinstance(x, bool) else None


def fmt(x, unit="", nd=2):
    if x is None:
        return "?"
    s = f"{x:.{nd}f}".rstrip("0").rstrip(".") if isinstance(x, float) else str(x)
    return s + unit


SIZE = {"night_10k": 10000, "night_1M": 1000000, "ingest_1M": 1000000, "calls_1M": 1000000, "ingest_plates": 1000000,
        "rescore_10M": 10000000, "rescore_10M_full": 10000000}


def full_size(res):
    """Drop the records of workloads smaller than the targets' (BENCH_QUICK, BENCH_BIG), and
    of sized workloads that do not say their size: their figures answer another question."""
    return [r for r in res if r.get("workload") not in SIZE or r.get("samples") == SIZE[r["workload"]]]


def differs(r):
    """A record whose tool did not recall the cards its peer did: no speed figure of it counts."""
    return bool(r) and (r.get("same_answer_as_baseline") is False or r.get("same_answer_as_neoscreen") is False
                        or r.get("same_answer_as_duckdb") is False
                        or "DIFFERENT ANSWERS" in (r.get("speedup_vs_numpy"), r.get("speedup_vs_duckdb")))


def over(a, b):
    """a / b from two records' medians, unrounded (None when either is missing)"""
    x, y = a and num(a.get("median_s")), b and num(b.get("median_s"))
    return x / y if x is not None and y else None


def targets(res):
    """The list of targets: dicts with id, goal, figure (text), value, limit, met (True,
    False, or None when not measured)."""
    out = []
    res = full_size(res)

    def add(tid, goal, value, limit, above, figure, recs=()):
        met = None if value is None else (value >= limit if above else value <= limit)
        if value is None and not figure.startswith("not measured"):
            figure = "no figure in this run"
        if any(differs(r) for r in recs):
            met, figure = False, "DIFFERENT ANSWERS from a peer, no speed figure counts (" + figure + ")"
        out.append({"id": tid, "goal": goal, "value": value, "limit": limit, "met": met, "figure": figure})

    # (a)
    n2, n1 = find(res, "night_10k", threads=2), find(res, "night_10k", threads=1)
    v2, v1 = n2 and num(n2.get("median_s")), n1 and num(n1.get("median_s"))
    add("a", "10k night end to end <= 0.3 s", v2, 0.3, False,
        f"{fmt(v2, ' s')} at 2 threads, {fmt(v1, ' s')} at 1 (median)", (n2, n1))

    # (b) MiB/s per thread
    p1, p2 = find(res, "ingest_plates", threads=1), find(res, "ingest_plates", threads=2)
    m1 = p1 and num(p1.get("mib_per_s_per_thread"))
    m2 = p2 and num(p2.get("mib_per_s_per_thread"))
    here = p1 and num(p1.get("target_400_on_this_machine"))
    naive = p1 and num(p1.get("vs_naive_strtod_same_files"))
    extra = ""
    if here is not None:
        extra += f"; BUILD-NOTES' 400 is {fmt(here)} on this machine by its naive parser"
    if naive is not None:
        extra += f"; {fmt(naive, 'x')} the naive parser on the same files"
    add("b.mib_s", "plate-CSV ingest >= 400 MiB/s per thread", m1, 400.0, True,
        f"{fmt(m1, ' MiB/s')} at 1 thread, {fmt(m2, ' MiB/s')} a thread at 2{extra}", (p1, p2))
    if here is not None and m1 is not None:
        add("b.mib_s_here", "the same, against 400 MiB/s scaled to this machine", m1, here, True,
            f"{fmt(m1, ' MiB/s')} at 1 thread against {fmt(here, ' MiB/s')}", (p1, p2))

    # (b) pandas, two readings
    # (ratios from the medians, unrounded; the records' own speedups are rounded to 0.01)
    i2, ib = find(res, "ingest_1M", threads=2), find(res, "ingest_1M", tool="numpy")
    w2, wb = find(res, "night_1M", threads=2), find(res, "night_1M", tool="numpy")
    vi = over(ib, i2)
    add("b.pandas_ingest", "ingest >= 20x the pandas baseline's read (1M night, 2 threads)", vi, 20.0, True,
        f"{fmt(vi, 'x')}: {fmt(i2 and num(i2.get('median_s')), ' s')} against pandas' "
        f"{fmt(ib and num(ib.get('median_s')), ' s')}", (i2, w2))
    c2 = find(res, "calls_1M", threads=2)
    vw, vc = over(wb, w2), over(wb, c2)
    add("b.pandas_night", "whole night >= 20x the pandas baseline's whole run (1M, 2 threads)", vw, 20.0, True,
        f"{fmt(vw, 'x')} ({fmt(vc, 'x')} until the calls are made, before the archive, list and report)", (w2, c2))

    # (b) DuckDB, median and rep by rep
    d2 = find(res, "night_1M", tool="duckdb", threads=2)
    vd = over(d2, w2)
    reps = ""
    if w2 and d2 and w2.get("times_s") and d2.get("times_s") and len(w2["times_s"]) == len(d2["times_s"]):
        rr = [d / n for n, d in zip(w2["times_s"], d2["times_s"]) if n > 0]
        reps = "; rep by rep " + ", ".join(f"{x:.2f}x" for x in rr)
    add("b.duckdb", "whole night >= 3x DuckDB end to end (1M, 2 threads)", vd, 3.0, True,
        f"{fmt(vd, 'x')} by the medians{reps}" if d2 or not w2 else "not measured (DuckDB did not run)", (w2, d2))

    # (c)
    r2 = find(res, "rescore_10M", threads=2)
    vr = r2 and num(r2.get("median_s"))
    add("c.time", "rescore 10M <= 1.5 s on 2 threads", vr, 1.5, False, f"{fmt(vr, ' s')}", (r2,))
    rs = [r for r in res if r.get("tool") == "neoscreen" and r.get("workload", "").startswith("rescore_10M")]
    rss = [x for x in (num(r.get("peak_rss_mib")) for r in rs) if x is not None]
    vm = max(rss) if rss else None
    add("c.rss", "rescore peak RSS <= 512 MiB", vm, 512.0, False,
        f"{fmt(vm, ' MiB')} at most over rescore_10M and rescore_10M_full, both thread counts", rs)
    rb = find(res, "rescore_10M", tool="numpy")
    f2 = find(res, "rescore_10M_full", threads=2)
    vn, vf = over(rb, r2), over(rb, f2)
    add("c.numpy", "rescore 10M >= 3x h5py + NumPy", vn, 3.0, True,
        f"{fmt(vn, 'x')} ({fmt(vf, 'x')} computing every condition again)", (r2, f2))

    # (d)
    fr = [(r.get("workload"), r.get("threads"), num(r.get("fraction_of_read_bandwidth"))) for r in res
          if r.get("workload") in ("kernels", "kernels_blocked")]
    fr = [x for x in fr if x[2] is not None]
    vk = min(x[2] for x in fr) if fr else None
    add("d", "kernels within 2x of the read bandwidth (fraction >= 0.5)", vk, 0.5, True,
        (f"{fmt(vk)} at the least, {fmt(max(x[2] for x in fr))} at the most" if fr else "not measured"))

    # 2 threads against 1, on (b)-(d)
    def two_vs_one(workload, tool="neoscreen"):
        a, b = find(res, workload, tool, 1), find(res, workload, tool, 2)
        if workload.startswith("kernels"):
            x, y = a and num(a.get("gib_s")), b and num(b.get("gib_s"))
            return y / x if x and y else None
        return over(a, b)
    for w, what in (("ingest_plates", "(b) the plate reader"), ("ingest_1M", "(b) the ingest, manifest and plates"),
                    ("night_1M", "(b) the whole 1M night"), ("rescore_10M", "(c) rescore_10M"),
                    ("rescore_10M_full", "(c) rescore_10M_full"), ("kernels_blocked", "(d) the kernels in blocks"),
                    ("kernels", "(d) the kernels column by column")):
        v = two_vs_one(w)
        add("2v1." + w, f"2 threads >= 1.7x 1 thread: {what}", v, 1.7, True, fmt(v, "x"),
            (find(res, w, threads=1), find(res, w, threads=2)))
    return out


def main(argv):
    write = "--write" in argv
    args = [a for a in argv if a != "--write"]
    if len(args) != 1 or args[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if args and args[0] in ("-h", "--help") else 2
    path = args[0]
    try:
        with open(path) as fh:
            doc = json.load(fh)
    except (OSError, ValueError) as e:
        print(f"bench_targets: {path}: {e}", file=sys.stderr)
        return 2
    res = doc.get("results") if isinstance(doc, dict) else None
    if not isinstance(res, list) or not all(isinstance(r, dict) for r in res):
        print(f"bench_targets: {path}: not a bench.json (no list of records under \"results\")", file=sys.stderr)
        return 2
    ts = targets(res)
    small = sorted({r["workload"] for r in res if r not in full_size(res)})
    print("\ntargets (issue 6: goals the bench reports against, never a failure)")
    if small:
        print(f"  (smaller than the targets' sizes in this run, not measured: {', '.join(small)})")
    for t in ts:
        state = "not measured" if t["met"] is None else ("met" if t["met"] else "NOT MET")
        print(f"  {state:12} {t['goal']}: {t['figure']}")
    n_met = sum(1 for t in ts if t["met"])
    n_not = sum(1 for t in ts if t["met"] is False)
    print(f"  ({n_met} met, {n_not} not met, {len(ts) - n_met - n_not} not measured)")
    if write:
        doc["targets"] = ts
        with open(path, "w") as fh:
            json.dump(doc, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
