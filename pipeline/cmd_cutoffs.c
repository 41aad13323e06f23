/* placeholder replaced below */
#include "cmds.h"
int ns_cmd_cutoffs(int argc, char **argv) { (void)argc; (void)argv; return 1; }
