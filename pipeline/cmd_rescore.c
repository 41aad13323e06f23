/* cmd_rescore.c — `neoscreen rescore`: what would a candidate panel have done to past nights?
 *
 * For every archive given (batch.h5 files, or directories searched for them), rows are read
 * back in chunks (archive.h), scored with the candidate panel exactly as `run` scores a
 * night (ns_batch_score: ratios, strata, specimen rules, TPN rule, scores), and compared
 * with the calls the archived panel made that night.  A patient card counts when it had a
 * manifest row and its plate was not on QC hold (the candidate changes cutoffs, not QC);
 * it is a recall for a condition when the call is borderline, positive or critical.
 *
 * Outputs (in -o DIR, each written whole or not at all):
 *   rescore-conditions.csv  per condition: recalls under the archived and the candidate
 *                           panel, gained, lost, calls changed; with --outcomes also known
 *                           cases, detected, sensitivity, false positives, FPR and PPV
 *   rescore-changes.csv     every card whose recall status changed, per condition
 *   rescore-missed.csv      (--outcomes) known cases the candidate does not recall
 * and the same per-condition table on stdout.  Only IDs: no personal data is in an
 * archive, so none can come out; but an infant ID beside a confirmed diagnosis is health
 * data, so the files are 0600 like the recall list.
 *
 * Memory is one chunk (--chunk rows, all analytes) plus the counters, however many
 * archives are given.  The result is the same for any thread count: scoring writes each
 * row independently and counting is serial, in archive then row order.
 *
 * Exit status: 0; 1 usage, config or archive error (nothing written); 3 a known case
 * would be missed by the candidate panel.
 */
#include <getopt.h>
#include <unistd.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "archive.h"
#include "atomic_file.h"
#include "cmds.h"
#include "csv.h"
#include "log.h"
#include "outcomes.h"
#include "panel.h"
#include "rescore_plan.h"
#include "score.h"
#include "util.h"

enum { EXIT_OK = 0, EXIT_ERR = 1, EXIT_MISSED = 3 };
#define MAX_MATCH 64

static void usage(FILE *fp)
{
    fprintf(fp,
"Usage: neoscreen rescore -p PANEL -o DIR [options] ARCHIVE|DIR...\n"
"\n"
"Apply a candidate panel to archived nights (batch.h5 files, or directories searched\n"
"for them at any depth) without re-reading plate CSVs, and compare with the calls the\n"
"panel stored in each archive made: per condition, recalls under old and new, gained\n"
"and lost, and the cards behind every change.  A card counts when it had a manifest row\n"
"and its plate was not on QC hold; a recall is a borderline, positive or critical call.\n"
"\n"
"Writes DIR/rescore-conditions.csv, DIR/rescore-changes.csv and, with --outcomes,\n"
"DIR/rescore-missed.csv; prints the per-condition table.\n"
"\n"
"Options:\n"
"  -p, --panel FILE     candidate panel (required); checked as `config check` does\n"
"  -o, --out DIR        output directory (created)\n"
"      --population FILE  population fragment for the candidate's condition scores\n"
"                       (`neoscreen cutoffs derive` output), when it has none inline\n"
"      --outcomes FILE  known outcomes: CSV with a condition column and sample_id and/or\n"
"                       infant_id (the simulator's truth.csv works as it is).  Adds\n"
"                       sensitivity, false-positive rate and PPV, old vs new; exit 3 if\n"
"                       the candidate would miss any known case found in the archives\n"
"      --recalled FILE  also write the sample_id of every card the candidate recalls (any\n"
"                       condition), one per line in archive and row order (for comparing\n"
"                       with another tool; 0600)\n"
"      --chunk N        rows read and scored at a time [65536]; memory stays bounded\n"
"      --recompute-all  compute every condition from the archived values.  By default a\n"
"                       condition whose entry in the panel file is unchanged since the\n"
"                       night keeps the calls the archive stored, when the archive was\n"
"                       scored by the same rules and the rest of the panel (all but\n"
"                       panel: and followup:) is unchanged too: they are what it would\n"
"                       compute, so the results are the same with less to read.  -v 2\n"
"                       says, per archive, how many conditions kept their calls\n"
"  -t, --threads N      OpenMP threads for scoring [all cores]; results do not depend on it\n"
"  -v, --verbosity N    0 quiet, 1 progress per archive (default), 2 more\n"
"  -h, --help           this text\n"
"\n"
"Exit status: 0 done; 1 usage, config or archive error (nothing written); 3 a known\n"
"case would be missed by the candidate.\n");
}

