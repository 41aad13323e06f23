/* fuzz_hearing.c — hearing screen records through ns_hearing_read_mem(), then the shipped
 * protocol (configs/hearing.yaml) evaluated over what was read. */
#include "fuzz_common.h"
#include "../../pipeline/followup.h"
#include "../../pipeline/hearing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ns_hearing_config_t *h;
    if (!h) {
        ns_panel_errs_t e = {0};
        h = ns_hearing_config_load(NS_SRCDIR "/configs/hearing.yaml", &e);
        if (!h) abort();
        ns_panel_errs_free(&e);
    }
    ns_hearing_records_t r;
    ns_hearing_read_mem(&r, "hearing.csv", (const char *)data, size);
    for (int64_t i = 0; i < r.n_errors; i++) fprintf(fuzz_sink(), "%s\n", r.errors[i]);
    if (r.ok) {
        ns_findings_t fs;
        memset(&fs, 0, sizeof fs);
        ns_hearing_stats_t st;
        ns_hearing_eval(h, &r, &fs, &st);
        ns_findings_free(&fs);
    }
    ns_hearing_records_free(&r);
    return 0;
}
