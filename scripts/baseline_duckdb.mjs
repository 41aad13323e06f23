#!/usr/bin/env node
// baseline_duckdb.mjs — neoscreen's panel rules for one night of plate CSVs, in DuckDB SQL.
//
// The second peer of `make bench` (scripts/bench.sh), beside scripts/baseline_numpy.py: the
// same rules as that script's `night` mode, and the same scope, but the heavy work is done by
// DuckDB (@duckdb/node-api, installed by `npm ci --prefix scripts/duckdb`).  Node only lists
// the plate files, reads their header lines (to map vendor spellings onto the panel) and
// writes SQL generated from the panel; DuckDB reads every cell (read_csv over the plate
// files and the manifest), joins the wells to the manifest and computes the ratios, flags
// (with censoring), strata, calls, the TPN rule and the state.  The rules, as
// baseline_numpy.py states them from neoscreen's source:
//
//   cells     "<x" = x as an upper bound (true value in [0, x]); ND = 0 exact; empty / NaN
//             (any case) = missing
//   manifest  columns by name (any case); rows without sample_id or infant_id dropped; a
//             sample_id twice for one infant keeps the first row, for two infants drops all;
//             age_hours = collection - birth, both as days*24 + h + min/60 + s/3600, missing
//             when either is missing or collection < birth; feeding canonical or unknown;
//             transfusion / nicu 1|yes|y|true, 0|no|n|false, else unknown
//   ratios    sums in listed order; missing when a term is missing or the denominator is
//             not > 0; a "<x" numerator term gives an upper bound, a "<x" denominator term a
//             lower bound, both: missing
//   flags     limits met within 1e-9 (relative); censored values flagged only when the
//             whole interval agrees, or when even its least abnormal end is at or beyond
//             the cutoff; else missing
//   strata    a marker's limits come from the first panel stratum (panel order) the card
//             belongs to that the marker overrides
//   calls     rule any / all over primaries, require_secondary, missing primaries and
//             secondaries; TPN rule (tpn_sensitive conditions on TPN need secondary
//             confirmation, unless critical or a primary reaches tpn_max_fold x cutoff)
//   state     control / unmatched / recall / invalid_specimen / negative
//
// NOT covered, on purpose (as in baseline_numpy.py): plate QC (cards neoscreen puts on
// qc_hold are scored like any other), plate quarantine (a malformed plate is refused with a
// message, exit 2, instead of being dropped), condition scores (score: blocks, refused),
// panel checking (give a panel that passes `neoscreen config check`), archive (batch.h5)
// input.  Files in GBK are decoded by Node into UTF-8 copies first (DuckDB reads UTF-8).
// Not refused here, though neoscreen quarantines the plate: cells DuckDB's DOUBLE cast
// accepts and neoscreen's decimal parser does not (" 1.5", "1_000", "1e-400"); such a night
// gives a different recalled set, which the bench reports.
//
// Usage:
//   node scripts/baseline_duckdb.mjs night --panel PANEL.yaml|PANEL.json NIGHT_DIR
//        [-o OUT.txt] [--threads N] [--counts FILE] [--sql FILE]
// A .yaml panel is converted to JSON by /usr/bin/python3 (python3-yaml), every scalar as
// text, as libyaml gives it to neoscreen.  --threads: DuckDB's threads setting (default:
// DuckDB's own, the number of cores).  --sql FILE: write the generated SQL there.
//
// Output: the recalled sample_ids, sorted, one per line (OUT or stdout).  stderr: recalls
// per condition, states and the timings.  --counts FILE: per-condition recall counts as CSV
// (condition,recalls; last row ANY), patient cards with a manifest row.
// Exit status: 0 done, 1 usage or input error (or DuckDB not installed), 2 a panel or night
// this baseline does not model.

import { spawnSync } from 'node:child_process';
import { isUtf8 } from 'node:buffer';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const RTOL = 1e-9;                                        // NS_CUTOFF_RTOL
const F_NONE = 0, F_BORDER = 1, F_CUTOFF = 2, F_CRITICAL = 3, F_MISSING = 4;   // kernels/cutoff.h
const C_BORDER = 1, C_CRIT = 3, C_INDET = 4;      // kernels/call.h (calls 0..3 are flag levels 0..3)
const ST_NEG = 0, ST_RECALL = 1, ST_INVALID = 2;  // pipeline/batch.h (screened cards only here)
const SPEC = ['early_collection', 'late_collection', 'missing_collection_age',
    'missing_birth_weight', 'missing_gestational_age', 'transfusion', 'tpn'];
const FIXED = ['plate_id', 'well', 'sample_id', 'sample_type'];
const TYPES = ['patient', 'qc_low', 'qc_high', 'blank'];
const FEEDS = ['breast', 'formula', 'mixed', 'tpn'];
const MANIFEST_COLS = ['sample_id', 'infant_id', 'sex', 'birth_weight_g', 'gestational_age_days',
    'birth_time', 'collection_time', 'feeding', 'transfusion', 'nicu'];

class Refuse extends Error {}               // a panel or input this baseline does not model (exit 2)
class InputError extends Error {}           // usage or input error (exit 1)

function die(msg, code) {
    process.stderr.write(`baseline_duckdb: ${msg}\n`);
    process.exit(code);
}

// ---- SQL text ---------------------------------------------------------------------------

const q = (s) => `'${String(s).replaceAll("'", "''")}'`;          // string literal
// a double constant, exactly: JS prints the shortest text that reads back as the same double
// (DuckDB's cast is correctly rounded); infinities never reach here
function dbl(x) {
    if (!Number.isFinite(x)) throw new Error(`not a finite constant: ${x}`);
    return `CAST(${q(Object.is(x, -0) ? '-0.0' : String(x))} AS DOUBLE)`;
}
const orList = (xs, empty = 'false') => (xs.length ? xs.map((x) => `(${x})`).join(' OR ') : empty);