/* One condition of the union of the candidate's and the archives' conditions. */
typedef struct {
    char code[NS_NAME_MAX];
    int cand;                      /* index in the candidate panel, -1 if only archived */
    int in_old;                    /* seen in some archive's panel */
    int64_t old_recall, new_recall, gained, lost, changed;
    int64_t cases, old_hit, new_hit;           /* known cases found / detected */
    int64_t old_tp, new_tp, case_rows;         /* card level */
} cond_t;

typedef struct {
    cond_t *v;
    int n, m;
    int64_t screened, old_any, new_any, any_gained, any_lost;
    cond_t any;                    /* known-case counters of the ANY row: any condition */
    int64_t archives, rows;
} tally_t;

static int cond_find(tally_t *t, const char *code)
{
    for (int u = 0; u < t->n; u++)
        if (strcmp(t->v[u].code, code) == 0) return u;
    return -1;
}

static int cond_add(tally_t *t, const char *code, int cand)
{
    if (t->n == t->m) {
        t->m = t->m ? 2 * t->m : 32;
        t->v = ns_realloc(t->v, (size_t)t->m * sizeof *t->v);
    }
    cond_t *c = &t->v[t->n];
    memset(c, 0, sizeof *c);
    snprintf(c->code, sizeof c->code, "%s", code);
    c->cand = cand;
    return t->n++;
}

static int is_recall(int call)
{
    return call == NS_CALL_BORDERLINE || call == NS_CALL_POSITIVE || call == NS_CALL_CRITICAL;
}

/* The same on a byte, without branches (for loops over a column). */
static inline unsigned recall_u8(uint8_t call)
{
    return (uint8_t)(call - NS_CALL_BORDERLINE) <= NS_CALL_CRITICAL - NS_CALL_BORDERLINE;
}

static const char *call_name(int call)
{
    static const char *const names[] = { "negative", "borderline", "positive", "critical",
                                         "indeterminate" };
    return call >= 0 && call <= NS_CALL_INDETERMINATE ? names[call] : "none";
}

/* Per-case flags while the archives are read. */
typedef struct {
    uint8_t *found, *old_hit, *new_hit;
    uint8_t *old_any, *new_any;    /* the card was recalled for some condition */
    uint8_t *held;                 /* a card of the case was on QC hold or unmatched */
} casemark_t;

typedef struct {
    const ns_panel_t *cand;
    const ns_outcomes_t *oc;       /* NULL without --outcomes */
    casemark_t mark;
    tally_t t;
    FILE *changes;                 /* rescore-changes.csv */
    FILE *recalled;                /* --recalled FILE: sample_id of every new recall, or NULL */
    ns_archive_seen_t seen;
    ns_rescore_memo_t plan;        /* the last archive's plan, for the next with the same panel */
    int recompute_all;             /* --recompute-all: never keep archived calls */
} ctx_t;

static void change_row(FILE *fp, const ns_archive_t *a, const char *sid, const char *iid,
                       const char *code, int oc, int nc, const char *what)
{
    ns_csv_text(fp, a->src.path); fputc(',', fp);
    ns_csv_text(fp, a->night); fputc(',', fp);
    ns_csv_text(fp, sid ? sid : ""); fputc(',', fp);
    ns_csv_text(fp, iid ? iid : ""); fputc(',', fp);
    ns_csv_field(fp, code); fputc(',', fp);
    fprintf(fp, "%s,%s,%s\n", call_name(oc), call_name(nc), what);
}

/* The lines of rows [i0, i1) (i0 a multiple of 8) for --recalled (bit 1 of chg[i]) and for
 * rescore-changes.csv (bit 0: some condition's recall changed), in row order, into rec and
 * chf.  Only when no known case needs a look at the cards (no --outcomes): then a changed
 * row is an eligible patient card and nothing else is counted here. */
static void block_lines(const ctx_t *x, const ns_archive_t *a, const int *old_of, const uint8_t *kept,
                        const ns_batch_t *b, const ns_archive_rows_t *r, const uint8_t *chg,
                        size_t i0, size_t i1, FILE *rec, FILE *chf)
{
    const size_t k = (size_t)b->n;
    for (size_t i = i0; i < i1; i++) {
        uint64_t w8;
        if (i + 8 <= i1 && (i & 7) == 0 && (memcpy(&w8, chg + i, 8), w8 == 0)) { i += 7; continue; }
        if (!chg[i]) continue;
        if (chg[i] & 2) {
            fputs(b->sample_id[i], rec);
            fputc('\n', rec);
        }
        if (!(chg[i] & 1)) continue;
        for (int u = 0; u < x->t.n; u++) {
            if (kept[u]) continue;             /* its calls are the archived ones: no change */
            const cond_t *c = &x->t.v[u];
            int oc = old_of[u] >= 0 ? r->call[(size_t)old_of[u] * k + i] : -1;
            int nc = c->cand >= 0 ? b->call[(size_t)c->cand * k + i] : -1;
            int o = oc >= 0 && is_recall(oc), n = nc >= 0 && is_recall(nc);
            if (o != n) change_row(chf, a, b->sample_id[i], r->infant_id[i], c->code, oc, nc, n ? "gained" : "lost");
        }
    }
}

