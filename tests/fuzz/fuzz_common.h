/* fuzz_common.h — what the libFuzzer targets in tests/fuzz/ share.
 *
 * Each target defines LLVMFuzzerTestOneInput() over one parser.  The same source builds two
 * ways: with clang -fsanitize=fuzzer (make fuzz, scripts/fuzz.sh) and with the project's own
 * compiler against replay.c (make test replays tests/fuzz/regress/<target>/ through it).
 *
 * Parsers that only take a path (plate ingest, manifest) get the input written to a
 * per-process temporary file; the YAML loaders and the hearing reader have _mem entry
 * points and read the bytes in place (not NUL-terminated, so an over-read shows). */
#ifndef NS_FUZZ_COMMON_H
#define NS_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../../pipeline/panel.h"
#include "../../pipeline/util.h"

#ifndef NS_SRCDIR
#define NS_SRCDIR "."
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_scratch[512];

static inline void fuzz_scratch_remove(void)
{
    if (fuzz_scratch[0]) unlink(fuzz_scratch);
}

/* Path of this process's scratch file (in $TMPDIR, else /tmp), named like a plate export
 * so that messages read as they would in a run.  It is removed when the process exits
 * normally (a replay, libFuzzer's -runs=N); after a crash it stays beside the crash. */
static inline const char *fuzz_scratch_path(const char *name)
{
    if (!fuzz_scratch[0]) {
        const char *d = getenv("TMPDIR");
        snprintf(fuzz_scratch, sizeof fuzz_scratch, "%s/ns-fuzz-%ld-%s", d && *d ? d : "/tmp",
                 (long)getpid(), name);
        atexit(fuzz_scratch_remove);
    }
    return fuzz_scratch;
}

/* Write the input to the scratch file.  @return its path, or NULL (abort: the harness is
 * broken, not the parser). */
static inline const char *fuzz_write(const char *name, const uint8_t *data, size_t size)
{
    const char *path = fuzz_scratch_path(name);
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        perror(path);
        abort();
    }
    return path;
}

/* The shipped default panel (loaded once; the targets that need a panel share it). */
static inline ns_panel_t *fuzz_default_panel(void)
{
    static ns_panel_t *p;
    if (!p) {
        ns_panel_errs_t e = {0};
        p = ns_panel_load(NS_SRCDIR "/configs/panel-default.yaml", &e);
        if (!p) {
            ns_panel_errs_print(stderr, "fuzz", NS_SRCDIR "/configs/panel-default.yaml", NULL, &e);
            abort();
        }
        ns_panel_errs_free(&e);
    }
    return p;
}

/* A sink for messages: the printers run (they quote lines and place carets, which is
 * code worth fuzzing too) but the fuzzer's output stays readable. */
static inline FILE *fuzz_sink(void)
{
    static FILE *f;
    if (!f && !(f = fopen("/dev/null", "w"))) abort();
    return f;
}

#endif