// ---- panel ------------------------------------------------------------------------------

function num(s, dflt = NaN) {
    // neoscreen reads numbers with strtod from the YAML scalar text
    if (s === undefined || s === null) return dflt;
    const x = Number(String(s).trim());
    if (Number.isNaN(x)) throw new Refuse(`panel: '${s}' is not a number`);
    return x;
}
const isTrue = (s) => String(s ?? 'false') === 'true';
const list = (x) => (Array.isArray(x) ? x.map(String) : []);

function loadPanelDoc(file) {
    if (file.toLowerCase().endsWith('.json')) return JSON.parse(fs.readFileSync(file, 'utf8'));
    const py = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
    const code = 'import json, sys, yaml\n'
        + 'L = getattr(yaml, "CBaseLoader", yaml.BaseLoader)\n'
        + 'json.dump(yaml.load(open(sys.argv[1], "rb").read().decode("utf-8"), Loader=L), sys.stdout)\n';
    const r = spawnSync(py, ['-c', code, file], { encoding: 'utf8', maxBuffer: 1 << 28 });
    if (r.error) throw new InputError(`cannot run ${py} to read the YAML panel: ${r.error.message}`);
    if (r.status !== 0) throw new InputError(`${file}: ${py} could not read it as YAML:\n${r.stderr.trim()}`);
    return JSON.parse(r.stdout);
}

// The parts of a neoscreen panel the calls need (pipeline/panel.c), as baseline_numpy.py's Panel.
function loadPanel(file) {
    const y = loadPanelDoc(file);
    if (!y || typeof y !== 'object' || !y.analytes || !y.conditions)
        throw new Refuse(`${file}: not a neoscreen panel (no analytes: / conditions:)`);
    const P = { path: file };
    P.analytes = y.analytes.map((a) => String(a.name));
    P.spelling = new Map();                 // lower-case header spelling -> analyte index
    y.analytes.forEach((a, i) => {
        for (const s of [String(a.name), ...list(a.aliases)])
            if (!P.spelling.has(s.toLowerCase())) P.spelling.set(s.toLowerCase(), i);
    });
    const ai = new Map(P.analytes.map((n, i) => [n, i]));
    const ana = (t) => {
        if (!ai.has(String(t))) throw new Refuse(`${file}: ratio term ${t} is not an analyte`);
        return ai.get(String(t));
    };
    P.ratios = (y.ratios || []).map((r) => ({ name: String(r.name), num: list(r.num).map(ana), den: list(r.den).map(ana) }));
    P.marker = new Map(ai);                 // marker name -> index (analytes, then ratios)
    P.ratios.forEach((r, k) => P.marker.set(r.name, P.analytes.length + k));
    const inp = y.input || {};
    const cols = inp.columns || {}, types = inp.sample_types || {};
    P.colAlias = Object.fromEntries(FIXED.map((k) => [k, [k, ...list(cols[k])]]));
    P.typeAlias = Object.fromEntries(TYPES.map((k) => [k, [k, ...list(types[k])]]));
    const sp = y.specimen || {};
    P.minAge = num(sp.min_age_hours);
    P.maxAge = num(sp.max_age_hours);
    P.invalid = SPEC.map((f) => String(sp[f] ?? 'ignore') === 'invalid');
    P.strata = (y.strata || []).map((s) => {
        const cmp = ['lt', 'le', 'gt', 'ge', 'eq'].find((k) => k in s);
        if (!cmp) throw new Refuse(`${file}: stratum ${s.name} has no lt / le / gt / ge / eq`);
        const cov = String(s.covariate);
        const text = cov === 'feeding' || cov === 'sex';
        return { name: String(s.name), cov, cmp, value: text ? String(s[cmp]) : num(s[cmp]) };
    });
    const sidx = new Map(P.strata.map((s, k) => [s.name, k]));
    if (y.population !== undefined && y.population !== null)
        process.stderr.write(`baseline_duckdb: ${file}: population: is only used by condition scores; ignored\n`);
    P.conds = y.conditions.map((c) => {
        if (c.score !== undefined && c.score !== null)
            throw new Refuse(`${file}: condition ${c.code} has a score: block; condition scores are not part of `
                + 'this baseline (use a panel without score: blocks)');
        const markers = c.markers.map((m) => {
            if (!P.marker.has(String(m.marker))) throw new Refuse(`${file}: condition ${c.code}: unknown marker ${m.marker}`);
            const thr = { low: String(m.direction) === 'low', bl: num(m.borderline), cut: num(m.cutoff), cr: num(m.critical) };
            if (Number.isNaN(thr.cut)) throw new Refuse(`${file}: condition ${c.code} marker ${m.marker}: no cutoff`);
            const over = [];                 // [stratum index, thresholds], in panel stratum order
            for (const [sn, o] of Object.entries(m.strata || {})) {
                if (!sidx.has(sn)) throw new Refuse(`${file}: condition ${c.code} marker ${m.marker}: unknown stratum ${sn}`);
                over.push([sidx.get(sn), { low: thr.low, bl: num(o?.borderline, thr.bl), cut: num(o?.cutoff, thr.cut),
                    cr: num(o?.critical, thr.cr) }]);
            }
            over.sort((a, b) => a[0] - b[0]);
            return { name: String(m.marker), m: P.marker.get(String(m.marker)),
                primary: String(m.role ?? 'primary') === 'primary', thr, over };
        });
        return { code: String(c.code), all: String(c.rule ?? 'any') === 'all', req: isTrue(c.require_secondary),
            tpn: isTrue(c.tpn_sensitive), fold: num(c.tpn_max_fold), markers };
    });
    return P;
}