/* block_lines over a chunk: blocks of rows formatted in parallel, each into its own memory,
 * then written in block order, so the files are the same at any thread count. */
static void chunk_lines(ctx_t *x, const ns_archive_t *a, const int *old_of, const uint8_t *kept,
                        const ns_batch_t *b, const ns_archive_rows_t *r, const uint8_t *chg)
{
    enum { BLOCK = 2048 };
    const size_t k = (size_t)b->n, nblk = (k + BLOCK - 1) / BLOCK;
    char **rbuf = ns_calloc(nblk + 1, sizeof *rbuf), **cbuf = ns_calloc(nblk + 1, sizeof *cbuf);
    size_t *rlen = ns_calloc(nblk + 1, sizeof *rlen), *clen = ns_calloc(nblk + 1, sizeof *clen);
    int oom = 0;
    #pragma omp parallel for schedule(dynamic, 1) reduction(|:oom)
    for (size_t j = 0; j < nblk; j++) {
        FILE *rec = open_memstream(&rbuf[j], &rlen[j]), *chf = open_memstream(&cbuf[j], &clen[j]);
        if (rec && chf) {
            const size_t i0 = j * BLOCK;
            block_lines(x, a, old_of, kept, b, r, chg, i0, i0 + BLOCK < k ? i0 + BLOCK : k, rec, chf);
        }
        oom |= !rec || !chf;
        /* fclose sets the buffer and its length; a stream that could not grow is short */
        if (rec && fclose(rec) != 0) oom = 1;
        if (chf && fclose(chf) != 0) oom = 1;
    }
    if (oom) {
        fprintf(stderr, "neoscreen: out of memory formatting the rescore lines\n");
        exit(1);
    }
    for (size_t j = 0; j < nblk; j++) {
        if (x->recalled && rlen[j]) fwrite(rbuf[j], 1, rlen[j], x->recalled);
        if (clen[j]) fwrite(cbuf[j], 1, clen[j], x->changes);
        free(rbuf[j]);
        free(cbuf[j]);
    }
    free(rbuf);
    free(cbuf);
    free(rlen);
    free(clen);
}

/* Compare one scored chunk with its archived calls.  kept[u]: condition u's calls are the
 * archived ones (rescore_plan.h), so they cannot have changed. */
