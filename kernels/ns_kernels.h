/* ns_kernels.h — umbrella header for neoscreen's compute kernels.
 *
 * Kernels are pure functions over column arrays: no I/O, no allocation unless stated, no
 * global state.  They are OpenMP-parallel over rows and write only out[i] for row i, so
 * their output never depends on the thread count.  Reductions over doubles are done over
 * fixed-size chunks combined in chunk order (see stats.h), never with reduction(+:x).
 *
 * Missing values are NAN throughout.  A missing input never produces a positive call: it
 * produces NS_FLAG_MISSING / NS_CALL_INDETERMINATE, which the pipeline turns into an
 * invalid specimen, never a silent negative.
 */
#ifndef NS_KERNELS_H
#define NS_KERNELS_H

#include "ratio.h"
#include "cutoff.h"
#include "call.h"
#include "stats.h"
#include "westgard.h"

#endif