// ---- the rules as SQL expressions ---------------------------------------------------------

// x at or beyond limit on the abnormal side, within RTOL (kernels/cutoff.c beyond()), in JS
// for constants; the effective limit lim -+ |lim| * RTOL is the same double the C computes
function effLimit(lim, low) {
    const tol = Math.abs(lim) * RTOL;
    return low ? lim + tol : lim - tol;
}
function levelJS(x, t) {
    const b = (lim) => !Number.isNaN(lim) && (t.low ? x <= effLimit(lim, true) : x >= effLimit(lim, false));
    return b(t.cr) ? F_CRITICAL : b(t.cut) ? F_CUTOFF : b(t.bl) ? F_BORDER : F_NONE;
}
// ns_cutoff_level on a non-missing SQL value
function levelSQL(x, t) {
    const arms = [[t.cr, F_CRITICAL], [t.cut, F_CUTOFF], [t.bl, F_BORDER]]
        .filter(([lim]) => !Number.isNaN(lim))
        .map(([lim, f]) => `WHEN ${x} ${t.low ? '<=' : '>='} ${dbl(effLimit(lim, t.low))} THEN ${f}`);
    return arms.length ? `CASE ${arms.join(' ')} ELSE ${F_NONE} END` : `${F_NONE}`;
}
// ns_cutoff_level_bounded: x (NULL = missing), bound 0 exact, 1 upper ([0, x]), 2 lower ([x, inf))
function flagSQL(x, bound, t) {
    const lx = levelSQL(x, t);
    // an interval's two ends a, b: the flag if they agree, else the less abnormal one when it
    // is at or beyond the cutoff, else missing; one end is a constant (0 or inf)
    const comb = (k) => (k >= F_CUTOFF ? `CASE WHEN (${lx}) >= ${k} THEN ${k} WHEN (${lx}) >= ${F_CUTOFF} THEN (${lx}) ELSE ${F_MISSING} END`
        : `CASE WHEN (${lx}) = ${k} THEN ${k} ELSE ${F_MISSING} END`);
    const l0 = levelJS(0, t), linf = levelJS(Infinity, t);
    return `CASE WHEN ${x} IS NULL THEN ${F_MISSING} WHEN ${bound} = 0 THEN ${lx} `
        + `WHEN ${bound} = 1 THEN ${comb(l0)} ELSE ${comb(linf)} END`;
}

