/* fuzz_manifest.c — the LIMS sample manifest through ns_ingest_manifest() (decode, CSV
 * reader, columns, dates, flags, duplicate sample ids). */
#include "fuzz_common.h"
#include "../../pipeline/batch.h"
#include "../../pipeline/ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write("manifest.csv", data, size);
    ns_manifest_t m;
    ns_ingest_manifest(&m, path);
    for (int64_t i = 0; i < m.n_errors; i++) fprintf(fuzz_sink(), "%s\n", m.errors[i]);
    ns_manifest_free(&m);
    return 0;
}
