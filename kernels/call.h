/* call.h — combine marker flags into one condition call per sample.
 *
 * Rules (over the condition's primary markers):
 *   NS_RULE_ANY  the level is the highest primary level ("C8 or C8/C10 high")
 *   NS_RULE_ALL  the level is the lowest primary level ("Xle and Val high", MSUD)
 * Then, if require_secondary is set and the level reaches NS_FLAG_CUTOFF, at least one
 * secondary marker must also be at or beyond its cutoff; otherwise the call is lowered to
 * borderline (a repeat specimen, not a referral).  A critical primary level is never
 * lowered.
 *
 * Missing primaries: under ANY, a missing marker is ignored when another primary reaches
 * the cutoff, else the call is indeterminate.  Under ALL, a present primary that is normal
 * makes the call negative; otherwise a missing one makes it indeterminate.  A missing
 * secondary cannot refute: a positive primary whose confirming ratio is missing stays
 * positive (the recall list names the missing marker), rather than being quietly lowered
 * to a routine repeat.
 */
#ifndef NS_CALL_H
#define NS_CALL_H

#include <stddef.h>
#include <stdint.h>

enum { NS_RULE_ANY = 0, NS_RULE_ALL = 1 };

enum {
    NS_CALL_NEGATIVE = 0,
    NS_CALL_BORDERLINE = 1,     /* repeat specimen */
    NS_CALL_POSITIVE = 2,       /* the condition's own action and priority */
    NS_CALL_CRITICAL = 3,       /* a primary marker beyond its critical limit */
    NS_CALL_INDETERMINATE = 4   /* a needed marker is missing */
};

/* ns_call_condition: one condition, all rows.
 * @param flags     n_markers flag columns (NS_FLAG_*), each length n
 * @param role      n_markers roles (0 primary, 1 secondary); at least one primary
 * @param n_markers >= 1
 * @param rule      NS_RULE_ANY or NS_RULE_ALL
 * @param require_secondary  see above
 * @param out       caller-allocated, length n; receives NS_CALL_*
 * @return 0 on success, -1 on bad arguments.  Pure. */
int ns_call_condition(const uint8_t *const *flags, const int *role, int n_markers, int rule,
                      int require_secondary, uint8_t *out, ptrdiff_t n);

/* Scalar form: the call for one row, given that row's marker flags. */
int ns_call_one(const uint8_t *flag, const int *role, int n_markers, int rule,
                int require_secondary);

#endif
