/* hearing.h — the newborn hearing screen: records in, findings for the follow-up team out.
 *
 * Why: every baby gets a physiological hearing screen (OAE or AABR) before discharge, and
 * the ones who do not pass must be rescreened by day 42 and seen by diagnostic audiology by
 * 3 months (DOMAIN.md §7.1).  Babies are lost between those steps far more often than
 * hearing loss is missed by the test itself (New Jersey: 44.5 % follow-up after a refer,
 * 2002), so the lab turns each night's hearing records into the same per-baby findings as
 * the MS/MS recalls (followup.h): what to do, by when, and why.
 *
 * The protocol is DATA (configs/hearing.yaml): an ordered list of rules, each a condition
 * on one baby's screening facts and the finding it gives.  Programmes differ (China: AABR
 * before discharge for NICU babies, fails go straight to a diagnostic centre; USA: JCIH),
 * and a change of protocol must be a reviewed edit of a YAML file, not of this code.
 *
 * ---- Input: hearing.csv (DESIGN.md input 3) --------------------------------------------
 *
 *   infant_id, test_time, stage, method, left, right, nicu_days, risk_factors
 *
 * Read like the manifest: UTF-8 with or without BOM, or GBK; CRLF or LF (encoding.h,
 * csv.h).  Header names in any order and any case; other columns are ignored; every one of
 * the eight columns is required (an absent nicu_days column would make every NICU baby a
 * well baby without a word — an EMPTY nicu_days cell is the way to say "unknown").  Values:
 *
 *   infant_id     non-empty, at most NS_FU_ID_MAX - 1 bytes
 *   test_time     YYYY-MM-DDTHH:MM[:SS][Z] (or a space for T), as ns_parse_time_h()
 *   stage         initial | rescreen                       (any case)
 *   method        TEOAE | DPOAE | AABR                     (any case)
 *   left, right   pass | refer | not_tested                (any case; "not tested" and
 *                                                           "not-tested" also accepted)
 *   nicu_days     days in the NICU, a plain decimal >= 0 ("3", "5.5"); empty = unknown
 *   risk_factors  free text or a flag: empty, 0, no, n, none, false (any case) = none;
 *                 anything else = the baby has risk factors.  The text is kept in the
 *                 record but is clinical personal data: no message ever prints it.
 *
 * Every problem is a message "FILE:LINE:COL: what is wrong" (1-based; the column of the
 * offending field, in characters).  Messages name positions, never values: no infant ID,
 * no risk-factor text, nothing from a cell reaches a log.
 *
 *   - A row with a bad infant_id, test_time, stage, method, left or right value, the wrong
 *     number of fields or a CSV syntax error is REJECTED: one message per bad field, each
 *     ending "(row rejected)", and the row is counted once in n_rejected.
 *   - A bad nicu_days is reported "(left unknown)" and the row is KEPT: rejecting it would
 *     drop the baby's refer along with the typo.
 *   - Nothing is lost: n_read (data rows read) == n (rows used) + n_rejected.
 *   - The file is unusable (ok = 0, no rows, reported) when it cannot be read or decoded,
 *     is empty, has no data row after its header, lacks one of the eight columns or has
 *     one twice.  Never a crash.
 *   - Identical duplicate rows are allowed (kept, no message).  Two rows of the same
 *     infant, stage and test_time with different method or results are both KEPT and
 *     reported on the later line, at the first field that differs ("same infant, stage
 *     and test_time as line N with a different left: both kept, the worse result
 *     counts"); evaluation then takes the worse (below).
 *   - A rescreen whose test_time is earlier than an initial screen of the same infant is
 *     reported and kept (stage, not time, decides which record is later).
 *
 * ---- Rule semantics (configs/hearing.yaml documents the same in place) -----------------
 *
 * ONE RECORD DECIDES.  An infant's records are ordered by stage (initial < rescreen), then
 * test_time, then severity (pass < not_tested < refer, counted over the two ears: a record
 * with more refer ears is worse, then more not_tested ears), then line.  The LAST one is the
 * deciding record: a rescreen supersedes the initial screen; a second attempt supersedes
 * the first; of two rows at the same stage and time the worse counts.
 *
 * Facts a rule can test ("when:" keys; each takes one value or a list of values, meaning
 * any of them; an absent key matches everything):
 *
 *   stage              initial | rescreen       the deciding record's stage
 *   method             TEOAE | DPOAE | AABR     the deciding record's method
 *   result             pass | refer | not_tested
 *                      the deciding record's result over BOTH ears, the worse ear counting:
 *                      refer if either ear refers (a unilateral refer is acted on like a
 *                      bilateral one, DOMAIN §7.1), else not_tested if either ear was not
 *                      tested, else pass (both ears passed).  Which ears gave the result is
 *                      an argument of the finding ("ears"), not a condition.
 *   nicu               true | false | unknown   the longest nicu_days given on any of the
 *                      infant's records, compared with nicu_aabr_days: true = more than it,
 *                      false = known and not more, unknown = no record gives it
 *   risk_factors       true | false             any of the infant's records has risk factors
 *   aabr_pass_before   true | false             the latest AABR record BEFORE the deciding
 *                      one passed both ears (the AABR screen is done)
 *   aabr_refer_before  true | false             the latest AABR record BEFORE the deciding
 *                      one (in the order above) referred in either ear: an OAE pass cannot
 *                      clear it (auditory neuropathy; DOMAIN §7.1, JCIH 2007)
 *
 * EVERY MATCHING RULE FIRES, in file order, each giving one finding; a rule with
 * "stop: true" that fires ends the list for that infant.  So independent findings (risk
 * factors -> surveillance) sit before the stopping chain of mutually exclusive ones.
 *
 * ---- Output ----------------------------------------------------------------------------
 *
 * One ns_finding_t per fired rule per infant, appended in infant_id order (byte order),
 * then rule order; so the output is the same for any input row order.  Each finding has:
 *
 *   source NS_SRC_HEARING, sample_id "", code "hearing:<rule id>", action and reason the
 *   rule's keys, priority the rule's, due_from NS_DUE_BIRTH and due_hours = days_of_life *
 *   24 (or NS_DUE_NONE when the rule has no due), test_time_h the deciding record's time,
 *   and these args (language-neutral codes and C-locale numbers):
 *     stage       initial | rescreen
 *     method      TEOAE | DPOAE | AABR
 *     result      pass | refer | not_tested
 *     ears        left | right | both   the ears that gave `result`
 *     test_date   YYYY-MM-DD of the deciding record
 *     nicu_days   the NICU stay as given ("%g"); ONLY when known
 *     nicu_limit  nicu_aabr_days of the protocol
 *
 * ---- Translation keys (texts: configs/lang.yaml, en + zh) ----------------------
 *
 *   action.rescreen               action.aabr_screen
 *   action.audiology_referral     action.surveillance
 *   reason.hearing_refer          {stage} {method} {test_date} {ears}
 *   reason.hearing_not_tested     {stage} {method} {test_date} {ears}
 *   reason.hearing_nicu_aabr_refer    {nicu_days} {ears} {stage} {test_date}  (needs nicu: true)
 *   reason.hearing_nicu_oae       {nicu_days} {nicu_limit} {method} {result} (needs nicu: true)
 *   reason.hearing_oae_after_aabr_refer  {method} {result} {test_date}
 *                                 (needs aabr_refer_before: true)
 *   reason.hearing_risk_factors   (no placeholders)
 *   hearing.stage.<code>, hearing.ears.<code>, hearing.result.<code>: how a renderer may
 *   show the codes of the stage, ears and result args in each language.
 *
 * The loader refuses a rule whose reason needs a fact its "when:" does not guarantee (a
 * NICU reason on a rule without "nicu: true" would print an empty stay).
 */
