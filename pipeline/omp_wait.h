/* omp_wait.h — how the OpenMP threads of a command wait for work.
 *
 * An OpenMP thread with no work spins for a while before it sleeps (libgomp: about 300,000
 * pause loops, a few milliseconds), unless OMP_WAIT_POLICY=passive.  That suits a program
 * whose only busy threads are the team's.  `run` has threads of its own beside the team
 * (report.html, the recall list and its deflater, the archive's writer): a team thread
 * spinning through the archive's serial stretches holds a core those threads need.  The
 * runtime reads the policy from the environment once, when it is loaded, before main; so
 * the only way for a command to choose it is to execute itself again with the variable set.
 */
#ifndef NS_OMP_WAIT_H
#define NS_OMP_WAIT_H

/* Execute this program again (its own path, argv[0] as it was started, then the command's
 * argc arguments argv; the same process) with OMP_WAIT_POLICY=passive in its environment,
 * when all of these hold:
 *   - the user chose nothing: OMP_WAIT_POLICY unset or empty, GOMP_SPINCOUNT unset (also
 *     how the executed program knows it has been executed);
 *   - threads > 1 (one thread has no team to wait);
 *   - the program is not running under valgrind (which would lose the executed program)
 *     nor started by hand through the dynamic loader (whose path /proc/self/exe gives).
 * Returns only when it did not execute (nothing done) or the exec failed (the command then
 * goes on with the runtime's default; the environment is left as it was). */
void ns_omp_wait_passive(int argc, char *const argv[], int threads);

#endif
