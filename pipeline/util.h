/* util.h — small helpers shared by the pipeline: checked allocation, strings, files. */
#ifndef NS_UTIL_H
#define NS_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Allocation that cannot fail silently: on failure, print and exit(1).  Used for the
 * bookkeeping of a run; a batch that does not fit in memory is not a recoverable state. */
void *ns_malloc(size_t n);
void *ns_calloc(size_t n, size_t size);
void *ns_realloc(void *p, size_t n);
char *ns_strdup(const char *s);
char *ns_strndup(const char *s, size_t n);
/* What snprintf(dst, size, "%s", src) stores (src cut to size - 1 bytes, then a NUL; size
 * > 0), without the format machinery: for fields filled many times a run. */
void ns_copy_str(char *dst, size_t size, const char *src);
/* Many small strings kept together, freed together: bytes are handed out from blocks of
 * at least NS_POOL_BLOCK, and only the blocks are freed.  (A million manifest rows were a
 * million mallocs, and as many frees at the end of a run, on one thread.) */
typedef struct {
    char **blk;
    size_t n, m;
    char *at;               /* the free bytes of the last block: room of them */
    size_t room;
} ns_pool_t;
#define NS_POOL_BLOCK ((size_t)1 << 20)
char *ns_pool_alloc(ns_pool_t *p, size_t n);
/* dst takes src's blocks (src is left empty; dst goes on in a block of its own) */
void ns_pool_move(ns_pool_t *dst, ns_pool_t *src);
void ns_pool_free(ns_pool_t *p);
/* printf into a new string. */
char *ns_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Read a whole file into a NUL-terminated buffer.  Returns 0, or -1 with errno set. */
int ns_read_file(const char *path, char **buf, size_t *len);
/* ns_read_file into a buffer kept from call to call: *buf (*cap bytes; NULL and 0 the first
 * time) is grown when the file needs more, else reused, and stays the caller's to free,
 * after a failure too.  For readers of many files, whose freed buffers the allocator
 * would otherwise give back to the kernel and fault in again. */
int ns_read_file_into(const char *path, char **buf, size_t *cap, size_t *len);

/* Case-insensitive ASCII comparison. */
int ns_strcaseeq(const char *a, const char *b);

/* 1 when the AVX-512 paths (the plate reader's line splitter and cell parser) may run: the
 * CPU and the OS support AVX-512 F, BW, DQ and VL, BMI1 and BMI2 (asked once), and ns_simd is
 * set.  Every such path has a scalar twin that gives the same result. */
int ns_cpu_avx512(void);

/* 1 (the default): use the AVX-512 paths where the CPU has them (the plate reader's line
 * splitter and cell parser, SHA-256 in lanes); 0: never (tests compare the two) */
extern int ns_simd;

/* Where a config file is: given (if not NULL); else the environment variable env (if set and
 * not empty; env may be NULL); else ./rel; else rel in the source tree neoscreen was built
 * from (NS_SRCDIR), so a command started in another directory finds the shipped configs.
 * Returns a new string (rel itself when nothing exists, for the error message). */
char *ns_config_path(const char *given, const char *env, const char *rel);

/* Create a directory and its parents, mode 0700 (outputs hold personal data: only their
 * owner may list them); directories that exist keep their mode.  0 or -1 with errno. */
int ns_mkdir_p(const char *path);

/* The .csv files (any case, not hidden) in dir, as "dir/name", sorted by name (byte
 * order); *out is malloc'd (free each and the array).  @return count, -1 if dir cannot be
 * read (errno set; *out NULL). */
int ns_list_csv(const char *dir, char ***out);

/* "YYYY-MM-DDTHH:MM[:SS][Z]" (or a space for T): hours since 1970-01-01T00:00, NAN if
 * invalid (bad field, day not in month, 29 Feb of a common year, trailing text). */
double ns_parse_time_h(const char *s);
/* Hours since the epoch -> "YYYY-MM-DD" (the day holding that instant); "" for NAN. */
void ns_format_date(double hours, char out[16]);

#endif
