/* json.h — a minimal streaming JSON emitter (objects, arrays, strings, numbers).
 *
 * Enough for summary.json: keys and values are written in call order with two-space
 * indentation, strings are escaped per RFC 8259, non-finite numbers become null.  The
 * caller is responsible for balanced begin/end calls.  A writer's FILE is written by one
 * thread, and by nothing else while the writer is in use (the calls skip stdio's lock).
 */
#ifndef NS_JSON_H
#define NS_JSON_H

#include <stdint.h>
#include <stdio.h>

typedef struct {
    FILE *fp;
    int depth;
    int first[32];   /* no element written yet at this depth */
} ns_json_t;

void ns_json_init(ns_json_t *j, FILE *fp);
void ns_json_obj(ns_json_t *j, const char *key);     /* key NULL inside arrays / at top */
void ns_json_arr(ns_json_t *j, const char *key);
void ns_json_end_obj(ns_json_t *j);
void ns_json_end_arr(ns_json_t *j);
void ns_json_str(ns_json_t *j, const char *key, const char *v);   /* v NULL -> null */
void ns_json_int(ns_json_t *j, const char *key, int64_t v);
void ns_json_num(ns_json_t *j, const char *key, double v);
void ns_json_bool(ns_json_t *j, const char *key, int v);

#endif
