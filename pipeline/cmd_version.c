/* cmd_version.c — `neoscreen version`: the exact build, for bug reports and provenance. */
#include <hdf5.h>
#include <gsl/gsl_version.h>
#include <string.h>
#include <libdeflate.h>
#include <sqlite3.h>
#include <yaml.h>
#include <zlib.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "cmds.h"
#include "version.h"

int ns_cmd_version(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("Usage: neoscreen version [--version-only]\n\nPrint the version, compiler, flags and library versions.\n");
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "--version-only")) { printf("%s\n", NS_VERSION); return 0; }
    unsigned maj, min, rel;
    H5get_libversion(&maj, &min, &rel);
    printf("neoscreen %s\n", NS_VERSION);
    printf("Build: CC=%s\nCFLAGS=%s\n", NS_BUILD_CC, NS_BUILD_CFLAGS);
    printf("HDF5 %u.%u.%u, GSL %s, libyaml %s, zlib %s, libdeflate %s, SQLite %s", maj, min, rel, GSL_VERSION,
           yaml_get_version_string(), zlibVersion(), LIBDEFLATE_VERSION_STRING, sqlite3_libversion());
#ifdef _OPENMP
    printf(", OpenMP %d (max threads %d)\n", _OPENMP, omp_get_max_threads());
#else
    printf(", no OpenMP\n");
#endif
    return 0;
}