#ifndef NS_HEARING_H
#define NS_HEARING_H

#include <stddef.h>
#include <stdint.h>
#include "followup.h"
#include "panel.h"

/* Values of the record fields, and of the "when:" facts.  NS_HEAR_* is ordered by
 * severity: a larger value is worse. */
enum { NS_HSTAGE_INITIAL = 0, NS_HSTAGE_RESCREEN = 1, NS_HSTAGE_N };
enum { NS_HMETHOD_TEOAE = 0, NS_HMETHOD_DPOAE = 1, NS_HMETHOD_AABR = 2, NS_HMETHOD_N };
enum { NS_HEAR_PASS = 0, NS_HEAR_NOT_TESTED = 1, NS_HEAR_REFER = 2, NS_HEAR_N };
enum { NS_HNICU_FALSE = 0, NS_HNICU_TRUE = 1, NS_HNICU_UNKNOWN = 2, NS_HNICU_N };
enum { NS_HEAR_LEFT = 0, NS_HEAR_RIGHT = 1 };
/* The eight columns of hearing.csv (index of ns_hearing_rec_t.at). */
enum { NS_HCOL_INFANT_ID = 0, NS_HCOL_TEST_TIME, NS_HCOL_STAGE, NS_HCOL_METHOD, NS_HCOL_LEFT,
       NS_HCOL_RIGHT, NS_HCOL_NICU_DAYS, NS_HCOL_RISK_FACTORS, NS_HCOL_N };