function buildScoreSQL(P, src) {
    const na = P.analytes.length;
    const val = (m) => `v${m}`, bnd = (m) => `b${m}`;
    // layer 1: analytes, ratios, covariates -> strata, TPN, specimen validity
    const l1 = ['plate_id', 'well', 'sample_id'];
    for (let a = 0; a < na; a++) l1.push(`v${a}`, `CASE WHEN u${a} THEN 1 ELSE 0 END AS b${a}`);
    P.ratios.forEach((r, k) => {
        const m = na + k;
        const sum = (ts) => ts.map((t) => `v${t}`).join(' + ');
        const cn = orList(r.num.map((t) => `u${t}`)), cd = orList(r.den.map((t) => `u${t}`));
        const ok = `(${sum(r.den)}) > 0 AND NOT ((${cn}) AND (${cd}))`;     // NULL terms give NULL
        l1.push(`CASE WHEN ${ok} THEN (${sum(r.num)}) / (${sum(r.den)}) END AS v${m}`,
            `CASE WHEN NOT coalesce(${ok}, false) THEN 0 WHEN ${cn} THEN 1 WHEN ${cd} THEN 2 ELSE 0 END AS b${m}`);
    });
    const used = new Set(P.conds.flatMap((c) => c.markers.flatMap((mk) => mk.over.map((o) => o[0]))));
    for (const k of [...used].sort((a, b) => a - b)) {
        const s = P.strata[k];
        let e;
        if (s.cov === 'feeding' || s.cov === 'sex') e = `${s.cov} = ${q(s.value)}`;
        else if (['age_hours', 'birth_weight_g', 'gestational_age_days', 'nicu', 'transfusion'].includes(s.cov)) {
            const x = s.cov === 'nicu' || s.cov === 'transfusion' ? `CAST(CASE WHEN ${s.cov} >= 0 THEN ${s.cov} END AS DOUBLE)` : s.cov;
            e = `${x} ${{ lt: '<', le: '<=', gt: '>', ge: '>=', eq: '=' }[s.cmp]} ${dbl(s.value)}`;
        } else throw new Refuse(`${P.path}: stratum ${s.name}: covariate ${s.cov} is not modelled`);
        l1.push(`coalesce(${e}, false) AS s${k}`);
    }
    const spec = [
        Number.isNaN(P.minAge) ? 'false' : `coalesce(age_hours < ${dbl(P.minAge)}, false)`,
        Number.isNaN(P.maxAge) ? 'false' : `coalesce(age_hours > ${dbl(P.maxAge)}, false)`,
        'age_hours IS NULL', 'birth_weight_g IS NULL', 'gestational_age_days IS NULL',
        'transfusion = 1', "feeding = 'tpn'"];
    l1.push(`feeding = 'tpn' AS tpn`, `${orList(spec.filter((_, k) => P.invalid[k]))} AS invalid`);

    // layer 2: one flag column per distinct (marker, limits, stratum overrides); with
    // overrides, the first panel stratum the card is in that the marker overrides decides
    const flags = new Map(), l2 = ['plate_id', 'well', 'sample_id', 'tpn', 'invalid'];
    const needV = new Set();
    const flagCol = (mk) => {
        const key = JSON.stringify([mk.m, mk.thr, mk.over]);
        if (!flags.has(key)) {
            const x = val(mk.m), b = bnd(mk.m), name = `f${flags.size}`;
            let e = flagSQL(x, b, mk.thr);
            if (mk.over.length)
                e = `CASE ${mk.over.map(([k, t]) => `WHEN s${k} THEN ${flagSQL(x, b, t)}`).join(' ')} ELSE ${e} END`;
            flags.set(key, name);
            l2.push(`${e} AS ${name}`);
        }
        return flags.get(key);
    };
    // layer 3: calls (kernels/call.c) and the TPN rule (pipeline/score.c)
    const l3 = ['plate_id', 'well', 'sample_id', 'invalid'];
    P.conds.forEach((c, ci) => {
        const prim = c.markers.filter((m) => m.primary).map(flagCol);
        const sec = c.markers.filter((m) => !m.primary).map(flagCol);
        if (!prim.length) throw new Refuse(`${P.path}: condition ${c.code} has no primary marker`);
        const nary = (fn, xs) => (xs.length === 1 ? xs[0] : `${fn}(${xs.join(', ')})`);
        const anyMissing = orList(prim.map((f) => `${f} = ${F_MISSING}`));
        const lvl = c.all ? nary('least', prim.map((f) => `CASE WHEN ${f} = ${F_MISSING} THEN ${F_CRITICAL} ELSE ${f} END`))
            : nary('greatest', prim.map((f) => `CASE WHEN ${f} = ${F_MISSING} THEN ${F_NONE} ELSE ${f} END`));
        const indet = c.all ? `(${anyMissing}) AND (${lvl}) <> ${F_NONE}` : `(${anyMissing}) AND (${lvl}) < ${F_CUTOFF}`;
        // a missing secondary cannot refute a positive primary (kernels/call.c)
        const secOk = orList(sec.map((f) => `${f} >= ${F_CUTOFF}`));
        // The TPN rule: on TPN, a tpn_sensitive condition's call is the one with
        // require_secondary forced on, where that is lower and the plain call is not critical,
        // unless a primary reaches tpn_max_fold x its cutoff.  The two calls differ only when
        // the level is cutoff, no secondary confirms and the call is not indeterminate (then
        // borderline instead of positive), so: lowered when require_secondary, or on TPN.
        let lower = c.req ? 'true' : 'false';
        if (!c.req && c.tpn) {
            let exceed = [];
            if (!Number.isNaN(c.fold)) {
                exceed = c.markers.filter((m) => m.primary).map((mk) => {
                    const x = val(mk.m);
                    needV.add(mk.m);
                    const beyond = (t) => `${x} ${t.low ? '<=' : '>='} ${dbl(t.low ? t.cut / c.fold : t.cut * c.fold)}`;
                    return mk.over.length ? `CASE ${mk.over.map(([k, t]) => `WHEN s${k} THEN ${beyond(t)}`).join(' ')} ELSE ${beyond(mk.thr)} END`
                        : beyond(mk.thr);
                });
            }
            lower = `tpn AND NOT coalesce(${orList(exceed)}, false)`;
        }
        l3.push(`CASE WHEN ${indet} THEN ${C_INDET} WHEN (${lvl}) = ${F_CUTOFF} AND NOT (${secOk}) AND (${lower}) `
            + `THEN ${C_BORDER} ELSE ${lvl} END AS c${ci}`);
    });
    for (const m of needV) l2.push(val(m));
    for (const k of new Set(P.conds.flatMap((c) => c.markers.flatMap((mk) => (c.tpn && !Number.isNaN(c.fold) ? mk.over.map((o) => o[0]) : []))))) l2.push(`s${k}`);
    const calls = P.conds.map((_, ci) => `c${ci}`);
    const recall = orList(calls.map((c) => `${c} BETWEEN ${C_BORDER} AND ${C_CRIT}`));
    const indet = orList(calls.map((c) => `${c} = ${C_INDET}`));
    return `SELECT plate_id, well, sample_id, ${calls.join(', ')}, CASE WHEN ${recall} THEN ${ST_RECALL} WHEN (${indet}) OR invalid THEN ${ST_INVALID} ELSE ${ST_NEG} END AS state\n`
        + `FROM (SELECT ${l3.join(',\n  ')}\nFROM (SELECT ${l2.join(',\n  ')}\nFROM (SELECT ${l1.join(',\n  ')}\nFROM ${src})))`;
}

// ---- files --------------------------------------------------------------------------------

// Every input file is read once by Node before DuckDB reads it, for what DuckDB 1.5.6 does
// not do (reliably) itself:
//  * a file that is not UTF-8 is decoded as GBK, as neoscreen and baseline_numpy.py do
//    (DuckDB reads UTF-8 only, and in a multi-file read a bad byte past the first rows can
//    pass unnoticed);
//  * a file with an odd number of '"' (an unterminated quote) is refused: in a multi-file
//    read_csv, DuckDB drops the rest of such a file without an error;
//  * the header record (fields, quotes undone, BOM and CR dropped) maps vendor spellings
//    onto the panel, and the plates with one header are joined into one CSV in a temporary
//    directory, as baseline_numpy.py joins them for one pandas read_csv: DuckDB reads
//    thousands of 96-well files as thousands of 96-row chunks, and every expression after
//    it then runs on 96-row vectors (2-3x slower at 200k wells than one joined file).
let tmpDir = null;
const joinedFrom = new Map();               // joined file -> what it holds (for messages)
function tmpPath(name) {
    if (!tmpDir) {
        tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'baseline_duckdb-'));
        process.on('exit', () => fs.rmSync(tmpDir, { recursive: true, force: true }));
    }
    return path.join(tmpDir, name);
}

