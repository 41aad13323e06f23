/* omp_wait.c — see omp_wait.h. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "omp_wait.h"
#include "util.h"

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define NS_HAVE_VALGRIND_H 1
#endif
#endif

/* valgrind runs its client with its preload library; valgrind.h, when installed, asks */
static int under_valgrind(void)
{
#ifdef NS_HAVE_VALGRIND_H
    if (RUNNING_ON_VALGRIND) return 1;
#endif
    const char *pre = getenv("LD_PRELOAD");
    return pre && strstr(pre, "vgpreload") != NULL;
}

void ns_omp_wait_passive(const char *argv0, int argc, char *const argv[], int threads)
{
    if (threads <= 1 || getenv("OMP_WAIT_POLICY") || under_valgrind()) return;
    char **av = ns_malloc(((size_t)argc + 2) * sizeof *av);
    av[0] = (char *)argv0;
    for (int i = 0; i < argc; i++) av[i + 1] = argv[i];
    av[argc + 1] = NULL;
    if (setenv("OMP_WAIT_POLICY", "passive", 1) == 0) {
        execv("/proc/self/exe", av);
        unsetenv("OMP_WAIT_POLICY");        /* no /proc, say: go on as we are */
    }
    free(av);
}