/* The "when:" facts, in the order above. */
enum { NS_HCOND_STAGE = 0, NS_HCOND_METHOD, NS_HCOND_RESULT, NS_HCOND_NICU,
       NS_HCOND_RISK, NS_HCOND_AABR_BEFORE, NS_HCOND_AABR_PASS_BEFORE, NS_HCOND_N };

/* Actions (translation keys "action.<name>"). */
enum { NS_HACT_RESCREEN = 0, NS_HACT_AABR_SCREEN, NS_HACT_AUDIOLOGY, NS_HACT_SURVEILLANCE,
       NS_HACT_N };
/* Reasons (translation keys "reason.<name>"). */
enum { NS_HREASON_REFER = 0, NS_HREASON_NOT_TESTED, NS_HREASON_NICU_AABR_REFER,
       NS_HREASON_NICU_OAE, NS_HREASON_OAE_AFTER_AABR_REFER, NS_HREASON_RISK_FACTORS,
       NS_HREASON_N };

#define NS_HEARING_ID_MAX 32   /* rule id, including the NUL ("hearing:" + id fits a code) */

/* ---- records ---------------------------------------------------------------------------- */

typedef struct {
    char infant_id[NS_FU_ID_MAX];
    double test_time_h;        /* hours since the epoch (ns_parse_time_h) */
    int stage;                 /* NS_HSTAGE_* */
    int method;                /* NS_HMETHOD_* */
    int ear[2];                /* NS_HEAR_*, [NS_HEAR_LEFT], [NS_HEAR_RIGHT] */
    double nicu_days;          /* NAN = unknown */
    int risk;                  /* 0/1 */
    char *risk_factors;        /* as given ("" if none); personal data: never printed */
    int line;                  /* line on which the row starts (1-based) */
    ns_pos_t at[NS_HCOL_N];    /* line and column of each field (a quoted field may carry
                                  the row over lines), for messages about the row later */
} ns_hearing_rec_t;

typedef struct {
    char *path;                /* as given (the name, for _mem) */
    char sha256[65];           /* of the raw bytes ("" if unreadable) */
    char encoding[8];          /* "utf-8", "gbk" or "?" */
    ns_hearing_rec_t *v;       /* rows used, sorted by infant_id, stage, test_time, line */
    int64_t n, m;
    int64_t n_read;            /* data rows read (records of the CSV after the header) */
    int64_t n_rejected;        /* of them, rejected: n_read == n + n_rejected */
    char (*rejected_ids)[NS_FU_ID_MAX];  /* infant_ids readable on rejected rows (may repeat) */
    int64_t n_rejected_ids;
    char **errors;             /* every problem, "FILE:LINE:COL: what" (or "FILE: what") */
    int64_t n_errors;
    int ok;                    /* 0: the file could not be used at all */
} ns_hearing_records_t;

/* hearing.csv must hold each baby's hearing history, not only tonight's tests: the
 * deciding record, aabr_*_before and the NICU stay are taken over every row of the baby
 * (an OAE rescreen pass exported alone would hide an earlier AABR refer).
 *
 * Read hearing.csv at path into r (r is overwritten; free with ns_hearing_records_free(),
 * also after a failure).  @return the number of problems (0 = clean); r->ok says whether
 * the file was usable. */
int ns_hearing_read(ns_hearing_records_t *r, const char *path);
/* Same, from raw file bytes in memory (decoded as a file would be); name is used in
 * messages. */
int ns_hearing_read_mem(ns_hearing_records_t *r, const char *name, const char *raw, size_t len);
void ns_hearing_records_free(ns_hearing_records_t *r);

/* ---- protocol --------------------------------------------------------------------------- */