static void tally_chunk(ctx_t *x, const ns_archive_t *a, const int *old_of, const uint8_t *kept,
                        const ns_batch_t *b, const ns_archive_rows_t *r)
{
    tally_t *t = &x->t;
    const size_t k = (size_t)b->n;
    int64_t match[MAX_MATCH];
    /* the per-condition counters, a column at a time (the calls are stored by condition);
     * chg[i] marks the rows where some condition's recall changed, which the row loop below
     * lists in rescore-changes.csv (row by row, conditions in order) */
    uint8_t *elig = ns_malloc(k + 1), *chg = ns_calloc(k + 1, 1);
    #pragma omp parallel for schedule(static)
    for (size_t i = 0; i < k; i++)
        elig[i] = b->type[i] == NS_TYPE_PATIENT && b->mrow[i] >= 0 && r->state[i] != NS_STATE_QC_HOLD
                  && r->state[i] != NS_STATE_UNMATCHED;
    #pragma omp parallel for schedule(dynamic, 1)
    for (int u = 0; u < t->n; u++) {
        cond_t *c = &t->v[u];
        const uint8_t *oc = old_of[u] >= 0 ? r->call + (size_t)old_of[u] * k : NULL;
        const uint8_t *nc = c->cand >= 0 ? b->call + (size_t)c->cand * k : NULL;
        int64_t orc = 0, nrc = 0, chn = 0, gain = 0, loss = 0;
        if (kept[u]) {
            #pragma omp simd reduction(+:orc)
            for (size_t i = 0; i < k; i++) orc += elig[i] & recall_u8(oc[i]);
            c->old_recall += orc;
            c->new_recall += orc;
            continue;
        }
        #pragma omp simd reduction(+:orc, nrc, chn, gain, loss)
        for (size_t i = 0; i < k; i++) {
            const unsigned e = elig[i], o = e & (oc ? recall_u8(oc[i]) : 0), n = e & (nc ? recall_u8(nc[i]) : 0);
            orc += o;
            nrc += n;
            chn += e & (oc && nc && oc[i] != nc[i]);
            gain += n & !o;
            loss += o & !n;
        }
        c->old_recall += orc;
        c->new_recall += nrc;
        c->changed += chn;
        c->gained += gain;
        c->lost += loss;
    }
    /* chg, a condition at a time over blocks of rows (kept conditions cannot change) */
    #pragma omp parallel for schedule(static)
    for (size_t i0 = 0; i0 < k; i0 += 8192) {
        const size_t i1 = i0 + 8192 < k ? i0 + 8192 : k;
        for (int u = 0; u < t->n; u++) {
            if (kept[u]) continue;
            const uint8_t *oc = old_of[u] >= 0 ? r->call + (size_t)old_of[u] * k : NULL;
            const uint8_t *nc = t->v[u].cand >= 0 ? b->call + (size_t)t->v[u].cand * k : NULL;
            #pragma omp simd
            for (size_t i = i0; i < i1; i++) {
                const unsigned o = oc ? recall_u8(oc[i]) : 0, n = nc ? recall_u8(nc[i]) : 0;
                chg[i] |= (uint8_t)(elig[i] & (o ^ n));
            }
        }
    }
    /* without --outcomes no known case needs a look at each card's IDs: the card counters
     * and the lines to write, in parallel */
    if (!x->oc) {
        int64_t scr = 0, oa = 0, na = 0, ag = 0, al = 0;
        const unsigned listed = x->recalled != NULL;
        #pragma omp parallel for simd schedule(static) reduction(+:scr, oa, na, ag, al)
        for (size_t i = 0; i < k; i++) {
            const unsigned e = elig[i], o = e & (r->state[i] == NS_STATE_RECALL), n = e & (b->state[i] == NS_STATE_RECALL);
            scr += e;
            oa += o;
            na += n;
            ag += n & !o;
            al += o & !n;
            chg[i] |= (uint8_t)((n & listed) << 1);     /* bit 1: a line in --recalled */
        }
        t->screened += scr;
        t->old_any += oa;
        t->new_any += na;
        t->any_gained += ag;
        t->any_lost += al;
        chunk_lines(x, a, old_of, kept, b, r, chg);
        free(elig);
        free(chg);
        return;
    }
    /* with --outcomes: every patient card, for its known cases */
    for (size_t i = 0; i < k; i++) {
        if (b->type[i] != NS_TYPE_PATIENT) continue;
        const char *sid = b->sample_id[i], *iid = r->infant_id[i];
        int nm = ns_outcomes_match(x->oc, sid, iid, match, MAX_MATCH);
        if (b->mrow[i] < 0 || r->state[i] == NS_STATE_QC_HOLD || r->state[i] == NS_STATE_UNMATCHED) {
            for (int j = 0; j < nm; j++) x->mark.held[match[j]] = 1;   /* not evaluated */
            continue;
        }
        int old_any = r->state[i] == NS_STATE_RECALL, new_any = b->state[i] == NS_STATE_RECALL;
        t->screened++;
        t->old_any += old_any;
        t->new_any += new_any;
        if (new_any && x->recalled) {
            fputs(sid, x->recalled);
            fputc('\n', x->recalled);
        }
        if (old_any != new_any) {
            if (new_any) t->any_gained++; else t->any_lost++;
        }
        if (nm > 0) {
            t->any.case_rows++;
            t->any.old_tp += old_any;
            t->any.new_tp += new_any;
            for (int j = 0; j < nm; j++) {
                x->mark.found[match[j]] = 1;    /* in the archives, whatever its condition */
                x->mark.old_any[match[j]] |= (uint8_t)old_any;
                x->mark.new_any[match[j]] |= (uint8_t)new_any;
            }
        }
        if (!chg[i] && nm == 0) continue;
        for (int u = 0; u < t->n; u++) {
            if (kept[u] && nm == 0) continue;     /* its calls are the archived ones: no change */
            cond_t *c = &t->v[u];
            int oc = old_of[u] >= 0 ? r->call[(size_t)old_of[u] * k + i] : -1;
            int ncall = c->cand >= 0 ? b->call[(size_t)c->cand * k + i] : -1;
            int o = oc >= 0 && is_recall(oc), n = ncall >= 0 && is_recall(ncall);
            if (o != n) change_row(x->changes, a, sid, iid, c->code, oc, ncall, n ? "gained" : "lost");
            int is_case = 0;
            for (int j = 0; j < nm; j++) {
                if (strcmp(x->oc->v[match[j]].code, c->code) != 0) continue;
                is_case = 1;
                if (o) x->mark.old_hit[match[j]] = 1;
                if (n) x->mark.new_hit[match[j]] = 1;
            }
            if (is_case) {
                c->case_rows++;
                c->old_tp += o;
                c->new_tp += n;
            }
        }
    }
    free(elig);
    free(chg);
}

