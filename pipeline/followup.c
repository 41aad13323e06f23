/* followup.c — see followup.h. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "followup.h"
#include "util.h"

ns_finding_t *ns_findings_add(ns_findings_t *fs, const char *infant_id, int source)
{
    if (fs->n == fs->m) {
        fs->m = fs->m ? 2 * fs->m : 64;
        fs->v = ns_realloc(fs->v, (size_t)fs->m * sizeof *fs->v);
    }
    ns_finding_t *f = &fs->v[fs->n++];
    memset(f, 0, sizeof *f);
    snprintf(f->infant_id, sizeof f->infant_id, "%s", infant_id ? infant_id : "");
    f->source = source;
    f->due_from = NS_DUE_NONE;
    f->due_hours = NAN;
    f->test_time_h = NAN;
    f->batch_row = -1;
    return f;
}

void ns_finding_arg(ns_finding_t *f, const char *name, const char *fmt, ...)
{
    if (f->n_args >= NS_FU_MAX_ARGS) return;
    int k = f->n_args++;
    snprintf(f->arg_name[k], sizeof f->arg_name[k], "%s", name);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->arg[k], sizeof f->arg[k], fmt, ap);
    va_end(ap);
}

void ns_findings_free(ns_findings_t *fs)
{
    free(fs->v);
    memset(fs, 0, sizeof *fs);
}