typedef struct {
    char id[NS_HEARING_ID_MAX];
    unsigned when[NS_HCOND_N];   /* per fact: bit (1u << value) set for each value that
                                    matches; all bits when the key is absent */
    int action;                  /* NS_HACT_* */
    int reason;                  /* NS_HREASON_* */
    int priority;                /* NS_PRIO_* */
    int due_days;                /* days of life; -1 = no deadline */
    int stop;                    /* 1: when it fires, no later rule is tried */
    ns_pos_t pos;                /* of the rule in the YAML file */
} ns_hearing_rule_t;

typedef struct {
    char *path, *text;           /* the file name and its exact text (for archives) */
    char sha256[65];
    char name[64];               /* protocol name (hearing.name), "" if not given */
    double nicu_aabr_days;       /* NICU stay above this many days: "nicu: true" */
    ns_hearing_rule_t *rules;
    int n_rules;
} ns_hearing_config_t;

/* Load and check a hearing protocol (configs/hearing.yaml).  Every problem goes to errs
 * with its line and column (unknown or duplicate keys, unknown values, duplicate rule ids,
 * bad numbers, missing keys, a reason that needs a fact the rule does not guarantee...).
 * @return the config when errs->n == 0, else NULL.  Free with ns_hearing_config_free();
 * errs with ns_panel_errs_free() (print with ns_panel_errs_print()). */
ns_hearing_config_t *ns_hearing_config_load(const char *path, ns_panel_errs_t *errs);
ns_hearing_config_t *ns_hearing_config_load_mem(const char *name, const char *text, size_t len,
                                                ns_panel_errs_t *errs);
void ns_hearing_config_free(ns_hearing_config_t *h);

/* ---- evaluation ------------------------------------------------------------------------- */

/* Counts for a summary.  Per infant unless named rec_*.  Refer rates:
 *   initial refer rate  = initial_refer / initial_screened
 *   rescreen refer rate = rescreen_refer / rescreened
 * (DOMAIN §7.1 reports both per infant: e.g. 11.4 % and 1.7 % in Liuzhou). */
typedef struct {
    int64_t records;             /* records evaluated */
    int64_t rec_result[NS_HEAR_N];   /* records by their result over both ears */
    int64_t infants;             /* distinct infants == pass + refer + not_tested */
    int64_t initial_screened;    /* infants with an initial record */
    int64_t initial_refer;       /* of them, the latest initial record refers */
    int64_t rescreened;          /* infants with a rescreen record */
    int64_t rescreen_refer;      /* of them, the latest rescreen record refers */
    int64_t pass;                /* infants whose deciding record passes both ears */
    int64_t refer;               /* ... refers in either ear */
    int64_t not_tested;          /* ... has an ear not tested and no refer */
    int64_t nicu;                /* infants with nicu = true */
    int64_t nicu_unknown;        /* infants with nicu = unknown */
    int64_t risk;                /* infants with risk factors */
    int64_t with_findings;       /* infants given at least one finding */
    int64_t rejected_infants;    /* babies with a rejected row (a record_rejected finding) */
    int64_t findings;            /* findings appended */
} ns_hearing_stats_t;

/* Apply the protocol h to every infant of r and append the findings to out.  A baby with a
 * rejected row (its infant_id readable) also gets one finding "hearing:record_rejected"
 * (action check_hearing_record, reason hearing_record_rejected, urgent, no deadline): the
 * rejected row might have been the refer that decides, so its outcome cannot be trusted
 * until someone looks at the record (which may
 * already hold findings of other screens; it is not cleared).  stats (may be NULL) is
 * overwritten.  Deterministic: the same records in any order give the same findings.
 * @return the number of findings appended, or -1 if h, r or out is NULL. */
int ns_hearing_eval(const ns_hearing_config_t *h, const ns_hearing_records_t *r,
                    ns_findings_t *out, ns_hearing_stats_t *stats);

/* Names of the codes above ("initial", "TEOAE", "not_tested", "audiology_referral",
 * "hearing_refer", ...); NULL when out of range. */
const char *ns_hearing_stage_name(int stage);
const char *ns_hearing_method_name(int method);
const char *ns_hearing_result_name(int result);
const char *ns_hearing_action_name(int action);
const char *ns_hearing_reason_name(int reason);

#endif
