/* fuzz_qc_yaml.c — a QC config through ns_qc_load_mem() against the shipped panel. */
#include "fuzz_common.h"
#include "../../pipeline/qc_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ns_panel_t *panel = fuzz_default_panel();
    ns_panel_errs_t e = {0};
    ns_qc_config_t *q = ns_qc_load_mem("qc.yaml", (const char *)data, size, panel, &e);
    if (e.n) ns_panel_errs_print(fuzz_sink(), "fuzz", "qc.yaml", NULL, &e);
    ns_panel_errs_free(&e);
    if (q) ns_qc_free(q);
    return 0;
}