static int rescore_archive(ctx_t *x, const char *path, int64_t chunk, int idx, int n_paths)
{
    ns_archive_t a;
    if (ns_archive_open(&a, "rescore", path) < 0) return -1;
    int *map = ns_calloc((size_t)x->cand->n_analytes + 1, sizeof *map);
    int r = -1;
    if (ns_archive_map(&a, x->cand, map) < 0) goto out;
    ns_archive_note_copy(&x->seen, &a);
    for (int64_t c = 0; c < a.n_conds; c++) {
        int u = cond_find(&x->t, a.conds[c]);
        if (u < 0) u = cond_add(&x->t, a.conds[c], -1);
        x->t.v[u].in_old = 1;
    }
    int *old_of = ns_calloc((size_t)x->t.n + 1, sizeof *old_of);
    for (int u = 0; u < x->t.n; u++) {
        old_of[u] = -1;
        for (int64_t c = 0; c < a.n_conds; c++)
            if (strcmp(a.conds[c], x->t.v[u].code) == 0) old_of[u] = (int)c;
    }
    ns_info(1, "rescore", "archive %d/%d %s (night %s): %lld rows", idx + 1, n_paths, path,
            a.night, (long long)a.n);
    /* conditions the candidate did not change keep their archived calls */
    const int nc = x->cand->n_conds;
    int *given = ns_malloc(((size_t)nc + 1) * sizeof *given);
    uint8_t *kept = ns_calloc((size_t)x->t.n + 1, 1);
    char why[160] = "--recompute-all";
    int n_kept = x->recompute_all ? 0 : ns_rescore_plan_memo(&x->plan, x->cand, &a, given, why, sizeof why);
    for (int u = 0; u < x->t.n && n_kept; u++) {
        int c = x->t.v[u].cand;
        kept[u] = c >= 0 && given[c] >= 0 && given[c] == old_of[u];
    }
    if (n_kept)
        ns_info(2, "rescore", "%s: %d of %d conditions unchanged since the night: their archived calls are kept",
                path, n_kept, nc);
    else
        ns_info(2, "rescore", "%s: every condition computed again (%s)", path, why);
    r = 0;
    for (int64_t r0 = 0; r0 < a.n && r == 0; r0 += chunk) {
        int64_t k = a.n - r0 < chunk ? a.n - r0 : chunk;
        ns_batch_t b;
        ns_archive_rows_t rows;
        int rc = 1;
        if (n_kept && (rc = ns_archive_read_given(&a, x->cand, map, given, x->oc != NULL, r0, k, &b, &rows)) < 0) {
            r = -1;
            break;
        }
        if (rc == 1) {                 /* every condition computed from the values */
            if (n_kept) {
                ns_info(2, "rescore", "%s: no specimen findings or strata by column: every condition computed again", path);
                n_kept = 0;
                memset(kept, 0, (size_t)x->t.n + 1);
            }
            if (ns_archive_read(&a, x->cand, map, r0, k, &b, &rows) < 0) { r = -1; break; }
        }
        if (ns_batch_score(&b) < 0) r = -1;
        else tally_chunk(x, &a, old_of, kept, &b, &rows);
        ns_archive_batch_free(&b);
        ns_archive_rows_free(&rows);
    }
    free(given);
    free(kept);
    free(old_of);
    x->t.archives++;
    x->t.rows += a.n;
out:
    free(map);
    ns_archive_close(&a);
    return r;
}

static double ratio(int64_t a, int64_t b)
{
    return b > 0 ? (double)a / (double)b : NAN;
}

static void put_num(FILE *fp, double v)
{
    if (isnan(v)) fputs(",", fp);
    else fprintf(fp, ",%.6g", v);
}

/* The --outcomes columns of one row: known cases, detected old/new, sensitivity, false
 * positives (recalls that are no known case), FPR over the screened cards that are not
 * cases, PPV. */
static void put_outcome_cols(FILE *fp, const cond_t *c, int64_t old_rec, int64_t new_rec, int64_t screened)
{
    int64_t ofp = old_rec - c->old_tp, nfp = new_rec - c->new_tp, neg = screened - c->case_rows;
    fprintf(fp, ",%lld,%lld,%lld", (long long)c->cases, (long long)c->old_hit, (long long)c->new_hit);
    put_num(fp, ratio(c->old_hit, c->cases));
    put_num(fp, ratio(c->new_hit, c->cases));
    fprintf(fp, ",%lld,%lld", (long long)ofp, (long long)nfp);
    put_num(fp, ratio(ofp, neg));
    put_num(fp, ratio(nfp, neg));
    put_num(fp, ratio(c->old_tp, old_rec));
    put_num(fp, ratio(c->new_tp, new_rec));
}

