/* omp_wait.c — see omp_wait.h. */
#define _GNU_SOURCE                         /* program_invocation_name */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>
#include "log.h"
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

/* The user chose how the threads wait: OMP_WAIT_POLICY with a value (libgomp ignores an
 * empty one, with a warning) or GOMP_SPINCOUNT, which libgomp lets override the policy. */
static int user_chose(void)
{
    const char *wp = getenv("OMP_WAIT_POLICY");
    return (wp && *wp) || getenv("GOMP_SPINCOUNT");
}

void ns_omp_wait_passive(int argc, char *const argv[], int threads)
{
    if (threads <= 1 || user_chose() || under_valgrind()) return;
    /* AT_BASE is where the kernel put the program's interpreter: 0 when there is none,
     * which is also how the loader started by hand (ld.so ./neoscreen ...) looks, and then
     * /proc/self/exe is the loader, not this program */
    if (getauxval(AT_BASE) == 0) return;
    /* the program's own path, so that the process keeps its name (ps, pgrep, the
     * journal): executing /proc/self/exe would name it "exe".  A program deleted since it
     * started reads "PATH (deleted)", which does not execute: no second start then */
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0 || (size_t)n >= sizeof exe - 1) return;
    exe[n] = 0;
    char **av = ns_malloc(((size_t)argc + 2) * sizeof *av);
    av[0] = program_invocation_name;
    for (int i = 0; i < argc; i++) av[i + 1] = argv[i];
    av[argc + 1] = NULL;
    if (setenv("OMP_WAIT_POLICY", "passive", 1) == 0) {
        ns_clock_pass();                    /* "Real time" from the first start */
        execv(exe, av);
        const int e = errno;                /* exec failed: go on as we are */
        unsetenv("OMP_WAIT_POLICY");
        unsetenv("NS_CLOCK_T0");
        errno = e;
    }
    free(av);
}
