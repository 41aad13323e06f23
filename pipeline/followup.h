/* followup.h — what the follow-up team must do for a baby: findings from every screen.
 *
 * Why: one baby can have an MS/MS recall, a hearing refer and a deafness-gene result on the
 * same night, and the follow-up team wants one row per baby with every reason, the most
 * urgent priority and the earliest deadline (issue 4).  Each screen's engine (MS/MS in
 * recall.c, hearing.c, genes.c) turns its results into findings; followup.c merges them by
 * infant_id, resolves deadlines against the manifest's birth and collection times, and
 * renders the list in the chosen language.
 *
 * A finding is language-neutral: `code` and IDs are never translated; `action` and `reason`
 * are translation keys (configs/lang.yaml: "action.<key>", "reason.<key>"), and the reason's
 * arguments are values already formatted for people in a language-neutral way (numbers in
 * C locale, locus names, ear codes).  An argument "@key" is shown as the text of key, and
 * "@{key}" inside an argument as the text of key in place ("GJB2:c.235delC @{gene.call.hom}").  The English template of a reason key, with
 * {name} placeholders filled from args, must read as a complete sentence fragment, e.g.
 *   reason.hearing_refer  "hearing {stage} screen ({method}): refer in {ears}"
 */
#ifndef NS_FOLLOWUP_H
#define NS_FOLLOWUP_H

#include <stdint.h>
#include "batch.h"
#include "util.h"

enum { NS_SRC_MSMS = 0, NS_SRC_HEARING = 1, NS_SRC_GENE = 2, NS_SRC_N };

/* What a deadline counts from.  NS_DUE_NONE: the rule sets no deadline. */
enum { NS_DUE_NONE = 0, NS_DUE_BIRTH, NS_DUE_COLLECTION, NS_DUE_TEST };

#define NS_FU_ID_MAX   64   /* infant_id / sample_id, including the NUL */
#define NS_FU_KEY_MAX  40   /* code, action, reason keys */
#define NS_FU_ARG_MAX  256  /* one formatted argument */
#define NS_FU_MAX_ARGS 8

typedef struct {
    char infant_id[NS_FU_ID_MAX];
    char sample_id[NS_FU_ID_MAX];  /* the card or gene-plate sample, "" for hearing */
    int source;                    /* NS_SRC_* */
    int priority;                  /* NS_PRIO_* (panel.h): critical, urgent, routine */
    char action[NS_FU_KEY_MAX];    /* translation key: referral, repeat_specimen, rescreen,
                                      audiology_referral, counselling, carrier_counselling,
                                      surveillance, ... */
    char code[NS_FU_KEY_MAX];      /* never translated: condition code (MSUD) or rule id
                                      (hearing:initial_refer, gene:GJB2:biallelic) */
    char reason[NS_FU_KEY_MAX];    /* translation key of the reason template */
    int n_args;
    const char *arg_name[NS_FU_MAX_ARGS];   /* at most 15 bytes, in the findings' text pool */
    const char *arg[NS_FU_MAX_ARGS];        /* at most NS_FU_ARG_MAX - 1 bytes, likewise */
    int due_from;                  /* NS_DUE_* */
    double due_hours;              /* deadline = reference time + due_hours */
    double test_time_h;            /* hours since the epoch of the test (NS_DUE_TEST); NAN if none */
    int64_t batch_row;             /* MS/MS: the well's batch row; -1 for other sources */
    int note_only;                 /* 1: adds its reason text only (a caveat), no action */
    int invalid_card;              /* 1: from a card that cannot be read (invalid_specimen),
                                      not from a screen-positive result */
} ns_finding_t;

/* Findings, and the text of their arguments: a finding is some 400 bytes and its arguments'
 * strings live in the pool (a night's 37,000 findings were 2.5 KB each when every argument
 * had a slot of NS_FU_ARG_MAX bytes).  Findings may be copied within their array, or to
 * another whose pool takes this one's (ns_pool_move); the strings stay where they are. */
typedef struct {
    ns_finding_t *v;
    int64_t n, m;
    ns_pool_t text;
} ns_findings_t;

/* Append a zeroed finding for infant_id (truncated to NS_FU_ID_MAX - 1) and return it;
 * due_from = NS_DUE_NONE, test_time_h = NAN.  Never fails (aborts on out of memory). */