static void write_conditions(FILE *fp, const ctx_t *x)
{
    const tally_t *t = &x->t;
    fputs("condition,in_old,in_new,screened,old_recalls,new_recalls,gained,lost,calls_changed", fp);
    if (x->oc)
        fputs(",known_cases,old_detected,new_detected,old_sensitivity,new_sensitivity,"
              "old_false_pos,new_false_pos,old_fpr,new_fpr,old_ppv,new_ppv", fp);
    fputc('\n', fp);
    for (int u = 0; u < t->n; u++) {
        const cond_t *c = &t->v[u];
        ns_csv_field(fp, c->code);
        fprintf(fp, ",%d,%d,%lld,%lld,%lld,%lld,%lld,%lld", c->in_old, c->cand >= 0,
                (long long)t->screened, (long long)c->old_recall, (long long)c->new_recall,
                (long long)c->gained, (long long)c->lost, (long long)c->changed);
        if (x->oc) put_outcome_cols(fp, c, c->old_recall, c->new_recall, t->screened);
        fputc('\n', fp);
    }
    fprintf(fp, "ANY,1,1,%lld,%lld,%lld,%lld,%lld,", (long long)t->screened, (long long)t->old_any,
            (long long)t->new_any, (long long)t->any_gained, (long long)t->any_lost);
    if (x->oc) {
        /* any condition: a known case is detected when its card is recalled at all; a false
         * positive is a recalled card that is no known case of any condition */
        put_outcome_cols(fp, &t->any, t->old_any, t->new_any, t->screened);
    }
    fputc('\n', fp);
}

static void print_table(const ctx_t *x)
{
    const tally_t *t = &x->t;
    printf("rescore: %lld archives, %lld rows, %lld cards screened\n", (long long)t->archives,
           (long long)t->rows, (long long)t->screened);
    printf("%-10s %9s %9s %7s %7s", "condition", "old", "new", "gained", "lost");
    if (x->oc) printf(" %6s %9s %9s %9s %9s", "cases", "sens_old", "sens_new", "fpr_old%", "fpr_new%");
    putchar('\n');
    for (int u = 0; u < t->n; u++) {
        const cond_t *c = &t->v[u];
        printf("%-10s %9lld %9lld %7lld %7lld", c->code, (long long)c->old_recall,
               (long long)c->new_recall, (long long)c->gained, (long long)c->lost);
        if (x->oc) {
            int64_t neg = t->screened - c->case_rows;
            printf(" %6lld %9.4f %9.4f %9.4f %9.4f", (long long)c->cases, ratio(c->old_hit, c->cases),
                   ratio(c->new_hit, c->cases), 100 * ratio(c->old_recall - c->old_tp, neg),
                   100 * ratio(c->new_recall - c->new_tp, neg));
        }
        putchar('\n');
        if (!c->in_old) printf("%-10s (not in the archived panel: every recall is gained)\n", "");
        if (c->cand < 0) printf("%-10s (not in the candidate panel: every recall is lost)\n", "");
    }
    printf("%-10s %9lld %9lld %7lld %7lld", "ANY", (long long)t->old_any, (long long)t->new_any,
           (long long)t->any_gained, (long long)t->any_lost);
    if (x->oc) {
        const cond_t *c = &t->any;
        int64_t neg = t->screened - c->case_rows;
        printf(" %6lld %9.4f %9.4f %9.4f %9.4f", (long long)c->cases, ratio(c->old_hit, c->cases),
               ratio(c->new_hit, c->cases), 100 * ratio(t->old_any - c->old_tp, neg),
               100 * ratio(t->new_any - c->new_tp, neg));
    }
    putchar('\n');
}

/* Count cases per condition and write the missed ones (recalled by nothing in the candidate)
 * and the ones no screened card of which is in the archives but one is on a QC-hold plate or
 * unmatched (not evaluated).  Returns how many were missed. */
