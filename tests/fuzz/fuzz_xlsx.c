/* fuzz_xlsx.c — an XLSX sheet the follow-up team gives back, through ns_xlsx_read() (ZIP
 * directory and members, deflate, shared strings, cells, entities) and the date-cell
 * conversion `followup import` applies to an `at` column. */
#include "fuzz_common.h"
#include "../../pipeline/xlsx_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write("sheet.xlsx", data, size);
    ns_xlsx_sheet_t sh;
    char err[512], t[24], cn[8];
    if (ns_xlsx_read(path, &sh, err, sizeof err) < 0) {
        fprintf(fuzz_sink(), "%s\n", err);
        return 0;
    }
    for (int r = 0; r < sh.nrows; r++)
        for (int k = 0; k < sh.rows[r].n; k++) {
            const char *c = sh.rows[r].cells[k];
            if (!c) continue;
            ns_xlsx_col_name(k, cn);
            if (ns_xlsx_serial_to_time(c, t) == 0) fprintf(fuzz_sink(), "%s%d %s\n", cn, sh.rows[r].r, t);
            else fprintf(fuzz_sink(), "%s%d %s\n", cn, sh.rows[r].r, c);
        }
    ns_xlsx_free(&sh);
    return 0;
}