function scanFile(file) {
    let buf;
    try {
        buf = fs.readFileSync(file);
    } catch (e) {
        throw new InputError(`${file}: ${e.message}`);
    }
    let decoded = false;
    if (!isUtf8(buf)) {
        // GBK: ASCII, or a lead byte 0x81-0xFE and a trail byte 0x40-0x7E / 0x80-0xFE (checked
        // here: Node's decoder, even with fatal, skips some invalid bytes such as 0xFF)
        let ok = true;
        for (let i = 0; i < buf.length && ok; i++) {
            const c = buf[i];
            if (c < 0x80) continue;
            const t = buf[i + 1];
            ok = c >= 0x81 && c <= 0xfe && t !== undefined && ((t >= 0x40 && t <= 0x7e) || (t >= 0x80 && t <= 0xfe));
            i++;
        }
        let text = '';
        try {
            if (ok) text = new TextDecoder('gbk', { fatal: true }).decode(buf);
        } catch {
            ok = false;
        }
        if (!ok || text.includes('\ufffd'))
            throw new Refuse(`${file}: neither UTF-8 nor GBK (neoscreen would quarantine it)`);
        buf = Buffer.from(text, 'utf8');
        decoded = true;
    }
    let quotes = 0;
    for (let i = buf.indexOf(0x22); i >= 0; i = buf.indexOf(0x22, i + 1)) quotes++;
    if (quotes % 2) throw new Refuse(`${file}: an unterminated quoted field (neoscreen would quarantine the plate)`);
    let quoted = false, end = buf.length;
    for (let i = 0; i < buf.length; i++) {
        const c = buf[i];
        if (c === 0x22) quoted = !quoted;
        else if (c === 0x0a && !quoted) { end = i; break; }
    }
    let text = buf.subarray(0, end).toString('utf8');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (text.endsWith('\r')) text = text.slice(0, -1);
    const fields = [];
    let f = '', inq = false;
    for (let i = 0; i < text.length; i++) {
        const ch = text[i];
        if (inq) {
            if (ch === '"' && text[i + 1] === '"') { f += '"'; i++; } else if (ch === '"') inq = false; else f += ch;
        } else if (ch === '"') inq = true;
        else if (ch === ',') { fields.push(f); f = ''; } else f += ch;
    }
    fields.push(f);
    return { text, fields, buf, body: end + 1, decoded, crlf: end > 0 && end < buf.length && buf[end - 1] === 0x0d };
}

// Header -> {fixed name: column index}, {analyte index: column index}; columns not in the
// panel are skipped, as neoscreen skips them.
function plateColumns(P, fields, file) {
    const fixed = {}, ana = new Map();
    const lower = Object.fromEntries(FIXED.map((k) => [k, new Set(P.colAlias[k].map((s) => s.toLowerCase()))]));
    fields.forEach((h, j) => {
        const hl = h.toLowerCase();
        const k = FIXED.find((k) => lower[k].has(hl));
        if (k !== undefined) {
            if (k in fixed) throw new Refuse(`${file}: two ${k} columns`);
            fixed[k] = j;
        } else if (P.spelling.has(hl)) {
            const a = P.spelling.get(hl);
            if (ana.has(a)) throw new Refuse(`${file}: two columns hold analyte ${P.analytes[a]}`);
            ana.set(a, j);
        }
    });
    const missing = [...FIXED.filter((k) => !(k in fixed)), ...P.analytes.filter((_, a) => !ana.has(a))];
    if (missing.length) throw new Refuse(`${file}: missing column(s) ${missing.join(', ')} (neoscreen would quarantine the plate)`);
    return { fixed, ana };
}

// read_csv over files that share one header, every column as text, named c0.. by position
function readCsv(files, ncol) {
    const cols = Array.from({ length: ncol }, (_, j) => `${q(`c${j}`)}: 'VARCHAR'`).join(', ');
    const list = files.length === 1 ? q(files[0]) : `[${files.map(q).join(', ')}]`;
    return `read_csv(${list}, header = true, auto_detect = false, delim = ',', quote = '"', escape = '"', `
        + `columns = {${cols}})`;
}

// one analyte column (text t, x = TRY_CAST(t AS DOUBLE) one layer down) -> value v, "<x"
// flag u, and "bad" (ns_parse_cell would refuse it); a plain number takes the first arm
function cellSQL(t, a) {
    const x = `x${a}`;
    const lt = `TRY_CAST(substr(${t}, 2) AS DOUBLE)`;
    return {
        v: `CASE WHEN isfinite(${x}) THEN ${x} WHEN starts_with(${t}, '<') THEN ${lt} WHEN lower(${t}) = 'nd' THEN 0.0::DOUBLE END AS v${a}`,
        u: `CASE WHEN isfinite(${x}) THEN false ELSE coalesce(starts_with(${t}, '<'), false) END AS u${a}`,
        bad: `CASE WHEN isfinite(${x}) OR coalesce(${t}, '') = '' THEN false WHEN starts_with(${t}, '<') `
            + `THEN NOT coalesce(isfinite(${lt}) AND ${lt} >= 0, false) ELSE lower(${t}) NOT IN ('nan', 'nd') END`,
    };
}