static int64_t finish_cases(ctx_t *x, FILE *fp, int64_t *not_found, int64_t *held)
{
    int64_t missed = 0;
    *not_found = *held = 0;
    fputs("sample_id,infant_id,condition,outcomes_line,why,old_panel_recalled\n", fp);
    for (int64_t k = 0; k < x->oc->n; k++) {
        const ns_case_t *cs = &x->oc->v[k];
        const char *why = NULL;
        if (!x->mark.found[k]) {
            if (!x->mark.held[k]) { (*not_found)++; continue; }
            (*held)++;
            why = "not evaluated: its card is on a QC-hold plate or unmatched";
        } else {
            int u = cond_find(&x->t, cs->code);
            x->t.any.cases++;
            x->t.any.old_hit += x->mark.old_any[k];
            x->t.any.new_hit += x->mark.new_any[k];
            if (u >= 0) {
                x->t.v[u].cases++;
                x->t.v[u].old_hit += x->mark.old_hit[k];
                x->t.v[u].new_hit += x->mark.new_hit[k];
            }
            if (x->mark.new_hit[k]) continue;
            missed++;
            why = u >= 0 && x->t.v[u].cand >= 0 ? "not recalled for its condition" : "condition not in the candidate panel";
        }
        ns_csv_text(fp, cs->sample_id ? cs->sample_id : ""); fputc(',', fp);
        ns_csv_text(fp, cs->infant_id ? cs->infant_id : ""); fputc(',', fp);
        ns_csv_field(fp, cs->code);
        fprintf(fp, ",%d,%s,%s\n", cs->line, why, x->mark.old_hit[k] ? "yes" : "no");
    }
    return missed;
}

