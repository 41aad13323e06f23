/* fuzz_genes_yaml.c — a deafness-gene config through ns_genes_config_load_mem(). */
#include "fuzz_common.h"
#include "../../pipeline/genes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ns_panel_errs_t e = {0};
    ns_genes_config_t *g = ns_genes_config_load_mem("genes.yaml", (const char *)data, size, &e);
    if (e.n) ns_panel_errs_print(fuzz_sink(), "fuzz", "genes.yaml", NULL, &e);
    ns_panel_errs_free(&e);
    if (g) ns_genes_config_free(g);
    return 0;
}