function platesSQL(P, night) {
    const d = path.join(night, 'plates');
    let names;
    try {
        names = fs.readdirSync(d).filter((f) => !f.startsWith('.') && f.length >= 5 && f.slice(-4).toLowerCase() === '.csv').sort();
    } catch (e) {
        throw new InputError(`${d}: ${e.message}`);
    }
    if (!names.length) throw new Refuse(`${d} holds no .csv plate files`);
    // header text and line end -> the joined file (DuckDB takes the line end of a file from
    // its first line: a quoted field before a CR LF in a file whose first line ends in LF is
    // an error, so CR LF and LF files are joined apart)
    const groups = new Map();
    for (const f of names) {
        const p = path.join(d, f);
        const h = scanFile(p);
        const eol = h.crlf ? '\r\n' : '\n';
        let g = groups.get(h.text + eol);
        if (!g) {
            g = { fields: h.fields, first: p, path: tmpPath(`plates-${groups.size}.csv`), eol: Buffer.from(eol) };
            joinedFrom.set(g.path, `the plates with the header of ${p}`);
            plateColumns(P, g.fields, p);   // refuse a bad header before copying anything
            g.fd = fs.openSync(g.path, 'w');
            fs.writeSync(g.fd, h.text + eol);
            groups.set(h.text + eol, g);
        }
        if (h.body < h.buf.length) {
            fs.writeSync(g.fd, h.buf, h.body);
            if (h.buf[h.buf.length - 1] !== 0x0a) fs.writeSync(g.fd, g.eol);
        }
    }
    const parts = [];
    for (const g of groups.values()) {
        fs.closeSync(g.fd);
        const { fixed, ana } = plateColumns(P, g.fields, g.first);
        const sel = [...FIXED.map((k) => `c${fixed[k]} AS ${k}`), ...P.analytes.map((_, a) => `c${ana.get(a)} AS t${a}`)];
        parts.push(`SELECT ${sel.join(', ')} FROM ${readCsv([g.path], g.fields.length)}`);
    }
    const tmap = [];
    for (const k of TYPES) for (const s of P.typeAlias[k]) if (!tmap.some((e) => e[0] === s.toLowerCase())) tmap.push([s.toLowerCase(), TYPES.indexOf(k)]);
    const cells = P.analytes.map((_, a) => cellSQL(`t${a}`, a));
    // the first bad cell of a row, as text; rows of plain numbers skip the search
    const badName = `CASE WHEN ${P.analytes.map((_, a) => `isfinite(x${a})`).join(' AND ')} THEN NULL ELSE CASE `
        + P.analytes.map((n, a) => `WHEN ${cells[a].bad} THEN ${q(`column ${n}: cell '`)} || t${a} || ''''`).join(' ') + ' END END';
    const inner = `SELECT plate_id, well, sample_id, sample_type, ${P.analytes.map((_, a) => `t${a}, TRY_CAST(t${a} AS DOUBLE) AS x${a}`).join(', ')}\n`
        + `FROM (${parts.join('\nUNION ALL\n')})`;
    return {
        nFiles: names.length,
        sql: `CREATE TEMP TABLE plates AS SELECT plate_id, well, sample_id, sample_type,\n`
            + `  CASE lower(sample_type) ${tmap.map(([s, k]) => `WHEN ${q(s)} THEN ${k}`).join(' ')} END AS typ,\n  `
            + cells.map((c) => `${c.v}, ${c.u}`).join(',\n  ')
            + `,\n  ${badName} AS bad\nFROM (${inner})`,
    };
}

function manifestSQL(file) {
    if (!fs.existsSync(file)) throw new InputError(`${file}: no such file`);
    const h = scanFile(file);
    let mpath = file;
    if (h.decoded) fs.writeFileSync(mpath = tmpPath('manifest.csv'), h.buf);
    const low = h.fields.map((x) => x.toLowerCase());
    const col = {};
    for (const c of MANIFEST_COLS) {
        const n = low.filter((x) => x === c).length;
        if (n > 1) throw new Refuse(`${file}: column ${c} appears twice (neoscreen cannot use the manifest)`);
        if (n === 1) col[c] = `c${low.indexOf(c)}`;
    }
    if (!col.sample_id || !col.infant_id) throw new Refuse(`${file}: no sample_id or infant_id column`);
    const txt = (c) => (col[c] ? `coalesce(${col[c]}, '')` : "''");
    // three layers: the text; each piece parsed once; the covariates
    const l1 = [], l2 = [], l3 = [];
    for (const c of ['sample_id', 'infant_id', 'sex']) l1.push(`${txt(c)} AS ${c}`);
    l2.push('sample_id', 'infant_id', 'sex');
    l3.push('sample_id', 'infant_id', 'sex');
    // birth weight, gestational age: strtod, a positive finite number, else missing
    for (const c of ['birth_weight_g', 'gestational_age_days']) {
        l1.push(col[c] ? `TRY_CAST(${col[c]} AS DOUBLE) AS ${c}` : `NULL::DOUBLE AS ${c}`);
        l2.push(`CASE WHEN isfinite(${c}) AND ${c} > 0 THEN ${c} END AS ${c}`);
        l3.push(c);
    }
    // ns_parse_time_h: YYYY-MM-DDTHH:MM[:SS] (or a space for T, optional Z) as hours since
    // 1970, days*24 + h + mi/60 + sec/3600 in that order of float64 operations; NULL if invalid
    for (const [c, k] of [['birth_time', 'tb'], ['collection_time', 'tc']]) {
        l1.push(col[c] ? `${col[c]} AS ${k}` : `NULL::VARCHAR AS ${k}`);
        l2.push(`regexp_full_match(${k}, '[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2})?Z?') AS ${k}_ok`,
            `TRY_CAST(substr(${k}, 1, 10) AS DATE) AS ${k}_d`, `TRY_CAST(substr(${k}, 12, 2) AS INTEGER) AS ${k}_h`,
            `TRY_CAST(substr(${k}, 15, 2) AS INTEGER) AS ${k}_mi`,
            `CASE WHEN substr(${k}, 17, 1) = ':' THEN TRY_CAST(substr(${k}, 18, 2) AS INTEGER) ELSE 0 END AS ${k}_s`);
        l3.push(`CASE WHEN ${k}_ok AND ${k}_d IS NOT NULL AND ${k}_h <= 23 AND ${k}_mi <= 59 AND ${k}_s <= 59 THEN `
            + `CAST(${k}_d - DATE '1970-01-01' AS DOUBLE) * 24.0::DOUBLE + CAST(${k}_h AS DOUBLE) `
            + `+ CAST(${k}_mi AS DOUBLE) / 60.0::DOUBLE + CAST(${k}_s AS DOUBLE) / 3600.0::DOUBLE END AS ${k}`);
    }
    // feeding: one of four words, any case, else unknown; transfusion / nicu: 1 / 0 / -1
    l1.push(col.feeding ? `lower(${col.feeding}) AS feeding` : "'' AS feeding");
    l2.push(`CASE WHEN feeding IN (${FEEDS.map(q).join(', ')}) THEN feeding ELSE '' END AS feeding`);
    l3.push('feeding');
    for (const c of ['transfusion', 'nicu']) {
        l1.push(col[c] ? `${col[c]} AS ${c}` : `NULL::VARCHAR AS ${c}`);
        l2.push(`CASE WHEN ${c} = '1' OR lower(${c}) IN ('yes', 'y', 'true') THEN 1 `
            + `WHEN ${c} = '0' OR lower(${c}) IN ('no', 'n', 'false') THEN 0 ELSE -1 END AS ${c}`);
        l3.push(c);
    }
    return `CREATE TEMP TABLE manifest_rows AS SELECT ${l3.join(',\n  ')}\nFROM (SELECT ${l2.join(',\n  ')}\n`
        + `FROM (SELECT ${l1.join(',\n  ')}\nFROM ${readCsv([mpath], h.fields.length)}));\n`
        // rows in file order (rowid; CREATE TABLE keeps the order read_csv gives); rows without
        // sample_id or infant_id dropped; a sample_id twice: its first row if one infant, none
        // if two
        + `CREATE TEMP TABLE manifest AS
SELECT sample_id, arg_min(sex, rowid) AS sex, arg_min(birth_weight_g, rowid) AS birth_weight_g,
       arg_min(gestational_age_days, rowid) AS gestational_age_days, arg_min(feeding, rowid) AS feeding,
       arg_min(transfusion, rowid) AS transfusion, arg_min(nicu, rowid) AS nicu,
       arg_min(CASE WHEN tc >= tb THEN tc - tb END, rowid) AS age_hours
FROM manifest_rows WHERE sample_id <> '' AND infant_id <> ''
GROUP BY sample_id HAVING min(infant_id) = max(infant_id)`;
}

// ---- run ----------------------------------------------------------------------------------

async function loadDuckDB() {
    const tries = [];
    try {
        tries.push(pathToFileURL(createRequire(path.join(HERE, 'duckdb', 'package.json')).resolve('@duckdb/node-api')).href);
    } catch { /* not installed beside this script */ }
    tries.push('@duckdb/node-api');
    for (const t of tries) {
        try {
            return await import(t);
        } catch { /* next */ }
    }
    throw new InputError('@duckdb/node-api is not installed: run `npm ci --prefix scripts/duckdb`');
}

function parseArgs(argv) {
    const a = { input: [], threads: null };
    const take = (i) => {
        if (i + 1 >= argv.length) throw new InputError(`${argv[i]} needs a value`);
        return argv[i + 1];
    };
    for (let i = 0; i < argv.length; i++) {
        const s = argv[i];
        if (s === '-p' || s === '--panel') a.panel = take(i++);
        else if (s === '-o' || s === '--output') a.output = take(i++);
        else if (s === '--counts') a.counts = take(i++);
        else if (s === '--sql') a.sqlOut = take(i++);
        else if (s === '--calls-out') a.callsOut = take(i++);
        else if (s === '-t' || s === '--threads') a.threads = take(i++);
        else if (s === '-h' || s === '--help') {
            process.stdout.write(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n')
                .filter((l) => l.startsWith('//')).map((l) => l.slice(3)).join('\n') + '\n');
            process.exit(0);
        } else if (s.startsWith('-') && s !== '-') throw new InputError(`unknown option ${s}`);
        else if (!a.mode) a.mode = s;
        else a.input.push(s);
    }
    if (a.mode === 'archive') throw new Refuse('archive (batch.h5) input is not modelled by this baseline (night mode only)');
    if (a.mode !== 'night') throw new InputError('usage: baseline_duckdb.mjs night --panel PANEL NIGHT_DIR [-o OUT] [--threads N] [--counts FILE]');
    if (!a.panel) throw new InputError('--panel is required');
    if (a.input.length !== 1) throw new InputError('night mode takes one NIGHT_DIR');
    if (a.threads !== null && !/^[1-9][0-9]*$/.test(a.threads)) throw new InputError('--threads must be a positive integer');
    return a;
}

async function main() {
    const t00 = performance.now();
    const args = parseArgs(process.argv.slice(2));
    const P = loadPanel(args.panel);
    const night = args.input[0];
    const tPanel = performance.now();
    const { DuckDBInstance } = await loadDuckDB();
    const opts = args.threads ? { threads: args.threads } : {};
    const db = await DuckDBInstance.create(':memory:', opts);
    const con = await db.connect();
    const rows = async (sql) => (await con.runAndReadAll(sql)).getRowsJS();
    const sqlLog = [];
    const run = async (sql, what, reading = false) => {
        sqlLog.push(sql + ';');
        try {
            return await rows(sql);
        } catch (e) {
            const text = String(e.message);
            const file = /^\s*file = (.*)$/m.exec(text);
            const where = file ? (joinedFrom.get(file[1].trim()) ?? file[1]) : what;
            const msg = `${where}: DuckDB: ${text.split('\n').slice(0, 3).join(' ')}`;
            if (!reading) throw new Error(msg);
            // DuckDB could not read a file: a row neoscreen would quarantine the plate or
            // reject for (field count, quotes)
            throw new Refuse(`${msg} (not modelled: neoscreen would quarantine the plate or reject the row)`);
        }
    };
    const threads = (await rows("SELECT current_setting('threads')"))[0][0];
    const version = (await rows('SELECT version()'))[0][0];

    const t0 = performance.now();
    const pl = platesSQL(P, night);
    const man = manifestSQL(path.join(night, 'manifest.csv'));
    // patient wells with a manifest row (the others are control or unmatched: never recalled)
    const score = buildScoreSQL(P, `(SELECT plates.*, sex, birth_weight_g, gestational_age_days, feeding, transfusion, nicu, age_hours
  FROM plates JOIN manifest ON plates.sample_id = manifest.sample_id WHERE plates.typ = 0)`);
    const tGen = performance.now();
    await run(pl.sql, `${night}/plates`, true);
    await run(man, `${night}/manifest.csv`, true);
    const t1 = performance.now();

    // what neoscreen would quarantine, and this baseline refuses
    const [chk] = await run(`SELECT
  (SELECT plate_id || ' ' || well || ': ' || bad FROM plates WHERE bad IS NOT NULL LIMIT 1),
  (SELECT coalesce(sample_type, '') FROM plates WHERE typ IS NULL LIMIT 1),
  (SELECT plate_id || ' ' || well FROM plates WHERE typ <> 3 AND (${P.analytes.map((_, a) => `v${a} < 0`).join(' OR ')}) LIMIT 1),
  (SELECT plate_id || ' ' || well FROM plates GROUP BY plate_id, well HAVING count(*) > 1 LIMIT 1)`, 'checks');
    if (chk[0] !== null) throw new Refuse(`${chk[0]} is not a number (neoscreen would quarantine its plate)`);
    if (chk[1] !== null) throw new Refuse(`unknown sample_type '${chk[1]}' (neoscreen would quarantine the plate)`);
    if (chk[2] !== null) throw new Refuse(`${chk[2]}: a negative value outside a blank well (neoscreen would quarantine the plate)`);
    if (chk[3] !== null) throw new Refuse(`${chk[3]}: a well or a plate_id is read twice (neoscreen would quarantine the plate)`);

    await run(`CREATE TEMP TABLE calls AS ${score}`, 'score');
    const recalled = (await run(`SELECT DISTINCT sample_id FROM calls WHERE state = ${ST_RECALL} ORDER BY sample_id`, 'recalled')).map((r) => r[0]);
    const [cnt] = await run(`SELECT count(*), ${P.conds.map((_, ci) => `count(*) FILTER (c${ci} BETWEEN ${C_BORDER} AND ${C_CRIT})`).join(', ')},
  ${[ST_RECALL, ST_INVALID, ST_NEG].map((k) => `count(*) FILTER (state = ${k})`).join(', ')} FROM calls`, 'counts');
    const [wells] = await run('SELECT count(*), count(*) FILTER (typ = 0) FROM plates', 'counts');
    const t2 = performance.now();
    if (args.sqlOut) fs.writeFileSync(args.sqlOut, sqlLog.join('\n\n') + '\n');
    if (args.callsOut) {        // checking only, not timed: every screened well's state and calls
        const digits = P.conds.map((_, ci) => `c${ci}::VARCHAR`).join(' || ');
        await run(`COPY (SELECT plate_id AS a, well AS b, sample_id, state, ${digits} AS calls FROM calls ORDER BY a, b) `
            + `TO ${q(args.callsOut)} (HEADER true)`, 'calls-out');
    }

    const n = Number(wells[0]), patient = Number(wells[1]), screened = Number(cnt[0]);
    const recalls = P.conds.map((_, ci) => Number(cnt[1 + ci]));
    const st = cnt.slice(1 + P.conds.length).map(Number);
    const out = recalled.map((x) => x + '\n').join('');
    if (args.output) fs.writeFileSync(args.output, out); else process.stdout.write(out);
    if (args.counts) {
        fs.writeFileSync(args.counts, 'condition,recalls\n' + P.conds.map((c, ci) => `${c.code},${recalls[ci]}\n`).join('')
            + `ANY,${st[0]}\n`);
    }
    const e = process.stderr;
    e.write(`baseline_duckdb: DuckDB ${version}, ${threads} thread(s); night ${night}: ${pl.nFiles} plate files, `
        + `${n} wells, ${patient} patient, ${patient - screened} unmatched\n`);
    e.write('baseline_duckdb: plate QC is NOT applied (no qc_hold); compare on nights whose QC passes\n');
    e.write(`${'condition'.padEnd(10)} ${'recalls'.padStart(13)}\n`);
    P.conds.forEach((c, ci) => e.write(`${c.code.padEnd(10)} ${String(recalls[ci]).padStart(13)}\n`));
    e.write(`${'ANY'.padEnd(10)} ${String(st[0]).padStart(13)}   (${recalled.length} distinct sample_ids recalled; `
        + `${screened} cards screened; ${st[1]} invalid_specimen, ${st[2]} negative)\n`);
    const sec = (a, b) => `${((b - a) / 1000).toFixed(3)} s`;
    e.write(`baseline_duckdb: time panel ${sec(t00, tPanel)}, DuckDB start ${sec(tPanel, t0)}, files ${sec(t0, tGen)} `
        + `(Node: check, join, write SQL), read ${sec(tGen, t1)}, compute ${sec(t1, t2)}\n`);
}

main().catch((e) => {
    if (e instanceof Refuse) die(e.message, 2);
    if (e instanceof InputError) die(e.message, 1);
    die(`${e.name}: ${e.message}`, 1);
});