int ns_cmd_rescore(int argc, char **argv)
{
    static const struct option lopts[] = {
        { "panel", required_argument, NULL, 'p' },
        { "out", required_argument, NULL, 'o' },
        { "outcomes", required_argument, NULL, 'O' },
        { "population", required_argument, NULL, 'P' },
        { "recalled", required_argument, NULL, 'R' },
        { "chunk", required_argument, NULL, 'C' },
        { "recompute-all", no_argument, NULL, 'A' },
        { "threads", required_argument, NULL, 't' },
        { "verbosity", required_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    const char *panel_path = NULL, *out = NULL, *outcomes = NULL, *pop_path = NULL, *recalled = NULL;
    int64_t chunk = 65536;
    int threads = 0, ch, recompute_all = 0;
    if (argc == 1) { usage(stdout); return EXIT_ERR; }
    optind = 1;
    while ((ch = getopt_long(argc, argv, "p:o:t:v:h", lopts, NULL)) >= 0) {
        switch (ch) {
        case 'p': panel_path = optarg; break;
        case 'o': out = optarg; break;
        case 'O': outcomes = optarg; break;
        case 'P': pop_path = optarg; break;
        case 'R': recalled = optarg; break;
        case 'A': recompute_all = 1; break;
        case 'C': { char *end; chunk = strtoll(optarg, &end, 10);
            if (end == optarg || *end || chunk < 1) { ns_error("rescore", "--chunk must be a positive number, not '%s'", optarg); return EXIT_ERR; }
            break; }
        case 't': threads = atoi(optarg);
            if (threads < 1) { ns_error("rescore", "--threads must be a positive number, not '%s'", optarg); return EXIT_ERR; }
            break;
        case 'v': ns_verbosity = atoi(optarg); break;
        case 'h': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_ERR;
        }
    }
    if (!panel_path) { ns_error("rescore", "no candidate panel: give -p FILE"); return EXIT_ERR; }
    if (!out) { ns_error("rescore", "no output directory: give -o DIR"); return EXIT_ERR; }
    if (optind >= argc) { ns_error("rescore", "no archives given (batch.h5 files or directories)"); return EXIT_ERR; }
    ns_archive_start(threads);

    int status = EXIT_ERR, n_paths = 0;
    char **paths = NULL;
    ns_outcomes_t oc;
    memset(&oc, 0, sizeof oc);
    ctx_t x;
    memset(&x, 0, sizeof x);
    ns_atomic_t *fc = NULL, *fm = NULL, *fx = NULL, *fr = NULL;
    char *p_changes = NULL, *p_cond = NULL, *p_missed = NULL;

    ns_panel_t *cand = ns_panel_open("rescore", panel_path, pop_path, "nothing was read or written");
    if (!cand) return EXIT_ERR;
    x.cand = cand;
    x.recompute_all = recompute_all;
    for (int c = 0; c < cand->n_conds; c++) cond_add(&x.t, cand->conds[c].code, c);
    if (outcomes) {
        if (ns_outcomes_load(&oc, outcomes, "rescore") < 0) goto done;
        x.oc = &oc;
        x.mark.found = ns_calloc((size_t)oc.n + 1, 1);
        x.mark.old_hit = ns_calloc((size_t)oc.n + 1, 1);
        x.mark.new_hit = ns_calloc((size_t)oc.n + 1, 1);
        x.mark.old_any = ns_calloc((size_t)oc.n + 1, 1);
        x.mark.new_any = ns_calloc((size_t)oc.n + 1, 1);
        x.mark.held = ns_calloc((size_t)oc.n + 1, 1);
        for (int64_t k = 0; k < oc.n; k++)
            if (cond_find(&x.t, oc.v[k].code) < 0)
                ns_error("rescore", "%s:%d: condition %s is not in the candidate panel; "
                         "that case counts as missed when its card is in the archives", outcomes,
                         oc.v[k].line, oc.v[k].code);
    }
    if (ns_archive_paths("rescore", argv + optind, argc - optind, &paths, &n_paths) < 0) goto done;
    if (ns_mkdir_p(out) < 0) {
        ns_error_errno("rescore", "cannot create output directory %s", out);
        goto done;
    }
    p_changes = ns_asprintf("%s/rescore-changes.csv", out);
    p_cond = ns_asprintf("%s/rescore-conditions.csv", out);
    /* infant IDs beside a confirmed diagnosis: readable by the owner only (as the recall list) */
    if (!(fx = ns_atomic_open(p_changes, 0600))) {
        ns_error_errno("rescore", "cannot write %s", p_changes);
        goto done;
    }
    x.changes = fx->fp;
    if (recalled) {
        if (!(fr = ns_atomic_open(recalled, 0600))) {
            ns_error_errno("rescore", "cannot write %s", recalled);
            goto done;
        }
        x.recalled = fr->fp;
    }
    fputs("archive,night,sample_id,infant_id,condition,old_call,new_call,change\n", fx->fp);
    for (int k = 0; k < n_paths; k++)
        if (rescore_archive(&x, paths[k], chunk, k, n_paths) < 0) goto done;

    int64_t missed = 0, not_found = 0, held = 0;
    if (x.oc) {
        p_missed = ns_asprintf("%s/rescore-missed.csv", out);
        if (!(fm = ns_atomic_open(p_missed, 0600))) {
            ns_error_errno("rescore", "cannot write %s", p_missed);
            goto done;
        }
        missed = finish_cases(&x, fm->fp, &not_found, &held);
    }
    if (!(fc = ns_atomic_open(p_cond, 0600))) {
        ns_error_errno("rescore", "cannot write %s", p_cond);
        goto done;
    }
    write_conditions(fc->fp, &x);
    int werr = 0;
    if (ns_atomic_commit(fx) < 0) { ns_error_errno("rescore", "writing %s", p_changes); werr = 1; }
    fx = NULL;
    if (fm && ns_atomic_commit(fm) < 0) { ns_error_errno("rescore", "writing %s", p_missed); werr = 1; }
    fm = NULL;
    if (ns_atomic_commit(fc) < 0) { ns_error_errno("rescore", "writing %s", p_cond); werr = 1; }
    fc = NULL;
    if (fr && ns_atomic_commit(fr) < 0) { ns_error_errno("rescore", "writing %s", recalled); werr = 1; }
    fr = NULL;
    if (werr) goto done;
    if (!x.oc) {
        /* a missed-cases list from an earlier run with --outcomes must not sit beside these */
        char *stale = ns_asprintf("%s/rescore-missed.csv", out);
        if (unlink(stale) == 0) ns_info(1, "rescore", "removed %s of an earlier run (no --outcomes now)", stale);
        free(stale);
    }
    print_table(&x);
    ns_info(1, "rescore", "%lld archives, %lld rows in %.2f s, peak RSS %ld kB", (long long)x.t.archives,
            (long long)x.t.rows, ns_wall_s(), ns_peak_rss_kb());
    status = EXIT_OK;
    if (x.oc) {
        if (not_found)
            ns_error("rescore", "%lld of %lld known cases are in none of the archives given",
                     (long long)not_found, (long long)oc.n);
        if (held)
            ns_error("rescore", "warning: %lld known case%s not evaluated: %s card%s on a QC-hold plate "
                     "or unmatched (listed in %s)", (long long)held, held == 1 ? " was" : "s were",
                     held == 1 ? "its" : "their", held == 1 ? " is" : "s are", p_missed);
        if (missed) {
            ns_error("rescore", "the candidate panel would MISS %lld known case%s (listed in %s)",
                     (long long)missed, missed == 1 ? "" : "s", p_missed);
            status = EXIT_MISSED;
        } else {
            ns_info(1, "rescore", "every known case in the archives is recalled by the candidate");
        }
    }
done:
    if (fx) ns_atomic_abort(fx);
    if (fm) ns_atomic_abort(fm);
    if (fc) ns_atomic_abort(fc);
    if (fr) ns_atomic_abort(fr);
    free(p_changes);
    free(p_cond);
    free(p_missed);
    for (int k = 0; k < n_paths; k++) free(paths[k]);
    free(paths);
    free(x.t.v);
    ns_archive_seen_free(&x.seen);
    ns_rescore_memo_free(&x.plan);
    free(x.mark.found);
    free(x.mark.old_hit);
    free(x.mark.new_hit);
    free(x.mark.old_any);
    free(x.mark.new_any);
    free(x.mark.held);
    ns_outcomes_free(&oc);
    ns_panel_free(cand);
    return status;
}
