/* fuzz_hearing_yaml.c — a hearing protocol through ns_hearing_config_load_mem(). */
#include "fuzz_common.h"
#include "../../pipeline/hearing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ns_panel_errs_t e = {0};
    ns_hearing_config_t *h = ns_hearing_config_load_mem("hearing.yaml", (const char *)data, size, &e);
    if (e.n) ns_panel_errs_print(fuzz_sink(), "fuzz", "hearing.yaml", NULL, &e);
    ns_panel_errs_free(&e);
    if (h) ns_hearing_config_free(h);
    return 0;
}
