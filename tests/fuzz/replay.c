/* replay.c — run a fuzz target's LLVMFuzzerTestOneInput() on files, without libFuzzer.
 *
 *     tests/fuzz/replay_<target> FILE...
 *
 * Built with the project's compiler (and sanitizers under `make check`); tests/run.sh runs
 * it once per file of tests/fuzz/regress/<target>/ and tests/fuzz/corpus/<target>/, so a
 * crash, a sanitizer report or a hang names the file that caused it.  Exit 0 when every
 * file ran. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../pipeline/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "Usage: %s FILE...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        char *buf;
        size_t len;
        if (ns_read_file(argv[i], &buf, &len) < 0) {
            perror(argv[i]);
            return 1;
        }
        /* an exact-size copy: ns_read_file() adds a NUL that would hide an over-read */
        uint8_t *data = malloc(len ? len : 1);
        if (!data) abort();
        memcpy(data, buf, len);
        free(buf);
        LLVMFuzzerTestOneInput(data, len);
        free(data);
    }
    return 0;
}
