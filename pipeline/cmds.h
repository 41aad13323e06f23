/* cmds.h — subcommand entry points.  Each takes the arguments after "neoscreen", with
 * argv[0] the subcommand name, prints "Usage:" to stdout and returns 1 when run bare, and
 * returns the process exit status. */
#ifndef NS_CMDS_H
#define NS_CMDS_H

int ns_cmd_run(int argc, char **argv);
int ns_cmd_simulate(int argc, char **argv);
int ns_cmd_config(int argc, char **argv);
int ns_cmd_version(int argc, char **argv);
int ns_cmd_rescore(int argc, char **argv);
int ns_cmd_cutoffs(int argc, char **argv);
int ns_cmd_report(int argc, char **argv);
int ns_cmd_followup(int argc, char **argv);

#endif
