/* fuzz_plate.c — one MS/MS plate export through ingest (decode, CSV reader, header map,
 * wells, cells), with the shipped panel and QC plate map, as `neoscreen run` reads it. */
#include "fuzz_common.h"
#include "../../pipeline/batch.h"
#include "../../pipeline/ingest.h"
#include "../../pipeline/qc_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ns_qc_config_t *qc;
    ns_panel_t *panel = fuzz_default_panel();
    if (!qc) {
        ns_panel_errs_t e = {0};
        qc = ns_qc_load(NS_SRCDIR "/configs/qc.yaml", panel, &e);
        if (!qc) abort();
        ns_panel_errs_free(&e);
    }
    char *path = (char *)fuzz_write("P-fuzz.csv", data, size);
    ns_batch_t b;
    memset(&b, 0, sizeof b);
    b.panel = panel;
    b.plate_map = qc->well_type;
    ns_ingest_plates(&b, &path, 1);
    if (b.plates[0].error) fprintf(fuzz_sink(), "%s\n", b.plates[0].error);
    ns_batch_free(&b);
    return 0;
}