ns_finding_t *ns_findings_add(ns_findings_t *fs, const char *infant_id, int source);
/* Add a named argument to f, one of fs's findings (formatted with printf, cut to
 * NS_FU_ARG_MAX - 1 bytes; the name to 15); silently ignored beyond NS_FU_MAX_ARGS. */
void ns_finding_arg(ns_findings_t *fs, ns_finding_t *f, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* ns_finding_arg's "%s", "%.<prec>g" and "%.<prec>f", the same text without printf
 * (numfmt.h): a night's findings take some forty thousand of each */
void ns_finding_arg_str(ns_findings_t *fs, ns_finding_t *f, const char *name, const char *v);
void ns_finding_arg_g(ns_findings_t *fs, ns_finding_t *f, const char *name, double v, int prec);
void ns_finding_arg_f(ns_findings_t *fs, ns_finding_t *f, const char *name, double v, int prec);
void ns_findings_free(ns_findings_t *fs);


/* ---- one row per baby ----------------------------------------------------------------- */


/* One row of the follow-up list: every finding of one infant. */
typedef struct {
    const char *infant_id;
    int64_t mrow;          /* manifest row for contact and covariates: the card of the
                              first MS/MS finding, else the infant's first manifest row;
                              -1 if the manifest does not know the infant */
    int priority;          /* most urgent NS_PRIO_* of its actionable findings */
    double due_h;          /* earliest deadline, hours since the epoch; NAN = none */
    int due_unknown;       /* a finding has a deadline whose reference time (birth,
                              collection) is unknown: the row sorts first of its priority */
    int invalid_only;      /* every actionable finding is an unreadable card */
    unsigned sources;      /* bit NS_SRC_* of the sources with a finding */
    int64_t f0, f1;        /* its findings: order[f0 .. f1) */
} ns_fu_row_t;

typedef struct {
    ns_fu_row_t *rows;
    int64_t n;
    int64_t *order;        /* finding indices, grouped by row (MS/MS, hearing, gene; then
                              in the order they were found) */
} ns_fu_list_t;

/* Merge findings by infant_id into rows sorted by priority, then due date (the day, as
 * due_by shows it; a deadline that cannot be computed first, none last), then infant_id,
 * byte-wise: the same findings give the same list.  Deadlines resolve
 * against the manifest: NS_DUE_BIRTH the infant's birth_time, NS_DUE_COLLECTION the
 * card's collection_time, NS_DUE_TEST the finding's test time; a reference time that is
 * unknown gives no deadline.  fs must outlive out. */
void ns_followup_merge(const ns_findings_t *fs, const ns_batch_t *b, ns_fu_list_t *out);
void ns_followup_free(ns_fu_list_t *l);

/* What the written list holds, for summary.json. */
#define NS_FU_MAX_ACTIONS 16
typedef struct {
    int64_t n_rows;                    /* babies on the list */
    int64_t by_prio[NS_PRIO_N];
    int64_t by_source[NS_SRC_N];       /* babies with a finding from each source */
    int64_t msms_and_hearing;          /* babies with both a metabolic and a hearing reason */
    int n_actions;
    char action[NS_FU_MAX_ACTIONS][NS_FU_KEY_MAX];
    int64_t by_action[NS_FU_MAX_ACTIONS];   /* babies whose actions include action[k] */
} ns_fu_stats_t;

/* Write the list as recall-list.csv (csv_path) and recall-list.xlsx (xlsx_path; either
 * may be NULL), both mode 0600, from the same table: column headers, priorities, actions,
 * states and reason texts in language L (codes and IDs never translated), one row per
 * baby in the order of l.  bom: start the CSV with a UTF-8 byte-order mark.
 * Returns 0, or -1 after reporting; a file that could not be written is removed, so that
 * last night's list is never read as tonight's. */
struct ns_lang;
/* The column keys of the list, in order (headers: translation keys "col.<key>"). */
const char *const *ns_followup_columns(int *n);
int ns_followup_write(const char *csv_path, const char *xlsx_path, const ns_fu_list_t *l,
                      const ns_findings_t *fs, const ns_batch_t *b, const struct ns_lang *L, int bom,
                      ns_fu_stats_t *st);

#endif
