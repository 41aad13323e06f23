/* ratio.c — see ratio.h. */
#include <math.h>
#include "ratio.h"

int ns_ratio_compute(const double *const *num, int n_num, const double *const *den, int n_den,
                     double *out, ptrdiff_t n)
{
    if (!num || !den || !out || n_num < 1 || n_den < 1 || n < 0) return -1;
    for (int k = 0; k < n_num; k++) if (!num[k]) return -1;
    for (int k = 0; k < n_den; k++) if (!den[k]) return -1;

    #pragma omp parallel for schedule(static)
    for (ptrdiff_t i = 0; i < n; i++) {
        double a = 0.0, b = 0.0;
        for (int k = 0; k < n_num; k++) a += num[k][i];   /* NAN propagates */
        for (int k = 0; k < n_den; k++) b += den[k][i];
        out[i] = (isnan(a) || isnan(b) || !(b > 0.0)) ? NAN : a / b;
    }
    return 0;
}
