/* lang.h — the translation table: every text a person reads, in the lab's language.
 *
 * Why: the follow-up team in a Chinese programme reads Chinese; a visiting geneticist or a
 * programme abroad reads English.  Labels and sentences for people (recall list headers,
 * priorities, actions, reasons, sheet names) come from configs/lang.yaml; codes and IDs
 * (condition codes, infant and sample IDs, column keys) never change with language
 * (DESIGN.md, Configuration: Language).  Engines produce language-neutral findings
 * (followup.h): a translation key plus named, already-formatted arguments; this module
 * turns them into text.
 *
 * File format (configs/lang.yaml documents it):
 *
 *   default: en                   # used when no language is asked for
 *   languages: [en, zh]           # every key must have a text in each of these
 *   text:
 *     col.infant_id: {en: "infant_id", zh: "婴儿编号"}
 *     reason.marker_missing: {en: "{cond} {marker} missing", zh: "{cond} {marker} 无结果"}
 *
 * Placeholders: "{name}" (name: a letter or '_' then letters, digits, '_'; at most 15
 * characters, the size of a finding's argument name) is replaced by the value of the
 * argument of that name; "{{" is a literal '{' and "}}" a literal '}'; any other '}' is
 * itself.  Checked when the file is loaded, every problem reported as FILE:LINE:COL
 * (yaml_doc.h), all of them in one pass:
 *   - unknown or repeated keys at the top level, 'default' not among 'languages',
 *     a language listed twice;
 *   - a text key repeated, or not made of letters, digits, '.', '_', '-';
 *   - a key without a text for some listed language, or with a language not listed;
 *   - a text that is not a non-empty string (an unquoted "{cond} ..." is YAML for a
 *     mapping: quote it);
 *   - a '{' that starts no valid placeholder;
 *   - the languages of one key using different sets of placeholders (a translation that
 *     drops {value} would silently lose the number the follow-up team needs).
 * Asking for a language the file does not list is an error naming those it does.
 */
#ifndef NS_LANG_H
#define NS_LANG_H

#include <stddef.h>
#include "panel.h"     /* ns_panel_errs_t */

typedef struct ns_lang ns_lang_t;

/* Longest placeholder name (followup.h: ns_finding_t.arg_name is 16 bytes). */
#define NS_LANG_NAME_MAX 15

/* Load and check a translation file and pick one language.
 * @param path  YAML file (configs/lang.yaml)
 * @param lang  language code to use (matched without regard to ASCII case); NULL = the
 *              file's 'default'
 * @param errs  receives every problem (caller frees with ns_panel_errs_free(); print with
 *              ns_panel_errs_print())
 * @return the table when errs->n == 0, otherwise NULL.  Free with ns_lang_free(). */
ns_lang_t *ns_lang_load(const char *path, const char *lang, ns_panel_errs_t *errs);

/* Same from text in memory (len bytes); name is used in messages only. */
ns_lang_t *ns_lang_load_mem(const char *name, const char *text, size_t len, const char *lang,
                            ns_panel_errs_t *errs);

void ns_lang_free(ns_lang_t *l);

/* The text of key in the chosen language.  A key the file does not have gives the key
 * itself (so a missing translation shows as "col.foo", never as a crash or a blank), as
 * does l == NULL.  Never NULL; valid until ns_lang_free(l) (or as long as key, when the
 * key itself is returned). */
const char *ns_lang_get(const ns_lang_t *l, const char *key);

/* 1 if the file has key, else 0. */
int ns_lang_has(const ns_lang_t *l, const char *key);

/* The text of key with its placeholders filled in: "{name}" becomes values[i] for the i
 * with names[i] equal to name (a NULL value: ""), "{{" becomes '{', "}}" becomes '}'.  A
 * placeholder with no matching name stays as it is ("{age}"), so a missing argument is
 * visible, not silently dropped.  Template as ns_lang_get() (the key itself if absent).
 * @param n      number of arguments (names and values may be NULL when n == 0)
 * @return a new string (caller frees); never NULL (out of memory aborts, util.h). */
char *ns_lang_format(const ns_lang_t *l, const char *key, int n, const char *const *names,
                     const char *const *values);

/* Code of the chosen language, as the file spells it ("zh"). */
const char *ns_lang_code(const ns_lang_t *l);
/* The file's default language. */
const char *ns_lang_default(const ns_lang_t *l);
/* Languages the file lists: how many, and the i-th (0-based, file order). */
int ns_lang_n_languages(const ns_lang_t *l);
const char *ns_lang_language(const ns_lang_t *l, int i);
/* Number of text keys. */
int ns_lang_n_keys(const ns_lang_t *l);
/* Key i (0 <= i < ns_lang_n_keys()), NULL when out of range. */
const char *ns_lang_key(const ns_lang_t *l, int i);
/* SHA-256 (hex) of the file's bytes, for provenance next to the other configs. */
const char *ns_lang_sha256(const ns_lang_t *l);

#endif
