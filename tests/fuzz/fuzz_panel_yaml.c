/* fuzz_panel_yaml.c — a panel config through ns_panel_load_mem(), and its messages through
 * the printer that quotes the offending line with a caret. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ns_panel_errs_t e = {0};
    ns_panel_t *p = ns_panel_load_mem("panel.yaml", (const char *)data, size, &e);
    if (e.n) ns_panel_errs_print(fuzz_sink(), "fuzz", "panel.yaml", NULL, &e);
    ns_panel_errs_free(&e);
    ns_panel_free(p);
    return 0;
}
